/*
 * lb_client.c -- the client of the load-balancer test
 * (tests/lb/nginx_two_nodes.sh): raw CoAP over many UDP sockets to a load
 * balancer in front of two lb_server nodes.
 *
 * Phase 1: every socket sends a CON GET /hello and a CON GET /async?1.
 * Checks: every request is answered exactly once (a repeated CON answer
 * with the same message ID is a retransmission, acknowledged again; a
 * second answer with another message ID is a failure), both answers of a
 * socket come from the same node, and both nodes serve some sockets.
 *
 * Then it stops node VICTIM (SIGTERM to VICTIM_PID) and runs phase 2: the
 * same two requests again on the same sockets. Checks: every request is
 * answered exactly once, the victim's sockets now by the other node
 * (after their retransmission, when the balancer sent the first copy to
 * the dead node), the survivor's sockets still by the survivor.
 *
 * CONs are retransmitted after 1 s, doubling, at most 4 times (RFC 7252
 * 4.2). Prints one "ok   - ..." or "FAIL - ..." line per check; exits 0
 * when all passed, 1 otherwise.
 *
 * usage: lb_client PORT SOCKETS VICTIM VICTIM_PID
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 1000
#define KINDS 2 /* 0: /hello, 1: /async?1 */
#define NAME_LEN 16

enum { REQ_NONE, REQ_SENT, REQ_ACKED, REQ_ANSWERED };

typedef struct request {
  int state;
  uint16_t mid, answer_mid;
  int tries;
  double next_rt, rt_gap;
  int retransmitted; /* answered only after a retransmission */
  int twice;         /* a second answer with another message ID */
  char node[NAME_LEN];
  uint8_t code;
} request;

static int fds[MAX_SOCKETS];
static request reqs[2][MAX_SOCKETS][KINDS]; /* [phase][socket][kind] */
static int nsock;
static uint16_t next_mid = 0x1000;
static int failed;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int ok, const char *what, const char *detail) {
  printf("%s - %s%s%s\n", ok ? "ok  " : "FAIL", what, ok ? "" : ": ",
         ok ? "" : detail);
  if (!ok)
    failed++;
}

static void check_phase(int ok, int phase, const char *what,
                        const char *detail) {
  char name[160];
  snprintf(name, sizeof(name), "phase %d: %s", phase, what);
  check(ok, name, detail);
}

/* Token: socket index (2 bytes), phase, kind. */
static size_t encode(uint8_t *p, int phase, int s, int kind, uint16_t mid) {
  size_t n = 0;
  p[n++] = 0x44; /* version 1, CON, token length 4 */
  p[n++] = 0x01; /* GET */
  p[n++] = (uint8_t)(mid >> 8);
  p[n++] = (uint8_t)mid;
  p[n++] = (uint8_t)(s >> 8);
  p[n++] = (uint8_t)s;
  p[n++] = (uint8_t)phase;
  p[n++] = (uint8_t)kind;
  if (kind == 0) {
    p[n++] = 0xB5; /* Uri-Path (11), 5 bytes */
    memcpy(p + n, "hello", 5);
    n += 5;
  } else {
    p[n++] = 0xB5;
    memcpy(p + n, "async", 5);
    n += 5;
    p[n++] = 0x41; /* Uri-Query (15 = 11 + 4), 1 byte */
    p[n++] = '1';
  }
  return n;
}

static void transmit(int phase, int s, int kind) {
  uint8_t msg[32];
  request *r = &reqs[phase][s][kind];
  size_t n = encode(msg, phase, s, kind, r->mid);
  send(fds[s], msg, n, 0); /* a loss is recovered by retransmission */
}

static void send_empty_ack(int s, uint16_t mid) {
  uint8_t a[4] = {0x60, 0x00, (uint8_t)(mid >> 8), (uint8_t)mid};
  send(fds[s], a, sizeof(a), 0);
}

