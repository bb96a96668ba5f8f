/*
 * test_timing.c -- RFC 7252 4.2 retransmission timing, measured on the fake
 * clock for the three kinds of CON Petrel sends: a client request, a
 * server's separate response and a CON notification (RFC 7641 4.5).
 *
 * The clock moves one tick (1 ms) at a time and the instant of every
 * datagram is recorded, so each rule is checked against the instants
 * themselves, with the expected values computed here from the RFC's
 * formulas and the session's parameters, not taken from the code:
 *  - the first timeout lies in [ACK_TIMEOUT, ACK_TIMEOUT x
 *    ACK_RANDOM_FACTOR] (both ends reached by fixing the random source);
 *  - each later interval is exactly twice the one before;
 *  - there are exactly MAX_RETRANSMIT retransmissions, each the same bytes;
 *  - the NACK (COAP_NACK_TOO_MANY_RETRIES) comes exactly when the last
 *    timeout (twice the last interval) runs out, and nothing is sent after.
 * Each with the default parameters and with others set on the session.
 */
#include "test.h"

#include "core_harness.h"

#include "../examples/seed_handler.h"

#define TICK ((coap_tick_t)1)
#define MAX_SENDS 40

static int nack_calls;
static coap_nack_reason_t last_nack;
static coap_tick_t nack_at;
static int state;

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  nack_calls++;
  last_nack = reason;
  nack_at = h_now;
}

static void hnd_obs(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  char buf[16];
  int n = snprintf(buf, sizeof(buf), "v=%d", state);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, (size_t)n, (const uint8_t *)buf);
}

static coap_resource_t *obs_res;

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("async"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
  coap_add_resource(ctx, r);
  obs_res = coap_resource_init(coap_make_str_const("obs"),
                               COAP_RESOURCE_FLAGS_NOTIFY_CON);
  coap_register_handler(obs_res, COAP_REQUEST_GET, hnd_obs);
  coap_resource_set_get_observable(obs_res, 1);
  coap_add_resource(ctx, obs_res);
  coap_register_nack_handler(ctx, on_nack);
  coap_context_set_session_timeout(ctx, 100000); /* never idle here */
  nack_calls = 0;
  nack_at = 0;
  state = 0;
  return ctx;
}

/* ---- the transmission parameters --------------------------------------- */

typedef struct params {
  unsigned ack_ms;   /* ACK_TIMEOUT in ms */
  unsigned rf_milli; /* ACK_RANDOM_FACTOR x 1000 */
  unsigned max_retransmit;
  int set; /* set them on the session (else the defaults) */
} params;

static const params defaults = {2000, 1500, 4, 0};

/* Non-default ones: a fractional timeout and factor, more and fewer
 * retransmissions, and a factor of exactly 1 (no randomness at all). */
static const params others[] = {
    {1250, 1250, 6, 1},
    {3000, 2000, 2, 1},
    {500, 1000, 5, 1},
    {700, 1500, 0, 1},
};

static void apply(coap_session_t *s, const params *p) {
  if (!p->set)
    return;
  coap_fixed_point_t at = {p->ack_ms / 1000, p->ack_ms % 1000};
  coap_fixed_point_t rf = {p->rf_milli / 1000, p->rf_milli % 1000};
  coap_session_set_ack_timeout(s, at);
  coap_session_set_ack_random_factor(s, rf);
  coap_session_set_max_retransmit(s, (uint16_t)p->max_retransmit);
}

/* ---- the random source --------------------------------------------------- */

/* -1: the library's own; 0: every draw is 0 (factor 1); 1: every draw is
 * the largest value below the bound asked (factor ACK_RANDOM_FACTOR). */
static int fixed_draw = -1;
static uint64_t fixed_bound;

static int fixed_rng(void *out, size_t len) {
  uint64_t v = fixed_draw == 1 ? fixed_bound - 1 : 0;
  memset(out, 0, len);
  memcpy(out, &v, len < sizeof(v) ? len : sizeof(v));
  return 1;
}

/* The random source gives the extreme of the initial timeout for @p
 * (the code draws below rf - 1000 + 1 in thousandths, and a draw below
 * the bound is what any uniform draw may give). */
static void set_extreme(const params *p, int which) {
  fixed_draw = which;
  fixed_bound = p->rf_milli - 1000 + 1;
  coap_set_prng(which < 0 ? NULL : fixed_rng);
}

