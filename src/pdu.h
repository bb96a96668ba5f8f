/*
 * pdu.h -- the PDU object and the wire-format operations the runtime uses.
 *
 * Buffer layout: one allocation, `buf`, holds
 *
 *   [ header room (PT_PDU_HDR_ROOM) | token | options | 0xFF payload ]
 *                                   ^ token                  ^ data
 *
 * The fixed header is not kept in the buffer while the PDU is edited (type,
 * code and mid live in fields); pt_pdu_wire() writes it into the room just
 * before the token, so a datagram is sent straight from the buffer with no
 * copy. used_size counts bytes from the token on; alloc_size is the room
 * from the token on. max_size limits used_size (0 means only the hard cap
 * PT_PDU_MAX_SIZE).
 */
#ifndef PETREL_PDU_H
#define PETREL_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "coap3/coap_pdu.h"
#include "option.h"

/* Room before the token: the 4-byte UDP header, with spare for the longer
 * reliable-transport headers (RFC 8323: up to 6 bytes) later. */
#define PT_PDU_HDR_ROOM 8
/* The UDP fixed header size (RFC 7252 section 3). */
#define PT_PDU_UDP_HDR 4
/* Hard cap on used_size, whatever max_size says. */
#define PT_PDU_MAX_SIZE (8u * 1024u * 1024u + 256u)
/* First allocation when the maximum is larger (grown on demand). */
#define PT_PDU_INITIAL_ALLOC 256u

struct coap_pdu_t {
  coap_pdu_type_t type;
  coap_pdu_code_t code;
  coap_mid_t mid;
  uint16_t max_opt;     /* number of the last option (0 if none) */
  uint64_t opt_bits;    /* bit (n & 63) set for every option n present:
                           a clear bit means no such option (see
                           pt_pdu_may_have); removal leaves bits set */
  uint8_t hdr_size;     /* header bytes last written by pt_pdu_wire() */
  uint8_t embedded;     /* lives inside its owner's allocation (see
                           pt_pdu_clone_into): never freed or grown */
  unsigned ref;         /* extra references: coap_delete_pdu() drops one */
  size_t token_length;  /* 0..COAP_TOKEN_EXT_MAX (RFC 8974) */
  size_t used_size;     /* bytes from token to end of payload */
  size_t alloc_size;    /* room from token on */
  size_t max_size;      /* limit on used_size; 0: PT_PDU_MAX_SIZE */
  uint8_t *buf;         /* the allocation (owned) */
  uint8_t *token;       /* buf + PT_PDU_HDR_ROOM */
  uint8_t *data;        /* payload start, NULL if no payload */
  coap_session_t *session; /* borrowed; set by the runtime, may be NULL */
};

/* Bit of option @p n in opt_bits: numbers 64 apart share one. */
#define PT_OPT_BIT(n) ((uint64_t)1 << ((n)&63u))

/* 0 when @p pdu certainly has no option @p number (then no walk over its
 * options is needed); 1 when it may have one. Every function of pdu.c that
 * adds an option sets its bit, so this never says 0 wrongly. */
static inline int pt_pdu_may_have(const coap_pdu_t *pdu, uint32_t number) {
  return number <= pdu->max_opt && (pdu->opt_bits & PT_OPT_BIT(number)) != 0;
}

/* ---- header getters, inline inside the library ----
 * The exported functions (pdu.c) stay for applications; files of the
 * library that include this header call these instead, so that reading a
 * field costs no call. Each answers exactly as its exported twin. */

static inline coap_pdu_code_t pt_pdu_get_code(const coap_pdu_t *pdu) {
  return pdu ? pdu->code : COAP_EMPTY_CODE;
}

static inline coap_pdu_type_t pt_pdu_get_type(const coap_pdu_t *pdu) {
  return pdu ? pdu->type : COAP_MESSAGE_CON;
}

static inline coap_mid_t pt_pdu_get_mid(const coap_pdu_t *pdu) {
  return pdu ? pdu->mid : COAP_INVALID_MID;
}

#define coap_pdu_get_code(pdu) pt_pdu_get_code(pdu)
#define coap_pdu_get_type(pdu) pt_pdu_get_type(pdu)
#define coap_pdu_get_mid(pdu) pt_pdu_get_mid(pdu)

/* ---- session hooks (defined by the session module, session.c) ---- */

