/* worker.c: one load-generating thread: connections, the fixed request source, statistics. */
#include "engine/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

static void worker_connect(worker *w, worker_conn *wc);

static int worker_is_head(const char *method) {
    return method[0] == 'H' && strcmp(method, "HEAD") == 0;
}

static void worker_flush_point(worker *w) {
    stats_point *p;

    uv_mutex_lock(&w->lock);
    p = stats_series_at(w->series, w->point_sec);
    if (p) {
        stats_counters_add(&p->c, &w->point_c);
        stats_hist_merge(p->latency, w->point_hist);
        if (w->ut) {
            p->users = w->point_users;
        }
    }
    uv_mutex_unlock(&w->lock);
    memset(&w->point_c, 0, sizeof(w->point_c));
    stats_hist_reset(w->point_hist);
    w->point_users = w->ut ? users_active(w->ut) : 0;
}

/* Moves to the second that now_ns falls in, publishing the one that ended. */
static void worker_advance(worker *w, uint64_t now_ns) {
    uint32_t sec = (uint32_t)((now_ns - w->shared->start_ns) / NS_PER_S);

    if (sec != w->point_sec && now_ns > w->shared->start_ns) {
        worker_flush_point(w);
        w->point_sec = sec;
    }
}

static void worker_count_start(worker *w, stats_endpoint *ep) {
    w->totals.requests++;
    ep->c.requests++;
    w->point_c.requests++;
}

static void worker_count_failure(worker *w, stats_endpoint *ep, int cls) {
    w->totals.failed++;
    w->totals.errors[cls]++;
    ep->c.failed++;
    ep->c.errors[cls]++;
    w->point_c.failed++;
    w->point_c.errors[cls]++;
}

/* Counts a response that arrived, by its status class. */
static void worker_count_status(worker *w, stats_endpoint *ep, int status) {
    int sc = status / 100;

    if (sc < 1 || sc > 5) {
        sc = 0;
    }
    w->totals.responses++;
    w->totals.status_class[sc]++;
    ep->c.responses++;
    ep->c.status_class[sc]++;
    w->point_c.responses++;
    w->point_c.status_class[sc]++;
}

static void worker_count_response(worker *w, stats_endpoint *ep, const http_outcome *o) {
    int cls = stats_err_for_status(o->status);

    worker_count_status(w, ep, o->status);
    if (cls >= 0) {
        worker_count_failure(w, ep, cls);
        return;
    }
    w->totals.ok++;
    ep->c.ok++;
    w->point_c.ok++;
}

/* Records a request that ended, whatever the outcome: exactly once per request sent. */
static void worker_record(worker *w, stats_endpoint *ep, const http_outcome *o, int fail_class) {
    uint64_t latency_us = (o->end_ns - o->start_ns) / 1000;

    worker_advance(w, o->end_ns);
    if (o->err_class >= 0) {
        worker_count_failure(w, ep, o->err_class);
    } else if (fail_class >= 0) {
        /* A response arrived but the script's response() failed on it. */
        worker_count_status(w, ep, o->status);
        worker_count_failure(w, ep, fail_class);
    } else {
        worker_count_response(w, ep, o);
    }
    w->totals.bytes_in += o->bytes_in;
    ep->c.bytes_in += o->bytes_in;
    w->point_c.bytes_in += o->bytes_in;

    stats_hist_record(w->latency, latency_us);
    stats_hist_record(ep->latency, latency_us);
    stats_hist_record(w->point_hist, latency_us);
    if (o->ttfb_ns) {
        stats_hist_record(w->ttfb, o->ttfb_ns / 1000);
    }
}

static void worker_check_quota(worker *w) {
    if (w->quota && w->totals.ok + w->totals.failed >= w->quota && !w->quota_done) {
        w->quota_done = 1;
        w->stop_ns = uv_hrtime();
        uv_async_send(w->shared->notify);
    }
}

static void worker_self_stop(worker *w) {
    if (w->self_stopped) {
        return;
    }
    w->self_stopped = 1;
    w->quota_done = 1;
    w->stop_ns = uv_hrtime();
    uv_async_send(w->shared->notify);
}

static void worker_send(worker *w, worker_conn *wc);

