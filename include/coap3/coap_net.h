/*
 * coap_net.h -- the CoAP context: configuration, message sending and the
 * event loop.
 *
 * Threads: a context is driven by one thread at a time, the one calling
 * coap_io_process() (the "loop thread"). Unless a function says otherwise,
 * call it from that thread, or from any single thread before the loop
 * starts and after it has stopped. Callbacks registered here run on the
 * loop thread, inside coap_io_process().
 */
#ifndef COAP_NET_H_
#define COAP_NET_H_

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_address.h"
#include "coap3/coap_debug.h"
#include "coap3/coap_dtls.h"
#include "coap3/coap_event.h"
#include "coap3/coap_io.h"
#include "coap3/coap_option.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_session.h"
#include "coap3/coap_time.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a response handler tells the library about a response. */
typedef enum coap_response_t {
  COAP_RESPONSE_FAIL, /**< not accepted: answer a CON or NON with RST */
  COAP_RESPONSE_OK    /**< accepted */
} coap_response_t;

/**
 * Called on the loop thread for every response (and for unsolicited
 * messages such as observe notifications) received by a client.
 *
 * @param session  The session it arrived on (borrowed for the call).
 * @param sent     The request it answers if still known, else NULL
 *                 (borrowed for the call).
 * @param received The response (borrowed for the call; copy what you need).
 * @param mid      Message ID of @p received.
 * @return COAP_RESPONSE_OK, or COAP_RESPONSE_FAIL to have a CON or NON
 *         response rejected with RST.
 */
typedef coap_response_t (*coap_response_handler_t)(coap_session_t *session,
                                                   const coap_pdu_t *sent,
                                                   const coap_pdu_t *received,
                                                   const coap_mid_t mid);

/**
 * Called on the loop thread when a confirmable message is given up on
 * (retransmissions exhausted, RST received, or transport failure). Also
 * called with COAP_NACK_ICMP_ISSUE when an ICMP error (port or host
 * unreachable) comes back for a client session, for its most recent
 * request (@p sent NULL when it has none): that request is NOT given up,
 * its retransmissions go on and it ends as usual.
 *
 * @param session The session (borrowed for the call).
 * @param sent    The message that failed, or NULL (borrowed for the call).
 * @param reason  Why.
 * @param mid     Message ID of @p sent.
 */
typedef void (*coap_nack_handler_t)(coap_session_t *session,
                                    const coap_pdu_t *sent,
                                    const coap_nack_reason_t reason,
                                    const coap_mid_t mid);

/**
 * Called on the loop thread when a CoAP ping (empty CON, or 7.02 signal)
 * arrives. The library answers it itself.
 *
 * @param session  The session (borrowed for the call).
 * @param received The ping (borrowed for the call).
 * @param mid      Its message ID.
 */
typedef void (*coap_ping_handler_t)(coap_session_t *session,
                                    const coap_pdu_t *received,
                                    const coap_mid_t mid);

/**
 * Called on the loop thread when the answer to our ping arrives (RST, or
 * 7.03 Pong).
 *
 * @param session  The session (borrowed for the call).
 * @param received The pong (borrowed for the call).
 * @param mid      Its message ID.
 */
typedef void (*coap_pong_handler_t)(coap_session_t *session,
                                    const coap_pdu_t *received,
                                    const coap_mid_t mid);

/* ---- Callbacks ---- */

/**
 * Sets the response handler of @p context, replacing any earlier one.
 * @param context The context (borrowed).
 * @param handler The handler, or NULL.
 */
COAP_API void coap_register_response_handler(coap_context_t *context,
                                             coap_response_handler_t handler);

/**
 * Sets the NACK handler of @p context, replacing any earlier one.
 * @param context The context (borrowed).
 * @param handler The handler, or NULL.
 */
COAP_API void coap_register_nack_handler(coap_context_t *context,
                                         coap_nack_handler_t handler);

/**
 * Sets the ping handler of @p context, replacing any earlier one.
 * @param context The context (borrowed).
 * @param handler The handler, or NULL.
 */
