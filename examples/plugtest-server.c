/*
 * plugtest-server: the resources of the ETSI CoAP#4 interoperability
 * plugtest, so that anyone can run the test descriptions TD_COAP_CORE_*,
 * TD_COAP_LINK_*, TD_COAP_BLOCK_* and TD_COAP_OBS_* against a Petrel server.
 *
 *   plugtest-server [-p MS] [-a MS] [-r N] [addr [port]]
 *
 *   addr, port   where to listen (default :: and 5683; port 0 picks a free
 *                port)
 *   -p MS        the observable resources change every MS milliseconds
 *                (default 5000, as the test descriptions suggest)
 *   -a MS        ACK_TIMEOUT of every client session, in milliseconds
 *                (default the RFC's 2000)
 *   -r N         MAX_RETRANSMIT of every client session (default 4)
 *
 * A short period and short retransmission parameters let an automated run
 * of the TD_COAP_OBS_* descriptions finish in seconds (tests/plugtest/).
 *
 * Prints "plugtest-server: listening on ADDR:PORT" to stderr once ready and
 * runs until SIGINT or SIGTERM. It uses the public libcoap API only.
 *
 * Resources (the test descriptions that use them):
 *
 *   /test              GET, POST, PUT, DELETE (CORE_01..08, 10, 12, 15, 18)
 *   /separate          GET answered by a separate response (CORE_09, 11,
 *                      16, 17)
 *   /seg1/seg2/seg3    GET (CORE_13)
 *   /query             GET, echoes the Uri-Query options (CORE_14)
 *   /location-query    POST, 2.01 with Location-Query (CORE_19)
 *   /multi-format      GET in text/plain or application/xml by Accept
 *                      (CORE_20)
 *   /validate          GET with ETag and 2.03 Valid, PUT with If-Match
 *                      (CORE_21, 22)
 *   /create1           PUT with If-None-Match (CORE_23)
 *   /link1../link3     rt, if and sz attributes for discovery filters
 *                      (LINK_02..08)
 *   /path, /path/sub1..sub3   a hierarchy described in link format
 *                      (LINK_09)
 *   /large             a 2 KiB body served with Block2 (BLOCK_01, 02, 06)
 *   /large-update      PUT with Block1, GET returns the last body (BLOCK_03)
 *   /large-create      POST with Block1 creates /large-create/N (BLOCK_04)
 *   /large-post        POST with Block1, answered with Block2 (BLOCK_05)
 *   /obs               observable, CON notifications, changes every period;
 *                      PUT sets its value, DELETE removes it (OBS_01, 04..12)
 *   /obs-non           observable, NON notifications (OBS_02)
 *   /obs-large         observable, a body of about 1.5 KiB served with Block2
 *                      (OBS_13)
 *   /obs-pumping       observable, its body alternates between short and
 *                      block-wise sizes (OBS_14)
 *
 * /.well-known/core and its query filters (LINK_01..08), the answer to a
 * CoAP Ping (CORE_31) and the observer bookkeeping (RFC 7641) come from the
 * library.
 */
#include <coap3/coap.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- bodies -----------------------------------------------------------------
 *
 * A block-wise response borrows its body until the library calls the
 * release function, possibly after the resource has changed; so a body is
 * reference counted: the resource holds one reference, and each response
 * being served holds another.
 */

typedef struct body {
  unsigned refs;
  uint16_t format; /* Content-Format */
  size_t length;
  uint8_t data[];
} body;

static body *body_new(const uint8_t *data, size_t length, uint16_t format) {
  body *b = malloc(sizeof(*b) + length);
  if (!b)
    return NULL;
  b->refs = 1;
  b->format = format;
  b->length = length;
  if (length)
    memcpy(b->data, data, length);
  return b;
}

static void body_unref(body *b) {
  if (b && --b->refs == 0)
    free(b);
}

/* The library is done with a body it was serving. */
static void body_release(coap_session_t *session, void *app_ptr) {
  (void)session;
  body_unref(app_ptr);
}

/* Puts @b into @response (2.05), block-wise when it does not fit, with
 * Max-Age @max_age seconds (none when negative). */
