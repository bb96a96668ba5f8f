/*
 * test_model.c -- model-based tests of the message layer (RFC 7252 4.2,
 * 4.4, 4.5, 5.2): random sequences of client CON requests, a fake server
 * peer whose datagrams are delivered, lost, duplicated or delayed (so
 * reordered), and clock advances, against a small reference model of the
 * RFC's rules, checked after every step:
 *  - a CON goes out only while fewer than NSTART (1) are unacknowledged,
 *    in the order the application sent them, and the next goes as soon
 *    as the slot frees;
 *  - retransmission k of a CON comes at first-send + I x (2^k - 1), I in
 *    [ACK_TIMEOUT, ACK_TIMEOUT x ACK_RANDOM_FACTOR], at most
 *    MAX_RETRANSMIT of them, none after an ACK, RST or response;
 *  - a request unanswered is NACKed exactly when its last timeout ends,
 *    an acknowledged one EXCHANGE_LIFETIME after its ACK, a reset one at
 *    once; a response is delivered exactly once and never after a NACK;
 *  - every CON response (and each duplicate of it) is acknowledged with
 *    its message ID;
 *  - the exchanges the context keeps are those the model keeps.
 * The clock moves one tick at a time, so every instant is exact.
 */
#include "test.h"

#include "core_harness.h"

#define MAXREQ 64
#define MAXNET 512
#define ACK_MS 2000
#define RF_MAX_MS 3000 /* ACK_TIMEOUT x ACK_RANDOM_FACTOR */
#define MAX_RETRANSMIT 4
#define LIFETIME_MS 247000 /* EXCHANGE_LIFETIME with the defaults */

static uint32_t rng_state;
static uint32_t rnd(void) { /* xorshift32: a failure reproduces by seed */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
static uint32_t below(uint32_t n) {
  return rnd() % n;
}

/* ---- the model ------------------------------------------------------------
 */

enum answer { ANS_NONE, ANS_EMPTY, ANS_PIGGY, ANS_RST };

typedef struct req {
  coap_mid_t mid;
  uint8_t token;
  int sent;                /* transmissions seen */
  coap_tick_t first, last; /* instants of the first and last one */
  coap_tick_t initial;     /* I, learnt from the first retransmission */
  int acked, done, failed;
  coap_tick_t acked_at;
  int answer;         /* the peer's answer to this MID, fixed */
  coap_mid_t sep_mid; /* the peer's separate response, if any */
  int deliveries, nacks;
  coap_tick_t nack_at;
  coap_nack_reason_t nack_reason;
} req;

static req reqs[MAXREQ];
static int nreq;
static int order_next; /* the next request that must go out first */

/* Datagrams of the peer in the network. */
typedef struct dgram {
  int r;     /* the request it answers */
  int kind;  /* ANS_EMPTY, ANS_PIGGY, ANS_RST, or 4: separate response */
  int alive; /* still to be delivered (delayed) */
} dgram;
#define SEPARATE 4
static dgram net[MAXNET];
static int nnet;

static int failures; /* model violations in this sequence */
static uint32_t seed_now;
static int step_now;

#define VIOLATION(...)                                                         \
  do {                                                                         \
    if (failures++ < 5) {                                                      \
      fprintf(stderr, "seed %u step %d t=%llu: ", seed_now, step_now,          \
              (unsigned long long)(h_now - t_start));                          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
    }                                                                          \
  } while (0)

static coap_tick_t t_start;
static coap_context_t *ctx;
static coap_session_t *cs;
static int seen_sent; /* datagrams of ours already checked */

static int by_token(uint8_t tok) {
  for (int i = 0; i < nreq; i++)
    if (reqs[i].token == tok)
      return i;
  return -1;
}

static int live(const req *r) {
  return !r->done && !r->failed;
}

static int in_flight(const req *r) {
  return r->sent && !r->acked && live(r);
}

/* ---- the application's handlers --------------------------------------------
 */

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *rcvd, coap_mid_t mid) {
  (void)s, (void)mid;
  if (!sent)
    return COAP_RESPONSE_OK; /* no request of ours: acknowledged anyway */
  coap_bin_const_t t = coap_pdu_get_token(rcvd);
  int i = t.length == 1 ? by_token(t.s[0]) : -1;
  if (i < 0)
    VIOLATION("a response delivered for an unknown token");
  else
    reqs[i].deliveries++;
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s;
  coap_bin_const_t t = sent ? coap_pdu_get_token(sent) : (coap_bin_const_t){0};
  int i = t.length == 1 ? by_token(t.s[0]) : -1;
  (void)mid;
  if (i < 0) {
    VIOLATION("a NACK for an unknown request");
    return;
  }
  reqs[i].nacks++;
  reqs[i].nack_at = h_now;
  reqs[i].nack_reason = reason;
}

