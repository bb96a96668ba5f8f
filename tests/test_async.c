/*
 * test_async.c -- separate responses through the API with a fake clock:
 * the seed page's handler (verbatim), delays, triggers, lifetimes, limits.
 */
#include <pthread.h>

#include "test.h"

#include "async.h"
#include "core_harness.h"

#include "../examples/seed_handler.h"

/* ---- other handlers ------------------------------------------------------ */

static int later_calls;
static coap_async_t *last_async;

/* Registers with delay 0 (wait until told); answers when called again. */
static void hnd_later(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)q;
  later_calls++;
  coap_async_t *a = coap_find_async(s, coap_pdu_get_token(req));
  if (!a) {
    last_async = coap_register_async(s, req, 0);
    return;
  }
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 2, (const uint8_t *)"ok");
}

/* The delayed call sets no code: nothing at all must be sent. */
static void hnd_nothing(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  (void)r, (void)q, (void)resp;
  later_calls++;
  if (!coap_find_async(s, coap_pdu_get_token(req)))
    coap_register_async(s, req, COAP_TICKS_PER_SECOND);
}

/* The delayed call frees the async itself. */
static void hnd_self_free(coap_resource_t *r, coap_session_t *s,
                          const coap_pdu_t *req, const coap_string_t *q,
                          coap_pdu_t *resp) {
  (void)r, (void)q;
  later_calls++;
  coap_async_t *a = coap_find_async(s, coap_pdu_get_token(req));
  if (!a) {
    coap_register_async(s, req, COAP_TICKS_PER_SECOND);
    return;
  }
  coap_free_async(s, a);
  CHECK_NULL(coap_find_async(s, coap_pdu_get_token(req)));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("async"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("later"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_later);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("nothing"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_nothing);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("selffree"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_self_free);
  coap_add_resource(ctx, r);
  later_calls = 0;
  last_async = NULL;
  return ctx;
}

static coap_pdu_t *async_get(coap_pdu_type_t type, coap_mid_t mid,
                             const char *query) {
  coap_pdu_t *p = h_request(type, COAP_REQUEST_CODE_GET, mid, 0x01, "async");
  if (query)
    coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(query),
                    (const uint8_t *)query);
  return p;
}

static void check_done(int i, coap_pdu_type_t type, coap_mid_t not_mid) {
  coap_pdu_t *r = h_parse(i);
  CHECK_NOT_NULL(r);
  CHECK_INT_EQ(coap_pdu_get_type(r), type);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CONTENT);
  CHECK(coap_pdu_get_mid(r) != not_mid);
  coap_bin_const_t t = coap_pdu_get_token(r);
  CHECK_MEM_EQ(t.s, t.length, "\x01", 1);
  coap_opt_iterator_t it;
  coap_opt_t *cf = coap_check_option(r, COAP_OPTION_CONTENT_FORMAT, &it);
  CHECK_NOT_NULL(cf);
  CHECK_UINT_EQ(coap_decode_var_bytes(coap_opt_value(cf), coap_opt_length(cf)),
                COAP_MEDIATYPE_TEXT_PLAIN);
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(r, &len, &data));
  CHECK_MEM_EQ(data, len, "done", 4);
  coap_delete_pdu(r);
}

TEST(seed_con_empty_ack_then_separate_con) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 0x40b4, "2"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x60\x00\x40\xb4", 4);
  h_advance(ctx, 2 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(h_nsent, 1);
  h_advance(ctx, 1);
  CHECK_INT_EQ(h_nsent, 2);
  check_done(1, COAP_MESSAGE_CON, 0x40b4);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 0);
  h_free(ctx);
}

TEST(seed_separate_con_is_retransmitted_until_acked) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 0x40b4, "1"));
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2);
  h_advance(ctx, 3 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 3); /* retransmitted, same bytes */
  CHECK_MEM_EQ(h_sent_log[2].data, h_sent_log[2].len, h_sent_log[1].data,
               h_sent_log[1].len);
  coap_pdu_t *r = h_parse(1);
  coap_mid_t mid = coap_pdu_get_mid(r);
  coap_delete_pdu(r);
  const uint8_t ack[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
  h_feed_raw(s, ack, 4);
  h_advance(ctx, 60 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  h_free(ctx);
}

TEST(seed_separate_con_stopped_by_rst) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 0x40b4, "1"));
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  coap_pdu_t *r = h_parse(1);
  coap_mid_t mid = coap_pdu_get_mid(r);
  coap_delete_pdu(r);
  const uint8_t rst[4] = {0x70, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
  h_feed_raw(s, rst, 4);
  h_advance(ctx, 60 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

TEST(seed_non_gets_nothing_then_separate_non) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_NON, 0x553e, "1"));
  CHECK_INT_EQ(h_nsent, 0);
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1);
  check_done(0, COAP_MESSAGE_NON, 0x553e);
  h_advance(ctx, 60 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1); /* a NON is never retransmitted */
  h_free(ctx);
}

