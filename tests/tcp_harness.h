/*
 * tcp_harness.h -- drives one TCP connection of a real context in unit
 * tests: the session's side of a socketpair is attached with
 * pt_tcp_attach() and fed framed messages through pt_tcp_input() (the
 * sans-I/O entry); the test reads and parses what the session sent from
 * the other side. Time is a fake clock (now). Event and handler counters
 * are reset by context(); done() frees it and removes the fake clock.
 */
#ifndef PETREL_TCP_HARNESS_H
#define PETREL_TCP_HARNESS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coap3/coap.h"
#include "coap3/coap_petrel.h"

#include "clock.h"
#include "context.h"
#include "pdu.h"
#include "session.h"
#include "signal.h"
#include "tcp.h"
#include "timer.h"

#define SEC COAP_TICKS_PER_SECOND

static coap_tick_t now;
static int ev_closed, ev_failed, ev_ka_fail, ev_connected;
static int ev_sess_closed, ev_sess_failed;
static coap_event_t ev_last[2]; /* the last two events, newest last */
static int pings_seen, pongs_seen;
static coap_pdu_code_t ping_code_seen;
static int responses;
static int64_t last_observe; /* of the last response: -1 when absent */
static char last_log[512];

static inline int on_event(coap_session_t *s, coap_event_t ev) {
  (void)s;
  ev_closed += ev == COAP_EVENT_TCP_CLOSED;
  ev_failed += ev == COAP_EVENT_TCP_FAILED;
  ev_ka_fail += ev == COAP_EVENT_KEEPALIVE_FAILURE;
  ev_connected += ev == COAP_EVENT_SESSION_CONNECTED;
  ev_sess_closed += ev == COAP_EVENT_SESSION_CLOSED;
  ev_sess_failed += ev == COAP_EVENT_SESSION_FAILED;
  ev_last[0] = ev_last[1];
  ev_last[1] = ev;
  return 0;
}

static inline void on_ping(coap_session_t *s, const coap_pdu_t *pdu,
                           coap_mid_t mid) {
  (void)s, (void)mid;
  pings_seen++;
  ping_code_seen = coap_pdu_get_code(pdu);
}

static inline void on_pong(coap_session_t *s, const coap_pdu_t *pdu,
                           coap_mid_t mid) {
  (void)s, (void)pdu, (void)mid;
  pongs_seen++;
}

static inline coap_response_t on_response(coap_session_t *s,
                                          const coap_pdu_t *sent,
                                          const coap_pdu_t *rcvd,
                                          coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  responses++;
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(rcvd, COAP_OPTION_OBSERVE, &it);
  last_observe =
      o ? (int64_t)coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o))
        : -1;
  return COAP_RESPONSE_OK;
}

static inline void on_log(coap_log_t level, const char *message) {
  (void)level;
  snprintf(last_log, sizeof(last_log), "%s", message);
}

static coap_async_t *held_async;
static inline void hnd_wait(coap_resource_t *r, coap_session_t *s,
                            const coap_pdu_t *req, const coap_string_t *q,
                            coap_pdu_t *resp) {
  (void)r, (void)q, (void)resp;
  held_async = coap_register_async(s, req, 0); /* until freed by the test */
}

static coap_resource_t *obs_resource;
static int obs_calls;
static inline void hnd_obs(coap_resource_t *r, coap_session_t *s,
                           const coap_pdu_t *req, const coap_string_t *q,
                           coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  char buf[16];
  int n = snprintf(buf, sizeof(buf), "%d", ++obs_calls);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, (size_t)n, (const uint8_t *)buf);
}

static inline coap_context_t *context(void) {
  now = 1000 * SEC;
  pt_clock_set_fake(&now);
  coap_context_t *ctx = coap_new_context(NULL);
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  coap_new_endpoint(ctx, &a, COAP_PROTO_TCP);
  coap_register_event_handler(ctx, on_event);
  coap_register_ping_handler(ctx, on_ping);
  coap_register_pong_handler(ctx, on_pong);
  coap_register_response_handler(ctx, on_response);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("wait"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_wait);
  coap_add_resource(ctx, r);
  obs_resource = coap_resource_init(coap_make_str_const("obs"), 0);
  coap_register_handler(obs_resource, COAP_REQUEST_GET, hnd_obs);
  coap_resource_set_get_observable(obs_resource, 1);
  coap_add_resource(ctx, obs_resource);
  obs_calls = 0;
  last_observe = -1;
  ev_closed = ev_failed = ev_ka_fail = ev_connected = 0;
  ev_sess_closed = ev_sess_failed = 0;
  ev_last[0] = ev_last[1] = 0;
  pings_seen = pongs_seen = responses = 0;
  ping_code_seen = 0;
  held_async = NULL;
  last_log[0] = 0;
  return ctx;
}

