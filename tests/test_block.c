/*
 * test_block.c -- block-wise transfers (RFC 7959) through the sans-I/O
 * core: a client context and a server context joined by in-memory queues
 * under a fake clock, plus raw requests for the error cases.
 */
#include "test.h"

#include "block.h"
#include "core_harness.h"

/* ---- bodies and handlers ---------------------------------------------------
 */

#define BIG_LEN 5000
static uint8_t big_body[BIG_LEN];
static int big_calls, releases;
static coap_session_t *release_session;

static void fill(uint8_t *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)((i * 31u + seed * 7u + (i >> 8)) & 0xff);
}

static void on_release(coap_session_t *s, void *app_ptr) {
  (void)app_ptr;
  release_session = s;
  releases++;
}

/* GET /big: a 5000-byte body; the first byte tells sessions apart when
 * the handler is asked to (per_session). */
static int per_session;
static uint8_t session_bodies[2][BIG_LEN];
static coap_session_t *first_session;

static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  big_calls++;
  const uint8_t *body = big_body;
  if (per_session) {
    if (!first_session)
      first_session = s;
    body = session_bodies[s == first_session ? 0 : 1];
  }
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_TEXT_PLAIN,
                               60, 0, BIG_LEN, body, on_release, NULL);
}

/* PUT /up: remembers the body it was given. */
static uint8_t put_body[300000];
static size_t put_len;
static int put_calls;

static void hnd_put(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  size_t len, off, total;
  const uint8_t *data;
  put_calls++;
  put_len = 0;
  if (coap_get_data_large(req, &len, &data, &off, &total) && off == 0 &&
      len == total && len <= sizeof(put_body)) {
    memcpy(put_body, data, len);
    put_len = len;
  }
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

/* ---- two contexts joined by queues ----------------------------------------
 */

typedef struct q_item {
  coap_session_t *from;
  size_t len;
  uint8_t data[1200];
} q_item;

#define QCAP 64
typedef struct queue {
  q_item item[QCAP];
  int head, count;
} queue;

static queue to_server, to_client;
static int seen_blocks, blocks_without_etag_or_size2;

static void q_push(queue *q, coap_session_t *s, const uint8_t *d, size_t n) {
  if (n > sizeof(q->item[0].data))
    return;
  if (q->count == QCAP) { /* raw tests never read old answers: drop one */
    q->head = (q->head + 1) % QCAP;
    q->count--;
  }
  q_item *it = &q->item[(q->head + q->count++) % QCAP];
  it->from = s;
  it->len = n;
  memcpy(it->data, d, n);
}

static ssize_t client_send(coap_session_t *s, const uint8_t *d, size_t n) {
  q_push(&to_server, s, d, n);
  return (ssize_t)n;
}

/* Checks every Block2 response the server sends for ETag and Size2. */
static ssize_t server_send(coap_session_t *s, const uint8_t *d, size_t n) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  coap_opt_iterator_t it;
  if (coap_pdu_parse(COAP_PROTO_UDP, d, n, p) &&
      coap_check_option(p, COAP_OPTION_BLOCK2, &it)) {
    seen_blocks++;
    if (!coap_check_option(p, COAP_OPTION_ETAG, &it) ||
        !coap_check_option(p, COAP_OPTION_SIZE2, &it))
      blocks_without_etag_or_size2++;
  }
  coap_delete_pdu(p);
  q_push(&to_client, s, d, n);
  return (ssize_t)n;
}

static coap_context_t *srv_ctx, *cli_ctx;
static coap_session_t *cli_sess[2], *srv_sess[2];

