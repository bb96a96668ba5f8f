/*
 * test_observe.c -- Observe (RFC 7641) through the sans-I/O core with a
 * fake clock: registration, notifications and their types, sequence
 * numbers, deregistration in every way the RFC names, limits, separate
 * responses, Block2, and the client side.
 */
#include <stdio.h>

#include "test.h"

#include "core_harness.h"
#include "exchange.h"
#include "observe.h"
#include "resource.h"

/* ---- the server under test --------------------------------------------- */

static int get_calls;
static int state;        /* what GET answers: "v=<state>" */
static int answer_error; /* GET answers 4.04 instead */
static int use_async;    /* GET answers through an async */
static size_t large;     /* GET answers this many bytes (Block2) */
static char last_query[64];
static size_t last_query_len;
static size_t last_payload_len;
static uint8_t large_body[4000];

static void hnd_get(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  get_calls++;
  last_query_len = q ? q->length : 0;
  snprintf(last_query, sizeof(last_query), "%.*s", q ? (int)q->length : 0,
           q ? (const char *)q->s : "");
  const uint8_t *d;
  if (!coap_get_data(req, &last_payload_len, &d))
    last_payload_len = 0;
  if (use_async && !coap_find_async(s, coap_pdu_get_token(req))) {
    coap_register_async(s, req, COAP_TICKS_PER_SECOND);
    return;
  }
  if (answer_error) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_FOUND);
    return;
  }
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  if (large) {
    coap_add_data_large_response(r, s, req, resp, q, 0, -1, 0, large,
                                 large_body, NULL, NULL);
    return;
  }
  char buf[16];
  int n = snprintf(buf, sizeof(buf), "v=%d", state);
  coap_add_data(resp, (size_t)n, (const uint8_t *)buf);
}

static coap_resource_t *obs_res, *other_res;

static coap_context_t *server(int flags) {
  coap_context_t *ctx = h_context();
  get_calls = state = answer_error = use_async = 0;
  large = 0;
  for (size_t i = 0; i < sizeof(large_body); i++)
    large_body[i] = (uint8_t)('a' + i % 26);
  obs_res = coap_resource_init(coap_make_str_const("obs"), flags);
  coap_register_handler(obs_res, COAP_REQUEST_GET, hnd_get);
  coap_register_handler(obs_res, COAP_REQUEST_FETCH, hnd_get);
  coap_resource_set_get_observable(obs_res, 1);
  coap_add_resource(ctx, obs_res);
  other_res = coap_resource_init(coap_make_str_const("other"), 0);
  coap_register_handler(other_res, COAP_REQUEST_GET, hnd_get);
  coap_resource_set_get_observable(other_res, 1);
  coap_add_resource(ctx, other_res);
  return ctx;
}

/* A GET (or @code) for /@path with token @tok and, unless @obs < 0,
 * Observe: @obs. */
static coap_pdu_t *obs_request(coap_pdu_type_t type, coap_pdu_code_t code,
                               coap_mid_t mid, uint8_t tok, const char *path,
                               int obs) {
  coap_pdu_t *p = h_request(type, code, mid, tok, path);
  if (obs >= 0) {
    uint8_t buf[4];
    unsigned len = coap_encode_var_safe(buf, sizeof(buf), (unsigned)obs);
    coap_add_option(p, COAP_OPTION_OBSERVE, len, buf);
  }
  return p;
}

static void reg(coap_session_t *s, coap_mid_t mid, uint8_t tok) {
  h_feed(s, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, mid, tok,
                        "obs", 0));
}

/* Observe value of datagram @i, or -1 when it has none. */
static long observe_of(int i) {
  coap_pdu_t *p = h_parse(i);
  coap_opt_iterator_t it;
  coap_opt_t *o = p ? coap_check_option(p, COAP_OPTION_OBSERVE, &it) : NULL;
  long v =
      o ? (long)coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o))
        : -1;
  coap_delete_pdu(p);
  return v;
}

static int type_of(int i) {
  return (h_sent_log[i].data[0] >> 4) & 3;
}

static int code_of(int i) {
  return h_sent_log[i].data[1];
}

static coap_mid_t mid_of(int i) {
  return (coap_mid_t)(h_sent_log[i].data[2] << 8 | h_sent_log[i].data[3]);
}

static uint8_t token_of(int i) {
  return h_sent_log[i].data[4];
}

static int payload_is(int i, const char *text) {
  coap_pdu_t *p = h_parse(i);
  size_t len = 0;
  const uint8_t *d = NULL;
  int ok = p && coap_get_data(p, &len, &d) && len == strlen(text) &&
           memcmp(d, text, len) == 0;
  coap_delete_pdu(p);
  return ok;
}

static void send_empty(coap_session_t *s, int type, coap_mid_t mid) {
  uint8_t m[4] = {(uint8_t)(0x40 | type << 4), 0, (uint8_t)(mid >> 8),
                  (uint8_t)mid};
  h_feed_raw(s, m, 4);
}

/* notify, then let the loop run the round */
static void change(coap_context_t *ctx, coap_resource_t *r) {
  state++;
  coap_resource_notify_observers(r, NULL);
  h_advance(ctx, 0);
}

/* ---- registration -----------------------------------------------------------
 */

TEST(get_with_observe_0_registers_and_answer_carries_observe) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 0x100, 'a');
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(type_of(0), COAP_MESSAGE_ACK);
  CHECK_INT_EQ(code_of(0), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(observe_of(0), 0);
  CHECK(payload_is(0, "v=0"));
  CHECK_UINT_EQ(ctx->obs.count, 1);
  CHECK_UINT_EQ(obs_res->obs.count, 1);
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(type_of(1), COAP_MESSAGE_NON);
  CHECK_INT_EQ(code_of(1), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(token_of(1), 'a');
  CHECK_INT_EQ(observe_of(1), 1);
  CHECK(payload_is(1, "v=1"));
  h_free(ctx);
}

TEST(not_observable_resource_answers_without_observe) {
  coap_context_t *ctx = server(0);
  coap_resource_set_get_observable(obs_res, 0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 0x100, 'a');
  CHECK_INT_EQ(code_of(0), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(observe_of(0), -1);
  CHECK_UINT_EQ(ctx->obs.count, 0);
  CHECK_INT_EQ(coap_resource_notify_observers(obs_res, NULL), 0);
  h_free(ctx);
}

TEST(error_answer_to_registration_does_not_register) {
  coap_context_t *ctx = server(0);
  answer_error = 1;
  coap_session_t *s = h_server_session(40001);
  reg(s, 0x100, 'a');
  CHECK_INT_EQ(code_of(0), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(observe_of(0), -1);
  CHECK_UINT_EQ(ctx->obs.count, 0);
  h_free(ctx);
}

TEST(observe_on_post_or_with_value_2_or_too_long_is_a_plain_request) {
  coap_context_t *ctx = server(0);
  coap_register_handler(obs_res, COAP_REQUEST_POST, hnd_get);
  coap_session_t *s = h_server_session(40001);
  h_feed(s, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, 1, 'a', "obs",
                        0));
  h_feed(s, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 'b', "obs",
                        2));
  /* RFC 7252 5.4.3: a 4-byte Observe is unrecognized (elective: ignored). */
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 3, 'c', "obs");
  coap_add_option(p, COAP_OPTION_OBSERVE, 4, (const uint8_t *)"\0\0\0\0");
  h_feed(s, p);
  CHECK_INT_EQ(h_nsent, 3);
  for (int i = 0; i < 3; i++) {
    CHECK_INT_EQ(code_of(i), COAP_RESPONSE_CODE_CONTENT);
    CHECK_INT_EQ(observe_of(i), -1);
  }
  CHECK_UINT_EQ(ctx->obs.count, 0);
  h_free(ctx);
}

