/*
 * pktinfo.c -- the local address of each datagram: IP_PKTINFO and
 * IPV6_PKTINFO control messages (Linux; RFC 3542 for IPv6).
 *
 * An IPv6 endpoint is dual-stack, so it may receive IPv4 datagrams: those
 * carry an IP_PKTINFO message (and, from some kernels, an IPV6_PKTINFO one
 * with the IPv4-mapped address as well). Either is taken, and the address
 * is kept IPv4-mapped so that it compares with the peer's. An answer to an
 * IPv4 peer goes out with IP_PKTINFO, which Linux accepts on IPv6 sockets
 * for IPv4-mapped destinations.
 */
#include "pktinfo.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

#include "coap3/coap.h"

int pt_pktinfo_enable(int fd, int family) {
  int on = 1;
  int rc = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
  if (family == AF_INET6)
    rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
  return rc;
}

static void set_v4(coap_address_t *a, int family, struct in_addr v4,
                   uint16_t port) {
  coap_address_init(a);
  if (family == AF_INET) {
    a->addr.sin.sin_family = AF_INET;
    a->addr.sin.sin_addr = v4;
    a->addr.sin.sin_port = htons(port);
    a->size = sizeof(a->addr.sin);
    return;
  }
  a->addr.sin6.sin6_family = AF_INET6; /* ::ffff:a.b.c.d */
  a->addr.sin6.sin6_addr.s6_addr[10] = 0xff;
  a->addr.sin6.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&a->addr.sin6.sin6_addr.s6_addr[12], &v4, 4);
  a->addr.sin6.sin6_port = htons(port);
  a->size = sizeof(a->addr.sin6);
}

static void set_v6(coap_address_t *a, const struct in6_addr *v6, int ifindex,
                   uint16_t port) {
  coap_address_init(a);
  a->addr.sin6.sin6_family = AF_INET6;
  a->addr.sin6.sin6_addr = *v6;
  a->addr.sin6.sin6_port = htons(port);
  /* A link-local address means nothing without its interface. */
  if (IN6_IS_ADDR_LINKLOCAL(v6) || IN6_IS_ADDR_MC_LINKLOCAL(v6))
    a->addr.sin6.sin6_scope_id = (uint32_t)ifindex;
  a->size = sizeof(a->addr.sin6);
}

int pt_pktinfo_read(const struct msghdr *msg, int family, uint16_t port,
                    coap_address_t *local, int *ifindex) {
  /* The message carries at most two control messages: a short walk. */
  for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
       c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
        c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      set_v4(local, family, pi.ipi_addr, port);
      *ifindex = pi.ipi_ifindex;
      return 1;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
        c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      set_v6(local, &pi.ipi6_addr, (int)pi.ipi6_ifindex, port);
      *ifindex = (int)pi.ipi6_ifindex;
      return 1;
    }
  }
  return 0;
}

/* @a's IPv4 address, plain or IPv4-mapped; 0 if it is IPv6 proper. */
static int v4_of(const coap_address_t *a, struct in_addr *v4) {
  if (a->addr.sa.sa_family == AF_INET) {
    *v4 = a->addr.sin.sin_addr;
    return 1;
  }
  if (a->addr.sa.sa_family == AF_INET6 &&
      IN6_IS_ADDR_V4MAPPED(&a->addr.sin6.sin6_addr)) {
    memcpy(v4, &a->addr.sin6.sin6_addr.s6_addr[12], 4);
    return 1;
  }
  return 0;
}

