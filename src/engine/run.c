/* run.c: starts the workers, stops them on time, on a signal or on failure, merges results. */
#include "engine/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "engine/worker.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

typedef struct run_state {
    const engine_config *cfg;
    stats_result *out;
    engine_shared shared;
    worker *workers;
    int count;
    uv_loop_t loop;
    uv_async_t notify;
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_timer_t duration;
    uv_timer_t progress;
    uv_timer_t grace;
    uv_timer_t spawn;
    int incomplete;
    int stop_sent;
    int stop;
    uint64_t stop_ns;
    int signals;
} run_state;

/* Workers that have not stopped by now are stuck (in a script callback): give up on them. */
static void run_grace_cb(uv_timer_t *t) {
    run_state *rs = t->data;
    char *p = rs->out->stop_reason;
    size_t room = sizeof(rs->out->stop_reason);

    rs->incomplete = 1;
    for (int i = 0; i < rs->count; i++) {
        worker *w = &rs->workers[i];
        const char *cb = w->script ? w->script->in_callback : NULL;
        int n;
        if (w->finished) {
            continue;
        }
        n = snprintf(p, room, "%sthread %d did not stop: stuck in %s%s",
                     p == rs->out->stop_reason ? "" : "; ", i + 1, cb ? cb : "its event loop",
                     cb ? "()" : "");
        if (n < 0 || (size_t)n >= room) {
            break;
        }
        p += n;
        room -= (size_t)n;
    }
    uv_stop(&rs->loop);
}

static void run_stop(run_state *rs, int why) {
    if (rs->stop_sent) {
        return;
    }
    rs->stop_sent = 1;
    rs->stop = why;
    rs->stop_ns = uv_hrtime();
    uv_timer_stop(&rs->duration);
    uv_timer_stop(&rs->spawn);
    for (int i = 0; i < rs->count; i++) {
        worker_stop(&rs->workers[i]);
    }
    uv_timer_start(
        &rs->grace, run_grace_cb,
        (uint64_t)(rs->cfg->stop_grace_ms + (rs->cfg->users ? rs->cfg->stop_timeout_ms : 0)), 0);
}

static void run_close_handles(run_state *rs) {
    uv_close((uv_handle_t *)&rs->notify, NULL);
    uv_close((uv_handle_t *)&rs->sigint, NULL);
    uv_close((uv_handle_t *)&rs->sigterm, NULL);
    uv_close((uv_handle_t *)&rs->duration, NULL);
    uv_close((uv_handle_t *)&rs->progress, NULL);
    uv_close((uv_handle_t *)&rs->grace, NULL);
    uv_close((uv_handle_t *)&rs->spawn, NULL);
}

/* Workers call this through the notify handle whenever something changed. */
static void run_notify_cb(uv_async_t *a) {
    run_state *rs = a->data;
    int finished = 0, quota_done = 0, setup_error = 0;

    for (int i = 0; i < rs->count; i++) {
        finished += rs->workers[i].finished;
        quota_done += rs->workers[i].quota_done;
        setup_error += rs->workers[i].setup_error;
    }
    if (finished == rs->count) {
        run_close_handles(rs);
        return;
    }
    if (setup_error) {
        snprintf(rs->out->stop_reason, sizeof(rs->out->stop_reason),
                 "a worker thread could not be set up");
        run_stop(rs, STATS_STOP_NO_START);
        return;
    }
    if (quota_done == rs->count) {
        run_stop(rs, STATS_STOP_DONE);
        return;
    }
    if (!rs->shared.ever_connected && rs->shared.first_failures >= rs->cfg->connections) {
        run_stop(rs, STATS_STOP_NO_START);
    }
}

static void run_duration_cb(uv_timer_t *t) {
    run_stop(t->data, STATS_STOP_DONE);
}

