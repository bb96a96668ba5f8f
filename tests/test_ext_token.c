/*
 * test_ext_token.c -- extended tokens (RFC 8974) through the message
 * layer: what a server does with long tokens, the limit a context takes,
 * and the probe a client session sends to learn the server's (2.2.2).
 */
#include "test.h"

#include <stdlib.h>

#include "core_harness.h"
#include "exchange.h"
#include "ext_token.h"

static int hello_calls;
static int response_calls;
static int nack_calls;
static int nacks_for_40_byte_tokens; /* the probes of probe_refused() */
static coap_nack_reason_t last_nack;
static int bad_packets;

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  hello_calls++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

static uint8_t large_body[3000];
static int async_calls;

/* 3000 bytes in Block2 blocks (block_server.c). */
static void hnd_large(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_TEXT_PLAIN,
                               -1, 0, sizeof(large_body), large_body, NULL,
                               NULL);
}

/* A separate response after one second (async.c). */
static void hnd_later(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)q;
  async_calls++;
  if (!coap_find_async(s, coap_pdu_get_token(req))) {
    coap_register_async(s, req, COAP_TICKS_PER_SECOND);
    return;
  }
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 4, (const uint8_t *)"done");
}

static size_t put_body_len;

/* PUT: takes the whole body (reassembled from Block1 blocks). */
static void hnd_put(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  size_t len, off, total;
  const uint8_t *d;
  if (coap_get_data_large(req, &len, &d, &off, &total))
    put_body_len = len;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static size_t last_response_token_len;
static size_t last_response_body_len;

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  response_calls++;
  last_response_token_len = coap_pdu_get_token(recv).length;
  size_t len, off, total;
  const uint8_t *d;
  last_response_body_len = 0;
  if (coap_get_data_large(recv, &len, &d, &off, &total))
    last_response_body_len = len;
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  nack_calls++;
  last_nack = reason;
  if (sent && coap_pdu_get_token(sent).length == 40)
    nacks_for_40_byte_tokens++;
}

static int on_event(coap_session_t *s, coap_event_t ev) {
  (void)s;
  if (ev == COAP_EVENT_BAD_PACKET)
    bad_packets++;
  return 0;
}

static coap_context_t *context(size_t max_token) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("large"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_large);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_put);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("later"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_later);
  coap_add_resource(ctx, r);
  async_calls = 0;
  coap_register_response_handler(ctx, on_response);
  coap_register_nack_handler(ctx, on_nack);
  coap_register_event_handler(ctx, on_event);
  coap_context_set_max_token_size(ctx, max_token);
  hello_calls = response_calls = nack_calls = bad_packets = 0;
  nacks_for_40_byte_tokens = 0;
  last_nack = (coap_nack_reason_t)-1;
  return ctx;
}

static uint8_t token_bytes[COAP_TOKEN_EXT_MAX];

static void init_token_bytes(void) {
  for (size_t i = 0; i < sizeof(token_bytes); i++)
    token_bytes[i] = (uint8_t)(i * 31 + 7);
}

/* GET /@path with a @tl-byte token. */
static coap_pdu_t *get_path(coap_pdu_type_t type, coap_mid_t mid, size_t tl,
                            const char *path) {
  coap_pdu_t *p = coap_pdu_init(type, COAP_REQUEST_CODE_GET, mid, 0);
  coap_add_token(p, tl, token_bytes);
  coap_add_option(p, COAP_OPTION_URI_PATH, strlen(path), (const uint8_t *)path);
  return p;
}

static coap_pdu_t *get(coap_pdu_type_t type, coap_mid_t mid, size_t tl) {
  return get_path(type, mid, tl, "hello");
}

/* ---- the context's limit ------------------------------------------------ */

TEST(max_token_size_takes_8_to_65804_only) {
  coap_context_t *ctx = context(8);
  CHECK_UINT_EQ(ctx->max_token_size, 8);
  coap_context_set_max_token_size(ctx, 9);
  CHECK_UINT_EQ(ctx->max_token_size, 9);
  coap_context_set_max_token_size(ctx, 7);
  CHECK_UINT_EQ(ctx->max_token_size, 9);
  coap_context_set_max_token_size(ctx, COAP_TOKEN_EXT_MAX);
  CHECK_UINT_EQ(ctx->max_token_size, COAP_TOKEN_EXT_MAX);
  coap_context_set_max_token_size(ctx, COAP_TOKEN_EXT_MAX + 1);
  CHECK_UINT_EQ(ctx->max_token_size, COAP_TOKEN_EXT_MAX);
  coap_context_set_max_token_size(ctx, 0);
  CHECK_UINT_EQ(ctx->max_token_size, COAP_TOKEN_EXT_MAX);
  coap_context_set_max_token_size(ctx, 8);
  CHECK_UINT_EQ(ctx->max_token_size, 8);
  coap_context_set_max_token_size(NULL, 100); /* no crash */
  h_free(ctx);
}

