/*
 * lossy_relay.c -- the fault-injecting UDP relay (see lossy_relay.h).
 *
 * One thread, one epoll set: the listening socket faces the clients, and
 * each client gets an upstream socket connected to the server. A received
 * datagram is either dropped or put, once or twice, on a queue with a
 * release time; the loop sends what is due and sleeps until the next
 * release or the next datagram. The queue is an unsorted array scanned
 * once per loop pass: a test holds at most a few hundred datagrams in it.
 */
#define _GNU_SOURCE
#include "lossy_relay.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_PEERS 4096
#define MAX_QUEUED 65536
#define DGRAM_MAX 2048

typedef struct peer {
  struct sockaddr_storage addr; /* the client */
  socklen_t addr_len;
  int fd; /* upstream socket, connected */
} peer;

typedef struct queued {
  uint64_t due_ms;
  int dir; /* 0 up, 1 down */
  int peer;
  size_t len;
  uint8_t *data;
} queued;

struct relay {
  pthread_t thread;
  int stop; /* accessed atomically */
  int ep;   /* epoll */
  int listen_fd;
  uint16_t port;
  struct sockaddr_storage upstream;
  socklen_t upstream_len;
  relay_fault fault[2];
  uint64_t rng;
  peer peers[MAX_PEERS];
  int npeers;
  queued *q;
  size_t nq;
  pthread_mutex_t lock; /* guards stats */
  relay_stats stats;
};

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* xorshift64*: small, seeded, good enough for coin flips. */
static double uniform(relay *r) {
  r->rng ^= r->rng >> 12;
  r->rng ^= r->rng << 25;
  r->rng ^= r->rng >> 27;
  return (double)((r->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* ---- the queue -------------------------------------------------------------
 */

static void enqueue(relay *r, int dir, int p, const uint8_t *data, size_t len,
                    uint64_t due) {
  if (r->nq == MAX_QUEUED)
    return; /* a full queue drops, like a full router buffer */
  queued *e = &r->q[r->nq];
  e->data = malloc(len ? len : 1);
  if (!e->data)
    return;
  memcpy(e->data, data, len);
  e->len = len;
  e->dir = dir;
  e->peer = p;
  e->due_ms = due;
  r->nq++;
}

static void count(relay *r, uint64_t *field) {
  pthread_mutex_lock(&r->lock);
  (*field)++;
  pthread_mutex_unlock(&r->lock);
}

/* Decides the fate of one received datagram. */
static void admit(relay *r, int dir, int p, const uint8_t *data, size_t len) {
  const relay_fault *f = &r->fault[dir];
  count(r, &r->stats.in[dir]);
  if (uniform(r) < f->loss) {
    count(r, &r->stats.dropped[dir]);
    return;
  }
  int copies = uniform(r) < f->dup ? 2 : 1;
  if (copies == 2)
    count(r, &r->stats.duplicated[dir]);
  for (int i = 0; i < copies; i++) {
    uint64_t delay = f->delay_ms ? (uint64_t)(uniform(r) * f->delay_ms) : 0;
    if (uniform(r) < f->reorder) {
      delay += f->extra_ms;
      count(r, &r->stats.reordered[dir]);
    }
    enqueue(r, dir, p, data, len, now_ms() + delay);
  }
}

static void deliver(relay *r, const queued *e) {
  const peer *p = &r->peers[e->peer];
  ssize_t n;
  if (e->dir == 0)
    n = send(p->fd, e->data, e->len, 0);
  else
    n = sendto(r->listen_fd, e->data, e->len, 0,
               (const struct sockaddr *)&p->addr, p->addr_len);
  if (n >= 0)
    count(r, &r->stats.out[e->dir]);
}

/* Sends what is due; returns ms until the next release (or 20). */
static int flush_due(relay *r) {
  uint64_t now = now_ms(), next = now + 20;
  size_t i = 0;
  while (i < r->nq) {
    queued *e = &r->q[i];
    if (e->due_ms <= now) {
      deliver(r, e);
      free(e->data);
      r->q[i] = r->q[--r->nq]; /* order in the array does not matter */
      continue;
    }
    if (e->due_ms < next)
      next = e->due_ms;
    i++;
  }
  return (int)(next - now);
}

/* ---- sockets ------------------------------------------------------------- */

static int find_peer(relay *r, const struct sockaddr_storage *a,
                     socklen_t len) {
  for (int i = 0; i < r->npeers; i++)
    if (r->peers[i].addr_len == len && memcmp(&r->peers[i].addr, a, len) == 0)
      return i;
  if (r->npeers == MAX_PEERS)
    return -1;
  int fd = socket(r->upstream.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (const struct sockaddr *)&r->upstream, r->upstream_len) < 0) {
    close(fd);
    return -1;
  }
  int i = r->npeers++;
  r->peers[i].addr = *a;
  r->peers[i].addr_len = len;
  r->peers[i].fd = fd;
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i + 1};
  epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev);
  return i;
}

