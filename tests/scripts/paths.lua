-- paths.lua: request() rotates over three paths built with wrk.format; nginx logs each one.
local paths = { "/small.txt?rot=a", "/small.txt?rot=b", "/small.txt?rot=c" }
local n = 0

function request()
    n = n + 1
    -- The headers table has no Host: wrk.format must add it from the URL.
    return wrk.format(nil, paths[(n - 1) % #paths + 1], { ["X-Volley-Test"] = "rotate" })
end