TEST(seed_duplicate_con_while_pending_gets_empty_ack_once) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 0x40b4, "2"));
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  h_feed(s, async_get(COAP_MESSAGE_CON, 0x40b4, "2"));
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, "\x60\x00\x40\xb4", 4);
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 3);
  check_done(2, COAP_MESSAGE_CON, 0x40b4);
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  /* exactly one final response: the only later sends are its
   * retransmissions, which carry the same MID */
  coap_pdu_t *first = h_parse(2);
  for (int i = 3; i < h_nsent; i++) {
    coap_pdu_t *r = h_parse(i);
    CHECK_INT_EQ(coap_pdu_get_mid(r), coap_pdu_get_mid(first));
    coap_delete_pdu(r);
  }
  coap_delete_pdu(first);
  h_free(ctx);
}

TEST(seed_delay_0_answers_piggybacked_4_00) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 0x1000, "0"));
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *r = h_parse(0);
  CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_ACK);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_INT_EQ(coap_pdu_get_mid(r), 0x1000);
  coap_bin_const_t t = coap_pdu_get_token(r);
  CHECK_MEM_EQ(t.s, t.length, "\x01", 1);
  coap_delete_pdu(r);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 0);
  h_free(ctx);
}

TEST(seed_default_delay_without_query_is_5_s) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 0x1000, NULL));
  h_advance(ctx, 5 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(h_nsent, 1);
  h_advance(ctx, 1);
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

TEST(register_limit_makes_seed_answer_5_03) {
  coap_context_t *ctx = server();
  ctx->max_async_total = 1;
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 1, "9"));
  coap_pdu_t *p = h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 0x02,
                            "async");
  h_feed(s, p);
  CHECK_INT_EQ(h_nsent, 2);
  coap_pdu_t *r = h_parse(1);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
  coap_delete_pdu(r);
  h_free(ctx);
}

TEST(register_refuses_same_token_and_non_requests) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  coap_pdu_t *req = h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 9,
                              "x");
  coap_async_t *a = coap_register_async(s, req, 0);
  CHECK_NOT_NULL(a);
  CHECK_NULL(coap_register_async(s, req, 0));
  coap_pdu_t *resp = coap_pdu_init(COAP_MESSAGE_ACK,
                                   COAP_RESPONSE_CODE_CONTENT, 1, 64);
  CHECK_NULL(coap_register_async(s, resp, 0));
  CHECK_NULL(coap_register_async(NULL, req, 0));
  CHECK_NULL(coap_register_async(s, NULL, 0));
  CHECK(coap_find_async(s, coap_pdu_get_token(req)) == a);
  coap_bin_const_t other = {1, (const uint8_t *)"\x08"};
  CHECK_NULL(coap_find_async(s, other));
  coap_free_async(s, a);
  CHECK_NULL(coap_find_async(s, coap_pdu_get_token(req)));
  coap_delete_pdu(req);
  coap_delete_pdu(resp);
  CHECK_INT_EQ(coap_async_is_supported(), 1);
  h_free(ctx);
}

TEST(delay_0_waits_until_set_delay) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 5, 3, "later"));
  CHECK_NOT_NULL(last_async);
  h_advance(ctx, 200 * COAP_TICKS_PER_SECOND); /* within the idle timeout */
  CHECK_INT_EQ(later_calls, 1);
  coap_async_set_delay(last_async, 1); /* the seed's pattern */
  h_advance(ctx, 1);
  CHECK_INT_EQ(later_calls, 2);
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

TEST(trigger_fires_on_next_pass) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 5, 3, "later"));
  coap_async_trigger(last_async);
  CHECK_INT_EQ(later_calls, 1); /* not inside the caller */
  h_advance(ctx, 1);
  CHECK_INT_EQ(later_calls, 2);
  CHECK_INT_EQ(h_nsent, 1);
  h_free(ctx);
}

TEST(set_delay_0_cancels_a_pending_delay) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 0x40b4, "2"));
  coap_async_t *a = coap_find_async(s, (coap_bin_const_t){1, (const uint8_t *)"\x01"});
  CHECK_NOT_NULL(a);
  coap_async_set_delay(a, 0);
  h_advance(ctx, 100 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1);
  coap_async_set_delay(a, 5);
  h_advance(ctx, 5);
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

