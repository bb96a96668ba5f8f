/*
 * test_limits.c -- every limit of coap3/coap_petrel.h, set through the
 * API and driven through the sans-I/O core: what happens at the limit,
 * and that the peers within their limits are not affected.
 */
#include "test.h"

#include "core_harness.h"

#include "../examples/seed_handler.h"

static int hello_calls;
static int big_calls;

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  hello_calls++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

/* A 600-byte body: far more than a small request. */
static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  static uint8_t body[600];
  big_calls++;
  memset(body, 'x', sizeof(body));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, sizeof(body), body);
}

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("big"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_big);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("async"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
  coap_add_resource(ctx, r);
  hello_calls = big_calls = 0;
  return ctx;
}

static coap_petrel_stats_t stats(coap_context_t *ctx) {
  coap_petrel_stats_t st;
  memset(&st, 0xff, sizeof(st));
  if (!coap_petrel_context_get_stats(ctx, &st))
    memset(&st, 0xff, sizeof(st)); /* every count check then fails */
  return st;
}

/* GET /async?N (CON) with a one-byte token. */
static coap_pdu_t *async_get(coap_mid_t mid, uint8_t token, const char *q) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, mid, token, "async");
  coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(q), (const uint8_t *)q);
  return p;
}

/* The response code of datagram @i of the log. */
static int sent_code(int i) {
  coap_pdu_t *p = h_parse(i);
  int code = p ? (int)coap_pdu_get_code(p) : -1;
  coap_delete_pdu(p);
  return code;
}

/* ---- the API ---------------------------------------------------------------
 */

TEST(defaults_are_documented_values) {
  coap_context_t *ctx = server();
  CHECK_UINT_EQ(coap_petrel_context_get_max_sessions_per_endpoint(ctx), 10000);
  CHECK_UINT_EQ(coap_petrel_context_get_max_async_per_session(ctx), 1024);
  CHECK_UINT_EQ(coap_petrel_context_get_max_async_total(ctx), 32768);
  CHECK_UINT_EQ(coap_petrel_context_get_max_queued_cons(ctx), 1024);
  CHECK_UINT_EQ(coap_petrel_context_get_dedup_per_session(ctx), 256);
  CHECK_UINT_EQ(coap_petrel_context_get_dedup_total(ctx), 32768);
  CHECK_UINT_EQ(coap_petrel_context_get_amplification_factor(ctx), 3);
  coap_petrel_stats_t st = stats(ctx);
  CHECK_UINT_EQ(st.sessions, 0);
  CHECK_UINT_EQ(st.exchanges, 0);
  CHECK_UINT_EQ(st.dedup_entries, 0);
  CHECK_UINT_EQ(st.asyncs, 0);
  CHECK_UINT_EQ(st.sessions_refused, 0);
  h_free(ctx);
}

TEST(setters_round_trip_and_null_is_harmless) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_sessions_per_endpoint(ctx, 7);
  coap_petrel_context_set_max_async_per_session(ctx, 8);
  coap_petrel_context_set_max_async_total(ctx, 9);
  coap_petrel_context_set_max_queued_cons(ctx, 10);
  coap_petrel_context_set_dedup_per_session(ctx, 11);
  coap_petrel_context_set_dedup_total(ctx, 12);
  coap_petrel_context_set_amplification(ctx, 5, 100, 10);
  CHECK_UINT_EQ(coap_petrel_context_get_max_sessions_per_endpoint(ctx), 7);
  CHECK_UINT_EQ(coap_petrel_context_get_max_async_per_session(ctx), 8);
  CHECK_UINT_EQ(coap_petrel_context_get_max_async_total(ctx), 9);
  CHECK_UINT_EQ(coap_petrel_context_get_max_queued_cons(ctx), 10);
  CHECK_UINT_EQ(coap_petrel_context_get_dedup_per_session(ctx), 11);
  CHECK_UINT_EQ(coap_petrel_context_get_dedup_total(ctx), 12);
  CHECK_UINT_EQ(coap_petrel_context_get_amplification_factor(ctx), 5);
  coap_petrel_context_set_max_queued_cons(ctx, 0);
  CHECK_UINT_EQ(coap_petrel_context_get_max_queued_cons(ctx), 1);
  coap_petrel_context_set_max_sessions_per_endpoint(NULL, 1);
  CHECK_UINT_EQ(coap_petrel_context_get_max_sessions_per_endpoint(NULL), 0);
  CHECK_INT_EQ(coap_petrel_context_get_stats(NULL, NULL), 0);
  CHECK_INT_EQ(coap_petrel_context_get_stats(ctx, NULL), 0);
  h_free(ctx);
}

