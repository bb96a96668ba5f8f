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
 * Two other ways to load a server:
 *  - open loop (-r RATE): requests leave at a fixed total rate whatever
 *    the answers do, and each latency counts from the moment its request
 *    was due, so a server that falls behind shows it in the percentiles
 *    (a closed window hides it: the load slows down with the server);
 *  - observe (-O N): N observers (RFC 7641) of one resource, spread over
 *    the client sockets, and a trigger request (-T PATH) sent again each
 *    time a round of notifications has arrived; it counts notifications.
 *
 * With -C PID (a server on this machine) it reads the server's CPU time
 * over the measured window and its memory growth over the setup.
 *
 * Output: a summary, then one line of key=value pairs (the last line) on
 * stdout; with --json one JSON object instead. A progress line goes to
 * stderr once a second while it runs (when stderr is a terminal, or with
 * --progress). It exits 1 with a message when the target does not answer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
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
/* Client sockets per loopback source address: the ephemeral port range
 * (about 28,000 ports) bounds the sockets one address can have, so past
 * this many the sockets bind 127.0.0.2, 127.0.0.3, ... in turn. */
#define SOCKETS_PER_SOURCE 20000
/* Without a single datagram from the target after this long, or with an
 * ICMP port unreachable, the target is reported as not answering. */
#define NO_ANSWER_NS 3000000000u
#define OPT_OBSERVE 6
#define OPT_BLOCK2 23

/* ---- options ------------------------------------------------------------- */

