/* tstore.c: accounts, HMAC-signed tokens, scripts and parse jobs, shared by every worker. */
#include "target/tstore.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>
#include <mbedtls/md.h>
#include <uv.h>

#define TSTORE_MAX_ACCOUNTS 100000
#define TSTORE_PASSWORD_MAX 128
#define TSTORE_SECRET_BYTES 32
#define TSTORE_TOKEN_LIFE_S (30 * 24 * 3600)
#define TSTORE_LINES_PER_PAGE 55

typedef struct {
    tstore_user user;
    char password[TSTORE_PASSWORD_MAX];
} tstore_account;

static struct {
    pthread_mutex_t lock;
    uint8_t secret[TSTORE_SECRET_BYTES];
    tstore_account *accounts;
    int naccounts, cap_accounts;
    tstore_script *scripts;
    tstore_job *jobs;
    int nscripts, njobs, max_items;
} tstore_g = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Sets up an empty store holding at most max_items scripts (and as many jobs) and a fresh
 * token secret. Returns 0 or a negative errno. */
int tstore_init(int max_items) {
    memset(tstore_g.secret, 0, sizeof(tstore_g.secret));
    if (getrandom(tstore_g.secret, sizeof(tstore_g.secret), 0) != sizeof(tstore_g.secret)) {
        return -EIO;
    }
    tstore_g.max_items = max_items;
    tstore_g.scripts = calloc((size_t)max_items, sizeof(tstore_script));
    tstore_g.jobs = calloc((size_t)max_items, sizeof(tstore_job));
    if (!tstore_g.scripts || !tstore_g.jobs) {
        tstore_free();
        return -ENOMEM;
    }
    return 0;
}

/* Frees everything the store holds. */
void tstore_free(void) {
    for (int i = 0; i < tstore_g.njobs; i++) {
        tstore_job *j = &tstore_g.jobs[i];
        for (int s = 0; s < j->nscenes; s++) {
            tstore_scene_set_shots(&j->scenes[s], NULL, 0);
        }
        free(j->scenes);
    }
    free(tstore_g.jobs);
    free(tstore_g.scripts);
    free(tstore_g.accounts);
    tstore_g.jobs = NULL;
    tstore_g.scripts = NULL;
    tstore_g.accounts = NULL;
    tstore_g.naccounts = tstore_g.cap_accounts = 0;
    tstore_g.nscripts = tstore_g.njobs = 0;
}

/* Takes the store's lock, which guards every job, scene, shot and script. */
void tstore_lock(void) {
    pthread_mutex_lock(&tstore_g.lock);
}

/* Releases the store's lock. */
void tstore_unlock(void) {
    pthread_mutex_unlock(&tstore_g.lock);
}

/* ISO-8601 UTC timestamp with milliseconds of a wall-clock time in ms (now when 0). */
void tstore_iso_time(int64_t wall_ms, char out[32]) {
    if (wall_ms == 0) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        wall_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    }
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(wall_ms % 1000) % 1000u);
}

static int64_t tstore_wall_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0 when it is invalid or cut short. */
static int tstore_utf8_seq(const unsigned char *p) {
    int n = p[0] < 0x80               ? 1
        : p[0] >= 0xc2 && p[0] < 0xe0 ? 2
        : p[0] >= 0xe0 && p[0] < 0xf0 ? 3
        : p[0] >= 0xf0 && p[0] < 0xf5 ? 4
                                      : 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* Makes s valid UTF-8 in place: a sequence cut at the end is dropped, invalid bytes become '?'.
 * Overlong three- and four-byte forms pass; jansson accepts what this leaves. */
void tstore_utf8_clean(char *s) {
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = tstore_utf8_seq(p);
        if (n > 0) {
            p += n;
            continue;
        }
        size_t rest = strlen((char *)p);
        if (p[0] >= 0xc2 && p[0] < 0xf5 && rest < 4) {
            int i = 1;
            while (p[i] && (p[i] & 0xc0) == 0x80) {
                i++;
            }
            if (!p[i]) {
                *p = '\0'; /* a sequence cut short by truncation */
                return;
            }
        }
        *p++ = '?';
    }
}