/* ---- measuring -------------------------------------------------------------
 */

typedef struct trace {
  coap_tick_t at[MAX_SENDS]; /* instants of the watched datagram */
  int n;
  int other; /* datagrams with other bytes */
} trace;

/* From now on, moves the clock one tick at a time until @limit ticks have
 * passed, recording when the datagram of log index @first (its bytes) is
 * sent again. @first was sent at the current instant. */
static void watch(coap_context_t *ctx, int first, coap_tick_t limit, trace *t) {
  memset(t, 0, sizeof(*t));
  t->at[t->n++] = h_now;
  int seen = first + 1;
  coap_tick_t end = h_now + limit;
  while (h_now < end) {
    h_advance(ctx, TICK);
    for (; seen < h_nsent; seen++) {
      if (seen < H_MAX_SENT &&
          !test_mem_differs_(h_sent_log[seen].data, h_sent_log[seen].len,
                             h_sent_log[first].data, h_sent_log[first].len) &&
          t->n < MAX_SENDS)
        t->at[t->n++] = h_now;
      else
        t->other++;
    }
  }
}

/* The span in ticks from the first send to the NACK: initial timeout x
 * (2^(MAX_RETRANSMIT+1) - 1). */
static coap_tick_t give_up_after(const params *p) {
  return (coap_tick_t)p->ack_ms * p->rf_milli / 1000u *
             (((coap_tick_t)2 << p->max_retransmit) - 1) +
         10 * COAP_TICKS_PER_SECOND;
}

/* Checks @t against the RFC's rules for @p. @extreme: 0 the first timeout
 * must be exactly ACK_TIMEOUT, 1 exactly ACK_TIMEOUT x ACK_RANDOM_FACTOR,
 * -1 anywhere between. A failure is printed and sets test_failed_. */
static void check_trace(const trace *t, const params *p, int extreme) {
  {
    CHECK_INT_EQ(t->other, 0);
    CHECK_INT_EQ(t->n, 1 + (int)p->max_retransmit);
    CHECK_INT_EQ(nack_calls, 1);
    CHECK_INT_EQ(last_nack, COAP_NACK_TOO_MANY_RETRIES);
    coap_tick_t lo = (coap_tick_t)p->ack_ms * COAP_TICKS_PER_SECOND / 1000u;
    coap_tick_t hi = (coap_tick_t)p->ack_ms * p->rf_milli / 1000u *
                     COAP_TICKS_PER_SECOND / 1000u;
    coap_tick_t first = (p->max_retransmit ? t->at[1] : nack_at) - t->at[0];
    if (extreme == 0)
      CHECK_UINT_EQ(first, lo);
    else if (extreme == 1)
      CHECK_UINT_EQ(first, hi);
    CHECK(first >= lo);
    CHECK(first <= hi);
    for (int k = 2; k < t->n; k++)
      CHECK_UINT_EQ(t->at[k] - t->at[k - 1], 2 * (t->at[k - 1] - t->at[k - 2]));
    /* the last timeout: twice the last interval (or the first timeout
     * when nothing was retransmitted), then the NACK, to the tick */
    coap_tick_t last =
        t->n >= 2 ? 2 * (t->at[t->n - 1] - t->at[t->n - 2]) : first;
    CHECK_UINT_EQ(nack_at - t->at[t->n - 1], last);
    CHECK_UINT_EQ(nack_at - t->at[0],
                  first * ((((coap_tick_t)2) << p->max_retransmit) - 1));
  }
}

/* ---- the three kinds of CON ---------------------------------------------- */

/* A client CON GET; returns the log index of its first send. */
static int start_client_con(coap_context_t *ctx, const params *p,
                            coap_session_t **out) {
  coap_address_t a = h_peer(5683);
  coap_session_t *c = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  apply(c, p);
  coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_add_token(pdu, 1, (const uint8_t *)"t");
  coap_add_option(pdu, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"hello");
  int first = h_nsent;
  if (coap_send(c, pdu) == COAP_INVALID_MID)
    return -1;
  *out = c;
  return first;
}

/* GET /async?1 (CON): Empty ACK, then the separate CON response one
 * second later; returns the log index of that response. */
