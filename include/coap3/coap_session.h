/*
 * coap_session.h -- sessions (one peer over one transport) and endpoints.
 *
 * Thread rule for everything here: call from the thread that runs
 * coap_io_process() for the session's context, or before that loop starts.
 *
 * Lifetime: a session is reference counted. Client sessions start with one
 * reference owned by the caller, dropped with coap_session_release(). Server
 * sessions belong to the library; callbacks receive them borrowed and must
 * call coap_session_reference() to keep one past the callback.
 */
#ifndef COAP_SESSION_H_
#define COAP_SESSION_H_

#include <stddef.h>
#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_address.h"
#include "coap3/coap_dtls.h"
#include "coap3/coap_io.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_str.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A non-negative fixed-point number: integer_part plus fractional_part
 * thousandths (1.5 is {1, 500}).
 */
typedef struct coap_fixed_point_t {
  uint16_t integer_part;    /**< whole units */
  uint16_t fractional_part; /**< thousandths, 0..999 */
} coap_fixed_point_t;

/** True for the datagram transports (UDP, DTLS). */
#define COAP_PROTO_NOT_RELIABLE(p) ((p) == COAP_PROTO_UDP || (p) == COAP_PROTO_DTLS)
/** True for the stream transports (TCP, TLS, WebSockets). */
#define COAP_PROTO_RELIABLE(p)                                                 \
  ((p) == COAP_PROTO_TCP || (p) == COAP_PROTO_TLS || (p) == COAP_PROTO_WS ||   \
   (p) == COAP_PROTO_WSS)

/** Which role a session plays. */
typedef enum coap_session_type_t {
  COAP_SESSION_TYPE_NONE = 0, /**< not set */
  COAP_SESSION_TYPE_CLIENT,   /**< we connect to the peer */
  COAP_SESSION_TYPE_SERVER,   /**< the peer connected to us */
  COAP_SESSION_TYPE_HELLO     /**< short-lived server session answering a
                                   DTLS ClientHello */
} coap_session_type_t;

/** How far a session has come. */
typedef enum coap_session_state_t {
  COAP_SESSION_STATE_NONE = 0,   /**< not connected */
  COAP_SESSION_STATE_CONNECTING, /**< transport connecting */
  COAP_SESSION_STATE_HANDSHAKE,  /**< (D)TLS handshake running */
  COAP_SESSION_STATE_CSM,        /**< waiting for the peer's CSM (RFC 8323) */
  COAP_SESSION_STATE_ESTABLISHED /**< ready for CoAP messages */
} coap_session_state_t;

/* ---- Transmission parameters (RFC 7252 section 4.8, RFC 9177 6.2) ---- */

/** ACK_TIMEOUT default, seconds (2.0). */
#define COAP_DEFAULT_ACK_TIMEOUT ((coap_fixed_point_t){2, 0})
/** ACK_RANDOM_FACTOR default (1.5). */
#define COAP_DEFAULT_ACK_RANDOM_FACTOR ((coap_fixed_point_t){1, 500})
/** MAX_RETRANSMIT default (4). */
#define COAP_DEFAULT_MAX_RETRANSMIT (4U)
/** NSTART default (1). */
#define COAP_DEFAULT_NSTART (1U)
/** DEFAULT_LEISURE default, seconds (5.0). */
#define COAP_DEFAULT_DEFAULT_LEISURE ((coap_fixed_point_t){5, 0})
/** PROBING_RATE default, bytes per second (1). */
#define COAP_DEFAULT_PROBING_RATE (1U)
/** MAX_PAYLOADS default for Q-Block (10). */
#define COAP_DEFAULT_MAX_PAYLOADS (10U)
/** NON_MAX_RETRANSMIT default for Q-Block (4). */
#define COAP_DEFAULT_NON_MAX_RETRANSMIT (4U)
/** NON_TIMEOUT default for Q-Block, seconds (2.0). */
#define COAP_DEFAULT_NON_TIMEOUT ((coap_fixed_point_t){2, 0})
/** NON_RECEIVE_TIMEOUT default for Q-Block, seconds (4.0). */
#define COAP_DEFAULT_NON_RECEIVE_TIMEOUT ((coap_fixed_point_t){4, 0})
/** MAX_LATENCY, seconds (100). */
#define COAP_DEFAULT_MAX_LATENCY (100U)

