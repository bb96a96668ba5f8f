/*
 * coap_subscribe.h -- resource observation (RFC 7641) and keeping
 * observations across a server restart.
 *
 * Threads: loop thread of the context, or before the loop starts.
 * Callbacks run on the loop thread.
 */
#ifndef COAP_SUBSCRIBE_H_
#define COAP_SUBSCRIBE_H_

#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_address.h"
#include "coap3/coap_io.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_str.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Observe option value in a GET/FETCH: register (RFC 7641 section 2). */
#define COAP_OBSERVE_ESTABLISH 0
/** Observe option value in a GET/FETCH: deregister. */
#define COAP_OBSERVE_CANCEL 1

/**
 * Makes @p resource observable (or not). When observable, a GET or FETCH
 * carrying Observe: 0 that its handler answers with a 2.xx registers the
 * client, keyed by (session, token) (RFC 7641 4.1: a second registration
 * with the same token replaces the first), and the answer carries Observe.
 * A handler that answers through coap_register_async() registers the
 * client when the separate response is sent. The observation ends with a
 * request with Observe: 1 and the same token, an RST to a notification, a
 * CON notification unacknowledged after MAX_RETRANSMIT, a 4.xx/5.xx
 * notification, the session being freed (idle for the session timeout,
 * evicted, or the context freed), or the resource being deleted (a final
 * 4.04). Past the limits of coap3/coap_petrel.h a registration is answered
 * without Observe. Turning observability off keeps current observers.
 * The unknown and proxy resources are never observable.
 * @param resource The resource (borrowed).
 * @param mode     1 for observable, 0 for not.
 */
COAP_API void coap_resource_set_get_observable(coap_resource_t *resource, int mode);

/**
 * Called when a client registers as an observer (a GET or FETCH with
 * Observe: 0 answered 2.xx), so that the application can save it and give
 * it back to coap_persist_observe_add() after a restart. Not called for
 * observers that coap_persist_observe_add() restores.
 * @param session       The server session (borrowed for the call).
 * @param observe_key   The observer (borrowed; valid until
 *                      coap_observe_deleted_t is called for it).
 * @param e_proto       Transport of the endpoint (COAP_PROTO_UDP).
 * @param e_listen_addr Address the endpoint listens on (borrowed for the
 *                      call).
 * @param s_addr_info   Remote and local addresses of the session (borrowed
 *                      for the call).
 * @param raw_packet    The registering request as a UDP datagram (borrowed
 *                      for the call); a Block1 FETCH is given reassembled.
 * @param oscore_info   Always NULL (no OSCORE in this build).
 * @param user_data     As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure (the library ignores it).
 */
typedef int (*coap_observe_added_t)(coap_session_t *session,
                                    coap_subscription_t *observe_key,
                                    coap_proto_t e_proto,
                                    coap_address_t *e_listen_addr,
                                    coap_addr_tuple_t *s_addr_info,
                                    coap_bin_const_t *raw_packet,
                                    coap_bin_const_t *oscore_info,
                                    void *user_data);

/**
 * Called when an observer goes, whatever the reason (deregistration, RST,
 * error notification, session or resource freed, context freed).
 * @param session     The server session (borrowed for the call).
 * @param observe_key The observer (borrowed for the call; freed after it).
 * @param user_data   As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure (the library ignores it).
 */
typedef int (*coap_observe_deleted_t)(coap_session_t *session,
                                      coap_subscription_t *observe_key,
                                      void *user_data);

/**
 * Called when a resource's Observe number reaches a multiple of save_freq
 * (coap_persist_track_funcs()), with that number. After a restart, give
 * the resource a number at least save_freq - 1 above the last one saved
 * with coap_persist_set_observe_num(), as values up to that may have gone
 * out unsaved.
 * @param context       The context (borrowed for the call).
 * @param resource_name The resource's path (borrowed for the call).
 * @param observe_num   The Observe number just used.
 * @param user_data     As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure (the library ignores it).
 */
typedef int (*coap_track_observe_value_t)(coap_context_t *context,
                                          coap_str_const_t *resource_name,
                                          uint32_t observe_num, void *user_data);

/**
 * Called when the unknown-resource handler (coap_resource_unknown_init())
 * adds a resource with coap_add_resource() while it handles a request:
 * a dynamic resource, which running the handler again on @p raw_packet
 * re-creates.
 * @param session       The session the request came on (borrowed for the
 *                      call).
 * @param resource_name The new resource's path (borrowed for the call).
 * @param raw_packet    The creating request as a UDP datagram (borrowed for
 *                      the call); a Block1 body is given reassembled.
 * @param user_data     As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure (the library ignores it).
 */
typedef int (*coap_dyn_resource_added_t)(coap_session_t *session,
                                         coap_str_const_t *resource_name,
                                         coap_bin_const_t *raw_packet,
                                         void *user_data);

/**
 * Called when a resource of the context (not the unknown or proxy one) is
 * deleted, by coap_delete_resource() or because the context is freed.
 * @param context       The context (borrowed for the call).
 * @param resource_name The resource's path (borrowed for the call).
 * @param user_data     As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure (the library ignores it).
 */
typedef int (*coap_resource_deleted_t)(coap_context_t *context,
                                       coap_str_const_t *resource_name,
                                       void *user_data);

