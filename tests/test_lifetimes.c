/*
 * test_lifetimes.c -- what other tests leave to the sanitizers, checked in
 * every build: the state that must be gone (sessions, exchanges, asyncs,
 * dedup entries, Block1 bytes, observers, through
 * coap_petrel_context_get_stats()) and the heap, which must be back where
 * it was once a context is freed (bytes in use from the allocator: glibc's
 * mallinfo2(), or the sanitizer's own count when linked with one).
 *
 * Each scenario runs twice: the first run warms up what the library sets
 * up once per process, the second is measured. Without a sanitizer the
 * program runs itself again with glibc's per-thread cache and fast bins
 * off, so that freed memory is counted as free at once.
 */
#include <malloc.h>
#include <unistd.h>

#include "test.h"

#include "block.h"
#include "core_harness.h"
#include "dedup.h"

#include "../examples/seed_handler.h"

size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static size_t heap_now(void) {
  if (__sanitizer_get_current_allocated_bytes)
    return __sanitizer_get_current_allocated_bytes();
  return mallinfo2().uordblks;
}

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  static uint8_t body[100]; /* a stored answer larger than inline */
  memset(body, 'h', sizeof(body));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, sizeof(body), body);
}

static void hnd_put(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static void hnd_large(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  static uint8_t body[3000];
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, 0, -1, 0, sizeof(body), body,
                               NULL, NULL);
}

static coap_resource_t *obs_res;

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_put);
  coap_resource_set_get_observable(r, 1);
  coap_add_resource(ctx, r);
  obs_res = r;
  r = coap_resource_init(coap_make_str_const("large"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_large);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("async"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
  coap_add_resource(ctx, r);
  return ctx;
}

static coap_petrel_stats_t stats(coap_context_t *ctx) {
  coap_petrel_stats_t st;
  memset(&st, 0xff, sizeof(st));
  coap_petrel_context_get_stats(ctx, &st);
  return st;
}

static coap_pdu_t *async_get(coap_mid_t mid, uint8_t tok, const char *q) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, mid, tok, "async");
  coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(q), (const uint8_t *)q);
  return p;
}

/* Runs @scenario twice and checks that the second run gives back every
 * byte it took. */
#define CHECK_NO_HEAP_GROWTH(scenario)                                         \
  do {                                                                         \
    scenario();                                                                \
    CHECK(!test_failed_);                                                      \
    size_t before_ = heap_now();                                               \
    scenario();                                                                \
    CHECK(!test_failed_);                                                      \
    size_t after_ = heap_now();                                                \
    CHECK_INT_EQ((long long)after_ - (long long)before_, 0);                   \
  } while (0)

/* ---- client requests ----------------------------------------------------- */

/* A client session released with a CON request pending lives on, held by
 * its exchange, until the request is given up; then both are gone. */
static void released_client_session(void) {
  coap_context_t *ctx = server();
  coap_address_t a = h_peer(5683);
  coap_session_t *c = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_add_token(p, 1, (const uint8_t *)"t");
  CHECK(coap_send(c, p) != COAP_INVALID_MID);
  coap_session_release(c);
  coap_petrel_stats_t st = stats(ctx);
  CHECK_UINT_EQ(st.client_sessions, 1);
  CHECK_UINT_EQ(st.exchanges, 1);
  for (int i = 0; i < 100; i++)
    h_advance(ctx, COAP_TICKS_PER_SECOND); /* > MAX_TRANSMIT_WAIT */
  st = stats(ctx);
  CHECK_UINT_EQ(st.exchanges, 0);
  CHECK_UINT_EQ(st.client_sessions, 0);
  h_free(ctx);
}

TEST(released_client_session_lives_until_its_request_ends) {
  CHECK_NO_HEAP_GROWTH(released_client_session);
}

/* The same, with the context freed while the request is pending. */
static void context_freed_with_pending_request(void) {
  coap_context_t *ctx = server();
  coap_address_t a = h_peer(5683);
  coap_session_t *c = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_add_token(p, 1, (const uint8_t *)"t");
  coap_send(c, p);
  coap_session_release(c);
  CHECK_UINT_EQ(stats(ctx).exchanges, 1);
  h_free(ctx);
}

TEST(context_freed_with_pending_request_gives_back_every_byte) {
  CHECK_NO_HEAP_GROWTH(context_freed_with_pending_request);
}

/* ---- server state
 * ------------------------------------------------------------ */

/* 50 peers with a pending async, a remembered answer, a Block1 transfer
 * and an observation each, then the context is freed. */
