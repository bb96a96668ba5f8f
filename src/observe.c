/*
 * observe.c -- Observe (RFC 7641): observers and their notifications on a
 * server, observations on a client, and their limits. See observe.h for
 * the structure; the RFC's section numbers are given where a rule comes
 * from.
 */
#include <stdlib.h>
#include <string.h>

#include "observe.h"

#include "coap3/coap_petrel.h"

#include "block.h"
#include "context.h"
#include "exchange.h"
#include "hashmap.h"
#include "pdu.h"
#include "resource.h"
#include "session.h"
#include "uri.h"

/* A stored request's query up to this long is rebuilt on the stack. */
#define OBS_QUERY_STACK 256

/* One allocation: this record, then the registering request's copy,
 * whose session and Uri-Query options are the observer's (nothing of the
 * request is kept twice). 88 bytes on LP64: with its share of the two
 * indexes' buckets (8 to 16 bytes), an observer costs at most 104 bytes
 * beyond its stored request and token.
 *
 * The index by token is singly linked: it changes only when observers come
 * and go. The index by MID changes with every NON (out of the old MID's
 * chain, into the new one's), so it is doubly linked: a walk to find the
 * predecessor would touch, most of the time, the record of an observer
 * notified a round ago, a cache miss per notification that measured 5% of
 * the server's time at 10,000 observers. */
struct coap_subscription_t {
  coap_subscription_t *tok_next;        /* chain of ctx obs.by_token */
  coap_subscription_t *mid_next;        /* chain of ctx obs.by_mid */
  coap_subscription_t **mid_pprev;      /* what points at us there, or NULL */
  coap_subscription_t *r_prev, *r_next; /* the resource's observers */
  coap_subscription_t *s_prev, *s_next; /* the session's observers */
  coap_resource_t *resource;            /* borrowed: deleting it ends us */
  pt_exchange *pending; /* CON notification in flight, or NULL */
  uint32_t last_con;    /* seconds: last CON sent, or the registration */
  uint16_t non_mid;     /* MID of the last NON sent, if in by_mid */
  uint16_t q_off;       /* QUERY_AT: the value's offset from the token */
  uint8_t q_len;        /* QUERY_AT: its length */
  uint8_t q_how;        /* how the query is had (query_how) */
  uint8_t non_run;      /* NONs sent since the last CON */
};

/* The query a handler sees (the Uri-Query options joined with '&', with
 * the bytes a query may not hold percent-encoded: pt_uri_query_of_options)
 * is rebuilt from the stored request for each notification; observer_new()
 * finds out how much work that is. */
enum query_how {
  QUERY_NONE,   /* no Uri-Query: no query */
  QUERY_AT,     /* one option that needs no encoding: its bytes, copied */
  QUERY_REBUILD /* anything else: pt_uri_query_of_options() */
};

_Static_assert(sizeof(void *) != 8 || sizeof(coap_subscription_t) <= 88,
               "an observer record grew: see BENCHMARKS.md, memory per "
               "observer");

#define OBS_REQUEST(o) ((coap_pdu_t *)((o) + 1))
#define OBS_SEQ_MASK 0xFFFFFFu /* Observe values are 24 bits (RFC 7641 4.4) */

/* The session an observer borrows (freeing it ends the observer): the
 * stored request's, which observer_new() sets. */
static coap_session_t *obs_session(const coap_subscription_t *o) {
  return OBS_REQUEST(o)->session;
}

/* Seconds of @now, for last_con: 32 bits of seconds last 136 years. */
static uint32_t secs(coap_tick_t now) {
  return (uint32_t)(now / COAP_TICKS_PER_SECOND);
}

/* ---- the two indexes (observe.h, pt_obs_index) ---------------------------
 */

#define IDX_MIN_BITS 4
#define IDX_LOAD 2 /* grow past 2 observers a bucket */

/* Which index: the chain link and the hash of its key differ. */
typedef enum { BY_TOKEN, BY_MID } idx_kind;

static coap_subscription_t **link_of(coap_subscription_t *o, idx_kind k) {
  return k == BY_TOKEN ? &o->tok_next : &o->mid_next;
}

static uint32_t tok_hash(const coap_session_t *s, coap_bin_const_t t) {
  return pt_hash_bytes(t.s, t.length, s->hash ^ 0x0b5e7e);
}

static uint32_t mid_hash(const coap_session_t *s, uint16_t mid) {
  return pt_hash_mix(s->hash ^ 0x0b5e7e, mid);
}

static uint32_t hash_of(const coap_subscription_t *o, idx_kind k) {
  const coap_session_t *s = obs_session(o);
  return k == BY_TOKEN ? tok_hash(s, coap_pdu_get_token(OBS_REQUEST(o)))
                       : mid_hash(s, o->non_mid);
}

static coap_subscription_t **bucket(const pt_obs_index *x, uint32_t h) {
  return &x->buckets[h & ((1u << x->bits) - 1)];
}

