-- stop.lua: response() stops its own thread with wrk.thread:stop() after ten responses.
local n = 0

function response(status, headers, body)
    n = n + 1
    if n == 10 then
        wrk.thread:stop()
    end
end
