/*
 * server_resources.c -- coap-server's resources (listed in coap-server.c's
 * header comment) and their handlers: /, /time, /async, /async_large,
 * /large, /example_data and, with -d, the resources PUT or POST creates.
 */
#include "server.h"

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
time_t server_wall_seconds(void) {
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
  time_t now = server_wall_seconds() + server_clock.offset;
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
  server_clock.offset = len ? (time_t)seconds - server_wall_seconds() : 0;
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
static unsigned dynamic_max, dynamic_count; /* -d */
static int resource_flags; /* -N: COAP_RESOURCE_FLAGS_NOTIFY_NON, else CON */

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

coap_resource_t *server_init_resources(coap_context_t *ctx,
                                       const server_opts_t *o) {
  dynamic_max = o->dynamic_max;
  echo_back = o->echo_back;
  resource_flags = o->notify_non ? COAP_RESOURCE_FLAGS_NOTIFY_NON
                                 : COAP_RESOURCE_FLAGS_NOTIFY_CON;
  init_large_body();
  return init_example_data() ? init_resources(ctx) : NULL;
}

void server_free_resources(void) {
  free(example_data.body);
  example_data.body = NULL;
  coap_delete_binary(partial.body);
  partial.body = NULL;
}

void server_time_tick(coap_resource_t *time_resource, time_t *last) {
  time_t now = server_wall_seconds();
  if (now != *last && server_clock.running) {
    coap_resource_notify_observers(time_resource, NULL);
    *last = now;
  }
}
