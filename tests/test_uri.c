/*
 * test_uri.c -- coap_split_uri(), coap_split_proxy_uri() and coap_uri_t
 * allocation (src/uri.c).
 */
#include "coap3/coap_uri.h"
#include "test.h"
#include "uri.h"

/* Splits the C string @p s with coap_split_uri(). */
static int split(const char *s, coap_uri_t *uri) {
  return coap_split_uri((const uint8_t *)s, strlen(s), uri);
}

static int split_proxy(const char *s, coap_uri_t *uri) {
  return coap_split_proxy_uri((const uint8_t *)s, strlen(s), uri);
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
  CHECK_INT_EQ(split("coaps://example.org/x", &u), 0);
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
    CHECK_INT_EQ(split(cases[i].uri, &u), 0);
    CHECK_INT_EQ(u.scheme, cases[i].scheme);
    CHECK_INT_EQ(u.port, cases[i].port);
    CHECK_INT_EQ(pt_uri_default_port(cases[i].scheme), cases[i].port);
    /* Odd values are the secure schemes. */
    CHECK_INT_EQ(coap_uri_scheme_is_secure(&u), (int)(cases[i].scheme & 1));
  }
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
  CHECK_INT_EQ(split("CoAPs+TCP://h/", &u), 0);
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
  CHECK_INT_EQ(split("coaps://h:/p", &u), 0);
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
  char text[] = "coaps+tcp://[::1]:99/p/q?r";
  coap_uri_t *u = coap_new_uri((const uint8_t *)text, (unsigned)strlen(text));
  CHECK_NOT_NULL(u);
  memset(text, 'x', strlen(text)); /* the object must not depend on it */
  CHECK_INT_EQ(u->scheme, COAP_URI_SCHEME_COAPS_TCP);
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
  CHECK_INT_EQ(split(text, &src), 0);
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

int main(void) {
  RUN(ipv6_port_path_query);
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
  return TEST_SUMMARY();
}
