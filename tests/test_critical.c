/*
 * test_critical.c -- critical and reserved options (RFC 7252 5.4.1, 5.4.3,
 * 5.4.5, 5.10.7) in requests and in responses, and the error responses
 * built for them.
 */
#include "test.h"

#include "core_harness.h"
#include "exchange.h"
#include "option.h"

static int hello_calls;
static int response_calls;
static int nack_calls;
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

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)s, (void)sent, (void)recv, (void)mid;
  response_calls++;
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  nack_calls++;
  last_nack = reason;
}

static int on_event(coap_session_t *s, coap_event_t ev) {
  (void)s;
  if (ev == COAP_EVENT_BAD_PACKET)
    bad_packets++;
  return 0;
}

static coap_context_t *context(void) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  coap_register_response_handler(ctx, on_response);
  coap_register_nack_handler(ctx, on_nack);
  coap_register_event_handler(ctx, on_event);
  hello_calls = response_calls = nack_calls = bad_packets = 0;
  last_nack = (coap_nack_reason_t)-1;
  return ctx;
}

static const uint8_t val[8] = {1, 2, 3, 4, 5, 6, 7, 8};

/* ---- requests ---------------------------------------------------------- */

/* Sends GET /hello with option @num (@len bytes, twice if @twice) to a
 * server; returns the reply's code (-1 if none) and copies its payload. */
static int request_with(coap_pdu_type_t type, uint16_t num, size_t len,
                        int twice, int register_it, char *payload, size_t cap) {
  coap_context_t *ctx = context();
  if (register_it)
    coap_register_option(ctx, num);
  coap_session_t *s = h_server_session(40000);
  coap_pdu_t *p = h_request(type, COAP_REQUEST_CODE_GET, 0x100, 7, "hello");
  coap_add_option(p, num, len, val);
  if (twice)
    coap_add_option(p, num, len, val);
  h_feed(s, p);
  int code = -1;
  if (payload)
    payload[0] = 0;
  coap_pdu_t *r = h_nsent == 1 ? h_parse(0) : NULL;
  if (r) {
    code = coap_pdu_get_code(r);
    size_t dlen;
    const uint8_t *d;
    if (payload && coap_get_data(r, &dlen, &d) && dlen < cap) {
      memcpy(payload, d, dlen);
      payload[dlen] = 0;
    }
    coap_delete_pdu(r);
  }
  h_free(ctx);
  return code;
}

TEST(request_with_reserved_location_numbers_is_4_02) {
  static const uint16_t reserved[] = {128, 132, 136, 140};
  for (size_t i = 0; i < 4; i++) {
    char diag[64], want[64];
    CHECK_INT_EQ(request_with(COAP_MESSAGE_CON, reserved[i], 1, 0, 0, diag,
                              sizeof(diag)),
                 COAP_RESPONSE_CODE_BAD_OPTION);
    snprintf(want, sizeof(want), "Bad critical option %u", reserved[i]);
    CHECK_STR_EQ(diag, want);
    CHECK_INT_EQ(request_with(COAP_MESSAGE_NON, reserved[i], 0, 0, 0, NULL, 0),
                 COAP_RESPONSE_CODE_BAD_OPTION);
  }
  CHECK_INT_EQ(hello_calls, 0);
}

/* The neighbours of the reserved numbers are ordinary elective options. */
TEST(request_with_elective_neighbours_of_reserved_numbers_is_served) {
  static const uint16_t elective[] = {126, 130, 134, 138, 142, 144};
  for (size_t i = 0; i < sizeof(elective) / sizeof(elective[0]); i++)
    CHECK_INT_EQ(request_with(COAP_MESSAGE_CON, elective[i], 1, 0, 0, NULL, 0),
                 COAP_RESPONSE_CODE_CONTENT);
}

/* Option 0 is reserved (RFC 7252 12.2) but even: unrecognized elective,
 * so ignored. */
TEST(request_with_reserved_option_0_is_served) {
  CHECK_INT_EQ(request_with(COAP_MESSAGE_CON, 0, 1, 0, 0, NULL, 0),
               COAP_RESPONSE_CODE_CONTENT);
}

