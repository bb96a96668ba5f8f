/*
 * dedup.c -- remembering received message IDs (RFC 7252 section 4.5).
 */
#include <stdlib.h>
#include <string.h>

#include "dedup.h"

#include "context.h"
#include "session.h"

/* Each session indexes its own entries: a lookup touches only that
 * session's small table and entries, never a context-wide table that
 * grows with every other session's traffic (100,000 pending separate
 * responses, or 1,000 busy sessions x 256 remembered IDs, made each
 * lookup a string of cache and TLB misses). The map spreads the MID
 * itself with Fibonacci hashing. */
static uint32_t dedup_hash(coap_mid_t mid) {
  return (uint32_t)mid;
}

/* The entry whose index node is @n. */
static pt_dedup *entry_of(const pt_hash_node *n) {
  const struct pt_dedup_cold *c =
      PT_CONTAINER_OF(n, struct pt_dedup_cold, node);
  struct pt_dedup_slab *b = pt_dedup_slab_of(c);
  return &b->e[c - b->cold];
}

static pt_hash_node *node_of(const pt_dedup *d) {
  return &pt_dedup_cold_of(d)->node;
}

static int dedup_eq(const pt_hash_node *n, const void *key) {
  return entry_of(n)->mid == (uint16_t) * (const coap_mid_t *)key;
}

/*
 * RFC 7252 4.8.2: EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY
 * + PROCESSING_DELAY, with MAX_TRANSMIT_SPAN = ACK_TIMEOUT *
 * (2^MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR and PROCESSING_DELAY =
 * ACK_TIMEOUT. 247 s with the defaults.
 */
coap_tick_t pt_exchange_lifetime(const coap_session_t *s) {
  uint64_t ack_ms =
      s->ack_timeout.integer_part * 1000u + s->ack_timeout.fractional_part;
  uint64_t rf_milli = s->ack_random_factor.integer_part * 1000u +
                      s->ack_random_factor.fractional_part;
  unsigned shift = s->max_retransmit < 20 ? s->max_retransmit : 20;
  uint64_t span_ms = ack_ms * ((1u << shift) - 1) * rf_milli / 1000u;
  uint64_t total_ms = span_ms + 2 * COAP_DEFAULT_MAX_LATENCY * 1000u + ack_ms;
  return (coap_tick_t)(total_ms * COAP_TICKS_PER_SECOND / 1000u);
}

static void drop_reply(pt_dedup *d) {
  if (d->reply_len > PT_DEDUP_INLINE_REPLY)
    free((void *)pt_dedup_reply(d));
  d->reply_len = 0;
}

/* ---- the context's arrival order ----------------------------------------
 *
 * Every entry is on one context-wide list, oldest first, so that at the
 * context's cap the oldest can be found without a scan. It is doubly
 * linked because expiry, a session's purge and a busy session's rotation
 * take entries from its middle (sessions interleave, and their lifetimes
 * may differ). The ends are told by ctx->dedup_oldest and dedup_newest,
 * not by NULL links: taking the oldest (a rotation of the session that
 * has been waiting longest, or an eviction) then leaves its newer
 * neighbour, a line that is cold with many sessions, unwritten.
 */
static void order_append(coap_context_t *ctx, pt_dedup *d) {
  if (ctx->dedup_newest) {
    d->older = ctx->dedup_newest;
    ctx->dedup_newest->newer = d;
  } else {
    ctx->dedup_oldest = d;
  }
  ctx->dedup_newest = d;
}

static void order_remove(coap_context_t *ctx, pt_dedup *d) {
  if (d == ctx->dedup_newest) {
    if (d == ctx->dedup_oldest)
      ctx->dedup_oldest = ctx->dedup_newest = NULL;
    else
      ctx->dedup_newest = d->older;
    return;
  }
  if (d == ctx->dedup_oldest) {
    ctx->dedup_oldest = d->newer;
    return;
  }
  d->older->newer = d->newer;
  d->newer->older = d->older;
}

/* ---- entry memory ---------------------------------------------------------
 *
 * Entries come in slabs of PT_DEDUP_SLAB (dedup.h), so that a context
 * whose number of remembered IDs grows (up to its cap) mallocs once per
 * slab instead of once per message, and one that is full reuses the entry
 * it forgets (pt_dedup_add()). A forgotten entry goes to the context's
 * spare list, which is used first; past it, a slab hands out its entries
 * in address order (used), each written once when it is taken, so a
 * growing context writes fresh memory front to back and never reads it
 * first. A slab is aligned to its size, so an entry finds its cold part
 * (and an index node its entry) from its own address. The slabs are kept
 * while any entry is remembered -- at most the peak number of entries
 * since the context last remembered none, which the context cap bounds --
 * and all freed when the last entry goes (and with the context), so an
 * idle server gives every byte back.
 */
