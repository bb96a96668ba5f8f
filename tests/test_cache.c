/*
 * test_cache.c -- SHA-256, cache keys (RFC 7252 section 5.6) and cache
 * entries with idle expiry on the fake clock.
 */
#include "core_harness.h"
#include "test.h"

#include "cache.h"
#include "sha256.h"

/* ---- SHA-256 (FIPS 180-4 examples) --------------------------------------- */

static void sha_hex(const void *data, size_t len, size_t chunk, char *hex) {
  pt_sha256 d;
  uint8_t out[PT_SHA256_LEN];
  pt_sha256_init(&d);
  for (size_t off = 0; off < len; off += chunk)
    pt_sha256_update(&d, (const uint8_t *)data + off,
                     len - off < chunk ? len - off : chunk);
  pt_sha256_final(&d, out);
  for (int i = 0; i < PT_SHA256_LEN; i++)
    sprintf(hex + 2 * i, "%02x", out[i]);
}

TEST(sha256_vectors) {
  char hex[65];
  sha_hex("", 0, 1, hex);
  CHECK_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                    "27ae41e4649b934ca495991b7852b855");
  sha_hex("abc", 3, 3, hex);
  CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223"
                    "b00361a396177a9cb410ff61f20015ad");
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha_hex(m, strlen(m), 7, hex); /* 56 bytes: padding spills a block */
  CHECK_STR_EQ(hex, "248d6a61d20638b8e5c026930c3e6039"
                    "a33ce45964ff2167f6ecedd419db06c1");
  static uint8_t a[1000000];
  memset(a, 'a', sizeof(a));
  sha_hex(a, sizeof(a), 4097, hex);
  CHECK_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
                    "f1809a48a497200e046d39ccc7112cd0");
}

/* ---- keys ------------------------------------------------------------------
 */

static coap_pdu_t *req(coap_pdu_code_t code, uint8_t token, const char *path) {
  return h_request(COAP_MESSAGE_CON, code, token, token, path);
}

/* 1 if the two PDUs give equal keys (not session based, context list). */
static int same_key(coap_session_t *s, const coap_pdu_t *a,
                    const coap_pdu_t *b) {
  coap_cache_key_t *ka =
      coap_cache_derive_key(s, a, COAP_CACHE_NOT_SESSION_BASED);
  coap_cache_key_t *kb =
      coap_cache_derive_key(s, b, COAP_CACHE_NOT_SESSION_BASED);
  int eq = ka && kb && memcmp(ka, kb, sizeof(*ka)) == 0;
  coap_delete_cache_key(ka);
  coap_delete_cache_key(kb);
  return eq;
}

TEST(key_ignores_token_mid_and_type) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 1, "temp");
  coap_pdu_t *b =
      h_request(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET, 77, 9, "temp");
  CHECK_INT_EQ(same_key(s, a, b), 1);
  coap_delete_pdu(a);
  coap_delete_pdu(b);
  h_free(ctx);
}

TEST(key_covers_options) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 1, "temp");
  coap_pdu_t *b = req(COAP_REQUEST_CODE_GET, 1, "hum");
  coap_pdu_t *c = req(COAP_REQUEST_CODE_GET, 1, "temp");
  coap_add_option(c, COAP_OPTION_URI_QUERY, 3, (const uint8_t *)"a=1");
  CHECK_INT_EQ(same_key(s, a, b), 0);
  CHECK_INT_EQ(same_key(s, a, c), 0);
  coap_delete_pdu(a);
  coap_delete_pdu(b);
  coap_delete_pdu(c);
  h_free(ctx);
}

/* "ab","c" and "a","bc" would concatenate alike without length framing. */
TEST(key_frames_option_values) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 1, "ab");
  coap_add_option(a, COAP_OPTION_URI_PATH, 1, (const uint8_t *)"c");
  coap_pdu_t *b = req(COAP_REQUEST_CODE_GET, 1, "a");
  coap_add_option(b, COAP_OPTION_URI_PATH, 2, (const uint8_t *)"bc");
  CHECK_INT_EQ(same_key(s, a, b), 0);
  coap_delete_pdu(a);
  coap_delete_pdu(b);
  h_free(ctx);
}

