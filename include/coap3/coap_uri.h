/*
 * coap_uri.h -- parsing CoAP URIs and turning them into request options.
 *
 * A URI string is first split into a coap_uri_t (coap_split_uri(),
 * coap_split_proxy_uri()); the path and query it holds are still
 * percent-encoded. coap_uri_into_options(), coap_split_path() and
 * coap_split_query() then decompose them into Uri-Host, Uri-Port, Uri-Path
 * and Uri-Query options as RFC 7252 section 6.4 describes.
 *
 * Nothing here keeps global state: every function may be called from any
 * thread on distinct objects.
 */
#ifndef COAP_URI_H_
#define COAP_URI_H_

#include <stddef.h>
#include <stdint.h>

#include "coap3/libcoap.h"

#include "coap3/coap_forward_decls.h"
#include "coap3/coap_option.h"
#include "coap3/coap_str.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The URI schemes the parser knows. The numbering is part of the API:
 * every secure scheme has an odd value (see COAP_URI_SCHEME_SECURE_MASK).
 * http and https are accepted only by coap_split_proxy_uri().
 */
typedef enum coap_uri_scheme_t {
  COAP_URI_SCHEME_COAP = 0,  /**< coap://      (default port 5683) */
  COAP_URI_SCHEME_COAPS,     /**< coaps://     (5684) */
  COAP_URI_SCHEME_COAP_TCP,  /**< coap+tcp://  (5683) */
  COAP_URI_SCHEME_COAPS_TCP, /**< coaps+tcp:// (5684) */
  COAP_URI_SCHEME_HTTP,      /**< http://      (80), Proxy-Uri only */
  COAP_URI_SCHEME_HTTPS,     /**< https://     (443), Proxy-Uri only */
  COAP_URI_SCHEME_COAP_WS,   /**< coap+ws://   (80) */
  COAP_URI_SCHEME_COAPS_WS,  /**< coaps+ws://  (443) */
  COAP_URI_SCHEME_LAST       /**< the number of schemes */
} coap_uri_scheme_t;

/** A scheme value ANDed with this is non-zero for the secure schemes. */
#define COAP_URI_SCHEME_SECURE_MASK 0x01

/* One bit per scheme, for sets of schemes. */
#define COAP_URI_SCHEME_COAP_BIT (1 << COAP_URI_SCHEME_COAP)
#define COAP_URI_SCHEME_COAPS_BIT (1 << COAP_URI_SCHEME_COAPS)
#define COAP_URI_SCHEME_COAP_TCP_BIT (1 << COAP_URI_SCHEME_COAP_TCP)
#define COAP_URI_SCHEME_COAPS_TCP_BIT (1 << COAP_URI_SCHEME_COAPS_TCP)
#define COAP_URI_SCHEME_HTTP_BIT (1 << COAP_URI_SCHEME_HTTP)
#define COAP_URI_SCHEME_HTTPS_BIT (1 << COAP_URI_SCHEME_HTTPS)
#define COAP_URI_SCHEME_COAP_WS_BIT (1 << COAP_URI_SCHEME_COAP_WS)
#define COAP_URI_SCHEME_COAPS_WS_BIT (1 << COAP_URI_SCHEME_COAPS_WS)

/** The bits of every scheme a CoAP endpoint can speak (not http/https). */
#define COAP_URI_SCHEME_ALL_COAP_BITS                                          \
  (COAP_URI_SCHEME_COAP_BIT | COAP_URI_SCHEME_COAPS_BIT |                      \
   COAP_URI_SCHEME_COAP_TCP_BIT | COAP_URI_SCHEME_COAPS_TCP_BIT |              \
   COAP_URI_SCHEME_COAP_WS_BIT | COAP_URI_SCHEME_COAPS_WS_BIT)

/**
 * A URI split into its parts. host, path and query are borrowed: they point
 * into the string that was parsed (or, for coap_new_uri() and
 * coap_clone_uri(), into the same allocation as the struct) and are valid
 * only as long as it is.
 *
 * - host: without the brackets of an IPv6 literal; empty for a URI that is
 *   only a path ("/a/b").
 * - port: host byte order; the scheme's default when the URI has none, 0 for
 *   a Unix domain socket host.
 * - path: without its leading "/" and still percent-encoded; {0, NULL} when
 *   the URI has no path or just "/". A trailing "/" is kept ("a/").
 * - query: without the "?", still percent-encoded; length 0 when absent.
 */
