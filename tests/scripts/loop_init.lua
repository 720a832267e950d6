-- loop_init.lua: init() never returns (a loop the JIT would compile); --init-timeout must end it.
function init(args)
    local x = 0
    while true do
        x = x + 1
    end
end