static void serve_body_max_age(coap_resource_t *resource,
                               coap_session_t *session,
                               const coap_pdu_t *request,
                               const coap_string_t *query, coap_pdu_t *response,
                               body *b, int max_age) {
  b->refs++; /* dropped by body_release(), also on failure */
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  if (!coap_add_data_large_response(resource, session, request, response, query,
                                    b->format, max_age, 0, b->length, b->data,
                                    body_release, b))
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

/* Puts @b into @response (2.05), block-wise when it does not fit. */
static void serve_body(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query,
                       coap_pdu_t *response, body *b) {
  serve_body_max_age(resource, session, request, query, response, b, -1);
}

/* The request's payload (the whole body: the library reassembles Block1). */
static body *request_body(const coap_pdu_t *request) {
  size_t length = 0;
  const uint8_t *data = NULL;
  coap_get_data(request, &length, &data);
  coap_opt_iterator_t it;
  coap_opt_t *cf = coap_check_option(request, COAP_OPTION_CONTENT_FORMAT, &it);
  uint16_t format = cf ? (uint16_t)coap_decode_var_bytes(coap_opt_value(cf),
                                                         coap_opt_length(cf))
                       : COAP_MEDIATYPE_TEXT_PLAIN;
  return body_new(data, length, format);
}

/* Adds a short text payload with its Content-Format. */
static void add_text(coap_pdu_t *response, const char *text) {
  uint8_t buf[4];
  coap_add_option(
      response, COAP_OPTION_CONTENT_FORMAT,
      coap_encode_var_safe(buf, sizeof(buf), COAP_MEDIATYPE_TEXT_PLAIN), buf);
  coap_add_data(response, strlen(text), (const uint8_t *)text);
}

/* ---- /test -----------------------------------------------------------------
 */

static void hnd_test_get(coap_resource_t *r, coap_session_t *s,
                         const coap_pdu_t *req, const coap_string_t *q,
                         coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  add_text(resp, "Type: GET on /test");
}

/* CORE_04 and CORE_18: the "created" resource is announced at
 * /location1/location2/location3, one Location-Path option per segment. */
static void hnd_test_post(coap_resource_t *r, coap_session_t *s,
                          const coap_pdu_t *req, const coap_string_t *q,
                          coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  static const char *const where[] = {"location1", "location2", "location3"};
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
  for (int i = 0; i < 3; i++)
    coap_add_option(resp, COAP_OPTION_LOCATION_PATH, strlen(where[i]),
                    (const uint8_t *)where[i]);
}

static void hnd_test_put(coap_resource_t *r, coap_session_t *s,
                         const coap_pdu_t *req, const coap_string_t *q,
                         coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static void hnd_test_delete(coap_resource_t *r, coap_session_t *s,
                            const coap_pdu_t *req, const coap_string_t *q,
                            coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_DELETED);
}

/* ---- /separate --------------------------------------------------------------
 *
 * The first call registers an async and returns without a code: a CON gets
 * an Empty ACK now, a NON nothing. A second later the library calls the
 * handler again with the same request, and this time it answers (CON for
 * a CON request, NON for a NON one, each with a new message ID).
 */

#define SEPARATE_DELAY_TICKS COAP_TICKS_PER_SECOND

static void hnd_separate(coap_resource_t *r, coap_session_t *s,
                         const coap_pdu_t *req, const coap_string_t *q,
                         coap_pdu_t *resp) {
  (void)r, (void)q;
  coap_async_t *async = coap_find_async(s, coap_pdu_get_token(req));
  if (!async) {
    if (!coap_register_async(s, req, SEPARATE_DELAY_TICKS))
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
    return;
  }
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  add_text(resp, "Type: separate response on /separate");
}

/* ---- /seg1/seg2/seg3, /query ------------------------------------------------
 */

static void hnd_seg(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  add_text(resp, "Type: GET on /seg1/seg2/seg3");
}

/* The payload is the query as received ("first=1&second=2"). */
static void hnd_query(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req;
  char text[300];
  snprintf(text, sizeof(text), "query: %.*s", q ? (int)q->length : 0,
           q ? (const char *)q->s : "");
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  add_text(resp, text);
}

/* ---- /location-query
 * --------------------------------------------------------- */

static void hnd_location_query(coap_resource_t *r, coap_session_t *s,
                               const coap_pdu_t *req, const coap_string_t *q,
                               coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  static const char *const args[] = {"first=1", "second=2"};
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
  for (int i = 0; i < 2; i++)
    coap_add_option(resp, COAP_OPTION_LOCATION_QUERY, strlen(args[i]),
                    (const uint8_t *)args[i]);
}

/* ---- /multi-format
 * ----------------------------------------------------------- */

static void hnd_multi_format(coap_resource_t *r, coap_session_t *s,
                             const coap_pdu_t *req, const coap_string_t *q,
                             coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  coap_opt_iterator_t it;
  coap_opt_t *accept = coap_check_option(req, COAP_OPTION_ACCEPT, &it);
  unsigned format = accept ? coap_decode_var_bytes(coap_opt_value(accept),
                                                   coap_opt_length(accept))
                           : COAP_MEDIATYPE_TEXT_PLAIN;
  const char *text;
  if (format == COAP_MEDIATYPE_TEXT_PLAIN) {
    text = "Status: ok";
  } else if (format == COAP_MEDIATYPE_APPLICATION_XML) {
    text = "<status>ok</status>";
  } else { /* RFC 7252 5.10.4: no representation in that format */
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_ACCEPTABLE);
    return;
  }
  uint8_t buf[4];
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT,
                  coap_encode_var_safe(buf, sizeof(buf), format), buf);
  coap_add_data(resp, strlen(text), (const uint8_t *)text);
}

