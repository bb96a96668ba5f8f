/*
 * coap_ws.h -- CoAP over WebSockets (RFC 8323 section 4).
 */
#ifndef COAP_WS_H_
#define COAP_WS_H_

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_str.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Reports whether CoAP over WebSockets (coap+ws) is available.
 * @return 1 if available, 0 if not: Petrel always has coap+ws (1), in
 * every build. Any thread.
 */
COAP_API int coap_ws_is_supported(void);

/**
 * Reports whether CoAP over secure WebSockets (coaps+ws) is available:
 * the WebSocket layer over TLS, so wherever coap_tls_is_supported() is.
 * @return 1 in libcoap-3 and libcoap-3-openssl, 0 in libcoap-3-notls.
 * Any thread.
 */
COAP_API int coap_wss_is_supported(void);

/**
 * Sets the Host header sent in the WebSockets opening handshake of a
 * coap+ws or coaps+ws client session (":port" is added unless the port is
 * the scheme's default, 80 or 443; an IPv6 literal is put in brackets).
 * Without it the Host is the server's address. Call right after creating
 * the session, before the loop runs (the request goes when the TCP
 * connect completes, on coaps+ws when the TLS handshake does); loop
 * thread.
 * @param session The client session (borrowed).
 * @param ws_host The host name or address, without a port (copied; 1..255
 *                bytes, no CR or LF).
 * @return 1 on success; 0 if @p session is not a coap+ws or coaps+ws
 * client session,
 * its request has been sent, @p ws_host is empty, too long or holds a line
 * break, or memory ran out.
 */
COAP_API int coap_ws_set_host_request(coap_session_t *session, coap_str_const_t *ws_host);

#ifdef __cplusplus
}
#endif

#endif /* COAP_WS_H_ */
