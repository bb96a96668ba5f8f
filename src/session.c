/*
 * session.c -- sessions: creation, lookup, reference counting, idle
 * reaping, identifiers and the RFC 7252 section 4.8 parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "session.h"

#include "address.h"
#include "async.h"
#include "cache.h"
#include "context.h"
#include "dedup.h"
#include "dtls.h"
#include "tcp.h"
#include "exchange.h"
#include "io.h"
#include "keepalive.h"
#include "observe.h"
#include "pdu.h"
#include "prng.h"

/* ---- creation ------------------------------------------------------------ */

static void idle_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now);

/* The first lines of a session are the ones a request on a known session
 * uses (session.h); each group must stay within its line. */
#define HOT_IN_LINE(field, line)                                               \
  _Static_assert(offsetof(coap_session_t, field) >= 64 * (line) &&             \
                     offsetof(coap_session_t, field) +                         \
                             sizeof(((coap_session_t *)0)->field) <=           \
                         64 * ((line) + 1),                                    \
                 #field " left line " #line " of coap_session_t")
HOT_IN_LINE(by_peer, 0);
HOT_IN_LINE(endpoint, 0);
HOT_IN_LINE(remote, 0);
HOT_IN_LINE(context, 1);
HOT_IN_LINE(link, 1);
HOT_IN_LINE(local, 1);
HOT_IN_LINE(ifindex, 1);
HOT_IN_LINE(ref, 1);
HOT_IN_LINE(fd, 1);
HOT_IN_LINE(proto, 1);
HOT_IN_LINE(type, 2);
HOT_IN_LINE(state, 2);
HOT_IN_LINE(mcast, 2);
HOT_IN_LINE(closing, 2);
HOT_IN_LINE(verified, 2);
HOT_IN_LINE(ka_failed, 2);
HOT_IN_LINE(amp_in, 2);
HOT_IN_LINE(amp_out, 2);
HOT_IN_LINE(last_activity, 2);
HOT_IN_LINE(prev, 2);
HOT_IN_LINE(next, 2);
HOT_IN_LINE(lru_moved, 2);
HOT_IN_LINE(dedup_count, 2);
HOT_IN_LINE(dedup_head, 3);
HOT_IN_LINE(dedup_tail, 3);
HOT_IN_LINE(exchange_lifetime, 3);
HOT_IN_LINE(dedup_lo, 3);
HOT_IN_LINE(dedup_indexed, 3);
HOT_IN_LINE(mtu, 3);
HOT_IN_LINE(dedup_timer, 3);

/* Not aligned to a cache line: the hot fields then take four or five lines
 * rather than four, but an aligned allocation costs glibc's heap about 110
 * bytes more per session, which an idle session cannot afford (the README's
 * memory figures). */
static coap_session_t *
session_new(coap_context_t *ctx, coap_session_type_t type, coap_proto_t proto) {
  coap_session_t *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->context = ctx;
  s->type = type;
  s->proto = proto;
  s->state = COAP_SESSION_STATE_ESTABLISHED;
  s->fd = -1;
  s->ifindex = -1;
  pt_hash_node_init(&s->by_peer);
  pt_timer_init(&s->idle_timer, idle_fire);
  pt_timer_init(&s->dedup_timer, pt_dedup_expire_fire);
  pt_timer_init(&s->keepalive_timer, pt_keepalive_fire);
  s->ack_timeout = COAP_DEFAULT_ACK_TIMEOUT;
  s->ack_random_factor = COAP_DEFAULT_ACK_RANDOM_FACTOR;
  s->default_leisure = COAP_DEFAULT_DEFAULT_LEISURE;
  s->max_retransmit = COAP_DEFAULT_MAX_RETRANSMIT;
  s->nstart = COAP_DEFAULT_NSTART;
  s->probing_rate = COAP_DEFAULT_PROBING_RATE;
  s->max_payloads = COAP_DEFAULT_MAX_PAYLOADS;
  s->non_max_retransmit = COAP_DEFAULT_NON_MAX_RETRANSMIT;
  s->non_timeout = COAP_DEFAULT_NON_TIMEOUT;
  s->non_receive_timeout = COAP_DEFAULT_NON_RECEIVE_TIMEOUT;
  s->mtu = COAP_DEFAULT_MTU;
  s->next_mid = (coap_mid_t)(pt_prng_u64() & 0xffff);
  s->token_counter = pt_prng_u64() & 0xffffffffu;
  return s;
}

/* An IPv4 peer (the common case) is one 64-bit word, port and address,
 * with the endpoint folded in, through a 64-bit finalizer; other
 * families mix their whole address (pt_address_hash). Both are consistent
 * with pt_address_same(): an IPv4 address only ever equals an IPv4 one. */
static inline uint32_t session_hash(const coap_endpoint_t *ep,
                                    const coap_address_t *remote) {
  uintptr_t p = (uintptr_t)ep;
  if (remote->addr.sa.sa_family == AF_INET) {
    uint64_t k = ((uint64_t)remote->addr.sin.sin_port << 32 |
                  remote->addr.sin.sin_addr.s_addr) ^
                 ((uint64_t)p * 0x9e3779b97f4a7c15u);
    k ^= k >> 33; /* MurmurHash3's 64-bit finalizer */
    k *= 0xff51afd7ed558ccdu;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53u;
    return (uint32_t)(k ^ (k >> 33));
  }
  return pt_hash_mix(pt_address_hash(remote), (uint32_t)(p ^ (p >> 32)));
}

uint32_t pt_session_hash(const coap_endpoint_t *ep,
                         const coap_address_t *remote) {
  return session_hash(ep, remote);
}

typedef struct peer_key {
  const coap_endpoint_t *ep;
  const coap_address_t *remote;
} peer_key;

static int peer_eq(const pt_hash_node *n, const void *key) {
  const coap_session_t *s = PT_CONTAINER_OF(n, coap_session_t, by_peer);
  const peer_key *k = key;
  return s->endpoint == k->ep && pt_address_same(&s->remote, k->remote);
}

/* A peer sends in runs (a client with 16 requests in flight, a block-wise
 * transfer), so the endpoint remembers the session of its last datagram
 * and compares that first: one address comparison instead of a hash and a
 * probe. The pointer is cleared whenever that session leaves the table. */
static coap_session_t *find_peer(const coap_context_t *ctx,
                                 const coap_endpoint_t *ep,
                                 const coap_address_t *remote) {
  coap_session_t *last = pt_session_last(ep, remote);
  if (last)
    return last;
  peer_key k = {ep, remote};
  pt_hash_node *n =
      pt_hashmap_find(&ctx->sessions, pt_session_hash(ep, remote), peer_eq, &k);
  return n ? PT_CONTAINER_OF(n, coap_session_t, by_peer) : NULL;
}

coap_session_t *pt_session_find(const coap_endpoint_t *ep,
                                const coap_address_t *remote) {
  return find_peer(ep->context, ep, remote);
}

/* ---- recency (server sessions) ------------------------------------------ */

static void lru_unlink(coap_context_t *ctx, coap_session_t *s) {
  if (s->prev)
    s->prev->next = s->next;
  else if (ctx->lru_head == s)
    ctx->lru_head = s->next;
  if (s->next)
    s->next->prev = s->prev;
  else if (ctx->lru_tail == s)
    ctx->lru_tail = s->prev;
  s->prev = s->next = NULL;
}

static void lru_append(coap_context_t *ctx, coap_session_t *s) {
  s->prev = ctx->lru_tail;
  s->next = NULL;
  if (ctx->lru_tail)
    ctx->lru_tail->next = s;
  else
    ctx->lru_head = s;
  ctx->lru_tail = s;
}

static int is_idle(const coap_session_t *s) {
  return s->ref == 1 && !s->exchanges && !s->asyncs;
}

static coap_tick_t idle_ticks(const coap_context_t *ctx) {
  return (coap_tick_t)ctx->session_timeout * COAP_TICKS_PER_SECOND;
}

/* How many of the least recently active sessions a new peer may look at
 * for one to evict: a bound, so that a full endpoint costs O(1) a datagram
 * even when its oldest sessions are all busy. */
#define EVICT_CANDIDATES 16

/* Frees the least recently active session that holds nothing in flight,
 * among those of @ep (or of any endpoint when @ep is NULL) in the first
 * EVICT_CANDIDATES of the recency list. The list is ordered only to within
 * PT_SESSION_LRU_GRAIN, so the candidates' last_activity decides (ties:
 * the first in the list). Returns 1 if one was evicted. */
static int evict_idle(coap_context_t *ctx, const coap_endpoint_t *ep) {
  coap_session_t *s = ctx->lru_head, *oldest = NULL;
  for (int i = 0; s && i < EVICT_CANDIDATES; s = s->next, i++) {
    if ((ep && s->endpoint != ep) || !is_idle(s))
      continue;
    if (!oldest || s->last_activity < oldest->last_activity)
      oldest = s;
  }
  if (!oldest)
    return 0;
  coap_log_debug("* %s: evicted for a new peer\n", coap_session_str(oldest));
  ctx->stat_sessions_evicted++;
  pt_session_close(oldest, COAP_NACK_NOT_DELIVERABLE);
  return 1;
}

/* A new session for (ep, remote): out of line, so that finding one is
 * cheap. */
__attribute__((noinline)) static coap_session_t *
session_add(coap_endpoint_t *ep, const coap_address_t *remote,
            const coap_address_t *local, int ifindex, coap_tick_t now) {
  coap_context_t *ctx = ep->context;
  coap_session_t *s;
  if (ctx->max_sessions_per_endpoint &&
      ep->session_count >= ctx->max_sessions_per_endpoint &&
      !evict_idle(ctx, ep)) {
    ctx->stat_sessions_refused++;
    return NULL;
  }
  if (ctx->max_idle_sessions && /* libcoap's context-wide setting */
      pt_hashmap_size(&ctx->sessions) >= ctx->max_idle_sessions)
    evict_idle(ctx, NULL);
  s = session_new(ctx, COAP_SESSION_TYPE_SERVER, ep->proto);
  if (!s)
    return NULL;
  s->endpoint = ep;
  s->remote = *remote;
  s->local = local ? *local : ep->bind_addr;
  s->ifindex = ifindex;
  s->mtu = ep->default_mtu;
  s->hash = pt_session_hash(ep, remote);
  s->ref = 1; /* the context table's reference */
  s->last_activity = now;
  s->lru_moved = now;
  if (pt_hashmap_insert(&ctx->sessions, &s->by_peer, s->hash) < 0) {
    free(s);
    return NULL;
  }
  ep->session_count++;
  ep->last_hit = s;
  lru_append(ctx, s);
  if (ctx->session_timeout)
    pt_timer_arm(ctx, &s->idle_timer, now + idle_ticks(ctx));
  pt_keepalive_start(s, now);
  pt_event(s, COAP_EVENT_SERVER_SESSION_NEW);
  return s;
}

coap_session_t *pt_session_for_other_peer(coap_endpoint_t *ep,
                                          const coap_address_t *remote,
                                          const coap_address_t *local,
                                          int ifindex, coap_tick_t now) {
  peer_key k = {ep, remote};
  pt_hash_node *n = pt_hashmap_find(&ep->context->sessions,
                                    session_hash(ep, remote), peer_eq, &k);
  if (!n)
    return session_add(ep, remote, local, ifindex, now);
  coap_session_t *s = PT_CONTAINER_OF(n, coap_session_t, by_peer);
  ep->last_hit = s;
  return s;
}

coap_session_t *pt_session_for_peer(coap_endpoint_t *ep,
                                    const coap_address_t *remote,
                                    const coap_address_t *local, int ifindex,
                                    coap_tick_t now) {
  coap_session_t *s = pt_session_last(ep, remote);
  return s ? s : pt_session_for_other_peer(ep, remote, local, ifindex, now);
}

coap_session_t *pt_session_detached(coap_context_t *ctx) {
  coap_session_t *s = session_new(ctx, COAP_SESSION_TYPE_SERVER, COAP_PROTO_UDP);
  if (!s)
    return NULL;
  s->endpoint = ctx->endpoints;
  if (s->endpoint)
    s->local = s->endpoint->bind_addr;
  s->ref = 1;
  s->closing = 1; /* coap_send() refuses: nothing goes out */
  return s;
}

/* ---- teardown ------------------------------------------------------------ */

static void session_free(coap_session_t *s) {
  coap_context_t *ctx = s->context;
  pt_timer_cancel(ctx, &s->idle_timer);
  pt_keepalive_stop(s);
  pt_dedup_purge_session(s);
  pt_async_purge_session(s);
  pt_observe_session_freed(s);
  pt_cache_session_closed(s);
  pt_dtls_session_free(s); /* close_notify leaves before the socket closes */
  pt_tcp_session_free(s);  /* a TCP connection's socket, either side */
  pt_io_session_freed(s);  /* its queued datagrams point at its address */
  if (s->in_clients) {
    pt_io_client_close(s);
    if (s->prev)
      s->prev->next = s->next;
    else if (ctx->clients == s)
      ctx->clients = s->next;
    if (s->next)
      s->next->prev = s->prev;
  }
  free(s);
}

coap_session_t *coap_session_reference(coap_session_t *session) {
  if (session)
    session->ref++;
  return session;
}

void coap_session_release(coap_session_t *session) {
  if (!session || session->ref == 0)
    return;
  if (--session->ref > 0)
    return;
  /* Exchanges hold references, except live client observations: freeing
   * the session cancels them (coap_observe(3)), unless
   * coap_session_set_no_observe_cancel() was called, and frees them. */
  pt_observe_client_closing(session);
  session->closing = 1;
  pt_exchange_free_session(session);
  session_free(session);
}

void pt_session_close(coap_session_t *s, coap_nack_reason_t reason) {
  coap_context_t *ctx = s->context;
  if (s->closing)
    return;
  coap_session_reference(s);
  s->closing = 1;
  pt_exchange_fail_session(s, reason);
  pt_dedup_purge_session(s);
  pt_async_purge_session(s);
  pt_timer_cancel(ctx, &s->idle_timer);
  pt_keepalive_stop(s);
  if (pt_hashmap_contains(&s->by_peer)) {
    pt_event(s, COAP_EVENT_SERVER_SESSION_DEL);
    pt_hashmap_remove(&ctx->sessions, &s->by_peer);
    lru_unlink(ctx, s);
    s->endpoint->session_count--;
    if (s->endpoint->last_hit == s)
      s->endpoint->last_hit = NULL;
    coap_session_release(s); /* the table's reference */
  }
  coap_session_release(s);
}

/* Reaping is lazy: activity only stamps last_activity, and the timer,
 * when it fires, either closes the session or re-arms for the rest. */
static void idle_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  coap_session_t *s = PT_CONTAINER_OF(t, coap_session_t, idle_timer);
  coap_tick_t limit = idle_ticks(ctx);
  if (!limit)
    return;
  if (s->last_activity + limit > now || s->exchanges || s->ref > 1) {
    coap_tick_t base = s->last_activity + limit > now ? s->last_activity : now;
    pt_timer_arm(ctx, t, base + limit);
    return;
  }
  coap_log_debug("* %s: idle session closed\n", coap_session_str(s));
  pt_session_close(s, COAP_NACK_NOT_DELIVERABLE);
}

