/* threshold.c: parsing and evaluating pass/fail rules over a run's figures. */
#include "report/threshold.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum threshold_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };

typedef struct threshold_rule {
    char endpoint[128]; /* empty: the whole run */
    char metric[32];
    int op;
    double value; /* in ms for times, percent for rates */
} threshold_rule;

static const char *threshold_skip(const char *p) {
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return p;
}

static int threshold_is_time(const char *m) {
    return strcmp(m, "avg") == 0 || strcmp(m, "mean") == 0 || strcmp(m, "min") == 0 ||
        strcmp(m, "max") == 0 || strcmp(m, "med") == 0 || strcmp(m, "median") == 0 ||
        (m[0] == 'p' && isdigit((unsigned char)m[1]));
}

static int threshold_is_rate(const char *m) {
    return strcmp(m, "success") == 0 || strcmp(m, "failures") == 0 || strcmp(m, "fail_rate") == 0 ||
        strcmp(m, "error_rate") == 0;
}

static int threshold_is_count(const char *m) {
    return strcmp(m, "5xx") == 0 || strcmp(m, "4xx") == 0 || strcmp(m, "errors") == 0 ||
        strcmp(m, "requests") == 0 || strcmp(m, "rps") == 0 || strcmp(m, "429") == 0 ||
        strcmp(m, "503") == 0;
}

