/*
 * test_pdu.c -- PDU building, wire framing, parsing (with a named test for
 * each kind of malformed input) and in-place editing.
 */
#include "coap3/coap_encode.h"
#include "coap3/coap_pdu.h"
#include "pdu.h"

#include <stdlib.h>

#include "test.h"

#include "context.h"

#define U8(s) ((const uint8_t *)(s))

static coap_pdu_t *new_pdu(void) {
  return coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1234, 0);
}

/* Parses msg into a fresh PDU; returns the pt_parse_err. */
static int parse_rc(const uint8_t *msg, size_t len) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  if (!p)
    return 1;
  int rc = pt_pdu_parse_udp(p, msg, len);
  int api = coap_pdu_parse(COAP_PROTO_UDP, msg, len, p);
  coap_delete_pdu(p);
  if (api != (rc == 0))
    return 2; /* the public wrapper must agree */
  return rc;
}

/* Parses msg and checks that framing it again gives the same bytes. */
static int reframes(const uint8_t *msg, size_t len) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  const uint8_t *w;
  size_t n;
  int ok = p && coap_pdu_parse(COAP_PROTO_UDP, msg, len, p) &&
           pt_pdu_wire(p, &w, &n) && n == len && memcmp(w, msg, n) == 0;
  coap_delete_pdu(p);
  return ok;
}

/* ---- RFC 7252 Appendix A ---- */

/* A.1: CON GET /temperature, MID 0x7d34, and its piggybacked ACK 2.05
 * "22.3 C". */
TEST(rfc7252_a1_build_and_parse) {
  const uint8_t req[] = {0x40, 0x01, 0x7d, 0x34, 0xbb, 't', 'e', 'm', 'p',
                         'e',  'r',  'a',  't',  'u',  'r', 'e'};
  const uint8_t ack[] = {0x60, 0x45, 0x7d, 0x34, 0xff,
                         '2',  '2',  '.',  '3',  ' ', 'C'};
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                                0x7d34, 0);
  CHECK_NOT_NULL(p);
  CHECK_UINT_EQ(coap_add_option(p, COAP_OPTION_URI_PATH, 11,
                                U8("temperature")), 12);
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire(p, &w, &n));
  CHECK_MEM_EQ(w, n, req, sizeof(req));
  pt_pdu_clear(p, COAP_MESSAGE_ACK, COAP_RESPONSE_CODE_CONTENT, 0x7d34);
  CHECK(coap_add_data(p, 6, U8("22.3 C")));
  CHECK(pt_pdu_wire(p, &w, &n));
  CHECK_MEM_EQ(w, n, ack, sizeof(ack));
  CHECK(reframes(req, sizeof(req)));
  CHECK(reframes(ack, sizeof(ack)));

  CHECK(coap_pdu_parse(COAP_PROTO_UDP, ack, sizeof(ack), p));
  CHECK_INT_EQ(coap_pdu_get_type(p), COAP_MESSAGE_ACK);
  CHECK_INT_EQ(coap_pdu_get_code(p), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(coap_pdu_get_mid(p), 0x7d34);
  const uint8_t *d;
  CHECK(coap_get_data(p, &n, &d));
  CHECK_MEM_EQ(d, n, "22.3 C", 6);
  coap_delete_pdu(p);
}

/* A.2-style exchange with a token, and the empty ACK / RST forms. */
TEST(rfc7252_a2_token_and_empty) {
  const uint8_t req[] = {0x42, 0x01, 0x7d, 0x35, 0x20, 0xf0, 0xbb, 't', 'e',
                         'm',  'p',  'e',  'r',  'a',  't',  'u',  'r', 'e'};
  const uint8_t empty_ack[] = {0x60, 0x00, 0x7d, 0x35};
  const uint8_t rst[] = {0x70, 0x00, 0x7d, 0x36};
  CHECK(reframes(req, sizeof(req)));
  CHECK(reframes(empty_ack, sizeof(empty_ack)));
  CHECK(reframes(rst, sizeof(rst)));
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  CHECK(coap_pdu_parse(COAP_PROTO_UDP, req, sizeof(req), p));
  coap_bin_const_t t = coap_pdu_get_token(p);
  CHECK_MEM_EQ(t.s, t.length, "\x20\xf0", 2);
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(p, COAP_OPTION_URI_PATH, &it);
  CHECK_NOT_NULL(o);
  CHECK_MEM_EQ(coap_opt_value(o), coap_opt_length(o), "temperature", 11);
  size_t n;
  const uint8_t *d;
  CHECK_INT_EQ(coap_get_data(p, &n, &d), 0);
  CHECK_UINT_EQ(n, 0);
  CHECK_NULL(d);
  coap_delete_pdu(p);
}

/* ---- extended forms through whole messages ---- */

TEST(extended_numbers_and_lengths_roundtrip) {
  uint8_t big[300];
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)i;
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  CHECK(coap_add_token(p, 8, U8("12345678")));
  CHECK_UINT_EQ(coap_add_option(p, 12, 0, NULL), 1);          /* delta 12 */
  CHECK_UINT_EQ(coap_add_option(p, 25, 13, big), 3 + 13); /* 13, 13 */
  CHECK_UINT_EQ(coap_add_option(p, 293, 268, big), 3 + 268);  /* 268 ext 13 */
  CHECK_UINT_EQ(coap_add_option(p, 562, 269, big), 5 + 269);  /* 269 ext 14 */
  CHECK_UINT_EQ(coap_add_option(p, 65535, 300, big), 5 + 300);
  CHECK(coap_add_data(p, 5, U8("hello")));
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire(p, &w, &n));
  CHECK(reframes(w, n));
  coap_opt_iterator_t it;
  coap_option_iterator_init(p, &it, COAP_OPT_ALL);
  static const uint16_t nums[] = {12, 25, 293, 562, 65535};
  static const uint32_t lens[] = {0, 13, 268, 269, 300};
  for (int i = 0; i < 5; i++) {
    coap_opt_t *o = coap_option_next(&it);
    CHECK_NOT_NULL(o);
    CHECK_UINT_EQ(it.number, nums[i]);
    CHECK_UINT_EQ(coap_opt_length(o), lens[i]);
    CHECK_MEM_EQ(coap_opt_value(o), lens[i], big, lens[i]);
  }
  CHECK_NULL(coap_option_next(&it));
  coap_delete_pdu(p);
}

/* ---- malformed input, one test per kind ---- */

TEST(parse_header_too_short) {
  const uint8_t m[] = {0x40, 0x01, 0x00};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_SHORT_HEADER);
  CHECK_INT_EQ(parse_rc(m, 0), PT_PARSE_ERR_SHORT_HEADER);
}

TEST(parse_bad_version) {
  const uint8_t v0[] = {0x00, 0x01, 0x00, 0x01};
  const uint8_t v2[] = {0x80, 0x01, 0x00, 0x01};
  CHECK_INT_EQ(parse_rc(v0, sizeof(v0)), PT_PARSE_ERR_VERSION);
  CHECK_INT_EQ(parse_rc(v2, sizeof(v2)), PT_PARSE_ERR_VERSION);
}

