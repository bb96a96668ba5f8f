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
#include "multicast.h"
#include "observe.h"
#include "pdu.h"
#include "plimits.h"
#include "recv.h"
#include "resource.h"
#include "session.h"
#include "uri.h"

#define PATH_MAX_LEN 1024
#define QUERY_STACK_LEN 256

/* ---- option checks (RFC 7252 5.4.1) ------------------------------------ */

/* RFC 7252 5.10, Table 4: a Uri-Path value is 0 to 255 bytes. */
#define URI_PATH_MAX_LEN 255

/*
 * 1 if option @num (value @vlen bytes; @repeat: same number as the one
 * before) is one Petrel can act on (option.c). RFC 7252 5.4.1/5.4.3/5.4.5:
 * an unknown option, one whose value is outside its length range and a
 * repeat of a non-repeatable one are all treated as unrecognized -- fatal
 * (4.02) only when critical. Options the application registered are taken
 * as they are. Uri-Path, the critical option of nearly every request, is
 * answered here without the call: it is repeatable and recognized in its
 * whole length range (test_request checks that option.c agrees).
 */
static int option_ok(const coap_context_t *ctx, uint32_t num, size_t vlen,
                     int repeat) {
  if (num == COAP_OPTION_URI_PATH && vlen <= URI_PATH_MAX_LEN)
    return 1;
  return pt_opt_recognized(ctx->registered_opts, num, vlen, repeat);
}

/* ---- one walk over the options ------------------------------------------ */

/*
 * Steps to the next option of the encoded options @opts[0..len) (a parsed
 * or built PDU's, so already checked), at *@at; sets its number (running
 * delta sum in *@num), value and length. Returns 0 at the end. A one-byte
 * header (delta and length both below 13, RFC 7252 3.1), the usual case,
 * is read here; the extended forms go to pt_opt_decode().
 */
static int next_option(const uint8_t *opts, size_t len, size_t *at,
                       uint32_t *num, const uint8_t **val, size_t *vlen) {
  if (*at >= len || opts[*at] == PT_PAYLOAD_MARKER)
    return 0;
  unsigned b = opts[*at], delta = b >> 4, length = b & 15;
  if (delta < 13 && length < 13 && length < len - *at) {
    *num += delta;
    *val = opts + *at + 1;
    *vlen = length;
    *at += 1 + length;
    return 1;
  }
  pt_opt_hdr h;
  if (pt_opt_decode(opts + *at, len - *at, &h) != 0)
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
  const uint8_t *proxy_uri, *uri_host; /* their values, or NULL */
  size_t proxy_uri_len, uri_host_len;
  pt_uri_path_key path; /* the resource key (resource.h), if it fit */
} req_scan;

static void scan_request(const coap_context_t *ctx, const coap_pdu_t *req,
                         uint8_t *path, size_t cap, req_scan *sc) {
  size_t len, at = 0, vlen;
  const uint8_t *opts = pt_pdu_opts(req, &len), *val;
  uint32_t num = 0, prev = 0;
  sc->unknown_critical = -1;
  sc->proxy = 0;
  sc->proxy_uri = sc->uri_host = NULL;
  pt_uri_path_key_init(&sc->path, path, cap);
  for (int first = 1; next_option(opts, len, &at, &num, &val, &vlen);
       prev = num, first = 0) {
    if (pt_opt_is_critical(num) && sc->unknown_critical < 0 &&
        !option_ok(ctx, num, vlen, !first && num == prev))
      sc->unknown_critical = (int)num;
    if (num == COAP_OPTION_URI_PATH) {
      /* Each option is one segment: a '/' in it is data (RFC 7252 6.5),
       * encoded as coap_get_uri_path() does. */
      pt_uri_path_key_add(&sc->path, val, vlen);
      continue;
    }
    if (num == COAP_OPTION_PROXY_URI || num == COAP_OPTION_PROXY_SCHEME)
      sc->proxy = 1;
    if (num == COAP_OPTION_PROXY_URI)
      sc->proxy_uri = val, sc->proxy_uri_len = vlen;
    if (num == COAP_OPTION_URI_HOST)
      sc->uri_host = val, sc->uri_host_len = vlen;
  }
}

