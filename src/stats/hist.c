/* hist.c: the log-linear latency histogram, with exact min, max, mean and stdev beside it. */
#include "stats/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Layout. Values below 2048 us each have a bucket of their own. Above that, every power-of-two
 * range [2^k, 2^(k+1)) is cut into 1024 equal buckets of width 2^(k-10); a bucket's width is
 * then at most 1/1024 of the smallest value it holds, so reporting its highest value is never
 * more than 0.1% above any sample in it. The top of the range, 2^32 us, starts the last group;
 * larger values are recorded as 2^32, so only the first bucket of that group is ever used.
 *
 * With s = max(0, msb(v) - 10), the index is (s << 10) + (v >> s): for v < 2048 that is v,
 * and for larger v the shifted value lies in [1024, 2048), which lands group s at
 * [(s + 1) * 1024, (s + 2) * 1024). OR-ing 1024 into v before counting leading zeros makes the
 * small values come out with s = 0, so the index needs no branch.
 *
 * Counts live in chunks of HIST_CHUNK buckets, allocated on the first sample that needs them, so
 * an empty histogram costs about 1.5 KB and one of close-together samples a few KB more; samples
 * spread over several octaves still cost up to 8 bytes per bucket of their range (tens of KB).
 */
#define HIST_SUB_BITS 10
#define HIST_TOP_US (1ULL << 32)
#define HIST_BUCKETS (((32 - HIST_SUB_BITS + 1) << HIST_SUB_BITS) + 1)
#define HIST_CHUNK_BITS 8
#define HIST_CHUNK (1u << HIST_CHUNK_BITS)
#define HIST_CHUNKS ((HIST_BUCKETS + HIST_CHUNK - 1) / HIST_CHUNK)

/*
 * Sums are kept as 128-bit integers, which cannot round: a value is at most 2^32, its square at
 * most 2^64 (one more than 64 bits hold, hence the widening before multiplying), and 2^64
 * samples of the largest value would be needed to overflow the sum of squares. Mean and stdev
 * are computed from them only when asked.
 */
struct stats_hist {
    uint64_t count;
    uint64_t clamped;
    uint64_t min_us; /* UINT64_MAX while empty */
    uint64_t max_us;
    unsigned __int128 sum;
    unsigned __int128 sum_sq;
    uint64_t *chunks[HIST_CHUNKS];
};

static inline size_t hist_index(uint64_t v) {
    unsigned s = (unsigned)(63 - __builtin_clzll(v | (1u << HIST_SUB_BITS))) - HIST_SUB_BITS;

    return ((size_t)s << HIST_SUB_BITS) + (size_t)(v >> s);
}

/* The smallest value that maps to bucket idx. */
static uint64_t hist_lowest(size_t idx) {
    if (idx < (2u << HIST_SUB_BITS)) {
        return idx;
    }
    unsigned s = (unsigned)(idx >> HIST_SUB_BITS) - 1;
    uint64_t sub = (idx & ((1u << HIST_SUB_BITS) - 1)) | (1u << HIST_SUB_BITS);

    return sub << s;
}

/* The largest value that maps to bucket idx. */
static uint64_t hist_highest(size_t idx) {
    if (idx < (2u << HIST_SUB_BITS)) {
        return idx;
    }
    unsigned s = (unsigned)(idx >> HIST_SUB_BITS) - 1;

    return hist_lowest(idx) + (1ULL << s) - 1;
}

/* The counter of bucket idx, allocating its chunk; NULL when out of memory. */
static uint64_t *hist_slot(stats_hist *h, size_t idx) {
    uint64_t **chunk = &h->chunks[idx >> HIST_CHUNK_BITS];

    if (__builtin_expect(*chunk == NULL, 0)) {
        *chunk = calloc(HIST_CHUNK, sizeof(uint64_t));
        if (*chunk == NULL) {
            return NULL;
        }
    }
    return &(*chunk)[idx & (HIST_CHUNK - 1)];
}

/* An empty histogram; NULL when out of memory. Free it with stats_hist_free. */
stats_hist *stats_hist_new(void) {
    stats_hist *h = calloc(1, sizeof(*h));

    if (h != NULL) {
        h->min_us = UINT64_MAX;
    }
    return h;
}

/* Frees h and its buckets; NULL is accepted. */
void stats_hist_free(stats_hist *h) {
    if (h == NULL) {
        return;
    }
    for (size_t i = 0; i < HIST_CHUNKS; i++) {
        free(h->chunks[i]);
    }
    free(h);
}

