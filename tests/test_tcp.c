/*
 * test_tcp.c -- CoAP over TCP on loopback (RFC 8323): a raw TCP client
 * talks to a TCP endpoint and checks the bytes (the server's CSM first,
 * then a 2.05 in TCP framing), whatever the split of what it sends; and
 * the write queue behind a socket that takes bytes slowly.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coap3/coap.h"

#include "context.h"
#include "session.h"
#include "tcp.h"
#include "timer.h"

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

static int events[8];
static int on_event(coap_session_t *s, coap_event_t ev) {
  (void)s;
  if (ev == COAP_EVENT_TCP_CONNECTED)
    events[0]++;
  else if (ev == COAP_EVENT_TCP_CLOSED)
    events[1]++;
  else if (ev == COAP_EVENT_SESSION_CONNECTED)
    events[2]++;
  else if (ev == COAP_EVENT_TCP_FAILED)
    events[3]++;
  return 0;
}

static coap_context_t *server(uint16_t *port) {
  coap_context_t *ctx = coap_new_context(NULL);
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &a, COAP_PROTO_TCP);
  if (!ep)
    return ctx;
  *port = coap_address_get_port(&ep->bind_addr);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  coap_register_event_handler(ctx, on_event);
  memset(events, 0, sizeof(events));
  return ctx;
}

static int raw_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Runs the server loop until @fd has @want bytes to read (or 2 s). */
static size_t read_answer(coap_context_t *ctx, int fd, uint8_t *buf,
                          size_t want) {
  size_t got = 0;
  for (int i = 0; i < 200 && got < want; i++) {
    coap_io_process(ctx, 10);
    ssize_t n = recv(fd, buf + got, want - got, MSG_DONTWAIT);
    if (n > 0)
      got += (size_t)n;
    if (n == 0)
      break;
  }
  return got;
}

/* Our CSM: Max-Message-Size 1152 and a GET /hello with token 0x42. */
static const uint8_t client_bytes[] = {
    0x30, 0xe1, 0x22, 0x04, 0x80, /* 7.01 CSM, option 2 = 1152 */
    0x61, 0x01, 0x42, 0xb5, 'h',  'e', 'l', 'l', 'o', /* GET, TKL 1, path */
};

/* The server's CSM (Max-Message-Size 8388608 = 0x800000, and
 * Block-Wise-Transfer) then the 2.05. */
#define CSM_LEN 7
static const uint8_t server_bytes[] = {
    0x50, 0xe1, 0x23, 0x80, 0x00, 0x00, 0x20,           /* 7.01, options 2, 4 */
    0x61, 0x45, 0x42, 0xff, 'h',  'e',  'l',  'l', 'o', /* 2.05, TKL 1, data */
};

TEST(csm_and_get_answered_in_tcp_framing_at_every_split) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  CHECK(port != 0);
  for (size_t split = 0; split <= sizeof(client_bytes); split++) {
    int fd = raw_connect(port);
    CHECK(fd >= 0);
    if (split)
      CHECK_INT_EQ(send(fd, client_bytes, split, 0), (ssize_t)split);
    for (int i = 0; i < 5; i++)
      coap_io_process(ctx, COAP_IO_NO_WAIT);
    if (split < sizeof(client_bytes))
      CHECK_INT_EQ(
          send(fd, client_bytes + split, sizeof(client_bytes) - split, 0),
          (ssize_t)(sizeof(client_bytes) - split));
    uint8_t got[64];
    size_t n = read_answer(ctx, fd, got, sizeof(server_bytes));
    CHECK_MEM_EQ(got, n, server_bytes, sizeof(server_bytes));
    close(fd);
  }
  /* Each connection's close frees its session. */
  for (int i = 0; i < 20 && pt_hashmap_size(&ctx->sessions); i++)
    coap_io_process(ctx, 10);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  CHECK_INT_EQ(events[0], (int)sizeof(client_bytes) + 1);
  CHECK_INT_EQ(events[1], (int)sizeof(client_bytes) + 1);
  CHECK_INT_EQ(events[2], (int)sizeof(client_bytes) + 1);
  coap_free_context(ctx);
}

