/*
 * notls.c -- (D)TLS in this build: there is none, and these functions say
 * so the way libcoap's "notls" build does: every capability query answers
 * 0, credential setters log a warning and fail, and the library version
 * describes COAP_TLS_LIBRARY_NOTLS. A (D)TLS backend would replace this
 * file, not add #ifdefs to it.
 */
#include "context.h"

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

int coap_context_set_psk(coap_context_t *context, const char *hint,
                         const uint8_t *key, size_t key_len) {
  (void)context, (void)hint, (void)key, (void)key_len;
  coap_log_warn("coap_context_set_psk: (D)TLS not supported\n");
  return 0;
}

int coap_context_set_psk2(coap_context_t *context,
                          coap_dtls_spsk_t *setup_data) {
  (void)context, (void)setup_data;
  coap_log_warn("coap_context_set_psk2: (D)TLS not supported\n");
  return 0;
}

int coap_context_set_pki(coap_context_t *context,
                         const coap_dtls_pki_t *setup_data) {
  (void)context, (void)setup_data;
  coap_log_warn("coap_context_set_pki: (D)TLS not supported\n");
  return 0;
}

int coap_context_set_pki_root_cas(coap_context_t *context, const char *ca_file,
                                  const char *ca_dir) {
  (void)context, (void)ca_file, (void)ca_dir;
  coap_log_warn("coap_context_set_pki_root_cas: (D)TLS not supported\n");
  return 0;
}
