/*
 * test_core.c -- the sans-I/O message layer (RFC 7252 sections 4 and 5):
 * datagrams in, datagrams out, time by hand.
 */
#include "test.h"

#include "core_harness.h"
#include "dedup.h"
#include "exchange.h"

static int hello_calls;
static int nack_calls;
static coap_nack_reason_t last_nack;
static int response_calls;
static int last_sent_was_null;
static coap_response_t response_result = COAP_RESPONSE_OK;
static int events[16];
static int bad_packets, retransmitted;

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  hello_calls++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

static void hnd_silent(coap_resource_t *r, coap_session_t *s,
                       const coap_pdu_t *req, const coap_string_t *q,
                       coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q, (void)resp;
  hello_calls++;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  nack_calls++;
  last_nack = reason;
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)s, (void)sent, (void)recv, (void)mid;
  response_calls++;
  last_sent_was_null = sent == NULL;
  return response_result;
}

static int on_event(coap_session_t *s, coap_event_t ev) {
  (void)s;
  if ((unsigned)ev < 16)
    events[ev]++;
  else if (ev == COAP_EVENT_SERVER_SESSION_NEW)
    events[0]++;
  else if (ev == COAP_EVENT_SERVER_SESSION_DEL)
    events[1]++;
  else if (ev == COAP_EVENT_BAD_PACKET)
    bad_packets++;
  else if (ev == COAP_EVENT_MSG_RETRANSMITTED)
    retransmitted++;
  return 0;
}

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("silent"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_silent);
  coap_add_resource(ctx, r);
  hello_calls = nack_calls = response_calls = 0;
  response_result = COAP_RESPONSE_OK;
  memset(events, 0, sizeof(events));
  bad_packets = retransmitted = 0;
  coap_register_nack_handler(ctx, on_nack);
  coap_register_response_handler(ctx, on_response);
  coap_register_event_handler(ctx, on_event);
  return ctx;
}

/* ---- server side ------------------------------------------------------- */

TEST(con_get_is_answered_piggybacked) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1234, 0xab,
                      "hello"));
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *r = h_parse(0);
  CHECK_NOT_NULL(r);
  CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_ACK);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(coap_pdu_get_mid(r), 0x1234);
  coap_bin_const_t tok = coap_pdu_get_token(r);
  CHECK_MEM_EQ(tok.s, tok.length, "\xab", 1);
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(r, &len, &data));
  CHECK_MEM_EQ(data, len, "hello", 5);
  coap_delete_pdu(r);
  CHECK_INT_EQ(hello_calls, 1);
  h_free(ctx);
}

TEST(duplicate_con_gets_same_reply_without_handler) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 7, 1, "hello"));
  h_advance(ctx, 3 * COAP_TICKS_PER_SECOND);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 7, 1, "hello"));
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(hello_calls, 1);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, h_sent_log[0].data,
               h_sent_log[0].len);
  h_free(ctx);
}

TEST(duplicate_after_exchange_lifetime_is_new) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 7, 1, "hello"));
  h_advance(ctx, 248 * COAP_TICKS_PER_SECOND);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 7, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 2);
  h_free(ctx);
}

TEST(non_request_gets_non_response_and_duplicate_is_dropped) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 9, 2, "hello"));
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 9, 2, "hello"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(hello_calls, 1);
  coap_pdu_t *r = h_parse(0);
  CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_NON);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CONTENT);
  coap_delete_pdu(r);
  h_free(ctx);
}

static int reply_code(int i) {
  coap_pdu_t *r = h_parse(i);
  int code = r ? (int)coap_pdu_get_code(r) : -1;
  coap_delete_pdu(r);
  return code;
}

/* The payload of reply @i as a string (diagnostic payloads are short). */
static const char *reply_payload(int i, char *buf, size_t cap) {
  coap_pdu_t *r = h_parse(i);
  size_t len = 0;
  const uint8_t *data = NULL;
  buf[0] = '\0';
  if (r && coap_get_data(r, &len, &data) && len < cap) {
    memcpy(buf, data, len);
    buf[len] = '\0';
  }
  coap_delete_pdu(r);
  return buf;
}

