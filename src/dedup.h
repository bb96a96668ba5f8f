/*
 * dedup.h -- remembering received message IDs (internal; RFC 7252 4.5).
 *
 * For every Confirmable or Non-confirmable message received with a
 * request or response code, Petrel remembers (session, Message ID) for
 * EXCHANGE_LIFETIME, together with what it answered: the piggybacked
 * response or ACK bytes to send again, or that the answer was an Empty
 * ACK (a separate response is pending). A duplicate is answered from here
 * without running any handler.
 *
 * Entries of one session form a FIFO in arrival order, which is also
 * expiry order, so expiry and the per-session cap pop from the head and
 * nothing is ever scanned. While a session's IDs are consecutive, a
 * lookup is one comparison; otherwise one probe of the session's own table
 * (dedup.c).
 *
 * All entries of the context also form one list in arrival order. When
 * the context is at its cap, the oldest entry of that list is forgotten to
 * make room for the new one, so the newest messages -- those a
 * retransmission repeats -- are always remembered. Entries leave a
 * session's FIFO only at its head, so the context's oldest entry is always
 * the head of its own session's FIFO, and forgetting it is the same pop as
 * expiry's.
 *
 * Memory (dedup.c, "entry memory"): what a new message reads and writes
 * -- the links, the expiry, the ID and an answer of up to
 * PT_DEDUP_INLINE_REPLY bytes -- is one 64-byte entry on a cache line of
 * its own; the session index node and the session pointer, needed only
 * for out-of-sequence IDs and at the context cap, are 32 bytes beside it
 * in the same slab. 96 bytes per remembered message, plus the answer
 * when it is longer than PT_DEDUP_INLINE_REPLY.
 */
#ifndef PT_DEDUP_H
#define PT_DEDUP_H

#include <stdint.h>
#include <string.h>

#include "coap3/coap.h"

#include "hashmap.h"
#include "session.h"
#include "timer.h"

typedef enum pt_dedup_state {
  PT_DEDUP_SEEN,      /* nothing answered (NON, or answer still to come) */
  PT_DEDUP_EMPTY_ACK, /* answered with an Empty ACK */
  PT_DEDUP_REPLY,     /* answered with the datagram stored in reply */
  PT_DEDUP_RST        /* answered with a Reset */
} pt_dedup_state;

typedef struct pt_dedup pt_dedup;

/* Answers up to this size are kept inside the entry: a piggybacked
 * response with an 8-byte token, one one-byte option and a 12-byte
 * payload (26 bytes) still fits. A larger one is allocated (the entry then
 * holds its pointer). Entries are allocated PT_DEDUP_SLAB at a time, in
 * slabs of PT_DEDUP_SLAB_BYTES aligned to their size, and reused (dedup.c,
 * "entry memory"), so a steady stream of requests allocates nothing
 * here. */
#define PT_DEDUP_INLINE_REPLY 26
#define PT_DEDUP_SLAB 84
#define PT_DEDUP_SLAB_BYTES 8192

/* One cache line: all that adding, rotating and answering a message
 * touches (see "Memory" above). */
struct pt_dedup {
  /* The session's FIFO, circular: the tail's next is the head. */
  struct pt_dedup *next;
  /* The context's arrival order. The oldest entry's older and the newest
   * entry's newer are not kept (ctx->dedup_oldest and dedup_newest say
   * which they are), so that taking the oldest writes no other entry. */
  struct pt_dedup *older, *newer;
  coap_tick_t expires;
  uint16_t mid;
  uint8_t state; /* pt_dedup_state */
  uint16_t reply_len;
  /* The datagram (see pt_dedup_reply()): up to PT_DEDUP_INLINE_REPLY
   * bytes here; a larger one is allocated, owned, and its pointer is
   * stored in the first bytes (unaligned: read with memcpy). */
  uint8_t reply[PT_DEDUP_INLINE_REPLY];
} __attribute__((aligned(64)));

/* What an entry needs only off the fast path, beside it in its slab. */
struct pt_dedup_cold {
  pt_hash_node node;       /* session->dedup_map by MID (when indexed) */
  coap_session_t *session; /* borrowed: entries die with the session */
};

