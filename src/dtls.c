/*
 * dtls.c -- CoAP over DTLS (RFC 7252 section 9): sessions, the stateless
 * cookie exchange of server endpoints, handshake bookkeeping, timers and
 * events, and the (D)TLS setup API. The TLS library itself is behind
 * src/tls/tls.h; nothing here knows which one it is.
 */
#include <stdlib.h>
#include <string.h>

#include "dtls.h"

#include "context.h"
#include "exchange.h"
#include "link.h"
#include "recv.h"
#include "session.h"
#include "tcp.h"
#include "tls/tls.h"
#include "tls_stream.h"

/* A message sent while the handshake ran, sent once it completes. */
typedef struct pending {
  struct pending *next;
  size_t len;
  uint8_t data[];
} pending;

struct pt_dtls {
  coap_session_t *session;
  pt_tls *tls;
  pt_timer retransmit; /* the backend's flight timer */
  pt_timer deadline;   /* PT_DTLS_HANDSHAKE_SECONDS */
  int connected;
  int dead; /* failed or closed: nothing more in or out */
  /* Server sessions in handshake, least recently active first
   * (coap_context_set_max_handshake_sessions()). */
  pt_dtls *hs_prev, *hs_next;
  int in_hs;
  pending *pend_head, *pend_tail;
  size_t pend_count, pend_bytes;
  coap_tick_t now; /* of the datagram being decrypted */
  pt_psk_store psk;
};

/* ---- handshake list (server sessions) -------------------------------------
 */

static void hs_unlink(coap_context_t *ctx, pt_dtls *d) {
  if (!d->in_hs)
    return;
  if (d->hs_prev)
    d->hs_prev->hs_next = d->hs_next;
  else
    ctx->dtls_hs_head = d->hs_next;
  if (d->hs_next)
    d->hs_next->hs_prev = d->hs_prev;
  else
    ctx->dtls_hs_tail = d->hs_prev;
  d->hs_prev = d->hs_next = NULL;
  d->in_hs = 0;
  ctx->dtls_hs_count--;
}

static void hs_append(coap_context_t *ctx, pt_dtls *d) {
  d->hs_prev = ctx->dtls_hs_tail;
  d->hs_next = NULL;
  if (ctx->dtls_hs_tail)
    ctx->dtls_hs_tail->hs_next = d;
  else
    ctx->dtls_hs_head = d;
  ctx->dtls_hs_tail = d;
  d->in_hs = 1;
  ctx->dtls_hs_count++;
}

/* ---- state ----------------------------------------------------------------
 */

static void retransmit_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now);
static void deadline_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now);

static pt_dtls *dtls_new(coap_session_t *s, coap_tick_t now) {
  pt_dtls *d = calloc(1, sizeof(*d));
  if (!d)
    return NULL;
  d->session = s;
  pt_psk_store_init(&d->psk);
  pt_timer_init(&d->retransmit, retransmit_fire);
  pt_timer_init(&d->deadline, deadline_fire);
  pt_timer_arm(s->context, &d->deadline,
               now + (coap_tick_t)PT_DTLS_HANDSHAKE_SECONDS *
                         COAP_TICKS_PER_SECOND);
  s->dtls = d;
  s->link = &pt_link_dtls;
  s->state = COAP_SESSION_STATE_HANDSHAKE;
  return d;
}

static void pending_free(pt_dtls *d) {
  while (d->pend_head) {
    pending *p = d->pend_head;
    d->pend_head = p->next;
    free(p);
  }
  d->pend_tail = NULL;
  d->pend_count = d->pend_bytes = 0;
}

void pt_dtls_session_free(coap_session_t *s) {
  pt_dtls *d = s->dtls;
  if (!d)
    return;
  coap_context_t *ctx = s->context;
  if (d->connected && !d->dead) {
    pt_tls_close(d->tls);
    pt_event(s, COAP_EVENT_DTLS_CLOSED);
  }
  hs_unlink(ctx, d);
  pt_timer_cancel(ctx, &d->retransmit);
  pt_timer_cancel(ctx, &d->deadline);
  pending_free(d);
  pt_tls_free(d->tls);
  free(d);
  s->dtls = NULL;
  s->link = NULL;
}

void pt_psk_store_init(pt_psk_store *p) {
  memset(p, 0, sizeof(*p));
  p->psk[PT_PSK_HINT].s = p->hint_buf;
  p->psk[PT_PSK_IDENTITY].s = p->identity_buf;
  p->psk[PT_PSK_KEY].s = p->key_buf;
}