void pt_dedup_free_spares(coap_context_t *ctx) {
  while (ctx->dedup_slabs) {
    struct pt_dedup_slab *b = ctx->dedup_slabs;
    ctx->dedup_slabs = b->next;
    free(b);
  }
  ctx->dedup_spare = NULL;
}

/* Every path that forgets an entry ends here (through pop_head()): @d is
 * off every list and counted out of dedup_total. */
static void dedup_release(coap_context_t *ctx, pt_dedup *d) {
  d->next = ctx->dedup_spare;
  ctx->dedup_spare = d;
  if (!ctx->dedup_total) /* every entry is a spare now */
    pt_dedup_free_spares(ctx);
}

/* A slab's next entry, never used before: its index node starts out of
 * every map. */
static pt_dedup *slab_take(struct pt_dedup_slab *b) {
  pt_dedup *d = &b->e[b->used];
  pt_hash_node_init(&b->cold[b->used].node);
  b->used++;
  return d;
}

static pt_dedup *dedup_alloc(coap_context_t *ctx) {
  pt_dedup *d = ctx->dedup_spare;
  if (d) {
    ctx->dedup_spare = d->next;
    return d;
  }
  struct pt_dedup_slab *b = ctx->dedup_slabs;
  if (!b || b->used == PT_DEDUP_SLAB) {
    b = aligned_alloc(PT_DEDUP_SLAB_BYTES, PT_DEDUP_SLAB_BYTES);
    if (!b)
      return NULL;
    b->next = ctx->dedup_slabs;
    b->used = 0;
    ctx->dedup_slabs = b;
  }
  return slab_take(b);
}

/*
 * A run of message IDs. Peers take their IDs from a counter (RFC 7252 4.4
 * asks only that one is not reused within EXCHANGE_LIFETIME, and a counter
 * is the usual way), so a session's entries are most often the IDs lo,
 * lo + 1, ..., lo + count - 1 in arrival order. While they are, the
 * session keeps only lo (dedup_indexed is 0) and the map stays empty: a new
 * ID is known to be new from the session alone, and adding it touches no
 * bucket array -- with 1,000 sessions that array was a cache miss on every
 * request. The first ID out of sequence, or the first one that falls in
 * the run (a duplicate, or one to check), puts every entry in the map
 * (index_all(), O(entries) once), and the session stays indexed until its
 * last entry is gone.
 */
/* Puts the run's entries in the map. Returns 0, or -1 if the map has no
 * bucket array and cannot get one (the session then stays a run). */
static int index_all(coap_session_t *s) {
  if (s->dedup_indexed)
    return 0;
  pt_dedup *d = s->dedup_head;
  for (unsigned i = 0; i < s->dedup_count; i++, d = d->next) {
    if (pt_hashmap_insert(&s->dedup_map, node_of(d), dedup_hash(d->mid)) < 0) {
      for (pt_dedup *e = s->dedup_head; e != d; e = e->next)
        pt_hashmap_remove(&s->dedup_map, node_of(e));
      return -1;
    }
  }
  s->dedup_indexed = 1;
  return 0;
}

/* The entry of @mid in a run that holds it (pt_dedup_find()): walked to, for
 * when the map could not be had. O(entries), and only after a failed malloc. */
static pt_dedup *run_entry(const coap_session_t *s, coap_mid_t mid) {
  pt_dedup *d = s->dedup_head;
  for (uint16_t k = (uint16_t)((uint16_t)mid - s->dedup_lo); k > 0; k--)
    d = d->next;
  return d;
}

/* Takes the head of @s's FIFO (its oldest entry) off every list, answer
 * dropped, to be released or reused. */
static pt_dedup *dedup_unlink_head(coap_session_t *s) {
  coap_context_t *ctx = s->context;
  pt_dedup *d = s->dedup_head;
  if (d == s->dedup_tail) {
    s->dedup_head = s->dedup_tail = NULL;
  } else {
    s->dedup_head = d->next;
    s->dedup_tail->next = s->dedup_head; /* (circular) */
  }
  if (s->dedup_indexed)
    pt_hashmap_remove(&s->dedup_map, node_of(d));
  s->dedup_count--;
  s->dedup_lo++; /* a run starts one later (meaningless once indexed) */
  if (!s->dedup_count)
    s->dedup_indexed = 0; /* empty: the next entry starts a run */
  order_remove(ctx, d);
  ctx->dedup_total--;
  drop_reply(d);
  return d;
}

static void pop_head(coap_session_t *s) {
  dedup_release(s->context, dedup_unlink_head(s));
}

