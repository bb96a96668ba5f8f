/*
 * mcast_group.c -- multicast over loopback, run by mcast_group.sh inside a
 * network namespace of its own (where lo takes multicast and routes the
 * groups).
 *
 *   mcast_group serve PORT [IF6]  a Petrel server on [::]:PORT (dual-stack)
 *                      joined to 224.0.1.187 on lo and, given IF6, to
 *                      ff02::fd on IF6; serving /hello (2.05 "hello") and
 *                      /fail (5.00), with DEFAULT_LEISURE 1 s on its sessions.
 *                      Prints "listening on ..." once ready, stops on SIGTERM.
 *   mcast_group check PORT        raw datagrams to 224.0.1.187 and a Petrel
 *                      client session to it.
 *   mcast_group check6 PORT IF6 SRC  raw datagrams to ff02::fd on IF6, whose
 *                      answers must come from SRC.
 * The checks print one line each; exit status 0 when all passed.
 *
 * IPv6 multicast is not looped back on lo, so IPv6 uses an interface of
 * the namespace with an address (the script makes a veth pair), whose
 * multicast the kernel loops back to local members.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <coap3/coap.h>

#include "check.h"

#define GROUP4 "224.0.1.187"
#define GROUP6 "ff02::fd"

static volatile sig_atomic_t quit;
static const char *if6 = "lo";

/* ---- the server ------------------------------------------------------ */

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

static void hnd_fail(coap_resource_t *r, coap_session_t *s,
                     const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

static int on_event(coap_session_t *s, coap_event_t ev) {
  if (ev == COAP_EVENT_SERVER_SESSION_NEW) /* keeps the test short */
    coap_session_set_default_leisure(s, (coap_fixed_point_t){1, 0});
  return 0;
}

static void on_term(int sig) {
  (void)sig;
  quit = 1;
}

static int endpoint(coap_context_t *ctx, int family, uint16_t port) {
  coap_address_t a;
  coap_address_init(&a);
  if (family == AF_INET) {
    a.addr.sin.sin_family = AF_INET;
    a.addr.sin.sin_port = htons(port);
    a.size = sizeof(a.addr.sin);
  } else {
    a.addr.sin6.sin6_family = AF_INET6;
    a.addr.sin6.sin6_port = htons(port);
    a.size = sizeof(a.addr.sin6);
  }
  return coap_new_endpoint(ctx, &a, COAP_PROTO_UDP) != NULL;
}

static int serve(uint16_t port, const char *group6_if) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  /* An IPv6 "::" endpoint is dual-stack: it takes both groups. */
  int v6 = endpoint(ctx, AF_INET6, port);
  if (!v6 && !endpoint(ctx, AF_INET, port))
    return 1;
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("fail"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_fail);
  coap_add_resource(ctx, r);
  coap_register_event_handler(ctx, on_event);
  if (coap_join_mcast_group_intf(ctx, GROUP4, "lo") < 0)
    return 1;
  if (group6_if &&
      (!v6 || coap_join_mcast_group_intf(ctx, GROUP6, group6_if) < 0))
    return 1;
  signal(SIGTERM, on_term);
  fprintf(stderr, "mcast_group: listening on %s:%u\n", v6 ? "[::]" : "0.0.0.0",
          port);
  while (!quit)
    coap_io_process(ctx, 200);
  coap_free_context(ctx);
  coap_cleanup();
  return 0;
}

/* ---- raw datagrams ------------------------------------------------------ */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

typedef struct answer {
  ssize_t len;
  uint8_t buf[1500];
  char from[64];
  unsigned from_port;
  double ms; /* after the request */
} answer;

/* Sends GET /@path (type @type, token @tok) to @ip:@port and waits up to
 * @wait_ms for one answer; answer.len -1 when none came. */
