-- err_init.lua: init() indexes a nil value; the run must stop before any load with exit 2.
function init(args)
    local missing = nil
    return missing.field -- ERROR HERE
end
