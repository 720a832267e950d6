/* tsrv.c: the rehearsal server's HTTP/1.1 core: one libuv loop per worker, llhttp parsing,
 * keep-alive and pipelining with answers in order, bounded buffers, faults, optional TLS. */
#include "target/tsrv.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "target/tstats.h"
#include "target/ttls.h"

#define TSRV_MAX_PIPELINE 16 /* answers a connection may owe before reading pauses */
#define TSRV_MAX_URL_BYTES 8192
#define TSRV_MAX_HEADER_BYTES 65536
#define TSRV_MAX_VALUE_BYTES 8192 /* one captured header value */
#define TSRV_MAX_PENDING_BYTES (1 << 20) /* unparsed input kept while reading pauses */
#define TSRV_MAX_WRITE_QUEUE_BYTES (64u << 20) /* unsent output before the peer is dropped */
#define TSRV_READ_BYTES 65536
#define TSRV_GARBAGE_BYTES 512
#define TSRV_DRIP_PIECES 10

enum tsrv_after { TSRV_AFTER_NONE, TSRV_AFTER_FINISH, TSRV_AFTER_RESET };

enum tsrv_capture { TSRV_CAP_NONE, TSRV_CAP_COOKIE, TSRV_CAP_AUTH, TSRV_CAP_CTYPE };

typedef struct tsrv_drip {
    uv_timer_t timer;
    tsrv_conn *conn;
    char *data;
    size_t len, off, piece;
    int close_after;
} tsrv_drip;

struct tsrv_conn {
    uv_tcp_t tcp;
    uv_shutdown_t shutdown;
    tsrv_worker *w;
    tsrv_conn *prev, *next; /* the worker's open connections */
    llhttp_t parser;
    tsrv_req *cur; /* being parsed */
    tsrv_req *head, *tail; /* owed answers, in order */
    int nqueued;
    char field[32];
    size_t field_len;
    int capture;
    tsrv_buf pending; /* input not yet parsed while paused */
    int paused; /* parsing stopped on a full pipeline */
    int in_parse;
    int closing; /* uv_close called */
    int finishing; /* no more requests: close once written */
    int shutting; /* uv_shutdown issued */
    int read_eof;
    int stalled; /* a stall fault: nothing more is written */
    tsrv_drip *drip;
    ttls_conn *tls;
    tsrv_buf tls_out; /* ciphertext gathered during one TLS call */
};

struct tsrv_worker {
    tsrv_server *server;
    int index;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wake;
    tmodel_inbox inbox;
    tmodel_rng rng;
    tsrv_conn *conns;
    int fd;
    volatile int stop_requested;
    int stopping;
    pthread_t thread;
    int thread_started;
    void *tls; /* ttls_server */
    char readbuf[TSRV_READ_BYTES];
    char plainbuf[TSRV_READ_BYTES];
};

struct tsrv_server {
    tsrv_config cfg;
    llhttp_settings_t settings;
    int nworkers;
    tsrv_worker *workers;
};

typedef struct {
    uv_write_t w;
    uv_buf_t buf;
    tsrv_conn *conn;
    int after;
} tsrv_wreq;

static void tsrv_flush(tsrv_conn *c);
static void tsrv_close(tsrv_conn *c, int reset);
static void tsrv_finish(tsrv_conn *c);
static void tsrv_parse(tsrv_conn *c, const char *data, size_t len);
static void tsrv_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void tsrv_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- small buffers ----------------------------------------------------------------------- */

/* Appends n bytes, keeping a NUL after them. Returns 0 or -1 when limit would be passed or
 * memory runs out. */
