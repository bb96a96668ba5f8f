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
 * Makes @p resource observable (or not). When observable, a GET carrying
 * Observe: 0 registers the client, and coap_resource_notify_observers()
 * sends each registered client a notification.
 * @param resource The resource (borrowed).
 * @param mode     1 for observable, 0 for not.
 */
COAP_API void coap_resource_set_get_observable(coap_resource_t *resource, int mode);

/**
 * Called when an observation is set up, so that it can be saved.
 * @param session       The session (borrowed for the call).
 * @param observe_key   Identifies the observation (borrowed).
 * @param e_proto       Transport of the endpoint.
 * @param e_listen_addr Address the endpoint listens on (borrowed).
 * @param s_addr_info   Local and remote addresses of the session (borrowed).
 * @param raw_packet    The registering request as received (borrowed).
 * @param oscore_info   OSCORE information, or NULL (borrowed).
 * @param user_data     As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure.
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
 * Called when an observation ends.
 * @param session     The session (borrowed for the call), may be NULL.
 * @param observe_key Identifies the observation (borrowed).
 * @param user_data   As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure.
 */
typedef int (*coap_observe_deleted_t)(coap_session_t *session,
                                      coap_subscription_t *observe_key,
                                      void *user_data);

/**
 * Called every save_freq notifications of a resource with its current
 * Observe sequence number.
 * @param context       The context (borrowed).
 * @param resource_name The resource's path (borrowed).
 * @param observe_num   The sequence number just sent.
 * @param user_data     As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure.
 */
typedef int (*coap_track_observe_value_t)(coap_context_t *context,
                                          coap_str_const_t *resource_name,
                                          uint32_t observe_num, void *user_data);

/**
 * Called when the unknown-resource handler creates a resource.
 * @param session       The session (borrowed for the call).
 * @param resource_name The new resource's path (borrowed).
 * @param raw_packet    The creating request as received (borrowed).
 * @param user_data     As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure.
 */
typedef int (*coap_dyn_resource_added_t)(coap_session_t *session,
                                         coap_str_const_t *resource_name,
                                         coap_bin_const_t *raw_packet,
                                         void *user_data);

/**
 * Called when a resource is deleted.
 * @param context       The context (borrowed).
 * @param resource_name The resource's path (borrowed).
 * @param user_data     As given to coap_persist_track_funcs().
 * @return 1 on success, 0 on failure.
 */
typedef int (*coap_resource_deleted_t)(coap_context_t *context,
                                       coap_str_const_t *resource_name,
                                       void *user_data);

/**
 * Installs application callbacks that record observations, Observe
 * sequence numbers and dynamically created resources, so that they can be
 * restored after a restart with coap_persist_observe_add().
 * @param context             The context (borrowed).
 * @param observe_added       Or NULL.
 * @param observe_deleted     Or NULL.
 * @param track_observe_value Or NULL.
 * @param dyn_resource_added  Or NULL.
 * @param resource_deleted    Or NULL.
 * @param save_freq           Call track_observe_value every this many
 *                            notifications.
 * @param user_data           Passed to every callback (not owned).
 * Not available in this build (no Observe (RFC 7641) yet): does nothing.
 */
COAP_API void coap_persist_track_funcs(coap_context_t *context,
                                       coap_observe_added_t observe_added,
                                       coap_observe_deleted_t observe_deleted,
                                       coap_track_observe_value_t track_observe_value,
                                       coap_dyn_resource_added_t dyn_resource_added,
                                       coap_resource_deleted_t resource_deleted,
                                       uint32_t save_freq, void *user_data);

/**
 * Restores an observation saved before a restart (UDP only): recreates the
 * server session and registers the observer as if @p raw_packet had just
 * arrived.
 * @param context       The context (borrowed).
 * @param e_proto       Transport of the endpoint.
 * @param e_listen_addr Address the endpoint listens on (borrowed).
 * @param s_addr_info   The session's addresses (borrowed).
 * @param raw_packet    The original registering request (copied).
 * @param oscore_info   OSCORE information (copied), or NULL.
 * @return The observation (owned by the library), or NULL on failure.
 * Not available in this build (no Observe (RFC 7641) yet): returns NULL and
 * changes nothing.
 */
COAP_API coap_subscription_t *coap_persist_observe_add(coap_context_t *context,
                                                       coap_proto_t e_proto,
                                                       const coap_address_t *e_listen_addr,
                                                       const coap_addr_tuple_t *s_addr_info,
                                                       const coap_bin_const_t *raw_packet,
                                                       const coap_bin_const_t *oscore_info);

/**
 * Turns on the library's own file-based persistence, reloading what the
 * files already hold.
 * @param context                The context (borrowed).
 * @param dyn_resource_save_file File for dynamic resources, or NULL.
 * @param observe_save_file      File for observations, or NULL.
 * @param obs_cnt_save_file      File for Observe sequence numbers, or NULL.
 * @param save_freq              Save sequence numbers every this many
 *                               notifications.
 * @return 1 on success, 0 on failure.
 * Not available in this build (no Observe (RFC 7641) yet): returns 0 and
 * changes nothing.
 */
COAP_API int coap_persist_startup(coap_context_t *context,
                                  const char *dyn_resource_save_file,
                                  const char *observe_save_file,
                                  const char *obs_cnt_save_file,
                                  uint32_t save_freq);

/**
 * Stops persistence: callbacks are no longer called, saved files are left
 * as they are, and freeing the context afterwards sends no 4.04 to
 * observers (they are expected back after the restart).
 * @param context The context (borrowed).
 * Not available in this build (no Observe (RFC 7641) yet): does nothing.
 */
COAP_API void coap_persist_stop(coap_context_t *context);

/**
 * Sets the Observe sequence number of @p resource (after a restart).
 * @param resource    The resource (borrowed).
 * @param observe_num Next value to use.
 * Not available in this build (no Observe (RFC 7641) yet): does nothing.
 */
COAP_API void coap_persist_set_observe_num(coap_resource_t *resource,
                                           uint32_t observe_num);

#ifdef __cplusplus
}
#endif

#endif /* COAP_SUBSCRIBE_H_ */
