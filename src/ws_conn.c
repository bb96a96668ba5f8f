/*
 * ws_conn.c -- CoAP over WebSockets (RFC 8323 section 4): the upgrade,
 * then one binary frame per CoAP message, on a tcp.c connection. See
 * ws_conn.h; the codecs are ws.c (frames) and ws_http.c (the upgrade).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_conn.h"

#include "context.h"
#include "outq.h"
#include "prng.h"
#include "session.h"
#include "tcp.h"
#include "timer.h"
#include "tls_stream.h"
#include "ws.h"

typedef enum ws_state {
  WS_UPGRADING, /* the HTTP exchange is under way */
  WS_OPEN,      /* frames flow */
  WS_CLOSED,    /* a Close was sent or the stream failed: nothing more */
} ws_state;

struct pt_ws_conn {
  pt_ws_decoder dec;      /* the peer's frames, once open */
  pt_outq held;           /* frames sent before the upgrade completed */
  pt_timer upgrade_timer; /* the upgrade must be done by then */
  coap_session_t *session;
  uint8_t *head; /* the HTTP head received so far (owned; upgrade only) */
  size_t head_len, head_cap;
  char key[PT_WS_KEY_LEN + 1]; /* client: the Sec-WebSocket-Key sent */
  char *host;                  /* client: coap_ws_set_host_request() */
  uint8_t server;
  uint8_t state;
  uint8_t started; /* client: the request is out */
};

/* CoAP over WebSockets is here in every build. */
int coap_ws_is_supported(void) {
  return 1;
}

/* coaps+ws is this layer over the TLS byte pipe: wherever TLS is built. */
int coap_wss_is_supported(void) {
  return coap_tls_is_supported();
}

static pt_ws_conn *ws_of(coap_session_t *s) {
  return s ? pt_tcp_ws(s) : NULL;
}

/* ---- writing --------------------------------------------------------- */

static void random_bytes(uint8_t *out, size_t n) {
  while (n) {
    uint64_t r = pt_prng_u64();
    size_t k = n < 8 ? n : 8;
    memcpy(out, &r, k);
    out += k, n -= k;
  }
}

/* Frames up to this size are built whole on the stack, so that a small
 * message leaves in one write (one segment, with TCP_NODELAY). */
#define WS_SMALL_FRAME 2048u

/* A frame with @opcode and payload @data (@len bytes) into @w's held queue
 * or onto the connection; a client masks it with a fresh key (RFC 6455
 * 5.3). A small frame, or a client's, is built whole (the masked payload
 * is a copy anyway); a server's big one goes as header and payload, the
 * payload not copied. 0, or -1. */
static int send_frame(pt_ws_conn *w, unsigned opcode, const uint8_t *data,
                      size_t len) {
  uint8_t small[PT_WS_HDR_MAX + WS_SMALL_FRAME], mask[4];
  if (!w->server)
    random_bytes(mask, sizeof(mask));
  size_t hlen = pt_ws_frame_header(small, opcode, len, w->server ? NULL : mask);
  const uint8_t *a = small, *b = NULL;
  size_t alen = hlen + len, blen = 0;
  uint8_t *frame = small;
  if (w->server && len > WS_SMALL_FRAME) {
    alen = hlen, b = data, blen = len;
  } else {
    if (len > WS_SMALL_FRAME) {
      if (!(frame = malloc(hlen + len)))
        return -1;
      memcpy(frame, small, hlen);
      a = frame;
    }
    memcpy(frame + hlen, data, len);
    if (!w->server)
      pt_ws_mask(frame + hlen, len, mask, 0);
  }
  int rc;
  if (w->state == WS_UPGRADING)
    rc = pt_outq_push(&w->held, a, alen, b, blen) == PT_OUTQ_OK ? 0 : -1;
  else
    rc = pt_tcp_write(w->session, a, alen, b, blen);
  if (frame != small)
    free(frame);
  return rc;
}

ssize_t pt_ws_conn_send(coap_session_t *s, const uint8_t *data, size_t len) {
  pt_ws_conn *w = ws_of(s);
  if (!w || w->state == WS_CLOSED)
    return -1;
  /* A failed write has failed the connection (closed from a timer, so
   * nothing is freed under the sender); a failed push to the held queue
   * fails it here. */
  int upgrading = w->state == WS_UPGRADING;
  if (send_frame(w, PT_WS_OP_BINARY, data, len) < 0) {
    if (upgrading) {
      coap_log_warn("* %s: too much held before the WebSocket upgrade: "
                    "closing\n",
                    coap_session_str(s));
      pt_tcp_fail(s);
    }
    return -1;
  }
  return (ssize_t)len;
}

