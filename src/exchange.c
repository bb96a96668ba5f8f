/*
 * exchange.c -- outgoing messages kept for retransmission or for matching
 * their response (RFC 7252 sections 4.2, 4.7 and 5.3.2).
 */
#include <stdlib.h>
#include <string.h>

#include "exchange.h"

#include "block.h"
#include "context.h"
#include "dedup.h"
#include "ext_token.h"
#include "link.h"
#include "observe.h"
#include "keepalive.h"
#include "pdu.h"
#include "plimits.h"
#include "session.h"
#include "tcp.h"

/* ---- keys ---------------------------------------------------------------- */

typedef struct mid_key {
  const coap_session_t *session;
  coap_mid_t mid;
} mid_key;

typedef struct token_key {
  const coap_session_t *session;
  const coap_bin_const_t *token;
} token_key;

static uint32_t mid_hash(const coap_session_t *s, coap_mid_t mid) {
  return pt_hash_mix(s->hash, (uint32_t)mid);
}

static uint32_t token_hash(const coap_session_t *s, const coap_bin_const_t *t) {
  return pt_hash_bytes(t->s, t->length, s->hash);
}

static int mid_eq(const pt_hash_node *n, const void *key) {
  const pt_exchange *ex = PT_CONTAINER_OF(n, pt_exchange, by_mid);
  const mid_key *k = key;
  return ex->session == k->session && ex->mid == k->mid;
}

static int token_eq(const pt_hash_node *n, const void *key) {
  const pt_exchange *ex = PT_CONTAINER_OF(n, pt_exchange, by_token);
  const token_key *k = key;
  if (ex->session != k->session)
    return 0;
  coap_bin_const_t t = coap_pdu_get_token(ex->pdu);
  return coap_binary_equal(&t, k->token);
}

pt_exchange *pt_exchange_by_mid(coap_session_t *s, coap_mid_t mid) {
  mid_key k = {s, mid};
  pt_hash_node *n = pt_hashmap_find(&s->context->exchanges_mid,
                                    mid_hash(s, mid), mid_eq, &k);
  return n ? PT_CONTAINER_OF(n, pt_exchange, by_mid) : NULL;
}

pt_exchange *pt_exchange_by_token(coap_session_t *s,
                                  const coap_bin_const_t *token) {
  token_key k = {s, token};
  pt_hash_node *n = pt_hashmap_find(&s->context->exchanges_token,
                                    token_hash(s, token), token_eq, &k);
  return n ? PT_CONTAINER_OF(n, pt_exchange, by_token) : NULL;
}

/* ---- sending bytes --------------------------------------------------------- */

int pt_send_pdu(coap_session_t *s, coap_pdu_t *pdu) {
  const uint8_t *data;
  size_t len;
  if (!pt_pdu_wire_proto(pdu, s->proto, &data, &len))
    return -1;
  return pt_send_bytes(s, data, len) < 0 ? -1 : 0;
}

int pt_send_empty(coap_session_t *s, coap_pdu_type_t type, coap_mid_t mid) {
  if (pt_session_reliable(s))
    return 0; /* RFC 8323 3: no ACK or RST exists on a reliable transport */
  uint8_t msg[4] = {(uint8_t)(0x40 | (type << 4)), 0, (uint8_t)(mid >> 8),
                    (uint8_t)mid};
  return pt_send_bytes(s, msg, sizeof(msg)) < 0 ? -1 : 0;
}

/* ---- lifetime ------------------------------------------------------------- */

static void on_timer(coap_context_t *ctx, pt_timer *t, coap_tick_t now);

static pt_exchange *exchange_new(coap_session_t *s, coap_pdu_t *pdu) {
  pt_exchange *ex = calloc(1, sizeof(*ex));
  if (!ex)
    return NULL;
  pt_hash_node_init(&ex->by_mid);
  pt_hash_node_init(&ex->by_token);
  pt_timer_init(&ex->timer, on_timer);
  ex->session = coap_session_reference(s);
  ex->pdu = pdu;
  ex->mid = coap_pdu_get_mid(pdu);
  ex->next = s->exchanges;
  if (s->exchanges)
    s->exchanges->prev = ex;
  s->exchanges = ex;
  s->context->exchange_count++;
  return ex;
}

