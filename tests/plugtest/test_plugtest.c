/*
 * test_plugtest.c -- the ETSI CoAP#4 plugtest test descriptions
 * TD_COAP_CORE_01..23 and 31, TD_COAP_LINK_01..09 and TD_COAP_BLOCK_01..06
 * run against examples/plugtest-server on loopback by a raw UDP client with
 * a codec of its own (coap_wire.h). Each test performs the TD's steps and
 * checks its pass criteria on the wire: types, codes, message IDs, tokens,
 * options and payloads. The lossy TDs (CORE_15, 16) play the lossy gateway
 * themselves: they drop a message by not sending or not acknowledging it.
 *
 *   test_plugtest PATH/TO/plugtest-server
 */
#include "plugtest_client.h"

static uint8_t large[4096]; /* /large as first read (load_large()) */
static size_t large_len;

/* Content-Format present when there is a payload (the TDs' "CFONE"). */
static int cf_if_payload(const w_msg *m) {
  return m->payload_len == 0 || w_find(m, W_OPT_CONTENT_FORMAT, 0) != NULL;
}

/* ---- TD_COAP_CORE: CON and NON methods on /test ----------------------------
 */

/* A piggybacked answer to a CON request: ACK, same MID and token. */
static int con_request(int code, const char *path, const char *payload,
                       size_t tkl, w_msg *m, uint16_t *mid_out, uint8_t *tok) {
  w_req r;
  uint16_t mid = request(&r, W_CON, (uint8_t)code, path, tok, tkl);
  if (payload) {
    w_opt_uint(&r, W_OPT_CONTENT_FORMAT, 0);
    w_payload(&r, payload, strlen(payload));
  }
  *mid_out = mid;
  return exchange(&r, m);
}

TEST(TD_COAP_CORE_01_get_con) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_GET, "test", NULL, 2, &m, &mid, tok), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 2);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  CHECK(m.payload_len > 0);
}

TEST(TD_COAP_CORE_02_delete_con) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_DELETE, "test", NULL, 2, &m, &mid, tok), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 2);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 2);
  CHECK(cf_if_payload(&m));
}

TEST(TD_COAP_CORE_03_put_con) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_PUT, "test", "put data", 3, &m, &mid, tok), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK(m.code == W_CODE(2, 4) || m.code == W_CODE(2, 1));
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 3);
  CHECK(cf_if_payload(&m));
}

TEST(TD_COAP_CORE_04_post_con) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_POST, "test", "post data", 4, &m, &mid, tok), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK(m.code == W_CODE(2, 1) || m.code == W_CODE(2, 4));
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 4);
  CHECK(cf_if_payload(&m));
}

/* NON request: a NON response with the same token and a MID of the
 * server's (and no ACK). */
static void non_method(uint8_t code, const char *payload, int want_c,
                       int want_dd, int alt_dd) {
  w_req r;
  w_msg m;
  uint8_t tok[8];
  request(&r, W_NON, code, "test", tok, 2);
  if (payload) {
    w_opt_uint(&r, W_OPT_CONTENT_FORMAT, 0);
    w_payload(&r, payload, strlen(payload));
  }
  CHECK_INT_EQ(exchange(&r, &m), 0);
  CHECK_INT_EQ(m.type, W_NON);
  CHECK(m.code == W_CODE(want_c, want_dd) || m.code == W_CODE(want_c, alt_dd));
  CHECK_TOKEN(m, tok, 2);
  CHECK(cf_if_payload(&m));
}

TEST(TD_COAP_CORE_05_get_non) {
  w_req r;
  w_msg m;
  uint8_t tok[8];
  request(&r, W_NON, W_GET, "test", tok, 2);
  CHECK_INT_EQ(exchange(&r, &m), 0);
  CHECK_INT_EQ(m.type, W_NON);
  CHECK_CODE(m, 2, 5);
  CHECK_TOKEN(m, tok, 2);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
}

TEST(TD_COAP_CORE_06_delete_non) {
  non_method(W_DELETE, NULL, 2, 2, 2);
}

TEST(TD_COAP_CORE_07_put_non) {
  non_method(W_PUT, "non put", 2, 4, 1);
}

TEST(TD_COAP_CORE_08_post_non) {
  non_method(W_POST, "non post", 2, 1, 4);
}

/* ---- separate responses (CORE_09, 11, 16, 17) ------------------------------
 */

/* Step 3 of CORE_09/11: the Empty ACK for a CON request. */
static int is_empty_ack(const w_msg *m, uint16_t mid) {
  return m->type == W_ACK && m->code == 0 && m->mid == mid && m->tkl == 0 &&
         m->n_opts == 0 && m->payload_len == 0 && m->raw_len == 4;
}