/* Errors the library answers by itself carry the reason phrase as
 * diagnostic payload (RFC 7252 5.5.2), as libcoap's do. */
TEST(unknown_path_is_4_04) {
  char text[64];
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "nope"));
  CHECK_INT_EQ(reply_code(0), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_STR_EQ(reply_payload(0, text, sizeof(text)), "Not Found");
  h_free(ctx);
}

TEST(method_without_handler_is_4_05) {
  char text[64];
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 1, 1, "hello"));
  CHECK_INT_EQ(reply_code(0), COAP_RESPONSE_CODE_NOT_ALLOWED);
  CHECK_STR_EQ(reply_payload(0, text, sizeof(text)), "Method Not Allowed");
  h_free(ctx);
}

TEST(unknown_critical_option_is_4_02_elective_is_ignored) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello");
  coap_add_option(p, 65001, 1, (const uint8_t *)"x"); /* odd: critical */
  h_feed(s, p);
  CHECK_INT_EQ(reply_code(0), COAP_RESPONSE_CODE_BAD_OPTION);
  p = h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 1, "hello");
  coap_add_option(p, 65000, 1, (const uint8_t *)"x"); /* even: elective */
  h_feed(s, p);
  CHECK_INT_EQ(reply_code(1), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(hello_calls, 1);
  h_free(ctx);
}

/* RFC 7252 5.4.3 and 5.4.5: a known option with a value outside its length
 * range, or a non-repeatable one repeated, is treated as unrecognized:
 * 4.02 when critical, ignored when elective. */
static int code_for_request_with(coap_context_t *ctx, coap_mid_t mid,
                                 uint16_t num, size_t len, int twice) {
  coap_session_t *s = h_server_session(40000);
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, mid, 1, "hello");
  static const uint8_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  coap_add_option(p, num, len, v);
  if (twice)
    coap_add_option(p, num, len, v);
  int before = h_nsent;
  h_feed(s, p);
  (void)ctx;
  return h_nsent == before + 1 ? reply_code(before) : -1;
}

TEST(critical_option_with_bad_length_or_repeat_is_4_02) {
  coap_context_t *ctx = server();
  CHECK_INT_EQ(code_for_request_with(ctx, 1, COAP_OPTION_URI_HOST, 0, 0),
               COAP_RESPONSE_CODE_BAD_OPTION); /* Uri-Host: 1-255 */
  CHECK_INT_EQ(code_for_request_with(ctx, 2, COAP_OPTION_URI_PORT, 3, 0),
               COAP_RESPONSE_CODE_BAD_OPTION); /* Uri-Port: 0-2 */
  CHECK_INT_EQ(code_for_request_with(ctx, 3, COAP_OPTION_IF_NONE_MATCH, 1, 0),
               COAP_RESPONSE_CODE_BAD_OPTION); /* If-None-Match: empty */
  CHECK_INT_EQ(code_for_request_with(ctx, 4, COAP_OPTION_URI_HOST, 4, 1),
               COAP_RESPONSE_CODE_BAD_OPTION); /* Uri-Host twice */
  CHECK_INT_EQ(code_for_request_with(ctx, 5, COAP_OPTION_BLOCK2, 4, 0),
               COAP_RESPONSE_CODE_BAD_OPTION); /* Block2: 0-3 */
  CHECK_INT_EQ(code_for_request_with(ctx, 6, COAP_OPTION_IF_MATCH, 8, 1),
               COAP_RESPONSE_CODE_CONTENT); /* If-Match may repeat */
  CHECK_INT_EQ(code_for_request_with(ctx, 7, COAP_OPTION_URI_HOST, 4, 0),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(hello_calls, 2);
  h_free(ctx);
}

TEST(elective_option_with_bad_length_or_repeat_is_ignored) {
  coap_context_t *ctx = server();
  CHECK_INT_EQ(code_for_request_with(ctx, 1, COAP_OPTION_MAXAGE, 5, 0),
               COAP_RESPONSE_CODE_CONTENT); /* Max-Age: 0-4 */
  CHECK_INT_EQ(code_for_request_with(ctx, 2, COAP_OPTION_CONTENT_FORMAT, 2, 1),
               COAP_RESPONSE_CODE_CONTENT); /* Content-Format twice */
  CHECK_INT_EQ(hello_calls, 2);
  h_free(ctx);
}

TEST(registered_option_is_accepted) {
  coap_context_t *ctx = server();
  coap_register_option(ctx, 65001);
  coap_session_t *s = h_server_session(40000);
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello");
  coap_add_option(p, 65001, 1, (const uint8_t *)"x");
  h_feed(s, p);
  CHECK_INT_EQ(reply_code(0), COAP_RESPONSE_CODE_CONTENT);
  h_free(ctx);
}

TEST(proxy_uri_without_proxy_is_5_05) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, NULL);
  const char *uri = "coap://example.com/x";
  coap_add_option(p, COAP_OPTION_PROXY_URI, strlen(uri), (const uint8_t *)uri);
  h_feed(s, p);
  CHECK_INT_EQ(reply_code(0), COAP_RESPONSE_CODE_PROXYING_NOT_SUPPORTED);
  h_free(ctx);
}