/* ---- sessions per endpoint
 * --------------------------------------------------- */

TEST(full_endpoint_evicts_least_recently_active_idle_session) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_sessions_per_endpoint(ctx, 2);
  coap_session_t *a = h_server_session(40001);
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  h_advance(ctx, 1); /* recency is known to the tick */
  coap_session_t *b = h_server_session(40002);
  h_feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  h_advance(ctx, 1);
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 1, "hello"));
  /* b is now the least recently active: a new peer takes its place, though
   * a, touched within PT_SESSION_LRU_GRAIN of its last move, is still
   * first in the recency list. */
  CHECK(ctx->lru_head == a);
  coap_session_t *c = h_server_session(40003);
  CHECK_NOT_NULL(c);
  coap_petrel_stats_t st = stats(ctx);
  CHECK_UINT_EQ(st.sessions, 2);
  CHECK_UINT_EQ(st.sessions_evicted, 1);
  CHECK(h_server_session(40001) == a); /* found, not created */
  CHECK_UINT_EQ(stats(ctx).sessions_evicted, 1);
  (void)b;
  h_free(ctx);
}

/* The recency list moves a session to its tail at most once a
 * PT_SESSION_LRU_GRAIN: within it the order stays, after it the session
 * moves on its next message. */
TEST(recency_list_moves_a_session_once_a_grain) {
  coap_context_t *ctx = server();
  coap_session_t *a = h_server_session(40001);
  h_advance(ctx, 1);
  coap_session_t *b = h_server_session(40002);
  CHECK(ctx->lru_head == a);
  CHECK(ctx->lru_tail == b);
  h_advance(ctx, PT_SESSION_LRU_GRAIN - 2);
  h_feed(a, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  CHECK_UINT_EQ(a->last_activity, h_now); /* stamped on every message */
  CHECK(ctx->lru_head == a);              /* but not moved: one tick short */
  h_advance(ctx, 1);
  h_feed(a, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 2, 1, "hello"));
  CHECK(ctx->lru_head == b); /* a full grain since its move */
  CHECK(ctx->lru_tail == a);
  CHECK(a->prev == b);
  CHECK(b->next == a);
  CHECK(b->prev == NULL);
  CHECK(a->next == NULL);
  /* Moved at this tick: the next message within the grain leaves it. */
  h_advance(ctx, 1);
  h_feed(b, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  CHECK(ctx->lru_tail == b);
  h_feed(a, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 3, 1, "hello"));
  CHECK(ctx->lru_tail == b);
  CHECK(ctx->lru_head == a);
  h_free(ctx);
}

/* Eviction looks at the candidates' activity, not only their place in the
 * (approximate) list: here the list's first is the most recently active,
 * and the session after it goes. */
TEST(eviction_takes_least_recent_activity_among_candidates) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_sessions_per_endpoint(ctx, 3);
  coap_session_t *a = h_server_session(40001);
  h_advance(ctx, 1);
  coap_session_t *b = h_server_session(40002);
  h_advance(ctx, 1);
  coap_session_t *c = h_server_session(40003);
  h_advance(ctx, 1);
  h_feed(a, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  CHECK(ctx->lru_head == a); /* within the grain: not moved */
  CHECK_NOT_NULL(h_server_session(40004));
  CHECK_UINT_EQ(stats(ctx).sessions_evicted, 1);
  CHECK(h_server_session(40001) == a); /* kept */
  CHECK(h_server_session(40003) == c); /* kept */
  CHECK(ctx->lru_head == a);
  CHECK(a->next == c); /* b is gone */
  (void)b;
  h_free(ctx);
}

TEST(full_endpoint_of_busy_sessions_refuses_new_peer_only) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_sessions_per_endpoint(ctx, 2);
  coap_session_t *a = h_server_session(40001);
  h_feed(a, async_get(1, 1, "100")); /* pending async: busy */
  coap_session_t *b = h_server_session(40002);
  h_feed(b, async_get(1, 1, "100"));
  CHECK_NULL(h_server_session(40003));
  coap_petrel_stats_t st = stats(ctx);
  CHECK_UINT_EQ(st.sessions, 2);
  CHECK_UINT_EQ(st.sessions_refused, 1);
  /* The peers that have a session are still served. */
  h_nsent = 0;
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 2, "hello"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(sent_code(0), COAP_RESPONSE_CODE_CONTENT);
  h_free(ctx);
}

