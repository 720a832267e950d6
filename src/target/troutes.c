/* troutes.c: the rehearsal server's route table and its quick routes: sign-in, accounts,
 * scripts, parse jobs, health, the single-page app and the /__target counters. */
#include "target/troutes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target/tgen.h"
#include "target/tstats.h"

#define TROUTES_AUTH 1 /* needs a signed-in user */
#define TROUTES_INTERNAL 2 /* /__target: not counted, never spoiled by the edge or faults */
#define TROUTES_MAX_SCRIPT_BYTES (5u << 20)
#define TROUTES_COOKIE_AGE_S 2592000

typedef void (*troutes_fn)(tsrv_req *req, troutes_match *m);

typedef struct {
    const char *method; /* "GET" also answers HEAD; "*" any method */
    const char *pattern; /* ":name" matches one segment, a final "*" the rest */
    troutes_fn fn;
    int flags;
    const char *name; /* as the statistics show it */
} troutes_route;

static const tmodel_config *troutes_cfg;

/* ---- answers ------------------------------------------------------------------------------ */

/* Answers with a JSON value (consumed) and optional extra header lines. */
void troutes_reply_json(tsrv_req *req, int status, json_t *body, const char *extra_headers) {
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        tsrv_respond(req, 500, "application/json", NULL, "{}", 2);
        return;
    }
    tsrv_respond(req, status, "application/json; charset=utf-8", extra_headers, text, strlen(text));
    free(text);
}

/* Answers {"<key>": text}. */
void troutes_reply_text(tsrv_req *req, int status, const char *key, const char *text) {
    troutes_reply_json(req, status, json_pack("{s:s}", key, text), NULL);
}

/* Parses a path parameter as a non-negative integer; -1 when it is not one. */
int troutes_param_int(const troutes_match *m, int i) {
    const char *p = m->param[i];
    if (!*p || strlen(p) > 9) {
        return -1;
    }
    for (const char *c = p; *c; c++) {
        if (*c < '0' || *c > '9') {
            return -1;
        }
    }
    return atoi(p);
}

/* The request body as a JSON object (new reference), or NULL when it is not one. */
json_t *troutes_body_json(const tsrv_req *req) {
    json_t *j = json_loadb(req->body, req->body_len, 0, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The user as the API shows it (id, email, names, tier, pages...). */
json_t *troutes_user_json(const tstore_user *u) {
    int pro = u->tier == TSTORE_PRO;
    return json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:n}", "id", u->id, "email", u->email,
                     "firstName", u->first_name, "lastName", u->last_name, "tier",
                     pro ? "pro" : "free", "totalPages", pro ? -1 : troutes_cfg->free_pages,
                     "usedPages", u->used_pages, "emailVerified", 1, "profileImageUrl");
}

/* The model given to troutes_init. */
const tmodel_config *troutes_model(void) {
    return troutes_cfg;
}

/* Keeps the model the handlers follow (it must outlive the server). */
void troutes_init(const tmodel_config *model) {
    troutes_cfg = model;
}

/* ---- authentication ------------------------------------------------------------------------ */

/* Finds the auth_token cookie's value; NULL when absent. */
static const char *troutes_cookie_token(const char *cookie, size_t *len) {
    const char *p = cookie;
    while (p && *p) {
        while (*p == ' ' || *p == ';') {
            p++;
        }
        size_t n = strcspn(p, ";");
        if (n > 11 && strncmp(p, "auth_token=", 11) == 0) {
            *len = n - 11;
            while (*len > 0 && p[11 + *len - 1] == ' ') {
                (*len)--;
            }
            return p + 11;
        }
        p += n;
    }
    return NULL;
}

/* Reads the token from the cookie, then from a Bearer header. Answers 401 and returns -1 when
 * there is none or it does not check out. */
static int troutes_auth(tsrv_req *req, tstore_user *u) {
    size_t len = 0;
    const char *tok = req->cookie ? troutes_cookie_token(req->cookie, &len) : NULL;
    if (!tok && req->authorization && strncasecmp(req->authorization, "Bearer ", 7) == 0) {
        tok = req->authorization + 7;
        len = strlen(tok);
    }
    if (!tok || len == 0) {
        troutes_reply_text(req, 401, "message", "Unauthorized");
        return -1;
    }
    int rc = tstore_token_check(tok, len, u);
    if (rc == -ENOENT) {
        troutes_reply_text(req, 401, "message", "Authentication failed");
        return -1;
    }
    if (rc < 0) {
        troutes_reply_text(req, 401, "message", "Invalid token");
        return -1;
    }
    return 0;
}

