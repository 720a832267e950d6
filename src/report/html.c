/* html.c: the self-contained HTML report of a run: verdict card, SVG charts, tables, settings. */
#include "report/html.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/verdict.h"

#ifndef VOLLEY_VERSION
#define VOLLEY_VERSION "?"
#endif

/* Charts keep at most this many points per line; longer runs are drawn in groups of seconds. */
#define HTML_MAX_POINTS 900
/* The distribution chart: endpoints drawn, and log-spaced points per endpoint. */
#define HTML_DIST_LINES 8
#define HTML_DIST_BINS 61

/* Chart geometry in SVG user units. */
#define SVG_W 600.0
#define SVG_H 250.0
#define SVG_LEFT 62.0
#define SVG_RIGHT 14.0
#define SVG_TOP 12.0
#define SVG_BOTTOM 34.0

static const char *const html_colors[] = {"#2563eb", "#dc2626", "#16a34a", "#9333ea",
                                          "#ea580c", "#0891b2", "#ca8a04", "#db2777"};

static const char html_style[] =
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f3f5f8;color:#1f2933;font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'DejaVu Sans','Liberation Sans',Arial,sans-serif}"
    "main{max-width:1180px;margin:0 auto;padding:24px 20px 40px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:0 0 12px}"
    "h3{font-size:14px;margin:14px 0 6px;color:#3e4c59}"
    ".sub{color:#616e7c;font-size:13px}.mono{font-family:ui-monospace,'DejaVu Sans Mono',"
    "Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}"
    ".card{background:#fff;border:1px solid #e1e6ec;border-radius:10px;padding:16px 18px;"
    "margin:16px 0;box-shadow:0 1px 2px rgba(15,23,42,.05)}"
    ".verdict{border-left:6px solid var(--g)}"
    ".vhead{display:flex;gap:16px;align-items:center;flex-wrap:wrap}"
    ".badge{background:var(--g);color:#fff;font-weight:700;font-size:20px;letter-spacing:.04em;"
    "padding:10px 18px;border-radius:8px}"
    ".rec{font-size:16px;font-weight:600}"
    ".metrics{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:10px;"
    "margin-top:14px}"
    ".metric{border:1px solid #e1e6ec;border-radius:8px;padding:10px 12px}"
    ".mlabel{color:#616e7c;font-size:12px;text-transform:uppercase;letter-spacing:.04em}"
    ".mvalue{font-size:20px;font-weight:650;margin:2px 0 6px}"
    ".pill{display:inline-block;color:#fff;background:var(--g);border-radius:999px;"
    "padding:1px 10px;font-size:12px;font-weight:600}"
    ".g0{--g:#047857}.g1{--g:#4d9a1c}.g2{--g:#d97706}.g3{--g:#dc2626}.gn{--g:#7b8794}"
    "ul.bn{margin:4px 0 0;padding-left:20px}ul.bn li{margin:2px 0}"
    ".tiles{display:grid;grid-template-columns:repeat(7,minmax(0,1fr));gap:10px}"
    ".tile{background:#fff;border:1px solid #e1e6ec;border-radius:10px;padding:10px 12px}"
    ".tile b{display:block;font-size:19px}.tile span{color:#616e7c;font-size:12px}"
    ".charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}"
    ".charts .card{margin:0}.chart svg{display:block;width:100%;height:auto}"
    ".legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;margin:2px 0 6px}"
    ".legend i{display:inline-block;width:12px;height:4px;border-radius:2px;margin-right:5px;"
    "vertical-align:middle}"
    "svg text{font-size:11px;fill:#52606d}svg .grid{stroke:#e4e7eb;stroke-width:1}"
    "svg .axis{stroke:#9aa5b1;stroke-width:1}"
    "svg polyline{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{padding:5px 8px;border-bottom:1px solid #eef1f4;text-align:right;"
    "white-space:nowrap}"
    "th{color:#52606d;font-weight:600;background:#f8fafc}"
    "th:first-child,td:first-child{text-align:left;white-space:normal}"
    "td.l,th.l{text-align:left}td.mono{white-space:normal}"
    "tr.agg td{font-weight:650;border-top:2px solid #d9e2ec}"
    ".scroll{overflow-x:auto}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}"
    "dt{color:#616e7c}dd{margin:0}"
    "footer{color:#7b8794;font-size:12px;text-align:center;margin-top:24px}"
    "@media (max-width:900px){.charts{grid-template-columns:1fr}"
    ".tiles{grid-template-columns:repeat(3,minmax(0,1fr))}"
    ".metrics{grid-template-columns:repeat(2,minmax(0,1fr))}}";

/* The colour of line i. */
const char *report_html_color(size_t i) {
    return html_colors[i % (sizeof(html_colors) / sizeof(html_colors[0]))];
}

/* Writes s escaped for HTML text and attribute values. */
void report_html_text(FILE *out, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
            case '&':
                fputs("&amp;", out);
                break;
            case '<':
                fputs("&lt;", out);
                break;
            case '>':
                fputs("&gt;", out);
                break;
            case '"':
                fputs("&quot;", out);
                break;
            case '\'':
                fputs("&#39;", out);
                break;
            default:
                fputc(*s, out);
        }
    }
}

