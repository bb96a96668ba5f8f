/*
 * udp_echo.c -- the ceiling: a UDP server that does no CoAP work at all.
 *
 * It reads datagrams in batches with recvmmsg() and sends each straight
 * back with sendmmsg(), turned into a piggybacked 2.05 by rewriting two
 * header bytes (type ACK, code 2.05; MID and token stay), so that
 * coap-bench counts it like any server's answer. Whatever a CoAP server
 * on this machine does, it cannot answer faster than this.
 *
 * Two ways to send the answers of one receive pass, both one sendmmsg():
 *   gso    (default) consecutive answers to the same peer, all of one size
 *          (the last may be shorter), go as one message with UDP_SEGMENT
 *          (UDP GSO, Linux 4.18): the kernel passes them down its stack
 *          once and cuts them up at the end, as Petrel's send path does
 *          (src/posix/io.c). Where the kernel refuses UDP_SEGMENT, the
 *          message is sent datagram by datagram and GSO is not tried again.
 *   plain  one sendmmsg() entry per answer (the ceiling before Petrel
 *          used GSO).
 *
 * observe  the ceiling of notifications (coap-bench -O): a request with
 *          Observe: 0 is remembered (peer and token, nothing else) and
 *          answered 2.05 with Observe and 4 bytes, as bench_server.c's
 *          /obs answers; any other request is a trigger: it is answered
 *          2.05, then every observer gets a NON 2.05 with its token, the
 *          next Observe value and 4 bytes (the datagram Petrel sends for
 *          /obs), in sendmmsg() calls of NOTIFY_BATCH (Petrel's TX_BATCH)
 *          with UDP GSO for a peer's datagrams in a row, the observers of
 *          a peer one after another, as Petrel orders them. No duplicate
 *          detection: a retransmitted registration is a second observer.
 *
 * usage: udp_echo PORT [gso|plain|observe]   (listens on 127.0.0.1;
 *        SIGTERM stops it)
 *
 * On SIGTERM it prints what it sent, for its test to count:
 *   udp_echo: answers=N entries=M gso=G fallback=F [observers=O]
 * (answers sent, notifications included, sendmmsg() entries they went in,
 * entries with UDP_SEGMENT, 1 if the kernel refused GSO; in observe mode,
 * observers remembered).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, for older libc headers */
#endif

#define BATCH 64
#define BUF 1600
#define GSO_MAX_BYTES 65000 /* one UDP GSO message: under 64 KiB */
#define NOTIFY_BATCH 32     /* datagrams per sendmmsg(), as Petrel's */

static volatile sig_atomic_t quit;
static int use_gso = 1;
static unsigned long long n_answers, n_entries, n_gso;
static int fallback;

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

static uint8_t buf[BATCH][BUF];
static struct sockaddr_storage from[BATCH];
static struct mmsghdr in[BATCH], out[BATCH];
static struct iovec iov[BATCH];
static uint8_t ctrl[BATCH][CMSG_SPACE(sizeof(uint16_t))];

/* Whether answer J can join the GSO message that starts at answer I: same
 * peer, every answer before it of I's size, J no longer, and the message
 * still under 64 KiB. */
static int joins(int i, int j) {
  size_t seg = iov[i].iov_len;
  return seg > 0 && in[j].msg_hdr.msg_namelen == in[i].msg_hdr.msg_namelen &&
         memcmp(&from[j], &from[i], in[i].msg_hdr.msg_namelen) == 0 &&
         iov[j - 1].iov_len == seg && iov[j].iov_len <= seg &&
         (size_t)(j - i + 1) * seg <= GSO_MAX_BYTES;
}

/* Makes out[m] the answers I..J-1: one datagram, or one GSO message. */
static void message(int m, int i, int j) {
  struct msghdr *h = &out[m].msg_hdr;
  memset(h, 0, sizeof(*h));
  h->msg_name = &from[i];
  h->msg_namelen = in[i].msg_hdr.msg_namelen;
  h->msg_iov = &iov[i];
  h->msg_iovlen = (size_t)(j - i);
  if (j - i < 2)
    return;
  struct cmsghdr *c = (struct cmsghdr *)(void *)ctrl[m];
  memset(ctrl[m], 0, sizeof(ctrl[m]));
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t seg = (uint16_t)iov[i].iov_len;
  memcpy(CMSG_DATA(c), &seg, sizeof(seg));
  h->msg_control = ctrl[m];
  h->msg_controllen = sizeof(ctrl[m]);
}

