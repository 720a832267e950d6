/* test_report.c: unit tests of src/report: formatting, the results file, the text summary. */
#include "harness.h"
#include "report/format.h"
#include "report/json.h"
#include "report/summary.h"
#include "stats/result.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STAMP "2026-12-03T10:00:00Z"

#define EXPECT_DBL(a, b)                                                                           \
    do {                                                                                           \
        double da_ = (a), db_ = (b);                                                               \
        if (da_ != db_) {                                                                          \
            fprintf(stderr, "  %s:%d: %s == %.17g, expected %s == %.17g\n", __FILE__, __LINE__,    \
                    #a, da_, #b, db_);                                                             \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

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

static char tmp_root[] = "/tmp/volley-test-report-XXXXXX";
static const double check_pcts[] = {0, 1, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng_next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A long-tailed latency in microseconds: mostly under 2 ms, some up to seconds. */
static uint64_t sample_us(void) {
    uint64_t r = rng_next();
    return 50 + r % 2000 + ((r >> 32) % 100 == 0 ? (r >> 40) % 3000000 : 0);
}

/* A run with every part filled: config with secrets, totals, endpoints, an 11-second series. */
static void build_result(stats_result *r) {
    static const char *const headers[] = {
        "Authorization: Bearer secret-token-1", "cookie: auth_token=secret-cookie-2",
        "X-Trace: visible-3", "Proxy-Authorization : Basic secret-4"};
    stats_endpoint *get, *post;
    size_t i;

    EXPECT_INT(stats_result_init(r), 0);
    r->config.url = strdup("http://127.0.0.1:8080/");
    r->config.mode = strdup("connections");
    r->config.threads = 2;
    r->config.connections = 100;
    r->config.duration_ms = 10000;
    r->config.timeout_ms = 2000;
    r->config.max_body_bytes = 64ULL << 20;
    r->config.tls_verify = 1;
    for (i = 0; i < 4; i++) {
        r->config.headers[i] = strdup(headers[i]);
    }
    r->config.header_count = 4;
    snprintf(r->started_at, sizeof(r->started_at), "%s", STAMP);
    snprintf(r->version, sizeof(r->version), "0.1.0");
    r->duration_s = 10.0;

    get = stats_endpoints_get(r->endpoints, "GET", "/", 1);
    post = stats_endpoints_get(r->endpoints, "POST", "/login?x", 6);
    for (i = 0; i < 20000; i++) {
        uint64_t v = sample_us();
        stats_point *p = stats_series_at(r->series, (uint32_t)(i / 2000));

        stats_hist_record(r->latency, v);
        stats_hist_record(i % 4 ? get->latency : post->latency, v);
        stats_hist_record(p->latency, v);
        p->c.requests++;
        p->c.responses++;
        p->c.ok++;
        p->c.status_class[2]++;
        p->c.bytes_in += 1000;
        p->users = (uint32_t)(i / 2000);
    }
    stats_series_at(r->series, 10)->c.requests = 7; /* a partial last second */
    stats_series_at(r->series, 3)->c.errors[STATS_ERR_TIMEOUT] = 2;
    for (i = 0; i < 100; i++) {
        stats_hist_record(r->connect, 80 + i);
        stats_hist_record(r->tls, 900 + 13 * i);
        stats_hist_record(r->ttfb, 300 + 5 * i);
    }

    r->totals.requests = 20015;
    r->totals.responses = 20000;
    r->totals.ok = 19990;
    r->totals.failed = 22;
    r->totals.bytes_in = 15ULL << 20;
    r->totals.bytes_out = 1234567;
    r->totals.errors[STATS_ERR_TIMEOUT] = 2;
    r->totals.errors[STATS_ERR_STATUS_5XX] = 10;
    r->totals.errors[STATS_ERR_STATUS_4XX] = 10;
    r->totals.status_class[2] = 19980;
    r->totals.status_class[4] = 10;
    r->totals.status_class[5] = 10;
    r->in_flight = 3;
    r->connections_opened = 100;
    get->c.requests = 15000;
    get->c.ok = 14990;
    get->c.errors[STATS_ERR_STATUS_5XX] = 10;
    post->c.requests = 5015;
    post->c.bytes_out = 777;
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;

    if (f) {
        FILE *m = open_memstream(&buf, &len);
        int ch;
        while ((ch = fgetc(f)) != EOF) {
            fputc(ch, m);
        }
        fclose(m);
        fclose(f);
    }
    return buf ? buf : strdup("");
}

static size_t count_dir(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    while (d && (e = readdir(d)) != NULL) {
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static void expect_hist_equal(const stats_hist *a, const stats_hist *b) {
    size_t i;

    EXPECT_INT(stats_hist_count(b), stats_hist_count(a));
    EXPECT_INT(stats_hist_min(b), stats_hist_min(a));
    EXPECT_INT(stats_hist_max(b), stats_hist_max(a));
    EXPECT_DBL(stats_hist_mean(b), stats_hist_mean(a));
    EXPECT_DBL(stats_hist_stdev(b), stats_hist_stdev(a));
    for (i = 0; i < sizeof(check_pcts) / sizeof(check_pcts[0]); i++) {
        EXPECT_INT(stats_hist_percentile(b, check_pcts[i]),
                   stats_hist_percentile(a, check_pcts[i]));
    }
}

static void expect_counters_equal(const stats_counters *a, const stats_counters *b) {
    int i;

    EXPECT_INT(b->requests, a->requests);
    EXPECT_INT(b->responses, a->responses);
    EXPECT_INT(b->ok, a->ok);
    EXPECT_INT(b->failed, a->failed);
    EXPECT_INT(b->bytes_in, a->bytes_in);
    EXPECT_INT(b->bytes_out, a->bytes_out);
    for (i = 0; i < STATS_ERR_COUNT; i++) {
        EXPECT_INT(b->errors[i], a->errors[i]);
    }
    for (i = 0; i < 6; i++) {
        EXPECT_INT(b->status_class[i], a->status_class[i]);
    }
}

static void test_format_duration(void) {
    char b[32];

    EXPECT_STR(report_format_duration_us(0, b, sizeof(b)), "0.00us");
    EXPECT_STR(report_format_duration_us(631, b, sizeof(b)), "631.00us");
    EXPECT_STR(report_format_duration_us(1234, b, sizeof(b)), "1.23ms");
    EXPECT_STR(report_format_duration_us(12510, b, sizeof(b)), "12.51ms");
    EXPECT_STR(report_format_duration_us(999.999, b, sizeof(b)), "1.00ms");
    EXPECT_STR(report_format_duration_us(10e6, b, sizeof(b)), "10.00s");
    EXPECT_STR(report_format_duration_us(90e6, b, sizeof(b)), "1.50m");
    EXPECT_STR(report_format_duration_us(7200e6, b, sizeof(b)), "2.00h");
    EXPECT_STR(report_format_span_ms(10000, b, sizeof(b)), "10s");
    EXPECT_STR(report_format_span_ms(300000, b, sizeof(b)), "5m");
    EXPECT_STR(report_format_span_ms(7200000, b, sizeof(b)), "2h");
    EXPECT_STR(report_format_span_ms(90000, b, sizeof(b)), "90s");
    EXPECT_STR(report_format_span_ms(1500, b, sizeof(b)), "1500ms");
}

static void test_format_sizes_and_counts(void) {
    char b[32];

    EXPECT_STR(report_format_bytes(512, b, sizeof(b)), "512.00B");
    EXPECT_STR(report_format_bytes(1536, b, sizeof(b)), "1.50KB");
    EXPECT_STR(report_format_bytes(12.34 * 1024 * 1024, b, sizeof(b)), "12.34MB");
    EXPECT_STR(report_format_bytes(1.23 * 1024 * 1024 * 1024, b, sizeof(b)), "1.23GB");
    EXPECT_STR(report_format_bytes(1023.999, b, sizeof(b)), "1.00KB");
    EXPECT_STR(report_format_count(80.12, b, sizeof(b)), "80.12");
    EXPECT_STR(report_format_count(80120, b, sizeof(b)), "80.12k");
    EXPECT_STR(report_format_count(1.5e6, b, sizeof(b)), "1.50M");
    EXPECT_STR(report_format_percent_label(50, b, sizeof(b)), "50");
    EXPECT_STR(report_format_percent_label(99.9, b, sizeof(b)), "99.9");
    EXPECT_STR(report_format_percent_label(99.99, b, sizeof(b)), "99.99");
}

/* Write twice with the same start: the second file takes -2; both read back exactly. */
static void test_json_round_trip(void) {
    stats_result r, back;
    char dir[512], path1[1024], path2[1024], err[256];
    size_t i;

    build_result(&r);
    snprintf(dir, sizeof(dir), "%s/results/nested", tmp_root);
    EXPECT_INT(report_json_write(&r, dir, "127.0.0.1_c100", path1, sizeof(path1)), 0);
    EXPECT_INT(report_json_write(&r, dir, "127.0.0.1_c100", path2, sizeof(path2)), 0);
    EXPECT_STR(strrchr(path1, '/') + 1, "2026-12-03T10-00-00Z_127.0.0.1_c100.json");
    EXPECT_HAS(path2, "/results/nested/2026-12-03T10-00-00Z_127.0.0.1_c100-2.json", 1);
    EXPECT_INT(count_dir(dir, ".volley-result-"), 0);

    snprintf(path1, sizeof(path1), "%s/2026-12-03T10-00-00Z_127.0.0.1_c100.json", dir);
    EXPECT_INT(report_json_read(path1, &back, err, sizeof(err)), 0);
    EXPECT_STR(err, "");
    EXPECT_STR(back.started_at, STAMP);
    EXPECT_STR(back.version, "0.1.0");
    EXPECT_DBL(back.duration_s, 10.0);
    EXPECT_INT(back.stop, STATS_STOP_DONE);
    EXPECT_STR(back.config.url, "http://127.0.0.1:8080/");
    EXPECT(back.config.script == NULL);
    EXPECT_STR(back.config.mode, "connections");
    EXPECT_INT(back.config.threads, 2);
    EXPECT_INT(back.config.connections, 100);
    EXPECT_INT(back.config.duration_ms, 10000);
    EXPECT_INT(back.config.requests, 0);
    EXPECT_INT(back.config.timeout_ms, 2000);
    EXPECT_INT(back.config.max_body_bytes, 64 << 20);
    EXPECT_INT(back.config.tls_verify, 1);
    EXPECT_INT(back.config.header_count, 4);
    EXPECT_STR(back.config.headers[0], "Authorization: [redacted]");
    EXPECT_STR(back.config.headers[1], "cookie: [redacted]");
    EXPECT_STR(back.config.headers[2], "X-Trace: visible-3");
    EXPECT_STR(back.config.headers[3], "Proxy-Authorization: [redacted]");

    expect_counters_equal(&r.totals, &back.totals);
    EXPECT_INT(back.in_flight, 3);
    EXPECT_INT(back.connections_opened, 100);
    expect_hist_equal(r.latency, back.latency);
    expect_hist_equal(r.connect, back.connect);
    expect_hist_equal(r.tls, back.tls);
    expect_hist_equal(r.ttfb, back.ttfb);

    EXPECT_INT(stats_endpoints_count(back.endpoints), 2);
    for (i = 0; i < 2 && i < stats_endpoints_count(back.endpoints); i++) {
        stats_endpoint *a = stats_endpoints_at(r.endpoints, i),
                       *b = stats_endpoints_at(back.endpoints, i);
        EXPECT_STR(b->method, a->method);
        EXPECT_STR(b->name, a->name);
        expect_counters_equal(&a->c, &b->c);
        expect_hist_equal(a->latency, b->latency);
    }
    EXPECT_STR(stats_endpoints_at(back.endpoints, 1)->name, "/login");

    EXPECT_INT(stats_series_len(back.series), 11);
    for (i = 0; i < 11 && i < stats_series_len(back.series); i++) {
        stats_point *a = stats_series_at(r.series, (uint32_t)i);
        stats_point *b = stats_series_at(back.series, (uint32_t)i);
        EXPECT_INT(b->second, i);
        EXPECT_INT(b->users, a->users);
        expect_counters_equal(&a->c, &b->c);
        expect_hist_equal(a->latency, b->latency);
    }
    stats_result_free(&back);
    stats_result_free(&r);
}

/* Sums of squares past 2^63 cannot be JSON integers; they must still come back bit for bit. */
static void test_json_huge_sums(void) {
    stats_result r, back;
    char dir[512], path[1024], err[256];

    EXPECT_INT(stats_result_init(&r), 0);
    snprintf(r.started_at, sizeof(r.started_at), "%s", STAMP);
    stats_hist_record_n(r.latency, 3999999999ULL, 1000003);
    stats_hist_record(r.latency, 1234567891);
    stats_hist_record(r.latency, 7);
    snprintf(dir, sizeof(dir), "%s/huge", tmp_root);
    EXPECT_INT(report_json_write(&r, dir, "slow_c1", path, sizeof(path)), 0);
    EXPECT_INT(report_json_read(path, &back, err, sizeof(err)), 0);
    EXPECT_STR(err, "");
    if (back.latency) {
        double sum_a, sum_b, sq_a, sq_b;
        uint64_t lo, hi;

        /* The file carries exactly what stats_hist_get_exact hands over, a double; the
         * histogram itself keeps a wider sum of squares, so its stdev may move in the 12th
         * digit. Everything else is exact. */
        EXPECT_INT(stats_hist_count(back.latency), stats_hist_count(r.latency));
        EXPECT_INT(stats_hist_min(back.latency), stats_hist_min(r.latency));
        EXPECT_INT(stats_hist_max(back.latency), stats_hist_max(r.latency));
        EXPECT_DBL(stats_hist_mean(back.latency), stats_hist_mean(r.latency));
        EXPECT_INT(stats_hist_percentile(back.latency, 50), stats_hist_percentile(r.latency, 50));
        EXPECT(fabs(stats_hist_stdev(back.latency) / stats_hist_stdev(r.latency) - 1) < 1e-9);
        stats_hist_get_exact(r.latency, &lo, &hi, &sum_a, &sq_a);
        stats_hist_get_exact(back.latency, &lo, &hi, &sum_b, &sq_b);
        EXPECT_DBL(sum_b, sum_a);
        EXPECT_DBL(sq_b, sq_a);
        stats_result_free(&back);
    }
    stats_result_free(&r);
}

/* What a user opening the file sees: no credentials, every class, the documented fields. */
static void test_json_file_text(void) {
    stats_result r;
    char dir[512], path[1024];
    json_t *doc, *errors;
    char *text;
    int cls;

    build_result(&r);
    snprintf(dir, sizeof(dir), "%s/text", tmp_root);
    EXPECT_INT(report_json_write(&r, dir, "login flow/v2", path, sizeof(path)), 0);
    EXPECT_HAS(path, "/text/2026-12-03T10-00-00Z_login_flow_v2.json", 1);
    text = read_text(path);
    EXPECT_HAS(text, "secret-token-1", 0);
    EXPECT_HAS(text, "secret-cookie-2", 0);
    EXPECT_HAS(text, "secret-4", 0);
    EXPECT_HAS(text, "X-Trace: visible-3", 1);
    EXPECT_HAS(text, "Authorization: [redacted]", 1);
    EXPECT_HAS(text, "\"schema\":\"volley.result/1\"", 1);
    EXPECT_HAS(text, "\"stop\":\"done\"", 1);
    EXPECT_HAS(text, "\"incomplete\":false", 1);
    EXPECT_HAS(text, "\"stop_reason\"", 0);
    EXPECT_HAS(text, "\"requests_limit\":null", 1);
    EXPECT_HAS(text, "\"script\":null", 1);
    EXPECT_HAS(text, "\"rps\":2000.0", 1);
    EXPECT_HAS(text, "\"unit\":\"us\"", 1);

    doc = json_loads(text, 0, NULL);
    EXPECT(doc != NULL);
    errors = json_object_get(doc, "errors");
    for (cls = 0; cls < STATS_ERR_COUNT; cls++) {
        json_t *v = json_object_get(errors, stats_err_name(cls));
        if (!json_is_integer(v)) {
            fprintf(stderr, "  errors.%s missing\n", stats_err_name(cls));
            harness_failed_checks++;
        }
    }
    EXPECT_INT(json_integer_value(json_object_get(errors, "timeout")), 2);
    EXPECT_INT(json_integer_value(json_object_get(errors, "dns")), 0);
    EXPECT_INT(json_integer_value(json_object_get(json_object_get(doc, "status_classes"), "5xx")),
               10);
    EXPECT_DBL(json_number_value(json_object_get(
                   json_object_get(json_object_get(doc, "totals"), "latency_ms"), "max")),
               stats_hist_max(r.latency) / 1000.0);
    /* a second's errors list only its non-zero classes */
    EXPECT_INT(json_object_size(json_object_get(
                   json_array_get(json_object_get(doc, "timeseries"), 3), "errors")),
               1);
    json_decref(doc);
    free(text);

    r.stop = STATS_STOP_INCOMPLETE;
    snprintf(r.stop_reason, sizeof(r.stop_reason), "worker 1 did not stop");
    EXPECT_INT(report_json_write(&r, dir, "stuck", path, sizeof(path)), 0);
    text = read_text(path);
    EXPECT_HAS(text, "\"stop\":\"incomplete\",\"stop_reason\":\"worker 1 did not stop\"", 1);
    EXPECT_HAS(text, "\"incomplete\":true", 1);
    free(text);

    /* failures leave nothing behind: a path buffer too small, a directory that is a file */
    EXPECT_INT(report_json_write(&r, dir, "stuck", path, 16), -ENAMETOOLONG);
    EXPECT_STR(path, "");
    EXPECT_INT(count_dir(dir, ".volley-result-"), 0);
    EXPECT_INT(count_dir(dir, "2026"), 2);
    snprintf(dir, sizeof(dir), "%s/text/2026-12-03T10-00-00Z_login_flow_v2.json/sub", tmp_root);
    EXPECT_INT(report_json_write(&r, dir, "stuck", path, sizeof(path)), -ENOTDIR);
    stats_result_free(&r);
}

/* Two processes writing the same name at once each get their own file; nothing is lost. */
static void test_json_concurrent_names(void) {
    stats_result r;
    char dir[512], path[1024];
    pid_t kids[2];
    int i, status, ok_kids = 0;

    EXPECT_INT(stats_result_init(&r), 0);
    snprintf(r.started_at, sizeof(r.started_at), "%s", STAMP);
    snprintf(dir, sizeof(dir), "%s/race", tmp_root);
    EXPECT_INT(mkdir(dir, 0700), 0);
    fflush(NULL);
    for (i = 0; i < 2; i++) {
        if ((kids[i] = fork()) == 0) {
            int n, bad = 0;
            for (n = 0; n < 15; n++) {
                bad |= report_json_write(&r, dir, "host_c1", path, sizeof(path)) != 0;
            }
            stats_result_free(&r);
            _exit(bad);
        }
    }
    for (i = 0; i < 2; i++) {
        if (kids[i] > 0 && waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0) {
            ok_kids++;
        }
    }
    EXPECT_INT(ok_kids, 2);
    EXPECT_INT(count_dir(dir, "2026-12-03T10-00-00Z_host_c1"), 30);
    EXPECT_INT(count_dir(dir, "."), 2); /* only . and .., no temporary file left */
    stats_result_free(&r);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Each broken input gives a negative code and a one-line reason naming the problem. */
static void expect_read_error(const char *text, const char *reason) {
    char path[512], err[256];
    stats_result r;
    int rc;

    snprintf(path, sizeof(path), "%s/broken.json", tmp_root);
    if (text) {
        write_file(path, text);
    } else {
        unlink(path);
    }
    rc = report_json_read(path, &r, err, sizeof(err));
    EXPECT(rc < 0);
    EXPECT_HAS(err, reason, 1);
    EXPECT(strchr(err, '\n') == NULL);
    EXPECT(r.latency == NULL && r.config.url == NULL);
}

static void test_json_read_errors(void) {
    expect_read_error(NULL, "cannot open: No such file or directory");
    expect_read_error("Running 10s test @ http://x/\n", "not JSON");
    expect_read_error("{\"schema\": \"volley.result/1\",", "not JSON");
    expect_read_error("[1, 2]", "not a volley result");
    expect_read_error("{\"schema\": \"locust/1\", \"totals\": {}}", "not a volley result");
    expect_read_error("{\"schema\": \"volley.result/1\"}", "no totals");
    expect_read_error("{\"schema\": \"volley.result/1\", \"totals\": {\"requests\": -4}}",
                      "bad value for totals.requests");
    expect_read_error("{\"schema\": \"volley.result/1\", \"config\": {\"url\": \"http://x/\", "
                      "\"headers\": [\"A: b\"]}, \"totals\": {\"latency_histogram\": "
                      "{\"count\": 5, \"buckets\": [[100, 4]]}}}",
                      "totals.latency_histogram: count does not match its buckets");
    expect_read_error(
        "{\"schema\": \"volley.result/1\", \"totals\": {}, \"endpoints\": [{\"name\": "
        "\"/\", \"method\": \"GET\", \"histogram\": {\"buckets\": [[1]]}}]}",
        "bad value for endpoints[0].histogram");
    expect_read_error("{\"schema\": \"volley.result/1\", \"totals\": {}, \"timeseries\": "
                      "[{\"second\": 99999999999}]}",
                      "bad value for timeseries[0].second");
}

/* A minimal file from another writer reads with defaults. */
static void test_json_read_minimal(void) {
    char path[512], err[256];
    stats_result r;

    snprintf(path, sizeof(path), "%s/minimal.json", tmp_root);
    write_file(path,
               "{\"schema\": \"volley.result/1\", \"future_field\": [1], \"totals\": "
               "{\"requests\": 5, \"ok\": 5}, \"errors\": {\"timeout\": 1, \"new_class\": 9}}");
    EXPECT_INT(report_json_read(path, &r, err, sizeof(err)), 0);
    EXPECT_STR(err, "");
    EXPECT_INT(r.totals.requests, 5);
    EXPECT_INT(r.totals.errors[STATS_ERR_TIMEOUT], 1);
    EXPECT_INT(r.config.tls_verify, 1);
    EXPECT_INT(stats_hist_count(r.latency), 0);
    stats_result_free(&r);
}

static char *summary_text(const stats_result *r, int show_latency_table) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    report_summary_print(m, r, show_latency_table);
    fclose(m);
    return buf;
}

static void test_summary(void) {
    stats_result r;
    char *text;

    build_result(&r);
    text = summary_text(&r, 1);
    EXPECT_HAS(text, "Running 10s test @ http://127.0.0.1:8080/\n  2 threads and 100 connections\n",
               1);
    EXPECT_HAS(text, "\n  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency   ", 1);
    /* 10 whole seconds of 2000 responses on 2 threads; the partial 11th second is left out */
    EXPECT_HAS(text, "\n    Req/Sec     1.00k     0.00     1.00k   100.00%\n", 1);
    EXPECT_HAS(text, "\n  Latency Distribution\n     50%", 1);
    EXPECT_HAS(text, "\n  99.99%", 1);
    EXPECT_HAS(text, "\n  20000 requests in 10.00s, 15.00MB read\n", 1);
    EXPECT_HAS(text, "\n  Socket errors: connect 0, read 0, write 0, timeout 2\n", 1);
    EXPECT_HAS(text, "\n  Non-2xx or 3xx responses: 20\n", 1);
    EXPECT_HAS(text, "\n  Errors: timeout 2, status_4xx 10, status_5xx 10\n", 1);
    EXPECT_HAS(text, "\n  In flight at stop: 3\n", 1);
    EXPECT_HAS(text, "\n  TLS handshake: mean 1.54ms, p99 2.17ms\n", 1);
    EXPECT_HAS(text, "\nRequests/sec:   2000.00\nTransfer/sec:      1.50MB\n", 1);
    free(text);

    /* HTTP failures only: no Socket errors line, no in-flight line, no latency table */
    r.totals.errors[STATS_ERR_TIMEOUT] = 0;
    r.in_flight = 0;
    stats_hist_reset(r.tls);
    text = summary_text(&r, 0);
    EXPECT_HAS(text, "Socket errors", 0);
    EXPECT_HAS(text, "Latency Distribution", 0);
    EXPECT_HAS(text, "In flight", 0);
    EXPECT_HAS(text, "TLS handshake", 0);
    EXPECT_HAS(text, "\n  Errors: status_4xx 10, status_5xx 10\n", 1);
    EXPECT_HAS(text, "Requests/sec:", 1);
    EXPECT_HAS(text, "Transfer/sec:", 1);
    free(text);

    /* a dns failure alone counts as a socket error of the connect kind */
    r.totals.errors[STATS_ERR_DNS] = 1;
    r.totals.errors[STATS_ERR_PARSE] = 4;
    text = summary_text(&r, 0);
    EXPECT_HAS(text, "\n  Socket errors: connect 1, read 4, write 0, timeout 0\n", 1);
    free(text);
    stats_result_free(&r);
}

/* wrk's columns: values right-aligned so that decimal points line up whatever the unit. */
static void test_summary_columns(void) {
    stats_result r;
    char *text;

    EXPECT_INT(stats_result_init(&r), 0);
    r.config.url = strdup("http://[::1]:8080/x");
    r.config.threads = 1;
    r.config.connections = 1;
    r.config.requests = 2;
    r.duration_s = 0.5;
    r.totals.responses = 2;
    r.totals.bytes_in = 300;
    stats_hist_record(r.latency, 500);
    stats_hist_record(r.latency, 762);
    text = summary_text(&r, 1);
    EXPECT_HAS(text, "Running 2 requests test @ http://[::1]:8080/x\n", 1);
    EXPECT_HAS(text, "\n    Latency   631.00us  131.00us 762.00us  100.00%\n", 1);
    /* shorter than a second: one sample, the average rate */
    EXPECT_HAS(text, "\n    Req/Sec     4.00      0.00     4.00    100.00%\n", 1);
    EXPECT_HAS(text, "\n     50%  500.00us\n", 1);
    EXPECT_HAS(text, "\n  99.99%  762.00us\n", 1);
    EXPECT_HAS(text, "\n  2 requests in 500.00ms, 300.00B read\n", 1);
    EXPECT_HAS(text, "Errors:", 0);
    EXPECT_HAS(text, "Non-2xx", 0);
    EXPECT_HAS(text, "\nRequests/sec:      4.00\nTransfer/sec:     600.00B\n", 1);
    free(text);
    stats_result_free(&r);
}

static void remove_tree(const char *path) {
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0) {
        fprintf(stderr, "  could not remove %s\n", path);
    }
}

int main(void) {
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_format_duration);
    RUN(test_format_sizes_and_counts);
    RUN(test_json_round_trip);
    RUN(test_json_huge_sums);
    RUN(test_json_file_text);
    RUN(test_json_concurrent_names);
    RUN(test_json_read_errors);
    RUN(test_json_read_minimal);
    RUN(test_summary);
    RUN(test_summary_columns);
    remove_tree(tmp_root);
    HARNESS_END();
}