/* Opens the page; see html.h. */
void report_html_begin(FILE *out, const char *title) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          out);
    report_html_text(out, title);
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", html_style);
}

/* Closes the page; see html.h. */
void report_html_end(FILE *out, const char *version) {
    fputs("<footer>Run by volley ", out);
    report_html_text(out, version && *version ? version : "?");
    fputs(", drawn by volley " VOLLEY_VERSION " from a volley.result/1 file. "
          "This page needs no network.</footer>\n</main>\n</body>\n</html>\n",
          out);
}

/* ---- numbers for people ---- */

/* A duration in microseconds: "420 us", "7.52 ms", "450.3 ms", "8.50 s". */
static char *html_dur(double us, char *buf, size_t len) {
    if (us < 1000) {
        snprintf(buf, len, "%.0f \xc2\xb5s", us);
    } else if (us < 10000) {
        snprintf(buf, len, "%.2f ms", us / 1000);
    } else if (us < 1000000) {
        snprintf(buf, len, "%.1f ms", us / 1000);
    } else {
        snprintf(buf, len, "%.2f s", us / 1e6);
    }
    return buf;
}

/* An axis label for a value in the axis's unit. */
static char *html_axis_label(int axis, double v, double step, char *buf, size_t len) {
    switch (axis) {
        case REPORT_AXIS_MS:
        case REPORT_AXIS_LOG_MS:
            if (v >= 1000) {
                snprintf(buf, len, "%g s", v / 1000);
            } else {
                snprintf(buf, len, "%g ms", v);
            }
            break;
        case REPORT_AXIS_SECONDS:
            if (step >= 60) {
                snprintf(buf, len, "%gm", v / 60);
            } else {
                snprintf(buf, len, "%gs", v);
            }
            break;
        case REPORT_AXIS_PERCENT:
            snprintf(buf, len, "%g%%", v);
            break;
        default:
            snprintf(buf, len, "%g", v);
    }
    return buf;
}

/* ---- charts ---- */

/* A step of 1, 2 or 5 times a power of ten giving about `target` intervals over span. */
static double html_nice_step(double span, int target) {
    double raw = span / target, mag, f;

    if (!(raw > 0)) {
        return 1;
    }
    mag = pow(10, floor(log10(raw)));
    f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* Steps that read well on a clock: seconds, then minutes, then hours. */
static double html_time_step(double span, int target) {
    static const double steps[] = {1,   2,   5,    10,   15,   30,    60,    120,   300,
                                   600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};
    double raw = span / target;

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i] >= raw) {
            return steps[i];
        }
    }
    return html_nice_step(span, target);
}

/* The range of one axis, in data units (log10 of the value on a log axis). */
typedef struct html_axis {
    int kind;
    double lo, hi, step;
} html_axis;

static double html_axis_value(const html_axis *a, double v) {
    if (a->kind == REPORT_AXIS_LOG_MS) {
        return log10(v > 0 ? v : 1e-3);
    }
    return v;
}

static void html_axis_fit(html_axis *a, double lo, double hi, int target) {
    if (a->kind == REPORT_AXIS_LOG_MS) {
        a->lo = floor(log10(lo > 0 ? lo : 1e-3));
        a->hi = ceil(log10(hi > 0 ? hi : 1));
        a->hi = a->hi > a->lo ? a->hi : a->lo + 1;
        a->step = 1;
        return;
    }
    a->lo = 0;
    hi = hi > 0 ? hi : 1;
    if (a->kind == REPORT_AXIS_SECONDS) {
        /* Time ends where the run did, not at the next round tick. */
        a->step = html_time_step(hi, target);
        a->hi = hi;
        return;
    }
    a->step = html_nice_step(hi, target);
    a->hi = ceil(hi / a->step - 1e-9) * a->step;
    a->hi = a->hi > 0 ? a->hi : a->step;
}

static double html_px(const html_axis *a, double v, double from, double to) {
    double f = (html_axis_value(a, v) - a->lo) / (a->hi - a->lo);

    f = f < 0 ? 0 : f > 1 ? 1 : f;
    return from + f * (to - from);
}

static void html_chart_ranges(const report_chart *c, html_axis *x, html_axis *y) {
    double xlo = INFINITY, xhi = 0, yhi = 0;

    for (size_t i = 0; i < c->line_count; i++) {
        for (size_t k = 0; k < c->lines[i].n; k++) {
            double xv = c->lines[i].x[k], yv = c->lines[i].y[k];

            xlo = xv > 0 && xv < xlo ? xv : xlo;
            xhi = xv > xhi ? xv : xhi;
            yhi = yv > yhi ? yv : yhi;
        }
    }
    x->kind = c->x_axis;
    y->kind = c->y_axis;
    html_axis_fit(x, isfinite(xlo) ? xlo : 1, xhi, 6);
    html_axis_fit(y, 0, c->y_max > 0 ? c->y_max : yhi * 1.05, 4);
}

