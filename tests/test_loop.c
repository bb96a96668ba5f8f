/*
 * test_loop.c -- the real event loop on loopback: a Petrel server in its
 * own thread, a raw UDP client checking types, codes, message IDs, tokens
 * and options of what is on the wire, timing with tolerance, and wake-ups
 * from other threads and through an application's own epoll.
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "test.h"

#include "context.h"
#include "session.h"

#include "../examples/seed_handler.h"
#include "udp_client.h"

static coap_context_t *ctx;
static coap_endpoint_t *server_ep;
static uint16_t port;
static int stop_flag;
static pthread_t loop;

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 12, (const uint8_t *)"Hello World!");
}

/* /wait registers with delay 0; the test triggers it from its own thread. */
static coap_async_t *volatile parked;

static void hnd_wait(coap_resource_t *r, coap_session_t *s,
                     const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp) {
  (void)r, (void)q;
  coap_async_t *a = coap_find_async(s, coap_pdu_get_token(req));
  if (!a) {
    __atomic_store_n(&parked, coap_register_async(s, req, 0), __ATOMIC_RELEASE);
    return;
  }
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"woken");
}

static coap_tick_t coap_ticks_now_for_test(void) {
  coap_tick_t now;
  coap_ticks(&now);
  return now;
}

static void *run_loop(void *arg) {
  uint32_t timeout = (uint32_t)(uintptr_t)arg;
  while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE))
    coap_io_process(ctx, timeout);
  return NULL;
}

/* 127.0.0.1 with port 0: the kernel picks an ephemeral port. */
static coap_address_t loopback_any_port(void) {
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  return a;
}

/* Starts a server on 127.0.0.1 with an ephemeral port; its loop runs
 * coap_io_process(ctx, @timeout_ms) in a thread (COAP_IO_WAIT blocks until
 * something happens). */
static int start_server(uint32_t timeout_ms) {
  coap_address_t a = loopback_any_port();
  ctx = coap_new_context(NULL);
  coap_endpoint_t *ep = ctx ? coap_new_endpoint(ctx, &a, COAP_PROTO_UDP) : NULL;
  if (!ep)
    return -1;
  server_ep = ep;
  port = coap_address_get_port(&ep->bind_addr);
  const char *names[] = {"hello", "async", "wait"};
  for (int i = 0; i < 3; i++) {
    coap_resource_t *r = coap_resource_init(coap_make_str_const(names[i]), 0);
    if (i == 0)
      coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
    else if (i == 1)
      coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
    else
      coap_register_handler(r, COAP_REQUEST_GET, hnd_wait);
    coap_add_resource(ctx, r);
  }
  stop_flag = 0;
  parked = NULL;

  return pthread_create(&loop, NULL, run_loop, (void *)(uintptr_t)timeout_ms);
}

static void stop_server(void) {
  __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
  /* a blocked COAP_IO_WAIT loop is woken by a datagram to itself */
  udp_client c = udp_client_open(port);
  const uint8_t ping[4] = {0x40, 0, 0xff, 0xff};
  udp_send(&c, ping, 4);
  udp_client_close(&c);
  pthread_join(loop, NULL);
  coap_free_context(ctx);
  ctx = NULL;
}

/* A GET with a one-byte token, Uri-Path @path and an optional query. */
static size_t build_get(uint8_t *buf, uint8_t type, uint16_t mid, uint8_t tok,
                        const char *path, const char *query) {
  size_t n = 0, plen = strlen(path);
  buf[n++] = (uint8_t)(0x41 | type << 4);
  buf[n++] = COAP_REQUEST_CODE_GET;
  buf[n++] = (uint8_t)(mid >> 8);
  buf[n++] = (uint8_t)mid;
  buf[n++] = tok;
  buf[n++] = (uint8_t)(0xb0 | plen); /* Uri-Path (11), short */
  memcpy(buf + n, path, plen);
  n += plen;
  if (query) {
    size_t qlen = strlen(query);
    buf[n++] = (uint8_t)(0x40 | qlen); /* Uri-Query (15): delta 4 */
    memcpy(buf + n, query, qlen);
    n += qlen;
  }
  return n;
}

#define T_CON 0
#define T_NON 1

