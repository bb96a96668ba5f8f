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
 * All the argument parsing is in parse_args(), one case per option letter.
 * Runs until SIGINT, SIGTERM or SIGUSR2, then frees everything.
 */
#include <coap3/coap.h>

#include "dtls_opts.h"

#include <errno.h>
#include <getopt.h>
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

/* ---- body helpers ------------------------------------------------------- */

static void release_copy(coap_session_t *session, void *app_ptr) {
  (void)session;
  free(app_ptr);
}

/* Answers @code with a private copy of @data: the library borrows a
 * response body until it calls the release function, possibly after later
 * requests have changed the original. */
static void respond_body(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, coap_pdu_t *response,
                         const coap_string_t *query, coap_pdu_code_t code,
                         uint16_t media_type, int maxage, const uint8_t *data,
                         size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  memcpy(copy, data, len);
  coap_pdu_set_code(response, code);
  if (!coap_add_data_large_response(resource, session, request, response, query,
                                    media_type, maxage, 0, len, copy,
                                    release_copy, copy))
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

static void respond_copy(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, coap_pdu_t *response,
                         const coap_string_t *query, uint16_t media_type,
                         int maxage, const uint8_t *data, size_t len) {
  respond_body(resource, session, request, response, query,
               COAP_RESPONSE_CODE_CONTENT, media_type, maxage, data, len);
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

/* The wall clock's seconds. Not time(): that reads a coarser clock, which
 * can still show the last second when clock_gettime() (by which the loop
 * waits for the next second) has passed into the new one. */
static time_t wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec;
}

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
  time_t now = wall_seconds() + server_clock.offset;
  char buf[64];
  size_t len;
  struct tm tm;
  size_t blen = 0;
  const uint8_t *body = NULL;
  int fetch_ticks = request &&
                    coap_pdu_get_code(request) == COAP_REQUEST_CODE_FETCH &&
                    coap_get_data(request, &blen, &body) && blen == 5 &&
                    memcmp(body, "ticks", 5) == 0;
  if (fetch_ticks ||
      (query && coap_string_equal(query, coap_make_str_const("ticks"))))
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
  server_clock.offset = len ? (time_t)seconds - wall_seconds() : 0;
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

/* ---- /example_data and the dynamic resources ---------------------------- */

/* A stored body: /example_data's, or a dynamic resource's (its userdata). */
typedef struct {
  uint8_t *body; /* owned; NULL when there is none */
  size_t len;
  uint16_t media_type;
} stored_t;

static stored_t example_data;

#define EXAMPLE_DATA_SIZE 1500

/* /example_data's first body, as libcoap's example server starts: every
 * tenth byte a letter, a..z in turn, the others the digit of their place,
 * "a123456789b123456789c1...". */
static int init_example_data(void) {
  example_data.body = malloc(EXAMPLE_DATA_SIZE);
  if (!example_data.body)
    return 0;
  for (size_t i = 0; i < EXAMPLE_DATA_SIZE; i++)
    example_data.body[i] =
        (uint8_t)(i % 10 == 0 ? 'a' + (i / 10) % 26 : '0' + i % 10);
  example_data.len = EXAMPLE_DATA_SIZE;
  example_data.media_type = COAP_MEDIATYPE_TEXT_PLAIN;
  return 1;
}

static stored_t *stored_of(coap_resource_t *resource) {
  return coap_resource_get_userdata(resource);
}

static void hnd_get_data(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response) {
  stored_t *st = stored_of(resource);
  if (!st || !st->body) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND);
    return;
  }
  respond_copy(resource, session, request, response, query, st->media_type, -1,
               st->body, st->len);
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

/* Stores the request's body in @st; returns 1 if there was data before, 0
 * if not, 2 when more blocks are to come (2.31 set), -1 on failure (the
 * response code is then set). */
static int store_data(stored_t *st, coap_session_t *session,
                      const coap_pdu_t *request, coap_pdu_t *response) {
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
  int existed = st->body != NULL;
  free(st->body);
  st->body = copy;
  st->len = len;
  st->media_type = cf ? (uint16_t)coap_decode_var_bytes(coap_opt_value(cf),
                                                        coap_opt_length(cf))
                      : COAP_MEDIATYPE_TEXT_PLAIN;
  coap_delete_binary(partial.body); /* was the source of a blocked body */
  partial.body = NULL;
  return existed;
}

