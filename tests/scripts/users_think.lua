-- users_think.lua: one user class, one GET task, a constant think time of 0.2 s between tasks.
local Walker = user{ weight = 1, wait = constant(0.2) }

Walker:task(function(self)
    self:get("/ok")
end)