/* RFC 7252 section 5.4.6: Size1 (60) is NoCacheKey; RFC 7641 section 2:
 * Observe is not part of the key. */
TEST(key_skips_nocachekey_and_observe) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 1, "temp");
  coap_pdu_t *b = req(COAP_REQUEST_CODE_GET, 1, "temp");
  uint8_t v = 0;
  coap_add_option(b, COAP_OPTION_OBSERVE, 1, &v);
  coap_add_option(b, COAP_OPTION_SIZE1, 1, &v);
  CHECK_INT_EQ((COAP_OPTION_SIZE1 & 0x1e) == 0x1c, 1);
  CHECK_INT_EQ(same_key(s, a, b), 1);
  /* Accept (17) is a cache key. */
  coap_add_option(b, COAP_OPTION_ACCEPT, 1, &v);
  CHECK_INT_EQ(same_key(s, a, b), 0);
  coap_delete_pdu(a);
  coap_delete_pdu(b);
  h_free(ctx);
}

/* RFC 7252 section 5.6 requires the method to match; libcoap 4.3.4 leaves
 * the code out of its keys. The RFC wins. */
TEST(key_covers_method_per_rfc_not_libcoap) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *get = req(COAP_REQUEST_CODE_GET, 1, "temp");
  coap_pdu_t *put = req(COAP_REQUEST_CODE_PUT, 1, "temp");
  coap_pdu_t *fetch = req(COAP_REQUEST_CODE_FETCH, 1, "temp");
  CHECK_INT_EQ(same_key(s, get, put), 0);
  CHECK_INT_EQ(same_key(s, get, fetch), 0);
  coap_delete_pdu(get);
  coap_delete_pdu(put);
  coap_delete_pdu(fetch);
  h_free(ctx);
}

/* RFC 8132 section 2: a FETCH body is part of the key; other bodies not. */
TEST(key_covers_fetch_body_only) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *f1 = req(COAP_REQUEST_CODE_FETCH, 1, "q");
  coap_pdu_t *f2 = req(COAP_REQUEST_CODE_FETCH, 1, "q");
  coap_add_data(f1, 3, (const uint8_t *)"x<1");
  coap_add_data(f2, 3, (const uint8_t *)"x<2");
  CHECK_INT_EQ(same_key(s, f1, f2), 0);
  coap_pdu_t *p1 = req(COAP_REQUEST_CODE_PUT, 1, "q");
  coap_pdu_t *p2 = req(COAP_REQUEST_CODE_PUT, 1, "q");
  coap_add_data(p1, 3, (const uint8_t *)"x<1");
  coap_add_data(p2, 3, (const uint8_t *)"x<2");
  CHECK_INT_EQ(same_key(s, p1, p2), 1);
  coap_delete_pdu(f1);
  coap_delete_pdu(f2);
  coap_delete_pdu(p1);
  coap_delete_pdu(p2);
  h_free(ctx);
}

TEST(key_ignore_lists) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_PUT, 1, "big");
  coap_pdu_t *b = req(COAP_REQUEST_CODE_PUT, 1, "big");
  uint8_t blk = 0x16;
  coap_add_option(b, COAP_OPTION_BLOCK1, 1, &blk);
  CHECK_INT_EQ(same_key(s, a, b), 0);
  const uint16_t ign[] = {COAP_OPTION_BLOCK1, COAP_OPTION_BLOCK2};
  CHECK_INT_EQ(coap_cache_ignore_options(ctx, ign, 2), 1);
  CHECK_INT_EQ(same_key(s, a, b), 1);
  CHECK_INT_EQ(coap_cache_ignore_options(ctx, NULL, 0), 1); /* clears */
  CHECK_INT_EQ(same_key(s, a, b), 0);
  /* The _w_ignore form uses its own list, not the context's. */
  coap_cache_key_t *ka = coap_cache_derive_key_w_ignore(
      s, a, COAP_CACHE_NOT_SESSION_BASED, ign, 1);
  coap_cache_key_t *kb = coap_cache_derive_key_w_ignore(
      NULL, b, COAP_CACHE_NOT_SESSION_BASED, ign, 1);
  CHECK(ka && kb);
  CHECK_MEM_EQ(ka, sizeof(*ka), kb, sizeof(*kb));
  coap_delete_cache_key(ka);
  coap_delete_cache_key(kb);
  coap_delete_pdu(a);
  coap_delete_pdu(b);
  h_free(ctx);
}

