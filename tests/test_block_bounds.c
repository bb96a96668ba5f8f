/*
 * test_block_bounds.c -- block-wise boundaries and ordering on the server
 * (RFC 7959), with a fake peer feeding raw requests through the sans-I/O
 * core and reading every answer from the send log:
 *  - Block2 bodies of 0 bytes, 1 byte, exactly one block, an exact
 *    multiple of the block size and a multiple plus one, fetched block by
 *    block: on each block the NUM, the M bit, Size2, the ETag and the
 *    payload's bytes, then 4.02 for the block after the last, and the held
 *    body gone after the last block; through coap_add_data_large_response()
 *    and coap_add_data_blocked_response();
 *  - Block1 blocks that arrive behind the current end, ahead of it,
 *    repeated with a new message ID or the same one, or with a changed
 *    block size, in single-body and per-block mode.
 * The expected values are computed here from the body length and the
 * block size (RFC 7959 2.2-2.4), not read from the code.
 */
#include "test.h"

#include "block.h"
#include "core_harness.h"

#define BODY_MAX 4096
static uint8_t body[BODY_MAX];
static size_t body_len;
static int get_calls, releases;

static void fill(uint8_t *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)((i * 131u + seed * 7u + (i >> 7)) & 0xff);
}

static void on_release(coap_session_t *s, void *app_ptr) {
  (void)s, (void)app_ptr;
  releases++;
}

/* GET /large: body_len bytes through coap_add_data_large_response(). */
static void hnd_large(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  get_calls++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_TEXT_PLAIN,
                               -1, 0, body_len, body, on_release, NULL);
}

/* GET /blocked: the same through coap_add_data_blocked_response(). */
static void hnd_blocked(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  get_calls++;
  coap_add_data_blocked_response(req, resp, COAP_MEDIATYPE_TEXT_PLAIN, -1,
                                 body_len, body);
}

/* PUT /up: the whole body (single body) or each block (per block),
 * assembled with coap_block_build_body(). */
static coap_binary_t *put_body;
static int put_calls;
static size_t put_total;

static void hnd_put(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  size_t len = 0, off = 0, total = 0;
  const uint8_t *data = NULL;
  put_calls++;
  coap_get_data_large(req, &len, &data, &off, &total);
  put_body = coap_block_build_body(put_body, len, data, off, total);
  put_total = total;
  coap_pdu_set_code(resp, off + len < total ? COAP_RESPONSE_CODE_CONTINUE
                                            : COAP_RESPONSE_CODE_CHANGED);
}

static coap_context_t *server(uint32_t mode) {
  coap_context_t *ctx = h_context();
  coap_context_set_block_mode(ctx, mode);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("large"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_large);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("blocked"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_blocked);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("up"), 0);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_put);
  coap_add_resource(ctx, r);
  get_calls = releases = put_calls = 0;
  coap_delete_binary(put_body);
  put_body = NULL;
  put_total = 0;
  return ctx;
}

static void finish(coap_context_t *ctx) {
  h_free(ctx);
  coap_delete_binary(put_body);
  put_body = NULL;
}

/* The last datagram sent, parsed (caller deletes), or NULL. */
static coap_pdu_t *last(void) {
  return h_nsent ? h_parse(h_nsent - 1) : NULL;
}

static int last_code(void) {
  coap_pdu_t *p = last();
  int c = p ? (int)coap_pdu_get_code(p) : -1;
  coap_delete_pdu(p);
  return c;
}

static coap_petrel_stats_t stats(coap_context_t *ctx) {
  coap_petrel_stats_t st;
  memset(&st, 0xff, sizeof(st));
  coap_petrel_context_get_stats(ctx, &st);
  return st;
}

/* ---- Block2
 * ------------------------------------------------------------------
 */

static coap_pdu_t *get_block(const char *path, coap_mid_t mid, unsigned num,
                             unsigned szx) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, mid, 0x42, path);
  pt_block_set(p, COAP_OPTION_BLOCK2, num, 0, szx);
  return p;
}

/* Fetches a body of @len bytes from /@path in blocks of 2^(@szx+4) and
 * checks every block; failures set test_failed_. */
