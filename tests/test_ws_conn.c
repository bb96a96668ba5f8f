/*
 * test_ws_conn.c -- CoAP over WebSockets (RFC 8323 section 4) on a
 * connection: the server side fed through the sans-I/O entry
 * (pt_tcp_input) with a fake clock, its answers read from the other end
 * of a socketpair; the client side on loopback against a raw WebSocket
 * server written here. Each kind of malformed input has a named test.
 */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core_harness.h"
#include "tcp.h"
#include "ws.h"
#include "ws_conn.h"

/* In helpers that return a value: a failed setup ends the test run. */
#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: setup failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                 \
    }                                                                          \
  } while (0)

static int hello_calls;
static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)req, (void)q;
  hello_calls++;
  CHECK_INT_EQ(coap_session_get_proto(s), COAP_PROTO_WS);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

/* A message bigger than the frames built on the stack. */
static uint8_t big_body[5000];

static int ev_ws_connected, ev_ws_closed, ev_tcp_closed, ev_too_big,
    ev_session_connected, ev_tcp_failed;
static int on_event(coap_session_t *s, coap_event_t ev) {
  (void)s;
  ev_ws_connected += ev == COAP_EVENT_WS_CONNECTED;
  ev_ws_closed += ev == COAP_EVENT_WS_CLOSED;
  ev_tcp_closed += ev == COAP_EVENT_TCP_CLOSED;
  ev_tcp_failed += ev == COAP_EVENT_TCP_FAILED;
  ev_too_big += ev == COAP_EVENT_WS_PACKET_SIZE;
  ev_session_connected += ev == COAP_EVENT_SESSION_CONNECTED;
  return 0;
}

/* ---- the server side, sans-I/O --------------------------------------- */

static const char request[] = "GET /.well-known/coap HTTP/1.1\r\n"
                              "Host: example.test\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Protocol: coap\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";

/* RFC 8323 4.4 framing: CSM (Max-Message-Size 1152), GET /hello token 42. */
static const uint8_t csm_ws[] = {0x00, 0xe1, 0x22, 0x04, 0x80};
static const uint8_t get_ws[] = {0x01, 0x01, 0x42, 0xb5, 'h',
                                 'e',  'l',  'l',  'o'};

typedef struct conn {
  coap_context_t *ctx;
  coap_session_t *s;
  int peer; /* our end of the socketpair: what the server writes */
} conn;

/* A server session on a socketpair of @type (SOCK_SEQPACKET: each write
 * the server makes is one record, so recv() counts them). */
static conn server_conn_on(int type) {
  conn c = {0};
  c.ctx = h_context();
  h_ep.proto = COAP_PROTO_WS;
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(c.ctx, r);
  coap_register_event_handler(c.ctx, on_event);
  ev_ws_connected = ev_ws_closed = ev_tcp_closed = ev_too_big = 0;
  ev_session_connected = ev_tcp_failed = hello_calls = 0;
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, type, 0, sv) == 0);
  c.peer = sv[0];
  c.s = h_server_session(40000);
  REQUIRE(c.s != NULL);
  REQUIRE(pt_tcp_attach(c.s, sv[1], 0, h_now) == 0);
  return c;
}

static conn server_conn(void) {
  return server_conn_on(SOCK_STREAM);
}

/* The session of @c is gone (closed and freed)? */
static int conn_gone(conn *c) {
  return pt_hashmap_size(&c->ctx->sessions) == 0;
}

static void conn_free(conn *c) {
  close(c->peer);
  h_free(c->ctx);
}

/* Feeds @len bytes to the server session. */
static int feed(conn *c, const void *data, size_t len) {
  if (conn_gone(c))
    return -1;
  return pt_tcp_input(c->s, data, len, h_now);
}

/* A client frame: final, @opcode, masked with a fixed key. */
static size_t client_frame(uint8_t *out, unsigned opcode, const uint8_t *data,
                           size_t len) {
  static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  size_t h = pt_ws_frame_header(out, opcode, len, mask);
  memcpy(out + h, data, len);
  pt_ws_mask(out + h, len, mask, 0);
  return h + len;
}

/* Everything the server has written so far. */
static size_t drain(conn *c, uint8_t *buf, size_t cap) {
  size_t got = 0;
  ssize_t n;
  while (got < cap &&
         (n = recv(c->peer, buf + got, cap - got, MSG_DONTWAIT)) > 0)
    got += (size_t)n;
  return got;
}

/* The server's output after its HTTP head: frames decoded as a client. */
typedef struct frames {
  int n;
  size_t left;     /* bytes after the last event (after a Close: none due) */
  size_t full[8];  /* the whole length of each event's data */
  uint32_t sum[8]; /* and a checksum of it */
  pt_ws_event_kind kind[8];
  uint16_t status[8];
  uint8_t data[8][64];
  size_t len[8];
} frames;

static uint32_t checksum(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

static size_t head_len(const uint8_t *buf, size_t n) {
  for (size_t i = 3; i < n; i++)
    if (!memcmp(buf + i - 3, "\r\n\r\n", 4))
      return i + 1;
  return 0;
}

static void decode(const uint8_t *p, size_t n, frames *f) {
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, 0, 1 << 20);
  pt_ws_event ev;
  memset(f, 0, sizeof(*f));
  while (f->n < 8 && pt_ws_next(&d, &p, &n, &ev)) {
    f->kind[f->n] = ev.kind;
    f->status[f->n] = ev.status;
    f->len[f->n] = ev.len < 64 ? ev.len : 64;
    if (ev.len)
      memcpy(f->data[f->n], ev.data, f->len[f->n]);
    f->full[f->n] = ev.len;
    f->sum[f->n] = checksum(ev.data, ev.len);
    f->n++;
  }
  f->left = n;
  pt_ws_decoder_free(&d);
}

/* Upgrades @c: the 101 must have come (what follows it is drained). */
static void upgrade(conn *c) {
  CHECK_INT_EQ(feed(c, request, sizeof(request) - 1), 0);
  uint8_t buf[1024];
  size_t n = drain(c, buf, sizeof(buf));
  CHECK(n > 12 && !memcmp(buf, "HTTP/1.1 101", 12));
  CHECK_INT_EQ(ev_ws_connected, 1);
}

