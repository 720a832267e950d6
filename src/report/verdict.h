/* verdict.h: grades a run the way the IndieShots guide reads one: bands, bottlenecks, cost. */
#ifndef VOLLEY_REPORT_VERDICT_H
#define VOLLEY_REPORT_VERDICT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "stats/result.h"

/* Grades from best to worst; NONE when a metric has nothing to grade (no response at all). */
enum report_grade {
    REPORT_GRADE_NONE = -1,
    REPORT_GRADE_EXCELLENT,
    REPORT_GRADE_GOOD,
    REPORT_GRADE_WARNING,
    REPORT_GRADE_POOR
};

enum report_metric {
    REPORT_METRIC_SUCCESS, /* ok share of completed requests, % */
    REPORT_METRIC_AVG, /* mean response time, ms */
    REPORT_METRIC_MAX, /* slowest response, ms */
    REPORT_METRIC_5XX, /* 5xx responses as a share of completed requests, % */
    REPORT_METRIC_COUNT
};

/*
 * The edges between grades, three per metric: [0] ends EXCELLENT, [1] ends GOOD, [2] ends
 * WARNING; anything past [2] is POOR. Success: a rate at or above the edge keeps the grade.
 * Times: a value below the edge keeps it. 5xx share: a value at or below the edge keeps it.
 */
typedef struct report_verdict_bands {
    double success_pct[3];
    double avg_ms[3];
    double max_ms[3];
    double err_5xx_pct[3];
} report_verdict_bands;

typedef struct report_verdict_metric {
    const char *key; /* "success_rate", "avg_response_ms", "max_response_ms", "status_5xx_pct" */
    const char *label; /* "Success rate", "Avg response", "Max response", "5xx responses" */
    double value; /* in the unit its key names */
    uint64_t count; /* 5xx: how many responses; otherwise 0 */
    int grade; /* enum report_grade */
    char text[48]; /* the value for people: "98.2%", "450 ms", "8.5 s", "0.12% (3)" */
} report_verdict_metric;

#define REPORT_VERDICT_MAX_BOTTLENECKS 8

/* One limit the run ran into, with the figure that shows it. */
typedef struct report_bottleneck {
    const char *kind; /* upstream_unavailable, rate_limited, server_errors, saturation,
                         connection_errors, timeouts */
    double share_pct; /* share of completed requests affected; 0 for saturation */
    uint64_t count; /* requests affected; 0 for saturation */
    int64_t since_s; /* rate_limited: second of the run the first 429 came in; -1 otherwise */
    char text[240]; /* one line: "rate limited: 429 on 4.0% of requests (123), from 37 s" */
} report_bottleneck;

typedef struct report_verdict {
    report_verdict_metric metrics[REPORT_METRIC_COUNT];
    int overall; /* the worst grade of the metrics */
    int handled; /* overall is GOOD or better */
    char recommendation[320]; /* without the arrow: "this load is handled well" or the reasons */
    size_t bottleneck_count;
    report_bottleneck bottlenecks[REPORT_VERDICT_MAX_BOTTLENECKS];
    uint64_t completed; /* ok + failed */
    uint64_t concurrency; /* peak users (user mode) or connections (connection mode) */
    const char *concurrency_unit; /* "users" or "connections" */
} report_verdict;

/* The default bands of issue 7: success 99/95/80 %, average 1/2/5 s, max 1/3/5 s, 5xx
 * 0/0.1/1 %. */
void report_verdict_default_bands(report_verdict_bands *b);

/* Makes b the bands every later verdict of this process uses (report_verdict_print, the
 * results file, the HTML report). Returns 0, or -EINVAL (bands kept) when an edge is not a
 * finite number or the edges are out of order. */
int report_verdict_set_bands(const report_verdict_bands *b);

/* The bands in force: the defaults until report_verdict_set_bands changed them. */
const report_verdict_bands *report_verdict_bands_current(void);

/*
 * Parses a band override such as "success=99,95,80; avg=1s,2s,5s; max=1s,3s,5s;
 * 5xx=0,0.1,1" into *b, starting from its current values (so a spec may name only some
 * metrics). Times take ms, s or m (a bare number is ms); percentages may end in '%'.
 * Returns 0, or -EINVAL with a one-line reason in err.
 */
int report_verdict_parse_bands(const char *spec, report_verdict_bands *b, char *err,
                               size_t err_len);

/* Reads bands back from a results file's "verdict": {"bands": {...}} object; 0 when all four
 * metrics were there and in order, -EINVAL otherwise (b untouched). */
int report_verdict_bands_from_json(const json_t *verdict, report_verdict_bands *b);

/* Grades r against the bands b (the current bands when NULL) into *v. */
void report_verdict_compute(const stats_result *r, const report_verdict_bands *b,
                            report_verdict *v);

/* "EXCELLENT", "GOOD", "WARNING", "POOR", or "-" for REPORT_GRADE_NONE. */
const char *report_grade_name(int grade);

/*
 * The cost line for a monthly cost: "4.00 a month per user (20.00 / 5 peak users)" when the run
 * was GOOD or better, otherwise a sentence saying why a cost per user is not meaningful.
 * Returns 1 when a figure was computed, 0 when not meaningful; -EINVAL for a cost <= 0.
 */
int report_verdict_cost_text(const report_verdict *v, double monthly_cost, char *buf, size_t len);

/* 1 when out is a terminal and the locale (LC_ALL, else LC_CTYPE, else LANG) says UTF-8. */
int report_verdict_utf8(FILE *out);

/* Prints the verdict block of v: one graded line per metric, overall, recommendation,
 * bottlenecks and (when monthly_cost > 0) the cost per user; UTF-8 marks when utf8. */
void report_verdict_write(FILE *out, const report_verdict *v, double monthly_cost, int utf8);

/* Grades r with the current bands and prints the block at the end of the text summary,
 * with marks chosen by report_verdict_utf8(out). */
void report_verdict_print(FILE *out, const stats_result *r, double monthly_cost);

/* The results file's "verdict" object for r (current bands): a new reference, NULL when out of
 * memory. */
json_t *report_verdict_json(const stats_result *r);

#endif
