/*
 * test_uri.c -- coap_split_uri(), coap_split_proxy_uri() and coap_uri_t
 * allocation (src/uri.c).
 */
#include "coap3/coap_dtls.h"
#include "coap3/coap_io.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_uri.h"
#include "coap3/coap_ws.h"
#include "pdu.h"
#include "test.h"
#include "uri.h"

/* Splits the C string @p s with coap_split_uri(). */
static int split(const char *s, coap_uri_t *uri) {
  return coap_split_uri((const uint8_t *)s, strlen(s), uri);
}

static int split_proxy(const char *s, coap_uri_t *uri) {
  return coap_split_proxy_uri((const uint8_t *)s, strlen(s), uri);
}

/* Splits by the grammar alone, whatever transports this build has. */
static int split_grammar(const char *s, coap_uri_t *uri) {
  return pt_uri_split((const uint8_t *)s, strlen(s), uri, 0);
}

#define CHECK_PART(part, text)                                                 \
  CHECK_MEM_EQ((part).s, (part).length, (text), strlen(text))

/* ---- well-formed URIs ---------------------------------------------------- */

TEST(ipv6_port_path_query) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://[::1]:5683/a/b?x=1&y", &u), 0);
  CHECK_INT_EQ(u.scheme, COAP_URI_SCHEME_COAP);
  CHECK_PART(u.host, "::1"); /* brackets stripped */
  CHECK_INT_EQ(u.port, 5683);
  CHECK_PART(u.path, "a/b"); /* no leading "/" */
  CHECK_PART(u.query, "x=1&y");
  CHECK_INT_EQ(coap_uri_scheme_is_secure(&u), 0);
}

TEST(ipv4_host_explicit_port) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://192.0.2.1:61616/sensors/temp", &u), 0);
  CHECK_PART(u.host, "192.0.2.1");
  CHECK_INT_EQ(u.port, 61616);
  CHECK_PART(u.path, "sensors/temp");
  CHECK_INT_EQ(u.query.length, 0);
}

TEST(coaps_default_port) {
  coap_uri_t u;
  CHECK_INT_EQ(split_grammar("coaps://example.org/x", &u), 0);
  CHECK_INT_EQ(u.scheme, COAP_URI_SCHEME_COAPS);
  CHECK_INT_EQ(u.port, 5684);
  CHECK_INT_EQ(coap_uri_scheme_is_secure(&u), 1);
}

TEST(default_ports_per_scheme) {
  static const struct {
    const char *uri;
    coap_uri_scheme_t scheme;
    uint16_t port;
  } cases[] = {
      {"coap://h", COAP_URI_SCHEME_COAP, 5683},
      {"coaps://h", COAP_URI_SCHEME_COAPS, 5684},
      {"coap+tcp://h", COAP_URI_SCHEME_COAP_TCP, 5683},
      {"coaps+tcp://h", COAP_URI_SCHEME_COAPS_TCP, 5684},
      {"coap+ws://h", COAP_URI_SCHEME_COAP_WS, 80},
      {"coaps+ws://h", COAP_URI_SCHEME_COAPS_WS, 443},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    coap_uri_t u;
    CHECK_INT_EQ(split_grammar(cases[i].uri, &u), 0);
    CHECK_INT_EQ(u.scheme, cases[i].scheme);
    CHECK_INT_EQ(u.port, cases[i].port);
    CHECK_INT_EQ(pt_uri_default_port(cases[i].scheme), cases[i].port);
    /* Odd values are the secure schemes. */
    CHECK_INT_EQ(coap_uri_scheme_is_secure(&u), (int)(cases[i].scheme & 1));
  }
}

/* A scheme whose transport is not built fails with -1 (libcoap's value)
 * from both splitters and coap_new_uri(); the library is asked, so the
 * day a transport is built its scheme splits. */
TEST(schemes_need_their_transport) {
  static const struct {
    const char *uri;
    int (*built)(void);
  } cases[] = {
      {"coaps://h/p", coap_dtls_is_supported},
      {"coap+tcp://h/p", coap_tcp_is_supported},
      {"coaps+tcp://h/p", coap_tls_is_supported},
      {"coap+ws://h/p", coap_ws_is_supported},
      {"COAPS+WS://h/p", coap_wss_is_supported},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    coap_uri_t u;
    const char *s = cases[i].uri;
    int want = cases[i].built() ? 0 : -1;
    CHECK_INT_EQ(split_grammar(s, &u), 0);
    CHECK_INT_EQ(split(s, &u), want);
    CHECK_INT_EQ(split_proxy(s, &u), want);
    coap_uri_t *n = coap_new_uri((const uint8_t *)s, (unsigned)strlen(s));
    CHECK_INT_EQ(n != NULL, want == 0);
    coap_delete_uri(n);
  }
  CHECK_INT_EQ(split("coaps://h/p", &(coap_uri_t){0}),
               coap_dtls_is_supported() ? 0 : -1);
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h/p", &u), 0);
  CHECK_INT_EQ(split_proxy("coap://h/p", &u), 0);
}

TEST(scheme_constants) {
  CHECK_INT_EQ(COAP_URI_SCHEME_COAP, 0);
  CHECK_INT_EQ(COAP_URI_SCHEME_COAPS_TCP, 3);
  CHECK_INT_EQ(COAP_URI_SCHEME_HTTPS, 5);
  CHECK_INT_EQ(COAP_URI_SCHEME_COAPS_WS, 7);
  CHECK_INT_EQ(COAP_URI_SCHEME_LAST, 8);
  CHECK_INT_EQ(COAP_URI_SCHEME_SECURE_MASK, 1);
  CHECK_INT_EQ(COAP_URI_SCHEME_ALL_COAP_BITS, 0xcf);
  CHECK_NULL(pt_uri_scheme_info(COAP_URI_SCHEME_LAST));
  CHECK_STR_EQ(pt_uri_scheme_info(COAP_URI_SCHEME_COAP_TCP)->name, "coap+tcp");
}

/* RFC 3986 3.1: schemes are case-insensitive. libcoap 4.3.4 matches them
 * case-sensitively and rejects "COAP://". */
TEST(scheme_case_insensitive) {
  coap_uri_t u;
  CHECK_INT_EQ(split_grammar("CoAPs+TCP://h/", &u), 0);
  CHECK_INT_EQ(u.scheme, COAP_URI_SCHEME_COAPS_TCP);
  CHECK_INT_EQ(u.port, 5684);
}

TEST(host_without_path) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://host", &u), 0);
  CHECK_PART(u.host, "host");
  CHECK_INT_EQ(u.port, 5683);
  CHECK_INT_EQ(u.path.length, 0);
  CHECK_NULL(u.path.s);
  CHECK_INT_EQ(u.query.length, 0);
  CHECK_NULL(u.query.s);
}

TEST(root_path_is_empty) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://host/", &u), 0);
  CHECK_INT_EQ(u.path.length, 0);
}

TEST(trailing_slash_kept) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://host/a/", &u), 0);
  CHECK_PART(u.path, "a/");
}

TEST(query_without_path) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://host?a=b/c?d", &u), 0);
  CHECK_INT_EQ(u.path.length, 0);
  CHECK_PART(u.query, "a=b/c?d"); /* "/" and "?" are query characters */
}