/* ---- Reference counting and state ---- */

/**
 * Adds a reference to @p session.
 * @param session The session (borrowed).
 * @return @p session, for chaining.
 */
COAP_API coap_session_t *coap_session_reference(coap_session_t *session);

/**
 * Drops a reference to @p session; the last one frees it (outstanding
 * messages are abandoned). A request awaiting its answer holds a
 * reference, an established observation does not: freeing a client
 * session first sends each of its observations a cancellation (a GET
 * with Observe: 1, NON, once) unless coap_session_set_no_observe_cancel()
 * was called. Do not use the pointer afterwards.
 * @param session The session, or NULL (then nothing happens).
 */
COAP_API void coap_session_release(coap_session_t *session);

/**
 * Marks @p session as failed: queued and in-flight messages are dropped
 * (the NACK handler is told with @p reason), observations are ended and a
 * stream transport is closed. The session object stays valid.
 * @param session The session (borrowed).
 * @param reason  Reported to the NACK handler for each dropped message.
 */
COAP_API void coap_session_disconnected(coap_session_t *session,
                                        coap_nack_reason_t reason);

/**
 * Stores an application pointer in @p session, replacing the previous one.
 * @param session The session (borrowed).
 * @param data    Stored as is; the application keeps ownership and must
 *                release it itself (e.g. on COAP_EVENT_SERVER_SESSION_DEL).
 */
COAP_API void coap_session_set_app_data(coap_session_t *session, void *data);

/**
 * Returns the pointer stored with coap_session_set_app_data().
 * @param session The session (borrowed).
 * @return The pointer, or NULL if none was stored.
 */
COAP_API void *coap_session_get_app_data(const coap_session_t *session);

/**
 * The peer's address. For a client session after a multicast request this
 * is the unicast address of the latest responder until the next send.
 * @param session The session (borrowed).
 * @return Borrowed pointer into the session (valid while it lives), or
 *         NULL if @p session is NULL.
 */
COAP_API const coap_address_t *coap_session_get_addr_remote(const coap_session_t *session);

/**
 * The multicast group a client session was created for (RFC 7252 section
 * 8): such a session's socket is not connected, so every member's unicast
 * answer to a request is delivered to the response handler on this same
 * session, with coap_session_get_addr_remote() set to that member's address
 * while it is handled (and back to the group at the next coap_send()). A
 * client request to a group is kept, and each answer delivered, until its
 * exchange lifetime ends; no NACK follows when at least one answer came.
 * Server sessions return NULL (as in libcoap): a server sees that a request
 * was sent to a group from coap_is_mcast(coap_session_get_addr_local()).
 * @param session The session (borrowed).
 * @return Borrowed pointer into the session, or NULL when the session did
 *         not target a multicast address, or @p session is NULL.
 */
COAP_API const coap_address_t *coap_session_get_addr_mcast(const coap_session_t *session);

/**
 * Our own address on this session. For a server session it is the address
 * the peer's datagram now being handled was sent to: on an endpoint bound
 * to a wildcard, multicast or broadcast address as the kernel reports it
 * with each datagram (IP_PKTINFO / IPV6_PKTINFO), on one bound to a single
 * unicast address that address, the only one its datagrams can be sent
 * to; answers leave from that address. For a
 * request sent to a multicast group it is the group's address, and the
 * answer leaves from a unicast address of the interface the request came
 * in over (RFC 7252 8.1).
 * @param session The session (borrowed).
 * @return Borrowed pointer into the session, or NULL if @p session is NULL.
 */
COAP_API const coap_address_t *coap_session_get_addr_local(const coap_session_t *session);

/**
 * The session's transport.
 * @param session The session (borrowed).
 * @return COAP_PROTO_*, or COAP_PROTO_NONE if @p session is NULL.
 */
