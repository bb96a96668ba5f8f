/*
 * test_wss.c -- CoAP over secure WebSockets (RFC 8323 section 4 over TLS,
 * "coaps+ws"): the WebSocket layer (src/ws_conn.c) over the TLS byte pipe
 * (src/tls_stream.c) of a tcp.c connection. A server and a client context
 * in one process over loopback with pre-shared keys and the events in
 * order; our client against a raw TLS server (tls_peer.h) to see the
 * wire: TLS first, then the HTTP upgrade inside it, then masked frames;
 * the upgrade timeout on a fake clock, counted from the end of the TLS
 * handshake on both sides; the upgrade's Host over a socketpair (port
 * 443 left out); a plaintext HTTP upgrade on the WSS port failing only its
 * own connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "dtls_harness.h"
#include "tcp.h"
#include "tls_peer.h"
#include "tls_stream.h"
#include "ws.h"
#include "ws_conn.h"

static const uint8_t KEY[] = "secretPSK";

static int psk_server(coap_context_t *ctx) {
  coap_dtls_spsk_t sp;
  memset(&sp, 0, sizeof(sp));
  sp.version = COAP_DTLS_SPSK_SETUP_VERSION;
  sp.psk_info.key.s = KEY;
  sp.psk_info.key.length = sizeof(KEY) - 1;
  return coap_context_set_psk2(ctx, &sp);
}

static coap_session_t *psk_client(coap_context_t *ctx, uint16_t port,
                                  const char *identity, const char *key) {
  return dh_psk_client(ctx, port, COAP_PROTO_WSS, identity, key);
}

/* The connection events each side saw, in order. */
typedef struct seen {
  coap_event_t ev[32];
  int n, ws_connected, ws_closed;
} seen;
static seen cli_seen, srv_seen;

static int on_event(coap_session_t *s, coap_event_t e) {
  seen *w = coap_session_get_type(s) == COAP_SESSION_TYPE_CLIENT ? &cli_seen
                                                                 : &srv_seen;
  if (e != COAP_EVENT_SERVER_SESSION_NEW &&
      e != COAP_EVENT_SERVER_SESSION_DEL && w->n < 32)
    w->ev[w->n++] = e;
  w->ws_connected += e == COAP_EVENT_WS_CONNECTED;
  w->ws_closed += e == COAP_EVENT_WS_CLOSED;
  return dh_count(s, e);
}

static void reset(void) {
  dh_reset();
  memset(&cli_seen, 0, sizeof(cli_seen));
  memset(&srv_seen, 0, sizeof(srv_seen));
}

static int proto_in_handler;
static void hnd_proto(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)req, (void)q;
  proto_in_handler = coap_session_get_proto(s);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

static coap_context_t *wss_server(uint16_t *port) {
  dh_proto = COAP_PROTO_WSS;
  coap_context_t *srv = dh_server(psk_server, port);
  if (!srv)
    return NULL;
  coap_register_event_handler(srv, on_event);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("proto"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_proto);
  coap_add_resource(srv, r);
  return srv;
}

static coap_context_t *wss_client_ctx(void) {
  coap_context_t *cli = dh_client_ctx();
  if (cli)
    coap_register_event_handler(cli, on_event);
  return cli;
}

/* One GET /@path over @s; 1 if answered. */
static int get_ok(coap_context_t *srv, coap_context_t *cli, coap_session_t *s,
                  const char *path) {
  int before = dh_responses;
  if (dh_get(s, path) < 0)
    return 0;
  dh_pump(srv, cli, &dh_responses, before, 5000);
  return dh_responses == before + 1 && strcmp(dh_body, "hello") == 0;
}

/* ---- capabilities and setup ---------------------------------------------- */

TEST(wss_is_supported_with_tls) {
  CHECK_INT_EQ(coap_wss_is_supported(), 1);
  CHECK_INT_EQ(coap_wss_is_supported(), coap_tls_is_supported());
  coap_uri_t uri;
  const char *u = "coaps+ws://127.0.0.1/time";
  CHECK_INT_EQ(coap_split_uri((const uint8_t *)u, strlen(u), &uri), 0);
  CHECK_INT_EQ(uri.scheme, COAP_URI_SCHEME_COAPS_WS);
  CHECK_UINT_EQ(uri.port, 443);
}

