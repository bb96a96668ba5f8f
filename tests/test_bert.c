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
  int peer;
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
  int peer;
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

TEST(server_sends_bert_block2_within_the_peers_max_message_size) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = server(ctx, &peer, 42001);
  feed_csm(s, 4096, 1);
  last_code(peer, NULL);
  unsigned szx = 0;
  size_t largest = 0;
  CHECK_UINT_EQ(fetch_big(s, peer, -1, &szx, &largest), BODY_LEN);
  CHECK_UINT_EQ(szx, 7);
  CHECK(largest <= 4096);
  CHECK(largest > 3 * 1024); /* three 1024-byte units per block */
  close(peer);
  done(ctx);
}

TEST(server_sends_bert_block2_when_the_client_asks_szx_7) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = server(ctx, &peer, 42002);
  feed_csm(s, 4096, 1);
  last_code(peer, NULL);
  unsigned szx = 0;
  size_t largest = 0;
  CHECK_UINT_EQ(fetch_big(s, peer, 7, &szx, &largest), BODY_LEN);
  CHECK_UINT_EQ(szx, 7);
  close(peer);
  done(ctx);
}

TEST(server_keeps_the_block_size_the_client_asked_for) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = server(ctx, &peer, 42003);
  feed_csm(s, 4096, 1);
  last_code(peer, NULL);
  unsigned szx = 0;
  size_t largest = 0;
  CHECK_UINT_EQ(fetch_big(s, peer, 5, &szx, &largest), BODY_LEN);
  CHECK_UINT_EQ(szx, 5);
  close(peer);
  done(ctx);
}

TEST(server_without_the_peers_bwt_never_sends_szx_7) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = server(ctx, &peer, 42004);
  feed_csm(s, 4096, 0);
  last_code(peer, NULL);
  unsigned szx = 0;
  size_t largest = 0;
  CHECK_UINT_EQ(fetch_big(s, peer, -1, &szx, &largest), BODY_LEN);
  CHECK_UINT_EQ(szx, 6);
  close(peer);
  done(ctx);
}

/* RFC 7959 2.2: SZX 7 is reserved where BERT was not agreed: 4.00. */
TEST(szx_7_without_the_peers_bwt_is_answered_bad_request) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = server(ctx, &peer, 42005);
  feed_csm(s, 4096, 0);
  last_code(peer, NULL);
  feed(s, request(COAP_REQUEST_CODE_GET, "big", 1, COAP_OPTION_BLOCK2, 0, 0, 7,
                  0, 0));
  CHECK_INT_EQ(last_code(peer, NULL), COAP_RESPONSE_CODE_BAD_REQUEST);
  feed(s, request(COAP_REQUEST_CODE_PUT, "up", 2, COAP_OPTION_BLOCK1, 0, 1, 7,
                  0, 2048));
  CHECK_INT_EQ(last_code(peer, NULL), COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_UINT_EQ(put_len, 0);
  close(peer);
  done(ctx);
}

TEST(server_reassembles_a_bert_block1_upload) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = server(ctx, &peer, 42006);
  feed_csm(s, 4096, 1);
  last_code(peer, NULL);
  /* 2048 + 3072 bytes in two BERT blocks, then the last 100. */
  feed(s, request(COAP_REQUEST_CODE_PUT, "up", 1, COAP_OPTION_BLOCK1, 0, 1, 7,
                  0, 2048));
  coap_pdu_t *r = NULL;
  unsigned num, szx;
  int m;
  CHECK_INT_EQ(last_code(peer, &r), COAP_RESPONSE_CODE_CONTINUE);
  CHECK(block_of(r, COAP_OPTION_BLOCK1, &num, &m, &szx));
  CHECK_UINT_EQ(num, 0);
  CHECK_INT_EQ(m, 1);
  CHECK_UINT_EQ(szx, 7);
  coap_delete_pdu(r);
  feed(s, request(COAP_REQUEST_CODE_PUT, "up", 2, COAP_OPTION_BLOCK1, 2, 1, 7,
                  2048, 3072));
  CHECK_INT_EQ(last_code(peer, NULL), COAP_RESPONSE_CODE_CONTINUE);
  feed(s, request(COAP_REQUEST_CODE_PUT, "up", 3, COAP_OPTION_BLOCK1, 5, 0, 7,
                  5120, 100));
  CHECK_INT_EQ(last_code(peer, &r), COAP_RESPONSE_CODE_CHANGED);
  CHECK(block_of(r, COAP_OPTION_BLOCK1, &num, &m, &szx));
  CHECK_UINT_EQ(num, 5);
  CHECK_UINT_EQ(szx, 7);
  coap_delete_pdu(r);
  CHECK_UINT_EQ(put_len, 5220);
  CHECK_INT_EQ(put_same, 1);
  close(peer);
  done(ctx);
}

