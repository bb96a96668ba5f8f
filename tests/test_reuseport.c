/*
 * test_reuseport.c -- several contexts on one port
 * (coap_petrel_context_set_reuseport(), doc/scaling.md): two contexts
 * bind the same loopback port, the kernel spreads peers over them by
 * their address and port, and each peer stays with one context. Both
 * contexts are driven from this thread with COAP_IO_NO_WAIT, as two
 * workers would drive theirs.
 */
#include <coap3/coap.h>
#include <stdlib.h>

#include "test.h"

#include "udp_client.h"

#define PEERS 64

static void hnd_a(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                  const coap_string_t *q, coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 1, (const uint8_t *)"A");
}

static void hnd_b(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                  const coap_string_t *q, coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 1, (const uint8_t *)"B");
}

/* A context serving /hello with @h, SO_REUSEPORT as @reuse, on
 * 127.0.0.1:@port (0: a free port, written back). NULL if it cannot bind. */
static coap_context_t *worker(coap_method_handler_t h, int reuse,
                              uint16_t *port) {
  coap_context_t *ctx = coap_new_context(NULL);
  if (!ctx)
    return NULL;
  coap_petrel_context_set_reuseport(ctx, reuse);
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.addr.sin.sin_port = htons(*port);
  a.size = sizeof(a.addr.sin);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &a, COAP_PROTO_UDP);
  if (!ep) {
    coap_free_context(ctx);
    return NULL;
  }
  if (*port == 0) {
    const char *d = coap_endpoint_str(ep); /* "127.0.0.1:PORT ..." */
    const char *colon = strrchr(d, ':');
    *port = (uint16_t)atoi(colon ? colon + 1 : "0");
  }
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, h);
  coap_add_resource(ctx, r);
  return ctx;
}

/* CON GET /hello, token = @peer, MID @mid. */
static void send_get(udp_client *c, int peer, uint16_t mid) {
  uint8_t m[] = {0x41,
                 0x01,
                 (uint8_t)(mid >> 8),
                 (uint8_t)mid,
                 (uint8_t)peer,
                 0xB5,
                 'h',
                 'e',
                 'l',
                 'l',
                 'o'};
  udp_send(c, m, sizeof(m));
}

/* Runs both contexts until every peer has an answer; returns the name of
 * the context that answered each in @who ('A' or 'B', 0: none). */
static void serve_round(coap_context_t *a, coap_context_t *b, udp_client *c,
                        char *who, uint16_t mid) {
  for (int i = 0; i < PEERS; i++) {
    who[i] = 0;
    send_get(&c[i], i, mid);
  }
  double t0 = udp_now_ms();
  int left = PEERS;
  while (left > 0 && udp_now_ms() - t0 < 5000) {
    coap_io_process(a, COAP_IO_NO_WAIT);
    coap_io_process(b, COAP_IO_NO_WAIT);
    for (int i = 0; i < PEERS; i++) {
      uint8_t buf[64];
      if (who[i] || recv(c[i].fd, buf, sizeof(buf), MSG_DONTWAIT) < 7)
        continue;
      /* ACK 2.05, token = i, payload "A" or "B" after the marker */
      if (buf[0] == 0x61 && buf[1] == 0x45 && buf[4] == i && buf[5] == 0xFF)
        who[i] = (char)buf[6];
      left--;
    }
  }
}

TEST(reuseport_is_off_by_default_and_set_per_context) {
  coap_context_t *ctx = coap_new_context(NULL);
  CHECK_INT_EQ(coap_petrel_context_get_reuseport(ctx), 0);
  coap_petrel_context_set_reuseport(ctx, 7);
  CHECK_INT_EQ(coap_petrel_context_get_reuseport(ctx), 1);
  coap_petrel_context_set_reuseport(ctx, 0);
  CHECK_INT_EQ(coap_petrel_context_get_reuseport(ctx), 0);
  coap_petrel_context_set_reuseport(NULL, 1); /* ignored */
  CHECK_INT_EQ(coap_petrel_context_get_reuseport(NULL), 0);
  coap_free_context(ctx);
}

/* Without the setter, Linux still lets the second context bind (every
 * endpoint sets SO_REUSEADDR, as libcoap's do), but it delivers every
 * peer's datagrams to one socket: nothing is spread. */
TEST(without_reuseport_peers_are_not_spread) {
  uint16_t port = 0;
  coap_context_t *a = worker(hnd_a, 0, &port);
  coap_context_t *b = worker(hnd_b, 0, &port);
  CHECK(a != NULL);
  if (!a || !b) {
    if (a)
      coap_free_context(a);
    return; /* a kernel that refuses the second bind spreads nothing */
  }
  udp_client c[PEERS];
  for (int i = 0; i < PEERS; i++)
    c[i] = udp_client_open(port);
  char who[PEERS];
  serve_round(a, b, c, who, 0x300);
  int on_a = 0, on_b = 0;
  for (int i = 0; i < PEERS; i++) {
    on_a += who[i] == 'A';
    on_b += who[i] == 'B';
  }
  CHECK_INT_EQ(on_a + on_b, PEERS);
  CHECK(on_a == 0 || on_b == 0);
  for (int i = 0; i < PEERS; i++)
    udp_client_close(&c[i]);
  coap_free_context(a);
  coap_free_context(b);
}

TEST(two_contexts_share_a_port_and_each_peer_stays_with_one) {
  uint16_t port = 0;
  coap_context_t *a = worker(hnd_a, 1, &port);
  coap_context_t *b = worker(hnd_b, 1, &port);
  CHECK(a != NULL);
  CHECK(b != NULL);
  if (!a || !b)
    return;
  udp_client c[PEERS];
  for (int i = 0; i < PEERS; i++)
    c[i] = udp_client_open(port);
  char first[PEERS], second[PEERS];
  serve_round(a, b, c, first, 0x100);
  serve_round(a, b, c, second, 0x200);
  int on_a = 0, on_b = 0, moved = 0, missing = 0;
  for (int i = 0; i < PEERS; i++) {
    missing += !first[i] || !second[i];
    moved += first[i] != second[i];
    on_a += first[i] == 'A';
    on_b += first[i] == 'B';
  }
  CHECK_INT_EQ(missing, 0);
  CHECK_INT_EQ(moved, 0);
  /* 64 peers on two sockets: all on one would mean no spreading (a
   * chance of 2^-63 with a working hash). */
  CHECK(on_a > 0);
  CHECK(on_b > 0);
  for (int i = 0; i < PEERS; i++)
    udp_client_close(&c[i]);
  coap_free_context(a);
  coap_free_context(b);
}

int main(void) {
  coap_startup();
  coap_set_log_level(COAP_LOG_EMERG);
  RUN(reuseport_is_off_by_default_and_set_per_context);
  RUN(without_reuseport_peers_are_not_spread);
  RUN(two_contexts_share_a_port_and_each_peer_stays_with_one);
  coap_cleanup();
  return TEST_SUMMARY();
}