typedef struct {
  coap_str_const_t host;
  uint16_t port;
  coap_str_const_t path;
  coap_str_const_t query;
  enum coap_uri_scheme_t scheme;
} coap_uri_t;

/** 1 if @p uri (borrowed, may be NULL) has a secure scheme, else 0. */
static inline int coap_uri_scheme_is_secure(const coap_uri_t *uri) {
  return uri && ((uri->scheme & COAP_URI_SCHEME_SECURE_MASK) != 0);
}

/**
 * 1 if @p host (borrowed) names a Unix domain socket: it starts with "%2F"
 * (either case of F, the encoded "/" of an absolute file name) or with "/".
 * Otherwise 0.
 */
COAP_API int coap_host_is_unix_domain(const coap_str_const_t *host);

/**
 * Parses @p length bytes at @p uri (borrowed; they are copied) with
 * coap_split_uri() into a new coap_uri_t whose parts point into the same
 * allocation. Returns NULL when the URI does not parse or memory runs out.
 * Release with coap_delete_uri().
 */
COAP_API coap_uri_t *coap_new_uri(const uint8_t *uri, unsigned int length);

/**
 * Copies @p uri (borrowed) and the bytes its parts point at into one new
 * allocation. Returns NULL when @p uri is NULL or memory runs out. Release
 * with coap_delete_uri().
 */
COAP_API coap_uri_t *coap_clone_uri(const coap_uri_t *uri);

/**
 * Frees a coap_uri_t made by coap_new_uri() or coap_clone_uri() (ownership
 * is transferred). NULL is ignored. Never pass one filled by
 * coap_split_uri() into a caller's own struct.
 */
COAP_API void coap_delete_uri(coap_uri_t *uri);

/**
 * Splits the @p len bytes at @p str_var (borrowed) into @p uri, whose parts
 * then point into @p str_var. The syntax is RFC 7252 section 6's coap-URI:
 *
 *   scheme "://" host [ ":" port ] path-abempty [ "?" query ]
 *
 * with scheme one of coap, coaps, coap+tcp, coaps+tcp, coap+ws, coaps+ws
 * (compared without regard to case, RFC 3986 section 3.1). host is a name,
 * an IPv4 address, an IPv6 literal in brackets or a Unix domain socket path
 * written with each "/" as "%2F". As an extension a string starting with "/"
 * is taken as a path alone (scheme coap, port 5683, no host).
 *
 * Returns 0 on success or a negative value on error: a missing, unknown or
 * proxy-only scheme, an empty or malformed host, an unterminated "[", a port
 * that is not decimal or exceeds 65535, a port on a Unix domain host, a
 * fragment ("#", which RFC 7252 section 6.4 step 4 rejects), a truncated or
 * non-hex percent-encoding, or a character RFC 3986 does not allow. On error
 * @p uri holds no useful value.
 *
 * A scheme whose transport this build lacks returns -1, as an unknown one
 * does: coaps needs coap_dtls_is_supported(), coap+tcp
 * coap_tcp_is_supported(), coaps+tcp coap_tls_is_supported(), coap+ws
 * coap_ws_is_supported() and coaps+ws coap_wss_is_supported(). Every
 * build has UDP, TCP and WebSockets, so coap, coap+tcp and coap+ws URIs
 * (and bare paths) split; coaps, coaps+tcp and coaps+ws ones split in
 * libcoap-3 and libcoap-3-openssl (DTLS and TLS on OpenSSL) and return -1
 * in libcoap-3-notls.
 */
COAP_API int coap_split_uri(const uint8_t *str_var, size_t len,
                            coap_uri_t *uri);

/**
 * As coap_split_uri() for a Proxy-Uri option value: the URI must be
 * absolute (begin with a scheme), and the http and https schemes are
 * accepted as well. A CoAP scheme whose transport this build lacks
 * returns -1 here too.
 */
COAP_API int coap_split_proxy_uri(const uint8_t *str_var, size_t len,
                                  coap_uri_t *uri);