/* ---- /validate --------------------------------------------------------------
 *
 * The representation has a version number, and its ETag is that number
 * (RFC 7252 5.10.6). A GET naming the current ETag gets 2.03 Valid with no
 * payload; a PUT with If-Match naming another ETag gets 4.12 (5.10.8.1).
 */

static struct {
  body *content;
  uint32_t version;
} validate = {NULL, 1};

/* The ETag of version @v, in @buf; returns its length. */
static size_t version_etag(uint32_t v, uint8_t buf[4]) {
  return coap_encode_var_safe(buf, 4, v);
}

/* 1 if an option @number of @req carries exactly @etag. */
static int has_etag(const coap_pdu_t *req, coap_option_num_t number,
                    const uint8_t *etag, size_t len) {
  coap_opt_filter_t f;
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  coap_option_filter_clear(&f);
  coap_option_filter_set(&f, number);
  coap_option_iterator_init(req, &it, &f);
  while ((opt = coap_option_next(&it)) != NULL)
    if (coap_opt_length(opt) == len &&
        memcmp(coap_opt_value(opt), etag, len) == 0)
      return 1;
  return 0;
}

static void hnd_validate_get(coap_resource_t *r, coap_session_t *s,
                             const coap_pdu_t *req, const coap_string_t *q,
                             coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  uint8_t etag[4];
  size_t len = version_etag(validate.version, etag);
  coap_add_option(resp, COAP_OPTION_ETAG, len, etag);
  if (has_etag(req, COAP_OPTION_ETAG, etag, len)) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_VALID);
    return;
  }
  uint8_t buf[4];
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_option(
      resp, COAP_OPTION_CONTENT_FORMAT,
      coap_encode_var_safe(buf, sizeof(buf), validate.content->format), buf);
  coap_add_data(resp, validate.content->length, validate.content->data);
}

static void hnd_validate_put(coap_resource_t *r, coap_session_t *s,
                             const coap_pdu_t *req, const coap_string_t *q,
                             coap_pdu_t *resp) {
  (void)r, (void)s, (void)q;
  uint8_t etag[4];
  size_t len = version_etag(validate.version, etag);
  coap_opt_iterator_t it;
  if (coap_check_option(req, COAP_OPTION_IF_MATCH, &it) &&
      !has_etag(req, COAP_OPTION_IF_MATCH, etag, len)) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_PRECONDITION_FAILED);
    return;
  }
  body *b = request_body(req);
  if (!b) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  body_unref(validate.content);
  validate.content = b;
  validate.version++;
  len = version_etag(validate.version, etag);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
  coap_add_option(resp, COAP_OPTION_ETAG, len, etag);
}

/* ---- /create1 ---------------------------------------------------------------
 *
 * Starts out absent (GET: 4.04). PUT creates it (2.01) or replaces it
 * (2.04); with If-None-Match a PUT succeeds only while it is absent (RFC
 * 7252 5.10.8.2), else 4.12. DELETE makes it absent again.
 */

static void hnd_create1_get(coap_resource_t *r, coap_session_t *s,
                            const coap_pdu_t *req, const coap_string_t *q,
                            coap_pdu_t *resp) {
  body *b = coap_resource_get_userdata(r);
  if (!b) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_FOUND);
    return;
  }
  serve_body(r, s, req, q, resp, b);
}

static void hnd_create1_put(coap_resource_t *r, coap_session_t *s,
                            const coap_pdu_t *req, const coap_string_t *q,
                            coap_pdu_t *resp) {
  (void)s, (void)q;
  body *old = coap_resource_get_userdata(r);
  coap_opt_iterator_t it;
  if (old && coap_check_option(req, COAP_OPTION_IF_NONE_MATCH, &it)) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_PRECONDITION_FAILED);
    return;
  }
  body *b = request_body(req);
  if (!b) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  body_unref(old);
  coap_resource_set_userdata(r, b);
  coap_pdu_set_code(resp, old ? COAP_RESPONSE_CODE_CHANGED
                              : COAP_RESPONSE_CODE_CREATED);
}

