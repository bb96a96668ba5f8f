/*
 * test_dtls_server.c -- the DTLS server side under attack (src/dtls.c):
 * spoofed ClientHello floods, cookies bound to addresses, the handshake
 * limit and deadline, and bad records and alerts on an established
 * session. Datagrams are handed to pt_dtls_endpoint_input() directly with
 * made-up peer addresses (what a spoofer sends); the server's answers are
 * captured instead of sent.
 */
#include <malloc.h>

#include "dtls_harness.h"
#include "dtls_peer.h"

static const uint8_t KEY[] = "secretPSK";

static int psk_server(coap_context_t *ctx) {
  coap_dtls_spsk_t sp;
  memset(&sp, 0, sizeof(sp));
  sp.version = COAP_DTLS_SPSK_SETUP_VERSION;
  sp.psk_info.key.s = KEY;
  sp.psk_info.key.length = sizeof(KEY) - 1;
  return coap_context_set_psk2(ctx, &sp);
}

/* ---- captured answers ------------------------------------------------------
 */

static size_t hvr_count;         /* datagrams to peers without a session */
static size_t session_out_count; /* datagrams of sessions */
static uint8_t last_out[4096];   /* the last datagram of either kind */
static size_t last_out_len;

static ssize_t cap_send_to(coap_endpoint_t *ep, const coap_address_t *to,
                           const coap_address_t *local, int ifindex,
                           const uint8_t *data, size_t len) {
  (void)ep, (void)to, (void)local, (void)ifindex;
  hvr_count++;
  if (len <= sizeof(last_out)) {
    memcpy(last_out, data, len);
    last_out_len = len;
  }
  return (ssize_t)len;
}

static ssize_t cap_send(coap_session_t *s, const uint8_t *data, size_t len) {
  (void)s;
  session_out_count++;
  if (len <= sizeof(last_out)) {
    memcpy(last_out, data, len);
    last_out_len = len;
  }
  return (ssize_t)len;
}

static void capture(coap_context_t *ctx) {
  ctx->send_to = cap_send_to;
  ctx->send = cap_send;
  hvr_count = session_out_count = last_out_len = 0;
}

static coap_address_t spoofed(uint32_t i) {
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(0x0a000000u + (i >> 4)); /* 10/8 */
  a.addr.sin.sin_port = htons((uint16_t)(20000 + (i & 15)));
  a.size = sizeof(a.addr.sin);
  return a;
}

static void feed(coap_context_t *ctx, const coap_address_t *peer,
                 const uint8_t *data, size_t len) {
  coap_endpoint_t *ep = ctx->endpoints;
  coap_tick_t now;
  coap_ticks(&now);
  pt_dtls_endpoint_input(ep, peer, &ep->bind_addr, -1, data, len, now);
}

/* Heap bytes in use: the sanitizer's count when it owns malloc. */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));
static size_t heap_in_use(void) {
  if (__sanitizer_get_current_allocated_bytes)
    return __sanitizer_get_current_allocated_bytes();
  return mallinfo2().uordblks;
}

/* Drives @p's handshake with the server as @peer until the server has a
 * session for it (the cookie exchange done). 0 or -1. */
static int through_cookie(coap_context_t *srv, dtls_peer *p,
                          const coap_address_t *peer) {
  uint8_t buf[4096];
  size_t n = dtls_peer_next(p, buf, sizeof(buf)); /* ClientHello */
  size_t before = hvr_count;
  feed(srv, peer, buf, n);
  if (hvr_count != before + 1)
    return -1; /* no HelloVerifyRequest */
  dtls_peer_feed(p, last_out, last_out_len);
  n = dtls_peer_next(p, buf, sizeof(buf)); /* ClientHello with the cookie */
  feed(srv, peer, buf, n);
  return pt_session_find(srv->endpoints, peer) ? 0 : -1;
}

/* ---- the flood -------------------------------------------------------------
 */

