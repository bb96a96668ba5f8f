/*
 * mem.c -- typed allocation on the C heap.
 *
 * The tags exist for libcoap's pool-based ports; on POSIX the heap is the
 * right allocator for every kind, so the tag is ignored.
 */
#include <stdlib.h>

#include "coap3/coap_mem.h"

void coap_memory_init(void) {}

void *coap_malloc_type(coap_memory_tag_t type, size_t size) {
  (void)type;
  return malloc(size ? size : 1); /* never NULL for success, even for 0 */
}

void *coap_realloc_type(coap_memory_tag_t type, void *p, size_t size) {
  (void)type;
  return realloc(p, size ? size : 1); /* 0 must not free p behind our back */
}

void coap_free_type(coap_memory_tag_t type, void *p) {
  (void)type;
  free(p);
}