static void hnd_create1_delete(coap_resource_t *r, coap_session_t *s,
                               const coap_pdu_t *req, const coap_string_t *q,
                               coap_pdu_t *resp) {
  (void)s, (void)req, (void)q;
  body_unref(coap_resource_get_userdata(r));
  coap_resource_set_userdata(r, NULL);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_DELETED);
}

/* ---- /link1../link3, /path -------------------------------------------------
 */

static void hnd_link(coap_resource_t *r, coap_session_t *s,
                     const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp) {
  (void)s, (void)req, (void)q;
  coap_str_const_t *path = coap_resource_get_uri_path(r);
  char text[80];
  snprintf(text, sizeof(text), "Resource /%.*s", (int)path->length,
           (const char *)path->s);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  add_text(resp, text);
}

static const char *const path_children[] = {"path/sub1", "path/sub2",
                                            "path/sub3"};
#define PATH_CHILDREN (sizeof(path_children) / sizeof(path_children[0]))

/* GET /path: the links of its sub-resources, printed by the library the
 * way /.well-known/core prints them (RFC 6690 section 5, last example). */
static void hnd_path(coap_resource_t *r, coap_session_t *s,
                     const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_context_t *ctx = coap_session_get_context(s);
  unsigned char buf[512];
  size_t used = 0;
  for (size_t i = 0; i < PATH_CHILDREN; i++) {
    coap_resource_t *child = coap_get_resource_from_uri_path(
        ctx, coap_make_str_const(path_children[i]));
    if (!child)
      continue;
    if (used)
      buf[used++] = ',';
    size_t len = sizeof(buf) - used, offset = 0;
    coap_print_status_t st = coap_print_link(child, buf + used, &len, &offset);
    if (st & (COAP_PRINT_STATUS_ERROR | COAP_PRINT_STATUS_TRUNC)) {
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
      return;
    }
    used += len;
  }
  uint8_t cf[4];
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT,
                  coap_encode_var_safe(cf, sizeof(cf),
                                       COAP_MEDIATYPE_APPLICATION_LINK_FORMAT),
                  cf);
  coap_add_data(resp, used, buf);
}

/* ---- /large, /large-update, /large-create, /large-post ---------------------
 *
 * The library does the block-wise work (COAP_BLOCK_USE_LIBCOAP): Block2
 * through coap_add_data_large_response(), and, with COAP_BLOCK_SINGLE_BODY,
 * Block1 bodies are reassembled (each block before the last answered with
 * 2.31 Continue) and the handler sees the whole body once.
 */

/* A resource's user data when it serves a body: /large, /large-update and
 * the resources /large-create makes. */
static void hnd_body_get(coap_resource_t *r, coap_session_t *s,
                         const coap_pdu_t *req, const coap_string_t *q,
                         coap_pdu_t *resp) {
  body *b = coap_resource_get_userdata(r);
  if (!b) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_FOUND);
    return;
  }
  serve_body(r, s, req, q, resp, b);
}

