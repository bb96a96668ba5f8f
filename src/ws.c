/*
 * ws.c -- WebSocket frames (RFC 6455 section 5), see ws.h.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *   | |1|2|3|       |K|             |                               |
 *   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *   |     Extended payload length continued, if payload len == 127  |
 *   + - - - - - - - - - - - - - - - +-------------------------------+
 *   |                               |Masking-key, if MASK set to 1  |
 *   +-------------------------------+-------------------------------+
 *   | Masking-key (continued)       |          Payload Data         |
 *   +-------------------------------- - - - - - - - - - - - - - - - +
 *
 * RSV bits need a negotiated extension (none is); opcodes 3-7 and 11-15
 * are reserved; a length must use the fewest bytes and the 64-bit form's
 * top bit is 0; control frames (8-15) are final and carry at most 125
 * bytes; a client masks every frame and a server none (section 5.1). Any
 * breach is a protocol error (1002). CoAP travels in binary messages
 * only, so a text message is 1003 (RFC 8323 4.4).
 */
#include "ws.h"

#include <stdlib.h>
#include <string.h>

#define PT_WS_CLOSE_INTERNAL 1011u
/* A message buffer grown past this is freed once its message is out. */
#define PT_WS_KEEP 1024u

void pt_ws_decoder_init(pt_ws_decoder *d, int server, size_t max_message) {
  memset(d, 0, sizeof(*d));
  d->server = server ? 1 : 0;
  d->max_message = max_message;
}

void pt_ws_decoder_free(pt_ws_decoder *d) {
  free(d->msg);
  d->msg = NULL;
  d->msg_len = d->msg_cap = 0;
}

void pt_ws_decoder_scratch(pt_ws_decoder *d, uint8_t *buf, size_t cap) {
  d->scratch = buf;
  d->scratch_cap = buf ? cap : 0;
}

static int fail(pt_ws_decoder *d, pt_ws_event *ev, unsigned status) {
  d->done = 1;
  ev->kind = PT_WS_EV_ERROR;
  ev->status = (uint16_t)status;
  ev->data = NULL;
  ev->len = 0;
  return 1;
}

/* Bytes of frame header needed, judging by the @fill bytes read. */
static size_t hdr_need(const uint8_t *h, size_t fill) {
  if (fill < 2)
    return 2;
  unsigned l7 = h[1] & 0x7F;
  return 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (h[1] & 0x80 ? 4 : 0);
}