static void busy_server_freed(void) {
  coap_context_t *ctx = server();
  for (int i = 0; i < 50; i++) {
    coap_session_t *s = h_server_session((uint16_t)(40000 + i));
    h_feed(s, async_get(1, 1, "100"));
    h_feed(s,
           h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 2, "hello"));
    coap_pdu_t *put =
        h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 3, 3, "hello");
    pt_block_set(put, COAP_OPTION_BLOCK1, 0, 1, 2);
    static uint8_t block[64];
    coap_add_data(put, sizeof(block), block);
    h_feed(s, put);
    coap_pdu_t *big =
        h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 5, 5, "large");
    pt_block_set(big, COAP_OPTION_BLOCK2, 0, 0, 2);
    h_feed(s, big);
    coap_pdu_t *obs =
        h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 4, 4, "hello");
    uint8_t zero = 0;
    coap_add_option(obs, COAP_OPTION_OBSERVE, 0, &zero);
    h_feed(s, obs);
  }
  coap_petrel_stats_t st = stats(ctx);
  CHECK_UINT_EQ(st.sessions, 50);
  CHECK_UINT_EQ(st.asyncs, 50);
  CHECK_UINT_EQ(st.dedup_entries, 250);
  CHECK(st.block_bytes >= 50 * 64);
  CHECK_UINT_EQ(st.observers, 50);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 50);
  h_free(ctx);
}

TEST(busy_server_freed_gives_back_every_byte) {
  CHECK_NO_HEAP_GROWTH(busy_server_freed);
}

/* The same state ends by itself: everything is gone once the lifetimes
 * run out, and the sessions with it. */
static void busy_server_idles(void) {
  coap_context_t *ctx = server();
  coap_context_set_session_timeout(ctx, 400);
  for (int i = 0; i < 20; i++) {
    coap_session_t *s = h_server_session((uint16_t)(40000 + i));
    h_feed(s, async_get(1, 1, "1"));
    h_feed(s,
           h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 2, "hello"));
    coap_pdu_t *put =
        h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 3, 3, "hello");
    pt_block_set(put, COAP_OPTION_BLOCK1, 0, 1, 2);
    static uint8_t block[64];
    coap_add_data(put, sizeof(block), block);
    h_feed(s, put);
    coap_pdu_t *big =
        h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 5, 5, "large");
    pt_block_set(big, COAP_OPTION_BLOCK2, 0, 0, 2);
    h_feed(s, big);
  }
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 20);
  for (int sec = 0; sec < 700; sec++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  coap_petrel_stats_t st = stats(ctx);
  CHECK_UINT_EQ(st.asyncs, 0);
  CHECK_UINT_EQ(st.exchanges, 0);
  CHECK_UINT_EQ(st.dedup_entries, 0);
  CHECK_UINT_EQ(st.block_bytes, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_rx), 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 0);
  CHECK_UINT_EQ(st.sessions, 0);
  h_free(ctx);
}

TEST(busy_server_state_ends_by_itself) {
  CHECK_NO_HEAP_GROWTH(busy_server_idles);
}

/* A session closed with an async pending, a CON in flight and remembered
 * answers: all of it goes with the session, not later. */
static void session_closed(void) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, async_get(1, 1, "100"));
  h_feed(s, async_get(2, 2, "1"));
  h_advance(ctx, 2 * COAP_TICKS_PER_SECOND); /* a separate CON in flight */
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 3, 3, "hello"));
  coap_petrel_stats_t st = stats(ctx);
  CHECK_UINT_EQ(st.asyncs, 1);
  CHECK_UINT_EQ(st.exchanges, 1);
  CHECK_UINT_EQ(st.dedup_entries, 3);
  pt_session_close(s, COAP_NACK_NOT_DELIVERABLE);
  st = stats(ctx);
  CHECK_UINT_EQ(st.asyncs, 0);
  CHECK_UINT_EQ(st.exchanges, 0);
  CHECK_UINT_EQ(st.dedup_entries, 0);
  CHECK_UINT_EQ(st.sessions, 0);
  h_free(ctx);
}

TEST(closed_session_takes_its_state_along) {
  CHECK_NO_HEAP_GROWTH(session_closed);
}

/* A separate response its client never acknowledges (the client is gone),
 * with the lossy path test's ACK_TIMEOUT 50 ms and MAX_RETRANSMIT 16: the
 * CON is given up only MAX_TRANSMIT_WAIT (ACK_TIMEOUT x (2^17 - 1) x a
 * random factor in [1, 1.5]) after it first went out, which is longer than
 * EXCHANGE_LIFETIME, and it holds its session until then; the session goes
 * within the idle timeout after that, its idle timer armed no further
 * ahead than that all along. */
