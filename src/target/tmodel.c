/* tmodel.c: the rehearsal server's model: random delays, token buckets and the capacity queue. */
#include "target/tmodel.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/* A token bucket: rate tokens per second, at most burst kept. */
typedef struct {
    double tokens;
    double rate_per_s;
    double burst;
    uint64_t last_ns;
} tmodel_bucket;

static struct {
    pthread_mutex_t lock;
    const tmodel_config *cfg;
    tmodel_bucket openai;
    tmodel_bucket edge;
    int in_use;
    int queued;
    int peak_queued;
    int stopped;
    tmodel_waiter *head, *tail; /* the FIFO queue of claims */
} tmodel_g = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Fills c with the documented defaults. */
void tmodel_config_defaults(tmodel_config *c) {
    memset(c, 0, sizeof(*c));
    c->time_scale = 1.0;
    c->dist = TMODEL_DIST_LOGNORMAL;
    c->chat_lo_ms = 1500;
    c->chat_hi_ms = 4000;
    c->image_lo_ms = 8000;
    c->image_hi_ms = 15000;
    c->pause_ms = 5000;
    c->retry_pause_ms = 8000;
    c->parse_ms = 3000;
    c->signin_ms = 130;
    c->chat_retry_ms = 5000;
    c->image_retry_ms = 10000;
    c->openai_attempts = 3;
    c->openai_rpm = 3500;
    c->capacity = 8;
    c->queue_timeout_ms = 30000;
    c->edge_rate_per_s = 0;
    c->edge_502_rate = 0;
    c->fault = TMODEL_FAULT_NONE;
    c->fault_rate = 0.1;
    c->drip_ms = 2000;
    c->image_bytes = 200000;
    c->shots_lo = 3;
    c->shots_hi = 8;
    c->free_pages = 5;
    c->free_shots = 5;
}

/* Seeds r; the same seed gives the same sequence. */
void tmodel_rng_seed(tmodel_rng *r, uint64_t seed) {
    r->state = seed ^ 0x6a09e667f3bcc909ULL;
}

