/*
 * test_persist.c -- coap_persist(3) through the sans-I/O core with a fake
 * clock and temporary files: observers, Observe numbers and dynamic
 * resources across a restart (a context freed as a killed process would
 * leave its files, and a new one started on them), the callbacks of
 * coap_persist_track_funcs(), coap_persist_observe_add(), and a named test
 * for every kind of malformed file.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

#include "core_harness.h"
#include "observe.h"
#include "persist.h"
#include "resource.h"

/* ---- files ---------------------------------------------------------------
 */

static char dir[64];
static char dyn_path[96], obs_path[96], cnt_path[96];

static void make_dir(void) {
  snprintf(dir, sizeof(dir), "/tmp/petrel-persist.XXXXXX");
  if (!mkdtemp(dir))
    abort();
  snprintf(dyn_path, sizeof(dyn_path), "%s/dyn", dir);
  snprintf(obs_path, sizeof(obs_path), "%s/obs", dir);
  snprintf(cnt_path, sizeof(cnt_path), "%s/cnt", dir);
}

static void remove_dir(void) {
  unlink(dyn_path);
  unlink(obs_path);
  unlink(cnt_path);
  rmdir(dir);
}

typedef struct file_copy {
  uint8_t data[8192];
  size_t len;
  int present;
} file_copy;

static void read_file(const char *path, file_copy *c) {
  FILE *f = fopen(path, "rb");
  c->len = 0;
  c->present = f != NULL;
  if (f) {
    c->len = fread(c->data, 1, sizeof(c->data), f);
    fclose(f);
  }
}

static void write_bytes(const char *path, const uint8_t *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f)
    abort();
  fwrite(data, 1, len, f);
  fclose(f);
}

static void write_file_copy(const char *path, const file_copy *c) {
  if (c->present)
    write_bytes(path, c->data, c->len);
  else
    unlink(path);
}

/* Records in a file (its header's count), or -1 if it is not one of ours. */
static long records_in(const char *path) {
  file_copy c;
  read_file(path, &c);
  if (!c.present || c.len < 16 || memcmp(c.data, "PTPS", 4) != 0 ||
      c.data[4] != 1)
    return -1;
  return (long)((uint32_t)c.data[8] << 24 | (uint32_t)c.data[9] << 16 |
                (uint32_t)c.data[10] << 8 | c.data[11]);
}

/* A process killed now leaves its files as they are: keep them, free the
 * context (which, persistence not being stopped, would end everything),
 * and put them back. */
typedef struct saved_files {
  file_copy dyn, obs, cnt;
} saved_files;

static void kill_server(coap_context_t *ctx) {
  static saved_files keep;
  h_advance(ctx, 0); /* the end of the pass: dirty files written */
  read_file(dyn_path, &keep.dyn);
  read_file(obs_path, &keep.obs);
  read_file(cnt_path, &keep.cnt);
  ctx->endpoints = NULL;
  h_free(ctx);
  write_file_copy(dyn_path, &keep.dyn);
  write_file_copy(obs_path, &keep.obs);
  write_file_copy(cnt_path, &keep.cnt);
}

/* ---- the server under test --------------------------------------------- */

static int state;
static coap_resource_t *obs_res;

static void hnd_get(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  char buf[16];
  int n = snprintf(buf, sizeof(buf), "v=%d", state);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, (size_t)n, (const uint8_t *)buf);
}

/* The unknown-resource handler: a PUT creates an observable resource at
 * the request's path; the session it was given is recorded. */
static int unknown_calls;
static int unknown_send_rc;

static void hnd_put_unknown(coap_resource_t *u, coap_session_t *s,
                            const coap_pdu_t *req, const coap_string_t *q,
                            coap_pdu_t *resp) {
  (void)u, (void)q;
  unknown_calls++;
  coap_string_t *path = coap_get_uri_path(req);
  coap_resource_t *r = coap_resource_init((coap_str_const_t *)path,
                                          COAP_RESOURCE_FLAGS_RELEASE_URI);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get);
  coap_resource_set_get_observable(r, 1);
  coap_add_resource(coap_session_get_context(s), r);
  /* Whatever the handler sends on a re-creation goes nowhere. */
  coap_pdu_t *ping = coap_pdu_init(COAP_MESSAGE_CON, 0, 1, 0);
  unknown_send_rc = coap_send(s, ping);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
}

static coap_context_t *server(void) {
  coap_context_t *ctx = h_context();
  state = 0;
  unknown_calls = 0;
  obs_res = coap_resource_init(coap_make_str_const("obs"), 0);
  coap_register_handler(obs_res, COAP_REQUEST_GET, hnd_get);
  coap_resource_set_get_observable(obs_res, 1);
  coap_add_resource(ctx, obs_res);
  coap_add_resource(ctx, coap_resource_unknown_init(hnd_put_unknown));
  /* The fake endpoint, listening on 127.0.0.1:5683, is the context's. */
  h_ep.bind_addr = h_peer(5683);
  ctx->endpoints = &h_ep;
  return ctx;
}