COAP_API coap_proto_t coap_session_get_proto(const coap_session_t *session);

/**
 * The session's role.
 * @param session The session (borrowed).
 * @return COAP_SESSION_TYPE_*, or COAP_SESSION_TYPE_NONE for NULL.
 */
COAP_API coap_session_type_t coap_session_get_type(const coap_session_t *session);

/**
 * The session's state.
 * @param session The session (borrowed).
 * @return COAP_SESSION_STATE_*, or COAP_SESSION_STATE_NONE for NULL.
 */
COAP_API coap_session_state_t coap_session_get_state(const coap_session_t *session);

/**
 * The index of the network interface the session's last datagram came in
 * over: on a UDP or DTLS server endpoint bound to a wildcard, multicast or
 * broadcast address, and on a client session, as the kernel reported it
 * with that datagram; on one bound to a single unicast address, the
 * interface that holds that address (looked up once when the endpoint
 * opens), which is where datagrams from other hosts come in -- a datagram
 * this host sends to itself comes in over the loopback interface, which
 * this index does not tell on such an endpoint.
 * @param session The session (borrowed).
 * @return The index, or -1 if no datagram came in yet (or the kernel did not
 *         say), or @p session is NULL.
 */
COAP_API int coap_session_get_ifindex(const coap_session_t *session);

/**
 * The TLS library's own session object (e.g. SSL* with OpenSSL).
 * @param session The session (borrowed).
 * @param tls_lib If not NULL, set to the library in use.
 * @return Borrowed pointer owned by the library (valid while the session
 *         lives), or NULL when the session has no (D)TLS layer (then
 *         *tls_lib is the build's library: COAP_TLS_LIBRARY_NOTLS in
 *         libcoap-3-notls).
 */
COAP_API void *coap_session_get_tls(const coap_session_t *session,
                                    coap_tls_library_t *tls_lib);

/**
 * The context the session belongs to.
 * @param session The session (borrowed).
 * @return The context (borrowed), or NULL if @p session is NULL.
 */
COAP_API coap_context_t *coap_session_get_context(const coap_session_t *session);

/**
 * Turns a server session into a client session (for "call home", where the
 * server side initiates requests). On success the session gains a
 * reference that the caller owns and must drop with coap_session_release().
 * @param session A COAP_SESSION_TYPE_SERVER session (borrowed).
 * @return 1 on success, 0 if the session is not a server session.
 */
COAP_API int coap_session_set_type_client(coap_session_t *session);

/**
 * Sets the largest message the session sends, excluding IP and UDP/TCP
 * headers.
 * @param session The session (borrowed).
 * @param mtu     Size in bytes; values below 64 are ignored.
 */
COAP_API void coap_session_set_mtu(coap_session_t *session, unsigned mtu);

/**
 * The largest PDU that may currently be sent on the session, counting the
 * token and everything after it but not the fixed CoAP header.
 * @param session The session (borrowed).
 * @return Size in bytes.
 */
COAP_API size_t coap_session_max_pdu_size(const coap_session_t *session);

/* ---- Client sessions ---- */

/**
 * Creates a client session to @p server without security.
 * @param ctx      The context (borrowed; must outlive the session).
 * @param local_if Local address to bind (copied), or NULL to let the
 *                 system choose; use port 0 to get any free port.
 * @param server   Peer address (copied); port 0 means the protocol's
 *                 default port.
 * @param proto    COAP_PROTO_UDP, COAP_PROTO_TCP, COAP_PROTO_WS (default
 *                 port 80), or COAP_PROTO_DTLS, COAP_PROTO_TLS and
 *                 COAP_PROTO_WSS (default port 443) when the build has
 *                 them (without credentials: a certificate handshake that
 *                 verifies the server only against CAs set with
 *                 coap_context_set_pki_root_cas()); any other value, or
 *                 a secure one in libcoap-3-notls, logs a warning and
 *                 returns NULL.
 * @return A new session with one reference owned by the caller, or NULL
 *         on failure.
 */