TEST(registered_reserved_number_is_accepted) {
  CHECK_INT_EQ(request_with(COAP_MESSAGE_CON, 132, 1, 0, 1, NULL, 0),
               COAP_RESPONSE_CODE_CONTENT);
}

TEST(bad_option_reply_names_the_first_unrecognized_critical_option) {
  char diag[64];
  CHECK_INT_EQ(
      request_with(COAP_MESSAGE_CON, 65001, 1, 0, 0, diag, sizeof(diag)),
      COAP_RESPONSE_CODE_BAD_OPTION);
  CHECK_STR_EQ(diag, "Bad critical option 65001");
  CHECK_INT_EQ(request_with(COAP_MESSAGE_CON, COAP_OPTION_URI_HOST, 0, 0, 0,
                            diag, sizeof(diag)),
               COAP_RESPONSE_CODE_BAD_OPTION);
  CHECK_STR_EQ(diag, "Bad critical option 3");
  CHECK_INT_EQ(request_with(COAP_MESSAGE_CON, COAP_OPTION_OSCORE, 1, 0, 0, diag,
                            sizeof(diag)),
               COAP_RESPONSE_CODE_BAD_OPTION);
  CHECK_STR_EQ(diag, "Bad critical option 9");
}

/* The dispatcher takes a Uri-Path of up to 255 bytes as recognized
 * without asking option.c (request.c, option_ok()): this holds only while
 * option.c's rule agrees, for a first and a repeated Uri-Path. */
TEST(uri_path_rule_is_the_one_the_dispatcher_assumes) {
  for (size_t len = 0; len <= 255; len++) {
    CHECK_INT_EQ(pt_opt_recognized(NULL, COAP_OPTION_URI_PATH, len, 0), 1);
    CHECK_INT_EQ(pt_opt_recognized(NULL, COAP_OPTION_URI_PATH, len, 1), 1);
  }
  CHECK_INT_EQ(pt_opt_recognized(NULL, COAP_OPTION_URI_PATH, 256, 0), 0);
}

/* Sends GET with one Uri-Path of @len bytes ('a's; the resource "hello" is
 * the only one); returns the reply's code and copies its payload. */
static int get_with_path_of(size_t len, char *payload, size_t cap) {
  static uint8_t path[300];
  memset(path, 'a', sizeof(path));
  coap_context_t *ctx = context();
  coap_session_t *s = h_server_session(40000);
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x100, 7, NULL);
  coap_add_option(p, COAP_OPTION_URI_PATH, len, path);
  h_feed(s, p);
  int code = -1;
  coap_pdu_t *r = h_nsent == 1 ? h_parse(0) : NULL;
  payload[0] = 0;
  if (r) {
    code = coap_pdu_get_code(r);
    size_t dlen;
    const uint8_t *d;
    if (coap_get_data(r, &dlen, &d) && dlen < cap) {
      memcpy(payload, d, dlen);
      payload[dlen] = 0;
    }
    coap_delete_pdu(r);
  }
  h_free(ctx);
  return code;
}

/* RFC 7252 5.10: Uri-Path is 0 to 255 bytes; a longer one is an
 * unrecognized critical option (5.4.3), answered 4.02 naming it, while
 * every length up to 255 (one-byte, 1-byte-extended and 2-byte-extended
 * option headers alike) is a path looked up as usual: 4.04. */
TEST(uri_path_over_255_bytes_is_4_02_and_up_to_255_is_looked_up) {
  char diag[64];
  static const size_t ok[] = {0, 1, 12, 13, 14, 254, 255};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    CHECK_INT_EQ(get_with_path_of(ok[i], diag, sizeof(diag)),
                 COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(get_with_path_of(256, diag, sizeof(diag)),
               COAP_RESPONSE_CODE_BAD_OPTION);
  CHECK_STR_EQ(diag, "Bad critical option 11");
  CHECK_INT_EQ(hello_calls, 0);
}

/* ---- responses --------------------------------------------------------- */

typedef enum { VIA_ACK, VIA_CON, VIA_NON } path_t;

static coap_session_t *client(coap_context_t *ctx) {
  coap_address_t a = h_peer(5683);
  return coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
}

static coap_pdu_t *client_get(coap_session_t *s, coap_pdu_type_t type) {
  coap_pdu_t *p = coap_new_pdu(type, COAP_REQUEST_CODE_GET, s);
  uint8_t tok[8];
  size_t tlen;
  coap_session_new_token(s, &tlen, tok);
  coap_add_token(p, tlen, tok);
  coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"hello");
  return p;
}

