/*
 * async.c -- separate responses: coap_register_async() and friends
 * (RFC 7252 section 5.2.2; the seed page coap_async(3)).
 *
 * Life of an async: the request handler registers it and returns without a
 * response code, so the CON gets an Empty ACK (request.c). When its timer
 * fires, the stored copy of the request is dispatched again as a separate
 * request: the handler finds the async with coap_find_async(), fills in the
 * response, and the response goes out as a CON (retransmitted until ACKed)
 * or a NON with a fresh MID. The async is freed when that handler returns.
 */
#include <pthread.h>
#include <stdlib.h>

#include "async.h"

#include "context.h"
#include "exchange.h"
#include "io.h"
#include "pdu.h"
#include "recv.h"
#include "session.h"

/* ---- lookup --------------------------------------------------------------- */

typedef struct async_key {
  const coap_session_t *session;
  coap_bin_const_t token;
} async_key;

static uint32_t async_hash(const coap_session_t *s, coap_bin_const_t token) {
  return pt_hash_bytes(token.s, token.length, s->hash ^ 0x5eed);
}

static int async_eq(const pt_hash_node *n, const void *key) {
  const coap_async_t *a = PT_CONTAINER_OF(n, coap_async_t, by_token);
  const async_key *k = key;
  if (a->session != k->session)
    return 0;
  coap_bin_const_t t = coap_pdu_get_token(a->request);
  return coap_binary_equal(&t, &k->token);
}

coap_async_t *coap_find_async(coap_session_t *session, coap_bin_const_t token) {
  if (!session || (token.length && !token.s))
    return NULL;
  async_key k = {session, token};
  pt_hash_node *n = pt_hashmap_find(&session->context->asyncs,
                                    async_hash(session, token), async_eq, &k);
  return n ? PT_CONTAINER_OF(n, coap_async_t, by_token) : NULL;
}

int coap_async_is_supported(void) {
  return 1;
}

/* ---- threads -------------------------------------------------------------- */

static int on_loop_thread(coap_context_t *ctx) {
  pthread_t loop = __atomic_load_n(&ctx->loop_thread, __ATOMIC_ACQUIRE);
  return pthread_equal(loop, pthread_self());
}

/* Caller holds async_lock. */
static void queue_unlink(coap_context_t *ctx, coap_async_t *a) {
  if (!a->queued)
    return;
  if (a->q_prev)
    a->q_prev->q_next = a->q_next;
  else
    ctx->async_q_head = a->q_next;
  if (a->q_next)
    a->q_next->q_prev = a->q_prev;
  a->q_prev = a->q_next = NULL;
  a->queued = 0;
}

/* ---- scheduling ------------------------------------------------------------- */

/* Delay 0 means "wait until told": the timer is disarmed. */
static void apply_delay(coap_async_t *a, coap_tick_t delay, coap_tick_t now) {
  coap_context_t *ctx = a->session->context;
  if (a->firing)
    return; /* its handler is running: it will be freed on return */
  if (delay == 0)
    pt_timer_cancel(ctx, &a->timer);
  else
    pt_timer_arm(ctx, &a->timer, now + delay);
}

/* A change asked for by another thread: queued, and the loop woken. */
static void post_delay(coap_async_t *a, coap_tick_t delay) {
  coap_context_t *ctx = a->session->context;
  pthread_mutex_lock(&ctx->async_lock);
  a->q_delay = delay;
  if (!a->queued) {
    a->queued = 1;
    a->q_prev = NULL;
    a->q_next = ctx->async_q_head;
    if (ctx->async_q_head)
      ctx->async_q_head->q_prev = a;
    ctx->async_q_head = a;
  }
  pthread_mutex_unlock(&ctx->async_lock);
  pt_io_wake(ctx);
}

void pt_async_drain(coap_context_t *ctx) {
  coap_tick_t now = pt_now();
  pthread_mutex_lock(&ctx->async_lock);
  while (ctx->async_q_head) {
    coap_async_t *a = ctx->async_q_head;
    coap_tick_t delay = a->q_delay;
    queue_unlink(ctx, a);
    apply_delay(a, delay, now);
  }
  pthread_mutex_unlock(&ctx->async_lock);
}

