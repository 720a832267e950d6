/* stats.h: latency histograms, failure counters, endpoint tables and per-second series. */
#ifndef VOLLEY_STATS_H
#define VOLLEY_STATS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Log-linear histogram of microsecond values from 0 to 2^32 us (about 71 minutes; larger
 * values are clamped to the top bucket and counted in `clamped`). Every bucket is at most
 * 1/1024 of its value wide, so any reported percentile is within 0.1% of the exact one.
 * min, max, sum and sum of squares are kept exactly so mean and stdev do not depend on buckets.
 */
typedef struct stats_hist stats_hist;

stats_hist *stats_hist_new(void);
void stats_hist_free(stats_hist *h);
void stats_hist_reset(stats_hist *h);
void stats_hist_record(stats_hist *h, uint64_t value_us);
void stats_hist_record_n(stats_hist *h, uint64_t value_us, uint64_t n);
/* Adds every sample of src to dst: the result equals recording both sets into one histogram. */
void stats_hist_merge(stats_hist *dst, const stats_hist *src);
uint64_t stats_hist_count(const stats_hist *h);
/* Samples above 2^32 us that were recorded as 2^32 (kept by merge, not by get/set_exact). */
uint64_t stats_hist_clamped(const stats_hist *h);
uint64_t stats_hist_min(const stats_hist *h); /* 0 when empty */
uint64_t stats_hist_max(const stats_hist *h); /* 0 when empty */
double stats_hist_mean(const stats_hist *h);
double stats_hist_stdev(const stats_hist *h); /* population stdev, as wrk */
/* Value at percentile p (0..100): the smallest recorded-bucket value v such that at least
 * p% of samples are <= v, reported as the bucket's highest equivalent value clamped to
 * [min, max]. 0 when empty. */
uint64_t stats_hist_percentile(const stats_hist *h, double p);

/* Sparse access for serialisation. stats_hist_next walks non-empty buckets in order:
 * start with *cursor = 0; returns 1 and fills the bucket's lowest value and count, 0 at
 * the end. stats_hist_add_bucket adds count samples to the bucket holding value_us
 * without touching min/max/sum; stats_hist_set_exact then restores the exact fields. */
int stats_hist_next(const stats_hist *h, size_t *cursor, uint64_t *value_us, uint64_t *count);
void stats_hist_add_bucket(stats_hist *h, uint64_t value_us, uint64_t count);
void stats_hist_get_exact(const stats_hist *h, uint64_t *min_us, uint64_t *max_us, double *sum,
                          double *sum_sq);
void stats_hist_set_exact(stats_hist *h, uint64_t min_us, uint64_t max_us, double sum,
                          double sum_sq);

/* Failure classes: a partition of failed requests. Order is the order of output. */
enum stats_err {
    STATS_ERR_DNS,
    STATS_ERR_CONNECT,
    STATS_ERR_TLS,
    STATS_ERR_WRITE,
    STATS_ERR_READ,
    STATS_ERR_TIMEOUT,
    STATS_ERR_PARSE,
    STATS_ERR_STATUS_4XX,
    STATS_ERR_STATUS_429,
    STATS_ERR_STATUS_5XX,
    STATS_ERR_STATUS_503,
    STATS_ERR_CHECK,
    STATS_ERR_SCRIPT,
    STATS_ERR_COUNT
};

/* "dns", "connect", ..., "status_4xx", ..., "script"; NULL for an out-of-range class. */
const char *stats_err_name(int cls);
/* The class for a name, or -1. */
int stats_err_from_name(const char *name);
/* The class a status code fails with (4xx/429/5xx/503), or -1 when it is not a failure. */
int stats_err_for_status(int status);

typedef struct stats_counters {
    uint64_t requests; /* started */
    uint64_t responses; /* complete responses received, whatever their status */
    uint64_t ok;
    uint64_t failed;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t errors[STATS_ERR_COUNT];
    uint64_t status_class[6]; /* [1]..[5] for 1xx..5xx, [0] anything else */
} stats_counters;

void stats_counters_add(stats_counters *dst, const stats_counters *src);

/* One endpoint's figures, keyed by (method, name). */
typedef struct stats_endpoint {
    char *method;
    char *name;
    stats_counters c;
    stats_hist *latency;
} stats_endpoint;

/*
 * Endpoint table, one per thread and one merged. At most `cap` distinct keys; further keys
 * land in a single row named "(other)" whose method is "*". Lookups hash (method, name).
 */
typedef struct stats_endpoints stats_endpoints;

#define STATS_ENDPOINTS_CAP 1000

stats_endpoints *stats_endpoints_new(size_t cap);
void stats_endpoints_free(stats_endpoints *t);
/* The row for (method, name), created on first use; never NULL unless out of memory. The
 * name is taken up to name_len bytes (names need not be NUL-terminated). */
stats_endpoint *stats_endpoints_get(stats_endpoints *t, const char *method, const char *name,
                                    size_t name_len);
void stats_endpoints_merge(stats_endpoints *dst, const stats_endpoints *src);
size_t stats_endpoints_count(const stats_endpoints *t);
/* Rows in first-seen order; i < count. */
stats_endpoint *stats_endpoints_at(const stats_endpoints *t, size_t i);

/* One second of a run: counters and a histogram of the latencies recorded in it. */
typedef struct stats_point {
    uint32_t second; /* 0-based second since the start of the run */
    uint32_t users; /* active users at the end of the second (0 in connection mode) */
    stats_counters c;
    stats_hist *latency;
    int watched; /* the server's figures below were sampled (--watch-pid) */
    double server_cpu_cores; /* CPU the watched processes used in the second, in cores */
    uint64_t server_rss_bytes;
} stats_point;

/* A growable series of points, indexed by second. */
typedef struct stats_series stats_series;

stats_series *stats_series_new(void);
void stats_series_free(stats_series *s);
/* The point for `second`, created (with the points before it) on first use. */
stats_point *stats_series_at(stats_series *s, uint32_t second);
size_t stats_series_len(const stats_series *s);
void stats_series_merge(stats_series *dst, const stats_series *src);

#endif