COAP_API coap_session_t *coap_new_client_session(coap_context_t *ctx,
                                                 const coap_address_t *local_if,
                                                 const coap_address_t *server,
                                                 coap_proto_t proto);

/**
 * Creates a client session secured with a pre-shared key:
 * coap_new_client_session_psk2() with only psk_info filled in.
 * @param ctx      The context (borrowed).
 * @param local_if Local address (copied) or NULL.
 * @param server   Peer address (copied).
 * @param proto    COAP_PROTO_DTLS, COAP_PROTO_TLS or COAP_PROTO_WSS.
 * @param identity NUL-terminated identity (copied), or NULL.
 * @param key      The key (copied).
 * @param key_len  Key length in bytes.
 * @return A new session owned by the caller, or NULL on failure (always
 *         NULL in libcoap-3-notls).
 * @deprecated Use coap_new_client_session_psk2().
 */
COAP_API coap_session_t *coap_new_client_session_psk(coap_context_t *ctx,
                                                     const coap_address_t *local_if,
                                                     const coap_address_t *server,
                                                     coap_proto_t proto,
                                                     const char *identity,
                                                     const uint8_t *key,
                                                     unsigned key_len);

/**
 * Creates a DTLS, TLS or secure WebSocket client session secured with a
 * pre-shared key. The handshake starts at once (over TLS, once the TCP
 * connect completes); messages sent before it completes are held (DTLS:
 * up to 32; TLS: in the connection's write queue; WSS: framed, until the
 * WebSocket upgrade that follows the handshake is done) and sent when it
 * does. COAP_EVENT_DTLS_CONNECTED reports success (over TLS after
 * COAP_EVENT_TCP_CONNECTED and before the CSM's
 * COAP_EVENT_SESSION_CONNECTED; on WSS before COAP_EVENT_WS_CONNECTED);
 * COAP_EVENT_DTLS_ERROR a failure, after which what was in flight is
 * NACKed with COAP_NACK_TLS_FAILED.
 * @param ctx        The context (borrowed).
 * @param local_if   Local address (copied) or NULL.
 * @param server     Peer address (copied).
 * @param proto      COAP_PROTO_DTLS, or COAP_PROTO_TLS (coaps+tcp) and
 *                   COAP_PROTO_WSS (coaps+ws, default port 443) when
 *                   coap_tls_is_supported().
 * @param setup_data PSK setup (read during the call; identity, key and
 *                   SNI are copied; the callback and its argument are kept
 *                   and must stay valid while the session lives).
 * @return A new session owned by the caller, or NULL on failure: NULL
 *         arguments, another proto or setup version, an identity or key
 *         longer than COAP_DTLS_MAX_PSK_IDENTITY or COAP_DTLS_MAX_PSK, or
 *         libcoap-3-notls (no (D)TLS: always NULL).
 */
COAP_API coap_session_t *coap_new_client_session_psk2(coap_context_t *ctx,
                                                      const coap_address_t *local_if,
                                                      const coap_address_t *server,
                                                      coap_proto_t proto,
                                                      coap_dtls_cpsk_t *setup_data);

/**
 * Creates a DTLS, TLS or secure WebSocket client session secured with
 * certificates, started
 * and reported as coap_new_client_session_psk2() describes. Raw public
 * keys and PKCS#11 are not available with OpenSSL.
 * @param ctx        The context (borrowed).
 * @param local_if   Local address (copied) or NULL.
 * @param server     Peer address (copied).
 * @param proto      COAP_PROTO_DTLS, or COAP_PROTO_TLS and COAP_PROTO_WSS
 *                   when coap_tls_is_supported().
 * @param setup_data PKI setup (read during the call; callbacks and their
 *                   arguments are kept and must stay valid while the
 *                   session lives; key buffers are read during the call).
 * @return A new session owned by the caller, or NULL on failure (as for
 *         coap_context_set_pki(); always NULL in libcoap-3-notls).
 */
