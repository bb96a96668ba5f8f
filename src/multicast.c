/*
 * multicast.c -- serving requests sent to a multicast group (RFC 7252
 * section 8): which are taken, which answers are suppressed, and the
 * leisure delay. The rules are listed in multicast.h.
 */
#include "multicast.h"

#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "pdu.h"
#include "plimits.h"
#include "prng.h"
#include "resource.h"
#include "session.h"
#include "timer.h"

/* An answer waiting for its random point in the leisure period. */
typedef struct pt_mcast_delayed {
  pt_timer timer;
  struct pt_mcast_delayed *prev, *next; /* context->mcast_delayed */
  coap_session_t *session;              /* holds a reference */
  coap_address_t local;                 /* the group the request was sent to */
  int ifindex;                          /* the interface it came in over */
  size_t len;
  uint8_t data[]; /* the answer's datagram */
} pt_mcast_delayed;

int pt_mcast_arrived(const coap_session_t *s) {
  return s->type == COAP_SESSION_TYPE_SERVER && coap_is_mcast(&s->local);
}

int pt_mcast_refused(const uint8_t *data, size_t len) {
  if (len < 4)
    return 1;
  unsigned type = (data[0] >> 4) & 3, code = data[1];
  return type != COAP_MESSAGE_NON || code == 0 || (code >> 5) != 0;
}

/* The COAP_RESOURCE_FLAGS_* that decide for @r: its own with
 * coap_mcast_per_resource(), else none of the LIB_* bits (the defaults). */
static int flags_for(const coap_context_t *ctx, const coap_resource_t *r) {
  if (!ctx->mcast_per_resource || !r)
    return COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT;
  return r->flags;
}

int pt_mcast_resource_ok(const coap_context_t *ctx, const coap_resource_t *r) {
  return (flags_for(ctx, r) & COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT) != 0;
}

/* RFC 7967 table 2: the No-Response bit for response class @cls. */
static unsigned noresp_bit(unsigned cls) {
  return cls == 2 ? 2u : cls == 4 ? 8u : cls == 5 ? 16u : 0u;
}

/* 1 if answer @resp to @req must not be sent (@library: no handler made it). */
static int suppressed(int flags, int library, const coap_pdu_t *req,
                      const coap_pdu_t *resp) {
  coap_pdu_code_t code = coap_pdu_get_code(resp);
  unsigned cls = code >> 5;
  coap_opt_iterator_t it;
  coap_opt_t *nr = coap_check_option(req, COAP_OPTION_NORESPONSE, &it);
  if (nr) /* the client said what it wants: that alone decides */
    return (coap_decode_var_bytes(coap_opt_value(nr), coap_opt_length(nr)) &
            noresp_bit(cls)) != 0;
  size_t len = 0;
  const uint8_t *data;
  int empty = !coap_get_data(resp, &len, &data) || len == 0;
  if (code == COAP_RESPONSE_CODE_CONTENT && empty &&
      (library || (flags & COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_05)))
    return 1;
  if (cls == 2)
    return (flags & COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_XX) != 0;
  if (cls == 4)
    return !(flags & COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_SUPPRESS_4_XX);
  if (cls == 5)
    return !(flags & COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_SUPPRESS_5_XX);
  return 0;
}

/* ---- the leisure delay (RFC 7252 8.2) ------------------------------------ */

static void delayed_unlink(coap_context_t *ctx, pt_mcast_delayed *d) {
  if (d->prev)
    d->prev->next = d->next;
  else
    ctx->mcast_delayed = d->next;
  if (d->next)
    d->next->prev = d->prev;
  ctx->mcast_delayed_count--;
}

static void delayed_free(coap_context_t *ctx, pt_mcast_delayed *d) {
  pt_timer_cancel(ctx, &d->timer);
  delayed_unlink(ctx, d);
  coap_session_release(d->session);
  free(d);
}

/* Sends the answer from the address its request went to: the session's
 * local address may have moved on with later datagrams. */
static void delayed_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  pt_mcast_delayed *d = PT_CONTAINER_OF(t, pt_mcast_delayed, timer);
  coap_session_t *s = d->session;
  (void)now;
  if (!s->closing) {
    coap_address_t local = s->local;
    int ifindex = s->ifindex;
    s->local = d->local;
    s->ifindex = d->ifindex;
    pt_send_bytes(s, d->data, d->len);
    s->local = local;
    s->ifindex = ifindex;
  }
  delayed_free(ctx, d);
}

/* The session's DEFAULT_LEISURE in ticks. */
static coap_tick_t leisure_ticks(const coap_session_t *s) {
  uint64_t ms = s->default_leisure.integer_part * 1000u +
                s->default_leisure.fractional_part;
  return (coap_tick_t)(ms * COAP_TICKS_PER_SECOND / 1000u);
}

static void send_later(coap_session_t *s, const uint8_t *data, size_t len,
                       coap_tick_t at) {
  coap_context_t *ctx = s->context;
  if (ctx->mcast_delayed_count >= PT_MCAST_MAX_DELAYED) {
    coap_log_debug("* %s: multicast answer dropped (%u delayed)\n",
                   coap_session_str(s), (unsigned)PT_MCAST_MAX_DELAYED);
    return;
  }
  pt_mcast_delayed *d = malloc(sizeof(*d) + len);
  if (!d)
    return;
  pt_timer_init(&d->timer, delayed_fire);
  d->session = coap_session_reference(s);
  d->local = s->local;
  d->ifindex = s->ifindex;
  d->len = len;
  memcpy(d->data, data, len);
  d->prev = NULL;
  d->next = ctx->mcast_delayed;
  if (d->next)
    d->next->prev = d;
  ctx->mcast_delayed = d;
  ctx->mcast_delayed_count++;
  if (pt_timer_arm(ctx, &d->timer, at) < 0)
    delayed_free(ctx, d);
}

void pt_mcast_respond(coap_session_t *s, const coap_pdu_t *req,
                      coap_pdu_t *resp, const coap_resource_t *r,
                      coap_tick_t now) {
  int flags = flags_for(s->context, r);
  const uint8_t *data;
  size_t len;
  if (coap_pdu_get_code(resp) == 0 || suppressed(flags, r == NULL, req, resp))
    return;
  if (!pt_pdu_wire(resp, &data, &len))
    return;
  coap_tick_t leisure = leisure_ticks(s);
  if ((flags & COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS) || !leisure)
    pt_send_bytes(s, data, len);
  else /* a random point within the leisure period */
    send_later(s, data, len, now + pt_prng_below(leisure));
}

void pt_mcast_free_all(coap_context_t *ctx) {
  while (ctx->mcast_delayed)
    delayed_free(ctx, ctx->mcast_delayed);
}