/* Spoofed addresses (PETREL_DTLS_FLOOD overrides: valgrind runs fewer). */
#define FLOOD_DEFAULT 100000
#define FLOOD_BYTES_MAX 65536 /* the growth allowed over the whole flood */
static uint32_t flood_count(void) {
  const char *e = getenv("PETREL_DTLS_FLOOD");
  return e && atoi(e) > 0 ? (uint32_t)atoi(e) : FLOOD_DEFAULT;
}

TEST(spoofed_client_hello_flood_keeps_no_state) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  CHECK_NOT_NULL(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  uint8_t hello[2048];
  size_t hello_len = dtls_peer_next(&p, hello, sizeof(hello));
  CHECK(hello_len > 50);
  dtls_peer_free(&p);

  capture(srv);
  const uint32_t FLOOD = flood_count();
  for (uint32_t i = 0; i < 1000; i++) { /* warm up: the listener's SSL */
    coap_address_t a = spoofed(FLOOD + i);
    feed(srv, &a, hello, hello_len);
  }
  size_t base = heap_in_use();
  hvr_count = 0;
  for (uint32_t i = 0; i < FLOOD; i++) {
    coap_address_t a = spoofed(i);
    feed(srv, &a, hello, hello_len);
  }
  size_t after = heap_in_use();
  /* Every spoofed address got its HelloVerifyRequest, none a session. */
  CHECK_UINT_EQ(hvr_count, FLOOD);
  CHECK_UINT_EQ(session_out_count, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 0);
  CHECK_UINT_EQ(srv->dtls_hs_count, 0);
  CHECK_INT_EQ(dh_srv_ev.server_new, 0);
  printf("    heap after %u spoofed ClientHellos: %zu -> %zu bytes\n", FLOOD,
         base, after);
  CHECK(after < base + FLOOD_BYTES_MAX);

  /* A legitimate client still connects, over real sockets. */
  srv->send_to = pt_io_endpoint_send;
  srv->send = pt_io_send;
  coap_context_t *cli = dh_client_ctx();
  coap_address_t dst = dh_loopback(port);
  coap_session_t *s = coap_new_client_session_psk(
      cli, NULL, &dst, COAP_PROTO_DTLS, "me", KEY, sizeof(KEY) - 1);
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(srv, cli, &dh_responses, 0, 5000);
  CHECK_INT_EQ(dh_responses, 1);
  coap_session_release(s);
  coap_free_context(cli);
  coap_free_context(srv);
}

/* A cookie is good only for the address it was given to. */
TEST(cookie_is_bound_to_the_address) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  uint8_t buf[4096];
  size_t n = dtls_peer_next(&p, buf, sizeof(buf));
  coap_address_t a = spoofed(1), b = spoofed(2);
  feed(srv, &a, buf, n);
  CHECK_UINT_EQ(hvr_count, 1);
  dtls_peer_feed(&p, last_out, last_out_len);
  n = dtls_peer_next(&p, buf, sizeof(buf)); /* with a's cookie */
  feed(srv, &b, buf, n);                    /* ... from b */
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 0);
  CHECK_UINT_EQ(hvr_count, 2); /* b is asked for its own cookie */
  feed(srv, &a, buf, n);       /* from a: accepted */
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 1);
  CHECK_UINT_EQ(srv->dtls_hs_count, 1);
  CHECK(session_out_count >= 1); /* the ServerHello flight */
  dtls_peer_free(&p);
  coap_free_context(srv);
}

/* A client that stops after the cookie exchange is freed at the deadline;
 * the backend's retransmissions run from the same heap until then. */
