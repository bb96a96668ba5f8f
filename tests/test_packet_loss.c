/*
 * test_packet_loss.c -- coap_debug_set_packet_loss() at the library's one
 * outgoing door (pt_send_bytes): which datagrams never reach the socket,
 * in both forms of the setting, driven through the sans-I/O core.
 * (The parser's malformed inputs are in test_debug.c.)
 */
#include "test.h"

#include "core_harness.h"

static int handled;

/* Answers every request with a 2.05 carrying the request's token. */
static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  handled++;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  handled = 0;
  return ctx;
}

static uint16_t next_mid;

/* Feeds @n NON GETs with tokens 1..@n (and message IDs never used before,
 * so none is a duplicate); each is answered by one NON. */
static void feed_requests(coap_session_t *s, int n) {
  for (int i = 1; i <= n; i++)
    h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, ++next_mid,
                        (uint8_t)i, "hello"));
}

/* The one-byte token of datagram @i of the send log. */
static int sent_token(int i) {
  return (h_sent_log[i].data[0] & 0x0f) == 1 ? h_sent_log[i].data[4] : -1;
}

static char logged[16384];

static void log_to_buffer(coap_log_t level, const char *message) {
  (void)level;
  size_t used = strlen(logged);
  snprintf(logged + used, sizeof(logged) - used, "%s", message);
}

TEST(packet_loss_list_drops_exactly_those_sends) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  CHECK_INT_EQ(coap_debug_set_packet_loss("1,3,5-7"), 1);
  feed_requests(s, 9);
  CHECK_INT_EQ(handled, 9); /* every request was served... */
  CHECK_INT_EQ(h_nsent, 4); /* ...but answers 1, 3, 5, 6, 7 were lost */
  CHECK_INT_EQ(sent_token(0), 2);
  CHECK_INT_EQ(sent_token(1), 4);
  CHECK_INT_EQ(sent_token(2), 8);
  CHECK_INT_EQ(sent_token(3), 9);
  feed_requests(s, 1); /* packet 10: past every range */
  CHECK_INT_EQ(h_nsent, 5);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  h_free(ctx);
}

TEST(packet_loss_counts_every_datagram_of_every_session) {
  coap_context_t *ctx = server();
  coap_session_t *a = h_server_session(40000);
  coap_session_t *b = h_server_session(40001);
  CHECK_INT_EQ(coap_debug_set_packet_loss("2-3"), 1);
  feed_requests(a, 1); /* packet 1 */
  feed_requests(b, 2); /* packets 2 and 3: dropped */
  feed_requests(a, 1); /* packet 4 */
  CHECK_INT_EQ(h_nsent, 2);
  CHECK(h_sent_log[0].session == a && h_sent_log[1].session == a);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  h_free(ctx);
}

TEST(packet_loss_new_setting_counts_from_one_again) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  CHECK_INT_EQ(coap_debug_set_packet_loss("2"), 1);
  feed_requests(s, 3);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_INT_EQ(coap_debug_set_packet_loss("2"), 1);
  feed_requests(s, 3);
  CHECK_INT_EQ(h_nsent, 4);
  CHECK_INT_EQ(sent_token(2), 1);
  CHECK_INT_EQ(sent_token(3), 3);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  h_free(ctx);
}

TEST(packet_loss_lost_con_is_recovered_by_retransmission) {
  coap_context_t *ctx = server();
  coap_address_t peer = h_peer(5683);
  coap_session_t *c = coap_new_client_session(ctx, NULL, &peer, COAP_PROTO_UDP);
  CHECK_INT_EQ(coap_debug_set_packet_loss("1"), 1);
  coap_pdu_t *req = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c);
  coap_mid_t mid = coap_send(c, req);
  CHECK(mid != COAP_INVALID_MID); /* a lost datagram is not a send error */
  CHECK_INT_EQ(h_nsent, 0);
  h_advance(ctx, 3 * COAP_TICKS_PER_SECOND); /* ACK_TIMEOUT x <= 1.5 */
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(coap_pdu_get_mid(req = h_parse(0)), mid);
  coap_delete_pdu(req);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  coap_session_release(c);
  h_free(ctx);
}

TEST(packet_loss_percent_drops_about_that_share) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  CHECK_INT_EQ(coap_debug_set_packet_loss("10%"), 1);
  feed_requests(s, 2000);
  CHECK_INT_EQ(handled, 2000);
  /* 200 expected; the standard deviation is about 13. */
  int dropped = 2000 - h_nsent;
  if (dropped < 140 || dropped > 260)
    fprintf(stderr, "10%%: %d of 2000 dropped\n", dropped);
  CHECK(dropped >= 140 && dropped <= 260);
  CHECK_INT_EQ(coap_debug_set_packet_loss("100%"), 1);
  h_nsent = 0;
  feed_requests(s, 50);
  CHECK_INT_EQ(h_nsent, 0);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  feed_requests(s, 50);
  CHECK_INT_EQ(h_nsent, 50);
  h_free(ctx);
}

TEST(packet_loss_malformed_setting_leaves_sending_alone) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  CHECK_INT_EQ(coap_debug_set_packet_loss("1,2,x"), 0);
  feed_requests(s, 5);
  CHECK_INT_EQ(h_nsent, 5); /* "0%" is still in force */
  CHECK_INT_EQ(coap_debug_set_packet_loss("3"), 1);
  CHECK_INT_EQ(coap_debug_set_packet_loss("5%%"), 0);
  CHECK_INT_EQ(coap_debug_set_packet_loss("1-2-3"), 0);
  feed_requests(s, 5);
  CHECK_INT_EQ(h_nsent, 9); /* "3" is, and its count was not restarted */
  CHECK_INT_EQ(sent_token(7), 4);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  h_free(ctx);
}

TEST(packet_loss_drop_is_logged_at_debug_level) {
  coap_context_t *ctx = server();
  coap_session_t *s = h_server_session(40000);
  coap_log_t old = coap_get_log_level();
  logged[0] = 0;
  coap_set_log_handler(log_to_buffer);
  coap_set_show_pdu_output(0); /* PDUs through the handler too */
  coap_set_log_level(COAP_LOG_DEBUG);
  CHECK_INT_EQ(coap_debug_set_packet_loss("2"), 1);
  feed_requests(s, 2);
  coap_set_log_level(COAP_LOG_INFO);
  feed_requests(s, 1);
  coap_set_log_level(old);
  coap_set_log_handler(NULL);
  coap_set_show_pdu_output(1);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK(strstr(logged, "packet 2 dropped") != NULL);
  CHECK(strstr(logged, "packet 1 dropped") == NULL);
  CHECK_INT_EQ(coap_debug_set_packet_loss("0%"), 1);
  h_free(ctx);
}

int main(void) {
  RUN(packet_loss_list_drops_exactly_those_sends);
  RUN(packet_loss_counts_every_datagram_of_every_session);
  RUN(packet_loss_new_setting_counts_from_one_again);
  RUN(packet_loss_lost_con_is_recovered_by_retransmission);
  RUN(packet_loss_percent_drops_about_that_share);
  RUN(packet_loss_malformed_setting_leaves_sending_alone);
  RUN(packet_loss_drop_is_logged_at_debug_level);
  return TEST_SUMMARY();
}