static void separate_con(size_t tkl) {
  w_req r;
  w_msg m;
  uint8_t tok[8];
  uint16_t mid = request(&r, W_CON, W_GET, "separate", tok, tkl);
  CHECK_INT_EQ(exchange(&r, &m), 0);
  CHECK(is_empty_ack(&m, mid));
  CHECK_INT_EQ(recv_msg(&m, 4000), 0); /* "a couple of seconds" */
  CHECK_INT_EQ(m.type, W_CON);
  CHECK_CODE(m, 2, 5);
  CHECK(m.mid != mid);
  CHECK_TOKEN(m, tok, tkl);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  CHECK(m.payload_len > 0);
  send_empty(W_ACK, m.mid);
  /* Acknowledged: no retransmission follows (ACK_TIMEOUT is 2 s). */
  CHECK_INT_EQ(recv_msg(&m, 3500), -1);
}

TEST(TD_COAP_CORE_09_separate_con) {
  separate_con(2);
}

TEST(TD_COAP_CORE_11_separate_con_token) {
  separate_con(8);
}

TEST(TD_COAP_CORE_17_separate_non) {
  w_req r;
  w_msg m;
  uint8_t tok[8];
  uint16_t mid = request(&r, W_NON, W_GET, "separate", tok, 4);
  CHECK_INT_EQ(send_req(&r), 0);
  CHECK_INT_EQ(recv_msg(&m, 4000), 0);
  /* No Empty ACK came first: the first message is the response. */
  CHECK_INT_EQ(m.type, W_NON);
  CHECK_CODE(m, 2, 5);
  CHECK(m.mid != mid);
  CHECK_TOKEN(m, tok, 4);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  CHECK(m.payload_len > 0);
}

/* ---- tokens, paths, queries (CORE_10, 12, 13, 14)
 * ---------------------------- */

TEST(TD_COAP_CORE_10_token_8_bytes) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_GET, "test", NULL, 8, &m, &mid, tok), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 8);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  CHECK(m.payload_len > 0);
}

TEST(TD_COAP_CORE_12_empty_token) {
  w_req r;
  w_msg m;
  uint16_t mid = new_mid();
  w_start(&r, W_CON, W_GET, mid, NULL, 0);
  w_path(&r, "test");
  CHECK_INT_EQ(exchange(&r, &m), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_INT_EQ(m.tkl, 0);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  CHECK(m.payload_len > 0);
}

TEST(TD_COAP_CORE_13_uri_path_segments) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_GET, "seg1/seg2/seg3", NULL, 2, &m, &mid, tok), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 2);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  CHECK(m.payload_len > 0);
}

TEST(TD_COAP_CORE_14_uri_query) {
  w_req r;
  w_msg m;
  uint8_t tok[8];
  uint16_t mid = request(&r, W_CON, W_GET, "query", tok, 2);
  w_opt_str(&r, W_OPT_URI_QUERY, "first=1");
  w_opt_str(&r, W_OPT_URI_QUERY, "second=2");
  w_opt_str(&r, W_OPT_URI_QUERY, "third=3");
  CHECK_INT_EQ(exchange(&r, &m), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 2);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  const char *want = "query: first=1&second=2&third=3";
  CHECK_MEM_EQ(m.payload, m.payload_len, want, strlen(want));
}

/* ---- lossy context (CORE_15, 16): this client is the lossy gateway ----------
 */

/* A lost response: the client retransmits the same CON (same MID and
 * token) and gets the same piggybacked response again. A lost request is
 * the same retransmission seen from the server's side. */
TEST(TD_COAP_CORE_15_lossy_piggybacked) {
  w_req r;
  w_msg first, again;
  uint8_t tok[8];
  uint16_t mid = request(&r, W_CON, W_GET, "test", tok, 2);
  CHECK_INT_EQ(exchange(&r, &first), 0); /* "dropped" on its way back */
  CHECK_INT_EQ(exchange(&r, &again), 0); /* the retransmission */
  CHECK_INT_EQ(again.type, W_ACK);
  CHECK_CODE(again, 2, 5);
  CHECK_INT_EQ(again.mid, mid);
  CHECK_TOKEN(again, tok, 2);
  CHECK_MEM_EQ(again.raw, again.raw_len, first.raw, first.raw_len);
}

/* The Empty ACK is lost: the retransmitted request gets it again, and the
 * separate response stops the client's retransmissions. The response's
 * ACK is lost too: the server retransmits the response (same MID) until
 * it is acknowledged. */
