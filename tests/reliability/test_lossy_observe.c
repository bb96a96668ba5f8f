/*
 * test_lossy_observe.c -- Observe (RFC 7641) through the fault-injecting
 * relay: 20% loss each way, duplicates, delays and reordering. 100 client
 * sessions observe one resource whose state changes 50 times, every 100
 * ms; every observer must end on the last value, must never be handed an
 * older value after a newer one, and after each cancels, the server must
 * hold no observer.
 *
 * The resource notifies with CON (COAP_RESOURCE_FLAGS_NOTIFY_CON): with
 * NON, a lost last notification would leave a client on an old value for
 * good, which RFC 7641 allows. At one change per 100 ms a CON is often
 * still unacknowledged when the next change comes, so the replacement of a
 * CON in flight (4.5.2) is exercised at every lost datagram. Timing as in
 * test_lossy_path.c: ACK_TIMEOUT 50 ms and MAX_RETRANSMIT 16 on both sides.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "test.h"

#include "context.h"
#include "relay/lossy_relay.h"
#include "session.h"

#define OBSERVERS 100
#define CHANGES 50
#define MAX_RETRANSMIT 16
#define DEADLINE_MS 120000

static int state;
static int last_seen[OBSERVERS]; /* value last delivered, -1 none */
static int older_after_newer;    /* deliveries that went backwards */
static int cancelled[OBSERVERS]; /* answer to the cancellation came */
static int nacks;

static const coap_fixed_point_t ack_timeout = {0, 50};

static uint64_t ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void hnd_get(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  char buf[16];
  int n = snprintf(buf, sizeof(buf), "%d", state);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, (size_t)n, (const uint8_t *)buf);
}

static int server_event(coap_session_t *s, coap_event_t ev) {
  if (ev == COAP_EVENT_SERVER_SESSION_NEW) {
    coap_session_set_ack_timeout(s, ack_timeout);
    coap_session_set_max_retransmit(s, MAX_RETRANSMIT);
  }
  return 0;
}

static coap_context_t *start_server(uint16_t *port, coap_resource_t **res) {
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
  coap_resource_t *r = coap_resource_init(coap_make_str_const("obs"),
                                          COAP_RESOURCE_FLAGS_NOTIFY_CON);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get);
  coap_resource_set_get_observable(r, 1);
  coap_add_resource(ctx, r);
  coap_register_event_handler(ctx, server_event);
  *res = r;
  return ctx;
}

/* The observer's index travels in its one-byte token. */
static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)s, (void)mid;
  coap_bin_const_t t = coap_pdu_get_token(recv);
  size_t len;
  const uint8_t *data;
  if (!sent || t.length != 1 || t.s[0] >= OBSERVERS)
    return COAP_RESPONSE_FAIL;
  int id = t.s[0];
  coap_opt_iterator_t it;
  if (!coap_check_option(recv, COAP_OPTION_OBSERVE, &it)) {
    cancelled[id] = 1; /* the answer to Observe: 1 */
    return COAP_RESPONSE_OK;
  }
  if (!coap_get_data(recv, &len, &data) || len > 8)
    return COAP_RESPONSE_OK;
  char buf[9];
  memcpy(buf, data, len);
  buf[len] = 0;
  int v = atoi(buf);
  if (v < last_seen[id])
    older_after_newer++;
  last_seen[id] = v;
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  fprintf(stderr, "NACK reason %d\n", (int)reason);
  nacks++;
}

static int count_at(int value) {
  int n = 0;
  for (int i = 0; i < OBSERVERS; i++)
    n += last_seen[i] == value;
  return n;
}

static int count_cancelled(void) {
  int n = 0;
  for (int i = 0; i < OBSERVERS; i++)
    n += cancelled[i];
  return n;
}

static void pump(coap_context_t *a, coap_context_t *b) {
  coap_io_process(a, 2);
  coap_io_process(b, 2);
}

