/* test_sweep.c: capacity and knee on synthetic steps. */
#include <stdlib.h>

#include "harness.h"
#include "sweep/sweep.h"

/* A step of `users` users whose run served `rps` for 10 s at `latency_ms`, with `failed_pct`
 * of its requests failing with 503. */
static void make_step(sweep_step *s, uint32_t users, double rps, double latency_ms,
                      double failed_pct) {
    stats_result r;
    uint64_t n = (uint64_t)(rps * 10);
    uint64_t failed = (uint64_t)(n * failed_pct / 100.0);

    stats_result_init(&r);
    r.duration_s = 12; /* 2 s of settling and the 10 s measured */
    r.config.users = users;
    r.users_peak = users;
    for (uint32_t sec = 0; sec < 12; sec++) {
        stats_point *p = stats_series_at(r.series, sec);
        uint64_t per = n / 10;
        uint64_t bad = failed / 10;
        p->c.requests = p->c.responses = per;
        p->c.failed = bad;
        p->c.ok = per - bad;
        p->c.errors[STATS_ERR_STATUS_503] = bad;
        p->c.status_class[2] = per - bad;
        p->c.status_class[5] = bad;
        stats_hist_record_n(p->latency, (uint64_t)(latency_ms * 1000), per);
    }
    sweep_step_from_run(s, users, &r, 2);
    stats_result_free(&r);
}

static void free_steps(sweep_step *s, int n) {
    for (int i = 0; i < n; i++) {
        stats_result_free(&s[i].r);
    }
}

static void test_linear_then_flat(void) {
    sweep_step s[5];
    sweep_analysis a;

    make_step(&s[0], 5, 50, 100, 0);
    make_step(&s[1], 10, 100, 110, 0);
    make_step(&s[2], 25, 240, 150, 0);
    make_step(&s[3], 50, 260, 900, 0.5); /* throughput flat: the knee is at 25 */
    make_step(&s[4], 100, 250, 3000, 10); /* failing: not handled */
    sweep_analyse(s, 5, 0.5, 2.0, &a);
    EXPECT_INT(a.knee, 2);
    EXPECT_INT(a.capacity, 2); /* 50 users: 0.5% of 503s grades the 5xx share WARNING */
    EXPECT(!s[4].verdict.handled);
    EXPECT_INT(s[0].users, 5);
    EXPECT(s[0].rps > 49 && s[0].rps < 51);
    free_steps(s, 5);
}

static void test_immediate_failure(void) {
    sweep_step s[2];
    sweep_analysis a;

    make_step(&s[0], 5, 10, 6000, 50);
    make_step(&s[1], 10, 10, 7000, 60);
    sweep_analyse(s, 2, 0.5, 2.0, &a);
    EXPECT_INT(a.capacity, -1);
    EXPECT_STR(report_grade_name(s[0].verdict.overall), "POOR");
    free_steps(s, 2);
}

static void test_never_failing(void) {
    sweep_step s[3];
    sweep_analysis a;

    make_step(&s[0], 5, 50, 100, 0);
    make_step(&s[1], 10, 100, 100, 0);
    make_step(&s[2], 20, 200, 105, 0);
    sweep_analyse(s, 3, 0.5, 2.0, &a);
    EXPECT_INT(a.capacity, 2);
    EXPECT_INT(a.knee, -1);
    free_steps(s, 3);
}

static void test_latency_knee_needs_a_real_rise(void) {
    sweep_step s[3];
    sweep_analysis a;

    make_step(&s[0], 5, 50, 1, 0);
    make_step(&s[1], 10, 100, 3, 0); /* 3x, but only 2 ms: noise */
    make_step(&s[2], 20, 200, 400, 0); /* 133x and 397 ms: the knee is at 10 */
    sweep_analyse(s, 3, 0.5, 2.0, &a);
    EXPECT_INT(a.knee, 1);
    free_steps(s, 3);
}

int main(void) {
    RUN(test_linear_then_flat);
    RUN(test_immediate_failure);
    RUN(test_never_failing);
    RUN(test_latency_knee_needs_a_real_rise);
    HARNESS_END();
}
