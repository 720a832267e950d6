/* compare.c: saved runs side by side, endpoint by endpoint, with changes against the first. */
#include "report/compare.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/format.h"
#include "report/html.h"

static const char *const compare_metric_names[REPORT_CMP_COUNT] = {"req/s", "success", "p50",
                                                                   "p95",   "p99",     "max"};

/* Run letters: A, B, ... Z, then the 27th run onwards is named by number. */
static void compare_letter(size_t i, char *buf, size_t len) {
    if (i < 26) {
        snprintf(buf, len, "%c", (char)('A' + i));
    } else {
        snprintf(buf, len, "#%zu", i + 1);
    }
}

/* Parses the --noise value; see compare.h. */
int report_compare_parse_noise(const char *text, report_compare_noise *noise, char *err,
                               size_t err_len) {
    report_compare_noise got = {REPORT_COMPARE_NOISE_PCT, REPORT_COMPARE_NOISE_SUCCESS_PTS};
    char *end;

    got.rel_pct = strtod(text ? text : "", &end);
    if (end == text || !isfinite(got.rel_pct) || got.rel_pct < 0) {
        snprintf(err, err_len, "--noise: '%s' is not a percentage (e.g. 10 or 10,1)", text);
        return -EINVAL;
    }
    if (*end == '%') {
        end++;
    }
    if (*end == ',') {
        const char *s = end + 1;

        got.success_pts = strtod(s, &end);
        if (end == s || !isfinite(got.success_pts) || got.success_pts < 0) {
            snprintf(err, err_len, "--noise: '%s' is not a number of points", s);
            return -EINVAL;
        }
    }
    if (*end != '\0') {
        snprintf(err, err_len, "--noise: unexpected '%s' in '%s'", end, text);
        return -EINVAL;
    }
    *noise = got;
    return 0;
}

static const stats_endpoint *compare_find(const stats_result *r, const char *method,
                                          const char *name) {
    size_t n = r->endpoints ? stats_endpoints_count(r->endpoints) : 0;

    for (size_t i = 0; i < n; i++) {
        const stats_endpoint *e = stats_endpoints_at(r->endpoints, i);

        if (strcmp(e->name, name) == 0 && strcmp(e->method, method) == 0) {
            return e;
        }
    }
    return NULL;
}

/* Figures of an endpoint or the whole run; see compare.h. */
int report_compare_figures(const stats_result *r, const char *method, const char *name,
                           report_compare_cell *cells) {
    const stats_counters *c = &r->totals;
    const stats_hist *h = r->latency;
    uint64_t done;

    memset(cells, 0, sizeof(*cells) * REPORT_CMP_COUNT);
    if (name) {
        const stats_endpoint *e = compare_find(r, method, name);

        if (!e) {
            return -1;
        }
        c = &e->c;
        h = e->latency;
    }
    done = c->ok + c->failed;
    cells[REPORT_CMP_RPS].present = r->duration_s > 0;
    cells[REPORT_CMP_RPS].value = r->duration_s > 0 ? (double)c->requests / r->duration_s : 0;
    cells[REPORT_CMP_SUCCESS].present = done > 0;
    cells[REPORT_CMP_SUCCESS].value = done ? 100.0 * (double)c->ok / (double)done : 0;
    if (stats_hist_count(h) > 0) {
        cells[REPORT_CMP_P50].value = (double)stats_hist_percentile(h, 50) / 1000;
        cells[REPORT_CMP_P95].value = (double)stats_hist_percentile(h, 95) / 1000;
        cells[REPORT_CMP_P99].value = (double)stats_hist_percentile(h, 99) / 1000;
        cells[REPORT_CMP_MAX].value = (double)stats_hist_max(h) / 1000;
        for (int m = REPORT_CMP_P50; m <= REPORT_CMP_MAX; m++) {
            cells[m].present = 1;
        }
    }
    return 0;
}

/*
 * A change is relative for rates and times and in points for the success rate. Higher is
 * better for rates and success, lower for times. A change from zero has no relative size and
 * gets neither a figure nor a mark.
 */
