/*
 * test_surface.c -- the API this build answers with "not supported":
 * (D)TLS (linked against libcoap-3-notls), TCP and WebSockets, OSCORE,
 * observe persistence; and the event handler setters and
 * coap_handle_event().
 */
#include "test.h"

#include "context.h"

/* ---- (D)TLS, TCP, WebSockets
 * ------------------------------------------------- */

TEST(capabilities_all_absent_but_tcp) {
  CHECK_INT_EQ(coap_dtls_is_supported(), 0);
  CHECK_INT_EQ(coap_tls_is_supported(), 0);
  CHECK_INT_EQ(coap_dtls_psk_is_supported(), 0);
  CHECK_INT_EQ(coap_dtls_pki_is_supported(), 0);
  CHECK_INT_EQ(coap_dtls_pkcs11_is_supported(), 0);
  CHECK_INT_EQ(coap_dtls_rpk_is_supported(), 0);
  CHECK_INT_EQ(coap_tcp_is_supported(), 1); /* TCP needs no TLS library */
  CHECK_INT_EQ(coap_ws_is_supported(), 1); /* coap+ws needs no TLS either */
  CHECK_INT_EQ(coap_wss_is_supported(), 0);
  CHECK_INT_EQ(coap_oscore_is_supported(), 0);
}

TEST(tls_library_version_is_notls) {
  coap_tls_version_t *v = coap_get_tls_library_version();
  CHECK_NOT_NULL(v);
  CHECK_INT_EQ(v->type, COAP_TLS_LIBRARY_NOTLS);
  CHECK_UINT_EQ(v->version, 0);
  CHECK_UINT_EQ(v->built_version, 0);
  CHECK(coap_get_tls_library_version() == v); /* one static structure */
  char buf[64];
  CHECK_STR_EQ(coap_string_tls_version(buf, sizeof(buf)), "TLS Library: None");
  CHECK_STR_EQ(coap_string_tls_support(buf, sizeof(buf)),
               "(No DTLS or TLS support)");
  CHECK_STR_EQ(coap_string_tls_support(buf, 4), "(No");
}

TEST(no_dtls_endpoint_or_session) {
  coap_context_t *ctx = coap_new_context(NULL);
  CHECK_NOT_NULL(ctx);
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  CHECK_NULL(coap_new_endpoint(ctx, &a, COAP_PROTO_DTLS));
  CHECK_NULL(coap_new_client_session(ctx, NULL, &a, COAP_PROTO_DTLS));
  coap_dtls_cpsk_t cpsk;
  memset(&cpsk, 0, sizeof(cpsk));
  cpsk.version = COAP_DTLS_CPSK_SETUP_VERSION;
  CHECK_NULL(coap_new_client_session_psk2(ctx, NULL, &a, COAP_PROTO_DTLS,
                                          &cpsk));
  CHECK_NULL(coap_new_client_session_psk(ctx, NULL, &a, COAP_PROTO_DTLS, "id",
                                         (const uint8_t *)"k", 1));
  coap_dtls_pki_t pki;
  memset(&pki, 0, sizeof(pki));
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  CHECK_NULL(coap_new_client_session_pki(ctx, NULL, &a, COAP_PROTO_DTLS, &pki));
  coap_free_context(ctx);
}