TEST(empty_port_means_default) {
  coap_uri_t u;
  CHECK_INT_EQ(split_grammar("coaps://h:/p", &u), 0);
  CHECK_INT_EQ(u.port, 5684);
  CHECK_PART(u.path, "p");
}

TEST(port_bounds) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h:65535", &u), 0);
  CHECK_INT_EQ(u.port, 65535);
  CHECK_INT_EQ(split("coap://h:0?q", &u), 0);
  CHECK_INT_EQ(u.port, 0);
  CHECK_INT_EQ(split("coap://h:000080/", &u), 0);
  CHECK_INT_EQ(u.port, 80);
}

TEST(percent_encoded_parts_kept_encoded) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h/a%20b/%C3%A9?q=%26", &u), 0);
  CHECK_PART(u.path, "a%20b/%C3%A9");
  CHECK_PART(u.query, "q=%26");
}

TEST(ipv6_zone_accepted) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://[fe80::1%eth0]:1234", &u), 0);
  CHECK_PART(u.host, "fe80::1%eth0");
  CHECK_INT_EQ(u.port, 1234);
}

TEST(bare_path) {
  coap_uri_t u;
  CHECK_INT_EQ(split("/.well-known/core?rt=x", &u), 0);
  CHECK_INT_EQ(u.scheme, COAP_URI_SCHEME_COAP);
  CHECK_INT_EQ(u.host.length, 0);
  CHECK_INT_EQ(u.port, 5683);
  CHECK_PART(u.path, ".well-known/core");
  CHECK_PART(u.query, "rt=x");
}

TEST(unix_domain_host) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://%2Ftmp%2Fsrv.sock/a", &u), 0);
  CHECK_PART(u.host, "%2Ftmp%2Fsrv.sock");
  CHECK_INT_EQ(u.port, 0);
  CHECK_INT_EQ(coap_host_is_unix_domain(&u.host), 1);
  CHECK_PART(u.path, "a");
}

TEST(host_is_unix_domain) {
  coap_str_const_t a = {4, (const uint8_t *)"%2fx"};
  coap_str_const_t b = {2, (const uint8_t *)"/x"};
  coap_str_const_t c = {4, (const uint8_t *)"%20x"};
  coap_str_const_t d = {0, NULL};
  CHECK_INT_EQ(coap_host_is_unix_domain(&a), 1);
  CHECK_INT_EQ(coap_host_is_unix_domain(&b), 1);
  CHECK_INT_EQ(coap_host_is_unix_domain(&c), 0);
  CHECK_INT_EQ(coap_host_is_unix_domain(&d), 0);
  CHECK_INT_EQ(coap_host_is_unix_domain(NULL), 0);
}

TEST(ip_literal_detection) {
  static const struct {
    const char *host;
    int ip;
  } cases[] = {
      {"192.0.2.1", 1}, {"::1", 1},       {"0.0.0.0", 1},
      {"256.1.1.1", 0}, {"1.2.3", 0},     {"1.2.3.4.5", 0},
      {"01.2.3.4", 0},  {"example.org", 0}, {"1.2.3.4x", 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    coap_str_const_t h = {strlen(cases[i].host),
                          (const uint8_t *)cases[i].host};
    CHECK_INT_EQ(pt_uri_host_is_ip_literal(&h), cases[i].ip);
  }
}

/* ---- proxy URIs ----------------------------------------------------------- */

TEST(proxy_http_scheme) {
  coap_uri_t u;
  CHECK_INT_EQ(split_proxy("http://example.com/x?y", &u), 0);
  CHECK_INT_EQ(u.scheme, COAP_URI_SCHEME_HTTP);
  CHECK_INT_EQ(u.port, 80);
  CHECK_PART(u.host, "example.com");
  CHECK_PART(u.path, "x");
  CHECK_PART(u.query, "y");
}

TEST(proxy_https_scheme) {
  coap_uri_t u;
  CHECK_INT_EQ(split_proxy("HTTPS://[2001:db8::1]:8443/", &u), 0);
  CHECK_INT_EQ(u.scheme, COAP_URI_SCHEME_HTTPS);
  CHECK_INT_EQ(u.port, 8443);
  CHECK_PART(u.host, "2001:db8::1");
  CHECK_INT_EQ(coap_uri_scheme_is_secure(&u), 1);
}

TEST(proxy_coap_scheme) {
  coap_uri_t u;
  CHECK_INT_EQ(split_proxy("coap://h/p", &u), 0);
  CHECK_INT_EQ(u.scheme, COAP_URI_SCHEME_COAP);
}

/* ---- malformed URIs: one test each --------------------------------------- */

TEST(reject_http_scheme_outside_proxy) {
  coap_uri_t u;
  CHECK_INT_EQ(split("http://example.com/", &u), PT_URI_EBADSCHEME);
  CHECK_INT_EQ(split("https://example.com/", &u), PT_URI_EBADSCHEME);
}

TEST(reject_unknown_scheme) {
  coap_uri_t u;
  CHECK_INT_EQ(split("ftp://h/x", &u), PT_URI_EBADSCHEME);
  CHECK_INT_EQ(split("coapx://h/x", &u), PT_URI_EBADSCHEME);
}

TEST(reject_missing_scheme_separator) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap:/h/x", &u), PT_URI_ENOSCHEME);
  CHECK_INT_EQ(split("coap:", &u), PT_URI_ENOSCHEME);
  CHECK_INT_EQ(split("host/path", &u), PT_URI_ENOSCHEME);
  CHECK_INT_EQ(split("://h", &u), PT_URI_ENOSCHEME);
}

TEST(reject_proxy_bare_path) {
  coap_uri_t u;
  CHECK_INT_EQ(split_proxy("/a/b", &u), PT_URI_ENOSCHEME);
}

TEST(reject_non_digit_port) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h:12a/", &u), PT_URI_EPORTSYNTAX);
  CHECK_INT_EQ(split("coap://h:-1", &u), PT_URI_EPORTSYNTAX);
  CHECK_INT_EQ(split("coap://h:80:81", &u), PT_URI_EPORTSYNTAX);
}

TEST(reject_too_large_port) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h:65536/", &u), PT_URI_EPORTRANGE);
  CHECK_INT_EQ(split("coap://h:99999999999999999999999", &u),
               PT_URI_EPORTRANGE);
}

TEST(reject_port_on_unix_domain_host) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://%2Ftmp%2Fs:5683/", &u), PT_URI_EUNIXPORT);
}

TEST(reject_unterminated_bracket) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://[::1", &u), PT_URI_EBADHOST);
  CHECK_INT_EQ(split("coap://[::1/a]", &u), PT_URI_EBADHOST);
}

TEST(reject_empty_brackets) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://[]/", &u), PT_URI_EBADHOST);
}

TEST(reject_junk_after_bracket) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://[::1]x/", &u), PT_URI_EBADHOST);
}

TEST(reject_empty_host) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap:///path", &u), PT_URI_EBADHOST);
  CHECK_INT_EQ(split("coap://", &u), PT_URI_EBADHOST);
  CHECK_INT_EQ(split("coap://:5683/", &u), PT_URI_EBADHOST);
}

