/*
 * context.h -- the context: everything one CoAP stack instance owns
 * (internal).
 *
 * All lookups are hashes and all deadlines sit in one timer heap, so the
 * cost of handling a datagram does not depend on how many sessions,
 * exchanges or pending asyncs there are.
 */
#ifndef PT_CONTEXT_H
#define PT_CONTEXT_H

#include <pthread.h>

#include "coap3/coap.h"

#include "hashmap.h"
#include "heap.h"
#include "observe.h"
#include "persist.h"
#include "timer.h"

/* Encoded options of at most this many bytes are remembered by the route
 * cache (resource.h): a Uri-Path or two and a few small options. */
#define PT_ROUTE_CACHE_OPTS 48

/* Sends one datagram for @session; returns bytes sent or -1. The event
 * loop installs the socket version; tests install a fake. */
typedef ssize_t (*pt_send_fn)(coap_session_t *session, const uint8_t *data,
                              size_t len);

/* Sends one datagram from endpoint @ep to @to, leaving from @local (the
 * address the peer sent to) on interface @ifindex: the DTLS cookie
 * exchange answers peers that have no session. Returns bytes sent or -1. */
typedef ssize_t (*pt_send_to_fn)(coap_endpoint_t *ep, const coap_address_t *to,
                                 const coap_address_t *local, int ifindex,
                                 const uint8_t *data, size_t len);

/* Default limits (each settable through the API). */
#define PT_DEFAULT_SESSION_TIMEOUT 300   /* seconds idle before reaping */
#define PT_DEFAULT_MAX_SESSIONS 10000    /* per endpoint; 0 = no limit */
#define PT_DEFAULT_DEDUP_PER_SESSION 256 /* remembered message IDs */
#define PT_DEFAULT_DEDUP_TOTAL 32768     /* across all sessions */
#define PT_DEFAULT_MAX_ASYNC_TOTAL 32768
#define PT_DEFAULT_MAX_ASYNC_PER_SESSION 1024 /* 0 = no limit */
#define PT_DEFAULT_MAX_WAIT_PER_SESSION 1024 /* CONs queued behind NSTART */
/* RFC 7252 11.3 (limits.c): bytes sent to an unverified peer per byte
 * received from it, and the context-wide allowance beyond that. */
#define PT_DEFAULT_AMP_FACTOR 3
#define PT_DEFAULT_AMP_BURST 1048576     /* bytes */
#define PT_DEFAULT_AMP_RATE 1048576      /* bytes per second */

struct coap_context_t {
  coap_endpoint_t *endpoints;
  pt_hashmap sessions;         /* server sessions by (endpoint, peer) */
  pt_hashmap exchanges_mid;    /* CONs awaiting ACK by (session, MID) */
  pt_hashmap exchanges_token;  /* client requests by (session, token) */
  struct pt_dedup *dedup_spare; /* freed entries kept for reuse (dedup.c) */
  struct pt_dedup_slab *dedup_slabs; /* the entries' memory (dedup.c) */
  /* Every remembered entry, oldest first: the one forgotten at the cap. */
  struct pt_dedup *dedup_oldest, *dedup_newest;
  pt_hashmap resources;        /* by Uri-Path */
  /* The encoded options of the last request routed to a resource of the
   * table, and that resource (resource.c): r NULL when empty; emptied
   * whenever the table changes. */
  struct {
    coap_resource_t *r;
    size_t len;
    uint8_t opts[PT_ROUTE_CACHE_OPTS];
  } route_cache;
  pt_heap timers;
  size_t dedup_total;

  /* Client sessions are owned by the application; the context keeps a
   * list only to close them when it is freed. */
  coap_session_t *clients;
  /* Server sessions, least recently active first to within
   * PT_SESSION_LRU_GRAIN (session.h): the oldest idle one makes room when
   * max_idle_sessions is reached. */
  coap_session_t *lru_head, *lru_tail;

  coap_resource_t *unknown_resource;
  coap_resource_t *proxy_resource;
  int have_wellknown;          /* application registered .well-known/core */
  coap_resource_release_userdata_handler_t release_userdata;

  coap_response_handler_t response_handler;
  coap_nack_handler_t nack_handler;
  coap_ping_handler_t ping_handler;
  coap_pong_handler_t pong_handler;
  coap_event_handler_t event_handler;

