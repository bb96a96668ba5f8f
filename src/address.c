/*
 * address.c -- coap_address_t: comparison, ports, classification, hashing
 * and name resolution.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "coap3/coap_io.h"
#include "coap3/coap_ws.h"
#include "address.h"

#include "coap3/coap_dtls.h"
#include "clock.h"
#include "coap3/coap_mem.h"

/* ---- basics ------------------------------------------------------------ */

void coap_address_init(coap_address_t *addr) {
  memset(addr, 0, sizeof(*addr));
  addr->addr.sa.sa_family = AF_UNSPEC;
  addr->size = (socklen_t)sizeof(addr->addr);
}

void coap_address_copy(coap_address_t *dst, const coap_address_t *src) {
  size_t n = src->size < sizeof(src->addr) ? src->size : sizeof(src->addr);
  memset(dst, 0, sizeof(*dst));
  dst->size = src->size;
  memcpy(&dst->addr, &src->addr, n);
}

/*
 * The AF_UNIX path as a bounded string: sun_path need not hold a NUL when
 * the path fills it.
 */
static size_t unix_path_len(const coap_address_t *a) {
  const char *p = a->addr.cun.sun_path;
  const char *nul = memchr(p, '\0', COAP_UNIX_PATH_MAX);
  return nul ? (size_t)(nul - p) : COAP_UNIX_PATH_MAX;
}

/*
 * `size` is deliberately not compared: an address built by hand (size =
 * the whole union) and the same address from recvfrom() (size = that of
 * the family's sockaddr) must be equal.
 */
int coap_address_equals(const coap_address_t *a, const coap_address_t *b) {
  if (a->addr.sa.sa_family != b->addr.sa.sa_family)
    return 0;
  switch (a->addr.sa.sa_family) {
  case AF_INET:
    return a->addr.sin.sin_port == b->addr.sin.sin_port &&
           a->addr.sin.sin_addr.s_addr == b->addr.sin.sin_addr.s_addr;
  case AF_INET6:
    return a->addr.sin6.sin6_port == b->addr.sin6.sin6_port &&
           a->addr.sin6.sin6_scope_id == b->addr.sin6.sin6_scope_id &&
           memcmp(&a->addr.sin6.sin6_addr, &b->addr.sin6.sin6_addr,
                  sizeof(struct in6_addr)) == 0;
  case AF_UNIX: {
    size_t la = unix_path_len(a);
    return la == unix_path_len(b) &&
           memcmp(a->addr.cun.sun_path, b->addr.cun.sun_path, la) == 0;
  }
  default:
    return 0;
  }
}

uint16_t coap_address_get_port(const coap_address_t *addr) {
  if (addr->addr.sa.sa_family == AF_INET)
    return ntohs(addr->addr.sin.sin_port);
  if (addr->addr.sa.sa_family == AF_INET6)
    return ntohs(addr->addr.sin6.sin6_port);
  return 0;
}

void coap_address_set_port(coap_address_t *addr, uint16_t port) {
  if (addr->addr.sa.sa_family == AF_INET)
    addr->addr.sin.sin_port = htons(port);
  else if (addr->addr.sa.sa_family == AF_INET6)
    addr->addr.sin6.sin6_port = htons(port);
}

int coap_is_af_unix(const coap_address_t *a) {
  return a && a->addr.sa.sa_family == AF_UNIX;
}

int coap_address_set_unix_domain(coap_address_t *addr, const uint8_t *host,
                                 size_t host_len) {
  char path[COAP_UNIX_PATH_MAX];
  size_t out = 0;
  if (!addr || (!host && host_len))
    return 0;
  for (size_t i = 0; i < host_len; i++) {
    char c = (char)host[i];
    if (c == '%' && host_len - i >= 3 && host[i + 1] == '2' &&
        (host[i + 2] == 'F' || host[i + 2] == 'f')) {
      c = '/';
      i += 2;
    }
    if (c == '\0' || out + 1 >= sizeof(path)) /* keep room for the NUL */
      return 0;
    path[out++] = c;
  }
  coap_address_init(addr);
  addr->addr.cun.sun_family = AF_UNIX;
  memcpy(addr->addr.cun.sun_path, path, out);
  addr->addr.cun.sun_path[out] = '\0';
  addr->size = (socklen_t)sizeof(addr->addr.cun);
  return 1;
}

/* ---- multicast and broadcast ---------------------------------------- */

