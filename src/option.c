/*
 * option.c -- the option header codec, option filters and the option
 * iterator.
 *
 * RFC 7252 section 3.1, Option Format:
 *
 *     0   1   2   3   4   5   6   7
 *   +---------------+---------------+
 *   |  Option Delta | Option Length |   1 byte
 *   +---------------+---------------+
 *   /         Option Delta          /   0-2 bytes
 *   \          (extended)           \
 *   +-------------------------------+
 *   /         Option Length         /   0-2 bytes
 *   \          (extended)           \
 *   +-------------------------------+
 *   /         Option Value          /   0 or more bytes
 *   +-------------------------------+
 *
 * A nibble of 13 means "an 8-bit extension follows, add 13"; 14 means "a
 * 16-bit extension follows, add 269"; 15 is reserved (as a delta it is only
 * valid as part of the 0xFF payload marker).
 */
#include "option.h"

#include <string.h>

#include "pdu.h"

/* ---- header codec ---- */

/* Reads one nibble's extension at p[*at]; returns 0 or a pt_parse_err. */
static int ext_decode(unsigned nib, const uint8_t *p, size_t avail,
                      uint32_t *at, uint32_t *out, int reserved_err) {
  if (nib < 13) {
    *out = nib;
    return 0;
  }
  if (nib == 15)
    return reserved_err;
  uint32_t need = nib == 13 ? 1 : 2;
  if (avail < *at + need)
    return PT_PARSE_ERR_EXT_TRUNC;
  if (nib == 13)
    *out = 13u + p[*at];
  else
    *out = 269u + ((uint32_t)p[*at] << 8 | p[*at + 1]);
  *at += need;
  return 0;
}

/* Out of line so that the inline one-byte case (option.h) stays small in
 * every loop that calls it. */
__attribute__((noinline)) int pt_opt_decode_ext(const uint8_t *p, size_t avail,
                                                pt_opt_hdr *out) {
  if (avail < 1)
    return PT_PARSE_ERR_EXT_TRUNC;
  uint32_t at = 1;
  int rc = ext_decode(p[0] >> 4, p, avail, &at, &out->delta,
                      PT_PARSE_ERR_DELTA_RESERVED);
  if (rc == 0)
    rc = ext_decode(p[0] & 0x0F, p, avail, &at, &out->length,
                    PT_PARSE_ERR_LENGTH_RESERVED);
  if (rc != 0)
    return rc;
  out->size = at;
  if (avail - at < out->length)
    return PT_PARSE_ERR_VALUE_TRUNC;
  return 0;
}

static size_t ext_size(size_t v) {
  return v < 13 ? 0 : v < 269 ? 1 : 2;
}

size_t pt_opt_hdr_size(uint32_t delta, size_t length) {
  if (delta > PT_OPT_EXT_MAX || length > PT_OPT_EXT_MAX)
    return 0;
  return 1 + ext_size(delta) + ext_size(length);
}

/* Returns the nibble for v and writes its extension bytes at p[*at]. */
static unsigned ext_encode(size_t v, uint8_t *p, size_t *at) {
  if (v < 13)
    return (unsigned)v;
  if (v < 269) {
    p[(*at)++] = (uint8_t)(v - 13);
    return 13;
  }
  p[(*at)++] = (uint8_t)((v - 269) >> 8);
  p[(*at)++] = (uint8_t)(v - 269);
  return 14;
}

size_t pt_opt_write_hdr(uint8_t *p, uint32_t delta, size_t length) {
  if (pt_opt_hdr_size(delta, length) == 0)
    return 0;
  size_t at = 1;
  unsigned d = ext_encode(delta, p, &at);
  unsigned l = ext_encode(length, p, &at);
  p[0] = (uint8_t)(d << 4 | l);
  return at;
}

/* ---- public single-option functions ---- */

size_t coap_opt_parse(const coap_opt_t *opt, size_t length,
                      coap_option_t *result) {
  pt_opt_hdr h;
  if (!opt || !result || length == 0 || opt[0] == PT_PAYLOAD_MARKER)
    return 0;
  if (pt_opt_decode(opt, length, &h) != 0 || h.delta > 0xFFFF)
    return 0;
  result->delta = (uint16_t)h.delta;
  result->length = h.length;
  result->value = opt + h.size;
  return (size_t)h.size + h.length;
}

size_t coap_opt_size(const coap_opt_t *opt) {
  coap_option_t o;
  return coap_opt_parse(opt, SIZE_MAX, &o);
}

uint32_t coap_opt_length(const coap_opt_t *opt) {
  coap_option_t o;
  return coap_opt_parse(opt, SIZE_MAX, &o) ? (uint32_t)o.length : 0;
}

const uint8_t *coap_opt_value(const coap_opt_t *opt) {
  coap_option_t o;
  return coap_opt_parse(opt, SIZE_MAX, &o) ? o.value : NULL;
}

