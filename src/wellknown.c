/*
 * wellknown.c -- GET /.well-known/core: the RFC 6690 link-format list of a
 * context's resources, with the query filter of RFC 6690 section 4.1.
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

/* ---- the query filter (RFC 6690 section 4.1) -------------------------------
 *
 * Each Uri-Query option is one filter "name=value"; a link is listed only
 * if it passes all of them. "href" compares with the link's target
 * ("/path"); any other name with the value of that attribute (surrounding
 * double quotes removed). A trailing '*' in the value asks for a prefix
 * match. For the relation-type attributes rt, if and rel, whose values are
 * space-separated lists, matching any one entry is enough.
 */

typedef struct filter {
  const uint8_t *name;
  size_t name_len;
  const uint8_t *pat;
  size_t pat_len;
  int has_value; /* "name=..." rather than a bare "name" */
  int prefix;    /* value ended in '*' */
} filter;

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

static int match_one(const filter *f, const uint8_t *s, size_t n) {
  if (f->prefix)
    return n >= f->pat_len && memcmp(s, f->pat, f->pat_len) == 0;
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
  /* The target is "/" followed by the path; compare without building it. */
  if (f->pat_len == 0)
    return f->prefix; /* "href=*" lists all; "href=" matches nothing */
  if (f->pat[0] != '/')
    return 0;
  filter rest = *f;
  rest.pat++;
  rest.pat_len--;
  return match_one(&rest, r->uri_path->s, r->uri_path->length);
}

static int filter_passes(const filter *f, coap_resource_t *r) {
  if (name_is(f, "href"))
    return f->has_value ? match_href(f, r) : 1;
  coap_str_const_t name = {f->name_len, f->name};
  coap_attr_t *a = coap_find_attr(r, &name);
  if (!a)
    return 0;
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

static int passes_all(const coap_pdu_t *req, coap_resource_t *r) {
  coap_opt_filter_t of;
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  coap_option_filter_clear(&of);
  coap_option_filter_set(&of, COAP_OPTION_URI_QUERY);
  coap_option_iterator_init(req, &it, &of);
  while ((opt = coap_option_next(&it)) != NULL) {
    filter f;
    filter_parse(&f, coap_opt_value(opt), coap_opt_length(opt));
    if (!filter_passes(&f, r))
      return 0;
  }
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

/* The listed resources passing the filter, sorted; *count set. Returns
 * NULL with *count 0 when there are none, or NULL on no memory. */
static coap_resource_t **collect(coap_context_t *ctx, const coap_pdu_t *req,
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
    if (!r->hidden && !r->is_unknown && !r->is_proxy && passes_all(req, r))
      list[n++] = r;
  }
  qsort(list, n, sizeof(*list), by_path);
  *count = n;
  return list;
}

/* Room for the payload of @p pdu: what max_size leaves after the token and
 * options, less the payload marker. */
static size_t payload_room(const coap_pdu_t *pdu) {
  size_t max = pdu->max_size ? pdu->max_size : PT_PDU_MAX_SIZE;
  if (max <= pdu->used_size + 1)
    return 0;
  return max - pdu->used_size - 1;
}

/* Prints the links comma-separated into @p buf. A link that does not fit
 * whole is left out with all that follow: the answer is cut at a link
 * boundary (Block2 will carry the rest once block-wise transfer exists). */
static size_t print_links(coap_resource_t **list, size_t n, unsigned char *buf,
                          size_t cap) {
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    size_t sep = i ? 1 : 0;
    if (pos + sep >= cap)
      break;
    size_t len = cap - pos - sep, offset = 0;
    coap_print_status_t st =
        coap_print_link(list[i], buf + pos + sep, &len, &offset);
    if (st & (COAP_PRINT_STATUS_ERROR | COAP_PRINT_STATUS_TRUNC))
      break;
    if (sep)
      buf[pos] = ',';
    pos += sep + len;
  }
  return pos;
}

int pt_wellknown_respond(coap_context_t *ctx, coap_session_t *session,
                         const coap_pdu_t *request, coap_pdu_t *response) {
  (void)session;
  size_t n;
  int nomem;
  coap_resource_t **list = collect(ctx, request, &n, &nomem);
  unsigned char *buf = NULL;
  size_t room = payload_room(response), len = 0;
  /* Content-Format (3 bytes at most) goes in before the payload. */
  room = room > 3 ? room - 3 : 0;
  if (nomem || (n && room && !(buf = malloc(room)))) {
    free(list);
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return -1;
  }
  if (n && room)
    len = print_links(list, n, buf, room);
  free(list);
  uint8_t cf[4];
  unsigned cflen = coap_encode_var_safe(cf, sizeof(cf),
                                        COAP_MEDIATYPE_APPLICATION_LINK_FORMAT);
  int ok = coap_add_option(response, COAP_OPTION_CONTENT_FORMAT, cflen, cf) &&
           coap_add_data(response, len, buf);
  free(buf);
  coap_pdu_set_code(response, ok ? COAP_RESPONSE_CODE_CONTENT
                                 : COAP_RESPONSE_CODE_INTERNAL_ERROR);
  return ok ? 0 : -1;
}
