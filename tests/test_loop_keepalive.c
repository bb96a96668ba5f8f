/*
 * test_loop_keepalive.c -- keepalive pings through the real event loop on
 * loopback (coap_keepalive(3)): a Petrel server pings an idle raw UDP
 * client, and a Petrel client pings an idle raw UDP server; what is on the
 * wire, when, and what an answer or its absence does. Timing with
 * tolerance for a loaded machine.
 */
#include <pthread.h>

#include "test.h"

#include "session.h"
#include "udp_client.h"

static coap_context_t *ctx;
static uint16_t port;
static int stop_flag;
static pthread_t loop;
static int ka_failures, pongs, new_sessions;

static int on_event(coap_session_t *s, coap_event_t ev) {
  if (ev == COAP_EVENT_SERVER_SESSION_NEW) {
    /* One retransmission of each ping: a failure within seconds. */
    coap_session_set_max_retransmit(s, 1);
    __atomic_add_fetch(&new_sessions, 1, __ATOMIC_RELEASE);
  }
  if (ev == COAP_EVENT_KEEPALIVE_FAILURE)
    __atomic_add_fetch(&ka_failures, 1, __ATOMIC_RELEASE);
  return 0;
}

static void on_pong(coap_session_t *s, const coap_pdu_t *pdu, coap_mid_t mid) {
  (void)s, (void)pdu, (void)mid;
  __atomic_add_fetch(&pongs, 1, __ATOMIC_RELEASE);
}

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

static void *run_loop(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE))
    coap_io_process(ctx, COAP_IO_WAIT);
  return NULL;
}

static coap_address_t loopback(uint16_t p) {
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.addr.sin.sin_port = htons(p);
  a.size = sizeof(a.addr.sin);
  return a;
}

static int start_server(unsigned keepalive) {
  coap_address_t a = loopback(0);
  ctx = coap_new_context(NULL);
  coap_endpoint_t *ep = ctx ? coap_new_endpoint(ctx, &a, COAP_PROTO_UDP) : NULL;
  if (!ep)
    return -1;
  port = coap_address_get_port(&ep->bind_addr);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  coap_register_event_handler(ctx, on_event);
  coap_register_pong_handler(ctx, on_pong);
  coap_context_set_keepalive(ctx, keepalive);
  ka_failures = pongs = new_sessions = 0;
  stop_flag = 0;
  return port ? pthread_create(&loop, NULL, run_loop, NULL) : -1;
}

static void stop_server(void) {
  __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
  udp_client c = udp_client_open(port); /* wakes a blocked loop */
  const uint8_t ping[4] = {0x40, 0, 0xff, 0xff};
  udp_send(&c, ping, 4);
  udp_client_close(&c);
  pthread_join(loop, NULL);
  coap_free_context(ctx);
  ctx = NULL;
}

static uint16_t mid_of(const uint8_t *m) {
  return (uint16_t)(m[2] << 8 | m[3]);
}

/* 1 if @m (@n bytes) is an Empty CON. */
static int is_ping(const uint8_t *m, ssize_t n) {
  return n == 4 && m[0] == 0x40 && m[1] == 0;
}