/* RFC 8974 2.1: only TKL 15 is reserved now; 9..12 are plain lengths. */
TEST(parse_reserved_tkl) {
  uint8_t m[4 + 300] = {0x4F, 0x01, 0x00, 0x01};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_TKL);
  m[0] = 0x5F; /* NON */
  CHECK_INT_EQ(parse_rc(m, 4), PT_PARSE_ERR_TKL);
  for (uint8_t tkl = 9; tkl <= 12; tkl++) {
    m[0] = (uint8_t)(0x40 | tkl);
    CHECK_INT_EQ(parse_rc(m, 4 + tkl), 0);
    CHECK(reframes(m, 4 + tkl));
    CHECK_INT_EQ(parse_rc(m, 4 + tkl - 1), PT_PARSE_ERR_TOKEN_TRUNC);
  }
}

/* Builds a GET with a @tl-byte token (bytes i * 7) and option Uri-Path
 * "x", frames it and checks the header RFC 8974 2.1 asks for: @tkl in the
 * first byte and @ext (@next bytes) after the MID. */
static void check_ext_token_wire(size_t tl, unsigned tkl, unsigned ext,
                                 size_t next) {
  coap_pdu_t *p = new_pdu();
  uint8_t *tok = malloc(tl ? tl : 1);
  for (size_t i = 0; i < tl; i++)
    tok[i] = (uint8_t)(i * 7);
  CHECK_INT_EQ(coap_add_token(p, tl, tok), 1);
  CHECK(coap_add_option(p, COAP_OPTION_URI_PATH, 1, U8("x")) > 0);
  const uint8_t *w;
  size_t n;
  CHECK_INT_EQ(pt_pdu_wire(p, &w, &n), 1);
  CHECK_UINT_EQ(n, 4 + next + tl + 2);
  CHECK_UINT_EQ(w[0] & 0x0F, tkl);
  if (next == 1)
    CHECK_UINT_EQ(w[4], ext);
  if (next == 2)
    CHECK_UINT_EQ((unsigned)(w[4] << 8 | w[5]), ext);
  CHECK_MEM_EQ(w + 4 + next, tl, tok, tl);
  /* and it parses back to the same token and option */
  coap_pdu_t *q = coap_pdu_init(0, 0, 0, 0);
  CHECK_INT_EQ(pt_pdu_parse_udp(q, w, n), 0);
  coap_bin_const_t t = coap_pdu_get_token(q);
  CHECK_MEM_EQ(t.s, t.length, tok, tl);
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(q, COAP_OPTION_URI_PATH, &it);
  CHECK_NOT_NULL(o);
  CHECK_MEM_EQ(coap_opt_value(o), coap_opt_length(o), "x", 1);
  CHECK(reframes(w, n));
  coap_delete_pdu(q);
  coap_delete_pdu(p);
  free(tok);
}

TEST(ext_token_tkl_13_and_14_on_the_wire) {
  check_ext_token_wire(8, 8, 0, 0);
  check_ext_token_wire(9, 9, 0, 0);
  check_ext_token_wire(12, 12, 0, 0);
  check_ext_token_wire(13, 13, 0, 1);      /* first one-byte length */
  check_ext_token_wire(40, 13, 27, 1);
  check_ext_token_wire(268, 13, 255, 1);   /* last one-byte length */
  check_ext_token_wire(269, 14, 0, 2);     /* first two-byte length */
  check_ext_token_wire(1000, 14, 731, 2);
  check_ext_token_wire(65804, 14, 65535, 2); /* COAP_TOKEN_EXT_MAX */
}

/* Each kind of broken extended length, with inputs of each. */
TEST(ext_token_truncated_lengths_and_tokens) {
  uint8_t m[4 + 2 + 400] = {0x4D, 0x01, 0x00, 0x01};
  memset(m + 4, 0, sizeof(m) - 4);
  CHECK_INT_EQ(parse_rc(m, 4), PT_PARSE_ERR_TOKEN_TRUNC); /* no ext byte */
  m[4] = 0;                                             /* 13 bytes */
  CHECK_INT_EQ(parse_rc(m, 5 + 12), PT_PARSE_ERR_TOKEN_TRUNC);
  CHECK_INT_EQ(parse_rc(m, 5 + 13), 0);
  m[4] = 255; /* 268 bytes */
  CHECK_INT_EQ(parse_rc(m, 5 + 267), PT_PARSE_ERR_TOKEN_TRUNC);
  CHECK_INT_EQ(parse_rc(m, 5 + 268), 0);
  m[0] = 0x4E; /* TKL 14 */
  CHECK_INT_EQ(parse_rc(m, 4), PT_PARSE_ERR_TOKEN_TRUNC);
  CHECK_INT_EQ(parse_rc(m, 5), PT_PARSE_ERR_TOKEN_TRUNC); /* half a length */
  m[4] = 0;
  m[5] = 0; /* 269 bytes */
  CHECK_INT_EQ(parse_rc(m, 6 + 268), PT_PARSE_ERR_TOKEN_TRUNC);
  CHECK_INT_EQ(parse_rc(m, 6 + 269), 0);
  m[5] = 100; /* 369 bytes */
  CHECK_INT_EQ(parse_rc(m, 6 + 368), PT_PARSE_ERR_TOKEN_TRUNC);
  CHECK_INT_EQ(parse_rc(m, 6 + 369), 0);
  m[4] = 0xFF;
  m[5] = 0xFF; /* 65804 bytes, not there */
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_TOKEN_TRUNC);
}

/* An Empty message must have TKL 0 (RFC 7252 4.1): the extended length
 * bytes are bytes after the MID. */
TEST(ext_token_on_empty_message_is_an_error) {
  uint8_t m[5 + 13] = {0x6D, 0x00, 0x00, 0x01, 0};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_EMPTY_MSG);
  uint8_t e[4 + 9] = {0x79, 0x00, 0x00, 0x01};
  CHECK_INT_EQ(parse_rc(e, sizeof(e)), PT_PARSE_ERR_EMPTY_MSG);
}

TEST(parse_token_past_end) {
  const uint8_t m[] = {0x44, 0x01, 0x00, 0x01, 'a', 'b', 'c'};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_TOKEN_TRUNC);
}

TEST(parse_option_value_past_end) {
  const uint8_t m[] = {0x40, 0x01, 0x00, 0x01, 0xb5, 'a', 'b'};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_VALUE_TRUNC);
  /* one byte short, after an option that fits; and exactly fitting */
  const uint8_t one[] = {0x40, 0x01, 0x00, 0x01, 0x11, 'x', 0xa3, 'a', 'b'};
  CHECK_INT_EQ(parse_rc(one, sizeof(one)), PT_PARSE_ERR_VALUE_TRUNC);
  const uint8_t fits[] = {0x40, 0x01, 0x00, 0x01, 0x11, 'x', 0xa2, 'a', 'b'};
  CHECK_INT_EQ(parse_rc(fits, sizeof(fits)), 0);
}

TEST(parse_delta_nibble_15) {
  const uint8_t m[] = {0x40, 0x01, 0x00, 0x01, 0xf0};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_DELTA_RESERVED);
}

TEST(parse_length_nibble_15) {
  const uint8_t m[] = {0x40, 0x01, 0x00, 0x01, 0x1f, 0x00};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_LENGTH_RESERVED);
}

