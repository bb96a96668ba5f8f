/*
 * test_lossy_path.c -- a Petrel client and a Petrel server on loopback with
 * the fault-injecting relay between them: 20% loss each way, plus
 * duplicates, delays and reordering. 1,000 CON GET /async?1 (separate
 * responses) and 1,000 CON GET /hello (piggybacked) from 200 client
 * sessions must each complete with the response handler called exactly
 * once, and each server handler must run once per request (the async one
 * twice: registration and the delayed call). Afterwards, with the clock
 * moved past EXCHANGE_LIFETIME, the server holds no state at all (read
 * through coap_petrel_context_get_stats()).
 *
 * Timing: at 20% loss each way a CON and its answer both get through with
 * probability 0.64, so over some 3,000 CONs a run of 11 or more failed
 * attempts in a row is likely somewhere, and exponential back-off makes
 * that CON's wait 2^k times ACK_TIMEOUT. Both sides therefore use
 * ACK_TIMEOUT 50 ms (the relay's median round trip is about 20 ms) and
 * MAX_RETRANSMIT 16 (RFC 7252 4.8 lets both be changed): a run exceeds the
 * 280 s deadline only if some CON fails 13 times in a row (about 0.5% of
 * runs), and a NACK needs 17 failures in a row (1e-4 of runs). The
 * deadline covers the server's 1,000 separate responses too, which must
 * all be acknowledged before the client goes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

#include "test.h"

#include "../../examples/seed_handler.h"
#include "clock.h"
#include "context.h"
#include "dedup.h"
#include "exchange.h"
#include "relay/lossy_relay.h"
#include "session.h"
#include "timer.h"

#define PER_KIND 1000
#define TOTAL (2 * PER_KIND)
#define SESSIONS 200
#define MAX_RETRANSMIT 16
#define DEADLINE_MS 280000

static int responses[TOTAL];
static int bad_responses;
static int nacks;
static int hello_runs[TOTAL];
static int async_first[TOTAL], async_delayed[TOTAL];
static unsigned lifetime_s;

static const coap_fixed_point_t ack_timeout = {0, 50};

static uint64_t ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Request ids travel in the token (4 bytes): unique across the run. */
static int token_id(const coap_pdu_t *pdu) {
  coap_bin_const_t t = coap_pdu_get_token(pdu);
  if (t.length != 4)
    return -1;
  uint32_t id = (uint32_t)t.s[0] << 24 | (uint32_t)t.s[1] << 16 |
                (uint32_t)t.s[2] << 8 | t.s[3];
  return id < TOTAL ? (int)id : -1;
}

/* ---- server ----------------------------------------------------------------
 */

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  int id = token_id(req);
  if (id >= 0)
    hello_runs[id]++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

/* Counts, then runs the seed page's handler unchanged. */
static void hnd_async(coap_session_t *s, coap_resource_t *r, coap_pdu_t *req,
                      coap_string_t *q, coap_pdu_t *resp) {
  int id = token_id(req);
  if (id >= 0) {
    if (coap_find_async(s, coap_pdu_get_token(req)))
      async_delayed[id]++;
    else
      async_first[id]++;
  }
  hnd_get_with_delay(s, r, req, q, resp);
}

static int server_event(coap_session_t *s, coap_event_t ev) {
  if (ev == COAP_EVENT_SERVER_SESSION_NEW) {
    coap_session_set_ack_timeout(s, ack_timeout);
    coap_session_set_max_retransmit(s, MAX_RETRANSMIT);
    if (pt_exchange_lifetime(s) / COAP_TICKS_PER_SECOND + 1 != lifetime_s)
      lifetime_s = 0; /* the test then fails */
  }
  return 0;
}

static coap_context_t *start_server(uint16_t *port) {
  coap_context_t *ctx = coap_new_context(NULL);
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &a, COAP_PROTO_UDP);
  if (!ep)
    return NULL;
  *port = coap_address_get_port(&ep->bind_addr);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("async"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_async);
  coap_add_resource(ctx, r);
  coap_register_event_handler(ctx, server_event);
  return ctx;
}