static void hnd_large_update_put(coap_resource_t *r, coap_session_t *s,
                                 const coap_pdu_t *req, const coap_string_t *q,
                                 coap_pdu_t *resp) {
  (void)s, (void)q;
  body *b = request_body(req);
  if (!b) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  body_unref(coap_resource_get_userdata(r));
  coap_resource_set_userdata(r, b);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

/* Each POST makes a new resource /large-create/N holding the body, and
 * answers 2.01 with Location-Path "large-create" and "N". */
static void hnd_large_create_post(coap_resource_t *r, coap_session_t *s,
                                  const coap_pdu_t *req, const coap_string_t *q,
                                  coap_pdu_t *resp) {
  (void)q;
  static unsigned next_id = 1;
  char id[12], path[32];
  snprintf(id, sizeof(id), "%u", next_id++);
  snprintf(path, sizeof(path), "large-create/%s", id);
  body *b = request_body(req);
  coap_resource_t *child =
      b ? coap_resource_init(coap_make_str_const(path), 0) : NULL;
  if (!child) {
    body_unref(b);
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  coap_resource_set_userdata(child, b); /* freed by release_userdata() */
  coap_register_handler(child, COAP_REQUEST_GET, hnd_body_get);
  coap_add_resource(coap_session_get_context(s), child);
  coap_str_const_t *parent = coap_resource_get_uri_path(r);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
  coap_add_option(resp, COAP_OPTION_LOCATION_PATH, parent->length, parent->s);
  coap_add_option(resp, COAP_OPTION_LOCATION_PATH, strlen(id),
                  (const uint8_t *)id);
}

/* BLOCK_05: the answer to a large POST is large too (here the body sent,
 * served back block-wise with 2.04). */
static void hnd_large_post(coap_resource_t *r, coap_session_t *s,
                           const coap_pdu_t *req, const coap_string_t *q,
                           coap_pdu_t *resp) {
  body *b = request_body(req);
  if (!b) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  serve_body(r, s, req, q, resp, b);
  body_unref(b); /* the response holds its own reference */
  if (coap_pdu_get_code(resp) == COAP_RESPONSE_CODE_CONTENT)
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

/* The /large body: numbered lines of text, a little over 2 KiB. */
static body *large_body(void) {
  char text[2200];
  size_t used = 0;
  for (int line = 1; used + 64 < sizeof(text); line++)
    used += (size_t)snprintf(text + used, sizeof(text) - used,
                             "%03d: the quick brown fox jumps over the dog\n",
                             line);
  return body_new((const uint8_t *)text, used, COAP_MEDIATYPE_TEXT_PLAIN);
}

/* ---- /obs, /obs-non, /obs-large, /obs-pumping -------------------------------
 *
 * Each observable resource's user data is its current body. Every period
 * the main loop gives each a new body (change_observables()) and marks it
 * changed; on its next pass the library calls the GET handler once per
 * observer and sends each answer as a notification, CON or NON by the
 * resource's flags, with an Observe value one higher than the last.
 */

static unsigned period_ms = 5000;
static unsigned long period_count; /* periods elapsed */

static struct {
  int held;     /* a client PUT the value: the periods no longer change it */
  int refusing; /* its Content-Format just changed (see hnd_obs_put) */
} obs;

/* Max-Age of the observable resources: the period in whole seconds, rounded
 * up, plus one, so that a client hearing nothing for longer than Max-Age
 * knows it is no longer observing (RFC 7641 3.3.1). */
static int obs_max_age(void) {
  return (int)((period_ms + 999) / 1000 + 1);
}

/* 1 if @req carries an Observe option (a registration, or the request the
 * library calls the handler with to make a notification). */
static int has_observe(const coap_pdu_t *req) {
  coap_opt_iterator_t it;
  return coap_check_option(req, COAP_OPTION_OBSERVE, &it) != NULL;
}

static void hnd_obs_get(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  /* RFC 7641 4.2: an observer is told with 4.06 when notifications can no
   * longer use the Content-Format of its first answer, and removed. */
  if (obs.refusing && has_observe(req)) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_ACCEPTABLE);
    return;
  }
  body *b = coap_resource_get_userdata(r);
  if (!b) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_FOUND);
    return;
  }
  serve_body_max_age(r, s, req, q, resp, b, obs_max_age());
}

/* PUT /obs: the payload becomes the value (OBS_09) and every observer is
 * notified. A payload of another Content-Format ends every observation
 * with 4.06 instead (OBS_08): hnd_obs_get() refuses while obs.refusing is
 * set, which lasts until the library has sent this change's notifications
 * (the main loop clears it after each pass). */
static void hnd_obs_put(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  (void)s, (void)q;
  body *b = request_body(req);
  if (!b) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return;
  }
  body *old = coap_resource_get_userdata(r);
  if (old && old->format != b->format)
    obs.refusing = 1;
  body_unref(old);
  coap_resource_set_userdata(r, b);
  obs.held = 1;
  coap_resource_notify_observers(r, NULL);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

/* DELETE /obs (OBS_07): the library tells each observer with 4.04. */
static void hnd_obs_delete(coap_resource_t *r, coap_session_t *s,
                           const coap_pdu_t *req, const coap_string_t *q,
                           coap_pdu_t *resp) {
  (void)req, (void)q;
  coap_delete_resource(coap_session_get_context(s), r);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_DELETED);
}

/* A text body: "obs N" for period N, padded with numbered lines to at
 * least @size bytes. */
static body *obs_body(size_t size) {
  char text[1600];
  size_t used = (size_t)snprintf(text, sizeof(text), "obs %lu\n", period_count);
  for (int line = 1; used < size && used + 64 < sizeof(text); line++)
    used += (size_t)snprintf(text + used, sizeof(text) - used,
                             "%03d: period %lu, line %d of the body\n", line,
                             period_count, line);
  return body_new((const uint8_t *)text, used, COAP_MEDIATYPE_TEXT_PLAIN);
}

