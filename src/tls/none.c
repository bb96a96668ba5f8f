/*
 * none.c -- the (D)TLS backend of a build without (D)TLS
 * (libcoap-3-notls). It says so the way libcoap's "notls" build does:
 * every capability query answers 0, credential setters log a warning and
 * fail, no DTLS endpoint or session can be made, and the library version
 * describes COAP_TLS_LIBRARY_NOTLS. The OpenSSL backend (openssl.c)
 * implements the same interface (tls.h).
 */
#include "tls/tls.h"

#include <stdio.h>

int coap_dtls_is_supported(void) {
  return 0;
}

int coap_tls_is_supported(void) {
  return 0;
}

int coap_dtls_psk_is_supported(void) {
  return 0;
}

int coap_dtls_pki_is_supported(void) {
  return 0;
}

int coap_dtls_pkcs11_is_supported(void) {
  return 0;
}

int coap_dtls_rpk_is_supported(void) {
  return 0;
}

coap_tls_version_t *coap_get_tls_library_version(void) {
  /* Never written: every field is constant in this build, so sharing it
   * between threads is safe. */
  static coap_tls_version_t version = {
      .version = 0, .type = COAP_TLS_LIBRARY_NOTLS, .built_version = 0};
  return &version;
}

char *coap_string_tls_version(char *buffer, size_t bufsize) {
  if (buffer && bufsize)
    snprintf(buffer, bufsize, "TLS Library: None");
  return buffer;
}

char *coap_string_tls_support(char *buffer, size_t bufsize) {
  if (buffer && bufsize)
    snprintf(buffer, bufsize, "(No DTLS or TLS support)");
  return buffer;
}

/* ---- the backend interface: nothing is available ------------------------ */

static int refuse(const char *what) {
  coap_log_warn("%s: (D)TLS not supported\n", what);
  return 0;
}

int pt_tls_set_spsk(coap_context_t *ctx, const coap_dtls_spsk_t *setup) {
  (void)ctx, (void)setup;
  return refuse("coap_context_set_psk2");
}

int pt_tls_set_pki(coap_context_t *ctx, const coap_dtls_pki_t *setup) {
  (void)ctx, (void)setup;
  return refuse("coap_context_set_pki");
}

int pt_tls_set_root_cas(coap_context_t *ctx, const char *ca_file,
                        const char *ca_dir) {
  (void)ctx, (void)ca_file, (void)ca_dir;
  return refuse("coap_context_set_pki_root_cas");
}

int pt_tls_can_serve(const coap_context_t *ctx) {
  (void)ctx;
  return 0;
}

void pt_tls_context_free(coap_context_t *ctx) {
  (void)ctx;
}

pt_tls_listener *pt_tls_listener_new(coap_context_t *ctx) {
  (void)ctx;
  return NULL;
}

void pt_tls_listener_free(pt_tls_listener *l) {
  (void)l;
}

int pt_tls_listen(pt_tls_listener *l, const coap_address_t *peer,
                  const uint8_t *data, size_t len, pt_tls_out_fn out,
                  void *arg) {
  (void)l, (void)peer, (void)data, (void)len, (void)out, (void)arg;
  return 0;
}

pt_tls *pt_tls_accept(pt_tls_listener *l, coap_session_t *s, pt_tls_out_fn out,
                      void *arg) {
  (void)l, (void)s, (void)out, (void)arg;
  return NULL;
}

pt_tls *pt_tls_client_new(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                          const coap_dtls_pki_t *pki, pt_tls_out_fn out,
                          void *arg) {
  (void)s, (void)psk, (void)pki, (void)out, (void)arg;
  refuse("client session");
  return NULL;
}

/* No association ever exists in this build: the functions below are never
 * reached with one, and answer as for a failed one. */
int pt_tls_input(pt_tls *t, const uint8_t *data, size_t len,
                 pt_tls_deliver_fn deliver, void *arg) {
  (void)t, (void)data, (void)len, (void)deliver, (void)arg;
  return PT_TLS_FAILED;
}

ssize_t pt_tls_write(pt_tls *t, const uint8_t *data, size_t len) {
  (void)t, (void)data, (void)len;
  return -1;
}

long pt_tls_timeout_ms(pt_tls *t) {
  (void)t;
  return -1;
}

int pt_tls_timeout(pt_tls *t) {
  (void)t;
  return PT_TLS_FAILED;
}

void pt_tls_close(pt_tls *t) {
  (void)t;
}

void pt_tls_free(pt_tls *t) {
  (void)t;
}

pt_tls *pt_tls_stream_server(coap_session_t *s, pt_tls_out_fn out, void *arg) {
  (void)s, (void)out, (void)arg;
  return NULL;
}

pt_tls *pt_tls_stream_client(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                             const coap_dtls_pki_t *pki, pt_tls_out_fn out,
                             void *arg) {
  (void)s, (void)psk, (void)pki, (void)out, (void)arg;
  refuse("client session");
  return NULL;
}

int pt_tls_recv(pt_tls *t, const uint8_t *in, size_t in_len, size_t *used,
                uint8_t *buf, size_t cap, size_t *got) {
  (void)t, (void)in, (void)buf, (void)cap;
  *used = in_len;
  *got = 0;
  return PT_TLS_FAILED;
}

int pt_tls_partial(pt_tls *t) {
  (void)t;
  return 0;
}

void *pt_tls_native(pt_tls *t, coap_tls_library_t *lib) {
  (void)t;
  if (lib)
    *lib = COAP_TLS_LIBRARY_NOTLS;
  return NULL;
}
