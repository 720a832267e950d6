/* test_outputs.c: unit tests of the extra outputs of a run: Locust's CSV files, the HTML report
 * (charts, escaping, no network references) and report_outputs_write's files and names. */
#include "harness.h"
#include "report/commands.h"
#include "report/csv.h"
#include "report/html.h"
#include "stats/result.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPECT_HAS(text, needle, want)                                                             \
    do {                                                                                           \
        const char *ht_ = (text), *hn_ = (needle);                                                 \
        if ((strstr(ht_, hn_) != NULL) != (want)) {                                                \
            fprintf(stderr, "  %s:%d: expected %s\"%s\" in:\n%.3000s\n", __FILE__, __LINE__,       \
                    (want) ? "" : "no ", hn_, ht_);                                                \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

static char tmp_dir[] = "/tmp/volley-test-outputs-XXXXXX";

static const char stats_header[] =
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,"
    "80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n";

static const char history_header[] =
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
    "99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size\r\n";

/* Counts one request into an endpoint, the totals and a second of the series. */
static void add(stats_result *r, stats_endpoint *e, uint32_t second, uint64_t latency_us, int cls,
                uint64_t bytes_in) {
    stats_point *p = stats_series_at(r->series, second);
    stats_counters *cs[3] = {&r->totals, &e->c, &p->c};

    for (int i = 0; i < 3; i++) {
        cs[i]->requests++;
        cs[i]->responses++;
        cs[i]->bytes_in += bytes_in;
        if (cls < 0) {
            cs[i]->ok++;
            cs[i]->status_class[2]++;
        } else {
            cs[i]->failed++;
            cs[i]->errors[cls]++;
            cs[i]->status_class[5]++;
        }
    }
    p->users = 2;
    stats_hist_record(r->latency, latency_us);
    stats_hist_record(e->latency, latency_us);
    stats_hist_record(p->latency, latency_us);
}

/* Two seconds, three endpoints (one without requests, one whose name needs quoting). */
static void build(stats_result *r) {
    stats_endpoint *b, *ab, *row;

    EXPECT_INT(stats_result_init(r), 0);
    r->config.url = strdup("http://127.0.0.1:9/");
    r->config.mode = strdup("users");
    r->config.users = 2;
    r->config.threads = 1;
    r->config.duration_ms = 2000;
    r->config.header_count = 2;
    r->config.headers[0] = strdup("Authorization: Bearer top-secret-42");
    r->config.headers[1] = strdup("X-Note: <b>&amp;");
    r->users_peak = 2;
    r->duration_s = 2.0;
    snprintf(r->started_at, sizeof(r->started_at), "2026-12-03T10:00:00Z");
    snprintf(r->version, sizeof(r->version), "0.1.0");
    b = stats_endpoints_get(r->endpoints, "GET", "/b", 2);
    ab = stats_endpoints_get(r->endpoints, "POST", "a,b", 3);
    stats_endpoints_get(r->endpoints, "GET", "/none", 5);
    add(r, b, 0, 1000, -1, 100);
    add(r, ab, 0, 500, -1, 50);
    add(r, b, 1, 2000, -1, 100);
    add(r, b, 1, 3000, STATS_ERR_STATUS_5XX, 100);
    row = stats_endpoints_get(r->failures, "a,b", "said \"no\"", 9);
    row->c.failed = 2;
    row = stats_endpoints_get(r->failures, "/b", "HTTP 500", 8);
    row->c.failed = 1;
    r->script_errors = 2;
    snprintf(r->script_error, sizeof(r->script_error), "boom, at line 3");
}

static char *capture(void (*fn)(FILE *, const stats_result *), const stats_result *r) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    fn(f, r);
    fclose(f);
    return buf;
}

static void csv_stats_rows(void) {
    stats_result r;
    char *text;

    build(&r);
    text = capture(report_csv_stats, &r);
    EXPECT_STR(text,
               "Type,Name,Request Count,Failure Count,Median Response Time,"
               "Average Response Time,Min Response Time,Max Response Time,"
               "Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
               "99.9%,99.99%,100%\r\n"
               "GET,/b,3,1,2,2.0,1.0,3.0,100.0,1.5,0.5,2,2,3,3,3,3,3,3,3,3,3\r\n"
               "GET,/none,0,0,0,0.0,0.0,0.0,0.0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,"
               "N/A,N/A\r\n"
               "POST,\"a,b\",1,0,1,0.5,0.5,0.5,50.0,0.5,0.0,1,1,1,1,1,1,1,1,1,1,1\r\n"
               ",Aggregated,4,1,1,1.625,0.5,3.0,87.5,2.0,0.5,1,2,2,3,3,3,3,3,3,3,3\r\n");
    EXPECT(strncmp(text, stats_header, strlen(stats_header)) == 0);
    free(text);
    stats_result_free(&r);
}

/* One Aggregated row a second: that second's rates and percentiles, cumulative totals. */
static void csv_history_rows(void) {
    stats_result r;
    char *text;

    build(&r);
    text = capture(report_csv_history, &r);
    EXPECT_STR(text,
               "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,"
               "95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,"
               "Total Median Response Time,Total Average Response Time,"
               "Total Min Response Time,Total Max Response Time,"
               "Total Average Content Size\r\n"
               "1796292001,2,,Aggregated,2.000000,0.000000,1,1,1,1,1,1,1,1,1,1,1,2,0,1,0.75,"
               "0.5,1.0,75.0\r\n"
               "1796292002,2,,Aggregated,2.000000,1.000000,2,3,3,3,3,3,3,3,3,3,3,4,1,1,"
               "1.625,0.5,3.0,87.5\r\n");
    EXPECT(strncmp(text, history_header, strlen(history_header)) == 0);
    free(text);
    stats_result_free(&r);
}

/* A second cut short by the stop is a rate over the part the run covered. */
static void csv_history_partial_second(void) {
    stats_result r;
    char *text;

    build(&r);
    r.duration_s = 1.5;
    text = capture(report_csv_history, &r);
    EXPECT_HAS(text, "1796292002,2,,Aggregated,4.000000,2.000000,", 1);
    free(text);
    stats_result_free(&r);
}

static void csv_failures_rows(void) {
    stats_result r;
    char *text;

    build(&r);
    text = capture(report_csv_failures, &r);
    EXPECT_STR(text,
               "Method,Name,Error,Occurrences\r\n"
               "GET,/b,HTTP 500,1\r\n"
               "POST,\"a,b\",\"said \"\"no\"\"\",2\r\n");
    free(text);
    stats_result_free(&r);
}

/* Without a failures table (connection mode) the failure classes of each endpoint stand in. */
static void csv_failures_by_class(void) {
    stats_result r;
    char *text;

    build(&r);
    stats_endpoints_free(r.failures);
    r.failures = stats_endpoints_new(STATS_ENDPOINTS_CAP);
    text = capture(report_csv_failures, &r);
    EXPECT_STR(text, "Method,Name,Error,Occurrences\r\nGET,/b,status_5xx,1\r\n");
    free(text);
    stats_result_free(&r);
}

static void csv_exceptions_rows(void) {
    stats_result r;
    char *text;

    build(&r);
    text = capture(report_csv_exceptions, &r);
    EXPECT_STR(text, "Count,Message,Traceback,Nodes\r\n2,\"boom, at line 3\",,local\r\n");
    free(text);
    r.script_errors = 0;
    text = capture(report_csv_exceptions, &r);
    EXPECT_STR(text, "Count,Message,Traceback,Nodes\r\n");
    free(text);
    stats_result_free(&r);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    FILE *m;
    int ch;

    if (!f) {
        return NULL;
    }
    m = open_memstream(&buf, &len);
    while ((ch = fgetc(f)) != EOF) {
        fputc(ch, m);
    }
    fclose(m);
    fclose(f);
    return buf;
}

/* report_outputs_write puts Locust's four files and the page beside the results file. */
static void outputs_beside_results_file(void) {
    static const char *const suffixes[] = {"_stats.csv", "_stats_history.csv", "_failures.csv",
                                           "_exceptions.csv", ".html"};
    stats_result r;
    char json_path[256], path[300], err[256] = "";
    struct stat st;
    char *text;

    build(&r);
    snprintf(json_path, sizeof(json_path), "%s/2026-12-03T10-00-00Z_x_u2.json", tmp_dir);
    EXPECT_INT(report_outputs_write(&r, json_path, "csv,html", 0, err, sizeof(err)), 0);
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/2026-12-03T10-00-00Z_x_u2%s", tmp_dir, suffixes[i]);
        EXPECT_INT(stat(path, &st), 0);
        EXPECT_INT(st.st_mode & 0777, 0644);
    }
    snprintf(path, sizeof(path), "%s/2026-12-03T10-00-00Z_x_u2_stats.csv", tmp_dir);
    text = slurp(path);
    EXPECT(text != NULL);
    if (text) {
        char *want = capture(report_csv_stats, &r);
        EXPECT_STR(text, want);
        free(want);
        free(text);
    }
    EXPECT_INT(report_outputs_write(&r, json_path, "pdf", 0, err, sizeof(err)), -EINVAL);
    EXPECT_STR(err, "unknown output 'pdf' (text, json, csv, html)");
    snprintf(json_path, sizeof(json_path), "%s/no/such/dir/x.json", tmp_dir);
    EXPECT_INT(report_outputs_write(&r, json_path, "csv", 0, err, sizeof(err)), -ENOENT);
    EXPECT_HAS(err, "cannot write", 1);
    stats_result_free(&r);
}

