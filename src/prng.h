/*
 * prng.h -- the library's random numbers (internal).
 */
#ifndef PETREL_PRNG_H
#define PETREL_PRNG_H

#include <stdint.h>

#include "coap3/coap_prng.h"

/* Seeds the calling thread's generator (coap_startup() calls it). */
void pt_prng_startup(void);

/*
 * A random 64-bit value from the current source (the application's, if it
 * installed one with coap_set_prng()). Falls back to the built-in generator
 * if the application's source fails, so it always returns a value.
 */
uint64_t pt_prng_u64(void);

/* A uniform value in [0, bound) (bound > 0), without modulo bias. */
uint64_t pt_prng_below(uint64_t bound);

#endif /* PETREL_PRNG_H */
