/*
 * tcp.c -- CoAP over TCP (RFC 8323): connections, their CSM exchange,
 * signaling and back-pressure. See tcp.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

#include "coap3/coap_petrel.h"

#include "clock.h"
#include "context.h"
#include "dedup.h"
#include "exchange.h"
#include "io.h"
#include "keepalive.h"
#include "link.h"
#include "outq.h"
#include "pdu.h"
#include "plimits.h"
#include "recv.h"
#include "session.h"
#include "signal.h"
#include "stream.h"
#include "tls_stream.h"
#include "ws.h"
#include "ws_conn.h"

/* Custody Pongs held at once while separate responses are pending; a
 * Custody Ping beyond them is answered at once, without Custody. */
#define CUSTODY_MAX 4

struct pt_tcp {
  pt_stream in;        /* reassembly of the peer's messages */
  pt_outq out;         /* bytes the socket has not taken yet */
  pt_signal_state sig; /* the peer's CSM and what it said */
  pt_timer csm_timer;  /* the peer's CSM is due by then */
  pt_ws_conn *ws;      /* coap+ws: the WebSocket layer (ws_conn.c), else NULL */
  pt_timer work_timer; /* held Pongs and a Release to finish (settle()) */
  coap_session_t *session;
  coap_pdu_t *custody[CUSTODY_MAX]; /* Pongs held for Custody (owned) */
  coap_tick_t release_by; /* after a Release: closed by then at the latest */
  uint8_t ncustody;
  pt_tls_stream *tls; /* coaps+tcp, coaps+ws: the pipe under the framing */
  uint8_t connecting; /* a client's connect is under way */
  uint8_t secured;    /* the TLS handshake is done and was acted on */
  uint8_t want_write; /* the socket is watched for writability */
  uint8_t closed;     /* the connection is gone */
  uint8_t released;   /* the peer sent Release: close once settled */
  uint8_t failing;    /* a write failed: closed from the work timer */
  uint8_t corked;     /* answers are held until the input is processed */
  uint8_t *held;      /* the held bytes, in order (owned; see hold()) */
  size_t held_len, held_cap;
};

#define RX_CHUNK 16384
/* Bytes held at most while one input is processed: a batch beyond goes
 * out in pieces of about this size. */
#define HELD_MAX 65536

/* ---- the byte pipe: the socket, or TLS over it (tls_stream.c) ---------- */

static ssize_t pipe_read(pt_tcp *t, uint8_t *buf, size_t len) {
  return t->tls ? pt_tls_stream_read(t->tls, buf, len)
                : pt_io_tcp_read(t->session, buf, len);
}

static ssize_t pipe_write(pt_tcp *t, const uint8_t *data, size_t len) {
  if (pt_tls_stream_proto(t->session->proto) && !t->tls)
    return 0; /* no plaintext on a TLS connection before its pipe */
  return t->tls ? pt_tls_stream_write(t->tls, data, len)
                : pt_io_tcp_write(t->session, data, len);
}

/* ---- closing ------------------------------------------------------------ */

static int flush(pt_tcp *t);
static int release_held(pt_tcp *t);

/* Before we close a coap+ws connection of @s: what is queued, then the
 * WebSocket's Close frame, as far as the socket takes them now (errors
 * ignored). */
static void last_words(coap_session_t *s) {
  pt_tcp *t = s->tcp;
  uint8_t frame[PT_WS_HDR_MAX + 2];
  if (!t->ws)
    return;
  size_t n = pt_ws_conn_close_frame(s, frame);
  if (t->connecting || s->fd < 0 || flush(t) < 0)
    return;
  if (n && !pt_outq_bytes(&t->out))
    pipe_write(t, frame, n);
}

/* The connection of @s is gone: a server session is freed, a client
 * session stays (the application holds it) with its exchanges failed. */
