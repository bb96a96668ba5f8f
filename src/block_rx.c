/*
 * block_rx.c -- Block1 request bodies on the server (RFC 7959 2.3).
 *
 * With COAP_BLOCK_USE_LIBCOAP a Block1 transfer under way has one
 * pt_blk_rx, keyed by (session, request key), in one of two modes:
 *
 *  - single body (COAP_BLOCK_SINGLE_BODY, a resource flagged
 *    COAP_RESOURCE_FLAGS_FORCE_SINGLE_BODY, or a FETCH): the blocks are
 *    reassembled here, every block but the last is answered 2.31 Continue
 *    without the handler, and the handler is called once with the whole
 *    body and no Block1;
 *  - per block (otherwise): the handler sees every block as it came, with
 *    its Block1 and Size1 (coap_get_data_large() gives offset and total),
 *    and answers each one. The state holds no bytes, only where the next
 *    block must start and the Content-Format of the first.
 *
 * Either way a block that does not start where the body so far ends (a gap,
 * a block out of order, a transfer that expired or never began) or whose
 * Content-Format differs from the first block's is answered 4.08 Request
 * Entity Incomplete (RFC 7959 2.9.2) and ends the transfer; the handler
 * never sees it. The response to every block carries the Block1 option of
 * the block it answers (RFC 7959 2.3), unless the handler set one itself
 * or answered with an error.
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"

#include "context.h"
#include "pdu.h"
#include "resource.h"
#include "session.h"

struct pt_blk_rx {
  pt_hash_node node;       /* ctx->blk_rx */
  pt_timer timer;          /* expiry */
  coap_session_t *session; /* holds a reference */
  uint8_t *key;            /* owned request key */
  size_t key_len;
  uint8_t *buf;   /* owned: the body so far (single body only) */
  size_t len;     /* bytes taken: where the next block starts */
  size_t cap;     /* bytes allocated in buf */
  uint64_t fmt;   /* Content-Format of the first block (absent: 0) */
  size_t pending; /* per block: len once the handler accepts this block */
};

/* What pt_block_rx_after() has to do (ctx->blk_ack1_set). */
enum { ACK_NONE = 0, ACK_WHOLE = 1, ACK_EACH = 2 };

static const coap_option_num_t skip_b1[] = {COAP_OPTION_BLOCK1,
                                            COAP_OPTION_SIZE1};

/* ---- the states ------------------------------------------------------------
 */

static int rx_eq(const pt_hash_node *n, const void *key) {
  const pt_blk_rx *x = PT_CONTAINER_OF(n, pt_blk_rx, node);
  const struct pt_blk_key *k = key;
  return x->session == k->session && x->key_len == k->len &&
         memcmp(x->key, k->bytes, k->len) == 0;
}

static void rx_free(pt_blk_rx *x) {
  coap_session_t *s = x->session;
  coap_context_t *ctx = s->context;
  if (ctx->blk_ack1_rx == x)
    ctx->blk_ack1_rx = NULL;
  pt_timer_cancel(ctx, &x->timer);
  pt_hashmap_remove(&ctx->blk_rx, &x->node);
  ctx->blk_rx_total -= x->cap;
  free(x->buf);
  free(x->key);
  free(x);
  coap_session_release(s);
}

static void rx_expire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)ctx, (void)now;
  rx_free(PT_CONTAINER_OF(t, pt_blk_rx, timer));
}

void pt_block_rx_free_all(coap_context_t *ctx) {
  pt_hashmap_iter it;
  pt_hash_node *n;
  pt_hashmap_iter_init(&it, &ctx->blk_rx);
  while ((n = pt_hashmap_iter_next(&it)) != NULL)
    rx_free(PT_CONTAINER_OF(n, pt_blk_rx, node));
}

static pt_blk_rx *rx_find(coap_session_t *s, const uint8_t *key, size_t len) {
  struct pt_blk_key k = {s, key, len};
  pt_hash_node *n = pt_hashmap_find(&s->context->blk_rx,
                                    pt_block_key_hash(s, key, len), rx_eq, &k);
  return n ? PT_CONTAINER_OF(n, pt_blk_rx, node) : NULL;
}

