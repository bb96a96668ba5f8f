/*
 * test_wellknown.c -- GET /.well-known/core (RFC 6690): the link list, its
 * query filter, and the list served block-wise (RFC 7959) through the same
 * Block2 machinery as any large resource. The sans-I/O core is driven with
 * the fake clock and fake send (core_harness.h); one test runs the real
 * event loop on loopback with a raw UDP client.
 */
#include <pthread.h>

#include "test.h"

#include "coap3/coap.h"

#include "block.h"
#include "core_harness.h"
#include "resource.h"
#include "udp_client.h"

#define S(lit) coap_make_str_const(lit)

/* ---- requests and answers --------------------------------------------------
 */

/* GET /.well-known/core with the Uri-Query options @queries (NULL-ended,
 * may be NULL) and, when @szx >= 0, Block2 (@num, 0, @szx). */
static coap_pdu_t *wk_request(coap_mid_t mid, const char *const *queries,
                              unsigned num, int szx) {
  coap_pdu_t *req =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, mid, 1024);
  uint8_t tok[2] = {(uint8_t)(mid >> 8), (uint8_t)mid};
  coap_add_token(req, 2, tok);
  coap_add_option(req, COAP_OPTION_URI_PATH, 11,
                  (const uint8_t *)".well-known");
  coap_add_option(req, COAP_OPTION_URI_PATH, 4, (const uint8_t *)"core");
  for (; queries && *queries; queries++)
    coap_add_option(req, COAP_OPTION_URI_QUERY, strlen(*queries),
                    (const uint8_t *)*queries);
  if (szx >= 0)
    pt_block_set(req, COAP_OPTION_BLOCK2, num, 0, (unsigned)szx);
  return req;
}

/* Feeds @req to @s; returns the one answer sent, parsed (caller deletes),
 * or NULL when not exactly one datagram went out. */
static coap_pdu_t *answer(coap_session_t *s, coap_pdu_t *req) {
  h_nsent = 0; /* the log holds H_MAX_SENT; a transfer takes more */
  h_feed(s, req);
  return h_nsent == 1 ? h_parse(0) : NULL;
}

static int has_opt(const coap_pdu_t *p, coap_option_num_t num) {
  coap_opt_iterator_t it;
  return coap_check_option(p, num, &it) != NULL;
}

static uint64_t opt_uint(const coap_pdu_t *p, coap_option_num_t num) {
  coap_opt_iterator_t it;
  coap_opt_t *o = coap_check_option(p, num, &it);
  return o ? coap_decode_var_bytes8(coap_opt_value(o), coap_opt_length(o))
           : UINT64_MAX;
}

/* 2.05 with Content-Format 40 (RFC 6690 section 7.2). */
static int is_link_format_205(const coap_pdu_t *p) {
  return p && coap_pdu_get_code(p) == COAP_RESPONSE_CODE_CONTENT &&
         opt_uint(p, COAP_OPTION_CONTENT_FORMAT) == 40;
}

/* The payload of a one-message (no Block2) answer to GET with @queries. */
static int wk_whole(coap_session_t *s, const char *const *queries, char *out,
                    size_t cap, size_t *outlen) {
  static coap_mid_t mid = 100;
  coap_pdu_t *r = answer(s, wk_request(mid++, queries, 0, -1));
  size_t len = 0;
  const uint8_t *data = NULL;
  int ok = is_link_format_205(r) && !has_opt(r, COAP_OPTION_BLOCK2) &&
           !has_opt(r, COAP_OPTION_SIZE2);
  if (!r || !coap_get_data(r, &len, &data))
    len = 0;
  if (len > cap)
    ok = 0, len = 0;
  if (len)
    memcpy(out, data, len);
  *outlen = len;
  coap_delete_pdu(r);
  return ok;
}

/* What a whole block-wise fetch saw. */
typedef struct fetch {
  unsigned char body[65536];
  size_t len;
  int blocks;
  int ok;        /* every block 2.05, CF 40, right NUM/SZX, M until last */
  int same_etag; /* one ETag on every block */
  uint64_t etag;
  uint64_t size2;   /* Size2 of block 0 */
  int size2_agrees; /* every block's Size2 equals the body's length */
} fetch;

/* Fetches the list block by block at @szx, checking each block. */
static void fetch_blocks(coap_session_t *s, const char *const *queries, int szx,
                         fetch *f) {
  static coap_mid_t mid = 1000;
  memset(f, 0, sizeof(*f));
  f->ok = 1;
  f->same_etag = 1;
  f->size2_agrees = 1;
  for (unsigned num = 0;; num++) {
    coap_pdu_t *r = answer(s, wk_request(mid++, queries, num, szx));
    unsigned bnum, bszx;
    int m;
    size_t len = 0;
    const uint8_t *data;
    if (!is_link_format_205(r) ||
        !pt_block_peek(r, COAP_OPTION_BLOCK2, &bnum, &m, &bszx) ||
        bnum != num || bszx != (unsigned)szx) {
      f->ok = 0;
      coap_delete_pdu(r);
      return;
    }
    if (!coap_get_data(r, &len, &data))
      len = 0;
    if ((m && len != (16u << szx)) || len > (16u << szx) ||
        f->len + len > sizeof(f->body)) {
      f->ok = 0;
      coap_delete_pdu(r);
      return;
    }
    if (len)
      memcpy(f->body + f->len, data, len);
    f->len += len;
    uint64_t etag = opt_uint(r, COAP_OPTION_ETAG);
    if (num == 0) {
      f->etag = etag;
      f->size2 = opt_uint(r, COAP_OPTION_SIZE2);
    } else if (etag != f->etag) {
      f->same_etag = 0;
    }
    if (opt_uint(r, COAP_OPTION_SIZE2) != f->size2)
      f->size2_agrees = 0;
    f->blocks++;
    coap_delete_pdu(r);
    if (!m)
      break;
    if (f->blocks > 5000) {
      f->ok = 0;
      return;
    }
  }
  if (f->size2 != f->len)
    f->size2_agrees = 0;
}