/* ---- answers given after a delay (sign-in's password check) -------------------------------- */

typedef struct {
    int status;
    char *body;
    char *headers;
} troutes_later;

static void troutes_later_cleanup(tsrv_req *req) {
    troutes_later *l = req->app;
    free(l->body);
    free(l->headers);
    free(l);
    req->app = NULL;
}

static void troutes_later_fire(tsrv_req *req) {
    troutes_later *l = req->app;
    tsrv_respond(req, l->status, "application/json; charset=utf-8", l->headers, l->body,
                 strlen(l->body));
}

/* Answers with body (consumed) after delay_ms; at once when the delay is 0. */
static void troutes_reply_later(tsrv_req *req, uint64_t delay_ms, int status, json_t *body,
                                const char *headers) {
    if (delay_ms == 0) {
        troutes_reply_json(req, status, body, headers);
        return;
    }
    troutes_later *l = calloc(1, sizeof(*l));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!l || !text) {
        free(l);
        free(text);
        tsrv_respond(req, 500, "application/json", NULL, "{}", 2);
        return;
    }
    l->status = status;
    l->body = text;
    l->headers = headers ? strdup(headers) : NULL;
    req->app = l;
    req->cleanup = troutes_later_cleanup;
    tsrv_wait(req, delay_ms, troutes_later_fire);
}

/* The Set-Cookie line carrying a new token for u. */
static void troutes_cookie_line(const tstore_user *u, int text_id, char *tok, char *line,
                                size_t cap) {
    tstore_token_make(u, text_id, tok);
    snprintf(line, cap, "Set-Cookie: auth_token=%s; Max-Age=%d; Path=/; HttpOnly; SameSite=Lax\r\n",
             tok, TROUTES_COOKIE_AGE_S);
}

/* Reads {email, password}; answers 400 and returns -1 when the body lacks them. */
static int troutes_credentials(tsrv_req *req, json_t **body, const char **email,
                               const char **password) {
    *body = troutes_body_json(req);
    *email = json_string_value(json_object_get(*body, "email"));
    *password = json_string_value(json_object_get(*body, "password"));
    if (!*email || !*password) {
        json_decref(*body);
        troutes_reply_json(req, 400,
                           json_pack("{s:s,s:s}", "message", "Email and password are required",
                                     "code", "VALIDATION_ERROR"),
                           NULL);
        return -1;
    }
    return 0;
}

static void troutes_signin(tsrv_req *req, troutes_match *m) {
    json_t *body;
    const char *email, *password;
    if (troutes_credentials(req, &body, &email, &password) < 0) {
        return;
    }
    const char *provider = json_string_value(json_object_get(body, "provider"));
    uint64_t delay = tmodel_scaled_ms(troutes_cfg, troutes_cfg->signin_ms);
    if (provider && strcmp(provider, "password") != 0) {
        json_decref(body);
        troutes_reply_text(req, 400, "message", "Unsupported sign-in provider");
        return;
    }
    tstore_user u;
    int rc = tstore_signin(email, password, &u);
    json_decref(body);
    if (rc == -ENOENT) {
        troutes_reply_later(req, delay, 401,
                            json_pack("{s:s,s:s}", "message", "No account found with this email",
                                      "code", "USER_NOT_FOUND"),
                            NULL);
        return;
    }
    if (rc < 0) {
        troutes_reply_later(
            req, delay, 401,
            json_pack("{s:s,s:s}", "message", "Incorrect password", "code", "INVALID_PASSWORD"),
            NULL);
        return;
    }
    char tok[TSTORE_TOKEN_MAX], line[TSTORE_TOKEN_MAX + 128];
    troutes_cookie_line(&u, 0, tok, line, sizeof(line));
    troutes_reply_later(req, delay, 200, troutes_user_json(&u), line);
}

