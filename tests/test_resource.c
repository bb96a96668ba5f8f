/*
 * test_resource.c -- resources, handlers, attributes, links and
 * /.well-known/core (RFC 6690).
 */
#include "test.h"

#include "coap3/coap.h"

#include "core_harness.h"
#include "resource.h"

#define S(lit) coap_make_str_const(lit)

static int released;
static void *released_last;
static void on_release(void *p) {
  released++;
  released_last = p;
}

/* Handlers record how they were called. */
static int calls;
static coap_resource_t *got_res;
static coap_session_t *got_sess;
static const coap_pdu_t *got_req;
static const coap_string_t *got_query;
static coap_pdu_t *got_resp;

static void lib_handler(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  calls++;
  got_res = r, got_sess = s, got_req = req, got_query = q, got_resp = resp;
}

static void seed_handler(coap_session_t *s, coap_resource_t *r, coap_pdu_t *req,
                         coap_string_t *q, coap_pdu_t *resp) {
  calls += 10;
  got_res = r, got_sess = s, got_req = req, got_query = q, got_resp = resp;
}

static coap_resource_t *add(coap_context_t *ctx, const char *path) {
  coap_resource_t *r = coap_resource_init(S(path), 0);
  coap_add_resource(ctx, r);
  return r;
}

static coap_resource_t *find(coap_context_t *ctx, const char *path) {
  return pt_resource_find(ctx, (const uint8_t *)path, strlen(path));
}

/* ---- lifecycle --------------------------------------------------------------
 */

TEST(init_add_find_delete) {
  coap_context_t *ctx = pt_context_new_detached();
  coap_resource_t *r = coap_resource_init(S("a/b"), 0);
  CHECK_NOT_NULL(r);
  CHECK_NULL(find(ctx, "a/b"));
  coap_add_resource(ctx, r);
  CHECK(find(ctx, "a/b") == r);
  CHECK(coap_get_resource_from_uri_path(ctx, S("a/b")) == r);
  CHECK_NULL(find(ctx, "a"));
  CHECK_NULL(find(ctx, "a/b/"));
  coap_str_const_t *p = coap_resource_get_uri_path(r);
  CHECK_MEM_EQ(p->s, p->length, "a/b", 3);
  CHECK_INT_EQ(coap_delete_resource(ctx, r), 1);
  CHECK_NULL(find(ctx, "a/b"));
  CHECK_INT_EQ(coap_delete_resource(ctx, NULL), 0);
  coap_free_context(ctx);
}

TEST(leading_slash_is_stripped_and_root_is_empty) {
  coap_context_t *ctx = pt_context_new_detached();
  coap_resource_t *r = add(ctx, "/x");
  CHECK(find(ctx, "x") == r);
  coap_resource_t *root = coap_resource_init(NULL, 0);
  coap_add_resource(ctx, root);
  CHECK(find(ctx, "") == root);
  CHECK_INT_EQ(coap_resource_get_uri_path(root)->length, 0);
  coap_free_context(ctx);
}

TEST(uri_path_is_copied_without_release_flag) {
  coap_context_t *ctx = pt_context_new_detached();
  char path[] = "temp";
  coap_str_const_t given = {4, (const uint8_t *)path};
  coap_resource_t *r = coap_resource_init(&given, 0);
  coap_add_resource(ctx, r);
  path[0] = 'X'; /* the caller's buffer changes: the resource must not */
  CHECK(find(ctx, "temp") == r);
  coap_free_context(ctx);
}

TEST(uri_path_is_taken_with_release_flag) {
  coap_context_t *ctx = pt_context_new_detached();
  coap_str_const_t *p = coap_new_str_const((const uint8_t *)"own", 3);
  coap_resource_t *r = coap_resource_init(p, COAP_RESOURCE_FLAGS_RELEASE_URI);
  CHECK(coap_resource_get_uri_path(r) == p); /* taken as is, freed by us */
  coap_add_resource(ctx, r);
  /* With a leading '/', a stripped copy replaces the given string. */
  coap_str_const_t *q = coap_new_str_const((const uint8_t *)"/own2", 5);
  coap_resource_t *r2 = coap_resource_init(q, COAP_RESOURCE_FLAGS_RELEASE_URI);
  coap_add_resource(ctx, r2);
  CHECK(find(ctx, "own2") == r2);
  coap_free_context(ctx); /* ASan reports a leak or double free */
}

