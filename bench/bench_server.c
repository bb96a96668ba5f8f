/*
 * bench_server.c -- the server the benchmark loads, written against the
 * public libcoap API only, so the same source builds twice: against Petrel
 * (petrel_bench_server) and against Debian's libcoap (ref_server_libcoap).
 *
 * Resources:
 *   /hello      GET: 2.05 "Hello World!" (12 bytes, text/plain), piggybacked
 *   /async?N    GET: the coap_async(3) page's separate response after N s
 *   /large      GET: 1 MiB body through coap_add_data_large_response()
 *               (sent block by block, RFC 7959, by the library)
 *   /obs        GET, observable (RFC 7641), notifications NON (the
 *               library's default mode: every 5th in a row is CON)
 *   /obscon     the same with CON notifications
 *   /obsnon     the same with NON notifications only
 *               (COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS: never a CON)
 *   /tick       GET: notifies the observers of /obs, /obscon and /obsnon (each
 *               gets one notification with the new 4-byte value), 2.05
 *
 * The /async handler is the seed page's logic with libcoap's documented
 * handler argument order (resource, session, ...), which both libraries
 * accept; the page's own order is exercised by examples/.
 *
 * usage: bench_server PORT [defaults]   (SIGTERM stops it)
 *
 * Endpoints, all on 127.0.0.1: CoAP over UDP on PORT, CoAP over TCP
 * (RFC 8323) on PORT, CoAP over DTLS on PORT+1 with the pre-shared key
 * BENCH_PSK_KEY for any identity (hint BENCH_PSK_HINT), CoAP over
 * WebSockets (RFC 8323 4, coap+ws) on TCP port PORT+1. TCP, DTLS and
 * WebSockets are opened only where the library has them
 * (coap_tcp_is_supported(), coap_dtls_is_supported(),
 * coap_ws_is_supported()): Debian's libcoap-3-notls has no DTLS, its
 * libcoap-3-openssl has; libcoap before 4.3.2 (Debian's is 4.3.1) has no
 * WebSockets at all, not even the names, hence the one version check.
 *
 * Built against Petrel, the server raises the limits that the scenarios
 * need past Petrel's defaults (see limits_for_benchmark()); with the word
 * "defaults" it keeps the library's defaults. libcoap has no such limits.
 */
#include <coap3/coap.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LARGE_SIZE (1024 * 1024)
#define BENCH_PSK_HINT "bench"
#define BENCH_PSK_KEY "bench-secret-key"

static volatile sig_atomic_t quit;
static uint8_t *large_body;
static coap_resource_t *obs_non, *obs_con, *obs_non_only;
static uint32_t obs_value; /* what /obs and /obscon return: ticks so far */

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

static void hnd_hello(coap_resource_t *resource, coap_session_t *session,
                      const coap_pdu_t *request, const coap_string_t *query,
                      coap_pdu_t *response) {
  (void)resource, (void)session, (void)request, (void)query;
  static const uint8_t text_plain = 0;
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  coap_add_option(response, COAP_OPTION_CONTENT_FORMAT, 0, &text_plain);
  coap_add_data(response, 12, (const uint8_t *)"Hello World!");
}

static void hnd_async(coap_resource_t *resource, coap_session_t *session,
                      const coap_pdu_t *request, const coap_string_t *query,
                      coap_pdu_t *response) {
  coap_bin_const_t token = coap_pdu_get_token(request);
  coap_async_t *async = coap_find_async(session, token);
  if (!async) {
    unsigned long delay = 5;
    if (query) {
      delay = 0;
      for (size_t i = 0; i < query->length; i++)
        delay = delay * 10 + (unsigned long)(query->s[i] - '0');
      if (delay == 0) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
        return;
      }
    }
    async =
        coap_register_async(session, request, COAP_TICKS_PER_SECOND * delay);
    if (!async)
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
    return; /* no code: an Empty ACK now, the response later */
  }
  coap_add_data_large_response(resource, session, request, response, query,
                               COAP_MEDIATYPE_TEXT_PLAIN, -1, 0, 4,
                               (const uint8_t *)"done", NULL, NULL);
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
}

