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

static const char *put_path = "up"; /* where put_block() PUTs */

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
static int continues, continues_without_block1;

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
  if (coap_pdu_get_code(p) == COAP_RESPONSE_CODE_CONTINUE) {
    continues++;
    if (!coap_check_option(p, COAP_OPTION_BLOCK1, &it))
      continues_without_block1++;
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
  continues = continues_without_block1 = 0;
  put_len = 0;
  put_path = "up";
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
  coap_pdu_t *p = raw(COAP_REQUEST_CODE_PUT, mid, put_path, COAP_OPTION_BLOCK1,
                      num, m, szx);
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

/* ---- Block1 per block (COAP_BLOCK_USE_LIBCOAP without SINGLE_BODY) --------
 */

/* PUT handler that sees each block: reassembles with coap_block_build_body()
 * and answers as each_mode says. */
enum {
  EACH_CONTINUE_UNTIL_LAST, /* 2.31 until the last block, then 2.04 */
  EACH_ALWAYS_CHANGED,      /* 2.04 for every block (acted on per block) */
  EACH_FAIL_AT_BLOCK_2,     /* 4.00 for the block at offset 2 * size */
  EACH_OWN_SMALLER_BLOCK1,  /* 2.31 with its own Block1 of a quarter size */
};
static int each_mode, each_calls, each_with_block1;
static size_t each_off[8], each_len_at[8], each_total[8];
static coap_binary_t *each_body;
static size_t each_end; /* offset + length of the last block seen */

static void hnd_put_each(coap_resource_t *r, coap_session_t *s,
                         const coap_pdu_t *req, const coap_string_t *q,
                         coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  size_t len = 0, off = 0, total = 0;
  const uint8_t *data = NULL;
  coap_block_t b1 = {0, 0, 0};
  int has_b1 = coap_get_block(req, COAP_OPTION_BLOCK1, &b1);
  int i = each_calls++;
  each_with_block1 += has_b1;
  coap_get_data_large(req, &len, &data, &off, &total);
  if (i < 8) {
    each_off[i] = off;
    each_len_at[i] = len;
    each_total[i] = total;
  }
  each_body = coap_block_build_body(each_body, len, data, off, total);
  each_end = off + len;
  int last = off + len == total;
  coap_pdu_code_t code =
      last ? COAP_RESPONSE_CODE_CHANGED : COAP_RESPONSE_CODE_CONTINUE;
  if (each_mode == EACH_ALWAYS_CHANGED)
    code = COAP_RESPONSE_CODE_CHANGED;
  if (each_mode == EACH_FAIL_AT_BLOCK_2 && has_b1 && b1.num == 2)
    code = COAP_RESPONSE_CODE_BAD_REQUEST;
  if (each_mode == EACH_OWN_SMALLER_BLOCK1 && has_b1 && !last && b1.szx >= 2)
    pt_block_set(resp, COAP_OPTION_BLOCK1, b1.num, 1, b1.szx - 2);
  coap_pdu_set_code(resp, code);
}

static void add_each_resource(const char *path, int flags,
                              coap_method_handler_t h) {
  coap_resource_t *r = coap_resource_init(coap_make_str_const(path), flags);
  coap_register_handler(r, COAP_REQUEST_PUT, h);
  coap_add_resource(srv_ctx, r);
  each_calls = each_with_block1 = 0;
  each_end = 0;
  each_mode = EACH_CONTINUE_UNTIL_LAST;
  coap_delete_binary(each_body);
  each_body = NULL;
  put_path = path;
}

/* The raw bytes of the last datagram the server sent. */
static const uint8_t *last_raw(size_t *len) {
  q_item *it = &to_client.item[(to_client.head + to_client.count - 1) % QCAP];
  *len = to_client.count ? it->len : 0;
  return it->data;
}

static size_t unhex(const char *h, uint8_t *out) {
  size_t n = 0;
  for (; h[0] && h[1]; h += 2) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out[n++] = (uint8_t)v;
  }
  return n;
}

/* The input of the report: a CON PUT /example_data, token 0102, Block1
 * 0/M/64, Size1 20480, 64 bytes 'A'. libcoap's example server in its
 * default mode (-L 1) answers 2.31 from its handler; the answer must carry
 * Block1 0/M/64 (RFC 7959 2.3), or the client stops after block 0. */
