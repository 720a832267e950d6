-- image-api.lua: the IndieShots image API load test, on the routes the real server serves.
--
-- The guide's Locust script (locust-image-api.py) meant this mix: generate 3, regenerate with a
-- custom prompt 2, batch storyboard 1, health 4; light users thinking 5-15 s (weight 3) and
-- heavy users thinking 1-3 s (weight 1) who run the batch three times. Its routes never existed
-- (see guide-routes.lua); these do.
--
--   ./volley -s scripts/indieshots/image-api.lua --preset light https://indieshots.replit.app
--   ./volley target --time-scale 0.05 &   # then the same against http://127.0.0.1:8089
--
-- Settings from the environment: INDIESHOTS_EMAIL / INDIESHOTS_PASSWORD (default: the
-- rehearsal server's pro account premium@demo.com / demo123), INDIESHOTS_ACCOUNTS (a CSV with
-- email,password columns; each user takes the next row), INDIESHOTS_SIGNIN ("firebase", the
-- default, or "signin": on the real server only firebase-login tokens are accepted by the jobs
-- routes), INDIESHOTS_ID_TOKEN (the Firebase id token to present), INDIESHOTS_BATCH_TIMEOUT
-- (seconds, default 900: the synchronous batch takes minutes).
local app = require "common"

options = {
    users = 5,
    spawn_rate = 1,
    duration = "5m",
    presets = {
        light = { users = 5, spawn_rate = 1, duration = "5m" },
        heavy = { users = 20, spawn_rate = 2, duration = "10m" },
        stress = { users = 50, spawn_rate = 5, duration = "15m" },
    },
    -- "good" in the guide: 95% success and answers under 2 s on the fast routes.
    thresholds = {
        "success >= 95%",
        '"health".p95 < 2s',
        '"jobs: poll".p95 < 2s',
        '"scripts: upload".p95 < 2s',
    },
}

-- Everything a task needs, made once per user: signed in, a parsed screenplay, a shot list.
local function prepare(self)
    if not app.sign_in(self) then
        error("sign-in failed: this user cannot go on")
    end
    self.job, self.scenes = app.upload_and_parse(self, 60)
    if not self.job then
        error("the screenplay could not be parsed: this user cannot go on")
    end
    app.generate_shots(self, self.job, 0)
    self.images = 0
end

local function scene(self)
    return math.floor(self:random() * self.scenes)
end

local function add_tasks(cls, batches)
    cls.on_start = prepare

    cls:task(3, "generate shots", function(self)
        local s = scene(self)
        app.generate_shots(self, self.job, s)
        if s == 0 then
            self.images = 0 -- a new shot list for scene 0 has no images yet
        end
    end)

    cls:task(2, "regenerate image", function(self)
        -- Only shots that already have an image can be redrawn: make some first.
        if self.images == 0 then
            self.images = app.storyboard_batch(self, self.job, 0)
            if self.images == 0 then
                return
            end
        end
        app.regenerate(self, self.job, 0, math.floor(self:random() * self.images))
    end)

    cls:task(1, "batch storyboard", function(self)
        for i = 1, batches do
            local n = app.storyboard_batch(self, self.job, 0)
            if n > 0 then
                self.images = n
            end
            if i < batches then
                sleep(1)
            end
        end
    end)

    cls:task(4, "health", function(self)
        app.health(self)
    end)
end

local Light = user { name = "light", weight = 3, wait = between(5, 15) }
add_tasks(Light, 1)

local Heavy = user { name = "heavy", weight = 1, wait = between(1, 3) }
add_tasks(Heavy, 3)
