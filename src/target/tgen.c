/* tgen.c: the rehearsal server's generation routes: each takes a capacity slot, makes modelled
 * OpenAI calls (limited per minute, retried with waits) and builds real image bodies. */
#include "target/tgen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/timage.h"
#include "target/tstats.h"

#define TGEN_MAX_GUIDE_SHOTS 20
#define TGEN_PROMPT_BYTES 640
#define TGEN_DATA_URL "data:image/png;base64,"

typedef struct {
    uint32_t seed; /* the shot's text fields */
    int need; /* to be drawn by this batch */
    int ok; /* has an image at the end */
    int limited; /* its last try ran out of OpenAI attempts */
    int fresh; /* drawn by this batch */
    uint32_t version;
    uint64_t image_seed;
    char type[48];
    char lens[24];
    char notes[64];
    char desc[200];
    char prompt[TGEN_PROMPT_BYTES];
} tgen_item;

/* One generation in progress; the request owns it (req->app). */
typedef struct tgen {
    tmodel_waiter waiter; /* first: the granted callback finds the generation from it */
    tsrv_req *req;
    void (*run)(struct tgen *g);
    void (*call_done)(struct tgen *g, int ok);
    tmodel_call call;
    int attempt;
    tstore_user user;
    int job_id, scene, shot_index, shot_id;
    uint32_t generation;
    int nitems, pos, pass, drawn_any, generated;
    tgen_item *items;
    char text[TGEN_PROMPT_BYTES]; /* the user's modifications or custom prompt */
    char prompt[TGEN_PROMPT_BYTES * 2];
    json_t *body;
} tgen;

/* ---- shot text, drawn from a seed ------------------------------------------------------------ */

static const char *const tgen_types[] = {"Wide Shot",         "Medium Shot",       "Close-Up",
                                         "Extreme Close-Up",  "Over-the-Shoulder", "Two Shot",
                                         "Establishing Shot", "Point of View"};
static const char *const tgen_lenses[] = {"18mm", "24mm", "35mm", "50mm", "85mm", "100mm macro"};
static const char *const tgen_moves[] = {"Static",   "Slow push in", "Pan left", "Pan right",
                                         "Handheld", "Dolly out",    "Crane up", "Tracking"};
static const char *const tgen_moods[] = {"Tense and quiet", "Warm and hopeful", "Melancholic",
                                         "Eerie",           "Playful",          "Urgent"};
static const char *const tgen_lights[] = {"Natural daylight",      "Low-key with hard shadows",
                                          "Soft window light",     "Neon practicals",
                                          "Golden hour backlight", "Overcast diffuse"};
static const char *const tgen_props[] = {
    "Coffee cup, notebook", "Rain-soaked umbrella", "Old photograph", "Car keys", "Laptop", "None"};
static const char *const tgen_notes[] = {"Hold for the reaction", "Match cut to next scene",
                                         "Keep the horizon level", "Rack focus at the end",
                                         "Leave headroom"};
static const char *const tgen_sounds[] = {"Room tone, distant traffic", "Rain on glass",
                                          "Silence, then a door slam", "Low score swell",
                                          "Crowd murmur"};
static const char *const tgen_colours[] = {"3200K warm", "5600K daylight", "4300K neutral",
                                           "7000K cool"};
static const char *const tgen_tones[] = {"Dramatic", "Comedic", "Suspenseful", "Romantic",
                                         "Somber"};
static const char *const tgen_people[] = {"ALEX", "JORDAN", "SAM and RILEY", "MORGAN",
                                          "The STRANGER"};
static const char *const tgen_actions[] = {
    "enters and looks around", "turns away from the window", "reads the letter twice",
    "hesitates at the door",   "laughs despite the tension", "sets the keys on the table"};
static const char *const tgen_lines[] = {"", "We don't have much time.", "Did you hear that?",
                                         "I kept it all these years.", "Not tonight."};

#define TGEN_PICK(rng, list) list[tmodel_rng_next(rng) % (sizeof(list) / sizeof(list[0]))]

typedef struct {
    const char *type, *lens, *movement, *mood, *lighting, *props, *notes, *sound, *colour, *tone,
        *people, *action, *line;
    char description[200];
} tgen_text;

static void tgen_text_of(uint32_t seed, const char *location, tgen_text *t) {
    tmodel_rng rng;
    tmodel_rng_seed(&rng, seed);
    t->type = TGEN_PICK(&rng, tgen_types);
    t->lens = TGEN_PICK(&rng, tgen_lenses);
    t->movement = TGEN_PICK(&rng, tgen_moves);
    t->mood = TGEN_PICK(&rng, tgen_moods);
    t->lighting = TGEN_PICK(&rng, tgen_lights);
    t->props = TGEN_PICK(&rng, tgen_props);
    t->notes = TGEN_PICK(&rng, tgen_notes);
    t->sound = TGEN_PICK(&rng, tgen_sounds);
    t->colour = TGEN_PICK(&rng, tgen_colours);
    t->tone = TGEN_PICK(&rng, tgen_tones);
    t->people = TGEN_PICK(&rng, tgen_people);
    t->action = TGEN_PICK(&rng, tgen_actions);
    t->line = TGEN_PICK(&rng, tgen_lines);
    snprintf(t->description, sizeof(t->description), "%s of %s: %s %s", t->type, location,
             t->people, t->action);
}