static void tcp_close(coap_session_t *s, coap_event_t ev) {
  pt_tcp *t = s->tcp;
  if (!t || t->closed)
    return;
  if (s->fd >= 0 && !t->failing)
    release_held(t); /* answers made before the close still leave */
  last_words(s);
  t->closed = 1;
  coap_session_reference(s);
  pt_timer_cancel(s->context, &t->csm_timer);
  pt_timer_cancel(s->context, &t->work_timer);
  pt_keepalive_stop(s);
  coap_nack_reason_t why = COAP_NACK_NOT_DELIVERABLE;
  if (t->tls) {
    pt_tls_stream_close(t->tls); /* close_notify before the socket goes */
    if (pt_tls_stream_failed(t->tls))
      why = COAP_NACK_TLS_FAILED;
  }
  if (s->fd >= 0)
    pt_io_client_close(s);
  coap_session_state_t was = s->state;
  s->state = COAP_SESSION_STATE_NONE;
  pt_event(s, ev);
  /* Then the session's own end, as libcoap reports it: closed if it had
   * been established (both CSMs), failed if it never was. */
  if (was != COAP_SESSION_STATE_NONE)
    pt_event(s, was == COAP_SESSION_STATE_ESTABLISHED
                    ? COAP_EVENT_SESSION_CLOSED
                    : COAP_EVENT_SESSION_FAILED);
  if (s->type == COAP_SESSION_TYPE_SERVER)
    pt_session_close(s, why);
  else
    pt_exchange_fail_session(s, why);
  coap_session_release(s);
}

/* ---- writing ------------------------------------------------------------- */

static void want_write(pt_tcp *t, int on) {
  if (t->want_write == on)
    return;
  t->want_write = (uint8_t)on;
  pt_io_tcp_want_write(t->session, on);
}

/* Writes queued bytes while the socket takes them. -1 if it failed. */
static int flush(pt_tcp *t) {
  const uint8_t *data;
  size_t n;
  if (release_held(t) < 0)
    return -1;
  if (!t->connecting && t->tls && pt_tls_stream_flush(t->tls) < 0)
    return -1;
  while (!t->connecting && (n = pt_outq_peek(&t->out, &data)) > 0) {
    ssize_t w = pipe_write(t, data, n);
    if (w < 0)
      return -1;
    if (w == 0)
      break;
    pt_outq_consume(&t->out, (size_t)w);
  }
  int queued = pt_outq_bytes(&t->out) > 0;
  want_write(t,
             t->connecting ||
                 (t->tls ? pt_tls_stream_want_write(t->tls, queued) : queued));
  return 0;
}

/* A write failed, or the queue would pass its cap, inside a send that the
 * message layer is in the middle of (an exchange being sent, a response
 * being built): closing now would fail and free that exchange under it.
 * The connection takes nothing more and is closed from the work timer, due
 * at once (COAP_EVENT_TCP_FAILED). */
static void fail_later(pt_tcp *t) {
  if (t->failing)
    return;
  t->failing = 1;
  if (pt_timer_arm(t->session->context, &t->work_timer, pt_now()) < 0)
    tcp_close(t->session, COAP_EVENT_TCP_FAILED); /* no memory: at once */
}

/* Writes what the pipe takes of @len bytes at *@data, advancing both. -1
 * if it failed (the connection is then closed from the work timer:
 * fail_later()). */
static int write_now(pt_tcp *t, const uint8_t **data, size_t *len) {
  if (!*len)
    return 0;
  ssize_t w = pipe_write(t, *data, *len);
  if (w < 0) {
    fail_later(t);
    return -1;
  }
  *data += w, *len -= (size_t)w;
  return 0;
}

/* Writes what the pipe takes now (when nothing is queued before it) and
 * queues the rest, @a then @b. -1 if the connection failed. */
static int send_or_queue(pt_tcp *t, const uint8_t *a, size_t alen,
                         const uint8_t *b, size_t blen) {
  coap_session_t *s = t->session;
  if (!t->connecting && !pt_outq_bytes(&t->out) && s->fd >= 0) {
    if (write_now(t, &a, &alen) < 0 || (!alen && write_now(t, &b, &blen) < 0))
      return -1;
  }
  if (alen + blen) {
    int rc = pt_outq_push(&t->out, a, alen, b, blen);
    if (rc == PT_OUTQ_FULL) {
      coap_log_warn("* %s: write queue full: closing\n", coap_session_str(s));
      fail_later(t);
      return -1;
    }
    if (rc < 0)
      return -1;
    want_write(t, 1);
  } else if (t->tls && !t->connecting) {
    /* TLS took the plaintext; ciphertext the socket did not take yet
     * leaves when it is writable. */
    want_write(t, pt_tls_stream_want_write(t->tls, 0));
  }
  return 0;
}

/* Sends what hold() kept, as one write (TLS: one record) where the
 * socket takes it. -1 if the connection failed. */