TEST(delete_of_never_added_resource) {
  coap_resource_t *r = coap_resource_init(S("lonely"), 0);
  coap_add_attr(r, S("rt"), S("x"), 0);
  CHECK_INT_EQ(coap_delete_resource(NULL, r), 1);
}

TEST(replacing_same_path_frees_old) {
  coap_context_t *ctx = pt_context_new_detached();
  released = 0;
  coap_resource_release_userdata_handler(ctx, on_release);
  coap_resource_t *a = add(ctx, "dup");
  static int old_data;
  coap_resource_set_userdata(a, &old_data);
  coap_resource_t *b = coap_resource_init(S("dup"), 0);
  coap_add_resource(ctx, b);
  CHECK(find(ctx, "dup") == b);
  CHECK_INT_EQ(released, 1);
  CHECK(released_last == &old_data);
  CHECK_INT_EQ(pt_hashmap_size(&ctx->resources), 1);
  coap_free_context(ctx);
  CHECK_INT_EQ(released, 1); /* b had no user data */
}

TEST(userdata_released_once_on_delete) {
  coap_context_t *ctx = pt_context_new_detached();
  released = 0;
  coap_resource_release_userdata_handler(ctx, on_release);
  coap_resource_t *r = add(ctx, "u");
  int *data = malloc(sizeof(int));
  coap_resource_set_userdata(r, data);
  CHECK(coap_resource_get_userdata(r) == data);
  CHECK_INT_EQ(coap_delete_resource(ctx, r), 1);
  CHECK_INT_EQ(released, 1);
  CHECK(released_last == data);
  free(data);
  coap_free_context(ctx);
  CHECK_INT_EQ(released, 1);
}

TEST(userdata_released_once_on_context_free) {
  coap_context_t *ctx = pt_context_new_detached();
  released = 0;
  coap_resource_release_userdata_handler(ctx, on_release);
  static int d1, d2, d3;
  coap_resource_set_userdata(add(ctx, "one"), &d1);
  coap_resource_set_userdata(add(ctx, "two"), &d2);
  coap_resource_t *unk = coap_resource_unknown_init(lib_handler);
  coap_resource_set_userdata(unk, &d3);
  coap_add_resource(ctx, unk);
  add(ctx, "nodata");
  coap_free_context(ctx);
  CHECK_INT_EQ(released, 3);
}

TEST(no_release_handler_means_nothing_called) {
  coap_context_t *ctx = pt_context_new_detached();
  released = 0;
  static int d;
  coap_resource_set_userdata(add(ctx, "x"), &d);
  coap_free_context(ctx);
  CHECK_INT_EQ(released, 0);
}

/* ---- unknown and proxy
 * ------------------------------------------------------- */

TEST(unknown_resource_goes_to_its_slot) {
  coap_context_t *ctx = pt_context_new_detached();
  coap_resource_t *u = coap_resource_unknown_init(lib_handler);
  CHECK_NOT_NULL(u);
  coap_add_resource(ctx, u);
  CHECK(ctx->unknown_resource == u);
  CHECK_INT_EQ(pt_hashmap_size(&ctx->resources), 0);
  CHECK(pt_resource_has_handler(u, COAP_REQUEST_CODE_PUT));
  CHECK(!pt_resource_has_handler(u, COAP_REQUEST_CODE_GET));
  /* A second one replaces (and frees) the first. */
  coap_resource_t *u2 =
      coap_resource_unknown_init2(NULL, COAP_RESOURCE_HANDLE_WELLKNOWN_CORE);
  coap_add_resource(ctx, u2);
  CHECK(ctx->unknown_resource == u2);
  CHECK(!pt_resource_has_handler(u2, COAP_REQUEST_CODE_PUT));
  CHECK_INT_EQ(coap_delete_resource(ctx, u2), 1);
  CHECK_NULL(ctx->unknown_resource);
  coap_free_context(ctx);
}

TEST(proxy_resource_goes_to_its_slot) {
  coap_context_t *ctx = pt_context_new_detached();
  const char *names[] = {"proxy.example", "192.0.2.1"};
  coap_resource_t *p = coap_resource_proxy_uri_init(lib_handler, 2, names);
  CHECK_NOT_NULL(p);
  CHECK_INT_EQ(p->proxy_name_count, 2);
  CHECK_MEM_EQ(p->proxy_names[1]->s, p->proxy_names[1]->length, "192.0.2.1", 9);
  for (int m = 1; m <= PT_METHODS; m++)
    CHECK(pt_resource_has_handler(p, (coap_pdu_code_t)m));
  coap_add_resource(ctx, p);
  CHECK(ctx->proxy_resource == p);
  CHECK_INT_EQ(pt_hashmap_size(&ctx->resources), 0);
  coap_resource_t *p2 = coap_resource_proxy_uri_init2(lib_handler, 1, names, 0);
  coap_add_resource(ctx, p2);
  CHECK(ctx->proxy_resource == p2);
  coap_free_context(ctx);
}

