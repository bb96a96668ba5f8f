/*
 * session.h -- sessions and endpoints (internal).
 *
 * A session is the state Petrel keeps for one peer: its address, the
 * RFC 7252 section 4.8 transmission parameters, the message-ID and token
 * generators, the Confirmable messages in flight (NSTART) and the recent
 * message IDs it sent us (deduplication). A server session is created by
 * the first datagram from a new peer on an endpoint and is found again by a
 * hash of (endpoint, peer); a client session owns a connected socket.
 *
 * Lifetime: a session is reference counted. The application's reference
 * (coap_new_client_session) and the library's own (an endpoint's table, an
 * exchange in flight, a pending async) each count; the last release frees.
 */
#ifndef PT_SESSION_H
#define PT_SESSION_H

#include "coap3/coap.h"

#include "address.h"
#include "hashmap.h"
#include "io.h"
#include "timer.h"

typedef struct pt_exchange pt_exchange;
typedef struct pt_dedup pt_dedup;
typedef struct pt_dtls pt_dtls;
struct pt_tls_listener;

struct coap_endpoint_t {
  coap_context_t *context;
  coap_endpoint_t *next;       /* context's endpoint list */
  coap_proto_t proto;
  int fd;                      /* bound UDP socket */
  pt_io_handle io;             /* epoll registration */
  coap_address_t bind_addr;    /* with the port the kernel chose */
  int pktinfo;                 /* UDP: the kernel reports each datagram's
                                * local address (wildcard, group, ...) */
  int ifindex;                 /* else: interface holding bind_addr */
  unsigned default_mtu;
  struct pt_tls_listener *tls_listener; /* DTLS: the cookie exchange */
  size_t session_count;        /* server sessions in the context table */
  coap_session_t *last_hit;    /* borrowed: the session of the last datagram
                                * in, while in the table (see find_peer) */
  char str[80];                /* coap_endpoint_str() buffer */
};

/*
 * The fields are ordered by when they are used. A piggybacked answer to a
 * request on a known server session reads and writes only the first four
 * 64-byte parts of the struct, which malloc's 16-byte alignment places on
 * four or five cache lines (session_new() says why it is not aligned):
 *   line 0: what the peer lookup compares (hash node, endpoint, peer);
 *   line 1: what every datagram in and out reads (context, link, the
 *           local address written on receipt, reference count, socket);
 *   line 2: per-message state (type, flags, amplification counters,
 *           activity stamps, recency links);
 *   line 3: deduplication's run of recent message IDs and its timer.
 * Everything after is used on other paths. session.c pins this with
 * _Static_asserts; moving a field across a line is a performance change.
 */
struct coap_session_t {
  /* ---- line 0: the lookup ---- */
  pt_hash_node by_peer; /* context->sessions (server) */
  coap_endpoint_t *endpoint;   /* server sessions: where the peer came in */
  coap_address_t remote;

  /* ---- line 1: every datagram ---- */
  coap_context_t *context;
  const struct pt_link *link;  /* what carries its messages (link.h);
                                * NULL: plain datagrams */
  coap_address_t local;        /* server sessions: where the peer's last
                                * datagram was sent to (a group address
                                * for a multicast request) */
  int ifindex;                 /* interface of the last datagram, or -1 */
  unsigned ref;
  int fd;                      /* client sessions: connected socket, else -1 */
  coap_proto_t proto;

  /* ---- line 2: per message ---- */
  coap_session_type_t type;
  coap_session_state_t state;
  uint8_t mcast;               /* client session to a group (RFC 7252 8) */
  uint8_t closing;             /* being torn down: send nothing more */
  /* RFC 7252 11.3 (limits.c): what this peer sent us and what we sent it
   * until it proved it receives our datagrams. */
  uint8_t verified;
  uint8_t ka_failed;           /* server session: the last keepalive ping
                                * went unanswered; no more until heard from */
  unsigned dedup_count;        /* (line 3's) */
  uint64_t amp_in, amp_out;
  coap_tick_t last_activity;   /* last datagram received */
  coap_session_t *prev, *next; /* context->clients (client sessions), or
                                * context->lru (server sessions, least
                                * recently moved first: see
                                * PT_SESSION_LRU_GRAIN) */
  coap_tick_t lru_moved;       /* when pt_session_touch() last moved it to
                                * the tail of context->lru (or found it
                                * there, or found it in no table) */

