/*
 * coap-bench-conn -- load generator for CoAP over DTLS (RFC 7252 9, PSK),
 * CoAP over TCP (RFC 8323 3) and CoAP over WebSockets (RFC 8323 4), the
 * connection-oriented transports that coap-bench (plain UDP) does not
 * speak. It uses OpenSSL directly for DTLS and writes RFC 8323 framing and
 * the WebSocket upgrade and frames (RFC 6455) itself, so that it loads
 * every server alike and costs as little as it can per request.
 *
 *   coap-bench-conn -t dtls|tcp|ws [options] HOST PORT
 *
 * Sessions: -c N sessions (one socket each: a connected UDP socket with
 * its own DTLS session, or a TCP connection) are set up first, at most -K
 * at a time (handshakes or connects in progress); a session counts once
 * its handshake has finished (DTLS) or the server's CSM has arrived (TCP;
 * WebSockets: after the server's 101 answer to the HTTP/1.1 upgrade to
 * /.well-known/coap with Sec-WebSocket-Protocol: coap, its
 * Sec-WebSocket-Accept checked, and our CSM). Over WebSockets every
 * message is one masked binary frame holding the message with Len 0
 * (RFC 8323 4.4); the server's frames are read unmasked, a Close ends the
 * session.
 * Then each keeps -w GETs in flight for -W seconds of warm-up and -d
 * seconds of measurement.
 *
 * Handshakes (-H, DTLS only): -K sockets, each making full PSK handshakes
 * one after the other: a new socket and SSL per handshake (no resumption),
 * close_notify when it completes, the socket closed; handshakes completed
 * per second in the measured window.
 *
 * -C PID reads the server's CPU time (/proc/PID/schedstat) over the
 * measured window and its RSS (/proc/PID/status) before and after the
 * session setup. The last line printed is key=value pairs:
 *   rate completed p50_us p99_us p999_us hs_rate handshakes sessions
 *   setup_s server_cpu_us rss_setup_kb rss_per_session gen_busy timeouts
 *   retrans cipher (timeouts: requests unanswered for over a second at
 *   the end)
 * With -H the latencies are those of the handshakes (first ClientHello to
 * the server's Finished). gen_busy is this program's own CPU time over the
 * measured window divided by its length: near 1.00 it is the bottleneck, not
 * the server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOW 64
#define TCP_RXBUF 65536
#define TCP_TXBUF 16384
#define RETRANS_NS 1000000000ull /* DTLS: resend a request unanswered 1 s */
#define MAX_LAT (1u << 23)       /* latency samples kept */

enum { ST_UPGRADE, ST_HANDSHAKE, ST_READY, ST_DEAD };

typedef struct {
  uint64_t sent_ns; /* 0: slot free */
  uint16_t mid;
  uint32_t seq;
} slot;

typedef struct sess {
  int fd;
  int state;
  SSL *ssl;
  uint16_t next_mid;
  uint32_t seq;
  int inflight;
  slot slots[MAX_WINDOW];
  uint8_t *rx; /* TCP: bytes of an unfinished message */
  size_t rxlen;
  uint8_t *tx; /* TCP: bytes the socket has not taken */
  size_t txlen;
} sess;

static struct {
  int dtls, ws; /* neither: TCP */
  int nsess, window, conc, hs_mode;
  double duration, warm, setup_limit;
  long pid;
  const char *path, *key, *identity, *ciphers;
  struct sockaddr_in addr;
} cfg = {.nsess = 1,
         .window = 1,
         .conc = 64,
         .duration = 3,
         .warm = 0.5,
         .setup_limit = 60,
         .path = "hello",
         .key = "bench-secret-key",
         .identity = "bench-client",
         .ciphers = "PSK-AES128-GCM-SHA256"};