static int release_held(pt_tcp *t) {
  size_t n = t->held_len;
  if (!n)
    return 0;
  t->held_len = 0;
  return send_or_queue(t, t->held, n, NULL, 0);
}

/* While one input is processed (pt_tcp_input()), the answers it makes are
 * held here and leave together after it, so that N pipelined requests
 * cost one send() and, with TCP_NODELAY kept for a lone answer, one
 * segment rather than N. 0 if @a and @b were held, -1 if they must go the
 * usual way (too big to hold, or no memory): what was held goes first. */
static int hold(pt_tcp *t, const uint8_t *a, size_t alen, const uint8_t *b,
                size_t blen) {
  size_t len = alen + blen;
  if (len > HELD_MAX)
    return -1;
  if (t->held_len + len > HELD_MAX && release_held(t) < 0)
    return -1;
  if (t->held_len + len > t->held_cap) {
    size_t cap = t->held_cap ? t->held_cap : 1024;
    while (cap < t->held_len + len)
      cap *= 2;
    uint8_t *p = realloc(t->held, cap);
    if (!p)
      return -1;
    t->held = p;
    t->held_cap = cap;
  }
  if (alen)
    memcpy(t->held + t->held_len, a, alen);
  if (blen)
    memcpy(t->held + t->held_len + alen, b, blen);
  t->held_len += len;
  return 0;
}

/* After an input: the hold buffer goes (what it held has left or been
 * queued), and so does the buffer of a message that had come split once
 * it is complete, so that an idle connection keeps none; at most one
 * malloc() per read, not per answer. */
static void drop_buffers(pt_tcp *t) {
  if (!pt_stream_pending(&t->in))
    pt_stream_free(&t->in);
  if (t->held_len)
    return; /* not released: the connection failed; freed with it */
  free(t->held);
  t->held = NULL;
  t->held_cap = 0;
}

int pt_tcp_write(coap_session_t *s, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen) {
  pt_tcp *t = s->tcp;
  if (!t || t->closed || t->failing)
    return -1;
  if (t->corked && hold(t, a, alen, b, blen) == 0)
    return 0;
  if (release_held(t) < 0 || t->failing)
    return -1;
  return send_or_queue(t, a, alen, b, blen);
}

ssize_t pt_tcp_send(coap_session_t *s, const uint8_t *data, size_t len) {
  pt_tcp *t = s->tcp;
  if (!t || t->closed || t->failing) /* nothing to hold it for */
    return -1;
  if (t->ws) /* coap+ws: one binary frame per message */
    return pt_ws_conn_send(s, data, len);
  return pt_tcp_write(s, data, len, NULL, 0) < 0 ? -1 : (ssize_t)len;
}

int pt_tcp_open(coap_session_t *s) {
  return s->tcp && !s->tcp->closed && !s->tcp->failing;
}

pt_ws_conn *pt_tcp_ws(coap_session_t *s) {
  return s->tcp ? s->tcp->ws : NULL;
}

void pt_tcp_shut(coap_session_t *s, coap_event_t ev) {
  tcp_close(s, ev);
}

void pt_tcp_fail(coap_session_t *s) {
  if (s->tcp && !s->tcp->closed)
    fail_later(s->tcp);
}

/* Frames @pdu for @s and sends it (through pt_send_bytes(), which logs
 * it and hands it back to pt_tcp_send()). */
static int send_signal(coap_session_t *s, coap_pdu_t *pdu) {
  const uint8_t *data;
  size_t len;
  if (!pt_pdu_wire_proto(pdu, s->proto, &data, &len))
    return -1;
  return pt_send_bytes(s, data, len) < 0 ? -1 : 0;
}

static int send_csm(coap_session_t *s) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 64);
  int rc = -1;
  /* Block-Wise-Transfer is always offered, as libcoap 4.3.4 does: the
   * block layer takes Block options (and BERT) whatever the block mode. */
  if (pdu && pt_signal_build_csm(pdu, s->context->csm_max_message_size, 1))
    rc = send_signal(s, pdu);
  coap_delete_pdu(pdu);
  return rc;
}

int pt_tcp_ping(coap_session_t *s) {
  if (!s->tcp || s->tcp->closed)
    return -1;
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 32);
  int rc = -1;
  if (pdu && pt_signal_build_ping(pdu, 0, 0, NULL))
    rc = send_signal(s, pdu);
  coap_delete_pdu(pdu);
  return rc;
}

