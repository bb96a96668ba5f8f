/*
 * pdu.c -- building, editing, framing and parsing CoAP messages over UDP.
 *
 * RFC 7252 section 3, Message Format:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Ver| T |  TKL  |      Code     |          Message ID           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Token (if any, TKL bytes) ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Options (if any) ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |1 1 1 1 1 1 1 1|    Payload (if any) ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The PDU keeps token, options and payload contiguous in one buffer with
 * room in front for the header (see pdu.h), so sending needs no copy and
 * parsing copies the datagram once and then only points into it.
 */
#include "pdu.h"

#include <stdlib.h>
#include <string.h>

/* Copies @p n bytes from @p src to @p dst (not overlapping). The short
 * copies of the request path (a token, an option value, a small payload,
 * a whole small request) take a few loads and stores of the sizes that
 * cover them, two of them overlapping in the middle, instead of a call;
 * each reads and writes only inside the @p n bytes. */
static inline void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n) {
  if (n > 32) {
    memcpy(dst, src, n);
  } else if (n > 16) {
    uint64_t a, b, c, d;
    memcpy(&a, src, 8);
    memcpy(&b, src + 8, 8);
    memcpy(&c, src + n - 16, 8);
    memcpy(&d, src + n - 8, 8);
    memcpy(dst, &a, 8);
    memcpy(dst + 8, &b, 8);
    memcpy(dst + n - 16, &c, 8);
    memcpy(dst + n - 8, &d, 8);
  } else if (n >= 8) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + n - 8, 8);
    memcpy(dst, &a, 8);
    memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    memcpy(&a, src, 4);
    memcpy(&b, src + n - 4, 4);
    memcpy(dst, &a, 4);
    memcpy(dst + n - 4, &b, 4);
  } else if (n > 0) {
    /* 1..3 bytes: the first, the middle one and the last (repeats). */
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

/* ---- life cycle ---- */

coap_pdu_t *coap_pdu_init(coap_pdu_type_t type, coap_pdu_code_t code,
                          coap_mid_t mid, size_t size) {
  if (size > PT_PDU_MAX_SIZE)
    return NULL;
  coap_pdu_t *pdu = calloc(1, sizeof(*pdu));
  if (!pdu)
    return NULL;
  size_t alloc = size && size < PT_PDU_INITIAL_ALLOC ? size
                                                      : PT_PDU_INITIAL_ALLOC;
  pdu->buf = malloc(PT_PDU_HDR_ROOM + alloc);
  if (!pdu->buf) {
    free(pdu);
    return NULL;
  }
  pdu->alloc_size = alloc;
  pdu->max_size = size;
  pdu->token = pdu->buf + PT_PDU_HDR_ROOM;
  pt_pdu_clear(pdu, type, code, mid);
  return pdu;
}

coap_pdu_t *coap_new_pdu(coap_pdu_type_t type, coap_pdu_code_t code,
                         coap_session_t *session) {
  coap_pdu_t *pdu = coap_pdu_init(type, code, pt_session_next_mid(session),
                                  pt_session_max_pdu(session));
  if (pdu)
    pdu->session = session;
  return pdu;
}

/* Makes @pdu (zeroed) an exact copy of @src in the buffer @buf, which has
 * PT_PDU_HDR_ROOM + @alloc bytes (@alloc >= src->used_size). */
static void copy_into(coap_pdu_t *pdu, const coap_pdu_t *src, uint8_t *buf,
                      size_t alloc) {
  pdu->buf = buf;
  pdu->type = src->type;
  pdu->code = src->code;
  pdu->mid = src->mid;
  pdu->max_opt = src->max_opt;
  pdu->opt_bits = src->opt_bits;
  pdu->token_length = src->token_length;
  pdu->used_size = src->used_size;
  pdu->alloc_size = alloc;
  pdu->session = src->session;
  pdu->token = buf + PT_PDU_HDR_ROOM;
  if (src->used_size)
    memcpy(pdu->token, src->token, src->used_size);
  pdu->data = src->data ? pdu->token + (src->data - src->token) : NULL;
}

coap_pdu_t *pt_pdu_clone(const coap_pdu_t *src) {
  if (!src)
    return NULL;
  coap_pdu_t *pdu = calloc(1, sizeof(*pdu));
  size_t alloc = src->used_size ? src->used_size : 1;
  uint8_t *buf = pdu ? malloc(PT_PDU_HDR_ROOM + alloc) : NULL;
  if (!buf) {
    free(pdu);
    return NULL;
  }
  copy_into(pdu, src, buf, alloc);
  pdu->max_size = src->max_size;
  return pdu;
}

size_t pt_pdu_clone_size(const coap_pdu_t *src) {
  return sizeof(coap_pdu_t) + PT_PDU_HDR_ROOM + src->used_size;
}

coap_pdu_t *pt_pdu_clone_into(const coap_pdu_t *src, void *mem) {
  coap_pdu_t *pdu = mem;
  memset(pdu, 0, sizeof(*pdu));
  copy_into(pdu, src, (uint8_t *)mem + sizeof(*pdu), src->used_size);
  pdu->embedded = 1;
  pdu->max_size = src->used_size ? src->used_size : 1;
  return pdu;
}

void coap_delete_pdu(coap_pdu_t *pdu) {
  if (!pdu)
    return;
  if (pdu->ref > 0) {
    pdu->ref--;
    return;
  }
  if (pdu->embedded)
    return; /* freed with its owner */
  free(pdu->buf);
  free(pdu);
}

void pt_pdu_clear(coap_pdu_t *pdu, coap_pdu_type_t type, coap_pdu_code_t code,
                  coap_mid_t mid) {
  pdu->type = type;
  pdu->code = code;
  pdu->mid = mid;
  pdu->max_opt = 0;
  pdu->opt_bits = 0;
  pdu->hdr_size = 0;
  pdu->token_length = 0;
  pdu->used_size = 0;
  pdu->data = NULL;
}

/* The rare half of pt_pdu_resize(): a larger buffer, up to @limit. Kept
 * out of line so that the common half (the room is there) inlines. */
__attribute__((noinline)) static int pdu_grow(coap_pdu_t *pdu, size_t new_size,
                                              size_t limit) {
  if (pdu->embedded)
    return 0;
  /* Doubling keeps a PDU grown option by option at O(n) total copying. */
  size_t alloc = pdu->alloc_size * 2;
  if (alloc < new_size)
    alloc = new_size;
  if (alloc > limit)
    alloc = limit;
  size_t data_off = pdu->data ? (size_t)(pdu->data - pdu->token) : 0;
  uint8_t *buf = realloc(pdu->buf, PT_PDU_HDR_ROOM + alloc);
  if (!buf)
    return 0;
  pdu->buf = buf;
  pdu->token = buf + PT_PDU_HDR_ROOM;
  if (pdu->data)
    pdu->data = pdu->token + data_off;
  pdu->alloc_size = alloc;
  return 1;
}

/* 1 when @p new_size bytes from the token on fit the buffer as it is and
 * the limit: pt_pdu_resize() would succeed without growing. */
static inline int pdu_has_room(const coap_pdu_t *pdu, size_t new_size) {
  return new_size <= pdu->alloc_size &&
         (pdu->max_size == 0 || new_size <= pdu->max_size) &&
         new_size <= PT_PDU_MAX_SIZE;
}

int pt_pdu_resize(coap_pdu_t *pdu, size_t new_size) {
  /* The limit first: a reused PDU whose max_size was lowered may hold a
   * larger allocation from before. */
  size_t limit = pdu->max_size ? pdu->max_size : PT_PDU_MAX_SIZE;
  if (new_size > limit)
    return 0;
  if (new_size <= pdu->alloc_size)
    return 1;
  return pdu_grow(pdu, new_size, limit);
}

/* ---- editing core ---- */

/*
 * Replaces the @p old_len bytes at offset @p off (from the token, before the
 * payload) by @p new_len bytes of room, moving everything after. Returns the
 * room (contents undefined) or NULL if the PDU cannot grow.
 */
static uint8_t *pdu_splice(coap_pdu_t *pdu, size_t off, size_t old_len,
                           size_t new_len) {
  if (new_len > old_len &&
      !pt_pdu_resize(pdu, pdu->used_size + (new_len - old_len)))
    return NULL;
  uint8_t *at = pdu->token + off;
  memmove(at + new_len, at + old_len, pdu->used_size - off - old_len);
  pdu->used_size = pdu->used_size - old_len + new_len;
  if (pdu->data)
    pdu->data = pdu->data - old_len + new_len;
  return at;
}

uint8_t *pt_pdu_opts(const coap_pdu_t *pdu, size_t *len) {
  size_t end = pdu->data ? (size_t)(pdu->data - pdu->token) - 1
                         : pdu->used_size;
  *len = end - pdu->token_length;
  return pdu->token + pdu->token_length;
}

/* Where a walk over the options stopped. */
typedef struct opt_pos {
  size_t off;      /* offset from the token of the option at the stop */
  uint32_t prev;   /* number of the option before it (0 if none) */
  int found;       /* 1 if an option starts at off, 0 at the end */
  uint32_t number; /* that option's number */
  pt_opt_hdr hdr;  /* and its header */
} opt_pos;

/*
 * Walks to the first option numbered above @p number (@p past_equal) or at
 * least @p number (otherwise). O(options): PDUs carry a handful.
 * Returns 0 if the PDU's options are malformed, else 1.
 */
static int opt_seek(const coap_pdu_t *pdu, uint32_t number, int past_equal,
                    opt_pos *pos) {
  size_t len;
  const uint8_t *opts = pt_pdu_opts(pdu, &len);
  size_t at = 0;
  pos->prev = 0;
  while (at < len) {
    if (pt_opt_decode(opts + at, len - at, &pos->hdr) != 0)
      return 0;
    pos->number = pos->prev + pos->hdr.delta;
    if (past_equal ? pos->number > number : pos->number >= number) {
      pos->off = pdu->token_length + at;
      pos->found = 1;
      return 1;
    }
    pos->prev = pos->number;
    at += pos->hdr.size + pos->hdr.length;
  }
  pos->off = pdu->token_length + len;
  pos->found = 0;
  return 1;
}

/* The common case of building a PDU in option order: append after the last
 * option, with no walk and nothing to move. */
static size_t append_option(coap_pdu_t *pdu, coap_option_num_t number,
                            size_t len, const uint8_t *data) {
  size_t h = pt_opt_hdr_size(number - pdu->max_opt, len);
  if (h == 0 || !pt_pdu_resize(pdu, pdu->used_size + h + len))
    return 0;
  uint8_t *at = pdu->token + pdu->used_size;
  pt_opt_write_hdr(at, number - pdu->max_opt, len);
  if (len)
    memcpy(at + h, data, len);
  pdu->used_size += h + len;
  pdu->max_opt = number;
  pdu->opt_bits |= PT_OPT_BIT(number);
  return h + len;
}

/* pt_pdu_insert_option() before the last option: a walk and a move. Out of
 * line so that the common case, appending, needs none of its registers. */
__attribute__((noinline)) static size_t insert_option(coap_pdu_t *pdu,
                                                      coap_option_num_t number,
                                                      size_t len,
                                                      const uint8_t *data) {
  opt_pos p;
  if (!pdu || (len && !data) || !opt_seek(pdu, number, 1, &p))
    return 0;
  size_t h = pt_opt_hdr_size(number - p.prev, len);
  size_t next_h =
      p.found ? pt_opt_hdr_size(p.number - number, p.hdr.length) : 0;
  if (h == 0)
    return 0;
  uint8_t *at =
      pdu_splice(pdu, p.off, p.found ? p.hdr.size : 0, h + len + next_h);
  if (!at)
    return 0;
  pt_opt_write_hdr(at, number - p.prev, len);
  if (len)
    memcpy(at + h, data, len);
  if (p.found)
    pt_opt_write_hdr(at + h + len, p.number - number, p.hdr.length);
  else
    pdu->max_opt = number;
  pdu->opt_bits |= PT_OPT_BIT(number);
  return h + len;
}

size_t pt_pdu_insert_option(coap_pdu_t *pdu, coap_option_num_t number,
                            size_t len, const uint8_t *data) {
  if (pdu && !pdu->data && number >= pdu->max_opt && (data || !len))
    return append_option(pdu, number, len, data);
  return insert_option(pdu, number, len, data);
}

size_t pt_pdu_update_option(coap_pdu_t *pdu, coap_option_num_t number,
                            size_t len, const uint8_t *data) {
  opt_pos p;
  if (!pdu || (len && !data) || !opt_seek(pdu, number, 0, &p))
    return 0;
  if (!p.found || p.number != number)
    return pt_pdu_insert_option(pdu, number, len, data);
  size_t h = pt_opt_hdr_size(number - p.prev, len);
  if (h == 0)
    return 0;
  uint8_t *at = pdu_splice(pdu, p.off, p.hdr.size + p.hdr.length, h + len);
  if (!at)
    return 0;
  pt_opt_write_hdr(at, number - p.prev, len);
  if (len)
    memcpy(at + h, data, len);
  return h + len;
}

int pt_pdu_remove_option(coap_pdu_t *pdu, coap_option_num_t number) {
  opt_pos p;
  if (!pdu || !opt_seek(pdu, number, 0, &p) || !p.found || p.number != number)
    return 0;
  size_t len;
  pt_pdu_opts(pdu, &len);
  size_t next = p.off + p.hdr.size + p.hdr.length;
  size_t opts_end = pdu->token_length + len;
  if (next == opts_end) { /* it was the last option */
    pdu_splice(pdu, p.off, next - p.off, 0);
    pdu->max_opt = (uint16_t)p.prev;
    return 1;
  }
  /* The following option's delta now counts from the previous one. */
  pt_opt_hdr n;
  if (pt_opt_decode(pdu->token + next, opts_end - next, &n) != 0)
    return 0;
  uint32_t delta = n.delta + number - p.prev;
  size_t nh = pt_opt_hdr_size(delta, n.length);
  /* The merged delta never needs more header bytes than the removed
   * option plus the old header held, so this does not grow the PDU. */
  uint8_t *at = pdu_splice(pdu, p.off, next - p.off + n.size, nh);
  if (!at || nh == 0)
    return 0;
  pt_opt_write_hdr(at, delta, n.length);
  return 1;
}

int pt_pdu_update_token(coap_pdu_t *pdu, size_t len, const uint8_t *data) {
  if (!pdu || len > COAP_TOKEN_EXT_MAX || (len && !data))
    return 0;
  uint8_t *at = pdu_splice(pdu, 0, pdu->token_length, len);
  if (!at)
    return 0;
  if (len)
    memcpy(at, data, len);
  pdu->token_length = len;
  return 1;
}

/* ---- public building API ---- */

/* coap_add_token() in every case. */
__attribute__((noinline)) static int add_token_any(coap_pdu_t *pdu, size_t len,
                                                   const uint8_t *data) {
  if (!pdu || pdu->used_size != 0)
    return 0;
  /* An empty PDU (every response built): nothing to move. */
  if (len > COAP_TOKEN_EXT_MAX || (len && !data) ||
      (!pdu_has_room(pdu, len) && !pt_pdu_resize(pdu, len)))
    return 0;
  copy_bytes(pdu->token, data, len);
  pdu->token_length = len;
  pdu->used_size = len;
  return 1;
}

int coap_add_token(coap_pdu_t *pdu, size_t len, const uint8_t *data) {
  /* The usual case: an empty PDU, a token of 1..8 bytes and room. */
  if (pdu && pdu->used_size == 0 && len - 1 < COAP_TOKEN_DEFAULT_MAX && data &&
      pdu_has_room(pdu, len)) {
    if (len >= 4) {
      uint32_t a, b;
      memcpy(&a, data, 4);
      memcpy(&b, data + len - 4, 4);
      memcpy(pdu->token, &a, 4);
      memcpy(pdu->token + len - 4, &b, 4);
    } else {
      copy_bytes(pdu->token, data, len);
    }
    pdu->token_length = len;
    pdu->used_size = len;
    return 1;
  }
  return add_token_any(pdu, len, data);
}

/* coap_add_option() in every case. Out of line so that the common case
 * needs none of its registers. */
__attribute__((noinline)) static size_t add_option_any(coap_pdu_t *pdu,
                                                       coap_option_num_t number,
                                                       size_t len,
                                                       const uint8_t *data) {
  if (!pdu || pdu->data)
    return 0;
  return pt_pdu_insert_option(pdu, number, len, data);
}

size_t coap_add_option(coap_pdu_t *pdu, coap_option_num_t number, size_t len,
                       const uint8_t *data) {
  /* The usual case: no payload yet, appended in number order, a one-byte
   * header (delta and length below 13) and room already there. */
  if (!pdu)
    return 0;
  /* (A number below the last one wraps delta far above 12.) */
  uint32_t delta = (uint32_t)number - pdu->max_opt;
  if (!pdu->data && delta < 13 && len < 13 && (data || !len) &&
      pdu_has_room(pdu, pdu->used_size + 1 + len)) {
    uint8_t *at = pdu->token + pdu->used_size;
    at[0] = (uint8_t)(delta << 4 | len);
    if (len >= 4) { /* 4..12 bytes: two overlapping moves of 4 or 8 */
      copy_bytes(at + 1, data, len);
    } else if (len) {
      at[1] = data[0];
      at[1 + len / 2] = data[len / 2];
      at[len] = data[len - 1];
    }
    pdu->used_size += 1 + len;
    pdu->max_opt = number;
    pdu->opt_bits |= PT_OPT_BIT(number);
    return 1 + len;
  }
  return add_option_any(pdu, number, len, data);
}

uint8_t *coap_add_data_after(coap_pdu_t *pdu, size_t len) {
  if (!pdu || pdu->data || len == 0 ||
      !pt_pdu_resize(pdu, pdu->used_size + 1 + len))
    return NULL;
  pdu->token[pdu->used_size] = COAP_PAYLOAD_START;
  pdu->data = pdu->token + pdu->used_size + 1;
  pdu->used_size += 1 + len;
  return pdu->data;
}

/* coap_add_data() in every case, out of line as add_option_any(). */
__attribute__((noinline)) static int add_data_any(coap_pdu_t *pdu, size_t len,
                                                  const uint8_t *data) {
  if (!pdu || (len && !data))
    return 0;
  if (len == 0)
    return 1;
  uint8_t *at = coap_add_data_after(pdu, len);
  if (!at)
    return 0;
  memcpy(at, data, len);
  return 1;
}

int coap_add_data(coap_pdu_t *pdu, size_t len, const uint8_t *data) {
  /* The usual case: some bytes, no payload yet, and room already there. */
  if (pdu && data && len && !pdu->data &&
      pdu_has_room(pdu, pdu->used_size + 1 + len)) {
    uint8_t *at = pdu->token + pdu->used_size;
    at[0] = COAP_PAYLOAD_START;
    pdu->data = at + 1;
    pdu->used_size += 1 + len;
    copy_bytes(at + 1, data, len);
    return 1;
  }
  return add_data_any(pdu, len, data);
}

int coap_get_data(const coap_pdu_t *pdu, size_t *len, const uint8_t **data) {
  if (!len || !data)
    return 0;
  if (!pdu || !pdu->data) {
    *len = 0;
    *data = NULL;
    return 0;
  }
  *len = pdu->used_size - (size_t)(pdu->data - pdu->token);
  *data = pdu->data;
  return 1;
}

/* ---- header fields ---- */

/* (Parenthesised: pdu.h maps the name to the inline twin for callers
 * inside the library.) */
coap_pdu_code_t(coap_pdu_get_code)(const coap_pdu_t *pdu) {
  return pt_pdu_get_code(pdu);
}

void coap_pdu_set_code(coap_pdu_t *pdu, coap_pdu_code_t code) {
  if (pdu)
    pdu->code = code;
}

coap_pdu_type_t(coap_pdu_get_type)(const coap_pdu_t *pdu) {
  return pt_pdu_get_type(pdu);
}

void coap_pdu_set_type(coap_pdu_t *pdu, coap_pdu_type_t type) {
  if (pdu)
    pdu->type = type;
}

coap_bin_const_t coap_pdu_get_token(const coap_pdu_t *pdu) {
  coap_bin_const_t t = {0, NULL};
  if (pdu) {
    t.length = pdu->token_length;
    t.s = pdu->token;
  }
  return t;
}

coap_mid_t(coap_pdu_get_mid)(const coap_pdu_t *pdu) {
  return pt_pdu_get_mid(pdu);
}

void coap_pdu_set_mid(coap_pdu_t *pdu, coap_mid_t mid) {
  if (pdu)
    pdu->mid = mid;
}

/* ---- duplicate ---- */

coap_pdu_t *coap_pdu_duplicate(const coap_pdu_t *old_pdu,
                               coap_session_t *session, size_t token_length,
                               const uint8_t *token,
                               coap_opt_filter_t *drop_options) {
  if (!old_pdu)
    return NULL;
  size_t max = pt_session_max_pdu(session);
  if (old_pdu->max_size == 0 || old_pdu->max_size > max)
    max = old_pdu->max_size;
  coap_pdu_t *pdu = coap_pdu_init(old_pdu->type, old_pdu->code,
                                  pt_session_next_mid(session), max);
  if (!pdu)
    return NULL;
  pdu->session = session;
  if (!coap_add_token(pdu, token_length, token))
    goto fail;
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  coap_option_iterator_init(old_pdu, &it, COAP_OPT_ALL);
  while ((opt = coap_option_next(&it))) {
    if (drop_options && coap_option_filter_get(drop_options, it.number))
      continue;
    if (!pt_pdu_insert_option(pdu, it.number, coap_opt_length(opt),
                              coap_opt_value(opt)))
      goto fail;
  }
  return pdu;
fail:
  coap_delete_pdu(pdu);
  return NULL;
}

/* ---- wire ---- */

/*
 * RFC 8974 2.1: TKL 0..12 is the token's length; 13 puts the length minus
 * 13 in one byte after the fixed header, 14 the length minus 269 in two;
 * 15 is reserved. So tokens run to 13 + 255 + 65535 + 1 = 65804 bytes, and
 * each length has exactly one encoding.
 */
#define TKL_EXT1 13
#define TKL_EXT2 14
#define TKL_EXT1_BASE 13u
#define TKL_EXT2_BASE 269u

int pt_pdu_wire_ext(coap_pdu_t *pdu, const uint8_t **data, size_t *len) {
  if (!pdu || !data || !len || pdu->token_length > COAP_TOKEN_EXT_MAX)
    return 0;
  size_t tl = pdu->token_length;
  size_t ext = tl < TKL_EXT1_BASE ? 0 : tl < TKL_EXT2_BASE ? 1 : 2;
  unsigned tkl = ext == 0 ? (unsigned)tl : ext == 1 ? TKL_EXT1 : TKL_EXT2;
  uint8_t *h = pdu->token - PT_PDU_UDP_HDR - ext;
  h[0] = (uint8_t)(1u << 6 | ((unsigned)pdu->type & 3u) << 4 | tkl);
  h[1] = (uint8_t)pdu->code;
  h[2] = (uint8_t)((unsigned)pdu->mid >> 8);
  h[3] = (uint8_t)pdu->mid;
  if (ext == 1) {
    h[4] = (uint8_t)(tl - TKL_EXT1_BASE);
  } else if (ext == 2) {
    h[4] = (uint8_t)((tl - TKL_EXT2_BASE) >> 8);
    h[5] = (uint8_t)(tl - TKL_EXT2_BASE);
  }
  pdu->hdr_size = (uint8_t)(PT_PDU_UDP_HDR + ext);
  *data = h;
  *len = PT_PDU_UDP_HDR + ext + pdu->used_size;
  return 1;
}

/* pt_pdu_parse_opts(), inline in pt_pdu_parse_udp(). The one-byte option
 * header (delta and length below 13) is decoded in the loop itself; the
 * marker and the extended forms take the general path, which rejects what
 * pt_opt_decode() rejects. */
static inline int parse_opts(coap_pdu_t *pdu) {
  const uint8_t *p = pdu->token;
  size_t at = pdu->token_length, end = pdu->used_size;
  uint32_t number = 0;
  uint64_t bits = 0;
  while (at < end) {
    unsigned b = p[at];
    if (b < 0xD0 && (b & 0x0F) < 13) {
      size_t vlen = b & 0x0F;
      if (end - at - 1 < vlen)
        return PT_PARSE_ERR_VALUE_TRUNC;
      number += b >> 4;
      if (number > COAP_MAX_OPT)
        return PT_PARSE_ERR_NUMBER_OVERFLOW;
      bits |= PT_OPT_BIT(number);
      at += 1 + vlen;
      continue;
    }
    if (b == PT_PAYLOAD_MARKER) {
      /* RFC 7252 3: a marker followed by a zero-length payload MUST be
       * processed as a message format error. */
      if (at + 1 == end)
        return PT_PARSE_ERR_EMPTY_PAYLOAD;
      pdu->data = pdu->token + at + 1;
      break;
    }
    pt_opt_hdr h;
    int rc = pt_opt_decode(p + at, end - at, &h);
    if (rc != 0)
      return rc;
    number += h.delta;
    if (number > COAP_MAX_OPT)
      return PT_PARSE_ERR_NUMBER_OVERFLOW;
    bits |= PT_OPT_BIT(number);
    at += h.size + h.length;
  }
  pdu->max_opt = (uint16_t)number;
  pdu->opt_bits = bits;
  return 0;
}

int pt_pdu_parse_opts(coap_pdu_t *pdu) {
  return parse_opts(pdu);
}

/* pt_pdu_parse_udp() for every datagram (pdu.h). */
__attribute__((noinline)) int
pt_pdu_parse_udp_any(coap_pdu_t *pdu, const uint8_t *data, size_t len) {
  if (!pdu || !data)
    return PT_PARSE_ERR_ARG;
  if (len < PT_PDU_UDP_HDR)
    return PT_PARSE_ERR_SHORT_HEADER;
  if (data[0] >> 6 != 1)
    return PT_PARSE_ERR_VERSION;
  size_t tkl = data[0] & 0x0F, hdr = PT_PDU_UDP_HDR;
  if (tkl >= TKL_EXT1) { /* RFC 8974 2.1 */
    if (tkl == 15)
      return PT_PARSE_ERR_TKL;
    hdr += tkl == TKL_EXT1 ? 1 : 2;
    if (len < hdr)
      return PT_PARSE_ERR_TOKEN_TRUNC;
    tkl = tkl == TKL_EXT1 ? TKL_EXT1_BASE + data[4]
                          : TKL_EXT2_BASE + ((size_t)data[4] << 8 | data[5]);
  }
  if (len - hdr < tkl)
    return PT_PARSE_ERR_TOKEN_TRUNC;
  /* RFC 7252 4.1: an Empty message has TKL 0 and nothing after the MID. */
  if (data[1] == COAP_EMPTY_CODE && len > PT_PDU_UDP_HDR)
    return PT_PARSE_ERR_EMPTY_MSG;
  size_t body = len - hdr;
  size_t limit = pdu->max_size ? pdu->max_size : PT_PDU_MAX_SIZE;
  if (body > limit)
    return PT_PARSE_ERR_TOO_BIG;
  pdu->data = NULL; /* before a resize, which would move it */
  if (body > pdu->alloc_size && !pt_pdu_resize(pdu, body))
    return PT_PARSE_ERR_NOMEM;
  /* The fields pt_pdu_clear() would set, each written once. */
  pdu->type = (coap_pdu_type_t)(data[0] >> 4 & 3);
  pdu->code = (coap_pdu_code_t)data[1];
  pdu->mid = (coap_mid_t)(data[2] << 8 | data[3]);
  pdu->hdr_size = 0;
  pdu->token_length = tkl;
  pdu->used_size = body;
  copy_bytes(pdu->token, data + hdr, body);
  return parse_opts(pdu);
}

/* Largest body (token, options, payload) the small-message path takes. */
#define SMALL_BODY 32u

int pt_pdu_parse_udp(coap_pdu_t *pdu, const uint8_t *data, size_t len) {
  /* A small, well-formed message (most requests): version 1, a token of
   * 0..12 bytes, not Empty, a body of at most SMALL_BODY bytes that fits
   * the PDU as it is, and options with one-byte headers. It is parsed here
   * with no call; at the first thing outside that, pt_pdu_parse_udp_any()
   * starts over and decides, so every error comes from there. */
  size_t tkl = data && len >= PT_PDU_UDP_HDR ? data[0] & 0x0Fu : 0;
  size_t body = len - PT_PDU_UDP_HDR;
  if (!pdu || !data || len < PT_PDU_UDP_HDR || data[0] >> 6 != 1 ||
      tkl >= TKL_EXT1 || body < tkl || body > SMALL_BODY ||
      data[1] == COAP_EMPTY_CODE || body > pdu->alloc_size ||
      (pdu->max_size != 0 && body > pdu->max_size))
    return pt_pdu_parse_udp_any(pdu, data, len);
  pdu->type = (coap_pdu_type_t)(data[0] >> 4 & 3);
  pdu->code = (coap_pdu_code_t)data[1];
  pdu->mid = (coap_mid_t)(data[2] << 8 | data[3]);
  pdu->hdr_size = 0;
  pdu->token_length = tkl;
  pdu->used_size = body;
  pdu->data = NULL;
  copy_bytes(pdu->token, data + PT_PDU_UDP_HDR, body);
  const uint8_t *p = pdu->token;
  size_t at = tkl;
  uint32_t number = 0; /* at most SMALL_BODY * 12: no overflow here */
  uint64_t bits = 0;
  while (at < body) {
    unsigned b = p[at];
    if (b < 0xD0 && (b & 0x0F) < 13 && body - at - 1 >= (b & 0x0Fu)) {
      number += b >> 4;
      bits |= PT_OPT_BIT(number);
      at += 1 + (b & 0x0Fu);
      continue;
    }
    if (b != PT_PAYLOAD_MARKER || at + 1 == body)
      return pt_pdu_parse_udp_any(pdu, data, len);
    pdu->data = pdu->token + at + 1;
    break;
  }
  pdu->max_opt = (uint16_t)number;
  pdu->opt_bits = bits;
  return 0;
}

int coap_pdu_parse(coap_proto_t proto, const uint8_t *data, size_t length,
                   coap_pdu_t *pdu) {
  switch (proto) {
  case COAP_PROTO_UDP:
  case COAP_PROTO_DTLS:
    return pt_pdu_parse_udp(pdu, data, length) == 0;
  case COAP_PROTO_TCP:
  case COAP_PROTO_TLS:
    return pt_pdu_parse_tcp(pdu, data, length) == 0;
  case COAP_PROTO_WS:
  case COAP_PROTO_WSS:
    return pt_pdu_parse_ws(pdu, data, length) == 0;
  default:
    return 0;
  }
}

/* ---- reason phrases (RFC 7252 12.1.2 and later registrations) ---- */

static const struct {
  unsigned char code;
  const char *phrase;
} phrases[] = {
    {COAP_RESPONSE_CODE(201), "Created"},
    {COAP_RESPONSE_CODE(202), "Deleted"},
    {COAP_RESPONSE_CODE(203), "Valid"},
    {COAP_RESPONSE_CODE(204), "Changed"},
    {COAP_RESPONSE_CODE(205), "Content"},
    {COAP_RESPONSE_CODE(231), "Continue"},
    {COAP_RESPONSE_CODE(400), "Bad Request"},
    {COAP_RESPONSE_CODE(401), "Unauthorized"},
    {COAP_RESPONSE_CODE(402), "Bad Option"},
    {COAP_RESPONSE_CODE(403), "Forbidden"},
    {COAP_RESPONSE_CODE(404), "Not Found"},
    {COAP_RESPONSE_CODE(405), "Method Not Allowed"},
    {COAP_RESPONSE_CODE(406), "Not Acceptable"},
    {COAP_RESPONSE_CODE(408), "Request Entity Incomplete"},
    {COAP_RESPONSE_CODE(409), "Conflict"},
    {COAP_RESPONSE_CODE(412), "Precondition Failed"},
    {COAP_RESPONSE_CODE(413), "Request Entity Too Large"},
    {COAP_RESPONSE_CODE(415), "Unsupported Content-Format"},
    {COAP_RESPONSE_CODE(422), "Unprocessable"},
    {COAP_RESPONSE_CODE(429), "Too Many Requests"},
    {COAP_RESPONSE_CODE(500), "Internal Server Error"},
    {COAP_RESPONSE_CODE(501), "Not Implemented"},
    {COAP_RESPONSE_CODE(502), "Bad Gateway"},
    {COAP_RESPONSE_CODE(503), "Service Unavailable"},
    {COAP_RESPONSE_CODE(504), "Gateway Timeout"},
    {COAP_RESPONSE_CODE(505), "Proxying Not Supported"},
    {COAP_RESPONSE_CODE(508), "Hop Limit Reached"},
};

const char *coap_response_phrase(unsigned char code) {
  for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
    if (phrases[i].code == code)
      return phrases[i].phrase;
  return NULL;
}