TEST(proxy_without_host_names_is_refused) {
  const char *names[] = {"x"};
  CHECK_NULL(coap_resource_proxy_uri_init(lib_handler, 0, names));
  CHECK_NULL(coap_resource_proxy_uri_init(lib_handler, 1, NULL));
}

/* ---- handlers
 * ----------------------------------------------------------------- */

TEST(both_handler_shapes_called_in_their_order) {
  coap_resource_t *r = coap_resource_init(S("h"), 0);
  coap_session_t *sess = (coap_session_t *)(uintptr_t)0x1000;
  coap_pdu_t *req =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 64);
  coap_pdu_t *resp = coap_pdu_init(COAP_MESSAGE_ACK, 0, 1, 64);
  coap_string_t q = {3, (uint8_t *)"a=b"};
  /* Through the _Generic macros: each picks the function for its type. */
  coap_register_handler(r, COAP_REQUEST_GET, lib_handler);
  coap_register_request_handler(r, COAP_REQUEST_POST, seed_handler);
  CHECK(pt_resource_has_handler(r, COAP_REQUEST_CODE_GET));
  CHECK(pt_resource_has_handler(r, COAP_REQUEST_CODE_POST));
  CHECK(!pt_resource_has_handler(r, COAP_REQUEST_CODE_PUT));
  CHECK(!pt_resource_has_handler(r, 0));
  CHECK(!pt_resource_has_handler(r, 8));

  calls = 0;
  pt_resource_call(r, COAP_REQUEST_CODE_GET, sess, req, &q, resp);
  CHECK_INT_EQ(calls, 1);
  CHECK(got_res == r && got_sess == sess && got_req == req);
  CHECK(got_query == &q && got_resp == resp);

  calls = 0;
  got_res = NULL, got_sess = NULL;
  pt_resource_call(r, COAP_REQUEST_CODE_POST, sess, req, NULL, resp);
  CHECK_INT_EQ(calls, 10);
  CHECK(got_res == r && got_sess == sess && got_req == req);
  CHECK(got_query == NULL && got_resp == resp);

  /* No handler: nothing is called. */
  calls = 0;
  pt_resource_call(r, COAP_REQUEST_CODE_PUT, sess, req, NULL, resp);
  CHECK_INT_EQ(calls, 0);
  coap_delete_pdu(req);
  coap_delete_pdu(resp);
  coap_delete_resource(NULL, r);
}

