-- users.lua: the user-style scenario API: user classes, tasks, think times, requests, checks.
local V = __volley
local json = require "json"

local classes = {}
__volley_classes = classes

-- Think times -------------------------------------------------------------------------------

function between(low, high)
    return function(self)
        return low + (high - low) * V.random(self.__h)
    end
end

function constant(seconds)
    return function()
        return seconds
    end
end

-- Start tasks every `seconds`, however long each took: the wait is what is left of the period.
function pacing(seconds)
    return { pacing = seconds }
end

function sleep(seconds)
    V.sleep(nil, seconds)
end

function env(name, default)
    local v = os.getenv(name)
    if v == nil or v == "" then
        return default
    end
    return v
end

function uuid()
    local r = function()
        return math.floor(V.random(nil) * 65536)
    end
    return string.format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x", r(), r(), r(), r() % 4096,
        0x8000 + r() % 0x4000, r(), r(), r())
end

-- check(response, name, condition): records a pass or a fail under `name`; a failed check fails
-- the request it is about.
function check(r, name, condition)
    local pass = condition and true or false
    V.check(nil, tostring(name), pass, type(r) == "table" and r.__id or 0)
    return pass
end

-- CSV feeder: each call to next() gives the next row as a table keyed by the header line.
-- Threads take interleaved rows, so no two users anywhere share a row until the file wraps.
function csv(path)
    local rows, header = {}, nil
    local f = assert(io.open(path, "r"))
    for line in f:lines() do
        line = line:gsub("\r$", "")
        if line ~= "" then
            local fields = {}
            for field in (line .. ","):gmatch("([^,]*),") do
                fields[#fields + 1] = field
            end
            if not header then
                header = fields
            else
                local row = {}
                for i, k in ipairs(header) do
                    row[k] = fields[i]
                end
                rows[#rows + 1] = row
            end
        end
    end
    f:close()
    if #rows == 0 then
        error("csv(" .. path .. "): no rows under the header line", 2)
    end
    local threads, index = V.thread_count(), V.thread_id()
    return {
        rows = rows,
        next = function(self)
            local row = rows[(index % #rows) + 1]
            index = index + threads
            return row
        end,
    }
end

-- Responses -----------------------------------------------------------------------------------

local Response = {}
Response.__index = Response

function Response:json()
    if self.__json == nil then
        local ok, value = pcall(json.decode, self.body or "")
        if not ok then
            error("response of " .. self.name .. " is not JSON: " .. tostring(value), 2)
        end
        self.__json = value
    end
    return self.__json
end

function Response:fail(reason)
    V.fail(nil, self.__id, tostring(reason or "failed"))
    self.ok = false
end

local header_mt = {
    __index = function(t, k)
        if type(k) == "string" then
            return rawget(t, string.lower(k))
        end
    end,
}

-- Users ---------------------------------------------------------------------------------------

local User = {}
local Class = {}
Class.__index = Class

function user(spec)
    spec = spec or {}
    local cls = setmetatable({
        weight = spec.weight or 1,
        wait = spec.wait,
        name = spec.name or ("user" .. (#classes + 1)),
        tasks = {},
        total = 0,
    }, Class)
    classes[#classes + 1] = cls
    return cls
end

-- cls:task(weight, name, fn), cls:task(name, fn) or cls:task(fn)
function Class:task(a, b, c)
    local weight, name, fn = 1, nil, nil
    if type(a) == "number" then
        weight, name, fn = a, b, c
    elseif type(a) == "string" then
        name, fn = a, b
    else
        fn = a
    end
    if type(name) == "function" then
        name, fn = nil, name
    end
    if type(fn) ~= "function" then
        error("task needs a function", 2)
    end
    if weight <= 0 then
        error("task weight must be positive", 2)
    end
    name = name or ("task" .. (#self.tasks + 1))
    self.tasks[#self.tasks + 1] = { weight = weight, name = name, fn = fn }
    self.total = self.total + weight
    return self
end

-- Default names are cached per path: the same paths come back request after request.
local collapsed, collapsed_count = {}, 0

local function collapse_uncached(path)
    path = path:gsub("[?#].*$", "")
    local hex4 = "%x%x%x%x"
    path = path:gsub("/" .. hex4 .. hex4 .. "%-" .. hex4 .. "%-" .. hex4 .. "%-" .. hex4 .. "%-"
        .. hex4 .. hex4 .. hex4, "/:id")
    path = path:gsub("/%d+", "/:id")
    path = path:gsub("/%x+", function(seg)
        if #seg >= 17 and seg:find("%d") then
            return "/:id"
        end
    end)
    return path
end

local function collapse(path)
    local name = collapsed[path]
    if name == nil then
        name = collapse_uncached(path)
        if collapsed_count < 10000 then -- a script that randomises paths must not grow it forever
            collapsed[path] = name
            collapsed_count = collapsed_count + 1
        end
    end
    return name
end

local function cookie_header(self, path)
    if next(self.__jar) == nil then
        return nil
    end
    local parts = {}
    local now = V.now()
    for name, c in pairs(self.__jar) do
        if c.expires and c.expires <= now then
            self.__jar[name] = nil
        elseif path:sub(1, #c.path) == c.path and (not c.secure or V.is_tls()) then
            parts[#parts + 1] = name .. "=" .. c.value
        end
    end
    if #parts == 0 then
        return nil
    end
    table.sort(parts)
    return table.concat(parts, "; ")
end

local function store_cookies(self, list)
    local now = V.now()
    for _, line in ipairs(list) do
        local name, value, rest = line:match("^%s*([^=;%s]+)%s*=%s*([^;]*)(.*)$")
        if name then
            local c = { value = value, path = "/" }
            for attr in rest:gmatch(";%s*([^;]+)") do
                local k, v = attr:match("^([^=]+)=?(.*)$")
                k = k:lower():gsub("%s+$", "")
                if k == "path" and v ~= "" then
                    c.path = v
                elseif k == "max-age" then
                    c.expires = now + (tonumber(v) or 0)
                elseif k == "expires" and not c.expires then
                    local t = V.http_date(v)
                    if t then
                        c.expires = t
                    end
                elseif k == "secure" then
                    c.secure = true
                end
            end
            if c.expires and c.expires <= now then
                self.__jar[name] = nil
            else
                self.__jar[name] = c
            end
        end
    end
end

local function resolve(path, location)
    if location:match("^https?://") then
        local p = location:match("^https?://[^/]+(/.*)$") or "/"
        return p, location:match("^(https?://[^/]+)")
    end
    if location:sub(1, 1) == "/" then
        return location
    end
    local base = path:gsub("[?#].*$", ""):gsub("[^/]*$", "")
    return base .. location
end

local function retry_wait(retry, attempt, r)
    local wait = (retry.backoff or 1) * 2 ^ (attempt - 1)
    if retry.retry_after ~= false then
        local ra = tonumber(r.headers["retry-after"] or "")
        if ra then
            wait = ra
        end
    end
    local cap = retry.cap or 30
    if wait > cap then
        wait = cap
    end
    return wait
end

local function status_in(list, status)
    for _, s in ipairs(list) do
        if s == status then
            return true
        end
    end
    return false
end

function User:request(method, path, opts)
    opts = opts or {}
    method = string.upper(method)
    local headers = self.headers
    if opts.headers or opts.json ~= nil then
        headers = {}
        for k, v in pairs(self.headers) do
            headers[k] = v
        end
        for k, v in pairs(opts.headers or {}) do
            headers[k] = v
        end
    end
    local body = opts.body
    if opts.json ~= nil then
        body = json.encode(opts.json)
        local has_type = false
        for k in pairs(headers) do
            if k:lower() == "content-type" then
                has_type = true
            end
        end
        if not has_type then
            headers["Content-Type"] = "application/json"
        end
    end
    local name = opts.name or collapse(method .. " " .. path)
    local hops = opts.redirects
    if hops == nil then
        hops = (opts.follow_redirects == false) and 0 or 10
    end
    local retry = opts.retry
    if retry == nil then
        retry = type(options) == "table" and options.retry or nil
    end
    local attempt = 1
    while true do
        local cookie = cookie_header(self, path)
        local r = V.request(self.__h, method, path, headers, body, name, opts.timeout, opts.expect,
            cookie)
        r.headers = setmetatable(r.headers, header_mt)
        if r.set_cookie then
            store_cookies(self, r.set_cookie)
        end
        local location = r.headers["location"]
        if hops > 0 and location and (r.status == 301 or r.status == 302 or r.status == 303 or
                r.status == 307 or r.status == 308) then
            local nextpath, origin = resolve(path, location)
            if origin and origin ~= V.origin() then
                return setmetatable(r, Response) -- another host: volley does not follow
            end
            if r.status == 303 or ((r.status == 301 or r.status == 302) and method == "POST") then
                method, body = "GET", nil
            end
            path = nextpath
            hops = hops - 1
            if not opts.name then
                name = collapse(method .. " " .. path) -- each hop is a row of its own
            end
        elseif retry and attempt < (retry.attempts or 3) and
                status_in(retry.statuses or { 429, 503 }, r.status) then
            V.sleep(self.__h, retry_wait(retry, attempt, r))
            attempt = attempt + 1
        else
            return setmetatable(r, Response)
        end
    end
end

function User:get(path, opts) return self:request("GET", path, opts) end
function User:post(path, opts) return self:request("POST", path, opts) end
function User:put(path, opts) return self:request("PUT", path, opts) end
function User:patch(path, opts) return self:request("PATCH", path, opts) end
function User:delete(path, opts) return self:request("DELETE", path, opts) end
function User:head(path, opts) return self:request("HEAD", path, opts) end

function User:sleep(seconds)
    V.sleep(self.__h, seconds)
end

function User:random()
    return V.random(self.__h)
end

-- The life of one user, run as a coroutine by the engine.
local function pick(cls, self)
    local x = V.random(self.__h) * cls.total
    for _, t in ipairs(cls.tasks) do
        x = x - t.weight
        if x < 0 then
            return t
        end
    end
    return cls.tasks[#cls.tasks]
end

local function think(cls, self, started)
    local w = cls.wait
    local seconds = 0
    if type(w) == "function" then
        seconds = w(self)
    elseif type(w) == "number" then
        seconds = w
    elseif type(w) == "table" and w.pacing then
        seconds = w.pacing - (V.now() - started)
    end
    if seconds and seconds > 0 then
        V.sleep(self.__h, seconds, true) -- a think time: the stop cuts it short
    end
end

-- Refuses classes that cannot run: called once before any load.
function __volley_check_classes()
    for i, cls in ipairs(classes) do
        if #cls.tasks == 0 then
            error("user class " .. cls.name .. " (the " .. i .. "th user{}) has no task: add one"
                .. " with " .. cls.name .. ":task(weight, name, fn)", 0)
        end
    end
end

function __volley_user_main(cls, h, id)
    local self = setmetatable({ __h = h, __jar = {}, id = id, headers = {}, class = cls.name }, {
        __index = function(_, k)
            local v = rawget(cls, k)
            if v ~= nil then
                return v
            end
            return User[k]
        end,
    })
    if cls.on_start then
        local ok, err = pcall(cls.on_start, self)
        V.commit(h)
        if not ok then
            V.task_error(h, "on_start", tostring(err), true)
            return
        end
    end
    while not V.stopping(h) do
        local t = pick(cls, self)
        local started = V.now()
        local ok, err = pcall(t.fn, self)
        V.commit(h)
        if not ok then
            V.task_error(h, t.name, tostring(err), false)
        end
        if V.stopping(h) then
            break
        end
        think(cls, self, started)
    end
    if cls.on_stop then
        local ok, err = pcall(cls.on_stop, self)
        V.commit(h)
        if not ok then
            V.task_error(h, "on_stop", tostring(err), false)
        end
    end
end
