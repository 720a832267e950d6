/* json.c: the results file (schema volley.result/1): written once per run, read back later. */
#include "report/json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report/verdict.h"

/* How many -N suffixes are tried before giving up on a name. */
#define JSON_MAX_SUFFIX 10000
/* A series longer than a week is not a file volley wrote; refusing it bounds the allocation. */
#define JSON_MAX_SECOND (7u * 24 * 3600)
/* Reals carry 15 significant digits: enough for microsecond-rounded milliseconds, and short.
 * A document holding a histogram sum that needs more is written with 17 throughout. */
#define JSON_SHORT_DIGITS 15
#define JSON_FULL_DIGITS 17

#define JSON_PCT_COUNT 7
static const double json_pcts[JSON_PCT_COUNT] = {50, 75, 90, 95, 99, 99.9, 99.99};
static const char *const json_pct_keys[JSON_PCT_COUNT] = {"p50", "p75",   "p90",   "p95",
                                                          "p99", "p99_9", "p99_99"};
static const char *const json_stop_names[] = {"done", "interrupted", "no_start", "incomplete"};
/* Status classes in output order; the index is the one stats_counters.status_class uses. */
static const char *const json_status_keys[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
static const int json_status_order[6] = {1, 2, 3, 4, 5, 0};

/* Header names whose values never reach the file. */
static const char *const json_secret_headers[] = {"authorization", "proxy-authorization", "cookie"};

/* ---- writing ---- */

static json_t *json_u64(uint64_t v) {
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* Milliseconds rounded to the microsecond. */
static json_t *json_ms(double us) {
    return json_real(round(us) / 1000.0);
}

/*
 * Histogram sums are sums of whole microseconds, so they are written as integers and come
 * back exactly. A sum of squares beyond 2^63 must be a real; when 15 digits would not bring it
 * back bit for bit, *full_digits asks for the document to be written with 17.
 */
static json_t *json_exact(double v, int *full_digits) {
    char text[64];

    if (v >= 0 && v < 9.2e18 && v == floor(v)) {
        return json_integer((json_int_t)v);
    }
    snprintf(text, sizeof(text), "%.*g", JSON_SHORT_DIGITS, v);
    if (strtod(text, NULL) != v) {
        *full_digits = 1;
    }
    return json_real(v);
}

/* A string as JSON, or null for NULL; bytes that are not UTF-8 become '?'. */
static json_t *json_text(const char *s) {
    json_t *v;
    char *copy;
    size_t i;

    if (!s) {
        return json_null();
    }
    if ((v = json_string(s)) != NULL || !(copy = strdup(s))) {
        return v;
    }
    for (i = 0; copy[i]; i++) {
        if ((unsigned char)copy[i] >= 0x80) {
            copy[i] = '?';
        }
    }
    v = json_string(copy);
    free(copy);
    return v;
}

static double json_round(double v, double scale) {
    return isfinite(v) ? round(v * scale) / scale : 0;
}

static json_t *json_latency(const stats_hist *h) {
    json_t *o = json_object();
    int bad = 0, i;

    bad |= json_object_set_new(o, "min", json_ms((double)stats_hist_min(h)));
    bad |= json_object_set_new(o, "mean", json_ms(stats_hist_mean(h)));
    bad |= json_object_set_new(o, "stdev", json_ms(stats_hist_stdev(h)));
    for (i = 0; i < JSON_PCT_COUNT; i++) {
        bad |= json_object_set_new(o, json_pct_keys[i],
                                   json_ms((double)stats_hist_percentile(h, json_pcts[i])));
    }
    bad |= json_object_set_new(o, "max", json_ms((double)stats_hist_max(h)));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The sparse histogram: exact fields plus [lowest value, count] of every non-empty bucket. */
static json_t *json_hist(const stats_hist *h, int *full_digits) {
    json_t *buckets = json_array();
    uint64_t value_us, count, min_us, max_us;
    double sum, sum_sq;
    size_t cursor = 0;
    int bad = 0;

    while (!bad && stats_hist_next(h, &cursor, &value_us, &count)) {
        bad |=
            json_array_append_new(buckets, json_pack("[oo]", json_u64(value_us), json_u64(count)));
    }
    if (bad) {
        json_decref(buckets);
        return NULL;
    }
    stats_hist_get_exact(h, &min_us, &max_us, &sum, &sum_sq);
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "unit", "us", "count",
                     json_u64(stats_hist_count(h)), "min", json_u64(min_us), "max",
                     json_u64(max_us), "sum", json_exact(sum, full_digits), "sum_sq",
                     json_exact(sum_sq, full_digits), "buckets", buckets);
}

/* Failure counts by class name: every class, or only the non-zero ones. */
static json_t *json_errors(const uint64_t *errors, int every_class) {
    json_t *o = json_object();
    int bad = 0, cls;

    for (cls = 0; cls < STATS_ERR_COUNT; cls++) {
        if (every_class || errors[cls]) {
            bad |= json_object_set_new(o, stats_err_name(cls), json_u64(errors[cls]));
        }
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *json_status_classes(const uint64_t *status_class) {
    json_t *o = json_object();
    int bad = 0, i;

    for (i = 0; i < 6; i++) {
        int k = json_status_order[i];
        bad |= json_object_set_new(o, json_status_keys[k], json_u64(status_class[k]));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int json_is_secret_header(const char *name, size_t len) {
    size_t i;

    for (i = 0; i < sizeof(json_secret_headers) / sizeof(json_secret_headers[0]); i++) {
        if (strlen(json_secret_headers[i]) == len &&
            strncasecmp(name, json_secret_headers[i], len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* "Name: value" as given, except that credentials are replaced by "[redacted]". */
static json_t *json_header(const char *h) {
    const char *colon = strchr(h, ':'), *start = h, *end;

    if (!colon) {
        return json_text(h);
    }
    while (start < colon && (*start == ' ' || *start == '\t')) {
        start++;
    }
    end = colon;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    if (!json_is_secret_header(start, (size_t)(end - start))) {
        return json_text(h);
    }
    return json_sprintf("%.*s: [redacted]", (int)(end - start), start);
}

static json_t *json_config(const stats_config *cf) {
    json_t *headers = json_array();
    size_t i;
    int bad = 0;

    for (i = 0; i < cf->header_count && i < STATS_MAX_HEADERS; i++) {
        bad |= json_array_append_new(headers, json_header(cf->headers[i] ? cf->headers[i] : ""));
    }
    if (bad) {
        json_decref(headers);
        return NULL;
    }
    return json_pack("{s:o, s:o, s:o, s:i, s:i, s:f, s:o, s:I, s:o, s:b, s:o}", "url",
                     json_text(cf->url ? cf->url : ""), "script", json_text(cf->script), "mode",
                     json_text(cf->mode ? cf->mode : "connections"), "threads", cf->threads,
                     "connections", cf->connections, "duration_s", cf->duration_ms / 1000.0,
                     "requests_limit", cf->requests ? json_u64(cf->requests) : json_null(),
                     "timeout_ms", (json_int_t)cf->timeout_ms, "max_body_bytes",
                     json_u64(cf->max_body_bytes), "tls_verify", cf->tls_verify != 0, "headers",
                     headers);
}

static double json_rate(uint64_t n, double duration_s) {
    return duration_s > 0 ? json_round((double)n / duration_s, 1000) : 0;
}

static json_t *json_totals(const stats_result *r, int *full_digits) {
    const stats_counters *t = &r->totals;

    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:o}",
        "requests", json_u64(t->requests), "responses", json_u64(t->responses), "ok",
        json_u64(t->ok), "failed", json_u64(t->failed), "in_flight", json_u64(r->in_flight),
        "bytes_in", json_u64(t->bytes_in), "bytes_out", json_u64(t->bytes_out), "rps",
        json_rate(t->responses, r->duration_s), "connections_opened",
        json_u64(r->connections_opened), "latency_ms", json_latency(r->latency), "connect_ms",
        json_latency(r->connect), "tls_handshake_ms", json_latency(r->tls), "ttfb_ms",
        json_latency(r->ttfb), "latency_histogram", json_hist(r->latency, full_digits),
        "connect_histogram", json_hist(r->connect, full_digits), "tls_handshake_histogram",
        json_hist(r->tls, full_digits), "ttfb_histogram", json_hist(r->ttfb, full_digits));
}

static json_t *json_endpoint(const stats_endpoint *ep, double duration_s, int *full_digits) {
    const stats_counters *c = &ep->c;

    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o}", "name",
        json_text(ep->name ? ep->name : ""), "method", json_text(ep->method ? ep->method : ""),
        "requests", json_u64(c->requests), "responses", json_u64(c->responses), "ok",
        json_u64(c->ok), "failed", json_u64(c->failed), "bytes_in", json_u64(c->bytes_in),
        "bytes_out", json_u64(c->bytes_out), "rps", json_rate(c->responses, duration_s), "errors",
        json_errors(c->errors, 1), "status_classes", json_status_classes(c->status_class),
        "latency_ms", json_latency(ep->latency), "histogram", json_hist(ep->latency, full_digits));
}

static json_t *json_point_base(const stats_point *p, int *full_digits);

/* A second of the run; with --watch-pid, the server's CPU and memory in it as well. */
static json_t *json_point(const stats_point *p, int *full_digits) {
    json_t *o = json_point_base(p, full_digits);

    if (o && p->watched) {
        json_object_set_new(o, "server_cpu_cores", json_real(p->server_cpu_cores));
        json_object_set_new(o, "server_rss_bytes", json_u64(p->server_rss_bytes));
    }
    return o;
}

static json_t *json_point_base(const stats_point *p, int *full_digits) {
    const stats_counters *c = &p->c;
    json_t *latency =
        json_pack("{s:o, s:o, s:o}", "p50", json_ms((double)stats_hist_percentile(p->latency, 50)),
                  "p95", json_ms((double)stats_hist_percentile(p->latency, 95)), "max",
                  json_ms((double)stats_hist_max(p->latency)));

    return json_pack(
        "{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "second",
        (json_int_t)p->second, "users", (json_int_t)p->users, "requests", json_u64(c->requests),
        "responses", json_u64(c->responses), "ok", json_u64(c->ok), "failed", json_u64(c->failed),
        "errors", json_errors(c->errors, 0), "status_classes", json_status_classes(c->status_class),
        "bytes_in", json_u64(c->bytes_in), "bytes_out", json_u64(c->bytes_out), "latency_ms",
        latency, "histogram", json_hist(p->latency, full_digits));
}

static json_t *json_endpoints(const stats_result *r, int *full_digits) {
    json_t *a = json_array();
    size_t i, n = r->endpoints ? stats_endpoints_count(r->endpoints) : 0;
    int bad = 0;

    for (i = 0; i < n && !bad; i++) {
        bad |= json_array_append_new(
            a, json_endpoint(stats_endpoints_at(r->endpoints, i), r->duration_s, full_digits));
    }
    if (bad) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *json_series(const stats_result *r, int *full_digits) {
    json_t *a = json_array();
    size_t i, n = r->series ? stats_series_len(r->series) : 0;
    int bad = 0;

    for (i = 0; i < n && !bad; i++) {
        bad |= json_array_append_new(
            a, json_point(stats_series_at(r->series, (uint32_t)i), full_digits));
    }
    if (bad) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *json_document_base(const stats_result *r, int *full_digits, int stop);

/* failures [{name, reason, count}] and checks [{name, passes, fails}] of user-style runs. */
static json_t *json_rows(const stats_endpoints *t, int checks) {
    json_t *a = json_array();
    size_t n = t ? stats_endpoints_count(t) : 0;

    for (size_t i = 0; i < n; i++) {
        const stats_endpoint *e = stats_endpoints_at(t, i);
        if (checks) {
            json_array_append_new(a,
                                  json_pack("{s:o, s:o, s:o}", "name", json_text(e->name), "passes",
                                            json_u64(e->c.ok), "fails", json_u64(e->c.failed)));
        } else {
            json_array_append_new(a,
                                  json_pack("{s:o, s:o, s:o}", "name", json_text(e->method),
                                            "reason", json_text(e->name), "count",
                                            json_u64(e->c.failed)));
        }
    }
    return a;
}

static json_t *json_thresholds(const stats_result *r) {
    json_t *a = json_array();

    for (size_t i = 0; i < r->threshold_count; i++) {
        const stats_threshold *t = &r->thresholds[i];
        json_array_append_new(a,
                              json_pack("{s:o, s:f, s:b, s:b}", "expr", json_text(t->expr), "value",
                                        t->value, "pass", t->pass, "missing", t->missing));
    }
    return a;
}

/* Fields later issues added beside the first schema's; none of the first ones changes. */
static json_t *json_add_user_fields(json_t *doc, const stats_result *r) {
    json_t *cf = doc ? json_object_get(doc, "config") : NULL;

    if (!doc) {
        return NULL;
    }
    if (cf) {
        json_object_set_new(cf, "users", json_u64(r->config.users));
        json_object_set_new(cf, "spawn_rate", json_real(r->config.spawn_rate));
        json_object_set_new(cf, "preset", json_text(r->config.preset));
    }
    json_object_set_new(doc, "users_peak", json_u64(r->users_peak));
    json_object_set_new(doc, "generator_cpu_per_thread", json_real(r->generator_cpu_per_thread));
    json_object_set_new(doc, "failures", json_rows(r->failures, 0));
    json_object_set_new(doc, "checks", json_rows(r->checks, 1));
    json_object_set_new(doc, "thresholds", json_thresholds(r));
    json_object_set_new(doc, "script_errors", json_u64(r->script_errors));
    json_object_set_new(doc, "script_error",
                        r->script_error[0] ? json_text(r->script_error) : json_null());
    json_object_set_new(doc, "verdict", report_verdict_json(r));
    return doc;
}

static json_t *json_document(const stats_result *r, int *full_digits) {
    int stop = r->stop >= 0 && r->stop <= STATS_STOP_INCOMPLETE ? r->stop : STATS_STOP_DONE;

    return json_add_user_fields(json_document_base(r, full_digits, stop), r);
}

static json_t *json_document_base(const stats_result *r, int *full_digits, int stop) {
    return json_pack("{s:s, s:o, s:o, s:f, s:s, s:o*, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "schema",
                     REPORT_JSON_SCHEMA, "volley_version", json_text(r->version), "started_at",
                     json_text(r->started_at), "duration_s", json_round(r->duration_s, 1e6), "stop",
                     json_stop_names[stop], "stop_reason",
                     r->stop_reason[0] ? json_text(r->stop_reason) : NULL, "incomplete",
                     stop == STATS_STOP_INCOMPLETE, "config", json_config(&r->config), "totals",
                     json_totals(r, full_digits), "errors", json_errors(r->totals.errors, 1),
                     "status_classes", json_status_classes(r->totals.status_class), "endpoints",
                     json_endpoints(r, full_digits), "timeseries", json_series(r, full_digits));
}

/* ---- the file ---- */

/* mkdir -p: creates every missing directory of path. 0 or a negative errno. */
static int json_mkdirs(const char *path) {
    char buf[PATH_MAX];
    size_t len = strlen(path), i;
    struct stat st;

    if (len == 0 || len >= sizeof(buf)) {
        return len ? -ENAMETOOLONG : -ENOENT;
    }
    memcpy(buf, path, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') {
            continue;
        }
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            return -errno;
        }
        buf[i] = path[i];
    }
    if (stat(path, &st) != 0) {
        return -errno;
    }
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Copies src into dst (size len), keeping [A-Za-z0-9._-], turning ':' into '-' when asked and
 * anything else into '_'. */
static void json_safe_name(char *dst, size_t len, const char *src, int colon_to_dash) {
    size_t i;

    for (i = 0; src[i] && i + 1 < len; i++) {
        char ch = src[i];
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        dst[i] = keep ? ch : (colon_to_dash && ch == ':') ? '-' : '_';
    }
    dst[i] = '\0';
}

/* The file name's stamp: started_at with ':' as '-', or the current UTC time if it is unset. */
static void json_stamp(const stats_result *r, char *buf, size_t len) {
    struct tm tm;
    time_t now;

    if (r->started_at[0]) {
        json_safe_name(buf, len, r->started_at, 1);
        return;
    }
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H-%M-%SZ", &tm);
}

static int json_write_all(int fd, const char *text, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, text, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes text to a new hidden temporary file in dir (its name into tmp) and syncs it. */
static int json_write_temp(const char *dir, const char *text, char *tmp, size_t tmp_len) {
    int fd, rc;

    if ((size_t)snprintf(tmp, tmp_len, "%s/.volley-result-XXXXXX", dir) >= tmp_len) {
        return -ENAMETOOLONG;
    }
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        return -errno;
    }
    rc = json_write_all(fd, text, strlen(text));
    if (rc == 0) {
        rc = json_write_all(fd, "\n", 1);
    }
    if (rc == 0 && fchmod(fd, 0644) != 0) {
        rc = -errno;
    }
    if (rc == 0 && fsync(fd) != 0) {
        rc = -errno;
    }
    if (close(fd) != 0 && rc == 0) {
        rc = -errno;
    }
    if (rc != 0) {
        unlink(tmp);
    }
    return rc;
}

/* Moves tmp to final unless final exists (-EEXIST). Filesystems without renameat2's
 * no-replace flag get link(), which refuses an existing name just the same. */
static int json_publish_as(const char *tmp, const char *final) {
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0) {
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
        return -errno;
    }
    if (link(tmp, final) != 0) {
        return -errno;
    }
    unlink(tmp);
    return 0;
}

/* Gives tmp the first free name of base.json, base-2.json, ... and returns it in path_out. */
static int json_publish(const char *tmp, const char *base, char *path_out, size_t path_len) {
    int n, rc = -EEXIST;

    for (n = 1; n <= JSON_MAX_SUFFIX && rc == -EEXIST; n++) {
        int len = n == 1 ? snprintf(path_out, path_len, "%s.json", base)
                         : snprintf(path_out, path_len, "%s-%d.json", base, n);
        if (len < 0 || (size_t)len >= path_len) {
            return -ENAMETOOLONG;
        }
        rc = json_publish_as(tmp, path_out);
    }
    return rc;
}

static void json_sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        fsync(fd); /* best effort: some filesystems refuse to sync a directory */
        close(fd);
    }
}

/* Writes the results file of r into dir under a fresh name; see json.h. */
/* Writes text as dir/<stamp>_<name_part>.json, atomically and never over an existing file. */
static int json_write_text(const char *text, const char *stamp, const char *dir,
                           const char *name_part, char *path_out, size_t path_len) {
    char name[128], base[PATH_MAX], tmp[PATH_MAX];
    int rc;

    json_safe_name(name, sizeof(name), name_part && name_part[0] ? name_part : "run", 0);
    if ((size_t)snprintf(base, sizeof(base), "%s/%s_%s", dir, stamp, name) >= sizeof(base)) {
        return -ENAMETOOLONG;
    }
    rc = json_mkdirs(dir);
    if (rc == 0) {
        rc = json_write_temp(dir, text, tmp, sizeof(tmp));
    }
    if (rc != 0) {
        return rc;
    }
    rc = json_publish(tmp, base, path_out, path_len);
    if (rc != 0) {
        unlink(tmp);
        path_out[0] = '\0';
        return rc;
    }
    json_sync_dir(dir);
    return 0;
}

int report_json_write(const stats_result *r, const char *dir, const char *name_part, char *path_out,
                      size_t path_len) {
    char stamp[64];
    char *text = NULL;
    json_t *doc;
    int rc, full_digits = 0;

    if (!r || !dir || !path_out || path_len == 0) {
        return -EINVAL;
    }
    path_out[0] = '\0';
    json_stamp(r, stamp, sizeof(stamp));
    if ((doc = json_document(r, &full_digits)) != NULL) {
        int digits = full_digits ? JSON_FULL_DIGITS : JSON_SHORT_DIGITS;

        text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(digits));
        json_decref(doc);
    }
    if (!text) {
        return -ENOMEM;
    }
    rc = json_write_text(text, stamp, dir, name_part, path_out, path_len);
    free(text);
    return rc;
}

json_t *report_json_document(const stats_result *r) {
    int full_digits = 0;

    return json_document(r, &full_digits);
}

int report_json_write_doc(json_t *doc, const stats_result *first, const char *dir,
                          const char *name_part, char *path_out, size_t path_len) {
    char stamp[64];
    char *text;
    int rc;

    path_out[0] = '\0';
    json_stamp(first, stamp, sizeof(stamp));
    text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(JSON_FULL_DIGITS));
    if (!text) {
        return -ENOMEM;
    }
    rc = json_write_text(text, stamp, dir, name_part, path_out, path_len);
    free(text);
    return rc;
}

/* ---- reading ---- */

typedef struct json_reader {
    const char *path;
    char *err;
    size_t err_len;
    int rc; /* the first problem, 0 while there is none */
} json_reader;

__attribute__((format(printf, 3, 4))) static void json_fail(json_reader *rd, int rc,
                                                            const char *fmt, ...) {
    char what[256];
    va_list ap;

    if (rd->rc != 0) {
        return;
    }
    rd->rc = rc;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (rd->err_len > 0) {
        snprintf(rd->err, rd->err_len, "%s: %s", rd->path, what);
    }
}

static void json_bad(json_reader *rd, const char *where, const char *key) {
    json_fail(rd, -EINVAL, "bad value for %s%s", where, key);
}

/* 1 when v is a non-negative whole number that fits in 64 bits, stored in *out. */
static int json_to_u64(const json_t *v, uint64_t *out) {
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1.8e19 &&
        json_real_value(v) == floor(json_real_value(v))) {
        *out = (uint64_t)json_real_value(v);
        return 1;
    }
    return 0;
}

/* Reads obj.key into *out when present and not null; anything but a count is an error. */
static void json_get_u64(json_reader *rd, const json_t *obj, const char *where, const char *key,
                         uint64_t *out) {
    const json_t *v = json_object_get(obj, key);

    if (v && !json_is_null(v) && !json_to_u64(v, out)) {
        json_bad(rd, where, key);
    }
}

static void json_get_int(json_reader *rd, const json_t *obj, const char *where, const char *key,
                         int *out) {
    uint64_t v = (uint64_t)(*out > 0 ? *out : 0);

    json_get_u64(rd, obj, where, key, &v);
    if (v > INT_MAX) {
        json_bad(rd, where, key);
        return;
    }
    *out = (int)v;
}

static void json_get_double(json_reader *rd, const json_t *obj, const char *where, const char *key,
                            double *out) {
    const json_t *v = json_object_get(obj, key);

    if (v && !json_is_null(v)) {
        if (!json_is_number(v)) {
            json_bad(rd, where, key);
            return;
        }
        *out = json_number_value(v);
    }
}

/* A string field: NULL when absent or null, an error when of another type. */
static const char *json_get_string(json_reader *rd, const json_t *obj, const char *where,
                                   const char *key) {
    const json_t *v = json_object_get(obj, key);

    if (v && !json_is_null(v) && !json_is_string(v)) {
        json_bad(rd, where, key);
    }
    return json_string_value(v);
}

/* A string field copied with strdup into *out (left NULL when absent). */
static void json_get_strdup(json_reader *rd, const json_t *obj, const char *where, const char *key,
                            char **out) {
    const char *s = json_get_string(rd, obj, where, key);

    if (s && !(*out = strdup(s))) {
        json_fail(rd, -ENOMEM, "out of memory");
    }
}

/* An object field, or NULL when absent; an error when present with another type. */
static const json_t *json_get_object(json_reader *rd, const json_t *obj, const char *where,
                                     const char *key) {
    const json_t *v = json_object_get(obj, key);

    if (v && !json_is_null(v) && !json_is_object(v)) {
        json_bad(rd, where, key);
        return NULL;
    }
    return json_is_object(v) ? v : NULL;
}

static const json_t *json_get_array(json_reader *rd, const json_t *obj, const char *where,
                                    const char *key) {
    const json_t *v = json_object_get(obj, key);

    if (v && !json_is_null(v) && !json_is_array(v)) {
        json_bad(rd, where, key);
        return NULL;
    }
    return json_is_array(v) ? v : NULL;
}

/* Error counts by class name; names this build does not know are skipped. */
static void json_read_errors(json_reader *rd, const json_t *obj, const char *where,
                             uint64_t *errors) {
    const json_t *o = json_get_object(rd, obj, where, "errors");
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)o, key, v) {
        int cls = stats_err_from_name(key);

        if (cls >= 0 && !json_to_u64(v, &errors[cls])) {
            json_bad(rd, where, key);
        }
    }
}

