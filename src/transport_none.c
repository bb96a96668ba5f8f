/*
 * transport_none.c -- the reliable transports this build lacks: CoAP over
 * WebSockets (RFC 8323 section 4). These functions report that, as libcoap
 * does when built without WebSockets. (TCP is in tcp.c.)
 */
#include "context.h"

int coap_ws_is_supported(void) {
  return 0;
}

int coap_wss_is_supported(void) {
  return 0;
}

/* There is no WebSockets handshake to put a Host header in. */
int coap_ws_set_host_request(coap_session_t *session,
                             coap_str_const_t *ws_host) {
  (void)session, (void)ws_host;
  return 0;
}