/* Sends a Close with @status (none for 1005) and @reason: the last frame. */
static void send_close(pt_ws_conn *w, uint16_t status, const char *reason) {
  uint8_t payload[PT_WS_CONTROL_MAX];
  size_t n = status == PT_WS_CLOSE_NO_STATUS
                 ? 0
                 : pt_ws_close_payload(payload, status, reason);
  if (w->state == WS_OPEN)
    send_frame(w, PT_WS_OP_CLOSE, payload, n);
  w->state = WS_CLOSED;
}

size_t pt_ws_conn_close_frame(coap_session_t *s, uint8_t *out) {
  pt_ws_conn *w = ws_of(s);
  if (!w || w->state != WS_OPEN)
    return 0;
  w->state = WS_CLOSED;
  uint8_t mask[4],
      payload[2] = {PT_WS_CLOSE_NORMAL >> 8, PT_WS_CLOSE_NORMAL & 0xFF};
  if (!w->server) {
    random_bytes(mask, sizeof(mask));
    pt_ws_mask(payload, sizeof(payload), mask, 0);
  }
  size_t h = pt_ws_frame_header(out, PT_WS_OP_CLOSE, sizeof(payload),
                                w->server ? NULL : mask);
  memcpy(out + h, payload, sizeof(payload));
  return h + sizeof(payload);
}

/* ---- the upgrade ------------------------------------------------------ */

/* The Host header for a client's request: coap_ws_set_host_request()'s,
 * else the address, with the port when it is not the scheme's default (80
 * for ws, 443 for wss: RFC 7230 5.4, RFC 6455 3). */
static void host_header(coap_session_t *s, pt_ws_conn *w, char *out,
                        size_t cap) {
  uint16_t port = coap_address_get_port(&s->remote);
  uint16_t dflt = pt_tls_stream_proto(s->proto) ? 443 : 80;
  char name[300] = "";
  if (w->host)
    snprintf(name, sizeof(name), "%s", w->host);
  else if (!coap_print_ip_addr(&s->remote, name, sizeof(name)))
    name[0] = '\0';
  const char *open = strchr(name, ':') ? "[" : "", *close = *open ? "]" : "";
  if (port == dflt)
    snprintf(out, cap, "%s%s%s", open, name, close);
  else
    snprintf(out, cap, "%s%s%s:%u", open, name, close, port);
}

int pt_ws_conn_start(coap_session_t *s) {
  pt_ws_conn *w = ws_of(s);
  if (!w || w->server || w->started)
    return 0;
  w->started = 1;
  uint8_t nonce[16];
  random_bytes(nonce, sizeof(nonce));
  pt_ws_make_key(nonce, w->key);
  char host[300], req[512];
  host_header(s, w, host, sizeof(host));
  size_t n = pt_ws_client_request(req, sizeof(req), host, w->key);
  if (!n) {
    pt_tcp_shut(s, COAP_EVENT_TCP_FAILED);
    return -1;
  }
  return pt_tcp_write(s, (const uint8_t *)req, n, NULL, 0);
}

/* The upgrade is done: held frames leave, in order. 0, or -1 (closed). */
static int opened(coap_session_t *s, pt_ws_conn *w) {
  pt_timer_cancel(s->context, &w->upgrade_timer);
  free(w->head);
  w->head = NULL;
  w->head_len = w->head_cap = 0;
  w->state = WS_OPEN;
  coap_log_debug("* %s: WebSocket open\n", coap_session_str(s));
  pt_event(s, COAP_EVENT_WS_CONNECTED);
  const uint8_t *data;
  size_t n;
  while ((n = pt_outq_peek(&w->held, &data)) > 0) {
    if (pt_tcp_write(s, data, n, NULL, 0) < 0)
      return -1;
    pt_outq_consume(&w->held, n);
  }
  pt_outq_free(&w->held);
  return 0;
}

/* The peer's side of the upgrade, in @w->head: the length of its head
 * (frames follow), 0 while incomplete, or -1 when refused (closed). */
static int upgrade_step(coap_session_t *s, pt_ws_conn *w) {
  int rc;
  if (w->server) {
    char resp[512];
    size_t resp_len = 0;
    rc = pt_ws_server_request(w->head, w->head_len, resp, sizeof(resp),
                              &resp_len);
    if (rc != 0 && resp_len &&
        pt_tcp_write(s, (const uint8_t *)resp, resp_len, NULL, 0) < 0)
      return -1;
  } else {
    rc = pt_ws_client_response(w->head, w->head_len, w->key);
  }
  if (rc < 0) {
    coap_log_info("* %s: WebSocket upgrade refused (%d)\n", coap_session_str(s),
                  rc);
    pt_tcp_shut(s, w->server ? COAP_EVENT_TCP_CLOSED : COAP_EVENT_TCP_FAILED);
    return -1;
  }
  return rc;
}