/* The body sizes of the observable resources: /obs-pumping alternates
 * between one datagram and more than 1024 bytes (two blocks or more). */
static size_t size_small(void) {
  return 0;
}

static size_t size_large(void) {
  return 1500;
}

static size_t size_pumping(void) {
  return period_count % 2 ? 1500 : 0;
}

static const struct {
  const char *path;
  size_t (*size)(void);
  const int *held; /* when set, the period keeps the value */
} observables[] = {{"obs", size_small, &obs.held},
                   {"obs-non", size_small, NULL},
                   {"obs-large", size_large, NULL},
                   {"obs-pumping", size_pumping, NULL}};
#define OBSERVABLES (sizeof(observables) / sizeof(observables[0]))

/* One period has passed: each observable resource still there gets its
 * next body and its observers are notified. /obs keeps a value a client
 * PUT, but is still announced each period, so that its observers' copies
 * never outlive Max-Age (RFC 7641 4.3.1). */
static void change_observables(coap_context_t *ctx) {
  period_count++;
  for (size_t i = 0; i < OBSERVABLES; i++) {
    coap_resource_t *r = coap_get_resource_from_uri_path(
        ctx, coap_make_str_const(observables[i].path));
    if (!r)
      continue; /* deleted */
    body *b = observables[i].held && *observables[i].held
                  ? NULL
                  : obs_body(observables[i].size());
    if (b) {
      body_unref(coap_resource_get_userdata(r));
      coap_resource_set_userdata(r, b);
    }
    coap_resource_notify_observers(r, NULL);
  }
}

/* ---- building the resource table -------------------------------------------
 */

#define GET(h)                                                                 \
  { COAP_REQUEST_GET, h }
#define N(a) (sizeof(a) / sizeof(a[0]))

typedef struct handler_entry {
  coap_request_t method;
  coap_method_handler_t handler;
} handler_entry;

/* Adds resource @path with up to four handlers and the link attributes
 * given as name/value pairs (NULL-terminated; a NULL value is a bare
 * attribute). Returns the resource, or NULL when out of memory. */
static coap_resource_t *add_flags(coap_context_t *ctx, const char *path,
                                  int flags, const handler_entry *handlers,
                                  size_t n_handlers, const char *const *attrs) {
  coap_resource_t *r = coap_resource_init(coap_make_str_const(path), flags);
  if (!r)
    return NULL;
  for (size_t i = 0; i < n_handlers; i++)
    coap_register_handler(r, handlers[i].method, handlers[i].handler);
  for (size_t i = 0; attrs && attrs[i]; i += 2) {
    coap_str_const_t name = {strlen(attrs[i]), (const uint8_t *)attrs[i]};
    coap_str_const_t value = {attrs[i + 1] ? strlen(attrs[i + 1]) : 0,
                              (const uint8_t *)attrs[i + 1]};
    coap_add_attr(r, &name, attrs[i + 1] ? &value : NULL, 0);
  }
  coap_add_resource(ctx, r);
  return r;
}

static coap_resource_t *add(coap_context_t *ctx, const char *path,
                            const handler_entry *handlers, size_t n_handlers,
                            const char *const *attrs) {
  return add_flags(ctx, path, 0, handlers, n_handlers, attrs);
}

/* Adds the observable resources with their first bodies: /obs notifies
 * with CON; /obs-non with NON, but every fifth in a row a CON as RFC 7641
 * 4.5 asks (the library's default); /obs-large and /obs-pumping with CON. */
static int add_observables(coap_context_t *ctx) {
  static const handler_entry obs_h[] = {GET(hnd_obs_get),
                                        {COAP_REQUEST_PUT, hnd_obs_put},
                                        {COAP_REQUEST_DELETE, hnd_obs_delete}};
  static const handler_entry obs_get[] = {GET(hnd_obs_get)};
  for (size_t i = 0; i < OBSERVABLES; i++) {
    int is_obs = strcmp(observables[i].path, "obs") == 0;
    int flags = strcmp(observables[i].path, "obs-non") == 0
                    ? COAP_RESOURCE_FLAGS_NOTIFY_NON
                    : COAP_RESOURCE_FLAGS_NOTIFY_CON;
    coap_resource_t *r =
        add_flags(ctx, observables[i].path, flags, is_obs ? obs_h : obs_get,
                  is_obs ? N(obs_h) : N(obs_get), NULL);
    body *b = r ? obs_body(observables[i].size()) : NULL;
    if (!b)
      return -1;
    coap_resource_set_userdata(r, b);
    coap_resource_set_get_observable(r, 1);
  }
  return 0;
}

