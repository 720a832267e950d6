-- status.lua: alternates a present and a missing file; response() counts statuses, exact
-- bodies and Content-Length headers per thread; done() sums them over threads into a file.
local paths = { "/small.txt", "/missing.txt" }
local n = 0
local threads = {}
c200, c404, cother, good_body, has_len = 0, 0, 0, 0, 0

function setup(thread)
    table.insert(threads, thread)
end

function request()
    n = n + 1
    return wrk.format(nil, paths[(n - 1) % #paths + 1])
end

function response(status, headers, body)
    if status == 200 then
        c200 = c200 + 1
        if body == "hello volley\n" then
            good_body = good_body + 1
        end
        if headers["Content-Length"] == "13" then
            has_len = has_len + 1
        end
    elseif status == 404 then
        c404 = c404 + 1
    else
        cother = cother + 1
    end
end

function done(summary, latency, requests)
    local keys = { "c200", "c404", "cother", "good_body", "has_len" }
    local sum = {}
    for _, k in ipairs(keys) do
        sum[k] = 0
        for _, t in ipairs(threads) do
            sum[k] = sum[k] + (tonumber(t:get(k)) or 0)
        end
    end
    local f = assert(io.open(os.getenv("VOLLEY_TEST_OUT"), "w"))
    for _, k in ipairs(keys) do
        f:write(string.format("%s=%.0f\n", k, sum[k]))
    end
    f:write(string.format("threads=%d\n", #threads))
    f:close()
end
