/*
 * pdu_tcp.c -- RFC 8323 message framing: CoAP over TCP, TLS and WebSockets.
 *
 * RFC 8323 section 3.2, Message Format (TCP and TLS), with the TKL
 * extension of RFC 8974 section 2.2:
 *
 *     0 1 2 3 4 5 6 7
 *    +-+-+-+-+-+-+-+-+
 *    |  Len  |  TKL  | Extended Length (0, 1, 2 or 4 bytes, by Len)
 *    +-+-+-+-+-+-+-+-+
 *    |      Code     | TKL extension (0, 1 or 2 bytes, by TKL)
 *    +-+-+-+-+-+-+-+-+
 *    | Token (if any) ...
 *    +-+-+-+-+-+-+-+-+
 *    | Options (if any) ...
 *    +-+-+-+-+-+-+-+-+
 *    |1 1 1 1 1 1 1 1|    Payload (if any) ...
 *    +-+-+-+-+-+-+-+-+
 *
 * Len is the size of the Options and Payload (the token is not counted):
 * 0..12 is that size itself; 13 puts the size minus 13 in one byte of
 * Extended Length, 14 the size minus 269 in two, 15 the size minus 65805
 * in four (network byte order). Each size has exactly one encoding, so
 * there is no over-long form to reject. There is no Version, Type or
 * Message ID: the connection is reliable and ordered (section 3.3).
 *
 * Section 4.4 (WebSockets): the same header with Len always 0 and no
 * Extended Length; the WebSocket message's size gives the message's.
 *
 * Like the UDP framing in pdu.c, the header is written into the room in
 * front of the token (PT_PDU_HDR_ROOM = PT_TCP_HDR_MAX), so sending copies
 * nothing, and parsing copies the message once.
 */
#include "pdu.h"

#include <string.h>

#define LEN_EXT1 13u
#define LEN_EXT2 14u
#define LEN_EXT4 15u
#define LEN_EXT1_BASE 13u
#define LEN_EXT2_BASE 269u
#define LEN_EXT4_BASE 65805u

/* RFC 8974 2.1, as in pdu.c. */
#define TKL_EXT1 13u
#define TKL_EXT2 14u
#define TKL_EXT1_BASE 13u
#define TKL_EXT2_BASE 269u

static size_t len_ext_bytes(unsigned nibble) {
  return nibble < LEN_EXT1    ? 0
         : nibble == LEN_EXT1 ? 1
         : nibble == LEN_EXT2 ? 2
                              : 4;
}

static size_t tkl_ext_bytes(unsigned tkl) {
  return tkl == TKL_EXT1 ? 1 : tkl == TKL_EXT2 ? 2 : 0;
}

/* The Options-and-Payload size held by the Len nibble and its @p ext
 * Extended Length bytes at @p p. */
