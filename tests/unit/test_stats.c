/* test_stats.c: unit tests of src/stats: histogram accuracy and merging, endpoints, series. */
#include "harness.h"
#include "stats/result.h"
#include "stats/stats.h"

#include <math.h>
#include <stdlib.h>

#define TOP_US (1ULL << 32)

/* Percentiles checked everywhere, in thousandths of a percent so the exact rank is an integer
 * computation that shares nothing with the code under test. */
static const uint64_t pct_milli[] = {0, 50000, 75000, 90000, 95000, 99000, 99900, 99990, 100000};
#define PCT_COUNT (sizeof(pct_milli) / sizeof(pct_milli[0]))

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* splitmix64: a small, fixed-seed generator so every run sees the same samples. */
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double rng_unit(void) {
    return (double)((rng_next() >> 11) + 1) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The histogram's domain: what it promises to report is about samples clamped to 2^32. */
static uint64_t clamp_top(uint64_t v) {
    return v > TOP_US ? TOP_US : v;
}

/*
 * The exact percentile of sorted[0..n): the order statistic of rank ceil(p / 100 * n), at least
 * 1, which is the sample the histogram's bucket search stops on. p = 0 is the minimum and
 * p = 100 the maximum, as stats.h defines them.
 */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, uint64_t p_milli) {
    uint64_t rank = (p_milli * n + 99999) / 100000;
    if (rank < 1) {
        rank = 1;
    }
    return sorted[rank - 1];
}

static int close_rel(double got, double want, double rel) {
    if (want == 0.0) {
        return fabs(got) <= rel;
    }
    return fabs(got - want) <= fabs(want) * rel;
}

#define EXPECT_REL(got, want, rel, what)                                                           \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        if (!close_rel(g_, w_, (rel))) {                                                           \
            fprintf(stderr, "  %s:%d: %s: got %.17g, expected %.17g\n", __FILE__, __LINE__,        \
                    (what), g_, w_);                                                               \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

/*
 * Records samples[0..n) into a histogram and checks every percentile of pct_milli against the
 * exact order statistic (it may only be above it, by at most 0.1%), and count, min, max, mean
 * and stdev against values computed from the samples themselves.
 */
static void check_accuracy(const char *label, const uint64_t *samples, size_t n) {
    stats_hist *h = stats_hist_new();
    uint64_t *sorted = malloc(n * sizeof(uint64_t));
    long double sum = 0, m2 = 0;

    for (size_t i = 0; i < n; i++) {
        stats_hist_record(h, samples[i]);
        sorted[i] = clamp_top(samples[i]);
        sum += sorted[i];
    }
    qsort(sorted, n, sizeof(uint64_t), cmp_u64);
    long double mean = sum / n;
    for (size_t i = 0; i < n; i++) {
        m2 += (sorted[i] - mean) * (sorted[i] - mean);
    }

    for (size_t k = 0; k < PCT_COUNT; k++) {
        uint64_t want = exact_percentile(sorted, n, pct_milli[k]);
        uint64_t got = stats_hist_percentile(h, (double)pct_milli[k] / 1000.0);
        if (got < want || (double)(got - want) > (double)want * 0.001) {
            fprintf(stderr, "  %s:%d: %s p%g: got %" PRIu64 ", exact %" PRIu64 "\n", __FILE__,
                    __LINE__, label, (double)pct_milli[k] / 1000.0, got, want);
            harness_failed_checks++;
        }
    }
    EXPECT_INT(stats_hist_count(h), n);
    EXPECT_INT(stats_hist_min(h), sorted[0]);
    EXPECT_INT(stats_hist_max(h), sorted[n - 1]);
    EXPECT_REL(stats_hist_mean(h), (double)mean, 1e-9, label);
    EXPECT_REL(stats_hist_stdev(h), (double)sqrtl(m2 / n), 1e-9, label);
    free(sorted);
    stats_hist_free(h);
}

#define N_RANDOM 200000

static void test_hist_uniform(void) {
    uint64_t *s = malloc(N_RANDOM * sizeof(uint64_t));
    for (size_t i = 0; i < N_RANDOM; i++) {
        s[i] = 1 + rng_next() % 1000000;
    }
    check_accuracy("uniform 1..1e6", s, N_RANDOM);
    free(s);
}