static SSL_CTX *sslctx;
static int ep;
static sess *sessions;
static int ready, dead;
static int measuring;
static uint64_t completed, warm_done, timeouts, retrans, handshakes;
static uint32_t *lat;
static size_t nlat;
static const char *cipher = "-";
/* WebSockets: the key of every upgrade request and the accept value it
 * asks for (RFC 6455 4.2.2), and the state of the masking keys. */
static char ws_key[32], ws_accept[32];
static uint32_t mask_state = 0x9e3779b9u;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t self_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long proc_cpu_ns(long pid) {
  char p[64];
  long v = -1;
  snprintf(p, sizeof(p), "/proc/%ld/schedstat", pid);
  FILE *f = fopen(p, "r");
  if (f) {
    if (fscanf(f, "%ld", &v) != 1)
      v = -1;
    fclose(f);
  }
  return v;
}

static long proc_rss_kb(long pid) {
  char p[64], line[128];
  long v = -1;
  snprintf(p, sizeof(p), "/proc/%ld/status", pid);
  FILE *f = fopen(p, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "VmRSS: %ld", &v) == 1)
      break;
  fclose(f);
  return v;
}

/* ---- CoAP messages ----------------------------------------------------- */

/* Options of the GET: Uri-Path PATH (one segment, under 13 bytes). Returns
 * their length, written to OUT. */
static size_t uri_path(uint8_t *out) {
  size_t n = strlen(cfg.path);
  out[0] = (uint8_t)(11 << 4 | n);
  memcpy(out + 1, cfg.path, n);
  return n + 1;
}

/* The token names the slot and the request's sequence number. */
static void put_token(uint8_t *t, int slot_i, uint32_t seq) {
  uint32_t v = seq << 8 | (uint32_t)slot_i;
  memcpy(t, &v, 4);
}

/* RFC 7252 3 (inside DTLS): CON GET, 4-byte token. */
static size_t udp_get(uint8_t *m, uint16_t mid, int slot_i, uint32_t seq) {
  m[0] = 0x44;
  m[1] = 0x01;
  m[2] = (uint8_t)(mid >> 8);
  m[3] = (uint8_t)mid;
  put_token(m + 4, slot_i, seq);
  return 8 + uri_path(m + 8);
}

/* RFC 8323 3.2: Len (options and payload) | TKL, Code, Token, Options. */
static size_t tcp_get(uint8_t *m, int slot_i, uint32_t seq) {
  size_t n = uri_path(m + 6);
  m[0] = (uint8_t)(n << 4 | 4);
  m[1] = 0x01;
  put_token(m + 2, slot_i, seq);
  return 6 + n;
}

/* RFC 6455 5.2: a final binary frame, masked (a client's), holding the
 * N bytes at P (under 126); written to OUT, returns its length. */
static size_t ws_frame(uint8_t *out, const uint8_t *p, size_t n) {
  mask_state ^= mask_state << 13; /* xorshift32: a new key per frame */
  mask_state ^= mask_state >> 17;
  mask_state ^= mask_state << 5;
  uint8_t k[4];
  memcpy(k, &mask_state, 4);
  out[0] = 0x82;
  out[1] = (uint8_t)(0x80 | n);
  memcpy(out + 2, k, 4);
  for (size_t i = 0; i < n; i++)
    out[6 + i] = p[i] ^ k[i & 3];
  return 6 + n;
}

/* RFC 8323 4.4: the TCP form with Len 0 (the frame carries the length). */
static size_t ws_get(uint8_t *out, int slot_i, uint32_t seq) {
  uint8_t m[32];
  size_t n = tcp_get(m, slot_i, seq);
  m[0] &= 0x0f;
  return ws_frame(out, m, n);
}

static void send_dtls(sess *s, int i) {
  uint8_t m[32];
  size_t n = udp_get(m, s->slots[i].mid, i, s->slots[i].seq);
  if (SSL_write(s->ssl, m, (int)n) <= 0)
    ERR_clear_error();
}

