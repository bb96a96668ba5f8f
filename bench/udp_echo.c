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
 * usage: udp_echo PORT [gso|plain]   (listens on 127.0.0.1; SIGTERM stops it)
 *
 * On SIGTERM it prints what it sent, for its test to count:
 *   udp_echo: answers=N entries=M gso=G fallback=F
 * (answers sent, sendmmsg() entries they went in, entries with UDP_SEGMENT,
 * 1 if the kernel refused GSO).
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

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3 ||
      (argc == 3 && strcmp(argv[2], "gso") && strcmp(argv[2], "plain"))) {
    fprintf(stderr, "usage: %s PORT [gso|plain]\n", argv[0]);
    return 2;
  }
  use_gso = argc == 2 || !strcmp(argv[2], "gso");
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
      for (int i = 0; i < n; i++) {
        iov[i].iov_len = in[i].msg_len;
        if (in[i].msg_len >= 4) {
          buf[i][0] = (uint8_t)((buf[i][0] & 0xCF) | 0x20);
          buf[i][1] = 0x45;
        }
      }
      answer(fd, n);
      if (n < BATCH)
        break;
    }
  }
  fprintf(stderr, "udp_echo: answers=%llu entries=%llu gso=%llu fallback=%d\n",
          n_answers, n_entries, n_gso, fallback);
  return 0;
}
