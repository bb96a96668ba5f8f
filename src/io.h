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
  PT_IO_TCP,                   /* a TCP connection (coap_session_t) */
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

/* @s is about to be freed: datagrams queued to its peer (they point at its
 * address) leave now. */
void pt_io_session_freed(const coap_session_t *s);

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

/* ---- TCP (src/posix/tcp.c) ---- */

/* A listening socket for @ep bound to @addr, in the epoll set; fills
 * ep->bind_addr. 0 or -1. */
int pt_io_tcp_listen(coap_endpoint_t *ep, const coap_address_t *addr);

/* The next waiting connection of listening @ep: its non-blocking socket
 * with @peer and @local filled, or -1 when none waits. */
int pt_io_tcp_accept(coap_endpoint_t *ep, coap_address_t *peer,
                     coap_address_t *local);

/* Adds @s's connected socket to the epoll set (readable, and writable
 * when @want_write). 0 or -1. */
int pt_io_tcp_register(coap_session_t *s, int want_write);

/* Closes a socket that has no session. */
void pt_io_close_fd(int fd);

/* Whether @s's socket is also watched for writability. */
void pt_io_tcp_want_write(coap_session_t *s, int on);

/* Starts a non-blocking connect of client session @s to s->remote, bound
 * to @local (may be NULL); the socket is watched for writability, which
 * tells the connect's end. 0 or -1. */
int pt_io_tcp_connect(coap_session_t *s, const coap_address_t *local);

/* After writability: 0 when @s's connect succeeded (s->local is then
 * filled), else its errno. */
int pt_io_tcp_connect_result(coap_session_t *s);

/* Reads up to @len bytes of @s's socket: the count, 0 at the peer's end
 * of stream, -2 when nothing waits, -1 on error. */
ssize_t pt_io_tcp_read(coap_session_t *s, uint8_t *buf, size_t len);

/* Writes what @s's socket takes of @data: the count (0 when it takes
 * nothing now), or -1 on error. */
ssize_t pt_io_tcp_write(coap_session_t *s, const uint8_t *data, size_t len);

#endif /* PT_IO_H */
