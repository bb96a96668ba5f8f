/*
 * keepalive.c -- pings to peers of idle sessions: Empty CONs over UDP and
 * DTLS, 7.02 Pings over TCP (coap_context_set_keepalive(), coap_keepalive(3);
 * see keepalive.h).
 */
#include "keepalive.h"

#include "context.h"
#include "exchange.h"
#include "link.h"
#include "session.h"
#include "tcp.h"

static coap_tick_t interval_ticks(const coap_context_t *ctx) {
  return (coap_tick_t)ctx->ping_timeout * COAP_TICKS_PER_SECOND;
}

/* When the session last sent or received a datagram. */
static coap_tick_t last_active(const coap_session_t *s) {
  return s->last_activity > s->last_tx ? s->last_activity : s->last_tx;
}

coap_tick_t pt_keepalive_cap(const coap_context_t *ctx, coap_tick_t interval) {
  coap_tick_t cap = interval_ticks(ctx);
  return cap && interval > cap ? cap : interval;
}

void pt_keepalive_start(coap_session_t *s, coap_tick_t now) {
  coap_context_t *ctx = s->context;
  coap_tick_t iv = interval_ticks(ctx);
  if (!iv || s->closing) {
    pt_timer_cancel(ctx, &s->keepalive_timer);
    return;
  }
  if (!s->last_tx && !s->last_activity)
    s->last_tx = now; /* a new session: idle from now on */
  pt_timer_arm(ctx, &s->keepalive_timer, last_active(s) + iv);
}

void pt_keepalive_resume(coap_session_t *s, coap_tick_t now) {
  s->ka_failed = 0;
  pt_keepalive_start(s, now);
}

void pt_keepalive_stop(coap_session_t *s) {
  pt_timer_cancel(s->context, &s->keepalive_timer);
}

/* Sends the ping: an Empty CON with a fresh message ID, kept and
 * retransmitted as an exchange marked as the session's keepalive. */
static void ping(coap_session_t *s, coap_tick_t now) {
  coap_pdu_t *pdu =
      coap_pdu_init(COAP_MESSAGE_CON, 0, pt_session_next_mid(s), 0);
  if (!pdu)
    return;
  coap_mid_t mid = pt_exchange_send(s, pdu, now);
  pt_exchange *ex = mid == COAP_INVALID_MID ? NULL : pt_exchange_by_mid(s, mid);
  if (!ex) {
    coap_log_debug("* %s: keepalive ping not sent\n", coap_session_str(s));
    return;
  }
  ex->keepalive = 1;
  s->ka_outstanding = 1;
  coap_log_debug("* %s: keepalive ping mid=0x%04x\n", coap_session_str(s), mid);
}

/* A reliable session (RFC 8323 5.4): no message is retransmitted, so the
 * Ping is a 7.02 signal and its Pong is awaited for one interval (the
 * next keepalive time, as libcoap does). A Ping still unanswered then
 * means the peer is gone: COAP_EVENT_KEEPALIVE_FAILURE, and the
 * connection is closed (a server session is freed). Returns 1 when the
 * timer is not to be armed again (the connection is closed). */
static int ping_reliable(coap_session_t *s) {
  if (s->ka_outstanding) {
    coap_log_debug("* %s: keepalive Pong missing: closing\n",
                   coap_session_str(s));
    coap_session_reference(s);
    pt_event(s, COAP_EVENT_KEEPALIVE_FAILURE);
    pt_session_link(s)->close(s);
    coap_session_release(s);
    return 1;
  }
  if (pt_session_link(s)->ping(s) < 0)
    return 1; /* the connection is gone: nothing more to keep alive */
  s->ka_outstanding = 1;
  coap_log_debug("* %s: keepalive Ping\n", coap_session_str(s));
  return 0;
}

/* Lazy like the idle reaper: activity since the timer was armed only moves
 * the deadline. */
void pt_keepalive_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  coap_session_t *s = PT_CONTAINER_OF(t, coap_session_t, keepalive_timer);
  coap_tick_t iv = interval_ticks(ctx);
  if (!iv || s->closing || s->ka_failed)
    return; /* off, going away, or waiting to hear from the peer */
  coap_tick_t due = last_active(s) + iv;
  if (due > now) {
    pt_timer_arm(ctx, t, due);
    return;
  }
  if (pt_session_link(s)->ping) {
    if (!ping_reliable(s))
      pt_timer_arm(ctx, t, now + iv);
    return;
  }
  /* A ping or another CON in flight already asks the peer for an answer
   * (and ping must not queue behind NSTART). */
  if (!s->ka_outstanding && s->con_active < s->nstart)
    ping(s, now);
  pt_timer_arm(ctx, t, now + iv);
}

void pt_keepalive_failed(coap_session_t *s) {
  if (s->closing)
    return;
  coap_log_debug("* %s: keepalive ping unanswered\n", coap_session_str(s));
  if (s->type == COAP_SESSION_TYPE_SERVER)
    s->ka_failed = 1;
  pt_event(s, COAP_EVENT_KEEPALIVE_FAILURE);
}

/* A configuration-time walk over every session, once per call: the only
 * way to move timers already armed with the old interval. */
void coap_context_set_keepalive(coap_context_t *ctx, unsigned int seconds) {
  if (!ctx)
    return;
  ctx->ping_timeout = seconds;
  coap_tick_t now = pt_now();
  for (coap_session_t *s = ctx->lru_head; s; s = s->next)
    pt_keepalive_start(s, now);
  for (coap_session_t *s = ctx->clients; s; s = s->next)
    pt_keepalive_start(s, now);
}
