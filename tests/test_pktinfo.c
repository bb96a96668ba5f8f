/*
 * test_pktinfo.c -- the local address of each datagram, over loopback: a
 * server bound to a wildcard address answers from the address each request
 * was sent to (127.0.0.2, 127.0.0.3: every 127/8 address is local on lo),
 * and coap_session_get_addr_local() / coap_session_get_ifindex() report
 * that address and the interface, per datagram. A server bound to one
 * address has the kernel report nothing (pktinfo.h) and still answers from
 * it and reports it, with the interface that holds it.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coap3/coap.h"

#include "context.h"
#include "posix/pktinfo.h"
#include "session.h"
#include "test.h"

static char seen_local[64];
static int seen_ifindex;
static coap_session_t *last_session;

/* Answers with the local address the request arrived at. */
static void hnd_where(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)req, (void)q;
  size_t n = coap_print_addr(coap_session_get_addr_local(s),
                             (uint8_t *)seen_local, sizeof(seen_local) - 1);
  seen_local[n] = 0;
  seen_ifindex = coap_session_get_ifindex(s);
  last_session = s;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, n, (const uint8_t *)seen_local);
}

static coap_address_t addr_of(const char *text) {
  coap_address_t a;
  coap_address_init(&a);
  if (strchr(text, ':')) {
    a.addr.sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &a.addr.sin6.sin6_addr);
    a.size = sizeof(a.addr.sin6);
  } else {
    a.addr.sin.sin_family = AF_INET;
    inet_pton(AF_INET, text, &a.addr.sin.sin_addr);
    a.size = sizeof(a.addr.sin);
  }
  return a;
}

/* Adds a UDP endpoint on @text, port 0, to @ctx; its port, 0 on failure. */
static uint16_t add_endpoint(coap_context_t *ctx, const char *text) {
  coap_address_t a = addr_of(text);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &a, COAP_PROTO_UDP);
  return ep ? coap_address_get_port(&ep->bind_addr) : 0;
}

static coap_context_t *server_on(const char *any, uint16_t *port) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  if (!ctx)
    return NULL;
  *port = add_endpoint(ctx, any);
  if (!*port) {
    coap_free_context(ctx);
    return NULL;
  }
  coap_resource_t *r = coap_resource_init(coap_make_str_const("where"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_where);
  coap_add_resource(ctx, r);
  return ctx;
}

/* A socket of @family bound to @from, sending to @to:@port. */
static int raw_socket(int family, const char *from) {
  int fd = socket(family, SOCK_DGRAM, 0);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    inet_pton(AF_INET, from, &in->sin_addr);
    len = sizeof(*in);
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, from, &in6->sin6_addr);
    len = sizeof(*in6);
  }
  if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/*
 * Sends a GET /where of @type with @mid to @to:@port from socket @fd,
 * serves until the answer arrives and leaves its source address in @src
 * (text), its bytes in @buf. Returns the answer's length or -1.
 */
static ssize_t ask(coap_context_t *ctx, int fd, int family, const char *to,
                   uint16_t port, uint8_t type, uint16_t mid, char *src,
                   uint8_t *buf, size_t cap) {
  uint8_t req[] = {(uint8_t)(0x41 | type << 4),
                   0x01,
                   (uint8_t)(mid >> 8),
                   (uint8_t)mid,
                   0x7a,
                   0xb5,
                   'w',
                   'h',
                   'e',
                   'r',
                   'e'};
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    inet_pton(AF_INET, to, &in->sin_addr);
    len = sizeof(*in);
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    inet_pton(AF_INET6, to, &in6->sin6_addr);
    len = sizeof(*in6);
  }
  if (sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&ss, len) < 0)
    return -1;
  for (int i = 0; i < 100; i++) {
    coap_io_process(ctx, 20);
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n =
        recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
    if (n < 0)
      continue;
    void *ip = from.ss_family == AF_INET
                   ? (void *)&((struct sockaddr_in *)&from)->sin_addr
                   : (void *)&((struct sockaddr_in6 *)&from)->sin6_addr;
    inet_ntop(from.ss_family, ip, src, 64);
    uint16_t p = ntohs(from.ss_family == AF_INET
                           ? ((struct sockaddr_in *)&from)->sin_port
                           : ((struct sockaddr_in6 *)&from)->sin6_port);
    if (p != port)
      snprintf(src, 64, "wrong port %u", p);
    return n;
  }
  return -1;
}

