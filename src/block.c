/*
 * block.c -- block-wise transfers: settings, the request key shared by
 * the server-side states, and teardown. The server side is in
 * block_server.c, the client side in block_client.c, the options and
 * body helpers in block_opt.c.
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"

#include "context.h"
#include "dedup.h"
#include "session.h"

void coap_context_set_block_mode(coap_context_t *context, uint32_t block_mode) {
  /* Q-Block, stateless FETCH and stateless Block2 are accepted and
   * ignored: Petrel does RFC 7959 block-wise transfer with state. */
  if (context)
    context->block_mode = block_mode;
}

void pt_context_set_max_body_size(coap_context_t *ctx, size_t size) {
  if (ctx)
    ctx->max_body_size = size ? size : PT_DEFAULT_MAX_BODY_SIZE;
}

/* ---- the request key ------------------------------------------------------
 */

/* The options that name what a request is about. */
static int key_option(coap_option_num_t n) {
  return n == COAP_OPTION_URI_HOST || n == COAP_OPTION_URI_PORT ||
         n == COAP_OPTION_URI_PATH || n == COAP_OPTION_URI_QUERY ||
         n == COAP_OPTION_ACCEPT || n == COAP_OPTION_PROXY_URI ||
         n == COAP_OPTION_PROXY_SCHEME || n == COAP_OPTION_RTAG;
}

/* Writes the key into @out (when not NULL) and returns its length. Each
 * option is framed as number (2 bytes), length (2 bytes), value, so no two
 * different option sets give the same bytes. */
static size_t key_write(const coap_pdu_t *req, int with_payload, uint8_t *out) {
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  size_t n = 1;
  if (out)
    out[0] = (uint8_t)coap_pdu_get_code(req);
  coap_option_iterator_init(req, &it, COAP_OPT_ALL);
  while ((opt = coap_option_next(&it)) != NULL) {
    if (!key_option(it.number))
      continue;
    uint32_t len = coap_opt_length(opt);
    if (out) {
      uint8_t *p = out + n;
      p[0] = (uint8_t)(it.number >> 8);
      p[1] = (uint8_t)it.number;
      p[2] = (uint8_t)(len >> 8);
      p[3] = (uint8_t)len;
      memcpy(p + 4, coap_opt_value(opt), len);
    }
    n += 4 + len;
  }
  size_t plen;
  const uint8_t *pdata;
  if (with_payload && coap_get_data(req, &plen, &pdata)) {
    if (out) {
      out[n] = 0xff;
      memcpy(out + n + 1, pdata, plen);
    }
    n += 1 + plen;
  }
  return n;
}

long pt_block_request_key(const coap_pdu_t *req, int with_payload,
                          uint8_t **out) {
  size_t n = key_write(req, with_payload, NULL);
  *out = malloc(n);
  if (!*out)
    return -1;
  key_write(req, with_payload, *out);
  return (long)n;
}

uint32_t pt_block_key_hash(const coap_session_t *s, const uint8_t *key,
                           size_t len) {
  uintptr_t p = (uintptr_t)s;
  return pt_hash_bytes(key, len, (uint32_t)(p ^ (p >> 32)) ^ 0xb10c);
}

coap_tick_t pt_block_expiry(const coap_session_t *s, coap_tick_t now) {
  return now + pt_exchange_lifetime(s);
}

/* ---- teardown -------------------------------------------------------------
 */

void pt_block_free_all(coap_context_t *ctx) {
  pt_block_srv_free_all(ctx);
  pt_block_rx_free_all(ctx);
  pt_block_cli_free_all(ctx);
}