/* ---- query -----------------------------------------------------------------
 */

/* The query the handler sees, as coap_get_query() gives it: the Uri-Query
 * options (or, for a Proxy-Uri served locally, that URI's query), in
 * @stack when it fits, else allocated (*heap set, caller frees). Returns 0,
 * -1 on no memory. */
static int build_query(const coap_pdu_t *pdu, const coap_uri_t *proxy_uri,
                       coap_string_t *q, uint8_t *stack, size_t cap,
                       uint8_t **heap) {
  size_t count = 1, total;
  *heap = NULL;
  q->length = 0;
  q->s = NULL;
  if (!proxy_uri && !pt_pdu_may_have(pdu, COAP_OPTION_URI_QUERY))
    return 0; /* most requests: no query, and no call to find it out */
  if (proxy_uri) {
    total =
        pt_uri_query_canon(proxy_uri->query.s, proxy_uri->query.length, NULL);
    count = proxy_uri->query.length != 0;
  } else {
    total = pt_uri_query_of_options(pdu, NULL, &count);
  }
  if (!count)
    return 0;
  uint8_t *buf = stack;
  if (total + 1 > cap && !(buf = *heap = malloc(total + 1)))
    return -1;
  if (proxy_uri)
    pt_uri_query_canon(proxy_uri->query.s, proxy_uri->query.length, buf);
  else
    pt_uri_query_of_options(pdu, buf, &count);
  buf[total] = 0;
  q->s = buf;
  q->length = total;
  return 0;
}

/* ---- the response ------------------------------------------------------ */

/* Prepares the response PDU: piggybacked in the ACK of a CON, a NON for a
 * NON, or for a separate response a new CON/NON of its own (allocated, as
 * a CON must be kept for retransmission). */
