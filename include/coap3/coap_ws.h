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
 * @return 1 if available, 0 if not. Any thread.
 */
COAP_API int coap_ws_is_supported(void);

/**
 * Reports whether CoAP over secure WebSockets (coap+wss) is available.
 * @return 1 if available, 0 if not. Any thread.
 */
COAP_API int coap_wss_is_supported(void);

/**
 * Sets the Host header sent in the WebSockets opening handshake of a
 * client session. Call before the session connects; loop thread.
 * @param session The client session (borrowed).
 * @param ws_host The host name (copied).
 * @return 1 on success, 0 on failure.
 * Not available in this build (no WebSockets): returns 0 and changes
 * nothing.
 */
COAP_API int coap_ws_set_host_request(coap_session_t *session, coap_str_const_t *ws_host);

#ifdef __cplusplus
}
#endif

#endif /* COAP_WS_H_ */
