/*
 * openssl_int.h -- what the files of the OpenSSL backend share (internal
 * to src/tls/openssl*.c): the objects behind an SSL's app data, the
 * context's credentials, and the certificate functions of openssl_pki.c.
 */
#ifndef PT_TLS_OPENSSL_INT_H
#define PT_TLS_OPENSSL_INT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls/tls.h"

#define COOKIE_SECRET_LEN 32

/* What an SSL object reads from and writes to. */
typedef struct dgram_link {
  const uint8_t *in; /* the datagram being fed in, NULL once read */
  size_t in_len;
  pt_tls_out_fn out;
  void *arg;
  int stream;    /* TLS over a byte stream: reads take what they ask for */
  uint64_t seq0; /* DTLS: the highest epoch-0 sequence number written */
} dgram_link;

/* The first member of both a listener and an association, which is what
 * SSL_get_app_data() returns: the cookie callbacks need the peer of
 * either. */
typedef struct conn {
  int is_listener;
  coap_address_t peer;
  dgram_link dgram_link;
} conn;

struct pt_tls_conf {
  SSL_CTX *server;     /* DTLS: made by the first setup call */
  SSL_CTX *server_tls; /* TLS over TCP: made with it, set up alike */
  int have_psk, have_pki;
  coap_dtls_spsk_t spsk; /* buffers below, owned */
  uint8_t *psk_hint, *psk_key;
  coap_dtls_pki_t pki;        /* flags and callbacks (key not kept) */
  char *root_file, *root_dir; /* coap_context_set_pki_root_cas() */
  uint8_t secret[COOKIE_SECRET_LEN];
  EVP_MAC_CTX *cookie_mac; /* HMAC-SHA256 under secret */
  uint64_t session_ids;    /* DTLS server: the last session ID made */
};

struct pt_tls {
  conn c;
  SSL *ssl;
  SSL_CTX *own; /* client sessions: their own SSL_CTX */
  coap_session_t *session;
  struct pt_tls_conf *conf;
  const coap_dtls_pki_t *rules; /* verification rules in force */
  coap_dtls_pki_t client_pki;   /* client: its setup (key not kept) */
  coap_dtls_cpsk_t cpsk;        /* client: its PSK setup, buffers below */
  uint8_t *cpsk_identity, *cpsk_key;
  uint8_t sni_key[COAP_DTLS_MAX_PSK]; /* server: key the SNI callback chose */
  size_t sni_key_len;
  int sni_key_set;
  int cookie_checked; /* server: the listener checked the ClientHello's
                         cookie; its second check may pass (once) */
  int closed;
};

/* The association an SSL belongs to, or NULL for a listener's. */
pt_tls *pt_ossl_tls_of(SSL *ssl);

/* Empties OpenSSL's error queue of this thread (cheaply when it is
 * empty, as it nearly always is). */
void pt_ossl_clear_errors(void);

/* Moves OpenSSL's error queue to the (D)TLS log, emptying it. */
void pt_ossl_log_errors(const char *what);

/* A new association object for @s over @ssl (may be NULL), writing
 * through @out; NULL when out of memory. */
pt_tls *pt_ossl_tls_new(coap_session_t *s, SSL *ssl, pt_tls_out_fn out,
                        void *arg);

/* Gives @ssl a BIO over @l. 0 or -1. */
int pt_ossl_attach_link(SSL *ssl, dgram_link *l);

/* A client association for @s with @psk or @pki (or neither), DTLS or
 * (@stream) TLS, whose ClientHello has left through @out. NULL on
 * failure. */
pt_tls *pt_ossl_client_new(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                           const coap_dtls_pki_t *pki, pt_tls_out_fn out,
                           void *arg, int stream);

/* TLS over a stream (openssl_stream.c): what a context's TLS server
 * SSL_CTX and a client's SSL need beyond the DTLS setup (ALPN "coap";
 * TLS 1.2 at most when the client's PSK setup has an identity hint
 * callback, as TLS 1.3 has no hint). 0 or -1. */
void pt_ossl_stream_server_init(SSL_CTX *ctx);
int pt_ossl_stream_client_init(SSL *ssl, const coap_dtls_cpsk_t *psk);

/* ---- certificates and keys (openssl_pki.c) ------------------------------ */

/* Certificates and key loaded from any of the coap_pki_key_t forms. */
typedef struct material {
  X509 *cert;
  STACK_OF(X509) * chain; /* further certificates after cert */
  EVP_PKEY *key;
  STACK_OF(X509_INFO) * cas; /* CA certificates and CRLs */
} material;

/* Loads @k (any coap_pki_key_t form but PKCS#11) into @m. 0, or -1 with
 * nothing held. */
int pt_ossl_load_material(const coap_dtls_key_t *k, material *m);
void pt_ossl_material_free(material *m);

/* Puts @m's certificate, chain and key on @ctx, or on @ssl when given.
 * 0 or -1. */
int pt_ossl_use_material(SSL_CTX *ctx, SSL *ssl, const material *m);

/* Loads our key material and trust anchors from @r into @ctx and applies
 * its verification switches for @server's role (@conf: the context's
 * root CAs, may be NULL). 0 or -1. */
int pt_ossl_apply_pki(SSL_CTX *ctx, const coap_dtls_pki_t *r,
                      const struct pt_tls_conf *conf, int server);

#endif /* PT_TLS_OPENSSL_INT_H */
