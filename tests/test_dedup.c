/*
 * test_dedup.c -- remembering received message IDs (src/dedup.c, RFC 7252
 * 4.5): the two ways a session indexes its entries (a run of consecutive
 * IDs kept as its first ID and a count, or the map), the moves between
 * them, expiry on the fake clock and the caps: at the context's cap the
 * context's oldest entry is forgotten for the new one, checked through the
 * core and on the wire.
 */
#include <stdio.h>
#include <string.h>

#include "test.h"

#include "core_harness.h"
#include "dedup.h"
#include "udp_client.h"

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

TEST(a_cap_of_zero_turns_deduplication_off) {
  coap_session_t *s = session();
  add(s, 1);
  ctx_->dedup_max_total = 0;
  CHECK_NULL(pt_dedup_add(s, 2, h_now));
  CHECK(!found(s, 2));
  CHECK(found(s, 1)); /* what is held stays until it expires */
  ctx_->dedup_max_total = 100;
  ctx_->dedup_per_session = 0;
  CHECK_NULL(pt_dedup_add(s, 3, h_now));
  CHECK(!found(s, 3));
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

/* ---- the context's cap: the oldest entry makes room -----------------------
 */

/* The context's arrival-order list is whole: linked both ways from
 * dedup_oldest to dedup_newest (the links past either end are not kept),
 * and as long as dedup_total. */
static int order_ok(const coap_context_t *ctx) {
  const pt_dedup *d = ctx->dedup_oldest;
  if (!d || !ctx->dedup_newest)
    return !d && !ctx->dedup_newest && !ctx->dedup_total;
  size_t n = 1;
  for (; d != ctx->dedup_newest; d = d->newer, n++) {
    if (n >= ctx->dedup_total || d->newer->older != d)
      return 0;
  }
  return n == ctx->dedup_total;
}

/* The session's FIFO is whole: dedup_count entries from head to tail, in
 * arrival order (expiries never go down), and circular (the tail's next is
 * the head). */
static int fifo_ok(const coap_session_t *s) {
  if (!s->dedup_count)
    return !s->dedup_head && !s->dedup_tail;
  const pt_dedup *d = s->dedup_head;
  for (unsigned i = 1; i < s->dedup_count; i++, d = d->next) {
    if (d == s->dedup_tail || d->next->expires < d->expires)
      return 0;
  }
  return d == s->dedup_tail && d->next == s->dedup_head;
}

/* The context's order is arrival order: expiries never go down along it
 * (one lifetime for every session of these tests). */
static int order_by_arrival(const coap_context_t *ctx) {
  for (const pt_dedup *d = ctx->dedup_oldest; d && d != ctx->dedup_newest;
       d = d->newer) {
    if (d->newer->expires < d->expires)
      return 0;
  }
  return 1;
}

/* Adds through a second session until the context has evicted @n of the
 * older entries (the context is at its cap). */
static void push_out(coap_session_t *by, int *mid, int n) {
  for (int i = 0; i < n; i++)
    add(by, (*mid)++);
  CHECK(order_ok(ctx_));
}

TEST(at_the_cap_the_context_oldest_entry_is_forgotten) {
  coap_session_t *a = session();
  coap_session_t *b = h_server_session(40001);
  ctx_->dedup_max_total = 3;
  add(a, 1);
  add(b, 50);
  add(a, 2);
  CHECK(order_ok(ctx_));
  add(b, 51); /* a's 1 is the oldest */
  CHECK_UINT_EQ(ctx_->dedup_total, 3);
  CHECK(!found(a, 1));
  CHECK(found(b, 50) && found(a, 2) && found(b, 51));
  add(a, 3); /* then b's 50 */
  CHECK(!found(b, 50));
  CHECK(found(a, 2) && found(b, 51) && found(a, 3));
  CHECK_UINT_EQ(a->dedup_count, 2);
  CHECK_UINT_EQ(b->dedup_count, 1);
  CHECK(order_ok(ctx_));
  h_free(ctx_);
}

TEST(eviction_from_a_run_moves_its_start) {
  coap_session_t *a = session();
  coap_session_t *b = h_server_session(40001);
  ctx_->dedup_max_total = 5;
  for (int mid = 10; mid < 15; mid++)
    add(a, mid);
  int next = 900;
  push_out(b, &next, 2); /* forgets a's 10 and 11 */
  CHECK_INT_EQ(a->dedup_indexed, 0);
  CHECK_UINT_EQ(a->dedup_lo, 12);
  CHECK_UINT_EQ(a->dedup_count, 3);
  CHECK(!found(a, 10) && !found(a, 11) && !found(a, 15));
  CHECK_INT_EQ(a->dedup_indexed, 0);
  add(a, 15); /* still extends the run; forgets a's 12 */
  CHECK_INT_EQ(a->dedup_indexed, 0);
  CHECK_UINT_EQ(a->dedup_lo, 13);
  CHECK(!found(a, 12));
  CHECK(found(a, 13) && found(a, 14) && found(a, 15));
  CHECK_UINT_EQ(pt_hashmap_size(&a->dedup_map), 3); /* the hit indexed them */
  CHECK(found(b, 900) && found(b, 901));
  CHECK_UINT_EQ(ctx_->dedup_total, 5);
  CHECK(order_ok(ctx_));
  h_free(ctx_);
}

TEST(eviction_from_an_indexed_session_leaves_its_map_right) {
  coap_session_t *a = session();
  coap_session_t *b = h_server_session(40001);
  ctx_->dedup_max_total = 3;
  add(a, 5);
  add(a, 300);
  add(a, 6);
  CHECK_INT_EQ(a->dedup_indexed, 1);
  int next = 70;
  push_out(b, &next, 2); /* forgets 5 and 300 */
  CHECK_UINT_EQ(pt_hashmap_size(&a->dedup_map), 1);
  CHECK(!found(a, 5) && !found(a, 300));
  CHECK(found(a, 6));
  CHECK_INT_EQ(pt_dedup_find(a, 6, h_now)->mid, 6);
  push_out(b, &next, 1); /* and a's last one */
  CHECK_UINT_EQ(a->dedup_count, 0);
  CHECK_INT_EQ(a->dedup_indexed, 0); /* empty: a run again */
  CHECK_UINT_EQ(pt_hashmap_size(&a->dedup_map), 0);
  CHECK(!found(a, 6));
  add(a, 400); /* forgets b's 70 */
  add(a, 401);
  CHECK_INT_EQ(a->dedup_indexed, 0);
  CHECK_UINT_EQ(a->dedup_lo, 400);
  CHECK(found(a, 400) && found(a, 401));
  CHECK(!found(b, 70) && !found(b, 71) && found(b, 72));
  CHECK(order_ok(ctx_));
  h_free(ctx_);
}

TEST(a_session_purged_after_eviction_frees_only_what_it_holds) {
  coap_session_t *a = session();
  coap_session_t *b = h_server_session(40001);
  ctx_->dedup_max_total = 6;
  add(a, 1);
  add(a, 2);
  add(a, 40); /* indexed */
  add(a, 3);
  int next = 200;
  push_out(b, &next, 4); /* b: 200..203; forgets a's 1 and 2 */
  CHECK_UINT_EQ(a->dedup_count, 2);
  CHECK_UINT_EQ(ctx_->dedup_total, 6);
  pt_session_close(a, COAP_NACK_NOT_DELIVERABLE);
  CHECK_UINT_EQ(ctx_->dedup_total, 4);
  CHECK(order_ok(ctx_));
  CHECK(ctx_->dedup_oldest && ctx_->dedup_oldest->mid == 200);
  push_out(b, &next, 3); /* b alone, up to the cap again */
  CHECK_UINT_EQ(ctx_->dedup_total, 6);
  CHECK(!found(b, 200) && found(b, 201) && found(b, 206));
  pt_session_close(b, COAP_NACK_NOT_DELIVERABLE);
  CHECK_UINT_EQ(ctx_->dedup_total, 0);
  CHECK_NULL(ctx_->dedup_oldest);
  CHECK_NULL(ctx_->dedup_newest);
  h_free(ctx_);
}

/* Against a model of the rule (each session keeps its newest per-session
 * cap, the context its newest total cap), over four sessions with IDs that
 * mostly count up and sometimes jump: the total never passes the cap and
 * exactly the model's entries are found. */
TEST(many_sessions_keep_exactly_the_newest_under_both_caps) {
  enum { SESSIONS = 4, PER = 5, TOTAL = 11, STEPS = 400 };
  session();
  ctx_->dedup_per_session = PER;
  ctx_->dedup_max_total = TOTAL;
  coap_session_t *s[SESSIONS];
  int last[SESSIONS];
  for (int i = 0; i < SESSIONS; i++) {
    s[i] = h_server_session((uint16_t)(41000 + i));
    last[i] = 1000 * i;
  }
  int who[STEPS], mid[STEPS];
  uint32_t rnd = 12345;
  for (int k = 0; k < STEPS; k++) {
    rnd = rnd * 1103515245u + 12345u;
    int i = (int)(rnd >> 16) % SESSIONS;
    last[i] += (rnd >> 8) % 7 ? 1 : 17; /* now and then out of sequence */
    who[k] = i;
    mid[k] = last[i] & 0xffff;
    add(s[i], mid[k]);
    CHECK(ctx_->dedup_total <= TOTAL);
    /* The model: walking back from the newest, an entry is kept if its
     * session has fewer than PER newer ones kept and the context fewer
     * than TOTAL. */
    int kept = 0, per[SESSIONS] = {0};
    for (int j = k; j >= 0 && j > k - 40; j--) {
      int keep = kept < TOTAL && per[who[j]] < PER;
      if (keep)
        kept++, per[who[j]]++;
      if (found(s[who[j]], mid[j]) != keep) {
        CHECK_INT_EQ(found(s[who[j]], mid[j]), keep);
        printf("  at step %d, entry %d (session %d, mid %d)\n", k, j, who[j],
               mid[j]);
        h_free(ctx_);
        return;
      }
    }
    CHECK_UINT_EQ(ctx_->dedup_total, (size_t)kept);
    CHECK(order_ok(ctx_));
    CHECK(fifo_ok(s[i]));
  }
  CHECK(order_ok(ctx_));
  h_free(ctx_);
}

/* Every way an entry comes and goes -- growth, a busy session's rotation,
 * the session cap out of sequence, the context cap, expiry on the clock
 * and a session's close -- in a random mix: after each step every
 * session's FIFO is circular and in arrival order, and the context's list
 * is whole and in arrival order, whatever links past its ends hold. */
TEST(the_fifos_and_the_context_order_stay_whole_through_every_path) {
  enum { SESSIONS = 5, STEPS = 3000 };
  session();
  ctx_->dedup_per_session = 6;
  ctx_->dedup_max_total = 20;
  coap_context_set_session_timeout(ctx_, 1000000); /* none is reaped */
  coap_session_t *s[SESSIONS];
  int last[SESSIONS];
  for (int i = 0; i < SESSIONS; i++) {
    s[i] = h_server_session((uint16_t)(42000 + i));
    last[i] = 100 * i;
  }
  coap_tick_t life = lifetime(s[0]);
  uint32_t rnd = 777;
  for (int k = 0; k < STEPS; k++) {
    rnd = rnd * 1103515245u + 12345u;
    int i = (int)(rnd >> 16) % SESSIONS;
    unsigned what = (rnd >> 4) % 100;
    if (what < 3) {
      h_advance(ctx_, life / 3); /* some expire */
    } else if (what < 4) {
      pt_session_close(s[i], COAP_NACK_NOT_DELIVERABLE);
      s[i] = h_server_session((uint16_t)(42000 + i));
      CHECK_UINT_EQ(s[i]->dedup_count, 0);
    } else {
      last[i] += what < 90 ? 1 : 5; /* mostly a run */
      h_now += 1;
      add(s[i], last[i] & 0xffff);
    }
    if (!order_ok(ctx_) || !order_by_arrival(ctx_)) {
      CHECK(order_ok(ctx_) && order_by_arrival(ctx_));
      printf("  at step %d\n", k);
      break;
    }
    size_t total = 0;
    for (int j = 0; j < SESSIONS; j++) {
      CHECK(fifo_ok(s[j]));
      total += s[j]->dedup_count;
    }
    CHECK_UINT_EQ(total, ctx_->dedup_total);
    CHECK(ctx_->dedup_total <= 20);
  }
  h_free(ctx_);
}

/* An entry is one cache line, on a line of its own, and a growing context
 * takes fresh entries in address order within a slab; the session and the
 * index node are found from the entry. */
TEST(entries_are_one_cache_line_handed_out_in_address_order) {
  coap_session_t *s = session();
  CHECK_UINT_EQ(sizeof(pt_dedup), 64);
  pt_dedup *prev = NULL;
  for (int i = 0; i < 2 * PT_DEDUP_SLAB + 3; i++) {
    pt_dedup *d = pt_dedup_add(s, (coap_mid_t)(5 * i), h_now); /* indexed */
    CHECK_NOT_NULL(d);
    CHECK_UINT_EQ((uintptr_t)d % 64, 0);
    CHECK(pt_dedup_session(d) == s);
    if (i % PT_DEDUP_SLAB)
      CHECK(d == prev + 1);
    prev = d;
  }
  for (int i = 0; i < 2 * PT_DEDUP_SLAB + 3; i++)
    CHECK_INT_EQ(pt_dedup_find(s, (coap_mid_t)(5 * i), h_now)->mid, 5 * i);
  h_free(ctx_);
}

TEST(a_lowered_context_cap_applies_at_the_next_message) {
  coap_session_t *a = session();
  for (int mid = 0; mid < 8; mid++)
    add(a, mid);
  ctx_->dedup_max_total = 3;
  add(a, 8);
  CHECK_UINT_EQ(ctx_->dedup_total, 3);
  CHECK(!found(a, 5));
  CHECK(found(a, 6) && found(a, 7) && found(a, 8));
  CHECK(order_ok(ctx_));
  h_free(ctx_);
}

/* The evicted session's timer was armed for the entry that is gone; it
 * fires then, finds nothing due and re-arms for the new oldest. */
TEST(expiry_after_eviction_rearms_for_the_new_oldest) {
  coap_session_t *a = session();
  coap_session_t *b = h_server_session(40001);
  coap_tick_t life = lifetime(a), t0 = h_now;
  coap_context_set_session_timeout(ctx_, 3600); /* the sessions outlive it */
  ctx_->dedup_max_total = 3;
  add(a, 1);
  CHECK_UINT_EQ(a->dedup_timer.node.deadline, t0 + life);
  h_advance(ctx_, life / 2);
  coap_tick_t t1 = h_now;
  add(a, 2);
  add(a, 3);
  h_advance(ctx_, 1);
  add(b, 9); /* forgets a's 1 */
  CHECK(pt_timer_armed(&a->dedup_timer));
  h_advance(ctx_, t0 + life - h_now); /* the old deadline */
  CHECK_UINT_EQ(a->dedup_count, 2);   /* nothing of a's was due */
  CHECK(pt_timer_armed(&a->dedup_timer));
  CHECK_UINT_EQ(a->dedup_timer.node.deadline, t1 + life);
  CHECK(found(a, 2) && found(a, 3));
  h_advance(ctx_, t1 + life - h_now);
  CHECK_UINT_EQ(a->dedup_count, 0);
  CHECK(!pt_timer_armed(&a->dedup_timer));
  CHECK_UINT_EQ(ctx_->dedup_total, 1); /* b's 9 */
  h_advance(ctx_, life);
  CHECK_UINT_EQ(ctx_->dedup_total, 0);
  CHECK(order_ok(ctx_));
  h_free(ctx_);
}

/* A session whose every entry was forgotten keeps its timer; the entry it
 * gets next is still freed at its own expiry. */
TEST(a_session_emptied_by_eviction_expires_its_next_entry) {
  coap_session_t *a = session();
  coap_session_t *b = h_server_session(40001);
  coap_tick_t life = lifetime(a), t0 = h_now;
  coap_context_set_session_timeout(ctx_, 3600);
  ctx_->dedup_max_total = 1;
  add(a, 1);
  add(b, 1); /* forgets a's */
  CHECK_UINT_EQ(a->dedup_count, 0);
  h_advance(ctx_, life / 2);
  coap_tick_t t1 = h_now;
  add(a, 2); /* forgets b's */
  h_advance(ctx_, t0 + life - h_now);
  CHECK(found(a, 2));
  CHECK(pt_timer_armed(&a->dedup_timer));
  CHECK_UINT_EQ(a->dedup_timer.node.deadline, t1 + life);
  CHECK(!pt_timer_armed(&b->dedup_timer)); /* b held nothing when it fired */
  h_advance(ctx_, t1 + life - h_now);
  CHECK_UINT_EQ(ctx_->dedup_total, 0);
  CHECK(!found(a, 2));
  h_free(ctx_);
}

/* ---- through the core: the handler runs once ------------------------------
 */

static int runs;

/* Answers "run N", N counting the calls: a re-run answers differently. */
static void hnd_counted(coap_resource_t *r, coap_session_t *s,
                        const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  char body[16];
  int n = snprintf(body, sizeof(body), "run %d", ++runs);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, (size_t)n, (const uint8_t *)body);
}

