/*
 * test_tcp_signal.c -- RFC 8323 signaling on a TCP connection (src/tcp.c
 * with src/signal.c and src/keepalive.c): Ping/Pong and Custody, the
 * keepalive over TCP, Release and Abort both ways, the write-queue cap
 * setter, the idle timeout and the connection cap, and a named test for
 * every kind of malformed signaling input.
 *
 * A connection is a socketpair: the session's side is attached with
 * pt_tcp_attach() and fed through pt_tcp_input() (the sans-I/O entry),
 * the test reads what it sent from the other side. Time is a fake clock.
 */
#include "test.h"

#include "tcp_harness.h"

/* ---- Ping, Pong, Custody (RFC 8323 5.4) --------------------------------- */

/* A client session whose peer's CSM (Max-Message-Size 1152) came. */
static coap_session_t *connected_client(coap_context_t *ctx, int *peer) {
  coap_session_t *s = client(ctx, peer);
  feed_csm(s, 1152, 0);
  return s;
}

/* Feeds @s a GET of /wait with the token @tok (@tok_len bytes), which the
 * handler keeps as an async: a separate response stays pending
 * (held_async) until the test frees it. */
static void hold_get(coap_session_t *s, const char *tok, size_t tok_len) {
  coap_pdu_t *get =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0, 0);
  coap_add_token(get, tok_len, (const uint8_t *)tok);
  coap_add_option(get, COAP_OPTION_URI_PATH, 4, (const uint8_t *)"wait");
  feed(s, get);
}

/* A server session whose peer's CSM came, with a GET of /wait (token
 * @tok) awaiting its separate response (hold_get()). */
static coap_session_t *busy_server(coap_context_t *ctx, int *peer,
                                   uint16_t port, const char *tok,
                                   size_t tok_len) {
  coap_session_t *s = server(ctx, peer, port);
  feed_csm(s, 1152, 0);
  hold_get(s, tok, tok_len);
  return s;
}

/* A Ping with the token @tok (@tok_len bytes), asking for Custody when
 * @custody. */
static coap_pdu_t *ping_with(const char *tok, size_t tok_len, int custody) {
  coap_pdu_t *ping = sig(COAP_SIGNALING_CODE_PING);
  coap_add_token(ping, tok_len, (const uint8_t *)tok);
  if (custody)
    coap_add_option(ping, COAP_SIGNALING_OPTION_CUSTODY, 0, NULL);
  return ping;
}

/* A Ping fed to a session is answered at once with a Pong that echoes its
 * token, with Custody when it was asked and nothing is pending. */
typedef struct {
  const char *name;
  uint16_t server_port; /* 0: a client session */
  int pending;          /* a GET /wait left a separate response pending */
  int custody;          /* the Ping asks for Custody */
  const char *token;
  size_t token_len;
  int pong_custody;
} ping_row;

static const ping_row ping_rows[] = {
    {"signal_ping_reaches_the_ping_handler_and_is_answered", 0, 0, 0,
     "\x0a\x0b", 2, 0},
    {"custody_ping_without_pending_work_is_answered_with_custody", 40001, 0, 1,
     "", 0, 1},
    /* A Ping without Custody is answered at once, pending work or not. */
    {"plain_ping_is_answered_at_once_while_work_is_pending", 40003, 1, 0, "", 0,
     0},
};

static void ping_answered(const ping_row *r) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s =
      r->server_port ? server(ctx, &peer, r->server_port) : client(ctx, &peer);
  CHECK_INT_EQ(feed_csm(s, 1152, 0), 0);
  if (r->pending) {
    hold_get(s, "", 0);
    CHECK_NOT_NULL(held_async);
  }
  CHECK_INT_EQ(feed(s, ping_with(r->token, r->token_len, r->custody)), 0);
  CHECK_INT_EQ(pings_seen, 1);
  CHECK_UINT_EQ(ping_code_seen, COAP_SIGNALING_CODE_PING);
  coap_pdu_t *pong = NULL;
  CHECK_INT_EQ(last_code(peer, &pong), COAP_SIGNALING_CODE_PONG);
  coap_bin_const_t tok = coap_pdu_get_token(pong);
  CHECK_MEM_EQ(tok.s, tok.length, r->token, r->token_len);
  CHECK_INT_EQ(has_option(pong, COAP_SIGNALING_OPTION_CUSTODY),
               r->pong_custody);
  coap_delete_pdu(pong);
  if (!r->server_port)
    coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(signal_pong_reaches_the_pong_handler) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  CHECK_INT_EQ(coap_session_send_ping(s), 0);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_PING);
  CHECK_INT_EQ(feed(s, sig(COAP_SIGNALING_CODE_PONG)), 0);
  CHECK_INT_EQ(pongs_seen, 1);
  CHECK_INT_EQ(pings_seen, 0);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* RFC 8323 5.4: with Custody asked, the Pong waits until the requests
 * received before the Ping are processed: here a separate response. */