static void outputs_parse(void) {
    unsigned mask = 0;
    char err[128];
    double cost = 0;

    EXPECT_INT(report_outputs_parse("html,csv", &mask, err, sizeof(err)), 0);
    EXPECT_INT(mask, REPORT_OUT_HTML | REPORT_OUT_CSV);
    EXPECT_INT(report_outputs_parse("text,json", &mask, err, sizeof(err)), 0);
    EXPECT_INT(mask, REPORT_OUT_TEXT | REPORT_OUT_JSON);
    EXPECT_INT(report_outputs_parse("html,", &mask, err, sizeof(err)), 0);
    EXPECT_INT(report_outputs_parse("htm", &mask, err, sizeof(err)), -EINVAL);
    EXPECT_INT(report_monthly_cost_parse("49.50", &cost, err, sizeof(err)), 0);
    EXPECT(cost == 49.5);
    EXPECT_INT(report_monthly_cost_parse("0", &cost, err, sizeof(err)), -EINVAL);
    EXPECT_INT(report_monthly_cost_parse("20$", &cost, err, sizeof(err)), -EINVAL);
}

/* ---- HTML ---- */

/* How many <polyline> elements have more than min_points points. */
static int polylines_with_points(const char *html, int min_points) {
    int found = 0;

    for (const char *p = strstr(html, "<polyline"); p; p = strstr(p + 1, "<polyline")) {
        const char *pts = strstr(p, "points=\""), *end;
        int n = 0;

        if (!pts) {
            break;
        }
        pts += 8;
        end = strchr(pts, '"');
        for (const char *q = pts; end && q < end; q++) {
            n += *q == ',';
        }
        found += n > min_points;
    }
    return found;
}