static void add_counted(coap_context_t *ctx) {
  coap_resource_t *r = coap_resource_init(coap_make_str_const("c"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_counted);
  coap_add_resource(ctx, r);
  runs = 0;
}

static void get(coap_session_t *s, int mid) {
  h_feed(s, h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, (coap_mid_t)mid,
                      (uint8_t)mid, "c"));
}

TEST(at_the_cap_a_new_sessions_con_is_answered_once) {
  ctx_ = h_context();
  add_counted(ctx_);
  coap_petrel_context_set_dedup_total(ctx_, 3);
  coap_session_t *a = h_server_session(40001);
  for (int mid = 1; mid <= 3; mid++)
    get(a, mid);
  coap_session_t *b = h_server_session(40002);
  h_nsent = 0;
  get(b, 77); /* the context is full: a's 1 makes room */
  CHECK_INT_EQ(runs, 4);
  CHECK_INT_EQ(h_nsent, 1);
  get(b, 77); /* its retransmission */
  CHECK_INT_EQ(runs, 4);
  CHECK_INT_EQ(h_nsent, 2);
  CHECK_MEM_EQ(h_sent_log[1].data, h_sent_log[1].len, h_sent_log[0].data,
               h_sent_log[0].len);
  CHECK(h_sent_log[1].session == b);
  CHECK_UINT_EQ(ctx_->dedup_total, 3);
  get(a, 3); /* still remembered */
  CHECK_INT_EQ(runs, 4);
  get(a, 1); /* the one forgotten: runs again (and forgets a's 2) */
  CHECK_INT_EQ(runs, 5);
  get(a, 3);
  get(b, 77);
  CHECK_INT_EQ(runs, 5);
  get(a, 2);
  CHECK_INT_EQ(runs, 6);
  h_free(ctx_);
}

