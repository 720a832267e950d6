/* options.c: reading a scenario's options table and its presets into C values. */
#include "script/options.h"

#include <stdio.h>
#include <string.h>
#include <lauxlib.h>

#include "util/units.h"

/* A duration field: a number of seconds or a string such as "5m". 1 when set, 0 when absent,
 * -1 when malformed. */
static int options_duration(lua_State *L, int t, const char *key, int64_t *ms) {
    int rc = 0;

    lua_getfield(L, t, key);
    if (lua_type(L, -1) == LUA_TNUMBER) {
        *ms = (int64_t)(lua_tonumber(L, -1) * 1000.0 + 0.5);
        rc = 1;
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        rc = units_parse_duration_ms(lua_tostring(L, -1), ms) < 0 ? -1 : 1;
    } else if (!lua_isnil(L, -1)) {
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

static int options_number(lua_State *L, int t, const char *key, double *v) {
    int rc = 0;

    lua_getfield(L, t, key);
    if (lua_type(L, -1) == LUA_TNUMBER) {
        *v = lua_tonumber(L, -1);
        rc = 1;
    } else if (!lua_isnil(L, -1)) {
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

static int options_stages(lua_State *L, int t, script_options *o, char *err, size_t err_len) {
    lua_getfield(L, t, "stages");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, err_len, "options.stages must be a list of {users = N, duration = \"30s\"}");
        lua_pop(L, 1);
        return -1;
    }
    o->stage_count = 0;
    for (int i = 1; i <= SCRIPT_MAX_STAGES; i++) {
        double users = 0;
        int64_t ms = 0;
        lua_rawgeti(L, -1, i);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        if (!lua_istable(L, -1) || options_number(L, lua_gettop(L), "users", &users) != 1 ||
            options_duration(L, lua_gettop(L), "duration", &ms) != 1 || users < 0) {
            snprintf(err, err_len, "options.stages[%d] must be {users = N, duration = \"30s\"}", i);
            lua_pop(L, 2);
            return -1;
        }
        o->stage_users[o->stage_count] = (uint32_t)users;
        o->stage_ms[o->stage_count] = ms;
        o->stage_count++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

static int options_thresholds(lua_State *L, int t, script_options *o) {
    lua_getfield(L, t, "thresholds");
    if (lua_istable(L, -1)) {
        o->threshold_count = 0;
        for (int i = 1; i <= SCRIPT_MAX_THRESHOLDS; i++) {
            lua_rawgeti(L, -1, i);
            if (!lua_isstring(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            /* The string stays alive: the options table holds it for the state's life. */
            o->thresholds[o->threshold_count++] = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return 0;
}

/* Reads the fields of the table at index t over what *o holds. */
static int options_overlay(lua_State *L, int t, script_options *o, const char *where, char *err,
                           size_t err_len) {
    double v;
    int rc;

    if ((rc = options_number(L, t, "users", &v)) < 0 || (rc == 1 && v < 0)) {
        goto bad;
    } else if (rc == 1) {
        o->users = (uint32_t)v;
        o->users_given = 1;
    }
    if ((rc = options_number(L, t, "spawn_rate", &v)) < 0) {
        goto bad;
    } else if (rc == 1) {
        o->spawn_rate = v;
        o->spawn_rate_given = 1;
    }
    if ((rc = options_number(L, t, "think_scale", &v)) < 0) {
        goto bad;
    } else if (rc == 1) {
        o->think_scale = v;
        o->think_scale_given = 1;
    }
    if ((rc = options_number(L, t, "seed", &v)) < 0) {
        goto bad;
    } else if (rc == 1) {
        o->seed = (uint64_t)v;
        o->seed_given = 1;
    }
    if ((rc = options_duration(L, t, "duration", &o->duration_ms)) < 0) {
        goto bad;
    }
    o->duration_given |= rc;
    if ((rc = options_duration(L, t, "timeout", &o->timeout_ms)) < 0) {
        goto bad;
    }
    o->timeout_given |= rc;
    if ((rc = options_duration(L, t, "stop_timeout", &o->stop_timeout_ms)) < 0) {
        goto bad;
    }
    o->stop_timeout_given |= rc;
    options_thresholds(L, t, o);
    lua_getfield(L, t, "verdict_bands");
    if (lua_isstring(L, -1)) {
        o->verdict_bands = lua_tostring(L, -1); /* alive while the options table is */
    }
    lua_pop(L, 1);
    return options_stages(L, t, o, err, err_len);
bad:
    snprintf(err, err_len, "%s has a value of the wrong type (users, spawn_rate, duration...)",
             where);
    return -1;
}

int script_options_read(lua_State *L, const char *preset, script_options *out, char *err,
                        size_t err_len) {
    int t;

    memset(out, 0, sizeof(*out));
    lua_getglobal(L, "options");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (preset) {
            snprintf(err, err_len, "--preset %s: the script has no options table", preset);
            return -1;
        }
        return 0;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, err_len, "options must be a table");
        lua_pop(L, 1);
        return -1;
    }
    t = lua_gettop(L);
    if (options_overlay(L, t, out, "options", err, err_len) < 0) {
        lua_settop(L, t - 1);
        return -1;
    }
    if (preset) {
        lua_getfield(L, t, "presets");
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, preset);
        } else {
            lua_pushnil(L);
        }
        if (!lua_istable(L, -1)) {
            snprintf(err, err_len, "--preset %s: no such preset in options.presets", preset);
            lua_settop(L, t - 1);
            return -1;
        }
        if (options_overlay(L, lua_gettop(L), out, "the preset", err, err_len) < 0) {
            lua_settop(L, t - 1);
            return -1;
        }
    }
    lua_settop(L, t - 1);
    return 0;
}