/* A shot as the API shows it; caller holds the store lock. */
static json_t *tgen_shot_json(const tstore_scene *sc, int scene, int i, const tstore_shot *sh) {
    tgen_text t;
    tgen_text_of(sh->seed, sc->location, &t);
    json_t *o =
        json_pack("{s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", i + 1, "shotNumber", i + 1,
                  "sceneIndex", scene, "shotDescription", t.description, "shotType", t.type, "lens",
                  t.lens, "movement", t.movement, "moodAndAmbience", t.mood, "lighting", t.lighting,
                  "props", t.props, "notes", t.notes);
    json_t *more =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "soundDesign", t.sound, "colourTemp",
                  t.colour, "sceneHeading", sc->heading, "location", sc->location, "timeOfDay",
                  sc->time_of_day, "tone", t.tone, "characters", t.people, "action", t.action,
                  "dialogue", t.line, "hasImage", sh->has_image);
    json_object_update(o, more);
    json_decref(more);
    json_object_set_new(o, "imagePromptText", sh->prompt ? json_string(sh->prompt) : json_null());
    return o;
}

/* The prompt GPT would write for a shot. */
static void tgen_prompt_of(char *out, size_t cap, const char *type, const char *desc,
                           const char *lighting, const char *mood) {
    snprintf(out, cap, "Cinematic storyboard frame, %s, %s, %s. %s", type, lighting, mood, desc);
}

static uint64_t tgen_mix(uint64_t a, uint64_t b) {
    tmodel_rng r;
    tmodel_rng_seed(&r, a * 0x100000001b3ULL ^ b);
    return tmodel_rng_next(&r);
}

static uint64_t tgen_image_seed(int job, int scene, int shot, uint32_t version, uint32_t seed) {
    return tgen_mix(tgen_mix(tgen_mix((uint64_t)job, (uint64_t)scene), (uint64_t)shot),
                    ((uint64_t)version << 32) | seed);
}

/* Builds one image and its base64 text, with the data-URL prefix when asked. Returns malloc'd
 * text (length in *len) or NULL when out of memory. */
static char *tgen_image_b64(uint64_t seed, int data_url, size_t *len) {
    const tmodel_config *c = troutes_model();
    size_t raw = timage_raw_bytes_for_b64(c->image_bytes);
    uint8_t *png = timage_png(seed, raw);
    size_t pre = data_url ? strlen(TGEN_DATA_URL) : 0;
    char *out = png ? malloc(pre + timage_b64_len(raw) + 1) : NULL;
    if (!out) {
        free(png);
        return NULL;
    }
    memcpy(out, TGEN_DATA_URL, pre);
    *len = pre + timage_b64_encode(out + pre, png, raw);
    free(png);
    tstats_add(TSTATS_IMAGES, 1);
    return out;
}

/* The image as a JSON string (base64, with the prefix when asked), or null. */
static json_t *tgen_image_json(uint64_t seed, int data_url) {
    size_t len;
    char *b64 = tgen_image_b64(seed, data_url, &len);
    if (!b64) {
        return json_null();
    }
    json_t *s = json_stringn_nocheck(b64, len);
    free(b64);
    return s;
}

/* ---- the life of a generation ---------------------------------------------------------------- */

static void tgen_cleanup(tsrv_req *req) {
    tgen *g = req->app;
    tmodel_slot_leave(&g->waiter);
    free(g->items);
    json_decref(g->body);
    free(g);
    req->app = NULL;
}

static void tgen_granted(tmodel_waiter *w) {
    tgen *g = (tgen *)w;
    tsrv_wait_cancel(g->req);
    g->run(g);
}

static tgen *tgen_new(tsrv_req *req, troutes_match *m) {
    tgen *g = calloc(1, sizeof(*g));
    if (!g) {
        troutes_reply_text(req, 500, "error", "Out of memory");
        return NULL;
    }
    g->req = req;
    g->user = m->user;
    g->waiter.inbox = tsrv_inbox(req);
    g->waiter.granted = tgen_granted;
    req->app = g;
    req->cleanup = tgen_cleanup;
    return g;
}

/* Answers; the generation (and the request) may be gone when this returns. */
static void tgen_reply(tgen *g, int status, json_t *body) {
    tmodel_slot_leave(&g->waiter);
    troutes_reply_json(g->req, status, body, NULL);
}

/* 503 after the OpenAI limit held through every attempt. */
static void tgen_unavailable(tgen *g, const char *error) {
    char details[96];
    snprintf(details, sizeof(details), "OpenAI rate limit (429) after %d attempts",
             troutes_model()->openai_attempts);
    tgen_reply(g, 503,
               json_pack("{s:s,s:s,s:s,s:s,s:s}", "message",
                         "OpenAI unavailable: rate limit retries exhausted", "error", error,
                         "errorType", "service_unavailable", "details", details, "userMessage",
                         "The AI service is busy. Please try again in a few minutes."));
}

static void tgen_queue_timeout(tsrv_req *req) {
    tgen *g = req->app;
    tstats_add(TSTATS_QUEUE_TIMEOUTS, 1);
    tgen_reply(g, 503,
               json_pack("{s:s,s:s,s:s,s:s}", "message",
                         "Server busy: too many generations in progress (OpenAI unavailable)",
                         "error", "Service temporarily unavailable", "errorType",
                         "service_unavailable", "userMessage",
                         "Too many requests are being processed. Please try again shortly."));
}

