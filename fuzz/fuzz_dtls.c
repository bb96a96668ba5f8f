/*
 * fuzz_dtls.c -- the DTLS server side (src/dtls.c, src/tls/openssl.c):
 * arbitrary sequences of datagrams from several peers on a DTLS endpoint,
 * interleaved with a real DTLS client (tests/dtls_peer.h) whose flights may
 * be cut or bit-flipped, so inputs reach past the cookie exchange into the
 * handshake and application data. The server's answers to peer 0 go back
 * to that client; time moves by a fake clock. At the end the context is
 * freed (ASan/LSan report any leak or double free), and the server must
 * never hold more handshakes than its limit.
 *
 * Input: records, each one opcode byte then its arguments:
 *   0 LEN XOR...   the client's next flight from peer 0, its first LEN
 *                  bytes XORed with the XOR bytes (LEN 0: as it is)
 *   1 PEER LEN DATA  a datagram of LEN bytes from peer PEER % 4
 *   2 T            the clock moves T x 100 ms and due timers run
 *   3 K            the client sends CoAP request K as application data
 *   4 CUT          the client's next flight from peer 0, cut to CUT bytes
 * Unknown opcodes are skipped; a short record ends the input.
 */
#include <stddef.h>
#include <stdint.h>

#include "../tests/dtls_peer.h"
#include "clock.h"
#include "context.h"
#include "dtls.h"
#include "session.h"

#define PEERS 4
#define MAX_HANDSHAKES 2

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dtls_peer client;
static coap_address_t peers[PEERS];

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

/* The server's datagrams: those to peer 0 reach the client. */
static void to_peer(const coap_address_t *to, const uint8_t *d, size_t n) {
  if (client.ssl && coap_address_equals(to, &peers[0]))
    dtls_peer_feed(&client, d, n);
}

static ssize_t fake_send(coap_session_t *s, const uint8_t *d, size_t n) {
  to_peer(&s->remote, d, n);
  return (ssize_t)n;
}

static ssize_t fake_send_to(coap_endpoint_t *ep, const coap_address_t *to,
                            const coap_address_t *local, int ifindex,
                            const uint8_t *d, size_t n) {
  (void)ep, (void)local, (void)ifindex;
  to_peer(to, d, n);
  return (ssize_t)n;
}

static coap_context_t *server(void) {
  coap_context_t *ctx = pt_context_new_detached();
  if (!ctx)
    return NULL;
  ctx->send = fake_send;
  ctx->send_to = fake_send_to;
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
  ep->proto = COAP_PROTO_DTLS;
  ep->fd = -1;
  ep->default_mtu = COAP_DEFAULT_MTU;
  coap_address_init(&ep->bind_addr);
  ep->bind_addr.addr.sin.sin_family = AF_INET;
  ep->bind_addr.addr.sin.sin_port = htons(5684);
  ep->bind_addr.size = sizeof(ep->bind_addr.addr.sin);
  ctx->endpoints = ep;
  if (pt_dtls_endpoint_init(ep) < 0) {
    coap_free_context(ctx);
    return NULL;
  }
  coap_context_set_max_handshake_sessions(ctx, MAX_HANDSHAKES);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  return ctx;
}

static void deliver(coap_context_t *ctx, int peer, const uint8_t *d, size_t n,
                    coap_tick_t now) {
  coap_endpoint_t *ep = ctx->endpoints;
  pt_dtls_endpoint_input(ep, &peers[peer], &ep->bind_addr, -1, d, n, now);
}

/* The client's pending flight, changed by @op's arguments. Returns the
 * bytes of input consumed, or 0 at a short record. */
static size_t flight(coap_context_t *ctx, uint8_t op, const uint8_t *in,
                     size_t left, coap_tick_t now) {
  uint8_t buf[4096];
  size_t n = dtls_peer_next(&client, buf, sizeof(buf));
  if (left < 1)
    return 0;
  size_t arg = in[0], used = 1;
  if (op == 0) { /* XOR the first arg bytes */
    if (left < 1 + arg)
      return 0;
    for (size_t i = 0; i < arg && i < n; i++)
      buf[i] ^= in[1 + i];
    used += arg;
  } else if (arg < n) { /* cut */
    n = arg;
  }
  if (n)
    deliver(ctx, 0, buf, n, now);
  return used;
}

static void request(uint8_t k) {
  uint8_t get[] = {0x40, 0x01, k, k, 0xb5, 'h', 'e', 'l', 'l', 'o'};
  if (k & 1)
    get[0] = 0x50; /* NON */
  if (SSL_is_init_finished(client.ssl))
    SSL_write(client.ssl, get, (int)(k & 2 ? 4 : sizeof(get)));
  ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  coap_tick_t now = 1000 * COAP_TICKS_PER_SECOND;
  pt_clock_set_fake(&now);
  if (getenv("FUZZ_DEBUG")) /* follow one input: FUZZ_DEBUG=1 fuzz_dtls FILE */
    coap_set_log_level(COAP_LOG_DEBUG);
  for (int i = 0; i < PEERS; i++) {
    coap_address_init(&peers[i]);
    peers[i].addr.sin.sin_family = AF_INET;
    peers[i].addr.sin.sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)i);
    peers[i].addr.sin.sin_port = htons(40000);
    peers[i].size = sizeof(peers[i].addr.sin);
  }
  coap_context_t *ctx = server();
  if (!ctx || dtls_peer_start(&client) < 0) {
    coap_free_context(ctx);
    dtls_peer_free(&client);
    pt_clock_set_fake(NULL);
    return 0;
  }
  size_t i = 0;
  while (i < size) {
    uint8_t op = data[i++];
    size_t left = size - i, used = 0;
    switch (op) {
    case 0:
    case 4:
      used = flight(ctx, op, data + i, left, now);
      break;
    case 1:
      if (left >= 2 && left >= 2u + data[i + 1]) {
        deliver(ctx, data[i] % PEERS, data + i + 2, data[i + 1], now);
        used = 2u + data[i + 1];
      }
      break;
    case 2:
      if (left >= 1) {
        now += (coap_tick_t)data[i] * COAP_TICKS_PER_SECOND / 10;
        pt_timers_run(ctx, now);
        used = 1;
      }
      break;
    case 3:
      if (left >= 1) {
        request(data[i]);
        used = 1;
      }
      break;
    default:
      continue;
    }
    if (!used)
      break;
    i += used;
    if (ctx->dtls_hs_count > MAX_HANDSHAKES)
      __builtin_trap();
  }
  coap_free_context(ctx); /* its close_notify still reaches the client */
  dtls_peer_free(&client);
  pt_clock_set_fake(NULL);
  return 0;
}
