/*
 * uri.c -- splitting CoAP URIs (coap_uri.h).
 *
 * The parser reads RFC 7252 section 6's grammar over a borrowed byte range
 * and never copies: coap_uri_t's parts point into the input. It is stricter
 * than libcoap where RFC 3986 is: the scheme is matched without regard to
 * case, a fragment is an error (RFC 7252 6.4 step 4), percent-encodings
 * must be complete, and bytes RFC 3986 never allows in a path or query
 * (controls, space, non-ASCII, "[", "\"", ...) are rejected.
 *
 * Map of this file:
 *   - schemes
 *   - character classes and percent-encoding
 *   - coap_split_uri(): scheme, host, port, path and query
 *   - coap_uri_t allocation
 *   - path and query into options (RFC 7252 6.4)
 *   - path and query back from a request's options (RFC 7252 6.5)
 */
#include <stdlib.h>
#include <string.h>

#include "coap3/coap_debug.h"
#include "coap3/coap_dtls.h"
#include "coap3/coap_encode.h"
#include "coap3/coap_io.h"
#include "coap3/coap_option.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_ws.h"

#include "pdu.h"
#include "uri.h"

/* ---- schemes ------------------------------------------------------------ */

/* Indexed by coap_uri_scheme_t. */
static const pt_uri_scheme_info_t schemes[COAP_URI_SCHEME_LAST] = {
    {"coap", 5683, 0, COAP_URI_SCHEME_COAP},
    {"coaps", 5684, 0, COAP_URI_SCHEME_COAPS},
    {"coap+tcp", 5683, 0, COAP_URI_SCHEME_COAP_TCP},
    {"coaps+tcp", 5684, 0, COAP_URI_SCHEME_COAPS_TCP},
    {"http", 80, 1, COAP_URI_SCHEME_HTTP},
    {"https", 443, 1, COAP_URI_SCHEME_HTTPS},
    {"coap+ws", 80, 0, COAP_URI_SCHEME_COAP_WS},
    {"coaps+ws", 443, 0, COAP_URI_SCHEME_COAPS_WS},
};

const pt_uri_scheme_info_t *pt_uri_scheme_info(coap_uri_scheme_t scheme) {
  if ((unsigned)scheme >= COAP_URI_SCHEME_LAST)
    return NULL;
  return &schemes[scheme];
}

uint16_t pt_uri_default_port(coap_uri_scheme_t scheme) {
  const pt_uri_scheme_info_t *info = pt_uri_scheme_info(scheme);
  return info ? info->default_port : 5683;
}

static uint8_t ascii_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/* The table entry whose name equals the @p len bytes at @p s, any case. */
static const pt_uri_scheme_info_t *scheme_by_name(const uint8_t *s,
                                                  size_t len) {
  for (size_t i = 0; i < COAP_URI_SCHEME_LAST; i++) {
    const char *name = schemes[i].name;
    if (strlen(name) != len)
      continue;
    size_t k = 0;
    while (k < len && ascii_lower(s[k]) == (uint8_t)name[k])
      k++;
    if (k == len)
      return &schemes[i];
  }
  return NULL;
}

/* ---- character classes and percent-encoding (RFC 3986 section 2) ------- */

