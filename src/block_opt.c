/*
 * block_opt.c -- the Block1/Block2 options and the body helpers
 * (RFC 7959 section 2.2).
 *
 *    0
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   |  NUM  |M| SZX |      a value of 0 to 3 bytes: NUM takes the bits
 *   +-+-+-+-+-+-+-+-+      above the low four; block size 2^(SZX + 4)
 *
 * SZX 7 is reserved (RFC 7959 2.2) except for BERT on reliable
 * transports (RFC 8323 6) when both peers' CSMs allow it (block.h).
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"

#include "pdu.h"
#include "session.h"
#include "tcp.h"

/* ---- internal helpers ---------------------------------------------------- */

uint32_t pt_block_value(unsigned num, int m, unsigned szx) {
  return ((uint32_t)num << 4) | (m ? 0x08u : 0) | (szx & 7u);
}

int pt_block_set(coap_pdu_t *pdu, coap_option_num_t number, unsigned num, int m,
                 unsigned szx) {
  uint8_t buf[4];
  unsigned len =
      coap_encode_var_safe(buf, sizeof(buf), pt_block_value(num, m, szx));
  return pt_pdu_update_option(pdu, number, len, buf) != 0;
}

int pt_block_peek(const coap_pdu_t *pdu, coap_option_num_t number,
                  unsigned *num, int *m, unsigned *szx) {
  coap_opt_iterator_t it;
  if (!pdu || !pt_pdu_may_have(pdu, number))
    return 0; /* most requests: no iterator to set up */
  coap_opt_t *opt = coap_check_option(pdu, number, &it);
  if (!opt || coap_opt_length(opt) > 3)
    return 0;
  unsigned v = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
  *num = v >> 4;
  *m = (v & 0x08) != 0;
  *szx = v & 7;
  return 1;
}

uint64_t pt_block_uint_opt(const coap_pdu_t *pdu, coap_option_num_t number,
                           uint64_t dflt) {
  coap_opt_iterator_t it;
  coap_opt_t *opt = pdu ? coap_check_option(pdu, number, &it) : NULL;
  if (!opt || coap_opt_length(opt) > 8)
    return dflt;
  return coap_decode_var_bytes8(coap_opt_value(opt), coap_opt_length(opt));
}

int pt_block_add_uint(coap_pdu_t *pdu, coap_option_num_t number,
                      uint64_t value) {
  uint8_t buf[8];
  unsigned len = coap_encode_var_safe8(buf, sizeof(buf), value);
  return pt_pdu_insert_option(pdu, number, len, buf) != 0;
}

void pt_block_reset_to_error(coap_pdu_t *resp, const coap_pdu_t *req,
                             coap_pdu_code_t code) {
  coap_bin_const_t tok = coap_pdu_get_token(req);
  pt_pdu_clear(resp, coap_pdu_get_type(resp), code, coap_pdu_get_mid(resp));
  coap_add_token(resp, tok.length, tok.s);
}

int pt_block_copy_options(coap_pdu_t *dst, const coap_pdu_t *src,
                          const coap_option_num_t *skip, size_t nskip) {
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  coap_option_iterator_init(src, &it, COAP_OPT_ALL);
  while ((opt = coap_option_next(&it)) != NULL) {
    size_t i = 0;
    while (i < nskip && skip[i] != it.number)
      i++;
    if (i < nskip)
      continue;
    if (!coap_add_option(dst, it.number, coap_opt_length(opt),
                         coap_opt_value(opt)))
      return 0;
  }
  return 1;
}

/* ---- decoding ---------------------------------------------------------------
 */

unsigned int coap_opt_block_num(const coap_opt_t *block_opt) {
  uint32_t len = block_opt ? coap_opt_length(block_opt) : 0;
  if (len == 0 || len > 3)
    return 0;
  return coap_decode_var_bytes(coap_opt_value(block_opt), len) >> 4;
}

/* BERT is abstracted as libcoap's page says: szx 6 (its NUM counts 1024
 * bytes), aszx 7, bert set and chunk_size the payload's length (cut to a
 * multiple of 1024 when more blocks follow). Without a session that
 * allows BERT, SZX 7 is refused. */
int coap_get_block_b(const coap_session_t *session, const coap_pdu_t *pdu,
                     coap_option_num_t number, coap_block_b_t *block) {
  if (!block)
    return 0;
  memset(block, 0, sizeof(*block));
  unsigned num, szx;
  int m;
  if (!pt_block_peek(pdu, number, &num, &m, &szx))
    return 0;
  block->defined = 1;
  block->num = num;
  block->m = m;
  block->aszx = szx;
  block->szx = szx > 6 ? 6 : szx;
  if (szx == PT_BLOCK_BERT && !(session && pt_tcp_bert(session)))
    return 0;
  size_t len;
  const uint8_t *data;
  if (!coap_get_data(pdu, &len, &data))
    len = 0;
  if (szx == PT_BLOCK_BERT) {
    block->bert = 1;
    if (m)
      len -= len % 1024;
  }
  block->chunk_size = (uint32_t)len;
  return 1;
}

