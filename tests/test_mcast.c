/*
 * test_mcast.c -- multicast (RFC 7252 section 8).
 *
 * Serving requests sent to a group, on the sans-I/O core with the fake
 * clock: which requests are taken, which answers are suppressed (the
 * library's defaults, coap_mcast_per_resource() and each resource's
 * COAP_RESOURCE_FLAGS_*MCAST* flags, No-Response), the leisure delay as a
 * timer, and a client session to a group taking several members' answers.
 * Then joining groups on real loopback sockets, the multicast hop limit,
 * and argument errors. Joins need a kernel that lets the loopback
 * interface take groups; where it does not, those tests say so and pass
 * (the others always run). tests/netns/mcast_group.sh runs the real thing
 * inside a network namespace.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

#include "core_harness.h"
#include "dedup.h"
#include "multicast.h"

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

/* ==== serving requests sent to a group (sans-I/O) ======================== */

static coap_address_t sent_local[H_MAX_SENT];
static int handler_calls;
static const coap_address_t *handler_local;

/* Records the session's local address at each send: the source the
 * platform is asked for. */
static ssize_t rec_send(coap_session_t *s, const uint8_t *data, size_t len) {
  if (h_nsent < H_MAX_SENT)
    sent_local[h_nsent] = s->local;
  return h_send(s, data, len);
}

static void answer(coap_pdu_t *resp, coap_pdu_code_t code, const char *body) {
  handler_calls++;
  coap_pdu_set_code(resp, code);
  if (body)
    coap_add_data(resp, strlen(body), (const uint8_t *)body);
}

#define HANDLER(name, code, body)                                              \
  static void name(coap_resource_t *r, coap_session_t *s,                      \
                   const coap_pdu_t *req, const coap_string_t *q,              \
                   coap_pdu_t *resp) {                                         \
    (void)r, (void)req, (void)q;                                               \
    handler_local = coap_session_get_addr_local(s);                            \
    answer(resp, code, body);                                                  \
  }

HANDLER(hnd_hello, COAP_RESPONSE_CODE_CONTENT, "hello")
HANDLER(hnd_empty, COAP_RESPONSE_CODE_CONTENT, NULL)
HANDLER(hnd_changed, COAP_RESPONSE_CODE_CHANGED, NULL)
HANDLER(hnd_bad, COAP_RESPONSE_CODE_BAD_REQUEST, "bad")
HANDLER(hnd_fail, COAP_RESPONSE_CODE_INTERNAL_ERROR, "fail")

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid);
static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid);

static void add(coap_context_t *ctx, const char *path, int flags,
                coap_method_handler_t h) {
  coap_resource_t *r = coap_resource_init(
      coap_new_str_const((const uint8_t *)path, strlen(path)),
      flags | COAP_RESOURCE_FLAGS_RELEASE_URI);
  coap_register_handler(r, COAP_REQUEST_GET, h);
  coap_add_resource(ctx, r);
}

/* A server on the fake endpoint with /hello, /empty, /changed, /bad and
 * /fail, each with resource flags @flags. */
static coap_context_t *mserver(int flags) {
  coap_context_t *ctx = h_context();
  ctx->send = rec_send;
  handler_calls = 0;
  add(ctx, "hello", flags, hnd_hello);
  add(ctx, "empty", flags, hnd_empty);
  add(ctx, "changed", flags, hnd_changed);
  add(ctx, "bad", flags, hnd_bad);
  add(ctx, "fail", flags, hnd_fail);
  return ctx;
}

static const coap_address_t *group_v4(void) {
  static coap_address_t g;
  g = addr(AF_INET, "224.0.1.187", 5683);
  return &g;
}

/* The server session of peer 127.0.0.1:@port, its datagram now being one
 * sent to the group (as the event loop records it). */
static coap_session_t *from_group(uint16_t port) {
  coap_address_t peer = h_peer(port);
  coap_session_t *s = pt_session_for_peer(&h_ep, &peer, group_v4(), 1, h_now);
  if (s) {
    s->local = *group_v4();
    s->ifindex = 1;
  }
  return s;
}