/* The payload after the options (RFC 7252 3.1), or NULL. */
static const uint8_t *payload_of(const uint8_t *d, size_t len, size_t at,
                                 size_t *plen) {
  while (at < len && d[at] != 0xFF) {
    unsigned dl = d[at] >> 4, ll = d[at] & 15;
    at++;
    if (dl == 15 || ll == 15)
      return NULL;
    at += dl == 13 ? 1 : dl == 14 ? 2 : 0;
    size_t l = ll;
    if (ll == 13 && at < len)
      l = 13u + d[at++];
    else if (ll == 14 && at + 1 < len) {
      l = 269u + (size_t)(d[at] << 8 | d[at + 1]);
      at += 2;
    }
    at += l;
  }
  if (at >= len)
    return NULL;
  *plen = len - at - 1;
  return d + at + 1;
}

static void on_datagram(int phase, int s, const uint8_t *d, size_t len) {
  if (len < 4 || (d[0] >> 6) != 1)
    return;
  unsigned type = (d[0] >> 4) & 3, tkl = d[0] & 15;
  uint16_t mid = (uint16_t)(d[2] << 8 | d[3]);
  if (d[1] == 0) { /* Empty: an ACK to one of ours, or an RST */
    for (int k = 0; k < KINDS; k++) {
      request *r = &reqs[phase][s][k];
      if (r->mid == mid && r->state == REQ_SENT)
        r->state = type == 3 ? REQ_NONE : REQ_ACKED;
    }
    return;
  }
  if (type == 0)
    send_empty_ack(s, mid); /* a separate response: acknowledge it */
  if (tkl != 4 || len < 8 || (d[4] << 8 | d[5]) != s || d[6] > 1 ||
      d[7] >= KINDS)
    return;
  request *r = &reqs[d[6]][s][d[7]];
  if (r->state == REQ_ANSWERED) {
    if (r->answer_mid != mid)
      r->twice = 1;
    return; /* else: the same answer retransmitted */
  }
  size_t plen = 0;
  const uint8_t *p = payload_of(d, len, 8, &plen);
  if (plen >= NAME_LEN)
    plen = NAME_LEN - 1;
  memcpy(r->node, p ? p : (const uint8_t *)"", p ? plen : 0);
  r->node[p ? plen : 0] = 0;
  r->code = d[1];
  r->answer_mid = mid;
  r->retransmitted = r->tries > 0;
  r->state = REQ_ANSWERED;
}

/* Sends every request of @phase, then receives and retransmits until all
 * are answered or @limit seconds have passed. */
static void run_phase(int phase, double limit) {
  double t0 = now_s();
  for (int s = 0; s < nsock; s++)
    for (int k = 0; k < KINDS; k++) {
      request *r = &reqs[phase][s][k];
      r->mid = next_mid++;
      r->state = REQ_SENT;
      r->rt_gap = 1.0;
      r->next_rt = t0 + r->rt_gap;
      transmit(phase, s, k);
    }
  static struct pollfd pf[MAX_SOCKETS];
  for (int s = 0; s < nsock; s++)
    pf[s] = (struct pollfd){fds[s], POLLIN, 0};
  for (;;) {
    int open = 0;
    double now = now_s();
    for (int s = 0; s < nsock; s++)
      for (int k = 0; k < KINDS; k++) {
        request *r = &reqs[phase][s][k];
        open += r->state != REQ_ANSWERED;
        if (r->state == REQ_SENT && now >= r->next_rt && r->tries < 4) {
          r->tries++;
          r->rt_gap *= 2;
          r->next_rt = now + r->rt_gap;
          transmit(phase, s, k);
        }
      }
    if (!open || now - t0 > limit)
      return;
    if (poll(pf, (nfds_t)nsock, 50) <= 0)
      continue;
    for (int s = 0; s < nsock; s++) {
      uint8_t buf[256];
      ssize_t n;
      if (!(pf[s].revents & (POLLIN | POLLERR)))
        continue;
      while ((n = recv(fds[s], buf, sizeof(buf), MSG_DONTWAIT)) > 0 ||
             (n < 0 && errno == ECONNREFUSED))
        if (n > 0)
          on_datagram(phase, s, buf, (size_t)n);
    }
  }
}

/* Checks that every request of @phase was answered once with 2.05 by a
 * node; counts per node into @count_a (the victim) and @count_b. */
