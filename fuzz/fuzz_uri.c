/*
 * fuzz_uri.c -- coap_split_uri(), coap_split_proxy_uri(), coap_split_path(),
 * coap_split_query() and coap_uri_into_options() on arbitrary bytes. The
 * input is copied into an exactly sized heap buffer so that AddressSanitizer
 * catches any read past the given length. Every part of a successful split
 * must lie inside the input, and the options written by the path and query
 * splitters must parse back to the count they report within the size they
 * report, also into a buffer too small for all of them (then a prefix of
 * the full result). The canonical path and query forms (uri.h) measure what
 * they write, stay within 3 bytes per input byte and are idempotent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coap3/coap_option.h"
#include "coap3/coap_uri.h"

#include "uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_part(const coap_str_const_t *part, const uint8_t *buf,
                       size_t size) {
  if (part->length == 0)
    return;
  if (!part->s || part->s < buf || part->s + part->length > buf + size)
    abort();
}

static void check_uri(const coap_uri_t *uri, const uint8_t *buf, size_t size) {
  check_part(&uri->host, buf, size);
  check_part(&uri->path, buf, size);
  check_part(&uri->query, buf, size);
  if ((unsigned)uri->scheme >= COAP_URI_SCHEME_LAST)
    abort();
}

typedef int (*split_fn)(const uint8_t *, size_t, unsigned char *, size_t *);

/* Splits with @p fn into a buffer of @p room bytes and walks the result;
 * returns the count (never negative). */
static int split_walk(split_fn fn, const uint8_t *s, size_t len, uint8_t *out,
                      size_t room, size_t *used) {
  *used = room;
  int n = fn(s, len, out, used);
  size_t off = 0;
  coap_option_t opt;
  if (n < 0 || *used > room)
    abort();
  for (int i = 0; i < n; i++) {
    size_t step = coap_opt_parse(out + off, *used - off, &opt);
    if (step == 0 || opt.delta != 0)
      abort();
    off += step;
  }
  if (off != *used)
    abort();
  return n;
}

/* With the documented worst-case room, then with less (chosen by @p pick):
 * the short result is the leading part of the full one. */
static void check_split(split_fn fn, const uint8_t *s, size_t len,
                        size_t pick) {
  size_t room = len * 4 + 4, used, used2;
  uint8_t *out = malloc(room), *out2 = malloc(room);
  if (out && out2) {
    int n = split_walk(fn, s, len, out, room, &used);
    size_t small = used ? pick % used : 0;
    int n2 = split_walk(fn, s, len, out2, small, &used2);
    if (n2 > n || used2 > small || memcmp(out, out2, used2) != 0)
      abort();
  }
  free(out);
  free(out2);
}

static void check_canon(size_t (*canon)(const uint8_t *, size_t, uint8_t *),
                        const uint8_t *s, size_t len) {
  size_t n = canon(s, len, NULL);
  if (n > 3 * len)
    abort();
  uint8_t *a = malloc(n + 1), *b = malloc(3 * n + 1);
  if (a && b) {
    if (canon(s, len, a) != n)
      abort();
    size_t m = canon(a, n, b); /* already canonical: unchanged */
    if (m != n || memcmp(a, b, n) != 0)
      abort();
  }
  free(a);
  free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  if (size)
    memcpy(buf, data, size);
  coap_uri_t uri;
  if (coap_split_uri(buf, size, &uri) == 0) {
    check_uri(&uri, buf, size);
    coap_uri_t *clone = coap_clone_uri(&uri);
    coap_delete_uri(clone);
    coap_optlist_t *chain = NULL;
    static int dst;
    uint8_t scratch[16];
    coap_uri_into_options(&uri, (const struct coap_address_t *)&dst, &chain,
                          1, scratch, sizeof(scratch));
    coap_delete_optlist(chain);
  }
  size_t pick = size ? data[0] * 31u + data[size - 1] : 0;
  check_split(coap_split_path, buf, size, pick);
  check_split(coap_split_query, buf, size, pick);
  check_canon(pt_uri_path_canon, buf, size);
  check_canon(pt_uri_query_canon, buf, size);
  if (coap_split_proxy_uri(buf, size, &uri) == 0)
    check_uri(&uri, buf, size);
  free(buf);
  return 0;
}