TEST(parse_ext_delta_bytes_missing) {
  const uint8_t d13[] = {0x40, 0x01, 0x00, 0x01, 0xd0};
  const uint8_t d14[] = {0x40, 0x01, 0x00, 0x01, 0xe0, 0x00};
  CHECK_INT_EQ(parse_rc(d13, sizeof(d13)), PT_PARSE_ERR_EXT_TRUNC);
  CHECK_INT_EQ(parse_rc(d14, sizeof(d14)), PT_PARSE_ERR_EXT_TRUNC);
}

TEST(parse_ext_length_bytes_missing) {
  const uint8_t l13[] = {0x40, 0x01, 0x00, 0x01, 0x1d};
  const uint8_t l14[] = {0x40, 0x01, 0x00, 0x01, 0x1e, 0x01};
  CHECK_INT_EQ(parse_rc(l13, sizeof(l13)), PT_PARSE_ERR_EXT_TRUNC);
  CHECK_INT_EQ(parse_rc(l14, sizeof(l14)), PT_PARSE_ERR_EXT_TRUNC);
}

TEST(parse_marker_without_payload) {
  const uint8_t m[] = {0x40, 0x01, 0x00, 0x01, 0xb1, 'a', 0xff};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_EMPTY_PAYLOAD);
}

TEST(parse_empty_message_with_token) {
  const uint8_t m[] = {0x41, 0x00, 0x00, 0x01, 0x55};
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_EMPTY_MSG);
}

TEST(parse_empty_message_with_option_or_payload) {
  const uint8_t opt[] = {0x60, 0x00, 0x00, 0x01, 0xb0};
  const uint8_t pay[] = {0x60, 0x00, 0x00, 0x01, 0xff, 'x'};
  CHECK_INT_EQ(parse_rc(opt, sizeof(opt)), PT_PARSE_ERR_EMPTY_MSG);
  CHECK_INT_EQ(parse_rc(pay, sizeof(pay)), PT_PARSE_ERR_EMPTY_MSG);
}

TEST(parse_option_number_overflow) {
  /* 65535 via delta 14-form, then delta 1 more. */
  const uint8_t m[] = {0x40, 0x01, 0x00, 0x01, 0xe0, 0xfe, 0xf2, 0x10};
  const uint8_t ok[] = {0x40, 0x01, 0x00, 0x01, 0xe0, 0xfe, 0xf2, 0x00};
  CHECK_INT_EQ(parse_rc(ok, sizeof(ok)), 0);
  CHECK_INT_EQ(parse_rc(m, sizeof(m)), PT_PARSE_ERR_NUMBER_OVERFLOW);
}

TEST(parse_null_arguments) {
  const uint8_t m[] = {0x40, 0x01, 0x00, 0x01};
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  CHECK_INT_EQ(pt_pdu_parse_udp(NULL, m, sizeof(m)), PT_PARSE_ERR_ARG);
  CHECK_INT_EQ(pt_pdu_parse_udp(p, NULL, 4), PT_PARSE_ERR_ARG);
  CHECK_INT_EQ(coap_pdu_parse(COAP_PROTO_UDP, m, sizeof(m), NULL), 0);
  CHECK_INT_EQ(coap_pdu_parse(COAP_PROTO_TCP, m, sizeof(m), p), 0);
  CHECK_INT_EQ(coap_pdu_parse(COAP_PROTO_DTLS, m, sizeof(m), p), 1);
  coap_delete_pdu(p);
}

TEST(parse_exceeds_pdu_max_size) {
  const uint8_t m[] = {0x40, 0x01, 0x00, 0x01, 0xff, '1', '2', '3', '4'};
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 4);
  CHECK_NOT_NULL(p);
  CHECK_INT_EQ(pt_pdu_parse_udp(p, m, sizeof(m)), PT_PARSE_ERR_TOO_BIG);
  CHECK_INT_EQ(pt_pdu_parse_udp(p, m, sizeof(m) - 1), 0);
  coap_delete_pdu(p);
}

/* ---- API misuse ---- */

TEST(api_null_pdu) {
  size_t n = 1;
  const uint8_t *d = U8("x");
  CHECK_INT_EQ(coap_add_token(NULL, 1, U8("x")), 0);
  CHECK_UINT_EQ(coap_add_option(NULL, 11, 1, U8("x")), 0);
  CHECK_INT_EQ(coap_add_data(NULL, 1, U8("x")), 0);
  CHECK_NULL(coap_add_data_after(NULL, 1));
  CHECK_INT_EQ(coap_get_data(NULL, &n, &d), 0);
  CHECK_NULL(d);
  CHECK_INT_EQ(coap_pdu_get_mid(NULL), COAP_INVALID_MID);
  CHECK_NULL(coap_pdu_duplicate(NULL, NULL, 0, NULL, NULL));
  coap_delete_pdu(NULL);
}

/* RFC 8974: up to COAP_TOKEN_EXT_MAX (65804) bytes. */
TEST(api_token_too_long) {
  static uint8_t big[COAP_TOKEN_EXT_MAX + 1];
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  CHECK_INT_EQ(coap_add_token(p, COAP_TOKEN_EXT_MAX + 1, big), 0);
  CHECK_INT_EQ(coap_add_token(p, COAP_TOKEN_EXT_MAX, big), 1);
  coap_delete_pdu(p);
  p = new_pdu();
  CHECK_INT_EQ(coap_add_token(p, 9, U8("123456789")), 1);
  coap_bin_const_t t = coap_pdu_get_token(p);
  CHECK_MEM_EQ(t.s, t.length, "123456789", 9);
  coap_delete_pdu(p);
  /* A PDU too small for the token refuses it. */
  p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 16);
  CHECK_INT_EQ(coap_add_token(p, 17, big), 0);
  CHECK_INT_EQ(coap_add_token(p, 16, big), 1);
  coap_delete_pdu(p);
}

TEST(api_token_after_token_or_option) {
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  CHECK_INT_EQ(coap_add_token(p, 1, U8("a")), 1);
  CHECK_INT_EQ(coap_add_token(p, 1, U8("b")), 0);
  pt_pdu_clear(p, COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1);
  CHECK(coap_add_option(p, 11, 1, U8("x")));
  CHECK_INT_EQ(coap_add_token(p, 1, U8("b")), 0);
  coap_delete_pdu(p);
}

TEST(api_option_after_payload_fails) {
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  CHECK(coap_add_data(p, 1, U8("x")));
  CHECK_UINT_EQ(coap_add_option(p, 11, 1, U8("a")), 0);
  coap_delete_pdu(p);
}

TEST(api_data_twice_and_zero_length) {
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  CHECK_INT_EQ(coap_add_data(p, 0, NULL), 1); /* nothing added */
  size_t n;
  const uint8_t *d;
  CHECK_INT_EQ(coap_get_data(p, &n, &d), 0);
  CHECK_NULL(coap_add_data_after(p, 0));
  CHECK_INT_EQ(coap_add_data(p, 2, U8("ab")), 1);
  CHECK_INT_EQ(coap_add_data(p, 2, U8("cd")), 0);
  CHECK_NULL(coap_add_data_after(p, 2));
  CHECK(coap_get_data(p, &n, &d));
  CHECK_MEM_EQ(d, n, "ab", 2);
  coap_delete_pdu(p);
}

