/* verdict.c: grades a run the way the IndieShots guide reads one: bands, bottlenecks, cost. */
#include "report/verdict.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * Saturation is read from the per-second series: the first and last thirds of the complete
 * seconds are compared. The median must rise by half and by at least 20 ms (so sub-millisecond
 * jitter on a loopback server is not called saturation) while requests per second grow by no
 * more than a tenth. Fewer than six complete seconds tell nothing.
 *
 * The guide's other bottleneck is the load generator itself: when volley's own CPU was above
 * 90% of a core per thread, its figures may describe volley rather than the server.
 */
#define VERDICT_GENERATOR_BUSY 0.9
#define VERDICT_MIN_SERIES 6
#define VERDICT_RISE_RATIO 1.5
#define VERDICT_RISE_MIN_US 20000.0
#define VERDICT_FLAT_RATIO 1.1

/* The text summary stays readable on a 100-column terminal. */
#define VERDICT_WIDTH 100

static const char *const verdict_grade_names[] = {"EXCELLENT", "GOOD", "WARNING", "POOR"};

/* The guide's two tables and its sample analysis, with their overlaps and gaps closed. */
static const report_verdict_bands verdict_defaults = {
    {99, 95, 80}, {1000, 2000, 5000}, {1000, 3000, 5000}, {0, 0.1, 1}};

/* Bands set by report_verdict_set_bands; the defaults rule until then. */
static report_verdict_bands verdict_custom;
static int verdict_custom_set;

/* Fills b with the default bands of issue 7. */
void report_verdict_default_bands(report_verdict_bands *b) {
    *b = verdict_defaults;
}

static int verdict_edges_ok(const double *e, int descending, double lo, double hi) {
    for (int i = 0; i < 3; i++) {
        if (!isfinite(e[i]) || e[i] < lo || e[i] > hi) {
            return 0;
        }
        if (i > 0 && (descending ? e[i] > e[i - 1] : e[i] < e[i - 1])) {
            return 0;
        }
    }
    return 1;
}

static int verdict_bands_ok(const report_verdict_bands *b) {
    return verdict_edges_ok(b->success_pct, 1, 0, 100) && verdict_edges_ok(b->avg_ms, 0, 0, 1e12) &&
        verdict_edges_ok(b->max_ms, 0, 0, 1e12) && verdict_edges_ok(b->err_5xx_pct, 0, 0, 100);
}

/* Replaces the process-wide bands after checking them; see verdict.h. */
int report_verdict_set_bands(const report_verdict_bands *b) {
    if (!b || !verdict_bands_ok(b)) {
        return -EINVAL;
    }
    verdict_custom = *b;
    verdict_custom_set = 1;
    return 0;
}

/* The bands later verdicts use. */
const report_verdict_bands *report_verdict_bands_current(void) {
    return verdict_custom_set ? &verdict_custom : &verdict_defaults;
}

/* ---- parsing an override ---- */

/* One edge: a number with an optional unit. Times become ms; '%' is allowed on shares. */
static int verdict_parse_edge(const char *text, int is_time, double *out) {
    char *end;
    double v = strtod(text, &end);

    if (end == text || !isfinite(v)) {
        return -1;
    }
    while (*end == ' ') {
        end++;
    }
    if (is_time && (strcmp(end, "ms") == 0 || *end == '\0')) {
        *out = v;
    } else if (is_time && strcmp(end, "s") == 0) {
        *out = v * 1000;
    } else if (is_time && strcmp(end, "m") == 0) {
        *out = v * 60000;
    } else if (!is_time && (strcmp(end, "%") == 0 || *end == '\0')) {
        *out = v;
    } else {
        return -1;
    }
    return 0;
}

/* "99,95,80" into three edges. */
static int verdict_parse_triple(char *list, int is_time, double *edges) {
    char *save = NULL, *tok = strtok_r(list, ",", &save);
    int n = 0;

    while (tok) {
        while (*tok == ' ') {
            tok++;
        }
        for (size_t len = strlen(tok); len > 0 && tok[len - 1] == ' '; len--) {
            tok[len - 1] = '\0';
        }
        if (n == 3 || verdict_parse_edge(tok, is_time, &edges[n]) < 0) {
            return -1;
        }
        n++;
        tok = strtok_r(NULL, ",", &save);
    }
    return n == 3 ? 0 : -1;
}

