/* options.h: the `options` table of a user-style scenario, with a preset applied. */
#ifndef VOLLEY_SCRIPT_OPTIONS_H
#define VOLLEY_SCRIPT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

#define SCRIPT_MAX_THRESHOLDS 32
#define SCRIPT_MAX_STAGES 32

/* A field is "given" when the script (or its preset) set it. Strings are owned by the Lua state. */
typedef struct script_options {
    uint32_t users;
    int users_given;
    double spawn_rate;
    int spawn_rate_given;
    int64_t duration_ms;
    int duration_given;
    int64_t timeout_ms;
    int timeout_given;
    int64_t stop_timeout_ms;
    int stop_timeout_given;
    double think_scale;
    int think_scale_given;
    uint64_t seed;
    int seed_given;
    const char *verdict_bands; /* options.verdict_bands, e.g. "success=99,95,80; avg=1s,2s,5s" */
    size_t threshold_count;
    const char *thresholds[SCRIPT_MAX_THRESHOLDS];
    int stage_count;
    uint32_t stage_users[SCRIPT_MAX_STAGES];
    int64_t stage_ms[SCRIPT_MAX_STAGES];
} script_options;

/* Reads the global `options` of L, then overlays options.presets[preset] when preset is not
 * NULL. 0, or -1 with a one-line reason in err (unknown preset, bad duration...). */
int script_options_read(lua_State *L, const char *preset, script_options *out, char *err,
                        size_t err_len);

#endif