/* ---- reading --------------------------------------------------------- */

/* A message that arrives whole in one frame of one read, up to this size,
 * is unmasked on the stack (pt_ws_decoder_scratch()): a connection then
 * keeps no message buffer between requests. */
#define WS_SCRATCH 2048u

/* The events in @data, decoded with the scratch buffer lent. */
static int frames_loop(coap_session_t *s, pt_ws_conn *w, const uint8_t *data,
                       size_t len, coap_tick_t now) {
  pt_ws_event ev;
  while (w->state == WS_OPEN && pt_tcp_open(s) &&
         pt_ws_next(&w->dec, &data, &len, &ev)) {
    switch (ev.kind) {
    case PT_WS_EV_MESSAGE:
      if (pt_tcp_message(s, ev.data, ev.len, now) < 0)
        return -1;
      break;
    case PT_WS_EV_PING:
      send_frame(w, PT_WS_OP_PONG, ev.data, ev.len);
      break;
    case PT_WS_EV_PONG:
      break;
    case PT_WS_EV_CLOSE: /* RFC 6455 5.5.1: answer, then the TCP close */
      send_close(w, ev.status, NULL);
      pt_event(s, COAP_EVENT_WS_CLOSED);
      pt_tcp_shut(s, COAP_EVENT_TCP_CLOSED);
      return -1;
    case PT_WS_EV_ERROR:
      coap_log_info("* %s: WebSocket frame refused: closing with %u\n",
                    coap_session_str(s), ev.status);
      if (ev.status == PT_WS_CLOSE_TOO_BIG)
        pt_event(s, COAP_EVENT_WS_PACKET_SIZE);
      send_close(w, ev.status, NULL);
      pt_event(s, COAP_EVENT_WS_CLOSED);
      pt_tcp_shut(s, COAP_EVENT_TCP_CLOSED);
      return -1;
    }
  }
  return w->state == WS_OPEN && pt_tcp_open(s) ? 0 : -1;
}

/* Frames from the peer. 0, or -1 when the connection closed. The caller
 * holds a reference to @s, so @w outlives a close here. */
static int frames_input(coap_session_t *s, pt_ws_conn *w, const uint8_t *data,
                        size_t len, coap_tick_t now) {
  uint8_t scratch[WS_SCRATCH];
  pt_ws_decoder_scratch(&w->dec, scratch, sizeof(scratch));
  int rc = frames_loop(s, w, data, len, now);
  pt_ws_decoder_scratch(&w->dec, NULL, 0);
  return rc;
}

/* Room for @need bytes of head (at most PT_WS_HANDSHAKE_MAX), grown as
 * they arrive: a usual upgrade head is a few hundred bytes. 0, or -1. */
static int grow_head(pt_ws_conn *w, size_t need) {
  if (w->head && need <= w->head_cap)
    return 0;
  size_t cap = w->head_cap ? w->head_cap * 2 : 512;
  while (cap < need)
    cap *= 2;
  if (cap > PT_WS_HANDSHAKE_MAX)
    cap = PT_WS_HANDSHAKE_MAX;
  uint8_t *p = realloc(w->head, cap);
  if (!p)
    return -1;
  w->head = p;
  w->head_cap = cap;
  return 0;
}

/* Upgrade bytes: appended to the head (at most PT_WS_HANDSHAKE_MAX of
 * them: ws_http.c refuses a longer head), then what follows the head goes
 * to the frame decoder. */
static int upgrade_input(coap_session_t *s, pt_ws_conn *w, const uint8_t *data,
                         size_t len, coap_tick_t now) {
  size_t room = PT_WS_HANDSHAKE_MAX - w->head_len;
  size_t take = len < room ? len : room;
  if (grow_head(w, w->head_len + take) < 0)
    return -1;
  memcpy(w->head + w->head_len, data, take);
  w->head_len += take;
  int head = upgrade_step(s, w);
  if (head <= 0)
    return head;
  /* Bytes after the head: frames already (a server may follow its 101
   * with frames at once). Copied out, as opened() frees the head. */
  size_t extra = w->head_len - (size_t)head;
  uint8_t *rest = extra ? malloc(extra) : NULL;
  if (extra && !rest)
    return -1;
  if (extra)
    memcpy(rest, w->head + head, extra);
  int rc = opened(s, w);
  if (rc == 0 && extra)
    rc = frames_input(s, w, rest, extra, now);
  free(rest);
  if (rc == 0 && take < len)
    rc = frames_input(s, w, data + take, len - take, now);
  return rc;
}