/* The same session, its datagram now being a unicast one. */
static coap_session_t *unicast(coap_session_t *s) {
  s->local = addr(AF_INET, "127.0.0.1", 5683);
  return s;
}

static void feed_get(coap_session_t *s, coap_pdu_type_t type, uint8_t tok,
                     const char *path) {
  h_feed(s, h_request(type, COAP_REQUEST_CODE_GET, (coap_mid_t)(0x1000 + tok),
                      tok, path));
}

/* Advances the fake clock in 10 ms steps for @ms; returns the ms elapsed
 * when datagram number @n (1-based) was first sent, or -1. */
static int run_until_sent(coap_context_t *ctx, int n, int ms) {
  for (int t = 0; t <= ms; t += 10) {
    if (h_nsent >= n)
      return t;
    h_advance(ctx, COAP_TICKS_PER_SECOND / 100);
  }
  return h_nsent >= n ? ms : -1;
}

TEST(group_answer_waits_a_random_time_within_leisure) {
  coap_context_t *ctx = mserver(0);
  coap_session_t *s = from_group(40000);
  feed_get(s, COAP_MESSAGE_NON, 1, "hello");
  CHECK_INT_EQ(handler_calls, 1);
  CHECK_INT_EQ(h_nsent, 0); /* not at once (RFC 7252 8.2) */
  /* A timer in the context's heap, within DEFAULT_LEISURE (5 s). */
  CHECK(pt_timers_next(ctx) != 0);
  CHECK(pt_timers_next(ctx) < h_now + 5 * COAP_TICKS_PER_SECOND);
  int at = run_until_sent(ctx, 1, 5000);
  CHECK(at >= 0 && at < 5000);
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *r = h_parse(0);
  CHECK(r != NULL);
  CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_NON);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CONTENT);
  coap_bin_const_t tok = coap_pdu_get_token(r);
  CHECK_INT_EQ(tok.length, 1);
  CHECK_INT_EQ(tok.s[0], 1);
  coap_delete_pdu(r);
  /* Sent with the group as the session's local address: the platform then
   * lets the kernel pick a unicast source on the arrival interface. */
  CHECK(coap_address_equals(&sent_local[0], group_v4()));
  CHECK(coap_is_mcast(handler_local));
  run_until_sent(ctx, 2, 6000);
  CHECK_INT_EQ(h_nsent, 1); /* once */
  h_free(ctx);
}

TEST(group_answer_delays_are_spread_over_the_leisure) {
  coap_context_t *ctx = mserver(0);
  coap_tick_t start = h_now, lo = (coap_tick_t)-1, hi = 0;
  for (int i = 0; i < 40; i++) {
    coap_session_t *s = from_group((uint16_t)(41000 + i));
    feed_get(s, COAP_MESSAGE_NON, (uint8_t)i, "hello");
  }
  CHECK_INT_EQ(h_nsent, 0);
  for (int i = 0; i < 600 && h_nsent < 40; i++) {
    int before = h_nsent;
    h_advance(ctx, COAP_TICKS_PER_SECOND / 100);
    if (h_nsent > before) {
      lo = lo < h_now - start ? lo : h_now - start;
      hi = h_now - start;
    }
  }
  CHECK_INT_EQ(h_nsent, 40);
  CHECK(hi <= 5 * COAP_TICKS_PER_SECOND);
  /* 40 uniform draws over 5 s: spread well over a second. */
  CHECK(hi - lo > COAP_TICKS_PER_SECOND);
  h_free(ctx);
}

TEST(group_leisure_follows_the_session_setting) {
  coap_context_t *ctx = mserver(0);
  for (int i = 0; i < 20; i++) {
    coap_session_t *s = from_group((uint16_t)(42000 + i));
    coap_session_set_default_leisure(s, (coap_fixed_point_t){0, 300});
    feed_get(s, COAP_MESSAGE_NON, (uint8_t)i, "hello");
  }
  CHECK(pt_timers_next(ctx) < h_now + COAP_TICKS_PER_SECOND * 3 / 10);
  h_advance(ctx, COAP_TICKS_PER_SECOND * 3 / 10);
  CHECK_INT_EQ(h_nsent, 20);
  h_free(ctx);
}