static int start_separate_response(coap_context_t *ctx, const params *p) {
  coap_session_t *s = h_server_session(40000);
  apply(s, p);
  coap_pdu_t *req =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1000, 0x22, "async");
  coap_add_option(req, COAP_OPTION_URI_QUERY, 1, (const uint8_t *)"1");
  h_feed(s, req);
  if (h_nsent != 1 || h_sent_log[0].len != 4) /* the Empty ACK */
    return -1;
  while (h_nsent == 1 && h_now < 1002 * COAP_TICKS_PER_SECOND)
    h_advance(ctx, TICK);
  if (h_nsent != 2 || (h_sent_log[1].data[0] >> 4 & 3) != COAP_MESSAGE_CON)
    return -1;
  return 1;
}

/* An observer of /obs (acknowledged registration), then a change: a CON
 * notification; returns its log index. */
static int start_con_notification(coap_context_t *ctx, const params *p) {
  coap_session_t *s = h_server_session(40001);
  apply(s, p);
  coap_pdu_t *req =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x2000, 0x33, "obs");
  uint8_t zero = 0;
  coap_add_option(req, COAP_OPTION_OBSERVE, 0, &zero);
  h_feed(s, req);
  if (h_nsent != 1)
    return -1;
  state++;
  coap_resource_notify_observers(obs_res, NULL);
  h_advance(ctx, 0);
  if (h_nsent != 2 || (h_sent_log[1].data[0] >> 4 & 3) != COAP_MESSAGE_CON)
    return -1;
  return 1;
}

enum kind { CLIENT_CON, SEPARATE, NOTIFICATION };

/* One run of @kind with @p and the random source at @extreme; 1 if every
 * rule held. */
static int run_one(enum kind kind, const params *p, int extreme) {
  set_extreme(p, extreme);
  coap_context_t *ctx = server();
  coap_session_t *client = NULL;
  int first = kind == CLIENT_CON ? start_client_con(ctx, p, &client)
              : kind == SEPARATE ? start_separate_response(ctx, p)
                                 : start_con_notification(ctx, p);
  int ok = 0;
  if (first < 0) {
    fprintf(stderr, "kind %d: the CON was not sent\n", (int)kind);
  } else {
    trace t;
    watch(ctx, first, give_up_after(p), &t);
    test_failed_ = 0;
    check_trace(&t, p, extreme);
    ok = !test_failed_;
    if (!ok)
      fprintf(stderr,
              "kind %d, ACK_TIMEOUT %u ms, factor %u/1000, "
              "MAX_RETRANSMIT %u, extreme %d\n",
              (int)kind, p->ack_ms, p->rf_milli, p->max_retransmit, extreme);
    if (ok && kind == NOTIFICATION && ctx->obs.count != 0) {
      fprintf(stderr, "the observer outlived its failed notification\n");
      ok = 0;
    }
    coap_petrel_stats_t st;
    coap_petrel_context_get_stats(ctx, &st);
    if (ok && st.exchanges != 0) {
      fprintf(stderr, "%zu exchanges left after the NACK\n", st.exchanges);
      ok = 0;
    }
  }
  if (client)
    coap_session_release(client);
  h_free(ctx);
  set_extreme(p, -1);
  return ok;
}

/* Both extremes of the random factor, then a few library draws. */
static int run_kind(enum kind kind, const params *p) {
  if (!run_one(kind, p, 0) || !run_one(kind, p, 1))
    return 0;
  for (int i = 0; i < 3; i++)
    if (!run_one(kind, p, -1))
      return 0;
  return 1;
}

static int run_others(enum kind kind) {
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
    if (!run_kind(kind, &others[i]))
      return 0;
  return 1;
}

TEST(client_con_timing_default_parameters) {
  CHECK(run_kind(CLIENT_CON, &defaults));
}

TEST(client_con_timing_session_parameters) {
  CHECK(run_others(CLIENT_CON));
}

TEST(separate_response_timing_default_parameters) {
  CHECK(run_kind(SEPARATE, &defaults));
}

TEST(separate_response_timing_session_parameters) {
  CHECK(run_others(SEPARATE));
}

TEST(con_notification_timing_default_parameters) {
  CHECK(run_kind(NOTIFICATION, &defaults));
}

TEST(con_notification_timing_session_parameters) {
  CHECK(run_others(NOTIFICATION));
}