TEST(request_before_csm_is_aborted) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int fd = raw_connect(port);
  CHECK_INT_EQ(send(fd, client_bytes + 5, sizeof(client_bytes) - 5, 0),
               (ssize_t)(sizeof(client_bytes) - 5));
  uint8_t got[128];
  size_t n = read_answer(ctx, fd, got, sizeof(got));
  /* Our CSM, then an Abort (7.05 = 0xe5), then the end of the stream. */
  CHECK(n > 8);
  CHECK_UINT_EQ(got[1], 0xe1);
  size_t abort_at = CSM_LEN;
  CHECK_UINT_EQ(got[abort_at + ((got[abort_at] >> 4) == 13 ? 2 : 1)], 0xe5);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  close(fd);
  coap_free_context(ctx);
}

TEST(ping_gets_pong) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int fd = raw_connect(port);
  static const uint8_t ping[] = {0x00, 0xe1, 0x01, 0xe2, 0x77}; /* CSM, Ping */
  CHECK_INT_EQ(send(fd, ping, sizeof(ping), 0), (ssize_t)sizeof(ping));
  uint8_t got[16];
  size_t n = read_answer(ctx, fd, got, CSM_LEN + 3);
  static const uint8_t want[] = {0x01, 0xe3, 0x77}; /* Pong, the token */
  CHECK_MEM_EQ(got + CSM_LEN, n - CSM_LEN, want, sizeof(want));
  close(fd);
  coap_free_context(ctx);
}

TEST(write_queue_holds_what_the_socket_does_not_take_in_order) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  coap_session_t *s =
      coap_new_client_session(ctx, NULL, &ctx->endpoints->bind_addr,
                              COAP_PROTO_UDP); /* a session to carry it */
  CHECK_NOT_NULL(s);
  close(s->fd);
  s->fd = -1;
  s->proto = COAP_PROTO_TCP;
  CHECK_INT_EQ(pt_tcp_attach(s, sv[0], 0, pt_now()), 0);
  /* 64 messages of 1000 bytes, numbered: far more than the socket takes. */
  static uint8_t msg[1000], all[64 * 1000 + 64];
  for (int i = 0; i < 64; i++) {
    memset(msg, i, sizeof(msg));
    CHECK_INT_EQ(pt_tcp_send(s, msg, sizeof(msg)), (ssize_t)sizeof(msg));
  }
  size_t got = 0;
  for (int i = 0; i < 100000 && got < CSM_LEN + 64 * 1000; i++) {
    ssize_t n = recv(sv[1], all + got, sizeof(all) - got, MSG_DONTWAIT);
    if (n > 0)
      got += (size_t)n;
    pt_tcp_io(s, 0, 1, pt_now()); /* writable: the queue drains */
  }
  CHECK_UINT_EQ(got, CSM_LEN + 64 * 1000); /* our CSM, then every byte */
  int in_order = 1;
  for (size_t i = CSM_LEN; i < got; i++)
    in_order &= all[i] == (uint8_t)((i - CSM_LEN) / 1000);
  CHECK_INT_EQ(in_order, 1);
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

TEST(write_queue_past_its_cap_closes_the_connection) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  coap_session_t *s = coap_new_client_session(
      ctx, NULL, &ctx->endpoints->bind_addr, COAP_PROTO_UDP);
  close(s->fd);
  s->fd = -1;
  s->proto = COAP_PROTO_TCP;
  CHECK_INT_EQ(pt_tcp_attach(s, sv[0], 0, pt_now()), 0);
  static uint8_t big[65536];
  int refused_at = -1;
  for (int i = 0; i < 200 && refused_at < 0; i++) /* the peer never reads */
    if (pt_tcp_send(s, big, sizeof(big)) < 0)
      refused_at = i;
  CHECK(refused_at > 0);
  CHECK(refused_at <= (int)(PT_TCP_OUTQ_CAP / sizeof(big)) + 40);
  CHECK(pt_tcp_send(s, big, 10) < 0); /* nothing more is taken */
  /* Closed from a timer due at once, not inside the send that failed. */
  CHECK_INT_EQ(events[3], 0);
  pt_timers_run(ctx, pt_now());
  CHECK_INT_EQ(events[3], 1); /* COAP_EVENT_TCP_FAILED */
  CHECK_INT_EQ(s->fd, -1);
  CHECK(pt_tcp_send(s, big, 10) < 0); /* closed: nothing more is taken */
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