TEST(custody_pong_waits_for_the_pending_separate_response) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = busy_server(ctx, &peer, 40002, "\x33", 1);
  CHECK_NOT_NULL(held_async);
  last_code(peer, NULL); /* our CSM */
  feed(s, ping_with("\x77", 1, 1));
  CHECK_INT_EQ(pings_seen, 1);
  CHECK_INT_EQ(last_code(peer, NULL), 0); /* held */
  advance(ctx, SEC);
  CHECK_INT_EQ(last_code(peer, NULL), 0);
  coap_free_async(s, held_async); /* the separate work is over */
  advance(ctx, 0);
  coap_pdu_t *pong = NULL;
  CHECK_INT_EQ(last_code(peer, &pong), COAP_SIGNALING_CODE_PONG);
  CHECK_INT_EQ(has_option(pong, COAP_SIGNALING_OPTION_CUSTODY), 1);
  coap_bin_const_t tok = coap_pdu_get_token(pong);
  CHECK_MEM_EQ(tok.s, tok.length, "\x77", 1);
  coap_delete_pdu(pong);
  close(peer);
  done(ctx);
}

/* At most 4 Custody Pongs are held; a fifth Custody Ping is answered at
 * once, without Custody (which would claim what is not yet true). */
TEST(custody_pongs_held_are_bounded) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = busy_server(ctx, &peer, 40009, "", 0);
  CHECK_NOT_NULL(held_async);
  last_code(peer, NULL);
  for (char i = 1; i <= 4; i++)
    feed(s, ping_with(&i, 1, 1));
  CHECK_INT_EQ(last_code(peer, NULL), 0); /* four held */
  feed(s, ping_with("\x05", 1, 1));
  coap_pdu_t *pong = NULL;
  CHECK_INT_EQ(last_code(peer, &pong), COAP_SIGNALING_CODE_PONG);
  CHECK_INT_EQ(has_option(pong, COAP_SIGNALING_OPTION_CUSTODY), 0);
  coap_bin_const_t tok = coap_pdu_get_token(pong);
  CHECK_MEM_EQ(tok.s, tok.length, "\x05", 1);
  coap_delete_pdu(pong);
  coap_free_async(s, held_async);
  advance(ctx, 0);
  coap_pdu_t *p[8];
  int n = drain(peer, p, 8);
  CHECK_INT_EQ(n, 4); /* the held ones, in order, with Custody */
  for (int i = 0; i < n; i++) {
    tok = coap_pdu_get_token(p[i]);
    CHECK_UINT_EQ(tok.s[0], (unsigned)(i + 1));
    CHECK_INT_EQ(has_option(p[i], COAP_SIGNALING_OPTION_CUSTODY), 1);
  }
  free_all(p, n);
  close(peer);
  done(ctx);
}

/* ---- keepalive over TCP (coap_keepalive(3)) ----------------------------- */