void pt_tcp_close(coap_session_t *s) {
  tcp_close(s, COAP_EVENT_TCP_CLOSED);
}

/* Sends an Abort naming @option with @diag, and closes. */
static void abort_conn(coap_session_t *s, uint32_t option, const char *diag) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 128);
  if (pdu && pt_signal_build_abort(pdu, option, diag))
    send_signal(s, pdu);
  coap_delete_pdu(pdu);
  if (s->tcp && !s->tcp->closed && s->fd >= 0)
    flush(s->tcp); /* the Abort leaves before the socket closes */
  tcp_close(s, COAP_EVENT_TCP_CLOSED);
}

/* CoAP over TCP is here: endpoints, client sessions, CSM and signaling. */
int coap_tcp_is_supported(void) {
  return 1;
}

/* ---- reading --------------------------------------------------------- */

/* ---- Ping, Pong and Custody (RFC 8323 5.4) ----------------------------- */

/* The Pong for @ping. With Custody asked, it says that every request
 * received before the Ping has been processed: while separate responses
 * are pending it is held (settle() sends it once none is), and when
 * CUSTODY_MAX are held already it goes at once without Custody. */
static void answer_ping(coap_session_t *s, const coap_pdu_t *ping,
                        int custody) {
  pt_tcp *t = s->tcp;
  coap_pdu_t *pong = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  if (!pong || !pt_signal_build_pong(pong, ping)) {
    coap_delete_pdu(pong);
    return;
  }
  if (custody && s->async_count) {
    if (t->ncustody < CUSTODY_MAX) {
      t->custody[t->ncustody++] = pong;
      return;
    }
    pt_pdu_remove_option(pong, COAP_SIGNALING_OPTION_CUSTODY);
  }
  send_signal(s, pong);
  coap_delete_pdu(pong);
}

static void drop_custody(pt_tcp *t) {
  while (t->ncustody)
    coap_delete_pdu(t->custody[--t->ncustody]);
}

/* ---- Release (RFC 8323 5.5) -----------------------------------------------
 */

/* 1 while @s still has answers to give or to get: separate responses of
 * ours pending, held Pongs, or (client) requests awaiting a response,
 * live observations aside. The walk over the session's exchanges is done
 * only on a connection the peer released, once per check. */
static int outstanding(coap_session_t *s) {
  if (s->async_count || s->tcp->ncustody)
    return 1;
  for (pt_exchange *ex = s->exchanges; ex; ex = ex->next)
    if (ex->awaiting_response && !ex->obs_live)
      return 1;
  return 0;
}

/* What the peer's Release says, for the log: Petrel does not follow an
 * Alternative-Address (doc/reliable.md) and never reconnects by itself, so
 * the Hold-Off needs no timer. */
static void log_release(coap_session_t *s, const pt_signal_info *info) {
  coap_log_info(
      "* %s: the peer releases the connection%s%.*s%s, hold-off "
      "%us\n",
      coap_session_str(s), info->alt_address ? " (alternative address " : "",
      (int)info->alt_address_len,
      info->alt_address ? (const char *)info->alt_address : "",
      info->alt_address ? ", not followed)" : "", (unsigned)info->hold_off);
}

/* The peer asked us to close: at once when nothing is outstanding, else
 * once it is settled, or after EXCHANGE_LIFETIME at the latest. Returns
 * -1 if the connection was closed. */
static int on_release(coap_session_t *s, const pt_signal_info *info,
                      coap_tick_t now) {
  pt_tcp *t = s->tcp;
  log_release(s, info);
  if (!outstanding(s)) {
    tcp_close(s, COAP_EVENT_TCP_CLOSED);
    return -1;
  }
  t->released = 1;
  t->release_by = now + pt_exchange_lifetime(s);
  pt_timer_arm(s->context, &t->work_timer, t->release_by);
  return 0;
}

/* The work timer: held Pongs go once no separate response is pending, and
 * a released connection closes once settled or at its deadline. */
