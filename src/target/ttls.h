/* ttls.h: the rehearsal server's TLS, server side, through mbedTLS, over buffers it is fed. */
#ifndef VOLLEY_TTLS_H
#define VOLLEY_TTLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ttls_server ttls_server;
typedef struct ttls_conn ttls_conn;

/* Ciphertext ready to go to the peer; the owner copies or takes it before returning. */
typedef void (*ttls_send_fn)(void *owner, const uint8_t *data, size_t len);

/* Loads a PEM certificate chain and key. Returns 0, or a negative code with a short reason
 * written into err (errcap bytes). One server per thread: it owns a random generator. */
int ttls_server_create(ttls_server **out, const char *cert_path, const char *key_path, char *err,
                       size_t errcap);

/* Frees a server whose connections are all gone. */
void ttls_server_free(ttls_server *s);

/* A new connection in the handshake state; send receives every byte it emits. NULL on
 * failure. */
ttls_conn *ttls_conn_new(ttls_server *s, ttls_send_fn send, void *owner);

/* Frees a connection. */
void ttls_conn_free(ttls_conn *c);

/* Hands bytes read from the peer to the TLS layer (copied). Returns 0 or -ENOBUFS. */
int ttls_conn_feed(ttls_conn *c, const uint8_t *data, size_t len);

/* Advances the handshake and decrypts into buf. Returns the plaintext length, 0 when more input
 * is needed, or a negative code when the connection must close (-EPIPE on close_notify). */
long ttls_conn_read(ttls_conn *c, char *buf, size_t cap);

/* Encrypts len bytes and hands the records to send. Returns 0 or a negative code. */
int ttls_conn_write(ttls_conn *c, const uint8_t *data, size_t len);

#endif
