/*
 * udp_client.h -- a raw UDP client for wire-level tests: sends hand-built
 * datagrams to a Petrel server on loopback and reads back exactly what the
 * server put on the wire, with a receive timeout.
 */
#ifndef PETREL_UDP_CLIENT_H
#define PETREL_UDP_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct udp_client {
  int fd;
} udp_client;

/* A socket connected to 127.0.0.1:@port; fd < 0 on failure. */
static inline udp_client udp_client_open(uint16_t port) {
  udp_client c;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c.fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (c.fd >= 0 && connect(c.fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    close(c.fd);
    c.fd = -1;
  }
  return c;
}

static inline void udp_client_close(udp_client *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

static inline int udp_send(udp_client *c, const void *data, size_t len) {
  return send(c->fd, data, len, 0) == (ssize_t)len ? 0 : -1;
}

/* Receives one datagram within @timeout_ms; returns its length or -1. */
static inline ssize_t udp_recv(udp_client *c, uint8_t *buf, size_t cap,
                               int timeout_ms) {
  struct pollfd p = {c->fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1)
    return -1;
  return recv(c->fd, buf, cap, 0);
}

/* Monotonic milliseconds, for timing with tolerance. */
static inline double udp_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#endif /* PETREL_UDP_CLIENT_H */
