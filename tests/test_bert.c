/*
 * test_bert.c -- block-wise transfer over TCP with BERT (RFC 8323 6), on
 * the bytes of one connection (tests/tcp_harness.h): our CSM offers
 * Block-Wise-Transfer; SZX 7 is used and understood only when the peer's
 * CSM offered it too and both Max-Message-Sizes exceed 1152; a BERT block
 * carries a multiple of 1024 bytes (the last any length) and fits the
 * peer's Max-Message-Size; Block1 and Block2, server and client; without
 * the peer's Block-Wise-Transfer a received SZX 7 is answered 4.00
 * (RFC 7959 2.2).
 */
#include "test.h"

#include "tcp_harness.h"

#include "block.h"

#define BODY_LEN 10000
static uint8_t body[BODY_LEN];

static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, 0, -1, 0, sizeof(body), body,
                               NULL, NULL);
}

static size_t put_len;
static int put_same;
static void hnd_put(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  const uint8_t *data;
  if (!coap_get_data(req, &put_len, &data))
    put_len = 0;
  put_same =
      put_len <= sizeof(body) && (!put_len || !memcmp(data, body, put_len));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static size_t got_len;
static int got_same, got_code;
static coap_response_t on_body(coap_session_t *s, const coap_pdu_t *sent,
                               const coap_pdu_t *rcvd, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  const uint8_t *data;
  got_code = coap_pdu_get_code(rcvd);
  if (!coap_get_data(rcvd, &got_len, &data))
    got_len = 0;
  got_same =
      got_len <= sizeof(body) && (!got_len || !memcmp(data, body, got_len));
  return COAP_RESPONSE_OK;
}

static coap_context_t *bert_context(void) {
  coap_context_t *ctx = context();
  for (size_t i = 0; i < sizeof(body); i++)
    body[i] = (uint8_t)(i * 7 + i / 251);
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("big"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_big);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("up"), 0);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_put);
  coap_add_resource(ctx, r);
  coap_register_response_handler(ctx, on_body);
  put_len = got_len = 0;
  put_same = got_same = got_code = 0;
  return ctx;
}

/* A request @code to @path with token @tok and, when @szx >= 0, the Block
 * option @opt (num, m, szx) and @n bytes of the body from @off. */
static coap_pdu_t *request(coap_pdu_code_t code, const char *path, uint8_t tok,
                           coap_option_num_t opt, unsigned num, int m, int szx,
                           size_t off, size_t n) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, code, 0, 0);
  coap_add_token(p, 1, &tok);
  coap_add_option(p, COAP_OPTION_URI_PATH, strlen(path), (const uint8_t *)path);
  if (szx >= 0)
    pt_block_set(p, opt, num, m, (unsigned)szx);
  if (n)
    coap_add_data(p, n, body + off);
  return p;
}

/* The Block option @opt of @p: 1 with the fields set, or 0. */
static int block_of(const coap_pdu_t *p, coap_option_num_t opt, unsigned *num,
                    int *m, unsigned *szx) {
  return pt_block_peek(p, opt, num, m, szx);
}

/* Wire size of @p in TCP framing. */
static size_t wire_size(coap_pdu_t *p) {
  const uint8_t *w;
  size_t n;
  return pt_pdu_wire_reliable(p, 0, &w, &n) ? n : 0;
}

