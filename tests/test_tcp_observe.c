/*
 * test_tcp_observe.c -- Observe over TCP (RFC 8323 section 7), on the
 * bytes of one connection (tests/tcp_harness.h): notifications carry no
 * message type to acknowledge and still carry the Observe value (7.1,
 * 7.2), nothing is kept for retransmission, a GET with Observe: 1 or the
 * connection closing removes the observer (7.4), and a client takes
 * every notification whatever its Observe value (7.1).
 */
#include "test.h"

#include "tcp_harness.h"

#include "exchange.h"

/* A GET /obs with @token and Observe @obs (-1: none). */
static coap_pdu_t *get_obs(uint8_t token, int obs) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0, 0);
  coap_add_token(p, 1, &token);
  if (obs >= 0) {
    uint8_t v = (uint8_t)obs;
    coap_add_option(p, COAP_OPTION_OBSERVE, obs ? 1 : 0, &v);
  }
  coap_add_option(p, COAP_OPTION_URI_PATH, 3, (const uint8_t *)"obs");
  return p;
}

/* The Observe value of @p, or -1 when it has none. */
static int64_t observe_of(const coap_pdu_t *p) {
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(p, COAP_OPTION_OBSERVE, &it);
  return o ? (int64_t)coap_decode_var_bytes(coap_opt_value(o),
                                            coap_opt_length(o))
           : -1;
}

static size_t observers(coap_context_t *ctx) {
  coap_petrel_stats_t st;
  coap_petrel_context_get_stats(ctx, &st);
  return st.observers;
}

TEST(notifications_go_without_type_and_with_rising_observe_values) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, 41001);
  feed_csm(s, 1152, 0);
  feed(s, get_obs(0x21, 0));
  coap_pdu_t *first = NULL;
  CHECK_INT_EQ(last_code(peer, &first), COAP_RESPONSE_CODE_CONTENT);
  int64_t v0 = observe_of(first);
  CHECK(v0 >= 0);
  coap_delete_pdu(first);
  CHECK_UINT_EQ(observers(ctx), 1);
  size_t exchanges = ctx->exchange_count;
  int64_t prev = v0;
  for (int i = 0; i < 3; i++) {
    coap_resource_notify_observers(obs_resource, NULL);
    advance(ctx, SEC);
    coap_pdu_t *n = NULL;
    CHECK_INT_EQ(last_code(peer, &n), COAP_RESPONSE_CODE_CONTENT);
    coap_bin_const_t tok = coap_pdu_get_token(n);
    CHECK_MEM_EQ(tok.s, tok.length, "\x21", 1);
    CHECK(observe_of(n) > prev); /* 7.1: the value is still sent */
    prev = observe_of(n);
    coap_delete_pdu(n);
  }
  /* 7.2: nothing is kept to be acknowledged or retransmitted. */
  CHECK_UINT_EQ(ctx->exchange_count, exchanges);
  advance(ctx, 200 * SEC);
  CHECK_INT_EQ(last_code(peer, NULL), 0);
  CHECK_UINT_EQ(observers(ctx), 1);
  /* 7.4: a connection that times out (the idle timeout, 300 s with
   * nothing from the peer) loses its observers; it is released. */
  advance(ctx, 200 * SEC);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_RELEASE);
  CHECK_UINT_EQ(observers(ctx), 0);
  close(peer);
  done(ctx);
}

TEST(get_with_observe_1_removes_the_observer) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, 41002);
  feed_csm(s, 1152, 0);
  feed(s, get_obs(0x22, 0));
  CHECK_UINT_EQ(observers(ctx), 1);
  feed(s, get_obs(0x22, 1));
  CHECK_UINT_EQ(observers(ctx), 0);
  coap_pdu_t *resp = NULL;
  CHECK_INT_EQ(last_code(peer, &resp), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(observe_of(resp), -1); /* a plain answer now */
  coap_delete_pdu(resp);
  coap_resource_notify_observers(obs_resource, NULL);
  advance(ctx, SEC);
  CHECK_INT_EQ(last_code(peer, NULL), 0);
  close(peer);
  done(ctx);
}

TEST(connection_closing_removes_its_observers) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, 41003);
  feed_csm(s, 1152, 0);
  feed(s, get_obs(0x23, 0));
  feed(s, get_obs(0x24, 0));
  CHECK_UINT_EQ(observers(ctx), 2);
  pt_tcp_close(s); /* what the peer closing (end of stream) does */
  CHECK_UINT_EQ(observers(ctx), 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  close(peer);
  done(ctx);
}

TEST(connection_released_by_the_peer_removes_its_observers) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, 41004);
  feed_csm(s, 1152, 0);
  feed(s, get_obs(0x25, 0));
  coap_pdu_t *rel = sig(0);
  pt_signal_build_release(rel, NULL, 0);
  CHECK_INT_EQ(feed(s, rel), -1);
  CHECK_UINT_EQ(observers(ctx), 0);
  close(peer);
  done(ctx);
}

/* 7.1: the client ignores the Observe value: an older or empty one is
 * still delivered, in the order the connection brought it. */
TEST(client_takes_every_notification_whatever_its_observe_value) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  feed_csm(s, 1152, 0);
  coap_pdu_t *req = get_obs(0x31, 0);
  CHECK(coap_send(s, req) != COAP_INVALID_MID);
  static const uint32_t values[] = {100, 50, 0, 7};
  for (int i = 0; i < 4; i++) {
    coap_pdu_t *n =
        coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, 0, 0);
    coap_add_token(n, 1, (const uint8_t *)"\x31");
    uint8_t buf[4];
    coap_add_option(n, COAP_OPTION_OBSERVE,
                    coap_encode_var_safe(buf, sizeof(buf), values[i]), buf);
    feed(s, n);
    CHECK_INT_EQ(responses, i + 1);
    CHECK_INT_EQ(last_observe, values[i]);
  }
  coap_session_release(s); /* cancels the observation on the way out */
  coap_pdu_t *cancel = NULL;
  int code = 0;
  coap_pdu_t *msgs[16];
  int n = drain(peer, msgs, 16);
  for (int i = 0; i < n; i++) {
    if (coap_pdu_get_code(msgs[i]) == COAP_REQUEST_CODE_GET &&
        observe_of(msgs[i]) == 1)
      cancel = msgs[i];
    code = coap_pdu_get_code(msgs[i]);
  }
  CHECK_NOT_NULL(cancel); /* 7.4: deregistered explicitly */
  CHECK_INT_EQ(code, COAP_SIGNALING_CODE_RELEASE);
  free_all(msgs, n);
  close(peer);
  done(ctx);
}

int main(void) {
  RUN(notifications_go_without_type_and_with_rising_observe_values);
  RUN(get_with_observe_1_removes_the_observer);
  RUN(connection_closing_removes_its_observers);
  RUN(connection_released_by_the_peer_removes_its_observers);
  RUN(client_takes_every_notification_whatever_its_observe_value);
  return TEST_SUMMARY();
}