TEST(same_token_registers_once_and_new_token_adds) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  reg(s, 2, 'a'); /* RFC 7641 4.1: replaces, not adds */
  CHECK_UINT_EQ(obs_res->obs.count, 1);
  reg(s, 3, 'b');
  CHECK_UINT_EQ(obs_res->obs.count, 2);
  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK(token_of(0) != token_of(1));
  h_free(ctx);
}

TEST(notification_uses_the_registered_query_and_fetch_body) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  coap_pdu_t *p =
      obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 'a', "obs", 0);
  coap_add_option(p, COAP_OPTION_URI_QUERY, 3, (const uint8_t *)"x=1");
  coap_add_option(p, COAP_OPTION_URI_QUERY, 3, (const uint8_t *)"y=2");
  h_feed(s, p);
  last_query[0] = 0;
  change(ctx, obs_res);
  CHECK_STR_EQ(last_query, "x=1&y=2");
  /* one option, nothing to encode: its bytes, after a Uri-Path */
  p = obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 3, 'c', "other", 0);
  coap_add_option(p, COAP_OPTION_URI_QUERY, 6, (const uint8_t *)"only=1");
  h_feed(s, p);
  last_query[0] = 0;
  change(ctx, other_res);
  CHECK_STR_EQ(last_query, "only=1");
  CHECK_UINT_EQ(last_query_len, 6);
  get_calls -= 2; /* the counts below are of /obs */
  p = obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_FETCH, 2, 'f', "obs", 0);
  coap_add_data(p, 5, (const uint8_t *)"query");
  h_feed(s, p);
  CHECK_UINT_EQ(obs_res->obs.count, 2);
  last_payload_len = 0;
  h_nsent = 0;
  state++;
  coap_resource_notify_observers(obs_res, NULL);
  h_advance(ctx, 0);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(get_calls, 5);
  /* the FETCH observer is the newest, so notified first: its body came */
  int fetch_first = token_of(0) == 'f';
  CHECK(fetch_first);
  h_free(ctx);
}

/* A query too long for the stack buffer it is rebuilt in reaches the
 * handler whole, notification after notification, and one with a byte
 * that the dispatcher percent-encodes looks as it did at registration. */
TEST(notification_passes_a_long_or_encoded_query_as_the_registration_did) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  uint8_t v[200];
  memset(v, 'q', sizeof(v));
  coap_pdu_t *p =
      obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 'a', "obs", 0);
  coap_add_option(p, COAP_OPTION_URI_QUERY, sizeof(v), v);
  coap_add_option(p, COAP_OPTION_URI_QUERY, sizeof(v), v);
  h_feed(s, p);
  CHECK_UINT_EQ(last_query_len, 401);
  last_query_len = 0;
  change(ctx, obs_res);
  CHECK_UINT_EQ(last_query_len, 401);
  CHECK_INT_EQ(strncmp(last_query, "qqqq", 4), 0);
  change(ctx, obs_res);
  CHECK_UINT_EQ(last_query_len, 401);
  CHECK_UINT_EQ(obs_res->obs.count, 1);

  p = obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 'b', "other", 0);
  coap_add_option(p, COAP_OPTION_URI_QUERY, 4, (const uint8_t *)"a b\x01");
  h_feed(s, p);
  CHECK_UINT_EQ(other_res->obs.count, 1);
  char at_registration[64];
  snprintf(at_registration, sizeof(at_registration), "%s", last_query);
  CHECK(strcmp(at_registration, "a b\x01") != 0); /* encoded */
  last_query[0] = 0;
  change(ctx, other_res);
  CHECK_STR_EQ(last_query, at_registration);
  h_free(ctx);
}

/* ---- notifying ------------------------------------------------------------
 */

TEST(burst_of_notify_calls_sends_latest_state_once) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  int calls = get_calls;
  for (int i = 0; i < 10; i++) {
    state++;
    CHECK_INT_EQ(coap_resource_notify_observers(obs_res, NULL), 1);
  }
  CHECK_INT_EQ(h_nsent, 1); /* nothing before the loop runs */
  h_advance(ctx, 0);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(get_calls, calls + 1);
  CHECK(payload_is(1, "v=10"));
  CHECK_INT_EQ(observe_of(1), 1);
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

TEST(notify_reaches_only_that_resources_observers) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  h_feed(s, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 'b',
                        "other", 0));
  CHECK_UINT_EQ(other_res->obs.count, 1);
  h_nsent = 0;
  change(ctx, other_res);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(token_of(0), 'b');
  CHECK_INT_EQ(observe_of(0), 1);
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(token_of(1), 'a');
  CHECK_INT_EQ(observe_of(1), 1); /* each resource counts for itself */
  h_free(ctx);
}

TEST(notify_without_observers_returns_0_and_schedules_nothing) {
  coap_context_t *ctx = server(0);
  CHECK_INT_EQ(coap_resource_notify_observers(obs_res, NULL), 0);
  CHECK_INT_EQ(coap_resource_notify_observers(NULL, NULL), 0);
  CHECK(!pt_timer_armed(&ctx->obs.timer));
  h_free(ctx);
}

TEST(every_fifth_notification_is_con_the_rest_non) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  for (int round = 0; round < 10; round++) {
    change(ctx, obs_res);
    int i = h_nsent - 1;
    int want = (round % COAP_OBS_MAX_NON) == COAP_OBS_MAX_NON - 1
                   ? COAP_MESSAGE_CON
                   : COAP_MESSAGE_NON;
    CHECK_INT_EQ(type_of(i), want);
    if (want == COAP_MESSAGE_CON)
      send_empty(s, COAP_MESSAGE_ACK, mid_of(i));
  }
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  h_free(ctx);
}

