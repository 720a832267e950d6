/* main.c: volley's command line: turns flags into a run, prints the summary, saves results. */
#include <errno.h>
#include <netdb.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/url.h"
#include "engine/engine.h"
#include "http/request.h"
#include "net/net.h"
#include "report/commands.h"
#include "report/json.h"
#include "util/units.h"
#include "report/summary.h"
#include "report/tables.h"
#include "report/verdict.h"
#include "report/threshold.h"
#include "script/options.h"
#include "script/state.h"
#include "script/users.h"
#include "script/wrk.h"
#include "sweep/limit.h"
#include "sweep/watch.h"
#include "sweep/sweep.h"
#include "sweep/tiers.h"
#include "target/target.h"

#define EXIT_OK 0
#define EXIT_THRESHOLD 1
#define EXIT_USAGE 2
#define EXIT_NO_START 3
#define EXIT_INCOMPLETE 4
#define EXIT_INTERRUPTED 130

static int main_usage_error(const char *msg) {
    fprintf(stderr, "volley: %s\n", msg);
    return EXIT_USAGE;
}

static char *main_strdup(const char *s) {
    return s ? strdup(s) : NULL;
}

/* Records what the run was asked to do, for the summary and the results file. */
static void main_fill_config(stats_result *r, const args_run *a) {
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(r->started_at, sizeof(r->started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(r->version, sizeof(r->version), "%s", VOLLEY_VERSION);
    r->config.url = main_strdup(a->url);
    r->config.script = main_strdup(a->script);
    r->config.mode = main_strdup("connections");
    r->config.threads = a->threads;
    r->config.connections = a->connections;
    r->config.duration_ms = a->duration_ms;
    r->config.requests = a->requests;
    r->config.timeout_ms = a->timeout_ms;
    r->config.max_body_bytes = a->max_body_bytes;
    r->config.tls_verify = !a->insecure;
    for (size_t i = 0; i < a->header_count && i < STATS_MAX_HEADERS; i++) {
        r->config.headers[r->config.header_count++] = main_strdup(a->headers[i]);
    }
}

/* "<script base name or host>_c<N>", with characters unsafe in file names replaced. */
static void main_name_part(const args_run *a, const url_parts *u, uint32_t users, char *out,
                           size_t len) {
    const char *base = u->host;
    char stem[128];

    if (a->script) {
        const char *slash = strrchr(a->script, '/');
        base = slash ? slash + 1 : a->script;
    }
    snprintf(stem, sizeof(stem), "%.100s", base);
    if (a->script) {
        char *dot = strrchr(stem, '.');
        if (dot && strcmp(dot, ".lua") == 0) {
            *dot = '\0';
        }
    }
    for (char *p = stem; *p; p++) {
        if (*p == ':' || *p == '/' || *p == ' ') {
            *p = '-';
        }
    }
    if (users) {
        snprintf(out, len, "%s_u%u", stem, users);
    } else {
        snprintf(out, len, "%s_c%d", stem, a->connections);
    }
}

static int main_save(const stats_result *r, const args_run *a, const url_parts *u) {
    char name[160], path[4096], err[512];
    int rc;

    if (a->no_save) {
        return 0;
    }
    main_name_part(a, u, r->config.users, name, sizeof(name));
    rc = report_json_write(r, a->results_dir, name, path, sizeof(path));
    if (rc < 0) {
        fprintf(stderr, "volley: cannot write results to %s: %s\n", a->results_dir, strerror(-rc));
        return rc;
    }
    printf("Results: %s\n", path);
    if (a->outputs) {
        int stem = (int)(strlen(path) - strlen(".json"));

        rc = report_outputs_write(r, path, a->outputs, a->monthly_cost, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "volley: %s\n", err);
            return rc;
        }
        if (strstr(a->outputs, "html")) {
            printf("Report: %.*s.html\n", stem, path);
        }
        if (strstr(a->outputs, "csv")) {
            printf("CSV: %.*s_stats.csv (and _stats_history, _failures, _exceptions)\n", stem,
                   path);
        }
    }
    return 0;
}

/* Resolves the target; on failure the run is recorded as one dns failure per connection. */
static int main_resolve(const url_parts *u, engine_config *ec, stats_result *r) {
    uv_loop_t loop;
    struct addrinfo *ai = NULL;
    int rc;

    uv_loop_init(&loop);
    rc = net_resolve(&loop, u->host, u->port, &ai);
    uv_loop_close(&loop);
    if (rc < 0) {
        r->totals.requests = (uint64_t)ec->connections;
        r->totals.failed = (uint64_t)ec->connections;
        r->totals.errors[STATS_ERR_DNS] = (uint64_t)ec->connections;
        r->stop = STATS_STOP_NO_START;
        snprintf(r->stop_reason, sizeof(r->stop_reason), "cannot resolve %.180s: %s", u->host,
                 uv_strerror(rc));
        return rc;
    }
    for (struct addrinfo *p = ai; p && ec->addr_count < ENGINE_MAX_ADDRS; p = p->ai_next) {
        memcpy(&ec->addrs[ec->addr_count++], p->ai_addr, p->ai_addrlen);
    }
    uv_freeaddrinfo(ai);
    return 0;
}

static int main_check_tls(const engine_config *ec) {
    net_tls_ctx *ctx = NULL;
    char err[256];

    if (!ec->tls) {
        return 0;
    }
    if (net_tls_ctx_new(&ctx, &ec->tls_cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "volley: %s\n", err);
        return -EINVAL;
    }
    net_tls_ctx_free(ctx);
    return 0;
}

/* The first line of a multi-line Lua error, for a one-line message. */
static const char *main_first_line(char *msg) {
    msg[strcspn(msg, "\n")] = '\0';
    return msg;
}

/* Loads the script (syntax errors end here, before any load) and fills the wrk table. */
static int main_script_load(script_host **out, const args_run *a, const url_parts *u) {
    script_target t;
    char err[1024];

    memset(&t, 0, sizeof(t));
    t.url = a->url;
    t.scheme = u->tls ? "https" : "http";
    t.host = u->host;
    t.port = u->port;
    t.path = u->path;
    t.authority = u->authority;
    t.headers = a->headers;
    t.header_count = a->header_count;
    t.args = a->script_args;
    t.arg_count = a->script_arg_count;
    t.init_deadline_ms = a->init_timeout_ms;
    t.thread_count = a->threads;
    if (script_host_new(out, a->script, &t, err, sizeof(err)) < 0) {
        fprintf(stderr, "volley: script error: %s\n", main_first_line(err));
        return -1;
    }
    return 0;
}

/* One state per thread, with setup() and init() run as wrk runs them, before any load. */
static int main_script_threads(script_host *h, const engine_config *ec) {
    char err[1024];

    for (int i = 0; i < ec->threads; i++) {
        if (script_host_add_thread(h, i, &ec->addrs[i % ec->addr_count], err, sizeof(err)) < 0) {
            fprintf(stderr, "volley: script error: %s\n", main_first_line(err));
            return -1;
        }
    }
    return 0;
}

/* Script errors during the run: how many, and the first one's message. */
static void main_script_report(const script_host *h) {
    uint64_t errors = 0;
    const char *first = NULL;

    for (int i = 0; i < h->thread_count; i++) {
        errors += h->threads[i]->errors;
        if (!first && h->threads[i]->errors) {
            first = h->threads[i]->first_error;
        }
    }
    if (errors) {
        char line[512];
        snprintf(line, sizeof(line), "%s", first);
        printf("  Script errors: %llu, first: %s\n", (unsigned long long)errors,
               main_first_line(line));
    }
}

/* Users of each class in proportion to the weights, spread evenly: the smooth weighted
 * round robin gives, for weights 3:1, A A B A A A B A..., so 5 users are 4 and 1. */
static int *main_class_order(lua_State *L, uint32_t n) {
    double weights[64], current[64] = {0}, total = 0;
    int classes = users_class_count(L, weights, 64);
    int *order = calloc(n ? n : 1, sizeof(*order));

    if (!order) {
        return NULL;
    }
    if (classes > 64) {
        classes = 64;
    }
    for (int k = 0; k < classes; k++) {
        total += weights[k] > 0 ? weights[k] : 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        int best = 0;
        for (int k = 0; k < classes; k++) {
            current[k] += weights[k] > 0 ? weights[k] : 0;
            if (current[k] > current[best]) {
                best = k;
            }
        }
        current[best] -= total;
        order[i] = best;
    }
    return order;
}

/* Merges flags, the preset and the script's options (in that order of precedence) into the
 * engine's user-mode settings. 0, or -1 after printing why. */
static int main_users_setup(const args_run *a, script_host *h, engine_config *ec,
                            const char **thresholds, size_t *threshold_count, int **order) {
    script_options o;
    char err[256];
    uint32_t peak;

    if (h->has_setup || h->has_init || h->has_request || h->has_response || h->has_delay ||
        h->has_done) {
        fprintf(stderr,
                "volley: %s defines both wrk callbacks (setup/init/request/response/"
                "delay/done) and users: use one style per script\n",
                a->script);
        return -1;
    }
    lua_getglobal(h->L, "__volley_check_classes");
    if (script_pcall(h->L, 0, 0, 0, err, sizeof(err)) < 0) {
        fprintf(stderr, "volley: %s\n", main_first_line(err));
        return -1;
    }
    if (script_options_read(h->L, a->preset, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "volley: %s\n", err);
        return -1;
    }
    if (o.verdict_bands) {
        report_verdict_bands b = *report_verdict_bands_current();
        if (report_verdict_parse_bands(o.verdict_bands, &b, err, sizeof(err)) < 0 ||
            report_verdict_set_bands(&b) < 0) {
            fprintf(stderr, "volley: options.verdict_bands: %s\n", err);
            return -1;
        }
    }
    ec->users = a->users_given ? a->users : o.users_given ? o.users : 1;
    ec->spawn_rate = a->spawn_rate_given ? a->spawn_rate : o.spawn_rate_given ? o.spawn_rate : 1;
    ec->duration_ms = a->duration_given ? a->duration_ms : o.duration_given ? o.duration_ms : 0;
    ec->stage_count = a->users_given ? 0 : o.stage_count;
    peak = ec->users;
    for (int i = 0; i < ec->stage_count; i++) {
        ec->stage_users[i] = o.stage_users[i];
        ec->stage_ms[i] = o.stage_ms[i];
        peak = o.stage_users[i] > peak || i == 0 ? o.stage_users[i] : peak;
    }
    if (ec->stage_count && !ec->duration_ms) {
        for (int i = 0; i < ec->stage_count; i++) {
            ec->duration_ms += ec->stage_ms[i];
        }
    }
    if (!ec->duration_ms) {
        ec->duration_ms = a->duration_ms ? a->duration_ms : 10000;
    }
    if (ec->stage_count) {
        ec->users = peak;
    }
    ec->timeout_ms = a->timeout_given ? a->timeout_ms : o.timeout_given ? o.timeout_ms : 60000;
    ec->stop_timeout_ms = a->stop_timeout_given ? a->stop_timeout_ms
        : o.stop_timeout_given                  ? o.stop_timeout_ms
                                                : 10000;
    ec->think_scale = a->think_scale_given ? a->think_scale
        : o.think_scale_given              ? o.think_scale
                                           : 1.0;
    ec->seed = a->seed_given ? a->seed : o.seed_given ? o.seed : (uint64_t)time(NULL);
    ec->requests_limit = 0;
    if (ec->users == 0) {
        fprintf(stderr, "volley: no users to run: give -u N or options.users\n");
        return -1;
    }
    for (size_t i = 0; i < o.threshold_count && *threshold_count < ARGS_MAX_THRESHOLDS * 2; i++) {
        thresholds[(*threshold_count)++] = o.thresholds[i];
    }
    *order = main_class_order(h->L, ec->users);
    ec->class_of_id = *order;
    ec->class_of_id_len = ec->users;
    return *order ? 0 : -1;
}

/* The watched server's CPU and memory, one sample per second of the run. */
typedef struct main_watch {
    watch *w;
    size_t len;
    size_t cap;
    double *cpu;
    uint64_t *rss;
} main_watch;

static void main_watch_tick(void *ctx, uint32_t second) {
    main_watch *mw = ctx;
    watch_sample samples[WATCH_MAX];
    int n = watch_sample_all(mw->w, samples, WATCH_MAX);
    double cpu = 0;
    uint64_t rss = 0;

    if (n <= 0) {
        return;
    }
    for (int i = 0; i < n; i++) {
        cpu += samples[i].cpu_cores;
        rss += samples[i].rss_bytes;
    }
    if (second >= mw->cap) {
        size_t cap = (second + 1) * 2;
        double *c = realloc(mw->cpu, cap * sizeof(*c));
        uint64_t *r = c ? realloc(mw->rss, cap * sizeof(*r)) : NULL;
        if (c) {
            mw->cpu = c;
        }
        if (!r) {
            return;
        }
        mw->rss = r;
        for (size_t i = mw->cap; i < cap; i++) {
            mw->cpu[i] = -1;
        }
        mw->cap = cap;
    }
    mw->cpu[second] = cpu;
    mw->rss[second] = rss;
    if (second + 1 > mw->len) {
        mw->len = second + 1;
    }
}

/* Puts the samples into the run's per-second points and frees the watch. */
static void main_watch_finish(main_watch *mw, stats_result *r) {
    for (size_t i = 0; i < mw->len; i++) {
        stats_point *p;
        if (mw->cpu[i] < 0 || !(p = stats_series_at(r->series, (uint32_t)i))) {
            continue;
        }
        p->watched = 1;
        p->server_cpu_cores = mw->cpu[i];
        p->server_rss_bytes = mw->rss[i];
    }
    watch_destroy(mw->w);
    free(mw->cpu);
    free(mw->rss);
    memset(mw, 0, sizeof(*mw));
}

/* Raises the open-file limit to the hard limit: each connection or user is a socket. Returns
 * how many sockets fit, leaving room for the process's other files. */
static uint64_t main_raise_nofile(void) {
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        return 1024;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur > 64 ? (uint64_t)rl.rlim_cur - 64 : 0;
}

static int main_exit_code(const stats_result *r) {
    switch (r->stop) {
        case STATS_STOP_NO_START:
            return EXIT_NO_START;
        case STATS_STOP_INTERRUPTED:
            return EXIT_INTERRUPTED;
        case STATS_STOP_INCOMPLETE:
            return EXIT_INCOMPLETE;
        default:
            return EXIT_OK;
    }
}

/*
 * Runs one load test as a asks. With keep NULL it prints the summary, saves the results and
 * returns the exit code; with keep, it is quiet and hands the result to the caller (who frees
 * it with stats_result_free), as the sweep's steps do.
 */
static int main_execute(args_run *pa, stats_result *keep) {
    args_run a = *pa;
    url_parts u;
    engine_config ec;
    stats_result r;
    char err[512];
    const char *why = NULL;
    char *request;
    char endpoint[4096];
    script_host *script = NULL;
    const char *thresholds[ARGS_MAX_THRESHOLDS * 2];
    size_t threshold_count = 0;
    int *class_order = NULL;
    char origin[320];
    main_watch mw = {0};
    int rc, code;

    if (url_parse(a.url, &u, &why) < 0) {
        snprintf(err, sizeof(err), "bad URL '%s': %s", a.url, why);
        return main_usage_error(err);
    }
    if (a.requests && a.requests < (uint64_t)a.threads) {
        a.threads = (int)a.requests;
    }

    memset(&ec, 0, sizeof(ec));
    ec.threads = a.threads;
    ec.connections = a.connections;
    ec.duration_ms = a.duration_ms;
    ec.requests_limit = a.requests;
    ec.timeout_ms = a.timeout_ms;
    ec.max_body_bytes = a.max_body_bytes;
    ec.progress = isatty(STDERR_FILENO) && !keep;
    ec.host = u.host;
    ec.port = u.port;
    ec.server_name = u.ip_literal ? NULL : u.host;
    ec.tls = u.tls;
    ec.tls_cfg.verify = !a.insecure;
    ec.tls_cfg.cacert_path = a.cacert;
    ec.method = "GET";
    snprintf(endpoint, sizeof(endpoint), "%.*s", (int)strcspn(u.path, "?"), u.path);
    ec.endpoint_name = endpoint;
    ec.stop_grace_ms = 3000;
    if (main_check_tls(&ec) < 0) {
        return EXIT_USAGE;
    }
    if (a.script && main_script_load(&script, &a, &u) < 0) {
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < a.threshold_count; i++) {
        thresholds[threshold_count++] = a.thresholds[i];
    }
    if (script && script->user_classes > 0) {
        snprintf(origin, sizeof(origin), "%s://%s", u.tls ? "https" : "http", u.authority);
        ec.origin = origin;
        ec.authority = u.authority;
        if (main_users_setup(&a, script, &ec, thresholds, &threshold_count, &class_order) < 0) {
            script_host_free(script);
            free(class_order);
            return EXIT_USAGE;
        }
    } else if (a.users_given || a.preset) {
        script_host_free(script);
        return main_usage_error(a.script ? "-u and --preset need a user-style script: this one "
                                           "defines no user class (user{...})"
                                         : "-u and --preset need a user-style script (-s FILE)");
    }
    for (size_t i = 0; i < threshold_count; i++) {
        if (report_threshold_parse(thresholds[i], err, sizeof(err)) < 0) {
            script_host_free(script);
            free(class_order);
            return main_usage_error(err);
        }
    }
    request = http_request_build("GET", u.path, u.authority, a.headers, a.header_count, NULL, 0,
                                 &ec.request_len);
    if (!request || stats_result_init(&r) < 0) {
        fprintf(stderr, "volley: out of memory\n");
        return EXIT_NO_START;
    }
    ec.request = request;
    {
        uint64_t room = main_raise_nofile();
        uint64_t want = ec.users ? ec.users : (uint64_t)ec.connections;
        if (want > room) {
            fprintf(stderr,
                    "volley: %llu %s need as many sockets, but this process may open only %llu "
                    "(ulimit -n); raise the hard limit or lower -%c\n",
                    (unsigned long long)want, ec.users ? "users" : "connections",
                    (unsigned long long)room, ec.users ? 'u' : 'c');
            free(request);
            stats_result_free(&r);
            script_host_free(script);
            free(class_order);
            return EXIT_USAGE;
        }
    }
    main_fill_config(&r, &a);
    if (ec.users) {
        free(r.config.mode);
        r.config.mode = main_strdup("users");
        r.config.users = ec.users;
        r.config.spawn_rate = ec.spawn_rate;
        r.config.duration_ms = ec.duration_ms;
        r.config.timeout_ms = ec.timeout_ms;
        r.config.connections = 0;
        r.config.preset = main_strdup(a.preset);
    }

    if (main_resolve(&u, &ec, &r) == 0) {
        if (script && main_script_threads(script, &ec) < 0) {
            free(request);
            stats_result_free(&r);
            script_host_free(script);
            return EXIT_USAGE;
        }
        ec.script = script;
        if (a.watch_pid_count && watch_create(&mw.w) == 0) {
            watch_sample first[WATCH_MAX];
            for (size_t i = 0; i < a.watch_pid_count; i++) {
                if (watch_add_pid(mw.w, a.watch_pids[i], 1) < 0) {
                    fprintf(stderr, "volley: cannot watch process %d: no such process\n",
                            a.watch_pids[i]);
                }
            }
            watch_sample_all(mw.w, first, WATCH_MAX); /* the first interval starts now */
            ec.each_second = main_watch_tick;
            ec.each_second_ctx = &mw;
        }
        rc = engine_run(&ec, &r);
        if (mw.w) {
            main_watch_finish(&mw, &r);
        }
        if (rc < 0) {
            r.stop = STATS_STOP_NO_START;
        }
    }
    code = main_exit_code(&r);
    if (threshold_count && report_thresholds_eval(&r, thresholds, threshold_count) > 0 &&
        code == EXIT_OK) {
        code = EXIT_THRESHOLD;
    }
    if (keep) {
        if (r.stop == STATS_STOP_INCOMPLETE) {
            fprintf(stderr, "volley: %s\n", r.stop_reason);
            fflush(stderr);
            _exit(EXIT_INCOMPLETE); /* a stuck worker still runs in its Lua state */
        }
        script_host_free(script);
        free(class_order);
        free(request);
        *keep = r;
        return code;
    }
    if (r.stop != STATS_STOP_NO_START) { /* a run that never started gets one line */
        report_summary_print(stdout, &r, a.latency);
        report_tables_print(stdout, &r);
        if (r.script_errors) {
            char line[256];
            snprintf(line, sizeof(line), "%s", r.script_error);
            printf("  Script errors: %llu, first: %s\n", (unsigned long long)r.script_errors,
                   main_first_line(line));
        }
        report_verdict_print(stdout, &r, a.monthly_cost);
    }
    if (script && r.stop != STATS_STOP_INCOMPLETE) {
        main_script_report(script);
        if (script_host_done(script, &r, err, sizeof(err)) < 0) {
            fprintf(stderr, "volley: script error in done(): %s\n", main_first_line(err));
        }
    }
    main_save(&r, &a, &u);
    fflush(stdout);
    if (r.stop_reason[0]) {
        fprintf(stderr, "volley: %s\n", r.stop_reason);
    }
    if (r.stop == STATS_STOP_INCOMPLETE) {
        fflush(stderr);
        _exit(code); /* a stuck worker still runs in its Lua state: free nothing */
    }
    script_host_free(script);
    free(class_order);
    free(request);
    stats_result_free(&r);
    return code;
}

static int main_run(int argc, char **argv) {
    args_run a;
    char err[512];

    if (args_parse_run(argc, argv, &a, err, sizeof(err)) < 0) {
        return main_usage_error(err);
    }
    if (a.help) {
        fputs(args_usage(), stdout);
        return EXIT_OK;
    }
    if (a.version) {
        printf("volley %s\n", VOLLEY_VERSION);
        return EXIT_OK;
    }
    return main_execute(&a, NULL);
}

/* ---- volley sweep ---- */

typedef struct sweep_opts {
    uint32_t users[SWEEP_MAX_STEPS];
    int step_count;
    int64_t step_ms;
    int64_t settle_ms;
    int64_t cooldown_ms;
    int stop_on_poor;
    double knee_tput;
    double knee_latency;
    double monthly_cost;
    const char *monthly_costs; /* "basic=7,boosted=12" with --tiers */
    const char *tiers; /* --tiers basic,boosted */
    const char *tier_defs; /* --tier-def custom=1.5:3G */
    const char *server; /* --server CMD, started under each tier */
    const char *health; /* path polled until the server answers */
} sweep_opts;

static const char *main_sweep_usage =
    "Usage: volley sweep -s SCRIPT --users 5,10,25 [options] <url>\n"
    "  --users LIST          the steps: users per step, in order\n"
    "  --step T              how long each step is measured (default 60s)\n"
    "  --settle T            time before each step's measurement, not counted (default 5s)\n"
    "  --cooldown T          pause between steps (default 0)\n"
    "  --stop-on-poor        stop after the first step graded POOR\n"
    "  --knee-throughput F   knee: req/s grew by less than F x the user growth (default 0.5)\n"
    "  --knee-latency F      knee: p95 grew by more than F times (default 2)\n"
    "  --monthly-cost X      hosting cost a month: cost per user at capacity\n"
    "                        (with --tiers: basic=7,boosted=12,...)\n"
    "  --tiers LIST          run the steps once per tier: basic (0.25 vCPU, 1 GB), boosted\n"
    "                        (0.5, 2 GB), reserved (1, 4 GB), premium (2, 8 GB)\n"
    "  --tier-def SPEC       define or change tiers: custom=1.5:3G,basic=0.25:512M\n"
    "  --server CMD          the server to start under each tier's limits (volley limit)\n"
    "  --health PATH         polled until the server answers (default /api/health)\n"
    "Any run flag (-t, -H, --timeout, --think-scale, --results, -k ...) applies to every step.\n"
    "Exit codes: 0 a capacity was found, 1 even the first step was not handled, 2 usage.\n";

static int main_sweep_users(const char *list, sweep_opts *o) {
    char buf[512];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", list);
    o->step_count = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*end || v <= 0 || o->step_count >= SWEEP_MAX_STEPS) {
            return -1;
        }
        o->users[o->step_count++] = (uint32_t)v;
    }
    return o->step_count > 0 ? 0 : -1;
}

