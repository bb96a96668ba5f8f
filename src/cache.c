/*
 * cache.c -- cache keys (RFC 7252 section 5.6) and the context's cache
 * entries. See cache.h for the design.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#include "context.h"
#include "pdu.h"
#include "session.h"
#include "timer.h"

struct coap_cache_entry_t {
  coap_context_t *context;
  coap_session_t *session; /* session-based entries only (borrowed) */
  coap_cache_key_t key;
  pt_hash_node by_key;     /* context->cache */
  pt_hash_node by_session; /* context->cache_by_session */
  pt_timer idle;           /* armed when idle_time > 0 */
  unsigned idle_time;      /* seconds; 0 = never expires */
  coap_pdu_t *pdu;         /* owned copy, or NULL */
  void *app_data;
  coap_cache_app_data_free_callback_t app_free;
};

/* ---- keys ------------------------------------------------------------------
 */

/* RFC 7252 section 5.4.6: NoCacheKey is bits 2-4 of the number all set
 * ("(number & 0x1e) == 0x1c"). RFC 7641 section 2: Observe is not part of
 * the cache key either. */
static int is_cache_key(uint16_t number, const uint16_t *ignore,
                        size_t ignore_count) {
  if ((number & 0x1e) == 0x1c || number == COAP_OPTION_OBSERVE)
    return 0;
  for (size_t i = 0; i < ignore_count; i++) /* a handful at most */
    if (ignore[i] == number)
      return 0;
  return 1;
}

/* Feeds one tagged, length-prefixed field, so that differently split
 * inputs (an option value ending where the next begins) never hash alike.
 * Options are tagged by their number (0-65535); the other fields by tags
 * above that range, so no option can imitate them. */
enum { TAG_SESSION = 0x10000, TAG_CODE, TAG_FETCH_BODY };