TEST(reject_userinfo) {
  coap_uri_t u;
  /* RFC 7252's coap-URI has no userinfo. */
  CHECK_INT_EQ(split("coap://user@h/", &u), PT_URI_EBADHOST);
}

TEST(reject_non_hex_percent) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h/%zz", &u), PT_URI_EPERCENT);
  CHECK_INT_EQ(split("coap://h/a?%g0", &u), PT_URI_EPERCENT);
  CHECK_INT_EQ(split("coap://h%zz/", &u), PT_URI_EPERCENT);
}

TEST(reject_truncated_percent) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h/%4", &u), PT_URI_EPERCENT);
  CHECK_INT_EQ(split("coap://h/a?b%", &u), PT_URI_EPERCENT);
  CHECK_INT_EQ(split("coap://h/%4/x", &u), PT_URI_EPERCENT);
}

/* RFC 7252 6.4 step 4 fails on a fragment; libcoap 4.3.4 keeps "#f" as part
 * of the path or query. */
TEST(reject_fragment) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h/a#f", &u), PT_URI_EFRAGMENT);
  CHECK_INT_EQ(split("coap://h/a?q#f", &u), PT_URI_EFRAGMENT);
  CHECK_INT_EQ(split("coap://h#f", &u), PT_URI_EFRAGMENT);
  CHECK_INT_EQ(split("coap://h:1#", &u), PT_URI_EFRAGMENT);
}

TEST(reject_bad_path_character) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://h/a b", &u), PT_URI_EBADCHAR);
  CHECK_INT_EQ(split("coap://h/a[0]", &u), PT_URI_EBADCHAR);
  CHECK_INT_EQ(split("coap://h/?a\"b", &u), PT_URI_EBADCHAR);
  static const uint8_t nul[] = "coap://h/a\0b";
  CHECK_INT_EQ(coap_split_uri(nul, sizeof(nul) - 1, &u), PT_URI_EBADCHAR);
  static const uint8_t high[] = "coap://h/\xc3\xa9";
  CHECK_INT_EQ(coap_split_uri(high, sizeof(high) - 1, &u), PT_URI_EBADCHAR);
}

TEST(reject_bad_host_character) {
  coap_uri_t u;
  CHECK_INT_EQ(split("coap://a b/", &u), PT_URI_EBADHOST);
  CHECK_INT_EQ(split("coap://h[x]/", &u), PT_URI_EBADHOST);
  CHECK_INT_EQ(split("coap://[::1 ]/", &u), PT_URI_EBADHOST);
}

TEST(reject_null_and_empty) {
  coap_uri_t u;
  CHECK_INT_EQ(coap_split_uri(NULL, 5, &u), PT_URI_EARG);
  CHECK_INT_EQ(coap_split_uri((const uint8_t *)"coap://h", 8, NULL),
               PT_URI_EARG);
  CHECK_INT_EQ(coap_split_uri((const uint8_t *)"", 0, &u), PT_URI_EARG);
  CHECK_INT_EQ(coap_split_proxy_uri(NULL, 0, &u), PT_URI_EARG);
}

/* The length bounds the parse: bytes after it are never read. */
TEST(length_bounds_input) {
  coap_uri_t u;
  const char *s = "coap://h:1234/p";
  CHECK_INT_EQ(coap_split_uri((const uint8_t *)s, 10, &u), 0);
  CHECK_PART(u.host, "h");
  CHECK_INT_EQ(u.port, 1);
}

/* ---- coap_new_uri / coap_clone_uri / coap_delete_uri --------------------- */

TEST(new_uri_owns_copy) {
  char text[] = "coap://[::1]:99/p/q?r";
  coap_uri_t *u = coap_new_uri((const uint8_t *)text, (unsigned)strlen(text));
  CHECK_NOT_NULL(u);
  memset(text, 'x', strlen(text)); /* the object must not depend on it */
  CHECK_INT_EQ(u->scheme, COAP_URI_SCHEME_COAP);
  CHECK_PART(u->host, "::1");
  CHECK_INT_EQ(u->port, 99);
  CHECK_PART(u->path, "p/q");
  CHECK_PART(u->query, "r");
  coap_delete_uri(u);
}

TEST(new_uri_rejects_bad) {
  CHECK_NULL(coap_new_uri((const uint8_t *)"coap://h:x", 10));
  CHECK_NULL(coap_new_uri(NULL, 3));
  CHECK_NULL(coap_new_uri((const uint8_t *)"", 0));
}

/* libcoap 4.3.4's clone leaves the scheme at coap; Petrel copies it. */
TEST(clone_uri_copies_everything) {
  coap_uri_t src;
  char text[] = "coaps://example.net:7/a/b?c=d";
  CHECK_INT_EQ(split_grammar(text, &src), 0);
  coap_uri_t *c = coap_clone_uri(&src);
  CHECK_NOT_NULL(c);
  memset(text, 'x', strlen(text));
  CHECK_INT_EQ(c->scheme, COAP_URI_SCHEME_COAPS);
  CHECK_INT_EQ(c->port, 7);
  CHECK_PART(c->host, "example.net");
  CHECK_PART(c->path, "a/b");
  CHECK_PART(c->query, "c=d");
  coap_delete_uri(c);
}

TEST(clone_uri_empty_parts) {
  coap_uri_t src;
  CHECK_INT_EQ(split("coap://h", &src), 0);
  coap_uri_t *c = coap_clone_uri(&src);
  CHECK_NOT_NULL(c);
  CHECK_NULL(c->path.s);
  CHECK_NULL(c->query.s);
  coap_delete_uri(c);
  CHECK_NULL(coap_clone_uri(NULL));
  coap_delete_uri(NULL);
}


/* ---- coap_split_path / coap_split_query: exact option bytes ------------- */
/* Each option has delta 0: header byte = length (< 13), or 13 then
 * length - 13, or 14 then (length - 269) as two bytes. */

/* Runs @p fn on the C string @p s into @p out (room 256); returns count. */
static int split_with(int (*fn)(const uint8_t *, size_t, unsigned char *,
                                size_t *),
                      const char *s, uint8_t *out, size_t *len) {
  *len = 256;
  return fn((const uint8_t *)s, strlen(s), out, len);
}

#define CHECK_SPLIT(fn, input, want_count, ...)                                \
  do {                                                                         \
    static const uint8_t want_[] = {__VA_ARGS__};                              \
    uint8_t out_[256];                                                         \
    size_t len_;                                                               \
    CHECK_INT_EQ(split_with(fn, input, out_, &len_), want_count);              \
    CHECK_MEM_EQ(out_, len_, want_, sizeof(want_));                            \
  } while (0)

TEST(split_path_segments) {
  CHECK_SPLIT(coap_split_path, "a/bc", 2, 0x01, 'a', 0x02, 'b', 'c');
}

TEST(split_path_percent_decoded) {
  CHECK_SPLIT(coap_split_path, "a%20b/%C3%a9/%2F", 3, 0x03, 'a', ' ', 'b',
              0x02, 0xc3, 0xa9, 0x01, '/');
}

TEST(split_path_empty_is_none) {
  uint8_t out[4];
  size_t len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"", 0, out, &len), 0);
  CHECK_INT_EQ(len, 0);
  len = sizeof(out);
  CHECK_INT_EQ(coap_split_path(NULL, 0, out, &len), 0);
  len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"?q", 2, out, &len), 0);
}

