/*
 * test_keepalive.c -- coap_context_set_keepalive() on the sans-I/O core
 * with a fake clock: when pings go, what they look like, what answers them
 * and what happens when nothing does (coap_keepalive(3)).
 */
#include "test.h"

#include "core_harness.h"
#include "exchange.h"

#define SEC COAP_TICKS_PER_SECOND

static int ka_failures, pongs, nacks;
static coap_nack_reason_t last_nack;
static int nack_pdu_was_ping;
static int sessions_deleted;

static int on_event(coap_session_t *s, coap_event_t ev) {
  (void)s;
  if (ev == COAP_EVENT_KEEPALIVE_FAILURE)
    ka_failures++;
  if (ev == COAP_EVENT_SERVER_SESSION_DEL)
    sessions_deleted++;
  return 0;
}

static void on_pong(coap_session_t *s, const coap_pdu_t *pdu, coap_mid_t mid) {
  (void)s, (void)pdu, (void)mid;
  pongs++;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)mid;
  nacks++;
  last_nack = reason;
  nack_pdu_was_ping = sent && coap_pdu_get_code(sent) == 0 &&
                      coap_pdu_get_type(sent) == COAP_MESSAGE_CON;
}

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

/* A context with keepalive @seconds (0: left at the default). */
static coap_context_t *context(unsigned seconds) {
  coap_context_t *ctx = h_context();
  ka_failures = pongs = nacks = sessions_deleted = 0;
  nack_pdu_was_ping = 0;
  coap_register_event_handler(ctx, on_event);
  coap_register_pong_handler(ctx, on_pong);
  coap_register_nack_handler(ctx, on_nack);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  if (seconds)
    coap_context_set_keepalive(ctx, seconds);
  return ctx;
}

static coap_session_t *client(coap_context_t *ctx) {
  coap_address_t a = h_peer(5683);
  return coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
}

static coap_mid_t sent_mid(int i) {
  return (coap_mid_t)(h_sent_log[i].data[2] << 8 | h_sent_log[i].data[3]);
}

/* 1 if datagram @i is an Empty CON: 4 bytes, version 1, type CON, no
 * token, code 0.00. */
static int is_ping(int i) {
  return i < h_nsent && h_sent_log[i].len == 4 &&
         h_sent_log[i].data[0] == 0x40 && h_sent_log[i].data[1] == 0;
}

static void answer(coap_session_t *s, coap_pdu_type_t type, coap_mid_t mid) {
  const uint8_t msg[4] = {(uint8_t)(0x40 | type << 4), 0, (uint8_t)(mid >> 8),
                          (uint8_t)mid};
  h_feed_raw(s, msg, 4);
}

/* Advances the clock one second at a time until @cond or @limit seconds. */
#define ADVANCE_UNTIL(ctx, cond, limit)                                        \
  for (int i_ = 0; i_ < (limit) && !(cond); i_++)                              \
  h_advance(ctx, SEC)

/* ---- when -------------------------------------------------------------- */

TEST(keepalive_is_off_by_default) {
  coap_context_t *ctx = context(0);
  coap_session_t *c = client(ctx);
  h_advance(ctx, 3600 * SEC);
  CHECK_INT_EQ(h_nsent, 0);
  CHECK_INT_EQ(pt_timer_armed(&c->keepalive_timer), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(keepalive_ping_after_interval_not_before) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  h_advance(ctx, 30 * SEC - 1);
  CHECK_INT_EQ(h_nsent, 0);
  h_advance(ctx, 1);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK(is_ping(0));
  coap_session_release(c);
  h_free(ctx);
}

TEST(keepalive_ping_is_empty_con_with_fresh_mid) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  coap_pdu_t *req = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_add_token(req, 1, (const uint8_t *)"t");
  coap_mid_t m0 = coap_send(c, req);
  answer(c, COAP_MESSAGE_ACK, m0); /* Empty ACK: a response is awaited */
  h_advance(ctx, 30 * SEC);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK(is_ping(1));
  CHECK_MEM_EQ(h_sent_log[1].data, 2, "\x40\x00", 2);
  coap_mid_t m1 = sent_mid(1);
  CHECK(m1 != m0);
  CHECK_INT_EQ(m1, (coap_mid_t)((m0 + 1) & 0xffff)); /* the session's next */
  answer(c, COAP_MESSAGE_RST, m1);
  h_advance(ctx, 30 * SEC);
  CHECK_INT_EQ(h_nsent, 3);
  CHECK(is_ping(2));
  CHECK_INT_EQ(sent_mid(2), (coap_mid_t)((m1 + 1) & 0xffff));
  coap_session_release(c);
  h_free(ctx);
}