static void unqueue_wait(coap_session_t *s, pt_exchange *ex) {
  pt_exchange **pp = &s->wait_head;
  pt_exchange *prev = NULL;
  /* The NSTART queue is short (bounded by max_wait_per_session) and only
   * an exchange failed while still queued is unlinked from its middle. */
  while (*pp && *pp != ex) {
    prev = *pp;
    pp = &(*pp)->next_wait;
  }
  if (!*pp)
    return;
  *pp = ex->next_wait;
  if (s->wait_tail == ex)
    s->wait_tail = prev;
  ex->waiting = 0;
  s->wait_count--;
}

static void start_next_waiting(coap_session_t *s, coap_tick_t now);

static void exchange_free(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  coap_context_t *ctx = s->context;
  pt_observe_exchange_gone(ex); /* a notification's observer forgets it */
  pt_timer_cancel(ctx, &ex->timer);
  pt_hashmap_remove(&ctx->exchanges_mid, &ex->by_mid);
  pt_hashmap_remove(&ctx->exchanges_token, &ex->by_token);
  if (ex->waiting)
    unqueue_wait(s, ex);
  if (ex->prev)
    ex->prev->next = ex->next;
  else
    s->exchanges = ex->next;
  if (ex->next)
    ex->next->prev = ex->prev;
  int freed_slot = ex->awaiting_ack;
  int held_ref = !ex->obs_live;
  if (ex->keepalive)
    s->ka_outstanding = 0;
  coap_delete_pdu(ex->pdu);
  free(ex);
  ctx->exchange_count--;
  if (freed_slot) {
    s->con_active--;
    start_next_waiting(s, now);
  }
  if (pt_session_link(s)->settled) /* TCP: a released one may close */
    pt_session_link(s)->settled(s);
  if (held_ref)
    coap_session_release(s);
}

/* ---- retransmission ---------------------------------------------------- */

static int transmit_con(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  ex->awaiting_ack = 1;
  s->con_active++;
  if (pt_hashmap_insert(&s->context->exchanges_mid, &ex->by_mid,
                        mid_hash(s, ex->mid)) < 0)
    return -1;
  ex->interval = pt_keepalive_cap(s->context, pt_session_initial_timeout(s));
  if (pt_timer_arm(s->context, &ex->timer, now + ex->interval) < 0)
    return -1;
  pt_send_pdu(s, ex->pdu); /* a lost first send is what retransmission is for */
  return 0;
}

static void start_next_waiting(coap_session_t *s, coap_tick_t now) {
  while (s->wait_head && s->con_active < s->nstart) {
    pt_exchange *ex = s->wait_head;
    s->wait_head = ex->next_wait;
    if (!s->wait_head)
      s->wait_tail = NULL;
    ex->waiting = 0;
    s->wait_count--;
    if (transmit_con(ex, now) < 0)
      pt_exchange_fail(ex, COAP_NACK_NOT_DELIVERABLE, now);
  }
}

static void retransmit(coap_context_t *ctx, pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  if (ex->retransmits >= s->max_retransmit) {
    pt_exchange_fail(ex, ex->bad_response ? COAP_NACK_BAD_RESPONSE
                                          : COAP_NACK_TOO_MANY_RETRIES,
                     now);
    return;
  }
  ex->retransmits++;
  ex->interval = pt_keepalive_cap(ctx, ex->interval * 2);
  pt_timer_arm(ctx, &ex->timer, now + ex->interval);
  coap_log_debug("** %s: mid=0x%04x: retransmission #%u\n",
                 coap_session_str(s), ex->mid, ex->retransmits);
  pt_send_pdu(s, ex->pdu);
  pt_event(s, COAP_EVENT_MSG_RETRANSMITTED);
}