TEST(abandoned_handshake_is_freed_at_the_deadline) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  coap_address_t a = spoofed(7);
  CHECK_INT_EQ(through_cookie(srv, &p, &a), 0);
  CHECK_INT_EQ(dh_srv_ev.server_new, 1);
  coap_tick_t now;
  coap_ticks(&now);
  CHECK(pt_timers_next(srv) > 0);
  /* OpenSSL's first retransmission is due after 1 s of its own clock,
   * which no fake clock moves: this part runs in real time. */
  size_t sent = session_out_count;
  for (int i = 0; i < 250 && session_out_count == sent; i++) {
    usleep(10000);
    coap_ticks(&now);
    pt_timers_run(srv, now);
  }
  CHECK(session_out_count > sent); /* the flight was sent again */
  pt_timers_run(srv,
                now + (PT_DTLS_HANDSHAKE_SECONDS + 1) * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(pt_hashmap_size(&srv->sessions), 0);
  CHECK_UINT_EQ(srv->dtls_hs_count, 0);
  CHECK_INT_EQ(dh_srv_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.server_del, 1);
  dtls_peer_free(&p);
  coap_free_context(srv);
}

TEST(max_handshake_sessions_drops_the_oldest) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  coap_context_set_max_handshake_sessions(srv, 2);
  capture(srv);
  dtls_peer p[3];
  coap_address_t a[3];
  for (int i = 0; i < 3; i++) {
    a[i] = spoofed(100 + (uint32_t)i);
    CHECK_INT_EQ(dtls_peer_start(&p[i]), 0);
    CHECK_INT_EQ(through_cookie(srv, &p[i], &a[i]), 0);
    CHECK(srv->dtls_hs_count <= 2);
  }
  CHECK_UINT_EQ(srv->dtls_hs_count, 2);
  CHECK_NULL(pt_session_find(srv->endpoints, &a[0])); /* the oldest went */
  CHECK_NOT_NULL(pt_session_find(srv->endpoints, &a[1]));
  CHECK_NOT_NULL(pt_session_find(srv->endpoints, &a[2]));
  for (int i = 0; i < 3; i++)
    dtls_peer_free(&p[i]);
  coap_free_context(srv);
}

/* Completes the handshake of @p as @peer through the capture: the server's
 * answers go back to the client. */
static int finish_handshake(coap_context_t *srv, dtls_peer *p,
                            const coap_address_t *peer) {
  uint8_t buf[4096];
  for (int round = 0; round < 8 && !SSL_is_init_finished(p->ssl); round++) {
    dtls_peer_feed(p, last_out, last_out_len);
    size_t n = dtls_peer_next(p, buf, sizeof(buf));
    if (n)
      feed(srv, peer, buf, n);
  }
  coap_session_t *s = pt_session_find(srv->endpoints, peer);
  return s && coap_session_get_state(s) == COAP_SESSION_STATE_ESTABLISHED ? 0
                                                                          : -1;
}

/* The whole handshake of @p as @peer, the cookie exchange first. */
static int handshake(coap_context_t *srv, dtls_peer *p,
                     const coap_address_t *peer) {
  if (through_cookie(srv, p, peer) < 0)
    return -1;
  return finish_handshake(srv, p, peer);
}

/* Sends GET /hello as an application record; returns the 2.05's payload
 * length seen by the client, or -1. */
static int get_hello(coap_context_t *srv, dtls_peer *p,
                     const coap_address_t *peer) {
  const uint8_t get[] = {0x40, 0x01, 0x12, 0x34, 0xb5, 'h', 'e', 'l', 'l', 'o'};
  uint8_t buf[4096];
  SSL_write(p->ssl, get, sizeof(get));
  size_t n = dtls_peer_next(p, buf, sizeof(buf));
  last_out_len = 0;
  feed(srv, peer, buf, n);
  if (!last_out_len)
    return -1;
  BIO_write(SSL_get_rbio(p->ssl), last_out, (int)last_out_len);
  int r = SSL_read(p->ssl, buf, sizeof(buf));
  ERR_clear_error();
  return r > 4 && buf[1] == COAP_RESPONSE_CODE_CONTENT ? r : -1;
}

