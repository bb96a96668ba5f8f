/*
 * block_server.c -- the server side of block-wise transfers (RFC 7959):
 * large responses served as Block2 from a held body, and the dispatch
 * hooks (Block1 request bodies are in block_rx.c).
 *
 * Flow of a large response: the handler calls
 * coap_add_data_large_response(), which puts the first (or the asked-for)
 * block into the response and leaves a pending pt_blk_srv on the context.
 * When the handler returns, pt_block_server_after() keeps it in
 * ctx->blk_srv (unless that block was the last, or the handler answered
 * with an error), with the response's options as a template. A later
 * Block2 request for the same (session, request key) with NUM > 0 is
 * answered from it by pt_block_server_before() without the handler. A
 * Block2 request that finds no held body (it expired, or never was) goes
 * to the handler again, whose call serves the asked-for block of its
 * fresh body: the RFC's stateless behaviour, with the ETag telling the
 * client whether the body changed.
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"

#include "context.h"
#include "pdu.h"
#include "session.h"
#include "tcp.h"

struct pt_blk_srv {
  pt_hash_node node;       /* ctx->blk_srv */
  pt_timer timer;          /* expiry */
  coap_session_t *session; /* holds a reference */
  uint8_t *key;            /* owned request key */
  size_t key_len;
  coap_pdu_t *tmpl;    /* owned: code and options of block 0 */
  coap_pdu_t *resp;    /* while pending: the response (borrowed) */
  const uint8_t *data; /* the application's (see release) */
  size_t length;
  coap_release_large_data_t release;
  void *app_ptr;
  int more;      /* the block put in resp was not the last */
  int bad_block; /* the asked-for block lies past the body */
};

static const coap_option_num_t skip_b2[] = {COAP_OPTION_BLOCK2};

#define SZX_SIZE(szx) ((size_t)1 << ((szx) + 4))
/* Bytes a Block option (header + up to 3 value bytes) and the payload
 * marker may add to a PDU. */
#define BLOCK_OVERHEAD 6
/* The same with a margin: a BERT block fills the room to the byte. */
#define BERT_OVERHEAD 8

/* ---- held bodies ----------------------------------------------------------
 */

static int srv_eq(const pt_hash_node *n, const void *key) {
  const pt_blk_srv *b = PT_CONTAINER_OF(n, pt_blk_srv, node);
  const struct pt_blk_key *k = key;
  return b->session == k->session && b->key_len == k->len &&
         memcmp(b->key, k->bytes, k->len) == 0;
}

static pt_blk_srv *srv_find(coap_session_t *s, const uint8_t *key, size_t len) {
  struct pt_blk_key k = {s, key, len};
  pt_hash_node *n = pt_hashmap_find(&s->context->blk_srv,
                                    pt_block_key_hash(s, key, len), srv_eq, &k);
  return n ? PT_CONTAINER_OF(n, pt_blk_srv, node) : NULL;
}

/* Ends a held body: out of the map, off the heap, release called once. */
static void srv_free(pt_blk_srv *b) {
  coap_session_t *s = b->session;
  coap_context_t *ctx = s->context;
  if (ctx->blk_pending == b)
    ctx->blk_pending = NULL;
  pt_timer_cancel(ctx, &b->timer);
  pt_hashmap_remove(&ctx->blk_srv, &b->node);
  if (b->release)
    b->release(s, b->app_ptr);
  coap_delete_pdu(b->tmpl);
  free(b->key);
  free(b);
  coap_session_release(s);
}

static void srv_expire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)ctx, (void)now;
  pt_blk_srv *b = PT_CONTAINER_OF(t, pt_blk_srv, timer);
  coap_log_debug("* %s: large body expired\n", coap_session_str(b->session));
  srv_free(b);
}

void pt_block_srv_free_all(coap_context_t *ctx) {
  pt_hashmap_iter it;
  pt_hash_node *n;
  if (ctx->blk_pending)
    srv_free(ctx->blk_pending);
  pt_hashmap_iter_init(&it, &ctx->blk_srv);
  while ((n = pt_hashmap_iter_next(&it)) != NULL)
    srv_free(PT_CONTAINER_OF(n, pt_blk_srv, node));
}

/* ---- putting one block into a response ------------------------------------
 */