static int echo_back; /* -e: a PUT's answer carries the stored body */

static void hnd_put_data(coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response) {
  stored_t *st = stored_of(resource);
  int existed = st ? store_data(st, session, request, response) : -1;
  if (existed < 0 || existed == 2) {
    if (!st)
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  coap_pdu_code_t code =
      existed ? COAP_RESPONSE_CODE_CHANGED : COAP_RESPONSE_CODE_CREATED;
  coap_pdu_set_code(response, code);
  coap_resource_notify_observers(resource, NULL);
  if (echo_back && st == &example_data &&
      coap_pdu_get_code(request) == COAP_REQUEST_CODE_PUT)
    respond_body(resource, session, request, response, query, code,
                 st->media_type, -1, st->body, st->len);
}

static void hnd_post_data(coap_resource_t *resource, coap_session_t *session,
                          const coap_pdu_t *request, const coap_string_t *query,
                          coap_pdu_t *response) {
  (void)query;
  stored_t *st = stored_of(resource);
  int stored = st ? store_data(st, session, request, response) : -1;
  if (stored < 0 || stored == 2) {
    if (!st)
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CREATED);
  coap_resource_notify_observers(resource, NULL);
}

static void hnd_delete_data(coap_resource_t *resource, coap_session_t *session,
                            const coap_pdu_t *request,
                            const coap_string_t *query, coap_pdu_t *response) {
  (void)session;
  (void)request;
  (void)query;
  stored_t *st = stored_of(resource);
  if (st) {
    free(st->body);
    st->body = NULL;
    st->len = 0;
  }
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_DELETED);
  coap_resource_notify_observers(resource, NULL);
}

/* -d max: the dynamic resources, counted. Each owns a stored_t (its
 * userdata), freed by release_stored() when the resource goes. */
static unsigned dynamic_max, dynamic_count;
static int resource_flags = COAP_RESOURCE_FLAGS_NOTIFY_CON; /* -N: NON */

static void release_stored(void *userdata) {
  stored_t *st = userdata;
  if (!st || st == &example_data)
    return;
  free(st->body);
  free(st);
  dynamic_count--;
}

static void hnd_delete_dynamic(coap_resource_t *resource,
                               coap_session_t *session,
                               const coap_pdu_t *request,
                               const coap_string_t *query,
                               coap_pdu_t *response) {
  (void)request;
  (void)query;
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_DELETED);
  coap_resource_notify_observers(resource, NULL);
  /* The library frees it once this handler has returned. */
  coap_delete_resource(coap_session_get_context(session), resource);
}

static void hnd_put_post_unknown(coap_resource_t *unknown,
                                 coap_session_t *session,
                                 const coap_pdu_t *request,
                                 const coap_string_t *query,
                                 coap_pdu_t *response) {
  (void)unknown;
  if (dynamic_count >= dynamic_max) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_ACCEPTABLE);
    return;
  }
  coap_string_t *path = coap_get_uri_path(request); /* the resource's now */
  stored_t *st = calloc(1, sizeof(*st));
  coap_resource_t *r =
      path && st
          ? coap_resource_init((coap_str_const_t *)path,
                               COAP_RESOURCE_FLAGS_RELEASE_URI | resource_flags)
          : NULL;
  if (!r) {
    coap_delete_string(path);
    free(st);
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  coap_add_attr(r, &attr_title, coap_make_str_const("\"Dynamic\""), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get_data);
  coap_register_handler(r, COAP_REQUEST_FETCH, hnd_get_data);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_put_data);
  coap_register_handler(r, COAP_REQUEST_POST, hnd_put_data);
  coap_register_handler(r, COAP_REQUEST_DELETE, hnd_delete_dynamic);
  coap_resource_set_get_observable(r, 1);
  coap_resource_set_userdata(r, st);
  coap_add_resource(coap_session_get_context(session), r);
  dynamic_count++;
  hnd_put_data(r, session, request, query, response);
}

/* ---- setup -------------------------------------------------------------- */

