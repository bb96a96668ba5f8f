/*
 * coap-server: a small CoAP test server over the public API.
 *
 *   coap-server [-A addr] [-p port] [-v level] [-L value] [-h]
 *
 * Listens on UDP addr:port (default [::]:5683; port 0 picks a free port) and
 * always prints one line "coap-server: listening on ADDR:PORT" to stderr, so
 * scripts can learn an ephemeral port. Resources:
 *
 *   /              GET: a short description of this server
 *   /time          GET: the server's clock as text ("?ticks": seconds since
 *                  the epoch); observable, notified every second.
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
 *   /example_data  GET the stored body (4.04 when there is none); PUT
 *                  replaces it (2.04, or 2.01 when there was none); POST
 *                  stores it (2.01); DELETE removes it (2.02). Bodies of
 *                  any size up to the library's limit, both ways block-wise
 *
 * Block-wise transfers (RFC 7959) are the library's. By default (-L 3:
 * COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY) the handlers see whole
 * request bodies; with -L 1 (libcoap's example server's default) the
 * /example_data handlers see each Block1 block, answer 2.31 Continue until
 * the last and reassemble the body themselves. Response bodies are always
 * handed over whole.
 *   /.well-known/core  from the library (RFC 6690)
 *
 * Runs until SIGINT or SIGTERM, then frees everything.
 */
#include <coap3/coap.h>

#include "dtls_opts.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Strings handed to the library as borrowed coap_str_const_t must outlive
 * the resources, so they are file-scope statics. */
#define CONST_STR(var, text)                                                   \
  static coap_str_const_t var = {sizeof(text) - 1, (const uint8_t *)(text)}

CONST_STR(path_root, "");
CONST_STR(path_time, "time");
CONST_STR(path_async, "async");
CONST_STR(path_data, "example_data");
CONST_STR(path_large, "large");
CONST_STR(path_async_large, "async_large");
CONST_STR(attr_ct, "ct");
CONST_STR(attr_rt, "rt");
CONST_STR(attr_if, "if");
CONST_STR(attr_title, "title");
CONST_STR(val_ct_text, "0");
CONST_STR(val_title_root, "\"General Info\"");
CONST_STR(val_title_time, "\"Internal Clock\"");
CONST_STR(val_rt_time, "\"ticks\"");
CONST_STR(val_if_time, "\"clock\"");
CONST_STR(val_title_async, "\"Separate response after ?N seconds\"");
CONST_STR(val_title_data, "\"Example Data\"");
CONST_STR(val_rt_data, "\"example\"");
CONST_STR(val_title_large, "\"256 KiB of text lines\"");
CONST_STR(val_title_async_large,
          "\"Separate response of 4096 bytes after ?N seconds\"");

static const char INDEX_TEXT[] =
    "This is a test server made with Petrel, a CoAP library with libcoap's "
    "API.\n"
    "Resources: /time, /async?N, /async_large?N, /large, /example_data,\n"
    "/.well-known/core\n";

static volatile sig_atomic_t quit;

static void on_signal(int sig) {
  (void)sig;
  quit = 1;
}

/* ---- body helpers ------------------------------------------------------- */

static void release_copy(coap_session_t *session, void *app_ptr) {
  (void)session;
  free(app_ptr);
}

/* Answers with a private copy of @data: the library borrows a response
 * body until it calls the release function, possibly after later requests
 * have changed the original. */
