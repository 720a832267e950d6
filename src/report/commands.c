/* commands.c: `volley report` and `volley compare`, and the extra outputs of a run (-o). */
#include "report/commands.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare.h"
#include "report/csv.h"
#include "report/html.h"
#include "report/json.h"
#include "report/summary.h"
#include "report/tables.h"

static const char cmd_report_usage[] =
    "Usage: volley report FILE [options]\n"
    "Renders a saved result (results/*.json) again.\n"
    "  -o, --output FMT        text, csv, html, comma-separated (default text); csv and html\n"
    "                          files go beside FILE: X_stats.csv, X_stats_history.csv,\n"
    "                          X_failures.csv, X_exceptions.csv, X.html\n"
    "      --monthly-cost N    adds the cost per user to the verdict (N per month)\n"
    "      --latency           prints the latency percentile table\n"
    "      --bands SPEC        grades with other bands, e.g. \"success=99,95,80; avg=1s,2s,5s;\n"
    "                          max=1s,3s,5s; 5xx=0,0.1,1\" (default: the bands the run used)\n"
    "Exit codes: 0 done, 2 usage error, unreadable FILE or unwritable output.\n";

static const char cmd_compare_usage[] =
    "Usage: volley compare A.json B.json [more.json ...] [options]\n"
    "Lines saved runs up by endpoint with changes against the first.\n"
    "      --noise P[,S]       changes within P% (rates, percentiles; default 10) or S points\n"
    "                          (success; default 1) get no mark\n"
    "  -o, --output FMT        text, html or both (default text); html goes beside A as\n"
    "                          A_compare.html\n"
    "Exit codes: 0 done, 2 usage error, unreadable file or unwritable output.\n";

static int cmd_fail(const char *cmd, const char *msg) {
    fprintf(stderr, "volley %s: %s\n", cmd, msg);
    return REPORT_EXIT_USAGE;
}

/* The value of an option at argv[*i]: "-o X", "-oX", "--output X" or "--output=X". NULL when
 * argv[*i] is not this option; *missing is set when the option is there without a value. */
static const char *cmd_option(int argc, char **argv, int *i, const char *shrt, const char *lng,
                              int *missing) {
    const char *a = argv[*i];
    size_t ll = strlen(lng);

    if ((shrt && strcmp(a, shrt) == 0) || strcmp(a, lng) == 0) {
        if (*i + 1 >= argc) {
            *missing = 1;
            return NULL;
        }
        return argv[++*i];
    }
    if (strncmp(a, lng, ll) == 0 && a[ll] == '=') {
        return a + ll + 1;
    }
    if (shrt && strncmp(a, shrt, strlen(shrt)) == 0 && a[strlen(shrt)] != '\0' && a[1] != '-') {
        return a + strlen(shrt);
    }
    return NULL;
}