TEST(block1_per_block_issue_input_continue_carries_block1) {
  setup(COAP_BLOCK_USE_LIBCOAP, 0);
  add_each_resource("example_data", 0, hnd_put_each);
  uint8_t in[200], want[16];
  size_t n =
      unhex("420312340102bc6578616d706c655f64617461d1030ad2145000ff", in);
  memset(in + n, 'A', 64);
  n += 64;
  size_t wn = unhex("625f12340102d10e0a", want), got_n;
  pt_recv_datagram(srv_sess[0], in, n, h_now);
  const uint8_t *got_raw = last_raw(&got_n);
  CHECK_MEM_EQ(got_raw, got_n, want, wn);
  CHECK_INT_EQ(each_calls, 1);
  CHECK_INT_EQ(each_with_block1, 1); /* the handler saw the block as sent */
  CHECK_UINT_EQ(each_off[0], 0);
  CHECK_UINT_EQ(each_len_at[0], 64);
  CHECK_UINT_EQ(each_total[0], 20480); /* Size1 */
  teardown();
}

/* Kept-back inputs of the same kind: a NON with an 8-byte token and 16-byte
 * blocks, no Size1; the final block's answer acknowledges it too. */
TEST(block1_per_block_non_small_blocks_every_answer_acknowledges) {
  setup(COAP_BLOCK_USE_LIBCOAP, 0);
  add_each_resource("each", 0, hnd_put_each);
  fill(upload, 40, 6);
  static const uint8_t tok[8] = {9, 8, 7, 6, 5, 4, 3, 2};
  for (unsigned num = 0; num < 3; num++) {
    coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_NON, COAP_REQUEST_CODE_PUT,
                                  (coap_mid_t)(100 + num), 1024);
    coap_add_token(p, sizeof(tok), tok);
    coap_add_option(p, COAP_OPTION_URI_PATH, 4, (const uint8_t *)"each");
    pt_block_set(p, COAP_OPTION_BLOCK1, num, num < 2, 0);
    coap_add_data(p, num < 2 ? 16 : 8, upload + num * 16);
    h_feed(srv_sess[0], p);
    coap_pdu_t *r = last_sent();
    unsigned rn, rs;
    int rm;
    CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_NON);
    CHECK_INT_EQ(coap_pdu_get_code(r), num < 2 ? COAP_RESPONSE_CODE_CONTINUE
                                               : COAP_RESPONSE_CODE_CHANGED);
    CHECK(pt_block_peek(r, COAP_OPTION_BLOCK1, &rn, &rm, &rs));
    CHECK_UINT_EQ(rn, num);
    CHECK_INT_EQ(rm, num < 2);
    CHECK_UINT_EQ(rs, 0);
    coap_bin_const_t t = coap_pdu_get_token(r);
    CHECK_MEM_EQ(t.s, t.length, tok, sizeof(tok));
    coap_delete_pdu(r);
  }
  CHECK_INT_EQ(each_calls, 3);
  CHECK_UINT_EQ(each_total[0], 17); /* no Size1: more than known so far */
  CHECK_UINT_EQ(each_total[2], 40);
  CHECK_MEM_EQ(each_body->s, each_end, upload, 40);
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  teardown();
}

/* Our client against a per-block server, at several block sizes: every
 * block reaches the handler with Block1, every 2.31 carries Block1, the
 * body arrives byte-exact and the application gets the final 2.04. */
