/* wrk.c: wrk 4's scripting API on volley's states: the wrk table, threads, callbacks, done(). */
#include "script/wrk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>

#include "http/request.h"
#include "script/state.h"
#include "script/users.h"

#define WRK_THREAD_MT "volley.thread"
#define WRK_ADDR_MT "volley.addr"
#define WRK_STATS_MT "volley.stats"

typedef struct wrk_stats_ud {
    stats_hist *h;
    int owned;
} wrk_stats_ud;

/* ---- addresses ---- */

static void wrk_push_addr(lua_State *L, const struct sockaddr_storage *ss) {
    struct sockaddr_storage *ud = lua_newuserdata(L, sizeof(*ud));

    memcpy(ud, ss, sizeof(*ud));
    luaL_getmetatable(L, WRK_ADDR_MT);
    lua_setmetatable(L, -2);
}

static int wrk_addr_tostring(lua_State *L) {
    struct sockaddr_storage *ss = luaL_checkudata(L, 1, WRK_ADDR_MT);
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (ss->ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        port = ntohs(a->sin6_port);
        lua_pushfstring(L, "[%s]:%d", ip, port);
        return 1;
    }
    inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr, ip, sizeof(ip));
    port = ntohs(((struct sockaddr_in *)ss)->sin_port);
    lua_pushfstring(L, "%s:%d", ip, port);
    return 1;
}

/* wrk.lookup(host, service): a table of addresses; an error when the name does not resolve. */
static int wrk_lookup(lua_State *L) {
    const char *host = luaL_optstring(L, 1, NULL);
    const char *service = luaL_optstring(L, 2, NULL);
    struct addrinfo hints, *ai = NULL;
    int rc, i = 1;

    lua_getglobal(L, "wrk");
    if (!host) {
        lua_getfield(L, -1, "host");
        host = lua_tostring(L, -1);
    }
    if (!service) {
        lua_getfield(L, lua_istable(L, -1) ? -1 : -2, "port");
        service = lua_tostring(L, -1);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0) {
        return luaL_error(L, "wrk.lookup: cannot resolve %s:%s: %s", host ? host : "?",
                          service ? service : "?", gai_strerror(rc));
    }
    lua_newtable(L);
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, p->ai_addr, p->ai_addrlen);
        wrk_push_addr(L, &ss);
        lua_rawseti(L, -2, i++);
    }
    freeaddrinfo(ai);
    return 1;
}

/* wrk.connect(addr): true when a TCP connection to addr opens within a second. */
static int wrk_connect(lua_State *L) {
    struct sockaddr_storage *ss = luaL_checkudata(L, 1, WRK_ADDR_MT);
    socklen_t len =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int ok = 0;

    if (fd >= 0) {
        if (connect(fd, (struct sockaddr *)ss, len) == 0) {
            ok = 1;
        } else if (errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            if (poll(&pfd, 1, 1000) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
                ok = 1;
            }
        }
        close(fd);
    }
    lua_pushboolean(L, ok);
    return 1;
}

/* ---- threads ---- */

static script_thread *wrk_check_thread(lua_State *L, int idx) {
    return *(script_thread **)luaL_checkudata(L, idx, WRK_THREAD_MT);
}

static void wrk_push_thread(lua_State *L, script_thread *t) {
    script_thread **ud = lua_newuserdata(L, sizeof(*ud));

    *ud = t;
    luaL_getmetatable(L, WRK_THREAD_MT);
    lua_setmetatable(L, -2);
}

static int wrk_thread_get(lua_State *L) {
    script_thread *t = wrk_check_thread(L, 1);
    const char *name = luaL_checkstring(L, 2);

    if (t->L == L) {
        lua_getglobal(L, name);
        return 1;
    }
    lua_getglobal(t->L, name);
    script_copy_value(t->L, -1, L);
    lua_pop(t->L, 1);
    return 1;
}

static int wrk_thread_set(lua_State *L) {
    script_thread *t = wrk_check_thread(L, 1);
    const char *name = luaL_checkstring(L, 2);

    lua_settop(L, 3);
    if (t->L == L) {
        lua_setglobal(L, name);
        return 0;
    }
    script_copy_value(L, 3, t->L);
    lua_setglobal(t->L, name);
    return 0;
}

static int wrk_thread_stop(lua_State *L) {
    script_thread *t = wrk_check_thread(L, 1);

    t->stop = 1;
    return 0;
}