/* The move is what costs at many peers: unlinking writes to both
 * neighbours, which are other sessions' lines, cold when peers take turns.
 * Hence at most one a PT_SESSION_LRU_GRAIN (session.h). */
void pt_session_touch_rare(coap_session_t *s, coap_tick_t now) {
  if (s->ka_failed)
    pt_keepalive_resume(s, now);
  if (now - s->lru_moved < PT_SESSION_LRU_GRAIN)
    return;
  s->lru_moved = now; /* a client session's too: no call again for a grain */
  if (pt_hashmap_contains(&s->by_peer) && s->context->lru_tail != s) {
    lru_unlink(s->context, s);
    lru_append(s->context, s);
  }
}

/* A soft error, as in libcoap: an ICMP message is unauthenticated, and a
 * server that is not up yet may be by the next retransmission (RFC 7252
 * 4.2). So the exchanges go on and end as usual; the NACK handler hears
 * of the ICMP error, for the session's most recent request (NULL when it
 * has none), and decides. */
void pt_session_unreachable(coap_session_t *s) {
  coap_context_t *ctx = s->context;
  if (!ctx->nack_handler)
    return;
  pt_exchange *ex = s->exchanges;
  while (ex && ex->ext_probe) /* the library's own: at most one */
    ex = ex->next;
  coap_session_reference(s); /* the handler may release the session */
  ctx->nack_handler(s, ex ? ex->pdu : NULL, COAP_NACK_ICMP_ISSUE,
                    ex ? ex->mid : 0);
  coap_session_release(s);
}