/* RFC 7252 6.4 step 8: "coap://h/a/" has a last, empty segment. */
TEST(split_path_trailing_slash) {
  CHECK_SPLIT(coap_split_path, "a/", 2, 0x01, 'a', 0x00);
}

/* The path "//" (stored as "/") is two empty segments. */
TEST(split_path_double_slash) {
  CHECK_SPLIT(coap_split_path, "/", 2, 0x00, 0x00);
}

TEST(split_path_stops_at_query_and_fragment) {
  CHECK_SPLIT(coap_split_path, "a/b?c/d", 2, 0x01, 'a', 0x01, 'b');
  CHECK_SPLIT(coap_split_path, "a#b/c", 1, 0x01, 'a');
}

/* RFC 7252 6.4 step 2 resolves the URI (RFC 3986 5.2.4), so ".." removes
 * the segment before it. libcoap 4.3.4 only drops "." and ".." segments:
 * it would give a, b, c here. */
TEST(split_path_dot_dot_removes_previous) {
  CHECK_SPLIT(coap_split_path, "a/b/../c", 2, 0x01, 'a', 0x01, 'c');
}

TEST(split_path_single_dot_dropped) {
  CHECK_SPLIT(coap_split_path, "a/./b", 2, 0x01, 'a', 0x01, 'b');
}

/* "/a/b/.." resolves to "/a/": a, then an empty segment. libcoap 4.3.4
 * gives a, b. */
TEST(split_path_trailing_dots_leave_empty_segment) {
  CHECK_SPLIT(coap_split_path, "a/b/..", 2, 0x01, 'a', 0x00);
  CHECK_SPLIT(coap_split_path, "a/.", 2, 0x01, 'a', 0x00);
}

/* ".." at the root has nothing to remove (RFC 3986 5.2.4). */
TEST(split_path_dot_dot_above_root) {
  CHECK_SPLIT(coap_split_path, "../../a", 1, 0x01, 'a');
}

/* Paths resolving to "/" give no options (step 8's "single slash"). */
TEST(split_path_resolving_to_root) {
  uint8_t out[8];
  size_t len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"a/..", 4, out, &len), 0);
  CHECK_INT_EQ(len, 0);
  len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)".", 1, out, &len), 0);
  len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"a/../", 5, out, &len), 0);
}

/* "..." and ".a" are ordinary segments; "%2E" is not a dot segment. */
TEST(split_path_dot_lookalikes) {
  CHECK_SPLIT(coap_split_path, ".../.a/%2E%2E", 3, 0x03, '.', '.', '.', 0x02,
              '.', 'a', 0x02, '.', '.');
}

TEST(split_path_extended_lengths) {
  uint8_t path[300], out[320];
  memset(path, 'x', sizeof(path));
  size_t len = sizeof(out);
  CHECK_INT_EQ(coap_split_path(path, 13, out, &len), 1);
  CHECK_INT_EQ(len, 15);
  CHECK_UINT_EQ(out[0], 0x0d);
  CHECK_UINT_EQ(out[1], 0x00);
  len = sizeof(out);
  CHECK_INT_EQ(coap_split_path(path, 270, out, &len), 1);
  CHECK_INT_EQ(len, 273);
  CHECK_UINT_EQ(out[0], 0x0e);
  CHECK_UINT_EQ(out[1], 0x00);
  CHECK_UINT_EQ(out[2], 0x01);
}

/* A segment that cannot be an option ends the output: the segments
 * before it are written, never -1 (a caller looping `while (res--)`, as
 * libcoap's examples do, must end). */
TEST(split_path_stops_at_non_hex_percent) {
  CHECK_SPLIT(coap_split_path, "a/%zz", 1, 0x01, 'a');
  CHECK_SPLIT(coap_split_path, "a/b%zz/c", 1, 0x01, 'a');
  uint8_t out[16];
  size_t len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"%zz/a", 5, out, &len), 0);
  CHECK_INT_EQ(len, 0);
}

TEST(split_path_stops_at_truncated_percent) {
  uint8_t out[16];
  size_t len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"%4", 2, out, &len), 0);
  CHECK_INT_EQ(len, 0);
  len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"a%/b", 4, out, &len), 0);
  CHECK_INT_EQ(len, 0);
  /* Also in a segment that ".." would remove: what follows is dropped. */
  CHECK_SPLIT(coap_split_path, "x/%4/..", 1, 0x01, 'x');
  CHECK_SPLIT(coap_split_path, "x/y/%4", 2, 0x01, 'x', 0x01, 'y');
}

/* libcoap's contract: with a short buffer, the number of segments that
 * fit, *buflen the bytes they take. */
TEST(split_path_short_buffer_gives_segments_that_fit) {
  uint8_t out[5];
  size_t len = 4; /* needs 5: 02 'a' 'b' 01 'c' */
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"ab/c", 4, out, &len), 1);
  CHECK_INT_EQ(len, 3);
  CHECK_MEM_EQ(out, len,
               "\x02"
               "ab",
               3);
  len = 0;
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"a/", 2, out, &len), 0);
  CHECK_INT_EQ(len, 0);
  len = 2;
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"ab/c", 4, out, &len), 0);
  CHECK_INT_EQ(len, 0);
  len = 5;
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"ab/c", 4, out, &len), 2);
  CHECK_INT_EQ(len, 5);
  /* A later, smaller segment is not written after one that did not fit:
   * the options are always the path's first segments. */
  len = 3;
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"abc/d", 5, out, &len), 0);
  CHECK_INT_EQ(len, 0);
}

/* Kept-back inputs: for every buffer size, the result is the longest run
 * of leading options (as the full split writes them) that fits, and
 * libcoap's example loop over it ends. */
static void check_every_buffer_size(int (*fn)(const uint8_t *, size_t,
                                              unsigned char *, size_t *),
                                    const char *input) {
  uint8_t full[512], part[512];
  size_t flen = sizeof(full);
  int all = fn((const uint8_t *)input, strlen(input), full, &flen);
  CHECK(all >= 0);
  for (size_t cap = 0; cap <= flen + 1; cap++) {
    size_t len = cap;
    int n = fn((const uint8_t *)input, strlen(input), part, &len);
    /* Expected: options of the full run while they fit in cap. */
    int want = 0;
    size_t want_len = 0;
    while (want < all && want_len + coap_opt_size(full + want_len) <= cap)
      want_len += coap_opt_size(full + want_len), want++;
    CHECK_INT_EQ(n, want);
    CHECK_INT_EQ(len, want_len);
    CHECK_MEM_EQ(part, len, full, want_len);
    int loops = 0; /* the man page's loop */
    uint8_t *sbuf = part;
    while (n-- && loops < 1000) {
      sbuf += coap_opt_size(sbuf);
      loops++;
    }
    CHECK_INT_EQ(loops, want);
  }
}

TEST(split_every_buffer_size_kept_back_inputs) {
  static const char *paths[] = {
      "a/bc/def",
      "x/../y/./z/",
      "%41%42/c%20d/%2F%2f",
      "seg/with%25pct/q",
      "a/b/c/../../d/e/.",
      "../../../x/y",
      "one-long-segment-of-more-than-thirteen-bytes/and-one-more/k",
  };
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
    check_every_buffer_size(coap_split_path, paths[i]);
  static const char *queries[] = {
      "a=1&b=2&c",
      "&&x",
      "q=%26&r=%3D%3d&s=a%20b",
      "k&",
      "filter=rt%3Dtemperature-c-and-a-long-tail&x=y",
  };
  for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
    check_every_buffer_size(coap_split_query, queries[i]);
}