static void test_hist_log_uniform(void) {
    uint64_t *s = malloc(N_RANDOM * sizeof(uint64_t));
    for (size_t i = 0; i < N_RANDOM; i++) {
        s[i] = (uint64_t)llround(exp(rng_unit() * log(3.6e9)));
    }
    check_accuracy("log-uniform 1..3.6e9", s, N_RANDOM);
    free(s);
}

/* Pareto with shape 0.6 from 500 us: a tail so long that some samples pass 2^32 us. */
static void test_hist_heavy_tail(void) {
    uint64_t *s = malloc(N_RANDOM * sizeof(uint64_t));
    size_t above = 0;
    for (size_t i = 0; i < N_RANDOM; i++) {
        double x = 500.0 * pow(rng_unit(), -1.0 / 0.6);
        s[i] = x >= 1e18 ? UINT64_MAX : (uint64_t)x;
        above += s[i] > TOP_US;
    }
    EXPECT(above > 0);
    check_accuracy("pareto", s, N_RANDOM);
    free(s);
}

static void test_hist_adversarial(void) {
    uint64_t s[4096];
    size_t n = 0;

    for (size_t i = 0; i < 1000; i++) {
        s[i] = 123456789;
    }
    check_accuracy("all equal", s, 1000);

    /* 99.9% of 10000 is rank 9990 exactly, the last 1: a rank rounded up would report 3e9. */
    for (size_t i = 0; i < 4096; i++) {
        s[i] = i < 4092 ? 1 : 3000000000ULL;
    }
    check_accuracy("two values 4092x1 4x3e9", s, 4096);

    for (int k = 0; k <= 40; k++) {
        uint64_t p = 1ULL << k;
        s[n++] = p - 1;
        s[n++] = p;
        s[n++] = p + 1;
    }
    check_accuracy("powers of two", s, n);

    uint64_t edges[] = {0, 1, TOP_US - 1, TOP_US, TOP_US + 1, UINT64_MAX, 0, 2047, 2048, 2049};
    check_accuracy("edges", edges, sizeof(edges) / sizeof(edges[0]));
    check_accuracy("single zero", edges, 1);
    check_accuracy("single top", edges + 3, 1);
    check_accuracy("zero and one", edges, 2);
}

static void test_hist_two_values_boundary(void) {
    uint64_t *s = malloc(10000 * sizeof(uint64_t));
    for (size_t i = 0; i < 10000; i++) {
        s[i] = i < 9990 ? 1000 : 3000000000ULL;
    }
    check_accuracy("two values 9990x1000 10x3e9", s, 10000);

    stats_hist *h = stats_hist_new();
    for (size_t i = 0; i < 10000; i++) {
        stats_hist_record(h, s[i]);
    }
    EXPECT_INT(stats_hist_percentile(h, 99.9), 1000);
    EXPECT(stats_hist_percentile(h, 99.91) >= 3000000000ULL);
    stats_hist_free(h);
    free(s);
}

/* Every bucket holds one value below 2048 and is at most 1/1024 of its lowest value wide above;
 * next reports that lowest value and add_bucket maps any value of the bucket back to it. */
static void test_hist_bucket_width(void) {
    for (int i = 0; i < 20000; i++) {
        uint64_t v = i < 5000 ? (uint64_t)i : (uint64_t)llround(exp(rng_unit() * log(4.3e9)));
        stats_hist *h = stats_hist_new();
        stats_hist *g = stats_hist_new();
        size_t cursor = 0;
        uint64_t low = 0, count = 0, low2 = 0, count2 = 0;

        stats_hist_record(h, v);
        EXPECT(stats_hist_next(h, &cursor, &low, &count) == 1);
        EXPECT(stats_hist_next(h, &cursor, &low, &count) == 0);
        cursor = 0;
        stats_hist_next(h, &cursor, &low, &count);
        if (low > v || (v < 2048 && low != v) || (v - low) * 1024 > low) {
            fprintf(stderr, "  %s:%d: value %" PRIu64 " in bucket from %" PRIu64 "\n", __FILE__,
                    __LINE__, v, low);
            harness_failed_checks++;
        }
        stats_hist_add_bucket(g, v, 3);
        cursor = 0;
        stats_hist_next(g, &cursor, &low2, &count2);
        EXPECT_INT(low2, low);
        EXPECT_INT(count2, 3);
        stats_hist_free(h);
        stats_hist_free(g);
        if (harness_failed_checks > 20) {
            return;
        }
    }
}