  /* ---- line 3: recently received message IDs ---- */
  /* Oldest first (deduplication), and the timer that frees them as they
   * expire. */
  pt_dedup *dedup_head;
  pt_dedup *dedup_tail;
  coap_tick_t exchange_lifetime; /* its EXCHANGE_LIFETIME, 0 until computed
                                    and after a parameter of it is set */
  uint16_t dedup_lo;           /* the head's MID while they are a run */
  uint8_t dedup_indexed;       /* 1: all in dedup_map; 0: a run (dedup.c) */
  unsigned mtu;
  pt_timer dedup_timer;

  /* ---- the rest: other paths ---- */
  pt_hashmap dedup_map;        /* the same entries by MID (dedup.c) */
  uint32_t hash;               /* pt_session_hash(endpoint, remote) */
  uint8_t in_clients;          /* linked in context->clients */
  uint8_t probing;             /* a reachability probe is outstanding */
  uint8_t ka_outstanding;      /* a keepalive ping awaits its answer */
  coap_mid_t probe_mid;        /* its message ID */
  coap_tick_t probe_at;        /* when it was sent */
  pt_io_handle io;             /* client sessions: epoll registration */
  coap_address_t mcast_addr;   /* the group of a session with mcast set:
                                * remote is reset to it by coap_send(),
                                * answers set remote to their sender while
                                * they are handled */
  pt_timer idle_timer;         /* server sessions: reaped when idle */
  /* Keepalive pings (keepalive.c). */
  pt_timer keepalive_timer;
  coap_tick_t last_tx;         /* last datagram sent, while keepalive is on */

  /* RFC 7252 section 4.8 transmission parameters. */
  coap_fixed_point_t ack_timeout;
  coap_fixed_point_t ack_random_factor;
  coap_fixed_point_t default_leisure;
  uint16_t max_retransmit;
  uint16_t nstart;
  uint32_t probing_rate;
  /* RFC 9177 parameters (kept for the API; Q-Block is not implemented). */
  uint16_t max_payloads;
  uint16_t non_max_retransmit;
  coap_fixed_point_t non_timeout;
  coap_fixed_point_t non_receive_timeout;

  coap_mid_t next_mid;
  /* RFC 8974 (ext_token.c): client sessions learn the server's limit. */
  uint8_t ext_token_state;     /* PT_EXT_TOKEN_* */
  size_t max_token_size;       /* once CHECKED: longest token to send */
  uint64_t token_counter;      /* coap_session_new_token() */
  uint8_t token_base[8];
  size_t token_base_len;

  /* Confirmable messages this session has in flight, and those waiting
   * for a free NSTART slot (FIFO). */
  pt_exchange *exchanges;      /* every exchange of this session */
  unsigned con_active;
  pt_exchange *wait_head, *wait_tail;
  size_t wait_count;

  coap_async_t *asyncs;        /* pending separate responses */
  size_t async_count;
  unsigned no_observe_cancel;
  coap_subscription_t *observers; /* server: its observers (observe.c) */
  pt_dtls *dtls;               /* COAP_PROTO_DTLS: the security layer */
  struct pt_tcp *tcp;          /* TCP and WS: the connection (tcp.c);
                                * its socket is fd, for server sessions too */
  void *app_data;
  char str[160];               /* coap_session_str() buffer */
};

/* 1 if @s runs over a reliable transport (TCP, TLS, WebSockets): RFC 8323
 * section 3 has no message types, message IDs, acknowledgements,
 * retransmission or deduplication there, so the message layer asks this
 * once per message and skips them; a response is matched by token only. */
static inline int pt_session_reliable(const coap_session_t *s) {
  return COAP_PROTO_RELIABLE(s->proto);
}

/* Hash of a server session's key. */
uint32_t pt_session_hash(const coap_endpoint_t *ep,
                         const coap_address_t *remote);