TEST(registering_replaces_either_shape_and_null_removes) {
  coap_resource_t *r = coap_resource_init(S("h"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, seed_handler);
  coap_register_handler(r, COAP_REQUEST_GET, lib_handler);
  CHECK(r->handler[0].fn == lib_handler && r->handler[0].seed_fn == NULL);
  coap_register_request_handler(r, COAP_REQUEST_GET, seed_handler);
  CHECK(r->handler[0].fn == NULL && r->handler[0].seed_fn == seed_handler);
  coap_register_request_handler(r, COAP_REQUEST_GET, NULL);
  CHECK(!pt_resource_has_handler(r, COAP_REQUEST_CODE_GET));
  /* The real functions, bypassing the macros. */
  (coap_register_handler)(r, COAP_REQUEST_FETCH, lib_handler);
  CHECK(pt_resource_has_handler(r, COAP_REQUEST_CODE_FETCH));
  coap_register_handler_seed_order(r, COAP_REQUEST_IPATCH, seed_handler);
  CHECK(pt_resource_has_handler(r, COAP_REQUEST_CODE_IPATCH));
  /* Out-of-range methods are ignored, not written out of bounds. */
  (coap_register_request_handler)(r, (coap_request_t)0, lib_handler);
  (coap_register_request_handler)(r, (coap_request_t)8, lib_handler);
  coap_delete_resource(NULL, r);
}

static coap_context_t *self_ctx;
static void deleting_handler(coap_resource_t *r, coap_session_t *s,
                             const coap_pdu_t *req, const coap_string_t *q,
                             coap_pdu_t *resp) {
  (void)s, (void)req, (void)q, (void)resp;
  CHECK_INT_EQ(coap_delete_resource(self_ctx, r), 1);
  /* Still readable until the handler returns. */
  CHECK_INT_EQ(coap_resource_get_uri_path(r)->length, 4);
  CHECK_INT_EQ(released, 0);
}

TEST(delete_from_own_handler_is_deferred) {
  coap_context_t *ctx = self_ctx = pt_context_new_detached();
  released = 0;
  coap_resource_release_userdata_handler(ctx, on_release);
  coap_resource_t *r = add(ctx, "self");
  static int d;
  coap_resource_set_userdata(r, &d);
  coap_register_handler(r, COAP_REQUEST_DELETE, deleting_handler);
  pt_resource_call(r, COAP_REQUEST_CODE_DELETE, NULL, NULL, NULL, NULL);
  CHECK_INT_EQ(released, 1);
  CHECK_NULL(find(ctx, "self"));
  coap_free_context(ctx);
  CHECK_INT_EQ(released, 1);
}

/* ---- attributes
 * ---------------------------------------------------------------- */

TEST(attrs_copied_without_flags) {
  coap_resource_t *r = coap_resource_init(S("a"), 0);
  char name[] = "rt", value[] = "temp";
  coap_str_const_t n = {2, (const uint8_t *)name};
  coap_str_const_t v = {4, (const uint8_t *)value};
  coap_attr_t *a = coap_add_attr(r, &n, &v, 0);
  CHECK_NOT_NULL(a);
  name[0] = 'X', value[0] = 'X';
  coap_attr_t *f = coap_find_attr(r, S("rt"));
  CHECK(f == a);
  coap_str_const_t *got = coap_attr_get_value(f);
  CHECK_MEM_EQ(got->s, got->length, "temp", 4);
  CHECK_NULL(coap_find_attr(r, S("if")));
  CHECK_NULL(coap_attr_get_value(NULL));
  CHECK_NULL(coap_add_attr(r, NULL, &v, 0));
  CHECK_NULL(coap_add_attr(NULL, &n, &v, 0));
  coap_delete_resource(NULL, r);
}

TEST(attrs_taken_with_release_flags) {
  coap_resource_t *r = coap_resource_init(S("a"), 0);
  coap_str_const_t *n = coap_new_str_const((const uint8_t *)"title", 5);
  coap_str_const_t *v = coap_new_str_const((const uint8_t *)"\"T\"", 3);
  coap_attr_t *a = coap_add_attr(
      r, n, v, COAP_ATTR_FLAGS_RELEASE_NAME | COAP_ATTR_FLAGS_RELEASE_VALUE);
  CHECK(a->name == n && a->value == v);
  /* Only the value handed over; the name copied. */
  coap_str_const_t *v2 = coap_new_str_const((const uint8_t *)"0", 1);
  a = coap_add_attr(r, S("ct"), v2, COAP_ATTR_FLAGS_RELEASE_VALUE);
  CHECK(a->value == v2);
  /* No value at all. */
  a = coap_add_attr(r, S("obs2"), NULL, 0);
  CHECK_NULL(coap_attr_get_value(a));
  coap_delete_resource(NULL, r); /* ASan: nothing leaked, nothing twice */
}

/* ---- coap_print_link
 * ------------------------------------------------------------- */

static coap_resource_t *sample(const char *path) {
  coap_resource_t *r = coap_resource_init(S(path), 0);
  coap_add_attr(r, S("rt"), S("\"temperature-c\""), 0);
  coap_add_attr(r, S("if"), S("sensor"), 0);
  coap_add_attr(r, S("ct"), S("0"), 0);
  return r;
}

TEST(print_link_whole) {
  coap_resource_t *r = sample("sensors/temp");
  coap_resource_set_get_observable(r, 1);
  unsigned char buf[128];
  size_t len = sizeof(buf), off = 0;
  coap_print_status_t st = coap_print_link(r, buf, &len, &off);
  const char *want = "</sensors/temp>;rt=\"temperature-c\";if=sensor;ct=0;obs";
  CHECK_UINT_EQ(st & COAP_PRINT_STATUS_MASK, 0);
  CHECK_UINT_EQ(COAP_PRINT_OUTPUT_LENGTH(st), strlen(want));
  CHECK_MEM_EQ(buf, len, want, strlen(want));
  CHECK_INT_EQ(off, 0);
  coap_delete_resource(NULL, r);
}

TEST(print_link_attr_without_value_and_root) {
  coap_resource_t *r = coap_resource_init(NULL, 0);
  coap_add_attr(r, S("bare"), NULL, 0);
  unsigned char buf[32];
  size_t len = sizeof(buf), off = 0;
  coap_print_link(r, buf, &len, &off);
  CHECK_MEM_EQ(buf, len, "</>;bare", 8);
  coap_delete_resource(NULL, r);
}

TEST(print_link_truncated) {
  coap_resource_t *r = sample("s");
  unsigned char buf[8];
  size_t len = sizeof(buf), off = 0;
  coap_print_status_t st = coap_print_link(r, buf, &len, &off);
  CHECK(st & COAP_PRINT_STATUS_TRUNC);
  CHECK_UINT_EQ(COAP_PRINT_OUTPUT_LENGTH(st), 8);
  CHECK_MEM_EQ(buf, len, "</s>;rt=", 8);
  coap_delete_resource(NULL, r);
}

TEST(print_link_with_offset) {
  coap_resource_t *r = sample("s");
  unsigned char buf[64];
  size_t len = sizeof(buf), off = 5;
  coap_print_status_t st = coap_print_link(r, buf, &len, &off);
  const char *want = "rt=\"temperature-c\";if=sensor;ct=0";
  CHECK_UINT_EQ(st & COAP_PRINT_STATUS_MASK, 0);
  CHECK_MEM_EQ(buf, len, want, strlen(want));
  CHECK_INT_EQ(off, 0);
  /* An offset past the end consumes only the link's length. */
  len = sizeof(buf), off = 1000;
  st = coap_print_link(r, buf, &len, &off);
  CHECK_UINT_EQ(COAP_PRINT_OUTPUT_LENGTH(st), 0);
  CHECK_INT_EQ(off, 1000 - 38);
  coap_delete_resource(NULL, r);
}

TEST(print_link_bad_arguments) {
  coap_resource_t *r = sample("s");
  size_t len = 4, off = 0;
  CHECK_UINT_EQ(coap_print_link(NULL, (unsigned char *)"", &len, &off),
                COAP_PRINT_STATUS_ERROR);
  CHECK_UINT_EQ(coap_print_link(r, NULL, &len, &off), COAP_PRINT_STATUS_ERROR);
  coap_delete_resource(NULL, r);
}

/* ---- /.well-known/core
 * ------------------------------------------------------------ */

static coap_pdu_t *wk_request(const char *const *queries) {
  coap_pdu_t *req =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 7, 1024);
  coap_add_option(req, COAP_OPTION_URI_PATH, 11,
                  (const uint8_t *)".well-known");
  coap_add_option(req, COAP_OPTION_URI_PATH, 4, (const uint8_t *)"core");
  for (; queries && *queries; queries++)
    coap_add_option(req, COAP_OPTION_URI_QUERY, strlen(*queries),
                    (const uint8_t *)*queries);
  return req;
}

