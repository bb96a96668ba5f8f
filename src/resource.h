/*
 * resource.h -- resources, their attributes and method handlers (internal).
 *
 * Resources live in the context's hash map keyed by their Uri-Path in the
 * canonical form of uri.h (pt_uri_path_canon()): each Uri-Path option one
 * segment, percent-encoded as RFC 7252 6.5 step 7 says (a '/' inside an
 * option is "%2F"), joined by '/', no leading '/'; "" for the root. It is
 * exactly what coap_get_uri_path() returns for the request, so the router,
 * an unknown-resource handler creating resources and the application all
 * name a resource the same way, and finding the target of a request costs
 * one hash lookup however many resources there are.
 */
#ifndef PT_RESOURCE_H
#define PT_RESOURCE_H

#include "coap3/coap.h"

#include "hashmap.h"
#include "observe.h"
#include "persist.h"

/* Methods with a handler slot: GET, POST, PUT, DELETE, FETCH, PATCH,
 * iPATCH (request codes 1..7). */
#define PT_METHODS 7

struct coap_attr_t {
  coap_attr_t *next;
  coap_str_const_t *name;      /* owned unless COAP_ATTR_FLAGS_RELEASE_NAME unset */
  coap_str_const_t *value;     /* likewise, COAP_ATTR_FLAGS_RELEASE_VALUE */
  int flags;
  /* Petrel always owns name and value: they are copied unless the flags
   * hand them over, and freed with the attribute either way. */
};

/* A handler in either argument order: libcoap's (resource, session, ...) or
 * the seed page's (session, resource, ...). */
typedef struct pt_handler {
  coap_method_handler_t fn;
  coap_seed_method_handler_t seed_fn;
} pt_handler;

struct coap_resource_t {
  coap_context_t *context;     /* NULL until coap_add_resource() */
  pt_hash_node by_path;
  coap_str_const_t *uri_path;
  int flags;                   /* COAP_RESOURCE_FLAGS_* */
  unsigned is_unknown : 1;     /* coap_resource_unknown_init() */
  unsigned is_proxy : 1;       /* coap_resource_proxy_uri_init() */
  unsigned is_dynamic : 1;     /* created by the unknown handler (PUT) */
  unsigned observable : 1;
  unsigned hidden : 1;         /* not listed in .well-known/core */
  /* Whole bytes rather than bits: set and restored around every handler
   * call, where a bit would cost a read-modify-write each time. */
  uint8_t in_call;             /* one of its handlers is running */
  uint8_t delete_pending;      /* deleted from its own handler: freed when
                                  pt_resource_call() returns */
  pt_handler handler[PT_METHODS];
  coap_attr_t *link_attr;
  void *user_data;
  coap_str_const_t **proxy_names;
  size_t proxy_name_count;
  pt_obs_res obs;              /* observers and Observe value (observe.c) */
  pt_persist_res persist;      /* coap_persist(3) (persist.c) */
};

/* The registered resource for a Uri-Path in canonical form, or NULL.
 * @path is borrowed. */
coap_resource_t *pt_resource_find(coap_context_t *ctx, const uint8_t *path,
                                  size_t len);

/*
 * The route cache: the resource that a request whose encoded options (all
 * of them, from after the token to the payload marker) are exactly
 * @opts[0..len) was routed to, or NULL when the last request put there
 * had other options. Requests from one client, or many clients asking
 * for the same thing, repeat their options byte for byte; for them the
 * option walk, the key and the table lookup are skipped. Only a request
 * that the table answered is put, and only one with no unrecognized
 * critical option and no proxy option: its outcome depends on nothing but
 * those bytes and the table, so equal bytes give the same resource while
 * the table is unchanged. (Recognizing options only grows with
 * coap_register_option(), so a cached "all recognized" stays true.) Every
 * change of the table (coap_add_resource(), coap_delete_resource(), context
 * teardown) empties the cache. @opts is borrowed (copied by put); put
 * ignores options longer than PT_ROUTE_CACHE_OPTS.
 */
coap_resource_t *pt_route_cache_get(const coap_context_t *ctx,
                                    const uint8_t *opts, size_t len);
void pt_route_cache_put(coap_context_t *ctx, const uint8_t *opts, size_t len,
                        coap_resource_t *r);

/* 1 if @r has a handler for request code @method (1..7). */
int pt_resource_has_handler(const coap_resource_t *r, coap_pdu_code_t method);

/*
 * 1 if @r's link carries ";obs" (and it passes the "obs" filter of
 * /.well-known/core): the application made it observable and this build
 * can serve observations (pt_observe_available()). The one place that
 * decides it.
 */
int pt_resource_link_obs(const coap_resource_t *r);

/* 1 when this build serves observations (RFC 7641). Defined by the observe
 * module; observe_none.c, the build without it, returns 0. */
int pt_observe_available(void);

/*
 * 1 if @host (@len bytes, borrowed; an IPv6 literal without brackets) is
 * this server according to the proxy resource @proxy's host list (RFC 7252
 * 5.7.2): one of the names, ASCII case ignored, or any host when the list
 * is the single name "". The request is then served locally.
 */
int pt_resource_proxy_is_local(const coap_resource_t *proxy,
                               const uint8_t *host, size_t len);

/* Calls @r's handler for @method in whichever argument order it was
 * registered. Every pointer is borrowed for the call. */
void pt_resource_call(coap_resource_t *r, coap_pdu_code_t method,
                      coap_session_t *session, const coap_pdu_t *request,
                      const coap_string_t *query, coap_pdu_t *response);

/* Seed of the Uri-Path hash (fixed: paths are chosen by the application,
 * not by peers, so there is nothing to salt against). */
#define PT_RESOURCE_HASH_SEED 0x70657472u

/* Frees every resource of @ctx (on context free), calling the release
 * userdata handler for each. */
void pt_resources_free_all(coap_context_t *ctx);

/*
 * Answers GET /.well-known/core in @response: the RFC 6690 link-format
 * description of every listed resource of @ctx that passes the filter in
 * @query (the request's query as coap_get_query() gives it, or NULL):
 * each "&"-separated argument "name=value" (percent-decoded) must match
 * (?rt=, ?if=, ?href= with or without the leading '/', any attribute, a
 * trailing '*' for a prefix). The body goes out through the Block2 server
 * machinery (coap_add_data_large_response()): whole when it fits and no
 * Block2 was asked for, else the asked-for block with ETag and Size2, the
 * rest held for the following block requests. Sets the code (2.05, or
 * 5.00 when out of memory) and Content-Format 40. Returns 0 on success.
 * All pointers borrowed.
 */
int pt_wellknown_respond(coap_context_t *ctx, coap_session_t *session,
                         const coap_pdu_t *request, const coap_string_t *query,
                         coap_pdu_t *response);

#endif /* PT_RESOURCE_H */