TEST(keepalive_on_idle_tcp_session_sends_a_signal_ping) {
  coap_context_t *ctx = context();
  coap_context_set_keepalive(ctx, 10);
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  last_code(peer, NULL); /* our CSM */
  advance(ctx, 9 * SEC);
  CHECK_INT_EQ(last_code(peer, NULL), 0);
  advance(ctx, SEC);
  coap_pdu_t *ping = NULL;
  CHECK_INT_EQ(last_code(peer, &ping), COAP_SIGNALING_CODE_PING); /* 7.02 */
  coap_delete_pdu(ping);
  /* Its Pong: the pong handler hears of it, and pinging goes on. */
  feed(s, sig(COAP_SIGNALING_CODE_PONG));
  CHECK_INT_EQ(pongs_seen, 1);
  advance(ctx, 10 * SEC);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_PING);
  feed(s, sig(COAP_SIGNALING_CODE_PONG));
  advance(ctx, 10 * SEC);
  CHECK_INT_EQ(ev_ka_fail, 0);
  CHECK(s->fd >= 0);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(keepalive_pong_missing_fails_and_closes_the_client_connection) {
  coap_context_t *ctx = context();
  coap_context_set_keepalive(ctx, 10);
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  advance(ctx, 10 * SEC);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_PING);
  advance(ctx, 10 * SEC - 1);
  CHECK_INT_EQ(ev_ka_fail, 0);
  advance(ctx, 1);
  CHECK_INT_EQ(ev_ka_fail, 1);
  CHECK_INT_EQ(ev_closed, 1);
  CHECK_INT_EQ(s->fd, -1);
  CHECK_INT_EQ(last_code(peer, NULL), -1); /* the stream ended */
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(keepalive_pong_missing_frees_the_server_session) {
  coap_context_t *ctx = context();
  coap_context_set_keepalive(ctx, 10);
  int peer = -1;
  server(ctx, &peer, 40004);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 1);
  advance(ctx, 10 * SEC);
  advance(ctx, 10 * SEC);
  CHECK_INT_EQ(ev_ka_fail, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  close(peer);
  done(ctx);
}

/* Anything from the peer shows it is there: no failure while it talks. */
TEST(keepalive_traffic_from_the_peer_counts_as_an_answer) {
  coap_context_t *ctx = context();
  coap_context_set_keepalive(ctx, 10);
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  advance(ctx, 10 * SEC);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_PING);
  advance(ctx, 5 * SEC);
  feed(s, sig(COAP_SIGNALING_CODE_PING)); /* the peer pings us instead */
  last_code(peer, NULL);                  /* our Pong */
  advance(ctx, 5 * SEC);
  CHECK_INT_EQ(ev_ka_fail, 0);
  CHECK(s->fd >= 0);
  /* Idle again for an interval: a fresh Ping, not a failure. */
  advance(ctx, 5 * SEC);
  CHECK_INT_EQ(ev_ka_fail, 0);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_PING);
  CHECK(s->fd >= 0);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* ---- Release and Abort (RFC 8323 5.5, 5.6) ------------------------------- */

TEST(release_received_closes_an_idle_connection) {
  coap_context_t *ctx = context();
  coap_set_log_handler(on_log);
  coap_set_log_level(COAP_LOG_INFO);
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  coap_pdu_t *rel = sig(0);
  pt_signal_build_release(rel, "coap+tcp://[::1]:5700", 60);
  CHECK_INT_EQ(feed(s, rel), -1);
  CHECK_INT_EQ(ev_closed, 1);
  CHECK_INT_EQ(s->fd, -1);
  /* The alternative address is reported, not followed. */
  CHECK(strstr(last_log, "coap+tcp://[::1]:5700") != NULL);
  CHECK(strstr(last_log, "not followed") != NULL);
  CHECK(strstr(last_log, "hold-off 60s") != NULL);
  coap_set_log_handler(NULL);
  coap_set_log_level(COAP_LOG_WARN);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

static coap_pdu_t *client_get(coap_session_t *s, uint8_t token) {
  coap_pdu_t *get =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0, 0);
  coap_add_token(get, 1, &token);
  coap_add_option(get, COAP_OPTION_URI_PATH, 1, (const uint8_t *)"x");
  (void)s;
  return get;
}

TEST(release_waits_for_the_answer_to_an_outstanding_request) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  CHECK(coap_send(s, client_get(s, 0x51)) != COAP_INVALID_MID);
  coap_pdu_t *rel = sig(0);
  pt_signal_build_release(rel, NULL, 0);
  CHECK_INT_EQ(feed(s, rel), 0);
  CHECK_INT_EQ(ev_closed, 0); /* the answer is still to come */
  coap_pdu_t *resp =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, 0, 0);
  coap_add_token(resp, 1, (const uint8_t *)"\x51");
  CHECK_INT_EQ(feed(s, resp), 0);
  CHECK_INT_EQ(responses, 1);
  advance(ctx, 0);
  CHECK_INT_EQ(ev_closed, 1);
  CHECK_INT_EQ(s->fd, -1);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(release_closes_at_the_exchange_lifetime_when_no_answer_comes) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  coap_send(s, client_get(s, 0x52));
  coap_pdu_t *rel = sig(0);
  pt_signal_build_release(rel, NULL, 0);
  feed(s, rel);
  advance(ctx, 200 * SEC);
  CHECK_INT_EQ(ev_closed, 0);
  advance(ctx, 100 * SEC);
  CHECK_INT_EQ(ev_closed, 1);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* A server that the peer released answers its separate response first. */