static uint16_t mid_of(const uint8_t *m) {
  return (uint16_t)(m[2] << 8 | m[3]);
}

TEST(piggybacked_get_on_the_wire) {
  CHECK_INT_EQ(start_server(100), 0);
  udp_client c = udp_client_open(port);
  uint8_t req[64], resp[1500];
  size_t n = build_get(req, T_CON, 0x1234, 0x5a, "hello", NULL);
  CHECK_INT_EQ(udp_send(&c, req, n), 0);
  ssize_t r = udp_recv(&c, resp, sizeof(resp), 2000);
  udp_client_close(&c);
  stop_server();
  CHECK(r > 0);
  CHECK_UINT_EQ(resp[0], 0x61); /* v1 ACK TKL 1 */
  CHECK_UINT_EQ(resp[1], 0x45); /* 2.05 */
  CHECK_UINT_EQ(mid_of(resp), 0x1234);
  CHECK_UINT_EQ(resp[4], 0x5a);
  CHECK_UINT_EQ(resp[5], 0xff); /* no options, payload marker */
  CHECK_MEM_EQ(resp + 6, (size_t)r - 6, "Hello World!", 12);
}

TEST(separate_con_on_the_wire) {
  CHECK_INT_EQ(start_server(COAP_IO_WAIT), 0);
  udp_client c = udp_client_open(port);
  uint8_t req[64], resp[1500];
  size_t n = build_get(req, T_CON, 0x40b4, 0x01, "async", "1");
  double t0 = udp_now_ms();
  udp_send(&c, req, n);
  ssize_t r1 = udp_recv(&c, resp, sizeof(resp), 1000);
  double t1 = udp_now_ms();
  CHECK_INT_EQ(r1, 4);
  CHECK_MEM_EQ(resp, 4, "\x60\x00\x40\xb4", 4); /* Empty ACK at once */
  CHECK(t1 - t0 < 500);
  ssize_t r2 = udp_recv(&c, resp, sizeof(resp), 3000);
  double t2 = udp_now_ms();
  CHECK(r2 > 0);
  CHECK(t2 - t0 > 900 && t2 - t0 < 2500); /* delay 1 s, with tolerance */
  CHECK_UINT_EQ(resp[0], 0x41);           /* CON, TKL 1 */
  CHECK_UINT_EQ(resp[1], 0x45);           /* 2.05 */
  CHECK(mid_of(resp) != 0x40b4);          /* a fresh MID */
  CHECK_UINT_EQ(resp[4], 0x01);           /* the request's token */
  CHECK_UINT_EQ(resp[5], 0xc0);           /* Content-Format (12), empty = 0 */
  CHECK_UINT_EQ(resp[6], 0xff);
  CHECK_MEM_EQ(resp + 7, (size_t)r2 - 7, "done", 4);
  uint8_t ack[4] = {0x60, 0, resp[2], resp[3]};
  udp_send(&c, ack, 4);
  /* acknowledged: nothing more comes */
  CHECK_INT_EQ(udp_recv(&c, resp, sizeof(resp), 2500), -1);
  udp_client_close(&c);
  stop_server();
}

TEST(separate_non_on_the_wire) {
  CHECK_INT_EQ(start_server(COAP_IO_WAIT), 0);
  udp_client c = udp_client_open(port);
  uint8_t req[64], resp[1500];
  size_t n = build_get(req, T_NON, 0x553e, 0x02, "async", "1");
  udp_send(&c, req, n);
  ssize_t r = udp_recv(&c, resp, sizeof(resp), 3000);
  udp_client_close(&c);
  stop_server();
  CHECK(r > 0);
  CHECK_UINT_EQ(resp[0], 0x51); /* NON, TKL 1 */
  CHECK_UINT_EQ(resp[1], 0x45);
  CHECK(mid_of(resp) != 0x553e);
  CHECK_UINT_EQ(resp[4], 0x02);
}

