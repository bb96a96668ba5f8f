/*
 * test_address.c -- coap_address_t equality, ports, classification,
 * Unix-domain paths, hashing and numeric/loopback resolution (no network).
 */
#include <arpa/inet.h>
#include <netdb.h>

#include "address.h"
#include "session.h"
#include "coap3/coap.h"
#include "test.h"

static coap_address_t ip(const char *text, uint16_t port) {
  coap_address_t a;
  coap_address_init(&a);
  if (inet_pton(AF_INET, text, &a.addr.sin.sin_addr) == 1) {
    a.addr.sa.sa_family = AF_INET;
    a.size = sizeof(struct sockaddr_in);
  } else {
    inet_pton(AF_INET6, text, &a.addr.sin6.sin6_addr);
    a.addr.sa.sa_family = AF_INET6;
    a.size = sizeof(struct sockaddr_in6);
  }
  coap_address_set_port(&a, port);
  return a;
}

TEST(init_sets_room_and_unspec) {
  coap_address_t a;
  memset(&a, 0x5a, sizeof(a));
  coap_address_init(&a);
  CHECK_INT_EQ(a.size, sizeof(a.addr));
  CHECK_INT_EQ(a.addr.sa.sa_family, AF_UNSPEC);
  CHECK_INT_EQ(coap_address_get_port(&a), 0);
}

TEST(ports_round_trip_in_host_order) {
  coap_address_t a = ip("192.0.2.1", 5683), b = ip("2001:db8::2", 65535);
  CHECK_INT_EQ(coap_address_get_port(&a), 5683);
  CHECK_INT_EQ(ntohs(a.addr.sin.sin_port), 5683);
  CHECK_INT_EQ(coap_address_get_port(&b), 65535);
  coap_address_set_port(&b, 1);
  CHECK_INT_EQ(ntohs(b.addr.sin6.sin6_port), 1);
}

TEST(equality_ipv4) {
  coap_address_t a = ip("192.0.2.1", 5683), b = ip("192.0.2.1", 5683);
  CHECK(coap_address_equals(&a, &b));
  b.size = sizeof(b.addr); /* built by hand vs from recvfrom: still equal */
  CHECK(coap_address_equals(&a, &b));
  b = ip("192.0.2.1", 5684);
  CHECK(!coap_address_equals(&a, &b));
  b = ip("192.0.2.2", 5683);
  CHECK(!coap_address_equals(&a, &b));
}

TEST(equality_ipv6_and_scope) {
  coap_address_t a = ip("fe80::1", 5683), b = ip("fe80::1", 5683);
  CHECK(coap_address_equals(&a, &b));
  b.addr.sin6.sin6_scope_id = 2;
  CHECK(!coap_address_equals(&a, &b));
  b = ip("fe80::2", 5683);
  CHECK(!coap_address_equals(&a, &b));
}

TEST(equality_across_families) {
  coap_address_t v4 = ip("127.0.0.1", 5683);
  coap_address_t mapped = ip("::ffff:127.0.0.1", 5683);
  coap_address_t unspec;
  coap_address_init(&unspec);
  CHECK(!coap_address_equals(&v4, &mapped));
  CHECK(!coap_address_equals(&mapped, &v4));
  CHECK(!coap_address_equals(&unspec, &unspec));
}

TEST(copy_is_equal_and_clean) {
  coap_address_t a = ip("2001:db8::7", 7), b;
  memset(&b, 0x77, sizeof(b));
  coap_address_copy(&b, &a);
  CHECK(coap_address_equals(&a, &b));
  CHECK_INT_EQ(b.size, a.size);
  CHECK_MEM_EQ(&a, sizeof(a), &b, sizeof(b));
}

TEST(isany) {
  coap_address_t a = ip("0.0.0.0", 1), b = ip("::", 1), c = ip("10.0.0.1", 1);
  CHECK(coap_address_isany(&a));
  CHECK(coap_address_isany(&b));
  CHECK(!coap_address_isany(&c));
}

TEST(multicast_detection) {
  coap_address_t a;
  a = ip("224.0.1.187", 5683);
  CHECK(coap_is_mcast(&a));
  a = ip("239.255.255.255", 5683);
  CHECK(coap_is_mcast(&a));
  a = ip("223.255.255.255", 5683);
  CHECK(!coap_is_mcast(&a));
  a = ip("ff02::fd", 5683);
  CHECK(coap_is_mcast(&a));
  a = ip("fe80::fd", 5683);
  CHECK(!coap_is_mcast(&a));
  a = ip("::ffff:224.0.1.187", 5683);
  CHECK(coap_is_mcast(&a));
  CHECK(!coap_is_mcast(NULL));
}

