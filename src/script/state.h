/* state.h: a LuaJIT state as volley makes it: libraries, json, the runtime's Lua parts. */
#ifndef VOLLEY_SCRIPT_STATE_H
#define VOLLEY_SCRIPT_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

/* A new state with the standard libraries, `json` and `cjson` preloaded (lua-cjson) and the
 * embedded runtime file `runtime` (e.g. "wrk.lua") run when not NULL. NULL when out of memory
 * or when the runtime fails (err says why). The caller closes it with lua_close. */
lua_State *script_state_new(const char *runtime, char *err, size_t err_len);

/* Runs one of the runtime's embedded Lua files (e.g. "wrk.lua") in L. 0 or -1 with err set. */
int script_run_runtime(lua_State *L, const char *name, char *err, size_t err_len);

/* Calls the function below nargs arguments on the stack with a traceback handler. With a
 * deadline (deadline_ms > 0) the JIT is off during the call and a count hook stops a call that
 * runs past it. Returns 0 with nres results on the stack, or -1 with the error message (first
 * line "file:line: message", then the traceback) copied into err and nothing pushed. */
int script_pcall(lua_State *L, int nargs, int nres, int64_t deadline_ms, char *err, size_t err_len);

/* Loads and runs a script file in L under a deadline. 0, or -1 with err set. */
int script_run_file(lua_State *L, const char *path, int64_t deadline_ms, char *err, size_t err_len);

/* Copies the value at index idx of `from` onto the top of `to`: nil, booleans, numbers,
 * strings and tables of those (nested up to a depth). Other types become nil. */
void script_copy_value(lua_State *from, int idx, lua_State *to);

#endif