static void json_read_status(json_reader *rd, const json_t *obj, const char *where,
                             uint64_t *status_class) {
    const json_t *o = json_get_object(rd, obj, where, "status_classes");
    int i;

    for (i = 0; o && i < 6; i++) {
        json_get_u64(rd, o, where, json_status_keys[i], &status_class[i]);
    }
}

/* The counters an endpoint or a point carries in its own object. */
static void json_read_counters(json_reader *rd, const json_t *obj, const char *where,
                               stats_counters *c) {
    json_get_u64(rd, obj, where, "requests", &c->requests);
    json_get_u64(rd, obj, where, "responses", &c->responses);
    json_get_u64(rd, obj, where, "ok", &c->ok);
    json_get_u64(rd, obj, where, "failed", &c->failed);
    json_get_u64(rd, obj, where, "bytes_in", &c->bytes_in);
    json_get_u64(rd, obj, where, "bytes_out", &c->bytes_out);
    json_read_errors(rd, obj, where, c->errors);
    json_read_status(rd, obj, where, c->status_class);
}

/* Rebuilds a histogram from its sparse form; the bucket counts must add up to "count". */
static void json_read_hist(json_reader *rd, const json_t *obj, const char *where, const char *key,
                           stats_hist *h) {
    const json_t *o = json_get_object(rd, obj, where, key), *buckets, *pair;
    uint64_t count = 0, total = 0, min_us = 0, max_us = 0, value_us, n;
    const char *unit;
    double sum = 0, sum_sq = 0;
    size_t i;

    if (!o) {
        return;
    }
    unit = json_get_string(rd, o, where, "unit");
    buckets = json_get_array(rd, o, where, "buckets");
    if (unit && strcmp(unit, "us") != 0) {
        json_bad(rd, where, key);
    }
    json_array_foreach((json_t *)buckets, i, pair) {
        if (rd->rc || !json_is_array(pair) || json_array_size(pair) != 2 ||
            !json_to_u64(json_array_get(pair, 0), &value_us) ||
            !json_to_u64(json_array_get(pair, 1), &n)) {
            json_bad(rd, where, key);
            return;
        }
        stats_hist_add_bucket(h, value_us, n);
        total += n;
    }
    json_get_u64(rd, o, where, "count", &count);
    json_get_u64(rd, o, where, "min", &min_us);
    json_get_u64(rd, o, where, "max", &max_us);
    json_get_double(rd, o, where, "sum", &sum);
    json_get_double(rd, o, where, "sum_sq", &sum_sq);
    if (count != total) {
        json_fail(rd, -EINVAL, "%s%s: count does not match its buckets", where, key);
    }
    stats_hist_set_exact(h, min_us, max_us, sum, sum_sq);
}