TEST(con_at_least_every_24_hours) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON);
  coap_context_set_session_timeout(ctx, 100000); /* > 25 hours */
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  change(ctx, obs_res);
  CHECK_INT_EQ(type_of(h_nsent - 1), COAP_MESSAGE_NON);
  h_advance(ctx, 23 * 3600 * COAP_TICKS_PER_SECOND);
  change(ctx, obs_res);
  CHECK_INT_EQ(type_of(h_nsent - 1), COAP_MESSAGE_NON);
  h_advance(ctx, 3600 * COAP_TICKS_PER_SECOND);
  change(ctx, obs_res); /* 24 h since the registration */
  CHECK_INT_EQ(type_of(h_nsent - 1), COAP_MESSAGE_CON);
  send_empty(s, COAP_MESSAGE_ACK, mid_of(h_nsent - 1));
  change(ctx, obs_res);
  CHECK_INT_EQ(type_of(h_nsent - 1), COAP_MESSAGE_NON);
  h_free(ctx);
}

TEST(non_always_never_sends_con_and_notify_con_always_does) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_context_set_session_timeout(ctx, 100000);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  for (int i = 0; i < 12; i++) {
    change(ctx, obs_res);
    CHECK_INT_EQ(type_of(h_nsent - 1), COAP_MESSAGE_NON);
  }
  h_advance(ctx, 25 * 3600 * COAP_TICKS_PER_SECOND);
  change(ctx, obs_res);
  CHECK_INT_EQ(type_of(h_nsent - 1), COAP_MESSAGE_NON);
  coap_resource_set_mode(obs_res, COAP_RESOURCE_FLAGS_NOTIFY_CON);
  for (int i = 0; i < 3; i++) {
    change(ctx, obs_res);
    CHECK_INT_EQ(type_of(h_nsent - 1), COAP_MESSAGE_CON);
    send_empty(s, COAP_MESSAGE_ACK, mid_of(h_nsent - 1));
  }
  h_free(ctx);
}

TEST(observe_values_increase_and_wrap_at_24_bits) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_persist_set_observe_num(obs_res, 0xFFFFFE);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  CHECK_INT_EQ(observe_of(0), 0xFFFFFE);
  change(ctx, obs_res);
  CHECK_INT_EQ(observe_of(1), 0xFFFFFF);
  change(ctx, obs_res);
  CHECK_INT_EQ(observe_of(2), 0);
  change(ctx, obs_res);
  CHECK_INT_EQ(observe_of(3), 1);
  h_free(ctx);
}

TEST(new_notification_replaces_con_in_flight) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_CON);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  change(ctx, obs_res);
  coap_mid_t first = mid_of(1);
  CHECK_INT_EQ(type_of(1), COAP_MESSAGE_CON);
  change(ctx, obs_res); /* before the ACK */
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_INT_EQ(type_of(2), COAP_MESSAGE_CON);
  CHECK(mid_of(2) != first);
  CHECK(payload_is(2, "v=2"));
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 1);
  /* the old one is not retransmitted any more; the new one is */
  send_empty(s, COAP_MESSAGE_ACK, first);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 1);
  h_advance(ctx, 4 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 4);
  CHECK_INT_EQ(mid_of(3), mid_of(2));
  CHECK(payload_is(3, "v=2"));
  send_empty(s, COAP_MESSAGE_ACK, mid_of(2));
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  CHECK_UINT_EQ(ctx->obs.count, 1);
  h_free(ctx);
}

/* A peer that never answers is given up on MAX_RETRANSMIT after the first
 * CON, however often the resource changes meanwhile: a slow observer
 * never holds more than one CON. */
TEST(silent_observer_is_dropped_even_while_resource_keeps_changing) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_CON);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  int seconds = 0;
  while (ctx->obs.count && seconds < 400) {
    change(ctx, obs_res);
    CHECK(pt_hashmap_size(&ctx->exchanges_mid) <= 1);
    h_advance(ctx, COAP_TICKS_PER_SECOND);
    seconds++;
  }
  CHECK_UINT_EQ(ctx->obs.count, 0);
  /* MAX_TRANSMIT_WAIT is 93 s with the default parameters */
  CHECK(seconds <= 94);
  CHECK(seconds >= 45);
  h_free(ctx);
}

/* ---- deregistration --------------------------------------------------------
 */

TEST(get_with_observe_1_deregisters) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  h_feed(s, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 'a', "obs",
                        1));
  CHECK_INT_EQ(code_of(1), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(observe_of(1), -1);
  CHECK_UINT_EQ(ctx->obs.count, 0);
  CHECK_INT_EQ(coap_resource_notify_observers(obs_res, NULL), 0);
  h_advance(ctx, 0);
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

TEST(rst_to_non_notification_deregisters) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  reg(s, 2, 'b');
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 4);
  int i = token_of(2) == 'a' ? 2 : 3;
  send_empty(s, COAP_MESSAGE_RST, mid_of(i));
  CHECK_UINT_EQ(ctx->obs.count, 1);
  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(token_of(0), 'b');
  send_empty(s, COAP_MESSAGE_RST, 0x7777); /* matches nothing */
  CHECK_UINT_EQ(ctx->obs.count, 1);
  h_free(ctx);
}

TEST(rst_to_con_notification_deregisters) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_CON);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  change(ctx, obs_res);
  send_empty(s, COAP_MESSAGE_RST, mid_of(1));
  CHECK_UINT_EQ(ctx->obs.count, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  h_free(ctx);
}

TEST(error_notification_goes_without_observe_and_deregisters) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  answer_error = 1;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(code_of(1), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(observe_of(1), -1);
  CHECK_INT_EQ(token_of(1), 'a');
  CHECK_UINT_EQ(ctx->obs.count, 0);
  h_free(ctx);
}

