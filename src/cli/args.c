/* args.c: parsing the run command's flags, in wrk's spelling with long forms beside them. */
#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/commands.h"
#include "util/units.h"

enum {
    OPT_THREADS = 1,
    OPT_CONNECTIONS,
    OPT_DURATION,
    OPT_REQUESTS,
    OPT_HEADER,
    OPT_TIMEOUT,
    OPT_LATENCY,
    OPT_MAX_BODY,
    OPT_RESULTS,
    OPT_NO_SAVE,
    OPT_INSECURE,
    OPT_CACERT,
    OPT_SCRIPT,
    OPT_INIT_TIMEOUT,
    OPT_USERS,
    OPT_SPAWN_RATE,
    OPT_RUN_TIME,
    OPT_HEADLESS,
    OPT_PRESET,
    OPT_THRESHOLD,
    OPT_STOP_TIMEOUT,
    OPT_THINK_SCALE,
    OPT_SEED,
    OPT_OUTPUT,
    OPT_WATCH_PID,
    OPT_MONTHLY_COST,
    OPT_HELP,
    OPT_VERSION
};

typedef struct args_flag {
    char short_name;
    const char *long_name;
    int id;
    int takes_value;
} args_flag;

static const args_flag args_flags[] = {
    {'t', "threads", OPT_THREADS, 1},
    {'c', "connections", OPT_CONNECTIONS, 1},
    {'d', "duration", OPT_DURATION, 1},
    {'n', "requests", OPT_REQUESTS, 1},
    {'H', "header", OPT_HEADER, 1},
    {0, "timeout", OPT_TIMEOUT, 1},
    {0, "latency", OPT_LATENCY, 0},
    {0, "max-body", OPT_MAX_BODY, 1},
    {0, "results", OPT_RESULTS, 1},
    {0, "no-save", OPT_NO_SAVE, 0},
    {'k', "insecure", OPT_INSECURE, 0},
    {0, "cacert", OPT_CACERT, 1},
    {'s', "script", OPT_SCRIPT, 1},
    {0, "init-timeout", OPT_INIT_TIMEOUT, 1},
    {'u', "users", OPT_USERS, 1},
    {'r', "spawn-rate", OPT_SPAWN_RATE, 1},
    {0, "run-time", OPT_RUN_TIME, 1},
    {0, "headless", OPT_HEADLESS, 0},
    {0, "preset", OPT_PRESET, 1},
    {0, "threshold", OPT_THRESHOLD, 1},
    {0, "stop-timeout", OPT_STOP_TIMEOUT, 1},
    {0, "think-scale", OPT_THINK_SCALE, 1},
    {0, "seed", OPT_SEED, 1},
    {'o', "output", OPT_OUTPUT, 1},
    {0, "watch-pid", OPT_WATCH_PID, 1},
    {0, "monthly-cost", OPT_MONTHLY_COST, 1},
    {'h', "help", OPT_HELP, 0},
    {'v', "version", OPT_VERSION, 0},
};

#define ARGS_FLAG_COUNT (sizeof(args_flags) / sizeof(args_flags[0]))

const char *args_usage(void) {
    return "Usage: volley [run] [options] <url> [-- script args]\n"
           "  -t, --threads N        worker threads (default 2)\n"
           "  -c, --connections N    connections kept open, split across threads (default 10)\n"
           "  -d, --duration T       run time: 30s, 5m, 1h (default 10s)\n"
           "  -n, --requests N       stop after N requests instead (or when -d passes first)\n"
           "  -H, --header \"K: V\"    add a request header (repeatable)\n"
           "      --timeout T        per-request timeout, enforced (default 2s)\n"
           "      --latency          print the latency percentile table\n"
           "      --max-body SIZE    largest response body accepted (default 64M)\n"
           "  -s, --script FILE      Lua script (wrk 4 scripts run unchanged)\n"
           "      --init-timeout T   bound on the script's top level, setup() and init() (10s)\n"
           "      --results DIR      where the results file goes (default results/)\n"
           "      --no-save          do not write a results file\n"
           "  -o, --output FMT       extra outputs beside the results file: html, csv\n"
           "      --watch-pid PID    sample the CPU and memory of a server process (and its\n"
           "                         children) each second, into the results (repeatable)\n"
           "      --monthly-cost N   adds the cost per user to the verdict (N a month)\n"
           "  -k, --insecure         do not verify TLS certificates\n"
           "      --cacert FILE      trust this CA bundle (PEM) besides the system's\n"
           "Virtual users (user-style scripts):\n"
           "  -u, --users N          users to run (closed model)\n"
           "  -r, --spawn-rate N     users started per second\n"
           "      --run-time T       the same as -d\n"
           "      --preset NAME      a load profile from the script's options.presets\n"
           "      --threshold EXPR   pass/fail rule, e.g. \"p95 < 2s\"; exit 1 when broken\n"
           "      --stop-timeout T   time tasks get to finish at the end (default 10s)\n"
           "      --think-scale F    multiply think times and sleeps (e.g. 0.05 to rehearse)\n"
           "      --seed N           seed for task choice and think times\n"
           "  -h, --help             this text\n"
           "  -v, --version          print the version\n"
           "Exit codes: 0 ran, 1 a threshold failed, 2 usage or script error, 3 could not\n"
           "start (dns, connect, tls), 4 incomplete, 130 interrupted.\n";
}