/* After an upgrade: sends @bytes and expects the server to close with a
 * Close frame of @status and free the session. */
static void expect_close(conn *c, const uint8_t *bytes, size_t len,
                         uint16_t status) {
  uint8_t buf[512];
  drain(c, buf, sizeof(buf)); /* the CSM */
  feed(c, bytes, len);
  size_t n = drain(c, buf, sizeof(buf));
  frames f;
  decode(buf, n, &f);
  CHECK(f.n >= 1);
  CHECK_INT_EQ(f.kind[f.n - 1], PT_WS_EV_CLOSE);
  CHECK_UINT_EQ(f.status[f.n - 1], status);
  CHECK_UINT_EQ(f.left, 0); /* the Close is the last frame */
  CHECK(conn_gone(c));
  CHECK_INT_EQ(ev_ws_closed, 1);
  CHECK_INT_EQ(ev_tcp_closed, 1);
}

TEST(upgrade_csm_and_get_at_every_split) {
  uint8_t in[1024];
  size_t n = sizeof(request) - 1;
  memcpy(in, request, n);
  n += client_frame(in + n, PT_WS_OP_BINARY, csm_ws, sizeof(csm_ws));
  n += client_frame(in + n, PT_WS_OP_BINARY, get_ws, sizeof(get_ws));
  for (size_t split = 0; split <= n; split++) {
    conn c = server_conn();
    CHECK_INT_EQ(feed(&c, in, split), 0);
    CHECK_INT_EQ(feed(&c, in + split, n - split), 0);
    uint8_t out[1024];
    size_t got = drain(&c, out, sizeof(out));
    size_t head = head_len(out, got);
    CHECK(head > 0);
    out[head - 1] = 0;
    CHECK(strstr((char *)out, "HTTP/1.1 101 Switching Protocols\r\n") ==
          (char *)out);
    CHECK(strstr((char *)out, "\r\nSec-WebSocket-Accept: "
                              "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
    CHECK(strstr((char *)out, "\r\nSec-WebSocket-Protocol: coap\r\n") != NULL);
    frames f;
    decode(out + head, got - head, &f);
    CHECK_INT_EQ(f.n, 2);
    /* Our CSM (Len 0: 4.4), then the 2.05 with token 42 and "hello". */
    CHECK_INT_EQ(f.kind[0], PT_WS_EV_MESSAGE);
    CHECK_UINT_EQ(f.data[0][0], 0x00);
    CHECK_UINT_EQ(f.data[0][1], 0xe1);
    static const uint8_t resp[] = {0x01, 0x45, 0x42, 0xff, 'h',
                                   'e',  'l',  'l',  'o'};
    CHECK_INT_EQ(f.kind[1], PT_WS_EV_MESSAGE);
    CHECK_MEM_EQ(f.data[1], f.len[1], resp, sizeof(resp));
    CHECK_INT_EQ(hello_calls, 1);
    CHECK_INT_EQ(ev_ws_connected, 1);
    CHECK_INT_EQ(ev_session_connected, 1);
    conn_free(&c);
  }
}

TEST(upgrade_long_head_and_frames_in_one_read) {
  /* A head of nearly 4096 bytes and frames after it, in one read: the
   * head's buffer fills before the end of the read, and the rest of the
   * read is frames. */
  static uint8_t in[8192];
  const char *end = strstr(request, "\r\n\r\n");
  size_t n = (size_t)(end - request) + 2;
  memcpy(in, request, n);
  static const char pad[] = "X-Pad: ";
  memcpy(in + n, pad, sizeof(pad) - 1);
  n += sizeof(pad) - 1;
  size_t padding = PT_WS_HANDSHAKE_MAX - 100 - n;
  memset(in + n, 'p', padding);
  n += padding;
  memcpy(in + n, "\r\n\r\n", 4);
  n += 4;
  for (int i = 0; i < 20; i++) /* past the head's buffer */
    n += client_frame(in + n, PT_WS_OP_BINARY, i ? get_ws : csm_ws,
                      i ? sizeof(get_ws) : sizeof(csm_ws));
  CHECK(n > PT_WS_HANDSHAKE_MAX);
  conn c = server_conn();
  CHECK_INT_EQ(feed(&c, in, n), 0);
  CHECK_INT_EQ(hello_calls, 19);
  conn_free(&c);
}

TEST(pipelined_frames_are_answered_in_one_write) {
  conn c = server_conn_on(SOCK_SEQPACKET);
  uint8_t in[512], out[512];
  CHECK_INT_EQ(feed(&c, request, sizeof(request) - 1), 0);
  /* The 101 head and our CSM frame, made by one input: one write. */
  CHECK(recv(c.peer, out, sizeof(out), MSG_DONTWAIT) > 0);
  CHECK_INT_EQ(recv(c.peer, out, sizeof(out), MSG_DONTWAIT), -1);
  size_t n = client_frame(in, PT_WS_OP_BINARY, csm_ws, sizeof(csm_ws));
  for (uint8_t i = 0; i < 8; i++) {
    uint8_t get[sizeof(get_ws)];
    memcpy(get, get_ws, sizeof(get));
    get[2] = i; /* the token */
    n += client_frame(in + n, PT_WS_OP_BINARY, get, sizeof(get));
  }
  CHECK_INT_EQ(feed(&c, in, n), 0);
  CHECK_INT_EQ(hello_calls, 8);
  /* Eight frames (2-byte header, 9-byte 2.05) in one record, in order. */
  CHECK_INT_EQ(recv(c.peer, out, sizeof(out), MSG_DONTWAIT), 8 * 11);
  int in_order = 1;
  for (uint8_t i = 0; i < 8; i++)
    in_order &= out[i * 11] == 0x82 && out[i * 11 + 1] == 9 &&
                out[i * 11 + 2] == 0x01 && out[i * 11 + 3] == 0x45 &&
                out[i * 11 + 4] == i;
  CHECK_INT_EQ(in_order, 1);
  CHECK_INT_EQ(recv(c.peer, out, sizeof(out), MSG_DONTWAIT), -1);
  conn_free(&c);
}

TEST(big_message_in_one_frame) {
  /* Past the size built on the stack: the server writes header and
   * payload apart (the payload not copied). The bytes are the framing
   * layer's to carry, whatever they hold. */
  for (size_t i = 0; i < sizeof(big_body); i++)
    big_body[i] = (uint8_t)(i * 7 + i / 251);
  conn c = server_conn();
  upgrade(&c);
  CHECK_INT_EQ(pt_tcp_send(c.s, big_body, sizeof(big_body)),
               (ssize_t)sizeof(big_body));
  static uint8_t out[8192];
  size_t got = drain(&c, out, sizeof(out));
  CHECK_UINT_EQ(got, 4 + sizeof(big_body)); /* 16-bit length, no mask */
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, 0, 1 << 20);
  const uint8_t *p = out;
  pt_ws_event ev = {0};
  CHECK_INT_EQ(pt_ws_next(&d, &p, &got, &ev), 1);
  CHECK_INT_EQ(ev.kind, PT_WS_EV_MESSAGE);
  CHECK_MEM_EQ(ev.data, ev.len, big_body, sizeof(big_body));
  pt_ws_decoder_free(&d);
  conn_free(&c);
}

/* A refused upgrade: an HTTP error (@status_line) and the session closed,
 * with no WebSocket event. */
static void expect_refused(const char *req, const char *status_line) {
  conn c = server_conn();
  feed(&c, req, strlen(req));
  uint8_t buf[512];
  size_t n = drain(&c, buf, sizeof(buf) - 1);
  buf[n] = 0;
  CHECK(strstr((char *)buf, status_line) == (char *)buf);
  CHECK(conn_gone(&c));
  CHECK_INT_EQ(ev_ws_connected, 0);
  CHECK_INT_EQ(ev_tcp_closed, 1);
  conn_free(&c);
}

TEST(bad_upgrade_request_not_http) {
  expect_refused("HELLO\r\n\r\n", "HTTP/1.1 400");
}

TEST(bad_upgrade_request_wrong_path) {
  expect_refused("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Protocol: coap\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n",
                 "HTTP/1.1 404");
}

TEST(bad_upgrade_request_missing_subprotocol) {
  expect_refused("GET /.well-known/coap HTTP/1.1\r\nHost: a\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n",
                 "HTTP/1.1 400");
}

TEST(bad_upgrade_request_wrong_subprotocol) {
  expect_refused("GET /.well-known/coap HTTP/1.1\r\nHost: a\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Protocol: mqtt, coap2\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n",
                 "HTTP/1.1 400");
}

TEST(bad_upgrade_request_oversize) {
  conn c = server_conn();
  static char big[PT_WS_HANDSHAKE_MAX + 100];
  size_t n = strlen("GET /.well-known/coap HTTP/1.1\r\nX-Pad: ");
  memcpy(big, "GET /.well-known/coap HTTP/1.1\r\nX-Pad: ", n);
  memset(big + n, 'a', sizeof(big) - n);
  /* A head that never ends, in pieces: refused once the cap is reached,
   * and nothing past the cap is held. */
  for (size_t off = 0; off < sizeof(big) && !conn_gone(&c); off += 1000)
    feed(&c, big + off, sizeof(big) - off < 1000 ? sizeof(big) - off : 1000);
  uint8_t buf[256];
  size_t got = drain(&c, buf, sizeof(buf) - 1);
  buf[got] = 0;
  CHECK(strstr((char *)buf, "HTTP/1.1 431") == (char *)buf);
  CHECK(conn_gone(&c));
  conn_free(&c);
}

TEST(half_open_upgrade_times_out) {
  conn c = server_conn();
  CHECK_UINT_EQ(coap_petrel_context_get_ws_upgrade_timeout(c.ctx),
                PT_WS_UPGRADE_TIMEOUT_MS);
  /* Slowloris: a byte of the head now and then, never the end. */
  for (int i = 0; i < 49; i++) {
    feed(&c, request + i, 1);
    h_advance(c.ctx, COAP_TICKS_PER_SECOND / 10);
  }
  CHECK(!conn_gone(&c)); /* 4.9 s */
  h_advance(c.ctx, COAP_TICKS_PER_SECOND / 10);
  CHECK(conn_gone(&c)); /* 5 s */
  uint8_t buf[256];
  size_t got = drain(&c, buf, sizeof(buf) - 1);
  static const char want[] =
      "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
  CHECK_MEM_EQ(buf, got, want, sizeof(want) - 1);
  CHECK_INT_EQ(ev_tcp_closed, 1);
  conn_free(&c);
}

TEST(upgrade_timeout_setter) {
  conn c = server_conn(); /* armed at the default */
  coap_petrel_context_set_ws_upgrade_timeout(c.ctx, 300);
  CHECK_UINT_EQ(coap_petrel_context_get_ws_upgrade_timeout(c.ctx), 300);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  coap_session_t *s2 = h_server_session(40001);
  CHECK_INT_EQ(pt_tcp_attach(s2, sv[1], 0, h_now), 0);
  h_advance(c.ctx, COAP_TICKS_PER_SECOND * 299 / 1000);
  CHECK_UINT_EQ(pt_hashmap_size(&c.ctx->sessions), 2);
  h_advance(c.ctx, COAP_TICKS_PER_SECOND / 1000);
  CHECK_UINT_EQ(pt_hashmap_size(&c.ctx->sessions), 1); /* the new one */
  coap_petrel_context_set_ws_upgrade_timeout(c.ctx, 0);
  CHECK_UINT_EQ(coap_petrel_context_get_ws_upgrade_timeout(c.ctx),
                PT_WS_UPGRADE_TIMEOUT_MS);
  close(sv[0]);
  conn_free(&c);
}

TEST(completed_upgrade_is_not_timed_out) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t f[64];
  size_t n = client_frame(f, PT_WS_OP_BINARY, csm_ws, sizeof(csm_ws));
  feed(&c, f, n);
  h_advance(c.ctx, 10 * COAP_TICKS_PER_SECOND);
  CHECK(!conn_gone(&c));
  conn_free(&c);
}