/* ---- server ---------------------------------------------------------------
 */

/* Without extended tokens, a longer token is a format error: RST for a
 * CON, nothing for a NON (RFC 7252 4.2/4.3; RFC 8974 2.2.2). */
TEST(server_without_ext_tokens_rejects_long_tokens) {
  static const size_t lengths[] = {9, 12, 13, 200, 268, 269, 1000};
  for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
    coap_context_t *ctx = context(8);
    coap_session_t *s = h_server_session(40000);
    h_feed(s, get(COAP_MESSAGE_CON, 0x0A00, lengths[i]));
    CHECK_INT_EQ(h_nsent, 1);
    CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x70\x00\x0a\x00", 4);
    h_feed(s, get(COAP_MESSAGE_NON, 0x0A01, lengths[i]));
    CHECK_INT_EQ(h_nsent, 1);
    CHECK_INT_EQ(hello_calls, 0);
    CHECK_INT_EQ(bad_packets, 2);
    h_free(ctx);
  }
}

/* Answers GET /hello with a @tl-byte token on a server taking @max;
 * returns the reply's code and checks its token is the request's. */
static void serve(size_t max, coap_pdu_type_t type, size_t tl, int *code) {
  coap_context_t *ctx = context(max);
  coap_session_t *s = h_server_session(40000);
  h_feed(s, get(type, 0x0B00, tl));
  *code = -1;
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *r = h_parse(0);
  CHECK_NOT_NULL(r);
  *code = coap_pdu_get_code(r);
  CHECK_INT_EQ(coap_pdu_get_type(r),
               type == COAP_MESSAGE_CON ? COAP_MESSAGE_ACK : COAP_MESSAGE_NON);
  coap_bin_const_t t = coap_pdu_get_token(r);
  CHECK_MEM_EQ(t.s, t.length, token_bytes, tl);
  if (type == COAP_MESSAGE_CON)
    CHECK_INT_EQ(coap_pdu_get_mid(r), 0x0B00);
  coap_delete_pdu(r);
  h_free(ctx);
}

static int served(size_t max, coap_pdu_type_t type, size_t tl) {
  int code;
  serve(max, type, tl, &code);
  return code;
}

