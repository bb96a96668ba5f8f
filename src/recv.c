/*
 * recv.c -- the receive path: what a datagram means and who answers it
 * (RFC 7252 sections 4 and 5).
 *
 * The order of work for each datagram: parse (rejecting format errors),
 * then by message type: ACK and RST settle an exchange we keep; CON and NON
 * go through duplicate detection, then to the resource dispatcher
 * (requests) or to the application's response handler (responses).
 */
#include "recv.h"

#include "block.h"
#include "context.h"
#include "dedup.h"
#include "exchange.h"
#include "ext_token.h"
#include "multicast.h"
#include "observe.h"
#include "pdu.h"
#include "plimits.h"
#include "session.h"

/* ---- rejecting ------------------------------------------------------- */

/*
 * RFC 7252 4.2/4.3: a CON with a message format error is rejected with an
 * RST (when its header could be read), anything else malformed is silently
 * ignored.
 */
static void reject_malformed(coap_session_t *s, const uint8_t *data, size_t len,
                             int err) {
  coap_log_debug("* %s: dropped malformed datagram of %zu bytes (%d)\n",
                 coap_session_str(s), len, err);
  pt_event(s, COAP_EVENT_BAD_PACKET);
  if (len < 4 || (data[0] >> 6) != 1)
    return;
  if (((data[0] >> 4) & 3) == COAP_MESSAGE_CON)
    pt_send_empty(s, COAP_MESSAGE_RST, (coap_mid_t)(data[2] << 8 | data[3]));
}

/*
 * RFC 7252 5.4.1: a response carrying a critical option we do not
 * recognize (option.c: unknown, reserved, wrong length, repeated) is
 * rejected and never reaches the application. Returns 1 if @pdu is such a
 * response.
 */
static int bad_critical_option(coap_session_t *s, const coap_pdu_t *pdu) {
  int num = pt_pdu_unrecognized_critical(pdu, s->context->registered_opts);
  if (num < 0)
    return 0;
  coap_log_debug("* %s: response with unrecognized critical option %d: "
                 "rejected\n",
                 coap_session_str(s), num);
  pt_event(s, COAP_EVENT_BAD_PACKET);
  return 1;
}

/* ---- ACK and RST --------------------------------------------------------- */

static coap_response_t deliver_response(coap_session_t *s, pt_exchange *ex,
                                        const coap_pdu_t *pdu) {
  coap_context_t *ctx = s->context;
  if (!ctx->response_handler)
    return COAP_RESPONSE_OK;
  return ctx->response_handler(s, ex ? ex->pdu : NULL, pdu,
                               coap_pdu_get_mid(pdu));
}

/* Hands the response for @ex to the block layer or the application -- or,
 * for the extended-token probe, to neither (ext_token.c). */
static coap_response_t take_response(coap_session_t *s, pt_exchange *ex,
                                     const coap_pdu_t *pdu, coap_tick_t now) {
  coap_response_t r = COAP_RESPONSE_OK;
  if (ex->ext_probe)
    pt_ext_token_answered(ex, pdu);
  else if (!pt_block_client_response(s, ex, pdu, now, &r)) /* block_client.c */
    r = deliver_response(s, ex, pdu);
  return r;
}

static int same_token(const coap_pdu_t *a, const coap_pdu_t *b) {
  coap_bin_const_t ta = coap_pdu_get_token(a), tb = coap_pdu_get_token(b);
  return coap_binary_equal(&ta, &tb);
}

static void on_pong(coap_session_t *s, const coap_pdu_t *pdu) {
  if (s->context->pong_handler)
    s->context->pong_handler(s, pdu, coap_pdu_get_mid(pdu));
}

static void on_ack(coap_session_t *s, const coap_pdu_t *pdu, coap_tick_t now) {
  if (pt_amp_probe_answered(s, coap_pdu_get_mid(pdu)))
    return;
  pt_exchange *ex = pt_exchange_by_mid(s, coap_pdu_get_mid(pdu));
  if (!ex)
    return;           /* RFC 7252 4.2: an unexpected ACK is silently ignored */
  pt_amp_verified(s); /* it received our CON */
  coap_pdu_code_t code = coap_pdu_get_code(pdu);
  if (coap_pdu_get_code(ex->pdu) == 0) {
    on_pong(s, pdu);
    pt_exchange_acked(ex, now);
    return;
  }
  if (code == 0 || !ex->awaiting_response || !same_token(ex->pdu, pdu) ||
      (code >> 5) < 2) {
    pt_exchange_acked(ex, now); /* Empty ACK: a separate response follows */
    return;
  }
  if (bad_critical_option(s, pdu)) {
    /* RFC 7252 4.2: rejecting an ACK is ignoring it, so the request is
     * retransmitted; if it fails, the NACK says why. */
    ex->bad_response = 1;
    return;
  }
  pt_exchange_acked(ex, now); /* keeps it: a response is awaited */
  if (ex->observe) /* the first answer: fresh; may end the observation */
    pt_observe_client_response(ex, pdu, now);
  take_response(s, ex, pdu, now);
  pt_exchange_done(ex, now);
}

