/*
 * block_client.c -- the client side of block-wise transfers (RFC 7959):
 * request bodies sent as Block1, Block2 responses fetched block by block.
 *
 * A transfer (pt_blk_cli) starts with coap_add_data_large_request(), or
 * with the first Block2 response (M set) to a request when the context
 * has COAP_BLOCK_USE_LIBCOAP. Each follow-up request is a copy of the
 * application's request with a fresh token and message ID; the transfer
 * is re-keyed by that token, so responses find it with one hash probe.
 * The application sees responses with its original token, and with
 * COAP_BLOCK_SINGLE_BODY one response holding the whole body, without
 * Block2.
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"

#include "context.h"
#include "exchange.h"
#include "pdu.h"
#include "session.h"
#include "tcp.h"

struct pt_blk_cli {
  pt_hash_node node;       /* ctx->blk_cli by (session, tok) */
  pt_timer timer;          /* expiry */
  coap_session_t *session; /* holds a reference */
  coap_pdu_t *orig;        /* owned: the application's request, no
                              Block1 payload */
  uint8_t tok[8];          /* token of the request in flight, if it fits */
  uint8_t *tok_heap;       /* else a copy of it (owned): the application's
                              extended token (RFC 8974) */
  size_t tok_len;
  /* upload (Block1) */
  const uint8_t *tx; /* the application's (see release) */
  size_t tx_len;
  coap_release_large_data_t release;
  void *app_ptr;
  unsigned tx_szx; /* block size of the block in flight (7: BERT) */
  size_t tx_chunk; /* bytes per block: the block size, or with BERT a
                      multiple of 1024 that fits the peer's messages */
  size_t tx_start; /* its offset */
  int tx_on;
  /* download (Block2) */
  coap_binary_t *body; /* owned, SINGLE_BODY only */
  size_t body_len;     /* where the next block must start */
  unsigned rx_szx;     /* the block size asked for: no block may be larger */
  uint8_t etag[8];
  size_t etag_len;
  uint64_t fmt; /* Content-Format of the first block (absent: 0) */
  int rx_on;    /* a Block2 body is under way */
  int restarts;
};

#define SZX_SIZE(szx) ((size_t)1 << ((szx) + 4))
#define BLOCK_OVERHEAD 6
#define BERT_OVERHEAD                                                          \
  8 /* as BLOCK_OVERHEAD, with a margin: see block_server.c */

/* ---- lookup and lifetime --------------------------------------------------
 */

typedef struct cli_key {
  const coap_session_t *session;
  coap_bin_const_t token;
} cli_key;

static uint32_t cli_hash(const coap_session_t *s, coap_bin_const_t t) {
  return pt_block_key_hash(s, t.s, t.length);
}

static int cli_eq(const pt_hash_node *n, const void *key) {
  const pt_blk_cli *c = PT_CONTAINER_OF(n, pt_blk_cli, node);
  const cli_key *k = key;
  const uint8_t *tok = c->tok_heap ? c->tok_heap : c->tok;
  return c->session == k->session && c->tok_len == k->token.length &&
         memcmp(tok, k->token.s, c->tok_len) == 0;
}

static pt_blk_cli *cli_find(coap_session_t *s, coap_bin_const_t token) {
  cli_key k = {s, token};
  pt_hash_node *n =
      pt_hashmap_find(&s->context->blk_cli, cli_hash(s, token), cli_eq, &k);
  return n ? PT_CONTAINER_OF(n, pt_blk_cli, node) : NULL;
}

/* Keys @c by @token (a copy). Returns 0 or -1. */
static int cli_rekey(pt_blk_cli *c, coap_bin_const_t token) {
  coap_context_t *ctx = c->session->context;
  uint8_t *mem = token.length > sizeof(c->tok) ? malloc(token.length) : c->tok;
  if (!mem)
    return -1;
  pt_hashmap_remove(&ctx->blk_cli, &c->node);
  free(c->tok_heap);
  c->tok_heap = mem == c->tok ? NULL : mem;
  if (token.length)
    memcpy(mem, token.s, token.length);
  c->tok_len = token.length;
  return pt_hashmap_insert(&ctx->blk_cli, &c->node,
                           cli_hash(c->session, token));
}