/* ---- resource sets and the lists they must give --------------------------
 *
 * The expected text is built here from the same inputs, independently of
 * coap_print_link(): "<" "/" canonical path ">" then ";name=value" per
 * attribute, links sorted by path and separated by ','.
 */

typedef struct expect_link {
  char path[96]; /* canonical */
  char text[256];
} expect_link;

static int by_path(const void *a, const void *b) {
  return strcmp(((const expect_link *)a)->path, ((const expect_link *)b)->path);
}

/* Joins @n links (sorted here) into @out; returns the length. */
static size_t join_links(expect_link *links, size_t n, char *out, size_t cap) {
  size_t len = 0;
  qsort(links, n, sizeof(*links), by_path);
  for (size_t i = 0; i < n; i++) {
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "",
                            links[i].text);
  }
  return len;
}

/* The 40 resources of the issue: "sensor/NN" with rt, if, title and ct;
 * about 3 KB of links (far more than one datagram). */
static size_t add_forty(coap_context_t *ctx, char *expect, size_t cap) {
  static expect_link links[40];
  char path[32], rt[32], title[64];
  for (int i = 0; i < 40; i++) {
    snprintf(path, sizeof(path), "sensor/%02d", i);
    snprintf(rt, sizeof(rt), "\"temperature-c\"");
    snprintf(title, sizeof(title), "\"Sensor number %02d on the roof\"", i);
    coap_resource_t *r = coap_resource_init(S(path), 0);
    coap_add_attr(r, S("rt"), S(rt), 0);
    coap_add_attr(r, S("if"), S("\"sensor\""), 0);
    coap_add_attr(r, S("title"), S(title), 0);
    coap_add_attr(r, S("ct"), S("0"), 0);
    coap_add_resource(ctx, r);
    snprintf(links[i].path, sizeof(links[i].path), "%s", path);
    snprintf(links[i].text, sizeof(links[i].text),
             "</%s>;rt=%s;if=\"sensor\";title=%s;ct=0", path, rt, title);
  }
  return join_links(links, 40, expect, cap);
}

/* Kept-back sets: @n resources whose names need escaping now and then
 * (space, '/', '%' inside a segment), attributes with and without values,
 * quoted and not. */
static size_t add_varied(coap_context_t *ctx, int n, char *expect, size_t cap) {
  static expect_link links[300];
  char given[64], canon[96], val[64];
  for (int i = 0; i < n; i++) {
    switch (i % 4) {
    case 0:
      snprintf(given, sizeof(given), "dev/%d/state", i);
      snprintf(canon, sizeof(canon), "dev/%d/state", i);
      break;
    case 1:
      snprintf(given, sizeof(given), "room %d", i);
      snprintf(canon, sizeof(canon), "room%%20%d", i);
      break;
    case 2:
      snprintf(given, sizeof(given), "a%%2fb%d", i);
      snprintf(canon, sizeof(canon), "a%%2Fb%d", i);
      break;
    default:
      snprintf(given, sizeof(given), "/p%d%%", i);
      snprintf(canon, sizeof(canon), "p%d%%25", i);
      break;
    }
    coap_resource_t *r = coap_resource_init(S(given), 0);
    snprintf(links[i].path, sizeof(links[i].path), "%s", canon);
    int len = snprintf(links[i].text, sizeof(links[i].text), "</%s>", canon);
    if (i % 3 == 0) {
      snprintf(val, sizeof(val), "\"t%d x-%d\"", i, i % 7);
      coap_add_attr(r, S("rt"), S(val), 0);
      len += snprintf(links[i].text + len, sizeof(links[i].text) - (size_t)len,
                      ";rt=%s", val);
    }
    if (i % 2) {
      coap_add_attr(r, S("bare"), NULL, 0);
      len += snprintf(links[i].text + len, sizeof(links[i].text) - (size_t)len,
                      ";bare");
    }
    snprintf(val, sizeof(val), "%d", i * 7 % 1000);
    coap_add_attr(r, S("sz"), S(val), 0);
    len += snprintf(links[i].text + len, sizeof(links[i].text) - (size_t)len,
                    ";sz=%s", val);
    /* Observable ones carry ";obs" only where observe is served. */
    coap_resource_set_get_observable(r, i % 5 == 0);
    if (i % 5 == 0 && pt_observe_available())
      snprintf(links[i].text + len, sizeof(links[i].text) - (size_t)len,
               ";obs");
    coap_add_resource(ctx, r);
  }
  return join_links(links, (size_t)n, expect, cap);
}

/* ---- the filter (RFC 6690 section 4.1) -----------------------------------
 */

static coap_resource_t *sample(const char *path) {
  coap_resource_t *r = coap_resource_init(S(path), 0);
  coap_add_attr(r, S("rt"), S("\"temperature-c\""), 0);
  coap_add_attr(r, S("if"), S("sensor"), 0);
  coap_add_attr(r, S("ct"), S("0"), 0);
  return r;
}