/* The defaults themselves are the RFC's (4.8), read back from a session. */
TEST(session_defaults_are_rfc_7252_4_8) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  coap_fixed_point_t at = coap_session_get_ack_timeout(s);
  coap_fixed_point_t rf = coap_session_get_ack_random_factor(s);
  CHECK_INT_EQ(at.integer_part * 1000 + at.fractional_part, 2000);
  CHECK_INT_EQ(rf.integer_part * 1000 + rf.fractional_part, 1500);
  CHECK_INT_EQ(coap_session_get_max_retransmit(s), 4);
  CHECK_INT_EQ(coap_session_get_nstart(s), 1);
  h_free(ctx);
}

/* An ACK after some retransmissions stops them at once, and the exchange
 * is gone: nothing is sent later and no NACK comes. */
TEST(ack_after_two_retransmissions_stops_at_once) {
  coap_context_t *ctx = server();
  coap_session_t *c = NULL;
  int first = start_client_con(ctx, &defaults, &c);
  CHECK_INT_EQ(first, 0);
  while (h_nsent < 3 && h_now < 1100 * COAP_TICKS_PER_SECOND)
    h_advance(ctx, TICK);
  CHECK_INT_EQ(h_nsent, 3);
  coap_mid_t mid =
      (coap_mid_t)(h_sent_log[0].data[2] << 8 | h_sent_log[0].data[3]);
  const uint8_t ack[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
  h_feed_raw(c, ack, 4);
  coap_petrel_stats_t st;
  coap_petrel_context_get_stats(ctx, &st);
  CHECK_UINT_EQ(st.exchanges, 1); /* the response is still awaited */
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  h_advance(ctx, 200 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 3);
  coap_session_release(c);
  h_free(ctx);
}

/* A client's observation outlives EXCHANGE_LIFETIME (RFC 7641 3.3: it
 * lasts until cancelled): once its first response has come, no give-up
 * timer ends it, and a notification minutes later still matches it. */
static int matched_responses;

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *rcvd, coap_mid_t mid) {
  (void)s, (void)rcvd, (void)mid;
  matched_responses += sent != NULL;
  return COAP_RESPONSE_OK;
}

static coap_pdu_t *notification(coap_pdu_type_t type, coap_mid_t mid,
                                unsigned seq) {
  coap_pdu_t *p = coap_pdu_init(type, COAP_RESPONSE_CODE_CONTENT, mid, 64);
  uint8_t buf[4];
  coap_add_token(p, 1, (const uint8_t *)"o");
  coap_add_option(p, COAP_OPTION_OBSERVE,
                  coap_encode_var_safe(buf, sizeof(buf), seq), buf);
  /* fresh for a day: the client has no reason to re-register (RFC 7641
   * 3.3.1) while these tests run the clock for minutes */
  coap_add_option(p, COAP_OPTION_MAXAGE,
                  coap_encode_var_safe(buf, sizeof(buf), 86400), buf);
  coap_add_data(p, 1, (const uint8_t *)"x");
  return p;
}