/* The payload of answer @buf[0..n) as a string (token length 1). */
static const char *payload(const uint8_t *buf, ssize_t n) {
  static char out[64];
  out[0] = 0;
  for (ssize_t i = 5; i < n; i++)
    if (buf[i] == 0xff) {
      snprintf(out, sizeof(out), "%.*s", (int)(n - i - 1), buf + i + 1);
      break;
    }
  return out;
}

TEST(ipv4_wildcard_answers_from_each_address) {
  uint16_t port;
  coap_context_t *ctx = server_on("0.0.0.0", &port);
  CHECK(ctx != NULL);
  int fd = raw_socket(AF_INET, "127.0.0.1");
  CHECK(fd >= 0);
  char src[64], want[64];
  uint8_t buf[1500];
  const char *dst[] = {"127.0.0.2", "127.0.0.3", "127.0.0.1", "127.0.0.2"};
  for (int i = 0; i < 4; i++) {
    ssize_t n = ask(ctx, fd, AF_INET, dst[i], port, i & 1 ? 0 : 1,
                    (uint16_t)(0x100 + i), src, buf, sizeof(buf));
    CHECK(n > 4);
    CHECK_STR_EQ(src, dst[i]);
    /* An ACK (type 2) for the CONs, a NON (1) for the NONs. */
    CHECK_INT_EQ(buf[0] >> 4 & 3, i & 1 ? 2 : 1);
    snprintf(want, sizeof(want), "%s:%u", dst[i], port);
    CHECK_STR_EQ(payload(buf, n), want);
    CHECK_STR_EQ(seen_local, want);
    CHECK_INT_EQ(seen_ifindex, if_nametoindex("lo"));
  }
  close(fd);
  coap_free_context(ctx);
}

/* Waits up to a second for a datagram on @fd; its source in @src. */
static ssize_t await(int fd, char *src, uint8_t *buf, size_t cap) {
  for (int i = 0; i < 100; i++) {
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n =
        recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
    if (n >= 0) {
      void *ip = from.ss_family == AF_INET
                     ? (void *)&((struct sockaddr_in *)&from)->sin_addr
                     : (void *)&((struct sockaddr_in6 *)&from)->sin6_addr;
      inet_ntop(from.ss_family, ip, src, 64);
      return n;
    }
    usleep(10000);
  }
  return -1;
}

/* A message the application sends outside the event loop (not batched:
 * the single-send path) leaves from the address the peer last used. */
static void send_outside_loop(const char *any, int family, const char *from,
                              const char *to, const char *want) {
  uint16_t port;
  coap_context_t *ctx = server_on(any, &port);
  CHECK(ctx != NULL);
  int fd = raw_socket(family, from);
  CHECK(fd >= 0);
  char src[64];
  uint8_t buf[1500];
  last_session = NULL;
  ssize_t n = ask(ctx, fd, family, to, port, 1, 0x200, src, buf, sizeof(buf));
  CHECK(n > 4);
  CHECK(last_session != NULL);
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_NON, COAP_RESPONSE_CODE_CONTENT,
                                  coap_new_message_id(last_session), 1000);
  uint8_t tok = 0x5c;
  coap_add_token(pdu, 1, &tok);
  CHECK(coap_send(last_session, pdu) != COAP_INVALID_MID);
  n = await(fd, src, buf, sizeof(buf));
  CHECK_INT_EQ(n, 5);
  CHECK_INT_EQ(buf[4], 0x5c);
  CHECK_STR_EQ(src, want);
  close(fd);
  coap_free_context(ctx);
}

TEST(ipv4_wildcard_send_outside_loop_from_the_address_asked) {
  send_outside_loop("0.0.0.0", AF_INET, "127.0.0.1", "127.0.0.5", "127.0.0.5");
}