TEST(hundred_observers_through_a_lossy_relay_end_on_the_last_value) {
  coap_startup();
  uint16_t srv_port = 0;
  coap_resource_t *res = NULL;
  coap_context_t *server = start_server(&srv_port, &res);
  CHECK_NOT_NULL(server);
  struct sockaddr_in up = {.sin_family = AF_INET,
                           .sin_port = htons(srv_port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  relay_fault f = {.loss = 0.2,
                   .dup = 0.05,
                   .reorder = 0.05,
                   .delay_ms = 20,
                   .extra_ms = 100};
  relay *rel = relay_start((struct sockaddr *)&up, sizeof(up), &f, &f, 11);
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
  coap_session_t *sess[OBSERVERS];
  for (int i = 0; i < OBSERVERS; i++) {
    last_seen[i] = -1;
    sess[i] = coap_new_client_session(client, NULL, &via, COAP_PROTO_UDP);
    CHECK_NOT_NULL(sess[i]);
    coap_session_set_ack_timeout(sess[i], ack_timeout);
    coap_session_set_max_retransmit(sess[i], MAX_RETRANSMIT);
    coap_pdu_t *p =
        coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, sess[i]);
    uint8_t tok = (uint8_t)i, zero = 0;
    coap_add_token(p, 1, &tok);
    coap_add_option(p, COAP_OPTION_OBSERVE, 0, &zero);
    coap_add_option(p, COAP_OPTION_URI_PATH, 3, (const uint8_t *)"obs");
    CHECK(coap_send(sess[i], p) != COAP_INVALID_MID);
  }
  uint64_t t0 = ms_now();
  coap_petrel_stats_t st;
  do {
    pump(server, client);
    coap_petrel_context_get_stats(server, &st);
  } while ((st.observers < OBSERVERS || count_at(0) < OBSERVERS) &&
           ms_now() - t0 < DEADLINE_MS);
  CHECK_UINT_EQ(st.observers, OBSERVERS);
  CHECK_INT_EQ(count_at(0), OBSERVERS);

  for (int change = 1; change <= CHANGES; change++) {
    state = change;
    coap_resource_notify_observers(res, NULL);
    for (uint64_t t1 = ms_now(); ms_now() - t1 < 100;)
      pump(server, client);
  }
  while (count_at(CHANGES) < OBSERVERS && nacks == 0 &&
         ms_now() - t0 < DEADLINE_MS)
    pump(server, client);
  uint64_t took = ms_now() - t0;

  for (int i = 0; i < OBSERVERS; i++) {
    coap_binary_t tok = {1, (uint8_t[]){(uint8_t)i}};
    CHECK_INT_EQ(coap_cancel_observe(sess[i], &tok, COAP_MESSAGE_CON), 1);
  }
  do {
    pump(server, client);
    coap_petrel_context_get_stats(server, &st);
  } while ((st.observers > 0 || count_cancelled() < OBSERVERS) &&
           ms_now() - t0 < DEADLINE_MS);
  relay_stats rs = relay_get_stats(rel);
  printf("%d of %d observers on the last value after %llu ms; relay up: "
         "%llu in, %llu dropped; down: %llu in, %llu dropped; %zu observers "
         "left, %d cancellations answered\n",
         count_at(CHANGES), OBSERVERS, (unsigned long long)took,
         (unsigned long long)rs.in[0], (unsigned long long)rs.dropped[0],
         (unsigned long long)rs.in[1], (unsigned long long)rs.dropped[1],
         st.observers, count_cancelled());
  CHECK_INT_EQ(nacks, 0);
  CHECK_INT_EQ(older_after_newer, 0);
  CHECK_INT_EQ(count_at(CHANGES), OBSERVERS);
  CHECK_UINT_EQ(st.observers, 0);
  CHECK_INT_EQ(count_cancelled(), OBSERVERS);
  CHECK(rs.dropped[0] > 0 && rs.dropped[1] > 0);
  relay_stop(rel);
  for (int i = 0; i < OBSERVERS; i++)
    coap_session_release(sess[i]);
  coap_free_context(client);
  coap_free_context(server);
  coap_cleanup();
}

int main(void) {
  RUN(hundred_observers_through_a_lossy_relay_end_on_the_last_value);
  return TEST_SUMMARY();
}