COAP_API void coap_register_ping_handler(coap_context_t *context,
                                         coap_ping_handler_t handler);

/**
 * Sets the pong handler of @p context, replacing any earlier one.
 * @param context The context (borrowed).
 * @param handler The handler, or NULL.
 */
COAP_API void coap_register_pong_handler(coap_context_t *context,
                                         coap_pong_handler_t handler);

/**
 * Declares option number @p type as known, so that a request carrying it
 * as a critical option is not rejected with 4.02 Bad Option.
 * @param ctx  The context (borrowed).
 * @param type The option number.
 */
COAP_API void coap_register_option(coap_context_t *ctx, uint16_t type);

/* ---- Context lifetime and configuration ---- */

/**
 * Creates a context. Call coap_startup() first.
 * @param listen_addr If not NULL, a UDP endpoint is opened on this address
 *                    (copied); NULL for a context without endpoints.
 * @return A new context owned by the caller (free with
 *         coap_free_context()), or NULL on failure.
 */
COAP_API coap_context_t *coap_new_context(const coap_address_t *listen_addr);

/**
 * Frees @p context with its endpoints, sessions, resources, pending
 * asyncs, cache entries and queued messages. Must not be called from a
 * callback, nor while another thread is inside coap_io_process().
 * @param context The context, or NULL; not usable afterwards.
 */
COAP_API void coap_free_context(coap_context_t *context);

/**
 * Sets the server's default PSK hint and key: coap_context_set_psk2()
 * with only psk_info filled in.
 * @param context The context (borrowed).
 * @param hint    NUL-terminated hint (copied); NULL or "" sends no hint.
 * @param key     The key (copied); NULL makes PSK handshakes fail.
 * @param key_len Key length; 0 makes PSK handshakes fail.
 * @return 1 on success, 0 on failure (libcoap-3-notls, which has no
 *         (D)TLS, always returns 0 and changes nothing).
 * @deprecated Use coap_context_set_psk2().
 */
COAP_API int coap_context_set_psk(coap_context_t *context, const char *hint,
                                  const uint8_t *key, size_t key_len);

/**
 * Sets the server's PSK configuration.
 * @param context    The context (borrowed).
 * @param setup_data Server PSK setup; hint and key are copied, callbacks and
 *                   their arguments are kept and must stay valid while the
 *                   context lives.
 * @return 1 on success, 0 on failure: a NULL argument, a setup version
 *         other than COAP_DTLS_SPSK_SETUP_VERSION, a hint or key longer
 *         than COAP_DTLS_HINT_LENGTH or COAP_DTLS_MAX_PSK, or
 *         libcoap-3-notls (no (D)TLS: always 0, nothing changes).
 * The identity callback is asked for the key of every client identity
 * (after the SNI callback, which may change hint and key per server name);
 * a NULL answer refuses the client with a fatal alert.
 */
COAP_API int coap_context_set_psk2(coap_context_t *context,
                                   coap_dtls_spsk_t *setup_data);

/**
 * Sets the server's PKI configuration.
 * @param context    The context (borrowed).
 * @param setup_data PKI setup; key material is read during the call,
 *                   callbacks and their arguments are kept and must stay
 *                   valid while the context lives.
 * @return 1 on success, 0 on failure: a NULL argument, another setup
 *         version, key material that cannot be read or does not match,
 *         a raw public key (is_rpk_not_cert) or PKCS#11 keys, which the
 *         OpenSSL build does not support, or libcoap-3-notls (no (D)TLS:
 *         always 0, nothing changes).
 */
COAP_API int coap_context_set_pki(coap_context_t *context,
                                  const coap_dtls_pki_t *setup_data);

/**
 * Sets the trusted root CAs used to verify peers (client and server).
 * @param context The context (borrowed).
 * @param ca_file PEM file of CA certificates, or NULL (name copied).
 * @param ca_dir  Directory of PEM CA certificates, or NULL (name copied).
 * @return 1 on success, 0 on failure: both NULL, a file or directory
 *         that cannot be read, or libcoap-3-notls (no (D)TLS: always 0).
 * Client sessions made afterwards verify their server against these CAs
 * (unless check_common_ca restricts them to the setup's own CA).
 */
