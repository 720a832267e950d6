/* tstore.h: the rehearsal server's data: accounts, signed tokens, scripts, parse jobs, shots. */
#ifndef VOLLEY_TSTORE_H
#define VOLLEY_TSTORE_H

#include <stddef.h>
#include <stdint.h>

#define TSTORE_MAX_SCENES 200
#define TSTORE_MAX_SHOTS 50
#define TSTORE_TOKEN_MAX 512
#define TSTORE_EMAIL_MAX 128

typedef enum { TSTORE_FREE, TSTORE_PRO } tstore_tier;

/* A copy of one account's public fields. */
typedef struct {
    int id;
    tstore_tier tier;
    int used_pages;
    char email[TSTORE_EMAIL_MAX];
    char first_name[48];
    char last_name[48];
} tstore_user;

typedef struct {
    uint32_t seed; /* the shot's text fields are drawn from it */
    int has_image;
    uint32_t image_version; /* bumped by every new image; the pixels derive from it */
    char *prompt; /* the prompt of the last image, or NULL */
} tstore_shot;

typedef struct {
    char heading[128];
    char location[80];
    char time_of_day[24];
    char excerpt[200];
    int nshots;
    uint32_t generation; /* bumped whenever the shot list is replaced */
    tstore_shot *shots;
} tstore_scene;

typedef enum {
    TSTORE_JOB_PENDING,
    TSTORE_JOB_PROCESSING,
    TSTORE_JOB_COMPLETED,
} tstore_job_status;

typedef struct {
    int id;
    int script_id;
    int owner;
    int started; /* parsing was asked for */
    uint64_t ready_ms; /* uv_hrtime in ms at which parsing completes */
    int64_t started_wall_ms; /* wall clock when parsing was asked for */
    uint64_t parse_ms; /* modelled parse time, for completedAt */
    char created_at[32];
    int nscenes;
    tstore_scene *scenes;
} tstore_job;

typedef struct {
    int id;
    int owner;
    int job_id;
    int pages;
    size_t size_bytes;
    char title[128];
    char file_type[8];
    char created_at[32];
} tstore_script;

/* Sets up an empty store holding at most max_items scripts (and as many jobs) and a fresh
 * token secret. Returns 0 or a negative errno. */
int tstore_init(int max_items);

/* Frees everything the store holds. */
void tstore_free(void);

/* Adds an account. Returns 0, -EEXIST, -EINVAL (email or password unusable) or -ENOSPC. */
int tstore_account_add(const char *email, const char *password, tstore_tier tier);

/* Checks a password. Returns 0 and fills out, -ENOENT (no such email) or -EACCES. */
int tstore_signin(const char *email, const char *password, tstore_user *out);

/* Finds an account by email, creating a free one without a password when create is set.
 * Returns 0, -ENOENT, -EINVAL or -ENOSPC. */
int tstore_user_by_email(const char *email, int create, tstore_user *out);

/* Copies account id into out. Returns 0 or -ENOENT. */
int tstore_user_get(int id, tstore_user *out);

/* Adds pages to an account's used pages. */
void tstore_user_add_pages(int id, int pages);

/* Writes a signed token (a JWT signed with HMAC-SHA256 under the process's secret) for u into
 * out (TSTORE_TOKEN_MAX bytes); text_id writes the id as a string, as firebase-login does.
 * Returns its length. */
size_t tstore_token_make(const tstore_user *u, int text_id, char *out);

/* Verifies a token and fills out with its account. Returns 0, -EINVAL (malformed or bad
 * signature), -ETIMEDOUT (expired) or -ENOENT (no such account). */
int tstore_token_check(const char *token, size_t len, tstore_user *out);

/* Stores a script and its pending parse job, splitting content into scenes. Returns 0 and the
 * two ids, or -ENOSPC when the store is full. */
int tstore_script_add(int owner, const char *title, const char *file_type, const char *content,
                      size_t len, int *script_id, int *job_id);

/* Pages of a screenplay of len bytes: 55 lines to a page, at least one. */
int tstore_count_pages(const char *content, size_t len);

/* The store's lock: everything below may only be called, and what it returns only used,
 * while holding it. */
void tstore_lock(void);
void tstore_unlock(void);

/* Number of scripts; script i (0-based); NULL when out of range. */
int tstore_script_count(void);
tstore_script *tstore_script_at(int i);

/* The job with this id, or NULL. */
tstore_job *tstore_job_get(int id);

/* Number of jobs (ids run from 1). */
int tstore_job_count(void);

/* The job's status now. */
tstore_job_status tstore_job_status_now(const tstore_job *j);

/* Marks a pending job as parsing for parse_ms. Returns 0 or -EALREADY. */
int tstore_job_start(tstore_job *j, uint64_t parse_ms);

/* Replaces a scene's shots with n new ones drawn from seeds. Returns 0 or -ENOMEM. */
int tstore_scene_set_shots(tstore_scene *s, const uint32_t *seeds, int n);

/* Records a new image for a shot with its prompt (copied). */
void tstore_shot_set_image(tstore_shot *shot, const char *prompt);

/* Makes s valid UTF-8 in place: a sequence cut at the end is dropped, invalid bytes become '?'.
 * Text from peers goes through it before it reaches a JSON answer. */
void tstore_utf8_clean(char *s);

/* ISO-8601 UTC timestamp with milliseconds of a wall-clock time in ms (now when 0). */
void tstore_iso_time(int64_t wall_ms, char out[32]);

#endif