/* Empties h, keeping its allocated buckets for reuse. */
void stats_hist_reset(stats_hist *h) {
    for (size_t i = 0; i < HIST_CHUNKS; i++) {
        if (h->chunks[i] != NULL) {
            memset(h->chunks[i], 0, HIST_CHUNK * sizeof(uint64_t));
        }
    }
    h->count = 0;
    h->clamped = 0;
    h->min_us = UINT64_MAX;
    h->max_us = 0;
    h->sum = 0;
    h->sum_sq = 0;
}

/*
 * Records n samples of value_us (values above 2^32 us are recorded as 2^32). If a bucket chunk
 * cannot be allocated the samples still count in count, min, max, mean and stdev, but not in
 * percentiles.
 */
void stats_hist_record_n(stats_hist *h, uint64_t value_us, uint64_t n) {
    int over = value_us > HIST_TOP_US;
    uint64_t v = over ? HIST_TOP_US : value_us;
    uint64_t *slot = hist_slot(h, hist_index(v));

    if (slot != NULL) {
        *slot += n;
    }
    h->count += n;
    h->clamped += over ? n : 0;
    h->min_us = v < h->min_us ? v : h->min_us;
    h->max_us = v > h->max_us ? v : h->max_us;
    h->sum += (unsigned __int128)v * n;
    h->sum_sq += (unsigned __int128)v * v * n;
}

/* Records one sample; the hot path of every request. */
void stats_hist_record(stats_hist *h, uint64_t value_us) {
    uint64_t v = value_us > HIST_TOP_US ? HIST_TOP_US : value_us;
    size_t idx = hist_index(v);
    uint64_t *chunk = h->chunks[idx >> HIST_CHUNK_BITS];

    if (__builtin_expect(chunk == NULL, 0)) {
        stats_hist_record_n(h, value_us, 1);
        return;
    }
    chunk[idx & (HIST_CHUNK - 1)]++;
    h->count++;
    h->clamped += value_us > HIST_TOP_US;
    h->min_us = v < h->min_us ? v : h->min_us;
    h->max_us = v > h->max_us ? v : h->max_us;
    h->sum += v;
    h->sum_sq += (unsigned __int128)v * v;
}

/* Adds every sample of src to dst (buckets that cannot be allocated are lost, see record_n). */
void stats_hist_merge(stats_hist *dst, const stats_hist *src) {
    for (size_t c = 0; c < HIST_CHUNKS; c++) {
        if (src->chunks[c] == NULL) {
            continue;
        }
        uint64_t *d = hist_slot(dst, c << HIST_CHUNK_BITS);
        if (d == NULL) {
            continue;
        }
        for (size_t i = 0; i < HIST_CHUNK; i++) {
            d[i] += src->chunks[c][i];
        }
    }
    dst->count += src->count;
    dst->clamped += src->clamped;
    dst->min_us = src->min_us < dst->min_us ? src->min_us : dst->min_us;
    dst->max_us = src->max_us > dst->max_us ? src->max_us : dst->max_us;
    dst->sum += src->sum;
    dst->sum_sq += src->sum_sq;
}

/* Number of samples recorded. */
uint64_t stats_hist_count(const stats_hist *h) {
    return h->count;
}

/* Number of samples that were above 2^32 us and recorded as 2^32 (not carried by
 * get_exact/set_exact). */
uint64_t stats_hist_clamped(const stats_hist *h) {
    return h->clamped;
}

/* Smallest sample, 0 when empty. */
uint64_t stats_hist_min(const stats_hist *h) {
    return h->count ? h->min_us : 0;
}

/* Largest sample, 0 when empty. */
uint64_t stats_hist_max(const stats_hist *h) {
    return h->count ? h->max_us : 0;
}

/* Arithmetic mean of the samples, 0 when empty. */
double stats_hist_mean(const stats_hist *h) {
    if (h->count == 0) {
        return 0.0;
    }
    return (double)((long double)h->sum / (long double)h->count);
}

/*
 * Population standard deviation, 0 when empty. The sum of squared deviations is
 * sum_sq - sum^2 / n. Writing sum = q * n + r (0 <= r < n) turns sum^2 / n into
 * q^2 * n + 2 * q * r + r^2 / n, whose first two terms are integers: they are subtracted exactly
 * and only the small fraction r^2 / n is rounded, so equal samples give exactly 0 and nearby
 * ones do not lose their spread to cancellation.
 */
double stats_hist_stdev(const stats_hist *h) {
    if (h->count == 0) {
        return 0.0;
    }
    unsigned __int128 n = h->count;
    unsigned __int128 q = h->sum / n;
    unsigned __int128 r = h->sum % n;
    unsigned __int128 whole = q * q * n + 2 * q * r;
    /* After set_exact from rounded doubles the sums may disagree slightly; never go below 0. */
    if (whole > h->sum_sq) {
        return 0.0;
    }
    long double m2 = (long double)(h->sum_sq - whole) - (long double)r * (long double)r / n;

    return m2 > 0 ? (double)sqrtl(m2 / (long double)n) : 0.0;
}