static void worker_send_cb(uv_timer_t *t) {
    worker_conn *wc = t->data;

    if (wc->http.state == HTTP_CONN_IDLE) {
        worker_send(wc->http.owner, wc);
    }
}

/* Counts a request the script could not produce and tries again a little later. */
static void worker_script_failed(worker *w, worker_conn *wc) {
    worker_advance(w, uv_hrtime());
    worker_count_start(w, w->fixed_ep);
    worker_count_failure(w, w->fixed_ep, STATS_ERR_SCRIPT);
    worker_check_quota(w);
    if (w->script->stop) {
        worker_self_stop(w);
        return;
    }
    /* The failed attempt was a request: the next one goes through delay() again. The pause
     * keeps a script that always fails from spinning a core. */
    wc->delay_done = 0;
    uv_timer_start(&wc->retry, worker_send_cb, 10, 0);
}

static void worker_send(worker *w, worker_conn *wc) {
    const char *bytes = w->request;
    size_t len = w->request_len;
    uint32_t count = 1;
    int is_head = w->cfg_is_head;
    stats_endpoint *ep = w->fixed_ep;

    if (w->stopping || w->self_stopped || (w->quota && w->totals.requests >= w->quota)) {
        return;
    }
    if (w->script && w->script->has_delay && !wc->delay_done) {
        uint64_t ms = 0;
        if (script_thread_delay(w->script, &ms) < 0) {
            worker_script_failed(w, wc);
            return;
        }
        if (ms > 0) {
            wc->delay_done = 1;
            uv_timer_start(&wc->retry, worker_send_cb, ms, 0);
            return;
        }
    }
    wc->delay_done = 0;
    if (w->script && w->script->has_request) {
        const char *method, *name;
        if (script_thread_request(w->script, &bytes, &len, &count, &method, &name) < 0) {
            worker_script_failed(w, wc);
            return;
        }
        if (w->script->stop) {
            worker_self_stop(w);
            return;
        }
        is_head = worker_is_head(method);
        ep = stats_endpoints_get(w->endpoints, method, name, strlen(name));
    }
    wc->ep = ep;
    for (uint32_t i = 0; i < count; i++) {
        worker_count_start(w, ep);
    }
    w->totals.bytes_out += len;
    ep->c.bytes_out += len;
    w->point_c.bytes_out += len;
    http_conn_send(&wc->http, bytes, len, count, is_head, 0, w->timeout_ns);
}

static void worker_on_ready(http_conn *c) {
    worker_conn *wc = (worker_conn *)c;
    worker *w = c->owner;

    wc->fail_streak = 0;
    wc->connected = 1;
    w->shared->ever_connected = 1;
    w->connections_opened++;
    stats_hist_record(w->connect, c->connect_ns / 1000);
    if (c->handshake_ns) {
        stats_hist_record(w->tls_hs, c->handshake_ns / 1000);
    }
    worker_send(w, wc);
}

static void worker_on_done(http_conn *c, const http_outcome *o) {
    worker *w = c->owner;
    worker_conn *wc = (worker_conn *)c;
    int fail_class = -1;

    if (w->script && w->script->has_response && o->err_class < 0 &&
        script_thread_response(w->script, o->status, o->headers, o->headers_len, o->body,
                               o->body_len) < 0) {
        fail_class = STATS_ERR_SCRIPT;
    }
    worker_record(w, wc->ep ? wc->ep : w->fixed_ep, o, fail_class);
    if (w->script && w->script->stop) {
        worker_self_stop(w);
    }
    if (o->reusable && c->state == HTTP_CONN_IDLE) {
        worker_send(w, (worker_conn *)c);
    }
    worker_check_quota(w);
}

static void worker_note_first_failure(worker *w, worker_conn *wc, int cls, int err) {
    engine_shared *sh = w->shared;
    int expected = 0;

    if (atomic_compare_exchange_strong(&sh->reason_set, &expected, 1)) {
        sh->first_err_class = cls;
        sh->first_err = err;
        if (cls == STATS_ERR_TLS) {
            snprintf(sh->first_reason, sizeof(sh->first_reason), "%s",
                     net_stream_tls_reason(&wc->http.stream));
        } else {
            snprintf(sh->first_reason, sizeof(sh->first_reason), "%s", net_strerror(err));
        }
    }
    if (!wc->connected && wc->tried == 1) {
        int n = atomic_fetch_add(&sh->first_failures, 1) + 1;
        if (n >= w->cfg->connections && !sh->ever_connected) {
            uv_async_send(sh->notify);
        }
    }
}

