/*
 * observe_none.c -- placeholders until observation (RFC 7641) is
 * implemented: the persistence API and client-side cancellation return
 * their documented failure values and change nothing. To be replaced by
 * the observe module (which will own these functions); nothing else
 * depends on this file.
 */
#include "context.h"
#include "resource.h"

/* No observation is ever served: links carry no ";obs" (resource.c). */
int pt_observe_available(void) {
  return 0;
}

void coap_persist_track_funcs(coap_context_t *context,
                              coap_observe_added_t observe_added,
                              coap_observe_deleted_t observe_deleted,
                              coap_track_observe_value_t track_observe_value,
                              coap_dyn_resource_added_t dyn_resource_added,
                              coap_resource_deleted_t resource_deleted,
                              uint32_t save_freq, void *user_data) {
  /* No observation is ever set up, so no callback would ever be called:
   * there is nothing to record. */
  (void)context, (void)observe_added, (void)observe_deleted;
  (void)track_observe_value, (void)dyn_resource_added, (void)resource_deleted;
  (void)save_freq, (void)user_data;
}

coap_subscription_t *coap_persist_observe_add(
    coap_context_t *context, coap_proto_t e_proto,
    const coap_address_t *e_listen_addr, const coap_addr_tuple_t *s_addr_info,
    const coap_bin_const_t *raw_packet, const coap_bin_const_t *oscore_info) {
  (void)context, (void)e_proto, (void)e_listen_addr, (void)s_addr_info;
  (void)raw_packet, (void)oscore_info;
  return NULL;
}

int coap_persist_startup(coap_context_t *context,
                         const char *dyn_resource_save_file,
                         const char *observe_save_file,
                         const char *obs_cnt_save_file, uint32_t save_freq) {
  (void)context, (void)dyn_resource_save_file, (void)observe_save_file;
  (void)obs_cnt_save_file, (void)save_freq;
  coap_log_warn("coap_persist_startup: observe persistence not supported\n");
  return 0;
}

void coap_persist_stop(coap_context_t *context) {
  (void)context; /* nothing was started */
}

void coap_persist_set_observe_num(coap_resource_t *resource,
                                  uint32_t observe_num) {
  (void)resource, (void)observe_num;
}

/* The library tracks no observations, so there is none to cancel. */
int coap_cancel_observe(coap_session_t *session, coap_binary_t *token,
                        coap_pdu_type_t message_type) {
  (void)session, (void)token, (void)message_type;
  return 0;
}