static void on_rst(coap_session_t *s, const coap_pdu_t *pdu, coap_tick_t now) {
  if (pt_amp_probe_answered(s, coap_pdu_get_mid(pdu)))
    return;
  pt_exchange *ex = pt_exchange_by_mid(s, coap_pdu_get_mid(pdu));
  if (!ex) {
    pt_observe_rst(s, coap_pdu_get_mid(pdu)); /* to a NON notification? */
    return;
  }
  pt_amp_verified(s); /* it received our CON */
  if (coap_pdu_get_code(ex->pdu) == 0) {
    on_pong(s, pdu);
    pt_exchange_acked(ex, now);
    return;
  }
  pt_exchange_fail(ex, COAP_NACK_RST, now);
}

/* ---- CON and NON --------------------------------------------------------- */

static void answer_duplicate(coap_session_t *s, const pt_dedup *d,
                             coap_pdu_type_t type, coap_mid_t mid) {
  if (type != COAP_MESSAGE_CON)
    return; /* a duplicate NON is dropped */
  switch (d->state) {
  case PT_DEDUP_REPLY:
    pt_send_bytes(s, pt_dedup_reply(d), d->reply_len);
    break;
  case PT_DEDUP_EMPTY_ACK:
    pt_send_empty(s, COAP_MESSAGE_ACK, mid);
    break;
  case PT_DEDUP_RST:
    pt_send_empty(s, COAP_MESSAGE_RST, mid);
    break;
  default:
    break; /* still being answered: the answer will come */
  }
}

/* Answers a CON (or NON) response with an ACK or RST, and records it. */
static void settle_response(coap_session_t *s, const coap_pdu_t *pdu,
                            pt_dedup *d, int reject) {
  coap_pdu_type_t type = coap_pdu_get_type(pdu);
  coap_mid_t mid = coap_pdu_get_mid(pdu);
  if (reject) {
    pt_send_empty(s, COAP_MESSAGE_RST, mid);
    if (d)
      pt_dedup_set_reply(d, PT_DEDUP_RST, NULL, 0);
  } else if (type == COAP_MESSAGE_CON) {
    pt_send_empty(s, COAP_MESSAGE_ACK, mid);
    if (d)
      pt_dedup_set_reply(d, PT_DEDUP_EMPTY_ACK, NULL, 0);
  }
}

/* A response in a CON or NON of its own: matched by token only
 * (RFC 7252 5.3.2). One that matches no request of ours goes to the
 * response handler with no request, which accepts (ACK) or rejects (RST)
 * it; without a handler it is rejected. A notification older than the
 * last one delivered (RFC 7641 3.4) is acknowledged and dropped. */
static void on_separate_response(coap_session_t *s, const coap_pdu_t *pdu,
                                 pt_dedup *d, coap_tick_t now) {
  coap_bin_const_t token = coap_pdu_get_token(pdu);
  pt_exchange *ex = pt_exchange_by_token(s, &token);
  if (!ex) {
    if (bad_critical_option(s, pdu)) { /* never reaches the application */
      settle_response(s, pdu, d, 1);
      return;
    }
    coap_log_debug("* %s: response with unknown token\n", coap_session_str(s));
    coap_response_t r = s->context->response_handler
                            ? deliver_response(s, NULL, pdu)
                            : COAP_RESPONSE_FAIL;
    settle_response(s, pdu, d, r == COAP_RESPONSE_FAIL);
    return;
  }
  if (bad_critical_option(s, pdu)) {
    /* RFC 7252 4.2/4.3: rejected with an RST, after which this response
     * will not come again: the request fails now. */
    settle_response(s, pdu, d, 1);
    pt_exchange_fail(ex, COAP_NACK_BAD_RESPONSE, now);
    return;
  }
  if (ex->awaiting_ack) /* its Empty ACK was lost or skipped */
    pt_exchange_acked(ex, now);
  if (ex->observe && !pt_observe_client_response(ex, pdu, now)) {
    settle_response(s, pdu, d, 0); /* stale notification */
    return;
  }
  coap_response_t r = take_response(s, ex, pdu, now);
  settle_response(s, pdu, d, r == COAP_RESPONSE_FAIL);
  pt_exchange_done(ex, now);
}

static void on_ping(coap_session_t *s, const coap_pdu_t *pdu) {
  coap_mid_t mid = coap_pdu_get_mid(pdu);
  if (s->context->ping_handler)
    s->context->ping_handler(s, pdu, mid);
  pt_send_empty(s, COAP_MESSAGE_RST, mid);
}