static void json_read_config(json_reader *rd, const json_t *doc, stats_config *cf) {
    const json_t *o = json_get_object(rd, doc, "", "config"), *headers, *h;
    const char *w = "config.";
    double duration_s = 0;
    uint64_t timeout_ms = 0;
    size_t i;

    cf->tls_verify = 1;
    if (!o) {
        return;
    }
    json_get_strdup(rd, o, w, "url", &cf->url);
    json_get_strdup(rd, o, w, "script", &cf->script);
    json_get_strdup(rd, o, w, "mode", &cf->mode);
    json_get_int(rd, o, w, "threads", &cf->threads);
    json_get_int(rd, o, w, "connections", &cf->connections);
    json_get_double(rd, o, w, "duration_s", &duration_s);
    cf->duration_ms = isfinite(duration_s) ? llround(duration_s * 1000) : 0;
    json_get_u64(rd, o, w, "requests_limit", &cf->requests);
    json_get_u64(rd, o, w, "timeout_ms", &timeout_ms);
    cf->timeout_ms = timeout_ms > INT64_MAX ? INT64_MAX : (int64_t)timeout_ms;
    json_get_u64(rd, o, w, "max_body_bytes", &cf->max_body_bytes);
    cf->tls_verify = !json_is_false(json_object_get(o, "tls_verify"));

    headers = json_get_array(rd, o, w, "headers");
    json_array_foreach((json_t *)headers, i, h) {
        if (rd->rc || i >= STATS_MAX_HEADERS) {
            break;
        }
        if (!json_is_string(h)) {
            json_bad(rd, w, "headers");
            break;
        }
        if (!(cf->headers[i] = strdup(json_string_value(h)))) {
            json_fail(rd, -ENOMEM, "out of memory");
            break;
        }
        cf->header_count = i + 1;
    }
}