static void stop_server(coap_context_t *ctx) {
  ctx->endpoints = NULL; /* the fake endpoint is not the context's to free */
  h_free(ctx);
}

static coap_pdu_t *obs_request(coap_mid_t mid, uint8_t tok, const char *path,
                               int obs) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, mid, tok, path);
  uint8_t v = (uint8_t)obs;
  coap_add_option(p, COAP_OPTION_OBSERVE, obs ? 1 : 0, &v);
  return p;
}

static void reg(coap_session_t *s, coap_mid_t mid, uint8_t tok) {
  h_feed(s, obs_request(mid, tok, "obs", 0));
}

static void change(coap_context_t *ctx, coap_resource_t *r) {
  state++;
  coap_resource_notify_observers(r, NULL);
  h_advance(ctx, 0);
}

static long observe_of(int i) {
  coap_pdu_t *p = h_parse(i);
  coap_opt_iterator_t it;
  coap_opt_t *o = p ? coap_check_option(p, COAP_OPTION_OBSERVE, &it) : NULL;
  long v =
      o ? (long)coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o))
        : -1;
  coap_delete_pdu(p);
  return v;
}

static int code_of(int i) {
  return h_sent_log[i].data[1];
}

static uint8_t token_of(int i) {
  return h_sent_log[i].data[4];
}

static int startup(coap_context_t *ctx, uint32_t save_freq) {
  return coap_persist_startup(ctx, dyn_path, obs_path, cnt_path, save_freq);
}

/* ---- restart ----------------------------------------------------------------
 */

TEST(observer_and_observe_number_survive_a_kill) {
  make_dir();
  coap_context_t *ctx = server();
  CHECK_INT_EQ(startup(ctx, 10), 1);
  CHECK_INT_EQ(records_in(obs_path), 0); /* written at startup */
  reg(h_server_session(40001), 1, 'k');
  reg(h_server_session(40002), 1, 'm');
  for (int i = 0; i < 23; i++)
    change(ctx, obs_res);
  CHECK_INT_EQ(observe_of(h_nsent - 1), 23);
  kill_server(ctx);
  CHECK_INT_EQ(records_in(obs_path), 2);
  CHECK_INT_EQ(records_in(cnt_path), 1); /* 20, saved at 10 and 20 */

  ctx = server();
  CHECK_INT_EQ(startup(ctx, 10), 1);
  CHECK_UINT_EQ(ctx->obs.count, 2);
  CHECK_UINT_EQ(obs_res->obs.count, 2);
  /* Up to 29 may have gone out after 20 was saved: the next is 30. */
  CHECK_UINT_EQ(obs_res->obs.seq, 29);
  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 2);
  for (int i = 0; i < 2; i++) {
    CHECK_INT_EQ(code_of(i), COAP_RESPONSE_CODE_CONTENT);
    CHECK_INT_EQ(observe_of(i), 30);
    uint16_t port = coap_address_get_port(&h_sent_log[i].session->remote);
    CHECK_INT_EQ(token_of(i), port == 40001 ? 'k' : 'm');
    CHECK(port == 40001 || port == 40002);
    CHECK(h_sent_log[i].session->endpoint == &h_ep);
  }
  /* The restored observers are saved again by the new process. */
  kill_server(ctx);
  CHECK_INT_EQ(records_in(obs_path), 2);
  remove_dir();
}

TEST(observe_number_restored_above_every_value_sent) {
  /* For each count of notifications before the kill, the first one after
   * the restart is larger than every one before it. */
  for (int sent = 0; sent <= 12; sent++) {
    make_dir();
    coap_context_t *ctx = server();
    CHECK_INT_EQ(startup(ctx, 5), 1);
    reg(h_server_session(40001), 1, 'k');
    for (int i = 0; i < sent; i++)
      change(ctx, obs_res);
    kill_server(ctx);
    ctx = server();
    CHECK_INT_EQ(startup(ctx, 5), 1);
    h_nsent = 0;
    change(ctx, obs_res);
    CHECK_INT_EQ(h_nsent, 1);
    CHECK(observe_of(0) > sent);
    CHECK(observe_of(0) <= sent + 5);
    stop_server(ctx);
    remove_dir();
  }
}

TEST(counter_file_written_every_save_freq_values) {
  make_dir();
  coap_context_t *ctx = server();
  CHECK_INT_EQ(startup(ctx, 4), 1);
  reg(h_server_session(40001), 1, 'k');
  file_copy c;
  change(ctx, obs_res);
  /* the first value, rounded down to a multiple of 4 */
  CHECK_INT_EQ(records_in(cnt_path), 1);
  read_file(cnt_path, &c);
  CHECK_MEM_EQ(c.data + 12, 9, "\0\3obs\0\0\0\0", 9);
  struct stat before, after;
  CHECK_INT_EQ(stat(cnt_path, &before), 0);
  change(ctx, obs_res);
  change(ctx, obs_res);
  CHECK_INT_EQ(stat(cnt_path, &after), 0);
  CHECK_UINT_EQ(after.st_ino, before.st_ino); /* not rewritten at 2, 3 */
  change(ctx, obs_res);
  CHECK_INT_EQ(stat(cnt_path, &after), 0);
  CHECK(after.st_ino != before.st_ino); /* renamed over at 4 */
  read_file(cnt_path, &c);
  /* header, name "obs", value 4, CRC */
  CHECK_INT_EQ(c.len, 12 + 2 + 3 + 4 + 4);
  CHECK_MEM_EQ(c.data + 12, 9, "\0\3obs\0\0\0\4", 9);
  stop_server(ctx);
  remove_dir();
}

