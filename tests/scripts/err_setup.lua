-- err_setup.lua: setup() raises an error; the run must stop before any load with exit 2.
function setup(thread)
    error("setup failed on purpose") -- ERROR HERE
end
