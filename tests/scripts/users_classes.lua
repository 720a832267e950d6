-- users_classes.lua: two user classes weighted 3:1; each user announces its class when it starts
-- and when it stops.
local Reader = user{ weight = 3, wait = constant(0.5) }
local Writer = user{ weight = 1, wait = constant(0.5) }

function Reader:on_start()
    self:get("/ok", { name = "start reader" })
end

function Writer:on_start()
    self:get("/ok", { name = "start writer" })
end

function Reader:on_stop()
    self:get("/ok", { name = "stop reader" })
end

function Writer:on_stop()
    self:get("/ok", { name = "stop writer" })
end

Reader:task(function(self)
    self:get("/ok", { name = "read" })
end)

Writer:task(function(self)
    self:get("/ok", { name = "write" })
end)