/* Next message id for @p session (borrowed; NULL gives a random id). */
coap_mid_t pt_session_next_mid(coap_session_t *session);
/* max_size for a PDU sent on @p session: bytes after the fixed header
 * (COAP_DEFAULT_MTU - 4 for NULL, so a whole datagram fits 1152 bytes). */
size_t pt_session_max_pdu(coap_session_t *session);

/* ---- wire ---- */

/* pt_pdu_wire() for every token length and argument. */
int pt_pdu_wire_ext(coap_pdu_t *pdu, const uint8_t **data, size_t *len);

/*
 * Writes the UDP header in front of the token (4 bytes, plus 1 or 2 of
 * extended token length for a token of 13 bytes or more, RFC 8974) and
 * points *@p data at the whole datagram (inside the PDU: valid until the
 * PDU changes), *@p len at its size. Returns 1, or 0 if the token is longer
 * than COAP_TOKEN_EXT_MAX. Inline for a token of up to 12 bytes (TKL is
 * the length itself), the rest out of line.
 */
static inline int pt_pdu_wire(coap_pdu_t *pdu, const uint8_t **data,
                              size_t *len) {
  if (!pdu || !data || !len || pdu->token_length > 12)
    return pt_pdu_wire_ext(pdu, data, len);
  uint8_t *h = pdu->token - PT_PDU_UDP_HDR;
  h[0] = (uint8_t)(1u << 6 | ((unsigned)pdu->type & 3u) << 4 |
                   (unsigned)pdu->token_length);
  h[1] = (uint8_t)pdu->code;
  h[2] = (uint8_t)((unsigned)pdu->mid >> 8);
  h[3] = (uint8_t)pdu->mid;
  pdu->hdr_size = PT_PDU_UDP_HDR;
  *data = h;
  *len = PT_PDU_UDP_HDR + pdu->used_size;
  return 1;
}

/*
 * Parses the UDP datagram @p data (borrowed; copied into the PDU, whose
 * buffer is grown if needed) into @p pdu, replacing what it held. Tokens of
 * any length RFC 8974 can express are accepted (TKL 9..14); whether the
 * receiver is willing to take one longer than 8 bytes is for the caller to
 * decide. Returns 0 or a negative pt_parse_err; on error the PDU's content
 * is undefined (clear it before reuse).
 */
int pt_pdu_parse_udp(coap_pdu_t *pdu, const uint8_t *data, size_t len);

/* pt_pdu_parse_udp() without its small-message path (pdu.c): the same
 * answer and the same PDU for every input, which the tests check. */
int pt_pdu_parse_udp_any(coap_pdu_t *pdu, const uint8_t *data, size_t len);

/* Checks the options of a PDU whose token_length and used_size are set
 * (the body just copied in) and finds the payload: sets max_opt and data.
 * Returns 0 or a negative pt_parse_err. */
int pt_pdu_parse_opts(coap_pdu_t *pdu);

/* ---- RFC 8323 framing: TCP, TLS and WebSockets (pdu_tcp.c) ---- */

/* The longest RFC 8323 header: Len/TKL, 4 bytes of Extended Length, Code
 * and 2 bytes of TKL extension. It fits PT_PDU_HDR_ROOM. */
#define PT_TCP_HDR_MAX 8

/*
 * Reads the header at the start of a TCP or TLS byte stream (@p avail
 * bytes at @p data, borrowed). Returns the header's size (2 to 8 bytes,
 * TKL extension included) and sets *@p size to the whole message's
 * (header, token, options and payload) once the header is complete; 0 when
 * more bytes are needed to know; PT_PARSE_ERR_TKL for TKL 15.
 */
int pt_tcp_frame_size(const uint8_t *data, size_t avail, uint64_t *size);

/*
 * Parses one whole RFC 8323 section 3.2 message (TCP, TLS) of exactly
 * @p len bytes at @p data (borrowed; copied) into @p pdu, as
 * pt_pdu_parse_udp() does. The PDU gets type CON and message ID 0: these
 * transports have neither. Errors besides the option ones:
 * PT_PARSE_ERR_SHORT_HEADER, _TKL, _FRAME_TRUNC (shorter than the header
 * says), _FRAME_EXTRA (longer), _TOO_BIG, _NOMEM.
 */
int pt_pdu_parse_tcp(coap_pdu_t *pdu, const uint8_t *data, size_t len);