static void test_hist_empty_and_reset(void) {
    stats_hist *h = stats_hist_new();
    size_t cursor = 0;
    uint64_t v, c;

    EXPECT_INT(stats_hist_count(h), 0);
    EXPECT_INT(stats_hist_min(h), 0);
    EXPECT_INT(stats_hist_max(h), 0);
    EXPECT_INT(stats_hist_percentile(h, 50), 0);
    EXPECT(stats_hist_mean(h) == 0.0);
    EXPECT(stats_hist_stdev(h) == 0.0);
    EXPECT_INT(stats_hist_next(h, &cursor, &v, &c), 0);

    stats_hist_record(h, 500);
    stats_hist_record(h, 70000);
    stats_hist_reset(h);
    EXPECT_INT(stats_hist_count(h), 0);
    EXPECT_INT(stats_hist_max(h), 0);
    cursor = 0;
    EXPECT_INT(stats_hist_next(h, &cursor, &v, &c), 0);
    stats_hist_record(h, 300);
    EXPECT_INT(stats_hist_min(h), 300);
    EXPECT_INT(stats_hist_max(h), 300);
    EXPECT_INT(stats_hist_percentile(h, 50), 300);
    stats_hist_free(h);
}

/* Two values one apart around 1e6 us: the naive sum-of-squares formula loses the 0.5 spread. */
static void test_hist_stdev_no_cancellation(void) {
    stats_hist *h = stats_hist_new();
    for (int i = 0; i < 100000; i++) {
        stats_hist_record(h, 1000000000 + (i & 1));
    }
    EXPECT_REL(stats_hist_stdev(h), 0.5, 1e-12, "stdev");
    EXPECT_REL(stats_hist_mean(h), 1000000000.5, 1e-15, "mean");
    stats_hist_free(h);
}

static void test_hist_clamped(void) {
    stats_hist *h = stats_hist_new();
    stats_hist_record(h, TOP_US);
    stats_hist_record(h, TOP_US + 1);
    stats_hist_record_n(h, UINT64_MAX, 2);
    EXPECT_INT(stats_hist_clamped(h), 3);
    EXPECT_INT(stats_hist_count(h), 4);
    EXPECT_INT(stats_hist_max(h), TOP_US);
    EXPECT_INT(stats_hist_percentile(h, 50), TOP_US);
    EXPECT(stats_hist_mean(h) == (double)TOP_US);
    EXPECT(stats_hist_stdev(h) == 0.0);

    /* The square of the top value needs 65 bits. */
    stats_hist_reset(h);
    stats_hist_record(h, 0);
    stats_hist_record(h, UINT64_MAX);
    stats_hist_record_n(h, 0, 3);
    stats_hist_record_n(h, TOP_US, 3);
    EXPECT_REL(stats_hist_stdev(h), (double)(TOP_US / 2), 1e-15, "stdev of 0 and 2^32");
    stats_hist_free(h);
}

/* Every observable of a and b is the same: buckets, count, exact fields, percentiles. */
static void expect_same_hist(const stats_hist *a, const stats_hist *b, int exact_stdev) {
    size_t ca = 0, cb = 0;
    uint64_t va, na, vb, nb;
    int ra, rb, buckets = 0;

    do {
        ra = stats_hist_next(a, &ca, &va, &na);
        rb = stats_hist_next(b, &cb, &vb, &nb);
        EXPECT_INT(ra, rb);
        if (ra && rb && (va != vb || na != nb)) {
            fprintf(stderr,
                    "  %s:%d: bucket %d: %" PRIu64 "x%" PRIu64 " vs %" PRIu64 "x%" PRIu64 "\n",
                    __FILE__, __LINE__, buckets, va, na, vb, nb);
            harness_failed_checks++;
            return;
        }
        buckets++;
    } while (ra && rb);

    EXPECT_INT(stats_hist_count(a), stats_hist_count(b));
    EXPECT_INT(stats_hist_min(a), stats_hist_min(b));
    EXPECT_INT(stats_hist_max(a), stats_hist_max(b));
    EXPECT(stats_hist_mean(a) == stats_hist_mean(b));
    EXPECT_REL(stats_hist_stdev(a), stats_hist_stdev(b), exact_stdev ? 0 : 1e-9, "stdev");
    for (int p10 = 0; p10 <= 1000; p10 += 5) {
        EXPECT_INT(stats_hist_percentile(a, p10 / 10.0), stats_hist_percentile(b, p10 / 10.0));
    }
    for (size_t k = 0; k < PCT_COUNT; k++) {
        double p = (double)pct_milli[k] / 1000.0;
        EXPECT_INT(stats_hist_percentile(a, p), stats_hist_percentile(b, p));
    }
}