TEST(broadcast_detection) {
  coap_address_t a;
  a = ip("255.255.255.255", 5683);
  CHECK(coap_is_bcast(&a));
  a = ip("::ffff:255.255.255.255", 5683);
  CHECK(coap_is_bcast(&a));
  a = ip("127.0.0.1", 5683);
  CHECK(!coap_is_bcast(&a));
  a = ip("ff02::1", 5683);
  CHECK(!coap_is_bcast(&a));
  CHECK(!coap_is_bcast(NULL));
}

TEST(unix_domain_paths) {
  coap_address_t a, b;
  const char *enc = "%2Ftmp%2fcoap.sock";
  CHECK(coap_address_set_unix_domain(&a, (const uint8_t *)enc, strlen(enc)));
  CHECK(coap_is_af_unix(&a));
  CHECK_STR_EQ(a.addr.cun.sun_path, "/tmp/coap.sock");
  CHECK(
      coap_address_set_unix_domain(&b, (const uint8_t *)"/tmp/coap.sock", 14));
  CHECK(coap_address_equals(&a, &b));
  CHECK_INT_EQ(pt_address_hash(&a), pt_address_hash(&b));
  CHECK_INT_EQ(coap_address_get_port(&a), 0);
  CHECK(!coap_is_af_unix(NULL));
}

TEST(unix_domain_malformed_too_long) {
  coap_address_t a;
  char path[COAP_UNIX_PATH_MAX + 1];
  memset(path, 'p', sizeof(path));
  CHECK(!coap_address_set_unix_domain(&a, (uint8_t *)path, COAP_UNIX_PATH_MAX));
  CHECK(coap_address_set_unix_domain(&a, (uint8_t *)path,
                                     COAP_UNIX_PATH_MAX - 1));
}

TEST(unix_domain_malformed_nul_and_null) {
  coap_address_t a;
  CHECK(!coap_address_set_unix_domain(&a, (const uint8_t *)"/a\0b", 4));
  CHECK(!coap_address_set_unix_domain(&a, NULL, 3));
  /* A lone or cut "%2" is kept literally, not decoded. */
  CHECK(coap_address_set_unix_domain(&a, (const uint8_t *)"/x%2", 4));
  CHECK_STR_EQ(a.addr.cun.sun_path, "/x%2");
}

TEST(hash_consistent_and_spread) {
  coap_address_t a = ip("192.0.2.1", 5683), b = ip("192.0.2.1", 5683);
  b.size = sizeof(b.addr);
  CHECK_INT_EQ(pt_address_hash(&a), pt_address_hash(&b));
  /* 1024 neighbouring ports into 64 buckets: none empty, none crowded. */
  int buckets[64] = {0};
  for (int p = 0; p < 1024; p++) {
    coap_address_set_port(&a, (uint16_t)(40000 + p));
    buckets[pt_address_hash(&a) & 63]++;
  }
  for (int i = 0; i < 64; i++)
    CHECK(buckets[i] > 2 && buckets[i] < 40);
  coap_address_t c = ip("2001:db8::1", 5683), d = ip("2001:db8::2", 5683);
  CHECK(pt_address_hash(&c) != pt_address_hash(&d));
}

/* pt_address_same(), the inline comparison of the per-datagram lookups,
 * gives coap_address_equals()'s answer for every pair: each field that
 * counts, each that does not (size, sin6_flowinfo), across families. */