TEST(keepalive_received_activity_postpones_ping) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  h_advance(ctx, 20 * SEC);
  /* Anything from the peer is activity, even an ACK nobody awaits (which
   * is ignored: nothing is sent). */
  answer(c, COAP_MESSAGE_ACK, 0x1234);
  int base = h_nsent;
  CHECK_INT_EQ(base, 0);
  h_advance(ctx, 30 * SEC - 1);
  CHECK_INT_EQ(h_nsent, base); /* 10 s after the first deadline: none yet */
  h_advance(ctx, 1);
  CHECK_INT_EQ(h_nsent, base + 1);
  CHECK(is_ping(base));
  coap_session_release(c);
  h_free(ctx);
}

TEST(keepalive_sent_activity_postpones_ping) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  h_advance(ctx, 25 * SEC);
  coap_pdu_t *req = coap_new_pdu(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, c);
  coap_send(c, req);
  CHECK_INT_EQ(h_nsent, 1);
  h_advance(ctx, 30 * SEC - 1);
  CHECK_INT_EQ(h_nsent, 1);
  h_advance(ctx, 1);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK(is_ping(1));
  coap_session_release(c);
  h_free(ctx);
}

/* ---- answers ------------------------------------------------------------ */

TEST(keepalive_answered_ping_keeps_session) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  for (int round = 0; round < 3; round++) {
    h_advance(ctx, 30 * SEC);
    CHECK_INT_EQ(h_nsent, round + 1);
    CHECK(is_ping(round));
    CHECK_UINT_EQ(ctx->exchange_count, 1);
    /* RST is the usual answer to a ping; an Empty ACK is accepted too. */
    answer(c, round == 1 ? COAP_MESSAGE_ACK : COAP_MESSAGE_RST,
           sent_mid(round));
    CHECK_UINT_EQ(ctx->exchange_count, 0);
  }
  CHECK_INT_EQ(pongs, 3);
  h_advance(ctx, 29 * SEC); /* answered: no retransmission of any ping */
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_INT_EQ(ka_failures, 0);
  CHECK_INT_EQ(nacks, 0);
  CHECK_INT_EQ(coap_session_get_state(c), COAP_SESSION_STATE_ESTABLISHED);
  coap_session_release(c);
  h_free(ctx);
}

TEST(keepalive_unanswered_ping_fails_once) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  h_advance(ctx, 30 * SEC);
  CHECK(is_ping(0));
  coap_mid_t mid = sent_mid(0);
  ADVANCE_UNTIL(ctx, ka_failures, 200);
  CHECK_INT_EQ(ka_failures, 1);
  /* The ping was retransmitted as any CON: MAX_RETRANSMIT (4) times. */
  int copies = 0;
  for (int i = 0; i < h_nsent; i++)
    copies += is_ping(i) && sent_mid(i) == mid;
  CHECK_INT_EQ(copies, 5);
  CHECK_INT_EQ(nacks, 1);
  CHECK_INT_EQ(last_nack, COAP_NACK_TOO_MANY_RETRIES);
  CHECK(nack_pdu_was_ping);
  /* A client session stays and pings again once it has been idle for the
   * interval (its last send was the last retransmission, so that may be at
   * once); the failure is not reported again meanwhile. */
  ADVANCE_UNTIL(ctx, h_nsent > 5, 60);
  CHECK_INT_EQ(h_nsent, 6);
  CHECK(is_ping(5));
  CHECK(sent_mid(5) != mid);
  CHECK_UINT_EQ(ctx->exchange_count, 1);
  CHECK_INT_EQ(ka_failures, 1);
  answer(c, COAP_MESSAGE_RST, sent_mid(5));
  h_advance(ctx, 200 * SEC);
  CHECK_INT_EQ(ka_failures, 1);
  coap_session_release(c);
  h_free(ctx);
}

