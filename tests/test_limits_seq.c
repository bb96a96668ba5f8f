/*
 * test_limits_seq.c -- every limit over a sequence of messages from the
 * same peer, so that a budget checked per datagram instead of in total is
 * caught: the amplification limit (RFC 7252 11.3) and its allowance over
 * time, the dedup entries per session and in total, the pending asyncs per
 * session, and the Block1 bytes held.
 *
 * The expected values come from what this file fed and what the fake
 * peer received (the send log), not from the server's own counters; the
 * counters are only checked to agree.
 */
#include "test.h"

#include "block.h"
#include "core_harness.h"

#include "../examples/seed_handler.h"

static int hello_calls, big_calls, put_calls;

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  hello_calls++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

#define BIG 300
static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  static uint8_t body[BIG];
  big_calls++;
  memset(body, 'b', sizeof(body));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, sizeof(body), body);
}

static void hnd_put(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  put_calls++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  const char *paths[] = {"hello", "big", "async", "up1", "up2", "up3"};
  for (int i = 0; i < 6; i++) {
    coap_resource_t *r = coap_resource_init(coap_make_str_const(paths[i]), 0);
    if (i == 0)
      coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
    else if (i == 1)
      coap_register_handler(r, COAP_REQUEST_GET, hnd_big);
    else if (i == 2)
      coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
    coap_register_handler(r, COAP_REQUEST_PUT, hnd_put);
    coap_add_resource(ctx, r);
  }
  hello_calls = big_calls = put_calls = 0;
  return ctx;
}

static coap_petrel_stats_t stats(coap_context_t *ctx) {
  coap_petrel_stats_t st;
  memset(&st, 0xff, sizeof(st));
  coap_petrel_context_get_stats(ctx, &st);
  return st;
}

/* Feeds @pdu and returns its size on the wire: what the peer sent. */
static size_t feed(coap_session_t *s, coap_pdu_t *pdu) {
  const uint8_t *data;
  size_t len = 0;
  pt_pdu_wire(pdu, &data, &len);
  h_feed(s, pdu);
  return len;
}

/* Bytes the fake peer received in datagrams [from, h_nsent). */
static size_t received_since(int from) {
  size_t n = 0;
  for (int i = from; i < h_nsent && i < H_MAX_SENT; i++)
    n += h_sent_log[i].len;
  return n;
}

static int code_of(int i) {
  coap_pdu_t *p = h_parse(i);
  int c = p ? (int)coap_pdu_get_code(p) : -1;
  coap_delete_pdu(p);
  return c;
}

/* ---- amplification ---------------------------------------------------------
 */

/* One unverified peer sends 60 small requests for a 300-byte answer, with
 * no allowance: after every request, what it received stays within 3x
 * what it sent in total, and the credit it built up over several
 * requests is used (an answer goes once 3x the total covers it, although
 * no single request would). */
TEST(amplification_budget_is_the_total_over_a_sequence) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 3, 0, 0);
  coap_session_t *s = h_server_session(40001);
  size_t in = 0;
  int answers = 0;
  for (int i = 0; i < 60; i++) {
    int before = h_nsent;
    in += feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                            (coap_mid_t)(100 + i), 1, "big"));
    for (int k = before; k < h_nsent; k++)
      answers += h_sent_log[k].len > BIG;
    size_t out = received_since(0);
    CHECK(out <= 3 * in);
    /* every answer the budget covered went: less than one answer and one
     * probe of credit is left unused */
    CHECK(3 * in < out + (BIG + 20) + 4);
  }
  CHECK_INT_EQ(big_calls, 60);
  CHECK(answers >= 1);
  CHECK(answers < 60);
  h_free(ctx);
}

/* Retransmissions answered from the dedup store count as much as fresh
 * answers. */
TEST(amplification_counts_answers_to_duplicates) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 3, 0, 0);
  coap_session_t *s = h_server_session(40001);
  size_t in = 0;
  /* credit first: 40 small requests whose answers are small */
  for (int i = 0; i < 40; i++)
    in += feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                            (coap_mid_t)i, 1, "hello"));
  for (int i = 0; i < 30; i++) {
    in += feed(
        s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1000, 2, "big"));
    CHECK(received_since(0) <= 3 * in);
  }
  CHECK_INT_EQ(big_calls, 1);
  h_free(ctx);
}

/* The context-wide allowance over time and over many peers: everything
 * sent stays within 3x what was received plus the burst plus the rate
 * times the time gone by, measured here on the fake clock. */