static void tcp_flush(sess *s) {
  while (s->txlen) {
    ssize_t w = write(s->fd, s->tx, s->txlen);
    if (w <= 0)
      return; /* the rest at the next event or tick */
    memmove(s->tx, s->tx + w, s->txlen - (size_t)w);
    s->txlen -= (size_t)w;
  }
}

/* Starts the request of slot I (free). */
static void issue(sess *s, int i) {
  slot *sl = &s->slots[i];
  sl->sent_ns = now_ns();
  sl->seq = ++s->seq & 0xffffff;
  sl->mid = s->next_mid++;
  s->inflight++;
  if (cfg.dtls) {
    send_dtls(s, i);
  } else if (s->txlen + 32 <= TCP_TXBUF) {
    s->txlen += cfg.ws ? ws_get(s->tx + s->txlen, i, sl->seq)
                       : tcp_get(s->tx + s->txlen, i, sl->seq);
  }
}

static void fill(sess *s) {
  for (int i = 0; i < cfg.window; i++)
    if (!s->slots[i].sent_ns)
      issue(s, i);
  if (!cfg.dtls)
    tcp_flush(s);
}

/* A response with TOKEN (TKL bytes) and CODE arrived. */
static void answered(sess *s, const uint8_t *tok, size_t tkl, uint8_t code) {
  uint32_t v;
  if (tkl != 4 || code >> 5 != 2)
    return;
  memcpy(&v, tok, 4);
  int i = (int)(v & 0xff);
  if (i >= cfg.window || !s->slots[i].sent_ns || s->slots[i].seq != v >> 8)
    return; /* an answer to a retransmission already answered */
  uint64_t t = now_ns();
  if (measuring == 1) {
    completed++;
    if (nlat < MAX_LAT)
      lat[nlat++] = (uint32_t)((t - s->slots[i].sent_ns) / 1000);
  } else if (measuring == 0) {
    warm_done++;
  }
  s->slots[i].sent_ns = 0;
  s->inflight--;
  if (measuring >= 0)
    issue(s, i);
}

/* ---- DTLS -------------------------------------------------------------- */

static unsigned int psk_cb(SSL *ssl, const char *hint, char *id,
                           unsigned int max_id, unsigned char *psk,
                           unsigned int max_psk) {
  (void)ssl, (void)hint;
  size_t il = strlen(cfg.identity), kl = strlen(cfg.key);
  if (il + 1 > max_id || kl > max_psk)
    return 0;
  memcpy(id, cfg.identity, il + 1);
  memcpy(psk, cfg.key, kl);
  return (unsigned int)kl;
}

static int new_socket(int type) {
  int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("socket");
    exit(1);
  }
  return fd;
}

static void watch(sess *s, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = s};
  epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

static int dtls_step(sess *s);

static void dtls_open(sess *s) {
  s->fd = new_socket(SOCK_DGRAM);
  if (connect(s->fd, (struct sockaddr *)&cfg.addr, sizeof(cfg.addr)) < 0) {
    perror("connect");
    exit(1);
  }
  s->ssl = SSL_new(sslctx);
  BIO *bio = BIO_new_dgram(s->fd, BIO_NOCLOSE);
  BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &cfg.addr);
  SSL_set_bio(s->ssl, bio, bio);
  SSL_set_connect_state(s->ssl);
  s->state = ST_HANDSHAKE;
  s->slots[0].sent_ns = now_ns(); /* -H: the handshake's latency */
  watch(s, EPOLLIN);
  dtls_step(s);
}

static void dtls_close(sess *s) {
  SSL_shutdown(s->ssl); /* close_notify: the server frees the session */
  SSL_free(s->ssl);
  s->ssl = NULL;
  close(s->fd);
  s->fd = -1;
}

/* One step of S's handshake: 1 when it has just completed (the session is
 * ready; with -H it is counted, closed and started over), 0 while it goes
 * on or once it has failed. Any step may complete it, the first one in
 * dtls_open() too: when this process was held up long enough for every
 * answer of the server to be queued on the socket already, one call to
 * SSL_do_handshake() reads them all and no readable event follows. */
