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

#include <fcntl.h>

#include "clock.h"
#include "dtls_harness.h"
#include "tcp.h"
#include "tls_peer.h"
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
  return dh_psk_client(ctx, port, COAP_PROTO_TLS, identity, key);
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
  coap_session_t *ss = dh_only_server_session(srv);
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

/* ALPN "coap" (RFC 8323) both ways; TLS 1.3 by default, where there is no
 * identity hint, and TLS 1.2 when the client's setup has a hint callback,
 * which then sees the server's hint. */
static int hint_seen;
static const coap_dtls_cpsk_info_t *on_hint(coap_str_const_t *hint,
                                            coap_session_t *s, void *arg) {
  (void)s;
  hint_seen = hint && hint->length == 8 && memcmp(hint->s, "the-hint", 8) == 0;
  return arg;
}

static int negotiated(coap_session_t *s, int *version) {
  coap_tls_library_t lib;
  SSL *ssl = coap_session_get_tls(s, &lib);
  const unsigned char *alpn = NULL;
  unsigned alen = 0;
  if (!ssl)
    return 0;
  *version = SSL_version(ssl);
  SSL_get0_alpn_selected(ssl, &alpn, &alen);
  return alen == 4 && memcmp(alpn, "coap", 4) == 0;
}

TEST(alpn_coap_and_the_identity_hint_callback) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = tls_server(&port);
  coap_context_t *cli = tls_client_ctx();
  coap_session_t *s = psk_client(cli, port, "client-id", "secretPSK");
  CHECK_INT_EQ(get_hello(srv, cli, s), 1);
  int version = 0;
  CHECK_INT_EQ(negotiated(s, &version), 1);
  CHECK_INT_EQ(version, TLS1_3_VERSION);
  CHECK_NULL(coap_session_get_psk_hint(s)); /* TLS 1.3 has none */
  coap_session_release(s);
  coap_dtls_cpsk_t cp;
  memset(&cp, 0, sizeof(cp));
  cp.version = COAP_DTLS_CPSK_SETUP_VERSION;
  cp.psk_info.identity.s = (const uint8_t *)"client-id";
  cp.psk_info.identity.length = 9;
  cp.psk_info.key.s = KEY;
  cp.psk_info.key.length = sizeof(KEY) - 1;
  cp.validate_ih_call_back = on_hint;
  cp.ih_call_back_arg = &cp.psk_info;
  coap_address_t dst = dh_loopback(port);
  hint_seen = 0;
  s = coap_new_client_session_psk2(cli, NULL, &dst, COAP_PROTO_TLS, &cp);
  CHECK_INT_EQ(get_hello(srv, cli, s), 1);
  CHECK_INT_EQ(negotiated(s, &version), 1);
  CHECK_INT_EQ(version, TLS1_2_VERSION);
  CHECK_INT_EQ(hint_seen, 1);
  const coap_bin_const_t *hint = coap_session_get_psk_hint(s);
  CHECK_NOT_NULL(hint);
  CHECK_INT_EQ(hint->length, 8);
  coap_session_release(s);
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

/* ---- the handshake deadline (fake clock) -------------------------------- */

static int raw_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* Runs @srv's loop while reading what @fd receives, until its end or 2 s.
 * Returns the bytes read (up to @cap); *eof tells whether the end came. */
static size_t drain(coap_context_t *srv, int fd, uint8_t *buf, size_t cap,
                    int *eof) {
  size_t got = 0;
  *eof = 0;
  for (int i = 0; i < 400 && !*eof; i++) {
    coap_io_process(srv, 5);
    uint8_t scratch[4096];
    ssize_t n;
    while ((n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT)) > 0) {
      size_t take = got + (size_t)n <= cap ? (size_t)n : cap - got;
      memcpy(buf + got, scratch, take);
      got += take;
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
      *eof = 1;
  }
  return got;
}

/* Runs @srv until it has @want server sessions (or 2 s). */
static void until_sessions(coap_context_t *srv, size_t want) {
  for (int i = 0; i < 400 && pt_hashmap_size(&srv->sessions) != want; i++)
    coap_io_process(srv, 5);
}