TEST(bad_records_and_spoofed_alerts_do_not_break_a_session) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  coap_address_t a = spoofed(9);
  CHECK_INT_EQ(handshake(srv, &p, &a), 0);
  CHECK_INT_EQ(dh_srv_ev.connected, 1);
  CHECK(get_hello(srv, &p, &a) > 0);
  /* Garbage, a truncated record header, a record whose length lies, an
   * application record that fails to decrypt, a plaintext fatal alert in
   * epoch 0, and plaintext CoAP. */
  const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef};
  const uint8_t short_hdr[] = {23, 0xfe, 0xfd, 0, 1};
  const uint8_t long_len[] = {23, 0xfe, 0xfd, 0,    1,    0, 0, 0,
                              0,  0,    9,    0x40, 0x00, 1, 2};
  uint8_t bad_mac[64] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 50, 0, 40};
  const uint8_t alert[] = {21, 0xfe, 0xfd, 0, 0, 0, 0, 0,
                           0,  0,    99,   0, 2, 2, 40};
  const uint8_t coap[] = {0x40, 0x01, 0x12, 0x35};
  feed(srv, &a, junk, sizeof(junk));
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  feed(srv, &a, short_hdr, sizeof(short_hdr));
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  feed(srv, &a, long_len, sizeof(long_len));
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  feed(srv, &a, bad_mac, 13 + 40);
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  feed(srv, &a, alert, sizeof(alert));
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  feed(srv, &a, coap, sizeof(coap));
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  feed(srv, &a, junk, 0);
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  CHECK_NOT_NULL(pt_session_find(srv->endpoints, &a));
  CHECK(get_hello(srv, &p, &a) > 0);
  /* A replayed record is dropped (the replay window is on). */
  const uint8_t get[] = {0x40, 0x01, 0x12, 0x36, 0xb5, 'h', 'e', 'l', 'l', 'o'};
  uint8_t rec[256];
  SSL_write(p.ssl, get, sizeof(get));
  size_t n = dtls_peer_next(&p, rec, sizeof(rec));
  last_out_len = 0;
  feed(srv, &a, rec, n);
  CHECK(last_out_len > 0);
  last_out_len = 0;
  feed(srv, &a, rec, n);
  CHECK_UINT_EQ(last_out_len, 0); /* not even a duplicate's answer */
  /* The client's real alert (close_notify) closes the session. */
  SSL_shutdown(p.ssl);
  n = dtls_peer_next(&p, rec, sizeof(rec));
  feed(srv, &a, rec, n);
  CHECK_INT_EQ(dh_srv_ev.closed, 1);
  CHECK_NULL(pt_session_find(srv->endpoints, &a));
  dtls_peer_free(&p);
  coap_free_context(srv);
}

/* A datagram may carry several records (RFC 6347 4.1.1): every one is
 * read, up to a close_notify after application data. */
TEST(every_record_of_a_datagram_is_read) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  coap_address_t a = spoofed(12);
  CHECK_INT_EQ(handshake(srv, &p, &a), 0);
  uint8_t get[] = {0x40, 0x01, 0x20, 0x00, 0xb5, 'h', 'e', 'l', 'l', 'o'};
  for (int i = 0; i < 3; i++) {
    get[3] = (uint8_t)i; /* three message IDs */
    SSL_write(p.ssl, get, sizeof(get));
  }
  uint8_t buf[4096];
  size_t n = dtls_peer_next(&p, buf, sizeof(buf)); /* one datagram */
  session_out_count = 0;
  feed(srv, &a, buf, n);
  CHECK_UINT_EQ(session_out_count, 3);
  /* A request and the close_notify behind it. */
  get[3] = 3;
  SSL_write(p.ssl, get, sizeof(get));
  SSL_shutdown(p.ssl);
  n = dtls_peer_next(&p, buf, sizeof(buf));
  session_out_count = 0;
  feed(srv, &a, buf, n);
  CHECK_UINT_EQ(session_out_count, 1);
  CHECK_INT_EQ(dh_srv_ev.closed, 1);
  CHECK_NULL(pt_session_find(srv->endpoints, &a));
  dtls_peer_free(&p);
  coap_free_context(srv);
}

