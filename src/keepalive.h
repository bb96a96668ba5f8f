/*
 * keepalive.h -- keepalive pings (internal; coap_context_set_keepalive(),
 * coap_keepalive(3)).
 *
 * With a keepalive interval set on the context, a session that has sent
 * and received nothing for that long sends its peer an Empty CON (a CoAP
 * ping, RFC 7252 4.3: the peer answers with RST, or ACK). The ping is an
 * ordinary exchange, retransmitted with the session's parameters; when it
 * fails, COAP_EVENT_KEEPALIVE_FAILURE is raised. Client and server
 * sessions both ping. A client session goes on pinging after a failure; a
 * server session stops until it hears from its peer again, so that a peer
 * that has gone away is freed by the idle timeout as usual.
 *
 * On a TCP session (RFC 8323 5.4) the ping is a 7.02 Ping signal, never
 * retransmitted; a session that heard nothing from its peer (no Pong, nor
 * anything else) for one more interval raises COAP_EVENT_KEEPALIVE_FAILURE
 * and its connection is closed (a server session is freed, a client
 * session's requests fail).
 *
 * Each session has one timer in the context's heap. Activity only stamps
 * times (session->last_activity on receive, session->last_tx on send), and
 * the timer, when it fires, either pings or re-arms for the rest of the
 * interval: nothing is scanned per datagram or per loop pass.
 */
#ifndef PT_KEEPALIVE_H
#define PT_KEEPALIVE_H

#include "coap3/coap.h"

#include "timer.h"

/* The timer callback of session->keepalive_timer (session_new sets it). */
void pt_keepalive_fire(coap_context_t *ctx, pt_timer *timer, coap_tick_t now);

/* Starts (or, with keepalive off, stops) @session's keepalive timer: the
 * next ping is due one interval after its last activity. Called when a
 * session is created and when the interval changes. */
void pt_keepalive_start(coap_session_t *session, coap_tick_t now);

/* @session's peer was heard from at @now after a failed keepalive: pinging
 * resumes (server sessions stop pinging after a failure). */
void pt_keepalive_resume(coap_session_t *session, coap_tick_t now);

/* The keepalive ping of @session got no answer (retransmissions exhausted
 * or the peer unreachable): raises COAP_EVENT_KEEPALIVE_FAILURE unless the
 * session is closing. */
void pt_keepalive_failed(coap_session_t *session);

/* Stops @session's keepalive timer (the session is going away). */
void pt_keepalive_stop(coap_session_t *session);

/* @interval capped at the keepalive interval when one is set: coap_keepalive(3)
 * limits the exponential back-off of every CON to it (the retransmission
 * count is unchanged), so that a NAT binding stays warm while a CON is
 * retransmitted. */
coap_tick_t pt_keepalive_cap(const coap_context_t *ctx, coap_tick_t interval);

#endif /* PT_KEEPALIVE_H */
