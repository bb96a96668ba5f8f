/*
 * dtls_peer.h -- a DTLS 1.2 PSK client made directly with OpenSSL over
 * memory BIOs, for tests and the fuzz target that talk to Petrel's DTLS
 * server side datagram by datagram (src/dtls.c) without sockets: it
 * produces real ClientHellos, answers HelloVerifyRequests and finishes
 * handshakes, so the server can be driven past its cookie check.
 */
#ifndef PETREL_DTLS_PEER_H
#define PETREL_DTLS_PEER_H

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

typedef struct dtls_peer {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in, *out; /* what the server sent us; what we send */
} dtls_peer;

static unsigned dtls_peer_psk(SSL *ssl, const char *hint, char *identity,
                              unsigned max_id, unsigned char *psk,
                              unsigned max_psk) {
  (void)ssl, (void)hint;
  if (max_id < 6 || max_psk < 9)
    return 0;
  memcpy(identity, "fuzzy", 6);
  memcpy(psk, "secretPSK", 9);
  return 9;
}

/* A client offering the OpenSSL cipher list @suites and asking to resume
 * @resume (NULL: a new session) that has written its first ClientHello
 * (read it with dtls_peer_next()). 0 or -1. */
static inline int dtls_peer_start_resuming(dtls_peer *p, const char *suites,
                                           SSL_SESSION *resume) {
  memset(p, 0, sizeof(*p));
  p->ctx = SSL_CTX_new(DTLS_client_method());
  if (!p->ctx || SSL_CTX_set_cipher_list(p->ctx, suites) != 1)
    return -1;
  SSL_CTX_set_psk_client_callback(p->ctx, dtls_peer_psk);
  p->ssl = SSL_new(p->ctx);
  p->in = BIO_new(BIO_s_mem());
  p->out = BIO_new(BIO_s_mem());
  if (!p->ssl || !p->in || !p->out)
    return -1;
  BIO_set_mem_eof_return(p->in, -1);
  SSL_set_bio(p->ssl, p->in, p->out);
  /* A memory BIO has no MTU: without one OpenSSL fragments the
   * ClientHello, which no stateless listener takes. */
  SSL_set_options(p->ssl, SSL_OP_NO_QUERY_MTU);
  DTLS_set_link_mtu(p->ssl, 1400);
  if (resume && SSL_set_session(p->ssl, resume) != 1)
    return -1;
  SSL_set_connect_state(p->ssl);
  SSL_do_handshake(p->ssl);
  ERR_clear_error();
  return 0;
}

/* The same for a new session. */
static inline int dtls_peer_start_with(dtls_peer *p, const char *suites) {
  return dtls_peer_start_resuming(p, suites, NULL);
}

/* The same with OpenSSL's PSK suites. */
static inline int dtls_peer_start(dtls_peer *p) {
  return dtls_peer_start_with(p, "PSK");
}

/* Takes what the client has to send (all its pending datagrams, which a
 * memory BIO joins; DTLS records carry their lengths, so the server reads
 * them as one datagram). Returns the length, 0 if none. */
static inline size_t dtls_peer_next(dtls_peer *p, uint8_t *buf, size_t cap) {
  int n = BIO_read(p->out, buf, (int)cap);
  return n > 0 ? (size_t)n : 0;
}

/* Gives the client a datagram from the server and lets it advance. */
static inline void dtls_peer_feed(dtls_peer *p, const uint8_t *data,
                                  size_t len) {
  BIO_write(p->in, data, (int)len);
  if (!SSL_is_init_finished(p->ssl))
    SSL_do_handshake(p->ssl);
  ERR_clear_error();
}

static inline void dtls_peer_free(dtls_peer *p) {
  SSL_free(p->ssl); /* frees both BIOs */
  SSL_CTX_free(p->ctx);
  memset(p, 0, sizeof(*p));
}

#endif /* PETREL_DTLS_PEER_H */