TEST(peer_without_csm_is_aborted_after_the_csm_timeout) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  coap_context_set_csm_timeout(ctx, 5);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  coap_session_t *s = coap_new_client_session(
      ctx, NULL, &ctx->endpoints->bind_addr, COAP_PROTO_UDP);
  close(s->fd);
  s->fd = -1;
  s->proto = COAP_PROTO_TCP;
  coap_tick_t t0 = 1000 * COAP_TICKS_PER_SECOND; /* time by hand */
  CHECK_INT_EQ(pt_tcp_attach(s, sv[0], 0, t0), 0);
  pt_timers_run(ctx, t0 + 5 * COAP_TICKS_PER_SECOND - 1);
  CHECK_INT_EQ(events[1], 0);
  CHECK(s->fd >= 0);
  pt_timers_run(ctx, t0 + 5 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(events[1], 1); /* COAP_EVENT_TCP_CLOSED */
  CHECK_INT_EQ(s->fd, -1);
  /* What the peer got: our CSM, then an Abort (7.05). */
  uint8_t got[128];
  ssize_t n = recv(sv[1], got, sizeof(got), MSG_DONTWAIT);
  CHECK(n > 8);
  CHECK_UINT_EQ(got[1], 0xe1);
  CHECK_UINT_EQ(got[CSM_LEN + ((got[CSM_LEN] >> 4) == 13 ? 2 : 1)], 0xe5);
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

TEST(csm_arriving_in_time_keeps_the_connection) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  coap_context_set_csm_timeout(ctx, 5);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  coap_session_t *s = coap_new_client_session(
      ctx, NULL, &ctx->endpoints->bind_addr, COAP_PROTO_UDP);
  close(s->fd);
  s->fd = -1;
  s->proto = COAP_PROTO_TCP;
  coap_tick_t t0 = 1000 * COAP_TICKS_PER_SECOND;
  CHECK_INT_EQ(pt_tcp_attach(s, sv[0], 0, t0), 0);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_CSM);
  CHECK_INT_EQ(pt_tcp_input(s, client_bytes, 5, t0 + 1), 0);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_ESTABLISHED);
  CHECK_INT_EQ(events[2], 1); /* COAP_EVENT_SESSION_CONNECTED */
  pt_timers_run(ctx, t0 + 60 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(events[1], 0);
  CHECK(s->fd >= 0);
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

/* ---- answers to pipelined requests leave together ------------------------ */

/* A TCP client session on @fd (one end of a socketpair), its CSM read
 * from @peer when @peer is a SOCK_SEQPACKET end. */
static coap_session_t *attached(coap_context_t *ctx, int fd, coap_tick_t t0) {
  coap_session_t *s = coap_new_client_session(
      ctx, NULL, &ctx->endpoints->bind_addr, COAP_PROTO_UDP);
  if (!s)
    return NULL;
  close(s->fd);
  s->fd = -1;
  s->proto = COAP_PROTO_TCP;
  if (pt_tcp_attach(s, fd, 0, t0) < 0)
    return NULL;
  return s;
}

/* Appends a GET /hello with the 2-byte token @tok to @buf at *@n. */
static void put_get(uint8_t *buf, size_t *n, unsigned tok) {
  const uint8_t get[] = {
      0x62, 0x01, (uint8_t)(tok >> 8), (uint8_t)tok, 0xb5, 'h', 'e', 'l',
      'l',  'o'};
  memcpy(buf + *n, get, sizeof(get));
  *n += sizeof(get);
}

/* Its 2.05 "hello": 10 bytes. */
#define ANSWER_LEN 10
static int is_answer(const uint8_t *a, unsigned tok) {
  const uint8_t want[] = {
      0x62, 0x45, (uint8_t)(tok >> 8), (uint8_t)tok, 0xff, 'h', 'e', 'l',
      'l',  'o'};
  return !memcmp(a, want, sizeof(want));
}

/* The socket is a SOCK_SEQPACKET pair: every send() the connection makes is
 * one record, so recv() counts them. */
TEST(pipelined_requests_are_answered_in_one_write) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
  coap_tick_t t0 = 1000 * COAP_TICKS_PER_SECOND;
  coap_session_t *s = attached(ctx, sv[0], t0);
  CHECK_NOT_NULL(s);
  uint8_t rec[4096];
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), CSM_LEN);
  static uint8_t in[1024];
  size_t n = 0;
  memcpy(in, client_bytes, 5); /* the peer's CSM */
  n = 5;
  for (unsigned i = 0; i < 16; i++)
    put_get(in, &n, i);
  CHECK_INT_EQ(pt_tcp_input(s, in, n, t0 + 1), 0);
  /* One record holding the 16 answers, in the order asked, then nothing. */
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), 16 * ANSWER_LEN);
  int in_order = 1;
  for (unsigned i = 0; i < 16; i++)
    in_order &= is_answer(rec + i * ANSWER_LEN, i);
  CHECK_INT_EQ(in_order, 1);
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), -1);
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