TEST(dual_stack_wildcard_answers_from_each_address) {
  uint16_t port;
  coap_context_t *ctx = server_on("::", &port);
  if (!ctx) {
    TEST_SKIP("no IPv6 in this sandbox");
  }
  char src[64], want[64];
  uint8_t buf[1500];
  int fd = raw_socket(AF_INET, "127.0.0.1");
  CHECK(fd >= 0);
  ssize_t n =
      ask(ctx, fd, AF_INET, "127.0.0.2", port, 0, 0x300, src, buf, sizeof(buf));
  CHECK(n > 4);
  CHECK_STR_EQ(src, "127.0.0.2");
  /* On the dual-stack socket the address is IPv4-mapped, as the peer's. */
  snprintf(want, sizeof(want), "[::ffff:127.0.0.2]:%u", port);
  CHECK_STR_EQ(seen_local, want);
  close(fd);
  fd = raw_socket(AF_INET6, "::1");
  if (fd < 0) {
    coap_free_context(ctx);
    TEST_SKIP("no ::1 in this sandbox");
  }
  n = ask(ctx, fd, AF_INET6, "::1", port, 0, 0x302, src, buf, sizeof(buf));
  CHECK(n > 4);
  CHECK_STR_EQ(src, "::1");
  snprintf(want, sizeof(want), "[::1]:%u", port);
  CHECK_STR_EQ(seen_local, want);
  CHECK_INT_EQ(seen_ifindex, if_nametoindex("lo"));
  close(fd);
  coap_free_context(ctx);
}

TEST(dual_stack_wildcard_send_outside_loop_from_the_address_asked) {
  int fd = raw_socket(AF_INET6, "::1");
  if (fd < 0) {
    TEST_SKIP("no ::1 in this sandbox");
  }
  close(fd);
  send_outside_loop("::", AF_INET, "127.0.0.1", "127.0.0.6", "127.0.0.6");
  send_outside_loop("::", AF_INET6, "::1", "::1", "::1");
}

/* A server bound to one address needs no control data: it still answers. */
TEST(bound_endpoint_reports_its_address) {
  uint16_t port;
  coap_context_t *ctx = server_on("127.0.0.1", &port);
  CHECK(ctx != NULL);
  int fd = raw_socket(AF_INET, "127.0.0.1");
  char src[64], want[64];
  uint8_t buf[1500];
  ssize_t n =
      ask(ctx, fd, AF_INET, "127.0.0.1", port, 0, 0x400, src, buf, sizeof(buf));
  CHECK(n > 4);
  CHECK_STR_EQ(src, "127.0.0.1");
  snprintf(want, sizeof(want), "127.0.0.1:%u", port);
  CHECK_STR_EQ(seen_local, want);
  CHECK_INT_EQ(seen_ifindex, if_nametoindex("lo"));
  close(fd);
  coap_free_context(ctx);
}

/* Whether the kernel reports each datagram's local address on the socket
 * of @ctx's (only) endpoint: IP_PKTINFO, and for IPv6 IPV6_RECVPKTINFO. */
static int asks_kernel(coap_context_t *ctx, int family) {
  int on = -1;
  socklen_t len = sizeof(on);
  int fd = ctx->endpoints->fd;
  if (family == AF_INET6)
    getsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, &len);
  else
    getsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, &len);
  return on;
}

TEST(only_wildcard_endpoints_ask_the_kernel) {
  uint16_t port;
  coap_context_t *ctx = server_on("0.0.0.0", &port);
  CHECK(ctx != NULL);
  CHECK_INT_EQ(asks_kernel(ctx, AF_INET), 1);
  CHECK_INT_EQ(ctx->endpoints->pktinfo, 1);
  coap_free_context(ctx);
  ctx = server_on("127.0.0.1", &port);
  CHECK(ctx != NULL);
  CHECK_INT_EQ(asks_kernel(ctx, AF_INET), 0);
  CHECK_INT_EQ(ctx->endpoints->pktinfo, 0);
  coap_free_context(ctx);
  ctx = server_on("::", &port);
  if (!ctx) {
    TEST_SKIP("no IPv6 in this sandbox");
  }
  CHECK_INT_EQ(asks_kernel(ctx, AF_INET6), 1);
  coap_free_context(ctx);
  ctx = server_on("::1", &port);
  if (!ctx) {
    TEST_SKIP("no ::1 in this sandbox");
  }
  CHECK_INT_EQ(asks_kernel(ctx, AF_INET6), 0);
  CHECK_INT_EQ(ctx->endpoints->pktinfo, 0);
  coap_free_context(ctx);
}