TEST(bad_frame_unmasked_client_frame) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t f[64];
  size_t h = pt_ws_frame_header(f, PT_WS_OP_BINARY, sizeof(csm_ws), NULL);
  memcpy(f + h, csm_ws, sizeof(csm_ws));
  expect_close(&c, f, h + sizeof(csm_ws), PT_WS_CLOSE_PROTOCOL);
  conn_free(&c);
}

TEST(bad_frame_text_frame) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t f[64];
  size_t n = client_frame(f, PT_WS_OP_TEXT, (const uint8_t *)"hi", 2);
  expect_close(&c, f, n, PT_WS_CLOSE_UNSUPPORTED);
  conn_free(&c);
}

TEST(bad_frame_fragmented_control_frame) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t f[64];
  size_t n = client_frame(f, PT_WS_OP_PING, (const uint8_t *)"x", 1);
  f[0] &= 0x7F; /* FIN clear */
  expect_close(&c, f, n, PT_WS_CLOSE_PROTOCOL);
  conn_free(&c);
}

TEST(bad_frame_reserved_bits) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t f[64];
  size_t n = client_frame(f, PT_WS_OP_BINARY, csm_ws, sizeof(csm_ws));
  f[0] |= 0x40; /* RSV1 without an extension */
  expect_close(&c, f, n, PT_WS_CLOSE_PROTOCOL);
  conn_free(&c);
}

