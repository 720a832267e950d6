/* conn.c: one HTTP/1.1 client connection: writes requests, parses responses with llhttp. */
#include "http/conn.h"

#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

static int conn_on_message_begin(llhttp_t *p);
static int conn_on_header_data(llhttp_t *p, const char *at, size_t len);
static int conn_on_headers_complete(llhttp_t *p);
static int conn_on_body(llhttp_t *p, const char *at, size_t len);
static int conn_on_header_field(llhttp_t *p, const char *at, size_t len);
static int conn_on_header_value(llhttp_t *p, const char *at, size_t len);
static int conn_on_message_complete(llhttp_t *p);

static llhttp_settings_t conn_settings;

static void conn_settings_init(void) {
    if (conn_settings.on_message_complete) {
        return;
    }
    llhttp_settings_init(&conn_settings);
    conn_settings.on_message_begin = conn_on_message_begin;
    conn_settings.on_status = conn_on_header_data;
    conn_settings.on_header_field = conn_on_header_field;
    conn_settings.on_header_value = conn_on_header_value;
    conn_settings.on_headers_complete = conn_on_headers_complete;
    conn_settings.on_body = conn_on_body;
    conn_settings.on_message_complete = conn_on_message_complete;
}

/* Closes the stream whatever the state; on_close will report it. */
static void conn_shutdown(http_conn *c) {
    if (c->state == HTTP_CONN_CLOSED) {
        return;
    }
    c->state = HTTP_CONN_CLOSING;
    net_stream_close(&c->stream);
}

/* Ends every request in flight with a failure class, then closes the connection. */
static void conn_fail(http_conn *c, int err_class, int err) {
    uint32_t n = c->outstanding;
    http_outcome o;

    memset(&o, 0, sizeof(o));
    o.err_class = err_class;
    o.err = err;
    o.start_ns = c->start_ns;
    o.end_ns = uv_hrtime();
    o.ttfb_ns = c->ttfb_ns;
    o.bytes_in = c->resp_bytes_in;
    c->outstanding = 0;
    c->state = HTTP_CONN_CLOSING;
    for (uint32_t i = 0; i < n; i++) {
        c->cbs->on_done(c, &o);
        o.bytes_in = 0;
    }
    net_stream_close(&c->stream);
}

static int conn_on_message_begin(llhttp_t *p) {
    http_conn *c = p->data;

    if (c->outstanding == 0 || c->state != HTTP_CONN_BUSY) {
        return -1; /* a response nobody asked for */
    }
    c->status = 0;
    c->header_bytes = 0;
    c->body_bytes = 0;
    c->body_len = 0;
    c->hdr_len = 0;
    c->hdr_in_value = 0;
    return 0;
}

static int conn_on_header_data(llhttp_t *p, const char *at, size_t len) {
    http_conn *c = p->data;

    c->header_bytes += len;
    if (c->header_bytes > HTTP_MAX_HEADER_BYTES) {
        c->limit_hit = 1;
        return -1;
    }
    return 0;
}

/* Appends to the kept header pairs; the total is bounded by HTTP_MAX_HEADER_BYTES already. */
static int conn_hdr_append(http_conn *c, const char *at, size_t len, int terminate) {
    size_t need = c->hdr_len + len + 1;

    if (need > c->hdr_cap) {
        size_t cap = c->hdr_cap ? c->hdr_cap * 2 : 512;
        char *nb;
        while (cap < need) {
            cap *= 2;
        }
        nb = realloc(c->hdr, cap);
        if (!nb) {
            return -1;
        }
        c->hdr = nb;
        c->hdr_cap = cap;
    }
    memcpy(c->hdr + c->hdr_len, at, len);
    c->hdr_len += len;
    if (terminate) {
        c->hdr[c->hdr_len++] = '\0';
    }
    return 0;
}

static int conn_on_header_field(llhttp_t *p, const char *at, size_t len) {
    http_conn *c = p->data;

    if (conn_on_header_data(p, at, len) < 0) {
        return -1;
    }
    if (!c->keep_headers) {
        return 0;
    }
    if (c->hdr_in_value && conn_hdr_append(c, "", 0, 1) < 0) {
        return -1;
    }
    c->hdr_in_value = 0;
    return conn_hdr_append(c, at, len, 0);
}

static int conn_on_header_value(llhttp_t *p, const char *at, size_t len) {
    http_conn *c = p->data;

    if (conn_on_header_data(p, at, len) < 0) {
        return -1;
    }
    if (!c->keep_headers) {
        return 0;
    }
    if (!c->hdr_in_value && conn_hdr_append(c, "", 0, 1) < 0) {
        return -1;
    }
    c->hdr_in_value = 1;
    return conn_hdr_append(c, at, len, 0);
}

