-- scaling.lua: the guide's resource-scaling pass, on the routes the real server serves.
--
-- Each user signs in, uploads a screenplay and has it parsed once, then walks the app:
-- GET /, GET /api/health, GET /api/auth/user, GET /api/scripts, and one shot list for its job,
-- thinking between rounds. Unlike the guide's resource-scaling-test.py it honours -d and signs
-- in with an account that exists. For `volley -u N -d S` and for `volley sweep`.
--
--   ./volley -s scripts/indieshots/scaling.lua -u 25 -r 5 -d 2m https://indieshots.replit.app
local app = require "common"

options = {
    users = 10,
    spawn_rate = 2,
    duration = "1m",
    thresholds = { "success >= 95%", "avg < 2s" },
}

local Visitor = user { name = "visitor", wait = between(1, 3) }

function Visitor:on_start()
    if not app.sign_in(self) then
        error("sign-in failed: this user cannot go on")
    end
    self.job = app.upload_and_parse(self, 60)
end

Visitor:task(1, "visit", function(self)
    local r = self:get("/", { name = "page: /" })
    check(r, "page served", r.status == 200 and #r.body > 0)
    app.health(self)
    r = app.classify(self:get("/api/auth/user", { name = "auth: user" }))
    local me = app.decoded(r)
    check(r, "user known", me ~= nil and me.email ~= nil)
    r = app.classify(self:get("/api/scripts", { name = "scripts: list" }))
    check(r, "scripts listed", app.decoded(r) ~= nil)
    if self.job and not self.shots_done then
        self.shots_done = app.generate_shots(self, self.job, 0)
    end
end)