/* Links @o first into the chain at @b. */
static void push(coap_subscription_t **b, idx_kind k, coap_subscription_t *o) {
  coap_subscription_t *first = *b;
  *link_of(o, k) = first;
  *b = o;
  if (k == BY_MID) {
    o->mid_pprev = b;
    if (first)
      first->mid_pprev = &o->mid_next;
  }
}

/* Re-links every observer into 2^@bits buckets. -1 (the index unchanged)
 * when the array cannot be allocated. */
static int idx_resize(pt_obs_index *x, idx_kind k, uint32_t bits) {
  coap_subscription_t **nb = calloc((size_t)1 << bits, sizeof(*nb));
  if (!nb)
    return -1;
  for (size_t i = 0; x->buckets && i < ((size_t)1 << x->bits); i++) {
    coap_subscription_t *o = x->buckets[i], *next;
    for (; o; o = next) {
      next = *link_of(o, k);
      push(&nb[hash_of(o, k) & ((1u << bits) - 1)], k, o);
    }
  }
  free(x->buckets);
  x->buckets = nb;
  x->bits = bits;
  return 0;
}

/* Adds @o under its key. The array doubles when the load would pass
 * IDX_LOAD and halves, lazily here, when it has fallen below IDX_LOAD / 8
 * (so that a burst of departures returns the memory at the next
 * arrival). Returns 0, or -1 when there is no array at all. */
static int idx_insert(pt_obs_index *x, idx_kind k, coap_subscription_t *o) {
  size_t n = x->buckets ? (size_t)1 << x->bits : 0;
  if (!n)
    (void)idx_resize(x, k, IDX_MIN_BITS);
  else if (x->count + 1 > n * IDX_LOAD)
    (void)idx_resize(x, k, x->bits + 1); /* on failure: fuller, still fine */
  else if (x->bits > IDX_MIN_BITS && (x->count + 1) * 8 < n * IDX_LOAD)
    (void)idx_resize(x, k, x->bits - 1);
  if (!x->buckets)
    return -1;
  push(bucket(x, hash_of(o, k)), k, o);
  x->count++;
  return 0;
}

/* Takes @o (which is in @x) out: by token, a walk of its chain; by MID,
 * through mid_pprev. */
static void idx_remove(pt_obs_index *x, idx_kind k, coap_subscription_t *o) {
  if (k == BY_MID) {
    *o->mid_pprev = o->mid_next;
    if (o->mid_next)
      o->mid_next->mid_pprev = o->mid_pprev;
    o->mid_next = NULL;
    o->mid_pprev = NULL;
    x->count--;
    return;
  }
  coap_subscription_t **p = bucket(x, hash_of(o, k));
  while (*p && *p != o)
    p = link_of(*p, k);
  if (!*p)
    return; /* not reached: @o is in @x */
  *p = *link_of(o, k);
  *link_of(o, k) = NULL;
  x->count--;
}

static void idx_free(pt_obs_index *x) {
  free(x->buckets);
  x->buckets = NULL;
  x->bits = 0;
  x->count = 0;
}

/* ---- lookup ----------------------------------------------------------------
 */

static coap_subscription_t *find_observer(coap_session_t *s,
                                          coap_bin_const_t token) {
  pt_obs_index *x = &s->context->obs.by_token;
  if (!x->count)
    return NULL;
  coap_subscription_t *o = *bucket(x, tok_hash(s, token));
  for (; o; o = o->tok_next) {
    if (obs_session(o) != s)
      continue;
    coap_bin_const_t t = coap_pdu_get_token(OBS_REQUEST(o));
    if (coap_binary_equal(&t, &token))
      return o;
  }
  return NULL;
}

static coap_subscription_t *find_by_mid(coap_session_t *s, coap_mid_t mid) {
  pt_obs_index *x = &s->context->obs.by_mid;
  if (!x->count || mid < 0 || mid > 0xFFFF)
    return NULL;
  coap_subscription_t *o = *bucket(x, mid_hash(s, (uint16_t)mid));
  for (; o; o = o->mid_next)
    if (o->non_mid == (uint16_t)mid && obs_session(o) == s)
      return o;
  return NULL;
}

/* Visits every observer of @ctx once; @fn may free the one it is given
 * and no other. O(buckets + observers). */
static void each_observer(coap_context_t *ctx,
                          void (*fn)(coap_subscription_t *o, void *arg),
                          void *arg) {
  pt_obs_index *x = &ctx->obs.by_token;
  for (size_t i = 0; x->buckets && i < ((size_t)1 << x->bits); i++) {
    coap_subscription_t *o = x->buckets[i], *next;
    for (; o; o = next) {
      next = o->tok_next;
      fn(o, arg);
    }
  }
}

/* ---- observers ------------------------------------------------------------
 */