/* The run-level fields: stamps, stop, totals with their histograms, errors, status classes. */
static void json_read_run(json_reader *rd, const json_t *doc, stats_result *r) {
    const json_t *totals = json_get_object(rd, doc, "", "totals");
    const char *s, *w = "totals.";
    size_t i;

    if ((s = json_get_string(rd, doc, "", "started_at")) != NULL) {
        snprintf(r->started_at, sizeof(r->started_at), "%s", s);
    }
    if ((s = json_get_string(rd, doc, "", "volley_version")) != NULL) {
        snprintf(r->version, sizeof(r->version), "%s", s);
    }
    if ((s = json_get_string(rd, doc, "", "stop_reason")) != NULL) {
        snprintf(r->stop_reason, sizeof(r->stop_reason), "%s", s);
    }
    s = json_get_string(rd, doc, "", "stop");
    for (i = 0; s && i < sizeof(json_stop_names) / sizeof(json_stop_names[0]); i++) {
        if (strcmp(s, json_stop_names[i]) == 0) {
            r->stop = (int)i;
        }
    }
    if (json_is_true(json_object_get(doc, "incomplete"))) {
        r->stop = STATS_STOP_INCOMPLETE;
    }
    json_get_double(rd, doc, "", "duration_s", &r->duration_s);

    if (!totals) {
        json_fail(rd, -EINVAL, "no totals");
        return;
    }
    json_read_counters(rd, totals, w, &r->totals);
    json_get_u64(rd, totals, w, "in_flight", &r->in_flight);
    json_get_u64(rd, totals, w, "connections_opened", &r->connections_opened);
    json_read_hist(rd, totals, w, "latency_histogram", r->latency);
    json_read_hist(rd, totals, w, "connect_histogram", r->connect);
    json_read_hist(rd, totals, w, "tls_handshake_histogram", r->tls);
    json_read_hist(rd, totals, w, "ttfb_histogram", r->ttfb);
    json_read_errors(rd, doc, "", r->totals.errors);
    json_read_status(rd, doc, "", r->totals.status_class);
}

