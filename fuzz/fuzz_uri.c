/*
 * fuzz_uri.c -- coap_split_uri(), coap_split_proxy_uri(), coap_split_path(),
 * coap_split_query() and coap_uri_into_options() on arbitrary bytes. The
 * input is copied into an exactly sized heap buffer so that AddressSanitizer
 * catches any read past the given length. Every part of a successful split
 * must lie inside the input, and the options written by the path and query
 * splitters must parse back to the count they report within the size they
 * report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coap3/coap_option.h"
#include "coap3/coap_uri.h"

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

/* Splits with @p fn into a buffer of the documented worst-case size and
 * walks the result. */
static void check_split(split_fn fn, const uint8_t *s, size_t len) {
  size_t room = len * 4 + 4, used = room;
  uint8_t *out = malloc(room);
  if (!out)
    return;
  int n = fn(s, len, out, &used);
  if (n >= 0) {
    size_t off = 0;
    coap_option_t opt;
    if (used > room)
      abort();
    for (int i = 0; i < n; i++) {
      size_t step = coap_opt_parse(out + off, used - off, &opt);
      if (step == 0 || opt.delta != 0)
        abort();
      off += step;
    }
    if (off != used)
      abort();
  }
  free(out);
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
  check_split(coap_split_path, buf, size);
  check_split(coap_split_query, buf, size);
  if (coap_split_proxy_uri(buf, size, &uri) == 0)
    check_uri(&uri, buf, size);
  free(buf);
  return 0;
}