/* Answers a GET with the given queries into a response of @p max bytes;
 * checks 2.05 and Content-Format 40 and returns the payload in @p out. */
static int wk_run(coap_context_t *ctx, const char *const *queries, size_t max,
                  char *out, size_t cap, size_t *outlen) {
  coap_pdu_t *req = wk_request(queries);
  coap_pdu_t *resp = coap_pdu_init(COAP_MESSAGE_ACK, 0, 7, max);
  int rc = pt_wellknown_respond(ctx, NULL, req, resp);
  int ok = rc == 0 && coap_pdu_get_code(resp) == COAP_RESPONSE_CODE_CONTENT;
  coap_opt_iterator_t it;
  coap_opt_t *cf = coap_check_option(resp, COAP_OPTION_CONTENT_FORMAT, &it);
  ok = ok && cf &&
       coap_decode_var_bytes(coap_opt_value(cf), coap_opt_length(cf)) == 40;
  size_t len = 0;
  const uint8_t *data = NULL;
  if (!coap_get_data(resp, &len, &data))
    len = 0;
  if (len > cap)
    ok = 0, len = 0;
  if (len)
    memcpy(out, data, len);
  *outlen = len;
  coap_delete_pdu(req);
  coap_delete_pdu(resp);
  return ok;
}

static coap_context_t *three(void) {
  coap_context_t *ctx = pt_context_new_detached();
  coap_resource_t *t = sample("sensors/temp");
  coap_resource_set_get_observable(t, 1);
  coap_add_resource(ctx, t);
  coap_resource_t *l = coap_resource_init(S("sensors/light"), 0);
  coap_add_attr(l, S("rt"), S("\"light-lux core.sen-light\""), 0);
  coap_add_attr(l, S("if"), S("sensor"), 0);
  coap_add_resource(ctx, l);
  coap_resource_t *a = coap_resource_init(S("actuators/led"), 0);
  coap_add_attr(a, S("title"), S("\"LED\""), 0);
  coap_add_resource(ctx, a);
  /* Not listed: the unknown and proxy resources, and a hidden one. */
  coap_add_resource(ctx, coap_resource_unknown_init(lib_handler));
  const char *names[] = {"p"};
  coap_add_resource(ctx, coap_resource_proxy_uri_init(lib_handler, 1, names));
  coap_resource_t *h = add(ctx, "hidden");
  h->hidden = 1;
  return ctx;
}

