/*
 * tcp.c -- CoAP over TCP (RFC 8323): connections, their CSM exchange,
 * signaling and back-pressure. See tcp.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

#include "clock.h"
#include "context.h"
#include "exchange.h"
#include "io.h"
#include "outq.h"
#include "pdu.h"
#include "plimits.h"
#include "recv.h"
#include "session.h"
#include "signal.h"
#include "stream.h"
#include "tls_stream.h"

struct pt_tcp {
  pt_stream in;        /* reassembly of the peer's messages */
  pt_outq out;         /* bytes the socket has not taken yet */
  pt_signal_state sig; /* the peer's CSM and what it said */
  pt_timer csm_timer;  /* the peer's CSM is due by then */
  coap_session_t *session;
  pt_tls_stream *tls; /* COAP_PROTO_TLS: the pipe under the framing */
  uint8_t connecting; /* a client's connect is under way */
  uint8_t want_write; /* the socket is watched for writability */
  uint8_t closed;     /* the connection is gone */
};

#define RX_CHUNK 16384

/* ---- the byte pipe: the socket, or TLS over it (tls_stream.c) ---------- */

static ssize_t pipe_read(pt_tcp *t, uint8_t *buf, size_t len) {
  return t->tls ? pt_tls_stream_read(t->tls, buf, len)
                : pt_io_tcp_read(t->session, buf, len);
}

static ssize_t pipe_write(pt_tcp *t, const uint8_t *data, size_t len) {
  if (t->session->proto == COAP_PROTO_TLS && !t->tls)
    return 0; /* no plaintext on a TLS connection before its pipe */
  return t->tls ? pt_tls_stream_write(t->tls, data, len)
                : pt_io_tcp_write(t->session, data, len);
}

/* ---- closing ------------------------------------------------------------ */

/* The connection of @s is gone: a server session is freed, a client
 * session stays (the application holds it) with its exchanges failed. */
static void tcp_close(coap_session_t *s, coap_event_t ev) {
  pt_tcp *t = s->tcp;
  if (!t || t->closed)
    return;
  t->closed = 1;
  coap_session_reference(s);
  pt_timer_cancel(s->context, &t->csm_timer);
  coap_nack_reason_t why = COAP_NACK_NOT_DELIVERABLE;
  if (t->tls) {
    pt_tls_stream_close(t->tls); /* close_notify before the socket goes */
    if (pt_tls_stream_failed(t->tls))
      why = COAP_NACK_TLS_FAILED;
  }
  if (s->fd >= 0)
    pt_io_client_close(s);
  s->state = COAP_SESSION_STATE_NONE;
  pt_event(s, ev);
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

ssize_t pt_tcp_send(coap_session_t *s, const uint8_t *data, size_t len) {
  pt_tcp *t = s->tcp;
  if (!t || t->closed)
    return -1;
  size_t done = 0;
  if (!t->connecting && !pt_outq_bytes(&t->out) && s->fd >= 0) {
    ssize_t w = pipe_write(t, data, len);
    if (w < 0) {
      tcp_close(s, COAP_EVENT_TCP_FAILED);
      return -1;
    }
    done = (size_t)w;
  }
  if (done < len) {
    int rc = pt_outq_push(&t->out, data + done, len - done, NULL, 0);
    if (rc == PT_OUTQ_FULL) {
      coap_log_warn("* %s: write queue full: closing\n", coap_session_str(s));
      tcp_close(s, COAP_EVENT_TCP_FAILED);
      return -1;
    }
    if (rc < 0)
      return -1;
    want_write(t, 1);
  }
  return (ssize_t)len;
}

/* Frames @pdu for @s and sends it (through pt_send_bytes(), which logs
 * it and hands it back to pt_tcp_send()). */
static int send_signal(coap_session_t *s, coap_pdu_t *pdu) {
  const uint8_t *data;
  size_t len;
  if (!pt_pdu_wire_reliable(pdu, 0, &data, &len))
    return -1;
  return pt_send_bytes(s, data, len) < 0 ? -1 : 0;
}

static int send_csm(coap_session_t *s) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 64);
  int rc = -1;
  if (pdu && pt_signal_build_csm(pdu, s->context->csm_max_message_size, 0))
    rc = send_signal(s, pdu);
  coap_delete_pdu(pdu);
  return rc;
}

int pt_tcp_ping(coap_session_t *s) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 32);
  int rc = -1;
  if (pdu && pt_signal_build_ping(pdu, 0, 0, NULL))
    rc = send_signal(s, pdu);
  coap_delete_pdu(pdu);
  return rc;
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