static void unacked_separate_response(void) {
  coap_context_t *ctx = server();
  coap_context_set_session_timeout(ctx, 300);
  coap_tick_t idle = 300 * COAP_TICKS_PER_SECOND;
  coap_session_t *s = h_server_session(40000);
  coap_session_set_ack_timeout(s, (coap_fixed_point_t){0, 50});
  coap_session_set_max_retransmit(s, 16);
  h_feed(s, async_get(1, 1, "1"));
  h_advance(ctx, COAP_TICKS_PER_SECOND); /* the delay: the CON goes out */
  coap_tick_t sent_at = h_now;
  CHECK_UINT_EQ(stats(ctx).exchanges, 1);
  coap_tick_t wait_min = 50 * COAP_TICKS_PER_SECOND / 1000 * ((1u << 17) - 1);
  coap_tick_t wait_max = wait_min * 3 / 2;
  coap_tick_t lifetime = pt_exchange_lifetime(s);
  CHECK(wait_min > lifetime);
  coap_tick_t ex_gone = 0, session_gone = 0;
  while (!session_gone && h_now < sent_at + wait_max + 2 * idle) {
    h_advance(ctx, COAP_TICKS_PER_SECOND);
    coap_petrel_stats_t st = stats(ctx);
    if (h_now <= sent_at + lifetime) {
      CHECK_UINT_EQ(st.exchanges, 1);
      CHECK_UINT_EQ(st.sessions, 1);
    }
    if (!ex_gone && st.exchanges == 0)
      ex_gone = h_now;
    if (st.sessions == 0)
      session_gone = h_now;
    else /* its idle check is never further off than the idle timeout */
      CHECK(pt_timer_armed(&s->idle_timer) &&
            s->idle_timer.node.deadline <= h_now + idle);
  }
  CHECK(ex_gone && session_gone); /* both within the loop's bound */
  CHECK(ex_gone >= sent_at + wait_min);
  CHECK(ex_gone <= sent_at + wait_max + COAP_TICKS_PER_SECOND);
  CHECK(session_gone >= ex_gone);
  CHECK(session_gone <= ex_gone + idle + COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 0);
  h_free(ctx);
}

TEST(unacked_separate_response_holds_its_session_past_exchange_lifetime) {
  CHECK_NO_HEAP_GROWTH(unacked_separate_response);
}

/* Stored answers replaced and duplicates answered many times over: the
 * heap does not grow with the number of messages. */
static void many_duplicates(void) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_dedup_per_session(ctx, 4);
  coap_session_t *s = h_server_session(40000);
  for (int i = 0; i < 300; i++) {
    h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                        (coap_mid_t)(i / 3), 1, "hello"));
  }
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 4);
  h_free(ctx);
}

TEST(duplicates_and_replaced_answers_give_back_every_byte) {
  CHECK_NO_HEAP_GROWTH(many_duplicates);
}

/* Many remembered IDs (many slabs of entries) expire at once: when the
 * last has gone, every slab is freed. */
static void many_expired_entries(void) {
  coap_context_t *ctx = server();
  coap_petrel_context_set_dedup_per_session(ctx, 6000);
  coap_context_set_session_timeout(ctx, 1000);
  coap_session_t *s = h_server_session(40000);
  for (int i = 0; i < 5000; i++)
    h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_PUT, (coap_mid_t)i,
                        1, "hello"));
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 5000);
  h_advance(ctx, 250 * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(stats(ctx).dedup_entries, 0);
  h_free(ctx);
}

TEST(expired_entries_beyond_the_spares_give_back_every_byte) {
  CHECK_NO_HEAP_GROWTH(many_expired_entries);
}

int main(int argc, char **argv) {
  (void)argc;
  if (!__sanitizer_get_current_allocated_bytes) {
    const char *tune = "glibc.malloc.tcache_count=0";
    const char *have = getenv("GLIBC_TUNABLES");
    if (!have || strcmp(have, tune) != 0) {
      setenv("GLIBC_TUNABLES", tune, 1);
      execv("/proc/self/exe", argv);
      printf("cannot run again without the allocator's cache\n");
      return 1;
    }
    mallopt(M_MXFAST, 0);
  }
  RUN(released_client_session_lives_until_its_request_ends);
  RUN(context_freed_with_pending_request_gives_back_every_byte);
  RUN(busy_server_freed_gives_back_every_byte);
  RUN(busy_server_state_ends_by_itself);
  RUN(closed_session_takes_its_state_along);
  RUN(unacked_separate_response_holds_its_session_past_exchange_lifetime);
  RUN(duplicates_and_replaced_answers_give_back_every_byte);
  RUN(expired_entries_beyond_the_spares_give_back_every_byte);
  return TEST_SUMMARY();
}