/* A resource name is kept up to PT_PERSIST_MAX_NAME bytes, the longest a
 * file may hold; a longer one is left out (only an application, not a
 * request over UDP, can make one). */
TEST(counter_file_keeps_names_up_to_the_longest_it_reads) {
  static char longest[PT_PERSIST_MAX_NAME], too_long[PT_PERSIST_MAX_NAME + 1];
  memset(longest, 'a', sizeof(longest));
  memset(too_long, 'b', sizeof(too_long));
  make_dir();
  coap_context_t *ctx = server();
  coap_str_const_t names[] = {{sizeof(longest), (const uint8_t *)longest},
                              {sizeof(too_long), (const uint8_t *)too_long}};
  for (size_t i = 0; i < 2; i++) {
    coap_resource_t *r = coap_resource_init(&names[i], 0);
    coap_add_resource(ctx, r);
    r->persist.has_saved_seq = 1;
    r->persist.saved_seq = 20;
  }
  CHECK_INT_EQ(startup(ctx, 10), 1);
  CHECK_INT_EQ(records_in(cnt_path), 1);
  file_copy c;
  read_file(cnt_path, &c);
  CHECK_UINT_EQ(c.data[12] << 8 | c.data[13], PT_PERSIST_MAX_NAME);
  CHECK_UINT_EQ(c.data[14], 'a');
  stop_server(ctx);
  remove_dir();
}

TEST(files_written_at_end_of_pass_atomically) {
  make_dir();
  coap_context_t *ctx = server();
  CHECK_INT_EQ(startup(ctx, 10), 1);
  coap_session_t *s = h_server_session(40001);
  reg(s, 1, 'a');
  reg(s, 2, 'b');
  CHECK_INT_EQ(records_in(obs_path), 0); /* not yet: the pass goes on */
  CHECK(pt_timer_armed(&ctx->persist.timer));
  h_advance(ctx, 0);
  CHECK_INT_EQ(records_in(obs_path), 2);
  char tmp[128];
  snprintf(tmp, sizeof(tmp), "%s.tmp", obs_path);
  CHECK(access(tmp, F_OK) != 0); /* renamed over the file */
  /* Deregistration is saved too. */
  h_feed(s, obs_request(3, 'a', "obs", 1));
  h_advance(ctx, 0);
  CHECK_INT_EQ(records_in(obs_path), 1);
  stop_server(ctx);
  remove_dir();
}

TEST(persist_stop_keeps_files_and_sends_no_final_404) {
  make_dir();
  coap_context_t *ctx = server();
  CHECK_INT_EQ(startup(ctx, 10), 1);
  reg(h_server_session(40001), 1, 'k');
  h_nsent = 0;
  coap_persist_stop(ctx); /* writes what the pass left dirty */
  CHECK_INT_EQ(records_in(obs_path), 1);
  stop_server(ctx);
  CHECK_INT_EQ(h_nsent, 0);
  CHECK_INT_EQ(records_in(obs_path), 1);
  ctx = server();
  CHECK_INT_EQ(startup(ctx, 10), 1);
  CHECK_UINT_EQ(ctx->obs.count, 1);
  stop_server(ctx);
  remove_dir();
}

TEST(free_without_stop_ends_observers_and_empties_files) {
  make_dir();
  coap_context_t *ctx = server();
  CHECK_INT_EQ(startup(ctx, 1), 1);
  reg(h_server_session(40001), 1, 'k');
  change(ctx, obs_res);
  h_nsent = 0;
  stop_server(ctx);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(code_of(0), COAP_RESPONSE_CODE_NOT_FOUND);
  CHECK_INT_EQ(records_in(obs_path), 0);
  CHECK_INT_EQ(records_in(cnt_path), 0);
  remove_dir();
}

TEST(startup_with_unwritable_file_fails) {
  coap_context_t *ctx = server();
  CHECK_INT_EQ(coap_persist_startup(ctx, NULL, "/nonexistent-dir/obs", NULL, 1),
               0);
  CHECK_NULL(ctx->persist.obs_file);
  CHECK_INT_EQ(coap_persist_startup(NULL, NULL, NULL, NULL, 1), 0);
  stop_server(ctx);
}

/* ---- dynamic resources ----------------------------------------------------
 */

static coap_pdu_t *put_request(coap_mid_t mid, const char *path) {
  coap_pdu_t *p =
      h_request(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, mid, 'p', path);
  coap_add_data(p, 2, (const uint8_t *)"hi");
  return p;
}

