-- users_secure.lua: a cookie set with the Secure attribute, then the path that needs it.
local Visitor = user{ wait = constant(0.1) }

function Visitor:on_start()
    self:get("/set-cookie-secure")
end

Visitor:task(function(self)
    local r = self:get("/need-cookie", { expect = { 200, 401 } })
    check(r, "secure cookie sent", r.status == 200)
end)