TEST(key_session_based) {
  coap_context_t *ctx = h_context();
  coap_session_t *s1 = h_server_session(1000);
  coap_session_t *s2 = h_server_session(2000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 1, "x");
  coap_cache_key_t *k1 =
      coap_cache_derive_key(s1, a, COAP_CACHE_IS_SESSION_BASED);
  coap_cache_key_t *k2 =
      coap_cache_derive_key(s2, a, COAP_CACHE_IS_SESSION_BASED);
  coap_cache_key_t *k3 =
      coap_cache_derive_key(s1, a, COAP_CACHE_NOT_SESSION_BASED);
  coap_cache_key_t *k4 =
      coap_cache_derive_key(s2, a, COAP_CACHE_NOT_SESSION_BASED);
  CHECK(k1 && k2 && k3 && k4);
  CHECK(memcmp(k1, k2, sizeof(*k1)) != 0);
  CHECK(memcmp(k1, k3, sizeof(*k1)) != 0);
  CHECK_MEM_EQ(k3, sizeof(*k3), k4, sizeof(*k4));
  coap_delete_cache_key(k1);
  coap_delete_cache_key(k2);
  coap_delete_cache_key(k3);
  coap_delete_cache_key(k4);
  coap_delete_pdu(a);
  h_free(ctx);
}

/* ---- argument errors
 * --------------------------------------------------------- */

TEST(key_bad_arguments) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 1, "x");
  const uint16_t ign[] = {COAP_OPTION_BLOCK1};
  CHECK_NULL(coap_cache_derive_key(s, NULL, COAP_CACHE_NOT_SESSION_BASED));
  CHECK_NULL(coap_cache_derive_key(NULL, a, COAP_CACHE_NOT_SESSION_BASED));
  CHECK_NULL(coap_cache_derive_key_w_ignore(
      NULL, a, COAP_CACHE_IS_SESSION_BASED, ign, 1));
  CHECK_NULL(coap_cache_derive_key_w_ignore(s, a, COAP_CACHE_NOT_SESSION_BASED,
                                            NULL, 1));
  coap_delete_cache_key(NULL);
  CHECK_INT_EQ(coap_cache_ignore_options(NULL, ign, 1), 0);
  CHECK_INT_EQ(coap_cache_ignore_options(ctx, NULL, 1), 0);
  CHECK_NULL(coap_new_cache_entry(NULL, a, COAP_CACHE_RECORD_PDU,
                                  COAP_CACHE_NOT_SESSION_BASED, 0));
  CHECK_NULL(coap_new_cache_entry(s, NULL, COAP_CACHE_RECORD_PDU,
                                  COAP_CACHE_NOT_SESSION_BASED, 0));
  CHECK_NULL(coap_cache_get_by_key(ctx, NULL));
  CHECK_NULL(coap_cache_get_by_key(NULL, NULL));
  CHECK_NULL(coap_cache_get_by_pdu(NULL, a, COAP_CACHE_NOT_SESSION_BASED));
  CHECK_NULL(coap_cache_get_by_pdu(s, NULL, COAP_CACHE_NOT_SESSION_BASED));
  CHECK_NULL(coap_cache_get_pdu(NULL));
  CHECK_NULL(coap_cache_get_app_data(NULL));
  coap_cache_set_app_data(NULL, NULL, NULL);
  coap_delete_cache_entry(ctx, NULL);
  coap_delete_pdu(a);
  h_free(ctx);
}

/* ---- entries
 * ------------------------------------------------------------------ */

static int freed;
static void free_cb(void *data) {
  freed++;
  free(data);
}