static void setup(uint32_t server_mode, uint32_t client_mode) {
  srv_ctx = h_context(); /* fake clock, h_ep bound to srv_ctx */
  srv_ctx->send = server_send;
  coap_context_set_block_mode(srv_ctx, server_mode);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("big"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_big);
  coap_add_resource(srv_ctx, r);
  r = coap_resource_init(coap_make_str_const("up"), 0);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_put);
  coap_add_resource(srv_ctx, r);
  cli_ctx = pt_context_new_detached();
  cli_ctx->send = client_send;
  coap_context_set_block_mode(cli_ctx, client_mode);
  for (int i = 0; i < 2; i++) {
    coap_address_t a = h_peer(5683);
    cli_sess[i] = coap_new_client_session(cli_ctx, NULL, &a, COAP_PROTO_UDP);
    srv_sess[i] = h_server_session((uint16_t)(40000 + i));
  }
  memset(&to_server, 0, sizeof(to_server));
  memset(&to_client, 0, sizeof(to_client));
  fill(big_body, BIG_LEN, 1);
  fill(session_bodies[0], BIG_LEN, 2);
  fill(session_bodies[1], BIG_LEN, 3);
  big_calls = releases = put_calls = 0;
  per_session = 0;
  first_session = NULL;
  release_session = NULL;
  seen_blocks = blocks_without_etag_or_size2 = 0;
  put_len = 0;
}

static void teardown(void) {
  for (int i = 0; i < 2; i++)
    coap_session_release(cli_sess[i]);
  coap_free_context(cli_ctx);
  h_free(srv_ctx);
}

static int index_of(coap_session_t **v, coap_session_t *s) {
  return v[0] == s ? 0 : 1;
}

/* Delivers queued datagrams both ways until both queues are empty. */
static void pump(void) {
  for (int guard = 0; guard < 100000 && (to_server.count || to_client.count);
       guard++) {
    if (to_server.count) {
      q_item it = to_server.item[to_server.head];
      to_server.head = (to_server.head + 1) % QCAP;
      to_server.count--;
      pt_recv_datagram(srv_sess[index_of(cli_sess, it.from)], it.data, it.len,
                       h_now);
    }
    if (to_client.count) {
      q_item it = to_client.item[to_client.head];
      to_client.head = (to_client.head + 1) % QCAP;
      to_client.count--;
      pt_recv_datagram(cli_sess[index_of(srv_sess, it.from)], it.data, it.len,
                       h_now);
    }
  }
}

/* ---- the client's view ------------------------------------------------------
 */

static uint8_t got[2][300000];
static size_t got_len[2];
static int responses[2];
static coap_pdu_code_t got_code[2];
static uint8_t sent_token[2][8];
static size_t sent_token_len[2];
static int token_ok[2];
static int got_block_opt[2];

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *rcvd, coap_mid_t mid) {
  (void)sent, (void)mid;
  int i = index_of(cli_sess, s);
  size_t len, off, total;
  const uint8_t *data;
  coap_opt_iterator_t it;
  responses[i]++;
  got_code[i] = coap_pdu_get_code(rcvd);
  coap_bin_const_t t = coap_pdu_get_token(rcvd);
  token_ok[i] = t.length == sent_token_len[i] &&
                memcmp(t.s, sent_token[i], t.length) == 0;
  got_block_opt[i] = coap_check_option(rcvd, COAP_OPTION_BLOCK2, &it) != NULL;
  got_len[i] = 0;
  if (coap_get_data_large(rcvd, &len, &data, &off, &total) &&
      len <= sizeof(got[i])) {
    memcpy(got[i], data, len);
    got_len[i] = len;
  }
  return COAP_RESPONSE_OK;
}

static coap_pdu_t *client_request(int i, coap_pdu_code_t code, const char *path,
                                  int szx) {
  coap_session_t *s = cli_sess[i];
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, code, s);
  coap_session_new_token(s, &sent_token_len[i], sent_token[i]);
  coap_add_token(p, sent_token_len[i], sent_token[i]);
  coap_add_option(p, COAP_OPTION_URI_PATH, strlen(path), (const uint8_t *)path);
  if (szx >= 0)
    pt_block_set(p,
                 code == COAP_REQUEST_CODE_GET ? COAP_OPTION_BLOCK2
                                               : COAP_OPTION_BLOCK1,
                 0, 0, (unsigned)szx);
  responses[i] = 0;
  return p;
}

