/* users.c: virtual users as Lua coroutines whose requests yield to the thread's event loop. */
#include "script/users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <zlib.h>
#include <lauxlib.h>

#include "script/state.h"

#define USERS_MAX_EXPECT 16

enum users_want { WANT_NONE, WANT_REQUEST, WANT_SLEEP };

typedef struct vuser {
    http_conn conn; /* first: a connection pointer is a user pointer */
    uv_timer_t timer;
    users_thread *ut;
    lua_State *co;
    int co_ref;
    uint32_t id;
    int cls;
    int want;
    int sent; /* the wanted request has been written */
    int thinking; /* the sleep is a think time */
    int retiring; /* leave after the current task */
    int finished; /* the coroutine ended or was cancelled */
    int handles; /* libuv handles still open (conn, timer) */
    uint64_t sleep_ms;
    uint64_t rng;

    char *req;
    size_t req_len;
    size_t req_cap;
    uint64_t timeout_ns;
    int is_head;
    stats_endpoint *ep; /* its name is the request's name: rows never move */
    int expect[USERS_MAX_EXPECT];
    int expect_count;

    /* The last response, recorded when the user moves on so checks can still fail it. */
    int pending;
    uint32_t pending_id;
    users_record rec;
    char *reason; /* a check's or fail()'s reason for the pending response, or NULL */
    uint32_t next_id;
    struct vuser *next_free;
} vuser;

struct users_thread {
    users_config cfg;
    vuser **users; /* every user ever spawned and not yet freed, newest last */
    uint32_t count;
    uint32_t cap;
    uint32_t active;
    uint32_t retiring;
    vuser *current;
    int stopping;
    int cancelled;
    uint64_t errors;
    char first_error[512];
    char *inflate_buf;
    size_t inflate_cap;
};

static void users_resume(vuser *u, int nargs);
static void users_send(vuser *u);

/* ---- helpers ---- */

static uint64_t users_rand_next(uint64_t *s) {
    /* xorshift64*: small, fast and good enough to pick tasks and think times */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static double users_now_s(void) {
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static users_thread *users_of(lua_State *L) {
    users_thread *ut;

    lua_getfield(L, LUA_REGISTRYINDEX, "volley.users");
    ut = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return ut;
}

/* The user a primitive is about: the handle given, or the one running now. */
static vuser *users_check(lua_State *L, int idx) {
    users_thread *ut = users_of(L);
    vuser *u = lua_islightuserdata(L, idx) ? lua_touserdata(L, idx) : NULL;

    if (!u && ut) {
        u = ut->current;
    }
    if (!u) {
        luaL_error(L, "this can only be called from a user's task");
    }
    return u;
}

static void users_error(users_thread *ut, const char *msg) {
    if (ut->errors++ == 0) {
        snprintf(ut->first_error, sizeof(ut->first_error), "%s", msg);
    }
}

/* ---- recording ---- */

static void users_commit(vuser *u) {
    users_thread *ut = u->ut;

    if (!u->pending) {
        return;
    }
    u->pending = 0;
    if (u->reason) {
        if (u->rec.err_class < 0) {
            u->rec.err_class = STATS_ERR_CHECK;
        }
        u->rec.reason = u->reason;
    } else if (u->rec.err_class >= 0) {
        u->rec.reason = NULL; /* the engine names it after the class or status */
    }
    ut->cfg.rec.ended(ut->cfg.rec.ctx, &u->rec);
    free(u->reason);
    u->reason = NULL;
}

static void users_set_reason(vuser *u, const char *prefix, const char *text) {
    size_t len = strlen(prefix) + strlen(text) + 1;

    free(u->reason);
    u->reason = malloc(len);
    if (u->reason) {
        snprintf(u->reason, len, "%s%s", prefix, text);
    }
}

static int users_expected(const vuser *u, int status) {
    for (int i = 0; i < u->expect_count; i++) {
        if (u->expect[i] == status) {
            return 1;
        }
    }
    return 0;
}

/* ---- Lua primitives ---- */

static int users_l_commit(lua_State *L) {
    users_commit(users_check(L, 1));
    return 0;
}

static int users_l_stopping(lua_State *L) {
    vuser *u = users_check(L, 1);

    lua_pushboolean(L, u->ut->stopping || u->retiring);
    return 1;
}

static int users_l_random(lua_State *L) {
    vuser *u = users_check(L, 1);

    lua_pushnumber(L, (double)(users_rand_next(&u->rng) >> 11) / 9007199254740992.0);
    return 1;
}

static int users_l_now(lua_State *L) {
    lua_pushnumber(L, users_now_s());
    return 1;
}

static int users_l_http_date(lua_State *L) {
    const char *s = luaL_checkstring(L, 1);
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (!strptime(s, "%a, %d %b %Y %H:%M:%S", &tm) && !strptime(s, "%a, %d-%b-%Y %H:%M:%S", &tm)) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushnumber(L, (double)timegm(&tm));
    return 1;
}

static int users_l_is_tls(lua_State *L) {
    users_thread *ut = users_of(L);

    lua_pushboolean(L, ut && ut->cfg.is_tls);
    return 1;
}

static int users_l_origin(lua_State *L) {
    users_thread *ut = users_of(L);

    lua_pushstring(L, ut ? ut->cfg.origin : "");
    return 1;
}

/* The thread's number and count are set when its state is made, before the script's top
 * level runs (a csv() feeder at the top level needs them). */
static int users_l_thread_id(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "volley.thread_id");
    if (lua_isnil(L, -1)) {
        lua_pushinteger(L, 0);
    }
    return 1;
}

static int users_l_thread_count(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "volley.thread_count");
    if (lua_isnil(L, -1)) {
        lua_pushinteger(L, 1);
    }
    return 1;
}

