/* result.c: allocation and release of a run's result. */
#include "stats/result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Zeroes r and allocates its histograms, endpoint table and series; 0 or -ENOMEM (then r holds
 * nothing to free). */
int stats_result_init(stats_result *r) {
    memset(r, 0, sizeof(*r));
    r->latency = stats_hist_new();
    r->connect = stats_hist_new();
    r->tls = stats_hist_new();
    r->ttfb = stats_hist_new();
    r->endpoints = stats_endpoints_new(STATS_ENDPOINTS_CAP);
    r->series = stats_series_new();
    r->failures = stats_endpoints_new(STATS_ENDPOINTS_CAP);
    r->checks = stats_endpoints_new(STATS_ENDPOINTS_CAP);
    if (!r->latency || !r->connect || !r->tls || !r->ttfb || !r->endpoints || !r->series ||
        !r->failures || !r->checks) {
        stats_result_free(r);
        return -ENOMEM;
    }
    return 0;
}

/* Frees everything r owns, config strings included, and leaves those pointers NULL. */
void stats_result_free(stats_result *r) {
    stats_hist_free(r->latency);
    stats_hist_free(r->connect);
    stats_hist_free(r->tls);
    stats_hist_free(r->ttfb);
    stats_endpoints_free(r->endpoints);
    stats_series_free(r->series);
    stats_endpoints_free(r->failures);
    stats_endpoints_free(r->checks);
    r->failures = r->checks = NULL;
    r->latency = r->connect = r->tls = r->ttfb = NULL;
    r->endpoints = NULL;
    r->series = NULL;

    free(r->config.url);
    free(r->config.script);
    free(r->config.mode);
    free(r->config.preset);
    r->config.url = r->config.script = r->config.mode = r->config.preset = NULL;
    for (size_t i = 0; i < r->config.header_count && i < STATS_MAX_HEADERS; i++) {
        free(r->config.headers[i]);
        r->config.headers[i] = NULL;
    }
    r->config.header_count = 0;
}