static int conn_on_headers_complete(llhttp_t *p) {
    http_conn *c = p->data;

    c->status = p->status_code;
    if (c->keep_headers && c->hdr_in_value && conn_hdr_append(c, "", 0, 1) < 0) {
        return -1;
    }
    c->hdr_in_value = 0;
    if (c->status == 101) {
        return -1; /* protocol upgrades are not load-testable over HTTP/1.1 */
    }
    /* 1 tells llhttp the response has no body, which is what a HEAD answer means. */
    /* 204 and 304 never have a body, whatever Content-Length says (RFC 9110 8.6). */
    return (c->is_head && c->status >= 200) || c->status == 204 || c->status == 304 ? 1 : 0;
}

static int conn_keep_body(http_conn *c, const char *at, size_t len) {
    size_t need = c->body_len + len;

    if (need > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 1024;
        char *nb;

        while (cap < need) {
            cap *= 2;
        }
        if (cap > c->max_body_bytes) {
            cap = c->max_body_bytes;
        }
        nb = realloc(c->body, cap);
        if (!nb) {
            return -1;
        }
        c->body = nb;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

static int conn_on_body(llhttp_t *p, const char *at, size_t len) {
    http_conn *c = p->data;

    c->body_bytes += len;
    if (c->body_bytes > c->max_body_bytes) {
        c->limit_hit = 1;
        return -1;
    }
    if (c->keep_body) {
        return conn_keep_body(c, at, len);
    }
    return 0;
}

static int conn_on_message_complete(llhttp_t *p) {
    http_conn *c = p->data;
    http_outcome o;

    if (c->status >= 100 && c->status < 200) {
        return 0; /* an interim answer: the real one follows */
    }
    memset(&o, 0, sizeof(o));
    o.status = c->status;
    o.err_class = -1;
    o.start_ns = c->start_ns;
    o.end_ns = uv_hrtime();
    o.ttfb_ns = c->ttfb_ns;
    o.bytes_in = c->resp_bytes_in;
    o.body = c->keep_body ? c->body : NULL;
    o.body_len = c->keep_body ? c->body_len : 0;
    o.headers = c->keep_headers ? c->hdr : NULL;
    o.headers_len = c->keep_headers ? c->hdr_len : 0;
    c->resp_bytes_in = 0;
    c->close_after = !llhttp_should_keep_alive(p);
    c->outstanding--;
    if (c->outstanding == 0) {
        c->state = c->close_after ? HTTP_CONN_CLOSING : HTTP_CONN_IDLE;
        o.reusable = !c->close_after;
    }
    c->cbs->on_done(c, &o);
    if (c->close_after && c->outstanding == 0 && c->state != HTTP_CONN_CLOSED) {
        conn_shutdown(c);
    }
    return 0;
}

static void conn_stream_connect(net_stream *s, int status) {
    http_conn *c = s->owner;

    if (status < 0) {
        c->state = HTTP_CONN_CLOSING;
        c->cbs->on_connect_failed(c, status == NET_ETLS ? STATS_ERR_TLS : STATS_ERR_CONNECT,
                                  status);
        net_stream_close(&c->stream);
        return;
    }
    c->connect_ns = s->connect_ns;
    c->handshake_ns = s->handshake_ns;
    c->state = HTTP_CONN_IDLE;
    c->cbs->on_ready(c);
}

static void conn_stream_data(net_stream *s, const char *data, size_t len) {
    http_conn *c = s->owner;
    llhttp_errno_t err;

    if (c->state != HTTP_CONN_BUSY) {
        conn_shutdown(c); /* bytes while idle: the stream cannot be trusted any more */
        return;
    }
    if (c->ttfb_ns == 0) {
        c->ttfb_ns = uv_hrtime() - c->start_ns;
    }
    c->resp_bytes_in += len;
    err = llhttp_execute(&c->parser, data, len);
    if (c->state == HTTP_CONN_CLOSING || c->state == HTTP_CONN_CLOSED) {
        return;
    }
    if (err != HPE_OK) {
        conn_fail(c, STATS_ERR_PARSE, c->limit_hit ? NET_ETOOBIG : -(int)err);
    }
}

static int conn_error_class(int err) {
    if (err == NET_ETLS) {
        return STATS_ERR_TLS;
    }
    if (err == UV_EPIPE) {
        return STATS_ERR_WRITE;
    }
    return STATS_ERR_READ;
}

static void conn_stream_error(net_stream *s, int err) {
    http_conn *c = s->owner;

    if (c->state != HTTP_CONN_BUSY) {
        conn_shutdown(c); /* an idle keep-alive connection closed by the server */
        return;
    }
    if (err == NET_EOF && c->resp_bytes_in > 0) {
        /* A body delimited by the close ends here; llhttp completes it or says it is cut. */
        llhttp_errno_t e = llhttp_finish(&c->parser);
        if (c->state != HTTP_CONN_BUSY) {
            conn_shutdown(c);
            return;
        }
        conn_fail(c, e == HPE_OK ? STATS_ERR_READ : STATS_ERR_PARSE, err);
        return;
    }
    conn_fail(c, conn_error_class(err), err);
}

static void conn_stream_close(net_stream *s) {
    http_conn *c = s->owner;

    c->state = HTTP_CONN_CLOSED;
    c->outstanding = 0;
    c->cbs->on_closed(c);
}

static const net_stream_cbs conn_stream_cbs = {
    .on_connect = conn_stream_connect,
    .on_data = conn_stream_data,
    .on_error = conn_stream_error,
    .on_close = conn_stream_close,
};

void http_conn_init(http_conn *c, uv_loop_t *loop, const http_conn_cbs *cbs, void *owner,
                    uint64_t max_body_bytes) {
    conn_settings_init();
    memset(c, 0, sizeof(*c));
    net_stream_init(&c->stream, loop, &conn_stream_cbs, c);
    c->cbs = cbs;
    c->owner = owner;
    c->max_body_bytes = max_body_bytes;
    c->state = HTTP_CONN_CLOSED;
}

int http_conn_connect(http_conn *c, const struct sockaddr *addr, net_tls_ctx *tls_ctx,
                      const char *server_name, uint64_t timeout_ns) {
    int rc;

    llhttp_init(&c->parser, HTTP_RESPONSE, &conn_settings);
    c->parser.data = c;
    c->outstanding = 0;
    c->limit_hit = 0;
    c->state = HTTP_CONN_CONNECTING;
    c->deadline_ns = timeout_ns ? uv_hrtime() + timeout_ns : 0;
    c->connect_timeout_ns = timeout_ns;
    rc = net_stream_connect(&c->stream, addr, tls_ctx, server_name);
    if (rc < 0) {
        c->state = HTTP_CONN_CLOSING;
        c->cbs->on_connect_failed(c, STATS_ERR_CONNECT, rc);
        net_stream_close(&c->stream);
        return rc;
    }
    return 0;
}

int http_conn_send(http_conn *c, const char *bytes, size_t len, uint32_t count, int is_head,
                   uint64_t start_ns, uint64_t timeout_ns) {
    int rc;

    c->outstanding = count;
    c->is_head = is_head;
    c->start_ns = start_ns ? start_ns : uv_hrtime();
    c->deadline_ns = timeout_ns ? c->start_ns + timeout_ns : 0;
    c->ttfb_ns = 0;
    c->resp_bytes_in = 0;
    c->state = HTTP_CONN_BUSY;
    rc = net_stream_write(&c->stream, bytes, len);
    if (rc < 0) {
        conn_fail(c, rc == NET_ETLS ? STATS_ERR_TLS : STATS_ERR_WRITE, rc);
        return rc;
    }
    return 0;
}

int http_conn_expire(http_conn *c, uint64_t now_ns) {
    int in_handshake;

    if (c->deadline_ns == 0 || now_ns < c->deadline_ns) {
        return 0;
    }
    if (c->state == HTTP_CONN_BUSY) {
        conn_fail(c, STATS_ERR_TIMEOUT, UV_ETIMEDOUT);
        return 1;
    }
    if (c->state != HTTP_CONN_CONNECTING) {
        return 0;
    }
    if (net_stream_tls_waiting(&c->stream)) {
        /* Waiting for a handshake slot is volley's queue, not the server's delay: the clock
         * starts again when the handshake can begin. */
        c->deadline_ns = now_ns + c->connect_timeout_ns;
        return 0;
    }
    /* TCP is up but the TLS handshake is not done: that is a TLS failure, not a connect one. */
    in_handshake = c->stream.transport && c->stream.connect_ns;
    c->state = HTTP_CONN_CLOSING;
    c->cbs->on_connect_failed(c, in_handshake ? STATS_ERR_TLS : STATS_ERR_CONNECT,
                              in_handshake ? NET_ETLS : UV_ETIMEDOUT);
    net_stream_close(&c->stream);
    return 1;
}

void http_conn_close(http_conn *c) {
    if (c->state == HTTP_CONN_CLOSED || c->state == HTTP_CONN_CLOSING) {
        return;
    }
    conn_shutdown(c);
}

uint32_t http_conn_in_flight(const http_conn *c) {
    return c->state == HTTP_CONN_BUSY ? c->outstanding : 0;
}

void http_conn_release(http_conn *c) {
    free(c->body);
    c->body = NULL;
    c->body_len = 0;
    c->body_cap = 0;
    free(c->hdr);
    c->hdr = NULL;
    c->hdr_len = 0;
    c->hdr_cap = 0;
}