size_t coap_opt_setheader(coap_opt_t *opt, size_t maxlen, uint16_t delta,
                          size_t length) {
  size_t n = pt_opt_hdr_size(delta, length);
  if (!opt || n == 0 || n > maxlen)
    return 0;
  return pt_opt_write_hdr(opt, delta, length);
}

size_t coap_opt_encode_size(uint16_t delta, size_t length) {
  size_t n = pt_opt_hdr_size(delta, length);
  return n ? n + length : 0;
}

size_t coap_opt_encode(coap_opt_t *opt, size_t n, uint16_t delta,
                       const uint8_t *val, size_t length) {
  size_t total = coap_opt_encode_size(delta, length);
  if (!opt || total == 0 || total > n || (length && !val))
    return 0;
  size_t h = pt_opt_write_hdr(opt, delta, length);
  if (length)
    memcpy(opt + h, val, length);
  return total;
}

/* ---- recognized options (RFC 7252 5.4.1) ---- */

/* The option rules (option.h), indexed by number below 64, where a
 * request's options are looked up on every request; the few numbers above
 * in a short list. */
#define RULE(n, lo, hi, rep) [n] = {n, lo, hi, rep}
const pt_opt_rule pt_opt_low_rules[64] = {
    RULE(COAP_OPTION_IF_MATCH, 0, 8, 1),
    RULE(COAP_OPTION_URI_HOST, 1, 255, 0),
    RULE(COAP_OPTION_ETAG, 1, 8, 1),
    RULE(COAP_OPTION_IF_NONE_MATCH, 0, 0, 0),
    RULE(COAP_OPTION_OBSERVE, 0, 3, 0),
    RULE(COAP_OPTION_URI_PORT, 0, 2, 0),
    RULE(COAP_OPTION_LOCATION_PATH, 0, 255, 1),
    RULE(COAP_OPTION_URI_PATH, 0, 255, 1),
    RULE(COAP_OPTION_CONTENT_FORMAT, 0, 2, 0),
    RULE(COAP_OPTION_MAXAGE, 0, 4, 0),
    RULE(COAP_OPTION_URI_QUERY, 0, 255, 1),
    RULE(COAP_OPTION_HOP_LIMIT, 1, 1, 0),
    RULE(COAP_OPTION_ACCEPT, 0, 2, 0),
    RULE(COAP_OPTION_LOCATION_QUERY, 0, 255, 1),
    RULE(COAP_OPTION_BLOCK2, 0, 3, 0),
    RULE(COAP_OPTION_BLOCK1, 0, 3, 0),
    RULE(COAP_OPTION_SIZE2, 0, 4, 0),
    RULE(COAP_OPTION_PROXY_URI, 1, 1034, 0),
    RULE(COAP_OPTION_PROXY_SCHEME, 1, 255, 0),
    RULE(COAP_OPTION_SIZE1, 0, 4, 0),
};
#undef RULE

static const pt_opt_rule high_rules[] = {
    {COAP_OPTION_ECHO, 1, 40, 0},
    {COAP_OPTION_NORESPONSE, 0, 1, 0},
    {COAP_OPTION_RTAG, 0, 8, 1},
};

static const pt_opt_rule *rule_for(uint32_t num) {
  if (num < 64)
    return pt_opt_low_rules[num].num ? &pt_opt_low_rules[num] : NULL;
  for (size_t i = 0; i < sizeof(high_rules) / sizeof(high_rules[0]); i++)
    if (high_rules[i].num == num)
      return &high_rules[i];
  return NULL;
}

int pt_opt_is_critical(uint32_t num) {
  /* RFC 7252 5.10.7: 128, 132, 136 and 140 are kept for future Location-*
   * options and, when not supported, draw a 4.02 like a critical option
   * although their numbers are even. */
  return (num & 1) || num == 128 || num == 132 || num == 136 || num == 140;
}

int pt_opt_recognized_all(const uint8_t *registered, uint32_t num, size_t vlen,
                          int repeat) {
  if (registered && num <= COAP_MAX_OPT &&
      ((registered[num >> 3] >> (num & 7)) & 1))
    return 1;
  const pt_opt_rule *r = rule_for(num);
  return r && vlen >= r->min && vlen <= r->max && (!repeat || r->repeatable);
}

int pt_pdu_unrecognized_critical(const coap_pdu_t *pdu,
                                 const uint8_t *registered) {
  size_t len, at = 0;
  const uint8_t *opts = pt_pdu_opts(pdu, &len);
  uint32_t num = 0, prev = 0;
  pt_opt_hdr h;
  for (int first = 1; at < len && opts[at] != PT_PAYLOAD_MARKER &&
                      pt_opt_decode(opts + at, len - at, &h) == 0;
       first = 0, prev = num, at += h.size + h.length) {
    num += h.delta;
    if (pt_opt_is_critical(num) &&
        !pt_opt_recognized(registered, num, h.length, !first && num == prev))
      return (int)num;
  }
  return -1;
}

/* ---- filters ---- */
/* A filter is a handful of slots, not a bitmap over 65536 numbers: callers
 * use it for 1-3 options, so a linear look over 8 slots is the cheap way. */

