-- users_noclass.lua: options and a helper, but no user class (and no wrk callback).
options = { users = 2 }

local function unused()
    return 1
end