TEST(TD_COAP_CORE_16_lossy_separate) {
  w_req r;
  w_msg m, resp, again;
  uint8_t tok[8];
  uint16_t mid = request(&r, W_CON, W_GET, "separate", tok, 2);
  CHECK_INT_EQ(exchange(&r, &m), 0);
  CHECK(is_empty_ack(&m, mid));
  CHECK_INT_EQ(exchange(&r, &m), 0); /* the ACK was "dropped": retransmit */
  CHECK(is_empty_ack(&m, mid));
  CHECK_INT_EQ(recv_msg(&resp, 4000), 0);
  CHECK_INT_EQ(resp.type, W_CON);
  CHECK_CODE(resp, 2, 5);
  CHECK_TOKEN(resp, tok, 2);
  CHECK(resp.payload_len > 0);
  /* No ACK from us: the server retransmits after ACK_TIMEOUT (2 to 3 s). */
  CHECK_INT_EQ(recv_msg(&again, 5000), 0);
  CHECK_MEM_EQ(again.raw, again.raw_len, resp.raw, resp.raw_len);
  send_empty(W_ACK, again.mid);
  CHECK_INT_EQ(recv_msg(&m, 4500), -1);
}

/* ---- locations, Accept (CORE_18, 19, 20) ------------------------------------
 */

TEST(TD_COAP_CORE_18_location_path) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_POST, "test", "create me", 2, &m, &mid, tok), 0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 1);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 2);
  CHECK_INT_EQ(w_count(&m, W_OPT_LOCATION_PATH), 3);
  CHECK(w_opt_is(w_find(&m, W_OPT_LOCATION_PATH, 0), "location1"));
  CHECK(w_opt_is(w_find(&m, W_OPT_LOCATION_PATH, 1), "location2"));
  CHECK(w_opt_is(w_find(&m, W_OPT_LOCATION_PATH, 2), "location3"));
}

TEST(TD_COAP_CORE_19_location_query) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_POST, "location-query", "data", 2, &m, &mid, tok),
               0);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 1);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 2);
  CHECK(cf_if_payload(&m));
  CHECK_INT_EQ(w_count(&m, W_OPT_LOCATION_QUERY), 2);
  CHECK(w_opt_is(w_find(&m, W_OPT_LOCATION_QUERY, 0), "first=1"));
  CHECK(w_opt_is(w_find(&m, W_OPT_LOCATION_QUERY, 1), "second=2"));
}

static void get_with_accept(unsigned accept, w_msg *m, uint16_t *mid,
                            uint8_t *tok) {
  w_req r;
  *mid = request(&r, W_CON, W_GET, "multi-format", tok, 2);
  w_opt_uint(&r, W_OPT_ACCEPT, accept);
  if (exchange(&r, m) < 0)
    m->type = -1;
}

TEST(TD_COAP_CORE_20_accept) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  get_with_accept(0, &m, &mid, tok);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 2);
  CHECK(w_find(&m, W_OPT_CONTENT_FORMAT, 0) != NULL);
  CHECK_INT_EQ(w_uint(&m, W_OPT_CONTENT_FORMAT, 99), 0);
  CHECK(m.payload_len > 0 && m.payload[0] != '<');
  get_with_accept(41, &m, &mid, tok);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_TOKEN(m, tok, 2);
  CHECK_INT_EQ(w_uint(&m, W_OPT_CONTENT_FORMAT, 99), 41);
  CHECK(m.payload_len > 0 && m.payload[0] == '<');
  get_with_accept(50, &m, &mid, tok); /* no JSON representation */
  CHECK_CODE(m, 4, 6);
}

/* ---- ETag, If-Match, If-None-Match (CORE_21, 22, 23)
 * ------------------------- */

typedef struct etag {
  uint8_t v[8];
  size_t len;
} etag;

/* A CON request on /validate with optional ETag/If-Match and payload. */
static void validate_req(uint8_t code, unsigned etag_opt, const etag *e,
                         const char *payload, w_msg *m, uint16_t *mid) {
  w_req r;
  uint8_t tok[8];
  *mid = new_mid();
  new_token(tok, 2);
  w_start(&r, W_CON, code, *mid, tok, 2);
  if (e && etag_opt == W_OPT_IF_MATCH)
    w_opt(&r, W_OPT_IF_MATCH, e->v, e->len);
  if (e && etag_opt == W_OPT_ETAG)
    w_opt(&r, W_OPT_ETAG, e->v, e->len);
  w_path(&r, "validate");
  if (payload) {
    w_opt_uint(&r, W_OPT_CONTENT_FORMAT, 0);
    w_payload(&r, payload, strlen(payload));
  }
  if (exchange(&r, m) < 0 || m->mid != *mid || memcmp(m->token, tok, 2) != 0)
    m->type = -1; /* not the answer to this request */
}

static int get_etag(const w_msg *m, etag *e) {
  const w_opt_t *o = w_find(m, W_OPT_ETAG, 0);
  if (!o || o->len == 0 || o->len > 8)
    return -1;
  memcpy(e->v, o->val, o->len);
  e->len = o->len;
  return 0;
}

