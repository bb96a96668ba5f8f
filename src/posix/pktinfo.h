/*
 * pktinfo.h -- the local address of each datagram (internal, POSIX/Linux).
 *
 * A socket bound to a wildcard address receives datagrams sent to any of
 * the host's addresses and to the multicast groups it joined. IP_PKTINFO
 * (IPv4) and IPV6_RECVPKTINFO (IPv6, RFC 3542) make the kernel report with
 * each datagram the address it was sent to and the interface it came in
 * over; sending with the same control message picks the source address,
 * so an answer leaves from the address the request went to.
 *
 * A socket bound to one unicast address needs none of it: it only receives
 * datagrams sent to that address, and its answers can only leave from it.
 * There the kernel is not asked (it would build and copy the control data
 * with every datagram for nothing); the local address is the bound one and
 * the interface the one that holds it, found once when the socket opens.
 */
#ifndef PT_PKTINFO_H
#define PT_PKTINFO_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "coap3/coap.h"

/* Room for the control data of one datagram, received or sent. */
#define PT_PKTINFO_SPACE                                                       \
  (CMSG_SPACE(sizeof(struct in_pktinfo)) +                                     \
   CMSG_SPACE(sizeof(struct in6_pktinfo)))

/* Whether an endpoint bound to @bound (borrowed) needs the local address of
 * each datagram: 1 for a wildcard (0.0.0.0, ::, ::ffff:0.0.0.0), a
 * multicast or a broadcast address, which take datagrams sent to other
 * addresses; 0 for one unicast address. */
int pt_pktinfo_needed(const coap_address_t *bound);

/*
 * The index of the interface that holds unicast address @bound (borrowed;
 * IPv4, IPv4-mapped or IPv6): the interface with exactly that address, for
 * an IPv6 address with a scope its scope, else the loopback interface
 * whose prefix covers it (127.0.0.2 on lo's 127.0.0.1/8). Returns -1 when
 * none is found (an address made local by a route alone), so that the
 * caller asks the kernel per datagram instead. Reads the host's interface
 * list (getifaddrs()): for opening a socket, not for each datagram.
 */
int pt_pktinfo_owner(const coap_address_t *bound);

/* Asks the kernel to report the destination address and interface of every
 * datagram @fd (a UDP socket of @family) receives. Returns 0, or -1 with
 * errno set when the kernel refuses. */
int pt_pktinfo_enable(int fd, int family);

/*
 * Reads the destination address and arrival interface of a datagram
 * received on a socket of @family from the control data of @msg (borrowed).
 * @local gets that address with port @port (an IPv4 address on an IPv6
 * socket as IPv4-mapped, so that it has the family of the peer's), and
 * *@ifindex the interface. Returns 1, or 0 (nothing written) when @msg has
 * no such control message.
 */
int pt_pktinfo_read(const struct msghdr *msg, int family, uint16_t port,
                    coap_address_t *local, int *ifindex);

/*
 * Writes to @ctrl (PT_PKTINFO_SPACE bytes) the control message that makes a
 * datagram leave from address @local; for a multicast @local (an answer to
 * a request sent to a group, RFC 7252 8.1) the source is left to the
 * kernel, which picks a unicast address of interface @ifindex (0 or less:
 * any interface). Returns its length, or 0 when @local is neither IPv4 nor
 * IPv6 (nothing to write).
 */
size_t pt_pktinfo_write(uint8_t *ctrl, const coap_address_t *local,
                        int ifindex);

#endif /* PT_PKTINFO_H */