static void on_timer(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  pt_exchange *ex = PT_CONTAINER_OF(t, pt_exchange, timer);
  if (ex->awaiting_ack)
    retransmit(ctx, ex, now);
  else if (ex->answered) /* a request to a group: the wait for answers ends */
    exchange_free(ex, now);
  else if (ex->obs_live) /* the latest notification is no longer fresh */
    pt_observe_client_expired(ex, now);
  else /* a response awaited after an Empty ACK, or to a NON, never came */
    pt_exchange_fail(ex, COAP_NACK_TOO_MANY_RETRIES, now);
}

/* ---- the API used by coap_send and the receive path -------------------- */

static int is_request(const coap_pdu_t *pdu) {
  coap_pdu_code_t c = coap_pdu_get_code(pdu);
  return c >= 1 && c <= 31;
}

static int track_token(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  coap_bin_const_t t = coap_pdu_get_token(ex->pdu);
  pt_exchange *old = pt_exchange_by_token(s, &t);
  if (old) /* a new request reusing a token supersedes the old one */
    exchange_free(old, now);
  ex->awaiting_response = 1;
  ex->observe = pt_observe_is_registration(ex->pdu);
  return pt_hashmap_insert(&s->context->exchanges_token, &ex->by_token,
                           token_hash(s, &t));
}

/* A reliable session (RFC 8323 3): sent once, never retransmitted and
 * never acknowledged; a request then awaits its response (matched by
 * token) for EXCHANGE_LIFETIME, anything else is done once it is sent.
 * Returns 0, or -1 (the caller frees @ex). */
static int send_reliable(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  if (pt_send_pdu(s, ex->pdu) < 0)
    return -1;
  if (!ex->awaiting_response) {
    exchange_free(ex, now);
    return 0;
  }
  return pt_timer_arm(s->context, &ex->timer, now + pt_exchange_lifetime(s));
}

/* Sends the CON of @ex now, or queues it while NSTART CONs are in flight.
 * Returns 0, or -1 (the caller frees @ex). */
static int start_con(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  if (pt_session_reliable(s))
    return send_reliable(ex, now);
  if (s->con_active < s->nstart)
    return transmit_con(ex, now);
  if (s->wait_count >= s->context->max_wait_per_session)
    return -1;
  ex->waiting = 1;
  s->wait_count++;
  if (s->wait_tail)
    s->wait_tail->next_wait = ex;
  else
    s->wait_head = ex;
  s->wait_tail = ex;
  return 0;
}

coap_mid_t pt_exchange_send(coap_session_t *s, coap_pdu_t *pdu,
                            coap_tick_t now) {
  coap_pdu_type_t type = coap_pdu_get_type(pdu);
  coap_mid_t mid = coap_pdu_get_mid(pdu);
  int request = is_request(pdu) && s->type == COAP_SESSION_TYPE_CLIENT;
  int reliable = pt_session_reliable(s);
  if ((type != COAP_MESSAGE_CON || reliable) && !request) {
    int rc = pt_send_pdu(s, pdu);
    coap_delete_pdu(pdu);
    return rc < 0 ? COAP_INVALID_MID : mid;
  }
  pt_exchange *ex = exchange_new(s, pdu);
  if (!ex) {
    coap_delete_pdu(pdu);
    return COAP_INVALID_MID;
  }
  if (request && track_token(ex, now) < 0)
    goto fail;
  if (reliable) {
    if (send_reliable(ex, now) < 0)
      goto fail;
    return mid;
  }
  if (type != COAP_MESSAGE_CON) { /* a NON request: send, await response */
    pt_send_pdu(s, pdu);
    if (pt_timer_arm(s->context, &ex->timer,
                     now + pt_exchange_lifetime(s)) < 0)
      goto fail;
    return mid;
  }
  if (start_con(ex, now) < 0)
    goto fail;
  return mid;
fail:
  exchange_free(ex, now);
  return COAP_INVALID_MID;
}

pt_exchange *pt_exchange_send_con(coap_session_t *s, coap_pdu_t *pdu,
                                  coap_tick_t now) {
  if (pt_session_reliable(s)) { /* nothing to keep: no ACK will come */
    pt_send_pdu(s, pdu);
    coap_delete_pdu(pdu);
    return NULL;
  }
  pt_exchange *ex = exchange_new(s, pdu);
  if (!ex) {
    coap_delete_pdu(pdu);
    return NULL;
  }
  if (start_con(ex, now) < 0) {
    exchange_free(ex, now);
    return NULL;
  }
  return ex;
}

