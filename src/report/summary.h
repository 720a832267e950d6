/* summary.h: the end-of-run text summary, laid out like wrk's so existing greps keep working. */
#ifndef VOLLEY_REPORT_SUMMARY_H
#define VOLLEY_REPORT_SUMMARY_H

#include <stdio.h>

#include "stats/result.h"

/* Prints the summary of r to out: wrk's header, thread stats and totals lines (with the
 * percentile table when show_latency_table), then volley's error, in-flight and TLS lines. */
void report_summary_print(FILE *out, const stats_result *r, int show_latency_table);

#endif
