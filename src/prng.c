/*
 * prng.c -- per-thread xoshiro256** seeded from the kernel.
 *
 * CoAP needs unpredictable tokens and message IDs (RFC 7252 section 5.3.1
 * asks for tokens that are hard to guess) but not a cryptographic stream
 * for every byte: xoshiro256** is fast, passes the usual statistical batteries
 * and, reseeded from getrandom() per thread, is unpredictable enough for
 * off-path attackers. Thread-local state means no lock and no sharing.
 */
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "prng.h"

static __thread uint64_t state[4];
static __thread int seeded;
static coap_rand_func_t app_rng;

static uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

/* SplitMix64: spreads one word into well-mixed words for the state. */
static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/*
 * Kernel entropy first; if getrandom() is unavailable (very old kernels,
 * seccomp), time, pid and the state's address still give distinct streams.
 */
static void seed_state(uint64_t extra) {
  uint64_t k[4] = {0, 0, 0, 0};
  ssize_t got = getrandom(k, sizeof(k), GRND_NONBLOCK);
  uint64_t mix = extra ^ (uint64_t)(uintptr_t)&state;
  if (got != (ssize_t)sizeof(k)) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    mix ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
           ((uint64_t)getpid() << 16);
  }
  for (int i = 0; i < 4; i++)
    state[i] = k[i] ^ splitmix(&mix);
  if (!(state[0] | state[1] | state[2] | state[3]))
    state[0] = 1; /* the one state xoshiro never leaves */
  seeded = 1;
}

static uint64_t next_builtin(void) {
  if (!seeded)
    seed_state(0);
  uint64_t result = rotl(state[1] * 5, 7) * 9;
  uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

static void fill_builtin(uint8_t *out, size_t len) {
  while (len) {
    uint64_t v = next_builtin();
    size_t n = len < sizeof(v) ? len : sizeof(v);
    memcpy(out, &v, n);
    out += n;
    len -= n;
  }
}

void pt_prng_startup(void) {
  if (!seeded)
    seed_state(0);
}

void coap_prng_init(unsigned int seed) {
  seed_state(seed);
}

void coap_set_prng(coap_rand_func_t rng) {
  app_rng = rng;
}

int coap_prng(void *buf, size_t len) {
  if (!buf)
    return len == 0;
  coap_rand_func_t rng = app_rng;
  if (rng)
    return rng(buf, len) ? 1 : 0;
  fill_builtin(buf, len);
  return 1;
}

uint64_t pt_prng_u64(void) {
  uint64_t v;
  if (!coap_prng(&v, sizeof(v)))
    v = next_builtin();
  return v;
}

/* Lemire's nearly-divisionless method would do too; rejection is simpler. */
uint64_t pt_prng_below(uint64_t bound) {
  if (bound <= 1)
    return 0;
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t v;
  do
    v = pt_prng_u64();
  while (v >= limit);
  return v % bound;
}
