/*
 * hashmap.c -- intrusive chained hash map and byte hash (hashmap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

/* ======================================================================
 * Hashing
 * ====================================================================== */

static uint32_t rotl32(uint32_t x, unsigned r) {
  return (x << r) | (x >> (32u - r));
}

/* Scrambles one 32-bit word (the MurmurHash3 x86_32 constants). */
static uint32_t scramble(uint32_t k) {
  k *= 0xcc9e2d51u;
  k = rotl32(k, 15);
  return k * 0x1b873593u;
}

static uint32_t absorb(uint32_t h, uint32_t k) {
  h ^= scramble(k);
  h = rotl32(h, 13);
  return h * 5u + 0xe6546b64u;
}

/* Final avalanche: each input bit flips each output bit with p ~ 1/2. */
static uint32_t avalanche(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

/* Byte by byte, so the hash does not depend on alignment or endianness. */
static uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

uint32_t pt_hash_bytes(const void *data, size_t len, uint32_t seed) {
  const uint8_t *p = data;
  uint32_t h = seed;
  size_t i = 0;
  for (; len - i >= 4; i += 4)
    h = absorb(h, load_le32(p + i));
  /* The last 1-3 bytes, little-endian, as MurmurHash3 takes them. */
  uint32_t tail = 0;
  switch (len - i) {
  case 3:
    tail = (uint32_t)p[i + 2] << 16;
    /* fall through */
  case 2:
    tail |= (uint32_t)p[i + 1] << 8;
    /* fall through */
  case 1:
    tail |= p[i];
    h ^= scramble(tail);
    break;
  default:
    break;
  }
  h ^= (uint32_t)len; /* the scheme folds in the length modulo 2^32 */
  return avalanche(h);
}

/* Host-order word loads that need no alignment (a single mov). */
static uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

static uint32_t load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

/* Odd 64-bit multipliers with well-spread bits (splitmix64's). */
#define KEY_K1 0x9e3779b97f4a7c15u
#define KEY_K2 0xbf58476d1ce4e5b9u
#define KEY_K3 0x94d049bb133111ebu

uint32_t pt_hash_key(const void *data, size_t len, uint32_t seed) {
  const uint8_t *p = data;
  uint64_t h = ((uint64_t)seed << 32 | (uint32_t)len) * KEY_K1, last = 0;
  if (len > 8) {
    /* Whole words, then the last 8 bytes (overlapping what came before):
     * each step is a bijection of h for a given word. */
    for (size_t i = 0; len - i > 8; i += 8) {
      h = (h ^ load64(p + i)) * KEY_K2;
      h ^= h >> 31;
    }
    last = load64(p + len - 8);
  } else if (len >= 4) {
    /* First and last 4 bytes: together they cover all 4 to 8. */
    last = (uint64_t)load32(p) << 32 | load32(p + len - 4);
  } else if (len > 0) {
    /* 1 to 3 bytes: first, middle and last cover them all. */
    last = (uint64_t)p[0] << 16 | (uint64_t)p[len / 2] << 8 | p[len - 1];
  }
  h = (h ^ last) * KEY_K2;
  h ^= h >> 29;
  h *= KEY_K3;
  h ^= h >> 32;
  return (uint32_t)h;
}

uint32_t pt_hash_mix(uint32_t hash, uint32_t value) {
  return avalanche(absorb(hash, value));
}

/* ======================================================================
 * The map
 * ====================================================================== */

#define MIN_BITS 3u  /* 8 buckets */
#define MAX_BITS 31u /* 2^31 buckets, 16 GiB of heads: never reached */

static size_t bucket_count(const pt_hashmap *map) {
  return map->buckets ? (size_t)1 << map->bits : 0;
}

static size_t bucket_of(uint32_t hash, uint32_t bits) {
  return pt_hashmap_bucket_of(hash, bits);
}

static void link_head(pt_hash_node **head, pt_hash_node *node) {
  node->next = *head;
  if (node->next)
    node->next->pprev = &node->next;
  *head = node;
  node->pprev = head;
}

/* Moves every node into a fresh array of 2^bits buckets. O(buckets +
 * nodes); callers keep this amortized (see hashmap.h). */
static int resize(pt_hashmap *map, uint32_t bits) {
  pt_hash_node **fresh = calloc((size_t)1 << bits, sizeof(*fresh));
  if (!fresh)
    return -1;
  size_t old_count = bucket_count(map);
  for (size_t b = 0; b < old_count; b++) {
    pt_hash_node *n = map->buckets[b];
    while (n) {
      pt_hash_node *next = n->next;
      link_head(&fresh[bucket_of(n->hash, bits)], n);
      n = next;
    }
  }
  free(map->buckets);
  map->buckets = fresh;
  map->bits = bits;
  return 0;
}

/* Smallest size that leaves the map at most half full after shrinking. */
static uint32_t bits_for(size_t count) {
  uint32_t bits = MIN_BITS;
  while (bits < MAX_BITS && ((size_t)1 << bits) < 2 * count)
    bits++;
  return bits;
}

/* Sizes the array for one more node. Only a missing array is an error;
 * a failed grow or shrink leaves a working (if fuller) table. */
static int make_room(pt_hashmap *map) {
  if (!map->buckets)
    return resize(map, MIN_BITS);
  size_t buckets = bucket_count(map);
  if (map->count + 1 > buckets && map->bits < MAX_BITS)
    (void)resize(map, map->bits + 1);
  else if (map->count < buckets / 8 && map->bits > MIN_BITS)
    (void)resize(map, bits_for(map->count + 1));
  return 0;
}

void pt_hashmap_init(pt_hashmap *map) {
  map->buckets = NULL;
  map->count = 0;
  map->bits = 0;
}

void pt_hashmap_free(pt_hashmap *map) {
  size_t buckets = bucket_count(map);
  for (size_t b = 0; b < buckets; b++) {
    pt_hash_node *n = map->buckets[b];
    while (n) {
      pt_hash_node *next = n->next;
      pt_hash_node_init(n);
      n = next;
    }
  }
  free(map->buckets);
  pt_hashmap_init(map);
}

void pt_hash_node_init(pt_hash_node *node) {
  node->next = NULL;
  node->pprev = NULL;
  node->hash = 0;
}

int pt_hashmap_insert(pt_hashmap *map, pt_hash_node *node, uint32_t hash) {
  if (node->pprev || make_room(map) < 0)
    return -1;
  node->hash = hash;
  link_head(&map->buckets[bucket_of(hash, map->bits)], node);
  map->count++;
  return 0;
}

void pt_hashmap_remove(pt_hashmap *map, pt_hash_node *node) {
  if (!node->pprev)
    return;
  *node->pprev = node->next;
  if (node->next)
    node->next->pprev = node->pprev;
  node->next = NULL;
  node->pprev = NULL;
  map->count--;
}

/* First match at or after n in its chain. */
static pt_hash_node *scan_chain(pt_hash_node *n, uint32_t hash,
                                pt_hash_eq_fn eq, const void *key_ctx) {
  for (; n; n = n->next)
    if (n->hash == hash && eq(n, key_ctx))
      return n;
  return NULL;
}

pt_hash_node *pt_hashmap_find(const pt_hashmap *map, uint32_t hash,
                              pt_hash_eq_fn eq, const void *key_ctx) {
  if (!map->buckets)
    return NULL;
  return scan_chain(map->buckets[bucket_of(hash, map->bits)], hash, eq,
                    key_ctx);
}

/* Equal keys have equal hashes, so duplicates share prev's chain. */
pt_hash_node *pt_hashmap_find_next(const pt_hash_node *prev, pt_hash_eq_fn eq,
                                   const void *key_ctx) {
  return scan_chain(prev->next, prev->hash, eq, key_ctx);
}

size_t pt_hashmap_size(const pt_hashmap *map) {
  return map->count;
}

int pt_hashmap_contains(const pt_hash_node *node) {
  return node->pprev != NULL;
}

void pt_hashmap_iter_init(pt_hashmap_iter *it, const pt_hashmap *map) {
  it->map = map;
  it->bucket = 0;
  it->next = NULL;
}

/* The successor is fetched before the node is handed out, so the caller
 * may unlink (and free) the node it was given. */
pt_hash_node *pt_hashmap_iter_next(pt_hashmap_iter *it) {
  pt_hash_node *n = it->next;
  size_t buckets = bucket_count(it->map);
  while (!n && it->bucket < buckets)
    n = it->map->buckets[it->bucket++];
  if (n)
    it->next = n->next;
  return n;
}
