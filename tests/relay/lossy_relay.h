/*
 * lossy_relay.h -- a fault-injecting UDP relay for the reliability tests.
 *
 * The relay listens on a loopback port and forwards each datagram to one
 * upstream server, from a socket of its own per downstream peer (so the
 * server sees as many peers as there are clients), and the answers back.
 * Each way it drops, duplicates and delays datagrams at random; random
 * delays reorder them. The decisions come from a seeded generator, so a
 * run's fault pattern is reproducible up to the timing of arrivals.
 *
 * The relay runs in a thread of its own and uses no library code: it is the
 * "network" between a Petrel client and server in one test process, or
 * between Debian's coap-client and a Petrel server (tests/relay/main.c).
 */
#ifndef PETREL_LOSSY_RELAY_H
#define PETREL_LOSSY_RELAY_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct relay_fault {
  double loss;       /* probability a datagram is dropped */
  double dup;        /* probability it is sent twice */
  double reorder;    /* probability it is held back extra_ms more */
  unsigned delay_ms; /* every datagram is delayed 0..delay_ms */
  unsigned extra_ms; /* the hold-back of a reordered datagram */
} relay_fault;

typedef struct relay_stats {
  uint64_t in[2]; /* datagrams received: [0] up (client->server),
                     [1] down (server->client) */
  uint64_t dropped[2];
  uint64_t duplicated[2];
  uint64_t reordered[2];
  uint64_t out[2]; /* datagrams sent on */
} relay_stats;

typedef struct relay relay;

/*
 * Starts a relay in front of @upstream (borrowed; copied) with faults @up
 * (client to server) and @down (server to client) and generator @seed.
 * Listens on the loopback address of @upstream's family, port chosen by
 * the kernel: relay_port() tells it. Returns NULL on failure.
 */
relay *relay_start(const struct sockaddr *upstream, socklen_t len,
                   const relay_fault *up, const relay_fault *down,
                   uint64_t seed);

/* The port the relay listens on. */
uint16_t relay_port(const relay *r);

/* A snapshot of the counters (thread-safe). */
relay_stats relay_get_stats(relay *r);

/* Stops the thread, closes every socket and frees @r. */
void relay_stop(relay *r);

#endif /* PETREL_LOSSY_RELAY_H */
