-- users_stuck.lua: a task whose request takes 30 s (userserver.py's /slow).
local Waiter = user{ wait = constant(0.1) }

Waiter:task("slow", function(self)
    self:get("/slow?s=30")
end)