TEST(separate_con_is_retransmitted_without_ack) {
  CHECK_INT_EQ(start_server(COAP_IO_WAIT), 0);
  udp_client c = udp_client_open(port);
  uint8_t req[64], first[1500], again[1500];
  size_t n = build_get(req, T_CON, 0x0101, 0x03, "async", "1");
  udp_send(&c, req, n);
  udp_recv(&c, first, sizeof(first), 1000); /* Empty ACK */
  ssize_t r1 = udp_recv(&c, first, sizeof(first), 3000);
  double t1 = udp_now_ms();
  ssize_t r2 = udp_recv(&c, again, sizeof(again), 4000);
  double t2 = udp_now_ms();
  udp_client_close(&c);
  stop_server();
  CHECK(r1 > 0);
  CHECK_MEM_EQ(again, r2, first, r1);      /* the same message, same MID */
  CHECK(t2 - t1 > 1800 && t2 - t1 < 4500); /* ACK_TIMEOUT x [1, 1.5] */
}

TEST(trigger_from_another_thread_wakes_a_blocked_loop) {
  CHECK_INT_EQ(start_server(COAP_IO_WAIT), 0);
  udp_client c = udp_client_open(port);
  uint8_t req[64], resp[1500];
  size_t n = build_get(req, T_NON, 0x0202, 0x04, "wait", NULL);
  udp_send(&c, req, n);
  coap_async_t *a = NULL;
  for (int i = 0; i < 200 && !a; i++) {
    usleep(5000);
    a = __atomic_load_n(&parked, __ATOMIC_ACQUIRE);
  }
  CHECK_NOT_NULL(a);
  usleep(100000); /* the loop is now blocked in epoll_wait */
  double t0 = udp_now_ms();
  coap_async_trigger(a);
  ssize_t r = udp_recv(&c, resp, sizeof(resp), 2000);
  double t1 = udp_now_ms();
  udp_client_close(&c);
  stop_server();
  CHECK(r > 0);
  CHECK_MEM_EQ(resp + r - 5, 5, "woken", 5);
  /* The loop blocks in COAP_IO_WAIT with no timer armed: without the wake
   * it would never answer. The bound leaves room for a loaded machine. */
  CHECK(t1 - t0 < 500);
}

/* A burst of random datagrams (many malformed, some valid-looking) from one
 * peer leaves the server answering another peer. */
TEST(random_datagram_burst_leaves_server_serving) {
  CHECK_INT_EQ(start_server(50), 0);
  udp_client noise = udp_client_open(port);
  uint32_t x = 12345;
  uint8_t junk[256];
  for (int i = 0; i < 5000; i++) {
    size_t len = 0;
    x = x * 1103515245u + 12345u;
    len = (x >> 16) % sizeof(junk);
    for (size_t j = 0; j < len; j++) {
      x = x * 1103515245u + 12345u;
      junk[j] = (uint8_t)(x >> 16);
    }
    if (len >= 1 && (i & 1))
      junk[0] = (uint8_t)(0x40 | (junk[0] & 0x3f)); /* version 1 */
    udp_send(&noise, junk, len);
    if (i % 100 == 0)
      usleep(1000); /* stay within the socket buffers */
  }
  udp_client c = udp_client_open(port);
  uint8_t req[64], resp[1500];
  size_t n = build_get(req, T_CON, 0x4444, 0x66, "hello", NULL);
  /* Sent again, as a CON is, while unanswered: the burst may still fill
   * the server's socket buffer on a slow machine, and the kernel then
   * drops the request before the server sees it. */
  ssize_t r = -1;
  for (int tries = 0; tries < 6 && r <= 0; tries++) {
    udp_send(&c, req, n);
    r = udp_recv(&c, resp, sizeof(resp), 1000 * test_time_scale());
  }
  udp_client_close(&c);
  udp_client_close(&noise);
  stop_server();
  CHECK(r > 0);
  CHECK_UINT_EQ(resp[1], 0x45);
  CHECK_UINT_EQ(mid_of(resp), 0x4444);
}

static int nacks;
static coap_nack_reason_t nack_reason;

static int icmp_nacks;

static void on_nack_count(coap_session_t *s, const coap_pdu_t *sent,
                          const coap_nack_reason_t reason,
                          const coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  if (reason == COAP_NACK_ICMP_ISSUE)
    icmp_nacks++;
  else
    nacks++;
  nack_reason = reason;
}

