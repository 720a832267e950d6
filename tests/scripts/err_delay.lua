-- err_delay.lua: every fourth call of delay() raises an error; the others wait 0 ms.
local n = 0

function delay()
    n = n + 1
    if n % 4 == 0 then
        error("delay failed on purpose") -- ERROR HERE
    end
    return 0
end
