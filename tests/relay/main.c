/*
 * lossy_relay: the fault-injecting relay as a program, for scripts that put
 * a real peer (Debian's coap-client-notls) on a lossy path.
 *
 *   lossy_relay [-s seed] [-l loss] [-d dup] [-r reorder] [-D delay_ms]
 *               UPSTREAM_ADDR UPSTREAM_PORT
 *
 * The faults apply each way. Prints "lossy_relay: listening on ADDR:PORT"
 * on stderr once ready, runs until SIGINT/SIGTERM, then prints what it did.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lossy_relay.h"

static volatile sig_atomic_t quit;

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

static int parse_upstream(const char *host, const char *port,
                          struct sockaddr_storage *a, socklen_t *len) {
  memset(a, 0, sizeof(*a));
  struct sockaddr_in *s4 = (struct sockaddr_in *)a;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)a;
  uint16_t p = (uint16_t)atoi(port);
  if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(p);
    *len = sizeof(*s4);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(p);
    *len = sizeof(*s6);
    return 0;
  }
  return -1;
}

int main(int argc, char **argv) {
  relay_fault f = {0.2, 0.05, 0.05, 20, 100};
  uint64_t seed = 1;
  int c;
  while ((c = getopt(argc, argv, "s:l:d:r:D:")) != -1) {
    switch (c) {
    case 's':
      seed = strtoull(optarg, NULL, 0);
      break;
    case 'l':
      f.loss = atof(optarg);
      break;
    case 'd':
      f.dup = atof(optarg);
      break;
    case 'r':
      f.reorder = atof(optarg);
      break;
    case 'D':
      f.delay_ms = (unsigned)atoi(optarg);
      break;
    default:
      goto usage;
    }
  }
  struct sockaddr_storage up;
  socklen_t len;
  if (argc - optind != 2 ||
      parse_upstream(argv[optind], argv[optind + 1], &up, &len) < 0)
    goto usage;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  relay *r = relay_start((struct sockaddr *)&up, len, &f, &f, seed);
  if (!r) {
    perror("lossy_relay");
    return 1;
  }
  fprintf(stderr, "lossy_relay: listening on %s:%u\n",
          up.ss_family == AF_INET6 ? "[::1]" : "127.0.0.1", relay_port(r));
  fflush(stderr);
  while (!quit)
    pause();
  relay_stats s = relay_get_stats(r);
  relay_stop(r);
  for (int d = 0; d < 2; d++)
    fprintf(stderr,
            "lossy_relay: %s: %" PRIu64 " in, %" PRIu64 " dropped, %" PRIu64
            " duplicated, %" PRIu64 " reordered, %" PRIu64 " out\n",
            d ? "down" : "up", s.in[d], s.dropped[d], s.duplicated[d],
            s.reordered[d], s.out[d]);
  return 0;
usage:
  fprintf(stderr, "usage: lossy_relay [-s seed] [-l loss] [-d dup] "
                  "[-r reorder] [-D delay_ms] UPSTREAM_ADDR UPSTREAM_PORT\n");
  return 1;
}
