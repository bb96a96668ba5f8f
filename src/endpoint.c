/*
 * endpoint.c -- endpoints: the sockets a server listens on.
 */
#include <stdio.h>
#include <stdlib.h>

#include "context.h"
#include "dtls.h"
#include "io.h"
#include "session.h"
#include "tcp.h"

coap_endpoint_t *coap_new_endpoint(coap_context_t *ctx,
                                   const coap_address_t *listen_addr,
                                   coap_proto_t proto) {
  if (!ctx || !listen_addr)
    return NULL;
  if (proto != COAP_PROTO_UDP && proto != COAP_PROTO_TCP &&
      proto != COAP_PROTO_WS &&
      (proto != COAP_PROTO_DTLS || !coap_dtls_is_supported()) &&
      (proto != COAP_PROTO_TLS || !coap_tls_is_supported()) &&
      (proto != COAP_PROTO_WSS || !coap_wss_is_supported())) {
    coap_log_warn("coap_new_endpoint: only UDP, TCP, WS%s are supported\n",
                  coap_wss_is_supported()    ? ", DTLS, TLS and WSS"
                  : coap_dtls_is_supported() ? " and DTLS"
                                             : "");
    return NULL;
  }
  coap_endpoint_t *ep = calloc(1, sizeof(*ep));
  if (!ep)
    return NULL;
  ep->context = ctx;
  ep->proto = proto;
  ep->fd = -1;
  ep->default_mtu = COAP_DEFAULT_MTU;
  if (pt_dtls_endpoint_init(ep) < 0) {
    free(ep);
    return NULL;
  }
  if ((COAP_PROTO_RELIABLE(proto) ? pt_tcp_endpoint_open(ep, listen_addr)
                                  : pt_io_endpoint_open(ep, listen_addr)) <
      0) {
    pt_dtls_endpoint_free(ep);
    free(ep);
    return NULL;
  }
  ep->next = ctx->endpoints;
  ctx->endpoints = ep;
  coap_log_debug("created endpoint %s\n", coap_endpoint_str(ep));
  return ep;
}

void coap_free_endpoint(coap_endpoint_t *ep) {
  if (!ep)
    return;
  coap_context_t *ctx = ep->context;
  /* Teardown only: walks the context's server sessions once for those
   * that came in on this endpoint. */
  pt_hashmap_iter it;
  pt_hash_node *n;
  pt_hashmap_iter_init(&it, &ctx->sessions);
  while ((n = pt_hashmap_iter_next(&it)) != NULL) {
    coap_session_t *s = PT_CONTAINER_OF(n, coap_session_t, by_peer);
    if (s->endpoint == ep)
      pt_session_close(s, COAP_NACK_NOT_DELIVERABLE);
  }
  for (coap_endpoint_t **pp = &ctx->endpoints; *pp; pp = &(*pp)->next) {
    if (*pp == ep) {
      *pp = ep->next;
      break;
    }
  }
  pt_io_endpoint_close(ep);
  pt_dtls_endpoint_free(ep);
  free(ep);
}

void coap_endpoint_set_default_mtu(coap_endpoint_t *ep, unsigned mtu) {
  if (ep && mtu >= 64)
    ep->default_mtu = mtu;
}

const char *coap_endpoint_str(const coap_endpoint_t *endpoint) {
  if (!endpoint)
    return "(null)";
  coap_endpoint_t *ep = (coap_endpoint_t *)endpoint; /* str is a cache */
  char addr[64];
  coap_print_addr(&ep->bind_addr, (uint8_t *)addr, sizeof(addr));
  snprintf(ep->str, sizeof(ep->str), "%s %s", addr,
           ep->proto == COAP_PROTO_DTLS  ? "DTLS"
           : ep->proto == COAP_PROTO_TCP ? "TCP"
           : ep->proto == COAP_PROTO_WS  ? "WS"
           : ep->proto == COAP_PROTO_TLS ? "TLS"
           : ep->proto == COAP_PROTO_WSS ? "WSS"
                                         : "UDP");
  return ep->str;
}