/* ---- on the wire ------------------------------------------------------------
 */

/* A CON GET /c with a one-byte token equal to the low byte of @mid. */
static size_t con_get(uint8_t *buf, uint16_t mid) {
  const uint8_t head[] = {
      0x41,         COAP_REQUEST_CODE_GET, (uint8_t)(mid >> 8),
      (uint8_t)mid, (uint8_t)mid,          0xb1,
      'c'};
  memcpy(buf, head, sizeof(head));
  return sizeof(head);
}

/* Sends @mid from @c, runs the server until the answer is back; returns
 * its length (-1: none within about a second). */
static ssize_t wire_get(coap_context_t *ctx, udp_client *c, uint16_t mid,
                        uint8_t *out, size_t cap) {
  uint8_t req[16];
  if (udp_send(c, req, con_get(req, mid)) < 0)
    return -1;
  for (int i = 0; i < 50; i++) {
    coap_io_process(ctx, 20);
    ssize_t r = udp_recv(c, out, cap, 0);
    if (r >= 0)
      return r;
  }
  return -1;
}

/* At a cap of 2, two peers alternate new requests with retransmissions of
 * their previous one, which arrive after the other peer's new request has
 * made the context forget something: every retransmission gets the same
 * bytes as the first answer, and the handler runs once per request. */
