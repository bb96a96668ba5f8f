/*
 * test_outq.c -- the capped write queue of stream connections: partial
 * writes across chunks, the cap (a peer that stops reading), and freeing.
 */
#include "outq.h"

#include "test.h"

#define U8(s) ((const uint8_t *)(s))

/* Drains @q as a socket taking @step bytes per write would, into @out;
 * returns the bytes drained. */
static size_t drain(pt_outq *q, size_t step, uint8_t *out) {
  size_t total = 0;
  const uint8_t *p;
  size_t n;
  while ((n = pt_outq_peek(q, &p)) > 0) {
    size_t k = n < step ? n : step;
    memcpy(out + total, p, k);
    pt_outq_consume(q, k);
    total += k;
  }
  return total;
}

TEST(empty_queue) {
  pt_outq q;
  pt_outq_init(&q, 100);
  const uint8_t *p = U8("x");
  CHECK_UINT_EQ(pt_outq_peek(&q, &p), 0);
  CHECK_NULL(p);
  CHECK_INT_EQ(pt_outq_push(&q, NULL, 0, NULL, 0), PT_OUTQ_OK);
  CHECK_UINT_EQ(pt_outq_bytes(&q), 0);
  pt_outq_free(&q);
}

TEST(partial_writes_keep_order) {
  for (size_t step = 1; step <= 12; step++) {
    pt_outq q;
    pt_outq_init(&q, 100);
    CHECK_INT_EQ(pt_outq_push(&q, U8("ab"), 2, U8("cde"), 3), PT_OUTQ_OK);
    CHECK_INT_EQ(pt_outq_push(&q, NULL, 0, U8("fgh"), 3), PT_OUTQ_OK);
    CHECK_INT_EQ(pt_outq_push(&q, U8("ij"), 2, NULL, 0), PT_OUTQ_OK);
    CHECK_UINT_EQ(pt_outq_bytes(&q), 10);
    uint8_t out[16];
    CHECK_UINT_EQ(drain(&q, step, out), 10);
    CHECK_MEM_EQ(out, 10, "abcdefghij", 10);
    CHECK_UINT_EQ(pt_outq_bytes(&q), 0);
    CHECK_NULL(q.head);
    CHECK_NULL(q.tail);
    pt_outq_free(&q);
  }
}

/* A peer that stops reading: pushes succeed up to the cap exactly, then
 * are refused whole, and a write makes room again. */
TEST(cap_refuses_whole_push) {
  pt_outq q;
  pt_outq_init(&q, 10);
  CHECK_INT_EQ(pt_outq_push(&q, U8("1234"), 4, U8("56"), 2), PT_OUTQ_OK);
  CHECK_INT_EQ(pt_outq_push(&q, U8("789"), 3, U8("AB"), 2), PT_OUTQ_FULL);
  CHECK_UINT_EQ(pt_outq_bytes(&q), 6);
  CHECK_INT_EQ(pt_outq_push(&q, U8("7890"), 4, NULL, 0), PT_OUTQ_OK);
  CHECK_UINT_EQ(pt_outq_bytes(&q), 10);
  CHECK_INT_EQ(pt_outq_push(&q, U8("x"), 1, NULL, 0), PT_OUTQ_FULL);
  pt_outq_consume(&q, 3);
  CHECK_INT_EQ(pt_outq_push(&q, U8("xyz"), 3, NULL, 0), PT_OUTQ_OK);
  uint8_t out[16];
  CHECK_UINT_EQ(drain(&q, 4, out), 10);
  CHECK_MEM_EQ(out, 10, "4567890xyz", 10);
  pt_outq_free(&q);
}

TEST(consume_more_than_queued_is_bounded) {
  pt_outq q;
  pt_outq_init(&q, 10);
  CHECK_INT_EQ(pt_outq_push(&q, U8("abc"), 3, NULL, 0), PT_OUTQ_OK);
  pt_outq_consume(&q, 50);
  CHECK_UINT_EQ(pt_outq_bytes(&q), 0);
  CHECK_NULL(q.head);
  pt_outq_free(&q);
}

TEST(free_drops_queued_bytes) {
  pt_outq q;
  pt_outq_init(&q, 1 << 20);
  static uint8_t big[4096];
  for (int i = 0; i < 100; i++)
    CHECK_INT_EQ(pt_outq_push(&q, big, sizeof(big), big, 10), PT_OUTQ_OK);
  pt_outq_consume(&q, 5000);
  pt_outq_free(&q); /* leak-checked under the sanitizer */
  CHECK_UINT_EQ(pt_outq_bytes(&q), 0);
}

int main(void) {
  RUN(empty_queue);
  RUN(partial_writes_keep_order);
  RUN(cap_refuses_whole_push);
  RUN(consume_more_than_queued_is_bounded);
  RUN(free_drops_queued_bytes);
  return TEST_SUMMARY();
}