static void check_answers(int phase, const char *victim, int *count_a,
                          int *count_b) {
  int missing = 0, twice = 0, bad = 0, split = 0;
  *count_a = *count_b = 0;
  for (int s = 0; s < nsock; s++) {
    request *h = &reqs[phase][s][0], *a = &reqs[phase][s][1];
    for (int k = 0; k < KINDS; k++) {
      request *r = &reqs[phase][s][k];
      missing += r->state != REQ_ANSWERED;
      twice += r->twice;
      bad += r->state == REQ_ANSWERED && (r->code != 0x45 || !r->node[0]);
    }
    if (h->state == REQ_ANSWERED && a->state == REQ_ANSWERED) {
      split += strcmp(h->node, a->node) != 0;
      if (strcmp(h->node, victim) == 0)
        (*count_a)++;
      else
        (*count_b)++;
    }
  }
  char d[128];
  snprintf(d, sizeof(d), "%d of %d requests unanswered", missing,
           nsock * KINDS);
  check_phase(missing == 0, phase, "every request answered", d);
  snprintf(d, sizeof(d), "%d requests answered twice (new message IDs)", twice);
  check_phase(twice == 0, phase, "no request answered twice", d);
  snprintf(d, sizeof(d), "%d answers not 2.05 with a node name", bad);
  check_phase(bad == 0, phase, "every answer is 2.05 with a node name", d);
  snprintf(d, sizeof(d), "%d sockets answered by two nodes", split);
  check_phase(split == 0, phase,
              "/hello and /async?1 of a socket from one node", d);
}

int main(int argc, char **argv) {
  if (argc != 5 || (nsock = atoi(argv[2])) < 2 || nsock > MAX_SOCKETS) {
    fprintf(stderr, "usage: %s PORT SOCKETS VICTIM VICTIM_PID\n", argv[0]);
    return 2;
  }
  const char *victim = argv[3];
  pid_t victim_pid = (pid_t)atol(argv[4]);
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)atoi(argv[1])),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  for (int s = 0; s < nsock; s++) {
    fds[s] = socket(AF_INET, SOCK_DGRAM, 0);
    if (fds[s] < 0 || connect(fds[s], (struct sockaddr *)&to, sizeof(to)) < 0) {
      perror("lb_client: socket");
      return 1;
    }
  }

  int on_a, on_b;
  run_phase(0, 20);
  check_answers(0, victim, &on_a, &on_b);
  char d[128];
  snprintf(d, sizeof(d), "%d sockets on %s, %d on the other", on_a, victim,
           on_b);
  check(on_a > 0 && on_b > 0, "phase 0: both nodes serve some sockets", d);
  printf("#    phase 0: %d sockets on %s, %d on the other\n", on_a, victim,
         on_b);

  char was[MAX_SOCKETS][NAME_LEN];
  for (int s = 0; s < nsock; s++)
    memcpy(was[s], reqs[0][s][0].node, NAME_LEN);
  kill(victim_pid, SIGTERM);
  usleep(500000);

  run_phase(1, 25);
  int a2, b2;
  check_answers(1, victim, &a2, &b2);
  int moved = 0, stayed = 0, wrong = 0, after_rt = 0;
  for (int s = 0; s < nsock; s++) {
    request *h = &reqs[1][s][0];
    if (h->state != REQ_ANSWERED)
      continue;
    if (strcmp(h->node, victim) == 0)
      wrong++;
    else if (strcmp(was[s], victim) == 0) {
      moved++;
      after_rt += h->retransmitted;
    } else if (strcmp(was[s], h->node) == 0)
      stayed++;
    else
      wrong++;
  }
  snprintf(d, sizeof(d),
           "%d sockets answered by the stopped node or moved "
           "between live nodes",
           wrong);
  check(wrong == 0,
        "phase 1: nothing from the stopped node, survivors' "
        "sockets stay",
        d);
  snprintf(d, sizeof(d), "%d of %d moved to the other node", moved, on_a);
  check(moved == on_a,
        "phase 1: the stopped node's sockets re-served by "
        "the other node",
        d);
  printf("#    phase 1: %d sockets moved (%d of them after a "
         "retransmission), %d stayed\n",
         moved, after_rt, stayed);
  return failed ? 1 : 0;
}