/* libcoap's etsi_iot_01 example: a POST handler builds Location-Path
 * options from the new resource's path with
 *   res = coap_split_path(uri->s, uri->length, buf, &buflen);
 *   while (res--) { ... }
 * into a small buffer. A long path must end the loop, not spin. */
TEST(split_path_etsi_style_loop_ends_with_long_path) {
  char path[600];
  for (size_t i = 0; i < sizeof(path) - 1; i++)
    path[i] = (i % 10 == 9) ? '/' : (char)('a' + i % 26);
  path[sizeof(path) - 1] = 0;
  unsigned char buf[128];
  size_t buflen = sizeof(buf);
  int res = coap_split_path((const uint8_t *)path, strlen(path), buf, &buflen);
  CHECK(res > 0);
  CHECK(buflen <= sizeof(buf));
  int n = 0;
  unsigned char *b = buf;
  while (res-- && n < 1000) {
    CHECK(b + coap_opt_size(b) <= buf + buflen);
    b += coap_opt_size(b);
    n++;
  }
  CHECK(n < 1000);
  CHECK_INT_EQ((int)(b - buf), (int)buflen);
}

TEST(split_path_null_arguments_give_zero) {
  uint8_t out[4];
  size_t len = sizeof(out);
  CHECK_INT_EQ(coap_split_path(NULL, 3, out, &len), 0);
  CHECK_INT_EQ(len, 0);
  len = sizeof(out);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"a", 1, NULL, &len), 0);
  CHECK_INT_EQ(coap_split_path((const uint8_t *)"a", 1, out, NULL), 0);
  CHECK_INT_EQ(coap_split_query(NULL, 3, out, &len), 0);
  CHECK_INT_EQ(coap_split_query((const uint8_t *)"a", 1, NULL, &len), 0);
  CHECK_INT_EQ(coap_split_query((const uint8_t *)"a", 1, out, NULL), 0);
}

TEST(split_query_arguments) {
  CHECK_SPLIT(coap_split_query, "x=1&y", 2, 0x03, 'x', '=', '1', 0x01, 'y');
}

TEST(split_query_empty_arguments_kept) {
  CHECK_SPLIT(coap_split_query, "a&&b&", 4, 0x01, 'a', 0x00, 0x01, 'b',
              0x00);
}

TEST(split_query_percent_decoded_no_dots) {
  CHECK_SPLIT(coap_split_query, "q=%26/..&..", 2, 0x06, 'q', '=', '&', '/',
              '.', '.', 0x02, '.', '.');
}

TEST(split_query_stops_at_fragment) {
  CHECK_SPLIT(coap_split_query, "a?b#c&d", 1, 0x03, 'a', '?', 'b');
  uint8_t out[4];
  size_t len = sizeof(out);
  CHECK_INT_EQ(coap_split_query((const uint8_t *)"", 0, out, &len), 0);
  CHECK_INT_EQ(len, 0);
}

TEST(split_query_stops_at_bad_percent) {
  CHECK_SPLIT(coap_split_query, "a&%zz&b", 1, 0x01, 'a');
  uint8_t out[16];
  size_t len = sizeof(out);
  CHECK_INT_EQ(coap_split_query((const uint8_t *)"a=%4", 4, out, &len), 0);
  CHECK_INT_EQ(len, 0);
}

TEST(split_query_short_buffer_gives_arguments_that_fit) {
  uint8_t out[4];
  size_t len = 3;
  CHECK_INT_EQ(coap_split_query((const uint8_t *)"ab&c", 4, out, &len), 1);
  CHECK_INT_EQ(len, 3);
  CHECK_MEM_EQ(out, len,
               "\x02"
               "ab",
               3);
  len = 2;
  CHECK_INT_EQ(coap_split_query((const uint8_t *)"ab&c", 4, out, &len), 0);
  CHECK_INT_EQ(len, 0);
}

/* ---- coap_uri_into_options: the options as they go on the wire --------- */

/* Adds @p chain to a fresh PDU and copies its encoded options to @p out. */
static size_t chain_wire(coap_optlist_t **chain, uint8_t *out, size_t room) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                                  1, 1024);
  size_t len = 0;
  if (pdu && coap_add_optlist_pdu(pdu, chain)) {
    const uint8_t *opts = pt_pdu_opts(pdu, &len);
    if (len > room)
      len = 0;
    else
      memcpy(out, opts, len);
  }
  coap_delete_pdu(pdu);
  return len;
}

/* Splits @p text, converts it with @p dst and @p port_host, and checks the
 * option bytes the PDU ends up with. */
#define CHECK_URI_OPTIONS(text, dst, port_host, ...)                           \
  do {                                                                         \
    static const uint8_t want_[] = {__VA_ARGS__};                              \
    coap_uri_t u_;                                                             \
    coap_optlist_t *chain_ = NULL;                                             \
    uint8_t wire_[512];                                                        \
    uint8_t scratch_[64];                                                      \
    CHECK_INT_EQ(split_grammar(text, &u_), 0);                                 \
    int rc_ = coap_uri_into_options(&u_, dst, &chain_, port_host, scratch_,    \
                                    sizeof(scratch_));                         \
    size_t n_ = chain_wire(&chain_, wire_, sizeof(wire_));                     \
    coap_delete_optlist(chain_);                                               \
    CHECK_INT_EQ(rc_, 0);                                                      \
    CHECK_MEM_EQ(wire_, n_, want_, sizeof(want_));                             \
  } while (0)

/* Stands in for a destination address: only its being non-NULL matters. */
static int some_dst;
#define DST ((const struct coap_address_t *)&some_dst)

TEST(into_options_ipv6_path_query) {
  /* Uri-Path (11) "a", "b"; Uri-Query (15) "x=1", "y". The IP literal and
   * the default port add neither Uri-Host nor Uri-Port. */
  CHECK_URI_OPTIONS("coap://[::1]:5683/a/b?x=1&y", DST, 1, 0xb1, 'a', 0x01,
                    'b', 0x43, 'x', '=', '1', 0x01, 'y');
}

TEST(into_options_percent_decoded_path) {
  CHECK_URI_OPTIONS("coap://192.0.2.1/caf%C3%A9/a%2Fb", DST, 1, 0xb5, 'c',
                    'a', 'f', 0xc3, 0xa9, 0x03, 'a', '/', 'b');
}

/* RFC 7252 6.4 step 5: the host lowercased and percent-decoded. libcoap
 * 4.3.4 copies the host as written. */
TEST(into_options_uri_host_for_name) {
  CHECK_URI_OPTIONS("coap://Ex%41mple.ORG/x", DST, 1, 0x3b, 'e', 'x', 'A',
                    'm', 'p', 'l', 'e', '.', 'o', 'r', 'g', 0x81, 'x');
}

TEST(into_options_no_uri_host_without_dst) {
  CHECK_URI_OPTIONS("coap://example.org/x", NULL, 1, 0xb1, 'x');
}

