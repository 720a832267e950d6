/* tstats.c: the rehearsal server's counters, shared by every worker thread under one lock. */
#include "target/tstats.h"

#include <pthread.h>
#include <string.h>

#include <uv.h>

static const char *const tstats_names[TSTATS_EVENT_COUNT] = {
    [TSTATS_CONN_ACCEPTED] = "connections_accepted",
    [TSTATS_CONN_CLOSED] = "connections_closed",
    [TSTATS_ABORTED] = "aborted",
    [TSTATS_FAULT_RESET] = "fault_reset",
    [TSTATS_FAULT_STALL] = "fault_stall",
    [TSTATS_FAULT_GARBAGE] = "fault_garbage",
    [TSTATS_FAULT_DRIP] = "fault_drip",
    [TSTATS_EDGE_429] = "edge_429",
    [TSTATS_EDGE_502] = "edge_502",
    [TSTATS_OPENAI_CALLS] = "openai_calls",
    [TSTATS_OPENAI_LIMITED] = "openai_limited",
    [TSTATS_OPENAI_RETRIES] = "openai_retries",
    [TSTATS_OPENAI_EXHAUSTED] = "openai_exhausted",
    [TSTATS_QUEUE_TIMEOUTS] = "queue_timeouts",
    [TSTATS_IMAGES] = "images",
    [TSTATS_BAD_REQUESTS] = "bad_requests",
};

static struct {
    pthread_mutex_t lock;
    tstats_snapshot s;
    uint64_t start_ns;
    uint64_t reset_ns;
} tstats_g = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Zeroes every counter and starts the clocks. */
void tstats_init(void) {
    pthread_mutex_lock(&tstats_g.lock);
    memset(&tstats_g.s, 0, sizeof(tstats_g.s));
    tstats_g.start_ns = uv_hrtime();
    tstats_g.reset_ns = tstats_g.start_ns;
    pthread_mutex_unlock(&tstats_g.lock);
}

/* Counts one request received for a route (its index in the route table). */
void tstats_request(int route) {
    pthread_mutex_lock(&tstats_g.lock);
    tstats_g.s.requests++;
    if (route >= 0 && route < TSTATS_MAX_ROUTES) {
        tstats_g.s.route_requests[route]++;
    }
    pthread_mutex_unlock(&tstats_g.lock);
}

/* Counts one response written whole for a route, by status. */
void tstats_response(int route, int status) {
    if (status < 0 || status >= TSTATS_STATUS_MAX) {
        status = 0;
    }
    pthread_mutex_lock(&tstats_g.lock);
    tstats_g.s.responses++;
    tstats_g.s.status[status]++;
    if (route >= 0 && route < TSTATS_MAX_ROUTES) {
        tstats_g.s.route_status[route][status]++;
    }
    pthread_mutex_unlock(&tstats_g.lock);
}

/* Counts n occurrences of an event. */
void tstats_add(tstats_event ev, uint64_t n) {
    pthread_mutex_lock(&tstats_g.lock);
    tstats_g.s.events[ev] += n;
    pthread_mutex_unlock(&tstats_g.lock);
}

/* Copies every counter into out (the caller's memory, which is large: allocate it). */
void tstats_read(tstats_snapshot *out) {
    uint64_t now = uv_hrtime();
    pthread_mutex_lock(&tstats_g.lock);
    *out = tstats_g.s;
    out->uptime_s = (double)(now - tstats_g.start_ns) / 1e9;
    out->since_reset_s = (double)(now - tstats_g.reset_ns) / 1e9;
    pthread_mutex_unlock(&tstats_g.lock);
}

/* Zeroes every counter except the connection gauge (POST /__target/reset). */
void tstats_reset(void) {
    pthread_mutex_lock(&tstats_g.lock);
    uint64_t accepted = tstats_g.s.events[TSTATS_CONN_ACCEPTED];
    uint64_t closed = tstats_g.s.events[TSTATS_CONN_CLOSED];
    memset(&tstats_g.s, 0, sizeof(tstats_g.s));
    /* Open connections stay a gauge across resets: keep its two halves apart from the rest. */
    tstats_g.s.events[TSTATS_CONN_ACCEPTED] = accepted - closed;
    tstats_g.reset_ns = uv_hrtime();
    pthread_mutex_unlock(&tstats_g.lock);
}

/* The name of an event in the stats JSON. */
const char *tstats_event_name(tstats_event ev) {
    return tstats_names[ev];
}