typedef struct config {
  const char *host, *port;
  int sessions, window;
  int non;    /* send NON instead of CON */
  int method; /* 1 GET, 2 POST, 3 PUT, 4 DELETE */
  const char *path, *query;
  double duration, warmup;
  int park; /* separate responses to park first */
  int park_sessions;
  const char *park_path, *park_query;
  int idle;              /* idle sessions to open first */
  double hold;           /* seconds to hold after "ready" (0: none) */
  double timeout;        /* first retransmission timeout, seconds */
  int block2;            /* follow Block2 and count whole bodies */
  int szx;               /* Block2 size exponent asked for */
  double setup_limit;    /* seconds allowed to park or open sessions */
  double ramp;           /* seconds over which the first requests go out */
  double rate;           /* open loop: requests per second in all (0: off) */
  int observers;         /* observe mode: observers to register (0: off) */
  const char *tick_path; /* observe mode: what triggers a notification */
  int json;              /* print one JSON object */
  int progress;          /* progress line on stderr: 1, 0, -1 (a terminal) */
  long server_pid;       /* read this process's CPU time and RSS (0: none) */
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
          "  -R SECS     spread the first requests over SECS (0: at once)\n"
          "  -r RATE     open loop: send RATE requests/s in all, whatever\n"
          "              the answers do (-w is then the most in flight per\n"
          "              session); latency counts from when each was due\n"
          "  -O N        observe: register N observers of PATH over the -c\n"
          "              sockets, then count notifications\n"
          "  -T PATH     observe: the GET that triggers a round (tick)\n"
          "  -C PID      report this local server's CPU time per completion\n"
          "              and its RSS growth over the setup\n"
          "  --json      print one JSON object instead of the summary\n"
          "  --progress, --no-progress   a progress line on stderr once a\n"
          "              second (default: when stderr is a terminal)\n",
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
  *c = (config){.sessions = 1,
                .window = 1,
                .method = 1,
                .path = "hello",
                .duration = 5,
                .warmup = 0.5,
                .park_sessions = 1000,
                .park_path = "async",
                .park_query = "3600",
                .timeout = 2,
                .szx = 6,
                .setup_limit = 60,
                .tick_path = "tick",
                .progress = -1};
  static const struct option longs[] = {{"json", no_argument, NULL, 'j'},
                                        {"progress", no_argument, NULL, 'g'},
                                        {"no-progress", no_argument, NULL, 'G'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  int o;
  char *q;
  while ((o = getopt_long(argc, argv,
                          "c:w:nm:p:q:d:W:P:S:A:I:H:t:bz:L:R:r:O:T:C:h", longs,
                          NULL)) != -1) {
    switch (o) {
    case 'r':
      c->rate = atof(optarg);
      break;
    case 'O':
      c->observers = atoi(optarg);
      break;
    case 'T':
      c->tick_path = optarg;
      break;
    case 'C':
      c->server_pid = atol(optarg);
      break;
    case 'j':
      c->json = 1;
      break;
    case 'g':
      c->progress = 1;
      break;
    case 'G':
      c->progress = 0;
      break;
    case 'c':
      c->sessions = atoi(optarg);
      break;
    case 'w':
      c->window = atoi(optarg);
      break;
    case 'n':
      c->non = 1;
      break;
    case 'm':
      c->method = method_code(optarg);
      break;
    case 'p':
      c->path = optarg;
      break;
    case 'q':
      c->query = optarg;
      break;
    case 'd':
      c->duration = atof(optarg);
      break;
    case 'W':
      c->warmup = atof(optarg);
      break;
    case 'P':
      c->park = atoi(optarg);
      break;
    case 'S':
      c->park_sessions = atoi(optarg);
      break;
    case 'A':
      c->park_path = optarg;
      c->park_query = NULL;
      if ((q = strchr(optarg, '?')) != NULL) {
        *q = 0;
        c->park_query = q + 1;
      }
      break;
    case 'I':
      c->idle = atoi(optarg);
      break;
    case 'H':
      c->hold = atof(optarg);
      break;
    case 't':
      c->timeout = atof(optarg);
      break;
    case 'b':
      c->block2 = 1;
      break;
    case 'z':
      c->szx = atoi(optarg);
      break;
    case 'L':
      c->setup_limit = atof(optarg);
      break;
    case 'R':
      c->ramp = atof(optarg);
      break;
    default:
      usage(argv[0]);
    }
  }
  if (argc - optind != 2 || c->sessions < 0 || c->window < 1 ||
      c->window > 65535 || c->method < 0 || c->park < 0 || c->idle < 0 ||
      c->szx < 0 || c->szx > 6 || c->rate < 0 || c->observers < 0 ||
      c->server_pid < 0 || (c->observers && c->sessions < 1))
    usage(argv[0]);
  if (c->observers && (c->observers + c->sessions - 1) / c->sessions > 65535)
    usage(argv[0]); /* a token holds the slot index in 16 bits */
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
  uint64_t warm;          /* completed during the warm-up */
  uint64_t notifications; /* observe mode: notifications received */
  uint64_t ticks;         /* observe mode: triggers answered */
  uint64_t max_ns;        /* the longest latency */
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

static void record(stats *st, uint64_t ns) {
  st->hist[bucket_of(ns)]++;
  if (ns > st->max_ns)
    st->max_ns = ns;
}

/* ---- sessions and slots -------------------------------------------------- */

enum slot_state {
  SLOT_FREE,
  SLOT_WAIT_ACK,
  SLOT_WAIT_RESPONSE,
  SLOT_OBSERVING
};
/* LOAD: the measured requests; PARK, IDLE, OBS: setup (separate responses
 * left pending, sessions left idle, observers registered); TICK: the
 * trigger of observe mode. */
enum session_role { ROLE_LOAD, ROLE_PARK, ROLE_IDLE, ROLE_OBS, ROLE_TICK };

typedef struct slot {
  uint8_t state;
  uint8_t tries; /* retransmissions made */
  uint16_t gen;  /* token generation */
  uint16_t mid;
  uint32_t block;    /* Block2 number asked for */
  uint64_t started;  /* first transmission of the request (or body) */
  uint64_t deadline; /* next retransmission (CON awaiting its ACK) */
  uint16_t len;
  uint8_t msg[96]; /* the request as sent */
} slot;

typedef struct session {
  int fd;
  uint8_t role;
  uint16_t next_mid;
  int nslots;
  int todo;    /* park/idle: requests still to send */
  int sent;    /* park/idle: requests sent */
  int settled; /* park/idle: requests acknowledged or answered */
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
  uint64_t observing, obs_refused; /* observe mode: registrations */
  uint64_t obs_answered;           /* taken or refused */
  uint64_t sent;                   /* requests started (not retransmissions) */
  uint64_t rx, refused;  /* datagrams received; ICMP unreachables seen */
  uint64_t t_first_send; /* when the first request left (0: not yet) */
  uint64_t tick_at, last_notif_at, round_notifs;
  long cpu_ns;         /* -C: server CPU time over the measured window */
  long load_cpu_ns;    /* our own CPU time over the measured window */
  long wait_ns[2];     /* time the server (-C) and we waited for a CPU */
  long rss_kb[2];      /* -C: server RSS before and after the setup */
  long sockets;        /* client sockets opened so far */
  uint64_t idle_bound; /* idle sockets' (address, port) pairs used */
  uint64_t t_start, progress_at, progress_done;
  struct sockaddr_storage server;
  socklen_t server_len;
} bench;

static int loopback_v4(const bench *b) {
  const struct sockaddr_in *to = (const struct sockaddr_in *)&b->server;
  return to->sin_family == AF_INET && (ntohl(to->sin_addr.s_addr) >> 24) == 127;
}

/* An idle session's socket is closed once its request is answered (the
 * client has gone away; that also keeps the file descriptors few), so its
 * address and port must never come back for a later socket: on a loopback
 * target each binds the next (address, port) of its own range,
 * 127.0.0.200 and up, ports IDLE_PORT_BASE to + IDLE_PORTS, skipping
 * pairs in use. */
#define IDLE_PORT_BASE 20000u
#define IDLE_PORTS 30000u
static int bind_idle(bench *b, int fd) {
  for (int tries = 0; tries < 1000; tries++) {
    uint64_t n = b->idle_bound++;
    struct sockaddr_in a = {
        .sin_family = AF_INET,
        .sin_port = htons((uint16_t)(IDLE_PORT_BASE + n % IDLE_PORTS)),
        .sin_addr.s_addr = htonl(0x7F0000C8u + (uint32_t)(n / IDLE_PORTS))};
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
      return 0;
    if (errno != EADDRINUSE)
      return -1;
  }
  return -1;
}

/* Past SOCKETS_PER_SOURCE sockets to an IPv4 loopback target, binds the
 * next loopback source address so that the ports do not run out. */
static int bind_source(bench *b, int fd, int role) {
  if (!loopback_v4(b))
    return 0;
  if (role == ROLE_IDLE)
    return bind_idle(b, fd);
  long k = b->sockets / SOCKETS_PER_SOURCE;
  if (k == 0)
    return 0;
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(0x7F000001u + (uint32_t)k)};
  return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static int open_socket(bench *b, int role) {
  int fd = socket(b->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int sz = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  if (bind_source(b, fd, role) < 0 ||
      connect(fd, (struct sockaddr *)&b->server, b->server_len) < 0) {
    close(fd);
    return -1;
  }
  b->sockets++;
  return fd;
}

/* ---- encoding requests ----------------------------------------------------
 */

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
  if (len)
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

/* What a session of each role asks for: path, query, method. */
static void request_of(const config *c, int role, const char **path,
                       const char **query, int *method) {
  *path = c->path;
  *query = c->query;
  *method = c->method;
  if (role == ROLE_LOAD)
    return;
  *method = 1; /* GET */
  *query = NULL;
  if (role == ROLE_PARK) {
    *path = c->park_path;
    *query = c->park_query;
  } else if (role == ROLE_IDLE) {
    *path = "hello";
  } else if (role == ROLE_TICK) {
    *path = c->tick_path;
  }
}

/* Each observer's registration carries its own Uri-Query, its slot index:
 * a server may keep one observer per session for identical requests
 * (libcoap replaces the older one), and the observers of one socket must
 * all stay registered. */
static const char *observer_query(int idx, char *buf, size_t size) {
  snprintf(buf, size, "%d", idx);
  return buf;
}

static void encode_request(bench *b, session *se, int idx, slot *sl) {
  const config *c = &b->cfg;
  const char *path, *query;
  int method, non = c->non && (se->role == ROLE_LOAD || se->role == ROLE_OBS);
  char qbuf[8];
  request_of(c, se->role, &path, &query, &method);
  if (se->role == ROLE_OBS)
    query = observer_query(idx, qbuf, sizeof(qbuf));
  uint8_t *p = sl->msg;
  sl->mid = se->next_mid++;
  sl->gen++;
  p[0] = (uint8_t)(0x40 | (non ? 0x10 : 0x00) | 4);
  p[1] = (uint8_t)method;
  p[2] = (uint8_t)(sl->mid >> 8);
  p[3] = (uint8_t)sl->mid;
  p[4] = (uint8_t)(idx >> 8);
  p[5] = (uint8_t)idx;
  p[6] = (uint8_t)(sl->gen >> 8);
  p[7] = (uint8_t)sl->gen;
  size_t n = 8;
  unsigned last = 0;
  if (se->role == ROLE_OBS)
    n += put_option(p + n, &last, OPT_OBSERVE, NULL, 0); /* register: 0 */
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
    n += put_option(p + n, &last, OPT_BLOCK2, bv, bl);
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
  if (!b->t_first_send)
    b->t_first_send = now;
  b->sent++;
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

/* ---- receiving ------------------------------------------------------------
 */

/* Finds option @want (Block2, RFC 7959 2.2; Observe, RFC 7641 2) in the
 * options at @p; returns 1 and its value as an unsigned integer, 0 if
 * absent. */
static int find_option(const uint8_t *p, size_t len, unsigned want,
                       uint32_t *val) {
  size_t at = 0;
  unsigned num = 0;
  while (at < len && p[at] != 0xFF) {
    unsigned d = p[at] >> 4, l = p[at] & 15;
    at++;
    if (d == 13) {
      if (at >= len)
        return 0;
      d = 13u + p[at++];
    } else if (d == 14) {
      if (at + 1 >= len)
        return 0;
      d = 269u + (unsigned)(p[at] << 8 | p[at + 1]);
      at += 2;
    } else if (d == 15)
      return 0;
    if (l == 13) {
      if (at >= len)
        return 0;
      l = 13u + p[at++];
    } else if (l == 14) {
      if (at + 1 >= len)
        return 0;
      l = 269u + (unsigned)(p[at] << 8 | p[at + 1]);
      at += 2;
    } else if (l == 15)
      return 0;
    num += d;
    if (at + l > len)
      return 0;
    if (num > want)
      return 0;
    if (num == want) {
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
    record(&b->st, now - sl->started);
  }
  if (b->running && b->cfg.rate == 0) { /* closed loop: the next one */
    start_request(b, se, idx, 1, now);
    queue(fd, q, sl->msg, sl->len);
  }
}

/* An answer on an observer's token: the registration's answer (with
 * Observe when the server took the observer, RFC 7641 4.1; without when it
 * refused) or, once registered, a notification. */
static void on_observe_answer(bench *b, session *se, slot *sl, const uint8_t *d,
                              size_t len, uint64_t now) {
  uint32_t seq;
  int has_obs = find_option(d + 8, len - 8, OPT_OBSERVE, &seq);
  if (sl->state == SLOT_OBSERVING) {
    b->round_notifs++;
    b->last_notif_at = now;
    if (b->measuring) {
      b->st.notifications++;
      if (b->tick_at)
        record(&b->st, now - b->tick_at);
    }
    return;
  }
  se->settled++;
  b->obs_answered++;
  if ((d[1] >> 5) == 2 && has_obs) {
    sl->state = SLOT_OBSERVING;
    b->observing++;
  } else {
    sl->state = SLOT_FREE;
    b->obs_refused++;
  }
}

static void on_datagram(bench *b, session *se, const uint8_t *d, size_t len,
                        uint64_t now, int fd, outq *q) {
  if (len < 4 || (d[0] >> 6) != 1)
    return;
  b->rx++;
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
  if (se->role == ROLE_OBS) {
    on_observe_answer(b, se, sl, d, len, now);
    return;
  }
  if (se->role == ROLE_TICK) {
    sl->state = SLOT_FREE;
    b->st.ticks++;
    return;
  }
  if (sl->state == SLOT_WAIT_RESPONSE && se->role == ROLE_PARK)
    se->settled--, b->parked--; /* it was counted as parked */
  uint32_t bv;
  if (b->cfg.block2 && se->role == ROLE_LOAD && (code >> 5) == 2 &&
      find_option(d + 8, len - 8, OPT_BLOCK2, &bv) && (bv & 8)) {
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
    if (n < 0 && errno == ECONNREFUSED) {
      b->refused++; /* ICMP port unreachable: nothing listens there */
      continue;
    }
    if (n <= 0)
      break;
    for (int i = 0; i < n; i++)
      on_datagram(b, se, rx->data[i], rx->m[i].msg_len, now, se->fd, &q);
    if (n < BATCH)
      break;
  }
  flush(se->fd, &q);
  if (se->role == ROLE_IDLE && se->todo == 0 && se->settled >= se->sent) {
    close(se->fd); /* its client has gone; the server keeps the session */
    se->fd = -1;
  }
}

/* ---- retransmission --------------------------------------------------------
 */

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
      if (se->role == ROLE_LOAD && b->running && b->cfg.rate == 0) {
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

static void attach_socket(bench *b, session *se) {
  se->fd = open_socket(b, se->role);
  if (se->fd < 0) {
    fprintf(stderr, "coap-bench: socket %ld: %s\n", b->sockets,
            strerror(errno));
    exit(1);
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = se};
  epoll_ctl(b->epfd, EPOLL_CTL_ADD, se->fd, &ev);
}

/* Idle sessions get their socket only when their turn comes (and close
 * it once answered), so that any number fits the file descriptor limit. */
static session *add_sessions(bench *b, int count, int role, int slots) {
  session *first = &b->sess[b->nsess];
  for (int i = 0; i < count; i++) {
    session *se = &b->sess[b->nsess];
    se->role = (uint8_t)role;
    se->fd = -1;
    if (role != ROLE_IDLE)
      attach_socket(b, se);
    se->next_mid = (uint16_t)random();
    se->nslots = slots;
    se->slots = calloc((size_t)slots, sizeof(slot));
    if (!se->slots)
      exit(1);
    b->nsess++;
  }
  return first;
}

/* ---- the server's CPU and memory (-C) ------------------------------------ */

/* Field @i of the process's schedstat, in ns, or -1: 0 is the CPU time it
 * has used, 1 the time it spent runnable, waiting for a CPU. */
static long schedstat_ns(long pid, int i) {
  char path[64];
  long v[2] = {-1, -1};
  snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
  FILE *f = fopen(path, "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &v[0], &v[1]) != 2)
      v[0] = v[1] = -1;
    fclose(f);
  }
  return v[i];
}

static long proc_cpu_ns(long pid) {
  return schedstat_ns(pid, 0);
}

static long proc_rss_kb(long pid) {
  char path[64], line[128];
  long v = -1;
  snprintf(path, sizeof(path), "/proc/%ld/status", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "VmRSS: %ld", &v) == 1)
      break;
  fclose(f);
  return v;
}

/* ---- progress and the target's silence ------------------------------------
 */

/* A target that sends nothing back -- an ICMP port unreachable, or not one
 * datagram NO_ANSWER_NS after the first request -- ends the run: its
 * figures would only measure timeouts. */
static void check_answering(bench *b, uint64_t now) {
  if (b->rx || !b->t_first_send)
    return;
  if (!b->refused && now - b->t_first_send < NO_ANSWER_NS)
    return;
  if (b->cfg.progress == 2)
    fputs("\r\033[K", stderr);
  fprintf(stderr,
          b->refused
              ? "coap-bench: %s port %s: refused (ICMP port unreachable); "
                "is a CoAP server listening there?\n"
              : "coap-bench: %s port %s: no answer within %.0f s to %llu "
                "requests; is a CoAP server listening there?\n",
          b->cfg.host, b->cfg.port, NO_ANSWER_NS / 1e9,
          (unsigned long long)b->sent);
  exit(1);
}

/* Once a second: what the run has done so far, on stderr. */
static void show_progress(bench *b, uint64_t now) {
  if (!b->cfg.progress || now < b->progress_at)
    return;
  uint64_t done = b->st.completed + b->st.warm + b->st.notifications;
  double secs = (double)(now - b->progress_at + 1000000000u) / 1e9;
  const char *unit = b->cfg.observers ? "notifications" : "requests";
  if (b->progress_at)
    fprintf(stderr,
            "%scoap-bench: %5.1f s %s: %llu %s, %.0f/s, retrans %llu, "
            "observers %llu%s",
            b->cfg.progress == 2 ? "\r" : "", (double)(now - b->t_start) / 1e9,
            b->setup       ? "setup"
            : b->measuring ? "measuring"
                           : "warm-up",
            (unsigned long long)done, unit,
            (double)(done - b->progress_done) / secs,
            (unsigned long long)b->st.retrans, (unsigned long long)b->observing,
            b->cfg.progress == 2 ? "\033[K" : "\n");
  b->progress_done = done;
  b->progress_at = now + 1000000000u;
}

static void poll_once(bench *b, rxbuf *rx, int timeout_ms) {
  struct epoll_event ev[256];
  int n = epoll_wait(b->epfd, ev, 256, timeout_ms);
  uint64_t now = now_ns();
  for (int i = 0; i < n; i++)
    read_session(b, ev[i].data.ptr, rx, now);
  check_answering(b, now);
  show_progress(b, now);
}

/* The same with a timeout in microseconds, for the open loop's pacing. */
static void poll_us(bench *b, rxbuf *rx, uint64_t us) {
  struct epoll_event ev[256];
  struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
                        .tv_nsec = (long)(us % 1000000u) * 1000};
  int n = epoll_pwait2(b->epfd, ev, 256, &ts, NULL);
  uint64_t now = now_ns();
  for (int i = 0; i < n; i++)
    read_session(b, ev[i].data.ptr, rx, now);
  check_answering(b, now);
  show_progress(b, now);
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
      if (se->fd < 0 && se->todo > 0)
        attach_socket(b, se);
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

/* Open loop: sends every request that is due by @now at 1/rate intervals
 * from *@next, round-robin over the sessions, each into a free slot. When
 * every slot is busy the due requests wait (and *@next stays behind):
 * their latency still counts from when they were due. */
static void send_due(bench *b, session *load, uint64_t *next, uint64_t now,
                     int *cursor) {
  uint64_t gap = (uint64_t)(1e9 / b->cfg.rate);
  int S = b->cfg.sessions, idle_turns = 0;
  if (gap == 0)
    gap = 1;
  while (*next <= now && idle_turns < S) {
    /* Each session takes its share of what is due, in one sendmmsg(). */
    uint64_t due = (now - *next) / gap + 1;
    uint64_t share = 1 + (due - 1) / (uint64_t)S, sent = 0;
    session *se = &load[*cursor];
    outq q;
    q.n = 0;
    for (int k = 0; k < se->nslots && sent < share && *next <= now; k++) {
      if (se->slots[k].state != SLOT_FREE)
        continue;
      start_request(b, se, k, 1, *next);
      se->slots[k].deadline = now + b->timeout_ns;
      queue(se->fd, &q, se->slots[k].msg, se->slots[k].len);
      *next += gap;
      sent++;
    }
    flush(se->fd, &q);
    *cursor = (*cursor + 1) % S;
    idle_turns = sent ? 0 : idle_turns + 1;
  }
}

/* Starts the measured window (and the server's CPU clock with -C). */
static void start_measuring(bench *b) {
  b->measuring = 1;
  if (b->cfg.server_pid)
    b->cpu_ns = proc_cpu_ns(b->cfg.server_pid);
  b->load_cpu_ns = proc_cpu_ns((long)getpid());
  b->wait_ns[0] = b->cfg.server_pid ? schedstat_ns(b->cfg.server_pid, 1) : -1;
  b->wait_ns[1] = schedstat_ns((long)getpid(), 1);
}

static void stop_measuring(bench *b) {
  if (b->measuring && b->cfg.server_pid)
    b->cpu_ns = proc_cpu_ns(b->cfg.server_pid) - b->cpu_ns;
  if (b->measuring && b->load_cpu_ns >= 0)
    b->load_cpu_ns = proc_cpu_ns((long)getpid()) - b->load_cpu_ns;
  if (b->measuring && b->wait_ns[0] >= 0)
    b->wait_ns[0] = schedstat_ns(b->cfg.server_pid, 1) - b->wait_ns[0];
  if (b->measuring && b->wait_ns[1] >= 0)
    b->wait_ns[1] = schedstat_ns((long)getpid(), 1) - b->wait_ns[1];
  b->measuring = 0;
}

static void run_load(bench *b, rxbuf *rx) {
  session *load = b->sess + b->nsess - b->cfg.sessions;
  uint64_t t0 = now_ns();
  uint64_t t_measure = t0 + (uint64_t)(b->cfg.warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(b->cfg.duration * 1e9);
  long total = (long)b->cfg.sessions * b->cfg.window, started = 0;
  uint64_t next = t0;
  int cursor = 0;
  b->running = 1;
  uint64_t last_rt = t0, now;
  while ((now = now_ns()) < t_end && !stop_now) {
    if (b->cfg.rate > 0)
      send_due(b, load, &next, now, &cursor);
    else if (started < total)
      started = start_due(b, load, started, total, t0, now);
    if (!b->measuring && now >= t_measure)
      start_measuring(b);
    if (b->cfg.rate > 0) {
      uint64_t wait = next > now ? (next - now) / 1000u : 0;
      poll_us(b, rx, wait < 2000 ? wait : 2000);
    } else {
      poll_once(b, rx, started < total ? 1 : 10);
    }
    if (now - last_rt > 100000000u) {
      for (int i = 0; i < b->cfg.sessions; i++)
        retransmit_due(b, &load[i], now);
      last_rt = now;
    }
  }
  stop_measuring(b);
  b->running = 0;
}

/* Observe mode: the observers are registered (setup); each round sends
 * the trigger and waits until every observer has had a notification, or
 * until none has come for 20 ms after the trigger was answered (NONs may
 * be lost), or 1 s, then triggers the next. Notification latency counts
 * from the trigger's first transmission. */
static void run_observe(bench *b, session *tick, rxbuf *rx) {
  uint64_t t0 = now_ns();
  uint64_t t_measure = t0 + (uint64_t)(b->cfg.warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(b->cfg.duration * 1e9);
  uint64_t last_rt = t0, now;
  slot *sl = &tick->slots[0];
  while ((now = now_ns()) < t_end && !stop_now) {
    if (!b->measuring && now >= t_measure)
      start_measuring(b);
    int round_over =
        b->round_notifs >= b->observing || (now - b->tick_at > 1000000000u) ||
        (sl->state == SLOT_FREE &&
         now - (b->last_notif_at > b->tick_at ? b->last_notif_at : b->tick_at) >
             20000000u);
    if (sl->state == SLOT_FREE && round_over) {
      outq q;
      q.n = 0;
      start_request(b, tick, 0, 1, now);
      queue(tick->fd, &q, sl->msg, sl->len);
      flush(tick->fd, &q);
      b->tick_at = now;
      b->round_notifs = 0;
    }
    poll_once(b, rx, 1);
    if (now - last_rt > 100000000u) {
      retransmit_due(b, tick, now);
      last_rt = now;
    }
  }
  stop_measuring(b);
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

static const char *method_name(int m) {
  static const char *names[] = {"?", "GET", "POST", "PUT", "DELETE"};
  return names[m >= 1 && m <= 4 ? m : 0];
}

/* The human part of the report, before the key=value line. */
static void print_summary(const bench *b, double rate, double cpu_us,
                          double rss) {
  const config *c = &b->cfg;
  const stats *st = &b->st;
  printf("coap-bench: %s port %s, %d socket%s, %s %s /%s%s%s, %.1f s after "
         "%.1f s warm-up\n",
         c->host, c->port, c->sessions, c->sessions == 1 ? "" : "s",
         c->non ? "NON" : "CON", method_name(c->method), c->path,
         c->query ? "?" : "", c->query ? c->query : "", c->duration, c->warmup);
  if (c->observers)
    printf("  observers     %llu registered, %llu refused; %llu triggers\n"
           "  notifications %llu, %.1f/s\n",
           (unsigned long long)b->observing, (unsigned long long)b->obs_refused,
           (unsigned long long)st->ticks, (unsigned long long)st->notifications,
           (double)st->notifications / (c->duration > 0 ? c->duration : 1));
  else if (c->rate > 0)
    printf("  open loop     offered %.1f/s, %d in flight per socket at most\n"
           "  completed     %llu, %.1f/s\n",
           c->rate, c->window, (unsigned long long)st->completed, rate);
  else
    printf("  window        %d in flight per socket\n"
           "  completed     %llu, %.1f/s\n",
           c->window, (unsigned long long)st->completed, rate);
  printf(
      "  latency (us)  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f%s\n",
      percentile_us(st, 0.5), percentile_us(st, 0.9), percentile_us(st, 0.99),
      percentile_us(st, 0.999), (double)st->max_ns / 1000.0,
      c->observers ? " (from the trigger)" : "");
  printf("  not 2.xx %llu, retransmissions %llu, RSTs %llu, given up %llu\n",
         (unsigned long long)st->non2xx, (unsigned long long)st->retrans,
         (unsigned long long)st->rst, (unsigned long long)st->timeouts);
  if (b->parked || b->idle_ready)
    printf("  setup         %llu parked, %llu idle sessions\n",
           (unsigned long long)b->parked, (unsigned long long)b->idle_ready);
  if (cpu_us >= 0)
    printf("  server CPU    %.3f us per %s (pid %ld)\n", cpu_us,
           c->observers ? "notification" : "request", c->server_pid);
  if (rss >= 0)
    printf("  server RSS    %+.0f kB over the setup\n", rss);
}

/* ---- the report ------------------------------------------------------------
 */

/* One figure of the report; a negative v with `optional` is unknown. */
typedef struct field {
  const char *key;
  double v;
  int decimals;
  int optional;
} field;

static void report(const bench *b, double park_secs) {
  const stats *st = &b->st;
  double secs = b->cfg.duration > 0 ? b->cfg.duration : 1;
  uint64_t ops = b->cfg.observers ? st->notifications : st->completed;
  double cpu_us = b->cfg.server_pid && b->cpu_ns > 0 && ops
                      ? (double)b->cpu_ns / 1000.0 / (double)ops
                      : -1;
  double rss = b->cfg.server_pid && b->rss_kb[0] >= 0 && b->rss_kb[1] >= 0
                   ? (double)(b->rss_kb[1] - b->rss_kb[0])
                   : -1;
  const field f[] = {
      {"rate", (double)st->completed / secs, 1, 0},
      {"completed", (double)st->completed, 0, 0},
      {"p50_us", percentile_us(st, 0.50), 1, 0},
      {"p90_us", percentile_us(st, 0.90), 1, 0},
      {"p99_us", percentile_us(st, 0.99), 1, 0},
      {"p999_us", percentile_us(st, 0.999), 1, 0},
      {"max_us", (double)st->max_ns / 1000.0, 1, 0},
      {"non2xx", (double)st->non2xx, 0, 0},
      {"retrans", (double)st->retrans, 0, 0},
      {"rst", (double)st->rst, 0, 0},
      {"timeouts", (double)st->timeouts, 0, 0},
      {"parked", (double)b->parked, 0, 0},
      {"idle", (double)b->idle_ready, 0, 0},
      {"park_s", park_secs, 2, 0},
      {"warm", (double)st->warm, 0, 0},
      {"offered", b->cfg.rate, 1, 0},
      {"observers", (double)b->observing, 0, 0},
      {"obs_refused", (double)b->obs_refused, 0, 0},
      {"notifications", (double)st->notifications, 0, 0},
      {"notif_rate", (double)st->notifications / secs, 1, 0},
      {"ticks", (double)st->ticks, 0, 0},
      {"server_cpu_us", cpu_us, 3, 1},
      {"rss_setup_kb", rss, 0, 1},
      /* the share of the measured window each process was on a CPU (the
       * one near 1 is the limit), and was runnable but waiting for one
       * (other work on its CPU) */
      {"server_busy", cpu_us >= 0 ? (double)b->cpu_ns / (secs * 1e9) : -1, 2,
       1},
      {"load_busy",
       b->load_cpu_ns > 0 ? (double)b->load_cpu_ns / (secs * 1e9) : -1, 2, 1},
      {"server_wait",
       cpu_us >= 0 && b->wait_ns[0] >= 0 ? (double)b->wait_ns[0] / (secs * 1e9)
                                         : -1,
       2, 1},
      {"load_wait",
       b->wait_ns[1] >= 0 ? (double)b->wait_ns[1] / (secs * 1e9) : -1, 2, 1},
  };
  size_t n = sizeof(f) / sizeof(f[0]);
  if (b->cfg.json) {
    printf("{");
    for (size_t i = 0; i < n; i++)
      if (f[i].optional && f[i].v < 0)
        printf("%s\"%s\": null", i ? ", " : "", f[i].key);
      else
        printf("%s\"%s\": %.*f", i ? ", " : "", f[i].key, f[i].decimals,
               f[i].v);
    printf("}\n");
    return;
  }
  print_summary(b, f[0].v, cpu_us, rss);
  for (size_t i = 0; i < n; i++)
    if (f[i].optional && f[i].v < 0)
      printf(" %s=-", f[i].key);
    else
      printf("%s%s=%.*f", i ? " " : "", f[i].key, f[i].decimals, f[i].v);
  printf("\n");
}

int main(int argc, char **argv) {
  static bench b;
  static rxbuf rx;
  parse_args(argc, argv, &b.cfg);
  resolve(&b);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  srandom((unsigned)now_ns());
  if (b.cfg.progress < 0)
    b.cfg.progress = isatty(2) ? 2 : 0; /* 2: one line, rewritten */
  b.timeout_ns = (uint64_t)(b.cfg.timeout * 1e9);
  b.t_start = now_ns();
  int park_s = b.cfg.park ? b.cfg.park_sessions : 0;
  int obs = b.cfg.observers > 0;
  /* In observe mode the -c sockets hold the observers and one more sends
   * the trigger. */
  int total = park_s + b.cfg.idle + b.cfg.sessions + obs;
  raise_fd_limit(total + 64);
  b.sess = calloc((size_t)total + 1, sizeof(session));
  b.epfd = epoll_create1(0);
  if (!b.sess || b.epfd < 0)
    return 1;
  if (b.cfg.server_pid)
    b.rss_kb[0] = proc_rss_kb(b.cfg.server_pid);

  uint64_t t0 = now_ns();
  b.setup = 1;
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
  session *tick = NULL;
  if (obs) {
    int S = b.cfg.sessions, per = (b.cfg.observers + S - 1) / S;
    session *p = add_sessions(&b, S, ROLE_OBS, per);
    for (int i = 0, left = b.cfg.observers; i < S; i++, left -= per)
      p[i].todo = left <= 0 ? 0 : left < per ? left : per;
    run_setup(&b, p, S, 32, &b.obs_answered, (uint64_t)b.cfg.observers, &rx);
    tick = add_sessions(&b, 1, ROLE_TICK, 1);
  }
  b.setup = 0;
  if (b.cfg.server_pid)
    b.rss_kb[1] = proc_rss_kb(b.cfg.server_pid);
  if (b.cfg.hold > 0 || b.cfg.park || b.cfg.idle) {
    if (!b.cfg.json)
      printf("ready parked=%llu idle=%llu park_s=%.2f\n",
             (unsigned long long)b.parked, (unsigned long long)b.idle_ready,
             park_secs);
    fflush(stdout);
  }
  uint64_t hold_end = now_ns() + (uint64_t)(b.cfg.hold * 1e9);
  while (b.cfg.hold > 0 && now_ns() < hold_end && !stop_now)
    poll_once(&b, &rx, 50); /* keep acknowledging what arrives */

  if (obs && b.cfg.duration > 0) {
    run_observe(&b, tick, &rx);
  } else if (b.cfg.sessions > 0 && b.cfg.duration > 0) {
    add_sessions(&b, b.cfg.sessions, ROLE_LOAD, b.cfg.window);
    run_load(&b, &rx);
  }
  if (b.cfg.progress == 2)
    fputs("\r\033[K", stderr);
  report(&b, park_secs);
  return 0;
}
