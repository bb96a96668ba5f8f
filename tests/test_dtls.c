/*
 * test_dtls.c -- CoAP over DTLS with pre-shared keys (src/dtls.c,
 * src/tls/openssl.c): a server and a client context in one process over
 * loopback.
 */
#include "dtls_harness.h"
#include "udp_client.h"

static const uint8_t KEY[] = "secretPSK";

static int psk_server(coap_context_t *ctx) {
  coap_dtls_spsk_t sp;
  memset(&sp, 0, sizeof(sp));
  sp.version = COAP_DTLS_SPSK_SETUP_VERSION;
  sp.psk_info.hint.s = (const uint8_t *)"the-hint";
  sp.psk_info.hint.length = 8;
  sp.psk_info.key.s = KEY;
  sp.psk_info.key.length = sizeof(KEY) - 1;
  return coap_context_set_psk2(ctx, &sp);
}

static coap_session_t *psk_client(coap_context_t *ctx, uint16_t port,
                                  const char *identity, const char *key) {
  return dh_psk_client(ctx, port, COAP_PROTO_DTLS, identity, key);
}

TEST(capabilities_of_the_openssl_build) {
  CHECK_INT_EQ(coap_dtls_is_supported(), 1);
  CHECK_INT_EQ(coap_dtls_psk_is_supported(), 1);
  CHECK_INT_EQ(coap_dtls_pki_is_supported(), 1);
  CHECK_INT_EQ(coap_dtls_rpk_is_supported(), 0);
  CHECK_INT_EQ(coap_dtls_pkcs11_is_supported(), 0);
  CHECK_INT_EQ(coap_tls_is_supported(), 1);
  coap_tls_version_t *v = coap_get_tls_library_version();
  CHECK_INT_EQ(v->type, COAP_TLS_LIBRARY_OPENSSL);
  CHECK(v->version >= 0x30000000ULL);
  CHECK(v->built_version >= 0x30000000ULL);
  char buf[128];
  coap_string_tls_version(buf, sizeof(buf));
  CHECK(strncmp(buf, "TLS Library: OpenSSL - runtime 3.", 33) == 0);
  CHECK_STR_EQ(coap_string_tls_support(buf, sizeof(buf)),
               "(DTLS and TLS support; PSK, PKI, no PKCS11, and no RPK "
               "support)");
}

TEST(endpoint_needs_credentials) {
  coap_context_t *ctx = coap_new_context(NULL);
  coap_address_t a = dh_loopback(0);
  CHECK_NULL(coap_new_endpoint(ctx, &a, COAP_PROTO_DTLS));
  CHECK_INT_EQ(psk_server(ctx), 1);
  CHECK_NOT_NULL(coap_new_endpoint(ctx, &a, COAP_PROTO_DTLS));
  coap_free_context(ctx);
}

