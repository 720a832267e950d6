-- users_task_error.lua: one task raises a Lua error after its request, one decodes a body that
-- is not JSON, one is fine; the user carries on after each error.
local Clumsy = user{ wait = constant(0.05) }

Clumsy:task(1, "boom", function(self)
    self:get("/ok")
    error("boom in a task") -- ERROR HERE
end)

Clumsy:task(1, "decode", function(self)
    local r = self:get("/ok", { name = "not json" })
    r:json()
end)

Clumsy:task(1, "fine", function(self)
    self:get("/ok")
end)
