/*
 * test_dedup.c -- remembering received message IDs (src/dedup.c, RFC 7252
 * 4.5): the two ways a session indexes its entries (a run of consecutive
 * IDs kept as its first ID and a count, or the map), the moves between
 * them, expiry on the fake clock and the caps.
 */
#include "test.h"

#include "core_harness.h"
#include "dedup.h"

static coap_context_t *ctx_;

static coap_session_t *session(void) {
  ctx_ = h_context();
  return h_server_session(40000);
}

static void add(coap_session_t *s, int mid) {
  CHECK_NOT_NULL(pt_dedup_add(s, (coap_mid_t)mid, h_now));
}

static int found(coap_session_t *s, int mid) {
  return pt_dedup_find(s, (coap_mid_t)mid, h_now) != NULL;
}

static coap_tick_t lifetime(const coap_session_t *s) {
  return pt_exchange_lifetime(s);
}

TEST(consecutive_ids_stay_a_run_and_are_found) {
  coap_session_t *s = session();
  for (int mid = 100; mid < 110; mid++)
    add(s, mid);
  CHECK_UINT_EQ(s->dedup_count, 10);
  CHECK_INT_EQ(s->dedup_indexed, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&s->dedup_map), 0);
  CHECK(!found(s, 99));  /* before the run */
  CHECK(!found(s, 110)); /* the next one */
  CHECK(!found(s, 40000));
  CHECK_INT_EQ(s->dedup_indexed, 0); /* misses read nothing but s */
  CHECK(found(s, 100));              /* the first in the run */
  CHECK_INT_EQ(s->dedup_indexed, 1); /* indexed by the hit */
  CHECK_UINT_EQ(pt_hashmap_size(&s->dedup_map), 10);
  for (int mid = 100; mid < 110; mid++)
    CHECK(found(s, mid));
  CHECK_INT_EQ(pt_dedup_find(s, 105, h_now)->mid, 105);
  CHECK(!found(s, 110));
  h_free(ctx_);
}

TEST(the_last_id_of_a_run_is_found) {
  coap_session_t *s = session();
  for (int mid = 7; mid < 12; mid++)
    add(s, mid);
  CHECK(found(s, 11));
  CHECK_INT_EQ(pt_dedup_find(s, 11, h_now)->mid, 11);
  h_free(ctx_);
}

TEST(a_run_wraps_past_65535) {
  coap_session_t *s = session();
  for (int i = 0; i < 6; i++)
    add(s, (65533 + i) & 0xffff); /* 65533 .. 65535, 0 .. 2 */
  CHECK_INT_EQ(s->dedup_indexed, 0);
  CHECK(!found(s, 3));
  CHECK(!found(s, 65532));
  CHECK_INT_EQ(s->dedup_indexed, 0);
  CHECK(found(s, 1));
  CHECK(found(s, 65535));
  CHECK(found(s, 65533));
  CHECK(found(s, 2));
  CHECK(!found(s, 3));
  h_free(ctx_);
}

TEST(an_id_out_of_sequence_indexes_every_entry) {
  coap_session_t *s = session();
  add(s, 5);
  add(s, 6);
  add(s, 7);
  add(s, 300); /* not 8 */
  CHECK_INT_EQ(s->dedup_indexed, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&s->dedup_map), 4);
  CHECK(found(s, 5) && found(s, 6) && found(s, 7) && found(s, 300));
  CHECK(!found(s, 8));
  add(s, 8); /* indexed now: every new one goes to the map */
  CHECK_UINT_EQ(pt_hashmap_size(&s->dedup_map), 5);
  CHECK(found(s, 8));
  h_free(ctx_);
}

TEST(an_id_repeated_or_going_back_is_out_of_sequence) {
  coap_session_t *s = session();
  add(s, 20);
  add(s, 21);
  add(s, 19); /* one back: would extend a run the other way */
  CHECK_INT_EQ(s->dedup_indexed, 1);
  CHECK(found(s, 19) && found(s, 20) && found(s, 21));
  CHECK(!found(s, 22));
  h_free(ctx_);
}

TEST(the_cap_drops_the_oldest_of_a_run) {
  coap_session_t *s = session();
  ctx_->dedup_per_session = 4;
  for (int mid = 0; mid < 10; mid++)
    add(s, mid);
  CHECK_UINT_EQ(s->dedup_count, 4);
  CHECK_UINT_EQ(ctx_->dedup_total, 4);
  CHECK_INT_EQ(s->dedup_indexed, 0);
  CHECK_UINT_EQ(s->dedup_lo, 6);
  for (int mid = 0; mid < 6; mid++)
    CHECK(!found(s, mid));
  CHECK_INT_EQ(s->dedup_indexed, 0);
  for (int mid = 6; mid < 10; mid++)
    CHECK(found(s, mid));
  h_free(ctx_);
}

