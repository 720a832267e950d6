-- users_retire.lua: 4 users in 0.3 s, held 0.7 s, gone in 0.1 s, then 1.4 s with none; each task
-- is two requests 0.8 s apart, so the ramp down finds users in the middle of a task.
options = {
    stages = {
        { users = 4, duration = "0.3s" },
        { users = 4, duration = "0.7s" },
        { users = 0, duration = "0.1s" },
        { users = 0, duration = "1.4s" },
    },
}

local Stepper = user{ wait = constant(0) }

Stepper:task("two steps", function(self)
    self:get("/ok")
    sleep(0.8)
    self:get("/target")
end)
