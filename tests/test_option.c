/*
 * test_option.c -- option header codec (every extended delta/length form),
 * filters, the iterator and optlists.
 */
#include "coap3/coap_pdu.h"
#include "option.h"
#include "pdu.h"
#include "test.h"

/* Encodes (delta, len) and checks the exact header bytes and a parse back. */
static int header_is(uint16_t delta, size_t len, const uint8_t *want,
                     size_t want_n) {
  uint8_t buf[8 + 300];
  memset(buf, 0x5A, sizeof(buf));
  size_t n = coap_opt_setheader(buf, sizeof(buf), delta, len);
  if (n != want_n || memcmp(buf, want, n) != 0) {
    test_hex_("got", buf, n);
    return 0;
  }
  if (coap_opt_encode_size(delta, len) != n + len)
    return 0;
  coap_option_t o;
  if (len > sizeof(buf) - n)
    return 1; /* value would not fit the test buffer: header checked */
  return coap_opt_parse(buf, n + len, &o) == n + len && o.delta == delta &&
         o.length == len && o.value == buf + n;
}

TEST(opt_header_every_form) {
  CHECK(header_is(0, 0, (const uint8_t[]){0x00}, 1));
  CHECK(header_is(12, 12, (const uint8_t[]){0xCC}, 1));
  CHECK(header_is(13, 0, (const uint8_t[]){0xD0, 0x00}, 2));
  CHECK(header_is(268, 13, (const uint8_t[]){0xDD, 0xFF, 0x00}, 3));
  CHECK(header_is(269, 0, (const uint8_t[]){0xE0, 0x00, 0x00}, 3));
  CHECK(header_is(0, 268, (const uint8_t[]){0x0D, 0xFF}, 2));
  CHECK(header_is(0, 269, (const uint8_t[]){0x0E, 0x00, 0x00}, 3));
  CHECK(header_is(65535, 269, (const uint8_t[]){0xEE, 0xFE, 0xF2, 0, 0}, 5));
  CHECK(header_is(300, 14, (const uint8_t[]){0xED, 0x00, 0x1F, 0x01}, 4));
}

TEST(opt_setheader_too_small) {
  uint8_t buf[5];
  CHECK_UINT_EQ(coap_opt_setheader(buf, 2, 269, 0), 0);
  CHECK_UINT_EQ(coap_opt_setheader(buf, 0, 0, 0), 0);
  CHECK_UINT_EQ(coap_opt_setheader(buf, 5, 0, 65805), 0); /* too long */
  CHECK_UINT_EQ(coap_opt_setheader(buf, 3, 269, 0), 3);
}

TEST(opt_encode_and_accessors) {
  uint8_t buf[32];
  const uint8_t v[] = "hello";
  CHECK_UINT_EQ(coap_opt_encode(buf, sizeof(buf), 11, v, 5), 6);
  CHECK_UINT_EQ(buf[0], 0xB5);
  CHECK_UINT_EQ(coap_opt_length(buf), 5);
  CHECK(coap_opt_value(buf) == buf + 1);
  CHECK_UINT_EQ(coap_opt_size(buf), 6);
  CHECK_UINT_EQ(coap_opt_encode(buf, 5, 11, v, 5), 0); /* 6 bytes needed */
}

TEST(opt_parse_payload_marker) {
  const uint8_t m[] = {0xFF, 0x00};
  coap_option_t o;
  CHECK_UINT_EQ(coap_opt_parse(m, sizeof(m), &o), 0);
  CHECK_NULL(coap_opt_value(m));
  CHECK_UINT_EQ(coap_opt_length(m), 0);
}

TEST(opt_parse_reserved_delta) {
  const uint8_t m[] = {0xF1, 0x00};
  pt_opt_hdr h;
  CHECK_INT_EQ(pt_opt_decode(m, sizeof(m), &h), PT_PARSE_ERR_DELTA_RESERVED);
}

TEST(opt_parse_reserved_length) {
  const uint8_t m[] = {0x1F, 0x00};
  pt_opt_hdr h;
  coap_option_t o;
  CHECK_INT_EQ(pt_opt_decode(m, sizeof(m), &h), PT_PARSE_ERR_LENGTH_RESERVED);
  CHECK_UINT_EQ(coap_opt_parse(m, sizeof(m), &o), 0);
}

TEST(opt_parse_ext_delta_missing) {
  const uint8_t m13[] = {0xD0};
  const uint8_t m14[] = {0xE0, 0x01};
  pt_opt_hdr h;
  CHECK_INT_EQ(pt_opt_decode(m13, sizeof(m13), &h), PT_PARSE_ERR_EXT_TRUNC);
  CHECK_INT_EQ(pt_opt_decode(m14, sizeof(m14), &h), PT_PARSE_ERR_EXT_TRUNC);
}

