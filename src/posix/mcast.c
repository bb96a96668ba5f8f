/*
 * mcast.c -- multicast on the POSIX/Linux backend: joining groups on the
 * context's UDP endpoints (RFC 7252 section 8) and the hop limit of
 * multicast sent on a session.
 *
 * An endpoint joins with IP_ADD_MEMBERSHIP (IPv4 group) or
 * IPV6_JOIN_GROUP (IPv6 group). An IPv6 endpoint is dual-stack (io.c
 * clears IPV6_V6ONLY), so it also joins IPv4 groups, which Linux allows on
 * IPv6 UDP sockets; an IPv4 endpoint cannot join an IPv6 group and is
 * skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "context.h"
#include "session.h"

typedef struct mcast_group {
  int family;
  struct in_addr v4;
  struct in6_addr v6;
  unsigned ifindex; /* 0: the kernel's choice */
} mcast_group;

/* Parses @name as a numeric multicast address; 0 on success. */
static int parse_group(const char *name, mcast_group *g) {
  if (inet_pton(AF_INET, name, &g->v4) == 1) {
    g->family = AF_INET;
    return IN_MULTICAST(ntohl(g->v4.s_addr)) ? 0 : -1;
  }
  if (inet_pton(AF_INET6, name, &g->v6) == 1) {
    g->family = AF_INET6;
    return IN6_IS_ADDR_MULTICAST(&g->v6) ? 0 : -1;
  }
  return -1;
}

/* Joins @g on socket @fd; 0 on success (including already joined). */
static int join(int fd, const mcast_group *g) {
  int rc;
  if (g->family == AF_INET) {
    struct ip_mreqn m = {.imr_multiaddr = g->v4,
                         .imr_ifindex = (int)g->ifindex};
    rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
  } else {
    struct ipv6_mreq m = {.ipv6mr_multiaddr = g->v6,
                          .ipv6mr_interface = g->ifindex};
    rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m));
  }
  return rc == 0 || errno == EADDRINUSE ? 0 : -1;
}

static int endpoint_can_join(const coap_endpoint_t *ep, int family) {
  int ep_family = ep->bind_addr.addr.sa.sa_family;
  return ep->proto == COAP_PROTO_UDP && ep->fd >= 0 &&
         (ep_family == family || ep_family == AF_INET6);
}

int coap_join_mcast_group_intf(coap_context_t *ctx, const char *groupname,
                               const char *ifname) {
  mcast_group g = {0};
  if (!ctx)
    return -1;
  if (!groupname || parse_group(groupname, &g) < 0) {
    coap_log_warn("coap_join_mcast_group: %s is not a multicast address\n",
                  groupname ? groupname : "(null)");
    return -1;
  }
  if (ifname && (g.ifindex = if_nametoindex(ifname)) == 0) {
    coap_log_warn("coap_join_mcast_group: no interface %s\n", ifname);
    return -1;
  }
  int joined = 0, failed = 0;
  /* The endpoint list is short (one per listening address). */
  for (coap_endpoint_t *ep = ctx->endpoints; ep; ep = ep->next) {
    if (!endpoint_can_join(ep, g.family))
      continue;
    if (join(ep->fd, &g) == 0) {
      joined++;
    } else {
      coap_log_warn("coap_join_mcast_group: %s on %s: %s\n", groupname,
                    coap_endpoint_str(ep), strerror(errno));
      failed++;
    }
  }
  if (!joined && !failed)
    coap_log_warn("coap_join_mcast_group: no UDP endpoint for %s\n", groupname);
  return joined && !failed ? 0 : -1;
}

int coap_mcast_set_hops(coap_session_t *session, size_t hops) {
  if (!session || hops > 255)
    return 0;
  int fd = session->fd >= 0 ? session->fd
                            : (session->endpoint ? session->endpoint->fd : -1);
  if (fd < 0)
    return 0;
  struct sockaddr_storage local;
  socklen_t len = sizeof(local);
  if (getsockname(fd, (struct sockaddr *)&local, &len) < 0)
    return 0;
  int v = (int)hops, rc;
  if (local.ss_family == AF_INET6)
    rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof(v));
  else
    rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof(v));
  if (rc < 0) {
    coap_log_warn("coap_mcast_set_hops: %s\n", strerror(errno));
    return 0;
  }
  return 1;
}

/* Recorded for the request path, which checks each resource's
 * COAP_RESOURCE_FLAGS_*MCAST* flags once this is set. */
void coap_mcast_per_resource(coap_context_t *context) {
  if (context)
    context->mcast_per_resource = 1;
}