COAP_API int coap_context_set_pki_root_cas(coap_context_t *context,
                                           const char *ca_file,
                                           const char *ca_dir);

/**
 * Sets the keepalive interval of every session of @p context, existing and
 * future, client and server. A session that has sent and received nothing
 * for @p seconds sends its peer a CoAP ping: an Empty CON with a new
 * message ID, which the peer answers with RST (an ACK is accepted too; the
 * pong handler sees either). The ping is retransmitted like any CON
 * (ACK_TIMEOUT, MAX_RETRANSMIT of the session); no ping is sent while
 * another CON of the session awaits its ACK. When the ping gets no answer
 * (retransmissions exhausted; an ICMP error on the way does not end it),
 * the NACK handler is called for it and then the event handler with
 * COAP_EVENT_KEEPALIVE_FAILURE, once per unanswered ping. The session is
 * not closed: a client session pings again after the next idle interval
 * and the application decides what to do; a server session sends no more
 * pings until its peer is heard from again, and is freed by the session
 * timeout (coap_context_set_session_timeout()) as usual.
 *
 * While an interval is set, the exponential back-off of every CON on the
 * context is capped at @p seconds (the retransmission count is unchanged),
 * so that a NAT binding stays warm while a CON is retransmitted. Values
 * below 30 are not advisable on real networks.
 *
 * Walks every session once to move its timer (O(sessions) per call).
 * @param context The context (borrowed).
 * @param seconds Idle time in seconds, or 0 to stop sending pings (the
 *                default).
 */
COAP_API void coap_context_set_keepalive(coap_context_t *context, unsigned int seconds);

/**
 * Sets the largest token accepted and sent (RFC 8974 extended tokens; the
 * default, 8, is RFC 7252's limit and turns them off).
 *
 * Server side: a request with a longer token gets a 4.00 (Bad Request)
 * carrying the token back; with the limit at 8, a message with a longer
 * token is a format error (a CON gets an RST, RFC 8974 2.2.2).
 * Client side: with a limit above 8, the first request on each client
 * session is preceded by a probe (a CON GET with If-None-Match and a token
 * of the limit's length, or as long as fits a datagram) that finds out
 * whether the server takes such tokens; if it answers with an RST, a 4.00
 * or 5.03, or not at all, the session's limit drops to 8. Neither the
 * probe's response nor its failure reaches the application's handlers.
 * coap_send() refuses a request whose token is over the session's limit.
 * @param context        The context (borrowed).
 * @param max_token_size 8..65804 (COAP_TOKEN_EXT_MAX); other values are
 *                       ignored.
 */
COAP_API void coap_context_set_max_token_size(coap_context_t *context,
                                              size_t max_token_size);

/**
 * The one descriptor an application can wait on (select/poll/epoll) to
 * learn that coap_io_process() has work: the library's epoll set, which
 * holds every socket of the context, the wake-up eventfd and a timerfd
 * kept at the next deadline, so it also becomes readable when a
 * retransmission, a keepalive or a separate response is due, including
 * work the application scheduled between two calls of coap_io_process()
 * (coap_send(), coap_resource_notify_observers(), ...). Any thread.
 * @param context The context (borrowed).
 * @return The descriptor (owned by the library), or -1 if @p context is
 *         NULL or has no event loop.
 */
COAP_API int coap_context_get_coap_fd(const coap_context_t *context);

/**
 * Sets how many idle server sessions are kept; beyond that the least
 * recently used is freed (chosen as for
 * coap_petrel_context_set_max_sessions_per_endpoint(): among the 16
 * least recently active to within a second, the idle one heard from
 * last the longest ago).
 * @param context           The context (borrowed).
 * @param max_idle_sessions Limit, or 0 for no limit (the default).
 */
COAP_API void coap_context_set_max_idle_sessions(coap_context_t *context,
                                                 unsigned int max_idle_sessions);

/**
 * @param context The context (borrowed).
 * @return The idle server session limit (0 = none).
 */
COAP_API unsigned int coap_context_get_max_idle_sessions(const coap_context_t *context);

