/*
 * fuzz_persist.c -- the coap_persist(3) file loader (persist.c): the first
 * byte of the input chooses the file (dynamic resources, observers or
 * Observe numbers), the rest is its content. A context with an observable
 * resource, an unknown-resource handler that creates resources and one
 * endpoint loads it with coap_persist_startup(), notifies once, and is
 * freed. Whatever the file holds, nothing may crash or leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coap3/coap.h"

#include "context.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static coap_endpoint_t ep;

static void remove_dir(void) {
  rmdir(dir);
}

static ssize_t fake_send(coap_session_t *s, const uint8_t *data, size_t len) {
  (void)s, (void)data;
  return (ssize_t)len;
}

static void hnd_get(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 1, (const uint8_t *)"x");
}

static void hnd_put_unknown(coap_resource_t *u, coap_session_t *s,
                            const coap_pdu_t *req, const coap_string_t *q,
                            coap_pdu_t *resp) {
  (void)u, (void)q;
  coap_string_t *path = coap_get_uri_path(req);
  coap_resource_t *r = coap_resource_init((coap_str_const_t *)path,
                                          COAP_RESOURCE_FLAGS_RELEASE_URI);
  if (r) {
    coap_register_handler(r, COAP_REQUEST_GET, hnd_get);
    coap_resource_set_get_observable(r, 1);
    coap_add_resource(coap_session_get_context(s), r);
  }
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    snprintf(dir, sizeof(dir), "/tmp/fuzz-persist.%d", (int)getpid());
    if (mkdir(dir, 0700) != 0)
      return 0;
    atexit(remove_dir);
    coap_startup();
    coap_set_log_level(COAP_LOG_EMERG);
  }
  if (size < 1)
    return 0;
  char path[128];
  snprintf(path, sizeof(path), "%s/file", dir);
  FILE *f = fopen(path, "wb");
  if (!f)
    return 0;
  fwrite(data + 1, 1, size - 1, f);
  fclose(f);

  coap_context_t *ctx = pt_context_new_detached();
  if (!ctx)
    return 0;
  ctx->send = fake_send;
  memset(&ep, 0, sizeof(ep));
  ep.context = ctx;
  ep.proto = COAP_PROTO_UDP;
  ep.fd = -1;
  ep.default_mtu = COAP_DEFAULT_MTU;
  coap_address_init(&ep.bind_addr);
  ep.bind_addr.addr.sin.sin_family = AF_INET;
  ep.bind_addr.addr.sin.sin_addr.s_addr = htonl(0x7f000001);
  ep.bind_addr.addr.sin.sin_port = htons(5683);
  ep.bind_addr.size = sizeof(ep.bind_addr.addr.sin);
  ctx->endpoints = &ep;
  coap_resource_t *r = coap_resource_init(coap_make_str_const("obs"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get);
  coap_resource_set_get_observable(r, 1);
  coap_add_resource(ctx, r);
  coap_add_resource(ctx, coap_resource_unknown_init(hnd_put_unknown));

  switch (data[0] % 3) {
  case 0:
    coap_persist_startup(ctx, path, NULL, NULL, 1 + data[0] / 3 % 16);
    break;
  case 1:
    coap_persist_startup(ctx, NULL, path, NULL, 1 + data[0] / 3 % 16);
    break;
  default:
    coap_persist_startup(ctx, NULL, NULL, path, 1 + data[0] / 3 % 16);
    break;
  }
  coap_resource_notify_observers(r, NULL);
  pt_timers_run(ctx, pt_now());
  coap_persist_stop(ctx);
  ctx->endpoints = NULL; /* not the context's to free */
  coap_free_context(ctx);
  unlink(path);
  return 0;
}
