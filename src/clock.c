/*
 * clock.c -- monotonic ticks and their mapping to wall-clock time.
 *
 * CLOCK_MONOTONIC drives the ticks, so timers are immune to changes of the
 * system time. The wall clock is read once, when the clock starts, and only
 * serves the rt conversions (log timestamps, Max-Age and the like).
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

static uint64_t mono_base_ns; /* CLOCK_MONOTONIC at tick 0 */
static uint64_t rt_base_us;   /* CLOCK_REALTIME at tick 0, in microseconds */
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;
static coap_tick_t *fake_now;

static uint64_t read_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Tick 0 is put on a whole second of the wall clock, so that the rt second
 * (coap_ticks_to_rt()) changes exactly when the ticks pass a multiple of
 * COAP_TICKS_PER_SECOND, as in libcoap. Applications count on it when they
 * sleep "until the next second starts" computed from the ticks alone:
 * libcoap's example server notifies /time's observers that way, and would
 * otherwise skip a second now and then.
 */
static void clock_start(void) {
  uint64_t mono = read_ns(CLOCK_MONOTONIC);
  uint64_t rt = read_ns(CLOCK_REALTIME);
  uint64_t into_second = rt % 1000000000u;
  if (into_second > mono) /* less than a second since boot */
    into_second = 0;
  mono_base_ns = mono - into_second;
  rt_base_us = (rt - into_second) / 1000u;
}

/*
 * Only the first call starts the clock: restarting it would move time
 * backwards under timers that are already set (coap_cleanup() followed by
 * coap_startup() must not do that).
 */
void coap_clock_init(void) {
  pthread_once(&clock_once, clock_start);
}

coap_tick_t pt_clock_now(void) {
  if (fake_now)
    return *fake_now;
  pthread_once(&clock_once, clock_start);
  uint64_t elapsed_ns = read_ns(CLOCK_MONOTONIC) - mono_base_ns;
  return elapsed_ns / (1000000000u / COAP_TICKS_PER_SECOND);
}

void pt_clock_set_fake(coap_tick_t *now_or_null) {
  fake_now = now_or_null;
}

void coap_ticks(coap_tick_t *t) {
  *t = pt_clock_now();
}

/* The rt conversions need the wall-clock base even if nobody ticked yet. */
static uint64_t base_us(void) {
  pthread_once(&clock_once, clock_start);
  return rt_base_us;
}

uint64_t coap_ticks_to_rt_us(coap_tick_t t) {
  return base_us() + t * (1000000u / COAP_TICKS_PER_SECOND);
}

coap_time_t coap_ticks_to_rt(coap_tick_t t) {
  return (coap_time_t)(coap_ticks_to_rt_us(t) / 1000000u);
}

coap_tick_t coap_ticks_from_rt_us(uint64_t t) {
  uint64_t base = base_us();
  if (t < base)
    return 0;
  return (t - base) / (1000000u / COAP_TICKS_PER_SECOND);
}