TEST(inline_equality_agrees_with_coap_address_equals) {
  coap_address_t v[12];
  v[0] = ip("192.0.2.1", 5683);
  v[1] = ip("192.0.2.1", 5683);
  v[1].size = sizeof(v[1].addr);
  v[2] = ip("192.0.2.1", 5684);
  v[3] = ip("192.0.2.2", 5683);
  v[4] = ip("::ffff:192.0.2.1", 5683);
  v[5] = ip("fe80::1", 5683);
  v[6] = ip("fe80::1", 5683);
  v[6].addr.sin6.sin6_scope_id = 2;
  v[7] = ip("fe80::1", 5683);
  v[7].addr.sin6.sin6_flowinfo = 9;
  v[8] = ip("fe80::1:0:0:1", 5683); /* differs in the second half only */
  v[9] = ip("fe81::1", 5683);       /* in the first half only */
  v[10] = ip("fe80::1", 5684);
  CHECK(coap_address_set_unix_domain(&v[11], (const uint8_t *)"/tmp/s", 6));
  for (int i = 0; i < 12; i++)
    for (int j = 0; j < 12; j++) {
      int want = coap_address_equals(&v[i], &v[j]);
      if (pt_address_same(&v[i], &v[j]) != want) {
        printf("  addresses %d and %d: inline %d, coap_address_equals %d\n",
               i, j, !want, want);
        CHECK_INT_EQ(pt_address_same(&v[i], &v[j]), want);
      }
    }
  CHECK(pt_address_same(&v[0], &v[1]));
  CHECK(pt_address_same(&v[5], &v[7]));
  CHECK(!pt_address_same(&v[5], &v[6]));
  CHECK(!pt_address_same(&v[5], &v[8]));
  CHECK(!pt_address_same(&v[5], &v[9]));
}

/* The session table's key hash: equal peers hash alike (size does not
 * count), and neighbouring ports or addresses of IPv4 peers, and two
 * endpoints, spread over the buckets (low and high bits both). */
TEST(session_hash_consistent_and_spread) {
  coap_endpoint_t *ep1 = (coap_endpoint_t *)(uintptr_t)0x7f0012345600u;
  coap_endpoint_t *ep2 = (coap_endpoint_t *)(uintptr_t)0x7f0012345a00u;
  coap_address_t a = ip("192.0.2.1", 5683), b = ip("192.0.2.1", 5683);
  b.size = sizeof(b.addr);
  CHECK_INT_EQ(pt_session_hash(ep1, &a), pt_session_hash(ep1, &b));
  CHECK(pt_session_hash(ep1, &a) != pt_session_hash(ep2, &a));
  int lo[64] = {0}, hi[64] = {0}, alo[64] = {0};
  for (int p = 0; p < 1024; p++) {
    coap_address_set_port(&a, (uint16_t)(40000 + p));
    uint32_t h = pt_session_hash(ep1, &a);
    lo[h & 63]++;
    hi[h >> 26]++;
    b = ip("10.0.0.0", 5683);
    b.addr.sin.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)p);
    alo[pt_session_hash(ep1, &b) & 63]++;
  }
  for (int i = 0; i < 64; i++) {
    CHECK(lo[i] > 2 && lo[i] < 40);
    CHECK(hi[i] > 2 && hi[i] < 40);
    CHECK(alo[i] > 2 && alo[i] < 40);
  }
  coap_address_t c = ip("2001:db8::1", 5683), d = ip("2001:db8::1", 5683);
  d.size = sizeof(d.addr);
  CHECK_INT_EQ(pt_session_hash(ep1, &c), pt_session_hash(ep1, &d));
}

/* ---- resolution (numeric and loopback only: no network here) ---------- */

static coap_str_const_t str(const char *s) {
  coap_str_const_t c = {strlen(s), (const uint8_t *)s};
  return c;
}

static int count(const coap_addr_info_t *l) {
  int n = 0;
  for (; l; l = l->next)
    n++;
  return n;
}

TEST(resolve_ipv4_numeric) {
  coap_str_const_t host = str("127.0.0.1");
  coap_addr_info_t *l = coap_resolve_address_info(
      &host, 0, 0, 0, 0, AI_NUMERICHOST, COAP_URI_SCHEME_COAP_BIT,
      COAP_RESOLVE_TYPE_REMOTE);
  CHECK_NOT_NULL(l);
  CHECK_INT_EQ(count(l), 1);
  CHECK_INT_EQ(l->scheme, COAP_URI_SCHEME_COAP);
  CHECK_INT_EQ(l->proto, COAP_PROTO_UDP);
  coap_address_t want = ip("127.0.0.1", 5683); /* 0 means the default */
  CHECK(coap_address_equals(&l->addr, &want));
  CHECK_INT_EQ(l->addr.size, sizeof(struct sockaddr_in));
  coap_free_address_info(l);
}

