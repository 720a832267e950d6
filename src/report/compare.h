/* compare.h: saved runs side by side, endpoint by endpoint, with changes against the first. */
#ifndef VOLLEY_REPORT_COMPARE_H
#define VOLLEY_REPORT_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#include "stats/result.h"

/* The figures compared, in output order. */
enum report_cmp_metric {
    REPORT_CMP_RPS, /* requests per second */
    REPORT_CMP_SUCCESS, /* ok share of completed requests, % */
    REPORT_CMP_P50, /* ms */
    REPORT_CMP_P95,
    REPORT_CMP_P99,
    REPORT_CMP_MAX,
    REPORT_CMP_COUNT
};

/* Changes within the noise get no mark: rel_pct for rates and percentiles (relative change,
 * %), success_pts for the success rate (percentage points). */
typedef struct report_compare_noise {
    double rel_pct;
    double success_pts;
} report_compare_noise;

#define REPORT_COMPARE_NOISE_PCT 10.0
#define REPORT_COMPARE_NOISE_SUCCESS_PTS 1.0

/* One figure of one run, and how it moved against the first run. */
typedef struct report_compare_cell {
    int present; /* the run has this endpoint and the figure has data */
    double value;
    int has_change; /* present here and in the first run, and the change is defined */
    double change; /* relative change in % (success: difference in points) */
    int mark; /* +1 better, -1 worse, 0 within the noise */
} report_compare_cell;

/* Parses "P" or "P,S" (P % for rates and percentiles, S points for success; S stays 1 when
 * left out) into *noise. 0, or -EINVAL with a reason in err. */
int report_compare_parse_noise(const char *text, report_compare_noise *noise, char *err,
                               size_t err_len);

/* The figures of endpoint (method, name) of r, or of the whole run when name is NULL, into
 * cells[REPORT_CMP_COUNT] (values only). Returns 0, or -1 when r has no such endpoint. */
int report_compare_figures(const stats_result *r, const char *method, const char *name,
                           report_compare_cell *cells);

/* Fills the change and mark of cell against base for metric m. */
void report_compare_change(const report_compare_cell *base, report_compare_cell *cell, int m,
                           const report_compare_noise *noise);

/* Prints the runs side by side: labels[i] names runs[i] (a file path); UTF-8 marks when
 * utf8. */
void report_compare_print(FILE *out, const stats_result *runs, const char *const *labels, size_t n,
                          const report_compare_noise *noise, int utf8);

/* The same as a self-contained HTML page with overlaid charts. */
void report_compare_html(FILE *out, const stats_result *runs, const char *const *labels, size_t n,
                         const report_compare_noise *noise);

#endif