TEST(no_session_limit_when_zero) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_sessions_per_endpoint(ctx, 0);
  for (int i = 0; i < 300; i++)
    CHECK_NOT_NULL(h_server_session((uint16_t)(30000 + i)));
  CHECK_UINT_EQ(stats(ctx).sessions, 300);
  h_free(ctx);
}

/* ---- pending asyncs --------------------------------------------------------
 */

TEST(async_per_session_limit_answers_5_03) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_async_per_session(ctx, 2);
  coap_session_t *a = h_server_session(40001);
  h_feed(a, async_get(1, 1, "100"));
  h_feed(a, async_get(2, 2, "100"));
  h_nsent = 0;
  h_feed(a, async_get(3, 3, "100"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(sent_code(0), COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
  /* Another peer is not affected. */
  coap_session_t *b = h_server_session(40002);
  h_nsent = 0;
  h_feed(b, async_get(1, 1, "100"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(sent_code(0), 0); /* Empty ACK: accepted */
  CHECK_UINT_EQ(stats(ctx).asyncs, 3);
  h_free(ctx);
}

TEST(async_total_limit_answers_5_03_and_frees_up) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_async_total(ctx, 2);
  coap_session_t *a = h_server_session(40001);
  coap_session_t *b = h_server_session(40002);
  h_feed(a, async_get(1, 1, "1"));
  h_feed(b, async_get(1, 1, "1"));
  h_nsent = 0;
  h_feed(b, async_get(2, 2, "1"));
  CHECK_INT_EQ(sent_code(0), COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
  h_advance(ctx, 2 * COAP_TICKS_PER_SECOND); /* both answered */
  CHECK_UINT_EQ(stats(ctx).asyncs, 0);
  h_nsent = 0;
  h_feed(b, async_get(3, 3, "1"));
  CHECK_INT_EQ(sent_code(0), 0);
  h_free(ctx);
}

/* ---- block-wise reassembly ------------------------------------------------
 */

static int put_calls;

static void hnd_put(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  put_calls++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static coap_context_t *block_server(void) {
  coap_context_t *ctx = server();
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("up"), 0);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_put);
  coap_add_resource(ctx, r);
  put_calls = 0;
  return ctx;
}

/* PUT /up, Block1 block @num of 16 bytes (SZX 0), more to come if @m. */
static coap_pdu_t *block1_put(coap_mid_t mid, unsigned num, int m) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, mid, 9, "up");
  uint8_t v[2];
  unsigned val = num << 4 | (m ? 8u : 0u);
  size_t n = coap_encode_var_safe(v, sizeof(v), val);
  coap_add_option(p, COAP_OPTION_BLOCK1, n, v);
  coap_add_data(p, 16, (const uint8_t *)"0123456789abcdef");
  return p;
}

TEST(block_body_past_max_body_size_is_4_13) {
  coap_context_t *ctx = block_server();
  coap_petrel_context_set_max_body_size(ctx, 32);
  CHECK_UINT_EQ(coap_petrel_context_get_max_body_size(ctx), 32);
  coap_session_t *a = h_server_session(40001);
  h_nsent = 0;
  h_feed(a, block1_put(1, 0, 1));
  h_feed(a, block1_put(2, 1, 1));
  h_feed(a, block1_put(3, 2, 0));
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_INT_EQ(sent_code(0), COAP_RESPONSE_CODE_CONTINUE);
  CHECK_INT_EQ(sent_code(1), COAP_RESPONSE_CODE_CONTINUE);
  CHECK_INT_EQ(sent_code(2), COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
  CHECK_INT_EQ(put_calls, 0);
  CHECK_UINT_EQ(stats(ctx).block_bytes, 0); /* the partial body is gone */
  h_free(ctx);
}

TEST(block_bytes_total_refuses_new_transfer_only) {
  coap_context_t *ctx = block_server();
  coap_petrel_context_set_block_bytes_total(ctx, 1024);
  CHECK_UINT_EQ(coap_petrel_context_get_block_bytes_total(ctx), 1024);
  coap_session_t *a = h_server_session(40001);
  coap_session_t *b = h_server_session(40002);
  h_nsent = 0;
  h_feed(a, block1_put(1, 0, 1));
  CHECK_INT_EQ(sent_code(0), COAP_RESPONSE_CODE_CONTINUE);
  CHECK(stats(ctx).block_bytes > 0);
  h_feed(b, block1_put(1, 0, 1)); /* no room left for a second body */
  CHECK_INT_EQ(sent_code(1), COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
  h_feed(a, block1_put(2, 1, 0)); /* a's transfer completes */
  CHECK_INT_EQ(sent_code(2), COAP_RESPONSE_CODE_CHANGED);
  CHECK_INT_EQ(put_calls, 1);
  CHECK_UINT_EQ(stats(ctx).block_bytes, 0);
  h_feed(b, block1_put(2, 0, 0)); /* and b's now fits */
  CHECK_INT_EQ(sent_code(3), COAP_RESPONSE_CODE_CHANGED);
  h_free(ctx);
}

/* ---- queued CONs --------------------------------------------------------- */

TEST(queued_cons_limit_fails_coap_send_for_that_session_only) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_queued_cons(ctx, 2);
  coap_address_t srv = h_peer(5683);
  coap_session_t *c1 = coap_new_client_session(ctx, NULL, &srv, COAP_PROTO_UDP);
  coap_session_t *c2 = coap_new_client_session(ctx, NULL, &srv, COAP_PROTO_UDP);
  CHECK_NOT_NULL(c1);
  CHECK_NOT_NULL(c2);
  coap_mid_t mids[4];
  for (int i = 0; i < 4; i++) {
    coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c1);
    uint8_t t = (uint8_t)i;
    coap_add_token(p, 1, &t);
    mids[i] = coap_send(c1, p);
  }
  /* NSTART 1: one in flight, two queued, the fourth refused. */
  CHECK(mids[0] != COAP_INVALID_MID);
  CHECK(mids[1] != COAP_INVALID_MID);
  CHECK(mids[2] != COAP_INVALID_MID);
  CHECK_INT_EQ(mids[3], COAP_INVALID_MID);
  CHECK_UINT_EQ(stats(ctx).exchanges, 3);
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c2);
  CHECK(coap_send(c2, p) != COAP_INVALID_MID);
  CHECK_UINT_EQ(stats(ctx).client_sessions, 2);
  coap_session_release(c1);
  coap_session_release(c2);
  h_free(ctx);
}