TEST(TD_COAP_CORE_21_etag) {
  w_msg m;
  uint16_t mid;
  etag e1, e2;
  validate_req(W_GET, 0, NULL, NULL, &m, &mid);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(get_etag(&m, &e1), 0);
  CHECK(m.payload_len > 0);
  char before[64];
  snprintf(before, sizeof(before), "%.*s", (int)m.payload_len,
           (const char *)m.payload);
  /* still valid: 2.03 with the same ETag and no payload */
  validate_req(W_GET, W_OPT_ETAG, &e1, NULL, &m, &mid);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 3);
  CHECK_INT_EQ(get_etag(&m, &e2), 0);
  CHECK_MEM_EQ(e2.v, e2.len, e1.v, e1.len);
  CHECK_INT_EQ(m.payload_len, 0);
  /* another client changes the resource */
  char text[32];
  snprintf(text, sizeof(text), "changed by %u", next_token);
  validate_req(W_PUT, 0, NULL, text, &m, &mid);
  CHECK_CODE(m, 2, 4);
  /* no longer valid: 2.05 with a new ETag and the new content */
  validate_req(W_GET, W_OPT_ETAG, &e1, NULL, &m, &mid);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(get_etag(&m, &e2), 0);
  CHECK(e2.len != e1.len || memcmp(e2.v, e1.v, e1.len) != 0);
  CHECK_MEM_EQ(m.payload, m.payload_len, text, strlen(text));
  CHECK(strcmp(before, text) != 0);
}

TEST(TD_COAP_CORE_22_if_match) {
  w_msg m;
  uint16_t mid;
  etag e1, e2;
  validate_req(W_GET, 0, NULL, NULL, &m, &mid);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(get_etag(&m, &e1), 0);
  /* atomic update with the current ETag: done */
  validate_req(W_PUT, W_OPT_IF_MATCH, &e1, "first update", &m, &mid);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 4);
  CHECK(cf_if_payload(&m));
  validate_req(W_GET, 0, NULL, NULL, &m, &mid);
  CHECK_CODE(m, 2, 5);
  CHECK_INT_EQ(get_etag(&m, &e2), 0);
  CHECK(e2.len != e1.len || memcmp(e2.v, e1.v, e1.len) != 0);
  CHECK_MEM_EQ(m.payload, m.payload_len, "first update", 12);
  /* a concurrent update without If-Match */
  validate_req(W_PUT, 0, NULL, "second update", &m, &mid);
  CHECK_CODE(m, 2, 4);
  /* the atomic update with the now stale ETAG2 fails */
  validate_req(W_PUT, W_OPT_IF_MATCH, &e2, "third update", &m, &mid);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 4, 12);
  validate_req(W_GET, 0, NULL, NULL, &m, &mid);
  CHECK_MEM_EQ(m.payload, m.payload_len, "second update", 13);
}

static void create1_put(int if_none_match, w_msg *m, uint16_t *mid) {
  w_req r;
  uint8_t tok[8];
  *mid = new_mid();
  new_token(tok, 2);
  w_start(&r, W_CON, W_PUT, *mid, tok, 2);
  if (if_none_match)
    w_opt(&r, W_OPT_IF_NONE_MATCH, NULL, 0);
  w_path(&r, "create1");
  w_opt_uint(&r, W_OPT_CONTENT_FORMAT, 0);
  w_payload(&r, "created", 7);
  if (exchange(&r, m) < 0 || m->mid != *mid)
    m->type = -1;
}

TEST(TD_COAP_CORE_23_if_none_match) {
  w_msg m;
  uint8_t tok[8];
  uint16_t mid;
  /* start from the TD's precondition: /create1 does not exist */
  CHECK_INT_EQ(con_request(W_DELETE, "create1", NULL, 2, &m, &mid, tok), 0);
  CHECK_INT_EQ(con_request(W_GET, "create1", NULL, 2, &m, &mid, tok), 0);
  CHECK_CODE(m, 4, 4);
  create1_put(1, &m, &mid);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 2, 1);
  CHECK(cf_if_payload(&m));
  create1_put(1, &m, &mid);
  CHECK_INT_EQ(m.type, W_ACK);
  CHECK_CODE(m, 4, 12);
  create1_put(0, &m, &mid); /* without If-None-Match: replaced */
  CHECK_CODE(m, 2, 4);
}

/* ---- Ping (CORE_31)
 * ---------------------------------------------------------- */

TEST(TD_COAP_CORE_31_ping) {
  w_req r;
  w_msg m;
  uint16_t mid = new_mid();
  w_start(&r, W_CON, 0, mid, NULL, 0);
  CHECK_INT_EQ(r.len, 4);
  CHECK_INT_EQ(exchange(&r, &m), 0);
  CHECK_INT_EQ(m.raw_len, 4);
  CHECK_INT_EQ(m.type, W_RST);
  CHECK_INT_EQ(m.code, 0);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_INT_EQ(m.tkl, 0);
}