/* Runs run once a capacity slot is held; past the queue timeout the request gets 503. */
static void tgen_start(tgen *g, void (*run)(tgen *g)) {
    g->run = run;
    if (tmodel_slot_acquire(&g->waiter)) {
        run(g);
        return;
    }
    const tmodel_config *c = troutes_model();
    tsrv_wait(g->req, tmodel_scaled_ms(c, c->queue_timeout_ms), tgen_queue_timeout);
}

static void tgen_try(tgen *g);

static void tgen_answered(tsrv_req *req) {
    tgen *g = req->app;
    g->call_done(g, 1);
}

static void tgen_retry(tsrv_req *req) {
    tgen_try(req->app);
}

/* One attempt: within the per-minute limit it takes the modelled latency; over it, the real
 * server waits base x attempt and tries again, up to its attempts, then gives up. */
static void tgen_try(tgen *g) {
    const tmodel_config *c = troutes_model();
    g->attempt++;
    tstats_add(TSTATS_OPENAI_CALLS, 1);
    if (tmodel_openai_take()) {
        tsrv_wait(g->req, tmodel_call_ms(c, tsrv_rng(g->req), g->call), tgen_answered);
        return;
    }
    tstats_add(TSTATS_OPENAI_LIMITED, 1);
    if (g->attempt >= c->openai_attempts) {
        tstats_add(TSTATS_OPENAI_EXHAUSTED, 1);
        g->call_done(g, 0);
        return;
    }
    tstats_add(TSTATS_OPENAI_RETRIES, 1);
    double base = g->call == TMODEL_CALL_CHAT ? c->chat_retry_ms : c->image_retry_ms;
    tsrv_wait(g->req, tmodel_scaled_ms(c, base * g->attempt), tgen_retry);
}

/* Makes one modelled OpenAI call; done gets 1 on success, 0 when the limit won. */
static void tgen_call(tgen *g, tmodel_call kind, void (*done)(tgen *g, int ok)) {
    g->call = kind;
    g->call_done = done;
    g->attempt = 0;
    tgen_try(g);
}

/* ---- finding a job's scene ------------------------------------------------------------------- */

/* Checks the job (the user's, parsed) and scene of the path; answers the error and returns -1
 * when they do not hold. need_shots also asks for a shot list. */
static int tgen_find(tsrv_req *req, troutes_match *m, int job_id, int scene, int need_shots) {
    const char *error = NULL;
    int status = 404;
    tstore_lock();
    tstore_job *j = tstore_job_get(job_id);
    if (!j || j->owner != m->user.id) {
        error = "Parse job not found";
    } else if (tstore_job_status_now(j) != TSTORE_JOB_COMPLETED) {
        error = "Script has not been parsed yet";
        status = 400;
    } else if (scene < 0 || scene >= j->nscenes) {
        error = "Scene not found";
    } else if (need_shots && j->scenes[scene].nshots == 0) {
        error = "No shots found for this scene";
    }
    tstore_unlock();
    if (error) {
        troutes_reply_text(req, status, "error", error);
        return -1;
    }
    return 0;
}

/* ---- shot lists -------------------------------------------------------------------------------
 */

static void tgen_shots_done(tgen *g, int ok) {
    if (!ok) {
        tgen_unavailable(g, "Failed to generate shots");
        return;
    }
    const tmodel_config *c = troutes_model();
    tmodel_rng *rng = tsrv_rng(g->req);
    int total = tmodel_rng_range(rng, c->shots_lo, c->shots_hi);
    int kept = total;
    int limited = g->user.tier == TSTORE_FREE && total > c->free_shots;
    if (limited) {
        kept = c->free_shots;
    }
    uint32_t seeds[TSTORE_MAX_SHOTS];
    for (int i = 0; i < kept; i++) {
        seeds[i] = (uint32_t)tmodel_rng_next(rng);
    }
    json_t *shots = json_array();
    tstore_lock();
    tstore_scene *sc = &tstore_job_get(g->job_id)->scenes[g->scene];
    int rc = tstore_scene_set_shots(sc, seeds, kept);
    for (int i = 0; rc == 0 && i < kept; i++) {
        json_array_append_new(shots, tgen_shot_json(sc, g->scene, i, &sc->shots[i]));
    }
    tstore_unlock();
    if (rc < 0) {
        json_decref(shots);
        tgen_reply(g, 500, json_pack("{s:s}", "error", "Out of memory"));
        return;
    }
    char msg[80];
    snprintf(msg, sizeof(msg), "Generated %d shots for scene %d", kept, g->scene + 1);
    json_t *o = json_pack("{s:s,s:i,s:o}", "message", msg, "shotCount", kept, "shots", shots);
    if (limited) {
        json_object_set_new(o, "warning",
                            json_string("Free accounts are limited to 5 shots per "
                                        "scene. Upgrade to Pro for full shot lists."));
        json_object_set_new(o, "totalGenerated", json_integer(total));
        json_object_set_new(o, "limitApplied", json_true());
        json_object_set_new(o, "requiresUpgrade", json_true());
    }
    tgen_reply(g, 200, o);
}

static void tgen_shots_run(tgen *g) {
    tgen_call(g, TMODEL_CALL_CHAT, tgen_shots_done);
}

