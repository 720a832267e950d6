-- bad_return.lua: request() alternates a good request and a value that is not a string:
-- the number 42 with "-- number", nothing (nil) with "-- nil".
local mode = "number"
local n = 0

function init(args)
    mode = args[1] or mode
end

function request()
    n = n + 1
    if n % 2 == 1 then
        return wrk.format()
    end
    if mode == "number" then
        return 42
    end
    return nil
end
