/* series.c: the per-second series of a run, one point per second. */
#include "stats/stats.h"

#include <stdlib.h>

/* More seconds than this (about 194 days) is taken as a caller's bug: at() returns NULL. */
#define SERIES_MAX_SECONDS (1u << 24)

/* Points are allocated one by one so a pointer from stats_series_at stays valid as the array
 * of pointers grows. */
struct stats_series {
    stats_point **points;
    size_t len;
    size_t cap;
};

/* An empty series; NULL when out of memory. Free it with stats_series_free. */
stats_series *stats_series_new(void) {
    return calloc(1, sizeof(stats_series));
}

/* Frees s, its points and their histograms; NULL is accepted. */
void stats_series_free(stats_series *s) {
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->len; i++) {
        stats_hist_free(s->points[i]->latency);
        free(s->points[i]);
    }
    free(s->points);
    free(s);
}

/* Makes room for at least want point pointers; 0 or -1. */
static int series_reserve(stats_series *s, size_t want) {
    if (want <= s->cap) {
        return 0;
    }
    size_t cap = s->cap ? s->cap * 2 : 64;
    while (cap < want) {
        cap *= 2;
    }
    stats_point **p = realloc(s->points, cap * sizeof(*p));
    if (p == NULL) {
        return -1;
    }
    s->points = p;
    s->cap = cap;
    return 0;
}

/* Appends the point for the next second; 0 or -1. */
static int series_append(stats_series *s) {
    stats_point *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return -1;
    }
    p->latency = stats_hist_new();
    if (p->latency == NULL) {
        free(p);
        return -1;
    }
    p->second = (uint32_t)s->len;
    s->points[s->len++] = p;
    return 0;
}

/* The point for second, created with every missing point before it; NULL when out of memory
 * or past SERIES_MAX_SECONDS. The pointer stays valid until the series is freed. */
stats_point *stats_series_at(stats_series *s, uint32_t second) {
    if (second < s->len) {
        return s->points[second];
    }
    if (second >= SERIES_MAX_SECONDS || series_reserve(s, (size_t)second + 1) != 0) {
        return NULL;
    }
    while (s->len <= second) {
        if (series_append(s) != 0) {
            return NULL;
        }
    }
    return s->points[second];
}

/* Number of points, i.e. one more than the last second touched. */
size_t stats_series_len(const stats_series *s) {
    return s->len;
}

/* Adds src to dst second by second: users, counters and latency; dst grows to src's length
 * (points that cannot be allocated are skipped). */
void stats_series_merge(stats_series *dst, const stats_series *src) {
    for (size_t i = 0; i < src->len; i++) {
        const stats_point *from = src->points[i];
        stats_point *to = stats_series_at(dst, from->second);
        if (to == NULL) {
            continue;
        }
        to->users += from->users;
        stats_counters_add(&to->c, &from->c);
        stats_hist_merge(to->latency, from->latency);
        if (from->watched) {
            to->watched = 1;
            to->server_cpu_cores += from->server_cpu_cores;
            to->server_rss_bytes += from->server_rss_bytes;
        }
    }
}