TEST(api_out_of_order_option_inserted) {
  /* libcoap 4.3.4 puts an option numbered below the last one in place. */
  coap_pdu_t *a = new_pdu(), *b = new_pdu();
  CHECK(a && b);
  coap_add_option(a, 15, 1, U8("q"));
  coap_add_option(a, 3, 4, U8("host"));
  coap_add_option(a, 11, 1, U8("p"));
  coap_add_option(b, 3, 4, U8("host"));
  coap_add_option(b, 11, 1, U8("p"));
  coap_add_option(b, 15, 1, U8("q"));
  const uint8_t *wa, *wb;
  size_t na, nb;
  CHECK(pt_pdu_wire(a, &wa, &na) && pt_pdu_wire(b, &wb, &nb));
  CHECK_MEM_EQ(wa, na, wb, nb);
  coap_delete_pdu(a);
  coap_delete_pdu(b);
}

TEST(api_max_size_exceeded) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 8);
  CHECK_NOT_NULL(p);
  CHECK(coap_add_token(p, 4, U8("abcd")));
  CHECK_UINT_EQ(coap_add_option(p, 11, 3, U8("xyz")), 4); /* exactly 8 */
  CHECK_UINT_EQ(coap_add_option(p, 11, 0, NULL), 0);
  CHECK_INT_EQ(coap_add_data(p, 1, U8("z")), 0);
  CHECK_NULL(coap_pdu_init(COAP_MESSAGE_CON, 0, 0, PT_PDU_MAX_SIZE + 1));
  coap_delete_pdu(p);
}

/* ---- editing keeps the encoding byte-exact ---- */

/* 1 if a and b frame to the same bytes. */
static int same_wire(coap_pdu_t *a, coap_pdu_t *b) {
  const uint8_t *wa, *wb;
  size_t na, nb;
  if (!pt_pdu_wire(a, &wa, &na) || !pt_pdu_wire(b, &wb, &nb))
    return 0;
  if (na != nb || memcmp(wa, wb, na) != 0) {
    test_hex_("a", wa, na);
    test_hex_("b", wb, nb);
    return 0;
  }
  return reframes(wa, na);
}

TEST(insert_shrinks_next_delta) {
  coap_pdu_t *a = new_pdu(), *b = new_pdu();
  CHECK(a && b);
  coap_add_token(a, 1, U8("t"));
  coap_add_option(a, 1, 1, U8("m"));
  coap_add_option(a, 20, 1, U8("z")); /* delta 19: 13-form */
  coap_add_data(a, 2, U8("pl"));
  CHECK_UINT_EQ(pt_pdu_insert_option(a, 10, 2, U8("xy")), 3);
  coap_add_token(b, 1, U8("t"));
  coap_add_option(b, 1, 1, U8("m"));
  coap_add_option(b, 10, 2, U8("xy"));
  coap_add_option(b, 20, 1, U8("z")); /* delta 10: 1 byte */
  coap_add_data(b, 2, U8("pl"));
  CHECK(same_wire(a, b));
  coap_delete_pdu(a);
  coap_delete_pdu(b);
}

TEST(insert_before_first_and_at_end) {
  coap_pdu_t *a = new_pdu(), *b = new_pdu();
  CHECK(a && b);
  coap_add_option(a, 300, 1, U8("e"));
  CHECK(pt_pdu_insert_option(a, 4, 1, U8("s")));
  CHECK(pt_pdu_insert_option(a, 65535, 0, NULL));
  CHECK(pt_pdu_insert_option(a, 300, 1, U8("f"))); /* after equal */
  coap_add_option(b, 4, 1, U8("s"));
  coap_add_option(b, 300, 1, U8("e"));
  coap_add_option(b, 300, 1, U8("f"));
  coap_add_option(b, 65535, 0, NULL);
  CHECK(same_wire(a, b));
  coap_delete_pdu(a);
  coap_delete_pdu(b);
}

TEST(remove_grows_next_delta) {
  coap_pdu_t *a = new_pdu(), *b = new_pdu();
  CHECK(a && b);
  coap_add_option(a, 1, 1, U8("m"));
  coap_add_option(a, 10, 2, U8("xy"));
  coap_add_option(a, 290, 1, U8("z"));
  coap_add_data(a, 1, U8("p"));
  CHECK_INT_EQ(pt_pdu_remove_option(a, 10), 1);
  CHECK_INT_EQ(pt_pdu_remove_option(a, 10), 0);
  CHECK_INT_EQ(pt_pdu_remove_option(a, 2), 0);
  coap_add_option(b, 1, 1, U8("m"));
  coap_add_option(b, 290, 1, U8("z")); /* delta 289: 14-form */
  coap_add_data(b, 1, U8("p"));
  CHECK(same_wire(a, b));
  coap_delete_pdu(a);
  coap_delete_pdu(b);
}

TEST(remove_first_of_repeats_and_last) {
  coap_pdu_t *a = new_pdu(), *b = new_pdu();
  CHECK(a && b);
  coap_add_option(a, 11, 1, U8("a"));
  coap_add_option(a, 11, 1, U8("b"));
  coap_add_option(a, 60, 1, U8("c"));
  CHECK(pt_pdu_remove_option(a, 11));
  CHECK(pt_pdu_remove_option(a, 60));
  coap_add_option(b, 11, 1, U8("b"));
  CHECK(same_wire(a, b));
  CHECK_UINT_EQ(a->max_opt, 11);
  coap_delete_pdu(a);
  coap_delete_pdu(b);
}

TEST(update_value_across_length_forms) {
  uint8_t big[300];
  memset(big, 'v', sizeof(big));
  coap_pdu_t *a = new_pdu(), *b = new_pdu();
  CHECK(a && b);
  coap_add_option(a, 11, 1, U8("a"));
  coap_add_option(a, 12, 1, U8("\x28"));
  coap_add_data(a, 3, U8("end"));
  CHECK_UINT_EQ(pt_pdu_update_option(a, 11, 300, big), 303);
  coap_add_option(b, 11, 300, big);
  coap_add_option(b, 12, 1, U8("\x28"));
  coap_add_data(b, 3, U8("end"));
  CHECK(same_wire(a, b));
  CHECK_UINT_EQ(pt_pdu_update_option(a, 11, 13, big), 15);
  CHECK_UINT_EQ(pt_pdu_update_option(a, 14, 1, U8("\x3c")), 2); /* insert */
  pt_pdu_clear(b, COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1234);
  coap_add_option(b, 11, 13, big);
  coap_add_option(b, 12, 1, U8("\x28"));
  coap_add_option(b, 14, 1, U8("\x3c"));
  coap_add_data(b, 3, U8("end"));
  CHECK(same_wire(a, b));
  coap_delete_pdu(a);
  coap_delete_pdu(b);
}

