-- users_gzip.lua: a gzip-encoded body is decoded; the expected text is the file $GZ_FILE.
local f = assert(io.open(env("GZ_FILE", "/nonexistent"), "rb"))
local expected = f:read("*a")
f:close()

local Reader = user{ wait = constant(0.1) }

Reader:task(function(self)
    local r = self:get("/gz.txt")
    check(r, "sent gzip", r.headers["Content-Encoding"] == "gzip")
    check(r, "header names case-insensitive", r.headers["CONTENT-TYPE"] == "text/plain"
        and r.headers["content-type"] == "text/plain")
    check(r, "body decoded", r.body == expected)
end)
