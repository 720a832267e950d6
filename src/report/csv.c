/* csv.c: a run as Locust's CSV files, with Locust's names and columns, for tools built for it. */
#include "report/csv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/html.h"

/* Locust's default percentiles, in its column names' order; 100% is the maximum. */
#define CSV_PCT_COUNT 11
static const double csv_pcts[CSV_PCT_COUNT] = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};
static const char *const csv_pct_names[CSV_PCT_COUNT] = {
    "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"};

/* Python's csv module ends rows with CRLF; Locust's files do too. */
#define CSV_EOL "\r\n"

/* A field, quoted when it holds a comma, a quote or a line break (quotes doubled inside). */
static void csv_text(FILE *out, const char *s) {
    if (!s) {
        s = "";
    }
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') {
            fputc('"', out);
        }
        fputc(*s, out);
    }
    fputc('"', out);
}

/* A real number the way Python prints small floats: "12.5", "0.0", never an exponent. */
static void csv_real(FILE *out, double v) {
    char buf[64];
    size_t n;

    if (!isfinite(v)) {
        v = 0;
    }
    snprintf(buf, sizeof(buf), "%.6f", v);
    n = strlen(buf);
    while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.') {
        buf[--n] = '\0';
    }
    fputs(buf, out);
}

/* Microseconds as whole milliseconds, as Locust writes medians and percentiles. */
static void csv_ms_int(FILE *out, uint64_t us) {
    fprintf(out, "%" PRIu64, (us + 500) / 1000);
}

static void csv_ms(FILE *out, double us) {
    csv_real(out, us / 1000.0);
}

static void csv_header(FILE *out, const char *const *before, size_t nb, const char *const *after,
                       size_t na) {
    for (size_t i = 0; i < nb; i++) {
        fprintf(out, "%s%s", i ? "," : "", before[i]);
    }
    for (size_t i = 0; i < CSV_PCT_COUNT; i++) {
        fprintf(out, ",%s", csv_pct_names[i]);
    }
    for (size_t i = 0; i < na; i++) {
        fprintf(out, ",%s", after[i]);
    }
    fputs(CSV_EOL, out);
}

/* The percentile columns, or N/A for each when there is nothing to rank. */
static void csv_percentiles(FILE *out, const stats_hist *h) {
    for (size_t i = 0; i < CSV_PCT_COUNT; i++) {
        fputc(',', out);
        if (stats_hist_count(h) == 0) {
            fputs("N/A", out);
        } else {
            csv_ms_int(out, stats_hist_percentile(h, csv_pcts[i]));
        }
    }
}

/* Median, average, min, max and average content size of a row. */
static void csv_times(FILE *out, const stats_hist *h, uint64_t bytes_in, uint64_t completed) {
    uint64_t n = stats_hist_count(h);

    csv_ms_int(out, n ? stats_hist_percentile(h, 50) : 0);
    fputc(',', out);
    csv_ms(out, n ? stats_hist_mean(h) : 0);
    fputc(',', out);
    csv_ms(out, (double)stats_hist_min(h));
    fputc(',', out);
    csv_ms(out, (double)stats_hist_max(h));
    fputc(',', out);
    csv_real(out, completed ? (double)bytes_in / (double)completed : 0);
}

/* One row of _stats.csv. */
static void csv_stats_row(FILE *out, const char *method, const char *name, const stats_counters *c,
                          const stats_hist *h, double duration_s) {
    uint64_t completed = c->ok + c->failed;

    csv_text(out, method);
    fputc(',', out);
    csv_text(out, name);
    fprintf(out, ",%" PRIu64 ",%" PRIu64 ",", completed, c->failed);
    csv_times(out, h, c->bytes_in, completed);
    fputc(',', out);
    csv_real(out, duration_s > 0 ? (double)completed / duration_s : 0);
    fputc(',', out);
    csv_real(out, duration_s > 0 ? (double)c->failed / duration_s : 0);
    csv_percentiles(out, h);
    fputs(CSV_EOL, out);
}

static int csv_cmp_rows(const void *a, const void *b) {
    const stats_endpoint *x = *(const stats_endpoint *const *)a;
    const stats_endpoint *y = *(const stats_endpoint *const *)b;
    int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");

    return c ? c : strcmp(x->method ? x->method : "", y->method ? y->method : "");
}

