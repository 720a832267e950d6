/* units.c: parsing durations and sizes given on the command line. */
#include "util/units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int units_parse_duration_ms(const char *s, int64_t *out_ms) {
    double total_ms = 0;
    const char *p = s;

    if (!s || !*s) {
        return -EINVAL;
    }
    while (*p) {
        char *end;
        double v;
        double scale;

        if (*p < '0' || *p > '9') {
            if (*p != '.') {
                return -EINVAL;
            }
        }
        v = strtod(p, &end);
        if (end == p || v < 0) {
            return -EINVAL;
        }
        p = end;
        if (strncmp(p, "ms", 2) == 0) {
            scale = 1;
            p += 2;
        } else if (*p == 's') {
            scale = 1000;
            p++;
        } else if (*p == 'm') {
            scale = 60 * 1000;
            p++;
        } else if (*p == 'h') {
            scale = 3600 * 1000;
            p++;
        } else if (*p == '\0' && p == end && total_ms == 0) {
            scale = 1000; /* a bare number is seconds */
        } else {
            return -EINVAL;
        }
        total_ms += v * scale;
    }
    if (total_ms > 1e12) {
        return -EINVAL;
    }
    *out_ms = (int64_t)(total_ms + 0.5);
    return 0;
}

static int units_parse_scaled(const char *s, uint64_t *out, double base, int allow_b) {
    char *end;
    double v, scale = 1;

    if (!s || *s < '0' || *s > '9') {
        return -EINVAL;
    }
    v = strtod(s, &end);
    switch (*end) {
        case 'k':
        case 'K':
            scale = base;
            end++;
            break;
        case 'M':
        case 'm':
            scale = base * base;
            end++;
            break;
        case 'G':
        case 'g':
            scale = base * base * base;
            end++;
            break;
        default:
            break;
    }
    if (allow_b && (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0 || strcmp(end, "b") == 0)) {
        end += strlen(end);
    }
    if (*end != '\0' || v * scale > 1.8e19) {
        return -EINVAL;
    }
    *out = (uint64_t)(v * scale + 0.5);
    return 0;
}

int units_parse_size(const char *s, uint64_t *out_bytes) {
    return units_parse_scaled(s, out_bytes, 1024, 1);
}

int units_parse_count(const char *s, uint64_t *out) {
    return units_parse_scaled(s, out, 1000, 0);
}
