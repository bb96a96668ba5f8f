/*
 * request.c -- serving a request: option checks, resource dispatch and
 * sending the answer (RFC 7252 sections 5.2, 5.4, 5.7, 5.8 and 5.9).
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "context.h"
#include "dedup.h"
#include "exchange.h"
#include "multicast.h"
#include "pdu.h"
#include "plimits.h"
#include "recv.h"
#include "resource.h"
#include "session.h"

#define PATH_MAX_LEN 1024
#define QUERY_STACK_LEN 256

/* ---- option checks (RFC 7252 5.4.1) ------------------------------------ */

/* What RFC 7252 5.10 (and RFCs 7641, 7959, 7967, 8768, 9175) define for
 * an option Petrel understands: its value length range and whether it may
 * repeat. */
typedef struct opt_rule {
  uint16_t num;
  uint16_t min, max;
  uint8_t repeatable;
} opt_rule;

static const opt_rule rules[] = {
    {COAP_OPTION_IF_MATCH, 0, 8, 1},      {COAP_OPTION_URI_HOST, 1, 255, 0},
    {COAP_OPTION_ETAG, 1, 8, 1},          {COAP_OPTION_IF_NONE_MATCH, 0, 0, 0},
    {COAP_OPTION_OBSERVE, 0, 3, 0},       {COAP_OPTION_URI_PORT, 0, 2, 0},
    {COAP_OPTION_LOCATION_PATH, 0, 255, 1},
    {COAP_OPTION_URI_PATH, 0, 255, 1},    {COAP_OPTION_CONTENT_FORMAT, 0, 2, 0},
    {COAP_OPTION_MAXAGE, 0, 4, 0},        {COAP_OPTION_URI_QUERY, 0, 255, 1},
    {COAP_OPTION_HOP_LIMIT, 1, 1, 0},     {COAP_OPTION_ACCEPT, 0, 2, 0},
    {COAP_OPTION_LOCATION_QUERY, 0, 255, 1},
    {COAP_OPTION_BLOCK2, 0, 3, 0},        {COAP_OPTION_BLOCK1, 0, 3, 0},
    {COAP_OPTION_SIZE2, 0, 4, 0},         {COAP_OPTION_PROXY_URI, 1, 1034, 0},
    {COAP_OPTION_PROXY_SCHEME, 1, 255, 0}, {COAP_OPTION_SIZE1, 0, 4, 0},
    {COAP_OPTION_ECHO, 1, 40, 0},         {COAP_OPTION_NORESPONSE, 0, 1, 0},
    {COAP_OPTION_RTAG, 0, 8, 1},
};

static const opt_rule *rule_for(uint32_t num) {
  /* A short table in number order: a few comparisons per option. */
  for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) &&
                     rules[i].num <= num; i++)
    if (rules[i].num == num)
      return &rules[i];
  return NULL;
}

/*
 * 1 if option @num (value @vlen bytes; @repeat: same number as the one
 * before) is one Petrel can act on. RFC 7252 5.4.1/5.4.3/5.4.5: an unknown
 * option, one whose value is outside its length range and a repeat of a
 * non-repeatable one are all treated as unrecognized -- fatal (4.02) only
 * when critical. Options the application registered are taken as they are.
 */
static int option_ok(const coap_context_t *ctx, uint32_t num, size_t vlen,
                     int repeat) {
  if ((ctx->registered_opts[num >> 3] >> (num & 7)) & 1)
    return 1;
  const opt_rule *r = rule_for(num);
  return r && vlen >= r->min && vlen <= r->max && (!repeat || r->repeatable);
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
    if ((num & 1) && sc->unknown_critical < 0 &&
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
  coap_pdu_t *resp;
  if (separate) {
    coap_pdu_type_t t = rtype == COAP_MESSAGE_CON ? COAP_MESSAGE_CON
                                                  : COAP_MESSAGE_NON;
    resp = coap_pdu_init(t, 0, pt_session_next_mid(s),
                         coap_session_max_pdu_size(s));
  } else {
    resp = s->context->tx_pdu;
    int con = rtype == COAP_MESSAGE_CON;
    pt_pdu_clear(resp, con ? COAP_MESSAGE_ACK : COAP_MESSAGE_NON, 0,
                 con ? coap_pdu_get_mid(req) : pt_session_next_mid(s));
  }
  if (!resp)
    return NULL;
  coap_bin_const_t token = coap_pdu_get_token(req);
  if (!coap_add_token(resp, token.length, token.s)) {
    if (separate)
      coap_delete_pdu(resp);
    return NULL;
  }
  return resp;
}

/* Sends what the handler left in @resp, and records it for duplicates. */
static void finish(coap_session_t *s, const coap_pdu_t *req, coap_pdu_t *resp,
                   pt_dedup *d, int separate, coap_tick_t now) {
  int con = coap_pdu_get_type(req) == COAP_MESSAGE_CON;
  if (coap_pdu_get_code(resp) == 0) {
    /* No answer yet (or none at all): a CON still needs its Empty ACK so
     * that the peer stops retransmitting (RFC 7252 5.2.2). A separate
     * response without a code sends nothing. */
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
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_BAD_OPTION);
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
  int group = !separate && pt_mcast_arrived(s); /* RFC 7252 8 */
  coap_pdu_t *resp = response_for(s, req, separate);
  if (!resp)
    return;
  coap_resource_t *r = route(s, req, resp);
  if (group && !pt_mcast_resource_ok(s->context, r))
    return; /* not for groups: ignored (resp is the context's scratch) */
  const coap_resource_t *answering = r;
  /* Block-wise (block_server.c): may answer alone (held Block2 body, 2.31,
   * errors) or hand the handler a reassembled Block1 body instead. */
  coap_pdu_t *whole = NULL;
  if (r && pt_block_server_before(s, req, resp, &whole, separate, now))
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
  coap_delete_pdu(whole);
  if (group)
    pt_mcast_respond(s, req, resp, answering, now);
  else
    finish(s, req, resp, d, separate, now);
}
