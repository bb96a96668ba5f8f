/*
 * signal.c -- RFC 8323 section 5 signaling: CSM, Ping, Pong, Release and
 * Abort (see signal.h).
 *
 *   code  name     options (number: name, format, length)
 *   7.01  CSM      2: Max-Message-Size, uint, 0-4
 *                  4: Block-Wise-Transfer, empty
 *                  6: Extended-Token-Length, uint, 0-3 (RFC 8974 2.2.2)
 *   7.02  Ping     2: Custody, empty
 *   7.03  Pong     2: Custody, empty
 *   7.04  Release  2: Alternative-Address, string, 1-255, repeatable
 *                  4: Hold-Off, uint, 0-3 (seconds)
 *   7.05  Abort    2: Bad-CSM-Option, uint, 0-2
 *
 * All of them are elective (even). RFC 7252 5.4.3, which section 5.2
 * keeps: an elective option of a length outside its range is ignored like
 * an unknown one.
 */
#include "signal.h"

#include <string.h>

#include "pdu.h"

#define OPT_MMS COAP_SIGNALING_OPTION_MAX_MESSAGE_SIZE
#define OPT_BWT COAP_SIGNALING_OPTION_BLOCK_WISE_TRANSFER
#define OPT_ETL COAP_SIGNALING_OPTION_EXTENDED_TOKEN_LENGTH
#define OPT_CUSTODY COAP_SIGNALING_OPTION_CUSTODY
#define OPT_ALT COAP_SIGNALING_OPTION_ALTERNATIVE_ADDRESS
#define OPT_HOLD_OFF COAP_SIGNALING_OPTION_HOLD_OFF
#define OPT_BAD_CSM COAP_SIGNALING_OPTION_BAD_CSM_OPTION

void pt_signal_init(pt_signal_state *st) {
  memset(st, 0, sizeof(*st));
  st->peer.max_message_size = PT_SIGNAL_BASE_MMS;
  st->peer.max_token_length = PT_SIGNAL_BASE_TOKEN;
}

static pt_signal_action abort_with(pt_signal_info *info, uint32_t bad,
                                   const char *why) {
  info->bad_csm_option = bad;
  info->diagnostic = why;
  return info->action = PT_SIGNAL_ABORT;
}

/* Walks @pdu's options; for each one @known does not take, an odd
 * (critical) number aborts. @known returns 1 if it took the option. */
typedef int (*opt_fn)(pt_signal_state *st, pt_signal_info *info,
                      coap_option_num_t number, const uint8_t *value,
                      size_t len);

static int unknown_critical(pt_signal_state *st, const coap_pdu_t *pdu,
                            pt_signal_info *info, opt_fn known,
                            uint32_t *critical) {
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
  while ((opt = coap_option_next(&it))) {
    if (known(st, info, it.number, coap_opt_value(opt), coap_opt_length(opt)))
      continue;
    if (it.number & 1) {
      *critical = it.number;
      return 1;
    }
  }
  return 0;
}

static int csm_opt(pt_signal_state *st, pt_signal_info *info,
                   coap_option_num_t number, const uint8_t *value, size_t len) {
  if (number == OPT_MMS && len <= 4) {
    uint32_t mms = coap_decode_var_bytes(value, len);
    if (mms < PT_SIGNAL_MIN_MMS) /* the caller aborts, naming option 2 */
      info->bad_csm_option = OPT_MMS;
    else
      st->peer.max_message_size = mms;
  } else if (number == OPT_BWT && len == 0) {
    st->peer.block_wise = 1;
  } else if (number == OPT_ETL && len <= 3) {
    /* RFC 8974 2.2.2: below 8 means 8; no token is longer than 65804. */
    uint32_t v = coap_decode_var_bytes(value, len);
    st->peer.max_token_length = v < PT_SIGNAL_BASE_TOKEN ? PT_SIGNAL_BASE_TOKEN
                                : v > COAP_TOKEN_EXT_MAX ? COAP_TOKEN_EXT_MAX
                                                         : v;
  }
  return number == OPT_MMS || number == OPT_BWT || number == OPT_ETL;
}

static int ping_opt(pt_signal_state *st, pt_signal_info *info,
                    coap_option_num_t number, const uint8_t *value,
                    size_t len) {
  (void)st, (void)value;
  if (number == OPT_CUSTODY && len == 0)
    info->custody = 1;
  return number == OPT_CUSTODY;
}

static int release_opt(pt_signal_state *st, pt_signal_info *info,
                       coap_option_num_t number, const uint8_t *value,
                       size_t len) {
  (void)st;
  if (number == OPT_ALT && len >= 1 && len <= 255 && !info->alt_address) {
    info->alt_address = value;
    info->alt_address_len = len;
  } else if (number == OPT_HOLD_OFF && len <= 3) {
    info->hold_off = coap_decode_var_bytes(value, len);
  }
  return number == OPT_ALT || number == OPT_HOLD_OFF;
}

static int abort_opt(pt_signal_state *st, pt_signal_info *info,
                     coap_option_num_t number, const uint8_t *value,
                     size_t len) {
  (void)st;
  if (number == OPT_BAD_CSM && len <= 2)
    info->bad_csm_option = coap_decode_var_bytes(value, len);
  return number == OPT_BAD_CSM;
}