TEST(wss_endpoint_needs_credentials) {
  coap_context_t *ctx = coap_new_context(NULL);
  coap_address_t a = dh_loopback(0);
  CHECK_NULL(coap_new_endpoint(ctx, &a, COAP_PROTO_WSS));
  CHECK_INT_EQ(psk_server(ctx), 1);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &a, COAP_PROTO_WSS);
  CHECK_NOT_NULL(ep);
  char want[64];
  snprintf(want, sizeof(want), "127.0.0.1:%u WSS",
           coap_address_get_port(&ep->bind_addr));
  CHECK_STR_EQ(coap_endpoint_str(ep), want);
  coap_free_context(ctx);
}

/* libcoap's default port for coaps+ws is 443 (https). */
TEST(wss_client_default_port_is_443) {
  coap_context_t *ctx = coap_new_context(NULL);
  coap_address_t a = dh_loopback(0);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_WSS);
  CHECK_NOT_NULL(s);
  CHECK_UINT_EQ(coap_address_get_port(coap_session_get_addr_remote(s)), 443);
  CHECK_INT_EQ(coap_session_get_proto(s), COAP_PROTO_WSS);
  coap_session_release(s);
  coap_free_context(ctx);
}

/* ---- a GET over coaps+ws, events in order -------------------------------- */

