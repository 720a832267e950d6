/* csv.h: a run as Locust's CSV files, with Locust's names and columns, for tools built for it. */
#ifndef VOLLEY_REPORT_CSV_H
#define VOLLEY_REPORT_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "stats/result.h"

/*
 * Writes <prefix>_stats.csv, <prefix>_stats_history.csv, <prefix>_failures.csv and
 * <prefix>_exceptions.csv, each whole or not at all (temporary file, then rename). Returns 0,
 * or a negative errno with a one-line reason in err.
 */
int report_csv_write(const stats_result *r, const char *prefix, char *err, size_t err_len);

/* The body of each file, for callers that want it elsewhere. Counts are of completed requests
 * (ok + failed), as Locust counts them; times are in ms. */
void report_csv_stats(FILE *out, const stats_result *r);
void report_csv_history(FILE *out, const stats_result *r);
void report_csv_failures(FILE *out, const stats_result *r);
void report_csv_exceptions(FILE *out, const stats_result *r);

#endif
