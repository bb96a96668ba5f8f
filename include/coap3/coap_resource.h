/*
 * coap_resource.h -- server resources, their handlers and attributes.
 *
 * Threads: call these from the loop thread of the context (the one running
 * coap_io_process()), or before the loop starts. Handlers run on the loop
 * thread.
 *
 * Ownership: a resource created by coap_resource_init() (or the *_init*
 * variants) belongs to the caller until coap_add_resource() transfers it to
 * a context; from then on the context frees it (coap_delete_resource() or
 * coap_free_context()).
 */
#ifndef COAP_RESOURCE_H_
#define COAP_RESOURCE_H_

#include <stddef.h>
#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_str.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Seconds between checks for resources marked dirty. */
#ifndef COAP_RESOURCE_CHECK_TIME
#define COAP_RESOURCE_CHECK_TIME 2
#endif

/**
 * A request handler, libcoap's form: resource first, then session.
 *
 * @param resource The resource addressed (borrowed).
 * @param session  The session the request came on (borrowed for the call).
 * @param request  The request (borrowed for the call; read only).
 * @param query    The request's Uri-Query options joined with '&', or NULL
 *                 if none (borrowed for the call).
 * @param response A response prepared by the library with the request's
 *                 token (borrowed; fill it in). Leaving its code at 0
 *                 (and adding nothing) means "no response now": an empty
 *                 ACK is sent for a CON, nothing for a NON.
 */
typedef void (*coap_method_handler_t)(coap_resource_t *resource,
                                      coap_session_t *session,
                                      const coap_pdu_t *request,
                                      const coap_string_t *query,
                                      coap_pdu_t *response);

/**
 * A request handler in the argument order of the libcoap 4.3.4 coap_async
 * man page example: session first, then resource, and request and query
 * without const. Petrel accepts it in coap_register_handler() and
 * coap_register_request_handler() (via coap_register_handler_seed_order())
 * and calls it with the arguments in this order. The request PDU is the
 * library's; the handler may read it and must not keep it past the call.
 */
typedef void (*coap_seed_method_handler_t)(coap_session_t *session,
                                           coap_resource_t *resource,
                                           coap_pdu_t *request,
                                           coap_string_t *query,
                                           coap_pdu_t *response);

/** coap_add_attr(): free the name when the attribute is deleted. */
#define COAP_ATTR_FLAGS_RELEASE_NAME 0x1
/** coap_add_attr(): free the value when the attribute is deleted. */
#define COAP_ATTR_FLAGS_RELEASE_VALUE 0x2

/** coap_resource_init(): free the URI path when the resource is deleted. */
#define COAP_RESOURCE_FLAGS_RELEASE_URI 0x1
/** Notifications are NON, with every fifth one CON (RFC 7641 4.5). */
#define COAP_RESOURCE_FLAGS_NOTIFY_NON 0x0
/** Notifications are CON. */
#define COAP_RESOURCE_FLAGS_NOTIFY_CON 0x2
/** Notifications are always NON (RFC 8782 signal channel; against RFC 7641). */
#define COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS 0x4
/** Accept multicast requests (checked when coap_mcast_per_resource() is on). */
#define COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT 0x8
/** Do not delay multicast responses in the library; the app does it. */
#define COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS 0x10
/** Suppress empty 2.05 responses to multicast requests. */
#define COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_05 0x20
/** Suppress all 2.xx responses to multicast requests. */
#define COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_XX 0x40
/** Do not suppress 4.xx responses to multicast requests. */
#define COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_SUPPRESS_4_XX 0x80
/** Do not suppress 5.xx responses to multicast requests. */
#define COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_SUPPRESS_5_XX 0x100
/** All the multicast flags above. */
#define COAP_RESOURCE_FLAGS_MCAST_LIST                                         \
  (COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |                                     \
   COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS |                                  \
   COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_05 |                           \
   COAP_RESOURCE_FLAGS_LIB_ENA_MCAST_SUPPRESS_2_XX |                           \
   COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_SUPPRESS_4_XX |                           \
   COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_SUPPRESS_5_XX)
/** Reassemble block-wise requests and hand the handler one whole body. */
#define COAP_RESOURCE_FLAGS_FORCE_SINGLE_BODY 0x200
/** Only accept requests protected by OSCORE. */
#define COAP_RESOURCE_FLAGS_OSCORE_ONLY 0x400
/** coap_resource_unknown_init2(): pass .well-known/core to the handler. */
#define COAP_RESOURCE_HANDLE_WELLKNOWN_CORE 0x800