TEST(deleting_resource_sends_final_4_04) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  reg(s, 2, 'b');
  coap_resource_notify_observers(obs_res, NULL); /* dirty, then deleted */
  CHECK_INT_EQ(coap_delete_resource(ctx, obs_res), 1);
  CHECK_INT_EQ(h_nsent, 4);
  CHECK_INT_EQ(code_of(2), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(code_of(3), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(observe_of(2), -1);
  CHECK(token_of(2) != token_of(3));
  CHECK_UINT_EQ(ctx->obs.count, 0);
  h_advance(ctx, 0); /* the round finds nothing to do */
  CHECK_INT_EQ(h_nsent, 4);
  h_free(ctx);
}

static void hnd_get_deletes(coap_resource_t *r, coap_session_t *s,
                            const coap_pdu_t *req, const coap_string_t *q,
                            coap_pdu_t *resp) {
  hnd_get(r, s, req, q, resp);
  if (state > 0)
    coap_delete_resource(r->context, r);
}

TEST(handler_deleting_its_resource_during_notification_is_safe) {
  coap_context_t *ctx = server(0);
  coap_register_handler(obs_res, COAP_REQUEST_GET, hnd_get_deletes);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  reg(s, 2, 'b');
  change(ctx, obs_res);
  /* both notified, then the resource went with a 4.04 to each */
  CHECK_INT_EQ(h_nsent, 6);
  CHECK_INT_EQ(code_of(4), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(code_of(5), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_UINT_EQ(ctx->obs.count, 0);
  CHECK_NULL(coap_get_resource_from_uri_path(ctx, coap_make_str_const("obs")));
  h_free(ctx);
}

TEST(idle_session_timing_out_removes_its_observers) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  coap_session_t *s2 = h_server_session(40002);
  reg(s2, 1, 'a');
  CHECK_UINT_EQ(ctx->obs.count, 2);
  for (int i = 0; i < 40; i++) { /* s2 stays active, s does not */
    h_advance(ctx, 10 * COAP_TICKS_PER_SECOND);
    h_feed(s2, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                         (coap_mid_t)(100 + i), 'z', "other"));
  }
  CHECK_UINT_EQ(ctx->obs.count, 1);
  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK(h_sent_log[0].session == s2);
  h_free(ctx);
}

TEST(freeing_context_sends_final_4_04_unless_persistence_stopped) {
  coap_context_t *ctx = server(0);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  coap_free_context(ctx);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(code_of(1), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(type_of(1), COAP_MESSAGE_NON);
  pt_clock_set_fake(NULL);

  ctx = server(0);
  s = h_server_session(40001);
  reg(s, 1, 'a');
  coap_persist_stop(ctx);
  h_free(ctx);
  CHECK_INT_EQ(h_nsent, 1);
}

/* ---- limits ----------------------------------------------------------------
 */

TEST(limit_per_resource_answers_without_observe) {
  coap_context_t *ctx = server(0);
  coap_petrel_context_set_max_observers_per_resource(ctx, 2);
  CHECK_UINT_EQ(coap_petrel_context_get_max_observers_per_resource(ctx), 2);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  reg(s, 2, 'b');
  reg(s, 3, 'c');
  CHECK_INT_EQ(code_of(2), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(observe_of(2), -1);
  CHECK_UINT_EQ(obs_res->obs.count, 2);
  reg(s, 4, 'a'); /* a re-registration is not a new observer */
  CHECK(observe_of(3) >= 0);
  /* another resource still takes observers */
  h_feed(s, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 5, 'd',
                        "other", 0));
  CHECK(observe_of(4) >= 0);
  coap_petrel_stats_t st;
  coap_petrel_context_get_stats(ctx, &st);
  CHECK_UINT_EQ(st.observers, 3);
  CHECK_UINT_EQ(st.observers_refused, 1);
  h_free(ctx);
}

TEST(limit_per_context_answers_without_observe) {
  coap_context_t *ctx = server(0);
  CHECK_UINT_EQ(coap_petrel_context_get_max_observers_total(ctx),
                PT_DEFAULT_MAX_OBSERVERS_TOTAL);
  coap_petrel_context_set_max_observers_total(ctx, 3);
  coap_session_t *s = h_server_session(40001);
  for (int i = 0; i < 5; i++)
    reg(s, (coap_mid_t)(i + 1), (uint8_t)('a' + i));
  CHECK_UINT_EQ(ctx->obs.count, 3);
  CHECK_INT_EQ(observe_of(3), -1);
  CHECK_INT_EQ(observe_of(4), -1);
  h_feed(s, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 9, 'a', "obs",
                        1));
  reg(s, 10, 'z'); /* room again */
  CHECK(observe_of(h_nsent - 1) >= 0);
  CHECK_UINT_EQ(ctx->obs.count, 3);
  h_free(ctx);
}

/* ---- separate responses and Block2 ----------------------------------------
 */

TEST(registration_answered_by_async_is_established_by_separate_response) {
  coap_context_t *ctx = server(0);
  use_async = 1;
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(code_of(0), 0); /* Empty ACK */
  CHECK_UINT_EQ(ctx->obs.count, 0);
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(type_of(1), COAP_MESSAGE_CON);
  CHECK_INT_EQ(code_of(1), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(observe_of(1), 0);
  CHECK_UINT_EQ(ctx->obs.count, 1);
  send_empty(s, COAP_MESSAGE_ACK, mid_of(1));
  use_async = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_INT_EQ(observe_of(2), 1);
  h_free(ctx);
}

TEST(large_notification_sends_block_0_with_etag_and_rest_is_fetched) {
  coap_context_t *ctx = server(0);
  coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP);
  large = 3000;
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  CHECK(observe_of(0) >= 0);
  change(ctx, obs_res);
  coap_pdu_t *n = h_parse(1);
  coap_opt_iterator_t it;
  coap_opt_t *b2 = coap_check_option(n, COAP_OPTION_BLOCK2, &it);
  CHECK_NOT_NULL(b2);
  unsigned v = coap_decode_var_bytes(coap_opt_value(b2), coap_opt_length(b2));
  CHECK_UINT_EQ(v >> 4, 0); /* block 0 */
  CHECK_UINT_EQ(v & 8, 8);  /* more */
  CHECK_NOT_NULL(coap_check_option(n, COAP_OPTION_ETAG, &it));
  CHECK_NOT_NULL(coap_check_option(n, COAP_OPTION_OBSERVE, &it));
  coap_delete_pdu(n);
  int calls = get_calls;
  /* RFC 7959 3.4: the rest with a plain GET, no Observe, a new token */
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 9, 'q', "obs");
  uint8_t blk = (uint8_t)(1 << 4 | (v & 7));
  coap_add_option(p, COAP_OPTION_BLOCK2, 1, &blk);
  h_feed(s, p);
  CHECK_INT_EQ(get_calls, calls); /* served from the held body */
  CHECK_INT_EQ(code_of(2), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(observe_of(2), -1);
  CHECK_UINT_EQ(ctx->obs.count, 1);
  h_free(ctx);
}

/* ---- notifications built in the reused PDU ------------------------------ */

/* Number of Observe options in datagram @i. */
static int observe_count(int i) {
  coap_pdu_t *p = h_parse(i);
  coap_opt_iterator_t it;
  int n = 0;
  if (p && coap_check_option(p, COAP_OPTION_OBSERVE, &it))
    for (n = 1; coap_option_next(&it);)
      n++;
  coap_delete_pdu(p);
  return n;
}

static void hnd_get_con(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  hnd_get(r, s, req, q, resp);
  if (state == 2) /* the second notification only */
    coap_pdu_set_type(resp, COAP_MESSAGE_CON);
}

/* NON notifications are built in a PDU the context reuses; one that the
 * handler turns into a CON is kept by its exchange (retransmitted as it
 * was, acknowledged), and the next NON is built afresh. */
TEST(handler_turning_non_notification_into_con_is_retransmitted) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_register_handler(obs_res, COAP_REQUEST_GET, hnd_get_con);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  change(ctx, obs_res);
  CHECK_INT_EQ(type_of(1), COAP_MESSAGE_NON);
  change(ctx, obs_res); /* state 2: the handler makes it a CON */
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_INT_EQ(type_of(2), COAP_MESSAGE_CON);
  CHECK(payload_is(2, "v=2"));
  CHECK_INT_EQ(observe_of(2), 2);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 1);
  h_advance(ctx, 4 * COAP_TICKS_PER_SECOND); /* past ACK_TIMEOUT * 1.5 */
  CHECK_INT_EQ(h_nsent, 4);
  CHECK_INT_EQ(mid_of(3), mid_of(2));
  CHECK(payload_is(3, "v=2"));
  CHECK_INT_EQ(observe_of(3), 2);
  send_empty(s, COAP_MESSAGE_ACK, mid_of(2));
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  change(ctx, obs_res);
  CHECK_INT_EQ(type_of(4), COAP_MESSAGE_NON);
  CHECK(payload_is(4, "v=3"));
  CHECK_INT_EQ(observe_of(4), 3);
  CHECK_INT_EQ(token_of(4), 'a');
  h_free(ctx);
}