/* The edges a metric name stands for, and whether they are times. */
static double *verdict_band_of(report_verdict_bands *b, const char *name, int *is_time) {
    *is_time = 0;
    if (strcmp(name, "success") == 0) {
        return b->success_pct;
    }
    if (strcmp(name, "5xx") == 0) {
        return b->err_5xx_pct;
    }
    *is_time = 1;
    if (strcmp(name, "avg") == 0) {
        return b->avg_ms;
    }
    return strcmp(name, "max") == 0 ? b->max_ms : NULL;
}

static int verdict_parse_item(char *item, report_verdict_bands *b, char *err, size_t err_len) {
    char *eq = strchr(item, '='), *name = item;
    double *edges, parsed[3];
    int is_time;

    while (*name == ' ') {
        name++;
    }
    if (*name == '\0') {
        return 0;
    }
    if (!eq) {
        snprintf(err, err_len, "verdict bands: '%s' is not METRIC=E1,E2,E3", name);
        return -EINVAL;
    }
    *eq = '\0';
    for (char *p = eq; p > name && p[-1] == ' '; p--) {
        p[-1] = '\0';
    }
    if (!(edges = verdict_band_of(b, name, &is_time))) {
        snprintf(err, err_len, "verdict bands: unknown metric '%s' (success, avg, max, 5xx)", name);
        return -EINVAL;
    }
    if (verdict_parse_triple(eq + 1, is_time, parsed) < 0) {
        snprintf(err, err_len, "verdict bands: %s needs three edges%s", name,
                 is_time ? " such as 1s,2s,5s" : " such as 99,95,80");
        return -EINVAL;
    }
    memcpy(edges, parsed, sizeof(parsed));
    return 0;
}

/* Parses "success=99,95,80; avg=1s,2s,5s; ..." over the values already in *b; see verdict.h. */
int report_verdict_parse_bands(const char *spec, report_verdict_bands *b, char *err,
                               size_t err_len) {
    report_verdict_bands work = *b;
    char *copy = strdup(spec ? spec : ""), *save = NULL, *item;
    int rc = 0;

    if (!copy) {
        snprintf(err, err_len, "out of memory");
        return -ENOMEM;
    }
    for (item = strtok_r(copy, ";", &save); item && rc == 0; item = strtok_r(NULL, ";", &save)) {
        rc = verdict_parse_item(item, &work, err, err_len);
    }
    free(copy);
    if (rc == 0 && !verdict_bands_ok(&work)) {
        snprintf(err, err_len,
                 "verdict bands: edges out of order (success falls, times and 5xx rise)");
        rc = -EINVAL;
    }
    if (rc == 0) {
        *b = work;
    }
    return rc;
}

static int verdict_json_triple(const json_t *o, const char *key, double *out) {
    const json_t *a = json_object_get(o, key);

    if (!json_is_array(a) || json_array_size(a) != 3) {
        return -1;
    }
    for (size_t i = 0; i < 3; i++) {
        if (!json_is_number(json_array_get(a, i))) {
            return -1;
        }
        out[i] = json_number_value(json_array_get(a, i));
    }
    return 0;
}

/* Reads the "bands" a results file recorded; see verdict.h. */
int report_verdict_bands_from_json(const json_t *verdict, report_verdict_bands *b) {
    const json_t *o = json_object_get(verdict, "bands");
    report_verdict_bands got;

    if (!json_is_object(o) || verdict_json_triple(o, "success_pct", got.success_pct) < 0 ||
        verdict_json_triple(o, "avg_ms", got.avg_ms) < 0 ||
        verdict_json_triple(o, "max_ms", got.max_ms) < 0 ||
        verdict_json_triple(o, "status_5xx_pct", got.err_5xx_pct) < 0 || !verdict_bands_ok(&got)) {
        return -EINVAL;
    }
    *b = got;
    return 0;
}

/* ---- texts ---- */