TEST(release_waits_for_a_pending_separate_response_on_the_server) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = busy_server(ctx, &peer, 40005, "", 0);
  coap_pdu_t *rel = sig(0);
  pt_signal_build_release(rel, NULL, 0);
  CHECK_INT_EQ(feed(s, rel), 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 1);
  coap_free_async(s, held_async);
  advance(ctx, 0);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  close(peer);
  done(ctx);
}

TEST(server_sends_release_when_its_context_is_freed) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, 40006);
  feed_csm(s, 1152, 0);
  last_code(peer, NULL); /* our CSM */
  done(ctx);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_RELEASE);
  CHECK_INT_EQ(last_code(peer, NULL), -1); /* then the stream ends */
  close(peer);
}

TEST(client_session_released_by_the_application_sends_release) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  last_code(peer, NULL);
  coap_session_release(s);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_RELEASE);
  close(peer);
  done(ctx);
}

TEST(abort_received_closes_at_once) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  coap_send(s, client_get(s, 0x53));
  coap_pdu_t *ab = sig(0);
  pt_signal_build_abort(ab, 0, "going");
  CHECK_INT_EQ(feed(s, ab), -1);
  CHECK_INT_EQ(ev_closed, 1);
  CHECK_INT_EQ(s->fd, -1);
  /* Our CSM and the GET went; no Release or Abort of ours after them. */
  CHECK_INT_EQ(last_code(peer, NULL), COAP_REQUEST_CODE_GET);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* A connection that ends reports its TCP event, then the session's own:
 * SESSION_CLOSED once both CSMs made it established, SESSION_FAILED if it
 * never was (as libcoap reports them). */
TEST(session_closed_after_established_failed_before) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  CHECK_INT_EQ(ev_connected, 1);
  coap_pdu_t *ab = sig(0);
  pt_signal_build_abort(ab, 0, "going");
  CHECK_INT_EQ(feed(s, ab), -1);
  CHECK_INT_EQ(ev_closed, 1);
  CHECK_INT_EQ(ev_sess_closed, 1);
  CHECK_INT_EQ(ev_sess_failed, 0);
  CHECK_INT_EQ(ev_last[0], COAP_EVENT_TCP_CLOSED);
  CHECK_INT_EQ(ev_last[1], COAP_EVENT_SESSION_CLOSED);
  coap_session_release(s);
  close(peer);
  /* No CSM from the peer: the session was never established. */
  s = client(ctx, &peer);
  CHECK_INT_EQ(feed(s, sig(COAP_SIGNALING_CODE_PING)), -1);
  CHECK_INT_EQ(ev_sess_closed, 1);
  CHECK_INT_EQ(ev_sess_failed, 1);
  CHECK_INT_EQ(ev_last[1], COAP_EVENT_SESSION_FAILED);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* ---- limits ----------------------------------------------------------- */

/* A request sent while the queue is full: coap_send() fails and frees the
 * request once (the connection closes afterwards, from a timer), and the
 * requests already in flight fail with COAP_NACK_NOT_DELIVERABLE then. */
static int nacks_seen;
static void on_nack(coap_session_t *s, const coap_pdu_t *sent,
                    coap_nack_reason_t reason, coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  nacks_seen += reason == COAP_NACK_NOT_DELIVERABLE;
}