/* ---- checking what we sent --------------------------------------------------
 */

static void check_request_sent(const uint8_t *d, size_t len) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  if (!coap_pdu_parse(COAP_PROTO_UDP, d, len, p)) {
    VIOLATION("we sent a datagram that does not parse");
    coap_delete_pdu(p);
    return;
  }
  coap_bin_const_t t = coap_pdu_get_token(p);
  int i = t.length == 1 ? by_token(t.s[0]) : -1;
  coap_mid_t mid = coap_pdu_get_mid(p);
  int type = coap_pdu_get_type(p);
  coap_delete_pdu(p);
  if (i < 0 || type != COAP_MESSAGE_CON) {
    VIOLATION("a request that is no CON of ours");
    return;
  }
  req *r = &reqs[i];
  if (!r->sent) { /* the first transmission */
    if (i != order_next)
      VIOLATION("request %d went before request %d", i, order_next);
    order_next = i + 1;
    for (int k = 0; k < nreq; k++)
      if (k != i && in_flight(&reqs[k]))
        VIOLATION("request %d went while %d is unacknowledged (NSTART 1)", i,
                  k);
    r->mid = mid;
    r->first = r->last = h_now;
    r->sent = 1;
    return;
  }
  if (mid != r->mid)
    VIOLATION("request %d retransmitted with another MID", i);
  if (!in_flight(r))
    VIOLATION("request %d retransmitted after its ACK, RST, answer or NACK", i);
  int k = r->sent; /* this is retransmission k */
  if (k > MAX_RETRANSMIT)
    VIOLATION("request %d: retransmission %d > MAX_RETRANSMIT", i, k);
  if (k == 1) {
    r->initial = h_now - r->first;
    if (r->initial < ACK_MS || r->initial > RF_MAX_MS)
      VIOLATION("request %d: first timeout %llu ms", i,
                (unsigned long long)r->initial);
  } else if (h_now - r->first != r->initial * ((1u << k) - 1)) {
    VIOLATION("request %d: retransmission %d at +%llu ms, not %llu x %u", i, k,
              (unsigned long long)(h_now - r->first),
              (unsigned long long)r->initial, (1u << k) - 1);
  }
  r->sent++;
  r->last = h_now;
}

/* Checks the datagrams we sent since the last call; @acks_for: the MID of
 * a separate response just delivered, which must be acknowledged (-1:
 * none). */
static void check_sent(int acks_for) {
  int acked = 0;
  for (; seen_sent < h_nsent && seen_sent < H_MAX_SENT; seen_sent++) {
    const uint8_t *d = h_sent_log[seen_sent].data;
    size_t len = h_sent_log[seen_sent].len;
    if (len == 4 && d[0] == 0x60 && d[1] == 0) {
      coap_mid_t mid = (coap_mid_t)(d[2] << 8 | d[3]);
      if (mid != acks_for || acked)
        VIOLATION("an Empty ACK for MID %d nobody asked for", mid);
      acked = 1;
    } else {
      check_request_sent(d, len);
    }
  }
  if (h_nsent > H_MAX_SENT)
    VIOLATION("more than %d datagrams: make sequences shorter", H_MAX_SENT);
  if (acks_for >= 0 && !acked)
    VIOLATION("the CON response with MID %d was not acknowledged", acks_for);
}

/* The model's verdicts on time: NACKs due by now must have come, exactly
 * then, and none early. Run before what was sent at the same instant is
 * checked (the next CON goes as soon as one fails). */