/* A 2.05 answering datagram @i of the log, carrying option @num. */
static coap_pdu_t *answer_with(int i, coap_pdu_type_t type, coap_mid_t mid,
                               uint16_t num, size_t len, int twice) {
  coap_pdu_t *req = h_parse(i);
  coap_pdu_t *r = coap_pdu_init(type, COAP_RESPONSE_CODE_CONTENT, mid, 1024);
  coap_bin_const_t t = coap_pdu_get_token(req);
  coap_add_token(r, t.length, t.s);
  coap_delete_pdu(req);
  coap_add_option(r, num, len, val);
  if (twice)
    coap_add_option(r, num, len, val);
  coap_add_data(r, 2, (const uint8_t *)"ok");
  return r;
}

/*
 * Sends a GET and answers it along @path with a 2.05 carrying option @num.
 * Returns 1 if the response reached the application, 0 if it was rejected,
 * after checking what went on the wire for each.
 */
static void run_response(path_t path, uint16_t num, size_t len, int twice,
                         int register_it, int *delivered_out) {
  coap_context_t *ctx = context();
  *delivered_out = -1;
  if (register_it)
    coap_register_option(ctx, num);
  coap_session_t *c = client(ctx);
  coap_pdu_type_t rtype = path == VIA_NON ? COAP_MESSAGE_NON : COAP_MESSAGE_CON;
  coap_mid_t mid = coap_send(c, client_get(c, rtype));
  if (path == VIA_CON) {
    const uint8_t empty_ack[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
    h_feed_raw(c, empty_ack, 4);
  }
  CHECK_INT_EQ(h_nsent, 1);
  if (path == VIA_ACK)
    h_feed(c, answer_with(0, COAP_MESSAGE_ACK, mid, num, len, twice));
  else
    h_feed(c,
           answer_with(0, path == VIA_CON ? COAP_MESSAGE_CON : COAP_MESSAGE_NON,
                       0x2222, num, len, twice));
  int delivered = response_calls == 1;
  *delivered_out = delivered;
  CHECK_INT_EQ(response_calls, delivered ? 1 : 0);
  if (!delivered) {
    CHECK_INT_EQ(bad_packets, 1);
    if (path == VIA_ACK) {
      /* Ignored: nothing sent back, the request is still unacknowledged. */
      CHECK_INT_EQ(h_nsent, 1);
      CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 1);
      CHECK_INT_EQ(nack_calls, 0);
    } else {
      /* Rejected with an RST, and the request fails at once. */
      CHECK_INT_EQ(h_nsent, 2);
      CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, "\x70\x00\x22\x22",
                   4);
      CHECK_INT_EQ(nack_calls, 1);
      CHECK_INT_EQ(last_nack, COAP_NACK_BAD_RESPONSE);
      CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
    }
  } else {
    CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_token), 0);
    CHECK_INT_EQ(nack_calls, 0);
  }
  coap_session_release(c);
  h_free(ctx);
}

static int response_delivered(path_t path, uint16_t num, size_t len, int twice,
                              int register_it) {
  int delivered;
  run_response(path, num, len, twice, register_it, &delivered);
  return delivered;
}

/* The kinds of option a response must not carry unrecognized, each on
 * every path. */
static const struct {
  uint16_t num;
  uint8_t len, twice;
} rejected[] = {
    {65001, 1, 0},              /* unknown critical (the issue's) */
    {2049, 0, 0},               /* another unknown critical */
    {COAP_OPTION_OSCORE, 1, 0}, /* known elsewhere, not here */
    {128, 1, 0},
    {132, 0, 0},
    {136, 2, 0},
    {140, 1, 0},                       /* reserved */
    {COAP_OPTION_URI_HOST, 0, 0},      /* critical, length below range */
    {COAP_OPTION_BLOCK2, 4, 0},        /* critical, length above range */
    {COAP_OPTION_IF_NONE_MATCH, 1, 0}, /* must be empty */
    {COAP_OPTION_BLOCK2, 1, 1},        /* non-repeatable, repeated */
    {COAP_OPTION_URI_PORT, 2, 1},
};