size_t pt_pktinfo_write(uint8_t *ctrl, const coap_address_t *local,
                        int ifindex) {
  int group = coap_is_mcast(local);
  unsigned oif = ifindex > 0 && group ? (unsigned)ifindex : 0;
  struct in_addr v4;
  struct cmsghdr c;
  memset(ctrl, 0, PT_PKTINFO_SPACE);
  memset(&c, 0, sizeof(c));
  if (v4_of(local, &v4)) {
    struct in_pktinfo pi = {.ipi_ifindex = (int)oif};
    if (!group)
      pi.ipi_spec_dst = v4;
    c.cmsg_level = IPPROTO_IP;
    c.cmsg_type = IP_PKTINFO;
    c.cmsg_len = CMSG_LEN(sizeof(pi));
    memcpy(ctrl, &c, sizeof(c));
    memcpy(CMSG_DATA((struct cmsghdr *)ctrl), &pi, sizeof(pi));
    return CMSG_SPACE(sizeof(pi));
  }
  if (local->addr.sa.sa_family != AF_INET6)
    return 0;
  struct in6_pktinfo pi = {.ipi6_ifindex = oif};
  if (!group)
    pi.ipi6_addr = local->addr.sin6.sin6_addr;
  if (!oif) /* a link-local address names its interface in the scope */
    pi.ipi6_ifindex = local->addr.sin6.sin6_scope_id;
  c.cmsg_level = IPPROTO_IPV6;
  c.cmsg_type = IPV6_PKTINFO;
  c.cmsg_len = CMSG_LEN(sizeof(pi));
  memcpy(ctrl, &c, sizeof(c));
  memcpy(CMSG_DATA((struct cmsghdr *)ctrl), &pi, sizeof(pi));
  return CMSG_SPACE(sizeof(pi));
}

/* ---- endpoints bound to one address --------------------------------------
 */

int pt_pktinfo_needed(const coap_address_t *bound) {
  struct in_addr v4;
  if (v4_of(bound, &v4) && v4.s_addr == htonl(INADDR_ANY))
    return 1; /* 0.0.0.0, or ::ffff:0.0.0.0 on an IPv6 socket */
  return coap_address_isany(bound) || coap_is_mcast(bound) ||
         coap_is_bcast(bound);
}

/* How interface address @ifa matches @bound: 2 the same address, 1 inside
 * the prefix of a loopback interface's address, else 0. */
static int owner_match(const struct ifaddrs *ifa, const coap_address_t *bound) {
  const struct sockaddr *a = ifa->ifa_addr, *m = ifa->ifa_netmask;
  int loop = (ifa->ifa_flags & IFF_LOOPBACK) != 0;
  struct in_addr v4;
  if (v4_of(bound, &v4)) {
    if (!a || a->sa_family != AF_INET)
      return 0;
    uint32_t x = ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr;
    uint32_t mask =
        m ? ((const struct sockaddr_in *)(const void *)m)->sin_addr.s_addr : 0;
    if (x == v4.s_addr)
      return 2;
    return loop && mask && (x & mask) == (v4.s_addr & mask);
  }
  if (!a || a->sa_family != AF_INET6)
    return 0;
  const struct in6_addr *x =
      &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr;
  return memcmp(x, &bound->addr.sin6.sin6_addr, sizeof(*x)) == 0 ? 2 : 0;
}

int pt_pktinfo_owner(const coap_address_t *bound) {
  struct in_addr v4;
  int family = bound->addr.sa.sa_family;
  if (!v4_of(bound, &v4) && family != AF_INET6)
    return -1;
  if (family == AF_INET6 && bound->addr.sin6.sin6_scope_id)
    return (int)bound->addr.sin6.sin6_scope_id; /* link-local: named */
  struct ifaddrs *list = NULL;
  if (getifaddrs(&list) != 0)
    return -1;
  unsigned exact = 0, covered = 0;
  /* The host's interface addresses: a short list, read once per socket. */
  for (struct ifaddrs *ifa = list; ifa && !exact; ifa = ifa->ifa_next) {
    int how = owner_match(ifa, bound);
    if (how == 2)
      exact = if_nametoindex(ifa->ifa_name);
    else if (how == 1 && !covered)
      covered = if_nametoindex(ifa->ifa_name);
  }
  freeifaddrs(list);
  unsigned index = exact ? exact : covered;
  return index ? (int)index : -1;
}