/* Every http:// or https:// in the page must be the run's own URL, shown as text. */
static void expect_no_network_refs(const char *html, const char *url) {
    for (const char *p = strstr(html, "http"); p; p = strstr(p + 1, "http")) {
        if ((strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0) &&
            strncmp(p, url, strlen(url)) != 0) {
            fprintf(stderr, "  reference in page: %.60s\n", p);
            harness_failed_checks++;
        }
    }
}

static char *page_of(const stats_result *r, double cost) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    report_html_page(f, r, cost);
    fclose(f);
    return buf;
}

static void html_page_parts(void) {
    stats_result r;
    char *html;

    build(&r);
    for (uint32_t s = 2; s < 8; s++) {
        add(&r, stats_endpoints_at(r.endpoints, 0), s, 1000 + s * 100, -1, 100);
    }
    r.duration_s = 8;
    html = page_of(&r, 30);
    EXPECT_HAS(html, "<!DOCTYPE html>", 1);
    EXPECT_HAS(html, "<meta charset=\"utf-8\">", 1);
    EXPECT_HAS(html, "id=\"verdict\"", 1);
    EXPECT_HAS(html, "Requests and failures per second", 1);
    EXPECT_HAS(html, "Users over time", 1);
    EXPECT_HAS(html, "Response time over time", 1);
    EXPECT_HAS(html, "Response time distribution per endpoint", 1);
    EXPECT_HAS(html, "<h2>Endpoints</h2>", 1);
    EXPECT_HAS(html, "<h2>Failures</h2>", 1);
    EXPECT_HAS(html, "<h2>Configuration</h2>", 1);
    EXPECT_HAS(html, "Cost per user", 1);
    /* rps, fps, users, p50, p95, max and the distribution of two timed endpoints */
    EXPECT_INT(polylines_with_points(html, 2), 8);
    EXPECT_HAS(html, "<script", 0);
    EXPECT_HAS(html, "top-secret-42", 0);
    EXPECT_HAS(html, "Authorization: [redacted]", 1);
    EXPECT_HAS(html, "X-Note: &lt;b&gt;&amp;amp;", 1);
    EXPECT_HAS(html, "said &quot;no&quot;", 1);
    EXPECT_HAS(html, "xmlns", 0);
    expect_no_network_refs(html, "http://127.0.0.1:9/");
    free(html);
    stats_result_free(&r);
}