/* A free UDP port on 127.0.0.1 (nothing listens on it afterwards). */
static struct sockaddr_in free_port(void) {
  int probe = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof(sa);
  bind(probe, (struct sockaddr *)&sa, sizeof(sa));
  getsockname(probe, (struct sockaddr *)&sa, &sl);
  close(probe);
  return sa;
}

/* A client session to @sa with ACK_TIMEOUT 0.1 s and one CON GET sent. */
static coap_session_t *send_to(coap_context_t *cctx, struct sockaddr_in sa,
                               int max_retransmit) {
  coap_address_t dst;
  coap_address_init(&dst);
  dst.addr.sin = sa;
  dst.size = sizeof(sa);
  coap_session_t *s = coap_new_client_session(cctx, NULL, &dst, COAP_PROTO_UDP);
  if (!s)
    return NULL;
  coap_session_set_ack_timeout(s, (coap_fixed_point_t){0, 100});
  coap_session_set_max_retransmit(s, (uint16_t)max_retransmit);
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  coap_add_token(p, 1, (const uint8_t *)"t");
  if (coap_send(s, p) == COAP_INVALID_MID) {
    coap_session_release(s);
    return NULL;
  }
  return s;
}

/* A client whose peer's port is closed (ICMP port unreachable on
 * loopback) hears of it through the NACK handler with
 * COAP_NACK_ICMP_ISSUE, as in libcoap, but the request is not given up:
 * it is retransmitted until MAX_RETRANSMIT, then fails as usual and no
 * state is left. */
TEST(client_to_closed_port_gets_icmp_nack_and_frees_state) {
  coap_context_t *cctx = coap_new_context(NULL);
  CHECK_NOT_NULL(cctx);
  coap_register_nack_handler(cctx, on_nack_count);
  nacks = icmp_nacks = 0;
  coap_session_t *s = send_to(cctx, free_port(), 2);
  CHECK_NOT_NULL(s);
  double t0 = udp_now_ms();
  while (!nacks && udp_now_ms() - t0 < 5000)
    coap_io_process(cctx, 100);
  CHECK(icmp_nacks >= 1); /* one per datagram that drew an ICMP error */
  CHECK_INT_EQ(nacks, 1);
  CHECK_INT_EQ(nack_reason, COAP_NACK_TOO_MANY_RETRIES);
  CHECK_INT_EQ(coap_can_exit(cctx), 1);
  coap_session_release(s);
  coap_free_context(cctx); /* ASan reports any leak */
}

/* The server is not up yet when the request first goes out (ICMP), and is
 * when it is retransmitted: the retransmission reaches it. libcoap's
 * example client relies on this. */
TEST(client_retransmission_reaches_server_started_after_icmp) {
  coap_context_t *cctx = coap_new_context(NULL);
  CHECK_NOT_NULL(cctx);
  coap_register_nack_handler(cctx, on_nack_count);
  nacks = icmp_nacks = 0;
  struct sockaddr_in sa = free_port();
  coap_session_t *s = send_to(cctx, sa, 4);
  CHECK_NOT_NULL(s);
  double t0 = udp_now_ms();
  while (!icmp_nacks && !nacks && udp_now_ms() - t0 < 2000)
    coap_io_process(cctx, 10);
  CHECK_INT_EQ(icmp_nacks, 1);
  CHECK_INT_EQ(nacks, 0);
  int server = socket(AF_INET, SOCK_DGRAM, 0); /* the server comes up */
  CHECK_INT_EQ(bind(server, (struct sockaddr *)&sa, sizeof(sa)), 0);
  uint8_t buf[64];
  ssize_t got = -1;
  struct pollfd pf = {server, POLLIN, 0};
  t0 = udp_now_ms();
  while (got < 0 && !nacks && udp_now_ms() - t0 < 3000) {
    coap_io_process(cctx, 10);
    if (poll(&pf, 1, 0) == 1)
      got = recv(server, buf, sizeof(buf), 0);
  }
  int failed = nacks; /* before the session goes (which fails the CON) */
  close(server);
  coap_session_release(s);
  coap_free_context(cctx);
  CHECK(got >= 5);
  CHECK_UINT_EQ(buf[0], 0x41); /* the CON GET, token "t" */
  CHECK_UINT_EQ(buf[4], 't');
  CHECK_INT_EQ(failed, 0);
}