TEST(amplification_allowance_is_a_total_over_time_and_peers) {
  coap_context_t *ctx = server();
  const size_t burst = 1000, rate = 200; /* bytes, bytes/s */
  coap_petrel_context_set_amplification(ctx, 3, burst, rate);
  coap_tick_t t0 = h_now;
  size_t in = 0;
  int answers = 0;
  for (int round = 0; round < 40; round++) {
    for (int p = 0; p < 5; p++) {
      coap_session_t *s = h_server_session((uint16_t)(41000 + p));
      int before = h_nsent;
      in += feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                              (coap_mid_t)(round * 8 + p), 1, "big"));
      for (int k = before; k < h_nsent; k++)
        answers += h_sent_log[k].len > BIG;
      /* what the allowance may have refilled by now, rounded up */
      uint64_t refill = (rate * (h_now - t0) + COAP_TICKS_PER_SECOND - 1) /
                        COAP_TICKS_PER_SECOND;
      CHECK(received_since(0) <= 3 * in + burst + refill);
      h_advance(ctx, 100); /* 0.1 s */
    }
  }
  /* 20 s of 200 bytes/s plus 1000 bytes, 3 x the requests: the allowance
   * was drawn on, not left unused */
  CHECK(answers >= 10);
  h_free(ctx);
}

/* GET /sized?N: an answer of exactly N payload bytes. */
static void hnd_sized_n(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  (void)r, (void)s, (void)req;
  static uint8_t body[2048];
  size_t n = q ? (size_t)atoi((const char *)q->s) : 0;
  memset(body, 'n', sizeof(body));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  if (n)
    coap_add_data(resp, n < sizeof(body) ? n : sizeof(body), body);
}

static coap_pdu_t *sized_get(coap_mid_t mid, const char *n) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, mid, 1, "sized");
  coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(n), (const uint8_t *)n);
  return p;
}

/* RFC 7252 11.3's factor is a bound that is reached: an answer of exactly
 * 3x the request goes, one byte more does not. Request: 4 header + 1
 * token + 6 (Uri-Path "sized") + 3 (Uri-Query "36") = 14 bytes; answer:
 * 4 + 1 + 1 (payload marker) + 36 = 42. */
TEST(amplification_factor_is_reached_exactly) {
  coap_context_t *ctx = server();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("sized"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_sized_n);
  coap_add_resource(ctx, r);
  coap_petrel_context_set_amplification(ctx, 3, 0, 0);
  coap_session_t *a = h_server_session(40001);
  CHECK_UINT_EQ(feed(a, sized_get(1, "36")), 14);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_UINT_EQ(h_sent_log[0].len, 42);
  coap_session_t *b = h_server_session(40002);
  CHECK_UINT_EQ(feed(b, sized_get(1, "37")), 14);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_UINT_EQ(h_sent_log[1].len, 4); /* held back: only the probe */
  h_free(ctx);
}

/* While a probe is out, an ACK or RST with another message ID does not
 * verify the peer; the probe's own RST does. */
TEST(only_the_probes_own_answer_verifies) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_amplification(ctx, 3, 0, 0);
  coap_session_t *a = h_server_session(40001);
  feed(a, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_UINT_EQ(h_sent_log[0].len, 4);
  coap_mid_t mid =
      (coap_mid_t)(h_sent_log[0].data[2] << 8 | h_sent_log[0].data[3]);
  feed(a, coap_pdu_init(COAP_MESSAGE_RST, 0, (coap_mid_t)(mid + 1), 0));
  feed(a, coap_pdu_init(COAP_MESSAGE_ACK, 0, (coap_mid_t)(mid - 1), 0));
  int before = h_nsent;
  feed(a, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 2, 2, "big"));
  for (int i = before; i < h_nsent; i++)
    CHECK(h_sent_log[i].len <= 4); /* still held back */
  feed(a, coap_pdu_init(COAP_MESSAGE_RST, 0, mid, 0));
  before = h_nsent;
  feed(a, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 3, 3, "big"));
  CHECK_INT_EQ(h_nsent, before + 1);
  CHECK(h_sent_log[before].len > BIG);
  h_free(ctx);
}

/* 1 if the last feed made the server send a whole /big answer. */
static int answered_big(int before) {
  for (int i = before; i < h_nsent && i < H_MAX_SENT; i++)
    if (h_sent_log[i].len > BIG)
      return 1;
  return 0;
}

/* The documented defaults (coap3/coap_petrel.h): factor 3 and an
 * allowance of 1 MiB, full from the start, that refills at 1 MiB/s. One
 * NON GET /big (9 bytes, 27 of credit) each from many unverified peers:
 * each 306-byte answer is paid from the allowance, so exactly
 * 1 MiB / 306 go at once, and a second later that many again. */
