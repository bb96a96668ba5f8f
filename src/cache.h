/*
 * cache.h -- cache keys and cache entries (internal side of coap_cache.h).
 *
 * A cache key is the SHA-256 digest of what RFC 7252 section 5.6 says two
 * requests must share for one's stored response to serve the other: the
 * method, every option that is not NoCacheKey (section 5.4.2), and for
 * FETCH the payload (RFC 8132 section 2). Observe is left out (RFC 7641
 * section 2), and so are the options the application lists with
 * coap_cache_ignore_options(). A session-based key also covers the session.
 *
 * Entries live in a hash map on the context keyed by their key, and
 * session-based ones in a second map keyed by their session, so that
 * closing a session deletes its entries without a scan. An entry with an
 * idle time has a timer on the context's heap, pushed back by every lookup
 * that finds the entry; when it fires the entry is deleted.
 */
#ifndef PT_CACHE_H
#define PT_CACHE_H

#include "coap3/coap.h"

#include "sha256.h"

/* Opaque to the application (coap_forward_decls.h). */
struct coap_cache_key_t {
  uint8_t key[PT_SHA256_LEN];
};

/* Deletes every cache entry of @ctx, calling app-data free callbacks, and
 * frees the ignore list (context teardown; the timer heap must still be
 * alive). */
void pt_cache_free_all(coap_context_t *ctx);

/* Deletes the session-based entries of @session (borrowed). To be called
 * by the session module when a session is freed, so that a later session
 * at the same address does not inherit them. O(entries of the session). */
void pt_cache_session_closed(coap_session_t *session);

#endif /* PT_CACHE_H */