TEST(block1_per_block_upload_byte_exact_every_continue_acknowledges) {
  static const unsigned szxs[] = {0, 2, 6};
  for (unsigned k = 0; k < 3; k++) {
    unsigned szx = szxs[k];
    size_t len = 20000 + k * 7;
    setup(COAP_BLOCK_USE_LIBCOAP,
          COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    add_each_resource("each", 0, hnd_put_each);
    coap_register_response_handler(cli_ctx, on_response);
    fill(upload, len, 11 + k);
    coap_pdu_t *p = client_request(0, COAP_REQUEST_CODE_PUT, "each", (int)szx);
    CHECK(coap_add_data_large_request(cli_sess[0], p, len, upload, NULL, NULL));
    coap_send(cli_sess[0], p);
    pump();
    size_t size = (size_t)16 << szx, blocks = (len + size - 1) / size;
    CHECK_INT_EQ(each_calls, (int)blocks);
    CHECK_INT_EQ(each_with_block1, (int)blocks);
    CHECK_INT_EQ(continues, (int)blocks - 1);
    CHECK_INT_EQ(continues_without_block1, 0);
    CHECK_NOT_NULL(each_body);
    CHECK_MEM_EQ(each_body->s, each_end, upload, len);
    CHECK_INT_EQ(responses[0], 1);
    CHECK_INT_EQ(got_code[0], COAP_RESPONSE_CODE_CHANGED);
    CHECK(token_ok[0]);
    CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
    teardown();
  }
}

/* RFC 7959 2.3 / 2.9.2: a block that does not continue the body (a gap,
 * out of order, or no transfer begun) is 4.08 and never reaches the
 * handler. */
TEST(block1_per_block_gap_out_of_order_or_unknown_is_incomplete) {
  setup(COAP_BLOCK_USE_LIBCOAP, 0);
  add_each_resource("each", 0, hnd_put_each);
  h_feed(srv_sess[0], put_block(1, 0, 1, 2, 64, 0));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  h_feed(srv_sess[0], put_block(2, 2, 1, 2, 64, 0)); /* block 1 missing */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(each_calls, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  h_feed(srv_sess[0], put_block(3, 1, 1, 2, 64, 0)); /* too late now */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  h_feed(srv_sess[0], put_block(4, 7, 0, 2, 10, 0)); /* never begun */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  /* Blocks 0, 1, then 1 again (its answer was lost): answered again. */
  h_feed(srv_sess[0], put_block(5, 0, 1, 2, 64, 0));
  h_feed(srv_sess[0], put_block(6, 1, 1, 2, 64, 0));
  h_feed(srv_sess[0], put_block(7, 1, 1, 2, 64, 0));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_CONTINUE);
  h_feed(srv_sess[0], put_block(8, 3, 1, 2, 64, 0)); /* block 2 skipped */
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(each_calls, 4);
  teardown();
}

/* A lone block (block 0, M clear) needs no state and is acknowledged; a
 * transfer left idle past EXCHANGE_LIFETIME is gone (4.08 after). */
TEST(block1_per_block_lone_block_and_expiry) {
  setup(COAP_BLOCK_USE_LIBCOAP, 0);
  add_each_resource("each", 0, hnd_put_each);
  h_feed(srv_sess[0], put_block(1, 0, 0, 3, 100, 0));
  coap_pdu_t *r = last_sent();
  unsigned num, szx;
  int m;
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CHANGED);
  CHECK(pt_block_peek(r, COAP_OPTION_BLOCK1, &num, &m, &szx));
  CHECK_UINT_EQ(num, 0);
  CHECK_INT_EQ(m, 0);
  CHECK_UINT_EQ(szx, 3);
  coap_delete_pdu(r);
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  h_feed(srv_sess[0], put_block(2, 0, 1, 2, 64, 0));
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 1);
  h_advance(srv_ctx,
            260 * COAP_TICKS_PER_SECOND); /* > EXCHANGE_LIFETIME, < idle */
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  h_feed(srv_sess[0], put_block(3, 1, 0, 2, 10, 0));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(each_calls, 2);
  teardown();
}

/* The handler's own code is kept: an error ends the transfer and carries
 * no Block1; a 2.04 for an intermediate block (acted on by itself) keeps
 * its code with Block1 M clear (RFC 7959 2.3), and the client goes on. */