struct pt_dedup_slab {
  pt_dedup e[PT_DEDUP_SLAB];
  struct pt_dedup_cold cold[PT_DEDUP_SLAB]; /* cold[i] is e[i]'s */
  struct pt_dedup_slab *next;               /* ctx->dedup_slabs */
  unsigned used; /* e[0 .. used - 1] have been handed out */
};

_Static_assert(sizeof(pt_dedup) == 64, "an entry is one cache line");
_Static_assert(sizeof(struct pt_dedup_slab) <= PT_DEDUP_SLAB_BYTES,
               "a slab fits its aligned block");

/* The slab of @p, an entry or its cold part. */
static inline struct pt_dedup_slab *pt_dedup_slab_of(const void *p) {
  return (struct pt_dedup_slab *)((uintptr_t)p &
                                  ~(uintptr_t)(PT_DEDUP_SLAB_BYTES - 1));
}

static inline struct pt_dedup_cold *pt_dedup_cold_of(const pt_dedup *d) {
  struct pt_dedup_slab *b = pt_dedup_slab_of(d);
  return &b->cold[d - b->e];
}

/* The session @d belongs to (borrowed). */
static inline coap_session_t *pt_dedup_session(const pt_dedup *d) {
  return pt_dedup_cold_of(d)->session;
}

/* The stored answer of @d (reply_len bytes; borrowed, NULL if none). */
static inline const uint8_t *pt_dedup_reply(const pt_dedup *d) {
  if (!d->reply_len)
    return NULL;
  if (d->reply_len <= PT_DEDUP_INLINE_REPLY)
    return d->reply;
  const uint8_t *heap;
  memcpy(&heap, d->reply, sizeof(heap));
  return heap;
}

/* pt_dedup_find() past its first test (dedup.c). */
pt_dedup *pt_dedup_lookup(coap_session_t *session, coap_mid_t mid,
                          coap_tick_t now);

/* The entry for (@session, @mid) if it has not expired at @now, else NULL.
 * While the session's IDs are a run (dedup.c), an ID outside it -- every
 * new one from a peer that counts its IDs -- is told new here from the
 * session alone, without a call. */
static inline pt_dedup *pt_dedup_find(coap_session_t *session, coap_mid_t mid,
                                      coap_tick_t now) {
  if (!session->dedup_indexed &&
      (uint16_t)((uint16_t)mid - session->dedup_lo) >= session->dedup_count)
    return NULL;
  return pt_dedup_lookup(session, mid, now);
}

/* Remembers (@session, @mid) until @now + EXCHANGE_LIFETIME. First frees
 * the session's expired entries; then, while the session holds
 * dedup_per_session entries, its oldest; then, while the context holds
 * dedup_max_total, the context's oldest (of whichever session). Returns
 * the entry (borrowed: freed by its expiry, a later pt_dedup_add() on the
 * same context or the session's purge), or NULL -- the message is then handled
 * without duplicate protection -- when either cap is 0 (deduplication is off)
 * or memory is short. */
pt_dedup *pt_dedup_add(coap_session_t *session, coap_mid_t mid,
                       coap_tick_t now);

/* Records what was answered. @data is copied. */
void pt_dedup_set_reply(pt_dedup *d, pt_dedup_state state, const uint8_t *data,
                        size_t len);

/* The session's dedup timer: frees the entries that expired by @now and
 * re-arms for the next, so that an idle session holds none after
 * EXCHANGE_LIFETIME. */
void pt_dedup_expire_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now);

/* Frees the context's entry memory (it is being freed, or remembers no
 * entry any more): every entry must be a spare. */
void pt_dedup_free_spares(coap_context_t *ctx);

/* Forgets every entry of @session (it is closing). */
void pt_dedup_purge_session(coap_session_t *session);

/* EXCHANGE_LIFETIME for @session's transmission parameters, in ticks,
 * computed (duplicate detection keeps it in session->exchange_lifetime). */
coap_tick_t pt_exchange_lifetime(const coap_session_t *session);

#endif /* PT_DEDUP_H */
