/*
 * stream.h -- reassembling RFC 8323 messages from a TCP or TLS byte stream
 * (internal, sans-I/O).
 *
 * A connection delivers bytes in whatever pieces the network made; this
 * module turns them into whole CoAP messages, however they were split, and
 * never holds more than one message of at most max_size bytes: a header
 * announcing a bigger message is refused as soon as it is complete, before
 * any of its body is buffered (RFC 8323 5.3.1: the sender had our
 * Max-Message-Size; the connection is then aborted).
 *
 * A message that arrives whole in one piece is handed out in place, with
 * no copy; only a message split across pieces is copied, once.
 */
#ifndef PT_STREAM_H
#define PT_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Errors of pt_stream_next(); all negative. After one the stream is
 * unusable: the connection must be closed (with an Abort first when
 * TOO_BIG). */
typedef enum pt_stream_err {
  PT_STREAM_ERR_TOO_BIG = -1,   /* the next message exceeds max_size */
  PT_STREAM_ERR_MALFORMED = -2, /* TKL 15: not a CoAP header */
  PT_STREAM_ERR_NOMEM = -3,     /* no memory for a split message */
} pt_stream_err;

typedef struct pt_stream {
  uint8_t *buf;     /* a message split across pieces (owned), or NULL */
  size_t cap;       /* allocated size of buf */
  size_t fill;      /* bytes of that message received so far */
  size_t need;      /* its whole size once its header is in, else 0 */
  size_t max_size;  /* largest whole message (header included) taken */
  uint64_t refused; /* after TOO_BIG: the size that was announced */
} pt_stream;

/* Readies @s (caller's storage) to accept messages up to @max_size bytes,
 * header included. Allocates nothing. */
void pt_stream_init(pt_stream *s, size_t max_size);

/* Frees what @s holds (it may be initialised again). */
void pt_stream_free(pt_stream *s);

/*
 * Takes bytes from the piece *@in / *@in_len (borrowed), advancing both
 * past what it consumed, until one whole message is available. Returns 1
 * with *@msg and *@msg_len set to the message (pointing into the piece or
 * into @s: valid until the next call on @s, or until the piece changes);
 * 0 when the piece is used up without completing a message (the partial
 * message is kept for the next piece); or a negative pt_stream_err. Call
 * it again after each message until it returns 0: a piece may hold many.
 */
int pt_stream_next(pt_stream *s, const uint8_t **in, size_t *in_len,
                   const uint8_t **msg, size_t *msg_len);

/* Bytes @s holds for a partial message (0 between messages). */
size_t pt_stream_pending(const pt_stream *s);

#endif /* PT_STREAM_H */