/* The guide's POST /api/auth/login: as sign-in, with the token in the body too. */
static void troutes_login_guide(tsrv_req *req, troutes_match *m) {
    json_t *body;
    const char *email, *password;
    if (troutes_credentials(req, &body, &email, &password) < 0) {
        return;
    }
    tstore_user u;
    int rc = tstore_signin(email, password, &u);
    json_decref(body);
    uint64_t delay = tmodel_scaled_ms(troutes_cfg, troutes_cfg->signin_ms);
    if (rc < 0) {
        troutes_reply_later(req, delay, 401, json_pack("{s:s}", "message", "Invalid credentials"),
                            NULL);
        return;
    }
    char tok[TSTORE_TOKEN_MAX], line[TSTORE_TOKEN_MAX + 128];
    troutes_cookie_line(&u, 0, tok, line, sizeof(line));
    troutes_reply_later(req, delay, 200,
                        json_pack("{s:s,s:o}", "token", tok, "user", troutes_user_json(&u)), line);
}

/* POST /api/auth/firebase-login: the rehearsal accepts an idToken "demo:<email>" for the body's
 * email and creates a free account on first sight, as the real app does with Firebase users. */
static void troutes_firebase(tsrv_req *req, troutes_match *m) {
    json_t *body = troutes_body_json(req);
    const char *email = json_string_value(json_object_get(body, "email"));
    const char *id_token = json_string_value(json_object_get(body, "idToken"));
    if (!email || !id_token || !*id_token) {
        json_decref(body);
        troutes_reply_text(req, 400, "message", "Email and Firebase ID token are required");
        return;
    }
    if (strncmp(id_token, "demo:", 5) != 0 || strcasecmp(id_token + 5, email) != 0) {
        json_decref(body);
        troutes_reply_text(req, 401, "message", "Invalid Firebase token");
        return;
    }
    tstore_user u;
    int rc = tstore_user_by_email(email, 1, &u);
    json_decref(body);
    if (rc < 0) {
        troutes_reply_text(req, rc == -EINVAL ? 400 : 507, "message",
                           rc == -EINVAL ? "Invalid email" : "Account store full");
        return;
    }
    char tok[TSTORE_TOKEN_MAX], line[TSTORE_TOKEN_MAX + 128];
    troutes_cookie_line(&u, 1, tok, line, sizeof(line));
    troutes_reply_json(req, 200, troutes_user_json(&u), line);
}

static void troutes_logout(tsrv_req *req, troutes_match *m) {
    troutes_reply_json(req, 200, json_pack("{s:s}", "message", "Logged out successfully"),
                       "Set-Cookie: auth_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax\r\n");
}

static void troutes_auth_user(tsrv_req *req, troutes_match *m) {
    troutes_reply_json(req, 200, troutes_user_json(&m->user), NULL);
}

/* ---- health, pages, unknown paths ---------------------------------------------------------- */

static void troutes_health(tsrv_req *req, troutes_match *m) {
    char now[32];
    tstore_iso_time(0, now);
    char body[96];
    int n = snprintf(body, sizeof(body), "{\"status\":\"%s\",\"timestamp\":\"%s\"}",
                     strcmp(req->path, "/health") == 0 ? "healthy" : "ok", now);
    tsrv_respond(req, 200, "application/json; charset=utf-8", NULL, body, (size_t)n);
}

