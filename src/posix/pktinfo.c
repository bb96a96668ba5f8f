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