/**
 * Sets after how many seconds without traffic from its peer an idle server
 * session (no exchange in flight, no other reference) is freed, counted
 * from its last datagram to the tick. Sessions
 * that already exist keep the deadline they have until it passes, then
 * follow the new value.
 * @param context         The context (borrowed).
 * @param session_timeout Seconds, or 0 for the default of 300.
 */
COAP_API void coap_context_set_session_timeout(coap_context_t *context,
                                               unsigned int session_timeout);

/**
 * @param context The context (borrowed).
 * @return The idle server session timeout in seconds (300 unless set; 300
 *         after it was set to 0), or 0 if @p context is NULL.
 */
COAP_API unsigned int coap_context_get_session_timeout(const coap_context_t *context);

/**
 * Sets how long a TCP connection opened after this call waits for the
 * peer's CSM (RFC 8323 5.3) before it is aborted and closed; 0 waits
 * forever. Returned by coap_context_get_csm_timeout().
 * @param context     The context (borrowed).
 * @param csm_timeout Seconds (default 30).
 */
COAP_API void coap_context_set_csm_timeout(coap_context_t *context,
                                           unsigned int csm_timeout);

/**
 * @param context The context (borrowed).
 * @return The CSM wait in seconds: the value set with
 *         coap_context_set_csm_timeout() (default 30); 0 if @p context is
 *         NULL.
 */
COAP_API unsigned int coap_context_get_csm_timeout(const coap_context_t *context);

/**
 * Sets the Max-Message-Size we announce in our CSM on TCP connections
 * opened after this call, which is also the largest message they accept
 * (a bigger one is answered with an Abort and the connection closed).
 * Values below 64 are ignored. Returned by
 * coap_context_get_csm_max_message_size().
 * @param context              The context (borrowed).
 * @param csm_max_message_size Size in bytes.
 */
COAP_API void coap_context_set_csm_max_message_size(coap_context_t *context,
                                                    uint32_t csm_max_message_size);

/**
 * @param context The context (borrowed).
 * @return The Max-Message-Size we announce, in bytes: the value set
 *         with coap_context_set_csm_max_message_size() (default 8388608);
 *         0 if @p context is NULL.
 */
COAP_API uint32_t coap_context_get_csm_max_message_size(const coap_context_t *context);

/**
 * Sets how many server sessions may be in a (D)TLS handshake at once;
 * when a new peer's handshake would exceed it, the least recently active
 * session still in its handshake is dropped (with COAP_EVENT_DTLS_ERROR).
 * Peers that have not yet returned a valid cookie hold no session and do
 * not count. In libcoap-3-notls no session is ever in a handshake.
 * @param context                The context (borrowed).
 * @param max_handshake_sessions Limit, or 0 for no limit (the default).
 */
COAP_API void coap_context_set_max_handshake_sessions(coap_context_t *context,
                                                      unsigned int max_handshake_sessions);

/**
 * @param context The context (borrowed).
 * @return The handshake session limit (0 = none, the default).
 */
COAP_API unsigned int coap_context_get_max_handshake_sessions(const coap_context_t *context);

/**
 * Stores an application pointer with @p context.
 * @param context The context (borrowed).
 * @param data    Stored as is; ownership stays with the application.
 * @deprecated libcoap names it coap_context_set_app_data() in later
 *             releases; kept under this name for 4.3.4 compatibility.
 */
COAP_API void coap_set_app_data(coap_context_t *context, void *data);

/**
 * Returns the pointer stored with coap_set_app_data().
 * @param context The context (borrowed).
 * @return The pointer, or NULL if none.
 */
COAP_API void *coap_get_app_data(const coap_context_t *context);

/* ---- Messages ---- */

/**
 * Returns the next message ID of @p session and advances its counter.
 * @param session The session (borrowed).
 * @return The message ID.
 */
COAP_API uint16_t coap_new_message_id(coap_session_t *session);