/* Takes the sweep's own flags out of argv; the rest is left in run_argv for the run parser. */
static int main_sweep_args(int argc, char **argv, sweep_opts *o, char **run_argv, int *run_argc) {
    memset(o, 0, sizeof(*o));
    o->step_ms = 60000;
    o->settle_ms = 5000;
    o->knee_tput = 0.5;
    o->knee_latency = 2.0;
    o->health = "/api/health";
    *run_argc = 0;
    run_argv[(*run_argc)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;

        if (strcmp(f, "--stop-on-poor") == 0) {
            o->stop_on_poor = 1;
            continue;
        }
        if (strcmp(f, "--users") && strcmp(f, "--step") && strcmp(f, "--settle") &&
            strcmp(f, "--cooldown") && strcmp(f, "--knee-throughput") &&
            strcmp(f, "--knee-latency") && strcmp(f, "--monthly-cost") && strcmp(f, "--tiers") &&
            strcmp(f, "--tier-def") && strcmp(f, "--server") && strcmp(f, "--health")) {
            run_argv[(*run_argc)++] = argv[i];
            continue;
        }
        if (!v) {
            fprintf(stderr, "volley: option %s needs a value\n", f);
            return -1;
        }
        i++;
        if (strcmp(f, "--users") == 0) {
            bad = main_sweep_users(v, o);
        } else if (strcmp(f, "--step") == 0) {
            bad = units_parse_duration_ms(v, &o->step_ms) < 0 || o->step_ms <= 0;
        } else if (strcmp(f, "--settle") == 0) {
            bad = units_parse_duration_ms(v, &o->settle_ms) < 0;
        } else if (strcmp(f, "--cooldown") == 0) {
            bad = units_parse_duration_ms(v, &o->cooldown_ms) < 0;
        } else if (strcmp(f, "--knee-throughput") == 0) {
            bad = sscanf(v, "%lf", &o->knee_tput) != 1 || o->knee_tput < 0;
        } else if (strcmp(f, "--knee-latency") == 0) {
            bad = sscanf(v, "%lf", &o->knee_latency) != 1 || o->knee_latency <= 1;
        } else if (strcmp(f, "--tiers") == 0) {
            o->tiers = v;
        } else if (strcmp(f, "--tier-def") == 0) {
            o->tier_defs = v;
        } else if (strcmp(f, "--server") == 0) {
            o->server = v;
        } else if (strcmp(f, "--health") == 0) {
            o->health = v;
        } else if (strchr(v, '=')) {
            o->monthly_costs = v;
        } else {
            bad = sscanf(v, "%lf", &o->monthly_cost) != 1 || o->monthly_cost <= 0;
        }
        if (bad) {
            fprintf(stderr, "volley: bad value for %s: '%s'\n", f, v);
            return -1;
        }
    }
    if (o->step_count == 0) {
        fprintf(stderr, "volley: sweep needs --users, e.g. --users 5,10,25,50\n");
        return -1;
    }
    return 0;
}