static void respond_copy(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, coap_pdu_t *response,
                         const coap_string_t *query, uint16_t media_type,
                         int maxage, const uint8_t *data, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  memcpy(copy, data, len);
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  if (!coap_add_data_large_response(resource, session, request, response, query,
                                    media_type, maxage, 0, len, copy,
                                    release_copy, copy))
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

/* ---- / ------------------------------------------------------------------ */

static void hnd_get_index(coap_resource_t *resource, coap_session_t *session,
                          const coap_pdu_t *request, const coap_string_t *query,
                          coap_pdu_t *response) {
  respond_copy(resource, session, request, response, query,
               COAP_MEDIATYPE_TEXT_PLAIN, -1, (const uint8_t *)INDEX_TEXT,
               strlen(INDEX_TEXT));
}

/* ---- /time -------------------------------------------------------------- */

/* The clock: real time plus offset; stopped (GET answers 4.04) after a
 * DELETE until the next PUT. */
static struct {
  int running;
  time_t offset;
} server_clock = {1, 0};

static void hnd_get_time(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response) {
  if (!server_clock.running) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND);
    return;
  }
  time_t now = time(NULL) + server_clock.offset;
  char buf[64];
  size_t len;
  struct tm tm;
  if (query && coap_string_equal(query, coap_make_str_const("ticks")))
    len = (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)now);
  else if (gmtime_r(&now, &tm))
    len = strftime(buf, sizeof(buf), "%b %d %H:%M:%S", &tm);
  else
    len = 0;
  if (len == 0 || len >= sizeof(buf)) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  respond_copy(resource, session, request, response, query,
               COAP_MEDIATYPE_TEXT_PLAIN, 1, (const uint8_t *)buf, len);
}

static void hnd_put_time(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response) {
  (void)session;
  (void)query;
  size_t len = 0;
  const uint8_t *data = NULL;
  coap_get_data(request, &len, &data);
  long long seconds = 0;
  for (size_t i = 0; i < len; i++) {
    if (data[i] < '0' || data[i] > '9' || seconds > 100000000000LL) {
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
      return;
    }
    seconds = seconds * 10 + (data[i] - '0');
  }
  coap_pdu_set_code(response, server_clock.running
                                  ? COAP_RESPONSE_CODE_CHANGED
                                  : COAP_RESPONSE_CODE_CREATED);
  server_clock.running = 1;
  server_clock.offset = len ? (time_t)seconds - time(NULL) : 0;
  coap_resource_notify_observers(resource, NULL);
}

static void hnd_delete_time(coap_resource_t *resource, coap_session_t *session,
                            const coap_pdu_t *request,
                            const coap_string_t *query, coap_pdu_t *response) {
  (void)session;
  (void)request;
  (void)query;
  server_clock.running = 0;
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_DELETED);
  coap_resource_notify_observers(resource, NULL);
}

#include "seed_handler.h" /* the coap_async(3) page's handler, verbatim */

/* ---- /large and /async_large --------------------------------------------- */

#define LARGE_SIZE (256u * 1024u)
#define ASYNC_LARGE_SIZE 4096u

/* The body of /large, built once at startup; static, so the library may
 * borrow it for as long as it likes (no release function). */
static uint8_t large_body[LARGE_SIZE];

static void init_large_body(void) {
  size_t n = 0;
  for (unsigned line = 0; n < LARGE_SIZE; line++) {
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "line %u\n", line);
    size_t take = LARGE_SIZE - n < (size_t)len ? LARGE_SIZE - n : (size_t)len;
    memcpy(large_body + n, buf, take);
    n += take;
  }
}