static uint64_t mixed_sample(int i) {
    switch (i % 4) {
        case 0:
            return 1 + rng_next() % 1000000;
        case 1:
            return (uint64_t)llround(exp(rng_unit() * log(3.6e9)));
        case 2:
            return (uint64_t)(500.0 * fmin(pow(rng_unit(), -1.0 / 1.1), 1e12));
        default:
            return rng_next() % 3000;
    }
}

static void test_hist_merge(void) {
    stats_hist *all = stats_hist_new();
    stats_hist *a = stats_hist_new();
    stats_hist *b = stats_hist_new();
    stats_hist *sum = stats_hist_new();

    for (int i = 0; i < 100000; i++) {
        uint64_t v = mixed_sample(i);
        stats_hist_record(all, v);
        stats_hist_record((rng_next() & 3) ? a : b, v);
    }
    stats_hist_merge(sum, a); /* into an empty one */
    stats_hist_merge(sum, b);
    expect_same_hist(sum, all, 1);
    EXPECT_INT(stats_hist_clamped(sum), stats_hist_clamped(all));

    stats_hist *empty = stats_hist_new();
    stats_hist_merge(a, empty);
    stats_hist_merge(a, b);
    expect_same_hist(a, all, 1);
    stats_hist_free(empty);
    stats_hist_free(all);
    stats_hist_free(a);
    stats_hist_free(b);
    stats_hist_free(sum);
}

static void test_hist_record_n(void) {
    stats_hist *a = stats_hist_new();
    stats_hist *b = stats_hist_new();
    uint64_t values[] = {0, 7, 2047, 2048, 99999, 123456789, TOP_US, TOP_US + 5};

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        stats_hist_record_n(a, values[i], i + 1);
        for (size_t k = 0; k <= i; k++) {
            stats_hist_record(b, values[i]);
        }
    }
    expect_same_hist(a, b, 1);
    stats_hist_free(a);
    stats_hist_free(b);
}

/* What serialisation does: walk the buckets, add them to a fresh histogram, copy the exact
 * fields across. */
static stats_hist *round_trip(const stats_hist *h) {
    stats_hist *out = stats_hist_new();
    size_t cursor = 0;
    uint64_t v, n, min, max;
    double sum, sum_sq;

    while (stats_hist_next(h, &cursor, &v, &n)) {
        stats_hist_add_bucket(out, v, n);
    }
    stats_hist_get_exact(h, &min, &max, &sum, &sum_sq);
    stats_hist_set_exact(out, min, max, sum, sum_sq);
    return out;
}

static void test_hist_round_trip(void) {
    stats_hist *h = stats_hist_new();
    for (int i = 0; i < 50000; i++) {
        stats_hist_record(h, mixed_sample(i));
    }
    stats_hist_record(h, 0);
    stats_hist_record(h, UINT64_MAX);
    stats_hist *copy = round_trip(h);
    expect_same_hist(copy, h, 0);
    stats_hist_free(copy);

    stats_hist *empty = stats_hist_new();
    copy = round_trip(empty);
    expect_same_hist(copy, empty, 1);
    stats_hist_free(copy);
    stats_hist_free(empty);
    stats_hist_free(h);
}

static void test_err_names(void) {
    const char *want[] = {"dns",        "connect", "tls",        "write",      "read",
                          "timeout",    "parse",   "status_4xx", "status_429", "status_5xx",
                          "status_503", "check",   "script"};

    EXPECT_INT(sizeof(want) / sizeof(want[0]), STATS_ERR_COUNT);
    for (int i = 0; i < STATS_ERR_COUNT; i++) {
        EXPECT_STR(stats_err_name(i), want[i]);
        EXPECT_INT(stats_err_from_name(want[i]), i);
    }
    EXPECT(stats_err_name(-1) == NULL);
    EXPECT(stats_err_name(STATS_ERR_COUNT) == NULL);
    EXPECT_INT(stats_err_from_name("status_4XX"), -1);
    EXPECT_INT(stats_err_from_name(""), -1);
    EXPECT_INT(stats_err_from_name(NULL), -1);
}

