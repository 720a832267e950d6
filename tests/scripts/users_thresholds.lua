-- users_thresholds.lua: a healthy walk over /ok with thresholds in options.
options = {
    thresholds = { "success >= 99%", "p99 < 30s" },
}

local Walker = user{ wait = constant(0.05) }

Walker:task(function(self)
    self:get("/ok")
end)
