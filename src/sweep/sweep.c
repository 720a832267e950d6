/* sweep.c: grading the steps of a scaling test and finding capacity and the knee. */
#include "sweep/sweep.h"

#include <stdlib.h>
#include <string.h>

#include "report/html.h"

#define SWEEP_KNEE_MIN_MS 50.0

/* Rebuilds totals and latency from the seconds after the settle period. */
static void sweep_trim(stats_result *r, uint32_t settle_s) {
    size_t n = stats_series_len(r->series);
    uint64_t in_flight = r->in_flight;

    if (n <= settle_s + 1) {
        return; /* too short to trim: keep the whole run */
    }
    memset(&r->totals, 0, sizeof(r->totals));
    stats_hist_reset(r->latency);
    for (size_t i = settle_s; i < n; i++) {
        stats_point *p = stats_series_at(r->series, (uint32_t)i);
        stats_counters_add(&r->totals, &p->c);
        stats_hist_merge(r->latency, p->latency);
    }
    r->in_flight = in_flight;
    if (r->duration_s > settle_s) {
        r->duration_s -= settle_s;
    }
}

void sweep_step_from_run(sweep_step *step, uint32_t users, stats_result *full, uint32_t settle_s) {
    const stats_counters *c;
    double ended;

    memset(step, 0, sizeof(*step));
    step->users = users;
    step->r = *full;
    memset(full, 0, sizeof(*full));
    sweep_trim(&step->r, settle_s);

    c = &step->r.totals;
    ended = (double)(c->ok + c->failed);
    step->rps = step->r.duration_s > 0 ? (double)c->responses / step->r.duration_s : 0;
    step->success_pct = ended > 0 ? 100.0 * (double)c->ok / ended : 0;
    step->avg_ms = stats_hist_mean(step->r.latency) / 1000.0;
    step->p95_ms = (double)stats_hist_percentile(step->r.latency, 95) / 1000.0;
    step->max_ms = (double)stats_hist_max(step->r.latency) / 1000.0;
    step->n5xx = c->errors[STATS_ERR_STATUS_5XX] + c->errors[STATS_ERR_STATUS_503];
    step->cpu_cores = -1;
    step->rss_mb = -1;
    report_verdict_compute(&step->r, NULL, &step->verdict);
}

void sweep_analyse(const sweep_step *steps, int n, double tput_fraction, double latency_factor,
                   sweep_analysis *out) {
    memset(out, 0, sizeof(*out));
    out->capacity = -1;
    out->knee = -1;
    for (int i = 0; i < n; i++) {
        if (steps[i].verdict.handled &&
            (out->capacity < 0 || steps[i].users > steps[out->capacity].users)) {
            out->capacity = i;
        }
    }
    for (int i = 0; i + 1 < n; i++) {
        const sweep_step *a = &steps[i], *b = &steps[i + 1];
        double user_growth = a->users ? (double)b->users / a->users - 1.0 : 0;
        double tput_growth = a->rps > 0 ? b->rps / a->rps - 1.0 : 0;

        if (user_growth > 0 && tput_growth < tput_fraction * user_growth) {
            out->knee = i;
            snprintf(out->knee_why, sizeof(out->knee_why),
                     "from %u to %u users (+%.0f%%) req/s grew %+.0f%%", a->users, b->users,
                     user_growth * 100, tput_growth * 100);
            return;
        }
        /* A p95 going from 1 ms to 3 ms is noise, not a knee: ask for 50 ms more as well. */
        if (a->p95_ms > 0 && b->p95_ms > latency_factor * a->p95_ms &&
            b->p95_ms - a->p95_ms >= SWEEP_KNEE_MIN_MS) {
            out->knee = i;
            snprintf(out->knee_why, sizeof(out->knee_why),
                     "from %u to %u users p95 rose %.1fx (%.0f ms to %.0f ms)", a->users, b->users,
                     b->p95_ms / a->p95_ms, a->p95_ms, b->p95_ms);
            return;
        }
    }
}

void sweep_print(FILE *out, const char *title, const sweep_step *steps, int n,
                 const sweep_analysis *a, double monthly_cost) {
    fprintf(out, "\n%s\n", title);
    fprintf(out, "  %6s %9s %8s %9s %9s %9s %6s  %-9s%s\n", "users", "req/s", "success", "avg",
            "p95", "max", "5xx", "verdict", steps[0].cpu_cores >= 0 ? "  cpu    rss" : "");
    for (int i = 0; i < n; i++) {
        const sweep_step *s = &steps[i];
        fprintf(out, "  %6u %9.1f %7.1f%% %7.0fms %7.0fms %7.0fms %6llu  %-9s", s->users, s->rps,
                s->success_pct, s->avg_ms, s->p95_ms, s->max_ms, (unsigned long long)s->n5xx,
                report_grade_name(s->verdict.overall));
        if (s->cpu_cores >= 0) {
            fprintf(out, " %5.2f %5.0fMB", s->cpu_cores, s->rss_mb);
        }
        fprintf(out, "%s\n", i == a->capacity ? "  <- capacity" : i == a->knee ? "  <- knee" : "");
    }
    if (a->capacity >= 0) {
        fprintf(out, "  Capacity: %u users (the most users whose step was handled well)\n",
                steps[a->capacity].users);
    } else {
        fprintf(out, "  Capacity: none: even %u users were not handled well (%s)\n", steps[0].users,
                steps[0].verdict.recommendation);
    }
    if (a->knee >= 0) {
        fprintf(out, "  Knee: %u users: %s\n", steps[a->knee].users, a->knee_why);
    } else {
        fprintf(out, "  Knee: not reached: throughput kept growing with users\n");
    }
    if (monthly_cost > 0 && a->capacity >= 0) {
        fprintf(out, "  Cost per user: %.2f a month (%.2f / %u users)\n",
                monthly_cost / steps[a->capacity].users, monthly_cost, steps[a->capacity].users);
    }
    if (a->capacity < 0) {
        fprintf(out, "  -> upgrade resources or reduce load before %u users\n", steps[0].users);
    } else if (a->capacity == n - 1) {
        fprintf(out, "  -> every step was handled: try more users to find the limit\n");
    } else {
        fprintf(out, "  -> plan for at most %u users on this setup; %u were not handled well\n",
                steps[a->capacity].users, steps[a->capacity + 1].users);
    }
}

