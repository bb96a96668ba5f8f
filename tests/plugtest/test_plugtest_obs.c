/*
 * test_plugtest_obs.c -- the ETSI CoAP#4 plugtest test descriptions
 * TD_COAP_OBS_01..14 (there is no 03) run against examples/plugtest-server
 * on loopback by a raw UDP client with a codec of its own (coap_wire.h).
 * Each test performs the TD's steps and checks its pass criteria on the
 * wire: types, codes, tokens, Content-Format, Max-Age, Observe values
 * growing by the rule of RFC 7641 3.4, Block2 and ETag.
 *
 * The server runs with a short period (-p) and short retransmission
 * parameters (-a, -r) so that the notifications of the TDs ("e.g. every
 * 5 s") and the server's giving up on a silent client (OBS_05) take a
 * fraction of a second each. The lossy TD (OBS_11) plays the lossy
 * gateway itself by not acknowledging; the TD whose server "reboots"
 * (OBS_04) restarts the server on the same port.
 *
 *   test_plugtest_obs PATH/TO/plugtest-server
 */
#include <errno.h>

#include "plugtest_client.h"

#define PERIOD_MS 200
#define ACK_TIMEOUT_MS 300
#define MAX_RETRANSMIT 2
/* The longest a notification can take to come: a period, with room for a
 * loaded machine. */
#define NOTIFY_WAIT_MS (PERIOD_MS * 10)
/* "No further notifications": five periods of silence. */
#define SILENCE_MS (PERIOD_MS * 5)
/* MAX_TRANSMIT_WAIT with the server's parameters (RFC 7252 4.8.2):
 * ACK_TIMEOUT * (2 ** (MAX_RETRANSMIT + 1) - 1) * ACK_RANDOM_FACTOR. */
#define GIVE_UP_MS (ACK_TIMEOUT_MS * ((2 << MAX_RETRANSMIT) - 1) * 3 / 2)

#define CALL(x)                                                                \
  do {                                                                         \
    x;                                                                         \
    if (test_failed_)                                                          \
      return;                                                                  \
  } while (0)

static const char *server_path;
static uint16_t server_port;

/* ---- the server ------------------------------------------------------------
 */

/* Starts the server on 127.0.0.1:@port (0: a free one); returns its port. */
static uint16_t start_obs_server(uint16_t port) {
  char period[16], ack[16], retransmit[16], port_s[8];
  snprintf(period, sizeof(period), "%d", PERIOD_MS);
  snprintf(ack, sizeof(ack), "%d", ACK_TIMEOUT_MS);
  snprintf(retransmit, sizeof(retransmit), "%d", MAX_RETRANSMIT);
  snprintf(port_s, sizeof(port_s), "%u", port);
  const char *const args[] = {"-p",       period,      "-a",   ack, "-r",
                              retransmit, "127.0.0.1", port_s, NULL};
  return start_server(server_path, args);
}

/* ---- receiving by token -----------------------------------------------------
 *
 * Notifications of several observations and answers to requests share one
 * socket and may come in any order: a message for another token than the
 * one waited for is kept until someone waits for that token.
 */

#define MAILBOX 32
static struct {
  uint8_t raw[W_MAX_MSG];
  size_t len;
} mailbox[MAILBOX];
static int mailbox_n;

static int token_is(const w_msg *m, const uint8_t *tok, size_t tkl) {
  return m->tkl == tkl && memcmp(m->token, tok, tkl) == 0;
}

static void keep(const w_msg *m) {
  if (mailbox_n == MAILBOX) { /* the oldest goes */
    memmove(&mailbox[0], &mailbox[1], sizeof(mailbox[0]) * (MAILBOX - 1));
    mailbox_n--;
  }
  memcpy(mailbox[mailbox_n].raw, m->raw, m->raw_len);
  mailbox[mailbox_n++].len = m->raw_len;
}

