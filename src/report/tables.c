/* tables.c: Locust-style tables of a run: endpoints, failures, checks, thresholds. */
#include "report/tables.h"

#include <string.h>

#include "report/format.h"

static void tables_endpoints(FILE *out, const stats_result *r) {
    size_t n = stats_endpoints_count(r->endpoints);
    char med[32], p95[32], p99[32], max[32], avg[32];

    fprintf(out, "\n  %-32s %9s %8s %10s %10s %10s %10s %10s %9s\n", "Name", "Requests", "Fails",
            "Avg", "Median", "p95", "p99", "Max", "Req/s");
    for (size_t i = 0; i < n; i++) {
        stats_endpoint *e = stats_endpoints_at(r->endpoints, i);
        char label[160];
        const stats_hist *h = e->latency;
        int timed = stats_hist_count(h) > 0;

        if (strcmp(e->method, "TASK") == 0) {
            snprintf(label, sizeof(label), "[task] %s", e->name);
        } else if (strchr(e->name, ' ') || strncmp(e->name, e->method, strlen(e->method)) == 0) {
            snprintf(label, sizeof(label), "%s", e->name);
        } else {
            snprintf(label, sizeof(label), "%s %s", e->method, e->name);
        }
        fprintf(
            out, "  %-32.32s %9llu %8llu %10s %10s %10s %10s %10s %9.2f\n", label,
            (unsigned long long)e->c.requests, (unsigned long long)e->c.failed,
            timed ? report_format_duration_us(stats_hist_mean(h), avg, sizeof(avg)) : "-",
            timed
                ? report_format_duration_us((double)stats_hist_percentile(h, 50), med, sizeof(med))
                : "-",
            timed
                ? report_format_duration_us((double)stats_hist_percentile(h, 95), p95, sizeof(p95))
                : "-",
            timed
                ? report_format_duration_us((double)stats_hist_percentile(h, 99), p99, sizeof(p99))
                : "-",
            timed ? report_format_duration_us((double)stats_hist_max(h), max, sizeof(max)) : "-",
            r->duration_s > 0 ? (double)e->c.requests / r->duration_s : 0.0);
    }
}

static void tables_failures(FILE *out, const stats_result *r) {
    size_t n = stats_endpoints_count(r->failures);

    if (n == 0) {
        return;
    }
    fprintf(out, "\n  Failures\n  %8s  %-32s %s\n", "Count", "Name", "Reason");
    for (size_t i = 0; i < n; i++) {
        stats_endpoint *e = stats_endpoints_at(r->failures, i);
        fprintf(out, "  %8llu  %-32.32s %s\n", (unsigned long long)e->c.failed, e->method, e->name);
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