TEST(the_cap_drops_the_oldest_once_indexed) {
  coap_session_t *s = session();
  ctx_->dedup_per_session = 3;
  add(s, 50);
  add(s, 10);
  add(s, 11);
  add(s, 12); /* drops 50 */
  CHECK_INT_EQ(s->dedup_indexed, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&s->dedup_map), 3);
  CHECK(!found(s, 50));
  CHECK(found(s, 10) && found(s, 11) && found(s, 12));
  h_free(ctx_);
}

TEST(entries_expire_after_exchange_lifetime_and_a_new_run_starts) {
  coap_session_t *s = session();
  add(s, 1);
  add(s, 2);
  add(s, 9); /* indexed */
  CHECK_INT_EQ(s->dedup_indexed, 1);
  h_advance(ctx_, lifetime(s) - 1);
  CHECK(found(s, 1) && found(s, 9));
  h_advance(ctx_, 1); /* EXCHANGE_LIFETIME after they came */
  CHECK(!found(s, 1));
  CHECK(!found(s, 9));
  CHECK_UINT_EQ(s->dedup_count, 0); /* the timer freed them */
  CHECK_UINT_EQ(ctx_->dedup_total, 0);
  CHECK_INT_EQ(s->dedup_indexed, 0); /* empty: a run again */
  CHECK_UINT_EQ(pt_hashmap_size(&s->dedup_map), 0);
  add(s, 1000);
  add(s, 1001);
  CHECK_INT_EQ(s->dedup_indexed, 0);
  CHECK_UINT_EQ(s->dedup_lo, 1000);
  CHECK(found(s, 1001));
  h_free(ctx_);
}

TEST(an_expired_entry_in_a_run_is_not_found) {
  coap_session_t *s = session();
  add(s, 30);
  h_advance(ctx_, lifetime(s) / 2);
  add(s, 31);
  h_now += lifetime(s) / 2; /* 30 is due; no timer has run yet */
  CHECK(!found(s, 30));
  CHECK(found(s, 31));
  h_free(ctx_);
}

TEST(the_oldest_entry_expires_before_a_new_one_is_added) {
  coap_session_t *s = session();
  add(s, 70);
  h_now += lifetime(s); /* due, timer not run */
  add(s, 80);           /* 70 goes first: 80 starts a run of its own */
  CHECK_UINT_EQ(s->dedup_count, 1);
  CHECK_INT_EQ(s->dedup_indexed, 0);
  CHECK_UINT_EQ(s->dedup_lo, 80);
  CHECK(found(s, 80));
  h_free(ctx_);
}

TEST(the_context_cap_and_zero_per_session_refuse_entries) {
  coap_session_t *s = session();
  ctx_->dedup_max_total = 2;
  add(s, 1);
  add(s, 2);
  CHECK_NULL(pt_dedup_add(s, 3, h_now));
  CHECK(!found(s, 3));
  CHECK_INT_EQ(s->dedup_indexed, 0);
  ctx_->dedup_per_session = 0;
  CHECK_NULL(pt_dedup_add(s, 3, h_now));
  h_free(ctx_);
}

TEST(closing_the_session_purges_both_indexes) {
  coap_session_t *s = session();
  add(s, 1);
  add(s, 2);
  coap_session_t *t = h_server_session(40001);
  add(t, 5);
  add(t, 3);
  CHECK_INT_EQ(t->dedup_indexed, 1);
  CHECK_UINT_EQ(ctx_->dedup_total, 4);
  pt_session_close(s, COAP_NACK_NOT_DELIVERABLE);
  pt_session_close(t, COAP_NACK_NOT_DELIVERABLE);
  CHECK_UINT_EQ(ctx_->dedup_total, 0);
  h_free(ctx_);
}

int main(void) {
  RUN(consecutive_ids_stay_a_run_and_are_found);
  RUN(the_last_id_of_a_run_is_found);
  RUN(a_run_wraps_past_65535);
  RUN(an_id_out_of_sequence_indexes_every_entry);
  RUN(an_id_repeated_or_going_back_is_out_of_sequence);
  RUN(the_cap_drops_the_oldest_of_a_run);
  RUN(the_cap_drops_the_oldest_once_indexed);
  RUN(entries_expire_after_exchange_lifetime_and_a_new_run_starts);
  RUN(an_expired_entry_in_a_run_is_not_found);
  RUN(the_oldest_entry_expires_before_a_new_one_is_added);
  RUN(the_context_cap_and_zero_per_session_refuse_entries);
  RUN(closing_the_session_purges_both_indexes);
  return TEST_SUMMARY();
}
