/*
 * server.h -- the pieces of coap-server (coap-server.c): what the command
 * line asks for (server_options.c), the resources (server_resources.c) and
 * where it listens (server_listen.c).
 */
#ifndef PETREL_TOOL_SERVER_H
#define PETREL_TOOL_SERVER_H

#include <coap3/coap.h>

#include "dtls_opts.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What the command line asks for. Strings are borrowed from argv. */
typedef struct {
  const char *addr;
  unsigned port;
  int log_level;
  int dtls_log_level;     /* -V */
  uint32_t block_mode;    /* -L */
  const char *group;      /* -g */
  const char *group_if;   /* -G */
  const char *loss;       /* -l */
  int mcast_per_resource; /* -r */
  int track_observes;     /* -t */
  size_t max_token;       /* -T, 0: the library's default */
  uint32_t csm_max;       /* -X, 0: the library's default */
  int unix_socket;        /* -U coap: addr is a datagram socket path */
  int ws_port;            /* -w: the coap+ws port (0 picks one), -1: none */
  int wss_port;           /* -w: the coaps+ws port (0 picks one) */
  int wss_given;          /* -w named the secure port */
  unsigned dynamic_max;   /* -d: resources PUT or POST may create */
  int echo_back;          /* -e: a PUT's answer carries the stored body */
  int notify_non;         /* -N: observers notified with NONs */
  tool_dtls dtls;         /* -k -h -i -s -c -j -C -R -n -S -M (dtls_opts.h) */
} server_opts_t;

/* ---- server_options.c --------------------------------------------------- */

/* Fills @o from argv (o->dtls to be freed by the caller whatever the
 * result). Returns -1 to exit successfully (help, version), 0 on a usage
 * error (message printed), 1 to go on. */
int server_parse_args(int argc, char **argv, server_opts_t *o);

/* ---- server_resources.c ------------------------------------------------- */

/* Registers the resources on @ctx with -d, -e and -N of @o. Returns /time
 * (to notify its observers), or NULL on failure. The context owns them;
 * server_free_resources() frees what they kept beside it. */
coap_resource_t *server_init_resources(coap_context_t *ctx,
                                       const server_opts_t *o);

/* Frees /example_data's body and a body arriving block by block, once the
 * context is freed. */
void server_free_resources(void);

/* The wall clock's seconds. */
time_t server_wall_seconds(void);

/* Notifies /time's observers when a second later than *@last has begun
 * and the clock runs (it stops after a DELETE); *@last is then that
 * second. */
void server_time_tick(coap_resource_t *time_resource, time_t *last);

/* ---- server_listen.c ---------------------------------------------------- */

/* Opens the endpoints: UDP (and TCP) on -A and -p; with credentials DTLS
 * (and TLS) on the next port; with -w coap+ws (and coaps+ws). Each is said
 * on stderr. Returns 1, or 0 with the reason printed. */
int server_listen(coap_context_t *ctx, server_opts_t *o);

#endif /* PETREL_TOOL_SERVER_H */