static void observer_free(coap_subscription_t *o) {
  coap_session_t *s = obs_session(o);
  coap_context_t *ctx = s->context;
  coap_resource_t *r = o->resource;
  pt_persist_observer_removed(s, o);
  idx_remove(&ctx->obs.by_token, BY_TOKEN, o);
  if (o->mid_pprev)
    idx_remove(&ctx->obs.by_mid, BY_MID, o);
  if (o->r_prev)
    o->r_prev->r_next = o->r_next;
  else
    r->obs.head = o->r_next;
  if (o->r_next)
    o->r_next->r_prev = o->r_prev;
  if (o->s_prev)
    o->s_prev->s_next = o->s_next;
  else
    s->observers = o->s_next;
  if (o->s_next)
    o->s_next->s_prev = o->s_prev;
  if (o->pending) /* the CON goes on being retransmitted, owned by no one */
    o->pending->sub = NULL;
  r->obs.count--;
  ctx->obs.count--;
  coap_log_debug("* %s: observer of '%.*s' removed\n", coap_session_str(s),
                 (int)r->uri_path->length, (const char *)r->uri_path->s);
  free(o);
}

/* Links @o into @r's observers: just before @near (the session's newest
 * observer) when that one observes @r too, else first. So the observers
 * of one session that registered one after another stay together in the
 * list, a round notifies them in a row, and the send path can hand the
 * kernel their notifications as one UDP GSO message (src/posix/io.c). */
static void resource_link(coap_resource_t *r, coap_subscription_t *o,
                          coap_subscription_t *near) {
  coap_subscription_t *at = near && near->resource == r ? near : r->obs.head;
  o->r_next = at;
  o->r_prev = at ? at->r_prev : NULL;
  if (o->r_prev)
    o->r_prev->r_next = o;
  else
    r->obs.head = o;
  if (at)
    at->r_prev = o;
}

/* Sets @o's q_how (and q_off, q_len) from its stored request. */
static void query_plan(coap_subscription_t *o) {
  const coap_pdu_t *req = OBS_REQUEST(o);
  size_t count, len = pt_uri_query_of_options(req, NULL, &count);
  o->q_how = count ? QUERY_REBUILD : QUERY_NONE;
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  if (count != 1 || !(opt = coap_check_option(req, COAP_OPTION_URI_QUERY, &it)))
    return;
  const uint8_t *v = coap_opt_value(opt);
  size_t off = (size_t)(v - req->token);
  if (len != coap_opt_length(opt) || len > UINT8_MAX || off > UINT16_MAX)
    return; /* encoding made it longer, or it does not fit the fields */
  o->q_how = QUERY_AT;
  o->q_off = (uint16_t)off;
  o->q_len = (uint8_t)len;
}

static coap_subscription_t *observer_new(coap_session_t *s, coap_resource_t *r,
                                         const coap_pdu_t *req,
                                         coap_tick_t now) {
  coap_context_t *ctx = s->context;
  coap_subscription_t *o = calloc(1, sizeof(*o) + pt_pdu_clone_size(req));
  if (!o)
    return NULL;
  pt_pdu_clone_into(req, OBS_REQUEST(o))->session = s;
  o->resource = r;
  o->last_con = secs(now);
  query_plan(o);
  if (idx_insert(&ctx->obs.by_token, BY_TOKEN, o) < 0) {
    free(o);
    return NULL;
  }
  resource_link(r, o, s->observers);
  o->s_next = s->observers;
  if (s->observers)
    s->observers->s_prev = o;
  s->observers = o;
  r->obs.count++;
  ctx->obs.count++;
  return o;
}

/* ---- sending ---------------------------------------------------------------
 */

/* RFC 7641 4.5: the server chooses the type; a CON at least every
 * COAP_OBS_MAX_NON notifications and every 24 hours, and a notification
 * that replaces a CON in flight stays a CON (4.5.2). */
static coap_pdu_type_t notify_type(const coap_subscription_t *o,
                                   coap_tick_t now) {
  /* RFC 8323 7.2: over TCP there is no CON or NON on the wire and nothing
   * to acknowledge; as a NON it is sent once and nothing is kept. */
  if (pt_session_reliable(obs_session(o)))
    return COAP_MESSAGE_NON;
  int flags = o->resource->flags;
  if ((flags & COAP_RESOURCE_FLAGS_NOTIFY_CON) || o->pending)
    return COAP_MESSAGE_CON;
  if (flags & COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS)
    return COAP_MESSAGE_NON;
  if (o->non_run + 1 >= COAP_OBS_MAX_NON ||
      secs(now) - o->last_con >= PT_OBS_CON_INTERVAL / COAP_TICKS_PER_SECOND)
    return COAP_MESSAGE_CON;
  return COAP_MESSAGE_NON;
}

/* Done with @pdu: the context's scratch PDU is free again, any other is
 * deleted. */
static void release(coap_context_t *ctx, coap_pdu_t *pdu) {
  if (pdu && pdu == ctx->obs.scratch)
    ctx->obs.scratch_busy = 0;
  else
    coap_delete_pdu(pdu);
}

