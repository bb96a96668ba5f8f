/*
 * encode.c -- CoAP uint values (RFC 7252 section 3.2).
 */
#include "coap3/coap_encode.h"

int coap_fls(unsigned int i) {
  return i ? (int)(sizeof(i) * 8) - __builtin_clz(i) : 0;
}

int coap_flsll(long long i) {
  unsigned long long u = (unsigned long long)i;
  return u ? (int)(sizeof(u) * 8) - __builtin_clzll(u) : 0;
}

unsigned int coap_decode_var_bytes(const uint8_t *buf, size_t length) {
  return (unsigned int)coap_decode_var_bytes8(buf, length);
}

uint64_t coap_decode_var_bytes8(const uint8_t *buf, size_t length) {
  uint64_t v = 0;
  for (size_t i = 0; i < length; i++)
    v = (v << 8) | buf[i];
  return v;
}

unsigned int coap_encode_var_safe8(uint8_t *buf, size_t length,
                                   uint64_t value) {
  unsigned int n = 0;
  for (uint64_t v = value; v; v >>= 8)
    n++;
  if (n > length)
    return 0;
  for (unsigned int i = n; i > 0; i--, value >>= 8)
    buf[i - 1] = (uint8_t)value;
  return n;
}

unsigned int coap_encode_var_safe(uint8_t *buf, size_t length,
                                  unsigned int value) {
  return coap_encode_var_safe8(buf, length, value);
}
