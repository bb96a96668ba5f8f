/*
 * ext_token.c -- finding out whether a server takes extended tokens
 * (RFC 8974 section 2.2.2); see ext_token.h.
 */
#include "ext_token.h"

#include <stdlib.h>

#include "context.h"
#include "exchange.h"
#include "pdu.h"
#include "session.h"

static int is_request(const coap_pdu_t *pdu) {
  coap_pdu_code_t c = coap_pdu_get_code(pdu);
  return c >= 1 && c <= 31;
}

size_t pt_ext_token_limit(const coap_session_t *s) {
  if (s->type == COAP_SESSION_TYPE_CLIENT &&
      s->ext_token_state == PT_EXT_TOKEN_CHECKED)
    return s->max_token_size;
  return s->context->max_token_size;
}

static void settle(coap_session_t *s, size_t limit) {
  s->ext_token_state = PT_EXT_TOKEN_CHECKED;
  s->max_token_size = limit;
  coap_log_debug("* %s: tokens of up to %zu bytes (RFC 8974)\n",
                 coap_session_str(s), limit);
}

/* The probe's token: as long as the context allows, or as fits the
 * session's datagrams with the one-byte If-None-Match. Random, so that it
 * is no token the application uses. */
static int send_probe(coap_session_t *s, coap_tick_t now) {
  size_t room = coap_session_max_pdu_size(s);
  size_t len = s->context->max_token_size;
  if (room > 1 && len > room - 1)
    len = room - 1;
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                                pt_session_next_mid(s), room);
  uint8_t *tok = malloc(len);
  if (!p || !tok || !coap_prng(tok, len) || !coap_add_token(p, len, tok) ||
      !coap_add_option(p, COAP_OPTION_IF_NONE_MATCH, 0, NULL)) {
    free(tok);
    coap_delete_pdu(p);
    return -1;
  }
  free(tok);
  p->session = s;
  s->ext_token_state = PT_EXT_TOKEN_CHECKING;
  coap_bin_const_t t = coap_pdu_get_token(p);
  if (pt_exchange_send(s, p, now) == COAP_INVALID_MID)
    return -1;
  pt_exchange *ex = pt_exchange_by_token(s, &t);
  if (!ex)
    return -1;
  ex->ext_probe = 1;
  coap_log_debug("* %s: probing for extended tokens of %zu bytes\n",
                 coap_session_str(s), len);
  return 0;
}

int pt_ext_token_before_send(coap_session_t *s, const coap_pdu_t *pdu,
                             coap_tick_t now) {
  if (!is_request(pdu))
    return 0;
  if (s->type == COAP_SESSION_TYPE_CLIENT &&
      s->ext_token_state == PT_EXT_TOKEN_UNCHECKED &&
      s->context->max_token_size > COAP_TOKEN_DEFAULT_MAX &&
      send_probe(s, now) < 0)
    settle(s, COAP_TOKEN_DEFAULT_MAX); /* could not ask: assume none */
  size_t limit = pt_ext_token_limit(s);
  coap_bin_const_t t = coap_pdu_get_token(pdu);
  if (t.length <= limit)
    return 0;
  coap_log_warn("coap_send: token of %zu bytes is longer than %zu: "
                "request dropped\n",
                t.length, limit);
  return -1;
}

void pt_ext_token_answered(pt_exchange *ex, const coap_pdu_t *response) {
  coap_bin_const_t sent = coap_pdu_get_token(ex->pdu);
  coap_bin_const_t got = coap_pdu_get_token(response);
  coap_pdu_code_t code = coap_pdu_get_code(response);
  int ok = got.length == sent.length &&
           code != COAP_RESPONSE_CODE_BAD_REQUEST &&
           code != COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE;
  settle(ex->session, ok ? sent.length : COAP_TOKEN_DEFAULT_MAX);
}

void pt_ext_token_failed(pt_exchange *ex) {
  settle(ex->session, COAP_TOKEN_DEFAULT_MAX);
}