static coap_pdu_t *response_for(coap_session_t *s, const coap_pdu_t *req,
                                int separate) {
  coap_pdu_type_t rtype = req->type;
  coap_bin_const_t token = {req->token_length, req->token};
  /* An extended token (RFC 8974) takes no room from the handler's. */
  size_t extra = token.length > COAP_TOKEN_DEFAULT_MAX
                     ? token.length - COAP_TOKEN_DEFAULT_MAX
                     : 0;
  coap_pdu_t *resp;
  if (separate) {
    coap_pdu_type_t t =
        rtype == COAP_MESSAGE_CON ? COAP_MESSAGE_CON : COAP_MESSAGE_NON;
    resp = coap_pdu_init(t, 0, pt_session_next_mid(s),
                         coap_session_max_pdu_size(s) + extra);
  } else {
    resp = s->context->tx_pdu;
    int con = rtype == COAP_MESSAGE_CON;
    pt_pdu_clear(resp, con ? COAP_MESSAGE_ACK : COAP_MESSAGE_NON, 0,
                 con ? req->mid : pt_session_next_mid(s));
    resp->max_size = (pt_session_reliable(s) ? coap_session_max_pdu_size(s)
                                             : COAP_DEFAULT_MTU - 4) +
                     extra; /* as context.c made it; TCP: the peer's CSM */
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
  if (!pt_pdu_may_have(req, COAP_OPTION_NORESPONSE))
    return 0;
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
  int con = req->type == COAP_MESSAGE_CON;
  coap_pdu_code_t code = resp->code;
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
  if (!pt_pdu_wire_proto(resp, s->proto, &data, &len))
    return;
  pt_send_bytes(s, data, len);
  if (d && con)
    pt_dedup_set_reply(d, PT_DEDUP_REPLY, data, len);
}

/* ---- dispatch ------------------------------------------------------------ */

/* Who answers a request: a resource's handler, the built-in
 * /.well-known/core, or nobody (the error code is already in the
 * response). */
typedef struct target {
  coap_resource_t *r;
  int wellknown;
  int proxy_local;      /* a Proxy-Uri naming this server (RFC 7252 5.7.2):
                           path and query come from it */
  coap_uri_t proxy_uri; /* its parts, pointing into the request */
} target;

/* Whether a Proxy-Uri or Proxy-Scheme request names this server itself
 * (then served from our own resources); fills @t's proxy_uri for a
 * Proxy-Uri. */
static int proxy_is_local(const coap_resource_t *proxy, const req_scan *sc,
                          target *t) {
  if (sc->proxy_uri) {
    if (coap_split_proxy_uri(sc->proxy_uri, sc->proxy_uri_len, &t->proxy_uri) <
        0)
      return 0; /* the proxy's handler judges what it cannot parse */
    return pt_resource_proxy_is_local(proxy, t->proxy_uri.host.s,
                                      t->proxy_uri.host.length);
  }
  return pt_resource_proxy_is_local(proxy, sc->uri_host, sc->uri_host_len);
}

/* The resource key of @req: in @buf, in the request itself (a plain
 * single segment) or allocated in *@heap when it does not fit @buf (caller
 * frees); *@len set. Returns 0, -1 on no memory. */
static int request_key(const coap_pdu_t *req, const req_scan *sc,
                       const target *t, uint8_t *buf, size_t cap,
                       const uint8_t **key, size_t *len, uint8_t **heap) {
  *heap = NULL;
  if (t->proxy_local) {
    const coap_str_const_t *p = &t->proxy_uri.path;
    uint8_t *to = buf;
    *len = pt_uri_path_canon(p->s, p->length, NULL);
    if (*len > cap && !(to = *heap = malloc(*len)))
      return -1;
    pt_uri_path_canon(p->s, p->length, to);
    *key = to;
    return 0;
  }
  if (sc->path.ok) {
    *key = sc->path.s;
    *len = sc->path.len;
    return 0;
  }
  *len = pt_uri_path_of_options(req, NULL);
  if (!(*key = *heap = malloc(*len ? *len : 1)))
    return -1;
  pt_uri_path_of_options(req, *heap);
  return 0;
}

/* An error the library answers by itself: the code's reason phrase goes
 * along as diagnostic payload (RFC 7252 5.5.2), as in libcoap, so that a
 * client can show "4.04 Not Found". */
static void library_error(coap_pdu_t *resp, coap_pdu_code_t code) {
  coap_pdu_set_code(resp, code);
  const char *phrase = coap_response_phrase(code);
  if (phrase)
    coap_add_data(resp, strlen(phrase), (const uint8_t *)phrase);
}

/* The resource a request's options name (scan_request(), request_key(),
 * pt_resource_find()), or NULL with the answer decided: the error code in
 * @resp, or @t set for the proxy or /.well-known/core. *@found is set
 * when the answer is still to be decided from the resource (or its
 * absence: then NULL is returned with *@found set). */
static coap_resource_t *resolve(coap_context_t *ctx, const coap_pdu_t *req,
                                coap_pdu_t *resp, target *t, int *found) {
  coap_pdu_code_t method = req->code;
  uint8_t path[PATH_MAX_LEN];
  req_scan sc;
  *found = 0;
  scan_request(ctx, req, path, sizeof(path), &sc);
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
    coap_resource_t *proxy = ctx->proxy_resource;
    if (!proxy || !pt_resource_has_handler(proxy, method)) {
      library_error(resp, COAP_RESPONSE_CODE_PROXYING_NOT_SUPPORTED);
      return NULL;
    }
    if (!proxy_is_local(proxy, &sc, t)) {
      t->r = proxy;
      return NULL;
    }
    t->proxy_local = sc.proxy_uri != NULL; /* else Uri-Path as usual */
  }
  const uint8_t *key;
  uint8_t *heap;
  size_t plen;
  if (request_key(req, &sc, t, path, sizeof(path), &key, &plen, &heap) < 0) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return NULL;
  }
  coap_resource_t *r = pt_resource_find(ctx, key, plen);
  int wellknown = !r && !ctx->have_wellknown && plen == 16 &&
                  memcmp(key, ".well-known/core", 16) == 0;
  if (heap)
    free(heap);
  if (wellknown) {
    if (method == COAP_REQUEST_CODE_GET)
      t->wellknown = 1;
    else
      library_error(resp, COAP_RESPONSE_CODE_NOT_ALLOWED);
    return NULL;
  }
  if (r && !sc.proxy) { /* the route depends on the options' bytes only */
    size_t olen;
    const uint8_t *opts = pt_pdu_opts(req, &olen);
    pt_route_cache_put(ctx, opts, olen, r);
  }
  *found = 1;
  return r;
}