/* ---- Block2: client fetch against the server ------------------------------
 */

TEST(block2_every_szx_reassembles_byte_exact) {
  for (int szx = 0; szx <= 6; szx++) {
    setup(COAP_BLOCK_USE_LIBCOAP,
          COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(cli_ctx, on_response);
    coap_send(cli_sess[0],
              client_request(0, COAP_REQUEST_CODE_GET, "big", szx));
    pump();
    CHECK_INT_EQ(responses[0], 1);
    CHECK_INT_EQ(got_code[0], COAP_RESPONSE_CODE_CONTENT);
    CHECK_MEM_EQ(got[0], got_len[0], big_body, BIG_LEN);
    CHECK(token_ok[0]);
    CHECK(!got_block_opt[0]);
    CHECK_INT_EQ(big_calls, 1);
    CHECK_INT_EQ(releases, 1);
    CHECK_INT_EQ(seen_blocks, (BIG_LEN + (16 << szx) - 1) / (16 << szx));
    CHECK_INT_EQ(blocks_without_etag_or_size2, 0);
    CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_srv), 0);
    CHECK_UINT_EQ(pt_hashmap_size(&cli_ctx->blk_cli), 0);
    teardown();
  }
}

TEST(block2_without_asking_uses_blocks_that_fit) {
  setup(COAP_BLOCK_USE_LIBCOAP,
        COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_register_response_handler(cli_ctx, on_response);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", -1));
  pump();
  CHECK_INT_EQ(responses[0], 1);
  CHECK_MEM_EQ(got[0], got_len[0], big_body, BIG_LEN);
  CHECK_INT_EQ(seen_blocks, 5); /* 1024-byte blocks */
  CHECK_INT_EQ(releases, 1);
  teardown();
}

TEST(block2_without_single_body_delivers_each_block) {
  setup(COAP_BLOCK_USE_LIBCOAP, COAP_BLOCK_USE_LIBCOAP);
  coap_register_response_handler(cli_ctx, on_response);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 6));
  pump();
  CHECK_INT_EQ(responses[0], 5);
  CHECK(got_block_opt[0]);
  CHECK_MEM_EQ(got[0], got_len[0], big_body + 4096, BIG_LEN - 4096);
  teardown();
}

TEST(block2_two_sessions_concurrently_never_mix) {
  setup(COAP_BLOCK_USE_LIBCOAP,
        COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  per_session = 1;
  coap_register_response_handler(cli_ctx, on_response);
  /* Both start before either finishes: the pump interleaves them. */
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 2));
  coap_send(cli_sess[1], client_request(1, COAP_REQUEST_CODE_GET, "big", 2));
  pump();
  CHECK_INT_EQ(responses[0], 1);
  CHECK_INT_EQ(responses[1], 1);
  CHECK_MEM_EQ(got[0], got_len[0], session_bodies[0], BIG_LEN);
  CHECK_MEM_EQ(got[1], got_len[1], session_bodies[1], BIG_LEN);
  CHECK_INT_EQ(big_calls, 2);
  CHECK_INT_EQ(releases, 2);
  teardown();
}

/* ---- Block1: client upload against the server ------------------------------
 */

static uint8_t upload[200000];
static int client_releases;

static void on_client_release(coap_session_t *s, void *app_ptr) {
  (void)s, (void)app_ptr;
  client_releases++;
}