/* The first kept message for @tok, taken out into @m; 0, or -1. */
static int take_kept(const uint8_t *tok, size_t tkl, w_msg *m) {
  for (int i = 0; i < mailbox_n; i++) {
    memcpy(m->raw, mailbox[i].raw, mailbox[i].len);
    m->raw_len = mailbox[i].len;
    if (w_parse(m) == 0 && token_is(m, tok, tkl)) {
      memmove(&mailbox[i], &mailbox[i + 1],
              sizeof(mailbox[0]) * (size_t)(mailbox_n - i - 1));
      mailbox_n--;
      return 0;
    }
  }
  return -1;
}

/* The next message with token @tok within @timeout_ms: 0, or -1 when none
 * came (or the server sent something malformed, which is reported). */
static int recv_tok(const uint8_t *tok, size_t tkl, w_msg *m, int timeout_ms) {
  if (take_kept(tok, tkl, m) == 0)
    return 0;
  double deadline = udp_now_ms() + timeout_ms;
  for (;;) {
    int left = (int)(deadline - udp_now_ms());
    if (left <= 0)
      return -1;
    errno = 0;
    ssize_t n = udp_recv(&cli, m->raw, sizeof(m->raw), left);
    if (n < 0 && errno == ECONNREFUSED)
      continue; /* an ICMP error from while the server was restarting */
    if (n < 0)
      return -1;
    m->raw_len = (size_t)n;
    if (w_parse(m) < 0) {
      fprintf(stderr, "malformed message from the server\n");
      return -1;
    }
    if (token_is(m, tok, tkl))
      return 0;
    keep(m);
  }
}

/* Forgets what earlier tests left behind: kept messages, and those still
 * arriving; a CON among them belongs to an observation that has ended, and
 * is rejected (RFC 7641 3.6). */
static void clear_mailbox(void) {
  w_msg m;
  for (;;) {
    errno = 0;
    ssize_t n = udp_recv(&cli, m.raw, sizeof(m.raw), 0);
    if (n < 0 && errno == ECONNREFUSED)
      continue;
    if (n < 0)
      break;
    m.raw_len = (size_t)n;
    if (w_parse(&m) == 0)
      keep(&m);
  }
  for (int i = 0; i < mailbox_n; i++) {
    memcpy(m.raw, mailbox[i].raw, mailbox[i].len);
    m.raw_len = mailbox[i].len;
    if (w_parse(&m) == 0 && m.type == W_CON)
      send_empty(W_RST, m.mid);
  }
  mailbox_n = 0;
}

/* Stops the server and starts it again on the same port: it has forgotten
 * every observation (and every change a client made). */
static int restart_server(void) {
  stop_server();
  uint16_t port = start_obs_server(server_port);
  clear_mailbox();
  return port == server_port ? 0 : -1;
}

/* ---- observations -----------------------------------------------------------
 */

typedef struct observation {
  const char *path;
  uint8_t tok[8];
  size_t tkl;
  unsigned cf;     /* Content-Format of the first answer */
  uint32_t seq;    /* the last Observe value */
  uint16_t mid;    /* the last notification's message ID */
  size_t last_len; /* and its datagram */
  uint8_t last[W_MAX_MSG];
} observation;

/* RFC 7641 3.4: @v2 is newer than @v1 in 24-bit serial arithmetic. */
static int fresher(uint32_t v1, uint32_t v2) {
  return (v1 < v2 && v2 - v1 < (1u << 23)) || (v1 > v2 && v1 - v2 > (1u << 23));
}

static void ack(const w_msg *m) {
  send_empty(W_ACK, m->mid);
}

/* Sends a GET of @type for @o->path with Observe @observe (or none when
 * negative) and @o's token; returns the message ID. */
static uint16_t send_get(const observation *o, int type, int observe) {
  w_req r;
  uint16_t mid = new_mid();
  w_start(&r, type, W_GET, mid, o->tok, o->tkl);
  if (observe >= 0)
    w_opt_uint(&r, W_OPT_OBSERVE, (unsigned)observe);
  w_path(&r, o->path);
  send_req(&r);
  return mid;
}

/* TD step 2: a GET of @type with Observe: 0 and a fresh token. */
static uint16_t register_obs(observation *o, const char *path, int type) {
  memset(o, 0, sizeof(*o));
  o->path = path;
  o->tkl = 4;
  new_token(o->tok, o->tkl);
  return send_get(o, type, 0);
}

