/*
 * test_pending.c -- coap_io_pending() (coap_io(3)) through the sans-I/O
 * core with a fake clock: 1 while a CON awaits its ACK or waits behind
 * NSTART, while a request awaits its response, while a block-wise
 * transfer is held; 0 once all of that is over.
 */
#include "test.h"

#include "core_harness.h"

static int responses;

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)s, (void)sent, (void)recv, (void)mid;
  responses++;
  return COAP_RESPONSE_OK;
}

#define BIG_LEN 3000
static uint8_t big[BIG_LEN];

static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_TEXT_PLAIN,
                               60, 0, BIG_LEN, big, NULL, NULL);
}

static coap_context_t *context(void) {
  coap_context_t *ctx = h_context();
  responses = 0;
  coap_register_response_handler(ctx, on_response);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("big"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_big);
  coap_add_resource(ctx, r);
  return ctx;
}

static coap_session_t *client(coap_context_t *ctx) {
  coap_address_t a = h_peer(5683);
  return coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
}

static coap_mid_t send_get(coap_session_t *c, coap_pdu_type_t type,
                           uint8_t token) {
  coap_pdu_t *p = coap_new_pdu(type, COAP_REQUEST_CODE_GET, c);
  coap_add_token(p, 1, &token);
  return coap_send(c, p);
}

static void empty(coap_session_t *s, coap_pdu_type_t type, coap_mid_t mid) {
  const uint8_t m[4] = {(uint8_t)(0x40 | type << 4), 0, (uint8_t)(mid >> 8),
                        (uint8_t)mid};
  h_feed_raw(s, m, 4);
}

/* A 2.05 with @token, of @type (ACK: piggybacked on @mid). */
static void response(coap_session_t *s, coap_pdu_type_t type, coap_mid_t mid,
                     uint8_t token) {
  coap_pdu_t *r = coap_pdu_init(type, COAP_RESPONSE_CODE_CONTENT, mid, 64);
  coap_add_token(r, 1, &token);
  h_feed(s, r);
}

TEST(pending_is_0_for_an_idle_context_and_null) {
  coap_context_t *ctx = context();
  CHECK_INT_EQ(coap_io_pending(NULL), 0);
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  coap_session_t *c = client(ctx);
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(pending_over_a_con_request_and_its_separate_response) {
  coap_context_t *ctx = context();
  coap_session_t *c = client(ctx);
  coap_mid_t mid = send_get(c, COAP_MESSAGE_CON, 1);
  CHECK_INT_EQ(coap_io_pending(ctx), 1); /* unacknowledged */
  h_advance(ctx, 3 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2); /* retransmitted: still pending */
  CHECK_INT_EQ(coap_io_pending(ctx), 1);
  empty(c, COAP_MESSAGE_ACK, mid);
  CHECK_INT_EQ(coap_io_pending(ctx), 1); /* acknowledged, response awaited */
  CHECK_INT_EQ(coap_can_exit(ctx), 1);   /* nothing left to transmit */
  h_advance(ctx, 60 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(coap_io_pending(ctx), 1);
  response(c, COAP_MESSAGE_CON, 0x5151, 1);
  CHECK_INT_EQ(responses, 1);
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(pending_over_a_piggybacked_response) {
  coap_context_t *ctx = context();
  coap_session_t *c = client(ctx);
  coap_mid_t mid = send_get(c, COAP_MESSAGE_CON, 1);
  CHECK_INT_EQ(coap_io_pending(ctx), 1);
  response(c, COAP_MESSAGE_ACK, mid, 1);
  CHECK_INT_EQ(responses, 1);
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(pending_while_a_con_waits_behind_nstart) {
  coap_context_t *ctx = context();
  coap_session_t *c = client(ctx);
  coap_mid_t m1 = send_get(c, COAP_MESSAGE_CON, 1);
  coap_mid_t m2 = send_get(c, COAP_MESSAGE_CON, 2);
  CHECK_INT_EQ(h_nsent, 1); /* the second waits (NSTART 1) */
  response(c, COAP_MESSAGE_ACK, m1, 1);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(coap_io_pending(ctx), 1);
  response(c, COAP_MESSAGE_ACK, m2, 2);
  CHECK_INT_EQ(responses, 2);
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(pending_until_an_unanswered_request_is_given_up) {
  coap_context_t *ctx = context();
  coap_session_t *c = client(ctx);
  send_get(c, COAP_MESSAGE_NON, 1);
  CHECK_INT_EQ(coap_io_pending(ctx), 1);       /* a NON request awaits too */
  h_advance(ctx, 300 * COAP_TICKS_PER_SECOND); /* > EXCHANGE_LIFETIME */
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  coap_mid_t mid = send_get(c, COAP_MESSAGE_CON, 2);
  (void)mid;
  for (int i = 0; i < 100; i++)
    h_advance(ctx, COAP_TICKS_PER_SECOND); /* retransmissions run out */
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(pending_while_a_server_con_awaits_its_ack) {
  coap_context_t *ctx = context();
  coap_session_t *s = h_server_session(40000);
  coap_mid_t mid = coap_session_send_ping(s);
  CHECK_INT_EQ(coap_io_pending(ctx), 1);
  empty(s, COAP_MESSAGE_RST, mid);
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  h_free(ctx);
}

TEST(pending_while_a_block2_body_is_held) {
  coap_context_t *ctx = context();
  coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP);
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 9, 9, "big"));
  CHECK_INT_EQ(h_nsent, 1); /* block 0 of a body that needs several */
  CHECK_UINT_EQ(ctx->exchange_count, 0);
  CHECK_INT_EQ(coap_io_pending(ctx), 1);       /* the transfer is in progress */
  h_advance(ctx, 300 * COAP_TICKS_PER_SECOND); /* the held body expires */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 0);
  CHECK_INT_EQ(coap_io_pending(ctx), 0);
  h_free(ctx);
}

int main(void) {
  RUN(pending_is_0_for_an_idle_context_and_null);
  RUN(pending_over_a_con_request_and_its_separate_response);
  RUN(pending_over_a_piggybacked_response);
  RUN(pending_while_a_con_waits_behind_nstart);
  RUN(pending_until_an_unanswered_request_is_given_up);
  RUN(pending_while_a_server_con_awaits_its_ack);
  RUN(pending_while_a_block2_body_is_held);
  return TEST_SUMMARY();
}
