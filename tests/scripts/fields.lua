-- fields.lua: records the wrk table as a script sees it (URL parts, -H headers, wrk.format's
-- defaults, wrk.lookup, wrk.connect) as "key=value" lines appended to $VOLLEY_TEST_OUT.
local function record(key, value)
    local f = assert(io.open(os.getenv("VOLLEY_TEST_OUT"), "a"))
    f:write(key, "=", tostring(value), "\n")
    f:close()
end

-- Top-level code runs before any callback: the -H header must already be in wrk.headers.
top_header = wrk.headers["X-Volley-Test"]

function setup(thread)
    record("setup.top_header", top_header)
    record("setup.thread_addr", thread.addr)
    local addrs = wrk.lookup(wrk.host, wrk.port)
    record("lookup.count", #addrs)
    record("lookup.first", addrs[1])
    record("connect.open", wrk.connect(addrs[1]))
    local closed = wrk.lookup("127.0.0.1", os.getenv("VOLLEY_TEST_CLOSED_PORT"))
    record("connect.closed", wrk.connect(closed[1]))
end

function init(args)
    record("init.top_header", top_header)
    record("scheme", wrk.scheme)
    record("host", wrk.host)
    record("port", wrk.port)
    record("method", wrk.method)
    record("path", wrk.path)
    record("body", wrk.body)
    local s = wrk.format()
    record("format.default_line", s:match("^[^\r]*"))
    record("format.default_host", s:match("\r\nHost: ([^\r]*)\r\n"))
    record("format.default_header", s:match("\r\nX%-Volley%-Test: ([^\r]*)\r\n"))
    record("format.default_end", s:sub(-4) == "\r\n\r\n")
    local p = wrk.format("POST", "/form", { ["X-A"] = "1" }, "abcd")
    record("format.post_line", p:match("^[^\r]*"))
    record("format.post_host", p:match("\r\nHost: ([^\r]*)\r\n"))
    record("format.post_length", p:match("\r\nContent%-Length: ([^\r]*)\r\n"))
    record("format.post_xa", p:match("\r\nX%-A: ([^\r]*)\r\n"))
    record("format.post_end", p:sub(-8) == "\r\n\r\nabcd")
end