static void run_signal_cb(uv_signal_t *s, int signum) {
    run_state *rs = s->data;

    rs->signals++;
    if (rs->signals > 1) {
        /* A second interrupt means the user does not want to wait for a clean stop. */
        fprintf(stderr, "\nvolley: interrupted twice, exiting without results\n");
        _exit(130);
    }
    run_stop(rs, STATS_STOP_INTERRUPTED);
}

/* The last complete second across every worker: req/s, errors and p95 for the progress line. */
static void run_progress_cb(uv_timer_t *t) {
    run_state *rs = t->data;
    uint64_t now = uv_hrtime();
    uint64_t elapsed_s = (now - rs->shared.start_ns) / NS_PER_S;
    stats_hist *h = stats_hist_new();
    stats_counters c;
    uint64_t errors = 0;

    if (rs->cfg->each_second && elapsed_s > 0) {
        rs->cfg->each_second(rs->cfg->each_second_ctx, (uint32_t)(elapsed_s - 1));
    }
    if (!h || elapsed_s == 0 || !rs->cfg->progress) {
        stats_hist_free(h);
        return;
    }
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < rs->count; i++) {
        worker *w = &rs->workers[i];
        uv_mutex_lock(&w->lock);
        if (stats_series_len(w->series) >= elapsed_s) {
            stats_point *p = stats_series_at(w->series, (uint32_t)(elapsed_s - 1));
            stats_counters_add(&c, &p->c);
            stats_hist_merge(h, p->latency);
        }
        uv_mutex_unlock(&w->lock);
    }
    for (int i = 0; i < STATS_ERR_COUNT; i++) {
        errors += c.errors[i];
    }
    if (rs->cfg->duration_ms) {
        fprintf(stderr, "\r  [%3llus / %llus]  %8llu req/s  errors %llu  p95 %.2fms   ",
                (unsigned long long)elapsed_s, (unsigned long long)(rs->cfg->duration_ms / 1000),
                (unsigned long long)c.responses, (unsigned long long)errors,
                stats_hist_percentile(h, 95) / 1000.0);
    } else {
        fprintf(stderr, "\r  [%3llus]  %8llu req/s  errors %llu  p95 %.2fms   ",
                (unsigned long long)elapsed_s, (unsigned long long)c.responses,
                (unsigned long long)errors, stats_hist_percentile(h, 95) / 1000.0);
    }
    fflush(stderr);
    stats_hist_free(h);
}

/* How many users should run t_ms into the test: the spawn rate, or the stages' ramps. */
static uint32_t run_users_at(const engine_config *cfg, int64_t t_ms) {
    if (cfg->stage_count > 0) {
        double from = 0;
        for (int i = 0; i < cfg->stage_count; i++) {
            double to = cfg->stage_users[i];
            if (t_ms < cfg->stage_ms[i]) {
                double f = cfg->stage_ms[i] > 0 ? (double)t_ms / (double)cfg->stage_ms[i] : 1;
                return (uint32_t)(from + (to - from) * f + 0.5);
            }
            t_ms -= cfg->stage_ms[i];
            from = to;
        }
        return (uint32_t)from;
    }
    if (cfg->spawn_rate <= 0) {
        return cfg->users;
    }
    {
        double n = cfg->spawn_rate * (double)t_ms / 1000.0;
        uint32_t want = (uint32_t)n + 1; /* the first user starts at once */
        return want < cfg->users ? want : cfg->users;
    }
}

/* Splits the users wanted now across the workers, as the ids interleave. */
static void run_spawn_cb(uv_timer_t *t) {
    run_state *rs = t->data;
    int64_t t_ms = (int64_t)((uv_hrtime() - rs->shared.start_ns) / NS_PER_MS);
    uint32_t total = run_users_at(rs->cfg, t_ms);

    if (total > rs->out->users_peak) {
        rs->out->users_peak = total;
    }
    for (int i = 0; i < rs->count; i++) {
        uint32_t share = total / (uint32_t)rs->count + ((uint32_t)i < total % (uint32_t)rs->count);
        rs->workers[i].users_target = share;
    }
}

