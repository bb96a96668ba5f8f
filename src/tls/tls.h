/*
 * tls.h -- the (D)TLS backend interface (internal).
 *
 * One backend implements this per TLS library: src/tls/openssl*.c (DTLS 1.2
 * and TLS 1.2/1.3 on OpenSSL 3) and src/tls/none.c (a build without (D)TLS,
 * where every entry point fails). The build links exactly one of them into each
 * library (libcoap-3-openssl, libcoap-3-notls); a second library (wolfSSL for
 * DTLS 1.3 and Connection IDs) would be one more file.
 *
 * The backend is sans-I/O: it never touches a socket or a clock of its own
 * choosing. Records it wants to send leave through the pt_tls_out_fn the
 * caller (src/dtls.c) gave it; received datagrams come in through
 * pt_tls_listen() and pt_tls_input(); its retransmission timer is read with
 * pt_tls_timeout_ms() and kept in the context's timer heap by the caller,
 * which calls pt_tls_timeout() when it fires. Each backend also defines the
 * public capability queries (coap_dtls_is_supported() and friends) and
 * coap_string_tls_version(), coap_string_tls_support().
 *
 * Ownership: setup structures passed in are borrowed for the call; the
 * backend copies what it keeps. Objects returned are owned by the caller
 * and freed with the matching _free().
 */
#ifndef PT_TLS_H
#define PT_TLS_H

#include "coap3/coap.h"

typedef struct pt_tls pt_tls;                   /* one DTLS association */
typedef struct pt_tls_listener pt_tls_listener; /* an endpoint's cookie
                                                   exchange */

/* Sends one record datagram (borrowed bytes) for the backend. */
typedef void (*pt_tls_out_fn)(void *arg, const uint8_t *data, size_t len);
/* Hands one decrypted application record (borrowed bytes) upward. */
typedef void (*pt_tls_deliver_fn)(void *arg, const uint8_t *data, size_t len);

/* What pt_tls_input() and pt_tls_timeout() report. */
enum {
  PT_TLS_AGAIN = 0, /* nothing changed: more datagrams needed */
  PT_TLS_CONNECTED, /* the handshake completed during this call */
  PT_TLS_CLOSED,    /* the peer closed the association (close_notify) */
  PT_TLS_FAILED     /* fatal: alert, bad handshake, timeout given up */
};

/* ---- credentials of a context (kept in ctx->tls) ------------------------ */

/* Server PSK (and client PSK defaults are per session). 1 or 0. */
int pt_tls_set_spsk(coap_context_t *ctx, const coap_dtls_spsk_t *setup);
/* Context PKI: the server's certificate and the verification rules used
 * by both roles. 1 or 0. */
int pt_tls_set_pki(coap_context_t *ctx, const coap_dtls_pki_t *setup);
/* Trusted CAs for verifying peers. 1 or 0. */
int pt_tls_set_root_cas(coap_context_t *ctx, const char *ca_file,
                        const char *ca_dir);
/* 1 if @ctx has credentials a server can use (PSK or PKI). */
int pt_tls_can_serve(const coap_context_t *ctx);
/* Frees ctx->tls. */
void pt_tls_context_free(coap_context_t *ctx);

/* ---- the stateless cookie exchange (RFC 6347 4.2.1) ---------------------- */

/* One per DTLS endpoint; NULL when (D)TLS is not available. */
pt_tls_listener *pt_tls_listener_new(coap_context_t *ctx);
void pt_tls_listener_free(pt_tls_listener *l);

/*
 * Runs a datagram from @peer, for which no session exists, through the
 * cookie exchange without keeping anything about @peer: a ClientHello
 * without a valid cookie is answered with a HelloVerifyRequest through
 * @out, anything else is dropped. Returns 1 when the datagram is a
 * ClientHello with a valid cookie (the caller then creates the session and
 * calls pt_tls_accept() before the next pt_tls_listen()), else 0.
 */
int pt_tls_listen(pt_tls_listener *l, const coap_address_t *peer,
                  const uint8_t *data, size_t len, pt_tls_out_fn out,
                  void *arg);

/* Continues the handshake whose ClientHello pt_tls_listen() accepted as a
 * server association for @s. NULL on failure. */
pt_tls *pt_tls_accept(pt_tls_listener *l, coap_session_t *s, pt_tls_out_fn out,
                      void *arg);

/* ---- associations ----------------------------------------------------------
 */

/* Starts a client handshake for @s (the ClientHello leaves through @out)
 * with PSK @psk or PKI @pki (one of them, or neither for an unverified
 * certificate handshake). NULL on failure. */
pt_tls *pt_tls_client_new(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                          const coap_dtls_pki_t *pki, pt_tls_out_fn out,
                          void *arg);

/* Feeds one received datagram: advances the handshake and hands every
 * application record to @deliver. Returns a PT_TLS_* value. */
int pt_tls_input(pt_tls *t, const uint8_t *data, size_t len,
                 pt_tls_deliver_fn deliver, void *arg);

/* Encrypts @len bytes as one record and sends it. Returns @len or -1. */
ssize_t pt_tls_write(pt_tls *t, const uint8_t *data, size_t len);

/* Milliseconds until the backend's retransmission timer expires (0 if it
 * has), or -1 when none runs. */
long pt_tls_timeout_ms(pt_tls *t);

/* The retransmission timer expired: retransmits the last flight. Returns
 * PT_TLS_AGAIN, or PT_TLS_FAILED when the backend gives up. */
int pt_tls_timeout(pt_tls *t);

/* Sends close_notify (once). */
void pt_tls_close(pt_tls *t);
void pt_tls_free(pt_tls *t);

/* ---- TLS over a byte stream (coaps+tcp) -----------------------------------
 *
 * The same association object over a stream: records may be cut anywhere
 * and are joined by the backend. What the backend writes leaves through
 * @out at once; pt_tls_write(), pt_tls_close(), pt_tls_free() and
 * pt_tls_native() work on stream associations too.
 */

/* A server association for @s with its context's credentials (the first
 * bytes it reads are the ClientHello). NULL on failure. */
pt_tls *pt_tls_stream_server(coap_session_t *s, pt_tls_out_fn out, void *arg);

/* A client association as pt_tls_client_new() makes for DTLS; its
 * ClientHello has left through @out. NULL on failure. */
pt_tls *pt_tls_stream_client(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                             const coap_dtls_pki_t *pki, pt_tls_out_fn out,
                             void *arg);

/*
 * Feeds @in_len bytes of ciphertext (borrowed; may be 0 to go on with what
 * is buffered) and takes up to @cap bytes of plaintext into @buf: *@used
 * gets how many input bytes were consumed (the rest must be fed again),
 * *@got the plaintext count. Returns PT_TLS_AGAIN (more input is needed
 * when *@got is 0 and all input was used), PT_TLS_CONNECTED (the handshake
 * completed in this call), PT_TLS_CLOSED (close_notify) or PT_TLS_FAILED
 * (an alert, a bad record or a failed handshake; final).
 */
int pt_tls_recv(pt_tls *t, const uint8_t *in, size_t in_len, size_t *used,
                uint8_t *buf, size_t cap, size_t *got);

/* 1 if part of a record has been fed and not yet completed (the stream
 * ending now would cut it). */
int pt_tls_partial(pt_tls *t);

/* The library's own session object (SSL * for OpenSSL) for
 * coap_session_get_tls(); sets *lib. */
void *pt_tls_native(pt_tls *t, coap_tls_library_t *lib);

#endif /* PT_TLS_H */
