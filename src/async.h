/*
 * async.h -- separate responses (internal; the public API is
 * coap3/coap_async.h).
 *
 * A pending async is found by (session, token) with one hash probe and
 * waits on its own timer in the context's heap, so neither a datagram nor
 * a pass of the loop ever walks the pending asyncs, however many there are.
 *
 * Threads: coap_async_trigger() and coap_async_set_delay() called from any
 * thread other than the loop's put the async on a mutex-protected queue
 * and wake the loop through its eventfd; the loop thread applies queued
 * changes when it wakes. Called on the loop thread they apply at once.
 */
#ifndef PT_ASYNC_H
#define PT_ASYNC_H

#include "coap3/coap.h"

#include "hashmap.h"
#include "timer.h"

/* A trigger or delay change made by another thread, waiting for the loop
 * (in the context's list, guarded by its async lock). */
typedef struct pt_async_post {
  struct pt_async_post *next;
  coap_async_t *async;         /* NULL once the async is gone */
  coap_tick_t delay;
} pt_async_post;

/* An async is one allocation: this header, then its copy of the request
 * (see ASYNC_REQUEST in async.c). */
struct coap_async_t {
  pt_hash_node by_token;       /* context asyncs by (session, token) */
  pt_timer timer;              /* when the delayed handler runs */
  coap_session_t *session;     /* borrowed: the session frees its asyncs */
  coap_async_t *prev, *next;   /* the session's asyncs */
  void *app_data;              /* the application's; accessed atomically */
  pt_async_post *post;         /* pending change from another thread, or
                                  NULL (guarded by the async lock) */
  uint8_t firing;              /* its handler is running */
  uint8_t freed;               /* coap_free_async() called while firing */
};

/* Frees every async of @session (it is closing). */
void pt_async_purge_session(coap_session_t *session);

/* Applies the changes other threads queued (loop thread). */
void pt_async_drain(coap_context_t *ctx);

#endif /* PT_ASYNC_H */