TEST(dynamic_resource_survives_a_kill_and_is_observed_again) {
  make_dir();
  coap_context_t *ctx = server();
  CHECK_INT_EQ(startup(ctx, 1), 1);
  coap_session_t *s = h_server_session(40001);
  h_feed(s, put_request(1, "made"));
  CHECK_INT_EQ(code_of(h_nsent - 1), COAP_RESPONSE_CODE_CREATED);
  coap_resource_t *made =
      coap_get_resource_from_uri_path(ctx, coap_make_str_const("made"));
  CHECK_NOT_NULL(made);
  CHECK(made->is_dynamic);
  CHECK(!obs_res->is_dynamic);
  h_feed(s, obs_request(2, 'd', "made", 0));
  change(ctx, made);
  change(ctx, made);
  kill_server(ctx);
  CHECK_INT_EQ(records_in(dyn_path), 1);
  CHECK_INT_EQ(records_in(obs_path), 1);

  ctx = server();
  CHECK_INT_EQ(startup(ctx, 1), 1);
  CHECK_INT_EQ(unknown_calls, 1);
  CHECK_INT_EQ(unknown_send_rc, COAP_INVALID_MID); /* sent nowhere */
  CHECK_INT_EQ(h_nsent, 0);
  made = coap_get_resource_from_uri_path(ctx, coap_make_str_const("made"));
  CHECK_NOT_NULL(made);
  CHECK_UINT_EQ(made->obs.count, 1); /* the observer came back with it */
  CHECK_UINT_EQ(made->obs.seq, 2);   /* saved 2 with save_freq 1 */
  h_nsent = 0;
  change(ctx, made);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(token_of(0), 'd');
  CHECK_INT_EQ(observe_of(0), 3);
  /* Deleting it takes it out of the file. */
  coap_delete_resource(ctx, made);
  h_advance(ctx, 0);
  CHECK_INT_EQ(records_in(dyn_path), 0);
  stop_server(ctx);
  remove_dir();
}

/* ---- callbacks ---------------------------------------------------------- */

static struct {
  int added, deleted, tracked, dyn_added, res_deleted;
  coap_subscription_t *key;
  coap_address_t listen;
  coap_addr_tuple_t addrs;
  uint8_t raw[256];
  size_t raw_len;
  uint32_t last_num;
  char name[32];
  void *user_data;
} cb;

static int on_observe_added(coap_session_t *s, coap_subscription_t *key,
                            coap_proto_t proto, coap_address_t *listen,
                            coap_addr_tuple_t *addrs, coap_bin_const_t *raw,
                            coap_bin_const_t *oscore, void *user_data) {
  (void)s;
  cb.added++;
  cb.key = key;
  cb.listen = *listen;
  cb.addrs = *addrs;
  cb.raw_len = raw->length < sizeof(cb.raw) ? raw->length : 0;
  memcpy(cb.raw, raw->s, cb.raw_len);
  cb.user_data = user_data;
  return proto == COAP_PROTO_UDP && oscore == NULL;
}

static int on_observe_deleted(coap_session_t *s, coap_subscription_t *key,
                              void *user_data) {
  (void)s, (void)user_data;
  cb.deleted += key == cb.key;
  return 1;
}

static int on_track(coap_context_t *ctx, coap_str_const_t *name, uint32_t num,
                    void *user_data) {
  (void)ctx, (void)user_data;
  cb.tracked++;
  cb.last_num = num;
  snprintf(cb.name, sizeof(cb.name), "%.*s", (int)name->length, name->s);
  return 1;
}

static int on_dyn_added(coap_session_t *s, coap_str_const_t *name,
                        coap_bin_const_t *raw, void *user_data) {
  (void)s, (void)user_data;
  cb.dyn_added++;
  snprintf(cb.name, sizeof(cb.name), "%.*s", (int)name->length, name->s);
  cb.raw_len = raw->length < sizeof(cb.raw) ? raw->length : 0;
  memcpy(cb.raw, raw->s, cb.raw_len);
  return 1;
}

static int on_res_deleted(coap_context_t *ctx, coap_str_const_t *name,
                          void *user_data) {
  (void)ctx, (void)user_data;
  cb.res_deleted++;
  snprintf(cb.name, sizeof(cb.name), "%.*s", (int)name->length, name->s);
  return 1;
}

static int marker;

static void track_all(coap_context_t *ctx, uint32_t save_freq) {
  memset(&cb, 0, sizeof(cb));
  coap_persist_track_funcs(ctx, on_observe_added, on_observe_deleted, on_track,
                           on_dyn_added, on_res_deleted, save_freq, &marker);
}