static void hnd_get_large(coap_resource_t *resource, coap_session_t *session,
                          const coap_pdu_t *request, const coap_string_t *query,
                          coap_pdu_t *response) {
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  if (!coap_add_data_large_response(resource, session, request, response, query,
                                    COAP_MEDIATYPE_TEXT_PLAIN, -1, 0,
                                    LARGE_SIZE, large_body, NULL, NULL))
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

/* Seconds from a query of digits (1..3600); 0 when malformed. */
static unsigned query_seconds(const coap_string_t *query) {
  unsigned v = 0;
  if (!query || query->length == 0 || query->length > 4)
    return 0;
  for (size_t i = 0; i < query->length; i++) {
    if (query->s[i] < '0' || query->s[i] > '9')
      return 0;
    v = v * 10 + (unsigned)(query->s[i] - '0');
  }
  return v <= 3600 ? v : 0;
}

/* First call: an async that calls again after ?N seconds (Empty ACK now
 * for a CON). Second call: the 4096-byte body, sent as a separate response
 * carrying Block2 block 0; the library serves the later blocks. */
static void hnd_get_async_large(coap_resource_t *resource,
                                coap_session_t *session,
                                const coap_pdu_t *request,
                                const coap_string_t *query,
                                coap_pdu_t *response) {
  if (coap_find_async(session, coap_pdu_get_token(request))) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    if (!coap_add_data_large_response(resource, session, request, response,
                                      query, COAP_MEDIATYPE_TEXT_PLAIN, -1, 0,
                                      ASYNC_LARGE_SIZE, large_body, NULL, NULL))
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return; /* the library frees the async after this call */
  }
  unsigned seconds = query_seconds(query);
  if (!seconds) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
    return;
  }
  if (!coap_register_async(session, request,
                           (coap_tick_t)seconds * COAP_TICKS_PER_SECOND))
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
}

/* ---- /example_data ------------------------------------------------------ */

static struct {
  uint8_t *body; /* owned; NULL when there is no data */
  size_t len;
  uint16_t media_type;
} example_data;

static void hnd_get_data(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response) {
  if (!example_data.body) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND);
    return;
  }
  respond_copy(resource, session, request, response, query,
               example_data.media_type, -1, example_data.body,
               example_data.len);
}

/* A body arriving block by block (-L without COAP_BLOCK_SINGLE_BODY): the
 * blocks so far of one upload at a time, and the session sending it (only
 * compared, never used). */
static struct {
  coap_binary_t *body; /* owned */
  const coap_session_t *session;
} partial;

/* Takes one block of a larger body. Returns 1 when the body is complete
 * (*data and *len then describe it), 0 when more is to come (2.31 set), -1
 * on failure (the response code is set). */
static int take_block(coap_session_t *session, size_t offset, size_t total,
                      const uint8_t **data, size_t *len, coap_pdu_t *response) {
  if (offset == 0) {
    coap_delete_binary(partial.body);
    partial.body = NULL;
    partial.session = session;
  } else if (partial.session != session || !partial.body) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INCOMPLETE);
    return -1;
  }
  partial.body =
      coap_block_build_body(partial.body, *len, *data, offset, total);
  if (!partial.body) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return -1;
  }
  if (offset + *len < total) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTINUE);
    return 0;
  }
  *len += offset;
  *data = partial.body->s;
  return 1;
}

/* Stores the request's body; returns 1 if there was data before, 0 if not,
 * 2 when more blocks are to come (2.31 set), -1 on failure (the response
 * code is then set). */
static int store_data(coap_session_t *session, const coap_pdu_t *request,
                      coap_pdu_t *response) {
  size_t len = 0, offset = 0, total = 0;
  const uint8_t *data = NULL;
  /* With COAP_BLOCK_SINGLE_BODY the library reassembled any Block1 blocks,
   * so this is the whole body (offset 0, len == total); without, a part. */
  coap_get_data_large(request, &len, &data, &offset, &total);
  if (offset != 0 || len != total) {
    int done = take_block(session, offset, total, &data, &len, response);
    if (done <= 0)
      return done < 0 ? -1 : 2;
  }
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return -1;
  }
  if (len)
    memcpy(copy, data, len);
  coap_opt_iterator_t it;
  coap_opt_t *cf = coap_check_option(request, COAP_OPTION_CONTENT_FORMAT, &it);
  int existed = example_data.body != NULL;
  free(example_data.body);
  example_data.body = copy;
  example_data.len = len;
  example_data.media_type = cf ? (uint16_t)coap_decode_var_bytes(
                                     coap_opt_value(cf), coap_opt_length(cf))
                               : COAP_MEDIATYPE_TEXT_PLAIN;
  coap_delete_binary(partial.body); /* was the source of a blocked body */
  partial.body = NULL;
  return existed;
}

