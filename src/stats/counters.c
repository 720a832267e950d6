/* counters.c: request counters and the names of the failure classes. */
#include "stats/stats.h"

#include <string.h>

/* Indexed by enum stats_err; the names used in every output. */
static const char *const err_names[STATS_ERR_COUNT] = {
    [STATS_ERR_DNS] = "dns",
    [STATS_ERR_CONNECT] = "connect",
    [STATS_ERR_TLS] = "tls",
    [STATS_ERR_WRITE] = "write",
    [STATS_ERR_READ] = "read",
    [STATS_ERR_TIMEOUT] = "timeout",
    [STATS_ERR_PARSE] = "parse",
    [STATS_ERR_STATUS_4XX] = "status_4xx",
    [STATS_ERR_STATUS_429] = "status_429",
    [STATS_ERR_STATUS_5XX] = "status_5xx",
    [STATS_ERR_STATUS_503] = "status_503",
    [STATS_ERR_CHECK] = "check",
    [STATS_ERR_SCRIPT] = "script",
};

/* The name of failure class cls, NULL when cls is out of range. */
const char *stats_err_name(int cls) {
    if (cls < 0 || cls >= STATS_ERR_COUNT) {
        return NULL;
    }
    return err_names[cls];
}

/* The class named name, or -1. */
int stats_err_from_name(const char *name) {
    if (name == NULL) {
        return -1;
    }
    for (int i = 0; i < STATS_ERR_COUNT; i++) {
        if (strcmp(err_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

/* The class a response status fails with: 429 and 503 have their own, other 4xx and 5xx share
 * one each; -1 for every other status. */
int stats_err_for_status(int status) {
    if (status == 429) {
        return STATS_ERR_STATUS_429;
    }
    if (status == 503) {
        return STATS_ERR_STATUS_503;
    }
    if (status >= 400 && status <= 499) {
        return STATS_ERR_STATUS_4XX;
    }
    if (status >= 500 && status <= 599) {
        return STATS_ERR_STATUS_5XX;
    }
    return -1;
}

/* Adds every counter of src to dst. */
void stats_counters_add(stats_counters *dst, const stats_counters *src) {
    dst->requests += src->requests;
    dst->responses += src->responses;
    dst->ok += src->ok;
    dst->failed += src->failed;
    dst->bytes_in += src->bytes_in;
    dst->bytes_out += src->bytes_out;
    for (int i = 0; i < STATS_ERR_COUNT; i++) {
        dst->errors[i] += src->errors[i];
    }
    for (int i = 0; i < 6; i++) {
        dst->status_class[i] += src->status_class[i];
    }
}