static void put_field(pt_sha256 *d, uint32_t tag, const uint8_t *v,
                      size_t len) {
  uint8_t hdr[8] = {(uint8_t)(tag >> 24), (uint8_t)(tag >> 16),
                    (uint8_t)(tag >> 8),  (uint8_t)tag,
                    (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                    (uint8_t)(len >> 8),  (uint8_t)len};
  pt_sha256_update(d, hdr, sizeof(hdr));
  pt_sha256_update(d, v, len);
}

static int digest_pdu(const coap_session_t *session, const coap_pdu_t *pdu,
                      coap_cache_session_based_t session_based,
                      const uint16_t *ignore, size_t ignore_count,
                      coap_cache_key_t *key) {
  pt_sha256 d;
  pt_sha256_init(&d);
  if (session_based == COAP_CACHE_IS_SESSION_BASED) {
    if (!session)
      return 0;
    put_field(&d, TAG_SESSION, (const uint8_t *)&session, sizeof(session));
  }
  /* RFC 7252 section 5.6: the method must match. libcoap 4.3.4 leaves the
   * code out, so a GET and a FETCH (or PUT) with the same options share a
   * key there; the RFC wins (see test_cache.c). */
  uint8_t code = (uint8_t)pdu->code;
  put_field(&d, TAG_CODE, &code, 1);
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  if (coap_option_iterator_init(pdu, &it, COAP_OPT_ALL)) {
    while ((opt = coap_option_next(&it)) != NULL)
      if (is_cache_key(it.number, ignore, ignore_count))
        put_field(&d, it.number, coap_opt_value(opt), coap_opt_length(opt));
  }
  size_t len;
  const uint8_t *data;
  if (pdu->code == COAP_REQUEST_CODE_FETCH && coap_get_data(pdu, &len, &data))
    put_field(&d, TAG_FETCH_BODY, data, len); /* RFC 8132 section 2 */
  pt_sha256_final(&d, key->key);
  return 1;
}

coap_cache_key_t *coap_cache_derive_key_w_ignore(
    const coap_session_t *session, const coap_pdu_t *pdu,
    coap_cache_session_based_t session_based, const uint16_t *ignore_options,
    size_t ignore_count) {
  if (!pdu || (ignore_count && !ignore_options))
    return NULL;
  coap_cache_key_t *key = malloc(sizeof(*key));
  if (!key)
    return NULL;
  if (!digest_pdu(session, pdu, session_based, ignore_options, ignore_count,
                  key)) {
    free(key);
    return NULL;
  }
  return key;
}

coap_cache_key_t *
coap_cache_derive_key(const coap_session_t *session, const coap_pdu_t *pdu,
                      coap_cache_session_based_t session_based) {
  if (!session || !session->context)
    return NULL;
  const coap_context_t *ctx = session->context;
  return coap_cache_derive_key_w_ignore(
      session, pdu, session_based, ctx->cache_ignore, ctx->cache_ignore_count);
}

void coap_delete_cache_key(coap_cache_key_t *cache_key) {
  free(cache_key);
}

int coap_cache_ignore_options(coap_context_t *ctx, const uint16_t *options,
                              size_t count) {
  if (!ctx || (count && !options))
    return 0;
  uint16_t *copy = NULL;
  if (count) {
    if (count > SIZE_MAX / sizeof(*copy) ||
        !(copy = malloc(count * sizeof(*copy)))) {
      coap_log_warn("coap_cache_ignore_options: out of memory\n");
      return 0; /* the previous list stays in force */
    }
    memcpy(copy, options, count * sizeof(*copy));
  }
  free(ctx->cache_ignore);
  ctx->cache_ignore = copy;
  ctx->cache_ignore_count = count;
  return 1;
}

/* ---- the entry tables ---------------------------------------------------- */

/* The key is already a uniform digest: its first bytes are the hash. */
static uint32_t key_hash(const coap_cache_key_t *k) {
  return (uint32_t)k->key[0] << 24 | (uint32_t)k->key[1] << 16 |
         (uint32_t)k->key[2] << 8 | k->key[3];
}

static int key_eq(const pt_hash_node *n, const void *ctx) {
  const coap_cache_entry_t *e = PT_CONTAINER_OF(n, coap_cache_entry_t, by_key);
  return memcmp(e->key.key, ((const coap_cache_key_t *)ctx)->key,
                PT_SHA256_LEN) == 0;
}

static uint32_t session_hash(const coap_session_t *s) {
  uintptr_t v = (uintptr_t)s;
  return pt_hash_mix(pt_hash_mix(0, (uint32_t)v), (uint32_t)(v >> 16 >> 16));
}

static int session_eq(const pt_hash_node *n, const void *ctx) {
  return PT_CONTAINER_OF(n, coap_cache_entry_t, by_session)->session == ctx;
}

static coap_tick_t idle_deadline(const coap_cache_entry_t *e) {
  return pt_now() + (coap_tick_t)e->idle_time * COAP_TICKS_PER_SECOND;
}

static void idle_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)now;
  coap_delete_cache_entry(ctx, PT_CONTAINER_OF(t, coap_cache_entry_t, idle));
}

/* A lookup counts as use: the idle timer starts again. */
static void touch(coap_cache_entry_t *e) {
  if (e->idle_time && pt_timer_arm(e->context, &e->idle, idle_deadline(e)) < 0)
    coap_log_warn("cache entry: cannot re-arm its idle timer\n");
}

/* ---- entries ---------------------------------------------------------------
 */

static coap_cache_entry_t *entry_new(coap_session_t *session,
                                     const coap_pdu_t *pdu,
                                     coap_cache_record_pdu_t record_pdu,
                                     coap_cache_session_based_t session_based,
                                     unsigned idle_time) {
  coap_cache_entry_t *e = calloc(1, sizeof(*e));
  if (!e)
    return NULL;
  coap_context_t *ctx = session->context;
  e->context = ctx;
  e->idle_time = idle_time;
  pt_timer_init(&e->idle, idle_fire);
  if (session_based == COAP_CACHE_IS_SESSION_BASED)
    e->session = session;
  if (!digest_pdu(session, pdu, session_based, ctx->cache_ignore,
                  ctx->cache_ignore_count, &e->key) ||
      (record_pdu == COAP_CACHE_RECORD_PDU && !(e->pdu = pt_pdu_clone(pdu)))) {
    free(e);
    return NULL;
  }
  return e;
}

