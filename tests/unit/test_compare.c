/* test_compare.c: unit tests of `volley compare`: three saved runs side by side, the changes
 * against the first run, the marks beyond the noise, and the command's exit codes. */
#include "harness.h"
#include "report/commands.h"
#include "report/compare.h"
#include "report/json.h"
#include "stats/result.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPECT_HAS(text, needle, want)                                                             \
    do {                                                                                           \
        const char *ht_ = (text), *hn_ = (needle);                                                 \
        if ((strstr(ht_, hn_) != NULL) != (want)) {                                                \
            fprintf(stderr, "  %s:%d: expected %s\"%s\" in:\n%s\n", __FILE__, __LINE__,            \
                    (want) ? "" : "no ", hn_, ht_);                                                \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

/* Compares doubles to a millionth, printing both when they differ. */
#define EXPECT_NEAR(a, b)                                                                          \
    do {                                                                                           \
        double na_ = (a), nb_ = (b);                                                               \
        if (!(na_ - nb_ < 1e-6 && nb_ - na_ < 1e-6)) {                                             \
            fprintf(stderr, "  %s:%d: %s == %.9g, expected %.9g\n", __FILE__, __LINE__, #a, na_,   \
                    nb_);                                                                          \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

static char tmp_dir[] = "/tmp/volley-test-compare-XXXXXX";
static char path_a[4096], path_b[4096], path_c[4096];

/* One endpoint "GET /x" over 10 s: `requests` of which `ok` succeed; every latency lat_us but
 * one at max_us. */
static void add_endpoint(stats_result *r, const char *name, uint64_t requests, uint64_t ok,
                         uint64_t lat_us, uint64_t max_us) {
    stats_endpoint *e = stats_endpoints_get(r->endpoints, "GET", name, strlen(name));
    stats_counters c;

    memset(&c, 0, sizeof(c));
    c.requests = c.responses = requests;
    c.ok = ok;
    c.failed = requests - ok;
    c.errors[STATS_ERR_STATUS_5XX] = requests - ok;
    c.status_class[2] = ok;
    c.status_class[5] = requests - ok;
    stats_counters_add(&e->c, &c);
    stats_counters_add(&r->totals, &c);
    stats_hist_record_n(e->latency, lat_us, requests - 1);
    stats_hist_record(e->latency, max_us);
    stats_hist_record_n(r->latency, lat_us, requests - 1);
    stats_hist_record(r->latency, max_us);
    for (uint32_t s = 0; s < 10; s++) {
        stats_point *p = stats_series_at(r->series, s);

        p->c.requests += requests / 10;
        p->c.ok += requests / 10;
        stats_hist_record_n(p->latency, lat_us, requests / 10);
    }
}

static void save_run(const char *name, uint64_t requests, uint64_t ok, uint64_t lat_us,
                     uint64_t max_us, int extra_endpoint, char *path) {
    stats_result r;

    EXPECT_INT(stats_result_init(&r), 0);
    r.config.url = strdup("http://127.0.0.1:9/x");
    r.config.connections = 4;
    r.config.threads = 1;
    r.duration_s = 10;
    snprintf(r.started_at, sizeof(r.started_at), "2026-12-03T10:00:00Z");
    snprintf(r.version, sizeof(r.version), "0.1.0");
    add_endpoint(&r, "/x", requests, ok, lat_us, max_us);
    if (extra_endpoint) {
        add_endpoint(&r, "/only-b", 20, 20, 300, 400);
    }
    EXPECT_INT(report_json_write(&r, tmp_dir, name, path, 4096), 0);
    stats_result_free(&r);
}

/* A: the base. B: within the noise, except p50 (+20%, worse). C: beyond it everywhere. */
static void save_three(void) {
    save_run("a", 100, 99, 1000, 5000, 0, path_a);
    save_run("b", 105, 104, 1200, 4500, 1, path_b);
    save_run("c", 80, 76, 500, 10000, 0, path_c);
}

static void read_three(stats_result *runs) {
    char err[256];

    EXPECT_INT(report_json_read(path_a, &runs[0], err, sizeof(err)), 0);
    EXPECT_INT(report_json_read(path_b, &runs[1], err, sizeof(err)), 0);
    EXPECT_INT(report_json_read(path_c, &runs[2], err, sizeof(err)), 0);
}

static void cells_of(const stats_result *runs, const char *name, report_compare_cell cells[3][6],
                     const report_compare_noise *noise) {
    for (int i = 0; i < 3; i++) {
        report_compare_figures(&runs[i], "GET", name, cells[i]);
    }
    for (int i = 1; i < 3; i++) {
        for (int m = 0; m < REPORT_CMP_COUNT; m++) {
            report_compare_change(&cells[0][m], &cells[i][m], m, noise);
        }
    }
}

static void deltas_and_marks(void) {
    report_compare_noise noise = {REPORT_COMPARE_NOISE_PCT, REPORT_COMPARE_NOISE_SUCCESS_PTS};
    report_compare_cell c[3][6];
    stats_result runs[3];

    read_three(runs);
    cells_of(runs, "/x", c, &noise);

    EXPECT_NEAR(c[0][REPORT_CMP_RPS].value, 10);
    EXPECT_NEAR(c[1][REPORT_CMP_RPS].change, 5);
    EXPECT_INT(c[1][REPORT_CMP_RPS].mark, 0);
    EXPECT_NEAR(c[2][REPORT_CMP_RPS].change, -20);
    EXPECT_INT(c[2][REPORT_CMP_RPS].mark, -1);

    EXPECT_NEAR(c[1][REPORT_CMP_SUCCESS].change, 104.0 / 105 * 100 - 99);
    EXPECT_INT(c[1][REPORT_CMP_SUCCESS].mark, 0);
    EXPECT_NEAR(c[2][REPORT_CMP_SUCCESS].change, -4);
    EXPECT_INT(c[2][REPORT_CMP_SUCCESS].mark, -1);

    EXPECT_NEAR(c[0][REPORT_CMP_P50].value, 1.0);
    EXPECT_NEAR(c[1][REPORT_CMP_P50].change, 20);
    EXPECT_INT(c[1][REPORT_CMP_P50].mark, -1);
    EXPECT_NEAR(c[2][REPORT_CMP_P50].change, -50);
    EXPECT_INT(c[2][REPORT_CMP_P50].mark, 1);

    /* exactly at the noise: no mark */
    EXPECT_NEAR(c[1][REPORT_CMP_MAX].change, -10);
    EXPECT_INT(c[1][REPORT_CMP_MAX].mark, 0);
    EXPECT_NEAR(c[2][REPORT_CMP_MAX].change, 100);
    EXPECT_INT(c[2][REPORT_CMP_MAX].mark, -1);

    /* a wider noise silences the rate and success marks of C */
    noise.rel_pct = 25;
    noise.success_pts = 5;
    cells_of(runs, "/x", c, &noise);
    EXPECT_INT(c[2][REPORT_CMP_RPS].mark, 0);
    EXPECT_INT(c[2][REPORT_CMP_SUCCESS].mark, 0);
    EXPECT_INT(c[2][REPORT_CMP_P50].mark, 1);

    /* an endpoint only B has: B has figures but nothing to compare with */
    EXPECT_INT(report_compare_figures(&runs[0], "GET", "/only-b", c[0]), -1);
    EXPECT_INT(report_compare_figures(&runs[1], "GET", "/only-b", c[1]), 0);
    report_compare_change(&c[0][REPORT_CMP_RPS], &c[1][REPORT_CMP_RPS], REPORT_CMP_RPS, &noise);
    EXPECT_INT(c[1][REPORT_CMP_RPS].has_change, 0);
    for (int i = 0; i < 3; i++) {
        stats_result_free(&runs[i]);
    }
}

static void text_table(void) {
    report_compare_noise noise = {REPORT_COMPARE_NOISE_PCT, REPORT_COMPARE_NOISE_SUCCESS_PTS};
    const char *labels[3] = {path_a, path_b, path_c};
    stats_result runs[3];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    read_three(runs);
    report_compare_print(f, runs, labels, 3, &noise, 0);
    fclose(f);
    EXPECT_HAS(buf, "Runs:\n  A   2026-12-03T10:00:00Z  10.00s, 4 connections, volley 0.1.0\n", 1);
    EXPECT_HAS(buf, "\nGET /x\n", 1);
    EXPECT_HAS(buf, "\nGET /only-b\n", 1);
    EXPECT_HAS(buf, "\nAggregated (all requests)\n", 1);
    EXPECT_HAS(buf,
               "  req/s          10.00                     10.50    +5.0%             8.00   "
               "-20.0% [!!]\n",
               1);
    EXPECT_HAS(buf,
               "  p50           1.00ms                    1.20ms   +20.0% [!!]    500.00us   "
               "-50.0% [ok]\n",
               1);
    EXPECT_HAS(buf, "   99.00%          ", 1);
    EXPECT_HAS(buf, "95.00%   -4.0pt [!!]", 1);
    EXPECT_HAS(buf, "              -            ", 1);
    free(buf);
    for (int i = 0; i < 3; i++) {
        stats_result_free(&runs[i]);
    }
}

/* Runs a command with stdout sent to a file; returns its exit code and the output in *out. */
static int run_cmd(int (*cmd)(int, char **), int argc, char **argv, char **out) {
    char path[256];
    int saved = dup(STDOUT_FILENO), fd, rc;

    snprintf(path, sizeof(path), "%s/stdout.txt", tmp_dir);
    fflush(stdout);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    {
        FILE *f = fopen(path, "rb");
        size_t len = 0;
        FILE *m = open_memstream(out, &len);
        int ch;

        while (f && (ch = fgetc(f)) != EOF) {
            fputc(ch, m);
        }
        fclose(m);
        if (f) {
            fclose(f);
        }
    }
    return rc;
}

static void command_exit_codes(void) {
    char missing[4200], html[4200], *out = NULL;
    char *ok[] = {"compare", path_a, path_b, path_c, "--noise", "5,0.5"};
    char *one[] = {"compare", path_a};
    char *gone[] = {"compare", path_a, missing};
    char *noise[] = {"compare", path_a, path_b, "--noise", "ten"};
    char *page[] = {"compare", path_a, path_b, "-o", "html"};
    char *help[] = {"compare", "--help"};
    struct stat st;

    snprintf(missing, sizeof(missing), "%s/none.json", tmp_dir);
    EXPECT_INT(run_cmd(report_cmd_compare, 6, ok, &out), REPORT_EXIT_OK);
    EXPECT_HAS(out, "beyond the noise (rates and percentiles:\n5%, success: 0.5 pt)", 1);
    free(out);
    EXPECT_INT(run_cmd(report_cmd_compare, 2, one, &out), REPORT_EXIT_USAGE);
    free(out);
    EXPECT_INT(run_cmd(report_cmd_compare, 3, gone, &out), REPORT_EXIT_USAGE);
    free(out);
    EXPECT_INT(run_cmd(report_cmd_compare, 5, noise, &out), REPORT_EXIT_USAGE);
    free(out);
    EXPECT_INT(run_cmd(report_cmd_compare, 2, help, &out), REPORT_EXIT_OK);
    EXPECT_HAS(out, "Usage: volley compare", 1);
    free(out);
    EXPECT_INT(run_cmd(report_cmd_compare, 5, page, &out), REPORT_EXIT_OK);
    snprintf(html, sizeof(html), "%.*s_compare.html", (int)(strlen(path_a) - 5), path_a);
    EXPECT_INT(stat(html, &st), 0);
    EXPECT_HAS(out, "Report: ", 1);
    EXPECT_HAS(out, "Runs:", 0);
    free(out);
}

static void noise_parsing(void) {
    report_compare_noise n = {0, 0};
    char err[128];

    EXPECT_INT(report_compare_parse_noise("15", &n, err, sizeof(err)), 0);
    EXPECT_NEAR(n.rel_pct, 15);
    EXPECT_NEAR(n.success_pts, 1);
    EXPECT_INT(report_compare_parse_noise("2.5%,0.2", &n, err, sizeof(err)), 0);
    EXPECT_NEAR(n.rel_pct, 2.5);
    EXPECT_NEAR(n.success_pts, 0.2);
    EXPECT_INT(report_compare_parse_noise("-1", &n, err, sizeof(err)), -EINVAL);
    EXPECT_INT(report_compare_parse_noise("5,x", &n, err, sizeof(err)), -EINVAL);
    EXPECT_INT(report_compare_parse_noise("5pt", &n, err, sizeof(err)), -EINVAL);
}

int main(void) {
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    save_three();
    RUN(deltas_and_marks);
    RUN(text_table);
    RUN(command_exit_codes);
    RUN(noise_parsing);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", tmp_dir);
        }
    }
    HARNESS_END();
}