/* Where @s keeps its PSK values: its DTLS state or its TLS pipe. */
static pt_psk_store *psk_store(const coap_session_t *s) {
  if (s->dtls)
    return &s->dtls->psk;
  return s->tcp ? pt_tls_stream_psk(pt_tcp_pipe(s)) : NULL;
}

void pt_dtls_set_psk(coap_session_t *s, pt_psk_field field, const uint8_t *data,
                     size_t len) {
  static const size_t max[] = {COAP_DTLS_HINT_LENGTH,
                               COAP_DTLS_MAX_PSK_IDENTITY, COAP_DTLS_MAX_PSK};
  pt_psk_store *p = psk_store(s);
  if (!p || (unsigned)field > PT_PSK_KEY)
    return;
  if (len > max[field])
    len = max[field];
  if (len)
    memcpy((uint8_t *)p->psk[field].s, data, len);
  p->psk[field].length = len;
}

/* ---- timers ------------------------------------------------------------- */

/* Keeps the backend's retransmission deadline in the heap. One tick past
 * it, because the backend checks its own clock and must find it expired. */
static void rearm(pt_dtls *d, coap_tick_t now) {
  coap_context_t *ctx = d->session->context;
  long ms = d->dead ? -1 : pt_tls_timeout_ms(d->tls);
  if (ms < 0) {
    pt_timer_cancel(ctx, &d->retransmit);
    return;
  }
  coap_tick_t ticks = ((coap_tick_t)ms * COAP_TICKS_PER_SECOND + 999) / 1000;
  pt_timer_arm(ctx, &d->retransmit, now + ticks + 1);
}

/* The association is over (@event: COAP_EVENT_DTLS_ERROR or _CLOSED):
 * fail what is in flight and let the session go. */
static void fail(pt_dtls *d, coap_event_t event) {
  coap_session_t *s = d->session;
  if (d->dead)
    return;
  d->dead = 1;
  hs_unlink(s->context, d);
  pt_timer_cancel(s->context, &d->retransmit);
  pt_timer_cancel(s->context, &d->deadline);
  pending_free(d);
  coap_log_debug("* %s: DTLS %s\n", coap_session_str(s),
                 event == COAP_EVENT_DTLS_CLOSED ? "closed" : "failed");
  pt_event(s, event);
  coap_session_reference(s);
  if (s->type == COAP_SESSION_TYPE_SERVER) {
    pt_session_close(s, COAP_NACK_TLS_FAILED);
  } else {
    pt_exchange_fail_session(s, COAP_NACK_TLS_FAILED);
    s->state = COAP_SESSION_STATE_NONE;
  }
  coap_session_release(s);
}

static void retransmit_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)ctx;
  pt_dtls *d = PT_CONTAINER_OF(t, pt_dtls, retransmit);
  if (pt_tls_timeout(d->tls) == PT_TLS_FAILED)
    fail(d, COAP_EVENT_DTLS_ERROR);
  else
    rearm(d, now);
}

static void deadline_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)ctx, (void)now;
  pt_dtls *d = PT_CONTAINER_OF(t, pt_dtls, deadline);
  coap_log_debug("* %s: DTLS handshake timed out\n",
                 coap_session_str(d->session));
  fail(d, COAP_EVENT_DTLS_ERROR);
}

/* ---- sending ----------------------------------------------------------------
 */

/* The backend's records leave through the session's door. */
static void session_out(void *arg, const uint8_t *data, size_t len) {
  pt_dtls *d = arg;
  d->session->context->send(d->session, data, len);
}

static ssize_t hold(pt_dtls *d, const uint8_t *data, size_t len) {
  if (d->pend_count >= PT_DTLS_PENDING_MAX ||
      d->pend_bytes + len > PT_DTLS_PENDING_BYTES)
    return -1;
  pending *p = malloc(sizeof(*p) + len);
  if (!p)
    return -1;
  p->next = NULL;
  p->len = len;
  memcpy(p->data, data, len);
  if (d->pend_tail)
    d->pend_tail->next = p;
  else
    d->pend_head = p;
  d->pend_tail = p;
  d->pend_count++;
  d->pend_bytes += len;
  return (ssize_t)len;
}

ssize_t pt_dtls_send(coap_session_t *s, const uint8_t *data, size_t len) {
  pt_dtls *d = s->dtls;
  if (d->dead)
    return -1;
  if (!d->connected)
    return hold(d, data, len);
  return pt_tls_write(d->tls, data, len);
}

