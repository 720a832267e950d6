-- users_stop.lua: a task that sends one request, then sleeps 30 s in the middle of the task.
local Sleeper = user{ wait = constant(0.1) }

Sleeper:task("sleepy", function(self)
    self:get("/ok")
    sleep(30)
    self:get("/target") -- reached only if the 30 s sleep is not cancelled
end)