/* An empty run still gives a whole page: no NaN in the SVG, no crash. */
static void html_empty_run(void) {
    stats_result r;
    char *html;

    EXPECT_INT(stats_result_init(&r), 0);
    html = page_of(&r, 0);
    EXPECT_HAS(html, "</html>", 1);
    EXPECT_HAS(html, "nan", 0);
    EXPECT_HAS(html, "inf", 0);
    EXPECT_HAS(html, "Cost per", 0);
    free(html);
    stats_result_free(&r);
}

/* A long run is drawn in groups of seconds: at most about 900 points per line. */
static void html_long_run_grouped(void) {
    stats_result r;
    char *html;
    const char *p;
    int max_points = 0;

    build(&r);
    for (uint32_t s = 2; s < 5000; s++) {
        add(&r, stats_endpoints_at(r.endpoints, 0), s, 1000, -1, 10);
    }
    r.duration_s = 5000;
    html = page_of(&r, 0);
    for (p = strstr(html, "points=\""); p; p = strstr(p + 1, "points=\"")) {
        int n = 1;
        for (const char *q = p + 8; *q && *q != '"'; q++) {
            n += *q == ' ';
        }
        max_points = n > max_points ? n : max_points;
    }
    EXPECT(max_points > 800);
    EXPECT(max_points <= 900);
    free(html);
    stats_result_free(&r);
}

int main(void) {
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(csv_stats_rows);
    RUN(csv_history_rows);
    RUN(csv_history_partial_second);
    RUN(csv_failures_rows);
    RUN(csv_failures_by_class);
    RUN(csv_exceptions_rows);
    RUN(outputs_beside_results_file);
    RUN(outputs_parse);
    RUN(html_page_parts);
    RUN(html_empty_run);
    RUN(html_long_run_grouped);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", tmp_dir);
        }
    }
    HARNESS_END();
}