static void hnd_get_adds_observe(coap_resource_t *r, coap_session_t *s,
                                 const coap_pdu_t *req, const coap_string_t *q,
                                 coap_pdu_t *resp) {
  uint8_t v = 77;
  coap_add_option(resp, COAP_OPTION_OBSERVE, 1, &v);
  hnd_get(r, s, req, q, resp);
}

/* A handler that adds an Observe option of its own does not make the
 * notification carry two: it carries one, with the resource's value. */
TEST(handler_adding_observe_still_sends_one_with_the_sequence_number) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  coap_register_handler(obs_res, COAP_REQUEST_GET, hnd_get_adds_observe);
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(observe_count(1), 1);
  CHECK_INT_EQ(observe_of(1), 1);
  change(ctx, obs_res);
  CHECK_INT_EQ(observe_count(2), 1);
  CHECK_INT_EQ(observe_of(2), 2);
  CHECK(payload_is(2, "v=2"));
  h_free(ctx);
}

/* Several observers in one round: each NON carries its own token and
 * message ID and the same Observe value and body, however the reused PDU
 * was left by the one before. */
TEST(non_notifications_to_many_observers_each_carry_their_own_token) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_session_t *s = h_server_session(40001);
  coap_session_t *s2 = h_server_session(40002);
  for (int i = 0; i < 4; i++)
    reg(i % 2 ? s2 : s, (coap_mid_t)(10 + i), (uint8_t)('a' + i));
  CHECK_INT_EQ(h_nsent, 4);
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 8);
  int seen = 0;
  for (int i = 4; i < 8; i++) {
    CHECK_INT_EQ(type_of(i), COAP_MESSAGE_NON);
    CHECK_INT_EQ(observe_of(i), 1);
    CHECK_INT_EQ(observe_count(i), 1);
    CHECK(payload_is(i, "v=1"));
    CHECK_INT_EQ(h_sent_log[i].data[0] & 0x0F, 1); /* TKL */
    seen |= 1 << (token_of(i) - 'a');
    for (int j = 4; j < i; j++)
      CHECK(mid_of(i) != mid_of(j) ||
            h_sent_log[i].session != h_sent_log[j].session);
  }
  CHECK_INT_EQ(seen, 15);
  /* all four were built in the context's one reused PDU, free again */
  CHECK_NOT_NULL(ctx->obs.scratch);
  CHECK_INT_EQ(ctx->obs.scratch_busy, 0);
  coap_pdu_t *scratch = ctx->obs.scratch;
  change(ctx, obs_res);
  CHECK(ctx->obs.scratch == scratch);
  CHECK_INT_EQ(ctx->obs.scratch_busy, 0);
  h_free(ctx);
}

/* Observers of one session that registered one after another are
 * notified in a row, whatever other sessions registered in between, so
 * that the send path can hand the kernel their datagrams together. */
TEST(a_sessions_observers_are_notified_in_a_row) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_session_t *s1 = h_server_session(40001);
  coap_session_t *s2 = h_server_session(40002);
  for (int i = 0; i < 6; i++)
    reg(i % 2 ? s2 : s1, (coap_mid_t)(10 + i), (uint8_t)('a' + i));
  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 6);
  int runs = 1;
  for (int i = 1; i < 6; i++)
    runs += h_sent_log[i].session != h_sent_log[i - 1].session;
  CHECK_INT_EQ(runs, 2);
  /* one of s1 goes, one comes: still in a row */
  h_feed(s1, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 30, 'c',
                         "obs", 1));
  reg(s2, 31, 'x');
  reg(s1, 32, 'y');
  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 7);
  runs = 1;
  for (int i = 1; i < 7; i++)
    runs += h_sent_log[i].session != h_sent_log[i - 1].session;
  CHECK_INT_EQ(runs, 2);
  h_free(ctx);
}

/* An RST is matched by (session, MID): 32 sessions with one observer each
 * (one bucket array of 16), and each session sends an RST with the MID of
 * every other session's notification. Any two keys share a bucket one
 * time in 16, so nearly every chain is walked with another session's
 * observer in it; none is removed. Then each its own: all are. */
TEST(rst_with_another_sessions_mid_removes_nothing) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_session_t *s[32];
  for (int i = 0; i < 32; i++) {
    s[i] = h_server_session((uint16_t)(42000 + i));
    reg(s[i], (coap_mid_t)(100 + i), 'k');
  }
  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 32);
  CHECK_UINT_EQ(ctx->obs.by_mid.bits, 4);
  coap_mid_t own[32];
  for (int i = 0; i < 32; i++)
    for (int j = 0; j < 32; j++)
      if (h_sent_log[j].session == s[i])
        own[i] = mid_of(j);
  for (int i = 0; i < 32; i++)
    for (int j = 0; j < 32; j++)
      if (own[j] != own[i])
        send_empty(s[i], COAP_MESSAGE_RST, own[j]);
  CHECK_UINT_EQ(ctx->obs.count, 32);
  for (int i = 0; i < 32; i++)
    send_empty(s[i], COAP_MESSAGE_RST, own[i]);
  CHECK_UINT_EQ(ctx->obs.count, 0);
  h_free(ctx);
}

/* Observe: 1 for token @tok of @s. */
static void dereg(coap_session_t *s, coap_mid_t mid, uint8_t tok) {
  h_feed(s, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, mid, tok,
                        "obs", 1));
}

/* 1 if a notification in the log to a session other than @s has @mid. */
static int mid_used_elsewhere(coap_session_t *s, coap_mid_t mid) {
  for (int i = 0; i < h_nsent && i < H_MAX_SENT; i++)
    if (h_sent_log[i].session != s && mid_of(i) == mid)
      return 1;
  return 0;
}

/* 100 observers, 10 sessions each using tokens 0 to 9: the indexes by
 * (session, token) and by (session, MID) grow past their first sizes, find
 * each observer by its own key only, and shrink when most have gone. */