/* The IPv4 address inside ::ffff:a.b.c.d, if @a is one; else 0. */
static int mapped_v4(const coap_address_t *a, struct in_addr *v4) {
  if (a->addr.sa.sa_family != AF_INET6 ||
      !IN6_IS_ADDR_V4MAPPED(&a->addr.sin6.sin6_addr))
    return 0;
  memcpy(&v4->s_addr, &a->addr.sin6.sin6_addr.s6_addr[12], 4);
  return 1;
}

/* @a's IPv4 address, directly or IPv4-mapped; 0 if it has none. */
static int ipv4_of(const coap_address_t *a, struct in_addr *v4) {
  if (a->addr.sa.sa_family == AF_INET) {
    *v4 = a->addr.sin.sin_addr;
    return 1;
  }
  return mapped_v4(a, v4);
}

int coap_is_mcast(const coap_address_t *a) {
  struct in_addr v4;
  if (!a)
    return 0;
  if (ipv4_of(a, &v4))
    return IN_MULTICAST(ntohl(v4.s_addr));
  if (a->addr.sa.sa_family == AF_INET6)
    return IN6_IS_ADDR_MULTICAST(&a->addr.sin6.sin6_addr);
  return 0;
}

/*
 * Directed-broadcast addresses of the local interfaces. Asking the kernel
 * on every send would cost a netlink round trip, so the list is cached and
 * refreshed when older than BCAST_REFRESH_TICKS; the lookup is O(n) in the
 * (tiny) number of interfaces.
 */
#define BCAST_MAX 32
#define BCAST_REFRESH_TICKS (30 * COAP_TICKS_PER_SECOND)

static struct {
  pthread_mutex_t lock;
  int valid;
  coap_tick_t fetched;
  size_t count;
  struct in_addr addrs[BCAST_MAX];
} bcast = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void bcast_refresh(coap_tick_t now) {
  struct ifaddrs *list = NULL;
  bcast.count = 0;
  bcast.valid = 1;
  bcast.fetched = now;
  if (getifaddrs(&list) != 0)
    return;
  for (struct ifaddrs *ifa = list; ifa && bcast.count < BCAST_MAX;
       ifa = ifa->ifa_next) {
    if (!(ifa->ifa_flags & IFF_BROADCAST) || !ifa->ifa_broadaddr ||
        ifa->ifa_broadaddr->sa_family != AF_INET)
      continue;
    const struct sockaddr_in *b = (const void *)ifa->ifa_broadaddr;
    const struct sockaddr_in *a = (const void *)ifa->ifa_addr;
    /* An address added without a broadcast address comes back from
     * getifaddrs() with itself in that field: not a broadcast address. */
    if (a && a->sin_family == AF_INET &&
        a->sin_addr.s_addr == b->sin_addr.s_addr)
      continue;
    bcast.addrs[bcast.count++] = b->sin_addr;
  }
  freeifaddrs(list);
}

static int is_interface_bcast(struct in_addr v4) {
  int found = 0;
  coap_tick_t now = pt_clock_now();
  pthread_mutex_lock(&bcast.lock);
  if (!bcast.valid || now - bcast.fetched >= BCAST_REFRESH_TICKS)
    bcast_refresh(now);
  for (size_t i = 0; i < bcast.count && !found; i++)
    found = bcast.addrs[i].s_addr == v4.s_addr;
  pthread_mutex_unlock(&bcast.lock);
  return found;
}

int coap_is_bcast(const coap_address_t *a) {
  struct in_addr v4;
  if (!a || !ipv4_of(a, &v4))
    return 0;
  if (v4.s_addr == htonl(INADDR_BROADCAST))
    return 1;
  return is_interface_bcast(v4);
}

/* ---- hashing ---------------------------------------------------------- */

static uint64_t mix_in(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdu;
  return h ^ (h >> 33);
}

static uint64_t mix_bytes(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, b, 8);
    h = mix_in(h, w);
    b += 8;
    n -= 8;
  }
  uint64_t tail = n; /* length tag keeps "ab" and "ab\0" apart */
  for (size_t i = 0; i < n; i++)
    tail = (tail << 8) | b[i];
  return mix_in(h, tail);
}

uint32_t pt_address_hash(const coap_address_t *addr) {
  uint64_t h = mix_in(0, (uint64_t)addr->addr.sa.sa_family);
  switch (addr->addr.sa.sa_family) {
  case AF_INET:
    h = mix_in(h, ((uint64_t)addr->addr.sin.sin_port << 32) |
                      addr->addr.sin.sin_addr.s_addr);
    break;
  case AF_INET6:
    h = mix_in(h, ((uint64_t)addr->addr.sin6.sin6_port << 32) |
                      addr->addr.sin6.sin6_scope_id);
    h = mix_bytes(h, &addr->addr.sin6.sin6_addr, sizeof(struct in6_addr));
    break;
  case AF_UNIX:
    h = mix_bytes(h, addr->addr.cun.sun_path, unix_path_len(addr));
    break;
  default:
    break;
  }
  h ^= h >> 29;
  h *= 0xc4ceb9fe1a85ec53u;
  return (uint32_t)(h ^ (h >> 32));
}

