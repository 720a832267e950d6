-- users_redirect.lua: a 302 followed (both hops sent) and one not followed.
local Follower = user{ wait = constant(0.1) }

Follower:task(function(self)
    local r = self:get("/redirect")
    check(r, "redirect followed to 200", r.status == 200)
    check(r, "body of the target", r.body == "target\n")
    r = self:get("/redirect", { name = "not followed", follow_redirects = false })
    check(r, "302 seen when not following", r.status == 302)
end)
