/*
 * transport_none.c -- the reliable transport this build lacks: CoAP over
 * secure WebSockets (coaps+ws, RFC 8323 section 4 over TLS), which waits
 * for TLS under tcp.c's connections. This reports that, as libcoap does
 * when built without it. (TCP is in tcp.c, coap+ws in ws_conn.c.)
 */
#include "context.h"

int coap_wss_is_supported(void) {
  return 0;
}