static void tx_release(pt_blk_cli *c) {
  coap_release_large_data_t rel = c->release;
  c->release = NULL;
  c->tx_on = 0;
  if (rel)
    rel(c->session, c->app_ptr);
}

static void cli_free(pt_blk_cli *c) {
  coap_session_t *s = c->session;
  coap_context_t *ctx = s->context;
  pt_timer_cancel(ctx, &c->timer);
  pt_hashmap_remove(&ctx->blk_cli, &c->node);
  tx_release(c);
  coap_delete_binary(c->body);
  coap_delete_pdu(c->orig);
  free(c->tok_heap);
  free(c);
  coap_session_release(s);
}

static void cli_expire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)ctx, (void)now;
  cli_free(PT_CONTAINER_OF(t, pt_blk_cli, timer));
}

void pt_block_cli_free_all(coap_context_t *ctx) {
  pt_hashmap_iter it;
  pt_hash_node *n;
  pt_hashmap_iter_init(&it, &ctx->blk_cli);
  while ((n = pt_hashmap_iter_next(&it)) != NULL)
    cli_free(PT_CONTAINER_OF(n, pt_blk_cli, node));
}

/* A transfer for @orig (ownership transferred), keyed by its token. */
static pt_blk_cli *cli_new(coap_session_t *s, coap_pdu_t *orig,
                           coap_tick_t now) {
  pt_blk_cli *c = calloc(1, sizeof(*c));
  if (!c) {
    coap_delete_pdu(orig);
    return NULL;
  }
  pt_hash_node_init(&c->node);
  pt_timer_init(&c->timer, cli_expire);
  c->session = coap_session_reference(s);
  c->orig = orig;
  pt_blk_cli *old = cli_find(s, coap_pdu_get_token(orig));
  if (old) /* the token was reused: the old transfer is over */
    cli_free(old);
  if (cli_rekey(c, coap_pdu_get_token(orig)) < 0 ||
      pt_timer_arm(s->context, &c->timer, pt_block_expiry(s, now)) < 0) {
    cli_free(c);
    return NULL;
  }
  return c;
}

/* Ends @c because its body cannot be completed, telling the application
 * with COAP_EVENT_XMIT_BLOCK_FAIL (not all of a request body was sent) or
 * COAP_EVENT_PARTIAL_BLOCK (not all of a response body was received). */
static void cli_fail(pt_blk_cli *c) {
  coap_session_t *s = coap_session_reference(c->session);
  coap_event_t ev =
      c->tx_on ? COAP_EVENT_XMIT_BLOCK_FAIL : COAP_EVENT_PARTIAL_BLOCK;
  cli_free(c);
  pt_event(s, ev);
  coap_session_release(s);
}

void pt_block_client_failed(coap_session_t *s, const coap_pdu_t *pdu) {
  if (!pt_hashmap_size(&s->context->blk_cli))
    return;
  pt_blk_cli *c = cli_find(s, coap_pdu_get_token(pdu));
  if (!c)
    return;
  if (c->tx_on || c->rx_on)
    cli_fail(c); /* the body was under way */
  else
    cli_free(c);
}

/* ---- follow-up requests
 * ------------------------------------------------------ */

static const coap_option_num_t skip_tx[] = {COAP_OPTION_BLOCK1};
static const coap_option_num_t skip_rx[] = {
    COAP_OPTION_BLOCK1, COAP_OPTION_BLOCK2, COAP_OPTION_SIZE1,
    COAP_OPTION_OBSERVE};

/* Sends the next request of @c: a copy of the original with a fresh token,
 * Block option @which = (num, m, szx) and @n bytes of payload. Returns 0,
 * or -1 (the transfer should end). */
