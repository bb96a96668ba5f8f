/*
 * test_context.c -- context settings whose effect shows in the sans-I/O
 * core (coap_context(3)): what a setter changes, and the values libcoap
 * documents as "the default".
 */
#include "test.h"

#include "core_harness.h"

static int deleted;

static int on_event(coap_session_t *s, coap_event_t ev) {
  (void)s;
  if (ev == COAP_EVENT_SERVER_SESSION_DEL)
    deleted++;
  return 0;
}

static coap_context_t *context(void) {
  coap_context_t *ctx = h_context();
  deleted = 0;
  coap_register_event_handler(ctx, on_event);
  return ctx;
}

TEST(session_timeout_defaults_to_300_seconds) {
  coap_context_t *ctx = context();
  CHECK_INT_EQ(coap_context_get_session_timeout(ctx), 300);
  h_server_session(40000);
  h_advance(ctx, 300 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(deleted, 0);
  h_advance(ctx, 1);
  CHECK_INT_EQ(deleted, 1);
  h_free(ctx);
}

/* coap_context(3): 0 means "wait for the default of 300 seconds", not
 * "keep idle sessions forever". */
TEST(session_timeout_zero_means_the_default) {
  coap_context_t *ctx = context();
  coap_context_set_session_timeout(ctx, 20);
  CHECK_INT_EQ(coap_context_get_session_timeout(ctx), 20);
  coap_context_set_session_timeout(ctx, 0);
  CHECK_INT_EQ(coap_context_get_session_timeout(ctx), 300);
  h_server_session(40000);
  h_advance(ctx, 299 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(deleted, 0);
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(deleted, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  h_free(ctx);
}

TEST(session_timeout_set_is_followed) {
  coap_context_t *ctx = context();
  coap_context_set_session_timeout(ctx, 20);
  h_server_session(40000);
  h_advance(ctx, 20 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(deleted, 0);
  h_advance(ctx, 1);
  CHECK_INT_EQ(deleted, 1);
  h_free(ctx);
}

TEST(settings_without_effect_in_this_build_keep_their_values) {
  coap_context_t *ctx = context();
  coap_context_set_max_handshake_sessions(ctx, 7);
  CHECK_INT_EQ(coap_context_get_max_handshake_sessions(ctx), 7);
  CHECK_INT_EQ(coap_context_get_csm_timeout(ctx), 30);
  coap_context_set_csm_timeout(ctx, 12);
  CHECK_INT_EQ(coap_context_get_csm_timeout(ctx), 12);
  coap_context_set_csm_max_message_size(ctx, 4096);
  CHECK_INT_EQ(coap_context_get_csm_max_message_size(ctx), 4096);
  coap_context_set_csm_max_message_size(ctx, 10); /* below 64: ignored */
  CHECK_INT_EQ(coap_context_get_csm_max_message_size(ctx), 4096);
  CHECK_INT_EQ(coap_tcp_is_supported(), 1); /* and they are used (tcp.c) */
  CHECK_INT_EQ(coap_q_block_is_supported(), 0);
  h_free(ctx);
}

int main(void) {
  RUN(session_timeout_defaults_to_300_seconds);
  RUN(session_timeout_zero_means_the_default);
  RUN(session_timeout_set_is_followed);
  RUN(settings_without_effect_in_this_build_keep_their_values);
  return TEST_SUMMARY();
}