/* A server bound to @bind, asked at @to by a client of @family on @from:
 * the answer comes from @to, the handler saw address @want_local (with the
 * port)
 * and the loopback interface, for a CON and a NON. */
static void bound_answers(const char *bind, int family, const char *from,
                          const char *to, const char *want_local) {
  uint16_t port;
  coap_context_t *ctx = server_on(bind, &port);
  if (!ctx) {
    TEST_SKIP("cannot bind this address in this sandbox");
  }
  CHECK_INT_EQ(ctx->endpoints->pktinfo, 0);
  int fd = raw_socket(family, from);
  CHECK(fd >= 0);
  char src[64], want[80];
  uint8_t buf[1500];
  for (int i = 0; i < 2; i++) {
    seen_ifindex = -7;
    ssize_t n = ask(ctx, fd, family, to, port, (uint8_t)i,
                    (uint16_t)(0x500 + i), src, buf, sizeof(buf));
    CHECK(n > 4);
    CHECK_STR_EQ(src, to);
    CHECK_INT_EQ(buf[0] >> 4 & 3, i ? 1 : 2); /* ACK for the CON, NON */
    snprintf(want, sizeof(want), strchr(want_local, ':') ? "[%s]:%u" : "%s:%u",
             want_local, port);
    CHECK_STR_EQ(seen_local, want);
    CHECK_STR_EQ(payload(buf, n), want);
    CHECK_INT_EQ(seen_ifindex, if_nametoindex("lo"));
  }
  close(fd);
  coap_free_context(ctx);
}

TEST(bound_endpoint_other_loopback_address) {
  /* 127.0.0.2 is not an address of lo, only inside its 127.0.0.1/8. */
  bound_answers("127.0.0.2", AF_INET, "127.0.0.1", "127.0.0.2", "127.0.0.2");
}

TEST(bound_ipv6_endpoint_reports_its_address) {
  bound_answers("::1", AF_INET6, "::1", "::1", "::1");
}

TEST(bound_v4_mapped_endpoint_reports_its_address) {
  /* An IPv6 socket bound to ::ffff:127.0.0.3 serves IPv4 peers. */
  bound_answers("::ffff:127.0.0.3", AF_INET, "127.0.0.1", "127.0.0.3",
                "::ffff:127.0.0.3");
}

TEST(bound_endpoint_send_outside_loop) {
  send_outside_loop("127.0.0.4", AF_INET, "127.0.0.1", "127.0.0.4",
                    "127.0.0.4");
}

/* The endpoints of a context read into the same receive headers: one that
 * gets no control data (bound to one address) or IPv4 peers' shorter
 * addresses must leave them whole for the next, a wildcard endpoint that
 * needs the local address or an IPv6 one that needs room for its peers'. */
TEST(endpoints_of_one_context_take_turns) {
  uint16_t bound;
  coap_context_t *ctx = server_on("127.0.0.1", &bound);
  CHECK(ctx != NULL);
  uint16_t any = add_endpoint(ctx, "0.0.0.0");
  uint16_t v6 = add_endpoint(ctx, "::1");
  CHECK(any != 0);
  int fd = raw_socket(AF_INET, "127.0.0.1");
  int fd6 = v6 ? raw_socket(AF_INET6, "::1") : -1;
  CHECK(fd >= 0);
  char src[64], want[64];
  uint8_t buf[1500];
  for (int i = 0; i < 3; i++) {
    uint16_t mid = (uint16_t)(0x600 + 4 * i);
    CHECK(ask(ctx, fd, AF_INET, "127.0.0.1", bound, 1, mid, src, buf,
              sizeof(buf)) > 4);
    CHECK_STR_EQ(src, "127.0.0.1");
    snprintf(want, sizeof(want), "127.0.0.1:%u", bound);
    CHECK_STR_EQ(seen_local, want);
    CHECK(ask(ctx, fd, AF_INET, "127.0.0.2", any, 1, (uint16_t)(mid + 1), src,
              buf, sizeof(buf)) > 4);
    CHECK_STR_EQ(src, "127.0.0.2");
    snprintf(want, sizeof(want), "127.0.0.2:%u", any);
    CHECK_STR_EQ(seen_local, want);
    if (fd6 < 0)
      continue;
    CHECK(ask(ctx, fd6, AF_INET6, "::1", v6, 1, (uint16_t)(mid + 2), src, buf,
              sizeof(buf)) > 4);
    CHECK_STR_EQ(src, "::1");
    snprintf(want, sizeof(want), "[::1]:%u", v6);
    CHECK_STR_EQ(seen_local, want);
  }
  close(fd);
  if (fd6 >= 0)
    close(fd6);
  coap_free_context(ctx);
}