/* The library frees each resource's user data with this: it is always a
 * body (or NULL). */
static void release_userdata(void *data) {
  body_unref(data);
}

static int add_resources(coap_context_t *ctx) {
  static const handler_entry test[] = {GET(hnd_test_get),
                                       {COAP_REQUEST_POST, hnd_test_post},
                                       {COAP_REQUEST_PUT, hnd_test_put},
                                       {COAP_REQUEST_DELETE, hnd_test_delete}};
  static const handler_entry separate[] = {GET(hnd_separate)};
  static const handler_entry seg[] = {GET(hnd_seg)};
  static const handler_entry query[] = {GET(hnd_query)};
  static const handler_entry location_query[] = {
      {COAP_REQUEST_POST, hnd_location_query}};
  static const handler_entry multi_format[] = {GET(hnd_multi_format)};
  static const handler_entry validate_h[] = {
      GET(hnd_validate_get), {COAP_REQUEST_PUT, hnd_validate_put}};
  static const handler_entry create1[] = {
      GET(hnd_create1_get),
      {COAP_REQUEST_PUT, hnd_create1_put},
      {COAP_REQUEST_DELETE, hnd_create1_delete}};
  static const handler_entry link[] = {GET(hnd_link)};
  static const handler_entry path[] = {GET(hnd_path)};
  static const handler_entry large[] = {GET(hnd_body_get)};
  static const handler_entry large_update[] = {
      GET(hnd_body_get), {COAP_REQUEST_PUT, hnd_large_update_put}};
  static const handler_entry large_create[] = {
      {COAP_REQUEST_POST, hnd_large_create_post}};
  static const handler_entry large_post[] = {
      {COAP_REQUEST_POST, hnd_large_post}};

  /* Link attributes: LINK_04 needs rt lists sharing types, one empty rt
   * and links without rt; LINK_05 if values matching "If*" and one that
   * does not; LINK_06 links with and without sz. */
  static const char *const a_test[] = {"rt", "\"test\"", "ct", "0", NULL};
  static const char *const a_link1[] = {
      "rt", "\"Type1 Type2\"", "if", "\"If1\"", "sz", "11", NULL};
  static const char *const a_link2[] = {"rt", "\"Type2 Type3\"", "if",
                                        "\"If2\"", NULL};
  static const char *const a_link3[] = {"rt", "\"Type1 Type3\"", "if",
                                        "\"foo\"", NULL};
  static const char *const a_query[] = {"rt", "\"\"", NULL};
  static const char *const a_path[] = {"ct", "40", NULL};
  static const char *const a_large[] = {"rt", "\"block\"", NULL};

  coap_resource_release_userdata_handler(ctx, release_userdata);
  validate.content =
      body_new((const uint8_t *)"version 1", 9, COAP_MEDIATYPE_TEXT_PLAIN);
  coap_resource_t *r_large;
  if (!validate.content || !add(ctx, "test", test, N(test), a_test) ||
      !add(ctx, "separate", separate, N(separate), NULL) ||
      !add(ctx, "seg1/seg2/seg3", seg, N(seg), NULL) ||
      !add(ctx, "query", query, N(query), a_query) ||
      !add(ctx, "location-query", location_query, N(location_query), NULL) ||
      !add(ctx, "multi-format", multi_format, N(multi_format), NULL) ||
      !add(ctx, "validate", validate_h, N(validate_h), NULL) ||
      !add(ctx, "create1", create1, N(create1), NULL) ||
      !add(ctx, "link1", link, N(link), a_link1) ||
      !add(ctx, "link2", link, N(link), a_link2) ||
      !add(ctx, "link3", link, N(link), a_link3) ||
      !add(ctx, "path", path, N(path), a_path) ||
      !add(ctx, path_children[0], link, N(link), NULL) ||
      !add(ctx, path_children[1], link, N(link), NULL) ||
      !add(ctx, path_children[2], link, N(link), NULL) ||
      !(r_large = add(ctx, "large", large, N(large), a_large)) ||
      !add(ctx, "large-update", large_update, N(large_update), NULL) ||
      !add(ctx, "large-create", large_create, N(large_create), NULL) ||
      !add(ctx, "large-post", large_post, N(large_post), NULL) ||
      add_observables(ctx) < 0)
    return -1;
  body *b = large_body();
  if (!b)
    return -1;
  coap_resource_set_userdata(r_large, b);
  char sz[24]; /* RFC 6690 3.3: the size estimate, here exact */
  snprintf(sz, sizeof(sz), "%zu", b->length);
  return coap_add_attr(r_large, coap_make_str_const("sz"),
                       coap_make_str_const(sz), 0)
             ? 0
             : -1;
}