/* Forgets the context's oldest entry to make room for a new one. It is the
 * head of its session's FIFO: both lists are in arrival order, and entries
 * leave a FIFO only at its head (pop_head()). That session's timer stays
 * armed for the entry's expiry, which is at or before its new head's: when
 * it fires, it finds nothing due and re-arms for the head (or, with no
 * entries left, stays disarmed). */
static pt_dedup *dedup_forget_oldest(coap_context_t *ctx) {
  const pt_dedup *d = ctx->dedup_oldest;
  coap_session_t *s = pt_dedup_session(d);
  coap_log_debug("* %s: dedup cap of %zu reached: forgetting mid %d\n",
                 coap_session_str(s), ctx->dedup_max_total, (int)d->mid);
  return dedup_unlink_head(s);
}

static void expire(coap_session_t *s, coap_tick_t now) {
  while (s->dedup_head && s->dedup_head->expires <= now)
    pop_head(s);
}

/* expire() for the receive path. The session's timer is armed at or
 * before its oldest entry's expiry (at it, or at an earlier head's that the
 * cap has since dropped), so while that deadline is ahead nothing has
 * expired, and the oldest entry, cold in the cache with many sessions, is
 * not read. Without a timer (arming failed) it looks. */
static void expire_due(coap_session_t *s, coap_tick_t now) {
  if (pt_timer_armed(&s->dedup_timer) && s->dedup_timer.node.deadline > now)
    return;
  expire(s, now);
}

/* One timer per session, at its oldest entry's expiry (the FIFO is in
 * expiry order): armed when the first entry arrives, so adding to a
 * non-empty FIFO costs no heap operation. */
void pt_dedup_expire_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  coap_session_t *s = PT_CONTAINER_OF(t, coap_session_t, dedup_timer);
  expire(s, now);
  if (s->dedup_head)
    pt_timer_arm(ctx, t, s->dedup_head->expires);
}

pt_dedup *pt_dedup_lookup(coap_session_t *s, coap_mid_t mid, coap_tick_t now) {
  pt_dedup *d = NULL;
  if (!s->dedup_indexed && index_all(s) < 0) /* in the run (pt_dedup_find) */
    d = run_entry(s, mid);
  if (!d) {
    pt_hash_node *n =
        pt_hashmap_find(&s->dedup_map, dedup_hash(mid), dedup_eq, &mid);
    if (!n)
      return NULL;
    d = entry_of(n);
  }
  return d->expires > now ? d : NULL;
}

/* Makes room for @mid in the session's index: nothing while it extends
 * the run, else the run goes into the map (and @d with it). Returns 0, or
 * -1 when the map cannot be had. */
static int index_new(coap_session_t *s, pt_dedup *d, coap_mid_t mid) {
  if (!s->dedup_indexed) {
    if (!s->dedup_count) {
      s->dedup_lo = (uint16_t)mid;
      return 0;
    }
    if ((uint16_t)mid == (uint16_t)(s->dedup_lo + s->dedup_count) &&
        s->dedup_count < UINT16_MAX)
      return 0;
    if (index_all(s) < 0)
      return -1;
  }
  return pt_hashmap_insert(&s->dedup_map, node_of(d), dedup_hash(mid));
}

/* The entry a new message of @s takes (both caps are above 0). At a cap,
 * the entry that must be forgotten to make room -- the session's oldest,
 * or else the context's -- is reused as it is: the steady state of a busy
 * server touches neither the spare list nor malloc. Otherwise (below both
 * caps, or a cap was lowered) the old entries go and a spare is taken. */
static pt_dedup *dedup_make_room(coap_session_t *s) {
  coap_context_t *ctx = s->context;
  if (s->dedup_count == ctx->dedup_per_session &&
      ctx->dedup_total <= ctx->dedup_max_total)
    return dedup_unlink_head(s);
  if (ctx->dedup_total == ctx->dedup_max_total &&
      s->dedup_count < ctx->dedup_per_session)
    return dedup_forget_oldest(ctx);
  while (s->dedup_count >= ctx->dedup_per_session)
    pop_head(s);
  /* More than once only after the cap was lowered. */
  while (ctx->dedup_total >= ctx->dedup_max_total)
    dedup_release(ctx, dedup_forget_oldest(ctx));
  return dedup_alloc(ctx);
}

/* EXCHANGE_LIFETIME of @s, computed again only after one of the
 * transmission parameters it depends on was set (session.c clears
 * exchange_lifetime in their setters). */
static coap_tick_t dedup_lifetime(coap_session_t *s) {
  if (!s->exchange_lifetime)
    s->exchange_lifetime = pt_exchange_lifetime(s);
  return s->exchange_lifetime;
}

/* Whether @mid is the steady state of a busy session: at its cap (and
 * the context at or below its own), its IDs a run that @mid extends. The
 * session's oldest entry then becomes its newest for @mid: the run moves
 * up by one, and no count changes. */
