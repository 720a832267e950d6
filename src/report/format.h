/* format.h: short human renderings of durations, byte sizes and counts, in wrk's style. */
#ifndef VOLLEY_REPORT_FORMAT_H
#define VOLLEY_REPORT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Writes a duration given in microseconds with two decimals and the largest fitting unit:
 * "631.00us", "1.23ms", "10.00s", "1.50m", "2.00h". Returns buf. */
char *report_format_duration_us(double us, char *buf, size_t len);

/* Writes a byte count with two decimals in binary units: "512.00B", "12.34MB", "1.23GB".
 * Returns buf. */
char *report_format_bytes(double bytes, char *buf, size_t len);

/* Writes a plain quantity with two decimals and a decimal suffix: "80.12", "80.12k", "1.50M".
 * Returns buf. */
char *report_format_count(double n, char *buf, size_t len);

/* Writes a configured run length without decimals when it is whole: "10s", "5m", "1h",
 * "1500ms". Returns buf. */
char *report_format_span_ms(int64_t ms, char *buf, size_t len);

/* Writes a percentile label without trailing zeros: 50 -> "50", 99.9 -> "99.9". Returns buf. */
char *report_format_percent_label(double p, char *buf, size_t len);

#endif
