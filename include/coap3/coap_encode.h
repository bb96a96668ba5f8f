/*
 * coap_encode.h -- CoAP variable-length unsigned integers.
 *
 * RFC 7252 section 3.2 defines the "uint" option format: a non-negative
 * integer in network byte order using as few bytes as possible, so 0 takes
 * zero bytes, 1..255 one byte, 256..65535 two, and so on.
 */
#ifndef COAP_ENCODE_H_
#define COAP_ENCODE_H_

#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "coap3/libcoap.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Position of the most significant set bit of @p i, counting from 1 for the
 * least significant bit; 0 when @p i is 0 (the BSD fls()).
 */
COAP_API int coap_fls(unsigned int i);

/** As coap_fls() for a 64-bit value (the BSD flsll()). */
COAP_API int coap_flsll(long long i);

/**
 * Decodes the big-endian unsigned integer in the @p length bytes at @p buf
 * (borrowed). Only the low 32 bits of the result are kept, so more than four
 * bytes wrap. @p length 0 gives 0.
 */
COAP_API unsigned int coap_decode_var_bytes(const uint8_t *buf, size_t length);

/**
 * Decodes the big-endian unsigned integer in the @p length bytes at @p buf
 * (borrowed), keeping the low 64 bits. @p length 0 gives 0.
 */
COAP_API uint64_t coap_decode_var_bytes8(const uint8_t *buf, size_t length);

/**
 * Writes @p value into @p buf (of @p length bytes) as a CoAP uint: big
 * endian, without leading zero bytes. Returns the number of bytes written,
 * which is 0 both for @p value 0 (no bytes needed) and on error (@p buf too
 * small for the value).
 */
COAP_API unsigned int coap_encode_var_safe(uint8_t *buf, size_t length,
                                           unsigned int value);

/** As coap_encode_var_safe() for a 64-bit @p value (up to 8 bytes). */
COAP_API unsigned int coap_encode_var_safe8(uint8_t *buf, size_t length,
                                            uint64_t value);

/**
 * @deprecated Use coap_encode_var_safe(): this form assumes @p buf holds at
 * least sizeof(unsigned int) bytes.
 */
COAP_STATIC_INLINE COAP_DEPRECATED int
coap_encode_var_bytes(uint8_t *buf, unsigned int value) {
  return (int)coap_encode_var_safe(buf, sizeof(value), value);
}

#ifdef __cplusplus
}
#endif

#endif /* COAP_ENCODE_H_ */
