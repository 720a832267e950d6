-- err_syntax.lua: a syntax error on the line marked below; volley must refuse it before any load.
function request()
    local path = = "/small.txt" -- SYNTAX ERROR HERE
    return wrk.format(nil, path)
end