/* A new state for @key (ownership of @key passes to it, even on failure). */
static pt_blk_rx *rx_new(coap_session_t *s, uint8_t *key, size_t len,
                         uint64_t fmt) {
  pt_blk_rx *x = calloc(1, sizeof(*x));
  if (!x) {
    free(key);
    return NULL;
  }
  pt_hash_node_init(&x->node);
  pt_timer_init(&x->timer, rx_expire);
  x->session = coap_session_reference(s);
  x->key = key;
  x->key_len = len;
  x->fmt = fmt;
  if (pt_hashmap_insert(&s->context->blk_rx, &x->node,
                        pt_block_key_hash(s, key, len)) < 0) {
    rx_free(x);
    return NULL;
  }
  return x;
}

/* Appends @n bytes; the buffer grows by doubling up to @max, and the
 * context's total stays under blk_rx_total_max. Returns 0 or -1. */
static int rx_append(pt_blk_rx *x, const uint8_t *data, size_t n, size_t hint,
                     size_t max) {
  coap_context_t *ctx = x->session->context;
  if (x->len + n > x->cap) {
    size_t cap = x->cap ? x->cap * 2 : (hint && hint <= max ? hint : 1024);
    while (cap < x->len + n)
      cap *= 2;
    if (cap > max)
      cap = max;
    if (cap < x->len + n ||
        ctx->blk_rx_total - x->cap + cap > ctx->blk_rx_total_max)
      return -1;
    uint8_t *nb = realloc(x->buf, cap);
    if (!nb)
      return -1;
    ctx->blk_rx_total += cap - x->cap;
    x->buf = nb;
    x->cap = cap;
  }
  if (n)
    memcpy(x->buf + x->len, data, n);
  x->len += n;
  return 0;
}

/* ---- answers ---------------------------------------------------------------
 */