/* TD step 3: the answer to the registration (ACK for a CON, a NON for a
 * NON) is a 2.05 with the token, a Content-Format, Max-Age and Observe.
 * Remembers the Content-Format and the Observe value. */
static void check_registered(observation *o, const w_msg *m, int req_type,
                             uint16_t mid) {
  if (req_type == W_CON) {
    CHECK_INT_EQ(m->type, W_ACK);
    CHECK_INT_EQ(m->mid, mid);
  } else {
    CHECK_INT_EQ(m->type, W_NON);
  }
  CHECK_CODE(*m, 2, 5);
  CHECK_TOKEN(*m, o->tok, o->tkl);
  CHECK(w_find(m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  CHECK(w_find(m, W_OPT_OBSERVE, 0) != NULL);
  CHECK(w_uint(m, W_OPT_MAX_AGE, 0) >= 1);
  CHECK(m->payload_len > 0);
  o->cf = w_uint(m, W_OPT_CONTENT_FORMAT, 0);
  o->seq = w_uint(m, W_OPT_OBSERVE, 0);
}

/* Registers @o on @path with a CON and checks the answer (steps 2, 3). */
static void observe_con(observation *o, const char *path, w_msg *m) {
  uint16_t mid = register_obs(o, path, W_CON);
  CHECK_INT_EQ(recv_tok(o->tok, o->tkl, m, 3000), 0);
  check_registered(o, m, W_CON, mid);
}

/* The next notification for @o, within NOTIFY_WAIT_MS. A repeated CON
 * (the server did not hear our ACK in time) is acknowledged again and
 * skipped, after checking that it is the same datagram. */
static void next_notification(observation *o, w_msg *m) {
  for (;;) {
    CHECK_INT_EQ(recv_tok(o->tok, o->tkl, m, NOTIFY_WAIT_MS), 0);
    if (m->type != W_CON || m->mid != o->mid || !o->last_len)
      break;
    CHECK_MEM_EQ(m->raw, m->raw_len, o->last, o->last_len);
    ack(m);
  }
  o->mid = m->mid;
  memcpy(o->last, m->raw, m->raw_len);
  o->last_len = m->raw_len;
}

/* TD step 4: a notification of @type (or either when negative): 2.05, the
 * token, the Content-Format of the first answer, a newer Observe value,
 * Max-Age and a payload. */
static void check_notification(observation *o, const w_msg *m, int type) {
  if (type >= 0)
    CHECK_INT_EQ(m->type, type);
  else
    CHECK(m->type == W_CON || m->type == W_NON);
  CHECK_CODE(*m, 2, 5);
  CHECK_TOKEN(*m, o->tok, o->tkl);
  CHECK_INT_EQ(w_uint(m, W_OPT_CONTENT_FORMAT, 9999), o->cf);
  CHECK(w_find(m, W_OPT_OBSERVE, 0) != NULL);
  uint32_t seq = w_uint(m, W_OPT_OBSERVE, 0);
  if (!fresher(o->seq, seq)) {
    fprintf(stderr, "Observe %u after %u\n", seq, o->seq);
    CHECK(fresher(o->seq, seq));
  }
  o->seq = seq;
  CHECK(w_uint(m, W_OPT_MAX_AGE, 0) >= 1);
  CHECK(m->payload_len > 0);
}

/* Steps 4..6, @n times: a CON notification, checked and acknowledged. */
static void con_notifications(observation *o, int n) {
  w_msg m;
  for (int i = 0; i < n; i++) {
    CALL(next_notification(o, &m));
    CALL(check_notification(o, &m, W_CON));
    ack(&m);
  }
}

/* Ends @o with a GET Observe: 1 (RFC 7641 3.6) and waits for its answer,
 * acknowledging notifications that cross it; the answer in @m. 0 or -1. */
static int cancel_obs(observation *o, w_msg *m, uint16_t *mid_out) {
  uint16_t mid = send_get(o, W_CON, 1);
  if (mid_out)
    *mid_out = mid;
  for (int i = 0; i < 20; i++) {
    if (recv_tok(o->tok, o->tkl, m, 3000) < 0)
      return -1;
    if (m->type == W_ACK && m->mid == mid)
      return 0;
    if (m->type == W_CON)
      ack(m);
  }
  return -1;
}

static void end_obs(observation *o) {
  w_msg m;
  cancel_obs(o, &m, NULL);
}

/* 1 when no message for @o comes for SILENCE_MS. */
static int silent(const observation *o) {
  w_msg m;
  if (recv_tok(o->tok, o->tkl, &m, SILENCE_MS) < 0)
    return 1;
  fprintf(stderr, "unexpected message: type %d code %d.%02d\n", m.type,
          m.code >> 5, m.code & 31);
  return 0;
}

/* A CON request @code on @path with a fresh token, an optional payload of
 * Content-Format @cf, and its answer in @m (checked to be the ACK). */
static void simple_request(uint8_t code, const char *path, int cf,
                           const char *payload, w_msg *m) {
  w_req r;
  uint8_t tok[8];
  uint16_t mid = request(&r, W_CON, code, path, tok, 2);
  if (payload) {
    w_opt_uint(&r, W_OPT_CONTENT_FORMAT, (unsigned)cf);
    w_payload(&r, payload, strlen(payload));
  }
  CHECK_INT_EQ(send_req(&r), 0);
  CHECK_INT_EQ(recv_tok(tok, 2, m, 3000), 0);
  CHECK_INT_EQ(m->type, W_ACK);
  CHECK_INT_EQ(m->mid, mid);
}

/* ---- TD_COAP_OBS_01, 02: CON and NON notifications -------------------------
 */

TEST(TD_COAP_OBS_01_observe_con) {
  observation o;
  w_msg m;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 4));
  end_obs(&o);
}

