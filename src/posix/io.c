/*
 * io.c -- the POSIX/Linux backend: UDP sockets, the epoll set behind
 * coap_context_get_coap_fd(), the wake eventfd and the deadline timerfd,
 * and the coap_io_* loop functions.
 *
 * Datagrams are read in batches with recvmmsg() so that one wake-up serves
 * many requests. All protocol work happens in the sans-I/O core
 * (pt_recv_datagram, pt_timers_run); this file only moves bytes and time.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "context.h"
#include "dtls.h"
#include "io.h"
#include "pktinfo.h"
#include "recv.h"
#include "session.h"
#include "tcp.h"

#define RX_BATCH 32
#define RX_BUF 1536 /* the largest datagram we accept (RFC 7252 4.6) */
#define TX_BATCH 32
#define TX_BUF 1152 /* larger datagrams skip the queue (COAP_DEFAULT_MTU) */
#define MAX_EVENTS 64

/*
 * Datagrams to peers of an endpoint leave in batches with sendmmsg():
 * while a batch of received datagrams is handled, and while due timers run
 * (separate responses, retransmissions), pt_io_send() copies each datagram
 * to the send queue (answers are built in a PDU that is reused at once).
 * The queue is flushed when that work is done, when it is full, before a
 * datagram for another socket or one that does not fit, and before its
 * socket closes. Other sends go out at once. Datagrams in a row of one
 * size (the last may be shorter) to one peer from one source -- answers
 * to one client's burst, notifications to its observers -- leave as one
 * UDP GSO message (UDP_SEGMENT), which the kernel carries through its
 * stack once and cuts into the datagrams at the end; where the kernel
 * refuses it, the queue goes back to one message per datagram.
 */
typedef struct tx_queue {
  int active; /* queueing (inside a batch or timer run) */
  int fd;     /* the socket of the queued datagrams */
  unsigned n; /* datagrams queued: iov[] and buf[] */
  unsigned m; /* the messages they make, as sendmmsg() takes them: msgs[] */
  size_t seg; /* the last message's segment size: that of its first */
  int open;   /* another segment may join it: UDP GSO not refused, and
               * its datagrams so far all of the segment size */
  struct mmsghdr msgs[TX_BATCH];
  struct iovec iov[TX_BATCH];
  uint8_t buf[TX_BATCH][TX_BUF];
  /* Per message: to whose peer it goes, the length of its source control
   * message, and that (with room for a UDP_SEGMENT one after it). */
  const coap_session_t *sess[TX_BATCH];
  size_t clen[TX_BATCH];
  uint8_t ctrl[TX_BATCH][PT_PKTINFO_SPACE + CMSG_SPACE(sizeof(uint16_t))];
  int no_gso; /* the kernel refused UDP_SEGMENT once: not tried again */
} tx_queue;

struct pt_io_state {
  pt_io_handle wake;
  pt_io_handle timer;
  struct mmsghdr msgs[RX_BATCH];
  struct iovec iov[RX_BATCH];
  coap_address_t from[RX_BATCH]; /* each one's peer, written in place */
  uint8_t ctrl[RX_BATCH][PT_PKTINFO_SPACE]; /* each one's local address */
  uint8_t buf[RX_BATCH][RX_BUF];
  unsigned rx_used; /* headers recvmmsg() wrote to last: to reset */
  tx_queue tx;
};

/* ---- the context ----------------------------------------------------------
 */