/* The same for the payload of one WebSocket message (RFC 8323 section
 * 4.4): Len must be 0 (else PT_PARSE_ERR_WS_LEN) and the message runs to
 * the end of @p data. */
int pt_pdu_parse_ws(coap_pdu_t *pdu, const uint8_t *data, size_t len);

/*
 * Writes the RFC 8323 header in front of the token (section 3.2, or with
 * @p ws section 4.4: no length) and points *@p data at the whole message
 * (inside the PDU, valid until it changes), *@p len at its size. Type and
 * message ID are not sent. Returns 1, or 0 if the token is too long.
 */
int pt_pdu_wire_reliable(coap_pdu_t *pdu, int ws, const uint8_t **data,
                         size_t *len);

/* pt_pdu_wire() or pt_pdu_wire_reliable() as @p proto frames messages. */
static inline int pt_pdu_wire_proto(coap_pdu_t *pdu, coap_proto_t proto,
                                    const uint8_t **data, size_t *len) {
  switch (proto) {
  case COAP_PROTO_TCP:
  case COAP_PROTO_TLS:
    return pt_pdu_wire_reliable(pdu, 0, data, len);
  case COAP_PROTO_WS:
  case COAP_PROTO_WSS:
    return pt_pdu_wire_reliable(pdu, 1, data, len);
  default:
    return pt_pdu_wire(pdu, data, len);
  }
}

/* ---- editing: every function keeps the option encoding valid ----
 * Value and token pointers given to these must not point into the PDU
 * itself: the buffer may move or shift while they are copied. */

/*
 * Makes room for @p new_size bytes from the token on (never shrinks).
 * Returns 1, or 0 if that exceeds max_size or memory is short. The buffer may
 * move: token and data are updated, older pointers into it are not.
 */
int pt_pdu_resize(coap_pdu_t *pdu, size_t new_size);

/*
 * Inserts option @p number with a copy of @p len bytes at @p data (borrowed)
 * after any options numbered <= @p number, even when a payload is present.
 * Returns the option's encoded size, or 0 on failure (no room).
 */
size_t pt_pdu_insert_option(coap_pdu_t *pdu, coap_option_num_t number,
                            size_t len, const uint8_t *data);

/*
 * Replaces the value of the first option numbered @p number with a copy of
 * @p len bytes at @p data (borrowed), or inserts it if absent. Returns the
 * option's encoded size, or 0 on failure.
 */
size_t pt_pdu_update_option(coap_pdu_t *pdu, coap_option_num_t number,
                            size_t len, const uint8_t *data);

/*
 * Removes the FIRST option numbered @p number (call again for repeats).
 * Returns 1 if one was removed, 0 if there was none (or on failure).
 */
int pt_pdu_remove_option(coap_pdu_t *pdu, coap_option_num_t number);

/*
 * Replaces the token with a copy of @p len bytes at @p data (borrowed), even
 * when options and payload follow. Returns 1, or 0 if @p len >
 * COAP_TOKEN_EXT_MAX or no room.
 */
int pt_pdu_update_token(coap_pdu_t *pdu, size_t len, const uint8_t *data);

/* A new PDU holding an exact copy of @p src (header fields, token,
 * options, payload) in a buffer of just that size. NULL when out of
 * memory. The caller owns the result. */
coap_pdu_t *pt_pdu_clone(const coap_pdu_t *src);

/* Bytes pt_pdu_clone_into() needs for a copy of @p src. */
size_t pt_pdu_clone_size(const coap_pdu_t *src);

/* Builds an exact, read-only copy of @p src in @p mem (at least
 * pt_pdu_clone_size(src) bytes, aligned for coap_pdu_t), so that an owner
 * can keep a PDU in its own allocation. The copy cannot grow, and
 * coap_delete_pdu() leaves it alone: it goes when @p mem is freed. */
coap_pdu_t *pt_pdu_clone_into(const coap_pdu_t *src, void *mem);

/* Empties @p pdu (token, options, payload) and sets its header fields,
 * keeping the buffer and max_size. */
void pt_pdu_clear(coap_pdu_t *pdu, coap_pdu_type_t type, coap_pdu_code_t code,
                  coap_mid_t mid);

/* Start of the options (after the token) and their length up to the
 * payload marker or end. */
uint8_t *pt_pdu_opts(const coap_pdu_t *pdu, size_t *len);

#endif /* PETREL_PDU_H */
