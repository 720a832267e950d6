/* target.c: `volley target`: flags, accounts, the listening line, signals and a clean stop. */
#include "target/target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "target/tmodel.h"
#include "target/troutes.h"
#include "target/tsrv.h"
#include "target/tstats.h"
#include "target/tstore.h"

#define TARGET_EXIT_OK 0
#define TARGET_EXIT_START 1
#define TARGET_EXIT_USAGE 2
#define TARGET_MAX_THREADS 64
#define TARGET_CSV_LINE_BYTES 512

typedef struct {
    char host[128];
    int port;
    int allow_remote;
    int threads;
    size_t max_body_bytes;
    int max_scripts;
    const char *accounts_path;
    const char *cert_path, *key_path;
    tmodel_config model;
} target_opts;

static const char target_usage[] =
    "Usage: volley target [options]\n"
    "\n"
    "The IndieShots rehearsal server: the real API's routes, the guide's routes, and a model of\n"
    "what makes the real app slow or fail. Every delay is multiplied by --time-scale.\n"
    "\n"
    "Server:\n"
    "  --listen HOST:PORT       address (default 127.0.0.1:8089; port 0 picks a free one)\n"
    "  --allow-remote           allow a non-loopback address\n"
    "  --threads N              worker threads sharing the port (default 1)\n"
    "  --max-body BYTES         request body limit, 413 above it (default 10M)\n"
    "  --max-scripts N          scripts (and parse jobs) kept, 507 past it (default 100000)\n"
    "  --accounts FILE          more accounts, CSV lines email,password,tier (free|pro)\n"
    "  --cert FILE --key FILE   serve HTTPS (PEM certificate chain and key)\n"
    "\n"
    "Model:\n"
    "  --time-scale F           multiplies every modelled delay (default 1)\n"
    "  --seed N                 random seed (default: from the clock)\n"
    "  --latency-dist D         lognormal or uniform (default lognormal)\n"
    "  --chat-ms LO-HI          GPT call latency (default 1500-4000)\n"
    "  --image-ms LO-HI         image call latency (default 8000-15000)\n"
    "  --pause-ms MS            pause between images of a batch (default 5000)\n"
    "  --retry-pause-ms MS      pause between retried images (default 8000)\n"
    "  --parse-ms MS            time a parse job stays processing (default 3000)\n"
    "  --signin-ms MS           sign-in password check (default 130)\n"
    "  --openai-rpm N           OpenAI requests per minute for all users (default 3500; 0 off)\n"
    "  --openai-attempts N      tries per call before 503 (default 3)\n"
    "  --capacity N             concurrent generations (default 8)\n"
    "  --queue-timeout-ms MS    wait for a generation slot before 503 (default 30000)\n"
    "  --queue-timeout T        the same as a duration: 500ms, 30s, 1m\n"
    "  --edge-rate N            hosting-layer requests/s before 429 (default 0: off)\n"
    "  --edge-502-rate P        share of requests answered 502 (default 0)\n"
    "  --image-bytes N          base64 length of one image (default 200000)\n"
    "  --shots LO-HI            shots in a generated shot list (default 3-8)\n"
    "  --fault MODE             reset, stall, garbage or drip (default none)\n"
    "  --fault-rate P           share of responses spoiled (default 0.1)\n"
    "  --drip-ms MS             how long a dripped response takes (default 2000)\n"
    "\n"
    "Built-in accounts: premium@demo.com (pro) and free@demo.com (free), password demo123.\n"
    "GET /__target/stats shows the counters; POST /__target/reset zeroes them.\n";

static int target_usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "volley: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see volley target --help)\n");
    return -1;
}

/* Parses a number with an optional k, M or G suffix (powers of 1000 for counts, 1024 for
 * bytes). */
static int target_number(const char *s, double *out, int bytes) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v != v) {
        return -1;
    }
    double k = bytes ? 1024 : 1000;
    if (*end == 'k' || *end == 'K') {
        v *= k;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        v *= k * k;
        end++;
    } else if (*end == 'G' || *end == 'g') {
        v *= k * k * k;
        end++;
    }
    if (*end || v < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Parses a duration with a unit (ms, s, m, h; a bare number is seconds) into milliseconds. */
static int target_duration_ms(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v != v || v < 0) {
        return -1;
    }
    double unit = strcmp(end, "ms") == 0 ? 1
        : strcmp(end, "s") == 0 || !*end ? 1000
        : strcmp(end, "m") == 0          ? 60000
        : strcmp(end, "h") == 0          ? 3600000
                                         : -1;
    if (unit < 0) {
        return -1;
    }
    *out = v * unit;
    return 0;
}