COAP_API coap_session_t *coap_new_client_session_pki(coap_context_t *ctx,
                                                     const coap_address_t *local_if,
                                                     const coap_address_t *server,
                                                     coap_proto_t proto,
                                                     coap_dtls_pki_t *setup_data);

/**
 * The identity hint the server sent (client) or uses (server).
 * @param session The session (borrowed).
 * @return Borrowed pointer into the session (valid while it lives), or
 *         NULL if none: not a DTLS or TLS session, no PSK in use, or not yet
 *         known (during the handshake).
 */
COAP_API const coap_bin_const_t *coap_session_get_psk_hint(const coap_session_t *session);

/**
 * The PSK identity in use on the session.
 * @param session The session (borrowed).
 * @return Borrowed pointer into the session (valid while it lives), or
 *         NULL if none: not a DTLS or TLS session, no PSK in use, or not yet
 *         known (during the handshake).
 */
COAP_API const coap_bin_const_t *coap_session_get_psk_identity(const coap_session_t *session);

/**
 * The pre-shared key in use on the session.
 * @param session The session (borrowed).
 * @return Borrowed pointer into the session (valid while it lives), or
 *         NULL if none: not a DTLS or TLS session, no PSK in use, or not yet
 *         known (during the handshake).
 */
COAP_API const coap_bin_const_t *coap_session_get_psk_key(const coap_session_t *session);

/* ---- Tokens ---- */

/**
 * Seeds the session's token generator with a starting value.
 * @param session The session (borrowed).
 * @param length  Token length, 0..8.
 * @param token   The bytes (copied).
 */
COAP_API void coap_session_init_token(coap_session_t *session, size_t length,
                                      const uint8_t *token);

/**
 * Produces the next unused token for a request on this session.
 * @param session The session (borrowed).
 * @param length  Set to the token's length.
 * @param token   Caller's buffer of at least 8 bytes, filled with the token.
 */
COAP_API void coap_session_new_token(coap_session_t *session, size_t *length,
                                     uint8_t *token);

/**
 * A printable description of the session (addresses and transport), for
 * logging.
 * @param session The session (borrowed).
 * @return A buffer owned by the library, valid until the next call on the
 *         same thread.
 */
COAP_API const char *coap_session_str(const coap_session_t *session);

/* ---- Endpoints (server listening points) ---- */

/**
 * Opens a listening endpoint in @p context.
 * @param context     The context that will own the endpoint (borrowed).
 * @param listen_addr Address and port to listen on (copied).
 * @param proto       COAP_PROTO_UDP, COAP_PROTO_TCP, COAP_PROTO_WS, or
 *                    COAP_PROTO_DTLS, COAP_PROTO_TLS and COAP_PROTO_WSS
 *                    when the build has them (not libcoap-3-notls) and
 *                    coap_context_set_psk2() or coap_context_set_pki() was
 *                    called first; any other value logs a warning and
 *                    returns NULL.
 * @return The endpoint (owned by the context; freed by coap_free_context()
 *         or coap_free_endpoint()), or NULL on failure.
 */
COAP_API coap_endpoint_t *coap_new_endpoint(coap_context_t *context,
                                            const coap_address_t *listen_addr,
                                            coap_proto_t proto);

/**
 * Sets the MTU given to new sessions created on @p endpoint.
 * @param endpoint The endpoint (borrowed).
 * @param mtu      Size in bytes, excluding IP and UDP/TCP headers; values
 *                 below 64 are ignored.
 */
COAP_API void coap_endpoint_set_default_mtu(coap_endpoint_t *endpoint, unsigned mtu);

/**
 * Closes @p endpoint and frees it and its server sessions.
 * @param endpoint The endpoint, or NULL; not usable afterwards.
 */
COAP_API void coap_free_endpoint(coap_endpoint_t *endpoint);

/**
 * Finds the session with @p remote_addr arriving on interface @p ifindex.
 * @param context     The context to search (borrowed).
 * @param remote_addr Peer address (borrowed).
 * @param ifindex     Interface index.
 * @return The session (borrowed), or NULL if none.
 */