TEST(group_errors_are_not_answered_by_default) {
  coap_context_t *ctx = mserver(0);
  coap_session_t *s = from_group(40001);
  feed_get(s, COAP_MESSAGE_NON, 1, "missing"); /* 4.04 */
  feed_get(s, COAP_MESSAGE_NON, 2, "bad");     /* 4.00 from a handler */
  feed_get(s, COAP_MESSAGE_NON, 3, "fail");    /* 5.00 from a handler */
  h_feed(s, h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_DELETE, 0x2004, 4,
                      "hello")); /* 4.05 */
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 0x2005, 5, "hello");
  coap_add_option(p, 2049, 0, NULL); /* unknown critical: 4.02 */
  h_feed(s, p);
  CHECK_INT_EQ(handler_calls, 2);
  h_advance(ctx, 10 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 0);
  /* Success answers still go, an empty 2.05 and a 2.04 included. */
  feed_get(s, COAP_MESSAGE_NON, 6, "empty");
  feed_get(s, COAP_MESSAGE_NON, 7, "changed");
  h_advance(ctx, 5 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

/* RFC 7252 8.1: a multicast request MUST be NON; nothing else sent to a
 * group is answered, not even with an RST. */
TEST(group_takes_only_non_requests) {
  coap_context_t *ctx = mserver(0);
  coap_session_t *s = from_group(40002);
  feed_get(s, COAP_MESSAGE_CON, 1, "hello");
  const uint8_t ping[] = {0x40, 0x00, 0x12, 0x34};
  const uint8_t rst[] = {0x70, 0x00, 0x12, 0x35};
  const uint8_t ack[] = {0x60, 0x45, 0x12, 0x36};
  const uint8_t bad_con[] = {0x48, 0x01, 0x12, 0x37, 1}; /* token too short */
  const uint8_t bad_non[] = {0x58, 0x01, 0x12, 0x38, 1};
  const uint8_t non_resp[] = {0x51, 0x45, 0x12, 0x39, 7};
  const uint8_t non_empty[] = {0x50, 0x00, 0x12, 0x3a};
  const uint8_t short_hdr[] = {0x50, 0x01};
  h_feed_raw(s, ping, sizeof(ping));
  h_feed_raw(s, rst, sizeof(rst));
  h_feed_raw(s, ack, sizeof(ack));
  h_feed_raw(s, bad_con, sizeof(bad_con));
  h_feed_raw(s, bad_non, sizeof(bad_non));
  h_feed_raw(s, non_resp, sizeof(non_resp));
  h_feed_raw(s, non_empty, sizeof(non_empty));
  h_feed_raw(s, short_hdr, sizeof(short_hdr));
  h_advance(ctx, 10 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(handler_calls, 0);
  CHECK_INT_EQ(h_nsent, 0);
  /* The same peer's unicast CON is answered at once, piggybacked. */
  feed_get(unicast(s), COAP_MESSAGE_CON, 9, "hello");
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *r = h_parse(0);
  CHECK(r != NULL);
  CHECK_INT_EQ(coap_pdu_get_type(r), COAP_MESSAGE_ACK);
  coap_delete_pdu(r);
  h_free(ctx);
}

/* The delayed answer leaves from the group's interface even when the
 * session's later datagrams were unicast ones. */
TEST(group_answer_keeps_its_own_source) {
  coap_context_t *ctx = mserver(0);
  coap_session_t *s = from_group(40003);
  coap_session_set_default_leisure(s, (coap_fixed_point_t){1, 0});
  feed_get(s, COAP_MESSAGE_NON, 1, "hello");
  feed_get(unicast(s), COAP_MESSAGE_NON, 2, "hello");
  CHECK_INT_EQ(h_nsent, 1); /* the unicast one, at once */
  coap_address_t uni = addr(AF_INET, "127.0.0.1", 5683);
  CHECK(coap_address_equals(&sent_local[0], &uni));
  h_advance(ctx, COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK(coap_address_equals(&sent_local[1], group_v4()));
  CHECK(coap_address_equals(&s->local, &uni)); /* put back */
  h_free(ctx);
}

TEST(per_resource_without_support_ignores_group_requests) {
  coap_context_t *ctx = mserver(0);
  coap_mcast_per_resource(ctx);
  coap_session_t *s = from_group(40004);
  feed_get(s, COAP_MESSAGE_NON, 1, "hello");
  h_advance(ctx, 10 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(handler_calls, 0);
  CHECK_INT_EQ(h_nsent, 0);
  /* Unicast requests to the same resource are served as ever. */
  feed_get(unicast(s), COAP_MESSAGE_NON, 2, "hello");
  CHECK_INT_EQ(handler_calls, 1);
  CHECK_INT_EQ(h_nsent, 1);
  h_free(ctx);
}

TEST(per_resource_support_keeps_the_defaults) {
  coap_context_t *ctx = mserver(COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT);
  coap_mcast_per_resource(ctx);
  coap_session_t *s = from_group(40005);
  feed_get(s, COAP_MESSAGE_NON, 1, "hello");
  feed_get(s, COAP_MESSAGE_NON, 2, "bad");
  feed_get(s, COAP_MESSAGE_NON, 3, "fail");
  CHECK_INT_EQ(handler_calls, 3);
  CHECK_INT_EQ(h_nsent, 0);
  h_advance(ctx, 5 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1); /* only the 2.05 */
  h_free(ctx);
}

TEST(per_resource_no_delay_answers_at_once) {
  coap_context_t *ctx = mserver(COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
                                COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS);
  coap_mcast_per_resource(ctx);
  feed_get(from_group(40006), COAP_MESSAGE_NON, 1, "hello");
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(pt_timers_next(ctx) > h_now + 5 * COAP_TICKS_PER_SECOND ||
                   pt_timers_next(ctx) == 0,
               1); /* no delayed send armed (only the idle timer) */
  h_free(ctx);
}

TEST(per_resource_suppress_2_05_drops_only_empty_content) {
  coap_context_t *ctx =
      mserver(COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
              COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS |
              COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_05);
  coap_mcast_per_resource(ctx);
  coap_session_t *s = from_group(40007);
  feed_get(s, COAP_MESSAGE_NON, 1, "empty");
  CHECK_INT_EQ(h_nsent, 0);
  feed_get(s, COAP_MESSAGE_NON, 2, "hello");
  CHECK_INT_EQ(h_nsent, 1);
  feed_get(s, COAP_MESSAGE_NON, 3, "changed"); /* empty, but not a 2.05 */
  CHECK_INT_EQ(h_nsent, 2);
  h_free(ctx);
}

TEST(per_resource_suppress_2_xx_drops_every_success) {
  coap_context_t *ctx =
      mserver(COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
              COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS |
              COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_XX);
  coap_mcast_per_resource(ctx);
  coap_session_t *s = from_group(40008);
  feed_get(s, COAP_MESSAGE_NON, 1, "hello");
  feed_get(s, COAP_MESSAGE_NON, 2, "changed");
  feed_get(s, COAP_MESSAGE_NON, 3, "empty");
  CHECK_INT_EQ(handler_calls, 3);
  CHECK_INT_EQ(h_nsent, 0);
  h_free(ctx);
}

TEST(per_resource_errors_sent_when_enabled) {
  coap_context_t *ctx =
      mserver(COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
              COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS |
              COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_SUPPRESS_4_XX);
  coap_mcast_per_resource(ctx);
  coap_session_t *s = from_group(40009);
  feed_get(s, COAP_MESSAGE_NON, 1, "bad");
  CHECK_INT_EQ(h_nsent, 1);
  feed_get(s, COAP_MESSAGE_NON, 2, "fail"); /* 5.xx still suppressed */
  CHECK_INT_EQ(h_nsent, 1);
  h_free(ctx);
  ctx = mserver(COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
                COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS |
                COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_SUPPRESS_5_XX);
  coap_mcast_per_resource(ctx);
  s = from_group(40010);
  feed_get(s, COAP_MESSAGE_NON, 1, "bad");
  CHECK_INT_EQ(h_nsent, 0);
  feed_get(s, COAP_MESSAGE_NON, 2, "fail");
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *r = h_parse(0);
  CHECK(r != NULL);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_INTERNAL_ERROR);
  coap_delete_pdu(r);
  h_free(ctx);
}

/* The unknown resource's own flags decide for paths nothing else serves. */
TEST(per_resource_unknown_resource_flags) {
  coap_context_t *ctx = mserver(0);
  coap_mcast_per_resource(ctx);
  coap_resource_t *u = coap_resource_unknown_init2(
      NULL, COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
                COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS);
  coap_register_handler(u, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, u);
  coap_session_t *s = from_group(40011);
  feed_get(s, COAP_MESSAGE_NON, 1, "elsewhere");
  CHECK_INT_EQ(handler_calls, 1);
  CHECK_INT_EQ(h_nsent, 1);
  feed_get(s, COAP_MESSAGE_NON, 2, "hello"); /* registered, no support */
  CHECK_INT_EQ(handler_calls, 1);
  CHECK_INT_EQ(h_nsent, 1);
  h_free(ctx);
}

static void feed_noresp(coap_session_t *s, uint8_t tok, const char *path,
                        int value) {
  coap_pdu_t *p = h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                            (coap_mid_t)(0x3000 + tok), tok, path);
  uint8_t v[1] = {(uint8_t)value};
  coap_add_option(p, COAP_OPTION_NORESPONSE, value ? 1 : 0, v);
  h_feed(s, p);
}

/* RFC 7967: a No-Response option decides instead of the flags. */
TEST(no_response_option_overrides_suppression) {
  coap_context_t *ctx = mserver(0);
  coap_session_t *s = from_group(40012);
  feed_noresp(s, 1, "missing", 0);   /* 0: every answer wanted: 4.04 goes */
  feed_noresp(s, 2, "fail", 2);      /* 2: no 2.xx, so 5.00 goes */
  feed_noresp(s, 3, "hello", 2);     /* no 2.xx */
  feed_noresp(s, 4, "bad", 2 | 16);  /* 4.xx wanted */
  feed_noresp(s, 5, "bad", 8);       /* no 4.xx */
  feed_noresp(s, 6, "fail", 16 | 2); /* no 5.xx */
  h_advance(ctx, 5 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 3);
  int codes[3];
  for (int i = 0; i < 3; i++) {
    coap_pdu_t *r = h_parse(i);
    CHECK(r != NULL);
    codes[i] = coap_pdu_get_code(r);
    coap_delete_pdu(r);
  }
  int nf = 0, ie = 0, br = 0;
  for (int i = 0; i < 3; i++) {
    nf += codes[i] == COAP_RESPONSE_CODE_NOT_FOUND;
    ie += codes[i] == COAP_RESPONSE_CODE_INTERNAL_ERROR;
    br += codes[i] == COAP_RESPONSE_CODE_BAD_REQUEST;
  }
  CHECK_INT_EQ(nf, 1);
  CHECK_INT_EQ(ie, 1);
  CHECK_INT_EQ(br, 1);
  h_free(ctx);
  /* It also overrides a resource's suppression flags. */
  ctx = mserver(COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
                COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS |
                COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_XX);
  coap_mcast_per_resource(ctx);
  feed_noresp(from_group(40013), 1, "hello", 0);
  CHECK_INT_EQ(h_nsent, 1);
  h_free(ctx);
}

static void feed_wellknown(coap_session_t *s, uint8_t tok, const char *query) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                                (coap_mid_t)(0x4000 + tok), 256);
  coap_add_token(p, 1, &tok);
  coap_add_option(p, COAP_OPTION_URI_PATH, 11, (const uint8_t *)".well-known");
  coap_add_option(p, COAP_OPTION_URI_PATH, 4, (const uint8_t *)"core");
  if (query)
    coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(query),
                    (const uint8_t *)query);
  h_feed(s, p);
}

