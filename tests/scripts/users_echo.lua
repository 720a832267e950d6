-- users_echo.lua: default headers, per-request headers, a JSON body, json() decoded once, a
-- per-request timeout, against userserver.py.
local Poster = user{ wait = constant(0.2) }

function Poster:on_start()
    self.headers["Authorization"] = "Bearer token-" .. self.id
end

Poster:task(function(self)
    local r = self:post("/echo", { json = { shot = 7 }, headers = { ["X-Trace"] = "t1" } })
    local j = r:json()
    check(r, "method POST", j.method == "POST")
    check(r, "json body sent", j.body == '{"shot":7}')
    check(r, "content-type json", j.headers["content-type"] == "application/json")
    check(r, "default header sent", j.headers["authorization"] == "Bearer token-" .. self.id)
    check(r, "request header sent", j.headers["x-trace"] == "t1")
    check(r, "gzip asked", j.headers["accept-encoding"] == "gzip")
    check(r, "json() cached", r:json() == j)
    check(r, "env() default", env("VOLLEY_TEST_UNSET_VARIABLE", "dflt") == "dflt")
    check(r, "timings", r.timings.total >= 0 and r.timings.ttfb >= 0 and r.timings.connect >= 0)
    r = self:put("/echo", { body = "raw" })
    check(r, "put with a raw body", r:json().method == "PUT" and r:json().body == "raw")
    r = self:request("PATCH", "/echo", { name = "patch" })
    check(r, "request(PATCH)", r:json().method == "PATCH")
    r = self:delete("/echo")
    check(r, "delete", r:json().method == "DELETE")
    r = self:head("/echo")
    check(r, "head has no body", r.status == 200 and r.body == "")
    r = self:get("/slow?s=3", { name = "timed out", timeout = 0.3 })
    check(r, "timeout is not ok", r.ok == false)
end)