static void html_chart_grid(FILE *out, const html_axis *x, const html_axis *y) {
    double bottom = SVG_H - SVG_BOTTOM, right = SVG_W - SVG_RIGHT;
    char label[32];

    for (double v = y->lo; v <= y->hi + y->step * 1e-6; v += y->step) {
        double py = html_px(y, v, bottom, SVG_TOP);

        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                SVG_LEFT, py, right, py);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", SVG_LEFT - 6,
                py + 4, html_axis_label(y->kind, v, y->step, label, sizeof(label)));
    }
    for (double v = x->lo; v <= x->hi + x->step * 1e-6; v += x->step) {
        double real = x->kind == REPORT_AXIS_LOG_MS ? pow(10, v) : v;
        double px = html_px(x, real, SVG_LEFT, right);

        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", px,
                SVG_TOP, px, bottom);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", px, bottom + 16,
                px > right - 24 ? "end" : "middle",
                html_axis_label(x->kind, real, x->step, label, sizeof(label)));
    }
    fprintf(out,
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            SVG_LEFT, SVG_TOP, SVG_LEFT, bottom, SVG_LEFT, bottom, right, bottom);
}

static void html_chart_line(FILE *out, const report_chart_line *l, const char *color,
                            const html_axis *x, const html_axis *y) {
    double bottom = SVG_H - SVG_BOTTOM, right = SVG_W - SVG_RIGHT;

    fprintf(out, "<polyline stroke=\"%s\" points=\"", color);
    for (size_t k = 0; k < l->n; k++) {
        fprintf(out, "%s%.1f,%.1f", k ? " " : "", html_px(x, l->x[k], SVG_LEFT, right),
                html_px(y, l->y[k], bottom, SVG_TOP));
    }
    fputs("\"/>\n", out);
    /* A line of one or two points is hard to see: mark its points. */
    for (size_t k = 0; l->n < 3 && k < l->n; k++) {
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                html_px(x, l->x[k], SVG_LEFT, right), html_px(y, l->y[k], bottom, SVG_TOP), color);
    }
}

/* Draws one chart card; see html.h. */
void report_html_chart(FILE *out, const report_chart *c) {
    html_axis x, y;

    html_chart_ranges(c, &x, &y);
    fputs("<section class=\"card chart\"><h2>", out);
    report_html_text(out, c->title);
    fputs("</h2>\n", out);
    if (c->note) {
        fputs("<div class=\"sub\">", out);
        report_html_text(out, c->note);
        fputs("</div>\n", out);
    }
    fputs("<div class=\"legend\">", out);
    for (size_t i = 0; i < c->line_count; i++) {
        fprintf(out, "<span><i style=\"background:%s\"></i>", report_html_color(i));
        report_html_text(out, c->lines[i].label);
        fputs("</span>", out);
    }
    fprintf(out, "</div>\n<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", SVG_W, SVG_H);
    report_html_text(out, c->title);
    fputs("\">\n", out);
    html_chart_grid(out, &x, &y);
    for (size_t i = 0; i < c->line_count; i++) {
        html_chart_line(out, &c->lines[i], report_html_color(i), &x, &y);
    }
    fputs("</svg>\n</section>\n", out);
}

/* ---- the run's series as chart lines ---- */

/* Frees the arrays of s; see html.h. */
void report_html_series_free(report_html_series *s) {
    free(s->t);
    free(s->rps);
    free(s->fps);
    free(s->users);
    free(s->lt);
    free(s->p50);
    free(s->p95);
    free(s->max);
    memset(s, 0, sizeof(*s));
}

static int html_series_alloc(report_html_series *s, size_t n) {
    double **arrays[] = {&s->t, &s->rps, &s->fps, &s->users, &s->lt, &s->p50, &s->p95, &s->max};

    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        if (!(*arrays[i] = calloc(n ? n : 1, sizeof(double)))) {
            report_html_series_free(s);
            return -ENOMEM;
        }
    }
    return 0;
}

/* Adds seconds [from, to) of the series as one point of each line. */
static void html_series_group(report_html_series *s, const stats_result *r, size_t from, size_t to,
                              stats_hist *h) {
    double covered = 0, done = 0, failed = 0;
    size_t g = s->n++;

    stats_hist_reset(h);
    for (size_t i = from; i < to; i++) {
        const stats_point *p = stats_series_at(r->series, (uint32_t)i);
        double left = r->duration_s - (double)i;

        covered += left >= 0.1 && left < 1 ? left : 1;
        done += (double)(p->c.ok + p->c.failed);
        failed += (double)p->c.failed;
        stats_hist_merge(h, p->latency);
        s->users[g] = r->config.users > 0 ? (double)p->users : (double)r->config.connections;
    }
    s->t[g] = (double)to;
    s->rps[g] = done / covered;
    s->fps[g] = failed / covered;
    if (stats_hist_count(h) > 0) {
        s->lt[s->ln] = (double)to;
        s->p50[s->ln] = (double)stats_hist_percentile(h, 50) / 1000;
        s->p95[s->ln] = (double)stats_hist_percentile(h, 95) / 1000;
        s->max[s->ln] = (double)stats_hist_max(h) / 1000;
        s->ln++;
    }
}