static void set_delay(coap_async_t *a, coap_tick_t delay) {
  if (!a || !a->session)
    return;
  if (on_loop_thread(a->session->context))
    apply_delay(a, delay, pt_now());
  else
    post_delay(a, delay);
}

void coap_async_set_delay(coap_async_t *async, coap_tick_t delay) {
  set_delay(async, delay);
}

/* "Expires the delay": a delay of one tick, so the handler runs on the
 * next pass of the loop rather than inside the caller. */
void coap_async_trigger(coap_async_t *async) {
  set_delay(async, 1);
}

void coap_async_set_app_data(coap_async_t *async, void *app_data) {
  if (async)
    __atomic_store_n(&async->app_data, app_data, __ATOMIC_RELEASE);
}

void *coap_async_get_app_data(const coap_async_t *async) {
  return async ? __atomic_load_n(&async->app_data, __ATOMIC_ACQUIRE) : NULL;
}

/* ---- lifetime ---------------------------------------------------------- */

static void async_destroy(coap_async_t *a) {
  coap_session_t *s = a->session;
  coap_context_t *ctx = s->context;
  pt_timer_cancel(ctx, &a->timer);
  if (a->queued) {
    pthread_mutex_lock(&ctx->async_lock);
    queue_unlink(ctx, a);
    pthread_mutex_unlock(&ctx->async_lock);
  }
  if (pt_hashmap_contains(&a->by_token)) {
    pt_hashmap_remove(&ctx->asyncs, &a->by_token);
    ctx->async_count--;
    s->async_count--;
    if (a->prev)
      a->prev->next = a->next;
    else
      s->asyncs = a->next;
    if (a->next)
      a->next->prev = a->prev;
  }
  if (a->firing) { /* freed from its own handler: finished after return */
    a->freed = 1;
    return;
  }
  free(a); /* the request copy lives in the same block */
}

void coap_free_async(coap_session_t *session, coap_async_t *async) {
  if (!session || !async || async->session != session)
    return;
  async_destroy(async);
}

void pt_async_purge_session(coap_session_t *s) {
  while (s->asyncs)
    async_destroy(s->asyncs);
}

/* ---- firing ------------------------------------------------------------ */

static void async_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  coap_async_t *a = PT_CONTAINER_OF(t, coap_async_t, timer);
  coap_session_t *s = coap_session_reference(a->session);
  (void)ctx;
  a->firing = 1;
  pt_request_dispatch(s, a->request, NULL, 1, now);
  a->firing = 0;
  if (a->freed) { /* the handler freed it: already unlinked */
    free(a);
  } else {
    async_destroy(a); /* removed when the delayed handler returns */
  }
  coap_session_release(s);
}

static int is_request_code(coap_pdu_code_t code) {
  return code >= 1 && code <= 31;
}

coap_async_t *coap_register_async(coap_session_t *session,
                                  const coap_pdu_t *request,
                                  coap_tick_t delay) {
  if (!session || !request || !is_request_code(coap_pdu_get_code(request)))
    return NULL;
  coap_context_t *ctx = session->context;
  coap_bin_const_t token = coap_pdu_get_token(request);
  if (coap_find_async(session, token)) {
    coap_log_debug("coap_register_async: token already registered\n");
    return NULL;
  }
  if ((ctx->max_async_total && ctx->async_count >= ctx->max_async_total) ||
      (ctx->max_async_per_session &&
       session->async_count >= ctx->max_async_per_session)) {
    coap_log_debug("coap_register_async: limit reached\n");
    return NULL;
  }
  /* One allocation: the async, then its copy of the request (token,
   * options and payload). */
  coap_async_t *a = calloc(1, sizeof(*a) + pt_pdu_clone_size(request));
  if (!a)
    return NULL;
  a->request = pt_pdu_clone_into(request, a + 1);
  a->request->session = session;
  pt_hash_node_init(&a->by_token);
  pt_timer_init(&a->timer, async_fire);
  a->session = session;
  if (pt_hashmap_insert(&ctx->asyncs, &a->by_token,
                        async_hash(session, token)) < 0) {
    free(a);
    return NULL;
  }
  ctx->async_count++;
  session->async_count++;
  a->next = session->asyncs;
  if (session->asyncs)
    session->asyncs->prev = a;
  session->asyncs = a;
  if (delay)
    apply_delay(a, delay, pt_now());
  return a;
}