/**
 * Appends to @p *optlist_chain the options that carry @p uri (borrowed) in a
 * request, following RFC 7252 section 6.4:
 *
 * - when @p create_port_host_opt is non-zero and the host is not a Unix
 *   domain socket: Uri-Host (the host lowercased and percent-decoded) when
 *   @p dst is not NULL and the host is a name rather than an IP address,
 *   and Uri-Port when the port is not the scheme's default;
 * - one Uri-Path per path segment and one Uri-Query per query argument,
 *   percent-decoded, with "." and ".." segments resolved (see
 *   coap_split_path()).
 *
 * @p dst (borrowed, may be NULL) is the request's destination. @p buf and
 * @p buflen are optional scratch space: when @p buf is NULL or too small a
 * temporary buffer is allocated instead, so nothing is ever truncated.
 * The new optlist entries belong to the chain; the caller frees it with
 * coap_delete_optlist(). Returns 0 on success, < 0 on error (a malformed
 * path or query, or out of memory); on error some options may already have
 * been added.
 */
COAP_API int coap_uri_into_options(const coap_uri_t *uri,
                                   const struct coap_address_t *dst,
                                   coap_optlist_t **optlist_chain,
                                   int create_port_host_opt, uint8_t *buf,
                                   size_t buflen);

/**
 * Splits a percent-encoded URI path (as in coap_uri_t.path: no leading "/")
 * at each "/" and writes one option per segment into @p buf: an option
 * header with delta 0 and the decoded length, then the decoded bytes.
 * Parsing stops at the first "?" or "#".
 *
 * Dot segments are resolved as RFC 3986 section 5.2.4 says (RFC 7252 6.4
 * step 2): "." is dropped and ".." also drops the segment before it; a path
 * ending in "." or ".." keeps a trailing empty segment. A path that resolves
 * to nothing or to a single empty segment (the root) yields no options.
 *
 * @p s is borrowed. On entry @p *buflen is the size of @p buf; on return
 * it is the number of bytes written. length + 3 bytes per segment is
 * always enough. Returns the number of options written: all of them, or,
 * when @p buf is too small or a segment cannot be an option (a bad
 * percent-encoding, or more than 65804 bytes once decoded), the leading
 * ones before the first that could not be written (the rest are dropped
 * even if they would fit, so the options are always a prefix of the path).
 * Never negative, so that a caller looping `while (res--)` always ends;
 * NULL arguments give 0.
 */
COAP_API int coap_split_path(const uint8_t *s, size_t length,
                             unsigned char *buf, size_t *buflen);

/**
 * As coap_split_path() for a query (no leading "?"): splits at each "&"
 * (empty arguments are kept) and stops at "#"; there are no dot segments.
 * An empty query yields no options. Returns the number of options written,
 * as coap_split_path() does: the leading arguments that fit and are well
 * formed, never negative.
 */
COAP_API int coap_split_query(const uint8_t *s, size_t length,
                              unsigned char *buf, size_t *buflen);

/**
 * Rebuilds the query of @p request (borrowed) from its Uri-Query options
 * (RFC 7252 section 6.5 step 8): the arguments joined by "&", with bytes
 * outside RFC 3986's query characters, and any "&" inside an argument,
 * percent-encoded. Returns NULL when the request has no Uri-Query option or
 * memory runs out; otherwise a new string the caller frees with
 * coap_delete_string().
 */
COAP_API coap_string_t *coap_get_query(const coap_pdu_t *request);

/**
 * Rebuilds the path of @p request (borrowed) without a leading "/"
 * (RFC 7252 section 6.5 step 7): its Uri-Path options joined by "/", each
 * option one segment, so every byte outside unreserved, sub-delims, ":"
 * and "@" -- a "/" or "%" inside an option included -- is percent-encoded
 * (upper-case hex). With a Proxy-Uri option, the path of that URI in the
 * same form (its percent-encodings normalised). This is the string a
 * resource is found by: coap_resource_init() keeps its path in this form,
 * so a resource created with the result is the one the request names.
 * A request without a path gives an empty string. Returns NULL on error
 * (an unparsable Proxy-Uri, no memory); otherwise a new string the caller
 * frees with coap_delete_string().
 */
COAP_API coap_string_t *coap_get_uri_path(const coap_pdu_t *request);

#ifdef __cplusplus
}
#endif

#endif /* COAP_URI_H_ */
