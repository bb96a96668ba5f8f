/*
 * coap_str.h -- counted strings and binary blobs.
 *
 * Four shapes share one layout (a length and a pointer): coap_string_t and
 * coap_binary_t own writable bytes, coap_str_const_t and coap_bin_const_t
 * point at read-only bytes. The "string" forms hold text, the "binary" forms
 * hold opaque data; nothing else distinguishes them.
 */
#ifndef COAP_STR_H_
#define COAP_STR_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coap3/libcoap.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A counted, writable text string. */
typedef struct coap_string_t {
  size_t length; /**< bytes in s, not counting any terminating NUL */
  uint8_t *s;    /**< the bytes */
} coap_string_t;

/** A counted, read-only text string. */
typedef struct coap_str_const_t {
  size_t length; /**< bytes in s */
  const uint8_t *s; /**< the bytes (not owned unless made by coap_new_str_const) */
} coap_str_const_t;

/** Sets a string-like object's length and pointer in one statement. */
#define COAP_SET_STR(st, l, v) { (st)->length = (l), (st)->s = (v); }

/** A counted, writable byte blob. */
typedef struct coap_binary_t {
  size_t length; /**< bytes in s */
  uint8_t *s;    /**< the bytes */
} coap_binary_t;

/** A counted, read-only byte blob (tokens, ETags, ...). */
typedef struct coap_bin_const_t {
  size_t length;    /**< bytes in s */
  const uint8_t *s; /**< the bytes */
} coap_bin_const_t;

/** Any of the four forms, for code that converts between them. */
typedef union {
  coap_string_t st;
  coap_str_const_t sc;
  coap_binary_t bt;
  coap_bin_const_t bc;
} coap_str_bin_union_t;

/** A byte pointer seen as signed or unsigned chars. */
typedef union {
  const char *s_byte;
  const uint8_t *u_byte;
} coap_const_char_ptr_t;

/**
 * Allocates a string with room for @p size bytes plus a terminating NUL; the
 * bytes are zeroed and length is 0... the caller fills in both.
 * Returns NULL when out of memory. Release with coap_delete_string().
 */
COAP_API coap_string_t *coap_new_string(size_t size);

/** Frees a string from coap_new_string(). NULL is ignored. */
COAP_API void coap_delete_string(coap_string_t *string);

/**
 * Allocates a read-only string holding a copy of @p size bytes at @p data
 * (NUL-terminated after them). @p data is borrowed; it may be NULL only when
 * @p size is 0. Returns NULL when out of memory. Release with
 * coap_delete_str_const().
 */
COAP_API coap_str_const_t *coap_new_str_const(const uint8_t *data, size_t size);

/** Frees a string from coap_new_str_const(). NULL is ignored. */
COAP_API void coap_delete_str_const(coap_str_const_t *string);

/**
 * Allocates a binary object with room for @p size bytes (zeroed) and length
 * set to @p size, in one block. Returns NULL when out of memory. Release with
 * coap_delete_binary().
 */
COAP_API coap_binary_t *coap_new_binary(size_t size);

/** Frees a binary object from coap_new_binary(). NULL is ignored. */
COAP_API void coap_delete_binary(coap_binary_t *binary);

/**
 * Resizes @p binary to @p new_size bytes (length becomes @p new_size),
 * keeping the leading bytes; new bytes are zeroed. The object may move: use
 * the returned pointer instead of @p binary. @p binary may be NULL (then it
 * acts as coap_new_binary). On failure returns NULL, and @p binary is
 * unchanged and still owned by the caller.
 */
COAP_API coap_binary_t *coap_resize_binary(coap_binary_t *binary,
                                           size_t new_size);

/**
 * Allocates a read-only binary object holding a copy of @p size bytes at
 * @p data (borrowed). Returns NULL when out of memory. Release with
 * coap_delete_bin_const().
 */
COAP_API coap_bin_const_t *coap_new_bin_const(const uint8_t *data,
                                              size_t size);

/** Frees an object from coap_new_bin_const(). NULL is ignored. */
COAP_API void coap_delete_bin_const(coap_bin_const_t *binary);

#ifndef COAP_MAX_STR_CONST_FUNC
/** How many results of coap_make_str_const() stay valid at once. */
#define COAP_MAX_STR_CONST_FUNC 2
#endif

/**
 * Wraps the NUL-terminated @p string (borrowed, not copied) in a
 * coap_str_const_t held in a small per-thread ring of
 * COAP_MAX_STR_CONST_FUNC slots, so two calls may appear in one expression
 * (as in coap_add_attr(r, coap_make_str_const("rt"),
 * coap_make_str_const("x"), 0)). The result is valid until that many further
 * calls on the same thread; copy it to keep it.
 */
COAP_API coap_str_const_t *coap_make_str_const(const char *string);

/** 1 if the two string-like objects hold the same bytes, else 0. */
#define coap_string_equal(string1, string2)                                   \
  ((string1)->length == (string2)->length &&                                  \
   ((string1)->length == 0 ||                                                 \
    ((string1)->s && (string2)->s &&                                          \
     memcmp((string1)->s, (string2)->s, (string1)->length) == 0)))

/** 1 if the two binary objects hold the same bytes, else 0. */
#define coap_binary_equal(binary1, binary2) coap_string_equal(binary1, binary2)

#ifdef __cplusplus
}
#endif

#endif /* COAP_STR_H_ */