TEST(psk_get_over_dtls) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  coap_context_t *cli = dh_client_ctx();
  CHECK_NOT_NULL(srv);
  coap_session_t *s = psk_client(cli, port, "client-id", "secretPSK");
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(coap_session_get_proto(s), COAP_PROTO_DTLS);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_HANDSHAKE);
  /* Sent before the handshake completes: held, then sent when it does,
   * not left to the message layer's retransmission (ACK_TIMEOUT, 2 s). */
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  coap_tick_t t0, t1;
  coap_ticks(&t0);
  dh_pump(srv, cli, &dh_responses, 0, 5000);
  coap_ticks(&t1);
  CHECK_INT_EQ(dh_responses, 1);
  CHECK(t1 - t0 < 2 * COAP_TICKS_PER_SECOND);
  CHECK_STR_EQ(dh_body, "hello");
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_ESTABLISHED);
  CHECK_INT_EQ(dh_cli_ev.connected, 1);
  CHECK_INT_EQ(dh_srv_ev.connected, 1);
  CHECK_INT_EQ(dh_srv_ev.server_new, 1);
  /* What each side learned. */
  const coap_bin_const_t *hint = coap_session_get_psk_hint(s);
  CHECK_NOT_NULL(hint);
  CHECK_INT_EQ(hint->length, 8);
  CHECK(memcmp(hint->s, "the-hint", 8) == 0);
  coap_session_t *ss = dh_only_server_session(srv);
  CHECK_NOT_NULL(ss);
  const coap_bin_const_t *id = coap_session_get_psk_identity(ss);
  CHECK_NOT_NULL(id);
  CHECK_INT_EQ(id->length, 9);
  CHECK(memcmp(id->s, "client-id", 9) == 0);
  const coap_bin_const_t *key = coap_session_get_psk_key(ss);
  CHECK_NOT_NULL(key);
  CHECK_INT_EQ(key->length, sizeof(KEY) - 1);
  coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
  CHECK_NOT_NULL(coap_session_get_tls(s, &lib));
  CHECK_INT_EQ(lib, COAP_TLS_LIBRARY_OPENSSL);
  /* A second request on the established session. */
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(srv, cli, &dh_responses, 1, 5000);
  CHECK_INT_EQ(dh_responses, 2);
  /* Closing the client sends close_notify: the server frees its session. */
  coap_session_release(s);
  dh_pump(srv, NULL, &dh_srv_ev.server_del, 0, 2000);
  CHECK_INT_EQ(dh_cli_ev.closed, 1);
  CHECK_INT_EQ(dh_srv_ev.closed, 1);
  CHECK_INT_EQ(dh_srv_ev.server_del, 1);
  CHECK_INT_EQ(pt_hashmap_size(&srv->sessions), 0);
  coap_free_context(cli);
  coap_free_context(srv);
}

/* With the wrong key the client's Finished does not decrypt. DTLS drops
 * such records (RFC 6347 4.1.2.7), but the server sees that the Finished
 * that came with the client's ChangeCipherSpec was dropped and answers
 * with a fatal bad_record_mac alert, so both sides fail at once rather
 * than at the handshake deadline. */
TEST(wrong_key_fails_fast_on_both_sides) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  coap_context_t *cli = dh_client_ctx();
  coap_session_t *s = psk_client(cli, port, "client-id", "wrongkey");
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  coap_tick_t t0, t1;
  coap_ticks(&t0);
  dh_pump(srv, cli, &dh_cli_ev.error, 0, 5000);
  coap_ticks(&t1);
  CHECK(t1 - t0 < 2 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(dh_cli_ev.connected, 0);
  CHECK_INT_EQ(dh_srv_ev.connected, 0);
  CHECK_INT_EQ(dh_srv_ev.server_new, 1);
  CHECK_INT_EQ(dh_cli_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.server_del, 1);
  CHECK_INT_EQ(dh_responses, 0);
  CHECK_INT_EQ(dh_nacks, 1);
  CHECK_INT_EQ(dh_last_nack, COAP_NACK_TLS_FAILED);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_NONE);
  CHECK_INT_EQ(pt_hashmap_size(&srv->sessions), 0);
  CHECK_INT_EQ(srv->dtls_hs_count, 0);
  /* A request on the failed session fails at once. */
  dh_nacks = 0;
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(NULL, cli, &dh_nacks, 0, 500);
  coap_session_release(s);
  coap_free_context(cli);
  coap_free_context(srv);
}

/* The identity callback picks a key per client; NULL refuses. */
static const coap_bin_const_t *pick_key(coap_bin_const_t *identity,
                                        coap_session_t *s, void *arg) {
  (void)s, (void)arg;
  static const coap_bin_const_t alice = {5, (const uint8_t *)"alice"};
  if (identity->length == 5 && memcmp(identity->s, "alice", 5) == 0)
    return &alice; /* alice's key is her name */
  return NULL;
}