static void null_handler(coap_resource_t *r, coap_session_t *s,
                         const coap_pdu_t *req, const coap_string_t *q,
                         coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q, (void)resp;
}

static coap_context_t *three(void) {
  coap_context_t *ctx = h_context();
  coap_add_resource(ctx, sample("sensors/temp"));
  coap_resource_t *l = coap_resource_init(S("sensors/light"), 0);
  coap_add_attr(l, S("rt"), S("\"light-lux core.sen-light\""), 0);
  coap_add_attr(l, S("if"), S("sensor"), 0);
  coap_add_resource(ctx, l);
  coap_resource_t *a = coap_resource_init(S("actuators/led"), 0);
  coap_add_attr(a, S("title"), S("\"LED\""), 0);
  coap_add_resource(ctx, a);
  /* Not listed: the unknown and proxy resources, and a hidden one. */
  coap_add_resource(ctx, coap_resource_unknown_init(null_handler));
  const char *names[] = {"p"};
  coap_add_resource(ctx, coap_resource_proxy_uri_init(null_handler, 1, names));
  coap_resource_t *h = coap_resource_init(S("hidden"), 0);
  h->hidden = 1;
  coap_add_resource(ctx, h);
  return ctx;
}

#define LED "</actuators/led>;title=\"LED\""
#define LIGHT "</sensors/light>;rt=\"light-lux core.sen-light\";if=sensor"
#define TEMP "</sensors/temp>;rt=\"temperature-c\";if=sensor;ct=0"
#define ALL_THREE LED "," LIGHT "," TEMP

static int wk_filter(coap_session_t *s, const char *q, const char *want) {
  const char *qs[] = {q, NULL};
  char out[4096];
  size_t len;
  if (!wk_whole(s, qs, out, sizeof(out), &len))
    return 0;
  if (len != strlen(want) || memcmp(out, want, len) != 0) {
    fprintf(stderr, "  query %s gave \"%.*s\"\n", q, (int)len, out);
    return 0;
  }
  return 1;
}

TEST(wellknown_lists_sorted_exact_bytes) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  char out[1024];
  size_t len;
  CHECK(wk_whole(s, NULL, out, sizeof(out), &len));
  CHECK_MEM_EQ(out, len, ALL_THREE, strlen(ALL_THREE));
  h_free(ctx);
}

TEST(wellknown_empty_context) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(5683);
  char out[16];
  size_t len;
  CHECK(wk_whole(s, NULL, out, sizeof(out), &len));
  CHECK_INT_EQ(len, 0);
  /* Asked block-wise: one empty last block, Size2 0. */
  fetch f;
  fetch_blocks(s, NULL, 0, &f);
  CHECK(f.ok);
  CHECK_INT_EQ(f.blocks, 1);
  CHECK_INT_EQ(f.len, 0);
  CHECK_UINT_EQ(f.size2, 0);
  h_free(ctx);
}

TEST(wellknown_filter_rt) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  CHECK(wk_filter(s, "rt=temperature-c", TEMP)); /* quotes removed */
  CHECK(wk_filter(s, "rt=temperature", ""));
  CHECK(wk_filter(s, "rt=temp*", TEMP));
  /* rt is a space-separated list: any entry matches. */
  CHECK(wk_filter(s, "rt=core.sen-light", LIGHT));
  CHECK(wk_filter(s, "rt=light-lux", LIGHT));
  CHECK(wk_filter(s, "rt=core*", LIGHT));
  h_free(ctx);
}

TEST(wellknown_filter_if_title_ct) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  CHECK(wk_filter(s, "if=sensor", LIGHT "," TEMP));
  CHECK(wk_filter(s, "title=LED", LED));
  CHECK(wk_filter(s, "title=L*", LED));
  CHECK(wk_filter(s, "title=led", "")); /* values compare exactly */
  CHECK(wk_filter(s, "ct=0", TEMP));
  h_free(ctx);
}

TEST(wellknown_filter_href) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  CHECK(wk_filter(s, "href=/actuators/led", LED));
  CHECK(wk_filter(s, "href=/a*", LED));
  CHECK(wk_filter(s, "href=/sensors/l*", LIGHT));
  CHECK(wk_filter(s, "href=*", ALL_THREE));
  CHECK(wk_filter(s, "href=/*", ALL_THREE));
  CHECK(wk_filter(s, "href=/actuators", ""));
  CHECK(wk_filter(s, "href=/sensors/temp/", ""));
  h_free(ctx);
}

/* Written without the leading '/', href matches as with it (as libcoap
 * takes it). */
TEST(wellknown_filter_href_without_leading_slash) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  CHECK(wk_filter(s, "href=actuators/led", LED));
  CHECK(wk_filter(s, "href=sensors/*", LIGHT "," TEMP));
  CHECK(wk_filter(s, "href=sensors/t*", TEMP));
  CHECK(wk_filter(s, "href=s*", LIGHT "," TEMP));
  CHECK(wk_filter(s, "href=actuators", ""));
  CHECK(wk_filter(s, "href=//actuators/led", "")); /* only one is dropped */
  h_free(ctx);
}

/* The target as printed: a resource whose name needs escaping is matched
 * by its printed form; the root by "href=/" and "href=". */