COAP_API coap_session_t *coap_session_get_by_peer(const coap_context_t *context,
                                                  const coap_address_t *remote_addr,
                                                  int ifindex);

/**
 * A printable description of the endpoint, for logging.
 * @param endpoint The endpoint (borrowed).
 * @return A buffer owned by the library, valid until the next call on the
 *         same thread.
 */
COAP_API const char *coap_endpoint_str(const coap_endpoint_t *endpoint);

/* ---- Per-session transmission parameters ---- */

/**
 * Sets ACK_TIMEOUT for the session.
 * @param session The session (borrowed).
 * @param value   Seconds; default COAP_DEFAULT_ACK_TIMEOUT.
 */
COAP_API void coap_session_set_ack_timeout(coap_session_t *session,
                                           coap_fixed_point_t value);

/**
 * @param session The session (borrowed).
 * @return The session's ACK_TIMEOUT in seconds.
 */
COAP_API coap_fixed_point_t coap_session_get_ack_timeout(const coap_session_t *session);

/**
 * Sets ACK_RANDOM_FACTOR for the session.
 * @param session The session (borrowed).
 * @param value   Factor, at least 1.0; default COAP_DEFAULT_ACK_RANDOM_FACTOR.
 */
COAP_API void coap_session_set_ack_random_factor(coap_session_t *session,
                                                 coap_fixed_point_t value);

/**
 * @param session The session (borrowed).
 * @return The session's ACK_RANDOM_FACTOR.
 */
COAP_API coap_fixed_point_t coap_session_get_ack_random_factor(const coap_session_t *session);

/**
 * Sets MAX_RETRANSMIT for the session.
 * @param session The session (borrowed).
 * @param value   Retransmissions; default COAP_DEFAULT_MAX_RETRANSMIT.
 */
COAP_API void coap_session_set_max_retransmit(coap_session_t *session, uint16_t value);

/**
 * @param session The session (borrowed).
 * @return The session's MAX_RETRANSMIT.
 */
COAP_API uint16_t coap_session_get_max_retransmit(const coap_session_t *session);

/**
 * Sets NSTART (confirmable exchanges outstanding at once) for the session.
 * @param session The session (borrowed).
 * @param value   Count; default COAP_DEFAULT_NSTART.
 */
COAP_API void coap_session_set_nstart(coap_session_t *session, uint16_t value);

/**
 * @param session The session (borrowed).
 * @return The session's NSTART.
 */
COAP_API uint16_t coap_session_get_nstart(const coap_session_t *session);

/**
 * Sets DEFAULT_LEISURE (RFC 7252 8.2) for the session: a server's answer
 * to a request sent to a multicast group goes out after a random delay
 * within this period (0.0 is ignored; a resource flagged
 * COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS answers at once, see
 * coap_mcast_per_resource()).
 * @param session The session (borrowed).
 * @param value   Seconds; default COAP_DEFAULT_DEFAULT_LEISURE.
 */
COAP_API void coap_session_set_default_leisure(coap_session_t *session,
                                               coap_fixed_point_t value);

/**
 * @param session The session (borrowed).
 * @return The session's DEFAULT_LEISURE in seconds.
 */
COAP_API coap_fixed_point_t coap_session_get_default_leisure(const coap_session_t *session);

/**
 * Sets PROBING_RATE for the session (RFC 7252 4.7). No effect in this
 * build: traffic to an unresponsive peer is not paced by it; the value is
 * kept and returned by coap_session_get_probing_rate(). (What a server
 * sends to a peer that has not shown it receives is bounded by the
 * amplification limit instead: see coap_petrel_context_set_amplification().)
 * @param session The session (borrowed).
 * @param value   Bytes per second; default COAP_DEFAULT_PROBING_RATE.
 */
COAP_API void coap_session_set_probing_rate(coap_session_t *session, uint32_t value);

/**
 * @param session The session (borrowed).
 * @return The session's PROBING_RATE in bytes per second: the value set
 *         (default 1), which has no effect in this build; 0 for NULL.
 */