TEST(update_token_with_options_and_payload) {
  coap_pdu_t *a = new_pdu(), *b = new_pdu();
  CHECK(a && b);
  coap_add_token(a, 2, U8("ab"));
  coap_add_option(a, 11, 1, U8("p"));
  coap_add_data(a, 2, U8("xy"));
  CHECK(pt_pdu_update_token(a, 8, U8("12345678")));
  coap_add_token(b, 8, U8("12345678"));
  coap_add_option(b, 11, 1, U8("p"));
  coap_add_data(b, 2, U8("xy"));
  CHECK(same_wire(a, b));
  static uint8_t big[COAP_TOKEN_EXT_MAX + 1];
  CHECK_INT_EQ(pt_pdu_update_token(a, COAP_TOKEN_EXT_MAX + 1, big), 0);
  CHECK(pt_pdu_update_token(a, 300, big)); /* TKL 14, options and payload
                                              moved along */
  pt_pdu_clear(b, COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1234);
  coap_add_token(b, 300, big);
  coap_add_option(b, 11, 1, U8("p"));
  coap_add_data(b, 2, U8("xy"));
  CHECK(same_wire(a, b));
  CHECK(pt_pdu_update_token(a, 0, NULL));
  pt_pdu_clear(b, COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x1234);
  coap_add_option(b, 11, 1, U8("p"));
  coap_add_data(b, 2, U8("xy"));
  CHECK(same_wire(a, b));
  coap_delete_pdu(a);
  coap_delete_pdu(b);
}

TEST(growth_keeps_payload_pointer) {
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  uint8_t big[1000];
  memset(big, 'x', sizeof(big));
  CHECK(coap_add_data(p, 4, U8("data")));
  CHECK(pt_pdu_insert_option(p, 35, sizeof(big), big)); /* realloc */
  size_t n;
  const uint8_t *d;
  CHECK(coap_get_data(p, &n, &d));
  CHECK_MEM_EQ(d, n, "data", 4);
  coap_delete_pdu(p);
}

/* ---- the rest of the public API ---- */

TEST(duplicate_drops_options_and_payload) {
  coap_pdu_t *p = new_pdu(), *b = new_pdu();
  CHECK(p && b);
  coap_add_token(p, 1, U8("o"));
  coap_add_option(p, 3, 1, U8("h"));
  coap_add_option(p, 11, 1, U8("a"));
  coap_add_option(p, 23, 1, U8("\x02"));
  coap_add_data(p, 1, U8("z"));
  coap_opt_filter_t drop;
  coap_option_filter_clear(&drop);
  coap_option_filter_set(&drop, COAP_OPTION_BLOCK2);
  coap_pdu_t *d = coap_pdu_duplicate(p, NULL, 2, U8("nt"), &drop);
  CHECK_NOT_NULL(d);
  coap_pdu_set_mid(d, 0x1234);
  coap_add_token(b, 2, U8("nt"));
  coap_add_option(b, 3, 1, U8("h"));
  coap_add_option(b, 11, 1, U8("a"));
  CHECK(same_wire(d, b));
  coap_delete_pdu(d);
  coap_delete_pdu(p);
  coap_delete_pdu(b);
}

TEST(header_accessors_and_wire) {
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_NON, COAP_REQUEST_CODE_POST, NULL);
  CHECK_NOT_NULL(p);
  CHECK_UINT_EQ(p->max_size, COAP_DEFAULT_MTU - 4);
  coap_pdu_set_type(p, COAP_MESSAGE_RST);
  coap_pdu_set_code(p, COAP_RESPONSE_CODE_NOT_FOUND);
  coap_pdu_set_mid(p, 0xBEEF);
  CHECK_INT_EQ(coap_pdu_get_type(p), COAP_MESSAGE_RST);
  CHECK_INT_EQ(coap_pdu_get_code(p), 0x84);
  CHECK_INT_EQ(coap_pdu_get_mid(p), 0xBEEF);
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire(p, &w, &n));
  CHECK_MEM_EQ(w, n, "\x70\x84\xbe\xef", 4);
  coap_delete_pdu(p);
}

TEST(new_pdu_mids_advance_per_session) {
  coap_context_t *ctx = pt_context_new_detached();
  coap_address_t peer;
  coap_address_init(&peer);
  peer.addr.sin.sin_family = AF_INET;
  peer.size = sizeof(peer.addr.sin);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &peer, COAP_PROTO_UDP);
  coap_pdu_t *a = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  coap_pdu_t *b = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  int ok = a && b;
  coap_mid_t ma = a ? coap_pdu_get_mid(a) : 0, mb = b ? coap_pdu_get_mid(b) : 0;
  coap_delete_pdu(a);
  coap_delete_pdu(b);
  coap_session_release(s);
  coap_free_context(ctx);
  CHECK(ok);
  CHECK_INT_EQ(mb, (ma + 1) & 0xFFFF);
}

TEST(response_codes_and_phrases) {
  CHECK_INT_EQ(COAP_RESPONSE_CODE(205), 0x45);
  CHECK_INT_EQ(COAP_RESPONSE_CLASS(COAP_RESPONSE_CODE_NOT_FOUND), 4);
  CHECK_INT_EQ(COAP_RESPONSE_CODE_HOP_LIMIT_REACHED, 0xA8);
  CHECK_INT_EQ(COAP_SIGNALING_CODE_PONG, 0xE3);
  CHECK_STR_EQ(coap_response_phrase(COAP_RESPONSE_CODE(404)), "Not Found");
  CHECK_STR_EQ(coap_response_phrase(COAP_RESPONSE_CODE(205)), "Content");
  CHECK_STR_EQ(coap_response_phrase(COAP_RESPONSE_CODE(231)), "Continue");
  CHECK_STR_EQ(coap_response_phrase(COAP_RESPONSE_CODE(415)),
               "Unsupported Content-Format");
  CHECK_STR_EQ(coap_response_phrase(COAP_RESPONSE_CODE(508)),
               "Hop Limit Reached");
  CHECK_NULL(coap_response_phrase(0));
  CHECK_NULL(coap_response_phrase(COAP_RESPONSE_CODE(499)));
  for (int c = 0; c < 256; c++) {
    const char *s = coap_response_phrase((unsigned char)c);
    CHECK(!s || strlen(s) < COAP_ERROR_PHRASE_LENGTH);
  }
}

TEST(delete_honours_references) {
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  p->ref = 1;
  coap_delete_pdu(p); /* drops the reference only */
  CHECK_UINT_EQ(p->ref, 0);
  coap_delete_pdu(p);
}

/* A copy kept inside its owner's allocation (pt_pdu_clone_into): exact,
 * never grown, and left alone by coap_delete_pdu(). */
TEST(clone_into_is_exact_fixed_and_not_freed) {
  coap_pdu_t *src = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                                  0x1234, 256);
  coap_add_token(src, 2, (const uint8_t *)"ab");
  coap_add_option(src, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"async");
  coap_add_data(src, 3, (const uint8_t *)"xyz");
  uint8_t *mem = malloc(pt_pdu_clone_size(src));
  coap_pdu_t *c = pt_pdu_clone_into(src, mem);
  const uint8_t *w1, *w2;
  size_t l1, l2;
  int ok = pt_pdu_wire(src, &w1, &l1) && pt_pdu_wire(c, &w2, &l2);
  int grew = pt_pdu_insert_option(c, COAP_OPTION_URI_QUERY, 1,
                                  (const uint8_t *)"q") != 0;
  coap_delete_pdu(c); /* must not free: ASan would report it */
  CHECK(ok);
  CHECK_MEM_EQ(w2, l2, w1, l1);
  CHECK(!grew);
  free(mem);
  coap_delete_pdu(src);
}

