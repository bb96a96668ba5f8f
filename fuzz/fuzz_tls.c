/*
 * fuzz_tls.c -- the TLS server side of CoAP over TLS (src/tls_stream.c,
 * src/tls/openssl_stream.c, with tcp.c's framing above): arbitrary byte
 * streams on two connections of a TLS endpoint, one of them shared with a
 * real TLS client (OpenSSL over memory BIOs) whose output may be cut or
 * bit-flipped, so inputs reach past the ClientHello into the handshake,
 * the CSM and requests. The connections are socketpairs; the server's
 * answers on connection 0 go back to that client; time moves by a fake
 * clock. At the end the context is freed (ASan/LSan report any leak or
 * double free). Each input runs twice: on a coaps+tcp endpoint, then on a
 * coaps+ws one (the WebSocket layer over the same pipe).
 *
 * Input: records, each one opcode byte then its arguments:
 *   0 LEN XOR...   the client's pending bytes to connection 0, the first
 *                  LEN bytes XORed with the XOR bytes (LEN 0: as they are)
 *   1 CONN LEN DATA  LEN raw bytes to connection CONN % 2
 *   2 T            the clock moves T x 100 ms and due timers run
 *   3 K            the client writes CoAP message K (CSM when K is even,
 *                  else a GET /hello) as application data; on coaps+ws
 *                  in a masked binary frame, or, when K % 4 is 0, the
 *                  HTTP upgrade request instead
 *   4 CUT          the client's pending bytes, cut to CUT bytes
 *   5 CONN         the peer of connection CONN % 2 ends its stream
 * Unknown opcodes are skipped; a short record ends the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "context.h"
#include "session.h"
#include "tcp.h"

#define CONNS 2

static coap_proto_t proto; /* the endpoint's: COAP_PROTO_TLS or _WSS */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the TLS client over memory BIOs ------------------------------------ */

typedef struct client {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in, *out; /* what the server sent; what we send */
} client;

static unsigned client_psk(SSL *ssl, const char *hint, char *identity,
                           unsigned max_id, unsigned char *psk,
                           unsigned max_psk) {
  (void)ssl, (void)hint;
  if (max_id < 6 || max_psk < 9)
    return 0;
  memcpy(identity, "fuzzy", 6);
  memcpy(psk, "secretPSK", 9);
  return 9;
}

static int client_start(client *c) {
  memset(c, 0, sizeof(*c));
  c->ctx = SSL_CTX_new(TLS_client_method());
  if (!c->ctx)
    return -1;
  SSL_CTX_set_cipher_list(c->ctx, "PSK");
  SSL_CTX_set_psk_client_callback(c->ctx, client_psk);
  c->ssl = SSL_new(c->ctx);
  c->in = BIO_new(BIO_s_mem());
  c->out = BIO_new(BIO_s_mem());
  if (!c->ssl || !c->in || !c->out) {
    BIO_free(c->in);
    BIO_free(c->out);
    return -1;
  }
  BIO_set_mem_eof_return(c->in, -1);
  SSL_set_bio(c->ssl, c->in, c->out);
  SSL_set_connect_state(c->ssl);
  SSL_do_handshake(c->ssl);
  ERR_clear_error();
  return 0;
}

static void client_feed(client *c, const uint8_t *d, size_t n) {
  BIO_write(c->in, d, (int)n);
  if (!SSL_is_init_finished(c->ssl)) {
    SSL_do_handshake(c->ssl);
  } else {
    uint8_t buf[4096]; /* what the server said: read and dropped */
    while (SSL_read(c->ssl, buf, sizeof(buf)) > 0)
      ;
  }
  ERR_clear_error();
}

static void client_free(client *c) {
  SSL_free(c->ssl); /* frees both BIOs */
  SSL_CTX_free(c->ctx);
  memset(c, 0, sizeof(*c));
}

/* ---- the server and its connections ------------------------------------- */

static client cl;
static coap_address_t peers[CONNS];
static int far_end[CONNS]; /* the peer's end of each socketpair */

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

static coap_context_t *server(void) {
  coap_context_t *ctx = pt_context_new_detached();
  if (!ctx)
    return NULL;
  coap_dtls_spsk_t sp;
  memset(&sp, 0, sizeof(sp));
  sp.version = COAP_DTLS_SPSK_SETUP_VERSION;
  sp.psk_info.hint.s = (const uint8_t *)"hint";
  sp.psk_info.hint.length = 4;
  sp.psk_info.key.s = (const uint8_t *)"secretPSK";
  sp.psk_info.key.length = 9;
  coap_endpoint_t *ep = calloc(1, sizeof(*ep));
  if (!coap_context_set_psk2(ctx, &sp) || !ep) {
    free(ep);
    coap_free_context(ctx);
    return NULL;
  }
  ep->context = ctx;
  ep->proto = proto;
  ep->fd = -1;
  ep->default_mtu = COAP_DEFAULT_MTU;
  coap_address_init(&ep->bind_addr);
  ep->bind_addr.addr.sin.sin_family = AF_INET;
  ep->bind_addr.addr.sin.sin_port = htons(5684);
  ep->bind_addr.size = sizeof(ep->bind_addr.addr.sin);
  ctx->endpoints = ep;
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  return ctx;
}

/* Accepts connection @i as pt_tcp_accept() does, over a socketpair. */
static void connect_peer(coap_context_t *ctx, int i, coap_tick_t now) {
  int sv[2];
  far_end[i] = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
    return;
  coap_session_t *s = pt_session_for_peer(ctx->endpoints, &peers[i],
                                          &ctx->endpoints->bind_addr, -1, now);
  if (!s || s->tcp || pt_tcp_attach(s, sv[0], 0, now) < 0) {
    if (!s || !s->tcp)
      close(sv[0]);
    if (s)
      pt_session_close(s, COAP_NACK_NOT_DELIVERABLE);
    close(sv[1]);
    return;
  }
  far_end[i] = sv[1];
}

