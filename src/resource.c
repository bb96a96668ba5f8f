/*
 * resource.c -- server resources: creation, the context's table of them,
 * method handlers, link attributes and the RFC 6690 link of one resource.
 *
 * Ownership: a resource always owns its Uri-Path, its attributes' names and
 * values, and its proxy host names, whatever the flags said at creation
 * (the flags only decide whether we copied or were handed the string).
 * Hence freeing never looks at those flags.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "resource.h"
#include "uri.h"

/* Paths of the two resources that live outside the table; they only show
 * up in logs and in coap_resource_get_uri_path(). */
#define UNKNOWN_PATH "(unknown resource)"
#define PROXY_PATH "(proxy resource)"

/* ---- lookup ------------------------------------------------------------- */

static uint32_t path_hash(const uint8_t *s, size_t len) {
  return pt_hash_key(s, len, PT_RESOURCE_HASH_SEED);
}

/* The chain is walked here rather than through pt_hashmap_find() so that
 * the key comparison is inlined: this runs for every request. */
coap_resource_t *pt_resource_find(coap_context_t *ctx, const uint8_t *path,
                                  size_t len) {
  if (!ctx || (!path && len))
    return NULL;
  uint32_t h = path_hash(path, len);
  for (pt_hash_node *n = pt_hashmap_chain(&ctx->resources, h); n; n = n->next) {
    coap_resource_t *r = PT_CONTAINER_OF(n, coap_resource_t, by_path);
    if (n->hash == h && r->uri_path->length == len &&
        pt_bytes_equal(r->uri_path->s, path, len))
      return r;
  }
  return NULL;
}

coap_resource_t *pt_route_cache_get(const coap_context_t *ctx,
                                    const uint8_t *opts, size_t len) {
  if (ctx->route_cache.len != len || !ctx->route_cache.r ||
      !pt_bytes_equal(ctx->route_cache.opts, opts, len))
    return NULL;
  return ctx->route_cache.r;
}

void pt_route_cache_put(coap_context_t *ctx, const uint8_t *opts, size_t len,
                        coap_resource_t *r) {
  if (len > sizeof(ctx->route_cache.opts))
    return;
  if (len)
    memcpy(ctx->route_cache.opts, opts, len);
  ctx->route_cache.len = len;
  ctx->route_cache.r = r;
}

static void route_cache_clear(coap_context_t *ctx) {
  ctx->route_cache.r = NULL;
  ctx->route_cache.len = 0;
}

/* One leading '/' is not part of a resource's path. */
static void strip_slash(const uint8_t **s, size_t *len) {
  if (*len > 0 && (*s)[0] == '/') {
    (*s)++;
    (*len)--;
  }
}

coap_resource_t *coap_get_resource_from_uri_path(coap_context_t *context,
                                                 coap_str_const_t *uri_path) {
  if (!uri_path)
    return pt_resource_find(context, (const uint8_t *)"", 0);
  const uint8_t *s = uri_path->s;
  size_t len = uri_path->length;
  if (len && !s)
    return NULL;
  strip_slash(&s, &len);
  /* Resources are keyed by the canonical form (uri.h); bring the given
   * path to it, on the stack when it is short. */
  uint8_t stack[256], *key = stack;
  size_t n = pt_uri_path_canon(s, len, NULL);
  if (n > sizeof(stack) && !(key = malloc(n)))
    return NULL;
  pt_uri_path_canon(s, len, key);
  coap_resource_t *r = pt_resource_find(context, key, n);
  if (key != stack)
    free(key);
  return r;
}

/* ---- creation ------------------------------------------------------------ */

static coap_resource_t *resource_new(coap_str_const_t *owned_path, int flags) {
  coap_resource_t *r = calloc(1, sizeof(*r));
  if (!r) {
    coap_delete_str_const(owned_path);
    return NULL;
  }
  pt_hash_node_init(&r->by_path);
  r->uri_path = owned_path;
  r->flags = flags;
  return r;
}

/* The path the resource keeps: the canonical form (uri.h) of @p given
 * without one leading '/', copied, or @p given itself when it is handed
 * over and is already in that form. A handed-over @p given is freed
 * otherwise, even on failure. */