TEST(bad_frame_oversize_frame) {
  conn c = server_conn();
  upgrade(&c);
  /* A header announcing one byte more than the Max-Message-Size we
   * announced: refused from the header, before any payload. */
  uint8_t f[PT_WS_HDR_MAX];
  static const uint8_t mask[4] = {1, 2, 3, 4};
  size_t n = pt_ws_frame_header(
      f, PT_WS_OP_BINARY, (uint64_t)c.ctx->csm_max_message_size + 1, mask);
  expect_close(&c, f, n, PT_WS_CLOSE_TOO_BIG);
  CHECK_INT_EQ(ev_too_big, 1);
  conn_free(&c);
}

TEST(bad_frame_close_code) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t payload[2] = {0x03, 0xE7}, f[64]; /* 999 */
  size_t n = client_frame(f, PT_WS_OP_CLOSE, payload, 2);
  expect_close(&c, f, n, PT_WS_CLOSE_PROTOCOL);
  conn_free(&c);
}

TEST(bad_frame_close_reason_not_utf8) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t payload[4] = {0x03, 0xE8, 0xC3, 0x28}, f[64]; /* 1000, bad UTF-8 */
  size_t n = client_frame(f, PT_WS_OP_CLOSE, payload, 4);
  expect_close(&c, f, n, PT_WS_CLOSE_INVALID_DATA);
  conn_free(&c);
}

TEST(bad_message_coap_len_not_zero) {
  /* A WebSocket message whose CoAP header has TCP framing's Len: the CoAP
   * layer aborts (7.05) and the WebSocket is closed with 1000. */
  conn c = server_conn();
  upgrade(&c);
  static const uint8_t tcp_csm[] = {0x30, 0xe1, 0x22, 0x04, 0x80};
  uint8_t f[64];
  size_t n = client_frame(f, PT_WS_OP_BINARY, tcp_csm, sizeof(tcp_csm));
  uint8_t buf[512];
  drain(&c, buf, sizeof(buf));
  feed(&c, f, n);
  n = drain(&c, buf, sizeof(buf));
  frames fr;
  decode(buf, n, &fr);
  CHECK_INT_EQ(fr.n, 2);
  CHECK_UINT_EQ(fr.data[0][1], COAP_SIGNALING_CODE_ABORT);
  CHECK_INT_EQ(fr.kind[1], PT_WS_EV_CLOSE);
  CHECK_UINT_EQ(fr.status[1], PT_WS_CLOSE_NORMAL);
  CHECK(conn_gone(&c));
  conn_free(&c);
}

TEST(peer_close_is_answered_with_close) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t payload[2] = {0x03, 0xE9}, f[64]; /* 1001 going away */
  size_t n = client_frame(f, PT_WS_OP_CLOSE, payload, 2);
  expect_close(&c, f, n, PT_WS_CLOSE_GOING_AWAY);
  conn_free(&c);
}

TEST(ping_is_answered_with_pong) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t buf[512], f[64];
  drain(&c, buf, sizeof(buf));
  size_t n = client_frame(f, PT_WS_OP_PING, (const uint8_t *)"abc", 3);
  CHECK_INT_EQ(feed(&c, f, n), 0);
  n = drain(&c, buf, sizeof(buf));
  frames fr;
  decode(buf, n, &fr);
  CHECK_INT_EQ(fr.n, 1);
  CHECK_INT_EQ(fr.kind[0], PT_WS_EV_PONG);
  CHECK_MEM_EQ(fr.data[0], fr.len[0], "abc", 3);
  CHECK(!conn_gone(&c));
  conn_free(&c);
}

TEST(abrupt_close_without_close_frame) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t f[64];
  size_t n = client_frame(f, PT_WS_OP_BINARY, csm_ws, sizeof(csm_ws));
  /* Half a frame, then the TCP connection ends. */
  CHECK_INT_EQ(feed(&c, f, n - 2), 0);
  shutdown(c.peer, SHUT_WR);
  pt_tcp_io(c.s, 1, 0, h_now);
  CHECK(conn_gone(&c));
  CHECK_INT_EQ(ev_tcp_closed, 1);
  conn_free(&c);
}

TEST(session_close_sends_close_1000) {
  conn c = server_conn();
  upgrade(&c);
  uint8_t buf[512];
  drain(&c, buf, sizeof(buf));
  coap_session_t *s = c.s;
  coap_session_reference(s);
  pt_session_close(s, COAP_NACK_NOT_DELIVERABLE);
  coap_session_release(s);
  size_t n = drain(&c, buf, sizeof(buf));
  frames fr;
  decode(buf, n, &fr);
  CHECK_INT_EQ(fr.n, 2); /* a Release (RFC 8323 5.5), then the Close */
  CHECK_INT_EQ(fr.kind[0], PT_WS_EV_MESSAGE);
  CHECK_UINT_EQ(fr.data[0][1], COAP_SIGNALING_CODE_RELEASE);
  CHECK_INT_EQ(fr.kind[1], PT_WS_EV_CLOSE);
  CHECK_UINT_EQ(fr.status[1], PT_WS_CLOSE_NORMAL);
  conn_free(&c);
}

/* ---- the client side, on loopback --------------------------------------- */