/* The steps of one sweep as JSON, each with its full result. */
static json_t *main_sweep_steps_json(const sweep_step *steps, int n) {
    json_t *arr = json_array();

    for (int i = 0; i < n; i++) {
        const sweep_step *s = &steps[i];
        json_t *step =
            json_pack("{s:i, s:f, s:f, s:f, s:f, s:f, s:I, s:s, s:b, s:o}", "users", (int)s->users,
                      "rps", s->rps, "success_pct", s->success_pct, "avg_ms", s->avg_ms, "p95_ms",
                      s->p95_ms, "max_ms", s->max_ms, "status_5xx", (json_int_t)s->n5xx, "verdict",
                      report_grade_name(s->verdict.overall), "handled", s->verdict.handled,
                      "result", report_json_document(&s->r));
        if (s->cpu_cores >= 0) {
            json_object_set_new(step, "server_cpu_cores", json_real(s->cpu_cores));
            json_object_set_new(step, "server_memory_mb", json_real(s->rss_mb));
        }
        json_array_append_new(arr, step);
    }
    return arr;
}

static void main_sweep_figures(json_t *obj, const sweep_step *steps, const sweep_analysis *an,
                               double monthly_cost) {
    json_object_set_new(obj, "capacity_users",
                        an->capacity >= 0 ? json_integer(steps[an->capacity].users) : json_null());
    json_object_set_new(obj, "knee_users",
                        an->knee >= 0 ? json_integer(steps[an->knee].users) : json_null());
    json_object_set_new(obj, "monthly_cost",
                        monthly_cost > 0 ? json_real(monthly_cost) : json_null());
    json_object_set_new(obj, "cost_per_user",
                        monthly_cost > 0 && an->capacity >= 0
                            ? json_real(monthly_cost / steps[an->capacity].users)
                            : json_null());
}