TEST(into_options_uri_port_when_not_default) {
  /* Uri-Port (7) 61616 = 0xF0B0; Uri-Path follows with delta 4. */
  CHECK_URI_OPTIONS("coap://192.0.2.1:61616/p", DST, 1, 0x72, 0xf0, 0xb0,
                    0x41, 'p');
  /* 5683 is not coaps' default. */
  CHECK_URI_OPTIONS("coaps://192.0.2.1:5683", DST, 1, 0x72, 0x16, 0x33);
  /* Port 0 is an empty uint. */
  CHECK_URI_OPTIONS("coap://192.0.2.1:0", DST, 1, 0x70);
}

TEST(into_options_port_host_not_requested) {
  CHECK_URI_OPTIONS("coap://example.org:1234/p", DST, 0, 0xb1, 'p');
}

TEST(into_options_unix_domain_no_host_port) {
  CHECK_URI_OPTIONS("coap://%2Ftmp%2Fs/p", DST, 1, 0xb1, 'p');
}

TEST(into_options_no_path) {
  CHECK_URI_OPTIONS("coap://host", NULL, 1);
  CHECK_URI_OPTIONS("coap://host/", NULL, 1);
}

TEST(into_options_trailing_slash_and_dots) {
  CHECK_URI_OPTIONS("coap://h/a/b/../c/", NULL, 1, 0xb1, 'a', 0x01, 'c',
                    0x00);
}

/* A path longer than the caller's scratch buffer is still split whole
 * (libcoap 4.3.4 truncates it with a warning). */
TEST(into_options_ignores_small_scratch) {
  coap_uri_t u;
  coap_optlist_t *chain = NULL;
  uint8_t wire[64], scratch[2];
  CHECK_INT_EQ(split("coap://h/abc/def?ghi", &u), 0);
  CHECK_INT_EQ(coap_uri_into_options(&u, NULL, &chain, 1, scratch,
                                     sizeof(scratch)), 0);
  size_t n = chain_wire(&chain, wire, sizeof(wire));
  coap_delete_optlist(chain);
  static const uint8_t want[] = {0xb3, 'a', 'b', 'c', 0x03, 'd', 'e', 'f',
                                 0x43, 'g', 'h', 'i'};
  CHECK_MEM_EQ(wire, n, want, sizeof(want));
  chain = NULL;
  CHECK_INT_EQ(coap_uri_into_options(&u, NULL, &chain, 1, NULL, 0), 0);
  CHECK_NOT_NULL(chain);
  coap_delete_optlist(chain);
}

/* A coap_uri_t filled by hand can hold a bad escape: an error, not a
 * partial option. */
TEST(into_options_rejects_bad_percent) {
  coap_uri_t u;
  coap_optlist_t *chain = NULL;
  memset(&u, 0, sizeof(u));
  u.port = 5683;
  COAP_SET_STR(&u.path, 4, (const uint8_t *)"a/%z");
  CHECK_INT_EQ(coap_uri_into_options(&u, NULL, &chain, 1, NULL, 0), -1);
  coap_delete_optlist(chain);
  CHECK_INT_EQ(coap_uri_into_options(NULL, NULL, &chain, 1, NULL, 0), -1);
  CHECK_INT_EQ(coap_uri_into_options(&u, NULL, NULL, 1, NULL, 0), -1);
}

TEST(path_into_optlist_location_path) {
  coap_optlist_t *chain = NULL;
  uint8_t wire[32];
  CHECK_INT_EQ(pt_uri_path_into_optlist((const uint8_t *)"x/y", 3,
                                        COAP_OPTION_LOCATION_PATH, &chain),
               0);
  CHECK_INT_EQ(pt_uri_query_into_optlist((const uint8_t *)"q", 1,
                                         COAP_OPTION_LOCATION_QUERY, &chain),
               0);
  size_t n = chain_wire(&chain, wire, sizeof(wire));
  coap_delete_optlist(chain);
  /* Location-Path 8, Location-Query 20 (delta 12). */
  static const uint8_t want[] = {0x81, 'x', 0x01, 'y', 0xc1, 'q'};
  CHECK_MEM_EQ(wire, n, want, sizeof(want));
}

/* ---- coap_get_uri_path / coap_get_query (RFC 7252 6.5) ------------------ */

static coap_pdu_t *request_with(const char *path_opts[], size_t npath,
                                const char *query_opts[], size_t nquery) {
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                                  1, 1024);
  for (size_t i = 0; pdu && i < npath; i++)
    coap_add_option(pdu, COAP_OPTION_URI_PATH, strlen(path_opts[i]),
                    (const uint8_t *)path_opts[i]);
  for (size_t i = 0; pdu && i < nquery; i++)
    coap_add_option(pdu, COAP_OPTION_URI_QUERY, strlen(query_opts[i]),
                    (const uint8_t *)query_opts[i]);
  return pdu;
}

TEST(get_uri_path_escapes) {
  const char *path[] = {"a b", "c/d", "x:@!"};
  coap_pdu_t *pdu = request_with(path, 3, NULL, 0);
  CHECK_NOT_NULL(pdu);
  coap_string_t *s = coap_get_uri_path(pdu);
  coap_delete_pdu(pdu);
  CHECK_NOT_NULL(s);
  int ok = s->length == 16 && memcmp(s->s, "a%20b/c%2Fd/x:@!", 16) == 0;
  if (!ok)
    test_hex_("got", s->s, s->length);
  coap_delete_string(s);
  CHECK(ok);
}

TEST(get_uri_path_none_is_empty) {
  coap_pdu_t *pdu = request_with(NULL, 0, NULL, 0);
  coap_string_t *s = coap_get_uri_path(pdu);
  coap_delete_pdu(pdu);
  CHECK_NOT_NULL(s);
  size_t len = s->length;
  coap_delete_string(s);
  CHECK_INT_EQ(len, 0);
  CHECK_NULL(coap_get_uri_path(NULL));
}

TEST(get_uri_path_from_proxy_uri) {
  coap_pdu_t *pdu = request_with(NULL, 0, NULL, 0);
  const char *proxy = "http://example.com/a%20b/c?q";
  coap_add_option(pdu, COAP_OPTION_PROXY_URI, strlen(proxy),
                  (const uint8_t *)proxy);
  coap_string_t *s = coap_get_uri_path(pdu);
  coap_delete_pdu(pdu);
  CHECK_NOT_NULL(s);
  int ok = s->length == 7 && memcmp(s->s, "a%20b/c", 7) == 0;
  coap_delete_string(s);
  CHECK(ok);
}

/* Kept-back inputs: each option one segment, whatever bytes it holds;
 * "%" and "/" always encoded, upper-case hex. */