TEST(block1_per_block_handler_code_kept) {
  setup(COAP_BLOCK_USE_LIBCOAP, 0);
  add_each_resource("each", 0, hnd_put_each);
  each_mode = EACH_FAIL_AT_BLOCK_2;
  fill(upload, 400, 3);
  for (unsigned i = 0; i < 3; i++)
    h_feed(srv_sess[0], put_block((coap_mid_t)(1 + i), i, 1, 2, 64, 400));
  coap_pdu_t *r = last_sent();
  coap_opt_iterator_t it;
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_NULL(coap_check_option(r, COAP_OPTION_BLOCK1, &it));
  coap_delete_pdu(r);
  CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
  h_feed(srv_sess[0], put_block(4, 3, 1, 2, 64, 400));
  CHECK_INT_EQ(last_code(), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_INT_EQ(each_calls, 3);
  teardown();

  setup(COAP_BLOCK_USE_LIBCOAP,
        COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  add_each_resource("each", 0, hnd_put_each);
  each_mode = EACH_ALWAYS_CHANGED;
  coap_register_response_handler(cli_ctx, on_response);
  fill(upload, 1000, 8);
  coap_pdu_t *p = client_request(0, COAP_REQUEST_CODE_PUT, "each", 2);
  CHECK(coap_add_data_large_request(cli_sess[0], p, 1000, upload, NULL, NULL));
  coap_send(cli_sess[0], p);
  /* The server's first answer: 2.04 with Block1 0/_/64. */
  coap_pdu_t *first = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  q_item qi = to_server.item[to_server.head];
  to_server.head = (to_server.head + 1) % QCAP;
  to_server.count--;
  pt_recv_datagram(srv_sess[0], qi.data, qi.len, h_now);
  q_item *ans = &to_client.item[to_client.head];
  CHECK(coap_pdu_parse(COAP_PROTO_UDP, ans->data, ans->len, first));
  unsigned n, z;
  int m;
  CHECK_INT_EQ(coap_pdu_get_code(first), COAP_RESPONSE_CODE_CHANGED);
  CHECK(pt_block_peek(first, COAP_OPTION_BLOCK1, &n, &m, &z));
  CHECK_UINT_EQ(n, 0);
  CHECK_INT_EQ(m, 0);
  coap_delete_pdu(first);
  pump();
  CHECK_INT_EQ(each_calls, 16);
  CHECK_MEM_EQ(each_body->s, each_end, upload, 1000);
  CHECK_INT_EQ(responses[0], 1); /* only the last block's answer */
  CHECK_INT_EQ(got_code[0], COAP_RESPONSE_CODE_CHANGED);
  teardown();
}

/* A handler that puts its own Block1 in a 2.31 (a smaller block size: the
 * server's choice) is not overridden, and the client follows it. */
TEST(block1_per_block_handler_own_block1_kept_client_follows) {
  setup(COAP_BLOCK_USE_LIBCOAP,
        COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  add_each_resource("each", 0, hnd_put_each);
  each_mode = EACH_OWN_SMALLER_BLOCK1;
  coap_register_response_handler(cli_ctx, on_response);
  fill(upload, 3000, 12);
  coap_pdu_t *p = client_request(0, COAP_REQUEST_CODE_PUT, "each", 4);
  CHECK(coap_add_data_large_request(cli_sess[0], p, 3000, upload, NULL, NULL));
  coap_send(cli_sess[0], p);
  pump();
  /* 256 bytes, then 64 (asked for), then 16 (asked again), ... */
  CHECK_UINT_EQ(each_len_at[0], 256);
  CHECK_UINT_EQ(each_off[1], 256);
  CHECK_UINT_EQ(each_len_at[1], 64);
  CHECK_UINT_EQ(each_off[2], 320);
  CHECK_UINT_EQ(each_len_at[2], 16);
  CHECK_MEM_EQ(each_body->s, each_end, upload, 3000);
  CHECK_INT_EQ(responses[0], 1);
  CHECK_INT_EQ(got_code[0], COAP_RESPONSE_CODE_CHANGED);
  teardown();
}

/* RFC 7959 2.3: the blocks of one body share its Content-Format; a change
 * is 4.08 in either mode, and the transfer ends. */
TEST(block1_content_format_change_is_incomplete) {
  for (int single = 0; single < 2; single++) {
    setup(COAP_BLOCK_USE_LIBCOAP | (single ? COAP_BLOCK_SINGLE_BODY : 0), 0);
    add_each_resource("cf", 0, hnd_put_each);
    put_calls = 0;
    for (unsigned i = 0; i < 3; i++) {
      coap_pdu_t *p =
          raw(COAP_REQUEST_CODE_PUT, (coap_mid_t)(1 + i), "cf", 0, 0, 0, 0);
      pt_block_add_uint(p, COAP_OPTION_CONTENT_FORMAT,
                        i < 2 ? COAP_MEDIATYPE_TEXT_PLAIN
                              : COAP_MEDIATYPE_APPLICATION_JSON);
      pt_block_set(p, COAP_OPTION_BLOCK1, i, 1, 2);
      coap_add_data(p, 64, upload + i * 64);
      h_feed(srv_sess[0], p);
      CHECK_INT_EQ(last_code(), i < 2 ? COAP_RESPONSE_CODE_CONTINUE
                                      : COAP_RESPONSE_CODE_INCOMPLETE);
    }
    CHECK_UINT_EQ(pt_hashmap_size(&srv_ctx->blk_rx), 0);
    CHECK_INT_EQ(each_calls, single ? 0 : 2);
    teardown();
  }
}

/* COAP_RESOURCE_FLAGS_FORCE_SINGLE_BODY: that resource's handler gets one
 * whole body although the context delivers per block. */
TEST(block1_force_single_body_resource_gets_one_body) {
  setup(COAP_BLOCK_USE_LIBCOAP,
        COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  add_each_resource("whole", COAP_RESOURCE_FLAGS_FORCE_SINGLE_BODY, hnd_put);
  coap_register_response_handler(cli_ctx, on_response);
  fill(upload, 5000, 13);
  coap_pdu_t *p = client_request(0, COAP_REQUEST_CODE_PUT, "whole", 2);
  CHECK(coap_add_data_large_request(cli_sess[0], p, 5000, upload, NULL, NULL));
  coap_send(cli_sess[0], p);
  pump();
  CHECK_INT_EQ(put_calls, 1);
  CHECK_MEM_EQ(put_body, put_len, upload, 5000);
  CHECK_INT_EQ(continues, 78);
  CHECK_INT_EQ(continues_without_block1, 0);
  CHECK_INT_EQ(got_code[0], COAP_RESPONSE_CODE_CHANGED);
  teardown();
}

/* ---- the client against a scripted server ---------------------------------
 * The test plays the server: it takes each request the client sent and
 * answers it by hand, rightly or wrongly. */

static int events_partial, events_xmit_fail;

static int on_event(coap_session_t *s, const coap_event_t e) {
  (void)s;
  events_partial += e == COAP_EVENT_PARTIAL_BLOCK;
  events_xmit_fail += e == COAP_EVENT_XMIT_BLOCK_FAIL;
  return 0;
}

static void scripted_setup(uint32_t client_mode) {
  setup(COAP_BLOCK_USE_LIBCOAP, client_mode);
  coap_register_response_handler(cli_ctx, on_response);
  coap_register_event_handler(cli_ctx, on_event);
  events_partial = events_xmit_fail = 0;
  client_releases = 0;
}

/* The next request the client sent, parsed (NULL if none; caller
 * deletes). */
static coap_pdu_t *next_request(void) {
  if (!to_server.count)
    return NULL;
  q_item *it = &to_server.item[to_server.head];
  to_server.head = (to_server.head + 1) % QCAP;
  to_server.count--;
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  if (!coap_pdu_parse(COAP_PROTO_UDP, it->data, it->len, p)) {
    coap_delete_pdu(p);
    return NULL;
  }
  return p;
}

/* An ACK to @req with @code and its token. */
static coap_pdu_t *ack_for(const coap_pdu_t *req, coap_pdu_code_t code) {
  coap_pdu_t *a =
      coap_pdu_init(COAP_MESSAGE_ACK, code, coap_pdu_get_mid(req), 1200);
  coap_bin_const_t t = coap_pdu_get_token(req);
  coap_add_token(a, t.length, t.s);
  return a;
}

/* Answers @req (deleted) with block @num of big_body at @szx, M set unless
 * it is the last; @etag 0 for none, @plen (SIZE_MAX: the block's own
 * length) bytes of payload. */
static void answer_block(coap_pdu_t *req, unsigned num, unsigned szx,
                         uint64_t etag, uint64_t fmt, size_t plen) {
  coap_pdu_t *a = ack_for(req, COAP_RESPONSE_CODE_CONTENT);
  size_t size = (size_t)16 << szx, start = num * size;
  size_t left = start < BIG_LEN ? BIG_LEN - start : 0;
  if (plen == SIZE_MAX)
    plen = left < size ? left : size;
  if (etag)
    pt_block_add_uint(a, COAP_OPTION_ETAG, etag);
  pt_block_add_uint(a, COAP_OPTION_CONTENT_FORMAT, fmt);
  pt_block_set(a, COAP_OPTION_BLOCK2, num, start + size < BIG_LEN, szx);
  coap_add_data(a, plen, big_body + start);
  coap_delete_pdu(req);
  h_feed(cli_sess[0], a);
}

/* The Block2 NUM of request @req (-1 without one). */
static int asked_num(const coap_pdu_t *req) {
  unsigned num, szx;
  int m;
  return pt_block_peek(req, COAP_OPTION_BLOCK2, &num, &m, &szx) ? (int)num : -1;
}

/* The failure the application must see: no body handed over as if whole,
 * one COAP_EVENT_PARTIAL_BLOCK, no request left, no state left. */
#define CHECK_PARTIAL_BLOCK_FAILURE(delivered)                                 \
  do {                                                                         \
    CHECK_INT_EQ(responses[0], (delivered));                                   \
    CHECK_INT_EQ(events_partial, 1);                                           \
    CHECK_INT_EQ(events_xmit_fail, 0);                                         \
    CHECK_INT_EQ(to_server.count, 0);                                          \
    CHECK_UINT_EQ(pt_hashmap_size(&cli_ctx->blk_cli), 0);                      \
  } while (0)

/* The report's input: the server answers the request for block 1 with
 * block 2. */
TEST(block2_answer_with_other_block_number_is_partial_block) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 0));
  answer_block(next_request(), 0, 0, 7, 0, SIZE_MAX);
  coap_pdu_t *req = next_request();
  CHECK_INT_EQ(asked_num(req), 1);
  answer_block(req, 2, 0, 7, 0, SIZE_MAX);
  CHECK_PARTIAL_BLOCK_FAILURE(0);
  teardown();
  /* Kept back: block 0 again, per-block delivery, 64-byte blocks. */
  scripted_setup(COAP_BLOCK_USE_LIBCOAP);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 2));
  answer_block(next_request(), 0, 2, 7, 0, SIZE_MAX);
  CHECK_INT_EQ(responses[0], 1); /* block 0, as a block */
  answer_block(next_request(), 0, 2, 7, 0, SIZE_MAX);
  CHECK_PARTIAL_BLOCK_FAILURE(1);
  teardown();
}