/* One sweep (or one tier's) as run: its steps and analysis. */
typedef struct sweep_run {
    const tiers_tier *tier; /* NULL without --tiers */
    sweep_step *steps;
    int n;
    sweep_analysis an;
    double monthly_cost;
} sweep_run;

/* The sweep's page beside its results file: <results>.html. */
static void main_sweep_html(const args_run *a, const sweep_run *runs, int run_count,
                            const char *json_path) {
    sweep_page_run pages[TIERS_MAX];
    char path[4200], title[300], err[512];
    size_t stem = strlen(json_path) - strlen(".json");

    for (int t = 0; t < run_count; t++) {
        pages[t].name = runs[t].tier ? runs[t].tier->name : "sweep";
        pages[t].steps = runs[t].steps;
        pages[t].n = runs[t].n;
        pages[t].an = runs[t].an;
    }
    snprintf(path, sizeof(path), "%.*s.html", (int)stem, json_path);
    snprintf(title, sizeof(title), "volley sweep: %.200s", a->url);
    if (sweep_html_write(path, title, pages, run_count, err, sizeof(err)) == 0) {
        printf("Report: %s\n", path);
    } else {
        fprintf(stderr, "volley: %s\n", err);
    }
}

/* The sweep's results file: every step's full result beside its figures. */
static void main_sweep_save(const args_run *a, const sweep_opts *o, const sweep_run *runs,
                            int run_count) {
    json_t *doc = json_object(), *users = json_array();
    char path[4096], name[160];
    const char *base = strrchr(a->script, '/');
    const stats_result *first = NULL;

    for (int i = 0; i < o->step_count; i++) {
        json_array_append_new(users, json_integer(o->users[i]));
    }
    json_object_set_new(doc, "schema", json_string("volley.sweep/1"));
    json_object_set_new(doc, "volley_version", json_string(VOLLEY_VERSION));
    json_object_set_new(doc, "config",
                        json_pack("{s:s, s:s, s:o, s:f, s:f, s:f}", "url", a->url, "script",
                                  a->script, "users", users, "step_s", o->step_ms / 1000.0,
                                  "settle_s", o->settle_ms / 1000.0, "cooldown_s",
                                  o->cooldown_ms / 1000.0));
    if (runs[0].tier) {
        json_t *tiers = json_array();
        for (int t = 0; t < run_count; t++) {
            const sweep_run *r = &runs[t];
            json_t *tier =
                json_pack("{s:s, s:f, s:I, s:o}", "name", r->tier->name, "cpus", r->tier->cpus,
                          "memory_bytes", (json_int_t)r->tier->memory_bytes, "steps",
                          main_sweep_steps_json(r->steps, r->n));
            main_sweep_figures(tier, r->steps, &r->an, r->monthly_cost);
            json_array_append_new(tiers, tier);
            if (!first && r->n) {
                first = &r->steps[0].r;
            }
        }
        json_object_set_new(doc, "tiers", tiers);
    } else {
        json_object_set_new(doc, "steps", main_sweep_steps_json(runs[0].steps, runs[0].n));
        main_sweep_figures(doc, runs[0].steps, &runs[0].an, runs[0].monthly_cost);
        first = runs[0].n ? &runs[0].steps[0].r : NULL;
    }
    if (!first) {
        json_decref(doc);
        return;
    }
    json_object_set_new(doc, "started_at", json_string(first->started_at));
    snprintf(name, sizeof(name), "%.100s_sweep", base ? base + 1 : a->script);
    if (strstr(name, ".lua_sweep")) {
        memmove(strstr(name, ".lua_sweep"), "_sweep", 7);
    }
    if (report_json_write_doc(doc, first, a->results_dir, name, path, sizeof(path)) == 0) {
        printf("Results: %s\n", path);
        if (a->outputs && strstr(a->outputs, "html")) {
            main_sweep_html(a, runs, run_count, path);
        }
    } else {
        fprintf(stderr, "volley: cannot write the sweep's results to %s\n", a->results_dir);
    }
    json_decref(doc);
}

