/* net.h: TCP and TLS byte streams over libuv, behind one interface, and name resolution. */
#ifndef VOLLEY_NET_H
#define VOLLEY_NET_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Error codes beside libuv's negative errnos (UV_ECONNREFUSED and so on). */
#define NET_EOF (-4095) /* the peer closed the stream cleanly */
#define NET_ETLS (-4096) /* TLS failure; net_stream_tls_reason() tells which */
#define NET_ETOOBIG (-4097) /* a peer-grown buffer passed its limit */

typedef struct net_stream net_stream;
typedef struct net_tls_ctx net_tls_ctx;

/* What a stream tells its owner. All are called on the stream's loop. */
typedef struct net_stream_cbs {
    /* The stream is ready for data (TCP connected and, for TLS, handshake done), or failed
     * to become so: status 0 or a negative code. */
    void (*on_connect)(net_stream *s, int status);
    /* Plaintext arrived. The bytes are only valid during the call. */
    void (*on_data)(net_stream *s, const char *data, size_t len);
    /* The stream failed or the peer closed it after it was ready: NET_EOF, NET_ETLS or a
     * negative errno. The owner should call net_stream_close. */
    void (*on_error)(net_stream *s, int err);
    /* The handle is closed: the owner may release the stream's memory now, not before. */
    void (*on_close)(net_stream *s);
} net_stream_cbs;

/*
 * The transport a stream speaks over TCP. Plain TCP has none (NULL); TLS is one such table.
 * Each returns 0 or a negative code. The transport calls back into the stream with
 * net_stream_raw_write (ciphertext out), s->cbs->on_data (plaintext in) and
 * s->cbs->on_connect when its handshake ends.
 */
typedef struct net_transport {
    int (*start)(net_stream *s); /* TCP is up: begin */
    int (*input)(net_stream *s, const char *buf, size_t len); /* bytes from the socket */
    int (*write)(net_stream *s, const char *buf, size_t len); /* plaintext to send */
    void (*release)(net_stream *s); /* free transport state */
} net_transport;
/* Failures: start and input return a negative code (NET_ETLS for TLS failures) and the stream
 * reports it to its owner, through on_connect before the stream is ready and on_error after.
 * The transport never calls on_connect or on_error with a failure itself. When the peer closes
 * during the handshake, the stream calls input(s, NULL, 0) so the transport can set its reason
 * and return NET_ETLS. release() may send close_notify and must set s->tls to NULL. */

struct net_stream {
    uv_tcp_t tcp; /* first, so a handle pointer is a stream pointer */
    uv_connect_t connect_req;
    const net_stream_cbs *cbs;
    const net_transport *transport; /* NULL for plain TCP */
    void *tls; /* the transport's state */
    net_tls_ctx *tls_ctx; /* shared per thread, not owned */
    const char *server_name; /* SNI and hostname check; NULL for IP literals */
    void *owner;
    uint64_t connect_start_ns;
    uint64_t connect_ns; /* TCP connect duration, set when connected */
    uint64_t handshake_ns; /* TLS handshake duration, 0 for plain */
    int ready; /* on_connect(0) has been called */
    int opened; /* the libuv handle is initialised and not yet closed */
    int closing;
    uint64_t pending_write_bytes; /* queued in libuv, not yet written */
};

/* Prepares a stream on a loop; no handle is open until net_stream_connect. */
void net_stream_init(net_stream *s, uv_loop_t *loop, const net_stream_cbs *cbs, void *owner);

/* Opens a TCP connection to addr; with tls_ctx, runs a TLS handshake over it before
 * on_connect. Returns 0 (the result comes through on_connect) or a negative code. */
int net_stream_connect(net_stream *s, const struct sockaddr *addr, net_tls_ctx *tls_ctx,
                       const char *server_name);

/* Sends len bytes through the transport. The bytes are copied if they cannot be written at
 * once, so the caller may reuse them on return. 0 or a negative code. */
int net_stream_write(net_stream *s, const char *buf, size_t len);

/* Sends bytes on the socket itself, below any transport (used by transports). */
int net_stream_raw_write(net_stream *s, const char *buf, size_t len);

/* Closes the handle; on_close follows. Safe to call more than once. */
void net_stream_close(net_stream *s);

/* 1 while the stream's TLS handshake waits for one of its thread's handshake slots. */
int net_stream_tls_waiting(const net_stream *s);

/* A short lowercase reason for a TLS failure of this stream ("certificate not trusted"). */
const char *net_stream_tls_reason(const net_stream *s);

/* A short lowercase description of any code this module returns. */
const char *net_strerror(int err);

/* TLS settings shared by every stream of a thread. */
typedef struct net_tls_config {
    int verify; /* 1: verify chain and name (default); 0: -k */
    const char *cacert_path; /* extra CA bundle (PEM) besides the system one, or NULL */
    int max_handshakes; /* handshakes in progress per thread; 0 for the default (512) */
} net_tls_config;

/* Builds one thread's TLS context (DRBG seeded once, CA chain, session cache). Returns 0 or
 * a negative code with a one-line reason in err. The caller owns *out. */
int net_tls_ctx_new(net_tls_ctx **out, const net_tls_config *cfg, char *err, size_t err_len);
void net_tls_ctx_free(net_tls_ctx *ctx);

/* The TLS transport (tls.c); net_stream_connect selects it when given a context. */
extern const net_transport net_tls_transport;

/* Resolves host:port with libuv's getaddrinfo (synchronously, before the run). Returns 0 and
 * an addrinfo list the caller frees with uv_freeaddrinfo, or a negative code. */
int net_resolve(uv_loop_t *loop, const char *host, const char *port, struct addrinfo **out);

#endif