/* ---- TD_COAP_LINK
 * ------------------------------------------------------------ */

/* GET /.well-known/core with the Uri-Query @query (or none); the link
 * targets of the answer, sorted and joined with spaces, into @out. Checks
 * the answer is a 2.05 in link format; returns -1 if not. */
static int discover(const char *path, const char *query, char *out, size_t cap,
                    w_msg *m) {
  w_req r;
  uint8_t tok[8];
  uint16_t mid = request(&r, W_CON, W_GET, path, tok, 2);
  if (query)
    w_opt_str(&r, W_OPT_URI_QUERY, query);
  if (exchange(&r, m) < 0 || m->type != W_ACK || m->mid != mid ||
      m->code != W_CODE(2, 5) || w_uint(m, W_OPT_CONTENT_FORMAT, 99) != 40 ||
      w_find(m, W_OPT_BLOCK2, 0))
    return -1;
  /* collect "<target>" of each link */
  char targets[64][48];
  int n = 0;
  for (size_t i = 0; i < m->payload_len && n < 64; i++) {
    if (m->payload[i] != '<')
      continue;
    size_t j = i + 1;
    while (j < m->payload_len && m->payload[j] != '>')
      j++;
    snprintf(targets[n++], sizeof(targets[0]), "%.*s", (int)(j - i - 1),
             (const char *)m->payload + i + 1);
    i = j;
  }
  qsort(targets, (size_t)n, sizeof(targets[0]),
        (int (*)(const void *, const void *))strcmp);
  out[0] = '\0';
  for (int i = 0; i < n; i++)
    snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "",
             targets[i]);
  return 0;
}

#define ALL_LINKS                                                              \
  "/create1 /large /large-create /large-post /large-update /link1 /link2 "     \
  "/link3 /location-query /multi-format /obs /obs-large /obs-non "             \
  "/obs-pumping /path /path/sub1 /path/sub2 /path/sub3 /query "                \
  "/seg1/seg2/seg3 /separate /test /validate"

TEST(TD_COAP_LINK_01_well_known_core) {
  char got[1024];
  w_msg m;
  CHECK_INT_EQ(discover(".well-known/core", NULL, got, sizeof(got), &m), 0);
  CHECK_STR_EQ(got, ALL_LINKS);
  /* the observable resources say so (RFC 7641 6) */
  CHECK_INT_EQ(discover(".well-known/core", "href=/obs*", got, sizeof(got), &m),
               0);
  CHECK_STR_EQ(got, "/obs /obs-large /obs-non /obs-pumping");
  CHECK(memmem(m.payload, m.payload_len, "</obs>;obs", 10) != NULL);
  CHECK(memmem(m.payload, m.payload_len, "</obs-non>;obs", 14) != NULL);
}

static void filtered(const char *query, const char *want) {
  char got[1024];
  w_msg m;
  CHECK_INT_EQ(discover(".well-known/core", query, got, sizeof(got), &m), 0);
  CHECK_STR_EQ(got, want);
}

TEST(TD_COAP_LINK_02_filter_rt) {
  filtered("rt=Type1", "/link1 /link3");
}

TEST(TD_COAP_LINK_03_filter_rt_any) {
  filtered("rt=*", "/large /link1 /link2 /link3 /query /test");
}

TEST(TD_COAP_LINK_04_filter_rt_multiple) {
  filtered("rt=Type2", "/link1 /link2");
}

TEST(TD_COAP_LINK_05_filter_if_prefix) {
  filtered("if=If*", "/link1 /link2");
}

TEST(TD_COAP_LINK_06_filter_sz_any) {
  filtered("sz=*", "/large /link1");
  /* /large's sz is its size */
  char got[1024], want[64];
  w_msg m;
  CHECK_INT_EQ(
      discover(".well-known/core", "href=/large", got, sizeof(got), &m), 0);
  snprintf(want, sizeof(want), "</large>;rt=\"block\";sz=%zu", large_len);
  CHECK_MEM_EQ(m.payload, m.payload_len, want, strlen(want));
}

TEST(TD_COAP_LINK_07_filter_href) {
  filtered("href=/link1", "/link1");
}

TEST(TD_COAP_LINK_08_filter_href_prefix) {
  filtered("href=/link*", "/link1 /link2 /link3");
}

TEST(TD_COAP_LINK_09_hierarchy) {
  char got[1024];
  w_msg m;
  CHECK_INT_EQ(discover(".well-known/core", "href=/path", got, sizeof(got), &m),
               0);
  CHECK_STR_EQ(got, "/path");
  const char *want = "</path>;ct=40";
  CHECK_MEM_EQ(m.payload, m.payload_len, want, strlen(want));
  CHECK_INT_EQ(discover("path", NULL, got, sizeof(got), &m), 0);
  CHECK_STR_EQ(got, "/path/sub1 /path/sub2 /path/sub3");
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_GET, "path/sub1", NULL, 2, &m, &mid, tok), 0);
  CHECK_CODE(m, 2, 5);
  CHECK(m.payload_len > 0 &&
        memmem(m.payload, m.payload_len, "/path/sub1", 10) != NULL);
}