/* ---- the option bits (pt_pdu_may_have) --------------------------------- */

static uint32_t bits_rng = 0x9E3779B9u;
static uint32_t bits_next(void) {
  bits_rng ^= bits_rng << 13;
  bits_rng ^= bits_rng >> 17;
  bits_rng ^= bits_rng << 5;
  return bits_rng;
}

/* Option numbers to draw from: each of the usual ones, the high ones, and
 * numbers 64 apart that share a bit. */
static const uint16_t bit_nums[] = {1,  3,   4,   6,   7,   11,  12,   14,
                                    15, 17,  23,  27,  28,  35,  60,   64,
                                    75, 128, 252, 258, 292, 300, 2048, 65000};

/* The first option @num of @pdu by a plain walk, or NULL. */
static const uint8_t *walk_find(const coap_pdu_t *pdu, uint16_t num) {
  coap_opt_iterator_t it;
  coap_opt_t *o;
  coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
  while ((o = coap_option_next(&it)))
    if (it.number == num)
      return o;
  return NULL;
}

/* 0 if for every number of bit_nums (and 0..300) coap_check_option()
 * finds what a full walk finds, and pt_pdu_may_have() is never 0 for an
 * option that is there. */
static int lookups_agree(const coap_pdu_t *pdu) {
  for (unsigned n = 0; n <= 300; n++) {
    coap_opt_iterator_t it;
    const uint8_t *w = walk_find(pdu, (uint16_t)n);
    if (coap_check_option(pdu, (coap_option_num_t)n, &it) != w)
      return 1;
    if (w && !pt_pdu_may_have(pdu, n))
      return 2;
  }
  for (size_t i = 0; i < sizeof(bit_nums) / sizeof(bit_nums[0]); i++) {
    coap_opt_iterator_t it;
    const uint8_t *w = walk_find(pdu, bit_nums[i]);
    if (coap_check_option(pdu, bit_nums[i], &it) != w)
      return 3;
  }
  return 0;
}

/* Property: whatever a PDU went through -- options added in and out of
 * order, updated, removed (first, middle, last), a payload, a new token,
 * a clone, a parse of its wire form, clearing -- coap_check_option()
 * (which trusts the option bits) finds exactly what a walk finds. */
TEST(option_bits_never_hide_an_option) {
  const size_t nn = sizeof(bit_nums) / sizeof(bit_nums[0]);
  for (int iter = 0; iter < 3000; iter++) {
    coap_pdu_t *pdu =
        coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 4096);
    CHECK_NOT_NULL(pdu);
    for (int step = 0; step < 12; step++) {
      uint16_t num = bit_nums[bits_next() % nn];
      uint8_t v[3] = {1, 2, 3};
      switch (bits_next() % 8) {
      case 0:
      case 1:
        pt_pdu_insert_option(pdu, num, bits_next() % 4, v);
        break;
      case 2:
        pt_pdu_update_option(pdu, num, bits_next() % 4, v);
        break;
      case 3:
      case 4:
        pt_pdu_remove_option(pdu, num);
        break;
      case 5:
        pt_pdu_update_token(pdu, bits_next() % 9, U8("tokentok"));
        break;
      case 6: { /* through the wire and back, or a clone */
        const uint8_t *d;
        size_t len;
        coap_pdu_t *q = coap_pdu_init(0, 0, 0, 4096);
        CHECK_NOT_NULL(q);
        if (bits_next() % 2 && pt_pdu_wire(pdu, &d, &len)) {
          uint8_t copy[4200];
          memcpy(copy, d, len);
          CHECK_INT_EQ(pt_pdu_parse_udp(q, copy, len), 0);
        } else {
          coap_delete_pdu(q);
          q = pt_pdu_clone(pdu);
          CHECK_NOT_NULL(q);
        }
        coap_delete_pdu(pdu);
        pdu = q;
        break;
      }
      default:
        if (bits_next() % 4 == 0)
          pt_pdu_clear(pdu, COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2);
        break;
      }
      int bad = lookups_agree(pdu);
      if (bad)
        printf("  iteration %d step %d: %d\n", iter, step, bad);
      CHECK_INT_EQ(bad, 0);
    }
    coap_delete_pdu(pdu);
  }
}

/* A parsed PDU's bits are exactly its options': an absent option is
 * answered without a walk, a present one (even 64 apart from another)
 * is found. */
TEST(option_bits_of_parsed_pdu) {
  coap_pdu_t *p = new_pdu();
  CHECK_NOT_NULL(p);
  coap_add_option(p, COAP_OPTION_URI_PATH, 5, U8("hello"));
  coap_add_option(p, COAP_OPTION_NORESPONSE, 1, U8("\x02"));
  CHECK(pt_pdu_may_have(p, COAP_OPTION_URI_PATH));
  CHECK(pt_pdu_may_have(p, COAP_OPTION_NORESPONSE));
  CHECK(!pt_pdu_may_have(p, COAP_OPTION_BLOCK2));
  CHECK(!pt_pdu_may_have(p, COAP_OPTION_OBSERVE));
  CHECK(!pt_pdu_may_have(p, 300)); /* past the last option */
  /* 258 and 2 share a bit: may have, and the lookup says no */
  coap_opt_iterator_t it;
  CHECK(pt_pdu_may_have(p, 2));
  CHECK_NULL(coap_check_option(p, 2, &it));
  CHECK_NOT_NULL(coap_check_option(p, COAP_OPTION_NORESPONSE, &it));
  const uint8_t *d;
  size_t len;
  CHECK(pt_pdu_wire(p, &d, &len));
  coap_pdu_t *q = coap_pdu_init(0, 0, 0, 0);
  CHECK_NOT_NULL(q);
  uint8_t copy[64];
  memcpy(copy, d, len);
  CHECK_INT_EQ(pt_pdu_parse_udp(q, copy, len), 0);
  CHECK(!pt_pdu_may_have(q, COAP_OPTION_BLOCK1));
  CHECK(pt_pdu_may_have(q, COAP_OPTION_URI_PATH));
  CHECK_NOT_NULL(coap_check_option(q, COAP_OPTION_URI_PATH, &it));
  coap_delete_pdu(q);
  coap_delete_pdu(p);
}

/* A PDU filled to exactly the room it has keeps its buffer: it grows only
 * when more is asked for (and then at most to its maximum size). */
TEST(pdu_filled_to_its_room_is_not_reallocated) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1,
                                  2 * PT_PDU_INITIAL_ALLOC);
  CHECK(pdu != NULL);
  uint8_t body[PT_PDU_INITIAL_ALLOC];
  memset(body, 'x', sizeof(body));
  CHECK_INT_EQ(coap_add_token(pdu, 2, (const uint8_t *)"tk"), 1);
  const uint8_t *buf = pdu->buf;
  size_t room = pdu->alloc_size;
  /* token + payload marker + body = exactly the allocation */
  CHECK_INT_EQ(coap_add_data(pdu, room - 3, body), 1);
  CHECK(pdu->buf == buf);
  CHECK_UINT_EQ(pdu->alloc_size, room);
  CHECK_UINT_EQ(pdu->used_size, room);
  coap_delete_pdu(pdu);
  pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 40);
  CHECK(pdu != NULL);
  CHECK_INT_EQ(coap_add_data(pdu, 39, body), 1); /* marker + 39 = 40 */
  CHECK_UINT_EQ(pdu->alloc_size, 40);
  CHECK_INT_EQ(coap_add_option(pdu, COAP_OPTION_URI_PATH, 1, body), 0);
  coap_delete_pdu(pdu);
}

