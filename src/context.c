/*
 * context.c -- creating and freeing a context, its settings and the
 * application's handlers.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "dedup.h"

#include "async.h"
#include "block.h"
#include "cache.h"
#include "clock.h"
#include "dtls.h"
#include "exchange.h"
#include "ext_token.h"
#include "io.h"
#include "multicast.h"
#include "observe.h"
#include "plimits.h"
#include "pdu.h"
#include "resource.h"
#include "session.h"

coap_tick_t pt_now(void) {
  return pt_clock_now();
}

static ssize_t send_unavailable(coap_session_t *s, const uint8_t *d, size_t n) {
  (void)s, (void)d, (void)n;
  return -1;
}

/* The parts of a context that need no operating-system resources; tests
 * of the sans-I/O core build contexts with this and a fake send. */
coap_context_t *pt_context_new_detached(void) {
  coap_context_t *ctx = calloc(1, sizeof(*ctx));
  if (!ctx)
    return NULL;
  pt_hashmap_init(&ctx->sessions);
  pt_hashmap_init(&ctx->exchanges_mid);
  pt_hashmap_init(&ctx->exchanges_token);
  pt_hashmap_init(&ctx->resources);
  pt_heap_init(&ctx->timers);
  pt_hashmap_init(&ctx->asyncs);
  pt_hashmap_init(&ctx->blk_srv);
  pt_hashmap_init(&ctx->blk_rx);
  pt_hashmap_init(&ctx->blk_cli);
  ctx->max_body_size = PT_DEFAULT_MAX_BODY_SIZE;
  pthread_mutex_init(&ctx->async_lock, NULL);
  ctx->loop_thread = pthread_self();
  ctx->on_wake = pt_async_drain;
  ctx->max_async_total = PT_DEFAULT_MAX_ASYNC_TOTAL;
  ctx->max_async_per_session = PT_DEFAULT_MAX_ASYNC_PER_SESSION;
  ctx->session_timeout = PT_DEFAULT_SESSION_TIMEOUT;
  ctx->max_sessions_per_endpoint = PT_DEFAULT_MAX_SESSIONS;
  ctx->dedup_per_session = PT_DEFAULT_DEDUP_PER_SESSION;
  ctx->dedup_max_total = PT_DEFAULT_DEDUP_TOTAL;
  ctx->max_wait_per_session = PT_DEFAULT_MAX_WAIT_PER_SESSION;
  pt_limits_init(ctx);
  pt_observe_init(ctx);
  pt_persist_init(ctx);
  ctx->max_token_size = 8;
  ctx->csm_timeout_ms = 30000;
  ctx->csm_max_message_size = (8 * 1024 * 1024);
  ctx->epfd = ctx->wake_fd = ctx->timer_fd = -1;
  ctx->send = send_unavailable;
  ctx->rx_pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  ctx->tx_pdu = coap_pdu_init(COAP_MESSAGE_ACK, 0, 0, COAP_DEFAULT_MTU - 4);
  if (!ctx->rx_pdu || !ctx->tx_pdu) {
    coap_delete_pdu(ctx->rx_pdu);
    coap_delete_pdu(ctx->tx_pdu);
    free(ctx);
    return NULL;
  }
  return ctx;
}

coap_context_t *coap_new_context(const coap_address_t *listen_addr) {
  coap_startup();
  coap_context_t *ctx = pt_context_new_detached();
  if (!ctx)
    return NULL;
  ctx->send = pt_io_send;
  ctx->send_to = pt_io_endpoint_send;
  if (pt_io_context_init(ctx) < 0 ||
      (listen_addr && !coap_new_endpoint(ctx, listen_addr, COAP_PROTO_UDP))) {
    coap_free_context(ctx);
    return NULL;
  }
  return ctx;
}

void coap_free_context(coap_context_t *ctx) {
  if (!ctx)
    return;
  pt_observe_free_all(ctx); /* final 4.04s and cancellations go first */
  pt_block_free_all(ctx); /* releases large bodies; before sessions go */
  pt_mcast_free_all(ctx); /* likewise, delayed multicast answers */
  pt_cache_free_all(ctx);
  pt_sessions_free_all(ctx);
  while (ctx->endpoints)
    coap_free_endpoint(ctx->endpoints);
  pt_resources_free_all(ctx);
  pt_persist_free(ctx); /* files left dirty by the teardown */
  pt_dtls_context_free(ctx);
  pt_io_context_free(ctx);
  pt_hashmap_free(&ctx->sessions);
  pt_hashmap_free(&ctx->exchanges_mid);
  pt_hashmap_free(&ctx->exchanges_token);
  pt_dedup_free_spares(ctx);
  pt_hashmap_free(&ctx->resources);
  pt_hashmap_free(&ctx->asyncs);
  pt_hashmap_free(&ctx->blk_srv);
  pt_hashmap_free(&ctx->blk_rx);
  pt_hashmap_free(&ctx->blk_cli);
  pt_async_drain(ctx); /* frees posts that outlived their asyncs */
  pthread_mutex_destroy(&ctx->async_lock);
  pt_heap_free(&ctx->timers);
  coap_delete_pdu(ctx->rx_pdu);
  coap_delete_pdu(ctx->tx_pdu);
  free(ctx);
}

