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
#include "link.h"
#include "pdu.h"
#include "recv.h"
#include "session.h"
#include "tcp.h"

/* The request copy that follows the async in its allocation. */
#define ASYNC_REQUEST(a) ((coap_pdu_t *)((a) + 1))

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
  coap_bin_const_t t = coap_pdu_get_token(ASYNC_REQUEST(a));
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

/* A change asked for by another thread: posted, and the loop woken. A
 * second change before the loop has seen the first replaces it. */
static void post_delay(coap_async_t *a, coap_tick_t delay) {
  coap_context_t *ctx = a->session->context;
  pthread_mutex_lock(&ctx->async_lock);
  pt_async_post *p = a->post;
  if (!p && (p = malloc(sizeof(*p))) != NULL) {
    p->async = a;
    p->next = ctx->async_posts;
    ctx->async_posts = p;
    a->post = p;
  }
  if (p)
    p->delay = delay;
  pthread_mutex_unlock(&ctx->async_lock);
  if (!p) {
    coap_log_err("coap_async: out of memory: a trigger is lost\n");
    return;
  }
  pt_io_wake(ctx);
}

/* Takes the posted changes under the lock, then applies them: only this
 * (the loop) thread frees asyncs, so each one posted is still alive. */
void pt_async_drain(coap_context_t *ctx) {
  coap_tick_t now = pt_now();
  pthread_mutex_lock(&ctx->async_lock);
  pt_async_post *list = ctx->async_posts;
  ctx->async_posts = NULL;
  for (pt_async_post *p = list; p; p = p->next)
    if (p->async)
      p->async->post = NULL;
  pthread_mutex_unlock(&ctx->async_lock);
  while (list) {
    pt_async_post *p = list;
    list = p->next;
    if (p->async)
      apply_delay(p->async, p->delay, now);
    free(p);
  }
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
  pthread_mutex_lock(&ctx->async_lock); /* a worker may be posting */
  if (a->post)
    a->post->async = NULL; /* the drain will skip it */
  a->post = NULL;
  pthread_mutex_unlock(&ctx->async_lock);
  if (pt_hashmap_contains(&a->by_token)) {
    pt_hashmap_remove(&ctx->asyncs, &a->by_token);
    ctx->async_count--;
    if (--s->async_count == 0 && pt_session_link(s)->settled)
      pt_session_link(s)->settled(s); /* TCP: a Custody Pong may go */
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
  pt_request_dispatch(s, ASYNC_REQUEST(a), NULL, 1, now);
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
  pt_pdu_clone_into(request, ASYNC_REQUEST(a))->session = session;
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
