/*
 * openssl.c -- the (D)TLS backend on OpenSSL 3: DTLS 1.2 with pre-shared
 * keys (RFC 4279) and certificates, behind src/tls/tls.h. Certificates,
 * keys and their verification are in openssl_pki.c, TLS over a byte
 * stream (coaps+tcp) in openssl_stream.c; what the files share is in
 * openssl_int.h.
 *
 * OpenSSL never sees a socket: every SSL object reads and writes through a
 * small BIO of our own whose read side is the one datagram being fed in
 * and whose write side hands each record datagram to the caller's output
 * function. OpenSSL's retransmission timer is only read
 * (DTLSv1_get_timeout) and expired (DTLSv1_handle_timeout) when the
 * context's timer heap says so.
 *
 * A server endpoint has one listener SSL that runs DTLSv1_listen(): the
 * cookie is an HMAC of the peer's address under a per-context secret, so a
 * HelloVerifyRequest costs no state. Only a ClientHello that returns a
 * valid cookie turns the listener's SSL into a session's; the next peer
 * gets a fresh one.
 *
 * Not available on this backend (as with libcoap's OpenSSL build): raw
 * public keys (RFC 7250) and PKCS#11 keys; their *_is_supported() queries
 * answer 0 and setups that ask for them fail.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "context.h"
#include "dtls.h"
#include "session.h"
#include "tls/openssl_int.h"

#define PLAIN_MAX 2048 /* above the largest datagram we read (io.c) */
#define LINK_MTU 1400  /* records are never larger (no path MTU probing) */

/* ---- capabilities ----------------------------------------------------------
 */

int coap_dtls_is_supported(void) {
  return 1;
}

int coap_tls_is_supported(void) {
  return 1; /* over TCP: openssl_stream.c */
}

int coap_dtls_psk_is_supported(void) {
  return 1;
}

int coap_dtls_pki_is_supported(void) {
  return 1;
}

int coap_dtls_pkcs11_is_supported(void) {
  return 0;
}

int coap_dtls_rpk_is_supported(void) {
  return 0;
}

static coap_tls_version_t version;
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void version_init(void) {
  version.version = OpenSSL_version_num();
  version.type = COAP_TLS_LIBRARY_OPENSSL;
  version.built_version = OPENSSL_VERSION_NUMBER;
}

/* Written once, then read only: safe from any thread. */
coap_tls_version_t *coap_get_tls_library_version(void) {
  pthread_once(&version_once, version_init);
  return &version;
}

char *coap_string_tls_version(char *buffer, size_t bufsize) {
  if (buffer && bufsize)
    snprintf(buffer, bufsize,
             "TLS Library: OpenSSL - runtime %u.%u.%u, built for %d.%d.%d",
             OPENSSL_version_major(), OPENSSL_version_minor(),
             OPENSSL_version_patch(), OPENSSL_VERSION_MAJOR,
             OPENSSL_VERSION_MINOR, OPENSSL_VERSION_PATCH);
  return buffer;
}

char *coap_string_tls_support(char *buffer, size_t bufsize) {
  if (buffer && bufsize)
    snprintf(buffer, bufsize,
             "(DTLS and TLS support; PSK, PKI, no "
             "PKCS11, and no RPK support)");
  return buffer;
}

/* ---- logging ---------------------------------------------------------------
 */

/*
 * Empties OpenSSL's error queue of this thread, as SSL_get_error() needs
 * before each SSL call. The queue is nearly always empty already, and
 * ERR_clear_error() resets all its 16 slots whether or not they hold
 * anything (about 840 instructions on OpenSSL 3.0, a sixth of a DTLS
 * GET's user-space cost when called three times per request), where
 * ERR_peek_error() only looks.
 */
void pt_ossl_clear_errors(void) {
  if (ERR_peek_error())
    ERR_clear_error();
}

/* Moves OpenSSL's error queue to the (D)TLS log, emptying it. */
void pt_ossl_log_errors(const char *what) {
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    coap_dtls_log(COAP_LOG_WARN, "%s: %s\n", what, buf);
  }
}

/* ---- the datagram BIO ------------------------------------------------------
 */

/* DTLS record header (RFC 6347 4.1): type, version (2), epoch (2),
 * sequence number (6), length (2). */
#define DTLS_HEADER 13

/* Notes the highest epoch-0 sequence number among the records of a
 * datagram we write (for wrong_key_alert()). */
static void note_seq0(dgram_link *l, const uint8_t *d, size_t n) {
  while (n >= DTLS_HEADER) {
    size_t rlen = (size_t)d[11] << 8 | d[12];
    if (d[3] == 0 && d[4] == 0) {
      uint64_t seq = 0;
      for (int i = 5; i < 11; i++)
        seq = seq << 8 | d[i];
      if (seq > l->seq0)
        l->seq0 = seq;
    }
    if (rlen > n - DTLS_HEADER)
      break;
    d += DTLS_HEADER + rlen;
    n -= DTLS_HEADER + rlen;
  }
}