TEST(callbacks_report_observers_numbers_and_resources) {
  coap_context_t *ctx = server();
  track_all(ctx, 3);
  coap_session_t *s = h_server_session(40001);
  coap_pdu_t *req = obs_request(1, 'c', "obs", 0);
  const uint8_t *wire;
  size_t wire_len;
  pt_pdu_wire(req, &wire, &wire_len);
  uint8_t expect[64];
  memcpy(expect, wire, wire_len);
  h_feed(s, req);
  CHECK_INT_EQ(cb.added, 1);
  CHECK(cb.user_data == &marker);
  coap_address_t peer = h_peer(40001), here = h_peer(5683);
  CHECK(coap_address_equals(&cb.listen, &here));
  CHECK(coap_address_equals(&cb.addrs.remote, &peer));
  CHECK_MEM_EQ(cb.raw, cb.raw_len, expect, wire_len);
  for (int i = 0; i < 7; i++)
    change(ctx, obs_res);
  CHECK_INT_EQ(cb.tracked, 2); /* 3 and 6 */
  CHECK_UINT_EQ(cb.last_num, 6);
  CHECK_STR_EQ(cb.name, "obs");
  /* Nothing is written anywhere without files. */
  CHECK(!pt_timer_armed(&ctx->persist.timer));
  h_feed(s, obs_request(2, 'c', "obs", 1));
  CHECK_INT_EQ(cb.deleted, 1);
  h_feed(s, put_request(3, "fresh"));
  CHECK_INT_EQ(cb.dyn_added, 1);
  CHECK_STR_EQ(cb.name, "fresh");
  coap_delete_resource(ctx, obs_res);
  CHECK_INT_EQ(cb.res_deleted, 1);
  CHECK_STR_EQ(cb.name, "obs");
  /* coap_persist_stop() turns every callback off. */
  coap_persist_stop(ctx);
  int before = cb.res_deleted;
  stop_server(ctx);
  CHECK_INT_EQ(cb.res_deleted, before);
}

TEST(observe_add_restores_what_the_callback_reported) {
  coap_context_t *ctx = server();
  track_all(ctx, 1);
  reg(h_server_session(40001), 1, 'r');
  change(ctx, obs_res);
  coap_address_t listen = cb.listen;
  coap_addr_tuple_t addrs = cb.addrs;
  uint8_t raw[256];
  size_t raw_len = cb.raw_len;
  memcpy(raw, cb.raw, raw_len);
  uint32_t num = cb.last_num;
  coap_persist_stop(ctx);
  stop_server(ctx);

  ctx = server();
  track_all(ctx, 1);
  coap_bin_const_t packet = {raw_len, raw};
  coap_persist_set_observe_num(obs_res, num + 1);
  coap_subscription_t *o = coap_persist_observe_add(
      ctx, COAP_PROTO_UDP, &listen, &addrs, &packet, NULL);
  CHECK_NOT_NULL(o);
  CHECK_INT_EQ(cb.added, 0); /* already recorded: not reported again */
  CHECK_UINT_EQ(obs_res->obs.count, 1);
  h_nsent = 0;
  change(ctx, obs_res);
  CHECK_INT_EQ(h_nsent, 1);
  CHECK_INT_EQ(token_of(0), 'r');
  CHECK_INT_EQ(observe_of(0), num + 2);
  /* Adding it again replaces it (same session and token). */
  CHECK_NOT_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &addrs,
                                          &packet, NULL));
  CHECK_UINT_EQ(obs_res->obs.count, 1);
  stop_server(ctx);
}

/* A registration for @path in wire form, with Observe @obs (-1: none). */
static size_t wire_request(uint8_t *out, coap_pdu_code_t code, const char *path,
                           int obs) {
  coap_pdu_t *p = h_request(COAP_MESSAGE_CON, code, 7, 't', path);
  if (obs >= 0) {
    uint8_t v = (uint8_t)obs;
    coap_add_option(p, COAP_OPTION_OBSERVE, obs ? 1 : 0, &v);
  }
  const uint8_t *w;
  size_t n;
  pt_pdu_wire(p, &w, &n);
  memcpy(out, w, n);
  coap_delete_pdu(p);
  return n;
}