void report_compare_change(const report_compare_cell *base, report_compare_cell *cell, int m,
                           const report_compare_noise *noise) {
    int higher_better = m == REPORT_CMP_RPS || m == REPORT_CMP_SUCCESS;
    double limit;

    cell->has_change = 0;
    cell->mark = 0;
    if (!base->present || !cell->present) {
        return;
    }
    if (m == REPORT_CMP_SUCCESS) {
        cell->change = cell->value - base->value;
        limit = noise->success_pts;
    } else if (base->value > 0) {
        cell->change = 100.0 * (cell->value - base->value) / base->value;
        limit = noise->rel_pct;
    } else {
        return;
    }
    cell->has_change = 1;
    if (fabs(cell->change) > limit + 1e-9) {
        cell->mark = (cell->change > 0) == higher_better ? 1 : -1;
    }
}

/* ---- lining rows up ---- */

typedef struct compare_key {
    const char *method; /* NULL for the whole run */
    const char *name;
} compare_key;

/* Every endpoint of every run, first-seen order, after the whole run's row. The array is the
 * caller's to free; the strings stay the runs'. */
static compare_key *compare_keys(const stats_result *runs, size_t n, size_t *count) {
    size_t cap = 1, k = 0;
    compare_key *keys;

    for (size_t i = 0; i < n; i++) {
        cap += runs[i].endpoints ? stats_endpoints_count(runs[i].endpoints) : 0;
    }
    if (!(keys = calloc(cap, sizeof(*keys)))) {
        *count = 0;
        return NULL;
    }
    keys[k++] = (compare_key){NULL, NULL};
    for (size_t i = 0; i < n; i++) {
        size_t m = runs[i].endpoints ? stats_endpoints_count(runs[i].endpoints) : 0;

        for (size_t j = 0; j < m; j++) {
            const stats_endpoint *e = stats_endpoints_at(runs[i].endpoints, j);
            size_t seen = 1;

            while (seen < k &&
                   !(strcmp(keys[seen].name, e->name) == 0 &&
                     strcmp(keys[seen].method, e->method) == 0)) {
                seen++;
            }
            if (seen == k) {
                keys[k++] = (compare_key){e->method, e->name};
            }
        }
    }
    *count = k;
    return keys;
}

/* The cells of one key for every run, changes against run 0 filled in. cells is n x COUNT. */
static void compare_row(const stats_result *runs, size_t n, const compare_key *key,
                        const report_compare_noise *noise, report_compare_cell *cells) {
    for (size_t i = 0; i < n; i++) {
        report_compare_figures(&runs[i], key->method, key->name, &cells[i * REPORT_CMP_COUNT]);
    }
    for (size_t i = 1; i < n; i++) {
        for (int m = 0; m < REPORT_CMP_COUNT; m++) {
            report_compare_change(&cells[m], &cells[i * REPORT_CMP_COUNT + m], m, noise);
        }
    }
}

static void compare_key_label(const compare_key *key, char *buf, size_t len) {
    if (!key->name) {
        snprintf(buf, len, "Aggregated (all requests)");
    } else if (strcmp(key->method, "TASK") == 0) {
        snprintf(buf, len, "[task] %s", key->name);
    } else if (strchr(key->name, ' ') ||
               strncmp(key->name, key->method, strlen(key->method)) == 0) {
        snprintf(buf, len, "%s", key->name);
    } else {
        snprintf(buf, len, "%s %s", key->method, key->name);
    }
}

/* ---- text ---- */

static void compare_value_text(int m, const report_compare_cell *c, char *buf, size_t len) {
    if (!c->present) {
        snprintf(buf, len, "-");
    } else if (m == REPORT_CMP_RPS) {
        snprintf(buf, len, "%.2f", c->value);
    } else if (m == REPORT_CMP_SUCCESS) {
        snprintf(buf, len, "%.2f%%", c->value);
    } else {
        report_format_duration_us(c->value * 1000, buf, len);
    }
}

static void compare_change_text(int m, const report_compare_cell *c, char *buf, size_t len) {
    if (!c->has_change) {
        snprintf(buf, len, "%s", "");
    } else if (m == REPORT_CMP_SUCCESS) {
        snprintf(buf, len, "%+.1fpt", c->change);
    } else if (c->change >= 1000) {
        /* Past +999.9% a factor reads better and keeps the column's width: "x12.3". */
        double factor = 1 + c->change / 100;

        snprintf(buf, len, factor < 100 ? "x%.1f" : "x%.0f", factor);
    } else {
        snprintf(buf, len, "%+.1f%%", c->change);
    }
}

