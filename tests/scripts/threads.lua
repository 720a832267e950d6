-- threads.lua: setup() gives each thread its own globals with thread:set and sends the second
-- thread to another address through thread.addr; init() reads the globals, done() reads them
-- back with thread:get and writes one line per thread.
local threads = {}
local count = 0

function setup(thread)
    count = count + 1
    thread:set("tag", "thread-" .. count)
    thread:set("num", count * 10)
    thread:set("addr_seen", tostring(thread.addr))
    if count == 2 then
        local alt = wrk.lookup("127.0.0.1", os.getenv("VOLLEY_TEST_ALT_PORT"))
        thread.addr = alt[1]
    end
    table.insert(threads, thread)
end

function init(args)
    seen = tag .. "/" .. tostring(num)
    has_thread = tostring(wrk.thread ~= nil)
end

function request()
    return wrk.format(nil, nil, { ["X-Volley-Test"] = tag })
end

function done(summary, latency, requests)
    local f = assert(io.open(os.getenv("VOLLEY_TEST_OUT"), "w"))
    for i, t in ipairs(threads) do
        f:write(string.format("thread %d id=%s seen=%s addr_seen=%s addr_now=%s wrk.thread=%s\n",
            i, tostring(t.id), tostring(t:get("seen")), tostring(t:get("addr_seen")),
            tostring(t.addr), tostring(t:get("has_thread"))))
    end
    f:close()
end