/* POST /api/shots/generate/:jobId/:sceneIndex */
void tgen_shots_generate(tsrv_req *req, troutes_match *m) {
    int job_id = troutes_param_int(m, 0), scene = troutes_param_int(m, 1);
    if (tgen_find(req, m, job_id, scene, 0) < 0) {
        return;
    }
    tgen *g = tgen_new(req, m);
    if (!g) {
        return;
    }
    g->job_id = job_id;
    g->scene = scene;
    tgen_start(g, tgen_shots_run);
}

/* GET /api/shots/:jobId/:sceneIndex */
void tgen_shots_scene(tsrv_req *req, troutes_match *m) {
    int job_id = troutes_param_int(m, 0), scene = troutes_param_int(m, 1);
    json_t *shots = NULL;
    tstore_lock();
    tstore_job *j = tstore_job_get(job_id);
    if (j && j->owner == m->user.id) {
        shots = json_array();
        if (scene >= 0 && scene < j->nscenes) {
            tstore_scene *sc = &j->scenes[scene];
            for (int i = 0; i < sc->nshots; i++) {
                json_array_append_new(shots, tgen_shot_json(sc, scene, i, &sc->shots[i]));
            }
        }
    }
    tstore_unlock();
    if (!shots) {
        troutes_reply_text(req, 404, "error", "Parse job not found");
        return;
    }
    troutes_reply_json(req, 200, json_pack("{s:o}", "shots", shots), NULL);
}

/* GET /api/shots/:jobId */
void tgen_shots_job(tsrv_req *req, troutes_match *m) {
    json_t *shots = NULL;
    tstore_lock();
    tstore_job *j = tstore_job_get(troutes_param_int(m, 0));
    if (j && j->owner == m->user.id) {
        shots = json_array();
        for (int s = 0; s < j->nscenes; s++) {
            tstore_scene *sc = &j->scenes[s];
            for (int i = 0; i < sc->nshots; i++) {
                json_array_append_new(shots, tgen_shot_json(sc, s, i, &sc->shots[i]));
            }
        }
    }
    tstore_unlock();
    if (!shots) {
        troutes_reply_text(req, 404, "error", "Parse job not found");
        return;
    }
    troutes_reply_json(req, 200, shots, NULL);
}

/* Writes one CSV field, quoted. */
static void tgen_csv_field(tsrv_buf *b, const char *s, int last) {
    char out[512];
    size_t o = 0;
    out[o++] = '"';
    for (; *s && o < sizeof(out) - 4; s++) {
        if (*s == '"') {
            out[o++] = '"';
        }
        out[o++] = *s;
    }
    out[o++] = '"';
    out[o++] = last ? '\n' : ',';
    size_t need = b->len + o + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < need) {
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, out, o);
    b->len += o;
}

/* GET /api/jobs/:id/download (CSV of the job's shots) */
void tgen_job_csv(tsrv_req *req, troutes_match *m) {
    int job_id = troutes_param_int(m, 0);
    tsrv_buf csv = {0};
    int found = 0;
    static const char *const head[] = {"Scene", "Shot",     "Scene Heading",    "Shot Type",
                                       "Lens",  "Movement", "Shot Description", "Lighting",
                                       "Notes"};
    for (int i = 0; i < 9; i++) {
        tgen_csv_field(&csv, head[i], i == 8);
    }
    tstore_lock();
    tstore_job *j = tstore_job_get(job_id);
    if (j && j->owner == m->user.id) {
        found = 1;
        for (int s = 0; s < j->nscenes; s++) {
            tstore_scene *sc = &j->scenes[s];
            for (int i = 0; i < sc->nshots; i++) {
                tgen_text t;
                tgen_text_of(sc->shots[i].seed, sc->location, &t);
                char sn[16], in[16];
                snprintf(sn, sizeof(sn), "%d", s + 1);
                snprintf(in, sizeof(in), "%d", i + 1);
                const char *row[] = {sn,     in,         sc->heading,   t.type,
                                     t.lens, t.movement, t.description, t.lighting,
                                     t.notes};
                for (int k = 0; k < 9; k++) {
                    tgen_csv_field(&csv, row[k], k == 8);
                }
            }
        }
    }
    tstore_unlock();
    if (!found) {
        free(csv.p);
        troutes_reply_text(req, 404, "message", "Job not found");
        return;
    }
    char headers[128];
    snprintf(headers, sizeof(headers),
             "Content-Disposition: attachment; filename=\"shots-job-%d.csv\"\r\n", job_id);
    tsrv_respond(req, 200, "text/csv; charset=utf-8", headers, csv.p ? csv.p : "", csv.len);
    free(csv.p);
}

/* ---- storyboards: the synchronous batch -------------------------------------------------------
 */

static void tgen_batch_next(tgen *g);

/* Records a drawn image in the job, unless the shot list was replaced meanwhile. */
static void tgen_batch_store(tgen *g, tgen_item *it) {
    it->version++;
    if (g->job_id > 0) {
        tstore_lock();
        tstore_scene *sc = &tstore_job_get(g->job_id)->scenes[g->scene];
        if (sc->generation == g->generation && g->pos < sc->nshots) {
            tstore_shot_set_image(&sc->shots[g->pos], it->prompt);
            it->version = sc->shots[g->pos].image_version;
        }
        tstore_unlock();
    }
    it->image_seed = tgen_image_seed(g->job_id, g->scene, g->pos, it->version, it->seed);
}

