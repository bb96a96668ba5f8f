/*
 * address.h -- internal helpers for coap_address_t.
 */
#ifndef PETREL_ADDRESS_H
#define PETREL_ADDRESS_H

#include <stdint.h>
#include <string.h>

#include "coap3/coap_address.h"

/*
 * coap_address_equals() with the IPv4 and IPv6 cases inline, for the
 * per-datagram lookups (the session of a peer, the run of datagrams that
 * can leave as one): the same answer for every pair of addresses, without
 * a call. Other families go to coap_address_equals().
 */
static inline int pt_address_same(const coap_address_t *a,
                                  const coap_address_t *b) {
  sa_family_t f = a->addr.sa.sa_family;
  if (f != b->addr.sa.sa_family)
    return 0;
  if (f == AF_INET)
    return a->addr.sin.sin_port == b->addr.sin.sin_port &&
           a->addr.sin.sin_addr.s_addr == b->addr.sin.sin_addr.s_addr;
  if (f == AF_INET6) {
    uint64_t x[2], y[2];
    memcpy(x, &a->addr.sin6.sin6_addr, sizeof(x));
    memcpy(y, &b->addr.sin6.sin6_addr, sizeof(y));
    return a->addr.sin6.sin6_port == b->addr.sin6.sin6_port &&
           a->addr.sin6.sin6_scope_id == b->addr.sin6.sin6_scope_id &&
           ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
  }
  return coap_address_equals(a, b);
}

/*
 * A 32-bit hash of @addr (borrowed) for hash tables, consistent with
 * coap_address_equals(): equal addresses hash alike. Mixes family, port,
 * IP address and IPv6 scope id (or the AF_UNIX path) with a 64-bit
 * multiply-xorshift, so nearby addresses and ports spread across buckets.
 */
uint32_t pt_address_hash(const coap_address_t *addr);

/*
 * 1 if this build carries @proto (the table behind coap_resolve_address_info
 * and coap_get_available_scheme_hint_bits): UDP, TCP and WS in every
 * build; DTLS, TLS and WSS where the (D)TLS backend is built.
 */
int pt_address_proto_supported(coap_proto_t proto);

#endif /* PETREL_ADDRESS_H */