static coap_resource_t *add_resource(coap_context_t *ctx,
                                     coap_str_const_t *path,
                                     coap_str_const_t *title, int flags) {
  coap_resource_t *r = coap_resource_init(path, flags);
  if (!r)
    return NULL;
  coap_add_attr(r, &attr_ct, &val_ct_text, 0);
  coap_add_attr(r, &attr_title, title, 0);
  coap_add_resource(ctx, r);
  return r;
}

/* Registers the resources; returns /time (to notify its observers), or
 * NULL on failure. As in libcoap's example server, / and /async take
 * multicast requests whatever -r says (/async without the leisure delay),
 * and the observable resources notify with CONs unless -N. */
static coap_resource_t *init_resources(coap_context_t *ctx) {
  coap_resource_t *root = add_resource(ctx, &path_root, &val_title_root,
                                       COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT);
  coap_resource_t *tm =
      add_resource(ctx, &path_time, &val_title_time, resource_flags);
  coap_resource_t *async =
      add_resource(ctx, &path_async, &val_title_async,
                   resource_flags | COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
                       COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS);
  coap_resource_t *data =
      add_resource(ctx, &path_data, &val_title_data, resource_flags);
  coap_resource_t *large = add_resource(ctx, &path_large, &val_title_large, 0);
  coap_resource_t *async_large =
      add_resource(ctx, &path_async_large, &val_title_async_large, 0);
  if (!root || !tm || !async || !data || !large || !async_large)
    return NULL;
  coap_register_handler(large, COAP_REQUEST_GET, hnd_get_large);
  coap_register_handler(async_large, COAP_REQUEST_GET, hnd_get_async_large);
  coap_register_handler(root, COAP_REQUEST_GET, hnd_get_index);

  coap_register_handler(tm, COAP_REQUEST_GET, hnd_get_time);
  coap_register_handler(tm, COAP_REQUEST_FETCH, hnd_get_time);
  coap_register_handler(tm, COAP_REQUEST_PUT, hnd_put_time);
  coap_register_handler(tm, COAP_REQUEST_DELETE, hnd_delete_time);
  coap_resource_set_get_observable(tm, 1);
  coap_add_attr(tm, &attr_rt, &val_rt_time, 0);
  coap_add_attr(tm, &attr_if, &val_if_time, 0);

  /* The seed page's handler order (session, resource, ...), registered as
   * the page shows. */
  coap_register_handler(async, COAP_REQUEST_GET, hnd_get_with_delay);

  coap_resource_set_userdata(data, &example_data);
  coap_register_handler(data, COAP_REQUEST_GET, hnd_get_data);
  coap_register_handler(data, COAP_REQUEST_FETCH, hnd_get_data);
  coap_register_handler(data, COAP_REQUEST_PUT, hnd_put_data);
  coap_register_handler(data, COAP_REQUEST_POST, hnd_post_data);
  coap_register_handler(data, COAP_REQUEST_DELETE, hnd_delete_data);
  coap_resource_set_get_observable(data, 1);
  coap_add_attr(data, &attr_rt, &val_rt_data, 0);

  coap_resource_release_userdata_handler(ctx, release_stored);
  if (dynamic_max) {
    coap_resource_t *unknown =
        coap_resource_unknown_init2(hnd_put_post_unknown, 0);
    if (!unknown)
      return NULL;
    coap_register_handler(unknown, COAP_REQUEST_POST, hnd_put_post_unknown);
    coap_add_resource(ctx, unknown);
  }
  return tm;
}

/* ---- the command line --------------------------------------------------- */

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
  tool_dtls dtls;         /* -k -h -i -s -c -j -C -R -n -S -M (dtls_opts.h) */
} server_opts_t;

/* The header libcoap's tools print above their usage text: the program,
 * the package version, the build and the (D)TLS library. */
static void version(FILE *f) {
  char buf[128];
  fprintf(f, "coap-server v%s -- Petrel %s, a CoAP implementation\n",
          LIBCOAP_PACKAGE_VERSION, PETREL_VERSION);
  fprintf(f, "Build: %s\n", coap_package_build());
  fprintf(f, "%s\n", coap_string_tls_version(buf, sizeof(buf)));
  fprintf(f, "%s\n", coap_string_tls_support(buf, sizeof(buf)));
}

