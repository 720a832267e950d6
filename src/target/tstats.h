/* tstats.h: the rehearsal server's counters: requests per route and status, faults, OpenAI. */
#ifndef VOLLEY_TSTATS_H
#define VOLLEY_TSTATS_H

#include <stdint.h>

#define TSTATS_MAX_ROUTES 64
#define TSTATS_STATUS_MAX 600

typedef enum {
    TSTATS_CONN_ACCEPTED,
    TSTATS_CONN_CLOSED,
    TSTATS_ABORTED, /* requests dropped unanswered when their connection closed */
    TSTATS_FAULT_RESET,
    TSTATS_FAULT_STALL,
    TSTATS_FAULT_GARBAGE,
    TSTATS_FAULT_DRIP,
    TSTATS_EDGE_429,
    TSTATS_EDGE_502,
    TSTATS_OPENAI_CALLS, /* attempts, limited or not */
    TSTATS_OPENAI_LIMITED, /* attempts refused by the per-minute limit */
    TSTATS_OPENAI_RETRIES, /* waits before another attempt */
    TSTATS_OPENAI_EXHAUSTED, /* calls that gave up after their last attempt */
    TSTATS_QUEUE_TIMEOUTS, /* generations that waited too long for a slot */
    TSTATS_IMAGES, /* images generated (PNG built and encoded) */
    TSTATS_BAD_REQUESTS, /* unparseable requests, oversized bodies or headers */
    TSTATS_EVENT_COUNT
} tstats_event;

/* A copy of every counter at one moment. */
typedef struct {
    uint64_t requests;
    uint64_t responses;
    uint64_t route_requests[TSTATS_MAX_ROUTES];
    uint64_t route_status[TSTATS_MAX_ROUTES][TSTATS_STATUS_MAX];
    uint64_t status[TSTATS_STATUS_MAX];
    uint64_t events[TSTATS_EVENT_COUNT];
    double uptime_s;
    double since_reset_s;
} tstats_snapshot;

/* Zeroes every counter and starts the clocks. */
void tstats_init(void);

/* Counts one request received for a route (its index in the route table). */
void tstats_request(int route);

/* Counts one response written whole for a route, by status. */
void tstats_response(int route, int status);

/* Counts n occurrences of an event. */
void tstats_add(tstats_event ev, uint64_t n);

/* Copies every counter into out (the caller's memory, which is large: allocate it). */
void tstats_read(tstats_snapshot *out);

/* Zeroes every counter except the connection gauge (POST /__target/reset). */
void tstats_reset(void);

/* The name of an event in the stats JSON. */
const char *tstats_event_name(tstats_event ev);

#endif
