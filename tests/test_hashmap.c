/*
 * test_hashmap.c -- the intrusive hash map and byte hash (src/hashmap.c).
 */
#include "hashmap.h"
#include "heap.h" /* both containers together: PT_CONTAINER_OF agrees */
#include "test.h"

typedef struct item {
  uint32_t key;
  int seen;
  pt_hash_node node;
} item;

static item *owner(pt_hash_node *n) {
  return n ? PT_CONTAINER_OF(n, item, node) : NULL;
}

static int key_eq(const pt_hash_node *n, const void *ctx) {
  return PT_CONTAINER_OF(n, item, node)->key == *(const uint32_t *)ctx;
}

static uint32_t key_hash(uint32_t key) {
  return pt_hash_mix(0x5eed, key);
}

static item *find(const pt_hashmap *m, uint32_t key) {
  return owner(pt_hashmap_find(m, key_hash(key), key_eq, &key));
}

/* The load-factor bound the map promises (absent allocation failure). */
static int load_ok(const pt_hashmap *m) {
  return m->buckets == NULL || m->count <= ((size_t)1 << m->bits);
}

static item *new_items(size_t n) {
  item *it = calloc(n, sizeof(*it)); /* zeroed nodes are "in no map" */
  for (size_t i = 0; it && i < n; i++)
    it[i].key = (uint32_t)i;
  return it;
}

/* ---- the hash ----------------------------------------------------------- */