static void fetch_and_check(coap_context_t *ctx, coap_session_t *s,
                            const char *path, size_t len, unsigned szx) {
  size_t size = (size_t)1 << (szx + 4);
  /* RFC 7959 2.2: a body of N bytes is ceil(N / size) blocks, and at least
   * one (an empty body is one empty block). */
  unsigned nblocks = len ? (unsigned)((len + size - 1) / size) : 1;
  uint64_t etag0 = 0;
  body_len = len;
  fill(body, len, (unsigned)len);
  for (unsigned num = 0; num < nblocks; num++) {
    h_feed(s, get_block(path, (coap_mid_t)(100 + num), num, szx));
    coap_pdu_t *r = last();
    CHECK_NOT_NULL(r);
    CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CONTENT);
    unsigned n, z;
    int m;
    int has = pt_block_peek(r, COAP_OPTION_BLOCK2, &n, &m, &z);
    uint64_t size2 = pt_block_uint_opt(r, COAP_OPTION_SIZE2, UINT64_MAX);
    uint64_t etag = pt_block_uint_opt(r, COAP_OPTION_ETAG, 0);
    size_t plen = 0;
    const uint8_t *pdata = NULL;
    uint8_t payload[1100];
    if (!coap_get_data(r, &plen, &pdata) || plen > sizeof(payload))
      plen = 0;
    if (plen)
      memcpy(payload, pdata, plen);
    coap_delete_pdu(r);
    CHECK(has);
    CHECK_UINT_EQ(n, num);
    CHECK_UINT_EQ(z, szx);
    CHECK_INT_EQ(m, num + 1 < nblocks); /* M: more blocks follow */
    CHECK_UINT_EQ(size2, len);
    CHECK(etag != 0);
    if (num == 0)
      etag0 = etag;
    CHECK_UINT_EQ(etag, etag0);
    size_t start = (size_t)num * size;
    size_t want = len - start < size ? len - start : size;
    CHECK_MEM_EQ(payload, plen, body + start, want);
  }
  /* The block after the last lies past the body: 4.02 (RFC 7959 2.4),
   * except for an empty body, whose block 1 ... also lies past it. */
  h_feed(s, get_block(path, 900, nblocks, szx));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_BAD_OPTION);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 0);
}

/* The lengths the issue names, around the block size of @szx. */
static void check_lengths(const char *path, unsigned szx) {
  size_t size = (size_t)1 << (szx + 4);
  size_t lens[] = {0, 1, size - 1, size, size + 1, 3 * size, 3 * size + 1};
  for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    coap_context_t *ctx = server(COAP_BLOCK_USE_LIBCOAP);
    coap_session_t *s = h_server_session(40000);
    fetch_and_check(ctx, s, path, lens[i], szx);
    if (test_failed_)
      fprintf(stderr, "  /%s, body of %zu bytes, blocks of %zu\n", path,
              lens[i], size);
    int failed = test_failed_;
    finish(ctx);
    if (failed)
      return;
    if (strcmp(path, "large") == 0 && releases != get_calls) {
      fprintf(stderr, "  %d releases for %d handler calls (%zu bytes)\n",
              releases, get_calls, lens[i]);
      test_failed_ = 1;
      return;
    }
  }
}

TEST(block2_large_response_boundaries_64) {
  check_lengths("large", 2);
}

TEST(block2_large_response_boundaries_16_and_1024) {
  check_lengths("large", 0);
  if (!test_failed_)
    check_lengths("large", 6);
}

TEST(block2_blocked_response_boundaries_64) {
  check_lengths("blocked", 2);
}

TEST(block2_blocked_response_boundaries_16_and_1024) {
  check_lengths("blocked", 0);
  if (!test_failed_)
    check_lengths("blocked", 6);
}

/* The held body serves later blocks without the handler, and the last
 * block ends it: the handler runs once for a whole fetch, and its body is
 * released once, when the last block has gone. */