TEST(default_allowance_is_one_mib_refilled_each_second) {
  coap_context_t *ctx = server();
  int answered = 0, peer = 0, size = 0;
  for (; peer < 4000; peer++) {
    coap_session_t *s = h_server_session((uint16_t)(20000 + peer));
    h_nsent = 0; /* the log holds this feed's datagrams only */
    feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
    if (answered_big(0)) {
      answered++;
      size = (int)h_sent_log[0].len;
    }
  }
  CHECK_INT_EQ(size, BIG + 6);
  CHECK_INT_EQ(answered, 1048576 / (BIG + 6));
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  answered = 0;
  for (peer = 0; peer < 4000; peer++) {
    coap_session_t *s = h_server_session((uint16_t)(30000 + peer));
    h_nsent = 0;
    feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 1, 1, "big"));
    answered += answered_big(0);
  }
  /* refilled by 1 MiB, but never past the burst of 1 MiB */
  CHECK_INT_EQ(answered, 1048576 / (BIG + 6));
  h_free(ctx);
}

/* ---- dedup
 * ---------------------------------------------------------------------
 */

/* With a cap of 8 per session, one peer's 30 messages leave exactly its
 * last 8 remembered: each of them is answered from the store (handler
 * not run, same bytes), each earlier one runs the handler again. */
TEST(dedup_per_session_cap_over_a_sequence) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_dedup_per_session(ctx, 8);
  coap_session_t *s = h_server_session(40001);
  for (int i = 0; i < 30; i++) {
    feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                      (coap_mid_t)(500 + i), 1, "hello"));
    CHECK_UINT_EQ(stats(ctx).dedup_entries, i + 1 < 8 ? i + 1 : 8);
  }
  CHECK_INT_EQ(hello_calls, 30);
  for (int i = 22; i < 30; i++) {
    feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                      (coap_mid_t)(500 + i), 1, "hello"));
    CHECK_INT_EQ(hello_calls, 30);
  }
  feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 521, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 31);
  h_free(ctx);
}

/* A peer's own cap limits only its own entries;
 * the total cap holds over all of them, and at it the context forgets its
 * oldest entries, whoever's they are. */
TEST(dedup_caps_are_per_session_and_in_total) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_dedup_per_session(ctx, 6);
  coap_petrel_context_set_dedup_total(ctx, 15);
  coap_session_t *a = h_server_session(40001);
  coap_session_t *b = h_server_session(40002);
  coap_session_t *c = h_server_session(40003);
  for (int i = 0; i < 6; i++)
    feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, (coap_mid_t)i, 1,
                      "hello"));
  for (int i = 0; i < 20; i++) {
    feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                      (coap_mid_t)(100 + i), 1, "hello"));
    CHECK(stats(ctx).dedup_entries <= 12);
  }
  for (int i = 0; i < 20; i++) {
    feed(c, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                      (coap_mid_t)(200 + i), 1, "hello"));
    CHECK(stats(ctx).dedup_entries <= 15);
  }
  /* c's 4th to 6th made room by forgetting a's oldest three; from then on
   * c's own cap made room. */
  int calls = hello_calls;
  for (int i = 3; i < 6; i++) /* a's newest three are still remembered */
    feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, (coap_mid_t)i, 1,
                      "hello"));
  CHECK_INT_EQ(hello_calls, calls);
  feed(c, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 219, 1, "hello"));
  feed(b, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 119, 1, "hello"));
  CHECK_INT_EQ(hello_calls, calls);
  feed(a, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 1, "hello"));
  CHECK_INT_EQ(hello_calls, calls + 1);
  h_free(ctx);
}

/* Lowering the cap while a session holds more: its next message brings
 * it down to the new cap at once. */
TEST(dedup_cap_lowered_mid_sequence_applies_at_once) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_dedup_per_session(ctx, 10);
  coap_session_t *s = h_server_session(40001);
  for (int i = 0; i < 10; i++)
    feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, (coap_mid_t)i, 1,
                      "hello"));
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 10);
  coap_petrel_context_set_dedup_per_session(ctx, 3);
  feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 10, 1, "hello"));
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 3);
  h_free(ctx);
}

/* Entries expire EXCHANGE_LIFETIME (RFC 7252 4.8.2: 247 s with the
 * defaults, computed here) after their own arrival, one by one. */