static void connected(pt_dtls *d) {
  coap_session_t *s = d->session;
  d->connected = 1;
  hs_unlink(s->context, d);
  pt_timer_cancel(s->context, &d->deadline);
  s->state = COAP_SESSION_STATE_ESTABLISHED;
  coap_log_debug("* %s: DTLS connected\n", coap_session_str(s));
  pt_event(s, COAP_EVENT_DTLS_CONNECTED);
  while (d->pend_head && !d->dead) {
    pending *p = d->pend_head;
    d->pend_head = p->next;
    if (!d->pend_head)
      d->pend_tail = NULL;
    d->pend_count--;
    d->pend_bytes -= p->len;
    pt_tls_write(d->tls, p->data, p->len);
    free(p);
  }
}

/* ---- receiving --------------------------------------------------------------
 */

static void deliver(void *arg, const uint8_t *data, size_t len) {
  pt_dtls *d = arg;
  if (!d->dead)
    pt_recv_datagram(d->session, data, len, d->now);
}

void pt_dtls_session_input(coap_session_t *s, const uint8_t *data, size_t len,
                           coap_tick_t now) {
  pt_dtls *d = s->dtls;
  if (!d || d->dead)
    return;
  coap_session_reference(s);
  d->now = now;
  int was_connected = d->connected;
  if (d->in_hs) { /* most recently active handshake last */
    hs_unlink(s->context, d);
    hs_append(s->context, d);
  }
  int r = pt_tls_input(d->tls, data, len, deliver, d);
  if (r == PT_TLS_CONNECTED && !d->connected)
    connected(d);
  if (r == PT_TLS_FAILED)
    fail(d, COAP_EVENT_DTLS_ERROR);
  else if (r == PT_TLS_CLOSED)
    fail(d, COAP_EVENT_DTLS_CLOSED);
  else if (!was_connected || pt_timer_armed(&d->retransmit))
    rearm(d, now); /* once connected with no flight to repeat, none starts
                      (renegotiation is off): nothing to ask per record */
  coap_session_release(s);
}

/* Where the listener's HelloVerifyRequest goes: the peer, from the address
 * it sent to. */
typedef struct listen_out {
  coap_endpoint_t *ep;
  const coap_address_t *peer, *local;
  int ifindex;
} listen_out;

static void listener_out(void *arg, const uint8_t *data, size_t len) {
  listen_out *o = arg;
  coap_context_t *ctx = o->ep->context;
  if (ctx->send_to)
    ctx->send_to(o->ep, o->peer, o->local, o->ifindex, data, len);
}

/* Makes room under coap_context_set_max_handshake_sessions(): the least
 * recently active server session still in handshake goes. */
static void limit_handshakes(coap_context_t *ctx) {
  if (!ctx->max_handshake_sessions ||
      ctx->dtls_hs_count < ctx->max_handshake_sessions || !ctx->dtls_hs_head)
    return;
  coap_session_t *old = ctx->dtls_hs_head->session;
  coap_log_debug("* %s: handshake dropped for a newer one\n",
                 coap_session_str(old));
  fail(ctx->dtls_hs_head, COAP_EVENT_DTLS_ERROR);
}

static void accept_peer(coap_endpoint_t *ep, const coap_address_t *peer,
                        const coap_address_t *local, int ifindex,
                        coap_tick_t now) {
  coap_context_t *ctx = ep->context;
  limit_handshakes(ctx);
  coap_session_t *s = pt_session_for_peer(ep, peer, local, ifindex, now);
  if (!s || s->dtls)
    return;
  s->verified = 1; /* the cookie proved the address (RFC 7252 11.3) */
  pt_dtls *d = dtls_new(s, now);
  if (!d) {
    pt_session_close(s, COAP_NACK_TLS_FAILED);
    return;
  }
  hs_append(ctx, d);
  d->tls = pt_tls_accept(ep->tls_listener, s, session_out, d);
  if (!d->tls) {
    fail(d, COAP_EVENT_DTLS_ERROR);
    return;
  }
  rearm(d, now);
}

/* A plaintext ClientHello record: handshake (22), epoch 0, message type
 * client_hello (1) (RFC 6347 4.1 and 4.2.2). */
static int is_client_hello(const uint8_t *data, size_t len) {
  return len > 13 && data[0] == 22 && data[3] == 0 && data[4] == 0 &&
         data[13] == 1;
}

/* RFC 6347 4.2.8: a ClientHello from the address of an established
 * association is a client that restarted. It goes through the cookie
 * exchange like any new peer; only a valid cookie ends the old association
 * and starts a new one, so a spoofed ClientHello cannot end it. */