/* How many seconds of the series to draw: a last second that began within 0.1 s of the stop
 * holds the stragglers of the stop, not a second of load, and would show a drop that did not
 * happen. */
static size_t html_series_drawn(const stats_result *r) {
    size_t len = r->series ? stats_series_len(r->series) : 0;

    while (len > 1 && (double)(len - 1) > r->duration_s - 0.1) {
        len--;
    }
    return len;
}

/* The run's per-second lines; see html.h. */
int report_html_series_build(report_html_series *s, const stats_result *r) {
    size_t len = html_series_drawn(r);
    size_t group = len > HTML_MAX_POINTS ? (len + HTML_MAX_POINTS - 1) / HTML_MAX_POINTS : 1;
    stats_hist *h = stats_hist_new();

    if (!h || html_series_alloc(s, len / group + 1) < 0) {
        stats_hist_free(h);
        return -ENOMEM;
    }
    for (size_t from = 0; from < len; from += group) {
        html_series_group(s, r, from, from + group < len ? from + group : len, h);
    }
    stats_hist_free(h);
    return 0;
}

/* A chart line over arrays the caller keeps; see html.h. */
report_chart_line report_html_line(const char *label, const double *x, const double *y, size_t n) {
    report_chart_line l = {label, x, y, n};

    return l;
}

/* The watched server's CPU and memory (--watch-pid), when the run sampled them. */
static void html_server_charts(FILE *out, const stats_result *r) {
    size_t n = r->series ? stats_series_len(r->series) : 0, k = 0;
    double *t = calloc(n ? n : 1, sizeof(double)), *cpu = calloc(n ? n : 1, sizeof(double));
    double *mem = calloc(n ? n : 1, sizeof(double));
    report_chart c;

    for (size_t i = 0; t && cpu && mem && i < n; i++) {
        const stats_point *p = stats_series_at(r->series, (uint32_t)i);
        if (p->watched) {
            t[k] = (double)p->second;
            cpu[k] = p->server_cpu_cores;
            mem[k] = (double)p->server_rss_bytes / 1048576.0;
            k++;
        }
    }
    if (k > 0) {
        memset(&c, 0, sizeof(c));
        c.title = "Server CPU (cores)";
        c.note = "the processes given with --watch-pid, and their children";
        c.x_axis = REPORT_AXIS_SECONDS;
        c.y_axis = REPORT_AXIS_NUMBER;
        c.lines[c.line_count++] = report_html_line("CPU cores", t, cpu, k);
        report_html_chart(out, &c);
        memset(&c, 0, sizeof(c));
        c.title = "Server memory (MB, resident)";
        c.x_axis = REPORT_AXIS_SECONDS;
        c.y_axis = REPORT_AXIS_NUMBER;
        c.lines[c.line_count++] = report_html_line("RSS MB", t, mem, k);
        report_html_chart(out, &c);
    }
    free(t);
    free(cpu);
    free(mem);
}

static void html_time_charts(FILE *out, const stats_result *r, const report_html_series *s) {
    int user_mode = r->config.users > 0;
    report_chart c;

    memset(&c, 0, sizeof(c));
    c.title = "Requests and failures per second";
    c.x_axis = REPORT_AXIS_SECONDS;
    c.y_axis = REPORT_AXIS_NUMBER;
    c.lines[c.line_count++] = report_html_line("requests/s", s->t, s->rps, s->n);
    c.lines[c.line_count++] = report_html_line("failures/s", s->t, s->fps, s->n);
    report_html_chart(out, &c);

    memset(&c, 0, sizeof(c));
    c.title = user_mode ? "Users over time" : "Connections over time";
    c.note = user_mode ? NULL : "connection mode: every connection stays open for the whole run";
    c.x_axis = REPORT_AXIS_SECONDS;
    c.y_axis = REPORT_AXIS_NUMBER;
    c.lines[c.line_count++] =
        report_html_line(user_mode ? "users" : "connections", s->t, s->users, s->n);
    report_html_chart(out, &c);

    memset(&c, 0, sizeof(c));
    c.title = "Response time over time";
    c.x_axis = REPORT_AXIS_SECONDS;
    c.y_axis = REPORT_AXIS_MS;
    c.lines[c.line_count++] = report_html_line("p50", s->lt, s->p50, s->ln);
    c.lines[c.line_count++] = report_html_line("p95", s->lt, s->p95, s->ln);
    c.lines[c.line_count++] = report_html_line("max", s->lt, s->max, s->ln);
    report_html_chart(out, &c);
    html_server_charts(out, r);
}

/* ---- latency distribution per endpoint ---- */

typedef struct html_dist {
    size_t lines;
    double x[HTML_DIST_LINES][HTML_DIST_BINS];
    double y[HTML_DIST_LINES][HTML_DIST_BINS];
    char label[HTML_DIST_LINES][96];
} html_dist;