/* ---- the small-message parse path against the general one ---- */

/* A deterministic generator (xorshift) for the differential tests. */
static uint32_t rnd_state = 0x9e3779b9u;
static uint32_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 17;
  rnd_state ^= rnd_state << 5;
  return rnd_state;
}

/* A message near the small path's edges: mostly a valid header, a token,
 * options with one-byte and extended headers, maybe a marker and payload,
 * sometimes cut short or with a bad byte. Returns its length. */
static size_t random_message(uint8_t *m, size_t cap) {
  size_t n = 0;
  unsigned tkl = rnd() % 8 ? rnd() % 9 : rnd() % 16;
  m[n++] = (uint8_t)(rnd() % 16 ? 0x40 | (rnd() % 4) << 4 | tkl : rnd());
  m[n++] = (uint8_t)(rnd() % 16 ? 1 + rnd() % 4 : rnd() % 2 ? 0 : rnd());
  m[n++] = (uint8_t)rnd();
  m[n++] = (uint8_t)rnd();
  for (unsigned i = 0; i < tkl && n < cap; i++)
    m[n++] = (uint8_t)rnd();
  unsigned opts = rnd() % 6;
  for (unsigned i = 0; i < opts && n + 3 < cap; i++) {
    unsigned d = rnd() % 8 ? rnd() % 13 : 13 + rnd() % 3;
    unsigned l = rnd() % 8 ? rnd() % 6 : 13 + rnd() % 3;
    m[n++] = (uint8_t)(d << 4 | l);
    size_t extra = (d == 13) + 2 * (d == 14) + (l == 13) + 2 * (l == 14);
    for (size_t k = 0; k < extra && n < cap; k++)
      m[n++] = (uint8_t)(rnd() % 4 ? rnd() % 3 : rnd());
    for (unsigned k = 0; k < (l < 13 ? l : 2) && n < cap; k++)
      m[n++] = (uint8_t)rnd();
  }
  if (rnd() % 3 == 0 && n < cap) {
    m[n++] = 0xFF;
    unsigned pl = rnd() % 4 ? 1 + rnd() % 20 : 0;
    for (unsigned k = 0; k < pl && n < cap; k++)
      m[n++] = (uint8_t)rnd();
  }
  if (rnd() % 8 == 0 && n > 0)
    n -= 1 + rnd() % n; /* cut short */
  return n;
}

/* 1 when a and b hold the same message as parsing leaves it. */
static int same_parsed_pdu(const coap_pdu_t *a, const coap_pdu_t *b) {
  return a->type == b->type && a->code == b->code && a->mid == b->mid &&
         a->token_length == b->token_length && a->used_size == b->used_size &&
         a->max_opt == b->max_opt && a->opt_bits == b->opt_bits &&
         a->hdr_size == b->hdr_size &&
         (a->data ? a->data - a->token : -1) ==
             (b->data ? b->data - b->token : -1) &&
         memcmp(a->token, b->token, a->used_size) == 0;
}

/* Every message the generator makes, parsed by pt_pdu_parse_udp() (which
 * takes small ones on its own path) and by the general parser, into PDUs
 * of a roomy buffer, a tight max_size and a one-byte buffer: the same
 * answer, and on success the same PDU. */
TEST(parse_small_path_agrees_with_general) {
  uint8_t m[64];
  coap_pdu_t *empty = coap_pdu_init(0, 0, 0, 0);
  CHECK_NOT_NULL(empty);
  for (int i = 0; i < 60000 && !test_failed_; i++) {
    size_t n = random_message(m, sizeof(m));
    coap_pdu_t *a, *b;
    switch (i % 3) {
    case 0:
      a = coap_pdu_init(0, 0, 0, 0);
      b = coap_pdu_init(0, 0, 0, 0);
      break;
    case 1: /* max_size cuts through the small range */
      a = coap_pdu_init(0, 0, 0, 10 + i % 20);
      b = coap_pdu_init(0, 0, 0, 10 + i % 20);
      break;
    default: /* a one-byte buffer that has to grow */
      a = pt_pdu_clone(empty);
      b = pt_pdu_clone(empty);
      break;
    }
    CHECK(a && b);
    if (!a || !b)
      break;
    int ra = pt_pdu_parse_udp(a, m, n), rb = pt_pdu_parse_udp_any(b, m, n);
    CHECK_INT_EQ(ra, rb);
    if (ra == 0 && rb == 0)
      CHECK(same_parsed_pdu(a, b));
    coap_delete_pdu(a);
    coap_delete_pdu(b);
  }
  coap_delete_pdu(empty);
}

/* Bodies of 32 bytes (the small path's last) and 33 (the general path's
 * first) parse alike, as does a small message whose one-byte option is
 * followed by an extended one. */
TEST(parse_small_path_edges) {
  uint8_t m[4 + 40] = {0x48, 0x01, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8};
  for (size_t body = 30; body <= 34; body++) {
    /* token 8, then Uri-Path (11) with the rest minus its header */
    m[12] = 0xBD;
    m[13] = (uint8_t)(body - 8 - 2 - 13);
    memset(m + 14, 'p', body - 10);
    coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
    CHECK_INT_EQ(pt_pdu_parse_udp(p, m, 4 + body), 0);
    CHECK_UINT_EQ(p->used_size, body);
    CHECK_UINT_EQ(p->max_opt, COAP_OPTION_URI_PATH);
    CHECK(pt_pdu_may_have(p, COAP_OPTION_URI_PATH));
    coap_delete_pdu(p);
  }
  /* If-Match (1, one byte header), then Size1 (60, delta 59: extended) */
  const uint8_t mix[] = {0x40, 0x01, 0, 1, 0x11, 0xAA, 0xD1, 59 - 13, 0x07};
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  CHECK_INT_EQ(pt_pdu_parse_udp(p, mix, sizeof(mix)), 0);
  CHECK_UINT_EQ(p->max_opt, COAP_OPTION_SIZE1);
  CHECK(pt_pdu_may_have(p, COAP_OPTION_IF_MATCH));
  CHECK(pt_pdu_may_have(p, COAP_OPTION_SIZE1));
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(p, COAP_OPTION_SIZE1, &it);
  CHECK_NOT_NULL(o);
  CHECK_UINT_EQ(coap_opt_length(o), 1);
  /* a payload after one-byte options */
  const uint8_t pay[] = {0x50, 0x02, 0, 2, 0xB1, 'a', 0xFF, 'x', 'y'};
  CHECK_INT_EQ(pt_pdu_parse_udp(p, pay, sizeof(pay)), 0);
  size_t dl;
  const uint8_t *d;
  CHECK(coap_get_data(p, &dl, &d));
  CHECK_MEM_EQ(d, dl, U8("xy"), 2);
  CHECK_UINT_EQ(p->type, COAP_MESSAGE_NON);
  coap_delete_pdu(p);
}