void users_set_thread(lua_State *L, int id, int count) {
    lua_pushinteger(L, id);
    lua_setfield(L, LUA_REGISTRYINDEX, "volley.thread_id");
    lua_pushinteger(L, count);
    lua_setfield(L, LUA_REGISTRYINDEX, "volley.thread_count");
}

static int users_l_check(lua_State *L) {
    vuser *u = users_check(L, 1);
    const char *name = luaL_checkstring(L, 2);
    int pass = lua_toboolean(L, 3);
    uint32_t id = (uint32_t)luaL_optinteger(L, 4, 0);

    u->ut->cfg.rec.check(u->ut->cfg.rec.ctx, name, pass);
    if (!pass && u->pending && (id == 0 || id == u->pending_id) && !u->reason) {
        users_set_reason(u, "check failed: ", name);
    }
    return 0;
}

static int users_l_fail(lua_State *L) {
    vuser *u = users_check(L, 1);
    uint32_t id = (uint32_t)luaL_checkinteger(L, 2);
    const char *reason = luaL_checkstring(L, 3);

    if (u->pending && id == u->pending_id) {
        users_set_reason(u, "", reason);
    }
    return 0;
}

static int users_l_task_error(lua_State *L) {
    vuser *u = users_check(L, 1);
    const char *task = luaL_checkstring(L, 2);
    const char *msg = luaL_checkstring(L, 3);
    users_thread *ut = u->ut;
    users_record r;
    char line[256];

    snprintf(line, sizeof(line), "%s", msg);
    line[strcspn(line, "\n")] = '\0';
    users_error(ut, line);
    memset(&r, 0, sizeof(r));
    r.ep = ut->cfg.rec.endpoint(ut->cfg.rec.ctx, "TASK", task);
    r.err_class = STATS_ERR_SCRIPT;
    r.name = task;
    r.reason = line;
    r.end_ns = uv_hrtime();
    ut->cfg.rec.started(ut->cfg.rec.ctx, r.ep, 0);
    ut->cfg.rec.ended(ut->cfg.rec.ctx, &r);
    return 0;
}

static int users_l_sleep(lua_State *L) {
    vuser *u = users_check(L, 1);
    double s = luaL_checknumber(L, 2);
    int think = lua_toboolean(L, 3);

    users_commit(u);
    if (s <= 0 || (think && (u->ut->stopping || u->retiring))) {
        return 0;
    }
    u->want = WANT_SLEEP;
    u->thinking = think;
    u->sleep_ms = (uint64_t)(s * 1000.0 * u->ut->cfg.think_scale + 0.5);
    return lua_yield(L, 0);
}