/* Sends @pdu (ownership taken), a notification or final message for @o. */
static void send_to_observer(coap_subscription_t *o, coap_pdu_t *pdu,
                             coap_tick_t now) {
  coap_session_t *s = obs_session(o);
  coap_context_t *ctx = s->context;
  if (coap_pdu_get_type(pdu) == COAP_MESSAGE_CON && pdu == ctx->obs.scratch) {
    /* A handler made it a CON: the exchange keeps a copy of its own. */
    coap_pdu_t *own = pt_pdu_clone(pdu);
    release(ctx, pdu);
    if (!own)
      return;
    pdu = own;
  }
  if (coap_pdu_get_type(pdu) == COAP_MESSAGE_CON) {
    o->non_run = 0;
    o->last_con = secs(now);
    if (o->pending) { /* RFC 7641 4.5.2: the new one takes its place */
      pt_exchange_replace(o->pending, pdu, now);
      return;
    }
    pt_exchange *ex = pt_exchange_send_con(s, pdu, now);
    if (ex) {
      ex->sub = o;
      o->pending = ex;
    }
    return;
  }
  o->non_run++;
  if (o->mid_pprev)
    idx_remove(&ctx->obs.by_mid, BY_MID, o);
  o->non_mid = (uint16_t)coap_pdu_get_mid(pdu);
  (void)idx_insert(&ctx->obs.by_mid, BY_MID, o); /* or not found by an RST */
  pt_send_pdu(s, pdu);
  release(ctx, pdu);
}

/* The context's scratch PDU, emptied, for a NON notification; NULL when it
 * is in use (a handler's nested notification) or cannot be made. */
static coap_pdu_t *take_scratch(coap_context_t *ctx) {
  pt_obs_ctx *obs = &ctx->obs;
  if (obs->scratch_busy ||
      (!obs->scratch && !(obs->scratch = coap_pdu_init(0, 0, 0, 0))))
    return NULL;
  obs->scratch_busy = 1;
  return obs->scratch;
}

/* A new message of @type to @o's peer with its token, or NULL. With
 * @reuse, a NON is built in the context's scratch PDU (see release()). */
static coap_pdu_t *new_message(coap_subscription_t *o, coap_pdu_type_t type,
                               coap_pdu_code_t code, int reuse) {
  coap_session_t *s = obs_session(o);
  coap_pdu_t *pdu = NULL;
  size_t max = coap_session_max_pdu_size(s);
  if (reuse && type == COAP_MESSAGE_NON && (pdu = take_scratch(s->context))) {
    pt_pdu_clear(pdu, type, code, pt_session_next_mid(s));
    pdu->max_size = max;
  } else {
    pdu = coap_pdu_init(type, code, pt_session_next_mid(s), max);
  }
  coap_bin_const_t tok = coap_pdu_get_token(OBS_REQUEST(o));
  if (!pdu || !coap_add_token(pdu, tok.length, tok.s)) {
    release(s->context, pdu);
    return NULL;
  }
  pdu->session = s;
  return pdu;
}

static int add_observe(coap_pdu_t *pdu, uint32_t seq) {
  uint8_t buf[4];
  unsigned len = coap_encode_var_safe(buf, sizeof(buf), seq & OBS_SEQ_MASK);
  return pt_pdu_update_option(pdu, COAP_OPTION_OBSERVE, len, buf) != 0;
}

/* The observation ends with a message of @code (RFC 7641 3.2: an error
 * response removes the observer), unless the context is going away
 * quietly; then @o is freed. */
static void end_with(coap_subscription_t *o, coap_pdu_code_t code,
                     coap_pdu_type_t type, coap_tick_t now) {
  coap_context_t *ctx = obs_session(o)->context;
  if (!ctx->obs.no_final) {
    coap_pdu_t *pdu = new_message(o, type, code, 0);
    if (pdu)
      send_to_observer(o, pdu, now);
  }
  observer_free(o);
}

/* ---- notifying --------------------------------------------------------- */

/* 1 if @pdu's only Observe option is the one notify_one() put in, with
 * the value @val (@len bytes): the handler left it alone. A walk of its
 * own, as Observe comes first among a notification's few options. */
static int observe_is_ours(const coap_pdu_t *pdu, const uint8_t *val,
                           size_t len) {
  size_t n, at = 0;
  const uint8_t *opts = pt_pdu_opts(pdu, &n);
  uint32_t num = 0;
  pt_opt_hdr h;
  while (at < n && opts[at] != PT_PAYLOAD_MARKER &&
         pt_opt_decode(opts + at, n - at, &h) == 0) {
    num += h.delta;
    if (num > COAP_OPTION_OBSERVE)
      return 0;
    const uint8_t *v = opts + at + h.size;
    at += h.size + h.length;
    if (num < COAP_OPTION_OBSERVE)
      continue;
    if (h.length != len || (len && memcmp(v, val, len) != 0))
      return 0;
    /* A repeat would follow with an Option Delta nibble of 0. */
    return at >= n || opts[at] == PT_PAYLOAD_MARKER || (opts[at] >> 4) != 0;
  }
  return 0;
}

