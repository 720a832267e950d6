/* sweep.c: grading the steps of a scaling test and finding capacity and the knee. */
#include "sweep/sweep.h"

#include <string.h>

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
