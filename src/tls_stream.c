/*
 * tls_stream.c -- the TLS byte pipe under a CoAP-over-TLS connection: the
 * socket's ciphertext on one side, tcp.c's plaintext on the other, the
 * handshake deadline and the TLS events. See tls_stream.h; the TLS library
 * is behind src/tls/tls.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tls_stream.h"

#include "context.h"
#include "dtls.h"
#include "io.h"
#include "outq.h"
#include "session.h"
#include "tcp.h"
#include "tls/tls.h"

/* Ciphertext read from the socket at a time (a TLS record is at most
 * 16 KiB + 256; one arriving cut is joined by the backend). */
#define CIPHER_IN 8192
/* Plaintext encrypted at a time: a little over one record's worth, so a
 * write never costs much more than PT_TLS_STREAM_BACKLOG. */
#define PLAIN_CHUNK 16384
/* The held ciphertext's cap: the backlog, a chunk's records and alerts. */
#define CIPHER_OUT_CAP (PT_TLS_STREAM_BACKLOG + 2 * PLAIN_CHUNK)

struct pt_tls_stream {
  coap_session_t *session;
  pt_tls *tls;
  pt_outq out;       /* ciphertext the socket has not taken yet */
  pt_timer deadline; /* PT_TLS_HANDSHAKE_SECONDS */
  pt_psk_store psk;  /* coap_session_get_psk_*() */
  size_t in_off, in_len;
  uint8_t connected; /* the handshake is done */
  uint8_t failed;    /* TLS failed: nothing more in or out */
  uint8_t ended;     /* close_notify came or DTLS_CLOSED was told */
  uint8_t overflow;  /* the backend wrote past CIPHER_OUT_CAP */
  uint8_t in[CIPHER_IN];
};

/* ---- failure ------------------------------------------------------------ */

/* TLS failed: reported once; what the backend wrote last (an alert) is
 * sent if the socket takes it now. */
static void fail(pt_tls_stream *ts) {
  if (ts->failed)
    return;
  ts->failed = 1;
  pt_timer_cancel(ts->session->context, &ts->deadline);
  coap_log_debug("* %s: TLS failed\n", coap_session_str(ts->session));
  pt_tls_stream_flush(ts);
  pt_event(ts->session, COAP_EVENT_DTLS_ERROR);
}

static void deadline_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)ctx, (void)now;
  pt_tls_stream *ts = PT_CONTAINER_OF(t, pt_tls_stream, deadline);
  coap_session_t *s = ts->session;
  coap_log_debug("* %s: TLS handshake timed out\n", coap_session_str(s));
  fail(ts);
  pt_tcp_shut(s, COAP_EVENT_TCP_CLOSED);
}

/* ---- writing ------------------------------------------------------------ */

/* The backend's output: held until the socket takes it. */
static void cipher_out(void *arg, const uint8_t *data, size_t len) {
  pt_tls_stream *ts = arg;
  if (pt_outq_push(&ts->out, data, len, NULL, 0) < 0)
    ts->overflow = 1; /* cannot happen under the backlog rule; fatal */
}

int pt_tls_stream_flush(pt_tls_stream *ts) {
  const uint8_t *data;
  size_t n;
  if (ts->overflow)
    return -1;
  while ((n = pt_outq_peek(&ts->out, &data)) > 0) {
    ssize_t w = pt_io_tcp_write(ts->session, data, n);
    if (w < 0)
      return -1;
    if (w == 0)
      break;
    pt_outq_consume(&ts->out, (size_t)w);
  }
  return 0;
}

ssize_t pt_tls_stream_write(pt_tls_stream *ts, const uint8_t *data,
                            size_t len) {
  if (ts->failed || ts->ended || ts->overflow)
    return -1;
  if (!ts->connected)
    return 0;
  if (pt_outq_bytes(&ts->out) >= PT_TLS_STREAM_BACKLOG &&
      (pt_tls_stream_flush(ts) < 0 ||
       pt_outq_bytes(&ts->out) >= PT_TLS_STREAM_BACKLOG))
    return ts->overflow ? -1 : 0;
  if (len > PLAIN_CHUNK)
    len = PLAIN_CHUNK;
  if (pt_tls_write(ts->tls, data, len) < 0) {
    fail(ts);
    return -1;
  }
  if (pt_tls_stream_flush(ts) < 0)
    return -1;
  return (ssize_t)len;
}

int pt_tls_stream_want_write(const pt_tls_stream *ts, int have_plain) {
  return pt_outq_bytes(&ts->out) > 0 ||
         (have_plain && ts->connected && !ts->failed);
}

/* ---- reading ------------------------------------------------------------ */