TEST(silent_peer_is_closed_at_the_handshake_deadline) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = tls_server(&port);
  coap_context_set_csm_timeout(srv, 120); /* not what ends it here */
  int fd = raw_connect(port);
  CHECK(fd >= 0);
  until_sessions(srv, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 1);
  coap_session_t *ss = dh_only_server_session(srv);
  CHECK_INT_EQ(coap_session_get_state(ss), COAP_SESSION_STATE_HANDSHAKE);
  coap_tick_t now;
  coap_ticks(&now);
  pt_timers_run(srv, now + (PT_TLS_HANDSHAKE_SECONDS - 1) *
                               (coap_tick_t)COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 1);
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  pt_timers_run(srv, now + (PT_TLS_HANDSHAKE_SECONDS + 1) *
                               (coap_tick_t)COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 0);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.tcp_closed, 1);
  CHECK_INT_EQ(dh_srv_ev.server_del, 1);
  int eof;
  uint8_t got[64];
  drain(srv, fd, got, sizeof(got), &eof);
  CHECK_INT_EQ(eof, 1);
  close(fd);
  coap_free_context(srv);
}

/* A server that accepts the TCP connection and never answers the
 * ClientHello: the client gives up at the deadline, its request failing
 * with COAP_NACK_TLS_FAILED. */
TEST(client_handshake_deadline_fails_its_requests) {
  dh_reset();
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  coap_address_t a = dh_loopback(0);
  CHECK_INT_EQ(bind(lfd, &a.addr.sa, a.size), 0);
  CHECK_INT_EQ(listen(lfd, 4), 0);
  socklen_t len = a.size;
  getsockname(lfd, &a.addr.sa, &len);
  coap_context_t *cli = tls_client_ctx();
  coap_session_t *s =
      psk_client(cli, coap_address_get_port(&a), "client-id", "secretPSK");
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(NULL, cli, &dh_cli_ev.tcp_connected, 0, 2000);
  CHECK_INT_EQ(dh_cli_ev.tcp_connected, 1);
  int fd = accept(lfd, NULL, NULL);
  CHECK(fd >= 0);
  coap_tick_t now;
  coap_ticks(&now);
  pt_timers_run(cli, now + (PT_TLS_HANDSHAKE_SECONDS + 1) *
                               (coap_tick_t)COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(dh_cli_ev.error, 1);
  CHECK_INT_EQ(dh_cli_ev.connected, 0);
  CHECK_INT_EQ(dh_nacks, 1);
  CHECK_INT_EQ(dh_last_nack, COAP_NACK_TLS_FAILED);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_NONE);
  coap_session_release(s);
  coap_free_context(cli);
  close(fd);
  close(lfd);
}

/* ---- malformed input on the TLS port ------------------------------------- */

/* A server with one established, working client session beside the
 * connection under test. */
typedef struct fixture {
  coap_context_t *srv, *cli;
  coap_session_t *good;
  uint16_t port;
} fixture;

static int fixture_start(fixture *f) {
  dh_reset();
  f->srv = tls_server(&f->port);
  f->cli = tls_client_ctx();
  f->good = psk_client(f->cli, f->port, "client-id", "secretPSK");
  if (!f->srv || !f->good || !get_hello(f->srv, f->cli, f->good))
    return -1;
  memset(&dh_srv_ev, 0, sizeof(dh_srv_ev));
  return 0;
}

/* The other session still works and nothing of the bad one is left. */
static int fixture_end(fixture *f) {
  until_sessions(f->srv, 1);
  int ok = get_hello(f->srv, f->cli, f->good) &&
           pt_hashmap_size(&f->srv->sessions) == 1 && dh_cli_ev.error == 0 &&
           dh_cli_ev.closed == 0;
  coap_session_release(f->good);
  coap_free_context(f->cli);
  coap_free_context(f->srv);
  return ok;
}

/* What came back on a connection the server refused: nothing, or TLS
 * alert records (content type 21) only, then the end. */
static int only_alerts(const uint8_t *got, size_t n) {
  size_t i = 0;
  while (i + 5 <= n && got[i] == 21)
    i += 5 + ((size_t)got[i + 3] << 8 | got[i + 4]);
  return i == n;
}