static int dtls_step(sess *s) {
  int r = SSL_do_handshake(s->ssl);
  if (r != 1) {
    int e = SSL_get_error(s->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      ERR_print_errors_fp(stderr);
      s->state = ST_DEAD;
      dead++;
      epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
    }
    ERR_clear_error();
    return 0;
  }
  cipher = SSL_get_cipher_name(s->ssl);
  if (cfg.hs_mode) {
    if (measuring == 1) {
      handshakes++;
      if (nlat < MAX_LAT)
        lat[nlat++] = (uint32_t)((now_ns() - s->slots[0].sent_ns) / 1000);
    }
    dtls_close(s);
    if (measuring >= 0)
      dtls_open(s);
    return 1;
  }
  s->state = ST_READY;
  s->slots[0].sent_ns = 0;
  ready++;
  return 1;
}

static void dtls_readable(sess *s) {
  if (s->state == ST_HANDSHAKE && (!dtls_step(s) || cfg.hs_mode))
    return;
  uint8_t buf[2048];
  for (;;) {
    int n = SSL_read(s->ssl, buf, sizeof(buf));
    if (n <= 0) {
      ERR_clear_error();
      return;
    }
    if (n >= 4 && (buf[0] & 0x0f) <= 8 && (size_t)n >= 4u + (buf[0] & 0x0f))
      answered(s, buf + 4, buf[0] & 0x0f, buf[1]);
  }
}

/* ---- TCP --------------------------------------------------------------- */

static void tcp_open(sess *s) {
  s->fd = new_socket(SOCK_STREAM);
  int one = 1;
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(s->fd, (struct sockaddr *)&cfg.addr, sizeof(cfg.addr)) < 0 &&
      errno != EINPROGRESS) {
    perror("connect");
    exit(1);
  }
  s->rx = malloc(TCP_RXBUF);
  s->tx = malloc(TCP_TXBUF);
  if (!s->rx || !s->tx)
    exit(1);
  /* Our CSM (7.01, no options) first, RFC 8323 5.3. */
  s->tx[0] = 0x00;
  s->tx[1] = 0xe1;
  s->txlen = 2;
  s->state = ST_HANDSHAKE;
  watch(s, EPOLLIN | EPOLLOUT);
}

/* Length of the whole message at P (AVAIL bytes), 0 if incomplete. */
static size_t tcp_msg_len(const uint8_t *p, size_t avail, size_t *hdr) {
  static const size_t ext[16] = {[13] = 1, [14] = 2, [15] = 4};
  static const size_t add[16] = {[13] = 13, [14] = 269, [15] = 65805};
  if (avail < 1)
    return 0;
  unsigned l = p[0] >> 4;
  size_t e = ext[l], body = l < 13 ? l : 0;
  if (avail < 2 + e)
    return 0;
  for (size_t i = 0; i < e; i++)
    body = body << 8 | p[1 + i];
  body += add[l];
  *hdr = 1 + e + 1 + (p[0] & 0x0f);
  return *hdr + body;
}

static void tcp_readable(sess *s) {
  for (;;) {
    ssize_t r = read(s->fd, s->rx + s->rxlen, TCP_RXBUF - s->rxlen);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      if (s->state != ST_DEAD) {
        if (s->state == ST_READY)
          ready--;
        s->state = ST_DEAD;
        dead++;
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
      }
      return;
    }
    if (r < 0)
      break;
    s->rxlen += (size_t)r;
    size_t off = 0, hdr, len;
    while ((len = tcp_msg_len(s->rx + off, s->rxlen - off, &hdr)) &&
           len <= s->rxlen - off) {
      const uint8_t *m = s->rx + off;
      uint8_t code = m[hdr - 1 - (m[0] & 0x0f)];
      if (code == 0xe1 && s->state == ST_HANDSHAKE) {
        s->state = ST_READY;
        ready++;
      } else if (code >> 5 != 7) {
        answered(s, m + hdr - (m[0] & 0x0f), m[0] & 0x0f, code);
      }
      off += len;
    }
    memmove(s->rx, s->rx + off, s->rxlen - off);
    s->rxlen -= off;
    if ((size_t)r < TCP_RXBUF)
      break;
  }
  tcp_flush(s);
}

