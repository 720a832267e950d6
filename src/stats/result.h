/* result.h: one finished run as plain data, handed from the engine to main and report. */
#ifndef VOLLEY_STATS_RESULT_H
#define VOLLEY_STATS_RESULT_H

#include "stats.h"

#define STATS_MAX_HEADERS 64

/* The run's settings as the results file records them. Strings are owned by the result. */
typedef struct stats_config {
    char *url;
    char *script; /* NULL when no script */
    char *mode; /* "connections" (later "users", "rate") */
    int threads;
    int connections;
    int64_t duration_ms; /* 0 when bounded by requests only */
    uint64_t requests; /* -n bound, 0 when none */
    int64_t timeout_ms;
    uint64_t max_body_bytes;
    int tls_verify; /* 1 on, 0 off (-k); 1 for plain http too */
    uint32_t users; /* user mode: peak users asked for, 0 in connection mode */
    double spawn_rate; /* users started per second */
    char *preset; /* the --preset chosen, NULL when none */
    size_t header_count;
    char *headers[STATS_MAX_HEADERS]; /* "Name: value" as given, unredacted */
} stats_config;

enum stats_stop {
    STATS_STOP_DONE, /* duration or request bound reached */
    STATS_STOP_INTERRUPTED, /* SIGINT or SIGTERM */
    STATS_STOP_NO_START, /* nothing could be connected: dns, connect or tls to every address */
    STATS_STOP_INCOMPLETE /* a worker did not stop in time */
};

#define STATS_MAX_THRESHOLDS 64

/* One pass/fail rule and how the run fared against it. */
typedef struct stats_threshold {
    char expr[160];
    double value; /* the measured figure, in the rule's unit (ms, %, count, req/s) */
    int pass; /* 1 held, 0 broken */
    int missing; /* the rule names an endpoint the run never saw */
} stats_threshold;

typedef struct stats_result {
    stats_config config;
    char started_at[32]; /* UTC ISO-8601, e.g. 2026-12-03T10:00:00Z */
    char version[32];
    double duration_s; /* measured, from first connect to stop */
    int stop; /* enum stats_stop */
    char stop_reason[256]; /* one line for exit 3/4, empty otherwise */

    stats_counters totals;
    uint64_t in_flight; /* started but neither ok nor failed at the stop */
    stats_hist *latency;
    stats_hist *connect; /* TCP connect time per connection */
    stats_hist *tls; /* TLS handshake time per connection (empty for http) */
    stats_hist *ttfb; /* time to first response byte */
    uint64_t connections_opened;
    stats_endpoints *endpoints;
    stats_series *series;
    stats_endpoints *failures; /* rows keyed (request name, reason); count in c.failed */
    stats_endpoints *checks; /* rows keyed ("check", name); passes in c.ok, fails c.failed */
    uint32_t users_peak; /* most users running at once (user mode) */
    double generator_cpu_per_thread; /* volley's own CPU over the run, in cores per thread */
    char script_error[256]; /* first script error of the run, empty when none */
    size_t threshold_count;
    stats_threshold thresholds[STATS_MAX_THRESHOLDS];
    uint64_t script_errors;
} stats_result;

/* Allocates the histograms, tables and series of an empty result; 0 or -ENOMEM. */
int stats_result_init(stats_result *r);
/* Frees everything the result owns, config strings included. */
void stats_result_free(stats_result *r);

#endif
