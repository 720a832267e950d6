-- users_between.lua: a think time drawn between 0.1 and 0.3 s.
local Walker = user{ wait = between(0.1, 0.3) }

Walker:task(function(self)
    self:get("/ok")
end)
