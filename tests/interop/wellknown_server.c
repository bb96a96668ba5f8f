/*
 * wellknown_server.c -- a server for the /.well-known/core interop test:
 * 40 resources "sensor/00" .. "sensor/39", each with rt, if, title and ct
 * (about 3 KB of links), plus "a%2Fb" (reached by the single Uri-Path
 * option "a/b"). Written against the public API only.
 *
 * usage: wellknown_server ADDR
 * Listens on ADDR with a free UDP port and prints
 * "wellknown_server: listening on ADDR:PORT" to stderr; exits 0 on
 * SIGTERM after freeing everything.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coap3/coap.h>

static volatile sig_atomic_t quit;

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

static void hnd_get(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)s, (void)req, (void)q;
  coap_str_const_t *path = coap_resource_get_uri_path(r);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, path->length, path->s);
}

static int add(coap_context_t *ctx, int i) {
  char path[32], title[64];
  snprintf(path, sizeof(path), "sensor/%02d", i);
  snprintf(title, sizeof(title), "\"Sensor number %02d on the roof\"", i);
  coap_resource_t *r = coap_resource_init(
      coap_new_str_const((const uint8_t *)path, strlen(path)),
      COAP_RESOURCE_FLAGS_RELEASE_URI);
  if (!r)
    return 0;
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get);
  coap_add_attr(r, coap_make_str_const("rt"),
                coap_make_str_const("\"temperature-c\""), 0);
  coap_add_attr(r, coap_make_str_const("if"), coap_make_str_const("\"sensor\""),
                0);
  coap_str_const_t t = {strlen(title), (const uint8_t *)title};
  coap_add_attr(r, coap_make_str_const("title"), &t, 0);
  coap_add_attr(r, coap_make_str_const("ct"), coap_make_str_const("0"), 0);
  coap_add_resource(ctx, r);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: wellknown_server ADDR\n");
    return EXIT_FAILURE;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  coap_startup();
  int status = EXIT_FAILURE;
  coap_context_t *ctx = coap_new_context(NULL);
  coap_addr_info_t *info = NULL;
  if (!ctx)
    goto out;
  coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP);
  for (int i = 0; i < 40; i++)
    if (!add(ctx, i))
      goto out;
  coap_resource_t *slash = coap_resource_init(coap_make_str_const("a%2Fb"), 0);
  coap_register_handler(slash, COAP_REQUEST_GET, hnd_get);
  coap_add_resource(ctx, slash);

  coap_str_const_t host = {strlen(argv[1]), (const uint8_t *)argv[1]};
  info = coap_resolve_address_info(
      &host, 0, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT, COAP_RESOLVE_TYPE_LOCAL);
  if (!info)
    goto out;
  coap_address_t addr;
  coap_address_copy(&addr, &info->addr);
  coap_address_set_port(&addr, 0);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP);
  if (!ep)
    goto out;
  const char *desc = coap_endpoint_str(ep);
  fprintf(stderr, "wellknown_server: listening on %.*s\n",
          (int)strcspn(desc, " "), desc);
  fflush(stderr);
  while (!quit)
    if (coap_io_process(ctx, 1000) < 0)
      break;
  status = EXIT_SUCCESS;
out:
  coap_free_address_info(info);
  coap_free_context(ctx);
  coap_cleanup();
  return status;
}