static void hnd_put_data(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response) {
  (void)query;
  int existed = store_data(session, request, response);
  if (existed < 0 || existed == 2)
    return;
  coap_pdu_set_code(response, existed ? COAP_RESPONSE_CODE_CHANGED
                                      : COAP_RESPONSE_CODE_CREATED);
  coap_resource_notify_observers(resource, NULL);
}

static void hnd_post_data(coap_resource_t *resource, coap_session_t *session,
                          const coap_pdu_t *request, const coap_string_t *query,
                          coap_pdu_t *response) {
  (void)query;
  int stored = store_data(session, request, response);
  if (stored < 0 || stored == 2)
    return;
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CREATED);
  coap_resource_notify_observers(resource, NULL);
}

static void hnd_delete_data(coap_resource_t *resource, coap_session_t *session,
                            const coap_pdu_t *request,
                            const coap_string_t *query, coap_pdu_t *response) {
  (void)session;
  (void)request;
  (void)query;
  free(example_data.body);
  example_data.body = NULL;
  example_data.len = 0;
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_DELETED);
  coap_resource_notify_observers(resource, NULL);
}

/* ---- setup -------------------------------------------------------------- */

static coap_resource_t *add_resource(coap_context_t *ctx,
                                     coap_str_const_t *path,
                                     coap_str_const_t *title) {
  coap_resource_t *r = coap_resource_init(path, 0);
  if (!r)
    return NULL;
  coap_add_attr(r, &attr_ct, &val_ct_text, 0);
  coap_add_attr(r, &attr_title, title, 0);
  coap_add_resource(ctx, r);
  return r;
}

/* Registers the resources; returns /time (to notify its observers), or
 * NULL on failure. */
static coap_resource_t *init_resources(coap_context_t *ctx) {
  coap_resource_t *root = add_resource(ctx, &path_root, &val_title_root);
  coap_resource_t *tm = add_resource(ctx, &path_time, &val_title_time);
  coap_resource_t *async = add_resource(ctx, &path_async, &val_title_async);
  coap_resource_t *data = add_resource(ctx, &path_data, &val_title_data);
  coap_resource_t *large = add_resource(ctx, &path_large, &val_title_large);
  coap_resource_t *async_large =
      add_resource(ctx, &path_async_large, &val_title_async_large);
  if (!root || !tm || !async || !data || !large || !async_large)
    return NULL;
  coap_register_handler(large, COAP_REQUEST_GET, hnd_get_large);
  coap_register_handler(async_large, COAP_REQUEST_GET, hnd_get_async_large);
  coap_register_handler(root, COAP_REQUEST_GET, hnd_get_index);

  coap_register_handler(tm, COAP_REQUEST_GET, hnd_get_time);
  coap_register_handler(tm, COAP_REQUEST_PUT, hnd_put_time);
  coap_register_handler(tm, COAP_REQUEST_DELETE, hnd_delete_time);
  coap_resource_set_get_observable(tm, 1);
  coap_add_attr(tm, &attr_rt, &val_rt_time, 0);
  coap_add_attr(tm, &attr_if, &val_if_time, 0);

  /* The seed page's handler order (session, resource, ...), registered as
   * the page shows. */
  coap_register_handler(async, COAP_REQUEST_GET, hnd_get_with_delay);

  coap_register_handler(data, COAP_REQUEST_GET, hnd_get_data);
  coap_register_handler(data, COAP_REQUEST_PUT, hnd_put_data);
  coap_register_handler(data, COAP_REQUEST_POST, hnd_post_data);
  coap_register_handler(data, COAP_REQUEST_DELETE, hnd_delete_data);
  coap_resource_set_get_observable(data, 1);
  coap_add_attr(data, &attr_rt, &val_rt_data, 0);
  return tm;
}