/* A connection attempt that failed stands for the request it would have carried. */
static void worker_on_connect_failed(http_conn *c, int cls, int err) {
    worker_conn *wc = (worker_conn *)c;
    worker *w = c->owner;

    wc->fail_streak++;
    if (w->stopping) {
        return;
    }
    if (w->quota && w->totals.requests >= w->quota) {
        return;
    }
    worker_advance(w, uv_hrtime());
    worker_count_start(w, w->fixed_ep);
    worker_count_failure(w, w->fixed_ep, cls);
    worker_note_first_failure(w, wc, cls, err);
    (void)wc;
    worker_check_quota(w);
}

static void worker_retry_cb(uv_timer_t *t) {
    worker_conn *wc = t->data;

    worker_connect(wc->http.owner, wc);
}

static void worker_on_closed(http_conn *c) {
    worker_conn *wc = (worker_conn *)c;
    worker *w = c->owner;
    uint64_t delay_ms;

    if (w->stopping || w->self_stopped || (w->quota && w->totals.requests >= w->quota)) {
        return;
    }
    if (wc->fail_streak == 0) {
        worker_connect(w, wc);
        return;
    }
    /* Back off after failures so a refused port does not turn into a busy loop. */
    delay_ms = 10ull << (wc->fail_streak < 7 ? wc->fail_streak : 7);
    if (delay_ms > 1000) {
        delay_ms = 1000;
    }
    uv_timer_start(&wc->retry, worker_retry_cb, delay_ms, 0);
}

static const http_conn_cbs worker_conn_cbs = {
    .on_ready = worker_on_ready,
    .on_done = worker_on_done,
    .on_connect_failed = worker_on_connect_failed,
    .on_closed = worker_on_closed,
};

/* Connecting and the TLS handshake get at least 10 s: with thousands of connections the
 * handshakes queue (a few dozen at a time per thread), and a short request timeout would turn
 * that queue into failures and reconnects. */
static uint64_t worker_connect_timeout_ns(const worker *w) {
    uint64_t floor_ns = 10000ull * NS_PER_MS;

    return w->timeout_ns > floor_ns ? w->timeout_ns : floor_ns;
}

static void worker_connect(worker *w, worker_conn *wc) {
    const engine_config *cfg = w->cfg;
    int idx = (int)((uint32_t)(w->id + wc->http.index) % (uint32_t)cfg->addr_count);
    const struct sockaddr *addr = (const struct sockaddr *)&cfg->addrs[idx];

    if (w->stopping || w->self_stopped) {
        return;
    }
    if (w->script) {
        addr = (const struct sockaddr *)&w->script->addr; /* setup() may have chosen it */
    }
    wc->tried++;
    wc->delay_done = 0;
    http_conn_connect(&wc->http, addr, w->tls, cfg->server_name, worker_connect_timeout_ns(w));
}

static void worker_handle_closed(uv_handle_t *h) {
    worker *w = h->data;

    w->handles_open--;
}

static void worker_close_handle(worker *w, uv_handle_t *h) {
    h->data = w;
    w->handles_open++;
    uv_close(h, worker_handle_closed);
}

/* ---- virtual users: the recorder the script layer reports to ---- */

static stats_endpoint *worker_u_endpoint(void *ctx, const char *method, const char *name) {
    worker *w = ctx;

    return stats_endpoints_get(w->endpoints, method, name, strlen(name));
}

static void worker_u_started(void *ctx, stats_endpoint *ep, uint64_t bytes_out) {
    worker *w = ctx;

    worker_advance(w, uv_hrtime());
    worker_count_start(w, ep);
    w->totals.bytes_out += bytes_out;
    ep->c.bytes_out += bytes_out;
    w->point_c.bytes_out += bytes_out;
}

