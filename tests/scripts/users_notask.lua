-- users_notask.lua: a user class without any task.
local Idle = user{ wait = constant(0.2) }

function Idle:on_start()
    self.ready = true
end
