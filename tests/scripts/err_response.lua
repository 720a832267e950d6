-- err_response.lua: every third call of response() does arithmetic on nil.
local n = 0

function response(status, headers, body)
    n = n + 1
    if n % 3 == 0 then
        local missing = nil
        return missing + 1 -- ERROR HERE
    end
end