static int tsrv_buf_add(tsrv_buf *b, const char *data, size_t n, size_t limit) {
    if (b->len + n > limit) {
        return -1;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static void tsrv_buf_free(tsrv_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- requests ---------------------------------------------------------------------------- */

static void tsrv_req_free_cb(uv_handle_t *h) {
    free(h->data);
}

/* Frees a request: its application state first, then its buffers; its timer is closed. */
static void tsrv_req_free(tsrv_req *r) {
    if (r->cleanup) {
        void (*cleanup)(tsrv_req *) = r->cleanup;
        r->cleanup = NULL;
        cleanup(r);
    }
    tsrv_buf_free(&r->url_buf);
    tsrv_buf_free(&r->body_buf);
    tsrv_buf_free(&r->cookie_buf);
    tsrv_buf_free(&r->auth_buf);
    tsrv_buf_free(&r->ctype_buf);
    free(r->resp);
    r->resp = NULL;
    if (r->timer_inited) {
        uv_timer_stop(&r->timer);
        r->timer.data = r;
        uv_close((uv_handle_t *)&r->timer, tsrv_req_free_cb);
    } else {
        free(r);
    }
}

static void tsrv_timer_cb(uv_timer_t *t) {
    tsrv_req *r = t->data;
    tsrv_wait_cb cb = r->wait_cb;
    r->wait_cb = NULL;
    if (cb) {
        cb(r);
    }
}

/* Starts a timer of delay_ms that calls cb with req; replaces any wait in progress. */
void tsrv_wait(tsrv_req *req, uint64_t delay_ms, tsrv_wait_cb cb) {
    if (!req->timer_inited) {
        uv_timer_init(&req->worker->loop, &req->timer);
        req->timer_inited = 1;
    }
    req->timer.data = req;
    req->wait_cb = cb;
    uv_timer_start(&req->timer, tsrv_timer_cb, delay_ms, 0);
}

/* Stops the wait in progress, if any. */
void tsrv_wait_cancel(tsrv_req *req) {
    if (req->timer_inited) {
        uv_timer_stop(&req->timer);
    }
    req->wait_cb = NULL;
}

/* The worker's random generator (for the thread that owns req). */
tmodel_rng *tsrv_rng(tsrv_req *req) {
    return &req->worker->rng;
}

/* The worker's capacity inbox, for tmodel_waiter.inbox. */
tmodel_inbox *tsrv_inbox(tsrv_req *req) {
    return &req->worker->inbox;
}

static const char *tsrv_reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 413:
            return "Payload Too Large";
        case 414:
            return "URI Too Long";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 507:
            return "Insufficient Storage";
        default:
            return "Unknown";
    }
}

void tsrv_respond(tsrv_req *req, int status, const char *content_type, const char *extra_headers,
                  const char *body, size_t len) {
    if (req->done) {
        return;
    }
    tsrv_wait_cancel(req);
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n%s\r\n",
                     status, tsrv_reason(status), content_type, len,
                     req->keep_alive ? "keep-alive" : "close", extra_headers ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n");
        len = 0;
        req->keep_alive = 0;
        status = 500;
    }
    size_t body_len = req->method == HTTP_HEAD ? 0 : len;
    req->resp = malloc((size_t)n + body_len);
    if (!req->resp) {
        /* Out of memory: drop the connection rather than answer wrongly. */
        req->done = 1;
        if (req->conn) {
            tsrv_close(req->conn, 0);
        }
        return;
    }
    memcpy(req->resp, head, (size_t)n);
    if (body_len) {
        memcpy(req->resp + n, body, body_len);
    }
    req->resp_len = (size_t)n + body_len;
    req->status = status;
    req->done = 1;
    if (req->conn) {
        tsrv_flush(req->conn);
    }
}

/* ---- writing ----------------------------------------------------------------------------- */

static void tsrv_close_cb(uv_handle_t *h) {
    tsrv_conn *c = h->data;
    tsrv_buf_free(&c->pending);
    tsrv_buf_free(&c->tls_out);
    if (c->tls) {
        ttls_conn_free(c->tls);
    }
    free(c);
}

static void tsrv_after(tsrv_conn *c, int after) {
    if (after == TSRV_AFTER_RESET) {
        tsrv_close(c, 1);
    } else if (after == TSRV_AFTER_FINISH) {
        tsrv_finish(c);
    }
}

static void tsrv_write_cb(uv_write_t *w, int status) {
    tsrv_wreq *wr = (tsrv_wreq *)w;
    tsrv_conn *c = wr->conn;
    int after = wr->after;
    free(wr->buf.base);
    free(wr);
    if (status < 0) {
        tsrv_close(c, 0);
        return;
    }
    if (!c->closing) {
        tsrv_after(c, after);
    }
}

