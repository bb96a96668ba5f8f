/*
 * test_debug.c -- logging levels and handler, address printing, the
 * identity strings and the packet-loss simulator.
 */
#include <arpa/inet.h>

#include "coap3/coap.h"
#include "debug.h"
#include "test.h"

/* ---- a recording handler ---------------------------------------------- */

static int lines;
static coap_log_t last_level;
static char last_message[4096];

static void record(coap_log_t level, const char *message) {
  lines++;
  last_level = level;
  snprintf(last_message, sizeof(last_message), "%s", message);
}

static void reset_log(void) {
  lines = 0;
  last_message[0] = '\0';
  coap_set_log_handler(record);
  coap_set_log_level(COAP_LOG_WARN);
}

static int side_effects;
static int bump(void) {
  return ++side_effects;
}

TEST(default_level_is_warn) {
  coap_set_log_level(COAP_LOG_WARN); /* other tests may have changed it */
  CHECK_INT_EQ(coap_get_log_level(), COAP_LOG_WARN);
  CHECK_INT_EQ(coap_dtls_get_log_level(), COAP_LOG_EMERG);
}

TEST(level_filtering) {
  reset_log();
  coap_log_warn("w %d\n", 1);
  coap_log_err("e %d\n", 2);
  coap_log_notice("n %d\n", 3);
  coap_log_info("i\n");
  coap_log_debug("d\n");
  CHECK_INT_EQ(lines, 2);
  CHECK_STR_EQ(last_message, "e 2\n");
  CHECK_INT_EQ(last_level, COAP_LOG_ERR);
  coap_set_log_level(COAP_LOG_DEBUG);
  coap_log_debug("now %s\n", "seen");
  CHECK_INT_EQ(lines, 3);
  CHECK_STR_EQ(last_message, "now seen\n");
  coap_log_oscore("not yet\n");
  CHECK_INT_EQ(lines, 3);
  coap_set_log_handler(NULL);
}

/* The level test happens before the arguments are evaluated. */
TEST(filtered_arguments_not_evaluated) {
  reset_log();
  side_effects = 0;
  coap_log_debug("%d\n", bump());
  coap_log_info("%d\n", bump());
  coap_log(COAP_LOG_NOTICE, "%d\n", bump());
  CHECK_INT_EQ(side_effects, 0);
  CHECK_INT_EQ(lines, 0);
  coap_log_warn("%d\n", bump());
  CHECK_INT_EQ(side_effects, 1);
  CHECK_STR_EQ(last_message, "1\n");
  coap_set_log_handler(NULL);
}

TEST(log_impl_direct_call_is_filtered_too) {
  reset_log();
  coap_log_impl(COAP_LOG_DEBUG, "hidden\n");
  CHECK_INT_EQ(lines, 0);
  coap_log_impl(COAP_LOG_EMERG, "shown\n");
  CHECK_INT_EQ(lines, 1);
  coap_set_log_handler(NULL);
}

TEST(dtls_log_uses_its_own_level) {
  reset_log();
  coap_dtls_log(COAP_LOG_ERR, "tls\n");
  CHECK_INT_EQ(lines, 0);
  coap_dtls_set_log_level(COAP_LOG_ERR);
  coap_dtls_log(COAP_LOG_ERR, "tls\n");
  CHECK_INT_EQ(lines, 1);
  CHECK_INT_EQ(last_level, COAP_LOG_DTLS_BASE + COAP_LOG_ERR);
  coap_dtls_set_log_level(COAP_LOG_EMERG);
  coap_set_log_handler(NULL);
}

TEST(compat_names_match) {
  CHECK_INT_EQ(LOG_EMERG, 0);
  CHECK_INT_EQ(LOG_WARNING, COAP_LOG_WARN);
  CHECK_INT_EQ(LOG_DEBUG, 7);
  CHECK_INT_EQ(COAP_LOG_OSCORE, 8);
  CHECK_INT_EQ(COAP_LOG_DTLS_BASE, 9);
  CHECK_INT_EQ(COAP_LOG_CIPHERS, COAP_LOG_DTLS_BASE);
}