static coap_str_const_t *owned_path(coap_str_const_t *given, int release) {
  const uint8_t *s = given ? given->s : (const uint8_t *)"";
  size_t len = given ? given->length : 0;
  coap_str_const_t *copy = NULL;
  uint8_t *canon = NULL;
  if (len && !s)
    goto done;
  strip_slash(&s, &len);
  size_t n = pt_uri_path_canon(s, len, NULL);
  if (!(canon = malloc(n ? n : 1)))
    goto done;
  pt_uri_path_canon(s, len, canon);
  if (release && given && s == given->s && n == len &&
      (n == 0 || memcmp(canon, s, n) == 0)) {
    free(canon);
    return given;
  }
  copy = coap_new_str_const(canon, n);
done:
  free(canon);
  if (release)
    coap_delete_str_const(given);
  return copy;
}

coap_resource_t *coap_resource_init(coap_str_const_t *uri_path, int flags) {
  int release = (flags & COAP_RESOURCE_FLAGS_RELEASE_URI) != 0;
  coap_str_const_t *path = owned_path(uri_path, release);
  if (!path)
    return NULL;
  return resource_new(path, flags);
}

static coap_resource_t *special_new(const char *label, int flags) {
  coap_str_const_t *path =
      coap_new_str_const((const uint8_t *)label, strlen(label));
  return path ? resource_new(path, flags) : NULL;
}

coap_resource_t *coap_resource_unknown_init2(coap_method_handler_t put_handler,
                                             int flags) {
  coap_resource_t *r =
      special_new(UNKNOWN_PATH, flags & (COAP_RESOURCE_FLAGS_MCAST_LIST |
                                         COAP_RESOURCE_HANDLE_WELLKNOWN_CORE));
  if (!r)
    return NULL;
  r->is_unknown = 1;
  r->handler[COAP_REQUEST_PUT - 1].fn = put_handler;
  return r;
}

coap_resource_t *coap_resource_unknown_init(coap_method_handler_t put_handler) {
  return coap_resource_unknown_init2(put_handler, 0);
}

static void free_proxy_names(coap_resource_t *r) {
  for (size_t i = 0; i < r->proxy_name_count; i++)
    coap_delete_str_const(r->proxy_names[i]);
  free(r->proxy_names);
  r->proxy_names = NULL;
  r->proxy_name_count = 0;
}

static void resource_free(coap_resource_t *r);

coap_resource_t *coap_resource_proxy_uri_init2(coap_method_handler_t handler,
                                               size_t host_name_count,
                                               const char *host_name_list[],
                                               int flags) {
  if (host_name_count == 0 || !host_name_list) {
    coap_log_err("coap_resource_proxy_uri_init: no host names given\n");
    return NULL;
  }
  coap_resource_t *r =
      special_new(PROXY_PATH, flags & COAP_RESOURCE_FLAGS_MCAST_LIST);
  if (!r)
    return NULL;
  r->is_proxy = 1;
  for (size_t m = 0; m < PT_METHODS; m++)
    r->handler[m].fn = handler;
  r->proxy_names = calloc(host_name_count, sizeof(*r->proxy_names));
  if (!r->proxy_names) {
    resource_free(r);
    return NULL;
  }
  for (size_t i = 0; i < host_name_count; i++) {
    const char *name = host_name_list[i] ? host_name_list[i] : "";
    r->proxy_names[i] = coap_new_str_const((const uint8_t *)name, strlen(name));
    if (!r->proxy_names[i]) {
      resource_free(r);
      return NULL;
    }
    r->proxy_name_count = i + 1;
  }
  return r;
}