TEST(block2_held_body_ends_at_its_last_block) {
  coap_context_t *ctx = server(COAP_BLOCK_USE_LIBCOAP);
  coap_session_t *s = h_server_session(40000);
  body_len = 3 * 64;
  fill(body, body_len, 9);
  h_feed(s, get_block("large", 1, 0, 2));
  CHECK_INT_EQ(get_calls, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 1);
  h_feed(s, get_block("large", 2, 1, 2));
  CHECK_INT_EQ(get_calls, 1);
  CHECK_INT_EQ(releases, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 1);
  h_feed(s, get_block("large", 3, 2, 2)); /* the last */
  CHECK_INT_EQ(get_calls, 1);
  CHECK_INT_EQ(releases, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 0);
  finish(ctx);
}

/* FETCH /query: a body chosen by the request's payload (RFC 8132 2: the
 * payload is part of what identifies the request), 200 bytes of fill()
 * seeded with the payload's first byte. */
static uint8_t fetch_body[2][200];

static void hnd_fetch(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  size_t len = 0;
  const uint8_t *data = NULL;
  get_calls++;
  coap_get_data(req, &len, &data);
  int which = len && data[0] == 'B';
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_TEXT_PLAIN,
                               -1, 0, sizeof(fetch_body[which]),
                               fetch_body[which], NULL, NULL);
}

static coap_pdu_t *fetch_block(coap_mid_t mid, unsigned num, char what) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_FETCH, mid, 0x42, "query");
  pt_block_set(p, COAP_OPTION_BLOCK2, num, 0, 2);
  coap_add_data(p, 1, (const uint8_t *)&what);
  return p;
}

/* The payload of the last answer equals @want's bytes from @off. */
static int last_payload_is(const uint8_t *want, size_t off, size_t n) {
  coap_pdu_t *r = last();
  size_t len = 0;
  const uint8_t *data = NULL;
  int ok = r && coap_get_data(r, &len, &data) && len == n &&
           memcmp(data, want + off, n) == 0;
  if (!ok)
    fprintf(stderr, "  payload of %zu bytes, wanted %zu from offset %zu\n", len,
            n, off);
  coap_delete_pdu(r);
  return ok;
}

/* Two FETCHes of one resource that differ only in their payload hold two
 * bodies; each later block comes from its own body, without calling the
 * handler again. */
TEST(block2_fetch_bodies_are_kept_apart_by_payload) {
  coap_context_t *ctx = server(COAP_BLOCK_USE_LIBCOAP);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("query"), 0);
  coap_register_handler(r, COAP_REQUEST_FETCH, hnd_fetch);
  coap_add_resource(ctx, r);
  fill(fetch_body[0], sizeof(fetch_body[0]), 3);
  fill(fetch_body[1], sizeof(fetch_body[1]), 4);
  coap_session_t *s = h_server_session(40000);
  h_feed(s, fetch_block(1, 0, 'A'));
  CHECK(last_payload_is(fetch_body[0], 0, 64));
  h_feed(s, fetch_block(2, 0, 'B'));
  CHECK(last_payload_is(fetch_body[1], 0, 64));
  CHECK_INT_EQ(get_calls, 2);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 2);
  h_feed(s, fetch_block(3, 1, 'A'));
  CHECK(last_payload_is(fetch_body[0], 64, 64));
  h_feed(s, fetch_block(4, 1, 'B'));
  CHECK(last_payload_is(fetch_body[1], 64, 64));
  h_feed(s, fetch_block(5, 3, 'B'));
  CHECK(last_payload_is(fetch_body[1], 192, 8));
  CHECK_INT_EQ(get_calls, 2);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 1);
  finish(ctx);
}

/* A body that fits one message, asked without Block2, goes whole: no
 * Block2 and no Size2 (RFC 7959 2.4 lets the server choose). */
TEST(block2_unasked_small_body_goes_whole) {
  size_t lens[] = {0, 1, 64, 500};
  for (size_t i = 0; i < 4; i++) {
    coap_context_t *ctx = server(COAP_BLOCK_USE_LIBCOAP);
    coap_session_t *s = h_server_session(40000);
    body_len = lens[i];
    fill(body, body_len, 3);
    h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 0x42,
                        "large"));
    coap_pdu_t *r = last();
    CHECK_NOT_NULL(r);
    coap_opt_iterator_t it;
    CHECK_NULL(coap_check_option(r, COAP_OPTION_BLOCK2, &it));
    size_t plen = 0;
    const uint8_t *pdata = NULL;
    if (!coap_get_data(r, &plen, &pdata))
      plen = 0;
    int same = !test_mem_differs_(pdata, plen, body, lens[i]);
    coap_delete_pdu(r);
    CHECK(same);
    CHECK_INT_EQ(releases, 1);
    finish(ctx);
  }
}

