/*
 * tcp.h -- CoAP over TCP (RFC 8323): the stream transport between a TCP
 * socket and the message layer (internal).
 *
 * Bytes a connection reads go through the stream reassembler (stream.c)
 * into whole messages; 7.xx signals are handled here (signal.c: CSM,
 * Ping/Pong, Release, Abort) and every other message goes to
 * pt_recv_message(). Every message the core sends passes pt_send_bytes(),
 * which hands it to pt_tcp_send(): written at once as far as the socket
 * takes it, the rest kept in the capped write queue (outq.c) and written
 * when the socket is writable; past the cap the connection is closed.
 *
 * Bytes pass through a byte pipe (pipe_read()/pipe_write()): the socket
 * for COAP_PROTO_TCP and COAP_PROTO_WS, TLS over it for COAP_PROTO_TLS and
 * COAP_PROTO_WSS (tls_stream.c), so the framing never knows which. With
 * TLS the CSM waits in the write queue until the handshake is done; on
 * coaps+ws the WebSocket upgrade starts once the handshake is done.
 *
 * Each side sends its CSM first (RFC 8323 5.3). A peer whose CSM has not
 * come within coap_context_set_csm_timeout() seconds is disconnected. The
 * session of a connection is freed when it closes (server side) or left
 * closed, with its exchanges failed (client side).
 */
#ifndef PT_TCP_H
#define PT_TCP_H

#include "coap3/coap.h"

/* The write queue's cap per connection (bytes) unless
 * coap_petrel_context_set_tcp_write_queue_max() says otherwise. */
#define PT_TCP_OUTQ_CAP (4u * 1024 * 1024)

typedef struct pt_tcp pt_tcp;

/* Opens a listening TCP socket for @ep at @addr. 0 or -1. */
int pt_tcp_endpoint_open(coap_endpoint_t *ep, const coap_address_t *addr);

/* @ep's listening socket is readable: accepts what is waiting. */
void pt_tcp_accept(coap_endpoint_t *ep, coap_tick_t now);

/* Starts a non-blocking connect for client session @s (remote set), bound
 * to @local (may be NULL), and queues our CSM. 0 or -1. */
int pt_tcp_client_open(coap_session_t *s, const coap_address_t *local);

/* The connection of @s became readable (@in) and/or writable (@out). */
void pt_tcp_io(coap_session_t *s, int in, int out, coap_tick_t now);

/* Sends one framed CoAP message on @s (in a WebSocket frame on coap+ws).
 * Returns @len, or -1 when the connection is closed or its queue is full
 * (it is then closed). */
ssize_t pt_tcp_send(coap_session_t *s, const uint8_t *data, size_t len);

/* Writes @a (@alen bytes) then @b (@blen; either may be empty), both
 * borrowed, on the connection of @s as they are (no framing): at once as
 * far as the socket takes them, the rest queued. 0, or -1 when the
 * connection is closed, or its socket failed or queue is full (it is then
 * closed). The framing layers (ws_conn.c) write through this. Inside
 * pt_tcp_input() the bytes are held instead and leave together when that
 * input is processed (one send() for a batch of answers). */
int pt_tcp_write(coap_session_t *s, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen);

/* One whole CoAP message @msg (@len bytes, borrowed, framed for s->proto)
 * from the peer of @s at @now: a signal is handled here, anything else
 * goes to the message layer. Returns 0, or -1 if the connection closed. */
int pt_tcp_message(coap_session_t *s, const uint8_t *msg, size_t len,
                   coap_tick_t now);

/* Closes the connection of @s from our side, reporting @ev, after writing
 * what is queued as far as the socket takes it now. */
void pt_tcp_shut(coap_session_t *s, coap_event_t ev);

/* Fails the connection of @s from inside a send (COAP_EVENT_TCP_FAILED):
 * it takes nothing more and is closed from a timer due at once, so the
 * exchange or response being sent is not freed under its sender. */
void pt_tcp_fail(coap_session_t *s);

/* 1 while the connection of @s is open (not closed, not failing), else 0. */
int pt_tcp_open(coap_session_t *s);

/* The WebSocket layer of @s's connection (coap+ws), or NULL. */
struct pt_ws_conn *pt_tcp_ws(coap_session_t *s);

/* Sends a 7.02 Ping on @s. 0 or -1 (no open connection). Its Pong clears
 * s->ka_outstanding and goes to the pong handler. */
int pt_tcp_ping(coap_session_t *s);

/* Closes the connection of @s at once (COAP_EVENT_TCP_CLOSED): a server
 * session is freed, a client session's exchanges fail. */
void pt_tcp_close(coap_session_t *s);

/* Something @s was waiting for ended (its last separate response, or an
 * exchange): held Custody Pongs may go now, and a connection the peer
 * released may close. Cheap when nothing waits; never closes from inside
 * the caller (the work runs from a timer due now). */
void pt_tcp_settled(coap_session_t *s);

/* Heap bytes the connection of @s holds for its data between inputs: a
 * partial message, the hold buffer, unwritten output and, on coap+ws, the
 * WebSocket layer's (pt_ws_conn_buffered()). 0 for an idle connection
 * whose messages arrive whole, and for a session without a connection. */
size_t pt_tcp_buffered(const coap_session_t *s);

/* 1 if BERT (RFC 8323 6) may be used on @s (see pt_signal_bert()). */
int pt_tcp_bert(const coap_session_t *s);

/* The Max-Message-Size the peer of @s announced (1152 until its CSM). */
size_t pt_tcp_peer_max_message_size(const coap_session_t *s);

/* The largest PDU (token, options and payload) a message to the peer of
 * @s may carry: coap_session_max_pdu_size() on a TCP session. */
size_t pt_tcp_max_pdu(const coap_session_t *s);

/* Frees @s's connection state and closes its socket (session teardown). */
void pt_tcp_session_free(coap_session_t *s);

/* Bytes of framed messages from the connection of @s (borrowed) at @now:
 * the sans-I/O entry that pt_tcp_io() feeds (and tests call directly).
 * What the messages make the connection send is held until they are all
 * processed and then written at once (TLS: as one record), so pipelined
 * requests are answered with as few writes as the socket takes. Returns
 * 0, or -1 when the connection was closed. */
int pt_tcp_input(coap_session_t *s, const uint8_t *data, size_t len,
                 coap_tick_t now);

/* Attaches connection state to @s (socket @fd, -1 for none; @connecting
 * while a connect is under way) and queues our CSM. 0 or -1 (the
 * session's teardown frees what was attached). */
int pt_tcp_attach(coap_session_t *s, int fd, int connecting, coap_tick_t now);

/* ---- CoAP over TLS (the pipe is tls_stream.c) ---- */

struct pt_tls_stream;

/* Starts the client TLS handshake of COAP_PROTO_TLS or COAP_PROTO_WSS
 * session @s (attached and connecting) with @psk or @pki (borrowed; either
 * or neither). Server sessions of a TLS or WSS endpoint get theirs in
 * pt_tcp_attach(). 0 or -1. */
int pt_tcp_start_tls(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                     const coap_dtls_pki_t *pki, coap_tick_t now);

/* The TLS pipe of @s's connection, or NULL (plain TCP, none yet). */
struct pt_tls_stream *pt_tcp_pipe(const coap_session_t *s);

#endif /* PT_TCP_H */
