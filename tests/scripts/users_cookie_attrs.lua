-- users_cookie_attrs.lua: Path and Max-Age honoured by each user's jar, one step per user id:
-- 1: a cookie scoped to /private is sent there and not to /need-cookie;
-- 2: a cookie removed by Max-Age=0 is no longer sent;
-- 3: a cookie set with Expires in the past is never sent.
local Jar = user{ wait = constant(0.2) }

Jar:task(function(self)
    if self.id == 1 then
        self:get("/set-cookie-private")
        local r = self:get("/need-cookie", { name = "outside the path", expect = { 401 } })
        check(r, "cookie of /private not sent to /need-cookie", r.status == 401)
        r = self:get("/private/need-cookie", { name = "inside the path" })
        check(r, "cookie of /private sent to /private/need-cookie", r.status == 200)
    elseif self.id == 2 then
        self:get("/set-cookie")
        local r = self:get("/need-cookie", { name = "before Max-Age=0" })
        check(r, "cookie sent before Max-Age=0", r.status == 200)
        self:get("/clear-cookie")
        r = self:get("/need-cookie", { name = "after Max-Age=0", expect = { 401 } })
        check(r, "cookie dropped after Max-Age=0", r.status == 401)
    elseif self.id == 3 then
        self:get("/set-cookie-expired")
        local r = self:get("/need-cookie", { name = "expired", expect = { 401 } })
        check(r, "cookie with a past Expires not sent", r.status == 401)
    end
end)