TEST(opt_parse_ext_length_missing) {
  const uint8_t m13[] = {0x1D};
  const uint8_t m14[] = {0xDE, 0x00, 0x01};
  pt_opt_hdr h;
  CHECK_INT_EQ(pt_opt_decode(m13, sizeof(m13), &h), PT_PARSE_ERR_EXT_TRUNC);
  CHECK_INT_EQ(pt_opt_decode(m14, sizeof(m14), &h), PT_PARSE_ERR_EXT_TRUNC);
}

TEST(opt_parse_value_past_end) {
  const uint8_t m[] = {0x13, 'a', 'b'};
  pt_opt_hdr h;
  coap_option_t o;
  CHECK_INT_EQ(pt_opt_decode(m, sizeof(m), &h), PT_PARSE_ERR_VALUE_TRUNC);
  CHECK_UINT_EQ(coap_opt_parse(m, sizeof(m), &o), 0);
}

TEST(filter_set_get_unset) {
  coap_opt_filter_t f;
  coap_option_filter_clear(&f);
  CHECK_INT_EQ(coap_option_filter_get(&f, 11), 0);
  for (int i = 0; i < COAP_OPT_FILTER_SHORT; i++)
    CHECK_INT_EQ(coap_option_filter_set(&f, (coap_option_num_t)(i + 1)), 1);
  CHECK_INT_EQ(coap_option_filter_set(&f, 100), 0); /* short slots full */
  CHECK_INT_EQ(coap_option_filter_set(&f, 3), 1);   /* already there */
  CHECK_INT_EQ(coap_option_filter_set(&f, 258), 1);
  CHECK_INT_EQ(coap_option_filter_set(&f, 292), 1);
  CHECK_INT_EQ(coap_option_filter_set(&f, 60000), 0); /* long slots full */
  CHECK_INT_EQ(coap_option_filter_get(&f, 292), 1);
  CHECK_INT_EQ(coap_option_filter_get(&f, 36), 0); /* 292 & 0xFF */
  CHECK_INT_EQ(coap_option_filter_unset(&f, 292), 1);
  CHECK_INT_EQ(coap_option_filter_unset(&f, 292), 0);
  CHECK_INT_EQ(coap_option_filter_set(&f, 60000), 1);
  CHECK_INT_EQ(coap_option_filter_unset(&f, 4), 1);
  CHECK_INT_EQ(coap_option_filter_get(&f, 4), 0);
  CHECK_INT_EQ(coap_option_filter_set(&f, 100), 1);
}

/* A PDU with options 11 "a", 11 "bc", 15 "q", 258 (empty), 300 "z". */
static coap_pdu_t *sample(void) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 0);
  if (!p)
    return NULL;
  coap_add_token(p, 2, (const uint8_t *)"tk");
  coap_add_option(p, 11, 1, (const uint8_t *)"a");
  coap_add_option(p, 11, 2, (const uint8_t *)"bc");
  coap_add_option(p, 15, 1, (const uint8_t *)"q");
  coap_add_option(p, 258, 0, NULL);
  coap_add_option(p, 300, 1, (const uint8_t *)"z");
  coap_add_data(p, 3, (const uint8_t *)"pay");
  return p;
}

TEST(iterator_walks_all) {
  coap_pdu_t *p = sample();
  CHECK_NOT_NULL(p);
  coap_opt_iterator_t it;
  coap_opt_t *o;
  static const uint16_t want[] = {11, 11, 15, 258, 300};
  size_t n = 0;
  CHECK(coap_option_iterator_init(p, &it, COAP_OPT_ALL) == &it);
  while ((o = coap_option_next(&it))) {
    if (n < 5)
      CHECK_UINT_EQ(it.number, want[n]);
    n++;
  }
  CHECK_UINT_EQ(n, 5);
  CHECK_NULL(coap_option_next(&it)); /* stays at the end */
  coap_delete_pdu(p);
}

TEST(iterator_filter_and_check) {
  coap_pdu_t *p = sample();
  CHECK_NOT_NULL(p);
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(p, 11, &it);
  CHECK_NOT_NULL(o);
  CHECK_MEM_EQ(coap_opt_value(o), coap_opt_length(o), "a", 1);
  o = coap_option_next(&it);
  CHECK_NOT_NULL(o);
  CHECK_MEM_EQ(coap_opt_value(o), coap_opt_length(o), "bc", 2);
  CHECK_NULL(coap_option_next(&it));
  o = coap_check_option(p, 300, &it);
  CHECK_NOT_NULL(o);
  CHECK_MEM_EQ(coap_opt_value(o), coap_opt_length(o), "z", 1);
  CHECK_NULL(coap_check_option(p, 12, &it));
  coap_delete_pdu(p);
}