/* ---- WebSockets -------------------------------------------------------- */

/* The key of every upgrade request and the Sec-WebSocket-Accept it asks
 * for: base64(SHA-1(key + the GUID of RFC 6455 1.3)). */
static void ws_keys(void) {
  uint8_t raw[16], sha[SHA_DIGEST_LENGTH];
  char cat[80];
  if (RAND_bytes(raw, sizeof(raw)) != 1)
    exit(1);
  EVP_EncodeBlock((unsigned char *)ws_key, raw, sizeof(raw));
  snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", ws_key);
  SHA1((const unsigned char *)cat, strlen(cat), sha);
  EVP_EncodeBlock((unsigned char *)ws_accept, sha, sizeof(sha));
}

static void ws_open(sess *s) {
  tcp_open(s); /* its CSM goes after the upgrade instead */
  int n = snprintf((char *)s->tx, TCP_TXBUF,
                   "GET /.well-known/coap HTTP/1.1\r\n"
                   "Host: %s:%u\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Protocol: coap\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   inet_ntoa(cfg.addr.sin_addr),
                   (unsigned)ntohs(cfg.addr.sin_port), ws_key);
  s->txlen = (size_t)n;
  s->state = ST_UPGRADE;
}

static void set_dead(sess *s) {
  if (s->state == ST_DEAD)
    return;
  if (s->state == ST_READY)
    ready--;
  s->state = ST_DEAD;
  dead++;
  epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
}

/* Whether header NAME (with its colon) has VALUE in the HTTP answer H. */
static int has_header(const char *h, const char *name, const char *value) {
  const char *p = strcasestr(h, name);
  if (!p)
    return 0;
  p += strlen(name);
  while (*p == ' ')
    p++;
  return !strncmp(p, value, strlen(value)) && p[strlen(value)] == '\r';
}

/* The server's answer to the upgrade, at the start of rx: consumes it once
 * complete and returns its length; 0 while incomplete; -1 when it is not
 * a 101 with the accept value and the coap subprotocol. */
static long ws_upgraded(sess *s) {
  char h[2048];
  size_t n = s->rxlen < sizeof(h) - 1 ? s->rxlen : sizeof(h) - 1;
  memcpy(h, s->rx, n);
  h[n] = 0;
  char *end = strstr(h, "\r\n\r\n");
  if (!end)
    return n == sizeof(h) - 1 ? -1 : 0;
  end[2] = 0;
  if (strncmp(h, "HTTP/1.1 101 ", 13) ||
      !has_header(h, "\nSec-WebSocket-Accept:", ws_accept) ||
      !has_header(h, "\nSec-WebSocket-Protocol:", "coap")) {
    fprintf(stderr, "coap-bench-conn: upgrade refused: %.*s\n",
            (int)strcspn(h, "\r"), h);
    return -1;
  }
  return end + 4 - h;
}

/* Length of the whole frame at P (AVAIL bytes), 0 if incomplete; its
 * header length in *HDR. */
static size_t ws_frame_len(const uint8_t *p, size_t avail, size_t *hdr) {
  if (avail < 2)
    return 0;
  size_t len = p[1] & 0x7f, e = len == 126 ? 2 : len == 127 ? 8 : 0;
  size_t mask = p[1] & 0x80 ? 4 : 0;
  if (avail < 2 + e + mask)
    return 0;
  if (e) {
    len = 0;
    for (size_t i = 0; i < e; i++)
      len = len << 8 | p[2 + i];
  }
  *hdr = 2 + e + mask;
  return *hdr + len;
}