static void restarted_peer(coap_endpoint_t *ep, coap_session_t *s,
                           const uint8_t *data, size_t len, coap_tick_t now) {
  listen_out o = {ep, &s->remote, &s->local, s->ifindex};
  if (!ep->tls_listener ||
      !pt_tls_listen(ep->tls_listener, &s->remote, data, len, listener_out, &o))
    return;
  coap_address_t peer = s->remote, local = s->local;
  int ifindex = s->ifindex;
  coap_log_debug("* %s: the peer started a new handshake\n",
                 coap_session_str(s));
  fail(s->dtls, COAP_EVENT_DTLS_CLOSED);
  accept_peer(ep, &peer, &local, ifindex, now);
}

void pt_dtls_endpoint_input(coap_endpoint_t *ep, const coap_address_t *peer,
                            const coap_address_t *local, int ifindex,
                            const uint8_t *data, size_t len, coap_tick_t now) {
  coap_session_t *s = pt_session_find(ep, peer);
  if (s && s->dtls && s->dtls->connected && is_client_hello(data, len)) {
    restarted_peer(ep, s, data, len, now);
    return;
  }
  if (s) {
    s->local = *local; /* this datagram's: the answer leaves from it */
    s->ifindex = ifindex;
    pt_dtls_session_input(s, data, len, now);
    return;
  }
  listen_out o = {ep, peer, local, ifindex};
  if (ep->tls_listener &&
      pt_tls_listen(ep->tls_listener, peer, data, len, listener_out, &o))
    accept_peer(ep, peer, local, ifindex, now);
}

/* ---- setup -------------------------------------------------------------- */

int pt_dtls_client_start(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                         const coap_dtls_pki_t *pki) {
  coap_tick_t now = pt_now();
  if (pt_tls_stream_proto(s->proto)) { /* coaps+tcp, coaps+ws */
    if (pt_tcp_start_tls(s, psk, pki, now) < 0)
      return -1;
    if (psk) {
      pt_dtls_set_psk(s, PT_PSK_IDENTITY, psk->psk_info.identity.s,
                      psk->psk_info.identity.length);
      pt_dtls_set_psk(s, PT_PSK_KEY, psk->psk_info.key.s,
                      psk->psk_info.key.length);
    }
    return 0;
  }
  pt_dtls *d = dtls_new(s, now);
  if (!d)
    return -1;
  d->tls = pt_tls_client_new(s, psk, pki, session_out, d);
  if (!d->tls) {
    pt_dtls_session_free(s);
    return -1;
  }
  if (psk) {
    pt_dtls_set_psk(s, PT_PSK_IDENTITY, psk->psk_info.identity.s,
                    psk->psk_info.identity.length);
    pt_dtls_set_psk(s, PT_PSK_KEY, psk->psk_info.key.s,
                    psk->psk_info.key.length);
  }
  rearm(d, now);
  return 0;
}

int pt_dtls_endpoint_init(coap_endpoint_t *ep) {
  if (ep->proto != COAP_PROTO_DTLS && !pt_tls_stream_proto(ep->proto))
    return 0;
  if (!pt_tls_can_serve(ep->context)) {
    coap_log_warn("coap_new_endpoint: one of coap_context_set_psk2() or "
                  "coap_context_set_pki() must be called first\n");
    return -1;
  }
  if (pt_tls_stream_proto(ep->proto))
    return 0; /* each accepted connection starts its own (tcp.c) */
  ep->tls_listener = pt_tls_listener_new(ep->context);
  return ep->tls_listener ? 0 : -1;
}

void pt_dtls_endpoint_free(coap_endpoint_t *ep) {
  pt_tls_listener_free(ep->tls_listener);
  ep->tls_listener = NULL;
}

void pt_dtls_context_free(coap_context_t *ctx) {
  pt_tls_context_free(ctx);
}

/* ---- the public setup API
 * ---------------------------------------------------- */

int coap_context_set_psk2(coap_context_t *ctx, coap_dtls_spsk_t *setup_data) {
  if (!ctx || !setup_data)
    return 0;
  return pt_tls_set_spsk(ctx, setup_data);
}

int coap_context_set_psk(coap_context_t *ctx, const char *hint,
                         const uint8_t *key, size_t key_len) {
  if (!ctx)
    return 0;
  coap_dtls_spsk_t setup;
  memset(&setup, 0, sizeof(setup));
  setup.version = COAP_DTLS_SPSK_SETUP_VERSION;
  if (hint) {
    setup.psk_info.hint.s = (const uint8_t *)hint;
    setup.psk_info.hint.length = strlen(hint);
  }
  setup.psk_info.key.s = key;
  setup.psk_info.key.length = key ? key_len : 0;
  return coap_context_set_psk2(ctx, &setup);
}

int coap_context_set_pki(coap_context_t *ctx,
                         const coap_dtls_pki_t *setup_data) {
  if (!ctx || !setup_data)
    return 0;
  return pt_tls_set_pki(ctx, setup_data);
}

