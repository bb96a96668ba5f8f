/*
 * clock.h -- the library's one reader of the system clock (internal).
 *
 * Everything above the event loop takes `now` as an argument; the event loop
 * gets it from pt_clock_now(). Tests replace the clock with a variable they
 * move by hand (pt_clock_set_fake).
 */
#ifndef PETREL_CLOCK_H
#define PETREL_CLOCK_H

#include "coap3/coap_time.h"

/* The current time in ticks; the fake clock's value while one is set. */
coap_tick_t pt_clock_now(void);

/*
 * Test hook. With a non-NULL @now, pt_clock_now() and coap_ticks() return
 * *now from then on (the pointer is borrowed: it must stay valid until the
 * fake is removed; the test changes *now to move time). NULL restores the
 * real monotonic clock. Not thread-safe: set it before threads start.
 */
void pt_clock_set_fake(coap_tick_t *now_or_null);

#endif /* PETREL_CLOCK_H */
