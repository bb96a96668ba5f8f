/*
 * address.h -- internal helpers for coap_address_t.
 */
#ifndef PETREL_ADDRESS_H
#define PETREL_ADDRESS_H

#include <stdint.h>

#include "coap3/coap_address.h"

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