static void work_fire(coap_context_t *ctx, pt_timer *timer, coap_tick_t now) {
  pt_tcp *t = PT_CONTAINER_OF(timer, pt_tcp, work_timer);
  coap_session_t *s = coap_session_reference(t->session); /* keeps t too */
  if (!t->closed && t->failing)
    tcp_close(s, COAP_EVENT_TCP_FAILED);
  if (!t->closed && !s->async_count) {
    for (uint8_t i = 0; i < t->ncustody && !t->closed; i++)
      send_signal(s, t->custody[i]);
    drop_custody(t);
  }
  if (!t->closed && t->released) {
    if (!outstanding(s) || now >= t->release_by)
      tcp_close(s, COAP_EVENT_TCP_CLOSED);
    else
      pt_timer_arm(ctx, timer, t->release_by);
  }
  coap_session_release(s);
}

void pt_tcp_settled(coap_session_t *s) {
  pt_tcp *t = s->tcp;
  if (t && !t->closed && (t->ncustody || t->released))
    pt_timer_arm(s->context, &t->work_timer, pt_now());
}

/* ---- reading --------------------------------------------------------- */

/* A signal @pdu asked @action (described by @info). -1 if the connection
 * closed. */
static int on_signal(coap_session_t *s, const coap_pdu_t *pdu,
                     pt_signal_action action, const pt_signal_info *info,
                     coap_tick_t now) {
  pt_tcp *t = s->tcp;
  coap_context_t *ctx = s->context;
  switch (action) {
  case PT_SIGNAL_CSM:
    if (s->state != COAP_SESSION_STATE_ESTABLISHED) {
      pt_timer_cancel(ctx, &t->csm_timer);
      s->state = COAP_SESSION_STATE_ESTABLISHED;
      pt_event(s, COAP_EVENT_SESSION_CONNECTED);
    }
    return 0;
  case PT_SIGNAL_PING:
    if (ctx->ping_handler)
      ctx->ping_handler(s, pdu, 0);
    if (!t->closed)
      answer_ping(s, pdu, info->custody);
    return 0;
  case PT_SIGNAL_PONG:
    if (ctx->pong_handler)
      ctx->pong_handler(s, pdu, 0);
    return 0;
  case PT_SIGNAL_RELEASE:
    return on_release(s, info, now);
  case PT_SIGNAL_ABORTED:
    coap_log_info("* %s: aborted by the peer (Bad-CSM-Option %u)\n",
                  coap_session_str(s), (unsigned)info->bad_csm_option);
    tcp_close(s, COAP_EVENT_TCP_CLOSED);
    return -1;
  case PT_SIGNAL_ABORT:
    abort_conn(s, info->bad_csm_option, info->diagnostic);
    return -1;
  default: /* PT_SIGNAL_IGNORE */
    return 0;
  }
}

/* Messages up to this size are parsed into the context's scratch PDU (as
 * datagrams are, recv.c), so that a request allocates nothing; a bigger
 * one (BERT) gets a PDU of its own, so the scratch PDU never grows past
 * this for a stream. */
#define RX_SCRATCH_MAX 65536u

/* The PDU to parse a @len-byte message of @s into: the context's scratch
 * PDU when it is free (its session is NULL between messages), else a new
 * one. */
static coap_pdu_t *rx_pdu_for(coap_session_t *s, size_t len) {
  coap_pdu_t *scratch = s->context->rx_pdu;
  if (len <= RX_SCRATCH_MAX && scratch && !scratch->session)
    return scratch;
  return coap_pdu_init(COAP_MESSAGE_CON, 0, 0, len);
}

static void rx_pdu_done(coap_session_t *s, coap_pdu_t *pdu) {
  if (pdu && pdu == s->context->rx_pdu)
    pdu->session = NULL;
  else
    coap_delete_pdu(pdu);
}

/* A whole message @msg of @len bytes. -1 if the connection closed. */
int pt_tcp_message(coap_session_t *s, const uint8_t *msg, size_t len,
                   coap_tick_t now) {
  pt_tcp *t = s->tcp;
  coap_pdu_t *pdu = rx_pdu_for(s, len);
  if (!pdu || !coap_pdu_parse(s->proto, msg, len, pdu)) {
    rx_pdu_done(s, pdu);
    pt_event(s, COAP_EVENT_BAD_PACKET);
    abort_conn(s, 0, "malformed message");
    return -1;
  }
  pdu->session = s; /* borrowed: coap_get_data_large() asks it about BERT */
  s->ka_outstanding = 0; /* keepalive.c: anything heard answers a Ping */
  pt_signal_info info;
  int rc = 0;
  coap_log_debug("* %s: received %zu bytes\n", coap_session_str(s), len);
  pt_signal_action action = pt_signal_rx(&t->sig, pdu, &info);
  if (action == PT_SIGNAL_PASS) {
    pt_recv_message(s, pdu, now); /* touches the session, shows the PDU */
  } else {
    if (coap_get_log_level() >= COAP_LOG_DEBUG)
      coap_show_pdu(COAP_LOG_DEBUG, pdu);
    pt_session_touch(s, now); /* a signal is activity too (idle, keepalive) */
    rc = on_signal(s, pdu, action, &info, now);
  }
  rx_pdu_done(s, pdu);
  return rc;
}