TEST(handler_without_code_sends_empty_ack_for_con_nothing_for_non) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s,
         h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x55, 3, "silent"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x60\x00\x00\x55", 4);
  h_feed(s,
         h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 0x56, 3, "silent"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(hello_calls, 2);
  h_free(ctx);
}

TEST(con_ping_gets_rst) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  const uint8_t ping[4] = {0x40, 0x00, 0x12, 0x34};
  h_feed_raw(s, ping, sizeof(ping));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x70\x00\x12\x34", 4);
  h_free(ctx);
}

TEST(malformed_con_gets_rst_malformed_non_is_dropped) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  const uint8_t bad_con[5] = {0x49, 0x01, 0x00, 0x42, 0x00}; /* TKL 9 */
  const uint8_t bad_non[5] = {0x59, 0x01, 0x00, 0x43, 0x00};
  h_feed_raw(s, bad_con, sizeof(bad_con));
  h_feed_raw(s, bad_non, sizeof(bad_non));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x70\x00\x00\x42", 4);
  CHECK_INT_EQ(bad_packets, 2);
  h_free(ctx);
}

TEST(short_and_wrong_version_datagrams_are_dropped) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  const uint8_t short3[3] = {0x40, 0x01, 0x00};
  const uint8_t v2[4] = {0x80, 0x01, 0x00, 0x01};
  h_feed_raw(s, short3, sizeof(short3));
  h_feed_raw(s, v2, sizeof(v2));
  CHECK_INT_EQ(h_nsent, 0);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 3, 1, "hello"));
  CHECK_INT_EQ(reply_code(0), COAP_RESPONSE_CODE_CONTENT);
  h_free(ctx);
}

TEST(reserved_code_class_con_gets_rst) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  const uint8_t c1[4] = {0x40, 0x20, 0x00, 0x07}; /* code 1.00 */
  h_feed_raw(s, c1, sizeof(c1));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x70\x00\x00\x07", 4);
  h_free(ctx);
}

TEST(unexpected_ack_and_rst_are_ignored) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  const uint8_t ack[4] = {0x60, 0x00, 0x00, 0x07};
  const uint8_t rst[4] = {0x70, 0x00, 0x00, 0x08};
  h_feed_raw(s, ack, sizeof(ack));
  h_feed_raw(s, rst, sizeof(rst));
  CHECK_INT_EQ(h_nsent, 0);
  h_free(ctx);
}