/* NON notifications, with a CON now and then that the client acknowledges
 * (RFC 7641 4.5: the server sends a CON at least every 24 hours; Petrel
 * makes every fifth in a row a CON). */
TEST(TD_COAP_OBS_02_observe_non) {
  observation o;
  w_msg m;
  clear_mailbox();
  register_obs(&o, "obs-non", W_NON);
  CHECK_INT_EQ(recv_tok(o.tok, o.tkl, &m, 3000), 0);
  CALL(check_registered(&o, &m, W_NON, 0));
  int non = 0;
  uint16_t prev_mid = m.mid;
  for (int i = 0; i < 6; i++) {
    CALL(next_notification(&o, &m));
    CALL(check_notification(&o, &m, -1));
    CHECK(m.mid != prev_mid);
    prev_mid = m.mid;
    if (m.type == W_CON)
      ack(&m);
    else
      non++;
  }
  CHECK(non >= 4);
  end_obs(&o);
}

/* ---- TD_COAP_OBS_04: the server loses its observers -------------------------
 */

TEST(TD_COAP_OBS_04_server_reboot) {
  observation o;
  w_msg m;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 1));
  /* steps 7..9: the server reboots and sends nothing more */
  CHECK_INT_EQ(restart_server(), 0);
  CHECK(silent(&o));
  /* steps 10..12: the client re-registers with the same token (after
   * Max-Age + MAX_LATENCY in the TD; here at once) */
  uint16_t mid = send_get(&o, W_CON, 0);
  unsigned cf = o.cf;
  CHECK_INT_EQ(recv_tok(o.tok, o.tkl, &m, 3000), 0);
  CALL(check_registered(&o, &m, W_CON, mid)); /* Observe may start over */
  CHECK_INT_EQ(o.cf, cf);
  CALL(con_notifications(&o, 2));
  end_obs(&o);
}

/* ---- TD_COAP_OBS_05, 06: the server notices the client is gone
 * ---------------
 */

/* The client stops acknowledging: the server keeps one notification in
 * flight, each new one with a newer Observe value taking the place of the
 * unacknowledged one, and gives up after MAX_TRANSMIT_WAIT. */