TEST(many_observers_are_found_by_token_and_mid_as_the_indexes_grow_and_shrink) {
  coap_context_t *ctx = server(COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_session_t *s[10];
  for (int i = 0; i < 10; i++)
    s[i] = h_server_session((uint16_t)(41000 + i));
  for (int i = 0; i < 100; i++)
    reg(s[i % 10], (coap_mid_t)(100 + i), (uint8_t)(i / 10));
  CHECK_UINT_EQ(ctx->obs.count, 100);
  CHECK_UINT_EQ(ctx->obs.by_token.count, 100);
  CHECK_UINT_EQ(ctx->obs.by_token.bits, 6); /* 16, 32, then 64 buckets */
  for (int i = 0; i < 100; i++)
    CHECK_INT_EQ(observe_of(i), 0);
  /* a registration again with a known (session, token) replaces its own */
  reg(s[3], 300, 7);
  CHECK_UINT_EQ(ctx->obs.count, 100);

  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 100);
  CHECK_UINT_EQ(ctx->obs.by_mid.count, 100);
  /* An RST from another session with a MID of s[0] matches nothing. */
  int i0 = 0;
  while (h_sent_log[i0].session != s[0])
    i0++;
  if (!mid_used_elsewhere(s[1], mid_of(i0))) {
    send_empty(s[1], COAP_MESSAGE_RST, mid_of(i0));
    CHECK_UINT_EQ(ctx->obs.count, 100);
  }
  /* RST to every notification with an odd token */
  for (int i = 0; i < 100; i++)
    if (token_of(i) & 1)
      send_empty(h_sent_log[i].session, COAP_MESSAGE_RST, mid_of(i));
  CHECK_UINT_EQ(ctx->obs.count, 50);
  CHECK_UINT_EQ(ctx->obs.by_mid.count, 50);
  /* Observe: 1 for tokens 2, 4, 6, 8 of every session */
  for (int i = 0; i < 10; i++)
    for (uint8_t t = 2; t < 10; t += 2)
      dereg(s[i], (coap_mid_t)(400 + i * 10 + t), t);
  CHECK_UINT_EQ(ctx->obs.count, 10);
  CHECK_UINT_EQ(ctx->obs.by_token.count, 10);
  CHECK_UINT_EQ(ctx->obs.by_mid.count, 10);
  reg(s[4], 500, 'z'); /* the arrival after the departures shrinks it */
  CHECK_UINT_EQ(ctx->obs.by_token.bits, 5);

  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 11);
  int zeros = 0;
  for (int i = 0; i < h_nsent; i++) {
    zeros += token_of(i) == 0;
    CHECK(token_of(i) == 0 ||
          (token_of(i) == 'z' && h_sent_log[i].session == s[4]));
  }
  CHECK_INT_EQ(zeros, 10);
  for (int i = 0; i < h_nsent; i++)
    send_empty(h_sent_log[i].session, COAP_MESSAGE_RST, mid_of(i));
  CHECK_UINT_EQ(ctx->obs.count, 0);
  CHECK_UINT_EQ(ctx->obs.by_token.count, 0);
  CHECK_UINT_EQ(ctx->obs.by_mid.count, 0);
  h_free(ctx);
}

/* ---- client
 * ------------------------------------------------------------------ */

/* Max-Age of the notifications below, in seconds (-1: none, 60 s). */
static long notify_max_age = -1;

static int responses;
static int responses_with_sent;
static long last_obs;

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)s, (void)mid;
  responses++;
  responses_with_sent += sent != NULL;
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(recv, COAP_OPTION_OBSERVE, &it);
  last_obs =
      o ? (long)coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o))
        : -1;
  return COAP_RESPONSE_OK;
}

static coap_session_t *client(coap_context_t *ctx) {
  coap_address_t a = h_peer(5683);
  responses = responses_with_sent = 0;
  notify_max_age = -1;
  coap_register_response_handler(ctx, on_response);
  return coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
}

/* A notification for the client's observation (token 'o'). */
static coap_pdu_t *notification(coap_pdu_type_t type, coap_mid_t mid,
                                long obs) {
  coap_pdu_t *p = coap_pdu_init(type, COAP_RESPONSE_CODE_CONTENT, mid, 256);
  coap_add_token(p, 1, (const uint8_t *)"o");
  uint8_t buf[4];
  if (obs >= 0) {
    unsigned len = coap_encode_var_safe(buf, sizeof(buf), (unsigned)obs);
    coap_add_option(p, COAP_OPTION_OBSERVE, len, buf);
  }
  if (notify_max_age >= 0) {
    unsigned len =
        coap_encode_var_safe(buf, sizeof(buf), (unsigned)notify_max_age);
    coap_add_option(p, COAP_OPTION_MAXAGE, len, buf);
  }
  coap_add_data(p, 1, (const uint8_t *)"x");
  return p;
}

/* Registers token 'o' and answers it with a piggybacked 2.05, Observe
 * @first. */
static coap_mid_t client_observe(coap_session_t *c, long first) {
  coap_pdu_t *p = obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1000,
                              'o', "obs", 0);
  coap_mid_t mid = coap_send(c, p);
  h_feed(c, notification(COAP_MESSAGE_ACK, mid, first));
  return mid;
}