static int wrk_thread_index(lua_State *L) {
    script_thread *t = wrk_check_thread(L, 1);
    const char *key = luaL_checkstring(L, 2);

    if (strcmp(key, "addr") == 0) {
        wrk_push_addr(L, &t->addr);
    } else if (strcmp(key, "id") == 0) {
        lua_pushinteger(L, t->id);
    } else if (strcmp(key, "get") == 0) {
        lua_pushcfunction(L, wrk_thread_get);
    } else if (strcmp(key, "set") == 0) {
        lua_pushcfunction(L, wrk_thread_set);
    } else if (strcmp(key, "stop") == 0) {
        lua_pushcfunction(L, wrk_thread_stop);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int wrk_thread_newindex(lua_State *L) {
    script_thread *t = wrk_check_thread(L, 1);
    const char *key = luaL_checkstring(L, 2);

    if (strcmp(key, "addr") != 0) {
        return luaL_error(L, "thread.%s cannot be set (only thread.addr can)", key);
    }
    memcpy(&t->addr, luaL_checkudata(L, 3, WRK_ADDR_MT), sizeof(t->addr));
    return 0;
}

/* ---- statistics objects for done() ---- */

static stats_hist *wrk_check_stats(lua_State *L) {
    return ((wrk_stats_ud *)luaL_checkudata(L, 1, WRK_STATS_MT))->h;
}

static int wrk_stats_percentile(lua_State *L) {
    stats_hist *h = wrk_check_stats(L);
    double p = luaL_checknumber(L, 2);

    if (p < 0 || p > 100) {
        return luaL_error(L, "percentile must be between 0 and 100, not %f", p);
    }
    lua_pushnumber(L, (lua_Number)stats_hist_percentile(h, p));
    return 1;
}

/* The i-th distinct recorded value (1-based) and its count, as wrk's latency(i). */
static int wrk_stats_value_at(lua_State *L, stats_hist *h, lua_Integer i, int with_count) {
    size_t cursor = 0;
    uint64_t value, count;

    for (lua_Integer n = 1; stats_hist_next(h, &cursor, &value, &count); n++) {
        if (n == i) {
            lua_pushnumber(L, (lua_Number)value);
            if (with_count) {
                lua_pushnumber(L, (lua_Number)count);
                return 2;
            }
            return 1;
        }
    }
    lua_pushnil(L);
    return 1;
}

static int wrk_stats_call(lua_State *L) {
    return wrk_stats_value_at(L, wrk_check_stats(L), luaL_checkinteger(L, 2), 1);
}

static int wrk_stats_len(lua_State *L) {
    stats_hist *h = wrk_check_stats(L);
    size_t cursor = 0;
    uint64_t value, count;
    lua_Integer n = 0;

    while (stats_hist_next(h, &cursor, &value, &count)) {
        n++;
    }
    lua_pushinteger(L, n);
    return 1;
}

static int wrk_stats_index(lua_State *L) {
    stats_hist *h = wrk_check_stats(L);
    const char *key;

    if (lua_type(L, 2) == LUA_TNUMBER) {
        return wrk_stats_value_at(L, h, lua_tointeger(L, 2), 0);
    }
    key = luaL_checkstring(L, 2);
    if (strcmp(key, "min") == 0) {
        lua_pushnumber(L, (lua_Number)stats_hist_min(h));
    } else if (strcmp(key, "max") == 0) {
        lua_pushnumber(L, (lua_Number)stats_hist_max(h));
    } else if (strcmp(key, "mean") == 0) {
        lua_pushnumber(L, stats_hist_mean(h));
    } else if (strcmp(key, "stdev") == 0) {
        lua_pushnumber(L, stats_hist_stdev(h));
    } else if (strcmp(key, "count") == 0 || strcmp(key, "total") == 0) {
        lua_pushnumber(L, (lua_Number)stats_hist_count(h));
    } else if (strcmp(key, "percentile") == 0) {
        lua_pushcfunction(L, wrk_stats_percentile);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int wrk_stats_gc(lua_State *L) {
    wrk_stats_ud *ud = luaL_checkudata(L, 1, WRK_STATS_MT);

    if (ud->owned) {
        stats_hist_free(ud->h);
    }
    ud->h = NULL;
    return 0;
}

static void wrk_push_stats(lua_State *L, stats_hist *h, int owned) {
    wrk_stats_ud *ud = lua_newuserdata(L, sizeof(*ud));

    ud->h = h;
    ud->owned = owned;
    luaL_getmetatable(L, WRK_STATS_MT);
    lua_setmetatable(L, -2);
}

/* ---- states ---- */

static void wrk_register_types(lua_State *L) {
    luaL_newmetatable(L, WRK_ADDR_MT);
    lua_pushcfunction(L, wrk_addr_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    luaL_newmetatable(L, WRK_THREAD_MT);
    lua_pushcfunction(L, wrk_thread_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, wrk_thread_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);

    luaL_newmetatable(L, WRK_STATS_MT);
    lua_pushcfunction(L, wrk_stats_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, wrk_stats_call);
    lua_setfield(L, -2, "__call");
    lua_pushcfunction(L, wrk_stats_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, wrk_stats_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}

static void wrk_set_string(lua_State *L, const char *key, const char *value) {
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

/* Creates the global wrk table from the target, then the runtime's Lua half of it. */
static int wrk_make_table(lua_State *L, const script_target *t, char *err, size_t err_len) {
    wrk_register_types(L);
    lua_newtable(L);
    wrk_set_string(L, "scheme", t->scheme);
    wrk_set_string(L, "host", t->host);
    wrk_set_string(L, "port", t->port);
    wrk_set_string(L, "path", t->path);
    wrk_set_string(L, "method", "GET");
    wrk_set_string(L, "authority", t->authority);
    wrk_set_string(L, "url", t->url);
    lua_newtable(L);
    for (size_t i = 0; i < t->header_count; i++) {
        const char *sep = strstr(t->headers[i], ": ");
        if (!sep) {
            continue;
        }
        lua_pushlstring(L, t->headers[i], (size_t)(sep - t->headers[i]));
        lua_pushstring(L, sep + 2);
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "headers");
    lua_pushcfunction(L, wrk_lookup);
    lua_setfield(L, -2, "lookup");
    lua_pushcfunction(L, wrk_connect);
    lua_setfield(L, -2, "connect");
    lua_setglobal(L, "wrk");
    return script_run_runtime(L, "wrk.lua", err, err_len);
}

static int wrk_is_function(lua_State *L, const char *name) {
    int yes;

    lua_getglobal(L, name);
    yes = lua_isfunction(L, -1);
    lua_pop(L, 1);
    return yes;
}

/* A fresh state with the wrk table and the user's script run in it. */
static lua_State *wrk_new_state(script_host *h, int thread_id, char *err, size_t err_len) {
    lua_State *L = script_state_new(NULL, err, err_len);

    if (!L) {
        return NULL;
    }
    users_set_thread(L, thread_id, h->target.thread_count > 0 ? h->target.thread_count : 1);
    if (wrk_make_table(L, &h->target, err, err_len) < 0 ||
        users_prepare_state(L, err, err_len) < 0 ||
        script_run_file(L, h->path, h->target.init_deadline_ms, err, err_len) < 0) {
        lua_close(L);
        return NULL;
    }
    return L;
}

int script_host_new(script_host **out, const char *path, const script_target *t, char *err,
                    size_t err_len) {
    script_host *h = calloc(1, sizeof(*h));

    if (!h || !(h->path = strdup(path))) {
        free(h);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    h->target = *t;
    h->L = wrk_new_state(h, 0, err, err_len);
    if (!h->L) {
        script_host_free(h);
        return -1;
    }
    h->has_setup = wrk_is_function(h->L, "setup");
    h->has_init = wrk_is_function(h->L, "init");
    h->has_delay = wrk_is_function(h->L, "delay");
    h->has_request = wrk_is_function(h->L, "request");
    h->has_response = wrk_is_function(h->L, "response");
    h->has_done = wrk_is_function(h->L, "done");
    h->user_classes = users_class_count(h->L, NULL, 0);
    *out = h;
    return 0;
}

/* Puts a few words before an error message (which callback failed). */
static void wrk_prefix(char *err, size_t err_len, const char *prefix) {
    size_t plen = strlen(prefix), mlen = strlen(err);

    if (plen + mlen + 1 > err_len) {
        mlen = err_len - plen - 1;
    }
    memmove(err + plen, err, mlen);
    err[plen + mlen] = '\0';
    memcpy(err, prefix, plen);
}

static int wrk_call_init(script_host *h, script_thread *t, char *err, size_t err_len) {
    lua_State *L = t->L;

    lua_getglobal(L, "init");
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_newtable(L);
    lua_pushstring(L, h->target.url);
    lua_rawseti(L, -2, 0);
    for (size_t i = 0; i < h->target.arg_count; i++) {
        lua_pushstring(L, h->target.args[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    return script_pcall(L, 1, 0, h->target.init_deadline_ms, err, err_len);
}

int script_host_add_thread(script_host *h, int id, const struct sockaddr_storage *addr, char *err,
                           size_t err_len) {
    script_thread **grown = realloc(h->threads, sizeof(*grown) * (size_t)(h->thread_count + 1));
    script_thread *t = calloc(1, sizeof(*t));

    if (grown) {
        h->threads = grown;
    }
    if (!grown || !t) {
        free(t);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    t->host = h;
    t->id = id;
    memcpy(&t->addr, addr, sizeof(t->addr));
    t->L = wrk_new_state(h, id, err, err_len);
    if (!t->L) {
        free(t);
        return -1;
    }
    h->threads[h->thread_count++] = t;

    lua_getglobal(t->L, "wrk");
    wrk_push_thread(t->L, t);
    lua_setfield(t->L, -2, "thread");
    lua_pop(t->L, 1);

    if (h->has_setup) {
        lua_getglobal(h->L, "setup");
        wrk_push_thread(h->L, t);
        if (script_pcall(h->L, 1, 0, h->target.init_deadline_ms, err, err_len) < 0) {
            wrk_prefix(err, err_len, "in setup(): ");
            return -1;
        }
    }
    if (wrk_call_init(h, t, err, err_len) < 0) {
        wrk_prefix(err, err_len, "in init(): ");
        return -1;
    }
    t->has_delay = wrk_is_function(t->L, "delay");
    t->has_request = wrk_is_function(t->L, "request");
    t->has_response = wrk_is_function(t->L, "response");
    if (!t->has_request && !h->user_classes) {
        t->static_request = script_thread_static_request(t, &t->static_request_len, err, err_len);
        if (!t->static_request) {
            return -1;
        }
        if (http_request_scan(t->static_request, t->static_request_len, t->last_method,
                              sizeof(t->last_method), t->last_name, sizeof(t->last_name)) <= 0) {
            snprintf(err, err_len, "%s: wrk.format() built something that is not an HTTP request",
                     h->path);
            return -1;
        }
    }
    return 0;
}

char *script_thread_static_request(script_thread *t, size_t *len, char *err, size_t err_len) {
    lua_State *L = t->L;
    const char *s;
    char *copy;

    lua_getglobal(L, "wrk");
    lua_getfield(L, -1, "format");
    lua_remove(L, -2);
    if (script_pcall(L, 0, 1, t->host->target.init_deadline_ms, err, err_len) < 0) {
        return NULL;
    }
    s = lua_tolstring(L, -1, len);
    copy = s ? malloc(*len + 1) : NULL;
    if (copy) {
        memcpy(copy, s, *len + 1);
    } else {
        snprintf(err, err_len, "wrk.format() did not return a string");
    }
    lua_pop(L, 1);
    return copy;
}

/* Counts a script error and keeps the first message. */
static void wrk_thread_error(script_thread *t, const char *msg) {
    if (t->errors++ == 0) {
        snprintf(t->first_error, sizeof(t->first_error), "%s", msg);
    }
}

static int wrk_thread_call(script_thread *t, const char *what, int nargs, int nres) {
    char err[512];
    int rc;

    t->in_callback = what;
    rc = script_pcall(t->L, nargs, nres, 0, err, sizeof(err));
    t->in_callback = NULL;
    if (rc < 0) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "in %s(): ", what);
        wrk_prefix(err, sizeof(err), prefix);
        wrk_thread_error(t, err);
    }
    return rc;
}

int script_thread_request(script_thread *t, const char **bytes, size_t *len, uint32_t *count,
                          const char **method, const char **name) {
    lua_State *L = t->L;
    const char *s;
    int n;

    lua_settop(L, 0);
    lua_getglobal(L, "request");
    if (wrk_thread_call(t, "request", 0, 1) < 0) {
        return -1;
    }
    if (lua_type(L, -1) != LUA_TSTRING) {
        char msg[160];
        snprintf(msg, sizeof(msg), "in request(): %s: returned %s, not a request string",
                 t->host->path, luaL_typename(L, -1));
        wrk_thread_error(t, msg);
        lua_settop(L, 0);
        return -1;
    }
    s = lua_tolstring(L, -1, len);
    if (*len != t->last_req_len || memcmp(s, t->last_req, *len) != 0) {
        n = http_request_scan(s, *len, t->last_method, sizeof(t->last_method), t->last_name,
                              sizeof(t->last_name));
        if (n <= 0) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "in request(): %s: returned a string that is not a complete HTTP request",
                     t->host->path);
            wrk_thread_error(t, msg);
            lua_settop(L, 0);
            return -1;
        }
        if (*len > t->last_req_cap) {
            char *nb = realloc(t->last_req, *len);
            if (!nb) {
                lua_settop(L, 0);
                return -1;
            }
            t->last_req = nb;
            t->last_req_cap = *len;
        }
        memcpy(t->last_req, s, *len);
        t->last_req_len = *len;
        t->last_count = (uint32_t)n;
    }
    *bytes = s; /* stays on the stack, so alive, until the next call into this state */
    *count = t->last_count;
    *method = t->last_method;
    *name = t->last_name;
    return 0;
}

int script_thread_delay(script_thread *t, uint64_t *ms) {
    lua_State *L = t->L;
    double v;

    lua_settop(L, 0);
    lua_getglobal(L, "delay");
    if (wrk_thread_call(t, "delay", 0, 1) < 0) {
        return -1;
    }
    v = lua_tonumber(L, -1);
    lua_settop(L, 0);
    *ms = v > 0 ? (uint64_t)v : 0;
    return 0;
}

int script_thread_response(script_thread *t, int status, const char *headers, size_t headers_len,
                           const char *body, size_t body_len) {
    lua_State *L = t->L;
    const char *p = headers, *end = headers + headers_len;
    int rc;

    lua_settop(L, 0);
    lua_getglobal(L, "response");
    lua_pushinteger(L, status);
    lua_newtable(L);
    while (p && p < end) {
        const char *value = p + strlen(p) + 1;
        if (value >= end) {
            break;
        }
        lua_pushstring(L, p);
        lua_pushstring(L, value);
        lua_settable(L, -3);
        p = value + strlen(value) + 1;
    }
    lua_pushlstring(L, body ? body : "", body ? body_len : 0);
    rc = wrk_thread_call(t, "response", 3, 0);
    lua_settop(L, 0);
    return rc;
}

static void wrk_push_summary(lua_State *L, const stats_result *r) {
    const uint64_t *e = r->totals.errors;

    lua_newtable(L);
    lua_pushnumber(L, (lua_Number)(uint64_t)(r->duration_s * 1e6));
    lua_setfield(L, -2, "duration");
    lua_pushnumber(L, (lua_Number)r->totals.responses);
    lua_setfield(L, -2, "requests");
    lua_pushnumber(L, (lua_Number)r->totals.bytes_in);
    lua_setfield(L, -2, "bytes");
    lua_newtable(L);
    lua_pushnumber(L, (lua_Number)(e[STATS_ERR_DNS] + e[STATS_ERR_CONNECT] + e[STATS_ERR_TLS]));
    lua_setfield(L, -2, "connect");
    lua_pushnumber(L, (lua_Number)(e[STATS_ERR_READ] + e[STATS_ERR_PARSE]));
    lua_setfield(L, -2, "read");
    lua_pushnumber(L, (lua_Number)e[STATS_ERR_WRITE]);
    lua_setfield(L, -2, "write");
    lua_pushnumber(L,
                   (lua_Number)(e[STATS_ERR_STATUS_4XX] + e[STATS_ERR_STATUS_429] +
                                e[STATS_ERR_STATUS_5XX] + e[STATS_ERR_STATUS_503]));
    lua_setfield(L, -2, "status");
    lua_pushnumber(L, (lua_Number)e[STATS_ERR_TIMEOUT]);
    lua_setfield(L, -2, "timeout");
    lua_setfield(L, -2, "errors");
}

/* Requests per second per thread, one sample for each complete second of the run. */
static stats_hist *wrk_rate_hist(const stats_result *r) {
    stats_hist *h = stats_hist_new();
    size_t n = stats_series_len(r->series);
    int threads = r->config.threads > 0 ? r->config.threads : 1;

    if (!h) {
        return NULL;
    }
    for (size_t i = 0; i + 1 < n || (n == 1 && i == 0); i++) {
        stats_point *p = stats_series_at(r->series, (uint32_t)i);
        stats_hist_record(h, p->c.responses / (uint64_t)threads);
    }
    return h;
}

int script_host_done(script_host *h, const stats_result *r, char *err, size_t err_len) {
    stats_hist *rates;

    if (!h->has_done) {
        return 0;
    }
    rates = wrk_rate_hist(r);
    if (!rates) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    lua_settop(h->L, 0);
    lua_getglobal(h->L, "done");
    wrk_push_summary(h->L, r);
    wrk_push_stats(h->L, r->latency, 0);
    wrk_push_stats(h->L, rates, 1);
    return script_pcall(h->L, 3, 0, 0, err, err_len);
}

void script_host_free(script_host *h) {
    if (!h) {
        return;
    }
    for (int i = 0; i < h->thread_count; i++) {
        lua_close(h->threads[i]->L);
        free(h->threads[i]->last_req);
        free(h->threads[i]->static_request);
        free(h->threads[i]);
    }
    free(h->threads);
    if (h->L) {
        lua_close(h->L);
    }
    free(h->path);
    free(h);
}
