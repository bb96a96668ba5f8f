/*
 * coap_mem.h -- typed allocation (libcoap 4.3.4 API).
 *
 * libcoap tags every allocation with what it holds so that constrained
 * ports can use fixed pools. Petrel runs on POSIX and maps all of these to
 * the C heap; the tag is accepted for compatibility and otherwise unused.
 */
#ifndef COAP_MEM_H_
#define COAP_MEM_H_

#include <stdlib.h>

#include "coap3/libcoap.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What an allocation holds (the same names and order as libcoap). */
typedef enum {
  COAP_STRING,
  COAP_ATTRIBUTE_NAME,
  COAP_ATTRIBUTE_VALUE,
  COAP_PACKET,
  COAP_NODE,
  COAP_CONTEXT,
  COAP_ENDPOINT,
  COAP_PDU,
  COAP_PDU_BUF,
  COAP_RESOURCE,
  COAP_RESOURCEATTR,
  COAP_DTLS_SESSION,
  COAP_SESSION,
  COAP_OPTLIST,
  COAP_CACHE_KEY,
  COAP_CACHE_ENTRY,
  COAP_LG_XMIT,
  COAP_LG_CRCV,
  COAP_LG_SRCV,
  COAP_DIGEST_CTX,
  COAP_SUBSCRIPTION,
  COAP_DTLS_CONTEXT,
  COAP_OSCORE_COM,
  COAP_OSCORE_SEN,
  COAP_OSCORE_REC,
  COAP_OSCORE_EX,
  COAP_OSCORE_EP,
  COAP_OSCORE_BUF,
  COAP_COSE,
  COAP_MEM_TAG_LAST
} coap_memory_tag_t;

/** Prepares the allocator. Nothing to do on POSIX; harmless to call. */
COAP_API void coap_memory_init(void);

/**
 * Allocates @p size bytes for an object of kind @p type. The caller owns
 * the block and releases it with coap_free_type() (same @p type).
 *
 * @return The block, or NULL if memory is exhausted.
 */
COAP_API void *coap_malloc_type(coap_memory_tag_t type, size_t size);

/**
 * Resizes block @p p (from coap_malloc_type() or coap_realloc_type(), or
 * NULL) to @p size bytes, keeping its contents up to the smaller size.
 * Ownership of @p p passes to this call on success; on failure (NULL
 * returned) @p p is untouched and the caller must still free it.
 * libcoap documents this for COAP_STRING only; Petrel accepts any tag.
 */
COAP_API void *coap_realloc_type(coap_memory_tag_t type, void *p, size_t size);

/**
 * Releases block @p p (ownership transferred; NULL is ignored). @p type
 * should be the tag it was allocated with.
 */
COAP_API void coap_free_type(coap_memory_tag_t type, void *p);

/** coap_malloc_type(COAP_STRING, size), kept for older applications. */
COAP_STATIC_INLINE void *coap_malloc(size_t size) {
  return coap_malloc_type(COAP_STRING, size);
}

/** coap_free_type(COAP_STRING, object), kept for older applications. */
COAP_STATIC_INLINE void coap_free(void *object) {
  coap_free_type(COAP_STRING, object);
}

#ifdef __cplusplus
}
#endif

#endif /* COAP_MEM_H_ */
