/* args.h: the command line of `volley [run]`, parsed into options. */
#ifndef VOLLEY_CLI_ARGS_H
#define VOLLEY_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#define ARGS_MAX_HEADERS 64
#define ARGS_MAX_SCRIPT_ARGS 64
#define ARGS_MAX_THRESHOLDS 32
#define ARGS_MAX_WATCH 16

typedef struct args_run {
    int threads;
    int connections;
    int64_t duration_ms;
    int duration_given;
    uint64_t requests;
    int64_t timeout_ms;
    int64_t init_timeout_ms;
    uint64_t max_body_bytes;
    int latency;
    const char *results_dir;
    int no_save;
    int insecure;
    const char *cacert;
    const char *script;
    const char *url;
    size_t header_count;
    const char *headers[ARGS_MAX_HEADERS];
    size_t script_arg_count;
    const char *script_args[ARGS_MAX_SCRIPT_ARGS]; /* the values after -- */
    uint32_t users;
    int users_given;
    double spawn_rate;
    int spawn_rate_given;
    const char *preset;
    size_t threshold_count;
    const char *thresholds[ARGS_MAX_THRESHOLDS];
    int64_t stop_timeout_ms;
    int stop_timeout_given;
    double think_scale;
    int think_scale_given;
    uint64_t seed;
    int seed_given;
    int timeout_given;
    int connections_given;
    int watch_pids[ARGS_MAX_WATCH];
    size_t watch_pid_count;
    const char *outputs; /* -o: extra outputs such as "html,csv"; NULL when none */
    double monthly_cost; /* --monthly-cost: 0 when not given */
    int help;
    int version;
} args_run;

/* Fills *a from argv (argv[0] is the program, the optional "run" already skipped by the caller).
 * Returns 0, or -EINVAL with a one-line reason written into err. */
int args_parse_run(int argc, char **argv, args_run *a, char *err, size_t err_len);

/* The usage text of the run command. */
const char *args_usage(void);

#endif