typedef struct {
  const char *addr;
  unsigned port;
  int log_level;
  uint32_t block_mode; /* -L */
  tool_dtls dtls;      /* -k -h -i -s -c -j -C -R -n -S -M (dtls_opts.h) */
} server_opts_t;

static void usage(FILE *f) {
  fprintf(f, "usage: coap-server [-A addr] [-p port] [-v level] [-L value] "
             "[-h]\n"
             "  -A addr   address to listen on (default ::, all addresses)\n"
             "  -p port   UDP port (default 5683; 0 picks a free one)\n"
             "  -v level  log level 0..8 (default 4, warnings)\n"
             "  -L value  block mode: the sum of COAP_BLOCK_* flags, which "
             "must\n"
             "            include COAP_BLOCK_USE_LIBCOAP (1); 2 adds\n"
             "            COAP_BLOCK_SINGLE_BODY (default 3)\n"
             "  coaps (DTLS, on port+1, or a free port with -p 0) with\n"
             "  -k key [-h hint] [-i id_file] [-s psk_sni_file] (pre-shared "
             "key)\n"
             "  and/or -c certfile [-j keyfile] [-C cafile] [-R "
             "trust_casfile]\n"
             "  [-n] [-S pki_sni_file]; -M (raw public keys) is not available "
             "with\n"
             "  OpenSSL\n"
             "  -h        this text (as the last argument)\n"
             "Prints 'coap-server: listening on ADDR:PORT' to stderr once "
             "ready.\n");
}

/* Returns -1 to exit successfully (help), 0 on a usage error, 1 to go on. */
static int parse_args(int argc, char **argv, server_opts_t *o) {
  memset(&o->dtls, 0, sizeof(o->dtls));
  o->addr = "::";
  o->port = COAP_DEFAULT_PORT;
  o->log_level = COAP_LOG_WARN;
  o->block_mode = COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((strcmp(a, "-h") == 0 && i + 1 == argc) || strcmp(a, "--help") == 0) {
      usage(stdout);
      return -1;
    }
    if (strcmp(a, "-n") == 0) { /* DTLS: do not verify client certificates */
      tool_dtls_option(&o->dtls, 'n', NULL, 1);
      continue;
    }
    if (i + 1 < argc && a[0] == '-' && a[1] && !a[2] &&
        !strchr("ApvL", a[1])) {
      int taken = tool_dtls_option(&o->dtls, a[1], argv[i + 1], 1);
      if (taken < 0) {
        fprintf(stderr, "coap-server: bad value '%s' for %s\n", argv[i + 1],
                a);
        return 0;
      }
      if (taken) {
        i++;
        continue;
      }
    }
    if (i + 1 >= argc || a[0] != '-' || a[1] == '\0' || a[2] != '\0' ||
        !strchr("ApvL", a[1])) {
      usage(stderr);
      return 0;
    }
    const char *v = argv[++i];
    char *end;
    unsigned long n = strtoul(v, &end, a[1] == 'L' ? 0 : 10);
    int numeric = *v && *end == '\0';
    if (a[1] == 'A') {
      o->addr = v;
    } else if (a[1] == 'p' && numeric && n <= 0xFFFF) {
      o->port = (unsigned)n;
    } else if (a[1] == 'v' && numeric && n <= COAP_LOG_OSCORE) {
      o->log_level = (int)n;
    } else if (a[1] == 'L' && numeric && n <= 0xFF &&
               (n & COAP_BLOCK_USE_LIBCOAP)) {
      o->block_mode = (uint32_t)n;
    } else {
      fprintf(stderr, "coap-server: bad value '%s' for %s\n", v, a);
      return 0;
    }
  }
  return tool_dtls_check(&o->dtls, "coap-server") < 0 ? 0 : 1;
}