TEST(entry_lookup_and_pdu_copy) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 5, "temp");
  coap_add_data(a, 2, (const uint8_t *)"hi");
  coap_cache_entry_t *e = coap_new_cache_entry(s, a, COAP_CACHE_RECORD_PDU,
                                               COAP_CACHE_NOT_SESSION_BASED, 0);
  CHECK_NOT_NULL(e);
  coap_pdu_t *again = req(COAP_REQUEST_CODE_GET, 6, "temp");
  CHECK(coap_cache_get_by_pdu(s, again, COAP_CACHE_NOT_SESSION_BASED) == e);
  /* Another session finds a shared entry too. */
  coap_session_t *s2 = h_server_session(2000);
  CHECK(coap_cache_get_by_pdu(s2, again, COAP_CACHE_NOT_SESSION_BASED) == e);
  CHECK_NULL(coap_cache_get_by_pdu(s, again, COAP_CACHE_IS_SESSION_BASED));
  coap_cache_key_t *k =
      coap_cache_derive_key(s, a, COAP_CACHE_NOT_SESSION_BASED);
  CHECK(coap_cache_get_by_key(ctx, k) == e);
  coap_delete_cache_key(k);
  /* The kept PDU is a copy: the original may go. */
  coap_delete_pdu(a);
  const coap_pdu_t *kept = coap_cache_get_pdu(e);
  CHECK_NOT_NULL(kept);
  size_t len;
  const uint8_t *data;
  CHECK_INT_EQ(coap_get_data(kept, &len, &data), 1);
  CHECK_MEM_EQ(data, len, "hi", 2);
  CHECK_INT_EQ(coap_pdu_get_code(kept), COAP_REQUEST_CODE_GET);
  coap_delete_cache_entry(ctx, e);
  CHECK_NULL(coap_cache_get_by_pdu(s, again, COAP_CACHE_NOT_SESSION_BASED));
  coap_delete_pdu(again);
  h_free(ctx);
}

TEST(entry_without_pdu) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 5, "temp");
  coap_cache_entry_t *e = coap_new_cache_entry(s, a, COAP_CACHE_NOT_RECORD_PDU,
                                               COAP_CACHE_IS_SESSION_BASED, 0);
  CHECK_NOT_NULL(e);
  CHECK_NULL(coap_cache_get_pdu(e));
  CHECK(coap_cache_get_by_pdu(s, a, COAP_CACHE_IS_SESSION_BASED) == e);
  coap_delete_pdu(a);
  h_free(ctx); /* frees the entry */
}

TEST(entry_app_data) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 5, "temp");
  coap_cache_entry_t *e = coap_new_cache_entry(s, a, COAP_CACHE_NOT_RECORD_PDU,
                                               COAP_CACHE_NOT_SESSION_BASED, 0);
  CHECK_NOT_NULL(e);
  CHECK_NULL(coap_cache_get_app_data(e));
  int keep = 0;
  coap_cache_set_app_data(e, &keep, NULL);
  CHECK(coap_cache_get_app_data(e) == &keep);
  /* Replacing does not free the old data (it had no callback anyway). */
  freed = 0;
  char *owned = malloc(8);
  coap_cache_set_app_data(e, owned, free_cb);
  CHECK(coap_cache_get_app_data(e) == owned);
  coap_delete_cache_entry(ctx, e);
  CHECK_INT_EQ(freed, 1);
  /* Freeing the context deletes entries and calls their callbacks. */
  e = coap_new_cache_entry(s, a, COAP_CACHE_RECORD_PDU,
                           COAP_CACHE_NOT_SESSION_BASED, 30);
  coap_cache_set_app_data(e, malloc(8), free_cb);
  coap_delete_pdu(a);
  h_free(ctx);
  CHECK_INT_EQ(freed, 2);
}