/* ---- schemes ------------------------------------------------------------ */

int pt_address_proto_supported(coap_proto_t proto) {
  return proto == COAP_PROTO_UDP ||
         (proto == COAP_PROTO_TCP && coap_tcp_is_supported()) ||
         (proto == COAP_PROTO_WS && coap_ws_is_supported()) ||
         (proto == COAP_PROTO_DTLS && coap_dtls_is_supported()) ||
         (proto == COAP_PROTO_TLS && coap_tls_is_supported()) ||
         (proto == COAP_PROTO_WSS && coap_wss_is_supported());
}

static coap_proto_t scheme_proto(coap_uri_scheme_t scheme) {
  static const coap_proto_t protos[COAP_URI_SCHEME_LAST] = {
      [COAP_URI_SCHEME_COAP] = COAP_PROTO_UDP,
      [COAP_URI_SCHEME_COAPS] = COAP_PROTO_DTLS,
      [COAP_URI_SCHEME_COAP_TCP] = COAP_PROTO_TCP,
      [COAP_URI_SCHEME_COAPS_TCP] = COAP_PROTO_TLS,
      [COAP_URI_SCHEME_HTTP] = COAP_PROTO_NONE,
      [COAP_URI_SCHEME_HTTPS] = COAP_PROTO_NONE,
      [COAP_URI_SCHEME_COAP_WS] = COAP_PROTO_WS,
      [COAP_URI_SCHEME_COAPS_WS] = COAP_PROTO_WSS,
  };
  return (unsigned)scheme < COAP_URI_SCHEME_LAST ? protos[scheme]
                                                 : COAP_PROTO_NONE;
}

static int proto_is_secure(coap_proto_t p) {
  return p == COAP_PROTO_DTLS || p == COAP_PROTO_TLS || p == COAP_PROTO_WSS;
}

static int proto_is_ws(coap_proto_t p) {
  return p == COAP_PROTO_WS || p == COAP_PROTO_WSS;
}

uint32_t coap_get_available_scheme_hint_bits(int have_pki_psk, int ws_check,
                                             coap_proto_t use_unix_proto) {
  uint32_t bits = 0;
  for (int s = 0; s < COAP_URI_SCHEME_LAST; s++) {
    coap_proto_t p = scheme_proto((coap_uri_scheme_t)s);
    if (p == COAP_PROTO_NONE || !pt_address_proto_supported(p))
      continue;
    if (use_unix_proto != COAP_PROTO_NONE) {
      if (p == use_unix_proto)
        bits |= 1u << s;
      continue;
    }
    if ((proto_is_secure(p) && !have_pki_psk) || (proto_is_ws(p) && !ws_check))
      continue;
    bits |= 1u << s;
  }
  return bits;
}

/* ---- resolution ------------------------------------------------------- */

static uint16_t scheme_port(coap_uri_scheme_t s, const uint16_t ports[4]) {
  static const uint16_t defaults[4] = {COAP_DEFAULT_PORT, COAPS_DEFAULT_PORT,
                                       80, 443};
  int i = 0; /* coap, coap+tcp */
  if (s == COAP_URI_SCHEME_COAPS || s == COAP_URI_SCHEME_COAPS_TCP)
    i = 1;
  else if (s == COAP_URI_SCHEME_COAP_WS)
    i = 2;
  else if (s == COAP_URI_SCHEME_COAPS_WS)
    i = 3;
  return ports[i] ? ports[i] : defaults[i];
}

/*
 * Appends a copy of @addr for @scheme unless an equal entry is there.
 * The duplicate check walks the list: O(n^2) over a handful of entries
 * (addresses of one host times at most 6 schemes).
 */
static int add_entry(coap_addr_info_t **head, coap_addr_info_t ***tail,
                     coap_uri_scheme_t scheme, const coap_address_t *addr) {
  for (coap_addr_info_t *e = *head; e; e = e->next)
    if (e->scheme == scheme && coap_address_equals(&e->addr, addr))
      return 1;
  coap_addr_info_t *e = coap_malloc_type(COAP_STRING, sizeof(*e));
  if (!e)
    return 0;
  memset(e, 0, sizeof(*e));
  e->scheme = scheme;
  e->proto = scheme_proto(scheme);
  coap_address_copy(&e->addr, addr);
  **tail = e;
  *tail = &e->next;
  return 1;
}