static void usage(FILE *f) {
  version(f);
  fprintf(
      f,
      "\nusage: coap-server [-d max] [-e] [-g group] [-l loss] [-p port] "
      "[-r] [-t]\n"
      "                   [-v num] [-w [port][,secure_port]] [-A address]\n"
      "                   [-E oscore_conf_file[,seq_file]] [-G group_if]\n"
      "                   [-L value] [-N] [-P scheme://addr[:port],[name...]]\n"
      "                   [-T max_token_size] [-U type] [-V num] [-X size]\n"
      "                   [-h] [--version]\n"
      "  -d max     PUT/POST to an unknown path creates a resource there,\n"
      "             up to max of them (then 4.06)\n"
      "  -e         a PUT to /example_data is answered with the body\n"
      "  -g group   join this multicast group (224.0.1.187, ff02::fd, ...)\n"
      "  -l loss    drop outgoing datagrams: 'N%%' at random, or a list\n"
      "             '1,3,5-7' of datagram numbers (for testing)\n"
      "  -p port    UDP port (default 5683; 0 picks a free one)\n"
      "  -r         multicast per resource: only /, /async and\n"
      "             /.well-known/core answer requests sent to a group\n"
      "  -t         keep observers across a restart (SIGUSR2 stops and "
      "keeps)\n"
      "  -v num     log level 0..8 (default 4, warnings; 7 logs each PDU)\n"
      "  -w [port][,secure_port]  listen for coap+ws on port too (default\n"
      "             80; 0 picks a free one) and, with -k or -c, for coaps+ws\n"
      "             on secure_port (default 443; 0 picks a free one)\n"
      "  -A addr    address to listen on (default ::, IPv6 and IPv4)\n"
      "  -E file    OSCORE configuration (RFC 8613)\n"
      "  -G group_if  the interface to join the -g group on\n"
      "  -L value   block mode: the sum of COAP_BLOCK_* flags, which must\n"
      "             include COAP_BLOCK_USE_LIBCOAP (1); 2 adds\n"
      "             COAP_BLOCK_SINGLE_BODY (default 3)\n"
      "  -N         notify observers with NONs (every fifth a CON)\n"
      "  -P scheme://addr[:port],[name...]  act as a proxy\n"
      "  -T max_token_size  accept tokens of up to this many bytes "
      "(8..65804)\n"
      "  -U type    -A is a Unix socket path; type 'coap' (datagrams)\n"
      "  -V num     (D)TLS log level 0..7 (default 3)\n"
      "  -X size    largest message over TCP\n"
      "  coaps (DTLS, on port+1, or a free port with -p 0) with\n"
      "  -k key [-h hint] [-i id_file] [-s psk_sni_file] (pre-shared key)\n"
      "  and/or -c certfile [-j keyfile] [-C cafile] [-R trust_casfile]\n"
      "  [-n] [-S pki_sni_file]; -M (raw public keys) is not available with\n"
      "  OpenSSL\n"
      "  -h, --help this text (-h as the last argument)\n"
      "  --version  the version lines above\n"
      "Prints 'coap-server: listening on ADDR:PORT' to stderr once ready.\n"
      "exit status: 0 after SIGINT/SIGTERM/SIGUSR2, 1 on a usage or setup "
      "error\n");
}

/* A flag that needs a transport or feature this build lacks: says so. */
static int lacks(char opt, const char *what) {
  fprintf(stderr, "coap-server: -%c needs %s, which this build lacks\n", opt,
          what);
  return 0;
}

static unsigned long parse_number(const char *s, unsigned long lo,
                                  unsigned long hi, int base, int *ok) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, base);
  *ok = *s && *s != '-' && *end == '\0' && errno == 0 && v >= lo && v <= hi;
  return v;
}