/**
 * Builds an error response to @p request: same token, code @p code, the
 * options selected by @p opts copied from the request, and the reason
 * phrase (coap_response_phrase()) as a diagnostic payload without a
 * Content-Format. Content-Format, Hop-Limit and OSCORE are never copied,
 * whatever @p opts says (@p opts itself is not changed). A 5.08 (Hop Limit
 * Reached) gets no phrase: RFC 8768 gives its payload to proxy addresses,
 * which this library does not fill in. The type is ACK for a CON request,
 * else NON; the message ID is the request's (coap_send_error() gives a NON
 * a fresh one).
 * @param request The request (borrowed).
 * @param code    Response code (4.xx or 5.xx).
 * @param opts    Option filter naming the options to copy (borrowed), or
 *                NULL.
 * @return A new PDU owned by the caller (send it with coap_send(), which
 *         takes ownership, or free it with coap_delete_pdu()), or NULL.
 */
COAP_API coap_pdu_t *coap_new_error_response(const coap_pdu_t *request,
                                             coap_pdu_code_t code,
                                             coap_opt_filter_t *opts);

/**
 * Builds and sends an error response to @p request (see
 * coap_new_error_response()).
 * @param session The session to send on (borrowed).
 * @param request The request (borrowed).
 * @param code    Response code.
 * @param opts    Options to copy from @p request (borrowed), or NULL.
 * @return The message ID sent, or COAP_INVALID_MID on failure.
 */
COAP_API coap_mid_t coap_send_error(coap_session_t *session,
                                    const coap_pdu_t *request,
                                    coap_pdu_code_t code,
                                    coap_opt_filter_t *opts);

/**
 * Sends an empty message of @p type (normally ACK or RST) carrying the
 * message ID of @p request. Nothing is sent if @p request is not a CON
 * (or NON for RST).
 * @param session The session (borrowed).
 * @param request The message being answered (borrowed).
 * @param type    COAP_MESSAGE_ACK or COAP_MESSAGE_RST.
 * @return The message ID, or COAP_INVALID_MID if nothing was sent.
 */
COAP_API coap_mid_t coap_send_message_type(coap_session_t *session,
                                           const coap_pdu_t *request,
                                           coap_pdu_type_t type);

/**
 * Sends an empty ACK for the confirmable @p request.
 * @param session The session (borrowed).
 * @param request The request (borrowed).
 * @return The message ID, or COAP_INVALID_MID if nothing was sent.
 */
COAP_API coap_mid_t coap_send_ack(coap_session_t *session, const coap_pdu_t *request);

/**
 * Sends an RST (code 0.00) with the message ID of @p request, a CON or
 * NON (coap_send_message_type() with COAP_MESSAGE_RST).
 * @param session The session (borrowed).
 * @param request The message being rejected (borrowed).
 * @return The message ID, or COAP_INVALID_MID if nothing was sent.
 */
COAP_STATIC_INLINE coap_mid_t coap_send_rst(coap_session_t *session,
                                            const coap_pdu_t *request) {
  return coap_send_message_type(session, request, COAP_MESSAGE_RST);
}

/**
 * Queues @p pdu for sending on @p session. A CON is retransmitted until
 * acknowledged; if block mode (coap_context_set_block_mode()) is on, large
 * bodies set up with coap_add_data_large_request() are split into blocks.
 * @param session The session (borrowed).
 * @param pdu     The message; ownership is TRANSFERRED to the library in
 *                every case, success or failure. Do not use it afterwards.
 * @return The message ID, or COAP_INVALID_MID on failure.
 */
COAP_API coap_mid_t coap_send(coap_session_t *session, coap_pdu_t *pdu);

/** Old name of coap_send(). */
#define coap_send_large(session, pdu) coap_send(session, pdu)

/**
 * Delivers @p event for @p session to the context's event handler now.
 * @param context The context (borrowed).
 * @param event   The event.
 * @param session The session concerned (borrowed).
 * @return The handler's return value, or 0 if no handler is registered.
 */
COAP_API int coap_handle_event(coap_context_t *context, coap_event_t event,
                               coap_session_t *session);

/**
 * Tells whether anything is still queued for sending or awaiting an ACK.
 * @param context The context (borrowed).
 * @return 1 if nothing is queued (safe to exit), 0 otherwise. 0 does not
 *         mean a response is still awaited, only that a message is.
 */