/* Failure rows are keyed (request name, reason): by request first, then reason. */
static int csv_cmp_failures(const void *a, const void *b) {
    const stats_endpoint *x = *(const stats_endpoint *const *)a;
    const stats_endpoint *y = *(const stats_endpoint *const *)b;
    int c = strcmp(x->method ? x->method : "", y->method ? y->method : "");

    return c ? c : strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* The rows of a table sorted by cmp (Locust sorts its entries by name, then method); NULL when
 * empty or out of memory. The caller frees the array (not the rows). */
static stats_endpoint **csv_sorted(const stats_endpoints *t, size_t *n,
                                   int (*cmp)(const void *, const void *)) {
    stats_endpoint **rows;

    *n = t ? stats_endpoints_count(t) : 0;
    if (*n == 0 || !(rows = calloc(*n, sizeof(*rows)))) {
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) {
        rows[i] = stats_endpoints_at(t, i);
    }
    qsort(rows, *n, sizeof(*rows), cmp);
    return rows;
}

/* _stats.csv: one row per endpoint, then the Aggregated row of the whole run. */
void report_csv_stats(FILE *out, const stats_result *r) {
    static const char *const cols[] = {"Type",
                                       "Name",
                                       "Request Count",
                                       "Failure Count",
                                       "Median Response Time",
                                       "Average Response Time",
                                       "Min Response Time",
                                       "Max Response Time",
                                       "Average Content Size",
                                       "Requests/s",
                                       "Failures/s"};
    size_t n;
    stats_endpoint **rows = csv_sorted(r->endpoints, &n, csv_cmp_rows);

    csv_header(out, cols, sizeof(cols) / sizeof(cols[0]), NULL, 0);
    for (size_t i = 0; i < n; i++) {
        csv_stats_row(out, rows[i]->method, rows[i]->name, &rows[i]->c, rows[i]->latency,
                      r->duration_s);
    }
    free(rows);
    csv_stats_row(out, "", "Aggregated", &r->totals, r->latency, r->duration_s);
}

/* Unix time of the run's start from its ISO-8601 stamp, or 0 when it cannot be read. */
static int64_t csv_start_epoch(const stats_result *r) {
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(r->started_at, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
        return 0;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* How much of second s the run covered: 1, or less for the second the run stopped in. */
static double csv_covered_s(const stats_result *r, uint32_t s) {
    double left = r->duration_s - (double)s;

    return left >= 0.1 && left < 1 ? left : 1;
}

/* One Aggregated row of _stats_history.csv: this second's rates and percentiles, and the
 * cumulative figures up to its end. */
static void csv_history_row(FILE *out, const stats_result *r, int64_t epoch, const stats_point *p,
                            const stats_counters *sum, const stats_hist *all) {
    uint32_t users = r->config.users > 0 ? p->users : (uint32_t)r->config.connections;
    double covered = csv_covered_s(r, p->second);
    uint64_t completed = sum->ok + sum->failed;

    fprintf(out, "%" PRId64 ",%u,,Aggregated,", epoch + p->second + 1, users);
    fprintf(out, "%.6f,%.6f", (double)(p->c.ok + p->c.failed) / covered,
            (double)p->c.failed / covered);
    csv_percentiles(out, p->latency);
    fprintf(out, ",%" PRIu64 ",%" PRIu64 ",", completed, sum->failed);
    csv_times(out, all, sum->bytes_in, completed);
    fputs(CSV_EOL, out);
}

/* _stats_history.csv: one Aggregated row per second of the run. */
void report_csv_history(FILE *out, const stats_result *r) {
    static const char *const before[] = {"Timestamp", "User Count", "Type",
                                         "Name",      "Requests/s", "Failures/s"};
    static const char *const after[] = {"Total Request Count",        "Total Failure Count",
                                        "Total Median Response Time", "Total Average Response Time",
                                        "Total Min Response Time",    "Total Max Response Time",
                                        "Total Average Content Size"};
    size_t n = r->series ? stats_series_len(r->series) : 0;
    int64_t epoch = csv_start_epoch(r);
    stats_hist *all = stats_hist_new();
    stats_counters sum;

    csv_header(out, before, 6, after, 7);
    memset(&sum, 0, sizeof(sum));
    for (size_t i = 0; all && i < n; i++) {
        const stats_point *p = stats_series_at(r->series, (uint32_t)i);

        stats_counters_add(&sum, &p->c);
        stats_hist_merge(all, p->latency);
        csv_history_row(out, r, epoch, p, &sum, all);
    }
    stats_hist_free(all);
}

/* The HTTP method of the first endpoint with this name, "" when none has it. */
static const char *csv_method_of(const stats_result *r, const char *name) {
    size_t n = r->endpoints ? stats_endpoints_count(r->endpoints) : 0;

    for (size_t i = 0; i < n; i++) {
        const stats_endpoint *e = stats_endpoints_at(r->endpoints, i);

        if (e->name && name && strcmp(e->name, name) == 0) {
            return e->method;
        }
    }
    return "";
}

static void csv_failure_row(FILE *out, const char *method, const char *name, const char *error,
                            uint64_t count) {
    csv_text(out, method);
    fputc(',', out);
    csv_text(out, name);
    fputc(',', out);
    csv_text(out, error);
    fprintf(out, ",%" PRIu64 CSV_EOL, count);
}

/* Without a failures table (connection mode), each endpoint's failure classes stand in. */
static void csv_failures_by_class(FILE *out, const stats_result *r) {
    size_t n;
    stats_endpoint **rows = csv_sorted(r->endpoints, &n, csv_cmp_rows);

    for (size_t i = 0; i < n; i++) {
        for (int cls = 0; cls < STATS_ERR_COUNT; cls++) {
            if (rows[i]->c.errors[cls]) {
                csv_failure_row(out, rows[i]->method, rows[i]->name, stats_err_name(cls),
                                rows[i]->c.errors[cls]);
            }
        }
    }
    free(rows);
}

/* _failures.csv: Method, Name, Error, Occurrences per (request name, reason). */
void report_csv_failures(FILE *out, const stats_result *r) {
    size_t n;
    stats_endpoint **rows = csv_sorted(r->failures, &n, csv_cmp_failures);

    fputs("Method,Name,Error,Occurrences" CSV_EOL, out);
    for (size_t i = 0; i < n; i++) {
        /* A failure row is keyed (request name, reason): method holds the name. */
        csv_failure_row(out, csv_method_of(r, rows[i]->method), rows[i]->method, rows[i]->name,
                        rows[i]->c.failed);
    }
    free(rows);
    if (n == 0) {
        csv_failures_by_class(out, r);
    }
}

/* _exceptions.csv: the script errors of the run, as Locust lists exceptions of its users. */
void report_csv_exceptions(FILE *out, const stats_result *r) {
    fputs("Count,Message,Traceback,Nodes" CSV_EOL, out);
    if (r->script_errors) {
        fprintf(out, "%" PRIu64 ",", r->script_errors);
        csv_text(out, r->script_error[0] ? r->script_error : "script error");
        fputs(",,local" CSV_EOL, out);
    }
}

/* report_html_save wants a body of (FILE *, const void *). */
static void csv_stats_body(FILE *out, const void *r) {
    report_csv_stats(out, r);
}

static void csv_history_body(FILE *out, const void *r) {
    report_csv_history(out, r);
}

static void csv_failures_body(FILE *out, const void *r) {
    report_csv_failures(out, r);
}

static void csv_exceptions_body(FILE *out, const void *r) {
    report_csv_exceptions(out, r);
}

/* Writes the four files of a run beside each other; see csv.h. */
int report_csv_write(const stats_result *r, const char *prefix, char *err, size_t err_len) {
    static const char *const suffixes[] = {"_stats.csv", "_stats_history.csv", "_failures.csv",
                                           "_exceptions.csv"};
    void (*const bodies[])(FILE *, const void *) = {csv_stats_body, csv_history_body,
                                                    csv_failures_body, csv_exceptions_body};
    char path[4096];

    for (size_t i = 0; i < 4; i++) {
        int rc;

        if ((size_t)snprintf(path, sizeof(path), "%s%s", prefix, suffixes[i]) >= sizeof(path)) {
            snprintf(err, err_len, "%s: name too long", prefix);
            return -ENAMETOOLONG;
        }
        if ((rc = report_html_save(path, bodies[i], r, err, err_len)) < 0) {
            return rc;
        }
    }
    return 0;
}
