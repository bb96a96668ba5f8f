/*
 * observe.h -- Observe (RFC 7641), internal; the public API is
 * coap3/coap_subscribe.h, coap3/coap_resource.h and coap3/coap_petrel.h.
 *
 * Server. An observer (coap_subscription_t) is keyed by (session, token)
 * in an index of the context (pt_obs_index), and linked into the lists of
 * its resource and of its session. coap_resource_notify_observers() only marks
 * the resource dirty (once, however often it is called) and arms one timer of
 * the context at "now"; when the loop runs it, each dirty resource's GET (or
 * FETCH) handler is called once per observer of that resource with the request
 * the observer registered, so notifying touches nothing but that
 * resource's observers. A Confirmable notification in flight is an
 * exchange that points back at its observer; a newer notification takes
 * its place (RFC 7641 4.5.2) instead of queueing behind it. The MID of the
 * last Non-confirmable notification is indexed too, so that an RST to it
 * finds the observer with one probe.
 *
 * Lifetime: an observer borrows its session (the session removes its
 * observers when it is freed, idle or not) and its resource (deleting the
 * resource sends each observer a final 4.04 and frees it).
 *
 * Client. A request sent with Observe: 0 marks its exchange as an
 * observation: the token stays live after the first response, and each
 * notification passes the RFC 7641 3.4 freshness rule before it reaches
 * the response handler.
 */
#ifndef PT_OBSERVE_H
#define PT_OBSERVE_H

#include "coap3/coap.h"

#include "pdu.h"
#include "timer.h"

/* RFC 7641 4.5: at most this many notifications in a row are
 * Non-confirmable (COAP_RESOURCE_FLAGS_NOTIFY_NON); the next is a CON. */
#ifndef COAP_OBS_MAX_NON
#define COAP_OBS_MAX_NON 5
#endif

/* RFC 7641 4.5: a CON at least this often, whatever the flags say
 * (except COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS). */
#define PT_OBS_CON_INTERVAL ((coap_tick_t)24 * 60 * 60 * COAP_TICKS_PER_SECOND)

/* RFC 7641 3.4 / 4.4: a notification that arrives this much later than the
 * last one accepted is fresh whatever its Observe value. */
#define PT_OBS_REORDER_WINDOW ((coap_tick_t)128 * COAP_TICKS_PER_SECOND)

/* Default limits (coap3/coap_petrel.h). The total stays below the default
 * number of sessions per endpoint, so registrations alone cannot fill an
 * endpoint. */
#define PT_DEFAULT_MAX_OBSERVERS_PER_RESOURCE 4096
#define PT_DEFAULT_MAX_OBSERVERS_TOTAL 8192

struct pt_exchange;

/* A resource's share (embedded in coap_resource_t). */
typedef struct pt_obs_res {
  coap_subscription_t *head; /* its observers */
  size_t count;
  uint32_t seq; /* Observe value of the latest state */
  coap_resource_t *dirty_prev, *dirty_next;
  uint8_t dirty; /* on the context's dirty list */
} pt_obs_res;

/*
 * An index of observers: a hash table chained through a pointer in each
 * observer record, with no cached hash, so that an index costs an observer
 * 8 bytes (16 for the index by MID, which keeps a back link as it changes
 * with every NON) plus its share of the bucket array: the array doubles
 * when the load, observers per bucket, would pass 2, and halves at an
 * insert when it has fallen below 1/4, so the share is 4 to 8 bytes while
 * observers arrive. Removal from the index by token walks the chain, whose
 * mean length is that load; growing rehashes each observer from its key (a
 * token of at most 8 bytes, or a MID), O(n) once per doubling. observe.c
 * owns it.
 */
typedef struct pt_obs_index {
  coap_subscription_t **buckets; /* owned; NULL while empty */
  size_t count;
  uint32_t bits; /* log2 of the bucket count, 0 while buckets is NULL */
} pt_obs_index;

/* The context's share (embedded in coap_context_t). */
typedef struct pt_obs_ctx {
  pt_obs_index by_token; /* observers by (session, token) */
  pt_obs_index by_mid;   /* by (session, MID of the last NON sent) */
  pt_timer timer;        /* runs the dirty resources */
  coap_resource_t *dirty_head, *dirty_tail;
  size_t count;            /* observers of the context */
  size_t max_total;        /* 0 = no limit */
  size_t max_per_resource; /* 0 = no limit */
  uint64_t refused;        /* registrations a limit refused */
  uint8_t no_final;        /* coap_persist_stop(): no 4.04 at the end */
  uint8_t scratch_busy;    /* scratch holds a notification being built */
  coap_pdu_t *scratch;     /* owned: reused for NON notifications, which
                              are sent at once and kept nowhere */
} pt_obs_ctx;