/* One whole frame of the server: a CoAP message, or a Close. */
static void ws_message(sess *s, const uint8_t *f, size_t hdr, size_t len) {
  const uint8_t *m = f + hdr;
  size_t n = len - hdr, tkl = n ? m[0] & 0x0f : 0;
  if ((f[0] & 0x0f) == 8) { /* Close */
    set_dead(s);
    return;
  }
  if (f[0] != 0x82 || n < 2 + tkl || m[0] >> 4)
    return; /* not a whole binary message with Len 0: not ours to count */
  if (m[1] == 0xe1 && s->state == ST_HANDSHAKE) {
    s->state = ST_READY;
    ready++;
  } else if (m[1] >> 5 != 7 && s->state == ST_READY) {
    answered(s, m + 2, tkl, m[1]);
  }
}

static void ws_readable(sess *s) {
  for (;;) {
    ssize_t r = read(s->fd, s->rx + s->rxlen, TCP_RXBUF - s->rxlen);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      set_dead(s);
      return;
    }
    if (r < 0)
      break;
    s->rxlen += (size_t)r;
    size_t off = 0, hdr, len;
    if (s->state == ST_UPGRADE) {
      long u = ws_upgraded(s);
      if (u < 0) {
        set_dead(s);
        return;
      }
      if (!u)
        continue;
      off = (size_t)u;
      s->state = ST_HANDSHAKE;
      static const uint8_t csm[2] = {0x00, 0xe1}; /* RFC 8323 5.3 */
      s->txlen += ws_frame(s->tx + s->txlen, csm, sizeof(csm));
    }
    while ((len = ws_frame_len(s->rx + off, s->rxlen - off, &hdr)) &&
           len <= s->rxlen - off && s->state != ST_DEAD) {
      ws_message(s, s->rx + off, hdr, len);
      off += len;
    }
    if (s->state == ST_DEAD)
      return;
    memmove(s->rx, s->rx + off, s->rxlen - off);
    s->rxlen -= off;
    if ((size_t)r < TCP_RXBUF)
      break;
  }
  tcp_flush(s);
}

/* ---- the loop ---------------------------------------------------------- */

static void on_event(sess *s, uint32_t ev) {
  if (cfg.dtls) {
    dtls_readable(s);
    return;
  }
  if (ev & EPOLLOUT) {
    tcp_flush(s);
    if (!s->txlen) {
      struct epoll_event e = {.events = EPOLLIN, .data.ptr = s};
      epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
    }
  }
  if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    if (cfg.ws)
      ws_readable(s);
    else
      tcp_readable(s);
  }
}

/* Every 50 ms: DTLS handshake retransmissions, and DTLS requests unanswered
 * for RETRANS_NS are sent again (same MID: the server's deduplication
 * answers them); TCP output the socket did not take. O(sessions x window),
 * in the load generator only. */
static void tick(int n) {
  uint64_t t = now_ns();
  for (int k = 0; k < n; k++) {
    sess *s = &sessions[k];
    if (s->state == ST_DEAD || s->fd < 0)
      continue;
    if (!cfg.dtls) {
      tcp_flush(s);
      continue;
    }
    if (s->state == ST_HANDSHAKE) {
      if (DTLSv1_handle_timeout(s->ssl) < 0)
        ERR_clear_error();
      continue;
    }
    for (int i = 0; i < cfg.window; i++)
      if (s->slots[i].sent_ns && t - s->slots[i].sent_ns > RETRANS_NS) {
        s->slots[i].sent_ns = t;
        retrans++;
        send_dtls(s, i);
      }
  }
}

/* Across calls: setup() runs the loop in slices shorter than a tick. */
static uint64_t last_tick;