TEST(dedup_entries_expire_one_by_one_after_exchange_lifetime) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40001);
  /* ACK_TIMEOUT x (2^MAX_RETRANSMIT - 1) x ACK_RANDOM_FACTOR
   * + 2 x MAX_LATENCY + PROCESSING_DELAY */
  coap_tick_t lifetime = (coap_tick_t)(2000 * 15 * 3 / 2 + 2 * 100000 + 2000);
  coap_context_set_session_timeout(ctx, 10000);
  for (int i = 0; i < 5; i++) {
    feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, (coap_mid_t)i, 1,
                      "hello"));
    h_advance(ctx, 10 * COAP_TICKS_PER_SECOND);
  }
  /* the first arrived 50 s ago */
  h_advance(ctx, lifetime - 50 * COAP_TICKS_PER_SECOND - 1);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 5);
  h_advance(ctx, 1);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 4);
  h_advance(ctx, 10 * COAP_TICKS_PER_SECOND - 1);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 4);
  h_advance(ctx, 1);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 3);
  /* a duplicate of an expired one is a new message */
  feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 0, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 6);
  /* one not yet expired is still a duplicate */
  feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 4, 1, "hello"));
  CHECK_INT_EQ(hello_calls, 6);
  h_free(ctx);
}

/* Stored answers of every size around the inline limit are served again
 * byte for byte. */
static void hnd_sized(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req;
  static uint8_t body[64];
  size_t n = q ? (size_t)atoi((const char *)q->s) : 0;
  memset(body, 'z', sizeof(body));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  if (n)
    coap_add_data(resp, n < sizeof(body) ? n : sizeof(body), body);
}

TEST(dedup_replies_around_the_inline_size_are_served_again) {
  coap_context_t *ctx = server();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("sized"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_sized);
  coap_add_resource(ctx, r);
  coap_session_t *s = h_server_session(40001);
  /* answer = 4 header + 1 token + 1 marker + n bytes: 24..28 around 32 */
  for (int n = 20; n <= 34; n++) {
    char q[4];
    snprintf(q, sizeof(q), "%d", n);
    for (int rep = 0; rep < 3; rep++) {
      coap_pdu_t *p = h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                                (coap_mid_t)n, 1, "sized");
      coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(q), (const uint8_t *)q);
      feed(s, p);
    }
    int k = h_nsent - 1;
    CHECK(k >= 2);
    CHECK_UINT_EQ(h_sent_log[k].len, 4 + 1 + 1 + (size_t)n);
    CHECK_MEM_EQ(h_sent_log[k].data, h_sent_log[k].len, h_sent_log[k - 2].data,
                 h_sent_log[k - 2].len);
    CHECK_MEM_EQ(h_sent_log[k - 1].data, h_sent_log[k - 1].len,
                 h_sent_log[k - 2].data, h_sent_log[k - 2].len);
  }
  h_free(ctx);
}

/* An entry reused from the spares starts afresh: a NON whose ID was last
 * used by a CON answered with an Empty ACK (a separate response) gets no
 * Empty ACK when repeated, and its handler runs once. */
TEST(dedup_entry_reused_from_the_spares_starts_afresh) {
  coap_context_t *ctx = server();
  coap_context_set_session_timeout(ctx, 10000);
  coap_session_t *s = h_server_session(40001);
  for (int i = 0; i < 20; i++) { /* 20 entries answered with Empty ACKs */
    coap_pdu_t *p = h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                              (coap_mid_t)i, (uint8_t)(i + 1), "async");
    coap_add_option(p, COAP_OPTION_URI_QUERY, 1, (const uint8_t *)"1");
    feed(s, p);
  }
  for (int sec = 0; sec < 300; sec++) /* answered, then expired */
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 0);
  for (int i = 0; i < 20; i++) {
    int before = h_nsent;
    for (int rep = 0; rep < 2; rep++)
      feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                        (coap_mid_t)(100 + i), 1, "hello"));
    CHECK_INT_EQ(h_nsent, before + 1); /* the answer, once */
    CHECK_UINT_EQ(h_sent_log[before].len, 4 + 1 + 1 + 5);
  }
  CHECK_INT_EQ(hello_calls, 20);
  h_free(ctx);
}

/* ---- asyncs per session
 * -----------------------------------------------------------
 */

/* One peer keeps asking for separate responses while earlier ones
 * complete: at most 3 are pending at any time, a 4th at once is refused,
 * and completed ones make room again. */
