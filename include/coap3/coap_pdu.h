#ifndef COAP_PDU_H_
#define COAP_PDU_H_
/*
 * PLACEHOLDER (support branch): only coap_proto_t and the default ports, so
 * that coap_address.h builds. The wire-format work owns this header and
 * replaces it whole.
 */
#define COAP_DEFAULT_PORT 5683
#define COAPS_DEFAULT_PORT 5684

typedef enum coap_proto_t {
  COAP_PROTO_NONE = 0,
  COAP_PROTO_UDP,
  COAP_PROTO_DTLS,
  COAP_PROTO_TCP,
  COAP_PROTO_TLS,
  COAP_PROTO_WS,
  COAP_PROTO_WSS,
  COAP_PROTO_LAST
} coap_proto_t;
#endif
