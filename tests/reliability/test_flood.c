/*
 * test_flood.c -- a loopback flood against a Petrel server running its
 * event loop in a thread, with the default limits:
 *
 *  - 1,000,000 CON GET /big (a 600-byte answer to an 11-byte request) from
 *    100,000 distinct sources (4 loopback addresses x 25,000 ports), 10
 *    datagrams each, sent as fast as sendmmsg() goes, bounded to 45 s;
 *  - meanwhile a legitimate client asks GET /hello every 20 ms, and
 *    retransmits every 100 ms until answered: every one must be answered
 *    within 5 s;
 *  - the server's state never passes its limits, and its heap (bytes the
 *    allocator has handed out, sampled on every loop pass) stays under
 *    HEAP_BOUND;
 *  - RFC 7252 11.3: the sources never show they receive anything, so the
 *    server sends at most 3 x the bytes it read plus the amplification
 *    allowance (burst + rate x duration; set to 64 KiB and 64 KiB/s here
 *    through the API, the defaults being 1 MiB and 1 MiB/s). The bytes
 *    it read are bounded from outside the server: what this test sent
 *    (counted by the flood and the client themselves) less what the
 *    kernel dropped at the server's socket (/proc/net/udp), never from
 *    the server's own counters, which are only checked to stay within it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#include "context.h"
#include "dedup.h"
#include "session.h"

#define SOURCES_PER_ADDR 25000
#define ADDRS 4
#define PER_SOURCE 10
#define BATCH 500 /* sockets open at once */
#define FLOOD_LIMIT_MS 45000
#define PROBE_EVERY_MS 20
#define PROBE_RETRY_MS 100
#define PROBE_GIVE_UP_MS 5000
#define HEAP_BOUND (64u * 1024u * 1024u)
#define FIRST_PORT 20000
#define AMP_ALLOWANCE 65536

/* The sanitizer runtime's count of bytes in use, when linked in. */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static size_t heap_in_use(void) {
  if (__sanitizer_get_current_allocated_bytes)
    return __sanitizer_get_current_allocated_bytes();
  return mallinfo2().uordblks;
}

static uint64_t ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the server (its own thread) ------------------------------------------
 */

static coap_context_t *server;
static uint16_t server_port;
static int stop_server; /* atomic */
static size_t peak_sessions, peak_dedup, peak_exchanges, peak_heap;
static size_t heap_before;
static uint64_t bytes_out, bytes_in_closed;

static ssize_t counting_send(coap_session_t *s, const uint8_t *d, size_t n) {
  ssize_t r = pt_io_send(s, d, n);
  if (r > 0 && s->type == COAP_SESSION_TYPE_SERVER)
    bytes_out += (uint64_t)r;
  return r;
}

/* Bytes read from sessions that are gone; the live ones are summed at the
 * end. */
static int on_event(coap_session_t *s, coap_event_t ev) {
  if (ev == COAP_EVENT_SERVER_SESSION_DEL)
    bytes_in_closed += s->amp_in;
  return 0;
}

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  static uint8_t body[600];
  (void)r, (void)s, (void)req, (void)q;
  memset(body, 'x', sizeof(body));
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, sizeof(body), body);
}

static void *serve(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop_server, __ATOMIC_ACQUIRE)) {
    coap_io_process(server, 10);
    coap_petrel_stats_t st;
    coap_petrel_context_get_stats(server, &st);
    if (st.sessions > peak_sessions)
      peak_sessions = st.sessions;
    if (st.dedup_entries > peak_dedup)
      peak_dedup = st.dedup_entries;
    if (st.exchanges > peak_exchanges)
      peak_exchanges = st.exchanges;
    size_t h = heap_in_use();
    if (h > peak_heap)
      peak_heap = h;
  }
  return NULL;
}

static int start_server(void) {
  heap_before = heap_in_use();
  server = coap_new_context(NULL);
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  coap_endpoint_t *ep = coap_new_endpoint(server, &a, COAP_PROTO_UDP);
  if (!ep)
    return -1;
  server_port = coap_address_get_port(&ep->bind_addr);
  server->send = counting_send;
  coap_petrel_context_set_amplification(server, 3, AMP_ALLOWANCE,
                                        AMP_ALLOWANCE);
  coap_register_event_handler(server, on_event);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_hello);
  coap_add_resource(server, r);
  r = coap_resource_init(coap_make_str_const("big"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_big);
  coap_add_resource(server, r);
  return 0;
}

/* ---- the legitimate client (its own thread) ------------------------------ */

static int stop_probe; /* atomic */
static int probes, answered, unanswered;
static uint64_t probe_bytes, probe_datagrams; /* what the client sent */
static uint64_t worst_ms;

