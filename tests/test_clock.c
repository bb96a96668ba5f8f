/*
 * test_clock.c -- monotonic ticks, conversions, comparison helpers and the
 * fake clock.
 */
#include <time.h>

#include "clock.h"
#include "coap3/coap.h"
#include "test.h"

TEST(ticks_per_second_is_millis) {
  CHECK_UINT_EQ(COAP_TICKS_PER_SECOND, 1000);
  CHECK_INT_EQ(sizeof(coap_tick_t), 8);
  CHECK_INT_EQ(sizeof(coap_tick_diff_t), sizeof(coap_tick_t));
  CHECK_UINT_EQ(COAP_MAX_DELAY_TICKS, 86400000u);
}

TEST(ticks_monotonic_and_advance) {
  coap_tick_t a, b;
  struct timespec pause = {0, 30 * 1000 * 1000};
  coap_clock_init();
  coap_ticks(&a);
  for (int i = 0; i < 1000; i++) {
    coap_ticks(&b);
    CHECK(b >= a);
    a = b;
  }
  coap_ticks(&a);
  nanosleep(&pause, NULL);
  coap_ticks(&b);
  CHECK(b - a >= 25);
  CHECK(b - a < 5000);
}

TEST(clock_init_again_does_not_go_back) {
  coap_tick_t a, b;
  struct timespec pause = {0, 5 * 1000 * 1000};
  nanosleep(&pause, NULL);
  coap_ticks(&a);
  CHECK(a > 0);
  coap_clock_init();
  coap_ticks(&b);
  CHECK(b >= a);
}

TEST(rt_conversions_track_wall_clock) {
  coap_tick_t now;
  struct timespec wall;
  coap_ticks(&now);
  clock_gettime(CLOCK_REALTIME, &wall);
  uint64_t wall_us = (uint64_t)wall.tv_sec * 1000000u + wall.tv_nsec / 1000;
  uint64_t rt_us = coap_ticks_to_rt_us(now);
  CHECK(rt_us <= wall_us + 2000 && rt_us + 2000000 >= wall_us);
  time_t secs = coap_ticks_to_rt(now);
  CHECK(secs >= wall.tv_sec - 2 && secs <= wall.tv_sec + 1);
}

/* The rt second changes exactly where the ticks pass a whole second, as in
 * libcoap (applications compute "until the next second" from the ticks). */
TEST(rt_seconds_change_with_tick_seconds) {
  coap_tick_t now;
  coap_ticks(&now);
  for (coap_tick_t t = now; t < now + 3 * COAP_TICKS_PER_SECOND; t++) {
    coap_tick_t second_start = t - t % COAP_TICKS_PER_SECOND;
    if (coap_ticks_to_rt(t) != coap_ticks_to_rt(second_start)) {
      fprintf(stderr, "tick %llu is in another rt second than tick %llu\n",
              (unsigned long long)t, (unsigned long long)second_start);
      CHECK(0);
    }
  }
  CHECK_UINT_EQ(
      coap_ticks_to_rt_us(now - now % COAP_TICKS_PER_SECOND) % 1000000u, 0);
  /* and the rt time is still the wall clock's, to the tick */
  struct timespec wall;
  coap_ticks(&now);
  clock_gettime(CLOCK_REALTIME, &wall);
  uint64_t wall_us = (uint64_t)wall.tv_sec * 1000000u + wall.tv_nsec / 1000;
  uint64_t rt_us = coap_ticks_to_rt_us(now);
  if (rt_us > wall_us + 2000 || rt_us + 50000 < wall_us)
    fprintf(stderr, "rt %llu us, wall clock %llu us\n",
            (unsigned long long)rt_us, (unsigned long long)wall_us);
  CHECK(rt_us <= wall_us + 2000 && rt_us + 50000 >= wall_us);
}

TEST(rt_round_trip) {
  coap_tick_t t = 123456;
  CHECK_UINT_EQ(coap_ticks_from_rt_us(coap_ticks_to_rt_us(t)), t);
  CHECK_UINT_EQ(coap_ticks_to_rt_us(t + 1) - coap_ticks_to_rt_us(t), 1000);
  /* Before tick 0: clamps to 0. */
  CHECK_UINT_EQ(coap_ticks_from_rt_us(0), 0);
}

TEST(time_lt_le_handle_wrap) {
  CHECK(coap_time_lt(1, 2));
  CHECK(!coap_time_lt(2, 1));
  CHECK(!coap_time_lt(2, 2));
  CHECK(coap_time_le(2, 2));
  CHECK(coap_time_le(1, 2));
  CHECK(!coap_time_le(3, 2));
  CHECK(coap_time_lt(UINT64_MAX - 5, 3)); /* 3 comes after the wrap */
  CHECK(!coap_time_lt(3, UINT64_MAX - 5));
}

TEST(fake_clock_controls_time) {
  coap_tick_t fake = 5000, t;
  pt_clock_set_fake(&fake);
  coap_ticks(&t);
  CHECK_UINT_EQ(t, 5000);
  CHECK_UINT_EQ(pt_clock_now(), 5000);
  fake += 250;
  CHECK_UINT_EQ(pt_clock_now(), 5250);
  pt_clock_set_fake(NULL);
  CHECK(pt_clock_now() < 5000 * 1000); /* back to the real, young clock */
}

int main(void) {
  RUN(ticks_per_second_is_millis);
  RUN(ticks_monotonic_and_advance);
  RUN(clock_init_again_does_not_go_back);
  RUN(rt_conversions_track_wall_clock);
  RUN(rt_seconds_change_with_tick_seconds);
  RUN(rt_round_trip);
  RUN(time_lt_le_handle_wrap);
  RUN(fake_clock_controls_time);
  return TEST_SUMMARY();
}
