-- users_checks.lua: checks that pass and fail, a response failed by hand, expected statuses.
local Checker = user{ wait = constant(0.1) }

Checker:task(function(self)
    local r = self:get("/ok", { name = "checked" })
    check(r, "status is 200", r.status == 200)
    check(r, "body is nope", r.body == "nope\n")

    r = self:get("/ok", { name = "failed by hand" })
    r:fail("wrong flavour")

    r = self:get("/s404", { name = "expected 404", expect = { 404 } })
    check(r, "expected 404 is ok", r.ok == true)

    r = self:get("/s404", { name = "plain 404" })
    check(r, "plain 404 is not ok", r.ok == false)
end)
