-- users_retry.lua: a 503 path retried up to 3 attempts per task; one counting request per task.
local Retrier = user{ wait = constant(0.2) }

Retrier:task(function(self)
    self:get("/ok", { name = "tasks" })
    local r = self:get("/s503", { retry = { statuses = { 503 }, attempts = 3, backoff = 0.05 } })
    check(r, "last attempt is a 503", r.status == 503)
end)