/* The body's ETag changes on every answer: the client starts over at most
 * PT_BLOCK_MAX_RESTARTS times, then fails. */
TEST(block2_etag_changing_past_restart_limit_is_partial_block) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 0));
  int restarts = 0;
  coap_pdu_t *req;
  for (uint64_t etag = 1; etag < 100 && (req = next_request()); etag++) {
    int num = asked_num(req);
    restarts += num == 0 && etag > 1;
    answer_block(req, num < 0 ? 0 : (unsigned)num, 0, etag, 0, SIZE_MAX);
  }
  CHECK_INT_EQ(restarts, PT_BLOCK_MAX_RESTARTS);
  CHECK_PARTIAL_BLOCK_FAILURE(0);
  teardown();
}

/* Control: one change of ETag restarts the fetch, which then completes
 * with the new body. */
TEST(block2_etag_change_within_limit_restarts_and_completes) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 6));
  answer_block(next_request(), 0, 6, 1, 0, SIZE_MAX);
  coap_pdu_t *req = next_request();
  answer_block(req, (unsigned)asked_num(req), 6, 2, 0, SIZE_MAX);
  int asked = 0;
  while ((req = next_request())) {
    asked++;
    answer_block(req, (unsigned)asked_num(req), 6, 2, 0, SIZE_MAX);
  }
  CHECK_INT_EQ(asked, 5); /* block 0 again, then 1..4 */
  CHECK_INT_EQ(responses[0], 1);
  CHECK_MEM_EQ(got[0], got_len[0], big_body, BIG_LEN);
  CHECK_INT_EQ(events_partial, 0);
  teardown();
}