TEST(request_sent_into_a_full_write_queue_fails_once) {
  coap_context_t *ctx = context();
  coap_register_nack_handler(ctx, on_nack);
  nacks_seen = 0;
  coap_petrel_context_set_tcp_write_queue_max(ctx, 4096);
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  feed_csm(s, 65536, 0);
  int sent = 0, refused = 0;
  for (int i = 0; i < 400 && !refused; i++) {
    coap_pdu_t *p = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, s);
    uint8_t tok[8];
    size_t tlen = 0;
    coap_session_new_token(s, &tlen, tok);
    coap_add_token(p, tlen, tok);
    static uint8_t blob[2000];
    coap_add_data(p, sizeof(blob), blob);
    if (coap_send(s, p) == COAP_INVALID_MID)
      refused = 1;
    else
      sent++;
  }
  CHECK_INT_EQ(refused, 1);
  CHECK(sent > 0);
  CHECK_INT_EQ(ev_failed, 0);
  advance(ctx, 0);
  CHECK_INT_EQ(ev_failed, 1);
  CHECK_INT_EQ(nacks_seen, sent); /* each request in flight, once */
  CHECK_INT_EQ(s->fd, -1);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(write_queue_cap_setter_and_default) {
  coap_context_t *ctx = context();
  CHECK_UINT_EQ(coap_petrel_context_get_tcp_write_queue_max(ctx),
                4u * 1024 * 1024);
  coap_petrel_context_set_tcp_write_queue_max(ctx, 65536);
  CHECK_UINT_EQ(coap_petrel_context_get_tcp_write_queue_max(ctx), 65536);
  coap_petrel_context_set_tcp_write_queue_max(ctx, 0);
  CHECK_UINT_EQ(coap_petrel_context_get_tcp_write_queue_max(ctx),
                4u * 1024 * 1024);
  CHECK_UINT_EQ(coap_petrel_context_get_tcp_write_queue_max(NULL), 0);
  coap_petrel_context_set_tcp_write_queue_max(NULL, 1); /* harmless */
  done(ctx);
}

/* A peer that stops reading: the session's queue reaches the cap set for
 * it, and the connection is closed (the server session freed). */
TEST(peer_that_stops_reading_is_closed_at_the_write_queue_cap) {
  coap_context_t *ctx = context();
  coap_petrel_context_set_tcp_write_queue_max(ctx, 100000);
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, 40007);
  static uint8_t chunk[10000];
  coap_session_reference(s);
  int refused_at = -1;
  size_t sent = 0;
  for (int i = 0; i < 1000 && refused_at < 0; i++) {
    if (pt_tcp_send(s, chunk, sizeof(chunk)) < 0)
      refused_at = i;
    else
      sent += sizeof(chunk);
  }
  CHECK(refused_at > 0);
  /* What the socket took plus what the queue held stays under the cap
   * plus the socket buffer; a 4 MiB cap would have taken far more. */
  CHECK(sent < 100000 + 2 * 1024 * 1024);
  advance(ctx, 0); /* the close runs from a timer due at once */
  CHECK_INT_EQ(ev_failed, 1);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(idle_tcp_server_session_gets_release_and_is_freed) {
  coap_context_t *ctx = context();
  coap_context_set_session_timeout(ctx, 30);
  int peer = -1;
  coap_session_t *s = server(ctx, &peer, 40008);
  feed_csm(s, 1152, 0);
  last_code(peer, NULL);
  advance(ctx, 29 * SEC);
  feed(s, sig(COAP_SIGNALING_CODE_PING)); /* a signal is activity too */
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_PONG);
  advance(ctx, 29 * SEC);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 1);
  advance(ctx, 2 * SEC);
  CHECK_UINT_EQ(pt_hashmap_size(&ctx->sessions), 0);
  CHECK_INT_EQ(last_code(peer, NULL), COAP_SIGNALING_CODE_RELEASE);
  close(peer);
  done(ctx);
}

/* ---- malformed signaling, each kind by name -------------------------------
 */

/* The Abort the session sent last, with its Bad-CSM-Option in *@bad. */
static int aborted_with(int peer, uint32_t *bad) {
  coap_pdu_t *last = NULL;
  int code = last_code(peer, &last);
  *bad = 0;
  if (last) {
    coap_opt_iterator_t it;
    coap_opt_t *o =
        coap_check_option(last, COAP_SIGNALING_OPTION_BAD_CSM_OPTION, &it);
    if (o)
      *bad = coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o));
    coap_delete_pdu(last);
  }
  return code == COAP_SIGNALING_CODE_ABORT;
}

/* One malformed signal fed to a client session, with the peer's CSM
 * (Max-Message-Size 1152) before it or not: what feeding it returns, what
 * the session sent last (an Abort naming a CSM option or none, a Pong, or
 * our own CSM when nothing followed it), and what the handlers saw. */
