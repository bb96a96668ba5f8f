/*
 * coap_cache.h -- cache keys and cache entries (RFC 7252 section 5.4.2),
 * for proxies and servers that cache responses.
 *
 * Threads: loop thread of the context, or before the loop starts.
 */
#ifndef COAP_CACHE_H_
#define COAP_CACHE_H_

#include <stddef.h>
#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_pdu.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Frees a cache entry's app data when the entry is deleted. */
typedef void (*coap_cache_app_data_free_callback_t)(void *data);

/** Whether a cache key includes the session (so one peer's entries). */
typedef enum coap_cache_session_based_t {
  COAP_CACHE_NOT_SESSION_BASED,
  COAP_CACHE_IS_SESSION_BASED
} coap_cache_session_based_t;

/** Whether a cache entry keeps a copy of the PDU. */
typedef enum coap_cache_record_pdu_t {
  COAP_CACHE_NOT_RECORD_PDU,
  COAP_CACHE_RECORD_PDU
} coap_cache_record_pdu_t;

/**
 * Computes the cache key of @p pdu: a hash of its code and cache-key
 * options (excluding NoCacheKey options, Observe and the options set with
 * coap_cache_ignore_options()) and payload.
 * @param session       Included in the key if @p session_based (borrowed).
 * @param pdu           The request (borrowed).
 * @param session_based COAP_CACHE_IS_SESSION_BASED or _NOT_.
 * @return A new key owned by the caller (free with
 *         coap_delete_cache_key()), or NULL on failure.
 */
COAP_API coap_cache_key_t *coap_cache_derive_key(const coap_session_t *session,
                                                 const coap_pdu_t *pdu,
                                                 coap_cache_session_based_t session_based);

/**
 * As coap_cache_derive_key(), ignoring the listed options instead of the
 * context's list.
 * @param session        Included if @p session_based (borrowed).
 * @param pdu            The request (borrowed).
 * @param session_based  COAP_CACHE_IS_SESSION_BASED or _NOT_.
 * @param ignore_options Option numbers to leave out (borrowed).
 * @param ignore_count   Entries in @p ignore_options.
 * @return A new key owned by the caller, or NULL.
 */
COAP_API coap_cache_key_t *coap_cache_derive_key_w_ignore(const coap_session_t *session,
                                                          const coap_pdu_t *pdu,
                                                          coap_cache_session_based_t session_based,
                                                          const uint16_t *ignore_options,
                                                          size_t ignore_count);

/**
 * Frees a key from coap_cache_derive_key*().
 * @param cache_key The key, or NULL.
 */
COAP_API void coap_delete_cache_key(coap_cache_key_t *cache_key);

/**
 * Sets the option numbers left out of cache keys derived for @p context.
 * @param context The context (borrowed).
 * @param options Option numbers (copied).
 * @param count   Entries in @p options; 0 clears the list.
 * @return 1 on success, 0 on failure.
 */
COAP_API int coap_cache_ignore_options(coap_context_t *context,
                                       const uint16_t *options, size_t count);

/**
 * Creates a cache entry for @p pdu in the session's context.
 * @param session       The session (borrowed); with session_based the
 *                      entry is deleted when the session is.
 * @param pdu           The PDU to key on (borrowed; copied if
 *                      @p record_pdu).
 * @param record_pdu    COAP_CACHE_RECORD_PDU to keep a copy of @p pdu.
 * @param session_based COAP_CACHE_IS_SESSION_BASED or _NOT_.
 * @param idle_time     Seconds without use before the entry expires, or 0
 *                      for never.
 * @return The entry (owned by the context), or NULL on failure.
 */
COAP_API coap_cache_entry_t *coap_new_cache_entry(coap_session_t *session,
                                                  const coap_pdu_t *pdu,
                                                  coap_cache_record_pdu_t record_pdu,
                                                  coap_cache_session_based_t session_based,
                                                  unsigned int idle_time);

/**
 * Removes and frees @p cache_entry, calling its app data free callback if
 * one was set.
 * @param context     The context (borrowed).
 * @param cache_entry The entry; not usable afterwards.
 */
COAP_API void coap_delete_cache_entry(coap_context_t *context,
                                      coap_cache_entry_t *cache_entry);

/**
 * Finds the entry with key @p cache_key.
 * @param context   The context (borrowed).
 * @param cache_key The key (borrowed).
 * @return The entry (borrowed), or NULL.
 */
COAP_API coap_cache_entry_t *coap_cache_get_by_key(coap_context_t *context,
                                                   const coap_cache_key_t *cache_key);

/**
 * Finds the entry whose key matches @p pdu.
 * @param session       The session (borrowed).
 * @param pdu           The request (borrowed).
 * @param session_based COAP_CACHE_IS_SESSION_BASED or _NOT_.
 * @return The entry (borrowed), or NULL.
 */
COAP_API coap_cache_entry_t *coap_cache_get_by_pdu(coap_session_t *session,
                                                   const coap_pdu_t *pdu,
                                                   coap_cache_session_based_t session_based);

/**
 * @param cache_entry The entry (borrowed).
 * @return The PDU copy kept by the entry (borrowed; valid while the entry
 *         lives), or NULL if it keeps none.
 */
COAP_API const coap_pdu_t *coap_cache_get_pdu(const coap_cache_entry_t *cache_entry);

/**
 * Stores an application pointer in @p cache_entry, replacing the
 * previous one (which is not freed).
 * @param cache_entry The entry (borrowed).
 * @param data        The pointer; ownership passes to the entry if
 *                    @p callback is given, else stays with the caller.
 * @param callback    Frees @p data when the entry is deleted, or NULL.
 */
COAP_API void coap_cache_set_app_data(coap_cache_entry_t *cache_entry, void *data,
                                      coap_cache_app_data_free_callback_t callback);

/**
 * @param cache_entry The entry (borrowed).
 * @return The pointer stored with coap_cache_set_app_data(), or NULL.
 */
COAP_API void *coap_cache_get_app_data(const coap_cache_entry_t *cache_entry);

#ifdef __cplusplus
}
#endif

#endif /* COAP_CACHE_H_ */
