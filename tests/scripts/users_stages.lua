-- users_stages.lua: ramp up to 6 users in 2 s, hold them 1 s, ramp down to none in 2 s.
options = {
    stages = {
        { users = 6, duration = "2s" },
        { users = 6, duration = "1s" },
        { users = 0, duration = "2s" },
    },
}

local Walker = user{ wait = constant(0.1) }

Walker:task(function(self)
    self:get("/ok")
end)
