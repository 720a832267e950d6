/* threshold.h: pass/fail rules over a run, e.g. "p95 < 2s", "success >= 95%". */
#ifndef VOLLEY_REPORT_THRESHOLD_H
#define VOLLEY_REPORT_THRESHOLD_H

#include <stddef.h>

#include "stats/result.h"

/* Checks that expr is a rule volley understands. 0, or -1 with a one-line reason in err. */
int report_threshold_parse(const char *expr, char *err, size_t err_len);

/* Evaluates each rule against r and stores the outcomes in r->thresholds. Returns how many
 * rules were broken. Rules must have passed report_threshold_parse. */
int report_thresholds_eval(stats_result *r, const char *const *exprs, size_t count);

#endif