typedef struct {
  uint16_t num;
  size_t len;
  const char *value;
} sig_option;

typedef struct {
  const char *name;
  int csm_first;
  coap_pdu_code_t code; /* for COAP_SIGNALING_CODE_CSM, built with @mms */
  uint32_t mms;
  sig_option opts[3]; /* in order; num 0 ends them */
  const char *payload;
  int fed;              /* 0, or -1: the connection closed */
  coap_pdu_code_t sent; /* the code of the last message sent */
  uint32_t bad;         /* an Abort's Bad-CSM-Option, 0 when absent */
  int connected;        /* COAP_EVENT_TCP_CONNECTED came */
  int pings;            /* Pings the ping handler saw */
  uint32_t peer_mms;    /* the peer's Max-Message-Size taken, when open */
} malformed_row;

static const malformed_row malformed_rows[] = {
    {.name = "malformed_csm_with_unknown_critical_option_is_aborted_naming_it",
     .code = COAP_SIGNALING_CODE_CSM,
     .mms = 2048,
     .opts = {{9, 0, NULL}},
     .fed = -1,
     .sent = COAP_SIGNALING_CODE_ABORT,
     .bad = 9},
    {.name = "malformed_csm_max_message_size_too_small_is_aborted",
     .code = COAP_SIGNALING_CODE_CSM,
     .mms = 63,
     .fed = -1,
     .sent = COAP_SIGNALING_CODE_ABORT,
     .bad = COAP_SIGNALING_OPTION_MAX_MESSAGE_SIZE},
    {.name = "csm_max_message_size_64_is_taken",
     .code = COAP_SIGNALING_CODE_CSM,
     .mms = 64,
     .sent = COAP_SIGNALING_CODE_CSM,
     .connected = 1,
     .peer_mms = 64},
    /* A payload in a Ping is diagnostic (RFC 7252 5.5.2): answered as any,
     * nothing echoed. */
    {.name = "malformed_ping_with_payload_is_still_answered",
     .csm_first = 1,
     .code = COAP_SIGNALING_CODE_PING,
     .payload = "junk",
     .sent = COAP_SIGNALING_CODE_PONG,
     .connected = 1,
     .pings = 1,
     .peer_mms = 1152},
    /* An empty address, a hold-off too long, an unknown elective. */
    {.name = "malformed_release_with_junk_elective_options_still_releases",
     .csm_first = 1,
     .code = COAP_SIGNALING_CODE_RELEASE,
     .opts = {{2, 0, NULL}, {4, 4, "\1\2\3\4"}, {10, 3, "xyz"}},
     .payload = "bye",
     .fed = -1,
     .sent = COAP_SIGNALING_CODE_CSM,
     .connected = 1},
    /* Only a CSM's option is named in the Abort. */
    {.name = "malformed_release_with_unknown_critical_option_is_aborted",
     .csm_first = 1,
     .code = COAP_SIGNALING_CODE_RELEASE,
     .opts = {{7, 0, NULL}},
     .fed = -1,
     .sent = COAP_SIGNALING_CODE_ABORT,
     .connected = 1},
    /* A Bad-CSM-Option too long, an unknown critical option: no answer. */
    {.name = "malformed_abort_with_junk_options_still_closes",
     .csm_first = 1,
     .code = COAP_SIGNALING_CODE_ABORT,
     .opts = {{2, 5, "\1\2\3\4\5"}, {3, 0, NULL}},
     .fed = -1,
     .sent = COAP_SIGNALING_CODE_CSM,
     .connected = 1},
    {.name = "malformed_signal_before_csm_is_aborted",
     .code = COAP_SIGNALING_CODE_PING,
     .fed = -1,
     .sent = COAP_SIGNALING_CODE_ABORT},
};

static coap_pdu_t *malformed_signal(const malformed_row *r) {
  int csm = r->code == COAP_SIGNALING_CODE_CSM;
  coap_pdu_t *p = sig(csm ? 0 : r->code);
  if (csm)
    pt_signal_build_csm(p, r->mms, 0);
  for (size_t i = 0; i < 3 && r->opts[i].num; i++)
    coap_add_option(p, r->opts[i].num, r->opts[i].len,
                    (const uint8_t *)r->opts[i].value);
  if (r->payload)
    coap_add_data(p, strlen(r->payload), (const uint8_t *)r->payload);
  return p;
}