/* Next 64 random bits. */
uint64_t tmodel_rng_next(tmodel_rng *r) {
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
double tmodel_rng_unit(tmodel_rng *r) {
    return (double)(tmodel_rng_next(r) >> 11) / 9007199254740992.0;
}

/* Uniform integer in [lo, hi]. */
int tmodel_rng_range(tmodel_rng *r, int lo, int hi) {
    if (hi <= lo) {
        return lo;
    }
    return lo + (int)(tmodel_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* A modelled delay of ms, multiplied by the time scale, in whole milliseconds. */
uint64_t tmodel_scaled_ms(const tmodel_config *c, double ms) {
    double v = ms * c->time_scale;
    return v <= 0 ? 0 : (uint64_t)(v + 0.5);
}

/* A standard normal draw (Box-Muller). */
static double tmodel_normal(tmodel_rng *r) {
    double u1 = tmodel_rng_unit(r);
    double u2 = tmodel_rng_unit(r);
    if (u1 < 1e-300) {
        u1 = 1e-300;
    }
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* The log-normal puts lo and hi at its 5th and 95th percentiles, and is clamped to
 * [lo / 2, 2 * hi] so that one unlucky draw cannot stall a test. */
static double tmodel_draw(const tmodel_config *c, tmodel_rng *r, double lo, double hi) {
    if (hi <= lo) {
        return lo;
    }
    if (c->dist == TMODEL_DIST_UNIFORM || lo <= 0) {
        return lo + (hi - lo) * tmodel_rng_unit(r);
    }
    double mu = 0.5 * (log(lo) + log(hi));
    double sigma = (log(hi) - log(lo)) / (2.0 * 1.6449);
    double v = exp(mu + sigma * tmodel_normal(r));
    if (v < lo / 2) {
        v = lo / 2;
    }
    if (v > 2 * hi) {
        v = 2 * hi;
    }
    return v;
}

/* Draws the latency of one OpenAI call of the given kind (already time-scaled), in ms. */
uint64_t tmodel_call_ms(const tmodel_config *c, tmodel_rng *r, tmodel_call kind) {
    double ms = kind == TMODEL_CALL_CHAT ? tmodel_draw(c, r, c->chat_lo_ms, c->chat_hi_ms)
                                         : tmodel_draw(c, r, c->image_lo_ms, c->image_hi_ms);
    return tmodel_scaled_ms(c, ms);
}

static void tmodel_bucket_init(tmodel_bucket *b, double rate_per_s, double burst) {
    b->rate_per_s = rate_per_s;
    b->burst = burst < 1 ? 1 : burst;
    b->tokens = b->burst;
    b->last_ns = uv_hrtime();
}

/* Refills from the time passed and takes one token; caller holds the lock. */
static int tmodel_bucket_take(tmodel_bucket *b) {
    uint64_t now = uv_hrtime();
    b->tokens += (double)(now - b->last_ns) / 1e9 * b->rate_per_s;
    b->last_ns = now;
    if (b->tokens > b->burst) {
        b->tokens = b->burst;
    }
    if (b->tokens < 1.0) {
        return 0;
    }
    b->tokens -= 1.0;
    return 1;
}

/* Sets up the state shared by every worker (limiters, capacity) from c, which must outlive it.
 * Returns 0. */
int tmodel_init(const tmodel_config *c) {
    pthread_mutex_lock(&tmodel_g.lock);
    tmodel_g.cfg = c;
    /* The per-minute budget is a bucket holding one minute's worth, refilled continuously. */
    tmodel_bucket_init(&tmodel_g.openai, c->openai_rpm / 60.0, c->openai_rpm);
    tmodel_bucket_init(&tmodel_g.edge, c->edge_rate_per_s, c->edge_rate_per_s);
    tmodel_g.in_use = 0;
    tmodel_g.queued = 0;
    tmodel_g.peak_queued = 0;
    tmodel_g.stopped = 0;
    tmodel_g.head = NULL;
    tmodel_g.tail = NULL;
    pthread_mutex_unlock(&tmodel_g.lock);
    return 0;
}

/* Releases the shared state; no worker may use it afterwards. */
void tmodel_free(void) {
    pthread_mutex_lock(&tmodel_g.lock);
    tmodel_g.cfg = NULL;
    tmodel_g.head = NULL;
    tmodel_g.tail = NULL;
    pthread_mutex_unlock(&tmodel_g.lock);
}

/* Takes one OpenAI request from the per-minute budget: 1 when allowed, 0 when limited. */
int tmodel_openai_take(void) {
    pthread_mutex_lock(&tmodel_g.lock);
    int ok = tmodel_g.cfg->openai_rpm <= 0 ? 1 : tmodel_bucket_take(&tmodel_g.openai);
    pthread_mutex_unlock(&tmodel_g.lock);
    return ok;
}

/* Takes one request from the hosting layer's budget: 1 when allowed, 0 when it answers 429. */
int tmodel_edge_take(void) {
    if (tmodel_g.cfg->edge_rate_per_s <= 0) {
        return 1;
    }
    pthread_mutex_lock(&tmodel_g.lock);
    int ok = tmodel_bucket_take(&tmodel_g.edge);
    pthread_mutex_unlock(&tmodel_g.lock);
    return ok;
}

/* Unlinks w from a doubly linked list given by its head and tail; caller holds the lock. */
static void tmodel_unlink(tmodel_waiter **head, tmodel_waiter **tail, tmodel_waiter *w) {
    if (w->prev) {
        w->prev->next = w->next;
    } else {
        *head = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    } else {
        *tail = w->prev;
    }
    w->prev = NULL;
    w->next = NULL;
}

static void tmodel_append(tmodel_waiter **head, tmodel_waiter **tail, tmodel_waiter *w) {
    w->next = NULL;
    w->prev = *tail;
    if (*tail) {
        (*tail)->next = w;
    } else {
        *head = w;
    }
    *tail = w;
}

/* Asks for a slot: 1 when held at once, 0 when queued (granted is called later). */
int tmodel_slot_acquire(tmodel_waiter *w) {
    pthread_mutex_lock(&tmodel_g.lock);
    if (tmodel_g.in_use < tmodel_g.cfg->capacity) {
        tmodel_g.in_use++;
        w->state = TMODEL_SLOT_HELD;
        pthread_mutex_unlock(&tmodel_g.lock);
        return 1;
    }
    w->state = TMODEL_SLOT_WAITING;
    tmodel_append(&tmodel_g.head, &tmodel_g.tail, w);
    tmodel_g.queued++;
    if (tmodel_g.queued > tmodel_g.peak_queued) {
        tmodel_g.peak_queued = tmodel_g.queued;
    }
    pthread_mutex_unlock(&tmodel_g.lock);
    return 0;
}

/* Passes a freed slot to the first queued claim, or counts it free; caller holds the lock.
 * Returns the inbox to wake, or NULL. */
static uv_async_t *tmodel_pass_on(void) {
    tmodel_waiter *next = tmodel_g.stopped ? NULL : tmodel_g.head;
    if (!next) {
        tmodel_g.in_use--;
        return NULL;
    }
    tmodel_unlink(&tmodel_g.head, &tmodel_g.tail, next);
    tmodel_g.queued--;
    next->state = TMODEL_SLOT_GRANTED;
    tmodel_append(&next->inbox->head, &next->inbox->tail, next);
    return next->inbox->wake;
}

/* Gives up a claim in any state: leaves the queue or hands the slot on. Owner thread only. */
void tmodel_slot_leave(tmodel_waiter *w) {
    uv_async_t *wake = NULL;
    pthread_mutex_lock(&tmodel_g.lock);
    switch (w->state) {
        case TMODEL_SLOT_WAITING:
            tmodel_unlink(&tmodel_g.head, &tmodel_g.tail, w);
            tmodel_g.queued--;
            break;
        case TMODEL_SLOT_GRANTED:
            tmodel_unlink(&w->inbox->head, &w->inbox->tail, w);
            wake = tmodel_pass_on();
            break;
        case TMODEL_SLOT_HELD:
            wake = tmodel_pass_on();
            break;
        case TMODEL_SLOT_IDLE:
            break;
    }
    w->state = TMODEL_SLOT_IDLE;
    pthread_mutex_unlock(&tmodel_g.lock);
    if (wake) {
        uv_async_send(wake);
    }
}

/* Calls granted for every claim in the inbox; the worker calls it when wake fires. */
void tmodel_inbox_drain(tmodel_inbox *in) {
    for (;;) {
        pthread_mutex_lock(&tmodel_g.lock);
        tmodel_waiter *w = in->head;
        if (w) {
            tmodel_unlink(&in->head, &in->tail, w);
            w->state = TMODEL_SLOT_HELD;
        }
        pthread_mutex_unlock(&tmodel_g.lock);
        if (!w) {
            return;
        }
        w->granted(w);
    }
}

/* Stops handing slots to queued claims (shutdown); releases only count down afterwards. */
void tmodel_stop(void) {
    pthread_mutex_lock(&tmodel_g.lock);
    tmodel_g.stopped = 1;
    pthread_mutex_unlock(&tmodel_g.lock);
}

/* Slots in use and claims queued right now, and the most ever queued. */
void tmodel_capacity_snapshot(int *in_use, int *queued, int *peak_queued) {
    pthread_mutex_lock(&tmodel_g.lock);
    *in_use = tmodel_g.in_use;
    *queued = tmodel_g.queued;
    *peak_queued = tmodel_g.peak_queued;
    pthread_mutex_unlock(&tmodel_g.lock);
}
