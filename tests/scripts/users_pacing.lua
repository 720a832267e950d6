-- users_pacing.lua: tasks of 0.25 s started every 0.3 s (pacing), not 0.3 s after each other.
local Paced = user{ wait = pacing(0.3) }

Paced:task(function(self)
    self:get("/ok")
    sleep(0.25)
end)