typedef struct sweep_page {
    const char *title;
    const sweep_page_run *runs;
    int count;
} sweep_page;

/* A vertical mark at x on a chart: a two-point line from 0 to top, labelled. */
static void sweep_mark(report_chart *c, const char *label, double *xs, double *ys, double x,
                       double top) {
    if (c->line_count >= REPORT_CHART_MAX_LINES) {
        return;
    }
    xs[0] = xs[1] = x;
    ys[0] = 0;
    ys[1] = top;
    c->lines[c->line_count++] = report_html_line(label, xs, ys, 2);
}

/* users against one figure of the steps (req/s, or p95), capacity and knee of the first run. */
static void sweep_chart(FILE *out, const sweep_page *p, int p95) {
    report_chart c;
    double xs[REPORT_CHART_MAX_LINES][SWEEP_MAX_STEPS], ys[REPORT_CHART_MAX_LINES][SWEEP_MAX_STEPS];
    double mx[2][2], my[2][2], top = 0;
    char labels[4][64];
    int k = 0;

    memset(&c, 0, sizeof(c));
    c.title = p95 ? "p95 response time by users" : "Requests per second by users";
    c.note = "each step measured after its settle period; the marks are capacity and knee";
    c.x_axis = REPORT_AXIS_NUMBER;
    c.y_axis = p95 ? REPORT_AXIS_MS : REPORT_AXIS_NUMBER;
    for (int r = 0; r < p->count && k < REPORT_CHART_MAX_LINES - 2; r++, k++) {
        for (int i = 0; i < p->runs[r].n && i < SWEEP_MAX_STEPS; i++) {
            xs[k][i] = p->runs[r].steps[i].users;
            ys[k][i] = p95 ? p->runs[r].steps[i].p95_ms : p->runs[r].steps[i].rps;
            top = ys[k][i] > top ? ys[k][i] : top;
        }
        c.lines[c.line_count++] =
            report_html_line(p->runs[r].name, xs[k], ys[k], (size_t)p->runs[r].n);
    }
    if (p->count > 0 && p->runs[0].an.capacity >= 0) {
        snprintf(labels[0], sizeof(labels[0]), "capacity (%u users)",
                 p->runs[0].steps[p->runs[0].an.capacity].users);
        sweep_mark(&c, labels[0], mx[0], my[0], p->runs[0].steps[p->runs[0].an.capacity].users,
                   top);
    }
    if (p->count > 0 && p->runs[0].an.knee >= 0) {
        snprintf(labels[1], sizeof(labels[1]), "knee (%u users)",
                 p->runs[0].steps[p->runs[0].an.knee].users);
        sweep_mark(&c, labels[1], mx[1], my[1], p->runs[0].steps[p->runs[0].an.knee].users, top);
    }
    report_html_chart(out, &c);
}

static void sweep_table(FILE *out, const sweep_page_run *r) {
    fprintf(out, "<section class=\"card\"><h2>");
    report_html_text(out, r->name);
    fprintf(out,
            "</h2><table><tr><th>users</th><th>req/s</th><th>success</th><th>avg</th>"
            "<th>p95</th><th>max</th><th>5xx</th><th>verdict</th><th></th></tr>\n");
    for (int i = 0; i < r->n; i++) {
        const sweep_step *s = &r->steps[i];
        fprintf(out,
                "<tr><td>%u</td><td>%.1f</td><td>%.1f%%</td><td>%.0f ms</td><td>%.0f ms</td>"
                "<td>%.0f ms</td><td>%llu</td><td>%s</td><td>%s</td></tr>\n",
                s->users, s->rps, s->success_pct, s->avg_ms, s->p95_ms, s->max_ms,
                (unsigned long long)s->n5xx, report_grade_name(s->verdict.overall),
                i == r->an.capacity   ? "capacity"
                    : i == r->an.knee ? "knee"
                                      : "");
    }
    fprintf(out, "</table></section>\n");
}

static void sweep_page_body(FILE *out, const void *ctx) {
    const sweep_page *p = ctx;

    report_html_begin(out, p->title);
    fprintf(out, "<h1>");
    report_html_text(out, p->title);
    fprintf(out, "</h1>\n");
    sweep_chart(out, p, 0);
    sweep_chart(out, p, 1);
    for (int r = 0; r < p->count; r++) {
        sweep_table(out, &p->runs[r]);
    }
    report_html_end(out, VOLLEY_VERSION);
}

int sweep_html_write(const char *path, const char *title, const sweep_page_run *runs, int count,
                     char *err, size_t err_len) {
    sweep_page p = {title, runs, count};

    return report_html_save(path, sweep_page_body, &p, err, err_len);
}
