/*
 * option.h -- internal option header codec shared by the parser and the
 * PDU editing functions.
 */
#ifndef PETREL_OPTION_H
#define PETREL_OPTION_H

#include <stddef.h>
#include <stdint.h>

#include "coap3/coap_option.h"

/* Largest value an extended delta or length field can express:
 * 269 + 0xFFFF (RFC 7252 section 3.1). */
#define PT_OPT_EXT_MAX (269u + 0xFFFFu)

/* The payload marker that ends the options (RFC 7252 section 3). */
#define PT_PAYLOAD_MARKER 0xFF

/*
 * Why a message failed to parse. Each malformed-input kind has its own value
 * so that tests (and logs) can tell them apart; all are negative.
 */
typedef enum pt_parse_err {
  PT_PARSE_OK = 0,
  PT_PARSE_ERR_ARG = -1,            /* NULL pdu or data */
  PT_PARSE_ERR_SHORT_HEADER = -2,   /* fewer than 4 bytes */
  PT_PARSE_ERR_VERSION = -3,        /* Ver is not 1 */
  PT_PARSE_ERR_TKL = -4,            /* TKL 15 (reserved, RFC 8974) */
  PT_PARSE_ERR_TOKEN_TRUNC = -5,    /* token runs past the end */
  PT_PARSE_ERR_DELTA_RESERVED = -6, /* delta nibble 15, not the marker */
  PT_PARSE_ERR_LENGTH_RESERVED = -7,/* length nibble 15 */
  PT_PARSE_ERR_EXT_TRUNC = -8,      /* extended delta/length bytes missing */
  PT_PARSE_ERR_VALUE_TRUNC = -9,    /* option value runs past the end */
  PT_PARSE_ERR_NUMBER_OVERFLOW = -10, /* option number above 65535 */
  PT_PARSE_ERR_EMPTY_PAYLOAD = -11, /* payload marker with no payload */
  PT_PARSE_ERR_EMPTY_MSG = -12,     /* code 0.00 with bytes after the MID */
  PT_PARSE_ERR_TOO_BIG = -13,       /* bigger than the PDU may hold */
  PT_PARSE_ERR_NOMEM = -14,         /* could not grow the PDU buffer */
  /* RFC 8323 framing (pdu_tcp.c) */
  PT_PARSE_ERR_FRAME_TRUNC = -15,   /* fewer bytes than the header declares */
  PT_PARSE_ERR_FRAME_EXTRA = -16,   /* more bytes than the header declares */
  PT_PARSE_ERR_WS_LEN = -17,        /* WebSocket message with Len != 0 */
} pt_parse_err;

/* A decoded option header: delta and value length after extensions. */
typedef struct pt_opt_hdr {
  uint32_t delta;  /* 0..PT_OPT_EXT_MAX */
  uint32_t length; /* 0..PT_OPT_EXT_MAX */
  uint32_t size;   /* header bytes, 1..5 */
} pt_opt_hdr;

/* pt_opt_decode() for every header form: extended fields and errors. */
int pt_opt_decode_ext(const uint8_t *p, size_t avail, pt_opt_hdr *out);

/*
 * Decodes the option header at @p p (borrowed), reading at most @p avail
 * bytes, and checks that the value fits in @p avail too. Returns 0 or a
 * negative pt_parse_err. The caller handles the payload marker (0xFF) before
 * calling: here it is PT_PARSE_ERR_DELTA_RESERVED.
 *
 * Inline for the one-byte form (both nibbles below 13), which is what
 * nearly every option of a request uses; the rest goes out of line.
 */
static inline int pt_opt_decode(const uint8_t *p, size_t avail,
                                pt_opt_hdr *out) {
  if (avail == 0 || p[0] >= 0xD0 || (p[0] & 0x0F) >= 13)
    return pt_opt_decode_ext(p, avail, out);
  out->delta = p[0] >> 4;
  out->length = p[0] & 0x0F;
  out->size = 1;
  return avail - 1 < out->length ? PT_PARSE_ERR_VALUE_TRUNC : 0;
}

/* Header bytes (1..5) for @p delta and @p length; 0 if either is too big. */
size_t pt_opt_hdr_size(uint32_t delta, size_t length);

/*
 * Writes the header for @p delta and @p length at @p p, which must have
 * pt_opt_hdr_size(delta, length) bytes of room (not checked). Returns the
 * header size, 0 if the values cannot be encoded.
 */
size_t pt_opt_write_hdr(uint8_t *p, uint32_t delta, size_t length);

/* ---- recognized options (RFC 7252 5.4.1, 5.4.3, 5.4.5) ---- */

/*
 * 1 if option @p num must be understood to process the message: an odd
 * number (critical), or one of the numbers RFC 7252 5.10.7 reserves for
 * Location-* (128, 132, 136, 140), which get a 4.02 when not supported.
 */
int pt_opt_is_critical(uint32_t num);

/* What RFC 7252 5.10 (and RFCs 7641, 7959, 7967, 8768, 9175) define for
 * an option Petrel understands: its value length range and whether it may
 * repeat (option.c). */
typedef struct pt_opt_rule {
  uint16_t num; /* 0: no such option */
  uint16_t min, max;
  uint8_t repeatable;
} pt_opt_rule;

/* The rules of the options numbered below 64, indexed by number. */
extern const pt_opt_rule pt_opt_low_rules[64];

/* pt_opt_recognized() in full: the registered bitmap and every rule. */
int pt_opt_recognized_all(const uint8_t *registered, uint32_t num, size_t vlen,
                          int repeat);

/*
 * 1 if option @p num with a value of @p vlen bytes is one Petrel can act
 * on: registered in the bitmap @p registered (65536 bits, borrowed; NULL
 * for none), or a known option with a value inside its length range that
 * is not a repeat (@p repeat: the option before it had the same number) of
 * a non-repeatable one. RFC 7252 5.4.3 and 5.4.5 treat the other cases as
 * unrecognized. Reserved numbers (0, 128, 132, 136, 140) are unrecognized.
 *
 * Inline for a known option numbered below 64 that passes its rule (the
 * answer is 1 whatever is registered); every other case, including one
 * that fails the rule but is registered, goes to pt_opt_recognized_all().
 */
static inline int pt_opt_recognized(const uint8_t *registered, uint32_t num,
                                    size_t vlen, int repeat) {
  if (num < 64) {
    const pt_opt_rule *r = &pt_opt_low_rules[num];
    if (r->num != 0 && vlen >= r->min && vlen <= r->max &&
        (!repeat || r->repeatable))
      return 1;
  }
  return pt_opt_recognized_all(registered, num, vlen, repeat);
}

/*
 * The number of the first option of @p pdu (borrowed, parsed or built, so
 * well-formed) that is critical and not recognized, or -1 if none.
 */
int pt_pdu_unrecognized_critical(const coap_pdu_t *pdu,
                                 const uint8_t *registered);

#endif /* PETREL_OPTION_H */