TEST(our_csm_offers_block_wise_transfer) {
  coap_context_t *ctx = bert_context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  coap_pdu_t *csm = NULL;
  CHECK_INT_EQ(last_code(peer, &csm), COAP_SIGNALING_CODE_CSM);
  CHECK_INT_EQ(has_option(csm, COAP_SIGNALING_OPTION_BLOCK_WISE_TRANSFER), 1);
  coap_delete_pdu(csm);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(bert_needs_the_peers_offer_and_both_sizes_above_1152) {
  coap_context_t *ctx = bert_context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  CHECK_INT_EQ(pt_tcp_bert(s), 0); /* before the peer's CSM */
  feed_csm(s, 4096, 0);
  CHECK_INT_EQ(pt_tcp_bert(s), 0); /* no Block-Wise-Transfer */
  feed_csm(s, 1152, 1);
  CHECK_INT_EQ(pt_tcp_bert(s), 0); /* 1152 is not above the base */
  feed_csm(s, 1153, 1);
  CHECK_INT_EQ(pt_tcp_bert(s), 1);
  coap_session_release(s);
  close(peer);
  /* Our own Max-Message-Size at 1152 rules it out too. */
  coap_context_set_csm_max_message_size(ctx, 1152);
  s = client(ctx, &peer);
  feed_csm(s, 4096, 1);
  CHECK_INT_EQ(pt_tcp_bert(s), 0);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* Fetches /big block by block as the server offers it; returns the body
 * length reassembled (checked byte by byte), *@szx_seen the SZX of the
 * first block and *@largest the largest message in bytes. */
static size_t fetch_big(coap_session_t *s, int peer, int first_szx,
                        unsigned *szx_seen, size_t *largest) {
  static uint8_t got[BODY_LEN + 4096];
  size_t len = 0;
  *largest = 0;
  feed(s, request(COAP_REQUEST_CODE_GET, "big", 1, COAP_OPTION_BLOCK2, 0, 0,
                  first_szx, 0, 0));
  for (int round = 0; round < 100; round++) {
    coap_pdu_t *resp = NULL;
    if (last_code(peer, &resp) != COAP_RESPONSE_CODE_CONTENT)
      return (size_t)-1;
    unsigned num, szx;
    int m;
    size_t plen;
    const uint8_t *data;
    if (!block_of(resp, COAP_OPTION_BLOCK2, &num, &m, &szx) ||
        !coap_get_data(resp, &plen, &data) ||
        pt_block_offset(num, szx) != len || !pt_block_size_ok(szx, m, plen) ||
        len + plen > sizeof(got)) {
      coap_delete_pdu(resp);
      return (size_t)-1;
    }
    if (round == 0)
      *szx_seen = szx;
    size_t w = wire_size(resp);
    *largest = w > *largest ? w : *largest;
    memcpy(got + len, data, plen);
    len += plen;
    coap_delete_pdu(resp);
    if (!m)
      break;
    feed(s, request(COAP_REQUEST_CODE_GET, "big", (uint8_t)(2 + round),
                    COAP_OPTION_BLOCK2, (unsigned)(len / pt_block_unit(szx)), 0,
                    (int)szx, 0, 0));
  }
  return len == BODY_LEN && memcmp(got, body, len) == 0 ? len : (size_t)-2;
}

/* GET /big from a server session whose peer's CSM said @mms and @bwt,
 * asking first for SZX @first_szx (-1: no Block2 option, the server
 * chooses): the SZX the server used, and the largest message within
 * [@largest_min, @largest_max]. */
typedef struct {
  const char *name;
  uint16_t port;
  int bwt;
  int first_szx;
  unsigned szx;
  size_t largest_min, largest_max;
} block2_row;

static const block2_row block2_rows[] = {
    /* three 1024-byte units per block, within the peer's 4096 */
    {"server_sends_bert_block2_within_the_peers_max_message_size", 42001, 1, -1,
     7, 3 * 1024 + 1, 4096},
    {"server_sends_bert_block2_when_the_client_asks_szx_7", 42002, 1, 7, 7,
     3 * 1024 + 1, 4096},
    {"server_keeps_the_block_size_the_client_asked_for", 42003, 1, 5, 5, 1,
     4096},
    {"server_without_the_peers_bwt_never_sends_szx_7", 42004, 0, -1, 6, 1,
     4096},
};

static void server_block2(const block2_row *r) {
  coap_context_t *ctx = bert_context();
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, r->port);
  feed_csm(s, 4096, r->bwt);
  last_code(peer, NULL);
  unsigned szx = 0;
  size_t largest = 0;
  CHECK_UINT_EQ(fetch_big(s, peer, r->first_szx, &szx, &largest), BODY_LEN);
  CHECK_UINT_EQ(szx, r->szx);
  CHECK(largest >= r->largest_min);
  CHECK(largest <= r->largest_max);
  close(peer);
  done(ctx);
}

/* Requests with SZX 7 to a server session, one a step: a PUT to /up with
 * Block1 (num, m, SZX 7) and @n bytes of the body from @off, or a GET of
 * /big with Block2 (num, m, SZX 7); the code answered, and with @echo the
 * Block1 option the answer carries. */
typedef struct {
  coap_option_num_t opt; /* COAP_OPTION_BLOCK1: PUT /up; BLOCK2: GET /big */
  unsigned num;
  int m;
  size_t off, n;
  coap_pdu_code_t code;
  int echo; /* check the answer's Block1: @num and SZX 7, and @m if 1 */
} block1_step;

typedef struct {
  const char *name;
  uint16_t port;
  int bwt;
  block1_step steps[4];
  size_t n_steps;
  size_t put_len; /* the body the handler got: 0 when it was never called */
  int put_same;
} block1_row;

static const block1_row block1_rows[] = {
    /* RFC 7959 2.2: SZX 7 is reserved where BERT was not agreed: 4.00. */
    {.name = "szx_7_without_the_peers_bwt_is_answered_bad_request",
     .port = 42005,
     .bwt = 0,
     .steps = {{COAP_OPTION_BLOCK2, 0, 0, 0, 0, COAP_RESPONSE_CODE_BAD_REQUEST,
                0},
               {COAP_OPTION_BLOCK1, 0, 1, 0, 2048,
                COAP_RESPONSE_CODE_BAD_REQUEST, 0}},
     .n_steps = 2},
    /* 2048 + 3072 bytes in two BERT blocks, then the last 100. */
    {.name = "server_reassembles_a_bert_block1_upload",
     .port = 42006,
     .bwt = 1,
     .steps = {{COAP_OPTION_BLOCK1, 0, 1, 0, 2048, COAP_RESPONSE_CODE_CONTINUE,
                1},
               {COAP_OPTION_BLOCK1, 2, 1, 2048, 3072,
                COAP_RESPONSE_CODE_CONTINUE, 0},
               {COAP_OPTION_BLOCK1, 5, 0, 5120, 100, COAP_RESPONSE_CODE_CHANGED,
                2}},
     .n_steps = 3,
     .put_len = 5220,
     .put_same = 1},
    /* Not a multiple of 1024, empty, and a gap: the second block does not
     * start where the first ended. */
    {.name = "malformed_bert_block1_not_a_multiple_of_1024_is_refused",
     .port = 42007,
     .bwt = 1,
     .steps = {{COAP_OPTION_BLOCK1, 0, 1, 0, 1500,
                COAP_RESPONSE_CODE_BAD_REQUEST, 0},
               {COAP_OPTION_BLOCK1, 0, 1, 0, 0, COAP_RESPONSE_CODE_BAD_REQUEST,
                0},
               {COAP_OPTION_BLOCK1, 0, 1, 0, 2048, COAP_RESPONSE_CODE_CONTINUE,
                0},
               {COAP_OPTION_BLOCK1, 1, 0, 1024, 10,
                COAP_RESPONSE_CODE_INCOMPLETE, 0}},
     .n_steps = 4},
};

static void server_block1(const block1_row *r) {
  coap_context_t *ctx = bert_context();
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, r->port);
  feed_csm(s, 4096, r->bwt);
  last_code(peer, NULL);
  for (size_t i = 0; i < r->n_steps; i++) {
    const block1_step *st = &r->steps[i];
    int put = st->opt == COAP_OPTION_BLOCK1;
    feed(s, request(put ? COAP_REQUEST_CODE_PUT : COAP_REQUEST_CODE_GET,
                    put ? "up" : "big", (uint8_t)(1 + i), st->opt, st->num,
                    st->m, 7, st->off, st->n));
    coap_pdu_t *answer = NULL;
    CHECK_INT_EQ(last_code(peer, &answer), st->code);
    unsigned num, szx;
    int m;
    int echoed = block_of(answer, COAP_OPTION_BLOCK1, &num, &m, &szx);
    coap_delete_pdu(answer);
    if (st->echo) {
      CHECK(echoed);
      CHECK_UINT_EQ(num, st->num);
      CHECK_UINT_EQ(szx, 7);
    }
    if (st->echo == 1)
      CHECK_INT_EQ(m, st->m);
  }
  CHECK_UINT_EQ(put_len, r->put_len);
  CHECK_INT_EQ(put_same, r->put_same);
  close(peer);
  done(ctx);
}