/* Parses a format list; see commands.h. */
int report_outputs_parse(const char *formats, unsigned *mask, char *err, size_t err_len) {
    static const char *const names[] = {"text", "json", "csv", "html"};
    const char *p = formats ? formats : "";

    *mask = 0;
    while (*p) {
        size_t len = strcspn(p, ","), i;

        for (i = 0; i < 4; i++) {
            if (len == strlen(names[i]) && strncmp(p, names[i], len) == 0) {
                *mask |= 1u << i;
                break;
            }
        }
        if (i == 4 && len > 0) {
            snprintf(err, err_len, "unknown output '%.*s' (text, json, csv, html)", (int)len, p);
            return -EINVAL;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

/* Parses --monthly-cost; see commands.h. */
int report_monthly_cost_parse(const char *text, double *amount, char *err, size_t err_len) {
    char *end;
    double v = strtod(text ? text : "", &end);

    if (!text || end == text || *end != '\0' || !isfinite(v) || v <= 0) {
        snprintf(err, err_len, "--monthly-cost: '%s' is not a positive amount", text ? text : "");
        return -EINVAL;
    }
    *amount = v;
    return 0;
}

/* path without a trailing ".json". */
static void cmd_prefix(const char *json_path, char *buf, size_t len) {
    size_t n = strlen(json_path);

    if (n > 5 && strcmp(json_path + n - 5, ".json") == 0) {
        n -= 5;
    }
    snprintf(buf, len, "%.*s", (int)n, json_path);
}

/* Writes csv and html beside the results file; see commands.h. */
int report_outputs_write(const stats_result *r, const char *json_path, const char *formats,
                         double monthly_cost, char *err, size_t err_len) {
    char prefix[4096], path[4200];
    stats_result saved = *r;
    unsigned mask;
    int rc;

    if ((rc = report_outputs_parse(formats, &mask, err, err_len)) < 0) {
        return rc;
    }
    /* The results file keeps the duration to the microsecond; drawing from the same figure
     * makes `volley report` give back these files byte for byte. The copy shares r's tables. */
    saved.duration_s = round(r->duration_s * 1e6) / 1e6;
    cmd_prefix(json_path, prefix, sizeof(prefix));
    if ((mask & REPORT_OUT_CSV) && (rc = report_csv_write(&saved, prefix, err, err_len)) < 0) {
        return rc;
    }
    if (mask & REPORT_OUT_HTML) {
        snprintf(path, sizeof(path), "%s.html", prefix);
        return report_html_write(&saved, path, monthly_cost, err, err_len);
    }
    return 0;
}

/* Uses the bands a results file recorded, so a report grades as the run did. */
static void cmd_bands_from_file(const char *path) {
    report_verdict_bands b;
    json_t *doc = json_load_file(path, 0, NULL);

    if (doc && report_verdict_bands_from_json(json_object_get(doc, "verdict"), &b) == 0) {
        report_verdict_set_bands(&b);
    }
    json_decref(doc);
}

typedef struct cmd_report_args {
    const char *file;
    const char *formats;
    const char *bands;
    double monthly_cost;
    int latency;
    int help;
} cmd_report_args;

static int cmd_report_parse(int argc, char **argv, cmd_report_args *a, char *err, size_t len) {
    memset(a, 0, sizeof(*a));
    a->formats = "text";
    for (int i = 1; i < argc; i++) {
        const char *v, *cost;
        int missing = 0;

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            a->help = 1;
        } else if (strcmp(argv[i], "--latency") == 0) {
            a->latency = 1;
        } else if ((v = cmd_option(argc, argv, &i, "-o", "--output", &missing)) != NULL) {
            a->formats = v;
        } else if ((v = cmd_option(argc, argv, &i, NULL, "--bands", &missing)) != NULL) {
            a->bands = v;
        } else if ((cost = cmd_option(argc, argv, &i, NULL, "--monthly-cost", &missing))) {
            if (report_monthly_cost_parse(cost, &a->monthly_cost, err, len) < 0) {
                return -EINVAL;
            }
        } else if (missing) {
            snprintf(err, len, "%s needs a value", argv[i]);
            return -EINVAL;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            snprintf(err, len, "unknown option '%s' (see volley report --help)", argv[i]);
            return -EINVAL;
        } else if (a->file) {
            snprintf(err, len, "one results file at a time (got '%s' and '%s')", a->file, argv[i]);
            return -EINVAL;
        } else {
            a->file = argv[i];
        }
    }
    if (!a->help && !a->file) {
        snprintf(err, len, "no results file given (usage: volley report FILE [-o text,csv,html])");
        return -EINVAL;
    }
    return 0;
}

static void cmd_report_text(const stats_result *r, const cmd_report_args *a) {
    report_summary_print(stdout, r, a->latency);
    report_tables_print(stdout, r);
    if (r->script_errors) {
        char line[256];

        snprintf(line, sizeof(line), "%s", r->script_error);
        line[strcspn(line, "\n")] = '\0';
        printf("  Script errors: %llu, first: %s\n", (unsigned long long)r->script_errors, line);
    }
    report_verdict_print(stdout, r, a->monthly_cost);
}

/* volley report; see commands.h. */
int report_cmd_report(int argc, char **argv) {
    cmd_report_args a;
    stats_result r;
    report_verdict_bands bands;
    char err[512], prefix[4096];
    unsigned mask;
    int rc = REPORT_EXIT_OK;

    if (cmd_report_parse(argc, argv, &a, err, sizeof(err)) < 0 ||
        report_outputs_parse(a.formats, &mask, err, sizeof(err)) < 0) {
        return cmd_fail("report", err);
    }
    if (a.help) {
        fputs(cmd_report_usage, stdout);
        return REPORT_EXIT_OK;
    }
    report_verdict_default_bands(&bands);
    if (a.bands &&
        (report_verdict_parse_bands(a.bands, &bands, err, sizeof(err)) < 0 ||
         report_verdict_set_bands(&bands) < 0)) {
        return cmd_fail("report", err);
    }
    if (report_json_read(a.file, &r, err, sizeof(err)) < 0) {
        return cmd_fail("report", err);
    }
    if (!a.bands) {
        cmd_bands_from_file(a.file);
    }
    if (mask & REPORT_OUT_TEXT) {
        cmd_report_text(&r, &a);
    }
    if (report_outputs_write(&r, a.file, a.formats, a.monthly_cost, err, sizeof(err)) < 0) {
        rc = cmd_fail("report", err);
    } else {
        cmd_prefix(a.file, prefix, sizeof(prefix));
        if (mask & REPORT_OUT_CSV) {
            printf("CSV: %s_stats.csv, %s_stats_history.csv, %s_failures.csv, "
                   "%s_exceptions.csv\n",
                   prefix, prefix, prefix, prefix);
        }
        if (mask & REPORT_OUT_HTML) {
            printf("Report: %s.html\n", prefix);
        }
    }
    stats_result_free(&r);
    return rc;
}

/* ---- compare ---- */

typedef struct cmd_compare_args {
    const char **files;
    size_t count;
    const char *formats;
    report_compare_noise noise;
    int help;
} cmd_compare_args;

static int cmd_compare_parse(int argc, char **argv, cmd_compare_args *a, char *err, size_t len) {
    a->count = 0;
    a->formats = "text";
    a->help = 0;
    a->noise.rel_pct = REPORT_COMPARE_NOISE_PCT;
    a->noise.success_pts = REPORT_COMPARE_NOISE_SUCCESS_PTS;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing = 0;

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            a->help = 1;
        } else if ((v = cmd_option(argc, argv, &i, "-o", "--output", &missing)) != NULL) {
            a->formats = v;
        } else if ((v = cmd_option(argc, argv, &i, NULL, "--noise", &missing)) != NULL) {
            if (report_compare_parse_noise(v, &a->noise, err, len) < 0) {
                return -EINVAL;
            }
        } else if (missing) {
            snprintf(err, len, "%s needs a value", argv[i]);
            return -EINVAL;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            snprintf(err, len, "unknown option '%s' (see volley compare --help)", argv[i]);
            return -EINVAL;
        } else {
            a->files[a->count++] = argv[i];
        }
    }
    if (!a->help && a->count < 2) {
        snprintf(err, len, "needs at least two results files (usage: volley compare A B ...)");
        return -EINVAL;
    }
    return 0;
}