static void model_timeouts(void) {
  for (int i = 0; i < nreq; i++) {
    req *r = &reqs[i];
    coap_tick_t due = 0;
    if (in_flight(r) && r->initial)
      due = r->first + r->initial * ((2u << MAX_RETRANSMIT) - 1);
    else if (r->acked && live(r))
      due = r->acked_at + LIFETIME_MS;
    if (due && h_now >= due) {
      r->failed = 1;
      if (r->nacks != 1 || r->nack_at != due ||
          r->nack_reason != COAP_NACK_TOO_MANY_RETRIES)
        VIOLATION("request %d: %d NACKs (reason %d at +%llu), wanted one "
                  "at +%llu",
                  i, r->nacks, r->nack_reason,
                  (unsigned long long)(r->nack_at - t_start),
                  (unsigned long long)(due - t_start));
    }
  }
}

static void check_invariants(void) {
  int flying = 0, waiting = 0, keeps = 0;
  model_timeouts();
  for (int i = 0; i < nreq; i++) {
    req *r = &reqs[i];
    flying += in_flight(r);
    waiting += !r->sent && live(r);
    keeps += live(r);
    if (r->deliveries > 1)
      VIOLATION("request %d: response delivered %d times", i, r->deliveries);
    if (r->nacks > 1)
      VIOLATION("request %d: %d NACKs", i, r->nacks);
    if (r->deliveries && r->nacks)
      VIOLATION("request %d: both a response and a NACK", i);
    if (r->deliveries != r->done)
      VIOLATION("request %d: %d deliveries, the model says %d", i,
                r->deliveries, r->done);
    if (live(r) && r->nacks) {
      VIOLATION("request %d NACKed (reason %d) while the model keeps it", i,
                r->nack_reason);
    }
  }
  if (flying > 1)
    VIOLATION("%d CONs unacknowledged at once (NSTART 1)", flying);
  if (waiting && !flying)
    VIOLATION("%d requests wait although none is in flight", waiting);
  coap_petrel_stats_t st;
  coap_petrel_context_get_stats(ctx, &st);
  if ((int)st.exchanges != keeps)
    VIOLATION("the context keeps %zu exchanges, the model %d", st.exchanges,
              keeps);
}

/* ---- steps ------------------------------------------------------------------
 */

static void app_send(void) {
  if (nreq >= MAXREQ)
    return;
  req *r = &reqs[nreq];
  memset(r, 0, sizeof(*r));
  r->token = (uint8_t)(nreq + 1);
  nreq++;
  coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, cs);
  coap_add_token(p, 1, &r->token);
  coap_add_option(p, COAP_OPTION_URI_PATH, 1, (const uint8_t *)"x");
  if (coap_send(cs, p) == COAP_INVALID_MID)
    VIOLATION("coap_send refused request %d", nreq - 1);
  check_sent(-1);
}

/* The peer answers a request it has seen: the same way every time. */
static void peer_answers(void) {
  int cand[MAXREQ], n = 0;
  for (int i = 0; i < nreq; i++)
    if (reqs[i].sent)
      cand[n++] = i;
  if (!n || nnet >= MAXNET - 2)
    return;
  int i = cand[below((uint32_t)n)];
  req *r = &reqs[i];
  if (r->answer == ANS_NONE) {
    uint32_t x = below(10);
    r->answer = x < 4 ? ANS_EMPTY : x < 9 ? ANS_PIGGY : ANS_RST;
  }
  int kind = r->answer;
  if (r->answer == ANS_EMPTY && below(2)) {
    kind = SEPARATE;
    if (!r->sep_mid)
      r->sep_mid = (coap_mid_t)(0x7000 + i);
  }
  net[nnet++] = (dgram){i, kind, 1};
}

/* Delivers datagram @k of the network (it stays there as a possible
 * duplicate when @dup). */