static void ask(int family, const char *ip, uint16_t port, int type,
                uint8_t tok, const char *path, int wait_ms, answer *a) {
  int fd = socket(family, SOCK_DGRAM, 0);
  struct sockaddr_storage to;
  memset(&to, 0, sizeof(to));
  socklen_t tolen;
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&to;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    inet_pton(AF_INET, ip, &in->sin_addr);
    tolen = sizeof(*in);
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&to;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &in6->sin6_addr);
    in6->sin6_scope_id = if_nametoindex(if6);
    tolen = sizeof(*in6);
    unsigned ifx = if_nametoindex(if6);
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifx, sizeof(ifx));
  }
  uint8_t req[64] = {(uint8_t)(0x41 | type << 4), COAP_REQUEST_CODE_GET, 0x33,
                     tok, tok};
  size_t n = strlen(path);
  req[5] = (uint8_t)(0xb0 | n);
  memcpy(req + 6, path, n);
  a->len = -1;
  double start = now_ms();
  if (sendto(fd, req, 6 + n, 0, (struct sockaddr *)&to, tolen) < 0) {
    printf("     sendto %s: %s\n", ip, strerror(errno));
    close(fd);
    return;
  }
  struct timeval tv = {wait_ms / 1000, (wait_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct sockaddr_storage from;
  socklen_t flen = sizeof(from);
  a->len =
      recvfrom(fd, a->buf, sizeof(a->buf), 0, (struct sockaddr *)&from, &flen);
  a->ms = now_ms() - start;
  if (a->len >= 0) {
    void *src = from.ss_family == AF_INET
                    ? (void *)&((struct sockaddr_in *)&from)->sin_addr
                    : (void *)&((struct sockaddr_in6 *)&from)->sin6_addr;
    inet_ntop(from.ss_family, src, a->from, sizeof(a->from));
    a->from_port = ntohs(from.ss_family == AF_INET
                             ? ((struct sockaddr_in *)&from)->sin_port
                             : ((struct sockaddr_in6 *)&from)->sin6_port);
  }
  close(fd);
}

/* 1 if @a is a NON 2.05 "hello" with token @tok from @src:@port. */
static int is_hello(const answer *a, uint8_t tok, const char *src,
                    unsigned port) {
  if (a->len != 11) {
    printf("     got %zd bytes after %.0f ms\n", a->len, a->ms);
    return 0;
  }
  printf("     from %s:%u after %.0f ms\n", a->from, a->from_port, a->ms);
  return (a->buf[0] >> 4 & 3) == COAP_MESSAGE_NON &&
         a->buf[1] == COAP_RESPONSE_CODE_CONTENT && a->buf[4] == tok &&
         a->buf[5] == 0xff && memcmp(a->buf + 6, "hello", 5) == 0 &&
         strcmp(a->from, src) == 0 && a->from_port == port;
}

static void raw_checks(uint16_t port) {
  answer a;
  double longest = 0;
  int all = 1;
  for (uint8_t t = 1; t <= 4; t++) {
    ask(AF_INET, GROUP4, port, COAP_MESSAGE_NON, t, "hello", 3000, &a);
    all &= is_hello(&a, t, "127.0.0.1", port) && a.ms < 1500;
    longest = a.ms > longest ? a.ms : longest;
  }
  check(all, "NON GET to " GROUP4 ": NON 2.05 from 127.0.0.1 within the "
             "leisure (1 s)");
  check(longest > 20, "the answers to the group are delayed");
  ask(AF_INET, "127.0.0.1", port, COAP_MESSAGE_NON, 5, "hello", 1000, &a);
  check(is_hello(&a, 5, "127.0.0.1", port) && a.ms < 500,
        "NON GET to 127.0.0.1: answered at once");
  ask(AF_INET, GROUP4, port, COAP_MESSAGE_NON, 6, "missing", 1500, &a);
  check(a.len < 0, "NON GET /missing to the group: no 4.04");
  ask(AF_INET, GROUP4, port, COAP_MESSAGE_NON, 7, "fail", 1500, &a);
  check(a.len < 0, "NON GET /fail to the group: no 5.00");
  ask(AF_INET, GROUP4, port, COAP_MESSAGE_CON, 8, "hello", 1500, &a);
  check(a.len < 0, "CON GET to the group: no answer, no RST (RFC 7252 8.1)");
}

static void raw_checks_v6(uint16_t port, const char *src) {
  answer a;
  ask(AF_INET6, GROUP6, port, COAP_MESSAGE_NON, 9, "hello", 3000, &a);
  check(is_hello(&a, 9, src, port) && a.ms < 1500,
        "NON GET to " GROUP6 ": NON 2.05 from the interface's unicast "
        "address within the leisure");
  ask(AF_INET6, GROUP6, port, COAP_MESSAGE_NON, 10, "missing", 1500, &a);
  check(a.len < 0, "NON GET /missing to " GROUP6 ": no 4.04");
}

/* ---- a Petrel client session to the group ------------------------------ */

static int got_answers;
static int answer_ok;

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *recv, coap_mid_t mid) {
  (void)sent, (void)mid;
  char from[64];
  size_t n = coap_print_addr(coap_session_get_addr_remote(s), (uint8_t *)from,
                             sizeof(from) - 1);
  from[n] = 0;
  size_t len;
  const uint8_t *data;
  const coap_address_t *g = coap_session_get_addr_mcast(s);
  printf("     answer from %s\n", from);
  answer_ok = coap_pdu_get_type(recv) == COAP_MESSAGE_NON &&
              coap_pdu_get_code(recv) == COAP_RESPONSE_CODE_CONTENT &&
              coap_get_data(recv, &len, &data) && len == 5 &&
              memcmp(data, "hello", 5) == 0 &&
              strncmp(from, "127.0.0.1:", 10) == 0 && g && coap_is_mcast(g);
  got_answers++;
  return COAP_RESPONSE_OK;
}

static void client_checks(uint16_t port) {
  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  coap_register_response_handler(ctx, on_response);
  coap_address_t g;
  coap_address_init(&g);
  g.addr.sin.sin_family = AF_INET;
  g.addr.sin.sin_port = htons(port);
  inet_pton(AF_INET, GROUP4, &g.addr.sin.sin_addr);
  g.size = sizeof(g.addr.sin);
  coap_session_t *s = coap_new_client_session(ctx, NULL, &g, COAP_PROTO_UDP);
  check(s != NULL, "client session to " GROUP4);
  if (!s) {
    coap_free_context(ctx);
    return;
  }
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                    coap_new_message_id(s), coap_session_max_pdu_size(s));
  uint8_t tok = 0x42;
  coap_add_token(p, 1, &tok);
  coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"hello");
  check(coap_send(s, p) != COAP_INVALID_MID,
        "client session sends to the group");
  double start = now_ms();
  while (now_ms() - start < 2500)
    coap_io_process(ctx, 100);
  check(got_answers == 1 && answer_ok,
        "client session to the group: the member's unicast NON 2.05 "
        "reaches the response handler");
  coap_session_release(s);
  coap_free_context(ctx);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: mcast_group serve PORT [IF6] | check PORT | "
                    "check6 PORT IF6 SRC\n");
    return 2;
  }
  uint16_t port = (uint16_t)atoi(argv[2]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(argv[1], "serve") == 0)
    return serve(port, argc > 3 ? argv[3] : NULL);
  if (strcmp(argv[1], "check") == 0) {
    raw_checks(port);
    client_checks(port);
  } else if (strcmp(argv[1], "check6") == 0 && argc == 5) {
    if6 = argv[3];
    raw_checks_v6(port, argv[4]);
  } else {
    return 2;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
