/*
 * coap-bench -- a CoAP load generator over plain UDP sockets (like wrk).
 *
 * It loads any CoAP server the same way: S client sockets (each one a
 * session at the server) keep W requests in flight each, for a duration,
 * and it reports completed requests per second, latency percentiles, the
 * number of responses that were not 2.xx and the retransmissions it made.
 * It speaks just enough RFC 7252 for that: it tells piggybacked responses
 * (ACK with a code) from Empty ACKs, acknowledges separate CON responses,
 * retransmits unacknowledged CONs and follows Block2 (RFC 7959) to the end
 * of a body. It does not use the library, so it loads Petrel and libcoap
 * identically.
 *
 * Besides the measured load it can first park N separate responses
 * (requests to a path such as /async?3600 whose answers come much later)
 * or open N idle sessions, then print "ready" and optionally hold, so that
 * a script can read the server's memory.
 *
 * Output: one line of key=value pairs on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_DGRAM 1600
#define BATCH 64
#define SETUP_IN_FLIGHT 128
#define HIST_BUCKETS (64 * 32) /* log-linear: 32 steps per power of two */

/* ---- options ------------------------------------------------------------- */

typedef struct config {
  const char *host, *port;
  int sessions, window;
  int non;             /* send NON instead of CON */
  int method;          /* 1 GET, 2 POST, 3 PUT, 4 DELETE */
  const char *path, *query;
  double duration, warmup;
  int park;            /* separate responses to park first */
  int park_sessions;
  const char *park_path, *park_query;
  int idle;            /* idle sessions to open first */
  double hold;         /* seconds to hold after "ready" (0: none) */
  double timeout;      /* first retransmission timeout, seconds */
  int block2;          /* follow Block2 and count whole bodies */
  int szx;             /* Block2 size exponent asked for */
  double setup_limit;  /* seconds allowed to park or open sessions */
  double ramp;         /* seconds over which the first requests go out */
} config;

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [options] HOST PORT\n"
          "  -c S        client sockets (sessions) for the load (1)\n"
          "  -w W        requests in flight per session (1)\n"
          "  -n          send NON requests (default CON)\n"
          "  -m METHOD   get|post|put|delete (get)\n"
          "  -p PATH     Uri-Path, '/'-separated (hello)\n"
          "  -q QUERY    Uri-Query, '&'-separated (none)\n"
          "  -d SECS     measured duration (5)\n"
          "  -W SECS     warm-up before measuring (0.5)\n"
          "  -P N        park N separate responses first\n"
          "  -S K        sessions that park them (1000)\n"
          "  -A PATH?Q   what parks (async?3600)\n"
          "  -I N        open N idle sessions first (one GET each)\n"
          "  -H SECS     after setup print 'ready' and hold (0)\n"
          "  -t SECS     first retransmission timeout (2)\n"
          "  -b          follow Block2: one completion per whole body\n"
          "  -z SZX      Block2 size exponent asked for (6: 1024 bytes)\n"
          "  -L SECS     time allowed for parking or opening sessions (60)\n"
          "  -R SECS     spread the first requests over SECS (0: at once)\n",
          argv0);
  exit(2);
}

static int method_code(const char *m) {
  static const char *names[] = {"get", "post", "put", "delete"};
  for (int i = 0; i < 4; i++)
    if (strcasecmp(m, names[i]) == 0)
      return i + 1;
  return -1;
}