/* ---- context, resource and session hooks --------------------------------- */

/* Prepares @ctx's observe state (context creation). */
void pt_observe_init(coap_context_t *ctx);

/* Ends every observation of @ctx (context teardown, first thing): each
 * observer gets a final 4.04 unless persistence was stopped. */
void pt_observe_free_all(coap_context_t *ctx);

/* @r is being freed: its observers get a final 4.04 Not Found (RFC 7641
 * 3.2) and are removed; it leaves the dirty list. */
void pt_observe_resource_deleted(coap_resource_t *r);

/* @s is being freed: its observers are removed, without a message. */
void pt_observe_session_freed(coap_session_t *s);

/* ---- the request path (request.c) -------------------------------------- */

/*
 * pt_observe_request_done(), for a request that may carry Observe. After
 * @r's handler answered @req in @resp (all borrowed): registers,
 * updates or removes the observer (session, token) as the request's
 * Observe option and the response code say, and adds the Observe option
 * to @resp when the registration holds. A response without a code yet (a
 * separate response will follow) changes nothing: the registration is
 * made when that response is built.
 */
void pt_observe_request_register(coap_session_t *s, coap_resource_t *r,
                                 const coap_pdu_t *req, coap_pdu_t *resp,
                                 coap_tick_t now);

/* A request without an Observe option (most) changes nothing: told
 * without a call. */
static inline void pt_observe_request_done(coap_session_t *s,
                                           coap_resource_t *r,
                                           const coap_pdu_t *req,
                                           coap_pdu_t *resp, coap_tick_t at) {
  if (pt_pdu_may_have(req, COAP_OPTION_OBSERVE))
    pt_observe_request_register(s, r, req, resp, at);
}

/* ---- persistence (persist.c) ------------------------------------------- */

/* Registers the observer (@s, token of @req) of @r as a restart restores
 * it: like a registration with Observe: 0 that the handler answered
 * 2.05, without calling the handler or sending anything, and within the
 * limits. Returns the observer, or NULL. @req is copied. */
coap_subscription_t *pt_observe_restore(coap_session_t *s, coap_resource_t *r,
                                        const coap_pdu_t *req, coap_tick_t now);

/* Calls @fn for each observer of @ctx with its session and registering
 * request (borrowed); @fn must not add or remove observers. */
typedef void (*pt_observe_each_fn)(void *arg, coap_session_t *s,
                                   const coap_pdu_t *req);
void pt_observe_each(coap_context_t *ctx, pt_observe_each_fn fn, void *arg);

/* ---- the message layer (exchange.c, recv.c) ---------------------------- */

/* The CON notification @ex is being freed (acknowledged, or failed). */
void pt_observe_exchange_gone(struct pt_exchange *ex);

/* The CON notification @ex failed (timeout, RST, unreachable): its
 * observer is removed (RFC 7641 4.5). */
void pt_observe_exchange_failed(struct pt_exchange *ex);

/* An RST with @mid matched no exchange of @s: if it answers a NON
 * notification, that observer is removed (RFC 7641 3.6). */
void pt_observe_rst(coap_session_t *s, coap_mid_t mid);

/* ---- client ------------------------------------------------------------ */

/* 1 if the client request @pdu registers an observation (GET or FETCH
 * with Observe: 0). */
int pt_observe_is_registration(const coap_pdu_t *pdu);

/*
 * A response @pdu matched the client exchange @ex (an observation).
 * Returns 1 if it is to be delivered, 0 if it is stale by the RFC 7641
 * 3.4 rule (the caller acknowledges it and drops it). Ends the
 * observation (ex->observe cleared) when the response has no Observe
 * option or is not 2.xx.
 */
int pt_observe_client_response(struct pt_exchange *ex, const coap_pdu_t *pdu,
                               coap_tick_t now);

/* RFC 7641 3.3.1: the live observation @ex heard nothing for the Max-Age
 * of its latest notification (plus ACK_TIMEOUT x a random factor, so that
 * a server that notifies at Max-Age intervals is not raced): its
 * registration is sent again (pt_exchange_reregister()). Its answer goes
 * to the response handler as any; a server that does not answer makes the
 * registration fail, reported to the NACK handler, which ends it. */
void pt_observe_client_expired(struct pt_exchange *ex, coap_tick_t now);

/* A client session is being closed: sends a cancellation for each of its
 * observations unless coap_session_set_no_observe_cancel() was called. */
void pt_observe_client_closing(coap_session_t *s);

#endif /* PT_OBSERVE_H */