/* Reads the value with its unit: times to ms, rates to percent. */
static int threshold_value(const char *p, const char *metric, double *out) {
    char *end;
    double v = strtod(p, &end);

    if (end == p) {
        return -1;
    }
    p = threshold_skip(end);
    if (threshold_is_time(metric)) {
        if (strcmp(p, "ms") == 0) {
            *out = v;
        } else if (strcmp(p, "s") == 0 || *p == '\0') {
            *out = v * 1000.0;
        } else if (strcmp(p, "us") == 0) {
            *out = v / 1000.0;
        } else if (strcmp(p, "m") == 0) {
            *out = v * 60000.0;
        } else {
            return -1;
        }
        return 0;
    }
    if (threshold_is_rate(metric)) {
        if (strcmp(p, "%") == 0) {
            *out = v;
        } else if (*p == '\0') {
            *out = v <= 1.0 ? v * 100.0 : v;
        } else {
            return -1;
        }
        return 0;
    }
    if (*p != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

static int threshold_parse_rule(const char *expr, threshold_rule *r, char *err, size_t err_len) {
    const char *p = threshold_skip(expr);
    size_t n;

    memset(r, 0, sizeof(*r));
    if (*p == '"' || *p == '\'') {
        char q = *p++;
        const char *close = strchr(p, q);
        if (!close || close[1] != '.' || (size_t)(close - p) >= sizeof(r->endpoint)) {
            snprintf(err, err_len, "threshold '%s': write an endpoint as \"name\".metric", expr);
            return -1;
        }
        memcpy(r->endpoint, p, (size_t)(close - p));
        p = close + 2;
    }
    n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789._");
    if (n == 0 || n >= sizeof(r->metric)) {
        snprintf(err, err_len, "threshold '%s': expected a metric such as p95, avg, success", expr);
        return -1;
    }
    memcpy(r->metric, p, n);
    if (!threshold_is_time(r->metric) && !threshold_is_rate(r->metric) &&
        !threshold_is_count(r->metric)) {
        snprintf(err, err_len,
                 "threshold '%s': unknown metric '%s' (use success, failures, avg, min, max, "
                 "med, p50..p99.99, 5xx, 4xx, 429, 503, errors, requests, rps)",
                 expr, r->metric);
        return -1;
    }
    p = threshold_skip(p + n);
    if (strncmp(p, "<=", 2) == 0) {
        r->op = OP_LE, p += 2;
    } else if (strncmp(p, ">=", 2) == 0) {
        r->op = OP_GE, p += 2;
    } else if (strncmp(p, "==", 2) == 0) {
        r->op = OP_EQ, p += 2;
    } else if (strncmp(p, "!=", 2) == 0) {
        r->op = OP_NE, p += 2;
    } else if (*p == '<') {
        r->op = OP_LT, p++;
    } else if (*p == '>') {
        r->op = OP_GT, p++;
    } else if (*p == '=') {
        r->op = OP_EQ, p++;
    } else {
        snprintf(err, err_len, "threshold '%s': expected <, <=, >, >=, == or !=", expr);
        return -1;
    }
    if (threshold_value(threshold_skip(p), r->metric, &r->value) < 0) {
        snprintf(err, err_len, "threshold '%s': bad value (times take ms/s/m, rates %%)", expr);
        return -1;
    }
    return 0;
}

int report_threshold_parse(const char *expr, char *err, size_t err_len) {
    threshold_rule r;

    return threshold_parse_rule(expr, &r, err, err_len);
}

/* The figure a metric names, from a set of counters and a histogram over duration_s. */
static double threshold_measure(const char *m, const stats_counters *c, const stats_hist *h,
                                double duration_s) {
    double ended = (double)(c->ok + c->failed);

    if (strcmp(m, "success") == 0) {
        return ended > 0 ? 100.0 * (double)c->ok / ended : 0;
    }
    if (threshold_is_rate(m)) {
        return ended > 0 ? 100.0 * (double)c->failed / ended : 0;
    }
    if (strcmp(m, "avg") == 0 || strcmp(m, "mean") == 0) {
        return stats_hist_mean(h) / 1000.0;
    }
    if (strcmp(m, "min") == 0) {
        return (double)stats_hist_min(h) / 1000.0;
    }
    if (strcmp(m, "max") == 0) {
        return (double)stats_hist_max(h) / 1000.0;
    }
    if (strcmp(m, "med") == 0 || strcmp(m, "median") == 0) {
        return (double)stats_hist_percentile(h, 50) / 1000.0;
    }
    if (m[0] == 'p') {
        return (double)stats_hist_percentile(h, atof(m + 1)) / 1000.0;
    }
    if (strcmp(m, "5xx") == 0) {
        return (double)(c->errors[STATS_ERR_STATUS_5XX] + c->errors[STATS_ERR_STATUS_503]);
    }
    if (strcmp(m, "4xx") == 0) {
        return (double)(c->errors[STATS_ERR_STATUS_4XX] + c->errors[STATS_ERR_STATUS_429]);
    }
    if (strcmp(m, "429") == 0) {
        return (double)c->errors[STATS_ERR_STATUS_429];
    }
    if (strcmp(m, "503") == 0) {
        return (double)c->errors[STATS_ERR_STATUS_503];
    }
    if (strcmp(m, "errors") == 0) {
        return (double)c->failed;
    }
    if (strcmp(m, "requests") == 0) {
        return (double)c->requests;
    }
    return duration_s > 0 ? (double)c->responses / duration_s : 0; /* rps */
}

static int threshold_holds(int op, double v, double limit) {
    switch (op) {
        case OP_LT:
            return v < limit;
        case OP_LE:
            return v <= limit;
        case OP_GT:
            return v > limit;
        case OP_GE:
            return v >= limit;
        case OP_EQ:
            return v == limit;
        default:
            return v != limit;
    }
}

int report_thresholds_eval(stats_result *r, const char *const *exprs, size_t count) {
    int broken = 0;

    r->threshold_count = 0;
    for (size_t i = 0; i < count && i < STATS_MAX_THRESHOLDS; i++) {
        stats_threshold *t = &r->thresholds[r->threshold_count++];
        const stats_counters *c = &r->totals;
        const stats_hist *h = r->latency;
        threshold_rule rule;
        char err[200];

        memset(t, 0, sizeof(*t));
        snprintf(t->expr, sizeof(t->expr), "%s", exprs[i]);
        if (threshold_parse_rule(exprs[i], &rule, err, sizeof(err)) < 0) {
            broken++;
            continue;
        }
        if (rule.endpoint[0]) {
            stats_endpoint *ep = NULL;
            for (size_t k = 0; k < stats_endpoints_count(r->endpoints); k++) {
                stats_endpoint *e = stats_endpoints_at(r->endpoints, k);
                if (strcmp(e->name, rule.endpoint) == 0) {
                    ep = e;
                    break;
                }
            }
            if (!ep) {
                t->missing = 1;
                broken++;
                continue;
            }
            c = &ep->c;
            h = ep->latency;
        }
        t->value = threshold_measure(rule.metric, c, h, r->duration_s);
        t->pass = threshold_holds(rule.op, t->value, rule.value);
        broken += !t->pass;
    }
    return broken;
}