static void run_until(uint64_t end, int n, int stop_when_ready) {
  struct epoll_event evs[256];
  while (now_ns() < end) {
    if (stop_when_ready && ready + dead >= n)
      return;
    int k = epoll_wait(ep, evs, 256, 10);
    for (int i = 0; i < k; i++)
      on_event(evs[i].data.ptr, evs[i].events);
    if (now_ns() - last_tick > 50000000ull) {
      tick(n);
      last_tick = now_ns();
    }
  }
}

/* Sets up every session, at most cfg.conc in progress at once. */
static void setup(void) {
  uint64_t end = now_ns() + (uint64_t)(cfg.setup_limit * 1e9);
  int opened = 0;
  while (now_ns() < end && ready + dead < cfg.nsess) {
    while (opened < cfg.nsess && opened - ready - dead < cfg.conc) {
      if (cfg.dtls)
        dtls_open(&sessions[opened]);
      else if (cfg.ws)
        ws_open(&sessions[opened]);
      else
        tcp_open(&sessions[opened]);
      opened++;
    }
    run_until(now_ns() + 20000000ull, opened, 0);
  }
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (!nlat)
    return -1;
  size_t i = (size_t)(p * (double)(nlat - 1));
  return lat[i];
}

static void usage(void) {
  fprintf(stderr,
          "usage: coap-bench-conn -t dtls|tcp|ws [-c sessions] [-w in-flight]\n"
          "  [-K setups at once] [-H] [-d secs] [-W warm-up secs]\n"
          "  [-L setup limit secs] [-C server pid] [-p path] [-k key]\n"
          "  [-i identity] [-x ciphers] HOST PORT\n");
  exit(2);
}

