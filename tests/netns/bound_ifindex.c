/*
 * bound_ifindex.c -- an endpoint bound to one unicast address of an
 * interface other than lo, run by bound_ifindex.sh inside a network
 * namespace of its own (where that interface is one end of a veth pair).
 *
 *   bound_ifindex ADDR IFNAME   a Petrel server bound to ADDR (IPv4 or
 *                      IPv6) serving /where, asked from a raw socket on
 *                      ADDR: the answer must come from ADDR, the handler
 *                      must see ADDR as the local address and IFNAME's
 *                      index as the interface (the interface holding the
 *                      address: pktinfo.h), and the socket must not ask
 *                      the kernel for per-datagram control data. A second
 *                      server on the wildcard address of the same family
 *                      must answer a request to ADDR from ADDR.
 * Prints one line per check; exit status 0 when all passed.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coap3/coap.h>

#include "check.h"
#include "context.h"
#include "session.h"

static char seen_local[80];
static int seen_ifindex;

static void hnd_where(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)req, (void)q;
  size_t n = coap_print_addr(coap_session_get_addr_local(s),
                             (uint8_t *)seen_local, sizeof(seen_local) - 1);
  seen_local[n] = 0;
  seen_ifindex = coap_session_get_ifindex(s);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

/* @text (with @port) as a socket address; its length, 0 if not an address. */
static socklen_t sockaddr_of(const char *text, uint16_t port,
                             struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    return sizeof(*in);
  }
  if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    return sizeof(*in6);
  }
  return 0;
}

static coap_context_t *server_on(const char *addr, uint16_t *port) {
  coap_context_t *ctx = coap_new_context(NULL);
  struct sockaddr_storage ss;
  coap_address_t a;
  coap_address_init(&a);
  a.size = sockaddr_of(addr, 0, &ss);
  memcpy(&a.addr, &ss, a.size);
  if (!ctx || !a.size || !coap_new_endpoint(ctx, &a, COAP_PROTO_UDP)) {
    coap_free_context(ctx);
    return NULL;
  }
  coap_resource_t *r = coap_resource_init(coap_make_str_const("where"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_where);
  coap_add_resource(ctx, r);
  *port = coap_address_get_port(&ctx->endpoints->bind_addr);
  return ctx;
}

/* A CON GET /where from a socket on @addr to @addr:@port; the answer's
 * source address in @src. Returns 1 if an answer came. */
static int ask(coap_context_t *ctx, const char *addr, uint16_t port,
               char *src) {
  static const uint8_t req[] = {0x41, 0x01, 0x12, 0x34, 0x7a, 0xb5,
                                'w',  'h',  'e',  'r',  'e'};
  struct sockaddr_storage ss;
  socklen_t len = sockaddr_of(addr, 0, &ss);
  int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0)
    return 0;
  len = sockaddr_of(addr, port, &ss);
  sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&ss, len);
  for (int i = 0; i < 100; i++) {
    coap_io_process(ctx, 20);
    uint8_t buf[256];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    if (recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
                 &flen) < 0)
      continue;
    void *ip = from.ss_family == AF_INET
                   ? (void *)&((struct sockaddr_in *)&from)->sin_addr
                   : (void *)&((struct sockaddr_in6 *)&from)->sin6_addr;
    inet_ntop(from.ss_family, ip, src, 64);
    close(fd);
    return 1;
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s ADDR IFNAME\n", argv[0]);
    return 2;
  }
  const char *addr = argv[1];
  int want_if = (int)if_nametoindex(argv[2]);
  int v6 = strchr(addr, ':') != NULL;
  char src[64], want[96], what[160];
  uint16_t port;
  coap_startup();
  coap_address_t a;
  struct sockaddr_storage ss;
  coap_address_init(&a);
  a.size = sockaddr_of(addr, 0, &ss);
  memcpy(&a.addr, &ss, a.size);
  check(!coap_is_bcast(&a), "the address is no broadcast address");
  coap_context_t *ctx = server_on(addr, &port);
  check(ctx != NULL, "a server binds the address");
  if (!ctx)
    return 1;
  int on = -1;
  socklen_t olen = sizeof(on);
  getsockopt(ctx->endpoints->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
             v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, &on, &olen);
  check(on == 0, "its socket asks the kernel for no local address");
  check(ask(ctx, addr, port, src), "it answers");
  snprintf(what, sizeof(what), "the answer comes from %s (%s)", addr, src);
  check(strcmp(src, addr) == 0, what);
  snprintf(want, sizeof(want), v6 ? "[%s]:%u" : "%s:%u", addr, port);
  snprintf(what, sizeof(what), "the handler sees local %s (%s)", want,
           seen_local);
  check(strcmp(seen_local, want) == 0, what);
  snprintf(what, sizeof(what), "the handler sees interface %s, %d (%d)",
           argv[2], want_if, seen_ifindex);
  check(want_if > 0 && seen_ifindex == want_if, what);
  coap_free_context(ctx);

  ctx = server_on(v6 ? "::" : "0.0.0.0", &port);
  check(ctx != NULL, "a server binds the wildcard address");
  if (!ctx)
    return 1;
  snprintf(what, sizeof(what), "the wildcard server answers %s from it", addr);
  check(ask(ctx, addr, port, src) && strcmp(src, addr) == 0, what);
  coap_free_context(ctx);
  coap_cleanup();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
