/* test_tls.c: the TLS transport against openssl s_server and small loopback servers. */
#include "harness.h"
#include "net/net.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLIENT_BODY_MAX (2 * 1024 * 1024)
#define BIG_FILE_BYTES (1024 * 1024 + 77)

static uv_loop_t loop;
#define PATH_BYTES 512

static char cert_dir[128];

/* ---- certificates and openssl s_server -------------------------------------------------- */

static int make_certs(void) {
    char exe[PATH_BYTES];
    char cmd[3 * PATH_BYTES];
    const char *candidates[2];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char script[2 * PATH_BYTES];

    if (n <= 0) {
        return -1;
    }
    exe[n] = 0;
    snprintf(script, sizeof(script), "%s/../../../tests/lib/certs.sh", dirname(exe));
    candidates[0] = "tests/lib/certs.sh";
    candidates[1] = script;
    snprintf(cert_dir, sizeof(cert_dir), "/tmp/volley-tls-unit.%d", (int)getpid());
    for (int i = 0; i < 2; i++) {
        if (access(candidates[i], R_OK) == 0) {
            snprintf(cmd, sizeof(cmd), "sh %s %s", candidates[i], cert_dir);
            return system(cmd) == 0 ? 0 : -1;
        }
    }
    return -1;
}

static void remove_certs(void) {
    char cmd[PATH_BYTES];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", cert_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  could not remove %s\n", cert_dir);
    }
}

static void cert_path(char *out, size_t len, const char *name) {
    snprintf(out, len, "%s/%s", cert_dir, name);
}

static int free_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

