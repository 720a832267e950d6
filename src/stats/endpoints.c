/* endpoints.c: per-endpoint figures in a hash table keyed by (method, name), capped in size. */
#include "stats/stats.h"

#include <stdlib.h>
#include <string.h>

#define OTHER_METHOD "*"
#define OTHER_NAME "(other)"

/* A row: the public part first, so a stats_endpoint pointer is also an ep_row pointer. */
typedef struct ep_row {
    stats_endpoint pub;
    size_t name_len;
    uint64_t hash;
} ep_row;

/*
 * Open addressing with linear probing over a power-of-two table of row indices (0 means empty,
 * otherwise index + 1), kept at most half full. Rows are allocated one by one and listed in
 * first-seen order, so pointers handed out stay valid while the table grows.
 */
struct stats_endpoints {
    size_t cap; /* distinct keys before "(other)" takes the rest */
    size_t keyed; /* rows counted against cap (all but "(other)" once the cap is reached) */
    ep_row **rows;
    size_t count;
    size_t rows_cap;
    uint32_t *slots;
    size_t slot_count;
    ep_row *other;
};

/* FNV-1a over the method, a separator that cannot occur in it, and the name. */
static uint64_t ep_hash(const char *method, const char *name, size_t name_len) {
    uint64_t h = 14695981039346656037ULL;

    for (const char *m = method; *m; m++) {
        h = (h ^ (unsigned char)*m) * 1099511628211ULL;
    }
    h = (h ^ 0xffu) * 1099511628211ULL;
    for (size_t i = 0; i < name_len; i++) {
        h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
    }
    return h;
}

/* An empty table that keeps at most cap distinct keys; NULL when out of memory. */
stats_endpoints *stats_endpoints_new(size_t cap) {
    stats_endpoints *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        return NULL;
    }
    t->cap = cap;
    t->slot_count = 16;
    t->slots = calloc(t->slot_count, sizeof(uint32_t));
    if (t->slots == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

static void ep_row_free(ep_row *r) {
    free(r->pub.method);
    free(r->pub.name);
    stats_hist_free(r->pub.latency);
    free(r);
}

/* Frees t, its rows and their histograms; NULL is accepted. */
void stats_endpoints_free(stats_endpoints *t) {
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->count; i++) {
        ep_row_free(t->rows[i]);
    }
    free(t->rows);
    free(t->slots);
    free(t);
}

/* The slot holding (method, name), or the empty slot where it would go. */
static size_t ep_find(const stats_endpoints *t, uint64_t hash, const char *method, const char *name,
                      size_t name_len) {
    size_t mask = t->slot_count - 1;
    size_t i = (size_t)hash & mask;

    while (t->slots[i] != 0) {
        const ep_row *r = t->rows[t->slots[i] - 1];
        if (r->hash == hash && r->name_len == name_len && strcmp(r->pub.method, method) == 0 &&
            memcmp(r->pub.name, name, name_len) == 0) {
            return i;
        }
        i = (i + 1) & mask;
    }
    return i;
}