/* A body goes whole exactly when the whole message fits the session's
 * largest PDU (coap_session_max_pdu_size() after the 4-byte header), else
 * block-wise. The size of everything but the payload is measured on a
 * 1-byte body; the lengths tried span the boundary. */
static size_t whole_len(const char *path, size_t len, int *blockwise) {
  coap_context_t *ctx = server(COAP_BLOCK_USE_LIBCOAP);
  coap_session_t *s = h_server_session(40000);
  body_len = len;
  fill(body, len, 4);
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 0x42, path));
  coap_pdu_t *r = last();
  coap_opt_iterator_t it;
  *blockwise = r && coap_check_option(r, COAP_OPTION_BLOCK2, &it) != NULL;
  size_t n = h_nsent ? h_sent_log[h_nsent - 1].len : 0;
  coap_delete_pdu(r);
  finish(ctx);
  return n;
}

static void check_whole_boundary(const char *path) {
  int blockwise;
  size_t overhead = whole_len(path, 1, &blockwise) - 1 - 1; /* marker, byte */
  CHECK(!blockwise);
  coap_context_t *ctx = server(COAP_BLOCK_USE_LIBCOAP);
  size_t max = coap_session_max_pdu_size(h_server_session(40000)) + 4;
  finish(ctx);
  size_t fit = max - overhead - 1; /* the largest body that fits */
  for (size_t len = fit - 2; len <= fit + 2; len++) {
    size_t n = whole_len(path, len, &blockwise);
    if (len <= fit) {
      CHECK(!blockwise);
      CHECK_UINT_EQ(n, overhead + 1 + len);
    } else {
      CHECK(blockwise);
      CHECK(n <= max);
    }
  }
}

TEST(block2_body_goes_whole_exactly_when_it_fits) {
  check_whole_boundary("large");
  if (!test_failed_)
    check_whole_boundary("blocked");
}

/* Max-Age 0 is a value (RFC 7252 5.10.5: not to be cached), not absent. */
static void hnd_max_age(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  int age = q ? atoi((const char *)q->s) : -1;
  body_len = 300;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  if (coap_pdu_get_code(req) == COAP_REQUEST_CODE_FETCH)
    coap_add_data_blocked_response(req, resp, 0, age, body_len, body);
  else
    coap_add_data_large_response(r, s, req, resp, q, 0, age, 0, body_len, body,
                                 NULL, NULL);
}

TEST(block2_max_age_0_is_sent_minus_1_is_not) {
  const char *ages[3] = {"0", "-1", "60"};
  long want[3] = {0, -1, 60};
  coap_pdu_code_t codes[2] = {COAP_REQUEST_CODE_GET, COAP_REQUEST_CODE_FETCH};
  for (int c = 0; c < 2; c++) {
    for (int k = 0; k < 3; k++) {
      coap_context_t *ctx = server(COAP_BLOCK_USE_LIBCOAP);
      coap_resource_t *r = coap_resource_init(coap_make_str_const("age"), 0);
      coap_register_handler(r, (coap_request_t)codes[c], hnd_max_age);
      coap_add_resource(ctx, r);
      coap_session_t *s = h_server_session(40000);
      coap_pdu_t *p = h_request(COAP_MESSAGE_CON, codes[c], 1, 0x42, "age");
      coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(ages[k]),
                      (const uint8_t *)ages[k]);
      h_feed(s, p);
      coap_pdu_t *resp = last();
      CHECK_NOT_NULL(resp);
      coap_opt_iterator_t it;
      coap_opt_t *o = coap_check_option(resp, COAP_OPTION_MAXAGE, &it);
      long got =
          o ? (long)coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o))
            : -1;
      coap_delete_pdu(resp);
      finish(ctx);
      CHECK_INT_EQ(got, want[k]);
    }
  }
}