/* Runs the steps; fills run->steps and run->n. With a server under limits, also its CPU and
 * memory per step. Returns 0, or an exit code when the run cannot go on. */
static int main_sweep_steps(args_run *a, const sweep_opts *o, sweep_run *run, limit_proc *srv) {
    uint32_t settle_s = (uint32_t)((o->settle_ms + 999) / 1000);
    int spawn_rate_given = a->spawn_rate_given;

    run->steps = calloc((size_t)o->step_count, sizeof(*run->steps));
    if (!run->steps) {
        return main_usage_error("out of memory");
    }
    for (int i = 0; i < o->step_count; i++) {
        stats_result full;
        double ramp_s = settle_s > 0 ? settle_s : 1;
        limit_usage u0, u1;
        int code, have_usage = 0;
        sweep_step *st = &run->steps[run->n];

        a->users = o->users[i];
        a->users_given = 1;
        a->duration_ms = (int64_t)settle_s * 1000 + o->step_ms;
        a->duration_given = 1;
        if (!spawn_rate_given) {
            a->spawn_rate = o->users[i] / ramp_s > 1 ? o->users[i] / ramp_s : 1;
            a->spawn_rate_given = 1;
        }
        fprintf(stderr, "sweep: %s%sstep %d/%d: %u users for %llds (after %us settling)\n",
                run->tier ? run->tier->name : "", run->tier ? ": " : "", i + 1, o->step_count,
                o->users[i], (long long)(o->step_ms / 1000), settle_s);
        if (srv) {
            have_usage = limit_usage_read(srv, &u0) == 0;
        }
        code = main_execute(a, &full);
        if (code == EXIT_USAGE || (code == EXIT_NO_START && run->n == 0)) {
            if (code == EXIT_NO_START) {
                fprintf(stderr, "volley: %s\n", full.stop_reason);
                stats_result_free(&full);
            }
            return code;
        }
        sweep_step_from_run(st, o->users[i], &full, settle_s);
        if (have_usage && limit_usage_read(srv, &u1) == 0 && st->r.duration_s > 0) {
            st->cpu_cores = (double)(u1.cpu_usage_us - u0.cpu_usage_us) / 1e6 /
                ((double)a->duration_ms / 1000.0);
            st->rss_mb = (double)u1.memory_bytes / 1048576.0;
        }
        fprintf(stderr, "sweep: %u users: %.1f req/s, %.1f%% success, p95 %.0f ms: %s\n",
                o->users[i], st->rps, st->success_pct, st->p95_ms,
                report_grade_name(st->verdict.overall));
        run->n++;
        if (o->stop_on_poor && st->verdict.overall == REPORT_GRADE_POOR) {
            break;
        }
        if (o->cooldown_ms > 0 && i + 1 < o->step_count) {
            usleep((useconds_t)(o->cooldown_ms * 1000));
        }
    }
    sweep_analyse(run->steps, run->n, o->knee_tput, o->knee_latency, &run->an);
    return 0;
}