TEST(get_uri_path_each_option_one_segment) {
  static const struct {
    const char *opts[3];
    size_t n;
    const char *want;
  } cases[] = {
      {{"a/b"}, 1, "a%2Fb"},
      {{".well-known/core"}, 1, ".well-known%2Fcore"},
      {{"100%"}, 1, "100%25"},
      {{"%2F"}, 1, "%252F"},
      {{"", "x"}, 2, "/x"},
      {{"x", ""}, 2, "x/"},
      {{"?", "#"}, 2, "%3F/%23"},
      {{"\xc3\xa9", "\x7f"}, 2, "%C3%A9/%7F"},
      {{"&=+", ";,"}, 2, "&=+/;,"},
      {{"..", "."}, 2, "../."},
      {{"a/b/c", "/"}, 2, "a%2Fb%2Fc/%2F"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    coap_pdu_t *pdu =
        request_with((const char **)cases[i].opts, cases[i].n, NULL, 0);
    coap_string_t *str = coap_get_uri_path(pdu);
    coap_delete_pdu(pdu);
    CHECK_NOT_NULL(str);
    CHECK_MEM_EQ(str->s, str->length, cases[i].want, strlen(cases[i].want));
    coap_delete_string(str);
  }
}

/* With Proxy-Uri the path comes from the URI, in the same form as from
 * Uri-Path options: percent-encodings normalised. */
TEST(get_uri_path_from_proxy_uri_normalised) {
  coap_pdu_t *pdu = request_with(NULL, 0, NULL, 0);
  const char *proxy = "coap://h/a%2fb/%7e%41/c%3a";
  coap_add_option(pdu, COAP_OPTION_PROXY_URI, strlen(proxy),
                  (const uint8_t *)proxy);
  coap_string_t *s = coap_get_uri_path(pdu);
  coap_delete_pdu(pdu);
  CHECK_NOT_NULL(s);
  CHECK_MEM_EQ(s->s, s->length, "a%2Fb/~A/c:", 11);
  coap_delete_string(s);
}

/* The canonical forms resources are keyed by (uri.h). */
TEST(path_and_query_canonical_forms) {
  static const char *const path[][2] = {
      {"a%2fb", "a%2Fb"}, {"%41", "A"},     {"a b", "a%20b"},
      {"50%", "50%25"},   {"%g1", "%25g1"}, {"x/%2F/", "x/%2F/"},
      {"&", "&"},         {"%26", "&"},     {"?#[]", "%3F%23%5B%5D"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
    const uint8_t *in = (const uint8_t *)path[i][0];
    uint8_t out[64];
    size_t n = pt_uri_path_canon(in, strlen(path[i][0]), NULL);
    CHECK_INT_EQ(pt_uri_path_canon(in, strlen(path[i][0]), out), n);
    CHECK_MEM_EQ(out, n, path[i][1], strlen(path[i][1]));
  }
  static const char *const query[][2] = {
      {"a=%26&b", "a=%26&b"}, {"x=/?", "x=/?"},       {"s=a b", "s=a%20b"},
      {"%3d=%3D", "==="},     {"p=100%", "p=100%25"},
  };
  for (size_t i = 0; i < sizeof(query) / sizeof(query[0]); i++) {
    const uint8_t *in = (const uint8_t *)query[i][0];
    uint8_t out[64];
    size_t n = pt_uri_query_canon(in, strlen(query[i][0]), out);
    CHECK_MEM_EQ(out, n, query[i][1], strlen(query[i][1]));
  }
}

/* RFC 7252 6.5 step 8 escapes "&" inside an argument; libcoap 4.3.4 does
 * not, so its "a&b" reads back as two arguments. */
TEST(get_query_escapes_ampersand) {
  const char *query[] = {"a&b", "c=/?", ""};
  coap_pdu_t *pdu = request_with(NULL, 0, query, 3);
  coap_string_t *s = coap_get_query(pdu);
  coap_delete_pdu(pdu);
  CHECK_NOT_NULL(s);
  int ok = s->length == 11 && memcmp(s->s, "a%26b&c=/?&", 11) == 0;
  if (!ok)
    test_hex_("got", s->s, s->length);
  coap_delete_string(s);
  CHECK(ok);
}

TEST(get_query_none_is_null) {
  const char *path[] = {"a"};
  coap_pdu_t *pdu = request_with(path, 1, NULL, 0);
  CHECK_NULL(coap_get_query(pdu));
  coap_delete_pdu(pdu);
}

/* Every byte value, one Uri-Path segment of one byte: RFC 3986's pchar
 * (unreserved, sub-delims, ":" and "@") stays as it is, anything else
 * (and "%") becomes "%XX" with upper-case hex (RFC 3986 2.1, 3.3). */
TEST(encode_segment_every_byte_value) {
  const char *pchar = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789-._~!$&'()*+,;=:@";
  for (unsigned c = 0; c < 256; c++) {
    uint8_t in = (uint8_t)c, out[4] = {0};
    size_t n = pt_uri_encode_segment(&in, 1, out);
    CHECK_UINT_EQ(pt_uri_encode_segment(&in, 1, NULL), n);
    if (c && strchr(pchar, (int)c)) {
      CHECK_UINT_EQ(n, 1);
      CHECK_UINT_EQ(out[0], c);
    } else {
      char want[4];
      snprintf(want, sizeof(want), "%%%02X", c);
      CHECK_UINT_EQ(n, 3);
      CHECK_MEM_EQ(out, 3, want, 3);
    }
  }
}

/* ---- the request's resource key, built option by option ----------------- */

static uint32_t prop_rng = 0x2545F491u;
static uint32_t prop_next(void) { /* xorshift32: the same cases every run */
  prop_rng ^= prop_rng << 13;
  prop_rng ^= prop_rng >> 17;
  prop_rng ^= prop_rng << 5;
  return prop_rng;
}

/* A byte for a random segment: mostly ones a path keeps as they are, so
 * that plain segments and long plain runs are common, then any value. */
static uint8_t prop_byte(void) {
  static const char kept[] = "abcXYZ019-._~!$&'()*+,;=:@";
  uint32_t r = prop_next();
  return r % 4 ? (uint8_t)kept[(r >> 8) % (sizeof(kept) - 1)]
               : (uint8_t)(r >> 8);
}

/* The key pt_uri_path_key builds over @pdu's Uri-Path options, in a
 * buffer of @cap bytes, against pt_uri_path_of_options(). Returns 0 when
 * they agree (or the key rightly did not fit). */
static int key_agrees(const coap_pdu_t *pdu, size_t cap) {
  uint8_t buf[1024], want[4096];
  pt_uri_path_key k;
  coap_opt_iterator_t it;
  coap_opt_t *o;
  pt_uri_path_key_init(&k, buf, cap);
  coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
  size_t segs = 0;
  while ((o = coap_option_next(&it)))
    if (it.number == COAP_OPTION_URI_PATH && ++segs)
      pt_uri_path_key_add(&k, coap_opt_value(o), coap_opt_length(o));
  size_t n = pt_uri_path_of_options(pdu, want);
  if (k.segments != segs)
    return 1;
  if (!k.ok) /* only when it truly did not fit */
    return n + 1 <= cap;
  return k.len != n || (n && memcmp(k.s, want, n) != 0);
}

/* Property: for random Uri-Path options (0 to 5 of them, every byte value,
 * empty ones, long ones) and buffers of every size from none to plenty,
 * the key built during the dispatcher's walk is exactly
 * pt_uri_path_of_options(), the canonical path (coap_get_uri_path()'s). */
TEST(path_key_agrees_with_canonical_path) {
  for (int iter = 0; iter < 20000; iter++) {
    coap_pdu_t *pdu =
        coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 2048);
    CHECK_NOT_NULL(pdu);
    size_t nseg = prop_next() % 6;
    for (size_t i = 0; i < nseg; i++) {
      uint8_t seg[255];
      size_t len = prop_next() % 8 == 0 ? prop_next() % 256 : prop_next() % 9;
      for (size_t j = 0; j < len; j++)
        seg[j] = prop_byte();
      coap_add_option(pdu, COAP_OPTION_URI_PATH, len, seg);
    }
    if (prop_next() % 2) /* options around the path change nothing */
      coap_add_option(pdu, COAP_OPTION_URI_QUERY, 3, (const uint8_t *)"a/b");
    size_t cap = prop_next() % 3 ? 1024 : prop_next() % 40;
    int bad = key_agrees(pdu, cap);
    if (bad)
      printf("  iteration %d, %zu segments, cap %zu\n", iter, nseg, cap);
    coap_delete_pdu(pdu);
    CHECK_INT_EQ(bad, 0);
  }
}

/* Every byte value as the first, only or a later segment, and split over
 * two options, gives the canonical encoding. */
TEST(path_key_every_byte_value_and_split) {
  for (unsigned c = 0; c < 256; c++) {
    uint8_t v[3] = {'a', (uint8_t)c, 'b'};
    for (size_t cut = 0; cut <= 3; cut++) {
      coap_pdu_t *pdu =
          coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1024);
      CHECK_NOT_NULL(pdu);
      coap_add_option(pdu, COAP_OPTION_URI_PATH, cut, v);
      if (cut < 3)
        coap_add_option(pdu, COAP_OPTION_URI_PATH, 3 - cut, v + cut);
      int bad = key_agrees(pdu, 1024) || key_agrees(pdu, 8);
      coap_delete_pdu(pdu);
      CHECK_INT_EQ(bad, 0);
    }
  }
}

