/*
 * test_ws.c -- WebSocket framing (RFC 6455 5) and the opening handshake
 * (RFC 6455 4, RFC 8323 4.1): RFC examples, a split at every byte offset,
 * and a named test for each violation with the status it closes with.
 */
#include "ws.h"

#include "test.h"

#define U8(s) ((const uint8_t *)(s))

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Feeds all @len bytes to a decoder (@server side) in one piece and
 * returns the first event's kind (-1: none); *@status gets its status. */
static int first_event(int server, const uint8_t *f, size_t len,
                       uint16_t *status) {
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, server, 1024);
  pt_ws_event ev;
  const uint8_t *in = f;
  int kind = -1;
  if (pt_ws_next(&d, &in, &len, &ev) == 1) {
    kind = ev.kind;
    *status = ev.status;
  }
  pt_ws_decoder_free(&d);
  return kind;
}

/* The close status a server decoder answers @f with (0 if no error). */
static unsigned violation(const uint8_t *f, size_t len) {
  uint16_t st = 0;
  return first_event(1, f, len, &st) == PT_WS_EV_ERROR ? st : 0;
}

static unsigned violation_client(const uint8_t *f, size_t len) {
  uint16_t st = 0;
  return first_event(0, f, len, &st) == PT_WS_EV_ERROR ? st : 0;
}

/* ---- frames: RFC 6455 5.7 examples (binary where CoAP needs it) ---- */

TEST(masked_frame_from_client) {
  /* 5.7's masked "Hello", as a binary frame. */
  const uint8_t f[] = {0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                       0x7f, 0x9f, 0x4d, 0x51, 0x58};
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, 1, 1024);
  pt_ws_event ev;
  const uint8_t *in = f;
  size_t len = sizeof(f);
  CHECK_INT_EQ(pt_ws_next(&d, &in, &len, &ev), 1);
  CHECK_INT_EQ(ev.kind, PT_WS_EV_MESSAGE);
  CHECK_MEM_EQ(ev.data, ev.len, "Hello", 5);
  CHECK_INT_EQ(pt_ws_next(&d, &in, &len, &ev), 0);
  pt_ws_decoder_free(&d);
  /* And the encoder makes the same bytes. */
  uint8_t out[PT_WS_HDR_MAX + 5];
  size_t n = pt_ws_frame_header(out, PT_WS_OP_BINARY, 5, KEY);
  memcpy(out + n, "Hello", 5);
  pt_ws_mask(out + n, 5, KEY, 0);
  CHECK_MEM_EQ(out, n + 5, f, sizeof(f));
}