static void compare_print_runs(FILE *out, const stats_result *runs, const char *const *labels,
                               size_t n) {
    char letter[24], span[32];

    fprintf(out, "Runs:\n");
    for (size_t i = 0; i < n; i++) {
        const stats_config *cf = &runs[i].config;

        compare_letter(i, letter, sizeof(letter));
        report_format_duration_us(runs[i].duration_s * 1e6, span, sizeof(span));
        fprintf(out, "  %-3s %s  %s, ", letter, runs[i].started_at[0] ? runs[i].started_at : "-",
                span);
        if (cf->users > 0) {
            fprintf(out, "%u users", runs[i].users_peak ? runs[i].users_peak : cf->users);
        } else {
            fprintf(out, "%d connections", cf->connections);
        }
        fprintf(out, ", volley %s\n      %s\n", runs[i].version[0] ? runs[i].version : "?",
                labels[i]);
    }
}

static void compare_print_row(FILE *out, const compare_key *key, const report_compare_cell *cells,
                              size_t n, int utf8) {
    const char *better = utf8 ? "\xe2\x9c\x93" : "[ok]", *worse = utf8 ? "\xe2\x9c\x97" : "[!!]";
    char label[512], value[32], change[32];

    compare_key_label(key, label, sizeof(label));
    fprintf(out, "\n%s\n", label);
    for (int m = 0; m < REPORT_CMP_COUNT; m++) {
        fprintf(out, "  %-8s", compare_metric_names[m]);
        for (size_t i = 0; i < n; i++) {
            const report_compare_cell *c = &cells[i * REPORT_CMP_COUNT + m];

            compare_value_text(m, c, value, sizeof(value));
            compare_change_text(m, c, change, sizeof(change));
            /* A UTF-8 mark is one column in three bytes: pad by columns, not bytes. */
            fprintf(out, "  %10s %8s %s%*s", value, change,
                    c->mark > 0       ? better
                        : c->mark < 0 ? worse
                                      : "",
                    c->mark == 0 ? 4
                        : utf8   ? 3
                                 : 0,
                    "");
        }
        fputc('\n', out);
    }
}

/* Prints the comparison; see compare.h. */
void report_compare_print(FILE *out, const stats_result *runs, const char *const *labels, size_t n,
                          const report_compare_noise *noise, int utf8) {
    size_t count;
    compare_key *keys = compare_keys(runs, n, &count);
    report_compare_cell *cells = calloc(n * REPORT_CMP_COUNT, sizeof(*cells));
    char letter[24];

    compare_print_runs(out, runs, labels, n);
    fprintf(out,
            "\nChanges against A, marked %s better / %s worse when beyond the noise (rates and "
            "percentiles:\n%g%%, success: %g pt).\n",
            utf8 ? "\xe2\x9c\x93" : "[ok]", utf8 ? "\xe2\x9c\x97" : "[!!]", noise->rel_pct,
            noise->success_pts);
    fprintf(out, "\n  %-8s", "");
    for (size_t i = 0; i < n; i++) {
        compare_letter(i, letter, sizeof(letter));
        fprintf(out, "  %10s %8s %-4s", letter, i ? "change" : "", "");
    }
    fputc('\n', out);
    for (size_t k = 0; keys && cells && k < count; k++) {
        compare_row(runs, n, &keys[k], noise, cells);
        compare_print_row(out, &keys[k], cells, n, utf8);
    }
    free(cells);
    free(keys);
}

/* ---- HTML ---- */