static void tgen_batch_drawn(tgen *g, int ok) {
    tgen_item *it = &g->items[g->pos];
    if (ok) {
        it->ok = 1;
        it->fresh = 1;
        it->limited = 0;
        g->generated++;
        tgen_batch_store(g, it);
    } else {
        it->limited = 1;
    }
    tgen_batch_next(g);
}

static void tgen_batch_prompted(tgen *g, int ok) {
    if (!ok) {
        g->items[g->pos].limited = 1;
        tgen_batch_next(g);
        return;
    }
    tgen_call(g, TMODEL_CALL_IMAGE, tgen_batch_drawn);
}

static void tgen_batch_draw(tsrv_req *req) {
    tgen *g = req->app;
    tgen_call(g, TMODEL_CALL_CHAT, tgen_batch_prompted);
}

/* The answer: every shot of the scene with its image, drawn now or before. */
static void tgen_batch_finish(tgen *g) {
    tmodel_slot_leave(&g->waiter); /* encoding the answer is not a generation */
    int needed = 0, limited = 0, with_image = 0;
    json_t *boards = json_array(), *results = json_array();
    for (int i = 0; i < g->nitems; i++) {
        tgen_item *it = &g->items[i];
        needed += it->need;
        limited += it->need && !it->ok;
        with_image += it->ok;
        json_array_append_new(boards,
                              json_pack("{s:i,s:s,s:s,s:s,s:s,s:o,s:s,s:b}", "shotNumber", i + 1,
                                        "description", it->desc, "shotType", it->type,
                                        "cameraAngle", it->lens, "notes", it->notes, "imagePath",
                                        it->ok ? tgen_image_json(it->image_seed, 1) : json_null(),
                                        "prompt", it->prompt, "hasImage", it->ok));
        json_t *r = json_pack("{s:i,s:b}", "shotNumber", i + 1, "success", it->ok);
        if (!it->ok) {
            json_object_set_new(r, "error", json_string("OpenAI unavailable: rate limited"));
        }
        json_array_append_new(results, r);
    }
    if (needed > 0 && g->generated == 0 && limited > 0) {
        json_decref(boards);
        json_decref(results);
        tgen_unavailable(g, "Failed to generate storyboards");
        return;
    }
    char msg[96];
    snprintf(msg, sizeof(msg), "Generated %d of %d storyboards", g->generated, g->nitems);
    tgen_reply(g, 200,
               json_pack("{s:s,s:i,s:i,s:i,s:o,s:o}", "message", msg, "totalShots", g->nitems,
                         "generatedCount", g->generated, "storyboardCount", with_image,
                         "storyboards", boards, "results", results));
}

/* Draws the shots one after another with a pause between them, then retries the ones the
 * limit refused in a second pass with longer pauses, as the real server does. */
static void tgen_batch_next(tgen *g) {
    const tmodel_config *c = troutes_model();
    int i = g->pos + 1;
    while (i < g->nitems && !(g->items[i].need && (g->pass == 1 || !g->items[i].ok))) {
        i++;
    }
    if (i == g->nitems) {
        int failed = 0;
        for (int k = 0; k < g->nitems; k++) {
            failed += g->items[k].need && !g->items[k].ok;
        }
        if (g->pass == 1 && failed) {
            g->pass = 2;
            g->pos = -1;
            tgen_batch_next(g);
            return;
        }
        tgen_batch_finish(g);
        return;
    }
    g->pos = i;
    double pause = g->pass == 2 ? c->retry_pause_ms : g->drawn_any ? c->pause_ms : 0;
    g->drawn_any = 1;
    uint64_t pause_ms = tmodel_scaled_ms(c, pause);
    if (pause_ms == 0) {
        tgen_batch_draw(g->req);
        return;
    }
    tsrv_wait(g->req, pause_ms, tgen_batch_draw);
}

static void tgen_batch_run(tgen *g) {
    g->pass = 1;
    g->pos = -1;
    tgen_batch_next(g);
}

/* Makes the peer's text in an item valid UTF-8 again after truncation. */
static void tgen_item_clean(tgen_item *it) {
    tstore_utf8_clean(it->type);
    tstore_utf8_clean(it->lens);
    tstore_utf8_clean(it->notes);
    tstore_utf8_clean(it->desc);
    tstore_utf8_clean(it->prompt);
}

/* Fills a batch item from a stored shot; caller holds the store lock. */
static void tgen_item_from_shot(tgen_item *it, const tstore_scene *sc, const tstore_shot *sh,
                                int job, int scene, int i) {
    tgen_text t;
    tgen_text_of(sh->seed, sc->location, &t);
    it->seed = sh->seed;
    it->ok = sh->has_image;
    it->version = sh->image_version;
    snprintf(it->type, sizeof(it->type), "%s", t.type);
    snprintf(it->lens, sizeof(it->lens), "%s", t.lens);
    snprintf(it->notes, sizeof(it->notes), "%s", t.notes);
    snprintf(it->desc, sizeof(it->desc), "%s", t.description);
    if (sh->prompt) {
        snprintf(it->prompt, sizeof(it->prompt), "%s", sh->prompt);
    } else {
        tgen_prompt_of(it->prompt, sizeof(it->prompt), t.type, t.description, t.lighting, t.mood);
    }
    it->image_seed = tgen_image_seed(job, scene, i, it->version, it->seed);
}

