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
 * expiry's. The list costs two pointers (16 bytes) per entry.
 */
#ifndef PT_DEDUP_H
#define PT_DEDUP_H

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

/* Answers up to this size (a piggybacked response with a short payload)
 * are kept inside the entry; larger ones are allocated. Entries are
 * allocated PT_DEDUP_SLAB at a time and reused (dedup.c, "entry memory"),
 * so a steady stream of requests allocates nothing here. */
#define PT_DEDUP_INLINE_REPLY 32
#define PT_DEDUP_SLAB 64

struct pt_dedup {
  pt_hash_node node;              /* session->dedup_map by MID */
  struct pt_dedup *next;          /* the session's FIFO */
  struct pt_dedup *older, *newer; /* the context's arrival order */
  coap_session_t *session;        /* borrowed: entries die with the session */
  coap_tick_t expires;
  coap_mid_t mid;
  uint8_t state; /* pt_dedup_state */
  uint16_t reply_len;
  union {                              /* the datagram (see pt_dedup_reply()) */
    uint8_t in[PT_DEDUP_INLINE_REPLY]; /* up to that size */
    uint8_t *heap;                     /* owned, when larger */
  } reply;
};

/* The stored answer of @d (reply_len bytes; borrowed, NULL if none). */
static inline const uint8_t *pt_dedup_reply(const pt_dedup *d) {
  if (!d->reply_len)
    return NULL;
  return d->reply_len <= PT_DEDUP_INLINE_REPLY ? d->reply.in : d->reply.heap;
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