/* ---- the building fast paths ---- */

/* coap_add_option() appending with every header form at the one-byte
 * edge (delta and length 12 and 13) gives the bytes coap_opt_encode()
 * does, and takes exactly the room max_size leaves. */
TEST(add_option_append_forms_and_room) {
  static const unsigned vals[] = {0, 1, 2, 3, 4, 7, 8, 12, 13, 14};
  size_t nv = sizeof(vals) / sizeof(vals[0]);
  uint8_t v[16];
  for (size_t k = 0; k < sizeof(v); k++)
    v[k] = (uint8_t)('a' + k);
  for (size_t i = 0; i < nv; i++) {
    for (size_t j = 0; j < nv; j++) {
      unsigned delta = vals[i], len = vals[j];
      coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
      CHECK_INT_EQ(coap_add_token(p, 2, U8("tk")), 1);
      CHECK_UINT_EQ(coap_add_option(p, 3, 1, U8("h")), 2);
      size_t want = coap_opt_encode_size((uint16_t)delta, len);
      CHECK_UINT_EQ(coap_add_option(p, (coap_option_num_t)(3 + delta), len, v),
                    want);
      uint8_t ref[32];
      CHECK_UINT_EQ(coap_opt_encode(ref, sizeof(ref), (uint16_t)delta, v, len),
                    want);
      CHECK_MEM_EQ(p->token + 4, p->used_size - 4, ref, want);
      CHECK_UINT_EQ(p->max_opt, 3 + delta);
      CHECK(pt_pdu_may_have(p, 3 + delta));
      coap_delete_pdu(p);
    }
  }
  /* room: a PDU of max_size 6 takes a token of 2 and an option of 1 + 3,
   * not one of 1 + 4 */
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 6);
  CHECK_INT_EQ(coap_add_token(p, 2, U8("tk")), 1);
  CHECK_UINT_EQ(coap_add_option(p, 11, 4, v), 0);
  CHECK_UINT_EQ(p->used_size, 2);
  CHECK_UINT_EQ(coap_add_option(p, 11, 3, v), 4);
  CHECK_UINT_EQ(p->used_size, 6);
  coap_delete_pdu(p);
  /* a value pointer of NULL with a length is refused, with none taken */
  p = coap_pdu_init(0, 0, 0, 0);
  CHECK_UINT_EQ(coap_add_option(p, 11, 3, NULL), 0);
  CHECK_UINT_EQ(coap_add_option(p, 12, 0, NULL), 1);
  CHECK_UINT_EQ(p->used_size, 1);
  coap_delete_pdu(p);
}

/* Tokens and payloads of every length up to 40 are copied exactly, with
 * nothing written past them (the short copies use overlapping moves). */
TEST(add_token_and_data_every_length) {
  uint8_t src[48];
  for (size_t i = 0; i < sizeof(src); i++)
    src[i] = (uint8_t)(i * 7 + 1);
  for (size_t len = 0; len <= 40; len++) {
    coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
    memset(p->token, 0xEE, p->alloc_size);
    int tok_ok = len <= COAP_TOKEN_EXT_MAX;
    CHECK_INT_EQ(coap_add_token(p, len, src), tok_ok);
    CHECK_UINT_EQ(p->token_length, len);
    CHECK_MEM_EQ(p->token, len, src, len);
    CHECK_UINT_EQ(p->token[len], 0xEE);
    CHECK_INT_EQ(coap_add_data(p, len, src + 3), 1);
    size_t dl = 0;
    const uint8_t *d = NULL;
    CHECK_INT_EQ(coap_get_data(p, &dl, &d), len > 0);
    CHECK_MEM_EQ(d ? d : src, dl, src + 3, len);
    CHECK_UINT_EQ(p->used_size, len ? 2 * len + 1 : len);
    CHECK_UINT_EQ(p->token[p->used_size], 0xEE);
    coap_delete_pdu(p);
  }
  /* room: a token of 4 fills a max_size of 4, one of 5 does not fit;
   * NULL data with a length is refused */
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 4);
  CHECK_INT_EQ(coap_add_token(p, 5, src), 0);
  CHECK_INT_EQ(coap_add_token(p, 3, NULL), 0);
  CHECK_UINT_EQ(p->used_size, 0);
  CHECK_INT_EQ(coap_add_token(p, 4, src), 1);
  CHECK_INT_EQ(coap_add_data(p, 1, src), 0); /* marker + 1 > 0 left */
  coap_delete_pdu(p);
  p = coap_pdu_init(0, 0, 0, 6);
  CHECK_INT_EQ(coap_add_data(p, 6, src), 0);
  CHECK_INT_EQ(coap_add_data(p, 5, NULL), 0);
  CHECK_INT_EQ(coap_add_data(p, 5, src), 1);
  CHECK_UINT_EQ(p->used_size, 6);
  coap_delete_pdu(p);
}

int main(void) {
  RUN(parse_small_path_agrees_with_general);
  RUN(parse_small_path_edges);
  RUN(add_option_append_forms_and_room);
  RUN(add_token_and_data_every_length);
  RUN(pdu_filled_to_its_room_is_not_reallocated);
  RUN(rfc7252_a1_build_and_parse);
  RUN(rfc7252_a2_token_and_empty);
  RUN(extended_numbers_and_lengths_roundtrip);
  RUN(parse_header_too_short);
  RUN(parse_bad_version);
  RUN(parse_reserved_tkl);
  RUN(parse_token_past_end);
  RUN(parse_option_value_past_end);
  RUN(parse_delta_nibble_15);
  RUN(parse_length_nibble_15);
  RUN(parse_ext_delta_bytes_missing);
  RUN(parse_ext_length_bytes_missing);
  RUN(parse_marker_without_payload);
  RUN(parse_empty_message_with_token);
  RUN(parse_empty_message_with_option_or_payload);
  RUN(parse_option_number_overflow);
  RUN(parse_null_arguments);
  RUN(parse_exceeds_pdu_max_size);
  RUN(api_null_pdu);
  RUN(api_token_too_long);
  RUN(api_token_after_token_or_option);
  RUN(api_option_after_payload_fails);
  RUN(api_data_twice_and_zero_length);
  RUN(api_out_of_order_option_inserted);
  RUN(api_max_size_exceeded);
  RUN(insert_shrinks_next_delta);
  RUN(insert_before_first_and_at_end);
  RUN(remove_grows_next_delta);
  RUN(remove_first_of_repeats_and_last);
  RUN(update_value_across_length_forms);
  RUN(update_token_with_options_and_payload);
  RUN(ext_token_tkl_13_and_14_on_the_wire);
  RUN(ext_token_truncated_lengths_and_tokens);
  RUN(ext_token_on_empty_message_is_an_error);
  RUN(growth_keeps_payload_pointer);
  RUN(duplicate_drops_options_and_payload);
  RUN(header_accessors_and_wire);
  RUN(new_pdu_mids_advance_per_session);
  RUN(response_codes_and_phrases);
  RUN(delete_honours_references);
  RUN(clone_into_is_exact_fixed_and_not_freed);
  RUN(option_bits_never_hide_an_option);
  RUN(option_bits_of_parsed_pdu);
  return TEST_SUMMARY();
}