static int send_next(pt_blk_cli *c, coap_option_num_t which, unsigned num,
                     int m, unsigned szx, const uint8_t *payload, size_t n,
                     coap_tick_t now) {
  coap_session_t *s = c->session;
  int tx = which == COAP_OPTION_BLOCK1;
  coap_pdu_t *p =
      coap_pdu_init(coap_pdu_get_type(c->orig), coap_pdu_get_code(c->orig),
                    pt_session_next_mid(s), coap_session_max_pdu_size(s));
  uint8_t tok[8];
  size_t tlen = 0;
  coap_session_new_token(s, &tlen, tok);
  coap_bin_const_t token = {tlen, tok};
  if (!p || !coap_add_token(p, tlen, tok) ||
      !pt_block_copy_options(p, c->orig, tx ? skip_tx : skip_rx,
                             tx ? 1 : sizeof(skip_rx) / sizeof(skip_rx[0])) ||
      !pt_block_set(p, which, num, m, szx) ||
      (n && !coap_add_data(p, n, payload)) || cli_rekey(c, token) < 0) {
    coap_delete_pdu(p);
    return -1;
  }
  p->session = s;
  pt_timer_arm(s->context, &c->timer, pt_block_expiry(s, now));
  return pt_exchange_send(s, p, now) == COAP_INVALID_MID ? -1 : 0;
}

static int send_tx_block(pt_blk_cli *c, size_t start, coap_tick_t now) {
  size_t size = c->tx_chunk;
  c->tx_start = start;
  size_t n = c->tx_len - start < size ? c->tx_len - start : size;
  return send_next(c, COAP_OPTION_BLOCK1,
                   (unsigned)(start / pt_block_unit(c->tx_szx)),
                   start + n < c->tx_len, c->tx_szx, c->tx + start, n, now);
}

static int send_rx_request(pt_blk_cli *c, unsigned num, unsigned szx,
                           coap_tick_t now) {
  size_t n = 0;
  const uint8_t *payload = NULL;
  if (coap_pdu_get_code(c->orig) == COAP_REQUEST_CODE_FETCH)
    coap_get_data(c->orig, &n, &payload); /* FETCH repeats its body */
  return send_next(c, COAP_OPTION_BLOCK2, num, 0, szx, payload, n, now);
}

/* ---- coap_add_data_large_request
 * --------------------------------------------- */

static size_t room(const coap_pdu_t *pdu) {
  size_t max = pdu->max_size ? pdu->max_size : PT_PDU_MAX_SIZE;
  return max > pdu->used_size ? max - pdu->used_size : 0;
}

/* Block1 options and the first block; the transfer keeps the rest. */
static int start_upload(coap_session_t *s, coap_pdu_t *pdu, size_t length,
                        const uint8_t *data, coap_release_large_data_t rel,
                        void *app_ptr, coap_tick_t now) {
  unsigned num, szx = 6;
  int m;
  int asked = pt_block_peek(pdu, COAP_OPTION_BLOCK1, &num, &m, &szx);
  if (asked && szx > 6)
    szx = 6; /* the application's preferred block size caps ours */
  /* RFC 8323 6: BERT when both CSMs allow it and the application did not
   * ask for a block size. */
  int bert = !asked && pt_tcp_bert(s);
  uint8_t rtag[4];
  coap_opt_iterator_t it;
  coap_prng(rtag, sizeof(rtag));
  if (!pt_block_add_uint(pdu, COAP_OPTION_SIZE1, length) ||
      (!coap_check_option(pdu, COAP_OPTION_RTAG, &it) &&
       !pt_pdu_insert_option(pdu, COAP_OPTION_RTAG, sizeof(rtag), rtag)))
    return 0;
  size_t r = room(pdu);
  size_t chunk = 0;
  if (bert && r > BERT_OVERHEAD + 1024) {
    szx = PT_BLOCK_BERT;
    chunk = (r - BERT_OVERHEAD) / 1024 * 1024;
  } else {
    while (szx > 0 && SZX_SIZE(szx) + BLOCK_OVERHEAD > r)
      szx--;
    chunk = SZX_SIZE(szx);
    if (chunk + BLOCK_OVERHEAD > r)
      return 0;
  }
  if (!pt_block_set(pdu, COAP_OPTION_BLOCK1, 0, 1, szx))
    return 0;
  coap_pdu_t *orig = pt_pdu_clone(pdu);
  pt_blk_cli *c = orig ? cli_new(s, orig, now) : NULL;
  if (!c)
    return 0;
  c->tx = data;
  c->tx_len = length;
  c->tx_szx = szx;
  c->tx_chunk = chunk;
  c->tx_on = 1;
  if (!coap_add_data(pdu, chunk, data)) {
    cli_free(c); /* calls no release: not yet attached */
    return 0;
  }
  c->release = rel;
  c->app_ptr = app_ptr;
  return 1;
}

