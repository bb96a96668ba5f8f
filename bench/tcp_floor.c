/*
 * tcp_floor.c -- the floor for CoAP over TCP: a server that does no CoAP
 * work beyond the framing, to show what the kernel's TCP alone costs per
 * request with the same load generator (coap-bench-conn -t tcp).
 *
 * One thread, level-triggered epoll, non-blocking sockets with
 * TCP_NODELAY (as Petrel's). Per readable connection: one recv() into
 * the connection's buffer, then for each whole RFC 8323 message in it an
 * answer written after the others -- a CSM (7.01) for a CSM, a 2.05 with
 * the request's token and the 12-byte payload "Hello World!" for
 * anything else -- and all the answers of that read in one send(). A
 * short read ends the pass (the socket is empty), as in Petrel. No
 * options are parsed, no resource looked up, nothing allocated per
 * request. Whatever a CoAP server does over TCP on this machine, it costs
 * at least this much CPU per request.
 *
 * usage: tcp_floor PORT   (listens on 127.0.0.1; SIGTERM stops it)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RX 16384
#define TX 65536

typedef struct conn {
  int fd;
  size_t fill; /* bytes of a partial message kept in buf */
  uint8_t buf[RX];
} conn;

static const uint8_t payload[] = "Hello World!";

/* RFC 8323 3.2: the size of the message starting at @p (@avail bytes), or
 * 0 while its header is incomplete; the token's offset and length in
 * *@tok and *@tkl. Extended token lengths (RFC 8974) are not taken. */
static size_t msg_size(const uint8_t *p, size_t avail, size_t *tok,
                       size_t *tkl) {
  if (avail < 2)
    return 0;
  size_t len = p[0] >> 4, ext = len < 13    ? 0
                                : len == 13 ? 1
                                : len == 14 ? 2
                                            : 4;
  *tkl = p[0] & 0x0f;
  if (avail < 2 + ext)
    return 0;
  if (ext == 1)
    len = 13 + p[1];
  else if (ext == 2)
    len = 269 + ((size_t)p[1] << 8 | p[2]);
  else if (ext == 4)
    len = 65805 +
          ((size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4]);
  *tok = 2 + ext;
  return 2 + ext + *tkl + len;
}

/* Appends the answer to the message at @m to @out; returns its size. */
static size_t answer(const uint8_t *m, size_t tok, size_t tkl, uint8_t *out) {
  uint8_t code = m[tok - 1];
  if (code == 0xe1) { /* CSM: ours, with no options */
    out[0] = 0x00, out[1] = 0xe1;
    return 2;
  }
  /* 2.05, Content-Format 0 (text/plain: delta 12, length 0), payload:
   * 14 bytes of options and payload, so Len 13 and one extended byte. */
  size_t body = 1 + 1 + sizeof(payload) - 1;
  out[0] = (uint8_t)(13 << 4 | tkl);
  out[1] = (uint8_t)(body - 13);
  out[2] = 0x45;
  memcpy(out + 3, m + tok, tkl);
  out[3 + tkl] = 0xc0;
  out[4 + tkl] = 0xff;
  memcpy(out + 5 + tkl, payload, sizeof(payload) - 1);
  return 3 + tkl + body;
}

/* One read of @c and its answers. 0, or -1 when the connection ends. */
static int serve(conn *c) {
  static uint8_t out[TX];
  ssize_t n = recv(c->fd, c->buf + c->fill, RX - c->fill, 0);
  if (n <= 0)
    return n < 0 ? 0 : -1;
  size_t have = c->fill + (size_t)n, at = 0, olen = 0, tok, tkl;
  for (;;) {
    size_t size = msg_size(c->buf + at, have - at, &tok, &tkl);
    if (size > RX || tkl > 8)
      return -1;
    if (!size || size > have - at || olen + 64 > TX)
      break;
    olen += answer(c->buf + at, tok, tkl, out + olen);
    at += size;
  }
  memmove(c->buf, c->buf + at, have - at);
  c->fill = have - at;
  if (olen && send(c->fd, out, olen, MSG_NOSIGNAL) < 0)
    return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tcp_floor PORT\n");
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)atoi(argv[1]))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 128) < 0) {
    perror("tcp_floor");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event evs[256];
  for (;;) {
    int k = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < k; i++) {
      conn *c = evs[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
          conn *nc = calloc(1, sizeof(*nc));
          if (!nc) {
            close(fd);
            continue;
          }
          nc->fd = fd;
          struct epoll_event ce = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
        }
      } else if (serve(c) < 0) {
        close(c->fd);
        free(c);
      }
    }
  }
}
