/* units.h: parsing durations ("1m30s", "250ms") and sizes ("64M", "512k") from the command line. */
#ifndef VOLLEY_UTIL_UNITS_H
#define VOLLEY_UTIL_UNITS_H

#include <stdint.h>

/* Parses a duration into milliseconds: a sequence of <number><unit> with units ms, s, m, h;
 * a bare number means seconds (as in wrk). 0 or -EINVAL. */
int units_parse_duration_ms(const char *s, int64_t *out_ms);

/* Parses a byte size: a number with an optional k, M, G (powers of 1024, optionally followed by
 * B or iB). 0 or -EINVAL. */
int units_parse_size(const char *s, uint64_t *out_bytes);

/* Parses a non-negative integer with an optional k or M (powers of 1000: "10k" requests).
 * 0 or -EINVAL. */
int units_parse_count(const char *s, uint64_t *out);

#endif