TEST(observe_add_rejects_what_it_cannot_restore) {
  coap_context_t *ctx = server();
  coap_resource_t *plain = coap_resource_init(coap_make_str_const("plain"), 0);
  coap_register_handler(plain, COAP_REQUEST_GET, hnd_get);
  coap_add_resource(ctx, plain);
  coap_address_t listen = h_peer(5683), elsewhere = h_peer(5684);
  coap_addr_tuple_t addrs = {h_peer(40001), h_peer(5683)};
  uint8_t buf[64], bad[3] = {0x40, 1, 0};
  coap_bin_const_t ok = {wire_request(buf, COAP_REQUEST_CODE_GET, "obs", 0),
                         buf};
  coap_bin_const_t garbage = {sizeof(bad), bad};
  coap_bin_const_t osc = {1, bad};
  CHECK_NULL(coap_persist_observe_add(NULL, COAP_PROTO_UDP, &listen, &addrs,
                                      &ok, NULL));
  CHECK_NULL(coap_persist_observe_add(ctx, COAP_PROTO_TCP, &listen, &addrs, &ok,
                                      NULL));
  CHECK_NULL(
      coap_persist_observe_add(ctx, COAP_PROTO_UDP, NULL, &addrs, &ok, NULL));
  CHECK_NULL(
      coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, NULL, &ok, NULL));
  CHECK_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &addrs,
                                      NULL, NULL));
  CHECK_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &addrs, &ok,
                                      &osc)); /* no OSCORE here */
  CHECK_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &elsewhere, &addrs,
                                      &ok, NULL)); /* no such endpoint */
  CHECK_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &addrs,
                                      &garbage, NULL));
  struct {
    coap_pdu_code_t code;
    const char *path;
    int obs;
  } not_registrations[] = {{COAP_REQUEST_CODE_PUT, "obs", 0},
                           {COAP_REQUEST_CODE_GET, "obs", -1},
                           {COAP_REQUEST_CODE_GET, "obs", 1},
                           {COAP_REQUEST_CODE_GET, "nothing", 0},
                           {COAP_REQUEST_CODE_GET, "plain", 0}};
  for (size_t i = 0; i < 5; i++) {
    coap_bin_const_t p = {wire_request(buf, not_registrations[i].code,
                                       not_registrations[i].path,
                                       not_registrations[i].obs),
                          buf};
    CHECK_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &addrs,
                                        &p, NULL));
  }
  CHECK_UINT_EQ(ctx->obs.count, 0);
  /* and within the limits */
  coap_petrel_context_set_max_observers_total(ctx, 0);
  coap_petrel_context_set_max_observers_per_resource(ctx, 1);
  ok.length = wire_request(buf, COAP_REQUEST_CODE_GET, "obs", 0);
  CHECK_NOT_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &addrs,
                                          &ok, NULL));
  addrs.remote = h_peer(40002);
  CHECK_NULL(coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &addrs, &ok,
                                      NULL));
  CHECK_UINT_EQ(ctx->obs.count, 1);
  stop_server(ctx);
}

/* ---- malformed files ------------------------------------------------------
 */

/* Builds a file of @kind with @count in the header and @body as records;
 * @crc_ok 0 spoils the checksum. */
static size_t build(uint8_t *out, uint8_t kind, uint32_t count,
                    const uint8_t *body, size_t len, int crc_ok) {
  memcpy(out, "PTPS\1", 5);
  out[5] = kind;
  out[6] = out[7] = 0;
  out[8] = (uint8_t)(count >> 24), out[9] = (uint8_t)(count >> 16);
  out[10] = (uint8_t)(count >> 8), out[11] = (uint8_t)count;
  memcpy(out + 12, body, len);
  uint32_t c = pt_persist_crc32(out, 12 + len) ^ (crc_ok ? 0 : 1);
  out[12 + len] = (uint8_t)(c >> 24), out[13 + len] = (uint8_t)(c >> 16);
  out[14 + len] = (uint8_t)(c >> 8), out[15 + len] = (uint8_t)c;
  return 16 + len;
}

/* A valid observer record for /obs from 127.0.0.1:40001 in @out. */
static size_t obs_record(uint8_t *out) {
  static const uint8_t addrs[] = {4, 0x16, 0x33, 127, 0, 0, 1,  /* listen */
                                  4, 0x9c, 0x41, 127, 0, 0, 1,  /* remote */
                                  4, 0x16, 0x33, 127, 0, 0, 1}; /* local */
  size_t n = 0;
  out[n++] = COAP_PROTO_UDP;
  memcpy(out + n, addrs, sizeof(addrs));
  n += sizeof(addrs);
  uint8_t req[64];
  size_t len = wire_request(req, COAP_REQUEST_CODE_GET, "obs", 0);
  out[n++] = 0, out[n++] = 0, out[n++] = 0, out[n++] = (uint8_t)len;
  memcpy(out + n, req, len);
  return n + len;
}

/* Starts a server on the observer file @data and checks that it is
 * rejected whole: nothing restored, and the file replaced by a valid,
 * empty one. */
static int rejected(const uint8_t *data, size_t len) {
  make_dir();
  write_bytes(obs_path, data, len);
  coap_context_t *ctx = server();
  int ok = coap_persist_startup(ctx, NULL, obs_path, NULL, 1) == 1 &&
           ctx->obs.count == 0 && records_in(obs_path) == 0;
  stop_server(ctx);
  remove_dir();
  return ok;
}

TEST(valid_observer_file_is_accepted) {
  /* The baseline the malformed ones are made from. */
  uint8_t rec[128], file[256];
  size_t n = obs_record(rec);
  make_dir();
  write_bytes(obs_path, file, build(file, 'O', 1, rec, n, 1));
  coap_context_t *ctx = server();
  CHECK_INT_EQ(coap_persist_startup(ctx, NULL, obs_path, NULL, 1), 1);
  CHECK_UINT_EQ(ctx->obs.count, 1);
  stop_server(ctx);
  remove_dir();
}