TEST(iterator_empty_pdu) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 0);
  CHECK_NOT_NULL(p);
  coap_opt_iterator_t it;
  CHECK_NULL(coap_option_iterator_init(p, &it, COAP_OPT_ALL));
  CHECK_NULL(coap_option_next(&it));
  coap_delete_pdu(p);
}

TEST(optlist_sorted_insert_and_add) {
  coap_optlist_t *chain = NULL;
  CHECK_INT_EQ(coap_insert_optlist(&chain, coap_new_optlist(15, 1,
                                   (const uint8_t *)"q")), 1);
  CHECK_INT_EQ(coap_insert_optlist(&chain, coap_new_optlist(11, 1,
                                   (const uint8_t *)"a")), 1);
  CHECK_INT_EQ(coap_insert_optlist(&chain, coap_new_optlist(11, 1,
                                   (const uint8_t *)"b")), 1);
  CHECK_INT_EQ(coap_insert_optlist(&chain, coap_new_optlist(3, 1,
                                   (const uint8_t *)"h")), 1);
  CHECK_INT_EQ(coap_insert_optlist(&chain, NULL), 0);
  CHECK_UINT_EQ(chain->number, 3);
  CHECK_UINT_EQ(chain->next->data[0], 'a');
  CHECK_UINT_EQ(chain->next->next->data[0], 'b');
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 0);
  CHECK_NOT_NULL(p);
  CHECK_INT_EQ(coap_add_optlist_pdu(p, &chain), 1);
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire(p, &w, &n));
  const uint8_t want[] = {0x40, 0x01, 0x00, 0x01, 0x31, 'h', 0x81,
                          'a',  0x01, 'b',  0x41, 'q'};
  CHECK_MEM_EQ(w, n, want, sizeof(want));
  coap_delete_optlist(chain);
  coap_delete_pdu(p);
}

TEST(optlist_add_after_payload_fails) {
  coap_optlist_t *chain = NULL;
  coap_insert_optlist(&chain, coap_new_optlist(11, 1, (const uint8_t *)"a"));
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 0);
  CHECK_NOT_NULL(p);
  CHECK(coap_add_data(p, 1, (const uint8_t *)"x"));
  CHECK_INT_EQ(coap_add_optlist_pdu(p, &chain), 0);
  coap_delete_optlist(chain);
  coap_delete_optlist(NULL);
  coap_delete_pdu(p);
}

/* ---- recognized options (RFC 7252 5.4.1) ------------------------------ */

/* The options Petrel acts on, as the RFCs define them: number, value
 * length range, repeatable (RFC 7252 5.10 table 4, RFC 7641 2, RFC 7959
 * 2.1, RFC 7967 2, RFC 8768 3, RFC 9175 2.2.1 and 3.2.1). */
static const struct {
  uint16_t num, min, max;
  int repeatable;
} rfc_options[] = {
    {1, 0, 8, 1},    {3, 1, 255, 0},   {4, 1, 8, 1},    {5, 0, 0, 0},
    {6, 0, 3, 0},    {7, 0, 2, 0},     {8, 0, 255, 1},  {11, 0, 255, 1},
    {12, 0, 2, 0},   {14, 0, 4, 0},    {15, 0, 255, 1}, {16, 1, 1, 0},
    {17, 0, 2, 0},   {20, 0, 255, 1},  {23, 0, 3, 0},   {27, 0, 3, 0},
    {28, 0, 4, 0},   {35, 1, 1034, 0}, {39, 1, 255, 0}, {60, 0, 4, 0},
    {252, 1, 40, 0}, {258, 0, 1, 0},   {292, 0, 8, 1},
};

/* Each option's length bounds and repeatability, one byte either side,
 * and every other number up to 400 (and far above) not recognized. */