/* Writes bytes the connection owns from now on (data is malloc'd), then does `after`. */
static void tsrv_raw_write(tsrv_conn *c, char *data, size_t len, int after) {
    if (c->closing) {
        free(data);
        return;
    }
    size_t off = 0;
    if (c->tcp.write_queue_size == 0) {
        uv_buf_t b = uv_buf_init(data, (unsigned int)len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        off = n > 0 ? (size_t)n : 0;
    }
    if (off == len) {
        free(data);
        tsrv_after(c, after);
        return;
    }
    tsrv_wreq *wr = malloc(sizeof(*wr));
    char *rest = off ? malloc(len - off) : data;
    if (!wr || !rest) {
        free(wr);
        free(data);
        if (rest != data) {
            free(rest);
        }
        tsrv_close(c, 0);
        return;
    }
    if (off) {
        memcpy(rest, data + off, len - off);
        free(data);
    }
    wr->buf = uv_buf_init(rest, (unsigned int)(len - off));
    wr->conn = c;
    wr->after = after;
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &wr->buf, 1, tsrv_write_cb) < 0) {
        free(rest);
        free(wr);
        tsrv_close(c, 0);
        return;
    }
    if (c->tcp.write_queue_size > TSRV_MAX_WRITE_QUEUE_BYTES) {
        tsrv_close(c, 0); /* a peer that does not read may not pile up our memory */
    }
}

/* Sends the ciphertext gathered during a TLS call. */
static void tsrv_tls_flush(tsrv_conn *c, int after) {
    if (c->tls_out.len == 0) {
        tsrv_after(c, after);
        return;
    }
    char *data = c->tls_out.p;
    size_t len = c->tls_out.len;
    c->tls_out.p = NULL;
    c->tls_out.len = c->tls_out.cap = 0;
    tsrv_raw_write(c, data, len, after);
}

static void tsrv_tls_send(void *owner, const uint8_t *data, size_t len) {
    tsrv_conn *c = owner;
    if (tsrv_buf_add(&c->tls_out, (const char *)data, len, SIZE_MAX / 2) < 0) {
        c->finishing = 1;
    }
}

/* Writes plaintext (malloc'd, owned from now on), through TLS when the connection has it. */
static void tsrv_write(tsrv_conn *c, char *data, size_t len, int after) {
    if (!c->tls) {
        tsrv_raw_write(c, data, len, after);
        return;
    }
    int rc = ttls_conn_write(c->tls, (const uint8_t *)data, len);
    free(data);
    if (rc < 0) {
        tsrv_close(c, 0);
        return;
    }
    tsrv_tls_flush(c, after);
}

/* ---- faults ------------------------------------------------------------------------------ */

static void tsrv_drip_free_cb(uv_handle_t *h) {
    tsrv_drip *d = h->data;
    free(d->data);
    free(d);
}

static void tsrv_drip_tick(uv_timer_t *t) {
    tsrv_drip *d = t->data;
    tsrv_conn *c = d->conn;
    size_t n = d->len - d->off < d->piece ? d->len - d->off : d->piece;
    char *copy = malloc(n);
    if (!copy) {
        tsrv_close(c, 0);
        return;
    }
    memcpy(copy, d->data + d->off, n);
    d->off += n;
    tsrv_write(c, copy, n, TSRV_AFTER_NONE);
    if (c->closing || d->off < d->len) {
        return;
    }
    int close_after = d->close_after;
    c->drip = NULL;
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, tsrv_drip_free_cb);
    if (close_after) {
        tsrv_finish(c);
    } else {
        tsrv_flush(c);
    }
}

/* Sends a response in TSRV_DRIP_PIECES pieces spread over the model's drip time. */
static void tsrv_drip_start(tsrv_conn *c, char *data, size_t len, int close_after) {
    tsrv_drip *d = calloc(1, sizeof(*d));
    if (!d) {
        free(data);
        tsrv_close(c, 0);
        return;
    }
    d->conn = c;
    d->data = data;
    d->len = len;
    d->piece = len / TSRV_DRIP_PIECES + 1;
    d->close_after = close_after;
    uv_timer_init(&c->w->loop, &d->timer);
    d->timer.data = d;
    c->drip = d;
    uint64_t every_ms = (uint64_t)(c->w->server->cfg.model->drip_ms / TSRV_DRIP_PIECES);
    uv_timer_start(&d->timer, tsrv_drip_tick, 0, every_ms ? every_ms : 1);
}

/* Spoils one answer as the fault model says, or writes it whole. Returns 1 when the
 * connection takes no more answers. */