/* ICMP port unreachable is reported, not final: the ping is retransmitted
 * and fails as any unanswered ping. */
TEST(keepalive_unreachable_peer_fails) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  h_advance(ctx, 30 * SEC);
  CHECK(is_ping(0));
  pt_session_unreachable(c); /* ICMP port unreachable */
  CHECK_INT_EQ(last_nack, COAP_NACK_ICMP_ISSUE);
  CHECK(nack_pdu_was_ping);
  CHECK_INT_EQ(ka_failures, 0);
  ADVANCE_UNTIL(ctx, ka_failures, 200);
  CHECK_INT_EQ(ka_failures, 1);
  CHECK_INT_EQ(last_nack, COAP_NACK_TOO_MANY_RETRIES);
  coap_session_release(c);
  h_free(ctx);
}

TEST(keepalive_release_with_ping_outstanding_raises_nothing) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  h_advance(ctx, 30 * SEC);
  CHECK(is_ping(0));
  coap_session_release(c);
  h_free(ctx); /* the ping is abandoned with the context */
  CHECK_INT_EQ(ka_failures, 0);
}

/* ---- on and off ---------------------------------------------------------- */

TEST(keepalive_disabling_stops_pings) {
  coap_context_t *ctx = context(30);
  coap_session_t *c = client(ctx);
  h_advance(ctx, 30 * SEC);
  CHECK_INT_EQ(h_nsent, 1);
  answer(c, COAP_MESSAGE_RST, sent_mid(0));
  coap_context_set_keepalive(ctx, 0);
  h_advance(ctx, 3600 * SEC);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(pt_timer_armed(&c->keepalive_timer), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(keepalive_enabled_later_covers_existing_sessions) {
  coap_context_t *ctx = context(0);
  coap_session_t *c = client(ctx);
  coap_session_t *s = h_server_session(40000);
  h_advance(ctx, 100 * SEC);
  CHECK_INT_EQ(h_nsent, 0);
  coap_context_set_keepalive(ctx, 10);
  /* The server session last heard from its peer 100 s ago: due now. The
   * client session has no recorded traffic: idle from now on. */
  h_advance(ctx, 0);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK(is_ping(0));
  CHECK(h_sent_log[0].session == s);
  answer(s, COAP_MESSAGE_RST, sent_mid(0));
  h_advance(ctx, 10 * SEC - 1);
  CHECK_INT_EQ(h_nsent, 1);
  h_advance(ctx, 1); /* both idle for 10 s now */
  CHECK_INT_EQ(h_nsent, 3);
  CHECK(is_ping(1) && is_ping(2));
  CHECK(h_sent_log[1].session == c || h_sent_log[2].session == c);
  coap_session_release(c);
  h_free(ctx);
}

TEST(keepalive_caps_con_backoff_at_interval) {
  coap_context_t *ctx = context(1);
  coap_session_t *c = client(ctx);
  coap_pdu_t *req = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_send(c, req);
  CHECK_INT_EQ(h_nsent, 1);
  /* Without the cap: 2-3 s, then 4-6, 8-12, 16-24 s. With it: every 1 s,
   * and still MAX_RETRANSMIT retransmissions; no ping while the CON is in
   * flight. */
  for (int i = 1; i <= 4; i++) {
    h_advance(ctx, SEC);
    CHECK_INT_EQ(h_nsent, 1 + i);
    CHECK(!is_ping(i));
  }
  CHECK_INT_EQ(nacks, 0);
  h_advance(ctx, SEC);
  CHECK_INT_EQ(nacks, 1);
  CHECK_INT_EQ(last_nack, COAP_NACK_TOO_MANY_RETRIES);
  CHECK_INT_EQ(ka_failures, 0); /* not a keepalive */
  coap_session_release(c);
  h_free(ctx);
}

/* ---- server sessions ------------------------------------------------------
 */

TEST(keepalive_server_session_pings_idle_peer) {
  coap_context_t *ctx = context(30);
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 7, 1, "hello"));
  CHECK_INT_EQ(h_nsent, 1); /* the piggybacked answer */
  h_advance(ctx, 30 * SEC - 1);
  CHECK_INT_EQ(h_nsent, 1);
  h_advance(ctx, 1);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK(is_ping(1));
  CHECK(h_sent_log[1].session == s);
  answer(s, COAP_MESSAGE_RST, sent_mid(1));
  CHECK_INT_EQ(pongs, 1);
  CHECK_UINT_EQ(ctx->exchange_count, 0);
  h_free(ctx);
}