static size_t room(const coap_pdu_t *pdu) {
  size_t max = pdu->max_size ? pdu->max_size : PT_PDU_MAX_SIZE;
  return max > pdu->used_size ? max - pdu->used_size : 0;
}

/*
 * Adds Block2 and the block of @data starting at byte @start (a multiple
 * of the asked-for block size 2^(@szx+4)) to @resp, with the largest block
 * size <= that which fits. Returns 1 (*@more set), 0 if not even 16 bytes
 * fit, -1 if @start lies past the body (RFC 7959 2.4: 4.02 Bad Option).
 */
/* A BERT block (RFC 8323 6): as many whole 1024-byte units from @start as
 * the response has room for (the rest of the body if less). Returns as
 * put_block() does, or 0 when not even one unit fits. */
static int put_bert(coap_pdu_t *resp, const uint8_t *data, size_t length,
                    size_t start, int *more) {
  size_t r = room(resp);
  size_t units = r > BERT_OVERHEAD ? (r - BERT_OVERHEAD) / 1024 : 0;
  if (!units)
    return 0;
  if (start > 0 && start >= length)
    return -1;
  size_t n = length - start < units * 1024 ? length - start : units * 1024;
  *more = start + n < length;
  if (!pt_block_set(resp, COAP_OPTION_BLOCK2, (unsigned)(start / 1024), *more,
                    PT_BLOCK_BERT))
    return 0;
  return coap_add_data(resp, n, data + start) ? 1 : 0;
}

static int put_block(coap_pdu_t *resp, const uint8_t *data, size_t length,
                     size_t start, unsigned szx, int *more) {
  if (szx == PT_BLOCK_BERT) {
    int rc = put_bert(resp, data, length, start, more);
    if (rc != 0)
      return rc;
    szx = 6; /* no room for a BERT unit: plain blocks, as small as fit */
  }
  size_t r = room(resp);
  while (szx > 0 && SZX_SIZE(szx) + BLOCK_OVERHEAD > r)
    szx--;
  if (SZX_SIZE(szx) + BLOCK_OVERHEAD > r)
    return 0;
  if (start > 0 && start >= length)
    return -1;
  size_t size = SZX_SIZE(szx);
  *more = start + size < length;
  if (!pt_block_set(resp, COAP_OPTION_BLOCK2, (unsigned)(start / size), *more,
                    szx))
    return 0;
  size_t n = length - start < size ? length - start : size;
  return coap_add_data(resp, n, data + start) ? 1 : 0;
}

/* An 8-byte ETag from the body's bytes (two differently seeded hashes). */
static uint64_t derive_etag(const uint8_t *data, size_t length) {
  uint64_t e = ((uint64_t)pt_hash_bytes(data, length, 0x45546167) << 32) |
               pt_hash_bytes(data, length, (uint32_t)length);
  return e ? e : 1;
}

/* ---- coap_add_data_large_response ------------------------------------------
 */

static pt_blk_srv *srv_new(coap_session_t *s, const coap_pdu_t *req,
                           coap_pdu_t *resp) {
  pt_blk_srv *b = calloc(1, sizeof(*b));
  if (!b)
    return NULL;
  long n = pt_block_request_key(
      req, coap_pdu_get_code(req) == COAP_REQUEST_CODE_FETCH, &b->key);
  if (n < 0) {
    free(b);
    return NULL;
  }
  b->key_len = (size_t)n;
  pt_hash_node_init(&b->node);
  pt_timer_init(&b->timer, srv_expire);
  b->session = coap_session_reference(s);
  b->resp = resp;
  return b;
}

/* The block-wise part: ETag, Size2, Block2 and the first block. */
static int add_blocked(pt_blk_srv *b, const coap_pdu_t *req, coap_pdu_t *resp,
                       uint64_t etag) {
  unsigned num = 0, szx = 6;
  int m;
  int bert = pt_tcp_bert(b->session);
  int asked = pt_block_peek(req, COAP_OPTION_BLOCK2, &num, &m, &szx);
  /* BERT when the client asked for it (SZX 7) or left the size to us; a
   * client that asked for a size of its own gets that size. */
  if (bert && !asked)
    szx = PT_BLOCK_BERT;
  else if (szx == PT_BLOCK_BERT && !bert)
    szx = 6;
  if (!pt_block_add_uint(resp, COAP_OPTION_ETAG,
                         etag ? etag : derive_etag(b->data, b->length)) ||
      !pt_block_add_uint(resp, COAP_OPTION_SIZE2, b->length))
    return 0;
  size_t start = pt_block_offset(num, szx);
  int rc = put_block(resp, b->data, b->length, start, szx, &b->more);
  if (rc < 0)
    b->bad_block = 1;
  return rc != 0;
}