/* ---- the deduplication cache -------------------------------------------- */

TEST(dedup_per_session_cap_forgets_oldest) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_dedup_per_session(ctx, 2);
  coap_session_t *a = h_server_session(40001);
  for (coap_mid_t m = 1; m <= 3; m++)
    h_feed(a,
           h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, m, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 3);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 2);
  /* MID 3 is remembered: answered from the cache. */
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 3, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 3);
  /* MID 1 was forgotten: handled as new. */
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 4);
  h_free(ctx);
}

TEST(dedup_total_cap_forgets_the_context_oldest) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_dedup_total(ctx, 1);
  coap_session_t *a = h_server_session(40001);
  coap_session_t *b = h_server_session(40002);
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  h_nsent = 0;
  h_feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  CHECK_INT_EQ(h_nsent, 1); /* b is still answered */
  CHECK_INT_EQ(sent_code(0), COAP_RESPONSE_CODE_CONTENT);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 1);
  h_feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 2); /* b's, the newest, is remembered */
  CHECK_INT_EQ(h_nsent, 2);     /* and answered again */
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 3); /* a's was forgotten for it: runs again */
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 1);
  h_free(ctx);
}

TEST(dedup_off_runs_every_duplicate) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_dedup_per_session(ctx, 0);
  coap_session_t *a = h_server_session(40001);
  for (int i = 0; i < 3; i++)
    h_feed(a,
           h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 7, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 3);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 0);
  h_free(ctx);
}

/* ---- amplification (RFC 7252 11.3) --------------------------------------- */

static size_t bytes_sent(void) {
  size_t n = 0;
  for (int i = 0; i < h_nsent && i < H_MAX_SENT; i++)
    n += h_sent_log[i].len;
  return n;
}