/**
 * Creates a resource for @p uri_path (no leading '/', e.g. "a/b").
 * @param uri_path The path: copied (so coap_make_str_const() results are
 *                 fine), or, with COAP_RESOURCE_FLAGS_RELEASE_URI,
 *                 transferred (then freed with coap_delete_str_const() when
 *                 the resource is, or at once if creation fails).
 * @param flags    COAP_RESOURCE_FLAGS_* ored together.
 * @return A new resource owned by the caller until coap_add_resource(),
 *         or NULL on failure.
 */
COAP_API coap_resource_t *coap_resource_init(coap_str_const_t *uri_path, int flags);

/**
 * Creates the "unknown resource": it receives requests for paths no other
 * resource matches (typically to create resources with PUT). One per
 * context; adding another replaces it. It cannot be observed.
 * @param put_handler Handler for PUT, or NULL; add others with
 *                    coap_register_request_handler().
 * @return A new resource owned by the caller until coap_add_resource(),
 *         or NULL.
 */
COAP_API coap_resource_t *coap_resource_unknown_init(coap_method_handler_t put_handler);

/**
 * As coap_resource_unknown_init(), with multicast handling flags.
 * @param put_handler Handler for PUT, or NULL.
 * @param flags       COAP_RESOURCE_FLAGS_*MCAST* and/or
 *                    COAP_RESOURCE_HANDLE_WELLKNOWN_CORE.
 * @return A new resource owned by the caller until coap_add_resource(),
 *         or NULL.
 */
COAP_API coap_resource_t *coap_resource_unknown_init2(coap_method_handler_t put_handler,
                                                      int flags);

/**
 * Creates the proxy resource: it receives every request carrying
 * Proxy-Uri or Proxy-Scheme that is not addressed to one of our own names.
 * One per context.
 * @param handler         Handler for all methods.
 * @param host_name_count Entries in @p host_name_list (at least 1).
 * @param host_name_list  Names this server is known by (copied).
 * @return A new resource owned by the caller until coap_add_resource(),
 *         or NULL.
 */
COAP_API coap_resource_t *coap_resource_proxy_uri_init(coap_method_handler_t handler,
                                                       size_t host_name_count,
                                                       const char *host_name_list[]);

/**
 * As coap_resource_proxy_uri_init(), with multicast handling flags.
 * @param handler         Handler for all methods.
 * @param host_name_count Entries in @p host_name_list (at least 1).
 * @param host_name_list  Names this server is known by (copied).
 * @param flags           COAP_RESOURCE_FLAGS_*MCAST*.
 * @return A new resource owned by the caller until coap_add_resource(),
 *         or NULL.
 */
COAP_API coap_resource_t *coap_resource_proxy_uri_init2(coap_method_handler_t handler,
                                                        size_t host_name_count,
                                                        const char *host_name_list[],
                                                        int flags);

/**
 * Finds the resource registered for @p uri_path.
 * @param context  The context (borrowed).
 * @param uri_path The path (borrowed), as given to coap_resource_init().
 * @return The resource (borrowed; owned by the context), or NULL.
 */
COAP_API coap_resource_t *coap_get_resource_from_uri_path(coap_context_t *context,
                                                          coap_str_const_t *uri_path);

/**
 * @param resource The resource (borrowed).
 * @return Its path (borrowed; valid while the resource lives), or NULL.
 */
COAP_API coap_str_const_t *coap_resource_get_uri_path(coap_resource_t *resource);

/**
 * Sets whether the resource's notifications are sent CON or NON.
 * @param resource The resource (borrowed).
 * @param mode     COAP_RESOURCE_FLAGS_NOTIFY_NON, _NOTIFY_CON or
 *                 _NOTIFY_NON_ALWAYS.
 */
COAP_API void coap_resource_set_mode(coap_resource_t *resource, int mode);

/**
 * Stores an application pointer in @p resource.
 * @param resource The resource (borrowed).
 * @param data     Stored as is; the application keeps ownership (see
 *                 coap_resource_release_userdata_handler()).
 */
COAP_API void coap_resource_set_userdata(coap_resource_t *resource, void *data);

/**
 * @param resource The resource (borrowed).
 * @return The pointer stored with coap_resource_set_userdata(), or NULL.
 */
COAP_API void *coap_resource_get_userdata(coap_resource_t *resource);

/** Releases a resource's user data when the resource is deleted. */
typedef void (*coap_resource_release_userdata_handler_t)(void *user_data);