static void json_read_endpoints(json_reader *rd, const json_t *doc, stats_result *r) {
    const json_t *a = json_get_array(rd, doc, "", "endpoints"), *e;
    char where[48];
    size_t i;

    json_array_foreach((json_t *)a, i, e) {
        const char *name, *method;
        stats_endpoint *ep;

        snprintf(where, sizeof(where), "endpoints[%zu].", i);
        name = json_get_string(rd, e, where, "name");
        method = json_get_string(rd, e, where, "method");
        if (rd->rc || !json_is_object(e) || !name || !method) {
            json_bad(rd, where, "name");
            return;
        }
        if (!(ep = stats_endpoints_get(r->endpoints, method, name, strlen(name)))) {
            json_fail(rd, -ENOMEM, "out of memory");
            return;
        }
        json_read_counters(rd, e, where, &ep->c);
        json_read_hist(rd, e, where, "histogram", ep->latency);
    }
}

static void json_read_series(json_reader *rd, const json_t *doc, stats_result *r) {
    const json_t *a = json_get_array(rd, doc, "", "timeseries"), *e;
    char where[48];
    size_t i;

    json_array_foreach((json_t *)a, i, e) {
        uint64_t second = UINT64_MAX, users = 0;
        stats_point *p;

        snprintf(where, sizeof(where), "timeseries[%zu].", i);
        json_get_u64(rd, e, where, "second", &second);
        json_get_u64(rd, e, where, "users", &users);
        if (rd->rc || second > JSON_MAX_SECOND || users > UINT32_MAX) {
            json_bad(rd, where, "second");
            return;
        }
        if (!(p = stats_series_at(r->series, (uint32_t)second))) {
            json_fail(rd, -ENOMEM, "out of memory");
            return;
        }
        p->users = (uint32_t)users;
        json_read_counters(rd, e, where, &p->c);
        json_read_hist(rd, e, where, "histogram", p->latency);
        if (json_object_get(e, "server_cpu_cores")) {
            p->watched = 1;
            json_get_double(rd, e, where, "server_cpu_cores", &p->server_cpu_cores);
            json_get_u64(rd, e, where, "server_rss_bytes", &p->server_rss_bytes);
        }
    }
}