/* ---- TD_COAP_BLOCK
 * ----------------------------------------------------------- */

/* One block-wise request: @code on @path with Block2 @num/@szx (when
 * @szx >= 0); the answer's Block2 fields in *num, *m, *szx. */
typedef struct blk {
  unsigned num, szx;
  int m;
  int present;
} blk;

static blk block_of(const w_msg *msg, unsigned opt) {
  blk b = {0, 0, 0, 0};
  if (!w_find(msg, opt, 0))
    return b;
  unsigned v = w_uint(msg, opt, 0);
  b.num = v >> 4;
  b.m = (v >> 3) & 1;
  b.szx = v & 7;
  b.present = 1;
  return b;
}

/* Sends a request for block @num of size @szx of @path's representation
 * (@code GET or POST, no payload) and checks the answer's header. */
static int get_block(uint8_t code, const char *path, unsigned num, unsigned szx,
                     w_msg *m) {
  w_req r;
  uint8_t tok[8];
  uint16_t mid = request(&r, W_CON, code, path, tok, 2);
  w_block(&r, num, W_OPT_BLOCK2, 0, szx);
  if (exchange(&r, m) < 0 || m->type != W_ACK || m->mid != mid ||
      memcmp(m->token, tok, 2) != 0)
    return -1;
  return 0;
}

/* Steps 4..7 of BLOCK_01/02/06: blocks @first.. of size @szx until M=0,
 * each checked against the TD; appends to @body. Returns its length, or
 * (size_t)-1 on a failed check (reported on stderr). */
static size_t fetch_rest(uint8_t code, const char *path, unsigned first,
                         unsigned szx, uint8_t want_code, uint8_t *body,
                         size_t len, size_t cap) {
  for (unsigned num = first;; num++) {
    w_msg m;
    blk b;
    if (get_block(code, path, num, szx, &m) < 0 || m.code != want_code ||
        !(b = block_of(&m, W_OPT_BLOCK2)).present || b.num != num ||
        b.szx != szx) {
      fprintf(stderr, "block %u of /%s: bad answer\n", num, path);
      return (size_t)-1;
    }
    size_t size = (size_t)1 << (szx + 4);
    if ((b.m && m.payload_len != size) || m.payload_len > size ||
        len + m.payload_len > cap) {
      fprintf(stderr, "block %u of /%s: %zu bytes\n", num, path, m.payload_len);
      return (size_t)-1;
    }
    memcpy(body + len, m.payload, m.payload_len);
    len += m.payload_len;
    if (!b.m)
      return len;
  }
}

/* Early negotiation with block size @szx (BLOCK_01 and 06). */
static void early_negotiation(unsigned szx) {
  w_msg m;
  uint8_t body[4096];
  CHECK_INT_EQ(get_block(W_GET, "large", 0, szx, &m), 0);
  CHECK_CODE(m, 2, 5);
  blk b = block_of(&m, W_OPT_BLOCK2);
  CHECK(b.present);
  CHECK_INT_EQ(b.num, 0);
  CHECK_INT_EQ(b.m, 1);
  CHECK(b.szx <= szx);
  CHECK_INT_EQ(m.payload_len, (size_t)1 << (b.szx + 4));
  memcpy(body, m.payload, m.payload_len);
  size_t len = fetch_rest(W_GET, "large", 1, b.szx, W_CODE(2, 5), body,
                          m.payload_len, sizeof(body));
  CHECK(len != (size_t)-1);
  CHECK_MEM_EQ(body, len, large, large_len);
}

/* The whole /large in one go of the server's choosing, for comparison:
 * the server's first block, then the rest at that size. Also checks the
 * size announced in /.well-known/core. */
static int load_large(void) {
  w_req r;
  w_msg m;
  uint8_t tok[8];
  request(&r, W_CON, W_GET, "large", tok, 2);
  if (exchange(&r, &m) < 0 || m.code != W_CODE(2, 5))
    return -1;
  blk b = block_of(&m, W_OPT_BLOCK2);
  memcpy(large, m.payload, m.payload_len);
  large_len = m.payload_len;
  if (b.present && b.m)
    large_len = fetch_rest(W_GET, "large", 1, b.szx, W_CODE(2, 5), large,
                           large_len, sizeof(large));
  return large_len == (size_t)-1 || large_len <= 1024 ? -1 : 0;
}

TEST(TD_COAP_BLOCK_01_get_early_negotiation) {
  early_negotiation(2); /* 64-byte blocks */
}

