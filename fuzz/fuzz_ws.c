/*
 * fuzz_ws.c -- the server side of a coap+ws connection (RFC 8323 section
 * 4) fed arbitrary bytes: the HTTP upgrade, then WebSocket frames carrying
 * CoAP messages, through the same sans-I/O entry the socket feeds
 * (pt_tcp_input), with the fake clock moving so that the upgrade timeout
 * and the CSM timeout fire too. What the server writes goes to its write
 * queue (no socket). At the end the context is freed: ASan/LSan report any
 * leak, double free or overflow.
 *
 * Input: one byte F, then the bytes of the connection.
 *   F & 1         a valid upgrade request comes first (so that most inputs
 *                 reach the frame decoder)
 *   F >> 1        the bytes are fed in pieces of (F >> 1) + 1 bytes, the
 *                 clock moving 100 ms after each
 */
#include <stddef.h>
#include <stdint.h>

#include "../tests/core_harness.h"
#include "tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

static const char request[] = "GET /.well-known/coap HTTP/1.1\r\n"
                              "Host: fuzz\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Protocol: coap\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";

/* Feeds @len bytes unless the connection is gone. */
static void feed(coap_context_t *ctx, coap_session_t *s, const uint8_t *p,
                 size_t len) {
  if (pt_hashmap_size(&ctx->sessions) == 0)
    return;
  pt_tcp_input(s, p, len, h_now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  coap_set_log_level(COAP_LOG_EMERG);
  coap_context_t *ctx = h_context();
  h_ep.proto = COAP_PROTO_WS;
  coap_context_set_csm_max_message_size(ctx, 4096);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_hello);
  coap_add_resource(ctx, r);
  coap_session_t *s = h_server_session(40000);
  if (!s || pt_tcp_attach(s, -1, 0, h_now) < 0) {
    h_free(ctx);
    return 0;
  }
  uint8_t flags = data[0];
  data++, size--;
  if (flags & 1)
    feed(ctx, s, (const uint8_t *)request, sizeof(request) - 1);
  size_t piece = (size_t)(flags >> 1) + 1;
  while (size && pt_hashmap_size(&ctx->sessions)) {
    size_t n = size < piece ? size : piece;
    feed(ctx, s, data, n);
    data += n, size -= n;
    h_advance(ctx, COAP_TICKS_PER_SECOND / 10);
  }
  h_free(ctx);
  return 0;
}