/*
 * The rank of percentile p among count samples: ceil(p / 100 * count), at least 1. p arrives
 * as a double (99.9 is not exact in binary), so a product within rounding noise of an integer
 * is taken as that integer; otherwise 99.9% of 1000 samples would be rank 1000, not 999.
 */
static uint64_t hist_rank(double p, uint64_t count) {
    double x = p / 100.0 * (double)count;
    double nearest = nearbyint(x);

    if (fabs(x - nearest) <= x * 1e-12) {
        x = nearest;
    }
    double rank = ceil(x);
    if (rank < 1.0) {
        return 1;
    }
    return rank >= (double)count ? count : (uint64_t)rank;
}

/* The value at percentile p as stats.h defines it; 0 when empty. */
uint64_t stats_hist_percentile(const stats_hist *h, double p) {
    if (h->count == 0) {
        return 0;
    }
    if (!(p > 0.0)) {
        return h->min_us;
    }
    if (p >= 100.0) {
        return h->max_us;
    }
    uint64_t rank = hist_rank(p, h->count);
    uint64_t seen = 0;

    for (size_t c = 0; c < HIST_CHUNKS; c++) {
        const uint64_t *chunk = h->chunks[c];
        if (chunk == NULL) {
            continue;
        }
        for (size_t i = 0; i < HIST_CHUNK; i++) {
            seen += chunk[i];
            if (seen >= rank) {
                uint64_t v = hist_highest((c << HIST_CHUNK_BITS) + i);
                v = v < h->min_us ? h->min_us : v;
                return v > h->max_us ? h->max_us : v;
            }
        }
    }
    /* Only reachable when buckets were lost to a failed allocation. */
    return h->max_us;
}

/* Walks the non-empty buckets from *cursor (0 to start): 1 with the bucket's lowest value and
 * its count, 0 after the last. */
int stats_hist_next(const stats_hist *h, size_t *cursor, uint64_t *value_us, uint64_t *count) {
    size_t idx = *cursor;

    while (idx < HIST_BUCKETS) {
        const uint64_t *chunk = h->chunks[idx >> HIST_CHUNK_BITS];
        if (chunk == NULL) {
            idx = ((idx >> HIST_CHUNK_BITS) + 1) << HIST_CHUNK_BITS;
            continue;
        }
        uint64_t n = chunk[idx & (HIST_CHUNK - 1)];
        if (n != 0) {
            *value_us = hist_lowest(idx);
            *count = n;
            *cursor = idx + 1;
            return 1;
        }
        idx++;
    }
    *cursor = HIST_BUCKETS;
    return 0;
}

/* Adds count samples to the bucket holding value_us; min, max and sums are left alone. */
void stats_hist_add_bucket(stats_hist *h, uint64_t value_us, uint64_t count) {
    uint64_t v = value_us > HIST_TOP_US ? HIST_TOP_US : value_us;
    uint64_t *slot = hist_slot(h, hist_index(v));

    if (slot != NULL) {
        *slot += count;
    }
    h->count += count;
}

/* The exact fields, for serialisation; min and max are 0 when empty. */
void stats_hist_get_exact(const stats_hist *h, uint64_t *min_us, uint64_t *max_us, double *sum,
                          double *sum_sq) {
    *min_us = stats_hist_min(h);
    *max_us = stats_hist_max(h);
    *sum = (double)h->sum;
    *sum_sq = (double)h->sum_sq;
}

/* A stored sum back as an integer: 0 for negative or NaN, saturated above 2^128. */
static unsigned __int128 hist_from_double(double d) {
    if (!(d > 0)) {
        return 0;
    }
    if (d >= 0x1p128) {
        return ~(unsigned __int128)0;
    }
    return (unsigned __int128)d;
}

/* Restores the exact fields after add_bucket (values above 2^32 us are clamped like samples). */
void stats_hist_set_exact(stats_hist *h, uint64_t min_us, uint64_t max_us, double sum,
                          double sum_sq) {
    min_us = min_us > HIST_TOP_US ? HIST_TOP_US : min_us;
    max_us = max_us > HIST_TOP_US ? HIST_TOP_US : max_us;
    h->min_us = h->count ? min_us : UINT64_MAX;
    h->max_us = h->count ? max_us : 0;
    h->sum = hist_from_double(sum);
    h->sum_sq = hist_from_double(sum_sq);
}