/* An email is usable when it fits, has an @ and holds nothing that needs escaping in JSON. */
static int tstore_email_ok(const char *email) {
    size_t n = strlen(email);
    if (n < 3 || n >= TSTORE_EMAIL_MAX || !strchr(email, '@')) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c < 0x21 || c == '"' || c == '\\' || c >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Caller holds the lock. */
static tstore_account *tstore_find(const char *email) {
    for (int i = 0; i < tstore_g.naccounts; i++) {
        if (strcasecmp(tstore_g.accounts[i].user.email, email) == 0) {
            return &tstore_g.accounts[i];
        }
    }
    return NULL;
}

/* Names shown for an account: the email's local part, capitalised, and "Demo". */
static void tstore_names(tstore_user *u) {
    size_t n = strcspn(u->email, "@.+_-");
    if (n >= sizeof(u->first_name)) {
        n = sizeof(u->first_name) - 1;
    }
    memcpy(u->first_name, u->email, n);
    u->first_name[n] = '\0';
    u->first_name[0] = (char)toupper((unsigned char)u->first_name[0]);
    snprintf(u->last_name, sizeof(u->last_name), "%s", "Demo");
}

/* Caller holds the lock. */
static int tstore_add_locked(const char *email, const char *password, tstore_tier tier,
                             tstore_account **out) {
    if (!tstore_email_ok(email) || strlen(password) >= TSTORE_PASSWORD_MAX) {
        return -EINVAL;
    }
    if (tstore_find(email)) {
        return -EEXIST;
    }
    if (tstore_g.naccounts == tstore_g.cap_accounts) {
        if (tstore_g.cap_accounts >= TSTORE_MAX_ACCOUNTS) {
            return -ENOSPC;
        }
        int cap = tstore_g.cap_accounts ? tstore_g.cap_accounts * 2 : 16;
        tstore_account *a = realloc(tstore_g.accounts, sizeof(*a) * (size_t)cap);
        if (!a) {
            return -ENOMEM;
        }
        tstore_g.accounts = a;
        tstore_g.cap_accounts = cap;
    }
    tstore_account *a = &tstore_g.accounts[tstore_g.naccounts];
    memset(a, 0, sizeof(*a));
    a->user.id = tstore_g.naccounts + 1;
    a->user.tier = tier;
    snprintf(a->user.email, sizeof(a->user.email), "%s", email);
    snprintf(a->password, sizeof(a->password), "%s", password);
    tstore_names(&a->user);
    tstore_g.naccounts++;
    *out = a;
    return 0;
}

/* Adds an account. Returns 0, -EEXIST, -EINVAL (email or password unusable) or -ENOSPC. */
int tstore_account_add(const char *email, const char *password, tstore_tier tier) {
    tstore_account *a;
    if (password[0] == '\0') {
        return -EINVAL;
    }
    tstore_lock();
    int rc = tstore_add_locked(email, password, tier, &a);
    tstore_unlock();
    return rc;
}

/* Checks a password. Returns 0 and fills out, -ENOENT (no such email) or -EACCES. */
int tstore_signin(const char *email, const char *password, tstore_user *out) {
    int rc = 0;
    tstore_lock();
    tstore_account *a = tstore_find(email);
    if (!a) {
        rc = -ENOENT;
    } else if (a->password[0] == '\0' || strcmp(a->password, password) != 0) {
        rc = -EACCES;
    } else {
        *out = a->user;
    }
    tstore_unlock();
    return rc;
}

/* Finds an account by email, creating a free one without a password when create is set.
 * Returns 0, -ENOENT, -EINVAL or -ENOSPC. */
int tstore_user_by_email(const char *email, int create, tstore_user *out) {
    int rc = 0;
    tstore_lock();
    tstore_account *a = tstore_find(email);
    if (!a && create) {
        rc = tstore_add_locked(email, "", TSTORE_FREE, &a);
    } else if (!a) {
        rc = -ENOENT;
    }
    if (rc == 0) {
        *out = a->user;
    }
    tstore_unlock();
    return rc;
}

/* Copies account id into out. Returns 0 or -ENOENT. */
int tstore_user_get(int id, tstore_user *out) {
    int rc = -ENOENT;
    tstore_lock();
    if (id >= 1 && id <= tstore_g.naccounts) {
        *out = tstore_g.accounts[id - 1].user;
        rc = 0;
    }
    tstore_unlock();
    return rc;
}

/* Adds pages to an account's used pages. */
void tstore_user_add_pages(int id, int pages) {
    tstore_lock();
    if (id >= 1 && id <= tstore_g.naccounts) {
        tstore_g.accounts[id - 1].user.used_pages += pages;
    }
    tstore_unlock();
}

/* ---- tokens ---------------------------------------------------------------------------- */

static size_t tstore_b64url(char *dst, const uint8_t *src, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)src[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= src[i + 2];
        }
        dst[o++] = tab[v >> 18];
        dst[o++] = tab[(v >> 12) & 63];
        if (i + 1 < n) {
            dst[o++] = tab[(v >> 6) & 63];
        }
        if (i + 2 < n) {
            dst[o++] = tab[v & 63];
        }
    }
    dst[o] = '\0';
    return o;
}

