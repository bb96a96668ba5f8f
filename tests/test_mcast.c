/*
 * test_mcast.c -- joining multicast groups on real loopback sockets, the
 * multicast hop limit, and argument errors. Joins need a kernel that lets
 * the loopback interface take groups; where it does not, those tests say
 * so and pass (the argument tests always run).
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#include "context.h"
#include "session.h"

static coap_address_t addr(int family, const char *ip, uint16_t port) {
  coap_address_t a;
  coap_address_init(&a);
  if (family == AF_INET) {
    a.addr.sin.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a.addr.sin.sin_addr);
    a.addr.sin.sin_port = htons(port);
    a.size = sizeof(a.addr.sin);
  } else {
    a.addr.sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &a.addr.sin6.sin6_addr);
    a.addr.sin6.sin6_port = htons(port);
    a.size = sizeof(a.addr.sin6);
  }
  return a;
}

/* Whether a plain socket of @family may join @group on "lo" here. */
static int kernel_can_join(int family, const char *group) {
  int fd = socket(family, SOCK_DGRAM, 0), rc = -1;
  if (fd < 0)
    return 0;
  if (family == AF_INET) {
    struct ip_mreqn m = {.imr_ifindex = (int)if_nametoindex("lo")};
    inet_pton(AF_INET, group, &m.imr_multiaddr);
    rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
  } else {
    struct ipv6_mreq m = {.ipv6mr_interface = if_nametoindex("lo")};
    inet_pton(AF_INET6, group, &m.ipv6mr_multiaddr);
    rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m));
  }
  close(fd);
  return rc == 0;
}

static coap_context_t *ctx_with(int family, const char *ip) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  if (!ctx)
    return NULL;
  coap_address_t a = addr(family, ip, 0);
  if (!coap_new_endpoint(ctx, &a, COAP_PROTO_UDP)) {
    coap_free_context(ctx);
    return NULL;
  }
  return ctx;
}

TEST(join_ipv4_all_coap_nodes) {
  if (!kernel_can_join(AF_INET, "224.0.1.187")) {
    printf("SKIP: this kernel lets no socket join 224.0.1.187 on lo\n");
    return;
  }
  coap_context_t *ctx = ctx_with(AF_INET, "127.0.0.1");
  CHECK_NOT_NULL(ctx);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "224.0.1.187", "lo"), 0);
  CHECK_INT_EQ(coap_join_mcast_group(ctx, "224.0.1.187"), 0); /* again */
  /* An IPv4 endpoint cannot take an IPv6 group: nothing to join on. */
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "ff02::fd", "lo"), -1);
  coap_free_context(ctx);
}

TEST(join_ipv6_all_coap_nodes) {
  if (!kernel_can_join(AF_INET6, "ff02::fd")) {
    printf("SKIP: this kernel lets no socket join ff02::fd on lo\n");
    return;
  }
  coap_context_t *ctx = ctx_with(AF_INET6, "::");
  CHECK_NOT_NULL(ctx);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "ff02::fd", "lo"), 0);
  /* The dual-stack endpoint takes IPv4 groups too. */
  if (kernel_can_join(AF_INET, "224.0.1.187"))
    CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "224.0.1.187", "lo"), 0);
  coap_free_context(ctx);
}

TEST(join_bad_arguments) {
  coap_context_t *ctx = ctx_with(AF_INET, "127.0.0.1");
  CHECK_NOT_NULL(ctx);
  CHECK_INT_EQ(coap_join_mcast_group_intf(NULL, "224.0.1.187", NULL), -1);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, NULL, NULL), -1);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "", NULL), -1);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "not-an-address", NULL), -1);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "127.0.0.1", NULL), -1);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "fe80::1", NULL), -1);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "224.0.1.187", "nosuchif0"), -1);
  coap_free_context(ctx);
  /* A context without endpoints has nothing to join with. */
  ctx = coap_new_context(NULL);
  CHECK_NOT_NULL(ctx);
  CHECK_INT_EQ(coap_join_mcast_group_intf(ctx, "224.0.1.187", NULL), -1);
  coap_free_context(ctx);
}

TEST(hops_on_client_session) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  CHECK_NOT_NULL(ctx);
  coap_address_t group = addr(AF_INET, "224.0.1.187", 5683);
  coap_session_t *s =
      coap_new_client_session(ctx, NULL, &group, COAP_PROTO_UDP);
  if (!s) {
    printf("SKIP: no route to 224.0.1.187 in this sandbox\n");
    coap_free_context(ctx);
    return;
  }
  CHECK_INT_EQ(coap_mcast_set_hops(s, 7), 1);
  int ttl = 0;
  socklen_t len = sizeof(ttl);
  CHECK_INT_EQ(getsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, &len), 0);
  CHECK_INT_EQ(ttl, 7);
  CHECK_INT_EQ(coap_mcast_set_hops(s, 255), 1);
  CHECK_INT_EQ(coap_mcast_set_hops(s, 256), 0); /* no such hop limit */
  coap_session_release(s);
  coap_free_context(ctx);
}

TEST(hops_ipv6_session) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  CHECK_NOT_NULL(ctx);
  coap_address_t peer = addr(AF_INET6, "::1", 5683);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &peer, COAP_PROTO_UDP);
  if (!s) {
    printf("SKIP: no IPv6 loopback in this sandbox\n");
    coap_free_context(ctx);
    return;
  }
  CHECK_INT_EQ(coap_mcast_set_hops(s, 3), 1);
  int hops = 0;
  socklen_t len = sizeof(hops);
  CHECK_INT_EQ(
      getsockopt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, &len), 0);
  CHECK_INT_EQ(hops, 3);
  coap_session_release(s);
  coap_free_context(ctx);
}

TEST(hops_bad_arguments) {
  CHECK_INT_EQ(coap_mcast_set_hops(NULL, 1), 0);
  coap_session_t fake;
  memset(&fake, 0, sizeof(fake));
  fake.fd = -1; /* neither a socket nor an endpoint */
  CHECK_INT_EQ(coap_mcast_set_hops(&fake, 1), 0);
}

TEST(per_resource_flag) {
  coap_context_t *ctx = coap_new_context(NULL);
  CHECK_NOT_NULL(ctx);
  CHECK_INT_EQ(ctx->mcast_per_resource, 0);
  coap_mcast_per_resource(ctx);
  CHECK_INT_EQ(ctx->mcast_per_resource, 1);
  coap_mcast_per_resource(NULL); /* harmless */
  coap_free_context(ctx);
}

int main(void) {
  RUN(join_ipv4_all_coap_nodes);
  RUN(join_ipv6_all_coap_nodes);
  RUN(join_bad_arguments);
  RUN(hops_on_client_session);
  RUN(hops_ipv6_session);
  RUN(hops_bad_arguments);
  RUN(per_resource_flag);
  return TEST_SUMMARY();
}
