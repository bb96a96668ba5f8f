/*
 * multicast.h -- serving requests sent to a multicast group (RFC 7252
 * section 8; internal, sans-I/O).
 *
 * The event loop records on the server session the address each datagram
 * was sent to; when that is a group address the request is a multicast
 * one. Then (RFC 7252 8.1, 8.2 and coap_resource(3)):
 *   - only Non-confirmable requests are taken; anything else sent to a
 *     group is dropped without an answer, so no RST or ACK goes out;
 *   - without coap_mcast_per_resource() every resource takes multicast
 *     requests, 4.xx and 5.xx answers are suppressed, and answers are
 *     delayed by a random time within the session's DEFAULT_LEISURE;
 *   - with it, a resource takes them only with
 *     COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT, and its
 *     COAP_RESOURCE_FLAGS_LIB_* flags turn the delay off or the
 *     suppression of 2.05-without-payload, 2.xx, 4.xx and 5.xx on or off;
 *   - a No-Response option (RFC 7967) in the request overrides the
 *     suppression flags: its bits alone decide which classes are dropped;
 *   - the library's own answers (.well-known/core, errors found before a
 *     handler runs) follow the defaults, and a 2.05 without payload (a
 *     .well-known/core query filter that matched nothing) is not sent
 *     (RFC 7252 8.2).
 * A delayed answer is copied and sent from a timer in the context's heap;
 * it goes out as NON from a unicast address of the interface the request
 * came in over (the platform picks it: the session's local address for
 * that send is the group, which the send path treats so).
 */
#ifndef PT_MULTICAST_H
#define PT_MULTICAST_H

#include "coap3/coap.h"

/* Answers delayed at once at most (a context-wide bound: beyond it an
 * answer to a multicast request is dropped, as a lost datagram would be). */
#define PT_MCAST_MAX_DELAYED 1024

/* 1 if the datagram @s (a server session) is handling was sent to a group. */
int pt_mcast_arrived(const coap_session_t *s);

/* 1 if datagram @data[0..len) (borrowed), sent to a group, must be dropped
 * unanswered: all but a Non-confirmable request (RFC 7252 8.1). */
int pt_mcast_refused(const uint8_t *data, size_t len);

/* 1 if @r (NULL: none matched) takes multicast requests. */
int pt_mcast_resource_ok(const coap_context_t *ctx, const coap_resource_t *r);

/*
 * Sends, delays or suppresses @resp, the answer to multicast request @req
 * on @s at @now, by the rules above; @r is the resource whose handler made
 * it (NULL: the library answered). @req and @resp are borrowed (a delayed
 * answer is copied).
 */
void pt_mcast_respond(coap_session_t *s, const coap_pdu_t *req,
                      coap_pdu_t *resp, const coap_resource_t *r,
                      coap_tick_t now);

/* Drops every delayed answer not yet sent (context teardown, before the
 * sessions go). */
void pt_mcast_free_all(coap_context_t *ctx);

#endif /* PT_MULTICAST_H */
