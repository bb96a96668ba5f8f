/*
 * hashmap.h -- intrusive hash map (internal), and the byte hash to feed it.
 *
 * One map type serves every lookup table of the runtime: sessions (keyed
 * by peer address + local endpoint), exchanges (message ID or token +
 * session) and resources (URI path). The map never sees a key: the owner
 * embeds a pt_hash_node, computes a 32-bit hash of its key, and lookups
 * pass that hash plus an equality callback with a key context. The owner
 * gets back to itself with PT_CONTAINER_OF.
 *
 * Design: separate chaining through the nodes themselves, with
 * doubly-linked chains ("next" plus a pointer to whatever points at this
 * node). Chosen over open addressing because
 *  - removal is O(1) given the node, with no probe and no tombstones, even
 *    when many keys share one hash;
 *  - nodes never move, so removing the current node during iteration is
 *    safe, and owners may hold node pointers across other operations;
 *  - a constant or weak hash degrades to long chains, never to failure.
 * The bucket array holds only head pointers (8 bytes a bucket).
 *
 * Size: the load factor (nodes / buckets) is kept at or below 1. The array
 * doubles when an insert would exceed it, re-linking every node once
 * (amortized O(1) per insert; the rare rehash is O(n), a trade taken for
 * simplicity over incremental rehashing). It halves or more, lazily, at
 * the next insert after the load has fallen below 1/8; removal never
 * resizes, which is what makes removal during iteration safe.
 *
 * Duplicates: the map allows several nodes with equal keys. Find returns
 * one of them (unspecified which); pt_hashmap_find_next walks the rest.
 *
 * Ownership: the map borrows nodes and never allocates or frees them; it
 * allocates only its bucket array. A node must stay valid and unmoved
 * while it is in a map. Not thread-safe: a map belongs to one event loop.
 */
#ifndef PETREL_HASHMAP_H
#define PETREL_HASHMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Owner struct of an embedded member. heap.h defines it identically (C
 * allows an identical redefinition), so either header may come first. */
#define PT_CONTAINER_OF(ptr, type, member)                                     \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct pt_hash_node {
  struct pt_hash_node *next;   /* next in the chain */
  struct pt_hash_node **pprev; /* what points at us; NULL when in no map */
  uint32_t hash;               /* cached: rehashing never calls the owner */
} pt_hash_node;

typedef struct pt_hashmap {
  pt_hash_node **buckets; /* owned; NULL until the first insert */
  size_t count;
  uint32_t bits; /* log2 of the bucket count; 0 while buckets is NULL */
} pt_hashmap;

/* Nonzero if the node's key equals the key described by key_ctx. Both
 * pointers are borrowed for the duration of the call. */
typedef int (*pt_hash_eq_fn)(const pt_hash_node *node, const void *key_ctx);

/* Iteration state; see pt_hashmap_iter_next. */
typedef struct pt_hashmap_iter {
  const pt_hashmap *map;
  size_t bucket;      /* next bucket to visit */
  pt_hash_node *next; /* node to return next, fetched ahead */
} pt_hashmap_iter;

/* ---- hashing ------------------------------------------------------------ */

/* A fast, well-mixed 32-bit hash of len bytes (MurmurHash3's x86_32
 * scheme: every output bit depends on every input bit). The result is the
 * same on every platform. data is borrowed; it may be NULL if len is 0.
 * The seed lets a map be salted per process against chosen collisions. */
uint32_t pt_hash_bytes(const void *data, size_t len, uint32_t seed);

/*
 * A cheaper hash for short keys of a table that lives in this process only
 * (resource paths): a key of up to 8 bytes is read as two overlapping
 * words whatever its length, so "hello" costs about 15 instructions
 * instead of pt_hash_bytes()'s 50; longer keys take 8 bytes a step. Every
 * byte and the length reach every output bit (a multiply-xorshift
 * finisher). Words are read in host byte order, so unlike pt_hash_bytes()
 * the value differs between little- and big-endian machines: never store
 * or send it. data is borrowed; it may be NULL if len is 0.
 */
uint32_t pt_hash_key(const void *data, size_t len, uint32_t seed);

/* 1 if the len bytes at a and b are equal (both borrowed): memcmp()'s
 * answer for equality, without its call for keys of 4 to 16 bytes (read
 * as two overlapping words). */
