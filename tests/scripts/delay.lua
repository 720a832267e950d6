-- delay.lua: every request waits 100 ms before it is sent.
function delay()
    return 100
end
