/* test_verdict.c: unit tests of the verdict: bands at their edges, the guide's three sample
 * runs fed as saved results, bottlenecks, cost per user, band overrides, marks. */
#include "harness.h"
#include "report/json.h"
#include "report/verdict.h"
#include "stats/result.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Checks that text contains (or, with want 0, lacks) needle, printing the text when not. */
#define EXPECT_HAS(text, needle, want)                                                             \
    do {                                                                                           \
        const char *ht_ = (text), *hn_ = (needle);                                                 \
        if ((strstr(ht_, hn_) != NULL) != (want)) {                                                \
            fprintf(stderr, "  %s:%d: expected %s\"%s\" in:\n%s\n", __FILE__, __LINE__,            \
                    (want) ? "" : "no ", hn_, ht_);                                                \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

#define EXPECT_GRADE(got, want) EXPECT_STR(report_grade_name(got), report_grade_name(want))

enum {
    EXC = REPORT_GRADE_EXCELLENT,
    GOOD = REPORT_GRADE_GOOD,
    WARN = REPORT_GRADE_WARNING,
    POOR = REPORT_GRADE_POOR
};

static char tmp_dir[] = "/tmp/volley-test-verdict-XXXXXX";

/* Counts one completed request into the totals: ok, or failed with class cls. */
static void add_requests(stats_result *r, uint64_t n, int cls) {
    stats_counters *t = &r->totals;

    t->requests += n;
    if (cls < 0) {
        t->ok += n;
        t->responses += n;
        t->status_class[2] += n;
        return;
    }
    t->failed += n;
    t->errors[cls] += n;
    if (cls == STATS_ERR_STATUS_4XX || cls == STATS_ERR_STATUS_429) {
        t->responses += n;
        t->status_class[4] += n;
    } else if (cls == STATS_ERR_STATUS_5XX || cls == STATS_ERR_STATUS_503) {
        t->responses += n;
        t->status_class[5] += n;
    }
}

/*
 * Records n latencies whose mean is exactly avg_us and whose largest is max_us: one sample at
 * the maximum, the rest split between two neighbouring values so the sum comes out exact.
 */
static void record_latencies(stats_hist *h, uint64_t n, uint64_t avg_us, uint64_t max_us) {
    uint64_t rest_sum = n ? n * avg_us - max_us : 0, rest = n ? n - 1 : 0;
    uint64_t q = rest ? rest_sum / rest : 0, extra = rest ? rest_sum % rest : 0;

    if (n == 0) {
        return;
    }
    stats_hist_record(h, max_us);
    if (extra > 0) {
        stats_hist_record_n(h, q + 1, extra);
    }
    if (rest > extra) {
        stats_hist_record_n(h, q, rest - extra);
    }
}

/* A run of `users` users with `total` completed requests, `ok` of them ok and the others
 * failed with class cls, whose latencies average avg_ms and peak at max_ms. */
static void build_run(stats_result *r, uint32_t users, uint64_t total, uint64_t ok, int cls,
                      uint64_t avg_ms, uint64_t max_ms) {
    EXPECT_INT(stats_result_init(r), 0);
    r->config.url = strdup("http://127.0.0.1:9/");
    r->config.mode = strdup("users");
    r->config.threads = 1;
    r->config.users = users;
    r->config.spawn_rate = 1;
    r->config.duration_ms = 60000;
    r->users_peak = users;
    r->duration_s = 60;
    snprintf(r->started_at, sizeof(r->started_at), "2026-12-03T10:00:00Z");
    add_requests(r, ok, -1);
    add_requests(r, total - ok, cls);
    record_latencies(r->latency, total, avg_ms * 1000, max_ms * 1000);
}

/* Writes r as a results file and reads it back into *back (the guide's runs "as saved"). */
static void save_and_read(const stats_result *r, const char *name, stats_result *back) {
    char path[4096], err[256];

    EXPECT_INT(report_json_write(r, tmp_dir, name, path, sizeof(path)), 0);
    EXPECT_INT(report_json_read(path, back, err, sizeof(err)), 0);
}

/* The verdict block in ASCII, as printed when stdout is not a UTF-8 terminal. */
static char *verdict_text(const report_verdict *v, double monthly_cost, int utf8) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    report_verdict_write(f, v, monthly_cost, utf8);
    fclose(f);
    return buf;
}

/* ---- the guide's sample analysis ---- */

static void check_sample(const char *name, uint32_t users, uint64_t ok_of_100, uint64_t avg_ms,
                         uint64_t max_ms, int g_success, int g_avg, int g_max, int handled,
                         const char *lines) {
    stats_result run, back;
    report_verdict v;
    char *text;

    build_run(&run, users, 100, ok_of_100, STATS_ERR_TIMEOUT, avg_ms, max_ms);
    save_and_read(&run, name, &back);
    report_verdict_compute(&back, NULL, &v);
    EXPECT_GRADE(v.metrics[REPORT_METRIC_SUCCESS].grade, g_success);
    EXPECT_GRADE(v.metrics[REPORT_METRIC_AVG].grade, g_avg);
    EXPECT_GRADE(v.metrics[REPORT_METRIC_MAX].grade, g_max);
    EXPECT_GRADE(v.metrics[REPORT_METRIC_5XX].grade, EXC);
    EXPECT_INT(v.handled, handled);
    text = verdict_text(&v, 0, 0);
    EXPECT_HAS(text, lines, 1);
    free(text);
    stats_result_free(&run);
    stats_result_free(&back);
}

static void guide_10_users_basic(void) {
    check_sample("guide_u10", 10, 98, 450, 1200, GOOD, EXC, GOOD, 1,
                 "  [ok] Success rate: 98% - GOOD\n"
                 "  [ok] Avg response: 450 ms - EXCELLENT\n"
                 "  [ok] Max response: 1.2 s - GOOD\n"
                 "  [ok] 5xx responses: 0% - EXCELLENT\n"
                 "  Overall: GOOD\n"
                 "  -> this load is handled well\n");
}

static void guide_25_users_basic(void) {
    check_sample("guide_u25", 25, 87, 2100, 8500, WARN, WARN, POOR, 0,
                 "  [!!] Success rate: 87% - WARNING\n"
                 "  [!!] Avg response: 2.1 s - WARNING\n"
                 "  [!!] Max response: 8.5 s - POOR\n"
                 "  [ok] 5xx responses: 0% - EXCELLENT\n"
                 "  Overall: POOR\n"
                 "  -> upgrade resources or reduce load: success below 95%, average response "
                 "above 2 s, max response\n     above 3 s\n"
                 "  Bottlenecks:\n"
                 "    - timeouts: 13 requests (13%) got no answer\n");
}

static void guide_25_users_boosted(void) {
    check_sample("guide_u25b", 25, 96, 650, 1800, GOOD, EXC, GOOD, 1,
                 "  [ok] Success rate: 96% - GOOD\n"
                 "  [ok] Avg response: 650 ms - EXCELLENT\n"
                 "  [ok] Max response: 1.8 s - GOOD\n"
                 "  [ok] 5xx responses: 0% - EXCELLENT\n"
                 "  Overall: GOOD\n"
                 "  -> this load is handled well\n");
}

/* The results file carries the verdict, with the bands it was graded by. */
static void verdict_in_results_file(void) {
    stats_result run;
    char path[4096];
    json_t *doc, *v;

    build_run(&run, 25, 100, 87, STATS_ERR_TIMEOUT, 2100, 8500);
    EXPECT_INT(report_json_write(&run, tmp_dir, "guide_file", path, sizeof(path)), 0);
    doc = json_load_file(path, 0, NULL);
    v = json_object_get(doc, "verdict");
    EXPECT(json_is_object(v));
    EXPECT_STR(json_string_value(json_object_get(v, "overall")), "POOR");
    EXPECT(json_is_false(json_object_get(v, "handled")));
    EXPECT_STR(json_string_value(json_object_get(v, "recommendation")),
               "upgrade resources or reduce load: success below 95%, average response above 2 s, "
               "max response above 3 s");
    EXPECT_STR(json_string_value(json_object_get(
                   json_object_get(json_object_get(v, "metrics"), "success_rate"), "grade")),
               "WARNING");
    EXPECT_INT(json_number_value(json_object_get(
                   json_object_get(json_object_get(v, "metrics"), "max_response_ms"), "value")),
               8500);
    EXPECT_INT(json_number_value(
                   json_array_get(json_object_get(json_object_get(v, "bands"), "avg_ms"), 1)),
               2000);
    json_decref(doc);
    stats_result_free(&run);
}

/* volley's own CPU above 90% of a core per thread is named as a bottleneck, below it is not. */
static void generator_saturation(void) {
    stats_result r;
    report_verdict v;
    int found = 0;

    build_run(&r, 5, 1000, 1000, STATS_ERR_TIMEOUT, 100, 200);
    r.generator_cpu_per_thread = 0.97;
    report_verdict_compute(&r, NULL, &v);
    for (size_t i = 0; i < v.bottleneck_count; i++) {
        found |= strcmp(v.bottlenecks[i].kind, "generator_saturated") == 0 &&
            strstr(v.bottlenecks[i].text, "97% of a core") != NULL;
    }
    EXPECT(found);
    r.generator_cpu_per_thread = 0.5;
    report_verdict_compute(&r, NULL, &v);
    EXPECT_INT(v.bottleneck_count, 0);
    stats_result_free(&r);
}

/* ---- bands at and around each edge ---- */

static int success_grade(uint64_t ok, uint64_t total) {
    stats_result r;
    report_verdict v;

    build_run(&r, 1, total, ok, STATS_ERR_TIMEOUT, 100, 100);
    report_verdict_compute(&r, NULL, &v);
    stats_result_free(&r);
    return v.metrics[REPORT_METRIC_SUCCESS].grade;
}

static void success_band_edges(void) {
    EXPECT_GRADE(success_grade(1000, 1000), EXC);
    EXPECT_GRADE(success_grade(990, 1000), EXC);
    EXPECT_GRADE(success_grade(989, 1000), GOOD);
    EXPECT_GRADE(success_grade(9899, 10000), GOOD);
    EXPECT_GRADE(success_grade(950, 1000), GOOD);
    EXPECT_GRADE(success_grade(19, 20), GOOD);
    EXPECT_GRADE(success_grade(949, 1000), WARN);
    EXPECT_GRADE(success_grade(800, 1000), WARN);
    EXPECT_GRADE(success_grade(4, 5), WARN);
    EXPECT_GRADE(success_grade(799, 1000), POOR);
    EXPECT_GRADE(success_grade(0, 1000), POOR);
}

/* Grade of the average (which_max 0) or of the maximum (1) for one latency. */
static int time_grade(uint64_t latency_us, int which_max) {
    stats_result r;
    report_verdict v;

    build_run(&r, 1, 0, 0, -1, 0, 0);
    stats_hist_reset(r.latency);
    add_requests(&r, 1, -1);
    stats_hist_record(r.latency, latency_us);
    report_verdict_compute(&r, NULL, &v);
    stats_result_free(&r);
    return v.metrics[which_max ? REPORT_METRIC_MAX : REPORT_METRIC_AVG].grade;
}

static void average_band_edges(void) {
    EXPECT_GRADE(time_grade(1, 0), EXC);
    EXPECT_GRADE(time_grade(999999, 0), EXC);
    EXPECT_GRADE(time_grade(1000000, 0), GOOD);
    EXPECT_GRADE(time_grade(1999999, 0), GOOD);
    EXPECT_GRADE(time_grade(2000000, 0), WARN);
    EXPECT_GRADE(time_grade(4999999, 0), WARN);
    EXPECT_GRADE(time_grade(5000000, 0), POOR);
    EXPECT_GRADE(time_grade(60000000, 0), POOR);
}

static void max_band_edges(void) {
    EXPECT_GRADE(time_grade(999999, 1), EXC);
    EXPECT_GRADE(time_grade(1000000, 1), GOOD);
    EXPECT_GRADE(time_grade(2999999, 1), GOOD);
    EXPECT_GRADE(time_grade(3000000, 1), WARN);
    EXPECT_GRADE(time_grade(4999999, 1), WARN);
    EXPECT_GRADE(time_grade(5000000, 1), POOR);
}

/* An average just under an edge reads as under it: times are cut, never rounded up. */
static void average_text_never_reaches_an_edge(void) {
    stats_result r;
    report_verdict v;

    build_run(&r, 1, 1, 1, -1, 0, 0);
    stats_hist_reset(r.latency);
    stats_hist_record(r.latency, 1999999);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_STR(v.metrics[REPORT_METRIC_AVG].text, "1.99 s");
    stats_hist_reset(r.latency);
    stats_hist_record(r.latency, 17890);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_STR(v.metrics[REPORT_METRIC_AVG].text, "17.8 ms");
    stats_hist_reset(r.latency);
    stats_hist_record(r.latency, 420);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_STR(v.metrics[REPORT_METRIC_AVG].text, "0.42 ms");
    stats_result_free(&r);
}

static int status_5xx_grade(uint64_t n5, uint64_t total, char *text, size_t len) {
    stats_result r;
    report_verdict v;

    build_run(&r, 1, total, total - n5, STATS_ERR_STATUS_5XX, 100, 100);
    report_verdict_compute(&r, NULL, &v);
    snprintf(text, len, "%s", v.metrics[REPORT_METRIC_5XX].text);
    stats_result_free(&r);
    return v.metrics[REPORT_METRIC_5XX].grade;
}

static void status_5xx_band_edges(void) {
    char text[64];

    EXPECT_GRADE(status_5xx_grade(0, 1000, text, sizeof(text)), EXC);
    EXPECT_STR(text, "0%");
    EXPECT_GRADE(status_5xx_grade(1, 100000, text, sizeof(text)), GOOD);
    EXPECT_STR(text, "0.01% (1)");
    EXPECT_GRADE(status_5xx_grade(1, 1000, text, sizeof(text)), GOOD);
    EXPECT_STR(text, "0.1% (1)");
    EXPECT_GRADE(status_5xx_grade(1001, 1000000, text, sizeof(text)), WARN);
    EXPECT_STR(text, "0.11% (1001)");
    EXPECT_GRADE(status_5xx_grade(10, 1000, text, sizeof(text)), WARN);
    EXPECT_GRADE(status_5xx_grade(11, 1000, text, sizeof(text)), POOR);
    EXPECT_STR(text, "1.1% (11)");
}

/* A 503 counts as a 5xx response: it grades the metric and is a bottleneck of its own. */
static void status_503_counts_as_5xx(void) {
    stats_result r;
    report_verdict v;

    build_run(&r, 1, 1000, 995, STATS_ERR_STATUS_503, 100, 100);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_GRADE(v.metrics[REPORT_METRIC_5XX].grade, WARN);
    EXPECT_INT(v.bottleneck_count, 1);
    EXPECT_STR(v.bottlenecks[0].kind, "upstream_unavailable");
    EXPECT_STR(v.bottlenecks[0].text, "upstream unavailable: 503 on 0.5% of requests (5)");
    stats_result_free(&r);
}

static void overall_is_the_worst_grade(void) {
    stats_result r;
    report_verdict v;

    build_run(&r, 1, 100, 100, -1, 100, 3500);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_GRADE(v.overall, WARN);
    EXPECT_INT(v.handled, 0);
    EXPECT_STR(v.recommendation, "upgrade resources or reduce load: max response above 3 s");
    stats_result_free(&r);

    build_run(&r, 1, 100, 100, -1, 100, 900);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_GRADE(v.overall, EXC);
    EXPECT_INT(v.handled, 1);
    EXPECT_STR(v.recommendation, "this load is handled well");
    stats_result_free(&r);
}

static void nothing_completed_is_poor(void) {
    stats_result r;
    report_verdict v;
    char *text;

    EXPECT_INT(stats_result_init(&r), 0);
    r.config.connections = 10;
    add_requests(&r, 10, STATS_ERR_CONNECT);
    r.totals.ok = 0;
    report_verdict_compute(&r, NULL, &v);
    EXPECT_GRADE(v.overall, POOR);
    EXPECT_GRADE(v.metrics[REPORT_METRIC_AVG].grade, REPORT_GRADE_NONE);
    text = verdict_text(&v, 0, 0);
    EXPECT_HAS(text, "  [--] Avg response: n/a - -\n", 1);
    EXPECT_HAS(text, "  [!!] Success rate: 0% - POOR\n", 1);
    EXPECT_HAS(text, "connection or TLS errors: connect 10 (100% of requests)", 1);
    free(text);
    stats_result_free(&r);

    EXPECT_INT(stats_result_init(&r), 0);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_STR(v.metrics[REPORT_METRIC_SUCCESS].text, "no request completed");
    EXPECT_STR(v.recommendation, "upgrade resources or reduce load: no request completed");
    stats_result_free(&r);
}

/* ---- bottlenecks ---- */

/* n complete seconds, each with `rate` responses of latency lat_us(i) and users(i). */
static void fill_series(stats_result *r, size_t n, const uint64_t *rates, const uint64_t *lat_us,
                        const uint32_t *users) {
    r->duration_s = (double)n;
    for (size_t i = 0; i < n; i++) {
        stats_point *p = stats_series_at(r->series, (uint32_t)i);

        p->users = users ? users[i] : 0;
        p->c.requests = p->c.responses = p->c.ok = rates[i];
        stats_hist_record_n(p->latency, lat_us[i], rates[i]);
        add_requests(r, rates[i], -1);
        stats_hist_record_n(r->latency, lat_us[i], rates[i]);
    }
}

static size_t find_bottleneck(const report_verdict *v, const char *kind) {
    for (size_t i = 0; i < v->bottleneck_count; i++) {
        if (strcmp(v->bottlenecks[i].kind, kind) == 0) {
            return i;
        }
    }
    return (size_t)-1;
}

static void saturation_latency_up_throughput_flat(void) {
    static const uint64_t rates[9] = {10, 10, 10, 10, 10, 10, 10, 10, 10};
    static const uint64_t lat[9] = {50000,  50000,  50000,  200000, 300000,
                                    400000, 500000, 500000, 500000};
    static const uint32_t users[9] = {5, 10, 15, 20, 25, 25, 25, 25, 25};
    stats_result r;
    report_verdict v;
    size_t i;

    EXPECT_INT(stats_result_init(&r), 0);
    r.config.users = 25;
    fill_series(&r, 9, rates, lat, users);
    report_verdict_compute(&r, NULL, &v);
    i = find_bottleneck(&v, "saturation");
    EXPECT(i != (size_t)-1);
    if (i != (size_t)-1) {
        EXPECT_STR(v.bottlenecks[i].text,
                   "saturation: median response rose from 50 ms to 500 ms (first to last third of "
                   "the run) while throughput stayed at 10.0 -> 10.0 req/s with users 15 -> 25");
    }
    stats_result_free(&r);
}

static void no_saturation_when_throughput_grows(void) {
    static const uint64_t rates[9] = {10, 10, 10, 15, 15, 15, 20, 20, 20};
    static const uint64_t lat[9] = {50000,  50000,  50000,  200000, 300000,
                                    400000, 500000, 500000, 500000};
    stats_result r;
    report_verdict v;

    EXPECT_INT(stats_result_init(&r), 0);
    fill_series(&r, 9, rates, lat, NULL);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_INT(find_bottleneck(&v, "saturation"), (size_t)-1);
    stats_result_free(&r);
}

static void no_saturation_for_small_or_short_rises(void) {
    static const uint64_t rates[9] = {10, 10, 10, 10, 10, 10, 10, 10, 10};
    static const uint64_t tiny[9] = {100, 100, 100, 200, 300, 400, 900, 900, 900};
    static const uint64_t big[9] = {50000,  50000,  500000, 500000, 500000,
                                    500000, 500000, 500000, 500000};
    stats_result r;
    report_verdict v;

    /* Tripled, but from 0.1 ms to 0.9 ms: jitter, not saturation. */
    EXPECT_INT(stats_result_init(&r), 0);
    fill_series(&r, 9, rates, tiny, NULL);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_INT(find_bottleneck(&v, "saturation"), (size_t)-1);
    stats_result_free(&r);

    /* Five seconds are too few to tell. */
    EXPECT_INT(stats_result_init(&r), 0);
    fill_series(&r, 5, rates, big, NULL);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_INT(find_bottleneck(&v, "saturation"), (size_t)-1);
    stats_result_free(&r);
}

static void rate_limited_since_its_first_second(void) {
    static const uint64_t rates[10] = {10, 10, 10, 10, 10, 10, 10, 10, 10, 10};
    static const uint64_t lat[10] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    stats_result r;
    report_verdict v;
    size_t i;

    EXPECT_INT(stats_result_init(&r), 0);
    fill_series(&r, 10, rates, lat, NULL);
    stats_series_at(r.series, 7)->c.errors[STATS_ERR_STATUS_429] = 3;
    stats_series_at(r.series, 8)->c.errors[STATS_ERR_STATUS_429] = 1;
    add_requests(&r, 4, STATS_ERR_STATUS_429);
    add_requests(&r, 2, STATS_ERR_STATUS_5XX);
    add_requests(&r, 1, STATS_ERR_TLS);
    add_requests(&r, 2, STATS_ERR_CONNECT);
    add_requests(&r, 1, STATS_ERR_TIMEOUT);
    r.config.timeout_ms = 2000;
    report_verdict_compute(&r, NULL, &v);
    i = find_bottleneck(&v, "rate_limited");
    EXPECT(i != (size_t)-1);
    if (i != (size_t)-1) {
        EXPECT_INT(v.bottlenecks[i].since_s, 7);
        EXPECT_INT(v.bottlenecks[i].count, 4);
        EXPECT_STR(v.bottlenecks[i].text,
                   "rate limited: 429 on 3.6% of requests (4), from 7 s into the run");
    }
    i = find_bottleneck(&v, "server_errors");
    EXPECT(i != (size_t)-1);
    if (i != (size_t)-1) {
        EXPECT_HAS(v.bottlenecks[i].text, "5xx other than 503 (500, 502, 504...) on 1.8%", 1);
    }
    i = find_bottleneck(&v, "connection_errors");
    EXPECT(i != (size_t)-1);
    if (i != (size_t)-1) {
        EXPECT_STR(v.bottlenecks[i].text,
                   "connection or TLS errors: connect 2, tls 1 (2.7% of requests)");
    }
    i = find_bottleneck(&v, "timeouts");
    EXPECT(i != (size_t)-1);
    if (i != (size_t)-1) {
        EXPECT_STR(v.bottlenecks[i].text, "timeouts: 1 request (0.91%) got no answer within 2 s");
    }
    stats_result_free(&r);
}

/* ---- cost per user ---- */

static void cost_per_user(void) {
    stats_result r;
    report_verdict v;
    char text[256];
    char *out;

    build_run(&r, 5, 100, 100, -1, 200, 400);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_INT(report_verdict_cost_text(&v, 50, text, sizeof(text)), 1);
    EXPECT_STR(text, "10.00 a month per user (50.00 / 5 peak users)");
    EXPECT_INT(report_verdict_cost_text(&v, 0, text, sizeof(text)), -EINVAL);
    out = verdict_text(&v, 0, 0);
    EXPECT_HAS(out, "Cost per", 0);
    free(out);
    out = verdict_text(&v, 50, 0);
    EXPECT_HAS(out, "  Cost per user: 10.00 a month per user (50.00 / 5 peak users)\n", 1);
    free(out);
    stats_result_free(&r);

    build_run(&r, 25, 100, 87, STATS_ERR_TIMEOUT, 2100, 8500);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_INT(report_verdict_cost_text(&v, 50, text, sizeof(text)), 0);
    EXPECT_STR(text,
               "not meaningful: at 25 users this run was graded POOR, so these resources "
               "do not carry that load");
    stats_result_free(&r);
}

/* In connection mode the connections stand for the users. */
static void cost_per_connection(void) {
    stats_result r;
    report_verdict v;
    char text[256];

    build_run(&r, 0, 100, 100, -1, 200, 400);
    r.users_peak = 0;
    r.config.connections = 8;
    report_verdict_compute(&r, NULL, &v);
    EXPECT_INT(report_verdict_cost_text(&v, 20, text, sizeof(text)), 1);
    EXPECT_STR(text, "2.50 a month per connection (20.00 / 8 peak connections)");
    stats_result_free(&r);
}

/* ---- overriding the bands ---- */

static void bands_parse_and_apply(void) {
    report_verdict_bands b;
    stats_result r;
    report_verdict v;
    char err[256] = "";

    report_verdict_default_bands(&b);
    EXPECT_INT(
        report_verdict_parse_bands("success=90,80,70; avg = 100ms, 0.5s, 1s", &b, err, sizeof(err)),
        0);
    EXPECT_INT((int)b.success_pct[1], 80);
    EXPECT_INT((int)b.avg_ms[0], 100);
    EXPECT_INT((int)b.avg_ms[1], 500);
    EXPECT_INT((int)b.max_ms[1], 3000); /* untouched */
    EXPECT_INT(report_verdict_set_bands(&b), 0);

    build_run(&r, 1, 100, 85, STATS_ERR_TIMEOUT, 600, 900);
    report_verdict_compute(&r, NULL, &v);
    EXPECT_GRADE(v.metrics[REPORT_METRIC_SUCCESS].grade, GOOD);
    EXPECT_GRADE(v.metrics[REPORT_METRIC_AVG].grade, WARN);
    EXPECT_STR(v.recommendation, "upgrade resources or reduce load: average response above 500 ms");
    stats_result_free(&r);

    report_verdict_default_bands(&b);
    EXPECT_INT(report_verdict_set_bands(&b), 0);
}

static void bands_rejected(void) {
    static const char *const bad[] = {"success=80,90,70", "avg=1x,2s,3s", "speed=1,2,3",
                                      "max=1s,2s",        "5xx=0,1,2,3",  "avg=3s,2s,1s",
                                      "success",          "5xx=-1,0,1",   "success=99,95,80%x"};
    report_verdict_bands b, before;
    char err[256];

    report_verdict_default_bands(&b);
    before = b;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        EXPECT_INT(report_verdict_parse_bands(bad[i], &b, err, sizeof(err)), -EINVAL);
        EXPECT(err[0] != '\0');
        EXPECT(memcmp(&b, &before, sizeof(b)) == 0);
    }
    b.avg_ms[0] = 3000;
    EXPECT_INT(report_verdict_set_bands(&b), -EINVAL);
    EXPECT_INT((int)report_verdict_bands_current()->avg_ms[0], 1000);
}