/* -U type: only datagrams over a Unix socket are built. */
static int parse_unix(server_opts_t *o, const char *v) {
  if (strcmp(v, "coap") == 0) {
    o->unix_socket = 1;
    return 1;
  }
  if (strcmp(v, "coaps") == 0) {
    if (!coap_dtls_is_supported())
      return lacks('U', "DTLS for 'coaps'");
    fprintf(stderr, "coap-server: -U coaps: DTLS over a Unix socket is not "
                    "served by this coap-server\n");
    return 0;
  }
  if (strcmp(v, "coap+tcp") == 0) {
    fprintf(stderr, "coap-server: -U coap+tcp: TCP over a Unix socket is not "
                    "served by this coap-server\n");
    return 0;
  }
  if (strcmp(v, "coaps+tcp") == 0) {
    if (!coap_tls_is_supported())
      return lacks('U', "TLS for 'coaps+tcp'");
    fprintf(stderr, "coap-server: -U coaps+tcp: TLS over a Unix socket is "
                    "not served by this coap-server\n");
    return 0;
  }
  fprintf(stderr,
          "coap-server: bad value '%s' for -U (coap, coaps, "
          "coap+tcp or coaps+tcp)\n",
          v);
  return 0;
}

/* A port of -w: @n bytes at @v, @dflt when empty. 1, or 0 if bad. */
static int ws_port_value(const char *v, size_t n, int dflt, int *out) {
  char port[8];
  int ok = n < sizeof(port);
  *out = dflt;
  if (ok && n) {
    memcpy(port, v, n);
    port[n] = '\0';
    *out = (int)parse_number(port, 0, 65535, 10, &ok);
  }
  return ok;
}

/* -w [port][,secure_port]: coap+ws on port (80 when empty) and, when
 * credentials are given, coaps+ws on secure_port (443 when empty), as
 * libcoap's server does; a secure port needs TLS. */
static int parse_ws(server_opts_t *o, const char *v) {
  if (!coap_ws_is_supported())
    return lacks('w', "WebSockets");
  const char *comma = strchr(v, ',');
  if (comma && comma[1] && !coap_wss_is_supported())
    return lacks('w', "TLS for coaps+ws (the secure_port)");
  size_t n = comma ? (size_t)(comma - v) : strlen(v);
  int ok = ws_port_value(v, n, 80, &o->ws_port);
  o->wss_given = comma && comma[1];
  if (ok)
    ok = ws_port_value(comma ? comma + 1 : "", comma ? strlen(comma + 1) : 0,
                       443, &o->wss_port);
  if (!ok)
    fprintf(stderr, "coap-server: bad value '%s' for -w\n", v);
  return ok;
}

/* One option letter and its value (NULL for flags). Returns 1 if taken, 0
 * on an error (message printed). */
static int take_option(server_opts_t *o, int opt, const char *v) {
  int ok = 1;
  switch (opt) {
  case 'd':
    dynamic_max = (unsigned)parse_number(v, 0, 1000000, 10, &ok);
    break;
  case 'e':
    echo_back = 1;
    break;
  case 'g':
    o->group = v;
    break;
  case 'l':
    o->loss = v;
    break;
  case 'p':
    o->port = (unsigned)parse_number(v, 0, 65535, 10, &ok);
    break;
  case 'r':
    o->mcast_per_resource = 1;
    break;
  case 't':
    o->track_observes = 1;
    break;
  case 'v':
    o->log_level = (int)parse_number(v, 0, COAP_LOG_OSCORE, 10, &ok);
    break;
  case 'w':
    return parse_ws(o, v);
  case 'A':
    o->addr = v;
    break;
  case 'E':
    if (!coap_oscore_is_supported())
      return lacks('E', "OSCORE (RFC 8613)");
    fprintf(stderr, "coap-server: -E: OSCORE is not supported by this "
                    "coap-server yet\n");
    return 0;
  case 'G':
    o->group_if = v;
    break;
  case 'L':
    o->block_mode = (uint32_t)parse_number(v, 1, 0xFF, 0, &ok);
    if (ok && !(o->block_mode & COAP_BLOCK_USE_LIBCOAP)) {
      fprintf(stderr, "coap-server: -L must include COAP_BLOCK_USE_LIBCOAP "
                      "(1)\n");
      return 0;
    }
    if (ok && (o->block_mode & COAP_BLOCK_TRY_Q_BLOCK) &&
        !coap_q_block_is_supported())
      return lacks('L', "Q-Block (RFC 9177) for the value 4");
    break;
  case 'N':
    resource_flags = COAP_RESOURCE_FLAGS_NOTIFY_NON;
    break;
  case 'P':
    fprintf(stderr, "coap-server: -P: this coap-server does not act as a "
                    "proxy (answers to Proxy-Uri are 5.05)\n");
    return 0;
  case 'T':
    o->max_token = parse_number(v, 8, 65804, 10, &ok);
    break;
  case 'U':
    return parse_unix(o, v);
  case 'V':
    o->dtls_log_level = (int)parse_number(v, 0, COAP_LOG_DEBUG, 10, &ok);
    break;
  case 'X':
    if (!coap_tcp_is_supported())
      return lacks('X', "TCP");
    o->csm_max = (uint32_t)parse_number(v, 64, 0xFFFFFFFFul, 10, &ok);
    break;
  default: { /* the DTLS options (dtls_opts.h) */
    int taken = tool_dtls_option(&o->dtls, (char)opt, v, 1);
    if (!taken)
      return 0;
    ok = taken > 0;
    break;
  }
  }
  if (!ok)
    fprintf(stderr, "coap-server: bad value '%s' for -%c\n", v, opt);
  return ok;
}

