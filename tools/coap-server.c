/*
 * coap-server: a small CoAP test server over the public API, with libcoap
 * 4.3.4's coap-server option letters and meanings (doc/man/coap-server.1).
 *
 * Listens on UDP addr:port (default [::]:5683, which takes IPv4 peers too;
 * port 0 picks a free port) and always prints one line "coap-server:
 * listening on ADDR:PORT" to stderr, so scripts can learn an ephemeral
 * port. Resources (those of libcoap's example server at the same paths,
 * and a few more):
 *
 *   /              GET: a short description of this server
 *   /time          GET (FETCH with the body "ticks" as ?ticks): the
 *                  server's clock as text ("?ticks": seconds since the
 *                  epoch); observable, notified every second.
 *                  PUT with a number sets the clock to those seconds since the
 *                  epoch, an empty PUT puts it back to real time (2.04, or
 *                  2.01 after a DELETE); DELETE stops the clock (2.02) and
 *                  GET then answers 4.04 until the next PUT.
 *   /async         GET ?N: a separate response "done" after N seconds (the
 *                  libcoap seed page's example handler, unmodified)
 *   /async_large   GET ?N: a separate response after N seconds whose body,
 *                  the first 4096 bytes of /large, takes several blocks
 *   /large         GET: 256 KiB of text, the lines "line 0\n", "line 1\n",
 *                  ... cut at 262144 bytes (served in Block2 blocks)
 *   /example_data  GET (and FETCH) the stored body, at start 1500 bytes
 *                  "a123456789b123456789..." as libcoap's; PUT replaces it
 *                  (2.04, or 2.01 when there was none; with -e the answer
 *                  carries the body); POST stores it (2.01); DELETE removes
 *                  it (2.02, GET then answers 4.04). Bodies of any size up
 *                  to the library's limit, both ways block-wise
 *   /.well-known/core  from the library (RFC 6690)
 *   with -d max: PUT or POST to any other path creates a resource there
 *                  (GET, FETCH, PUT, POST, DELETE), up to max of them; more
 *                  are refused with 4.06
 *
 * Block-wise transfers (RFC 7959) are the library's. By default (-L 3:
 * COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY) the handlers see whole
 * request bodies; with -L 1 (libcoap's example server's default) the
 * body handlers see each Block1 block, answer 2.31 Continue until the last
 * and reassemble the body themselves. Response bodies are always handed
 * over whole.
 *
 * With -t, observers, Observe numbers and dynamic resources are kept in
 * the files coap_dyn_resource_save_file, coap_observe_save_file and
 * coap_obs_cnt_save_file of $TMPDIR (default /tmp) and reloaded at start
 * (coap_persist_startup(), Observe numbers saved every 10), so that
 * observers keep their notifications across a restart, even after
 * SIGKILL. SIGUSR2 stops the server keeping them (coap_persist_stop():
 * observers get no final 4.04).
 *
 * The argument parsing is in server_options.c, the resources in
 * server_resources.c, the endpoints in server_listen.c. Runs until
 * SIGINT, SIGTERM or SIGUSR2, then frees everything.
 */
#include "server.h"
#include "tool.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t quit, keep_persist;

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

/* SIGUSR2: stop, keeping what -t saved (coap_persist_stop()). */
static void on_sigusr2(int sig) {
  (void)sig;
  quit = 1;
  keep_persist = 1;
}

/* The context settings from the command line, the multicast group
 * included (joined on the endpoint). Returns 1, or 0 with the reason
 * printed. */
static int configure(coap_context_t *ctx, const server_opts_t *o) {
  if (!tool_set_loss("coap-server", o->loss))
    return 0;
  coap_context_set_block_mode(ctx, o->block_mode);
  if (o->max_token)
    coap_context_set_max_token_size(ctx, o->max_token);
  if (o->csm_max)
    coap_context_set_csm_max_message_size(ctx, o->csm_max);
  if (o->mcast_per_resource)
    coap_mcast_per_resource(ctx);
  if (o->group && coap_join_mcast_group_intf(ctx, o->group, o->group_if) < 0) {
    fprintf(stderr, "coap-server: cannot join multicast group '%s'%s%s\n",
            o->group, o->group_if ? " on " : "",
            o->group_if ? o->group_if : "");
    return 0;
  }
  if (o->group_if && !o->group)
    fprintf(stderr, "coap-server: -G %s without -g: no group to join\n",
            o->group_if);
  return 1;
}

/* -t: the files of coap_persist_startup(), in $TMPDIR or /tmp. */
static int start_persist(coap_context_t *ctx) {
  const char *dir = getenv("TMPDIR");
  char dyn[512], obs[512], cnt[512];
  if (!dir || !*dir)
    dir = "/tmp";
  snprintf(dyn, sizeof(dyn), "%s/coap_dyn_resource_save_file", dir);
  snprintf(obs, sizeof(obs), "%s/coap_observe_save_file", dir);
  snprintf(cnt, sizeof(cnt), "%s/coap_obs_cnt_save_file", dir);
  if (!coap_persist_startup(ctx, dyn, obs, cnt, 10)) {
    fprintf(stderr, "coap-server: cannot keep observers in %s\n", dir);
    return 0;
  }
  return 1;
}

/* Milliseconds until the clock's next whole second (1..1000). */
static uint32_t ms_to_next_second(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint32_t)(1000 - ts.tv_nsec / 1000000);
}

/* Runs the loop, notifying /time's observers as each second begins. */
static void serve(coap_context_t *ctx, coap_resource_t *time_resource) {
  time_t last = server_wall_seconds();
  while (!quit) {
    if (coap_io_process(ctx, ms_to_next_second()) < 0)
      break;
    server_time_tick(time_resource, &last);
  }
}

int main(int argc, char **argv) {
  server_opts_t o;
  int r = server_parse_args(argc, argv, &o);
  if (r <= 0) {
    tool_dtls_free(&o.dtls);
    return r < 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  }

  tool_catch_signals(on_signal);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_sigusr2; /* no SA_RESTART either */
  sigaction(SIGUSR2, &sa, NULL);

  coap_startup();
  coap_set_log_level((coap_log_t)o.log_level);
  coap_dtls_set_log_level((coap_log_t)o.dtls_log_level);
  int status = EXIT_FAILURE;
  coap_context_t *ctx = coap_new_context(NULL);
  if (ctx) {
    coap_resource_t *time_resource = server_init_resources(ctx, &o);
    if (time_resource && server_listen(ctx, &o) && configure(ctx, &o) &&
        (!o.track_observes || start_persist(ctx))) {
      serve(ctx, time_resource);
      status = EXIT_SUCCESS;
    }
    if (o.track_observes && keep_persist)
      coap_persist_stop(ctx);
    coap_free_context(ctx); /* frees endpoints, sessions and resources */
  }
  tool_dtls_free(&o.dtls);
  server_free_resources();
  coap_cleanup();
  return status;
}