/* Any NULL argument makes coap_add_data_blocked_response() do nothing
 * (and a NULL body with a length too). */
TEST(blocked_response_with_a_null_argument_does_nothing) {
  coap_pdu_t *req =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 0x42, "x");
  coap_pdu_t *resp = coap_pdu_init(COAP_MESSAGE_ACK, 0, 1, 1024);
  size_t before = coap_pdu_get_token(resp).length;
  coap_add_data_blocked_response(NULL, resp, 0, -1, 10, body);
  coap_add_data_blocked_response(req, resp, 0, -1, 10, NULL);
  coap_add_data_blocked_response(req, NULL, 0, -1, 10, body);
  CHECK_INT_EQ(coap_pdu_get_code(resp), 0);
  size_t len = 0;
  const uint8_t *d = NULL;
  CHECK(!coap_get_data(resp, &len, &d) || len == 0);
  CHECK_UINT_EQ(coap_pdu_get_token(resp).length, before);
  coap_delete_pdu(req);
  coap_delete_pdu(resp);
}

/* ---- Block1
 * ------------------------------------------------------------------
 */

static uint8_t upload[BODY_MAX];

/* PUT /up carrying the block @num of size 2^(@szx+4) of upload[], with
 * @len bytes of payload. */
static coap_pdu_t *put_block(coap_mid_t mid, unsigned num, int m, unsigned szx,
                             size_t len) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, mid, 0x17, "up");
  pt_block_set(p, COAP_OPTION_BLOCK1, num, m, szx);
  coap_add_data(p, len, upload + ((size_t)num << (szx + 4)));
  return p;
}

/* The Block1 option of the last answer: 1 when it is @num/@m/@szx. */
static int last_block1_is(unsigned num, int m, unsigned szx) {
  coap_pdu_t *r = last();
  unsigned n = 0, z = 0;
  int mm = -1;
  int has = r && pt_block_peek(r, COAP_OPTION_BLOCK1, &n, &mm, &z);
  coap_delete_pdu(r);
  if (!has || n != num || mm != m || z != szx) {
    fprintf(stderr, "  Block1 %s %u/%d/%u, wanted %u/%d/%u\n",
            has ? "is" : "absent:", n, mm, z, num, m, szx);
    return 0;
  }
  return 1;
}

#define SINGLE (COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY)
#define EACH COAP_BLOCK_USE_LIBCOAP

/* Blocks 0, 1 and 2 of 64 bytes taken; the next must start at 192. */
static coap_session_t *three_blocks_taken(coap_context_t *ctx) {
  (void)ctx;
  coap_session_t *s = h_server_session(40000);
  fill(upload, sizeof(upload), 5);
  for (unsigned i = 0; i < 3; i++)
    h_feed(s, put_block((coap_mid_t)(10 + i), i, 1, 2, 64));
  return s;
}

static void block1_behind(uint32_t mode) {
  coap_context_t *ctx = server(mode);
  coap_session_t *s = three_blocks_taken(ctx);
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  int calls = put_calls;
  /* block 1 again, long after its answer: behind the end, not the block
   * just taken: 4.08 and the transfer is over */
  h_feed(s, put_block(20, 1, 1, 2, 64));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(put_calls, calls);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_rx), 0);
  CHECK_UINT_EQ(stats(ctx).block_bytes, 0);
  h_feed(s, put_block(21, 3, 0, 2, 10));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(put_calls, calls);
  finish(ctx);
}

TEST(block1_single_body_block_behind_the_end_is_incomplete) {
  block1_behind(SINGLE);
}

TEST(block1_per_block_block_behind_the_end_is_incomplete) {
  block1_behind(EACH);
}

static void block1_ahead(uint32_t mode) {
  coap_context_t *ctx = server(mode);
  coap_session_t *s = three_blocks_taken(ctx);
  int calls = put_calls;
  h_feed(s, put_block(20, 4, 1, 2, 64)); /* block 3 skipped */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(put_calls, calls);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_rx), 0);
  CHECK_UINT_EQ(stats(ctx).block_bytes, 0);
  /* the missing block, late: its transfer is gone */
  h_feed(s, put_block(21, 3, 1, 2, 64));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  finish(ctx);
}