TEST(delayed_handler_without_code_sends_nothing) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 5, 3,
                      "nothing"));
  CHECK_INT_EQ(h_nsent, 1); /* the Empty ACK */
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(later_calls, 2);
  h_advance(ctx, 100 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1); /* never a CON 0.00 */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 0);
  h_free(ctx);
}

TEST(delayed_handler_may_free_its_async) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 5, 3,
                      "selffree"));
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(later_calls, 2);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 0);
  h_free(ctx);
}

TEST(app_data_round_trips) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 5, 3, "later"));
  int x;
  CHECK_NULL(coap_async_get_app_data(last_async));
  coap_async_set_app_data(last_async, &x);
  CHECK(coap_async_get_app_data(last_async) == &x);
  h_free(ctx);
}

TEST(session_close_frees_pending_asyncs) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(COAP_MESSAGE_CON, 1, "100"));
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 1);
  pt_session_close(s, COAP_NACK_NOT_DELIVERABLE);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 0);
  h_advance(ctx, 200 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1);
  h_free(ctx);
}

TEST(context_free_with_pending_asyncs_is_clean) {
  coap_context_t *ctx = server();
  for (int i = 0; i < 50; i++) {
    coap_session_t *s = h_server_session((uint16_t)(40000 + i));
    h_feed(s, async_get(COAP_MESSAGE_CON, (coap_mid_t)i, "100"));
  }
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 50);
  h_free(ctx); /* ASan reports any leak */
}

TEST(async_of_timed_out_session_is_dropped) {
  coap_context_t *ctx = server();
  coap_context_set_session_timeout(ctx, 30);
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 5, 3, "later"));
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 1);
  h_advance(ctx, 31 * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 0);
  h_free(ctx);
}

TEST(many_pending_asyncs_fire_in_deadline_order) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  for (int i = 0; i < 1000; i++) {
    coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                                  (coap_mid_t)i, 64);
    uint8_t tok[2] = {(uint8_t)(i >> 8), (uint8_t)i};
    coap_add_token(p, 2, tok);
    coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"async");
    char q[8];
    snprintf(q, sizeof(q), "%d", 1 + i % 7);
    coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(q), (const uint8_t *)q);
    h_feed(s, p);
  }
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 1000);
  h_nsent = 0;
  for (int sec = 1; sec <= 7; sec++) {
    h_advance(ctx, COAP_TICKS_PER_SECOND);
    CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 1000 - (size_t)h_nsent);
  }
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->asyncs), 0);
  h_free(ctx);
}

static void *trigger_from_thread(void *arg) {
  coap_async_trigger(arg);
  return NULL;
}

/* A trigger posted by another thread is applied by the loop thread; one
 * still posted when the context goes is freed with it. */
TEST(trigger_from_another_thread_is_applied_by_the_loop) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 5, 3, "later"));
  pthread_t t;
  pthread_create(&t, NULL, trigger_from_thread, last_async);
  pthread_join(t, NULL);
  h_advance(ctx, 10);
  CHECK_INT_EQ(later_calls, 1); /* posted, not applied yet */
  pt_async_drain(ctx);          /* what the loop does when woken */
  h_advance(ctx, 1);
  CHECK_INT_EQ(later_calls, 2);
  CHECK_INT_EQ(h_nsent, 1);
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 6, 4, "later"));
  pthread_create(&t, NULL, trigger_from_thread, last_async);
  pthread_join(t, NULL);
  h_free(ctx); /* the pending post is freed: ASan reports any leak */
}

int main(void) {
  RUN(seed_con_empty_ack_then_separate_con);
  RUN(seed_separate_con_is_retransmitted_until_acked);
  RUN(seed_separate_con_stopped_by_rst);
  RUN(seed_non_gets_nothing_then_separate_non);
  RUN(seed_duplicate_con_while_pending_gets_empty_ack_once);
  RUN(seed_delay_0_answers_piggybacked_4_00);
  RUN(seed_default_delay_without_query_is_5_s);
  RUN(register_limit_makes_seed_answer_5_03);
  RUN(register_refuses_same_token_and_non_requests);
  RUN(delay_0_waits_until_set_delay);
  RUN(trigger_fires_on_next_pass);
  RUN(set_delay_0_cancels_a_pending_delay);
  RUN(delayed_handler_without_code_sends_nothing);
  RUN(delayed_handler_may_free_its_async);
  RUN(app_data_round_trips);
  RUN(session_close_frees_pending_asyncs);
  RUN(context_free_with_pending_asyncs_is_clean);
  RUN(async_of_timed_out_session_is_dropped);
  RUN(many_pending_asyncs_fire_in_deadline_order);
  RUN(trigger_from_another_thread_is_applied_by_the_loop);
  return TEST_SUMMARY();
}