/* A lone request, and a send from outside an input, leave at once: no
 * timer or later input is needed to push them out. */
TEST(lone_request_and_sends_outside_input_go_at_once) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
  coap_tick_t t0 = 1000 * COAP_TICKS_PER_SECOND;
  coap_session_t *s = attached(ctx, sv[0], t0);
  CHECK_NOT_NULL(s);
  uint8_t rec[256];
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), CSM_LEN);
  CHECK_INT_EQ(pt_tcp_input(s, client_bytes, 5, t0 + 1), 0); /* CSM only */
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), -1);
  uint8_t get[16];
  size_t n = 0;
  put_get(get, &n, 7);
  CHECK_INT_EQ(pt_tcp_input(s, get, n, t0 + 2), 0);
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), ANSWER_LEN);
  CHECK_INT_EQ(is_answer(rec, 7), 1);
  static const uint8_t msg[] = {0x00, 0xe2}; /* a Ping, sent by us */
  CHECK_INT_EQ(pt_tcp_send(s, msg, sizeof(msg)), (ssize_t)sizeof(msg));
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), sizeof(msg));
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

/* 8,000 pipelined requests in one input: their answers (80,000 bytes) are
 * more than is held at once and far more than the socket takes; every one
 * arrives, in order, as the socket drains. */
TEST(pipelined_answers_beyond_what_the_socket_takes_arrive_in_order) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  coap_tick_t t0 = 1000 * COAP_TICKS_PER_SECOND;
  coap_session_t *s = attached(ctx, sv[0], t0);
  CHECK_NOT_NULL(s);
  enum { N = 8000 };
  static uint8_t in[5 + N * 10], all[CSM_LEN + N * ANSWER_LEN + 64];
  size_t n = 5;
  memcpy(in, client_bytes, 5);
  for (unsigned i = 0; i < N; i++)
    put_get(in, &n, i);
  CHECK_INT_EQ(pt_tcp_input(s, in, n, t0 + 1), 0);
  size_t got = 0;
  for (int i = 0; i < 100000 && got < CSM_LEN + N * ANSWER_LEN; i++) {
    ssize_t r = recv(sv[1], all + got, sizeof(all) - got, MSG_DONTWAIT);
    if (r > 0)
      got += (size_t)r;
    pt_tcp_io(s, 0, 1, t0 + 1); /* writable: the queue drains */
  }
  CHECK_UINT_EQ(got, CSM_LEN + N * ANSWER_LEN);
  int in_order = 1;
  for (unsigned i = 0; i < N; i++)
    in_order &= is_answer(all + CSM_LEN + i * ANSWER_LEN, i);
  CHECK_INT_EQ(in_order, 1);
  CHECK_INT_EQ(events[3], 0); /* no TCP_FAILED */
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

/* Requests then a Release in one input: the answers made before the close
 * still leave, ahead of it. */
TEST(answers_before_a_release_in_the_same_input_are_sent) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
  coap_tick_t t0 = 1000 * COAP_TICKS_PER_SECOND;
  coap_session_t *s = attached(ctx, sv[0], t0);
  CHECK_NOT_NULL(s);
  uint8_t rec[256], in[64];
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), CSM_LEN);
  size_t n = 5;
  memcpy(in, client_bytes, 5);
  put_get(in, &n, 1);
  put_get(in, &n, 2);
  in[n++] = 0x00; /* 7.04 Release */
  in[n++] = 0xe4;
  CHECK_INT_EQ(pt_tcp_input(s, in, n, t0 + 1), -1); /* closed */
  CHECK_INT_EQ(events[1], 1);                       /* TCP_CLOSED */
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), 2 * ANSWER_LEN);
  CHECK_INT_EQ(is_answer(rec, 1) && is_answer(rec + ANSWER_LEN, 2), 1);
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  static uint8_t body[6000];
  memset(body, 'b', sizeof(body));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, sizeof(body), body);
}