static int tstore_b64url_val(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/* Decodes unpadded base64url into dst (cap bytes). Returns the length or -1. */
static long tstore_b64url_decode(uint8_t *dst, size_t cap, const char *src, size_t n) {
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = tstore_b64url_val(src[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) {
                return -1;
            }
            dst[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

static void tstore_hmac(const char *msg, size_t n, uint8_t mac[32]) {
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), tstore_g.secret,
                    sizeof(tstore_g.secret), (const unsigned char *)msg, n, mac);
}

/* Writes a signed token (a JWT signed with HMAC-SHA256 under the process's secret) for u into
 * out (TSTORE_TOKEN_MAX bytes); text_id writes the id as a string, as firebase-login does.
 * Returns its length. */
size_t tstore_token_make(const tstore_user *u, int text_id, char *out) {
    char payload[320];
    int64_t now_s = tstore_wall_ms() / 1000;
    int n;
    if (text_id) {
        n = snprintf(payload, sizeof(payload),
                     "{\"id\":\"%d\",\"email\":\"%s\",\"iat\":%lld,\"exp\":%lld}", u->id, u->email,
                     (long long)now_s, (long long)(now_s + TSTORE_TOKEN_LIFE_S));
    } else {
        n = snprintf(payload, sizeof(payload),
                     "{\"id\":%d,\"email\":\"%s\",\"iat\":%lld,\"exp\":%lld}", u->id, u->email,
                     (long long)now_s, (long long)(now_s + TSTORE_TOKEN_LIFE_S));
    }
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    size_t o = tstore_b64url(out, (const uint8_t *)header, sizeof(header) - 1);
    out[o++] = '.';
    o += tstore_b64url(out + o, (const uint8_t *)payload, (size_t)n);
    uint8_t mac[32];
    tstore_hmac(out, o, mac);
    out[o++] = '.';
    o += tstore_b64url(out + o, mac, sizeof(mac));
    return o;
}

/* Verifies a token and fills out with its account. Returns 0, -EINVAL (malformed or bad
 * signature), -ETIMEDOUT (expired) or -ENOENT (no such account). */
int tstore_token_check(const char *token, size_t len, tstore_user *out) {
    if (len == 0 || len >= TSTORE_TOKEN_MAX) {
        return -EINVAL;
    }
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2) {
        return -EINVAL;
    }
    uint8_t mac[32], given[40];
    tstore_hmac(token, (size_t)(dot2 - token), mac);
    long glen =
        tstore_b64url_decode(given, sizeof(given), dot2 + 1, len - (size_t)(dot2 + 1 - token));
    uint8_t diff = glen == 32 ? 0 : 1;
    for (int i = 0; i < 32 && glen == 32; i++) {
        diff |= mac[i] ^ given[i];
    }
    if (diff) {
        return -EINVAL;
    }
    uint8_t payload[TSTORE_TOKEN_MAX];
    long plen = tstore_b64url_decode(payload, sizeof(payload), dot1 + 1, (size_t)(dot2 - dot1 - 1));
    json_t *p = plen > 0 ? json_loadb((const char *)payload, (size_t)plen, 0, NULL) : NULL;
    if (!p) {
        return -EINVAL;
    }
    json_t *idv = json_object_get(p, "id");
    int id = json_is_integer(idv) ? (int)json_integer_value(idv)
        : json_is_string(idv)     ? atoi(json_string_value(idv))
                                  : 0;
    json_int_t exp = json_integer_value(json_object_get(p, "exp"));
    json_decref(p);
    if (exp < tstore_wall_ms() / 1000) {
        return -ETIMEDOUT;
    }
    return tstore_user_get(id, out);
}

/* ---- scripts and jobs ------------------------------------------------------------------ */

/* Pages of a screenplay of len bytes: 55 lines to a page, at least one. */
int tstore_count_pages(const char *content, size_t len) {
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) {
        lines += content[i] == '\n';
    }
    return (int)((lines + TSTORE_LINES_PER_PAGE - 1) / TSTORE_LINES_PER_PAGE);
}

