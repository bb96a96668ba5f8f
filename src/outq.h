/*
 * outq.h -- a connection's queue of bytes waiting for its socket, with a
 * cap (internal, sans-I/O).
 *
 * A stream transport writes what the socket takes and queues the rest. A
 * peer that stops reading would otherwise make the queue grow without
 * bound; past the cap, pt_outq_push() refuses and the transport closes the
 * connection (back-pressure by disconnection: the data could never be
 * delivered in time anyway). The cap counts queued payload bytes, not the
 * few bytes of bookkeeping per chunk.
 */
#ifndef PT_OUTQ_H
#define PT_OUTQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct pt_outq_chunk pt_outq_chunk;

typedef struct pt_outq {
  pt_outq_chunk *head, *tail; /* oldest first (owned) */
  size_t bytes;               /* queued and not yet written */
  size_t cap;                 /* most bytes it may hold */
} pt_outq;

/* pt_outq_push() results. */
enum {
  PT_OUTQ_OK = 0,
  PT_OUTQ_FULL = -1,  /* past the cap: nothing was queued; close */
  PT_OUTQ_NOMEM = -2, /* nothing was queued */
};

/* Readies @q (caller's storage) to hold at most @cap bytes. */
void pt_outq_init(pt_outq *q, size_t cap);

/* Frees every queued chunk (the bytes are dropped). */
void pt_outq_free(pt_outq *q);

/* Queues copies of @a (@alen bytes) followed by @b (@blen bytes), both
 * borrowed and either may be empty, as one chunk: both or neither. Returns
 * PT_OUTQ_OK, PT_OUTQ_FULL or PT_OUTQ_NOMEM. */
int pt_outq_push(pt_outq *q, const uint8_t *a, size_t alen, const uint8_t *b,
                 size_t blen);

/* The oldest unwritten bytes: sets *@data (into the queue, valid until the
 * next push, consume or free) and returns how many are contiguous there;
 * 0 when the queue is empty. */
size_t pt_outq_peek(const pt_outq *q, const uint8_t **data);

/* The socket took @n bytes (at most what pt_outq_peek() returned): drops
 * them, freeing chunks that are done. */
void pt_outq_consume(pt_outq *q, size_t n);

/* Bytes queued. */
size_t pt_outq_bytes(const pt_outq *q);

#endif /* PT_OUTQ_H */
