/*
 * openssl_stream.c -- TLS over a byte stream on OpenSSL 3 (CoAP over TLS,
 * RFC 8323 "coaps+tcp"), behind the stream half of src/tls/tls.h.
 *
 * The same BIO as DTLS (openssl.c) carries the bytes, in stream mode: a
 * read takes as much of the fed ciphertext as OpenSSL asks for and leaves
 * the rest, so a record may arrive cut anywhere; what OpenSSL writes (a
 * handshake flight, records, alerts, close_notify) leaves through the
 * caller's output function at once. Credentials, SNI, PSK and certificate
 * checks are the DTLS ones: a context's TLS server SSL_CTX is set up by
 * the same calls as its DTLS one (coap_context_set_psk2(),
 * coap_context_set_pki(), coap_context_set_pki_root_cas()).
 */
#include <stdlib.h>

#include <openssl/err.h>

#include "context.h"
#include "dtls.h"
#include "session.h"
#include "tls/openssl_int.h"

/* RFC 8323 registers the ALPN protocol ID "coap" for CoAP over TLS. */
static const unsigned char alpn_coap[] = {4, 'c', 'o', 'a', 'p'};

/* A client that offers ALPN gets "coap" if it offers it; one that does
 * not offer "coap" goes on without ALPN (lenient, as most peers send no
 * ALPN at all). */
static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
  (void)ssl, (void)arg;
  unsigned char *sel = NULL;
  if (SSL_select_next_proto(&sel, outlen, alpn_coap, sizeof(alpn_coap), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

void pt_ossl_stream_server_init(SSL_CTX *ctx) {
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
}

int pt_ossl_stream_client_init(SSL *ssl, const coap_dtls_cpsk_t *psk) {
  if (SSL_set_alpn_protos(ssl, alpn_coap, sizeof(alpn_coap)) != 0)
    return -1;
  if (psk && psk->validate_ih_call_back &&
      SSL_set_max_proto_version(ssl, TLS1_2_VERSION) != 1)
    return -1;
  return 0;
}

pt_tls *pt_tls_stream_server(coap_session_t *s, pt_tls_out_fn out, void *arg) {
  struct pt_tls_conf *conf = s->context->tls;
  if (!conf || !conf->server_tls)
    return NULL;
  pt_tls *t = pt_ossl_tls_new(s, NULL, out, arg);
  if (!t)
    return NULL;
  t->c.dgram_link.stream = 1;
  t->ssl = SSL_new(conf->server_tls);
  if (!t->ssl || pt_ossl_attach_link(t->ssl, &t->c.dgram_link) < 0) {
    pt_ossl_log_errors("TLS accept");
    pt_tls_free(t);
    return NULL;
  }
  SSL_set_app_data(t->ssl, &t->c);
  SSL_set_accept_state(t->ssl);
  if (conf->have_pki)
    t->rules = &conf->pki;
  if (conf->spsk.psk_info.hint.length)
    pt_dtls_set_psk(s, PT_PSK_HINT, conf->spsk.psk_info.hint.s,
                    conf->spsk.psk_info.hint.length);
  return t;
}

pt_tls *pt_tls_stream_client(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                             const coap_dtls_pki_t *pki, pt_tls_out_fn out,
                             void *arg) {
  return pt_ossl_client_new(s, psk, pki, out, arg, 1);
}

int pt_tls_partial(pt_tls *t) {
  return t && t->ssl && SSL_has_pending(t->ssl);
}

/* Advances the handshake. PT_TLS_AGAIN, _CONNECTED or _FAILED. */
static int handshake(pt_tls *t) {
  int r = SSL_do_handshake(t->ssl);
  if (r == 1) {
    coap_log_debug("* %s: %s, %s\n", coap_session_str(t->session),
                   SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
    return PT_TLS_CONNECTED;
  }
  int e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
    return PT_TLS_AGAIN;
  pt_ossl_log_errors("TLS handshake");
  if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL)
    coap_log_info("* %s: TLS handshake failed\n", coap_session_str(t->session));
  return PT_TLS_FAILED;
}

int pt_tls_recv(pt_tls *t, const uint8_t *in, size_t in_len, size_t *used,
                uint8_t *buf, size_t cap, size_t *got) {
  dgram_link *l = &t->c.dgram_link;
  l->in = in_len ? in : NULL;
  l->in_len = in_len;
  *got = 0;
  int result = PT_TLS_AGAIN;
  pt_ossl_clear_errors();
  if (!SSL_is_init_finished(t->ssl))
    result = handshake(t);
  if (result != PT_TLS_FAILED && SSL_is_init_finished(t->ssl)) {
    int n = SSL_read(t->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    int e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, n);
    if (n > 0) {
      *got = (size_t)n;
    } else if (e == SSL_ERROR_ZERO_RETURN) {
      t->closed = 1; /* close_notify; CONNECTED is told first if both */
      if (result != PT_TLS_CONNECTED)
        result = PT_TLS_CLOSED;
    } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      pt_ossl_log_errors("TLS read");
      result = PT_TLS_FAILED;
    }
  }
  *used = in_len - (l->in ? l->in_len : 0);
  l->in = NULL;
  l->in_len = 0;
  pt_ossl_clear_errors();
  return result;
}