  unsigned session_timeout;    /* seconds */
  unsigned max_idle_sessions;
  unsigned max_handshake_sessions;
  unsigned ping_timeout;
  unsigned csm_timeout_ms;
  uint32_t csm_max_message_size;
  unsigned ws_upgrade_timeout_ms; /* 0: PT_WS_UPGRADE_TIMEOUT_MS (ws_conn.c) */
  size_t max_token_size;
  uint32_t block_mode;
  size_t max_sessions_per_endpoint;
  size_t dedup_per_session;
  size_t dedup_max_total;
  size_t max_wait_per_session;
  size_t tcp_outq_max;         /* 0: PT_TCP_OUTQ_CAP (tcp.c) */
  /* Limits and counters (limits.c, coap3/coap_petrel.h). */
  size_t exchange_count;       /* pt_exchange objects alive */
  unsigned amp_factor;         /* 0 = no amplification policy */
  size_t amp_burst, amp_rate;  /* the allowance's size and refill rate */
  uint64_t amp_bucket;         /* allowance left, in bytes */
  coap_tick_t amp_refilled;    /* when the allowance was last refilled */
  uint64_t stat_sessions_refused;
  uint64_t stat_sessions_evicted;
  uint64_t stat_amp_dropped;
  int reuseport;               /* endpoints set SO_REUSEPORT (limits.c) */
  void *app_data;
  /* Options registered with coap_register_option(), one bit each, on top
   * of those Petrel knows. */
  uint8_t registered_opts[65536 / 8];

  /* Scratch PDUs reused for every request/response on the loop thread, so
   * the common path allocates nothing. */
  coap_pdu_t *rx_pdu;
  coap_pdu_t *tx_pdu;

  pt_send_fn send;
  pt_send_to_fn send_to;       /* NULL in a detached context */
  /* DTLS (dtls.c): the backend's credentials, and the server sessions in
   * handshake, least recently active first. */
  struct pt_tls_conf *tls;
  struct pt_dtls *dtls_hs_head, *dtls_hs_tail;
  unsigned dtls_hs_count;
  /* Called on the loop thread after another thread woke it (the async
   * module installs its queue drain here). */
  void (*on_wake)(coap_context_t *ctx);
  struct pt_io_state *io;      /* the platform backend's state */

  /* Separate responses (async.c). */
  pt_hashmap asyncs;           /* by (session, token) */
  size_t async_count;
  size_t max_async_total;      /* 0 = no limit */
  size_t max_async_per_session;
  pthread_mutex_t async_lock;  /* guards the cross-thread queue */
  struct pt_async_post *async_posts; /* changes from other threads */
  pthread_t loop_thread;       /* accessed atomically */
  int epfd;                    /* epoll set: coap_context_get_coap_fd() */
  int wake_fd;                 /* eventfd: other threads wake the loop */
  int timer_fd;                /* timerfd: deadlines wake an app's poll */
  coap_tick_t timer_fd_armed;  /* deadline timer_fd is set to, 0 = none */
  int in_io_process;           /* inside a pass of the loop (posix/io.c) */

  /* Block-wise transfers (block*.c). */
  pt_hashmap blk_srv;          /* held Block2 bodies by (session, request) */
  pt_hashmap blk_rx;           /* Block1 reassemblies by (session, request) */
  pt_hashmap blk_cli;          /* client transfers by (session, token) */
  struct pt_blk_srv *blk_pending; /* begun by coap_add_data_large_response()
                                     in the handler now running */
  uint32_t blk_ack1;           /* Block1 value to answer the block taken */
  int blk_ack1_set;            /* what pt_block_rx_after() does (block_rx.c) */
  struct pt_blk_rx *blk_ack1_rx; /* the per-block transfer being answered */
  size_t max_body_size;        /* largest body one transfer reassembles */
  size_t blk_rx_total;         /* bytes held by all Block1 reassemblies */
  size_t blk_rx_total_max;     /* its limit (PT_BLOCK_RX_TOTAL_MAX) */

  /* Cache entries (cache.c). */
  pt_hashmap cache;            /* every entry, by cache key */
  pt_hashmap cache_by_session; /* session-based entries, by session */
  uint16_t *cache_ignore;      /* coap_cache_ignore_options() (owned) */
  size_t cache_ignore_count;
  int mcast_per_resource;      /* coap_mcast_per_resource() was called */

  pt_obs_ctx obs;              /* observers (observe.c) */
  pt_persist_ctx persist;      /* coap_persist(3) (persist.c) */
  struct pt_mcast_delayed *mcast_delayed; /* answers in their leisure
                                             period (multicast.c) */
  size_t mcast_delayed_count;
};

/* A context without sockets or epoll (ctx->send fails until replaced):
 * what the sans-I/O tests drive. Free with coap_free_context(). */
coap_context_t *pt_context_new_detached(void);

/* The current time for the library (the clock, or a test's fake). */
coap_tick_t pt_now(void);

/* 1 if @ctx has anything in progress (coap_io_pending()): a CON awaiting
 * its ACK or queued behind NSTART, a client request awaiting its response,
 * or a block-wise transfer (client, held Block2 body or Block1
 * reassembly); else 0. O(1). */
int pt_context_pending(const coap_context_t *ctx);

/* Emits an event to the application's event handler, if any. */
void pt_event(coap_session_t *session, coap_event_t event);

#endif /* PT_CONTEXT_H */
