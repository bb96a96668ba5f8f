/*
 * exchange.h -- messages Petrel sends and keeps (internal; RFC 7252 4.2,
 * 4.7, 5.3.2).
 *
 * An exchange holds one outgoing PDU that needs more than a single send:
 * - a Confirmable message awaiting its ACK or RST, retransmitted with
 *   exponential back-off (in context->exchanges_mid by (session, MID)),
 *   or queued behind the session's NSTART limit;
 * - a client request awaiting its response, found again by token (in
 *   context->exchanges_token by (session, token)).
 * A client CON request is both at first. Each has one timer: the next
 * retransmission while unacknowledged, then the give-up time while a
 * response is awaited.
 */
#ifndef PT_EXCHANGE_H
#define PT_EXCHANGE_H

#include "coap3/coap.h"

#include "hashmap.h"
#include "timer.h"

typedef struct pt_exchange pt_exchange;

struct pt_exchange {
  pt_hash_node by_mid;
  pt_hash_node by_token;
  pt_timer timer;
  coap_session_t *session;     /* holds a reference */
  coap_pdu_t *pdu;             /* owned */
  pt_exchange *next_wait;      /* the session's NSTART queue */
  pt_exchange *prev, *next;    /* all of the session's exchanges */
  coap_tick_t interval;        /* current retransmission interval */
  coap_mid_t mid;
  uint8_t retransmits;
  uint8_t awaiting_ack : 1;    /* in exchanges_mid, counted in con_active */
  uint8_t waiting : 1;         /* queued behind NSTART */
  uint8_t awaiting_response : 1; /* in exchanges_token */
  uint8_t keepalive : 1;       /* the session's keepalive ping */
  uint8_t observe : 1;         /* a registration: keep for notifications */
  uint8_t ext_probe : 1;       /* the extended-token probe (ext_token.c) */
  uint8_t bad_response : 1;    /* a piggybacked response was rejected
                                  (RFC 7252 5.4.1): fail with
                                  COAP_NACK_BAD_RESPONSE */
  uint8_t obs_seen : 1;        /* obs_seq/obs_time hold a notification */
  uint8_t obs_live : 1;        /* client: an established observation. It
                                  holds no session reference (freeing the
                                  session cancels it), and its timer is the
                                  Max-Age expiry of the latest notification
                                  (RFC 7641 3.3.1) */
  uint32_t obs_seq;            /* client: Observe value of the latest one */
  coap_tick_t obs_time;        /* client: when it arrived (RFC 7641 3.4) */
  coap_tick_t obs_expire;      /* client: when it stops being fresh */
  coap_subscription_t *sub;    /* server: the observer this CON notifies */
  uint8_t answered : 1;        /* a request to a group got an answer */
};

/*
 * Sends @pdu on @session at @now, taking ownership of it. A CON is kept and
 * retransmitted until acknowledged (or queued while NSTART CONs are in
 * flight); a client request is kept until its response arrives. Returns the
 * message ID, or COAP_INVALID_MID on failure (the PDU is freed).
 */
coap_mid_t pt_exchange_send(coap_session_t *session, coap_pdu_t *pdu,
                            coap_tick_t now);

/* As pt_exchange_send() for a CON that is not a client request (a
 * notification), returning the exchange that keeps it (borrowed: it lives
 * until acknowledged or failed), or NULL on failure (the PDU is freed).
 * On a reliable session it is sent once and nothing is kept: NULL. */
pt_exchange *pt_exchange_send_con(coap_session_t *session, coap_pdu_t *pdu,
                                  coap_tick_t now);

/* RFC 7641 4.5.2: @pdu (ownership taken, a CON with a fresh MID) takes the
 * place of the CON of @ex, which is not retransmitted any more. It goes
 * out now if @ex was sent (else when NSTART lets it), and keeps @ex's
 * retransmission count, interval and deadline, so that replacing never
 * delays giving up on a peer that does not answer. */
void pt_exchange_replace(pt_exchange *ex, coap_pdu_t *pdu, coap_tick_t now);

/* The unacknowledged CON sent on @session with @mid, or NULL. */
pt_exchange *pt_exchange_by_mid(coap_session_t *session, coap_mid_t mid);

/* The client request on @session awaiting a response with @token, or NULL. */
pt_exchange *pt_exchange_by_token(coap_session_t *session,
                                  const coap_bin_const_t *token);

/* The CON was acknowledged (Empty ACK or piggybacked response): stops its
 * retransmission and lets the next queued CON go. Frees the exchange
 * unless a response is still awaited (then its give-up timer starts). */
void pt_exchange_acked(pt_exchange *ex, coap_tick_t now);

/* The response for a client request has been handled: frees the exchange
 * (unless it is an observe registration, or a request to a group: more
 * members may answer until its lifetime ends, RFC 7252 8.2). An
 * observation becomes live (obs_live): its session reference is dropped,
 * which may free the session (and @ex with it) when no one else holds it,
 * and its timer is set to ex->obs_expire. */
void pt_exchange_done(pt_exchange *ex, coap_tick_t now);

/* RFC 7641 3.3.1: sends the live observation @ex's registration again,
 * same token and options, with a new message ID, and awaits its answer as
 * for a new request (a CON is retransmitted; no answer fails it with the
 * NACK handler called). */
void pt_exchange_reregister(pt_exchange *ex, coap_tick_t now);

/* Frees what is left of @session's exchanges (live observations, which
 * hold no reference), silently: the session is being freed. */
void pt_exchange_free_session(coap_session_t *session);

/* Ends @ex without an answer: reports @reason to the NACK handler and
 * frees it. */
void pt_exchange_fail(pt_exchange *ex, coap_nack_reason_t reason,
                      coap_tick_t now);

/* Fails every exchange of @session with @reason (the session is closing). */
void pt_exchange_fail_session(coap_session_t *session,
                              coap_nack_reason_t reason);

/* Sends the bytes of @pdu once, without keeping it. Returns 0 or -1. */
int pt_send_pdu(coap_session_t *session, coap_pdu_t *pdu);

/* Sends an Empty ACK or RST with @mid. Returns 0 or -1. */
int pt_send_empty(coap_session_t *session, coap_pdu_type_t type,
                  coap_mid_t mid);

#endif /* PT_EXCHANGE_H */