/* A single segment that needs no encoding is the key where it lies: no
 * copy (the common request, "hello"); one that does is copied, encoded. */
TEST(path_key_plain_single_segment_is_not_copied) {
  uint8_t buf[64];
  pt_uri_path_key k;
  static const uint8_t hello[] = "hello", sp[] = "a b";
  pt_uri_path_key_init(&k, buf, sizeof(buf));
  CHECK_UINT_EQ(k.len, 0);
  pt_uri_path_key_add(&k, hello, 5);
  CHECK(k.s == hello);
  CHECK_MEM_EQ(k.s, k.len, "hello", 5);
  pt_uri_path_key_add(&k, hello, 5); /* a second segment: into buf */
  CHECK(k.s == buf);
  CHECK_MEM_EQ(k.s, k.len, "hello/hello", 11);
  pt_uri_path_key_init(&k, buf, sizeof(buf));
  pt_uri_path_key_add(&k, sp, 3);
  CHECK(k.s == buf);
  CHECK_MEM_EQ(k.s, k.len, "a%20b", 5);
  CHECK_INT_EQ(k.ok, 1);
}

int main(void) {
  RUN(ipv6_port_path_query);
  RUN(schemes_need_their_transport);
  RUN(ipv4_host_explicit_port);
  RUN(coaps_default_port);
  RUN(default_ports_per_scheme);
  RUN(scheme_constants);
  RUN(scheme_case_insensitive);
  RUN(host_without_path);
  RUN(root_path_is_empty);
  RUN(trailing_slash_kept);
  RUN(query_without_path);
  RUN(empty_port_means_default);
  RUN(port_bounds);
  RUN(percent_encoded_parts_kept_encoded);
  RUN(ipv6_zone_accepted);
  RUN(bare_path);
  RUN(unix_domain_host);
  RUN(host_is_unix_domain);
  RUN(ip_literal_detection);
  RUN(proxy_http_scheme);
  RUN(proxy_https_scheme);
  RUN(proxy_coap_scheme);
  RUN(reject_http_scheme_outside_proxy);
  RUN(reject_unknown_scheme);
  RUN(reject_missing_scheme_separator);
  RUN(reject_proxy_bare_path);
  RUN(reject_non_digit_port);
  RUN(reject_too_large_port);
  RUN(reject_port_on_unix_domain_host);
  RUN(reject_unterminated_bracket);
  RUN(reject_empty_brackets);
  RUN(reject_junk_after_bracket);
  RUN(reject_empty_host);
  RUN(reject_userinfo);
  RUN(reject_non_hex_percent);
  RUN(reject_truncated_percent);
  RUN(reject_fragment);
  RUN(reject_bad_path_character);
  RUN(reject_bad_host_character);
  RUN(reject_null_and_empty);
  RUN(length_bounds_input);
  RUN(new_uri_owns_copy);
  RUN(new_uri_rejects_bad);
  RUN(clone_uri_copies_everything);
  RUN(clone_uri_empty_parts);
  RUN(split_path_segments);
  RUN(split_path_percent_decoded);
  RUN(split_path_empty_is_none);
  RUN(split_path_trailing_slash);
  RUN(split_path_double_slash);
  RUN(split_path_stops_at_query_and_fragment);
  RUN(split_path_dot_dot_removes_previous);
  RUN(split_path_single_dot_dropped);
  RUN(split_path_trailing_dots_leave_empty_segment);
  RUN(split_path_dot_dot_above_root);
  RUN(split_path_resolving_to_root);
  RUN(split_path_dot_lookalikes);
  RUN(split_path_extended_lengths);
  RUN(split_path_stops_at_non_hex_percent);
  RUN(split_path_stops_at_truncated_percent);
  RUN(split_path_short_buffer_gives_segments_that_fit);
  RUN(split_every_buffer_size_kept_back_inputs);
  RUN(split_path_etsi_style_loop_ends_with_long_path);
  RUN(split_path_null_arguments_give_zero);
  RUN(split_query_arguments);
  RUN(split_query_empty_arguments_kept);
  RUN(split_query_percent_decoded_no_dots);
  RUN(split_query_stops_at_fragment);
  RUN(split_query_stops_at_bad_percent);
  RUN(split_query_short_buffer_gives_arguments_that_fit);
  RUN(into_options_ipv6_path_query);
  RUN(into_options_percent_decoded_path);
  RUN(into_options_uri_host_for_name);
  RUN(into_options_no_uri_host_without_dst);
  RUN(into_options_uri_port_when_not_default);
  RUN(into_options_port_host_not_requested);
  RUN(into_options_unix_domain_no_host_port);
  RUN(into_options_no_path);
  RUN(into_options_trailing_slash_and_dots);
  RUN(into_options_ignores_small_scratch);
  RUN(into_options_rejects_bad_percent);
  RUN(path_into_optlist_location_path);
  RUN(get_uri_path_escapes);
  RUN(get_uri_path_none_is_empty);
  RUN(get_uri_path_from_proxy_uri);
  RUN(get_uri_path_each_option_one_segment);
  RUN(get_uri_path_from_proxy_uri_normalised);
  RUN(path_and_query_canonical_forms);
  RUN(get_query_escapes_ampersand);
  RUN(get_query_none_is_null);
  RUN(encode_segment_every_byte_value);
  RUN(path_key_agrees_with_canonical_path);
  RUN(path_key_every_byte_value_and_split);
  RUN(path_key_plain_single_segment_is_not_copied);
  return TEST_SUMMARY();
}