/* Reads every file; 0, or -1 after saying which one could not be read. */
static int cmd_compare_read(const cmd_compare_args *a, stats_result *runs, size_t *read) {
    char err[512];

    for (*read = 0; *read < a->count; (*read)++) {
        if (report_json_read(a->files[*read], &runs[*read], err, sizeof(err)) < 0) {
            cmd_fail("compare", err);
            return -1;
        }
    }
    return 0;
}

/* What the compare page's body function is handed. */
typedef struct cmd_compare_page {
    const stats_result *runs;
    const cmd_compare_args *a;
} cmd_compare_page;

static void cmd_compare_body(FILE *out, const void *ctx) {
    const cmd_compare_page *page = ctx;

    report_compare_html(out, page->runs, page->a->files, page->a->count, &page->a->noise);
}

static int cmd_compare_outputs(const cmd_compare_args *a, const stats_result *runs, unsigned mask) {
    cmd_compare_page page = {runs, a};
    char err[512], prefix[4096], path[4200];

    if (mask & REPORT_OUT_TEXT) {
        report_compare_print(stdout, runs, a->files, a->count, &a->noise,
                             report_verdict_utf8(stdout));
    }
    if (mask & REPORT_OUT_HTML) {
        cmd_prefix(a->files[0], prefix, sizeof(prefix));
        snprintf(path, sizeof(path), "%s_compare.html", prefix);
        if (report_html_save(path, cmd_compare_body, &page, err, sizeof(err)) < 0) {
            return cmd_fail("compare", err);
        }
        printf("Report: %s\n", path);
    }
    return REPORT_EXIT_OK;
}

/* volley compare; see commands.h. */
int report_cmd_compare(int argc, char **argv) {
    cmd_compare_args a;
    stats_result *runs;
    char err[512];
    unsigned mask;
    size_t read = 0;
    int rc;

    a.files = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*a.files));
    if (!a.files) {
        return cmd_fail("compare", "out of memory");
    }
    if (cmd_compare_parse(argc, argv, &a, err, sizeof(err)) < 0 ||
        report_outputs_parse(a.formats, &mask, err, sizeof(err)) < 0) {
        free(a.files);
        return cmd_fail("compare", err);
    }
    if (a.help) {
        fputs(cmd_compare_usage, stdout);
        free(a.files);
        return REPORT_EXIT_OK;
    }
    if (!(runs = calloc(a.count, sizeof(*runs)))) {
        free(a.files);
        return cmd_fail("compare", "out of memory");
    }
    rc = cmd_compare_read(&a, runs, &read) < 0 ? REPORT_EXIT_USAGE
                                               : cmd_compare_outputs(&a, runs, mask);
    for (size_t i = 0; i < read; i++) {
        stats_result_free(&runs[i]);
    }
    free(runs);
    free(a.files);
    return rc;
}
