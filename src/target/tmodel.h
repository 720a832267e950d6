/* tmodel.h: what makes the rehearsal server slow or fail: delays, OpenAI limits, capacity, edge. */
#ifndef VOLLEY_TMODEL_H
#define VOLLEY_TMODEL_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef enum { TMODEL_DIST_LOGNORMAL, TMODEL_DIST_UNIFORM } tmodel_dist;

typedef enum {
    TMODEL_FAULT_NONE,
    TMODEL_FAULT_RESET,
    TMODEL_FAULT_STALL,
    TMODEL_FAULT_GARBAGE,
    TMODEL_FAULT_DRIP,
} tmodel_fault;

typedef enum { TMODEL_CALL_CHAT, TMODEL_CALL_IMAGE } tmodel_call;

/* Every knob of the model; tmodel_config_defaults documents the defaults (see docs/target.md). */
typedef struct {
    double time_scale; /* multiplies every modelled delay */
    uint64_t seed; /* 0: taken from the clock */
    tmodel_dist dist;
    double chat_lo_ms, chat_hi_ms; /* GPT call latency range */
    double image_lo_ms, image_hi_ms; /* DALL-E call latency range */
    double pause_ms; /* between two images of a batch */
    double retry_pause_ms; /* between two images of the second pass */
    double parse_ms; /* how long a parse job stays "processing" */
    double signin_ms; /* password check (bcrypt on the real server) */
    double chat_retry_ms; /* wait after a limited GPT call, times the attempt number */
    double image_retry_ms; /* wait after a limited image call, times the attempt number */
    int openai_attempts; /* tries per OpenAI call before giving up */
    double openai_rpm; /* OpenAI requests per minute, shared by all users */
    int capacity; /* concurrent generations */
    double queue_timeout_ms; /* how long a generation waits for a free slot */
    double edge_rate_per_s; /* hosting-layer request rate before 429s; 0: off */
    double edge_502_rate; /* share of requests answered 502 by the hosting layer */
    tmodel_fault fault;
    double fault_rate; /* share of responses spoiled by the fault */
    double drip_ms; /* how long a dripped response takes */
    size_t image_bytes; /* base64 length of one image */
    int shots_lo, shots_hi; /* shots a scene's shot list holds */
    int free_pages, free_shots; /* free-tier limits */
} tmodel_config;

/* Fills c with the documented defaults. */
void tmodel_config_defaults(tmodel_config *c);

/* A small, fast pseudo-random generator (splitmix64); one per worker thread. */
typedef struct {
    uint64_t state;
} tmodel_rng;

/* Seeds r; the same seed gives the same sequence. */
void tmodel_rng_seed(tmodel_rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t tmodel_rng_next(tmodel_rng *r);

/* Uniform in [0, 1). */
double tmodel_rng_unit(tmodel_rng *r);

/* Uniform integer in [lo, hi]. */
int tmodel_rng_range(tmodel_rng *r, int lo, int hi);

/* A modelled delay of ms, multiplied by the time scale, in whole milliseconds. */
uint64_t tmodel_scaled_ms(const tmodel_config *c, double ms);

/* Draws the latency of one OpenAI call of the given kind (already time-scaled), in ms. */
uint64_t tmodel_call_ms(const tmodel_config *c, tmodel_rng *r, tmodel_call kind);

/* Sets up the state shared by every worker (limiters, capacity) from c, which must outlive it.
 * Returns 0. */
int tmodel_init(const tmodel_config *c);

/* Releases the shared state; no worker may use it afterwards. */
void tmodel_free(void);

/* Takes one OpenAI request from the per-minute budget: 1 when allowed, 0 when limited. */
int tmodel_openai_take(void);

/* Takes one request from the hosting layer's budget: 1 when allowed, 0 when it answers 429. */
int tmodel_edge_take(void);

/* ---- capacity: a counting semaphore with a FIFO queue shared by every worker thread ---- */

typedef struct tmodel_inbox tmodel_inbox;

typedef enum {
    TMODEL_SLOT_IDLE, /* neither holds nor waits */
    TMODEL_SLOT_WAITING, /* in the queue */
    TMODEL_SLOT_GRANTED, /* handed a slot, in its worker's inbox, not yet told */
    TMODEL_SLOT_HELD, /* holds a slot */
} tmodel_slot_state;

/* One claim on the capacity. The owner embeds it and sets inbox and granted; granted is called
 * on the inbox's thread when a queued claim gets its slot. */
typedef struct tmodel_waiter {
    struct tmodel_waiter *prev, *next;
    tmodel_inbox *inbox;
    tmodel_slot_state state;
    void (*granted)(struct tmodel_waiter *w);
} tmodel_waiter;

/* Where granted claims wait for their worker thread; the worker owns wake. */
struct tmodel_inbox {
    tmodel_waiter *head, *tail;
    uv_async_t *wake;
};

/* Asks for a slot: 1 when held at once, 0 when queued (granted is called later). */
int tmodel_slot_acquire(tmodel_waiter *w);

/* Gives up a claim in any state: leaves the queue or hands the slot on. Owner thread only. */
void tmodel_slot_leave(tmodel_waiter *w);

/* Calls granted for every claim in the inbox; the worker calls it when wake fires. */
void tmodel_inbox_drain(tmodel_inbox *in);

/* Stops handing slots to queued claims (shutdown); releases only count down afterwards. */
void tmodel_stop(void);

/* Slots in use and claims queued right now, and the most ever queued. */
void tmodel_capacity_snapshot(int *in_use, int *queued, int *peak_queued);

#endif
