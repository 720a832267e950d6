/* format.c: short human renderings of durations, byte sizes and counts, in wrk's style. */
#include "report/format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * Scales n down through units[] while it is at least `step` times the current unit. The
 * rounding check keeps 999.999us from printing as "1000.00us" instead of "1.00ms".
 */
static char *format_scaled(double n, const double *steps, const char *const *units, size_t count,
                           char *buf, size_t len) {
    size_t i = 0;

    if (!isfinite(n) || n < 0) {
        n = 0;
    }
    while (i + 1 < count && round(n * 100) / 100 >= steps[i]) {
        n /= steps[i];
        i++;
    }
    snprintf(buf, len, "%.2f%s", n, units[i]);
    return buf;
}

/* Renders a duration in microseconds as "631.00us", "1.23ms", "10.00s", "1.50m" or "2.00h". */
char *report_format_duration_us(double us, char *buf, size_t len) {
    static const double steps[] = {1000, 1000, 60, 60};
    static const char *const units[] = {"us", "ms", "s", "m", "h"};

    return format_scaled(us, steps, units, 5, buf, len);
}

/* Renders a byte count in powers of 1024: "512.00B", "12.34MB", "1.23GB". */
char *report_format_bytes(double bytes, char *buf, size_t len) {
    static const double steps[] = {1024, 1024, 1024, 1024, 1024};
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};

    return format_scaled(bytes, steps, units, 6, buf, len);
}

/* Renders a count in powers of 1000: "80.12", "80.12k", "1.50M". */
char *report_format_count(double n, char *buf, size_t len) {
    static const double steps[] = {1000, 1000, 1000, 1000};
    static const char *const units[] = {"", "k", "M", "G", "T"};

    return format_scaled(n, steps, units, 5, buf, len);
}

/* Renders a configured run length in the largest unit that divides it: "10s", "5m", "1500ms". */
char *report_format_span_ms(int64_t ms, char *buf, size_t len) {
    if (ms > 0 && ms % 3600000 == 0) {
        snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
    } else if (ms > 0 && ms % 60000 == 0) {
        snprintf(buf, len, "%" PRId64 "m", ms / 60000);
    } else if (ms > 0 && ms % 1000 == 0) {
        snprintf(buf, len, "%" PRId64 "s", ms / 1000);
    } else {
        snprintf(buf, len, "%" PRId64 "ms", ms);
    }
    return buf;
}

/* Renders a percentile as its shortest decimal up to two places: "50", "99.9", "99.99". */
char *report_format_percent_label(double p, char *buf, size_t len) {
    size_t n;

    snprintf(buf, len, "%.2f", p);
    n = strlen(buf);
    while (n > 0 && buf[n - 1] == '0' && strchr(buf, '.')) {
        buf[--n] = '\0';
    }
    if (n > 0 && buf[n - 1] == '.') {
        buf[--n] = '\0';
    }
    return buf;
}