/* Sends message M datagram by datagram (the kernel refused GSO). */
static void send_split(int fd, int m) {
  struct msghdr h = out[m].msg_hdr;
  h.msg_control = NULL;
  h.msg_controllen = 0;
  for (size_t k = 0; k < out[m].msg_hdr.msg_iovlen; k++) {
    h.msg_iov = &out[m].msg_hdr.msg_iov[k];
    h.msg_iovlen = 1;
    (void)sendmsg(fd, &h, 0);
  }
}

/* Sends the N answers of one receive pass with one sendmmsg() (more if the
 * kernel takes part of them only). */
static void answer(int fd, int n) {
  int m = 0;
  for (int i = 0, j; i < n; i = j, m++) {
    for (j = i + 1; use_gso && j < n && joins(i, j); j++)
      ;
    message(m, i, j);
    n_gso += j - i > 1;
  }
  n_answers += (unsigned long long)n;
  n_entries += (unsigned long long)m;
  for (int off = 0; off < m;) {
    int r = sendmmsg(fd, out + off, (unsigned)(m - off), 0);
    if (r < 0 && out[off].msg_hdr.msg_iovlen > 1 && errno != EAGAIN &&
        errno != ENOBUFS && errno != ECONNREFUSED) {
      use_gso = 0; /* not tried again */
      fallback = 1;
      send_split(fd, off);
      r = 1;
    } else if (r <= 0) {
      r = 1; /* dropped, as sendto() would */
    }
    off += r;
  }
}

/* ---- observe mode ------------------------------------------------------ */

typedef struct observer {
  struct sockaddr_storage peer;
  socklen_t peer_len;
  uint8_t tkl, token[8];
} observer;

static int observe_mode;
static observer *obs;
static size_t n_obs, cap_obs;
static int obs_sorted = 1;
static uint32_t obs_seq;
static uint16_t obs_mid;

/* Reads an option header's extended delta or length (RFC 7252 3.1);
 * -1 when it runs past @len. */
static long ext(const uint8_t *d, size_t len, size_t *at, unsigned nib) {
  if (nib < 13)
    return nib;
  if (nib == 13)
    return *at + 1 <= len ? 13 + d[(*at)++] : -1;
  if (nib == 14 && *at + 2 <= len) {
    *at += 2;
    return 269 + (d[*at - 2] << 8 | d[*at - 1]);
  }
  return -1;
}

/* The Observe value of request @d, or -1 when it has none. */
static long observe_of(const uint8_t *d, size_t len) {
  size_t at = 4 + (d[0] & 15u);
  long num = 0;
  while (at < len && d[at] != 0xFF) {
    unsigned h = d[at++];
    long delta = ext(d, len, &at, h >> 4), olen = ext(d, len, &at, h & 15u);
    if (delta < 0 || olen < 0 || at + (size_t)olen > len)
      return -1;
    num += delta;
    if (num > 6)
      return -1;
    if (num == 6) {
      long v = 0;
      for (long k = 0; k < olen; k++)
        v = v << 8 | d[at + (size_t)k];
      return v;
    }
    at += (size_t)olen;
  }
  return -1;
}

/* Writes Observe @seq (its shortest form) and the 4-byte payload at @p. */
static size_t observe_and_payload(uint8_t *p, uint32_t seq) {
  size_t n = 0, bytes = seq > 0xFFFF ? 3 : seq > 0xFF ? 2 : seq > 0;
  p[n++] = (uint8_t)(0x60 | bytes);
  for (size_t k = bytes; k > 0; k--)
    p[n++] = (uint8_t)(seq >> (8 * (k - 1)));
  p[n++] = 0xFF;
  for (int k = 3; k >= 0; k--)
    p[n++] = (uint8_t)(seq >> (8 * k));
  return n;
}

static int by_peer(const void *a, const void *b) {
  const observer *x = a, *y = b;
  if (x->peer_len != y->peer_len)
    return x->peer_len < y->peer_len ? -1 : 1;
  return memcmp(&x->peer, &y->peer, x->peer_len);
}

/* Turns request I of the receive pass into its answer; 1 if it was a
 * trigger. */
