/*
 * test_encode.c -- CoAP uint encoding at every byte-length boundary.
 */
#include "coap3/coap_encode.h"
#include "test.h"

/* Encodes v, checks the bytes, and decodes them back. */
static int roundtrip8(uint64_t v, const uint8_t *want, unsigned n) {
  uint8_t buf[8];
  memset(buf, 0xAA, sizeof(buf));
  unsigned got = coap_encode_var_safe8(buf, sizeof(buf), v);
  if (got != n || memcmp(buf, want, n) != 0)
    return 0;
  return coap_decode_var_bytes8(buf, n) == v;
}

TEST(encode_boundaries_32) {
  static const struct {
    unsigned v;
    unsigned n;
    uint8_t b[4];
  } cases[] = {
      {0, 0, {0}},
      {1, 1, {1}},
      {255, 1, {0xFF}},
      {256, 2, {1, 0}},
      {65535, 2, {0xFF, 0xFF}},
      {65536, 3, {1, 0, 0}},
      {0xFFFFFF, 3, {0xFF, 0xFF, 0xFF}},
      {0x1000000, 4, {1, 0, 0, 0}},
      {0xFFFFFFFF, 4, {0xFF, 0xFF, 0xFF, 0xFF}},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t buf[4];
    unsigned n = coap_encode_var_safe(buf, sizeof(buf), cases[i].v);
    CHECK_UINT_EQ(n, cases[i].n);
    CHECK_MEM_EQ(buf, n, cases[i].b, cases[i].n);
    CHECK_UINT_EQ(coap_decode_var_bytes(buf, n), cases[i].v);
  }
}

TEST(encode_boundaries_64) {
  const uint8_t b5[] = {1, 0, 0, 0, 0};
  const uint8_t b8[] = {0x80, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t ff8[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  const uint8_t b4[] = {0xFF, 0xFF, 0xFF, 0xFF};
  CHECK(roundtrip8(0, b5, 0));
  CHECK(roundtrip8(0xFFFFFFFFu, b4, 4));
  CHECK(roundtrip8(0x100000000ull, b5, 5));
  CHECK(roundtrip8(0x8000000000000001ull, b8, 8));
  CHECK(roundtrip8(UINT64_MAX, ff8, 8));
}

TEST(encode_buffer_too_small) {
  uint8_t buf[4] = {0};
  CHECK_UINT_EQ(coap_encode_var_safe(buf, 1, 256), 0);
  CHECK_UINT_EQ(coap_encode_var_safe(buf, 0, 1), 0);
  CHECK_UINT_EQ(coap_encode_var_safe(buf, 0, 0), 0); /* 0 needs no bytes */
  CHECK_UINT_EQ(coap_encode_var_safe8(buf, 4, 0x100000000ull), 0);
  CHECK_UINT_EQ(buf[0], 0); /* nothing written on failure */
  CHECK_UINT_EQ(coap_encode_var_safe(buf, 2, 65535), 2);
}

TEST(decode_wraps_past_width) {
  const uint8_t five[] = {0x12, 0x34, 0x56, 0x78, 0x9A};
  CHECK_UINT_EQ(coap_decode_var_bytes(five, 5), 0x3456789Au);
  CHECK_UINT_EQ(coap_decode_var_bytes8(five, 5), 0x123456789Aull);
  CHECK_UINT_EQ(coap_decode_var_bytes(five, 0), 0);
}

TEST(fls) {
  CHECK_INT_EQ(coap_fls(0), 0);
  CHECK_INT_EQ(coap_fls(1), 1);
  CHECK_INT_EQ(coap_fls(0x80), 8);
  CHECK_INT_EQ(coap_fls(0xFFFFFFFFu), 32);
  CHECK_INT_EQ(coap_flsll(0), 0);
  CHECK_INT_EQ(coap_flsll(1LL << 40), 41);
  CHECK_INT_EQ(coap_flsll(-1), 64);
}

int main(void) {
  RUN(encode_boundaries_32);
  RUN(encode_boundaries_64);
  RUN(encode_buffer_too_small);
  RUN(decode_wraps_past_width);
  RUN(fls);
  return TEST_SUMMARY();
}