/* Removes trailing zeros of a decimal number in buf, and the point when nothing follows it. */
static void verdict_trim(char *buf) {
    size_t n = strlen(buf);

    if (!strchr(buf, '.')) {
        return;
    }
    while (n > 0 && buf[n - 1] == '0') {
        buf[--n] = '\0';
    }
    if (n > 0 && buf[n - 1] == '.') {
        buf[n - 1] = '\0';
    }
}

/*
 * A time for people, cut (not rounded) to its last digit: a value below a band edge never
 * shows as the edge itself. "0.42 ms", "7.5 ms", "17.8 ms", "450 ms", "1.2 s", "8.5 s".
 */
static void verdict_time_text(double us, char *buf, size_t len) {
    char num[32];
    const char *unit = "ms";

    if (us < 10000) {
        snprintf(num, sizeof(num), "%.2f", floor(us / 10) / 100);
    } else if (us < 100000) {
        snprintf(num, sizeof(num), "%.1f", floor(us / 100) / 10);
    } else if (us < 1000000) {
        snprintf(num, sizeof(num), "%.0f", floor(us / 1000));
    } else {
        snprintf(num, sizeof(num), "%.2f", floor(us / 10000) / 100);
        unit = "s";
    }
    verdict_trim(num);
    snprintf(buf, len, "%s %s", num, unit);
}

/* A band edge in ms: "2 s", "500 ms", "1.5 s". */
static void verdict_edge_text(double ms, char *buf, size_t len) {
    if (ms >= 1000) {
        snprintf(buf, len, "%g s", ms / 1000);
    } else {
        snprintf(buf, len, "%g ms", ms);
    }
}

/* How verdict_share_text rounds: down or up to its last digit (so a share shown beside a band
 * edge is on the same side of it as the share itself), or to the nearest. */
enum { VERDICT_DOWN, VERDICT_UP, VERDICT_NEAREST };

/* n of d as a percentage with one decimal, two below 1%, without trailing zeros: "98%",
 * "3.6%", "0.12%". */
static void verdict_share_text(uint64_t n, uint64_t d, int rounding, char *buf, size_t len) {
    double pct = d ? 100.0 * (double)n / (double)d : 0;
    double scale = pct < 1 ? 100 : 10;

    pct = rounding == VERDICT_UP   ? ceil(pct * scale) / scale
        : rounding == VERDICT_DOWN ? floor(pct * scale) / scale
                                   : round(pct * scale) / scale;
    snprintf(buf, len, pct < 1 ? "%.2f" : "%.1f", pct);
    verdict_trim(buf);
    if (strlen(buf) + 1 < len) {
        strcat(buf, "%");
    }
}

/* Name of a grade for output; "-" when ungraded. */
const char *report_grade_name(int grade) {
    if (grade < REPORT_GRADE_EXCELLENT || grade > REPORT_GRADE_POOR) {
        return "-";
    }
    return verdict_grade_names[grade];
}

/* ---- grading ---- */

static int verdict_grade_at_least(double v, const double *edges) {
    int g = 0;

    while (g < 3 && v < edges[g]) {
        g++;
    }
    return g;
}

static int verdict_grade_below(double v, const double *edges) {
    int g = 0;

    while (g < 3 && !(v < edges[g])) {
        g++;
    }
    return g;
}

static int verdict_grade_at_most(double v, const double *edges) {
    int g = 0;

    while (g < 3 && v > edges[g]) {
        g++;
    }
    return g;
}

static void verdict_metric(report_verdict_metric *m, const char *key, const char *label) {
    m->key = key;
    m->label = label;
    m->grade = REPORT_GRADE_NONE;
    snprintf(m->text, sizeof(m->text), "n/a");
}

