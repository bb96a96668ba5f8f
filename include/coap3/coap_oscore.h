/*
 * coap_oscore.h -- Object Security for Constrained RESTful Environments
 * (OSCORE, RFC 8613).
 *
 * Threads: loop thread of the context, or before the loop starts.
 */
#ifndef COAP_OSCORE_H_
#define COAP_OSCORE_H_

#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_address.h"
#include "coap3/coap_dtls.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_session.h"
#include "coap3/coap_str.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed OSCORE configuration (opaque). */
typedef struct coap_oscore_conf_t coap_oscore_conf_t;

/**
 * Reports whether OSCORE is available in this build.
 * @return 1 if available, 0 if not. Any thread.
 */
COAP_API int coap_oscore_is_supported(void);

/**
 * Creates a client session whose requests are protected with OSCORE.
 * @param ctx         The context (borrowed).
 * @param local_if    Local address (copied), or NULL.
 * @param server      Peer address (copied).
 * @param proto       Transport.
 * @param oscore_conf Configuration; ownership is TRANSFERRED (freed by
 *                    this call on failure, else by the library later).
 * @return A new session owned by the caller (release with
 *         coap_session_release()), or NULL on failure.
 * Not available in this build (no OSCORE): returns NULL and changes nothing.
 */
COAP_API coap_session_t *coap_new_client_session_oscore(coap_context_t *ctx,
                                                        const coap_address_t *local_if,
                                                        const coap_address_t *server,
                                                        coap_proto_t proto,
                                                        coap_oscore_conf_t *oscore_conf);

/**
 * As coap_new_client_session_oscore(), over (D)TLS with a pre-shared key.
 * @param ctx         The context (borrowed).
 * @param local_if    Local address (copied), or NULL.
 * @param server      Peer address (copied).
 * @param proto       COAP_PROTO_DTLS, COAP_PROTO_TLS or COAP_PROTO_WSS.
 * @param psk_data    PSK setup, as for coap_new_client_session_psk2().
 * @param oscore_conf Configuration; ownership is TRANSFERRED.
 * @return A new session owned by the caller, or NULL on failure.
 * Not available in this build (no OSCORE): returns NULL and changes nothing.
 */
COAP_API coap_session_t *coap_new_client_session_oscore_psk(coap_context_t *ctx,
                                                            const coap_address_t *local_if,
                                                            const coap_address_t *server,
                                                            coap_proto_t proto,
                                                            coap_dtls_cpsk_t *psk_data,
                                                            coap_oscore_conf_t *oscore_conf);

/**
 * As coap_new_client_session_oscore(), over (D)TLS with PKI.
 * @param ctx         The context (borrowed).
 * @param local_if    Local address (copied), or NULL.
 * @param server      Peer address (copied).
 * @param proto       COAP_PROTO_DTLS, COAP_PROTO_TLS or COAP_PROTO_WSS.
 * @param pki_data    PKI setup, as for coap_new_client_session_pki().
 * @param oscore_conf Configuration; ownership is TRANSFERRED.
 * @return A new session owned by the caller, or NULL on failure.
 * Not available in this build (no OSCORE): returns NULL and changes nothing.
 */
COAP_API coap_session_t *coap_new_client_session_oscore_pki(coap_context_t *ctx,
                                                            const coap_address_t *local_if,
                                                            const coap_address_t *server,
                                                            coap_proto_t proto,
                                                            coap_dtls_pki_t *pki_data,
                                                            coap_oscore_conf_t *oscore_conf);

/**
 * Enables OSCORE for requests arriving at the server side of @p context.
 * @param context     The context (borrowed).
 * @param oscore_conf Configuration; ownership is TRANSFERRED.
 * @return 1 on success, 0 on failure.
 * Not available in this build (no OSCORE): returns 0 and changes nothing.
 */
COAP_API int coap_context_oscore_server(coap_context_t *context,
                                        coap_oscore_conf_t *oscore_conf);

/**
 * Saves the sender sequence number to non-volatile storage, so that it is
 * never reused after a restart.
 * @param sender_seq_num The value to save.
 * @param param          As given to coap_new_oscore_conf().
 * @return 1 on success, 0 on failure.
 */
typedef int (*coap_oscore_save_seq_num_t)(uint64_t sender_seq_num, void *param);

/**
 * Parses an OSCORE configuration held in memory (the key = value text
 * format of libcoap's coap-oscore-conf(5)).
 * @param conf_mem                The configuration text (read during the
 *                                call; passed by value, bytes borrowed).
 * @param save_seq_num_func       Or NULL.
 * @param save_seq_num_func_param Passed to @p save_seq_num_func.
 * @param start_seq_num           Sender sequence number to start from
 *                                (as saved before a restart), or 0.
 * @return A new configuration owned by the caller until given to one of
 *         the functions above (or freed with coap_delete_oscore_conf()),
 *         or NULL on a parse error.
 * Not available in this build (no OSCORE): returns NULL and changes nothing.
 */
COAP_API coap_oscore_conf_t *coap_new_oscore_conf(coap_str_const_t conf_mem,
                                                  coap_oscore_save_seq_num_t save_seq_num_func,
                                                  void *save_seq_num_func_param,
                                                  uint64_t start_seq_num);

/**
 * Frees a configuration still owned by the caller.
 * @param oscore_conf The configuration; not usable afterwards.
 * @return 1 if freed, 0 if NULL.
 * Not available in this build (no OSCORE; no configuration can exist):
 * returns 0 and changes nothing.
 */
COAP_API int coap_delete_oscore_conf(coap_oscore_conf_t *oscore_conf);

/**
 * Adds a Recipient ID to the server's OSCORE context.
 * @param context      The context (borrowed).
 * @param recipient_id The ID (ownership TRANSFERRED to the library).
 * @return 1 on success, 0 on failure.
 * Not available in this build (no OSCORE): returns 0 and changes nothing.
 */
COAP_API int coap_new_oscore_recipient(coap_context_t *context,
                                       coap_bin_const_t *recipient_id);

/**
 * Removes a Recipient ID, ending OSCORE protection for that recipient.
 * @param context      The context (borrowed).
 * @param recipient_id The ID (borrowed).
 * @return 1 if removed, 0 if not found.
 * Not available in this build (no OSCORE): returns 0 and changes nothing.
 */
COAP_API int coap_delete_oscore_recipient(coap_context_t *context,
                                          coap_bin_const_t *recipient_id);

#ifdef __cplusplus
}
#endif

#endif /* COAP_OSCORE_H_ */