TEST(client_observation_keeps_token_and_delivers_each_notification_once) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  client_observe(c, 5);
  CHECK_INT_EQ(responses, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 1);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2000, 6));
  CHECK_INT_EQ(responses, 2);
  CHECK_INT_EQ(responses_with_sent, 2);
  CHECK_INT_EQ(last_obs, 6);
  int sent = h_nsent;
  h_feed(c, notification(COAP_MESSAGE_CON, 0x2001, 7));
  CHECK_INT_EQ(responses, 3);
  CHECK_INT_EQ(h_nsent, sent + 1);                      /* ACKed */
  h_feed(c, notification(COAP_MESSAGE_CON, 0x2001, 7)); /* duplicate */
  CHECK_INT_EQ(responses, 3);
  CHECK_INT_EQ(h_nsent, sent + 2); /* ACKed again */
  CHECK_INT_EQ(type_of(sent + 1), COAP_MESSAGE_ACK);
  /* hours later the observation is still there, while fresh */
  notify_max_age = 4 * 3600;
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2002, 8));
  sent = h_nsent;
  h_advance(ctx, 3 * 3600 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, sent); /* no re-registration */
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2003, 9));
  CHECK_INT_EQ(responses, 5);
  CHECK_INT_EQ(responses_with_sent, 5);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_drops_stale_notifications_by_rfc7641_3_4) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  notify_max_age = 3600; /* fresh throughout */
  client_observe(c, 100);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2000, 99)); /* older */
  CHECK_INT_EQ(responses, 1);
  int sent = h_nsent;
  h_feed(c, notification(COAP_MESSAGE_CON, 0x2001, 100)); /* same value */
  CHECK_INT_EQ(responses, 1);
  CHECK_INT_EQ(h_nsent, sent + 1); /* a stale CON is still acknowledged */
  CHECK_INT_EQ(type_of(sent), COAP_MESSAGE_ACK);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2002, 101));
  CHECK_INT_EQ(responses, 2);
  /* a jump of 2^23 or more backwards-looking is older ... */
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2003, 101 + (1 << 23)));
  CHECK_INT_EQ(responses, 2);
  /* ... and so is a value far ahead: it lies behind, wrapped */
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2004, 0xFFFFF0));
  CHECK_INT_EQ(responses, 2);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2005, 102));
  CHECK_INT_EQ(responses, 3);
  /* more than 128 s later any value is fresh */
  h_advance(ctx, 128 * COAP_TICKS_PER_SECOND);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2006, 50));
  CHECK_INT_EQ(responses, 3);
  h_advance(ctx, 1);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2007, 50));
  CHECK_INT_EQ(responses, 4);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_wrapped_value_is_newer) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  client_observe(c, 0xFFFFFE);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2000, 3));
  CHECK_INT_EQ(responses, 2);
  CHECK_INT_EQ(last_obs, 3);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_response_without_observe_ends_observation) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  client_observe(c, -1);
  CHECK_INT_EQ(responses, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  /* a later notification is offered with no request, and ACKed if OK */
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2000, 6));
  CHECK_INT_EQ(responses, 2);
  CHECK_INT_EQ(responses_with_sent, 1);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_cancel_observe_sends_get_with_observe_1_same_token) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  client_observe(c, 1);
  coap_binary_t tok = {1, (uint8_t *)"o"};
  coap_binary_t other = {1, (uint8_t *)"q"};
  CHECK_INT_EQ(coap_cancel_observe(c, &other, COAP_MESSAGE_CON), 0);
  int sent = h_nsent;
  CHECK_INT_EQ(coap_cancel_observe(c, &tok, COAP_MESSAGE_NON), 1);
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK_INT_EQ(type_of(sent), COAP_MESSAGE_NON);
  CHECK_INT_EQ(code_of(sent), COAP_REQUEST_CODE_GET);
  CHECK_INT_EQ(token_of(sent), 'o');
  CHECK_INT_EQ(observe_of(sent), 1);
  coap_pdu_t *p = h_parse(sent);
  coap_opt_iterator_t it;
  CHECK_NOT_NULL(coap_check_option(p, COAP_OPTION_URI_PATH, &it));
  coap_delete_pdu(p);
  CHECK_INT_EQ(coap_cancel_observe(c, &tok, COAP_MESSAGE_NON), 0);
  /* the answer to the cancellation ends it */
  coap_pdu_t *r =
      coap_pdu_init(COAP_MESSAGE_NON, COAP_RESPONSE_CODE_CONTENT, 0x3000, 64);
  coap_add_token(r, 1, (const uint8_t *)"o");
  h_feed(c, r);
  CHECK_INT_EQ(responses, 2);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_freeing_context_cancels_unless_told_not_to) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  client_observe(c, 1);
  int sent = h_nsent;
  coap_session_release(c);
  h_free(ctx);
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK_INT_EQ(observe_of(sent), 1);
  CHECK_INT_EQ(token_of(sent), 'o');

  ctx = server(0);
  c = client(ctx);
  client_observe(c, 1);
  coap_session_set_no_observe_cancel(c);
  sent = h_nsent;
  coap_session_release(c);
  h_free(ctx);
  CHECK_INT_EQ(h_nsent, sent);
}

/* ---- client: Max-Age expiry (RFC 7641 3.3.1) ------------------------------
 */

static int nacks;
static coap_nack_reason_t last_nack;
static int nack_token;

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)mid;
  nacks++;
  last_nack = reason;
  coap_bin_const_t t = sent ? coap_pdu_get_token(sent) : (coap_bin_const_t){0};
  nack_token = t.length ? t.s[0] : -1;
}

/* 1 if datagram @i re-registers token 'o' on /obs: a GET with Observe: 0. */
static int is_reregistration(int i) {
  coap_pdu_t *p = h_parse(i);
  coap_opt_iterator_t it;
  int ok = p && coap_pdu_get_code(p) == COAP_REQUEST_CODE_GET &&
           token_of(i) == 'o' && observe_of(i) == 0 &&
           coap_check_option(p, COAP_OPTION_URI_PATH, &it);
  coap_delete_pdu(p);
  return ok;
}

TEST(client_reregisters_when_max_age_passes_without_notification) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  notify_max_age = 10;
  coap_mid_t first = client_observe(c, 7);
  int sent = h_nsent;
  /* ACK_TIMEOUT x [1, 1.5] of grace after the 10 s */
  h_advance(ctx, 12 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(h_nsent, sent);
  h_advance(ctx, 1 * COAP_TICKS_PER_SECOND + 1);
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK(is_reregistration(sent));
  CHECK_INT_EQ(type_of(sent), COAP_MESSAGE_CON); /* as the original */
  CHECK(mid_of(sent) != first);
  /* The answer is taken whatever its Observe value: the server may have
   * restarted. */
  h_feed(c, notification(COAP_MESSAGE_ACK, mid_of(sent), 2));
  CHECK_INT_EQ(responses, 2);
  CHECK_INT_EQ(responses_with_sent, 2);
  CHECK_INT_EQ(last_obs, 2);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2000, 3));
  CHECK_INT_EQ(responses, 3);
  CHECK_INT_EQ(responses_with_sent, 3);
  /* and the next expiry counts from the latest notification */
  sent = h_nsent;
  h_advance(ctx, 12 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(h_nsent, sent);
  h_advance(ctx, 1 * COAP_TICKS_PER_SECOND + 1);
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK(is_reregistration(sent));
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_notifications_within_max_age_keep_it_quiet) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  notify_max_age = 10;
  client_observe(c, 1);
  int sent = h_nsent;
  for (int i = 0; i < 20; i++) {
    h_advance(ctx, 9 * COAP_TICKS_PER_SECOND);
    h_feed(c, notification(COAP_MESSAGE_NON, (coap_mid_t)(0x2000 + i), 2 + i));
  }
  CHECK_INT_EQ(h_nsent, sent);
  CHECK_INT_EQ(responses, 21);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_default_max_age_is_60_seconds) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  client_observe(c, 1); /* no Max-Age */
  int sent = h_nsent;
  h_advance(ctx, 62 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(h_nsent, sent);
  h_advance(ctx, 1 * COAP_TICKS_PER_SECOND + 1);
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK(is_reregistration(sent));
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_max_age_expiry_unanswered_is_reported_to_nack_handler) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  nacks = 0;
  coap_register_nack_handler(ctx, on_nack);
  notify_max_age = 5;
  client_observe(c, 1);
  int sent = h_nsent;
  /* the re-registration and its 4 retransmissions, then the give-up */
  for (int i = 0; i < 300; i++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, sent + 5);
  for (int i = sent; i < h_nsent; i++)
    CHECK(is_reregistration(i));
  CHECK_INT_EQ(nacks, 1);
  CHECK_INT_EQ(last_nack, COAP_NACK_TOO_MANY_RETRIES);
  CHECK_INT_EQ(nack_token, 'o');
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  /* the observation is over: a late notification has no request */
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2000, 9));
  CHECK_INT_EQ(responses, 2);
  CHECK_INT_EQ(responses_with_sent, 1);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_non_registration_reregisters_as_non) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  nacks = 0;
  coap_register_nack_handler(ctx, on_nack);
  notify_max_age = 5;
  coap_mid_t mid =
      coap_send(c, obs_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 0x1000,
                               'o', "obs", 0));
  CHECK(mid != COAP_INVALID_MID);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2000, 1));
  int sent = h_nsent;
  h_advance(ctx, 8 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK(is_reregistration(sent));
  CHECK_INT_EQ(type_of(sent), COAP_MESSAGE_NON);
  /* unanswered: given up after EXCHANGE_LIFETIME, and reported */
  h_advance(ctx, 248 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK_INT_EQ(nacks, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  coap_session_release(c);
  h_free(ctx);
}

/* ---- client: freeing the session (coap_observe(3)) -----------------------
 */

TEST(client_session_release_cancels_observation_and_frees_it) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  client_observe(c, 1);
  int sent = h_nsent;
  coap_session_release(c); /* the application's last reference */
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK_INT_EQ(type_of(sent), COAP_MESSAGE_NON);
  CHECK_INT_EQ(code_of(sent), COAP_REQUEST_CODE_GET);
  CHECK_INT_EQ(token_of(sent), 'o');
  CHECK_INT_EQ(observe_of(sent), 1);
  CHECK_NULL(ctx->clients); /* freed now, not at context teardown */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
  CHECK_UINT_EQ(ctx->exchange_count, 0);
  h_advance(ctx, 600 * COAP_TICKS_PER_SECOND); /* no timer left behind */
  CHECK_INT_EQ(h_nsent, sent + 1);
  h_free(ctx);
  CHECK_INT_EQ(h_nsent, sent + 1);
}

TEST(client_session_release_with_no_observe_cancel_sends_nothing) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  client_observe(c, 1);
  coap_session_set_no_observe_cancel(c);
  int sent = h_nsent;
  coap_session_release(c);
  CHECK_INT_EQ(h_nsent, sent);
  CHECK_NULL(ctx->clients);
  CHECK_UINT_EQ(ctx->exchange_count, 0);
  h_free(ctx);
}