static void test_err_for_status(void) {
    int status[] = {0,   100, 200, 204, 301, 399, 400, 404, 428, 429,
                    430, 499, 500, 502, 503, 504, 599, 600, 999, -1};
    int want[] = {-1,
                  -1,
                  -1,
                  -1,
                  -1,
                  -1,
                  STATS_ERR_STATUS_4XX,
                  STATS_ERR_STATUS_4XX,
                  STATS_ERR_STATUS_4XX,
                  STATS_ERR_STATUS_429,
                  STATS_ERR_STATUS_4XX,
                  STATS_ERR_STATUS_4XX,
                  STATS_ERR_STATUS_5XX,
                  STATS_ERR_STATUS_5XX,
                  STATS_ERR_STATUS_503,
                  STATS_ERR_STATUS_5XX,
                  STATS_ERR_STATUS_5XX,
                  -1,
                  -1,
                  -1};

    for (size_t i = 0; i < sizeof(status) / sizeof(status[0]); i++) {
        EXPECT_INT(stats_err_for_status(status[i]), want[i]);
    }
}

static void test_counters_add(void) {
    stats_counters a = {1, 2, 3, 4, 5, 6, {0}, {0}};
    stats_counters b = {10, 20, 30, 40, 50, 60, {0}, {0}};

    for (int i = 0; i < STATS_ERR_COUNT; i++) {
        a.errors[i] = i;
        b.errors[i] = 100 * i;
    }
    for (int i = 0; i < 6; i++) {
        a.status_class[i] = i + 1;
        b.status_class[i] = 1000;
    }
    stats_counters_add(&a, &b);
    EXPECT_INT(a.requests, 11);
    EXPECT_INT(a.responses, 22);
    EXPECT_INT(a.ok, 33);
    EXPECT_INT(a.failed, 44);
    EXPECT_INT(a.bytes_in, 55);
    EXPECT_INT(a.bytes_out, 66);
    for (int i = 0; i < STATS_ERR_COUNT; i++) {
        EXPECT_INT(a.errors[i], 101 * i);
    }
    for (int i = 0; i < 6; i++) {
        EXPECT_INT(a.status_class[i], 1001 + i);
    }
}

static stats_endpoint *get(stats_endpoints *t, const char *method, const char *name) {
    return stats_endpoints_get(t, method, name, strlen(name));
}

static void test_endpoints_cap(void) {
    stats_endpoints *t = stats_endpoints_new(3);
    stats_endpoint *a = get(t, "GET", "/a");
    stats_endpoint *b = get(t, "GET", "/b");
    stats_endpoint *pa = get(t, "POST", "/a");

    EXPECT(a != b && a != pa && b != pa);
    EXPECT(get(t, "GET", "/a") == a);
    /* Only the first name_len bytes count, and the row keeps its own copy. */
    char buf[] = "/a?id=7";
    EXPECT(stats_endpoints_get(t, "GET", buf, 2) == a);
    EXPECT_INT(stats_endpoints_count(t), 3);

    stats_endpoint *c = get(t, "GET", "/c");
    stats_endpoint *d = get(t, "PUT", "/d");
    EXPECT(c != NULL && c == d);
    EXPECT_STR(c->method, "*");
    EXPECT_STR(c->name, "(other)");
    EXPECT_INT(stats_endpoints_count(t), 4);
    EXPECT(get(t, "GET", "/b") == b);

    EXPECT(stats_endpoints_at(t, 0) == a);
    EXPECT(stats_endpoints_at(t, 1) == b);
    EXPECT(stats_endpoints_at(t, 2) == pa);
    EXPECT(stats_endpoints_at(t, 3) == c);
    EXPECT_STR(pa->method, "POST");
    EXPECT_STR(pa->name, "/a");
    EXPECT(a->latency != NULL && c->latency != NULL);
    stats_endpoints_free(t);

    t = stats_endpoints_new(0);
    EXPECT_STR(get(t, "GET", "/x")->name, "(other)");
    EXPECT_INT(stats_endpoints_count(t), 1);
    stats_endpoints_free(t);
}