TEST(two_peers_at_a_small_cap_get_cached_replies_on_the_wire) {
  coap_address_t addr;
  coap_address_init(&addr);
  addr.addr.sin.sin_family = AF_INET;
  addr.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.size = sizeof(addr.addr.sin);
  coap_context_t *ctx = coap_new_context(NULL);
  coap_endpoint_t *ep =
      ctx ? coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP) : NULL;
  CHECK_NOT_NULL(ep);
  if (!ep) {
    coap_free_context(ctx);
    return;
  }
  add_counted(ctx);
  coap_petrel_context_set_dedup_total(ctx, 2);
  uint16_t port = coap_address_get_port(&ep->bind_addr);
  udp_client c[2] = {udp_client_open(port), udp_client_open(port)};
  uint8_t first[2][64], again[64];
  ssize_t flen[2] = {-1, -1};
  for (int k = 0; k < 12; k++) {
    int p = k % 2;
    uint16_t mid = (uint16_t)(0x4000 + k / 2);
    if (k >= 2) { /* p's previous request again */
      ssize_t r = wire_get(ctx, &c[p], (uint16_t)(mid - 1), again, 64);
      CHECK_MEM_EQ(again, (size_t)(r > 0 ? r : 0), first[p],
                   (size_t)(flen[p] > 0 ? flen[p] : 0));
    }
    flen[p] = wire_get(ctx, &c[p], mid, first[p], 64);
    CHECK(flen[p] > 6);
    CHECK_UINT_EQ(first[p][0], 0x61); /* ACK, TKL 1 */
    CHECK_UINT_EQ(first[p][1], COAP_RESPONSE_CODE_CONTENT);
    CHECK_UINT_EQ((unsigned)(first[p][2] << 8 | first[p][3]), mid);
    CHECK_UINT_EQ(first[p][4], (uint8_t)mid);
    CHECK_INT_EQ(runs, k + 1);
    CHECK(ctx->dedup_total <= 2);
  }
  /* The oldest request of peer 0 was forgotten long ago: it runs again. */
  ssize_t r = wire_get(ctx, &c[0], 0x4000, again, 64);
  CHECK(r > 6);
  CHECK_INT_EQ(runs, 13);
  udp_client_close(&c[0]);
  udp_client_close(&c[1]);
  coap_free_context(ctx);
}