static size_t build_get(uint8_t *buf, uint16_t mid, const char *path) {
  size_t n = 0, len = strlen(path);
  buf[n++] = 0x41; /* version 1, CON, token length 1 */
  buf[n++] = COAP_REQUEST_CODE_GET;
  buf[n++] = (uint8_t)(mid >> 8);
  buf[n++] = (uint8_t)mid;
  buf[n++] = 0x5a;                  /* token */
  buf[n++] = (uint8_t)(0xb0 | len); /* Uri-Path (11), short length */
  memcpy(buf + n, path, len);
  return n + len;
}

static struct sockaddr_in server_addr(void) {
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons(server_port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return a;
}

/* One probe: 1 if answered 2.05 within PROBE_GIVE_UP_MS. */
static int probe(int fd, uint16_t mid, uint64_t *took) {
  uint8_t req[32], buf[1600];
  size_t len = build_get(req, mid, "hello");
  uint64_t t0 = ms_now(), last = 0;
  while (ms_now() - t0 < PROBE_GIVE_UP_MS) {
    if (ms_now() - last >= PROBE_RETRY_MS) {
      if (send(fd, req, len, 0) == (ssize_t)len) {
        probe_bytes += len;
        probe_datagrams++;
      }
      last = ms_now();
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0); /* SO_RCVTIMEO: 10 ms */
    if (n >= 4 && buf[1] == COAP_RESPONSE_CODE_CONTENT &&
        (uint16_t)(buf[2] << 8 | buf[3]) == mid) {
      *took = ms_now() - t0;
      return 1;
    }
  }
  return 0;
}

static void *prober(void *arg) {
  (void)arg;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = server_addr();
  struct timeval tv = {0, 10000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  connect(fd, (struct sockaddr *)&a, sizeof(a));
  uint16_t mid = 1;
  while (!__atomic_load_n(&stop_probe, __ATOMIC_ACQUIRE)) {
    uint64_t took = 0;
    probes++;
    if (probe(fd, mid++, &took)) {
      answered++;
      if (took > worst_ms)
        worst_ms = took;
    } else {
      unanswered++;
    }
    usleep(PROBE_EVERY_MS * 1000);
  }
  close(fd);
  return NULL;
}

/* ---- the flood -------------------------------------------------------------
 */

static uint64_t flood_sent, flood_sources, flood_bytes;

/* Opens a socket bound to 127.0.0.(2+@addr):@port, or -1. */
static int source_socket(int addr, uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons(port),
                          .sin_addr.s_addr =
                              htonl(0x7f000002u + (unsigned)addr)};
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
    return fd;
  if (fd >= 0)
    close(fd);
  return -1;
}

/* Sends PER_SOURCE requests from @fd. */
static void send_burst(int fd, uint16_t mid0) {
  static uint8_t bufs[PER_SOURCE][32];
  struct mmsghdr msgs[PER_SOURCE];
  struct iovec iov[PER_SOURCE];
  struct sockaddr_in to = server_addr();
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < PER_SOURCE; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = build_get(bufs[i], (uint16_t)(mid0 + i), "big");
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof(to);
  }
  int n = sendmmsg(fd, msgs, PER_SOURCE, 0);
  for (int i = 0; i < n; i++) {
    flood_sent++;
    flood_bytes += iov[i].iov_len;
  }
}

static void flood(uint64_t deadline) {
  int fds[BATCH];
  for (int addr = 0; addr < ADDRS; addr++) {
    for (int base = 0; base < SOURCES_PER_ADDR; base += BATCH) {
      if (ms_now() > deadline)
        return;
      int n = 0;
      for (int i = 0; i < BATCH && base + i < SOURCES_PER_ADDR; i++) {
        int fd = source_socket(addr, (uint16_t)(FIRST_PORT + base + i));
        if (fd >= 0)
          fds[n++] = fd;
      }
      for (int i = 0; i < n; i++)
        send_burst(fds[i], (uint16_t)(base + i));
      for (int i = 0; i < n; i++)
        close(fds[i]);
      flood_sources += (uint64_t)n;
    }
  }
}

/* ---- the test ------------------------------------------------------------ */

/* Datagrams the kernel dropped at the UDP socket bound to 127.0.0.1:@port
 * (the "drops" column of /proc/net/udp), or -1 when not found. */
