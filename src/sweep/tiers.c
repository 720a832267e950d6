/* tiers.c: the guide's hosting tiers, lookups by name, and the override and cost parsers. */
#include "sweep/tiers.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/units.h"

/* Longest override or cost list accepted; TIERS_MAX entries fit in it many times over. */
#define TIERS_SPEC_MAX 2048

#define TIERS_GIB (1024ULL * 1024 * 1024)

void tiers_defaults(tiers_table *t) {
    static const struct {
        const char *name;
        double cpus;
        uint64_t gib;
    } guide[] = {{"basic", 0.25, 1}, {"boosted", 0.5, 2}, {"reserved", 1, 4}, {"premium", 2, 8}};
    size_t i;

    memset(t, 0, sizeof(*t));
    for (i = 0; i < sizeof(guide) / sizeof(guide[0]); i++) {
        snprintf(t->items[i].name, sizeof(t->items[i].name), "%s", guide[i].name);
        t->items[i].cpus = guide[i].cpus;
        t->items[i].memory_bytes = guide[i].gib * TIERS_GIB;
        t->items[i].monthly_cost = -1;
    }
    t->count = i;
}

const tiers_tier *tiers_find(const tiers_table *t, const char *name) {
    size_t i;

    for (i = 0; i < t->count; i++) {
        if (strcasecmp(t->items[i].name, name) == 0) {
            return &t->items[i];
        }
    }
    return NULL;
}

int tiers_parse_cpus(const char *s, double *out_cpus) {
    char *end;
    double v;

    if (!s || !(isdigit((unsigned char)*s) || *s == '.')) {
        return -EINVAL;
    }
    v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0) || v > 1024) {
        return -EINVAL;
    }
    *out_cpus = v;
    return 0;
}

int tiers_parse_memory(const char *s, uint64_t *out_bytes) {
    uint64_t v;

    if (units_parse_size(s, &v) < 0 || v < 1024 * 1024) {
        return -EINVAL;
    }
    *out_bytes = v;
    return 0;
}

void tiers_format_memory(uint64_t bytes, char *buf, size_t len) {
    static const char units[] = "kMGT";
    double v = (double)bytes;
    int u = -1;

    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    if (u < 0) {
        snprintf(buf, len, "%llu", (unsigned long long)bytes);
    } else if (v == (double)(uint64_t)v) {
        snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
    } else {
        snprintf(buf, len, "%.3g%c", v, units[u]);
    }
}

/* A tier name is 1..TIERS_NAME_MAX-1 letters, digits, '_' or '-'. */
static int tiers_name_ok(const char *name) {
    size_t n = strlen(name), i;

    if (n == 0 || n >= TIERS_NAME_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-') {
            return 0;
        }
    }
    return 1;
}

/* Copies spec into buf for tokenising; -EINVAL when it is empty or too long. */
static int tiers_copy_spec(const char *spec, char *buf, size_t len, const char *what, char *err,
                           size_t err_len) {
    if (!spec || !*spec) {
        snprintf(err, err_len, "empty %s", what);
        return -EINVAL;
    }
    if (strlen(spec) >= len) {
        snprintf(err, err_len, "%s longer than %zu characters", what, len - 1);
        return -EINVAL;
    }
    memcpy(buf, spec, strlen(spec) + 1);
    return 0;
}

/* Splits "name=value" in place; -EINVAL with a sentence when either side is missing or bad. */
static int tiers_split_item(char *item, char **name, char **value, const char *form, char *err,
                            size_t err_len) {
    char *eq = strchr(item, '=');

    if (!eq) {
        snprintf(err, err_len, "'%s' is not %s", item, form);
        return -EINVAL;
    }
    *eq = '\0';
    *name = item;
    *value = eq + 1;
    if (!tiers_name_ok(*name)) {
        snprintf(err, err_len, "'%s' is not a tier name (letters, digits, '_' and '-', 1 to %d)",
                 *name, TIERS_NAME_MAX - 1);
        return -EINVAL;
    }
    return 0;
}

