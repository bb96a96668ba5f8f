/*
 * request.c -- serving a request: option checks, resource dispatch and
 * sending the answer (RFC 7252 sections 5.2, 5.4, 5.7, 5.8 and 5.9).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "context.h"
#include "dedup.h"
#include "exchange.h"
#include "observe.h"
#include "pdu.h"
#include "plimits.h"
#include "recv.h"
#include "resource.h"
#include "session.h"

#define PATH_MAX_LEN 1024
#define QUERY_STACK_LEN 256

/* ---- option checks (RFC 7252 5.4.1) ------------------------------------ */

/*
 * 1 if option @num (value @vlen bytes; @repeat: same number as the one
 * before) is one Petrel can act on (option.c). RFC 7252 5.4.1/5.4.3/5.4.5:
 * an unknown option, one whose value is outside its length range and a
 * repeat of a non-repeatable one are all treated as unrecognized -- fatal
 * (4.02) only when critical. Options the application registered are taken
 * as they are.
 */
static int option_ok(const coap_context_t *ctx, uint32_t num, size_t vlen,
                     int repeat) {
  return pt_opt_recognized(ctx->registered_opts, num, vlen, repeat);
}

/* ---- one walk over the options ------------------------------------------ */

/*
 * Steps to the next option of the encoded options @opts[0..len) (a parsed
 * or built PDU's, so already checked), at *@at; sets its number (running
 * delta sum in *@num), value and length. Returns 0 at the end.
 */
static int next_option(const uint8_t *opts, size_t len, size_t *at,
                       uint32_t *num, const uint8_t **val, size_t *vlen) {
  pt_opt_hdr h;
  if (*at >= len || opts[*at] == PT_PAYLOAD_MARKER ||
      pt_opt_decode(opts + *at, len - *at, &h) != 0)
    return 0;
  *num += h.delta;
  *val = opts + *at + h.size;
  *vlen = h.length;
  *at += h.size + h.length;
  return 1;
}

/* What the dispatcher needs to know of a request's options, from one walk
 * (the options come in number order, RFC 7252 3.1). */
typedef struct req_scan {
  int unknown_critical; /* first unrecognized critical option, or -1 */
  int proxy;            /* Proxy-Uri or Proxy-Scheme present */
  int path_ok;          /* 0 if the joined Uri-Path did not fit */
  size_t path_len;      /* joined Uri-Path, '/'-separated, in the buffer */
} req_scan;

static void scan_request(const coap_context_t *ctx, const coap_pdu_t *req,
                         uint8_t *path, size_t cap, req_scan *sc) {
  size_t len, at = 0, vlen;
  const uint8_t *opts = pt_pdu_opts(req, &len), *val;
  uint32_t num = 0, prev = 0;
  *sc = (req_scan){.unknown_critical = -1, .path_ok = 1};
  for (int first = 1; next_option(opts, len, &at, &num, &val, &vlen);
       prev = num, first = 0) {
    if (pt_opt_is_critical(num) && sc->unknown_critical < 0 &&
        !option_ok(ctx, num, vlen, !first && num == prev))
      sc->unknown_critical = (int)num;
    if (num == COAP_OPTION_PROXY_URI || num == COAP_OPTION_PROXY_SCHEME)
      sc->proxy = 1;
    if (num != COAP_OPTION_URI_PATH || !sc->path_ok)
      continue;
    if (sc->path_len + vlen + 1 > cap) {
      sc->path_ok = 0;
      continue;
    }
    if (sc->path_len)
      path[sc->path_len++] = '/';
    memcpy(path + sc->path_len, val, vlen);
    sc->path_len += vlen;
  }
}

/* ---- query ----------------------------------------------------------------- */

/* The Uri-Query options joined with '&', in @stack when it fits, else
 * allocated (*heap set, caller frees). Returns 0, -1 on no memory. */