/* A small answer then one bigger than what is held so far: both leave in
 * one write, whole. */
TEST(answer_bigger_than_the_held_buffer_joins_the_batch) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("big"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_big);
  coap_add_resource(ctx, r);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
  coap_tick_t t0 = 1000 * COAP_TICKS_PER_SECOND;
  coap_session_t *s = attached(ctx, sv[0], t0);
  CHECK_NOT_NULL(s);
  static uint8_t rec[16384];
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), CSM_LEN);
  static const uint8_t in[] = {
      0x30, 0xe1, 0x22, 0x20, 0x00, /* CSM, Max-Message-Size 8192 */
      0x62, 0x01, 0x00, 0x01, 0xb5, 'h', 'e', 'l', 'l', 'o', /* GET /hello */
      0x42, 0x01, 0x00, 0x02, 0xb3, 'b', 'i', 'g',           /* GET /big */
  };
  CHECK_INT_EQ(pt_tcp_input(s, in, sizeof(in), t0 + 1), 0);
  /* 10 bytes, then 6000 bytes of payload under a 3-byte extended length
   * (13 + 269 and up: 2 bytes), the code, the token and the marker. */
  ssize_t n = recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT);
  CHECK_INT_EQ(n, ANSWER_LEN + 1 + 2 + 1 + 2 + 1 + 6000);
  CHECK_INT_EQ(is_answer(rec, 1), 1);
  CHECK_UINT_EQ(rec[n - 1], 'b');
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

/* Between inputs a connection holds no buffer for data: not the one its
 * answers were gathered in, nor one for a message that arrived whole. A
 * message split across inputs is held only until it is complete. */
TEST(idle_connection_holds_no_buffer) {
  uint16_t port = 0;
  coap_context_t *ctx = server(&port);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
  coap_tick_t t0 = 1000 * COAP_TICKS_PER_SECOND;
  coap_session_t *s = attached(ctx, sv[0], t0);
  CHECK_NOT_NULL(s);
  uint8_t rec[4096];
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), CSM_LEN);
  static uint8_t in[1024];
  size_t n = 5;
  memcpy(in, client_bytes, 5); /* the peer's CSM */
  for (unsigned i = 0; i < 4; i++)
    put_get(in, &n, i);
  CHECK_INT_EQ(pt_tcp_input(s, in, n, t0 + 1), 0);
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), 4 * ANSWER_LEN);
  CHECK_UINT_EQ(pt_tcp_buffered(s), 0);
  /* one GET in two inputs, cut inside its Uri-Path */
  n = 0;
  put_get(in, &n, 7);
  CHECK_INT_EQ(pt_tcp_input(s, in, 6, t0 + 2), 0);
  CHECK(pt_tcp_buffered(s) >= 6);
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), -1);
  CHECK_INT_EQ(pt_tcp_input(s, in + 6, n - 6, t0 + 3), 0);
  CHECK_INT_EQ(recv(sv[1], rec, sizeof(rec), MSG_DONTWAIT), ANSWER_LEN);
  CHECK_INT_EQ(is_answer(rec, 7), 1);
  CHECK_UINT_EQ(pt_tcp_buffered(s), 0);
  coap_session_release(s);
  close(sv[1]);
  coap_free_context(ctx);
}

int main(void) {
  RUN(csm_and_get_answered_in_tcp_framing_at_every_split);
  RUN(request_before_csm_is_aborted);
  RUN(ping_gets_pong);
  RUN(write_queue_holds_what_the_socket_does_not_take_in_order);
  RUN(write_queue_past_its_cap_closes_the_connection);
  RUN(peer_without_csm_is_aborted_after_the_csm_timeout);
  RUN(csm_arriving_in_time_keeps_the_connection);
  RUN(pipelined_requests_are_answered_in_one_write);
  RUN(lone_request_and_sends_outside_input_go_at_once);
  RUN(pipelined_answers_beyond_what_the_socket_takes_arrive_in_order);
  RUN(answers_before_a_release_in_the_same_input_are_sent);
  RUN(answer_bigger_than_the_held_buffer_joins_the_batch);
  RUN(idle_connection_holds_no_buffer);
  return TEST_SUMMARY();
}