/* failures [{name, reason, count}] or checks [{name, passes, fails}] back into their table. */
static void json_read_rows(json_reader *rd, const json_t *doc, const char *key,
                           stats_endpoints *t) {
    const json_t *a = json_get_array(rd, doc, "", key), *e;
    int checks = strcmp(key, "checks") == 0;
    char where[48];
    size_t i;

    json_array_foreach((json_t *)a, i, e) {
        const char *name, *second;
        stats_endpoint *row;

        snprintf(where, sizeof(where), "%s[%zu].", key, i);
        name = json_get_string(rd, e, where, "name");
        second = checks ? "check" : json_get_string(rd, e, where, "reason");
        if (rd->rc || !json_is_object(e) || !name || !second) {
            json_bad(rd, where, checks ? "name" : "reason");
            return;
        }
        /* A failure row is keyed (request name, reason); a check row ("check", name). */
        row = checks ? stats_endpoints_get(t, "check", name, strlen(name))
                     : stats_endpoints_get(t, name, second, strlen(second));
        if (!row) {
            json_fail(rd, -ENOMEM, "out of memory");
            return;
        }
        json_get_u64(rd, e, where, checks ? "passes" : "count",
                     checks ? &row->c.ok : &row->c.failed);
        if (checks) {
            json_get_u64(rd, e, where, "fails", &row->c.failed);
        }
    }
}