static int listener(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof(sin);
  REQUIRE(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
  REQUIRE(listen(fd, 4) == 0);
  getsockname(fd, (struct sockaddr *)&sin, &sl);
  *port = ntohs(sin.sin_port);
  return fd;
}

/* Runs @ctx's loop until @fd has a complete HTTP head (or 2 s). */
static size_t read_head(coap_context_t *ctx, int fd, char *buf, size_t cap) {
  size_t got = 0;
  for (int i = 0; i < 200; i++) {
    coap_io_process(ctx, 10);
    ssize_t n = recv(fd, buf + got, cap - 1 - got, MSG_DONTWAIT);
    if (n > 0)
      got += (size_t)n;
    buf[got] = 0;
    if (strstr(buf, "\r\n\r\n") || n == 0)
      break;
  }
  return got;
}

/* Reads frames from the client until @want events or 2 s; masked ones. */
static void read_frames(coap_context_t *ctx, int fd, pt_ws_decoder *d,
                        frames *f, int want) {
  memset(f, 0, sizeof(*f));
  for (int i = 0; i < 200 && f->n < want; i++) {
    coap_io_process(ctx, 10);
    uint8_t buf[512];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    const uint8_t *p = buf;
    size_t len = n > 0 ? (size_t)n : 0;
    pt_ws_event ev;
    while (f->n < 8 && pt_ws_next(d, &p, &len, &ev)) {
      f->kind[f->n] = ev.kind;
      f->status[f->n] = ev.status;
      f->len[f->n] = ev.len < 64 ? ev.len : 64;
      if (ev.len)
        memcpy(f->data[f->n], ev.data, f->len[f->n]);
      f->full[f->n] = ev.len;
      f->sum[f->n] = checksum(ev.data, ev.len);
      f->n++;
    }
    if (n == 0)
      break;
  }
}

static int responses;
static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  responses += coap_pdu_get_code(recv) == COAP_RESPONSE_CODE_CONTENT;
  return COAP_RESPONSE_OK;
}

/* A client session to a raw server: its request is read and checked. */
static coap_session_t *client_to(coap_context_t *ctx, int lfd, uint16_t port,
                                 int *cfd, char *req, size_t cap) {
  coap_address_t a = h_peer(port);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_WS);
  REQUIRE(s != NULL);
  struct pollfd p = {.fd = lfd, .events = POLLIN};
  for (int i = 0; i < 100 && poll(&p, 1, 0) == 0; i++)
    coap_io_process(ctx, 10);
  *cfd = accept(lfd, NULL, NULL);
  REQUIRE(*cfd >= 0);
  read_head(ctx, *cfd, req, cap);
  return s;
}

/* The 101 for @req (the accept value @accept_override if not NULL), with
 * "Sec-WebSocket-Protocol: coap" unless @no_coap. */
static void send_101_as(int fd, const char *req, const char *accept_override,
                        int no_coap) {
  const char *k = strstr(req, "Sec-WebSocket-Key: ");
  CHECK_NOT_NULL(k);
  char accept[PT_WS_ACCEPT_LEN + 1];
  CHECK(pt_ws_accept_value(k + 19, PT_WS_KEY_LEN, accept));
  char resp[512];
  int n = snprintf(resp, sizeof(resp),
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                   "%s\r\n",
                   accept_override ? accept_override : accept,
                   no_coap ? "" : "Sec-WebSocket-Protocol: coap\r\n");
  CHECK_INT_EQ(send(fd, resp, (size_t)n, 0), n);
}

static void send_101(int fd, const char *req, const char *accept_override) {
  send_101_as(fd, req, accept_override, 0);
}

