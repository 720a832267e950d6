/* tsrv.h: the rehearsal server's HTTP/1.1 core: listeners, connections, requests, responses. */
#ifndef VOLLEY_TSRV_H
#define VOLLEY_TSRV_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>
#include <uv.h>

#include "target/tmodel.h"

typedef struct tsrv_conn tsrv_conn;
typedef struct tsrv_worker tsrv_worker;
typedef struct tsrv_req tsrv_req;

/* What the application (routes) gives the core. */
typedef struct {
    size_t max_body_bytes; /* request bodies above it get 413 */
    const tmodel_config *model;
    const char *cert_path, *key_path; /* both NULL for plain HTTP */
    /* Called once per complete request; the handler answers now or later with tsrv_respond. */
    void (*dispatch)(tsrv_req *req);
} tsrv_config;

typedef void (*tsrv_wait_cb)(tsrv_req *req);

/* A growable byte string with a NUL after its len bytes (p is NULL while empty). */
typedef struct {
    char *p;
    size_t len, cap;
} tsrv_buf;

/* One request, owned by the core. The handler may keep it until it answers; if the connection
 * goes first, the core calls cleanup (when set) and frees it, and no callback fires after. */
struct tsrv_req {
    tsrv_req *next; /* the connection's queue, in arrival order */
    tsrv_conn *conn;
    tsrv_worker *worker;
    uint8_t method; /* llhttp_method_t */
    char *path; /* NUL-terminated, without the query */
    char *query; /* NUL-terminated, without '?'; "" when none */
    char *body; /* NUL-terminated */
    size_t body_len;
    char *cookie, *authorization, *content_type; /* NULL when absent */
    int keep_alive;
    int route; /* set by the handler: index for the statistics, -1 for none */
    int no_faults; /* set by the handler: the fault model leaves this answer alone */
    int no_stats; /* set by the handler: the answer is not counted (the /__target routes) */
    uint64_t start_ns;

    /* The application's state: freed by cleanup, which runs exactly once. */
    void *app;
    void (*cleanup)(tsrv_req *req);

    /* The answer, once given. */
    int done;
    int status;
    char *resp;
    size_t resp_len;

    /* Internal. */
    tsrv_buf url_buf, body_buf, cookie_buf, auth_buf, ctype_buf;
    size_t header_bytes;
    int too_large;
    uv_timer_t timer;
    int timer_inited;
    tsrv_wait_cb wait_cb;
};

/* Starts a timer of delay_ms that calls cb with req; replaces any wait in progress. */
void tsrv_wait(tsrv_req *req, uint64_t delay_ms, tsrv_wait_cb cb);

/* Stops the wait in progress, if any. */
void tsrv_wait_cancel(tsrv_req *req);

/* Answers req with a status, a content type, extra header lines (each ending in CRLF, or NULL)
 * and a body (copied). The core writes answers in request order. */
void tsrv_respond(tsrv_req *req, int status, const char *content_type, const char *extra_headers,
                  const char *body, size_t len);

/* The worker's random generator (for the thread that owns req). */
tmodel_rng *tsrv_rng(tsrv_req *req);

/* The worker's capacity inbox, for tmodel_waiter.inbox. */
tmodel_inbox *tsrv_inbox(tsrv_req *req);

/* The process: a listening address and N workers, each one loop on its own thread. */
typedef struct tsrv_server tsrv_server;

/* Binds every worker's socket (SO_REUSEPORT when more than one) to host:port, loads the TLS
 * certificate when asked and prepares the workers. Returns 0 or a negative errno with a reason
 * in err; *port_out gets the bound port. *out is set even on failure: pass it to tsrv_destroy. */
int tsrv_create(tsrv_server **out, const tsrv_config *cfg, const char *host, int port, int threads,
                uint64_t seed, int *port_out, char *err, size_t errcap);

/* Runs every worker until tsrv_stop; the first worker runs on the calling thread, whose loop
 * also carries the signal handles (see tsrv_main_loop). Returns 0 or a negative errno. */
int tsrv_run(tsrv_server *s);

/* The loop of the calling thread's worker, for the caller's signal handles. */
uv_loop_t *tsrv_main_loop(tsrv_server *s);

/* Asks every worker to close its listener and connections; safe from the main loop. */
void tsrv_stop(tsrv_server *s);

/* Frees the server after tsrv_run returned. */
void tsrv_destroy(tsrv_server *s);

#endif