TEST(psk_get_over_wss_with_events_in_order) {
  reset();
  uint16_t port;
  coap_context_t *srv = wss_server(&port);
  coap_context_t *cli = wss_client_ctx();
  CHECK_NOT_NULL(srv);
  coap_session_t *s = psk_client(cli, port, "client-id", "secretPSK");
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(coap_session_get_proto(s), COAP_PROTO_WSS);
  /* Sent before TLS and the upgrade: held, then sent in order. */
  proto_in_handler = 0;
  CHECK_INT_EQ(dh_get(s, "proto"), 0);
  dh_pump(srv, cli, &dh_responses, 0, 5000);
  CHECK_INT_EQ(dh_responses, 1);
  CHECK_STR_EQ(dh_body, "hello");
  CHECK_INT_EQ(proto_in_handler, COAP_PROTO_WSS);
  dh_pump(srv, cli, &dh_cli_ev.session_connected, 0, 2000);
  CHECK_INT_EQ(coap_session_get_state(s), COAP_SESSION_STATE_ESTABLISHED);
  /* TCP, then TLS, then the WebSocket, then the CSM exchange. */
  CHECK_INT_EQ(cli_seen.n, 4);
  CHECK_INT_EQ(cli_seen.ev[0], COAP_EVENT_TCP_CONNECTED);
  CHECK_INT_EQ(cli_seen.ev[1], COAP_EVENT_DTLS_CONNECTED);
  CHECK_INT_EQ(cli_seen.ev[2], COAP_EVENT_WS_CONNECTED);
  CHECK_INT_EQ(cli_seen.ev[3], COAP_EVENT_SESSION_CONNECTED);
  CHECK_INT_EQ(srv_seen.n >= 4, 1);
  CHECK_INT_EQ(srv_seen.ev[0], COAP_EVENT_TCP_CONNECTED);
  CHECK_INT_EQ(srv_seen.ev[1], COAP_EVENT_DTLS_CONNECTED);
  CHECK_INT_EQ(srv_seen.ev[2], COAP_EVENT_WS_CONNECTED);
  CHECK_INT_EQ(srv_seen.ev[3], COAP_EVENT_SESSION_CONNECTED);
  coap_session_t *ss = dh_only_server_session(srv);
  CHECK_NOT_NULL(ss);
  CHECK_INT_EQ(coap_session_get_proto(ss), COAP_PROTO_WSS);
  const coap_bin_const_t *id = coap_session_get_psk_identity(ss);
  CHECK_NOT_NULL(id);
  CHECK_INT_EQ(id->length, 9);
  coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
  CHECK_NOT_NULL(coap_session_get_tls(s, &lib));
  CHECK_INT_EQ(lib, COAP_TLS_LIBRARY_OPENSSL);
  CHECK_INT_EQ(get_ok(srv, cli, s, "hello"), 1);
  /* Closing the client: the server frees its session after a clean TLS
   * close. */
  coap_session_release(s);
  dh_pump(srv, NULL, &dh_srv_ev.server_del, 0, 2000);
  CHECK_INT_EQ(dh_srv_ev.server_del, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  CHECK_INT_EQ(dh_srv_ev.closed, 1);
  CHECK_INT_EQ(dh_cli_ev.error, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 0);
  coap_free_context(cli);
  coap_free_context(srv);
}

/* A wrong key fails the TLS handshake: no upgrade is ever sent, and the
 * request fails with COAP_NACK_TLS_FAILED. */
TEST(wrong_key_fails_before_any_upgrade) {
  reset();
  uint16_t port;
  coap_context_t *srv = wss_server(&port);
  coap_context_t *cli = wss_client_ctx();
  coap_session_t *s = psk_client(cli, port, "client-id", "wrong-key");
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(srv, cli, &dh_cli_ev.error, 0, 5000);
  dh_pump(srv, cli, &dh_srv_ev.server_del, 0, 2000);
  CHECK_INT_EQ(dh_cli_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  CHECK_INT_EQ(cli_seen.ws_connected, 0);
  CHECK_INT_EQ(srv_seen.ws_connected, 0);
  CHECK_INT_EQ(dh_nacks, 1);
  CHECK_INT_EQ(dh_last_nack, COAP_NACK_TLS_FAILED);
  coap_session_release(s);
  coap_free_context(cli);
  coap_free_context(srv);
}

/* ---- the wire, seen by a raw TLS server -------------------------------- */

static int raw_listener(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  coap_address_t a = dh_loopback(0);
  socklen_t len = a.size;
  if (fd < 0 || bind(fd, &a.addr.sa, a.size) < 0 || listen(fd, 4) < 0)
    return -1;
  getsockname(fd, &a.addr.sa, &len);
  *port = coap_address_get_port(&a);
  return fd;
}

/* Runs @ctx until @lfd has a connection; accepts it, non-blocking. */
static int accept_pumped(coap_context_t *ctx, int lfd) {
  struct pollfd p = {.fd = lfd, .events = POLLIN};
  for (int i = 0; i < 200 && poll(&p, 1, 0) == 0; i++)
    coap_io_process(ctx, 5);
  int fd = accept(lfd, NULL, NULL);
  if (fd >= 0)
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* Steps @p's handshake while running @ctx. 1 when done. */
static int handshake_pumped(coap_context_t *ctx, tls_peer *p) {
  int r = 0;
  for (int i = 0; i < 400 && r == 0; i++) {
    coap_io_process(ctx, 5);
    r = tls_peer_step(p);
  }
  return r;
}

/* Plaintext from @p while running @ctx, until @needle is in it, the end,
 * or 2 s. The bytes read (NUL-terminated). */
static size_t read_until(coap_context_t *ctx, tls_peer *p, char *buf,
                         size_t cap, const char *needle) {
  size_t got = 0;
  buf[0] = 0;
  for (int i = 0; i < 400 && !strstr(buf, needle); i++) {
    coap_io_process(ctx, 5);
    int n = tls_peer_read(p, (uint8_t *)buf + got, cap - 1 - got);
    if (n < 0)
      break;
    got += (size_t)n;
    buf[got] = 0;
  }
  return got;
}

typedef struct raw_server {
  int lfd, fd;
  uint16_t port;
  tls_peer peer;
  coap_context_t *cli;
  coap_session_t *s;
  char req[2048];
} raw_server;

/* Our client to a raw TLS server whose handshake is done and which has
 * read the upgrade request. The first bytes on the wire are checked to be
 * a TLS handshake record: nothing is sent in plaintext. 0 or -1. */
static int raw_server_start(raw_server *r) {
  memset(r, 0, sizeof(*r));
  r->lfd = raw_listener(&r->port);
  r->cli = wss_client_ctx();
  coap_address_t dst = dh_loopback(r->port);
  coap_dtls_cpsk_t cp;
  memset(&cp, 0, sizeof(cp));
  cp.version = COAP_DTLS_CPSK_SETUP_VERSION;
  cp.psk_info.identity.s = (const uint8_t *)"peer";
  cp.psk_info.identity.length = 4;
  cp.psk_info.key.s = KEY;
  cp.psk_info.key.length = sizeof(KEY) - 1;
  r->s = coap_new_client_session_psk2(r->cli, NULL, &dst, COAP_PROTO_WSS, &cp);
  if (r->lfd < 0 || !r->s || dh_get(r->s, "hello") < 0)
    return -1;
  r->fd = accept_pumped(r->cli, r->lfd);
  uint8_t first = 0;
  struct pollfd p = {.fd = r->fd, .events = POLLIN};
  for (int i = 0; i < 200 && poll(&p, 1, 0) == 0; i++)
    coap_io_process(r->cli, 5);
  if (r->fd < 0 || recv(r->fd, &first, 1, MSG_PEEK) != 1 || first != 22)
    return -1; /* 22: a TLS handshake record (the ClientHello) */
  if (tls_peer_open(&r->peer, r->fd, 1) < 0 ||
      handshake_pumped(r->cli, &r->peer) != 1)
    return -1;
  read_until(r->cli, &r->peer, r->req, sizeof(r->req), "\r\n\r\n");
  return strstr(r->req, "\r\n\r\n") ? 0 : -1;
}

static void raw_server_end(raw_server *r) {
  if (r->s)
    coap_session_release(r->s);
  coap_free_context(r->cli);
  tls_peer_free(&r->peer);
  if (r->fd >= 0)
    close(r->fd);
  close(r->lfd);
}

TEST(client_sends_tls_then_the_upgrade_then_masked_frames) {
  reset();
  raw_server r;
  CHECK_INT_EQ(raw_server_start(&r), 0);
  /* The upgrade request came inside TLS, and nothing else yet: our CSM
   * and the GET wait for the 101 (RFC 6455 4.1). */
  CHECK(strncmp(r.req, "GET /.well-known/coap HTTP/1.1\r\n", 32) == 0);
  char host[64];
  snprintf(host, sizeof(host), "Host: 127.0.0.1:%u\r\n", r.port);
  CHECK_NOT_NULL(strstr(r.req, host));
  CHECK_NOT_NULL(strstr(r.req, "Sec-WebSocket-Protocol: coap\r\n"));
  CHECK_INT_EQ((int)strlen(r.req),
               (int)(strstr(r.req, "\r\n\r\n") + 4 - r.req));
  CHECK_INT_EQ(cli_seen.n, 2);
  CHECK_INT_EQ(cli_seen.ev[0], COAP_EVENT_TCP_CONNECTED);
  CHECK_INT_EQ(cli_seen.ev[1], COAP_EVENT_DTLS_CONNECTED);
  /* The 101, over TLS. */
  const char *k = strstr(r.req, "Sec-WebSocket-Key: ");
  CHECK_NOT_NULL(k);
  char accept[PT_WS_ACCEPT_LEN + 1], resp[512];
  CHECK(pt_ws_accept_value(k + 19, PT_WS_KEY_LEN, accept));
  int n = snprintf(resp, sizeof(resp),
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                   "Sec-WebSocket-Protocol: coap\r\n\r\n",
                   accept);
  CHECK_INT_EQ(SSL_write(r.peer.ssl, resp, n), n);
  /* Then masked binary frames: the CSM, then GET /hello. */
  pt_ws_decoder d;
  pt_ws_decoder_init(&d, 1, 65536);
  uint8_t buf[1024], kinds[2] = {0, 0}, codes[2] = {0, 0};
  int events = 0;
  for (int i = 0; i < 400 && events < 2; i++) {
    coap_io_process(r.cli, 5);
    int got = tls_peer_read(&r.peer, buf, sizeof(buf));
    const uint8_t *p = buf;
    size_t len = got > 0 ? (size_t)got : 0;
    pt_ws_event ev;
    while (events < 2 && pt_ws_next(&d, &p, &len, &ev)) {
      kinds[events] = (uint8_t)ev.kind;
      codes[events] = ev.len >= 2 ? ev.data[1] : 0;
      events++;
    }
  }
  pt_ws_decoder_free(&d);
  CHECK_INT_EQ(events, 2);
  CHECK_INT_EQ(kinds[0], PT_WS_EV_MESSAGE);
  CHECK_INT_EQ(codes[0], 0xe1); /* 7.01 CSM */
  CHECK_INT_EQ(kinds[1], PT_WS_EV_MESSAGE);
  CHECK_INT_EQ(codes[1], COAP_REQUEST_CODE_GET);
  CHECK_INT_EQ(cli_seen.ws_connected, 1);
  raw_server_end(&r);
}

/* A server that completes TLS and never answers the upgrade: the client
 * gives up after the upgrade timeout, counted from the end of the TLS
 * handshake. */
TEST(client_upgrade_timeout_runs_after_the_tls_handshake) {
  reset();
  raw_server r;
  coap_tick_t before;
  coap_ticks(&before); /* the timer was armed after this */
  CHECK_INT_EQ(raw_server_start(&r), 0);
  coap_tick_t after;
  coap_ticks(&after);
  unsigned ms = coap_petrel_context_get_ws_upgrade_timeout(r.cli);
  coap_tick_t span = (coap_tick_t)ms * COAP_TICKS_PER_SECOND / 1000u;
  pt_timers_run(r.cli, before + span - COAP_TICKS_PER_SECOND / 10);
  CHECK_INT_EQ(dh_cli_ev.tcp_failed, 0);
  CHECK_INT_EQ(dh_nacks, 0);
  pt_timers_run(r.cli, after + span + COAP_TICKS_PER_SECOND / 10);
  CHECK_INT_EQ(dh_cli_ev.tcp_failed, 1);
  CHECK_INT_EQ(dh_nacks, 1);
  CHECK_INT_EQ(dh_last_nack, COAP_NACK_NOT_DELIVERABLE);
  CHECK_INT_EQ(cli_seen.ws_connected, 0);
  CHECK_INT_EQ(coap_session_get_state(r.s), COAP_SESSION_STATE_NONE);
  raw_server_end(&r);
}

/* A client session of @ctx to 127.0.0.1:@port whose connection is sv[0]
 * of a socketpair, a raw TLS server (tls_peer.h) on sv[1]; the handshake
 * done, the upgrade request read into @req. NULL if that failed. */
static coap_session_t *paired_client(coap_context_t *ctx, uint16_t port,
                                     int sv[2], tls_peer *peer, char *req,
                                     size_t cap) {
  coap_address_t to = dh_loopback(port);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &to, COAP_PROTO_UDP);
  if (!s)
    return NULL;
  close(s->fd); /* the session carries the pair's end instead */
  s->fd = -1;
  s->proto = COAP_PROTO_WSS;
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
  size_t got = 0;
  req[0] = 0;
  for (int i = 0; i < 200 && !strstr(req, "\r\n\r\n"); i++) {
    pt_tcp_io(s, 1, 1, pt_now());
    if (tls_peer_step(peer) == 1) {
      int n = tls_peer_read(peer, (uint8_t *)req + got, cap - 1 - got);
      got += n > 0 ? (size_t)n : 0;
      req[got] = 0;
    }
  }
  return s;
}

/* The upgrade's Host names the port unless it is the scheme's default:
 * 443 for coaps+ws (RFC 7230 5.4), not 80 as for coap+ws. */
TEST(host_header_leaves_out_port_443_only) {
  static const struct {
    uint16_t port;
    const char *host;
  } cases[] = {
      {443, "Host: 127.0.0.1\r\n"},
      {80, "Host: 127.0.0.1:80\r\n"},
      {8443, "Host: 127.0.0.1:8443\r\n"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    reset();
    coap_context_t *ctx = wss_client_ctx();
    int sv[2];
    CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    tls_peer peer;
    char req[2048];
    coap_session_t *s =
        paired_client(ctx, cases[i].port, sv, &peer, req, sizeof(req));
    CHECK_NOT_NULL(s);
    CHECK(strncmp(req, "GET /.well-known/coap HTTP/1.1\r\n", 32) == 0);
    CHECK_NOT_NULL(strstr(req, cases[i].host));
    coap_session_release(s);
    tls_peer_free(&peer);
    close(sv[1]);
    coap_free_context(ctx);
  }
}

/* ---- the server side: the upgrade timeout and malformed input ----------- */

static int raw_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  coap_address_t a = dh_loopback(port);
  if (fd < 0 || connect(fd, &a.addr.sa, a.size) < 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static void until_sessions(coap_context_t *srv, size_t want) {
  for (int i = 0; i < 400 && pt_hashmap_size(&srv->sessions) != want; i++)
    coap_io_process(srv, 5);
}

/* A client that does TLS and then sends no upgrade: the upgrade timeout
 * runs from the end of the handshake (not from the TCP accept, which the
 * handshake's own deadline covers), and ends with 408 sent over TLS. */
TEST(server_upgrade_timeout_runs_after_the_tls_handshake) {
  reset();
  uint16_t port;
  coap_context_t *srv = wss_server(&port);
  CHECK_NOT_NULL(srv);
  coap_context_set_csm_timeout(srv, 120); /* not what ends it here */
  coap_petrel_context_set_ws_upgrade_timeout(srv, 2000);
  int fd = raw_connect(port);
  CHECK(fd >= 0);
  until_sessions(srv, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 1);
  coap_tick_t now;
  coap_ticks(&now);
  /* Still in the TLS handshake after more than the upgrade timeout. */
  pt_timers_run(srv, now + 3 * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 1);
  CHECK_INT_EQ(dh_srv_ev.tcp_closed, 0);
  tls_peer p;
  CHECK_INT_EQ(tls_peer_open(&p, fd, 0), 0);
  coap_tick_t before, after;
  coap_ticks(&before);
  CHECK_INT_EQ(handshake_pumped(srv, &p), 1);
  for (int i = 0; i < 10; i++)
    coap_io_process(srv, 5); /* the server sees the client's Finished */
  coap_ticks(&after);
  CHECK_INT_EQ(dh_srv_ev.connected, 1);
  coap_tick_t span = 2 * COAP_TICKS_PER_SECOND;
  pt_timers_run(srv, before + span - COAP_TICKS_PER_SECOND / 10);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 1);
  pt_timers_run(srv, after + span + COAP_TICKS_PER_SECOND / 10);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 0);
  CHECK_INT_EQ(dh_srv_ev.tcp_closed, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  CHECK_INT_EQ(srv_seen.ws_connected, 0);
  char got[256];
  read_until(srv, &p, got, sizeof(got), "\r\n\r\n");
  CHECK(strncmp(got, "HTTP/1.1 408 ", 13) == 0);
  tls_peer_free(&p);
  close(fd);
  coap_free_context(srv);
}

/* What came back on a connection the server refused: nothing, or TLS
 * alert records (content type 21) only. */
static int only_alerts(const uint8_t *got, size_t n) {
  size_t i = 0;
  while (i + 5 <= n && got[i] == 21)
    i += 5 + ((size_t)got[i + 3] << 8 | got[i + 4]);
  return i == n;
}

/* A coap+ws client on the coaps+ws port: its plaintext HTTP upgrade is
 * not a ClientHello. That connection fails with at most an alert (never an
 * HTTP answer in plaintext); an established coaps+ws session beside it
 * goes on working. */
TEST(plaintext_upgrade_on_the_wss_port_fails_only_that_connection) {
  reset();
  uint16_t port;
  coap_context_t *srv = wss_server(&port);
  coap_context_t *cli = wss_client_ctx();
  coap_session_t *good = psk_client(cli, port, "client-id", "secretPSK");
  CHECK_INT_EQ(get_ok(srv, cli, good, "hello"), 1);
  memset(&dh_srv_ev, 0, sizeof(dh_srv_ev));
  static const char upgrade[] =
      "GET /.well-known/coap HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Protocol: coap\r\nSec-WebSocket-Version: 13\r\n\r\n";
  int fd = raw_connect(port);
  CHECK(fd >= 0);
  CHECK_INT_EQ(send(fd, upgrade, sizeof(upgrade) - 1, 0),
               (ssize_t)sizeof(upgrade) - 1);
  uint8_t got[1024];
  size_t n = 0;
  int eof = 0;
  for (int i = 0; i < 400 && !eof; i++) {
    coap_io_process(srv, 5);
    ssize_t r = recv(fd, got + n, sizeof(got) - n, MSG_DONTWAIT);
    if (r > 0)
      n += (size_t)r;
    eof = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  CHECK_INT_EQ(eof, 1);
  CHECK_INT_EQ(only_alerts(got, n), 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  CHECK_INT_EQ(srv_seen.ws_connected, 1); /* the good session's only */
  close(fd);
  until_sessions(srv, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 1);
  CHECK_INT_EQ(get_ok(srv, cli, good, "hello"), 1);
  CHECK_INT_EQ(dh_cli_ev.error, 0);
  coap_session_release(good);
  coap_free_context(cli);
  coap_free_context(srv);
}

int main(void) {
  coap_startup();
  if (getenv("TEST_DEBUG")) {
    coap_set_log_level(COAP_LOG_DEBUG);
    coap_dtls_set_log_level(COAP_LOG_DEBUG);
  }
  RUN(wss_is_supported_with_tls);
  RUN(wss_endpoint_needs_credentials);
  RUN(wss_client_default_port_is_443);
  RUN(psk_get_over_wss_with_events_in_order);
  RUN(wrong_key_fails_before_any_upgrade);
  RUN(client_sends_tls_then_the_upgrade_then_masked_frames);
  RUN(client_upgrade_timeout_runs_after_the_tls_handshake);
  RUN(host_header_leaves_out_port_443_only);
  RUN(server_upgrade_timeout_runs_after_the_tls_handshake);
  RUN(plaintext_upgrade_on_the_wss_port_fails_only_that_connection);
  coap_cleanup();
  return TEST_SUMMARY();
}