/* Returns -1 to exit successfully (help, version), 0 on a usage error, 1
 * to go on. */
static int parse_args(int argc, char **argv, server_opts_t *o) {
  static const struct option longs[] = {{"help", no_argument, NULL, 2},
                                        {"version", no_argument, NULL, 1},
                                        {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof(*o));
  o->addr = "::";
  o->port = COAP_DEFAULT_PORT;
  o->ws_port = -1;
  o->log_level = COAP_LOG_WARN;
  o->dtls_log_level = COAP_LOG_ERR;
  o->block_mode = COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY;
  opterr = 0;
  int opt;
  /* -h hint is the DTLS identity hint, as in libcoap; -h alone, as the
   * last argument, and --help are help. */
  while ((opt = getopt_long(argc, argv,
                            ":c:d:eg:h:i:j:k:l:np:rs:tv:w:A:C:E:G:L:M:NP:R:"
                            "S:T:U:V:X:",
                            longs, NULL)) != -1) {
    if (opt == 2 || (opt == ':' && optopt == 'h')) {
      usage(stdout);
      return -1;
    }
    if (opt == 1) {
      version(stdout);
      return -1;
    }
    if (opt == ':') {
      fprintf(stderr, "coap-server: option -%c needs a value\n", optopt);
      return 0;
    }
    if (opt == '?') {
      if (optopt)
        fprintf(stderr, "coap-server: unknown option -%c\n", optopt);
      else
        fprintf(stderr, "coap-server: unknown option %s\n", argv[optind - 1]);
      fprintf(stderr, "(coap-server -h lists the options)\n");
      return 0;
    }
    if (!take_option(o, opt, optarg))
      return 0;
  }
  if (optind < argc) {
    fprintf(stderr, "coap-server: unexpected argument '%s'\n", argv[optind]);
    return 0;
  }
  return tool_dtls_check(&o->dtls, "coap-server") < 0 ? 0 : 1;
}

/* ---- listening ---------------------------------------------------------- */

/* The address to listen on: -A (a host, or with -U a socket path) and -p. */
static int listen_address(const server_opts_t *o, coap_address_t *addr) {
  if (o->unix_socket) {
    coap_address_init(addr);
    if (!coap_address_set_unix_domain(addr, (const uint8_t *)o->addr,
                                      strlen(o->addr))) {
      fprintf(stderr,
              "coap-server: '%s' is too long for a socket path (at most "
              "%zu bytes)\n",
              o->addr, (size_t)COAP_UNIX_PATH_MAX - 1);
      return 0;
    }
    return 1;
  }
  coap_str_const_t host = {strlen(o->addr), (const uint8_t *)o->addr};
  coap_addr_info_t *info = coap_resolve_address_info(
      &host, COAP_DEFAULT_PORT, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT,
      COAP_RESOLVE_TYPE_LOCAL);
  if (!info) {
    fprintf(stderr, "coap-server: cannot resolve '%s'\n", o->addr);
    return 0;
  }
  coap_address_copy(addr, &info->addr);
  coap_free_address_info(info);
  coap_address_set_port(addr, (uint16_t)o->port); /* 0 stays 0: ephemeral */
  return 1;
}

/* @proto (coap+tcp, or coaps+tcp) on the port of the datagram endpoint
 * described by @udp_desc ("ADDR:PORT UDP", or DTLS), as libcoap's server
 * listens on both. The endpoint, or NULL with errno set. */
static coap_endpoint_t *listen_tcp(coap_context_t *ctx, coap_address_t addr,
                                   const char *udp_desc, coap_proto_t proto) {
  const char *sp = strchr(udp_desc, ' ');
  const char *colon = sp ? udp_desc : NULL;
  for (const char *p = udp_desc; sp && p < sp; p++)
    if (*p == ':')
      colon = p;
  coap_address_set_port(&addr, colon ? (uint16_t)atoi(colon + 1) : 0);
  errno = 0;
  return coap_new_endpoint(ctx, &addr, proto);
}

/* Prints "coap-server: listening on ADDR:PORT" for @ep. */
static void say_listening(const char *what, coap_endpoint_t *ep) {
  const char *desc = coap_endpoint_str(ep);
  fprintf(stderr, "coap-server: listening %s%.*s\n", what,
          (int)strcspn(desc, " "), desc);
}

/* The UDP endpoint, and TCP on its port when TCP is built. With -p 0 the
 * port the kernel picks for UDP may be taken for TCP: then another one is
 * tried, a few times. */
static coap_endpoint_t *listen_on(coap_context_t *ctx, const server_opts_t *o) {
  coap_address_t addr;
  if (!listen_address(o, &addr))
    return NULL;
  int want_tcp = !o->unix_socket && coap_tcp_is_supported();
  for (int attempt = 0;; attempt++) {
    errno = 0;
    coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP);
    if (!ep) {
      int err = errno;
      fprintf(stderr, "coap-server: cannot listen on %s%s%s port %u: %s\n",
              strchr(o->addr, ':') ? "[" : "", o->addr,
              strchr(o->addr, ':') ? "]" : "", o->port,
              err == EADDRINUSE ? "the port is in use (is another server "
                                  "running there?)"
              : err             ? strerror(err)
                                : "the library refused the address");
      return NULL;
    }
    coap_endpoint_t *tcp =
        want_tcp ? listen_tcp(ctx, addr, coap_endpoint_str(ep), COAP_PROTO_TCP)
                 : NULL;
    if (want_tcp && !tcp) {
      int err = errno;
      if (o->port == 0 && err == EADDRINUSE && attempt < 16) {
        coap_free_endpoint(ep); /* that port is TCP's elsewhere: another */
        continue;
      }
      fprintf(stderr, "coap-server: cannot listen for coap+tcp: %s\n",
              err ? strerror(err) : "the library refused the address");
      return NULL;
    }
    say_listening("on ", ep);
    if (tcp)
      say_listening("for coap+tcp on ", tcp);
    fflush(stderr);
    return ep;
  }
}