static void json_read_thresholds(json_reader *rd, const json_t *doc, stats_result *r) {
    const json_t *a = json_get_array(rd, doc, "", "thresholds"), *e;
    char where[48];
    size_t i;

    json_array_foreach((json_t *)a, i, e) {
        stats_threshold *t;
        const char *expr;

        if (i >= STATS_MAX_THRESHOLDS) {
            break;
        }
        snprintf(where, sizeof(where), "thresholds[%zu].", i);
        expr = json_get_string(rd, e, where, "expr");
        if (rd->rc || !json_is_object(e) || !expr) {
            json_bad(rd, where, "expr");
            return;
        }
        t = &r->thresholds[r->threshold_count++];
        snprintf(t->expr, sizeof(t->expr), "%s", expr);
        json_get_double(rd, e, where, "value", &t->value);
        t->pass = json_is_true(json_object_get(e, "pass"));
        t->missing = json_is_true(json_object_get(e, "missing"));
    }
}

/* The fields of user-style runs (absent from files of the first schema, which read as 0). */
static void json_read_user_fields(json_reader *rd, const json_t *doc, stats_result *r) {
    const json_t *cf = json_get_object(rd, doc, "", "config");
    uint64_t users = 0, peak = 0;
    const char *s;

    if (cf) {
        json_get_u64(rd, cf, "config.", "users", &users);
        json_get_double(rd, cf, "config.", "spawn_rate", &r->config.spawn_rate);
        json_get_strdup(rd, cf, "config.", "preset", &r->config.preset);
    }
    json_get_u64(rd, doc, "", "users_peak", &peak);
    json_get_double(rd, doc, "", "generator_cpu_per_thread", &r->generator_cpu_per_thread);
    if (users > UINT32_MAX || peak > UINT32_MAX) {
        json_bad(rd, "", "users");
        return;
    }
    r->config.users = (uint32_t)users;
    r->users_peak = (uint32_t)peak;
    json_read_rows(rd, doc, "failures", r->failures);
    json_read_rows(rd, doc, "checks", r->checks);
    json_read_thresholds(rd, doc, r);
    json_get_u64(rd, doc, "", "script_errors", &r->script_errors);
    if ((s = json_get_string(rd, doc, "", "script_error")) != NULL) {
        snprintf(r->script_error, sizeof(r->script_error), "%s", s);
    }
}

