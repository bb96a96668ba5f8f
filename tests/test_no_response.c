/*
 * test_no_response.c -- the No-Response option (RFC 7967): the classes a
 * request asks not to hear about are not sent, piggybacked or separate; a
 * CON still gets its Empty ACK.
 */
#include "test.h"

#include "core_harness.h"

static int handler_calls;

static void hnd_code(coap_pdu_t *resp, coap_pdu_code_t code) {
  handler_calls++;
  coap_pdu_set_code(resp, code);
  coap_add_data(resp, 2, (const uint8_t *)"ok");
}

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  hnd_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

static void hnd_busy(coap_resource_t *r, coap_session_t *s,
                     const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  hnd_code(resp, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
}

static void hnd_changed(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  hnd_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

/* First call: a separate response in one second; then the code the query
 * names (a 2.05 without a query). */
static void hnd_later(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r;
  if (!coap_find_async(s, coap_pdu_get_token(req))) {
    coap_register_async(s, req, COAP_TICKS_PER_SECOND);
    return;
  }
  int n = q ? atoi((const char *)q->s) : 205;
  hnd_code(resp, (coap_pdu_code_t)COAP_RESPONSE_CODE(n));
}

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  static const struct {
    const char *path;
    coap_method_handler_t h;
  } res[] = {{"hello", hnd_hello},
             {"busy", hnd_busy},
             {"changed", hnd_changed},
             {"later", hnd_later}};
  for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
    coap_resource_t *r =
        coap_resource_init(coap_make_str_const(res[i].path), 0);
    coap_register_handler(r, COAP_REQUEST_GET, res[i].h);
    coap_add_resource(ctx, r);
  }
  handler_calls = 0;
  return ctx;
}

/* GET /@path (a query after '?') with No-Response @value in @vlen bytes
 * (no option when @vlen < 0). */
static coap_pdu_t *get(coap_pdu_type_t type, coap_mid_t mid, const char *path,
                       const char *query, unsigned value, int vlen) {
  coap_pdu_t *p = h_request(type, COAP_REQUEST_CODE_GET, mid, 9, path);
  if (query)
    coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(query),
                    (const uint8_t *)query);
  if (vlen >= 0) {
    uint8_t v[2] = {(uint8_t)(value >> 8), (uint8_t)value};
    coap_add_option(p, COAP_OPTION_NORESPONSE, (size_t)vlen, v + 2 - vlen);
  }
  return p;
}

/* What datagram @i is: its type << 8 | code, or -1. */
static int sent_kind(int i) {
  coap_pdu_t *r = h_parse(i);
  int k = r ? (int)(coap_pdu_get_type(r) << 8 | coap_pdu_get_code(r)) : -1;
  coap_delete_pdu(r);
  return k;
}

#define KIND(type, code) ((type) << 8 | (code))

/* Resource, value and whether the response must go out. */
static const struct {
  const char *path;
  unsigned value;
  int sent;
} cases[] = {
    {"hello", 0, 1},    /* 0: interested in everything */
    {"hello", 2, 0},    /* 2.xx suppressed */
    {"changed", 2, 0},  /* any 2.xx code */
    {"hello", 8, 1},    /* only 4.xx suppressed */
    {"hello", 16, 1},   /* only 5.xx suppressed */
    {"hello", 26, 0},   /* all three */
    {"hello", 0x05, 1}, /* bits of no response class */
    {"nope", 8, 0},     /* a 4.04 the library makes */
    {"nope", 2, 1},     {"nope", 24, 0},
    {"busy", 16, 0}, /* 5.03 from the handler */
    {"busy", 10, 1},    {"busy", 0x1F, 0},
};

TEST(suppressed_piggybacked_response_becomes_empty_ack) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    coap_context_t *ctx = server();
    coap_session_t *s = h_server_session(40000);
    coap_mid_t mid = (coap_mid_t)(0x100 + i);
    h_feed(s,
           get(COAP_MESSAGE_CON, mid, cases[i].path, NULL, cases[i].value, 1));
    CHECK_INT_EQ(h_nsent, 1);
    if (cases[i].sent) {
      CHECK_INT_EQ(sent_kind(0) >> 8, COAP_MESSAGE_ACK);
      CHECK(h_sent_log[0].len > 4);
    } else {
      const uint8_t ack[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
      CHECK_MEM_EQ(h_sent_log[0].data, h_sent_log[0].len, ack, 4);
    }
    h_free(ctx);
  }
}