COAP_API int coap_can_exit(coap_context_t *context);

/**
 * Reads the library clock (monotonic), in COAP_TICKS_PER_SECOND units.
 * Any thread.
 * @param t Set to the current tick count.
 */
COAP_API void coap_ticks(coap_tick_t *t);

/* ---- Multicast ---- */

/**
 * Joins multicast group @p groupname on all UDP endpoints.
 * @param ctx       The context (borrowed).
 * @param groupname Group address as text (e.g. "224.0.1.187", "ff02::fd").
 * @param ifname    Interface name, or NULL for the system's choice.
 * @return 0 on success, -1 on failure.
 */
COAP_API int coap_join_mcast_group_intf(coap_context_t *ctx, const char *groupname,
                                        const char *ifname);

/** Joins a multicast group on the default interface. */
#define coap_join_mcast_group(ctx, groupname)                                  \
  (coap_join_mcast_group_intf(ctx, groupname, NULL))

/**
 * Sets the hop limit (TTL) of multicast messages sent on @p session.
 * @param session The session (borrowed).
 * @param hops    Hop limit.
 * @return 1 on success, 0 on failure.
 */
COAP_API int coap_mcast_set_hops(coap_session_t *session, size_t hops);

/**
 * Makes multicast request handling follow each resource's
 * COAP_RESOURCE_FLAGS_*MCAST* flags instead of the context defaults.
 *
 * A request sent to a group (one the context joined with
 * coap_join_mcast_group_intf()) is served only if it is Non-confirmable
 * (RFC 7252 8.1); nothing else sent to a group is answered, not even with
 * an RST. Without this call every resource serves such requests, 4.xx and
 * 5.xx answers are not sent, and each answer waits a random time within the
 * session's DEFAULT_LEISURE (coap_session_set_default_leisure(); RFC 7252
 * 8.2) before it goes out as NON from a unicast address of the interface
 * the request came in over. After it, a resource serves them only with
 * COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT (others ignore them silently) and
 * its COAP_RESOURCE_FLAGS_LIB_* flags change those defaults; requests no
 * resource matches follow the defaults. A No-Response option (RFC 7967)
 * in the request, when present, alone decides which answer classes are
 * suppressed. ".well-known/core" always serves group requests and sends
 * nothing when its query filter matches no resource. At most 1,024
 * answers wait at once per context; beyond that an answer is dropped.
 * @param context The context (borrowed); NULL is ignored.
 */
COAP_API void coap_mcast_per_resource(coap_context_t *context);

/* ---- Event loop ---- */

/** coap_io_process(): wait until the next timer or incoming message. */
#define COAP_IO_WAIT 0
/** coap_io_process(): do what is due and return without waiting. */
#define COAP_IO_NO_WAIT ((uint32_t)-1)

/**
 * Runs the loop once: sends what is due, waits for input up to
 * @p timeout_ms (or until the next timer with COAP_IO_WAIT; not at all
 * with COAP_IO_NO_WAIT), then receives and dispatches every ready message,
 * running handlers and callbacks on this thread. The calling thread becomes
 * the loop thread of @p ctx; only one thread may call it at a time.
 * @param ctx        The context (borrowed).
 * @param timeout_ms Longest wait in milliseconds, COAP_IO_WAIT or
 *                   COAP_IO_NO_WAIT.
 * @return Milliseconds spent, or -1 on error.
 */
COAP_API int coap_io_process(coap_context_t *ctx, uint32_t timeout_ms);

/**
 * Like coap_io_process(), also waiting on the application's descriptors.
 * @param ctx        The context (borrowed).
 * @param timeout_ms As for coap_io_process().
 * @param nfds       Highest descriptor in the sets plus one.
 * @param readfds    Descriptors to watch for reading, or NULL; on return
 *                   holds those that are ready.
 * @param writefds   Likewise for writing, or NULL.
 * @param exceptfds  Likewise for exceptions, or NULL.
 * @return Milliseconds spent, or -1 on error.
 */
