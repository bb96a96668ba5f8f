/*
 * limits.c -- Petrel's limit setters (coap3/coap_petrel.h), the
 * RFC 7252 section 11.3 amplification policy and the state counters.
 */
#include "plimits.h"

#include "coap3/coap_petrel.h"

#include "block.h"
#include "context.h"
#include "debug.h"
#include "dtls.h"
#include "exchange.h"
#include "link.h"
#include "session.h"
#include "tcp.h"

void pt_limits_init(coap_context_t *ctx) {
  ctx->amp_factor = PT_DEFAULT_AMP_FACTOR;
  ctx->amp_burst = PT_DEFAULT_AMP_BURST;
  ctx->amp_rate = PT_DEFAULT_AMP_RATE;
  ctx->amp_bucket = PT_DEFAULT_AMP_BURST;
  ctx->amp_refilled = 0;
  ctx->blk_rx_total_max = PT_BLOCK_RX_TOTAL_MAX;
}

/* ---- amplification ------------------------------------------------------ */

void pt_amp_received(coap_session_t *s, size_t len) {
  s->amp_in += len;
}

void pt_amp_verified(coap_session_t *s) {
  s->verified = 1;
}

/* Tops the allowance up for the time since the last refill. */
static void refill(coap_context_t *ctx, coap_tick_t now) {
  if (now <= ctx->amp_refilled)
    return;
  uint64_t add =
      (now - ctx->amp_refilled) * ctx->amp_rate / COAP_TICKS_PER_SECOND;
  if (!add)
    return; /* keep the remainder for the next call */
  ctx->amp_refilled = now;
  ctx->amp_bucket += add;
  if (ctx->amp_bucket > ctx->amp_burst)
    ctx->amp_bucket = ctx->amp_burst;
}

/* 1 if @len more bytes may go to @s's peer now. */
static int amp_allows(coap_session_t *s, size_t len) {
  coap_context_t *ctx = s->context;
  if (!ctx->amp_factor || s->verified || s->type != COAP_SESSION_TYPE_SERVER)
    return 1;
  if (s->amp_out + len <= s->amp_in * ctx->amp_factor)
    return 1;
  refill(ctx, pt_now());
  if (ctx->amp_bucket < len)
    return 0;
  ctx->amp_bucket -= len;
  return 1;
}

/* Asks an unverified peer to show that it receives what we send: an Empty
 * CON (a ping, 4 bytes) of our own, sent once and not retransmitted (no
 * exchange keeps it, so it holds nothing alive), again at most every two
 * ACK_TIMEOUTs while answers are still held back. Its ACK or RST verifies
 * the peer, so a client that never ACKs a CON of ours -- a plain
 * block-wise GET client -- is held back once, not for every body. */
static void probe(coap_session_t *s) {
  if (s->type != COAP_SESSION_TYPE_SERVER)
    return;
  coap_tick_t now = pt_now();
  coap_tick_t gap = 2 * (coap_tick_t)(s->ack_timeout.integer_part * 1000u +
                                      s->ack_timeout.fractional_part) *
                    COAP_TICKS_PER_SECOND / 1000u;
  if (s->probing && now < s->probe_at + gap)
    return;
  s->probing = 1;
  s->probe_at = now;
  s->probe_mid = pt_session_next_mid(s);
  pt_send_empty(s, COAP_MESSAGE_CON, s->probe_mid);
}

int pt_amp_probe_answered(coap_session_t *s, coap_mid_t mid) {
  if (!s->probing || mid != s->probe_mid)
    return 0;
  s->probing = 0;
  pt_amp_verified(s);
  return 1;
}

/* The bytes to @s's peer through its transport (plain datagrams: the
 * context's send). */
static ssize_t link_send(coap_session_t *s, const uint8_t *data, size_t len) {
  return s->link ? s->link->send(s, data, len) : s->context->send(s, data, len);
}

/* Sends, then logs what left (debug level). */
__attribute__((noinline)) static ssize_t
send_shown(coap_session_t *s, const uint8_t *data, size_t len) {
  ssize_t n = link_send(s, data, len);
  if (n >= 0)
    pt_show_datagram(s, "sent", data, (size_t)n);
  return n;
}

/* What is not sent to an unverified peer (amp_allows). */
__attribute__((noinline)) static ssize_t held_back(coap_session_t *s,
                                                   size_t len) {
  s->context->stat_amp_dropped++;
  coap_log_debug("* %s: %zu bytes held back (unverified peer)\n",
                 coap_session_str(s), len);
  probe(s);
  return -1;
}