void coap_option_filter_clear(coap_opt_filter_t *filter) {
  if (filter)
    memset(filter, 0, sizeof(*filter));
}

/* Index of number's slot in the mask, or -1. */
static int filter_find(const coap_opt_filter_t *f, coap_option_num_t number) {
  if (number < 256) {
    for (int i = 0; i < COAP_OPT_FILTER_SHORT; i++)
      if ((f->mask >> (COAP_OPT_FILTER_LONG + i) & 1) &&
          f->short_opts[i] == number)
        return COAP_OPT_FILTER_LONG + i;
    return -1;
  }
  for (int i = 0; i < COAP_OPT_FILTER_LONG; i++)
    if ((f->mask >> i & 1) && f->long_opts[i] == number)
      return i;
  return -1;
}

int coap_option_filter_set(coap_opt_filter_t *filter,
                           coap_option_num_t number) {
  if (!filter)
    return 0;
  if (filter_find(filter, number) >= 0)
    return 1;
  int first = number < 256 ? COAP_OPT_FILTER_LONG : 0;
  int end = number < 256 ? COAP_OPT_FILTER_LONG + COAP_OPT_FILTER_SHORT
                         : COAP_OPT_FILTER_LONG;
  for (int i = first; i < end; i++) {
    if (filter->mask >> i & 1)
      continue;
    filter->mask |= (uint16_t)(1u << i);
    if (number < 256)
      filter->short_opts[i - COAP_OPT_FILTER_LONG] = (uint8_t)number;
    else
      filter->long_opts[i] = number;
    return 1;
  }
  return 0;
}

int coap_option_filter_unset(coap_opt_filter_t *filter,
                             coap_option_num_t number) {
  int i = filter ? filter_find(filter, number) : -1;
  if (i < 0)
    return 0;
  filter->mask &= (uint16_t)~(1u << i);
  return 1;
}

int coap_option_filter_get(coap_opt_filter_t *filter,
                           coap_option_num_t number) {
  return filter && filter_find(filter, number) >= 0;
}

/* ---- iterator ---- */

coap_opt_iterator_t *coap_option_iterator_init(const coap_pdu_t *pdu,
                                               coap_opt_iterator_t *oi,
                                               const coap_opt_filter_t *filter) {
  if (!oi)
    return NULL;
  memset(oi, 0, sizeof(*oi));
  if (!pdu || pdu->used_size <= pdu->token_length) {
    oi->bad = 1;
    return NULL;
  }
  oi->next_option = pdu->token + pdu->token_length;
  oi->length = pdu->used_size - pdu->token_length;
  if (filter) {
    oi->filter = *filter;
    oi->filtered = 1;
  }
  return oi;
}

coap_opt_t *coap_option_next(coap_opt_iterator_t *oi) {
  if (!oi)
    return NULL;
  while (!oi->bad) {
    coap_opt_t *cur = oi->next_option;
    pt_opt_hdr h;
    if (oi->length == 0 || cur[0] == PT_PAYLOAD_MARKER ||
        pt_opt_decode(cur, oi->length, &h) != 0 ||
        (uint32_t)oi->number + h.delta > 0xFFFF) {
      oi->bad = 1;
      break;
    }
    oi->number = (coap_option_num_t)(oi->number + h.delta);
    oi->next_option += h.size + h.length;
    oi->length -= h.size + h.length;
    if (!oi->filtered || coap_option_filter_get(&oi->filter, oi->number))
      return cur;
  }
  return NULL;
}

/* A direct walk rather than a filtered iterator: it is asked for on every
 * request (Proxy-*, Block1/2, ...) and options come in number order, so
 * the walk stops at the first option past @number -- and does not start
 * when the PDU's option bits say @number is absent (pdu.h), the usual
 * answer for Block1/2, Observe and No-Response. The iterator it leaves
 * behind is the one the filtered walk would, so coap_option_next() goes on
 * to the repeats of @number. */
coap_opt_t *coap_check_option(const coap_pdu_t *pdu, coap_option_num_t number,
                              coap_opt_iterator_t *oi) {
  if (!oi)
    return NULL;
  memset(oi, 0, sizeof(*oi));
  oi->bad = 1;
  if (!pdu || pdu->used_size <= pdu->token_length ||
      !pt_pdu_may_have(pdu, number))
    return NULL;
  coap_opt_t *cur = pdu->token + pdu->token_length;
  size_t left = pdu->used_size - pdu->token_length;
  uint32_t n = 0;
  pt_opt_hdr h;
  while (left && cur[0] != PT_PAYLOAD_MARKER &&
         pt_opt_decode(cur, left, &h) == 0 && n + h.delta <= number) {
    n += h.delta;
    size_t step = h.size + h.length;
    if (n == number) {
      oi->bad = 0;
      oi->filtered = 1;
      coap_option_filter_set(&oi->filter, number);
      oi->number = number;
      oi->next_option = cur + step;
      oi->length = left - step;
      return cur;
    }
    cur += step;
    left -= step;
  }
  return NULL;
}