TEST(block1_upload_reassembled_into_one_body) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY,
        COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_register_response_handler(cli_ctx, on_response);
  fill(upload, sizeof(upload), 9);
  client_releases = 0;
  coap_pdu_t *p = client_request(0, COAP_REQUEST_CODE_PUT, "up", 2); /* 64 */
  CHECK(coap_add_data_large_request(cli_sess[0], p, sizeof(upload), upload,
                                    on_client_release, NULL));
  coap_send(cli_sess[0], p);
  pump();
  CHECK_INT_EQ(put_calls, 1);
  CHECK_MEM_EQ(put_body, put_len, upload, sizeof(upload));
  CHECK_INT_EQ(responses[0], 1);
  CHECK_INT_EQ(got_code[0], COAP_RESPONSE_CODE_CHANGED);
  CHECK(token_ok[0]);
  CHECK_INT_EQ(client_releases, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  CHECK_UINT_EQ(srv_ctx->blk_rx_total, 0);
  teardown();
}

TEST(block1_small_body_goes_in_one_message) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY,
        COAP_BLOCK_USE_LIBCOAP);
  coap_register_response_handler(cli_ctx, on_response);
  client_releases = 0;
  coap_pdu_t *p = client_request(0, COAP_REQUEST_CODE_PUT, "up", -1);
  CHECK(coap_add_data_large_request(cli_sess[0], p, 5, (const uint8_t *)"small",
                                    on_client_release, NULL));
  CHECK_INT_EQ(client_releases, 1);
  coap_send(cli_sess[0], p);
  pump();
  CHECK_MEM_EQ(put_body, put_len, "small", 5);
  teardown();
}

/* An application Block1 option asking for 16-byte blocks is honoured even
 * when the whole body would fit one message. */
TEST(block1_app_block_size_honoured_for_small_body) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY,
        COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_register_response_handler(cli_ctx, on_response);
  static const uint8_t body[] = "0123456789abcdef0123456789";
  coap_pdu_t *p = client_request(0, COAP_REQUEST_CODE_PUT, "up", 0); /* 16 */
  CHECK(coap_add_data_large_request(cli_sess[0], p, 26, body, NULL, NULL));
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(p, &len, &data));
  CHECK_UINT_EQ(len, 16);
  unsigned num, szx;
  int m;
  CHECK(pt_block_peek(p, COAP_OPTION_BLOCK1, &num, &m, &szx));
  CHECK_UINT_EQ(num, 0);
  CHECK_INT_EQ(m, 1);
  CHECK_UINT_EQ(szx, 0);
  coap_send(cli_sess[0], p);
  pump();
  CHECK_INT_EQ(put_calls, 1);
  CHECK_MEM_EQ(put_body, put_len, body, 26);
  teardown();
}

/* ---- raw requests: the server's answers ------------------------------------
 */

static coap_pdu_t *raw(coap_pdu_code_t code, coap_mid_t mid, const char *path,
                       coap_option_num_t blk, unsigned num, int m,
                       unsigned szx) {
  coap_pdu_t *p = h_request(COAP_MESSAGE_CON, code, mid, 0x42, path);
  if (blk)
    pt_block_set(p, blk, num, m, szx);
  return p;
}

/* The last datagram the server sent, parsed (caller deletes). */
static coap_pdu_t *last_sent(void) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  q_item *it = &to_client.item[(to_client.head + to_client.count - 1) % QCAP];
  if (!to_client.count ||
      !coap_pdu_parse(COAP_PROTO_UDP, it->data, it->len, p)) {
    coap_delete_pdu(p);
    return NULL;
  }
  return p;
}

static coap_pdu_code_t last_code(void) {
  coap_pdu_t *p = last_sent();
  coap_pdu_code_t c = p ? coap_pdu_get_code(p) : 0;
  coap_delete_pdu(p);
  return c;
}

TEST(szx_7_in_block2_request_is_bad_request) {
  setup(COAP_BLOCK_USE_LIBCOAP, 0);
  h_feed(srv_sess[0],
         raw(COAP_REQUEST_CODE_GET, 1, "big", COAP_OPTION_BLOCK2, 0, 0, 7));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_INT_EQ(big_calls, 0);
  teardown();
}

