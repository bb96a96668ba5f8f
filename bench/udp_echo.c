/*
 * udp_echo.c -- the ceiling: a UDP server that does no CoAP work at all.
 *
 * It reads datagrams in batches with recvmmsg() and sends each straight
 * back with sendmmsg(), turned into a piggybacked 2.05 by rewriting two
 * header bytes (type ACK, code 2.05; MID and token stay), so that
 * coap-bench counts it like any server's answer. Whatever a CoAP server
 * on this machine does, it cannot answer faster than this.
 *
 * usage: udp_echo PORT    (listens on 127.0.0.1; SIGTERM stops it)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define BUF 1600

static volatile sig_atomic_t quit;

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
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
  static uint8_t buf[BATCH][BUF];
  static struct sockaddr_storage from[BATCH];
  static struct mmsghdr m[BATCH];
  static struct iovec iov[BATCH];
  while (!quit) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 1000) <= 0)
      continue;
    for (;;) {
      for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){buf[i], BUF};
        memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = &from[i];
        m[i].msg_hdr.msg_namelen = sizeof(from[i]);
      }
      int n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
      if (n <= 0)
        break;
      for (int i = 0; i < n; i++) {
        iov[i].iov_len = m[i].msg_len;
        if (m[i].msg_len >= 4) {
          buf[i][0] = (uint8_t)((buf[i][0] & 0xCF) | 0x20);
          buf[i][1] = 0x45;
        }
      }
      sendmmsg(fd, m, (unsigned)n, 0);
      if (n < BATCH)
        break;
    }
  }
  return 0;
}