int coap_add_data_large_request(coap_session_t *session, coap_pdu_t *pdu,
                                size_t length, const uint8_t *data,
                                coap_release_large_data_t release_func,
                                void *app_ptr) {
  int ok = 0;
  if (!session || !pdu || (length && !data))
    goto done;
  /* One message when it fits, unless the application asked for smaller
   * blocks with a Block1 option of its own. */
  unsigned num, szx;
  int m;
  int small_blocks = pt_block_peek(pdu, COAP_OPTION_BLOCK1, &num, &m, &szx) &&
                     szx <= 6 && length > SZX_SIZE(szx);
  if (length + 1 <= room(pdu) && !small_blocks) {
    ok = coap_add_data(pdu, length, data);
    goto done;
  }
  if (!(session->context->block_mode & COAP_BLOCK_USE_LIBCOAP))
    goto done;
  if (start_upload(session, pdu, length, data, release_func, app_ptr, pt_now()))
    return 1;
done:
  if (release_func)
    release_func(session, app_ptr);
  return ok;
}

/* ---- responses
 * --------------------------------------------------------------- */

/* Hands @pdu to the application as the answer to its original request,
 * with its original token. */
static coap_response_t deliver(pt_blk_cli *c, const coap_pdu_t *pdu) {
  coap_context_t *ctx = c->session->context;
  if (!ctx->response_handler)
    return COAP_RESPONSE_OK;
  coap_bin_const_t want = coap_pdu_get_token(c->orig);
  coap_bin_const_t have = coap_pdu_get_token(pdu);
  coap_pdu_t *copy = NULL;
  if (!coap_binary_equal(&want, &have)) {
    copy = pt_pdu_clone(pdu);
    if (!copy || !pt_pdu_update_token(copy, want.length, want.s)) {
      coap_delete_pdu(copy);
      copy = NULL;
    }
  }
  coap_response_t r = ctx->response_handler(
      c->session, c->orig, copy ? copy : pdu, coap_pdu_get_mid(pdu));
  coap_delete_pdu(copy);
  return r;
}

/* The whole body as one response: @last's header and options without
 * Block2, the reassembled payload. */
static coap_response_t deliver_body(pt_blk_cli *c, const coap_pdu_t *last) {
  static const coap_option_num_t skip[] = {COAP_OPTION_BLOCK2};
  coap_pdu_t *w =
      coap_pdu_init(coap_pdu_get_type(last), coap_pdu_get_code(last),
                    coap_pdu_get_mid(last), 0);
  coap_bin_const_t tok = coap_pdu_get_token(last);
  if (!w || !coap_add_token(w, tok.length, tok.s) ||
      !pt_block_copy_options(w, last, skip, 1) ||
      (c->body_len && !coap_add_data(w, c->body_len, c->body->s))) {
    coap_delete_pdu(w);
    return deliver(c, last);
  }
  w->session = c->session;
  coap_response_t r = deliver(c, w);
  coap_delete_pdu(w);
  return r;
}

static void etag_of(const coap_pdu_t *pdu, uint8_t *out, size_t *len) {
  coap_opt_iterator_t it;
  coap_opt_t *opt = coap_check_option(pdu, COAP_OPTION_ETAG, &it);
  *len = 0;
  if (opt && coap_opt_length(opt) <= 8) {
    *len = coap_opt_length(opt);
    memcpy(out, coap_opt_value(opt), *len);
  }
}

/* One Block2 block of a response, as received. */
typedef struct blk2 {
  unsigned num, szx;
  int m;
  size_t start, plen;
  const uint8_t *pdata;
} blk2;

enum { RX_TAKE, RX_RESTART, RX_FAIL };

/*
 * Checks block @b of @pdu against the body so far (RFC 7959 2.4): it must
 * start where the body so far ends, be no larger than the size asked for,
 * be whole unless it is the last, and keep the Content-Format. A change of
 * ETag means the body changed: RX_RESTART while restarts remain. The first
 * block of a body (or of a restart) sets what the others must match.
 */