TEST(malformed_file_truncated_in_a_record) {
  uint8_t rec[128], file[256];
  size_t n = obs_record(rec);
  /* Cut the record short, the checksum made for what is left. */
  CHECK(rejected(file, build(file, 'O', 1, rec, n - 3, 1)));
  /* and a file cut after its header */
  size_t full = build(file, 'O', 1, rec, n, 1);
  CHECK(rejected(file, 12));
  CHECK(rejected(file, full - 1));
  CHECK(rejected(file, 3));
}

TEST(malformed_file_bad_magic_version_kind_or_reserved) {
  uint8_t rec[128], file[256];
  size_t n = obs_record(rec);
  size_t len = build(file, 'O', 1, rec, n, 1);
  for (int field = 0; field < 4; field++) {
    uint8_t bad[256];
    memcpy(bad, file, len);
    size_t at = field == 0 ? 0 : field == 1 ? 4 : field == 2 ? 5 : 7;
    bad[at] ^= 0x10;
    /* the checksum is made good again: only the field is wrong */
    uint32_t c = pt_persist_crc32(bad, len - 4);
    bad[len - 4] = (uint8_t)(c >> 24), bad[len - 3] = (uint8_t)(c >> 16);
    bad[len - 2] = (uint8_t)(c >> 8), bad[len - 1] = (uint8_t)c;
    CHECK(rejected(bad, len));
  }
  CHECK(rejected(file, build(file, 'D', 1, rec, n, 1))); /* another kind */
}

TEST(malformed_file_bad_checksum) {
  uint8_t rec[128], file[256];
  size_t n = obs_record(rec);
  CHECK(rejected(file, build(file, 'O', 1, rec, n, 0)));
  /* a flipped byte inside the stored request */
  size_t len = build(file, 'O', 1, rec, n, 1);
  file[len - 6] ^= 1;
  CHECK(rejected(file, len));
}

TEST(malformed_file_count_disagrees_with_records) {
  uint8_t rec[256], file[512];
  size_t n = obs_record(rec);
  CHECK(rejected(file, build(file, 'O', 2, rec, n, 1))); /* fewer */
  memcpy(rec + n, rec, n);
  CHECK(rejected(file, build(file, 'O', 1, rec, 2 * n, 1))); /* more */
  CHECK(
      rejected(file, build(file, 'O', PT_PERSIST_MAX_RECORDS + 1, rec, n, 1)));
}

TEST(malformed_file_bad_protocol_or_address_family) {
  uint8_t rec[128], file[256];
  size_t n = obs_record(rec);
  rec[0] = COAP_PROTO_TCP;
  CHECK(rejected(file, build(file, 'O', 1, rec, n, 1)));
  n = obs_record(rec);
  rec[1 + 7] = 5; /* the remote address's family */
  CHECK(rejected(file, build(file, 'O', 1, rec, n, 1)));
}

TEST(malformed_file_packet_length_out_of_bounds) {
  uint8_t rec[128], file[256];
  size_t n = obs_record(rec);
  size_t at = 1 + 21; /* the packet's length */
  rec[at + 3] = 3;    /* shorter than a CoAP header */
  CHECK(rejected(file, build(file, 'O', 1, rec, n, 1)));
  n = obs_record(rec);
  rec[at] = 0x7f; /* far beyond the file, and beyond the bound */
  CHECK(rejected(file, build(file, 'O', 1, rec, n, 1)));
}

TEST(malformed_file_packet_that_does_not_parse) {
  uint8_t rec[128], file[256];
  size_t n = obs_record(rec);
  rec[1 + 21 + 4] = 0x80; /* CoAP version 2 */
  CHECK(rejected(file, build(file, 'O', 1, rec, n, 1)));
  n = obs_record(rec);
  rec[1 + 21 + 4] |= 0x0f; /* token length 15: reserved */
  CHECK(rejected(file, build(file, 'O', 1, rec, n, 1)));
}

TEST(malformed_file_too_large) {
  make_dir();
  FILE *f = fopen(obs_path, "wb");
  CHECK_NOT_NULL(f);
  CHECK_INT_EQ(ftruncate(fileno(f), (off_t)PT_PERSIST_MAX_FILE + 1), 0);
  fclose(f);
  coap_context_t *ctx = server();
  CHECK_INT_EQ(coap_persist_startup(ctx, NULL, obs_path, NULL, 1), 1);
  CHECK_UINT_EQ(ctx->obs.count, 0);
  CHECK_INT_EQ(records_in(obs_path), 0);
  stop_server(ctx);
  remove_dir();
}

TEST(malformed_file_is_a_directory) {
  make_dir();
  coap_context_t *ctx = server();
  /* cannot be read, nor replaced by a file */
  CHECK_INT_EQ(coap_persist_startup(ctx, NULL, dir, NULL, 1), 0);
  CHECK_UINT_EQ(ctx->obs.count, 0);
  stop_server(ctx);
  remove_dir();
}