TEST(keepalive_server_session_failure_then_idle_timeout) {
  coap_context_t *ctx = context(30);
  coap_context_set_session_timeout(ctx, 120);
  coap_session_t *s = h_server_session(40000);
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 7, 1, "hello"));
  int base = h_nsent;
  ADVANCE_UNTIL(ctx, ka_failures, 200);
  CHECK_INT_EQ(ka_failures, 1);
  CHECK_INT_EQ(h_nsent, base + 5); /* ping + 4 retransmissions */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 1);
  /* No more pings to a peer that has gone: the idle timeout frees it
   * 120 s after it was last heard from. */
  ADVANCE_UNTIL(ctx, sessions_deleted, 200);
  CHECK_INT_EQ(sessions_deleted, 1);
  CHECK_INT_EQ(h_nsent, base + 5);
  CHECK_INT_EQ(ka_failures, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  h_free(ctx);
}

TEST(keepalive_server_session_resumes_when_peer_returns) {
  coap_context_t *ctx = context(30);
  coap_session_t *s = h_server_session(40000);
  ADVANCE_UNTIL(ctx, ka_failures, 200);
  CHECK_INT_EQ(ka_failures, 1);
  int base = h_nsent;
  h_advance(ctx, 60 * SEC);
  CHECK_INT_EQ(h_nsent, base);
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 8, 2, "hello"));
  base = h_nsent;
  h_advance(ctx, 30 * SEC);
  CHECK_INT_EQ(h_nsent, base + 1);
  CHECK(is_ping(base));
  h_free(ctx);
}

/* The recency list moves a session at most once a PT_SESSION_LRU_GRAIN;
 * resuming the keepalive of a returning peer must not wait for that. */
TEST(keepalive_resumes_on_a_message_within_a_recency_grain) {
  coap_context_t *ctx = context(30);
  coap_session_t *s = h_server_session(40000);
  ADVANCE_UNTIL(ctx, ka_failures, 200);
  CHECK_INT_EQ(ka_failures, 1);
  h_advance(ctx, 60 * SEC);
  s->lru_moved = h_now; /* as if a message had just moved it */
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 8, 2, "hello"));
  CHECK_INT_EQ(s->ka_failed, 0);
  int base = h_nsent;
  h_advance(ctx, 30 * SEC);
  CHECK_INT_EQ(h_nsent, base + 1);
  CHECK(is_ping(base));
  h_free(ctx);
}

int main(void) {
  RUN(keepalive_is_off_by_default);
  RUN(keepalive_ping_after_interval_not_before);
  RUN(keepalive_ping_is_empty_con_with_fresh_mid);
  RUN(keepalive_received_activity_postpones_ping);
  RUN(keepalive_sent_activity_postpones_ping);
  RUN(keepalive_answered_ping_keeps_session);
  RUN(keepalive_unanswered_ping_fails_once);
  RUN(keepalive_unreachable_peer_fails);
  RUN(keepalive_release_with_ping_outstanding_raises_nothing);
  RUN(keepalive_disabling_stops_pings);
  RUN(keepalive_enabled_later_covers_existing_sessions);
  RUN(keepalive_caps_con_backoff_at_interval);
  RUN(keepalive_server_session_pings_idle_peer);
  RUN(keepalive_server_session_failure_then_idle_timeout);
  RUN(keepalive_server_session_resumes_when_peer_returns);
  RUN(keepalive_resumes_on_a_message_within_a_recency_grain);
  return TEST_SUMMARY();
}