int coap_context_set_pki_root_cas(coap_context_t *ctx, const char *ca_file,
                                  const char *ca_dir) {
  if (!ctx || (!ca_file && !ca_dir))
    return 0;
  return pt_tls_set_root_cas(ctx, ca_file, ca_dir);
}

/* DTLS, or TLS over TCP (coaps+tcp, coaps+ws) where this build has it. */
static int secure_proto(coap_proto_t proto) {
  return proto == COAP_PROTO_DTLS ||
         (proto == COAP_PROTO_TLS && coap_tls_is_supported()) ||
         (proto == COAP_PROTO_WSS && coap_wss_is_supported());
}

static coap_session_t *client_dtls(coap_session_t *s,
                                   const coap_dtls_cpsk_t *psk,
                                   const coap_dtls_pki_t *pki) {
  if (s && pt_dtls_client_start(s, psk, pki) < 0) {
    coap_session_release(s);
    return NULL;
  }
  return s;
}

coap_session_t *coap_new_client_session_psk2(coap_context_t *ctx,
                                             const coap_address_t *local_if,
                                             const coap_address_t *server,
                                             coap_proto_t proto,
                                             coap_dtls_cpsk_t *setup_data) {
  if (!ctx || !server || !setup_data || !secure_proto(proto) ||
      !coap_dtls_psk_is_supported()) {
    coap_log_warn("coap_new_client_session_psk2: needs a context, a server, "
                  "setup data and COAP_PROTO_DTLS, COAP_PROTO_TLS or "
                  "COAP_PROTO_WSS (where supported)\n");
    return NULL;
  }
  return client_dtls(pt_client_session_new(ctx, local_if, server, proto),
                     setup_data, NULL);
}

coap_session_t *
coap_new_client_session_psk(coap_context_t *ctx, const coap_address_t *local_if,
                            const coap_address_t *server, coap_proto_t proto,
                            const char *identity, const uint8_t *key,
                            unsigned key_len) {
  coap_dtls_cpsk_t setup;
  memset(&setup, 0, sizeof(setup));
  setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
  if (identity) {
    setup.psk_info.identity.s = (const uint8_t *)identity;
    setup.psk_info.identity.length = strlen(identity);
  }
  setup.psk_info.key.s = key;
  setup.psk_info.key.length = key ? key_len : 0;
  return coap_new_client_session_psk2(ctx, local_if, server, proto, &setup);
}

coap_session_t *coap_new_client_session_pki(coap_context_t *ctx,
                                            const coap_address_t *local_if,
                                            const coap_address_t *server,
                                            coap_proto_t proto,
                                            coap_dtls_pki_t *setup_data) {
  if (!ctx || !server || !setup_data || !secure_proto(proto) ||
      !coap_dtls_pki_is_supported()) {
    coap_log_warn("coap_new_client_session_pki: needs a context, a server, "
                  "setup data and COAP_PROTO_DTLS, COAP_PROTO_TLS or "
                  "COAP_PROTO_WSS (where supported)\n");
    return NULL;
  }
  return client_dtls(pt_client_session_new(ctx, local_if, server, proto), NULL,
                     setup_data);
}

/* ---- session accessors ----------------------------------------------------
 */

static const coap_bin_const_t *psk_field(const coap_session_t *s,
                                         pt_psk_field f) {
  pt_psk_store *p = s ? psk_store(s) : NULL;
  if (!p || !p->psk[f].length)
    return NULL;
  return &p->psk[f];
}

const coap_bin_const_t *coap_session_get_psk_hint(const coap_session_t *s) {
  return psk_field(s, PT_PSK_HINT);
}

const coap_bin_const_t *coap_session_get_psk_identity(const coap_session_t *s) {
  return psk_field(s, PT_PSK_IDENTITY);
}

const coap_bin_const_t *coap_session_get_psk_key(const coap_session_t *s) {
  return psk_field(s, PT_PSK_KEY);
}

void *coap_session_get_tls(const coap_session_t *s,
                           coap_tls_library_t *tls_lib) {
  if (s && s->dtls && s->dtls->tls)
    return pt_tls_native(s->dtls->tls, tls_lib);
  if (s && s->tcp && pt_tcp_pipe(s))
    return pt_tls_stream_native(pt_tcp_pipe(s), tls_lib);
  if (tls_lib)
    *tls_lib = coap_get_tls_library_version()->type;
  return NULL;
}

/* A DTLS session's messages are encrypted here; the records leave through
 * the context's send. */
const pt_link pt_link_dtls = {.send = pt_dtls_send};