static inline int pt_bytes_equal(const void *a, const void *b, size_t len) {
  const unsigned char *x = a, *y = b;
  if (len >= 8 && len <= 16) {
    uint64_t x0, y0, x1, y1;
    memcpy(&x0, x, 8);
    memcpy(&y0, y, 8);
    memcpy(&x1, x + len - 8, 8);
    memcpy(&y1, y + len - 8, 8);
    return x0 == y0 && x1 == y1;
  }
  if (len >= 4 && len < 8) {
    uint32_t x0, y0, x1, y1;
    memcpy(&x0, x, 4);
    memcpy(&y0, y, 4);
    memcpy(&x1, x + len - 4, 4);
    memcpy(&y1, y + len - 4, 4);
    return x0 == y0 && x1 == y1;
  }
  return len == 0 || memcmp(x, y, len) == 0;
}

/* Folds a 32-bit value into a running hash and returns a well-mixed
 * result: pt_hash_mix(pt_hash_mix(seed, a), b) hashes the pair (a, b),
 * order-sensitively. Use it for integer keys (message IDs) and to combine
 * hashes of key parts (address hash, endpoint hash). */
uint32_t pt_hash_mix(uint32_t hash, uint32_t value);

/* ---- the map ------------------------------------------------------------ */

/* Prepares an empty map; allocates nothing. */
void pt_hashmap_init(pt_hashmap *map);

/* Frees the bucket array and marks every node still in the map as in no
 * map (O(buckets + nodes), teardown only). The nodes themselves are not
 * freed. The map is empty and reusable afterwards. */
void pt_hashmap_free(pt_hashmap *map);

/* Marks a node as in no map. Zero-initialised nodes are already so. */
void pt_hash_node_init(pt_hash_node *node);

/* Adds a borrowed node under hash, O(1) amortized. Returns 0, or -1 if
 * the node is already in a map or no bucket array could be allocated at
 * all (the node then stays where it was). If only growing fails, the node is
 * still added and the load factor rises above 1 until a later insert
 * grows the array. Must not be called while iterating. */
int pt_hashmap_insert(pt_hashmap *map, pt_hash_node *node, uint32_t hash);

/* Takes a node out, O(1). A no-op if the node is in no map. The node must
 * be in this map if it is in any. Never resizes. */
void pt_hashmap_remove(pt_hashmap *map, pt_hash_node *node);

/* A node with this hash for which eq(node, key_ctx) is nonzero, or NULL.
 * O(1) average. key_ctx is borrowed and only passed to eq. */
pt_hash_node *pt_hashmap_find(const pt_hashmap *map, uint32_t hash,
                              pt_hash_eq_fn eq, const void *key_ctx);

/* Fibonacci hashing: multiply by 2^32/phi and keep the top bits, so that
 * weak caller hashes (sequential message IDs) still spread evenly. */
static inline size_t pt_hashmap_bucket_of(uint32_t hash, uint32_t bits) {
  return (uint32_t)(hash * 0x9e3779b9u) >> (32u - bits);
}

/* The chain that holds every node added under hash (among others), or
 * NULL: for an owner that compares keys inline instead of through an
 * eq callback. Walk it with ->next, skipping nodes whose ->hash differs;
 * the same rules as pt_hashmap_find (nothing inserted or removed during
 * the walk). */
static inline pt_hash_node *pt_hashmap_chain(const pt_hashmap *map,
                                             uint32_t hash) {
  if (!map->buckets)
    return NULL;
  return map->buckets[pt_hashmap_bucket_of(hash, map->bits)];
}

/* The next node after prev (a result of find or find_next) that matches
 * the same hash and key, or NULL: the way to reach duplicates. */
pt_hash_node *pt_hashmap_find_next(const pt_hash_node *prev, pt_hash_eq_fn eq,
                                   const void *key_ctx);

/* Number of nodes in the map. */
size_t pt_hashmap_size(const pt_hashmap *map);

/* Nonzero if the node is in some map. */
int pt_hashmap_contains(const pt_hash_node *node);

/* Iteration in unspecified order:
 *     pt_hashmap_iter it;
 *     pt_hash_node *n;
 *     pt_hashmap_iter_init(&it, map);
 *     while ((n = pt_hashmap_iter_next(&it)) != NULL)
 *       ...;
 * While iterating, the node just returned may be removed (and freed by its
 * owner); no other node may be removed and nothing may be inserted. The
 * map is borrowed by the iterator. A full pass is O(buckets + nodes). */
void pt_hashmap_iter_init(pt_hashmap_iter *it, const pt_hashmap *map);
pt_hash_node *pt_hashmap_iter_next(pt_hashmap_iter *it);

#endif /* PETREL_HASHMAP_H */
