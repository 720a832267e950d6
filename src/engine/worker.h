/* worker.h: one load-generating thread with its own loop, Lua state and statistics. */
#ifndef VOLLEY_ENGINE_WORKER_H
#define VOLLEY_ENGINE_WORKER_H

#include <stdatomic.h>
#include <lua.h>

#include "engine/engine.h"
#include "http/conn.h"
#include "script/users.h"
#include "stats/stats.h"

/* State every worker shares with the main thread; written with atomics only. */
typedef struct engine_shared {
    uint64_t start_ns;
    uv_async_t *notify; /* wakes the main loop: a worker finished, or no connection works */
    atomic_int ever_connected;
    atomic_int first_failures; /* connections whose first attempt failed */
    atomic_int reason_set;
    int first_err_class;
    int first_err;
    char first_reason[160];
} engine_shared;

typedef struct worker_conn {
    http_conn http; /* first: an http_conn pointer is a worker_conn pointer */
    uv_timer_t retry;
    uint32_t fail_streak;
    stats_endpoint *ep; /* the endpoint of the request in flight */
    int delay_done; /* delay() was honoured for the next request */
    int tried; /* has attempted a connection at least once */
    int connected; /* has been ready at least once */
} worker_conn;

typedef struct worker {
    int id;
    uv_thread_t thread;
    uv_loop_t loop;
    const engine_config *cfg;
    engine_shared *shared;
    uv_async_t stop_async;
    uv_timer_t tick;
    worker_conn *conns;
    int conn_count;
    net_tls_ctx *tls;
    lua_State *L;
    script_thread *script; /* wrk-style script state of this thread, or NULL */
    const char *request;
    size_t request_len;
    int cfg_is_head;
    int self_stopped; /* thread:stop() was called */
    uint64_t timeout_ns;
    uint64_t quota; /* requests to start; 0 for no bound */
    int stopping;
    int handles_open;

    /* Figures owned by the thread and read by main only after the join. */
    stats_counters totals;
    uint64_t in_flight;
    uint64_t connections_opened;
    stats_hist *latency;
    stats_hist *connect;
    stats_hist *tls_hs;
    stats_hist *ttfb;
    stats_endpoints *endpoints;
    stats_endpoint *fixed_ep;

    /* The second being filled, flushed into series under lock when a second ends. */
    uint32_t point_sec;
    uint32_t point_users; /* most users running during the second */
    stats_counters point_c;
    stats_hist *point_hist;
    uv_mutex_t lock;
    stats_series *series; /* guarded by lock */

    /* Virtual users: the thread's share of the users, set by main as the ramp goes. */
    users_thread *ut;
    atomic_uint users_target;
    uint32_t users_spawned;
    uint32_t users_retired;
    uv_timer_t stop_timer;
    int handles_closed;
    stats_endpoints *failures; /* (name, reason) as (method, name) rows, count in c.failed */
    stats_endpoints *checks; /* ("check", name) rows: passes in c.ok, fails in c.failed */

    atomic_int stop_requested;
    atomic_int quota_done;
    atomic_int finished;
    uint64_t stop_ns;
    int setup_error;
    int loop_ready;
    int lock_ready;
} worker;

/* Allocates a worker's tables; 0 or -ENOMEM. */
int worker_init(worker *w, int id, const engine_config *cfg, engine_shared *shared, int conn_count,
                uint64_t quota);
/* Thread entry: runs the loop until stopped. */
void worker_main(void *arg);
/* Asks the worker to stop (thread-safe). */
void worker_stop(worker *w);
/* Frees what worker_init allocated. */
void worker_free(worker *w);

#endif