static void hnd_large(coap_resource_t *resource, coap_session_t *session,
                      const coap_pdu_t *request, const coap_string_t *query,
                      coap_pdu_t *response) {
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(resource, session, request, response, query,
                               COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, -1,
                               0x1234, LARGE_SIZE, large_body, NULL, NULL);
}

static void hnd_obs(coap_resource_t *resource, coap_session_t *session,
                    const coap_pdu_t *request, const coap_string_t *query,
                    coap_pdu_t *response) {
  (void)resource, (void)session, (void)request, (void)query;
  uint8_t v[4] = {(uint8_t)(obs_value >> 24), (uint8_t)(obs_value >> 16),
                  (uint8_t)(obs_value >> 8), (uint8_t)obs_value};
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(response, sizeof(v), v);
}

static void hnd_tick(coap_resource_t *resource, coap_session_t *session,
                     const coap_pdu_t *request, const coap_string_t *query,
                     coap_pdu_t *response) {
  (void)resource, (void)session, (void)request, (void)query;
  obs_value++;
  coap_resource_notify_observers(obs_non, NULL);
  coap_resource_notify_observers(obs_con, NULL);
  coap_resource_notify_observers(obs_non_only, NULL);
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
}

/* The park scenario holds 100,000 separate responses from 1,000 sessions,
 * and the load scenarios keep every request under duplicate detection
 * (1,000 sessions x 256 remembered IDs), both past Petrel's defaults
 * (32,768 each). The RFC 7252 11.3 amplification policy is turned off:
 * the Block2 scenario downloads 16 MiB at a time from peers that never
 * acknowledge a CON, which the default policy holds to about 1 MiB/s
 * (the "default limits" row of the benchmark measures that). The sweeps
 * go to 10,000 client sessions plus 50,000 idle ones (default: 10,000
 * sessions per endpoint) and 100,000 observers of one resource (defaults:
 * 4,096 per resource, 8,192 in the context). */
static void limits_for_benchmark(coap_context_t *ctx) {
#ifdef COAP_PETREL_API
  coap_petrel_context_set_max_async_total(ctx, 1000000);
  coap_petrel_context_set_dedup_total(ctx, 1000000);
  coap_petrel_context_set_amplification(ctx, 0, 0, 0);
  coap_petrel_context_set_max_sessions_per_endpoint(ctx, 1000000);
  coap_petrel_context_set_max_observers_per_resource(ctx, 1000000);
  coap_petrel_context_set_max_observers_total(ctx, 1000000);
#else
  (void)ctx;
#endif
}

/* Listens on ADDR with PROTO; prints why not and returns 0 on failure. */
static int listen_on(coap_context_t *ctx, coap_address_t *addr,
                     coap_proto_t proto, const char *what) {
  if (coap_new_endpoint(ctx, addr, proto))
    return 1;
  fprintf(stderr, "bench_server: cannot listen on %s port %u\n", what,
          (unsigned)ntohs(addr->addr.sin.sin_port));
  return 0;
}

/* CoAP over WebSockets on TCP port PORT+1 (ADDR holds PORT), where the
 * library has it. Returns 0 only when it has and cannot listen. */
static int listen_ws(coap_context_t *ctx, coap_address_t *addr) {
#if LIBCOAP_VERSION >= 4003002U /* COAP_PROTO_WS and coap_ws_is_supported() */
  if (coap_ws_is_supported()) {
    coap_address_t ws = *addr;
    ws.addr.sin.sin_port =
        htons((uint16_t)(ntohs(addr->addr.sin.sin_port) + 1));
    return listen_on(ctx, &ws, COAP_PROTO_WS, "WebSocket");
  }
#else
  (void)ctx, (void)addr;
#endif
  return 1;
}