/* True when the line (trimmed) starts like a scene heading. */
static int tstore_is_heading(const char *line, size_t n) {
    static const char *const prefixes[] = {"INT.", "EXT.", "INT/EXT", "I/E", "EXT/INT"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t p = strlen(prefixes[i]);
        if (n >= p && strncasecmp(line, prefixes[i], p) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Copies at most n bytes of src into a buffer of cap bytes, NUL-terminated. */
static void tstore_copy(char *dst, size_t cap, const char *src, size_t n) {
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Fills a scene's heading, location and time of day from a heading line. */
static void tstore_scene_heading(tstore_scene *s, const char *line, size_t n) {
    tstore_copy(s->heading, sizeof(s->heading), line, n);
    const char *start = s->heading;
    const char *sp = strchr(start, ' ');
    start = sp ? sp + 1 : start;
    const char *dash = strstr(start, " - ");
    const char *last = dash;
    while (last && strstr(last + 3, " - ")) {
        last = strstr(last + 3, " - ");
    }
    if (dash) {
        tstore_copy(s->location, sizeof(s->location), start, (size_t)(dash - start));
        snprintf(s->time_of_day, sizeof(s->time_of_day), "%s", last + 3);
    } else {
        tstore_copy(s->location, sizeof(s->location), start, strlen(start));
        snprintf(s->time_of_day, sizeof(s->time_of_day), "%s", "DAY");
    }
}

/* Appends a line of action or dialogue to a scene's excerpt, space-separated. */
static void tstore_scene_excerpt(tstore_scene *s, const char *line, size_t n) {
    size_t have = strlen(s->excerpt);
    if (n == 0 || have + 2 >= sizeof(s->excerpt)) {
        return;
    }
    if (have) {
        s->excerpt[have++] = ' ';
    }
    tstore_copy(s->excerpt + have, sizeof(s->excerpt) - have, line, n);
    for (char *c = s->excerpt + have; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\') {
            *c = ' ';
        }
    }
}

/* Splits a screenplay into scenes at their headings; text before the first heading, or a text
 * without any, makes one untitled scene. */
static int tstore_split_scenes(const char *content, size_t len, tstore_scene **out) {
    tstore_scene *scenes = calloc(TSTORE_MAX_SCENES, sizeof(tstore_scene));
    if (!scenes) {
        return -ENOMEM;
    }
    int n = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *line = content + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + 1;
        while (ll > 0 && (line[0] == ' ' || line[0] == '\t')) {
            line++;
            ll--;
        }
        while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ')) {
            ll--;
        }
        if (tstore_is_heading(line, ll) && n < TSTORE_MAX_SCENES) {
            tstore_scene_heading(&scenes[n++], line, ll);
        } else if (n > 0) {
            tstore_scene_excerpt(&scenes[n - 1], line, ll);
        }
    }
    for (int i = 0; i < n; i++) {
        tstore_utf8_clean(scenes[i].heading);
        tstore_utf8_clean(scenes[i].location);
        tstore_utf8_clean(scenes[i].time_of_day);
        tstore_utf8_clean(scenes[i].excerpt);
    }
    if (n == 0) {
        static const char untitled[] = "INT. UNTITLED LOCATION - DAY";
        tstore_scene_heading(&scenes[0], untitled, sizeof(untitled) - 1);
        tstore_scene_excerpt(&scenes[0], content, len < 190 ? len : 190);
        tstore_utf8_clean(scenes[0].excerpt);
        n = 1;
    }
    *out = scenes;
    return n;
}

int tstore_script_add(int owner, const char *title, const char *file_type, const char *content,
                      size_t len, int *script_id, int *job_id) {
    tstore_scene *scenes;
    int nscenes = tstore_split_scenes(content, len, &scenes);
    if (nscenes < 0) {
        return nscenes;
    }
    char now[32];
    tstore_iso_time(0, now);
    tstore_lock();
    if (tstore_g.nscripts >= tstore_g.max_items || tstore_g.njobs >= tstore_g.max_items) {
        tstore_unlock();
        free(scenes);
        return -ENOSPC;
    }
    tstore_script *s = &tstore_g.scripts[tstore_g.nscripts++];
    tstore_job *j = &tstore_g.jobs[tstore_g.njobs++];
    memset(s, 0, sizeof(*s));
    memset(j, 0, sizeof(*j));
    s->id = tstore_g.nscripts;
    s->owner = owner;
    s->pages = tstore_count_pages(content, len);
    s->size_bytes = len;
    s->job_id = tstore_g.njobs;
    snprintf(s->title, sizeof(s->title), "%s", title);
    tstore_utf8_clean(s->title);
    snprintf(s->file_type, sizeof(s->file_type), "%s", file_type);
    memcpy(s->created_at, now, sizeof(now));
    j->id = tstore_g.njobs;
    j->script_id = s->id;
    j->owner = owner;
    memcpy(j->created_at, now, sizeof(now));
    j->nscenes = nscenes;
    j->scenes = scenes;
    *script_id = s->id;
    *job_id = j->id;
    tstore_unlock();
    return 0;
}

/* Number of scripts; caller holds the lock. */
int tstore_script_count(void) {
    return tstore_g.nscripts;
}

/* Script i (0-based), or NULL when out of range; caller holds the lock. */
tstore_script *tstore_script_at(int i) {
    return i >= 0 && i < tstore_g.nscripts ? &tstore_g.scripts[i] : NULL;
}

/* The job with this id, or NULL. */
tstore_job *tstore_job_get(int id) {
    return id >= 1 && id <= tstore_g.njobs ? &tstore_g.jobs[id - 1] : NULL;
}

/* Number of jobs (ids run from 1). */
int tstore_job_count(void) {
    return tstore_g.njobs;
}

/* The job's status now. */
tstore_job_status tstore_job_status_now(const tstore_job *j) {
    if (!j->started) {
        return TSTORE_JOB_PENDING;
    }
    return uv_hrtime() / 1000000 < j->ready_ms ? TSTORE_JOB_PROCESSING : TSTORE_JOB_COMPLETED;
}

/* Marks a pending job as parsing for parse_ms. Returns 0 or -EALREADY. */
int tstore_job_start(tstore_job *j, uint64_t parse_ms) {
    if (j->started) {
        return -EALREADY;
    }
    j->started = 1;
    j->parse_ms = parse_ms;
    j->ready_ms = uv_hrtime() / 1000000 + parse_ms;
    j->started_wall_ms = tstore_wall_ms();
    return 0;
}

/* Replaces a scene's shots with n new ones drawn from seeds. Returns 0 or -ENOMEM. */
int tstore_scene_set_shots(tstore_scene *s, const uint32_t *seeds, int n) {
    for (int i = 0; i < s->nshots; i++) {
        free(s->shots[i].prompt);
    }
    free(s->shots);
    s->shots = NULL;
    s->nshots = 0;
    s->generation++;
    if (n <= 0) {
        return 0;
    }
    s->shots = calloc((size_t)n, sizeof(tstore_shot));
    if (!s->shots) {
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        s->shots[i].seed = seeds[i];
    }
    s->nshots = n;
    return 0;
}

/* Records a new image for a shot with its prompt (copied). */
void tstore_shot_set_image(tstore_shot *shot, const char *prompt) {
    char *copy = strdup(prompt);
    if (!copy) {
        return;
    }
    free(shot->prompt);
    shot->prompt = copy;
    shot->has_image = 1;
    shot->image_version++;
}
