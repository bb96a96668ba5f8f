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
 * (retransmissions exhausted, RST received, or transport failure).
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
 * Sets the server's default PSK hint and key.
 * @param context The context (borrowed).
 * @param hint    NUL-terminated hint (copied); NULL disables PSK, "" is a
 *                valid empty hint.
 * @param key     The key (copied); NULL makes PSK handshakes fail.
 * @param key_len Key length; 0 makes PSK handshakes fail.
 * @return 1 on success, 0 on failure.
 * @deprecated Use coap_context_set_psk2().
 * Not available in this build (no (D)TLS): returns 0 and changes nothing.
 */
COAP_API int coap_context_set_psk(coap_context_t *context, const char *hint,
                                  const uint8_t *key, size_t key_len);

/**
 * Sets the server's PSK configuration.
 * @param context    The context (borrowed).
 * @param setup_data Server PSK setup; hint and key are copied, callbacks and
 *                   their arguments are kept and must stay valid while the
 *                   context lives.
 * @return 1 on success, 0 on failure (e.g. no PSK support).
 * Not available in this build (no (D)TLS): returns 0 and changes nothing.
 */
COAP_API int coap_context_set_psk2(coap_context_t *context,
                                   coap_dtls_spsk_t *setup_data);

/**
 * Sets the server's PKI configuration.
 * @param context    The context (borrowed).
 * @param setup_data PKI setup; key material is read during the call,
 *                   callbacks and their arguments are kept and must stay
 *                   valid while the context lives.
 * @return 1 on success, 0 on failure (e.g. no PKI support).
 * Not available in this build (no (D)TLS): returns 0 and changes nothing.
 */
COAP_API int coap_context_set_pki(coap_context_t *context,
                                  const coap_dtls_pki_t *setup_data);

/**
 * Sets the trusted root CAs used to verify peers (client and server).
 * @param context The context (borrowed).
 * @param ca_file PEM file of CA certificates, or NULL (name copied).
 * @param ca_dir  Directory of PEM CA certificates, or NULL (name copied).
 * @return 1 on success, 0 on failure.
 * Not available in this build (no (D)TLS): returns 0 and changes nothing.
 */
COAP_API int coap_context_set_pki_root_cas(coap_context_t *context,
                                           const char *ca_file,
                                           const char *ca_dir);

/**
 * Enables keepalives: after @p seconds without traffic on a session, an
 * empty CON (UDP/DTLS; retransmitted as usual until it fails) or a 7.02
 * Ping (reliable transports; failure if no Pong before the next one is
 * due) is sent. Failure disconnects the session and raises
 * COAP_EVENT_KEEPALIVE_FAILURE.
 * @param context The context (borrowed).
 * @param seconds Idle time, or 0 to disable (the default).
 */
COAP_API void coap_context_set_keepalive(coap_context_t *context, unsigned int seconds);

/**
 * Sets the largest token accepted and generated (RFC 8974 extended
 * tokens).
 * @param context        The context (borrowed).
 * @param max_token_size 8..65804; other values are ignored.
 */
COAP_API void coap_context_set_max_token_size(coap_context_t *context,
                                              size_t max_token_size);

/**
 * The one descriptor an application can wait on (select/poll/epoll) to
 * learn that coap_io_process() has work. Any thread.
 * @param context The context (borrowed).
 * @return The descriptor (owned by the library), or -1 if unavailable.
 */
COAP_API int coap_context_get_coap_fd(const coap_context_t *context);

/**
 * Sets how many idle server sessions are kept; beyond that the least
 * recently used is freed.
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
 * Sets after how many seconds without traffic an idle server session is
 * freed.
 * @param context         The context (borrowed).
 * @param session_timeout Seconds, or 0 for the default of 300.
 */
COAP_API void coap_context_set_session_timeout(coap_context_t *context,
                                               unsigned int session_timeout);

/**
 * @param context The context (borrowed).
 * @return The idle server session timeout in seconds.
 */
COAP_API unsigned int coap_context_get_session_timeout(const coap_context_t *context);

/**
 * Sets how long to wait for the peer's CSM on reliable transports before
 * the session fails.
 * @param context     The context (borrowed).
 * @param csm_timeout Seconds (0: the default).
 * Not available in this build (CSM is a TCP feature): the value is only kept
 * for the getter; nothing uses it.
 */
COAP_API void coap_context_set_csm_timeout(coap_context_t *context,
                                           unsigned int csm_timeout);

/**
 * @param context The context (borrowed).
 * @return The CSM wait in seconds.
 * Not available in this build (CSM is a TCP feature): returns the value set
 * (default 30).
 */
COAP_API unsigned int coap_context_get_csm_timeout(const coap_context_t *context);

/**
 * Sets the Max-Message-Size we announce in our CSM (the largest PDU we
 * accept on reliable transports).
 * @param context              The context (borrowed).
 * @param csm_max_message_size Size in bytes.
 * Not available in this build (CSM is a TCP feature): the value is only kept
 * for the getter; nothing uses it.
 */
COAP_API void coap_context_set_csm_max_message_size(coap_context_t *context,
                                                    uint32_t csm_max_message_size);

/**
 * @param context The context (borrowed).
 * @return The Max-Message-Size we announce, in bytes.
 * Not available in this build (CSM is a TCP feature): returns the value set
 * (default 8388608).
 */
COAP_API uint32_t coap_context_get_csm_max_message_size(const coap_context_t *context);

/**
 * Sets how many server sessions may be in a (D)TLS handshake at once;
 * beyond that the least recently used one is dropped.
 * @param context                The context (borrowed).
 * @param max_handshake_sessions Limit, or 0 for no limit (the default).
 * Not available in this build (no (D)TLS handshakes): the value is only kept
 * for the getter; nothing uses it.
 */
COAP_API void coap_context_set_max_handshake_sessions(coap_context_t *context,
                                                      unsigned int max_handshake_sessions);

/**
 * @param context The context (borrowed).
 * @return The handshake session limit (0 = none).
 * Not available in this build (no (D)TLS handshakes): returns the value set
 * (default 0).
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
 * options selected by @p opts copied from the request, and (unless built
 * without) the reason phrase as text/plain payload. The type is ACK for a
 * CON request, else NON; the message ID is set accordingly.
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
 * @param context The context (borrowed).
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
 * Tells whether work is pending: unacknowledged messages, block transfers
 * in progress, or (client) active observations. Runs a non-waiting loop
 * pass first.
 * @param context The context (borrowed).
 * @return 1 if something is pending, 0 if not.
 */
COAP_API int coap_io_pending(coap_context_t *context);

/**
 * For applications running their own select(): collects the library
 * sockets that want I/O, sends what is due and reports the next deadline.
 * Follow with select() on the sockets, then coap_io_do_io().
 * @param ctx         The context (borrowed).
 * @param sockets     Caller's array, filled with borrowed socket pointers.
 * @param max_sockets Size of @p sockets.
 * @param num_sockets Set to the number of entries filled.
 * @param now         Current time (coap_ticks()).
 * @return Milliseconds until the next deadline, or 0 for none.
 */
COAP_API unsigned int coap_io_prepare_io(coap_context_t *ctx,
                                         coap_socket_t *sockets[],
                                         unsigned int max_sockets,
                                         unsigned int *num_sockets,
                                         coap_tick_t now);

/**
 * Performs the I/O that coap_io_prepare_io() prepared and the application
 * found ready, and dispatches what was received.
 * @param ctx The context (borrowed).
 * @param now Current time.
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