TEST(resolve_ipv6_numeric_with_port) {
  coap_str_const_t host = str("::1");
  coap_addr_info_t *l = coap_resolve_address_info(
      &host, 6000, 0, 0, 0, AI_NUMERICHOST, COAP_URI_SCHEME_COAP_BIT,
      COAP_RESOLVE_TYPE_REMOTE);
  CHECK_NOT_NULL(l);
  CHECK_INT_EQ(count(l), 1);
  coap_address_t want = ip("::1", 6000);
  CHECK(coap_address_equals(&l->addr, &want));
  coap_free_address_info(l);
  host = str("[::1]");
  l = coap_resolve_address_info(&host, 6000, 0, 0, 0, AI_NUMERICHOST,
                                COAP_URI_SCHEME_COAP_BIT,
                                COAP_RESOLVE_TYPE_REMOTE);
  CHECK_NOT_NULL(l);
  CHECK(coap_address_equals(&l->addr, &want));
  coap_free_address_info(l);
}

TEST(resolve_localhost_gives_loopback) {
  coap_str_const_t host = str("localhost");
  coap_addr_info_t *l = coap_resolve_address_info(&host, 0, 0, 0, 0, 0,
                                                  COAP_URI_SCHEME_ALL_COAP_BITS,
                                                  COAP_RESOLVE_TYPE_REMOTE);
  CHECK_NOT_NULL(l);
  for (coap_addr_info_t *e = l; e; e = e->next) {
    /* only UDP, TCP, WebSockets (and DTLS, TLS and secure WebSockets,
     * when built) */
    CHECK(e->scheme == COAP_URI_SCHEME_COAP ||
          e->scheme == COAP_URI_SCHEME_COAP_TCP ||
          e->scheme == COAP_URI_SCHEME_COAP_WS ||
          (e->scheme == COAP_URI_SCHEME_COAPS && coap_dtls_is_supported()) ||
          (e->scheme == COAP_URI_SCHEME_COAPS_TCP && coap_tls_is_supported()) ||
          (e->scheme == COAP_URI_SCHEME_COAPS_WS && coap_wss_is_supported()));
    char text[INET6_ADDRSTRLEN];
    coap_print_ip_addr(&e->addr, text, sizeof(text));
    CHECK(strcmp(text, "127.0.0.1") == 0 || strcmp(text, "::1") == 0);
  }
  coap_free_address_info(l);
}

TEST(resolve_local_wildcard) {
  coap_addr_info_t *l = coap_resolve_address_info(NULL, 5683, 0, 0, 0, 0,
                                                  COAP_URI_SCHEME_COAP_BIT,
                                                  COAP_RESOLVE_TYPE_LOCAL);
  CHECK_NOT_NULL(l);
  for (coap_addr_info_t *e = l; e; e = e->next)
    CHECK(coap_address_isany(&e->addr));
  coap_free_address_info(l);
}

TEST(resolve_unix_path) {
  coap_str_const_t host = str("%2Ftmp%2Fsrv");
  coap_addr_info_t *l = coap_resolve_address_info(
      &host, 0, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT, COAP_RESOLVE_TYPE_LOCAL);
  CHECK_NOT_NULL(l);
  CHECK(coap_is_af_unix(&l->addr));
  CHECK_STR_EQ(l->addr.addr.cun.sun_path, "/tmp/srv");
  coap_free_address_info(l);
}

TEST(resolve_malformed_names) {
  coap_str_const_t bad = str("not an address");
  CHECK_NULL(coap_resolve_address_info(&bad, 0, 0, 0, 0, AI_NUMERICHOST,
                                       COAP_URI_SCHEME_COAP_BIT,
                                       COAP_RESOLVE_TYPE_REMOTE));
  coap_str_const_t nul = {5, (const uint8_t *)"1.2\0x"};
  CHECK_NULL(coap_resolve_address_info(&nul, 0, 0, 0, 0, AI_NUMERICHOST,
                                       COAP_URI_SCHEME_COAP_BIT,
                                       COAP_RESOLVE_TYPE_REMOTE));
  coap_str_const_t brackets = str("[]");
  CHECK_NULL(coap_resolve_address_info(&brackets, 0, 0, 0, 0, AI_NUMERICHOST,
                                       COAP_URI_SCHEME_COAP_BIT,
                                       COAP_RESOLVE_TYPE_REMOTE));
}

TEST(resolve_unsupported_scheme_only) {
  coap_str_const_t host = str("127.0.0.1");
  /* http and https are no CoAP transport: nothing to resolve for. */
  CHECK_NULL(coap_resolve_address_info(&host, 0, 0, 0, 0, AI_NUMERICHOST,
                                       COAP_URI_SCHEME_HTTP_BIT |
                                           COAP_URI_SCHEME_HTTPS_BIT,
                                       COAP_RESOLVE_TYPE_REMOTE));
  coap_free_address_info(NULL);
}