COAP_API int coap_io_process_with_fds(coap_context_t *ctx, uint32_t timeout_ms,
                                      int nfds, fd_set *readfds, fd_set *writefds,
                                      fd_set *exceptfds);

/**
 * Tells whether work is pending on any session of @p context: a CON (ours:
 * a request, a separate response, a ping) awaiting its ACK or RST, or
 * queued behind NSTART; a request (CON or NON) awaiting its response,
 * until it arrives or is given up after EXCHANGE_LIFETIME; an observation
 * the client keeps; a block-wise transfer in progress (a client transfer,
 * a Block2 body the server holds for the next block, a Block1 body being
 * reassembled). Runs a non-waiting loop pass (coap_io_process() with
 * COAP_IO_NO_WAIT) first. Costs the same whatever the number of sessions.
 * @param context The context (borrowed), or NULL.
 * @return 1 if something is pending, 0 if not (also for NULL, or if the
 *         loop pass failed).
 */
COAP_API int coap_io_pending(coap_context_t *context);

/**
 * For applications running their own select(): runs what is due at @p now
 * (retransmissions, separate responses, keepalives, expiries) and reports
 * the next deadline. This build is an epoll build, like libcoap's default
 * on Linux: every socket sits behind coap_context_get_coap_fd(), so no
 * socket is listed (@p num_sockets is set to 0). Wait on that descriptor
 * (it is readable when a socket is, or when a deadline is due) up to the
 * returned time, then call coap_io_do_io().
 * @param ctx         The context (borrowed).
 * @param sockets     Caller's array; left untouched in this build.
 * @param max_sockets Size of @p sockets.
 * @param num_sockets If not NULL, set to 0.
 * @param now         Current time (coap_ticks()).
 * @return Milliseconds until the next deadline, or 0 for none (or if
 *         @p ctx is NULL).
 */
COAP_API unsigned int coap_io_prepare_io(coap_context_t *ctx,
                                         coap_socket_t *sockets[],
                                         unsigned int max_sockets,
                                         unsigned int *num_sockets,
                                         coap_tick_t now);

/**
 * Reads every datagram waiting on the context's sockets and dispatches it,
 * then runs what is due: coap_io_process() with COAP_IO_NO_WAIT.
 * @param ctx The context (borrowed), or NULL (nothing happens).
 * @param now Current time; not used (the pass reads the clock itself).
 */
COAP_API void coap_io_do_io(coap_context_t *ctx, coap_tick_t now);

/**
 * For applications running their own epoll loop on
 * coap_context_get_coap_fd(): sends what is due and reports the next
 * deadline.
 * @param ctx The context (borrowed).
 * @param now Current time.
 * @return Milliseconds until the next deadline, or 0 for none.
 */
COAP_API unsigned int coap_io_prepare_epoll(coap_context_t *ctx, coap_tick_t now);

struct epoll_event;

/**
 * Handles events returned by the application's epoll_wait() on the
 * library's descriptor.
 * @param ctx     The context (borrowed).
 * @param events  The events (borrowed).
 * @param nevents Number of events.
 */
COAP_API void coap_io_do_epoll(coap_context_t *ctx, struct epoll_event *events,
                               size_t nevents);

/** Old name of coap_io_process(). */
#define coap_run_once(ctx, timeout_ms) coap_io_process(ctx, timeout_ms)
/** Old name of coap_io_prepare_io(). */
#define coap_write(ctx, sockets, max_sockets, num_sockets, now)                \
  coap_io_prepare_io(ctx, sockets, max_sockets, num_sockets, now)
/** Old name of coap_io_do_io(). */
#define coap_read(ctx, now) coap_io_do_io(ctx, now)

/* Removed names: using them gives an error that names the replacement. */
#define COAP_RUN_NONBLOCK COAP_RUN_NONBLOCK_deprecated_use_COAP_IO_NO_WAIT
#define COAP_RUN_BLOCK COAP_RUN_BLOCK_deprecated_use_COAP_IO_WAIT

#ifdef __cplusplus
}
#endif

#endif /* COAP_NET_H_ */