static void verdict_grade_metrics(const stats_result *r, const report_verdict_bands *b,
                                  report_verdict *v) {
    report_verdict_metric *m = v->metrics;
    const stats_hist *h = r->latency;

    verdict_metric(&m[REPORT_METRIC_SUCCESS], "success_rate", "Success rate");
    verdict_metric(&m[REPORT_METRIC_AVG], "avg_response_ms", "Avg response");
    verdict_metric(&m[REPORT_METRIC_MAX], "max_response_ms", "Max response");
    verdict_metric(&m[REPORT_METRIC_5XX], "status_5xx_pct", "5xx responses");

    if (v->completed == 0) {
        m[REPORT_METRIC_SUCCESS].grade = REPORT_GRADE_POOR;
        snprintf(m[REPORT_METRIC_SUCCESS].text, sizeof(m->text), "no request completed");
    } else {
        uint64_t n5 = r->totals.status_class[5];
        char share[24];

        m[REPORT_METRIC_SUCCESS].value = 100.0 * (double)r->totals.ok / (double)v->completed;
        m[REPORT_METRIC_SUCCESS].grade =
            verdict_grade_at_least(m[REPORT_METRIC_SUCCESS].value, b->success_pct);
        verdict_share_text(r->totals.ok, v->completed, VERDICT_DOWN, m[REPORT_METRIC_SUCCESS].text,
                           sizeof(m->text));

        m[REPORT_METRIC_5XX].count = n5;
        m[REPORT_METRIC_5XX].value = 100.0 * (double)n5 / (double)v->completed;
        m[REPORT_METRIC_5XX].grade =
            verdict_grade_at_most(m[REPORT_METRIC_5XX].value, b->err_5xx_pct);
        verdict_share_text(n5, v->completed, VERDICT_UP, share, sizeof(share));
        snprintf(m[REPORT_METRIC_5XX].text, sizeof(m->text), n5 ? "%s (%" PRIu64 ")" : "%s", share,
                 n5);
    }
    if (h && stats_hist_count(h) > 0) {
        double mean_us = stats_hist_mean(h), max_us = (double)stats_hist_max(h);
        double avg_edges_us[3], max_edges_us[3];

        for (int i = 0; i < 3; i++) {
            avg_edges_us[i] = b->avg_ms[i] * 1000;
            max_edges_us[i] = b->max_ms[i] * 1000;
        }
        m[REPORT_METRIC_AVG].value = mean_us / 1000;
        m[REPORT_METRIC_AVG].grade = verdict_grade_below(mean_us, avg_edges_us);
        verdict_time_text(mean_us, m[REPORT_METRIC_AVG].text, sizeof(m->text));
        m[REPORT_METRIC_MAX].value = max_us / 1000;
        m[REPORT_METRIC_MAX].grade = verdict_grade_below(max_us, max_edges_us);
        verdict_time_text(max_us, m[REPORT_METRIC_MAX].text, sizeof(m->text));
    }
}

/* Appends ", reason" (or the first reason) to the recommendation. */
static void verdict_add_reason(report_verdict *v, const char *reason) {
    size_t n = strlen(v->recommendation);
    const char *lead = "upgrade resources or reduce load: ";

    snprintf(v->recommendation + n, sizeof(v->recommendation) - n, "%s%s", n ? ", " : lead, reason);
}

/* The guide's "when to upgrade" reasons for every metric graded below GOOD. */
static void verdict_recommend(const report_verdict_bands *b, report_verdict *v) {
    const report_verdict_metric *m = v->metrics;
    char edge[32], reason[96];

    v->recommendation[0] = '\0';
    if (v->handled) {
        snprintf(v->recommendation, sizeof(v->recommendation), "this load is handled well");
        return;
    }
    if (v->completed == 0) {
        verdict_add_reason(v, "no request completed");
    } else if (m[REPORT_METRIC_SUCCESS].grade > REPORT_GRADE_GOOD) {
        snprintf(reason, sizeof(reason), "success below %g%%", b->success_pct[1]);
        verdict_add_reason(v, reason);
    }
    if (m[REPORT_METRIC_AVG].grade > REPORT_GRADE_GOOD) {
        verdict_edge_text(b->avg_ms[1], edge, sizeof(edge));
        snprintf(reason, sizeof(reason), "average response above %s", edge);
        verdict_add_reason(v, reason);
    }
    if (m[REPORT_METRIC_MAX].grade > REPORT_GRADE_GOOD) {
        verdict_edge_text(b->max_ms[1], edge, sizeof(edge));
        snprintf(reason, sizeof(reason), "max response above %s", edge);
        verdict_add_reason(v, reason);
    }
    if (m[REPORT_METRIC_5XX].grade > REPORT_GRADE_GOOD) {
        snprintf(reason, sizeof(reason), "5xx responses above %g%%", b->err_5xx_pct[1]);
        verdict_add_reason(v, reason);
    }
}