static void worker_u_failure_row(worker *w, const users_record *r) {
    char reason[160];
    const char *why = r->reason;
    stats_endpoint *row;

    if (!why) {
        if (r->status >= 400 &&
            (r->err_class == STATS_ERR_STATUS_4XX || r->err_class == STATS_ERR_STATUS_429 ||
             r->err_class == STATS_ERR_STATUS_5XX || r->err_class == STATS_ERR_STATUS_503)) {
            snprintf(reason, sizeof(reason), "HTTP %d", r->status);
        } else {
            snprintf(reason, sizeof(reason), "%s", stats_err_name(r->err_class));
        }
        why = reason;
    }
    row = stats_endpoints_get(w->failures, r->name ? r->name : "?", why, strlen(why));
    if (row) {
        row->c.failed++;
    }
}

static void worker_u_ended(void *ctx, const users_record *r) {
    worker *w = ctx;
    stats_endpoint *ep = r->ep;

    worker_advance(w, r->end_ns ? r->end_ns : uv_hrtime());
    if (r->status > 0) {
        worker_count_status(w, ep, r->status);
    }
    if (r->err_class >= 0) {
        worker_count_failure(w, ep, r->err_class);
        worker_u_failure_row(w, r);
    } else {
        w->totals.ok++;
        ep->c.ok++;
        w->point_c.ok++;
    }
    w->totals.bytes_in += r->bytes_in;
    ep->c.bytes_in += r->bytes_in;
    w->point_c.bytes_in += r->bytes_in;
    if (r->sent) {
        stats_hist_record(w->latency, r->latency_us);
        stats_hist_record(ep->latency, r->latency_us);
        stats_hist_record(w->point_hist, r->latency_us);
        if (r->ttfb_us) {
            stats_hist_record(w->ttfb, r->ttfb_us);
        }
    }
}

static void worker_u_check(void *ctx, const char *name, int pass) {
    worker *w = ctx;
    stats_endpoint *row = stats_endpoints_get(w->checks, "check", name, strlen(name));

    if (row) {
        if (pass) {
            row->c.ok++;
        } else {
            row->c.failed++;
        }
    }
}

static void worker_u_connected(void *ctx, uint64_t connect_ns, uint64_t handshake_ns) {
    worker *w = ctx;

    w->shared->ever_connected = 1;
    w->connections_opened++;
    stats_hist_record(w->connect, connect_ns / 1000);
    if (handshake_ns) {
        stats_hist_record(w->tls_hs, handshake_ns / 1000);
    }
}

static void worker_u_gone(void *ctx) {
}

/* Brings the thread's users to the share main asked for: spawns or retires. */
static void worker_u_adjust(worker *w) {
    uint32_t target = w->users_target;

    /* Users that ended on their own (an error in on_start) are not replaced, as in Locust. */
    while (w->users_spawned - w->users_retired < target) {
        uint32_t id = (uint32_t)w->id + w->users_spawned * (uint32_t)w->cfg->threads;
        w->users_spawned++;
        if (users_spawn(w->ut, id) < 0) {
            break;
        }
    }
    while (w->users_spawned - w->users_retired > target) {
        users_retire_one(w->ut);
        w->users_retired++;
    }
}

static void worker_close_handles(worker *w) {
    if (w->handles_closed) {
        return;
    }
    w->handles_closed = 1;
    uv_timer_stop(&w->tick);
    uv_timer_stop(&w->stop_timer);
    worker_close_handle(w, (uv_handle_t *)&w->tick);
    worker_close_handle(w, (uv_handle_t *)&w->stop_timer);
    worker_close_handle(w, (uv_handle_t *)&w->stop_async);
    for (int i = 0; i < w->conn_count; i++) {
        worker_close_handle(w, (uv_handle_t *)&w->conns[i].retry);
    }
}

static void worker_u_stop_timeout_cb(uv_timer_t *t) {
    worker *w = t->data;

    w->in_flight += users_cancel(w->ut);
    worker_close_handles(w);
}

static void worker_tick_cb(uv_timer_t *t) {
    worker *w = t->data;
    uint64_t now = uv_hrtime();

    worker_advance(w, now);
    if (w->ut) {
        if (!w->stopping && users_active(w->ut) > w->point_users) {
            w->point_users = users_active(w->ut);
        }
        users_expire(w->ut, now);
        if (!w->stopping) {
            worker_u_adjust(w);
        } else if (users_active(w->ut) == 0) {
            worker_close_handles(w);
        }
        return;
    }
    for (int i = 0; i < w->conn_count; i++) {
        http_conn_expire(&w->conns[i].http, now);
    }
}

