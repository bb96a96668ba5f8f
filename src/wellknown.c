/*
 * wellknown.c -- GET /.well-known/core: the RFC 6690 link-format list of a
 * context's resources, with the query filter of RFC 6690 section 4.1. The
 * list is built whole and handed to the Block2 server machinery
 * (block_server.c) like any large representation, so every link is served
 * at whatever block size the client asks for.
 *
 * The links are sorted by path so that the answer is the same bytes on
 * every run and every platform (the table's order depends on hashing).
 * That costs O(n log n) per discovery request, which is rare and already
 * O(n) to print; the table stays O(1) for the requests that matter.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "pdu.h"
#include "resource.h"
#include "uri.h"

/* ---- the query filter (RFC 6690 section 4.1) -------------------------------
 *
 * Each "&"-separated argument of the query is one filter "name=value"
 * (percent-decoded); a link is listed only if it passes all of them.
 * "href" compares with the link's target, the path as printed between
 * "<" and ">"; the value may be written with or without its leading '/'.
 * Any other name compares with the value of that attribute (surrounding
 * double quotes removed). A trailing '*' in the value asks for a prefix
 * match. For the relation-type attributes rt, if and rel, whose values are
 * space-separated lists, matching any one entry is enough. A bare "name"
 * asks for links that have the attribute ("obs": that can be observed);
 * an empty argument asks for nothing.
 */

typedef struct filter {
  const uint8_t *name;
  size_t name_len;
  const uint8_t *pat;
  size_t pat_len;
  int has_value; /* "name=..." rather than a bare "name" */
  int prefix;    /* value ended in '*' */
} filter;

/* The filters of one request, decoded once. */
typedef struct filters {
  filter *f;
  size_t n;
  uint8_t *text; /* the decoded arguments the filters point into */
} filters;

static int name_is(const filter *f, const char *s) {
  size_t n = strlen(s);
  return f->name_len == n && memcmp(f->name, s, n) == 0;
}

static void filter_parse(filter *f, const uint8_t *q, size_t len) {
  const uint8_t *eq = len ? memchr(q, '=', len) : NULL;
  memset(f, 0, sizeof(*f));
  f->name = q;
  f->name_len = eq ? (size_t)(eq - q) : len;
  if (!eq)
    return;
  f->has_value = 1;
  f->pat = eq + 1;
  f->pat_len = len - f->name_len - 1;
  if (f->pat_len && f->pat[f->pat_len - 1] == '*') {
    f->pat_len--;
    f->prefix = 1;
  }
}

/* Splits @query (percent-encoded, as coap_get_query() gives it) into
 * filters. Returns 0, or -1 when out of memory. */
static int filters_parse(filters *fs, const coap_string_t *query) {
  memset(fs, 0, sizeof(*fs));
  if (!query || !query->length)
    return 0;
  const uint8_t *q = query->s;
  size_t len = query->length, count = 1, dlen;
  for (size_t i = 0; i < len; i++)
    count += q[i] == '&';
  fs->f = calloc(count, sizeof(*fs->f));
  fs->text = malloc(len);
  if (!fs->f || !fs->text)
    return -1;
  size_t start = 0, out = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && q[i] != '&')
      continue;
    const uint8_t *arg = q + start;
    size_t alen = i - start;
    uint8_t *dst = fs->text + out;
    if (pt_uri_pct_check(arg, alen, &dlen) == PT_URI_OK) {
      dlen = pt_uri_pct_decode(arg, alen, dst, 0);
    } else { /* not from coap_get_query(): taken as written */
      memcpy(dst, arg, alen);
      dlen = alen;
    }
    start = i + 1;
    if (dlen == 0)
      continue; /* an empty argument filters nothing */
    filter_parse(&fs->f[fs->n++], dst, dlen);
    out += dlen;
  }
  return 0;
}

static void filters_free(filters *fs) {
  free(fs->f);
  free(fs->text);
}

static int match_one(const filter *f, const uint8_t *s, size_t n) {
  if (f->prefix)
    return n >= f->pat_len &&
           (f->pat_len == 0 || memcmp(s, f->pat, f->pat_len) == 0);
  return n == f->pat_len && (n == 0 || memcmp(s, f->pat, n) == 0);
}

/* Any space-separated entry of @p s matches. */
static int match_any_word(const filter *f, const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i <= n) {
    size_t j = i;
    while (j < n && s[j] != ' ')
      j++;
    if (match_one(f, s + i, j - i))
      return 1;
    i = j + 1;
  }
  return 0;
}

static int match_href(const filter *f, const coap_resource_t *r) {
  /* The target is "/" and the path; the '/' may be left out of the
   * pattern (as libcoap allows). Compare without building the target. */
  filter rest = *f;
  if (rest.pat_len && rest.pat[0] == '/') {
    rest.pat++;
    rest.pat_len--;
  }
  return match_one(&rest, r->uri_path->s, r->uri_path->length);
}