TEST(header_lengths_7_16_64) {
  uint8_t h[PT_WS_HDR_MAX];
  const uint8_t h256[] = {0x82, 0x7e, 0x01, 0x00};
  CHECK_MEM_EQ(h, pt_ws_frame_header(h, PT_WS_OP_BINARY, 256, NULL), h256, 4);
  const uint8_t h64k[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
  CHECK_MEM_EQ(h, pt_ws_frame_header(h, PT_WS_OP_BINARY, 65536, NULL), h64k,
               10);
  const uint8_t h125[] = {0x89, 125};
  CHECK_MEM_EQ(h, pt_ws_frame_header(h, PT_WS_OP_PING, 125, NULL), h125, 2);
  const uint8_t h126[] = {0x82, 0x7e, 0x00, 126};
  CHECK_MEM_EQ(h, pt_ws_frame_header(h, PT_WS_OP_BINARY, 126, NULL), h126, 4);
  const uint8_t h65535[] = {0x82, 0x7e, 0xff, 0xff};
  CHECK_MEM_EQ(h, pt_ws_frame_header(h, PT_WS_OP_BINARY, 65535, NULL), h65535,
               4);
}

/* Writes a masked (@mask) or plain frame into @out; returns its size. */
static size_t frame(uint8_t *out, unsigned first_byte, const void *payload,
                    size_t len, const uint8_t *mask) {
  size_t n = pt_ws_frame_header(out, first_byte & 0x0F, len, mask);
  out[0] = (uint8_t)first_byte;
  if (len)
    memcpy(out + n, payload, len);
  if (mask)
    pt_ws_mask(out + n, len, mask, 0);
  return n + len;
}

/* Fragments joined, with a Ping between them (RFC 6455 5.4), and an
 * empty final fragment. */
static size_t fragmented_stream(uint8_t *buf, const uint8_t *mask) {
  size_t n = 0;
  n += frame(buf + n, 0x02, "Hel", 3, mask);
  n += frame(buf + n, 0x89, "p", 1, mask);
  n += frame(buf + n, 0x00, "lo", 2, mask);
  n += frame(buf + n, 0x80, "", 0, mask);
  n += frame(buf + n, 0x8a, "", 0, mask);
  static uint8_t big[70000];
  memset(big, 'b', sizeof(big));
  n += frame(buf + n, 0x82, big, sizeof(big), mask);
  return n;
}

/* Runs the events of @len bytes cut at @cut through @d; checks them
 * against the stream above. Returns 1 if they match. */
static int check_fragmented(pt_ws_decoder *d, const uint8_t *buf, size_t len,
                            size_t cut) {
  static const int kinds[] = {PT_WS_EV_PING, PT_WS_EV_MESSAGE, PT_WS_EV_PONG,
                              PT_WS_EV_MESSAGE};
  size_t got = 0;
  const uint8_t *in = buf;
  size_t in_len = cut;
  for (int piece = 0; piece < 2; piece++) {
    pt_ws_event ev;
    while (pt_ws_next(d, &in, &in_len, &ev) == 1) {
      if (got == 4 || (int)ev.kind != kinds[got])
        return 0;
      if (got == 0 && (ev.len != 1 || ev.data[0] != 'p'))
        return 0;
      if (got == 1 && (ev.len != 5 || memcmp(ev.data, "Hello", 5)))
        return 0;
      if (got == 3 && (ev.len != 70000 || ev.data[69999] != 'b'))
        return 0;
      got++;
    }
    if (in_len)
      return 0;
    in = buf + cut;
    in_len = len - cut;
  }
  return got == 4;
}

TEST(fragments_and_control_split_at_every_offset) {
  static uint8_t buf[80000];
  for (int server = 0; server < 2; server++) {
    size_t len = fragmented_stream(buf, server ? KEY : NULL);
    for (size_t cut = 0; cut <= len; cut++) {
      if (cut > 200 && cut + 200 < len)
        continue; /* the big frame's middle adds nothing */
      pt_ws_decoder d;
      pt_ws_decoder_init(&d, server, 100000);
      int ok = check_fragmented(&d, buf, len, cut);
      pt_ws_decoder_free(&d);
      if (!ok) {
        fprintf(stderr, "server %d cut %zu\n", server, cut);
        CHECK(0);
      }
    }
  }
}

TEST(announced_size_not_allocated_ahead) {
  uint8_t h[PT_WS_HDR_MAX];
  size_t n = pt_ws_frame_header(h, PT_WS_OP_BINARY, 900000, NULL);
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, 0, 1000000);
  pt_ws_event ev;
  const uint8_t *in = h;
  CHECK_INT_EQ(pt_ws_next(&d, &in, &n, &ev), 0);
  CHECK_UINT_EQ(d.msg_cap, 0);
  const uint8_t some[10] = {0};
  in = some;
  n = sizeof(some);
  CHECK_INT_EQ(pt_ws_next(&d, &in, &n, &ev), 0);
  CHECK(d.msg_cap <= 256);
  pt_ws_decoder_free(&d);
}

TEST(close_with_status_and_reason) {
  uint8_t pl[PT_WS_CONTROL_MAX], f[160];
  size_t n = pt_ws_close_payload(pl, 1000, "bye");
  n = frame(f, 0x88, pl, n, KEY);
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, 1, 1024);
  pt_ws_event ev;
  const uint8_t *in = f;
  CHECK_INT_EQ(pt_ws_next(&d, &in, &n, &ev), 1);
  CHECK_INT_EQ(ev.kind, PT_WS_EV_CLOSE);
  CHECK_UINT_EQ(ev.status, 1000);
  CHECK_MEM_EQ(ev.data, ev.len, "bye", 3);
  /* Nothing after a Close is read. */
  const uint8_t more[] = {0x82, 0x80, 0, 0, 0, 0};
  in = more;
  n = sizeof(more);
  CHECK_INT_EQ(pt_ws_next(&d, &in, &n, &ev), 0);
  CHECK_UINT_EQ(n, sizeof(more));
  pt_ws_decoder_free(&d);
  /* An empty Close reports 1005; a long reason is cut to fit. */
  uint16_t st = 0;
  CHECK_INT_EQ(first_event(0, U8("\x88\x00"), 2, &st), PT_WS_EV_CLOSE);
  CHECK_UINT_EQ(st, PT_WS_CLOSE_NO_STATUS);
  char longr[300];
  memset(longr, 'r', sizeof(longr) - 1);
  longr[sizeof(longr) - 1] = 0;
  CHECK_UINT_EQ(pt_ws_close_payload(pl, 1009, longr), PT_WS_CONTROL_MAX);
}