/* Every check of pt_send_bytes(), in order. */
__attribute__((noinline)) static ssize_t
send_checked(coap_session_t *s, const uint8_t *data, size_t len) {
  /* An Empty message (4 bytes) answers at least 4 bytes received: it
   * never amplifies, so it always goes. */
  if (len > 4 && !amp_allows(s, len))
    return held_back(s, len);
  s->amp_out += len;
  if (s->context->ping_timeout) /* keepalive.c: sending is activity */
    s->last_tx = pt_now();
  unsigned long packet = pt_debug_drop_packet();
  if (packet) { /* coap_debug_set_packet_loss(): lost on the way */
    coap_log_debug("* %s: packet %lu dropped (%zu bytes)\n",
                   coap_session_str(s), packet, len);
    return (ssize_t)len;
  }
  /* Every datagram that leaves, at debug level (asked here: the call
   * alone costs more than the question; the level is read inline). */
  if (pt_log_level >= COAP_LOG_DEBUG)
    return send_shown(s, data, len);
  return link_send(s, data, len);
}

/* The common case -- no keepalive, no simulated loss, logging below debug
 * level, and a peer that is verified or within its allowance without the
 * context's shared bucket -- takes the checks of send_checked() that
 * apply to it, inline, and ends in a tail call of the transport's send. */
ssize_t pt_send_bytes(coap_session_t *s, const uint8_t *data, size_t len) {
  const coap_context_t *ctx = s->context;
  if (ctx->ping_timeout || pt_debug_loss_on || pt_log_level >= COAP_LOG_DEBUG ||
      (len > 4 && ctx->amp_factor && !s->verified &&
       s->type == COAP_SESSION_TYPE_SERVER &&
       s->amp_out + len > s->amp_in * ctx->amp_factor))
    return send_checked(s, data, len);
  s->amp_out += len;
  return link_send(s, data, len);
}

void coap_petrel_context_set_amplification(coap_context_t *ctx, unsigned factor,
                                           size_t burst, size_t rate) {
  if (!ctx)
    return;
  ctx->amp_factor = factor;
  ctx->amp_burst = burst;
  ctx->amp_rate = rate;
  if (ctx->amp_bucket > burst)
    ctx->amp_bucket = burst;
}

unsigned
coap_petrel_context_get_amplification_factor(const coap_context_t *ctx) {
  return ctx ? ctx->amp_factor : 0;
}

/* Plain datagrams leave through the context's send (posix/io.c, or a
 * test's). */
static ssize_t link_udp_send(coap_session_t *s, const uint8_t *data,
                             size_t len) {
  return s->context->send(s, data, len);
}

const pt_link pt_link_udp = {.send = link_udp_send};

/* ---- setters and getters ------------------------------------------------ */

#define SIZE_LIMIT(api, field)                                                 \
  void coap_petrel_context_set_##api(coap_context_t *ctx, size_t max) {        \
    if (ctx)                                                                   \
      ctx->field = max;                                                        \
  }                                                                            \
  size_t coap_petrel_context_get_##api(const coap_context_t *ctx) {            \
    return ctx ? ctx->field : 0;                                               \
  }

SIZE_LIMIT(max_sessions_per_endpoint, max_sessions_per_endpoint)
SIZE_LIMIT(max_async_per_session, max_async_per_session)
SIZE_LIMIT(max_async_total, max_async_total)
SIZE_LIMIT(dedup_per_session, dedup_per_session)
SIZE_LIMIT(dedup_total, dedup_max_total)

SIZE_LIMIT(block_bytes_total, blk_rx_total_max)

void coap_petrel_context_set_max_body_size(coap_context_t *ctx, size_t max) {
  if (ctx)
    pt_context_set_max_body_size(ctx, max);
}

size_t coap_petrel_context_get_max_body_size(const coap_context_t *ctx) {
  return ctx ? ctx->max_body_size : 0;
}

void coap_petrel_context_set_max_queued_cons(coap_context_t *ctx, size_t max) {
  if (ctx)
    ctx->max_wait_per_session = max ? max : 1;
}

size_t coap_petrel_context_get_max_queued_cons(const coap_context_t *ctx) {
  return ctx ? ctx->max_wait_per_session : 0;
}

/* ---- counters ------------------------------------------------------------ */

int coap_petrel_context_get_stats(const coap_context_t *ctx,
                                  coap_petrel_stats_t *st) {
  if (!ctx || !st)
    return 0;
  st->sessions = pt_hashmap_size(&ctx->sessions);
  st->client_sessions = 0;
  /* Client sessions are few (one per server the application talks to). */
  for (const coap_session_t *s = ctx->clients; s; s = s->next)
    st->client_sessions++;
  st->exchanges = ctx->exchange_count;
  st->dedup_entries = ctx->dedup_total;
  st->asyncs = ctx->async_count;
  st->block_bytes = ctx->blk_rx_total;
  st->sessions_refused = ctx->stat_sessions_refused;
  st->sessions_evicted = ctx->stat_sessions_evicted;
  st->amplification_dropped = ctx->stat_amp_dropped;
  st->observers = ctx->obs.count;
  st->observers_refused = ctx->obs.refused;
  return 1;
}

/* ---- several contexts on one port ---------------------------------------- */

void coap_petrel_context_set_reuseport(coap_context_t *ctx, int on) {
  if (ctx)
    ctx->reuseport = on != 0;
}

int coap_petrel_context_get_reuseport(const coap_context_t *ctx) {
  return ctx ? ctx->reuseport : 0;
}