static void worker_stop_cb(uv_async_t *a) {
    worker *w = a->data;

    if (w->stopping) {
        return;
    }
    w->stopping = 1;
    if (!w->stop_ns) {
        w->stop_ns = uv_hrtime();
    }
    if (w->ut) {
        /* Users finish the task they are in; the stop timeout bounds how long that may take. */
        users_stop(w->ut);
        if (users_active(w->ut) == 0) {
            worker_close_handles(w);
        } else {
            uv_timer_start(&w->stop_timer, worker_u_stop_timeout_cb,
                           (uint64_t)w->cfg->stop_timeout_ms, 0);
        }
        return;
    }
    for (int i = 0; i < w->conn_count; i++) {
        worker_conn *wc = &w->conns[i];
        w->in_flight += http_conn_in_flight(&wc->http);
        http_conn_close(&wc->http);
        uv_timer_stop(&wc->retry);
    }
    worker_close_handles(w);
}

void worker_stop(worker *w) {
    w->stop_requested = 1;
    uv_async_send(&w->stop_async);
}

int worker_init(worker *w, int id, const engine_config *cfg, engine_shared *shared, int conn_count,
                uint64_t quota) {
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->cfg = cfg;
    w->shared = shared;
    w->conn_count = conn_count;
    w->quota = quota;
    w->timeout_ns = (uint64_t)cfg->timeout_ms * NS_PER_MS;
    w->conns = calloc((size_t)conn_count, sizeof(*w->conns));
    w->latency = stats_hist_new();
    w->connect = stats_hist_new();
    w->tls_hs = stats_hist_new();
    w->ttfb = stats_hist_new();
    w->point_hist = stats_hist_new();
    w->endpoints = stats_endpoints_new(STATS_ENDPOINTS_CAP);
    w->failures = stats_endpoints_new(STATS_ENDPOINTS_CAP);
    w->checks = stats_endpoints_new(STATS_ENDPOINTS_CAP);
    w->series = stats_series_new();
    if (!w->conns || !w->latency || !w->connect || !w->tls_hs || !w->ttfb || !w->point_hist ||
        !w->endpoints || !w->series || !w->failures || !w->checks) {
        worker_free(w);
        return -ENOMEM;
    }
    if (!cfg->users) {
        w->fixed_ep = stats_endpoints_get(w->endpoints, cfg->method, cfg->endpoint_name,
                                          strlen(cfg->endpoint_name));
    }
    w->request = cfg->request;
    w->request_len = cfg->request_len;
    w->cfg_is_head = cfg->is_head;
    if (cfg->script) {
        w->script = cfg->script->threads[id];
        if (w->script->static_request) {
            w->request = w->script->static_request;
            w->request_len = w->script->static_request_len;
            w->fixed_ep = stats_endpoints_get(w->endpoints, w->script->last_method,
                                              w->script->last_name, strlen(w->script->last_name));
            w->cfg_is_head = worker_is_head(w->script->last_method);
        }
    }
    if (uv_mutex_init(&w->lock) < 0) {
        worker_free(w);
        return -ENOMEM;
    }
    w->lock_ready = 1;
    /* The loop and its stop handle exist before the thread does, so a stop can always be
     * delivered, whatever the thread is doing. */
    if (uv_loop_init(&w->loop) < 0) {
        worker_free(w);
        return -ENOMEM;
    }
    w->loop_ready = 1;
    uv_async_init(&w->loop, &w->stop_async, worker_stop_cb);
    w->stop_async.data = w;
    return 0;
}