void pt_exchange_replace(pt_exchange *ex, coap_pdu_t *pdu, coap_tick_t now) {
  coap_session_t *s = ex->session;
  coap_context_t *ctx = s->context;
  coap_delete_pdu(ex->pdu);
  ex->pdu = pdu;
  if (!ex->awaiting_ack) { /* still queued behind NSTART */
    ex->mid = coap_pdu_get_mid(pdu);
    return;
  }
  pt_hashmap_remove(&ctx->exchanges_mid, &ex->by_mid);
  ex->mid = coap_pdu_get_mid(pdu);
  if (pt_hashmap_insert(&ctx->exchanges_mid, &ex->by_mid,
                        mid_hash(s, ex->mid)) < 0) {
    pt_exchange_fail(ex, COAP_NACK_NOT_DELIVERABLE, now);
    return;
  }
  pt_send_pdu(s, pdu); /* the timer keeps its deadline */
}

void pt_exchange_acked(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  if (ex->awaiting_ack) {
    ex->awaiting_ack = 0;
    pt_hashmap_remove(&s->context->exchanges_mid, &ex->by_mid);
    s->con_active--;
    start_next_waiting(s, now);
  }
  if (!ex->awaiting_response) {
    exchange_free(ex, now);
    return;
  }
  pt_timer_arm(s->context, &ex->timer, now + pt_exchange_lifetime(s));
}

void pt_exchange_done(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  if (ex->observe) { /* lives until cancelled, ended, or its session goes */
    pt_timer_arm(s->context, &ex->timer, ex->obs_expire);
    if (!ex->obs_live) {
      ex->obs_live = 1;
      coap_session_release(s); /* may free the session, and ex */
    }
    return;
  }
  if (ex->session->mcast) { /* other members may still answer */
    ex->answered = 1;
    return;
  }
  exchange_free(ex, now);
}

void pt_exchange_reregister(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  if (ex->obs_live) { /* a request in flight holds its session again */
    ex->obs_live = 0;
    coap_session_reference(s);
  }
  ex->mid = pt_session_next_mid(s);
  ex->pdu->mid = ex->mid;
  ex->retransmits = 0;
  if (coap_pdu_get_type(ex->pdu) == COAP_MESSAGE_CON) {
    if (start_con(ex, now) < 0)
      pt_exchange_fail(ex, COAP_NACK_NOT_DELIVERABLE, now);
    return;
  }
  pt_send_pdu(s, ex->pdu);
  pt_timer_arm(s->context, &ex->timer, now + pt_exchange_lifetime(s));
}

void pt_exchange_free_session(coap_session_t *s) {
  coap_tick_t now = pt_now();
  while (s->exchanges)
    exchange_free(s->exchanges, now);
}

void pt_exchange_fail(pt_exchange *ex, coap_nack_reason_t reason,
                      coap_tick_t now) {
  coap_session_t *s = ex->session;
  coap_context_t *ctx = s->context;
  coap_session_reference(s); /* the handler may release the session */
  pt_timer_cancel(ctx, &ex->timer);
  if (ex->ext_probe) /* the library's own: the application never knew */
    pt_ext_token_failed(ex);
  else if (ctx->nack_handler)
    ctx->nack_handler(s, ex->pdu, reason, ex->mid);
  if (ex->keepalive)
    pt_keepalive_failed(s);
  pt_block_client_failed(s, ex->pdu); /* ends its block transfer, if any */
  pt_observe_exchange_failed(ex);     /* ends its observer, if any */
  exchange_free(ex, now);
  coap_session_release(s);
}

void pt_exchange_fail_session(coap_session_t *s, coap_nack_reason_t reason) {
  coap_tick_t now = pt_now();
  coap_session_reference(s); /* the last exchange may hold the last ref */
  while (s->exchanges)
    pt_exchange_fail(s->exchanges, reason, now);
  coap_session_release(s);
}