/* Calls @o's resource's handler for its stored request with the query as
 * the dispatcher built it at registration (on the stack when short).
 * Without memory for a long query the response is a 5.00, which ends the
 * observation as any error does. */
static void call_handler(const coap_subscription_t *o, coap_session_t *s,
                         coap_pdu_t *resp) {
  const coap_pdu_t *req = OBS_REQUEST(o);
  uint8_t stack[OBS_QUERY_STACK];
  coap_string_t q = {0, stack};
  uint8_t *heap = NULL;
  size_t count;
  if (o->q_how == QUERY_AT) {
    memcpy(stack, req->token + o->q_off, o->q_len);
    q.length = o->q_len;
  } else if (o->q_how == QUERY_REBUILD) {
    size_t len = pt_uri_query_of_options(req, NULL, &count);
    if (len >= sizeof(stack) && !(q.s = heap = malloc(len + 1))) {
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
      return;
    }
    q.length = pt_uri_query_of_options(req, q.s, &count);
  }
  q.s[q.length] = 0;
  pt_resource_call(o->resource, coap_pdu_get_code(req), s, req,
                   o->q_how == QUERY_NONE ? NULL : &q, resp);
  free(heap);
}

/* Calls the resource's handler with @o's stored request and sends what it
 * answers. Returns 0, or -1 when @o was removed. */
static int notify_one(coap_subscription_t *o, coap_tick_t now) {
  coap_session_t *s = obs_session(o);
  coap_context_t *ctx = s->context;
  coap_resource_t *r = o->resource;
  const coap_pdu_t *req = OBS_REQUEST(o);
  uint8_t obs[4];
  size_t obs_len =
      coap_encode_var_safe(obs, sizeof(obs), r->obs.seq & OBS_SEQ_MASK);
  coap_pdu_t *resp = new_message(o, notify_type(o, now), 0, 1);
  /* Observe goes in first, so that a body cut into blocks leaves room. */
  if (!resp || !pt_pdu_insert_option(resp, COAP_OPTION_OBSERVE, obs_len, obs)) {
    release(ctx, resp);
    return 0;
  }
  call_handler(o, s, resp);
  coap_pdu_code_t code = coap_pdu_get_code(resp);
  /* The usual notification: a 2.xx with nothing for the block layer to do
   * (pt_block_server_after() would not act) and our Observe as we put it:
   * it goes as it is. */
  if (COAP_RESPONSE_CLASS(code) == 2 && !ctx->blk_pending &&
      !ctx->blk_ack1_set && observe_is_ours(resp, obs, obs_len)) {
    send_to_observer(o, resp, now);
    return 0;
  }
  /* A large body is kept for the later blocks, which answer plain GETs
   * (RFC 7959 3.4): its template must not carry Observe. */
  pt_pdu_remove_option(resp, COAP_OPTION_OBSERVE);
  pt_block_server_after(s, req, resp, now);
  code = coap_pdu_get_code(resp);
  if (code == 0) { /* nothing to say now (e.g. a separate response later) */
    release(ctx, resp);
    return 0;
  }
  if (COAP_RESPONSE_CLASS(code) == 2 && add_observe(resp, r->obs.seq)) {
    send_to_observer(o, resp, now);
    return 0;
  }
  /* RFC 7641 3.2/4.2: a 4.xx/5.xx goes without Observe and ends it. */
  send_to_observer(o, resp, now);
  observer_free(o);
  return -1;
}

/* One round for @r: a new Observe value, then each observer once. The
 * resource is marked in a call so that a handler deleting it only
 * schedules the deletion. */
static void notify_resource(coap_resource_t *r, coap_tick_t now) {
  r->obs.seq = (r->obs.seq + 1) & OBS_SEQ_MASK;
  pt_persist_observe_number(r); /* every save_freq values */
  unsigned outer = r->in_call;
  r->in_call = 1;
  coap_subscription_t *o = r->obs.head, *next;
  for (; o; o = next) {
    next = o->r_next;
    notify_one(o, now);
  }
  r->in_call = outer;
  if (!outer && r->delete_pending) {
    r->delete_pending = 0;
    coap_delete_resource(r->context, r);
  }
}

static void dirty_unlink(coap_context_t *ctx, coap_resource_t *r) {
  if (!r->obs.dirty)
    return;
  if (r->obs.dirty_prev)
    r->obs.dirty_prev->obs.dirty_next = r->obs.dirty_next;
  else
    ctx->obs.dirty_head = r->obs.dirty_next;
  if (r->obs.dirty_next)
    r->obs.dirty_next->obs.dirty_prev = r->obs.dirty_prev;
  else
    ctx->obs.dirty_tail = r->obs.dirty_prev;
  r->obs.dirty_prev = r->obs.dirty_next = NULL;
  r->obs.dirty = 0;
}

