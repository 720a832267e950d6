-- users_both.lua: a user class and a wrk callback in the same script, which volley refuses.
local Walker = user{ wait = constant(0.1) }

Walker:task(function(self)
    self:get("/ok")
end)

request = function()
    return wrk.format("GET", "/ok")
end