/* The context settings from the command line, the multicast group
 * included (joined on the endpoint). Returns 1, or 0 with the reason
 * printed. */
static int configure(coap_context_t *ctx, const server_opts_t *o) {
  if (o->loss && !coap_debug_set_packet_loss(o->loss)) {
    fprintf(stderr,
            "coap-server: bad value '%s' for -l (N%% or a list "
            "like 1,3,5-7)\n",
            o->loss);
    return 0;
  }
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

/* With credentials, a coaps endpoint beside the coap one, and coaps+tcp
 * on its port when TLS is built: on the next port, as libcoap's server
 * does, or a free one with -p 0 (another when the one the kernel picked
 * for DTLS is taken for TCP). Returns 0, or -1 (message printed). */
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
  int want_tls = !o->unix_socket && coap_tls_is_supported();
  for (int attempt = 0;; attempt++) {
    coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_DTLS);
    if (!ep) {
      fprintf(stderr, "coap-server: cannot listen for coaps\n");
      return -1;
    }
    coap_endpoint_t *tls =
        want_tls ? listen_tcp(ctx, addr, coap_endpoint_str(ep), COAP_PROTO_TLS)
                 : NULL;
    if (want_tls && !tls) {
      int err = errno;
      if (o->port == 0 && err == EADDRINUSE && attempt < 16) {
        coap_free_endpoint(ep);
        continue;
      }
      fprintf(stderr, "coap-server: cannot listen for coaps+tcp: %s\n",
              err ? strerror(err) : "the library refused the address");
      return -1;
    }
    say_listening("for coaps on ", ep);
    if (tls)
      say_listening("for coaps+tcp on ", tls);
    fflush(stderr);
    return 0;
  }
}

