/* ttls.c: server-side TLS for the rehearsal server through mbedTLS 2.28, over memory buffers. */
#include "target/ttls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define TTLS_MAX_INPUT_BYTES (1 << 20) /* ciphertext waiting to be decrypted */

struct ttls_server {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
};

struct ttls_conn {
    mbedtls_ssl_context ssl;
    ttls_send_fn send;
    void *owner;
    uint8_t *in;
    size_t in_len, in_off, in_cap;
    int ready;
};

static void ttls_reason(int rc, const char *what, const char *path, char *err, size_t errcap) {
    char text[128];
    mbedtls_strerror(rc, text, sizeof(text));
    snprintf(err, errcap, "%s %s: %s", what, path, text);
}

int ttls_server_create(ttls_server **out, const char *cert_path, const char *key_path, char *err,
                       size_t errcap) {
    ttls_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -ENOMEM;
    }
    mbedtls_entropy_init(&s->entropy);
    mbedtls_ctr_drbg_init(&s->drbg);
    mbedtls_ssl_config_init(&s->conf);
    mbedtls_x509_crt_init(&s->cert);
    mbedtls_pk_init(&s->key);
    int rc = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
                                   (const unsigned char *)"volley-target", 13);
    if (rc != 0) {
        ttls_reason(rc, "cannot seed the random generator for", cert_path, err, errcap);
        goto fail;
    }
    rc = mbedtls_x509_crt_parse_file(&s->cert, cert_path);
    if (rc != 0) {
        ttls_reason(rc, "cannot load certificate", cert_path, err, errcap);
        goto fail;
    }
    rc = mbedtls_pk_parse_keyfile(&s->key, key_path, NULL);
    if (rc != 0) {
        ttls_reason(rc, "cannot load key", key_path, err, errcap);
        goto fail;
    }
    rc = mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc == 0) {
        mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
        rc = mbedtls_ssl_conf_own_cert(&s->conf, &s->cert, &s->key);
    }
    if (rc != 0) {
        ttls_reason(rc, "certificate and key do not match:", key_path, err, errcap);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    ttls_server_free(s);
    return -EINVAL;
}

/* Frees a server whose connections are all gone. */
void ttls_server_free(ttls_server *s) {
    if (!s) {
        return;
    }
    mbedtls_pk_free(&s->key);
    mbedtls_x509_crt_free(&s->cert);
    mbedtls_ssl_config_free(&s->conf);
    mbedtls_ctr_drbg_free(&s->drbg);
    mbedtls_entropy_free(&s->entropy);
    free(s);
}

static int ttls_bio_send(void *ctx, const unsigned char *buf, size_t len) {
    ttls_conn *c = ctx;
    c->send(c->owner, buf, len);
    return (int)len;
}

static int ttls_bio_recv(void *ctx, unsigned char *buf, size_t len) {
    ttls_conn *c = ctx;
    size_t have = c->in_len - c->in_off;
    if (have == 0) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    size_t n = have < len ? have : len;
    memcpy(buf, c->in + c->in_off, n);
    c->in_off += n;
    return (int)n;
}

/* A new connection in the handshake state; send receives every byte it emits. NULL on
 * failure. */
ttls_conn *ttls_conn_new(ttls_server *s, ttls_send_fn send, void *owner) {
    ttls_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    mbedtls_ssl_init(&c->ssl);
    if (mbedtls_ssl_setup(&c->ssl, &s->conf) != 0) {
        mbedtls_ssl_free(&c->ssl);
        free(c);
        return NULL;
    }
    c->send = send;
    c->owner = owner;
    mbedtls_ssl_set_bio(&c->ssl, c, ttls_bio_send, ttls_bio_recv, NULL);
    return c;
}

/* Frees a connection. */
void ttls_conn_free(ttls_conn *c) {
    if (!c) {
        return;
    }
    mbedtls_ssl_free(&c->ssl);
    free(c->in);
    free(c);
}

/* Hands bytes read from the peer to the TLS layer (copied). Returns 0 or -ENOBUFS. */
int ttls_conn_feed(ttls_conn *c, const uint8_t *data, size_t len) {
    if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in_len + len > TTLS_MAX_INPUT_BYTES) {
        return -ENOBUFS;
    }
    if (c->in_len + len > c->in_cap) {
        size_t cap = c->in_cap ? c->in_cap : 16384;
        while (cap < c->in_len + len) {
            cap *= 2;
        }
        uint8_t *p = realloc(c->in, cap);
        if (!p) {
            return -ENOBUFS;
        }
        c->in = p;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
    return 0;
}

/* Advances the handshake and decrypts into buf. Returns the plaintext length, 0 when more input
 * is needed, or a negative code when the connection must close (-EPIPE on close_notify). */
long ttls_conn_read(ttls_conn *c, char *buf, size_t cap) {
    if (!c->ready) {
        int rc = mbedtls_ssl_handshake(&c->ssl);
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
            return 0;
        }
        if (rc != 0) {
            return -EPROTO;
        }
        c->ready = 1;
    }
    int rc = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf, cap);
    if (rc > 0) {
        return rc;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
    return rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? -EPIPE : -EPROTO;
}

/* Encrypts len bytes and hands the records to send. Returns 0 or a negative code. */
int ttls_conn_write(ttls_conn *c, const uint8_t *data, size_t len) {
    if (!c->ready) {
        return -ENOTCONN;
    }
    size_t off = 0;
    while (off < len) {
        int rc = mbedtls_ssl_write(&c->ssl, data + off, len - off);
        if (rc < 0) {
            return -EPROTO;
        }
        off += (size_t)rc;
    }
    return 0;
}