/* ---- bottlenecks ---- */

static report_bottleneck *verdict_bottleneck(report_verdict *v, const char *kind, uint64_t count) {
    report_bottleneck *bn;

    if (v->bottleneck_count >= REPORT_VERDICT_MAX_BOTTLENECKS) {
        return NULL;
    }
    bn = &v->bottlenecks[v->bottleneck_count++];
    memset(bn, 0, sizeof(*bn));
    bn->kind = kind;
    bn->count = count;
    bn->since_s = -1;
    bn->share_pct = v->completed ? 100.0 * (double)count / (double)v->completed : 0;
    return bn;
}

/* The first second of the series holding a failure of class cls, or -1. */
static int64_t verdict_first_second(const stats_result *r, int cls) {
    size_t n = r->series ? stats_series_len(r->series) : 0;

    for (size_t i = 0; i < n; i++) {
        const stats_point *p = stats_series_at(r->series, (uint32_t)i);

        if (p && p->c.errors[cls] > 0) {
            return p->second;
        }
    }
    return -1;
}

static void verdict_status_bottlenecks(const stats_result *r, report_verdict *v) {
    const uint64_t *e = r->totals.errors;
    report_bottleneck *bn;
    char share[24];

    if (e[STATS_ERR_STATUS_503] &&
        (bn = verdict_bottleneck(v, "upstream_unavailable", e[STATS_ERR_STATUS_503]))) {
        verdict_share_text(bn->count, v->completed, VERDICT_NEAREST, share, sizeof(share));
        snprintf(bn->text, sizeof(bn->text),
                 "upstream unavailable: 503 on %s of requests (%" PRIu64 ")", share, bn->count);
    }
    if (e[STATS_ERR_STATUS_429] &&
        (bn = verdict_bottleneck(v, "rate_limited", e[STATS_ERR_STATUS_429]))) {
        verdict_share_text(bn->count, v->completed, VERDICT_NEAREST, share, sizeof(share));
        bn->since_s = verdict_first_second(r, STATS_ERR_STATUS_429);
        snprintf(bn->text, sizeof(bn->text), "rate limited: 429 on %s of requests (%" PRIu64 ")",
                 share, bn->count);
        if (bn->since_s >= 0) {
            size_t n = strlen(bn->text);
            snprintf(bn->text + n, sizeof(bn->text) - n, ", from %" PRId64 " s into the run",
                     bn->since_s);
        }
    }
    if (e[STATS_ERR_STATUS_5XX] &&
        (bn = verdict_bottleneck(v, "server_errors", e[STATS_ERR_STATUS_5XX]))) {
        verdict_share_text(bn->count, v->completed, VERDICT_NEAREST, share, sizeof(share));
        snprintf(bn->text, sizeof(bn->text),
                 "server errors: 5xx other than 503 (500, 502, 504...) on %s of requests "
                 "(%" PRIu64 ")",
                 share, bn->count);
    }
}

