/*
 * coap_prng.h -- pseudo-random numbers (libcoap 4.3.4 API).
 *
 * The library draws message IDs, tokens and retransmission jitter from
 * coap_prng(). By default each thread has its own generator, seeded from the
 * kernel (getrandom()), so no lock is taken. An application may install its
 * own source with coap_set_prng().
 */
#ifndef COAP_PRNG_H_
#define COAP_PRNG_H_

#include <stddef.h>

#include "coap3/libcoap.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A random-number source: fills @p len bytes at @p out (borrowed, caller's
 * buffer) and returns 1, or returns 0 if it could not.
 */
typedef int (*coap_rand_func_t)(void *out, size_t len);

/**
 * Makes @p rng the source used by coap_prng() from now on, in every thread;
 * NULL restores the built-in generator. Set it before threads start.
 */
COAP_API void coap_set_prng(coap_rand_func_t rng);

/**
 * Reseeds the calling thread's built-in generator. The kernel's entropy is
 * drawn again and @p seed is mixed in, so the same seed does NOT give the
 * same sequence (as in libcoap where getrandom() is available).
 */
COAP_API void coap_prng_init(unsigned int seed);

/**
 * Fills @p buf (borrowed) with @p len random bytes from the current source.
 *
 * @return 1 when @p len bytes were written, 0 otherwise (a source installed
 *         with coap_set_prng() failed, or @p buf is NULL with @p len > 0).
 */
COAP_API int coap_prng(void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* COAP_PRNG_H_ */