/* Applies one "CPUS:MEM" value to the tier called name in t, adding it when new. */
static int tiers_apply_override(tiers_table *t, const char *name, char *value, char *err,
                                size_t err_len) {
    char *colon = strchr(value, ':');
    tiers_tier *tier = (tiers_tier *)tiers_find(t, name);
    double cpus;
    uint64_t mem;

    if (!colon) {
        snprintf(err, err_len, "tier %s: '%s' is not CPUS:MEMORY (e.g. 0.5:2G)", name, value);
        return -EINVAL;
    }
    *colon = '\0';
    if (tiers_parse_cpus(value, &cpus) < 0) {
        snprintf(err, err_len, "tier %s: '%s' is not a CPU count (e.g. 0.25)", name, value);
        return -EINVAL;
    }
    if (tiers_parse_memory(colon + 1, &mem) < 0) {
        snprintf(err, err_len, "tier %s: '%s' is not a memory size of 1M or more (e.g. 512M)", name,
                 colon + 1);
        return -EINVAL;
    }
    if (!tier) {
        if (t->count >= TIERS_MAX) {
            snprintf(err, err_len, "more than %d tiers", TIERS_MAX);
            return -ENOSPC;
        }
        tier = &t->items[t->count++];
        snprintf(tier->name, sizeof(tier->name), "%s", name);
        tier->monthly_cost = -1;
    }
    tier->cpus = cpus;
    tier->memory_bytes = mem;
    return 0;
}

int tiers_parse_overrides(tiers_table *t, const char *spec, char *err, size_t err_len) {
    char buf[TIERS_SPEC_MAX];
    tiers_table work = *t;
    char *save = NULL, *item, *name, *value;
    int rc;

    rc = tiers_copy_spec(spec, buf, sizeof(buf), "tier list", err, err_len);
    if (rc < 0) {
        return rc;
    }
    for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        rc = tiers_split_item(item, &name, &value, "NAME=CPUS:MEMORY (e.g. basic=0.25:1G)", err,
                              err_len);
        if (rc == 0) {
            rc = tiers_apply_override(&work, name, value, err, err_len);
        }
        if (rc < 0) {
            return rc;
        }
    }
    *t = work;
    return 0;
}

int tiers_parse_costs(tiers_table *t, const char *spec, char *err, size_t err_len) {
    char buf[TIERS_SPEC_MAX];
    tiers_table work = *t;
    char *save = NULL, *item, *name, *value, *end;
    tiers_tier *tier;
    double cost;
    int rc;

    rc = tiers_copy_spec(spec, buf, sizeof(buf), "cost list", err, err_len);
    if (rc < 0) {
        return rc;
    }
    for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        rc = tiers_split_item(item, &name, &value, "NAME=COST (e.g. basic=7)", err, err_len);
        if (rc < 0) {
            return rc;
        }
        cost = strtod(value, &end);
        if (!isdigit((unsigned char)*value) || *end != '\0' || !(cost >= 0) || cost > 1e9) {
            snprintf(err, err_len, "tier %s: '%s' is not a monthly cost (e.g. 7 or 12.50)", name,
                     value);
            return -EINVAL;
        }
        tier = (tiers_tier *)tiers_find(&work, name);
        if (!tier) {
            snprintf(err, err_len, "no tier named %s", name);
            return -ENOENT;
        }
        tier->monthly_cost = cost;
    }
    *t = work;
    return 0;
}

int tiers_select(const tiers_table *t, const char *names, const tiers_tier **out, size_t cap,
                 char *err, size_t err_len) {
    char buf[TIERS_SPEC_MAX];
    char *save = NULL, *item;
    size_t n = 0;
    int rc;

    rc = tiers_copy_spec(names, buf, sizeof(buf), "tier list", err, err_len);
    if (rc < 0) {
        return rc;
    }
    for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        const tiers_tier *tier = tiers_find(t, item);

        if (!tier) {
            snprintf(err, err_len, "no tier named %s", item);
            return -ENOENT;
        }
        if (n >= cap) {
            snprintf(err, err_len, "more than %zu tiers", cap);
            return -ENOSPC;
        }
        out[n++] = tier;
    }
    if (n == 0) {
        snprintf(err, err_len, "empty tier list");
        return -EINVAL;
    }
    return (int)n;
}