/**
 * Sets the function called with each resource's user data when the
 * resource is deleted (for all resources of @p context).
 * @param context  The context (borrowed).
 * @param callback The function, or NULL for none.
 */
COAP_API void coap_resource_release_userdata_handler(
    coap_context_t *context, coap_resource_release_userdata_handler_t callback);

/**
 * Adds @p resource to @p context. A resource with the same path is
 * deleted and replaced.
 * @param context  The context (borrowed).
 * @param resource The resource; ownership is TRANSFERRED to the context.
 */
COAP_API void coap_add_resource(coap_context_t *context, coap_resource_t *resource);

/**
 * Removes @p resource from its context and frees it; its observers get a
 * final 4.04 notification. May be called from that resource's own
 * handler: the free is then deferred until the handler returns.
 * @param context  Ignored (libcoap compatibility); may be NULL.
 * @param resource The resource; not usable afterwards.
 * @return 1 if found and deleted, 0 otherwise.
 */
COAP_API int coap_delete_resource(coap_context_t *context, coap_resource_t *resource);

/* ---- Handler registration ----
 *
 * Two handler shapes are accepted: libcoap's coap_method_handler_t and the
 * seed example's coap_seed_method_handler_t. In C11 the names
 * coap_register_handler and coap_register_request_handler are also macros
 * that pick the right function from the handler's type with _Generic, so a
 * handler of any other type does not compile (instead of being called
 * with its arguments swapped). The real functions keep libcoap's exact
 * prototypes and are exported: take their address, or bypass the macro,
 * by writing the name in parentheses, e.g. (coap_register_handler)(r, m, h).
 * The library defines them the same way: void (coap_register_handler)(...).
 */

/**
 * Registers @p handler for requests with @p method on @p resource,
 * replacing any earlier one.
 * @param resource The resource (borrowed).
 * @param method   The request method (COAP_REQUEST_GET, ...).
 * @param handler  The handler, or NULL to remove it (the method then gets
 *                 4.05 Method Not Allowed).
 * @deprecated Same as coap_register_request_handler().
 */
COAP_API void coap_register_handler(coap_resource_t *resource, coap_request_t method,
                                    coap_method_handler_t handler);

/**
 * Registers @p handler for requests with @p method on @p resource,
 * replacing any earlier one (of either shape).
 * @param resource The resource (borrowed).
 * @param method   The request method (COAP_REQUEST_GET, ...).
 * @param handler  The handler, or NULL to remove it.
 */
COAP_API void coap_register_request_handler(coap_resource_t *resource,
                                            coap_request_t method,
                                            coap_method_handler_t handler);

/**
 * Registers a handler of the seed example's shape (session first) for
 * @p method on @p resource, replacing any earlier one. The library calls
 * it as handler(session, resource, request, query, response), with the
 * same meaning and ownership of each argument as for
 * coap_method_handler_t. Normally reached through the
 * coap_register_handler() / coap_register_request_handler() macros.
 * @param resource The resource (borrowed).
 * @param method   The request method.
 * @param handler  The handler, or NULL to remove it.
 */
COAP_API void coap_register_handler_seed_order(coap_resource_t *resource,
                                               coap_request_t method,
                                               coap_seed_method_handler_t handler);

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
/*
 * No default association: any other handler type is a compile error.
 * void * admits NULL (to remove a handler). A bare 0 is an int and is
 * refused, since an int association would also let any non-zero int
 * through with only a warning; write NULL instead.
 */
#define PETREL_REGISTER_HANDLER_PICK_(libcoap_fn, handler)                     \
  _Generic((handler),                                                          \
      coap_method_handler_t: libcoap_fn,                                       \
      coap_seed_method_handler_t: coap_register_handler_seed_order,            \
      void *: libcoap_fn)
#define coap_register_handler(resource, method, handler)                       \
  PETREL_REGISTER_HANDLER_PICK_((coap_register_handler), handler)              \
  (resource, method, handler)
#define coap_register_request_handler(resource, method, handler)               \
  PETREL_REGISTER_HANDLER_PICK_((coap_register_request_handler), handler)      \
  (resource, method, handler)
#endif

/* ---- Attributes (RFC 6690 link format) ---- */

/**
 * Adds an attribute shown in /.well-known/core for @p resource.
 * @param resource The resource (borrowed).
 * @param name     Attribute name: copied, or transferred with
 *                 COAP_ATTR_FLAGS_RELEASE_NAME.
 * @param value    Attribute value or NULL: copied, or transferred with
 *                 COAP_ATTR_FLAGS_RELEASE_VALUE.
 * @param flags    COAP_ATTR_FLAGS_* ored together.
 * @return The attribute (owned by the resource), or NULL on failure.
 */