/* Starts a batch over the stored shots of a job's scene. */
static void tgen_batch_job(tsrv_req *req, troutes_match *m, int job_id, int scene, int force) {
    if (tgen_find(req, m, job_id, scene, 1) < 0) {
        return;
    }
    tgen *g = tgen_new(req, m);
    if (!g) {
        return;
    }
    g->job_id = job_id;
    g->scene = scene;
    tstore_lock();
    tstore_scene *sc = &tstore_job_get(job_id)->scenes[scene];
    g->generation = sc->generation;
    g->items = calloc((size_t)sc->nshots, sizeof(tgen_item));
    if (g->items) {
        g->nitems = sc->nshots;
        for (int i = 0; i < sc->nshots; i++) {
            tgen_item_from_shot(&g->items[i], sc, &sc->shots[i], job_id, scene, i);
            g->items[i].need = force || !sc->shots[i].has_image;
        }
    }
    tstore_unlock();
    if (!g->items) {
        troutes_reply_text(req, 500, "error", "Failed to generate storyboards");
        return;
    }
    tgen_start(g, tgen_batch_run);
}

static int tgen_pro_only(tsrv_req *req, const troutes_match *m) {
    if (m->user.tier == TSTORE_PRO) {
        return 0;
    }
    troutes_reply_json(req, 403,
                       json_pack("{s:s,s:b,s:s}", "message",
                                 "Storyboard generation is a Pro feature. Upgrade to generate "
                                 "storyboards.",
                                 "requiresUpgrade", 1, "feature", "storyboards"),
                       NULL);
    return -1;
}

/* POST /api/storyboards/generate/:jobId/:sceneIndex: the synchronous batch. */
void tgen_storyboards_generate(tsrv_req *req, troutes_match *m) {
    if (tgen_pro_only(req, m) < 0) {
        return;
    }
    json_t *body = troutes_body_json(req);
    int force = json_is_true(json_object_get(body, "forceRegenerate"));
    json_decref(body);
    tgen_batch_job(req, m, troutes_param_int(m, 0), troutes_param_int(m, 1), force);
}

/* Copies the image seeds of a scene's shots that have images; returns how many, or -1 when
 * the job is not the user's. */
static int tgen_scene_images(const troutes_match *m, int job_id, int scene, tgen_item **out,
                             int *nshots) {
    *out = NULL;
    *nshots = 0;
    int n = -1;
    tstore_lock();
    tstore_job *j = tstore_job_get(job_id);
    if (j && j->owner == m->user.id) {
        n = 0;
        if (scene >= 0 && scene < j->nscenes && j->scenes[scene].nshots > 0) {
            tstore_scene *sc = &j->scenes[scene];
            *nshots = sc->nshots;
            *out = calloc((size_t)sc->nshots, sizeof(tgen_item));
            for (int i = 0; *out && i < sc->nshots; i++) {
                tgen_item_from_shot(&(*out)[i], sc, &sc->shots[i], job_id, scene, i);
                n += sc->shots[i].has_image;
            }
        }
    }
    tstore_unlock();
    return n;
}

/* GET /api/storyboards/:jobId/:sceneIndex: every image again, as raw base64. */
void tgen_storyboards_get(tsrv_req *req, troutes_match *m) {
    tgen_item *items;
    int nshots;
    int n = tgen_scene_images(m, troutes_param_int(m, 0), troutes_param_int(m, 1), &items, &nshots);
    if (n < 0) {
        troutes_reply_text(req, 404, "error", "Parse job not found");
        return;
    }
    json_t *list = json_array();
    for (int i = 0; items && i < nshots; i++) {
        tgen_item *it = &items[i];
        json_array_append_new(list,
                              json_pack("{s:i,s:s,s:s,s:s,s:b,s:o}", "shotNumber", i + 1,
                                        "description", it->desc, "shotType", it->type, "prompt",
                                        it->prompt, "hasImage", it->ok, "imageData",
                                        it->ok ? tgen_image_json(it->image_seed, 0) : json_null()));
    }
    free(items);
    troutes_reply_json(req, 200, json_pack("{s:o}", "storyboards", list), NULL);
}

/* The index among all shots of the shot_id-th shot that has an image, or -1. */
static int tgen_imaged_index(const tgen_item *items, int nshots, int shot_id) {
    for (int i = 0, k = 0; i < nshots; i++) {
        if (items[i].ok && k++ == shot_id) {
            return i;
        }
    }
    return -1;
}

/* GET /api/storyboards/:jobId/:sceneIndex/download (zip) */
void tgen_storyboards_zip(tsrv_req *req, troutes_match *m) {
    tgen_item *items;
    int nshots;
    int n = tgen_scene_images(m, troutes_param_int(m, 0), troutes_param_int(m, 1), &items, &nshots);
    if (n <= 0) {
        free(items);
        troutes_reply_text(req, 404, "error",
                           n < 0 ? "Parse job not found" : "No storyboards found for this scene");
        return;
    }
    size_t raw = timage_raw_bytes_for_b64(troutes_model()->image_bytes);
    timage_zip_entry *entries = calloc((size_t)n, sizeof(*entries));
    char(*names)[32] = calloc((size_t)n, 32);
    int k = 0;
    for (int i = 0; entries && names && i < nshots; i++) {
        if (!items[i].ok) {
            continue;
        }
        snprintf(names[k], 32, "shot_%02d.png", i + 1);
        entries[k].name = names[k];
        entries[k].data = timage_png(items[i].image_seed, raw);
        entries[k].len = entries[k].data ? raw : 0;
        tstats_add(TSTATS_IMAGES, 1);
        k++;
    }
    size_t len = 0;
    uint8_t *zip = entries && names ? timage_zip(entries, k, &len) : NULL;
    for (int i = 0; entries && i < k; i++) {
        free((void *)entries[i].data);
    }
    free(entries);
    free(names);
    free(items);
    if (!zip) {
        troutes_reply_text(req, 500, "error", "Out of memory");
        return;
    }
    tsrv_respond(req, 200, "application/zip",
                 "Content-Disposition: attachment; filename=\"storyboards.zip\"\r\n",
                 (const char *)zip, len);
    free(zip);
}

