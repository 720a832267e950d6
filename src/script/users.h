/* users.h: virtual users: one Lua coroutine and one connection each, on a thread's loop. */
#ifndef VOLLEY_SCRIPT_USERS_H
#define VOLLEY_SCRIPT_USERS_H

#include <stdint.h>
#include <sys/socket.h>
#include <lua.h>

#include "http/conn.h"
#include "stats/stats.h"

typedef struct users_thread users_thread;

/* How a user's request ended, as the engine records it. */
typedef struct users_record {
    stats_endpoint *ep;
    int status;
    int err_class; /* -1 for ok */
    int sent; /* the request went out (latency is meaningful) */
    uint64_t latency_us;
    uint64_t ttfb_us;
    uint64_t bytes_in;
    uint64_t end_ns;
    const char *name;
    const char *reason; /* failure reason for the failures table, NULL when ok */
} users_record;

/* The engine's side: where statistics go. ctx is the engine's thread. */
typedef struct users_recorder {
    void *ctx;
    stats_endpoint *(*endpoint)(void *ctx, const char *method, const char *name);
    void (*started)(void *ctx, stats_endpoint *ep, uint64_t bytes_out);
    void (*ended)(void *ctx, const users_record *r);
    void (*check)(void *ctx, const char *name, int pass);
    void (*connected)(void *ctx, uint64_t connect_ns, uint64_t handshake_ns);
    void (*user_gone)(void *ctx);
} users_recorder;

typedef struct users_config {
    lua_State *L; /* the thread's state, with the scenario loaded */
    uv_loop_t *loop;
    users_recorder rec;
    const struct sockaddr *addr;
    net_tls_ctx *tls;
    const char *server_name;
    const char *authority; /* Host header */
    const char *origin; /* scheme://authority, for absolute URLs */
    int is_tls;
    uint64_t timeout_ns; /* default per-request timeout */
    uint64_t max_body_bytes;
    double think_scale;
    uint64_t seed;
    int thread_id;
    int thread_count;
    const int *class_of_id; /* class index for each global user id */
    uint32_t class_of_id_len;
} users_config;

/* Registers the volley primitives in L and checks the scenario's user classes. Call once per
 * state before the run, in any thread. 0 or -1 with err set. */
int users_prepare_state(lua_State *L, char *err, size_t err_len);

/* Tells a state which thread it belongs to (for csv() feeders); before the script runs. */
void users_set_thread(lua_State *L, int id, int count);

/* The number of user classes the state defined and their weights (weights may be NULL). */
int users_class_count(lua_State *L, double *weights, int max);

users_thread *users_thread_new(const users_config *cfg);
/* Starts one user with a global id; 0 or a negative code. */
int users_spawn(users_thread *ut, uint32_t global_id);
/* Asks the newest running user to leave after its current task. */
void users_retire_one(users_thread *ut);
/* Users running (not yet finished). */
uint32_t users_active(const users_thread *ut);
/* Users asked to stay (active minus those retiring). */
uint32_t users_staying(const users_thread *ut);
/* The end of the run: every user finishes its task; think times are cut short. */
void users_stop(users_thread *ut);
/* After the stop timeout: what still runs is cancelled. Returns the requests in flight. */
uint64_t users_cancel(users_thread *ut);
/* 1 when no user runs and every handle is closed. */
int users_idle(const users_thread *ut);
/* Ends requests that passed their deadline (each user's connection). */
void users_expire(users_thread *ut, uint64_t now_ns);
/* Script errors seen and the first message. */
uint64_t users_errors(const users_thread *ut, const char **first);
void users_thread_free(users_thread *ut);

#endif
