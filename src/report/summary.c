/* summary.c: the end-of-run text summary, laid out like wrk's so existing greps keep working. */
#include "report/summary.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report/format.h"

/* One row of the "Thread Stats" table. */
typedef struct summary_row {
    double mean;
    double stdev;
    double max;
    double within_pct; /* share of samples within mean +/- stdev */
} summary_row;

/*
 * Prints a value right-aligned in a column so that the decimal points of every row line up
 * whatever the unit: two columns at the right are kept for a unit suffix, and the letters the
 * value carries fill them.
 */
static void print_cell(FILE *out, const char *text, int width) {
    size_t len = strlen(text);
    int letters = 0;

    while (letters < 2 && (size_t)letters < len &&
           isalpha((unsigned char)text[len - 1 - letters])) {
        letters++;
    }
    fprintf(out, "%*s%*s", width - (2 - letters), text, 2 - letters, "");
}

static void print_row(FILE *out, const char *label, const summary_row *row,
                      char *(*fmt)(double, char *, size_t)) {
    char buf[32];

    fprintf(out, "    %-10s", label);
    print_cell(out, fmt(row->mean, buf, sizeof(buf)), 8);
    print_cell(out, fmt(row->stdev, buf, sizeof(buf)), 10);
    print_cell(out, fmt(row->max, buf, sizeof(buf)), 9);
    fprintf(out, "%8.2f%%\n", row->within_pct);
}

/* The latency row; the within-one-stdev share is counted over the histogram's buckets. */
static summary_row latency_row(const stats_hist *h) {
    summary_row row = {stats_hist_mean(h), stats_hist_stdev(h), (double)stats_hist_max(h), 0};
    uint64_t total = stats_hist_count(h), within = 0, value_us, count;
    size_t cursor = 0;

    while (stats_hist_next(h, &cursor, &value_us, &count)) {
        if (fabs((double)value_us - row.mean) <= row.stdev) {
            within += count;
        }
    }
    if (total > 0) {
        row.within_pct = 100.0 * (double)within / (double)total;
    }
    return row;
}

/* Responses per thread in second i of the series, or -1 when that second was not complete. */
static double series_rate(const stats_result *r, size_t i, int threads) {
    stats_point *p = stats_series_at(r->series, (uint32_t)i);

    if (!p || (double)p->second + 1.0 > r->duration_s + 1e-3) {
        return -1;
    }
    return (double)p->c.responses / threads;
}

/*
 * The Req/Sec row, as wrk means it: requests per second of one thread. Each complete second
 * of the series gives one sample (its responses divided by the thread count); a run shorter
 * than a second gives the single sample of its average rate.
 */
static summary_row rate_row(const stats_result *r) {
    int threads = r->config.threads > 0 ? r->config.threads : 1;
    size_t len = r->series ? stats_series_len(r->series) : 0, n = 0, within = 0, i;
    double sum = 0, sum_sq = 0, v;
    summary_row row = {0, 0, 0, 0};

    for (i = 0; i < len; i++) {
        if ((v = series_rate(r, i, threads)) >= 0) {
            sum += v;
            sum_sq += v * v;
            row.max = v > row.max ? v : row.max;
            n++;
        }
    }
    if (n == 0) {
        v = r->duration_s > 0 ? (double)r->totals.responses / r->duration_s / threads : 0;
        summary_row single = {v, 0, v, 100.0};
        return single;
    }
    row.mean = sum / (double)n;
    row.stdev = sqrt(fmax(0.0, sum_sq / (double)n - row.mean * row.mean));
    for (i = 0; i < len; i++) {
        if ((v = series_rate(r, i, threads)) >= 0 && fabs(v - row.mean) <= row.stdev) {
            within++;
        }
    }
    row.within_pct = 100.0 * (double)within / (double)n;
    return row;
}

static void print_header(FILE *out, const stats_result *r) {
    const stats_config *cf = &r->config;
    char span[32];

    fprintf(out, "Running ");
    if (cf->duration_ms > 0) {
        fprintf(out, "%s", report_format_span_ms(cf->duration_ms, span, sizeof(span)));
        if (cf->requests > 0) {
            fprintf(out, " or %" PRIu64 " requests", cf->requests);
        }
    } else {
        fprintf(out, "%" PRIu64 " requests", cf->requests);
    }
    fprintf(out, " test @ %s\n", cf->url ? cf->url : "");
    if (cf->users > 0) {
        fprintf(out, "  %d threads and %u users (spawn rate %.4g/s%s%s)\n", cf->threads, cf->users,
                cf->spawn_rate, cf->preset ? ", preset " : "", cf->preset ? cf->preset : "");
    } else {
        fprintf(out, "  %d threads and %d connections\n", cf->threads, cf->connections);
    }
}