TEST(hash_bytes_matches_murmur3_vectors) {
  static const struct {
    const char *data;
    size_t len;
    uint32_t seed, want;
  } v[] = {
      {"", 0, 0, 0},
      {"", 0, 1, 0x514e28b7u},
      {"", 0, 0xffffffffu, 0x81f16f39u},
      {"\xff\xff\xff\xff", 4, 0, 0x76293b50u},
      {"\x21\x43\x65\x87", 4, 0, 0xf55b516bu},
      {"\x21\x43\x65\x87", 4, 0x5082edeeu, 0x2362f9deu},
      {"\x21\x43\x65", 3, 0, 0x7e4a8634u},
      {"test", 4, 0, 0xba6bd213u},
      {"test", 4, 0x9747b28cu, 0x704b81dcu},
      {"Hello, world!", 13, 0, 0xc0363e43u},
      {"The quick brown fox jumps over the lazy dog", 43, 0, 0x2e4ff723u},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
    CHECK_UINT_EQ(pt_hash_bytes(v[i].data, v[i].len, v[i].seed), v[i].want);
  CHECK_UINT_EQ(pt_hash_bytes(NULL, 0, 0), 0);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

TEST(hash_mix_is_injective_and_ordered) {
  enum { N = 65536 };
  uint32_t *h = malloc(N * sizeof(*h));
  CHECK_NOT_NULL(h);
  for (uint32_t i = 0; i < N; i++)
    h[i] = pt_hash_mix(0, i);
  qsort(h, N, sizeof(*h), cmp_u32);
  int dup = 0;
  for (uint32_t i = 1; i < N; i++)
    dup |= h[i] == h[i - 1];
  free(h);
  CHECK_INT_EQ(dup, 0);
  CHECK(pt_hash_mix(pt_hash_mix(7, 1), 2) != pt_hash_mix(pt_hash_mix(7, 2), 1));
  CHECK(pt_hash_mix(0, 1) != pt_hash_mix(1, 1));
}

/* Every single-bit change of a key of 0..40 bytes, and every change of
 * length over the same bytes, changes pt_hash_key(): each byte and the
 * length reach the result, whichever of the three read paths (1-3, 4-8,
 * more bytes) the length takes. */
TEST(hash_key_sees_every_bit_and_the_length) {
  uint8_t key[41];
  for (size_t i = 0; i < sizeof(key); i++)
    key[i] = (uint8_t)(i * 37 + 11);
  for (size_t len = 0; len <= 40; len++) {
    uint32_t h = pt_hash_key(key, len, 7);
    CHECK_UINT_EQ(pt_hash_key(key, len, 7), h); /* deterministic */
    CHECK(pt_hash_key(key, len, 8) != h);       /* the seed counts */
    if (len < 40)
      CHECK(pt_hash_key(key, len + 1, 7) != h);
    for (size_t i = 0; i < len; i++)
      for (int b = 0; b < 8; b++) {
        key[i] ^= (uint8_t)(1u << b);
        uint32_t flipped = pt_hash_key(key, len, 7);
        key[i] ^= (uint8_t)(1u << b);
        CHECK_UINT_EQ(flipped != h, 1);
      }
  }
  /* Runs of zero bytes differ by length alone. */
  static const uint8_t zeros[16];
  for (size_t len = 1; len < sizeof(zeros); len++)
    CHECK(pt_hash_key(zeros, len, 0) != pt_hash_key(zeros, len - 1, 0));
  CHECK_UINT_EQ(pt_hash_key(NULL, 0, 3), pt_hash_key("", 0, 3));
}

/* Paths an application would register ("r/0" .. "r/9999", and the same
 * below a longer prefix) spread over the buckets as the map picks them:
 * no bucket of 16384 gets more than a handful. */
TEST(hash_key_spreads_similar_paths) {
  enum { N = 10000, BITS = 14 };
  static uint16_t per_bucket[1u << BITS];
  static const char *prefix[] = {"r/", "sensors/building-7/floor-3/room-"};
  for (size_t p = 0; p < 2; p++) {
    memset(per_bucket, 0, sizeof(per_bucket));
    unsigned most = 0;
    for (int i = 0; i < N; i++) {
      char path[64];
      int n = snprintf(path, sizeof(path), "%s%d", prefix[p], i);
      uint32_t h = pt_hash_key(path, (size_t)n, 0x70657472u);
      size_t b = pt_hashmap_bucket_of(h, BITS);
      if (++per_bucket[b] > most)
        most = per_bucket[b];
    }
    CHECK(most <= 8);
  }
}

/* pt_bytes_equal() agrees with memcmp() for every length up to 20 and a
 * difference at every position. */
TEST(bytes_equal_matches_memcmp) {
  uint8_t a[20], b[20];
  for (size_t i = 0; i < sizeof(a); i++)
    a[i] = b[i] = (uint8_t)('a' + i);
  for (size_t len = 0; len <= sizeof(a); len++) {
    CHECK_INT_EQ(pt_bytes_equal(a, b, len), 1);
    for (size_t i = 0; i < len; i++) {
      b[i] ^= 0x20;
      int eq = pt_bytes_equal(a, b, len);
      b[i] ^= 0x20;
      CHECK_INT_EQ(eq, 0);
    }
  }
}

/* ---- the map ------------------------------------------------------------ */

TEST(empty_map) {
  pt_hashmap m;
  pt_hashmap_iter it;
  item x = {.key = 1};
  pt_hashmap_init(&m);
  CHECK_NULL(find(&m, 1));
  CHECK_INT_EQ(pt_hashmap_size(&m), 0);
  pt_hashmap_iter_init(&it, &m);
  CHECK_NULL(pt_hashmap_iter_next(&it));
  pt_hashmap_remove(&m, &x.node); /* in no map: no-op */
  CHECK_INT_EQ(pt_hashmap_size(&m), 0);
  CHECK_INT_EQ(pt_hashmap_contains(&x.node), 0);
  pt_hashmap_free(&m);
  pt_hashmap_free(&m);
}

TEST(insert_find_remove_100000) {
  enum { N = 100000 };
  item *it = new_items(N);
  pt_hashmap m;
  CHECK_NOT_NULL(it);
  pt_hashmap_init(&m);
  for (uint32_t i = 0; i < N; i++) {
    CHECK_INT_EQ(pt_hashmap_insert(&m, &it[i].node, key_hash(i)), 0);
    CHECK(load_ok(&m));
  }
  CHECK_INT_EQ(pt_hashmap_size(&m), N);
  for (uint32_t i = 0; i < N; i++)
    CHECK(find(&m, i) == &it[i]);
  CHECK_NULL(find(&m, N));
  CHECK_NULL(find(&m, 0xffffffffu));
  for (uint32_t i = 0; i < N; i += 2)
    pt_hashmap_remove(&m, &it[i].node);
  CHECK_INT_EQ(pt_hashmap_size(&m), N / 2);
  for (uint32_t i = 0; i < N; i++) {
    CHECK(find(&m, i) == (i % 2 ? &it[i] : NULL));
    CHECK_INT_EQ(pt_hashmap_contains(&it[i].node), i % 2);
  }
  pt_hashmap_free(&m);
  CHECK_INT_EQ(pt_hashmap_contains(&it[1].node), 0); /* free unlinks */
  free(it);
}

TEST(double_insert_refused) {
  pt_hashmap a, b;
  item x = {.key = 3};
  pt_hashmap_init(&a);
  pt_hashmap_init(&b);
  CHECK_INT_EQ(pt_hashmap_insert(&a, &x.node, key_hash(3)), 0);
  CHECK_INT_EQ(pt_hashmap_insert(&a, &x.node, key_hash(3)), -1);
  CHECK_INT_EQ(pt_hashmap_insert(&b, &x.node, key_hash(3)), -1);
  CHECK_INT_EQ(pt_hashmap_size(&a), 1);
  CHECK_INT_EQ(pt_hashmap_size(&b), 0);
  pt_hashmap_free(&a);
  pt_hashmap_free(&b);
}

TEST(duplicates_allowed_find_returns_one) {
  item d[3] = {{.key = 9}, {.key = 9}, {.key = 9}};
  item other = {.key = 10};
  uint32_t k = 9;
  pt_hashmap m;
  pt_hashmap_init(&m);
  for (int i = 0; i < 3; i++)
    CHECK_INT_EQ(pt_hashmap_insert(&m, &d[i].node, key_hash(9)), 0);
  CHECK_INT_EQ(pt_hashmap_insert(&m, &other.node, key_hash(10)), 0);
  int found = 0;
  for (pt_hash_node *n = pt_hashmap_find(&m, key_hash(9), key_eq, &k); n;
       n = pt_hashmap_find_next(n, key_eq, &k)) {
    CHECK(owner(n) >= d && owner(n) < d + 3);
    owner(n)->seen++;
    found++;
  }
  CHECK_INT_EQ(found, 3);
  for (int i = 0; i < 3; i++)
    CHECK_INT_EQ(d[i].seen, 1);
  pt_hashmap_remove(&m, pt_hashmap_find(&m, key_hash(9), key_eq, &k));
  CHECK_NOT_NULL(find(&m, 9));
  CHECK_INT_EQ(pt_hashmap_size(&m), 3);
  pt_hashmap_free(&m);
}

TEST(remove_current_during_iteration) {
  enum { N = 1000 };
  item *it = new_items(N);
  pt_hashmap m;
  pt_hashmap_iter iter;
  pt_hash_node *n;
  CHECK_NOT_NULL(it);
  pt_hashmap_init(&m);
  for (uint32_t i = 0; i < N; i++)
    CHECK_INT_EQ(pt_hashmap_insert(&m, &it[i].node, key_hash(i)), 0);
  int visited = 0;
  pt_hashmap_iter_init(&iter, &m);
  while ((n = pt_hashmap_iter_next(&iter)) != NULL) {
    owner(n)->seen++;
    visited++;
    if (owner(n)->key % 2)
      pt_hashmap_remove(&m, n);
  }
  CHECK_INT_EQ(visited, N);
  for (int i = 0; i < N; i++)
    CHECK_INT_EQ(it[i].seen, 1);
  CHECK_INT_EQ(pt_hashmap_size(&m), N / 2);
  visited = 0;
  pt_hashmap_iter_init(&iter, &m);
  while ((n = pt_hashmap_iter_next(&iter)) != NULL) {
    CHECK_INT_EQ(owner(n)->key % 2, 0);
    visited++;
  }
  CHECK_INT_EQ(visited, N / 2);
  pt_hashmap_free(&m);
  free(it);
}

/* The owner frees each node as it goes: ASan catches any later touch. */
TEST(iterate_and_free_everything) {
  pt_hashmap m;
  pt_hashmap_iter iter;
  pt_hash_node *n;
  pt_hashmap_init(&m);
  for (uint32_t i = 0; i < 500; i++) {
    item *x = calloc(1, sizeof(*x));
    CHECK_NOT_NULL(x);
    x->key = i;
    CHECK_INT_EQ(pt_hashmap_insert(&m, &x->node, i % 7), 0); /* long chains */
  }
  int freed = 0;
  pt_hashmap_iter_init(&iter, &m);
  while ((n = pt_hashmap_iter_next(&iter)) != NULL) {
    pt_hashmap_remove(&m, n);
    free(owner(n));
    freed++;
  }
  CHECK_INT_EQ(freed, 500);
  CHECK_INT_EQ(pt_hashmap_size(&m), 0);
  pt_hashmap_free(&m);
}

TEST(constant_hash_still_works) {
  enum { N = 2000 };
  item *it = new_items(N);
  pt_hashmap m;
  CHECK_NOT_NULL(it);
  pt_hashmap_init(&m);
  for (uint32_t i = 0; i < N; i++)
    CHECK_INT_EQ(pt_hashmap_insert(&m, &it[i].node, 42), 0);
  for (uint32_t i = 0; i < N; i++)
    CHECK(owner(pt_hashmap_find(&m, 42, key_eq, &i)) == &it[i]);
  for (uint32_t i = 0; i < N; i += 2)
    pt_hashmap_remove(&m, &it[i].node);
  for (uint32_t i = 0; i < N; i++)
    CHECK(owner(pt_hashmap_find(&m, 42, key_eq, &i)) ==
          (i % 2 ? &it[i] : NULL));
  uint32_t absent = N + 1;
  CHECK_NULL(pt_hashmap_find(&m, 42, key_eq, &absent));
  CHECK_NULL(pt_hashmap_find(&m, 43, key_eq, &absent));
  CHECK_INT_EQ(pt_hashmap_size(&m), N / 2);
  pt_hashmap_free(&m);
  free(it);
}

TEST(grows_and_shrinks_lazily) {
  enum { N = 4096 };
  item *it = new_items(N + 1);
  pt_hashmap m;
  CHECK_NOT_NULL(it);
  pt_hashmap_init(&m);
  CHECK_NULL(m.buckets); /* nothing allocated before the first insert */
  for (uint32_t i = 0; i < N; i++)
    CHECK_INT_EQ(pt_hashmap_insert(&m, &it[i].node, key_hash(i)), 0);
  CHECK_UINT_EQ(m.bits, 12); /* 4096 nodes in 4096 buckets: load 1 */
  for (uint32_t i = 0; i < N - 10; i++)
    pt_hashmap_remove(&m, &it[i].node);
  CHECK_UINT_EQ(m.bits, 12); /* removal never resizes */
  CHECK_INT_EQ(pt_hashmap_insert(&m, &it[N].node, key_hash(N)), 0);
  CHECK(m.bits < 12);
  CHECK(load_ok(&m));
  for (uint32_t i = N - 10; i <= N; i++)
    CHECK(find(&m, i) == &it[i]);
  CHECK_INT_EQ(pt_hashmap_size(&m), 11);
  pt_hashmap_free(&m);
  free(it);
}

/* Resources are keyed by path: a string key through the same map. */
typedef struct resource {
  const char *path;
  pt_hash_node node;
} resource;

typedef struct path_key {
  const char *s;
  size_t len;
} path_key;

static int path_eq(const pt_hash_node *n, const void *ctx) {
  const resource *r = PT_CONTAINER_OF(n, resource, node);
  const path_key *k = ctx;
  return strlen(r->path) == k->len && memcmp(r->path, k->s, k->len) == 0;
}

TEST(string_keys) {
  resource r[3] = {{.path = "sensors/temp"},
                   {.path = "sensors/hum"},
                   {.path = ".well-known/core"}};
  pt_hashmap m;
  pt_hashmap_init(&m);
  for (int i = 0; i < 3; i++)
    CHECK_INT_EQ(
        pt_hashmap_insert(&m, &r[i].node,
                          pt_hash_bytes(r[i].path, strlen(r[i].path), 0)),
        0);
  path_key k = {"sensors/hum", 11};
  pt_hash_node *n =
      pt_hashmap_find(&m, pt_hash_bytes(k.s, k.len, 0), path_eq, &k);
  CHECK(n == &r[1].node);
  path_key prefix = {"sensors/hu", 10};
  CHECK_NULL(pt_hashmap_find(&m, pt_hash_bytes(prefix.s, prefix.len, 0),
                             path_eq, &prefix));
  pt_hashmap_free(&m);
}

/* Random inserts, removals and finds against per-key counts. */
TEST(random_ops_match_model) {
  enum { KEYS = 200, SLOTS = 1000 };
  static item slot[SLOTS];
  static int count[KEYS];
  uint32_t rng = 12345;
  pt_hashmap m;
  pt_hashmap_init(&m);
  memset(slot, 0, sizeof(slot));
  memset(count, 0, sizeof(count));
  for (int op = 0; op < 20000; op++) {
    rng = rng * 1103515245u + 12345u;
    item *s = &slot[(rng >> 8) % SLOTS];
    if (pt_hashmap_contains(&s->node)) {
      count[s->key]--;
      pt_hashmap_remove(&m, &s->node);
    } else {
      s->key = (rng >> 20) % KEYS;
      count[s->key]++;
      CHECK_INT_EQ(pt_hashmap_insert(&m, &s->node, key_hash(s->key)), 0);
    }
    uint32_t k = (rng >> 4) % KEYS;
    item *f = find(&m, k);
    CHECK_INT_EQ(f != NULL, count[k] > 0);
    CHECK(f == NULL || f->key == k);
    CHECK(load_ok(&m));
  }
  size_t total = 0;
  for (int k = 0; k < KEYS; k++)
    total += (size_t)count[k];
  CHECK_UINT_EQ(pt_hashmap_size(&m), total);
  pt_hashmap_free(&m);
}

int main(void) {
  RUN(hash_bytes_matches_murmur3_vectors);
  RUN(hash_mix_is_injective_and_ordered);
  RUN(hash_key_sees_every_bit_and_the_length);
  RUN(hash_key_spreads_similar_paths);
  RUN(bytes_equal_matches_memcmp);
  RUN(empty_map);
  RUN(insert_find_remove_100000);
  RUN(double_insert_refused);
  RUN(duplicates_allowed_find_returns_one);
  RUN(remove_current_during_iteration);
  RUN(iterate_and_free_everything);
  RUN(constant_hash_still_works);
  RUN(grows_and_shrinks_lazily);
  RUN(string_keys);
  RUN(random_ops_match_model);
  return TEST_SUMMARY();
}
