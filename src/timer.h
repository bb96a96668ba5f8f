/*
 * timer.h -- one-shot timers on the context's min-heap (internal).
 *
 * Every deadline the library keeps (a retransmission, an idle session, a
 * pending async, an expiring block transfer) is a pt_timer embedded in its
 * owner, so there is no per-pass scan of anything: the loop asks the heap
 * for the earliest deadline and fires only what is due. A fired timer is
 * out of the heap before its callback runs, so the callback may re-arm it
 * or free its owner. Pure bookkeeping: the caller supplies `now`.
 */
#ifndef PT_TIMER_H
#define PT_TIMER_H

#include "coap3/coap.h"

#include "heap.h"

typedef struct pt_timer pt_timer;
typedef void (*pt_timer_fn)(coap_context_t *ctx, pt_timer *timer,
                            coap_tick_t now);

struct pt_timer {
  pt_heap_node node;
  pt_timer_fn fire;
};

/* Prepares @t (not armed). */
void pt_timer_init(pt_timer *t, pt_timer_fn fire);

/* Arms or re-arms @t to fire at @deadline. Returns 0, or -1 when out of
 * memory (the timer is then not armed). */
int pt_timer_arm(coap_context_t *ctx, pt_timer *t, coap_tick_t deadline);

/* Disarms @t; harmless if it is not armed. */
void pt_timer_cancel(coap_context_t *ctx, pt_timer *t);

/* 1 if @t is armed. */
int pt_timer_armed(const pt_timer *t);

/* Fires every timer due at @now, in deadline order. Returns the earliest
 * deadline still armed, or 0 when none is. */
coap_tick_t pt_timers_run(coap_context_t *ctx, coap_tick_t now);

/* The earliest armed deadline, or 0 when none is. */
coap_tick_t pt_timers_next(const coap_context_t *ctx);

#endif /* PT_TIMER_H */