static int dedup_rotates(const coap_session_t *s, coap_mid_t mid) {
  const coap_context_t *ctx = s->context;
  return s->dedup_count == ctx->dedup_per_session && s->dedup_count > 0 &&
         !s->dedup_indexed && s->dedup_count <= UINT16_MAX &&
         (uint16_t)mid == (uint16_t)(s->dedup_lo + s->dedup_count) &&
         ctx->dedup_total <= ctx->dedup_max_total;
}

/* The rotation (dedup_rotates()) once the oldest entry's answer is not on
 * the heap; the caller sees to the timer. Calls nothing. */
static pt_dedup *dedup_rotate(coap_session_t *s, coap_mid_t mid,
                              coap_tick_t now) {
  coap_context_t *ctx = s->context;
  pt_dedup *d = s->dedup_head;
  /* The FIFO is circular: the head becomes the tail where it is, and no
   * other entry is written. (The only entry stays where it is.) */
  s->dedup_head = d->next;
  s->dedup_tail = d;
  s->dedup_lo++;
  if (ctx->dedup_newest != d) {
    order_remove(ctx, d);
    order_append(ctx, d);
  }
  d->reply_len = 0;
  d->state = PT_DEDUP_SEEN;
  d->mid = (uint16_t)mid;
  d->expires = now + dedup_lifetime(s);
  return d;
}

/* pt_dedup_add() but for a rotation with nothing due (its fast path). */
__attribute__((noinline)) static pt_dedup *
dedup_add_slow(coap_session_t *s, coap_mid_t mid, coap_tick_t now) {
  coap_context_t *ctx = s->context;
  expire_due(s, now);
  if (dedup_rotates(s, mid)) {
    drop_reply(s->dedup_head);
    pt_dedup *d = dedup_rotate(s, mid, now);
    if (!pt_timer_armed(&s->dedup_timer))
      pt_timer_arm(ctx, &s->dedup_timer, s->dedup_head->expires);
    return d;
  }
  if (ctx->dedup_per_session == 0)
    return NULL;
  if (ctx->dedup_max_total == 0) {
    while (s->dedup_count >= ctx->dedup_per_session)
      pop_head(s);
    return NULL;
  }
  pt_dedup *d = dedup_make_room(s);
  if (!d)
    return NULL;
  d->state = PT_DEDUP_SEEN;
  d->reply_len = 0;
  d->mid = (uint16_t)mid; /* before index_new: index_all() may hash it */
  if (index_new(s, d, mid) < 0) {
    dedup_release(ctx, d);
    return NULL;
  }
  pt_dedup_cold_of(d)->session = s;
  d->expires = now + dedup_lifetime(s);
  ctx->dedup_total++;
  order_append(ctx, d);
  if (s->dedup_tail) {
    d->next = s->dedup_head;
    s->dedup_tail->next = d;
  } else {
    s->dedup_head = d->next = d;
  }
  s->dedup_tail = d;
  s->dedup_count++;
  if (!pt_timer_armed(&s->dedup_timer))
    pt_timer_arm(ctx, &s->dedup_timer, s->dedup_head->expires);
  return d;
}

pt_dedup *pt_dedup_add(coap_session_t *s, coap_mid_t mid, coap_tick_t now) {
  /* Nothing expired (see expire_due()), the timer armed, no answer to
   * free: the steady state, without a call. */
  if (pt_timer_armed(&s->dedup_timer) && s->dedup_timer.node.deadline > now &&
      dedup_rotates(s, mid) &&
      s->dedup_head->reply_len <= PT_DEDUP_INLINE_REPLY)
    return dedup_rotate(s, mid, now);
  return dedup_add_slow(s, mid, now);
}

void pt_dedup_set_reply(pt_dedup *d, pt_dedup_state state, const uint8_t *data,
                        size_t len) {
  drop_reply(d);
  d->state = (uint8_t)state;
  if (state != PT_DEDUP_REPLY || !len)
    return;
  if (len > UINT16_MAX) { /* an extended token's reply: not kept */
    d->state = PT_DEDUP_SEEN;
    return;
  }
  uint8_t *to = d->reply;
  if (len > PT_DEDUP_INLINE_REPLY) {
    if (!(to = malloc(len))) {
      d->state = PT_DEDUP_SEEN; /* a duplicate will be dropped, not re-run */
      return;
    }
    memcpy(d->reply, &to, sizeof(to));
  }
  memcpy(to, data, len);
  d->reply_len = (uint16_t)len;
}

void pt_dedup_purge_session(coap_session_t *s) {
  pt_timer_cancel(s->context, &s->dedup_timer);
  while (s->dedup_head)
    pop_head(s);
  pt_hashmap_free(&s->dedup_map); /* its bucket array */
}
