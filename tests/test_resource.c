/*
 * test_resource.c -- resources, handlers, attributes, links and
 * /.well-known/core (RFC 6690).
 */
#include "test.h"

#include "coap3/coap.h"

#include "core_harness.h"
#include "pdu.h"
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
  unsigned char buf[128];
  size_t len = sizeof(buf), off = 0;
  coap_print_status_t st = coap_print_link(r, buf, &len, &off);
  const char *want = "</sensors/temp>;rt=\"temperature-c\";if=sensor;ct=0";
  CHECK_UINT_EQ(st & COAP_PRINT_STATUS_MASK, 0);
  CHECK_UINT_EQ(COAP_PRINT_OUTPUT_LENGTH(st), strlen(want));
  CHECK_MEM_EQ(buf, len, want, strlen(want));
  CHECK_INT_EQ(off, 0);
  coap_delete_resource(NULL, r);
}

/* ";obs" says the resource can be observed: only when the application
 * made it observable AND this build serves observations. Written so that
 * it holds with or without the observe module. */
TEST(print_link_obs_only_when_observe_available) {
  coap_resource_t *r = sample("t");
  const char *plain = "</t>;rt=\"temperature-c\";if=sensor;ct=0";
  const char *obs = "</t>;rt=\"temperature-c\";if=sensor;ct=0;obs";
  unsigned char buf[128];
  size_t len = sizeof(buf), off = 0;
  coap_print_link(r, buf, &len, &off);
  CHECK_MEM_EQ(buf, len, plain, strlen(plain)); /* not observable */
  CHECK_INT_EQ(pt_resource_link_obs(r), 0);
  coap_resource_set_get_observable(r, 1);
  CHECK_INT_EQ(pt_resource_link_obs(r), pt_observe_available());
  len = sizeof(buf), off = 0;
  coap_print_link(r, buf, &len, &off);
  const char *want = pt_observe_available() ? obs : plain;
  CHECK_MEM_EQ(buf, len, want, strlen(want));
  coap_resource_set_get_observable(r, 0);
  CHECK_INT_EQ(pt_resource_link_obs(r), 0);
  CHECK_INT_EQ(pt_resource_link_obs(NULL), 0);
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

/* libcoap's header: *len "will be set to the length of the printed link
 * description" -- the whole description, not what fitted; the characters
 * written are in the return value. */
TEST(print_link_truncated) {
  coap_resource_t *r = sample("s");
  unsigned char buf[8];
  size_t len = sizeof(buf), off = 0;
  coap_print_status_t st = coap_print_link(r, buf, &len, &off);
  CHECK(st & COAP_PRINT_STATUS_TRUNC);
  CHECK_UINT_EQ(COAP_PRINT_OUTPUT_LENGTH(st), 8);
  CHECK_MEM_EQ(buf, 8, "</s>;rt=", 8);
  CHECK_INT_EQ(len,
               38); /* strlen("</s>;rt=\"temperature-c\";if=sensor;ct=0") */
  coap_delete_resource(NULL, r);
}

TEST(print_link_len_is_whole_description) {
  coap_resource_t *r = sample("s");
  const char *want = "</s>;rt=\"temperature-c\";if=sensor;ct=0";
  size_t full = strlen(want);
  unsigned char buf[64];
  /* Every buffer size and offset: *len is always the whole length, the
   * return value what was written, TRUNC exactly when something was left
   * over, and the pieces put together give the description. */
  for (size_t cap = 0; cap <= full + 2; cap++) {
    for (size_t start = 0; start <= full + 2; start++) {
      size_t len = cap, off = start;
      coap_print_status_t st = coap_print_link(r, cap ? buf : NULL, &len, &off);
      size_t rest = start < full ? full - start : 0;
      size_t wrote = rest < cap ? rest : cap;
      CHECK_INT_EQ(len, full);
      CHECK_UINT_EQ(COAP_PRINT_OUTPUT_LENGTH(st), wrote);
      CHECK_INT_EQ((st & COAP_PRINT_STATUS_TRUNC) != 0, wrote < rest);
      CHECK_INT_EQ(off, start > full ? start - full : 0);
      CHECK_MEM_EQ(buf, wrote, want + (start < full ? start : full), wrote);
    }
  }
  coap_delete_resource(NULL, r);
}

TEST(print_link_with_offset) {
  coap_resource_t *r = sample("s");
  unsigned char buf[64];
  size_t len = sizeof(buf), off = 5;
  coap_print_status_t st = coap_print_link(r, buf, &len, &off);
  const char *want = "rt=\"temperature-c\";if=sensor;ct=0";
  CHECK_UINT_EQ(st & COAP_PRINT_STATUS_MASK, 0);
  CHECK_MEM_EQ(buf, COAP_PRINT_OUTPUT_LENGTH(st), want, strlen(want));
  CHECK_INT_EQ(len, 38); /* the whole link, offset or not */
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

/* ---- /.well-known/core (the list itself: test_wellknown.c)
 * ------------------------------------------------------------ */

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

/* Paths of every length from 0 to 24 bytes, each a prefix of the next
 * ("", "a", "ab", ...), are each found as themselves only, and a path
 * differing from a registered one in any single byte is not found: the
 * lookup compares whole keys whatever their length. */
TEST(find_tells_apart_prefixes_and_one_byte_changes) {
  coap_context_t *ctx = pt_context_new_detached();
  static const char all[] = "abcdefghijklmnopqrstuvwx";
  coap_resource_t *r[sizeof(all)];
  char path[sizeof(all)];
  for (size_t len = 0; len < sizeof(all); len++) {
    memcpy(path, all, len);
    path[len] = 0;
    r[len] = add(ctx, path);
    CHECK_NOT_NULL(r[len]);
  }
  for (size_t len = 0; len < sizeof(all); len++) {
    CHECK(pt_resource_find(ctx, (const uint8_t *)all, len) == r[len]);
    memcpy(path, all, len);
    for (size_t i = 0; i < len; i++) {
      path[i] = 'A';
      CHECK_NULL(pt_resource_find(ctx, (const uint8_t *)path, len));
      path[i] = all[i];
    }
  }
  coap_free_context(ctx);
}

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

/* ---- one Uri-Path option is one segment (RFC 7252 section 6.5) -----------
 *
 * Resources are keyed by the path as coap_get_uri_path() writes it, so a
 * '/' inside an option is "%2F" and never a separator, and the router, the
 * handler's view and coap_resource_init() all agree.
 */

static char rec_path[512], rec_res[512], rec_query[512];
static int rec_calls, rec_query_agrees;
static coap_resource_t *rec_r;

static void copy_out(char *dst, const uint8_t *s, size_t n) {
  if (n > 511)
    n = 511;
  memcpy(dst, s, n);
  dst[n] = 0;
}

static void rec_handler(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  (void)s;
  rec_calls++;
  rec_r = r;
  coap_string_t *p = coap_get_uri_path(req);
  copy_out(rec_path, p ? p->s : (const uint8_t *)"(null)", p ? p->length : 6);
  coap_delete_string(p);
  coap_str_const_t *rp = coap_resource_get_uri_path(r);
  copy_out(rec_res, rp->s, rp->length);
  copy_out(rec_query, q ? q->s : (const uint8_t *)"(null)", q ? q->length : 6);
  coap_string_t *gq = coap_get_query(req);
  rec_query_agrees = (!gq && !q) || (gq && q && gq->length == q->length &&
                                     memcmp(gq->s, q->s, q->length) == 0);
  coap_delete_string(gq);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

/* The unknown resource's PUT: creates the resource the request names,
 * from coap_get_uri_path(), as coap_resource(3)'s example does. */
static void create_handler(coap_resource_t *r, coap_session_t *s,
                           const coap_pdu_t *req, const coap_string_t *q,
                           coap_pdu_t *resp) {
  (void)r, (void)q;
  coap_string_t *p = coap_get_uri_path(req);
  coap_resource_t *n = coap_resource_init(coap_new_str_const(p->s, p->length),
                                          COAP_RESOURCE_FLAGS_RELEASE_URI);
  coap_delete_string(p);
  coap_register_handler(n, COAP_REQUEST_GET, rec_handler);
  coap_add_resource(coap_session_get_context(s), n);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
}

/* A request with Uri-Path options @segs and Uri-Query options @qs (both
 * NULL-terminated, may be NULL). */
static coap_pdu_t *seg_request(coap_pdu_code_t code, coap_mid_t mid,
                               const char *const *segs, const char *const *qs) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, code, mid, 1024);
  uint8_t tok = (uint8_t)mid;
  coap_add_token(p, 1, &tok);
  for (; segs && *segs; segs++)
    coap_add_option(p, COAP_OPTION_URI_PATH, strlen(*segs),
                    (const uint8_t *)*segs);
  for (; qs && *qs; qs++)
    coap_add_option(p, COAP_OPTION_URI_QUERY, strlen(*qs),
                    (const uint8_t *)*qs);
  return p;
}

/* Feeds @p and returns the code of the answer. */
static coap_pdu_code_t answer_code(coap_session_t *s, coap_pdu_t *p) {
  int before = h_nsent;
  h_feed(s, p);
  if (h_nsent != before + 1)
    return 0;
  coap_pdu_t *r = h_parse(h_nsent - 1);
  coap_pdu_code_t c = r ? coap_pdu_get_code(r) : 0;
  coap_delete_pdu(r);
  return c;
}

static coap_resource_t *add_rec(coap_context_t *ctx, const char *path) {
  coap_resource_t *r = add(ctx, path);
  coap_register_handler(r, COAP_REQUEST_GET, rec_handler);
  return r;
}

#define SEGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- the route cache (resource.h) ---------------------------------------
 *
 * A request whose options repeat the last routed request's byte for byte
 * goes to the resource found then; every change of the table empties it.
 */

TEST(route_cache_needs_the_same_bytes) {
  coap_context_t *ctx = pt_context_new_detached();
  coap_resource_t *r = add(ctx, "x");
  static const uint8_t opts[] = {0xb5, 'h', 'e', 'l', 'l', 'o'};
  static const uint8_t other[] = {0xb5, 'h', 'e', 'l', 'l', 'p'};
  CHECK_NULL(pt_route_cache_get(ctx, opts, sizeof(opts))); /* empty */
  pt_route_cache_put(ctx, opts, sizeof(opts), r);
  CHECK(pt_route_cache_get(ctx, opts, sizeof(opts)) == r);
  CHECK_NULL(pt_route_cache_get(ctx, other, sizeof(other)));
  CHECK_NULL(pt_route_cache_get(ctx, opts, sizeof(opts) - 1));
  /* Options longer than it holds are not kept (the old entry stays). */
  uint8_t big[PT_ROUTE_CACHE_OPTS + 1];
  memset(big, 0x01, sizeof(big));
  pt_route_cache_put(ctx, big, sizeof(big), r);
  CHECK_NULL(pt_route_cache_get(ctx, big, sizeof(big)));
  CHECK(pt_route_cache_get(ctx, opts, sizeof(opts)) == r);
  /* Any change of the table empties it. */
  add(ctx, "y");
  CHECK_NULL(pt_route_cache_get(ctx, opts, sizeof(opts)));
  pt_route_cache_put(ctx, opts, sizeof(opts), r);
  CHECK_INT_EQ(coap_delete_resource(ctx, find(ctx, "y")), 1);
  CHECK_NULL(pt_route_cache_get(ctx, opts, sizeof(opts)));
  coap_free_context(ctx);
}

/* Requests through the dispatcher: a resource deleted, added again, or
 * replaced by one of the same path after a request was routed to it is
 * seen by the next identical request; a method without a handler is still
 * 4.05, and an added critical option still 4.02. */
TEST(route_cache_follows_the_table) {
  coap_context_t *ctx = h_context();
  coap_resource_t *a = add_rec(ctx, "a/b");
  coap_session_t *s = h_server_session(5683);
  rec_calls = 0;
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 1,
                                          SEGS("a", "b"), NULL)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == a);
  coap_pdu_t *again =
      seg_request(COAP_REQUEST_CODE_GET, 2, SEGS("a", "b"), NULL);
  size_t olen;
  const uint8_t *o = pt_pdu_opts(again, &olen);
  CHECK(pt_route_cache_get(ctx, o, olen) == a); /* what the next one hits */
  CHECK_INT_EQ(answer_code(s, again), COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == a);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_PUT, 3,
                                          SEGS("a", "b"), NULL)),
               COAP_RESPONSE_CODE_NOT_ALLOWED);
  coap_pdu_t *crit =
      seg_request(COAP_REQUEST_CODE_GET, 4, SEGS("a", "b"), NULL);
  coap_add_option(crit, 65001, 1, (const uint8_t *)"x");
  CHECK_INT_EQ(answer_code(s, crit), COAP_RESPONSE_CODE_BAD_OPTION);

  CHECK_INT_EQ(coap_delete_resource(ctx, a), 1);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 5,
                                          SEGS("a", "b"), NULL)),
               COAP_RESPONSE_CODE_NOT_FOUND);
  coap_resource_t *a2 = add_rec(ctx, "a/b");
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 6,
                                          SEGS("a", "b"), NULL)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == a2);
  coap_resource_t *a3 = add_rec(ctx, "a/b"); /* replaces a2 */
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 7,
                                          SEGS("a", "b"), NULL)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == a3);
  CHECK_INT_EQ(rec_calls, 4);
  h_free(ctx);
}