int main(int argc, char **argv) {
  int o;
  while ((o = getopt(argc, argv, "t:c:w:K:Hd:W:L:C:p:k:i:x:")) != -1) {
    switch (o) {
    case 't':
      cfg.dtls = !strcmp(optarg, "dtls");
      cfg.ws = !strcmp(optarg, "ws");
      if (!cfg.dtls && !cfg.ws && strcmp(optarg, "tcp"))
        usage();
      break;
    case 'c':
      cfg.nsess = atoi(optarg);
      break;
    case 'w':
      cfg.window = atoi(optarg);
      break;
    case 'K':
      cfg.conc = atoi(optarg);
      break;
    case 'H':
      cfg.hs_mode = 1;
      break;
    case 'd':
      cfg.duration = atof(optarg);
      break;
    case 'W':
      cfg.warm = atof(optarg);
      break;
    case 'L':
      cfg.setup_limit = atof(optarg);
      break;
    case 'C':
      cfg.pid = atol(optarg);
      break;
    case 'p':
      cfg.path = optarg;
      break;
    case 'k':
      cfg.key = optarg;
      break;
    case 'i':
      cfg.identity = optarg;
      break;
    case 'x':
      cfg.ciphers = optarg;
      break;
    default:
      usage();
    }
  }
  if (argc - optind != 2 || cfg.window < 1 || cfg.window > MAX_WINDOW ||
      cfg.nsess < 1 || cfg.conc < 1 || strlen(cfg.path) > 12 ||
      (cfg.hs_mode && !cfg.dtls))
    usage();
  cfg.addr.sin_family = AF_INET;
  cfg.addr.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
  if (inet_pton(AF_INET, argv[optind], &cfg.addr.sin_addr) != 1)
    usage();
  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl)) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (cfg.dtls) {
    sslctx = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_set_min_proto_version(sslctx, DTLS1_2_VERSION);
    SSL_CTX_set_psk_client_callback(sslctx, psk_cb);
    if (!SSL_CTX_set_cipher_list(sslctx, cfg.ciphers)) {
      fprintf(stderr, "coap-bench-conn: no cipher in '%s'\n", cfg.ciphers);
      return 2;
    }
  }
  if (cfg.ws)
    ws_keys();
  lat = malloc(sizeof(*lat) * MAX_LAT);
  ep = epoll_create1(EPOLL_CLOEXEC);
  int n = cfg.hs_mode ? cfg.conc : cfg.nsess;
  sessions = calloc((size_t)n, sizeof(*sessions));
  if (!lat || ep < 0 || !sessions)
    return 1;
  for (int i = 0; i < n; i++)
    sessions[i].fd = -1;

  long rss0 = cfg.pid ? proc_rss_kb(cfg.pid) : -1, rss1 = -1;
  uint64_t t0 = now_ns();
  double setup_s = 0;
  if (!cfg.hs_mode) {
    setup();
    setup_s = (double)(now_ns() - t0) / 1e9;
    if (cfg.pid) {
      usleep(200000); /* let the server finish what the last setups left */
      rss1 = proc_rss_kb(cfg.pid);
    }
    if (!ready) {
      fprintf(stderr, "coap-bench-conn: no session set up (%d failed)\n", dead);
      return 1;
    }
    for (int i = 0; i < n; i++)
      if (sessions[i].state == ST_READY)
        fill(&sessions[i]);
  } else {
    for (int i = 0; i < n; i++)
      dtls_open(&sessions[i]);
  }
  measuring = 0;
  run_until(now_ns() + (uint64_t)(cfg.warm * 1e9), n, 0);
  long c0 = cfg.pid ? proc_cpu_ns(cfg.pid) : -1;
  uint64_t g0 = self_cpu_ns(), w0 = now_ns();
  measuring = 1;
  run_until(w0 + (uint64_t)(cfg.duration * 1e9), n, 0);
  measuring = -1;
  uint64_t w1 = now_ns(), g1 = self_cpu_ns();
  long c1 = cfg.pid ? proc_cpu_ns(cfg.pid) : -1;
  double secs = (double)(w1 - w0) / 1e9;
  uint64_t ops = cfg.hs_mode ? handshakes : completed;
  double cpu_us =
      c0 >= 0 && c1 >= 0 && ops ? (double)(c1 - c0) / 1000.0 / (double)ops : -1;
  for (int k = 0; k < n; k++) {
    for (int i = 0; i < cfg.window; i++)
      if (sessions[k].state == ST_READY && sessions[k].slots[i].sent_ns &&
          w1 - sessions[k].slots[i].sent_ns > RETRANS_NS)
        timeouts++; /* unanswered for a second at the end */
    if (cfg.dtls && sessions[k].ssl)
      dtls_close(&sessions[k]); /* the server frees it now */
  }
  qsort(lat, nlat, sizeof(*lat), cmp_u32);
  double rss_kb = rss0 >= 0 && rss1 >= 0 ? (double)(rss1 - rss0) : -1;
  printf("coap-bench-conn: %s %d session%s (%d set up in %.2f s, %d failed), "
         "%d in flight each, %.1f s, cipher %s\n",
         cfg.dtls ? "DTLS"
         : cfg.ws ? "WebSocket"
                  : "TCP",
         n, n == 1 ? "" : "s", ready, setup_s, dead, cfg.window, secs, cipher);
  printf("rate=%.1f completed=%llu p50_us=%.0f p99_us=%.0f p999_us=%.0f "
         "hs_rate=%.1f handshakes=%llu sessions=%d setup_s=%.2f "
         "server_cpu_us=%.3f rss_setup_kb=%.0f rss_per_session=%.0f "
         "gen_busy=%.2f timeouts=%llu retrans=%llu cipher=%s\n",
         (double)completed / secs, (unsigned long long)completed, pct(0.5),
         pct(0.99), pct(0.999), (double)handshakes / secs,
         (unsigned long long)handshakes, ready, setup_s, cpu_us, rss_kb,
         rss_kb >= 0 && ready ? rss_kb * 1024 / ready : -1,
         (double)(g1 - g0) / (double)(w1 - w0), (unsigned long long)timeouts,
         (unsigned long long)retrans, cipher);
  return 0;
}
