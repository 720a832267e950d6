-- users_names.lua: ids in paths (numbers, uuids) and queries collapse into one request name.
local Browser = user{ wait = constant(0.1) }

Browser:task(function(self)
    self:get("/item/1")
    self:get("/item/2")
    self:get("/item/345?view=full")
    self:get("/item/123e4567-e89b-12d3-a456-426614174000")
end)