static void compare_html_row(FILE *out, const compare_key *key, const report_compare_cell *cells,
                             size_t n) {
    char label[512], value[32], change[32];

    compare_key_label(key, label, sizeof(label));
    fprintf(out, "<tr class=\"agg\"><td colspan=\"%zu\">", n + 1);
    report_html_text(out, label);
    fputs("</td></tr>\n", out);
    for (int m = 0; m < REPORT_CMP_COUNT; m++) {
        fprintf(out, "<tr><td>%s</td>", compare_metric_names[m]);
        for (size_t i = 0; i < n; i++) {
            const report_compare_cell *c = &cells[i * REPORT_CMP_COUNT + m];

            compare_value_text(m, c, value, sizeof(value));
            compare_change_text(m, c, change, sizeof(change));
            fprintf(out, "<td>%s", value);
            if (c->has_change) {
                fprintf(out, " <span class=\"sub\">%s</span>", change);
            }
            if (c->mark) {
                fprintf(out, " <span class=\"pill %s\">%s</span>", c->mark > 0 ? "g0" : "g3",
                        c->mark > 0 ? "\xe2\x9c\x93 better" : "\xe2\x9c\x97 worse");
            }
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
}

static void compare_html_runs(FILE *out, const stats_result *runs, const char *const *labels,
                              size_t n) {
    char letter[24];

    fputs("<section class=\"card\"><h2>Runs</h2><div class=\"scroll\"><table>\n"
          "<tr><th>Run</th><th class=\"l\">File</th><th class=\"l\">Started</th>"
          "<th>Duration</th><th>Users or connections</th><th class=\"l\">URL</th></tr>\n",
          out);
    for (size_t i = 0; i < n; i++) {
        const stats_config *cf = &runs[i].config;

        compare_letter(i, letter, sizeof(letter));
        fprintf(out,
                "<tr><td><span class=\"pill\" style=\"--g:%s\">%s</span></td><td class=\"l "
                "mono\">",
                report_html_color(i), letter);
        report_html_text(out, labels[i]);
        fputs("</td><td class=\"l\">", out);
        report_html_text(out, runs[i].started_at);
        fprintf(out, "</td><td>%.1f s</td><td>%u</td><td class=\"l mono\">", runs[i].duration_s,
                cf->users > 0 ? (runs[i].users_peak ? runs[i].users_peak : cf->users)
                              : (unsigned)(cf->connections > 0 ? cf->connections : 0));
        report_html_text(out, cf->url ? cf->url : "");
        fputs("</td></tr>\n", out);
    }
    fputs("</table></div></section>\n", out);
}

/* Overlaid lines of one figure over time, one per run (at most REPORT_CHART_MAX_LINES). */
static void compare_html_charts(FILE *out, const stats_result *runs, size_t n) {
    size_t lines = n < REPORT_CHART_MAX_LINES ? n : REPORT_CHART_MAX_LINES;
    report_html_series *s = calloc(lines ? lines : 1, sizeof(*s));
    char letters[REPORT_CHART_MAX_LINES][24];
    report_chart rps, p95;

    if (!s) {
        return;
    }
    memset(&rps, 0, sizeof(rps));
    memset(&p95, 0, sizeof(p95));
    rps.title = "Requests per second, run by run";
    p95.title = "p95 response time, run by run";
    rps.x_axis = p95.x_axis = REPORT_AXIS_SECONDS;
    rps.y_axis = REPORT_AXIS_NUMBER;
    p95.y_axis = REPORT_AXIS_MS;
    for (size_t i = 0; i < lines; i++) {
        compare_letter(i, letters[i], sizeof(letters[i]));
        if (report_html_series_build(&s[i], &runs[i]) < 0) {
            continue;
        }
        rps.lines[rps.line_count++] = report_html_line(letters[i], s[i].t, s[i].rps, s[i].n);
        p95.lines[p95.line_count++] = report_html_line(letters[i], s[i].lt, s[i].p95, s[i].ln);
    }
    fputs("<div class=\"charts\">\n", out);
    report_html_chart(out, &rps);
    report_html_chart(out, &p95);
    fputs("</div>\n", out);
    for (size_t i = 0; i < lines; i++) {
        report_html_series_free(&s[i]);
    }
    free(s);
}

/* The comparison as a page; see compare.h. */
void report_compare_html(FILE *out, const stats_result *runs, const char *const *labels, size_t n,
                         const report_compare_noise *noise) {
    size_t count;
    compare_key *keys = compare_keys(runs, n, &count);
    report_compare_cell *cells = calloc(n * REPORT_CMP_COUNT, sizeof(*cells));
    char letter[24];

    report_html_begin(out, "volley compare");
    fprintf(out,
            "<h1>volley compare</h1>\n<div class=\"sub\">%zu runs; changes against A, marked when "
            "beyond the noise (rates and percentiles: %g%%, success: %g pt).</div>\n",
            n, noise->rel_pct, noise->success_pts);
    compare_html_runs(out, runs, labels, n);
    compare_html_charts(out, runs, n);
    fputs("<section class=\"card\"><h2>Endpoints</h2><div class=\"scroll\"><table>\n<tr><th></th>",
          out);
    for (size_t i = 0; i < n; i++) {
        compare_letter(i, letter, sizeof(letter));
        fprintf(out, "<th>%s</th>", letter);
    }
    fputs("</tr>\n", out);
    for (size_t k = 0; keys && cells && k < count; k++) {
        compare_row(runs, n, &keys[k], noise, cells);
        compare_html_row(out, &keys[k], cells, n);
    }
    fputs("</table></div></section>\n", out);
    report_html_end(out, n ? runs[0].version : "");
    free(cells);
    free(keys);
}