static void parse_args(int argc, char **argv, config *c) {
  *c = (config){.sessions = 1, .window = 1, .method = 1, .path = "hello",
                .duration = 5, .warmup = 0.5, .park_sessions = 1000,
                .park_path = "async", .park_query = "3600", .timeout = 2,
                .szx = 6, .setup_limit = 60};
  int o;
  char *q;
  while ((o = getopt(argc, argv, "c:w:nm:p:q:d:W:P:S:A:I:H:t:bz:L:R:h")) != -1) {
    switch (o) {
    case 'c': c->sessions = atoi(optarg); break;
    case 'w': c->window = atoi(optarg); break;
    case 'n': c->non = 1; break;
    case 'm': c->method = method_code(optarg); break;
    case 'p': c->path = optarg; break;
    case 'q': c->query = optarg; break;
    case 'd': c->duration = atof(optarg); break;
    case 'W': c->warmup = atof(optarg); break;
    case 'P': c->park = atoi(optarg); break;
    case 'S': c->park_sessions = atoi(optarg); break;
    case 'A':
      c->park_path = optarg;
      c->park_query = NULL;
      if ((q = strchr(optarg, '?')) != NULL) {
        *q = 0;
        c->park_query = q + 1;
      }
      break;
    case 'I': c->idle = atoi(optarg); break;
    case 'H': c->hold = atof(optarg); break;
    case 't': c->timeout = atof(optarg); break;
    case 'b': c->block2 = 1; break;
    case 'z': c->szx = atoi(optarg); break;
    case 'L': c->setup_limit = atof(optarg); break;
    case 'R': c->ramp = atof(optarg); break;
    default: usage(argv[0]);
    }
  }
  if (argc - optind != 2 || c->sessions < 0 || c->window < 1 ||
      c->window > 65535 || c->method < 0 || c->park < 0 || c->idle < 0 ||
      c->szx < 0 || c->szx > 6)
    usage(argv[0]);
  c->host = argv[optind];
  c->port = argv[optind + 1];
  if (c->park && c->park_sessions > c->park)
    c->park_sessions = c->park;
  if (c->park_sessions < 1)
    c->park_sessions = 1;
}

/* ---- time and statistics ------------------------------------------------ */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct stats {
  uint64_t completed, non2xx, retrans, rst, timeouts;
  uint64_t warm;       /* completed during the warm-up */
  uint64_t hist[HIST_BUCKETS];
} stats;

/* Bucket of a latency in ns: 32 linear steps within each power of two,
 * so any percentile is within ~3% of the truth. */