int pt_tcp_input(coap_session_t *s, const uint8_t *data, size_t len,
                 coap_tick_t now) {
  coap_session_reference(s);
  int rc = 0, outer = s->tcp && !s->tcp->corked;
  if (outer)
    s->tcp->corked = 1; /* hold(): the answers leave together below */
  if (s->tcp && s->tcp->ws && !s->tcp->closed && !s->tcp->failing)
    rc = pt_ws_conn_input(s, data, len, now); /* frames, not the stream */
  while (rc == 0 && s->tcp && !s->tcp->ws && !s->tcp->closed &&
         !s->tcp->failing) {
    const uint8_t *msg;
    size_t mlen;
    int r = pt_stream_next(&s->tcp->in, &data, &len, &msg, &mlen);
    if (r == 0)
      break;
    if (r == PT_STREAM_ERR_TOO_BIG) {
      abort_conn(s, 0, "message too big");
      rc = -1;
    } else if (r < 0) {
      abort_conn(s, 0, "malformed message");
      rc = -1;
    } else {
      rc = pt_tcp_message(s, msg, mlen, now);
    }
  }
  if (outer && s->tcp) {
    s->tcp->corked = 0;
    if (!s->tcp->closed && !s->tcp->failing && flush(s->tcp) < 0)
      fail_later(s->tcp);
    drop_buffers(s->tcp);
  }
  if (!s->tcp || s->tcp->closed || s->tcp->failing)
    rc = -1;
  coap_session_release(s);
  return rc;
}

static void csm_expired(coap_context_t *ctx, pt_timer *timer, coap_tick_t now) {
  (void)ctx, (void)now;
  pt_tcp *t = PT_CONTAINER_OF(timer, pt_tcp, csm_timer);
  coap_log_debug("* %s: no CSM in time: closing\n",
                 coap_session_str(t->session));
  abort_conn(t->session, 0, "no CSM");
}

int pt_tcp_attach(coap_session_t *s, int fd, int connecting, coap_tick_t now) {
  pt_tcp *t = calloc(1, sizeof(*t));
  if (!t)
    return -1; /* @fd stays the caller's */
  t->session = s;
  pt_stream_init(&t->in, s->context->csm_max_message_size);
  pt_outq_init(&t->out,
               coap_petrel_context_get_tcp_write_queue_max(s->context));
  pt_signal_init(&t->sig);
  pt_timer_init(&t->csm_timer, csm_expired);
  pt_timer_init(&t->work_timer, work_fire);
  t->connecting = (uint8_t)connecting;
  t->want_write = (uint8_t)connecting;
  s->tcp = t;
  s->link = &pt_link_tcp;
  s->fd = fd;
  if (pt_ws_proto(s->proto) && !(t->ws = pt_ws_conn_new(s, now)))
    return -1;
  s->verified = 1; /* the handshake showed the peer receives from us */
  s->state = COAP_SESSION_STATE_CSM;
  if (pt_tls_stream_proto(s->proto) && s->type == COAP_SESSION_TYPE_SERVER &&
      pt_tls_stream_new(s, NULL, NULL, now, &t->tls) < 0)
    return -1;
  /* With TLS the CSM can come only after the handshake, which has a
   * deadline of its own: the CSM's runs from that one's end. */
  coap_tick_t hs =
      pt_tls_stream_proto(s->proto)
          ? (coap_tick_t)PT_TLS_HANDSHAKE_SECONDS * COAP_TICKS_PER_SECOND
          : 0;
  if (s->context->csm_timeout_ms &&
      pt_timer_arm(s->context, &t->csm_timer,
                   now + hs +
                       (coap_tick_t)s->context->csm_timeout_ms *
                           COAP_TICKS_PER_SECOND / 1000u) < 0)
    return -1;
  return send_csm(s);
}

/* ---- events ----------------------------------------------------------- */