static const args_flag *args_find_long(const char *name, size_t len) {
    for (size_t i = 0; i < ARGS_FLAG_COUNT; i++) {
        if (strlen(args_flags[i].long_name) == len &&
            strncmp(args_flags[i].long_name, name, len) == 0) {
            return &args_flags[i];
        }
    }
    return NULL;
}

static const args_flag *args_find_short(char c) {
    for (size_t i = 0; i < ARGS_FLAG_COUNT; i++) {
        if (args_flags[i].short_name == c) {
            return &args_flags[i];
        }
    }
    return NULL;
}

static int args_int(const char *v, int min, int *out) {
    uint64_t n;

    if (units_parse_count(v, &n) < 0 || n < (uint64_t)min || n > 1000000) {
        return -EINVAL;
    }
    *out = (int)n;
    return 0;
}

/* Applies one flag's value; writes the reason on failure. */
static int args_apply(args_run *a, const args_flag *f, const char *v, const char *shown, char *err,
                      size_t err_len) {
    switch (f->id) {
        case OPT_THREADS:
            if (strpbrk(v, "smh") && !strpbrk(v, "kM")) {
                snprintf(err, err_len,
                         "-t is the number of threads, as in wrk; '%s' looks like a duration: use "
                         "-d %s or --run-time %s",
                         v, v, v);
                return -EINVAL;
            }
            if (args_int(v, 1, &a->threads) < 0) {
                goto bad_number;
            }
            return 0;
        case OPT_USERS: {
            int n;
            if (args_int(v, 1, &n) < 0) {
                goto bad_number;
            }
            a->users = (uint32_t)n;
            a->users_given = 1;
            return 0;
        }
        case OPT_SPAWN_RATE:
            if (sscanf(v, "%lf", &a->spawn_rate) != 1 || a->spawn_rate < 0) {
                goto bad_number;
            }
            a->spawn_rate_given = 1;
            return 0;
        case OPT_THINK_SCALE:
            if (sscanf(v, "%lf", &a->think_scale) != 1 || a->think_scale < 0) {
                goto bad_number;
            }
            a->think_scale_given = 1;
            return 0;
        case OPT_SEED:
            if (units_parse_count(v, &a->seed) < 0) {
                goto bad_number;
            }
            a->seed_given = 1;
            return 0;
        case OPT_STOP_TIMEOUT:
            if (units_parse_duration_ms(v, &a->stop_timeout_ms) < 0) {
                snprintf(err, err_len, "bad duration for %s: '%s'", shown, v);
                return -EINVAL;
            }
            a->stop_timeout_given = 1;
            return 0;
        case OPT_OUTPUT: {
            unsigned mask;

            if (report_outputs_parse(v, &mask, err, err_len) < 0) {
                return -EINVAL;
            }
            a->outputs = v;
            return 0;
        }
        case OPT_WATCH_PID: {
            int pid;
            if (args_int(v, 1, &pid) < 0 || a->watch_pid_count >= ARGS_MAX_WATCH) {
                goto bad_number;
            }
            a->watch_pids[a->watch_pid_count++] = pid;
            return 0;
        }
        case OPT_MONTHLY_COST:
            return report_monthly_cost_parse(v, &a->monthly_cost, err, err_len);
        case OPT_HEADLESS:
            return 0; /* volley has no web interface: every run is headless */
        case OPT_PRESET:
            a->preset = v;
            return 0;
        case OPT_THRESHOLD:
            if (a->threshold_count >= ARGS_MAX_THRESHOLDS) {
                snprintf(err, err_len, "too many thresholds (at most %d)", ARGS_MAX_THRESHOLDS);
                return -EINVAL;
            }
            a->thresholds[a->threshold_count++] = v;
            return 0;
        case OPT_CONNECTIONS:
            if (args_int(v, 1, &a->connections) < 0) {
                goto bad_number;
            }
            a->connections_given = 1;
            return 0;
        case OPT_DURATION:
        case OPT_RUN_TIME:
            if (units_parse_duration_ms(v, &a->duration_ms) < 0) {
                snprintf(err, err_len, "bad duration for %s: '%s' (use e.g. 30s, 5m, 1h)", shown,
                         v);
                return -EINVAL;
            }
            a->duration_given = 1;
            return 0;
        case OPT_REQUESTS:
            if (units_parse_count(v, &a->requests) < 0 || a->requests == 0) {
                goto bad_number;
            }
            return 0;
        case OPT_HEADER:
            if (!strstr(v, ": ") || v[0] == ':' || v[0] == ' ') {
                snprintf(err, err_len, "bad header '%s': expected \"Name: value\"", v);
                return -EINVAL;
            }
            if (a->header_count >= ARGS_MAX_HEADERS) {
                snprintf(err, err_len, "too many headers (at most %d)", ARGS_MAX_HEADERS);
                return -EINVAL;
            }
            a->headers[a->header_count++] = v;
            return 0;
        case OPT_TIMEOUT:
            if (units_parse_duration_ms(v, &a->timeout_ms) < 0 || a->timeout_ms <= 0) {
                snprintf(err, err_len, "bad timeout for %s: '%s' (use e.g. 2s, 500ms)", shown, v);
                return -EINVAL;
            }
            a->timeout_given = 1;
            return 0;
        case OPT_INIT_TIMEOUT:
            if (units_parse_duration_ms(v, &a->init_timeout_ms) < 0 || a->init_timeout_ms <= 0) {
                snprintf(err, err_len, "bad duration for %s: '%s' (use e.g. 10s)", shown, v);
                return -EINVAL;
            }
            return 0;
        case OPT_MAX_BODY:
            if (units_parse_size(v, &a->max_body_bytes) < 0 || a->max_body_bytes == 0) {
                snprintf(err, err_len, "bad size for %s: '%s' (use e.g. 64M, 512k)", shown, v);
                return -EINVAL;
            }
            return 0;
        case OPT_RESULTS:
            a->results_dir = v;
            return 0;
        case OPT_CACERT:
            a->cacert = v;
            return 0;
        case OPT_SCRIPT:
            a->script = v;
            return 0;
        case OPT_LATENCY:
            a->latency = 1;
            return 0;
        case OPT_NO_SAVE:
            a->no_save = 1;
            return 0;
        case OPT_INSECURE:
            a->insecure = 1;
            return 0;
        case OPT_HELP:
            a->help = 1;
            return 0;
        case OPT_VERSION:
            a->version = 1;
            return 0;
        default:
            break;
    }
bad_number:
    snprintf(err, err_len, "bad number for %s: '%s'", shown, v);
    return -EINVAL;
}