static void verdict_transport_bottlenecks(const stats_result *r, report_verdict *v) {
    static const int classes[] = {STATS_ERR_DNS, STATS_ERR_CONNECT, STATS_ERR_TLS, STATS_ERR_READ,
                                  STATS_ERR_WRITE};
    const uint64_t *e = r->totals.errors;
    uint64_t total = 0;
    report_bottleneck *bn;
    char share[24], parts[120] = "";

    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        size_t n = strlen(parts);

        if (e[classes[i]]) {
            total += e[classes[i]];
            snprintf(parts + n, sizeof(parts) - n, "%s%s %" PRIu64, n ? ", " : "",
                     stats_err_name(classes[i]), e[classes[i]]);
        }
    }
    if (total && (bn = verdict_bottleneck(v, "connection_errors", total))) {
        verdict_share_text(total, v->completed, VERDICT_NEAREST, share, sizeof(share));
        snprintf(bn->text, sizeof(bn->text), "connection or TLS errors: %s (%s of requests)", parts,
                 share);
    }
    if (r->generator_cpu_per_thread > VERDICT_GENERATOR_BUSY &&
        (bn = verdict_bottleneck(v, "generator_saturated", 0))) {
        snprintf(bn->text, sizeof(bn->text),
                 "volley itself saturated: %.0f%% of a core per thread; its figures may "
                 "understate the server (add threads or machines)",
                 r->generator_cpu_per_thread * 100.0);
    }
    if (e[STATS_ERR_TIMEOUT] && (bn = verdict_bottleneck(v, "timeouts", e[STATS_ERR_TIMEOUT]))) {
        verdict_share_text(bn->count, v->completed, VERDICT_NEAREST, share, sizeof(share));
        snprintf(bn->text, sizeof(bn->text), "timeouts: %" PRIu64 " request%s (%s) got no answer",
                 bn->count, bn->count == 1 ? "" : "s", share);
        if (r->config.timeout_ms > 0) {
            char edge[32];
            size_t n = strlen(bn->text);

            verdict_edge_text((double)r->config.timeout_ms, edge, sizeof(edge));
            snprintf(bn->text + n, sizeof(bn->text) - n, " within %s", edge);
        }
    }
}

/* Figures of one third of the series: responses per second, median latency, last users. */
typedef struct verdict_third {
    double rate_per_s;
    double p50_us;
    uint32_t users;
} verdict_third;

static int verdict_third_of(const stats_result *r, size_t from, size_t to, verdict_third *t) {
    stats_hist *h = stats_hist_new();
    uint64_t responses = 0;

    if (!h) {
        return -ENOMEM;
    }
    for (size_t i = from; i < to; i++) {
        const stats_point *p = stats_series_at(r->series, (uint32_t)i);

        responses += p->c.responses;
        stats_hist_merge(h, p->latency);
        t->users = p->users;
    }
    t->rate_per_s = (double)responses / (double)(to - from);
    t->p50_us = (double)stats_hist_percentile(h, 50);
    stats_hist_free(h);
    return 0;
}

/* How many leading seconds of the series ended before the run did. */
static size_t verdict_complete_seconds(const stats_result *r) {
    size_t n = r->series ? stats_series_len(r->series) : 0;

    while (n > 0 && (double)n > r->duration_s + 1e-3) {
        n--;
    }
    return n;
}

static void verdict_saturation(const stats_result *r, report_verdict *v) {
    size_t n = verdict_complete_seconds(r), k = n / 3;
    verdict_third a = {0, 0, 0}, z = {0, 0, 0};
    char p50a[24], p50z[24];
    report_bottleneck *bn;

    if (n < VERDICT_MIN_SERIES || verdict_third_of(r, 0, k, &a) < 0 ||
        verdict_third_of(r, n - k, n, &z) < 0) {
        return;
    }
    if (a.rate_per_s <= 0 || z.p50_us < a.p50_us * VERDICT_RISE_RATIO ||
        z.p50_us - a.p50_us < VERDICT_RISE_MIN_US ||
        z.rate_per_s > a.rate_per_s * VERDICT_FLAT_RATIO) {
        return;
    }
    if (!(bn = verdict_bottleneck(v, "saturation", 0))) {
        return;
    }
    bn->share_pct = 0;
    verdict_time_text(a.p50_us, p50a, sizeof(p50a));
    verdict_time_text(z.p50_us, p50z, sizeof(p50z));
    snprintf(bn->text, sizeof(bn->text),
             "saturation: median response rose from %s to %s (first to last third of the run) "
             "while throughput stayed at %.1f -> %.1f req/s",
             p50a, p50z, a.rate_per_s, z.rate_per_s);
    if (z.users > 0 && z.users != a.users) {
        size_t len = strlen(bn->text);
        snprintf(bn->text + len, sizeof(bn->text) - len, " with users %u -> %u", a.users, z.users);
    }
}