/* The lifetime an entry gets is kept per session and computed again
 * after any of ACK_TIMEOUT, ACK_RANDOM_FACTOR and MAX_RETRANSMIT is set
 * (RFC 7252 4.8.2): each new value shows in the next entry's expiry. */
static coap_tick_t expiry_of_new(coap_session_t *s, int mid) {
  pt_dedup *d = pt_dedup_add(s, (coap_mid_t)mid, h_now);
  return d ? d->expires - h_now : 0; /* 0: not added, a failure */
}

TEST(a_changed_transmission_parameter_changes_the_lifetime) {
  coap_session_t *s = session();
  CHECK_UINT_EQ(expiry_of_new(s, 1), 247 * COAP_TICKS_PER_SECOND);
  coap_fixed_point_t four = {4, 0}, one_and_half = {1, 500};
  coap_session_set_ack_timeout(s, four); /* span 4 * 15 * 1.5 = 90 */
  CHECK_UINT_EQ(expiry_of_new(s, 2), (90 + 200 + 4) * COAP_TICKS_PER_SECOND);
  coap_session_set_ack_random_factor(s, one_and_half); /* 4 * 15 * 1.5 */
  CHECK_UINT_EQ(expiry_of_new(s, 3), (90 + 200 + 4) * COAP_TICKS_PER_SECOND);
  coap_fixed_point_t two = {2, 0};
  coap_session_set_ack_random_factor(s, two); /* 4 * 15 * 2 = 120 */
  CHECK_UINT_EQ(expiry_of_new(s, 4), (120 + 200 + 4) * COAP_TICKS_PER_SECOND);
  coap_session_set_max_retransmit(s, 2); /* 4 * 3 * 2 = 24 */
  CHECK_UINT_EQ(expiry_of_new(s, 5), (24 + 200 + 4) * COAP_TICKS_PER_SECOND);
  CHECK_UINT_EQ(expiry_of_new(s, 6), pt_exchange_lifetime(s));
  h_free(ctx_);
}

