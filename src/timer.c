/*
 * timer.c -- one-shot timers on the context's min-heap.
 */
#include "timer.h"

#include "context.h"
#include "io.h"

void pt_timer_init(pt_timer *t, pt_timer_fn fire) {
  pt_heap_node_init(&t->node);
  t->fire = fire;
}

int pt_timer_arm(coap_context_t *ctx, pt_timer *t, coap_tick_t deadline) {
  if (pt_heap_update(&ctx->timers, &t->node, deadline) < 0)
    return -1;
  /* Armed by the application between two passes of the loop: whoever
   * waits on the context's fd must wake for it. */
  if (!ctx->in_io_process && pt_heap_min(&ctx->timers) == &t->node)
    pt_io_deadline_changed(ctx, deadline);
  return 0;
}

void pt_timer_cancel(coap_context_t *ctx, pt_timer *t) {
  pt_heap_remove(&ctx->timers, &t->node);
}

int pt_timer_armed(const pt_timer *t) {
  return pt_heap_contains(&t->node);
}

coap_tick_t pt_timers_next(const coap_context_t *ctx) {
  const pt_heap_node *n = pt_heap_min(&ctx->timers);
  return n ? n->deadline : 0;
}

coap_tick_t pt_timers_run(coap_context_t *ctx, coap_tick_t now) {
  for (;;) {
    pt_heap_node *n = pt_heap_min(&ctx->timers);
    if (!n || n->deadline > now)
      return n ? n->deadline : 0;
    pt_heap_pop(&ctx->timers);
    pt_timer *t = PT_CONTAINER_OF(n, pt_timer, node);
    t->fire(ctx, t, now);
  }
}