TEST(TD_COAP_BLOCK_02_get_late_negotiation) {
  w_req r;
  w_msg m;
  uint8_t tok[8];
  uint8_t body[4096];
  uint16_t mid = request(&r, W_CON, W_GET, "large", tok, 2);
  CHECK_INT_EQ(exchange(&r, &m), 0);
  CHECK_INT_EQ(m.mid, mid);
  CHECK_CODE(m, 2, 5);
  blk b = block_of(&m, W_OPT_BLOCK2);
  CHECK(b.present);
  CHECK_INT_EQ(b.num, 0);
  CHECK_INT_EQ(b.m, 1);
  CHECK_INT_EQ(m.payload_len, (size_t)1 << (b.szx + 4));
  CHECK(b.szx > 2);
  /* the client switches to 64-byte blocks: NUM k = 2**(DES - ACT) */
  unsigned act = 2, k = 1u << (b.szx - act);
  memcpy(body, m.payload, m.payload_len);
  size_t len = fetch_rest(W_GET, "large", k, act, W_CODE(2, 5), body,
                          m.payload_len, sizeof(body));
  CHECK(len != (size_t)-1);
  CHECK_MEM_EQ(body, len, large, large_len);
}

TEST(TD_COAP_BLOCK_06_get_16_byte_blocks) {
  early_negotiation(0);
}

/* A body of @len bytes that shows where each byte came from. */
static void make_body(uint8_t *buf, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)('a' + (i * 7 + seed) % 26);
}

/* Sends @body with Block1 blocks of size @szx (BLOCK_03..05 steps 2..7),
 * checking each intermediate answer against the TD: 2.31 with Block1
 * NUM=i, M=1, same SZX (or 2.04 with M=0 when @allow_204). Returns the
 * final answer in @last. */
static int send_blocks(uint8_t code, const char *path, const uint8_t *body,
                       size_t len, unsigned szx, int allow_204, w_msg *last) {
  size_t size = (size_t)1 << (szx + 4);
  unsigned n = (unsigned)((len + size - 1) / size);
  for (unsigned num = 0; num < n; num++) {
    w_req r;
    uint8_t tok[8];
    int more = num + 1 < n;
    uint16_t mid = request(&r, W_CON, code, path, tok, 2);
    w_opt_uint(&r, W_OPT_CONTENT_FORMAT, 0);
    w_block(&r, num, W_OPT_BLOCK1, more, szx);
    size_t chunk = more ? size : len - num * size;
    w_payload(&r, body + num * size, chunk);
    if (exchange(&r, last) < 0 || last->type != W_ACK || last->mid != mid ||
        memcmp(last->token, tok, 2) != 0)
      return -1;
    blk b = block_of(last, W_OPT_BLOCK1);
    if (!b.present || b.num != num || b.szx != szx) {
      fprintf(stderr, "/%s block %u: Block1 %s %u/%d/%u\n", path, num,
              b.present ? "is" : "missing", b.num, b.m, b.szx);
      return -1;
    }
    if (!more)
      return b.m == 0 ? 0 : -1;
    int ok = (last->code == W_CODE(2, 31) && b.m == 1) ||
             (allow_204 && last->code == W_CODE(2, 4) && b.m == 0);
    if (!ok) {
      fprintf(stderr, "/%s block %u: code %d.%02d M=%d\n", path, num,
              last->code >> 5, last->code & 31, b.m);
      return -1;
    }
  }
  return -1;
}

TEST(TD_COAP_BLOCK_03_put_block1) {
  uint8_t body[700];
  w_msg m;
  make_body(body, sizeof(body), 3);
  CHECK_INT_EQ(send_blocks(W_PUT, "large-update", body, sizeof(body), 4, 1, &m),
               0);
  CHECK_CODE(m, 2, 4);
  /* the server holds the complete updated resource */
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_GET, "large-update", NULL, 2, &m, &mid, tok), 0);
  CHECK_CODE(m, 2, 5);
  CHECK_MEM_EQ(m.payload, m.payload_len, body, sizeof(body));
}

TEST(TD_COAP_BLOCK_04_post_block1_create) {
  uint8_t body[500];
  w_msg m;
  make_body(body, sizeof(body), 4);
  CHECK_INT_EQ(
      send_blocks(W_POST, "large-create", body, sizeof(body), 3, 0, &m), 0);
  CHECK_CODE(m, 2, 1);
  CHECK_INT_EQ(w_count(&m, W_OPT_LOCATION_PATH), 2);
  const w_opt_t *first = w_find(&m, W_OPT_LOCATION_PATH, 0);
  const w_opt_t *ps = w_find(&m, W_OPT_LOCATION_PATH, 1);
  CHECK(w_opt_is(first, "large-create"));
  CHECK(ps->len > 0 && !memchr(ps->val, '/', ps->len));
  /* the new resource, at the Location-Path copied into Uri-Path */
  char path[64];
  snprintf(path, sizeof(path), "large-create/%.*s", (int)ps->len,
           (const char *)ps->val);
  uint8_t tok[8];
  uint16_t mid;
  CHECK_INT_EQ(con_request(W_GET, path, NULL, 2, &m, &mid, tok), 0);
  CHECK_CODE(m, 2, 5);
  CHECK_MEM_EQ(m.payload, m.payload_len, body, sizeof(body));
}