TEST(unverified_peer_gets_at_most_factor_times_what_it_sent) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 3, 0, 0); /* no allowance */
  coap_session_t *a = h_server_session(40001);
  h_nsent = 0;
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  CHECK_INT_EQ(big_calls, 1);
  /* 600 bytes for a 9-byte request: held back; only a 4-byte probe (an
   * Empty CON) goes, asking the peer to show it receives. */
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_UINT_EQ(h_sent_log[0].len, 4);
  CHECK_UINT_EQ(h_sent_log[0].data[0], 0x40);
  CHECK_UINT_EQ(h_sent_log[0].data[1], 0);
  CHECK_UINT_EQ(stats(ctx).amplification_dropped, 1);
  /* Small answers within 3x still go. */
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 1, "hello"));
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

TEST(spoofed_flood_of_small_requests_is_not_amplified) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 3, 2000, 0);
  size_t in = 0;
  h_nsent = 0;
  for (int i = 0; i < 200; i++) {
    coap_session_t *s = h_server_session((uint16_t)(20000 + i));
    coap_pdu_t *p = h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                              (coap_mid_t)i, 1, "big");
    in += coap_pdu_get_token(p).length + 4 + 4; /* header, token, "big" */
    h_feed(s, p);
  }
  CHECK_INT_EQ(big_calls, 200);
  size_t out = bytes_sent();
  CHECK(out <= 3 * in + 2000);
  CHECK(stats(ctx).amplification_dropped >= 190);
  h_free(ctx);
}

TEST(allowance_answers_a_first_large_request_then_runs_dry) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 3, 1000, 100);
  coap_session_t *a = h_server_session(40001);
  h_nsent = 0;
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  CHECK_INT_EQ(h_nsent, 1);
  coap_session_t *b = h_server_session(40002);
  h_feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  CHECK_INT_EQ(h_nsent, 2); /* 400 bytes left: not enough; b is probed */
  CHECK_UINT_EQ(h_sent_log[1].len, 4);
  /* The allowance refills at 100 bytes/s: b's retransmission after 3 s is
   * answered from the cache (b never answered the probe). */
  h_now += 3 * COAP_TICKS_PER_SECOND;
  h_feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  CHECK_INT_EQ(h_nsent, 3);
  CHECK(h_sent_log[2].len > 600);
  CHECK_INT_EQ(big_calls, 2);
  h_free(ctx);
}

static int app_nacks, app_pongs;

static void count_nack(coap_session_t *s, const coap_pdu_t *sent,
                       coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)reason, (void)mid;
  app_nacks++;
}

static void count_pong(coap_session_t *s, const coap_pdu_t *rcvd,
                       coap_mid_t mid) {
  (void)s, (void)rcvd, (void)mid;
  app_pongs++;
}

/* A client that never ACKs a CON of ours (a plain GET client) answers the
 * probe: its RST verifies it, and from then on it gets everything. */
TEST(probe_answered_with_rst_verifies_the_peer) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 3, 0, 0); /* no allowance */
  app_nacks = app_pongs = 0;
  coap_register_nack_handler(ctx, count_nack);
  coap_register_pong_handler(ctx, count_pong);
  coap_session_t *a = h_server_session(40001);
  h_nsent = 0;
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  CHECK_INT_EQ(h_nsent, 1); /* the probe */
  coap_pdu_t *probe = h_parse(0);
  CHECK_NOT_NULL(probe);
  coap_mid_t mid = coap_pdu_get_mid(probe);
  coap_delete_pdu(probe);
  h_feed(a, coap_pdu_init(COAP_MESSAGE_RST, 0, mid, 0));
  /* The client retransmits its request: the stored answer now goes. */
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  CHECK_INT_EQ(h_nsent, 2);
  CHECK(h_sent_log[1].len > 600);
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 2, "big"));
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_INT_EQ(big_calls, 2);
  CHECK_INT_EQ(app_pongs, 0); /* the probe is the library's own */
  /* A peer that never answers is probed once, not retransmitted, keeps
   * nothing alive, and no NACK reaches the application; while answers are
   * still held back it is probed again at most every 2 x ACK_TIMEOUT. */
  coap_session_t *b = h_server_session(40002);
  h_feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  h_feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 2, "big"));
  int sent = h_nsent;
  CHECK_INT_EQ(sent, 4); /* one probe for two held-back answers */
  for (int i = 0; i < 100; i++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, sent);
  CHECK_INT_EQ(app_nacks, 0);
  CHECK_UINT_EQ(stats(ctx).exchanges, 0);
  h_feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 3, 3, "big"));
  CHECK_INT_EQ(h_nsent, sent + 1); /* probed again, later */
  CHECK_UINT_EQ(h_sent_log[sent].len, 4);
  h_free(ctx);
}

