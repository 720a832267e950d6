-- common.lua: what the IndieShots scenarios share: accounts, sign-in, the screenplay, checks.
local M = {}

-- A short screenplay: two scenes, so there is a scene 0 and a scene 1 to ask shots for.
M.SCREENPLAY = [[
INT. EDITING SUITE - NIGHT

MAYA (30s), tired, scrubs through footage on three monitors. Coffee rings everywhere.

MAYA
Where is the shot where she turns?

She leans in. On screen, a WOMAN in a red coat turns toward the lens.

EXT. ROOFTOP - DAWN

Wind. MAYA stands at the edge with a camera, framing the skyline.

MAYA
There. That's the light.

She presses record. The sun breaks over the water towers.
]]

M.PROMPTS = {
    "make it rain, neon reflections on the street",
    "golden hour, warm backlight, long shadows",
    "wide angle, low camera, dramatic sky",
    "black and white, high contrast, film grain",
    "close-up, shallow depth of field, soft bokeh",
}

-- Accounts: INDIESHOTS_ACCOUNTS names a CSV (email,password) that users take row by row;
-- otherwise INDIESHOTS_EMAIL / INDIESHOTS_PASSWORD, defaulting to the rehearsal server's pro
-- demo account.
local feeder = nil
local accounts_file = env("INDIESHOTS_ACCOUNTS")
if accounts_file then
    feeder = csv(accounts_file)
end

function M.account()
    if feeder then
        local row = feeder:next()
        return row.email, row.password
    end
    return env("INDIESHOTS_EMAIL", "premium@demo.com"), env("INDIESHOTS_PASSWORD", "demo123")
end

-- Classes failures the way the app's owners read them.
function M.classify(r)
    if r.status == 503 then
        r:fail("OpenAI unavailable")
    elseif r.status == 429 then
        r:fail("rate limited")
    elseif r.status == 403 and (r.body or ""):find("requiresUpgrade", 1, true) then
        r:fail("account tier")
    end
    return r
end

local function decoded(r)
    if r.status < 200 or r.status >= 300 then
        return nil
    end
    local ok, body = pcall(r.json, r)
    if ok and type(body) == "table" then
        return body
    end
    return nil
end
M.decoded = decoded

-- Signs in through /api/auth/firebase-login (the route whose tokens the real jobs routes
-- accept) or /api/auth/signin, as INDIESHOTS_SIGNIN says ("firebase" by default). The
-- auth_token cookie is kept by the user's cookie jar.
function M.sign_in(self)
    local email, password = M.account()
    local route = env("INDIESHOTS_SIGNIN", "firebase")
    local r
    if route == "signin" then
        r = self:post("/api/auth/signin", {
            json = { email = email, password = password },
            name = "auth: signin",
        })
    else
        r = self:post("/api/auth/firebase-login", {
            json = {
                email = email,
                providerUserId = "volley-" .. email,
                displayName = "volley load test",
                idToken = env("INDIESHOTS_ID_TOKEN", "demo:" .. email),
            },
            name = "auth: firebase-login",
        })
    end
    M.classify(r)
    local user = decoded(r)
    check(r, "signed in", user ~= nil and user.email ~= nil)
    self.email = email
    return user ~= nil
end

-- Uploads the screenplay, starts parsing and polls the job every second until it completes
-- (at most `max_polls` times). Returns the job id and the number of scenes, or nil.
function M.upload_and_parse(self, max_polls)
    local r = M.classify(self:post("/api/scripts/upload", {
        json = { content = M.SCREENPLAY, title = "volley " .. uuid() },
        name = "scripts: upload",
    }))
    local body = decoded(r)
    local job = body and body.parseJob and body.parseJob.id
    check(r, "upload has a parse job", job ~= nil)
    if not job then
        return nil
    end
    r = M.classify(self:post("/api/jobs/" .. job .. "/parse", { name = "jobs: parse" }))
    check(r, "parse started", r.status == 200)
    for _ = 1, max_polls or 60 do
        sleep(1)
        r = M.classify(self:get("/api/jobs/" .. job, { name = "jobs: poll" }))
        body = decoded(r)
        check(r, "job readable", body ~= nil and body.status ~= nil)
        if not body then
            return nil
        end
        if body.status == "completed" then
            local scenes = body.fullParseData and body.fullParseData.scenes or {}
            check(r, "parsed scenes", #scenes > 0)
            return job, #scenes
        end
        if body.status == "failed" then
            r:fail("parse failed: " .. tostring(body.errorMessage))
            return nil
        end
    end
    return nil
end

-- Asks for the shot list of a scene; true when shots came back.
function M.generate_shots(self, job, scene)
    local r = M.classify(self:post("/api/shots/generate/" .. job .. "/" .. scene, {
        json = {},
        name = "shots: generate",
    }))
    local body = decoded(r)
    return check(r, "shots present", body ~= nil and type(body.shots) == "table" and
        #body.shots > 0)
end

local function looks_base64_image(s)
    if type(s) ~= "string" then
        return false
    end
    local prefix = "data:image/png;base64,"
    if s:sub(1, #prefix) ~= prefix or #s < #prefix + 16 then
        return false
    end
    -- a sample of the payload: a broken answer is not base64 at all
    return s:sub(#prefix + 1, #prefix + 256):match("^[A-Za-z0-9+/=]+$") ~= nil
end

-- The synchronous storyboard batch of a scene; returns how many images came back.
function M.storyboard_batch(self, job, scene)
    local r = M.classify(self:post("/api/storyboards/generate/" .. job .. "/" .. scene, {
        json = { forceRegenerate = true },
        name = "storyboards: batch",
        timeout = tonumber(env("INDIESHOTS_BATCH_TIMEOUT", "900")),
    }))
    local body = decoded(r)
    local images = 0
    if body and type(body.storyboards) == "table" then
        for _, sb in ipairs(body.storyboards) do
            if sb.hasImage and looks_base64_image(sb.imagePath) then
                images = images + 1
            end
        end
    end
    check(r, "storyboards present", body ~= nil and type(body.storyboards) == "table" and
        #body.storyboards > 0)
    check(r, "images present and base64", images > 0)
    return images
end

function M.regenerate(self, job, scene, shot)
    local prompt = M.PROMPTS[math.floor(self:random() * #M.PROMPTS) + 1]
    local r = M.classify(self:post(
        "/api/storyboards/regenerate/" .. job .. "/" .. scene .. "/" .. shot, {
            json = { modifications = prompt },
            name = "storyboards: regenerate",
        }))
    local body = decoded(r)
    check(r, "newPrompt present", body ~= nil and type(body.newPrompt) == "string" and
        #body.newPrompt > 0)
end

function M.health(self)
    local r = M.classify(self:get("/api/health", { name = "health" }))
    local body = decoded(r)
    check(r, "health ok", body ~= nil and body.status == "ok")
end

return M