TEST(szx_7_in_block1_request_is_bad_request) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY, 0);
  coap_pdu_t *p =
      raw(COAP_REQUEST_CODE_PUT, 1, "up", COAP_OPTION_BLOCK1, 0, 1, 7);
  h_feed(srv_sess[0], p);
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_INT_EQ(put_calls, 0);
  teardown();
}

TEST(block_number_past_body_is_bad_option) {
  setup(COAP_BLOCK_USE_LIBCOAP, 0);
  /* 5000 bytes are 79 blocks of 64: block 79 starts past the end. */
  h_feed(srv_sess[0],
         raw(COAP_REQUEST_CODE_GET, 1, "big", COAP_OPTION_BLOCK2, 79, 0, 2));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_BAD_OPTION);
  CHECK_INT_EQ(releases, 1); /* nothing held */
  /* Same from a held body. */
  h_feed(srv_sess[0],
         raw(COAP_REQUEST_CODE_GET, 2, "big", COAP_OPTION_BLOCK2, 0, 0, 2));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTENT);
  h_feed(srv_sess[0],
         raw(COAP_REQUEST_CODE_GET, 3, "big", COAP_OPTION_BLOCK2, 500, 0, 2));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_BAD_OPTION);
  CHECK_INT_EQ(big_calls, 2);
  teardown();
  CHECK_INT_EQ(releases, 2); /* the held one, at context free */
}

TEST(held_body_released_once_on_expiry) {
  setup(COAP_BLOCK_USE_LIBCOAP, 0);
  h_feed(srv_sess[0],
         raw(COAP_REQUEST_CODE_GET, 1, "big", COAP_OPTION_BLOCK2, 0, 0, 6));
  h_feed(srv_sess[0],
         raw(COAP_REQUEST_CODE_GET, 2, "big", COAP_OPTION_BLOCK2, 1, 0, 6));
  CHECK_INT_EQ(big_calls, 1);
  CHECK_INT_EQ(releases, 0);
  h_advance(srv_ctx,
            260 * COAP_TICKS_PER_SECOND); /* > EXCHANGE_LIFETIME, < idle */
  CHECK_INT_EQ(releases, 1);
  CHECK(release_session == srv_sess[0]);
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_srv), 0);
  /* A block asked for after expiry: the handler serves it afresh. */
  h_feed(srv_sess[0],
         raw(COAP_REQUEST_CODE_GET, 3, "big", COAP_OPTION_BLOCK2, 2, 0, 6));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(big_calls, 2);
  teardown();
  CHECK_INT_EQ(releases, 2);
}

static coap_pdu_t *put_block(coap_mid_t mid, unsigned num, int m, unsigned szx,
                             size_t len, uint64_t size1) {
  coap_pdu_t *p =
      raw(COAP_REQUEST_CODE_PUT, mid, "up", COAP_OPTION_BLOCK1, num, m, szx);
  if (size1)
    pt_block_add_uint(p, COAP_OPTION_SIZE1, size1);
  coap_add_data(p, len, upload + ((size_t)num << (szx + 4)));
  return p;
}

TEST(block1_continue_then_one_body) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY, 0);
  fill(upload, 200, 4);
  h_feed(srv_sess[0], put_block(1, 0, 1, 2, 64, 200));
  coap_pdu_t *r = last_sent();
  unsigned num, szx;
  int m;
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CONTINUE);
  CHECK(pt_block_peek(r, COAP_OPTION_BLOCK1, &num, &m, &szx));
  CHECK_INT_EQ(num, 0);
  CHECK_INT_EQ(m, 1);
  coap_delete_pdu(r);
  h_feed(srv_sess[0], put_block(2, 1, 1, 2, 64, 200));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  h_feed(srv_sess[0], put_block(3, 2, 1, 2, 64, 200));
  h_feed(srv_sess[0], put_block(4, 3, 0, 2, 8, 200));
  r = last_sent();
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CHANGED);
  CHECK(pt_block_peek(r, COAP_OPTION_BLOCK1, &num, &m, &szx));
  CHECK_INT_EQ(num, 3);
  CHECK_INT_EQ(m, 0);
  coap_delete_pdu(r);
  CHECK_INT_EQ(put_calls, 1);
  CHECK_MEM_EQ(put_body, put_len, upload, 200);
  teardown();
}