/* RFC 7959 2.4: a block may be smaller than asked for, never larger. */
TEST(block2_block_size_growing_is_partial_block) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 0));
  answer_block(next_request(), 0, 0, 7, 0, SIZE_MAX);
  answer_block(next_request(), 1, 0, 7, 0, SIZE_MAX);
  coap_pdu_t *req = next_request();
  CHECK_INT_EQ(asked_num(req), 2);
  answer_block(req, 1, 1, 7, 0, SIZE_MAX); /* bytes 32..63: 32 at a time */
  CHECK_PARTIAL_BLOCK_FAILURE(0);
  teardown();
  /* Kept back: the first block already larger than asked for. */
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 1));
  answer_block(next_request(), 0, 3, 7, 0, SIZE_MAX);
  CHECK_PARTIAL_BLOCK_FAILURE(0);
  teardown();
}

/* A later block answered without Block2 is no part of the body. */
TEST(block2_missing_block2_on_later_block_is_partial_block) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 0));
  answer_block(next_request(), 0, 0, 7, 0, SIZE_MAX);
  coap_pdu_t *req = next_request();
  coap_pdu_t *a = ack_for(req, COAP_RESPONSE_CODE_CONTENT);
  pt_block_add_uint(a, COAP_OPTION_ETAG, 7);
  coap_add_data(a, 16, big_body + 16);
  coap_delete_pdu(req);
  h_feed(cli_sess[0], a);
  CHECK_PARTIAL_BLOCK_FAILURE(0);
  teardown();
}

/* Kept back: an intermediate block shorter than its size, and a change of
 * Content-Format, in per-block mode (block 0 was delivered as a block). */
TEST(block2_short_block_or_format_change_is_partial_block) {
  for (int k = 0; k < 2; k++) {
    scripted_setup(COAP_BLOCK_USE_LIBCOAP);
    coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 4));
    answer_block(next_request(), 0, 4, 7, 0, SIZE_MAX);
    if (k == 0)
      answer_block(next_request(), 1, 4, 7, 0, 100);
    else
      answer_block(next_request(), 1, 4, 7, COAP_MEDIATYPE_APPLICATION_CBOR,
                   SIZE_MAX);
    CHECK_PARTIAL_BLOCK_FAILURE(1);
    teardown();
  }
}

/* 4.xx mid-transfer: the application sees that error (with its token), and
 * COAP_EVENT_PARTIAL_BLOCK; never the blocks so far as a 2.05. */