TEST(idle_server_session_is_reaped) {
  coap_context_t *ctx = server();
  coap_context_set_session_timeout(ctx, 10);
  coap_session_t *s = h_server_session(40000);
  CHECK_INT_EQ(events[0], 1);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 3, 1, "hello"));
  h_advance(ctx, 5 * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 1);
  h_advance(ctx, 6 * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  CHECK_UINT_EQ(ctx->dedup_total, 0);
  CHECK_INT_EQ(events[1], 1);
  h_free(ctx);
}

TEST(max_idle_sessions_closes_least_recently_active) {
  coap_context_t *ctx = server();
  coap_context_set_max_idle_sessions(ctx, 2);
  CHECK_INT_EQ(coap_context_get_max_idle_sessions(ctx), 2);
  coap_session_t *a = h_server_session(40001);
  h_advance(ctx, 1); /* recency is known to the tick (PT_SESSION_LRU_GRAIN) */
  coap_session_t *b = h_server_session(40002);
  h_advance(ctx, 1);
  h_feed(a, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  coap_session_t *c = h_server_session(40003); /* b is the oldest now */
  CHECK_NOT_NULL(c);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 2);
  CHECK_INT_EQ(events[0], 3);          /* three sessions were created */
  CHECK_INT_EQ(events[1], 1);          /* one was closed... */
  CHECK(h_server_session(40001) == a); /* ...and it was not a */
  CHECK_INT_EQ(events[0], 3);
  (void)b;
  h_free(ctx);
}

/* The endpoint compares the session of its last datagram first; a session
 * that leaves the table (reaped, closed) must not be found that way. */
TEST(last_hit_session_is_forgotten_when_it_leaves_the_table) {
  coap_context_t *ctx = server();
  coap_context_set_session_timeout(ctx, 10);
  coap_session_t *a = h_server_session(40001);
  coap_session_t *b = h_server_session(40002);
  CHECK(a != b);
  CHECK(h_server_session(40001) == a);
  CHECK(h_server_session(40002) == b);
  CHECK(h_server_session(40002) == b);
  CHECK(h_ep.last_hit == b);
  CHECK_INT_EQ(events[0], 2);
  pt_session_close(b, COAP_NACK_NOT_DELIVERABLE); /* the last hit */
  CHECK(h_ep.last_hit == NULL);
  coap_session_t *b2 = h_server_session(40002);
  CHECK_NOT_NULL(b2);
  CHECK_INT_EQ(events[0], 3); /* a new session, not the closed one */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 2);
  h_advance(ctx, 11 * COAP_TICKS_PER_SECOND); /* both reaped */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  CHECK(h_ep.last_hit == NULL);
  CHECK_NOT_NULL(h_server_session(40002));
  CHECK_INT_EQ(events[0], 4);
  h_free(ctx);
}

TEST(dedup_per_session_cap_holds) {
  coap_context_t *ctx = server();
  ctx->dedup_per_session = 4;
  coap_session_t *s = h_server_session(40000);
  for (int i = 0; i < 10; i++)
    h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, (coap_mid_t)i,
                        1, "hello"));
  CHECK_UINT_EQ(s->dedup_count, 4);
  CHECK_UINT_EQ(ctx->dedup_total, 4);
  for (int i = 0; i < 10; i++) /* the four newest are remembered */
    CHECK_INT_EQ(pt_dedup_find(s, (coap_mid_t)i, h_now) != NULL, i >= 6);
  h_free(ctx);
}

/* ---- client side -------------------------------------------------------- */

static coap_session_t *client(coap_context_t *ctx) {
  coap_address_t a = h_peer(5683);
  return coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
}

static coap_pdu_t *client_get(coap_session_t *s, coap_pdu_type_t type) {
  coap_pdu_t *p = coap_new_pdu(type, COAP_REQUEST_CODE_GET, s);
  uint8_t tok[8];
  size_t tlen;
  coap_session_new_token(s, &tlen, tok);
  coap_add_token(p, tlen, tok);
  coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"hello");
  return p;
}

