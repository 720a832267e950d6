/* tables.c: Locust-style tables of a run: endpoints, failures, checks, thresholds. */
#include "report/tables.h"

#include <string.h>

#include "report/format.h"

/* Widths of the endpoint table: 2 + 28 + 10 + 9 + 4 * 10 + 9 = 98 columns. */
#define TABLES_NAME_W 28

/* How a row is named: "GET /path", or the name alone when it already says its method. */
static void tables_label(const stats_endpoint *e, char *label, size_t len) {
    if (strcmp(e->method, "TASK") == 0) {
        snprintf(label, len, "[task] %s", e->name);
    } else if (strchr(e->name, ' ') || strncmp(e->name, e->method, strlen(e->method)) == 0) {
        snprintf(label, len, "%s", e->name);
    } else {
        snprintf(label, len, "%s %s", e->method, e->name);
    }
}

/* One row; a name too long for its column gets a line of its own above the figures. */
static void tables_endpoint_row(FILE *out, const char *label, const stats_counters *c,
                                const stats_hist *h, double duration_s) {
    char med[32], p95[32], p99[32], max[32];
    int timed = stats_hist_count(h) > 0;

    if (strlen(label) > TABLES_NAME_W) {
        fprintf(out, "  %s\n", label);
        label = "";
    }
    fprintf(
        out, "  %-*s %9llu %8llu %9s %9s %9s %9s %8.2f\n", TABLES_NAME_W, label,
        (unsigned long long)c->requests, (unsigned long long)c->failed,
        timed ? report_format_duration_us((double)stats_hist_percentile(h, 50), med, sizeof(med))
              : "-",
        timed ? report_format_duration_us((double)stats_hist_percentile(h, 95), p95, sizeof(p95))
              : "-",
        timed ? report_format_duration_us((double)stats_hist_percentile(h, 99), p99, sizeof(p99))
              : "-",
        timed ? report_format_duration_us((double)stats_hist_max(h), max, sizeof(max)) : "-",
        duration_s > 0 ? (double)c->requests / duration_s : 0.0);
}

/* Locust's table: a row per endpoint, then the whole run as "Aggregated". */
static void tables_endpoints(FILE *out, const stats_result *r) {
    size_t n = stats_endpoints_count(r->endpoints);
    char label[512];

    fprintf(out, "\n  %-*s %9s %8s %9s %9s %9s %9s %8s\n", TABLES_NAME_W, "Name", "Requests",
            "Failures", "Median", "p95", "p99", "Max", "Req/s");
    for (size_t i = 0; i < n; i++) {
        stats_endpoint *e = stats_endpoints_at(r->endpoints, i);

        tables_label(e, label, sizeof(label));
        tables_endpoint_row(out, label, &e->c, e->latency, r->duration_s);
    }
    fprintf(out, "  %.*s\n", TABLES_NAME_W + 68,
            "------------------------------------------------------------------------------------"
            "-----------------");
    tables_endpoint_row(out, "Aggregated", &r->totals, r->latency, r->duration_s);
}

static void tables_failures(FILE *out, const stats_result *r) {
    size_t n = stats_endpoints_count(r->failures);

    if (n == 0) {
        return;
    }
    /* 2 + 8 + 2 + 32 + 1 + 55: the reason is cut to keep within 100 columns. */
    fprintf(out, "\n  Failures\n  %8s  %-32s %s\n", "Count", "Name", "Reason");
    for (size_t i = 0; i < n; i++) {
        stats_endpoint *e = stats_endpoints_at(r->failures, i);
        fprintf(out, "  %8llu  %-32.32s %.55s\n", (unsigned long long)e->c.failed, e->method,
                e->name);
    }
}

static void tables_checks(FILE *out, const stats_result *r) {
    size_t n = stats_endpoints_count(r->checks);

    if (n == 0) {
        return;
    }
    fprintf(out, "\n  Checks\n  %-40s %9s %9s\n", "Name", "Passes", "Fails");
    for (size_t i = 0; i < n; i++) {
        stats_endpoint *e = stats_endpoints_at(r->checks, i);
        fprintf(out, "  %-40.40s %9llu %9llu\n", e->name, (unsigned long long)e->c.ok,
                (unsigned long long)e->c.failed);
    }
}

static void tables_thresholds(FILE *out, const stats_result *r) {
    if (r->threshold_count == 0) {
        return;
    }
    fprintf(out, "\n  Thresholds\n");
    for (size_t i = 0; i < r->threshold_count; i++) {
        const stats_threshold *t = &r->thresholds[i];
        if (t->missing) {
            fprintf(out, "  FAIL  %s  (no such endpoint in this run)\n", t->expr);
        } else {
            fprintf(out, "  %s  %s  (measured %.6g)\n", t->pass ? "pass" : "FAIL", t->expr,
                    t->value);
        }
    }
}

void report_tables_print(FILE *out, const stats_result *r) {
    int user_mode = r->config.users > 0;

    if (user_mode || stats_endpoints_count(r->endpoints) > 1) {
        tables_endpoints(out, r);
    }
    tables_failures(out, r);
    tables_checks(out, r);
    tables_thresholds(out, r);
}