int coap_add_data_large_response(
    coap_resource_t *resource, coap_session_t *session,
    const coap_pdu_t *request, coap_pdu_t *response, const coap_string_t *query,
    uint16_t media_type, int maxage, uint64_t etag, size_t length,
    const uint8_t *data, coap_release_large_data_t release_func,
    void *app_ptr) {
  (void)resource, (void)query; /* the request itself gives the key */
  pt_blk_srv *b = NULL;
  if (!session || !request || !response || (length && !data))
    goto fail;
  coap_context_t *ctx = session->context;
  if (ctx->blk_pending && ctx->blk_pending->resp == response)
    goto fail;          /* at most once per response */
  if (ctx->blk_pending) /* left over from a call outside a handler */
    srv_free(ctx->blk_pending);
  if (!pt_block_add_uint(response, COAP_OPTION_CONTENT_FORMAT, media_type) ||
      (maxage >= 0 &&
       !pt_block_add_uint(response, COAP_OPTION_MAXAGE, (uint64_t)maxage)))
    goto fail;
  unsigned num, szx;
  int m;
  int asked = pt_block_peek(request, COAP_OPTION_BLOCK2, &num, &m, &szx);
  if (!asked && length + 1 <= room(response)) { /* fits one message */
    int ok = coap_add_data(response, length, data);
    if (release_func)
      release_func(session, app_ptr);
    return ok;
  }
  if (!(b = srv_new(session, request, response)))
    goto fail;
  b->data = data;
  b->length = length;
  b->release = release_func;
  b->app_ptr = app_ptr;
  if (!add_blocked(b, request, response, etag)) {
    srv_free(b);
    return 0;
  }
  ctx->blk_pending = b;
  return 1;
fail:
  if (release_func)
    release_func(session, app_ptr);
  return 0;
}

/* After the handler: keep the held body for later blocks, or end it. */
static void finish_pending(coap_session_t *s, const coap_pdu_t *req,
                           coap_pdu_t *resp, coap_tick_t now) {
  coap_context_t *ctx = s->context;
  pt_blk_srv *b = ctx->blk_pending;
  ctx->blk_pending = NULL;
  if (b->resp != resp) { /* begun outside this dispatch */
    srv_free(b);
    return;
  }
  b->resp = NULL;
  if (b->bad_block) {
    pt_block_reset_to_error(resp, req, COAP_RESPONSE_CODE_BAD_OPTION);
    srv_free(b);
    return;
  }
  if (COAP_RESPONSE_CLASS(coap_pdu_get_code(resp)) != 2 || !b->more) {
    srv_free(b); /* an error, or the last block went out */
    return;
  }
  b->tmpl = coap_pdu_init(COAP_MESSAGE_NON, coap_pdu_get_code(resp), 0, 0);
  pt_blk_srv *old = srv_find(s, b->key, b->key_len);
  if (old) /* a new GET of the same target replaces the old body */
    srv_free(old);
  if (!b->tmpl || !pt_block_copy_options(b->tmpl, resp, NULL, 0) ||
      pt_hashmap_insert(&ctx->blk_srv, &b->node,
                        pt_block_key_hash(s, b->key, b->key_len)) < 0 ||
      pt_timer_arm(ctx, &b->timer, pt_block_expiry(s, now)) < 0)
    srv_free(b); /* later blocks will call the handler again */
}

/* Answers a Block2 request with NUM > 0 from a held body. Returns 1 when
 * @resp is complete. */