static int epoll_add(coap_context_t *ctx, int fd, pt_io_handle *h) {
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};
  return epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int pt_io_context_init(coap_context_t *ctx) {
  struct pt_io_state *io = calloc(1, sizeof(*io));
  if (!io)
    return -1;
  ctx->io = io;
  ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
  ctx->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ctx->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (ctx->epfd < 0 || ctx->wake_fd < 0 || ctx->timer_fd < 0)
    return -1;
  io->wake = (pt_io_handle){PT_IO_WAKE, ctx};
  io->timer = (pt_io_handle){PT_IO_TIMER, ctx};
  if (epoll_add(ctx, ctx->wake_fd, &io->wake) < 0 ||
      epoll_add(ctx, ctx->timer_fd, &io->timer) < 0)
    return -1;
  /* The receive headers point at fixed buffers: set once. recvmmsg()
   * writes only the lengths and flags of the ones it fills (rx_used). */
  for (int i = 0; i < RX_BATCH; i++) {
    io->iov[i].iov_base = io->buf[i];
    io->iov[i].iov_len = RX_BUF;
    io->msgs[i].msg_hdr.msg_iov = &io->iov[i];
    io->msgs[i].msg_hdr.msg_iovlen = 1;
    io->msgs[i].msg_hdr.msg_name = &io->from[i].addr;
    io->msgs[i].msg_hdr.msg_control = io->ctrl[i];
  }
  io->rx_used = RX_BATCH;
  /* So do the send buffers. */
  for (int i = 0; i < TX_BATCH; i++)
    io->tx.iov[i].iov_base = io->tx.buf[i];
  return 0;
}

void pt_io_context_free(coap_context_t *ctx) {
  if (ctx->epfd >= 0)
    close(ctx->epfd);
  if (ctx->wake_fd >= 0)
    close(ctx->wake_fd);
  if (ctx->timer_fd >= 0)
    close(ctx->timer_fd);
  ctx->epfd = ctx->wake_fd = ctx->timer_fd = -1;
  free(ctx->io);
  ctx->io = NULL;
}

void pt_io_wake(coap_context_t *ctx) {
  uint64_t one = 1;
  if (ctx->wake_fd >= 0 && write(ctx->wake_fd, &one, sizeof(one)) < 0 &&
      errno != EAGAIN)
    coap_log_warn("wake: %s\n", strerror(errno));
}

/* ---- sockets --------------------------------------------------------------
 */

static void tx_flush(struct tx_queue *q);

static int udp_socket(int family) {
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    coap_log_warn("socket: %s\n", strerror(errno));
  return fd;
}

static void read_local(int fd, coap_address_t *addr) {
  coap_address_init(addr);
  addr->size = sizeof(addr->addr);
  getsockname(fd, &addr->addr.sa, &addr->size);
}