/* A whole message @msg of @len bytes. -1 if the connection closed. */
static int on_message(coap_session_t *s, const uint8_t *msg, size_t len,
                      coap_tick_t now) {
  pt_tcp *t = s->tcp;
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, len);
  if (!pdu || !coap_pdu_parse(COAP_PROTO_TCP, msg, len, pdu)) {
    coap_delete_pdu(pdu);
    pt_event(s, COAP_EVENT_BAD_PACKET);
    abort_conn(s, 0, "malformed message");
    return -1;
  }
  pt_signal_info info;
  int rc = 0;
  coap_log_debug("* %s: received %zu bytes\n", coap_session_str(s), len);
  pt_signal_action action = pt_signal_rx(&t->sig, pdu, &info);
  if (action != PT_SIGNAL_PASS && coap_get_log_level() >= COAP_LOG_DEBUG)
    coap_show_pdu(COAP_LOG_DEBUG, pdu); /* recv.c shows the others */
  switch (action) {
  case PT_SIGNAL_PASS:
    pt_recv_message(s, pdu, now);
    break;
  case PT_SIGNAL_CSM:
    if (s->state != COAP_SESSION_STATE_ESTABLISHED) {
      pt_timer_cancel(s->context, &t->csm_timer);
      s->state = COAP_SESSION_STATE_ESTABLISHED;
      pt_event(s, COAP_EVENT_SESSION_CONNECTED);
    }
    break;
  case PT_SIGNAL_PING: {
    coap_pdu_t *pong = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 64);
    if (pong && pt_signal_build_pong(pong, pdu))
      send_signal(s, pong);
    coap_delete_pdu(pong);
    break;
  }
  case PT_SIGNAL_RELEASE:
  case PT_SIGNAL_ABORTED:
    tcp_close(s, COAP_EVENT_TCP_CLOSED);
    rc = -1;
    break;
  case PT_SIGNAL_ABORT:
    abort_conn(s, info.bad_csm_option, info.diagnostic);
    rc = -1;
    break;
  case PT_SIGNAL_IGNORE:
    break;
  }
  coap_delete_pdu(pdu);
  return rc;
}

int pt_tcp_input(coap_session_t *s, const uint8_t *data, size_t len,
                 coap_tick_t now) {
  coap_session_reference(s);
  int rc = 0;
  while (rc == 0 && s->tcp && !s->tcp->closed) {
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
      rc = on_message(s, msg, mlen, now);
    }
  }
  if (!s->tcp || s->tcp->closed)
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
  pt_outq_init(&t->out, PT_TCP_OUTQ_CAP);
  pt_signal_init(&t->sig);
  pt_timer_init(&t->csm_timer, csm_expired);
  t->connecting = (uint8_t)connecting;
  t->want_write = (uint8_t)connecting;
  s->tcp = t;
  s->fd = fd;
  s->verified = 1; /* the handshake showed the peer receives from us */
  s->state = COAP_SESSION_STATE_CSM;
  if (s->proto == COAP_PROTO_TLS && s->type == COAP_SESSION_TYPE_SERVER &&
      pt_tls_stream_new(s, NULL, NULL, now, &t->tls) < 0)
    return -1;
  /* With TLS the CSM can come only after the handshake, which has a
   * deadline of its own: the CSM's runs from that one's end. */
  coap_tick_t hs =
      s->proto == COAP_PROTO_TLS
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
    if (n == -2)
      break;
    if (n <= 0) {
      tcp_close(s, n == 0 ? COAP_EVENT_TCP_CLOSED : COAP_EVENT_TCP_FAILED);
      break;
    }
    if (pt_tcp_input(s, buf, (size_t)n, now) < 0)
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

int pt_tcp_start_tls(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                     const coap_dtls_pki_t *pki, coap_tick_t now) {
  pt_tcp *t = s->tcp;
  if (!t || t->tls || s->proto != COAP_PROTO_TLS)
    return -1;
  return pt_tls_stream_new(s, psk, pki, now, &t->tls);
}

pt_tls_stream *pt_tcp_pipe(const coap_session_t *s) {
  return s->tcp ? s->tcp->tls : NULL;
}

void pt_tcp_close(coap_session_t *s, coap_event_t ev) {
  tcp_close(s, ev);
}

void pt_tcp_session_free(coap_session_t *s) {
  pt_tcp *t = s->tcp;
  if (!t)
    return;
  pt_timer_cancel(s->context, &t->csm_timer);
  if (t->tls) {
    pt_tls_stream_close(t->tls);
    pt_tls_stream_free(t->tls);
    t->tls = NULL;
  }
  if (s->fd >= 0)
    pt_io_client_close(s);
  pt_stream_free(&t->in);
  pt_outq_free(&t->out);
  free(t);
  s->tcp = NULL;
}