static void read_clients(relay *r) {
  uint8_t buf[DGRAM_MAX];
  for (;;) {
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(r->listen_fd, buf, sizeof(buf), MSG_DONTWAIT,
                         (struct sockaddr *)&from, &flen);
    if (n < 0)
      return;
    int p = find_peer(r, &from, flen);
    if (p >= 0)
      admit(r, 0, p, buf, (size_t)n);
  }
}

static void read_server(relay *r, int p) {
  uint8_t buf[DGRAM_MAX];
  for (;;) {
    ssize_t n = recv(r->peers[p].fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ECONNREFUSED)
        continue; /* the server is not up (yet): ignore the ICMP */
      return;
    }
    admit(r, 1, p, buf, (size_t)n);
  }
}

static void *run(void *arg) {
  relay *r = arg;
  struct epoll_event evs[64];
  while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
    int wait = flush_due(r);
    int n = epoll_wait(r->ep, evs, 64, wait);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u32 == 0)
        read_clients(r);
      else
        read_server(r, (int)evs[i].data.u32 - 1);
    }
  }
  return NULL;
}

static int open_listener(relay *r) {
  struct sockaddr_storage a;
  memset(&a, 0, sizeof(a));
  socklen_t len;
  if (r->upstream.ss_family == AF_INET6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a;
    s6->sin6_family = AF_INET6;
    s6->sin6_addr = in6addr_loopback;
    len = sizeof(*s6);
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a;
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*s4);
  }
  r->listen_fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&a, len) < 0 ||
      getsockname(r->listen_fd, (struct sockaddr *)&a, &len) < 0)
    return -1;
  r->port =
      ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                    : ((struct sockaddr_in *)&a)->sin_port);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
  return epoll_ctl(r->ep, EPOLL_CTL_ADD, r->listen_fd, &ev);
}

static void relay_free(relay *r) {
  for (int i = 0; i < r->npeers; i++)
    close(r->peers[i].fd);
  for (size_t i = 0; i < r->nq; i++)
    free(r->q[i].data);
  if (r->listen_fd >= 0)
    close(r->listen_fd);
  if (r->ep >= 0)
    close(r->ep);
  pthread_mutex_destroy(&r->lock);
  free(r->q);
  free(r);
}

relay *relay_start(const struct sockaddr *upstream, socklen_t len,
                   const relay_fault *up, const relay_fault *down,
                   uint64_t seed) {
  relay *r = calloc(1, sizeof(*r));
  if (!r || len > sizeof(r->upstream)) {
    free(r);
    return NULL;
  }
  pthread_mutex_init(&r->lock, NULL);
  memcpy(&r->upstream, upstream, len);
  r->upstream_len = len;
  r->fault[0] = *up;
  r->fault[1] = *down;
  r->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
  r->listen_fd = -1;
  r->ep = epoll_create1(0);
  r->q = calloc(MAX_QUEUED, sizeof(*r->q));
  if (r->ep < 0 || !r->q || open_listener(r) < 0 ||
      pthread_create(&r->thread, NULL, run, r) != 0) {
    relay_free(r);
    return NULL;
  }
  return r;
}

uint16_t relay_port(const relay *r) {
  return r->port;
}

relay_stats relay_get_stats(relay *r) {
  pthread_mutex_lock(&r->lock);
  relay_stats s = r->stats;
  pthread_mutex_unlock(&r->lock);
  return s;
}

void relay_stop(relay *r) {
  if (!r)
    return;
  __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
  pthread_join(r->thread, NULL);
  relay_free(r);
}