static int target_range(const char *s, double *lo, double *hi) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", s);
    char *dash = strchr(buf, '-');
    if (!dash) {
        if (target_number(buf, lo, 0) < 0) {
            return -1;
        }
        *hi = *lo;
        return 0;
    }
    *dash = '\0';
    if (target_number(buf, lo, 0) < 0 || target_number(dash + 1, hi, 0) < 0 || *hi < *lo) {
        return -1;
    }
    return 0;
}

static int target_listen(const char *s, target_opts *o) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) {
        return -1;
    }
    size_t hl = (size_t)(colon - s);
    if (s[0] == '[' && colon[-1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl >= sizeof(o->host)) {
        return -1;
    }
    memcpy(o->host, s, hl);
    o->host[hl] = '\0';
    double port;
    if (target_number(colon + 1, &port, 0) < 0 || port > 65535 || port != (int)port) {
        return -1;
    }
    o->port = (int)port;
    return 0;
}

static int target_is_loopback(const char *host) {
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
        strcmp(host, "localhost") == 0;
}

/* Parses one flag with its value; returns 0, or -1 after printing the usage error. */
static int target_flag(target_opts *o, const char *flag, const char *val) {
    tmodel_config *m = &o->model;
    double v = 0, hi = 0;
    int bytes = strcmp(flag, "--max-body") == 0 || strcmp(flag, "--image-bytes") == 0;
    int is_range = strcmp(flag, "--chat-ms") == 0 || strcmp(flag, "--image-ms") == 0 ||
        strcmp(flag, "--shots") == 0;
    if (strcmp(flag, "--queue-timeout") == 0) {
        if (target_duration_ms(val, &m->queue_timeout_ms) < 0) {
            return target_usage_error("bad duration '%s' for --queue-timeout (e.g. 500ms, 30s)",
                                      val);
        }
        return 0;
    }
    int is_text = strcmp(flag, "--listen") == 0 || strcmp(flag, "--accounts") == 0 ||
        strcmp(flag, "--cert") == 0 || strcmp(flag, "--key") == 0 || strcmp(flag, "--fault") == 0 ||
        strcmp(flag, "--latency-dist") == 0;
    if (is_range && target_range(val, &v, &hi) < 0) {
        return target_usage_error("bad range for %s (want LO-HI)", flag);
    }
    if (!is_range && !is_text && target_number(val, &v, bytes) < 0) {
        return target_usage_error("bad number for %s", flag);
    }
    if (strcmp(flag, "--listen") == 0) {
        if (target_listen(val, o) < 0) {
            return target_usage_error("bad --listen address '%s' (want HOST:PORT)", val);
        }
    } else if (strcmp(flag, "--accounts") == 0) {
        o->accounts_path = val;
    } else if (strcmp(flag, "--cert") == 0) {
        o->cert_path = val;
    } else if (strcmp(flag, "--key") == 0) {
        o->key_path = val;
    } else if (strcmp(flag, "--fault") == 0) {
        static const char *const names[] = {"none", "reset", "stall", "garbage", "drip"};
        int i;
        for (i = 0; i < 5 && strcmp(val, names[i]) != 0; i++) {
        }
        if (i == 5) {
            return target_usage_error("unknown --fault '%s' (reset, stall, garbage, drip)", val);
        }
        m->fault = (tmodel_fault)i;
    } else if (strcmp(flag, "--latency-dist") == 0) {
        if (strcmp(val, "lognormal") != 0 && strcmp(val, "uniform") != 0) {
            return target_usage_error("unknown --latency-dist '%s' (lognormal, uniform)", val);
        }
        m->dist = val[0] == 'u' ? TMODEL_DIST_UNIFORM : TMODEL_DIST_LOGNORMAL;
    } else if (strcmp(flag, "--threads") == 0) {
        if (v < 1 || v > TARGET_MAX_THREADS || v != (int)v) {
            return target_usage_error("--threads wants a whole number from 1 to 64, not %s", val);
        }
        o->threads = (int)v;
    } else if (strcmp(flag, "--max-body") == 0) {
        o->max_body_bytes = (size_t)v;
    } else if (strcmp(flag, "--max-scripts") == 0) {
        if (v < 1 || v > 10000000) {
            return target_usage_error("--max-scripts wants 1 to 10M, not %s", val);
        }
        o->max_scripts = (int)v;
    } else if (strcmp(flag, "--time-scale") == 0) {
        m->time_scale = v;
    } else if (strcmp(flag, "--seed") == 0) {
        m->seed = (uint64_t)v;
    } else if (strcmp(flag, "--chat-ms") == 0) {
        m->chat_lo_ms = v;
        m->chat_hi_ms = hi;
    } else if (strcmp(flag, "--image-ms") == 0) {
        m->image_lo_ms = v;
        m->image_hi_ms = hi;
    } else if (strcmp(flag, "--shots") == 0) {
        if (v < 1 || hi > TSTORE_MAX_SHOTS) {
            return target_usage_error("--shots wants a range within 1-50, not %s", val);
        }
        m->shots_lo = (int)v;
        m->shots_hi = (int)hi;
    } else if (strcmp(flag, "--pause-ms") == 0) {
        m->pause_ms = v;
    } else if (strcmp(flag, "--retry-pause-ms") == 0) {
        m->retry_pause_ms = v;
    } else if (strcmp(flag, "--parse-ms") == 0) {
        m->parse_ms = v;
    } else if (strcmp(flag, "--signin-ms") == 0) {
        m->signin_ms = v;
    } else if (strcmp(flag, "--openai-rpm") == 0) {
        m->openai_rpm = v;
    } else if (strcmp(flag, "--openai-attempts") == 0) {
        if (v < 1 || v > 100) {
            return target_usage_error("--openai-attempts wants 1 to 100, not %s", val);
        }
        m->openai_attempts = (int)v;
    } else if (strcmp(flag, "--capacity") == 0) {
        if (v < 1 || v > 1000000) {
            return target_usage_error("--capacity wants at least 1, not %s", val);
        }
        m->capacity = (int)v;
    } else if (strcmp(flag, "--queue-timeout-ms") == 0) {
        m->queue_timeout_ms = v;
    } else if (strcmp(flag, "--edge-rate") == 0) {
        m->edge_rate_per_s = v;
    } else if (strcmp(flag, "--edge-502-rate") == 0 || strcmp(flag, "--fault-rate") == 0) {
        if (v > 1) {
            return target_usage_error("%s wants a share from 0 to 1", flag);
        }
        *(flag[2] == 'e' ? &m->edge_502_rate : &m->fault_rate) = v;
    } else if (strcmp(flag, "--image-bytes") == 0) {
        if (v < 1024 || v > 64.0 * 1024 * 1024) {
            return target_usage_error("--image-bytes wants 1k to 64M, not %s", val);
        }
        m->image_bytes = (size_t)v;
    } else if (strcmp(flag, "--drip-ms") == 0) {
        m->drip_ms = v;
    } else {
        return target_usage_error("unknown option %s", flag);
    }
    return 0;
}