/* Grades r; see verdict.h. */
void report_verdict_compute(const stats_result *r, const report_verdict_bands *b,
                            report_verdict *v) {
    memset(v, 0, sizeof(*v));
    if (!b) {
        b = report_verdict_bands_current();
    }
    v->completed = r->totals.ok + r->totals.failed;
    verdict_grade_metrics(r, b, v);

    v->overall = REPORT_GRADE_NONE;
    for (int i = 0; i < REPORT_METRIC_COUNT; i++) {
        if (v->metrics[i].grade > v->overall) {
            v->overall = v->metrics[i].grade;
        }
    }
    v->handled = v->overall == REPORT_GRADE_EXCELLENT || v->overall == REPORT_GRADE_GOOD;
    verdict_recommend(b, v);

    verdict_status_bottlenecks(r, v);
    verdict_saturation(r, v);
    verdict_transport_bottlenecks(r, v);

    if (r->users_peak > 0 || r->config.users > 0) {
        v->concurrency = r->users_peak > 0 ? r->users_peak : r->config.users;
        v->concurrency_unit = "users";
    } else {
        v->concurrency = r->config.connections > 0 ? (uint64_t)r->config.connections : 0;
        v->concurrency_unit = "connections";
    }
}

/* The cost per user, or why there is none; see verdict.h. */
int report_verdict_cost_text(const report_verdict *v, double monthly_cost, char *buf, size_t len) {
    if (!(monthly_cost > 0) || !isfinite(monthly_cost)) {
        return -EINVAL;
    }
    if (v->concurrency == 0) {
        snprintf(buf, len, "not meaningful: the run recorded no concurrent users");
        return 0;
    }
    if (!v->handled) {
        snprintf(buf, len,
                 "not meaningful: at %" PRIu64 " %s this run was graded %s, so these resources do "
                 "not carry that load",
                 v->concurrency, v->concurrency_unit, report_grade_name(v->overall));
        return 0;
    }
    snprintf(buf, len, "%.2f a month per %s (%.2f / %" PRIu64 " peak %s)",
             monthly_cost / (double)v->concurrency,
             strcmp(v->concurrency_unit, "users") == 0 ? "user" : "connection", monthly_cost,
             v->concurrency, v->concurrency_unit);
    return 1;
}

/* ---- output ---- */

static int verdict_locale_utf8(void) {
    static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};

    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);

        if (v && *v) {
            return strcasestr(v, "utf-8") != NULL || strcasestr(v, "utf8") != NULL;
        }
    }
    return 0;
}

/* UTF-8 marks only on a terminal whose locale says UTF-8; see verdict.h. */
int report_verdict_utf8(FILE *out) {
    int fd = out ? fileno(out) : -1;

    return fd >= 0 && isatty(fd) && verdict_locale_utf8();
}