static void bands_from_results_file(void) {
    report_verdict_bands b, got;
    json_t *v;
    char err[64];

    report_verdict_default_bands(&b);
    EXPECT_INT(report_verdict_parse_bands("max=2s,4s,8s", &b, err, sizeof(err)), 0);
    EXPECT_INT(report_verdict_set_bands(&b), 0);
    {
        stats_result r;

        build_run(&r, 1, 10, 10, -1, 10, 10);
        v = report_verdict_json(&r);
        stats_result_free(&r);
    }
    report_verdict_default_bands(&got);
    EXPECT_INT(report_verdict_set_bands(&got), 0);
    EXPECT_INT(report_verdict_bands_from_json(v, &got), 0);
    EXPECT_INT((int)got.max_ms[2], 8000);
    EXPECT_INT(report_verdict_bands_from_json(json_object_get(v, "metrics"), &got), -EINVAL);
    json_decref(v);
}

/* ---- marks ---- */

static void utf8_marks(void) {
    stats_result r;
    report_verdict v;
    char *text;

    build_run(&r, 25, 100, 87, STATS_ERR_TIMEOUT, 2100, 8500);
    report_verdict_compute(&r, NULL, &v);
    text = verdict_text(&v, 0, 1);
    EXPECT_HAS(text, "  \xe2\x9c\x97 Success rate: 87% \xe2\x80\x94 WARNING\n", 1);
    EXPECT_HAS(text, "  \xe2\x9c\x93 5xx responses: 0% \xe2\x80\x94 EXCELLENT\n", 1);
    EXPECT_HAS(text, "  \xe2\x86\x92 upgrade resources", 1);
    EXPECT_HAS(text, "[ok]", 0);
    free(text);
    stats_result_free(&r);
}

