/*
 * link.h -- what carries a session's messages: a small table of functions
 * per transport, which the message layer calls instead of asking which
 * transport a session uses.
 *
 * A session's table is chosen when its transport state is attached
 * (dtls.c: DTLS; tcp.c: TCP, TLS and WebSockets) and reset when that state
 * is freed; a session with none sends plain datagrams (limits.c).
 */
#ifndef PETREL_LINK_H
#define PETREL_LINK_H

#include <stddef.h>
#include <sys/types.h>

#include "coap3/coap.h"

#include "session.h"

typedef struct pt_link {
  /* Sends the bytes of one message (borrowed) to the peer of @s: encrypts,
   * frames, writes or queues them as the transport does. Returns the bytes
   * taken (@len), or -1 when they cannot go (the session is not open, its
   * write queue is full, or the socket failed). */
  ssize_t (*send)(coap_session_t *s, const uint8_t *data, size_t len);
  /* Something @s was waiting for ended (its last separate response, an
   * exchange). NULL when the transport never waits on such work. */
  void (*settled)(coap_session_t *s);
  /* The largest PDU (token, options, payload) a message to the peer of @s
   * may carry. NULL: the session's MTU less the 4-byte header. */
  size_t (*max_pdu)(const coap_session_t *s);
  /* Sends the transport's own ping (RFC 8323 5.4: 7.02), 0 or -1 (no open
   * connection). NULL: the transport is unreliable and pings with an
   * Empty CON through the exchange layer (RFC 7252 4.3). */
  int (*ping)(coap_session_t *s);
  /* Closes the connection of @s at once (a server session is freed).
   * NULL when there is no connection to close (datagram transports). */
  void (*close)(coap_session_t *s);
} pt_link;

extern const pt_link pt_link_udp;  /* limits.c: the context's send */
extern const pt_link pt_link_dtls; /* dtls.c */
extern const pt_link pt_link_tcp;  /* tcp.c: TCP, TLS, WS and WSS */

/* The table of @s: its transport's, or plain datagrams'. */
static inline const pt_link *pt_session_link(const coap_session_t *s) {
  return s->link ? s->link : &pt_link_udp;
}

#endif
