/* sweep.h: the scaling test: steps of users, each graded; capacity, knee and cost per user. */
#ifndef VOLLEY_SWEEP_H
#define VOLLEY_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "report/verdict.h"
#include "stats/result.h"

#define SWEEP_MAX_STEPS 32

/* One step's figures, counted after its settle period. */
typedef struct sweep_step {
    uint32_t users;
    stats_result r; /* the step's result, settle period removed from totals and latency */
    report_verdict verdict;
    double rps;
    double success_pct;
    double avg_ms;
    double p95_ms;
    double max_ms;
    uint64_t n5xx;
    double cpu_cores; /* the watched server's mean CPU use, -1 when not watched */
    double rss_mb; /* its peak RSS, -1 when not watched */
} sweep_step;

typedef struct sweep_analysis {
    int capacity; /* index of the step with the most users still "handled", -1 when none */
    int knee; /* index of the step after which growth stops paying, -1 when none */
    char knee_why[160];
} sweep_analysis;

/* Moves full's figures after its first settle_s seconds into step->r: counters and latency come
 * from the per-second series; endpoints keep the whole run. full is emptied (step->r owns what
 * it held). Then fills the step's figures and verdict. */
void sweep_step_from_run(sweep_step *step, uint32_t users, stats_result *full, uint32_t settle_s);

/* Capacity and knee: the knee is the first step i after which req/s grew by less than
 * tput_fraction of the user growth, or p95 grew by more than latency_factor. */
void sweep_analyse(const sweep_step *steps, int n, double tput_fraction, double latency_factor,
                   sweep_analysis *out);

/* The step table, capacity, knee, cost per user (when monthly_cost > 0) and a recommendation. */
void sweep_print(FILE *out, const char *title, const sweep_step *steps, int n,
                 const sweep_analysis *a, double monthly_cost);

/* One sweep, or one tier's, for the HTML page. */
typedef struct sweep_page_run {
    const char *name; /* the tier, or "sweep" */
    const sweep_step *steps;
    int n;
    sweep_analysis an;
} sweep_page_run;

/* Writes the sweep's page to path: users against req/s and against p95, one line per run, the
 * capacity and the knee marked, and the step tables. 0, or a negative errno with err set. */
int sweep_html_write(const char *path, const char *title, const sweep_page_run *runs, int count,
                     char *err, size_t err_len);

#endif
