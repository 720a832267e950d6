-- users_precedence.lua: users from options (2), from a preset (3) or from -u; one GET task.
options = {
    users = 2,
    spawn_rate = 100,
    duration = "0.5s",
    presets = {
        light = { users = 3 },
    },
}

local Walker = user{ wait = constant(0.2) }

Walker:task(function(self)
    self:get("/ok")
end)
