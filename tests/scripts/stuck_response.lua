-- stuck_response.lua: after twenty responses, response() loops forever; volley must still end
-- after the duration plus its grace period, with the results marked incomplete.
local n = 0

function response(status, headers, body)
    n = n + 1
    if n >= 20 then
        local x = 0
        while true do
            x = x + 1
        end
    end
end