void coap_session_disconnected(coap_session_t *session,
                               coap_nack_reason_t reason) {
  if (!session)
    return;
  coap_session_reference(session);
  pt_exchange_fail_session(session, reason);
  session->state = COAP_SESSION_STATE_NONE;
  coap_session_release(session);
}

/* Frees @s whatever its reference count: its context is going away. */
static void teardown(coap_session_t *s) {
  s->closing = 1;
  s->ref++; /* keeps it alive through the NACK handlers */
  pt_exchange_fail_session(s, COAP_NACK_NOT_DELIVERABLE);
  session_free(s);
}

void pt_sessions_free_all(coap_context_t *ctx) {
  pt_hashmap_iter it;
  pt_hash_node *n;
  pt_hashmap_iter_init(&it, &ctx->sessions);
  while ((n = pt_hashmap_iter_next(&it)) != NULL) {
    coap_session_t *s = PT_CONTAINER_OF(n, coap_session_t, by_peer);
    pt_hashmap_remove(&ctx->sessions, n);
    lru_unlink(ctx, s);
    s->endpoint->session_count--;
    s->endpoint->last_hit = NULL;
    teardown(s);
  }
  while (ctx->clients)
    teardown(ctx->clients);
}

/* ---- client sessions ------------------------------------------------------
 */

