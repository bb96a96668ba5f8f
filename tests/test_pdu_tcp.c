/*
 * test_pdu_tcp.c -- RFC 8323 framing (TCP, TLS, WebSockets): the header at
 * every extended-length boundary, round trips, and a named test for each
 * kind of malformed frame.
 */
#include "coap3/coap_pdu.h"
#include "pdu.h"

#include "test.h"

#define U8(s) ((const uint8_t *)(s))

/* A PDU with @tkl token bytes and an Options+Payload part of exactly
 * @body bytes (one Uri-Path when @body < 3, else a payload). */
static coap_pdu_t *sized_pdu(size_t tkl, size_t body) {
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, 0, 0);
  static uint8_t bytes[200000];
  for (size_t i = 0; i < sizeof(bytes); i++)
    bytes[i] = (uint8_t)(i * 7 + 1);
  if (!p || !coap_add_token(p, tkl, bytes))
    return NULL;
  if (body == 0)
    return p;
  if (body < 3) { /* Uri-Path (11): a 1-byte header and body - 1 bytes */
    if (!coap_add_option(p, COAP_OPTION_URI_PATH, body - 1, U8("ab")))
      return NULL;
    return p;
  }
  if (!coap_add_data(p, body - 1, bytes))
    return NULL;
  return p;
}

/* Parses @len bytes as @proto into a fresh PDU; returns the parse result
 * of the internal function, checking the public one agrees. */
static int parse_rc(coap_proto_t proto, const uint8_t *msg, size_t len) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  if (!p)
    return 1;
  int ws = proto == COAP_PROTO_WS || proto == COAP_PROTO_WSS;
  int rc = ws ? pt_pdu_parse_ws(p, msg, len) : pt_pdu_parse_tcp(p, msg, len);
  int api = coap_pdu_parse(proto, msg, len, p);
  coap_delete_pdu(p);
  return api != (rc == 0) ? 2 : rc;
}

/* Frames @p for TCP, checks the header bytes against @hdr, parses the
 * frame back and checks it frames to the same bytes. */
static int tcp_round_trip(coap_pdu_t *p, const uint8_t *hdr, size_t hdr_len) {
  const uint8_t *w;
  size_t n;
  if (!pt_pdu_wire_proto(p, COAP_PROTO_TCP, &w, &n))
    return 0;
  if (n != hdr_len + p->used_size || memcmp(w, hdr, hdr_len) != 0) {
    test_hex_("header", w, hdr_len);
    return 0;
  }
  uint64_t size = 0;
  if (pt_tcp_frame_size(w, n, &size) != (int)hdr_len || size != n)
    return 0;
  coap_pdu_t *q = coap_pdu_init(0, 0, 0, 0);
  const uint8_t *w2;
  size_t n2;
  int ok = q && coap_pdu_parse(COAP_PROTO_TLS, w, n, q) && q->code == p->code &&
           q->token_length == p->token_length && q->used_size == p->used_size &&
           pt_pdu_wire_reliable(q, 0, &w2, &n2) && n2 == n &&
           memcmp(w2, w, n) == 0;
  coap_delete_pdu(q);
  return ok;
}

/* ---- building ---- */

/* RFC 8323 3.2: GET with a 2-byte token and Uri-Path "a": Len 2. */
TEST(tcp_get_small) {
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1234, 0);
  CHECK(coap_add_token(p, 2, U8("\xab\xcd")));
  CHECK(coap_add_option(p, COAP_OPTION_URI_PATH, 1, U8("a")));
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire_reliable(p, 0, &w, &n));
  const uint8_t want[] = {0x22, 0x01, 0xab, 0xcd, 0xb1, 'a'};
  CHECK_MEM_EQ(w, n, want, sizeof(want));
  /* No Version, Type or Message ID: it parses back as CON with MID 0. */
  coap_pdu_t *q = coap_pdu_init(COAP_MESSAGE_NON, 0, 77, 0);
  CHECK_INT_EQ(pt_pdu_parse_tcp(q, w, n), 0);
  CHECK_INT_EQ(q->type, COAP_MESSAGE_CON);
  CHECK_INT_EQ(q->mid, 0);
  CHECK_INT_EQ(q->code, COAP_REQUEST_CODE_GET);
  CHECK_UINT_EQ(q->max_opt, COAP_OPTION_URI_PATH);
  coap_delete_pdu(q);
  coap_delete_pdu(p);
}