/* A full-size table: growth keeps every row where it was and in first-seen order. */
static void test_endpoints_many(void) {
    stats_endpoints *t = stats_endpoints_new(STATS_ENDPOINTS_CAP);
    stats_endpoint *rows[STATS_ENDPOINTS_CAP];
    char name[32];

    for (int i = 0; i < STATS_ENDPOINTS_CAP; i++) {
        snprintf(name, sizeof(name), "/item/%d", i);
        rows[i] = get(t, i % 2 ? "GET" : "POST", name);
        rows[i]->c.requests = (uint64_t)i;
    }
    EXPECT_INT(stats_endpoints_count(t), STATS_ENDPOINTS_CAP);
    for (int i = 0; i < STATS_ENDPOINTS_CAP; i++) {
        snprintf(name, sizeof(name), "/item/%d", i);
        EXPECT(get(t, i % 2 ? "GET" : "POST", name) == rows[i]);
        EXPECT(stats_endpoints_at(t, (size_t)i) == rows[i]);
        EXPECT_INT(rows[i]->c.requests, i);
    }
    stats_endpoint *other = get(t, "GET", "/item/0");
    EXPECT_STR(other->name, "(other)");
    EXPECT_INT(stats_endpoints_count(t), STATS_ENDPOINTS_CAP + 1);
    stats_endpoints_free(t);
}

static void bump(stats_endpoint *e, uint64_t requests, uint64_t latency_us) {
    e->c.requests += requests;
    e->c.errors[STATS_ERR_TIMEOUT] += 1;
    stats_hist_record_n(e->latency, latency_us, requests);
}

static void test_endpoints_merge(void) {
    stats_endpoints *src = stats_endpoints_new(2);
    stats_endpoints *dst = stats_endpoints_new(2);

    bump(get(src, "GET", "/a"), 2, 100);
    bump(get(src, "GET", "/b"), 3, 200);
    bump(get(src, "GET", "/c"), 4, 300); /* src's "(other)" */
    bump(get(dst, "GET", "/c"), 1, 400);
    stats_endpoints_merge(dst, src);

    /* dst keeps /c, gains /a, and is then full: /b and src's "(other)" go to its "(other)". */
    EXPECT_INT(stats_endpoints_count(dst), 3);
    stats_endpoint *c = stats_endpoints_at(dst, 0);
    stats_endpoint *a = stats_endpoints_at(dst, 1);
    stats_endpoint *other = stats_endpoints_at(dst, 2);
    EXPECT_STR(c->name, "/c");
    EXPECT_INT(c->c.requests, 1);
    EXPECT_STR(a->name, "/a");
    EXPECT_INT(a->c.requests, 2);
    EXPECT_INT(stats_hist_count(a->latency), 2);
    EXPECT_STR(other->method, "*");
    EXPECT_STR(other->name, "(other)");
    EXPECT_INT(other->c.requests, 7);
    EXPECT_INT(other->c.errors[STATS_ERR_TIMEOUT], 2);
    EXPECT_INT(stats_hist_count(other->latency), 7);
    EXPECT_INT(stats_hist_min(other->latency), 200);
    EXPECT_INT(stats_hist_max(other->latency), 300);

    /* Merging into a roomy table sums rows with the same key and keeps src's order. */
    stats_endpoints *big = stats_endpoints_new(100);
    stats_endpoints_merge(big, src);
    stats_endpoints_merge(big, src);
    EXPECT_INT(stats_endpoints_count(big), 3);
    EXPECT_STR(stats_endpoints_at(big, 0)->name, "/a");
    EXPECT_INT(stats_endpoints_at(big, 0)->c.requests, 4);
    EXPECT_STR(stats_endpoints_at(big, 2)->name, "(other)");
    EXPECT_INT(stats_endpoints_at(big, 2)->c.requests, 8);
    EXPECT_INT(stats_hist_count(stats_endpoints_at(big, 2)->latency), 8);

    /* src's "(other)" arriving first does not use up one of dst's distinct keys. */
    stats_endpoints *two = stats_endpoints_new(2);
    stats_endpoints *only_other = stats_endpoints_new(0);
    bump(get(only_other, "GET", "/z"), 1, 100);
    stats_endpoints_merge(two, only_other);
    EXPECT_STR(get(two, "GET", "/x")->name, "/x");
    EXPECT_STR(get(two, "GET", "/y")->name, "/y");
    EXPECT_STR(get(two, "GET", "/w")->name, "(other)");
    EXPECT_INT(stats_endpoints_count(two), 3);

    stats_endpoints_free(only_other);
    stats_endpoints_free(two);
    stats_endpoints_free(src);
    stats_endpoints_free(dst);
    stats_endpoints_free(big);
}