static uint8_t lower(uint8_t c) {
  return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* @p name (a host-list entry, maybe an IPv6 literal in brackets) equals
 * the host @p host, ASCII case ignored (RFC 3986 3.2.2). */
static int host_is(const coap_str_const_t *name, const uint8_t *host,
                   size_t len) {
  const uint8_t *n = name->s;
  size_t nlen = name->length;
  if (nlen >= 2 && n[0] == '[' && n[nlen - 1] == ']') {
    n++;
    nlen -= 2;
  }
  if (nlen != len)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (lower(n[i]) != lower(host[i]))
      return 0;
  return 1;
}

int pt_resource_proxy_is_local(const coap_resource_t *proxy,
                               const uint8_t *host, size_t len) {
  if (!proxy || !host || len == 0)
    return 0;
  if (proxy->proxy_name_count == 1 && proxy->proxy_names[0]->length == 0)
    return 1; /* "" stands for whatever name the request used */
  for (size_t i = 0; i < proxy->proxy_name_count; i++)
    if (host_is(proxy->proxy_names[i], host, len))
      return 1;
  return 0;
}

coap_resource_t *coap_resource_proxy_uri_init(coap_method_handler_t handler,
                                              size_t host_name_count,
                                              const char *host_name_list[]) {
  return coap_resource_proxy_uri_init2(handler, host_name_count, host_name_list,
                                       0);
}

/* ---- the context's table --------------------------------------------------
 */

static void attr_free(coap_attr_t *a) {
  coap_delete_str_const(a->name);
  coap_delete_str_const(a->value);
  free(a);
}

/* Frees a resource that is in no table and no context slot; its observers
 * get a final 4.04 first. */
static void resource_free(coap_resource_t *r) {
  pt_observe_resource_deleted(r);
  pt_persist_resource_freed(r);
  if (r->context && r->context->release_userdata && r->user_data)
    r->context->release_userdata(r->user_data);
  while (r->link_attr) {
    coap_attr_t *next = r->link_attr->next;
    attr_free(r->link_attr);
    r->link_attr = next;
  }
  free_proxy_names(r);
  coap_delete_str_const(r->uri_path);
  free(r);
}

static int is_wellknown(const coap_resource_t *r) {
  return r->uri_path->length == 16 &&
         memcmp(r->uri_path->s, ".well-known/core", 16) == 0;
}

/* Takes @p r out of its context's table or slot; it stays attached to the
 * context (for the release handler) until freed. */
static void resource_unlink(coap_resource_t *r) {
  coap_context_t *ctx = r->context;
  if (!ctx)
    return;
  if (ctx->unknown_resource == r)
    ctx->unknown_resource = NULL;
  else if (ctx->proxy_resource == r)
    ctx->proxy_resource = NULL;
  else if (pt_hashmap_contains(&r->by_path)) {
    pt_hashmap_remove(&ctx->resources, &r->by_path);
    route_cache_clear(ctx);
    if (is_wellknown(r))
      ctx->have_wellknown = 0;
  }
}

int coap_delete_resource(coap_context_t *context, coap_resource_t *resource) {
  (void)context; /* libcoap ignores it too: the resource knows its own */
  if (!resource)
    return 0;
  if (resource->delete_pending)
    return 0; /* already deleted, waiting for its handler to return */
  resource_unlink(resource);
  if (resource->in_call) {
    resource->delete_pending = 1;
    return 1;
  }
  resource_free(resource);
  return 1;
}

/* Puts @p r in a context slot, deleting whatever was there. */
static void set_slot(coap_resource_t **slot, coap_resource_t *r) {
  if (*slot)
    coap_delete_resource(NULL, *slot);
  *slot = r;
}

void coap_add_resource(coap_context_t *context, coap_resource_t *resource) {
  if (!context || !resource)
    return;
  if (resource->context) {
    coap_log_warn("coap_add_resource: resource already added\n");
    return;
  }
  if (resource->is_unknown) {
    set_slot(&context->unknown_resource, resource);
  } else if (resource->is_proxy) {
    set_slot(&context->proxy_resource, resource);
  } else {
    /* The path is already in key form (owned_path()). */
    coap_resource_t *old = pt_resource_find(context, resource->uri_path->s,
                                            resource->uri_path->length);
    if (old) {
      coap_log_warn("coap_add_resource: duplicate path '%.*s', old one "
                    "deleted\n",
                    (int)old->uri_path->length, (const char *)old->uri_path->s);
      coap_delete_resource(context, old);
    }
    route_cache_clear(context); /* any change of the table empties it */
    uint32_t h = path_hash(resource->uri_path->s, resource->uri_path->length);
    if (pt_hashmap_insert(&context->resources, &resource->by_path, h) < 0) {
      /* No memory for even one bucket: the resource is ours now, so free
       * it rather than leak it (the API has no way to report failure). */
      coap_log_err("coap_add_resource: out of memory\n");
      resource_free(resource);
      return;
    }
    if (is_wellknown(resource))
      context->have_wellknown = 1;
  }
  resource->context = context;
  pt_persist_resource_added(resource); /* made by the unknown handler? */
}

void pt_resources_free_all(coap_context_t *ctx) {
  pt_hashmap_iter it;
  pt_hash_node *n;
  pt_hashmap_iter_init(&it, &ctx->resources);
  while ((n = pt_hashmap_iter_next(&it)) != NULL) {
    coap_resource_t *r = PT_CONTAINER_OF(n, coap_resource_t, by_path);
    pt_hashmap_remove(&ctx->resources, n);
    resource_free(r);
  }
  ctx->have_wellknown = 0;
  route_cache_clear(ctx);
  if (ctx->unknown_resource)
    coap_delete_resource(ctx, ctx->unknown_resource);
  if (ctx->proxy_resource)
    coap_delete_resource(ctx, ctx->proxy_resource);
}

/* ---- simple accessors ------------------------------------------------------
 */

coap_str_const_t *coap_resource_get_uri_path(coap_resource_t *resource) {
  return resource ? resource->uri_path : NULL;
}

void coap_resource_set_mode(coap_resource_t *resource, int mode) {
  if (!resource)
    return;
  int notify =
      COAP_RESOURCE_FLAGS_NOTIFY_CON | COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS;
  resource->flags = (resource->flags & ~notify) | (mode & notify);
}

void coap_resource_set_userdata(coap_resource_t *resource, void *data) {
  if (resource)
    resource->user_data = data;
}

void *coap_resource_get_userdata(coap_resource_t *resource) {
  return resource ? resource->user_data : NULL;
}

void coap_resource_release_userdata_handler(
    coap_context_t *context,
    coap_resource_release_userdata_handler_t callback) {
  if (context)
    context->release_userdata = callback;
}

void coap_resource_set_get_observable(coap_resource_t *resource, int mode) {
  if (resource)
    resource->observable = mode ? 1 : 0;
}

int pt_resource_link_obs(const coap_resource_t *r) {
  return r && r->observable && pt_observe_available();
}

/* ---- handlers --------------------------------------------------------------
 */

static pt_handler *handler_slot(coap_resource_t *r, coap_request_t method) {
  if (!r || method < 1 || method > PT_METHODS) {
    coap_log_warn("coap_register_request_handler: bad method %d\n",
                  (int)method);
    return NULL;
  }
  return &r->handler[method - 1];
}

void(coap_register_request_handler)(coap_resource_t *resource,
                                    coap_request_t method,
                                    coap_method_handler_t handler) {
  pt_handler *h = handler_slot(resource, method);
  if (h) {
    h->fn = handler;
    h->seed_fn = NULL;
  }
}

void(coap_register_handler)(coap_resource_t *resource, coap_request_t method,
                            coap_method_handler_t handler) {
  (coap_register_request_handler)(resource, method, handler);
}

void coap_register_handler_seed_order(coap_resource_t *resource,
                                      coap_request_t method,
                                      coap_seed_method_handler_t handler) {
  pt_handler *h = handler_slot(resource, method);
  if (h) {
    h->seed_fn = handler;
    h->fn = NULL;
  }
}

int pt_resource_has_handler(const coap_resource_t *r, coap_pdu_code_t method) {
  if (!r || method < 1 || method > PT_METHODS)
    return 0;
  const pt_handler *h = &r->handler[method - 1];
  return h->fn != NULL || h->seed_fn != NULL;
}

/* Calls handler @h in whichever argument order it was registered. */
static void run_handler(const pt_handler *h, coap_resource_t *r,
                        coap_session_t *session, const coap_pdu_t *request,
                        const coap_string_t *query, coap_pdu_t *response) {
  if (h->fn)
    h->fn(r, session, request, query, response);
  else
    /* The seed shape declares request and query without const; the
     * header documents that the handler must not change them. */
    h->seed_fn(session, r, (coap_pdu_t *)request, (coap_string_t *)query,
               response);
}

/* The unknown resource's handler: what it adds is a dynamic resource
 * (persist.c), so the request is made known around the call. */
static void run_unknown(const pt_handler *h, coap_resource_t *r,
                        coap_session_t *session, const coap_pdu_t *request,
                        const coap_string_t *query, coap_pdu_t *response) {
  coap_context_t *ctx = r->context;
  coap_session_t *old_s = NULL;
  const coap_pdu_t *old_req = NULL;
  if (ctx)
    pt_persist_unknown_begin(ctx, session, request, &old_s, &old_req);
  run_handler(h, r, session, request, query, response);
  if (ctx)
    pt_persist_unknown_end(ctx, old_s, old_req);
}

void pt_resource_call(coap_resource_t *r, coap_pdu_code_t method,
                      coap_session_t *session, const coap_pdu_t *request,
                      const coap_string_t *query, coap_pdu_t *response) {
  if (!pt_resource_has_handler(r, method))
    return;
  const pt_handler *h = &r->handler[method - 1];
  uint8_t outer = r->in_call; /* a handler may run a nested request */
  r->in_call = 1;
  if (r->is_unknown)
    run_unknown(h, r, session, request, query, response);
  else
    run_handler(h, r, session, request, query, response);
  r->in_call = outer;
  if (!outer && r->delete_pending)
    resource_free(r);
}

/* ---- attributes ------------------------------------------------------------
 */

coap_attr_t *coap_add_attr(coap_resource_t *resource, coap_str_const_t *name,
                           coap_str_const_t *value, int flags) {
  int own_name = (flags & COAP_ATTR_FLAGS_RELEASE_NAME) != 0;
  int own_value = (flags & COAP_ATTR_FLAGS_RELEASE_VALUE) != 0;
  coap_attr_t *a = NULL;
  if (!resource || !name)
    goto fail;
  a = calloc(1, sizeof(*a));
  if (!a)
    goto fail;
  a->flags = flags;
  a->name = own_name ? name : coap_new_str_const(name->s, name->length);
  own_name = 0; /* from here on a->name holds it */
  if (!a->name)
    goto fail;
  if (value) {
    a->value = own_value ? value : coap_new_str_const(value->s, value->length);
    own_value = 0;
    if (!a->value)
      goto fail;
  }
  /* Appended, so links list attributes in the order they were added.
   * O(attributes of this resource), a handful. */
  coap_attr_t **tail = &resource->link_attr;
  while (*tail)
    tail = &(*tail)->next;
  *tail = a;
  return a;
fail:
  /* Strings handed over are ours even when we fail. */
  if (own_name)
    coap_delete_str_const(name);
  if (own_value)
    coap_delete_str_const(value);
  if (a)
    attr_free(a);
  return NULL;
}

coap_attr_t *coap_find_attr(coap_resource_t *resource, coap_str_const_t *name) {
  if (!resource || !name)
    return NULL;
  for (coap_attr_t *a = resource->link_attr; a; a = a->next) {
    if (a->name->length == name->length &&
        (name->length == 0 || memcmp(a->name->s, name->s, name->length) == 0))
      return a;
  }
  return NULL;
}

coap_str_const_t *coap_attr_get_value(coap_attr_t *attribute) {
  return attribute ? attribute->value : NULL;
}

/* ---- one link (RFC 6690 section 2) -----------------------------------------
 */

/* Output with the first `skip` characters dropped (for Block2 offsets). */
typedef struct link_out {
  unsigned char *buf;
  size_t cap;
  size_t pos;   /* characters written */
  size_t skip;  /* characters still to drop */
  size_t total; /* characters of the whole description */
  int trunc;    /* a character did not fit */
} link_out;

static void out_bytes(link_out *o, const uint8_t *s, size_t n) {
  o->total += n;
  size_t drop = n < o->skip ? n : o->skip;
  o->skip -= drop;
  s += drop;
  n -= drop;
  size_t room = o->cap - o->pos;
  if (n > room) {
    n = room;
    o->trunc = 1;
  }
  if (n)
    memcpy(o->buf + o->pos, s, n);
  o->pos += n;
}

static void out_str(link_out *o, const char *s) {
  out_bytes(o, (const uint8_t *)s, strlen(s));
}

coap_print_status_t coap_print_link(const coap_resource_t *resource,
                                    unsigned char *buf, size_t *len,
                                    size_t *offset) {
  if (!resource || !len || !offset || (!buf && *len))
    return COAP_PRINT_STATUS_ERROR;
  link_out o = {buf, *len, 0, *offset, 0, 0};
  out_str(&o, "</");
  out_bytes(&o, resource->uri_path->s, resource->uri_path->length);
  out_str(&o, ">");
  for (const coap_attr_t *a = resource->link_attr; a; a = a->next) {
    out_str(&o, ";");
    out_bytes(&o, a->name->s, a->name->length);
    if (a->value && a->value->s) {
      out_str(&o, "=");
      out_bytes(&o, a->value->s, a->value->length);
    }
  }
  if (pt_resource_link_obs(resource))
    out_str(&o, ";obs");
  *offset = o.skip;
  *len = o.total; /* the header's contract: the whole description */
  if (o.pos > COAP_PRINT_STATUS_MAX)
    return COAP_PRINT_STATUS_ERROR;
  return (coap_print_status_t)o.pos | (o.trunc ? COAP_PRINT_STATUS_TRUNC : 0);
}