static int check_block2(pt_blk_cli *c, const coap_pdu_t *pdu, const blk2 *b) {
  uint8_t etag[8];
  size_t elen;
  uint64_t fmt = pt_block_uint_opt(pdu, COAP_OPTION_CONTENT_FORMAT, 0);
  etag_of(pdu, etag, &elen);
  if (b->start != (c->rx_on ? c->body_len : 0) || b->szx > c->rx_szx ||
      !pt_block_size_ok(b->szx, b->m, b->plen))
    return RX_FAIL;
  if (!c->rx_on) {
    c->rx_on = 1;
    memcpy(c->etag, etag, elen);
    c->etag_len = elen;
    c->fmt = fmt;
    return RX_TAKE;
  }
  if (elen != c->etag_len || memcmp(etag, c->etag, elen) != 0)
    return c->restarts++ < PT_BLOCK_MAX_RESTARTS ? RX_RESTART : RX_FAIL;
  return fmt == c->fmt ? RX_TAKE : RX_FAIL;
}

/* The body changed under us: ask for it again from block 0. */
static coap_response_t restart_block2(pt_blk_cli *c, unsigned szx,
                                      coap_tick_t now) {
  coap_session_t *s = c->session;
  int single = (s->context->block_mode & COAP_BLOCK_SINGLE_BODY) != 0;
  c->rx_on = 0;
  c->body_len = 0;
  c->rx_szx = szx;
  if (send_rx_request(c, 0, szx, now) < 0) {
    cli_fail(c);
    return COAP_RESPONSE_OK;
  }
  if (!single) /* the blocks it has seen belong to a body that is gone */
    pt_event(s, COAP_EVENT_PARTIAL_BLOCK);
  return COAP_RESPONSE_OK;
}

/* The Block2 part: takes the block, asks for the next or delivers. A
 * block that cannot be part of the body ends the transfer with
 * COAP_EVENT_PARTIAL_BLOCK: the application never gets a fragment as the
 * body. */
static coap_response_t take_block2(pt_blk_cli *c, const coap_pdu_t *pdu,
                                   const blk2 *b, coap_tick_t now) {
  coap_context_t *ctx = c->session->context;
  int single = (ctx->block_mode & COAP_BLOCK_SINGLE_BODY) != 0;
  int verdict = check_block2(c, pdu, b);
  if (verdict == RX_RESTART)
    return restart_block2(c, b->szx, now);
  if (verdict == RX_FAIL ||
      (single && b->start + b->plen > ctx->max_body_size)) {
    cli_fail(c);
    return COAP_RESPONSE_OK;
  }
  if (single) {
    c->body = coap_block_build_body(c->body, b->plen, b->pdata, b->start,
                                    b->start + b->plen);
    if (!c->body) {
      cli_fail(c);
      return COAP_RESPONSE_OK;
    }
  }
  c->body_len = b->start + b->plen;
  c->rx_szx = b->szx;
  coap_response_t r = COAP_RESPONSE_OK;
  if (!single || !b->m)
    r = single ? deliver_body(c, pdu) : deliver(c, pdu);
  /* The next block starts where this one ended: NUM + 1, or with BERT
   * NUM plus the 1024-byte units this one carried. */
  unsigned next = (unsigned)(c->body_len / pt_block_unit(b->szx));
  if (b->m && r == COAP_RESPONSE_OK &&
      send_rx_request(c, next, b->szx, now) < 0) {
    cli_fail(c);
    return r;
  }
  if (!b->m || r != COAP_RESPONSE_OK)
    cli_free(c); /* done, or the application said stop */
  return r;
}

enum { TX_NEXT, TX_DONE, TX_FAIL };

/*
 * A response to a Block1 request. While blocks remain, a 2.xx carrying the
 * Block1 option of the block in flight acknowledges it (2.31 Continue, or
 * another 2.xx for a block the server acted on by itself, RFC 7959 2.3):
 * the next block goes, at the server's smaller block size if it asked for
 * one. Anything else mid-way fails the upload. The answer to the last
 * block is the final response (TX_DONE).
 */