coap_session_t *pt_client_session_new(coap_context_t *ctx,
                                      const coap_address_t *local_if,
                                      const coap_address_t *server,
                                      coap_proto_t proto) {
  if (!ctx || !server)
    return NULL;
  if (proto != COAP_PROTO_UDP && proto != COAP_PROTO_TCP &&
      proto != COAP_PROTO_WS &&
      (proto != COAP_PROTO_DTLS || !coap_dtls_is_supported()) &&
      (proto != COAP_PROTO_TLS || !coap_tls_is_supported()) &&
      (proto != COAP_PROTO_WSS || !coap_wss_is_supported())) {
    coap_log_warn("coap_new_client_session: only UDP, TCP, WS%s are "
                  "supported\n",
                  coap_wss_is_supported()    ? ", DTLS, TLS and WSS"
                  : coap_dtls_is_supported() ? " and DTLS"
                                             : "");
    return NULL;
  }
  coap_session_t *s = session_new(ctx, COAP_SESSION_TYPE_CLIENT, proto);
  if (!s)
    return NULL;
  s->remote = *server;
  if (coap_address_get_port(&s->remote) == 0)
    coap_address_set_port(&s->remote,
                          proto == COAP_PROTO_DTLS || proto == COAP_PROTO_TLS
                              ? COAPS_DEFAULT_PORT
                          : proto == COAP_PROTO_WS  ? 80  /* http */
                          : proto == COAP_PROTO_WSS ? 443 /* https */
                                                    : COAP_DEFAULT_PORT);
  s->mcast = coap_is_mcast(&s->remote);
  s->mcast_addr = s->remote;
  /* A detached context (the sans-I/O tests) has no sockets. */
  int opened = COAP_PROTO_RELIABLE(proto) ? pt_tcp_client_open(s, local_if)
                                          : pt_io_client_open(s, local_if);
  if (ctx->epfd >= 0 && opened < 0) {
    pt_tcp_session_free(s);
    free(s);
    return NULL;
  }
  s->hash = pt_session_hash(NULL, &s->remote) ^ (uint32_t)(uintptr_t)s;
  s->ref = 1; /* the application's */
  s->in_clients = 1;
  s->next = ctx->clients;
  if (ctx->clients)
    ctx->clients->prev = s;
  ctx->clients = s;
  pt_keepalive_start(s, pt_now());
  return s;
}

