/*
 * tls_stream.h -- the TLS byte pipe of a CoAP-over-TLS connection
 * (RFC 8323 "coaps+tcp"; RFC 7252 section 9 security modes) (internal).
 *
 * A TCP connection (tcp.c) moves bytes between its socket and its framing
 * through a byte pipe: for COAP_PROTO_TCP and COAP_PROTO_WS the socket
 * itself (pt_io_tcp_read() / pt_io_tcp_write()), for COAP_PROTO_TLS and
 * COAP_PROTO_WSS this one, which has the same read and write contracts on
 * plaintext and keeps the TLS association (src/tls/tls.h) between them and
 * the socket. The framing above (RFC 8323 section 3 for coaps+tcp, the
 * WebSocket upgrade and frames of ws_conn.c for coaps+ws) does not know
 * which it has.
 *
 * Writes: plaintext is taken only once the handshake is done (until then
 * tcp.c's capped write queue holds it, so the CSM leaves first thing after
 * the handshake) and only while the ciphertext not yet taken by the socket
 * is under PT_TLS_STREAM_BACKLOG, so the write queue's cap keeps bounding
 * what a slow reader costs. Reads: ciphertext is read from the socket into
 * a buffer of the pipe and decrypted on demand.
 *
 * Events, as libcoap emits them for TLS: COAP_EVENT_DTLS_CONNECTED when the
 * handshake completes, COAP_EVENT_DTLS_ERROR when it fails (an alert, a bad
 * record, the peer leaving mid-handshake, or PT_TLS_HANDSHAKE_SECONDS
 * passing) or a record cannot be decrypted, COAP_EVENT_DTLS_CLOSED when an
 * established association ends; tcp.c then emits its TCP event. A failed
 * pipe makes exchanges end with COAP_NACK_TLS_FAILED.
 */
#ifndef PT_TLS_STREAM_H
#define PT_TLS_STREAM_H

#include "coap3/coap.h"

/* Seconds a TLS handshake may take before the connection is closed. */
#define PT_TLS_HANDSHAKE_SECONDS 30
/* Ciphertext (bytes) the pipe holds for the socket before it refuses
 * more plaintext (back-pressure into tcp.c's write queue). */
#define PT_TLS_STREAM_BACKLOG 65536

typedef struct pt_tls_stream pt_tls_stream;

/* 1 if @proto runs over a TLS byte pipe: coaps+tcp and coaps+ws. */
static inline int pt_tls_stream_proto(coap_proto_t proto) {
  return proto == COAP_PROTO_TLS || proto == COAP_PROTO_WSS;
}

/* Starts TLS on the connection of @s (its socket is s->fd): a server
 * session with its context's credentials, a client session with @psk or
 * @pki (borrowed; either or neither). Arms the handshake deadline from
 * @now. The pipe is stored in *@slot (tcp.c's, which the backend's
 * callbacks reach through pt_tcp_pipe()) before the handshake starts.
 * 0, or -1 with nothing kept and *@slot NULL. */
int pt_tls_stream_new(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                      const coap_dtls_pki_t *pki, coap_tick_t now,
                      pt_tls_stream **slot);

/* Plaintext from the peer into @buf (pt_io_tcp_read()'s contract): the
 * count, 0 at the end of the stream (close_notify, the socket's end, or a
 * TLS failure: see pt_tls_stream_failed()), -2 when nothing waits, -1 on
 * a socket error. Runs the handshake on the way. */
ssize_t pt_tls_stream_read(pt_tls_stream *ts, uint8_t *buf, size_t len);

/* Encrypts what it takes of @data (pt_io_tcp_write()'s contract): the
 * count (0 during the handshake or while the backlog is full), or -1. */
ssize_t pt_tls_stream_write(pt_tls_stream *ts, const uint8_t *data, size_t len);

/* Writes held ciphertext while the socket takes it. 0, or -1 on a socket
 * error. */
int pt_tls_stream_flush(pt_tls_stream *ts);

/* Whether the socket should be watched for writability: held ciphertext,
 * or plaintext waiting (@have_plain) that the pipe would now take. */
int pt_tls_stream_want_write(const pt_tls_stream *ts, int have_plain);

/* 1 if the handshake is done. */
int pt_tls_stream_connected(const pt_tls_stream *ts);

/* 1 if TLS failed (handshake, alert, bad record, deadline). */
int pt_tls_stream_failed(const pt_tls_stream *ts);

/* The connection is ending: an established association sends
 * close_notify (written if the socket takes it now) and reports
 * COAP_EVENT_DTLS_CLOSED, once. */
void pt_tls_stream_close(pt_tls_stream *ts);

/* Frees the pipe (not the socket). */
void pt_tls_stream_free(pt_tls_stream *ts);

/* The backend's session object (SSL * for OpenSSL); sets *lib. */
void *pt_tls_stream_native(const pt_tls_stream *ts, coap_tls_library_t *lib);

/* Where coap_session_get_psk_*() of a TLS session read from. */
struct pt_psk_store *pt_tls_stream_psk(pt_tls_stream *ts);

#endif /* PT_TLS_STREAM_H */