static inline void done(coap_context_t *ctx) {
  coap_free_context(ctx);
  pt_clock_set_fake(NULL);
}

/* A client session on one end of a socketpair; *@peer gets the other. */
static inline coap_session_t *client(coap_context_t *ctx, int *peer) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
    return NULL;
  coap_session_t *s = coap_new_client_session(
      ctx, NULL, &ctx->endpoints->bind_addr, COAP_PROTO_UDP);
  close(s->fd);
  s->fd = -1;
  s->proto = COAP_PROTO_TCP;
  if (pt_tcp_attach(s, sv[0], 0, now) < 0)
    return NULL;
  *peer = sv[1];
  return s;
}

/* A server session of the TCP endpoint, as an accept makes it. */
static inline coap_session_t *server(coap_context_t *ctx, int *peer,
                                     uint16_t port) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
    return NULL;
  coap_address_t remote;
  coap_address_init(&remote);
  remote.addr.sin.sin_family = AF_INET;
  remote.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  remote.addr.sin.sin_port = htons(port);
  remote.size = sizeof(remote.addr.sin);
  coap_session_t *s =
      pt_session_for_peer(ctx->endpoints, &remote, NULL, -1, now);
  if (!s || pt_tcp_attach(s, sv[0], 0, now) < 0)
    return NULL;
  *peer = sv[1];
  return s;
}

/* Frames @p (ownership taken) and feeds it to @s. */
static inline int feed(coap_session_t *s, coap_pdu_t *p) {
  const uint8_t *w;
  size_t n;
  int rc = pt_pdu_wire_reliable(p, 0, &w, &n) ? pt_tcp_input(s, w, n, now) : -2;
  coap_delete_pdu(p);
  return rc;
}

static inline coap_pdu_t *sig(coap_pdu_code_t code) {
  return coap_pdu_init(COAP_MESSAGE_CON, code, 0, 0);
}

static inline int feed_csm(coap_session_t *s, uint32_t mms, int bwt) {
  coap_pdu_t *p = sig(0);
  pt_signal_build_csm(p, mms, bwt);
  return feed(s, p);
}

/* Reads what the session sent so far into @out (parsed, caller deletes);
 * returns how many, or -1 if the stream is closed with nothing new (EOF). */
static inline int drain(int fd, coap_pdu_t **out, int max) {
  static uint8_t buf[1 << 20];
  size_t got = 0;
  ssize_t n;
  int eof = 0;
  while ((n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT)) != 0) {
    if (n < 0)
      break;
    got += (size_t)n;
  }
  eof = n == 0;
  int count = 0;
  size_t off = 0;
  while (off < got && count < max) {
    uint64_t size;
    if (pt_tcp_frame_size(buf + off, got - off, &size) <= 0 || size > got - off)
      break;
    coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
    if (!coap_pdu_parse(COAP_PROTO_TCP, buf + off, (size_t)size, p)) {
      coap_delete_pdu(p);
      break;
    }
    out[count++] = p;
    off += (size_t)size;
  }
  return count == 0 && eof ? -1 : count;
}

static inline void free_all(coap_pdu_t **p, int n) {
  for (int i = 0; i < n; i++)
    coap_delete_pdu(p[i]);
}

/* The code of the last message the session sent since the last call, or
 * -1 when the stream ended with nothing new, 0 when there was nothing. */
static inline int last_code(int fd, coap_pdu_t **last_out) {
  coap_pdu_t *p[64];
  int n = drain(fd, p, 64);
  if (n <= 0)
    return n;
  int code = coap_pdu_get_code(p[n - 1]);
  if (last_out) {
    *last_out = p[n - 1];
    n--;
  }
  free_all(p, n);
  return code;
}

static inline void advance(coap_context_t *ctx, coap_tick_t ticks) {
  now += ticks;
  pt_timers_run(ctx, now);
}

static inline int has_option(const coap_pdu_t *p, coap_option_num_t n) {
  coap_opt_iterator_t it;
  return coap_check_option(p, n, &it) != NULL;
}

#endif /* PETREL_TCP_HARNESS_H */