/* Columns a UTF-8 string takes (every character one column). */
static size_t verdict_columns(const char *s, size_t bytes) {
    size_t cols = 0;

    for (size_t i = 0; i < bytes; i++) {
        cols += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return cols;
}

/*
 * Prints lead followed by text, broken at spaces so that no line passes VERDICT_WIDTH columns
 * (a single longer word still gets its line); continuation lines are indented by `indent`.
 */
static void verdict_wrap(FILE *out, const char *lead, const char *text, int indent) {
    size_t col = verdict_columns(lead, strlen(lead));
    int first = 1;

    fputs(lead, out);
    while (*text) {
        size_t word = strcspn(text, " "), width = verdict_columns(text, word);

        if (!first && col + 1 + width > VERDICT_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = (size_t)indent;
        } else if (!first) {
            fputc(' ', out);
            col++;
        }
        fwrite(text, 1, word, out);
        col += width;
        first = 0;
        text += word;
        while (*text == ' ') {
            text++;
        }
    }
    fputc('\n', out);
}

/* Writes the verdict block; see verdict.h. */
void report_verdict_write(FILE *out, const report_verdict *v, double monthly_cost, int utf8) {
    const char *ok = utf8 ? "\xe2\x9c\x93" : "[ok]", *bad = utf8 ? "\xe2\x9c\x97" : "[!!]";
    const char *none = utf8 ? " " : "[--]", *dash = utf8 ? "\xe2\x80\x94" : "-";
    char line[320], cost[256];

    fprintf(out, "\nVerdict:\n");
    for (int i = 0; i < REPORT_METRIC_COUNT; i++) {
        const report_verdict_metric *m = &v->metrics[i];
        const char *mark = m->grade == REPORT_GRADE_NONE ? none
            : m->grade <= REPORT_GRADE_GOOD              ? ok
                                                         : bad;

        fprintf(out, "  %s %s: %s %s %s\n", mark, m->label, m->text, dash,
                report_grade_name(m->grade));
    }
    fprintf(out, "  Overall: %s\n", report_grade_name(v->overall));
    verdict_wrap(out, utf8 ? "  \xe2\x86\x92 " : "  -> ", v->recommendation, utf8 ? 4 : 5);
    if (v->bottleneck_count == 0) {
        fprintf(out, "  Bottlenecks: none seen\n");
    } else {
        fprintf(out, "  Bottlenecks:\n");
        for (size_t i = 0; i < v->bottleneck_count; i++) {
            verdict_wrap(out, "    - ", v->bottlenecks[i].text, 6);
        }
    }
    if (report_verdict_cost_text(v, monthly_cost, cost, sizeof(cost)) >= 0) {
        snprintf(line, sizeof(line), "  Cost per %s: ",
                 strcmp(v->concurrency_unit, "users") == 0 ? "user" : "connection");
        verdict_wrap(out, line, cost, 4);
    }
}

/* Grades r and prints the block; see verdict.h. */
void report_verdict_print(FILE *out, const stats_result *r, double monthly_cost) {
    report_verdict v;

    report_verdict_compute(r, NULL, &v);
    report_verdict_write(out, &v, monthly_cost, report_verdict_utf8(out));
}

static json_t *verdict_json_triple_of(const double *e) {
    return json_pack("[fff]", e[0], e[1], e[2]);
}

static json_t *verdict_json_bands(const report_verdict_bands *b) {
    return json_pack("{s:o, s:o, s:o, s:o}", "success_pct", verdict_json_triple_of(b->success_pct),
                     "avg_ms", verdict_json_triple_of(b->avg_ms), "max_ms",
                     verdict_json_triple_of(b->max_ms), "status_5xx_pct",
                     verdict_json_triple_of(b->err_5xx_pct));
}

static json_t *verdict_json_metrics(const report_verdict *v) {
    json_t *o = json_object();

    for (int i = 0; o && i < REPORT_METRIC_COUNT; i++) {
        const report_verdict_metric *m = &v->metrics[i];
        int graded = m->grade != REPORT_GRADE_NONE;
        int has_value = graded && !(i == REPORT_METRIC_SUCCESS && v->completed == 0);

        json_object_set_new(
            o, m->key,
            json_pack("{s:o, s:o, s:s}", "value",
                      has_value ? json_real(round(m->value * 1e6) / 1e6) : json_null(), "grade",
                      graded ? json_string(report_grade_name(m->grade)) : json_null(), "text",
                      m->text));
    }
    return o;
}

static json_t *verdict_json_bottlenecks(const report_verdict *v) {
    json_t *a = json_array();

    for (size_t i = 0; a && i < v->bottleneck_count; i++) {
        const report_bottleneck *bn = &v->bottlenecks[i];

        json_array_append_new(a,
                              json_pack("{s:s, s:f, s:I, s:o, s:s}", "kind", bn->kind, "share_pct",
                                        round(bn->share_pct * 1e6) / 1e6, "count",
                                        (json_int_t)bn->count, "since_s",
                                        bn->since_s >= 0 ? json_integer(bn->since_s) : json_null(),
                                        "text", bn->text));
    }
    return a;
}

/* The "verdict" object of the results file; see verdict.h. */
json_t *report_verdict_json(const stats_result *r) {
    report_verdict v;

    report_verdict_compute(r, NULL, &v);
    return json_pack("{s:o, s:o, s:o, s:b, s:s, s:o, s:I, s:s}", "bands",
                     verdict_json_bands(report_verdict_bands_current()), "metrics",
                     verdict_json_metrics(&v), "overall",
                     v.overall >= 0 ? json_string(report_grade_name(v.overall)) : json_null(),
                     "handled", v.handled, "recommendation", v.recommendation, "bottlenecks",
                     verdict_json_bottlenecks(&v), "concurrency", (json_int_t)v.concurrency,
                     "concurrency_unit", v.concurrency_unit);
}
