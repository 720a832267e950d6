/* stream.c: a TCP connection over libuv that may carry a transport (TLS) above it. */
#include "net/net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One read buffer per thread: libuv reads into it and the owner consumes it in on_data. */
static __thread char stream_read_buf[64 * 1024];

/* A write libuv could not finish at once owns a copy of the remaining bytes. */
typedef struct stream_write {
    uv_write_t req;
    size_t len;
    char data[];
} stream_write;

static void stream_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    buf->base = stream_read_buf;
    buf->len = sizeof(stream_read_buf);
}

static void stream_fail(net_stream *s, int err) {
    if (s->closing) {
        return;
    }
    if (s->ready) {
        s->cbs->on_error(s, err);
    } else {
        s->cbs->on_connect(s, err);
    }
}

static void stream_read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf) {
    net_stream *s = (net_stream *)h;
    int rc;

    if (nread == 0 || s->closing) {
        return;
    }
    if (nread < 0) {
        if (s->transport && !s->ready) {
            rc = s->transport->input(s, NULL, 0);
            stream_fail(s, rc < 0 ? rc : NET_ETLS);
            return;
        }
        stream_fail(s, nread == UV_EOF ? NET_EOF : (int)nread);
        return;
    }
    if (!s->transport) {
        s->cbs->on_data(s, buf->base, (size_t)nread);
        return;
    }
    rc = s->transport->input(s, buf->base, (size_t)nread);
    if (rc < 0) {
        stream_fail(s, rc);
    }
}

static void stream_connect_cb(uv_connect_t *req, int status) {
    net_stream *s = req->data;
    int rc;

    if (s->closing) {
        return;
    }
    if (status < 0) {
        s->cbs->on_connect(s, status);
        return;
    }
    s->connect_ns = uv_hrtime() - s->connect_start_ns;
    rc = uv_read_start((uv_stream_t *)&s->tcp, stream_alloc_cb, stream_read_cb);
    if (rc == 0 && s->transport) {
        rc = s->transport->start(s);
        if (rc < 0) {
            stream_fail(s, rc);
        }
        return;
    }
    if (rc < 0) {
        s->cbs->on_connect(s, rc);
        return;
    }
    s->ready = 1;
    s->cbs->on_connect(s, 0);
}

void net_stream_init(net_stream *s, uv_loop_t *loop, const net_stream_cbs *cbs, void *owner) {
    memset(s, 0, sizeof(*s));
    s->cbs = cbs;
    s->owner = owner;
    s->tcp.loop = loop;
}

int net_stream_connect(net_stream *s, const struct sockaddr *addr, net_tls_ctx *tls_ctx,
                       const char *server_name) {
    uv_loop_t *loop = s->tcp.loop;
    int rc;

    s->ready = 0;
    s->closing = 0;
    s->connect_ns = 0;
    s->handshake_ns = 0;
    s->pending_write_bytes = 0;
    s->tls_ctx = tls_ctx;
    s->transport = tls_ctx ? &net_tls_transport : NULL;
    s->server_name = server_name;
    rc = uv_tcp_init(loop, &s->tcp);
    if (rc < 0) {
        return rc;
    }
    s->tcp.data = s;
    uv_tcp_nodelay(&s->tcp, 1);
    s->connect_req.data = s;
    s->connect_start_ns = uv_hrtime();
    rc = uv_tcp_connect(&s->connect_req, &s->tcp, addr, stream_connect_cb);
    if (rc < 0) {
        /* The handle exists: the owner closes it as usual and waits for on_close. */
        s->opened = 1;
        return rc;
    }
    s->opened = 1;
    return 0;
}

static void stream_write_cb(uv_write_t *req, int status) {
    stream_write *w = (stream_write *)req;
    net_stream *s = req->data;

    s->pending_write_bytes -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED) {
        stream_fail(s, status);
    }
}

int net_stream_raw_write(net_stream *s, const char *buf, size_t len) {
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    stream_write *w;
    int n = 0;

    if (s->closing) {
        return UV_ECANCELED;
    }
    if (s->pending_write_bytes == 0) {
        n = uv_try_write((uv_stream_t *)&s->tcp, &b, 1);
        if (n == (int)len) {
            return 0;
        }
        if (n < 0 && n != UV_EAGAIN) {
            return n;
        }
        if (n < 0) {
            n = 0;
        }
    }
    w = malloc(sizeof(*w) + len - (size_t)n);
    if (!w) {
        return UV_ENOMEM;
    }
    w->len = len - (size_t)n;
    memcpy(w->data, buf + n, w->len);
    w->req.data = s;
    b = uv_buf_init(w->data, (unsigned)w->len);
    n = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, stream_write_cb);
    if (n < 0) {
        free(w);
        return n;
    }
    s->pending_write_bytes += w->len;
    return 0;
}

int net_stream_write(net_stream *s, const char *buf, size_t len) {
    if (s->transport) {
        return s->transport->write(s, buf, len);
    }
    return net_stream_raw_write(s, buf, len);
}

static void stream_close_cb(uv_handle_t *h) {
    net_stream *s = (net_stream *)h;

    s->opened = 0;
    s->cbs->on_close(s);
}

void net_stream_close(net_stream *s) {
    if (s->closing) {
        return;
    }
    s->closing = 1;
    if (s->transport && s->tls) {
        s->transport->release(s);
    }
    if (!s->opened) {
        s->cbs->on_close(s);
        return;
    }
    uv_read_stop((uv_stream_t *)&s->tcp);
    uv_close((uv_handle_t *)&s->tcp, stream_close_cb);
}

const char *net_strerror(int err) {
    switch (err) {
        case NET_EOF:
            return "connection closed by peer";
        case NET_ETLS:
            return "tls failure";
        case NET_ETOOBIG:
            return "too large";
        default:
            return uv_strerror(err);
    }
}

/* Runs getaddrinfo on the given loop and waits for it; the loop has nothing else to do. */
int net_resolve(uv_loop_t *loop, const char *host, const char *port, struct addrinfo **out) {
    uv_getaddrinfo_t req;
    struct addrinfo hints;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    rc = uv_getaddrinfo(loop, &req, NULL, host, port, &hints);
    if (rc < 0) {
        return rc;
    }
    *out = req.addrinfo;
    return 0;
}