/* coap_io_process_with_fds(): the application's own descriptors are
 * watched alongside the library's, and reported back. */
TEST(io_process_with_fds_reports_app_fds) {
  coap_context_t *c2 = coap_new_context(NULL);
  CHECK_NOT_NULL(c2);
  int p[2];
  CHECK_INT_EQ(pipe(p), 0);
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(p[0], &rfds);
  int rc = coap_io_process_with_fds(c2, 50, p[0] + 1, &rfds, NULL, NULL);
  CHECK(rc >= 0);
  CHECK(!FD_ISSET(p[0], &rfds)); /* nothing written yet: timed out */
  CHECK_INT_EQ(write(p[1], "x", 1), 1);
  FD_ZERO(&rfds);
  FD_SET(p[0], &rfds);
  rc = coap_io_process_with_fds(c2, 1000, p[0] + 1, &rfds, NULL, NULL);
  CHECK(rc >= 0 && rc < 900);
  CHECK(FD_ISSET(p[0], &rfds));
  close(p[0]);
  close(p[1]);
  coap_free_context(c2);
}

/* An application that waits in its own epoll on coap_context_get_coap_fd()
 * with no timeout of its own still gets the separate response on time:
 * the fd becomes readable when the async's deadline is due. */
TEST(app_epoll_on_coap_fd_wakes_for_deadlines) {
  coap_address_t a = loopback_any_port();
  ctx = coap_new_context(&a);
  CHECK_NOT_NULL(ctx);
  port = coap_address_get_port(&ctx->endpoints->bind_addr);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("async"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
  coap_add_resource(ctx, r);
  int coap_fd = coap_context_get_coap_fd(ctx);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = coap_fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, coap_fd, &ev);
  udp_client c = udp_client_open(port);
  uint8_t req[64], resp[1500];
  size_t n = build_get(req, T_NON, 0x0303, 0x05, "async", "1");
  double t0 = udp_now_ms();
  udp_send(&c, req, n);
  ssize_t got = -1;
  while (got < 0 && udp_now_ms() - t0 < 3000) {
    struct epoll_event out;
    if (epoll_wait(ep, &out, 1, 3000) == 1)
      coap_io_process(ctx, COAP_IO_NO_WAIT);
    coap_io_prepare_epoll(ctx, coap_ticks_now_for_test());
    got = udp_recv(&c, resp, sizeof(resp), 0);
  }
  double t1 = udp_now_ms();
  udp_client_close(&c);
  close(ep);
  coap_free_context(ctx);
  ctx = NULL;
  CHECK(got > 0);
  CHECK_UINT_EQ(resp[1], 0x45);
  if (!(t1 - t0 > 900 && t1 - t0 < 2500))
    fprintf(stderr, "separate response after %.0f ms\n", t1 - t0);
  CHECK(t1 - t0 > 900 && t1 - t0 < 2500);
}

/* ---- the application waits on the context's fd (coap_io(3), 2nd method) --
 *
 * As libcoap's example server does: select() on coap_context_get_coap_fd()
 * and coap_io_process(COAP_IO_NO_WAIT) only when it is readable. Work the
 * application schedules from its own code between two passes must make
 * the fd readable, or it waits for an unrelated event.
 */

/* select() on @fd for up to @ms: 1 if readable. */
static int fd_readable(int fd, int ms) {
  fd_set r;
  FD_ZERO(&r);
  FD_SET(fd, &r);
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  return select(fd + 1, &r, NULL, NULL, &tv) == 1;
}

static void hnd_observed(coap_resource_t *r, coap_session_t *s,
                         const coap_pdu_t *req, const coap_string_t *q,
                         coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 1, (const uint8_t *)"v");
}