/* The busiest endpoints with latency samples, most requests first (at most HTML_DIST_LINES). */
static size_t html_dist_pick(const stats_result *r, const stats_endpoint **pick) {
    size_t n = r->endpoints ? stats_endpoints_count(r->endpoints) : 0, count = 0;

    for (size_t i = 0; i < n; i++) {
        const stats_endpoint *e = stats_endpoints_at(r->endpoints, i);
        size_t at = count;

        if (stats_hist_count(e->latency) == 0) {
            continue;
        }
        while (at > 0 && stats_hist_count(pick[at - 1]->latency) < stats_hist_count(e->latency)) {
            at--;
        }
        if (at >= HTML_DIST_LINES) {
            continue;
        }
        count = count < HTML_DIST_LINES ? count + 1 : count;
        memmove(&pick[at + 1], &pick[at], (count - 1 - at) * sizeof(*pick));
        pick[at] = e;
    }
    return count;
}

/*
 * The cumulative distribution of one endpoint: at HTML_DIST_BINS log-spaced times between
 * 10^lo and 10^hi ms, the share of its requests answered within that time.
 */
static void html_dist_fill(html_dist *d, size_t li, const stats_hist *h, double lo, double hi) {
    double width = (hi - lo) / (HTML_DIST_BINS - 1), total = (double)stats_hist_count(h);
    uint64_t value_us = 0, count = 0, seen = 0;
    size_t cursor = 0;
    int more = stats_hist_next(h, &cursor, &value_us, &count);

    for (size_t b = 0; b < HTML_DIST_BINS; b++) {
        double edge_us = pow(10, lo + width * (double)b) * 1000;

        while (more && (double)value_us <= edge_us) {
            seen += count;
            more = stats_hist_next(h, &cursor, &value_us, &count);
        }
        d->x[li][b] = edge_us / 1000;
        d->y[li][b] = 100.0 * (double)seen / total;
    }
}

static void html_endpoint_label(const stats_endpoint *e, char *buf, size_t len) {
    if (!e->method || !*e->method || strcmp(e->method, "*") == 0 ||
        strncmp(e->name, e->method, strlen(e->method)) == 0 || strchr(e->name, ' ')) {
        snprintf(buf, len, "%s", e->name);
    } else {
        snprintf(buf, len, "%s %s", e->method, e->name);
    }
}

static void html_dist_chart(FILE *out, const stats_result *r) {
    const stats_endpoint *pick[HTML_DIST_LINES + 1];
    html_dist *d = calloc(1, sizeof(*d));
    double lo = INFINITY, hi = 0;
    report_chart c;

    if (!d) {
        return;
    }
    d->lines = html_dist_pick(r, pick);
    for (size_t i = 0; i < d->lines; i++) {
        double mn = (double)stats_hist_min(pick[i]->latency) / 1000;
        double mx = (double)stats_hist_max(pick[i]->latency) / 1000;

        lo = fmin(lo, mn > 0.001 ? mn : 0.001);
        hi = fmax(hi, mx > 0.001 ? mx : 0.001);
    }
    memset(&c, 0, sizeof(c));
    c.title = "Response time distribution per endpoint";
    c.y_max = 100;
    c.note = "share of each endpoint's requests answered within a time (log scale)";
    c.x_axis = REPORT_AXIS_LOG_MS;
    c.y_axis = REPORT_AXIS_PERCENT;
    lo = d->lines ? floor(log10(lo)) : 0;
    hi = d->lines ? ceil(log10(hi)) : 1;
    hi = hi > lo ? hi : lo + 1;
    for (size_t i = 0; i < d->lines; i++) {
        html_dist_fill(d, i, pick[i]->latency, lo, hi);
        html_endpoint_label(pick[i], d->label[i], sizeof(d->label[i]));
        c.lines[c.line_count++] = report_html_line(d->label[i], d->x[i], d->y[i], HTML_DIST_BINS);
    }
    report_html_chart(out, &c);
    free(d);
}

/* ---- page sections ---- */

static const char *html_grade_class(int grade) {
    static const char *const classes[] = {"g0", "g1", "g2", "g3"};

    return grade >= 0 && grade <= 3 ? classes[grade] : "gn";
}

static void html_head_block(FILE *out, const stats_result *r) {
    const stats_config *cf = &r->config;
    char took[32];

    fputs("<h1>volley report</h1>\n<div class=\"sub\"><span class=\"mono\">", out);
    report_html_text(out, cf->url ? cf->url : "");
    fputs("</span><br>started ", out);
    report_html_text(out, r->started_at[0] ? r->started_at : "(unknown)");
    fprintf(out, ", ran %s, ", html_dur(r->duration_s * 1e6, took, sizeof(took)));
    if (cf->users > 0) {
        fprintf(out, "%u users at peak (%u asked, spawn rate %.4g/s)", r->users_peak, cf->users,
                cf->spawn_rate);
    } else {
        fprintf(out, "%d connections on %d threads", cf->connections, cf->threads);
    }
    if (cf->script) {
        fputs(", script ", out);
        report_html_text(out, cf->script);
    }
    if (r->stop_reason[0]) {
        fputs("<br>stopped: ", out);
        report_html_text(out, r->stop_reason);
    }
    fputs("</div>\n", out);
}