/* Doubles the slot table and re-inserts every row; 0 or -1. */
static int ep_grow_slots(stats_endpoints *t) {
    size_t n = t->slot_count * 2;
    uint32_t *slots = calloc(n, sizeof(uint32_t));

    if (slots == NULL) {
        return -1;
    }
    for (size_t r = 0; r < t->count; r++) {
        size_t i = (size_t)t->rows[r]->hash & (n - 1);
        while (slots[i] != 0) {
            i = (i + 1) & (n - 1);
        }
        slots[i] = (uint32_t)(r + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->slot_count = n;
    return 0;
}

/* Makes room for one more row in both the row list and the slot table; 0 or -1. */
static int ep_reserve(stats_endpoints *t) {
    if ((t->count + 1) * 2 > t->slot_count && ep_grow_slots(t) != 0) {
        return -1;
    }
    if (t->count < t->rows_cap) {
        return 0;
    }
    size_t n = t->rows_cap ? t->rows_cap * 2 : 16;
    ep_row **rows = realloc(t->rows, n * sizeof(*rows));
    if (rows == NULL) {
        return -1;
    }
    t->rows = rows;
    t->rows_cap = n;
    return 0;
}

/* A new row with copies of its key; NULL when out of memory. */
static ep_row *ep_row_new(const char *method, const char *name, size_t name_len, uint64_t hash) {
    ep_row *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        return NULL;
    }
    r->pub.method = strdup(method);
    r->pub.name = malloc(name_len + 1);
    r->pub.latency = stats_hist_new();
    if (!r->pub.method || !r->pub.name || !r->pub.latency) {
        ep_row_free(r);
        return NULL;
    }
    if (name_len > 0) {
        memcpy(r->pub.name, name, name_len);
    }
    r->pub.name[name_len] = '\0';
    r->name_len = name_len;
    r->hash = hash;
    return r;
}

/* The row for a key, created when missing regardless of the cap; NULL when out of memory. */
static ep_row *ep_get(stats_endpoints *t, const char *method, const char *name, size_t name_len,
                      int *created) {
    uint64_t hash = ep_hash(method, name, name_len);
    size_t i = ep_find(t, hash, method, name, name_len);

    *created = 0;
    if (t->slots[i] != 0) {
        return t->rows[t->slots[i] - 1];
    }
    if (ep_reserve(t) != 0) {
        return NULL;
    }
    ep_row *r = ep_row_new(method, name, name_len, hash);
    if (r == NULL) {
        return NULL;
    }
    i = ep_find(t, hash, method, name, name_len); /* the table may have grown */
    t->rows[t->count++] = r;
    t->slots[i] = (uint32_t)t->count;
    *created = 1;
    return r;
}

/* The "(other)" row that takes every key past the cap. */
static stats_endpoint *ep_other(stats_endpoints *t) {
    int created;

    if (t->other == NULL) {
        t->other = ep_get(t, OTHER_METHOD, OTHER_NAME, strlen(OTHER_NAME), &created);
    }
    return t->other ? &t->other->pub : NULL;
}

/* The row for (method, name[0..name_len)), created on first use, or the "(other)" row once cap
 * distinct keys exist; NULL only when out of memory. The table owns the row. */
stats_endpoint *stats_endpoints_get(stats_endpoints *t, const char *method, const char *name,
                                    size_t name_len) {
    int created;

    method = method ? method : "";
    name = name ? name : "";
    uint64_t hash = ep_hash(method, name, name_len);
    size_t i = ep_find(t, hash, method, name, name_len);
    if (t->slots[i] != 0) {
        return &t->rows[t->slots[i] - 1]->pub;
    }
    if (t->keyed >= t->cap) {
        return ep_other(t);
    }
    ep_row *r = ep_get(t, method, name, name_len, &created);
    if (r == NULL) {
        return NULL;
    }
    t->keyed += created;
    return &r->pub;
}

/* Adds src's rows to dst by key, in src's order; keys past dst's cap go to dst's "(other)". */
void stats_endpoints_merge(stats_endpoints *dst, const stats_endpoints *src) {
    for (size_t i = 0; i < src->count; i++) {
        const ep_row *from = src->rows[i];
        stats_endpoint *to;
        if (from == src->other) {
            to = ep_other(dst);
        } else {
            to = stats_endpoints_get(dst, from->pub.method, from->pub.name, from->name_len);
        }
        if (to == NULL) {
            continue;
        }
        stats_counters_add(&to->c, &from->pub.c);
        stats_hist_merge(to->latency, from->pub.latency);
    }
}

/* Number of rows, "(other)" included. */
size_t stats_endpoints_count(const stats_endpoints *t) {
    return t->count;
}

/* Row i in first-seen order; i < stats_endpoints_count. */
stats_endpoint *stats_endpoints_at(const stats_endpoints *t, size_t i) {
    return &t->rows[i]->pub;
}