/*
 * Finds the server session for (ep, remote), creating it if absent and the
 * endpoint's limit allows; NULL when it cannot. The returned session is
 * borrowed (the context table holds it).
 */
coap_session_t *pt_session_for_peer(coap_endpoint_t *ep,
                                    const coap_address_t *remote,
                                    const coap_address_t *local,
                                    int ifindex, coap_tick_t now);

/* A server session in no table and with no peer, on which nothing can be
 * sent (coap_send() fails): what a handler is given when it is run
 * without a request from the network (persist.c re-creating a dynamic
 * resource). The caller owns the one reference (coap_session_release()). */
coap_session_t *pt_session_detached(coap_context_t *ctx);

/* The endpoint's last session (last_hit) when @remote is its peer, else
 * NULL: the first step of the lookup, inline for the receive loop, where a
 * peer's datagrams come in runs. */
static inline coap_session_t *pt_session_last(const coap_endpoint_t *ep,
                                              const coap_address_t *remote) {
  coap_session_t *last = ep->last_hit;
  return last && pt_address_same(&last->remote, remote) ? last : NULL;
}

/* pt_session_for_peer() for a peer that is not the endpoint's last one
 * (pt_session_last() gave NULL): the receive loop's second step. */
coap_session_t *pt_session_for_other_peer(coap_endpoint_t *ep,
                                          const coap_address_t *remote,
                                          const coap_address_t *local,
                                          int ifindex, coap_tick_t now);

/* The server session of (ep, remote), or NULL; never creates one. */
coap_session_t *pt_session_find(const coap_endpoint_t *ep,
                                const coap_address_t *remote);

/* A client session to @server over @proto (UDP, or DTLS when available)
 * with its own socket; DTLS still needs pt_dtls_client_start(). Holds the
 * application's reference. NULL on failure. */
coap_session_t *pt_client_session_new(coap_context_t *ctx,
                                      const coap_address_t *local_if,
                                      const coap_address_t *server,
                                      coap_proto_t proto);

/* An ICMP error says the peer is unreachable: the NACK handler is called
 * with COAP_NACK_ICMP_ISSUE for the session's most recent request; the
 * exchanges go on (retransmissions, response timeouts). */
void pt_session_unreachable(coap_session_t *session);

/* Closes and frees every session of @ctx (context teardown). */
void pt_sessions_free_all(coap_context_t *ctx);

/* Removes a server session from the context table and frees it once its
 * last reference goes. */
void pt_session_close(coap_session_t *session, coap_nack_reason_t reason);

/* The next message ID for @session (sequential from a random start). */
coap_mid_t pt_session_next_mid(coap_session_t *session);

/*
 * How stale the order of the context's recency list may be: a server
 * session is moved to its tail at most once in this many ticks (one
 * second), not on every message, so that a request does not write to two
 * other sessions' memory. The list is thus ordered by the last move, and a
 * session's last_activity is at most this much later than its place says.
 * Eviction (evict_idle) makes up for it by taking, among the oldest
 * candidates, the idle one with the least last_activity: it is exact
 * whenever the least recently active idle session is among them.
 */
#define PT_SESSION_LRU_GRAIN COAP_TICKS_PER_SECOND

/* The rest of pt_session_touch(), out of line: a keepalive to resume, a
 * move in the recency list that may be due. */
void pt_session_touch_rare(coap_session_t *session, coap_tick_t now);

/* Marks @session active at @now: stamps last_activity (idle reaping looks
 * at it lazily) and, for a server session whose last move is at least
 * PT_SESSION_LRU_GRAIN old, moves it to the tail of the recency list.
 * Inline: per message it is a store and two comparisons. */
static inline void pt_session_touch(coap_session_t *session, coap_tick_t now) {
  session->last_activity = now;
  if (session->ka_failed || now - session->lru_moved >= PT_SESSION_LRU_GRAIN)
    pt_session_touch_rare(session, now);
}

/* Initial retransmission timeout: ACK_TIMEOUT x a random factor in
 * [1, ACK_RANDOM_FACTOR], in ticks. */
coap_tick_t pt_session_initial_timeout(const coap_session_t *session);

#endif /* PT_SESSION_H */
