-- users_close.lua: against a server that closes the connection after every response.
local Walker = user{ wait = constant(0.05) }

Walker:task(function(self)
    local r = self:get("/small.txt")
    check(r, "body of small.txt", r.body == "hello volley\n")
end)