/* Polls GET url+path with plain sockets until an HTTP answer comes, for at most timeout_ms. */
static int main_wait_http(const char *url, const char *path, int timeout_ms) {
    url_parts u;
    const char *why;
    uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000ull;

    if (url_parse(url, &u, &why) < 0 || u.tls) {
        return u.tls ? 0 : -1; /* https: trust the server once it is up */
    }
    while (uv_hrtime() < deadline) {
        struct addrinfo hints = {0}, *ai = NULL;
        char req[600], buf[16];
        int fd, ok = 0;

        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(u.host, u.port, &hints, &ai) == 0) {
            fd = socket(ai->ai_family, SOCK_STREAM, 0);
            if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
                int n = snprintf(req, sizeof(req),
                                 "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
                                 u.authority);
                ok = write(fd, req, (size_t)n) == n && read(fd, buf, 5) == 5 &&
                    memcmp(buf, "HTTP/", 5) == 0;
            }
            if (fd >= 0) {
                close(fd);
            }
            freeaddrinfo(ai);
        }
        if (ok) {
            return 0;
        }
        usleep(100000);
    }
    return -1;
}

/* Pins this process to the CPUs in list ("0" or "0-2"); does nothing for an empty list. */
static void main_pin_self(const char *list) {
    cpu_set_t set;
    int lo, hi;
    const char *p = list;

    if (!list[0]) {
        return;
    }
    CPU_ZERO(&set);
    while (*p) {
        if (sscanf(p, "%d-%d", &lo, &hi) == 2) {
        } else if (sscanf(p, "%d", &lo) == 1) {
            hi = lo;
        } else {
            return;
        }
        for (int c = lo; c <= hi && c < CPU_SETSIZE; c++) {
            CPU_SET(c, &set);
        }
        p = strchr(p, ',');
        if (!p) {
            break;
        }
        p++;
    }
    sched_setaffinity(0, sizeof(set), &set);
}

