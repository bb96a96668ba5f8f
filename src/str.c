/*
 * str.c -- counted strings and binary blobs (coap_str.h).
 *
 * Each object is one allocation: the header struct followed by its bytes,
 * so one free() releases it. A NUL is kept after string bytes so that text
 * can be printed with %s by careful callers.
 */
#include <stdlib.h>
#include <string.h>

#include "coap3/coap_str.h"

/* One block: header then size + 1 bytes (the extra byte holds a NUL). */
static void *alloc_with_bytes(size_t header, size_t size, uint8_t **bytes) {
  if (size > SIZE_MAX - header - 1)
    return NULL;
  uint8_t *block = calloc(1, header + size + 1);
  if (!block)
    return NULL;
  *bytes = block + header;
  return block;
}

coap_string_t *coap_new_string(size_t size) {
  uint8_t *bytes;
  coap_string_t *s = alloc_with_bytes(sizeof(*s), size, &bytes);
  if (s)
    s->s = bytes;
  return s;
}

void coap_delete_string(coap_string_t *string) {
  free(string);
}

coap_str_const_t *coap_new_str_const(const uint8_t *data, size_t size) {
  uint8_t *bytes;
  if (!data && size)
    return NULL;
  coap_str_const_t *s = alloc_with_bytes(sizeof(*s), size, &bytes);
  if (!s)
    return NULL;
  if (size)
    memcpy(bytes, data, size);
  s->s = bytes;
  s->length = size;
  return s;
}

void coap_delete_str_const(coap_str_const_t *string) {
  free(string);
}

coap_binary_t *coap_new_binary(size_t size) {
  coap_binary_t *b = (coap_binary_t *)coap_new_string(size);
  if (b)
    b->length = size;
  return b;
}

void coap_delete_binary(coap_binary_t *binary) {
  free(binary);
}

/* The block moves as a whole, so the returned pointer replaces @binary. */
coap_binary_t *coap_resize_binary(coap_binary_t *binary, size_t new_size) {
  if (!binary)
    return coap_new_binary(new_size);
  if (new_size > SIZE_MAX - sizeof(*binary) - 1)
    return NULL;
  size_t old = binary->length;
  coap_binary_t *b = realloc(binary, sizeof(*b) + new_size + 1);
  if (!b)
    return NULL;
  b->s = (uint8_t *)(b + 1);
  if (new_size > old)
    memset(b->s + old, 0, new_size - old + 1);
  b->s[new_size] = 0;
  b->length = new_size;
  return b;
}

coap_bin_const_t *coap_new_bin_const(const uint8_t *data, size_t size) {
  /* Same layout as coap_str_const_t: reuse it. */
  return (coap_bin_const_t *)coap_new_str_const(data, size);
}

void coap_delete_bin_const(coap_bin_const_t *binary) {
  free(binary);
}

coap_str_const_t *coap_make_str_const(const char *string) {
  static COAP_THREAD_LOCAL_VAR coap_str_const_t ring[COAP_MAX_STR_CONST_FUNC];
  static COAP_THREAD_LOCAL_VAR unsigned next;
  coap_str_const_t *slot = &ring[next++ % COAP_MAX_STR_CONST_FUNC];
  slot->s = (const uint8_t *)string;
  slot->length = string ? strlen(string) : 0;
  return slot;
}