/* DTLS, TLS or WSS without credentials: a certificate handshake that
 * verifies the server only against CAs given with
 * coap_context_set_pki_root_cas(). */
coap_session_t *coap_new_client_session(coap_context_t *ctx,
                                        const coap_address_t *local_if,
                                        const coap_address_t *server,
                                        coap_proto_t proto) {
  coap_session_t *s = pt_client_session_new(ctx, local_if, server, proto);
  if (s &&
      (proto == COAP_PROTO_DTLS || proto == COAP_PROTO_TLS ||
       proto == COAP_PROTO_WSS) &&
      pt_dtls_client_start(s, NULL, NULL)) {
    coap_session_release(s);
    return NULL;
  }
  return s;
}

/* The DTLS client sessions (..._psk, _psk2, _pki) are in dtls.c. */

coap_session_t *coap_session_get_by_peer(const coap_context_t *ctx,
                                         const coap_address_t *remote,
                                         int ifindex) {
  (void)ifindex;
  if (!ctx || !remote)
    return NULL;
  /* One probe per endpoint: a context has a handful of endpoints. */
  for (const coap_endpoint_t *ep = ctx->endpoints; ep; ep = ep->next) {
    coap_session_t *s = find_peer(ctx, ep, remote);
    if (s)
      return s;
  }
  for (coap_session_t *s = ctx->clients; s; s = s->next)
    if (coap_address_equals(&s->remote, remote))
      return s;
  return NULL;
}