static int tsrv_deliver(tsrv_conn *c, tsrv_req *r) {
    const tmodel_config *m = c->w->server->cfg.model;
    tmodel_fault f = TMODEL_FAULT_NONE;
    if (m->fault != TMODEL_FAULT_NONE && !r->no_faults &&
        tmodel_rng_unit(&c->w->rng) < m->fault_rate) {
        f = m->fault;
    }
    char *data = r->resp;
    size_t len = r->resp_len;
    r->resp = NULL;
    int close_after = !r->keep_alive;
    switch (f) {
        case TMODEL_FAULT_NONE:
            if (!r->no_stats) {
                tstats_response(r->route, r->status);
            }
            tsrv_write(c, data, len, close_after ? TSRV_AFTER_FINISH : TSRV_AFTER_NONE);
            return close_after;
        case TMODEL_FAULT_RESET:
            tstats_add(TSTATS_FAULT_RESET, 1);
            c->finishing = 1;
            tsrv_write(c, data, len / 2, TSRV_AFTER_RESET);
            return 1;
        case TMODEL_FAULT_STALL:
            tstats_add(TSTATS_FAULT_STALL, 1);
            free(data);
            c->stalled = 1;
            return 1;
        case TMODEL_FAULT_GARBAGE:
            tstats_add(TSTATS_FAULT_GARBAGE, 1);
            free(data);
            data = malloc(TSRV_GARBAGE_BYTES);
            if (!data) {
                tsrv_close(c, 0);
                return 1;
            }
            for (size_t i = 0; i < TSRV_GARBAGE_BYTES; i += 8) {
                uint64_t v = tmodel_rng_next(&c->w->rng);
                memcpy(data + i, &v, 8);
            }
            memcpy(data, "\x01GARBAGE", 8); /* never a valid status line */
            c->finishing = 1;
            tsrv_write(c, data, TSRV_GARBAGE_BYTES, TSRV_AFTER_FINISH);
            return 1;
        case TMODEL_FAULT_DRIP:
            tstats_add(TSTATS_FAULT_DRIP, 1);
            tstats_response(r->route, r->status);
            tsrv_drip_start(c, data, len, close_after);
            return close_after;
    }
    return 0;
}

/* Writes every answer at the head of the queue that is ready, in order; resumes parsing when
 * the queue has room again. */
static void tsrv_flush(tsrv_conn *c) {
    while (!c->closing && !c->stalled && !c->drip && c->head && c->head->done) {
        tsrv_req *r = c->head;
        c->head = r->next;
        if (!c->head) {
            c->tail = NULL;
        }
        c->nqueued--;
        int last = tsrv_deliver(c, r);
        tsrv_req_free(r);
        if (last) {
            c->finishing = 1;
            return;
        }
    }
    if (c->closing || c->finishing || c->stalled) {
        return;
    }
    if (c->read_eof && !c->head && !c->drip) {
        tsrv_finish(c);
        return;
    }
    if (c->paused && !c->in_parse && c->nqueued < TSRV_MAX_PIPELINE) {
        tsrv_buf rest = c->pending;
        memset(&c->pending, 0, sizeof(c->pending));
        c->paused = 0;
        llhttp_resume(&c->parser);
        if (rest.len) {
            tsrv_parse(c, rest.p, rest.len);
        }
        tsrv_buf_free(&rest);
        if (!c->paused && !c->closing && !c->finishing && !c->read_eof) {
            uv_read_start((uv_stream_t *)&c->tcp, tsrv_alloc_cb, tsrv_read_cb);
        }
    }
}

/* ---- connection life --------------------------------------------------------------------- */

static void tsrv_drop_requests(tsrv_conn *c) {
    if (c->cur) {
        tsrv_req_free(c->cur);
        c->cur = NULL;
    }
    while (c->head) {
        tsrv_req *r = c->head;
        c->head = r->next;
        tstats_add(TSTATS_ABORTED, 1);
        tsrv_req_free(r);
    }
    c->tail = NULL;
    c->nqueued = 0;
}

/* Closes at once (with a TCP reset when asked); every request still owed is dropped. */
static void tsrv_close(tsrv_conn *c, int reset) {
    if (c->closing) {
        return;
    }
    c->closing = 1;
    tsrv_drop_requests(c);
    if (c->drip) {
        uv_timer_stop(&c->drip->timer);
        uv_close((uv_handle_t *)&c->drip->timer, tsrv_drip_free_cb);
        c->drip = NULL;
    }
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        c->w->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    tstats_add(TSTATS_CONN_CLOSED, 1);
    c->tcp.data = c;
    if (reset && uv_tcp_close_reset(&c->tcp, tsrv_close_cb) == 0) {
        return;
    }
    uv_close((uv_handle_t *)&c->tcp, tsrv_close_cb);
}