TEST(wellknown_filter_href_escaped_and_root) {
  coap_context_t *ctx = h_context();
  coap_add_resource(ctx, coap_resource_init(S("a%2Fb"), 0));
  coap_add_resource(ctx, coap_resource_init(S("a b"), 0));
  coap_add_resource(ctx, coap_resource_init(S("x>y"), 0));
  coap_add_resource(ctx, coap_resource_init(NULL, 0));
  coap_session_t *s = h_server_session(5683);
  CHECK(wk_filter(s, NULL, "</>,</a%20b>,</a%2Fb>,</x%3Ey>"));
  CHECK(wk_filter(s, "href=/a%2Fb", "</a%2Fb>"));
  CHECK(wk_filter(s, "href=a%2Fb", "</a%2Fb>"));
  CHECK(wk_filter(s, "href=/a/b", ""));
  CHECK(wk_filter(s, "href=/a%20b", "</a%20b>"));
  CHECK(wk_filter(s, "href=/a%*", "</a%20b>,</a%2Fb>"));
  CHECK(wk_filter(s, "href=/", "</>"));
  CHECK(wk_filter(s, "href=", "</>"));
  h_free(ctx);
}

/* A filter that matches nothing: 2.05 with an empty payload. RFC 6690
 * section 4.1 only asks servers not to answer such a MULTICAST request;
 * a unicast request gets the (empty) filtered list. */
TEST(wellknown_filter_no_match_is_empty_2_05) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  CHECK(wk_filter(s, "rt=nothing", ""));
  CHECK(wk_filter(s, "sz=*", ""));
  h_free(ctx);
}

TEST(wellknown_several_filters_all_apply) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  const char *qs[] = {"if=sensor", "href=/sensors/t*", NULL};
  char out[1024];
  size_t len;
  CHECK(wk_whole(s, qs, out, sizeof(out), &len));
  CHECK_MEM_EQ(out, len, TEMP, strlen(TEMP));
  const char *none[] = {"if=sensor", "title=LED", NULL};
  CHECK(wk_whole(s, none, out, sizeof(out), &len));
  CHECK_INT_EQ(len, 0);
  h_free(ctx);
}

/* Filter values are percent-decoded query arguments: a value holding '&'
 * (sent as one Uri-Query option) or a space is matched whole. */
TEST(wellknown_filter_value_with_ampersand_and_space) {
  coap_context_t *ctx = h_context();
  coap_resource_t *r = coap_resource_init(S("x"), 0);
  coap_add_attr(r, S("title"), S("\"a&b c\""), 0);
  coap_add_resource(ctx, r);
  coap_session_t *s = h_server_session(5683);
  CHECK(wk_filter(s, "title=a&b c", "</x>;title=\"a&b c\""));
  CHECK(wk_filter(s, "title=a&b*", "</x>;title=\"a&b c\""));
  CHECK(wk_filter(s, "title=a", ""));
  h_free(ctx);
}

TEST(wellknown_malformed_queries) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  /* An empty argument filters nothing (an empty query is no query, as
   * libcoap takes it). */
  CHECK(wk_filter(s, "", ALL_THREE));
  CHECK(wk_filter(s, "=x", ""));
  CHECK(wk_filter(s, "rt", LIGHT "," TEMP)); /* bare: has the attribute */
  CHECK(wk_filter(s, "rt=*", LIGHT "," TEMP));
  CHECK(wk_filter(s, "rt==", ""));
  CHECK(wk_filter(s, "href", ALL_THREE));
  CHECK(wk_filter(s, "%", ""));
  CHECK(wk_filter(s, "rt=%zz", ""));
  CHECK(wk_filter(s, "*", ""));
  const char *qs[] = {"", "rt=core*", "", NULL};
  char out[1024];
  size_t len;
  CHECK(wk_whole(s, qs, out, sizeof(out), &len));
  CHECK_MEM_EQ(out, len, LIGHT, strlen(LIGHT));
  h_free(ctx);
}

/* ";obs" and "?obs" follow one predicate: the resource is observable and
 * the build serves observations (pt_resource_link_obs()). Written to hold
 * with or without the observe module. */
TEST(wellknown_obs_follows_the_predicate) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  CHECK(wk_filter(s, "obs", ""));
  coap_resource_t *t =
      coap_get_resource_from_uri_path(ctx, S("sensors/temp"));
  coap_resource_set_get_observable(t, 1);
  int obs = pt_observe_available();
  CHECK(wk_filter(s, "obs", obs ? TEMP ";obs" : ""));
  CHECK(wk_filter(s, NULL, obs ? LED "," LIGHT "," TEMP ";obs" : ALL_THREE));
  CHECK(wk_filter(s, "href=/sensors/t*", obs ? TEMP ";obs" : TEMP));
  h_free(ctx);
}

TEST(wellknown_other_methods_not_allowed) {
  coap_context_t *ctx = three();
  coap_session_t *s = h_server_session(5683);
  coap_pdu_code_t methods[] = {COAP_REQUEST_CODE_POST, COAP_REQUEST_CODE_PUT,
                               COAP_REQUEST_CODE_DELETE,
                               COAP_REQUEST_CODE_FETCH};
  for (size_t i = 0; i < 4; i++) {
    coap_pdu_t *req = wk_request((coap_mid_t)(50 + i), NULL, 0, -1);
    coap_pdu_set_code(req, methods[i]);
    coap_pdu_t *r = answer(s, req);
    CHECK_NOT_NULL(r);
    CHECK_INT_EQ(coap_pdu_get_code(r), COAP_RESPONSE_CODE_NOT_ALLOWED);
    coap_delete_pdu(r);
  }
  h_free(ctx);
}

/* ---- block-wise (RFC 7959) -------------------------------------------------
 */