/* A response to datagram @i of the log (same token), as the peer sends it. */
static coap_pdu_t *answer_to(int i, coap_pdu_type_t type, coap_mid_t mid,
                             coap_pdu_code_t code) {
  coap_pdu_t *req = h_parse(i);
  coap_pdu_t *r = coap_pdu_init(type, code, mid, 1024);
  coap_bin_const_t t = coap_pdu_get_token(req);
  coap_add_token(r, t.length, t.s);
  coap_delete_pdu(req);
  return r;
}

TEST(client_con_is_retransmitted_then_nacked) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  CHECK_NOT_NULL(c);
  coap_mid_t mid = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  CHECK(mid != COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 1);
  /* ACK_TIMEOUT 2 s x [1, 1.5]: the first retransmission by 3 s, not
   * before 2 s; then intervals double (4, 8, 16 s x the same factor). */
  h_advance(ctx, 2 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(h_nsent, 1);
  h_advance(ctx, COAP_TICKS_PER_SECOND + 1);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, h_sent_log[0].data,
               h_sent_log[0].len);
  for (int i = 0; i < 100 && nack_calls == 0; i++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 5); /* first send + MAX_RETRANSMIT (4) */
  CHECK_INT_EQ(retransmitted, 4);
  CHECK_INT_EQ(nack_calls, 1);
  CHECK_INT_EQ(last_nack, COAP_NACK_TOO_MANY_RETRIES);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  CHECK_INT_EQ(coap_can_exit(ctx), 1);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_piggybacked_response_is_delivered_once) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  coap_mid_t mid = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  h_feed(c, answer_to(0, COAP_MESSAGE_ACK, mid, COAP_RESPONSE_CODE_CONTENT));
  CHECK_INT_EQ(response_calls, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  h_advance(ctx, 100 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1); /* no retransmission after the ACK */
  CHECK_INT_EQ(nack_calls, 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_separate_response_is_acked_and_deduplicated) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  coap_mid_t mid = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  const uint8_t empty_ack[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
  h_feed_raw(c, empty_ack, 4);
  h_advance(ctx, 10 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1); /* acknowledged: no retransmission */
  h_feed(c, answer_to(0, COAP_MESSAGE_CON, 0x7777, COAP_RESPONSE_CODE_CONTENT));
  CHECK_INT_EQ(response_calls, 1);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, "\x60\x00\x77\x77", 4);
  /* The peer did not get our ACK and sends the response again. */
  h_feed(c, answer_to(0, COAP_MESSAGE_CON, 0x7777, COAP_RESPONSE_CODE_CONTENT));
  CHECK_INT_EQ(response_calls, 1);
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_MEM_EQ(h_sent_log[2].data, h_sent_log[2].len, "\x60\x00\x77\x77", 4);
  coap_session_release(c);
  h_free(ctx);
}

/* libcoap's contract: the handler sees every response, with sent NULL when
 * no request of ours matches, and decides: OK is acknowledged, FAIL is
 * rejected with RST. */
static coap_pdu_t *unmatched_con(coap_mid_t mid) {
  coap_pdu_t *r =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, mid, 64);
  coap_add_token(r, 2, (const uint8_t *)"zz");
  return r;
}