static void malformed_input(const malformed_row *r) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  if (r->csm_first)
    CHECK_INT_EQ(feed_csm(s, 1152, 0), 0);
  CHECK_INT_EQ(feed(s, malformed_signal(r)), r->fed);
  if (r->sent == COAP_SIGNALING_CODE_ABORT) {
    uint32_t bad;
    CHECK(aborted_with(peer, &bad));
    CHECK_UINT_EQ(bad, r->bad);
  } else {
    coap_pdu_t *last = NULL;
    CHECK_INT_EQ(last_code(peer, &last), r->sent);
    size_t len;
    const uint8_t *data;
    int echoed = coap_get_data(last, &len, &data);
    coap_delete_pdu(last);
    CHECK_INT_EQ(echoed, 0);
  }
  CHECK_INT_EQ(ev_connected, r->connected);
  CHECK_INT_EQ(pings_seen, r->pings);
  CHECK_INT_EQ(ev_closed, r->fed < 0);
  CHECK_INT_EQ(s->fd >= 0, r->fed == 0);
  if (r->fed == 0)
    CHECK_UINT_EQ(pt_tcp_peer_max_message_size(s), r->peer_mms);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* A second CSM changes what it carries and keeps the rest. */
TEST(second_csm_changing_values_is_taken) {
  coap_context_t *ctx = context();
  int peer = -1;
  coap_session_t *s = client(ctx, &peer);
  CHECK_INT_EQ(feed_csm(s, 4096, 1), 0);
  CHECK_INT_EQ(ev_connected, 1);
  CHECK_UINT_EQ(pt_tcp_peer_max_message_size(s), 4096);
  CHECK_INT_EQ(pt_tcp_bert(s), 1);
  CHECK_INT_EQ(feed_csm(s, 1152, 0), 0);
  CHECK_INT_EQ(ev_connected, 1); /* connected once */
  CHECK_UINT_EQ(pt_tcp_peer_max_message_size(s), 1152);
  CHECK_INT_EQ(pt_tcp_bert(s), 0); /* 5.3.2: BERT only above 1152 */
  CHECK_INT_EQ(feed_csm(s, 8192, 0), 0);
  CHECK_INT_EQ(pt_tcp_bert(s), 1); /* Block-Wise-Transfer was kept */
  CHECK(s->fd >= 0);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

TEST(malformed_frame_beyond_our_max_message_size_is_aborted) {
  coap_context_t *ctx = context();
  coap_context_set_csm_max_message_size(ctx, 2048);
  int peer = -1;
  coap_session_t *s = connected_client(ctx, &peer);
  /* A POST whose header announces 4000 bytes of options and payload. */
  static const uint8_t hdr[] = {0xe0, (4000 - 269) >> 8, (4000 - 269) & 0xff,
                                0x02};
  CHECK_INT_EQ(pt_tcp_input(s, hdr, sizeof(hdr), now), -1);
  coap_pdu_t *last = NULL;
  CHECK_INT_EQ(last_code(peer, &last), COAP_SIGNALING_CODE_ABORT);
  size_t len;
  const uint8_t *data;
  CHECK(coap_get_data(last, &len, &data));
  CHECK_MEM_EQ(data, len, "message too big", 15);
  coap_delete_pdu(last);
  coap_session_release(s);
  close(peer);
  done(ctx);
}

/* RFC 8323 5.3.1: the largest message we send fits the peer's
 * Max-Message-Size, header included, at every header size boundary. */
TEST(messages_to_the_peer_fit_its_max_message_size) {
  coap_context_t *ctx = context();
  static const uint32_t sizes[] = {64,    270,   271,      272,    1152,
                                   65807, 65808, 65809,    65810,  65811,
                                   65812, 70000, 1u << 20, 8388864};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    int peer = -1;
    coap_session_t *s = client(ctx, &peer);
    feed_csm(s, sizes[i], 0);
    size_t max = coap_session_max_pdu_size(s);
    coap_pdu_t *p =
        coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, 0, max);
    static uint8_t fill[1u << 20];
    size_t n = max - 1 < sizeof(fill) ? max - 1 : sizeof(fill);
    CHECK(coap_add_data(p, n, fill));
    const uint8_t *w;
    size_t len;
    CHECK(pt_pdu_wire_reliable(p, 0, &w, &len));
    CHECK(len <= sizes[i]);
    if (max - 1 <= sizeof(fill))
      CHECK(len >= sizes[i] - 2); /* and wastes at most 2 bytes */
    coap_delete_pdu(p);
    coap_session_release(s);
    close(peer);
  }
  done(ctx);
}