static void tsrv_shutdown_cb(uv_shutdown_t *s, int status) {
    tsrv_close(s->data, 0);
}

/* Closes once everything written so far has gone out. */
static void tsrv_finish(tsrv_conn *c) {
    if (c->closing || c->shutting) {
        return;
    }
    c->finishing = 1;
    c->shutting = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, tsrv_shutdown_cb) < 0) {
        tsrv_close(c, 0);
    }
}

/* ---- parsing ----------------------------------------------------------------------------- */

static tsrv_conn *tsrv_conn_of(llhttp_t *p) {
    return p->data;
}

static int tsrv_on_begin(llhttp_t *p) {
    tsrv_conn *c = tsrv_conn_of(p);
    tsrv_req *r = calloc(1, sizeof(*r));
    if (!r) {
        return -1;
    }
    r->conn = c;
    r->worker = c->w;
    r->route = -1;
    r->start_ns = uv_hrtime();
    if (c->cur) {
        tsrv_req_free(c->cur);
    }
    c->cur = r;
    c->field_len = 0;
    c->capture = TSRV_CAP_NONE;
    return 0;
}

static int tsrv_on_url(llhttp_t *p, const char *at, size_t n) {
    tsrv_req *r = tsrv_conn_of(p)->cur;
    if (tsrv_buf_add(&r->url_buf, at, n, TSRV_MAX_URL_BYTES) < 0) {
        r->too_large = 414;
        return -1;
    }
    return 0;
}

/* Counts header bytes against the limit; -1 (and 431) when passed. */
static int tsrv_header_bytes(tsrv_req *r, size_t n) {
    r->header_bytes += n;
    if (r->header_bytes > TSRV_MAX_HEADER_BYTES) {
        r->too_large = 431;
        return -1;
    }
    return 0;
}

static int tsrv_on_field(llhttp_t *p, const char *at, size_t n) {
    tsrv_conn *c = tsrv_conn_of(p);
    if (tsrv_header_bytes(c->cur, n) < 0) {
        return -1;
    }
    size_t room = sizeof(c->field) - 1 - c->field_len;
    size_t take = n < room ? n : room;
    memcpy(c->field + c->field_len, at, take);
    c->field_len += take;
    if (take < n) {
        c->field_len = sizeof(c->field) - 1; /* too long to be one we keep */
        c->field[0] = '\0';
    }
    return 0;
}

static int tsrv_on_field_done(llhttp_t *p) {
    tsrv_conn *c = tsrv_conn_of(p);
    c->field[c->field_len] = '\0';
    if (strcasecmp(c->field, "cookie") == 0) {
        c->capture = TSRV_CAP_COOKIE;
    } else if (strcasecmp(c->field, "authorization") == 0) {
        c->capture = TSRV_CAP_AUTH;
    } else if (strcasecmp(c->field, "content-type") == 0) {
        c->capture = TSRV_CAP_CTYPE;
    } else {
        c->capture = TSRV_CAP_NONE;
    }
    return 0;
}

static int tsrv_on_value(llhttp_t *p, const char *at, size_t n) {
    tsrv_conn *c = tsrv_conn_of(p);
    tsrv_req *r = c->cur;
    if (tsrv_header_bytes(r, n) < 0) {
        return -1;
    }
    tsrv_buf *b = c->capture == TSRV_CAP_COOKIE ? &r->cookie_buf
        : c->capture == TSRV_CAP_AUTH           ? &r->auth_buf
        : c->capture == TSRV_CAP_CTYPE          ? &r->ctype_buf
                                                : NULL;
    if (b && tsrv_buf_add(b, at, n, TSRV_MAX_VALUE_BYTES) < 0) {
        r->too_large = 431;
        return -1;
    }
    return 0;
}

static int tsrv_on_value_done(llhttp_t *p) {
    tsrv_conn *c = tsrv_conn_of(p);
    tsrv_buf *b = c->capture == TSRV_CAP_COOKIE ? &c->cur->cookie_buf : NULL;
    /* Several Cookie lines are joined as one, as "; " would. */
    if (b && b->len && b->p[b->len - 1] != ';') {
        tsrv_buf_add(b, ";", 1, TSRV_MAX_VALUE_BYTES + 1);
    }
    c->field_len = 0;
    c->capture = TSRV_CAP_NONE;
    return 0;
}

static int tsrv_on_headers_done(llhttp_t *p) {
    tsrv_conn *c = tsrv_conn_of(p);
    size_t max = c->w->server->cfg.max_body_bytes;
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > max) {
        c->cur->too_large = 413;
        return -1;
    }
    return 0;
}

