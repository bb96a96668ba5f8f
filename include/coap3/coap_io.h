/*
 * coap_io.h -- socket-level types shared by the session and context APIs.
 *
 * Petrel implements libcoap 4.3.4's API; this header carries the socket
 * descriptor type, the address pair of a session and the reasons a
 * confirmable message can fail to be delivered.
 */
#ifndef COAP_IO_H_
#define COAP_IO_H_

#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "coap3/libcoap.h"
#include "coap3/coap_address.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of the receive buffer used for one datagram (bytes). */
#ifndef COAP_RXBUFFER_SIZE
#define COAP_RXBUFFER_SIZE 1472
#endif

/** Most events fetched by one epoll_wait() inside coap_io_process(). */
#ifndef COAP_MAX_EPOLL_EVENTS
#define COAP_MAX_EPOLL_EVENTS 10
#endif

/** A socket descriptor as the operating system hands it out. */
typedef int coap_fd_t;

/** Closes a coap_fd_t. */
#define coap_closesocket close
/** Return value of a failed socket call. */
#define COAP_SOCKET_ERROR (-1)
/** A coap_fd_t that refers to no socket. */
#define COAP_INVALID_SOCKET (-1)

/** Bit set describing what a library socket wants and can do. */
typedef uint16_t coap_socket_flags_t;

/** The two ends of a session: where the peer is and where we are. */
typedef struct coap_addr_tuple_t {
  coap_address_t remote; /**< peer address and port */
  coap_address_t local;  /**< our address and port */
} coap_addr_tuple_t;

/**
 * Describes the last socket error of the calling thread (errno) as text.
 *
 * @return A static string owned by the C library; valid until the next
 *         call on this thread. Never NULL. Any thread.
 */
COAP_API const char *coap_socket_strerror(void);

/**
 * Reports whether this build can speak CoAP over TCP (RFC 8323).
 *
 * @return 1 if TCP is available, 0 if not. Any thread.
 */
COAP_API int coap_tcp_is_supported(void);

/**
 * Why a confirmable message (or a whole session) failed, as passed to the
 * coap_nack_handler_t registered with coap_register_nack_handler().
 * The numeric values are libcoap 4.3.4's.
 */
typedef enum {
  COAP_NACK_TOO_MANY_RETRIES, /**< MAX_RETRANSMIT reached with no ACK */
  COAP_NACK_NOT_DELIVERABLE,  /**< the message could not be sent */
  COAP_NACK_RST,              /**< the peer answered with a Reset */
  COAP_NACK_TLS_FAILED,       /**< the (D)TLS session failed */
  COAP_NACK_ICMP_ISSUE,       /**< an ICMP error was reported */
  COAP_NACK_BAD_RESPONSE,     /**< the response could not be used */
  COAP_NACK_TLS_LAYER_FAILED, /**< the TLS layer failed */
  COAP_NACK_WS_LAYER_FAILED,  /**< the WebSockets layer failed */
  COAP_NACK_WS_FAILED         /**< the WebSockets session failed */
} coap_nack_reason_t;

#ifdef __cplusplus
}
#endif

#endif /* COAP_IO_H_ */
