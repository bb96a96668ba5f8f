/*
 * core_harness.h -- drives Petrel's sans-I/O core in unit tests: a context
 * without sockets, a fake clock, a fake send that records every datagram,
 * and helpers to build requests and inspect what was sent.
 */
#ifndef PETREL_CORE_HARNESS_H
#define PETREL_CORE_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "coap3/coap.h"

#include "clock.h"
#include "context.h"
#include "pdu.h"
#include "recv.h"
#include "session.h"
#include "timer.h"

#define H_MAX_SENT 256

typedef struct h_sent {
  coap_session_t *session;
  size_t len;
  uint8_t data[1536];
} h_sent;

static h_sent h_sent_log[H_MAX_SENT];
static int h_nsent;
static coap_tick_t h_now;
static coap_endpoint_t h_ep;

static inline ssize_t h_send(coap_session_t *s, const uint8_t *data, size_t len) {
  /* Every send is counted; the first H_MAX_SENT are kept (one too large
   * for an entry is kept as 0 bytes, which h_parse() refuses). */
  if (h_nsent < H_MAX_SENT) {
    int fits = len <= sizeof(h_sent_log[0].data);
    h_sent_log[h_nsent].session = s;
    h_sent_log[h_nsent].len = fits ? len : 0;
    if (fits)
      memcpy(h_sent_log[h_nsent].data, data, len);
  }
  h_nsent++;
  return (ssize_t)len;
}

/* A detached context with the fake clock at 1000 s and the fake send. */
static inline coap_context_t *h_context(void) {
  coap_startup();
  h_now = 1000 * COAP_TICKS_PER_SECOND;
  pt_clock_set_fake(&h_now);
  h_nsent = 0;
  coap_context_t *ctx = pt_context_new_detached();
  ctx->send = h_send;
  memset(&h_ep, 0, sizeof(h_ep));
  h_ep.context = ctx;
  h_ep.proto = COAP_PROTO_UDP;
  h_ep.fd = -1;
  h_ep.default_mtu = COAP_DEFAULT_MTU;
  return ctx;
}

static inline void h_free(coap_context_t *ctx) {
  coap_free_context(ctx);
  pt_clock_set_fake(NULL);
}

static inline coap_address_t h_peer(uint16_t port) {
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(0x7f000001);
  a.addr.sin.sin_port = htons(port);
  a.size = sizeof(a.addr.sin);
  return a;
}

/* The server session for a peer on the fake endpoint. */
static inline coap_session_t *h_server_session(uint16_t port) {
  coap_address_t a = h_peer(port);
  return pt_session_for_peer(&h_ep, &a, NULL, -1, h_now);
}

/* Feeds the wire form of @pdu to @s and frees @pdu. */
static inline void h_feed(coap_session_t *s, coap_pdu_t *pdu) {
  const uint8_t *data;
  size_t len;
  pt_pdu_wire(pdu, &data, &len);
  pt_recv_datagram(s, data, len, h_now);
  coap_delete_pdu(pdu);
}

static inline void h_feed_raw(coap_session_t *s, const uint8_t *data, size_t len) {
  pt_recv_datagram(s, data, len, h_now);
}

/* A request with a one-byte token and a path of one segment (or none). */
static inline coap_pdu_t *h_request(coap_pdu_type_t type, coap_pdu_code_t code,
                             coap_mid_t mid, uint8_t token, const char *path) {
  coap_pdu_t *pdu = coap_pdu_init(type, code, mid, 1024);
  coap_add_token(pdu, 1, &token);
  if (path)
    coap_add_option(pdu, COAP_OPTION_URI_PATH, strlen(path),
                    (const uint8_t *)path);
  return pdu;
}

/* Parses datagram @i of the log into a new PDU (caller deletes), or NULL
 * when there was no such datagram or it was not kept (past H_MAX_SENT, or
 * larger than an entry). */
static inline coap_pdu_t *h_parse(int i) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  if (i < 0 || i >= h_nsent || i >= H_MAX_SENT ||
      !coap_pdu_parse(COAP_PROTO_UDP, h_sent_log[i].data, h_sent_log[i].len,
                      pdu)) {
    coap_delete_pdu(pdu);
    return NULL;
  }
  return pdu;
}

/* Moves the fake clock and runs due timers. */
static inline void h_advance(coap_context_t *ctx, coap_tick_t ticks) {
  h_now += ticks;
  pt_timers_run(ctx, h_now);
}

#endif /* PETREL_CORE_HARNESS_H */