/* The case: 40 resources, whole list fetched at SZX 0 (16-byte
 * blocks), every link there, in order, byte for byte. */
TEST(wellknown_forty_resources_whole_with_block2_szx0) {
  coap_context_t *ctx = h_context();
  static char expect[8192];
  size_t elen = add_forty(ctx, expect, sizeof(expect));
  CHECK(elen > 2000);
  coap_session_t *s = h_server_session(5683);
  static fetch f;
  fetch_blocks(s, NULL, 0, &f);
  CHECK(f.ok);
  CHECK_MEM_EQ(f.body, f.len, expect, elen);
  CHECK_INT_EQ(f.blocks, (int)((elen + 15) / 16));
  CHECK_UINT_EQ(f.size2, elen);
  CHECK(f.size2_agrees);
  CHECK(f.same_etag);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->blk_srv), 0); /* ended with the last */
  h_free(ctx);
}

/* Block2 0/0/16 gets block 0 of 16 bytes with Size2 and ETag, not the
 * first datagram's worth of links again. */
TEST(wellknown_block2_0_0_16_gets_one_block) {
  coap_context_t *ctx = h_context();
  static char expect[8192];
  size_t elen = add_forty(ctx, expect, sizeof(expect));
  coap_session_t *s = h_server_session(5683);
  coap_pdu_t *r = answer(s, wk_request(7, NULL, 0, 0));
  CHECK(is_link_format_205(r));
  unsigned num, szx;
  int m;
  CHECK(pt_block_peek(r, COAP_OPTION_BLOCK2, &num, &m, &szx));
  CHECK_INT_EQ(num, 0);
  CHECK_INT_EQ(m, 1);
  CHECK_INT_EQ(szx, 0);
  CHECK_UINT_EQ(opt_uint(r, COAP_OPTION_SIZE2), elen);
  CHECK(has_opt(r, COAP_OPTION_ETAG));
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(r, &len, &data));
  CHECK_MEM_EQ(data, len, expect, 16);
  coap_delete_pdu(r);
  h_free(ctx);
}

/* Without Block2 a list too long for one datagram starts block-wise at
 * 1024 bytes (RFC 7959 2.4: the server picks), with M, Size2 and ETag;
 * the client takes the rest at that size. */
TEST(wellknown_long_list_without_block2_is_sent_block_wise) {
  coap_context_t *ctx = h_context();
  static char expect[8192];
  size_t elen = add_forty(ctx, expect, sizeof(expect));
  coap_session_t *s = h_server_session(5683);
  coap_pdu_t *r = answer(s, wk_request(8, NULL, 0, -1));
  CHECK(is_link_format_205(r));
  unsigned num, szx;
  int m;
  CHECK(pt_block_peek(r, COAP_OPTION_BLOCK2, &num, &m, &szx));
  CHECK_INT_EQ(num, 0);
  CHECK_INT_EQ(m, 1);
  CHECK_INT_EQ(szx, 6);
  CHECK_UINT_EQ(opt_uint(r, COAP_OPTION_SIZE2), elen);
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(r, &len, &data));
  CHECK_MEM_EQ(data, len, expect, 1024);
  coap_delete_pdu(r);
  static fetch f;
  fetch_blocks(s, NULL, 6, &f);
  CHECK(f.ok);
  CHECK_MEM_EQ(f.body, f.len, expect, elen);
  h_free(ctx);
}

/* Kept-back sizes and names, every block size: the whole list comes
 * through byte-exact, with Size2 and one ETag. */
TEST(wellknown_every_size_every_szx_byte_exact) {
  static const int sizes[] = {1, 3, 7, 25, 64, 130, 300};
  static char expect[65536];
  static fetch f;
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    coap_context_t *ctx = h_context();
    size_t elen = add_varied(ctx, sizes[k], expect, sizeof(expect));
    coap_session_t *s = h_server_session(5683);
    for (int szx = 0; szx <= 6; szx++) {
      fetch_blocks(s, NULL, szx, &f);
      CHECK(f.ok);
      CHECK_MEM_EQ(f.body, f.len, expect, elen);
      CHECK_INT_EQ(f.blocks,
                   (int)(elen ? (elen + (16u << szx) - 1) / (16u << szx) : 1));
      CHECK(f.size2_agrees);
      CHECK(f.same_etag);
    }
    /* And whole, when it fits one datagram. */
    char out[1200];
    size_t len;
    if (elen <= 1024) {
      CHECK(wk_whole(s, NULL, out, sizeof(out), &len));
      CHECK_MEM_EQ(out, len, expect, elen);
    }
    h_free(ctx);
  }
}

/* A filter and Block2 together: the filtered list, block by block. */
TEST(wellknown_filter_through_block2) {
  coap_context_t *ctx = h_context();
  static char all[65536], want[65536];
  add_varied(ctx, 120, all, sizeof(all));
  /* The links with rt: every third, in the sorted list. */
  size_t wlen = 0;
  for (char *p = all; *p;) {
    char *end = strstr(p, ",</");
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (memmem(p, n, ";rt=", 4)) {
      if (wlen)
        want[wlen++] = ',';
      memcpy(want + wlen, p, n);
      wlen += n;
    }
    p += n + (end ? 1 : 0);
  }
  coap_session_t *s = h_server_session(5683);
  const char *qs[] = {"rt=t*", NULL};
  static fetch f;
  fetch_blocks(s, qs, 1, &f);
  CHECK(f.ok);
  CHECK(wlen > 32);
  CHECK_MEM_EQ(f.body, f.len, want, wlen);
  CHECK_UINT_EQ(f.size2, wlen);
  h_free(ctx);
}

