/*
 * stream.c -- RFC 8323 messages out of a TCP or TLS byte stream (see
 * stream.h). The header (section 3.2, at most PT_TCP_HDR_MAX bytes) gives
 * each message's size; pdu_tcp.c reads it.
 */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

#include "pdu.h"

/* A buffer grown past this for one big message is freed once that message
 * is handed out, so an idle connection holds at most this much. */
#define PT_STREAM_KEEP 1024u

void pt_stream_init(pt_stream *s, size_t max_size) {
  memset(s, 0, sizeof(*s));
  s->max_size = max_size;
}

void pt_stream_free(pt_stream *s) {
  free(s->buf);
  s->buf = NULL;
  s->cap = s->fill = s->need = 0;
}

size_t pt_stream_pending(const pt_stream *s) {
  return s->fill;
}

/* Room for @size bytes, grown by doubling up to @limit as bytes arrive
 * (never ahead of them: a header announcing a big message costs nothing
 * until the message is sent). */
static int reserve(pt_stream *s, size_t size, size_t limit) {
  if (size <= s->cap)
    return 1;
  size_t cap = s->cap * 2 > size ? s->cap * 2 : size;
  if (cap > limit)
    cap = limit;
  uint8_t *buf = realloc(s->buf, cap);
  if (!buf)
    return 0;
  s->buf = buf;
  s->cap = cap;
  return 1;
}

static void take(const uint8_t **in, size_t *in_len, size_t n) {
  *in += n;
  *in_len -= n;
}

/* Reads the header once it is complete in the buffer: sets need. Returns
 * 0 (complete, or more bytes wanted) or a pt_stream_err. */
static int header(pt_stream *s) {
  uint64_t size = 0;
  int hdr = pt_tcp_frame_size(s->buf, s->fill, &size);
  if (hdr < 0)
    return PT_STREAM_ERR_MALFORMED;
  if (hdr == 0)
    return 0;
  if (size > s->max_size) {
    s->refused = size;
    return PT_STREAM_ERR_TOO_BIG;
  }
  s->need = (size_t)size;
  return 0;
}

/* The slow path: copies the message in, a header byte at a time (at most
 * PT_TCP_HDR_MAX of them) and then as much of the rest as there is. */
static int assemble(pt_stream *s, const uint8_t **in, size_t *in_len,
                    const uint8_t **msg, size_t *msg_len) {
  while (*in_len) {
    size_t want = s->need ? s->need - s->fill : 1;
    size_t n = want < *in_len ? want : *in_len;
    if (!reserve(s, s->fill + n, s->need ? s->need : PT_TCP_HDR_MAX))
      return PT_STREAM_ERR_NOMEM;
    memcpy(s->buf + s->fill, *in, n);
    s->fill += n;
    take(in, in_len, n);
    if (!s->need) {
      int rc = header(s);
      if (rc < 0)
        return rc;
    }
    if (s->need && s->fill == s->need) {
      *msg = s->buf;
      *msg_len = s->need;
      s->fill = s->need = 0;
      return 1;
    }
  }
  return 0;
}

int pt_stream_next(pt_stream *s, const uint8_t **in, size_t *in_len,
                   const uint8_t **msg, size_t *msg_len) {
  if (s->fill == 0) {
    if (s->cap > PT_STREAM_KEEP) /* the last message was a big one */
      pt_stream_free(s);
    if (*in_len == 0)
      return 0;
    /* The fast path: a whole message at the start of the piece. */
    uint64_t size = 0;
    int hdr = pt_tcp_frame_size(*in, *in_len, &size);
    if (hdr < 0)
      return PT_STREAM_ERR_MALFORMED;
    if (hdr > 0 && size > s->max_size) {
      s->refused = size;
      return PT_STREAM_ERR_TOO_BIG;
    }
    if (hdr > 0 && size <= *in_len) {
      *msg = *in;
      *msg_len = (size_t)size;
      take(in, in_len, (size_t)size);
      return 1;
    }
  }
  return assemble(s, in, in_len, msg, msg_len);
}
