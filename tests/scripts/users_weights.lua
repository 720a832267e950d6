-- users_weights.lua: two tasks weighted 3:1, no think time; each sends one named request.
local Picker = user{ wait = constant(0) }

Picker:task(3, "heavy", function(self)
    self:get("/ok", { name = "heavy" })
end)

Picker:task(1, "light", function(self)
    self:get("/ok", { name = "light" })
end)