TEST(client_unmatched_response_is_offered_to_handler_ok_is_acked) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  h_feed(c, unmatched_con(0x4242));
  CHECK_INT_EQ(response_calls, 1);
  CHECK(last_sent_was_null);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x60\x00\x42\x42", 4);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_unmatched_response_handler_fail_gets_rst) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  response_result = COAP_RESPONSE_FAIL;
  h_feed(c, unmatched_con(0x4243));
  CHECK_INT_EQ(response_calls, 1);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x70\x00\x42\x43", 4);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_unmatched_response_without_handler_gets_rst) {
  coap_context_t *ctx = server();
  coap_register_response_handler(ctx, NULL);
  coap_session_t *c = client(ctx);
  h_feed(c, unmatched_con(0x4244));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x70\x00\x42\x44", 4);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_response_handler_fail_sends_rst) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  response_result = COAP_RESPONSE_FAIL;
  coap_send(c, client_get(c, COAP_MESSAGE_NON));
  h_feed(c, answer_to(0, COAP_MESSAGE_CON, 0x1111, COAP_RESPONSE_CODE_CONTENT));
  CHECK_INT_EQ(response_calls, 1);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, "\x70\x00\x11\x11", 4);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_rst_ends_exchange_with_nack) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  coap_mid_t mid = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  const uint8_t rst[4] = {0x70, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
  h_feed_raw(c, rst, 4);
  CHECK_INT_EQ(nack_calls, 1);
  CHECK_INT_EQ(last_nack, COAP_NACK_RST);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(nstart_queues_second_con_until_first_is_acked) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  coap_mid_t m1 = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  coap_mid_t m2 = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  CHECK(m2 != COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 1);
  const uint8_t ack[4] = {0x60, 0, (uint8_t)(m1 >> 8), (uint8_t)m1};
  h_feed_raw(c, ack, 4);
  CHECK_INT_EQ(h_nsent, 2);
  coap_pdu_t *second = h_parse(1);
  CHECK_INT_EQ(coap_pdu_get_mid(second), m2);
  coap_delete_pdu(second);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_ping_gets_pong) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  coap_mid_t mid = coap_session_send_ping(c);
  CHECK(mid != COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 1);
  const uint8_t rst[4] = {0x70, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
  h_feed_raw(c, rst, 4);
  CHECK_INT_EQ(nack_calls, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(releasing_client_with_pending_request_frees_everything) {
  coap_context_t *ctx = server();
  coap_session_t *c = client(ctx);
  coap_send(c, client_get(c, COAP_MESSAGE_CON));
  coap_session_release(c);
  h_free(ctx); /* ASan reports any leak */
}

int main(void) {
  RUN(con_get_is_answered_piggybacked);
  RUN(duplicate_con_gets_same_reply_without_handler);
  RUN(duplicate_after_exchange_lifetime_is_new);
  RUN(non_request_gets_non_response_and_duplicate_is_dropped);
  RUN(unknown_path_is_4_04);
  RUN(method_without_handler_is_4_05);
  RUN(unknown_critical_option_is_4_02_elective_is_ignored);
  RUN(critical_option_with_bad_length_or_repeat_is_4_02);
  RUN(elective_option_with_bad_length_or_repeat_is_ignored);
  RUN(registered_option_is_accepted);
  RUN(proxy_uri_without_proxy_is_5_05);
  RUN(handler_without_code_sends_empty_ack_for_con_nothing_for_non);
  RUN(con_ping_gets_rst);
  RUN(malformed_con_gets_rst_malformed_non_is_dropped);
  RUN(short_and_wrong_version_datagrams_are_dropped);
  RUN(reserved_code_class_con_gets_rst);
  RUN(unexpected_ack_and_rst_are_ignored);
  RUN(idle_server_session_is_reaped);
  RUN(max_idle_sessions_closes_least_recently_active);
  RUN(last_hit_session_is_forgotten_when_it_leaves_the_table);
  RUN(dedup_per_session_cap_holds);
  RUN(client_con_is_retransmitted_then_nacked);
  RUN(client_piggybacked_response_is_delivered_once);
  RUN(client_separate_response_is_acked_and_deduplicated);
  RUN(client_unmatched_response_is_offered_to_handler_ok_is_acked);
  RUN(client_unmatched_response_handler_fail_gets_rst);
  RUN(client_unmatched_response_without_handler_gets_rst);
  RUN(client_response_handler_fail_sends_rst);
  RUN(client_rst_ends_exchange_with_nack);
  RUN(nstart_queues_second_con_until_first_is_acked);
  RUN(client_ping_gets_pong);
  RUN(releasing_client_with_pending_request_frees_everything);
  return TEST_SUMMARY();
}