/* ---- client ---------------------------------------------------------- */

/* A one-byte token. */
static coap_bin_const_t T(const char *b) {
  coap_bin_const_t t = {1, (const uint8_t *)b};
  return t;
}

static coap_pdu_t *response(coap_bin_const_t tok, coap_pdu_code_t code,
                            unsigned num, int m, unsigned szx, size_t off,
                            size_t n) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, code, 0, 0);
  coap_add_token(p, tok.length, tok.s);
  pt_block_set(p, COAP_OPTION_BLOCK2, num, m, szx);
  if (n)
    coap_add_data(p, n, body + off);
  return p;
}

TEST(client_fetches_a_bert_block2_body) {
  coap_context_t *ctx = bert_context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  feed_csm(s, 4096, 1);
  coap_pdu_t *get = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  coap_add_token(get, 1, (const uint8_t *)"\x40");
  coap_add_option(get, COAP_OPTION_URI_PATH, 3, (const uint8_t *)"big");
  CHECK(coap_send(s, get) != COAP_INVALID_MID);
  last_code(peer, NULL);
  feed(s, response(T("\x40"), COAP_RESPONSE_CODE_CONTENT, 0, 1, 7, 0, 2048));
  coap_pdu_t *next = NULL;
  CHECK_INT_EQ(last_code(peer, &next), COAP_REQUEST_CODE_GET);
  unsigned num, szx;
  int m;
  CHECK(block_of(next, COAP_OPTION_BLOCK2, &num, &m, &szx));
  CHECK_UINT_EQ(num, 2); /* two 1024-byte units came */
  CHECK_UINT_EQ(szx, 7);
  coap_bin_const_t tok = coap_pdu_get_token(next);
  feed(s, response(tok, COAP_RESPONSE_CODE_CONTENT, 2, 0, 7, 2048, 500));
  coap_delete_pdu(next);
  CHECK_INT_EQ(got_code, COAP_RESPONSE_CODE_CONTENT);
  CHECK_UINT_EQ(got_len, 2548);
  CHECK_INT_EQ(got_same, 1);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* Without the peer's Block-Wise-Transfer a SZX 7 block is no part of a
 * body: the client never asks for the next one. */
TEST(client_without_the_peers_bwt_takes_no_szx_7_block) {
  coap_context_t *ctx = bert_context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  feed_csm(s, 4096, 0);
  coap_pdu_t *get = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
  coap_add_token(get, 1, (const uint8_t *)"\x41");
  coap_add_option(get, COAP_OPTION_URI_PATH, 3, (const uint8_t *)"big");
  coap_send(s, get);
  last_code(peer, NULL);
  feed(s, response(T("\x41"), COAP_RESPONSE_CODE_CONTENT, 0, 1, 7, 0, 2048));
  CHECK_INT_EQ(last_code(peer, NULL), 0); /* no follow-up request */
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* Sends /up with the whole body through coap_add_data_large_request() and
 * answers each block; returns the SZX of the first block, or -1. */
static int upload(coap_session_t *s, int peer, size_t *largest) {
  coap_pdu_t *put = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, s);
  coap_add_token(put, 1, (const uint8_t *)"\x50");
  coap_add_option(put, COAP_OPTION_URI_PATH, 2, (const uint8_t *)"up");
  if (!coap_add_data_large_request(s, put, sizeof(body), body, NULL, NULL) ||
      coap_send(s, put) == COAP_INVALID_MID)
    return -1;
  static uint8_t got[BODY_LEN];
  size_t len = 0;
  int first = -1;
  *largest = 0;
  for (int round = 0; round < 100; round++) {
    coap_pdu_t *req = NULL;
    if (last_code(peer, &req) != COAP_REQUEST_CODE_PUT)
      return -1;
    unsigned num, szx;
    int m;
    size_t plen;
    const uint8_t *data;
    if (!block_of(req, COAP_OPTION_BLOCK1, &num, &m, &szx) ||
        !coap_get_data(req, &plen, &data) || pt_block_offset(num, szx) != len ||
        !pt_block_size_ok(szx, m, plen) || len + plen > sizeof(got)) {
      coap_delete_pdu(req);
      return -1;
    }
    if (first < 0)
      first = (int)szx;
    size_t w = wire_size(req);
    *largest = w > *largest ? w : *largest;
    memcpy(got + len, data, plen);
    len += plen;
    coap_bin_const_t tok = coap_pdu_get_token(req);
    coap_pdu_t *ack = coap_pdu_init(
        COAP_MESSAGE_CON,
        m ? COAP_RESPONSE_CODE_CONTINUE : COAP_RESPONSE_CODE_CHANGED, 0, 0);
    coap_add_token(ack, tok.length, tok.s);
    pt_block_set(ack, COAP_OPTION_BLOCK1, num, m, szx);
    coap_delete_pdu(req);
    feed(s, ack);
    if (!m)
      break;
  }
  return len == BODY_LEN && memcmp(got, body, len) == 0 ? first : -2;
}

/* A client uploading /up whole to a peer whose CSM said 4096 and @bwt:
 * the SZX of its first Block1, and its largest message. */
typedef struct {
  const char *name;
  int bwt;
  int szx;
  size_t largest_min, largest_max;
} upload_row;

static const upload_row upload_rows[] = {
    {"client_uploads_in_bert_block1_within_the_peers_max_message_size", 1, 7,
     3 * 1024 + 1, 4096},
    {"client_without_the_peers_bwt_uploads_in_plain_blocks", 0, 6, 1, 4096},
};

static void client_upload(const upload_row *r) {
  coap_context_t *ctx = bert_context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  feed_csm(s, 4096, r->bwt);
  last_code(peer, NULL);
  size_t largest = 0;
  CHECK_INT_EQ(upload(s, peer, &largest), r->szx);
  CHECK(largest >= r->largest_min);
  CHECK(largest <= r->largest_max);
  CHECK_INT_EQ(got_code, COAP_RESPONSE_CODE_CHANGED);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(get_block_b_abstracts_bert) {
  coap_context_t *ctx = bert_context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  coap_pdu_t *p =
      response(T("\x01"), COAP_RESPONSE_CODE_CONTENT, 5, 1, 7, 0, 3000);
  coap_block_b_t b;
  CHECK_INT_EQ(coap_get_block_b(s, p, COAP_OPTION_BLOCK2, &b), 0); /* no CSM */
  feed_csm(s, 4096, 1);
  CHECK_INT_EQ(coap_get_block_b(s, p, COAP_OPTION_BLOCK2, &b), 1);
  CHECK_UINT_EQ(b.num, 5);
  CHECK_UINT_EQ(b.m, 1);
  CHECK_UINT_EQ(b.szx, 6);
  CHECK_UINT_EQ(b.aszx, 7);
  CHECK_UINT_EQ(b.bert, 1);
  CHECK_UINT_EQ(b.chunk_size, 2048); /* whole units while more follow */
  CHECK_INT_EQ(coap_get_block_b(NULL, p, COAP_OPTION_BLOCK2, &b), 0);
  coap_delete_pdu(p);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

int main(void) {
  RUN(our_csm_offers_block_wise_transfer);
  RUN(bert_needs_the_peers_offer_and_both_sizes_above_1152);
  RUN_ROWS(server_block2, block2_rows);
  RUN_ROWS(server_block1, block1_rows);
  RUN(client_fetches_a_bert_block2_body);
  RUN(client_without_the_peers_bwt_takes_no_szx_7_block);
  RUN_ROWS(client_upload, upload_rows);
  RUN(get_block_b_abstracts_bert);
  return TEST_SUMMARY();
}
