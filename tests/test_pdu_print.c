/*
 * test_pdu_print.c -- coap_show_pdu(): the exact lines, level filtering,
 * both outputs, truncation and odd option values.
 */
#include <fcntl.h>
#include <unistd.h>

#include "coap3/coap.h"
#include "debug.h"
#include "test.h"

#define U8(s) ((const uint8_t *)(s))

/* ---- capture through a log handler ---- */

static char captured[4096];
static int captures;
static coap_log_t captured_level;

static void capture(coap_log_t level, const char *message) {
  snprintf(captured, sizeof(captured), "%s", message);
  captured_level = level;
  captures++;
}

/* Log mode at DEBUG with the capturing handler; clears the last capture. */
static void use_handler(void) {
  coap_set_log_level(COAP_LOG_DEBUG);
  coap_set_show_pdu_output(0);
  coap_set_log_handler(capture);
  captured[0] = '\0';
  captures = 0;
}

/* Shows @pdu at DEBUG and returns the captured line. */
static const char *show(const coap_pdu_t *pdu) {
  use_handler();
  coap_show_pdu(COAP_LOG_DEBUG, pdu);
  return captured;
}

static coap_pdu_t *new_pdu(coap_pdu_type_t type, coap_pdu_code_t code,
                           coap_mid_t mid) {
  return coap_pdu_init(type, code, mid, 0);
}

/* ---- the examples of the format ---- */

TEST(con_get_with_token_path_and_query) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0x7d34);
  CHECK_NOT_NULL(p);
  CHECK(coap_add_token(p, 1, U8("\x01")));
  CHECK(coap_add_option(p, COAP_OPTION_URI_PATH, 11, U8("temperature")));
  CHECK(coap_add_option(p, COAP_OPTION_URI_QUERY, 3, U8("a=1")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:GET i:7d34 {01} "
                        "[ Uri-Path:temperature, Uri-Query:a=1 ]\n");
  CHECK_INT_EQ(captures, 1);
  CHECK_INT_EQ(captured_level, COAP_LOG_DEBUG);
  coap_delete_pdu(p);
}

TEST(ack_205_content_format_text_payload) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_ACK, COAP_RESPONSE_CODE(205), 0x7d34);
  CHECK(coap_add_token(p, 2, U8("\xab\x01")));
  CHECK_INT_EQ(coap_add_option(p, COAP_OPTION_CONTENT_FORMAT, 0, NULL), 1);
  CHECK(coap_add_data(p, 6, U8("22.5 C")));
  CHECK_STR_EQ(show(p), "v:1 t:ACK c:2.05 i:7d34 {ab01} "
                        "[ Content-Format:text/plain ] :: '22.5 C'\n");
  coap_delete_pdu(p);
}

TEST(empty_ack) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_ACK, COAP_EMPTY_CODE, 0x0012);
  CHECK_STR_EQ(show(p), "v:1 t:ACK c:0.00 i:0012 {} [ ]\n");
  coap_delete_pdu(p);
}

/* RFC 8323 5.2: option numbers are per signal code; named as libcoap
 * names them, so that 4 in a CSM is not taken for an ETag. */
TEST(signal_options_named_per_code) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_SIGNALING_CODE_CSM, 0);
  uint8_t mms[2] = {0x10, 0x00};
  coap_add_option(p, 2, 2, mms);
  coap_add_option(p, 4, 0, NULL);
  CHECK_STR_EQ(show(p), "v:1 t:CON c:CSM i:0000 {} [ Max-Message-Size:4096, "
                        "Block-Wise-Transfer: ]\n");
  coap_delete_pdu(p);
  p = new_pdu(COAP_MESSAGE_CON, COAP_SIGNALING_CODE_RELEASE, 0);
  coap_add_option(p, 2, 3, (const uint8_t *)"a:1");
  uint8_t hold = 30;
  coap_add_option(p, 4, 1, &hold);
  CHECK_STR_EQ(show(p), "v:1 t:CON c:Release i:0000 {} [ "
                        "Alternative-Address:a:1, Hold-Off:30 ]\n");
  coap_delete_pdu(p);
  p = new_pdu(COAP_MESSAGE_CON, COAP_SIGNALING_CODE_ABORT, 0);
  uint8_t bad = 9;
  coap_add_option(p, 2, 1, &bad);
  coap_add_option(p, 12, 0, NULL); /* no Content-Format in a signal */
  CHECK_STR_EQ(show(p),
               "v:1 t:CON c:Abort i:0000 {} [ Bad-CSM-Option:9, 12: ]\n");
  coap_delete_pdu(p);
}

