/*
 * client_response.c -- what coap-client does with what comes back: the
 * response, NACK and event handlers, the body as its blocks arrive, the
 * output (libcoap's), and the progress line on a terminal.
 */
#include "client.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the progress line -------------------------------------------------- */

static void human_bytes(char *buf, size_t size, double v) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB"};
  unsigned u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    u++;
  }
  snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* While a block-wise body comes in for more than a second, and only when
 * standard error is a terminal: bytes so far, rate, and the percentage
 * when the server sent Size2. Redrawn at most five times a second. */
void client_progress(client_state_t *st, coap_tick_t now) {
  if (!st->tty || !st->transfer_start ||
      now - st->transfer_start < COAP_TICKS_PER_SECOND ||
      (st->progress_shown && now - st->progress_at < COAP_TICKS_PER_SECOND / 5))
    return;
  double secs = (double)(now - st->transfer_start) / COAP_TICKS_PER_SECOND;
  char got[32], rate[32];
  human_bytes(got, sizeof(got), (double)st->body_len);
  human_bytes(rate, sizeof(rate), (double)st->body_len / secs);
  fprintf(stderr, "\r\033[Kcoap-client: %s received, %s/s", got, rate);
  if (st->body_total > st->body_len)
    fprintf(stderr, ", %u%%", (unsigned)(st->body_len * 100 / st->body_total));
  fflush(stderr);
  st->progress_shown = 1;
  st->progress_at = now;
}

