/*
 * test_prng.c -- the built-in generator, reseeding, the application hook,
 * and typed allocation (coap_mem.h, which has no test file of its own).
 */
#include <pthread.h>

#include "coap3/coap.h"
#include "prng.h"
#include "test.h"

TEST(values_differ) {
  uint64_t a, b, c;
  pt_prng_startup();
  CHECK_INT_EQ(coap_prng(&a, sizeof(a)), 1);
  CHECK_INT_EQ(coap_prng(&b, sizeof(b)), 1);
  CHECK_INT_EQ(coap_prng(&c, sizeof(c)), 1);
  CHECK(a != b && b != c && a != c);
}

TEST(odd_lengths_fill_every_byte) {
  /* Over many draws every byte position of a 13-byte buffer gets nonzero. */
  uint8_t seen[13] = {0}, buf[13];
  for (int i = 0; i < 64; i++) {
    memset(buf, 0, sizeof(buf));
    CHECK_INT_EQ(coap_prng(buf, sizeof(buf)), 1);
    for (size_t j = 0; j < sizeof(buf); j++)
      seen[j] |= buf[j];
  }
  for (size_t j = 0; j < sizeof(seen); j++)
    CHECK(seen[j] != 0);
  CHECK_INT_EQ(coap_prng(buf, 0), 1);
  CHECK_INT_EQ(coap_prng(NULL, 0), 1);
  CHECK_INT_EQ(coap_prng(NULL, 4), 0);
}

TEST(bits_are_balanced) {
  int ones = 0;
  for (int i = 0; i < 1000; i++)
    ones += __builtin_popcountll(pt_prng_u64());
  /* 64000 bits: mean 32000, sd ~126; allow 8 sd. */
  CHECK(ones > 31000 && ones < 33000);
}

TEST(reseed_changes_stream) {
  uint64_t a, b;
  coap_prng_init(42);
  coap_prng(&a, sizeof(a));
  coap_prng_init(42);
  coap_prng(&b, sizeof(b));
  CHECK(a != b); /* kernel entropy is mixed in, as documented */
}

TEST(below_stays_in_range) {
  for (int i = 0; i < 1000; i++)
    CHECK(pt_prng_below(7) < 7);
  CHECK_UINT_EQ(pt_prng_below(1), 0);
  CHECK_UINT_EQ(pt_prng_below(0), 0);
}

static int hook_calls;
static int fixed_rng(void *out, size_t len) {
  hook_calls++;
  memset(out, 0xab, len);
  return 1;
}
static int failing_rng(void *out, size_t len) {
  (void)out;
  (void)len;
  hook_calls++;
  return 0;
}

TEST(set_prng_hook_is_used) {
  uint8_t buf[5];
  hook_calls = 0;
  coap_set_prng(fixed_rng);
  CHECK_INT_EQ(coap_prng(buf, sizeof(buf)), 1);
  coap_set_prng(NULL);
  CHECK_INT_EQ(hook_calls, 1);
  CHECK_MEM_EQ(buf, 5, "\xab\xab\xab\xab\xab", 5);
  CHECK_INT_EQ(coap_prng(buf, sizeof(buf)), 1);
  CHECK_INT_EQ(hook_calls, 1); /* NULL restored the built-in generator */
}

TEST(failing_hook_reports_failure) {
  uint8_t buf[4];
  hook_calls = 0;
  coap_set_prng(failing_rng);
  CHECK_INT_EQ(coap_prng(buf, sizeof(buf)), 0);
  uint64_t v = pt_prng_u64(); /* internal users still get a value */
  (void)v;
  coap_set_prng(NULL);
  CHECK_INT_EQ(hook_calls, 2);
}

static void *draw(void *out) {
  coap_prng(out, sizeof(uint64_t));
  return NULL;
}

TEST(threads_get_distinct_streams) {
  uint64_t v[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    CHECK_INT_EQ(pthread_create(&t[i], NULL, draw, &v[i]), 0);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      CHECK(v[i] != v[j]);
}

TEST(typed_allocation) {
  coap_memory_init();
  char *p = coap_malloc_type(COAP_PDU_BUF, 16);
  CHECK_NOT_NULL(p);
  memcpy(p, "0123456789abcdef", 16);
  char *q = coap_realloc_type(COAP_STRING, p, 4096);
  CHECK_NOT_NULL(q);
  CHECK_MEM_EQ(q, 16, "0123456789abcdef", 16);
  coap_free_type(COAP_STRING, q);
  void *z = coap_malloc_type(COAP_SESSION, 0);
  CHECK_NOT_NULL(z);
  coap_free_type(COAP_SESSION, z);
  coap_free_type(COAP_SESSION, NULL);
  void *s = coap_malloc(3);
  CHECK_NOT_NULL(s);
  coap_free(s);
  CHECK_INT_EQ(COAP_STRING, 0);
  CHECK_INT_EQ(COAP_PDU, 7);
  CHECK_INT_EQ(COAP_SESSION, 12);
  CHECK_INT_EQ(COAP_MEM_TAG_LAST, 29);
}

int main(void) {
  coap_startup();
  RUN(values_differ);
  RUN(odd_lengths_fill_every_byte);
  RUN(bits_are_balanced);
  RUN(reseed_changes_stream);
  RUN(below_stays_in_range);
  RUN(set_prng_hook_is_used);
  RUN(failing_hook_reports_failure);
  RUN(threads_get_distinct_streams);
  RUN(typed_allocation);
  coap_cleanup();
  return TEST_SUMMARY();
}
