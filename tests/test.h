/*
 * test.h -- Petrel's minimal unit-test harness.
 *
 * A test file defines TEST(name) functions and a main() that calls RUN() for
 * each (RUN_ROWS() for a table of cases, one named test per row), then
 * returns TEST_SUMMARY(). A failed check prints the file, line,
 * both expressions and both values, marks the test failed and returns from
 * it; the other tests still run. A test that cannot run here calls
 * TEST_SKIP("reason"): it is counted as skipped, never as passed, and the
 * reason is printed ("SKIP: name: reason"). The last line printed is
 * "N passed, N failed, N skipped"; the exit status is 1 if a test failed,
 * else 77 (ctest's skip code, SKIP_RETURN_CODE) if one was skipped, else 0.
 */
#ifndef PETREL_TEST_H
#define PETREL_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_ = 0;   /* set by a failing check in the current test */
static int test_skipped_ = 0;  /* set by TEST_SKIP in the current test */
static int test_passes_ = 0;
static int test_failures_ = 0;
static int test_skips_ = 0;
static const char *test_name_ = "";

/* Real-time waits that a slow run (valgrind, a loaded machine) may need
 * stretched are multiplied by PETREL_TEST_TIME_SCALE (default 1; the
 * valgrind suite sets 10). Waits for something that must NOT happen are
 * not scaled. */
static inline int test_time_scale(void) {
  const char *v = getenv("PETREL_TEST_TIME_SCALE");
  int k = v ? atoi(v) : 1;
  return k > 0 ? k : 1;
}

#define TEST(name) static void name(void)

/* Before and after each test (or table row): reset its state, then count
 * and print its result under @name. */
static inline void test_start_(const char *name) {
  test_failed_ = 0;
  test_skipped_ = 0;
  test_name_ = name;
}

static inline void test_end_(const char *name) {
  if (test_failed_) {
    test_failures_++;
    printf("FAIL %s\n", name);
  } else if (test_skipped_) {
    test_skips_++;
    printf("skip %s\n", name);
  } else {
    test_passes_++;
    printf("ok   %s\n", name);
  }
  fflush(stdout);
}

#define RUN(name)                                                           \
  do {                                                                      \
    test_start_(#name);                                                     \
    name();                                                                 \
    test_end_(#name);                                                       \
  } while (0)

/* A table-driven test: runs @fn(&rows[i]) for each row of the array @rows,
 * each row a test of its own named by its .name field (printed as "ok
 * name" or "FAIL name", and counted), so that a failed check says which
 * row failed. @fn is a void function taking a pointer to a row. */
#define RUN_ROWS(fn, rows)                                                  \
  do {                                                                      \
    for (size_t row_ = 0; row_ < sizeof(rows) / sizeof(*(rows)); row_++) {  \
      test_start_((rows)[row_].name);                                       \
      fn(&(rows)[row_]);                                                    \
      test_end_((rows)[row_].name);                                         \
    }                                                                       \
  } while (0)

/* Ends the current test as skipped: it could not run here, for @reason. */
#define TEST_SKIP(reason)                                                   \
  do {                                                                      \
    printf("SKIP: %s: %s\n", test_name_, (reason));                         \
    test_skipped_ = 1;                                                      \
    return;                                                                 \
  } while (0)

#define TEST_SUMMARY()                                                      \
  (printf("%d passed, %d failed, %d skipped\n", test_passes_,               \
          test_failures_, test_skips_),                                     \
   test_failures_ ? 1 : test_skips_ ? 77 : 0)

#define TEST_FAIL_AT_()                                                     \
  do {                                                                      \
    test_failed_ = 1;                                                       \
    return;                                                                 \
  } while (0)

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,      \
              #cond);                                                       \
      TEST_FAIL_AT_();                                                      \
    }                                                                       \
  } while (0)

#define CHECK_INT_EQ(a, b)                                                  \
  do {                                                                      \
    long long va_ = (long long)(a), vb_ = (long long)(b);                   \
    if (va_ != vb_) {                                                       \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,   \
              __LINE__, #a, #b, va_, vb_);                                  \
      TEST_FAIL_AT_();                                                      \
    }                                                                       \
  } while (0)

#define CHECK_UINT_EQ(a, b)                                                 \
  do {                                                                      \
    unsigned long long va_ = (unsigned long long)(a),                       \
                       vb_ = (unsigned long long)(b);                       \
    if (va_ != vb_) {                                                       \
      fprintf(stderr, "%s:%d: %s == %s failed: %llu (0x%llx) != %llu "      \
              "(0x%llx)\n", __FILE__, __LINE__, #a, #b, va_, va_, vb_,      \
              vb_);                                                         \
      TEST_FAIL_AT_();                                                      \
    }                                                                       \
  } while (0)

#define CHECK_STR_EQ(a, b)                                                  \
  do {                                                                      \
    const char *sa_ = (a), *sb_ = (b);                                      \
    if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                            \
      fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",         \
              __FILE__, __LINE__, #a, #b, sa_ ? sa_ : "(null)",             \
              sb_ ? sb_ : "(null)");                                        \
      TEST_FAIL_AT_();                                                      \
    }                                                                       \
  } while (0)

/* Prints a byte buffer as hex, for failed CHECK_MEM_EQ. */
static inline void test_hex_(const char *label, const void *p, size_t n) {
  const uint8_t *b = (const uint8_t *)p;
  fprintf(stderr, "  %s (%zu bytes):", label, n);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, " %02x", b[i]);
  fprintf(stderr, "\n");
}

/* 1 if the two buffers differ (a function, so that empty buffers given as
 * literals draw no bounds warnings). */
static inline int test_mem_differs_(const void *a, size_t la, const void *b,
                                    size_t lb) {
  return la != lb || (la && memcmp(a, b, la) != 0);
}

#define CHECK_MEM_EQ(a, alen, b, blen)                                      \
  do {                                                                      \
    size_t la_ = (size_t)(alen), lb_ = (size_t)(blen);                      \
    if (test_mem_differs_((a), la_, (b), lb_)) {                            \
      fprintf(stderr, "%s:%d: %s == %s failed\n", __FILE__, __LINE__, #a,   \
              #b);                                                          \
      test_hex_(#a, (a), la_);                                              \
      test_hex_(#b, (b), lb_);                                              \
      TEST_FAIL_AT_();                                                      \
    }                                                                       \
  } while (0)

#define CHECK_NULL(p) CHECK((p) == NULL)
#define CHECK_NOT_NULL(p) CHECK((p) != NULL)

#endif /* PETREL_TEST_H */
