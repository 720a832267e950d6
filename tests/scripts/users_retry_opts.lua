-- users_retry_opts.lua: retries from options.retry (2 attempts on 503); one task per user.
options = {
    retry = { statuses = { 503 }, attempts = 2, backoff = 0.05 },
}

local Retrier = user{ wait = constant(60) }

Retrier:task(function(self)
    self:get("/s503")
end)