TEST(client_upgrade_masked_frames_and_close_on_release) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  coap_register_event_handler(ctx, on_event);
  coap_register_response_handler(ctx, on_response);
  ev_ws_connected = ev_ws_closed = responses = 0;
  uint16_t port;
  int lfd = listener(&port), cfd;
  char req[2048];
  coap_address_t a = h_peer(port);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_WS);
  CHECK_NOT_NULL(s);
  coap_str_const_t host = {12, (const uint8_t *)"example.test"};
  CHECK_INT_EQ(coap_ws_set_host_request(s, &host), 1);
  coap_str_const_t bad = {5, (const uint8_t *)"a\r\nb:"};
  CHECK_INT_EQ(coap_ws_set_host_request(s, &bad), 0);
  CHECK_INT_EQ(coap_session_get_proto(s), COAP_PROTO_WS);
  /* A request before the upgrade: held until the 101. */
  coap_pdu_t *get = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  uint8_t tok = 0x42;
  coap_add_token(get, 1, &tok);
  coap_add_option(get, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"hello");
  CHECK(coap_send(s, get) != COAP_INVALID_MID);
  struct pollfd p = {.fd = lfd, .events = POLLIN};
  for (int i = 0; i < 100 && poll(&p, 1, 0) == 0; i++)
    coap_io_process(ctx, 10);
  cfd = accept(lfd, NULL, NULL);
  CHECK(cfd >= 0);
  size_t n = read_head(ctx, cfd, req, sizeof(req));
  CHECK(n > 0);
  CHECK(strstr(req, "GET /.well-known/coap HTTP/1.1\r\n") == req);
  char want_host[64];
  snprintf(want_host, sizeof(want_host), "\r\nHost: example.test:%u\r\n", port);
  CHECK(strstr(req, want_host) != NULL);
  CHECK(strstr(req, "\r\nSec-WebSocket-Protocol: coap\r\n") != NULL);
  CHECK(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
  /* A fresh key: not all zero bytes. */
  const char *key = strstr(req, "Sec-WebSocket-Key: ");
  CHECK_NOT_NULL(key);
  CHECK(strncmp(key + 19, "AAAAAAAAAAAAAAAAAAAAAA==", PT_WS_KEY_LEN) != 0);
  /* Nothing but the head before our 101 (RFC 6455 4.1). */
  CHECK_UINT_EQ(n, head_len((const uint8_t *)req, n));
  send_101(cfd, req, NULL);
  /* The server's CSM and the 2.05 in one write, after the head. */
  static const uint8_t server_csm[] = {0x00, 0xe1, 0x22, 0x04, 0x80};
  static const uint8_t resp[] = {0x01, 0x45, 0x42, 0xff, 'h',
                                 'e',  'l',  'l',  'o'};
  uint8_t out[64];
  size_t h = pt_ws_frame_header(out, PT_WS_OP_BINARY, sizeof(server_csm), NULL);
  memcpy(out + h, server_csm, sizeof(server_csm));
  size_t m = h + sizeof(server_csm);
  h = pt_ws_frame_header(out + m, PT_WS_OP_BINARY, sizeof(resp), NULL);
  memcpy(out + m + h, resp, sizeof(resp));
  m += h + sizeof(resp);
  /* The client's frames must be masked (a server decoder checks that),
   * each with a key of its own. */
  uint8_t raw[64];
  /* the CSM (Max-Message-Size, Block-Wise-Transfer), the GET */
  size_t got = 0, want = 2 + 4 + 7 + 2 + 4 + 9;
  for (int i = 0; i < 200 && got < want; i++) {
    coap_io_process(ctx, 10);
    ssize_t r = recv(cfd, raw + got, sizeof(raw) - got, MSG_DONTWAIT);
    if (r > 0)
      got += (size_t)r;
  }
  CHECK_UINT_EQ(got, want);
  size_t second = 2 + 4 + (raw[1] & 0x7F);
  CHECK_UINT_EQ(second, 13);
  CHECK(memcmp(raw + 2, raw + second + 2, 4) != 0); /* two keys */
  static const uint8_t zero[4];
  CHECK(memcmp(raw + 2, zero, 4) != 0);
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, 1, 1 << 20);
  frames f;
  memset(&f, 0, sizeof(f));
  const uint8_t *rp = raw;
  size_t rl = got;
  pt_ws_event ev;
  while (f.n < 2 && pt_ws_next(&d, &rp, &rl, &ev)) {
    f.kind[f.n] = ev.kind;
    memcpy(f.data[f.n], ev.data, ev.len < 64 ? ev.len : 64);
    f.n++;
  }
  CHECK_INT_EQ(f.n, 2);
  CHECK_INT_EQ(f.kind[0], PT_WS_EV_MESSAGE); /* CSM */
  CHECK_UINT_EQ(f.data[0][1], COAP_SIGNALING_CODE_CSM);
  CHECK_INT_EQ(f.kind[1], PT_WS_EV_MESSAGE); /* the GET, Len 0 */
  CHECK_UINT_EQ(f.data[1][0], 0x01);
  CHECK_UINT_EQ(f.data[1][1], COAP_REQUEST_CODE_GET);
  CHECK_INT_EQ(send(cfd, out, m, 0), (ssize_t)m);
  for (int i = 0; i < 100 && !responses; i++)
    coap_io_process(ctx, 10);
  CHECK_INT_EQ(responses, 1);
  CHECK_INT_EQ(ev_ws_connected, 1);
  /* A big message from the client: masked whole (a copy on the heap). */
  for (size_t i = 0; i < sizeof(big_body); i++)
    big_body[i] = (uint8_t)(i * 13 + i / 241);
  CHECK_INT_EQ(pt_tcp_send(s, big_body, sizeof(big_body)),
               (ssize_t)sizeof(big_body));
  read_frames(ctx, cfd, &d, &f, 1);
  CHECK_INT_EQ(f.n, 1);
  CHECK_INT_EQ(f.kind[0], PT_WS_EV_MESSAGE);
  CHECK_UINT_EQ(f.full[0], sizeof(big_body));
  CHECK_UINT_EQ(f.sum[0], checksum(big_body, sizeof(big_body)));
  /* Releasing the session sends a Release (RFC 8323 5.5), then a Close
   * (1000), both masked. */
  coap_session_release(s);
  read_frames(ctx, cfd, &d, &f, 2);
  CHECK_INT_EQ(f.n, 2);
  CHECK_INT_EQ(f.kind[0], PT_WS_EV_MESSAGE);
  CHECK_UINT_EQ(f.data[0][1], COAP_SIGNALING_CODE_RELEASE);
  CHECK_INT_EQ(f.kind[1], PT_WS_EV_CLOSE);
  CHECK_UINT_EQ(f.status[1], PT_WS_CLOSE_NORMAL);
  pt_ws_decoder_free(&d);
  close(cfd);
  close(lfd);
  coap_free_context(ctx);
}

static int nacks;
static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)reason, (void)mid;
  nacks++;
}

/* A 101 whose Sec-WebSocket-Accept does not match our key (@accept), or an
 * error status (@status): the session fails, its request with it. */
static void client_refused_as(const char *accept, const char *status,
                              int no_coap) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  coap_register_event_handler(ctx, on_event);
  coap_register_nack_handler(ctx, on_nack);
  ev_ws_connected = ev_tcp_failed = nacks = 0;
  uint16_t port;
  int lfd = listener(&port), cfd;
  char req[2048];
  coap_session_t *s = client_to(ctx, lfd, port, &cfd, req, sizeof(req));
  coap_pdu_t *get = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  CHECK(coap_send(s, get) != COAP_INVALID_MID);
  if (status)
    CHECK(send(cfd, status, strlen(status), 0) > 0);
  else
    send_101_as(cfd, req, accept, no_coap);
  for (int i = 0; i < 100 && !nacks; i++)
    coap_io_process(ctx, 10);
  CHECK_INT_EQ(nacks, 1);
  CHECK_INT_EQ(ev_ws_connected, 0);
  CHECK_INT_EQ(ev_tcp_failed, 1);
  coap_session_release(s);
  close(cfd);
  close(lfd);
  coap_free_context(ctx);
}

static void client_refused(const char *accept, const char *status) {
  client_refused_as(accept, status, 0);
}

TEST(client_101_without_coap_subprotocol) {
  client_refused_as(NULL, NULL, 1);
}