/* COAP_PROTO_TLS is refused with libcoap's failure values, as DTLS is. */
TEST(no_tls_endpoint_or_session) {
  coap_context_t *ctx = coap_new_context(NULL);
  CHECK_NOT_NULL(ctx);
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  CHECK_NULL(coap_new_endpoint(ctx, &a, COAP_PROTO_TLS));
  CHECK_NULL(coap_new_client_session(ctx, NULL, &a, COAP_PROTO_TLS));
  coap_dtls_cpsk_t cpsk;
  memset(&cpsk, 0, sizeof(cpsk));
  cpsk.version = COAP_DTLS_CPSK_SETUP_VERSION;
  CHECK_NULL(
      coap_new_client_session_psk2(ctx, NULL, &a, COAP_PROTO_TLS, &cpsk));
  CHECK_NULL(coap_new_client_session_psk(ctx, NULL, &a, COAP_PROTO_TLS, "id",
                                         (const uint8_t *)"k", 1));
  coap_dtls_pki_t pki;
  memset(&pki, 0, sizeof(pki));
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  CHECK_NULL(coap_new_client_session_pki(ctx, NULL, &a, COAP_PROTO_TLS, &pki));
  /* Nothing was left behind: no client session, no endpoint. */
  CHECK_NULL(ctx->clients);
  CHECK_NULL(ctx->endpoints);
  coap_free_context(ctx);
}

TEST(credentials_refused) {
  coap_context_t *ctx = pt_context_new_detached();
  CHECK_NOT_NULL(ctx);
  const uint8_t key[] = "secretkey";
  CHECK_INT_EQ(coap_context_set_psk(ctx, "hint", key, sizeof(key) - 1), 0);
  coap_dtls_spsk_t spsk;
  memset(&spsk, 0, sizeof(spsk));
  spsk.version = COAP_DTLS_SPSK_SETUP_VERSION;
  CHECK_INT_EQ(coap_context_set_psk2(ctx, &spsk), 0);
  coap_dtls_pki_t pki;
  memset(&pki, 0, sizeof(pki));
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  CHECK_INT_EQ(coap_context_set_pki(ctx, &pki), 0);
  CHECK_INT_EQ(coap_context_set_pki_root_cas(ctx, "/etc/ssl/ca.pem", NULL), 0);
  /* NULL arguments are refused the same way, never dereferenced. */
  CHECK_INT_EQ(coap_context_set_psk(NULL, NULL, NULL, 0), 0);
  CHECK_INT_EQ(coap_context_set_psk2(NULL, NULL), 0);
  CHECK_INT_EQ(coap_context_set_pki(NULL, NULL), 0);
  CHECK_INT_EQ(coap_context_set_pki_root_cas(NULL, NULL, NULL), 0);
  coap_free_context(ctx);
}

TEST(ws_host_request_refused) {
  coap_str_const_t host = {9, (const uint8_t *)"localhost"};
  CHECK_INT_EQ(coap_ws_set_host_request(NULL, &host), 0);
  CHECK_INT_EQ(coap_ws_set_host_request(NULL, NULL), 0);
}

/* ---- OSCORE
 * ------------------------------------------------------------------- */

TEST(oscore_refused) {
  coap_context_t *ctx = pt_context_new_detached();
  CHECK_NOT_NULL(ctx);
  const char *text = "master_secret,hex,\"0102030405060708090a0b0c0d0e0f10\"\n"
                     "sender_id,hex,\"01\"\nrecipient_id,hex,\"02\"\n";
  coap_str_const_t conf_mem = {strlen(text), (const uint8_t *)text};
  coap_oscore_conf_t *conf = coap_new_oscore_conf(conf_mem, NULL, NULL, 0);
  CHECK_NULL(conf);
  CHECK_INT_EQ(coap_delete_oscore_conf(NULL), 0);
  coap_address_t server;
  coap_address_init(&server);
  CHECK_NULL(
      coap_new_client_session_oscore(ctx, NULL, &server, COAP_PROTO_UDP, NULL));
  CHECK_NULL(coap_new_client_session_oscore_psk(ctx, NULL, &server,
                                                COAP_PROTO_DTLS, NULL, NULL));
  CHECK_NULL(coap_new_client_session_oscore_pki(ctx, NULL, &server,
                                                COAP_PROTO_DTLS, NULL, NULL));
  CHECK_INT_EQ(coap_context_oscore_server(ctx, NULL), 0);
  /* On failure the recipient ID stays the caller's (as in libcoap). */
  coap_bin_const_t *rid = coap_new_bin_const((const uint8_t *)"\x02", 1);
  CHECK_NOT_NULL(rid);
  CHECK_INT_EQ(coap_new_oscore_recipient(ctx, rid), 0);
  CHECK_INT_EQ(coap_delete_oscore_recipient(ctx, rid), 0);
  coap_delete_bin_const(rid);
  coap_free_context(ctx);
}

