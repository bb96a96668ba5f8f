/*
 * sha256.h -- SHA-256 (FIPS 180-4), streaming (internal).
 *
 * Cache keys (cache.c) are digests of a request's cache-relevant parts; a
 * cryptographic digest makes two different requests sharing a key as
 * unlikely as finding a SHA-256 collision, so lookups compare keys only.
 * No (D)TLS library is linked in this build, hence our own. Pure
 * computation: no allocation, any thread (each context is independent).
 */
#ifndef PT_SHA256_H
#define PT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PT_SHA256_LEN 32

typedef struct pt_sha256 {
  uint32_t h[8];     /* chaining state */
  uint64_t total;    /* bytes hashed so far */
  uint8_t block[64]; /* partial block */
  size_t fill;       /* bytes in block */
} pt_sha256;

/* Starts a digest in @ctx (caller's storage). */
void pt_sha256_init(pt_sha256 *ctx);

/* Adds @len bytes at @data (borrowed; may be NULL if @len is 0). */
void pt_sha256_update(pt_sha256 *ctx, const void *data, size_t len);

/* Writes the 32-byte digest to @out; @ctx must be re-initialised before
 * further use. */
void pt_sha256_final(pt_sha256 *ctx, uint8_t out[PT_SHA256_LEN]);

#endif /* PT_SHA256_H */