TEST(uri_path_option_with_slash_is_one_segment) {
  coap_context_t *ctx = h_context();
  coap_resource_t *two = add_rec(ctx, "a/b");
  coap_resource_t *one = add_rec(ctx, "a%2Fb");
  coap_session_t *s = h_server_session(5683);
  rec_r = NULL;
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 1,
                                          SEGS("a", "b"), NULL)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == two);
  CHECK_STR_EQ(rec_path, "a/b");
  CHECK_INT_EQ(
      answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 2, SEGS("a/b"), NULL)),
      COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == one);
  CHECK_STR_EQ(rec_path, "a%2Fb");
  CHECK_STR_EQ(rec_res, "a%2Fb");
  /* The option "a%2Fb" is the bytes a % 2 F b: its path is "a%252Fb". */
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 3,
                                          SEGS("a%2Fb"), NULL)),
               COAP_RESPONSE_CODE_NOT_FOUND);
  coap_delete_resource(ctx, two);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 4,
                                          SEGS("a", "b"), NULL)),
               COAP_RESPONSE_CODE_NOT_FOUND);
  h_free(ctx);
}

TEST(wellknown_core_in_one_option_is_not_found) {
  coap_context_t *ctx = h_context();
  add_rec(ctx, "x");
  coap_session_t *s = h_server_session(5683);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 1,
                                          SEGS(".well-known/core"), NULL)),
               COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 2,
                                          SEGS(".well-known", "core"), NULL)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 3,
                                          SEGS(".well-known%2Fcore"), NULL)),
               COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(
      answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 4,
                                 SEGS(".well-known", "core", ""), NULL)),
      COAP_RESPONSE_CODE_NOT_FOUND);
  /* A resource registered for the one-option name is reachable by it. */
  add_rec(ctx, ".well-known%2Fcore");
  rec_calls = 0;
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 5,
                                          SEGS(".well-known/core"), NULL)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(rec_calls, 1);
  CHECK_INT_EQ(ctx->have_wellknown, 0); /* the built-in list stays */
  h_free(ctx);
}