TEST(block1_single_body_block_ahead_of_the_end_is_incomplete) {
  block1_ahead(SINGLE);
}

TEST(block1_per_block_block_ahead_of_the_end_is_incomplete) {
  block1_ahead(EACH);
}

/* The answer to the block just taken was lost, and the client sends it
 * again with a new message ID (a new request, RFC 7959 2.5): it is
 * acknowledged again, its bytes are not taken twice, and the transfer
 * goes on to a byte-exact body. */
static void block1_repeat_new_mid(uint32_t mode) {
  coap_context_t *ctx = server(mode);
  coap_session_t *s = three_blocks_taken(ctx);
  h_feed(s, put_block(20, 2, 1, 2, 64));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  CHECK(last_block1_is(2, 1, 2));
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_rx), 1);
  h_feed(s, put_block(21, 3, 1, 2, 64));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  CHECK(last_block1_is(3, 1, 2));
  h_feed(s, put_block(22, 4, 0, 2, 30)); /* the last: 4 x 64 + 30 bytes */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CHANGED);
  CHECK(last_block1_is(4, 0, 2));
  CHECK_NOT_NULL(put_body);
  CHECK_MEM_EQ(put_body->s, put_body->length, upload, 4 * 64 + 30);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_rx), 0);
  CHECK_UINT_EQ(stats(ctx).block_bytes, 0);
  if (mode == SINGLE)
    CHECK_INT_EQ(put_calls, 1);
  finish(ctx);
}

TEST(block1_single_body_repeat_with_new_mid_is_acknowledged_once) {
  block1_repeat_new_mid(SINGLE);
}

TEST(block1_per_block_repeat_with_new_mid_is_acknowledged_once) {
  block1_repeat_new_mid(EACH);
}

/* The same datagram again (same message ID): the stored answer, the
 * handler not run again. */
TEST(block1_repeat_with_same_mid_gets_the_same_answer) {
  coap_context_t *ctx = server(EACH);
  coap_session_t *s = three_blocks_taken(ctx);
  int calls = put_calls;
  int before = h_nsent;
  h_feed(s, put_block(12, 2, 1, 2, 64)); /* block 2 had MID 12 */
  CHECK_INT_EQ(h_nsent, before + 1);
  CHECK_MEM_EQ(h_sent_log[before].data, h_sent_log[before].len,
               h_sent_log[before - 1].data, h_sent_log[before - 1].len);
  CHECK_INT_EQ(put_calls, calls);
  finish(ctx);
}

/* RFC 7959 2.3/2.5: the client may go on with a smaller block size (NUM
 * rescaled so the offset is right); a block whose offset under its new
 * size is not where the body ends is 4.08. */
static void block1_smaller_size(uint32_t mode) {
  coap_context_t *ctx = server(mode);
  coap_session_t *s = h_server_session(40000);
  fill(upload, sizeof(upload), 6);
  h_feed(s, put_block(1, 0, 1, 3, 128)); /* bytes 0..127 */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  CHECK(last_block1_is(0, 1, 3));
  h_feed(s, put_block(2, 4, 1, 1, 32)); /* 32-byte block 4: 128..159 */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  CHECK(last_block1_is(4, 1, 1));
  h_feed(s, put_block(3, 5, 0, 1, 7)); /* 160..166, the last */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CHANGED);
  CHECK(last_block1_is(5, 0, 1));
  CHECK_NOT_NULL(put_body);
  CHECK_MEM_EQ(put_body->s, put_body->length, upload, 167);
  finish(ctx);
}

TEST(block1_single_body_smaller_block_size_continues) {
  block1_smaller_size(SINGLE);
}

TEST(block1_per_block_smaller_block_size_continues) {
  block1_smaller_size(EACH);
}

