/*
 * tcp.c -- the POSIX side of CoAP over TCP: listening, accepting and
 * connecting non-blocking stream sockets, reading and writing them, and
 * their epoll registration. The protocol is in src/tcp.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "context.h"
#include "io.h"
#include "session.h"

static void local_of(int fd, coap_address_t *addr) {
  coap_address_init(addr);
  addr->size = sizeof(addr->addr);
  getsockname(fd, &addr->addr.sa, &addr->size);
}

static int tcp_socket(int family) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    coap_log_warn("socket: %s\n", strerror(errno));
  return fd;
}

static int watch(coap_context_t *ctx, int op, int fd, pt_io_handle *h,
                 int want_write) {
  struct epoll_event ev = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0),
                           .data.ptr = h};
  return epoll_ctl(ctx->epfd, op, fd, &ev);
}

int pt_io_tcp_listen(coap_endpoint_t *ep, const coap_address_t *addr) {
  int fd = tcp_socket(addr->addr.sa.sa_family);
  if (fd < 0)
    return -1;
  int on = 1, off = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (addr->addr.sa.sa_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  if (bind(fd, &addr->addr.sa, addr->size) < 0 || listen(fd, 128) < 0) {
    coap_log_warn("coap_new_endpoint: TCP: %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  ep->fd = fd;
  local_of(fd, &ep->bind_addr);
  ep->io = (pt_io_handle){PT_IO_ENDPOINT, ep};
  if (watch(ep->context, EPOLL_CTL_ADD, fd, &ep->io, 0) < 0) {
    close(fd);
    ep->fd = -1;
    return -1;
  }
  return 0;
}

int pt_io_tcp_accept(coap_endpoint_t *ep, coap_address_t *peer,
                     coap_address_t *local) {
  coap_address_init(peer);
  peer->size = sizeof(peer->addr);
  int fd = accept4(ep->fd, &peer->addr.sa, &peer->size,
                   SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return -1;
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  local_of(fd, local);
  return fd;
}

void pt_io_close_fd(int fd) {
  if (fd >= 0)
    close(fd);
}

int pt_io_tcp_register(coap_session_t *s, int want_write) {
  s->io = (pt_io_handle){PT_IO_TCP, s};
  return watch(s->context, EPOLL_CTL_ADD, s->fd, &s->io, want_write);
}

void pt_io_tcp_want_write(coap_session_t *s, int on) {
  if (s->fd >= 0 && s->context->epfd >= 0)
    watch(s->context, EPOLL_CTL_MOD, s->fd, &s->io, on);
}

int pt_io_tcp_connect(coap_session_t *s, const coap_address_t *local) {
  int fd = tcp_socket(s->remote.addr.sa.sa_family);
  if (fd < 0)
    return -1;
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  if ((local && bind(fd, &local->addr.sa, local->size) < 0) ||
      (connect(fd, &s->remote.addr.sa, s->remote.size) < 0 &&
       errno != EINPROGRESS)) {
    coap_log_warn("client session: TCP connect: %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  s->fd = fd;
  local_of(fd, &s->local);
  if (pt_io_tcp_register(s, 1) < 0) {
    close(fd);
    s->fd = -1;
    return -1;
  }
  return 0;
}

int pt_io_tcp_connect_result(coap_session_t *s) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (!err)
    local_of(s->fd, &s->local);
  return err;
}

ssize_t pt_io_tcp_read(coap_session_t *s, uint8_t *buf, size_t len) {
  ssize_t n = recv(s->fd, buf, len, MSG_DONTWAIT);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -2 : -1;
  return n;
}

ssize_t pt_io_tcp_write(coap_session_t *s, const uint8_t *data, size_t len) {
  ssize_t n = send(s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  return n;
}