/* .well-known/core always takes group requests; a query filter that
 * matches nothing gets no answer (RFC 7252 8.2, RFC 6690). */
TEST(wellknown_core_from_group) {
  coap_context_t *ctx = mserver(0);
  coap_mcast_per_resource(ctx); /* no resource has support: still served */
  coap_session_t *s = from_group(40014);
  feed_wellknown(s, 1, "href=nothing*");
  h_advance(ctx, 5 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 0);
  feed_wellknown(s, 2, NULL);
  CHECK_INT_EQ(h_nsent, 0); /* delayed */
  h_advance(ctx, 5 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *r = h_parse(0);
  CHECK(r != NULL);
  CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_CONTENT);
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(r, &len, &data) && len > 0);
  coap_delete_pdu(r);
  h_free(ctx);
}

TEST(session_closed_while_answer_delayed) {
  coap_context_t *ctx = mserver(0);
  coap_session_t *s = from_group(40015);
  feed_get(s, COAP_MESSAGE_NON, 1, "hello");
  pt_session_close(s, COAP_NACK_NOT_DELIVERABLE);
  h_advance(ctx, 6 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, 0);
  CHECK_INT_EQ(ctx->mcast_delayed_count, 0);
  /* Freeing the context with answers still delayed frees them (ASan). */
  feed_get(from_group(40016), COAP_MESSAGE_NON, 2, "hello");
  feed_get(from_group(40017), COAP_MESSAGE_NON, 3, "hello");
  CHECK_INT_EQ(ctx->mcast_delayed_count, 2);
  h_free(ctx);
}