static coap_endpoint_t *listen_on(coap_context_t *ctx, const server_opts_t *o) {
  coap_str_const_t host = {strlen(o->addr), (const uint8_t *)o->addr};
  coap_addr_info_t *info = coap_resolve_address_info(
      &host, COAP_DEFAULT_PORT, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT,
      COAP_RESOLVE_TYPE_LOCAL);
  if (!info) {
    fprintf(stderr, "coap-server: cannot resolve '%s'\n", o->addr);
    return NULL;
  }
  coap_address_t addr;
  coap_address_copy(&addr, &info->addr);
  coap_free_address_info(info);
  coap_address_set_port(&addr, (uint16_t)o->port); /* 0 stays 0: ephemeral */
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP);
  if (!ep) {
    fprintf(stderr, "coap-server: cannot listen on %s port %u\n", o->addr,
            o->port);
    return NULL;
  }
  /* "ADDR:PORT UDP" -> "ADDR:PORT", the bound port included. */
  const char *desc = coap_endpoint_str(ep);
  fprintf(stderr, "coap-server: listening on %.*s\n", (int)strcspn(desc, " "),
          desc);
  fflush(stderr);
  return ep;
}

/* With DTLS credentials, a coaps endpoint beside the coap one: on the next
 * port, as libcoap's server does, or a free one with -p 0. Returns 0, or
 * -1 (message printed). */
static int listen_coaps(coap_context_t *ctx, server_opts_t *o) {
  if (!tool_dtls_wanted(&o->dtls))
    return 0;
  if (tool_dtls_server(ctx, &o->dtls) < 0)
    return -1;
  coap_str_const_t host = {strlen(o->addr), (const uint8_t *)o->addr};
  coap_addr_info_t *info = coap_resolve_address_info(
      &host, COAP_DEFAULT_PORT, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT,
      COAP_RESOLVE_TYPE_LOCAL);
  if (!info)
    return -1;
  coap_address_t addr;
  coap_address_copy(&addr, &info->addr);
  coap_free_address_info(info);
  coap_address_set_port(&addr, o->port ? (uint16_t)(o->port + 1) : 0);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_DTLS);
  if (!ep) {
    fprintf(stderr, "coap-server: cannot listen for coaps\n");
    return -1;
  }
  const char *desc = coap_endpoint_str(ep);
  fprintf(stderr, "coap-server: listening for coaps on %.*s\n",
          (int)strcspn(desc, " "), desc);
  fflush(stderr);
  return 0;
}

/* Milliseconds until the clock's next whole second (1..1000). */
static uint32_t ms_to_next_second(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint32_t)(1000 - ts.tv_nsec / 1000000);
}

/* Runs the loop, notifying /time's observers as each second begins. */
static void serve(coap_context_t *ctx, coap_resource_t *time_resource) {
  time_t last = time(NULL);
  while (!quit) {
    if (coap_io_process(ctx, ms_to_next_second()) < 0)
      break;
    time_t now = time(NULL);
    if (now != last && server_clock.running) {
      coap_resource_notify_observers(time_resource, NULL);
      last = now;
    }
  }
}

int main(int argc, char **argv) {
  server_opts_t o;
  int r = parse_args(argc, argv, &o);
  if (r <= 0)
    return r < 0 ? EXIT_SUCCESS : EXIT_FAILURE;

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* no SA_RESTART: wake coap_io_process up */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  coap_startup();
  coap_set_log_level((coap_log_t)o.log_level);
  init_large_body();
  int status = EXIT_FAILURE;
  coap_context_t *ctx = coap_new_context(NULL);
  if (ctx) {
    coap_context_set_block_mode(ctx, o.block_mode);
    coap_resource_t *time_resource = init_resources(ctx);
    coap_endpoint_t *ep = time_resource ? listen_on(ctx, &o) : NULL;
    if (ep && listen_coaps(ctx, &o) == 0) {
      serve(ctx, time_resource);
      status = EXIT_SUCCESS;
    }
    coap_free_context(ctx); /* frees endpoints, sessions and resources */
  }
  tool_dtls_free(&o.dtls);
  free(example_data.body);
  coap_delete_binary(partial.body);
  coap_cleanup();
  return status;
}
