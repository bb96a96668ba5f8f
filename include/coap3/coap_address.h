/*
 * coap_address.h -- network addresses (libcoap 4.3.4 API).
 *
 * A coap_address_t holds an IPv4, IPv6 or Unix-domain socket address in a
 * union sized for the largest of them, plus the length in use (`size`), so
 * it can be handed to the socket calls as is.
 */
#ifndef COAP_ADDRESS_H_
#define COAP_ADDRESS_H_

#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "coap3/libcoap.h"

#include "coap3/coap_pdu.h"
#include "coap3/coap_str.h"
#include "coap3/coap_uri.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct coap_address_t coap_address_t;

/** Longest Unix-domain path, NUL included, that fits in a coap_address_t. */
#define COAP_UNIX_PATH_MAX (sizeof(struct sockaddr_in6) - sizeof(sa_family_t))

/**
 * A short Unix-domain socket address: the path is limited to
 * COAP_UNIX_PATH_MAX bytes (NUL included) so the union stays IPv6-sized.
 */
struct coap_sockaddr_un {
  sa_family_t sun_family; /**< AF_UNIX */
  char sun_path[COAP_UNIX_PATH_MAX];
};

/** A socket address of any family the library handles. */
struct coap_address_t {
  socklen_t size; /**< bytes of addr in use */
  union {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct coap_sockaddr_un cun; /**< AF_UNIX, shortened */
  } addr;
};

/**
 * Resets @p addr (borrowed, must not be NULL): zeroes it, family AF_UNSPEC,
 * and sets size to the room available (sizeof(addr->addr)), ready to be
 * filled by recvfrom() or getsockname().
 */
COAP_API void coap_address_init(coap_address_t *addr);

/**
 * Copies @p src into @p dst (both borrowed, not NULL), leaving no stale
 * bytes of an earlier address in @p dst.
 */
COAP_API void coap_address_copy(coap_address_t *dst, const coap_address_t *src);

/**
 * Returns 1 if @p a and @p b (borrowed, not NULL) are the same endpoint:
 * same family, same port and same IP address (for IPv6 also the same scope
 * id), or the same path for AF_UNIX; otherwise 0. An IPv4 address and its
 * IPv4-mapped IPv6 form are different endpoints, as in libcoap.
 */
COAP_API int coap_address_equals(const coap_address_t *a,
                                 const coap_address_t *b);

/** Returns the port of @p addr in host byte order (0 for AF_UNIX). */
COAP_API uint16_t coap_address_get_port(const coap_address_t *addr);

/** Sets the port of an IPv4 or IPv6 @p addr; @p port in host byte order. */
COAP_API void coap_address_set_port(coap_address_t *addr, uint16_t port);

/**
 * Returns 1 if @p a (not NULL) is the wildcard address (0.0.0.0 or ::) of
 * its family, else 0. The port is not looked at.
 */
COAP_STATIC_INLINE int coap_address_isany(const coap_address_t *a) {
  assert(a);
  if (a->addr.sa.sa_family == AF_INET)
    return a->addr.sin.sin_addr.s_addr == htonl(INADDR_ANY);
  if (a->addr.sa.sa_family == AF_INET6)
    return memcmp(&a->addr.sin6.sin6_addr, &in6addr_any, sizeof(in6addr_any)) ==
           0;
  return 0;
}

/**
 * Returns 1 if @p a is a multicast address: IPv4 224.0.0.0/4, IPv6
 * ff00::/8, or an IPv4-mapped IPv6 form of an IPv4 multicast address.
 * NULL gives 0.
 */
COAP_API int coap_is_mcast(const coap_address_t *a);

/**
 * Returns 1 if @p a is an IPv4 broadcast address: the limited broadcast
 * 255.255.255.255 or the directed broadcast of a local interface (taken
 * from getifaddrs(), refreshed at most every 30 s), also in IPv4-mapped
 * IPv6 form. NULL gives 0.
 */