static void print_distribution(FILE *out, const stats_hist *h) {
    static const double pcts[] = {50, 75, 90, 99, 99.9, 99.99};
    char label[16], value[32];
    size_t i;

    fprintf(out, "  Latency Distribution\n");
    for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        report_format_percent_label(pcts[i], label, sizeof(label));
        report_format_duration_us((double)stats_hist_percentile(h, pcts[i]), value, sizeof(value));
        fprintf(out, "%7s%%", label);
        print_cell(out, value, 10);
        fprintf(out, "\n");
    }
}

/* wrk's "Socket errors" and "Non-2xx or 3xx" lines, each only when it has something to say. */
static void print_wrk_errors(FILE *out, const stats_counters *c) {
    const uint64_t *e = c->errors;
    uint64_t connect = e[STATS_ERR_DNS] + e[STATS_ERR_CONNECT] + e[STATS_ERR_TLS];
    uint64_t read = e[STATS_ERR_READ] + e[STATS_ERR_PARSE];
    uint64_t write = e[STATS_ERR_WRITE], timeout = e[STATS_ERR_TIMEOUT];
    uint64_t non_2xx_3xx =
        c->status_class[0] + c->status_class[1] + c->status_class[4] + c->status_class[5];

    if (connect || read || write || timeout) {
        fprintf(out,
                "  Socket errors: connect %" PRIu64 ", read %" PRIu64 ", write %" PRIu64
                ", timeout %" PRIu64 "\n",
                connect, read, write, timeout);
    }
    if (non_2xx_3xx) {
        fprintf(out, "  Non-2xx or 3xx responses: %" PRIu64 "\n", non_2xx_3xx);
    }
}

/* volley's additions: every failure class, requests cut by the stop, TLS handshake cost. */
static void print_extras(FILE *out, const stats_result *r) {
    const char *sep = "  Errors: ";
    char mean[32], p99[32];
    int cls;

    for (cls = 0; cls < STATS_ERR_COUNT; cls++) {
        if (r->totals.errors[cls]) {
            fprintf(out, "%s%s %" PRIu64, sep, stats_err_name(cls), r->totals.errors[cls]);
            sep = ", ";
        }
    }
    if (sep[0] == ',') {
        fprintf(out, "\n");
    }
    if (r->in_flight) {
        fprintf(out, "  In flight at stop: %" PRIu64 "\n", r->in_flight);
    }
    if (r->tls && stats_hist_count(r->tls) > 0) {
        report_format_duration_us(stats_hist_mean(r->tls), mean, sizeof(mean));
        report_format_duration_us((double)stats_hist_percentile(r->tls, 99), p99, sizeof(p99));
        fprintf(out, "  TLS handshake: mean %s, p99 %s\n", mean, p99);
    }
    if (!r->config.tls_verify) {
        fprintf(out, "  TLS verification off (-k): certificates were not checked\n");
    }
}

/* Prints the wrk-style summary of a finished run, then volley's extra lines. */
void report_summary_print(FILE *out, const stats_result *r, int show_latency_table) {
    double secs = r->duration_s > 0 ? r->duration_s : 0;
    summary_row latency = latency_row(r->latency), rate = rate_row(r);
    char took[32], bytes[32];

    print_header(out, r);
    fprintf(out, "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n");
    print_row(out, "Latency", &latency, report_format_duration_us);
    print_row(out, "Req/Sec", &rate, report_format_count);
    if (show_latency_table) {
        print_distribution(out, r->latency);
    }
    fprintf(out, "  %" PRIu64 " requests in %s, %s read\n", r->totals.responses,
            report_format_duration_us(secs * 1e6, took, sizeof(took)),
            report_format_bytes((double)r->totals.bytes_in, bytes, sizeof(bytes)));
    print_wrk_errors(out, &r->totals);
    print_extras(out, r);
    fprintf(out, "Requests/sec: %9.2f\n", secs > 0 ? (double)r->totals.responses / secs : 0.0);
    fprintf(out, "Transfer/sec: %11s\n",
            report_format_bytes(secs > 0 ? (double)r->totals.bytes_in / secs : 0, bytes,
                                sizeof(bytes)));
}