TEST(app_select_on_coap_fd_wakes_for_notify_outside_the_loop) {
  coap_address_t a = loopback_any_port();
  ctx = coap_new_context(&a);
  CHECK_NOT_NULL(ctx);
  port = coap_address_get_port(&ctx->endpoints->bind_addr);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("obs"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_observed);
  coap_resource_set_get_observable(r, 1);
  coap_add_resource(ctx, r);
  int fd = coap_context_get_coap_fd(ctx);
  udp_client c = udp_client_open(port);
  /* CON GET /obs, token 0x07, Observe: 0 (option 6, empty) */
  const uint8_t reg[] = {0x41, 0x01, 0x12, 0x34, 0x07,
                         0x60, 0x53, 'o',  'b',  's'};
  udp_send(&c, reg, sizeof(reg));
  uint8_t buf[256];
  ssize_t got = -1;
  for (int i = 0; i < 20 && got < 0; i++) {
    if (fd_readable(fd, 100))
      coap_io_process(ctx, COAP_IO_NO_WAIT);
    got = udp_recv(&c, buf, sizeof(buf), 0);
  }
  CHECK(got > 0);
  CHECK_UINT_EQ(buf[0] >> 4, 0x6); /* ACK */
  CHECK_INT_EQ(coap_resource_notify_observers(r, NULL), 1);
  double t0 = udp_now_ms();
  int woke = fd_readable(fd, 1000);
  if (woke)
    coap_io_process(ctx, COAP_IO_NO_WAIT);
  got = udp_recv(&c, buf, sizeof(buf), 200);
  double waited = udp_now_ms() - t0;
  udp_client_close(&c);
  coap_free_context(ctx);
  ctx = NULL;
  CHECK(woke);
  CHECK(got > 4);
  CHECK_UINT_EQ(buf[0] >> 4, 0x5); /* the notification: NON, token 0x07 */
  CHECK_UINT_EQ(buf[1], 0x45);
  CHECK_UINT_EQ(buf[4], 0x07);
  CHECK(waited < 500);
}

/* A CON sent from the application's code before it waits: the fd becomes
 * readable when the retransmission is due. */
TEST(app_select_on_coap_fd_wakes_for_retransmission_of_send_outside_the_loop) {
  int peer = socket(AF_INET, SOCK_DGRAM, 0); /* a peer that never answers */
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof(sa);
  bind(peer, (struct sockaddr *)&sa, sizeof(sa));
  getsockname(peer, (struct sockaddr *)&sa, &sl);
  coap_context_t *cctx = coap_new_context(NULL);
  CHECK_NOT_NULL(cctx);
  coap_address_t dst;
  coap_address_init(&dst);
  dst.addr.sin = sa;
  dst.size = sizeof(sa);
  coap_session_t *s = coap_new_client_session(cctx, NULL, &dst, COAP_PROTO_UDP);
  CHECK_NOT_NULL(s);
  coap_session_set_ack_timeout(s, (coap_fixed_point_t){0, 200});
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  coap_add_token(p, 1, (const uint8_t *)"t");
  CHECK(coap_send(s, p) != COAP_INVALID_MID);
  uint8_t buf[64];
  struct pollfd pf = {peer, POLLIN, 0};
  int copies = 0;
  double t0 = udp_now_ms();
  while (copies < 2 && udp_now_ms() - t0 < 2000) {
    if (fd_readable(coap_context_get_coap_fd(cctx), 100))
      coap_io_process(cctx, COAP_IO_NO_WAIT);
    while (poll(&pf, 1, 0) == 1 && recv(peer, buf, sizeof(buf), 0) > 0)
      copies++;
  }
  double waited = udp_now_ms() - t0;
  close(peer);
  coap_session_release(s);
  coap_free_context(cctx);
  CHECK_INT_EQ(copies, 2); /* the first and its retransmission */
  CHECK(waited < 1000);    /* ACK_TIMEOUT 0.2 s, at most 1.5 times that */
}

/* A burst of GETs from one peer: answers of one size to one peer leave
 * the server together (a UDP GSO message where the kernel has it), so
 * check that each still arrives as a datagram of its own, whole, with its
 * own message ID and token -- with token lengths that make runs of equal
 * size, a shorter one ending a run, and longer ones starting new runs, and
 * a second peer in between. */