static int port_open(int port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int ok;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* Starts s_server (TLS 1.2, -WWW serving the certificate directory) with cert as its default
 * certificate and, when sni_cert is set, that one for clients asking for "localhost". */
static int server_www_status; /* 1: -www (a status page) instead of -WWW (files) */

static pid_t server_start(int port, const char *cert, const char *sni_cert) {
    const char *mode = server_www_status ? "-www" : "-WWW";
    char accept_arg[64], c1[PATH_BYTES], k1[PATH_BYTES], c2[PATH_BYTES], k2[PATH_BYTES];
    pid_t pid;

    snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", port);
    snprintf(c1, sizeof(c1), "%s/%s.pem", cert_dir, cert);
    snprintf(k1, sizeof(k1), "%s/%s.key", cert_dir, cert);
    snprintf(c2, sizeof(c2), "%s/%s.pem", cert_dir, sni_cert ? sni_cert : cert);
    snprintf(k2, sizeof(k2), "%s/%s.key", cert_dir, sni_cert ? sni_cert : cert);
    pid = fork();
    if (pid == 0) {
        if (chdir(cert_dir) != 0) {
            _exit(127);
        }
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) {
            _exit(127);
        }
        if (sni_cert) {
            execlp("openssl", "openssl", "s_server", "-accept", accept_arg, "-cert", c1, "-key", k1,
                   "-servername", "localhost", "-cert2", c2, "-key2", k2, "-tls1_2", mode, "-alpn",
                   "http/1.1", (char *)NULL);
        } else {
            execlp("openssl", "openssl", "s_server", "-accept", accept_arg, "-cert", c1, "-key", k1,
                   "-tls1_2", mode, "-alpn", "http/1.1", (char *)NULL);
        }
        _exit(127);
    }
    for (int i = 0; pid > 0 && i < 200; i++) {
        if (port_open(port)) {
            return pid;
        }
        usleep(25000);
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

static void server_stop(pid_t pid) {
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* ---- one client connection --------------------------------------------------------------- */

typedef struct client {
    net_stream s;
    const char *request;
    int connect_status; /* 1 until on_connect */
    int error;
    char reason[64];
    char *body;
    size_t body_len;
    int closed;
} client;

static void client_on_connect(net_stream *s, int status) {
    client *c = (client *)s;

    c->connect_status = status;
    if (status < 0) {
        snprintf(c->reason, sizeof(c->reason), "%s", net_stream_tls_reason(s));
        net_stream_close(s);
        return;
    }
    if (c->request && net_stream_write(s, c->request, strlen(c->request)) < 0) {
        c->error = -1;
        net_stream_close(s);
    }
}

static void client_on_data(net_stream *s, const char *data, size_t len) {
    client *c = (client *)s;

    if (c->body_len + len > CLIENT_BODY_MAX) {
        c->error = NET_ETOOBIG;
        net_stream_close(s);
        return;
    }
    memcpy(c->body + c->body_len, data, len);
    c->body_len += len;
}

static void client_on_error(net_stream *s, int err) {
    client *c = (client *)s;

    if (err != NET_EOF) {
        c->error = err;
        snprintf(c->reason, sizeof(c->reason), "%s", net_stream_tls_reason(s));
    }
    net_stream_close(s);
}

static void client_on_close(net_stream *s) {
    ((client *)s)->closed = 1;
}

static const net_stream_cbs client_cbs = {
    .on_connect = client_on_connect,
    .on_data = client_on_data,
    .on_error = client_on_error,
    .on_close = client_on_close,
};

static void client_init(client *c, const char *request) {
    memset(c, 0, sizeof(*c));
    c->connect_status = 1;
    c->request = request;
    c->body = malloc(CLIENT_BODY_MAX);
    net_stream_init(&c->s, &loop, &client_cbs, c);
}

static void client_connect(client *c, int port, net_tls_ctx *ctx, const char *name) {
    struct sockaddr_in a;

    uv_ip4_addr("127.0.0.1", port, &a);
    if (net_stream_connect(&c->s, (struct sockaddr *)&a, ctx, name) < 0) {
        c->connect_status = -1;
        net_stream_close(&c->s);
    }
}

static void deadline_cb(uv_timer_t *t) {
    *(int *)t->data = 1;
}

/* Runs the loop until every client has closed, or for at most limit_ms. 0 when all closed. */
static int run_clients(client **cs, int n, uint64_t limit_ms) {
    uv_timer_t timer;
    int expired = 0;
    int open = n;

    uv_timer_init(&loop, &timer);
    timer.data = &expired;
    uv_timer_start(&timer, deadline_cb, limit_ms, 0);
    while (!expired && open > 0) {
        uv_run(&loop, UV_RUN_ONCE);
        open = 0;
        for (int i = 0; i < n; i++) {
            open += !cs[i]->closed;
        }
    }
    uv_close((uv_handle_t *)&timer, NULL);
    for (int i = 0; i < n; i++) {
        if (!cs[i]->closed) {
            net_stream_close(&cs[i]->s);
        }
    }
    /* Close callbacks run on the next turn of the loop; other handles may stay open. */
    uv_run(&loop, UV_RUN_NOWAIT);
    return open == 0 ? 0 : -1;
}

static net_tls_ctx *new_ctx(int verify, const char *ca_name) {
    net_tls_config cfg = {.verify = verify, .cacert_path = NULL, .max_handshakes = 64};
    char ca[PATH_BYTES];
    char err[256] = "";
    net_tls_ctx *ctx = NULL;

    if (ca_name) {
        cert_path(ca, sizeof(ca), ca_name);
        cfg.cacert_path = ca;
    }
    if (net_tls_ctx_new(&ctx, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "  net_tls_ctx_new: %s\n", err);
    }
    return ctx;
}

/* One GET to a fresh s_server with the given certificate; fills c. */
static void fetch(client *c, const char *cert, const char *sni_cert, int verify, const char *ca,
                  const char *name, const char *path) {
    char request[256];
    int port = free_port();
    pid_t pid = server_start(port, cert, sni_cert);
    net_tls_ctx *ctx = new_ctx(verify, ca);
    client *cs[1] = {c};

    snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\n\r\n", path);
    client_init(c, strdup(request));
    EXPECT(pid > 0);
    EXPECT(ctx != NULL);
    if (pid > 0 && ctx) {
        client_connect(c, port, ctx, name);
        EXPECT_INT(run_clients(cs, 1, 5000), 0);
    }
    server_stop(pid);
    net_tls_ctx_free(ctx);
    free((char *)c->request);
}

static void client_free(client *c) {
    free(c->body);
}

static int body_has(const client *c, const char *needle) {
    return c->body_len > 0 && memmem(c->body, c->body_len, needle, strlen(needle)) != NULL;
}

/* ---- cases against s_server ------------------------------------------------------------- */

static void test_ip_literal_verified_against_ip_san(void) {
    client c;

    fetch(&c, "server", NULL, 1, "ca.pem", NULL, "/server.pem");
    EXPECT_INT(c.connect_status, 0);
    EXPECT_INT(c.error, 0);
    EXPECT(body_has(&c, "HTTP/1.0 200 ok"));
    EXPECT(body_has(&c, "-----BEGIN CERTIFICATE-----"));
    EXPECT(c.s.handshake_ns > 0);
    client_free(&c);
}

static void test_name_verified_and_sent_as_sni(void) {
    client c;

    /* s_server hands the good certificate only to a client that sent SNI "localhost". */
    fetch(&c, "wrongname", "server", 1, "ca.pem", "localhost", "/server.pem");
    EXPECT_INT(c.connect_status, 0);
    EXPECT(body_has(&c, "HTTP/1.0 200 ok"));
    client_free(&c);
}

static void test_no_sni_for_ip_literal(void) {
    client c;

    /* Without SNI the default (wrong-name) certificate comes back, so the IP check fails. */
    fetch(&c, "wrongname", "server", 1, "ca.pem", NULL, "/server.pem");
    EXPECT_INT(c.connect_status, NET_ETLS);
    EXPECT_STR(c.reason, "hostname mismatch");
    client_free(&c);
}

static void test_unknown_ca_is_not_trusted(void) {
    client c;

    fetch(&c, "server", NULL, 1, NULL, NULL, "/server.pem");
    EXPECT_INT(c.connect_status, NET_ETLS);
    EXPECT_STR(c.reason, "certificate not trusted");
    EXPECT_INT(c.body_len, 0);
    client_free(&c);

    fetch(&c, "server", NULL, 1, "other-ca.pem", "localhost", "/server.pem");
    EXPECT_INT(c.connect_status, NET_ETLS);
    EXPECT_STR(c.reason, "certificate not trusted");
    client_free(&c);
}

static void test_expired_certificate(void) {
    client c;

    fetch(&c, "expired", NULL, 1, "ca.pem", "localhost", "/server.pem");
    EXPECT_INT(c.connect_status, NET_ETLS);
    EXPECT_STR(c.reason, "certificate expired");
    client_free(&c);
}

static void test_wrong_name(void) {
    client c;

    fetch(&c, "wrongname", NULL, 1, "ca.pem", "localhost", "/server.pem");
    EXPECT_INT(c.connect_status, NET_ETLS);
    EXPECT_STR(c.reason, "hostname mismatch");
    client_free(&c);

    fetch(&c, "wrongname", NULL, 1, "ca.pem", NULL, "/server.pem");
    EXPECT_INT(c.connect_status, NET_ETLS);
    EXPECT_STR(c.reason, "hostname mismatch");
    client_free(&c);
}

static void test_insecure_accepts_anything(void) {
    client c;

    fetch(&c, "expired", NULL, 0, NULL, "localhost", "/server.pem");
    EXPECT_INT(c.connect_status, 0);
    EXPECT(body_has(&c, "HTTP/1.0 200 ok"));
    client_free(&c);

    fetch(&c, "wrongname", NULL, 0, NULL, NULL, "/server.pem");
    EXPECT_INT(c.connect_status, 0);
    EXPECT(body_has(&c, "HTTP/1.0 200 ok"));
    client_free(&c);
}

static void test_large_body_over_many_records(void) {
    char path[PATH_BYTES];
    FILE *f;
    client c;
    size_t head;
    int intact = 1;

    cert_path(path, sizeof(path), "big.bin");
    f = fopen(path, "w");
    for (int i = 0; f && i < BIG_FILE_BYTES; i++) {
        fputc('a' + i % 26, f);
    }
    if (f) {
        fclose(f);
    }
    fetch(&c, "server", NULL, 1, "ca.pem", "localhost", "/big.bin");
    EXPECT_INT(c.connect_status, 0);
    EXPECT_INT(c.error, 0);
    head = c.body_len > BIG_FILE_BYTES ? c.body_len - BIG_FILE_BYTES : 0;
    EXPECT(body_has(&c, "\r\n\r\n"));
    EXPECT(c.body_len > BIG_FILE_BYTES);
    for (size_t i = 0; head > 0 && i < BIG_FILE_BYTES; i++) {
        if (c.body[head + i] != 'a' + (char)(i % 26)) {
            intact = 0;
            break;
        }
    }
    EXPECT(intact);
    client_free(&c);
}

static void test_reconnect_resumes_session(void) {
    int port = free_port();
    pid_t pid;
    net_tls_ctx *ctx = new_ctx(1, "ca.pem");
    const char *req = "GET / HTTP/1.0\r\n\r\n";
    client c1, c2, c3;
    client *cs[1];

    server_www_status = 1;
    pid = server_start(port, "server", NULL);
    server_www_status = 0;
    EXPECT(pid > 0 && ctx);
    if (pid <= 0 || !ctx) {
        server_stop(pid);
        net_tls_ctx_free(ctx);
        return;
    }
    /* s_server -WWW answers "GET /" with a status page saying "New" or "Reused". */
    client_init(&c1, req);
    cs[0] = &c1;
    client_connect(&c1, port, ctx, "localhost");
    EXPECT_INT(run_clients(cs, 1, 5000), 0);
    EXPECT(body_has(&c1, "New, TLSv1.2"));

    client_init(&c2, req);
    cs[0] = &c2;
    client_connect(&c2, port, ctx, "localhost");
    EXPECT_INT(run_clients(cs, 1, 5000), 0);
    EXPECT(body_has(&c2, "Reused, TLSv1.2"));

    /* Another name is another server: its session is not offered. */
    client_init(&c3, req);
    cs[0] = &c3;
    client_connect(&c3, port, ctx, NULL);
    EXPECT_INT(run_clients(cs, 1, 5000), 0);
    EXPECT(body_has(&c3, "New, TLSv1.2"));
    if (!body_has(&c2, "Reused")) {
        fprintf(stderr, "  second page: %.*s\n", (int)(c2.body_len < 600 ? c2.body_len : 600),
                c2.body);
    }
    server_stop(pid);
    net_tls_ctx_free(ctx);
    client_free(&c1);
    client_free(&c2);
    client_free(&c3);
}

/* ---- loopback servers that are not TLS servers -------------------------------------------- */

enum peer_mode { PEER_PLAIN_HTTP, PEER_CLOSE_AFTER_HELLO, PEER_SILENT };

typedef struct peer_conn {
    uv_tcp_t tcp;
    struct peer *peer;
    int got_bytes;
} peer_conn;

typedef struct peer {
    uv_tcp_t listener;
    enum peer_mode mode;
    int port;
    int connections;
    int hellos; /* connections on which bytes arrived */
    peer_conn *conns[256];
} peer;

static char peer_buf[65536];

static void peer_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    buf->base = peer_buf;
    buf->len = sizeof(peer_buf);
}

static void peer_conn_closed(uv_handle_t *h) {
    peer_conn *pc = (peer_conn *)h;

    for (int i = 0; i < 256; i++) {
        if (pc->peer->conns[i] == pc) {
            pc->peer->conns[i] = NULL;
        }
    }
    free(pc);
}

static void peer_written(uv_write_t *w, int status) {
    uv_close((uv_handle_t *)w->data, peer_conn_closed);
    free(w);
}

static void peer_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
    static const char answer[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\n\r\n";
    peer_conn *pc = (peer_conn *)st;

    if (nread < 0) {
        uv_read_stop(st);
        uv_close((uv_handle_t *)st, peer_conn_closed);
        return;
    }
    if (nread == 0) {
        return;
    }
    if (!pc->got_bytes) {
        pc->got_bytes = 1;
        pc->peer->hellos++;
    }
    if (pc->peer->mode == PEER_PLAIN_HTTP) {
        uv_write_t *w = malloc(sizeof(*w));
        uv_buf_t b = uv_buf_init((char *)answer, sizeof(answer) - 1);
        w->data = st;
        uv_read_stop(st);
        uv_write(w, st, &b, 1, peer_written);
    } else if (pc->peer->mode == PEER_CLOSE_AFTER_HELLO) {
        uv_read_stop(st);
        uv_close((uv_handle_t *)st, peer_conn_closed);
    }
}

static void peer_accept(uv_stream_t *l, int status) {
    peer *p = l->data;
    peer_conn *pc = calloc(1, sizeof(*pc));

    pc->peer = p;
    uv_tcp_init(&loop, &pc->tcp);
    if (uv_accept(l, (uv_stream_t *)&pc->tcp) != 0) {
        uv_close((uv_handle_t *)&pc->tcp, peer_conn_closed);
        return;
    }
    p->connections++;
    for (int i = 0; i < 256; i++) {
        if (!p->conns[i]) {
            p->conns[i] = pc;
            break;
        }
    }
    uv_read_start((uv_stream_t *)&pc->tcp, peer_alloc, peer_read);
}

static int peer_start(peer *p, enum peer_mode mode) {
    struct sockaddr_in a;
    struct sockaddr_storage bound;
    int len = sizeof(bound);

    memset(p, 0, sizeof(*p));
    p->mode = mode;
    uv_tcp_init(&loop, &p->listener);
    p->listener.data = p;
    uv_ip4_addr("127.0.0.1", 0, &a);
    if (uv_tcp_bind(&p->listener, (struct sockaddr *)&a, 0) != 0 ||
        uv_listen((uv_stream_t *)&p->listener, 512, peer_accept) != 0 ||
        uv_tcp_getsockname(&p->listener, (struct sockaddr *)&bound, &len) != 0) {
        return -1;
    }
    p->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

static void peer_stop(peer *p) {
    for (int i = 0; i < 256; i++) {
        if (p->conns[i] && !uv_is_closing((uv_handle_t *)&p->conns[i]->tcp)) {
            uv_close((uv_handle_t *)&p->conns[i]->tcp, peer_conn_closed);
        }
    }
    uv_close((uv_handle_t *)&p->listener, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static void run_for_ms(uint64_t ms) {
    uv_timer_t timer;
    int expired = 0;

    uv_timer_init(&loop, &timer);
    timer.data = &expired;
    uv_timer_start(&timer, deadline_cb, ms, 0);
    while (!expired) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static void test_plain_http_peer(void) {
    peer p;
    client c;
    client *cs[1] = {&c};
    net_tls_ctx *ctx = new_ctx(1, "ca.pem");

    EXPECT_INT(peer_start(&p, PEER_PLAIN_HTTP), 0);
    client_init(&c, "GET / HTTP/1.1\r\n\r\n");
    client_connect(&c, p.port, ctx, "localhost");
    EXPECT_INT(run_clients(cs, 1, 5000), 0);
    EXPECT_INT(c.connect_status, NET_ETLS);
    EXPECT_STR(c.reason, "not tls (plain http?)");
    peer_stop(&p);
    net_tls_ctx_free(ctx);
    client_free(&c);
}

static void test_peer_closes_mid_handshake(void) {
    peer p;
    client c;
    client *cs[1] = {&c};
    net_tls_ctx *ctx = new_ctx(1, "ca.pem");

    EXPECT_INT(peer_start(&p, PEER_CLOSE_AFTER_HELLO), 0);
    client_init(&c, "GET / HTTP/1.1\r\n\r\n");
    client_connect(&c, p.port, ctx, "localhost");
    EXPECT_INT(run_clients(cs, 1, 5000), 0);
    EXPECT_INT(c.connect_status, NET_ETLS);
    EXPECT_STR(c.reason, "connection closed during handshake");
    EXPECT_INT(p.hellos, 1);
    peer_stop(&p);
    net_tls_ctx_free(ctx);
    client_free(&c);
}

/* 100 connections to a server that never answers: only 64 ClientHellos go out at once, the
 * others wait; closing handshaking streams lets waiting ones begin. */
static void test_handshakes_capped_per_thread(void) {
    enum { N = 100 };
    peer p;
    client *cs = calloc(N, sizeof(*cs));
    net_tls_ctx *ctx = new_ctx(0, NULL);

    EXPECT_INT(peer_start(&p, PEER_SILENT), 0);
    for (int i = 0; i < N; i++) {
        client_init(&cs[i], NULL);
        client_connect(&cs[i], p.port, ctx, "localhost");
    }
    run_for_ms(400);
    EXPECT_INT(p.connections, N);
    EXPECT_INT(p.hellos, 64);
    EXPECT_STR(net_stream_tls_reason(&cs[0].s), "handshake timeout");
    EXPECT_STR(net_stream_tls_reason(&cs[N - 1].s), "handshake timeout");

    /* Ten of the first 64 give up (their ClientHellos went out); ten waiting ones begin. */
    for (int i = 0; i < 10; i++) {
        net_stream_close(&cs[i].s);
    }
    run_for_ms(300);
    EXPECT_INT(p.hellos, 74);
    /* A waiting stream that is closed leaves the queue without ever sending. */
    net_stream_close(&cs[N - 1].s);
    for (int i = 10; i < 20; i++) {
        net_stream_close(&cs[i].s);
    }
    run_for_ms(300);
    EXPECT_INT(p.hellos, 84);
    for (int i = 0; i < N; i++) {
        EXPECT_INT(cs[i].connect_status, 1);
    }
    for (int i = 0; i < N; i++) {
        net_stream_close(&cs[i].s);
    }
    run_for_ms(50);
    for (int i = 0; i < N; i++) {
        EXPECT_INT(cs[i].closed, 1);
    }
    peer_stop(&p);
    net_tls_ctx_free(ctx);
    for (int i = 0; i < N; i++) {
        client_free(&cs[i]);
    }
    free(cs);
}

static void test_ctx_errors_name_the_file(void) {
    net_tls_config cfg = {.verify = 1, .cacert_path = "/nonexistent/ca.pem"};
    net_tls_ctx *ctx = (net_tls_ctx *)1;
    char err[256] = "";
    char path[PATH_BYTES];

    EXPECT(net_tls_ctx_new(&ctx, &cfg, err, sizeof(err)) < 0);
    EXPECT(ctx == NULL);
    EXPECT_STR(err, "cannot read CA file /nonexistent/ca.pem");

    cert_path(path, sizeof(path), "ca.cnf");
    cfg.cacert_path = path;
    EXPECT(net_tls_ctx_new(&ctx, &cfg, err, sizeof(err)) < 0);
    EXPECT(strstr(err, "no usable certificate") != NULL);

    /* -k needs no CA at all. */
    cfg.verify = 0;
    EXPECT_INT(net_tls_ctx_new(&ctx, &cfg, err, sizeof(err)), 0);
    net_tls_ctx_free(ctx);
}

static void test_loop_closes_cleanly(void) {
    while (uv_run(&loop, UV_RUN_NOWAIT)) {
    }
    EXPECT_INT(uv_loop_close(&loop), 0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    if (make_certs() != 0) {
        printf("FAIL setup: tests/lib/certs.sh could not make certificates\n");
        return 1;
    }
    RUN(test_ip_literal_verified_against_ip_san);
    RUN(test_name_verified_and_sent_as_sni);
    RUN(test_no_sni_for_ip_literal);
    RUN(test_unknown_ca_is_not_trusted);
    RUN(test_expired_certificate);
    RUN(test_wrong_name);
    RUN(test_insecure_accepts_anything);
    RUN(test_large_body_over_many_records);
    RUN(test_reconnect_resumes_session);
    RUN(test_plain_http_peer);
    RUN(test_peer_closes_mid_handshake);
    RUN(test_handshakes_capped_per_thread);
    RUN(test_ctx_errors_name_the_file);
    RUN(test_loop_closes_cleanly);
    remove_certs();
    HARNESS_END();
}