TEST(type_and_code_names) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_NON, COAP_REQUEST_CODE_IPATCH, 0xffff);
  CHECK_STR_EQ(show(p), "v:1 t:NON c:iPATCH i:ffff {} [ ]\n");
  coap_pdu_set_type(p, COAP_MESSAGE_RST);
  coap_pdu_set_code(p, COAP_RESPONSE_CODE(404));
  CHECK_STR_EQ(show(p), "v:1 t:RST c:4.04 i:ffff {} [ ]\n");
  coap_pdu_set_code(p, COAP_SIGNALING_CODE_PING);
  CHECK_STR_EQ(show(p), "v:1 t:RST c:Ping i:ffff {} [ ]\n");
  coap_pdu_set_code(p, (coap_pdu_code_t)0xff);
  CHECK_STR_EQ(show(p), "v:1 t:RST c:7.31 i:ffff {} [ ]\n");
  coap_delete_pdu(p);
}

TEST(eight_byte_token) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, 1);
  CHECK(coap_add_token(p, 8, U8("\x00\x11\x22\x33\x44\x55\x66\xff")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:POST i:0001 {00112233445566ff} [ ]\n");
  coap_delete_pdu(p);
}

/* ---- option values ---- */

TEST(block_options) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_ACK, COAP_RESPONSE_CODE(205), 2);
  /* Block2 3/_/64: NUM 3, M 0, SZX 2; Block1 1/M/1024: NUM 1, M, SZX 6. */
  CHECK(coap_add_option(p, COAP_OPTION_BLOCK2, 1, U8("\x32")));
  CHECK(coap_add_option(p, COAP_OPTION_BLOCK1, 1, U8("\x1e")));
  CHECK_STR_EQ(show(p), "v:1 t:ACK c:2.05 i:0002 {} "
                        "[ Block2:3/_/64, Block1:1/M/1024 ]\n");
  coap_delete_pdu(p);
}

TEST(block_option_wide_number_and_bert) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 3);
  /* Three bytes: NUM 0x12345, M, SZX 7 (BERT). Empty Block2: 0/_/16. */
  CHECK(coap_add_option(p, COAP_OPTION_BLOCK2, 0, NULL));
  CHECK(coap_add_option(p, COAP_OPTION_BLOCK1, 3, U8("\x12\x34\x5f")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:PUT i:0003 {} "
                        "[ Block2:0/_/16, Block1:74565/M/BERT ]\n");
  coap_delete_pdu(p);
}

TEST(uint_options_as_numbers) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 4);
  CHECK(coap_add_option(p, COAP_OPTION_OBSERVE, 0, NULL));
  CHECK(coap_add_option(p, COAP_OPTION_URI_PORT, 2, U8("\x16\x33")));
  CHECK(coap_add_option(p, COAP_OPTION_MAXAGE, 1, U8("\x3c")));
  CHECK(coap_add_option(p, COAP_OPTION_ACCEPT, 1, U8("\x32")));
  CHECK(coap_add_option(p, COAP_OPTION_SIZE2, 4, U8("\x00\x01\x00\x00")));
  CHECK(coap_add_option(p, COAP_OPTION_SIZE1, 2, U8("\x04\xd2")));
  CHECK(coap_add_option(p, COAP_OPTION_NORESPONSE, 1, U8("\x1a")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:GET i:0004 {} [ Observe:0, "
                        "Uri-Port:5683, Max-Age:60, Accept:application/json, "
                        "Size2:65536, Size1:1234, No-Response:26 ]\n");
  coap_delete_pdu(p);
}

TEST(unknown_content_format_is_a_number) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 5);
  CHECK(coap_add_option(p, COAP_OPTION_CONTENT_FORMAT, 2, U8("\x27\x0f")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:GET i:0005 {} [ Content-Format:9999 ]\n");
  coap_delete_pdu(p);
}

TEST(string_and_opaque_options) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 6);
  CHECK(coap_add_option(p, COAP_OPTION_IF_MATCH, 0, NULL));
  CHECK(coap_add_option(p, COAP_OPTION_URI_HOST, 9, U8("localhost")));
  CHECK(coap_add_option(p, COAP_OPTION_ETAG, 4, U8("\xde\xad\xbe\xef")));
  CHECK(coap_add_option(p, COAP_OPTION_IF_NONE_MATCH, 0, NULL));
  CHECK(coap_add_option(p, COAP_OPTION_LOCATION_PATH, 1, U8("x")));
  CHECK(coap_add_option(p, COAP_OPTION_PROXY_URI, 12, U8("coap://h/a b")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:GET i:0006 {} [ If-Match:0x, "
                        "Uri-Host:localhost, ETag:0xdeadbeef, If-None-Match:, "
                        "Location-Path:x, Proxy-Uri:coap://h/a b ]\n");
  coap_delete_pdu(p);
}

TEST(unknown_option_number) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 7);
  CHECK(coap_add_option(p, 65000, 2, U8("\x01\x41")));
  CHECK(coap_add_option(p, 65001, 0, NULL));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:GET i:0007 {} "
                        "[ 65000:\\x01\\x41, 65001: ]\n");
  coap_delete_pdu(p);
}

