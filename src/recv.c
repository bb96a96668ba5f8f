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
#include "multicast.h"
#include "pdu.h"
#include "plimits.h"
#include "session.h"

/* ---- rejecting ------------------------------------------------------- */

/*
 * RFC 7252 4.2/4.3: a CON with a message format error is rejected with an
 * RST (when its header could be read), anything else malformed is silently
 * ignored.
 */
static void reject_malformed(coap_session_t *s, const uint8_t *data,
                             size_t len, int err) {
  coap_log_debug("* %s: dropped malformed datagram of %zu bytes (%d)\n",
                 coap_session_str(s), len, err);
  pt_event(s, COAP_EVENT_BAD_PACKET);
  if (len < 4 || (data[0] >> 6) != 1)
    return;
  if (((data[0] >> 4) & 3) == COAP_MESSAGE_CON)
    pt_send_empty(s, COAP_MESSAGE_RST, (coap_mid_t)(data[2] << 8 | data[3]));
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
    return; /* RFC 7252 4.2: an unexpected ACK is silently ignored */
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
  pt_exchange_acked(ex, now); /* keeps it: a response is awaited */
  coap_response_t r;
  if (!pt_block_client_response(s, ex, pdu, now, &r)) /* block_client.c */
    deliver_response(s, ex, pdu);
  pt_exchange_done(ex, now);
}

static void on_rst(coap_session_t *s, const coap_pdu_t *pdu, coap_tick_t now) {
  if (pt_amp_probe_answered(s, coap_pdu_get_mid(pdu)))
    return;
  pt_exchange *ex = pt_exchange_by_mid(s, coap_pdu_get_mid(pdu));
  if (!ex)
    return;
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
 * (RFC 7252 5.3.2). One we are not waiting for is rejected. */
static void on_separate_response(coap_session_t *s, const coap_pdu_t *pdu,
                                 pt_dedup *d, coap_tick_t now) {
  coap_bin_const_t token = coap_pdu_get_token(pdu);
  pt_exchange *ex = pt_exchange_by_token(s, &token);
  if (!ex) {
    coap_log_debug("* %s: response with unknown token: rejected\n",
                   coap_session_str(s));
    settle_response(s, pdu, d, 1);
    return;
  }
  if (ex->awaiting_ack) /* its Empty ACK was lost or skipped */
    pt_exchange_acked(ex, now);
  coap_response_t r;
  if (!pt_block_client_response(s, ex, pdu, now, &r)) /* block_client.c */
    r = deliver_response(s, ex, pdu);
  settle_response(s, pdu, d, r == COAP_RESPONSE_FAIL);
  pt_exchange_done(ex, now);
}

static void on_ping(coap_session_t *s, const coap_pdu_t *pdu) {
  coap_mid_t mid = coap_pdu_get_mid(pdu);
  if (s->context->ping_handler)
    s->context->ping_handler(s, pdu, mid);
  pt_send_empty(s, COAP_MESSAGE_RST, mid);
}

static void on_message(coap_session_t *s, const coap_pdu_t *pdu,
                       coap_tick_t now) {
  coap_pdu_type_t type = coap_pdu_get_type(pdu);
  coap_pdu_code_t code = coap_pdu_get_code(pdu);
  coap_mid_t mid = coap_pdu_get_mid(pdu);
  if (code == 0) { /* CON Empty is a ping; NON Empty is not allowed */
    if (type == COAP_MESSAGE_CON)
      on_ping(s, pdu);
    return;
  }
  unsigned cls = code >> 5;
  if (cls == 1 || cls > 5) { /* reserved class: reject (4.2, 4.3) */
    if (type == COAP_MESSAGE_CON)
      pt_send_empty(s, COAP_MESSAGE_RST, mid);
    return;
  }
  /* Members of a group answer from their own addresses with message IDs
   * of their own: those of a session to a group do not identify a
   * message, so they are not deduplicated. */
  pt_dedup *d = s->mcast ? NULL : pt_dedup_find(s, mid, now);
  if (d) {
    answer_duplicate(s, d, type, mid);
    return;
  }
  d = s->mcast ? NULL : pt_dedup_add(s, mid, now);
  if (cls == 0)
    pt_request_dispatch(s, pdu, d, 0, now);
  else
    on_separate_response(s, pdu, d, now);
}

/* ---- entry ------------------------------------------------------------- */

void pt_recv_datagram(coap_session_t *s, const uint8_t *data, size_t len,
                      coap_tick_t now) {
  coap_pdu_t *pdu = s->context->rx_pdu;
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
  pt_session_touch(s, now);
  if (coap_get_log_level() >= COAP_LOG_DEBUG)
    coap_show_pdu(COAP_LOG_DEBUG, pdu);
  coap_session_reference(s); /* a handler may release the session */
  switch (coap_pdu_get_type(pdu)) {
  case COAP_MESSAGE_ACK:
    on_ack(s, pdu, now);
    break;
  case COAP_MESSAGE_RST:
    on_rst(s, pdu, now);
    break;
  default:
    on_message(s, pdu, now);
    break;
  }
  coap_session_release(s);
}