/* Kept-back inputs: for each request path, a resource created from
 * coap_get_uri_path() by the unknown handler is the one the same request
 * reaches next, and the handler sees the same string both ways. */
TEST(uri_path_string_and_router_agree) {
  const char *const *cases[] = {
      SEGS("a/b"),       SEGS("a/b/c", "d"), SEGS("100%"),
      SEGS("%2F"),       SEGS("a b"),        SEGS("?x", "#y"),
      SEGS("&", "=+;,"), SEGS("x", ""),      SEGS("caf\xc3\xa9"),
      SEGS("..", "."),   SEGS("%41"),        SEGS("~-._"),
      SEGS("<>\"\\{}|"), SEGS("a", "", "b"), SEGS(":@!$'()*"),
      SEGS("\x7f\x01"),
  };
  coap_context_t *ctx = h_context();
  coap_add_resource(ctx, coap_resource_unknown_init(create_handler));
  coap_session_t *s = h_server_session(5683);
  coap_mid_t mid = 1;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    rec_calls = 0;
    CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_PUT, mid++,
                                            cases[i], NULL)),
                 COAP_RESPONSE_CODE_CREATED);
    CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, mid++,
                                            cases[i], NULL)),
                 COAP_RESPONSE_CODE_CONTENT);
    CHECK_INT_EQ(rec_calls, 1);
    CHECK_STR_EQ(rec_path, rec_res);
  }
  /* Every case made its own resource: none reached another's. */
  CHECK_INT_EQ(pt_hashmap_size(&ctx->resources),
               sizeof(cases) / sizeof(cases[0]));
  h_free(ctx);
}