COAP_API uint32_t coap_session_get_probing_rate(const coap_session_t *session);

/**
 * Sets MAX_PAYLOADS (Q-Block burst size, RFC 9177) for the session.
 * No effect in this build: Q-Block is not available
 * (coap_q_block_is_supported() returns 0); the value is kept and returned
 * by the getter.
 * @param session The session (borrowed).
 * @param value   Payloads; default COAP_DEFAULT_MAX_PAYLOADS.
 */
COAP_API void coap_session_set_max_payloads(coap_session_t *session, uint16_t value);

/**
 * @param session The session (borrowed).
 * @return The session's MAX_PAYLOADS: the value set (default 10), which
 *         has no effect in this build; 0 for NULL.
 */
COAP_API uint16_t coap_session_get_max_payloads(const coap_session_t *session);

/**
 * Sets NON_MAX_RETRANSMIT (RFC 9177) for the session. No effect in this
 * build: Q-Block is not available; the value is kept and returned by the
 * getter.
 * @param session The session (borrowed).
 * @param value   Count; default COAP_DEFAULT_NON_MAX_RETRANSMIT.
 */
COAP_API void coap_session_set_non_max_retransmit(coap_session_t *session,
                                                  uint16_t value);

/**
 * @param session The session (borrowed).
 * @return The session's NON_MAX_RETRANSMIT: the value set (default 4),
 *         which has no effect in this build; 0 for NULL.
 */
COAP_API uint16_t coap_session_get_non_max_retransmit(const coap_session_t *session);

/**
 * Sets NON_TIMEOUT (pause between Q-Block bursts, RFC 9177). No effect in
 * this build: Q-Block is not available; the value is kept (0.0 is
 * ignored) and returned by the getter.
 * @param session The session (borrowed).
 * @param value   Seconds; default COAP_DEFAULT_NON_TIMEOUT.
 */
COAP_API void coap_session_set_non_timeout(coap_session_t *session,
                                           coap_fixed_point_t value);

/**
 * @param session The session (borrowed).
 * @return The session's NON_TIMEOUT in seconds: the value set (default
 *         2.0), which has no effect in this build; 0.0 for NULL.
 */
COAP_API coap_fixed_point_t coap_session_get_non_timeout(const coap_session_t *session);

/**
 * Sets NON_RECEIVE_TIMEOUT (wait before asking for missing Q-Blocks).
 * No effect in this build: Q-Block is not available; the value is kept
 * (0.0 is ignored) and returned by the getter.
 * @param session The session (borrowed).
 * @param value   Seconds; should exceed NON_TIMEOUT scaled by the random
 *                factor by at least one second; default
 *                COAP_DEFAULT_NON_RECEIVE_TIMEOUT.
 */
COAP_API void coap_session_set_non_receive_timeout(coap_session_t *session,
                                                   coap_fixed_point_t value);

/**
 * @param session The session (borrowed).
 * @return The session's NON_RECEIVE_TIMEOUT in seconds: the value set
 *         (default 4.0), which has no effect in this build; 0.0 for NULL.
 */
COAP_API coap_fixed_point_t coap_session_get_non_receive_timeout(const coap_session_t *session);

/* ---- Misc ---- */

/**
 * Sends a CoAP ping: an empty CON over UDP/DTLS (answered by RST), or a
 * 7.02 Ping signal over reliable transports.
 * @param session The session (borrowed).
 * @return The message ID used, or COAP_INVALID_MID on failure.
 */
COAP_API coap_mid_t coap_session_send_ping(coap_session_t *session);

/**
 * Stops a client session from sending observe cancellations for its
 * active observations when it is freed. Without it, freeing the session
 * (its last coap_session_release(), or coap_free_context()) sends each
 * observation still active a GET with Observe: 1 (a NON, once). An
 * established observation does not keep its session alive: the
 * application's reference does.
 * @param session The session (borrowed).
 */
COAP_API void coap_session_set_no_observe_cancel(coap_session_t *session);

#ifdef __cplusplus
}
#endif

#endif /* COAP_SESSION_H_ */