TEST(client_bad_accept_value) {
  client_refused("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL);
}

TEST(client_upgrade_refused_with_404) {
  client_refused(NULL, "HTTP/1.1 404 Not Found\r\n\r\n");
}

TEST(set_host_request_refusals) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  uint16_t port;
  int lfd = listener(&port);
  coap_address_t a = h_peer(port);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_WS);
  CHECK_NOT_NULL(s);
  static char name[257];
  memset(name, 'h', sizeof(name) - 1);
  coap_str_const_t h255 = {255, (const uint8_t *)name};
  coap_str_const_t h256 = {256, (const uint8_t *)name};
  coap_str_const_t empty = {0, (const uint8_t *)name};
  coap_str_const_t lf = {3, (const uint8_t *)"a\nb"};
  CHECK_INT_EQ(coap_ws_set_host_request(s, &h255), 1);
  CHECK_INT_EQ(coap_ws_set_host_request(s, &h256), 0);
  CHECK_INT_EQ(coap_ws_set_host_request(s, &empty), 0);
  CHECK_INT_EQ(coap_ws_set_host_request(s, &lf), 0);
  CHECK_INT_EQ(coap_ws_set_host_request(s, NULL), 0);
  CHECK_INT_EQ(coap_ws_set_host_request(NULL, &h255), 0);
  /* Once the request has left, it is too late. */
  struct pollfd p = {.fd = lfd, .events = POLLIN};
  for (int i = 0; i < 100 && poll(&p, 1, 0) == 0; i++)
    coap_io_process(ctx, 10);
  int cfd = accept(lfd, NULL, NULL);
  char req[2048];
  read_head(ctx, cfd, req, sizeof(req));
  CHECK(strstr(req, "\r\nHost: hhhh") != NULL);
  CHECK_INT_EQ(coap_ws_set_host_request(s, &h255), 0);
  /* Not a WebSocket session: a UDP one, and a server one. */
  coap_session_t *u = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  CHECK_INT_EQ(coap_ws_set_host_request(u, &h255), 0);
  coap_session_release(u);
  coap_session_release(s);
  close(cfd);
  close(lfd);
  coap_free_context(ctx);
  conn c = server_conn();
  CHECK_INT_EQ(coap_ws_set_host_request(c.s, &h255), 0);
  conn_free(&c);
}

/* coap+ws in every build; coaps+ws where TLS is (tests/test_wss.c). */
TEST(ws_supported_wss_with_tls) {
  CHECK_INT_EQ(coap_ws_is_supported(), 1);
  CHECK_INT_EQ(coap_wss_is_supported(), coap_tls_is_supported());
  coap_uri_t uri;
  CHECK_INT_EQ(
      coap_split_uri((const uint8_t *)"coap+ws://[::1]/time", 20, &uri), 0);
  CHECK_UINT_EQ(uri.port, 80);
  CHECK_INT_EQ(uri.scheme, COAP_URI_SCHEME_COAP_WS);
}

/* ---- buffers between messages ---------------------------------------- */

/* A masked client frame of @len bytes at @data into @out, with FIN as
 * @fin (0: a first or middle fragment). Returns its size. */
static size_t client_fragment(uint8_t *out, unsigned opcode, int fin,
                              const uint8_t *data, size_t len) {
  size_t n = client_frame(out, opcode, data, len);
  if (!fin)
    out[0] &= 0x7f;
  return n;
}

/* A whole frame in one piece is unmasked into the lent scratch buffer; a
 * frame split across pieces, one bigger than the scratch buffer and a
 * fragmented message go into the decoder's own, which is freed before
 * the next message once a scratch buffer is lent. */
TEST(decoder_scratch_takes_whole_frames_only) {
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, 1, 1 << 16);
  uint8_t scratch[64], in[512], body[100];
  for (size_t i = 0; i < sizeof(body); i++)
    body[i] = (uint8_t)(i * 13 + 5);
  pt_ws_decoder_scratch(&d, scratch, sizeof(scratch));
  pt_ws_event ev = {0};
  /* whole, in one piece: into scratch, no buffer of its own */
  size_t n = client_frame(in, PT_WS_OP_BINARY, body, 9);
  const uint8_t *p = in;
  size_t left = n;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK_INT_EQ(ev.kind, PT_WS_EV_MESSAGE);
  CHECK(ev.data == scratch);
  CHECK_MEM_EQ(ev.data, ev.len, body, 9);
  CHECK_UINT_EQ(d.msg_cap, 0);
  CHECK_UINT_EQ(left, 0);
  /* split after 9 of its 15 bytes: into the decoder's buffer, whole */
  p = in, left = 9;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 0);
  p = in + 9, left = n - 9;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK(ev.data != scratch);
  CHECK_MEM_EQ(ev.data, ev.len, body, 9);
  CHECK(d.msg_cap > 0);
  /* exactly the scratch buffer's size, then one byte more */
  n = client_frame(in, PT_WS_OP_BINARY, body, sizeof(scratch));
  p = in, left = n;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK(ev.data == scratch);
  CHECK_MEM_EQ(ev.data, ev.len, body, sizeof(scratch));
  n = client_frame(in, PT_WS_OP_BINARY, body, sizeof(scratch) + 1);
  p = in, left = n;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK(ev.data != scratch);
  CHECK_MEM_EQ(ev.data, ev.len, body, sizeof(scratch) + 1);
  /* past the scratch buffer's size: the decoder's buffer */
  n = client_frame(in, PT_WS_OP_BINARY, body, sizeof(body));
  p = in, left = n;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK(ev.data != scratch);
  CHECK_MEM_EQ(ev.data, ev.len, body, sizeof(body));
  /* fragments (10 + 20 bytes) in one piece: joined in the decoder's */
  n = client_fragment(in, PT_WS_OP_BINARY, 0, body, 10);
  n += client_fragment(in + n, PT_WS_OP_CONT, 1, body + 10, 20);
  p = in, left = n;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK(ev.data != scratch);
  CHECK_MEM_EQ(ev.data, ev.len, body, 30);
  /* a whole one again: the decoder's buffer is gone */
  n = client_frame(in, PT_WS_OP_BINARY, body + 1, 12);
  p = in, left = n;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK(ev.data == scratch);
  CHECK_MEM_EQ(ev.data, ev.len, body + 1, 12);
  CHECK_UINT_EQ(d.msg_cap, 0);
  /* two whole frames in one piece: each in turn */
  n = client_frame(in, PT_WS_OP_BINARY, body, 5);
  n += client_frame(in + n, PT_WS_OP_BINARY, body + 50, 7);
  p = in, left = n;
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK_MEM_EQ(ev.data, ev.len, body, 5);
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 1);
  CHECK_MEM_EQ(ev.data, ev.len, body + 50, 7);
  CHECK_INT_EQ(pt_ws_next(&d, &p, &left, &ev), 0);
  pt_ws_decoder_scratch(&d, NULL, 0);
  pt_ws_decoder_free(&d);
}