#define ALL_THREE                                                              \
  "</actuators/led>;title=\"LED\","                                            \
  "</sensors/light>;rt=\"light-lux core.sen-light\";if=sensor,"                \
  "</sensors/temp>;rt=\"temperature-c\";if=sensor;ct=0;obs"

TEST(wellknown_lists_sorted_exact_bytes) {
  coap_context_t *ctx = three();
  char out[1024];
  size_t len;
  CHECK(wk_run(ctx, NULL, 1024, out, sizeof(out), &len));
  CHECK_MEM_EQ(out, len, ALL_THREE, strlen(ALL_THREE));
  coap_free_context(ctx);
}

TEST(wellknown_empty_context) {
  coap_context_t *ctx = pt_context_new_detached();
  char out[16];
  size_t len;
  CHECK(wk_run(ctx, NULL, 1024, out, sizeof(out), &len));
  CHECK_INT_EQ(len, 0);
  coap_free_context(ctx);
}

static int wk_filter(coap_context_t *ctx, const char *q, const char *want) {
  const char *qs[] = {q, NULL};
  char out[1024];
  size_t len;
  if (!wk_run(ctx, qs, 1024, out, sizeof(out), &len))
    return 0;
  if (len != strlen(want) || memcmp(out, want, len) != 0) {
    fprintf(stderr, "  query %s gave \"%.*s\"\n", q, (int)len, out);
    return 0;
  }
  return 1;
}

TEST(wellknown_filter_rt) {
  coap_context_t *ctx = three();
  const char *temp = "</sensors/temp>;rt=\"temperature-c\";if=sensor;ct=0;obs";
  const char *light = "</sensors/light>;rt=\"light-lux core.sen-light\";"
                      "if=sensor";
  CHECK(wk_filter(ctx, "rt=temperature-c", temp)); /* quotes removed */
  CHECK(wk_filter(ctx, "rt=temperature", ""));
  CHECK(wk_filter(ctx, "rt=temp*", temp));
  /* rt is a space-separated list: any entry matches. */
  CHECK(wk_filter(ctx, "rt=core.sen-light", light));
  CHECK(wk_filter(ctx, "rt=light-lux", light));
  CHECK(wk_filter(ctx, "rt=core*", light));
  coap_free_context(ctx);
}

TEST(wellknown_filter_if_title_ct) {
  coap_context_t *ctx = three();
  CHECK(wk_filter(ctx, "if=sensor",
                  "</sensors/light>;rt=\"light-lux core.sen-light\";"
                  "if=sensor,"
                  "</sensors/temp>;rt=\"temperature-c\";if=sensor;ct=0;obs"));
  CHECK(wk_filter(ctx, "title=LED", "</actuators/led>;title=\"LED\""));
  CHECK(wk_filter(ctx, "ct=0",
                  "</sensors/temp>;rt=\"temperature-c\";if=sensor;ct=0;obs"));
  coap_free_context(ctx);
}

TEST(wellknown_filter_href) {
  coap_context_t *ctx = three();
  CHECK(
      wk_filter(ctx, "href=/actuators/led", "</actuators/led>;title=\"LED\""));
  CHECK(wk_filter(ctx, "href=/a*", "</actuators/led>;title=\"LED\""));
  CHECK(wk_filter(ctx, "href=/sensors/l*",
                  "</sensors/light>;rt=\"light-lux core.sen-light\";"
                  "if=sensor"));
  CHECK(wk_filter(ctx, "href=*", ALL_THREE));
  CHECK(wk_filter(ctx, "href=/actuators", ""));
  CHECK(wk_filter(ctx, "href=actuators/led", "")); /* target starts with / */
  coap_free_context(ctx);
}

/* A filter that matches nothing: 2.05 with an empty payload. RFC 6690
 * section 4.1 only asks servers not to answer such a MULTICAST request;
 * a unicast request gets the (empty) filtered list. */
