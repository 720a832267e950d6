-- users_seed.lua: each user writes its first three random numbers and a uuid to $VOLLEY_TEST_OUT.
local Dice = user{ wait = constant(60) }

function Dice:on_start()
    local f = assert(io.open(env("VOLLEY_TEST_OUT", "/dev/null"), "a"))
    f:write(string.format("user=%d r=%.12f,%.12f,%.12f uuid=%s\n", self.id, self:random(),
        self:random(), self:random(), uuid()))
    f:close()
end

Dice:task(function(self)
    self:get("/ok")
end)