/* The session stays in the endpoint's table (its peer's datagrams still
 * arrive there) and keeps sending through the endpoint's socket. */
int coap_session_set_type_client(coap_session_t *session) {
  if (!session || session->type != COAP_SESSION_TYPE_SERVER)
    return 0;
  session->type = COAP_SESSION_TYPE_CLIENT;
  coap_session_reference(session);
  return 1;
}

/* ---- identifiers ------------------------------------------------------------
 */

coap_mid_t pt_session_next_mid(coap_session_t *s) {
  if (!s)
    return (coap_mid_t)(pt_prng_u64() & 0xffff);
  s->next_mid = (coap_mid_t)((s->next_mid + 1) & 0xffff);
  return s->next_mid;
}

size_t pt_session_max_pdu(coap_session_t *s) {
  return coap_session_max_pdu_size(s);
}

uint16_t coap_new_message_id(coap_session_t *session) {
  return (uint16_t)pt_session_next_mid(session);
}

void coap_session_init_token(coap_session_t *session, size_t length,
                             const uint8_t *token) {
  if (!session || (length && !token))
    return;
  /* Only the first 8 bytes seed the counter, extended token or not. */
  session->token_counter =
      coap_decode_var_bytes8(token, length > 8 ? 8 : length);
}

/* Tokens are the session's counter in the fewest bytes (RFC 7252 5.3.1:
 * unique per source/destination pair while in use). */
void coap_session_new_token(coap_session_t *session, size_t *length,
                            uint8_t *token) {
  if (!session || !length || !token)
    return;
  *length = coap_encode_var_safe8(token, 8, ++session->token_counter);
}

coap_tick_t pt_session_initial_timeout(const coap_session_t *s) {
  uint64_t ack_ms =
      s->ack_timeout.integer_part * 1000u + s->ack_timeout.fractional_part;
  uint64_t rf = s->ack_random_factor.integer_part * 1000u +
                s->ack_random_factor.fractional_part;
  uint64_t factor = 1000 + (rf > 1000 ? pt_prng_below(rf - 1000 + 1) : 0);
  uint64_t ms = ack_ms * factor / 1000u;
  return (coap_tick_t)(ms * COAP_TICKS_PER_SECOND / 1000u);
}

/* ---- getters and setters ------------------------------------------------ */

void coap_session_set_app_data(coap_session_t *s, void *data) {
  if (s)
    s->app_data = data;
}

void *coap_session_get_app_data(const coap_session_t *s) {
  return s ? s->app_data : NULL;
}

const coap_address_t *coap_session_get_addr_remote(const coap_session_t *s) {
  return s ? &s->remote : NULL;
}

const coap_address_t *coap_session_get_addr_mcast(const coap_session_t *s) {
  return s && s->mcast ? &s->mcast_addr : NULL;
}

const coap_address_t *coap_session_get_addr_local(const coap_session_t *s) {
  return s ? &s->local : NULL;
}

coap_proto_t coap_session_get_proto(const coap_session_t *s) {
  return s ? s->proto : COAP_PROTO_NONE;
}

coap_session_type_t coap_session_get_type(const coap_session_t *s) {
  return s ? s->type : COAP_SESSION_TYPE_NONE;
}

coap_session_state_t coap_session_get_state(const coap_session_t *s) {
  return s ? s->state : COAP_SESSION_STATE_NONE;
}

int coap_session_get_ifindex(const coap_session_t *s) {
  return s ? s->ifindex : -1;
}

