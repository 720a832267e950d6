/* html.h: the self-contained HTML report of a run: verdict card, SVG charts, tables, settings. */
#ifndef VOLLEY_REPORT_HTML_H
#define VOLLEY_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "stats/result.h"

/* Writes the report of r to path (whole or not at all); monthly_cost > 0 adds the cost per
 * user to the verdict card. Returns 0, or a negative errno with a one-line reason in err. */
int report_html_write(const stats_result *r, const char *path, double monthly_cost, char *err,
                      size_t err_len);

/* The whole page of r, to out. */
void report_html_page(FILE *out, const stats_result *r, double monthly_cost);

/* ---- pieces shared with the compare page ---- */

#define REPORT_CHART_MAX_LINES 8

/* One line of a chart: n points (x[i], y[i]); the arrays stay the caller's. */
typedef struct report_chart_line {
    const char *label;
    const double *x;
    const double *y;
    size_t n;
} report_chart_line;

enum report_chart_axis {
    REPORT_AXIS_NUMBER, /* plain figures: requests/s, users */
    REPORT_AXIS_MS, /* milliseconds, labelled "250 ms", "1.5 s" */
    REPORT_AXIS_SECONDS, /* time into the run, labelled "30s", "2m" */
    REPORT_AXIS_LOG_MS, /* milliseconds on a log scale (decades) */
    REPORT_AXIS_PERCENT
};

typedef struct report_chart {
    const char *title;
    const char *note; /* a line under the title, or NULL */
    int x_axis; /* enum report_chart_axis */
    int y_axis;
    double y_max; /* top of the y axis, or 0 to fit the data */
    size_t line_count;
    report_chart_line lines[REPORT_CHART_MAX_LINES];
} report_chart;

/* A chart line over arrays the caller keeps. */
report_chart_line report_html_line(const char *label, const double *x, const double *y, size_t n);

/*
 * A run's per-second figures as chart lines, in groups of seconds when the run is long (at most
 * about 900 points). t is the end of each group in seconds into the run; rates are of completed
 * requests. Latency lines (lt, p50/p95/max in ms) skip groups without samples.
 */
typedef struct report_html_series {
    size_t n;
    double *t, *rps, *fps, *users;
    size_t ln;
    double *lt, *p50, *p95, *max;
} report_html_series;

/* Fills s from r's series; 0 or -ENOMEM. Free with report_html_series_free. */
int report_html_series_build(report_html_series *s, const stats_result *r);
void report_html_series_free(report_html_series *s);

/* The colour of the i-th line of a chart (CSS hex). */
const char *report_html_color(size_t i);

/* Writes s with &, <, >, " and ' escaped. */
void report_html_text(FILE *out, const char *s);

/* The page up to <body>'s first content: doctype, inline style, title. */
void report_html_begin(FILE *out, const char *title);

/* Closes the page with a footer naming the volley that ran (version) and the one that drew it. */
void report_html_end(FILE *out, const char *version);

/* A chart card: title, legend and an inline <svg> with one <polyline> per line. */
void report_html_chart(FILE *out, const report_chart *c);

/*
 * Calls body(f, ctx) on a temporary file beside path and renames it over path, so the file
 * appears whole or not at all. Returns 0, or a negative errno with the reason in err.
 */
int report_html_save(const char *path, void (*body)(FILE *, const void *), const void *ctx,
                     char *err, size_t err_len);

#endif