TEST(TD_COAP_OBS_05_client_off) {
  observation o;
  w_msg m;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 1));
  double start = udp_now_ms(), last = start;
  int updated = 0;
  while (recv_tok(o.tok, o.tkl, &m, 1000) == 0) {
    CHECK(udp_now_ms() - start < GIVE_UP_MS + 3000);
    last = udp_now_ms();
    CHECK_INT_EQ(m.type, W_CON);
    CHECK_CODE(m, 2, 5);
    if (m.mid == o.mid) { /* a retransmission: the same datagram */
      CHECK_MEM_EQ(m.raw, m.raw_len, o.last, o.last_len);
      continue;
    }
    CALL(check_notification(&o, &m, W_CON)); /* a newer Observe value */
    o.mid = m.mid;
    memcpy(o.last, m.raw, m.raw_len);
    o.last_len = m.raw_len;
    updated++;
  }
  CHECK(updated >= 2);
  /* not before ACK_TIMEOUT * (2 ** (MAX_RETRANSMIT + 1) - 1), less a
   * period; not long after MAX_TRANSMIT_WAIT */
  double gave_up = last - start;
  if (gave_up < ACK_TIMEOUT_MS * ((2 << MAX_RETRANSMIT) - 1) - PERIOD_MS ||
      gave_up > GIVE_UP_MS + 1500)
    fprintf(stderr, "gave up after %.0f ms\n", gave_up);
  CHECK(gave_up >= ACK_TIMEOUT_MS * ((2 << MAX_RETRANSMIT) - 1) - PERIOD_MS);
  CHECK(gave_up <= GIVE_UP_MS + 1500);
  CHECK(silent(&o));
}

/* A rebooted client rejects a notification with RST: no more come. The
 * same for a NON notification (RFC 7641 3.6). */
TEST(TD_COAP_OBS_06_client_rst) {
  observation o;
  w_msg m;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 1));
  CALL(next_notification(&o, &m));
  CALL(check_notification(&o, &m, W_CON));
  send_empty(W_RST, m.mid);
  CHECK(silent(&o));

  register_obs(&o, "obs-non", W_NON);
  CHECK_INT_EQ(recv_tok(o.tok, o.tkl, &m, 3000), 0);
  CALL(check_registered(&o, &m, W_NON, 0));
  for (int i = 0; i < 6; i++) { /* the next NON one */
    CALL(next_notification(&o, &m));
    CALL(check_notification(&o, &m, -1));
    if (m.type == W_NON)
      break;
    ack(&m);
  }
  CHECK_INT_EQ(m.type, W_NON);
  send_empty(W_RST, m.mid);
  CHECK(silent(&o));
}

/* ---- TD_COAP_OBS_07, 08, 09: the resource is deleted or updated
 * --------------
 */

/* After a change of @o's resource, skips the notifications that were on
 * their way (acknowledging them) and returns the first other message; the
 * change must show within a few periods. */
static void after_change(observation *o, w_msg *m) {
  for (int i = 0; i < 5; i++) {
    CHECK_INT_EQ(recv_tok(o->tok, o->tkl, m, NOTIFY_WAIT_MS), 0);
    if (m->code != W_CODE(2, 5))
      return;
    if (m->type == W_CON)
      ack(m);
  }
  fprintf(stderr, "/%s: still 2.05 notifications after the change\n", o->path);
  CHECK(0);
}

/* The final notification: a CON with @code, the token, and no Observe;
 * acknowledged; then nothing more. */
static void check_final(observation *o, int c, int dd) {
  w_msg m;
  CALL(after_change(o, &m));
  CHECK_INT_EQ(m.type, W_CON);
  CHECK_INT_EQ(m.code, W_CODE(c, dd));
  CHECK_TOKEN(m, o->tok, o->tkl);
  CHECK(w_find(&m, W_OPT_OBSERVE, 0) == NULL);
  ack(&m);
  CHECK(silent(o));
}

TEST(TD_COAP_OBS_07_delete) {
  observation o;
  w_msg m;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 1));
  CALL(simple_request(W_DELETE, "obs", -1, NULL, &m));
  CHECK_CODE(m, 2, 2);
  CALL(check_final(&o, 4, 4));
  CALL(simple_request(W_GET, "obs", -1, NULL, &m));
  CHECK_CODE(m, 4, 4);
  CHECK_INT_EQ(restart_server(), 0); /* /obs back for the other tests */
}