int pt_io_endpoint_open(coap_endpoint_t *ep, const coap_address_t *addr) {
  int fd = udp_socket(addr->addr.sa.sa_family);
  if (fd < 0)
    return -1;
  /* No SO_REUSEADDR: on Linux it lets a second UDP socket bind the same
   * address and port and take the datagrams, so a second server would
   * start silently; without it bind() fails with EADDRINUSE. */
  int on = 1;
  if (ep->context && ep->context->reuseport &&
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
    coap_log_warn("coap_new_endpoint: SO_REUSEPORT: %s\n", strerror(errno));
  if (addr->addr.sa.sa_family == AF_INET6) {
    int off = 0; /* a "::" endpoint also serves IPv4 peers */
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (bind(fd, &addr->addr.sa, addr->size) < 0) {
    coap_log_warn("coap_new_endpoint: bind: %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  ep->fd = fd;
  read_local(fd, &ep->bind_addr);
  /* Bound to one unicast address: that is every datagram's local address
   * (pktinfo.h); the kernel is asked only when it could be another. */
  ep->ifindex =
      pt_pktinfo_needed(&ep->bind_addr) ? -1 : pt_pktinfo_owner(&ep->bind_addr);
  ep->pktinfo = ep->ifindex < 0;
  if (ep->pktinfo && pt_pktinfo_enable(fd, addr->addr.sa.sa_family) < 0)
    coap_log_debug("coap_new_endpoint: no per-datagram local address: %s\n",
                   strerror(errno));
  ep->io = (pt_io_handle){PT_IO_ENDPOINT, ep};
  if (epoll_add(ep->context, fd, &ep->io) < 0) {
    close(fd);
    ep->fd = -1;
    return -1;
  }
  return 0;
}

void pt_io_endpoint_close(coap_endpoint_t *ep) {
  struct pt_io_state *io = ep->context ? ep->context->io : NULL;
  if (io && io->tx.n && io->tx.fd == ep->fd)
    tx_flush(&io->tx);
  if (ep->fd >= 0)
    close(ep->fd); /* closing removes it from the epoll set */
  ep->fd = -1;
}

int pt_io_client_open(coap_session_t *s, const coap_address_t *local) {
  int fd = udp_socket(s->remote.addr.sa.sa_family);
  if (fd < 0)
    return -1;
  if (local && bind(fd, &local->addr.sa, local->size) < 0) {
    coap_log_warn("client session: bind: %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  /* A request to a group is answered from each member's own address
   * (RFC 7252 8.2): a socket connected to the group would drop them. */
  pt_pktinfo_enable(fd, s->remote.addr.sa.sa_family);
  if (!s->mcast && connect(fd, &s->remote.addr.sa, s->remote.size) < 0) {
    coap_log_warn("client session: connect: %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  s->fd = fd;
  read_local(fd, &s->local);
  s->io = (pt_io_handle){PT_IO_CLIENT, s};
  if (epoll_add(s->context, fd, &s->io) < 0) {
    close(fd);
    s->fd = -1;
    return -1;
  }
  return 0;
}

void pt_io_client_close(coap_session_t *s) {
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
}

/* ---- batched sends --------------------------------------------------------
 */

/*
 * Whether a datagram (@len bytes to @s's peer, its source control message
 * in ctrl[k + 1], @clen bytes) can join message @k, the last, as one more
 * UDP GSO segment: the message is open (q->open), goes to the same
 * session's peer (its address does not change, and a session freed while
 * queued flushes the queue first: pt_io_session_freed) from the same
 * source, and the datagram is no larger than its segments.
 */
static int gso_joins(const tx_queue *q, unsigned k, const coap_session_t *s,
                     size_t len, size_t clen) {
  return q->open && q->sess[k] == s && len <= q->seg && q->clen[k] == clen &&
         (!clen || memcmp(q->ctrl[k], q->ctrl[k + 1], clen) == 0);
}

/* Adds the next datagram to message @k as a segment: with its second, the
 * message gets its UDP_SEGMENT control message (Linux 4.18, "UDP GSO"),
 * so that the kernel passes the datagrams down its stack once and cuts
 * them up at the end. */
static void gso_extend(tx_queue *q, unsigned k) {
  struct msghdr *h = &q->msgs[k].msg_hdr;
  if (h->msg_iovlen++ > 1)
    return;
  size_t clen = q->clen[k];
  struct cmsghdr *c = (struct cmsghdr *)(void *)(q->ctrl[k] + clen);
  memset(c, 0, CMSG_SPACE(sizeof(uint16_t)));
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t seg = (uint16_t)q->seg;
  memcpy(CMSG_DATA(c), &seg, sizeof(seg));
  h->msg_control = q->ctrl[k];
  h->msg_controllen = clen + CMSG_SPACE(sizeof(uint16_t));
}

/* Sends the queue: every message, one sendmmsg() call per batch; one
 * that fails is skipped, as sendto() would drop it. */
static void tx_flush(tx_queue *q) {
  unsigned off = 0, m = q->m;
  if (!q->n)
    return;
  while (off < m) {
    int r = sendmmsg(q->fd, q->msgs + off, m - off, 0);
    if (r < 0 && q->msgs[off].msg_hdr.msg_iovlen > 1 && errno != ECONNREFUSED &&
        errno != EAGAIN && errno != ENOBUFS) {
      /* No UDP GSO here: from now on one message per datagram. */
      coap_log_debug("* UDP GSO refused (%s): not used\n", strerror(errno));
      q->no_gso = 1;
      struct msghdr h = q->msgs[off].msg_hdr;
      for (size_t k = 0; k < h.msg_iovlen; k++) {
        struct msghdr one = h;
        one.msg_iov = &h.msg_iov[k];
        one.msg_iovlen = 1;
        one.msg_controllen -= CMSG_SPACE(sizeof(uint16_t));
        if (!one.msg_controllen)
          one.msg_control = NULL;
        (void)sendmsg(q->fd, &one, 0);
      }
      r = 1;
    } else if (r <= 0) { /* skip the message that failed, as sendto() would */
      if (r < 0 && errno != ECONNREFUSED)
        coap_log_debug("* sendmmsg: %s\n", strerror(errno));
      r = 1;
    }
    off += (unsigned)r;
  }
  q->n = q->m = 0;
}

/*
 * The control message that makes a datagram to @s's peer leave from the
 * address the peer last sent to (coap_session_get_addr_local()), written to
 * @ctrl; its length, or 0 when the endpoint is bound to one address (the
 * kernel can only use that one). An IPv4 endpoint's test is inline.
 */
static size_t source_ctrl(const coap_session_t *s, uint8_t *ctrl) {
  const coap_address_t *bound = &s->endpoint->bind_addr;
  if (bound->addr.sa.sa_family == AF_INET
          ? bound->addr.sin.sin_addr.s_addr != htonl(INADDR_ANY)
          : !coap_address_isany(bound))
    return 0;
  if (coap_address_isany(&s->local))
    return 0;
  return pt_pktinfo_write(ctrl, &s->local, s->ifindex);
}

/* memcpy() of 16 to 64 bytes (most answers) as two or four overlapping
 * 16-byte moves, inline. */
static void copy_short(uint8_t *dst, const uint8_t *src, size_t len) {
  memcpy(dst, src, 16);
  memcpy(dst + len - 16, src + len - 16, 16);
  if (len > 32) {
    memcpy(dst + 16, src + 16, 16);
    memcpy(dst + len - 32, src + len - 32, 16);
  }
}

/* Makes queued datagram @i (@len bytes to @s's peer, its source control
 * message in ctrl[m], @clen bytes, m the message count) one more segment
 * of the last message (gso_joins) or a message of its own. */
static void tx_place(tx_queue *q, const coap_session_t *s, unsigned i,
                     size_t len, size_t clen) {
  unsigned m = q->m; /* m <= i < TX_BATCH */
  if (m && gso_joins(q, m - 1, s, len, clen)) {
    gso_extend(q, m - 1);
    q->open = len == q->seg; /* a shorter one ends the message */
    return;
  }
  struct msghdr *h = &q->msgs[m].msg_hdr;
  h->msg_name = (void *)&s->remote.addr; /* lives until the flush */
  h->msg_namelen = s->remote.size;
  h->msg_iov = &q->iov[i];
  h->msg_iovlen = 1;
  h->msg_control = clen ? q->ctrl[m] : NULL;
  h->msg_controllen = clen;
  q->sess[m] = s;
  q->clen[m] = clen;
  q->m = m + 1;
  q->seg = len;
  q->open = !q->no_gso;
}

/* Queues a datagram (@len <= TX_BUF) to @s's peer on the socket of @ep,
 * its endpoint; returns @len. Only an endpoint that learns each
 * datagram's local address (ep->pktinfo: bound to a wildcard, among
 * others) may need a source. */
__attribute__((noinline)) static ssize_t
tx_queue_add(tx_queue *q, const coap_endpoint_t *ep, const coap_session_t *s,
             const uint8_t *data, size_t len) {
  if (q->n == TX_BATCH || (q->n && q->fd != ep->fd))
    tx_flush(q);
  q->fd = ep->fd;
  unsigned i = q->n++;
  memcpy(q->buf[i], data, len);
  q->iov[i].iov_len = len;
  size_t clen = ep->pktinfo ? source_ctrl(s, q->ctrl[q->m]) : 0;
  tx_place(q, s, i, len, clen);
  return (ssize_t)len;
}

static ssize_t send_one(int fd, const coap_address_t *to, const uint8_t *data,
                        size_t len, uint8_t *ctrl, size_t clen) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  struct msghdr m = {.msg_name = (void *)&to->addr,
                     .msg_namelen = to->size,
                     .msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = clen ? ctrl : NULL,
                     .msg_controllen = clen};
  return sendmsg(fd, &m, 0);
}

/* A datagram that is not queued goes at once: a client session's, one
 * sent outside a batch or timer run, or one too large for the queue (which
 * is flushed first, to keep the order). */
__attribute__((noinline)) static ssize_t
send_now(coap_session_t *s, const uint8_t *data, size_t len) {
  ssize_t n;
  struct pt_io_state *io = s->context->io;
  if (io && io->tx.active && s->fd < 0)
    tx_flush(&io->tx);
  if (s->fd >= 0 && s->mcast) /* a client session to a group: unconnected */
    n = sendto(s->fd, data, len, 0, &s->remote.addr.sa, s->remote.size);
  else if (s->fd >= 0) /* a client session's own connected socket */
    n = send(s->fd, data, len, 0);
  else if (s->endpoint) {
    uint8_t ctrl[PT_PKTINFO_SPACE];
    size_t clen = source_ctrl(s, ctrl);
    n = send_one(s->endpoint->fd, &s->remote, data, len, ctrl, clen);
  } else
    return -1;
  if (n < 0 && errno != ECONNREFUSED)
    coap_log_debug("* %s: send: %s\n", coap_session_str(s), strerror(errno));
  return n;
}

ssize_t pt_io_send(coap_session_t *s, const uint8_t *data, size_t len) {
  coap_endpoint_t *ep = s->endpoint;
  struct pt_io_state *io = s->context->io;
  if (!io || !io->tx.active || s->fd >= 0 || !ep || ep->fd < 0 || len > TX_BUF)
    return send_now(s, data, len);
  /* The common case is tx_queue_add() inline and without a call: room in
   * the queue for this socket, no source to name, 16 to 64 bytes. */
  tx_queue *q = &io->tx;
  if (q->n == TX_BATCH || (q->n && q->fd != ep->fd) || ep->pktinfo ||
      len < 16 || len > 64)
    return tx_queue_add(q, ep, s, data, len);
  q->fd = ep->fd;
  unsigned i = q->n++;
  copy_short(q->buf[i], data, len);
  q->iov[i].iov_len = len;
  tx_place(q, s, i, len, 0);
  return (ssize_t)len;
}

void pt_io_session_freed(const coap_session_t *s) {
  struct pt_io_state *io = s->context ? s->context->io : NULL;
  if (!io)
    return;
  for (unsigned k = 0; k < io->tx.m; k++)
    if (io->tx.sess[k] == s) {
      tx_flush(&io->tx);
      return;
    }
}

ssize_t pt_io_endpoint_send(coap_endpoint_t *ep, const coap_address_t *to,
                            const coap_address_t *local, int ifindex,
                            const uint8_t *data, size_t len) {
  uint8_t ctrl[PT_PKTINFO_SPACE];
  size_t clen = 0;
  if (ep->fd < 0)
    return -1;
  if (coap_address_isany(&ep->bind_addr) && !coap_address_isany(local))
    clen = pt_pktinfo_write(ctrl, local, ifindex);
  return send_one(ep->fd, to, data, len, ctrl, clen);
}

/* ---- reading ---------------------------------------------------------------- */

/*
 * The peer address recvmmsg() wrote into @a, made a whole coap_address_t:
 * its size (the kernel reports a longer address's full length: kept to
 * what was stored) and the bytes after it zeroed, as coap_address_init()
 * leaves them (a buffer of the batch holds the previous datagram's).
 */
static coap_address_t *rx_peer(coap_address_t *a, socklen_t len) {
  if (len >= sizeof(a->addr)) {
    a->size = sizeof(a->addr);
    return a;
  }
  a->size = len;
  if (len == sizeof(struct sockaddr_in)) /* the common case: inline */
    memset((uint8_t *)&a->addr + sizeof(struct sockaddr_in), 0,
           sizeof(a->addr) - sizeof(struct sockaddr_in));
  else
    memset((uint8_t *)&a->addr + len, 0, sizeof(a->addr) - len);
  return a;
}

static void read_endpoint(coap_endpoint_t *ep, coap_tick_t now) {
  struct pt_io_state *io = ep->context->io;
  int was_active = io->tx.active;
  io->tx.active = 1;
  for (;;) {
    /* Room for control data on every socket: one that asks for none gets
     * none (and its length back as 0). */
    for (unsigned i = 0; i < io->rx_used; i++) {
      io->msgs[i].msg_hdr.msg_namelen = sizeof(io->from[i].addr);
      io->msgs[i].msg_hdr.msg_controllen = sizeof(io->ctrl[i]);
    }
    int n = recvmmsg(ep->fd, io->msgs, RX_BATCH, MSG_DONTWAIT, NULL);
    io->rx_used = n > 0 ? (unsigned)n : 0;
    if (n <= 0)
      break;
    for (int i = 0; i < n && ep->fd >= 0; i++) {
      struct msghdr *h = &io->msgs[i].msg_hdr;
      if (h->msg_flags & MSG_TRUNC)
        continue; /* larger than any message we accept */
      coap_address_t *peer = rx_peer(&io->from[i], h->msg_namelen);
      const coap_address_t *local = &ep->bind_addr;
      int ifindex = ep->ifindex;
      coap_address_t got;
      if (ep->pktinfo) {
        got = ep->bind_addr;
        pt_pktinfo_read(h, ep->bind_addr.addr.sa.sa_family,
                        coap_address_get_port(&ep->bind_addr), &got, &ifindex);
        local = &got;
      }
      if (ep->proto == COAP_PROTO_DTLS) { /* dtls.c decrypts, then recv.c */
        pt_dtls_endpoint_input(ep, peer, local, ifindex, io->buf[i],
                               io->msgs[i].msg_len, now);
        continue;
      }
      coap_session_t *s = pt_session_last(ep, peer);
      if (!s)
        s = pt_session_for_other_peer(ep, peer, local, ifindex, now);
      if (!s)
        continue;
      s->local = *local; /* this datagram's: the answer leaves from it */
      s->ifindex = ifindex;
      pt_recv_datagram(s, io->buf[i], io->msgs[i].msg_len, now);
    }
    tx_flush(&io->tx);
    if (n < RX_BATCH || ep->fd < 0)
      break;
  }
  io->tx.active = was_active;
}

/* A client session's datagrams: from its server, or for a session to a
 * group from any member, which becomes the session's remote address while
 * its answer is handled (coap_session_get_addr_remote(3)). */
static void read_client(coap_session_t *s, coap_tick_t now) {
  struct pt_io_state *io = s->context->io;
  coap_session_reference(s);
  while (s->fd >= 0) {
    struct iovec iov = {.iov_base = io->buf[0], .iov_len = RX_BUF};
    struct msghdr m = {.msg_name = &io->from[0].addr,
                       .msg_namelen = sizeof(io->from[0].addr),
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = io->ctrl[0],
                       .msg_controllen = sizeof(io->ctrl[0])};
    ssize_t n = recvmsg(s->fd, &m, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ECONNREFUSED) /* ICMP port unreachable */
        pt_session_unreachable(s);
      break;
    }
    if (m.msg_flags & MSG_TRUNC)
      continue; /* larger than any message we accept */
    coap_address_t local = s->local;
    if (pt_pktinfo_read(&m, s->local.addr.sa.sa_family,
                        coap_address_get_port(&s->local), &local, &s->ifindex))
      s->local = local;
    if (s->mcast)
      s->remote = *rx_peer(&io->from[0], m.msg_namelen);
    if (s->dtls)
      pt_dtls_session_input(s, io->buf[0], (size_t)n, now);
    else
      pt_recv_datagram(s, io->buf[0], (size_t)n, now);
  }
  coap_session_release(s);
}

static void drain_fd(int fd) {
  uint64_t v;
  while (read(fd, &v, sizeof(v)) > 0)
    ;
}

static void handle_event(coap_context_t *ctx, const struct epoll_event *ev,
                         coap_tick_t now) {
  pt_io_handle *h = ev->data.ptr;
  switch (h->kind) {
  case PT_IO_ENDPOINT:
    if (COAP_PROTO_RELIABLE(((coap_endpoint_t *)h->owner)->proto))
      pt_tcp_accept(h->owner, now);
    else
      read_endpoint(h->owner, now);
    break;
  case PT_IO_TCP:
    pt_tcp_io(h->owner, (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0,
              (ev->events & EPOLLOUT) != 0, now);
    break;
  case PT_IO_CLIENT:
    read_client(h->owner, now);
    break;
  case PT_IO_WAKE:
    drain_fd(ctx->wake_fd);
    if (ctx->on_wake)
      ctx->on_wake(ctx);
    break;
  case PT_IO_TIMER:
    drain_fd(ctx->timer_fd);
    ctx->timer_fd_armed = 0;
    break;
  }
}

/* ---- deadlines ---------------------------------------------------------- */

/* Keeps the timerfd at the earliest deadline so that an application
 * polling the epoll fd wakes when a timer is due. Only re-armed when the
 * deadline changes. */
static void arm_timer_fd(coap_context_t *ctx, coap_tick_t next,
                         coap_tick_t now) {
  if (next == ctx->timer_fd_armed)
    return;
  struct itimerspec its;
  memset(&its, 0, sizeof(its));
  if (next) { /* relative: ticks have their own epoch */
    uint64_t left = next > now ? next - now : 0;
    uint64_t ns = left * (1000000000u / COAP_TICKS_PER_SECOND);
    its.it_value.tv_sec = (time_t)(ns / 1000000000u);
    its.it_value.tv_nsec = (long)(ns % 1000000000u);
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
      its.it_value.tv_nsec = 1;
  }
  if (timerfd_settime(ctx->timer_fd, 0, &its, NULL) == 0)
    ctx->timer_fd_armed = next;
}

/* Runs what is due and returns the milliseconds until the next deadline
 * (0 when none is armed), re-arming the timerfd. */
static unsigned run_due(coap_context_t *ctx, coap_tick_t now) {
  tx_queue *q = ctx->io ? &ctx->io->tx : NULL;
  int was_active = q ? q->active : 0;
  if (q)
    q->active = 1;
  ctx->in_io_process++;
  pt_timers_run(ctx, now);
  if (q) {
    tx_flush(q);
    q->active = was_active;
  }
  ctx->in_io_process--;
  coap_tick_t next = pt_timers_next(ctx);
  arm_timer_fd(ctx, next, now);
  if (!next)
    return 0;
  coap_tick_t left = next > now ? next - now : 0;
  uint64_t ms =
      (left * 1000u + COAP_TICKS_PER_SECOND - 1) / COAP_TICKS_PER_SECOND;
  return ms ? (unsigned)ms : 1;
}

/* A timer armed between two passes of the loop (the application called
 * coap_send(), coap_resource_notify_observers(), ... from its own code)
 * that is due before the timerfd: an application waiting on the context's
 * fd with select() or epoll must wake for it (coap_io(3), second method).
 * Inside a pass, run_due() re-arms the timerfd once at the end. */
void pt_io_deadline_changed(coap_context_t *ctx, coap_tick_t deadline) {
  if (ctx->timer_fd < 0 || ctx->in_io_process ||
      (ctx->timer_fd_armed && ctx->timer_fd_armed <= deadline))
    return;
  arm_timer_fd(ctx, deadline, pt_now());
}

/* ---- the public loop -------------------------------------------------------
 */

int coap_context_get_coap_fd(const coap_context_t *ctx) {
  return ctx ? ctx->epfd : -1;
}

unsigned int coap_io_prepare_epoll(coap_context_t *ctx, coap_tick_t now) {
  return ctx ? run_due(ctx, now) : 0;
}

void coap_io_do_epoll(coap_context_t *ctx, struct epoll_event *events,
                      size_t nevents) {
  coap_tick_t now = pt_now();
  ctx->in_io_process++; /* coap_io_prepare_epoll() re-arms the timerfd */
  for (size_t i = 0; i < nevents; i++)
    handle_event(ctx, &events[i], now);
  ctx->in_io_process--;
}

static int wait_ms_for(uint32_t timeout_ms, unsigned next_ms) {
  long wait;
  if (timeout_ms == COAP_IO_NO_WAIT)
    return 0;
  wait = timeout_ms == COAP_IO_WAIT ? -1 : (long)timeout_ms;
  if (next_ms && (wait < 0 || next_ms < (unsigned long)wait))
    wait = next_ms;
  return wait > 0x7fffffff ? 0x7fffffff : (int)wait;
}

int coap_io_process(coap_context_t *ctx, uint32_t timeout_ms) {
  if (!ctx || ctx->epfd < 0)
    return -1;
  pthread_t self = pthread_self();
  if (!pthread_equal(self, ctx->loop_thread)) /* the loop moved threads */
    __atomic_store_n(&ctx->loop_thread, self, __ATOMIC_RELEASE);
  coap_tick_t start = pt_now();
  unsigned next_ms = run_due(ctx, start);
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait(ctx->epfd, events, MAX_EVENTS,
                     wait_ms_for(timeout_ms, next_ms));
  if (n < 0 && errno != EINTR) {
    coap_log_warn("coap_io_process: epoll_wait: %s\n", strerror(errno));
    return -1;
  }
  coap_tick_t now = pt_now();
  ctx->in_io_process++; /* run_due() below re-arms the timerfd */
  for (int i = 0; i < n; i++)
    handle_event(ctx, &events[i], now);
  ctx->in_io_process--;
  run_due(ctx, pt_now());
  uint64_t ms = (pt_now() - start) * 1000u / COAP_TICKS_PER_SECOND;
  return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

int coap_io_process_with_fds(coap_context_t *ctx, uint32_t timeout_ms, int nfds,
                             fd_set *readfds, fd_set *writefds,
                             fd_set *exceptfds) {
  if (!ctx || ctx->epfd < 0)
    return -1;
  coap_tick_t start = pt_now();
  unsigned next_ms = run_due(ctx, start);
  fd_set rfds, wfds, efds;
  FD_ZERO(&rfds);
  FD_ZERO(&wfds);
  FD_ZERO(&efds);
  if (readfds)
    rfds = *readfds;
  if (writefds)
    wfds = *writefds;
  if (exceptfds)
    efds = *exceptfds;
  FD_SET(ctx->epfd, &rfds);
  int maxfd = (nfds > ctx->epfd + 1 ? nfds : ctx->epfd + 1);
  int wait = wait_ms_for(timeout_ms, next_ms);
  struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
  int n = select(maxfd, &rfds, &wfds, &efds, wait < 0 ? NULL : &tv);
  if (n < 0 && errno != EINTR)
    return -1;
  if (n > 0 && FD_ISSET(ctx->epfd, &rfds)) {
    FD_CLR(ctx->epfd, &rfds);
    coap_io_process(ctx, COAP_IO_NO_WAIT);
  }
  if (readfds)
    *readfds = rfds;
  if (writefds)
    *writefds = wfds;
  if (exceptfds)
    *exceptfds = efds;
  run_due(ctx, pt_now());
  uint64_t ms = (pt_now() - start) * 1000u / COAP_TICKS_PER_SECOND;
  return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

unsigned int coap_io_prepare_io(coap_context_t *ctx, coap_socket_t *sockets[],
                                unsigned int max_sockets,
                                unsigned int *num_sockets, coap_tick_t now) {
  /* Petrel's sockets all sit behind the one epoll fd: none is listed. */
  (void)sockets, (void)max_sockets;
  if (num_sockets)
    *num_sockets = 0;
  return ctx ? run_due(ctx, now) : 0;
}

void coap_io_do_io(coap_context_t *ctx, coap_tick_t now) {
  (void)now;
  if (ctx)
    coap_io_process(ctx, COAP_IO_NO_WAIT);
}

int coap_io_pending(coap_context_t *context) {
  if (!context)
    return 0;
  /* A context without sockets (the sans-I/O tests) has no pass to run. */
  if (context->epfd >= 0 && coap_io_process(context, COAP_IO_NO_WAIT) < 0)
    return 0;
  return pt_context_pending(context);
}

const char *coap_socket_strerror(void) {
  return strerror(errno);
}