static int worker_u_setup(worker *w) {
    const engine_config *cfg = w->cfg;
    users_config uc;

    memset(&uc, 0, sizeof(uc));
    uc.L = w->script->L;
    uc.loop = &w->loop;
    uc.rec.ctx = w;
    uc.rec.endpoint = worker_u_endpoint;
    uc.rec.started = worker_u_started;
    uc.rec.ended = worker_u_ended;
    uc.rec.check = worker_u_check;
    uc.rec.connected = worker_u_connected;
    uc.rec.user_gone = worker_u_gone;
    uc.addr = (const struct sockaddr *)&cfg->addrs[w->id % cfg->addr_count];
    uc.tls = w->tls;
    uc.server_name = cfg->server_name;
    uc.authority = cfg->authority;
    uc.origin = cfg->origin;
    uc.is_tls = cfg->tls;
    uc.timeout_ns = (uint64_t)cfg->timeout_ms * NS_PER_MS;
    uc.max_body_bytes = cfg->max_body_bytes;
    uc.think_scale = cfg->think_scale > 0 ? cfg->think_scale : 1.0;
    uc.seed = cfg->seed;
    uc.thread_id = w->id;
    uc.thread_count = cfg->threads;
    uc.class_of_id = cfg->class_of_id;
    uc.class_of_id_len = cfg->class_of_id_len;
    w->ut = users_thread_new(&uc);
    return w->ut ? 0 : -ENOMEM;
}

/* Builds what the loop needs: TLS context, Lua state, handles, connections. */
static int worker_setup(worker *w) {
    char err[256];

    uv_timer_init(&w->loop, &w->tick);
    w->tick.data = w;
    {
        uint64_t tick_ms = (uint64_t)w->cfg->timeout_ms / 10;
        tick_ms = tick_ms < 1 ? 1 : tick_ms > 100 ? 100 : tick_ms;
        uv_timer_start(&w->tick, worker_tick_cb, tick_ms, tick_ms);
    }
    for (int i = 0; i < w->conn_count; i++) {
        worker_conn *wc = &w->conns[i];
        http_conn_init(&wc->http, &w->loop, &worker_conn_cbs, w, w->cfg->max_body_bytes);
        wc->http.keep_body = w->script && w->script->has_response;
        wc->http.keep_headers = wc->http.keep_body;
        wc->http.index = (uint32_t)i;
        uv_timer_init(&w->loop, &wc->retry);
        wc->retry.data = wc;
    }
    uv_timer_init(&w->loop, &w->stop_timer);
    w->stop_timer.data = w;
    if (!w->script) {
        w->L = luaL_newstate(); /* every thread has a state, even with nothing to run in it */
        if (!w->L) {
            return -ENOMEM;
        }
        luaL_openlibs(w->L);
    }
    if (w->cfg->tls && net_tls_ctx_new(&w->tls, &w->cfg->tls_cfg, err, sizeof(err)) < 0) {
        return -EINVAL;
    }
    if (w->cfg->users) {
        return worker_u_setup(w);
    }
    return 0;
}

void worker_main(void *arg) {
    worker *w = arg;
    sigset_t set;

    /* Signals belong to the main thread, which turns them into a clean stop. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (worker_setup(w) < 0) {
        /* Nothing to connect: wait for the stop that main sends when it hears of this. */
        w->setup_error = 1;
        uv_async_send(w->shared->notify);
    } else {
        for (int i = 0; i < w->conn_count && !w->stop_requested && !w->ut; i++) {
            worker_connect(w, &w->conns[i]);
        }
        if (w->ut) {
            worker_u_adjust(w);
        }
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    worker_flush_point(w);
    w->finished = 1;
    uv_async_send(w->shared->notify);
}

void worker_free(worker *w) {
    if (w->conns) {
        for (int i = 0; i < w->conn_count; i++) {
            http_conn_release(&w->conns[i].http);
        }
    }
    free(w->conns);
    stats_hist_free(w->latency);
    stats_hist_free(w->connect);
    stats_hist_free(w->tls_hs);
    stats_hist_free(w->ttfb);
    stats_hist_free(w->point_hist);
    stats_endpoints_free(w->endpoints);
    stats_endpoints_free(w->failures);
    stats_endpoints_free(w->checks);
    users_thread_free(w->ut);
    stats_series_free(w->series);
    if (w->tls) {
        net_tls_ctx_free(w->tls);
    }
    if (w->L) {
        lua_close(w->L);
    }
    if (w->loop_ready) {
        uv_run(&w->loop, UV_RUN_NOWAIT);
        uv_loop_close(&w->loop);
    }
    if (w->lock_ready) {
        uv_mutex_destroy(&w->lock);
    }
    memset(w, 0, sizeof(*w));
}