/* A new Content-Format: the observers get 4.06 (RFC 7641 4.2). */
TEST(TD_COAP_OBS_08_content_format_change) {
  observation o;
  w_msg m;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 1));
  CALL(simple_request(W_PUT, "obs", 41, "<value>8</value>", &m));
  CHECK_CODE(m, 2, 4);
  CALL(check_final(&o, 4, 6));
  /* a new observer is served the new format */
  CALL(observe_con(&o, "obs", &m));
  CHECK_INT_EQ(o.cf, 41);
  CHECK_MEM_EQ(m.payload, m.payload_len, "<value>8</value>", 16);
  end_obs(&o);
  CHECK_INT_EQ(restart_server(), 0);
}

TEST(TD_COAP_OBS_09_update) {
  observation o;
  w_msg m;
  static const char value[] = "plugtest value 9";
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 1));
  CALL(simple_request(W_PUT, "obs", 0, value, &m));
  CHECK_CODE(m, 2, 4);
  /* steps 8..10, twice: the new value, in notifications as before */
  int seen = 0;
  for (int i = 0; i < 6 && seen < 2; i++) {
    CALL(next_notification(&o, &m));
    CALL(check_notification(&o, &m, W_CON));
    ack(&m);
    if (m.payload_len == strlen(value) &&
        memcmp(m.payload, value, m.payload_len) == 0)
      seen++;
    else
      CHECK_INT_EQ(seen, 0); /* only before the first with the new value */
  }
  CHECK_INT_EQ(seen, 2);
  end_obs(&o);
  CHECK_INT_EQ(restart_server(), 0);
}

/* ---- TD_COAP_OBS_10, 11, 12 ------------------------------------------------
 */

/* A GET without Observe (another token) is answered without Observe and
 * the observation goes on. */
TEST(TD_COAP_OBS_10_get_does_not_cancel) {
  observation o, plain;
  w_msg m;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 1));
  plain = o;
  plain.tkl = 3;
  new_token(plain.tok, plain.tkl);
  uint16_t mid = send_get(&plain, W_CON, -1);
  CHECK_INT_EQ(recv_tok(plain.tok, plain.tkl, &m, 3000), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_CODE(m, 2, 5);
  CHECK_TOKEN(m, plain.tok, plain.tkl);
  CHECK_INT_EQ(w_uint(&m, W_OPT_CONTENT_FORMAT, 9999), o.cf);
  CHECK(w_find(&m, W_OPT_OBSERVE, 0) == NULL);
  CALL(con_notifications(&o, 2));
  end_obs(&o);
}

/* The client loses the server's notifications' ACKs (it does not send
 * them): never more than one notification is in flight: once a newer one
 * (another message ID) is seen, the older is not retransmitted again. */
TEST(TD_COAP_OBS_11_lossy) {
  observation o;
  w_msg m;
  uint16_t seen[64];
  int n_seen = 0;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 1));
  double until = udp_now_ms() + 1200; /* well before the server gives up */
  while (udp_now_ms() < until && n_seen < 64) {
    CHECK_INT_EQ(recv_tok(o.tok, o.tkl, &m, NOTIFY_WAIT_MS), 0);
    CHECK_INT_EQ(m.type, W_CON);
    if (n_seen && m.mid == seen[n_seen - 1])
      continue; /* the one in flight, retransmitted */
    for (int i = 0; i < n_seen; i++)
      CHECK(m.mid != seen[i]); /* a replaced one came back */
    CALL(check_notification(&o, &m, W_CON));
    seen[n_seen++] = m.mid;
  }
  CHECK(n_seen >= 2);
  ack(&m); /* the gateway lets one ACK through: the observation goes on */
  o.mid = m.mid;
  memcpy(o.last, m.raw, m.raw_len);
  o.last_len = m.raw_len;
  CALL(con_notifications(&o, 2));
  end_obs(&o);
}

/* A GET with Observe: 1 and the observation's token ends it; the answer
 * carries no Observe. */