TEST(TD_COAP_BLOCK_05_post_both_ways) {
  uint8_t body[1500], back[4096];
  w_msg m;
  make_body(body, sizeof(body), 5);
  CHECK_INT_EQ(send_blocks(W_POST, "large-post", body, sizeof(body), 6, 0, &m),
               0);
  /* the final Block1 answer carries the first Block2 block */
  CHECK_CODE(m, 2, 4);
  blk b = block_of(&m, W_OPT_BLOCK2);
  CHECK(b.present);
  CHECK_INT_EQ(b.num, 0);
  CHECK_INT_EQ(b.m, 1);
  CHECK_INT_EQ(m.payload_len, (size_t)1 << (b.szx + 4));
  CHECK(b.szx > 5);
  /* the client retrieves the rest in 512-byte blocks */
  unsigned act = 5, k = 1u << (b.szx - act);
  memcpy(back, m.payload, m.payload_len);
  size_t len = fetch_rest(W_POST, "large-post", k, act, W_CODE(2, 4), back,
                          m.payload_len, sizeof(back));
  CHECK(len != (size_t)-1);
  CHECK_MEM_EQ(back, len, body, sizeof(body));
}

/* ---- main
 * -------------------------------------------------------------------- */

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH/TO/plugtest-server\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  static const char *const args[] = {"127.0.0.1", "0", NULL};
  uint16_t port = start_server(argv[1], args);
  if (!port) {
    fprintf(stderr, "cannot start %s\n", argv[1]);
    stop_server();
    return 1;
  }
  cli = udp_client_open(port);
  next_mid = (uint16_t)(getpid() * 7919u);
  next_token = (uint32_t)getpid();
  if (cli.fd < 0 || load_large() < 0) {
    fprintf(stderr, "cannot read /large from the server\n");
    stop_server();
    return 1;
  }

  RUN(TD_COAP_CORE_01_get_con);
  RUN(TD_COAP_CORE_02_delete_con);
  RUN(TD_COAP_CORE_03_put_con);
  RUN(TD_COAP_CORE_04_post_con);
  RUN(TD_COAP_CORE_05_get_non);
  RUN(TD_COAP_CORE_06_delete_non);
  RUN(TD_COAP_CORE_07_put_non);
  RUN(TD_COAP_CORE_08_post_non);
  RUN(TD_COAP_CORE_09_separate_con);
  RUN(TD_COAP_CORE_10_token_8_bytes);
  RUN(TD_COAP_CORE_11_separate_con_token);
  RUN(TD_COAP_CORE_12_empty_token);
  RUN(TD_COAP_CORE_13_uri_path_segments);
  RUN(TD_COAP_CORE_14_uri_query);
  RUN(TD_COAP_CORE_15_lossy_piggybacked);
  RUN(TD_COAP_CORE_16_lossy_separate);
  RUN(TD_COAP_CORE_17_separate_non);
  RUN(TD_COAP_CORE_18_location_path);
  RUN(TD_COAP_CORE_19_location_query);
  RUN(TD_COAP_CORE_20_accept);
  RUN(TD_COAP_CORE_21_etag);
  RUN(TD_COAP_CORE_22_if_match);
  RUN(TD_COAP_CORE_23_if_none_match);
  RUN(TD_COAP_CORE_31_ping);
  RUN(TD_COAP_LINK_01_well_known_core);
  RUN(TD_COAP_LINK_02_filter_rt);
  RUN(TD_COAP_LINK_03_filter_rt_any);
  RUN(TD_COAP_LINK_04_filter_rt_multiple);
  RUN(TD_COAP_LINK_05_filter_if_prefix);
  RUN(TD_COAP_LINK_06_filter_sz_any);
  RUN(TD_COAP_LINK_07_filter_href);
  RUN(TD_COAP_LINK_08_filter_href_prefix);
  RUN(TD_COAP_LINK_09_hierarchy);
  RUN(TD_COAP_BLOCK_01_get_early_negotiation);
  RUN(TD_COAP_BLOCK_02_get_late_negotiation);
  RUN(TD_COAP_BLOCK_03_put_block1);
  RUN(TD_COAP_BLOCK_04_post_block1_create);
  RUN(TD_COAP_BLOCK_05_post_both_ways);
  RUN(TD_COAP_BLOCK_06_get_16_byte_blocks);

  udp_client_close(&cli);
  stop_server();
  return TEST_SUMMARY();
}