/* Decides who answers (see target). A request whose options repeat those
 * of the last one routed to a resource goes straight to that resource
 * (pt_route_cache_get()). */
static void route(coap_session_t *s, const coap_pdu_t *req, coap_pdu_t *resp,
                  target *t) {
  coap_context_t *ctx = s->context;
  coap_pdu_code_t method = req->code;
  t->r = NULL;
  t->wellknown = 0;
  t->proxy_local = 0;
  size_t olen;
  const uint8_t *opts = pt_pdu_opts(req, &olen);
  coap_resource_t *r = pt_route_cache_get(ctx, opts, olen);
  if (!r) {
    int found;
    r = resolve(ctx, req, resp, t, &found);
    if (!found)
      return;
  }
  if (!r && ctx->unknown_resource &&
      pt_resource_has_handler(ctx->unknown_resource, method)) {
    t->r = ctx->unknown_resource;
    return;
  }
  if (!r) {
    library_error(resp, COAP_RESPONSE_CODE_NOT_FOUND);
    return;
  }
  if (!pt_resource_has_handler(r, method)) {
    library_error(resp, COAP_RESPONSE_CODE_NOT_ALLOWED);
    return;
  }
  t->r = r;
}

/* Runs the handler @t chose (or the built-in /.well-known/core) on @hreq. */
static void serve(coap_session_t *s, const coap_pdu_t *hreq, const target *t,
                  coap_pdu_t *resp) {
  uint8_t qbuf[QUERY_STACK_LEN];
  uint8_t *qheap;
  coap_string_t query;
  if (build_query(hreq, t->proxy_local ? &t->proxy_uri : NULL, &query, qbuf,
                  sizeof(qbuf), &qheap) < 0) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  const coap_string_t *q = query.s ? &query : NULL;
  if (t->wellknown)
    pt_wellknown_respond(s->context, s, hreq, q, resp);
  else
    pt_resource_call(t->r, hreq->code, s, hreq, q, resp);
  if (qheap)
    free(qheap);
}

void pt_request_dispatch(coap_session_t *s, const coap_pdu_t *req, pt_dedup *d,
                         int separate, coap_tick_t now) {
  int group = !separate && pt_mcast_arrived(s); /* RFC 7252 8 */
  coap_pdu_t *resp = response_for(s, req, separate);
  if (!resp)
    return;
  target t;
  route(s, req, resp, &t);
  if (group && !pt_mcast_resource_ok(s->context, t.r))
    return; /* not for groups: ignored (resp is the context's scratch) */
  const coap_resource_t *answering = t.r;
  /* Block-wise (block_server.c): may answer alone (held Block2 body, 2.31,
   * errors) or hand the handler a reassembled Block1 body instead. The
   * built-in /.well-known/core goes through it like any resource. */
  coap_pdu_t *whole = NULL;
  int serving = t.r || t.wellknown;
  if (serving &&
      pt_block_server_before(s, req, resp, &whole, t.r, separate, now))
    serving = 0;
  const coap_pdu_t *hreq = whole ? whole : req;
  if (serving)
    serve(s, hreq, &t, resp);
  pt_block_server_after(s, hreq, resp, now); /* large response bookkeeping */
  pt_observe_request_done(s, serving ? t.r : NULL, hreq, resp,
                          now); /* RFC 7641 registration */
  coap_delete_pdu(whole);
  if (group)
    pt_mcast_respond(s, req, resp, answering, now);
  else
    finish(s, req, resp, d, separate, now);
}
