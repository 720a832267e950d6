-- loop_setup.lua: setup() never returns (a loop the JIT would compile); the deadline must end it.
function setup(thread)
    local x = 0
    while true do
        x = (x + 1) % 1000
    end
end
