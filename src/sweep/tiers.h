/* tiers.h: the hosting tiers of the guide (vCPU, memory, monthly cost) as data, with overrides. */
#ifndef VOLLEY_SWEEP_TIERS_H
#define VOLLEY_SWEEP_TIERS_H

#include <stddef.h>
#include <stdint.h>

#define TIERS_MAX 16
#define TIERS_NAME_MAX 32

/* One tier: what it gives a server and what it costs a month (negative when unknown). */
typedef struct {
    char name[TIERS_NAME_MAX];
    double cpus;
    uint64_t memory_bytes;
    double monthly_cost;
} tiers_tier;

/* A table of tiers, in the order they were defined (the guide's order first). */
typedef struct {
    tiers_tier items[TIERS_MAX];
    size_t count;
} tiers_table;

/* Fills t with the guide's tiers: basic 0.25 vCPU / 1G, boosted 0.5 / 2G, reserved 1 / 4G,
 * premium 2 / 8G, with unknown costs. */
void tiers_defaults(tiers_table *t);

/* The tier named name (ASCII case-insensitive), or NULL. The pointer lives as long as t. */
const tiers_tier *tiers_find(const tiers_table *t, const char *name);

/* Applies overrides "name=CPUS:MEM,..." (e.g. "basic=0.25:1G,custom=1.5:3G"): a known name is
 * changed, a new one is added at the end. 0, or -EINVAL / -ENOSPC with a sentence in err; t is
 * left unchanged on error. */
int tiers_parse_overrides(tiers_table *t, const char *spec, char *err, size_t err_len);

/* Applies monthly costs "name=COST,..." (e.g. "basic=7,boosted=12") to tiers of t. 0, or
 * -EINVAL (bad syntax) / -ENOENT (no such tier) with a sentence in err; t unchanged on error. */
int tiers_parse_costs(tiers_table *t, const char *spec, char *err, size_t err_len);

/* Resolves a comma-separated list of tier names into out (at most cap entries, pointers into t).
 * Returns the number found, or -ENOENT / -EINVAL / -ENOSPC with a sentence in err. */
int tiers_select(const tiers_table *t, const char *names, const tiers_tier **out, size_t cap,
                 char *err, size_t err_len);

/* Parses a CPU count: a positive decimal number such as 0.25 or 2, at most 1024. 0 or -EINVAL. */
int tiers_parse_cpus(const char *s, double *out_cpus);

/* Parses a memory size: a number with k, M or G (powers of 1024), at least 1M. 0 or -EINVAL. */
int tiers_parse_memory(const char *s, uint64_t *out_bytes);

/* Writes a memory size the way a user would type it ("1G", "64M", "1.5G", "300k") into buf. */
void tiers_format_memory(uint64_t bytes, char *buf, size_t len);

#endif