static int observe_answer(int i) {
  uint8_t *d = buf[i];
  size_t len = in[i].msg_len;
  unsigned tkl = d[0] & 15u;
  if (len < 4 + tkl || tkl > 8 || ((d[0] >> 4) & 3) > 1 || d[1] != 1)
    return 0; /* not a GET: echoed as it came */
  uint8_t type = ((d[0] >> 4) & 3) == 0 ? 0x60 : 0x50; /* ACK or NON */
  d[0] = (uint8_t)(type | tkl);
  d[1] = 0x45;
  if (observe_of(d, len) != 0) {
    iov[i].iov_len = 4 + tkl; /* a trigger: 2.05, nothing else */
    return 1;
  }
  if (n_obs == cap_obs) {
    cap_obs = cap_obs ? 2 * cap_obs : 1024;
    obs = realloc(obs, cap_obs * sizeof(*obs));
    if (!obs)
      exit(1);
  }
  observer *o = &obs[n_obs++];
  o->peer = from[i];
  o->peer_len = in[i].msg_hdr.msg_namelen;
  o->tkl = (uint8_t)tkl;
  memcpy(o->token, d + 4, tkl);
  obs_sorted = 0;
  iov[i].iov_len = 4 + tkl + observe_and_payload(d + 4 + tkl, obs_seq);
  return 0;
}

/* A NON 2.05 to every observer, NOTIFY_BATCH to a sendmmsg(). */
static void notify_all(int fd) {
  if (!obs_sorted)
    qsort(obs, n_obs, sizeof(*obs), by_peer);
  obs_sorted = 1;
  obs_seq = (obs_seq + 1) & 0xFFFFFFu;
  for (size_t at = 0; at < n_obs;) {
    int k = 0;
    for (; k < NOTIFY_BATCH && at < n_obs; k++, at++) {
      const observer *o = &obs[at];
      uint8_t *p = buf[k];
      p[0] = (uint8_t)(0x50 | o->tkl);
      p[1] = 0x45;
      p[2] = (uint8_t)(obs_mid >> 8);
      p[3] = (uint8_t)obs_mid++;
      memcpy(p + 4, o->token, o->tkl);
      iov[k] = (struct iovec){
          p, 4 + o->tkl + observe_and_payload(p + 4 + o->tkl, obs_seq)};
      from[k] = o->peer;
      in[k].msg_hdr.msg_namelen = o->peer_len;
    }
    answer(fd, k);
  }
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3 ||
      (argc == 3 && strcmp(argv[2], "gso") && strcmp(argv[2], "plain") &&
       strcmp(argv[2], "observe"))) {
    fprintf(stderr, "usage: %s PORT [gso|plain|observe]\n", argv[0]);
    return 2;
  }
  use_gso = argc == 2 || strcmp(argv[2], "plain") != 0;
  observe_mode = argc == 3 && !strcmp(argv[2], "observe");
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns on SIGTERM */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)atoi(argv[1])),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int sz = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    perror("udp_echo");
    return 1;
  }
  /* For scripts: the port is bound and answers from now on. */
  fprintf(stderr, "udp_echo: listening on 127.0.0.1:%s\n", argv[1]);
  while (!quit) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 1000) <= 0)
      continue;
    for (;;) {
      for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){buf[i], BUF};
        memset(&in[i].msg_hdr, 0, sizeof(in[i].msg_hdr));
        in[i].msg_hdr.msg_iov = &iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
        in[i].msg_hdr.msg_name = &from[i];
        in[i].msg_hdr.msg_namelen = sizeof(from[i]);
      }
      int n = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
      if (n <= 0)
        break;
      int trigger = 0;
      for (int i = 0; i < n; i++) {
        iov[i].iov_len = in[i].msg_len;
        if (observe_mode && in[i].msg_len >= 4) {
          trigger |= observe_answer(i);
        } else if (in[i].msg_len >= 4) {
          buf[i][0] = (uint8_t)((buf[i][0] & 0xCF) | 0x20);
          buf[i][1] = 0x45;
        }
      }
      answer(fd, n);
      if (trigger)
        notify_all(fd);
      if (n < BATCH)
        break;
    }
  }
  fprintf(stderr, "udp_echo: answers=%llu entries=%llu gso=%llu fallback=%d",
          n_answers, n_entries, n_gso, fallback);
  if (observe_mode)
    fprintf(stderr, " observers=%zu", n_obs);
  fprintf(stderr, "\n");
  return 0;
}