static void html_verdict_metrics(FILE *out, const report_verdict *v) {
    fputs("<div class=\"metrics\">\n", out);
    for (int i = 0; i < REPORT_METRIC_COUNT; i++) {
        const report_verdict_metric *m = &v->metrics[i];
        const char *mark = m->grade == REPORT_GRADE_NONE ? ""
            : m->grade <= REPORT_GRADE_GOOD              ? "\xe2\x9c\x93 "
                                                         : "\xe2\x9c\x97 ";

        fprintf(out, "<div class=\"metric %s\"><div class=\"mlabel\">", html_grade_class(m->grade));
        report_html_text(out, m->label);
        fputs("</div><div class=\"mvalue\">", out);
        report_html_text(out, m->text);
        fprintf(out, "</div><span class=\"pill\">%s%s</span></div>\n", mark,
                report_grade_name(m->grade));
    }
    fputs("</div>\n", out);
}

static void html_verdict_card(FILE *out, const stats_result *r, double monthly_cost) {
    report_verdict v;
    char cost[256];

    report_verdict_compute(r, NULL, &v);
    fprintf(out,
            "<section class=\"card verdict %s\" id=\"verdict\">\n<div class=\"vhead\">"
            "<div class=\"badge\">%s</div><div><div class=\"rec\">\xe2\x86\x92 ",
            html_grade_class(v.overall), report_grade_name(v.overall));
    report_html_text(out, v.recommendation);
    fputs("</div><div class=\"sub\">Overall verdict: the worst grade of the four figures "
          "below.</div></div></div>\n",
          out);
    html_verdict_metrics(out, &v);
    fputs("<h3>Bottlenecks</h3>\n", out);
    if (v.bottleneck_count == 0) {
        fputs("<div class=\"sub\">None seen.</div>\n", out);
    } else {
        fputs("<ul class=\"bn\">\n", out);
        for (size_t i = 0; i < v.bottleneck_count; i++) {
            fputs("<li>", out);
            report_html_text(out, v.bottlenecks[i].text);
            fputs("</li>\n", out);
        }
        fputs("</ul>\n", out);
    }
    if (report_verdict_cost_text(&v, monthly_cost, cost, sizeof(cost)) >= 0) {
        fprintf(out, "<h3>Cost per %s</h3><div>",
                strcmp(v.concurrency_unit, "users") == 0 ? "user" : "connection");
        report_html_text(out, cost);
        fputs("</div>\n", out);
    }
    fputs("</section>\n", out);
}

static void html_tile(FILE *out, const char *value, const char *label) {
    fputs("<div class=\"tile\"><b>", out);
    report_html_text(out, value);
    fputs("</b><span>", out);
    report_html_text(out, label);
    fputs("</span></div>\n", out);
}

static void html_tiles(FILE *out, const stats_result *r) {
    const stats_hist *h = r->latency;
    uint64_t done = r->totals.ok + r->totals.failed;
    char buf[48], label[48];

    fputs("<div class=\"tiles\">\n", out);
    snprintf(buf, sizeof(buf), "%" PRIu64, r->totals.requests);
    html_tile(out, buf, "requests");
    snprintf(buf, sizeof(buf), "%" PRIu64, r->totals.failed);
    snprintf(label, sizeof(label), "failures (%.2f%%)",
             done ? 100.0 * (double)r->totals.failed / (double)done : 0.0);
    html_tile(out, buf, label);
    snprintf(buf, sizeof(buf), "%.2f",
             r->duration_s > 0 ? (double)r->totals.responses / r->duration_s : 0.0);
    html_tile(out, buf, "responses/s");
    html_tile(out, html_dur((double)stats_hist_percentile(h, 50), buf, sizeof(buf)), "median");
    html_tile(out, html_dur((double)stats_hist_percentile(h, 95), buf, sizeof(buf)), "p95");
    html_tile(out, html_dur((double)stats_hist_percentile(h, 99), buf, sizeof(buf)), "p99");
    html_tile(out, html_dur((double)stats_hist_max(h), buf, sizeof(buf)), "max");
    fputs("</div>\n", out);
}

static void html_endpoint_row(FILE *out, const char *label, const char *method,
                              const stats_counters *c, const stats_hist *h, double duration_s,
                              int agg) {
    char a[32], p50[32], p95[32], p99[32], mx[32];
    int timed = stats_hist_count(h) > 0;

    fprintf(out, "<tr%s><td>", agg ? " class=\"agg\"" : "");
    report_html_text(out, label);
    fputs("</td><td class=\"l\">", out);
    report_html_text(out, method);
    fprintf(out,
            "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%s</td><td>%s</td><td>%s</td>"
            "<td>%s</td><td>%s</td><td>%.2f</td></tr>\n",
            c->requests, c->failed, timed ? html_dur(stats_hist_mean(h), a, sizeof(a)) : "-",
            timed ? html_dur((double)stats_hist_percentile(h, 50), p50, sizeof(p50)) : "-",
            timed ? html_dur((double)stats_hist_percentile(h, 95), p95, sizeof(p95)) : "-",
            timed ? html_dur((double)stats_hist_percentile(h, 99), p99, sizeof(p99)) : "-",
            timed ? html_dur((double)stats_hist_max(h), mx, sizeof(mx)) : "-",
            duration_s > 0 ? (double)c->requests / duration_s : 0.0);
}