TEST(long_message_is_cut_not_overflowed) {
  char big[3000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  reset_log();
  coap_log_err("%s", big);
  CHECK_INT_EQ(lines, 1);
  CHECK_INT_EQ(strlen(last_message), 2047);
  coap_set_log_handler(NULL);
}

/* Reads back what the default handler wrote to a temporary file. */
static void read_back(FILE *f, char *buf, size_t size) {
  size_t n;
  rewind(f);
  n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
}

TEST(default_handler_format) {
  FILE *err = tmpfile(), *dbg = tmpfile();
  char text[256];
  CHECK_NOT_NULL(err);
  CHECK_NOT_NULL(dbg);
  coap_set_log_handler(NULL);
  coap_set_log_level(COAP_LOG_DEBUG);
  pt_debug_set_default_output(err, dbg);
  coap_log_warn("hello %d\n", 42);
  coap_log_crit("bad\n");
  pt_debug_set_default_output(NULL, NULL);
  coap_set_log_level(COAP_LOG_WARN);
  read_back(dbg, text, sizeof(text));
  /* "Mon DD HH:MM:SS.mmm WARN hello 42\n" */
  CHECK_INT_EQ(strlen(text), 20 + 5 + 9);
  CHECK_STR_EQ(text + 20, "WARN hello 42\n");
  CHECK(text[3] == ' ' && text[6] == ' ' && text[9] == ':' && text[12] == ':' &&
        text[15] == '.' && text[19] == ' ');
  read_back(err, text, sizeof(text));
  CHECK_STR_EQ(text + 20, "CRIT bad\n");
  fclose(err);
  fclose(dbg);
}

TEST(set_handler_null_restores_default) {
  FILE *dbg = tmpfile();
  char text[256];
  CHECK_NOT_NULL(dbg);
  reset_log();
  coap_set_log_handler(NULL);
  pt_debug_set_default_output(NULL, dbg);
  coap_log_warn("to the stream\n");
  pt_debug_set_default_output(NULL, NULL);
  CHECK_INT_EQ(lines, 0);
  read_back(dbg, text, sizeof(text));
  CHECK_STR_EQ(text + 20, "WARN to the stream\n");
  fclose(dbg);
}

TEST(show_pdu_output_flag) {
  CHECK_INT_EQ(pt_show_pdu_use_fprintf(), 1);
  coap_set_show_pdu_output(0);
  CHECK_INT_EQ(pt_show_pdu_use_fprintf(), 0);
  coap_set_show_pdu_output(1);
  CHECK_INT_EQ(pt_show_pdu_use_fprintf(), 1);
}

TEST(identity_strings) {
  char buf[64];
  CHECK_STR_EQ(coap_package_name(), "petrel");
  CHECK_STR_EQ(coap_package_version(), "petrel 4.3.4");
  CHECK_NOT_NULL(coap_package_build());
  /* The (D)TLS strings belong to the backend: test_surface checks the
   * notls build's, test_dtls the OpenSSL build's. */
  char tls[128], line[130];
  coap_string_tls_version(tls, sizeof(tls));
  CHECK(strncmp(tls, "TLS Library: ", 13) == 0);
  CHECK_STR_EQ(coap_string_tls_version(buf, 4), "TLS");
  reset_log();
  coap_show_tls_version(COAP_LOG_WARN);
  snprintf(line, sizeof(line), "%s\n", tls);
  CHECK_STR_EQ(last_message, line);
  coap_set_log_handler(NULL);
}

/* ---- address printing ------------------------------------------------- */

static void make_ip(coap_address_t *a, int family, const char *text,
                    uint16_t port) {
  coap_address_init(a);
  a->addr.sa.sa_family = (sa_family_t)family;
  if (family == AF_INET)
    inet_pton(AF_INET, text, &a->addr.sin.sin_addr);
  else
    inet_pton(AF_INET6, text, &a->addr.sin6.sin6_addr);
  coap_address_set_port(a, port);
}

TEST(print_addr_ipv4) {
  coap_address_t a;
  unsigned char buf[64];
  make_ip(&a, AF_INET, "192.0.2.7", 5683);
  CHECK_INT_EQ(coap_print_addr(&a, buf, sizeof(buf)), 14);
  CHECK_STR_EQ((char *)buf, "192.0.2.7:5683");
}

TEST(print_addr_ipv6) {
  coap_address_t a;
  unsigned char buf[64];
  make_ip(&a, AF_INET6, "2001:db8::1", 61616);
  coap_print_addr(&a, buf, sizeof(buf));
  CHECK_STR_EQ((char *)buf, "[2001:db8::1]:61616");
}

TEST(print_addr_truncates_safely) {
  coap_address_t a;
  unsigned char buf[8];
  make_ip(&a, AF_INET6, "2001:db8::1", 61616);
  CHECK_INT_EQ(coap_print_addr(&a, buf, sizeof(buf)), 7);
  CHECK_STR_EQ((char *)buf, "[2001:d");
  CHECK_INT_EQ(coap_print_addr(&a, buf, 0), 0);
}

TEST(print_addr_unknown_and_unix) {
  coap_address_t a;
  unsigned char buf[64];
  coap_address_init(&a);
  coap_print_addr(&a, buf, sizeof(buf));
  CHECK_STR_EQ((char *)buf, "(unknown address type)");
  CHECK(coap_address_set_unix_domain(&a, (const uint8_t *)"/tmp/s", 6));
  coap_print_addr(&a, buf, sizeof(buf));
  CHECK_STR_EQ((char *)buf, "'/tmp/s'");
}

TEST(print_ip_addr_without_port) {
  coap_address_t a;
  char buf[INET6_ADDRSTRLEN];
  make_ip(&a, AF_INET, "10.1.2.3", 9);
  CHECK_STR_EQ(coap_print_ip_addr(&a, buf, sizeof(buf)), "10.1.2.3");
  make_ip(&a, AF_INET6, "::1", 9);
  CHECK_STR_EQ(coap_print_ip_addr(&a, buf, sizeof(buf)), "::1");
  /* Too small for any IPv6 text: left empty rather than half-written. */
  CHECK_STR_EQ(coap_print_ip_addr(&a, buf, 10), "");
}

/* ---- packet loss -------------------------------------------------------- */

static int drops_in_first(int n) {
  int dropped = 0;
  for (int i = 0; i < n; i++)
    dropped += pt_debug_drop_packet() != 0;
  return dropped;
}

TEST(packet_loss_list) {
  CHECK_INT_EQ(coap_debug_set_packet_loss("2,4-5"), 1);
  CHECK_INT_EQ(pt_debug_drop_packet(), 0); /* 1 */
  CHECK_INT_EQ(pt_debug_drop_packet(), 2); /* its number */
  CHECK_INT_EQ(pt_debug_drop_packet(), 0); /* 3 */
  CHECK_INT_EQ(pt_debug_drop_packet(), 4);
  CHECK_INT_EQ(pt_debug_drop_packet(), 5);
  CHECK_INT_EQ(pt_debug_drop_packet(), 0); /* 6 */
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  CHECK_INT_EQ(drops_in_first(100), 0);
}

TEST(packet_loss_percent) {
  CHECK_INT_EQ(coap_debug_set_packet_loss("100%"), 1);
  CHECK_INT_EQ(drops_in_first(50), 50);
  CHECK_INT_EQ(coap_debug_set_packet_loss("250%"), 1); /* counts as 100% */
  CHECK_INT_EQ(drops_in_first(50), 50);
  CHECK_INT_EQ(coap_debug_set_packet_loss("50%"), 1);
  int d = drops_in_first(4000);
  CHECK(d > 1700 && d < 2300);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
}

TEST(packet_loss_new_setting_restarts_count) {
  CHECK_INT_EQ(coap_debug_set_packet_loss("1"), 1);
  CHECK_INT_EQ(pt_debug_drop_packet(), 1);
  CHECK_INT_EQ(coap_debug_set_packet_loss("1"), 1);
  CHECK_INT_EQ(pt_debug_drop_packet(), 1);
  CHECK_INT_EQ(pt_debug_drop_packet(), 0);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
}

TEST(packet_loss_ten_intervals_allowed) {
  CHECK_INT_EQ(coap_debug_set_packet_loss("1,2,3,4,5,6,7,8,9,10"), 1);
  CHECK_INT_EQ(drops_in_first(12), 10);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
}

/* Each malformed form is refused and leaves the previous setting. */
static void check_rejected(const char *spec, int *ok) {
  if (coap_debug_set_packet_loss(spec) != 0) {
    fprintf(stderr, "accepted malformed \"%s\"\n", spec ? spec : "(null)");
    *ok = 0;
  }
}

TEST(packet_loss_malformed_null_and_empty) {
  int ok = 1;
  check_rejected(NULL, &ok);
  check_rejected("", &ok);
  CHECK(ok);
}

TEST(packet_loss_malformed_percent) {
  int ok = 1;
  check_rejected("%", &ok);
  check_rejected("-5%", &ok);
  check_rejected("5%x", &ok);
  check_rejected("5 %", &ok);
  check_rejected(" 5%", &ok);
  CHECK(ok);
}

TEST(packet_loss_malformed_list) {
  int ok = 1;
  check_rejected("0", &ok);   /* packets count from 1 */
  check_rejected("3-1", &ok); /* reversed range */
  check_rejected("1-", &ok);  /* open range */
  check_rejected("-3", &ok);
  check_rejected("1,", &ok); /* trailing comma */
  check_rejected(",1", &ok);
  check_rejected("1,,2", &ok);
  check_rejected("1;2", &ok);
  check_rejected("1 2", &ok);
  check_rejected("abc", &ok);
  check_rejected("1234567890", &ok);              /* too many digits */
  check_rejected("1,2,3,4,5,6,7,8,9,10,11", &ok); /* over 10 intervals */
  CHECK(ok);
}

TEST(packet_loss_rejection_keeps_previous) {
  CHECK_INT_EQ(coap_debug_set_packet_loss("1"), 1);
  CHECK_INT_EQ(coap_debug_set_packet_loss("1-x"), 0);
  CHECK_INT_EQ(pt_debug_drop_packet(), 1);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
}

int main(void) {
  RUN(default_level_is_warn);
  RUN(level_filtering);
  RUN(filtered_arguments_not_evaluated);
  RUN(log_impl_direct_call_is_filtered_too);
  RUN(dtls_log_uses_its_own_level);
  RUN(compat_names_match);
  RUN(long_message_is_cut_not_overflowed);
  RUN(default_handler_format);
  RUN(set_handler_null_restores_default);
  RUN(show_pdu_output_flag);
  RUN(identity_strings);
  RUN(print_addr_ipv4);
  RUN(print_addr_ipv6);
  RUN(print_addr_truncates_safely);
  RUN(print_addr_unknown_and_unix);
  RUN(print_ip_addr_without_port);
  RUN(packet_loss_list);
  RUN(packet_loss_percent);
  RUN(packet_loss_new_setting_restarts_count);
  RUN(packet_loss_ten_intervals_allowed);
  RUN(packet_loss_malformed_null_and_empty);
  RUN(packet_loss_malformed_percent);
  RUN(packet_loss_malformed_list);
  RUN(packet_loss_rejection_keeps_previous);
  return TEST_SUMMARY();
}
