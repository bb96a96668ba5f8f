/*
 * seed_async_server: the separate-response example of libcoap's
 * coap_async(3) page, built as it is published.
 *
 *   seed_async_server [addr [port]]     (default :: and 5683; port 0 picks
 *                                        a free port)
 *
 * Serves GET /async?N with the page's hnd_get_with_delay handler, verbatim
 * in seed_handler.h: an empty ACK at once, then a separate 2.05 "done" N
 * seconds later (5 without a query). Prints "seed_async_server: listening
 * on ADDR:PORT" to stderr once ready and runs until SIGINT or SIGTERM.
 */
#include <coap3/coap.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed_handler.h" /* the page's handler, verbatim */

/* The resource's path, in static storage so it outlives the resource. */
static coap_str_const_t async_path = {5, (const uint8_t *)"async"};

static volatile sig_atomic_t quit;

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

static coap_endpoint_t *listen_on(coap_context_t *ctx, const char *host,
                                  unsigned port) {
  coap_str_const_t name = {strlen(host), (const uint8_t *)host};
  coap_addr_info_t *info = coap_resolve_address_info(
      &name, COAP_DEFAULT_PORT, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT,
      COAP_RESOLVE_TYPE_LOCAL);
  if (!info)
    return NULL;
  coap_address_t addr;
  coap_address_copy(&addr, &info->addr);
  coap_free_address_info(info);
  coap_address_set_port(&addr, (uint16_t)port);
  return coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP);
}

int main(int argc, char **argv) {
  const char *host = argc > 1 ? argv[1] : "::";
  unsigned long port = COAP_DEFAULT_PORT;
  if (argc > 2) {
    char *end;
    port = strtoul(argv[2], &end, 10);
    if (*end || port > 0xFFFF) {
      fprintf(stderr, "usage: %s [addr [port]]\n", argv[0]);
      return EXIT_FAILURE;
    }
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  coap_endpoint_t *ep = ctx ? listen_on(ctx, host, (unsigned)port) : NULL;
  coap_resource_t *r = ep ? coap_resource_init(&async_path, 0) : NULL;
  if (!r) {
    fprintf(stderr, "%s: cannot listen on %s port %lu\n", argv[0], host, port);
    coap_free_context(ctx);
    coap_cleanup();
    return EXIT_FAILURE;
  }
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
  coap_add_resource(ctx, r);

  const char *desc = coap_endpoint_str(ep); /* "ADDR:PORT UDP" */
  fprintf(stderr, "seed_async_server: listening on %.*s\n",
          (int)strcspn(desc, " "), desc);
  fflush(stderr);

  while (!quit && coap_io_process(ctx, COAP_IO_WAIT) >= 0)
    ;
  coap_free_context(ctx);
  coap_cleanup();
  return EXIT_SUCCESS;
}