/* ---- violations, each with its status ---- */

TEST(bad_frame_rsv_bits) {
  CHECK_UINT_EQ(violation_client(U8("\xc2\x00"), 2), 1002);
  CHECK_UINT_EQ(violation_client(U8("\x92\x00"), 2), 1002);
}

TEST(bad_frame_reserved_opcodes) {
  CHECK_UINT_EQ(violation_client(U8("\x83\x00"), 2), 1002);
  CHECK_UINT_EQ(violation_client(U8("\x8b\x00"), 2), 1002);
}

TEST(bad_frame_unmasked_from_client) {
  CHECK_UINT_EQ(violation(U8("\x82\x01x"), 3), 1002);
}

TEST(bad_frame_masked_from_server) {
  CHECK_UINT_EQ(violation_client(U8("\x82\x81\x01\x02\x03\x04x"), 7), 1002);
}

TEST(bad_frame_fragmented_control) {
  CHECK_UINT_EQ(violation_client(U8("\x09\x00"), 2), 1002);
}

TEST(bad_frame_control_too_long) {
  uint8_t f[4 + 126] = {0x89, 0x7e, 0x00, 126};
  CHECK_UINT_EQ(violation_client(f, sizeof(f)), 1002);
}

TEST(bad_frame_length_not_shortest) {
  CHECK_UINT_EQ(violation_client(U8("\x82\x7e\x00\x7d"), 4), 1002);
  const uint8_t f64[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  CHECK_UINT_EQ(violation_client(f64, sizeof(f64)), 1002);
}

TEST(bad_frame_length_top_bit) {
  const uint8_t f[] = {0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0};
  CHECK_UINT_EQ(violation_client(f, sizeof(f)), 1002);
}

TEST(bad_frame_continuation_without_start) {
  CHECK_UINT_EQ(violation_client(U8("\x80\x00"), 2), 1002);
}

TEST(bad_frame_new_message_inside_fragments) {
  CHECK_UINT_EQ(violation_client(U8("\x02\x01x\x82\x01y"), 6), 1002);
}

TEST(bad_frame_text_message) {
  CHECK_UINT_EQ(violation_client(U8("\x81\x05Hello"), 7), 1003);
}

TEST(bad_frame_message_too_big) {
  uint8_t h[PT_WS_HDR_MAX];
  size_t n = pt_ws_frame_header(h, PT_WS_OP_BINARY, 1025, NULL);
  CHECK_UINT_EQ(violation_client(h, n), 1009);
  /* Exactly the limit is taken; across fragments the sum counts. */
  static uint8_t buf[3000], body[1100];
  n = frame(buf, 0x82, body, 1024, NULL);
  uint16_t st = 0;
  CHECK_INT_EQ(first_event(0, buf, n, &st), PT_WS_EV_MESSAGE);
  n = frame(buf, 0x02, body, 600, NULL);
  n += frame(buf + n, 0x80, body, 425, NULL);
  CHECK_UINT_EQ(violation_client(buf, n), 1009);
}

TEST(bad_close_one_byte) {
  CHECK_UINT_EQ(violation_client(U8("\x88\x01\x03"), 3), 1002);
}

TEST(bad_close_codes) {
  static const unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 2999, 5000};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t f[4] = {0x88, 0x02, (uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
    CHECK_UINT_EQ(violation_client(f, 4), 1002);
  }
  uint8_t ok[4] = {0x88, 0x02, 4999 >> 8, 4999 & 0xff};
  CHECK_UINT_EQ(violation_client(ok, 4), 0);
}

TEST(bad_close_reason_not_utf8) {
  CHECK_UINT_EQ(violation_client(U8("\x88\x04\x03\xe8\xc0\xaf"), 6), 1007);
}

TEST(utf8_validation) {
  CHECK(pt_ws_utf8_valid(U8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"), 15));
  CHECK(!pt_ws_utf8_valid(U8("\xc0\xaf"), 2));         /* overlong '/' */
  CHECK(!pt_ws_utf8_valid(U8("\xe0\x80\xaf"), 3));     /* overlong */
  CHECK(!pt_ws_utf8_valid(U8("\xed\xa0\x80"), 3));     /* surrogate */
  CHECK(!pt_ws_utf8_valid(U8("\xf4\x90\x80\x80"), 4)); /* > U+10FFFF */
  CHECK(!pt_ws_utf8_valid(U8("\xe2\x82"), 2));         /* cut short */
  CHECK(!pt_ws_utf8_valid(U8("\x80"), 1));             /* stray */
  CHECK(!pt_ws_utf8_valid(U8("\xf8\x88\x80\x80\x80"), 5));
}

/* ---- handshake ---- */

TEST(accept_value_rfc6455_example) {
  char out[PT_WS_ACCEPT_LEN + 1];
  CHECK(pt_ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==", 24, out));
  CHECK_STR_EQ(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(handshake_round_trip) {
  const uint8_t nonce[16] = "the sample nonce";
  char key[PT_WS_KEY_LEN + 1];
  pt_ws_make_key(nonce, key);
  CHECK_STR_EQ(key, "dGhlIHNhbXBsZSBub25jZQ==");
  char req[512];
  size_t n = pt_ws_client_request(req, sizeof(req), "[::1]:5683", key);
  CHECK(n > 0);
  CHECK(strstr(req, "GET /.well-known/coap HTTP/1.1\r\n") == req);
  CHECK(strstr(req, "Sec-WebSocket-Protocol: coap\r\n") != NULL);
  /* The server waits for the whole head, then answers 101. */
  char resp[512];
  size_t resp_len;
  CHECK_INT_EQ(
      pt_ws_server_request(U8(req), n - 1, resp, sizeof(resp), &resp_len), 0);
  /* Frames right behind the head are not part of it. */
  memcpy(req + n, "\x82\x80", 2);
  CHECK_INT_EQ(
      pt_ws_server_request(U8(req), n + 2, resp, sizeof(resp), &resp_len),
      (int)n);
  CHECK(strstr(resp, "HTTP/1.1 101 ") == resp);
  CHECK(strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  CHECK_INT_EQ(pt_ws_client_response(U8(resp), resp_len - 1, key), 0);
  CHECK_INT_EQ(pt_ws_client_response(U8(resp), resp_len, key), (int)resp_len);
}

/* The server's verdict on @req and the first line of its answer. */
static int server_verdict(const char *req, char *first_line) {
  char resp[512];
  size_t resp_len;
  int rc =
      pt_ws_server_request(U8(req), strlen(req), resp, sizeof(resp), &resp_len);
  char *eol = strstr(resp, "\r\n");
  if (resp_len && eol)
    *eol = 0;
  strcpy(first_line, resp_len ? resp : "");
  return rc;
}

#define GOOD_HEADERS                                                           \
  "Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"       \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                            \
  "Sec-WebSocket-Protocol: chat, coap\r\nSec-WebSocket-Version: 13\r\n"

TEST(bad_upgrade_requests) {
  char line[512];
  CHECK(server_verdict("GET /.well-known/coap HTTP/1.1\r\n" GOOD_HEADERS "\r\n",
                       line) > 0);
  CHECK_STR_EQ(line, "HTTP/1.1 101 Switching Protocols");
  CHECK_INT_EQ(
      server_verdict("GET /other HTTP/1.1\r\n" GOOD_HEADERS "\r\n", line),
      PT_WS_HTTP_NOT_FOUND);
  CHECK_STR_EQ(line, "HTTP/1.1 404 Not Found");
  CHECK_INT_EQ(server_verdict("POST /.well-known/coap HTTP/1.1\r\n" GOOD_HEADERS
                              "\r\n",
                              line),
               PT_WS_HTTP_NOT_GET);
  CHECK_STR_EQ(line, "HTTP/1.1 405 Method Not Allowed");
  CHECK_INT_EQ(server_verdict("GET /.well-known/coap HTTP/1.0\r\n" GOOD_HEADERS
                              "\r\n",
                              line),
               PT_WS_HTTP_MALFORMED);
  CHECK_STR_EQ(line, "HTTP/1.1 400 Bad Request");
  CHECK_INT_EQ(server_verdict("GET /.well-known/coap HTTP/1.1\r\n" GOOD_HEADERS
                              "no colon here\r\n\r\n",
                              line),
               PT_WS_HTTP_MALFORMED);
  CHECK_INT_EQ(server_verdict("GET /.well-known/coap HTTP/1.1\r\nHost: h\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Protocol: coap\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n",
                              line),
               PT_WS_HTTP_NO_UPGRADE);
  CHECK_INT_EQ(server_verdict("GET /.well-known/coap HTTP/1.1\r\nHost: h\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Protocol: coap\r\n"
                              "Sec-WebSocket-Version: 8\r\n\r\n",
                              line),
               PT_WS_HTTP_VERSION);
  CHECK_STR_EQ(line, "HTTP/1.1 426 Upgrade Required");
  CHECK_INT_EQ(server_verdict("GET /.well-known/coap HTTP/1.1\r\nHost: h\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: c2hvcnQ=\r\n"
                              "Sec-WebSocket-Protocol: coap\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n",
                              line),
               PT_WS_HTTP_BAD_KEY);
  CHECK_INT_EQ(server_verdict("GET /.well-known/coap HTTP/1.1\r\nHost: h\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Protocol: mqtt\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n",
                              line),
               PT_WS_HTTP_NO_COAP);
  CHECK_INT_EQ(server_verdict("GET /.well-known/coap HTTP/1.1\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Protocol: coap\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n",
                              line),
               PT_WS_HTTP_NO_HOST);
}

/* A client trickling a head that never ends is refused at the cap. */
TEST(bad_upgrade_head_too_long) {
  static uint8_t req[PT_WS_HANDSHAKE_MAX + 10];
  memset(req, 'a', sizeof(req));
  char resp[256];
  size_t resp_len;
  CHECK_INT_EQ(pt_ws_server_request(req, PT_WS_HANDSHAKE_MAX - 1, resp,
                                    sizeof(resp), &resp_len),
               0);
  CHECK_INT_EQ(pt_ws_server_request(req, PT_WS_HANDSHAKE_MAX, resp,
                                    sizeof(resp), &resp_len),
               PT_WS_HTTP_TOO_LONG);
  CHECK(strstr(resp, "HTTP/1.1 431 ") == resp);
}

TEST(bad_upgrade_responses) {
  const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
  const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                   "Sec-WebSocket-Protocol: coap\r\n\r\n";
  CHECK_INT_EQ(pt_ws_client_response(U8(ok), strlen(ok), key), (int)strlen(ok));
  const char *s200 = "HTTP/1.1 200 OK\r\n\r\n";
  CHECK_INT_EQ(pt_ws_client_response(U8(s200), strlen(s200), key),
               PT_WS_HTTP_STATUS);
  const char *wrong = "HTTP/1.1 101 Switching Protocols\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOq=\r\n"
                      "Sec-WebSocket-Protocol: coap\r\n\r\n";
  CHECK_INT_EQ(pt_ws_client_response(U8(wrong), strlen(wrong), key),
               PT_WS_HTTP_BAD_ACCEPT);
  const char *noproto =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  CHECK_INT_EQ(pt_ws_client_response(U8(noproto), strlen(noproto), key),
               PT_WS_HTTP_NO_COAP);
  const char *junk = "SSH-2.0-OpenSSH\r\n\r\n";
  CHECK_INT_EQ(pt_ws_client_response(U8(junk), strlen(junk), key),
               PT_WS_HTTP_MALFORMED);
}

int main(void) {
  RUN(masked_frame_from_client);
  RUN(header_lengths_7_16_64);
  RUN(fragments_and_control_split_at_every_offset);
  RUN(announced_size_not_allocated_ahead);
  RUN(close_with_status_and_reason);
  RUN(bad_frame_rsv_bits);
  RUN(bad_frame_reserved_opcodes);
  RUN(bad_frame_unmasked_from_client);
  RUN(bad_frame_masked_from_server);
  RUN(bad_frame_fragmented_control);
  RUN(bad_frame_control_too_long);
  RUN(bad_frame_length_not_shortest);
  RUN(bad_frame_length_top_bit);
  RUN(bad_frame_continuation_without_start);
  RUN(bad_frame_new_message_inside_fragments);
  RUN(bad_frame_text_message);
  RUN(bad_frame_message_too_big);
  RUN(bad_close_one_byte);
  RUN(bad_close_codes);
  RUN(bad_close_reason_not_utf8);
  RUN(utf8_validation);
  RUN(accept_value_rfc6455_example);
  RUN(handshake_round_trip);
  RUN(bad_upgrade_requests);
  RUN(bad_upgrade_head_too_long);
  RUN(bad_upgrade_responses);
  return TEST_SUMMARY();
}