/* Lets every live connection read and write, and hands what the server
 * sent on connection 0 to the client. */
static void step(coap_context_t *ctx, coap_tick_t now) {
  for (int i = 0; i < CONNS; i++) {
    coap_session_t *s = pt_session_find(ctx->endpoints, &peers[i]);
    if (s && s->tcp)
      pt_tcp_io(s, 1, 1, now);
    uint8_t buf[8192];
    ssize_t n;
    while (far_end[i] >= 0 &&
           (n = recv(far_end[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
      if (i == 0 && cl.ssl)
        client_feed(&cl, buf, (size_t)n);
  }
}

static void to_conn(int i, const uint8_t *d, size_t n) {
  if (far_end[i] >= 0 && n)
    (void)send(far_end[i], d, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* The client's pending bytes, changed by @op's arguments. Returns the
 * input bytes consumed, or 0 at a short record. */
static size_t flight(uint8_t op, const uint8_t *in, size_t left) {
  if (left < 1)
    return 0;
  size_t arg = in[0], used = 1;
  if (op == 0 && left < 1 + arg)
    return 0;
  uint8_t buf[16384];
  int got = BIO_read(cl.out, buf, sizeof(buf));
  size_t n = got > 0 ? (size_t)got : 0;
  if (op == 0) {
    for (size_t i = 0; i < arg && i < n; i++)
      buf[i] ^= in[1 + i];
    used += arg;
  } else if (arg < n) {
    n = arg;
  }
  to_conn(0, buf, n);
  return used;
}

/* coaps+ws: the upgrade request, or message @msg in a binary frame
 * masked with a zero key (legal, and the payload stays as it is). */
static void ws_request(uint8_t k, uint8_t *msg, size_t len) {
  static const char upgrade[] =
      "GET /.well-known/coap HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Protocol: coap\r\nSec-WebSocket-Version: 13\r\n\r\n";
  uint8_t frame[6 + 16] = {0x82, (uint8_t)(0x80 | len), 0, 0, 0, 0};
  if (k % 4 == 0) {
    SSL_write(cl.ssl, upgrade, sizeof(upgrade) - 1);
    return;
  }
  msg[0] &= 0x0f; /* RFC 8323 4.4: Len 0 */
  memcpy(frame + 6, msg, len);
  SSL_write(cl.ssl, frame, (int)(6 + len));
}

static void request(uint8_t k) {
  uint8_t csm[] = {0x30, 0xe1, 0x22, 0x04, 0x80};
  uint8_t get[] = {0x61, 0x01, k, 0xb5, 'h', 'e', 'l', 'l', 'o'};
  if (SSL_is_init_finished(cl.ssl)) {
    uint8_t *msg = k & 1 ? get : csm;
    size_t len = k & 1 ? sizeof(get) : sizeof(csm);
    if (proto == COAP_PROTO_WSS)
      ws_request(k, msg, len);
    else
      SSL_write(cl.ssl, msg, (int)len);
  }
  ERR_clear_error();
}

static size_t run_op(coap_context_t *ctx, uint8_t op, const uint8_t *in,
                     size_t left, coap_tick_t *now) {
  switch (op) {
  case 0:
  case 4:
    return flight(op, in, left);
  case 1:
    if (left < 2 || left < 2u + in[1])
      return 0;
    to_conn(in[0] % CONNS, in + 2, in[1]);
    return 2u + in[1];
  case 2:
    if (left < 1)
      return 0;
    *now += (coap_tick_t)in[0] * COAP_TICKS_PER_SECOND / 10;
    pt_timers_run(ctx, *now);
    return 1;
  case 3:
    if (left < 1)
      return 0;
    request(in[0]);
    return 1;
  case 5:
    if (left < 1)
      return 0;
    if (far_end[in[0] % CONNS] >= 0)
      shutdown(far_end[in[0] % CONNS], SHUT_WR);
    return 1;
  default:
    return (size_t)-1; /* skipped */
  }
}

static void run_input(const uint8_t *data, size_t size) {
  coap_tick_t now = 1000 * COAP_TICKS_PER_SECOND;
  pt_clock_set_fake(&now);
  if (getenv("FUZZ_DEBUG")) { /* follow one input: FUZZ_DEBUG=1 fuzz_tls F */
    coap_set_log_level(COAP_LOG_DEBUG);
    coap_dtls_set_log_level(COAP_LOG_DEBUG);
  }
  for (int i = 0; i < CONNS; i++) {
    coap_address_init(&peers[i]);
    peers[i].addr.sin.sin_family = AF_INET;
    peers[i].addr.sin.sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)i);
    peers[i].addr.sin.sin_port = htons(40000);
    peers[i].size = sizeof(peers[i].addr.sin);
    far_end[i] = -1;
  }
  coap_context_t *ctx = server();
  if (ctx && client_start(&cl) == 0) {
    for (int i = 0; i < CONNS; i++)
      connect_peer(ctx, i, now);
    size_t i = 0;
    while (i < size) {
      uint8_t op = data[i++];
      size_t used = run_op(ctx, op, data + i, size - i, &now);
      if (used == (size_t)-1)
        continue;
      if (!used)
        break;
      i += used;
      step(ctx, now);
    }
  }
  coap_free_context(ctx); /* closes the server's ends */
  for (int i = 0; i < CONNS; i++)
    if (far_end[i] >= 0)
      close(far_end[i]);
  client_free(&cl);
  pt_clock_set_fake(NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  proto = COAP_PROTO_TLS;
  run_input(data, size);
  proto = COAP_PROTO_WSS;
  run_input(data, size);
  return 0;
}