void client_progress_end(client_state_t *st) {
  if (st->progress_shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
  st->progress_shown = 0;
  st->transfer_start = 0;
}

/* ---- output ------------------------------------------------------------- */

/* Writes the body so far (a whole body, or what came before SIGINT). */
void client_write_body(client_state_t *st) {
  client_progress_end(st);
  if (st->body_len) { /* as libcoap's: no payload, nothing written */
    fwrite(st->body, 1, st->body_len, st->out);
    if (st->newline)
      fputc('\n', st->out);
    fflush(st->out);
    st->wrote = 1;
  }
  st->body_len = 0;
  st->body_total = 0;
}

/* Appends one block (or a whole body) to the body so far. */
static int take_data(client_state_t *st, const uint8_t *data, size_t len,
                     size_t offset, size_t total) {
  if (offset == 0 || offset != st->body_len)
    st->body_len = 0; /* a new body, or a restart from block 0 */
  if (st->body_len + len > st->body_cap) {
    size_t cap = st->body_cap ? st->body_cap : 4096;
    while (cap < st->body_len + len)
      cap *= 2;
    uint8_t *bigger = realloc(st->body, cap);
    if (!bigger)
      return 0;
    st->body = bigger;
    st->body_cap = cap;
  }
  if (len)
    memcpy(st->body + st->body_len, data, len);
  st->body_len += len;
  st->body_total = total;
  return 1;
}

/* libcoap's error line: "C.DD", then a space and the payload with
 * unprintable bytes as '.'. */
static void print_error(coap_pdu_code_t code, const uint8_t *data, size_t len) {
  fprintf(stderr, "%d.%02d", COAP_RESPONSE_CLASS(code), code & 0x1F);
  if (len)
    fputc(' ', stderr);
  for (size_t i = 0; i < len; i++)
    fputc(isprint(data[i]) ? data[i] : '.', stderr);
  fputc('\n', stderr);
}

/* ---- handlers ----------------------------------------------------------- */

static client_state_t *state_of(coap_session_t *session) {
  return coap_get_app_data(coap_session_get_context(session));
}

static int more_blocks(const client_state_t *st, const coap_pdu_t *pdu) {
  coap_opt_iterator_t it;
  coap_opt_t *b2 = coap_check_option(pdu, COAP_OPTION_BLOCK2, &it);
  return b2 && !st->random_access && COAP_OPT_BLOCK_MORE(b2);
}

/* A 2.xx: the block or body joins the body so far; a whole body is
 * written. Returns 1 when the body is complete. */
static int on_success(client_state_t *st, const coap_pdu_t *received,
                      int notification) {
  size_t len = 0, offset = 0, total = 0;
  const uint8_t *data = NULL;
  coap_get_data_large(received, &len, &data, &offset, &total);
  if (offset == 0)
    st->notification = notification;
  if (!take_data(st, data, len, offset, total)) {
    fprintf(stderr, "coap-client: out of memory for the body\n");
    st->status = EXIT_INCOMPLETE;
    st->done = 1;
    return 1;
  }
  if (more_blocks(st, received)) {
    if (!st->transfer_start)
      coap_ticks(&st->transfer_start);
    return 0;
  }
  client_write_body(st);
  return 1;
}

static coap_response_t on_response(coap_session_t *session,
                                   const coap_pdu_t *sent,
                                   const coap_pdu_t *received,
                                   const coap_mid_t mid) {
  (void)sent;
  (void)mid;
  client_state_t *st = state_of(session);
  coap_bin_const_t token = coap_pdu_get_token(received);
  if (!st || !coap_binary_equal(&token, &st->token))
    return COAP_RESPONSE_FAIL; /* not ours: let the library reject it */

  coap_opt_iterator_t it;
  int notification =
      coap_check_option(received, COAP_OPTION_OBSERVE, &it) != NULL;
  if (st->cancelling) {
    /* A notification still coming is rejected (RFC 7641 3.6); the answer
     * to the cancellation ends the run. Neither is printed. */
    if (notification)
      return COAP_RESPONSE_FAIL;
    st->done = 1;
    return COAP_RESPONSE_OK;
  }
  coap_pdu_code_t code = coap_pdu_get_code(received);
  st->got_response = 1;
  if (COAP_RESPONSE_CLASS(code) == 2) {
    if (!on_success(st, received, notification))
      return COAP_RESPONSE_OK; /* more blocks to come */
    st->status = EXIT_OK;
  } else {
    size_t len = 0, offset = 0, total = 0;
    const uint8_t *data = NULL;
    coap_get_data_large(received, &len, &data, &offset, &total);
    client_progress_end(st);
    st->body_len = 0;
    print_error(code, data, len);
    st->status = EXIT_ERROR_RESPONSE;
    if (!st->failure)
      st->failure = EXIT_ERROR_RESPONSE;
    st->notification = 0;
  }
  /* An observe keeps going until its duration runs out, unless the server
   * ended it (an error, or a response without Observe). Answers from a
   * group keep coming until the wait is over. */
  if (!st->mcast &&
      (!st->observing || !st->notification || COAP_RESPONSE_CLASS(code) != 2))
    st->finished = 1;
  return COAP_RESPONSE_OK;
}

/* The server's address as text ("[::1]:5683"), into @buf of PEER_TEXT. */
void client_peer_text(coap_session_t *session, char *buf) {
  if (!coap_print_addr(coap_session_get_addr_remote(session),
                       (unsigned char *)buf, PEER_TEXT))
    snprintf(buf, PEER_TEXT, "the server");
}

static const char *nack_text(coap_nack_reason_t reason) {
  switch (reason) {
  case COAP_NACK_TOO_MANY_RETRIES:
    return "no answer to any retransmission";
  case COAP_NACK_NOT_DELIVERABLE:
    return "unreachable, an ICMP error came back (nothing listens on that "
           "port, or there is no route)";
  case COAP_NACK_RST:
    return "the peer answered with a Reset";
  case COAP_NACK_ICMP_ISSUE:
    return "ICMP port unreachable: nothing listens there";
  case COAP_NACK_BAD_RESPONSE:
    return "the response was rejected (unrecognized critical option)";
  case COAP_NACK_TLS_FAILED:
  case COAP_NACK_TLS_LAYER_FAILED:
    return "the DTLS or TLS handshake or session failed (a wrong key, or a "
           "certificate not trusted?)";
  case COAP_NACK_WS_FAILED:
  case COAP_NACK_WS_LAYER_FAILED:
    return "the WebSocket upgrade or connection failed";
  default:
    return "transport failure";
  }
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid) {
  (void)mid;
  client_state_t *st = state_of(session);
  if (!st || st->done)
    return;
  if (sent) {
    coap_bin_const_t token = coap_pdu_get_token(sent);
    if (!coap_binary_equal(&token, &st->token))
      return;
  }
  coap_tick_t now;
  coap_ticks(&now);
  client_progress_end(st);
  char peer[PEER_TEXT];
  client_peer_text(session, peer);
  fprintf(stderr, "coap-client: request not delivered to %s after %.1f s: %s\n",
          peer, (double)(now - st->sent_at) / COAP_TICKS_PER_SECOND,
          nack_text(reason));
  st->status = EXIT_UNDELIVERED;
  st->done = 1;
}

/* Events the tool acts on. A block-wise upload that failed ends the run; a
 * Block2 body that went wrong is judged by the loop (the library either
 * asks for it again from block 0 or has given it up). A response the
 * library rejected before it reached on_response() (RFC 7252 5.4.1: an
 * unrecognized critical option) is counted so that the timeout message can
 * say so. */
static int on_event(coap_session_t *session, const coap_event_t event) {
  client_state_t *st = state_of(session);
  if (!st)
    return 0;
  switch (event) {
  case COAP_EVENT_BAD_PACKET:
    st->rejected++;
    break;
  case COAP_EVENT_PARTIAL_BLOCK:
    st->partial = 1;
    break;
  case COAP_EVENT_XMIT_BLOCK_FAIL:
    if (!st->done && !st->finished) { /* not after the server's error */
      fprintf(stderr, "coap-client: block-wise transfer failed: the request "
                      "body was not sent whole\n");
      st->status = EXIT_INCOMPLETE;
      st->done = 1;
    }
    break;
  case COAP_EVENT_KEEPALIVE_FAILURE:
    fprintf(stderr, "coap-client: keepalive ping to %s unanswered\n",
            coap_session_str(session));
    break;
  default:
    break;
  }
  return 0;
}

void client_handle_responses(coap_context_t *ctx, client_state_t *st) {
  coap_set_app_data(ctx, st);
  coap_register_response_handler(ctx, on_response);
  coap_register_nack_handler(ctx, on_nack);
  coap_register_event_handler(ctx, on_event);
}