/* One entry per wanted, supported scheme for @addr (ports filled in). */
static int add_schemes(coap_addr_info_t **head, coap_addr_info_t ***tail,
                       coap_address_t *addr, int bits,
                       const uint16_t ports[4]) {
  for (int s = 0; s < COAP_URI_SCHEME_LAST; s++) {
    coap_proto_t p = scheme_proto((coap_uri_scheme_t)s);
    if (!(bits & (1 << s)) || p == COAP_PROTO_NONE ||
        !pt_address_proto_supported(p))
      continue;
    coap_address_set_port(addr, scheme_port((coap_uri_scheme_t)s, ports));
    if (!add_entry(head, tail, (coap_uri_scheme_t)s, addr))
      return 0;
  }
  return 1;
}

static int is_unix_path(const coap_str_const_t *a) {
  if (!a || !a->s || a->length == 0)
    return 0;
  if (a->s[0] == '/')
    return 1;
  return a->length >= 3 && a->s[0] == '%' && a->s[1] == '2' &&
         (a->s[2] == 'F' || a->s[2] == 'f');
}

/*
 * The host as a C string for getaddrinfo(): brackets around an IPv6
 * literal are dropped; NULL node for an absent or empty address.
 */
static int host_string(const coap_str_const_t *a, char *buf, size_t size,
                       const char **node) {
  *node = NULL;
  if (!a || !a->s || a->length == 0)
    return 1;
  const uint8_t *s = a->s;
  size_t n = a->length;
  if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
    s++;
    n -= 2;
  }
  if (n == 0 || n >= size || memchr(s, '\0', n))
    return 0;
  memcpy(buf, s, n);
  buf[n] = '\0';
  *node = buf;
  return 1;
}

static coap_addr_info_t *resolve_ip(const coap_str_const_t *address,
                                    const uint16_t ports[4], int flags,
                                    int bits, coap_resolve_type_t type) {
  char host[NI_MAXHOST];
  const char *node;
  struct addrinfo hints, *res = NULL;
  coap_addr_info_t *head = NULL, **tail = &head;
  if (!host_string(address, host, sizeof(host), &node))
    return NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM; /* one answer per address, not per type */
  hints.ai_flags = flags | (type == COAP_RESOLVE_TYPE_LOCAL ? AI_PASSIVE : 0);
  /* getaddrinfo() refuses a NULL node with a NULL service: ask for port 0. */
  if (getaddrinfo(node, node ? NULL : "0", &hints, &res) != 0)
    return NULL;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    coap_address_t addr;
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
        ai->ai_addrlen > sizeof(addr.addr))
      continue;
    coap_address_init(&addr);
    memcpy(&addr.addr, ai->ai_addr, ai->ai_addrlen);
    addr.size = ai->ai_addrlen;
    if (!add_schemes(&head, &tail, &addr, bits, ports)) {
      coap_free_address_info(head);
      head = NULL;
      break;
    }
  }
  freeaddrinfo(res);
  return head;
}

static coap_addr_info_t *resolve_unix(const coap_str_const_t *address,
                                      int bits) {
  coap_address_t addr;
  coap_addr_info_t *head = NULL, **tail = &head;
  static const uint16_t no_ports[4];
  if (!coap_address_set_unix_domain(&addr, address->s, address->length))
    return NULL;
  if (!add_schemes(&head, &tail, &addr, bits, no_ports)) {
    coap_free_address_info(head);
    return NULL;
  }
  return head;
}

coap_addr_info_t *
coap_resolve_address_info(const coap_str_const_t *address, uint16_t port,
                          uint16_t secure_port, uint16_t ws_port,
                          uint16_t ws_secure_port, int ai_hints_flags,
                          int scheme_hint_bits, coap_resolve_type_t type) {
  const uint16_t ports[4] = {port, secure_port, ws_port, ws_secure_port};
  if (is_unix_path(address))
    return resolve_unix(address, scheme_hint_bits);
  return resolve_ip(address, ports, ai_hints_flags, scheme_hint_bits, type);
}

void coap_free_address_info(coap_addr_info_t *info_list) {
  while (info_list) {
    coap_addr_info_t *next = info_list->next;
    coap_free_type(COAP_STRING, info_list);
    info_list = next;
  }
}