/* Entry memory comes in slabs that stay while anything is remembered and
 * all go when nothing is: an idle context holds none. */
TEST(entry_memory_is_given_back_when_nothing_is_remembered) {
  coap_session_t *s = session();
  for (int i = 0; i < PT_DEDUP_SLAB + 1; i++)
    add(s, i);
  CHECK_NOT_NULL(ctx_->dedup_slabs);
  h_advance(ctx_, lifetime(s));
  CHECK_UINT_EQ(ctx_->dedup_total, 0);
  CHECK_NULL(ctx_->dedup_slabs);
  CHECK_NULL(ctx_->dedup_spare);
  add(s, 500); /* a fresh slab */
  CHECK_NOT_NULL(ctx_->dedup_slabs);
  CHECK(found(s, 500));
  h_free(ctx_);
}

/* At the session's cap the entry forgotten is reused for the new ID: it
 * keeps nothing of the old one (answer, state, ID). */
TEST(an_entry_reused_at_the_cap_starts_afresh) {
  coap_session_t *s = session();
  ctx_->dedup_per_session = 2;
  pt_dedup *a = pt_dedup_add(s, 10, h_now);
  CHECK_NOT_NULL(a);
  uint8_t big[80] = {0x60, 0x45, 0, 10};
  pt_dedup_set_reply(a, PT_DEDUP_REPLY, big, sizeof(big)); /* on the heap */
  add(s, 11);
  h_now += 5;
  pt_dedup *c = pt_dedup_add(s, 12, h_now);
  CHECK(c == a); /* the oldest's memory, reused */
  CHECK_INT_EQ(c->mid, 12);
  CHECK_INT_EQ(c->state, PT_DEDUP_SEEN);
  CHECK_NULL(pt_dedup_reply(c));
  CHECK_UINT_EQ(c->expires, h_now + lifetime(s));
  CHECK(!found(s, 10) && found(s, 11) && found(s, 12));
  CHECK_UINT_EQ(s->dedup_count, 2);
  CHECK_UINT_EQ(ctx_->dedup_total, 2);
  CHECK(ctx_->dedup_newest == c && ctx_->dedup_oldest != c);
  h_free(ctx_);
}