static int is_alpha(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(uint8_t c) {
  return c >= '0' && c <= '9';
}

static int hex_value(uint8_t c) {
  if (is_digit(c))
    return c - '0';
  c = ascii_lower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static int is_unreserved(uint8_t c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

static int is_sub_delim(uint8_t c) {
  return c != 0 && memchr("!$&'()*+,;=", c, 11) != NULL;
}

/* reg-name = *( unreserved / pct-encoded / sub-delims ), "%" aside. */
static int is_reg_name_char(uint8_t c) {
  return is_unreserved(c) || is_sub_delim(c);
}

/* pchar without pct-encoded, plus "/" (RFC 3986 3.3). */
static int is_path_char(uint8_t c) {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' ||
         c == '/';
}

/* query = *( pchar / "/" / "?" ) (RFC 3986 3.4). */
static int is_query_char(uint8_t c) {
  return is_path_char(c) || c == '?';
}

/* 1 if the bytes at s[i..] start a complete "%" HEXDIG HEXDIG. */
static int pct_ok(const uint8_t *s, size_t len, size_t i) {
  return len - i >= 3 && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0;
}

int pt_uri_pct_check(const uint8_t *s, size_t len, size_t *decoded_len) {
  size_t n = 0;
  for (size_t i = 0; i < len; n++) {
    if (s[i] != '%') {
      i++;
      continue;
    }
    if (!pct_ok(s, len, i))
      return PT_URI_EPERCENT;
    i += 3;
  }
  *decoded_len = n;
  return PT_URI_OK;
}

size_t pt_uri_pct_decode(const uint8_t *s, size_t len, uint8_t *out,
                         int lower) {
  size_t n = 0;
  for (size_t i = 0; i < len; n++) {
    if (s[i] == '%' && len - i >= 3) {
      out[n] = (uint8_t)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
      i += 3;
    } else {
      out[n] = lower ? ascii_lower(s[i]) : s[i];
      i++;
    }
  }
  return n;
}

int pt_uri_host_is_ip_literal(const coap_str_const_t *host) {
  if (!host || !host->s || host->length == 0)
    return 0;
  /* A reg-name cannot hold ":", so a host with one was bracketed. */
  if (memchr(host->s, ':', host->length))
    return 1;
  /* IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet */
  size_t i = 0;
  for (int octet = 0; octet < 4; octet++) {
    if (octet > 0 && (i >= host->length || host->s[i++] != '.'))
      return 0;
    size_t start = i;
    unsigned value = 0;
    while (i < host->length && is_digit(host->s[i]) && i - start < 3)
      value = value * 10 + (unsigned)(host->s[i++] - '0');
    /* RFC 3986 dec-octet has no leading zeros ("01" is a name). */
    if (i == start || value > 255 || (i - start > 1 && host->s[start] == '0'))
      return 0;
  }
  return i == host->length;
}

/*
 * Advances *pos over bytes accepted by @p ok and complete percent-encodings,
 * up to the end or the first byte found in @p stops. Returns PT_URI_OK, or
 * @p bad for a byte @p ok refuses (PT_URI_EFRAGMENT for "#"), or
 * PT_URI_EPERCENT.
 */
static int scan(const uint8_t *s, size_t len, size_t *pos, const char *stops,
                int (*ok)(uint8_t), int bad) {
  size_t i = *pos;
  size_t nstops = strlen(stops);
  while (i < len && !memchr(stops, s[i], nstops)) {
    if (s[i] == '%') {
      if (!pct_ok(s, len, i))
        return PT_URI_EPERCENT;
      i += 3;
      continue;
    }
    if (!ok(s[i]))
      return s[i] == '#' ? PT_URI_EFRAGMENT : bad;
    i++;
  }
  *pos = i;
  return PT_URI_OK;
}

/* ---- coap_split_uri(): RFC 7252 section 6 ------------------------------- */
/*
 *   coap-URI = "coap:" "//" host [ ":" port ] path-abempty [ "?" query ]
 *   coaps-URI = "coaps:" "//" host [ ":" port ] path-abempty [ "?" query ]
 *
 * and likewise for the other schemes (RFC 8323 for +tcp and +ws). Each
 * step below reads from *pos and leaves *pos after what it consumed.
 */

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://". */
static int parse_scheme(const uint8_t *s, size_t len, size_t *pos, int proxy,
                        coap_uri_t *uri) {
  size_t i = 0;
  while (i < len &&
         (is_alpha(s[i]) || (i > 0 && (is_digit(s[i]) || s[i] == '+' ||
                                       s[i] == '-' || s[i] == '.'))))
    i++;
  if (i == 0 || len - i < 3 || memcmp(s + i, "://", 3) != 0)
    return PT_URI_ENOSCHEME;
  const pt_uri_scheme_info_t *info = scheme_by_name(s, i);
  if (!info || (info->proxy_only && !proxy))
    return PT_URI_EBADSCHEME;
  uri->scheme = info->scheme;
  uri->port = info->default_port;
  *pos = i + 3;
  return PT_URI_OK;
}

/*
 * IP-literal = "[" ( IPv6address / IPvFuture ) "]". The contents are only
 * checked for characters: an IPv6 address, IPvFuture, or a zone written as
 * libcoap accepts it ("%eth0", not only RFC 6874's "%25eth0"). Address
 * syntax proper is left to the resolver.
 */
static int parse_ip_literal(const uint8_t *s, size_t len, size_t *pos,
                            coap_uri_t *uri) {
  size_t start = *pos + 1, i = start;
  while (i < len && s[i] != ']') {
    if (!is_unreserved(s[i]) && !is_sub_delim(s[i]) && s[i] != ':' &&
        s[i] != '%')
      return PT_URI_EBADHOST;
    i++;
  }
  if (i == len || i == start)
    return PT_URI_EBADHOST; /* unterminated "[" or empty "[]" */
  COAP_SET_STR(&uri->host, i - start, s + start);
  *pos = i + 1;
  return PT_URI_OK;
}

static int parse_host(const uint8_t *s, size_t len, size_t *pos,
                      coap_uri_t *uri) {
  int rc;
  if (*pos < len && s[*pos] == '[') {
    rc = parse_ip_literal(s, len, pos, uri);
  } else {
    size_t start = *pos;
    rc = scan(s, len, pos, ":/?#", is_reg_name_char, PT_URI_EBADHOST);
    if (rc == PT_URI_OK && *pos == start)
      rc = PT_URI_EBADHOST;
    if (rc == PT_URI_OK)
      COAP_SET_STR(&uri->host, *pos - start, s + start);
  }
  if (rc != PT_URI_OK)
    return rc;
  /* Whatever follows the host must start a port, path, query or fragment. */
  if (*pos < len && !memchr(":/?#", s[*pos], 4))
    return PT_URI_EBADHOST;
  if (coap_host_is_unix_domain(&uri->host))
    uri->port = 0;
  return PT_URI_OK;
}

/* port = *DIGIT; an empty port means the default (RFC 3986 3.2.3). */
static int parse_port(const uint8_t *s, size_t len, size_t *pos,
                      coap_uri_t *uri) {
  if (*pos >= len || s[*pos] != ':')
    return PT_URI_OK;
  if (coap_host_is_unix_domain(&uri->host))
    return PT_URI_EUNIXPORT;
  size_t i = *pos + 1, start = i;
  uint32_t port = 0;
  while (i < len && is_digit(s[i])) {
    if (port <= UINT16_MAX) /* stop growing once out of range */
      port = port * 10 + (uint32_t)(s[i] - '0');
    i++;
  }
  if (i < len && !memchr("/?#", s[i], 3))
    return PT_URI_EPORTSYNTAX;
  if (port > UINT16_MAX)
    return PT_URI_EPORTRANGE;
  if (i > start)
    uri->port = (uint16_t)port;
  *pos = i;
  return PT_URI_OK;
}

/* path-abempty = *( "/" segment ), then [ "?" query ], and nothing else. */
static int parse_path_query(const uint8_t *s, size_t len, size_t pos,
                            coap_uri_t *uri) {
  int rc;
  if (pos < len && s[pos] == '/') {
    size_t start = ++pos;
    rc = scan(s, len, &pos, "?#", is_path_char, PT_URI_EBADCHAR);
    if (rc != PT_URI_OK)
      return rc;
    if (pos > start)
      COAP_SET_STR(&uri->path, pos - start, s + start);
  }
  if (pos < len && s[pos] == '?') {
    size_t start = ++pos;
    rc = scan(s, len, &pos, "#", is_query_char, PT_URI_EBADCHAR);
    if (rc != PT_URI_OK)
      return rc;
    if (pos > start)
      COAP_SET_STR(&uri->query, pos - start, s + start);
  }
  if (pos < len)
    return s[pos] == '#' ? PT_URI_EFRAGMENT : PT_URI_EBADCHAR;
  return PT_URI_OK;
}

int pt_uri_split(const uint8_t *s, size_t len, coap_uri_t *uri, int proxy) {
  if (!s || !uri || len == 0)
    return PT_URI_EARG;
  memset(uri, 0, sizeof(*uri));
  uri->scheme = COAP_URI_SCHEME_COAP;
  uri->port = 5683;
  if (s[0] == '/') {
    /* A bare path (libcoap's extension); a Proxy-Uri must be absolute. */
    return proxy ? PT_URI_ENOSCHEME : parse_path_query(s, len, 0, uri);
  }
  size_t pos = 0;
  int rc = parse_scheme(s, len, &pos, proxy, uri);
  if (rc == PT_URI_OK)
    rc = parse_host(s, len, &pos, uri);
  if (rc == PT_URI_OK)
    rc = parse_port(s, len, &pos, uri);
  if (rc == PT_URI_OK)
    rc = parse_path_query(s, len, pos, uri);
  return rc;
}

/* Whether this build has the transport @p scheme needs. The library is
 * asked, so a scheme is accepted as soon as its transport is built.
 * coaps+tcp needs TLS (RFC 8323 8.2), not only TCP. */
static int transport_built(coap_uri_scheme_t scheme) {
  switch (scheme) {
  case COAP_URI_SCHEME_COAPS:
    return coap_dtls_is_supported();
  case COAP_URI_SCHEME_COAP_TCP:
    return coap_tcp_is_supported();
  case COAP_URI_SCHEME_COAPS_TCP:
    return coap_tls_is_supported();
  case COAP_URI_SCHEME_COAP_WS:
    return coap_ws_is_supported();
  case COAP_URI_SCHEME_COAPS_WS:
    return coap_wss_is_supported();
  default:
    return 1;
  }
}

static int split_built(const uint8_t *s, size_t len, coap_uri_t *uri,
                       int proxy) {
  int rc = pt_uri_split(s, len, uri, proxy);
  if (rc == PT_URI_OK && !transport_built(uri->scheme)) {
    coap_log_debug("URI scheme %s: transport not in this build\n",
                   pt_uri_scheme_info(uri->scheme)->name);
    return PT_URI_EBADSCHEME;
  }
  return rc;
}

int coap_split_uri(const uint8_t *str_var, size_t len, coap_uri_t *uri) {
  return split_built(str_var, len, uri, 0);
}

int coap_split_proxy_uri(const uint8_t *str_var, size_t len, coap_uri_t *uri) {
  return split_built(str_var, len, uri, 1);
}

int coap_host_is_unix_domain(const coap_str_const_t *host) {
  if (!host || !host->s)
    return 0;
  if (host->length >= 3 && host->s[0] == '%' && host->s[1] == '2' &&
      (host->s[2] == 'F' || host->s[2] == 'f'))
    return 1;
  return host->length >= 1 && host->s[0] == '/';
}

/* ---- coap_uri_t allocation ---------------------------------------------- */
/* One block each: the struct, then the bytes its parts point at. */

coap_uri_t *coap_new_uri(const uint8_t *uri, unsigned int length) {
  if (!uri || length == 0)
    return NULL;
  coap_uri_t *out = malloc(sizeof(*out) + (size_t)length + 1);
  if (!out)
    return NULL;
  uint8_t *copy = (uint8_t *)(out + 1);
  memcpy(copy, uri, length);
  copy[length] = '\0'; /* lets careful callers print the parts */
  if (coap_split_uri(copy, length, out) < 0) {
    free(out);
    return NULL;
  }
  return out;
}

/* Copies @p part's bytes to *@p cursor and points @p dst at them. */
static void clone_part(coap_str_const_t *dst, const coap_str_const_t *part,
                       uint8_t **cursor) {
  if (part->length == 0)
    return; /* stays {0, NULL} */
  memcpy(*cursor, part->s, part->length);
  COAP_SET_STR(dst, part->length, *cursor);
  *cursor += part->length;
}

coap_uri_t *coap_clone_uri(const coap_uri_t *uri) {
  if (!uri || (uri->host.length && !uri->host.s) ||
      (uri->path.length && !uri->path.s) ||
      (uri->query.length && !uri->query.s))
    return NULL;
  size_t bytes = uri->host.length + uri->path.length + uri->query.length;
  coap_uri_t *out = calloc(1, sizeof(*out) + bytes + 1);
  if (!out)
    return NULL;
  uint8_t *cursor = (uint8_t *)(out + 1);
  out->port = uri->port;
  /* libcoap 4.3.4 leaves the clone's scheme at coap; we copy it. */
  out->scheme = uri->scheme;
  clone_part(&out->host, &uri->host, &cursor);
  clone_part(&out->path, &uri->path, &cursor);
  clone_part(&out->query, &uri->query, &cursor);
  return out;
}

void coap_delete_uri(coap_uri_t *uri) {
  free(uri);
}

/* ---- path and query into options (RFC 7252 section 6.4) ----------------- */
/*
 * Step 8: one Uri-Path per path segment, step 9: one Uri-Query per query
 * argument, each after converting percent-encodings to bytes. Step 2's
 * reference resolution removes dot segments first (RFC 3986 5.2.4).
 */

/* 1 for ".", 2 for "..", else 0. */
static int dot_kind(const uint8_t *seg, size_t len) {
  if (len == 1 && seg[0] == '.')
    return 1;
  if (len == 2 && seg[0] == '.' && seg[1] == '.')
    return 2;
  return 0;
}

/*
 * The size of the delta-0 option carrying the decoded @p len bytes at
 * @p seg, with the decoded length in *dlen; 0 for a bad percent-encoding
 * or a value longer than an option can hold.
 */
static size_t segment_option_size(const uint8_t *seg, size_t len,
                                  size_t *dlen) {
  if (pt_uri_pct_check(seg, len, dlen) != PT_URI_OK)
    return 0;
  return coap_opt_encode_size(0, *dlen);
}

/* Writes that option at @p out, which has room for @p total bytes. */
static void write_segment(const uint8_t *seg, size_t len, size_t dlen,
                          uint8_t *out, size_t total) {
  size_t h = coap_opt_setheader(out, total, 0, dlen);
  pt_uri_pct_decode(seg, len, out + h, 0);
}

/*
 * The length of the leading whole segments of s[0..end) (separated by
 * @p sep) that can become options: it stops before the first segment with
 * a bad percent-encoding or a value too long for an option, and drops the
 * separator before it. *@p all says whether every segment could.
 */
static size_t valid_prefix(const uint8_t *s, size_t end, uint8_t sep,
                           int *all) {
  size_t start = 0, dlen;
  for (size_t i = 0; i <= end; i++) {
    if (i < end && s[i] != sep)
      continue;
    if (segment_option_size(s + start, i - start, &dlen) == 0) {
      *all = 0;
      return start ? start - 1 : 0;
    }
    start = i + 1;
  }
  *all = 1;
  return end;
}

/*
 * The options of a path, placed in two passes over it: the first (buf
 * NULL) measures every option kept; the second knows from that where each
 * option starts and writes those that end within room, which are always
 * the leading ones.
 */
typedef struct seg_out {
  uint8_t *buf;  /* NULL while measuring */
  size_t room;   /* size of buf */
  size_t total;  /* bytes of all options kept (from the first pass) */
  size_t suffix; /* bytes of the options right of the current one */
  int count;     /* options kept so far */
  int written;   /* options written */
  size_t used;   /* bytes written */
} seg_out;

static void put_segment(seg_out *o, const uint8_t *seg, size_t len) {
  size_t dlen = 0, size = segment_option_size(seg, len, &dlen);
  o->suffix += size;
  o->count++;
  if (!o->buf || o->total - o->suffix + size > o->room)
    return;
  size_t at = o->total - o->suffix;
  write_segment(seg, len, dlen, o->buf + at, size);
  o->written++;
  if (at + size > o->used)
    o->used = at + size;
}

/*
 * Segments are walked last to first because a ".." drops the nearest kept
 * segment to its left, which is known only from the right. Every segment
 * of s[0..end) must be valid (valid_prefix()) and end > 0.
 */
static void walk_path(const uint8_t *s, size_t end, seg_out *o) {
  size_t skip = 0, seg_end = end;
  for (;;) {
    size_t seg_start = seg_end;
    while (seg_start > 0 && s[seg_start - 1] != '/')
      seg_start--;
    const uint8_t *seg = s + seg_start;
    size_t len = seg_end - seg_start;
    int dots = dot_kind(seg, len);
    if (dots && seg_end == end)
      put_segment(o, seg, 0); /* "a/." and "a/.." resolve to "a/" and "/" */
    if (dots == 2)
      skip++;
    else if (!dots && skip)
      skip--;
    else if (!dots)
      put_segment(o, seg, len);
    if (seg_start == 0)
      break;
    seg_end = seg_start - 1;
  }
}

/* coap_split_path() that also says, in *@p complete, whether every
 * segment was written. O(length), no allocation. */
static int split_path(const uint8_t *s, size_t length, unsigned char *buf,
                      size_t *buflen, int *complete) {
  *complete = 0;
  if (!buflen)
    return 0;
  size_t room = *buflen;
  *buflen = 0;
  if ((!s && length) || !buf)
    return 0;
  size_t end = 0;
  while (end < length && s[end] != '?' && s[end] != '#')
    end++;
  int valid = 1;
  if (end)
    end = valid_prefix(s, end, '/', &valid);
  seg_out o = {0};
  if (end)
    walk_path(s, end, &o);
  if (o.count == 0 || (o.count == 1 && o.suffix == 1)) {
    /* resolved to nothing or to "/" alone: step 8 adds no option */
    *complete = valid;
    return 0;
  }
  o = (seg_out){.buf = buf, .room = room, .total = o.suffix};
  walk_path(s, end, &o);
  *buflen = o.used;
  *complete = valid && o.written == o.count;
  return o.written;
}

static int split_query(const uint8_t *s, size_t length, unsigned char *buf,
                       size_t *buflen, int *complete) {
  *complete = 0;
  if (!buflen)
    return 0;
  size_t room = *buflen, end = 0, start = 0, used = 0, dlen, total;
  *buflen = 0;
  if ((!s && length) || !buf)
    return 0;
  while (end < length && s[end] != '#')
    end++;
  int count = 0;
  for (size_t i = 0; end > 0 && i <= end; i++) {
    if (i < end && s[i] != '&')
      continue;
    total = segment_option_size(s + start, i - start, &dlen);
    if (total == 0 || total > room - used) {
      *buflen = used;
      return count; /* the leading arguments that fit */
    }
    write_segment(s + start, i - start, dlen, buf + used, total);
    used += total;
    count++;
    start = i + 1;
  }
  *buflen = used;
  *complete = 1;
  return count;
}

int coap_split_path(const uint8_t *s, size_t length, unsigned char *buf,
                    size_t *buflen) {
  int complete;
  return split_path(s, length, buf, buflen, &complete);
}

int coap_split_query(const uint8_t *s, size_t length, unsigned char *buf,
                     size_t *buflen) {
  int complete;
  return split_query(s, length, buf, buflen, &complete);
}

typedef int (*split_fn)(const uint8_t *, size_t, unsigned char *, size_t *,
                        int *);

/*
 * Runs @p split over @p s into scratch space (the caller's @p buf when it is
 * big enough, else a temporary allocation) and appends each resulting
 * option to @p chain as option @p number. Returns 0 or -1.
 */
static int split_into_optlist(split_fn split, const uint8_t *s, size_t len,
                              uint16_t number, coap_optlist_t **chain,
                              uint8_t *buf, size_t buflen) {
  if (len > SIZE_MAX / 8)
    return -1;
  /* Each option is at most 3 header bytes plus its still-encoded bytes. */
  size_t segments = 1;
  for (size_t i = 0; i < len; i++)
    segments += s[i] == '/' || s[i] == '&';
  size_t need = len + 3 * segments + 1;
  uint8_t *heap = NULL;
  if (!buf || buflen < need) {
    if (!(heap = malloc(need)))
      return -1;
    buf = heap;
    buflen = need;
  }
  int complete;
  int n = split(s, len, buf, &buflen, &complete);
  int rc = complete ? 0 : -1;
  for (size_t off = 0; rc == 0 && n-- > 0; off += coap_opt_size(buf + off)) {
    coap_optlist_t *o = coap_new_optlist(number, coap_opt_length(buf + off),
                                         coap_opt_value(buf + off));
    if (!o || !coap_insert_optlist(chain, o)) {
      coap_delete_optlist(o);
      rc = -1;
    }
  }
  free(heap);
  return rc;
}

int pt_uri_path_into_optlist(const uint8_t *path, size_t len, uint16_t number,
                             coap_optlist_t **chain) {
  if (!chain || (!path && len))
    return -1;
  return split_into_optlist(split_path, path, len, number, chain, NULL, 0);
}

int pt_uri_query_into_optlist(const uint8_t *query, size_t len, uint16_t number,
                              coap_optlist_t **chain) {
  if (!chain || (!query && len))
    return -1;
  return split_into_optlist(split_query, query, len, number, chain, NULL, 0);
}

static int add_option(coap_optlist_t **chain, uint16_t number, size_t len,
                      const uint8_t *data) {
  coap_optlist_t *o = coap_new_optlist(number, len, data);
  if (!o || !coap_insert_optlist(chain, o)) {
    coap_delete_optlist(o);
    return -1;
  }
  return 0;
}

/*
 * Steps 5 and 7. A Uri-Host is added for a name only: an IP literal is
 * taken to be the destination address itself, the usual case when the
 * destination was resolved from the URI. (libcoap compares the literal with
 * the printed destination address; Petrel does not yet look inside
 * coap_address_t.) The port is compared with the scheme's default, as
 * libcoap does, rather than with the destination's port.
 */
static int add_host_port(const coap_uri_t *uri, const void *dst,
                         coap_optlist_t **chain) {
  if (dst && uri->host.length && !pt_uri_host_is_ip_literal(&uri->host)) {
    uint8_t host[255]; /* Uri-Host holds 1 to 255 bytes */
    size_t dlen;
    if (pt_uri_pct_check(uri->host.s, uri->host.length, &dlen) != PT_URI_OK ||
        dlen == 0 || dlen > sizeof(host))
      return -1;
    pt_uri_pct_decode(uri->host.s, uri->host.length, host, 1);
    if (add_option(chain, COAP_OPTION_URI_HOST, dlen, host) < 0)
      return -1;
  }
  if (uri->port != pt_uri_default_port(uri->scheme)) {
    uint8_t port[2];
    unsigned n = coap_encode_var_safe(port, sizeof(port), uri->port);
    if (add_option(chain, COAP_OPTION_URI_PORT, n, port) < 0)
      return -1;
  }
  return 0;
}

int coap_uri_into_options(const coap_uri_t *uri,
                          const struct coap_address_t *dst,
                          coap_optlist_t **optlist_chain,
                          int create_port_host_opt, uint8_t *buf,
                          size_t buflen) {
  if (!uri || !optlist_chain)
    return -1;
  if (create_port_host_opt && !coap_host_is_unix_domain(&uri->host) &&
      add_host_port(uri, dst, optlist_chain) < 0)
    return -1;
  if (uri->path.length &&
      split_into_optlist(split_path, uri->path.s, uri->path.length,
                         COAP_OPTION_URI_PATH, optlist_chain, buf, buflen) < 0)
    return -1;
  if (uri->query.length &&
      split_into_optlist(split_query, uri->query.s, uri->query.length,
                         COAP_OPTION_URI_QUERY, optlist_chain, buf, buflen) < 0)
    return -1;
  return 0;
}

/* ---- path and query back from a request (RFC 7252 section 6.5) ---------- */

/* Step 7: path segments keep pchar bytes (without "%") as they are. */
static int keep_in_path(uint8_t c) {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

/* Step 8: query arguments also keep "/" and "?", but escape "&". */
static int keep_in_query(uint8_t c) {
  return c != '&' && (keep_in_path(c) || c == '/' || c == '?');
}

/* Appends byte @p c to @p out at *@p n (or only counts it when @p out is
 * NULL), percent-encoded (upper-case hex) unless @p keep takes it. */
static void encode_byte(uint8_t c, int (*keep)(uint8_t), uint8_t *out,
                        size_t *n) {
  static const char hex[] = "0123456789ABCDEF";
  if (keep(c)) {
    if (out)
      out[*n] = c;
    *n += 1;
    return;
  }
  if (out) {
    out[*n] = '%';
    out[*n + 1] = (uint8_t)hex[c >> 4];
    out[*n + 2] = (uint8_t)hex[c & 15];
  }
  *n += 3;
}

/* keep_in_path() as a table of the 256 byte values, for the request
 * path, which is encoded for every request: ALPHA, DIGIT and
 * "-._~!$&'()*+,;=:@" (keep_in_path()), from a bitmap of the 128 ASCII
 * bytes (bit c of word c / 64). test_uri checks every one of the 256 byte
 * values through pt_uri_encode_segment(). */
#define PATH_KEEP_LO 0x2fff7fd200000000u
#define PATH_KEEP_HI 0x47fffffe87ffffffu
#define PK(c)                                                                  \
  (uint8_t)((c) < 128 &&                                                       \
            (((c) < 64 ? PATH_KEEP_LO : PATH_KEEP_HI) >> ((c)&63)) & 1)
#define PK4(c) PK(c), PK((c) + 1), PK((c) + 2), PK((c) + 3)
#define PK16(c) PK4(c), PK4((c) + 4), PK4((c) + 8), PK4((c) + 12)
#define PK64(c) PK16(c), PK16((c) + 16), PK16((c) + 32), PK16((c) + 48)
static const uint8_t path_keep_tab[256] = {PK64(0), PK64(64), PK64(128),
                                           PK64(192)};
#undef PK64
#undef PK16
#undef PK4
#undef PK

static inline int path_keeps(uint8_t c) {
  return path_keep_tab[c];
}

/* How many bytes at the start of @v need no percent-encoding. Four bytes
 * a step while all four are plain (one branch instead of four), then byte
 * by byte to the first that is not. */
static size_t plain_prefix(const uint8_t *v, size_t len) {
  size_t i = 0;
  while (len - i >= 4 && (path_keep_tab[v[i]] & path_keep_tab[v[i + 1]] &
                          path_keep_tab[v[i + 2]] & path_keep_tab[v[i + 3]]))
    i += 4;
  while (i < len && path_keeps(v[i]))
    i++;
  return i;
}

void pt_uri_path_key_init(pt_uri_path_key *k, uint8_t *buf, size_t cap) {
  *k = (pt_uri_path_key){.s = buf, .ok = 1, .buf = buf, .cap = cap};
}

void pt_uri_path_key_add(pt_uri_path_key *k, const uint8_t *v, size_t len) {
  size_t plain = plain_prefix(v, len);
  if (k->segments++ == 0 && plain == len) {
    k->s = v; /* the value is the key as it is */
    k->len = len;
    return;
  }
  if (!k->ok)
    return;
  size_t sep = k->segments > 1, rest = len - plain;
  /* Measured only when the worst case (3 bytes for each) might not fit. */
  if (k->len + plain + 3 * rest + 1 > k->cap &&
      k->len + plain + pt_uri_encode_segment(v + plain, rest, NULL) + 1 >
          k->cap) {
    k->ok = 0;
    return;
  }
  if (k->s != k->buf && k->len) /* the first segment, left in place */
    memcpy(k->buf, k->s, k->len);
  k->s = k->buf;
  if (sep)
    k->buf[k->len++] = '/';
  if (plain)
    memcpy(k->buf + k->len, v, plain);
  k->len += plain;
  k->len += pt_uri_encode_segment(v + plain, rest, k->buf + k->len);
}

size_t pt_uri_encode_segment(const uint8_t *v, size_t len, uint8_t *out) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (size_t i = 0; v && i < len; i++) {
    uint8_t c = v[i];
    if (path_keeps(c)) {
      if (out)
        out[n] = c;
      n++;
      continue;
    }
    if (out) {
      out[n] = '%';
      out[n + 1] = (uint8_t)hex[c >> 4];
      out[n + 2] = (uint8_t)hex[c & 15];
    }
    n += 3;
  }
  return n;
}

/*
 * Decodes the percent-encoded @p len bytes at @p s unit by unit (a byte,
 * or "%" and two hex digits) and encodes each again with @p keep; a raw
 * @p sep stays the separator. A "%" without two hex digits after it is
 * taken as the byte "%" itself.
 */
static size_t canon(const uint8_t *s, size_t len, uint8_t sep,
                    int (*keep)(uint8_t), uint8_t *out) {
  size_t n = 0;
  for (size_t i = 0; s && i < len; i++) {
    uint8_t c = s[i];
    if (c == sep) {
      if (out)
        out[n] = c;
      n++;
      continue;
    }
    if (c == '%' && pct_ok(s, len, i)) {
      c = (uint8_t)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
      i += 2;
    }
    encode_byte(c, keep, out, &n);
  }
  return n;
}

size_t pt_uri_path_canon(const uint8_t *s, size_t len, uint8_t *out) {
  return canon(s, len, '/', keep_in_path, out);
}

size_t pt_uri_query_canon(const uint8_t *s, size_t len, uint8_t *out) {
  return canon(s, len, '&', keep_in_query, out);
}

/*
 * Joins the values of every option @p number in @p pdu with @p sep,
 * percent-encoding bytes @p keep refuses. With @p out NULL only measures.
 * Returns the length, and in *count the number of options seen.
 */
static size_t join_options(const coap_pdu_t *pdu, coap_option_num_t number,
                           uint8_t sep, int (*keep)(uint8_t), uint8_t *out,
                           size_t *count) {
  coap_opt_filter_t filter;
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  size_t n = 0;
  *count = 0;
  if (!pdu || !pt_pdu_may_have(pdu, number))
    return 0; /* the common case for Uri-Query: no walk */
  coap_option_filter_clear(&filter);
  coap_option_filter_set(&filter, number);
  if (!coap_option_iterator_init(pdu, &it, &filter))
    return 0;
  while ((opt = coap_option_next(&it))) {
    if (*count > 0) {
      if (out)
        out[n] = sep;
      n++;
    }
    (*count)++;
    const uint8_t *v = coap_opt_value(opt);
    for (uint32_t i = 0, len = coap_opt_length(opt); v && i < len; i++)
      encode_byte(v[i], keep, out, &n);
  }
  return n;
}

size_t pt_uri_path_of_options(const coap_pdu_t *pdu, uint8_t *out) {
  size_t count;
  return join_options(pdu, COAP_OPTION_URI_PATH, '/', keep_in_path, out,
                      &count);
}

size_t pt_uri_query_of_options(const coap_pdu_t *pdu, uint8_t *out,
                               size_t *count) {
  return join_options(pdu, COAP_OPTION_URI_QUERY, '&', keep_in_query, out,
                      count);
}

/* The joined options as a new string; NULL when there are none and
 * @p none_is_null, or when out of memory. */
static coap_string_t *joined_string(const coap_pdu_t *pdu,
                                    coap_option_num_t number, uint8_t sep,
                                    int (*keep)(uint8_t), int none_is_null) {
  size_t count;
  size_t len = join_options(pdu, number, sep, keep, NULL, &count);
  if (count == 0 && none_is_null)
    return NULL;
  coap_string_t *str = coap_new_string(len);
  if (!str)
    return NULL;
  join_options(pdu, number, sep, keep, str->s, &count);
  str->length = len;
  return str;
}

coap_string_t *coap_get_query(const coap_pdu_t *request) {
  if (!request)
    return NULL;
  return joined_string(request, COAP_OPTION_URI_QUERY, '&', keep_in_query, 1);
}

coap_string_t *coap_get_uri_path(const coap_pdu_t *request) {
  if (!request)
    return NULL;
  coap_opt_iterator_t it;
  coap_opt_t *proxy = coap_check_option(request, COAP_OPTION_PROXY_URI, &it);
  if (proxy) {
    coap_uri_t uri;
    const uint8_t *v = coap_opt_value(proxy);
    if (!v ||
        coap_split_proxy_uri(v, coap_opt_length(proxy), &uri) != PT_URI_OK)
      return NULL;
    /* In the same form as a path from Uri-Path options, so that either
     * way of naming a resource gives the same string. */
    size_t len = pt_uri_path_canon(uri.path.s, uri.path.length, NULL);
    coap_string_t *str = coap_new_string(len);
    if (str) {
      pt_uri_path_canon(uri.path.s, uri.path.length, str->s);
      str->length = len;
    }
    return str;
  }
  return joined_string(request, COAP_OPTION_URI_PATH, '/', keep_in_path, 0);
}