/* The client may change the block size (RFC 7959 2.4): block 0 at 1024
 * bytes, then on at 16 from byte 1024. */
TEST(wellknown_client_changes_to_smaller_szx) {
  coap_context_t *ctx = h_context();
  static char expect[8192];
  size_t elen = add_forty(ctx, expect, sizeof(expect));
  coap_session_t *s = h_server_session(5683);
  static unsigned char got[8192];
  size_t glen = 0, len;
  const uint8_t *data;
  coap_pdu_t *r = answer(s, wk_request(20, NULL, 0, 6));
  CHECK(coap_get_data(r, &len, &data));
  memcpy(got, data, len);
  glen = len;
  coap_delete_pdu(r);
  for (unsigned num = 64;; num++) {
    unsigned bnum, bszx;
    int m = 0;
    r = answer(s, wk_request((coap_mid_t)(21 + num), NULL, num, 0));
    CHECK(is_link_format_205(r));
    CHECK(pt_block_peek(r, COAP_OPTION_BLOCK2, &bnum, &m, &bszx));
    CHECK_INT_EQ(bnum, num);
    if (!coap_get_data(r, &len, &data))
      len = 0;
    if (len && glen + len <= sizeof(got))
      if (len)
        memcpy(got + glen, data, len);
    glen += len;
    coap_delete_pdu(r);
    if (!m || num > 1000)
      break;
  }
  CHECK_MEM_EQ(got, glen, expect, elen);
  h_free(ctx);
}

/* When the response has less room than the asked-for block, the server
 * answers with a smaller SZX (RFC 7959 2.4), and the client goes on at
 * that size. */
TEST(wellknown_server_answers_smaller_szx_than_asked) {
  coap_context_t *ctx = h_context();
  static char expect[8192];
  size_t elen = add_forty(ctx, expect, sizeof(expect));
  coap_session_t *s = h_server_session(5683);
  coap_pdu_t *req = wk_request(30, NULL, 0, 6);
  coap_pdu_t *resp = coap_pdu_init(COAP_MESSAGE_ACK, 0, 30, 300);
  coap_bin_const_t tok = coap_pdu_get_token(req);
  coap_add_token(resp, tok.length, tok.s);
  CHECK_INT_EQ(pt_wellknown_respond(ctx, s, req, NULL, resp), 0);
  pt_block_server_after(s, req, resp, h_now);
  unsigned num, szx;
  int m;
  CHECK(pt_block_peek(resp, COAP_OPTION_BLOCK2, &num, &m, &szx));
  CHECK_INT_EQ(num, 0);
  CHECK_INT_EQ(m, 1);
  CHECK_INT_EQ(szx, 4); /* 256 bytes: what fits in 300 */
  static unsigned char got[8192];
  size_t glen, len;
  const uint8_t *data;
  CHECK(coap_get_data(resp, &len, &data));
  memcpy(got, data, len);
  glen = len;
  coap_delete_pdu(req);
  coap_delete_pdu(resp);
  for (unsigned n = 1; m && n < 100; n++) {
    coap_pdu_t *r = answer(s, wk_request((coap_mid_t)(30 + n), NULL, n, 4));
    CHECK(pt_block_peek(r, COAP_OPTION_BLOCK2, &num, &m, &szx));
    CHECK_INT_EQ(num, n);
    if (!coap_get_data(r, &len, &data))
      len = 0;
    if (len)
      memcpy(got + glen, data, len);
    glen += len;
    coap_delete_pdu(r);
  }
  CHECK_MEM_EQ(got, glen, expect, elen);
  h_free(ctx);
}

/* A large resource served with coap_add_data_large_response(), for
 * comparing behaviours. */
static const uint8_t *big_body;
static size_t big_len;
static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, 40, -1, 0, big_len, big_body,
                               NULL, NULL);
}

static coap_pdu_code_t code_of(coap_session_t *s, coap_pdu_t *req) {
  coap_pdu_t *r = answer(s, req);
  coap_pdu_code_t c = r ? coap_pdu_get_code(r) : 0;
  coap_delete_pdu(r);
  return c;
}

/* A block number past the end gets what any large resource answers
 * (4.02, RFC 7959 2.4), fresh or with the body held. */
TEST(wellknown_block_past_end_like_other_resources) {
  coap_context_t *ctx = h_context();
  static char expect[8192];
  size_t elen = add_forty(ctx, expect, sizeof(expect));
  big_body = (const uint8_t *)expect;
  big_len = elen;
  coap_resource_t *big = coap_resource_init(S("big"), 0);
  coap_register_handler(big, COAP_REQUEST_GET, hnd_big);
  coap_add_resource(ctx, big);
  coap_session_t *s = h_server_session(5683);
  /* The list grew by "big": measure it again. */
  static fetch f;
  fetch_blocks(s, NULL, 2, &f);
  CHECK(f.ok);
  unsigned past = (unsigned)((f.len + 63) / 64); /* first block number past */
  big_len = f.len;
  coap_pdu_t *wkreq = wk_request(61, NULL, past, 2);
  /* Same request shape to both, only the path differs. */
  coap_pdu_t *b =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 62, 1024);
  uint8_t tok = 9;
  coap_add_token(b, 1, &tok);
  coap_add_option(b, COAP_OPTION_URI_PATH, 3, (const uint8_t *)"big");
  pt_block_set(b, COAP_OPTION_BLOCK2, past, 0, 2);
  coap_pdu_code_t want = code_of(s, b);
  CHECK_INT_EQ(want, COAP_RESPONSE_CODE_BAD_OPTION);
  CHECK_INT_EQ(code_of(s, wkreq), want);
  CHECK_INT_EQ(code_of(s, wk_request(63, NULL, past + 100, 2)), want);
  /* The last block itself is fine. */
  CHECK_INT_EQ(code_of(s, wk_request(64, NULL, past - 1, 2)),
               COAP_RESPONSE_CODE_CONTENT);
  /* With a held body (block 0 fetched first): the same. */
  CHECK_INT_EQ(code_of(s, wk_request(65, NULL, 0, 2)),
               COAP_RESPONSE_CODE_CONTENT);
  CHECK_INT_EQ(pt_hashmap_size(&ctx->blk_srv), 1);
  CHECK_INT_EQ(code_of(s, wk_request(66, NULL, past, 2)), want);
  /* SZX 7 is reserved: 4.00, as for any resource (RFC 7959 2.2). */
  CHECK_INT_EQ(code_of(s, wk_request(67, NULL, 0, 7)),
               COAP_RESPONSE_CODE_BAD_REQUEST);
  h_free(ctx);
}

