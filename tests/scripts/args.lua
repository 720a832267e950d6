-- args.lua: init(args) writes what it was given: the URL as args[0], the words after -- from
-- args[1]; one line per thread, appended to $VOLLEY_TEST_OUT.
function init(args)
    local f = assert(io.open(os.getenv("VOLLEY_TEST_OUT"), "a"))
    f:write(string.format("n=%d|0=%s|1=%s|2=%s|3=%s\n", #args, tostring(args[0]),
        tostring(args[1]), tostring(args[2]), tostring(args[3])))
    f:close()
end