static int join_query(const coap_pdu_t *pdu, coap_string_t *q, uint8_t *stack,
                      size_t cap, uint8_t **heap) {
  size_t len, at = 0, vlen, total = 0, count = 0;
  const uint8_t *opts = pt_pdu_opts(pdu, &len), *val;
  uint32_t num = 0;
  while (next_option(opts, len, &at, &num, &val, &vlen) &&
         num <= COAP_OPTION_URI_QUERY) {
    if (num == COAP_OPTION_URI_QUERY) {
      total += vlen + (count ? 1 : 0);
      count++;
    }
  }
  *heap = NULL;
  q->length = 0;
  q->s = NULL;
  if (!count)
    return 0;
  uint8_t *buf = stack;
  if (total + 1 > cap && !(buf = *heap = malloc(total + 1)))
    return -1;
  size_t n = 0;
  at = 0;
  num = 0;
  while (next_option(opts, len, &at, &num, &val, &vlen) &&
         num <= COAP_OPTION_URI_QUERY) {
    if (num != COAP_OPTION_URI_QUERY)
      continue;
    if (n)
      buf[n++] = '&';
    memcpy(buf + n, val, vlen);
    n += vlen;
  }
  buf[n] = 0;
  q->s = buf;
  q->length = n;
  return 0;
}

/* ---- the response ------------------------------------------------------ */

/* Prepares the response PDU: piggybacked in the ACK of a CON, a NON for a
 * NON, or for a separate response a new CON/NON of its own (allocated, as
 * a CON must be kept for retransmission). */
static coap_pdu_t *response_for(coap_session_t *s, const coap_pdu_t *req,
                                int separate) {
  coap_pdu_type_t rtype = coap_pdu_get_type(req);
  coap_bin_const_t token = coap_pdu_get_token(req);
  /* An extended token (RFC 8974) takes no room from the handler's. */
  size_t extra = token.length > COAP_TOKEN_DEFAULT_MAX
                     ? token.length - COAP_TOKEN_DEFAULT_MAX
                     : 0;
  coap_pdu_t *resp;
  if (separate) {
    coap_pdu_type_t t = rtype == COAP_MESSAGE_CON ? COAP_MESSAGE_CON
                                                  : COAP_MESSAGE_NON;
    resp = coap_pdu_init(t, 0, pt_session_next_mid(s),
                         coap_session_max_pdu_size(s) + extra);
  } else {
    resp = s->context->tx_pdu;
    int con = rtype == COAP_MESSAGE_CON;
    pt_pdu_clear(resp, con ? COAP_MESSAGE_ACK : COAP_MESSAGE_NON, 0,
                 con ? coap_pdu_get_mid(req) : pt_session_next_mid(s));
    resp->max_size = COAP_DEFAULT_MTU - 4 + extra; /* as context.c made it */
  }
  if (!resp)
    return NULL;
  if (!coap_add_token(resp, token.length, token.s)) {
    if (separate)
      coap_delete_pdu(resp);
    return NULL;
  }
  return resp;
}

/*
 * RFC 7967: 1 if the request's No-Response option asks not to be sent a
 * response with @code. The value is a bit mask of the classes to suppress:
 * 2 for 2.xx, 8 for 4.xx, 16 for 5.xx (bit n-1 for class n); 0 suppresses
 * nothing. An option longer than its one byte is unrecognized (elective:
 * ignored).
 */
static int no_response(const coap_pdu_t *req, coap_pdu_code_t code) {
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(req, COAP_OPTION_NORESPONSE, &it);
  unsigned cls = COAP_RESPONSE_CLASS(code);
  if (!o || coap_opt_length(o) > 1 || cls < 1)
    return 0;
  unsigned mask = coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o));
  return (mask >> (cls - 1)) & 1;
}

