/*
 * test_heap.c -- the intrusive deadline min-heap (src/heap.c).
 */
#include "heap.h"
#include "test.h"

typedef struct timer {
  int id;
  pt_heap_node node;
} timer;

/* Deterministic xorshift32, so a failure reproduces. */
static uint32_t rng_state = 2463534242u;
static uint32_t rnd(void) {
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return rng_state = x;
}

static timer *owner(pt_heap_node *n) {
  return n ? PT_CONTAINER_OF(n, timer, node) : NULL;
}

/* Heap shape: every index is right and no child fires before its parent.
 * Returns the first bad position, or -1. */
static long heap_violation(const pt_heap *h) {
  for (uint32_t i = 0; i < h->size; i++) {
    const pt_heap_node *n = h->nodes[i];
    if (n->index != i)
      return i;
    if (i == 0)
      continue;
    const pt_heap_node *p = h->nodes[(i - 1) / 2];
    if (n->deadline < p->deadline ||
        (n->deadline == p->deadline && n->seq < p->seq))
      return i;
  }
  return -1;
}

static void init_timers(timer *t, int n) {
  for (int i = 0; i < n; i++) {
    t[i].id = i;
    pt_heap_node_init(&t[i].node);
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

TEST(empty_heap) {
  pt_heap h;
  timer t;
  pt_heap_init(&h);
  init_timers(&t, 1);
  CHECK_NULL(pt_heap_min(&h));
  CHECK_NULL(pt_heap_pop(&h));
  CHECK_UINT_EQ(pt_heap_size(&h), 0);
  pt_heap_remove(&h, &t.node); /* not in the heap: no-op */
  CHECK_UINT_EQ(pt_heap_size(&h), 0);
  CHECK_INT_EQ(pt_heap_contains(&t.node), 0);
  pt_heap_free(&h);
  pt_heap_free(&h); /* idempotent */
}

TEST(sorted_like_reference) {
  enum { N = 1000 };
  static timer t[N];
  uint64_t ref[N];
  pt_heap h;
  pt_heap_init(&h);
  init_timers(t, N);
  for (int i = 0; i < N; i++) {
    ref[i] = rnd() % 5000;
    CHECK_INT_EQ(pt_heap_insert(&h, &t[i].node, ref[i]), 0);
  }
  CHECK_INT_EQ(heap_violation(&h), -1);
  qsort(ref, N, sizeof(ref[0]), cmp_u64);
  for (int i = 0; i < N; i++) {
    pt_heap_node *n = pt_heap_pop(&h);
    CHECK_NOT_NULL(n);
    CHECK_UINT_EQ(n->deadline, ref[i]);
    CHECK_INT_EQ(pt_heap_contains(n), 0);
  }
  CHECK_NULL(pt_heap_pop(&h));
  pt_heap_free(&h);
}

TEST(fifo_on_equal_deadlines) {
  enum { N = 100 };
  static timer t[N];
  pt_heap h;
  pt_heap_init(&h);
  init_timers(t, N);
  for (int i = 0; i < N; i++)
    CHECK_INT_EQ(pt_heap_insert(&h, &t[i].node, 7), 0);
  /* Re-arming to the same deadline queues the timer behind the others. */
  CHECK_INT_EQ(pt_heap_update(&h, &t[0].node, 7), 0);
  for (int i = 1; i < N; i++)
    CHECK_INT_EQ(owner(pt_heap_pop(&h))->id, i);
  CHECK_INT_EQ(owner(pt_heap_pop(&h))->id, 0);
  pt_heap_free(&h);
}

TEST(remove_arbitrary_nodes) {
  enum { N = 300 };
  static timer t[N];
  pt_heap h;
  pt_heap_init(&h);
  init_timers(t, N);
  for (int i = 0; i < N; i++)
    CHECK_INT_EQ(pt_heap_insert(&h, &t[i].node, rnd() % 100), 0);
  for (int i = 0; i < N; i += 3) {
    pt_heap_remove(&h, &t[i].node);
    CHECK_INT_EQ(pt_heap_contains(&t[i].node), 0);
    CHECK_INT_EQ(heap_violation(&h), -1);
  }
  pt_heap_remove(&h, &t[0].node); /* second removal: no-op */
  CHECK_UINT_EQ(pt_heap_size(&h), N - N / 3);
  uint64_t last = 0;
  while (pt_heap_size(&h)) {
    pt_heap_node *n = pt_heap_pop(&h);
    CHECK(owner(n)->id % 3 != 0);
    CHECK(n->deadline >= last);
    last = n->deadline;
  }
  pt_heap_free(&h);
}

TEST(update_moves_up_and_down) {
  static timer t[10];
  pt_heap h;
  pt_heap_init(&h);
  init_timers(t, 10);
  for (int i = 0; i < 10; i++)
    CHECK_INT_EQ(pt_heap_insert(&h, &t[i].node, 100 + 10 * (uint64_t)i), 0);
  CHECK_INT_EQ(owner(pt_heap_min(&h))->id, 0);
  CHECK_INT_EQ(pt_heap_update(&h, &t[9].node, 5), 0); /* up to the top */
  CHECK_INT_EQ(owner(pt_heap_min(&h))->id, 9);
  CHECK_INT_EQ(pt_heap_update(&h, &t[9].node, 1000), 0); /* down to the end */
  CHECK_INT_EQ(owner(pt_heap_min(&h))->id, 0);
  CHECK_INT_EQ(heap_violation(&h), -1);
  /* Update of an absent node inserts it; insert of a member updates it. */
  pt_heap_remove(&h, &t[4].node);
  CHECK_INT_EQ(pt_heap_update(&h, &t[4].node, 1), 0);
  CHECK_INT_EQ(owner(pt_heap_min(&h))->id, 4);
  CHECK_INT_EQ(pt_heap_insert(&h, &t[4].node, 2000), 0);
  CHECK_UINT_EQ(pt_heap_size(&h), 10);
  CHECK_INT_EQ(owner(pt_heap_min(&h))->id, 0);
  for (int i = 0; i < 8; i++)
    pt_heap_pop(&h);
  CHECK_INT_EQ(owner(pt_heap_pop(&h))->id, 9);
  CHECK_INT_EQ(owner(pt_heap_pop(&h))->id, 4);
  pt_heap_free(&h);
}

TEST(foreign_or_uninitialised_node_refused) {
  pt_heap a, b;
  timer t[2];
  pt_heap_init(&a);
  pt_heap_init(&b);
  init_timers(t, 2);
  CHECK_INT_EQ(pt_heap_insert(&a, &t[0].node, 1), 0);
  CHECK_INT_EQ(pt_heap_insert(&a, &t[1].node, 2), 0);
  CHECK_INT_EQ(pt_heap_insert(&b, &t[1].node, 3), -1); /* lives in a */
  pt_heap_remove(&b, &t[0].node);                      /* no-op */
  CHECK_UINT_EQ(pt_heap_size(&a), 2);
  timer zeroed;
  memset(&zeroed, 0, sizeof(zeroed)); /* index 0 but never initialised */
  CHECK_INT_EQ(pt_heap_insert(&b, &zeroed.node, 3), -1);
  pt_heap_free(&a);
  CHECK_INT_EQ(pt_heap_contains(&t[0].node), 0); /* free marks nodes out */
  CHECK_INT_EQ(pt_heap_contains(&t[1].node), 0);
  pt_heap_free(&b);
}

TEST(growth_keeps_order) {
  enum { N = 100000 };
  timer *t = malloc(N * sizeof(*t));
  pt_heap h;
  CHECK_NOT_NULL(t);
  pt_heap_init(&h);
  init_timers(t, N);
  for (int i = 0; i < N; i++)
    CHECK_INT_EQ(pt_heap_insert(&h, &t[i].node, rnd()), 0);
  CHECK_UINT_EQ(pt_heap_size(&h), N);
  CHECK(h.capacity >= N);
  CHECK_INT_EQ(heap_violation(&h), -1);
  uint64_t last = 0;
  for (int i = 0; i < N; i++) {
    pt_heap_node *n = pt_heap_pop(&h);
    CHECK(n->deadline >= last);
    last = n->deadline;
  }
  pt_heap_free(&h);
  free(t);
}

/* ---- random operations against a brute-force model ----------------------
 * The model keeps, per timer, whether it is armed, its deadline and its
 * tie-break stamp, and finds the minimum by a linear scan. */
enum { MODEL_N = 257 };
typedef struct model {
  int armed[MODEL_N];
  uint64_t deadline[MODEL_N];
  uint64_t stamp[MODEL_N];
  uint64_t next_stamp;
} model;

static int model_min(const model *m) {
  int best = -1;
  for (int i = 0; i < MODEL_N; i++) {
    if (!m->armed[i])
      continue;
    if (best < 0 || m->deadline[i] < m->deadline[best] ||
        (m->deadline[i] == m->deadline[best] && m->stamp[i] < m->stamp[best]))
      best = i;
  }
  return best;
}

static void model_arm(model *m, int i, uint64_t deadline) {
  m->armed[i] = 1;
  m->deadline[i] = deadline;
  m->stamp[i] = m->next_stamp++;
}

TEST(random_ops_match_model) {
  static timer t[MODEL_N];
  static model m;
  pt_heap h;
  pt_heap_init(&h);
  init_timers(t, MODEL_N);
  memset(&m, 0, sizeof(m));
  uint32_t armed = 0;
  for (int op = 0; op < 10000; op++) {
    int i = (int)(rnd() % MODEL_N);
    uint64_t d = rnd() % 64; /* small range: plenty of ties */
    switch (rnd() % 4) {
    case 0: /* insert (an update if already armed) */
    case 1: /* update */
      CHECK_INT_EQ(pt_heap_update(&h, &t[i].node, d), 0);
      armed += !m.armed[i];
      model_arm(&m, i, d);
      break;
    case 2:
      pt_heap_remove(&h, &t[i].node);
      armed -= m.armed[i];
      m.armed[i] = 0;
      break;
    default: {
      int want = model_min(&m);
      timer *got = owner(pt_heap_pop(&h));
      CHECK_INT_EQ(got ? got->id : -1, want);
      if (want >= 0) {
        m.armed[want] = 0;
        armed--;
      }
    }
    }
    CHECK_UINT_EQ(pt_heap_size(&h), armed);
    CHECK_INT_EQ(pt_heap_contains(&t[i].node), m.armed[i]);
    timer *min = owner(pt_heap_min(&h));
    CHECK_INT_EQ(min ? min->id : -1, model_min(&m));
  }
  CHECK_INT_EQ(heap_violation(&h), -1);
  pt_heap_free(&h);
}

int main(void) {
  RUN(empty_heap);
  RUN(sorted_like_reference);
  RUN(fifo_on_equal_deadlines);
  RUN(remove_arbitrary_nodes);
  RUN(update_moves_up_and_down);
  RUN(foreign_or_uninitialised_node_refused);
  RUN(growth_keeps_order);
  RUN(random_ops_match_model);
  return TEST_SUMMARY();
}