void pt_event(coap_session_t *session, coap_event_t event) {
  coap_context_t *ctx = session->context;
  if (ctx->event_handler)
    ctx->event_handler(session, event);
}

/* ---- handlers ------------------------------------------------------------- */

void coap_register_response_handler(coap_context_t *ctx,
                                    coap_response_handler_t handler) {
  if (ctx)
    ctx->response_handler = handler;
}

void coap_register_nack_handler(coap_context_t *ctx,
                                coap_nack_handler_t handler) {
  if (ctx)
    ctx->nack_handler = handler;
}

void coap_register_ping_handler(coap_context_t *ctx,
                                coap_ping_handler_t handler) {
  if (ctx)
    ctx->ping_handler = handler;
}

void coap_register_pong_handler(coap_context_t *ctx,
                                coap_pong_handler_t handler) {
  if (ctx)
    ctx->pong_handler = handler;
}

void coap_register_event_handler(coap_context_t *ctx,
                                 coap_event_handler_t hnd) {
  if (ctx)
    ctx->event_handler = hnd;
}

void coap_register_option(coap_context_t *ctx, uint16_t type) {
  if (ctx)
    ctx->registered_opts[type >> 3] |= (uint8_t)(1u << (type & 7));
}

/* ---- settings -------------------------------------------------------------- */

void coap_set_app_data(coap_context_t *ctx, void *data) {
  if (ctx)
    ctx->app_data = data;
}

void *coap_get_app_data(const coap_context_t *ctx) {
  return ctx ? ctx->app_data : NULL;
}

void coap_context_set_max_idle_sessions(coap_context_t *ctx,
                                        unsigned int max_idle_sessions) {
  if (ctx)
    ctx->max_idle_sessions = max_idle_sessions;
}

unsigned int coap_context_get_max_idle_sessions(const coap_context_t *ctx) {
  return ctx ? ctx->max_idle_sessions : 0;
}

void coap_context_set_max_handshake_sessions(coap_context_t *ctx,
                                             unsigned int max) {
  if (ctx)
    ctx->max_handshake_sessions = max;
}

unsigned int coap_context_get_max_handshake_sessions(const coap_context_t *ctx) {
  return ctx ? ctx->max_handshake_sessions : 0;
}

void coap_context_set_session_timeout(coap_context_t *ctx,
                                      unsigned int session_timeout) {
  if (ctx) /* 0 is libcoap's "the default", never "forever" */
    ctx->session_timeout =
        session_timeout ? session_timeout : PT_DEFAULT_SESSION_TIMEOUT;
}

unsigned int coap_context_get_session_timeout(const coap_context_t *ctx) {
  return ctx ? ctx->session_timeout : 0;
}

void coap_context_set_csm_timeout(coap_context_t *ctx, unsigned int csm_timeout) {
  if (ctx)
    ctx->csm_timeout_ms = csm_timeout * 1000u;
}

unsigned int coap_context_get_csm_timeout(const coap_context_t *ctx) {
  return ctx ? ctx->csm_timeout_ms / 1000u : 0;
}

void coap_context_set_csm_max_message_size(coap_context_t *ctx,
                                           uint32_t csm_max_message_size) {
  if (ctx && csm_max_message_size >= 64)
    ctx->csm_max_message_size = csm_max_message_size;
}

uint32_t coap_context_get_csm_max_message_size(const coap_context_t *ctx) {
  return ctx ? ctx->csm_max_message_size : 0;
}

void coap_context_set_max_token_size(coap_context_t *ctx,
                                     size_t max_token_size) {
  /* 8 turns extended tokens (RFC 8974, ext_token.c) off again. */
  if (ctx && max_token_size >= COAP_TOKEN_DEFAULT_MAX &&
      max_token_size <= COAP_TOKEN_EXT_MAX)
    ctx->max_token_size = max_token_size;
}

/* ---- sending ------------------------------------------------------------- */

coap_mid_t coap_send(coap_session_t *session, coap_pdu_t *pdu) {
  if (!pdu)
    return COAP_INVALID_MID;
  if (!session || session->closing) {
    coap_delete_pdu(pdu);
    return COAP_INVALID_MID;
  }
  pdu->session = session;
  if (session->mcast) /* back from the last member that answered */
    session->remote = session->mcast_addr;
  coap_tick_t now = pt_now();
  if (pt_ext_token_before_send(session, pdu, now) < 0) {
    coap_delete_pdu(pdu);
    return COAP_INVALID_MID;
  }
  return pt_exchange_send(session, pdu, now);
}

