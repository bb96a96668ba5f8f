/*
 * block.c -- bodies larger than one message (RFC 7959).
 *
 * This first part covers bodies that fit one message; serving and fetching
 * them block by block is added on top of the same entry points.
 */
#include "context.h"
#include "session.h"

void coap_context_set_block_mode(coap_context_t *context, uint32_t block_mode) {
  if (context)
    context->block_mode = block_mode;
}

static int add_uint_option(coap_pdu_t *pdu, coap_option_num_t num,
                           uint64_t value) {
  uint8_t buf[8];
  unsigned len = coap_encode_var_safe8(buf, sizeof(buf), value);
  return coap_add_option(pdu, num, len, buf) != 0;
}

int coap_add_data_large_response(coap_resource_t *resource,
                                 coap_session_t *session,
                                 const coap_pdu_t *request,
                                 coap_pdu_t *response,
                                 const coap_string_t *query,
                                 uint16_t media_type, int maxage, uint64_t etag,
                                 size_t length, const uint8_t *data,
                                 coap_release_large_data_t release_func,
                                 void *app_ptr) {
  (void)resource, (void)query, (void)etag, (void)request;
  int ok = session && response && (data || !length) &&
           add_uint_option(response, COAP_OPTION_CONTENT_FORMAT, media_type) &&
           (maxage < 0 ||
            add_uint_option(response, COAP_OPTION_MAXAGE, (uint64_t)maxage)) &&
           coap_add_data(response, length, data);
  if (release_func)
    release_func(session, app_ptr);
  return ok;
}