static int bio_write(BIO *b, const char *data, int len) {
  dgram_link *l = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (len > 0 && !l->stream)
    note_seq0(l, (const uint8_t *)data, (size_t)len);
  if (len > 0 && l->out)
    l->out(l->arg, (const uint8_t *)data, (size_t)len);
  return len;
}

static int bio_read(BIO *b, char *buf, int size) {
  dgram_link *l = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (!l->in || size <= 0) {
    BIO_set_retry_read(b);
    return -1;
  }
  size_t n = l->in_len < (size_t)size ? l->in_len : (size_t)size;
  memcpy(buf, l->in, n);
  if (l->stream) { /* a stream: the rest stays for the next read */
    l->in += n;
    l->in_len -= n;
    if (!l->in_len)
      l->in = NULL;
  } else {
    l->in = NULL; /* one datagram per read, as from a socket */
  }
  return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b, (void)num, (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    return LINK_MTU;
  default: /* peer addresses, timeouts, MTU exceeded: not ours to know */
    return 0;
  }
}

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static void bio_method_init(void) {
  bio_method =
      BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "petrel-dgram");
  if (!bio_method)
    return;
  BIO_meth_set_write(bio_method, bio_write);
  BIO_meth_set_read(bio_method, bio_read);
  BIO_meth_set_ctrl(bio_method, bio_ctrl);
  BIO_meth_set_create(bio_method, bio_create);
}

int pt_ossl_attach_link(SSL *ssl, dgram_link *l) {
  pthread_once(&bio_once, bio_method_init);
  BIO *b = bio_method ? BIO_new(bio_method) : NULL;
  if (!b)
    return -1;
  BIO_set_data(b, l);
  SSL_set_bio(ssl, b, b);
  if (!l->stream) {
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, LINK_MTU);
  }
  return 0;
}

/* ---- objects
 * ----------------------------------------------------------------- */

struct pt_tls_listener {
  conn c;
  SSL *ssl;
  coap_context_t *ctx;
  BIO_ADDR *client;
};

static conn *conn_of(SSL *ssl) {
  return ssl ? SSL_get_app_data(ssl) : NULL;
}

/* The association an SSL belongs to, or NULL for a listener's. */
pt_tls *pt_ossl_tls_of(SSL *ssl) {
  conn *c = conn_of(ssl);
  return c && !c->is_listener ? (pt_tls *)c : NULL;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n) {
  uint8_t *d = malloc(n + 1); /* NUL-terminated for OpenSSL's strings */
  if (!d)
    return NULL;
  if (n)
    memcpy(d, p, n);
  d[n] = 0;
  return d;
}

/* ---- cookies (RFC 6347 4.2.1)
 * ------------------------------------------------ */

/* The cookie MAC: HMAC-SHA256 keyed with the context's secret, made once.
 * HMAC() would fetch the algorithms and set the key up anew per cookie,
 * about 31,000 instructions against 3,000 (OpenSSL 3.0), twice per
 * handshake. NULL when out of memory. */
static EVP_MAC_CTX *cookie_mac_new(const uint8_t *secret, size_t len) {
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
  EVP_MAC_free(mac); /* the context holds its own reference */
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
      OSSL_PARAM_construct_end()};
  if (m && !EVP_MAC_init(m, secret, len, params)) {
    EVP_MAC_CTX_free(m);
    return NULL;
  }
  return m;
}

/* HMAC-SHA256 over the peer's address and port. */
static int make_cookie(SSL *ssl, unsigned char *out, size_t cap,
                       unsigned *out_len) {
  conn *c = conn_of(ssl);
  struct pt_tls_conf *conf = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  if (!c || !conf || !conf->cookie_mac)
    return 0;
  uint8_t buf[32];
  size_t n = 0;
  const coap_address_t *a = &c->peer;
  uint16_t port = coap_address_get_port(a);
  buf[n++] = (uint8_t)a->addr.sa.sa_family;
  buf[n++] = (uint8_t)(port >> 8);
  buf[n++] = (uint8_t)port;
  if (a->addr.sa.sa_family == AF_INET6) {
    memcpy(buf + n, &a->addr.sin6.sin6_addr, 16);
    n += 16;
  } else {
    memcpy(buf + n, &a->addr.sin.sin_addr, 4);
    n += 4;
  }
  size_t got = 0;
  /* A NULL key starts a new MAC under the key already set. */
  if (!EVP_MAC_init(conf->cookie_mac, NULL, 0, NULL) ||
      !EVP_MAC_update(conf->cookie_mac, buf, n) ||
      !EVP_MAC_final(conf->cookie_mac, out, &got, cap))
    return 0;
  *out_len = (unsigned)got;
  return 1;
}