coap_context_t *coap_session_get_context(const coap_session_t *s) {
  return s ? s->context : NULL;
}

/* coap_session_get_tls() and coap_session_get_psk_*() are in dtls.c. */

void coap_session_set_mtu(coap_session_t *s, unsigned mtu) {
  if (s && mtu >= 64)
    s->mtu = mtu;
}

size_t coap_session_max_pdu_size(const coap_session_t *s) {
  if (s && pt_session_link(s)->max_pdu) /* TCP: the peer's CSM says */
    return pt_session_link(s)->max_pdu(s);
  unsigned mtu = s ? s->mtu : COAP_DEFAULT_MTU;
  return mtu > 4 ? mtu - 4 : 0;
}

void coap_session_set_no_observe_cancel(coap_session_t *s) {
  if (s)
    s->no_observe_cancel = 1;
}

#define FIXED_ACCESSORS(name)                                                  \
  void coap_session_set_##name(coap_session_t *s, coap_fixed_point_t v) {      \
    if (s && (v.integer_part || v.fractional_part)) {                          \
      s->name = v;                                                             \
      s->exchange_lifetime = 0; /* computed again (dedup.c) */                 \
    }                                                                          \
  }                                                                            \
  coap_fixed_point_t coap_session_get_##name(const coap_session_t *s) {        \
    coap_fixed_point_t zero = {0, 0};                                          \
    return s ? s->name : zero;                                                 \
  }

FIXED_ACCESSORS(ack_timeout)
FIXED_ACCESSORS(ack_random_factor)
FIXED_ACCESSORS(default_leisure)
FIXED_ACCESSORS(non_timeout)
FIXED_ACCESSORS(non_receive_timeout)

#define UINT_ACCESSORS(name, type)                                             \
  void coap_session_set_##name(coap_session_t *s, type v) {                    \
    if (s) {                                                                   \
      s->name = v;                                                             \
      s->exchange_lifetime = 0; /* computed again (dedup.c) */                 \
    }                                                                          \
  }                                                                            \
  type coap_session_get_##name(const coap_session_t *s) {                      \
    return s ? s->name : 0;                                                    \
  }

UINT_ACCESSORS(max_retransmit, uint16_t)
UINT_ACCESSORS(probing_rate, uint32_t)
UINT_ACCESSORS(max_payloads, uint16_t)
UINT_ACCESSORS(non_max_retransmit, uint16_t)

void coap_session_set_nstart(coap_session_t *s, uint16_t v) {
  if (s && v > 0)
    s->nstart = v;
}

uint16_t coap_session_get_nstart(const coap_session_t *s) {
  return s ? s->nstart : 0;
}

/* ---- description ------------------------------------------------------------
 */

static const char *proto_name(coap_proto_t p) {
  switch (p) {
  case COAP_PROTO_UDP:
    return "UDP";
  case COAP_PROTO_DTLS:
    return "DTLS";
  case COAP_PROTO_TCP:
    return "TCP";
  case COAP_PROTO_TLS:
    return "TLS";
  case COAP_PROTO_WS:
    return "WS";
  case COAP_PROTO_WSS:
    return "WSS";
  default:
    return "NONE";
  }
}

const char *coap_session_str(const coap_session_t *session) {
  if (!session)
    return "(null)";
  coap_session_t *s = (coap_session_t *)session; /* the buffer is a cache */
  char local[64], remote[64];
  coap_print_addr(&s->local, (uint8_t *)local, sizeof(local));
  coap_print_addr(&s->remote, (uint8_t *)remote, sizeof(remote));
  snprintf(s->str, sizeof(s->str), "%s <-> %s %s", local, remote,
           proto_name(s->proto));
  return s->str;
}

coap_mid_t coap_session_send_ping(coap_session_t *session) {
  if (!session || session->closing)
    return COAP_INVALID_MID;
  const pt_link *link = pt_session_link(session);
  if (link->ping) /* RFC 8323 5.4: a 7.02 Ping, which has no MID */
    return link->ping(session) < 0 ? COAP_INVALID_MID : 0;
  coap_pdu_t *ping =
      coap_pdu_init(COAP_MESSAGE_CON, 0, pt_session_next_mid(session), 0);
  if (!ping)
    return COAP_INVALID_MID;
  return pt_exchange_send(session, ping, pt_now());
}