/* One tier: the server started under its limits, the steps run, the server stopped. */
static int main_sweep_tier(args_run *a, const sweep_opts *o, sweep_run *run) {
    limit_spec spec;
    limit_proc *proc = NULL;
    char *argv[] = {"/bin/sh", "-c", NULL, NULL};
    char cmd[1024], server_cpus[LIMIT_CPUSET_MAX], self_cpus[LIMIT_CPUSET_MAX], err[512];
    cpu_set_t saved;
    int rc, status = 0, oom = 0;

    memset(&spec, 0, sizeof(spec));
    spec.cpus = run->tier->cpus;
    spec.memory_bytes = run->tier->memory_bytes;
    if (limit_plan_cpus(spec.cpus, server_cpus, sizeof(server_cpus), self_cpus,
                        sizeof(self_cpus)) == 1) {
        fprintf(stderr,
                "volley: warning: tier %s asks for %.2f CPUs and this machine has %d: "
                "the server and volley share cores\n",
                run->tier->name, spec.cpus, limit_cpu_count());
    } else {
        snprintf(spec.cpuset, sizeof(spec.cpuset), "%s", server_cpus);
    }
    sched_getaffinity(0, sizeof(saved), &saved);
    snprintf(cmd, sizeof(cmd), "exec %s", o->server);
    argv[2] = cmd;
    if (limit_start(&spec, argv, &proc, err, sizeof(err)) < 0) {
        fprintf(stderr, "volley: cannot start the server under tier %s: %s\n", run->tier->name,
                err);
        return EXIT_NO_START;
    }
    main_pin_self(self_cpus);
    if (main_wait_http(a->url, o->health, 20000) < 0) {
        fprintf(stderr, "volley: the server (%s) did not answer %s%s within 20 s\n", o->server,
                a->url, o->health);
        limit_stop(proc, 3000, &status, &oom);
        sched_setaffinity(0, sizeof(saved), &saved);
        return EXIT_NO_START;
    }
    a->watch_pids[0] = limit_pid(proc);
    a->watch_pid_count = 1;
    rc = main_sweep_steps(a, o, run, proc);
    a->watch_pid_count = 0;
    limit_stop(proc, 3000, &status, &oom);
    sched_setaffinity(0, sizeof(saved), &saved); /* the next tier plans with every CPU */
    if (oom) {
        fprintf(stderr, "volley: the server was killed for memory under tier %s (%s)\n",
                run->tier->name, o->server);
    }
    return rc;
}