TEST(tcp_len_nibble_0_and_12) {
  coap_pdu_t *p = sized_pdu(0, 0);
  const uint8_t h0[] = {0x00, 0x45};
  CHECK(tcp_round_trip(p, h0, 2));
  coap_delete_pdu(p);
  p = sized_pdu(1, 12);
  const uint8_t h12[] = {0xc1, 0x45};
  CHECK(tcp_round_trip(p, h12, 2));
  coap_delete_pdu(p);
}

/* 13 is the first size with an 8-bit Extended Length (value 0), 268 its
 * last (255). */
TEST(tcp_ext8_boundaries_13_and_268) {
  coap_pdu_t *p = sized_pdu(0, 13);
  const uint8_t h13[] = {0xd0, 0x00, 0x45};
  CHECK(tcp_round_trip(p, h13, 3));
  coap_delete_pdu(p);
  p = sized_pdu(0, 268);
  const uint8_t h268[] = {0xd0, 0xff, 0x45};
  CHECK(tcp_round_trip(p, h268, 3));
  coap_delete_pdu(p);
}

TEST(tcp_ext16_boundaries_269_and_65804) {
  coap_pdu_t *p = sized_pdu(0, 269);
  const uint8_t h269[] = {0xe0, 0x00, 0x00, 0x45};
  CHECK(tcp_round_trip(p, h269, 4));
  coap_delete_pdu(p);
  p = sized_pdu(0, 65804);
  const uint8_t h65804[] = {0xe0, 0xff, 0xff, 0x45};
  CHECK(tcp_round_trip(p, h65804, 4));
  coap_delete_pdu(p);
}

TEST(tcp_ext32_boundaries_65805_and_beyond) {
  coap_pdu_t *p = sized_pdu(0, 65805);
  const uint8_t h65805[] = {0xf0, 0x00, 0x00, 0x00, 0x00, 0x45};
  CHECK(tcp_round_trip(p, h65805, 6));
  coap_delete_pdu(p);
  p = sized_pdu(0, 65805 + 0x012345);
  const uint8_t hbig[] = {0xf0, 0x00, 0x01, 0x23, 0x45, 0x45};
  CHECK(tcp_round_trip(p, hbig, 6));
  coap_delete_pdu(p);
}

/* RFC 8974: the TKL extension follows the Code; the Len does not count
 * the token. The longest header: 4 bytes of length, 2 of TKL. */
TEST(tcp_extended_tokens) {
  coap_pdu_t *p = sized_pdu(13, 5);
  const uint8_t h13[] = {0x5d, 0x45, 0x00};
  CHECK(tcp_round_trip(p, h13, 3));
  coap_delete_pdu(p);
  p = sized_pdu(269 + 258, 70000); /* 70000 - 65805 = 0x1063 */
  const uint8_t hmax[] = {0xfe, 0x00, 0x00, 0x10, 0x63, 0x45, 0x01, 0x02};
  CHECK(tcp_round_trip(p, hmax, PT_TCP_HDR_MAX));
  coap_delete_pdu(p);
}

/* RFC 8323 4.4: no length in a WebSocket message. */
TEST(ws_frame_has_len_zero) {
  coap_pdu_t *p = sized_pdu(1, 300);
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire_proto(p, COAP_PROTO_WSS, &w, &n));
  CHECK_UINT_EQ(n, 2 + 1 + 300);
  CHECK_UINT_EQ(w[0], 0x01);
  CHECK_UINT_EQ(w[1], 0x45);
  coap_pdu_t *q = coap_pdu_init(0, 0, 0, 0);
  CHECK(coap_pdu_parse(COAP_PROTO_WS, w, n, q));
  CHECK_UINT_EQ(q->used_size, p->used_size);
  CHECK_MEM_EQ(q->token, q->used_size, p->token, p->used_size);
  coap_delete_pdu(q);
  coap_delete_pdu(p);
}

TEST(udp_framing_unchanged_by_proto_dispatch) {
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 0xbeef, 0);
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire_proto(p, COAP_PROTO_UDP, &w, &n));
  const uint8_t want[] = {0x50, 0x01, 0xbe, 0xef};
  CHECK_MEM_EQ(w, n, want, sizeof(want));
  coap_delete_pdu(p);
}

/* ---- malformed frames ---- */

TEST(malformed_tcp_empty_input) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8(""), 0), PT_PARSE_ERR_SHORT_HEADER);
}

TEST(malformed_tcp_one_byte) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\x00"), 1),
               PT_PARSE_ERR_SHORT_HEADER);
}

TEST(malformed_tcp_ext8_length_missing) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\xd0\x01"), 2),
               PT_PARSE_ERR_SHORT_HEADER);
}