/* An empty first Uri-Path option is a segment too: options "", "x" name
 * the path "/x" (coap_get_uri_path() says so), not "x". Since
 * coap_resource_init() drops one leading '/', that resource is registered
 * as "//x". */
TEST(empty_first_segment_is_a_segment) {
  coap_context_t *ctx = h_context();
  coap_resource_t *x = add_rec(ctx, "x");
  coap_resource_t *ex = add_rec(ctx, "//x");
  CHECK_MEM_EQ(coap_resource_get_uri_path(ex)->s,
               coap_resource_get_uri_path(ex)->length, "/x", 2);
  coap_session_t *s = h_server_session(5683);
  rec_r = NULL;
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 1,
                                          SEGS("", "x"), NULL)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == ex);
  CHECK_STR_EQ(rec_path, "/x");
  CHECK_INT_EQ(
      answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 2, SEGS("x"), NULL)),
      COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == x);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 3,
                                          SEGS("", "", "x"), NULL)),
               COAP_RESPONSE_CODE_NOT_FOUND);
  h_free(ctx);
}

TEST(resource_init_keeps_canonical_path) {
  static const char *const pairs[][2] = {
      {"a%2fb", "a%2Fb"},     {"a%2Fb", "a%2Fb"}, {"%41%7e", "A~"},
      {"a b", "a%20b"},       {"100%", "100%25"}, {"%zz", "%25zz"},
      {"%4", "%254"},         {"/x%2F", "x%2F"},  {"caf\xc3\xa9", "caf%C3%A9"},
      {"a/b/", "a/b/"},       {"", ""},           {"a;b,c=d&e", "a;b,c=d&e"},
      {"p?q#r", "p%3Fq%23r"}, {"%2e%2E", ".."},
  };
  coap_context_t *ctx = pt_context_new_detached();
  for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
    coap_resource_t *r = coap_resource_init(S(pairs[i][0]), 0);
    coap_str_const_t *p = coap_resource_get_uri_path(r);
    CHECK_MEM_EQ(p->s, p->length, pairs[i][1], strlen(pairs[i][1]));
    coap_add_resource(ctx, r);
    /* Found by the given spelling and by the canonical one. */
    CHECK(coap_get_resource_from_uri_path(ctx, S(pairs[i][0])) == r);
    CHECK(coap_get_resource_from_uri_path(ctx, S(pairs[i][1])) == r);
    CHECK(find(ctx, pairs[i][1]) == r);
  }
  /* Handed over and already canonical: kept as is. Not canonical: a
   * canonical copy, the given one freed (ASan checks both). */
  coap_str_const_t *own = coap_new_str_const((const uint8_t *)"k%2Fy", 5);
  coap_resource_t *r = coap_resource_init(own, COAP_RESOURCE_FLAGS_RELEASE_URI);
  CHECK(coap_resource_get_uri_path(r) == own);
  coap_delete_resource(NULL, r);
  own = coap_new_str_const((const uint8_t *)"k%2fy", 5);
  r = coap_resource_init(own, COAP_RESOURCE_FLAGS_RELEASE_URI);
  CHECK_MEM_EQ(coap_resource_get_uri_path(r)->s,
               coap_resource_get_uri_path(r)->length, "k%2Fy", 5);
  coap_delete_resource(NULL, r);
  /* A long path looked up through the heap. */
  char big[700];
  memset(big, ' ', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  coap_resource_t *b = add(ctx, big);
  CHECK_INT_EQ(coap_resource_get_uri_path(b)->length, 3 * 699);
  CHECK(coap_get_resource_from_uri_path(ctx, S(big)) == b);
  coap_free_context(ctx);
}