TEST(server_with_ext_tokens_serves_tokens_up_to_its_limit) {
  CHECK_INT_EQ(served(16, COAP_MESSAGE_CON, 9), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(served(16, COAP_MESSAGE_CON, 13), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(served(16, COAP_MESSAGE_CON, 16), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(served(16, COAP_MESSAGE_NON, 16), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(served(300, COAP_MESSAGE_CON, 269), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(served(300, COAP_MESSAGE_NON, 300), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(served(COAP_TOKEN_EXT_MAX, COAP_MESSAGE_CON, 1200),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(served(16, COAP_MESSAGE_CON, 4), COAP_RESPONSE_CODE_CONTENT);
}

/* RFC 8974 2.2.2: a server that takes extended tokens answers a token
 * longer than it will handle with 4.00, the token echoed. */
TEST(server_with_ext_tokens_answers_longer_token_with_4_00) {
  CHECK_INT_EQ(served(16, COAP_MESSAGE_CON, 17),
               COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_INT_EQ(served(16, COAP_MESSAGE_NON, 17),
               COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_INT_EQ(served(12, COAP_MESSAGE_CON, 13),
               COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_INT_EQ(served(268, COAP_MESSAGE_CON, 269),
               COAP_RESPONSE_CODE_BAD_REQUEST);
  CHECK_INT_EQ(served(100, COAP_MESSAGE_NON, 1400),
               COAP_RESPONSE_CODE_BAD_REQUEST);
}

/* A response the client did not expect, with a long token, reaches the
 * response handler whole (sent NULL, libcoap's contract); it is ACKed when
 * the handler takes it and rejected with RST when there is no handler. */
TEST(server_with_ext_tokens_unknown_long_token_response_reaches_handler) {
  coap_context_t *ctx = context(64);
  coap_session_t *s = h_server_session(40000);
  coap_pdu_t *r =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, 0x0C00, 0);
  coap_add_token(r, 100, token_bytes);
  response_calls = 0;
  h_feed(s, r);
  CHECK_INT_EQ(response_calls, 1);
  CHECK_INT_EQ(last_response_token_len, 100);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, "\x60\x00\x0c\x00", 4);
  coap_register_response_handler(ctx, NULL);
  r = coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, 0x0C01, 0);
  coap_add_token(r, 100, token_bytes);
  h_feed(s, r);
  CHECK_INT_EQ(response_calls, 1);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, "\x70\x00\x0c\x01", 4);
  h_free(ctx);
}

/* ---- client -------------------------------------------------------------- */

static coap_session_t *client(coap_context_t *ctx) {
  coap_address_t a = h_peer(5683);
  return coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
}

TEST(client_without_ext_tokens_refuses_long_token_and_sends_no_probe) {
  coap_context_t *ctx = context(8);
  coap_session_t *c = client(ctx);
  CHECK_INT_EQ(coap_send(c, get(COAP_MESSAGE_CON, 1, 9)), COAP_INVALID_MID);
  CHECK_INT_EQ(coap_send(c, get(COAP_MESSAGE_NON, 2, 13)), COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 0);
  CHECK(coap_send(c, get(COAP_MESSAGE_CON, 3, 8)) != COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 1); /* the request itself, no probe */
  coap_pdu_t *p = h_parse(0);
  CHECK_INT_EQ(coap_pdu_get_mid(p), 3);
  coap_delete_pdu(p);
  coap_session_release(c);
  h_free(ctx);
}

/* Sends a first request on a client session of a context taking @max and
 * checks the probe that goes ahead of it. Returns the probe (caller
 * deletes). */
static void start_probe(coap_context_t *ctx, coap_session_t **c, size_t req_tl,
                        size_t probe_tl, coap_pdu_t **probe) {
  (void)ctx;
  *probe = NULL;
  *c = client(ctx);
  CHECK(coap_send(*c, get(COAP_MESSAGE_CON, 0x0100, req_tl)) !=
        COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 1); /* the probe; the request waits (NSTART) */
  coap_pdu_t *p = h_parse(0);
  CHECK_NOT_NULL(p);
  *probe = p;
  CHECK_INT_EQ(coap_pdu_get_type(p), COAP_MESSAGE_CON);
  CHECK_INT_EQ(coap_pdu_get_code(p), COAP_REQUEST_CODE_GET);
  CHECK_UINT_EQ(coap_pdu_get_token(p).length, probe_tl);
  coap_opt_iterator_t it;
  CHECK_NOT_NULL(coap_check_option(p, COAP_OPTION_IF_NONE_MATCH, &it));
  CHECK_INT_EQ((*c)->ext_token_state, PT_EXT_TOKEN_CHECKING);
}

/* The answer to the probe, piggybacked, with its token cut to @tl. */
static coap_pdu_t *probe_answer(const coap_pdu_t *probe, coap_pdu_code_t code,
                                size_t tl) {
  coap_pdu_t *r =
      coap_pdu_init(COAP_MESSAGE_ACK, code, coap_pdu_get_mid(probe), 0);
  coap_bin_const_t t = coap_pdu_get_token(probe);
  coap_add_token(r, tl < t.length ? tl : t.length, t.s);
  return r;
}

TEST(client_probe_answered_keeps_the_context_limit) {
  static const coap_pdu_code_t codes[] = {
      COAP_RESPONSE_CODE_CONTENT, COAP_RESPONSE_CODE_NOT_FOUND,
      COAP_RESPONSE_CODE_BAD_OPTION, COAP_RESPONSE_CODE_PRECONDITION_FAILED};
  for (size_t i = 0; i < 4; i++) {
    coap_context_t *ctx = context(100);
    coap_session_t *c;
    coap_pdu_t *probe;
    start_probe(ctx, &c, 20, 100, &probe);
    h_feed(c, probe_answer(probe, codes[i], 100));
    CHECK_INT_EQ(c->ext_token_state, PT_EXT_TOKEN_CHECKED);
    CHECK_UINT_EQ(c->max_token_size, 100);
    CHECK_INT_EQ(response_calls, 0); /* the probe's is not the app's */
    CHECK_INT_EQ(h_nsent, 2);        /* now the request */
    coap_pdu_t *req = h_parse(1);
    CHECK_INT_EQ(coap_pdu_get_mid(req), 0x0100);
    CHECK_UINT_EQ(coap_pdu_get_token(req).length, 20);
    coap_delete_pdu(req);
    /* No second probe; the limit holds. */
    CHECK_INT_EQ(coap_send(c, get(COAP_MESSAGE_NON, 0x0101, 101)),
                 COAP_INVALID_MID);
    CHECK(coap_send(c, get(COAP_MESSAGE_NON, 0x0102, 100)) != COAP_INVALID_MID);
    CHECK_INT_EQ(h_nsent, 3);
    coap_delete_pdu(probe);
    coap_session_release(c);
    h_free(ctx);
  }
}

/* The ways a server says no (RFC 8974 2.2.2): the limit drops to 8 and
 * the application hears nothing of the probe. */
typedef enum { NO_RST, NO_4_00, NO_5_03, NO_SHORT_TOKEN, NO_ANSWER } no_t;

static void probe_refused(no_t how) {
  coap_context_t *ctx = context(40);
  coap_session_t *c;
  coap_pdu_t *probe;
  start_probe(ctx, &c, 4, 40, &probe);
  coap_mid_t pmid = coap_pdu_get_mid(probe);
  const uint8_t rst[4] = {0x70, 0, (uint8_t)(pmid >> 8), (uint8_t)pmid};
  switch (how) {
  case NO_RST:
    h_feed_raw(c, rst, 4);
    break;
  case NO_4_00:
    h_feed(c, probe_answer(probe, COAP_RESPONSE_CODE_BAD_REQUEST, 40));
    break;
  case NO_5_03:
    h_feed(c, probe_answer(probe, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE, 40));
    break;
  case NO_SHORT_TOKEN: /* an ACK that does not echo the token is an Empty
                          ACK's kind: the probe then waits and times out */
    h_feed(c, probe_answer(probe, COAP_RESPONSE_CODE_CONTENT, 8));
    /* fall through */
  case NO_ANSWER:
    for (int t = 0; t < 300 && c->ext_token_state != PT_EXT_TOKEN_CHECKED; t++)
      h_advance(ctx, COAP_TICKS_PER_SECOND);
    break;
  }
  CHECK_INT_EQ(c->ext_token_state, PT_EXT_TOKEN_CHECKED);
  CHECK_UINT_EQ(c->max_token_size, 8);
  CHECK_INT_EQ(response_calls, 0);
  CHECK_INT_EQ(nacks_for_40_byte_tokens, 0);
  CHECK_INT_EQ(coap_send(c, get(COAP_MESSAGE_CON, 0x0200, 9)),
               COAP_INVALID_MID);
  CHECK(coap_send(c, get(COAP_MESSAGE_NON, 0x0201, 8)) != COAP_INVALID_MID);
  coap_delete_pdu(probe);
  coap_session_release(c);
  h_free(ctx);
}

TEST(client_probe_rst_drops_limit_to_8) {
  probe_refused(NO_RST);
}
TEST(client_probe_4_00_drops_limit_to_8) {
  probe_refused(NO_4_00);
}
TEST(client_probe_5_03_drops_limit_to_8) {
  probe_refused(NO_5_03);
}
TEST(client_probe_short_token_drops_limit_to_8) {
  probe_refused(NO_SHORT_TOKEN);
}
TEST(client_probe_unanswered_drops_limit_to_8) {
  probe_refused(NO_ANSWER);
}

/* A separate answer to the probe settles it too, and is acknowledged. */
TEST(client_probe_separate_answer_settles_it) {
  coap_context_t *ctx = context(30);
  coap_session_t *c;
  coap_pdu_t *probe;
  start_probe(ctx, &c, 30, 30, &probe);
  coap_mid_t pmid = coap_pdu_get_mid(probe);
  const uint8_t ack[4] = {0x60, 0, (uint8_t)(pmid >> 8), (uint8_t)pmid};
  h_feed_raw(c, ack, 4);
  CHECK_INT_EQ(c->ext_token_state, PT_EXT_TOKEN_CHECKING);
  CHECK_INT_EQ(h_nsent, 2); /* the Empty ACK freed the NSTART slot */
  coap_pdu_t *r = probe_answer(probe, COAP_RESPONSE_CODE_NOT_FOUND, 30);
  coap_pdu_set_type(r, COAP_MESSAGE_CON);
  coap_pdu_set_mid(r, 0x0D00);
  h_feed(c, r);
  CHECK_INT_EQ(c->ext_token_state, PT_EXT_TOKEN_CHECKED);
  CHECK_UINT_EQ(c->max_token_size, 30);
  CHECK_INT_EQ(response_calls, 0);
  CHECK_MEM_EQ(h_sent_log[2].data, h_sent_log[2].len, "\x60\x00\x0d\x00", 4);
  coap_delete_pdu(probe);
  coap_session_release(c);
  h_free(ctx);
}

/* The probe's token is capped by what a datagram of the session holds. */
TEST(client_probe_token_fits_a_datagram) {
  coap_context_t *ctx = context(COAP_TOKEN_EXT_MAX);
  coap_session_t *c;
  coap_pdu_t *probe;
  start_probe(ctx, &c, 8, COAP_DEFAULT_MTU - 4 - 1, &probe);
  h_feed(c,
         probe_answer(probe, COAP_RESPONSE_CODE_CONTENT, COAP_TOKEN_EXT_MAX));
  CHECK_UINT_EQ(c->max_token_size, COAP_DEFAULT_MTU - 4 - 1);
  coap_delete_pdu(probe);
  coap_session_release(c);
  h_free(ctx);
}

/* A client and a server of this library, wired together: the probe and a
 * request with a long token go through. */
TEST(client_and_server_agree_on_ext_tokens) {
  coap_context_t *ctx = context(64);
  coap_session_t *c = client(ctx);
  coap_session_t *s = h_server_session(40000);
  CHECK(coap_send(c, get(COAP_MESSAGE_CON, 0x0300, 64)) != COAP_INVALID_MID);
  /* probe -> server -> answer -> client -> request -> server -> answer */
  h_feed_raw(s, h_sent_log[0].data, h_sent_log[0].len);
  h_feed_raw(c, h_sent_log[1].data, h_sent_log[1].len);
  CHECK_UINT_EQ(c->max_token_size, 64);
  CHECK_INT_EQ(h_nsent, 3);
  h_feed_raw(s, h_sent_log[2].data, h_sent_log[2].len);
  h_feed_raw(c, h_sent_log[3].data, h_sent_log[3].len);
  CHECK_INT_EQ(response_calls, 1);
  CHECK_INT_EQ(hello_calls, 1); /* the probe asked for "/", not /hello */
  coap_session_release(c);
  h_free(ctx);
}

/* Every place that keeps a token keeps a long one whole. */

/* The duplicate of a CON with a 300-byte token gets the same reply
 * (dedup.c), without running the handler again. */
TEST(duplicate_of_long_token_request_gets_same_reply) {
  coap_context_t *ctx = context(300);
  coap_session_t *s = h_server_session(40000);
  h_feed(s, get(COAP_MESSAGE_CON, 0x0E00, 300));
  h_feed(s, get(COAP_MESSAGE_CON, 0x0E00, 300));
  CHECK_INT_EQ(hello_calls, 1);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, h_sent_log[0].data,
               h_sent_log[0].len);
  CHECK_UINT_EQ(h_sent_log[0].len, 4 + 2 + 300 + 1 + 5);
  h_free(ctx);
}

/* A separate response (async.c) carries the request's 200-byte token. */
TEST(separate_response_keeps_long_token) {
  coap_context_t *ctx = context(200);
  coap_session_t *s = h_server_session(40000);
  h_feed(s, get_path(COAP_MESSAGE_CON, 0x0F00, 200, "later"));
  CHECK_INT_EQ(h_nsent, 1); /* Empty ACK */
  h_advance(ctx, 2 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(async_calls, 2);
  CHECK_INT_EQ(h_nsent, 2);
  coap_pdu_t *r = h_parse(1);
  CHECK_NOT_NULL(r);
  CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_CON);
  coap_bin_const_t t = coap_pdu_get_token(r);
  CHECK_MEM_EQ(t.s, t.length, token_bytes, 200);
  coap_delete_pdu(r);
  h_free(ctx);
}

/* A Block2 download (block_client.c) asked for with a 40-byte token: the
 * follow-up requests use short tokens of the library's, and the whole
 * body reaches the application with the 40-byte token. */
TEST(block2_download_with_long_token) {
  coap_context_t *ctx = context(64);
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_session_t *c = client(ctx);
  coap_session_t *s = h_server_session(40000);
  CHECK(coap_send(c, get_path(COAP_MESSAGE_CON, 0x1000, 40, "large")) !=
        COAP_INVALID_MID);
  /* Relay every datagram between the two until they are quiet. */
  int next = 0;
  for (int step = 0; step < 40 && next < h_nsent; step++, next++)
    h_feed_raw(h_sent_log[next].session == c ? s : c, h_sent_log[next].data,
               h_sent_log[next].len);
  CHECK_INT_EQ(next, h_nsent);
  CHECK_INT_EQ(response_calls, 1);
  CHECK_UINT_EQ(last_response_token_len, 40);
  CHECK_UINT_EQ(last_response_body_len, sizeof(large_body));
  coap_session_release(c);
  h_free(ctx);
}

/* A Block1 upload (block_client.c) from a request with a 40-byte token:
 * the first block goes with that token and its 2.31 is matched by it. */
TEST(block1_upload_with_long_token) {
  coap_context_t *ctx = context(64);
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_session_t *c = client(ctx);
  coap_session_t *s = h_server_session(40000);
  put_body_len = 0;
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 0x1100,
                                coap_session_max_pdu_size(c));
  coap_add_token(p, 40, token_bytes);
  coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"large");
  CHECK_INT_EQ(coap_add_data_large_request(c, p, sizeof(large_body), large_body,
                                           NULL, NULL),
               1);
  CHECK(coap_send(c, p) != COAP_INVALID_MID);
  int next = 0;
  for (int step = 0; step < 40 && next < h_nsent; step++, next++)
    h_feed_raw(h_sent_log[next].session == c ? s : c, h_sent_log[next].data,
               h_sent_log[next].len);
  CHECK_INT_EQ(next, h_nsent);
  CHECK_UINT_EQ(put_body_len, sizeof(large_body));
  CHECK_INT_EQ(response_calls, 1);
  CHECK_UINT_EQ(last_response_token_len, 40);
  coap_session_release(c);
  h_free(ctx);
}

TEST(session_init_token_takes_the_first_8_bytes) {
  coap_context_t *ctx = context(8);
  coap_session_t *c = client(ctx);
  const uint8_t t12[12] = {0, 0, 0, 0, 0, 0, 0, 41, 9, 9, 9, 9};
  coap_session_init_token(c, sizeof(t12), t12);
  uint8_t tok[8];
  size_t len;
  coap_session_new_token(c, &len, tok);
  CHECK_MEM_EQ(tok, len, "\x2a", 1); /* 41 + 1 */
  coap_session_release(c);
  h_free(ctx);
}

int main(void) {
  init_token_bytes();
  RUN(max_token_size_takes_8_to_65804_only);
  RUN(server_without_ext_tokens_rejects_long_tokens);
  RUN(server_with_ext_tokens_serves_tokens_up_to_its_limit);
  RUN(server_with_ext_tokens_answers_longer_token_with_4_00);
  RUN(server_with_ext_tokens_unknown_long_token_response_reaches_handler);
  RUN(client_without_ext_tokens_refuses_long_token_and_sends_no_probe);
  RUN(client_probe_answered_keeps_the_context_limit);
  RUN(client_probe_rst_drops_limit_to_8);
  RUN(client_probe_4_00_drops_limit_to_8);
  RUN(client_probe_5_03_drops_limit_to_8);
  RUN(client_probe_short_token_drops_limit_to_8);
  RUN(client_probe_unanswered_drops_limit_to_8);
  RUN(client_probe_separate_answer_settles_it);
  RUN(client_probe_token_fits_a_datagram);
  RUN(client_and_server_agree_on_ext_tokens);
  RUN(duplicate_of_long_token_request_gets_same_reply);
  RUN(separate_response_keeps_long_token);
  RUN(block2_download_with_long_token);
  RUN(block1_upload_with_long_token);
  RUN(session_init_token_takes_the_first_8_bytes);
  return TEST_SUMMARY();
}