static const char troutes_page[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>IndieShots (volley target)</title>\n</head>\n<body>\n<div id=\"root\">\n"
    "<h1>IndieShots</h1>\n<p>Screenplay to shot list to storyboard. This is volley's "
    "rehearsal server; the API lives under /api.</p>\n</div>\n"
    "<script type=\"module\" src=\"/assets/index.js\"></script>\n</body>\n</html>\n";

static void troutes_spa(tsrv_req *req, troutes_match *m) {
    tsrv_respond(req, 200, "text/html; charset=utf-8", NULL, troutes_page,
                 sizeof(troutes_page) - 1);
}

static void troutes_api_missing(tsrv_req *req, troutes_match *m) {
    troutes_reply_text(req, 404, "message", "Not found");
}

static void troutes_missing(tsrv_req *req, troutes_match *m) {
    tsrv_respond(req, 404, "text/html; charset=utf-8", NULL, "Not Found", 9);
}

/* ---- scripts and parse jobs ---------------------------------------------------------------- */

static json_t *troutes_script_json(const tstore_script *s) {
    return json_pack("{s:i,s:i,s:s,s:s,s:I,s:i,s:s,s:i}", "id", s->id, "userId", s->owner, "title",
                     s->title, "fileType", s->file_type, "fileSize", (json_int_t)s->size_bytes,
                     "pageCount", s->pages, "createdAt", s->created_at, "jobId", s->job_id);
}

static void troutes_scripts(tsrv_req *req, troutes_match *m) {
    json_t *list = json_array();
    tstore_lock();
    for (int i = 0, n = tstore_script_count(); i < n; i++) {
        tstore_script *s = tstore_script_at(i);
        if (s->owner == m->user.id) {
            json_array_append_new(list, troutes_script_json(s));
        }
    }
    tstore_unlock();
    troutes_reply_json(req, 200, list, NULL);
}

static void troutes_script(tsrv_req *req, troutes_match *m) {
    int id = troutes_param_int(m, 0);
    json_t *j = NULL;
    tstore_lock();
    tstore_script *s = id > 0 ? tstore_script_at(id - 1) : NULL;
    if (s && s->owner == m->user.id) {
        j = troutes_script_json(s);
    }
    tstore_unlock();
    if (!j) {
        troutes_reply_text(req, 404, "message", "Script not found");
        return;
    }
    troutes_reply_json(req, 200, j, NULL);
}

/* Finds a parameter (name=value) in a multipart part's headers; copies it into out. */
static int troutes_part_param(const char *headers, size_t n, const char *name, char *out,
                              size_t cap) {
    size_t nl = strlen(name);
    for (size_t i = 0; i + nl + 2 < n; i++) {
        if (strncasecmp(headers + i, name, nl) == 0 && headers[i + nl] == '=' &&
            headers[i + nl + 1] == '"' &&
            (i == 0 || headers[i - 1] == ' ' || headers[i - 1] == ';')) {
            const char *v = headers + i + nl + 2;
            const char *end = memchr(v, '"', n - (size_t)(v - headers));
            if (!end) {
                return -1;
            }
            size_t len = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 0;
        }
    }
    return -1;
}

/* Finds the "file" part of a multipart/form-data body: its content and file name. */
static int troutes_multipart_file(const tsrv_req *req, const char **content, size_t *len,
                                  char *filename, size_t cap) {
    const char *b = strstr(req->content_type, "boundary=");
    if (!b) {
        return -1;
    }
    char delim[200];
    b += 9;
    size_t bl = strcspn(b, "; ");
    if (*b == '"') {
        b++;
        bl = strcspn(b, "\"");
    }
    if (bl == 0 || bl > sizeof(delim) - 5) {
        return -1;
    }
    int dl = snprintf(delim, sizeof(delim), "\r\n--%.*s", (int)bl, b);
    const char *p = req->body, *end = req->body + req->body_len;
    /* The first delimiter may open the body without the CRLF before it. */
    const char *part = memmem(p, req->body_len, delim + 2, (size_t)dl - 2);
    while (part) {
        const char *hstart = part + dl - 2;
        const char *hend = memmem(hstart, (size_t)(end - hstart), "\r\n\r\n", 4);
        if (!hend) {
            return -1;
        }
        const char *data = hend + 4;
        const char *next = memmem(data, (size_t)(end - data), delim, (size_t)dl);
        if (!next) {
            return -1;
        }
        char name[64];
        if (troutes_part_param(hstart, (size_t)(hend - hstart), "name", name, sizeof(name)) == 0 &&
            strcmp(name, "file") == 0) {
            *content = data;
            *len = (size_t)(next - data);
            if (troutes_part_param(hstart, (size_t)(hend - hstart), "filename", filename, cap) <
                0) {
                snprintf(filename, cap, "%s", "script.txt");
            }
            return 0;
        }
        part = next + 2;
    }
    return -1;
}

/* POST /api/scripts/upload: a multipart "file" field or JSON {content, title}. */
static void troutes_upload(tsrv_req *req, troutes_match *m) {
    const char *content = NULL;
    size_t len = 0;
    char title[128] = "Untitled script";
    const char *type = "txt";
    json_t *body = NULL;
    if (req->content_type && strncasecmp(req->content_type, "multipart/form-data", 19) == 0) {
        if (troutes_multipart_file(req, &content, &len, title, sizeof(title)) < 0) {
            content = NULL;
        }
        const char *dot = strrchr(title, '.');
        type = dot && (strcasecmp(dot, ".pdf") == 0 || strcasecmp(dot, ".docx") == 0)
            ? (dot[1] == 'p' || dot[1] == 'P' ? "pdf" : "docx")
            : "txt";
    } else {
        body = troutes_body_json(req);
        json_t *c = json_object_get(body, "content");
        content = json_string_value(c);
        len = json_string_length(c);
        const char *t = json_string_value(json_object_get(body, "title"));
        if (t && *t) {
            snprintf(title, sizeof(title), "%s", t);
        }
    }
    if (!content || len == 0) {
        json_decref(body);
        troutes_reply_text(req, 400, "message", "No file or content provided");
        return;
    }
    if (len > TROUTES_MAX_SCRIPT_BYTES) {
        json_decref(body);
        troutes_reply_text(req, 413, "message", "File too large (5 MB limit)");
        return;
    }
    int pages = tstore_count_pages(content, len);
    if (m->user.tier == TSTORE_FREE && pages > troutes_cfg->free_pages) {
        json_decref(body);
        troutes_reply_json(
            req, 403,
            json_pack("{s:s,s:b,s:s,s:i,s:i}", "message",
                      "Free plan is limited to 5 pages per script. Upgrade to Pro for more.",
                      "requiresUpgrade", 1, "feature", "pages", "currentPages", pages, "maxPages",
                      troutes_cfg->free_pages),
            NULL);
        return;
    }
    int script_id, job_id;
    int rc = tstore_script_add(m->user.id, title, type, content, len, &script_id, &job_id);
    json_decref(body);
    if (rc < 0) {
        troutes_reply_text(req, 507, "message",
                           "Rehearsal store full: restart the target or raise --max-scripts");
        return;
    }
    tstore_user_add_pages(m->user.id, pages);
    json_t *out = NULL;
    tstore_lock();
    tstore_script *s = tstore_script_at(script_id - 1);
    out = json_pack("{s:{s:i,s:s,s:s,s:I,s:i,s:s},s:{s:i,s:i,s:s}}", "script", "id", s->id, "title",
                    s->title, "fileType", s->file_type, "fileSize", (json_int_t)s->size_bytes,
                    "pageCount", s->pages, "createdAt", s->created_at, "parseJob", "id", job_id,
                    "scriptId", script_id, "status", "pending");
    tstore_unlock();
    troutes_reply_json(req, 201, out, NULL);
}

static const char *troutes_status_name(tstore_job_status st) {
    return st == TSTORE_JOB_PENDING   ? "pending"
        : st == TSTORE_JOB_PROCESSING ? "processing"
                                      : "completed";
}

/* The job as GET /api/jobs/:id shows it; caller holds the store lock. */
static json_t *troutes_job_json(const tstore_job *j, int full) {
    tstore_job_status st = tstore_job_status_now(j);
    json_t *o = json_pack("{s:i,s:i,s:i,s:s,s:s,s:n}", "id", j->id, "userId", j->owner, "scriptId",
                          j->script_id, "status", troutes_status_name(st), "createdAt",
                          j->created_at, "errorMessage");
    if (st != TSTORE_JOB_COMPLETED || !full) {
        json_object_set_new(o, "fullParseData", json_null());
        return o;
    }
    char done[32];
    tstore_iso_time(j->started_wall_ms + (int64_t)j->parse_ms, done);
    json_object_set_new(o, "completedAt", json_string(done));
    json_t *scenes = json_array();
    for (int i = 0; i < j->nscenes; i++) {
        const tstore_scene *s = &j->scenes[i];
        json_array_append_new(scenes,
                              json_pack("{s:i,s:i,s:s,s:s,s:s,s:s,s:i}", "sceneIndex", i,
                                        "sceneNumber", i + 1, "sceneHeading", s->heading,
                                        "location", s->location, "timeOfDay", s->time_of_day,
                                        "content", s->excerpt, "shotCount", s->nshots));
    }
    json_object_set_new(o, "fullParseData",
                        json_pack("{s:o,s:i}", "scenes", scenes, "sceneCount", j->nscenes));
    return o;
}

static void troutes_jobs(tsrv_req *req, troutes_match *m) {
    json_t *list = json_array();
    tstore_lock();
    for (int id = 1, n = tstore_job_count(); id <= n; id++) {
        tstore_job *j = tstore_job_get(id);
        if (j->owner == m->user.id) {
            json_array_append_new(list, troutes_job_json(j, 0));
        }
    }
    tstore_unlock();
    troutes_reply_json(req, 200, list, NULL);
}

static void troutes_job(tsrv_req *req, troutes_match *m) {
    json_t *o = NULL;
    tstore_lock();
    tstore_job *j = tstore_job_get(troutes_param_int(m, 0));
    if (j && j->owner == m->user.id) {
        o = troutes_job_json(j, 1);
    }
    tstore_unlock();
    if (!o) {
        troutes_reply_text(req, 404, "message", "Job not found");
        return;
    }
    troutes_reply_json(req, 200, o, NULL);
}

static void troutes_parse(tsrv_req *req, troutes_match *m) {
    int id = troutes_param_int(m, 0);
    int rc = -ENOENT;
    tstore_lock();
    tstore_job *j = tstore_job_get(id);
    if (j && j->owner == m->user.id) {
        rc = tstore_job_start(j, tmodel_scaled_ms(troutes_cfg, troutes_cfg->parse_ms));
    }
    tstore_unlock();
    if (rc == -ENOENT) {
        troutes_reply_text(req, 404, "message", "Job not found");
    } else if (rc < 0) {
        troutes_reply_text(req, 400, "message", "Job is not in pending state");
    } else {
        troutes_reply_json(req, 200,
                           json_pack("{s:s,s:i}", "message", "Parsing started", "jobId", id), NULL);
    }
}

/* ---- /__target ------------------------------------------------------------------------------- */

static json_t *troutes_config_json(void) {
    const tmodel_config *c = troutes_cfg;
    static const char *const faults[] = {"none", "reset", "stall", "garbage", "drip"};
    return json_pack(
        "{s:f,s:s,s:[f,f],s:[f,f],s:f,s:f,s:f,s:i,s:i,s:f,s:f,s:f,s:s,s:f,s:I,s:[i,i]}",
        "time_scale", c->time_scale, "latency_dist",
        c->dist == TMODEL_DIST_UNIFORM ? "uniform" : "lognormal", "chat_ms", c->chat_lo_ms,
        c->chat_hi_ms, "image_ms", c->image_lo_ms, c->image_hi_ms, "pause_ms", c->pause_ms,
        "parse_ms", c->parse_ms, "openai_rpm", c->openai_rpm, "openai_attempts", c->openai_attempts,
        "capacity", c->capacity, "queue_timeout_ms", c->queue_timeout_ms, "edge_rate",
        c->edge_rate_per_s, "edge_502_rate", c->edge_502_rate, "fault", faults[c->fault],
        "fault_rate", c->fault_rate, "image_bytes", (json_int_t)c->image_bytes, "shots",
        c->shots_lo, c->shots_hi);
}

static void troutes_stats(tsrv_req *req, troutes_match *m);
static void troutes_reset(tsrv_req *req, troutes_match *m);

/* ---- the table ------------------------------------------------------------------------------- */

#define R(method, pattern, fn, flags)                                                              \
    { method, pattern, fn, flags, method " " pattern }

static const troutes_route troutes_table[] = {
    R("GET", "/api/health", troutes_health, 0),
    R("GET", "/health", troutes_health, 0),
    R("POST", "/api/auth/signin", troutes_signin, 0),
    R("POST", "/api/auth/firebase-login", troutes_firebase, 0),
    R("POST", "/api/auth/logout", troutes_logout, 0),
    R("GET", "/api/auth/user", troutes_auth_user, TROUTES_AUTH),
    R("GET", "/api/scripts", troutes_scripts, TROUTES_AUTH),
    R("GET", "/api/scripts/:id", troutes_script, TROUTES_AUTH),
    R("POST", "/api/scripts/upload", troutes_upload, TROUTES_AUTH),
    R("GET", "/api/jobs", troutes_jobs, TROUTES_AUTH),
    R("GET", "/api/jobs/:id", troutes_job, TROUTES_AUTH),
    R("POST", "/api/jobs/:id/parse", troutes_parse, TROUTES_AUTH),
    R("GET", "/api/jobs/:id/download", tgen_job_csv, TROUTES_AUTH),
    R("POST", "/api/shots/generate/:jobId/:sceneIndex", tgen_shots_generate, TROUTES_AUTH),
    R("GET", "/api/shots/:jobId/:sceneIndex", tgen_shots_scene, TROUTES_AUTH),
    R("GET", "/api/shots/:jobId", tgen_shots_job, TROUTES_AUTH),
    R("POST", "/api/storyboards/generate/:jobId/:sceneIndex", tgen_storyboards_generate,
      TROUTES_AUTH),
    R("GET", "/api/storyboards/:jobId/:sceneIndex", tgen_storyboards_get, TROUTES_AUTH),
    R("POST", "/api/storyboards/regenerate/:jobId/:sceneIndex/:shotId", tgen_storyboards_regenerate,
      TROUTES_AUTH),
    R("GET", "/api/storyboards/:jobId/:sceneIndex/download", tgen_storyboards_zip, TROUTES_AUTH),
    R("GET", "/api/storyboards/:jobId/:sceneIndex/image/:imageIndex", tgen_storyboards_image,
      TROUTES_AUTH),
    /* The routes the guide's scripts call; the real app never served them. */
    R("POST", "/api/auth/login", troutes_login_guide, 0),
    R("POST", "/api/shots/generate-image", tgen_guide_image, TROUTES_AUTH),
    R("POST", "/api/shots/regenerate-image", tgen_guide_regenerate, TROUTES_AUTH),
    R("POST", "/api/storyboards/generate", tgen_guide_storyboards, TROUTES_AUTH),
    /* The rehearsal server's own. */
    R("GET", "/__target/stats", troutes_stats, TROUTES_INTERNAL),
    R("POST", "/__target/reset", troutes_reset, TROUTES_INTERNAL),
    /* What nothing above matched: unknown API paths 404, pages get the app's HTML. */
    R("*", "/api/*", troutes_api_missing, 0),
    R("GET", "/*", troutes_spa, 0),
    R("*", "/*", troutes_missing, 0),
};

static const int troutes_count = (int)(sizeof(troutes_table) / sizeof(troutes_table[0]));

_Static_assert(sizeof(troutes_table) / sizeof(troutes_table[0]) <= TSTATS_MAX_ROUTES,
               "more routes than the statistics hold");

static json_t *troutes_status_obj(const uint64_t *counts) {
    json_t *o = json_object();
    for (int s = 0; s < TSTATS_STATUS_MAX; s++) {
        if (counts[s]) {
            char key[16];
            snprintf(key, sizeof(key), "%d", s);
            json_object_set_new(o, key, json_integer((json_int_t)counts[s]));
        }
    }
    return o;
}

static void troutes_stats(tsrv_req *req, troutes_match *m) {
    tstats_snapshot *s = malloc(sizeof(*s));
    if (!s) {
        tsrv_respond(req, 500, "application/json", NULL, "{}", 2);
        return;
    }
    tstats_read(s);
    json_t *routes = json_object();
    for (int i = 0; i < troutes_count; i++) {
        uint64_t resp = 0;
        for (int st = 0; st < TSTATS_STATUS_MAX; st++) {
            resp += s->route_status[i][st];
        }
        if (s->route_requests[i] || resp) {
            json_object_set_new(routes, troutes_table[i].name,
                                json_pack("{s:I,s:I,s:o}", "requests",
                                          (json_int_t)s->route_requests[i], "responses",
                                          (json_int_t)resp, "status",
                                          troutes_status_obj(s->route_status[i])));
        }
    }
    json_t *events = json_object();
    for (int e = 0; e < TSTATS_EVENT_COUNT; e++) {
        json_object_set_new(events, tstats_event_name(e), json_integer((json_int_t)s->events[e]));
    }
    int in_use, queued, peak;
    tmodel_capacity_snapshot(&in_use, &queued, &peak);
    uint64_t *ev = s->events;
    json_t *o = json_pack(
        "{s:I,s:I,s:f,s:f,s:o,s:I,s:I,s:I,s:o,s:o,s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I},"
        "s:{s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I},s:{s:I,s:I},s:o}",
        "requests", (json_int_t)s->requests, "responses", (json_int_t)s->responses, "uptime_s",
        s->uptime_s, "since_reset_s", s->since_reset_s, "status", troutes_status_obj(s->status),
        "status_429", (json_int_t)s->status[429], "status_502", (json_int_t)s->status[502],
        "status_503", (json_int_t)s->status[503], "routes", routes, "events", events, "faults",
        "reset", (json_int_t)ev[TSTATS_FAULT_RESET], "stall", (json_int_t)ev[TSTATS_FAULT_STALL],
        "garbage", (json_int_t)ev[TSTATS_FAULT_GARBAGE], "drip", (json_int_t)ev[TSTATS_FAULT_DRIP],
        "openai", "calls", (json_int_t)ev[TSTATS_OPENAI_CALLS], "limited",
        (json_int_t)ev[TSTATS_OPENAI_LIMITED], "retries", (json_int_t)ev[TSTATS_OPENAI_RETRIES],
        "exhausted", (json_int_t)ev[TSTATS_OPENAI_EXHAUSTED], "capacity", "limit",
        (json_int_t)troutes_cfg->capacity, "in_use", (json_int_t)in_use, "queued",
        (json_int_t)queued, "peak_queued", (json_int_t)peak, "queue_timeouts",
        (json_int_t)ev[TSTATS_QUEUE_TIMEOUTS], "edge", "429", (json_int_t)ev[TSTATS_EDGE_429],
        "502", (json_int_t)ev[TSTATS_EDGE_502], "connections", "accepted",
        (json_int_t)ev[TSTATS_CONN_ACCEPTED], "open",
        (json_int_t)(ev[TSTATS_CONN_ACCEPTED] - ev[TSTATS_CONN_CLOSED]), "config",
        troutes_config_json());
    free(s);
    troutes_reply_json(req, 200, o, NULL);
}

static void troutes_reset(tsrv_req *req, troutes_match *m) {
    tstats_reset();
    troutes_reply_json(req, 200, json_pack("{s:b}", "reset", 1), NULL);
}

static int troutes_method_ok(const char *want, const tsrv_req *req) {
    if (want[0] == '*') {
        return 1;
    }
    const char *have = llhttp_method_name((llhttp_method_t)req->method);
    if (strcmp(want, "GET") == 0 && req->method == HTTP_HEAD) {
        return 1;
    }
    return strcmp(want, have) == 0;
}

/* Matches a path against a pattern segment by segment, capturing parameters. */
static int troutes_path_ok(const char *pattern, const char *path, troutes_match *m) {
    m->nparams = 0;
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p == '*') {
            return 1;
        }
        if (*p == ':') {
            size_t n = strcspn(q, "/");
            if (n == 0 || n >= TROUTES_PARAM_BYTES || m->nparams == TROUTES_MAX_PARAMS) {
                return 0;
            }
            memcpy(m->param[m->nparams], q, n);
            m->param[m->nparams++][n] = '\0';
            q += n;
            p += strcspn(p, "/");
            continue;
        }
        if (*p != *q) {
            return 0;
        }
        p++;
        q++;
    }
    if (*p == '*') {
        return 1;
    }
    /* A trailing slash on the path is forgiven, as Express does. */
    return *p == '\0' && (*q == '\0' || (q[0] == '/' && q[1] == '\0'));
}