COAP_API coap_attr_t *coap_add_attr(coap_resource_t *resource, coap_str_const_t *name,
                                    coap_str_const_t *value, int flags);

/**
 * Finds the first attribute of @p resource called @p name.
 * @param resource The resource (borrowed).
 * @param name     The name (borrowed).
 * @return The attribute (borrowed), or NULL.
 */
COAP_API coap_attr_t *coap_find_attr(coap_resource_t *resource, coap_str_const_t *name);

/**
 * @param attribute The attribute (borrowed).
 * @return Its value (borrowed), or NULL if it has none.
 */
COAP_API coap_str_const_t *coap_attr_get_value(coap_attr_t *attribute);

/**
 * Result of coap_print_link(): the low 28 bits hold the number of
 * characters written; the top bits are status flags.
 */
typedef uint32_t coap_print_status_t;

#define COAP_PRINT_STATUS_MASK 0xF0000000UL  /**< status bits */
#define COAP_PRINT_STATUS_MAX 0x0FFFFFFFUL   /**< length bits */
#define COAP_PRINT_OUTPUT_LENGTH(v) ((v) & COAP_PRINT_STATUS_MAX)
#define COAP_PRINT_STATUS_ERROR 0x80000000UL /**< failed; length undefined */
#define COAP_PRINT_STATUS_TRUNC 0x40000000UL /**< output was cut short */

/**
 * Writes the link-format description of @p resource into @p buf, starting
 * @p *offset characters into the description (for Block2).
 * @param resource The resource (borrowed).
 * @param buf      Output buffer (not NUL-terminated).
 * @param len      In: size of @p buf. Out: characters written.
 * @param offset   In: characters to skip. Out: decreased by those skipped.
 * @return Characters written, possibly with COAP_PRINT_STATUS_TRUNC, or
 *         COAP_PRINT_STATUS_ERROR.
 */
COAP_API coap_print_status_t coap_print_link(const coap_resource_t *resource,
                                             unsigned char *buf, size_t *len,
                                             size_t *offset);

/* ---- Observe (RFC 7641) ---- */

/**
 * Schedules a notification to every observer of @p resource (to those
 * whose request had query @p query, if not NULL). The notifications are
 * produced by calling the GET handler from the loop.
 * @param resource The resource (borrowed).
 * @param query    Query to match (borrowed for the call), or NULL for all.
 * @return 1 if the resource is observable and a notification was
 *         scheduled, 0 otherwise.
 * Not available in this build (no Observe (RFC 7641) yet): returns 0 and
 * changes nothing.
 */
COAP_API int coap_resource_notify_observers(coap_resource_t *resource,
                                            const coap_string_t *query);

/**
 * Old name of coap_resource_notify_observers().
 * @param r     The resource (borrowed).
 * @param query Query to match, or NULL.
 * @return As coap_resource_notify_observers().
 * @deprecated Use coap_resource_notify_observers().
 * Not available in this build (no Observe (RFC 7641) yet): returns 0 and
 * changes nothing.
 */
COAP_DEPRECATED COAP_API int coap_resource_set_dirty(coap_resource_t *r,
                                                     const coap_string_t *query);

#ifdef __cplusplus
} /* extern "C" */

/*
 * C++ has no _Generic: overloads take the seed-shaped handler as a function
 * reference, so passing a function name works and NULL still resolves to
 * the C function unambiguously. extern "C++" because coap.h may wrap this
 * header in extern "C", where overloading is not allowed.
 */
extern "C++" {
inline void coap_register_handler(coap_resource_t *resource, coap_request_t method,
                                  void (&handler)(coap_session_t *, coap_resource_t *,
                                                  coap_pdu_t *, coap_string_t *,
                                                  coap_pdu_t *)) {
  coap_register_handler_seed_order(resource, method, &handler);
}
inline void coap_register_request_handler(coap_resource_t *resource,
                                          coap_request_t method,
                                          void (&handler)(coap_session_t *,
                                                          coap_resource_t *,
                                                          coap_pdu_t *,
                                                          coap_string_t *,
                                                          coap_pdu_t *)) {
  coap_register_handler_seed_order(resource, method, &handler);
}
} /* extern "C++" */
#endif

#endif /* COAP_RESOURCE_H_ */