/* After the upgrade and requests that arrive whole, a WebSocket
 * connection holds no buffer for data: no upgrade head, no message
 * buffer, no hold buffer for answers. One split across inputs is
 * answered whole and leaves nothing held either. */
TEST(idle_connection_holds_no_buffer) {
  conn c = server_conn();
  uint8_t in[256], out[512];
  /* half the upgrade request: its head is held, in a buffer of its size */
  size_t half = (sizeof(request) - 1) / 2;
  CHECK_INT_EQ(feed(&c, request, half), 0);
  CHECK(pt_tcp_buffered(c.s) >= half);
  CHECK(pt_tcp_buffered(c.s) < PT_WS_HANDSHAKE_MAX);
  CHECK_INT_EQ(feed(&c, request + half, sizeof(request) - 1 - half), 0);
  CHECK(drain(&c, out, sizeof(out)) > 12 && !memcmp(out, "HTTP/1.1 101", 12));
  CHECK_INT_EQ(ev_ws_connected, 1);
  CHECK_UINT_EQ(pt_tcp_buffered(c.s), 0);
  size_t n = client_frame(in, PT_WS_OP_BINARY, csm_ws, sizeof(csm_ws));
  n += client_frame(in + n, PT_WS_OP_BINARY, get_ws, sizeof(get_ws));
  n += client_frame(in + n, PT_WS_OP_BINARY, get_ws, sizeof(get_ws));
  CHECK_INT_EQ(feed(&c, in, n), 0);
  CHECK_INT_EQ(hello_calls, 2);
  CHECK(drain(&c, out, sizeof(out)) > 0);
  CHECK_UINT_EQ(pt_tcp_buffered(c.s), 0);
  /* a GET split inside its payload */
  n = client_frame(in, PT_WS_OP_BINARY, get_ws, sizeof(get_ws));
  CHECK_INT_EQ(feed(&c, in, 8), 0);
  CHECK_INT_EQ(hello_calls, 2);
  CHECK(pt_tcp_buffered(c.s) > 0); /* the part held */
  CHECK_INT_EQ(feed(&c, in + 8, n - 8), 0);
  CHECK_INT_EQ(hello_calls, 3);
  /* the answer: a 2-byte frame header and the 9-byte 2.05 */
  CHECK_INT_EQ((int)drain(&c, out, sizeof(out)), 11);
  CHECK_UINT_EQ(out[3], 0x45);
  n = client_frame(in, PT_WS_OP_BINARY, get_ws, sizeof(get_ws));
  CHECK_INT_EQ(feed(&c, in, n), 0);
  CHECK_INT_EQ(hello_calls, 4);
  CHECK_UINT_EQ(pt_tcp_buffered(c.s), 0);
  conn_free(&c);
}

/* An upgrade head of 1,500 bytes fed a byte at a time: the buffer that
 * holds it grows past each of its sizes (512, 1024, 2048) a byte at a
 * time, and the upgrade and a request after it go through. */
TEST(upgrade_head_grows_a_byte_at_a_time) {
  static char head[2048];
  const char *end = strstr(request, "\r\n\r\n");
  size_t n = (size_t)(end - request) + 2;
  memcpy(head, request, n);
  memcpy(head + n, "X-Pad: ", 7);
  n += 7;
  memset(head + n, 'p', 1500 - n - 4);
  n = 1500 - 4;
  memcpy(head + n, "\r\n\r\n", 4);
  n += 4;
  conn c = server_conn();
  for (size_t i = 0; i < n; i++)
    CHECK_INT_EQ(feed(&c, head + i, 1), 0);
  uint8_t out[512], in[64];
  CHECK(drain(&c, out, sizeof(out)) > 12 && !memcmp(out, "HTTP/1.1 101", 12));
  CHECK_INT_EQ(ev_ws_connected, 1);
  size_t k = client_frame(in, PT_WS_OP_BINARY, csm_ws, sizeof(csm_ws));
  k += client_frame(in + k, PT_WS_OP_BINARY, get_ws, sizeof(get_ws));
  CHECK_INT_EQ(feed(&c, in, k), 0);
  CHECK_INT_EQ(hello_calls, 1);
  CHECK_UINT_EQ(pt_tcp_buffered(c.s), 0);
  conn_free(&c);
}

int main(void) {
  RUN(upgrade_csm_and_get_at_every_split);
  RUN(upgrade_long_head_and_frames_in_one_read);
  RUN(pipelined_frames_are_answered_in_one_write);
  RUN(big_message_in_one_frame);
  RUN(bad_upgrade_request_not_http);
  RUN(bad_upgrade_request_wrong_path);
  RUN(bad_upgrade_request_missing_subprotocol);
  RUN(bad_upgrade_request_wrong_subprotocol);
  RUN(bad_upgrade_request_oversize);
  RUN(half_open_upgrade_times_out);
  RUN(upgrade_timeout_setter);
  RUN(completed_upgrade_is_not_timed_out);
  RUN(bad_frame_unmasked_client_frame);
  RUN(bad_frame_text_frame);
  RUN(bad_frame_fragmented_control_frame);
  RUN(bad_frame_reserved_bits);
  RUN(bad_frame_oversize_frame);
  RUN(bad_frame_close_code);
  RUN(bad_frame_close_reason_not_utf8);
  RUN(bad_message_coap_len_not_zero);
  RUN(peer_close_is_answered_with_close);
  RUN(ping_is_answered_with_pong);
  RUN(abrupt_close_without_close_frame);
  RUN(session_close_sends_close_1000);
  RUN(client_upgrade_masked_frames_and_close_on_release);
  RUN(client_bad_accept_value);
  RUN(client_101_without_coap_subprotocol);
  RUN(client_upgrade_refused_with_404);
  RUN(set_host_request_refusals);
  RUN(ws_supported_wss_with_tls);
  RUN(decoder_scratch_takes_whole_frames_only);
  RUN(idle_connection_holds_no_buffer);
  RUN(upgrade_head_grows_a_byte_at_a_time);
  return TEST_SUMMARY();
}