TEST(peer_that_acks_our_con_is_verified) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 3, 0, 0);
  coap_session_t *a = h_server_session(40001);
  h_feed(a, async_get(1, 1, "1"));
  h_nsent = 0;
  h_advance(ctx, 2 * COAP_TICKS_PER_SECOND); /* separate CON response */
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *sep = h_parse(0);
  CHECK_NOT_NULL(sep);
  coap_mid_t mid = coap_pdu_get_mid(sep);
  coap_delete_pdu(sep);
  h_feed(a, coap_pdu_init(COAP_MESSAGE_ACK, 0, mid, 0));
  h_nsent = 0;
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 2, "big"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK(h_sent_log[0].len > 600);
  CHECK_UINT_EQ(stats(ctx).amplification_dropped, 0);
  h_free(ctx);
}

TEST(amplification_policy_off_with_factor_zero) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 0, 0, 0);
  coap_session_t *a = h_server_session(40001);
  h_nsent = 0;
  h_feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  CHECK_INT_EQ(h_nsent, 1);
  h_free(ctx);
}

/* ---- state goes away
 * --------------------------------------------------------- */

TEST(all_state_gone_after_exchange_lifetime_and_session_timeout) {
  coap_context_t *ctx = server();
  for (int i = 0; i < 20; i++) {
    coap_session_t *s = h_server_session((uint16_t)(40000 + i));
    h_feed(s, async_get(1, 1, "1"));
    h_feed(s,
           h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 2, "hello"));
  }
  coap_petrel_stats_t st = stats(ctx);
  CHECK_UINT_EQ(st.sessions, 20);
  CHECK_UINT_EQ(st.asyncs, 20);
  CHECK_UINT_EQ(st.dedup_entries, 40);
  for (int sec = 0; sec < 200; sec++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(stats(ctx).exchanges, 0); /* given up after ~93 s */
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 40);
  /* Nobody ACKs the separate responses: they are given up after
   * MAX_TRANSMIT_SPAN, the dedup entries freed after EXCHANGE_LIFETIME
   * (247 s) even though no message comes, the sessions after the session
   * timeout (300 s). */
  for (int sec = 200; sec < 248; sec++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  st = stats(ctx);
  CHECK_UINT_EQ(st.asyncs, 0);
  CHECK_UINT_EQ(st.exchanges, 0);
  CHECK_UINT_EQ(st.dedup_entries, 0);
  CHECK_UINT_EQ(st.sessions, 20);
  h_advance(ctx, 53 * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(stats(ctx).sessions, 0);
  h_free(ctx);
}

int main(void) {
  RUN(defaults_are_documented_values);
  RUN(setters_round_trip_and_null_is_harmless);
  RUN(full_endpoint_evicts_least_recently_active_idle_session);
  RUN(recency_list_moves_a_session_once_a_grain);
  RUN(eviction_takes_least_recent_activity_among_candidates);
  RUN(full_endpoint_of_busy_sessions_refuses_new_peer_only);
  RUN(no_session_limit_when_zero);
  RUN(async_per_session_limit_answers_5_03);
  RUN(async_total_limit_answers_5_03_and_frees_up);
  RUN(block_body_past_max_body_size_is_4_13);
  RUN(block_bytes_total_refuses_new_transfer_only);
  RUN(queued_cons_limit_fails_coap_send_for_that_session_only);
  RUN(dedup_per_session_cap_forgets_oldest);
  RUN(dedup_total_cap_forgets_the_context_oldest);
  RUN(dedup_off_runs_every_duplicate);
  RUN(unverified_peer_gets_at_most_factor_times_what_it_sent);
  RUN(spoofed_flood_of_small_requests_is_not_amplified);
  RUN(allowance_answers_a_first_large_request_then_runs_dry);
  RUN(peer_that_acks_our_con_is_verified);
  RUN(probe_answered_with_rst_verifies_the_peer);
  RUN(amplification_policy_off_with_factor_zero);
  RUN(all_state_gone_after_exchange_lifetime_and_session_timeout);
  return TEST_SUMMARY();
}