static int filter_passes(const filter *f, coap_resource_t *r) {
  if (name_is(f, "href"))
    return f->has_value ? match_href(f, r) : 1;
  coap_str_const_t name = {f->name_len, f->name};
  coap_attr_t *a = coap_find_attr(r, &name);
  if (!a)
    return !f->has_value && name_is(f, "obs") && pt_resource_link_obs(r);
  if (!f->has_value)
    return 1;
  if (!a->value)
    return 0;
  const uint8_t *v = a->value->s;
  size_t n = a->value->length;
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    v++;
    n -= 2;
  }
  if (name_is(f, "rt") || name_is(f, "if") || name_is(f, "rel"))
    return match_any_word(f, v, n);
  return match_one(f, v, n);
}

static int passes_all(const filters *fs, coap_resource_t *r) {
  for (size_t i = 0; i < fs->n; i++)
    if (!filter_passes(&fs->f[i], r))
      return 0;
  return 1;
}

/* ---- collecting and printing ----------------------------------------------
 */

static int by_path(const void *a, const void *b) {
  const coap_str_const_t *pa = (*(coap_resource_t *const *)a)->uri_path;
  const coap_str_const_t *pb = (*(coap_resource_t *const *)b)->uri_path;
  size_t n = pa->length < pb->length ? pa->length : pb->length;
  int c = n ? memcmp(pa->s, pb->s, n) : 0;
  if (c)
    return c;
  return pa->length < pb->length ? -1 : pa->length > pb->length;
}

/* The listed resources passing the filters, sorted; *count set. Returns
 * NULL with *count 0 when there are none, or NULL on no memory. */
static coap_resource_t **collect(coap_context_t *ctx, const filters *fs,
                                 size_t *count, int *nomem) {
  size_t total = pt_hashmap_size(&ctx->resources), n = 0;
  *count = 0;
  *nomem = 0;
  if (!total)
    return NULL;
  coap_resource_t **list = malloc(total * sizeof(*list));
  if (!list) {
    *nomem = 1;
    return NULL;
  }
  pt_hashmap_iter it;
  pt_hash_node *node;
  pt_hashmap_iter_init(&it, &ctx->resources);
  while ((node = pt_hashmap_iter_next(&it)) != NULL && n < total) {
    coap_resource_t *r = PT_CONTAINER_OF(node, coap_resource_t, by_path);
    if (!r->hidden && !r->is_unknown && !r->is_proxy && passes_all(fs, r))
      list[n++] = r;
  }
  qsort(list, n, sizeof(*list), by_path);
  *count = n;
  return list;
}

/* The length of one link (coap_print_link() measures with an empty
 * buffer), or 0 on error. */
static size_t link_length(const coap_resource_t *r) {
  size_t len = 0, offset = 0;
  coap_print_status_t st = coap_print_link(r, NULL, &len, &offset);
  return (st & COAP_PRINT_STATUS_ERROR) ? 0 : len;
}

/* All the links, comma-separated (RFC 6690 section 2), in a new buffer
 * (caller frees; NULL on no memory or when @p n is 0); *@p len set. */
static unsigned char *print_links(coap_resource_t **list, size_t n,
                                  size_t *len) {
  size_t total = 0;
  *len = 0;
  for (size_t i = 0; i < n; i++)
    total += link_length(list[i]) + (i ? 1 : 0);
  unsigned char *buf = total ? malloc(total) : NULL;
  if (!buf)
    return NULL;
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    if (i)
      buf[pos++] = ',';
    size_t room = total - pos, offset = 0;
    coap_print_status_t st =
        coap_print_link(list[i], buf + pos, &room, &offset);
    pos += COAP_PRINT_OUTPUT_LENGTH(st);
  }
  *len = pos;
  return buf;
}

static void release_body(coap_session_t *session, void *body) {
  (void)session;
  free(body);
}

int pt_wellknown_respond(coap_context_t *ctx, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response) {
  filters fs;
  size_t n = 0, len = 0;
  int nomem = 0;
  coap_resource_t **list = NULL;
  unsigned char *body = NULL;
  if (filters_parse(&fs, query) < 0)
    nomem = 1;
  else
    list = collect(ctx, &fs, &n, &nomem);
  if (!nomem && n && !(body = print_links(list, n, &len)))
    nomem = 1;
  free(list);
  filters_free(&fs);
  /* The body is the block machinery's from here: it frees it, at once
   * when it fits one message, else once the last block went out. An
   * empty list still needs a pointer to point at. */
  static const uint8_t empty[1];
  if (nomem || !coap_add_data_large_response(
                   NULL, session, request, response, query,
                   COAP_MEDIATYPE_APPLICATION_LINK_FORMAT, -1, 0, len,
                   body ? body : empty, body ? release_body : NULL, body)) {
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return -1;
  }
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  return 0;
}