TEST(wellknown_filter_no_match_is_empty_2_05) {
  coap_context_t *ctx = three();
  CHECK(wk_filter(ctx, "rt=nothing", ""));
  CHECK(wk_filter(ctx, "sz=*", ""));
  coap_free_context(ctx);
}

TEST(wellknown_several_filters_all_apply) {
  coap_context_t *ctx = three();
  const char *qs[] = {"if=sensor", "href=/sensors/t*", NULL};
  char out[1024];
  size_t len;
  CHECK(wk_run(ctx, qs, 1024, out, sizeof(out), &len));
  const char *want = "</sensors/temp>;rt=\"temperature-c\";if=sensor;ct=0;obs";
  CHECK_MEM_EQ(out, len, want, strlen(want));
  coap_free_context(ctx);
}

TEST(wellknown_malformed_queries) {
  coap_context_t *ctx = three();
  CHECK(wk_filter(ctx, "", "")); /* empty name: no such attribute */
  CHECK(wk_filter(ctx, "=x", ""));
  CHECK(wk_filter(ctx, "rt",
                  "</sensors/light>;rt=\"light-lux "
                  "core.sen-light\";if=sensor,"
                  "</sensors/temp>;rt=\"temperature-c\";if=sensor;"
                  "ct=0;obs")); /* bare name: has the attribute */
  CHECK(wk_filter(ctx, "rt=*",
                  "</sensors/light>;rt=\"light-lux "
                  "core.sen-light\";if=sensor,"
                  "</sensors/temp>;rt=\"temperature-c\";"
                  "if=sensor;ct=0;obs"));
  CHECK(wk_filter(ctx, "rt==", ""));
  CHECK(wk_filter(ctx, "href", ALL_THREE));
  coap_free_context(ctx);
}

TEST(wellknown_truncates_at_link_boundary) {
  coap_context_t *ctx = three();
  const char *first = "</actuators/led>;title=\"LED\"";
  char out[1024];
  size_t len;
  /* Room for the token-less header extras (Content-Format) and the first
   * link plus part of the second. */
  CHECK(wk_run(ctx, NULL, strlen(first) + 1 + 2 + 20, out, sizeof(out), &len));
  CHECK_MEM_EQ(out, len, first, strlen(first));
  /* Too small for even one link: an empty list. */
  CHECK(wk_run(ctx, NULL, 10, out, sizeof(out), &len));
  CHECK_INT_EQ(len, 0);
  coap_free_context(ctx);
}

TEST(wellknown_resource_sets_have_wellknown) {
  coap_context_t *ctx = pt_context_new_detached();
  CHECK_INT_EQ(ctx->have_wellknown, 0);
  coap_resource_t *w = add(ctx, ".well-known/core");
  CHECK_INT_EQ(ctx->have_wellknown, 1);
  coap_delete_resource(ctx, w);
  CHECK_INT_EQ(ctx->have_wellknown, 0);
  add(ctx, "/.well-known/core");
  CHECK_INT_EQ(ctx->have_wellknown, 1);
  coap_free_context(ctx);
}

/* ---- scale
 * ---------------------------------------------------------------------------
 */

TEST(thousand_resources) {
  coap_context_t *ctx = pt_context_new_detached();
  char path[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(path, sizeof(path), "res/%d", i);
    coap_resource_t *r = coap_resource_init(S(path), 0);
    CHECK_NOT_NULL(r);
    coap_add_resource(ctx, r);
  }
  CHECK_INT_EQ(pt_hashmap_size(&ctx->resources), 1000);
  for (int i = 0; i < 1000; i++) {
    snprintf(path, sizeof(path), "res/%d", i);
    coap_resource_t *r = find(ctx, path);
    CHECK_NOT_NULL(r);
    CHECK_MEM_EQ(r->uri_path->s, r->uri_path->length, path, strlen(path));
  }
  CHECK_NULL(find(ctx, "res/1000"));
  for (int i = 0; i < 1000; i += 2) {
    snprintf(path, sizeof(path), "res/%d", i);
    CHECK_INT_EQ(coap_delete_resource(ctx, find(ctx, path)), 1);
  }
  CHECK_INT_EQ(pt_hashmap_size(&ctx->resources), 500);
  CHECK_NULL(find(ctx, "res/0"));
  CHECK_NOT_NULL(find(ctx, "res/999"));
  coap_free_context(ctx);
}