static int run_start_handles(run_state *rs) {
    int rc = uv_loop_init(&rs->loop);

    if (rc < 0) {
        return rc;
    }
    uv_async_init(&rs->loop, &rs->notify, run_notify_cb);
    rs->notify.data = rs;
    uv_signal_init(&rs->loop, &rs->sigint);
    uv_signal_init(&rs->loop, &rs->sigterm);
    rs->sigint.data = rs;
    rs->sigterm.data = rs;
    uv_signal_start(&rs->sigint, run_signal_cb, SIGINT);
    uv_signal_start(&rs->sigterm, run_signal_cb, SIGTERM);
    uv_timer_init(&rs->loop, &rs->duration);
    uv_timer_init(&rs->loop, &rs->progress);
    uv_timer_init(&rs->loop, &rs->grace);
    rs->grace.data = rs;
    uv_timer_init(&rs->loop, &rs->spawn);
    rs->spawn.data = rs;
    if (rs->cfg->users) {
        uv_timer_start(&rs->spawn, run_spawn_cb, 100, 100);
    }
    rs->duration.data = rs;
    rs->progress.data = rs;
    if (rs->cfg->duration_ms > 0) {
        uv_timer_start(&rs->duration, run_duration_cb, (uint64_t)rs->cfg->duration_ms, 0);
    }
    if (rs->cfg->progress || rs->cfg->each_second) {
        uv_timer_start(&rs->progress, run_progress_cb, 1000, 1000);
    }
    return 0;
}

static int run_make_workers(run_state *rs) {
    const engine_config *cfg = rs->cfg;

    rs->count = cfg->threads;
    rs->workers = calloc((size_t)rs->count, sizeof(*rs->workers));
    if (!rs->workers) {
        return -ENOMEM;
    }
    rs->shared.notify = &rs->notify;
    for (int i = 0; i < rs->count; i++) {
        int conns = cfg->users
            ? 0
            : cfg->connections / cfg->threads + (i < cfg->connections % cfg->threads);
        uint64_t quota = 0;
        int rc;

        if (cfg->requests_limit) {
            quota = cfg->requests_limit / (uint64_t)cfg->threads +
                ((uint64_t)i < cfg->requests_limit % (uint64_t)cfg->threads);
        }
        rc = worker_init(&rs->workers[i], i, cfg, &rs->shared, conns, quota);
        if (rc < 0) {
            rs->count = i;
            return rc;
        }
    }
    return 0;
}

/* Adds a worker's figures into the result. */
static void run_merge(stats_result *out, worker *w) {
    stats_counters_add(&out->totals, &w->totals);
    out->in_flight += w->in_flight;
    out->connections_opened += w->connections_opened;
    stats_hist_merge(out->latency, w->latency);
    stats_hist_merge(out->connect, w->connect);
    stats_hist_merge(out->tls, w->tls_hs);
    stats_hist_merge(out->ttfb, w->ttfb);
    stats_endpoints_merge(out->endpoints, w->endpoints);
    stats_endpoints_merge(out->failures, w->failures);
    stats_endpoints_merge(out->checks, w->checks);
    if (w->ut) {
        const char *first;
        uint64_t n = users_errors(w->ut, &first);
        if (n && !out->script_errors) {
            snprintf(out->script_error, sizeof(out->script_error), "%s", first);
        }
        out->script_errors += n;
    }
    stats_series_merge(out->series, w->series);
}

/* What a stuck worker last published: its per-second points, summed. */
static void run_merge_snapshot(stats_result *out, worker *w) {
    stats_counters c;

    memset(&c, 0, sizeof(c));
    uv_mutex_lock(&w->lock);
    for (size_t i = 0; i < stats_series_len(w->series); i++) {
        stats_point *p = stats_series_at(w->series, (uint32_t)i);
        stats_counters_add(&c, &p->c);
        stats_hist_merge(out->latency, p->latency);
    }
    stats_series_merge(out->series, w->series);
    uv_mutex_unlock(&w->lock);
    stats_counters_add(&out->totals, &c);
    if (c.requests > c.ok + c.failed) {
        out->in_flight += c.requests - c.ok - c.failed;
    }
}