/* Sends what the handler left in @resp, and records it for duplicates. */
static void finish(coap_session_t *s, const coap_pdu_t *req, coap_pdu_t *resp,
                   pt_dedup *d, int separate, coap_tick_t now) {
  int con = coap_pdu_get_type(req) == COAP_MESSAGE_CON;
  coap_pdu_code_t code = coap_pdu_get_code(resp);
  if (code == 0 || no_response(req, code)) {
    /* No answer yet, none at all, or one the client asked not to get: a
     * CON still needs its Empty ACK so that the peer stops retransmitting
     * (RFC 7252 5.2.2, RFC 7967 2). A separate response sends nothing. */
    if (!separate && con) {
      pt_send_empty(s, COAP_MESSAGE_ACK, coap_pdu_get_mid(req));
      if (d)
        pt_dedup_set_reply(d, PT_DEDUP_EMPTY_ACK, NULL, 0);
    }
    if (separate)
      coap_delete_pdu(resp);
    return;
  }
  if (separate) {
    pt_exchange_send(s, resp, now);
    return;
  }
  const uint8_t *data;
  size_t len;
  if (!pt_pdu_wire(resp, &data, &len))
    return;
  if (coap_get_log_level() >= COAP_LOG_DEBUG)
    coap_show_pdu(COAP_LOG_DEBUG, resp);
  pt_send_bytes(s, data, len);
  if (d && con)
    pt_dedup_set_reply(d, PT_DEDUP_REPLY, data, len);
}

/* ---- dispatch ------------------------------------------------------------ */

/* Decides who answers: returns the resource whose handler runs, or NULL
 * with an error code set in @resp (or .well-known/core answered). */
static coap_resource_t *route(coap_session_t *s, const coap_pdu_t *req,
                              coap_pdu_t *resp) {
  coap_context_t *ctx = s->context;
  coap_pdu_code_t method = coap_pdu_get_code(req);
  uint8_t path[PATH_MAX_LEN];
  req_scan sc;
  scan_request(ctx, req, path, sizeof(path), &sc);
  size_t plen = sc.path_ok ? sc.path_len : 0;
  if (sc.unknown_critical >= 0) {
    /* RFC 7252 5.5.2: a diagnostic payload naming the option. */
    char diag[40];
    int n = snprintf(diag, sizeof(diag), "Bad critical option %d",
                     sc.unknown_critical);
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_BAD_OPTION);
    coap_add_data(resp, (size_t)n, (const uint8_t *)diag);
    return NULL;
  }
  if (sc.proxy) {
    if (ctx->proxy_resource &&
        pt_resource_has_handler(ctx->proxy_resource, method))
      return ctx->proxy_resource;
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_PROXYING_NOT_SUPPORTED);
    return NULL;
  }
  coap_resource_t *r = sc.path_ok ? pt_resource_find(ctx, path, plen) : NULL;
  if (!r && !ctx->have_wellknown && plen == 16 &&
      memcmp(path, ".well-known/core", 16) == 0) {
    if (method == COAP_REQUEST_CODE_GET)
      pt_wellknown_respond(ctx, s, req, resp);
    else
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_ALLOWED);
    return NULL;
  }
  if (!r && ctx->unknown_resource &&
      pt_resource_has_handler(ctx->unknown_resource, method))
    return ctx->unknown_resource;
  if (!r) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_FOUND);
    return NULL;
  }
  if (!pt_resource_has_handler(r, method)) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_ALLOWED);
    return NULL;
  }
  return r;
}

void pt_request_dispatch(coap_session_t *s, const coap_pdu_t *req, pt_dedup *d,
                         int separate, coap_tick_t now) {
  coap_pdu_t *resp = response_for(s, req, separate);
  if (!resp)
    return;
  coap_resource_t *r = route(s, req, resp);
  /* Block-wise (block_server.c): may answer alone (held Block2 body, 2.31,
   * errors) or hand the handler a reassembled Block1 body instead. */
  coap_pdu_t *whole = NULL;
  if (r && pt_block_server_before(s, req, resp, &whole, r, separate, now))
    r = NULL;
  const coap_pdu_t *hreq = whole ? whole : req;
  if (r) {
    uint8_t qbuf[QUERY_STACK_LEN];
    uint8_t *qheap;
    coap_string_t query;
    if (join_query(hreq, &query, qbuf, sizeof(qbuf), &qheap) < 0) {
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    } else {
      pt_resource_call(r, coap_pdu_get_code(hreq), s, hreq,
                       query.s ? &query : NULL, resp);
      free(qheap);
    }
  }
  pt_block_server_after(s, hreq, resp, now); /* large response bookkeeping */
  pt_observe_request_done(s, r, hreq, resp, now); /* RFC 7641 registration */
  coap_delete_pdu(whole);
  finish(s, req, resp, d, separate, now);
}