static const struct {
  uint16_t num;
  uint8_t len, twice;
} accepted[] = {
    {65000, 1, 0},                      /* unknown elective */
    {0, 1, 0},                          /* reserved, even */
    {130, 1, 0},                        /* between the reserved numbers */
    {COAP_OPTION_MAXAGE, 5, 0},         /* elective, length above range */
    {COAP_OPTION_CONTENT_FORMAT, 1, 1}, /* elective, repeated */
    {COAP_OPTION_ETAG, 4, 1},           /* repeatable */
    {COAP_OPTION_BLOCK2, 1, 0},         /* critical and fine */
};

TEST(piggybacked_response_with_unrecognized_critical_option_is_ignored) {
  for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
    if (response_delivered(VIA_ACK, rejected[i].num, rejected[i].len,
                           rejected[i].twice, 0))
      CHECK_INT_EQ(rejected[i].num, -1); /* names the one that got through */
  }
}

TEST(separate_con_response_with_unrecognized_critical_option_gets_rst) {
  for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
    if (response_delivered(VIA_CON, rejected[i].num, rejected[i].len,
                           rejected[i].twice, 0))
      CHECK_INT_EQ(rejected[i].num, -1);
  }
}

TEST(non_response_with_unrecognized_critical_option_gets_rst) {
  for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
    if (response_delivered(VIA_NON, rejected[i].num, rejected[i].len,
                           rejected[i].twice, 0))
      CHECK_INT_EQ(rejected[i].num, -1);
  }
}

TEST(response_with_only_elective_or_valid_options_is_delivered) {
  for (path_t p = VIA_ACK; p <= VIA_NON; p++)
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
      if (!response_delivered(p, accepted[i].num, accepted[i].len,
                              accepted[i].twice, 0))
        CHECK_INT_EQ(accepted[i].num * 10 + (int)p, -1);
}

TEST(response_with_registered_critical_option_is_delivered) {
  for (path_t p = VIA_ACK; p <= VIA_NON; p++) {
    CHECK_INT_EQ(response_delivered(p, 65001, 1, 0, 1), 1);
    CHECK_INT_EQ(response_delivered(p, 128, 1, 0, 1), 1);
  }
}

/* The ACK is ignored, so the request goes on being retransmitted; a good
 * answer to a retransmission is still taken, and if none comes the NACK
 * says the responses were bad. */
TEST(rejected_piggybacked_response_keeps_request_retransmitted) {
  coap_context_t *ctx = context();
  coap_session_t *c = client(ctx);
  coap_mid_t mid = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  h_feed(c, answer_with(0, COAP_MESSAGE_ACK, mid, 65001, 1, 0));
  CHECK_INT_EQ(response_calls, 0);
  h_advance(ctx, 3 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2); /* retransmitted */
  h_feed(c, answer_with(0, COAP_MESSAGE_ACK, mid, 65000, 1, 0));
  CHECK_INT_EQ(response_calls, 1);
  CHECK_INT_EQ(nack_calls, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->exchanges_mid), 0);
  coap_session_release(c);
  h_free(ctx);

  ctx = context();
  c = client(ctx);
  mid = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  for (int i = 0; i < 200 && nack_calls == 0; i++) {
    h_feed(c, answer_with(0, COAP_MESSAGE_ACK, mid, 140, 1, 0));
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  }
  CHECK_INT_EQ(response_calls, 0);
  CHECK_INT_EQ(h_nsent, 5); /* first send + MAX_RETRANSMIT */
  CHECK_INT_EQ(nack_calls, 1);
  CHECK_INT_EQ(last_nack, COAP_NACK_BAD_RESPONSE);
  coap_session_release(c);
  h_free(ctx);
}

/* A duplicate of a rejected CON response is rejected again without a
 * second NACK. */