COAP_API int coap_is_bcast(const coap_address_t *a);

/** Returns 1 if @p a is an AF_UNIX address, else 0 (NULL gives 0). */
COAP_API int coap_is_af_unix(const coap_address_t *a);

/**
 * Sets @p addr to the Unix-domain path @p host (borrowed, @p host_len
 * bytes, not NUL-terminated), decoding each "%2F" (any case) to '/' as a
 * URI host carries it.
 *
 * @return 1 on success, 0 if the decoded path (plus its NUL) does not fit
 *         in COAP_UNIX_PATH_MAX or contains a NUL byte.
 */
COAP_API int coap_address_set_unix_domain(coap_address_t *addr,
                                          const uint8_t *host, size_t host_len);

/* ---- resolving host names (needs coap_uri.h's coap_uri_scheme_t) ------- */

/** One resolved address, for one scheme, in a singly linked list. */
typedef struct coap_addr_info_t {
  struct coap_addr_info_t *next; /**< next entry, or NULL */
  coap_uri_scheme_t scheme;      /**< the CoAP scheme to use */
  coap_proto_t proto;            /**< the protocol for that scheme */
  coap_address_t addr;           /**< where to bind() or connect() */
} coap_addr_info_t;

/** Which end of a session an address is resolved for. */
typedef enum coap_resolve_type_t {
  COAP_RESOLVE_TYPE_LOCAL,  /**< local side: for bind(), wildcard allowed */
  COAP_RESOLVE_TYPE_REMOTE, /**< remote side: for connect() */
} coap_resolve_type_t;

/**
 * Returns the COAP_URI_SCHEME_*_BIT mask of the schemes this library can
 * serve, for coap_resolve_address_info().
 *
 * @param have_pki_psk 1 if PSK or PKI material is set up (secure schemes
 *                     are only offered then, and only with (D)TLS support).
 * @param ws_check 1 to include WebSockets schemes if supported.
 * @param use_unix_proto For an AF_UNIX endpoint, the protocol it will
 *                       carry: the result is that protocol's scheme bit
 *                       alone (0 if unsupported). COAP_PROTO_NONE for IP.
 */
COAP_API uint32_t coap_get_available_scheme_hint_bits(
    int have_pki_psk, int ws_check, coap_proto_t use_unix_proto);

/**
 * Resolves @p address (borrowed; a host name, numeric IPv4 or IPv6 text, a
 * Unix-domain path starting with '/' or "%2F", or NULL / empty for the
 * wildcard address when @p type is LOCAL and for the loopback when it is
 * REMOTE) into one entry per address and per scheme in
 * @p scheme_hint_bits that this library supports.
 *
 * Each port argument is used for its schemes (coap and coap+tcp: @p port;
 * coaps and coaps+tcp: @p secure_port; coap+ws: @p ws_port; coaps+ws:
 * @p ws_secure_port); 0 selects the scheme's default port (5683, 5684, 80,
 * 443). @p ai_hints_flags are AI_* flags passed to getaddrinfo(). Duplicate
 * entries are dropped; the order is that of getaddrinfo(), schemes in
 * numeric order within an address.
 *
 * @return A list the caller owns and frees with coap_free_address_info(),
 *         or NULL if nothing resolved (unknown host, no supported scheme,
 *         path too long, out of memory).
 */
COAP_API coap_addr_info_t *
coap_resolve_address_info(const coap_str_const_t *address, uint16_t port,
                          uint16_t secure_port, uint16_t ws_port,
                          uint16_t ws_secure_port, int ai_hints_flags,
                          int scheme_hint_bits, coap_resolve_type_t type);

/** Frees a list from coap_resolve_address_info() (transferred; NULL ok). */
COAP_API void coap_free_address_info(coap_addr_info_t *info_list);

#ifdef __cplusplus
}
#endif

#endif /* COAP_ADDRESS_H_ */