int coap_get_block(const coap_pdu_t *pdu, coap_option_num_t number,
                   coap_block_t *block) {
  coap_block_b_t b;
  if (!block)
    return 0;
  memset(block, 0, sizeof(*block));
  if (!coap_get_block_b(NULL, pdu, number, &b))
    return 0;
  block->num = b.num;
  block->m = b.m;
  block->szx = b.szx;
  return 1;
}

int coap_get_data_large(const coap_pdu_t *pdu, size_t *len,
                        const uint8_t **data, size_t *offset, size_t *total) {
  if (!len || !data || !offset || !total)
    return 0;
  *offset = 0;
  int have = coap_get_data(pdu, len, data);
  *total = *len;
  if (!pdu)
    return 0;
  int request = coap_pdu_get_code(pdu) < 32;
  unsigned num, szx;
  int m;
  if (pt_block_peek(pdu, request ? COAP_OPTION_BLOCK1 : COAP_OPTION_BLOCK2,
                    &num, &m, &szx) &&
      (szx < PT_BLOCK_BERT || (pdu->session && pt_tcp_bert(pdu->session)))) {
    *offset = pt_block_offset(num, szx);
    uint64_t size = pt_block_uint_opt(
        pdu, request ? COAP_OPTION_SIZE1 : COAP_OPTION_SIZE2, 0);
    size_t end = *offset + *len;
    /* Until the last block, total only has to exceed what is known. */
    *total = size >= end + (m ? 1 : 0) ? (size_t)size : end + (m ? 1 : 0);
  }
  return have;
}

/* ---- encoding ---------------------------------------------------------------
 */

int coap_write_block_b_opt(coap_session_t *session, coap_block_b_t *block,
                           coap_option_num_t number, coap_pdu_t *pdu,
                           size_t data_length) {
  if (!block || !pdu || block->szx > 6)
    return -1;
  size_t start = (size_t)block->num << (block->szx + 4);
  if (block->num != 0 && start >= data_length)
    return -2; /* the block lies past the body */
  size_t max = pdu->max_size ? pdu->max_size : PT_PDU_MAX_SIZE;
  if (session && coap_session_max_pdu_size(session) < max)
    max = coap_session_max_pdu_size(session);
  /* room for the option (up to 4 bytes with header) and payload marker */
  if (max < pdu->used_size + 5 + 16)
    return -3;
  size_t avail = max - pdu->used_size - 5;
  unsigned szx = block->szx;
  while (szx > 0 && ((size_t)1 << (szx + 4)) > avail)
    szx--;
  if (((size_t)1 << (szx + 4)) > avail)
    return -3;
  block->num = (unsigned)(start >> (szx + 4));
  block->szx = szx;
  block->aszx = szx;
  block->m = start + ((size_t)1 << (szx + 4)) < data_length;
  size_t rest = data_length > start ? data_length - start : 0;
  block->chunk_size =
      (uint32_t)(rest < ((size_t)1 << (szx + 4)) ? rest
                                                 : ((size_t)1 << (szx + 4)));
  block->defined = 1;
  return pt_block_set(pdu, number, block->num, block->m, szx) ? 1 : -1;
}

int coap_write_block_opt(coap_block_t *block, coap_option_num_t number,
                         coap_pdu_t *pdu, size_t data_length) {
  if (!block)
    return -1;
  coap_block_b_t b;
  memset(&b, 0, sizeof(b));
  b.num = block->num;
  b.szx = block->szx;
  int rc = coap_write_block_b_opt(pdu ? pdu->session : NULL, &b, number, pdu,
                                  data_length);
  if (rc == 1) {
    block->num = b.num;
    block->m = b.m;
    block->szx = b.szx;
  }
  return rc;
}

int coap_add_block(coap_pdu_t *pdu, size_t len, const uint8_t *data,
                   unsigned int block_num, unsigned char block_szx) {
  if (!pdu || !data || block_szx > 6)
    return 0;
  size_t size = (size_t)1 << (block_szx + 4);
  size_t start = (size_t)block_num << (block_szx + 4);
  if (len <= start)
    return 0;
  size_t n = len - start < size ? len - start : size;
  return coap_add_data(pdu, n, data + start);
}

int coap_add_block_b_data(coap_pdu_t *pdu, size_t len, const uint8_t *data,
                          coap_block_b_t *block) {
  if (!block)
    return 0;
  return coap_add_block(pdu, len, data, block->num, (unsigned char)block->szx);
}

coap_binary_t *coap_block_build_body(coap_binary_t *body_data, size_t length,
                                     const uint8_t *data, size_t offset,
                                     size_t total) {
  if ((length && !data) || offset > SIZE_MAX - length) {
    coap_delete_binary(body_data);
    return NULL;
  }
  size_t need = offset + length > total ? offset + length : total;
  if (!body_data) {
    body_data = coap_new_binary(need);
    if (!body_data)
      return NULL;
    memset(body_data->s, 0, need);
  } else if (body_data->length < need) {
    size_t old = body_data->length;
    coap_binary_t *grown = coap_resize_binary(body_data, need);
    if (!grown) {
      coap_delete_binary(body_data);
      return NULL;
    }
    body_data = grown;
    memset(body_data->s + old, 0, need - old);
  }
  if (length)
    memcpy(body_data->s + offset, data, length);
  return body_data;
}

int coap_q_block_is_supported(void) {
  return 0;
}