static uint64_t read_len(unsigned nibble, const uint8_t *p) {
  switch (len_ext_bytes(nibble)) {
  case 0:
    return nibble;
  case 1:
    return LEN_EXT1_BASE + (uint64_t)p[0];
  case 2:
    return LEN_EXT2_BASE + ((uint64_t)p[0] << 8 | p[1]);
  default:
    return LEN_EXT4_BASE + ((uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
                            (uint64_t)p[2] << 8 | p[3]);
  }
}

/* The token length held by TKL and its extension bytes at @p p. */
static size_t read_tkl(unsigned tkl, const uint8_t *p) {
  if (tkl == TKL_EXT1)
    return TKL_EXT1_BASE + p[0];
  if (tkl == TKL_EXT2)
    return TKL_EXT2_BASE + ((size_t)p[0] << 8 | p[1]);
  return tkl;
}

int pt_tcp_frame_size(const uint8_t *data, size_t avail, uint64_t *size) {
  if (avail < 1)
    return 0;
  unsigned nibble = data[0] >> 4, tkl = data[0] & 0x0F;
  if (tkl == 15)
    return PT_PARSE_ERR_TKL;
  size_t le = len_ext_bytes(nibble), te = tkl_ext_bytes(tkl);
  size_t hdr = 1 + le + 1 + te;
  if (avail < hdr)
    return 0;
  uint64_t body = read_len(nibble, data + 1);
  *size = hdr + read_tkl(tkl, data + 2 + le) + body;
  return (int)hdr;
}

/* Copies the @p len bytes at @p body (token, options, payload) into @p pdu
 * as a reliable-transport message with @p code and a @p tkl-byte token. */
static int parse_body(coap_pdu_t *pdu, uint8_t code, const uint8_t *body,
                      size_t len, size_t tkl) {
  if (len < tkl)
    return PT_PARSE_ERR_TOKEN_TRUNC;
  size_t limit = pdu->max_size ? pdu->max_size : PT_PDU_MAX_SIZE;
  if (len > limit)
    return PT_PARSE_ERR_TOO_BIG;
  /* RFC 8323 3.3: no Type or Message ID; libcoap's API reports CON, 0. */
  pt_pdu_clear(pdu, COAP_MESSAGE_CON, (coap_pdu_code_t)code, 0);
  if (!pt_pdu_resize(pdu, len))
    return PT_PARSE_ERR_NOMEM;
  if (len)
    memcpy(pdu->token, body, len);
  pdu->token_length = tkl;
  pdu->used_size = len;
  return pt_pdu_parse_opts(pdu);
}

int pt_pdu_parse_tcp(coap_pdu_t *pdu, const uint8_t *data, size_t len) {
  if (!pdu || !data)
    return PT_PARSE_ERR_ARG;
  uint64_t size = 0;
  int hdr = pt_tcp_frame_size(data, len, &size);
  if (hdr < 0)
    return hdr;
  if (hdr == 0)
    return PT_PARSE_ERR_SHORT_HEADER;
  if (size > len)
    return PT_PARSE_ERR_FRAME_TRUNC;
  if (size < len)
    return PT_PARSE_ERR_FRAME_EXTRA;
  unsigned tkl = data[0] & 0x0F;
  size_t te = tkl_ext_bytes(tkl);
  const uint8_t *code = data + hdr - 1 - te;
  return parse_body(pdu, *code, data + hdr, len - (size_t)hdr,
                    read_tkl(tkl, code + 1));
}

int pt_pdu_parse_ws(coap_pdu_t *pdu, const uint8_t *data, size_t len) {
  if (!pdu || !data)
    return PT_PARSE_ERR_ARG;
  if (len < 2)
    return PT_PARSE_ERR_SHORT_HEADER;
  if (data[0] >> 4 != 0)
    return PT_PARSE_ERR_WS_LEN;
  unsigned tkl = data[0] & 0x0F;
  if (tkl == 15)
    return PT_PARSE_ERR_TKL;
  size_t hdr = 2 + tkl_ext_bytes(tkl);
  if (len < hdr)
    return PT_PARSE_ERR_TOKEN_TRUNC;
  return parse_body(pdu, data[1], data + hdr, len - hdr,
                    read_tkl(tkl, data + 2));
}

int pt_pdu_wire_reliable(coap_pdu_t *pdu, int ws, const uint8_t **data,
                         size_t *len) {
  if (!pdu || !data || !len || pdu->token_length > COAP_TOKEN_EXT_MAX)
    return 0;
  size_t tl = pdu->token_length;
  size_t body = pdu->used_size - tl; /* options and payload */
  unsigned tkl = tl < TKL_EXT1_BASE   ? (unsigned)tl
                 : tl < TKL_EXT2_BASE ? TKL_EXT1
                                      : TKL_EXT2;
  unsigned nibble = ws                     ? 0
                    : body < LEN_EXT1_BASE ? (unsigned)body
                    : body < LEN_EXT2_BASE ? LEN_EXT1
                    : body < LEN_EXT4_BASE ? LEN_EXT2
                                           : LEN_EXT4;
  size_t le = ws ? 0 : len_ext_bytes(nibble), te = tkl_ext_bytes(tkl);
  size_t hdr = 1 + le + 1 + te;
  uint8_t *h = pdu->token - hdr;
  h[0] = (uint8_t)(nibble << 4 | tkl);
  uint64_t ext = body - (le == 1   ? LEN_EXT1_BASE
                         : le == 2 ? LEN_EXT2_BASE
                                   : LEN_EXT4_BASE);
  for (size_t i = 0; i < le; i++) /* big-endian, le bytes */
    h[1 + i] = (uint8_t)(ext >> (8 * (le - 1 - i)));
  h[1 + le] = (uint8_t)pdu->code;
  if (te == 1) {
    h[2 + le] = (uint8_t)(tl - TKL_EXT1_BASE);
  } else if (te == 2) {
    h[2 + le] = (uint8_t)((tl - TKL_EXT2_BASE) >> 8);
    h[3 + le] = (uint8_t)(tl - TKL_EXT2_BASE);
  }
  pdu->hdr_size = (uint8_t)hdr;
  *data = h;
  *len = hdr + pdu->used_size;
  return 1;
}
