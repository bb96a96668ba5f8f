/*
 * ext_token.h -- extended tokens (RFC 8974) on a client session: whether
 * the server takes tokens longer than 8 bytes (internal).
 *
 * With coap_context_set_max_token_size() above 8, the first request a
 * client session sends is preceded by a probe (RFC 8974 2.2.2): a CON GET
 * with If-None-Match whose token is as long as the context allows (or as
 * fits a datagram). The server's answer settles the session's limit: a
 * response echoing the whole token keeps that length; an RST (a server
 * without extended tokens rejects the TKL as a format error), a 4.00 or
 * 5.03 (the length is too much for it), a shorter token, or no answer at
 * all brings it down to 8. The probe is the library's own: neither its
 * response nor its failure reaches the application's handlers. It takes
 * the session's NSTART slot, so a CON request sent with it goes out after
 * the answer; a request whose token is longer than the settled limit is
 * refused by coap_send().
 */
#ifndef PT_EXT_TOKEN_H
#define PT_EXT_TOKEN_H

#include "coap3/coap.h"

struct pt_exchange;

/* Probe states of a client session (session->ext_token_state). */
#define PT_EXT_TOKEN_UNCHECKED 0
#define PT_EXT_TOKEN_CHECKING 1
#define PT_EXT_TOKEN_CHECKED 2

/*
 * Called by coap_send() for @pdu (borrowed) about to go out on @session:
 * sends the probe first when this is a client session's first request and
 * the context takes extended tokens. Returns 0, or -1 when @pdu's token is
 * longer than the session may use (the caller drops it).
 */
int pt_ext_token_before_send(coap_session_t *session, const coap_pdu_t *pdu,
                             coap_tick_t now);

/* The largest token @session may send now (8 before extended tokens were
 * enabled, the context's limit while the probe is out). */
size_t pt_ext_token_limit(const coap_session_t *session);

/* @ex is the probe and @response answers it: settles the session's limit.
 * The caller then ends @ex as for any response. */
void pt_ext_token_answered(struct pt_exchange *ex, const coap_pdu_t *response);

/* The probe @ex failed (RST, no answer, session closing): the session's
 * limit becomes 8. The caller frees @ex without telling the application. */
void pt_ext_token_failed(struct pt_exchange *ex);

#endif /* PT_EXT_TOKEN_H */