TEST(delayed_answers_are_bounded) {
  coap_context_t *ctx = mserver(0);
  for (int i = 0; i < PT_MCAST_MAX_DELAYED + 5; i++)
    feed_get(from_group((uint16_t)(10000 + i)), COAP_MESSAGE_NON, 1, "hello");
  CHECK_INT_EQ(ctx->mcast_delayed_count, PT_MCAST_MAX_DELAYED);
  h_advance(ctx, 5 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(h_nsent, PT_MCAST_MAX_DELAYED);
  CHECK_INT_EQ(ctx->mcast_delayed_count, 0);
  h_free(ctx);
}

/* ==== a client session to a group (sans-I/O) ============================= */

static int responses, nacks, unmatched;
static coap_address_t responder[8];

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)recv, (void)mid;
  if (!sent) { /* matches no request of ours: refuse it (RST) */
    unmatched++;
    return COAP_RESPONSE_FAIL;
  }
  if (responses < 8)
    responder[responses] = *coap_session_get_addr_remote(s);
  responses++;
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)reason, (void)mid;
  nacks++;
}

/* A member's NON 2.05 with @token and @mid, from @from. */
static void member_answers(coap_session_t *s, const char *from, uint8_t token,
                           coap_mid_t mid) {
  s->remote = addr(AF_INET, from, 5683); /* as the event loop sets it */
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_NON, COAP_RESPONSE_CODE_CONTENT, mid, 64);
  coap_add_token(p, 1, &token);
  coap_add_data(p, 2, (const uint8_t *)"hi");
  h_feed(s, p);
}