static int cookie_generate(SSL *ssl, unsigned char *cookie,
                           unsigned int *cookie_len) {
  /* OpenSSL's buffer holds DTLS1_COOKIE_LENGTH bytes (255). */
  return make_cookie(ssl, cookie, DTLS1_COOKIE_LENGTH, cookie_len);
}

/* The listener checks the cookie of a ClientHello (DTLSv1_listen()) and
 * keeps that ClientHello for the handshake, whose first step checks the
 * same cookie again: pt_tls_accept() marks that one step, which then
 * spares the second HMAC (about 6,600 instructions a handshake). */
static int cookie_verify(SSL *ssl, const unsigned char *cookie,
                         unsigned int cookie_len) {
  pt_tls *t = pt_ossl_tls_of(ssl);
  if (t && t->cookie_checked) {
    t->cookie_checked = 0;
    return 1;
  }
  unsigned char want[EVP_MAX_MD_SIZE];
  unsigned want_len = 0;
  return make_cookie(ssl, want, sizeof(want), &want_len) &&
         cookie_len == want_len && CRYPTO_memcmp(cookie, want, want_len) == 0;
}

/* ---- session IDs ----------------------------------------------------------
 */

/*
 * The DTLS server keeps no session cache and issues no tickets (conf_get()),
 * so the session ID that OpenSSL makes for every new session is neither
 * sent (without a server cache the ServerHello's is empty, which
 * test_dtls_server checks) nor ever looked up. OpenSSL draws it from its
 * random generator, about 6,700 instructions a handshake; a counter is as
 * unique and costs nothing.
 */
static int session_id(SSL *ssl, unsigned char *id, unsigned int *id_len) {
  struct pt_tls_conf *conf = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  if (!conf || *id_len < 8)
    return 0;
  uint64_t n = ++conf->session_ids;
  for (int i = 7; i >= 0; i--, n >>= 8)
    id[i] = (uint8_t)n;
  *id_len = 8;
  return 1;
}

/* ---- PSK
 * ------------------------------------------------------------------------ */

static unsigned server_psk(SSL *ssl, const char *identity, unsigned char *psk,
                           unsigned int max_psk_len) {
  pt_tls *t = pt_ossl_tls_of(ssl);
  if (!t || !t->conf->have_psk)
    return 0;
  coap_dtls_spsk_t *sp = &t->conf->spsk;
  coap_bin_const_t sni_key = {t->sni_key_len, t->sni_key};
  const coap_bin_const_t *key = t->sni_key_set ? &sni_key : &sp->psk_info.key;
  coap_bin_const_t id = {identity ? strlen(identity) : 0,
                         (const uint8_t *)identity};
  pt_dtls_set_psk(t->session, PT_PSK_IDENTITY, id.s, id.length);
  if (sp->validate_id_call_back)
    key = sp->validate_id_call_back(&id, t->session, sp->id_call_back_arg);
  if (!key || !key->length || key->length > max_psk_len) {
    coap_log_info("* %s: PSK identity '%.*s' refused\n",
                  coap_session_str(t->session), (int)id.length,
                  id.s ? (const char *)id.s : "");
    return 0;
  }
  memcpy(psk, key->s, key->length);
  pt_dtls_set_psk(t->session, PT_PSK_KEY, key->s, key->length);
  return (unsigned)key->length;
}

static unsigned client_psk(SSL *ssl, const char *hint, char *identity,
                           unsigned int max_identity_len, unsigned char *psk,
                           unsigned int max_psk_len) {
  pt_tls *t = pt_ossl_tls_of(ssl);
  if (!t)
    return 0;
  const coap_dtls_cpsk_info_t *info = &t->cpsk.psk_info;
  if (hint && *hint) {
    coap_str_const_t h = {strlen(hint), (const uint8_t *)hint};
    pt_dtls_set_psk(t->session, PT_PSK_HINT, h.s, h.length);
    if (t->cpsk.validate_ih_call_back)
      info = t->cpsk.validate_ih_call_back(&h, t->session,
                                           t->cpsk.ih_call_back_arg);
  }
  if (!info || info->identity.length + 1 > max_identity_len ||
      !info->key.length || info->key.length > max_psk_len)
    return 0;
  if (info->identity.length)
    memcpy(identity, info->identity.s, info->identity.length);
  identity[info->identity.length] = 0;
  memcpy(psk, info->key.s, info->key.length);
  pt_dtls_set_psk(t->session, PT_PSK_IDENTITY, info->identity.s,
                  info->identity.length);
  pt_dtls_set_psk(t->session, PT_PSK_KEY, info->key.s, info->key.length);
  return (unsigned)info->key.length;
}

/* ---- the server's context
 * ------------------------------------------------------ */