/* GET /api/storyboards/:jobId/:sceneIndex/image/:imageIndex (image/png) */
void tgen_storyboards_image(tsrv_req *req, troutes_match *m) {
    tgen_item *items;
    int nshots;
    int n = tgen_scene_images(m, troutes_param_int(m, 0), troutes_param_int(m, 1), &items, &nshots);
    int i = n > 0 ? tgen_imaged_index(items, nshots, troutes_param_int(m, 2)) : -1;
    if (i < 0) {
        free(items);
        troutes_reply_text(req, 404, "error", "Image not found");
        return;
    }
    size_t raw = timage_raw_bytes_for_b64(troutes_model()->image_bytes);
    uint8_t *png = timage_png(items[i].image_seed, raw);
    free(items);
    if (!png) {
        troutes_reply_text(req, 500, "error", "Out of memory");
        return;
    }
    tstats_add(TSTATS_IMAGES, 1);
    tsrv_respond(req, 200, "image/png", NULL, (const char *)png, raw);
    free(png);
}

/* ---- regenerate one image -------------------------------------------------------------------- */

static void tgen_regen_drawn(tgen *g, int ok) {
    if (!ok) {
        tgen_unavailable(g, "Failed to regenerate image");
        return;
    }
    tstore_lock();
    tstore_scene *sc = &tstore_job_get(g->job_id)->scenes[g->scene];
    if (sc->generation == g->generation && g->shot_index < sc->nshots) {
        tstore_shot_set_image(&sc->shots[g->shot_index], g->prompt);
    }
    tstore_unlock();
    tgen_reply(g, 200,
               json_pack("{s:s,s:i,s:s}", "message", "Image regenerated successfully", "shotId",
                         g->shot_id, "newPrompt", g->prompt));
}

static void tgen_regen_prompted(tgen *g, int ok) {
    if (!ok) {
        tgen_unavailable(g, "Failed to regenerate image");
        return;
    }
    tgen_call(g, TMODEL_CALL_IMAGE, tgen_regen_drawn);
}

static void tgen_regen_run(tgen *g) {
    tgen_call(g, TMODEL_CALL_CHAT, tgen_regen_prompted);
}

/* POST /api/storyboards/regenerate/:jobId/:sceneIndex/:shotId */
void tgen_storyboards_regenerate(tsrv_req *req, troutes_match *m) {
    int job_id = troutes_param_int(m, 0), scene = troutes_param_int(m, 1);
    int shot_id = troutes_param_int(m, 2);
    if (tgen_find(req, m, job_id, scene, 1) < 0) {
        return;
    }
    tgen_item *items;
    int nshots;
    tgen_scene_images(m, job_id, scene, &items, &nshots);
    if (!items || shot_id < 0 || shot_id >= nshots) {
        free(items);
        troutes_reply_text(req, 404, "error", "Shot not found");
        return;
    }
    int i = tgen_imaged_index(items, nshots, shot_id);
    if (i < 0) {
        free(items);
        troutes_reply_text(req, 400, "error", "This shot has no image to regenerate");
        return;
    }
    tgen *g = tgen_new(req, m);
    if (!g) {
        free(items);
        return;
    }
    g->job_id = job_id;
    g->scene = scene;
    g->shot_id = shot_id;
    g->shot_index = i;
    json_t *body = troutes_body_json(req);
    const char *mods = json_string_value(json_object_get(body, "modifications"));
    if (mods && *mods) {
        snprintf(g->prompt, sizeof(g->prompt), "%s. %s", items[i].prompt, mods);
    } else {
        snprintf(g->prompt, sizeof(g->prompt), "%s", items[i].prompt);
    }
    tstore_utf8_clean(g->prompt);
    json_decref(body);
    free(items);
    tstore_lock();
    g->generation = tstore_job_get(job_id)->scenes[scene].generation;
    tstore_unlock();
    tgen_start(g, tgen_regen_run);
}

/* ---- the guide's routes ---------------------------------------------------------------------- */

static const char *tgen_str(json_t *o, const char *key, const char *fallback) {
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : fallback;
}

static void tgen_guide_drawn(tgen *g, int ok) {
    if (!ok) {
        tgen_unavailable(g, "Failed to generate image");
        return;
    }
    uint64_t seed = tgen_mix(tmodel_rng_next(tsrv_rng(g->req)), (uint64_t)g->user.id);
    json_t *o = json_pack("{s:b,s:o,s:s}", "success", 1, "imageUrl", tgen_image_json(seed, 1),
                          g->shot_id >= 0 ? "newPrompt" : "prompt", g->prompt);
    if (g->shot_id >= 0) {
        json_object_set_new(o, "shotId", json_integer(g->shot_id));
    } else {
        json_object_set_new(o, "shotDescription",
                            json_string(tgen_str(g->body, "shotDescription", "")));
    }
    tgen_reply(g, 200, o);
}

