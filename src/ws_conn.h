/*
 * ws_conn.h -- CoAP over WebSockets (RFC 8323 section 4): the WebSocket
 * layer of a TCP connection (internal).
 *
 * A coap+ws connection is a tcp.c connection whose bytes pass through
 * this layer instead of the RFC 8323 stream reassembler:
 *
 *   socket bytes -> tcp.c -> pt_ws_conn_input():
 *       the HTTP/1.1 upgrade (ws_http.c), then RFC 6455 frames (ws.c);
 *       each binary message is one CoAP message -> pt_tcp_message()
 *   core -> pt_send_bytes() -> pt_tcp_send() -> pt_ws_conn_send():
 *       one binary frame per CoAP message (masked by a client)
 *       -> pt_tcp_write()
 *
 * Everything above (CSM, signaling, sessions, the message layer) is
 * tcp.c's and the core's, as for coap+tcp. Messages sent before the
 * upgrade completes (our CSM, a client's first requests) are framed and
 * held, and leave once the 101 has been sent (server) or received
 * (client). An upgrade not completed within the context's upgrade timeout
 * (coap_petrel_context_set_ws_upgrade_timeout(), default 5 s) closes the
 * connection, so a peer trickling an HTTP head holds a connection for a
 * bounded time. A frame breaking RFC 6455 is answered with a Close frame
 * carrying the status ws.c named (1002, 1003, 1007, 1009) and the
 * connection is closed; the peer's Close is answered with a Close and the
 * connection closed; closing the session sends a Close (1000) first.
 *
 * The layer never touches the socket: it writes through pt_tcp_write()
 * and is fed by tcp.c, so over a TLS byte pipe (tls_stream.c) it is
 * coaps+ws unchanged; there the upgrade starts once the TLS handshake is
 * done (pt_ws_conn_secured()).
 */
#ifndef PT_WS_CONN_H
#define PT_WS_CONN_H

#include "coap3/coap.h"

typedef struct pt_ws_conn pt_ws_conn;

/* The upgrade timeout when none is set (milliseconds). */
#define PT_WS_UPGRADE_TIMEOUT_MS 5000u

/* 1 if @proto runs CoAP over WebSockets. */
static inline int pt_ws_proto(coap_proto_t proto) {
  return proto == COAP_PROTO_WS || proto == COAP_PROTO_WSS;
}

/* New WebSocket state for the connection of @s (the server side of it if
 * @s is a server session), waiting for the upgrade, its timer armed from
 * @now. NULL if out of memory (or the timer could not be armed). */
pt_ws_conn *pt_ws_conn_new(coap_session_t *s, coap_tick_t now);

/* Heap bytes @w (NULL: none) holds for data: a message split across
 * reads, frames held before the upgrade, the upgrade's head buffer. */
size_t pt_ws_conn_buffered(const pt_ws_conn *w);

/* Frees @w (NULL is fine) and cancels its timer. */
void pt_ws_conn_free(coap_context_t *ctx, pt_ws_conn *w);

/* A client's TCP connection of @s is up: sends the upgrade request. 0, or
 * -1 when it could not be sent (the connection is then closed). */
int pt_ws_conn_start(coap_session_t *s);

/* coaps+ws: the TLS handshake of @s's connection has completed at @now.
 * The upgrade timeout runs from now (not from the TCP connect: the
 * handshake has a deadline of its own), and a client sends its upgrade
 * request, over TLS. 0, or -1 when the connection was closed. */
int pt_ws_conn_secured(coap_session_t *s, coap_tick_t now);

/* Bytes read from the connection of @s (borrowed) at @now. Returns 0, or
 * -1 when the connection was closed. */
int pt_ws_conn_input(coap_session_t *s, const uint8_t *data, size_t len,
                     coap_tick_t now);

/* Sends one CoAP message @data (@len bytes, WebSocket framing of RFC 8323
 * 4.4: Len 0) on @s as a binary frame, or holds it until the upgrade is
 * done. Returns @len, or -1 (nothing sent; the connection may be closed). */
ssize_t pt_ws_conn_send(coap_session_t *s, const uint8_t *data, size_t len);

/* Writes into @out (PT_WS_HDR_MAX + 2 bytes) the Close frame (1000) to
 * send before the connection of @s closes on our side, and returns its
 * size; 0 when none is due (the upgrade is not done, or a Close was sent
 * already). */
size_t pt_ws_conn_close_frame(coap_session_t *s, uint8_t *out);

#endif /* PT_WS_CONN_H */
