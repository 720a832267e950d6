-- users_finish.lua: a task of two requests 1.5 s apart, then a long think time: a run of -d 1s
-- ends after the task, not after the think time.
local Finisher = user{ wait = constant(60) }

Finisher:task("two steps", function(self)
    self:get("/ok")
    sleep(1.5)
    self:get("/target")
end)