TEST(server_pings_idle_client_and_reports_unanswered_ping) {
  CHECK_INT_EQ(start_server(1), 0);
  udp_client c = udp_client_open(port);
  /* CON GET /hello, MID 0x2001, token 0x77 */
  const uint8_t req[] = {0x41, 0x01, 0x20, 0x01, 0x77, 0xb5,
                         'h',  'e',  'l',  'l',  'o'};
  uint8_t m[1500];
  udp_send(&c, req, sizeof(req));
  ssize_t n = udp_recv(&c, m, sizeof(m), 2000);
  double t0 = udp_now_ms();
  CHECK(n >= 4 && m[0] == 0x61 && m[1] == 0x45); /* ACK 2.05 */
  /* Idle for the interval (1 s): a ping, not much before. */
  n = udp_recv(&c, m, sizeof(m), 4000);
  double t1 = udp_now_ms();
  CHECK(is_ping(m, n));
  CHECK(t1 - t0 > 800 && t1 - t0 < 3500);
  uint16_t first = mid_of(m);
  CHECK(first != 0x2001);
  const uint8_t rst[4] = {0x70, 0, m[2], m[3]};
  udp_send(&c, rst, 4);
  /* Answered: the next ping comes one interval later, with a new MID. */
  n = udp_recv(&c, m, sizeof(m), 4000);
  double t2 = udp_now_ms();
  CHECK(is_ping(m, n));
  CHECK(t2 - t1 > 800 && t2 - t1 < 3500);
  uint16_t second = mid_of(m);
  CHECK(second != first);
  CHECK_INT_EQ(__atomic_load_n(&pongs, __ATOMIC_ACQUIRE), 1);
  CHECK_INT_EQ(__atomic_load_n(&ka_failures, __ATOMIC_ACQUIRE), 0);
  /* Not answered: retransmitted once (MAX_RETRANSMIT 1 for this test),
   * then the failure is reported once. */
  n = udp_recv(&c, m, sizeof(m), 4000);
  CHECK(is_ping(m, n));
  CHECK_INT_EQ(mid_of(m), second);
  double t3 = udp_now_ms();
  while (!__atomic_load_n(&ka_failures, __ATOMIC_ACQUIRE) &&
         udp_now_ms() - t3 < 5000)
    usleep(10000);
  CHECK_INT_EQ(__atomic_load_n(&ka_failures, __ATOMIC_ACQUIRE), 1);
  /* A server session pings no more once its peer has stopped answering. */
  CHECK_INT_EQ(udp_recv(&c, m, sizeof(m), 2500), -1);
  CHECK_INT_EQ(__atomic_load_n(&ka_failures, __ATOMIC_ACQUIRE), 1);
  CHECK_INT_EQ(__atomic_load_n(&new_sessions, __ATOMIC_ACQUIRE), 1);
  udp_client_close(&c);
  stop_server();
}

TEST(client_pings_idle_server_and_gets_pong) {
  /* A raw UDP "server" on an ephemeral loopback port. */
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof(sa);
  CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  coap_context_t *cctx = coap_new_context(NULL);
  CHECK_NOT_NULL(cctx);
  pongs = ka_failures = 0;
  coap_register_pong_handler(cctx, on_pong);
  coap_register_event_handler(cctx, on_event);
  coap_context_set_keepalive(cctx, 1);
  coap_address_t dst = loopback(ntohs(sa.sin_port));
  coap_session_t *s = coap_new_client_session(cctx, NULL, &dst, COAP_PROTO_UDP);
  CHECK_NOT_NULL(s);
  double t0 = udp_now_ms();
  uint8_t m[64];
  struct sockaddr_in from;
  socklen_t fl = sizeof(from);
  ssize_t n = -1;
  while (n < 0 && udp_now_ms() - t0 < 4000) {
    coap_io_process(cctx, 50);
    n = recvfrom(fd, m, sizeof(m), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
  }
  double t1 = udp_now_ms();
  CHECK(is_ping(m, n));
  CHECK(t1 - t0 > 800 && t1 - t0 < 3500);
  CHECK_INT_EQ(coap_io_pending(cctx), 1); /* the ping awaits its answer */
  const uint8_t rst[4] = {0x70, 0, m[2], m[3]};
  sendto(fd, rst, 4, 0, (struct sockaddr *)&from, fl);
  while (!pongs && udp_now_ms() - t1 < 2000)
    coap_io_process(cctx, 50);
  CHECK_INT_EQ(pongs, 1);
  CHECK_INT_EQ(coap_io_pending(cctx), 0);
  CHECK_INT_EQ(ka_failures, 0);
  coap_session_release(s);
  coap_free_context(cctx);
  close(fd);
}

int main(void) {
  coap_startup();
  RUN(server_pings_idle_client_and_reports_unanswered_ping);
  RUN(client_pings_idle_server_and_gets_pong);
  return TEST_SUMMARY();
}