TEST(long_path_beyond_stack_buffer_is_routed) {
  coap_context_t *ctx = h_context();
  /* 4 options of 200 bytes that each need encoding: 2403 key bytes. */
  char seg[201];
  memset(seg, '/', 200);
  seg[200] = 0;
  char key[4 * 600 + 4];
  size_t n = 0;
  for (int i = 0; i < 4; i++) {
    if (i)
      key[n++] = '/';
    for (int j = 0; j < 200; j++)
      memcpy(key + n, "%2F", 3), n += 3;
  }
  key[n] = 0;
  coap_resource_t *r = add_rec(ctx, key);
  coap_session_t *s = h_server_session(5683);
  rec_r = NULL;
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 1,
                                          SEGS(seg, seg, seg, seg), NULL)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK(rec_r == r);
  h_free(ctx);
}

/* RFC 7252 6.5 step 8: an '&' inside one Uri-Query option is "%26" in
 * the query string the handler gets, which equals coap_get_query(). */
TEST(query_option_with_ampersand_is_escaped) {
  coap_context_t *ctx = h_context();
  add_rec(ctx, "q");
  coap_session_t *s = h_server_session(5683);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 1, SEGS("q"),
                                          SEGS("a=1&b", "c", "d e%"))),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_STR_EQ(rec_query, "a=1%26b&c&d%20e%25");
  CHECK(rec_query_agrees);
  CHECK_INT_EQ(answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 2, SEGS("q"),
                                          SEGS(""))),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_STR_EQ(rec_query, "");
  CHECK(rec_query_agrees);
  CHECK_INT_EQ(
      answer_code(s, seg_request(COAP_REQUEST_CODE_GET, 3, SEGS("q"), NULL)),
      COAP_RESPONSE_CODE_CONTENT);
  CHECK_STR_EQ(rec_query, "(null)");
  CHECK(rec_query_agrees);
  h_free(ctx);
}