/* The round timer: every resource dirty when it fired, once. Resources
 * made dirty by a handler during the round wait for the next tick. */
static void round_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)t;
  coap_resource_t *last = ctx->obs.dirty_tail;
  coap_resource_t *r;
  int stop = 0;
  while (!stop && (r = ctx->obs.dirty_head) != NULL) {
    stop = r == last;
    dirty_unlink(ctx, r);
    notify_resource(r, now);
  }
  if (ctx->obs.dirty_head)
    pt_timer_arm(ctx, &ctx->obs.timer, now + 1);
}

/* This build serves observations: links carry ";obs" for observable
 * resources (resource.c). */
int pt_observe_available(void) {
  return 1;
}

int coap_resource_notify_observers(coap_resource_t *r,
                                   const coap_string_t *query) {
  (void)query; /* every observer's own request is used */
  if (!r || !r->context || !r->observable || !r->obs.count)
    return 0;
  coap_context_t *ctx = r->context;
  if (!r->obs.dirty) {
    r->obs.dirty = 1;
    r->obs.dirty_prev = ctx->obs.dirty_tail;
    if (ctx->obs.dirty_tail)
      ctx->obs.dirty_tail->obs.dirty_next = r;
    else
      ctx->obs.dirty_head = r;
    ctx->obs.dirty_tail = r;
  }
  if (!pt_timer_armed(&ctx->obs.timer) &&
      pt_timer_arm(ctx, &ctx->obs.timer, pt_now()) < 0) {
    dirty_unlink(ctx, r);
    return 0;
  }
  return 1;
}

int coap_resource_set_dirty(coap_resource_t *r, const coap_string_t *query) {
  return coap_resource_notify_observers(r, query);
}

/* ---- the request path ---------------------------------------------------- */

/* The Observe option of @pdu: 1 with *@v set, or 0 when absent or longer
 * than its 3 bytes (RFC 7252 5.4.3: then it is unrecognized, and being
 * elective, ignored). */
static int observe_value(const coap_pdu_t *pdu, uint32_t *v) {
  coap_opt_iterator_t it;
  if (!pt_pdu_may_have(pdu, COAP_OPTION_OBSERVE))
    return 0; /* most requests: no iterator to set up */
  coap_opt_t *opt = coap_check_option(pdu, COAP_OPTION_OBSERVE, &it);
  if (!opt || coap_opt_length(opt) > 3)
    return 0;
  *v = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
  return 1;
}

static int is_observe_method(coap_pdu_code_t code) {
  return code == COAP_REQUEST_CODE_GET || code == COAP_REQUEST_CODE_FETCH;
}

/* 1 if a limit refuses a new observer of @r. */
static int limit_reached(coap_context_t *ctx, const coap_resource_t *r) {
  return (ctx->obs.max_total && ctx->obs.count >= ctx->obs.max_total) ||
         (ctx->obs.max_per_resource &&
          r->obs.count >= ctx->obs.max_per_resource);
}

void pt_observe_request_register(coap_session_t *s, coap_resource_t *r,
                                 const coap_pdu_t *req, coap_pdu_t *resp,
                                 coap_tick_t now) {
  uint32_t v;
  coap_pdu_code_t code = coap_pdu_get_code(resp);
  if (!r || code == 0 || !is_observe_method(coap_pdu_get_code(req)) ||
      !observe_value(req, &v) ||
      (v != COAP_OBSERVE_ESTABLISH && v != COAP_OBSERVE_CANCEL))
    return;
  coap_context_t *ctx = s->context;
  /* RFC 7641 4.1: one entry per (endpoint, token); a new registration
   * replaces the old, Observe: 1 (3.6) or an error response ends it. */
  coap_subscription_t *old = find_observer(s, coap_pdu_get_token(req));
  if (old)
    observer_free(old);
  if (v != COAP_OBSERVE_ESTABLISH || COAP_RESPONSE_CLASS(code) != 2 ||
      !r->observable || r->is_unknown || r->is_proxy || !r->context)
    return;
  if (limit_reached(ctx, r)) { /* 4.1: served as a plain GET */
    ctx->obs.refused++;
    coap_log_debug("* %s: observer limit reached\n", coap_session_str(s));
    return;
  }
  coap_subscription_t *o = observer_new(s, r, req, now);
  if (o && !add_observe(resp, r->obs.seq))
    observer_free(o); /* no room: the answer says "not observed" */
  else if (o)
    pt_persist_observer_added(s, o, req);
}

coap_subscription_t *pt_observe_restore(coap_session_t *s, coap_resource_t *r,
                                        const coap_pdu_t *req,
                                        coap_tick_t now) {
  coap_context_t *ctx = s->context;
  if (r->is_unknown || r->is_proxy || r->context != ctx)
    return NULL;
  coap_subscription_t *old = find_observer(s, coap_pdu_get_token(req));
  if (old)
    observer_free(old);
  if (limit_reached(ctx, r)) {
    ctx->obs.refused++;
    return NULL;
  }
  return observer_new(s, r, req, now);
}

