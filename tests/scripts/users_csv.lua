-- users_csv.lua: each user signs in with the next row of $CSV_FILE (columns user, token) and
-- sends its token as a default Authorization header.
local accounts = csv(env("CSV_FILE", "/nonexistent.csv"))

local Member = user{ wait = constant(0.2) }

function Member:on_start()
    local row = accounts:next()
    self.headers["Authorization"] = "Bearer " .. row.token
end

Member:task(function(self)
    self:get("/ok")
end)