/* An error that something else left in OpenSSL's queue of this thread is
 * not taken for a failure of the association, in or after the
 * handshake. */
TEST(stale_openssl_errors_do_not_fail_a_session) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  coap_address_t a = spoofed(13);
  CHECK_INT_EQ(through_cookie(srv, &p, &a), 0);
  uint8_t buf[4096];
  for (int round = 0; round < 8 && !SSL_is_init_finished(p.ssl); round++) {
    dtls_peer_feed(&p, last_out, last_out_len);
    size_t n = dtls_peer_next(&p, buf, sizeof(buf));
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    if (n)
      feed(srv, &a, buf, n);
  }
  CHECK_INT_EQ(dh_srv_ev.connected, 1);
  const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef};
  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
  feed(srv, &a, junk, sizeof(junk)); /* read finds no record */
  CHECK_INT_EQ(dh_srv_ev.error, 0);
  CHECK_NOT_NULL(pt_session_find(srv->endpoints, &a));
  CHECK(get_hello(srv, &p, &a) > 0);
  ERR_clear_error();
  dtls_peer_free(&p);
  coap_free_context(srv);
}

/* The server neither issues session tickets nor keeps a session cache: a
 * client offering its last session gets a full handshake. */
TEST(server_makes_full_handshakes_only) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  coap_address_t a = spoofed(14);
  CHECK_INT_EQ(handshake(srv, &p, &a), 0);
  SSL_SESSION *old = SSL_get1_session(p.ssl);
  CHECK_NOT_NULL(old);
  CHECK_INT_EQ(SSL_SESSION_has_ticket(old), 0);
  unsigned id_len = 99;
  SSL_SESSION_get_id(old, &id_len);
  CHECK_UINT_EQ(id_len, 0); /* no session ID was sent either */
  dtls_peer again;
  CHECK_INT_EQ(dtls_peer_start_resuming(&again, "PSK", old), 0);
  coap_address_t b = spoofed(15);
  CHECK_INT_EQ(handshake(srv, &again, &b), 0);
  CHECK_INT_EQ(SSL_session_reused(again.ssl), 0);
  CHECK(get_hello(srv, &again, &b) > 0);
  SSL_SESSION_free(old);
  dtls_peer_free(&again);
  dtls_peer_free(&p);
  coap_free_context(srv);
}

/* The server's flight timer runs during the handshake and stops with it:
 * once the client's Finished is in nothing is due for seconds (the next
 * deadlines are the session's idle and exchange timers), nor after a
 * request. */
TEST(flight_timer_stops_when_the_handshake_completes) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  coap_address_t a = spoofed(16);
  CHECK_INT_EQ(through_cookie(srv, &p, &a), 0);
  coap_tick_t now;
  coap_ticks(&now);
  CHECK(pt_timers_next(srv) <= now + 2 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(finish_handshake(srv, &p, &a), 0);
  coap_ticks(&now);
  coap_tick_t next = pt_timers_next(srv);
  CHECK(next == 0 || next > now + 2 * COAP_TICKS_PER_SECOND);
  CHECK(get_hello(srv, &p, &a) > 0);
  coap_ticks(&now);
  next = pt_timers_next(srv);
  CHECK(next == 0 || next > now + 2 * COAP_TICKS_PER_SECOND);
  dtls_peer_free(&p);
  coap_free_context(srv);
}

/* RFC 7252 9.1.3.1: TLS_PSK_WITH_AES_128_CCM_8 is mandatory to implement.
 * A client offering only that suite completes its handshake and is
 * answered. */
TEST(mandatory_psk_ccm8_suite_is_accepted) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start_with(&p, "PSK-AES128-CCM8"), 0);
  coap_address_t a = spoofed(11);
  CHECK_INT_EQ(handshake(srv, &p, &a), 0);
  CHECK_STR_EQ(SSL_CIPHER_get_name(SSL_get_current_cipher(p.ssl)),
               "PSK-AES128-CCM8");
  CHECK(get_hello(srv, &p, &a) > 0);
  dtls_peer_free(&p);
  coap_free_context(srv);
}