static coap_mid_t send_get(coap_session_t *s, uint8_t token) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                                coap_new_message_id(s), 64);
  coap_add_token(p, 1, &token);
  return coap_send(s, p);
}

TEST(client_session_to_group_takes_every_answer) {
  coap_context_t *ctx = h_context();
  responses = nacks = unmatched = 0;
  coap_register_response_handler(ctx, on_response);
  coap_register_nack_handler(ctx, on_nack);
  coap_session_t *s =
      coap_new_client_session(ctx, NULL, group_v4(), COAP_PROTO_UDP);
  CHECK(s != NULL);
  CHECK(coap_session_get_addr_mcast(s) != NULL);
  CHECK(coap_address_equals(coap_session_get_addr_mcast(s), group_v4()));
  CHECK(send_get(s, 7) != COAP_INVALID_MID);
  CHECK_INT_EQ(h_nsent, 1);
  /* Two members, the same message ID by chance: both are answers. */
  member_answers(s, "127.0.0.2", 7, 0x0777);
  member_answers(s, "127.0.0.3", 7, 0x0777);
  member_answers(s, "127.0.0.4", 7, 0x0778);
  CHECK_INT_EQ(responses, 3);
  coap_address_t m2 = addr(AF_INET, "127.0.0.2", 5683);
  coap_address_t m3 = addr(AF_INET, "127.0.0.3", 5683);
  CHECK(coap_address_equals(&responder[0], &m2));
  CHECK(coap_address_equals(&responder[1], &m3));
  CHECK_INT_EQ(h_nsent, 1); /* NON answers: nothing sent back */
  /* An answer with a token never sent reaches the handler with sent NULL;
   * refused there, it gets an RST. */
  member_answers(s, "127.0.0.5", 9, 0x0779);
  CHECK_INT_EQ(responses, 3);
  CHECK_INT_EQ(unmatched, 1);
  CHECK_INT_EQ(h_nsent, 2);
  /* The next request goes to the group again. */
  CHECK(send_get(s, 8) != COAP_INVALID_MID);
  CHECK(coap_address_equals(coap_session_get_addr_remote(s), group_v4()));
  CHECK_INT_EQ(h_nsent, 3);
  /* When their lifetimes end: no NACK for the answered request, one for
   * the request no member answered. */
  h_advance(ctx, pt_exchange_lifetime(s) + COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(nacks, 1);
  member_answers(s, "127.0.0.2", 7, 0x0780); /* too late: unmatched */
  CHECK_INT_EQ(responses, 3);
  CHECK_INT_EQ(unmatched, 2);
  coap_session_release(s);
  h_free(ctx);
}

TEST(addr_mcast_is_null_for_other_sessions) {
  coap_context_t *ctx = h_context();
  coap_address_t a = addr(AF_INET, "127.0.0.1", 5683);
  coap_session_t *c = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  CHECK(c != NULL);
  CHECK(coap_session_get_addr_mcast(c) == NULL);
  coap_session_t *s = from_group(40020); /* a server session, via a group */
  CHECK(coap_session_get_addr_mcast(s) == NULL);
  CHECK(coap_is_mcast(coap_session_get_addr_local(s)));
  CHECK_INT_EQ(coap_session_get_ifindex(s), 1);
  CHECK(coap_session_get_addr_mcast(NULL) == NULL);
  coap_session_release(c);
  h_free(ctx);
}

/* ==== joining groups on real sockets ===================================== */

TEST(join_ipv4_all_coap_nodes) {
  if (!kernel_can_join(AF_INET, "224.0.1.187")) {
    TEST_SKIP("this kernel lets no socket join 224.0.1.187 on lo");
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
    TEST_SKIP("this kernel lets no socket join ff02::fd on lo");
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
    coap_free_context(ctx);
    TEST_SKIP("no route to 224.0.1.187 in this sandbox");
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
    coap_free_context(ctx);
    TEST_SKIP("no IPv6 loopback in this sandbox");
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
  RUN(group_answer_waits_a_random_time_within_leisure);
  RUN(group_answer_delays_are_spread_over_the_leisure);
  RUN(group_leisure_follows_the_session_setting);
  RUN(group_errors_are_not_answered_by_default);
  RUN(group_takes_only_non_requests);
  RUN(group_answer_keeps_its_own_source);
  RUN(per_resource_without_support_ignores_group_requests);
  RUN(per_resource_support_keeps_the_defaults);
  RUN(per_resource_no_delay_answers_at_once);
  RUN(per_resource_suppress_2_05_drops_only_empty_content);
  RUN(per_resource_suppress_2_xx_drops_every_success);
  RUN(per_resource_errors_sent_when_enabled);
  RUN(per_resource_unknown_resource_flags);
  RUN(no_response_option_overrides_suppression);
  RUN(wellknown_core_from_group);
  RUN(session_closed_while_answer_delayed);
  RUN(delayed_answers_are_bounded);
  RUN(client_session_to_group_takes_every_answer);
  RUN(addr_mcast_is_null_for_other_sessions);
  RUN(join_ipv4_all_coap_nodes);
  RUN(join_ipv6_all_coap_nodes);
  RUN(join_bad_arguments);
  RUN(hops_on_client_session);
  RUN(hops_ipv6_session);
  RUN(hops_bad_arguments);
  RUN(per_resource_flag);
  return TEST_SUMMARY();
}