TEST(duplicate_of_rejected_con_response_gets_rst_again) {
  coap_context_t *ctx = context();
  coap_session_t *c = client(ctx);
  coap_mid_t mid = coap_send(c, client_get(c, COAP_MESSAGE_CON));
  const uint8_t empty_ack[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
  h_feed_raw(c, empty_ack, 4);
  h_feed(c, answer_with(0, COAP_MESSAGE_CON, 0x3333, 65001, 1, 0));
  h_feed(c, answer_with(0, COAP_MESSAGE_CON, 0x3333, 65001, 1, 0));
  CHECK_INT_EQ(h_nsent, 3);
  CHECK_MEM_EQ(h_sent_log[2].data, h_sent_log[2].len, "\x70\x00\x33\x33", 4);
  CHECK_INT_EQ(response_calls, 0);
  CHECK_INT_EQ(nack_calls, 1);
  coap_session_release(c);
  h_free(ctx);
}

/* ---- error responses ---------------------------------------------------- */

/* A CON request with a token, Uri-Path, Content-Format, Hop-Limit, OSCORE,
 * an unknown critical option and a payload. */
static coap_pdu_t *full_request(coap_pdu_type_t type) {
  coap_pdu_t *p = coap_pdu_init(type, COAP_REQUEST_CODE_POST, 0x1234, 1024);
  coap_add_token(p, 3, (const uint8_t *)"tok");
  coap_add_option(p, COAP_OPTION_OSCORE, 1, val);
  coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"hello");
  coap_add_option(p, COAP_OPTION_CONTENT_FORMAT, 1, val);
  coap_add_option(p, COAP_OPTION_HOP_LIMIT, 1, val);
  coap_add_option(p, 2049, 2, val);
  coap_add_data(p, 4, (const uint8_t *)"body");
  return p;
}

static int has_option(const coap_pdu_t *p, uint16_t num) {
  coap_opt_iterator_t it;
  return coap_check_option(p, num, &it) != NULL;
}

TEST(error_response_copies_selected_options_but_never_the_stripped_ones) {
  coap_pdu_t *req = full_request(COAP_MESSAGE_CON);
  coap_opt_filter_t f;
  coap_option_filter_clear(&f);
  static const uint16_t asked[] = {COAP_OPTION_OSCORE, COAP_OPTION_URI_PATH,
                                   COAP_OPTION_CONTENT_FORMAT,
                                   COAP_OPTION_HOP_LIMIT, 2049};
  for (size_t i = 0; i < 5; i++)
    coap_option_filter_set(&f, asked[i]);
  coap_pdu_t *r =
      coap_new_error_response(req, COAP_RESPONSE_CODE_BAD_OPTION, &f);
  CHECK_NOT_NULL(r);
  CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_ACK);
  CHECK_INT_EQ(coap_pdu_get_mid(r), 0x1234);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_BAD_OPTION);
  coap_bin_const_t t = coap_pdu_get_token(r);
  CHECK_MEM_EQ(t.s, t.length, "tok", 3);
  CHECK_INT_EQ(has_option(r, COAP_OPTION_URI_PATH), 1);
  CHECK_INT_EQ(has_option(r, 2049), 1);
  CHECK_INT_EQ(has_option(r, COAP_OPTION_CONTENT_FORMAT), 0);
  CHECK_INT_EQ(has_option(r, COAP_OPTION_HOP_LIMIT), 0);
  CHECK_INT_EQ(has_option(r, COAP_OPTION_OSCORE), 0);
  size_t len;
  const uint8_t *d;
  CHECK_INT_EQ(coap_get_data(r, &len, &d), 1);
  CHECK_MEM_EQ(d, len, "Bad Option", 10);
  /* The caller's filter is not changed. */
  for (size_t i = 0; i < 5; i++)
    CHECK_INT_EQ(coap_option_filter_get(&f, asked[i]), 1);
  coap_delete_pdu(r);
  coap_delete_pdu(req);
}

TEST(error_response_to_non_is_non_and_without_filter_has_no_options) {
  coap_pdu_t *req = full_request(COAP_MESSAGE_NON);
  coap_pdu_t *r =
      coap_new_error_response(req, COAP_RESPONSE_CODE_NOT_FOUND, NULL);
  CHECK_NOT_NULL(r);
  CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_NON);
  coap_opt_iterator_t it;
  coap_option_iterator_init(r, &it, COAP_OPT_ALL);
  CHECK_NULL(coap_option_next(&it));
  size_t len;
  const uint8_t *d;
  CHECK_INT_EQ(coap_get_data(r, &len, &d), 1);
  CHECK_MEM_EQ(d, len, "Not Found", 9);
  coap_delete_pdu(r);
  coap_delete_pdu(req);
}

