/*
 * plimits.h -- resource limits, the amplification policy and the state
 * counters (internal; the public API is coap3/coap_petrel.h). Named so that
 * it never shadows the system's <limits.h>.
 *
 * RFC 7252 section 11.3: a server must not become an amplifier for
 * datagrams with a spoofed source. Until a peer has shown it receives our
 * datagrams (it ACKed or RST one of our CONs), Petrel sends it at most
 * amp_factor times what it received from it; datagrams beyond that come
 * out of one context-wide allowance (amp_burst bytes, refilled at amp_rate
 * bytes a second), else they are not sent. Every datagram a server session
 * sends goes through pt_send_bytes(); client sessions are not limited (we
 * chose their peer).
 */
#ifndef PT_PLIMITS_H
#define PT_PLIMITS_H

#include "coap3/coap.h"

/* Sets the defaults of every limit on a new context. */
void pt_limits_init(coap_context_t *ctx);

/* Sends @len bytes of @data (borrowed) to @session's peer through
 * context->send if the amplification policy allows. Returns what the send
 * returned, or -1 when the policy held the datagram back. */
ssize_t pt_send_bytes(coap_session_t *session, const uint8_t *data, size_t len);

/* Counts a datagram of @len bytes received from @session's peer. */
void pt_amp_received(coap_session_t *session, size_t len);

/* The peer answered one of our CONs: it is no longer limited. */
void pt_amp_verified(coap_session_t *session);

/* 1 if @mid answers the reachability probe sent to @session (which is then
 * verified); 0 if it is some other message ID. */
int pt_amp_probe_answered(coap_session_t *session, coap_mid_t mid);

#endif /* PT_PLIMITS_H */