coap_mid_t coap_send_message_type(coap_session_t *session,
                                  const coap_pdu_t *request,
                                  coap_pdu_type_t type) {
  if (!session || !request || (type != COAP_MESSAGE_ACK &&
                               type != COAP_MESSAGE_RST))
    return COAP_INVALID_MID;
  /* RFC 7252 4.2/4.3: an ACK answers a CON; an RST a CON or a NON. */
  coap_pdu_type_t rtype = coap_pdu_get_type(request);
  if (rtype != COAP_MESSAGE_CON &&
      (type == COAP_MESSAGE_ACK || rtype != COAP_MESSAGE_NON))
    return COAP_INVALID_MID;
  coap_mid_t mid = coap_pdu_get_mid(request);
  return pt_send_empty(session, type, mid) < 0 ? COAP_INVALID_MID : mid;
}

coap_mid_t coap_send_ack(coap_session_t *session, const coap_pdu_t *request) {
  if (!request || coap_pdu_get_type(request) != COAP_MESSAGE_CON)
    return COAP_INVALID_MID;
  return coap_send_message_type(session, request, COAP_MESSAGE_ACK);
}

/* Copies the options of @request that @opts selects into @resp, leaving
 * out those an error response must not echo: Content-Format (the payload
 * is a diagnostic, not the request's format), Hop-Limit (RFC 8768: a
 * request option) and OSCORE (its value belongs to the request's
 * protection). Returns 1, or 0 when @resp has no room. */
static int copy_error_options(const coap_pdu_t *request, coap_pdu_t *resp,
                              const coap_opt_filter_t *opts) {
  coap_opt_filter_t keep = *opts; /* the caller's filter is left as it is */
  coap_option_filter_unset(&keep, COAP_OPTION_CONTENT_FORMAT);
  coap_option_filter_unset(&keep, COAP_OPTION_HOP_LIMIT);
  coap_option_filter_unset(&keep, COAP_OPTION_OSCORE);
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  coap_option_iterator_init(request, &it, &keep);
  while ((opt = coap_option_next(&it)) != NULL)
    if (!coap_add_option(resp, it.number, coap_opt_length(opt),
                         coap_opt_value(opt)))
      return 0;
  return 1;
}

coap_pdu_t *coap_new_error_response(const coap_pdu_t *request,
                                    coap_pdu_code_t code,
                                    coap_opt_filter_t *opts) {
  if (!request)
    return NULL;
  coap_pdu_type_t type = coap_pdu_get_type(request) == COAP_MESSAGE_CON
                             ? COAP_MESSAGE_ACK
                             : COAP_MESSAGE_NON;
  /* RFC 8768 3: the diagnostic payload of a 5.08 lists proxy addresses,
   * so it gets no reason phrase. */
  const char *phrase = code == COAP_RESPONSE_CODE(508)
                           ? NULL
                           : coap_response_phrase(code);
  /* No size limit: an extended token (RFC 8974) can be longer than a
   * datagram's usual room. */
  coap_pdu_t *resp = coap_pdu_init(type, code, coap_pdu_get_mid(request), 0);
  if (!resp)
    return NULL;
  coap_bin_const_t token = coap_pdu_get_token(request);
  if (!coap_add_token(resp, token.length, token.s) ||
      (opts && !copy_error_options(request, resp, opts)) ||
      (phrase &&
       !coap_add_data(resp, strlen(phrase), (const uint8_t *)phrase))) {
    coap_delete_pdu(resp);
    return NULL;
  }
  return resp;
}

coap_mid_t coap_send_error(coap_session_t *session, const coap_pdu_t *request,
                           coap_pdu_code_t code, coap_opt_filter_t *opts) {
  if (!session || !request)
    return COAP_INVALID_MID;
  coap_pdu_t *resp = coap_new_error_response(request, code, opts);
  if (!resp)
    return COAP_INVALID_MID;
  if (coap_pdu_get_type(resp) == COAP_MESSAGE_NON)
    coap_pdu_set_mid(resp, pt_session_next_mid(session));
  return coap_send(session, resp);
}

/* Counters kept where the things they count are created and freed, so the
 * answer costs the same whatever the number of sessions. */
int pt_context_pending(const coap_context_t *ctx) {
  return ctx->exchange_count || pt_hashmap_size(&ctx->blk_cli) ||
         pt_hashmap_size(&ctx->blk_srv) || pt_hashmap_size(&ctx->blk_rx);
}

int coap_can_exit(coap_context_t *ctx) {
  if (!ctx)
    return 1;
  if (pt_hashmap_size(&ctx->exchanges_mid))
    return 0;
  /* Client sessions are few; their NSTART queues are checked directly. */
  for (coap_session_t *s = ctx->clients; s; s = s->next)
    if (s->wait_head)
      return 0;
  return 1;
}