static void html_endpoints(FILE *out, const stats_result *r) {
    size_t n = r->endpoints ? stats_endpoints_count(r->endpoints) : 0;

    fputs("<section class=\"card\"><h2>Endpoints</h2><div class=\"scroll\"><table>\n"
          "<tr><th>Name</th><th class=\"l\">Method</th><th>Requests</th><th>Failures</th>"
          "<th>Avg</th><th>Median</th><th>p95</th><th>p99</th><th>Max</th><th>Req/s</th></tr>\n",
          out);
    for (size_t i = 0; i < n; i++) {
        const stats_endpoint *e = stats_endpoints_at(r->endpoints, i);

        html_endpoint_row(out, e->name, e->method, &e->c, e->latency, r->duration_s, 0);
    }
    html_endpoint_row(out, "Aggregated", "", &r->totals, r->latency, r->duration_s, 1);
    fputs("</table></div></section>\n", out);
}

static void html_failures(FILE *out, const stats_result *r) {
    size_t n = r->failures ? stats_endpoints_count(r->failures) : 0;
    int any = 0;

    fputs("<section class=\"card\"><h2>Failures</h2>\n", out);
    if (n > 0) {
        fputs("<div class=\"scroll\"><table><tr><th>Request</th><th class=\"l\">Reason</th>"
              "<th>Count</th></tr>\n",
              out);
        for (size_t i = 0; i < n; i++) {
            const stats_endpoint *e = stats_endpoints_at(r->failures, i);

            fputs("<tr><td>", out);
            report_html_text(out, e->method);
            fputs("</td><td class=\"l\">", out);
            report_html_text(out, e->name);
            fprintf(out, "</td><td>%" PRIu64 "</td></tr>\n", e->c.failed);
        }
        fputs("</table></div>\n", out);
    }
    fputs("<h3>By class</h3><div class=\"scroll\"><table><tr><th>Class</th><th>Count</th>"
          "<th>Share of completed requests</th></tr>\n",
          out);
    for (int cls = 0; cls < STATS_ERR_COUNT; cls++) {
        uint64_t k = r->totals.errors[cls], done = r->totals.ok + r->totals.failed;

        if (k) {
            any = 1;
            fprintf(out, "<tr><td>%s</td><td>%" PRIu64 "</td><td>%.2f%%</td></tr>\n",
                    stats_err_name(cls), k, done ? 100.0 * (double)k / (double)done : 0.0);
        }
    }
    if (!any) {
        fputs("<tr><td colspan=\"3\">No request failed.</td></tr>\n", out);
    }
    fputs("</table></div></section>\n", out);
}

static void html_checks_thresholds(FILE *out, const stats_result *r) {
    size_t n = r->checks ? stats_endpoints_count(r->checks) : 0;

    if (n == 0 && r->threshold_count == 0) {
        return;
    }
    fputs("<section class=\"card\"><h2>Checks and thresholds</h2><div class=\"scroll\">", out);
    if (n > 0) {
        fputs("<table><tr><th>Check</th><th>Passes</th><th>Fails</th></tr>\n", out);
        for (size_t i = 0; i < n; i++) {
            const stats_endpoint *e = stats_endpoints_at(r->checks, i);

            fputs("<tr><td>", out);
            report_html_text(out, e->name);
            fprintf(out, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n", e->c.ok,
                    e->c.failed);
        }
        fputs("</table>\n", out);
    }
    if (r->threshold_count > 0) {
        fputs("<h3>Thresholds</h3><table><tr><th>Rule</th><th>Measured</th><th>Result</th>"
              "</tr>\n",
              out);
        for (size_t i = 0; i < r->threshold_count; i++) {
            const stats_threshold *t = &r->thresholds[i];

            fputs("<tr><td class=\"mono\">", out);
            report_html_text(out, t->expr);
            if (t->missing) {
                fputs("</td><td>no such endpoint</td><td>\xe2\x9c\x97 FAIL</td></tr>\n", out);
            } else {
                fprintf(out, "</td><td>%.6g</td><td>%s</td></tr>\n", t->value,
                        t->pass ? "\xe2\x9c\x93 pass" : "\xe2\x9c\x97 FAIL");
            }
        }
        fputs("</table>\n", out);
    }
    fputs("</div></section>\n", out);
}

static void html_dd(FILE *out, const char *term, const char *value) {
    fputs("<dt>", out);
    report_html_text(out, term);
    fputs("</dt><dd>", out);
    report_html_text(out, value);
    fputs("</dd>\n", out);
}