static void connected(pt_tls_stream *ts) {
  coap_session_t *s = ts->session;
  ts->connected = 1;
  pt_timer_cancel(s->context, &ts->deadline);
  if (s->state == COAP_SESSION_STATE_HANDSHAKE)
    s->state = COAP_SESSION_STATE_CSM;
  coap_log_debug("* %s: TLS connected\n", coap_session_str(s));
  pt_event(s, COAP_EVENT_DTLS_CONNECTED);
}

/* More ciphertext from the socket. 1 if some came, else read()'s answer
 * for the caller: 0 end of stream, -2 nothing waits, -1 error. */
static ssize_t refill(pt_tls_stream *ts) {
  ssize_t n = pt_io_tcp_read(ts->session, ts->in, sizeof(ts->in));
  if (n > 0) {
    ts->in_off = 0;
    ts->in_len = (size_t)n;
    return 1;
  }
  /* The peer left mid-handshake, or in the middle of a record: a
   * truncated stream, not a clean close. */
  if (n == 0 && (!ts->connected || pt_tls_partial(ts->tls)))
    fail(ts);
  return n;
}

ssize_t pt_tls_stream_read(pt_tls_stream *ts, uint8_t *buf, size_t len) {
  for (;;) {
    if (ts->failed || ts->ended || ts->overflow)
      return 0;
    size_t used = 0, got = 0;
    int r = pt_tls_recv(ts->tls, ts->in + ts->in_off, ts->in_len - ts->in_off,
                        &used, buf, len, &got);
    ts->in_off += used;
    if (r == PT_TLS_CONNECTED)
      connected(ts);
    if (got)
      return (ssize_t)got;
    if (r == PT_TLS_FAILED) {
      fail(ts);
      return 0;
    }
    if (r == PT_TLS_CLOSED) {
      coap_log_debug("* %s: TLS close_notify\n", coap_session_str(ts->session));
      return 0;
    }
    if (r == PT_TLS_CONNECTED)
      continue; /* application data may follow in what was read */
    if (ts->in_off < ts->in_len) {
      if (used)
        continue;
      fail(ts); /* input left that the backend will not take: never
                 * overwritten, never silently lost */
      return 0;
    }
    ssize_t n = refill(ts);
    if (n <= 0)
      return n;
  }
}

/* ---- lifetime ----------------------------------------------------------- */

int pt_tls_stream_new(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                      const coap_dtls_pki_t *pki, coap_tick_t now,
                      pt_tls_stream **slot) {
  pt_tls_stream *ts = calloc(1, sizeof(*ts));
  *slot = ts;
  if (!ts)
    return -1;
  ts->session = s;
  pt_outq_init(&ts->out, CIPHER_OUT_CAP);
  pt_psk_store_init(&ts->psk);
  pt_timer_init(&ts->deadline, deadline_fire);
  ts->tls = s->type == COAP_SESSION_TYPE_SERVER
                ? pt_tls_stream_server(s, cipher_out, ts)
                : pt_tls_stream_client(s, psk, pki, cipher_out, ts);
  if (!ts->tls || pt_timer_arm(s->context, &ts->deadline,
                               now + (coap_tick_t)PT_TLS_HANDSHAKE_SECONDS *
                                         COAP_TICKS_PER_SECOND) < 0) {
    *slot = NULL;
    pt_tls_stream_free(ts);
    return -1;
  }
  s->state = COAP_SESSION_STATE_HANDSHAKE;
  return 0;
}

int pt_tls_stream_connected(const pt_tls_stream *ts) {
  return ts->connected;
}

int pt_tls_stream_failed(const pt_tls_stream *ts) {
  return ts->failed;
}

void pt_tls_stream_close(pt_tls_stream *ts) {
  if (!ts->connected || ts->failed || ts->ended)
    return;
  ts->ended = 1;
  pt_tls_close(ts->tls); /* close_notify, unless the peer's came */
  if (ts->session->fd >= 0)
    pt_tls_stream_flush(ts);
  coap_log_debug("* %s: TLS closed\n", coap_session_str(ts->session));
  pt_event(ts->session, COAP_EVENT_DTLS_CLOSED);
}

void pt_tls_stream_free(pt_tls_stream *ts) {
  if (!ts)
    return;
  pt_timer_cancel(ts->session->context, &ts->deadline);
  pt_tls_free(ts->tls);
  pt_outq_free(&ts->out);
  free(ts);
}

void *pt_tls_stream_native(const pt_tls_stream *ts, coap_tls_library_t *lib) {
  return pt_tls_native(ts ? ts->tls : NULL, lib);
}

pt_psk_store *pt_tls_stream_psk(pt_tls_stream *ts) {
  return ts ? &ts->psk : NULL;
}