/* ---- client ----------------------------------------------------------------
 */

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  int id = token_id(recv);
  size_t len;
  const uint8_t *data;
  if (id < 0 || coap_pdu_get_code(recv) != COAP_RESPONSE_CODE_CONTENT ||
      !coap_get_data(recv, &len, &data)) {
    bad_responses++;
    return COAP_RESPONSE_OK;
  }
  const char *want = id % 2 ? "hello" : "done";
  if (len != strlen(want) || memcmp(data, want, len) != 0)
    bad_responses++;
  responses[id]++;
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  fprintf(stderr, "NACK reason %d\n", (int)reason);
  nacks++;
}

static int send_request(coap_session_t *s, uint32_t id) {
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  uint8_t tok[4] = {(uint8_t)(id >> 24), (uint8_t)(id >> 16),
                    (uint8_t)(id >> 8), (uint8_t)id};
  coap_add_token(p, 4, tok);
  if (id % 2) {
    coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"hello");
  } else {
    coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"async");
    coap_add_option(p, COAP_OPTION_URI_QUERY, 1, (const uint8_t *)"1");
  }
  return coap_send(s, p) == COAP_INVALID_MID ? -1 : 0;
}

static int completed(void) {
  int n = 0;
  for (int i = 0; i < TOTAL; i++)
    n += responses[i] > 0;
  return n;
}

/* What a server session left behind still holds, relative to @t0. */
static void show_left(coap_context_t *ctx, coap_tick_t t0) {
  for (coap_session_t *s = ctx->lru_head; s; s = s->next) {
    printf("left: session port %u, ref %u, last datagram at %+lld ms, idle "
           "timer %s at %+lld ms\n",
           coap_address_get_port(&s->remote), s->ref,
           (long long)(s->last_activity - t0),
           pt_timer_armed(&s->idle_timer) ? "armed" : "NOT armed",
           (long long)(s->idle_timer.node.deadline - t0));
    for (pt_exchange *ex = s->exchanges; ex; ex = ex->next)
      printf("left:   exchange mid %d, %u retransmissions, awaiting ack %d, "
             "timer at %+lld ms\n",
             ex->mid, ex->retransmits, ex->awaiting_ack,
             (long long)(ex->timer.node.deadline - t0));
  }
}

/* ---- the test ------------------------------------------------------------ */

