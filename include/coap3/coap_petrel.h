/*
 * coap_petrel.h -- Petrel's own extensions to the libcoap API: resource
 * limits, the amplification policy and state counters.
 *
 * libcoap 4.3.4 has no setters for these; every name here starts with
 * coap_petrel_ so that an application can tell them from libcoap's API.
 * An application that uses them builds only against Petrel; test for the
 * macro COAP_PETREL_API to keep code portable to libcoap.
 *
 * Every limit has a default that suits a server on the open internet (see
 * README.md, "Limits"), can be changed at any time from the thread that
 * runs the context's event loop, and applies to what happens from then on:
 * nothing already held is dropped when a limit is lowered. A value of 0
 * means "no limit" unless the function says otherwise.
 *
 * When a limit is reached the stack refuses only the one new thing that
 * would pass it (a new peer, a new async, a queued CON, a remembered
 * message ID), never anything of another peer: no limit can stall a peer
 * that stays within it.
 */
#ifndef COAP_PETREL_H_
#define COAP_PETREL_H_

#include <stddef.h>
#include <stdint.h>

#include "coap3/coap_forward_decls.h"
#include "coap3/libcoap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defined when this header is available (Petrel, not libcoap). */
#define COAP_PETREL_API 1

/* ---- sessions --------------------------------------------------------- */

/*
 * Sets the largest number of server sessions (peers) each endpoint of @ctx
 * keeps at once (default 10000; 0 = no limit). When an endpoint is full, a
 * datagram from a new peer first evicts the least recently active session
 * that holds nothing in flight (no exchange, async or reference held by the
 * application); if every candidate is busy, the datagram is dropped
 * without any answer. Peers that already have a session are not affected.
 * The candidates are the first 16 of a recency list to whose end a
 * session's traffic moves it at most once a second (so they are the least
 * recently active to within a second); among them the idle one whose last
 * datagram is oldest is evicted.
 */
COAP_API void
coap_petrel_context_set_max_sessions_per_endpoint(coap_context_t *ctx,
                                                  size_t max);
COAP_API size_t
coap_petrel_context_get_max_sessions_per_endpoint(const coap_context_t *ctx);

/*
 * The most bytes a TCP connection (RFC 8323) may hold queued for a peer
 * that does not read them as fast as they are sent (default 4 MiB; 0
 * restores the default, as a queue without a cap would let such a peer
 * grow our memory without bound). A message that would take the queue past
 * it is not queued: the connection is closed (COAP_EVENT_TCP_FAILED), its
 * server session freed, or its client session's requests failed with
 * COAP_NACK_NOT_DELIVERABLE. The queue holds copies, so the caller keeps
 * nothing alive. Applies to connections accepted or opened from then on;
 * those already open keep the cap they started with.
 */
COAP_API void coap_petrel_context_set_tcp_write_queue_max(coap_context_t *ctx,
                                                          size_t max);
/* The cap set above in bytes (the default when unset); 0 when @ctx is
 * NULL. */
COAP_API size_t
coap_petrel_context_get_tcp_write_queue_max(const coap_context_t *ctx);

/* ---- separate responses ------------------------------------------------ */

/*
 * Largest number of pending asyncs (coap_register_async()) per session
 * (default 1024) and in the whole context (default 32768). Past either,
 * coap_register_async() returns NULL; the seed example's handler then
 * answers 5.03 Service Unavailable.
 */
COAP_API void coap_petrel_context_set_max_async_per_session(coap_context_t *ctx,
                                                            size_t max);
COAP_API size_t
coap_petrel_context_get_max_async_per_session(const coap_context_t *ctx);
COAP_API void coap_petrel_context_set_max_async_total(coap_context_t *ctx,
                                                      size_t max);
COAP_API size_t
coap_petrel_context_get_max_async_total(const coap_context_t *ctx);

/* ---- block-wise reassembly (RFC 7959) ----------------------------------- */