TEST(block1_gap_is_incomplete) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY, 0);
  h_feed(srv_sess[0], put_block(1, 0, 1, 2, 64, 0));
  h_feed(srv_sess[0], put_block(2, 2, 1, 2, 64, 0)); /* block 1 missing */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  /* A block for a transfer that never started (or expired): 4.08 too. */
  h_feed(srv_sess[0], put_block(3, 5, 0, 2, 10, 0));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(put_calls, 0);
  teardown();
}

TEST(block1_expired_transfer_is_incomplete) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY, 0);
  h_feed(srv_sess[0], put_block(1, 0, 1, 2, 64, 0));
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 1);
  h_advance(srv_ctx,
            260 * COAP_TICKS_PER_SECOND); /* > EXCHANGE_LIFETIME, < idle */
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  CHECK_UINT_EQ(srv_ctx->blk_rx_total, 0);
  h_feed(srv_sess[0], put_block(2, 1, 0, 2, 64, 0));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  teardown();
}

TEST(block1_past_limit_is_too_large_with_size1) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY, 0);
  pt_context_set_max_body_size(srv_ctx, 1000);
  h_feed(srv_sess[0], put_block(1, 0, 1, 2, 64, 2000));
  coap_pdu_t *r = last_sent();
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
  CHECK_UINT_EQ(pt_block_uint_opt(r, COAP_OPTION_SIZE1, 0), 1000);
  coap_delete_pdu(r);
  /* Without Size1, the block that crosses the limit is refused. */
  for (unsigned i = 0; i < 15; i++)
    h_feed(srv_sess[0], put_block((coap_mid_t)(10 + i), i, 1, 2, 64, 0));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  h_feed(srv_sess[0], put_block(30, 15, 1, 2, 64, 0)); /* bytes 960..1023 */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  CHECK_INT_EQ(put_calls, 0);
  teardown();
}

TEST(block1_short_intermediate_block_is_bad_request) {
  setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY, 0);
  h_feed(srv_sess[0], put_block(1, 0, 1, 2, 10, 0)); /* M set, 10 of 64 */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_BAD_REQUEST);
  teardown();
}

/* ---- async + block
 * ----------------------------------------------------------- */

static uint8_t async_body[3000];

static void hnd_async_big(coap_resource_t *r, coap_session_t *s,
                          const coap_pdu_t *req, const coap_string_t *q,
                          coap_pdu_t *resp) {
  big_calls++;
  coap_async_t *a = coap_find_async(s, coap_pdu_get_token(req));
  if (!a) {
    coap_register_async(s, req, COAP_TICKS_PER_SECOND);
    return;
  }
  coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_TEXT_PLAIN,
                               -1, 0, sizeof(async_body), async_body,
                               on_release, NULL);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

TEST(async_separate_response_first_block_then_block2) {
  setup(COAP_BLOCK_USE_LIBCOAP,
        COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("slow"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_async_big);
  coap_add_resource(srv_ctx, r);
  fill(async_body, sizeof(async_body), 5);
  coap_register_response_handler(cli_ctx, on_response);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "slow", -1));
  pump(); /* request, Empty ACK */
  CHECK_INT_EQ(responses[0], 0);
  h_advance(srv_ctx, 2 * COAP_TICKS_PER_SECOND); /* separate response */
  coap_pdu_t *first = last_sent();
  unsigned num, szx;
  int m;
  CHECK(pt_block_peek(first, COAP_OPTION_BLOCK2, &num, &m, &szx));
  CHECK_INT_EQ(num, 0);
  CHECK_INT_EQ(m, 1);
  CHECK_INT_EQ(szx, 6);
  CHECK_INT_EQ(coap_pdu_get_type(first), COAP_MESSAGE_CON);
  coap_delete_pdu(first);
  pump();
  CHECK_INT_EQ(responses[0], 1);
  CHECK_MEM_EQ(got[0], got_len[0], async_body, sizeof(async_body));
  CHECK_INT_EQ(big_calls, 2); /* registration and the delayed call only */
  CHECK_INT_EQ(releases, 1);
  teardown();
}