/* With -w and credentials, a coaps+ws endpoint on @addr's address and the
 * secure port. Where the port was not named (443 by default), failing to
 * listen there is a warning, as in libcoap's server, which goes on with
 * the endpoints it has. Returns 0, or -1 (message printed). */
static int listen_wss(coap_context_t *ctx, const server_opts_t *o,
                      coap_address_t addr) {
  if (!tool_dtls_wanted(&o->dtls)) {
    if (o->wss_given)
      fprintf(stderr,
              "coap-server: -w: coaps+ws on port %d needs -k or -c; "
              "not listening for it\n",
              o->wss_port);
    return 0;
  }
  coap_address_set_port(&addr, (uint16_t)o->wss_port);
  errno = 0;
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_WSS);
  if (!ep) {
    fprintf(stderr, "coap-server: %s listen for coaps+ws on port %d: %s\n",
            o->wss_given ? "cannot" : "warning: did not", o->wss_port,
            errno ? strerror(errno) : "refused by the library");
    return o->wss_given ? -1 : 0;
  }
  say_listening("for coaps+ws on ", ep);
  return 0;
}

/* With -w, a coap+ws endpoint on its port (0: a free one), and coaps+ws
 * with credentials (listen_wss()). Returns 0, or -1 (message printed). */
static int listen_ws(coap_context_t *ctx, const server_opts_t *o) {
  if (o->ws_port < 0)
    return 0;
  coap_address_t addr;
  if (o->unix_socket) {
    fprintf(stderr, "coap-server: -w: coap+ws over a Unix socket is not "
                    "served by this coap-server\n");
    return -1;
  }
  if (!listen_address(o, &addr))
    return -1;
  coap_address_set_port(&addr, (uint16_t)o->ws_port);
  errno = 0;
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_WS);
  if (!ep) {
    fprintf(stderr, "coap-server: cannot listen for coap+ws on port %d: %s\n",
            o->ws_port, errno ? strerror(errno) : "refused by the library");
    return -1;
  }
  say_listening("for coap+ws on ", ep);
  int rc = listen_wss(ctx, o, addr);
  fflush(stderr);
  return rc;
}

/* Milliseconds until the clock's next whole second (1..1000). */
static uint32_t ms_to_next_second(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint32_t)(1000 - ts.tv_nsec / 1000000);
}

/* Runs the loop, notifying /time's observers as each second begins. */
static void serve(coap_context_t *ctx, coap_resource_t *time_resource) {
  time_t last = wall_seconds();
  while (!quit) {
    if (coap_io_process(ctx, ms_to_next_second()) < 0)
      break;
    time_t now = wall_seconds();
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
  sa.sa_handler = on_sigusr2;
  sigaction(SIGUSR2, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  coap_startup();
  coap_set_log_level((coap_log_t)o.log_level);
  coap_dtls_set_log_level((coap_log_t)o.dtls_log_level);
  init_large_body();
  int status = EXIT_FAILURE;
  coap_context_t *ctx = init_example_data() ? coap_new_context(NULL) : NULL;
  if (ctx) {
    coap_resource_t *time_resource = init_resources(ctx);
    if (time_resource && listen_on(ctx, &o) && listen_coaps(ctx, &o) == 0 &&
        listen_ws(ctx, &o) == 0 && configure(ctx, &o) &&
        (!o.track_observes || start_persist(ctx))) {
      serve(ctx, time_resource);
      status = EXIT_SUCCESS;
    }
    if (o.track_observes && keep_persist)
      coap_persist_stop(ctx);
    coap_free_context(ctx); /* frees endpoints, sessions and resources */
  }
  tool_dtls_free(&o.dtls);
  free(example_data.body);
  coap_delete_binary(partial.body);
  coap_cleanup();
  return status;
}