typedef struct each_arg {
  pt_observe_each_fn fn;
  void *arg;
} each_arg;

static void each_one(coap_subscription_t *o, void *arg) {
  each_arg *e = arg;
  e->fn(e->arg, obs_session(o), OBS_REQUEST(o));
}

void pt_observe_each(coap_context_t *ctx, pt_observe_each_fn fn, void *arg) {
  each_arg e = {fn, arg};
  each_observer(ctx, each_one, &e);
}

/* ---- the message layer -------------------------------------------------- */

void pt_observe_exchange_gone(pt_exchange *ex) {
  if (ex->sub) {
    ex->sub->pending = NULL;
    ex->sub = NULL;
  }
}

void pt_observe_exchange_failed(pt_exchange *ex) {
  coap_subscription_t *o = ex->sub;
  if (!o)
    return;
  o->pending = NULL;
  ex->sub = NULL;
  observer_free(o); /* RFC 7641 4.5: the client is gone or not interested */
}

void pt_observe_rst(coap_session_t *s, coap_mid_t mid) {
  coap_subscription_t *o = find_by_mid(s, mid);
  if (o) /* RFC 7641 3.6: an RST to a notification deregisters */
    observer_free(o);
}

/* ---- lifetime ------------------------------------------------------------ */

void pt_observe_init(coap_context_t *ctx) {
  pt_timer_init(&ctx->obs.timer, round_fire);
  ctx->obs.max_total = PT_DEFAULT_MAX_OBSERVERS_TOTAL;
  ctx->obs.max_per_resource = PT_DEFAULT_MAX_OBSERVERS_PER_RESOURCE;
}

void pt_observe_resource_deleted(coap_resource_t *r) {
  coap_context_t *ctx = r->context;
  if (!ctx)
    return;
  coap_tick_t now = pt_now();
  while (r->obs.head)
    end_with(r->obs.head, COAP_RESPONSE_CODE_NOT_FOUND,
             notify_type(r->obs.head, now), now);
  dirty_unlink(ctx, r);
}

void pt_observe_session_freed(coap_session_t *s) {
  while (s->observers)
    observer_free(s->observers);
}

/* The context is going: one NON each, nothing kept to retransmit. */
static void end_quietly(coap_subscription_t *o, void *now) {
  end_with(o, COAP_RESPONSE_CODE_NOT_FOUND, COAP_MESSAGE_NON,
           *(coap_tick_t *)now);
}

void pt_observe_free_all(coap_context_t *ctx) {
  coap_tick_t now = pt_now();
  for (coap_session_t *s = ctx->clients; s; s = s->next)
    pt_observe_client_closing(s);
  each_observer(ctx, end_quietly, &now);
  while (ctx->obs.dirty_head)
    dirty_unlink(ctx, ctx->obs.dirty_head);
  pt_timer_cancel(ctx, &ctx->obs.timer);
  idx_free(&ctx->obs.by_token);
  idx_free(&ctx->obs.by_mid);
  coap_delete_pdu(ctx->obs.scratch);
  ctx->obs.scratch = NULL;
}

/* ---- limits (coap3/coap_petrel.h) ------------------------------------------
 */

void coap_petrel_context_set_max_observers_per_resource(coap_context_t *ctx,
                                                        size_t max) {
  if (ctx)
    ctx->obs.max_per_resource = max;
}

size_t
coap_petrel_context_get_max_observers_per_resource(const coap_context_t *ctx) {
  return ctx ? ctx->obs.max_per_resource : 0;
}

void coap_petrel_context_set_max_observers_total(coap_context_t *ctx,
                                                 size_t max) {
  if (ctx)
    ctx->obs.max_total = max;
}

size_t coap_petrel_context_get_max_observers_total(const coap_context_t *ctx) {
  return ctx ? ctx->obs.max_total : 0;
}

/* ---- client ----------------------------------------------------------------
 */

int pt_observe_is_registration(const coap_pdu_t *pdu) {
  uint32_t v;
  return is_observe_method(coap_pdu_get_code(pdu)) && observe_value(pdu, &v) &&
         v == COAP_OBSERVE_ESTABLISH;
}

/* RFC 7641 3.4: is V2 (arriving at T2) newer than V1 (at T1)? */
static int fresher(uint32_t v1, coap_tick_t t1, uint32_t v2, coap_tick_t t2) {
  const uint32_t half = 1u << 23;
  return (v1 < v2 && v2 - v1 < half) || (v1 > v2 && v1 - v2 > half) ||
         t2 > t1 + PT_OBS_REORDER_WINDOW;
}

/* How long @pdu is fresh (RFC 7252 5.10.5: Max-Age, 60 s when absent; a
 * value longer than its 4 bytes is unrecognized, so absent). */