/* The server chooses its PSK and certificate by SNI. */
static int server_sni(SSL *ssl, int *alert, void *arg) {
  (void)arg;
  pt_tls *t = pt_ossl_tls_of(ssl);
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!t || !name || !*name)
    return SSL_TLSEXT_ERR_NOACK;
  struct pt_tls_conf *conf = t->conf;
  if (conf->have_psk && conf->spsk.validate_sni_call_back) {
    const coap_dtls_spsk_info_t *info = conf->spsk.validate_sni_call_back(
        name, t->session, conf->spsk.sni_call_back_arg);
    if (!info || info->key.length > sizeof(t->sni_key)) {
      *alert = SSL_AD_UNRECOGNIZED_NAME;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    memcpy(t->sni_key, info->key.s, info->key.length);
    t->sni_key_len = info->key.length;
    t->sni_key_set = 1;
    char hint[COAP_DTLS_HINT_LENGTH + 1];
    size_t hl = info->hint.length < COAP_DTLS_HINT_LENGTH
                    ? info->hint.length
                    : COAP_DTLS_HINT_LENGTH;
    memcpy(hint, info->hint.s ? (const char *)info->hint.s : "", hl);
    hint[hl] = 0;
    SSL_use_psk_identity_hint(ssl, hint);
    pt_dtls_set_psk(t->session, PT_PSK_HINT, (const uint8_t *)hint, hl);
  }
  if (conf->have_pki && conf->pki.validate_sni_call_back) {
    coap_dtls_key_t *k =
        conf->pki.validate_sni_call_back(name, conf->pki.sni_call_back_arg);
    material m;
    int ok = k && pt_ossl_load_material(k, &m) == 0;
    if (ok) {
      ok = pt_ossl_use_material(NULL, ssl, &m) == 0;
      pt_ossl_material_free(&m);
    }
    if (!ok) {
      *alert = SSL_AD_UNRECOGNIZED_NAME;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
  }
  return SSL_TLSEXT_ERR_OK;
}

/* The suites a server offers, and a client with a certificate or none:
 * OpenSSL's DEFAULT list, then the ones RFC 7252 makes mandatory
 * (TLS_PSK_WITH_AES_128_CCM_8, 9.1.3.1; TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
 * 9.1.3.3), least preferred. DEFAULT removes the CCM8 suites with "!",
 * which nothing after it can undo, so it is spelt out here with "-"
 * instead (OpenSSL 3.0: "ALL:!COMPLEMENTOFDEFAULT:!eNULL"). */
#define OFFERED_SUITES                                                         \
  "ALL:-COMPLEMENTOFDEFAULT:-eNULL:PSK-AES128-CCM8:ECDHE-ECDSA-AES128-CCM8"

/*
 * A server chooses from the client's offer in this order (TLS 1.2 and
 * DTLS 1.2; SSL_OP_CIPHER_SERVER_PREFERENCE), not the client's: forward
 * secrecy first (ECDHE-PSK), then the AEADs by what a record costs here,
 * then OFFERED_SUITES as OpenSSL orders it, CCM_8 last (a 64-bit tag).
 * Per DTLS GET, callgrind on OpenSSL 3.0 with AES-NI (two records): AES-GCM
 * about 9,900 instructions, ChaCha20-Poly1305 11,000, so a client offering
 * both gets AES-GCM unless ChaCha20 heads its list
 * (SSL_OP_PRIORITIZE_CHACHA: a client without AES hardware says so by
 * putting it first). doc/dtls.md has the order and the figures.
 */
#define SERVER_SUITES                                                          \
  "ECDHE-PSK-CHACHA20-POLY1305:PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256:"   \
  "PSK-CHACHA20-POLY1305:" OFFERED_SUITES
#define SERVER_SUITE_OPTIONS                                                   \
  (SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA)

static struct pt_tls_conf *conf_get(coap_context_t *ctx) {
  if (ctx->tls)
    return ctx->tls;
  struct pt_tls_conf *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->server = SSL_CTX_new(DTLS_server_method());
  c->server_tls = SSL_CTX_new(TLS_server_method());
  if (c->server && c->server_tls &&
      RAND_bytes(c->secret, sizeof(c->secret)) == 1)
    c->cookie_mac = cookie_mac_new(c->secret, sizeof(c->secret));
  if (!c->cookie_mac) {
    SSL_CTX_free(c->server);
    SSL_CTX_free(c->server_tls);
    free(c);
    return NULL;
  }
  SSL_CTX_set_min_proto_version(c->server_tls, TLS1_2_VERSION);
  SSL_CTX_set_options(c->server_tls, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_app_data(c->server_tls, c);
  SSL_CTX_set_tlsext_servername_callback(c->server_tls, server_sni);
  SSL_CTX_set_cipher_list(c->server_tls, SERVER_SUITES);
  SSL_CTX_set_options(c->server_tls, SERVER_SUITE_OPTIONS);
  pt_ossl_stream_server_init(c->server_tls);
  SSL_CTX_set_min_proto_version(c->server, DTLS1_2_VERSION);
  SSL_CTX_set_options(c->server, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_read_ahead(c->server, 1);
  /* No session resumption: CoAP clients (ours, libcoap's) do not resume,
   * and each NewSessionTicket cost about a tenth of a full PSK handshake
   * (the session encoded, decoded and encoded again, then encrypted),
   * with a cache entry per handshake kept for minutes. A client offering
   * a session or a ticket gets a full handshake. */
  SSL_CTX_set_options(c->server, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(c->server, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_generate_session_id(c->server, session_id);
  SSL_CTX_set_app_data(c->server, c);
  SSL_CTX_set_cookie_generate_cb(c->server, cookie_generate);
  SSL_CTX_set_cookie_verify_cb(c->server, cookie_verify);
  SSL_CTX_set_tlsext_servername_callback(c->server, server_sni);
  SSL_CTX_set_cipher_list(c->server, SERVER_SUITES);
  SSL_CTX_set_options(c->server, SERVER_SUITE_OPTIONS);
  ctx->tls = c;
  return c;
}

int pt_tls_set_spsk(coap_context_t *ctx, const coap_dtls_spsk_t *setup) {
  if (setup->version != COAP_DTLS_SPSK_SETUP_VERSION) {
    coap_log_warn("coap_context_set_psk2: setup version %u is not %u\n",
                  setup->version, COAP_DTLS_SPSK_SETUP_VERSION);
    return 0;
  }
  if (setup->psk_info.hint.length > COAP_DTLS_HINT_LENGTH ||
      setup->psk_info.key.length > COAP_DTLS_MAX_PSK)
    return 0;
  struct pt_tls_conf *c = conf_get(ctx);
  if (!c)
    return 0;
  uint8_t *hint =
      dup_bytes(setup->psk_info.hint.s, setup->psk_info.hint.length);
  uint8_t *key = dup_bytes(setup->psk_info.key.s, setup->psk_info.key.length);
  if (!hint || !key) {
    free(hint);
    free(key);
    return 0;
  }
  free(c->psk_hint);
  free(c->psk_key);
  c->psk_hint = hint;
  c->psk_key = key;
  c->spsk = *setup;
  c->spsk.psk_info.hint.s = hint;
  c->spsk.psk_info.key.s = key;
  c->have_psk = 1;
  SSL_CTX *both[] = {c->server, c->server_tls};
  for (int i = 0; i < 2; i++) {
    SSL_CTX_set_psk_server_callback(both[i], server_psk);
    SSL_CTX_use_psk_identity_hint(
        both[i], setup->psk_info.hint.length ? (const char *)hint : NULL);
  }
  return 1;
}

int pt_tls_set_pki(coap_context_t *ctx, const coap_dtls_pki_t *setup) {
  struct pt_tls_conf *c = conf_get(ctx);
  if (!c || pt_ossl_apply_pki(c->server, setup, c, 1) < 0 ||
      pt_ossl_apply_pki(c->server_tls, setup, c, 1) < 0)
    return 0;
  c->pki = *setup;
  memset(&c->pki.pki_key, 0, sizeof(c->pki.pki_key)); /* not kept */
  c->pki.client_sni = NULL;
  c->have_pki = 1;
  return 1;
}

static char *dup_str(const char *s) {
  return s ? strdup(s) : NULL;
}

int pt_tls_set_root_cas(coap_context_t *ctx, const char *ca_file,
                        const char *ca_dir) {
  struct pt_tls_conf *c = conf_get(ctx);
  if (!c)
    return 0;
  if (X509_STORE_load_locations(SSL_CTX_get_cert_store(c->server), ca_file,
                                ca_dir) != 1 ||
      X509_STORE_load_locations(SSL_CTX_get_cert_store(c->server_tls), ca_file,
                                ca_dir) != 1) {
    pt_ossl_log_errors("coap_context_set_pki_root_cas");
    return 0;
  }
  free(c->root_file);
  free(c->root_dir);
  c->root_file = dup_str(ca_file);
  c->root_dir = dup_str(ca_dir);
  return 1;
}

int pt_tls_can_serve(const coap_context_t *ctx) {
  return ctx->tls && (ctx->tls->have_psk || ctx->tls->have_pki);
}

void pt_tls_context_free(coap_context_t *ctx) {
  struct pt_tls_conf *c = ctx->tls;
  if (!c)
    return;
  SSL_CTX_free(c->server);
  SSL_CTX_free(c->server_tls);
  EVP_MAC_CTX_free(c->cookie_mac);
  free(c->psk_hint);
  free(c->psk_key);
  free(c->root_file);
  free(c->root_dir);
  free(c);
  ctx->tls = NULL;
}

/* ---- the listener -----------------------------------------------------------
 */

static SSL *listener_ssl(pt_tls_listener *l) {
  if (l->ssl)
    return l->ssl;
  SSL *ssl = SSL_new(l->ctx->tls->server);
  if (!ssl)
    return NULL;
  if (pt_ossl_attach_link(ssl, &l->c.dgram_link) < 0) {
    SSL_free(ssl);
    return NULL;
  }
  SSL_set_app_data(ssl, &l->c);
  SSL_set_accept_state(ssl);
  l->ssl = ssl;
  return ssl;
}

pt_tls_listener *pt_tls_listener_new(coap_context_t *ctx) {
  if (!ctx->tls)
    return NULL;
  pt_tls_listener *l = calloc(1, sizeof(*l));
  if (!l)
    return NULL;
  l->c.is_listener = 1;
  l->ctx = ctx;
  l->client = BIO_ADDR_new();
  if (!l->client) {
    free(l);
    return NULL;
  }
  return l;
}

void pt_tls_listener_free(pt_tls_listener *l) {
  if (!l)
    return;
  SSL_free(l->ssl);
  BIO_ADDR_free(l->client);
  free(l);
}

int pt_tls_listen(pt_tls_listener *l, const coap_address_t *peer,
                  const uint8_t *data, size_t len, pt_tls_out_fn out,
                  void *arg) {
  SSL *ssl = listener_ssl(l);
  if (!ssl)
    return 0;
  l->c.peer = *peer;
  l->c.dgram_link = (dgram_link){data, len, out, arg, 0, 0};
  pt_ossl_clear_errors();
  int r = DTLSv1_listen(ssl, l->client);
  l->c.dgram_link.in = NULL;
  l->c.dgram_link.out = NULL;
  if (r < 0) /* a fatal error of this SSL: start over with a new one */
    pt_ossl_log_errors("DTLSv1_listen");
  pt_ossl_clear_errors();
  if (r == 1)
    return 1;
  if (r < 0) {
    SSL_free(l->ssl);
    l->ssl = NULL;
  }
  return 0;
}

/* ---- associations
 * ------------------------------------------------------------- */

pt_tls *pt_ossl_tls_new(coap_session_t *s, SSL *ssl, pt_tls_out_fn out,
                        void *arg) {
  pt_tls *t = calloc(1, sizeof(*t));
  if (!t)
    return NULL;
  t->c.peer = s->remote;
  t->c.dgram_link = (dgram_link){NULL, 0, out, arg, 0, 0};
  t->session = s;
  t->conf = s->context->tls;
  t->ssl = ssl;
  return t;
}

pt_tls *pt_tls_accept(pt_tls_listener *l, coap_session_t *s, pt_tls_out_fn out,
                      void *arg) {
  SSL *ssl = l->ssl;
  l->ssl = NULL; /* the next peer gets a new listener SSL */
  if (!ssl)
    return NULL;
  pt_tls *t = pt_ossl_tls_new(s, ssl, out, arg);
  if (!t) {
    SSL_free(ssl);
    return NULL;
  }
  /* The BIO now reads and writes for the session. */
  BIO_set_data(SSL_get_rbio(ssl), &t->c.dgram_link);
  SSL_set_app_data(ssl, &t->c);
  if (t->conf->have_pki)
    t->rules = &t->conf->pki;
  if (t->conf->spsk.psk_info.hint.length)
    pt_dtls_set_psk(s, PT_PSK_HINT, t->conf->spsk.psk_info.hint.s,
                    t->conf->spsk.psk_info.hint.length);
  pt_ossl_clear_errors();
  t->cookie_checked = 1;         /* by pt_tls_listen(), just now */
  int r = SSL_do_handshake(ssl); /* answers the buffered ClientHello */
  t->cookie_checked = 0;         /* for that ClientHello only */
  int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, r);
  if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ) {
    pt_ossl_log_errors("DTLS accept");
    pt_tls_free(t);
    return NULL;
  }
  return t;
}

static int client_psk_setup(pt_tls *t, const coap_dtls_cpsk_t *psk) {
  if (psk->version != COAP_DTLS_CPSK_SETUP_VERSION ||
      psk->psk_info.identity.length > COAP_DTLS_MAX_PSK_IDENTITY ||
      psk->psk_info.key.length > COAP_DTLS_MAX_PSK) {
    coap_log_warn("client PSK: bad setup (version, identity or key length)\n");
    return -1;
  }
  t->cpsk = *psk;
  t->cpsk_identity =
      dup_bytes(psk->psk_info.identity.s, psk->psk_info.identity.length);
  t->cpsk_key = dup_bytes(psk->psk_info.key.s, psk->psk_info.key.length);
  if (!t->cpsk_identity || !t->cpsk_key)
    return -1;
  t->cpsk.psk_info.identity.s = t->cpsk_identity;
  t->cpsk.psk_info.key.s = t->cpsk_key;
  t->cpsk.client_sni = NULL;
  SSL_CTX_set_cipher_list(t->own, "PSK");
  SSL_CTX_set_psk_client_callback(t->own, client_psk);
  return 0;
}

static int client_pki_setup(pt_tls *t, const coap_dtls_pki_t *pki) {
  if (pt_ossl_apply_pki(t->own, pki, t->conf, 0) < 0)
    return -1;
  t->client_pki = *pki;
  memset(&t->client_pki.pki_key, 0, sizeof(t->client_pki.pki_key));
  t->client_pki.client_sni = NULL;
  t->rules = &t->client_pki;
  return 0;
}

/* Without credentials: trust what coap_context_set_pki_root_cas() gave,
 * and verify only when something was given. */
static void client_default_setup(pt_tls *t) {
  int have_roots = t->conf && (t->conf->root_file || t->conf->root_dir);
  if (have_roots)
    X509_STORE_load_locations(SSL_CTX_get_cert_store(t->own),
                              t->conf->root_file, t->conf->root_dir);
  SSL_CTX_set_verify(t->own, have_roots ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                     NULL);
}

pt_tls *pt_ossl_client_new(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                           const coap_dtls_pki_t *pki, pt_tls_out_fn out,
                           void *arg, int stream) {
  pt_tls *t = pt_ossl_tls_new(s, NULL, out, arg);
  if (!t)
    return NULL;
  t->c.dgram_link.stream = stream;
  t->own = SSL_CTX_new(stream ? TLS_client_method() : DTLS_client_method());
  if (!t->own)
    goto fail;
  SSL_CTX_set_min_proto_version(t->own,
                                stream ? TLS1_2_VERSION : DTLS1_2_VERSION);
  SSL_CTX_set_options(t->own, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(t->own, OFFERED_SUITES); /* PSK: its own below */
  if (!stream)
    SSL_CTX_set_read_ahead(t->own, 1);
  if (psk && client_psk_setup(t, psk) < 0)
    goto fail;
  if (pki && client_pki_setup(t, pki) < 0)
    goto fail;
  if (!psk && !pki)
    client_default_setup(t);
  t->ssl = SSL_new(t->own);
  if (!t->ssl || pt_ossl_attach_link(t->ssl, &t->c.dgram_link) < 0)
    goto fail;
  SSL_set_app_data(t->ssl, &t->c);
  if (stream && pt_ossl_stream_client_init(t->ssl, psk) < 0)
    goto fail;
  const char *sni = psk ? psk->client_sni : pki ? pki->client_sni : NULL;
  if (sni && *sni)
    SSL_set_tlsext_host_name(t->ssl, sni);
  if (pki && pki->additional_tls_setup_call_back &&
      !pki->additional_tls_setup_call_back(t->ssl, (coap_dtls_pki_t *)pki))
    goto fail;
  SSL_set_connect_state(t->ssl);
  pt_ossl_clear_errors();
  int r = SSL_do_handshake(t->ssl); /* the ClientHello leaves now */
  if (r != 1 && SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ)
    goto fail;
  return t;
fail:
  pt_ossl_log_errors(stream ? "TLS client" : "DTLS client");
  pt_tls_free(t);
  return NULL;
}

pt_tls *pt_tls_client_new(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                          const coap_dtls_pki_t *pki, pt_tls_out_fn out,
                          void *arg) {
  return pt_ossl_client_new(s, psk, pki, out, arg, 0);
}

/* ---- a wrong key, seen by the server ------------------------------------ */

/* Whether datagram @d holds a record of epoch 1: in a handshake, the
 * client's Finished, its first encrypted record. */
static int has_epoch1(const uint8_t *d, size_t n) {
  while (n >= DTLS_HEADER) {
    size_t rlen = (size_t)d[11] << 8 | d[12];
    if (d[3] == 0 && d[4] == 1)
      return 1;
    if (rlen > n - DTLS_HEADER)
      break;
    d += DTLS_HEADER + rlen;
    n -= DTLS_HEADER + rlen;
  }
  return 0;
}

/*
 * The server took the client's ChangeCipherSpec, yet the client's
 * Finished that came with it did not decrypt, and OpenSSL dropped it as
 * DTLS drops any bad record: with a pre-shared key that is a wrong key
 * (or a forged record). The client would retransmit until its deadline;
 * RFC 6347 4.1.2.7 lets an implementation answer a record with a bad MAC
 * with a fatal bad_record_mac alert instead, which OpenSSL has no call
 * for. Our write epoch is still 0 (our ChangeCipherSpec follows only a
 * good Finished), so the alert is a plaintext record, numbered after the
 * last one we sent.
 */
static int wrong_key(pt_tls *t, const uint8_t *data, size_t len) {
  return SSL_is_server(t->ssl) && has_epoch1(data, len) &&
         SSL_get_state(t->ssl) == TLS_ST_SR_CHANGE;
}

static void wrong_key_alert(pt_tls *t) {
  dgram_link *l = &t->c.dgram_link;
  uint64_t seq = l->seq0 + 1;
  uint8_t rec[DTLS_HEADER + 2] = {21, 0xfe, 0xfd, 0, 0};
  for (int i = 10; i >= 5; i--, seq >>= 8)
    rec[i] = (uint8_t)seq;
  rec[12] = 2;
  rec[13] = 2;  /* fatal */
  rec[14] = 20; /* bad_record_mac */
  coap_log_info("* %s: the client's Finished did not decrypt (wrong key?)\n",
                coap_session_str(t->session));
  if (l->out)
    l->out(l->arg, rec, sizeof(rec));
}

/* Which suite the handshake settled on (coap-server -v 7 shows it). */
static void log_suite(pt_tls *t) {
  if (coap_get_log_level() >= COAP_LOG_DEBUG)
    coap_log_debug("* %s: suite %s\n", coap_session_str(t->session),
                   SSL_get_cipher_name(t->ssl));
}

int pt_tls_input(pt_tls *t, const uint8_t *data, size_t len,
                 pt_tls_deliver_fn deliver, void *arg) {
  int result = PT_TLS_AGAIN;
  t->c.dgram_link.in = data;
  t->c.dgram_link.in_len = len;
  pt_ossl_clear_errors();
  if (!SSL_is_init_finished(t->ssl)) {
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
      result = PT_TLS_CONNECTED;
      log_suite(t);
    } else {
      int e = SSL_get_error(t->ssl, r);
      t->c.dgram_link.in = NULL;
      int again = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
                  (e == SSL_ERROR_SYSCALL && !ERR_peek_error()); /* below */
      if (again && wrong_key(t, data, len)) {
        wrong_key_alert(t);
        return PT_TLS_FAILED;
      }
      if (again)
        return PT_TLS_AGAIN;
      pt_ossl_log_errors("DTLS handshake");
      return PT_TLS_FAILED;
    }
  }
  uint8_t plain[PLAIN_MAX];
  for (;;) {
    int n = SSL_read(t->ssl, plain, sizeof(plain));
    if (n > 0) {
      deliver(arg, plain, (size_t)n);
      /* The datagram taken and no record of it left: a further SSL_read()
       * would only find that out again (and SSL_get_error() say so). */
      if (!t->c.dgram_link.in && !SSL_has_pending(t->ssl))
        break;
      continue;
    }
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_ZERO_RETURN) {
      t->closed = 1;
      result = PT_TLS_CLOSED;
    } else if (e == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
      /* A record cut short: OpenSSL drops it and, with no socket under
       * it, reports the datagram's end as an I/O condition. DTLS drops
       * bad records (RFC 6347 4.1.2.7); so do we. */
    } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      pt_ossl_log_errors("DTLS read");
      result = PT_TLS_FAILED;
    }
    break;
  }
  /* Every failure was logged (which empties the queue); what else is left
   * goes at the next call's start. */
  t->c.dgram_link.in = NULL;
  return result;
}

ssize_t pt_tls_write(pt_tls *t, const uint8_t *data, size_t len) {
  if (!t || t->closed || len > INT32_MAX)
    return -1;
  /* No SSL_get_error() follows (our BIO takes every write, so n <= 0 is
   * final): the error queue need not be emptied first. */
  int n = SSL_write(t->ssl, data, (int)len);
  if (n <= 0) {
    pt_ossl_log_errors("DTLS write");
    return -1;
  }
  return n;
}

long pt_tls_timeout_ms(pt_tls *t) {
  struct timeval tv;
  if (!t || !t->ssl || DTLSv1_get_timeout(t->ssl, &tv) != 1)
    return -1;
  return (long)tv.tv_sec * 1000 + (long)(tv.tv_usec + 999) / 1000;
}

int pt_tls_timeout(pt_tls *t) {
  pt_ossl_clear_errors();
  if (DTLSv1_handle_timeout(t->ssl) < 0) {
    pt_ossl_log_errors("DTLS retransmission");
    return PT_TLS_FAILED;
  }
  return PT_TLS_AGAIN;
}

void pt_tls_close(pt_tls *t) {
  if (!t || t->closed || !t->ssl)
    return;
  t->closed = 1;
  pt_ossl_clear_errors();
  if (SSL_is_init_finished(t->ssl))
    SSL_shutdown(t->ssl);
  pt_ossl_clear_errors();
}

void pt_tls_free(pt_tls *t) {
  if (!t)
    return;
  SSL_free(t->ssl);
  SSL_CTX_free(t->own);
  free(t->cpsk_identity);
  free(t->cpsk_key);
  free(t);
}

void *pt_tls_native(pt_tls *t, coap_tls_library_t *lib) {
  if (lib)
    *lib = COAP_TLS_LIBRARY_OPENSSL;
  return t ? t->ssl : NULL;
}