static int tsrv_on_body(llhttp_t *p, const char *at, size_t n) {
    tsrv_conn *c = tsrv_conn_of(p);
    if (tsrv_buf_add(&c->cur->body_buf, at, n, c->w->server->cfg.max_body_bytes) < 0) {
        c->cur->too_large = 413;
        return -1;
    }
    return 0;
}

/* Fills the request's public fields from what was parsed. */
static void tsrv_req_finish_parse(tsrv_req *r, llhttp_t *p) {
    static char empty[1] = "";
    r->method = llhttp_get_method(p);
    r->keep_alive = llhttp_should_keep_alive(p);
    r->path = r->url_buf.p ? r->url_buf.p : empty;
    char *q = strchr(r->path, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    } else {
        r->query = empty;
    }
    r->body = r->body_buf.p ? r->body_buf.p : empty;
    r->body_len = r->body_buf.len;
    r->cookie = r->cookie_buf.p;
    r->authorization = r->auth_buf.p;
    r->content_type = r->ctype_buf.p;
}

static int tsrv_on_complete(llhttp_t *p) {
    tsrv_conn *c = tsrv_conn_of(p);
    tsrv_req *r = c->cur;
    c->cur = NULL;
    tsrv_req_finish_parse(r, p);
    if (c->tail) {
        c->tail->next = r;
    } else {
        c->head = r;
    }
    c->tail = r;
    c->nqueued++;
    int keep_alive = r->keep_alive;
    c->w->server->cfg.dispatch(r); /* may answer, and free r, at once */
    if (!keep_alive) {
        c->finishing = 1; /* the answers owed are still written, then the connection closes */
    }
    if (c->closing || c->finishing || c->stalled || c->nqueued >= TSRV_MAX_PIPELINE) {
        return HPE_PAUSED;
    }
    return 0;
}

/* Answers a request that could not be parsed, then closes after it. */
static void tsrv_parse_failed(tsrv_conn *c) {
    tstats_add(TSTATS_BAD_REQUESTS, 1);
    tsrv_req *r = c->cur;
    c->cur = NULL;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r) {
            tsrv_close(c, 0);
            return;
        }
        r->conn = c;
        r->worker = c->w;
    }
    int status = r->too_large ? r->too_large : 400;
    r->route = -1;
    r->keep_alive = 0;
    r->no_faults = 1;
    if (c->tail) {
        c->tail->next = r;
    } else {
        c->head = r;
    }
    c->tail = r;
    c->nqueued++;
    c->finishing = 1; /* the answers owed are still written, then the connection closes */
    uv_read_stop((uv_stream_t *)&c->tcp);
    char body[96];
    int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", tsrv_reason(status));
    tsrv_respond(r, status, "application/json", NULL, body, (size_t)n);
}

static void tsrv_parse(tsrv_conn *c, const char *data, size_t len) {
    if (c->closing || c->finishing || c->stalled) {
        return;
    }
    if (c->paused) {
        if (tsrv_buf_add(&c->pending, data, len, TSRV_MAX_PENDING_BYTES) < 0) {
            tsrv_close(c, 0);
        }
        return;
    }
    c->in_parse = 1;
    llhttp_errno_t err = llhttp_execute(&c->parser, data, len);
    c->in_parse = 0;
    if (c->closing || c->finishing || c->stalled) {
        return;
    }
    if (err == HPE_OK) {
        return;
    }
    if (err == HPE_PAUSED) {
        const char *pos = llhttp_get_error_pos(&c->parser);
        size_t used = pos ? (size_t)(pos - data) : len;
        c->paused = 1;
        uv_read_stop((uv_stream_t *)&c->tcp);
        if (used < len &&
            tsrv_buf_add(&c->pending, data + used, len - used, TSRV_MAX_PENDING_BYTES) < 0) {
            tsrv_close(c, 0);
        }
        /* Answers given during the parse were written then; the head of a full pipeline is
         * still being worked on, and its answer resumes the parse through tsrv_flush. */
        return;
    }
    tsrv_parse_failed(c);
}

/* ---- reading ----------------------------------------------------------------------------- */

static void tsrv_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    tsrv_conn *c = h->data;
    buf->base = c->w->readbuf;
    buf->len = sizeof(c->w->readbuf);
}