static long long kernel_drops(uint16_t port) {
  FILE *f = fopen("/proc/net/udp", "r");
  char line[512];
  long long drops = -1;
  if (!f)
    return -1;
  while (fgets(line, sizeof(line), f)) {
    unsigned addr, lport;
    if (sscanf(line, " %*u: %8x:%4x", &addr, &lport) != 2 || lport != port ||
        addr != htonl(INADDR_LOOPBACK))
      continue;
    long long v = -1;
    char *tok = strtok(line, " \t\n");
    while (tok) { /* the last field */
      v = strtoll(tok, NULL, 10);
      tok = strtok(NULL, " \t\n");
    }
    drops = v;
    break;
  }
  fclose(f);
  return drops;
}

static uint64_t live_bytes_in(void) {
  uint64_t in = 0;
  pt_hashmap_iter it;
  pt_hash_node *n;
  pt_hashmap_iter_init(&it, &server->sessions);
  while ((n = pt_hashmap_iter_next(&it)) != NULL)
    in += PT_CONTAINER_OF(n, coap_session_t, by_peer)->amp_in;
  return in;
}

TEST(million_request_flood_from_100000_sources) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < BATCH + 64 && rl.rlim_max >= BATCH + 64) {
    rl.rlim_cur = BATCH + 64;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  coap_startup();
  CHECK_INT_EQ(start_server(), 0);
  pthread_t srv, prb;
  pthread_create(&srv, NULL, serve, NULL);
  pthread_create(&prb, NULL, prober, NULL);
  uint64_t t0 = ms_now();
  flood(t0 + FLOOD_LIMIT_MS);
  uint64_t flood_ms = ms_now() - t0;
  usleep(500 * 1000); /* the server drains its socket; probes go on */
  __atomic_store_n(&stop_probe, 1, __ATOMIC_RELEASE);
  pthread_join(prb, NULL);
  __atomic_store_n(&stop_server, 1, __ATOMIC_RELEASE);
  pthread_join(srv, NULL);
  uint64_t secs = (ms_now() - t0) / 1000 + 1;

  coap_petrel_stats_t st;
  coap_petrel_context_get_stats(server, &st);
  uint64_t counted_in = bytes_in_closed + live_bytes_in();
  /* What reached the server, from outside it: everything sent, less at
   * least the smallest datagram (9 bytes, GET /big) per kernel drop. */
  long long drops = kernel_drops(server_port);
  uint64_t sent_in = flood_bytes + probe_bytes;
  uint64_t dropped = drops > 0 ? (uint64_t)drops * 9 : 0;
  uint64_t in = sent_in > dropped ? sent_in - dropped : 0;
  uint64_t allowance = AMP_ALLOWANCE + (uint64_t)AMP_ALLOWANCE * secs;
  printf("flood: %llu datagrams (%llu bytes) from %llu sources in %llu ms, "
         "client %llu datagrams (%llu bytes); the kernel dropped %lld at the "
         "server's socket; the server read at most %llu bytes (its own count: "
         "%llu), sent %llu (allowance %llu), %llu held back\n",
         (unsigned long long)flood_sent, (unsigned long long)flood_bytes,
         (unsigned long long)flood_sources, (unsigned long long)flood_ms,
         (unsigned long long)probe_datagrams, (unsigned long long)probe_bytes,
         drops, (unsigned long long)in, (unsigned long long)counted_in,
         (unsigned long long)bytes_out, (unsigned long long)allowance,
         (unsigned long long)st.amplification_dropped);
  printf("peaks: %zu sessions, %zu dedup entries, %zu exchanges, heap %zu "
         "bytes (%zu before); %llu sessions evicted, %llu refused\n",
         peak_sessions, peak_dedup, peak_exchanges, peak_heap, heap_before,
         (unsigned long long)st.sessions_evicted,
         (unsigned long long)st.sessions_refused);
  printf("sizes: session %zu bytes, dedup entry %zu bytes + its reply\n",
         sizeof(coap_session_t), sizeof(pt_dedup));
  printf("legitimate client: %d probes, %d answered (worst %llu ms), %d "
         "not\n",
         probes, answered, (unsigned long long)worst_ms, unanswered);

  CHECK(flood_sources >= ADDRS * SOURCES_PER_ADDR * 9 / 10);
  CHECK(flood_sent >= flood_sources * PER_SOURCE * 9 / 10);
  CHECK(flood_ms < FLOOD_LIMIT_MS);
  CHECK(peak_sessions <= PT_DEFAULT_MAX_SESSIONS);
  CHECK(peak_heap < HEAP_BOUND);
  CHECK(drops >= 0); /* the socket was found in /proc/net/udp */
  CHECK(counted_in <= sent_in);
  CHECK(bytes_out <= 3 * in + allowance);
  CHECK(probes > 10);
  CHECK_INT_EQ(unanswered, 0);
  coap_free_context(server);
  coap_cleanup();
}

int main(void) {
  RUN(million_request_flood_from_100000_sources);
  return TEST_SUMMARY();
}
