/*
 * test_reliable.c -- the message layer on a reliable session (RFC 8323
 * section 3): no message types, message IDs, ACKs, retransmission or
 * deduplication; a response is matched by its token only. The sessions
 * here are made reliable by hand: the tests drive the message layer
 * (pt_recv_message, pt_exchange_send), not a transport.
 */
#include "test.h"

#include "core_harness.h"
#include "exchange.h"

static int hello_calls, response_calls, nack_calls;
static coap_nack_reason_t last_nack;

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  hello_calls++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, coap_mid_t mid) {
  (void)s, (void)sent, (void)received, (void)mid;
  response_calls++;
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  nack_calls++;
  last_nack = reason;
}

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  coap_register_response_handler(ctx, on_response);
  coap_register_nack_handler(ctx, on_nack);
  hello_calls = response_calls = nack_calls = 0;
  return ctx;
}

/* Sent message @i parsed with TCP framing (caller deletes), or NULL. */
static coap_pdu_t *sent_tcp(int i) {
  if (i >= h_nsent)
    return NULL;
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 2048);
  if (!coap_pdu_parse(COAP_PROTO_TCP, h_sent_log[i].data, h_sent_log[i].len,
                      p)) {
    coap_delete_pdu(p);
    return NULL;
  }
  return p;
}

static coap_pdu_t *get(uint8_t token, const char *path) {
  return h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0, token, path);
}

TEST(request_is_answered_in_tcp_framing_with_no_ack) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  s->proto = COAP_PROTO_TCP;
  CHECK_INT_EQ(pt_session_reliable(s), 1);
  coap_pdu_t *req = get(0xab, "hello");
  pt_recv_message(s, req, h_now);
  CHECK_INT_EQ(hello_calls, 1);
  CHECK_INT_EQ(h_nsent, 1); /* the response alone: no ACK exists */
  /* RFC 8323 3.2: Len (marker and "hello": 6), TKL 1, then the code. */
  CHECK_UINT_EQ(h_sent_log[0].data[0], 0x61);
  CHECK_UINT_EQ(h_sent_log[0].data[1], COAP_RESPONSE_CODE_CONTENT);
  coap_pdu_t *resp = sent_tcp(0);
  CHECK_NOT_NULL(resp);
  CHECK_UINT_EQ(coap_pdu_get_code(resp), COAP_RESPONSE_CODE_CONTENT);
  CHECK_UINT_EQ(coap_pdu_get_token(resp).length, 1);
  CHECK_UINT_EQ(coap_pdu_get_token(resp).s[0], 0xab);
  coap_delete_pdu(resp);
  /* The same message again is a new request: no deduplication. */
  pt_recv_message(s, req, h_now);
  CHECK_INT_EQ(hello_calls, 2);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_UINT_EQ(ctx->dedup_total, 0);
  coap_delete_pdu(req);
  h_free(ctx);
}

TEST(unknown_resource_gets_404_and_empty_message_is_ignored) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  s->proto = COAP_PROTO_TCP;
  coap_pdu_t *req = get(0x01, "nope");
  pt_recv_message(s, req, h_now);
  coap_delete_pdu(req);
  coap_pdu_t *resp = sent_tcp(0);
  CHECK_NOT_NULL(resp);
  CHECK_UINT_EQ(coap_pdu_get_code(resp), COAP_RESPONSE_CODE_NOT_FOUND);
  coap_delete_pdu(resp);
  coap_pdu_t *empty = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 16);
  pt_recv_message(s, empty, h_now); /* RFC 8323 3.4: ignored, no RST */
  coap_delete_pdu(empty);
  CHECK_INT_EQ(h_nsent, 1);
  h_free(ctx);
}

static coap_session_t *client(coap_context_t *ctx) {
  coap_address_t a = h_peer(5683);
  coap_session_t *c = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  if (c)
    c->proto = COAP_PROTO_TCP;
  return c;
}

/* The peer's response to sent message @i (same token), as parsed from
 * the TCP framing. */
static coap_pdu_t *answer_to(int i, coap_pdu_code_t code) {
  coap_pdu_t *req = sent_tcp(i);
  if (!req)
    return NULL;
  coap_pdu_t *r = coap_pdu_init(COAP_MESSAGE_CON, code, 0, 64);
  coap_bin_const_t t = coap_pdu_get_token(req);
  coap_add_token(r, t.length, t.s);
  coap_delete_pdu(req);
  return r;
}

static coap_pdu_t *client_get(coap_session_t *s) {
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  uint8_t tok[8];
  size_t tlen;
  coap_session_new_token(s, &tlen, tok);
  coap_add_token(p, tlen, tok);
  return p;
}

TEST(client_request_is_never_retransmitted_and_matched_by_token) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  CHECK_NOT_NULL(c);
  coap_mid_t mid = coap_send(c, client_get(c));
  CHECK(mid != COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *sent = sent_tcp(0);
  CHECK_NOT_NULL(sent);
  CHECK_UINT_EQ(coap_pdu_get_code(sent), COAP_REQUEST_CODE_GET);
  coap_delete_pdu(sent);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0); /* no ACK awaited */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 1);
  h_advance(ctx, 60 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1); /* no retransmission */
  coap_pdu_t *resp = answer_to(0, COAP_RESPONSE_CODE_CONTENT);
  pt_recv_message(c, resp, h_now);
  coap_delete_pdu(resp);
  CHECK_INT_EQ(response_calls, 1);
  CHECK_INT_EQ(h_nsent, 1); /* and no ACK for the response */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  CHECK_INT_EQ(nack_calls, 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_request_unanswered_fails_after_exchange_lifetime) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  coap_send(c, client_get(c));
  for (int i = 0; i < 400 && !nack_calls; i++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(nack_calls, 1);
  CHECK_INT_EQ(last_nack, COAP_NACK_TOO_MANY_RETRIES);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  coap_session_release(c);
  h_free(ctx);
}

int main(void) {
  RUN(request_is_answered_in_tcp_framing_with_no_ack);
  RUN(unknown_resource_gets_404_and_empty_message_is_ignored);
  RUN(client_request_is_never_retransmitted_and_matched_by_token);
  RUN(client_request_unanswered_fails_after_exchange_lifetime);
  return TEST_SUMMARY();
}