TEST(which_addresses_need_the_kernel) {
  const char *yes[] = {"0.0.0.0",           "::",       "::ffff:0.0.0.0",
                       "224.0.1.187",       "ff02::fd", "255.255.255.255",
                       "::ffff:224.0.1.187"};
  const char *no[] = {"127.0.0.1", "127.0.0.2",        "::1",
                      "192.0.2.1", "::ffff:127.0.0.1", "fe80::1"};
  for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
    coap_address_t a = addr_of(yes[i]);
    if (!pt_pktinfo_needed(&a))
      printf("  needed: %s\n", yes[i]);
    CHECK_INT_EQ(pt_pktinfo_needed(&a), 1);
  }
  for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
    coap_address_t a = addr_of(no[i]);
    if (pt_pktinfo_needed(&a))
      printf("  not needed: %s\n", no[i]);
    CHECK_INT_EQ(pt_pktinfo_needed(&a), 0);
  }
}

TEST(owner_of_a_bound_address) {
  int lo = (int)if_nametoindex("lo");
  coap_address_t a = addr_of("127.0.0.1");
  CHECK_INT_EQ(pt_pktinfo_owner(&a), lo);
  a = addr_of("127.9.8.7"); /* inside lo's prefix */
  CHECK_INT_EQ(pt_pktinfo_owner(&a), lo);
  a = addr_of("::ffff:127.0.0.5");
  CHECK_INT_EQ(pt_pktinfo_owner(&a), lo);
  a = addr_of("192.0.2.1"); /* TEST-NET-1: no interface holds it */
  CHECK_INT_EQ(pt_pktinfo_owner(&a), -1);
  a = addr_of("2001:db8::1");
  CHECK_INT_EQ(pt_pktinfo_owner(&a), -1);
  a = addr_of("fe80::1");
  a.addr.sin6.sin6_scope_id = 7; /* a link-local address names its link */
  CHECK_INT_EQ(pt_pktinfo_owner(&a), 7);
  a.addr.sa.sa_family = AF_UNIX;
  CHECK_INT_EQ(pt_pktinfo_owner(&a), -1);
  a = addr_of("::1");
  int v6 = pt_pktinfo_owner(&a);
  if (v6 == -1) {
    TEST_SKIP("no ::1 in this sandbox");
  }
  CHECK_INT_EQ(v6, lo);
}

int main(void) {
  RUN(ipv4_wildcard_answers_from_each_address);
  RUN(ipv4_wildcard_send_outside_loop_from_the_address_asked);
  RUN(dual_stack_wildcard_answers_from_each_address);
  RUN(dual_stack_wildcard_send_outside_loop_from_the_address_asked);
  RUN(bound_endpoint_reports_its_address);
  RUN(only_wildcard_endpoints_ask_the_kernel);
  RUN(bound_endpoint_other_loopback_address);
  RUN(bound_ipv6_endpoint_reports_its_address);
  RUN(bound_v4_mapped_endpoint_reports_its_address);
  RUN(bound_endpoint_send_outside_loop);
  RUN(endpoints_of_one_context_take_turns);
  RUN(which_addresses_need_the_kernel);
  RUN(owner_of_a_bound_address);
  return TEST_SUMMARY();
}
