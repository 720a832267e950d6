/* engine.h: runs a load test: worker threads, connections, stop conditions, signals. */
#ifndef VOLLEY_ENGINE_H
#define VOLLEY_ENGINE_H

#include <stdint.h>
#include <sys/socket.h>

#include "net/net.h"
#include "script/wrk.h"
#include "stats/result.h"

#define ENGINE_MAX_ADDRS 16
#define ENGINE_MAX_STAGES 32

/* What the engine needs to run; main fills it from the command line. Borrowed, not owned. */
typedef struct engine_config {
    int threads;
    int connections;
    int64_t duration_ms; /* 0: bounded by requests only */
    uint64_t requests_limit; /* 0: bounded by duration only */
    int64_t timeout_ms;
    uint64_t max_body_bytes;
    int progress; /* print a progress line on stderr each second */

    struct sockaddr_storage addrs[ENGINE_MAX_ADDRS];
    int addr_count;
    const char *host; /* for messages */
    const char *port;
    const char *server_name; /* SNI and name check; NULL for IP literals */
    int tls; /* https */
    net_tls_config tls_cfg;

    /* The fixed request of connection mode, built once. */
    const char *request;
    size_t request_len;
    const char *method;
    const char *endpoint_name; /* the path without its query */
    int is_head;

    /* Virtual users (closed model) instead of connections, when users > 0. */
    uint32_t users;
    double spawn_rate; /* users started per second; 0 starts them all at once */
    int stage_count; /* ramps: from the last stage's users to this one's, linearly */
    uint32_t stage_users[ENGINE_MAX_STAGES];
    int64_t stage_ms[ENGINE_MAX_STAGES];
    int64_t stop_timeout_ms; /* tasks in progress at the end get this long */
    double think_scale;
    uint64_t seed;
    const int *class_of_id; /* user class of each global user id */
    uint32_t class_of_id_len;
    const char *authority;
    const char *origin;

    /* Called on the main thread once a second with the second that ended (e.g. to sample the
     * server's CPU); NULL for none. */
    void (*each_second)(void *ctx, uint32_t second);
    void *each_second_ctx;

    /* A script: one state per thread, made before the run (NULL without -s). */
    script_host *script;
    /* How long stopped workers get before the run is declared incomplete. */
    int64_t stop_grace_ms;
} engine_config;

/*
 * Runs the test and fills *out (which stats_result_init prepared): counters, histograms,
 * endpoints, per-second series, duration and how the run stopped. Returns 0 when the run
 * happened, or a negative code when it could not be set up (threads, loop); out->stop_reason
 * then says why.
 */
int engine_run(const engine_config *cfg, stats_result *out);

#endif