/* ---- the connection cap per endpoint (loopback) -------------------------- */

static int tcp_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Runs the loop until @fd shows end of stream (1) or 2 s pass (0). */
static int closed_by_server(coap_context_t *ctx, int fd) {
  uint8_t buf[256];
  for (int i = 0; i < 200; i++) {
    coap_io_process(ctx, 10);
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0)
      return 1;
  }
  return 0;
}

TEST(tcp_accepts_honour_the_sessions_per_endpoint_cap) {
  pt_clock_set_fake(NULL);
  coap_context_t *ctx = coap_new_context(NULL);
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.size = sizeof(a.addr.sin);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &a, COAP_PROTO_TCP);
  CHECK_NOT_NULL(ep);
  uint16_t port = coap_address_get_port(&ep->bind_addr);
  coap_petrel_context_set_max_sessions_per_endpoint(ctx, 1);
  int first = tcp_connect(port);
  for (int i = 0; i < 20 && !ctx->lru_head; i++)
    coap_io_process(ctx, 10);
  coap_session_t *busy = ctx->lru_head;
  CHECK_NOT_NULL(busy);
  coap_session_reference(busy); /* held: it cannot be evicted */
  int second = tcp_connect(port);
  CHECK_INT_EQ(closed_by_server(ctx, second), 1);
  coap_petrel_stats_t st;
  coap_petrel_context_get_stats(ctx, &st);
  CHECK_UINT_EQ(st.sessions, 1);
  CHECK_UINT_EQ(st.sessions_refused, 1);
  close(second);
  /* Once idle, the first is evicted for a newcomer: it gets a Release. */
  coap_session_release(busy);
  int third = tcp_connect(port);
  CHECK_INT_EQ(closed_by_server(ctx, first), 1);
  coap_petrel_context_get_stats(ctx, &st);
  CHECK_UINT_EQ(st.sessions, 1);
  CHECK_UINT_EQ(st.sessions_evicted, 1);
  close(first);
  close(third);
  coap_free_context(ctx);
}

int main(void) {
  RUN_ROWS(ping_answered, ping_rows);
  RUN(signal_pong_reaches_the_pong_handler);
  RUN(custody_pong_waits_for_the_pending_separate_response);
  RUN(custody_pongs_held_are_bounded);
  RUN(keepalive_on_idle_tcp_session_sends_a_signal_ping);
  RUN(keepalive_pong_missing_fails_and_closes_the_client_connection);
  RUN(keepalive_pong_missing_frees_the_server_session);
  RUN(keepalive_traffic_from_the_peer_counts_as_an_answer);
  RUN(release_received_closes_an_idle_connection);
  RUN(release_waits_for_the_answer_to_an_outstanding_request);
  RUN(release_closes_at_the_exchange_lifetime_when_no_answer_comes);
  RUN(release_waits_for_a_pending_separate_response_on_the_server);
  RUN(server_sends_release_when_its_context_is_freed);
  RUN(client_session_released_by_the_application_sends_release);
  RUN(abort_received_closes_at_once);
  RUN(session_closed_after_established_failed_before);
  RUN(request_sent_into_a_full_write_queue_fails_once);
  RUN(write_queue_cap_setter_and_default);
  RUN(peer_that_stops_reading_is_closed_at_the_write_queue_cap);
  RUN(idle_tcp_server_session_gets_release_and_is_freed);
  RUN_ROWS(malformed_input, malformed_rows);
  RUN(second_csm_changing_values_is_taken);
  RUN(malformed_frame_beyond_our_max_message_size_is_aborted);
  RUN(messages_to_the_peer_fit_its_max_message_size);
  RUN(tcp_accepts_honour_the_sessions_per_endpoint_cap);
  return TEST_SUMMARY();
}