static unsigned bucket_of(uint64_t ns) {
  if (ns < 32)
    return (unsigned)ns;
  unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
  unsigned step = (unsigned)(ns >> (msb - 5)) & 31u;
  unsigned b = (msb - 4) * 32u + step;
  return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static uint64_t bucket_value(unsigned b) {
  if (b < 32)
    return b;
  unsigned msb = b / 32u + 4;
  return ((uint64_t)(32u + b % 32u) << (msb - 5));
}

static double percentile_us(const stats *st, double p) {
  uint64_t total = 0;
  for (unsigned b = 0; b < HIST_BUCKETS; b++)
    total += st->hist[b];
  if (!total)
    return 0;
  uint64_t want = (uint64_t)((double)total * p);
  if (want >= total)
    want = total - 1;
  uint64_t seen = 0;
  for (unsigned b = 0; b < HIST_BUCKETS; b++) {
    seen += st->hist[b];
    if (seen > want)
      return (double)bucket_value(b) / 1000.0;
  }
  return 0;
}

/* ---- sessions and slots -------------------------------------------------- */

enum slot_state { SLOT_FREE, SLOT_WAIT_ACK, SLOT_WAIT_RESPONSE };
enum session_role { ROLE_LOAD, ROLE_PARK, ROLE_IDLE };

typedef struct slot {
  uint8_t state;
  uint8_t tries;       /* retransmissions made */
  uint16_t gen;        /* token generation */
  uint16_t mid;
  uint32_t block;      /* Block2 number asked for */
  uint64_t started;    /* first transmission of the request (or body) */
  uint64_t deadline;   /* next retransmission (CON awaiting its ACK) */
  uint16_t len;
  uint8_t msg[96];     /* the request as sent */
} slot;

typedef struct session {
  int fd;
  uint8_t role;
  uint16_t next_mid;
  int nslots;
  int todo;            /* park/idle: requests still to send */
  int sent;            /* park/idle: requests sent */
  int settled;         /* park/idle: requests acknowledged or answered */
  slot *slots;
} session;

static volatile sig_atomic_t stop_now;

static void on_signal(int sig) {
  (void)sig;
  stop_now = 1;
}

typedef struct bench {
  config cfg;
  int epfd;
  session *sess;
  int nsess;
  stats st;
  int measuring, running, setup;
  uint64_t timeout_ns;
  uint64_t parked, idle_ready, setup_sent;
  struct sockaddr_storage server;
  socklen_t server_len;
} bench;

static int open_socket(bench *b) {
  int fd = socket(b->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int sz = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  if (connect(fd, (struct sockaddr *)&b->server, b->server_len) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* ---- encoding requests ---------------------------------------------------- */

static size_t put_option(uint8_t *p, unsigned *last, unsigned num,
                         const void *val, size_t len) {
  unsigned delta = num - *last;
  size_t n = 1;
  uint8_t dn, ln;
  *last = num;
  /* Uri-Path/Uri-Query segments here are short (< 269) and deltas small. */
  dn = delta < 13 ? (uint8_t)delta : 13;
  ln = len < 13 ? (uint8_t)len : 13;
  p[0] = (uint8_t)(dn << 4 | ln);
  if (dn == 13)
    p[n++] = (uint8_t)(delta - 13);
  if (ln == 13)
    p[n++] = (uint8_t)(len - 13);
  memcpy(p + n, val, len);
  return n + len;
}

/* Each '/' or '&'-separated segment of @s becomes one option @num. */
static size_t put_segments(uint8_t *p, size_t room, unsigned *last,
                           unsigned num, const char *s, char sep) {
  size_t n = 0;
  while (s && *s) {
    const char *e = strchr(s, sep);
    size_t len = e ? (size_t)(e - s) : strlen(s);
    if (len && n + len + 3 <= room)
      n += put_option(p + n, last, num, s, len);
    s = e ? e + 1 : NULL;
  }
  return n;
}

static void encode_request(bench *b, session *se, int idx, slot *sl) {
  const config *c = &b->cfg;
  int park = se->role == ROLE_PARK;
  uint8_t *p = sl->msg;
  sl->mid = se->next_mid++;
  sl->gen++;
  p[0] = (uint8_t)(0x40 | ((c->non && !park) ? 0x10 : 0x00) | 4);
  p[1] = (uint8_t)(park || se->role == ROLE_IDLE ? 1 : c->method);
  p[2] = (uint8_t)(sl->mid >> 8);
  p[3] = (uint8_t)sl->mid;
  p[4] = (uint8_t)(idx >> 8);
  p[5] = (uint8_t)idx;
  p[6] = (uint8_t)(sl->gen >> 8);
  p[7] = (uint8_t)sl->gen;
  size_t n = 8;
  unsigned last = 0;
  const char *path = park ? c->park_path
                          : se->role == ROLE_IDLE ? "hello" : c->path;
  const char *query = park ? c->park_query
                           : se->role == ROLE_IDLE ? NULL : c->query;
  n += put_segments(p + n, sizeof(sl->msg) - n - 8, &last, 11, path, '/');
  n += put_segments(p + n, sizeof(sl->msg) - n - 8, &last, 15, query, '&');
  if (c->block2 && se->role == ROLE_LOAD) {
    uint32_t v = sl->block << 4 | (uint32_t)c->szx;
    uint8_t bv[3];
    size_t bl = v < 0x100 ? 1 : v < 0x10000 ? 2 : 3;
    for (size_t i = 0; i < bl; i++)
      bv[i] = (uint8_t)(v >> (8 * (bl - 1 - i)));
    if (v == 0)
      bl = 0;
    n += put_option(p + n, &last, 23, bv, bl);
  }
  sl->len = (uint16_t)n;
}

static int is_con(const slot *sl) {
  return ((sl->msg[0] >> 4) & 3) == 0;
}

/* Starts a new request in @sl (a new body when @fresh). */
static void start_request(bench *b, session *se, int idx, int fresh,
                          uint64_t now) {
  slot *sl = &se->slots[idx];
  if (fresh) {
    sl->block = 0;
    sl->started = now;
  }
  encode_request(b, se, idx, sl);
  sl->tries = 0;
  sl->state = is_con(sl) ? SLOT_WAIT_ACK : SLOT_WAIT_RESPONSE;
  sl->deadline = now + b->timeout_ns;
}

/* ---- sending ------------------------------------------------------------- */

typedef struct outq {
  int n;
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  uint8_t ack[BATCH][4];
} outq;

static void flush(int fd, outq *q) {
  int off = 0;
  while (off < q->n) {
    int r = sendmmsg(fd, q->m + off, (unsigned)(q->n - off), 0);
    if (r <= 0)
      break; /* a full socket buffer drops it; retransmission recovers */
    off += r;
  }
  q->n = 0;
}

static void queue(int fd, outq *q, const uint8_t *data, size_t len) {
  if (q->n == BATCH)
    flush(fd, q);
  q->iov[q->n] = (struct iovec){(void *)data, len};
  memset(&q->m[q->n], 0, sizeof(q->m[q->n]));
  q->m[q->n].msg_hdr.msg_iov = &q->iov[q->n];
  q->m[q->n].msg_hdr.msg_iovlen = 1;
  q->n++;
}

static void queue_empty_ack(int fd, outq *q, uint16_t mid) {
  if (q->n == BATCH)
    flush(fd, q);
  uint8_t *a = q->ack[q->n];
  a[0] = 0x60;
  a[1] = 0;
  a[2] = (uint8_t)(mid >> 8);
  a[3] = (uint8_t)mid;
  queue(fd, q, a, 4);
}

/* ---- receiving ------------------------------------------------------------ */

/* Finds the Block2 option in the options at @p (RFC 7959 2.2); returns 1
 * and its value, 0 if absent. */
static int find_block2(const uint8_t *p, size_t len, uint32_t *val) {
  size_t at = 0;
  unsigned num = 0;
  while (at < len && p[at] != 0xFF) {
    unsigned d = p[at] >> 4, l = p[at] & 15;
    at++;
    if (d == 13) {
      if (at >= len) return 0;
      d = 13u + p[at++];
    } else if (d == 14) {
      if (at + 1 >= len) return 0;
      d = 269u + (unsigned)(p[at] << 8 | p[at + 1]);
      at += 2;
    } else if (d == 15)
      return 0;
    if (l == 13) {
      if (at >= len) return 0;
      l = 13u + p[at++];
    } else if (l == 14) {
      if (at + 1 >= len) return 0;
      l = 269u + (unsigned)(p[at] << 8 | p[at + 1]);
      at += 2;
    } else if (l == 15)
      return 0;
    num += d;
    if (at + l > len)
      return 0;
    if (num == 23) {
      uint32_t v = 0;
      for (unsigned i = 0; i < l && i < 3; i++)
        v = v << 8 | p[at + i];
      *val = v;
      return 1;
    }
    at += l;
  }
  return 0;
}

static void complete(bench *b, session *se, int idx, int code, uint64_t now,
                     int fd, outq *q) {
  slot *sl = &se->slots[idx];
  sl->state = SLOT_FREE;
  if (se->role != ROLE_LOAD) {
    se->settled++;
    if (se->role == ROLE_IDLE)
      b->idle_ready++;
    return;
  }
  if (!b->measuring)
    b->st.warm++;
  if (b->measuring) {
    b->st.completed++;
    if ((code >> 5) != 2)
      b->st.non2xx++;
    b->st.hist[bucket_of(now - sl->started)]++;
  }
  if (b->running) {
    start_request(b, se, idx, 1, now);
    queue(fd, q, sl->msg, sl->len);
  }
}

static void on_datagram(bench *b, session *se, const uint8_t *d, size_t len,
                        uint64_t now, int fd, outq *q) {
  if (len < 4 || (d[0] >> 6) != 1)
    return;
  unsigned type = (d[0] >> 4) & 3, tkl = d[0] & 15, code = d[1];
  uint16_t mid = (uint16_t)(d[2] << 8 | d[3]);
  if (type == 3 || (type == 2 && code == 0)) { /* RST or Empty ACK: by MID */
    for (int i = 0; i < se->nslots; i++) {
      slot *sl = &se->slots[i];
      if (sl->state != SLOT_WAIT_ACK || sl->mid != mid)
        continue;
      if (type == 3) {
        if (b->measuring)
          b->st.rst++;
        complete(b, se, i, 0, now, fd, q);
      } else {
        sl->state = SLOT_WAIT_RESPONSE;
        if (se->role == ROLE_PARK) {
          se->settled++;
          b->parked++;
        }
      }
      return;
    }
    return;
  }
  if (type == 0) /* a separate response in a CON: acknowledge it */
    queue_empty_ack(fd, q, mid);
  if (tkl != 4 || len < 8 || code < 0x40)
    return;
  int idx = d[4] << 8 | d[5];
  uint16_t gen = (uint16_t)(d[6] << 8 | d[7]);
  if (idx >= se->nslots)
    return;
  slot *sl = &se->slots[idx];
  if (sl->state == SLOT_FREE || sl->gen != gen)
    return; /* a duplicate or a late answer */
  if (sl->state == SLOT_WAIT_RESPONSE && se->role == ROLE_PARK)
    se->settled--, b->parked--; /* it was counted as parked */
  uint32_t bv;
  if (b->cfg.block2 && se->role == ROLE_LOAD && (code >> 5) == 2 &&
      find_block2(d + 8, len - 8, &bv) && (bv & 8)) {
    sl->block = (bv >> 4) + 1; /* more to come: ask for the next block */
    start_request(b, se, idx, 0, now);
    queue(fd, q, sl->msg, sl->len);
    return;
  }
  complete(b, se, idx, (int)code, now, fd, q);
}

typedef struct rxbuf {
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  uint8_t data[BATCH][MAX_DGRAM];
} rxbuf;

static void read_session(bench *b, session *se, rxbuf *rx, uint64_t now) {
  outq q;
  q.n = 0;
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      rx->iov[i] = (struct iovec){rx->data[i], MAX_DGRAM};
      memset(&rx->m[i].msg_hdr, 0, sizeof(rx->m[i].msg_hdr));
      rx->m[i].msg_hdr.msg_iov = &rx->iov[i];
      rx->m[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(se->fd, rx->m, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      break;
    for (int i = 0; i < n; i++)
      on_datagram(b, se, rx->data[i], rx->m[i].msg_len, now, se->fd, &q);
    if (n < BATCH)
      break;
  }
  flush(se->fd, &q);
}

/* ---- retransmission -------------------------------------------------------- */

/* Retransmits CONs whose ACK is late (RFC 7252 4.2: timeout doubles, at
 * most 4 retransmissions). O(slots) per call; called a few times a second. */
static void retransmit_due(bench *b, session *se, uint64_t now) {
  outq q;
  q.n = 0;
  for (int i = 0; i < se->nslots; i++) {
    slot *sl = &se->slots[i];
    if (sl->state != SLOT_WAIT_ACK || sl->deadline > now)
      continue;
    if (sl->tries >= 4) {
      if (b->measuring)
        b->st.timeouts++;
      sl->state = SLOT_FREE;
      if (se->role == ROLE_LOAD && b->running) {
        start_request(b, se, i, 1, now);
        queue(se->fd, &q, sl->msg, sl->len);
      } else if (se->role != ROLE_LOAD) {
        se->settled++; /* given up */
      }
      continue;
    }
    sl->tries++;
    sl->deadline = now + (b->timeout_ns << sl->tries);
    if (b->measuring)
      b->st.retrans++;
    queue(se->fd, &q, sl->msg, sl->len);
  }
  flush(se->fd, &q);
}

/* ---- the loop ------------------------------------------------------------ */

static session *add_sessions(bench *b, int count, int role, int slots) {
  session *first = &b->sess[b->nsess];
  for (int i = 0; i < count; i++) {
    session *se = &b->sess[b->nsess];
    se->fd = open_socket(b);
    if (se->fd < 0) {
      fprintf(stderr, "coap-bench: socket %d: %s\n", b->nsess,
              strerror(errno));
      exit(1);
    }
    se->role = (uint8_t)role;
    se->next_mid = (uint16_t)random();
    se->nslots = slots;
    se->slots = calloc((size_t)slots, sizeof(slot));
    if (!se->slots)
      exit(1);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = se};
    epoll_ctl(b->epfd, EPOLL_CTL_ADD, se->fd, &ev);
    b->nsess++;
  }
  return first;
}

static void poll_once(bench *b, rxbuf *rx, int timeout_ms) {
  struct epoll_event ev[256];
  int n = epoll_wait(b->epfd, ev, 256, timeout_ms);
  uint64_t now = now_ns();
  for (int i = 0; i < n; i++)
    read_session(b, ev[i].data.ptr, rx, now);
}

static void retransmit_all(bench *b, int role) {
  uint64_t now = now_ns();
  for (int i = 0; i < b->nsess; i++)
    if (b->sess[i].role == role)
      retransmit_due(b, &b->sess[i], now);
}

/* Park or idle setup: each setup session sends its requests with a small
 * window until all are settled (acknowledged or answered) or time is up. */
static void run_setup(bench *b, session *first, int count, int per_window,
                      uint64_t *ready, uint64_t want, rxbuf *rx) {
  uint64_t limit = now_ns() + (uint64_t)(b->cfg.setup_limit * 1e9);
  uint64_t last_rt = now_ns();
  int next = 0;
  while (*ready < want && now_ns() < limit && !stop_now) {
    uint64_t now = now_ns();
    /* At most SETUP_IN_FLIGHT unsettled in all, so that the burst fits a
     * default socket receive buffer; sessions take turns. */
    long in_flight = 0;
    for (int i = 0; i < count; i++)
      in_flight += first[i].sent - first[i].settled;
    for (int n = 0; n < count && in_flight < SETUP_IN_FLIGHT; n++) {
      session *se = &first[next];
      next = (next + 1) % count;
      outq q;
      q.n = 0;
      while (se->todo > 0 && se->sent - se->settled < per_window &&
             in_flight < SETUP_IN_FLIGHT) {
        in_flight++;
        int k = se->sent++;
        slot *sl = &se->slots[k];
        start_request(b, se, k, 1, now);
        queue(se->fd, &q, sl->msg, sl->len);
        se->todo--;
        b->setup_sent++;
      }
      flush(se->fd, &q);
    }
    poll_once(b, rx, 5);
    if (now_ns() - last_rt > 100000000u) {
      retransmit_all(b, first->role);
      last_rt = now_ns();
    }
  }
}

/* Sends the first request of every slot whose turn has come: with a ramp,
 * the first requests are spread evenly over it, so that a server whose
 * answers all take the same time (/async?1) sees a steady rate instead of
 * one burst a second. Returns the slots started so far. */
static long start_due(bench *b, session *load, long started, long total,
                      uint64_t t0, uint64_t now) {
  uint64_t ramp = (uint64_t)(b->cfg.ramp * 1e9);
  long due = ramp && now < t0 + ramp
                 ? (long)((double)total * (double)(now - t0) / (double)ramp)
                 : total;
  int w = b->cfg.window;
  while (started < due) {
    long i = started / w, end = (i + 1) * w < due ? (i + 1) * w : due;
    outq q;
    q.n = 0;
    for (long k = started % w; started < end; k++, started++) {
      start_request(b, &load[i], (int)k, 1, now);
      queue(load[i].fd, &q, load[i].slots[k].msg, load[i].slots[k].len);
    }
    flush(load[i].fd, &q);
  }
  return started;
}

static void run_load(bench *b, rxbuf *rx) {
  session *load = b->sess + b->nsess - b->cfg.sessions;
  uint64_t t0 = now_ns();
  uint64_t t_measure = t0 + (uint64_t)(b->cfg.warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(b->cfg.duration * 1e9);
  long total = (long)b->cfg.sessions * b->cfg.window, started = 0;
  b->running = 1;
  uint64_t last_rt = t0, now;
  while ((now = now_ns()) < t_end && !stop_now) {
    if (started < total)
      started = start_due(b, load, started, total, t0, now);
    if (!b->measuring && now >= t_measure)
      b->measuring = 1;
    poll_once(b, rx, started < total ? 1 : 10);
    if (now - last_rt > 100000000u) {
      for (int i = 0; i < b->cfg.sessions; i++)
        retransmit_due(b, &load[i], now);
      last_rt = now;
    }
  }
  b->measuring = 0;
  b->running = 0;
}

static void resolve(bench *b) {
  struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;
  int rc = getaddrinfo(b->cfg.host, b->cfg.port, &hints, &ai);
  if (rc != 0) {
    fprintf(stderr, "coap-bench: %s: %s\n", b->cfg.host, gai_strerror(rc));
    exit(1);
  }
  memcpy(&b->server, ai->ai_addr, ai->ai_addrlen);
  b->server_len = ai->ai_addrlen;
  freeaddrinfo(ai);
}

static void raise_fd_limit(int need) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need) {
    rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int main(int argc, char **argv) {
  static bench b;
  static rxbuf rx;
  parse_args(argc, argv, &b.cfg);
  resolve(&b);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  srandom((unsigned)now_ns());
  b.timeout_ns = (uint64_t)(b.cfg.timeout * 1e9);
  int park_s = b.cfg.park ? b.cfg.park_sessions : 0;
  int total = park_s + b.cfg.idle + b.cfg.sessions;
  raise_fd_limit(total + 64);
  b.sess = calloc((size_t)total + 1, sizeof(session));
  b.epfd = epoll_create1(0);
  if (!b.sess || b.epfd < 0)
    return 1;

  uint64_t t0 = now_ns();
  if (park_s) {
    int per = (b.cfg.park + park_s - 1) / park_s;
    session *p = add_sessions(&b, park_s, ROLE_PARK, per);
    for (int i = 0, left = b.cfg.park; i < park_s; i++, left -= per)
      p[i].todo = left < per ? left : per;
    run_setup(&b, p, park_s, 32, &b.parked, (uint64_t)b.cfg.park, &rx);
  }
  double park_secs = (double)(now_ns() - t0) / 1e9;
  if (b.cfg.idle) {
    session *p = add_sessions(&b, b.cfg.idle, ROLE_IDLE, 1);
    for (int i = 0; i < b.cfg.idle; i++)
      p[i].todo = 1;
    run_setup(&b, p, b.cfg.idle, 1, &b.idle_ready, (uint64_t)b.cfg.idle, &rx);
  }
  if (b.cfg.hold > 0 || b.cfg.park || b.cfg.idle) {
    printf("ready parked=%llu idle=%llu park_s=%.2f\n",
           (unsigned long long)b.parked, (unsigned long long)b.idle_ready,
           park_secs);
    fflush(stdout);
  }
  uint64_t hold_end = now_ns() + (uint64_t)(b.cfg.hold * 1e9);
  while (b.cfg.hold > 0 && now_ns() < hold_end && !stop_now)
    poll_once(&b, &rx, 50); /* keep acknowledging what arrives */

  if (b.cfg.sessions > 0 && b.cfg.duration > 0) {
    add_sessions(&b, b.cfg.sessions, ROLE_LOAD, b.cfg.window);
    run_load(&b, &rx);
  }
  double secs = b.cfg.duration;
  printf("rate=%.1f completed=%llu p50_us=%.1f p99_us=%.1f p999_us=%.1f "
         "non2xx=%llu retrans=%llu rst=%llu timeouts=%llu parked=%llu "
         "idle=%llu park_s=%.2f warm=%llu\n",
         secs > 0 ? (double)b.st.completed / secs : 0,
         (unsigned long long)b.st.completed, percentile_us(&b.st, 0.50),
         percentile_us(&b.st, 0.99), percentile_us(&b.st, 0.999),
         (unsigned long long)b.st.non2xx, (unsigned long long)b.st.retrans,
         (unsigned long long)b.st.rst, (unsigned long long)b.st.timeouts,
         (unsigned long long)b.parked, (unsigned long long)b.idle_ready,
         park_secs, (unsigned long long)b.st.warm);
  return 0;
}