/* ---- main
 * --------------------------------------------------------------------- */

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

/* Retransmission parameters given with -a and -r (0: the RFC's). */
static unsigned ack_timeout_ms, max_retransmit;

/* Each new client session gets the parameters of the command line. */
static int on_event(coap_session_t *s, coap_event_t event) {
  if (event != COAP_EVENT_SERVER_SESSION_NEW)
    return 0;
  if (ack_timeout_ms) {
    coap_fixed_point_t t = {ack_timeout_ms / 1000, ack_timeout_ms % 1000};
    coap_session_set_ack_timeout(s, t);
  }
  if (max_retransmit)
    coap_session_set_max_retransmit(s, (uint16_t)max_retransmit);
  return 0;
}

/* A number in [@min, @max] from @arg, or -1. */
static long number(const char *arg, long min, long max) {
  char *end;
  long v = strtol(arg, &end, 10);
  return *arg && !*end && v >= min && v <= max ? v : -1;
}

/* Parses the command line into the globals, @host and @port; 0 or -1. */
static int parse_args(int argc, char **argv, const char **host,
                      unsigned long *port) {
  int c;
  long v;
  while ((c = getopt(argc, argv, "p:a:r:")) != -1) {
    switch (c) {
    case 'p':
      if ((v = number(optarg, 1, 3600000)) < 0)
        return -1;
      period_ms = (unsigned)v;
      break;
    case 'a':
      if ((v = number(optarg, 1, 600000)) < 0)
        return -1;
      ack_timeout_ms = (unsigned)v;
      break;
    case 'r':
      if ((v = number(optarg, 0, 20)) < 0)
        return -1;
      max_retransmit = (unsigned)v;
      break;
    default:
      return -1;
    }
  }
  if (argc - optind > 2)
    return -1;
  *host = optind < argc ? argv[optind] : "::";
  *port = COAP_DEFAULT_PORT;
  if (optind + 1 < argc && (v = number(argv[optind + 1], 0, 0xFFFF)) < 0)
    return -1;
  if (optind + 1 < argc)
    *port = (unsigned long)v;
  return 0;
}

/* Serves until a signal, changing the observable resources every period;
 * then clears obs.refusing after each pass (see hnd_obs_put). */
static void run(coap_context_t *ctx) {
  coap_tick_t now, next;
  coap_ticks(&now);
  next = now + (coap_tick_t)period_ms * COAP_TICKS_PER_SECOND / 1000;
  while (!quit) {
    coap_ticks(&now);
    if (now >= next) {
      change_observables(ctx);
      next += (coap_tick_t)period_ms * COAP_TICKS_PER_SECOND / 1000;
      if (next <= now) /* fell behind: no burst of changes */
        next = now + (coap_tick_t)period_ms * COAP_TICKS_PER_SECOND / 1000;
    }
    uint32_t wait = (uint32_t)((next - now) * 1000 / COAP_TICKS_PER_SECOND) + 1;
    if (coap_io_process(ctx, wait) < 0)
      break;
    obs.refusing = 0;
  }
}

int main(int argc, char **argv) {
  const char *host;
  unsigned long port;
  if (parse_args(argc, argv, &host, &port) < 0) {
    fprintf(stderr,
            "usage: %s [-p PERIOD_MS] [-a ACK_TIMEOUT_MS] "
            "[-r MAX_RETRANSMIT] [addr [port]]\n",
            argv[0]);
    return EXIT_FAILURE;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  coap_startup();
  coap_context_t *ctx = coap_new_context(NULL);
  coap_endpoint_t *ep = ctx ? listen_on(ctx, host, (unsigned)port) : NULL;
  if (!ep || add_resources(ctx) < 0) {
    fprintf(stderr, "%s: cannot listen on %s port %lu\n", argv[0], host, port);
    coap_free_context(ctx);
    body_unref(validate.content);
    coap_cleanup();
    return EXIT_FAILURE;
  }
  /* The library handles Block1 and Block2; handlers see whole bodies. */
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_register_event_handler(ctx, on_event);

  const char *desc = coap_endpoint_str(ep); /* "ADDR:PORT UDP" */
  fprintf(stderr, "plugtest-server: listening on %.*s\n",
          (int)strcspn(desc, " "), desc);
  fflush(stderr);

  run(ctx);
  coap_free_context(ctx);
  body_unref(validate.content);
  coap_cleanup();
  return EXIT_SUCCESS;
}