TEST(client_session_held_by_application_keeps_observation) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  coap_session_reference(c); /* a second holder */
  client_observe(c, 1);
  int sent = h_nsent;
  coap_session_release(c);
  CHECK_INT_EQ(h_nsent, sent);
  CHECK(ctx->clients == c);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x2000, 2));
  CHECK_INT_EQ(responses_with_sent, 2);
  coap_session_release(c);
  CHECK_INT_EQ(h_nsent, sent + 1); /* the cancellation */
  CHECK_NULL(ctx->clients);
  h_free(ctx);
}

TEST(client_session_released_before_first_answer_cancels_after_it) {
  coap_context_t *ctx = server(0);
  coap_session_t *c = client(ctx);
  coap_mid_t mid =
      coap_send(c, obs_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1000,
                               'o', "obs", 0));
  coap_session_release(c); /* the request in flight holds the session */
  CHECK(ctx->clients == c);
  int sent = h_nsent;
  h_feed(c, notification(COAP_MESSAGE_ACK, mid, 1));
  CHECK_INT_EQ(responses, 1);
  /* the answer made it an observation nobody holds: cancelled, freed */
  CHECK_INT_EQ(h_nsent, sent + 1);
  CHECK_INT_EQ(observe_of(sent), 1);
  CHECK_NULL(ctx->clients);
  h_free(ctx);
}

int main(void) {
  RUN(get_with_observe_0_registers_and_answer_carries_observe);
  RUN(handler_turning_non_notification_into_con_is_retransmitted);
  RUN(handler_adding_observe_still_sends_one_with_the_sequence_number);
  RUN(non_notifications_to_many_observers_each_carry_their_own_token);
  RUN(a_sessions_observers_are_notified_in_a_row);
  RUN(rst_with_another_sessions_mid_removes_nothing);
  RUN(many_observers_are_found_by_token_and_mid_as_the_indexes_grow_and_shrink);
  RUN(not_observable_resource_answers_without_observe);
  RUN(error_answer_to_registration_does_not_register);
  RUN(observe_on_post_or_with_value_2_or_too_long_is_a_plain_request);
  RUN(same_token_registers_once_and_new_token_adds);
  RUN(notification_uses_the_registered_query_and_fetch_body);
  RUN(notification_passes_a_long_or_encoded_query_as_the_registration_did);
  RUN(burst_of_notify_calls_sends_latest_state_once);
  RUN(notify_reaches_only_that_resources_observers);
  RUN(notify_without_observers_returns_0_and_schedules_nothing);
  RUN(every_fifth_notification_is_con_the_rest_non);
  RUN(con_at_least_every_24_hours);
  RUN(non_always_never_sends_con_and_notify_con_always_does);
  RUN(observe_values_increase_and_wrap_at_24_bits);
  RUN(new_notification_replaces_con_in_flight);
  RUN(silent_observer_is_dropped_even_while_resource_keeps_changing);
  RUN(get_with_observe_1_deregisters);
  RUN(rst_to_non_notification_deregisters);
  RUN(rst_to_con_notification_deregisters);
  RUN(error_notification_goes_without_observe_and_deregisters);
  RUN(deleting_resource_sends_final_4_04);
  RUN(handler_deleting_its_resource_during_notification_is_safe);
  RUN(idle_session_timing_out_removes_its_observers);
  RUN(freeing_context_sends_final_4_04_unless_persistence_stopped);
  RUN(limit_per_resource_answers_without_observe);
  RUN(limit_per_context_answers_without_observe);
  RUN(registration_answered_by_async_is_established_by_separate_response);
  RUN(large_notification_sends_block_0_with_etag_and_rest_is_fetched);
  RUN(client_observation_keeps_token_and_delivers_each_notification_once);
  RUN(client_drops_stale_notifications_by_rfc7641_3_4);
  RUN(client_wrapped_value_is_newer);
  RUN(client_response_without_observe_ends_observation);
  RUN(client_cancel_observe_sends_get_with_observe_1_same_token);
  RUN(client_freeing_context_cancels_unless_told_not_to);
  RUN(client_reregisters_when_max_age_passes_without_notification);
  RUN(client_notifications_within_max_age_keep_it_quiet);
  RUN(client_default_max_age_is_60_seconds);
  RUN(client_max_age_expiry_unanswered_is_reported_to_nack_handler);
  RUN(client_non_registration_reregisters_as_non);
  RUN(client_session_release_cancels_observation_and_frees_it);
  RUN(client_session_release_with_no_observe_cancel_sends_nothing);
  RUN(client_session_held_by_application_keeps_observation);
  RUN(client_session_released_before_first_answer_cancels_after_it);
  return TEST_SUMMARY();
}