TEST(malformed_bert_block1_not_a_multiple_of_1024_is_refused) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = server(ctx, &peer, 42007);
  feed_csm(s, 4096, 1);
  last_code(peer, NULL);
  feed(s, request(COAP_REQUEST_CODE_PUT, "up", 1, COAP_OPTION_BLOCK1, 0, 1, 7,
                  0, 1500));
  CHECK_INT_EQ(last_code(peer, NULL), COAP_RESPONSE_CODE_BAD_REQUEST);
  feed(s, request(COAP_REQUEST_CODE_PUT, "up", 2, COAP_OPTION_BLOCK1, 0, 1, 7,
                  0, 0));
  CHECK_INT_EQ(last_code(peer, NULL), COAP_RESPONSE_CODE_BAD_REQUEST);
  /* A gap: the second block does not start where the first ended. */
  feed(s, request(COAP_REQUEST_CODE_PUT, "up", 3, COAP_OPTION_BLOCK1, 0, 1, 7,
                  0, 2048));
  CHECK_INT_EQ(last_code(peer, NULL), COAP_RESPONSE_CODE_CONTINUE);
  feed(s, request(COAP_REQUEST_CODE_PUT, "up", 4, COAP_OPTION_BLOCK1, 1, 0, 7,
                  1024, 10));
  CHECK_INT_EQ(last_code(peer, NULL), COAP_RESPONSE_CODE_INCOMPLETE);
  CHECK_UINT_EQ(put_len, 0);
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
  int peer;
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
  int peer;
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

TEST(client_uploads_in_bert_block1_within_the_peers_max_message_size) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = client(ctx, &peer);
  feed_csm(s, 4096, 1);
  last_code(peer, NULL);
  size_t largest = 0;
  CHECK_INT_EQ(upload(s, peer, &largest), 7);
  CHECK(largest <= 4096);
  CHECK(largest > 3 * 1024);
  CHECK_INT_EQ(got_code, COAP_RESPONSE_CODE_CHANGED);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(client_without_the_peers_bwt_uploads_in_plain_blocks) {
  coap_context_t *ctx = bert_context();
  int peer;
  coap_session_t *s = client(ctx, &peer);
  feed_csm(s, 4096, 0);
  last_code(peer, NULL);
  size_t largest = 0;
  CHECK_INT_EQ(upload(s, peer, &largest), 6);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(get_block_b_abstracts_bert) {
  coap_context_t *ctx = bert_context();
  int peer;
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
  RUN(server_sends_bert_block2_within_the_peers_max_message_size);
  RUN(server_sends_bert_block2_when_the_client_asks_szx_7);
  RUN(server_keeps_the_block_size_the_client_asked_for);
  RUN(server_without_the_peers_bwt_never_sends_szx_7);
  RUN(szx_7_without_the_peers_bwt_is_answered_bad_request);
  RUN(server_reassembles_a_bert_block1_upload);
  RUN(malformed_bert_block1_not_a_multiple_of_1024_is_refused);
  RUN(client_fetches_a_bert_block2_body);
  RUN(client_without_the_peers_bwt_takes_no_szx_7_block);
  RUN(client_uploads_in_bert_block1_within_the_peers_max_message_size);
  RUN(client_without_the_peers_bwt_uploads_in_plain_blocks);
  RUN(get_block_b_abstracts_bert);
  return TEST_SUMMARY();
}