/* Later blocks come from the body built for block 0: a resource added in
 * between does not shift them, and the ETag stays. A new transfer sees the
 * new list under a new ETag. */
TEST(wellknown_later_blocks_from_held_body) {
  coap_context_t *ctx = h_context();
  static char expect[8192];
  size_t elen = add_forty(ctx, expect, sizeof(expect));
  coap_session_t *s = h_server_session(5683);
  coap_pdu_t *r = answer(s, wk_request(70, NULL, 0, 5));
  uint64_t etag0 = opt_uint(r, COAP_OPTION_ETAG);
  coap_delete_pdu(r);
  coap_add_resource(ctx, coap_resource_init(S("aaa"), 0)); /* sorts first */
  static unsigned char got[8192];
  size_t glen = 0, len;
  const uint8_t *data;
  r = answer(s, wk_request(71, NULL, 0, 5)); /* block 0 again: new body */
  uint64_t etag_new = opt_uint(r, COAP_OPTION_ETAG);
  CHECK(coap_get_data(r, &len, &data));
  CHECK_MEM_EQ(data, 8, "</aaa>,<", 8);
  coap_delete_pdu(r);
  CHECK(etag_new != etag0);
  /* A transfer started before the change, on its own session, goes on
   * with the old body. */
  coap_session_t *s2 = h_server_session(5684);
  coap_resource_t *aaa = coap_get_resource_from_uri_path(ctx, S("aaa"));
  coap_delete_resource(ctx, aaa);
  r = answer(s2, wk_request(72, NULL, 0, 5));
  uint64_t etag2 = opt_uint(r, COAP_OPTION_ETAG);
  CHECK(etag2 == etag0); /* same list, same ETag */
  CHECK(coap_get_data(r, &len, &data));
  memcpy(got, data, len);
  glen = len;
  coap_delete_pdu(r);
  coap_add_resource(ctx, coap_resource_init(S("aaa"), 0));
  int m = 1;
  for (unsigned n = 1; m && n < 100; n++) {
    unsigned num, szx;
    r = answer(s2, wk_request((coap_mid_t)(72 + n), NULL, n, 5));
    CHECK(pt_block_peek(r, COAP_OPTION_BLOCK2, &num, &m, &szx));
    CHECK(opt_uint(r, COAP_OPTION_ETAG) == etag0);
    if (!coap_get_data(r, &len, &data))
      len = 0;
    if (len)
      memcpy(got + glen, data, len);
    glen += len;
    coap_delete_pdu(r);
  }
  CHECK_MEM_EQ(got, glen, expect, elen);
  h_free(ctx);
}

/* A Block2 request for a later block with no transfer held (it expired,
 * or the client starts there) is served from a freshly built list. */
TEST(wellknown_later_block_without_held_body) {
  coap_context_t *ctx = h_context();
  static char expect[8192];
  size_t elen = add_forty(ctx, expect, sizeof(expect));
  coap_session_t *s = h_server_session(5683);
  coap_pdu_t *r = answer(s, wk_request(80, NULL, 5, 0));
  CHECK(is_link_format_205(r));
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(r, &len, &data));
  CHECK_MEM_EQ(data, len, expect + 80, 16);
  CHECK_UINT_EQ(opt_uint(r, COAP_OPTION_SIZE2), elen);
  coap_delete_pdu(r);
  /* After expiry of a held transfer, the same. */
  coap_delete_pdu(answer(s, wk_request(81, NULL, 0, 0)));
  CHECK_INT_EQ(pt_hashmap_size(&ctx->blk_srv), 1);
  h_advance(ctx, 300 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(pt_hashmap_size(&ctx->blk_srv), 0);
  s = h_server_session(5683); /* the idle session went too */
  r = answer(s, wk_request(82, NULL, 2, 0));
  CHECK(coap_get_data(r, &len, &data));
  CHECK_MEM_EQ(data, len, expect + 32, 16);
  coap_delete_pdu(r);
  h_free(ctx);
}

/* ---- on the wire: the real loop and a raw UDP client ----------------------
 */

static coap_context_t *wctx;
static int wstop;

static void *wloop(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&wstop, __ATOMIC_ACQUIRE))
    coap_io_process(wctx, 50);
  return NULL;
}