static int serve_held(coap_session_t *s, const coap_pdu_t *req,
                      coap_pdu_t *resp, unsigned num, unsigned szx,
                      coap_tick_t now) {
  uint8_t *key;
  long klen = pt_block_request_key(
      req, coap_pdu_get_code(req) == COAP_REQUEST_CODE_FETCH, &key);
  if (klen < 0)
    return 0;
  pt_blk_srv *b = srv_find(s, key, (size_t)klen);
  free(key);
  if (!b)
    return 0;
  coap_pdu_set_code(resp, coap_pdu_get_code(b->tmpl));
  if (!pt_block_copy_options(resp, b->tmpl, skip_b2, 1)) {
    pt_block_reset_to_error(resp, req, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return 1;
  }
  int more = 0;
  int rc = put_block(resp, b->data, b->length, pt_block_offset(num, szx), szx,
                     &more);
  if (rc <= 0) {
    pt_block_reset_to_error(resp, req,
                            rc < 0 ? COAP_RESPONSE_CODE_BAD_OPTION
                                   : COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return 1;
  }
  if (more)
    pt_timer_arm(s->context, &b->timer, pt_block_expiry(s, now));
  else
    srv_free(b); /* the last block: the transfer is over */
  return 1;
}

/* ---- the dispatch hooks
 * ------------------------------------------------------ */

int pt_block_server_before_opts(coap_session_t *s, const coap_pdu_t *req,
                                coap_pdu_t *resp, coap_pdu_t **whole,
                                const coap_resource_t *r, int separate,
                                coap_tick_t now) {
  coap_context_t *ctx = s->context;
  unsigned num1, szx1, num2, szx2;
  int m1, m2;
  int b1 = pt_block_peek(req, COAP_OPTION_BLOCK1, &num1, &m1, &szx1);
  int b2 = pt_block_peek(req, COAP_OPTION_BLOCK2, &num2, &m2, &szx2);
  if (((b1 && szx1 == PT_BLOCK_BERT) || (b2 && szx2 == PT_BLOCK_BERT)) &&
      !pt_tcp_bert(s)) {
    /* RFC 7959 2.2: SZX 7 is reserved and MUST lead to 4.00, unless both
     * CSMs allowed BERT on this connection (RFC 8323 6). */
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_BAD_REQUEST);
    return 1;
  }
  if (b1 && !separate && (ctx->block_mode & COAP_BLOCK_USE_LIBCOAP))
    return pt_block_rx_before(s, req, resp, whole, r, num1, m1, szx1, now);
  if (b2 && num2 > 0 && pt_hashmap_size(&ctx->blk_srv))
    return serve_held(s, req, resp, num2, szx2, now);
  return 0;
}

void pt_block_server_finish(coap_session_t *s, const coap_pdu_t *req,
                            coap_pdu_t *resp, coap_tick_t now) {
  coap_context_t *ctx = s->context;
  if (ctx->blk_pending)
    finish_pending(s, req, resp, now);
  if (ctx->blk_ack1_set)
    pt_block_rx_after(s, resp, now); /* block_rx.c */
}

/* ---- without library block mode
 * ---------------------------------------------- */

void coap_add_data_blocked_response(const coap_pdu_t *request,
                                    coap_pdu_t *response, uint16_t media_type,
                                    int maxage, size_t length,
                                    const uint8_t *data) {
  if (!request || !response || (length && !data))
    return;
  unsigned num = 0, szx = 6;
  int m, more = 0;
  int asked = pt_block_peek(request, COAP_OPTION_BLOCK2, &num, &m, &szx);
  if (asked && szx == PT_BLOCK_BERT &&
      !(request->session && pt_tcp_bert(request->session))) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
    return;
  }
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  pt_block_add_uint(response, COAP_OPTION_CONTENT_FORMAT, media_type);
  if (maxage >= 0)
    pt_block_add_uint(response, COAP_OPTION_MAXAGE, (uint64_t)maxage);
  if (!asked && length + 1 <= room(response)) {
    coap_add_data(response, length, data);
    return;
  }
  pt_block_add_uint(response, COAP_OPTION_ETAG, derive_etag(data, length));
  pt_block_add_uint(response, COAP_OPTION_SIZE2, length);
  int rc =
      put_block(response, data, length, pt_block_offset(num, szx), szx, &more);
  if (rc < 0)
    pt_block_reset_to_error(response, request, COAP_RESPONSE_CODE_BAD_OPTION);
  else if (rc == 0)
    pt_block_reset_to_error(response, request,
                            COAP_RESPONSE_CODE_INTERNAL_ERROR);
}