TEST(two_thousand_cons_through_a_lossy_relay) {
  coap_startup();
  uint16_t srv_port = 0;
  coap_context_t *server = start_server(&srv_port);
  CHECK_NOT_NULL(server);
  struct sockaddr_in up = {.sin_family = AF_INET,
                           .sin_port = htons(srv_port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  relay_fault f = {.loss = 0.2,
                   .dup = 0.05,
                   .reorder = 0.05,
                   .delay_ms = 20,
                   .extra_ms = 100};
  relay *rel = relay_start((struct sockaddr *)&up, sizeof(up), &f, &f, 7);
  CHECK_NOT_NULL(rel);

  coap_context_t *client = coap_new_context(NULL);
  coap_register_response_handler(client, on_response);
  coap_register_nack_handler(client, on_nack);
  coap_address_t via;
  coap_address_init(&via);
  via.addr.sin.sin_family = AF_INET;
  via.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  via.addr.sin.sin_port = htons(relay_port(rel));
  via.size = sizeof(via.addr.sin);
  coap_session_t *sess[SESSIONS];
  for (int i = 0; i < SESSIONS; i++) {
    sess[i] = coap_new_client_session(client, NULL, &via, COAP_PROTO_UDP);
    CHECK_NOT_NULL(sess[i]);
    coap_session_set_ack_timeout(sess[i], ack_timeout);
    coap_session_set_max_retransmit(sess[i], MAX_RETRANSMIT);
  }
  /* EXCHANGE_LIFETIME with these parameters (both sides use the same);
   * server sessions idle out sooner, after the default 300 s. */
  lifetime_s =
      (unsigned)(pt_exchange_lifetime(sess[0]) / COAP_TICKS_PER_SECOND) + 1;
  for (uint32_t id = 0; id < TOTAL; id++)
    CHECK_INT_EQ(send_request(sess[id % SESSIONS], id), 0);

  uint64_t t0 = ms_now();
  while (completed() < TOTAL && nacks == 0 && ms_now() - t0 < DEADLINE_MS) {
    coap_io_process(server, 2);
    coap_io_process(client, 2);
  }
  uint64_t took = ms_now() - t0;
  /* A separate response is a CON of the server's own: the client has it,
   * but its ACK may still be lost on the way back while the server backs
   * off. Without the client such a CON lives on for MAX_TRANSMIT_WAIT
   * (longer than EXCHANGE_LIFETIME), so the client stays until the server
   * holds no exchange, and 3 s after that (the relay's delays are far
   * shorter) late retransmissions and duplicates arrive: nothing may run
   * twice. */
  coap_petrel_stats_t st;
  uint64_t quiet_since = ms_now();
  while (ms_now() - quiet_since < 3000) {
    coap_io_process(server, 2);
    coap_io_process(client, 2);
    coap_petrel_context_get_stats(server, &st);
    if ((st.exchanges || st.asyncs) && ms_now() - t0 < DEADLINE_MS)
      quiet_since = ms_now();
  }
  uint64_t quiet = quiet_since - t0;
  relay_stats rs = relay_get_stats(rel);
  printf(
      "%d of %d completed in %llu ms, server quiet after %llu ms; relay "
      "up: %llu in, %llu dropped, %llu duplicated; down: %llu in, %llu "
      "dropped, %llu duplicated\n",
      completed(), TOTAL, (unsigned long long)took, (unsigned long long)quiet,
      (unsigned long long)rs.in[0], (unsigned long long)rs.dropped[0],
      (unsigned long long)rs.duplicated[0], (unsigned long long)rs.in[1],
      (unsigned long long)rs.dropped[1], (unsigned long long)rs.duplicated[1]);
  for (int id = 0, shown = 0; id < TOTAL && shown < 10; id++)
    if (responses[id] != 1 && ++shown)
      printf("request %d (session %d): %d responses, server runs %d/%d/%d\n",
             id, id % SESSIONS, responses[id], hello_runs[id], async_first[id],
             async_delayed[id]);
  CHECK_INT_EQ(nacks, 0);
  CHECK_INT_EQ(bad_responses, 0);
  CHECK_INT_EQ(completed(), TOTAL);
  for (int id = 0; id < TOTAL; id++) {
    CHECK_INT_EQ(responses[id], 1);
    if (id % 2) {
      CHECK_INT_EQ(hello_runs[id], 1);
    } else {
      CHECK_INT_EQ(async_first[id], 1);
      CHECK_INT_EQ(async_delayed[id], 1);
    }
  }
  CHECK(rs.dropped[0] > 0 && rs.dropped[1] > 0);
  coap_petrel_context_get_stats(server, &st);
  CHECK_UINT_EQ(st.exchanges, 0); /* every separate response acknowledged */
  CHECK_UINT_EQ(st.asyncs, 0);
  relay_stop(rel);

  for (int i = 0; i < SESSIONS; i++)
    coap_session_release(sess[i]);
  coap_petrel_context_get_stats(client, &st);
  CHECK_UINT_EQ(st.exchanges, 0);
  coap_free_context(client);

  /* EXCHANGE_LIFETIME after the last datagram (the fake clock jumps):
   * nothing is left. */
  coap_petrel_context_get_stats(server, &st);
  CHECK_UINT_EQ(st.sessions, SESSIONS);
  coap_tick_t fake = pt_clock_now();
  coap_tick_t start = fake;
  coap_tick_t end = fake + (coap_tick_t)lifetime_s * COAP_TICKS_PER_SECOND;
  pt_clock_set_fake(&fake);
  /* Time jumps from deadline to deadline, so every timer fires when due. */
  for (coap_tick_t next; (next = pt_timers_next(server)) && next <= end;) {
    fake = next > fake ? next : fake;
    coap_io_process(server, COAP_IO_NO_WAIT);
  }
  fake = end;
  coap_io_process(server, COAP_IO_NO_WAIT);
  coap_petrel_context_get_stats(server, &st);
  printf("EXCHANGE_LIFETIME %u s later: %zu sessions, %zu exchanges, %zu "
         "dedup entries, %zu asyncs\n",
         lifetime_s, st.sessions, st.exchanges, st.dedup_entries, st.asyncs);
  show_left(server, start);
  fflush(stdout); /* a failed check leaks, and the leak report exits */
  CHECK_UINT_EQ(st.sessions, 0);
  CHECK_UINT_EQ(st.exchanges, 0);
  CHECK_UINT_EQ(st.dedup_entries, 0);
  CHECK_UINT_EQ(st.asyncs, 0);
  pt_clock_set_fake(NULL);
  coap_free_context(server);
  coap_cleanup();
}

int main(void) {
  RUN(two_thousand_cons_through_a_lossy_relay);
  return TEST_SUMMARY();
}