static void block1_size_changed_off_the_end(uint32_t mode) {
  coap_context_t *ctx = server(mode);
  coap_session_t *s = h_server_session(40000);
  fill(upload, sizeof(upload), 7);
  h_feed(s, put_block(1, 0, 1, 2, 64)); /* bytes 0..63 */
  int calls = put_calls;
  /* a 128-byte block 1 starts at 128, past the end at 64 */
  h_feed(s, put_block(2, 1, 1, 3, 128));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(put_calls, calls);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_rx), 0);
  finish(ctx);
}

TEST(block1_single_body_larger_block_size_off_the_end_is_incomplete) {
  block1_size_changed_off_the_end(SINGLE);
}

TEST(block1_per_block_larger_block_size_off_the_end_is_incomplete) {
  block1_size_changed_off_the_end(EACH);
}

/* The last block is the one with M clear, whatever its size: exactly one
 * block, an exact multiple, and a 1-byte or empty last block. */
static void block1_last_block(uint32_t mode, unsigned full, size_t tail) {
  coap_context_t *ctx = server(mode);
  coap_session_t *s = h_server_session(40000);
  fill(upload, sizeof(upload), (unsigned)(full + tail));
  unsigned i = 0;
  for (; i < full; i++) {
    int m = i + 1 < full || tail > 0;
    h_feed(s, put_block((coap_mid_t)(1 + i), i, m, 2, 64));
    if (m) {
      CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
      CHECK(last_block1_is(i, 1, 2));
    }
  }
  if (tail || !full)
    h_feed(s, put_block((coap_mid_t)(1 + i), i, 0, 2, tail));
  unsigned last_num = tail || !full ? i : i - 1;
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CHANGED);
  CHECK(last_block1_is(last_num, 0, 2));
  CHECK_NOT_NULL(put_body);
  CHECK_MEM_EQ(put_body->s, put_body->length, upload, full * 64 + tail);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_rx), 0);
  CHECK_UINT_EQ(stats(ctx).block_bytes, 0);
  finish(ctx);
}

TEST(block1_last_block_of_each_length) {
  uint32_t modes[2] = {SINGLE, EACH};
  for (int k = 0; k < 2 && !test_failed_; k++) {
    block1_last_block(modes[k], 1, 0); /* exactly one block */
    if (!test_failed_)
      block1_last_block(modes[k], 3, 0); /* an exact multiple */
    if (!test_failed_)
      block1_last_block(modes[k], 3, 1); /* a 1-byte last block */
    if (!test_failed_)
      block1_last_block(modes[k], 0, 1); /* a 1-byte body */
    if (!test_failed_)
      block1_last_block(modes[k], 2, 63); /* one byte short */
  }
}

int main(void) {
  RUN(block2_large_response_boundaries_64);
  RUN(block2_large_response_boundaries_16_and_1024);
  RUN(block2_blocked_response_boundaries_64);
  RUN(block2_blocked_response_boundaries_16_and_1024);
  RUN(block2_held_body_ends_at_its_last_block);
  RUN(block2_unasked_small_body_goes_whole);
  RUN(block2_fetch_bodies_are_kept_apart_by_payload);
  RUN(block2_body_goes_whole_exactly_when_it_fits);
  RUN(block2_max_age_0_is_sent_minus_1_is_not);
  RUN(blocked_response_with_a_null_argument_does_nothing);
  RUN(block1_single_body_block_behind_the_end_is_incomplete);
  RUN(block1_per_block_block_behind_the_end_is_incomplete);
  RUN(block1_single_body_block_ahead_of_the_end_is_incomplete);
  RUN(block1_per_block_block_ahead_of_the_end_is_incomplete);
  RUN(block1_single_body_repeat_with_new_mid_is_acknowledged_once);
  RUN(block1_per_block_repeat_with_new_mid_is_acknowledged_once);
  RUN(block1_repeat_with_same_mid_gets_the_same_answer);
  RUN(block1_single_body_smaller_block_size_continues);
  RUN(block1_per_block_smaller_block_size_continues);
  RUN(block1_single_body_larger_block_size_off_the_end_is_incomplete);
  RUN(block1_per_block_larger_block_size_off_the_end_is_incomplete);
  RUN(block1_last_block_of_each_length);
  return TEST_SUMMARY();
}