TEST(TD_COAP_OBS_12_cancel_with_observe_1) {
  observation o;
  w_msg m;
  uint16_t mid;
  clear_mailbox();
  CALL(observe_con(&o, "obs", &m));
  CALL(con_notifications(&o, 2));
  CHECK_INT_EQ(cancel_obs(&o, &m, &mid), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_CODE(m, 2, 5);
  CHECK_TOKEN(m, o.tok, o.tkl);
  CHECK_INT_EQ(w_uint(&m, W_OPT_CONTENT_FORMAT, 9999), o.cf);
  CHECK(w_find(&m, W_OPT_OBSERVE, 0) == NULL);
  CHECK(silent(&o));
}

/* ---- TD_COAP_OBS_13, 14: large notifications
 * ---------------------------------
 */

typedef struct blk_fields {
  unsigned num, szx;
  int m;
  int present;
} blk_fields;

static blk_fields block2_of(const w_msg *m) {
  blk_fields b = {0, 0, 0, 0};
  if (!w_find(m, W_OPT_BLOCK2, 0))
    return b;
  unsigned v = w_uint(m, W_OPT_BLOCK2, 0);
  b.num = v >> 4;
  b.m = (v >> 3) & 1;
  b.szx = v & 7;
  b.present = 1;
  return b;
}

/* 1 if the body is one period's: "obs N" and lines all naming period N. */
static int body_consistent(const uint8_t *body, size_t len) {
  char text[4096];
  unsigned long period, p;
  int line, l;
  if (len >= sizeof(text))
    return 0;
  memcpy(text, body, len);
  text[len] = '\0';
  if (sscanf(text, "obs %lu\n", &period) != 1)
    return 0;
  const char *s = strchr(text, '\n');
  for (line = 1; s && s[1]; line++) {
    if (sscanf(s + 1, "%d: period %lu, line", &l, &p) != 2 || l != line ||
        p != period)
      return 0;
    s = strchr(s + 1, '\n');
  }
  return 1;
}

/* The blocks after the first of a notification @first of @o (steps 4 and
 * 8 of OBS_13: cf. TD_COAP_BLOCK_02), each with the ETag of the first;
 * the whole body in @body. Returns its length; 0 when the resource changed
 * in between (another ETag), and (size_t)-1 on a failed check. */
static size_t fetch_rest(const observation *o, const w_msg *first,
                         uint8_t *body, size_t cap) {
  blk_fields b = block2_of(first);
  const w_opt_t *etag = w_find(first, W_OPT_ETAG, 0);
  size_t size = (size_t)1 << (b.szx + 4);
  if (!b.present || b.num != 0 || !b.m || first->payload_len != size || !etag ||
      size > cap) {
    fprintf(stderr, "/%s: bad first block\n", o->path);
    return (size_t)-1;
  }
  uint8_t first_etag[8];
  size_t etag_len = etag->len;
  memcpy(first_etag, etag->val, etag_len);
  memcpy(body, first->payload, size);
  size_t len = size;
  for (unsigned num = 1;; num++) {
    w_req r;
    w_msg m;
    uint8_t tok[8];
    uint16_t mid = request(&r, W_CON, W_GET, o->path, tok, 2);
    w_block(&r, num, W_OPT_BLOCK2, 0, b.szx);
    send_req(&r);
    if (recv_tok(tok, 2, &m, 3000) < 0 || m.type != W_ACK || m.mid != mid ||
        m.code != W_CODE(2, 5) || w_find(&m, W_OPT_OBSERVE, 0)) {
      fprintf(stderr, "/%s block %u: bad answer\n", o->path, num);
      return (size_t)-1;
    }
    etag = w_find(&m, W_OPT_ETAG, 0);
    if (!etag || etag->len != etag_len ||
        memcmp(etag->val, first_etag, etag_len) != 0)
      return 0; /* a newer representation: start over */
    blk_fields bb = block2_of(&m);
    if (!bb.present || bb.num != num || bb.szx != b.szx ||
        (bb.m && m.payload_len != size) || m.payload_len > size ||
        len + m.payload_len > cap) {
      fprintf(stderr, "/%s block %u: bad Block2\n", o->path, num);
      return (size_t)-1;
    }
    memcpy(body + len, m.payload, m.payload_len);
    len += m.payload_len;
    if (!bb.m)
      return len;
  }
}

/* Checks the whole body of a block-wise notification or answer @first;
 * returns 1 when checked, 0 when the resource changed during the fetch. */
static int check_large(const observation *o, const w_msg *first) {
  uint8_t body[4096];
  size_t len = fetch_rest(o, first, body, sizeof(body));
  if (len == 0)
    return 0;
  if (len == (size_t)-1 || !body_consistent(body, len) ||
      (w_find(first, W_OPT_SIZE2, 0) && w_uint(first, W_OPT_SIZE2, 0) != len)) {
    fprintf(stderr, "/%s: bad body (%zu bytes)\n", o->path, len);
    test_failed_ = 1;
    return 1;
  }
  return 1;
}

TEST(TD_COAP_OBS_13_large) {
  observation o;
  w_msg m;
  clear_mailbox();
  CALL(observe_con(&o, "obs-large", &m));
  int whole = check_large(&o, &m);
  CHECK(!test_failed_);
  /* steps 5..8: each notification's first block, then the rest; at least
   * two bodies read whole (one may change while being read) */
  for (int i = 0; i < 6 && whole < 3; i++) {
    CALL(next_notification(&o, &m));
    CALL(check_notification(&o, &m, W_CON));
    ack(&m);
    whole += check_large(&o, &m);
    CHECK(!test_failed_);
  }
  CHECK(whole >= 3);
  end_obs(&o);
}

/* A body that needs Block2 in some periods and not in others: both kinds
 * in notifications, and both kinds in the answer to a registration. */
TEST(TD_COAP_OBS_14_pumping) {
  observation o;
  w_msg m;
  int notified[2] = {0, 0}, answered[2] = {0, 0};
  clear_mailbox();
  for (int reg = 0; reg < 8 && !(answered[0] && answered[1]); reg++) {
    CALL(observe_con(&o, "obs-pumping", &m));
    int large = w_find(&m, W_OPT_BLOCK2, 0) != NULL;
    answered[large]++;
    if (large)
      check_large(&o, &m);
    else
      CHECK(m.payload_len <= 1024);
    CHECK(!test_failed_);
    for (int i = 0; i < (reg ? 1 : 6); i++) {
      CALL(next_notification(&o, &m));
      CALL(check_notification(&o, &m, W_CON));
      ack(&m);
      large = w_find(&m, W_OPT_BLOCK2, 0) != NULL;
      notified[large]++;
      if (large)
        check_large(&o, &m);
      else
        CHECK(m.payload_len <= 1024);
      CHECK(!test_failed_);
    }
    end_obs(&o);
  }
  CHECK(notified[0] && notified[1]);
  CHECK(answered[0] && answered[1]);
}

/* ---- main
 * -------------------------------------------------------------------- */

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH/TO/plugtest-server\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  server_path = argv[1];
  server_port = start_obs_server(0);
  if (!server_port) {
    fprintf(stderr, "cannot start %s\n", argv[1]);
    stop_server();
    return 1;
  }
  cli = udp_client_open(server_port);
  next_mid = (uint16_t)(getpid() * 7919u);
  next_token = (uint32_t)getpid();
  if (cli.fd < 0) {
    stop_server();
    return 1;
  }

  RUN(TD_COAP_OBS_01_observe_con);
  RUN(TD_COAP_OBS_02_observe_non);
  RUN(TD_COAP_OBS_04_server_reboot);
  RUN(TD_COAP_OBS_05_client_off);
  RUN(TD_COAP_OBS_06_client_rst);
  RUN(TD_COAP_OBS_07_delete);
  RUN(TD_COAP_OBS_08_content_format_change);
  RUN(TD_COAP_OBS_09_update);
  RUN(TD_COAP_OBS_10_get_does_not_cancel);
  RUN(TD_COAP_OBS_11_lossy);
  RUN(TD_COAP_OBS_12_cancel_with_observe_1);
  RUN(TD_COAP_OBS_13_large);
  RUN(TD_COAP_OBS_14_pumping);

  udp_client_close(&cli);
  stop_server();
  return TEST_SUMMARY();
}
