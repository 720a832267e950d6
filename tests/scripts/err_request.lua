-- err_request.lua: every fifth call of request() raises an error; the others return a request.
local n = 0

function request()
    n = n + 1
    if n % 5 == 0 then
        error("request failed on purpose") -- ERROR HERE
    end
    return wrk.format()
end