TEST(client_observation_outlives_exchange_lifetime) {
  coap_context_t *ctx = server();
  coap_register_response_handler(ctx, on_response);
  matched_responses = 0;
  coap_address_t a = h_peer(5683);
  coap_session_t *c = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_add_token(p, 1, (const uint8_t *)"o");
  coap_add_option(p, COAP_OPTION_URI_PATH, 3, (const uint8_t *)"obs");
  uint8_t zero = 0;
  coap_add_option(p, COAP_OPTION_OBSERVE, 0, &zero);
  coap_mid_t mid = coap_send(c, p);
  CHECK(mid != COAP_INVALID_MID);
  h_feed(c, notification(COAP_MESSAGE_ACK, mid, 5));
  CHECK_INT_EQ(matched_responses, 1);
  for (int sec = 0; sec < 600; sec++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(nack_calls, 0);
  coap_petrel_stats_t st;
  coap_petrel_context_get_stats(ctx, &st);
  CHECK_UINT_EQ(st.exchanges, 1);
  h_feed(c, notification(COAP_MESSAGE_NON, 0x5555, 6));
  CHECK_INT_EQ(matched_responses, 2);
  coap_session_release(c);
  h_free(ctx);
}

/* RFC 7252 5.2.2: a separate response that arrives before the Empty ACK
 * acknowledges the request too: an observe registration (kept after its
 * response) is not retransmitted any more and frees its NSTART slot. */
TEST(separate_response_before_the_ack_stops_retransmission) {
  coap_context_t *ctx = server();
  coap_register_response_handler(ctx, on_response);
  matched_responses = 0;
  coap_address_t a = h_peer(5683);
  coap_session_t *c = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_add_token(p, 1, (const uint8_t *)"o");
  coap_add_option(p, COAP_OPTION_URI_PATH, 3, (const uint8_t *)"obs");
  uint8_t zero = 0;
  coap_add_option(p, COAP_OPTION_OBSERVE, 0, &zero);
  CHECK(coap_send(c, p) != COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 1);
  h_feed(c, notification(COAP_MESSAGE_CON, 0x4444, 5));
  CHECK_INT_EQ(matched_responses, 1);
  CHECK_INT_EQ(h_nsent, 2); /* our Empty ACK of it */
  for (int sec = 0; sec < 120; sec++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2); /* the registration was not sent again */
  CHECK_INT_EQ(nack_calls, 0);
  /* and it holds no NSTART slot: the next CON goes at once */
  p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_add_token(p, 1, (const uint8_t *)"n");
  CHECK(coap_send(c, p) != COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 3);
  coap_session_release(c);
  h_free(ctx);
}

/* RFC 7641 4.5.2: a newer notification replaces one still queued behind
 * NSTART (a separate CON response is in flight to the same peer); the
 * queued one goes with the newer one's message ID, and its ACK ends it. */
TEST(notification_replaced_while_queued_goes_with_its_new_mid) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40001);
  coap_pdu_t *req =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x2000, 0x33, "obs");
  uint8_t zero = 0;
  coap_add_option(req, COAP_OPTION_OBSERVE, 0, &zero);
  h_feed(s, req);
  req =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x2001, 0x34, "async");
  coap_add_option(req, COAP_OPTION_URI_QUERY, 1, (const uint8_t *)"1");
  h_feed(s, req);
  for (int i = 0; i < 1000; i++) /* the separate response goes: a CON */
    h_advance(ctx, TICK);
  int sep = h_nsent - 1;
  CHECK_INT_EQ(h_sent_log[sep].data[0] >> 4 & 3, COAP_MESSAGE_CON);
  coap_mid_t sep_mid =
      (coap_mid_t)(h_sent_log[sep].data[2] << 8 | h_sent_log[sep].data[3]);
  state = 1;
  coap_resource_notify_observers(obs_res, NULL);
  h_advance(ctx, 0);
  state = 2;
  coap_resource_notify_observers(obs_res, NULL);
  h_advance(ctx, 0);
  CHECK_INT_EQ(h_nsent, sep + 1); /* both wait behind NSTART */
  const uint8_t ack[4] = {0x60, 0, (uint8_t)(sep_mid >> 8), (uint8_t)sep_mid};
  h_feed_raw(s, ack, 4);
  CHECK_INT_EQ(h_nsent, sep + 2); /* the notification goes now, once */
  coap_pdu_t *n = h_parse(sep + 1);
  CHECK_NOT_NULL(n);
  coap_mid_t mid = coap_pdu_get_mid(n);
  size_t len = 0;
  const uint8_t *d = NULL;
  int latest =
      coap_get_data(n, &len, &d) && len == 3 && memcmp(d, "v=2", 3) == 0;
  coap_delete_pdu(n);
  CHECK(latest);
  const uint8_t ack2[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
  h_feed_raw(s, ack2, 4);
  coap_petrel_stats_t st;
  coap_petrel_context_get_stats(ctx, &st);
  CHECK_UINT_EQ(st.exchanges, 0);
  CHECK_UINT_EQ(ctx->obs.count, 1);
  h_free(ctx);
}

int main(void) {
  RUN(session_defaults_are_rfc_7252_4_8);
  RUN(client_con_timing_default_parameters);
  RUN(client_con_timing_session_parameters);
  RUN(separate_response_timing_default_parameters);
  RUN(separate_response_timing_session_parameters);
  RUN(con_notification_timing_default_parameters);
  RUN(con_notification_timing_session_parameters);
  RUN(ack_after_two_retransmissions_stops_at_once);
  RUN(client_observation_outlives_exchange_lifetime);
  RUN(separate_response_before_the_ack_stops_retransmission);
  RUN(notification_replaced_while_queued_goes_with_its_new_mid);
  return TEST_SUMMARY();
}