TEST(block2_error_mid_transfer_delivers_error_and_partial_block) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_send(cli_sess[0], client_request(0, COAP_REQUEST_CODE_GET, "big", 0));
  answer_block(next_request(), 0, 0, 7, 0, SIZE_MAX);
  answer_block(next_request(), 1, 0, 7, 0, SIZE_MAX);
  coap_pdu_t *req = next_request();
  coap_pdu_t *a = ack_for(req, COAP_RESPONSE_CODE_NOT_FOUND);
  coap_delete_pdu(req);
  h_feed(cli_sess[0], a);
  CHECK_PARTIAL_BLOCK_FAILURE(1);
  CHECK_INT_EQ(got_code[0], COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK(token_ok[0]);
  CHECK_UINT_EQ(got_len[0], 0);
  teardown();
}

/* ---- uploads against a scripted server ---- */

static coap_pdu_t *start_scripted_upload(size_t len, int szx) {
  fill(upload, len, 21);
  coap_pdu_t *p = client_request(0, COAP_REQUEST_CODE_PUT, "up", szx);
  coap_add_data_large_request(cli_sess[0], p, len, upload, on_client_release,
                              NULL);
  coap_send(cli_sess[0], p);
  return next_request();
}

/* Answers upload request @req (deleted) with @code and, if @with_b1, Block1
 * (@num, @m, @szx). */
static void answer_upload(coap_pdu_t *req, coap_pdu_code_t code, int with_b1,
                          unsigned num, int m, unsigned szx) {
  coap_pdu_t *a = ack_for(req, code);
  if (with_b1)
    pt_block_set(a, COAP_OPTION_BLOCK1, num, m, szx);
  coap_delete_pdu(req);
  h_feed(cli_sess[0], a);
}

#define CHECK_XMIT_FAILURE(delivered)                                          \
  do {                                                                         \
    CHECK_INT_EQ(responses[0], (delivered));                                   \
    CHECK_INT_EQ(events_xmit_fail, 1);                                         \
    CHECK_INT_EQ(events_partial, 0);                                           \
    CHECK_INT_EQ(to_server.count, 0);                                          \
    CHECK_INT_EQ(client_releases, 1);                                          \
    CHECK_UINT_EQ(pt_hashmap_size(&cli_ctx->blk_cli), 0);                      \
  } while (0)

/* The server refuses block 2 of 4: the application gets that 4.xx and
 * COAP_EVENT_XMIT_BLOCK_FAIL; the rest is not sent. */
TEST(block1_upload_error_mid_transfer_delivers_error_and_xmit_fail) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_pdu_t *req = start_scripted_upload(200, 2);
  answer_upload(req, COAP_RESPONSE_CODE_CONTINUE, 1, 0, 1, 2);
  answer_upload(next_request(), COAP_RESPONSE_CODE_CONTINUE, 1, 1, 1, 2);
  answer_upload(next_request(), COAP_RESPONSE_CODE_REQUEST_TOO_LARGE, 0, 0, 0,
                0);
  CHECK_XMIT_FAILURE(1);
  CHECK_INT_EQ(got_code[0], COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
  CHECK(token_ok[0]);
  teardown();
}

/* What Petrel's server used to send: 2.31 without Block1. Also 2.31 for
 * another block, and a 2.04 without Block1 before the last block: none
 * acknowledges the block sent, so the upload fails and no success is
 * reported. */
TEST(block1_answer_not_acknowledging_the_block_is_xmit_block_fail) {
  for (int k = 0; k < 3; k++) {
    scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_pdu_t *req = start_scripted_upload(20480, 2);
    if (k == 1) {
      answer_upload(req, COAP_RESPONSE_CODE_CONTINUE, 1, 0, 1, 2);
      req = next_request();
    }
    answer_upload(
        req, k == 2 ? COAP_RESPONSE_CODE_CHANGED : COAP_RESPONSE_CODE_CONTINUE,
        k == 1, 5, 1, 2);
    CHECK_XMIT_FAILURE(0);
    teardown();
  }
}

/* RFC 7959 2.3 (its figure of a server asking for smaller blocks): block 0
 * of 128 bytes answered 2.31 with Block1 0/M/32; the next block is NUM 4 of
 * 32 bytes, from byte 128. */
TEST(block1_server_asks_for_smaller_blocks_next_offset_right) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_pdu_t *req = start_scripted_upload(300, 3);
  answer_upload(req, COAP_RESPONSE_CODE_CONTINUE, 1, 0, 1, 1);
  req = next_request();
  unsigned num, szx;
  int m;
  size_t len;
  const uint8_t *data;
  CHECK(pt_block_peek(req, COAP_OPTION_BLOCK1, &num, &m, &szx));
  CHECK_UINT_EQ(num, 4);
  CHECK_INT_EQ(m, 1);
  CHECK_UINT_EQ(szx, 1);
  CHECK(coap_get_data(req, &len, &data));
  CHECK_MEM_EQ(data, len, upload + 128, 32);
  coap_delete_pdu(req);
  teardown();
}