static void connected(coap_session_t *s) {
  pt_tcp *t = s->tcp;
  int err = pt_io_tcp_connect_result(s);
  if (err) {
    coap_log_warn("* %s: TCP connect: %s\n", coap_session_str(s),
                  strerror(err));
    tcp_close(s, COAP_EVENT_TCP_FAILED);
    return;
  }
  t->connecting = 0;
  pt_event(s, COAP_EVENT_TCP_CONNECTED);
  if (t->ws && !pt_tls_stream_proto(s->proto))
    pt_ws_conn_start(s); /* the upgrade request, before anything else */
}

/* The TLS handshake of @s's connection has just completed (seen once, at
 * @now): on coaps+ws the WebSocket upgrade starts now, over TLS (the
 * client's request, either side's upgrade timeout). */
static void secured(coap_session_t *s, coap_tick_t now) {
  pt_tcp *t = s->tcp;
  t->secured = 1;
  if (t->ws)
    pt_ws_conn_secured(s, now);
}

void pt_tcp_io(coap_session_t *s, int in, int out, coap_tick_t now) {
  pt_tcp *t = s->tcp;
  if (!t || t->closed)
    return;
  coap_session_reference(s);
  if (t->connecting && (out || in))
    connected(s);
  if (!t->closed && out && flush(t) < 0)
    tcp_close(s, COAP_EVENT_TCP_FAILED);
  uint8_t buf[RX_CHUNK];
  while (in && !t->closed && s->fd >= 0) {
    ssize_t n = pipe_read(t, buf, sizeof(buf));
    if (t->tls && !t->secured && pt_tls_stream_connected(t->tls)) {
      secured(s, now); /* before the plaintext that came with it */
      if (t->closed)
        break;
    }
    if (n == -2)
      break;
    if (n <= 0) {
      tcp_close(s, n == 0 ? COAP_EVENT_TCP_CLOSED : COAP_EVENT_TCP_FAILED);
      break;
    }
    if (pt_tcp_input(s, buf, (size_t)n, now) < 0)
      break;
    /* A short read emptied the socket: another recv() would only say
     * EAGAIN, and epoll (level-triggered) reports what comes later. TLS
     * reads on, as the library may hold plaintext the socket no longer
     * shows. */
    if (!t->tls && (size_t)n < sizeof(buf))
      break;
  }
  if (t->tls && !t->closed && flush(t) < 0) /* what the handshake made */
    tcp_close(s, COAP_EVENT_TCP_FAILED);
  coap_session_release(s);
}

/* ---- endpoints and client sessions ------------------------------------ */

int pt_tcp_endpoint_open(coap_endpoint_t *ep, const coap_address_t *addr) {
  return pt_io_tcp_listen(ep, addr);
}

void pt_tcp_accept(coap_endpoint_t *ep, coap_tick_t now) {
  coap_address_t peer, local;
  int fd;
  while (ep->fd >= 0 && (fd = pt_io_tcp_accept(ep, &peer, &local)) >= 0) {
    coap_session_t *s = pt_session_for_peer(ep, &peer, &local, -1, now);
    if (!s || s->tcp) { /* refused by the limits (or a stale peer) */
      pt_io_close_fd(fd);
      continue;
    }
    if (pt_tcp_attach(s, fd, 0, now) < 0 || pt_io_tcp_register(s, 0) < 0) {
      if (!s->tcp)
        pt_io_close_fd(fd);
      pt_session_close(s, COAP_NACK_NOT_DELIVERABLE); /* closes s->fd */
      continue;
    }
    pt_event(s, COAP_EVENT_TCP_CONNECTED);
    flush(s->tcp);
  }
}

int pt_tcp_client_open(coap_session_t *s, const coap_address_t *local) {
  if (pt_io_tcp_connect(s, local) < 0)
    return -1;
  return pt_tcp_attach(s, s->fd, 1, pt_now());
}

/* Our side ends a connection the peer has not closed (an idle or evicted
 * server session, the context freed, a client session released): a
 * Release (RFC 8323 5.5) goes first, after whatever is still queued, as
 * far as the socket takes it now. It is framed for the session's protocol
 * and goes straight to pt_tcp_send(), not through pt_send_bytes(), because
 * the session is being torn down (a failure there only marks the
 * connection, whose timers go with it). */