static void args_defaults(args_run *a) {
    memset(a, 0, sizeof(*a));
    a->threads = 2;
    a->connections = 10;
    a->duration_ms = 10000;
    a->timeout_ms = 2000;
    a->init_timeout_ms = 10000;
    a->stop_timeout_ms = 10000;
    a->think_scale = 1.0;
    a->max_body_bytes = 64ull * 1024 * 1024;
    a->results_dir = "results";
}

int args_parse_run(int argc, char **argv, args_run *a, char *err, size_t err_len) {
    args_defaults(a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const args_flag *f;
        const char *value = NULL;
        char shown[64];

        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc && a->script_arg_count < ARGS_MAX_SCRIPT_ARGS; i++) {
                a->script_args[a->script_arg_count++] = argv[i];
            }
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            if (a->url) {
                snprintf(err, err_len, "unexpected argument '%s' (only one URL is taken)", arg);
                return -EINVAL;
            }
            a->url = arg;
            continue;
        }
        if (arg[1] == '-') {
            const char *eq = strchr(arg + 2, '=');
            size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            f = args_find_long(arg + 2, len);
            snprintf(shown, sizeof(shown), "--%.*s", (int)len, arg + 2);
            if (eq) {
                value = eq + 1;
            }
        } else {
            f = args_find_short(arg[1]);
            snprintf(shown, sizeof(shown), "-%c", arg[1]);
            if (arg[2]) {
                value = arg + 2;
            }
        }
        if (!f) {
            snprintf(err, err_len, "unknown option '%s' (see volley --help)", arg);
            return -EINVAL;
        }
        if (f->takes_value && !value) {
            if (i + 1 >= argc) {
                snprintf(err, err_len, "option %s needs a value", shown);
                return -EINVAL;
            }
            value = argv[++i];
        } else if (!f->takes_value && value) {
            snprintf(err, err_len, "option %s takes no value", shown);
            return -EINVAL;
        }
        if (args_apply(a, f, value, shown, err, err_len) < 0) {
            return -EINVAL;
        }
    }
    if (a->help || a->version) {
        return 0;
    }
    if (!a->url) {
        snprintf(err, err_len, "missing URL (usage: volley [options] <url>; see --help)");
        return -EINVAL;
    }
    if (a->duration_given && a->duration_ms <= 0) {
        snprintf(err, err_len, "the duration must be more than zero");
        return -EINVAL;
    }
    if (a->requests && !a->duration_given) {
        a->duration_ms = 0; /* -n alone bounds the run by count */
    }
    if (a->connections < a->threads && !a->users_given) {
        snprintf(err, err_len,
                 "connections (%d) must be at least threads (%d): each thread needs one",
                 a->connections, a->threads);
        return -EINVAL;
    }
    return 0;
}