/* A header as the results file shows it: credentials replaced by "[redacted]". */
static void html_header_value(const char *h, char *buf, size_t len) {
    static const char *const secret[] = {"authorization", "proxy-authorization", "cookie"};
    const char *colon = strchr(h, ':'), *start = h, *end;

    snprintf(buf, len, "%s", h);
    if (!colon) {
        return;
    }
    while (start < colon && (*start == ' ' || *start == '\t')) {
        start++;
    }
    end = colon;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (strlen(secret[i]) == (size_t)(end - start) &&
            strncasecmp(start, secret[i], (size_t)(end - start)) == 0) {
            snprintf(buf, len, "%.*s: [redacted]", (int)(end - start), start);
        }
    }
}

static void html_config(FILE *out, const stats_result *r) {
    const stats_config *cf = &r->config;
    char buf[512];

    fputs("<section class=\"card\"><h2>Configuration</h2><dl>\n", out);
    html_dd(out, "URL", cf->url ? cf->url : "");
    html_dd(out, "Script", cf->script ? cf->script : "(none)");
    html_dd(out, "Mode", cf->mode ? cf->mode : "connections");
    snprintf(buf, sizeof(buf), "%d", cf->threads);
    html_dd(out, "Threads", buf);
    if (cf->users > 0) {
        snprintf(buf, sizeof(buf), "%u (peak reached %u), spawn rate %.4g/s", cf->users,
                 r->users_peak, cf->spawn_rate);
        html_dd(out, "Users", buf);
        html_dd(out, "Preset", cf->preset ? cf->preset : "(none)");
    } else {
        snprintf(buf, sizeof(buf), "%d", cf->connections);
        html_dd(out, "Connections", buf);
    }
    snprintf(buf, sizeof(buf), "%.3g s asked, %.3f s measured", (double)cf->duration_ms / 1000,
             r->duration_s);
    html_dd(out, "Duration", buf);
    if (cf->requests > 0) {
        snprintf(buf, sizeof(buf), "%" PRIu64, cf->requests);
        html_dd(out, "Request limit", buf);
    }
    snprintf(buf, sizeof(buf), "%" PRId64 " ms", cf->timeout_ms);
    html_dd(out, "Timeout", buf);
    snprintf(buf, sizeof(buf), "%" PRIu64 " bytes", cf->max_body_bytes);
    html_dd(out, "Body limit", buf);
    html_dd(out, "TLS verification", cf->tls_verify ? "on" : "off");
    for (size_t i = 0; i < cf->header_count && i < STATS_MAX_HEADERS; i++) {
        html_header_value(cf->headers[i] ? cf->headers[i] : "", buf, sizeof(buf));
        html_dd(out, i == 0 ? "Headers" : "", buf);
    }
    html_dd(out, "volley", r->version[0] ? r->version : "(unknown)");
    fputs("</dl></section>\n", out);
}

/* The whole page; see html.h. */
void report_html_page(FILE *out, const stats_result *r, double monthly_cost) {
    report_html_series s;
    char title[320];

    snprintf(title, sizeof(title), "volley report: %s", r->config.url ? r->config.url : "");
    report_html_begin(out, title);
    html_head_block(out, r);
    html_verdict_card(out, r, monthly_cost);
    html_tiles(out, r);
    fputs("<div class=\"charts\" style=\"margin-top:16px\">\n", out);
    if (report_html_series_build(&s, r) == 0) {
        html_time_charts(out, r, &s);
        report_html_series_free(&s);
    }
    html_dist_chart(out, r);
    fputs("</div>\n", out);
    html_endpoints(out, r);
    html_failures(out, r);
    html_checks_thresholds(out, r);
    html_config(out, r);
    report_html_end(out, r->version);
}

/* What report_html_write hands to its body function. */
typedef struct html_job {
    const stats_result *r;
    double monthly_cost;
} html_job;

static void html_page_body(FILE *out, const void *ctx) {
    const html_job *job = ctx;

    report_html_page(out, job->r, job->monthly_cost);
}

/* Writes the report of r to path; see html.h. */
int report_html_write(const stats_result *r, const char *path, double monthly_cost, char *err,
                      size_t err_len) {
    html_job job = {r, monthly_cost};

    return report_html_save(path, html_page_body, &job, err, err_len);
}

/* Writes a file through a temporary name; see html.h. */
int report_html_save(const char *path, void (*body)(FILE *, const void *), const void *ctx,
                     char *err, size_t err_len) {
    char tmp[4096];
    FILE *f = NULL;
    int fd, rc = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= sizeof(tmp)) {
        snprintf(err, err_len, "%s: name too long", path);
        return -ENAMETOOLONG;
    }
    if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0644) != 0 || !(f = fdopen(fd, "w"))) {
        rc = -errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(-rc));
        return rc;
    }
    errno = 0;
    body(f, ctx);
    if (ferror(f) | fclose(f)) {
        rc = -(errno ? errno : EIO);
    } else if (rename(tmp, path) != 0) {
        rc = -errno;
    }
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(-rc));
    }
    return rc;
}