/* ---- malformed or odd values: shown, never over-read ---- */

TEST(malformed_string_option_bytes_escaped) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 8);
  CHECK(coap_add_option(p, COAP_OPTION_URI_PATH, 4, U8("a\x00\n\xff")));
  CHECK_STR_EQ(show(p),
               "v:1 t:CON c:GET i:0008 {} [ Uri-Path:a\\x00\\x0A\\xFF ]\n");
  coap_delete_pdu(p);
}

TEST(malformed_uint_too_long_shown_as_opaque) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 9);
  CHECK(coap_add_option(p, COAP_OPTION_CONTENT_FORMAT, 5,
                        U8("\x01\x02\x03\x04\x05")));
  CHECK(coap_add_option(p, COAP_OPTION_MAXAGE, 5, U8("\x01\x02\x03\x04\x05")));
  CHECK_STR_EQ(show(p),
               "v:1 t:CON c:GET i:0009 {} [ "
               "Content-Format:0x0102030405, Max-Age:0x0102030405 ]\n");
  coap_delete_pdu(p);
}

TEST(malformed_block_too_long_shown_as_opaque) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 10);
  CHECK(coap_add_option(p, COAP_OPTION_BLOCK2, 4, U8("\x01\x02\x03\x04")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:GET i:000a {} [ Block2:0x01020304 ]\n");
  coap_delete_pdu(p);
}

TEST(malformed_type_value_shows_question_marks) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 11);
  coap_pdu_set_type(p, (coap_pdu_type_t)7);
  CHECK_STR_EQ(show(p), "v:1 t:??? c:GET i:000b {} [ ]\n");
  coap_delete_pdu(p);
}

TEST(parsed_datagram) {
  /* CON GET mid 0x7d34, token 0x01, Uri-Path "temp", payload "hi". */
  static const uint8_t wire[] = {0x41, 0x01, 0x7d, 0x34, 0x01, 0xb4, 't',
                                 'e',  'm',  'p',  0xff, 'h',  'i'};
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  CHECK(coap_pdu_parse(COAP_PROTO_UDP, wire, sizeof(wire), p));
  CHECK_STR_EQ(show(p),
               "v:1 t:CON c:GET i:7d34 {01} [ Uri-Path:temp ] :: 'hi'\n");
  coap_delete_pdu(p);
}

/* ---- payloads ---- */

TEST(binary_payload_by_content_format) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_ACK, COAP_RESPONSE_CODE(205), 12);
  CHECK(coap_add_option(p, COAP_OPTION_CONTENT_FORMAT, 1, U8("\x2a")));
  CHECK(coap_add_data(p, 3, U8("AB\xff")));
  CHECK_STR_EQ(show(p), "v:1 t:ACK c:2.05 i:000c {} "
                        "[ Content-Format:application/octet-stream ] :: "
                        "binary data length 3 <<4142ff>>\n");
  coap_delete_pdu(p);
}

TEST(binary_payload_by_first_byte) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 13);
  CHECK(coap_add_data(p, 2, U8("\x00z")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:PUT i:000d {} [ ] :: "
                        "binary data length 2 <<007a>>\n");
  coap_delete_pdu(p);
}

TEST(text_payload_unprintable_bytes_escaped) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 14);
  CHECK(coap_add_data(p, 4, U8("ok\r\n")));
  CHECK_STR_EQ(show(p), "v:1 t:CON c:PUT i:000e {} [ ] :: 'ok\\x0D\\x0A'\n");
  coap_delete_pdu(p);
}

TEST(long_payload_truncated_and_marked) {
  static uint8_t big[3000];
  memset(big, 'a', sizeof(big));
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 15);
  CHECK(coap_add_data(p, sizeof(big), big));
  const char *line = show(p);
  size_t n = strlen(line);
  CHECK(n <= 2047);
  CHECK(n > 2000);
  const char *tail = " ...(truncated)\n";
  CHECK_STR_EQ(line + n - strlen(tail), tail);
  CHECK(strncmp(line, "v:1 t:CON c:PUT i:000f {} [ ] :: 'aaaa", 38) == 0);
  coap_delete_pdu(p);
}