TEST(asyncs_per_session_over_a_sequence) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_max_async_per_session(ctx, 3);
  coap_session_t *s = h_server_session(40001);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 24; i++) {
    coap_pdu_t *p = h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                              (coap_mid_t)(300 + i), (uint8_t)(i + 1), "async");
    coap_add_option(p, COAP_OPTION_URI_QUERY, 1, (const uint8_t *)"2");
    int before = h_nsent;
    feed(s, p);
    int was_refused =
        h_nsent > before &&
        code_of(h_nsent - 1) == COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE;
    refused += was_refused;
    accepted += !was_refused;
    /* pending: accepted in the last 2 s (one request every 0.5 s) */
    CHECK(stats(ctx).asyncs <= 3);
    CHECK_INT_EQ(was_refused, (i % 4) == 3 ? 1 : 0);
    h_advance(ctx, COAP_TICKS_PER_SECOND / 2);
  }
  CHECK_INT_EQ(accepted, 18);
  CHECK_INT_EQ(refused, 6);
  h_advance(ctx, 3 * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(stats(ctx).asyncs, 0);
  h_free(ctx);
}

/* ---- Block1 bytes
 * ------------------------------------------------------------------
 */

/* PUT /@path, 64-byte block @num (SZX 2), M set. */
static coap_pdu_t *block_put(const char *path, coap_mid_t mid, unsigned num,
                             int m) {
  static uint8_t data[64];
  memset(data, 'u', sizeof(data));
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, mid, 9, path);
  pt_block_set(p, COAP_OPTION_BLOCK1, num, m, 2);
  coap_add_data(p, 64, data);
  return p;
}

/* One peer uploads three bodies at once, block by block, each well under
 * the body limit but together over the context's Block1 byte limit: the
 * bytes taken and not yet delivered (counted here from the 2.31 answers)
 * never exceed it, a block that would is refused 4.13, and once the
 * transfers are over a new one is taken. */
TEST(block1_bytes_are_a_total_over_transfers_and_blocks) {
  coap_context_t *ctx = server();
  const size_t limit = 4096;
  coap_petrel_context_set_block_bytes_total(ctx, limit);
  coap_session_t *s = h_server_session(40001);
  const char *paths[3] = {"up1", "up2", "up3"};
  size_t held[3] = {0, 0, 0};
  int alive[3] = {1, 1, 1}, too_large = 0;
  for (unsigned num = 0; num < 40; num++) {
    for (int t = 0; t < 3; t++) {
      if (!alive[t])
        continue;
      feed(s, block_put(paths[t], (coap_mid_t)(num * 3 + (unsigned)t), num, 1));
      int code = code_of(h_nsent - 1);
      if (code == COAP_RESPONSE_CODE_CONTINUE) {
        held[t] += 64;
      } else {
        CHECK_INT_EQ(code, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
        too_large++;
        alive[t] = 0;
        held[t] = 0;
      }
      CHECK(held[0] + held[1] + held[2] <= limit);
      CHECK(stats(ctx).block_bytes <= limit);
    }
  }
  CHECK(too_large >= 1);
  CHECK(alive[0] || alive[1] || alive[2]);
  CHECK_INT_EQ(put_calls, 0);
  /* end the live ones with their last block */
  for (int t = 0; t < 3; t++)
    if (alive[t]) {
      feed(s, block_put(paths[t], (coap_mid_t)(1000 + t), 40, 0));
      CHECK_INT_EQ(code_of(h_nsent - 1), COAP_RESPONSE_CODE_CHANGED);
    }
  CHECK_UINT_EQ(stats(ctx).block_bytes, 0);
  for (unsigned num = 0; num < 30; num++) {
    feed(s, block_put("up3", (coap_mid_t)(2000 + num), num, 1));
    CHECK_INT_EQ(code_of(h_nsent - 1), COAP_RESPONSE_CODE_CONTINUE);
  }
  h_free(ctx);
}

int main(void) {
  RUN(amplification_budget_is_the_total_over_a_sequence);
  RUN(amplification_counts_answers_to_duplicates);
  RUN(amplification_allowance_is_a_total_over_time_and_peers);
  RUN(amplification_factor_is_reached_exactly);
  RUN(only_the_probes_own_answer_verifies);
  RUN(default_allowance_is_one_mib_refilled_each_second);
  RUN(dedup_per_session_cap_over_a_sequence);
  RUN(dedup_caps_are_per_session_and_in_total);
  RUN(dedup_cap_lowered_mid_sequence_applies_at_once);
  RUN(dedup_entries_expire_one_by_one_after_exchange_lifetime);
  RUN(dedup_replies_around_the_inline_size_are_served_again);
  RUN(dedup_entry_reused_from_the_spares_starts_afresh);
  RUN(asyncs_per_session_over_a_sequence);
  RUN(block1_bytes_are_a_total_over_transfers_and_blocks);
  return TEST_SUMMARY();
}