/* RFC 7959 2.9.3: 4.13 with Size1 telling the largest body accepted. */
static int too_large(const coap_pdu_t *req, coap_pdu_t *resp, size_t max) {
  pt_block_reset_to_error(resp, req, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
  pt_block_add_uint(resp, COAP_OPTION_SIZE1, max);
  return 1;
}

/* Ends @x (if any) and answers @code. Returns 1 (the answer is complete). */
static int refuse(pt_blk_rx *x, const coap_pdu_t *req, coap_pdu_t *resp,
                  coap_pdu_code_t code) {
  if (x)
    rx_free(x);
  pt_block_reset_to_error(resp, req, code);
  return 1;
}

/* The request the handler sees: @req's header and options without
 * Block1/Size1, and the whole body. NULL when out of memory. */
static coap_pdu_t *whole_request(const coap_pdu_t *req, const pt_blk_rx *x) {
  coap_pdu_t *w = coap_pdu_init(coap_pdu_get_type(req), coap_pdu_get_code(req),
                                coap_pdu_get_mid(req), 0);
  coap_bin_const_t tok = coap_pdu_get_token(req);
  if (!w || !coap_add_token(w, tok.length, tok.s) ||
      !pt_block_copy_options(w, req, skip_b1, 2) ||
      !coap_add_data(w, x->len, x->buf)) {
    coap_delete_pdu(w);
    return NULL;
  }
  w->session = req->session;
  return w;
}

/* Ends the transfer @req belongs to, if there is one. */
static void drop_transfer(coap_session_t *s, const coap_pdu_t *req) {
  uint8_t *key;
  long klen = pt_block_request_key(req, 0, &key);
  if (klen < 0)
    return;
  pt_blk_rx *x = rx_find(s, key, (size_t)klen);
  free(key);
  if (x)
    rx_free(x);
}

/* One block as the request carries it. */
typedef struct blk1 {
  unsigned num, szx;
  int m;
  size_t start;         /* byte offset of the block */
  size_t plen;          /* its payload length */
  const uint8_t *pdata; /* its payload (borrowed) */
  uint64_t fmt;         /* its Content-Format (absent: 0) */
} blk1;

/*
 * Looks up the transfer @b belongs to. Block 0 begins a new one (ending
 * any old one of the same key) when @keep says so; a later block must
 * continue one whose body so far ends where it starts (or be a repeat of
 * the block just taken, @repeat set) with the same Content-Format. Returns
 * 1 with *@out set (NULL for block 0 without @keep), or 0 with @resp set
 * to the error.
 */
static int find_transfer(coap_session_t *s, const coap_pdu_t *req,
                         coap_pdu_t *resp, const blk1 *b, int keep,
                         pt_blk_rx **out, int *repeat) {
  uint8_t *key;
  long klen = pt_block_request_key(req, 0, &key);
  *out = NULL;
  *repeat = 0;
  if (klen < 0)
    return !refuse(NULL, req, resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
  pt_blk_rx *x = rx_find(s, key, (size_t)klen);
  if (b->num == 0) {
    if (x)
      rx_free(x); /* a new transfer replaces the old one */
    if (!keep) {
      free(key);
      return 1;
    }
    *out = rx_new(s, key, (size_t)klen, b->fmt);
    return *out ? 1
                : !refuse(NULL, req, resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
  }
  free(key);
  if (x && b->start < x->len && b->start + b->plen == x->len)
    *repeat = 1; /* its answer was lost and the client sent it again */
  else if (!x || x->len != b->start)
    return !refuse(x, req, resp, COAP_RESPONSE_CODE_INCOMPLETE);
  if (b->fmt != x->fmt)
    return !refuse(x, req, resp, COAP_RESPONSE_CODE_INCOMPLETE);
  *out = x;
  return 1;
}

/* ---- single body -----------------------------------------------------------
 */

/* One block to reassemble. Returns 1 when @resp is the answer; 0 with
 * *@whole set when the body is complete. */
static int single_block(coap_session_t *s, const coap_pdu_t *req,
                        coap_pdu_t *resp, coap_pdu_t **whole, const blk1 *b,
                        coap_tick_t now) {
  coap_context_t *ctx = s->context;
  size_t max = ctx->max_body_size;
  uint64_t size1 = pt_block_uint_opt(req, COAP_OPTION_SIZE1, 0);
  pt_blk_rx *x;
  int repeat;
  if (size1 > max || b->start + b->plen > max) {
    drop_transfer(s, req);
    return too_large(req, resp, max);
  }
  if (!find_transfer(s, req, resp, b, 1, &x, &repeat))
    return 1;
  if (!repeat && rx_append(x, b->pdata, b->plen,
                           b->num == 0 ? (size_t)size1 : 0, max) < 0) {
    rx_free(x);
    return too_large(req, resp, max);
  }
  if (b->m) { /* RFC 7959 2.9.1: 2.31 Continue, acknowledging this block */
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTINUE);
    pt_block_set(resp, COAP_OPTION_BLOCK1, b->num, 1, b->szx);
    pt_timer_arm(ctx, &x->timer, pt_block_expiry(s, now));
    return 1;
  }
  *whole = whole_request(req, x);
  rx_free(x);
  if (!*whole)
    return refuse(NULL, req, resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
  ctx->blk_ack1 = pt_block_value(b->num, 0, b->szx);
  ctx->blk_ack1_set = ACK_WHOLE;
  return 0;
}

/* ---- per block -------------------------------------------------------------
 */

/* One block for the handler. Returns 1 when @resp is the answer (an error);
 * 0 to let the handler see @req as it is. */
static int each_block(coap_session_t *s, const coap_pdu_t *req,
                      coap_pdu_t *resp, const blk1 *b) {
  coap_context_t *ctx = s->context;
  pt_blk_rx *x;
  int repeat;
  /* A lone block (block 0, M clear) needs no state. */
  if (!find_transfer(s, req, resp, b, b->m, &x, &repeat))
    return 1;
  if (x)
    x->pending = b->start + b->plen > x->len ? b->start + b->plen : x->len;
  ctx->blk_ack1 = pt_block_value(b->num, b->m, b->szx);
  ctx->blk_ack1_set = ACK_EACH;
  ctx->blk_ack1_rx = x;
  return 0;
}

/* After the handler answered one block: the Block1 of the answer, and the
 * transfer moves on (or ends on an error or the last block). */
static void each_block_answered(coap_session_t *s, coap_pdu_t *resp,
                                coap_tick_t now) {
  coap_context_t *ctx = s->context;
  pt_blk_rx *x = ctx->blk_ack1_rx;
  unsigned num = ctx->blk_ack1 >> 4, szx = ctx->blk_ack1 & 7;
  int m = (ctx->blk_ack1 & 0x08) != 0;
  coap_pdu_code_t code = coap_pdu_get_code(resp);
  int cls = COAP_RESPONSE_CLASS(code);
  coap_opt_iterator_t it;
  ctx->blk_ack1_rx = NULL;
  if (cls == 2 && !coap_check_option(resp, COAP_OPTION_BLOCK1, &it)) {
    /* RFC 7959 2.3: M set in the answer means the server waits for the
     * rest (2.31 Continue); M clear with another 2.xx means this block was
     * acted on by itself, and the client still sends the rest. */
    pt_block_set(resp, COAP_OPTION_BLOCK1, num,
                 m && code == COAP_RESPONSE_CODE_CONTINUE, szx);
  }
  if (!x)
    return;
  if (cls > 2 || !m) { /* an error, or the last block: the transfer is over */
    rx_free(x);
    return;
  }
  x->len = x->pending;
  pt_timer_arm(ctx, &x->timer, pt_block_expiry(s, now));
}

/* ---- the hooks -------------------------------------------------------------
 */

/* 1 if the handler of @r should see Block1 bodies whole. */
static int wants_single_body(const coap_context_t *ctx, const coap_pdu_t *req,
                             const coap_resource_t *r) {
  return (ctx->block_mode & COAP_BLOCK_SINGLE_BODY) ||
         (r && (r->flags & COAP_RESOURCE_FLAGS_FORCE_SINGLE_BODY)) ||
         coap_pdu_get_code(req) == COAP_REQUEST_CODE_FETCH;
}

int pt_block_rx_before(coap_session_t *s, const coap_pdu_t *req,
                       coap_pdu_t *resp, coap_pdu_t **whole,
                       const coap_resource_t *r, unsigned num, int m,
                       unsigned szx, coap_tick_t now) {
  blk1 b = {num, szx, m, pt_block_offset(num, szx), 0, NULL, 0};
  if (!coap_get_data(req, &b.plen, &b.pdata))
    b.plen = 0;
  b.fmt = pt_block_uint_opt(req, COAP_OPTION_CONTENT_FORMAT, 0);
  /* RFC 7959 2.2: every block but the last has exactly the block size;
   * RFC 8323 6: a BERT block but the last, a multiple of 1024 bytes. */
  if (!pt_block_size_ok(szx, m, b.plen))
    return refuse(NULL, req, resp, COAP_RESPONSE_CODE_BAD_REQUEST);
  if (wants_single_body(s->context, req, r))
    return single_block(s, req, resp, whole, &b, now);
  return each_block(s, req, resp, &b);
}

void pt_block_rx_after(coap_session_t *s, coap_pdu_t *resp, coap_tick_t now) {
  coap_context_t *ctx = s->context;
  int what = ctx->blk_ack1_set;
  ctx->blk_ack1_set = ACK_NONE;
  if (what == ACK_EACH) {
    each_block_answered(s, resp, now);
  } else if (what == ACK_WHOLE &&
             COAP_RESPONSE_CLASS(coap_pdu_get_code(resp)) == 2) {
    /* RFC 7959 2.3: the final response acknowledges the last block. */
    uint8_t buf[4];
    unsigned len = coap_encode_var_safe(buf, sizeof(buf), ctx->blk_ack1);
    pt_pdu_update_option(resp, COAP_OPTION_BLOCK1, len, buf);
  }
}