static int take_block1(pt_blk_cli *c, const coap_pdu_t *pdu, coap_tick_t now) {
  unsigned num, szx;
  int m;
  size_t next = c->tx_start + c->tx_chunk;
  if (next >= c->tx_len)
    return TX_DONE;
  /* With BERT the server answers with SZX 7 (or a smaller size it wants
   * instead); otherwise SZX 7 has no place in the answer. */
  if (COAP_RESPONSE_CLASS(coap_pdu_get_code(pdu)) != 2 ||
      !pt_block_peek(pdu, COAP_OPTION_BLOCK1, &num, &m, &szx) ||
      szx > c->tx_szx || num != c->tx_start / pt_block_unit(c->tx_szx))
    return TX_FAIL;
  if (szx < c->tx_szx) { /* the server asked for smaller blocks */
    c->tx_szx = szx;
    c->tx_chunk = SZX_SIZE(szx);
  }
  return send_tx_block(c, next, now) < 0 ? TX_FAIL : TX_NEXT;
}

/* A response to a request whose body went out in blocks. Returns 1 when
 * the block layer took it (*@r set), 0 when Block2 handling goes on. */
static int upload_answered(pt_blk_cli *c, const coap_pdu_t *pdu,
                           coap_tick_t now, coap_response_t *r) {
  int t = take_block1(c, pdu, now);
  if (t == TX_NEXT)
    return 1;
  if (t == TX_DONE) {
    tx_release(c); /* the upload is over */
    return 0;
  }
  int refused = COAP_RESPONSE_CLASS(coap_pdu_get_code(pdu)) > 2;
  if (refused) /* the server's answer is the application's to see */
    *r = deliver(c, pdu);
  cli_fail(c);
  return 1;
}

int pt_block_client_response(coap_session_t *s, struct pt_exchange *ex,
                             const coap_pdu_t *pdu, coap_tick_t now,
                             coap_response_t *r) {
  coap_context_t *ctx = s->context;
  blk2 b = {0, 0, 0, 0, 0, NULL};
  int b2 = pt_block_peek(pdu, COAP_OPTION_BLOCK2, &b.num, &b.m, &b.szx) &&
           (b.szx < PT_BLOCK_BERT || pt_tcp_bert(s));
  pt_blk_cli *c = pt_hashmap_size(&ctx->blk_cli)
                      ? cli_find(s, coap_pdu_get_token(pdu))
                      : NULL;
  *r = COAP_RESPONSE_OK;
  if (c && c->tx_on && upload_answered(c, pdu, now, r))
    return 1;
  if (c && c->rx_on &&
      (!b2 || COAP_RESPONSE_CLASS(coap_pdu_get_code(pdu)) != 2)) {
    /* Mid-body: an error ends it (the application sees the error), and a
     * 2.xx without Block2 is no part of it. */
    if (COAP_RESPONSE_CLASS(coap_pdu_get_code(pdu)) > 2)
      *r = deliver(c, pdu);
    cli_fail(c);
    return 1;
  }
  if (!(ctx->block_mode & COAP_BLOCK_USE_LIBCOAP) || !b2 ||
      (!c && (!b.m || b.num != 0))) {
    if (!c)
      return 0;
    *r = deliver(c, pdu);
    cli_free(c);
    return 1;
  }
  if (!c) {
    unsigned an, as;
    int am;
    if (!ex ||
        (pt_block_peek(ex->pdu, COAP_OPTION_BLOCK2, &an, &am, &as) && an != 0))
      return 0; /* random access: the application asked for this block */
    coap_pdu_t *orig = pt_pdu_clone(ex->pdu);
    if (!orig || !(c = cli_new(s, orig, now)))
      return 0;
  }
  if (!c->rx_on && !c->restarts) {
    /* The first block: no larger than the application asked for; BERT
     * (RFC 8323 6) only where both CSMs allow it and the application
     * asked for it or for no size. */
    unsigned an, as = 6;
    int am;
    int asked = pt_block_peek(c->orig, COAP_OPTION_BLOCK2, &an, &am, &as);
    if (pt_tcp_bert(s) && (!asked || as == PT_BLOCK_BERT))
      as = PT_BLOCK_BERT;
    else if (as > 6)
      as = 6;
    c->rx_szx = as;
  }
  b.start = pt_block_offset(b.num, b.szx);
  if (!coap_get_data(pdu, &b.plen, &b.pdata))
    b.plen = 0;
  *r = take_block2(c, pdu, &b, now);
  return 1;
}
