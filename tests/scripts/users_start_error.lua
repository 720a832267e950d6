-- users_start_error.lua: on_start fails for even user ids; those users stop, the others walk.
local Member = user{ wait = constant(0.1) }

function Member:on_start()
    if self.id % 2 == 0 then
        error("cannot sign in") -- ERROR HERE
    end
end

Member:task(function(self)
    self:get("/ok")
end)
