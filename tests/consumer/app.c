/*
 * app.c -- an application built against the INSTALLED Petrel, the way a
 * libcoap 4.3.4 application is built: #include <coap3/coap.h>, flags from
 * `pkg-config --cflags --libs libcoap-3`, -Wall -Wextra -Werror. It uses
 * the issue-2 API (PDUs, options, optlists, URIs, strings, logging, time,
 * addresses) and a context with a resource, and checks what it gets.
 */
#include <coap3/coap.h>

#include <stdio.h>
#include <string.h>

static int failures;

#define EXPECT(cond)                                                         \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "consumer: %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
      failures++;                                                            \
    }                                                                        \
  } while (0)

static void hnd_get(coap_resource_t *resource, coap_session_t *session,
                    const coap_pdu_t *request, const coap_string_t *query,
                    coap_pdu_t *response) {
  (void)resource, (void)session, (void)request, (void)query;
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
}

static void check_wire_format(void) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                                  0x7d34, 1152);
  EXPECT(pdu != NULL);
  uint8_t token[2] = {0x12, 0x34};
  EXPECT(coap_add_token(pdu, sizeof(token), token) == 1);
  coap_optlist_t *opts = NULL;
  coap_uri_t uri;
  const char *s = "coap://[::1]:5683/temperature?unit=c";
  EXPECT(coap_split_uri((const uint8_t *)s, strlen(s), &uri) == 0);
  EXPECT(uri.port == 5683);
  uint8_t buf[64];
  EXPECT(coap_uri_into_options(&uri, NULL, &opts, 1, buf, sizeof(buf)) == 0);
  EXPECT(coap_add_optlist_pdu(pdu, &opts) == 1);
  coap_delete_optlist(opts);
  EXPECT(coap_add_data(pdu, 4, (const uint8_t *)"22.3") == 1);

  uint8_t wire[64] = {0x42, 0x01, 0x7d, 0x34, 0x12, 0x34};
  coap_pdu_t *parsed = coap_pdu_init(0, 0, 0, 1152);
  EXPECT(coap_pdu_parse(COAP_PROTO_UDP, wire, 6, parsed) == 1);
  EXPECT(coap_pdu_get_mid(parsed) == 0x7d34);
  EXPECT(coap_pdu_get_code(parsed) == COAP_REQUEST_CODE_GET);
  coap_bin_const_t t = coap_pdu_get_token(parsed);
  EXPECT(t.length == 2 && memcmp(t.s, token, 2) == 0);

  coap_opt_iterator_t it;
  EXPECT(coap_check_option(pdu, COAP_OPTION_URI_PATH, &it) != NULL);
  uint8_t var[8];
  EXPECT(coap_encode_var_safe(var, sizeof(var), 256) == 2);
  EXPECT(coap_decode_var_bytes(var, 2) == 256);
  EXPECT(strcmp(coap_response_phrase(COAP_RESPONSE_CODE_NOT_FOUND),
                "Not Found") == 0);
  coap_delete_pdu(parsed);
  coap_delete_pdu(pdu);
}

static void check_support(void) {
  coap_set_log_level(COAP_LOG_WARN);
  EXPECT(coap_get_log_level() == COAP_LOG_WARN);
  coap_tick_t now;
  coap_ticks(&now);
  EXPECT(COAP_TICKS_PER_SECOND > 0);
  coap_address_t a, b;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.size = sizeof(a.addr.sin);
  coap_address_set_port(&a, 5683);
  coap_address_copy(&b, &a);
  EXPECT(coap_address_equals(&a, &b));
  EXPECT(coap_address_get_port(&b) == 5683);
  coap_string_t *str = coap_new_string(4);
  EXPECT(str != NULL);
  coap_delete_string(str);
  EXPECT(coap_make_str_const("abc")->length == 3);
  EXPECT(coap_package_name() != NULL && coap_package_version() != NULL);
}

static void check_context(void) {
  coap_context_t *ctx = coap_new_context(NULL);
  EXPECT(ctx != NULL);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get);
  coap_add_resource(ctx, r);
  EXPECT(coap_get_resource_from_uri_path(ctx, coap_make_str_const("hello")) ==
         r);
  EXPECT(coap_async_is_supported() == 1);
  coap_free_context(ctx);
}

int main(void) {
  coap_startup();
  check_wire_format();
  check_support();
  check_context();
  coap_cleanup();
  if (failures)
    return 1;
  printf("consumer: ok\n");
  return 0;
}