static coap_tick_t max_age_ticks(const coap_pdu_t *pdu) {
  coap_opt_iterator_t it;
  coap_opt_t *opt = coap_check_option(pdu, COAP_OPTION_MAXAGE, &it);
  uint64_t secs = COAP_DEFAULT_MAX_AGE;
  if (opt && coap_opt_length(opt) <= 4)
    secs = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
  return (coap_tick_t)(secs * COAP_TICKS_PER_SECOND);
}

int pt_observe_client_response(pt_exchange *ex, const coap_pdu_t *pdu,
                               coap_tick_t now) {
  uint32_t v;
  if (COAP_RESPONSE_CLASS(coap_pdu_get_code(pdu)) != 2 ||
      !observe_value(pdu, &v)) {
    ex->observe = 0; /* RFC 7641 3.2: not (or no longer) observed */
    return 1;
  }
  v &= OBS_SEQ_MASK;
  /* RFC 8323 7.1: a reliable transport delivers in order, so the Observe
   * value (possibly empty) is ignored there: every notification is fresh. */
  if (ex->obs_seen && !pt_session_reliable(ex->session) &&
      !fresher(ex->obs_seq, ex->obs_time, v, now))
    return 0;
  ex->obs_seen = 1;
  ex->obs_seq = v;
  ex->obs_time = now;
  ex->obs_expire =
      now + max_age_ticks(pdu) + pt_session_initial_timeout(ex->session);
  return 1;
}

void pt_observe_client_expired(pt_exchange *ex, coap_tick_t now) {
  coap_session_t *s = ex->session;
  if (!ex->observe || s->closing)
    return;
  coap_log_debug("* %s: notification no longer fresh: registering again\n",
                 coap_session_str(s));
  /* The answer to a registration starts afresh: it is taken whatever its
   * Observe value, as the server may have restarted. */
  ex->obs_seen = 0;
  pt_exchange_reregister(ex, now);
}

/* A GET/FETCH like @orig (same token and options, FETCH body too) with
 * Observe: 1 (RFC 7641 3.6), or NULL. */
static coap_pdu_t *cancel_request(coap_session_t *s, const coap_pdu_t *orig,
                                  coap_pdu_type_t type) {
  static const coap_option_num_t skip[] = {
      COAP_OPTION_OBSERVE, COAP_OPTION_BLOCK1, COAP_OPTION_SIZE1};
  coap_pdu_t *p =
      coap_pdu_init(type, coap_pdu_get_code(orig), pt_session_next_mid(s),
                    coap_session_max_pdu_size(s));
  coap_bin_const_t tok = coap_pdu_get_token(orig);
  uint8_t one = COAP_OBSERVE_CANCEL;
  size_t len = 0;
  const uint8_t *data = NULL;
  if (!p || !coap_add_token(p, tok.length, tok.s) ||
      !pt_block_copy_options(p, orig, skip, sizeof(skip) / sizeof(skip[0])) ||
      !pt_pdu_insert_option(p, COAP_OPTION_OBSERVE, 1, &one) ||
      (coap_get_data(orig, &len, &data) && len &&
       !coap_add_data(p, len, data))) {
    coap_delete_pdu(p);
    return NULL;
  }
  p->session = s;
  return p;
}

int coap_cancel_observe(coap_session_t *session, coap_binary_t *token,
                        coap_pdu_type_t message_type) {
  if (!session || !token || (token->length && !token->s) ||
      (message_type != COAP_MESSAGE_CON && message_type != COAP_MESSAGE_NON))
    return 0;
  coap_bin_const_t t = {token->length, token->s};
  pt_exchange *ex = pt_exchange_by_token(session, &t);
  if (!ex || !ex->observe)
    return 0;
  coap_pdu_t *p = cancel_request(session, ex->pdu, message_type);
  if (!p)
    return 0;
  ex->observe = 0;
  /* Same token: the new request's exchange supersedes the observation's. */
  return pt_exchange_send(session, p, pt_now()) != COAP_INVALID_MID;
}

void pt_observe_client_closing(coap_session_t *s) {
  if (s->no_observe_cancel || s->closing)
    return;
  pt_exchange *ex = s->exchanges, *next;
  /* O(exchanges of this session), once when it closes. */
  for (; ex; ex = next) {
    next = ex->next;
    if (!ex->observe)
      continue;
    coap_pdu_t *p = cancel_request(s, ex->pdu, COAP_MESSAGE_NON);
    ex->observe = 0;
    if (p) { /* sent once: the session is going, nothing is kept */
      pt_send_pdu(s, p);
      coap_delete_pdu(p);
    }
  }
}

/* ---- persistence (persist.c) ---------------------------------------------
 */

void coap_persist_set_observe_num(coap_resource_t *resource,
                                  uint32_t observe_num) {
  if (resource)
    resource->obs.seq = observe_num & OBS_SEQ_MASK;
}