static int target_parse(int argc, char **argv, target_opts *o, int *help) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = 1;
            return 0;
        }
        if (strcmp(a, "--allow-remote") == 0) {
            o->allow_remote = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            return target_usage_error("unexpected argument '%s'", a);
        }
        char flag[64];
        const char *val;
        const char *eq = strchr(a, '=');
        if (eq) {
            snprintf(flag, sizeof(flag), "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(flag, sizeof(flag), "%s", a);
            if (i + 1 >= argc) {
                return target_usage_error("%s needs a value", a);
            }
            val = argv[++i];
        }
        if (target_flag(o, flag, val) < 0) {
            return -1;
        }
    }
    if (!o->allow_remote && !target_is_loopback(o->host)) {
        return target_usage_error("%s is not a loopback address; add --allow-remote to serve it",
                                  o->host);
    }
    if (!o->cert_path != !o->key_path) {
        return target_usage_error("%s", "--cert and --key go together");
    }
    return 0;
}

/* Reads email,password,tier lines (a header line and # comments are skipped). */
static int target_accounts(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "volley: cannot open accounts file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[TARGET_CSV_LINE_BYTES];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#' || (lineno == 1 && strncasecmp(line, "email,", 6) == 0)) {
            continue;
        }
        char *email = strtok(line, ",");
        char *password = strtok(NULL, ",");
        char *tier = strtok(NULL, ",");
        tstore_tier t = tier && strcasecmp(tier, "pro") == 0 ? TSTORE_PRO : TSTORE_FREE;
        if (!email || !password || (tier && strcasecmp(tier, "pro") && strcasecmp(tier, "free"))) {
            fprintf(stderr, "volley: %s:%d: want email,password,tier (free or pro)\n", path,
                    lineno);
            rc = -1;
            break;
        }
        int e = tstore_account_add(email, password, t);
        if (e < 0 && e != -EEXIST) {
            fprintf(stderr, "volley: %s:%d: cannot add account %s: %s\n", path, lineno, email,
                    e == -EINVAL ? "unusable email or password" : strerror(-e));
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

typedef struct {
    uv_signal_t sigint, sigterm;
    tsrv_server *server;
} target_signals;

static void target_on_signal(uv_signal_t *h, int signum) {
    target_signals *s = h->data;
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    tmodel_stop();
    tsrv_stop(s->server);
}

static void target_defaults(target_opts *o) {
    memset(o, 0, sizeof(*o));
    snprintf(o->host, sizeof(o->host), "%s", "127.0.0.1");
    o->port = 8089;
    o->threads = 1;
    o->max_body_bytes = 10u << 20;
    o->max_scripts = 100000;
    tmodel_config_defaults(&o->model);
}

/* Sets up the shared state, binds, prints the listening line and serves until a signal. */
static int target_serve(target_opts *o) {
    if (o->model.seed == 0) {
        o->model.seed = uv_hrtime() ^ ((uint64_t)getpid() << 32);
    }
    json_object_seed(0);
    tstats_init();
    tmodel_init(&o->model);
    troutes_init(&o->model);
    if (tstore_init(o->max_scripts) < 0) {
        fprintf(stderr, "volley: target: cannot set up the store\n");
        return TARGET_EXIT_START;
    }
    int rc = TARGET_EXIT_START;
    tsrv_server *server = NULL;
    tstore_account_add("premium@demo.com", "demo123", TSTORE_PRO);
    tstore_account_add("free@demo.com", "demo123", TSTORE_FREE);
    if (o->accounts_path && target_accounts(o->accounts_path) < 0) {
        goto out;
    }
    tsrv_config cfg = {.max_body_bytes = o->max_body_bytes,
                       .model = &o->model,
                       .cert_path = o->cert_path,
                       .key_path = o->key_path,
                       .dispatch = troutes_dispatch};
    char err[256] = "";
    int port = 0;
    int e = tsrv_create(&server, &cfg, o->host, o->port, o->threads, o->model.seed, &port, err,
                        sizeof(err));
    if (e < 0) {
        fprintf(stderr, "volley: target: cannot listen on %s:%d: %s\n", o->host, o->port,
                err[0] ? err : strerror(-e));
        goto out;
    }
    target_signals sig;
    sig.server = server;
    uv_signal_init(tsrv_main_loop(server), &sig.sigint);
    uv_signal_init(tsrv_main_loop(server), &sig.sigterm);
    sig.sigint.data = sig.sigterm.data = &sig;
    uv_signal_start(&sig.sigint, target_on_signal, SIGINT);
    uv_signal_start(&sig.sigterm, target_on_signal, SIGTERM);
    int v6 = strchr(o->host, ':') != NULL;
    printf("volley target listening on %s://%s%s%s:%d\n", o->cert_path ? "https" : "http",
           v6 ? "[" : "", o->host, v6 ? "]" : "", port);
    fflush(stdout);
    rc = tsrv_run(server) < 0 ? TARGET_EXIT_START : TARGET_EXIT_OK;
out:
    tsrv_destroy(server);
    tmodel_free();
    tstore_free();
    return rc;
}

/* Runs the server until SIGINT or SIGTERM; argv[0] is "target". Returns the exit code. */
int target_main(int argc, char **argv) {
    target_opts o;
    target_defaults(&o);
    int help = 0;
    if (target_parse(argc, argv, &o, &help) < 0) {
        return TARGET_EXIT_USAGE;
    }
    if (help) {
        fputs(target_usage, stdout);
        return TARGET_EXIT_OK;
    }
    return target_serve(&o);
}