static void tsrv_read_tls(tsrv_conn *c, const char *data, size_t len) {
    if (ttls_conn_feed(c->tls, (const uint8_t *)data, len) < 0) {
        tsrv_close(c, 0);
        return;
    }
    for (;;) {
        long n = ttls_conn_read(c->tls, c->w->plainbuf, sizeof(c->w->plainbuf));
        tsrv_tls_flush(c, TSRV_AFTER_NONE);
        if (c->closing) {
            return;
        }
        if (n < 0) {
            tsrv_close(c, 0);
            return;
        }
        if (n == 0) {
            return;
        }
        tsrv_parse(c, c->w->plainbuf, (size_t)n);
        if (c->closing || c->finishing) {
            return;
        }
    }
}

static void tsrv_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    tsrv_conn *c = s->data;
    if (nread == 0) {
        return;
    }
    if (nread < 0) {
        uv_read_stop(s);
        if (nread != UV_EOF || c->stalled) {
            tsrv_close(c, 0);
            return;
        }
        if (!c->head && !c->drip) {
            tsrv_finish(c); /* what was written still goes out */
            return;
        }
        c->read_eof = 1; /* a half-close: answer what was asked, then close */
        return;
    }
    if (c->stalled) {
        return; /* read and drop, so that a peer's close is seen */
    }
    if (c->tls) {
        tsrv_read_tls(c, buf->base, (size_t)nread);
    } else {
        tsrv_parse(c, buf->base, (size_t)nread);
    }
}

static void tsrv_accept_cb(uv_stream_t *server, int status) {
    tsrv_worker *w = server->data;
    if (status < 0 || w->stopping) {
        return;
    }
    tsrv_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        return;
    }
    c->w = w;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, tsrv_close_cb);
        return;
    }
    if (w->tls) {
        c->tls = ttls_conn_new(w->tls, tsrv_tls_send, c);
        if (!c->tls) {
            uv_close((uv_handle_t *)&c->tcp, tsrv_close_cb);
            return;
        }
    }
    uv_tcp_nodelay(&c->tcp, 1);
    llhttp_init(&c->parser, HTTP_REQUEST, &w->server->settings);
    c->parser.data = c;
    c->next = w->conns;
    if (w->conns) {
        w->conns->prev = c;
    }
    w->conns = c;
    tstats_add(TSTATS_CONN_ACCEPTED, 1);
    uv_read_start((uv_stream_t *)&c->tcp, tsrv_alloc_cb, tsrv_read_cb);
}

/* ---- workers and the server ---------------------------------------------------------------- */

static void tsrv_worker_shutdown(tsrv_worker *w) {
    if (w->stopping) {
        return;
    }
    w->stopping = 1;
    uv_close((uv_handle_t *)&w->listener, NULL);
    while (w->conns) {
        tsrv_close(w->conns, 0);
    }
    uv_close((uv_handle_t *)&w->wake, NULL);
}

static void tsrv_wake_cb(uv_async_t *a) {
    tsrv_worker *w = a->data;
    if (w->stopping) {
        return;
    }
    tmodel_inbox_drain(&w->inbox);
    if (w->stop_requested) {
        tsrv_worker_shutdown(w);
    }
}

/* Opens a listening socket on addr, sharing the port between workers when reuse_port is set. */
static int tsrv_socket(const struct sockaddr *addr, int reuse_port) {
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    socklen_t alen =
        addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, addr, alen) < 0 || listen(fd, 1024) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

static void tsrv_settings(llhttp_settings_t *s) {
    llhttp_settings_init(s);
    s->on_message_begin = tsrv_on_begin;
    s->on_url = tsrv_on_url;
    s->on_header_field = tsrv_on_field;
    s->on_header_field_complete = tsrv_on_field_done;
    s->on_header_value = tsrv_on_value;
    s->on_header_value_complete = tsrv_on_value_done;
    s->on_headers_complete = tsrv_on_headers_done;
    s->on_body = tsrv_on_body;
    s->on_message_complete = tsrv_on_complete;
}

static int tsrv_resolve(const char *host, int port, struct sockaddr_storage *ss) {
    if (strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) {
        return 0;
    }
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0) {
        return 0;
    }
    return -EINVAL;
}

