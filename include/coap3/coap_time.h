/*
 * coap_time.h -- the library clock (libcoap 4.3.4 API).
 *
 * Time inside the library is counted in ticks of a monotonic clock, with
 * COAP_TICKS_PER_SECOND ticks a second (milliseconds). Tick 0 is the moment
 * coap_clock_init() ran (or the first coap_ticks() call, if it never ran).
 * The coap_ticks_*_rt* helpers map ticks to and from wall-clock time using
 * the wall clock read once at that same moment, so they do not jump when the
 * system time is changed later.
 */
#ifndef COAP_TIME_H_
#define COAP_TIME_H_

#include <stdint.h>
#include <time.h>

#include "coap3/libcoap.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A point in time, in ticks (COAP_TICKS_PER_SECOND per second). */
typedef uint64_t coap_tick_t;

/** Wall-clock time in seconds since the POSIX epoch. */
typedef time_t coap_time_t;

/**
 * The signed difference of two coap_tick_t values; same width as
 * coap_tick_t so that differences survive wrap-around.
 */
typedef int64_t coap_tick_diff_t;

/** Ticks per second: the clock has millisecond resolution. */
#define COAP_TICKS_PER_SECOND ((coap_tick_t)(1000U))

/** The longest the event loop waits before waking up: 24 hours in ticks. */
#define COAP_MAX_DELAY_TICKS (24 * 60 * 60 * COAP_TICKS_PER_SECOND)

/**
 * Starts the clock: the current moment becomes tick 0 and the wall clock is
 * sampled for the rt conversions. coap_startup() calls it. Only the first
 * call (or first coap_ticks()) starts the clock; later calls do nothing, so
 * ticks never go backwards. Thread-safe.
 */
COAP_API void coap_clock_init(void);

/**
 * Stores the current time in ticks into @p t (which must not be NULL).
 * Monotonic: never goes backwards, whatever happens to the system time.
 */
COAP_API void coap_ticks(coap_tick_t *t);

/**
 * Converts ticks @p t to wall-clock time: seconds since the POSIX epoch.
 */
COAP_API coap_time_t coap_ticks_to_rt(coap_tick_t t);

/**
 * Converts ticks @p t to wall-clock time: microseconds since the POSIX epoch.
 */
COAP_API uint64_t coap_ticks_to_rt_us(coap_tick_t t);

/**
 * Converts wall-clock time @p t (microseconds since the POSIX epoch) to
 * ticks. A time before tick 0 gives 0.
 */
COAP_API coap_tick_t coap_ticks_from_rt_us(uint64_t t);

/**
 * Returns 1 if tick @p a is before tick @p b, comparing the signed
 * difference so that the answer stays right across wrap-around; else 0.
 */
COAP_STATIC_INLINE int coap_time_lt(coap_tick_t a, coap_tick_t b) {
  return (coap_tick_diff_t)(a - b) < 0;
}

/** Returns 1 if tick @p a is before or equal to tick @p b; else 0. */
COAP_STATIC_INLINE int coap_time_le(coap_tick_t a, coap_tick_t b) {
  return a == b || coap_time_lt(a, b);
}

#ifdef __cplusplus
}
#endif

#endif /* COAP_TIME_H_ */