static void test_series_at(void) {
    stats_series *s = stats_series_new();

    EXPECT_INT(stats_series_len(s), 0);
    stats_point *p5 = stats_series_at(s, 5);
    EXPECT(p5 != NULL);
    EXPECT_INT(stats_series_len(s), 6);
    for (uint32_t i = 0; i < 6; i++) {
        stats_point *p = stats_series_at(s, i);
        EXPECT_INT(p->second, i);
        EXPECT(p->latency != NULL);
        EXPECT_INT(p->c.requests, 0);
    }
    p5->c.requests = 9;
    EXPECT(stats_series_at(s, 3000) != NULL);
    EXPECT_INT(stats_series_len(s), 3001);
    EXPECT(stats_series_at(s, 5) == p5);
    EXPECT_INT(p5->c.requests, 9);
    EXPECT_INT(stats_series_len(s), 3001);
    stats_series_free(s);
}

static void test_series_merge(void) {
    stats_series *a = stats_series_new();
    stats_series *b = stats_series_new();

    for (uint32_t i = 0; i < 3; i++) {
        stats_point *p = stats_series_at(a, i);
        p->users = 1;
        p->c.requests = 10 + i;
        stats_hist_record(p->latency, 1000 + i);
    }
    for (uint32_t i = 0; i < 6; i++) {
        stats_point *p = stats_series_at(b, i);
        p->users = 2;
        p->c.ok = 5;
        p->c.requests = 100;
        stats_hist_record_n(p->latency, 50000, 2);
    }
    stats_series_merge(a, b);
    EXPECT_INT(stats_series_len(a), 6);
    for (uint32_t i = 0; i < 6; i++) {
        stats_point *p = stats_series_at(a, i);
        EXPECT_INT(p->second, i);
        EXPECT_INT(p->users, i < 3 ? 3 : 2);
        EXPECT_INT(p->c.requests, i < 3 ? 110 + i : 100);
        EXPECT_INT(p->c.ok, 5);
        EXPECT_INT(stats_hist_count(p->latency), i < 3 ? 3 : 2);
        EXPECT_INT(stats_hist_min(p->latency), i < 3 ? 1000 + i : 50000);
    }
    stats_series_free(a);
    stats_series_free(b);
}

static void test_result_init_free(void) {
    stats_result r;

    memset(&r, 0xa5, sizeof(r)); /* init must not depend on what was there */
    EXPECT_INT(stats_result_init(&r), 0);
    EXPECT(r.latency && r.connect && r.tls && r.ttfb && r.endpoints && r.series);
    EXPECT(r.config.url == NULL && r.config.script == NULL && r.config.header_count == 0);
    EXPECT_INT(r.totals.requests, 0);
    r.config.url = strdup("http://127.0.0.1:8080/");
    r.config.script = strdup("s.lua");
    r.config.mode = strdup("connections");
    r.config.headers[0] = strdup("Host: x");
    r.config.headers[1] = strdup("Authorization: Bearer t");
    r.config.header_count = 2;
    stats_hist_record(r.latency, 1234);
    get(r.endpoints, "GET", "/")->c.requests++;
    stats_series_at(r.series, 10);
    stats_result_free(&r);
    EXPECT(r.latency == NULL && r.endpoints == NULL && r.series == NULL);
    EXPECT(r.config.url == NULL && r.config.headers[0] == NULL);
    stats_result_free(&r); /* a second free is harmless */
}

int main(void) {
    RUN(test_hist_uniform);
    RUN(test_hist_log_uniform);
    RUN(test_hist_heavy_tail);
    RUN(test_hist_adversarial);
    RUN(test_hist_two_values_boundary);
    RUN(test_hist_bucket_width);
    RUN(test_hist_empty_and_reset);
    RUN(test_hist_stdev_no_cancellation);
    RUN(test_hist_clamped);
    RUN(test_hist_merge);
    RUN(test_hist_record_n);
    RUN(test_hist_round_trip);
    RUN(test_err_names);
    RUN(test_err_for_status);
    RUN(test_counters_add);
    RUN(test_endpoints_cap);
    RUN(test_endpoints_many);
    RUN(test_endpoints_merge);
    RUN(test_series_at);
    RUN(test_series_merge);
    RUN(test_result_init_free);
    HARNESS_END();
}