/* RFC 8768: the 5.08 payload is for proxy addresses, not a phrase. */
TEST(error_response_5_08_has_no_phrase) {
  coap_pdu_t *req = full_request(COAP_MESSAGE_CON);
  coap_pdu_t *r = coap_new_error_response(req, COAP_RESPONSE_CODE(508), NULL);
  CHECK_NOT_NULL(r);
  size_t len;
  const uint8_t *d;
  CHECK_INT_EQ(coap_get_data(r, &len, &d), 0);
  coap_delete_pdu(r);
  r = coap_new_error_response(req, COAP_RESPONSE_CODE(505), NULL);
  CHECK_INT_EQ(coap_get_data(r, &len, &d), 1);
  CHECK_MEM_EQ(d, len, "Proxying Not Supported", 22);
  coap_delete_pdu(r);
  coap_delete_pdu(req);
}

TEST(send_rst_answers_con_and_non_only) {
  coap_context_t *ctx = context();
  coap_session_t *s = h_server_session(40000);
  static const struct {
    coap_pdu_type_t type;
    int sent;
  } cases[] = {{COAP_MESSAGE_CON, 1},
               {COAP_MESSAGE_NON, 1},
               {COAP_MESSAGE_ACK, 0},
               {COAP_MESSAGE_RST, 0}};
  for (size_t i = 0; i < 4; i++) {
    coap_pdu_t *m = coap_pdu_init(cases[i].type, COAP_REQUEST_CODE_GET,
                                  (coap_mid_t)(0x4000 + i), 64);
    int before = h_nsent;
    coap_mid_t mid = coap_send_rst(s, m);
    if (cases[i].sent) {
      CHECK_INT_EQ(mid, 0x4000 + (int)i);
      CHECK_INT_EQ(h_nsent, before + 1);
      const uint8_t rst[4] = {0x70, 0, 0x40, (uint8_t)i};
      CHECK_MEM_EQ(h_sent_log[before].data, h_sent_log[before].len, rst, 4);
    } else {
      CHECK_INT_EQ(mid, COAP_INVALID_MID);
      CHECK_INT_EQ(h_nsent, before);
    }
    coap_delete_pdu(m);
  }
  coap_pdu_t *non =
      coap_pdu_init(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 0x4100, 64);
  CHECK_INT_EQ(coap_send_ack(s, non), COAP_INVALID_MID); /* ACK: CON only */
  coap_delete_pdu(non);
  h_free(ctx);
}

int main(void) {
  RUN(request_with_reserved_location_numbers_is_4_02);
  RUN(request_with_elective_neighbours_of_reserved_numbers_is_served);
  RUN(request_with_reserved_option_0_is_served);
  RUN(registered_reserved_number_is_accepted);
  RUN(bad_option_reply_names_the_first_unrecognized_critical_option);
  RUN(uri_path_rule_is_the_one_the_dispatcher_assumes);
  RUN(uri_path_over_255_bytes_is_4_02_and_up_to_255_is_looked_up);
  RUN(piggybacked_response_with_unrecognized_critical_option_is_ignored);
  RUN(separate_con_response_with_unrecognized_critical_option_gets_rst);
  RUN(non_response_with_unrecognized_critical_option_gets_rst);
  RUN(response_with_only_elective_or_valid_options_is_delivered);
  RUN(response_with_registered_critical_option_is_delivered);
  RUN(rejected_piggybacked_response_keeps_request_retransmitted);
  RUN(duplicate_of_rejected_con_response_gets_rst_again);
  RUN(error_response_copies_selected_options_but_never_the_stripped_ones);
  RUN(error_response_to_non_is_non_and_without_filter_has_no_options);
  RUN(error_response_5_08_has_no_phrase);
  RUN(send_rst_answers_con_and_non_only);
  return TEST_SUMMARY();
}
