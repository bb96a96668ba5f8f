/*
 * oscore_none.c -- OSCORE (RFC 8613) is not in this build. These answer
 * as libcoap's build without OSCORE does: no configuration can be
 * created, so nothing can be protected, and every call fails without side
 * effects. An OSCORE module would replace this file.
 *
 * Ownership: coap_new_oscore_conf() never returns a configuration here,
 * so the functions that take one over only ever see NULL and have nothing
 * to free. coap_new_oscore_recipient() does not take @recipient_id when it
 * fails (libcoap's builds do not either), so the caller still owns it.
 */
#include "context.h"

int coap_oscore_is_supported(void) {
  return 0;
}

coap_oscore_conf_t *
coap_new_oscore_conf(coap_str_const_t conf_mem,
                     coap_oscore_save_seq_num_t save_seq_num_func,
                     void *save_seq_num_func_param, uint64_t start_seq_num) {
  (void)conf_mem, (void)save_seq_num_func, (void)save_seq_num_func_param;
  (void)start_seq_num;
  coap_log_warn("coap_new_oscore_conf: OSCORE not supported\n");
  return NULL;
}

int coap_delete_oscore_conf(coap_oscore_conf_t *oscore_conf) {
  (void)oscore_conf; /* none can exist in this build */
  return 0;
}

coap_session_t *
coap_new_client_session_oscore(coap_context_t *ctx,
                               const coap_address_t *local_if,
                               const coap_address_t *server, coap_proto_t proto,
                               coap_oscore_conf_t *oscore_conf) {
  (void)ctx, (void)local_if, (void)server, (void)proto, (void)oscore_conf;
  return NULL;
}

coap_session_t *coap_new_client_session_oscore_psk(
    coap_context_t *ctx, const coap_address_t *local_if,
    const coap_address_t *server, coap_proto_t proto,
    coap_dtls_cpsk_t *psk_data, coap_oscore_conf_t *oscore_conf) {
  (void)ctx, (void)local_if, (void)server, (void)proto, (void)psk_data;
  (void)oscore_conf;
  return NULL;
}

coap_session_t *coap_new_client_session_oscore_pki(
    coap_context_t *ctx, const coap_address_t *local_if,
    const coap_address_t *server, coap_proto_t proto, coap_dtls_pki_t *pki_data,
    coap_oscore_conf_t *oscore_conf) {
  (void)ctx, (void)local_if, (void)server, (void)proto, (void)pki_data;
  (void)oscore_conf;
  return NULL;
}

int coap_context_oscore_server(coap_context_t *context,
                               coap_oscore_conf_t *oscore_conf) {
  (void)context, (void)oscore_conf;
  return 0;
}

int coap_new_oscore_recipient(coap_context_t *context,
                              coap_bin_const_t *recipient_id) {
  (void)context, (void)recipient_id;
  return 0;
}

int coap_delete_oscore_recipient(coap_context_t *context,
                                 coap_bin_const_t *recipient_id) {
  (void)context, (void)recipient_id;
  return 0;
}