static int per_identity_server(coap_context_t *ctx) {
  coap_dtls_spsk_t sp;
  memset(&sp, 0, sizeof(sp));
  sp.version = COAP_DTLS_SPSK_SETUP_VERSION;
  sp.validate_id_call_back = pick_key;
  sp.psk_info.key.s = KEY;
  sp.psk_info.key.length = sizeof(KEY) - 1;
  return coap_context_set_psk2(ctx, &sp);
}

TEST(identity_callback_chooses_the_key) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(per_identity_server, &port);
  coap_context_t *cli = dh_client_ctx();
  coap_session_t *s = psk_client(cli, port, "alice", "alice");
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(srv, cli, &dh_responses, 0, 5000);
  CHECK_INT_EQ(dh_responses, 1);
  /* bob has the default key, but the callback refuses him. */
  coap_session_t *b = psk_client(cli, port, "bob", "secretPSK");
  CHECK_INT_EQ(dh_get(b, "hello"), 0);
  dh_pump(srv, cli, &dh_cli_ev.error, 0, 5000);
  CHECK_INT_EQ(dh_cli_ev.error, 1);
  CHECK_INT_EQ(dh_responses, 1);
  coap_session_release(s);
  coap_session_release(b);
  coap_free_context(cli);
  coap_free_context(srv);
}

/* The client's hint callback answers the server's hint. */
static const coap_dtls_cpsk_info_t *by_hint(coap_str_const_t *hint,
                                            coap_session_t *s, void *arg) {
  (void)s, (void)arg;
  static coap_dtls_cpsk_info_t info = {{9, (const uint8_t *)"client-id"},
                                       {9, (const uint8_t *)"secretPSK"}};
  return hint->length == 8 && memcmp(hint->s, "the-hint", 8) == 0 ? &info
                                                                  : NULL;
}

TEST(hint_callback_chooses_identity_and_key) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  coap_context_t *cli = dh_client_ctx();
  coap_address_t dst = dh_loopback(port);
  coap_dtls_cpsk_t cp;
  memset(&cp, 0, sizeof(cp));
  cp.version = COAP_DTLS_CPSK_SETUP_VERSION;
  cp.validate_ih_call_back = by_hint;
  cp.psk_info.identity.s = (const uint8_t *)"nobody";
  cp.psk_info.identity.length = 6;
  cp.psk_info.key.s = (const uint8_t *)"wrong";
  cp.psk_info.key.length = 5;
  coap_session_t *s =
      coap_new_client_session_psk2(cli, NULL, &dst, COAP_PROTO_DTLS, &cp);
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(srv, cli, &dh_responses, 0, 5000);
  CHECK_INT_EQ(dh_responses, 1);
  const coap_bin_const_t *id = coap_session_get_psk_identity(s);
  CHECK_NOT_NULL(id);
  CHECK_INT_EQ(id->length, 9);
  coap_session_release(s);
  coap_free_context(cli);
  coap_free_context(srv);
}

TEST(deprecated_psk_calls_map_onto_psk2) {
  dh_reset();
  coap_context_t *srv = coap_new_context(NULL);
  CHECK_INT_EQ(coap_context_set_psk(srv, "h", KEY, sizeof(KEY) - 1), 1);
  coap_address_t a = dh_loopback(0);
  coap_endpoint_t *ep = coap_new_endpoint(srv, &a, COAP_PROTO_DTLS);
  CHECK_NOT_NULL(ep);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, dh_hello);
  coap_add_resource(srv, r);
  coap_context_t *cli = dh_client_ctx();
  coap_address_t dst = dh_loopback(coap_address_get_port(&ep->bind_addr));
  coap_session_t *s = coap_new_client_session_psk(
      cli, NULL, &dst, COAP_PROTO_DTLS, "id", KEY, sizeof(KEY) - 1);
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(srv, cli, &dh_responses, 0, 5000);
  CHECK_INT_EQ(dh_responses, 1);
  coap_session_release(s);
  coap_free_context(cli);
  coap_free_context(srv);
}