TEST(garbage_instead_of_a_client_hello_closes_only_that_connection) {
  fixture f;
  CHECK_INT_EQ(fixture_start(&f), 0);
  int fd = raw_connect(f.port);
  uint8_t junk[300];
  memset(junk, 0xab, sizeof(junk));
  memcpy(junk, "GET / HTTP/1.1\r\n", 16);
  CHECK_INT_EQ(send(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
  int eof;
  uint8_t got[512];
  size_t n = drain(f.srv, fd, got, sizeof(got), &eof);
  CHECK_INT_EQ(eof, 1);
  CHECK_INT_EQ(only_alerts(got, n), 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.connected, 0);
  close(fd);
  CHECK_INT_EQ(fixture_end(&f), 1);
}

/* A CoAP-over-TCP client on the TLS port: its CSM and GET are not a
 * ClientHello, and nothing is ever answered in plaintext. */
TEST(plaintext_coap_on_the_tls_port_is_refused) {
  fixture f;
  CHECK_INT_EQ(fixture_start(&f), 0);
  static const uint8_t coap_tcp[] = {
      0x30, 0xe1, 0x22, 0x04, 0x80,                     /* 7.01 CSM */
      0x61, 0x01, 0x42, 0xb5, 'h',  'e', 'l', 'l', 'o', /* GET /hello */
  };
  int fd = raw_connect(f.port);
  CHECK_INT_EQ(send(fd, coap_tcp, sizeof(coap_tcp), 0),
               (ssize_t)sizeof(coap_tcp));
  int eof;
  uint8_t got[512];
  size_t n = drain(f.srv, fd, got, sizeof(got), &eof);
  CHECK_INT_EQ(eof, 1);
  CHECK_INT_EQ(only_alerts(got, n), 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  close(fd);
  CHECK_INT_EQ(fixture_end(&f), 1);
}

/* A raw TLS client (tls_peer.h) that completed its handshake with the
 * server of @f and sent its CSM. */
static int established_peer(fixture *f, tls_peer *p) {
  int fd = raw_connect(f->port);
  if (fd < 0 || tls_peer_open(p, fd, 0) < 0)
    return -1;
  int r = 0;
  for (int i = 0; i < 400 && r == 0; i++) {
    coap_io_process(f->srv, 5);
    r = tls_peer_step(p);
  }
  static const uint8_t csm[] = {0x30, 0xe1, 0x22, 0x04, 0x80};
  if (r != 1 || SSL_write(p->ssl, csm, sizeof(csm)) != sizeof(csm))
    return -1;
  for (int i = 0; i < 20; i++)
    coap_io_process(f->srv, 5);
  return dh_srv_ev.session_connected == 1 ? 0 : -1;
}

/* A record whose header promises more than ever comes, then the end of
 * the stream: the session ends as failed (a truncated stream is not a
 * clean close). */
TEST(truncated_record_then_end_of_stream_fails_that_session) {
  fixture f;
  tls_peer p;
  CHECK_INT_EQ(fixture_start(&f), 0);
  CHECK_INT_EQ(established_peer(&f, &p), 0);
  static const uint8_t cut[] = {23, 3, 3, 0, 100, 1, 2, 3, 4, 5, 6, 7, 8};
  CHECK_INT_EQ(send(p.fd, cut, sizeof(cut), 0), (ssize_t)sizeof(cut));
  for (int i = 0; i < 20; i++)
    coap_io_process(f.srv, 5);
  CHECK_UINT_EQ(pt_hashmap_size(&f.srv->sessions), 2); /* waits for more */
  shutdown(p.fd, SHUT_WR);
  int eof;
  uint8_t got[512];
  drain(f.srv, p.fd, got, sizeof(got), &eof);
  CHECK_INT_EQ(eof, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.closed, 0);
  close(p.fd);
  tls_peer_free(&p);
  CHECK_INT_EQ(fixture_end(&f), 1);
}

/* A whole record of the right length whose contents do not decrypt. */
TEST(record_that_does_not_decrypt_fails_that_session) {
  fixture f;
  tls_peer p;
  CHECK_INT_EQ(fixture_start(&f), 0);
  CHECK_INT_EQ(established_peer(&f, &p), 0);
  uint8_t bad[5 + 48] = {23, 3, 3, 0, 48};
  memset(bad + 5, 0x5a, 48);
  CHECK_INT_EQ(send(p.fd, bad, sizeof(bad), 0), (ssize_t)sizeof(bad));
  int eof;
  uint8_t got[512];
  drain(f.srv, p.fd, got, sizeof(got), &eof);
  CHECK_INT_EQ(eof, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  close(p.fd);
  tls_peer_free(&p);
  CHECK_INT_EQ(fixture_end(&f), 1);
}

/* A fatal alert (handshake_failure) in the middle of a session. */
TEST(alert_mid_session_fails_that_session) {
  fixture f;
  tls_peer p;
  CHECK_INT_EQ(fixture_start(&f), 0);
  CHECK_INT_EQ(established_peer(&f, &p), 0);
  static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
  CHECK_INT_EQ(send(p.fd, alert, sizeof(alert), 0), (ssize_t)sizeof(alert));
  int eof;
  uint8_t got[512];
  drain(f.srv, p.fd, got, sizeof(got), &eof);
  CHECK_INT_EQ(eof, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  close(p.fd);
  tls_peer_free(&p);
  CHECK_INT_EQ(fixture_end(&f), 1);
}

/* The peer's close_notify mid-session is a clean close. */
TEST(close_notify_mid_session_is_a_clean_close) {
  fixture f;
  tls_peer p;
  CHECK_INT_EQ(fixture_start(&f), 0);
  CHECK_INT_EQ(established_peer(&f, &p), 0);
  SSL_shutdown(p.ssl);
  int eof;
  uint8_t got[512];
  drain(f.srv, p.fd, got, sizeof(got), &eof);
  CHECK_INT_EQ(eof, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  CHECK_INT_EQ(dh_srv_ev.closed, 1);
  CHECK_INT_EQ(dh_srv_ev.tcp_closed, 1);
  close(p.fd);
  tls_peer_free(&p);
  CHECK_INT_EQ(fixture_end(&f), 1);
}

/* ---- back-pressure through the pipe (a socketpair, time by hand) -------- */

/* A client TLS session of @ctx on sv[0] whose handshake with a raw TLS
 * server (tls_peer.h) on sv[1] has completed. */
static coap_session_t *paired_session(coap_context_t *ctx, int sv[2],
                                      tls_peer *peer) {
  coap_address_t any = dh_loopback(9);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &any, COAP_PROTO_UDP);
  if (!s)
    return NULL;
  close(s->fd); /* the session carries the pair's end instead */
  s->fd = -1;
  s->proto = COAP_PROTO_TLS;
  coap_dtls_cpsk_t cp;
  memset(&cp, 0, sizeof(cp));
  cp.version = COAP_DTLS_CPSK_SETUP_VERSION;
  cp.psk_info.identity.s = (const uint8_t *)"peer";
  cp.psk_info.identity.length = 4;
  cp.psk_info.key.s = KEY;
  cp.psk_info.key.length = sizeof(KEY) - 1;
  if (pt_tcp_attach(s, sv[0], 0, pt_now()) < 0 ||
      pt_tcp_start_tls(s, &cp, NULL, pt_now()) < 0 ||
      tls_peer_open(peer, sv[1], 1) < 0)
    return s;
  for (int i = 0; i < 100 && !pt_tls_stream_connected(pt_tcp_pipe(s)); i++) {
    pt_tcp_io(s, 1, 1, pt_now());
    tls_peer_step(peer);
  }
  return s;
}

/* TLS records of content type @type in the @n bytes at @buf. */
static int records(const uint8_t *buf, size_t n, uint8_t type) {
  int count = 0;
  for (size_t i = 0; i + 5 <= n;
       i += 5 + ((size_t)buf[i + 3] << 8 | buf[i + 4]))
    count += buf[i] == type;
  return count;
}

/* 16 pipelined GETs in one record: their 16 answers come back in one TLS
 * record (one write), in the order asked. */
TEST(tls_pipelined_requests_are_answered_in_one_record) {
  dh_reset();
  coap_context_t *ctx = tls_client_ctx();
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, dh_hello);
  coap_add_resource(ctx, r);
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  tls_peer peer;
  coap_session_t *s = paired_session(ctx, sv, &peer);
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(pt_tls_stream_connected(pt_tcp_pipe(s)), 1);
  uint8_t buf[4096];
  for (int i = 0; i < 10; i++) /* our CSM, read and dropped */
    tls_peer_read(&peer, buf, sizeof(buf));
  size_t n = 0;
  static const uint8_t csm[] = {0x30, 0xe1, 0x22, 0x04, 0x80};
  memcpy(buf, csm, sizeof(csm));
  n = sizeof(csm);
  for (unsigned i = 0; i < 16; i++) {
    const uint8_t get[] = {0x61, 0x01, (uint8_t)i, 0xb5, 'h',
                           'e',  'l',  'l',        'o'};
    memcpy(buf + n, get, sizeof(get));
    n += sizeof(get);
  }
  CHECK_INT_EQ(SSL_write(peer.ssl, buf, (int)n), (int)n);
  pt_tcp_io(s, 1, 0, pt_now());
  ssize_t raw = recv(sv[1], buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
  CHECK(raw > 0);
  CHECK_INT_EQ(records(buf, (size_t)raw, 23), 1); /* application data */
  int got = 0;
  for (int i = 0; i < 10 && got < 16 * 9; i++) {
    int k = tls_peer_read(&peer, buf + got, sizeof(buf) - (size_t)got);
    CHECK(k >= 0);
    got += k;
  }
  CHECK_INT_EQ(got, 16 * 9); /* 2.05 "hello", token 1 byte: 9 bytes each */
  int in_order = 1;
  for (unsigned i = 0; i < 16; i++)
    in_order &= buf[i * 9] == 0x61 && buf[i * 9 + 1] == 0x45 &&
                buf[i * 9 + 2] == (uint8_t)i;
  CHECK_INT_EQ(in_order, 1);
  coap_session_release(s);
  tls_peer_free(&peer);
  close(sv[1]);
  coap_free_context(ctx);
}

TEST(tls_write_queue_drains_in_order_behind_a_slow_reader) {
  dh_reset();
  coap_context_t *ctx = tls_client_ctx();
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  tls_peer peer;
  coap_session_t *s = paired_session(ctx, sv, &peer);
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(pt_tls_stream_connected(pt_tcp_pipe(s)), 1);
  CHECK_INT_EQ(dh_cli_ev.connected, 1);
  /* 64 messages of 1000 bytes, numbered: far more than the socket takes. */
  static uint8_t msg[1000], all[64 * 1000 + 64];
  for (int i = 0; i < 64; i++) {
    memset(msg, i, sizeof(msg));
    CHECK_INT_EQ(pt_tcp_send(s, msg, sizeof(msg)), (ssize_t)sizeof(msg));
  }
  size_t got = 0;
  const size_t csm = 7; /* our CSM (with Block-Wise-Transfer) first */
  for (int i = 0; i < 100000 && got < csm + 64 * 1000; i++) {
    int n = tls_peer_read(&peer, all + got, sizeof(all) - got);
    CHECK(n >= 0);
    got += (size_t)n;
    pt_tcp_io(s, 0, 1, pt_now()); /* writable: the queue drains */
  }
  CHECK_UINT_EQ(got, csm + 64 * 1000);
  CHECK_UINT_EQ(all[1], 0xe1); /* the CSM */
  int in_order = 1;
  for (size_t i = csm; i < got; i++)
    in_order &= all[i] == (uint8_t)((i - csm) / 1000);
  CHECK_INT_EQ(in_order, 1);
  coap_session_release(s);
  tls_peer_free(&peer);
  close(sv[1]);
  coap_free_context(ctx);
}

TEST(tls_write_queue_past_its_cap_closes_the_connection) {
  dh_reset();
  coap_context_t *ctx = tls_client_ctx();
  int sv[2];
  CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  tls_peer peer;
  coap_session_t *s = paired_session(ctx, sv, &peer);
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(pt_tls_stream_connected(pt_tcp_pipe(s)), 1);
  static uint8_t big[65536];
  int refused_at = -1;
  for (int i = 0; i < 200 && refused_at < 0; i++) { /* the peer never reads */
    if (pt_tcp_send(s, big, sizeof(big)) < 0)
      refused_at = i;
    else /* as if the socket were writable: the pipe takes what it may */
      pt_tcp_io(s, 0, 1, pt_now());
  }
  /* The plaintext queue's cap, plus the pipe's bounded backlog and what
   * the socket holds. */
  CHECK(refused_at > (int)(PT_TCP_OUTQ_CAP / sizeof(big)) - 1);
  CHECK(refused_at <= (int)(PT_TCP_OUTQ_CAP / sizeof(big)) + 40);
  /* Refused inside a send, the connection is closed from a timer due at
   * once, so that nothing is freed under the sender. */
  CHECK(pt_tcp_send(s, big, 10) < 0);
  CHECK_INT_EQ(dh_cli_ev.tcp_failed, 0);
  pt_timers_run(ctx, pt_now());
  CHECK_INT_EQ(dh_cli_ev.tcp_failed, 1);
  CHECK_INT_EQ(s->fd, -1);
  CHECK(pt_tcp_send(s, big, 10) < 0);
  coap_session_release(s);
  tls_peer_free(&peer);
  close(sv[1]);
  coap_free_context(ctx);
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
  RUN(alpn_coap_and_the_identity_hint_callback);
  RUN(wrong_key_fails_fast_on_both_sides);
  RUN(silent_peer_is_closed_at_the_handshake_deadline);
  RUN(client_handshake_deadline_fails_its_requests);
  RUN(garbage_instead_of_a_client_hello_closes_only_that_connection);
  RUN(plaintext_coap_on_the_tls_port_is_refused);
  RUN(truncated_record_then_end_of_stream_fails_that_session);
  RUN(record_that_does_not_decrypt_fails_that_session);
  RUN(alert_mid_session_fails_that_session);
  RUN(close_notify_mid_session_is_a_clean_close);
  RUN(tls_pipelined_requests_are_answered_in_one_record);
  RUN(tls_write_queue_drains_in_order_behind_a_slow_reader);
  RUN(tls_write_queue_past_its_cap_closes_the_connection);
  coap_cleanup();
  return TEST_SUMMARY();
}