static void deliver(int k) {
  dgram *g = &net[k];
  req *r = &reqs[g->r];
  coap_pdu_t *p = NULL;
  switch (g->kind) {
  case ANS_EMPTY:
    p = coap_pdu_init(COAP_MESSAGE_ACK, 0, r->mid, 0);
    if (in_flight(r)) {
      r->acked = 1;
      r->acked_at = h_now;
    }
    break;
  case ANS_RST:
    p = coap_pdu_init(COAP_MESSAGE_RST, 0, r->mid, 0);
    if (in_flight(r))
      r->failed = 1;
    break;
  case ANS_PIGGY:
    p = coap_pdu_init(COAP_MESSAGE_ACK, COAP_RESPONSE_CODE_CONTENT, r->mid, 64);
    coap_add_token(p, 1, &r->token);
    if (in_flight(r))
      r->done = 1;
    break;
  default: /* a separate response: also an implicit ACK */
    p = coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, r->sep_mid,
                      64);
    coap_add_token(p, 1, &r->token);
    if (live(r))
      r->done = 1;
    break;
  }
  int was_failed_by_rst = g->kind == ANS_RST && r->failed && !r->nacks;
  h_feed(cs, p);
  check_sent(g->kind == SEPARATE ? r->sep_mid : -1);
  if (was_failed_by_rst && (r->nacks != 1 || r->nack_reason != COAP_NACK_RST))
    VIOLATION("request %d: RST gave %d NACKs, reason %d", g->r, r->nacks,
              r->nack_reason);
}

static void advance(uint32_t ms) {
  for (uint32_t t = 0; t < ms; t++) {
    h_advance(ctx, 1);
    model_timeouts();
    check_sent(-1);
    check_invariants();
    if (failures)
      return;
  }
}

static void one_step(void) {
  uint32_t x = below(100);
  if (x < 8) {
    app_send();
  } else if (x < 45) {
    peer_answers();
  } else if (x < 70) { /* deliver one in the network, maybe keep a copy */
    int alive[MAXNET], n = 0;
    for (int k = 0; k < nnet; k++)
      if (net[k].alive)
        alive[n++] = k;
    if (n) {
      int k = alive[below((uint32_t)n)]; /* any of them: reordering */
      uint32_t fate = below(10);
      if (fate < 2)
        net[k].alive = 0; /* lost */
      else {
        deliver(k);
        if (fate < 8)
          net[k].alive = 0; /* else a duplicate may come later */
      }
    }
  } else {
    advance(1 + below(below(4) ? 1500 : 40000));
  }
  check_invariants();
}

static int run_sequence(uint32_t seed, int steps) {
  seed_now = seed;
  rng_state = seed * 2654435761u + 1;
  ctx = h_context();
  coap_register_response_handler(ctx, on_response);
  coap_register_nack_handler(ctx, on_nack);
  coap_address_t a = h_peer(5683);
  cs = coap_new_client_session(ctx, NULL, &a, COAP_PROTO_UDP);
  t_start = h_now;
  nreq = nnet = failures = seen_sent = order_next = 0;
  for (step_now = 0; step_now < steps && !failures; step_now++)
    one_step();
  /* the end: the peer answers what is left, in order, and nothing stays */
  for (int i = 0; i < nreq && !failures; i++) {
    req *r = &reqs[i];
    for (int guard = 0; live(r) && guard < 3 && !failures; guard++) {
      if (!r->sent) {
        VIOLATION("request %d is still waiting", i);
        break;
      }
      if (r->answer == ANS_NONE)
        r->answer = ANS_PIGGY;
      net[0] = (dgram){i, r->acked ? SEPARATE : r->answer, 1};
      if (net[0].kind == SEPARATE && !r->sep_mid)
        r->sep_mid = (coap_mid_t)(0x7000 + i);
      deliver(0);
      check_invariants();
    }
    if (live(r))
      VIOLATION("request %d never ended", i);
  }
  advance(10000);
  coap_session_release(cs);
  h_free(ctx);
  return failures;
}

TEST(random_sequences_follow_rfc_7252_rules) {
  int bad = 0;
  for (uint32_t seed = 1; seed <= 16 && bad < 3; seed++)
    bad += run_sequence(seed, 100) != 0;
  CHECK_INT_EQ(bad, 0);
}

int main(void) {
  RUN(random_sequences_follow_rfc_7252_rules);
  return TEST_SUMMARY();
}