/* An answer of every length up to the inline room (and one past it) is
 * kept byte for byte, and nothing past its length is written. */
TEST(answers_of_every_length_are_kept_exactly) {
  coap_session_t *s = session();
  uint8_t src[PT_DEDUP_INLINE_REPLY + 1];
  for (size_t i = 0; i < sizeof(src); i++)
    src[i] = (uint8_t)(0xa0 + i);
  for (size_t len = 1; len <= sizeof(src); len++) {
    pt_dedup *d = pt_dedup_add(s, (coap_mid_t)len, h_now);
    CHECK_NOT_NULL(d);
    if (len <= PT_DEDUP_INLINE_REPLY)
      memset(d->reply, 0x55, sizeof(d->reply));
    pt_dedup_set_reply(d, PT_DEDUP_REPLY, src, len);
    CHECK_INT_EQ(d->state, PT_DEDUP_REPLY);
    CHECK_UINT_EQ(d->reply_len, len);
    CHECK_INT_EQ(memcmp(pt_dedup_reply(d), src, len), 0);
    if (len < PT_DEDUP_INLINE_REPLY)
      CHECK_UINT_EQ(d->reply[len], 0x55);
  }
  h_free(ctx_);
}

/* A cap of one: the only entry is reused in place for each new ID, and
 * moves to the newest end of the context's order past other sessions'. */
TEST(a_cap_of_one_keeps_the_newest_id_only) {
  ctx_ = h_context();
  coap_session_t *a = h_server_session(40000), *b = h_server_session(40001);
  ctx_->dedup_per_session = 1;
  add(a, 5);
  add(b, 90);
  add(a, 6);
  add(a, 7);
  CHECK(!found(a, 5) && !found(a, 6) && found(a, 7));
  CHECK_UINT_EQ(a->dedup_count, 1);
  CHECK_UINT_EQ(a->dedup_lo, 7);
  CHECK(a->dedup_head == a->dedup_tail);
  CHECK(ctx_->dedup_newest == a->dedup_head);
  CHECK(ctx_->dedup_oldest == b->dedup_head);
  CHECK_UINT_EQ(ctx_->dedup_total, 2);
  h_free(ctx_);
}