TEST(long_binary_payload_truncated_between_bytes) {
  static uint8_t big[3000];
  memset(big, 0xab, sizeof(big));
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 16);
  CHECK(coap_add_data(p, sizeof(big), big));
  const char *line = show(p);
  size_t n = strlen(line);
  const char *tail = "ab ...(truncated)\n";
  CHECK(n <= 2047);
  CHECK_STR_EQ(line + n - strlen(tail), tail);
  coap_delete_pdu(p);
}

/* ---- filtering and outputs ---- */

TEST(level_filtering) {
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 17);
  use_handler();
  coap_set_log_level(COAP_LOG_INFO);
  coap_show_pdu(COAP_LOG_DEBUG, p);
  CHECK_INT_EQ(captures, 0);
  coap_show_pdu(COAP_LOG_INFO, p);
  CHECK_INT_EQ(captures, 1);
  CHECK_INT_EQ(captured_level, COAP_LOG_INFO);
  coap_set_log_level(COAP_LOG_EMERG);
  coap_show_pdu(COAP_LOG_ALERT, p);
  CHECK_INT_EQ(captures, 1);
  coap_set_log_level(COAP_LOG_WARN);
  coap_delete_pdu(p);
}

TEST(null_pdu_prints_nothing) {
  use_handler();
  coap_show_pdu(COAP_LOG_DEBUG, NULL);
  CHECK_INT_EQ(captures, 0);
}

/*
 * Runs coap_show_pdu(@level, @pdu) in fprintf mode with stdout redirected
 * into a pipe; returns what was written (NUL-terminated in @out).
 */
static int show_to_stdout(coap_log_t level, const coap_pdu_t *pdu, char *out,
                          size_t size) {
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  dup2(fds[1], STDOUT_FILENO);
  close(fds[1]);
  coap_set_show_pdu_output(1);
  coap_show_pdu(level, pdu);
  fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ssize_t n = read(fds[0], out, size - 1);
  close(fds[0]);
  out[n > 0 ? n : 0] = '\0';
  return 0;
}

TEST(fprintf_mode_writes_stdout) {
  char out[4096];
  coap_pdu_t *p = new_pdu(COAP_MESSAGE_NON, COAP_REQUEST_CODE_DELETE, 0xbeef);
  CHECK(coap_add_option(p, COAP_OPTION_URI_PATH, 1, U8("x")));
  use_handler();
  CHECK_INT_EQ(show_to_stdout(COAP_LOG_DEBUG, p, out, sizeof(out)), 0);
  CHECK_STR_EQ(out, "v:1 t:NON c:DELETE i:beef {} [ Uri-Path:x ]\n");
  CHECK_INT_EQ(captures, 0); /* the handler is bypassed */
  coap_set_log_level(COAP_LOG_INFO);
  CHECK_INT_EQ(show_to_stdout(COAP_LOG_DEBUG, p, out, sizeof(out)), 0);
  CHECK_STR_EQ(out, "");
  coap_set_log_level(COAP_LOG_WARN);
  coap_delete_pdu(p);
}

int main(void) {
  RUN(con_get_with_token_path_and_query);
  RUN(ack_205_content_format_text_payload);
  RUN(empty_ack);
  RUN(type_and_code_names);
  RUN(eight_byte_token);
  RUN(block_options);
  RUN(block_option_wide_number_and_bert);
  RUN(uint_options_as_numbers);
  RUN(unknown_content_format_is_a_number);
  RUN(string_and_opaque_options);
  RUN(unknown_option_number);
  RUN(malformed_string_option_bytes_escaped);
  RUN(malformed_uint_too_long_shown_as_opaque);
  RUN(malformed_block_too_long_shown_as_opaque);
  RUN(malformed_type_value_shows_question_marks);
  RUN(parsed_datagram);
  RUN(binary_payload_by_content_format);
  RUN(binary_payload_by_first_byte);
  RUN(text_payload_unprintable_bytes_escaped);
  RUN(long_payload_truncated_and_marked);
  RUN(long_binary_payload_truncated_between_bytes);
  RUN(level_filtering);
  RUN(signal_options_named_per_code);
  RUN(null_pdu_prints_nothing);
  RUN(fprintf_mode_writes_stdout);
  coap_set_log_handler(NULL);
  return TEST_SUMMARY();
}