/*
 * Largest body one block-wise transfer may reassemble (Block1 on a server,
 * Block2 on a client; default 8 MiB; 0 restores the default), and the
 * bytes all Block1 reassemblies of the context may hold together (default
 * 64 MiB; 0 = none may be held). A Block1 request past either is answered
 * 4.13 Request Entity Too Large with Size1 set to the per-body limit, and
 * its partial body is dropped; other transfers go on.
 */
COAP_API void coap_petrel_context_set_max_body_size(coap_context_t *ctx,
                                                    size_t max);
COAP_API size_t
coap_petrel_context_get_max_body_size(const coap_context_t *ctx);
COAP_API void coap_petrel_context_set_block_bytes_total(coap_context_t *ctx,
                                                        size_t max);
COAP_API size_t
coap_petrel_context_get_block_bytes_total(const coap_context_t *ctx);

/* ---- outgoing Confirmable messages ------------------------------------ */

/*
 * Largest number of Confirmable messages queued per session behind its
 * NSTART limit (default 1024). Past it, coap_send() frees the PDU and
 * returns COAP_INVALID_MID (and a separate response is not sent). The CONs
 * already in flight are not counted. 0 is taken as 1.
 */
COAP_API void coap_petrel_context_set_max_queued_cons(coap_context_t *ctx,
                                                      size_t max);
COAP_API size_t
coap_petrel_context_get_max_queued_cons(const coap_context_t *ctx);

/* ---- deduplication (RFC 7252 4.5) -------------------------------------- */

/*
 * Message IDs remembered per session (default 256) and in the whole
 * context (default 32768), each for EXCHANGE_LIFETIME (247 s with the
 * default transmission parameters), with the answer sent. A new message
 * of a session at its own cap makes that session forget its oldest entry;
 * one that arrives while the context is at its cap makes the context
 * forget its oldest entry, of whichever session. So the newest messages,
 * those a retransmission repeats, are always remembered, and a retransmission
 * of a forgotten one runs its handler again. A cap lowered at run time
 * applies at the next message. A value of 0 for either turns deduplication
 * off for new messages (entries already held stay until they expire).
 */
COAP_API void coap_petrel_context_set_dedup_per_session(coap_context_t *ctx,
                                                        size_t max);
COAP_API size_t
coap_petrel_context_get_dedup_per_session(const coap_context_t *ctx);
COAP_API void coap_petrel_context_set_dedup_total(coap_context_t *ctx,
                                                  size_t max);
COAP_API size_t coap_petrel_context_get_dedup_total(const coap_context_t *ctx);

/* ---- amplification (RFC 7252 section 11.3) ------------------------------ */

/*
 * Until a peer has shown that it receives what Petrel sends it (it
 * acknowledged or reset one of our Confirmable messages), Petrel sends that
 * peer at most @factor times the bytes it has received from it. Datagrams
 * beyond that are paid from one context-wide allowance of @burst bytes
 * that refills at @rate bytes per second (so that a legitimate first
 * request for a large resource is answered); when the allowance is empty
 * they are not sent (a CON is retransmitted later as usual; the peer's own
 * retransmissions raise its credit). Defaults: factor 3, burst 1 MiB,
 * rate 1 MiB/s: however many spoofed sources a flood uses, Petrel reflects
 * at most 1 MiB a second more than 3 times what it receives, while the
 * block-wise downloads of ordinary clients (which acknowledge nothing: their
 * answers are piggybacked) are served at full speed in normal times. Peers
 * that do acknowledge a CON (separate responses, notifications) are never
 * limited. @factor 0 turns the policy off.
 */
COAP_API void coap_petrel_context_set_amplification(coap_context_t *ctx,
                                                    unsigned factor,
                                                    size_t burst, size_t rate);
COAP_API unsigned
coap_petrel_context_get_amplification_factor(const coap_context_t *ctx);

/* ---- CoAP over WebSockets (RFC 8323 section 4) ---------------------------- */

