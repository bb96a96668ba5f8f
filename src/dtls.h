/*
 * dtls.h -- CoAP over DTLS (RFC 7252 section 9): the security layer
 * between a datagram socket and the message layer (internal).
 *
 * The message layer never sees DTLS. Datagrams of a DTLS endpoint or client
 * session enter here from the platform backend (src/posix/io.c) instead of
 * pt_recv_datagram(); decrypted CoAP messages leave upward through
 * pt_recv_datagram(). Every message the core sends passes pt_send_bytes(),
 * which hands it to pt_dtls_send() for a DTLS session; the records leave
 * through context->send. The TLS library sits behind src/tls/tls.h.
 *
 * A server keeps nothing about a peer before it has returned a valid
 * cookie (RFC 6347 section 4.2.1): unknown peers go through the endpoint's
 * stateless listener, and only a ClientHello with a valid cookie creates a
 * session. The backend's retransmission timer and a handshake deadline are
 * timers in the context's heap.
 */
#ifndef PT_DTLS_H
#define PT_DTLS_H

#include "coap3/coap.h"

/* Seconds a handshake may take before the session is freed. */
#define PT_DTLS_HANDSHAKE_SECONDS 30
/* Plaintext a client session holds while its handshake runs (messages,
 * bytes); what does not fit is dropped, as if lost. */
#define PT_DTLS_PENDING_MAX 32
#define PT_DTLS_PENDING_BYTES 65536

typedef struct pt_dtls pt_dtls;

/* A datagram from @peer (to @local, interface @ifindex) on DTLS endpoint
 * @ep, at @now. Borrowed bytes. */
void pt_dtls_endpoint_input(coap_endpoint_t *ep, const coap_address_t *peer,
                            const coap_address_t *local, int ifindex,
                            const uint8_t *data, size_t len, coap_tick_t now);

/* A datagram for DTLS session @s (a client session's socket). */
void pt_dtls_session_input(coap_session_t *s, const uint8_t *data, size_t len,
                           coap_tick_t now);

/* Encrypts one CoAP message for @s and sends it (queued while a client's
 * handshake runs). Returns @len, or -1. */
ssize_t pt_dtls_send(coap_session_t *s, const uint8_t *data, size_t len);

/* Starts the client handshake of DTLS (or, for a COAP_PROTO_TLS session,
 * TLS) session @s with PSK @psk or PKI @pki
 * (both borrowed; either or both may be NULL). 0, or -1 on failure. */
int pt_dtls_client_start(coap_session_t *s, const coap_dtls_cpsk_t *psk,
                         const coap_dtls_pki_t *pki);

/* Prepares a new DTLS endpoint (its stateless listener). 0 or -1. */
int pt_dtls_endpoint_init(coap_endpoint_t *ep);
void pt_dtls_endpoint_free(coap_endpoint_t *ep);

/* Sends close_notify and frees @s's DTLS state (session teardown). */
void pt_dtls_session_free(coap_session_t *s);

/* Frees the context's credentials (context teardown). */
void pt_dtls_context_free(coap_context_t *ctx);

/* Which PSK value the backend learned during a handshake. */
typedef enum { PT_PSK_HINT, PT_PSK_IDENTITY, PT_PSK_KEY } pt_psk_field;

/* The PSK values of one DTLS or TLS session (coap_session_get_psk_*()). */
typedef struct pt_psk_store {
  coap_bin_const_t psk[3]; /* hint, identity, key (pt_psk_field) */
  uint8_t hint_buf[COAP_DTLS_HINT_LENGTH];
  uint8_t identity_buf[COAP_DTLS_MAX_PSK_IDENTITY];
  uint8_t key_buf[COAP_DTLS_MAX_PSK];
} pt_psk_store;

void pt_psk_store_init(pt_psk_store *p);

/* Records a PSK value of @s's handshake (copied; cut to the libcoap
 * maximum for its kind), for coap_session_get_psk_*(); DTLS and TLS
 * sessions alike. */
void pt_dtls_set_psk(coap_session_t *s, pt_psk_field field, const uint8_t *data,
                     size_t len);

#endif /* PT_DTLS_H */
