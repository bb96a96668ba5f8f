/*
 * lb_server.c -- one node behind the load balancer in the nginx test
 * (tests/lb/nginx_two_nodes.sh). Written against the public API only.
 *
 * Resources, each answering with the node's name so that the client can
 * tell which node served it:
 *   /hello      GET: 2.05 NAME, piggybacked
 *   /async?N    GET: an Empty ACK now, a separate 2.05 NAME after N s
 *
 * usage: lb_server NAME
 * Listens on 127.0.0.1 with a free UDP port and prints
 * "lb_server NAME: listening on 127.0.0.1:PORT" to stderr; SIGTERM stops
 * it (exit 0).
 */
#include <coap3/coap.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t quit;
static const char *node_name;

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

static void answer(coap_pdu_t *response) {
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(response, strlen(node_name), (const uint8_t *)node_name);
}

static void hnd_hello(coap_resource_t *resource, coap_session_t *session,
                      const coap_pdu_t *request, const coap_string_t *query,
                      coap_pdu_t *response) {
  (void)resource, (void)session, (void)request, (void)query;
  answer(response);
}

static void hnd_async(coap_resource_t *resource, coap_session_t *session,
                      const coap_pdu_t *request, const coap_string_t *query,
                      coap_pdu_t *response) {
  (void)resource;
  coap_bin_const_t token = coap_pdu_get_token(request);
  if (coap_find_async(session, token)) {
    answer(response); /* the delay is over */
    return;
  }
  unsigned delay = 0;
  for (size_t i = 0; query && i < query->length && i < 3; i++)
    delay = delay * 10 + (unsigned)(query->s[i] - '0');
  if (delay == 0 || delay > 60) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
    return;
  }
  if (!coap_register_async(session, request, COAP_TICKS_PER_SECOND * delay))
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
  /* no code set: an Empty ACK now, the response when the delay is over */
}

static void add(coap_context_t *ctx, const char *path,
                coap_method_handler_t handler) {
  coap_str_const_t *name =
      coap_new_str_const((const uint8_t *)path, strlen(path));
  coap_resource_t *r =
      coap_resource_init(name, COAP_RESOURCE_FLAGS_RELEASE_URI);
  coap_register_handler(r, COAP_REQUEST_GET, handler);
  coap_add_resource(ctx, r);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s NAME\n", argv[0]);
    return 2;
  }
  node_name = argv[1];
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  coap_startup();
  coap_set_log_level(COAP_LOG_WARN);
  coap_context_t *ctx = coap_new_context(NULL);
  if (!ctx)
    return 1;
  coap_address_t addr;
  coap_address_init(&addr);
  addr.addr.sin.sin_family = AF_INET;
  addr.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.addr.sin.sin_port = 0;
  addr.size = sizeof(addr.addr.sin);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP);
  if (!ep) {
    fprintf(stderr, "lb_server %s: cannot listen\n", node_name);
    coap_free_context(ctx);
    return 1;
  }
  add(ctx, "hello", hnd_hello);
  add(ctx, "async", hnd_async);
  const char *desc = coap_endpoint_str(ep);
  fprintf(stderr, "lb_server %s: listening on %.*s\n", node_name,
          (int)strcspn(desc, " "), desc);
  fflush(stderr);

  while (!quit)
    coap_io_process(ctx, 250);

  coap_free_context(ctx);
  coap_cleanup();
  return 0;
}