/* ---- observe (not implemented yet)
 * ----------------------------------------------- */

static int cb_calls;
static int observe_added(coap_session_t *s, coap_subscription_t *k,
                         coap_proto_t p, coap_address_t *l,
                         coap_addr_tuple_t *t, coap_bin_const_t *raw,
                         coap_bin_const_t *osc, void *u) {
  (void)s, (void)k, (void)p, (void)l, (void)t, (void)raw, (void)osc, (void)u;
  cb_calls++;
  return 1;
}

TEST(observe_persistence_refused) {
  coap_context_t *ctx = pt_context_new_detached();
  CHECK_NOT_NULL(ctx);
  cb_calls = 0;
  coap_persist_track_funcs(ctx, observe_added, NULL, NULL, NULL, NULL, 10,
                           NULL);
  CHECK_INT_EQ(coap_persist_startup(ctx, "/nonexistent/d", "/nonexistent/o",
                                    "/nonexistent/c", 10),
               0);
  coap_address_t listen;
  coap_address_init(&listen);
  coap_addr_tuple_t tuple;
  memset(&tuple, 0, sizeof(tuple));
  const uint8_t raw[] = {0x40, 0x01, 0x12, 0x34, 0x61, 0x00};
  coap_bin_const_t packet = {sizeof(raw), raw};
  CHECK_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &tuple,
                                      &packet, NULL));
  coap_persist_stop(ctx);
  coap_persist_set_observe_num(NULL, 5);
  CHECK_INT_EQ(cb_calls, 0);
  uint8_t tok = 1;
  coap_binary_t token = {1, &tok};
  CHECK_INT_EQ(coap_cancel_observe(NULL, &token, COAP_MESSAGE_CON), 0);
  coap_free_context(ctx);
}

/* ---- events
 * ------------------------------------------------------------------------ */

/* The setters under test are deprecated in libcoap's API, on purpose. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static int events_seen;
static coap_event_t last_event;
static int handler(coap_session_t *s, const coap_event_t event) {
  (void)s;
  events_seen++;
  last_event = event;
  return 42;
}

TEST(event_handler_setters) {
  coap_context_t *ctx = pt_context_new_detached();
  CHECK_NOT_NULL(ctx);
  events_seen = 0;
  CHECK_INT_EQ(coap_handle_event(ctx, COAP_EVENT_BAD_PACKET, NULL), 0);
  coap_set_event_handler(ctx, handler);
  CHECK_INT_EQ(coap_handle_event(ctx, COAP_EVENT_KEEPALIVE_FAILURE, NULL), 42);
  CHECK_INT_EQ(events_seen, 1);
  CHECK_INT_EQ(last_event, COAP_EVENT_KEEPALIVE_FAILURE);
  coap_clear_event_handler(ctx);
  CHECK_INT_EQ(coap_handle_event(ctx, COAP_EVENT_BAD_PACKET, NULL), 0);
  CHECK_INT_EQ(events_seen, 1);
  CHECK_INT_EQ(coap_handle_event(NULL, COAP_EVENT_BAD_PACKET, NULL), 0);
  coap_set_event_handler(NULL, handler); /* harmless */
  coap_clear_event_handler(NULL);
  coap_free_context(ctx);
}

int main(void) {
  RUN(capabilities_all_absent_but_tcp);
  RUN(tls_library_version_is_notls);
  RUN(no_dtls_endpoint_or_session);
  RUN(no_tls_endpoint_or_session);
  RUN(credentials_refused);
  RUN(ws_host_request_refused);
  RUN(oscore_refused);
  RUN(observe_persistence_refused);
  RUN(event_handler_setters);
  return TEST_SUMMARY();
}