/* Opens and parses the file and checks its schema; the document or NULL with rd failed. */
static json_t *json_load_result(json_reader *rd) {
    json_error_t jerr;
    const char *schema;
    json_t *doc;
    FILE *f = fopen(rd->path, "rb");

    if (!f) {
        int e = errno;

        json_fail(rd, -e, "cannot open: %s", strerror(e));
        return NULL;
    }
    doc = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!doc) {
        json_fail(rd, -EINVAL, "not JSON: %s (line %d)", jerr.text, jerr.line);
        return NULL;
    }
    schema = json_string_value(json_object_get(doc, "schema"));
    if (!schema || strcmp(schema, REPORT_JSON_SCHEMA) != 0) {
        json_fail(rd, -EINVAL, "not a volley result (schema %s, expected %s)",
                  schema ? schema : "missing", REPORT_JSON_SCHEMA);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* Reads a results file back into a fresh result; see json.h. */
int report_json_read(const char *path, stats_result *out, char *err, size_t err_len) {
    json_reader rd = {path, err, err_len, 0};
    json_t *doc;

    memset(out, 0, sizeof(*out));
    if (err_len > 0) {
        err[0] = '\0';
    }
    if (!(doc = json_load_result(&rd))) {
        return rd.rc;
    }
    if (stats_result_init(out) != 0) {
        json_decref(doc);
        json_fail(&rd, -ENOMEM, "out of memory");
        memset(out, 0, sizeof(*out));
        return rd.rc;
    }

    json_read_config(&rd, doc, &out->config);
    json_read_run(&rd, doc, out);
    json_read_endpoints(&rd, doc, out);
    json_read_series(&rd, doc, out);
    json_read_user_fields(&rd, doc, out);
    json_decref(doc);
    if (rd.rc != 0) {
        stats_result_free(out);
        memset(out, 0, sizeof(*out));
    }
    return rd.rc;
}