coap_cache_entry_t *
coap_new_cache_entry(coap_session_t *session, const coap_pdu_t *pdu,
                     coap_cache_record_pdu_t record_pdu,
                     coap_cache_session_based_t session_based,
                     unsigned int idle_time) {
  if (!session || !session->context || !pdu)
    return NULL;
  coap_cache_entry_t *e =
      entry_new(session, pdu, record_pdu, session_based, idle_time);
  if (!e)
    return NULL;
  coap_context_t *ctx = e->context;
  if (pt_hashmap_insert(&ctx->cache, &e->by_key, key_hash(&e->key)) < 0 ||
      (e->session && pt_hashmap_insert(&ctx->cache_by_session, &e->by_session,
                                       session_hash(e->session)) < 0) ||
      (idle_time && pt_timer_arm(ctx, &e->idle, idle_deadline(e)) < 0)) {
    coap_delete_cache_entry(ctx, e); /* undoes whichever steps were done */
    return NULL;
  }
  return e;
}

void coap_delete_cache_entry(coap_context_t *ctx,
                             coap_cache_entry_t *cache_entry) {
  if (!cache_entry)
    return;
  coap_cache_entry_t *e = cache_entry;
  if (ctx && ctx != e->context)
    coap_log_warn("coap_delete_cache_entry: entry of another context\n");
  ctx = e->context; /* the entry's own tables, whatever was passed */
  pt_hashmap_remove(&ctx->cache, &e->by_key);
  pt_hashmap_remove(&ctx->cache_by_session, &e->by_session);
  pt_timer_cancel(ctx, &e->idle);
  coap_delete_pdu(e->pdu);
  if (e->app_free && e->app_data)
    e->app_free(e->app_data);
  free(e);
}

coap_cache_entry_t *coap_cache_get_by_key(coap_context_t *ctx,
                                          const coap_cache_key_t *cache_key) {
  if (!ctx || !cache_key)
    return NULL;
  pt_hash_node *n =
      pt_hashmap_find(&ctx->cache, key_hash(cache_key), key_eq, cache_key);
  if (!n)
    return NULL;
  coap_cache_entry_t *e = PT_CONTAINER_OF(n, coap_cache_entry_t, by_key);
  touch(e);
  return e;
}

coap_cache_entry_t *
coap_cache_get_by_pdu(coap_session_t *session, const coap_pdu_t *pdu,
                      coap_cache_session_based_t session_based) {
  if (!session || !session->context || !pdu)
    return NULL;
  coap_context_t *ctx = session->context;
  coap_cache_key_t key;
  if (!digest_pdu(session, pdu, session_based, ctx->cache_ignore,
                  ctx->cache_ignore_count, &key))
    return NULL;
  return coap_cache_get_by_key(ctx, &key);
}

const coap_pdu_t *coap_cache_get_pdu(const coap_cache_entry_t *cache_entry) {
  return cache_entry ? cache_entry->pdu : NULL;
}

void coap_cache_set_app_data(coap_cache_entry_t *cache_entry, void *data,
                             coap_cache_app_data_free_callback_t callback) {
  if (!cache_entry)
    return;
  cache_entry->app_data = data;
  cache_entry->app_free = callback;
}

void *coap_cache_get_app_data(const coap_cache_entry_t *cache_entry) {
  return cache_entry ? cache_entry->app_data : NULL;
}

/* ---- teardown
 * ---------------------------------------------------------------- */

void pt_cache_session_closed(coap_session_t *session) {
  if (!session || !session->context)
    return;
  coap_context_t *ctx = session->context;
  uint32_t h = session_hash(session);
  pt_hash_node *n;
  /* Each find stops at the first match, so this is O(entries of the
   * session) plus the few other nodes sharing the bucket. */
  while ((n = pt_hashmap_find(&ctx->cache_by_session, h, session_eq,
                              session)) != NULL)
    coap_delete_cache_entry(ctx,
                            PT_CONTAINER_OF(n, coap_cache_entry_t, by_session));
}

void pt_cache_free_all(coap_context_t *ctx) {
  pt_hashmap_iter it;
  pt_hash_node *n;
  pt_hashmap_iter_init(&it, &ctx->cache);
  while ((n = pt_hashmap_iter_next(&it)) != NULL) /* teardown only */
    coap_delete_cache_entry(ctx,
                            PT_CONTAINER_OF(n, coap_cache_entry_t, by_key));
  pt_hashmap_free(&ctx->cache);
  pt_hashmap_free(&ctx->cache_by_session);
  free(ctx->cache_ignore);
  ctx->cache_ignore = NULL;
  ctx->cache_ignore_count = 0;
}
