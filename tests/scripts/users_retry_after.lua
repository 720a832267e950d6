-- users_retry_after.lua: a 429 path whose Retry-After (1 s) outweighs the backoff (10 ms); one
-- task per user, then a long think time.
local Patient = user{ wait = constant(60) }

Patient:task(function(self)
    self:get("/s429", { retry = { attempts = 3, backoff = 0.01 } })
end)
