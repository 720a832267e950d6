-- guide-routes.lua: the guide's own task mix on the routes its scripts call.
--
-- THE REAL INDIESHOTS SERVER DOES NOT SERVE THESE ROUTES. The guide's locust-image-api.py and
-- resource-scaling-test.py call POST /api/auth/login (expecting a token in the body),
-- POST /api/shots/generate-image, POST /api/shots/regenerate-image and
-- POST /api/storyboards/generate; against the real app every one of them answers 404, so the
-- guide's runs never reached image generation. This scenario lets a user see what those scripts
-- would have measured, against `volley target`, which answers them as the scripts expected.
-- Use image-api.lua for the real app.
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
    thresholds = { "success >= 95%" },
}

local SHOT = {
    shotType = "Wide Shot",
    shotDescription = "A woman in a red coat turns toward the lens",
    lighting = "Golden hour backlight",
    moodAndAmbience = "Tense and quiet",
}

local function login(self)
    local email, password = app.account()
    local r = app.classify(self:post("/api/auth/login", {
        json = { email = email, password = password },
        name = "guide: auth login",
    }))
    local body = app.decoded(r)
    local ok = check(r, "token in body", body ~= nil and type(body.token) == "string")
    if ok then
        self.headers["Authorization"] = "Bearer " .. body.token
    end
    return ok
end

local function generate_image(self)
    local r = app.classify(self:post("/api/shots/generate-image", {
        json = SHOT,
        name = "guide: generate image",
        timeout = 300,
    }))
    check(r, "image answered", app.decoded(r) ~= nil)
end

local function regenerate_image(self)
    local prompt = app.PROMPTS[math.floor(self:random() * #app.PROMPTS) + 1]
    local r = app.classify(self:post("/api/shots/regenerate-image", {
        json = { shotId = 0, imagePromptText = "Cinematic storyboard frame", customPrompt = prompt },
        name = "guide: regenerate image",
        timeout = 300,
    }))
    check(r, "regenerated", app.decoded(r) ~= nil)
end

local function batch(self)
    local r = app.classify(self:post("/api/storyboards/generate", {
        json = { jobId = 1, sceneIndex = 0, shots = { SHOT, SHOT, SHOT } },
        name = "guide: storyboard batch",
        timeout = 900,
    }))
    check(r, "batch answered", app.decoded(r) ~= nil)
end

local function add_tasks(cls, batches)
    function cls:on_start()
        if not login(self) then
            error("login failed: this user cannot go on")
        end
    end
    cls:task(3, "generate image", generate_image)
    cls:task(2, "regenerate image", regenerate_image)
    cls:task(1, "batch storyboard", function(self)
        for i = 1, batches do
            batch(self)
            if i < batches then
                sleep(1)
            end
        end
    end)
    cls:task(4, "health", app.health)
end

add_tasks(user { name = "light", weight = 3, wait = between(5, 15) }, 1)
add_tasks(user { name = "heavy", weight = 1, wait = between(1, 3) }, 3)
