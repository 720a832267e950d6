-- json.lua: require "json" and require "cjson" both give lua-cjson, in the main state (done)
-- and in each thread's state (init); each writes one line to $VOLLEY_TEST_OUT.
local json = require "json"
local cjson = require "cjson"

local function probe(where)
    local t = json.decode('{"shots":[{"n":1},{"n":2},{"n":3}],"title":"volley","none":null}')
    local back = cjson.decode(json.encode({ list = { 10, 20 }, name = "x" }))
    local f = assert(io.open(os.getenv("VOLLEY_TEST_OUT"), "a"))
    f:write(string.format("%s shots=%d title=%s null=%s back=%d,%d,%s\n", where, #t.shots, t.title,
        tostring(t.none == cjson.null), back.list[1], back.list[2], back.name))
    f:close()
end

function init(args)
    probe("init")
end

function done(summary, latency, requests)
    probe("done")
end
