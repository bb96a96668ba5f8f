/*
 * coap_event.h -- events the library reports to the application.
 *
 * Events are delivered on the thread running coap_io_process() for the
 * context, through the single handler registered for that context.
 */
#ifndef COAP_EVENT_H_
#define COAP_EVENT_H_

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * What happened. Values are grouped by layer and equal libcoap 4.3.4's, so
 * applications may store or compare them numerically.
 */
typedef enum {
  /* (D)TLS layer (COAP_PROTO_DTLS, COAP_PROTO_TLS) */
  COAP_EVENT_DTLS_CLOSED = 0x0000,      /**< (D)TLS session closed */
  COAP_EVENT_DTLS_CONNECTED = 0x01DE,   /**< (D)TLS handshake completed */
  COAP_EVENT_DTLS_RENEGOTIATE = 0x01DF, /**< (D)TLS session renegotiated */
  COAP_EVENT_DTLS_ERROR = 0x0200,       /**< (D)TLS error */

  /* TCP layer (COAP_PROTO_TCP, COAP_PROTO_TLS) */
  COAP_EVENT_TCP_CONNECTED = 0x1001, /**< TCP connection established */
  COAP_EVENT_TCP_CLOSED = 0x1002,    /**< TCP connection closed */
  COAP_EVENT_TCP_FAILED = 0x1003,    /**< TCP connection failed */

  /* CSM exchange, reliable transports only (RFC 8323 section 5.3) */
  COAP_EVENT_SESSION_CONNECTED = 0x2001, /**< CSM exchange completed */
  COAP_EVENT_SESSION_CLOSED = 0x2002,    /**< session closed after CSM */
  COAP_EVENT_SESSION_FAILED = 0x2003,    /**< session failed after CSM */

  /* Block-wise transfer (RFC 7959, RFC 9177) */
  COAP_EVENT_PARTIAL_BLOCK = 0x3001,   /**< a large body arrived incomplete */
  COAP_EVENT_XMIT_BLOCK_FAIL = 0x3002, /**< a large body could not be sent */

  /* Server sessions */
  /** A server-side session was created for a new peer (it may still be in
   *  its (D)TLS handshake). */
  COAP_EVENT_SERVER_SESSION_NEW = 0x4001,
  /** A server-side session is about to be freed; it is still valid while
   *  the handler runs. */
  COAP_EVENT_SERVER_SESSION_DEL = 0x4002,

  /* Messages */
  COAP_EVENT_BAD_PACKET = 0x5001,        /**< a malformed message arrived */
  COAP_EVENT_MSG_RETRANSMITTED = 0x5002, /**< a CON was retransmitted */

  /* OSCORE (RFC 8613) */
  COAP_EVENT_OSCORE_DECRYPTION_FAILURE = 0x6001, /**< decryption failed */
  COAP_EVENT_OSCORE_NOT_ENABLED,          /**< OSCORE message, no OSCORE */
  COAP_EVENT_OSCORE_NO_PROTECTED_PAYLOAD, /**< no encrypted payload */
  COAP_EVENT_OSCORE_NO_SECURITY,          /**< no security context found */
  COAP_EVENT_OSCORE_INTERNAL_ERROR,       /**< e.g. allocation failed */
  COAP_EVENT_OSCORE_DECODE_ERROR,         /**< bad OSCORE option */

  /* WebSockets (RFC 8323 section 4) */
  COAP_EVENT_WS_PACKET_SIZE = 0x7001, /**< WebSockets frame too large */
  COAP_EVENT_WS_CONNECTED,            /**< WebSockets layer up */
  COAP_EVENT_WS_CLOSED,               /**< WebSockets layer closed */

  /* Keepalive */
  COAP_EVENT_KEEPALIVE_FAILURE = 0x8001 /**< a keepalive went unanswered */
} coap_event_t;

/**
 * Application callback for events.
 *
 * @param session The session the event concerns (borrowed; valid only for
 *                the duration of the call; take a reference with
 *                coap_session_reference() to keep it).
 * @param event   What happened.
 * @return 0 normally. A non-zero value is passed back to whoever raised
 *         the event via coap_handle_event(); the library itself ignores it.
 */
typedef int (*coap_event_handler_t)(coap_session_t *session,
                                    const coap_event_t event);

/**
 * Sets the event handler of @p context, replacing any earlier one.
 *
 * @param context The context (borrowed).
 * @param hnd     The handler, or NULL to stop event delivery.
 *
 * Loop thread (or before the loop runs).
 */
COAP_API void coap_register_event_handler(coap_context_t *context,
                                          coap_event_handler_t hnd);

/**
 * Old name of coap_register_event_handler(); same behaviour.
 *
 * @param context The context (borrowed).
 * @param hnd     The handler, or NULL.
 *
 * @deprecated Use coap_register_event_handler().
 */
COAP_DEPRECATED COAP_API void coap_set_event_handler(coap_context_t *context,
                                                     coap_event_handler_t hnd);

/**
 * Removes the event handler of @p context; same as registering NULL.
 *
 * @param context The context (borrowed).
 *
 * @deprecated Use coap_register_event_handler() with NULL.
 */
COAP_DEPRECATED COAP_API void coap_clear_event_handler(coap_context_t *context);

#ifdef __cplusplus
}
#endif

#endif /* COAP_EVENT_H_ */