/* ---- option helpers
 * ------------------------------------------------------------ */

TEST(write_block_opt_lowers_size_to_fit) {
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 300);
  coap_block_t b = {0, 0, 6};
  CHECK_INT_EQ(coap_write_block_opt(&b, COAP_OPTION_BLOCK2, p, 5000), 1);
  CHECK_INT_EQ(b.szx, 4); /* 256 bytes fit in 300, 512 do not */
  CHECK_INT_EQ(b.m, 1);
  coap_block_t back;
  CHECK(coap_get_block(p, COAP_OPTION_BLOCK2, &back));
  CHECK_INT_EQ(back.szx, 4);
  CHECK(coap_add_block(p, 5000, big_body, b.num, (unsigned char)b.szx));
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(p, &len, &data));
  CHECK_UINT_EQ(len, 256);
  coap_block_t past = {100, 0, 4};
  CHECK_INT_EQ(coap_write_block_opt(&past, COAP_OPTION_BLOCK1, p, 5000), -3);
  coap_delete_pdu(p);
}

TEST(opt_block_num_and_macros) {
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 100);
  pt_block_set(p, COAP_OPTION_BLOCK2, 1000, 1, 3);
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(p, COAP_OPTION_BLOCK2, &it);
  CHECK_UINT_EQ(coap_opt_block_num(o), 1000);
  CHECK(COAP_OPT_BLOCK_MORE(o));
  CHECK_INT_EQ(COAP_OPT_BLOCK_SZX(o), 3);
  coap_delete_pdu(p);
}

TEST(block_build_body_grows_and_places) {
  coap_binary_t *b =
      coap_block_build_body(NULL, 3, (const uint8_t *)"abc", 0, 6);
  CHECK_NOT_NULL(b);
  b = coap_block_build_body(b, 3, (const uint8_t *)"def", 3, 6);
  CHECK_MEM_EQ(b->s, b->length, "abcdef", 6);
  b = coap_block_build_body(b, 2, (const uint8_t *)"gh", 8, 10);
  CHECK_UINT_EQ(b->length, 10);
  coap_delete_binary(b);
}

int main(void) {
  RUN(block2_every_szx_reassembles_byte_exact);
  RUN(block2_without_asking_uses_blocks_that_fit);
  RUN(block2_without_single_body_delivers_each_block);
  RUN(block2_two_sessions_concurrently_never_mix);
  RUN(block1_upload_reassembled_into_one_body);
  RUN(block1_small_body_goes_in_one_message);
  RUN(block1_app_block_size_honoured_for_small_body);
  RUN(szx_7_in_block2_request_is_bad_request);
  RUN(szx_7_in_block1_request_is_bad_request);
  RUN(block_number_past_body_is_bad_option);
  RUN(held_body_released_once_on_expiry);
  RUN(block1_continue_then_one_body);
  RUN(block1_gap_is_incomplete);
  RUN(block1_expired_transfer_is_incomplete);
  RUN(block1_past_limit_is_too_large_with_size1);
  RUN(block1_short_intermediate_block_is_bad_request);
  RUN(async_separate_response_first_block_then_block2);
  RUN(write_block_opt_lowers_size_to_fit);
  RUN(opt_block_num_and_macros);
  RUN(block_build_body_grows_and_places);
  return TEST_SUMMARY();
}
