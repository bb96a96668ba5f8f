/*
 * io.h -- what the protocol core needs from the platform (internal).
 *
 * The POSIX backend in src/posix/ implements this with UDP sockets, one
 * epoll set per context (the fd coap_context_get_coap_fd() returns), an
 * eventfd that other threads use to wake the loop and a timerfd that makes
 * the epoll fd readable when the next deadline is due. Nothing outside
 * src/posix/ calls a socket, epoll or clock function.
 */
#ifndef PT_IO_H
#define PT_IO_H

#include "coap3/coap.h"

/* What an epoll event's data points at. */
typedef enum pt_io_kind {
  PT_IO_ENDPOINT,
  PT_IO_CLIENT,
  PT_IO_WAKE,
  PT_IO_TIMER
} pt_io_kind;

typedef struct pt_io_handle {
  pt_io_kind kind;
  void *owner; /* coap_endpoint_t, coap_session_t or ctx */
} pt_io_handle;

/* Creates the context's epoll set, eventfd and timerfd. Returns 0 or -1. */
int pt_io_context_init(coap_context_t *ctx);

/* Closes them. */
void pt_io_context_free(coap_context_t *ctx);

/* Opens a UDP socket bound to @addr for @ep and adds it to the epoll set;
 * ep->bind_addr gets the bound address (with the port the kernel chose
 * for port 0). Returns 0 or -1. */
int pt_io_endpoint_open(coap_endpoint_t *ep, const coap_address_t *addr);

/* Closes the endpoint's socket. */
void pt_io_endpoint_close(coap_endpoint_t *ep);

/* Opens a UDP socket for client session @s, bound to @local (may be NULL)
 * and connected to s->remote; fills s->local. Returns 0 or -1. */
int pt_io_client_open(coap_session_t *s, const coap_address_t *local);

/* Closes a client session's socket. */
void pt_io_client_close(coap_session_t *s);

/* Sends one datagram to @s's peer (the default context->send). */
ssize_t pt_io_send(coap_session_t *s, const uint8_t *data, size_t len);

/* Sends one datagram from endpoint @ep's socket to @to, leaving from
 * @local (the default context->send_to). */
ssize_t pt_io_endpoint_send(coap_endpoint_t *ep, const coap_address_t *to,
                            const coap_address_t *local, int ifindex,
                            const uint8_t *data, size_t len);

/* Wakes a thread blocked in coap_io_process() or in poll()/epoll_wait() on
 * the context's fd. Safe from any thread. */
void pt_io_wake(coap_context_t *ctx);

/* Timer @deadline became the earliest one while no pass of the loop is
 * running: makes the context's fd readable by then. */
void pt_io_deadline_changed(coap_context_t *ctx, coap_tick_t deadline);

#endif /* PT_IO_H */