static void release_on_teardown(pt_tcp *t) {
  coap_session_t *s = t->session;
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 16);
  const uint8_t *data;
  size_t len;
  if (pdu && pt_signal_build_release(pdu, NULL, 0) &&
      pt_pdu_wire_proto(pdu, s->proto, &data, &len)) {
    coap_log_debug("* %s: sending Release\n", coap_session_str(s));
    if (pt_tcp_send(s, data, len) >= 0)
      flush(t);
  }
  coap_delete_pdu(pdu);
}

int pt_tcp_start_tls(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                     const coap_dtls_pki_t *pki, coap_tick_t now) {
  pt_tcp *t = s->tcp;
  if (!t || t->tls || !pt_tls_stream_proto(s->proto))
    return -1;
  return pt_tls_stream_new(s, psk, pki, now, &t->tls);
}

pt_tls_stream *pt_tcp_pipe(const coap_session_t *s) {
  return s->tcp ? s->tcp->tls : NULL;
}

void pt_tcp_session_free(coap_session_t *s) {
  pt_tcp *t = s->tcp;
  if (!t)
    return;
  if (!t->closed && !t->failing && !t->connecting && s->fd >= 0)
    release_on_teardown(t);
  pt_timer_cancel(s->context, &t->csm_timer);
  pt_timer_cancel(s->context, &t->work_timer);
  drop_custody(t);
  if (!t->closed && !t->failing)
    last_words(s);
  if (t->tls) {
    pt_tls_stream_close(t->tls);
    pt_tls_stream_free(t->tls);
    t->tls = NULL;
  }
  if (s->fd >= 0)
    pt_io_client_close(s);
  pt_ws_conn_free(s->context, t->ws);
  pt_stream_free(&t->in);
  pt_outq_free(&t->out);
  free(t->held);
  free(t);
  s->tcp = NULL;
  s->link = NULL;
}

/* ---- limits -------------------------------------------------------------- */

void coap_petrel_context_set_tcp_write_queue_max(coap_context_t *ctx,
                                                 size_t max) {
  if (ctx)
    ctx->tcp_outq_max = max;
}

size_t coap_petrel_context_get_tcp_write_queue_max(const coap_context_t *ctx) {
  if (!ctx)
    return 0;
  return ctx->tcp_outq_max ? ctx->tcp_outq_max : PT_TCP_OUTQ_CAP;
}

size_t pt_tcp_buffered(const coap_session_t *s) {
  pt_tcp *t = s->tcp;
  if (!t)
    return 0;
  return t->in.cap + t->held_cap + pt_outq_bytes(&t->out) +
         pt_ws_conn_buffered(t->ws);
}

int pt_tcp_bert(const coap_session_t *s) {
  return s->tcp &&
         pt_signal_bert(&s->tcp->sig, s->context->csm_max_message_size);
}

size_t pt_tcp_peer_max_message_size(const coap_session_t *s) {
  return s->tcp ? s->tcp->sig.peer.max_message_size : PT_SIGNAL_BASE_MMS;
}

/* RFC 8323 5.3.1: a message to the peer is at most its Max-Message-Size,
 * header included. The header is 2 bytes with 0 to 12 bytes of options
 * and payload, 3 up to 268, 4 up to 65804 and 6 beyond (section 3.2); the
 * largest PDU is taken with no token, the case where the header counts
 * the most (a token beyond 8 bytes puts its length bytes in used_size). */
size_t pt_tcp_max_pdu(const coap_session_t *s) {
  size_t mms = pt_tcp_peer_max_message_size(s), max;
  if (mms > 65804 + 6)
    max = mms - 6;
  else if (mms > 268 + 4)
    max = mms - 4 < 65804 ? mms - 4 : 65804;
  else if (mms > 12 + 3)
    max = mms - 3 < 268 ? mms - 3 : 268;
  else
    max = mms > 2 ? (mms - 2 < 12 ? mms - 2 : 12) : 0;
  return max < PT_PDU_MAX_SIZE ? max : PT_PDU_MAX_SIZE;
}

/* TCP, TLS, WebSockets and secure WebSockets: one connection per session,
 * framed by RFC 8323 (and RFC 6455 on WebSockets). */
const pt_link pt_link_tcp = {.send = pt_tcp_send,
                             .settled = pt_tcp_settled,
                             .max_pdu = pt_tcp_max_pdu,
                             .ping = pt_tcp_ping,
                             .close = pt_tcp_close};