TEST(recognized_options_length_bounds_and_repeats) {
  size_t n = sizeof(rfc_options) / sizeof(rfc_options[0]);
  for (size_t i = 0; i < n; i++) {
    uint32_t num = rfc_options[i].num;
    size_t lo = rfc_options[i].min, hi = rfc_options[i].max;
    CHECK_INT_EQ(pt_opt_recognized(NULL, num, lo, 0), 1);
    CHECK_INT_EQ(pt_opt_recognized(NULL, num, hi, 0), 1);
    CHECK_INT_EQ(pt_opt_recognized(NULL, num, hi + 1, 0), 0);
    if (lo > 0)
      CHECK_INT_EQ(pt_opt_recognized(NULL, num, lo - 1, 0), 0);
    CHECK_INT_EQ(pt_opt_recognized(NULL, num, lo, 1),
                 rfc_options[i].repeatable);
  }
  for (uint32_t num = 0; num <= 400; num++) {
    int known = 0;
    for (size_t i = 0; i < n; i++)
      known |= rfc_options[i].num == num;
    if (!known)
      CHECK_INT_EQ(pt_opt_recognized(NULL, num, 0, 0), 0);
  }
  CHECK_INT_EQ(pt_opt_recognized(NULL, 65000, 0, 0), 0);
  /* a registered number is taken whatever its length */
  uint8_t reg[8192] = {0};
  reg[9 >> 3] |= 1u << (9 & 7);
  CHECK_INT_EQ(pt_opt_recognized(reg, 9, 300, 1), 1);
  CHECK_INT_EQ(pt_opt_recognized(reg, 11, 256, 0), 0);
}

/* The inline one-byte decode against the general decoder: every first
 * byte, every room from 0 to 6 bytes, extension bytes of either kind. */
TEST(decode_inline_agrees_with_general) {
  uint8_t m[8];
  for (unsigned b = 0; b < 256; b++) {
    for (size_t avail = 0; avail <= 6; avail++) {
      for (unsigned ext = 0; ext < 3; ext++) {
        m[0] = (uint8_t)b;
        for (size_t k = 1; k < sizeof(m); k++)
          m[k] = (uint8_t)(ext == 0 ? 0 : ext == 1 ? 1 : 0xFF);
        pt_opt_hdr a = {0, 0, 0}, g = {0, 0, 0};
        int ra = pt_opt_decode(m, avail, &a),
            rg = pt_opt_decode_ext(m, avail, &g);
        CHECK_INT_EQ(ra, rg);
        if (ra == 0 && rg == 0) {
          CHECK_UINT_EQ(a.delta, g.delta);
          CHECK_UINT_EQ(a.length, g.length);
          CHECK_UINT_EQ(a.size, g.size);
        }
        if (test_failed_)
          return;
      }
    }
  }
}

/* The inline recognized check against the full one: every number up to
 * 300 and a few above, lengths around every rule's bounds, repeats, with
 * no registrations and with some (including numbers that fail a rule). */
TEST(recognized_inline_agrees_with_full) {
  static uint8_t reg[8192];
  reg[11 >> 3] |= 1u << (11 & 7); /* Uri-Path, even when too long */
  reg[6 >> 3] |= 1u << (6 & 7);   /* Observe */
  reg[70 >> 3] |= 1u << (70 & 7); /* an unknown one */
  const uint8_t *regs[2] = {NULL, reg};
  for (uint32_t num = 0; num < 320; num++) {
    uint32_t n = num < 300 ? num : 65000 + num;
    for (size_t vlen = 0; vlen < 270; vlen += vlen < 12 ? 1 : 7) {
      for (int rep = 0; rep < 2; rep++) {
        for (int r = 0; r < 2; r++)
          CHECK_INT_EQ(pt_opt_recognized(regs[r], n, vlen, rep),
                       pt_opt_recognized_all(regs[r], n, vlen, rep));
        if (test_failed_)
          return;
      }
    }
  }
  /* a registered number that fails its rule is still recognized */
  CHECK_INT_EQ(pt_opt_recognized(reg, COAP_OPTION_URI_PATH, 300, 0), 1);
  CHECK_INT_EQ(pt_opt_recognized(reg, COAP_OPTION_OBSERVE, 4, 1), 1);
  CHECK_INT_EQ(pt_opt_recognized(NULL, COAP_OPTION_OBSERVE, 4, 0), 0);
}

int main(void) {
  RUN(decode_inline_agrees_with_general);
  RUN(recognized_inline_agrees_with_full);
  RUN(recognized_options_length_bounds_and_repeats);
  RUN(opt_header_every_form);
  RUN(opt_setheader_too_small);
  RUN(opt_encode_and_accessors);
  RUN(opt_parse_payload_marker);
  RUN(opt_parse_reserved_delta);
  RUN(opt_parse_reserved_length);
  RUN(opt_parse_ext_delta_missing);
  RUN(opt_parse_ext_length_missing);
  RUN(opt_parse_value_past_end);
  RUN(filter_set_get_unset);
  RUN(iterator_walks_all);
  RUN(iterator_filter_and_check);
  RUN(iterator_empty_pdu);
  RUN(optlist_sorted_insert_and_add);
  RUN(optlist_add_after_payload_fails);
  return TEST_SUMMARY();
}