/* The peer resets block 1: the NACK handler is told, and the application
 * gets COAP_EVENT_XMIT_BLOCK_FAIL too. */
TEST(block1_reset_mid_upload_is_xmit_block_fail) {
  scripted_setup(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_pdu_t *req = start_scripted_upload(200, 2);
  answer_upload(req, COAP_RESPONSE_CODE_CONTINUE, 1, 0, 1, 2);
  req = next_request();
  coap_pdu_t *rst =
      coap_pdu_init(COAP_MESSAGE_RST, 0, coap_pdu_get_mid(req), 0);
  coap_delete_pdu(req);
  h_feed(cli_sess[0], rst);
  CHECK_XMIT_FAILURE(0);
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
  coap_delete_pdu(p);
}

/* libcoap's values: -2 for a block past the end of the body, -3 when not
 * even the smallest block fits in the PDU. */
TEST(write_block_opt_past_end_is_minus_2_no_room_is_minus_3) {
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 300);
  coap_block_t past = {100, 0, 4}; /* starts at 25600 */
  CHECK_INT_EQ(coap_write_block_opt(&past, COAP_OPTION_BLOCK1, p, 5000), -2);
  coap_block_t at_end = {1, 0, 0}; /* starts at 16 == the length */
  CHECK_INT_EQ(coap_write_block_opt(&at_end, COAP_OPTION_BLOCK2, p, 16), -2);
  coap_block_t last_byte = {1, 0, 0}; /* starts at 16 of 17 */
  CHECK_INT_EQ(coap_write_block_opt(&last_byte, COAP_OPTION_BLOCK2, p, 17), 1);
  CHECK_INT_EQ(last_byte.m, 0);
  coap_block_t empty = {0, 0, 2}; /* block 0 of an empty body is fine */
  CHECK_INT_EQ(coap_write_block_opt(&empty, COAP_OPTION_BLOCK2, p, 0), 1);
  coap_block_b_t bpast = {0};
  bpast.num = 3;
  bpast.szx = 6;
  CHECK_INT_EQ(
      coap_write_block_b_opt(NULL, &bpast, COAP_OPTION_BLOCK2, p, 3072), -2);
  coap_delete_pdu(p);

  coap_pdu_t *small =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 30);
  coap_add_token(small, 8, (const uint8_t *)"12345678");
  coap_add_option(small, COAP_OPTION_URI_PATH, 8, (const uint8_t *)"abcdefgh");
  coap_block_t none = {0, 0, 0};
  CHECK_INT_EQ(coap_write_block_opt(&none, COAP_OPTION_BLOCK2, small, 5000),
               -3);
  coap_block_b_t bnone = {0};
  CHECK_INT_EQ(
      coap_write_block_b_opt(NULL, &bnone, COAP_OPTION_BLOCK2, small, 5000),
      -3);
  coap_delete_pdu(small);
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
  RUN(block1_per_block_issue_input_continue_carries_block1);
  RUN(block1_per_block_non_small_blocks_every_answer_acknowledges);
  RUN(block1_per_block_upload_byte_exact_every_continue_acknowledges);
  RUN(block1_per_block_gap_out_of_order_or_unknown_is_incomplete);
  RUN(block1_per_block_lone_block_and_expiry);
  RUN(block1_per_block_handler_code_kept);
  RUN(block1_per_block_handler_own_block1_kept_client_follows);
  RUN(block1_content_format_change_is_incomplete);
  RUN(block1_force_single_body_resource_gets_one_body);
  RUN(block2_answer_with_other_block_number_is_partial_block);
  RUN(block2_etag_changing_past_restart_limit_is_partial_block);
  RUN(block2_etag_change_within_limit_restarts_and_completes);
  RUN(block2_block_size_growing_is_partial_block);
  RUN(block2_missing_block2_on_later_block_is_partial_block);
  RUN(block2_short_block_or_format_change_is_partial_block);
  RUN(block2_error_mid_transfer_delivers_error_and_partial_block);
  RUN(block1_upload_error_mid_transfer_delivers_error_and_xmit_fail);
  RUN(block1_answer_not_acknowledging_the_block_is_xmit_block_fail);
  RUN(block1_server_asks_for_smaller_blocks_next_offset_right);
  RUN(block1_reset_mid_upload_is_xmit_block_fail);
  RUN(async_separate_response_first_block_then_block2);
  RUN(write_block_opt_lowers_size_to_fit);
  RUN(write_block_opt_past_end_is_minus_2_no_room_is_minus_3);
  RUN(opt_block_num_and_macros);
  RUN(block_build_body_grows_and_places);
  return TEST_SUMMARY();
}
