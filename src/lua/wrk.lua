-- wrk.lua: the `wrk` table of wrk 4's scripting API, filled in by volley before a script runs.
local wrk = wrk

wrk.method = wrk.method or "GET"
wrk.path = wrk.path or "/"
wrk.headers = wrk.headers or {}

-- Builds one HTTP/1.1 request. Missing arguments fall back to the fields of `wrk`; Host comes
-- from the URL unless the headers carry one, and Content-Length always follows the body.
function wrk.format(method, path, headers, body)
    method = method or wrk.method
    path = path or wrk.path
    headers = headers or wrk.headers
    body = body or wrk.body

    local out = { method, " ", path, " HTTP/1.1\r\n" }
    local host_seen = false
    for name, value in pairs(headers) do
        local lower = string.lower(name)
        if lower == "host" then
            host_seen = true
        end
        if lower ~= "content-length" then
            out[#out + 1] = name .. ": " .. tostring(value) .. "\r\n"
        end
    end
    if not host_seen then
        out[#out + 1] = "Host: " .. wrk.authority .. "\r\n"
    end
    if body then
        body = tostring(body)
        out[#out + 1] = "Content-Length: " .. #body .. "\r\n"
    end
    out[#out + 1] = "\r\n"
    out[#out + 1] = body or ""
    return table.concat(out)
end