/* UTF-8 marks need both a terminal and a UTF-8 locale; LC_ALL wins over LANG. */
static void utf8_needs_terminal_and_locale(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY), slave = -1;
    FILE *tty = NULL, *file = tmpfile();

    EXPECT(master >= 0);
    if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0) {
        slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    }
    EXPECT(slave >= 0);
    tty = slave >= 0 ? fdopen(slave, "w") : NULL;
    unsetenv("LC_CTYPE");
    setenv("LANG", "en_US.UTF-8", 1);
    unsetenv("LC_ALL");
    EXPECT_INT(report_verdict_utf8(file), 0);
    if (tty) {
        EXPECT_INT(report_verdict_utf8(tty), 1);
        setenv("LC_ALL", "C", 1);
        EXPECT_INT(report_verdict_utf8(tty), 0);
        setenv("LC_ALL", "C.utf8", 1);
        EXPECT_INT(report_verdict_utf8(tty), 1);
        setenv("LANG", "C", 1);
        unsetenv("LC_ALL");
        EXPECT_INT(report_verdict_utf8(tty), 0);
        fclose(tty);
    }
    fclose(file);
    if (master >= 0) {
        close(master);
    }
}

/* The text summary stays within 100 columns, long reasons wrapped. */
static void lines_fit_100_columns(void) {
    stats_result r;
    report_verdict v;
    char *text, *line, *save = NULL;

    build_run(&r, 25, 1000, 700, STATS_ERR_STATUS_503, 6000, 9000);
    add_requests(&r, 30, STATS_ERR_STATUS_429);
    add_requests(&r, 30, STATS_ERR_STATUS_5XX);
    report_verdict_compute(&r, NULL, &v);
    text = verdict_text(&v, 99, 1);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t cols = 0;

        for (const char *p = line; *p; p++) {
            cols += ((unsigned char)*p & 0xc0) != 0x80;
        }
        if (cols > 100) {
            fprintf(stderr, "  line of %zu columns: %s\n", cols, line);
            harness_failed_checks++;
        }
    }
    free(text);
    stats_result_free(&r);
}

int main(void) {
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(guide_10_users_basic);
    RUN(guide_25_users_basic);
    RUN(guide_25_users_boosted);
    RUN(verdict_in_results_file);
    RUN(generator_saturation);
    RUN(success_band_edges);
    RUN(average_band_edges);
    RUN(max_band_edges);
    RUN(average_text_never_reaches_an_edge);
    RUN(status_5xx_band_edges);
    RUN(status_503_counts_as_5xx);
    RUN(overall_is_the_worst_grade);
    RUN(nothing_completed_is_poor);
    RUN(saturation_latency_up_throughput_flat);
    RUN(no_saturation_when_throughput_grows);
    RUN(no_saturation_for_small_or_short_rises);
    RUN(rate_limited_since_its_first_second);
    RUN(cost_per_user);
    RUN(cost_per_connection);
    RUN(bands_parse_and_apply);
    RUN(bands_rejected);
    RUN(bands_from_results_file);
    RUN(utf8_marks);
    RUN(utf8_needs_terminal_and_locale);
    RUN(lines_fit_100_columns);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", tmp_dir);
        }
    }
    HARNESS_END();
}
