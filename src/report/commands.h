/* commands.h: `volley report` and `volley compare`, and the extra outputs of a run (-o). */
#ifndef VOLLEY_REPORT_COMMANDS_H
#define VOLLEY_REPORT_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

#include "report/verdict.h" /* report_verdict_print, report_verdict_set_bands */
#include "stats/result.h"

/* Exit codes of the two commands: done, or a usage error, an unreadable results file or an
 * output that could not be written (with one line on stderr saying which). */
#define REPORT_EXIT_OK 0
#define REPORT_EXIT_USAGE 2

/* What -o may name; "json" is accepted and means the results file, always written. */
#define REPORT_OUT_TEXT 1u
#define REPORT_OUT_JSON 2u
#define REPORT_OUT_CSV 4u
#define REPORT_OUT_HTML 8u

/* volley report FILE [-o text,csv,html] [--monthly-cost AMOUNT] [--latency] [--bands SPEC]:
 * renders a saved result again. argv[0] is "report". Returns an exit code. */
int report_cmd_report(int argc, char **argv);

/* volley compare A B ... [--noise P[,S]] [-o text,html]: runs side by side with changes
 * against A. argv[0] is "compare". Returns an exit code. */
int report_cmd_compare(int argc, char **argv);

/* Parses a comma list such as "html,csv" into REPORT_OUT_* bits. 0, or -EINVAL with the
 * unknown name in err. */
int report_outputs_parse(const char *formats, unsigned *mask, char *err, size_t err_len);

/* Parses --monthly-cost: a positive amount such as "20" or "49.50". 0, or -EINVAL with a
 * reason in err. */
int report_monthly_cost_parse(const char *text, double *amount, char *err, size_t err_len);

/*
 * Writes the csv and html outputs that formats names (text and json are left to the caller)
 * beside the results file: the prefix is json_path without its ".json" (json_path itself when
 * it has none), so a run saved as results/X.json gets results/X_stats.csv ... and
 * results/X.html. Returns 0, or a negative errno with a one-line reason in err.
 */
int report_outputs_write(const stats_result *r, const char *json_path, const char *formats,
                         double monthly_cost, char *err, size_t err_len);

#endif