static void run_describe_no_start(run_state *rs) {
    engine_shared *sh = &rs->shared;
    const char *what = sh->first_err_class == STATS_ERR_TLS ? "tls handshake with" : "connect to";

    if (rs->out->stop_reason[0]) {
        return;
    }
    if (sh->first_err_class == STATS_ERR_TLS && rs->cfg->tls_cfg.verify &&
        strstr(sh->first_reason, "trusted")) {
        snprintf(rs->out->stop_reason, sizeof(rs->out->stop_reason),
                 "%s %s:%s failed: %s (use --cacert or -k)", what, rs->cfg->host, rs->cfg->port,
                 sh->first_reason);
        return;
    }
    snprintf(rs->out->stop_reason, sizeof(rs->out->stop_reason), "%s %s:%s failed: %s", what,
             rs->cfg->host, rs->cfg->port, sh->first_reason);
}

static double run_tv_s(const struct timeval *tv) {
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int engine_run(const engine_config *cfg, stats_result *out) {
    struct rusage usage0, usage1;
    run_state rs;
    int rc;

    memset(&rs, 0, sizeof(rs));
    rs.cfg = cfg;
    rs.out = out;
    rc = run_start_handles(&rs);
    if (rc < 0) {
        snprintf(out->stop_reason, sizeof(out->stop_reason), "cannot start: %s", uv_strerror(rc));
        return rc;
    }
    rc = run_make_workers(&rs);
    if (rc < 0) {
        snprintf(out->stop_reason, sizeof(out->stop_reason), "cannot start: out of memory");
        goto done;
    }

    getrusage(RUSAGE_SELF, &usage0);
    rs.shared.start_ns = uv_hrtime();
    if (cfg->users) {
        run_spawn_cb(&rs.spawn);
    }
    for (int i = 0; i < rs.count; i++) {
        uv_thread_create(&rs.workers[i].thread, worker_main, &rs.workers[i]);
    }
    uv_run(&rs.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < rs.count; i++) {
        if (rs.workers[i].finished) {
            uv_thread_join(&rs.workers[i].thread);
        }
    }
    if (cfg->progress) {
        fprintf(stderr, "\r%*s\r", 70, "");
    }

    for (int i = 0; i < rs.count; i++) {
        if (rs.workers[i].finished) {
            run_merge(out, &rs.workers[i]);
        } else {
            run_merge_snapshot(out, &rs.workers[i]);
        }
    }
    out->duration_s = (double)(rs.stop_ns - rs.shared.start_ns) / 1e9;
    if (getrusage(RUSAGE_SELF, &usage1) == 0 && out->duration_s > 0) {
        double cpu_s = run_tv_s(&usage1.ru_utime) + run_tv_s(&usage1.ru_stime) -
            run_tv_s(&usage0.ru_utime) - run_tv_s(&usage0.ru_stime);
        out->generator_cpu_per_thread = cpu_s / out->duration_s / rs.count;
    }
    out->stop = rs.incomplete ? STATS_STOP_INCOMPLETE : rs.stop;
    if (rs.incomplete) {
        /* A stuck thread still uses its state: leave everything to the process exit. */
        return 0;
    }
    if (rs.stop == STATS_STOP_NO_START) {
        run_describe_no_start(&rs);
    }
    rc = 0;

done:
    for (int i = 0; i < rs.count; i++) {
        worker_free(&rs.workers[i]);
    }
    free(rs.workers);
    if (rc < 0) {
        run_close_handles(&rs);
        uv_run(&rs.loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&rs.loop);
    return rc;
}