static void answers_burst(int no_gso) {
  CHECK_INT_EQ(start_server(100), 0);
  /* SO_NO_CHECK: the kernel refuses UDP GSO on the socket (EINVAL) */
  int one = 1;
  if (no_gso)
    CHECK_INT_EQ(
        setsockopt(server_ep->fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)),
        0);
  udp_client a = udp_client_open(port), b = udp_client_open(port);
  static const uint8_t tkl[] = {2, 2, 2, 1, 2, 2, 0, 3, 3, 3, 3, 1,
                                1, 1, 1, 1, 8, 8, 8, 2, 2, 2, 2, 2};
  enum { N = sizeof(tkl) };
  uint8_t req[64], resp[1500];
  for (int i = 0; i < N; i++) {
    size_t n = 0;
    req[n++] = (uint8_t)(0x40 | tkl[i]);
    req[n++] = COAP_REQUEST_CODE_GET;
    req[n++] = 0x70;
    req[n++] = (uint8_t)i;
    for (int k = 0; k < tkl[i]; k++)
      req[n++] = (uint8_t)(i * 8 + k);
    req[n++] = 0xb5; /* Uri-Path "hello" */
    memcpy(req + n, "hello", 5);
    n += 5;
    CHECK_INT_EQ(udp_send(i == 11 ? &b : &a, req, n), 0);
  }
  int seen[N] = {0}, bad = 0, more;
  for (int got = 0; got < N; got++) {
    int from_b = got == N - 1; /* a's 23 first, then b's one */
    ssize_t r = udp_recv(from_b ? &b : &a, resp, sizeof(resp), 2000);
    int i = r >= 4 ? resp[3] : 0;
    if (r < 4 || resp[2] != 0x70 || i >= N || seen[i] || from_b != (i == 11)) {
      printf("  answer %d: %zd bytes, bad or repeated message ID or peer\n",
             got, r);
      bad++;
      continue;
    }
    seen[i] = 1;
    int ok = resp[0] == (0x60u | tkl[i]) && /* ACK, that token length */
             resp[1] == COAP_RESPONSE_CODE_CONTENT &&
             r == 4 + tkl[i] + 1 + 12 && resp[4 + tkl[i]] == 0xff &&
             memcmp(resp + 5 + tkl[i], "Hello World!", 12) == 0;
    for (int k = 0; k < tkl[i]; k++)
      ok &= resp[4 + k] == (uint8_t)(i * 8 + k);
    if (!ok) {
      printf("  answer to request %d: %zd bytes, wrong\n", i, r);
      bad++;
    }
  }
  more = (int)udp_recv(&a, resp, sizeof(resp), 100) + /* none left */
         (int)udp_recv(&b, resp, sizeof(resp), 100);
  udp_client_close(&a);
  udp_client_close(&b);
  stop_server();
  CHECK_INT_EQ(bad, 0);
  CHECK_INT_EQ(more, -2);
}

TEST(burst_of_answers_to_one_peer_each_arrive_as_their_own_datagram) {
  answers_burst(0);
}

/* Where the kernel refuses UDP GSO, the same burst still arrives whole,
 * one datagram each. */
TEST(burst_of_answers_without_udp_gso_each_arrive_as_their_own_datagram) {
  answers_burst(1);
}

/* An answer waits in the send queue while the batch is handled; when the
 * next datagram of the batch, from a new peer, evicts the session it is
 * for (one session per endpoint), the answer still reaches its peer whole
 * -- the queue names the peer by the session's address, so it leaves
 * before the session is freed -- and so does the new peer's. */