/*
 * Milliseconds a coap+ws connection may take to complete its HTTP upgrade
 * (the client's request on a server, the server's 101 on a client),
 * counted from the TCP connection. Past it the connection is closed (a
 * server first answers 408), so a peer that sends its head a byte at a
 * time, or never, holds a connection for a bounded time. @ms 0 restores
 * the default, 5000; the upgrade is always bounded. Applies to connections
 * made after the call. Loop thread.
 */
COAP_API void coap_petrel_context_set_ws_upgrade_timeout(coap_context_t *ctx,
                                                         unsigned ms);
/* The upgrade timeout in force (milliseconds); 0 for a NULL @ctx. */
COAP_API unsigned
coap_petrel_context_get_ws_upgrade_timeout(const coap_context_t *ctx);

/* ---- observers (RFC 7641) ------------------------------------------------ */

/*
 * Largest number of observers of one resource (default 4096) and of the
 * whole context (default 8192, below the default number of sessions per
 * endpoint, so that registrations alone cannot fill an endpoint). Past
 * either, a GET (or FETCH) with Observe: 0 is answered as a plain GET,
 * without the Observe option (RFC 7641 4.1), so the client knows it is not
 * registered; existing observers are not affected. Each observer holds a
 * copy of its registering request and about 120 bytes besides.
 */
COAP_API void
coap_petrel_context_set_max_observers_per_resource(coap_context_t *ctx,
                                                   size_t max);
COAP_API size_t
coap_petrel_context_get_max_observers_per_resource(const coap_context_t *ctx);
COAP_API void coap_petrel_context_set_max_observers_total(coap_context_t *ctx,
                                                          size_t max);
COAP_API size_t
coap_petrel_context_get_max_observers_total(const coap_context_t *ctx);

/* ---- several contexts on one port (doc/scaling.md) ---------------------- */

/*
 * With @on non-zero, the endpoints @ctx creates from now on set
 * SO_REUSEPORT before they bind (default 0: off), so that several
 * contexts, one per worker thread, can each bind the same address and
 * port; the kernel then spreads the peers over their sockets by a hash of
 * the peer's address and port, so each peer's session lives in one
 * context. Every context on the port must have it on: without it Linux
 * still lets a second context bind (endpoints set SO_REUSEADDR, as
 * libcoap's do) but delivers all datagrams to one socket. Contexts share
 * nothing: each worker runs
 * its own loop and its handlers; see doc/scaling.md for what the
 * application must guarantee. Endpoints already open are not changed.
 */
COAP_API void coap_petrel_context_set_reuseport(coap_context_t *ctx, int on);
COAP_API int coap_petrel_context_get_reuseport(const coap_context_t *ctx);

/* ---- counters ------------------------------------------------------------ */

typedef struct coap_petrel_stats_t {
  size_t sessions;                /* server sessions, all endpoints */
  size_t client_sessions;         /* client sessions not yet freed */
  size_t exchanges;               /* messages kept: CONs in flight or queued,
                                     requests awaiting a response */
  size_t dedup_entries;           /* remembered message IDs */
  size_t asyncs;                  /* pending separate responses */
  size_t block_bytes;             /* held by Block1 reassemblies */
  uint64_t sessions_refused;      /* datagrams dropped: endpoint full */
  uint64_t sessions_evicted;      /* idle sessions evicted for a new peer */
  uint64_t amplification_dropped; /* datagrams not sent (11.3 policy) */
  size_t observers;               /* observers registered (server) */
  uint64_t observers_refused;     /* registrations an observer limit refused */
} coap_petrel_stats_t;

/*
 * Fills *@stats (borrowed, written) with the current counts of @ctx.
 * Cheap (no scan): tests and monitoring may call it often. Returns 1, or
 * 0 when an argument is NULL.
 */
COAP_API int coap_petrel_context_get_stats(const coap_context_t *ctx,
                                           coap_petrel_stats_t *stats);

#ifdef __cplusplus
}
#endif

#endif /* COAP_PETREL_H_ */
