/*
 * tls_peer.h -- a TLS peer made directly with OpenSSL on a non-blocking
 * stream socket, for tests that talk to Petrel's TLS pipe (src/tls_stream.c)
 * from the other end of a connection: either role, pre-shared key
 * "secretPSK" (identity "peer"), stepped by hand so one thread can drive
 * both sides. Tests also write raw bytes to its fd to break the stream.
 */
#ifndef PETREL_TLS_PEER_H
#define PETREL_TLS_PEER_H

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

typedef struct tls_peer {
  SSL_CTX *ctx;
  SSL *ssl;
  int fd;
} tls_peer;

static unsigned tls_peer_client_psk(SSL *ssl, const char *hint, char *identity,
                                    unsigned max_id, unsigned char *psk,
                                    unsigned max_psk) {
  (void)ssl, (void)hint;
  if (max_id < 5 || max_psk < 9)
    return 0;
  memcpy(identity, "peer", 5);
  memcpy(psk, "secretPSK", 9);
  return 9;
}

static unsigned tls_peer_server_psk(SSL *ssl, const char *identity,
                                    unsigned char *psk, unsigned max_psk) {
  (void)ssl, (void)identity;
  if (max_psk < 9)
    return 0;
  memcpy(psk, "secretPSK", 9);
  return 9;
}

/* A peer on @fd (non-blocking, not owned) in the @server or client role.
 * 0 or -1. */
static inline int tls_peer_open(tls_peer *p, int fd, int server) {
  memset(p, 0, sizeof(*p));
  p->fd = fd;
  p->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!p->ctx)
    return -1;
  SSL_CTX_set_cipher_list(p->ctx, "PSK");
  if (server)
    SSL_CTX_set_psk_server_callback(p->ctx, tls_peer_server_psk);
  else
    SSL_CTX_set_psk_client_callback(p->ctx, tls_peer_client_psk);
  p->ssl = SSL_new(p->ctx);
  if (!p->ssl || SSL_set_fd(p->ssl, fd) != 1)
    return -1;
  if (server)
    SSL_set_accept_state(p->ssl);
  else
    SSL_set_connect_state(p->ssl);
  return 0;
}

/* Advances the handshake: 1 when done, 0 while it runs, -1 failed. */
static inline int tls_peer_step(tls_peer *p) {
  if (SSL_is_init_finished(p->ssl))
    return 1;
  int r = SSL_do_handshake(p->ssl);
  int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(p->ssl, r);
  ERR_clear_error();
  if (r == 1)
    return 1;
  return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Plaintext read so far (up to @cap), 0 if none; -1 at the end. */
static inline int tls_peer_read(tls_peer *p, uint8_t *buf, size_t cap) {
  int n = SSL_read(p->ssl, buf, (int)cap);
  int e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(p->ssl, n);
  ERR_clear_error();
  if (n > 0)
    return n;
  return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

static inline void tls_peer_free(tls_peer *p) {
  SSL_free(p->ssl);
  SSL_CTX_free(p->ctx);
  memset(p, 0, sizeof(*p));
}

#endif /* PETREL_TLS_PEER_H */