static void tgen_guide_prompted(tgen *g, int ok) {
    if (!ok) {
        tgen_unavailable(g, "Failed to generate image");
        return;
    }
    tgen_call(g, TMODEL_CALL_IMAGE, tgen_guide_drawn);
}

static void tgen_guide_run(tgen *g) {
    tgen_call(g, TMODEL_CALL_CHAT, tgen_guide_prompted);
}

/* Starts a guide route's generation with its body parsed; NULL after answering 400. */
static tgen *tgen_guide_new(tsrv_req *req, troutes_match *m) {
    json_t *body = troutes_body_json(req);
    if (!body) {
        troutes_reply_text(req, 400, "error", "Invalid JSON body");
        return NULL;
    }
    tgen *g = tgen_new(req, m);
    if (!g) {
        json_decref(body);
        return NULL;
    }
    g->body = body;
    g->shot_id = -1;
    return g;
}

/* The guide's POST /api/shots/generate-image: one prompt and one image from the body's shot. */
void tgen_guide_image(tsrv_req *req, troutes_match *m) {
    tgen *g = tgen_guide_new(req, m);
    if (!g) {
        return;
    }
    json_t *b = g->body;
    tgen_prompt_of(g->prompt, sizeof(g->prompt), tgen_str(b, "shotType", "Medium Shot"),
                   tgen_str(b, "shotDescription", "A scene"),
                   tgen_str(b, "lighting", "Natural light"),
                   tgen_str(b, "moodAndAmbience", "Neutral"));
    tstore_utf8_clean(g->prompt);
    tgen_start(g, tgen_guide_run);
}

/* The guide's POST /api/shots/regenerate-image: newPrompt is imagePromptText plus customPrompt. */
void tgen_guide_regenerate(tsrv_req *req, troutes_match *m) {
    tgen *g = tgen_guide_new(req, m);
    if (!g) {
        return;
    }
    json_t *id = json_object_get(g->body, "shotId");
    g->shot_id = json_is_integer(id) ? (int)json_integer_value(id) : 0;
    const char *base = tgen_str(g->body, "imagePromptText", "Cinematic storyboard frame");
    const char *custom = tgen_str(g->body, "customPrompt", NULL);
    if (custom) {
        snprintf(g->prompt, sizeof(g->prompt), "%s. %s", base, custom);
    } else {
        snprintf(g->prompt, sizeof(g->prompt), "%s", base);
    }
    tstore_utf8_clean(g->prompt);
    tgen_start(g, tgen_guide_run);
}

/* The guide's POST /api/storyboards/generate: a batch over the body's shots, or over a job's. */
void tgen_guide_storyboards(tsrv_req *req, troutes_match *m) {
    if (tgen_pro_only(req, m) < 0) {
        return;
    }
    json_t *body = troutes_body_json(req);
    json_t *shots = json_object_get(body, "shots");
    json_t *scene_v = json_object_get(body, "sceneIndex");
    int scene = json_is_integer(scene_v) ? (int)json_integer_value(scene_v) : 0;
    if (!json_is_array(shots) || json_array_size(shots) == 0) {
        /* No shots in the body: a numeric jobId of the user's behaves as the real route. */
        json_t *job_v = json_object_get(body, "jobId");
        int job_id = json_is_integer(job_v) ? (int)json_integer_value(job_v)
            : json_is_string(job_v)         ? atoi(json_string_value(job_v))
                                            : 0;
        json_decref(body);
        if (job_id <= 0) {
            troutes_reply_text(req, 400, "error", "No shots provided");
            return;
        }
        tgen_batch_job(req, m, job_id, scene, 1);
        return;
    }
    tgen *g = tgen_new(req, m);
    if (!g) {
        json_decref(body);
        return;
    }
    g->body = body;
    size_t n = json_array_size(shots);
    g->nitems = n > TGEN_MAX_GUIDE_SHOTS ? TGEN_MAX_GUIDE_SHOTS : (int)n;
    g->items = calloc((size_t)g->nitems, sizeof(tgen_item));
    if (!g->items) {
        troutes_reply_text(req, 500, "error", "Failed to generate storyboards");
        return;
    }
    g->scene = scene;
    uint64_t salt = tmodel_rng_next(tsrv_rng(req));
    for (int i = 0; i < g->nitems; i++) {
        json_t *s = json_array_get(shots, (size_t)i);
        tgen_item *it = &g->items[i];
        it->need = 1;
        it->seed = (uint32_t)tgen_mix(salt, (uint64_t)i);
        snprintf(it->type, sizeof(it->type), "%s", tgen_str(s, "shotType", "Medium Shot"));
        snprintf(it->lens, sizeof(it->lens), "%s", tgen_str(s, "lens", "35mm"));
        snprintf(it->notes, sizeof(it->notes), "%s", tgen_str(s, "notes", ""));
        snprintf(it->desc, sizeof(it->desc), "%s", tgen_str(s, "shotDescription", "A shot"));
        tgen_prompt_of(it->prompt, sizeof(it->prompt), it->type, it->desc,
                       tgen_str(s, "lighting", "Natural light"),
                       tgen_str(s, "moodAndAmbience", "Neutral"));
        tgen_item_clean(it);
    }
    tgen_start(g, tgen_batch_run);
}