int pt_ws_conn_input(coap_session_t *s, const uint8_t *data, size_t len,
                     coap_tick_t now) {
  pt_ws_conn *w = ws_of(s);
  if (!w || w->state == WS_CLOSED)
    return -1;
  if (w->state == WS_UPGRADING)
    return upgrade_input(s, w, data, len, now);
  return frames_input(s, w, data, len, now);
}

/* ---- the upgrade timeout ---------------------------------------------- */

static void upgrade_expired(coap_context_t *ctx, pt_timer *timer,
                            coap_tick_t now) {
  (void)ctx, (void)now;
  pt_ws_conn *w = PT_CONTAINER_OF(timer, pt_ws_conn, upgrade_timer);
  coap_session_t *s = w->session;
  coap_log_info("* %s: WebSocket upgrade not done in time: closing\n",
                coap_session_str(s));
  if (w->server) {
    static const char timeout[] =
        "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
    if (pt_tcp_write(s, (const uint8_t *)timeout, sizeof(timeout) - 1, NULL,
                     0) < 0)
      return; /* closed already */
  }
  pt_tcp_shut(s, w->server ? COAP_EVENT_TCP_CLOSED : COAP_EVENT_TCP_FAILED);
}

void coap_petrel_context_set_ws_upgrade_timeout(coap_context_t *ctx,
                                                unsigned ms) {
  if (ctx)
    ctx->ws_upgrade_timeout_ms = ms;
}

unsigned coap_petrel_context_get_ws_upgrade_timeout(const coap_context_t *ctx) {
  if (!ctx)
    return 0;
  return ctx->ws_upgrade_timeout_ms ? ctx->ws_upgrade_timeout_ms
                                    : PT_WS_UPGRADE_TIMEOUT_MS;
}

/* ---- lifetime --------------------------------------------------------- */

/* Arms @w's upgrade timeout from @now. 0 or -1. */
static int arm_upgrade(coap_context_t *ctx, pt_ws_conn *w, coap_tick_t now) {
  unsigned ms = coap_petrel_context_get_ws_upgrade_timeout(ctx);
  return pt_timer_arm(ctx, &w->upgrade_timer,
                      now + (coap_tick_t)ms * COAP_TICKS_PER_SECOND / 1000u);
}

pt_ws_conn *pt_ws_conn_new(coap_session_t *s, coap_tick_t now) {
  pt_ws_conn *w = calloc(1, sizeof(*w));
  if (!w)
    return NULL;
  w->session = s;
  w->server = s->type != COAP_SESSION_TYPE_CLIENT;
  w->state = WS_UPGRADING;
  pt_ws_decoder_init(&w->dec, w->server, s->context->csm_max_message_size);
  pt_outq_init(&w->held, PT_TCP_OUTQ_CAP);
  pt_timer_init(&w->upgrade_timer, upgrade_expired);
  /* coaps+ws: the TLS handshake has its own deadline; the upgrade's
   * starts when the handshake is done (pt_ws_conn_secured()). */
  if (!pt_tls_stream_proto(s->proto) && arm_upgrade(s->context, w, now) < 0) {
    pt_ws_conn_free(s->context, w);
    return NULL;
  }
  return w;
}

int pt_ws_conn_secured(coap_session_t *s, coap_tick_t now) {
  pt_ws_conn *w = ws_of(s);
  if (!w || w->state != WS_UPGRADING)
    return 0;
  if (arm_upgrade(s->context, w, now) < 0) {
    pt_tcp_shut(s, COAP_EVENT_TCP_FAILED);
    return -1;
  }
  return w->server ? 0 : pt_ws_conn_start(s);
}

size_t pt_ws_conn_buffered(const pt_ws_conn *w) {
  return w ? w->dec.msg_cap + pt_outq_bytes(&w->held) + w->head_cap : 0;
}

void pt_ws_conn_free(coap_context_t *ctx, pt_ws_conn *w) {
  if (!w)
    return;
  pt_timer_cancel(ctx, &w->upgrade_timer);
  pt_ws_decoder_free(&w->dec);
  pt_outq_free(&w->held);
  free(w->head);
  free(w->host);
  free(w);
}

int coap_ws_set_host_request(coap_session_t *session,
                             coap_str_const_t *ws_host) {
  pt_ws_conn *w = ws_of(session);
  if (!w || w->server || !ws_host || !ws_host->s || !ws_host->length ||
      ws_host->length > 255 || w->started)
    return 0;
  char *copy = malloc(ws_host->length + 1);
  if (!copy)
    return 0;
  memcpy(copy, ws_host->s, ws_host->length);
  copy[ws_host->length] = '\0';
  if (strcspn(copy, "\r\n") != ws_host->length) { /* no header injection */
    free(copy);
    return 0;
  }
  free(w->host);
  w->host = copy;
  return 1;
}