/* The suite a client offering @offer gets from @srv as @peer (empty when
 * the handshake failed), after a GET answered on it. */
static const char *suite_for(coap_context_t *srv, const char *offer,
                             uint32_t peer, char *name, size_t cap) {
  dtls_peer p;
  coap_address_t a = spoofed(peer);
  name[0] = 0;
  if (dtls_peer_start_with(&p, offer) == 0 && handshake(srv, &p, &a) == 0 &&
      get_hello(srv, &p, &a) > 0)
    snprintf(name, cap, "%s",
             SSL_CIPHER_get_name(SSL_get_current_cipher(p.ssl)));
  dtls_peer_free(&p);
  return name;
}

/* The server picks from the client's offer in its own order: forward
 * secrecy first, then AES-GCM before ChaCha20-Poly1305 (cheaper per
 * record with AES hardware) and CCM_8 (a 64-bit tag) last, unless the
 * client puts ChaCha20 first (SSL_OP_PRIORITIZE_CHACHA). */
TEST(server_chooses_the_suite_in_its_own_order) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  char name[64];
  CHECK_STR_EQ(suite_for(srv,
                         "PSK-AES128-CCM8:PSK-CHACHA20-POLY1305:"
                         "PSK-AES128-GCM-SHA256",
                         20, name, sizeof(name)),
               "PSK-AES128-GCM-SHA256");
  CHECK_STR_EQ(suite_for(srv, "PSK-AES128-CCM8:PSK-CHACHA20-POLY1305", 21, name,
                         sizeof(name)),
               "PSK-CHACHA20-POLY1305");
  CHECK_STR_EQ(suite_for(srv, "PSK-CHACHA20-POLY1305:PSK-AES128-GCM-SHA256", 22,
                         name, sizeof(name)),
               "PSK-CHACHA20-POLY1305");
  CHECK_STR_EQ(suite_for(srv,
                         "PSK-AES128-GCM-SHA256:ECDHE-PSK-CHACHA20-POLY1305",
                         23, name, sizeof(name)),
               "ECDHE-PSK-CHACHA20-POLY1305");
  CHECK_STR_EQ(suite_for(srv, "PSK", 24, name, sizeof(name)),
               "ECDHE-PSK-CHACHA20-POLY1305");
  coap_free_context(srv);
}

/* The server makes a session ID per handshake (a counter, not a random
 * draw) only because OpenSSL wants one: without a session cache it is
 * neither sent in the ServerHello nor kept in the session. */
TEST(server_session_ids_are_not_sent) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  for (uint32_t i = 0; i < 2; i++) {
    dtls_peer p;
    coap_address_t a = spoofed(30 + i);
    CHECK_INT_EQ(dtls_peer_start(&p), 0);
    CHECK_INT_EQ(handshake(srv, &p, &a), 0);
    unsigned len = 99;
    SSL_SESSION_get_id(SSL_get_session(p.ssl), &len);
    CHECK_UINT_EQ(len, 0);
    SSL *ssl = coap_session_get_tls(pt_session_find(srv->endpoints, &a), NULL);
    CHECK_NOT_NULL(ssl);
    len = 99;
    SSL_SESSION_get_id(SSL_get_session(ssl), &len);
    CHECK_UINT_EQ(len, 0);
    CHECK(get_hello(srv, &p, &a) > 0);
    dtls_peer_free(&p);
  }
  coap_free_context(srv);
}

/* A client that restarts on the same address and port starts over: its
 * new ClientHello goes through the cookie exchange, and only the cookie
 * ends the old association (RFC 6347 4.2.8). */