TEST(notify_is_not_implemented_yet) {
  coap_resource_t *r = coap_resource_init(S("o"), 0);
  coap_resource_set_get_observable(r, 1);
  CHECK_INT_EQ(coap_resource_notify_observers(r, NULL), 0);
  coap_resource_set_mode(r, COAP_RESOURCE_FLAGS_NOTIFY_CON);
  CHECK(r->flags & COAP_RESOURCE_FLAGS_NOTIFY_CON);
  coap_delete_resource(NULL, r);
}

/* ---- through the request dispatcher
 * ---------------------------------------------- */

static void text_handler(coap_session_t *s, coap_resource_t *r, coap_pdu_t *req,
                         coap_string_t *q, coap_pdu_t *resp) {
  (void)s, (void)r, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 2, (const uint8_t *)"hi");
}

TEST(dispatch_wellknown_resource_and_not_found) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(S("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, text_handler);
  coap_add_attr(r, S("ct"), S("0"), 0);
  coap_add_resource(ctx, r);
  coap_session_t *s = h_server_session(5683);
  CHECK_NOT_NULL(s);

  coap_pdu_t *req = h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 0xa1,
                              ".well-known");
  coap_add_option(req, COAP_OPTION_URI_PATH, 4, (const uint8_t *)"core");
  h_feed(s, req);
  CHECK_INT_EQ(h_nsent, 1);
  coap_pdu_t *resp = h_parse(0);
  CHECK_NOT_NULL(resp);
  CHECK_INT_EQ(coap_pdu_get_code(resp), COAP_RESPONSE_CODE_CONTENT);
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(resp, &len, &data));
  CHECK_MEM_EQ(data, len, "</hello>;ct=0", 13);
  coap_delete_pdu(resp);

  h_feed(s,
         h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 2, 0xa2, "hello"));
  CHECK_INT_EQ(h_nsent, 2);
  resp = h_parse(1);
  CHECK_INT_EQ(coap_pdu_get_code(resp), COAP_RESPONSE_CODE_CONTENT);
  CHECK(coap_get_data(resp, &len, &data));
  CHECK_MEM_EQ(data, len, "hi", 2);
  coap_delete_pdu(resp);

  h_feed(s,
         h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, 3, 0xa3, "hello"));
  resp = h_parse(2);
  CHECK_INT_EQ(coap_pdu_get_code(resp), COAP_RESPONSE_CODE_NOT_ALLOWED);
  coap_delete_pdu(resp);

  h_feed(s,
         h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 4, 0xa4, "nope"));
  resp = h_parse(3);
  CHECK_INT_EQ(coap_pdu_get_code(resp), COAP_RESPONSE_CODE_NOT_FOUND);
  coap_delete_pdu(resp);
  h_free(ctx);
}

int main(void) {
  /* Harness helpers this file does not need (they are static). */
  (void)h_feed_raw;
  (void)h_advance;
  coap_startup();
  RUN(init_add_find_delete);
  RUN(leading_slash_is_stripped_and_root_is_empty);
  RUN(uri_path_is_copied_without_release_flag);
  RUN(uri_path_is_taken_with_release_flag);
  RUN(delete_of_never_added_resource);
  RUN(replacing_same_path_frees_old);
  RUN(userdata_released_once_on_delete);
  RUN(userdata_released_once_on_context_free);
  RUN(no_release_handler_means_nothing_called);
  RUN(unknown_resource_goes_to_its_slot);
  RUN(proxy_resource_goes_to_its_slot);
  RUN(proxy_without_host_names_is_refused);
  RUN(both_handler_shapes_called_in_their_order);
  RUN(registering_replaces_either_shape_and_null_removes);
  RUN(delete_from_own_handler_is_deferred);
  RUN(attrs_copied_without_flags);
  RUN(attrs_taken_with_release_flags);
  RUN(print_link_whole);
  RUN(print_link_attr_without_value_and_root);
  RUN(print_link_truncated);
  RUN(print_link_with_offset);
  RUN(print_link_bad_arguments);
  RUN(wellknown_lists_sorted_exact_bytes);
  RUN(wellknown_empty_context);
  RUN(wellknown_filter_rt);
  RUN(wellknown_filter_if_title_ct);
  RUN(wellknown_filter_href);
  RUN(wellknown_filter_no_match_is_empty_2_05);
  RUN(wellknown_several_filters_all_apply);
  RUN(wellknown_malformed_queries);
  RUN(wellknown_truncates_at_link_boundary);
  RUN(wellknown_resource_sets_have_wellknown);
  RUN(thousand_resources);
  RUN(notify_is_not_implemented_yet);
  RUN(dispatch_wellknown_resource_and_not_found);
  coap_cleanup();
  return TEST_SUMMARY();
}