/* Appends to the user's request buffer, growing it. */
static int users_append(vuser *u, const char *s, size_t len) {
    if (u->req_len + len > u->req_cap) {
        size_t cap = u->req_cap ? u->req_cap : 512;
        char *nb;
        while (cap < u->req_len + len) {
            cap *= 2;
        }
        nb = realloc(u->req, cap);
        if (!nb) {
            return -1;
        }
        u->req = nb;
        u->req_cap = cap;
    }
    memcpy(u->req + u->req_len, s, len);
    u->req_len += len;
    return 0;
}

static int users_append_str(vuser *u, const char *s) {
    return users_append(u, s, strlen(s));
}

static int users_header_line(vuser *u, const char *name, const char *value) {
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
        return -1;
    }
    return users_append_str(u, name) | users_append(u, ": ", 2) | users_append_str(u, value) |
        users_append(u, "\r\n", 2);
}

/* V.request(h, method, path, headers, body, name, timeout_s, expect, cookie): yields. */
static int users_l_request(lua_State *L) {
    vuser *u = users_check(L, 1);
    users_thread *ut = u->ut;
    const char *method = luaL_checkstring(L, 2);
    const char *path = luaL_checkstring(L, 3);
    size_t body_len = 0;
    const char *body = lua_isnoneornil(L, 5) ? NULL : luaL_checklstring(L, 5, &body_len);
    const char *name = luaL_checkstring(L, 6);
    double timeout_s = luaL_optnumber(L, 7, 0);
    const char *cookie = lua_isstring(L, 9) ? lua_tostring(L, 9) : NULL;
    int has_host = 0, has_ae = 0, has_ua = 0, rc = 0;
    char num[32];

    users_commit(u);
    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0) {
        size_t olen = strlen(ut->cfg.origin);
        if (strncmp(path, ut->cfg.origin, olen) != 0 || (path[olen] && path[olen] != '/')) {
            return luaL_error(L, "request to %s: only the target's origin %s can be requested",
                              path, ut->cfg.origin);
        }
        path = path[olen] ? path + olen : "/";
    }
    if (path[0] != '/' || strpbrk(path, " \r\n")) {
        return luaL_error(L, "bad request path '%s' (it must start with / and hold no spaces)",
                          path);
    }

    u->req_len = 0;
    rc |= users_append_str(u, method) | users_append(u, " ", 1) | users_append_str(u, path) |
        users_append(u, " HTTP/1.1\r\n", 11);
    if (lua_istable(L, 4)) {
        lua_pushnil(L);
        while (lua_next(L, 4) != 0) {
            const char *k = lua_tostring(L, -2);
            const char *v = lua_tostring(L, -1);
            if (k && v && lua_type(L, -2) == LUA_TSTRING) {
                has_host |= strcasecmp(k, "host") == 0;
                has_ae |= strcasecmp(k, "accept-encoding") == 0;
                has_ua |= strcasecmp(k, "user-agent") == 0;
                if (strcasecmp(k, "content-length") != 0 && users_header_line(u, k, v) < 0) {
                    return luaL_error(L, "bad header '%s'", k);
                }
            }
            lua_pop(L, 1);
        }
    }
    if (!has_host) {
        rc |= users_header_line(u, "Host", ut->cfg.authority);
    }
    if (!has_ae) {
        rc |= users_header_line(u, "Accept-Encoding", "gzip");
    }
    if (!has_ua) {
        rc |= users_header_line(u, "User-Agent", "volley/" VOLLEY_VERSION);
    }
    if (cookie) {
        rc |= users_header_line(u, "Cookie", cookie);
    }
    if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
        strcmp(method, "PATCH") == 0) {
        snprintf(num, sizeof(num), "%zu", body_len);
        rc |= users_header_line(u, "Content-Length", num);
    }
    rc |= users_append(u, "\r\n", 2);
    if (body_len) {
        rc |= users_append(u, body, body_len);
    }
    if (rc) {
        return luaL_error(L, "out of memory building a request");
    }

    u->expect_count = 0;
    if (lua_istable(L, 8)) {
        for (int i = 1; i <= USERS_MAX_EXPECT; i++) {
            lua_rawgeti(L, 8, i);
            if (!lua_isnumber(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            u->expect[u->expect_count++] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
    }
    u->ep = ut->cfg.rec.endpoint(ut->cfg.rec.ctx, method, name);
    u->is_head = strcmp(method, "HEAD") == 0;
    u->timeout_ns = timeout_s > 0 ? (uint64_t)(timeout_s * 1e9) : ut->cfg.timeout_ns;
    u->want = WANT_REQUEST;
    u->sent = 0;
    return lua_yield(L, 0);
}

/* ---- responses ---- */

/* Decodes a gzip body into the thread's buffer, bounded by the body limit. */
static int users_gunzip(users_thread *ut, const char *in, size_t len, const char **out,
                        size_t *out_len) {
    z_stream z;
    int rc;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        return -1;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    *out_len = 0;
    do {
        if (*out_len == ut->inflate_cap) {
            size_t cap = ut->inflate_cap ? ut->inflate_cap * 2 : 64 * 1024;
            char *nb;
            if (cap > ut->cfg.max_body_bytes) {
                cap = ut->cfg.max_body_bytes;
            }
            if (cap <= *out_len || !(nb = realloc(ut->inflate_buf, cap))) {
                inflateEnd(&z);
                return -1;
            }
            ut->inflate_buf = nb;
            ut->inflate_cap = cap;
        }
        z.next_out = (Bytef *)ut->inflate_buf + *out_len;
        z.avail_out = (uInt)(ut->inflate_cap - *out_len);
        rc = inflate(&z, Z_NO_FLUSH);
        *out_len = ut->inflate_cap - z.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        return -1;
    }
    *out = ut->inflate_buf;
    return 0;
}

static void users_push_headers(lua_State *L, const char *h, size_t len, int *gzip) {
    const char *p = h, *end = h + len;
    int cookies = 0;

    lua_newtable(L); /* headers, lowercase names */
    lua_newtable(L); /* set-cookie lines */
    while (p && p < end) {
        const char *value = p + strlen(p) + 1;
        char lower[128];
        size_t n = strlen(p);
        if (value > end) {
            break;
        }
        if (n >= sizeof(lower)) {
            n = sizeof(lower) - 1;
        }
        for (size_t i = 0; i < n; i++) {
            lower[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
        }
        lower[n] = '\0';
        if (strcmp(lower, "set-cookie") == 0) {
            lua_pushstring(L, value);
            lua_rawseti(L, -2, ++cookies);
        }
        if (strcmp(lower, "content-encoding") == 0 && strcasecmp(value, "gzip") == 0) {
            *gzip = 1;
        }
        lua_getfield(L, -2, lower);
        if (lua_isstring(L, -1)) {
            lua_pushstring(L, ", ");
            lua_pushstring(L, value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, value);
        }
        lua_setfield(L, -3, lower);
        p = value + strlen(value) + 1;
    }
}

static void users_set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

/* Pushes the response table onto the coroutine's stack and makes it the pending record. */
static void users_push_response(vuser *u, const http_outcome *o) {
    lua_State *L = u->co;
    int gzip = 0, status_fail;
    const char *body = o->body;
    size_t body_len = o->body_len;

    u->pending = 1;
    u->pending_id = ++u->next_id;
    free(u->reason);
    u->reason = NULL;
    memset(&u->rec, 0, sizeof(u->rec));
    u->rec.ep = u->ep;
    u->rec.name = u->ep->name;
    u->rec.status = o->status;
    u->rec.sent = 1;
    u->rec.latency_us = (o->end_ns - o->start_ns) / 1000;
    u->rec.ttfb_us = o->ttfb_ns / 1000;
    u->rec.bytes_in = o->bytes_in;
    u->rec.end_ns = o->end_ns;
    status_fail =
        o->err_class < 0 && !users_expected(u, o->status) ? stats_err_for_status(o->status) : -1;
    u->rec.err_class = o->err_class >= 0 ? o->err_class : status_fail;

    lua_createtable(L, 0, 12);
    lua_pushinteger(L, o->status);
    lua_setfield(L, -2, "status");
    lua_pushinteger(L, u->pending_id);
    lua_setfield(L, -2, "__id");
    lua_pushstring(L, u->ep->name);
    lua_setfield(L, -2, "name");
    users_push_headers(L, o->headers ? o->headers : "", o->headers ? o->headers_len : 0, &gzip);
    lua_setfield(L, -3, "set_cookie");
    lua_setfield(L, -2, "headers");
    if (gzip && body_len && users_gunzip(u->ut, body, body_len, &body, &body_len) < 0) {
        u->rec.err_class = STATS_ERR_PARSE;
        users_set_reason(u, "", "gzip body could not be decoded");
        body_len = 0;
    }
    lua_pushlstring(L, body ? body : "", body ? body_len : 0);
    lua_setfield(L, -2, "body");
    lua_pushboolean(L, u->rec.err_class < 0);
    lua_setfield(L, -2, "ok");
    if (o->err_class >= 0) {
        lua_pushstring(L, stats_err_name(o->err_class));
        lua_setfield(L, -2, "error");
    }
    lua_createtable(L, 0, 3);
    users_set_num(L, "total", (double)(o->end_ns - o->start_ns) / 1e6);
    users_set_num(L, "ttfb", (double)o->ttfb_ns / 1e6);
    users_set_num(L, "connect", (double)u->conn.connect_ns / 1e6);
    lua_setfield(L, -2, "timings");
}

/* ---- connection callbacks ---- */

static void users_on_ready(http_conn *c) {
    vuser *u = (vuser *)c;

    u->ut->cfg.rec.connected(u->ut->cfg.rec.ctx, c->connect_ns, c->handshake_ns);
    if (u->want == WANT_REQUEST && !u->sent) {
        users_send(u);
    }
}

static void users_on_done(http_conn *c, const http_outcome *o) {
    vuser *u = (vuser *)c;

    if (u->finished || u->want != WANT_REQUEST) {
        return;
    }
    u->want = WANT_NONE;
    users_push_response(u, o);
    users_resume(u, 1);
}

static void users_on_connect_failed(http_conn *c, int cls, int err) {
    vuser *u = (vuser *)c;
    http_outcome o;

    if (u->finished || u->want != WANT_REQUEST) {
        return;
    }
    memset(&o, 0, sizeof(o));
    o.err_class = cls;
    o.err = err;
    o.start_ns = o.end_ns = uv_hrtime();
    u->want = WANT_NONE;
    users_push_response(u, &o);
    u->rec.sent = 0;
    u->ut->cfg.rec.started(u->ut->cfg.rec.ctx, u->ep, 0);
    users_resume(u, 1);
}

static void users_handle_closed(vuser *u);

static void users_on_closed(http_conn *c) {
    vuser *u = (vuser *)c;

    if (u->finished) {
        users_handle_closed(u);
        return;
    }
    if (u->want == WANT_REQUEST && !u->sent) {
        users_send(u); /* the server closed just as the user wanted to send */
    }
}

static const http_conn_cbs users_conn_cbs = {
    .on_ready = users_on_ready,
    .on_done = users_on_done,
    .on_connect_failed = users_on_connect_failed,
    .on_closed = users_on_closed,
};

static void users_send(vuser *u) {
    users_thread *ut = u->ut;

    switch (u->conn.state) {
        case HTTP_CONN_IDLE:
            u->sent = 1;
            ut->cfg.rec.started(ut->cfg.rec.ctx, u->ep, u->req_len);
            http_conn_send(&u->conn, u->req, u->req_len, 1, u->is_head, 0, u->timeout_ns);
            return;
        case HTTP_CONN_CLOSED:
            http_conn_connect(&u->conn, ut->cfg.addr, ut->cfg.tls, ut->cfg.server_name,
                              u->timeout_ns);
            return;
        default:
            return; /* connecting or closing: on_ready or on_closed sends */
    }
}

/* ---- the coroutine ---- */

static void users_timer_cb(uv_timer_t *t) {
    vuser *u = t->data;

    if (u->want == WANT_SLEEP && !u->finished) {
        u->want = WANT_NONE;
        users_resume(u, 0);
    }
}

static void users_timer_closed(uv_handle_t *h) {
    users_handle_closed(h->data);
}

static void users_free(vuser *u) {
    users_thread *ut = u->ut;

    for (uint32_t i = 0; i < ut->count; i++) {
        if (ut->users[i] == u) {
            memmove(&ut->users[i], &ut->users[i + 1], (ut->count - i - 1) * sizeof(vuser *));
            ut->count--;
            break;
        }
    }
    http_conn_release(&u->conn);
    free(u->req);
    free(u->reason);
    free(u);
}

static void users_handle_closed(vuser *u) {
    if (--u->handles == 0) {
        users_free(u);
    }
}

/* The user is done: its coroutine is dropped and its handles closed; memory goes when both
 * close callbacks have run. */
static void users_finish(vuser *u) {
    users_thread *ut = u->ut;

    if (u->finished) {
        return;
    }
    users_commit(u);
    u->finished = 1;
    ut->active--;
    if (u->retiring) {
        ut->retiring--;
    }
    luaL_unref(ut->cfg.L, LUA_REGISTRYINDEX, u->co_ref);
    u->co = NULL;
    uv_timer_stop(&u->timer);
    uv_close((uv_handle_t *)&u->timer, users_timer_closed);
    if (u->conn.state == HTTP_CONN_CLOSED) {
        users_handle_closed(u);
    } else {
        http_conn_close(&u->conn);
    }
    ut->cfg.rec.user_gone(ut->cfg.rec.ctx);
}

static void users_resume(vuser *u, int nargs) {
    users_thread *ut = u->ut;
    vuser *outer = ut->current;
    int rc;

    ut->current = u;
    rc = lua_resume(u->co, nargs);
    ut->current = outer;
    if (rc == LUA_YIELD) {
        if (u->want == WANT_REQUEST) {
            users_send(u);
        } else if (u->want == WANT_SLEEP) {
            uv_timer_start(&u->timer, users_timer_cb, u->sleep_ms, 0);
        } else {
            users_error(ut, "a user yielded outside volley's primitives (coroutine.yield?)");
            users_finish(u);
        }
        return;
    }
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", lua_tostring(u->co, -1) ? lua_tostring(u->co, -1) : "?");
        users_error(ut, msg);
    }
    users_finish(u);
}

int users_spawn(users_thread *ut, uint32_t global_id) {
    lua_State *L = ut->cfg.L;
    vuser *u;

    if (ut->count == ut->cap) {
        uint32_t cap = ut->cap ? ut->cap * 2 : 64;
        vuser **nb = realloc(ut->users, cap * sizeof(*nb));
        if (!nb) {
            return -ENOMEM;
        }
        ut->users = nb;
        ut->cap = cap;
    }
    u = calloc(1, sizeof(*u));
    if (!u) {
        return -ENOMEM;
    }
    u->ut = ut;
    u->id = global_id;
    u->cls = global_id < ut->cfg.class_of_id_len ? ut->cfg.class_of_id[global_id] : 0;
    u->rng = (ut->cfg.seed + 0x9E3779B97F4A7C15ull * (global_id + 1)) | 1;
    http_conn_init(&u->conn, ut->cfg.loop, &users_conn_cbs, u, ut->cfg.max_body_bytes);
    u->conn.keep_body = 1;
    u->conn.keep_headers = 1;
    uv_timer_init(ut->cfg.loop, &u->timer);
    u->timer.data = u;
    u->handles = 2;

    u->co = lua_newthread(L);
    u->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getglobal(u->co, "__volley_user_main");
    lua_getglobal(u->co, "__volley_classes");
    lua_rawgeti(u->co, -1, u->cls + 1);
    lua_remove(u->co, -2);
    lua_pushlightuserdata(u->co, u);
    lua_pushinteger(u->co, global_id + 1);
    ut->users[ut->count++] = u;
    ut->active++;
    users_resume(u, 3);
    return 0;
}

void users_retire_one(users_thread *ut) {
    for (uint32_t i = ut->count; i-- > 0;) {
        vuser *u = ut->users[i];
        if (!u->finished && !u->retiring) {
            u->retiring = 1;
            ut->retiring++;
            if (u->want == WANT_SLEEP && u->thinking) {
                uv_timer_stop(&u->timer);
                u->want = WANT_NONE;
                users_resume(u, 0);
            }
            return;
        }
    }
}

uint32_t users_active(const users_thread *ut) {
    return ut->active;
}

uint32_t users_staying(const users_thread *ut) {
    return ut->active - ut->retiring;
}

void users_stop(users_thread *ut) {
    ut->stopping = 1;
    for (uint32_t i = 0; i < ut->count; i++) {
        vuser *u = ut->users[i];
        if (!u->finished && u->want == WANT_SLEEP && u->thinking) {
            uv_timer_stop(&u->timer);
            u->want = WANT_NONE;
            users_resume(u, 0);
            i = (uint32_t)-1; /* the list may have changed: start over */
        }
    }
}

uint64_t users_cancel(users_thread *ut) {
    uint64_t in_flight = 0;

    ut->cancelled = 1;
    for (uint32_t i = 0; i < ut->count; i++) {
        vuser *u = ut->users[i];
        if (u->finished) {
            continue;
        }
        in_flight += http_conn_in_flight(&u->conn);
        u->pending = 0; /* a cancelled user's last answer is not judged */
        users_finish(u);
        i = (uint32_t)-1;
    }
    return in_flight;
}

void users_expire(users_thread *ut, uint64_t now_ns) {
    for (uint32_t i = 0; i < ut->count; i++) {
        vuser *u = ut->users[i];
        uint32_t before = ut->count;
        if (!u->finished) {
            http_conn_expire(&u->conn, now_ns);
        }
        if (ut->count != before) {
            i = (uint32_t)-1; /* a user ended and the list moved: walk it again */
        }
    }
}

int users_idle(const users_thread *ut) {
    return ut->active == 0 && ut->count == 0;
}

uint64_t users_errors(const users_thread *ut, const char **first) {
    *first = ut->errors ? ut->first_error : NULL;
    return ut->errors;
}

/* ---- setup ---- */

static const luaL_Reg users_primitives[] = {
    {"request", users_l_request},
    {"sleep", users_l_sleep},
    {"commit", users_l_commit},
    {"stopping", users_l_stopping},
    {"random", users_l_random},
    {"now", users_l_now},
    {"http_date", users_l_http_date},
    {"is_tls", users_l_is_tls},
    {"origin", users_l_origin},
    {"thread_id", users_l_thread_id},
    {"thread_count", users_l_thread_count},
    {"check", users_l_check},
    {"fail", users_l_fail},
    {"task_error", users_l_task_error},
    {NULL, NULL},
};

int users_prepare_state(lua_State *L, char *err, size_t err_len) {
    lua_newtable(L);
    luaL_register(L, NULL, users_primitives);
    lua_setglobal(L, "__volley");
    return script_run_runtime(L, "users.lua", err, err_len);
}

int users_class_count(lua_State *L, double *weights, int max) {
    int n;

    lua_getglobal(L, "__volley_classes");
    n = lua_istable(L, -1) ? (int)lua_objlen(L, -1) : 0;
    for (int i = 0; weights && i < n && i < max; i++) {
        lua_rawgeti(L, -1, i + 1);
        lua_getfield(L, -1, "weight");
        weights[i] = lua_tonumber(L, -1);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    return n;
}

users_thread *users_thread_new(const users_config *cfg) {
    users_thread *ut = calloc(1, sizeof(*ut));

    if (!ut) {
        return NULL;
    }
    ut->cfg = *cfg;
    lua_pushlightuserdata(cfg->L, ut);
    lua_setfield(cfg->L, LUA_REGISTRYINDEX, "volley.users");
    return ut;
}

void users_thread_free(users_thread *ut) {
    if (!ut) {
        return;
    }
    for (uint32_t i = 0; i < ut->count; i++) {
        http_conn_release(&ut->users[i]->conn);
        free(ut->users[i]->req);
        free(ut->users[i]->reason);
        free(ut->users[i]);
    }
    free(ut->users);
    free(ut->inflate_buf);
    free(ut);
}