/* Prepares worker i: its loop, wake handle and listener on an open socket. */
static int tsrv_worker_init(tsrv_server *s, int i, int fd, uint64_t seed, char *err,
                            size_t errcap) {
    tsrv_worker *w = &s->workers[i];
    w->server = s;
    w->index = i;
    w->fd = fd;
    tmodel_rng_seed(&w->rng, seed + (uint64_t)i * 0x9e3779b97f4a7c15ULL);
    if (s->cfg.cert_path) {
        int rc = ttls_server_create((ttls_server **)&w->tls, s->cfg.cert_path, s->cfg.key_path, err,
                                    errcap);
        if (rc < 0) {
            return rc;
        }
    }
    int rc = uv_loop_init(&w->loop);
    if (rc < 0) {
        return rc;
    }
    uv_async_init(&w->loop, &w->wake, tsrv_wake_cb);
    w->wake.data = w;
    w->inbox.wake = &w->wake;
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    rc = uv_tcp_open(&w->listener, fd);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&w->listener, 1024, tsrv_accept_cb);
    }
    if (rc < 0) {
        snprintf(err, errcap, "%s", uv_strerror(rc));
    }
    return rc;
}

int tsrv_create(tsrv_server **out, const tsrv_config *cfg, const char *host, int port, int threads,
                uint64_t seed, int *port_out, char *err, size_t errcap) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (tsrv_resolve(host, port, &ss) < 0) {
        snprintf(err, errcap, "not a numeric address: %s", host);
        return -EINVAL;
    }
    tsrv_server *s = calloc(1, sizeof(*s));
    if (!s) {
        return -ENOMEM;
    }
    s->cfg = *cfg;
    tsrv_settings(&s->settings);
    s->workers = calloc((size_t)threads, sizeof(tsrv_worker));
    if (!s->workers) {
        free(s);
        return -ENOMEM;
    }
    for (int i = 0; i < threads; i++) {
        int fd = tsrv_socket((struct sockaddr *)&ss, threads > 1);
        if (fd < 0) {
            snprintf(err, errcap, "%s", strerror(-fd));
            *out = s;
            return fd;
        }
        if (i == 0) {
            struct sockaddr_storage bound;
            socklen_t blen = sizeof(bound);
            getsockname(fd, (struct sockaddr *)&bound, &blen);
            port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                     : ((struct sockaddr_in *)&bound)->sin_port);
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
            if (ss.ss_family == AF_INET6) {
                ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
            }
        }
        s->nworkers = i + 1;
        int rc = tsrv_worker_init(s, i, fd, seed, err, errcap);
        if (rc < 0) {
            *out = s;
            return rc;
        }
    }
    *port_out = port;
    *out = s;
    return 0;
}

static void *tsrv_thread_main(void *arg) {
    tsrv_worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Runs every worker until tsrv_stop; the first worker runs on the calling thread, whose loop
 * also carries the signal handles (see tsrv_main_loop). Returns 0 or a negative errno. */
int tsrv_run(tsrv_server *s) {
    for (int i = 1; i < s->nworkers; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, tsrv_thread_main, &s->workers[i]) != 0) {
            return -EAGAIN;
        }
        s->workers[i].thread_started = 1;
    }
    uv_run(&s->workers[0].loop, UV_RUN_DEFAULT);
    for (int i = 1; i < s->nworkers; i++) {
        if (s->workers[i].thread_started) {
            pthread_join(s->workers[i].thread, NULL);
            s->workers[i].thread_started = 0;
        }
    }
    return 0;
}

/* The loop of the calling thread's worker, for the caller's signal handles. */
uv_loop_t *tsrv_main_loop(tsrv_server *s) {
    return &s->workers[0].loop;
}

/* Asks every worker to close its listener and connections; safe from the main loop. */
void tsrv_stop(tsrv_server *s) {
    for (int i = 0; i < s->nworkers; i++) {
        s->workers[i].stop_requested = 1;
        uv_async_send(&s->workers[i].wake);
    }
}

static void tsrv_walk_close(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

/* Frees the server after tsrv_run returned. */
void tsrv_destroy(tsrv_server *s) {
    if (!s) {
        return;
    }
    for (int i = 0; i < s->nworkers; i++) {
        tsrv_worker *w = &s->workers[i];
        if (w->wake.loop) {
            /* Handles of a worker that never ran (a failed start) are closed here. */
            uv_walk(&w->loop, tsrv_walk_close, NULL);
            uv_run(&w->loop, UV_RUN_DEFAULT);
            uv_loop_close(&w->loop);
        } else if (w->fd > 0) {
            close(w->fd);
        }
        if (w->tls) {
            ttls_server_free(w->tls);
        }
    }
    free(s->workers);
    free(s);
}
