/*
 * fuzz_uri.c -- coap_split_uri() and coap_split_proxy_uri() on arbitrary
 * bytes. The input is copied into an exactly sized heap buffer so that
 * AddressSanitizer catches any read past the given length. Every part of a
 * successful split must lie inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
  }
  if (coap_split_proxy_uri(buf, size, &uri) == 0)
    check_uri(&uri, buf, size);
  free(buf);
  return 0;
}