/* (Inlined like handle(), its only caller.) */
__attribute__((always_inline)) static inline void
on_message(coap_session_t *s, const coap_pdu_t *pdu, int reliable,
           coap_tick_t now) {
  coap_pdu_type_t type = coap_pdu_get_type(pdu);
  coap_pdu_code_t code = coap_pdu_get_code(pdu);
  coap_mid_t mid = coap_pdu_get_mid(pdu);
  if (code == 0 && reliable)
    return;        /* RFC 8323 3.4: an Empty message is ignored */
  if (code == 0) { /* CON Empty is a ping; NON Empty is not allowed */
    if (type == COAP_MESSAGE_CON)
      on_ping(s, pdu);
    return;
  }
  unsigned cls = code >> 5;
  if (cls == 1 || cls > 5) {      /* reserved class: reject (4.2, 4.3) */
    if (type == COAP_MESSAGE_CON) /* (no RST exists on a reliable one) */
      pt_send_empty(s, COAP_MESSAGE_RST, mid);
    return;
  }
  /* Members of a group answer from their own addresses with message IDs
   * of their own: those of a session to a group do not identify a
   * message, so they are not deduplicated; nor is anything on a reliable
   * transport, which has no message IDs (RFC 8323 3). */
  int dedup = !s->mcast && !reliable;
  pt_dedup *d = dedup ? pt_dedup_find(s, mid, now) : NULL;
  if (d) {
    answer_duplicate(s, d, type, mid);
    return;
  }
  d = dedup ? pt_dedup_add(s, mid, now) : NULL;
  if (cls == 0)
    pt_request_dispatch(s, pdu, d, 0, now);
  else
    on_separate_response(s, pdu, d, now);
}

/*
 * RFC 8974 2.2.2: a token longer than this context takes. Without extended
 * tokens (a limit of 8) that is a message format error as RFC 7252 has it
 * (a CON gets an RST, which tells the client we lack them); with them, a
 * request whose token is merely too long gets a 4.00 that carries the
 * token back. Other messages go on: their token matches nothing we sent.
 * Returns 1 if @pdu was dealt with here.
 */
static int token_too_long(coap_session_t *s, const coap_pdu_t *pdu,
                          const uint8_t *data, size_t len) {
  if (s->context->max_token_size <= COAP_TOKEN_DEFAULT_MAX) {
    reject_malformed(s, data, len, PT_PARSE_ERR_TKL);
    return 1;
  }
  coap_pdu_code_t code = coap_pdu_get_code(pdu);
  coap_pdu_type_t type = coap_pdu_get_type(pdu);
  if (code == 0 || code > 31 || type > COAP_MESSAGE_NON)
    return 0;
  coap_log_debug("* %s: request token of %zu bytes is too long: 4.00\n",
                 coap_session_str(s), coap_pdu_get_token(pdu).length);
  coap_send_error(s, pdu, COAP_RESPONSE_CODE_BAD_REQUEST, NULL);
  return 1;
}

/* ---- entry ------------------------------------------------------------- */

/* A parsed message @pdu (from @data/@len when it came in a datagram, else
 * NULL/0) goes to who handles it; @debug: the log level shows debug
 * messages (asked once per message). Whether @s is reliable is asked once:
 * a reliable transport has no ACK, RST or message IDs (RFC 8323 3), so
 * every message is taken as a request or a response of its own. Inlined
 * in both callers, so that a datagram's way to its handler sets up one
 * stack frame, not two. */
__attribute__((always_inline)) static inline void
handle(coap_session_t *s, const coap_pdu_t *pdu, const uint8_t *data,
       size_t len, int debug, coap_tick_t now) {
  int reliable = pt_session_reliable(s);
  if (coap_pdu_get_token(pdu).length > s->context->max_token_size &&
      token_too_long(s, pdu, data, len))
    return;
  pt_session_touch(s, now);
  if (debug)
    coap_show_pdu(COAP_LOG_DEBUG, pdu);
  coap_session_reference(s); /* a handler may release the session */
  switch (reliable ? COAP_MESSAGE_CON : coap_pdu_get_type(pdu)) {
  case COAP_MESSAGE_ACK:
    on_ack(s, pdu, now);
    break;
  case COAP_MESSAGE_RST:
    on_rst(s, pdu, now);
    break;
  default:
    on_message(s, pdu, reliable, now);
    break;
  }
  coap_session_release(s);
}

void pt_recv_datagram(coap_session_t *s, const uint8_t *data, size_t len,
                      coap_tick_t now) {
  coap_pdu_t *pdu = s->context->rx_pdu;
  int debug = coap_get_log_level() >= COAP_LOG_DEBUG;
  if (debug)
    coap_log_debug("* %s: received %zu bytes\n", coap_session_str(s), len);
  pt_amp_received(s, len);
  if (pt_mcast_arrived(s) && pt_mcast_refused(data, len)) {
    coap_log_debug("* %s: only NON requests are taken from a group: "
                   "dropped\n",
                   coap_session_str(s));
    return; /* RFC 7252 8.1: and no RST, whatever it was */
  }
  int rc = pt_pdu_parse_udp(pdu, data, len);
  if (rc < 0) {
    reject_malformed(s, data, len, rc);
    return;
  }
  handle(s, pdu, data, len, debug, now);
}

void pt_recv_message(coap_session_t *s, const coap_pdu_t *pdu,
                     coap_tick_t now) {
  handle(s, pdu, NULL, 0, coap_get_log_level() >= COAP_LOG_DEBUG, now);
}