static coap_pdu_t *proxy_request(coap_mid_t mid, const char *uri) {
  coap_pdu_t *p = seg_request(COAP_REQUEST_CODE_GET, mid, NULL, NULL);
  coap_add_option(p, COAP_OPTION_PROXY_URI, strlen(uri), (const uint8_t *)uri);
  return p;
}

/* RFC 7252 5.7.2: a Proxy-Uri whose authority is this server is served
 * from our own resources, with its path and query. */
TEST(proxy_uri_naming_this_server_is_served_locally) {
  coap_context_t *ctx = h_context();
  coap_resource_t *ab = add_rec(ctx, "a%2Fb");
  const char *names[] = {"example.net", "[::1]", "10.0.0.1"};
  coap_add_resource(ctx, coap_resource_proxy_uri_init(lib_handler, 3, names));
  coap_session_t *s = h_server_session(5683);
  calls = 0, rec_calls = 0;
  CHECK_INT_EQ(answer_code(s, proxy_request(1, "coap://Example.NET:5683/a%2fb"
                                               "?x=1&y=%26")),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(rec_calls, 1);
  CHECK(rec_r == ab);
  CHECK_STR_EQ(rec_path, "a%2Fb"); /* coap_get_uri_path() agrees */
  CHECK_STR_EQ(rec_query, "x=1&y=%26");
  CHECK_INT_EQ(answer_code(s, proxy_request(2, "coap://[::1]/a%2Fb")),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(answer_code(s, proxy_request(3, "coap://10.0.0.1/a%2Fb")),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(rec_calls, 3);
  CHECK_INT_EQ(calls, 0);
  /* Ours, but no such resource: 4.04, not the proxy. */
  CHECK_INT_EQ(answer_code(s, proxy_request(4, "coap://example.net/none")),
               COAP_RESPONSE_CODE_NOT_FOUND);
  /* Another host (or a longer name): the proxy's handler. */
  answer_code(s, proxy_request(5, "coap://example.org/a%2Fb"));
  answer_code(s, proxy_request(6, "coap://www.example.net/a%2Fb"));
  answer_code(s, proxy_request(7, "coap://10.0.0.10/a%2Fb"));
  CHECK_INT_EQ(calls, 3);
  CHECK_INT_EQ(rec_calls, 3);
  /* Proxy-Scheme with a Uri-Host of ours: the Uri-Path options. */
  coap_pdu_t *p = seg_request(COAP_REQUEST_CODE_GET, 8, NULL, NULL);
  coap_add_option(p, COAP_OPTION_URI_HOST, 11, (const uint8_t *)"example.net");
  coap_add_option(p, COAP_OPTION_URI_PATH, 3, (const uint8_t *)"a/b");
  coap_add_option(p, COAP_OPTION_PROXY_SCHEME, 4, (const uint8_t *)"coap");
  CHECK_INT_EQ(answer_code(s, p), COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(rec_calls, 4);
  /* /.well-known/core through a Proxy-Uri of ours. */
  CHECK_INT_EQ(answer_code(s, proxy_request(9, "coap://example.net/"
                                               ".well-known/core")),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(calls, 3);
  h_free(ctx);
}

TEST(proxy_with_empty_name_serves_every_host_locally) {
  coap_context_t *ctx = h_context();
  add_rec(ctx, "here");
  const char *names[] = {""};
  coap_add_resource(ctx, coap_resource_proxy_uri_init(lib_handler, 1, names));
  coap_session_t *s = h_server_session(5683);
  calls = 0, rec_calls = 0;
  CHECK_INT_EQ(answer_code(s, proxy_request(1, "coap://anything.example/here")),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(rec_calls, 1);
  CHECK_INT_EQ(calls, 0);
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
  RUN(print_link_obs_only_when_observe_available);
  RUN(print_link_attr_without_value_and_root);
  RUN(print_link_truncated);
  RUN(print_link_len_is_whole_description);
  RUN(print_link_with_offset);
  RUN(print_link_bad_arguments);
  RUN(wellknown_resource_sets_have_wellknown);
  RUN(find_tells_apart_prefixes_and_one_byte_changes);
  RUN(thousand_resources);
  RUN(notify_is_not_implemented_yet);
  RUN(dispatch_wellknown_resource_and_not_found);
  RUN(route_cache_needs_the_same_bytes);
  RUN(route_cache_follows_the_table);
  RUN(uri_path_option_with_slash_is_one_segment);
  RUN(wellknown_core_in_one_option_is_not_found);
  RUN(uri_path_string_and_router_agree);
  RUN(empty_first_segment_is_a_segment);
  RUN(resource_init_keeps_canonical_path);
  RUN(long_path_beyond_stack_buffer_is_routed);
  RUN(query_option_with_ampersand_is_escaped);
  RUN(proxy_uri_naming_this_server_is_served_locally);
  RUN(proxy_with_empty_name_serves_every_host_locally);
  coap_cleanup();
  return TEST_SUMMARY();
}