TEST(malformed_tcp_ext32_length_cut) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\xf0\x00\x00\x00\x00"), 5),
               PT_PARSE_ERR_SHORT_HEADER);
}

TEST(malformed_tcp_tkl15) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\x0f\x01"), 2), PT_PARSE_ERR_TKL);
}

TEST(malformed_tcp_tkl_extension_missing) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\x0d\x01"), 2),
               PT_PARSE_ERR_SHORT_HEADER);
}

TEST(malformed_tcp_frame_truncated) {
  /* Len 3, token 1: 6 bytes announced, 5 present. */
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\x31\x01\xaa\xb1\x61"), 5),
               PT_PARSE_ERR_FRAME_TRUNC);
}

TEST(malformed_tcp_frame_token_truncated) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\x04\x01\xaa"), 3),
               PT_PARSE_ERR_FRAME_TRUNC);
}

TEST(malformed_tcp_trailing_bytes) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\x00\x01\x00"), 3),
               PT_PARSE_ERR_FRAME_EXTRA);
}

TEST(malformed_tcp_bad_option) {
  /* Len 1: one option byte with delta 15 that is not the marker. */
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\x10\x01\xf0"), 3),
               PT_PARSE_ERR_DELTA_RESERVED);
}

TEST(malformed_tcp_marker_without_payload) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_TCP, U8("\x10\x45\xff"), 3),
               PT_PARSE_ERR_EMPTY_PAYLOAD);
}

TEST(malformed_tcp_bigger_than_pdu_max) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 16);
  /* Len 20 in an 8-bit extension (header 3 bytes): more than 16. */
  uint8_t m[3 + 20] = {0xd0, 20 - 13, 0x45, 0xff};
  memset(m + 4, 'x', 19);
  CHECK_INT_EQ(pt_pdu_parse_tcp(p, m, sizeof(m)), PT_PARSE_ERR_TOO_BIG);
  coap_delete_pdu(p);
}

TEST(malformed_ws_len_not_zero) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_WS, U8("\x10\x01\xb0"), 3),
               PT_PARSE_ERR_WS_LEN);
}

TEST(malformed_ws_one_byte) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_WSS, U8("\x00"), 1),
               PT_PARSE_ERR_SHORT_HEADER);
}

TEST(malformed_ws_tkl15) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_WS, U8("\x0f\x01"), 2), PT_PARSE_ERR_TKL);
}

TEST(malformed_ws_token_truncated) {
  CHECK_INT_EQ(parse_rc(COAP_PROTO_WS, U8("\x03\x01\xaa"), 3),
               PT_PARSE_ERR_TOKEN_TRUNC);
  CHECK_INT_EQ(parse_rc(COAP_PROTO_WS, U8("\x0e\x01\x00"), 3),
               PT_PARSE_ERR_TOKEN_TRUNC);
}

TEST(parse_rejects_unknown_proto) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  CHECK_INT_EQ(coap_pdu_parse(COAP_PROTO_NONE, U8("\x00\x01"), 2, p), 0);
  CHECK_INT_EQ(coap_pdu_parse(COAP_PROTO_LAST, U8("\x00\x01"), 2, p), 0);
  coap_delete_pdu(p);
}

int main(void) {
  RUN(tcp_get_small);
  RUN(tcp_len_nibble_0_and_12);
  RUN(tcp_ext8_boundaries_13_and_268);
  RUN(tcp_ext16_boundaries_269_and_65804);
  RUN(tcp_ext32_boundaries_65805_and_beyond);
  RUN(tcp_extended_tokens);
  RUN(ws_frame_has_len_zero);
  RUN(udp_framing_unchanged_by_proto_dispatch);
  RUN(malformed_tcp_empty_input);
  RUN(malformed_tcp_one_byte);
  RUN(malformed_tcp_ext8_length_missing);
  RUN(malformed_tcp_ext32_length_cut);
  RUN(malformed_tcp_tkl15);
  RUN(malformed_tcp_tkl_extension_missing);
  RUN(malformed_tcp_frame_truncated);
  RUN(malformed_tcp_frame_token_truncated);
  RUN(malformed_tcp_trailing_bytes);
  RUN(malformed_tcp_bad_option);
  RUN(malformed_tcp_marker_without_payload);
  RUN(malformed_tcp_bigger_than_pdu_max);
  RUN(malformed_ws_len_not_zero);
  RUN(malformed_ws_one_byte);
  RUN(malformed_ws_tkl15);
  RUN(malformed_ws_token_truncated);
  RUN(parse_rejects_unknown_proto);
  return TEST_SUMMARY();
}