/* The same when the new ID leaves the run: the reused entry goes into the
 * map with the others. */
TEST(an_entry_reused_at_the_cap_out_of_sequence_is_indexed) {
  coap_session_t *s = session();
  ctx_->dedup_per_session = 2;
  pt_dedup *a = pt_dedup_add(s, 10, h_now);
  CHECK_NOT_NULL(a);
  uint8_t big[80] = {0x60, 0x45, 0, 10};
  pt_dedup_set_reply(a, PT_DEDUP_REPLY, big, sizeof(big));
  add(s, 11);
  pt_dedup *c = pt_dedup_add(s, 50, h_now);
  CHECK(c == a);
  CHECK_INT_EQ(c->state, PT_DEDUP_SEEN);
  CHECK_NULL(pt_dedup_reply(c));
  CHECK_INT_EQ(s->dedup_indexed, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&s->dedup_map), 2);
  CHECK(!found(s, 10) && found(s, 11) && found(s, 50));
  add(s, 51); /* indexed: 11 goes through the map */
  CHECK(!found(s, 11) && found(s, 50) && found(s, 51));
  CHECK_UINT_EQ(pt_hashmap_size(&s->dedup_map), 2);
  h_free(ctx_);
}

/* At the context's cap the context's oldest entry (another session's) is
 * reused for the new one. */
TEST(an_entry_reused_at_the_context_cap_moves_to_its_new_session) {
  ctx_ = h_context();
  coap_session_t *a = h_server_session(40000), *b = h_server_session(40001);
  ctx_->dedup_max_total = 2;
  pt_dedup *first = pt_dedup_add(a, 1, h_now);
  add(a, 2);
  pt_dedup *n = pt_dedup_add(b, 7, h_now);
  CHECK(n == first);
  CHECK(pt_dedup_session(n) == b);
  CHECK(!found(a, 1) && found(a, 2) && found(b, 7));
  CHECK_UINT_EQ(a->dedup_count, 1);
  CHECK_UINT_EQ(a->dedup_lo, 2);
  CHECK_UINT_EQ(b->dedup_count, 1);
  CHECK_UINT_EQ(ctx_->dedup_total, 2);
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
  RUN(a_cap_of_zero_turns_deduplication_off);
  RUN(closing_the_session_purges_both_indexes);
  RUN(at_the_cap_the_context_oldest_entry_is_forgotten);
  RUN(eviction_from_a_run_moves_its_start);
  RUN(eviction_from_an_indexed_session_leaves_its_map_right);
  RUN(a_session_purged_after_eviction_frees_only_what_it_holds);
  RUN(many_sessions_keep_exactly_the_newest_under_both_caps);
  RUN(a_lowered_context_cap_applies_at_the_next_message);
  RUN(expiry_after_eviction_rearms_for_the_new_oldest);
  RUN(a_session_emptied_by_eviction_expires_its_next_entry);
  RUN(at_the_cap_a_new_sessions_con_is_answered_once);
  RUN(two_peers_at_a_small_cap_get_cached_replies_on_the_wire);
  RUN(a_changed_transmission_parameter_changes_the_lifetime);
  RUN(entry_memory_is_given_back_when_nothing_is_remembered);
  RUN(an_entry_reused_at_the_cap_starts_afresh);
  RUN(answers_of_every_length_are_kept_exactly);
  RUN(a_cap_of_one_keeps_the_newest_id_only);
  RUN(an_entry_reused_at_the_cap_out_of_sequence_is_indexed);
  RUN(an_entry_reused_at_the_context_cap_moves_to_its_new_session);
  RUN(the_fifos_and_the_context_order_stay_whole_through_every_path);
  RUN(entries_are_one_cache_line_handed_out_in_address_order);
  return TEST_SUMMARY();
}
