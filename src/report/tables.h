/* tables.h: the per-endpoint, failures, checks and thresholds tables of the text summary. */
#ifndef VOLLEY_REPORT_TABLES_H
#define VOLLEY_REPORT_TABLES_H

#include <stdio.h>

#include "stats/result.h"

/* Prints the tables that have rows: endpoints (when more than one, or in user mode), failures by
 * (name, reason), checks, thresholds. */
void report_tables_print(FILE *out, const stats_result *r);

#endif
