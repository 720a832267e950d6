/* conn.h: one HTTP/1.1 client connection's life: connect, send, parse, time out, close. */
#ifndef VOLLEY_HTTP_CONN_H
#define VOLLEY_HTTP_CONN_H

#include <stdint.h>
#include <llhttp.h>

#include "net/net.h"

#define HTTP_MAX_HEADER_BYTES (64 * 1024)

typedef struct http_conn http_conn;

/* How one request ended. err_class is a stats_err class, or -1 when the transport delivered a
 * response (whose status may still make it a failure). */
typedef struct http_outcome {
    int status; /* 0 when no response arrived */
    int err_class; /* -1 or enum stats_err */
    int err; /* the net or parser code behind err_class, 0 otherwise */
    uint64_t start_ns; /* when the request started (write or scheduled time) */
    uint64_t end_ns;
    uint64_t ttfb_ns; /* first response byte after start, 0 when none */
    uint64_t bytes_in; /* response bytes on the wire (headers and body) */
    const char *body; /* kept body when the conn keeps bodies, else NULL */
    size_t body_len;
    const char *headers; /* kept header pairs "name\0value\0", when the conn keeps them */
    size_t headers_len;
    int reusable; /* the connection may carry another request */
} http_outcome;

typedef struct http_conn_cbs {
    /* Connected (and TLS done) and idle: the owner may send. */
    void (*on_ready)(http_conn *c);
    /* A request ended (ok or failed). Called once per request sent. */
    void (*on_done)(http_conn *c, const http_outcome *o);
    /* The connection could not be made: err_class is connect or tls, err the code. */
    void (*on_connect_failed)(http_conn *c, int err_class, int err);
    /* The connection is closed and may be connected again. */
    void (*on_closed)(http_conn *c);
} http_conn_cbs;

enum http_conn_state {
    HTTP_CONN_CLOSED,
    HTTP_CONN_CONNECTING,
    HTTP_CONN_IDLE,
    HTTP_CONN_BUSY,
    HTTP_CONN_CLOSING
};

struct http_conn {
    net_stream stream; /* first: the stream's owner pointer leads back here */
    llhttp_t parser;
    const http_conn_cbs *cbs;
    void *owner;
    int state;

    uint64_t max_body_bytes;
    int keep_body; /* hand the body to on_done */
    int keep_headers; /* hand the header pairs to on_done */

    /* The request (or pipelined batch) in flight. */
    uint32_t outstanding;
    int is_head;
    uint64_t start_ns;
    uint64_t deadline_ns;
    uint64_t connect_timeout_ns;
    uint64_t ttfb_ns;
    uint64_t resp_bytes_in;
    uint64_t header_bytes;
    uint64_t body_bytes;
    int status;
    int limit_hit; /* a header or body limit was passed */
    int close_after; /* the server asked to close after this response */

    char *body;
    size_t body_len;
    size_t body_cap;
    char *hdr; /* name\0value\0 pairs of the response being parsed */
    size_t hdr_len;
    size_t hdr_cap;
    int hdr_in_value; /* the last header piece was part of a value */

    uint64_t connect_ns; /* last connection's TCP connect time */
    uint64_t handshake_ns; /* last connection's TLS handshake time */
    uint32_t index; /* owner's numbering */
};

/* Prepares a connection on a loop; nothing is opened. */
void http_conn_init(http_conn *c, uv_loop_t *loop, const http_conn_cbs *cbs, void *owner,
                    uint64_t max_body_bytes);

/* Opens the connection (TLS when tls_ctx is set), to be ready within timeout_ns (0: no bound).
 * 0 or a negative code; on_ready or on_connect_failed follows. */
int http_conn_connect(http_conn *c, const struct sockaddr *addr, net_tls_ctx *tls_ctx,
                      const char *server_name, uint64_t timeout_ns);

/* Sends count pipelined requests held in bytes (borrowed until return). start_ns is the
 * request's start for latency; timeout_ns bounds it (0: none). The connection must be idle.
 * 0, or a negative code after which the owner has already been told through on_done. */
int http_conn_send(http_conn *c, const char *bytes, size_t len, uint32_t count, int is_head,
                   uint64_t start_ns, uint64_t timeout_ns);

/* Ends the request in flight as a timeout, or the connection attempt as a connect (or tls)
 * failure, when its deadline is before now_ns; the connection is then closed. Returns 1 when
 * it expired. */
int http_conn_expire(http_conn *c, uint64_t now_ns);

/* Closes the connection; on_closed follows. Requests in flight get no on_done: the caller
 * accounts for them (http_conn_in_flight tells how many). */
void http_conn_close(http_conn *c);

/* Requests sent on this connection and not yet ended. */
uint32_t http_conn_in_flight(const http_conn *c);

/* Frees what the connection holds (kept body). Call after on_closed or before any connect. */
void http_conn_release(http_conn *c);

#endif
