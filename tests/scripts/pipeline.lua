-- pipeline.lua: each request() returns three requests in one string (sent pipelined); done()
-- writes how many times request() was called over all threads.
local threads = {}
calls = 0

function setup(thread)
    table.insert(threads, thread)
end

function request()
    calls = calls + 1
    return wrk.format(nil, "/small.txt?pipe=1") .. wrk.format(nil, "/small.txt?pipe=2")
        .. wrk.format(nil, "/small.txt?pipe=3")
end

function done(summary, latency, requests)
    local total = 0
    for _, t in ipairs(threads) do
        total = total + (tonumber(t:get("calls")) or 0)
    end
    local f = assert(io.open(os.getenv("VOLLEY_TEST_OUT"), "w"))
    f:write(string.format("calls=%.0f\n", total))
    f:close()
end