TEST(entry_idle_expiry) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 5, "temp");
  coap_cache_entry_t *e = coap_new_cache_entry(
      s, a, COAP_CACHE_NOT_RECORD_PDU, COAP_CACHE_NOT_SESSION_BASED, 10);
  coap_cache_entry_t *forever = coap_new_cache_entry(
      s, a, COAP_CACHE_NOT_RECORD_PDU, COAP_CACHE_IS_SESSION_BASED, 0);
  CHECK(e && forever);
  freed = 0;
  coap_cache_set_app_data(e, malloc(1), free_cb);
  h_advance(ctx, 9 * COAP_TICKS_PER_SECOND);
  /* A lookup is a use: the idle time starts again. */
  CHECK(coap_cache_get_by_pdu(s, a, COAP_CACHE_NOT_SESSION_BASED) == e);
  h_advance(ctx, 9 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(freed, 0);
  h_advance(ctx, 2 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(freed, 1);
  CHECK_NULL(coap_cache_get_by_pdu(s, a, COAP_CACHE_NOT_SESSION_BASED));
  /* Idle time 0 never expires (the session itself is reaped after 300
   * idle seconds by default, so stay under that). */
  h_advance(ctx, 250 * COAP_TICKS_PER_SECOND);
  CHECK(coap_cache_get_by_pdu(s, a, COAP_CACHE_IS_SESSION_BASED) == forever);
  coap_delete_pdu(a);
  h_free(ctx);
}

TEST(entry_session_close_deletes_session_based_only) {
  coap_context_t *ctx = h_context();
  coap_session_t *s = h_server_session(1000);
  coap_session_t *s2 = h_server_session(2000);
  coap_pdu_t *a = req(COAP_REQUEST_CODE_GET, 5, "a");
  coap_pdu_t *b = req(COAP_REQUEST_CODE_GET, 5, "b");
  freed = 0;
  coap_cache_entry_t *e1 = coap_new_cache_entry(s, a, COAP_CACHE_NOT_RECORD_PDU,
                                                COAP_CACHE_IS_SESSION_BASED, 0);
  coap_cache_entry_t *e2 = coap_new_cache_entry(s, b, COAP_CACHE_NOT_RECORD_PDU,
                                                COAP_CACHE_IS_SESSION_BASED, 5);
  coap_cache_entry_t *shared = coap_new_cache_entry(
      s, a, COAP_CACHE_NOT_RECORD_PDU, COAP_CACHE_NOT_SESSION_BASED, 0);
  coap_cache_entry_t *other = coap_new_cache_entry(
      s2, a, COAP_CACHE_NOT_RECORD_PDU, COAP_CACHE_IS_SESSION_BASED, 0);
  CHECK(e1 && e2 && shared && other);
  coap_cache_set_app_data(e1, malloc(1), free_cb);
  coap_cache_set_app_data(e2, malloc(1), free_cb);
  pt_cache_session_closed(s);
  CHECK_INT_EQ(freed, 2);
  CHECK_NULL(coap_cache_get_by_pdu(s, a, COAP_CACHE_IS_SESSION_BASED));
  CHECK_NULL(coap_cache_get_by_pdu(s, b, COAP_CACHE_IS_SESSION_BASED));
  CHECK(coap_cache_get_by_pdu(s, a, COAP_CACHE_NOT_SESSION_BASED) == shared);
  CHECK(coap_cache_get_by_pdu(s2, a, COAP_CACHE_IS_SESSION_BASED) == other);
  /* e2's idle timer went with it. */
  h_advance(ctx, 10 * COAP_TICKS_PER_SECOND);
  CHECK_INT_EQ(freed, 2);
  coap_delete_pdu(a);
  coap_delete_pdu(b);
  h_free(ctx);
}

int main(void) {
  RUN(sha256_vectors);
  RUN(key_ignores_token_mid_and_type);
  RUN(key_covers_options);
  RUN(key_frames_option_values);
  RUN(key_skips_nocachekey_and_observe);
  RUN(key_covers_method_per_rfc_not_libcoap);
  RUN(key_covers_fetch_body_only);
  RUN(key_ignore_lists);
  RUN(key_session_based);
  RUN(key_bad_arguments);
  RUN(entry_lookup_and_pdu_copy);
  RUN(entry_without_pdu);
  RUN(entry_app_data);
  RUN(entry_idle_expiry);
  RUN(entry_session_close_deletes_session_based_only);
  return TEST_SUMMARY();
}
