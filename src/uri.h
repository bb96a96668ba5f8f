/*
 * uri.h -- internal helpers of the URI module (src/uri.c).
 */
#ifndef PETREL_URI_H
#define PETREL_URI_H

#include <stddef.h>
#include <stdint.h>

#include "coap3/coap_uri.h"

/*
 * The results of coap_split_uri() and coap_split_proxy_uri(). -1 to -5 keep
 * the meanings libcoap gives them; the rest are Petrel's, so that every kind
 * of malformed URI can be told apart (callers of the public API only test
 * for < 0).
 */
enum {
  PT_URI_OK = 0,
  PT_URI_EBADSCHEME = -1,  /* unknown scheme, or http(s) outside a proxy */
  PT_URI_ENOSCHEME = -2,   /* no "scheme://" (and not a bare path) */
  PT_URI_EBADHOST = -3,    /* empty host, bad host character, open "[" */
  PT_URI_EPORTRANGE = -4,  /* port above 65535 */
  PT_URI_EUNIXPORT = -5,   /* a port after a Unix domain socket host */
  PT_URI_EPORTSYNTAX = -6, /* port not made only of decimal digits */
  PT_URI_EPERCENT = -7,    /* "%" not followed by two hex digits */
  PT_URI_EFRAGMENT = -8,   /* "#fragment": RFC 7252 6.4 step 4 */
  PT_URI_EBADCHAR = -9,    /* a byte RFC 3986 allows nowhere in path/query */
  PT_URI_EARG = -10,       /* NULL pointer or empty string */
};

/*
 * Splits @p len bytes at @p s (borrowed; @p uri points into them) by the
 * grammar alone: unlike coap_split_uri() (@p proxy 0) and
 * coap_split_proxy_uri() (@p proxy 1), it accepts a scheme whose transport
 * this build lacks. Returns PT_URI_OK or a negative PT_URI_E* value.
 */
int pt_uri_split(const uint8_t *s, size_t len, coap_uri_t *uri, int proxy);

/* What the parser knows about a scheme. */
typedef struct pt_uri_scheme_info_t {
  const char *name;       /* as written before "://", lowercase */
  uint16_t default_port;  /* used when the URI has no port */
  uint8_t proxy_only;     /* accepted only by coap_split_proxy_uri() */
  coap_uri_scheme_t scheme;
} pt_uri_scheme_info_t;

/* The entry for @p scheme, or NULL when it is out of range. */
const pt_uri_scheme_info_t *pt_uri_scheme_info(coap_uri_scheme_t scheme);

/* The default port of @p scheme (5683 for an out-of-range value). */
uint16_t pt_uri_default_port(coap_uri_scheme_t scheme);

/*
 * Checks the percent-encodings of @p len bytes at @p s (borrowed) and
 * stores the decoded length in @p *decoded_len. Returns 0, or
 * PT_URI_EPERCENT when a "%" is not followed by two hex digits.
 */
int pt_uri_pct_check(const uint8_t *s, size_t len, size_t *decoded_len);

/*
 * Writes the decoded form of @p len bytes at @p s into @p out, which must
 * hold the length pt_uri_pct_check() reported (call it first: this one
 * assumes every "%" is followed by two hex digits). When @p lower is set,
 * ASCII letters that were not percent-encoded are lowercased. Returns the
 * number of bytes written.
 */
size_t pt_uri_pct_decode(const uint8_t *s, size_t len, uint8_t *out,
                         int lower);

/*
 * 1 if @p host (borrowed) is an IP address as RFC 3986 writes it in a URI:
 * an IPv4 dotted quad or an IPv6 literal (stored without its brackets, so
 * recognised by a ":"). 0 for a registered name.
 */
int pt_uri_host_is_ip_literal(const coap_str_const_t *host);

/*
 * Splits a percent-encoded path (no leading "/") or query (no leading "?")
 * as coap_split_path() / coap_split_query() do and appends one entry per
 * segment to @p *chain as option @p number (Uri-Path or Location-Path,
 * Uri-Query or Location-Query). The bytes at @p path / @p query are
 * borrowed; the new entries belong to the chain. Returns 0, or -1 on a bad
 * percent-encoding or out of memory (entries added so far stay).
 */
int pt_uri_path_into_optlist(const uint8_t *path, size_t len,
                             uint16_t number, coap_optlist_t **chain);
int pt_uri_query_into_optlist(const uint8_t *query, size_t len,
                              uint16_t number, coap_optlist_t **chain);

/*
 * RFC 7252 section 6.5 step 7: the @p len bytes of one Uri-Path value @p v
 * (borrowed) as one path segment, every byte outside unreserved,
 * sub-delims, ":" and "@" percent-encoded with upper-case hex -- "/" and
 * "%" included, so the segment never splits. Written to @p out (NULL: only
 * measured; at most 3 * len bytes). Returns the encoded length.
 */
size_t pt_uri_encode_segment(const uint8_t *v, size_t len, uint8_t *out);

/*
 * The resource key of a request (pt_uri_path_of_options()'s answer), built
 * one Uri-Path option at a time during a walk over the options. A single
 * segment that needs no percent-encoding (the usual "hello") is not copied:
 * the key points at the option's value in the request. Otherwise segments
 * are encoded into the caller's buffer; when that is too small, ok is
 * cleared and the caller falls back to pt_uri_path_of_options().
 */
typedef struct pt_uri_path_key {
  const uint8_t *s; /* the key so far: into the request or buf */
  size_t len;
  size_t segments; /* Uri-Path options added */
  int ok;          /* 0 once the key did not fit buf */
  uint8_t *buf;    /* borrowed from the caller, cap bytes */
  size_t cap;
} pt_uri_path_key;

/* Starts an empty key (segments 0, the empty path) over @p buf. */
void pt_uri_path_key_init(pt_uri_path_key *k, uint8_t *buf, size_t cap);

/* Adds the Uri-Path value @p v (@p len bytes; borrowed, and must stay valid
 * while the key is used, as the key may point at it). */
void pt_uri_path_key_add(pt_uri_path_key *k, const uint8_t *v, size_t len);

/*
 * The canonical form of a percent-encoded path (segments separated by "/",
 * no leading "/") or query (arguments separated by "&"): each segment is
 * decoded and encoded again as a Uri-Path (pt_uri_encode_segment()) or
 * Uri-Query value would be, so "a%2fb" becomes "a%2Fb", "%41" becomes "A"
 * and "a b" becomes "a%20b". A "%" not followed by two hex digits is taken
 * as the byte "%". This is the form coap_get_uri_path() and
 * coap_get_query() give, and the form resources are keyed by. @p s is
 * borrowed; @p out NULL only measures (at most 3 * len bytes). Returns the
 * canonical length.
 */
size_t pt_uri_path_canon(const uint8_t *s, size_t len, uint8_t *out);
size_t pt_uri_query_canon(const uint8_t *s, size_t len, uint8_t *out);

/*
 * The Uri-Path options of @p pdu (borrowed) joined by "/", each encoded by
 * pt_uri_encode_segment(): coap_get_uri_path()'s answer for a request
 * without Proxy-Uri. Written to @p out (NULL: only measured). Returns the
 * length.
 */
size_t pt_uri_path_of_options(const coap_pdu_t *pdu, uint8_t *out);

/* Likewise the Uri-Query options joined by "&" (an "&" inside one is
 * "%26"): coap_get_query()'s answer; *@p count set to the number of
 * Uri-Query options. */
size_t pt_uri_query_of_options(const coap_pdu_t *pdu, uint8_t *out,
                               size_t *count);

#endif /* PETREL_URI_H */