/* Bottleneck hints from the server's own figures: CPU at the tier's quota, memory near it. */
static void main_sweep_hints(const sweep_run *r) {
    for (int i = 0; i < r->n; i++) {
        const sweep_step *s = &r->steps[i];
        double mem_mb = (double)r->tier->memory_bytes / 1048576.0;
        if (s->cpu_cores >= 0.9 * r->tier->cpus) {
            printf("  ! %u users: the server used %.2f of its %.2f CPUs: CPU at the tier's "
                   "quota\n",
                   s->users, s->cpu_cores, r->tier->cpus);
        }
        if (s->rss_mb >= 0.9 * mem_mb) {
            printf("  ! %u users: the server held %.0f MB of its %.0f MB: memory near the "
                   "limit\n",
                   s->users, s->rss_mb, mem_mb);
        }
    }
}

/* The guide's resource matrix, filled in from the tiers' measurements. */
static void main_sweep_matrix(const sweep_run *runs, int n) {
    printf("\nResource matrix\n  %-10s %5s %7s %9s %9s %14s  %s\n", "tier", "vCPU", "memory",
           "capacity", "knee", "cost per user", "recommended for");
    for (int t = 0; t < n; t++) {
        const sweep_run *r = &runs[t];
        char mem[32], cap[16] = "none", knee[16] = "-", cost[32] = "-", rec[64];
        tiers_format_memory(r->tier->memory_bytes, mem, sizeof(mem));
        if (r->an.capacity >= 0) {
            snprintf(cap, sizeof(cap), "%u", r->steps[r->an.capacity].users);
            snprintf(rec, sizeof(rec), "up to %u users", r->steps[r->an.capacity].users);
            if (r->monthly_cost > 0) {
                snprintf(cost, sizeof(cost), "%.2f/month",
                         r->monthly_cost / r->steps[r->an.capacity].users);
            }
        } else {
            snprintf(rec, sizeof(rec), "fewer than %u users", r->n ? r->steps[0].users : 0);
        }
        if (r->an.knee >= 0) {
            snprintf(knee, sizeof(knee), "%u", r->steps[r->an.knee].users);
        }
        printf("  %-10s %5.2f %7s %9s %9s %14s  %s\n", r->tier->name, r->tier->cpus, mem, cap, knee,
               cost, rec);
    }
}

static int main_sweep(int argc, char **argv) {
    sweep_opts o;
    args_run a;
    char *run_argv[256];
    int run_argc, run_count = 1, code = 0, any_capacity = 0;
    char err[512];
    sweep_run runs[TIERS_MAX];
    tiers_table table;
    const tiers_tier *chosen[TIERS_MAX];

    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(main_sweep_usage, stdout);
        return EXIT_OK;
    }
    if (argc > 250 || main_sweep_args(argc, argv, &o, run_argv, &run_argc) < 0) {
        return EXIT_USAGE;
    }
    if (args_parse_run(run_argc, run_argv, &a, err, sizeof(err)) < 0) {
        return main_usage_error(err);
    }
    if (!a.script) {
        return main_usage_error("sweep needs a user-style scenario: -s FILE");
    }
    memset(runs, 0, sizeof(runs));
    runs[0].monthly_cost = o.monthly_cost;
    if (o.tiers) {
        int k;
        tiers_defaults(&table);
        if (!o.server) {
            return main_usage_error("--tiers needs --server CMD: the server to start per tier");
        }
        if ((o.tier_defs && tiers_parse_overrides(&table, o.tier_defs, err, sizeof(err)) < 0) ||
            (o.monthly_costs && tiers_parse_costs(&table, o.monthly_costs, err, sizeof(err)) < 0) ||
            (k = tiers_select(&table, o.tiers, chosen, TIERS_MAX, err, sizeof(err))) < 0) {
            return main_usage_error(err);
        }
        run_count = k;
        for (int t = 0; t < run_count; t++) {
            runs[t].tier = chosen[t];
            runs[t].monthly_cost = chosen[t]->monthly_cost;
        }
    } else if (o.server || o.monthly_costs) {
        return main_usage_error("--server and per-tier costs go with --tiers");
    }
    for (int t = 0; t < run_count && code == 0; t++) {
        code = runs[t].tier ? main_sweep_tier(&a, &o, &runs[t])
                            : main_sweep_steps(&a, &o, &runs[t], NULL);
        if (code == 0) {
            char title[96];
            snprintf(title, sizeof(title), "Sweep%s%s", runs[t].tier ? ": tier " : "",
                     runs[t].tier ? runs[t].tier->name : "");
            sweep_print(stdout, title, runs[t].steps, runs[t].n, &runs[t].an, runs[t].monthly_cost);
            if (runs[t].tier) {
                main_sweep_hints(&runs[t]);
            }
            any_capacity |= runs[t].an.capacity >= 0;
        }
    }
    if (code == 0 && runs[0].tier) {
        main_sweep_matrix(runs, run_count);
    }
    if (code == 0 && !a.no_save) {
        main_sweep_save(&a, &o, runs, run_count);
    }
    for (int t = 0; t < run_count; t++) {
        for (int i = 0; i < runs[t].n; i++) {
            stats_result_free(&runs[t].steps[i].r);
        }
        free(runs[t].steps);
    }
    if (code != 0) {
        return code;
    }
    return any_capacity ? EXIT_OK : EXIT_THRESHOLD;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "target") == 0) {
        return target_main(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "limit") == 0) {
        return limit_main(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "sweep") == 0) {
        return main_sweep(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "report") == 0) {
        return report_cmd_report(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "compare") == 0) {
        return report_cmd_compare(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "run") == 0) {
        return main_run(argc - 1, argv + 1);
    }
    return main_run(argc, argv);
}