/* tsrv_config.dispatch: routes one request, applies the hosting layer's 429 and 502 and the
 * authentication, and calls its handler. */
void troutes_dispatch(tsrv_req *req) {
    troutes_match m;
    int i;
    for (i = 0; i < troutes_count; i++) {
        if (troutes_path_ok(troutes_table[i].pattern, req->path, &m) &&
            troutes_method_ok(troutes_table[i].method, req)) {
            break;
        }
    }
    if (i == troutes_count) {
        i = troutes_count - 1;
    }
    const troutes_route *rt = &troutes_table[i];
    if (rt->flags & TROUTES_INTERNAL) {
        req->no_faults = 1;
        req->no_stats = 1;
        rt->fn(req, &m);
        return;
    }
    req->route = i;
    tstats_request(i);
    if (!tmodel_edge_take()) {
        tstats_add(TSTATS_EDGE_429, 1);
        tsrv_respond(req, 429, "text/plain; charset=utf-8", NULL, "Too Many Requests", 17);
        return;
    }
    if (troutes_cfg->edge_502_rate > 0 &&
        tmodel_rng_unit(tsrv_rng(req)) < troutes_cfg->edge_502_rate) {
        tstats_add(TSTATS_EDGE_502, 1);
        static const char bad[] = "<html><body><h1>502 Bad Gateway</h1></body></html>";
        tsrv_respond(req, 502, "text/html", NULL, bad, sizeof(bad) - 1);
        return;
    }
    if ((rt->flags & TROUTES_AUTH) && troutes_auth(req, &m.user) < 0) {
        return;
    }
    rt->fn(req, &m);
}