/**
 * Installs the application's callbacks that track observers, Observe
 * numbers and dynamic resources, replacing any installed before (NULL:
 * not called). Callbacks run on the loop thread.
 * @param context             The context (borrowed).
 * @param observe_added       Or NULL.
 * @param observe_deleted     Or NULL.
 * @param track_observe_value Or NULL.
 * @param dyn_resource_added  Or NULL.
 * @param resource_deleted    Or NULL.
 * @param save_freq           track_observe_value is called for each
 *                            multiple of this (0 counts as 1).
 * @param user_data           Passed to every callback (not owned).
 */
COAP_API void coap_persist_track_funcs(coap_context_t *context,
                                       coap_observe_added_t observe_added,
                                       coap_observe_deleted_t observe_deleted,
                                       coap_track_observe_value_t track_observe_value,
                                       coap_dyn_resource_added_t dyn_resource_added,
                                       coap_resource_deleted_t resource_deleted,
                                       uint32_t save_freq, void *user_data);

/**
 * Restores an observer saved before a restart (UDP only): finds the
 * context's endpoint listening on @p e_listen_addr, the server session for
 * the remote address of @p s_addr_info on it (creating it), and registers
 * the request @p raw_packet (a GET or FETCH with Observe: 0 for an
 * observable resource of the context) as that session's observer, as if
 * its handler had answered 2.05 -- without calling the handler or sending
 * anything. The next notification of the resource reaches the client with
 * the request's token. An observer with the same session and token is
 * replaced. Within the observer limits of coap3/coap_petrel.h.
 * @param context       The context (borrowed).
 * @param e_proto       Transport of the endpoint: COAP_PROTO_UDP.
 * @param e_listen_addr Address the endpoint listens on (borrowed).
 * @param s_addr_info   The session's remote and local addresses (borrowed).
 * @param raw_packet    The registering request as a UDP datagram (copied).
 * @param oscore_info   Must be NULL (no OSCORE in this build).
 * @return The observer (owned by the library), or NULL: a NULL argument,
 *         another transport, OSCORE information, no such endpoint, a
 *         packet that does not parse or is not a registration, no such
 *         observable resource, a limit reached, or no memory.
 */
COAP_API coap_subscription_t *coap_persist_observe_add(coap_context_t *context,
                                                       coap_proto_t e_proto,
                                                       const coap_address_t *e_listen_addr,
                                                       const coap_addr_tuple_t *s_addr_info,
                                                       const coap_bin_const_t *raw_packet,
                                                       const coap_bin_const_t *oscore_info);

/**
 * Turns on the library's own persistence in files, reloading what they
 * hold: first the dynamic resources (the unknown-resource handler runs
 * again on each saved request, with a session that sends nothing, for
 * each path that does not exist yet), then the Observe numbers (each
 * resource starts at the next multiple of @p save_freq above its saved
 * number, minus 1, so that its next notification is larger than any sent
 * before), then the observers (as coap_persist_observe_add()). Call it
 * after the endpoints and resources are set up.
 *
 * From then on each file is rewritten whole, at the end of each pass of
 * the loop that changed what it holds, through "<name>.tmp" and a rename,
 * and the Observe number file for each multiple of @p save_freq. A file
 * given here takes over from the callbacks of its kind
 * (coap_persist_track_funcs()). The files are in Petrel's own versioned,
 * checksummed format (doc/observe.md), not libcoap's: a file that is
 * missing or empty holds nothing; one that is malformed in any way is
 * ignored whole with a warning. Each file is written once before this
 * returns.
 * @param context                The context (borrowed).
 * @param dyn_resource_save_file File for dynamic resources, or NULL
 *                               (copied).
 * @param observe_save_file      File for observers, or NULL (copied).
 * @param obs_cnt_save_file      File for Observe numbers, or NULL (copied).
 * @param save_freq              Observe numbers are saved at multiples of
 *                               this (0 counts as 1).
 * @return 1 on success, 0 on failure: @p context NULL, no memory, or a
 *         file that cannot be written (then no file is used).
 */
COAP_API int coap_persist_startup(coap_context_t *context,
                                  const char *dyn_resource_save_file,
                                  const char *observe_save_file,
                                  const char *obs_cnt_save_file,
                                  uint32_t save_freq);

/**
 * Stops persistence: writes what the current pass changed, then stops
 * using the files (left as they are, for the next start) and the
 * callbacks, and makes coap_free_context() send observers no final 4.04,
 * as they are expected back after the restart. Without it,
 * coap_free_context() ends every observer and deletes every resource, and
 * the files and callbacks learn it.
 * @param context The context (borrowed).
 */
COAP_API void coap_persist_stop(coap_context_t *context);

/**
 * Sets the Observe number of @p resource (after a restart): a
 * registration answered now carries @p observe_num (taken modulo 2^24),
 * and the next notification @p observe_num + 1.
 * @param resource    The resource (borrowed).
 * @param observe_num The number to use now.
 */
COAP_API void coap_persist_set_observe_num(coap_resource_t *resource,
                                           uint32_t observe_num);

#ifdef __cplusplus
}
#endif

#endif /* COAP_SUBSCRIBE_H_ */