TEST(empty_or_missing_file_holds_nothing) {
  make_dir();
  write_bytes(obs_path, (const uint8_t *)"", 0);
  coap_context_t *ctx = server();
  CHECK_INT_EQ(startup(ctx, 1), 1); /* dyn and cnt are missing */
  CHECK_UINT_EQ(ctx->obs.count, 0);
  CHECK_INT_EQ(records_in(obs_path), 0);
  CHECK_INT_EQ(records_in(dyn_path), 0);
  stop_server(ctx);
  remove_dir();
}

TEST(malformed_counter_file_value_or_name) {
  uint8_t file[64];
  uint8_t big[] = {0, 3, 'o', 'b', 's', 1, 0, 0, 0}; /* 2^24 */
  make_dir();
  write_bytes(cnt_path, file, build(file, 'N', 1, big, sizeof(big), 1));
  coap_context_t *ctx = server();
  CHECK_INT_EQ(coap_persist_startup(ctx, NULL, NULL, cnt_path, 1), 1);
  CHECK_UINT_EQ(obs_res->obs.seq, 0);
  stop_server(ctx);
  uint8_t long_name[] = {0x7f, 0xff, 'o', 'b', 's', 0, 0, 0, 1};
  write_bytes(cnt_path, file,
              build(file, 'N', 1, long_name, sizeof(long_name), 1));
  ctx = server();
  CHECK_INT_EQ(coap_persist_startup(ctx, NULL, NULL, cnt_path, 1), 1);
  CHECK_UINT_EQ(obs_res->obs.seq, 0);
  stop_server(ctx);
  /* the same record, well formed, is taken */
  uint8_t good[] = {0, 3, 'o', 'b', 's', 0, 0, 0, 8};
  write_bytes(cnt_path, file, build(file, 'N', 1, good, sizeof(good), 1));
  ctx = server();
  CHECK_INT_EQ(coap_persist_startup(ctx, NULL, NULL, cnt_path, 4), 1);
  CHECK_UINT_EQ(obs_res->obs.seq, 11);
  stop_server(ctx);
  remove_dir();
}

TEST(malformed_dynamic_file_runs_no_handler) {
  uint8_t rec[128], file[256], req[64];
  coap_pdu_t *p = put_request(1, "made");
  const uint8_t *w;
  size_t wl;
  pt_pdu_wire(p, &w, &wl);
  memcpy(req, w, wl);
  coap_delete_pdu(p);
  size_t n = 0;
  rec[n++] = COAP_PROTO_UDP;
  rec[n++] = 0, rec[n++] = 4;
  memcpy(rec + n, "made", 4), n += 4;
  rec[n++] = 0, rec[n++] = 0, rec[n++] = 0, rec[n++] = (uint8_t)wl;
  memcpy(rec + n, req, wl), n += wl;
  make_dir();
  write_bytes(dyn_path, file, build(file, 'D', 1, rec, n - 1, 1));
  coap_context_t *ctx = server();
  CHECK_INT_EQ(coap_persist_startup(ctx, dyn_path, NULL, NULL, 1), 1);
  CHECK_INT_EQ(unknown_calls, 0);
  stop_server(ctx);
  write_bytes(dyn_path, file, build(file, 'D', 1, rec, n, 1));
  ctx = server();
  CHECK_INT_EQ(coap_persist_startup(ctx, dyn_path, NULL, NULL, 1), 1);
  CHECK_INT_EQ(unknown_calls, 1);
  CHECK_NOT_NULL(
      coap_get_resource_from_uri_path(ctx, coap_make_str_const("made")));
  CHECK_INT_EQ(records_in(dyn_path), 1);
  stop_server(ctx);
  remove_dir();
}

int main(void) {
  RUN(observer_and_observe_number_survive_a_kill);
  RUN(observe_number_restored_above_every_value_sent);
  RUN(counter_file_written_every_save_freq_values);
  RUN(counter_file_keeps_names_up_to_the_longest_it_reads);
  RUN(files_written_at_end_of_pass_atomically);
  RUN(persist_stop_keeps_files_and_sends_no_final_404);
  RUN(free_without_stop_ends_observers_and_empties_files);
  RUN(startup_with_unwritable_file_fails);
  RUN(dynamic_resource_survives_a_kill_and_is_observed_again);
  RUN(callbacks_report_observers_numbers_and_resources);
  RUN(observe_add_restores_what_the_callback_reported);
  RUN(observe_add_rejects_what_it_cannot_restore);
  RUN(valid_observer_file_is_accepted);
  RUN(malformed_file_truncated_in_a_record);
  RUN(malformed_file_bad_magic_version_kind_or_reserved);
  RUN(malformed_file_bad_checksum);
  RUN(malformed_file_count_disagrees_with_records);
  RUN(malformed_file_bad_protocol_or_address_family);
  RUN(malformed_file_packet_length_out_of_bounds);
  RUN(malformed_file_packet_that_does_not_parse);
  RUN(malformed_file_too_large);
  RUN(malformed_file_is_a_directory);
  RUN(empty_or_missing_file_holds_nothing);
  RUN(malformed_counter_file_value_or_name);
  RUN(malformed_dynamic_file_runs_no_handler);
  return TEST_SUMMARY();
}