/* coaps+ws resolves where TLS is built (COAP_PROTO_WSS, port 443 unless
 * the secure WebSocket port is given), and nowhere else. */
TEST(resolve_coaps_ws_where_tls_is_built) {
  coap_str_const_t host = str("127.0.0.1");
  coap_addr_info_t *info = coap_resolve_address_info(
      &host, 0, 0, 0, 0, AI_NUMERICHOST, COAP_URI_SCHEME_COAPS_WS_BIT,
      COAP_RESOLVE_TYPE_REMOTE);
  CHECK_INT_EQ(info != NULL, coap_wss_is_supported());
  if (info) {
    CHECK_INT_EQ(info->proto, COAP_PROTO_WSS);
    CHECK_INT_EQ(info->scheme, COAP_URI_SCHEME_COAPS_WS);
    CHECK_UINT_EQ(coap_address_get_port(&info->addr), 443);
    CHECK_NULL(info->next);
  }
  coap_free_address_info(info);
  info = coap_resolve_address_info(&host, 0, 0, 0, 8443, AI_NUMERICHOST,
                                   COAP_URI_SCHEME_COAPS_WS_BIT,
                                   COAP_RESOLVE_TYPE_REMOTE);
  if (info)
    CHECK_UINT_EQ(coap_address_get_port(&info->addr), 8443);
  coap_free_address_info(info);
}

TEST(scheme_hint_bits) {
  uint32_t plain = COAP_URI_SCHEME_COAP_BIT | COAP_URI_SCHEME_COAP_TCP_BIT;
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(0, 0, COAP_PROTO_NONE),
                plain);
  /* coaps, coaps+tcp and coaps+ws when the build has DTLS and TLS and
   * credentials are said to be there; coap+tcp; coap+ws and coaps+ws when
   * WebSockets are asked for. */
  uint32_t coaps = coap_dtls_is_supported() ? COAP_URI_SCHEME_COAPS_BIT : 0;
  uint32_t tls = coap_tls_is_supported() ? COAP_URI_SCHEME_COAPS_TCP_BIT : 0;
  uint32_t wss = coap_wss_is_supported() ? COAP_URI_SCHEME_COAPS_WS_BIT : 0;
  CHECK_UINT_EQ(wss != 0, tls != 0);
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(1, 1, COAP_PROTO_NONE),
                plain | coaps | tls | COAP_URI_SCHEME_COAP_WS_BIT | wss);
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(0, 1, COAP_PROTO_NONE),
                plain | COAP_URI_SCHEME_COAP_WS_BIT);
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(1, 0, COAP_PROTO_NONE),
                plain | coaps | tls);
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(0, 0, COAP_PROTO_WSS), wss);
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(0, 0, COAP_PROTO_TCP),
                COAP_URI_SCHEME_COAP_TCP_BIT);
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(0, 0, COAP_PROTO_UDP),
                COAP_URI_SCHEME_COAP_BIT);
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(0, 0, COAP_PROTO_DTLS),
                coaps);
  CHECK_UINT_EQ(coap_get_available_scheme_hint_bits(0, 0, COAP_PROTO_TLS), tls);
}

int main(void) {
  RUN(init_sets_room_and_unspec);
  RUN(ports_round_trip_in_host_order);
  RUN(equality_ipv4);
  RUN(equality_ipv6_and_scope);
  RUN(equality_across_families);
  RUN(copy_is_equal_and_clean);
  RUN(isany);
  RUN(multicast_detection);
  RUN(broadcast_detection);
  RUN(unix_domain_paths);
  RUN(unix_domain_malformed_too_long);
  RUN(unix_domain_malformed_nul_and_null);
  RUN(hash_consistent_and_spread);
  RUN(inline_equality_agrees_with_coap_address_equals);
  RUN(session_hash_consistent_and_spread);
  RUN(resolve_ipv4_numeric);
  RUN(resolve_ipv6_numeric_with_port);
  RUN(resolve_localhost_gives_loopback);
  RUN(resolve_local_wildcard);
  RUN(resolve_unix_path);
  RUN(resolve_malformed_names);
  RUN(resolve_unsupported_scheme_only);
  RUN(resolve_coaps_ws_where_tls_is_built);
  RUN(scheme_hint_bits);
  return TEST_SUMMARY();
}