TEST(suppressed_non_response_is_not_sent) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    coap_context_t *ctx = server();
    coap_session_t *s = h_server_session(40000);
    h_feed(s, get(COAP_MESSAGE_NON, (coap_mid_t)(0x200 + i), cases[i].path,
                  NULL, cases[i].value, 1));
    CHECK_INT_EQ(h_nsent, cases[i].sent ? 1 : 0);
    if (cases[i].sent)
      CHECK_INT_EQ(sent_kind(0) >> 8, COAP_MESSAGE_NON);
    h_free(ctx);
  }
}

/* The empty option is the value 0: nothing suppressed. */
TEST(empty_no_response_option_suppresses_nothing) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, get(COAP_MESSAGE_CON, 1, "hello", NULL, 0, 0));
  CHECK_INT_EQ(sent_kind(0),
               KIND(COAP_MESSAGE_ACK, COAP_RESPONSE_CODE_CONTENT));
  h_free(ctx);
}

/* Two bytes are outside its length range: unrecognized, and elective (258
 * is even), so ignored. */
TEST(over_long_no_response_option_is_ignored) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, get(COAP_MESSAGE_CON, 1, "hello", NULL, 2, 2));
  CHECK_INT_EQ(sent_kind(0),
               KIND(COAP_MESSAGE_ACK, COAP_RESPONSE_CODE_CONTENT));
  CHECK_INT_EQ(handler_calls, 1);
  h_free(ctx);
}

TEST(duplicate_of_suppressed_con_gets_empty_ack_again) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, get(COAP_MESSAGE_CON, 0x77, "hello", NULL, 2, 1));
  h_feed(s, get(COAP_MESSAGE_CON, 0x77, "hello", NULL, 2, 1));
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, "\x60\x00\x00\x77", 4);
  CHECK_INT_EQ(handler_calls, 1);
  h_free(ctx);
}

/* A separate response (the async machinery) is suppressed the same way,
 * for a CON and for a NON request. */
static void separate_case(coap_pdu_type_t type, const char *query,
                          unsigned value, int sent) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  h_feed(s, get(type, 0x31, "later", query, value, 1));
  int first = type == COAP_MESSAGE_CON ? 1 : 0; /* the Empty ACK */
  CHECK_INT_EQ(h_nsent, first);
  h_advance(ctx, 2 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(handler_calls, 1);
  CHECK_INT_EQ(h_nsent, first + (sent ? 1 : 0));
  if (sent)
    CHECK_INT_EQ(sent_kind(first) >> 8, type);
  /* Nothing is kept for retransmission when nothing was sent. */
  for (int t = 0; t < 60; t++)
    h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent,
               first + (sent ? (type == COAP_MESSAGE_CON ? 5 : 1) : 0));
  h_free(ctx);
}

TEST(suppressed_separate_response_is_not_sent) {
  separate_case(COAP_MESSAGE_CON, NULL, 2, 0);
  separate_case(COAP_MESSAGE_NON, NULL, 2, 0);
  separate_case(COAP_MESSAGE_CON, "404", 8, 0);
  separate_case(COAP_MESSAGE_NON, "500", 16, 0);
  separate_case(COAP_MESSAGE_CON, "503", 26, 0);
}

TEST(separate_response_of_other_class_is_sent) {
  separate_case(COAP_MESSAGE_CON, NULL, 8, 1);
  separate_case(COAP_MESSAGE_NON, NULL, 16, 1);
  separate_case(COAP_MESSAGE_CON, "404", 2, 1);
  separate_case(COAP_MESSAGE_NON, "503", 8, 1);
}

int main(void) {
  RUN(suppressed_piggybacked_response_becomes_empty_ack);
  RUN(suppressed_non_response_is_not_sent);
  RUN(empty_no_response_option_suppresses_nothing);
  RUN(over_long_no_response_option_is_ignored);
  RUN(duplicate_of_suppressed_con_gets_empty_ack_again);
  RUN(suppressed_separate_response_is_not_sent);
  RUN(separate_response_of_other_class_is_sent);
  return TEST_SUMMARY();
}