pt_signal_action pt_signal_rx(pt_signal_state *st, const coap_pdu_t *pdu,
                              pt_signal_info *info) {
  memset(info, 0, sizeof(*info));
  coap_pdu_code_t code = pdu->code;
  if (code == COAP_EMPTY_CODE) /* RFC 8323 3.4: always ignored */
    return info->action = PT_SIGNAL_IGNORE;
  if (!st->csm_received && code != COAP_SIGNALING_CODE_CSM)
    return abort_with(info, 0, "CSM expected first");
  if ((code >> 5) != 7)
    return info->action = PT_SIGNAL_PASS;
  uint32_t critical = 0;
  opt_fn known;
  pt_signal_action ok;
  switch (code) {
  case COAP_SIGNALING_CODE_CSM:
    known = csm_opt, ok = PT_SIGNAL_CSM;
    break;
  case COAP_SIGNALING_CODE_PING:
    known = ping_opt, ok = PT_SIGNAL_PING;
    break;
  case COAP_SIGNALING_CODE_PONG:
    known = ping_opt, ok = PT_SIGNAL_PONG;
    break;
  case COAP_SIGNALING_CODE_RELEASE:
    known = release_opt, ok = PT_SIGNAL_RELEASE;
    break;
  case COAP_SIGNALING_CODE_ABORT:
    known = abort_opt, ok = PT_SIGNAL_ABORTED;
    break;
  default: /* an unassigned 7.xx: nothing defines what it asks */
    return info->action = PT_SIGNAL_IGNORE;
  }
  if (unknown_critical(st, pdu, info, known, &critical)) {
    /* The peer's abort stands whatever else it carried. */
    if (ok == PT_SIGNAL_ABORTED)
      return info->action = ok;
    memset(info, 0, sizeof(*info));
    return abort_with(info, code == COAP_SIGNALING_CODE_CSM ? critical : 0,
                      code == COAP_SIGNALING_CODE_CSM
                          ? "unknown critical CSM option"
                          : "unknown critical option");
  }
  if (code == COAP_SIGNALING_CODE_CSM && info->bad_csm_option) {
    uint32_t bad = info->bad_csm_option;
    memset(info, 0, sizeof(*info));
    return abort_with(info, bad, "Max-Message-Size too small");
  }
  if (code == COAP_SIGNALING_CODE_CSM)
    st->csm_received = 1;
  return info->action = ok;
}

int pt_signal_bert(const pt_signal_state *st, uint32_t our_mms) {
  return st->csm_received && st->peer.block_wise &&
         st->peer.max_message_size > PT_SIGNAL_BASE_MMS &&
         our_mms > PT_SIGNAL_BASE_MMS;
}

/* ---- builders ---- */

static int begin(coap_pdu_t *pdu, coap_pdu_code_t code, size_t token_len,
                 const uint8_t *token) {
  if (!pdu)
    return 0;
  pt_pdu_clear(pdu, COAP_MESSAGE_CON, code, 0);
  return coap_add_token(pdu, token_len, token);
}

static int add_uint(coap_pdu_t *pdu, coap_option_num_t number, uint32_t v) {
  uint8_t buf[4];
  unsigned n = coap_encode_var_safe(buf, sizeof(buf), v);
  return coap_add_option(pdu, number, n, buf) != 0;
}

int pt_signal_build_csm(coap_pdu_t *pdu, uint32_t mms, int block_wise) {
  return begin(pdu, COAP_SIGNALING_CODE_CSM, 0, NULL) &&
         add_uint(pdu, OPT_MMS, mms) &&
         (!block_wise || coap_add_option(pdu, OPT_BWT, 0, NULL));
}

int pt_signal_build_ping(coap_pdu_t *pdu, int custody, size_t token_len,
                         const uint8_t *token) {
  return begin(pdu, COAP_SIGNALING_CODE_PING, token_len, token) &&
         (!custody || coap_add_option(pdu, OPT_CUSTODY, 0, NULL));
}

int pt_signal_build_pong(coap_pdu_t *pdu, const coap_pdu_t *ping) {
  if (!ping)
    return 0;
  coap_opt_iterator_t it;
  int custody = coap_check_option(ping, OPT_CUSTODY, &it) != NULL;
  coap_bin_const_t tok = coap_pdu_get_token(ping);
  return begin(pdu, COAP_SIGNALING_CODE_PONG, tok.length, tok.s) &&
         (!custody || coap_add_option(pdu, OPT_CUSTODY, 0, NULL));
}

int pt_signal_build_release(coap_pdu_t *pdu, const char *alt,
                            uint32_t hold_off) {
  size_t n = alt ? strlen(alt) : 0;
  if ((alt && (n < 1 || n > 255)) || hold_off > 0xFFFFFFu)
    return 0;
  return begin(pdu, COAP_SIGNALING_CODE_RELEASE, 0, NULL) &&
         (!alt || coap_add_option(pdu, OPT_ALT, n, (const uint8_t *)alt)) &&
         (!hold_off || add_uint(pdu, OPT_HOLD_OFF, hold_off));
}

int pt_signal_build_abort(coap_pdu_t *pdu, uint32_t bad_csm_option,
                          const char *diagnostic) {
  size_t n = diagnostic ? strlen(diagnostic) : 0;
  return begin(pdu, COAP_SIGNALING_CODE_ABORT, 0, NULL) &&
         (!bad_csm_option || add_uint(pdu, OPT_BAD_CSM, bad_csm_option)) &&
         coap_add_data(pdu, n, (const uint8_t *)diagnostic);
}