static uint64_t read_be(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

/* Checks the complete header in d->hdr and starts its frame. Returns 0 or
 * the status code to close with. */
static unsigned start_frame(pt_ws_decoder *d) {
  const uint8_t *h = d->hdr;
  unsigned fin = h[0] >> 7, op = h[0] & 0x0F, masked = h[1] >> 7;
  unsigned l7 = h[1] & 0x7F;
  size_t ext = l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
  uint64_t len = ext ? read_be(h + 2, ext) : l7;
  if (h[0] & 0x70 || masked != d->server)
    return PT_WS_CLOSE_PROTOCOL;
  if ((ext == 2 && len < 126) || (ext == 8 && (len < 65536 || len >> 63)))
    return PT_WS_CLOSE_PROTOCOL; /* not the shortest form */
  if (op >= PT_WS_OP_CLOSE) {
    if (op > PT_WS_OP_PONG || !fin || len > PT_WS_CONTROL_MAX)
      return PT_WS_CLOSE_PROTOCOL;
    d->ctl_len = 0;
  } else {
    if (op > PT_WS_OP_BINARY || (op == PT_WS_OP_CONT) != d->open)
      return PT_WS_CLOSE_PROTOCOL; /* reserved, or fragments out of order */
    if (op == PT_WS_OP_TEXT)
      return PT_WS_CLOSE_UNSUPPORTED;
    if (len > d->max_message - d->msg_len)
      return PT_WS_CLOSE_TOO_BIG;
  }
  if (masked)
    memcpy(d->mask, h + 2 + ext, 4);
  d->opcode = (uint8_t)op;
  d->fin = (uint8_t)fin;
  d->masked = (uint8_t)masked;
  d->remaining = len;
  d->pos = 0;
  d->in_frame = 1;
  return 0;
}

/* Room for @n more message bytes, grown as bytes arrive (never ahead of
 * them: a header announcing a big frame costs nothing until it is sent). */
static int reserve(pt_ws_decoder *d, size_t n) {
  size_t want = d->msg_len + n;
  if (want <= d->msg_cap)
    return 1;
  size_t cap = d->msg_cap ? d->msg_cap * 2 : 256;
  if (cap < want)
    cap = want;
  if (cap > d->max_message)
    cap = d->max_message;
  uint8_t *p = realloc(d->msg, cap);
  if (!p)
    return 0;
  d->msg = p;
  d->msg_cap = cap;
  return 1;
}

static int valid_close_code(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

/* The frame just ended: fills @ev and returns 1 when it completes an
 * event, else 0. */
static int finish_frame(pt_ws_decoder *d, pt_ws_event *ev) {
  d->in_frame = 0;
  ev->status = 0;
  ev->data = d->ctl;
  ev->len = d->ctl_len;
  switch (d->opcode) {
  case PT_WS_OP_PING:
    ev->kind = PT_WS_EV_PING;
    return 1;
  case PT_WS_OP_PONG:
    ev->kind = PT_WS_EV_PONG;
    return 1;
  case PT_WS_OP_CLOSE: /* section 5.5.1 */
    if (d->ctl_len == 1)
      return fail(d, ev, PT_WS_CLOSE_PROTOCOL);
    ev->status = PT_WS_CLOSE_NO_STATUS;
    if (d->ctl_len >= 2) {
      ev->status = (uint16_t)(d->ctl[0] << 8 | d->ctl[1]);
      if (!valid_close_code(ev->status))
        return fail(d, ev, PT_WS_CLOSE_PROTOCOL);
      if (!pt_ws_utf8_valid(d->ctl + 2, d->ctl_len - 2))
        return fail(d, ev, PT_WS_CLOSE_INVALID_DATA);
      ev->data = d->ctl + 2;
      ev->len = d->ctl_len - 2;
    }
    d->done = 1;
    ev->kind = PT_WS_EV_CLOSE;
    return 1;
  default:
    d->open = !d->fin;
    if (d->open)
      return 0;
    ev->kind = PT_WS_EV_MESSAGE;
    ev->data = d->in_scratch ? d->scratch : d->msg;
    ev->len = d->msg_len;
    d->msg_len = 0; /* the next call may reuse the buffer */
    d->in_scratch = 0;
    return 1;
  }
}

/* Copies payload bytes of the current frame; returns 0 or a status. */
static unsigned payload(pt_ws_decoder *d, const uint8_t **in, size_t *in_len) {
  size_t n = d->remaining < *in_len ? (size_t)d->remaining : *in_len;
  uint8_t *dst;
  if (n == 0)
    return 0;
  if (d->opcode >= PT_WS_OP_CLOSE) {
    dst = d->ctl + d->ctl_len;
    d->ctl_len += n;
  } else if (d->fin && d->opcode != PT_WS_OP_CONT && !d->pos &&
             n == d->remaining && n <= d->scratch_cap) {
    dst = d->scratch; /* a whole message, whole in this piece */
    d->in_scratch = 1;
    d->msg_len = n;
  } else {
    if (!reserve(d, n))
      return PT_WS_CLOSE_INTERNAL;
    dst = d->msg + d->msg_len;
    d->msg_len += n;
  }
  memcpy(dst, *in, n);
  if (d->masked)
    pt_ws_mask(dst, n, d->mask, d->pos);
  d->pos += n;
  d->remaining -= n;
  *in += n;
  *in_len -= n;
  return 0;
}

int pt_ws_next(pt_ws_decoder *d, const uint8_t **in, size_t *in_len,
               pt_ws_event *ev) {
  if (d->done)
    return 0;
  /* Between messages the buffer goes if the last message was a big one,
   * or was split while a scratch buffer is lent (whole ones need none). */
  if (!d->open && !d->in_frame && d->msg_cap &&
      (d->scratch || d->msg_cap > PT_WS_KEEP))
    pt_ws_decoder_free(d);
  for (;;) {
    if (!d->in_frame) {
      size_t need = hdr_need(d->hdr, d->hdr_fill);
      while (d->hdr_fill < need && *in_len) {
        d->hdr[d->hdr_fill++] = **in;
        (*in)++, (*in_len)--;
        need = hdr_need(d->hdr, d->hdr_fill);
      }
      if (d->hdr_fill < need)
        return 0;
      d->hdr_fill = 0;
      unsigned status = start_frame(d);
      if (status)
        return fail(d, ev, status);
    }
    unsigned status = payload(d, in, in_len);
    if (status)
      return fail(d, ev, status);
    if (d->remaining)
      return 0; /* the bytes ran out mid-frame */
    if (finish_frame(d, ev))
      return 1;
  }
}

/* ---- writing ---- */

size_t pt_ws_frame_header(uint8_t *out, unsigned opcode, uint64_t len,
                          const uint8_t mask[4]) {
  size_t n = 2;
  out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
  if (len < 126) {
    out[1] = (uint8_t)len;
  } else if (len < 65536) {
    out[1] = 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    n = 4;
  } else {
    out[1] = 127;
    for (int i = 0; i < 8; i++)
      out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    n = 10;
  }
  if (mask) {
    out[1] |= 0x80;
    memcpy(out + n, mask, 4);
    n += 4;
  }
  return n;
}

void pt_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4],
                uint64_t pos) {
  for (size_t i = 0; i < len; i++)
    data[i] ^= mask[(pos + i) & 3];
}

size_t pt_ws_close_payload(uint8_t *out, uint16_t status, const char *reason) {
  size_t n = reason ? strlen(reason) : 0;
  if (n > PT_WS_CONTROL_MAX - 2)
    n = PT_WS_CONTROL_MAX - 2;
  out[0] = (uint8_t)(status >> 8);
  out[1] = (uint8_t)status;
  if (n)
    memcpy(out + 2, reason, n);
  return 2 + n;
}

int pt_ws_utf8_valid(const uint8_t *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    uint8_t c = s[i];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xE0) == 0xC0)
      n = 1, cp = c & 0x1Fu, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
      n = 2, cp = c & 0x0Fu, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
      n = 3, cp = c & 0x07u, min = 0x10000;
    else
      return 0;
    if (len - i - 1 < n)
      return 0;
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
      cp = cp << 6 | (s[i + k] & 0x3Fu);
    }
    /* overlong forms, surrogates and code points past Unicode */
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += n + 1;
  }
  return 1;
}