/* Pre-shared key for every client identity; handshakes in progress at
 * once raised past libcoap's default (100) for the session scenarios,
 * in both builds alike. */
static int setup_psk(coap_context_t *ctx) {
  static coap_dtls_spsk_t psk;
  memset(&psk, 0, sizeof(psk));
  psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
  psk.psk_info.hint.s = (const uint8_t *)BENCH_PSK_HINT;
  psk.psk_info.hint.length = strlen(BENCH_PSK_HINT);
  psk.psk_info.key.s = (const uint8_t *)BENCH_PSK_KEY;
  psk.psk_info.key.length = strlen(BENCH_PSK_KEY);
  if (!coap_context_set_psk2(ctx, &psk))
    return 0;
  coap_context_set_max_handshake_sessions(ctx, 2000);
  return 1;
}

static coap_resource_t *add(coap_context_t *ctx, const char *path,
                            coap_method_handler_t handler, int flags) {
  coap_str_const_t *name =
      coap_new_str_const((const uint8_t *)path, strlen(path));
  coap_resource_t *r =
      coap_resource_init(name, COAP_RESOURCE_FLAGS_RELEASE_URI | flags);
  coap_register_handler(r, COAP_REQUEST_GET, handler);
  coap_add_resource(ctx, r);
  return r;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "defaults"))) {
    fprintf(stderr, "usage: %s PORT [defaults]\n", argv[0]);
    return 2;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  large_body = malloc(LARGE_SIZE);
  if (!large_body)
    return 1;
  for (size_t i = 0; i < LARGE_SIZE; i++)
    large_body[i] = (uint8_t)(i * 131u);

  coap_startup();
  coap_set_log_level(4); /* warnings only, in both libraries */
  coap_context_t *ctx = coap_new_context(NULL);
  if (!ctx)
    return 1;
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  if (argc == 2)
    limits_for_benchmark(ctx);
  coap_address_t addr;
  coap_address_init(&addr);
  addr.addr.sin.sin_family = AF_INET;
  addr.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.addr.sin.sin_port = htons((uint16_t)atoi(argv[1]));
  addr.size = sizeof(addr.addr.sin);
  if (!listen_on(ctx, &addr, COAP_PROTO_UDP, "UDP"))
    return 1;
  if (coap_tcp_is_supported() && !listen_on(ctx, &addr, COAP_PROTO_TCP, "TCP"))
    return 1;
  if (!listen_ws(ctx, &addr))
    return 1;
  if (coap_dtls_is_supported()) {
    addr.addr.sin.sin_port = htons((uint16_t)(atoi(argv[1]) + 1));
    if (!setup_psk(ctx) || !listen_on(ctx, &addr, COAP_PROTO_DTLS, "DTLS"))
      return 1;
  }
  add(ctx, "hello", hnd_hello, 0);
  add(ctx, "async", hnd_async, 0);
  add(ctx, "large", hnd_large, 0);
  obs_non = add(ctx, "obs", hnd_obs, COAP_RESOURCE_FLAGS_NOTIFY_NON);
  obs_con = add(ctx, "obscon", hnd_obs, COAP_RESOURCE_FLAGS_NOTIFY_CON);
  coap_resource_set_get_observable(obs_non, 1);
  coap_resource_set_get_observable(obs_con, 1);
  obs_non_only =
      add(ctx, "obsnon", hnd_obs, COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS);
  coap_resource_set_get_observable(obs_non_only, 1);
  add(ctx, "tick", hnd_tick, 0);
  /* For scripts: every endpoint is bound and served from now on. */
  fprintf(stderr, "bench_server: listening on 127.0.0.1:%s\n", argv[1]);

  while (!quit)
    coap_io_process(ctx, 1000);

  coap_free_context(ctx);
  coap_cleanup();
  free(large_body);
  return 0;
}
