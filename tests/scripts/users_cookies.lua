-- users_cookies.lua: odd users visit the cookie-setting path first, even users never do; then
-- all ask for the path that needs the cookie.
local Visitor = user{ wait = constant(0.1) }

function Visitor:on_start()
    if self.id % 2 == 1 then
        self:get("/set-cookie")
    end
end

Visitor:task(function(self)
    if self.id % 2 == 1 then
        local r = self:get("/need-cookie", { name = "need-cookie (setter)" })
        check(r, "setter gets 200", r.status == 200)
    else
        local r = self:get("/need-cookie", { name = "need-cookie (stranger)", expect = { 401 } })
        check(r, "stranger gets 401", r.status == 401)
    end
end)