TEST(bad_setups_are_refused) {
  coap_context_t *ctx = coap_new_context(NULL);
  coap_dtls_spsk_t sp;
  memset(&sp, 0, sizeof(sp));
  CHECK_INT_EQ(coap_context_set_psk2(ctx, &sp), 0); /* version 0 */
  CHECK_INT_EQ(coap_context_set_psk2(ctx, NULL), 0);
  CHECK_INT_EQ(coap_context_set_psk2(NULL, &sp), 0);
  coap_address_t dst = dh_loopback(5684);
  CHECK_NULL(
      coap_new_client_session_psk2(ctx, NULL, &dst, COAP_PROTO_DTLS, NULL));
  coap_dtls_cpsk_t cp;
  memset(&cp, 0, sizeof(cp)); /* version 0 */
  CHECK_NULL(
      coap_new_client_session_psk2(ctx, NULL, &dst, COAP_PROTO_DTLS, &cp));
  cp.version = COAP_DTLS_CPSK_SETUP_VERSION;
  CHECK_NULL(
      coap_new_client_session_psk2(ctx, NULL, &dst, COAP_PROTO_UDP, &cp));
  coap_free_context(ctx);
}

/* Plaintext CoAP on the DTLS port: dropped, no session, no answer. */
TEST(plaintext_on_the_dtls_port_is_dropped) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  udp_client c = udp_client_open(port);
  const uint8_t get[] = {0x40, 0x01, 0x12, 0x34, 0xb5, 'h', 'e', 'l', 'l', 'o'};
  CHECK_INT_EQ(udp_send(&c, get, sizeof(get)), 0);
  dh_pump(srv, NULL, NULL, 0, 200);
  uint8_t buf[256];
  CHECK_INT_EQ(udp_recv(&c, buf, sizeof(buf), 50), -1);
  CHECK_INT_EQ(pt_hashmap_size(&srv->sessions), 0);
  CHECK_INT_EQ(dh_srv_ev.server_new, 0);
  udp_client_close(&c);
  coap_free_context(srv);
}

/* A client with nobody answering gives up at the handshake deadline. */
TEST(client_handshake_times_out) {
  dh_reset();
  coap_context_t *cli = dh_client_ctx();
  udp_client sink = udp_client_open(9); /* only to find a free port */
  struct sockaddr_in a;
  socklen_t al = sizeof(a);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in b = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(fd, (struct sockaddr *)&b, sizeof(b));
  getsockname(fd, (struct sockaddr *)&a, &al);
  coap_session_t *s = psk_client(cli, ntohs(a.sin_port), "id", "key");
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  coap_tick_t now;
  coap_ticks(&now);
  pt_timers_run(cli,
                now + (PT_DTLS_HANDSHAKE_SECONDS + 1) * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(dh_cli_ev.error, 1);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_NONE);
  CHECK_INT_EQ(dh_nacks, 1); /* the request held for the handshake */
  CHECK_INT_EQ(dh_last_nack, COAP_NACK_TLS_FAILED);
  close(fd);
  udp_client_close(&sink);
  coap_session_release(s);
  coap_free_context(cli);
}

int main(void) {
  coap_startup();
  if (getenv("TEST_DEBUG")) {
    coap_set_log_level(COAP_LOG_DEBUG);
    coap_dtls_set_log_level(COAP_LOG_DEBUG);
  }
  RUN(capabilities_of_the_openssl_build);
  RUN(endpoint_needs_credentials);
  RUN(psk_get_over_dtls);
  RUN(wrong_key_fails_fast_on_both_sides);
  RUN(identity_callback_chooses_the_key);
  RUN(hint_callback_chooses_identity_and_key);
  RUN(deprecated_psk_calls_map_onto_psk2);
  RUN(bad_setups_are_refused);
  RUN(plaintext_on_the_dtls_port_is_dropped);
  RUN(client_handshake_times_out);
  coap_cleanup();
  return TEST_SUMMARY();
}