TEST(restarted_client_replaces_its_session) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  capture(srv);
  dtls_peer old, fresh;
  CHECK_INT_EQ(dtls_peer_start(&old), 0);
  coap_address_t a = spoofed(12);
  CHECK_INT_EQ(handshake(srv, &old, &a), 0);
  coap_session_t *first = pt_session_find(srv->endpoints, &a);
  /* A spoofed ClientHello alone only gets a HelloVerifyRequest. */
  CHECK_INT_EQ(dtls_peer_start(&fresh), 0);
  uint8_t buf[4096];
  size_t n = dtls_peer_next(&fresh, buf, sizeof(buf));
  size_t hvr = hvr_count;
  feed(srv, &a, buf, n);
  CHECK_UINT_EQ(hvr_count, hvr + 1);
  uint8_t hvr_msg[512];
  size_t hvr_len = last_out_len < sizeof(hvr_msg) ? last_out_len : 0;
  memcpy(hvr_msg, last_out, hvr_len);
  CHECK(pt_session_find(srv->endpoints, &a) == first);
  CHECK(get_hello(srv, &old, &a) > 0); /* the old one still works */
  /* With the cookie returned, the new handshake replaces it. */
  dtls_peer_feed(&fresh, hvr_msg, hvr_len);
  n = dtls_peer_next(&fresh, buf, sizeof(buf));
  feed(srv, &a, buf, n);
  CHECK_INT_EQ(dh_srv_ev.closed, 1);
  CHECK_INT_EQ(dh_srv_ev.server_new, 2);
  coap_session_t *second = pt_session_find(srv->endpoints, &a);
  CHECK_NOT_NULL(second);
  CHECK_INT_EQ(coap_session_get_state(second), COAP_SESSION_STATE_HANDSHAKE);
  for (int round = 0; round < 8 && !SSL_is_init_finished(fresh.ssl); round++) {
    dtls_peer_feed(&fresh, last_out, last_out_len);
    n = dtls_peer_next(&fresh, buf, sizeof(buf));
    if (n)
      feed(srv, &a, buf, n);
  }
  CHECK(get_hello(srv, &fresh, &a) > 0);
  dtls_peer_free(&old);
  dtls_peer_free(&fresh);
  coap_free_context(srv);
}

/* The idle timeout frees an established DTLS session like any other. */
TEST(idle_session_is_freed) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(psk_server, &port);
  coap_context_set_session_timeout(srv, 10);
  capture(srv);
  dtls_peer p;
  CHECK_INT_EQ(dtls_peer_start(&p), 0);
  coap_address_t a = spoofed(11);
  CHECK_INT_EQ(handshake(srv, &p, &a), 0);
  coap_tick_t now;
  coap_ticks(&now);
  pt_timers_run(srv, now + 11 * COAP_TICKS_PER_SECOND);
  pt_timers_run(srv, now + 22 * COAP_TICKS_PER_SECOND);
  CHECK_NULL(pt_session_find(srv->endpoints, &a));
  CHECK_INT_EQ(dh_srv_ev.closed, 1); /* close_notify went to the client */
  dtls_peer_free(&p);
  coap_free_context(srv);
}

int main(void) {
  coap_startup();
  if (getenv("TEST_DEBUG")) {
    coap_set_log_level(COAP_LOG_DEBUG);
    coap_dtls_set_log_level(COAP_LOG_DEBUG);
  }
  RUN(spoofed_client_hello_flood_keeps_no_state);
  RUN(cookie_is_bound_to_the_address);
  RUN(abandoned_handshake_is_freed_at_the_deadline);
  RUN(max_handshake_sessions_drops_the_oldest);
  RUN(bad_records_and_spoofed_alerts_do_not_break_a_session);
  RUN(every_record_of_a_datagram_is_read);
  RUN(stale_openssl_errors_do_not_fail_a_session);
  RUN(server_makes_full_handshakes_only);
  RUN(flight_timer_stops_when_the_handshake_completes);
  RUN(mandatory_psk_ccm8_suite_is_accepted);
  RUN(server_chooses_the_suite_in_its_own_order);
  RUN(server_session_ids_are_not_sent);
  RUN(restarted_client_replaces_its_session);
  RUN(idle_session_is_freed);
  coap_cleanup();
  return TEST_SUMMARY();
}