TEST(answer_queued_for_an_evicted_session_still_reaches_its_peer) {
  coap_address_t a = loopback_any_port();
  coap_context_t *c = coap_new_context(NULL);
  coap_endpoint_t *ep = c ? coap_new_endpoint(c, &a, COAP_PROTO_UDP) : NULL;
  CHECK(ep != NULL);
  if (!ep)
    return;
  coap_petrel_context_set_max_sessions_per_endpoint(c, 1);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(c, r);
  uint16_t p = coap_address_get_port(&ep->bind_addr);
  udp_client x = udp_client_open(p), y = udp_client_open(p);
  const uint8_t get_x[] = {0x41, 0x01, 0x12, 0x34, 0xaa,
                           0xb5, 'h',  'e',  'l',  'l', 'o'};
  const uint8_t get_y[] = {0x41, 0x01, 0x56, 0x78, 0xbb,
                           0xb5, 'h',  'e',  'l',  'l', 'o'};
  CHECK_INT_EQ(udp_send(&x, get_x, sizeof(get_x)), 0);
  CHECK_INT_EQ(udp_send(&y, get_y, sizeof(get_y)), 0);
  for (int i = 0; i < 5; i++) /* both are waiting: one batch */
    coap_io_process(c, COAP_IO_NO_WAIT);
  uint8_t resp[64];
  ssize_t n = udp_recv(&x, resp, sizeof(resp), 1000);
  CHECK_INT_EQ(n, 5 + 1 + 12);
  CHECK_INT_EQ(resp[0], 0x61); /* ACK, token length 1 */
  CHECK_INT_EQ(resp[2] << 8 | resp[3], 0x1234);
  CHECK_INT_EQ(resp[4], 0xaa);
  n = udp_recv(&y, resp, sizeof(resp), 1000);
  CHECK_INT_EQ(n, 5 + 1 + 12);
  CHECK_INT_EQ(resp[2] << 8 | resp[3], 0x5678);
  CHECK_INT_EQ(resp[4], 0xbb);
  coap_petrel_stats_t st;
  CHECK_INT_EQ(coap_petrel_context_get_stats(c, &st), 1);
  CHECK_INT_EQ(st.sessions_evicted, 1);
  udp_client_close(&x);
  udp_client_close(&y);
  coap_free_context(c);
}

static uint16_t local_port(const udp_client *c) {
  struct sockaddr_in a;
  socklen_t n = sizeof(a);
  getsockname(c->fd, (struct sockaddr *)&a, &n);
  return ntohs(a.sin_port);
}

/* The endpoint remembers the session of its last datagram (the receive
 * loop's first guess): after each datagram of two alternating peers, the
 * one that sent it, whether its session was new, found by the hash table,
 * or the last one again. */
TEST(endpoint_remembers_the_session_of_its_last_datagram) {
  coap_address_t a = loopback_any_port();
  coap_context_t *c = coap_new_context(NULL);
  coap_endpoint_t *ep = c ? coap_new_endpoint(c, &a, COAP_PROTO_UDP) : NULL;
  CHECK(ep != NULL);
  if (!ep)
    return;
  uint16_t p = coap_address_get_port(&ep->bind_addr);
  udp_client x = udp_client_open(p), y = udp_client_open(p);
  const udp_client *order[] = {&x, &y, &x, &x, &y};
  for (int i = 0; i < 5; i++) {
    const uint8_t ping[] = {0x40, 0x00, 0x00, (uint8_t)i}; /* Empty CON */
    CHECK_INT_EQ(udp_send((udp_client *)order[i], ping, sizeof(ping)), 0);
    coap_io_process(c, 200);
    CHECK(ep->last_hit != NULL);
    if (ep->last_hit)
      CHECK_INT_EQ(coap_address_get_port(&ep->last_hit->remote),
                   local_port(order[i]));
  }
  udp_client_close(&x);
  udp_client_close(&y);
  coap_free_context(c);
}

int main(void) {
  coap_startup();
  RUN(piggybacked_get_on_the_wire);
  RUN(burst_of_answers_to_one_peer_each_arrive_as_their_own_datagram);
  RUN(burst_of_answers_without_udp_gso_each_arrive_as_their_own_datagram);
  RUN(answer_queued_for_an_evicted_session_still_reaches_its_peer);
  RUN(endpoint_remembers_the_session_of_its_last_datagram);
  RUN(separate_con_on_the_wire);
  RUN(separate_non_on_the_wire);
  RUN(separate_con_is_retransmitted_without_ack);
  RUN(trigger_from_another_thread_wakes_a_blocked_loop);
  RUN(random_datagram_burst_leaves_server_serving);
  RUN(app_epoll_on_coap_fd_wakes_for_deadlines);
  RUN(client_to_closed_port_gets_icmp_nack_and_frees_state);
  RUN(client_retransmission_reaches_server_started_after_icmp);
  RUN(io_process_with_fds_reports_app_fds);
  RUN(app_select_on_coap_fd_wakes_for_notify_outside_the_loop);
  RUN(app_select_on_coap_fd_wakes_for_retransmission_of_send_outside_the_loop);
  return TEST_SUMMARY();
}