/* A Block2 GET of /.well-known/core on the wire. */
static size_t wire_get(uint8_t *buf, uint16_t mid, unsigned num, unsigned szx) {
  size_t n = 0;
  buf[n++] = 0x42; /* CON, TKL 2 */
  buf[n++] = COAP_REQUEST_CODE_GET;
  buf[n++] = (uint8_t)(mid >> 8);
  buf[n++] = (uint8_t)mid;
  buf[n++] = 0xbe;
  buf[n++] = 0xef;
  buf[n++] = 0xbb; /* Uri-Path (11), 11 bytes */
  memcpy(buf + n, ".well-known", 11);
  n += 11;
  buf[n++] = 0x04; /* Uri-Path again, 4 bytes */
  memcpy(buf + n, "core", 4);
  n += 4;
  uint32_t v = pt_block_value(num, 0, szx);
  uint8_t vb[3];
  unsigned vl = coap_encode_var_safe(vb, sizeof(vb), v);
  buf[n++] = (uint8_t)(0xc0 | vl); /* Block2 (23): delta 12 */
  memcpy(buf + n, vb, vl);
  n += vl;
  return n;
}

TEST(wire_forty_resources_block2_szx0_raw_client) {
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  wctx = coap_new_context(NULL);
  CHECK_NOT_NULL(wctx);
  coap_endpoint_t *ep = coap_new_endpoint(wctx, &a, COAP_PROTO_UDP);
  CHECK_NOT_NULL(ep);
  if (!ep)
    return;
  static char expect[8192];
  size_t elen = add_forty(wctx, expect, sizeof(expect));
  uint16_t port = coap_address_get_port(&ep->bind_addr);
  wstop = 0;
  pthread_t t;
  CHECK_INT_EQ(pthread_create(&t, NULL, wloop, NULL), 0);
  udp_client c = udp_client_open(port);
  static unsigned char got[8192];
  size_t glen = 0;
  uint64_t etag = 0;
  int blocks = 0, m = 1;
  for (unsigned num = 0; m && num < 1000; num++) {
    uint8_t req[64], resp[1500];
    uint16_t mid = (uint16_t)(0x4000 + num);
    size_t n = wire_get(req, mid, num, 0);
    CHECK_INT_EQ(udp_send(&c, req, n), 0);
    ssize_t rl = udp_recv(&c, resp, sizeof(resp), 2000);
    CHECK(rl > 0);
    if (rl <= 0)
      break;
    coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
    CHECK(coap_pdu_parse(COAP_PROTO_UDP, resp, (size_t)rl, p));
    CHECK_INT_EQ(coap_pdu_get_type(p), COAP_MESSAGE_ACK);
    CHECK_INT_EQ(coap_pdu_get_mid(p), mid);
    coap_bin_const_t tok = coap_pdu_get_token(p);
    CHECK_MEM_EQ(tok.s, tok.length, "\xbe\xef", 2);
    CHECK(is_link_format_205(p));
    unsigned bnum, bszx;
    CHECK(pt_block_peek(p, COAP_OPTION_BLOCK2, &bnum, &m, &bszx));
    CHECK_INT_EQ(bnum, num);
    CHECK_INT_EQ(bszx, 0);
    CHECK_UINT_EQ(opt_uint(p, COAP_OPTION_SIZE2), elen);
    if (num == 0)
      etag = opt_uint(p, COAP_OPTION_ETAG);
    CHECK(opt_uint(p, COAP_OPTION_ETAG) == etag);
    size_t len;
    const uint8_t *data;
    if (!coap_get_data(p, &len, &data))
      len = 0;
    CHECK(len <= 16);
    if (len && glen + len <= sizeof(got))
      if (len)
        memcpy(got + glen, data, len);
    glen += len;
    blocks++;
    coap_delete_pdu(p);
  }
  CHECK_MEM_EQ(got, glen, expect, elen);
  CHECK_INT_EQ(blocks, (int)((elen + 15) / 16));
  udp_client_close(&c);
  __atomic_store_n(&wstop, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  coap_free_context(wctx);
}

int main(void) {
  (void)h_feed_raw;
  coap_startup();
  RUN(wellknown_lists_sorted_exact_bytes);
  RUN(wellknown_empty_context);
  RUN(wellknown_filter_rt);
  RUN(wellknown_filter_if_title_ct);
  RUN(wellknown_filter_href);
  RUN(wellknown_filter_href_without_leading_slash);
  RUN(wellknown_filter_href_escaped_and_root);
  RUN(wellknown_filter_no_match_is_empty_2_05);
  RUN(wellknown_several_filters_all_apply);
  RUN(wellknown_filter_value_with_ampersand_and_space);
  RUN(wellknown_malformed_queries);
  RUN(wellknown_obs_follows_the_predicate);
  RUN(wellknown_other_methods_not_allowed);
  RUN(wellknown_forty_resources_whole_with_block2_szx0);
  RUN(wellknown_block2_0_0_16_gets_one_block);
  RUN(wellknown_long_list_without_block2_is_sent_block_wise);
  RUN(wellknown_every_size_every_szx_byte_exact);
  RUN(wellknown_filter_through_block2);
  RUN(wellknown_client_changes_to_smaller_szx);
  RUN(wellknown_server_answers_smaller_szx_than_asked);
  RUN(wellknown_block_past_end_like_other_resources);
  RUN(wellknown_later_blocks_from_held_body);
  RUN(wellknown_later_block_without_held_body);
  RUN(wire_forty_resources_block2_szx0_raw_client);
  coap_cleanup();
  return TEST_SUMMARY();
}
