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
 * nothing is ever scanned. Lookup is one hash probe.
 */
#ifndef PT_DEDUP_H
#define PT_DEDUP_H

#include "coap3/coap.h"

#include "hashmap.h"
#include "timer.h"

typedef enum pt_dedup_state {
  PT_DEDUP_SEEN,      /* nothing answered (NON, or answer still to come) */
  PT_DEDUP_EMPTY_ACK, /* answered with an Empty ACK */
  PT_DEDUP_REPLY,     /* answered with the datagram stored in reply */
  PT_DEDUP_RST        /* answered with a Reset */
} pt_dedup_state;

typedef struct pt_dedup pt_dedup;

struct pt_dedup {
  pt_hash_node node;          /* context->dedup by (session, MID) */
  struct pt_dedup *next;      /* the session's FIFO */
  coap_session_t *session;    /* borrowed: entries die with the session */
  coap_tick_t expires;
  coap_mid_t mid;
  uint8_t state;              /* pt_dedup_state */
  uint16_t reply_len;
  uint8_t *reply;             /* owned datagram, or NULL */
};

/* The entry for (@session, @mid) if it has not expired at @now, else NULL. */
pt_dedup *pt_dedup_find(coap_session_t *session, coap_mid_t mid,
                        coap_tick_t now);

/* Remembers (@session, @mid) until @now + EXCHANGE_LIFETIME, evicting the
 * session's expired or oldest entries first. Returns the entry (borrowed),
 * or NULL when the context-wide cap is reached or memory is short: the
 * message is then handled without duplicate protection. */
pt_dedup *pt_dedup_add(coap_session_t *session, coap_mid_t mid,
                       coap_tick_t now);

/* Records what was answered. @data is copied. */
void pt_dedup_set_reply(pt_dedup *d, pt_dedup_state state,
                        const uint8_t *data, size_t len);

/* The session's dedup timer: frees the entries that expired by @now and
 * re-arms for the next, so that an idle session holds none after
 * EXCHANGE_LIFETIME. */
void pt_dedup_expire_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now);

/* Forgets every entry of @session (it is closing). */
void pt_dedup_purge_session(coap_session_t *session);

/* EXCHANGE_LIFETIME for @session's transmission parameters, in ticks. */
coap_tick_t pt_exchange_lifetime(const coap_session_t *session);

#endif /* PT_DEDUP_H */
