/*
 * persist.c -- coap_persist(3): observers, Observe numbers and dynamically
 * created resources kept across a server restart, through the
 * application's callbacks or Petrel's own files. See persist.h for when
 * files are written.
 *
 * File format (version 1), all integers big-endian:
 *
 *    0   4  magic "PTPS"
 *    4   1  version, 1
 *    5   1  kind: 'D' dynamic resources, 'O' observers, 'N' Observe numbers
 *    6   2  zero
 *    8   4  number of records
 *   12   .  the records, back to back
 *  end-4 4  CRC-32 (the zlib/Ethernet one) of every byte before it
 *
 *   'D' record: proto (1) | path length (2) | path | packet length (4) | packet
 *   'N' record: path length (2) | path | Observe number (4, below 2^24)
 *   'O' record: proto (1) | listen address | remote address | local address
 *               | packet length (4) | packet
 *   address:    family (1: 4 or 6) | port (2) | 4 or 16 bytes
 *               | for 6, scope id (4)
 *
 * "packet" is a request as it was on the wire (UDP, RFC 7252 3), which
 * must parse. A file is written to "<name>.tmp" and renamed over <name>,
 * so a reader sees the old file or the new one, never a part (there is no
 * fsync: the files survive the process being killed, not a power cut).
 * A file is read whole, within PT_PERSIST_MAX_FILE, and checked whole
 * before anything in it is used: a file that is truncated, too long,
 * of another version or kind, fails its checksum, or holds one record
 * out of bounds is ignored with a warning, and replaced at startup by
 * the state the server then has.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist.h"

#include "context.h"
#include "observe.h"
#include "pdu.h"
#include "resource.h"
#include "session.h"
#include "uri.h"

#define MAGIC "PTPS"
#define VERSION 1
#define HEADER_LEN 12
#define TRAILER_LEN 4
#define SEQ_LIMIT 0x1000000u /* Observe numbers are 24 bits (RFC 7641 4.4) */

/* ---- CRC-32 --------------------------------------------------------------
 */

/* Bitwise, reflected polynomial 0xEDB88320: the files are small and
 * written at most once a pass, so a table is not worth its 1 KiB. */
uint32_t pt_persist_crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

/* ---- writing -------------------------------------------------------------
 */

typedef struct wbuf {
  uint8_t *p;
  size_t len, cap;
  int err; /* out of memory: the buffer is not to be used */
} wbuf;

static void put(wbuf *b, const void *data, size_t n) {
  if (b->err)
    return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
      cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
      b->err = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  if (n)
    memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void put_u8(wbuf *b, unsigned v) {
  uint8_t x = (uint8_t)v;
  put(b, &x, 1);
}

static void put_u16(wbuf *b, unsigned v) {
  uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  put(b, x, 2);
}

static void put_u32(wbuf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                  (uint8_t)v};
  put(b, x, 4);
}

static void put_name(wbuf *b, const coap_str_const_t *name) {
  put_u16(b, (unsigned)name->length);
  put(b, name->s, name->length);
}

static void put_packet(wbuf *b, const uint8_t *data, size_t len) {
  put_u32(b, (uint32_t)len);
  put(b, data, len);
}

static void put_addr(wbuf *b, const coap_address_t *a) {
  if (a->addr.sa.sa_family == AF_INET) {
    put_u8(b, 4);
    put_u16(b, ntohs(a->addr.sin.sin_port));
    put(b, &a->addr.sin.sin_addr, 4);
    return;
  }
  put_u8(b, 6); /* the only other family a UDP endpoint has */
  put_u16(b, ntohs(a->addr.sin6.sin6_port));
  put(b, &a->addr.sin6.sin6_addr, 16);
  put_u32(b, a->addr.sin6.sin6_scope_id);
}

/* The wire form of @req. A PDU writes its header into the room kept for
 * it in front of the token (pdu.h), which changes nothing it holds. */
static int wire_of(const coap_pdu_t *req, const uint8_t **data, size_t *len) {
  return pt_pdu_wire((coap_pdu_t *)req, data, len);
}

/* Writes @body (the records) with header and checksum to @path through
 * "<path>.tmp" and a rename. Returns 0, or -1 (logged). */
static int write_file(const char *path, uint8_t kind, uint32_t count,
                      const wbuf *body) {
  wbuf f = {0};
  put(&f, MAGIC, 4);
  put_u8(&f, VERSION);
  put_u8(&f, kind);
  put_u16(&f, 0);
  put_u32(&f, count);
  put(&f, body->p, body->len);
  put_u32(&f, f.err ? 0 : pt_persist_crc32(f.p, f.len));
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 5);
  int rc = -1;
  if (f.err || body->err || !tmp)
    goto out;
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    goto out;
  size_t off = 0;
  while (off < f.len) {
    ssize_t n = write(fd, f.p + off, f.len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  if (close(fd) == 0 && off == f.len && rename(tmp, path) == 0)
    rc = 0;
  else
    unlink(tmp);
out:
  if (rc < 0)
    coap_log_warn("persist: cannot write '%s': %s\n", path,
                  f.err || body->err || !tmp ? "out of memory"
                                             : strerror(errno));
  free(tmp);
  free(f.p);
  return rc;
}

/* ---- the records of each file, from the live state ----------------------- */

/* A resource's record in the dynamic-resources file: the request that
 * created it. 1 if written, 0 if it has none. */
static int put_dyn(const coap_resource_t *r, wbuf *b) {
  const coap_bin_const_t *req = r->persist.create_req;
  if (!req)
    return 0;
  put_u8(b, COAP_PROTO_UDP);
  put_name(b, r->uri_path);
  put_packet(b, req->s, req->length);
  return 1;
}

/* A resource's record in the Observe-numbers file: its saved number. 1 if
 * written, 0 if it has none. */
static int put_cnt(const coap_resource_t *r, wbuf *b) {
  if (!r->persist.has_saved_seq)
    return 0;
  put_name(b, r->uri_path);
  put_u32(b, r->persist.saved_seq);
  return 1;
}

/* The records @record writes for the resources whose names fit; their
 * count.
 * O(resources of the context) per write; the files are written at most
 * once a pass, and only in a pass that changed them. */
static uint32_t records_of_resources(coap_context_t *ctx, wbuf *b,
                                     int (*record)(const coap_resource_t *r,
                                                   wbuf *b)) {
  uint32_t n = 0;
  pt_hashmap_iter it;
  pt_hash_node *node;
  pt_hashmap_iter_init(&it, &ctx->resources);
  while ((node = pt_hashmap_iter_next(&it)) != NULL) {
    coap_resource_t *r = PT_CONTAINER_OF(node, coap_resource_t, by_path);
    if (r->uri_path->length <= PT_PERSIST_MAX_NAME)
      n += (uint32_t)record(r, b);
  }
  return n;
}

static uint32_t records_dyn(coap_context_t *ctx, wbuf *b) {
  return records_of_resources(ctx, b, put_dyn);
}

static uint32_t records_cnt(coap_context_t *ctx, wbuf *b) {
  return records_of_resources(ctx, b, put_cnt);
}

typedef struct obs_writer {
  wbuf *b;
  uint32_t n;
} obs_writer;

static void record_obs(void *arg, coap_session_t *s, const coap_pdu_t *req) {
  obs_writer *w = arg;
  const uint8_t *data;
  size_t len;
  if (!s->endpoint || s->proto != COAP_PROTO_UDP ||
      !wire_of(req, &data, &len) || len > PT_PERSIST_MAX_PACKET)
    return;
  put_u8(w->b, COAP_PROTO_UDP);
  put_addr(w->b, &s->endpoint->bind_addr);
  put_addr(w->b, &s->remote);
  put_addr(w->b, &s->local);
  put_packet(w->b, data, len);
  w->n++;
}

/* O(observers of the context) per write. */
static uint32_t records_obs(coap_context_t *ctx, wbuf *b) {
  obs_writer w = {b, 0};
  pt_observe_each(ctx, record_obs, &w);
  return w.n;
}

/* Rewrites the files of @which (PT_PERSIST_*) that are set. Returns 0, or
 * -1 if one could not be written. */
static int save(coap_context_t *ctx, unsigned which) {
  pt_persist_ctx *p = &ctx->persist;
  struct {
    unsigned bit;
    const char *path;
    uint8_t kind;
    uint32_t (*records)(coap_context_t *, wbuf *);
  } files[] = {{PT_PERSIST_DYN, p->dyn_file, 'D', records_dyn},
               {PT_PERSIST_OBS, p->obs_file, 'O', records_obs},
               {PT_PERSIST_CNT, p->cnt_file, 'N', records_cnt}};
  int rc = 0;
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    if (!(which & files[i].bit) || !files[i].path)
      continue;
    wbuf b = {0};
    uint32_t n = files[i].records(ctx, &b);
    if (write_file(files[i].path, files[i].kind, n, &b) < 0)
      rc = -1;
    free(b.p);
  }
  p->dirty &= ~which;
  return rc;
}

static void save_fire(coap_context_t *ctx, pt_timer *t, coap_tick_t now) {
  (void)t, (void)now;
  save(ctx, ctx->persist.dirty);
}

/* Marks files of @which dirty; they are written at the end of the pass. */
static void mark(coap_context_t *ctx, unsigned which) {
  pt_persist_ctx *p = &ctx->persist;
  if (p->loading)
    return;
  p->dirty |= which;
  if (!pt_timer_armed(&p->timer) && pt_timer_arm(ctx, &p->timer, pt_now()) < 0)
    save(ctx, p->dirty); /* no memory for the timer: write now */
}

/* ---- reading ------------------------------------------------------------- */

typedef struct rd {
  const uint8_t *p;
  size_t left;
  int err; /* a read went past the end or a bound */
} rd;

static const uint8_t *take(rd *r, size_t n) {
  if (r->err || n > r->left) {
    r->err = 1;
    return NULL;
  }
  const uint8_t *at = r->p;
  r->p += n;
  r->left -= n;
  return at;
}

static unsigned get_u8(rd *r) {
  const uint8_t *x = take(r, 1);
  return x ? x[0] : 0;
}

static unsigned get_u16(rd *r) {
  const uint8_t *x = take(r, 2);
  return x ? (unsigned)x[0] << 8 | x[1] : 0;
}

static uint32_t get_u32(rd *r) {
  const uint8_t *x = take(r, 4);
  return x ? (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 |
                 x[3]
           : 0;
}

static void get_proto(rd *r) {
  if (get_u8(r) != COAP_PROTO_UDP)
    r->err = 1;
}

static coap_str_const_t get_name(rd *r) {
  coap_str_const_t s = {0, NULL};
  size_t n = get_u16(r);
  if (n > PT_PERSIST_MAX_NAME) {
    r->err = 1;
    return s;
  }
  s.s = take(r, n);
  s.length = s.s ? n : 0;
  return s;
}

/* A stored request: within its bound, and it parses (into @pdu). */
static coap_bin_const_t get_packet(rd *r, coap_pdu_t *pdu) {
  coap_bin_const_t b = {0, NULL};
  uint32_t n = get_u32(r);
  if (n < 4 || n > PT_PERSIST_MAX_PACKET) {
    r->err = 1;
    return b;
  }
  b.s = take(r, n);
  b.length = b.s ? n : 0;
  if (b.s && pt_pdu_parse_udp(pdu, b.s, b.length) < 0)
    r->err = 1;
  return b;
}

static void get_addr(rd *r, coap_address_t *a) {
  coap_address_init(a);
  unsigned family = get_u8(r);
  unsigned port = get_u16(r);
  if (family == 4) {
    const uint8_t *x = take(r, 4);
    a->addr.sin.sin_family = AF_INET;
    a->addr.sin.sin_port = htons((uint16_t)port);
    if (x)
      memcpy(&a->addr.sin.sin_addr, x, 4);
    a->size = sizeof(a->addr.sin);
  } else if (family == 6) {
    const uint8_t *x = take(r, 16);
    a->addr.sin6.sin6_family = AF_INET6;
    a->addr.sin6.sin6_port = htons((uint16_t)port);
    if (x)
      memcpy(&a->addr.sin6.sin6_addr, x, 16);
    a->addr.sin6.sin6_scope_id = get_u32(r);
    a->size = sizeof(a->addr.sin6);
  } else {
    r->err = 1;
  }
}

/* One record of each kind, read from @r; @apply 0 only checks it. */
typedef void (*record_fn)(coap_context_t *ctx, rd *r, coap_pdu_t *pdu,
                          int apply);

/*
 * Reads @path whole (bounded), checks header, checksum and every record
 * with @fn, then applies them. A missing or empty file holds nothing.
 * Returns the number of records applied, or -1 if the file was rejected.
 */
static long load(coap_context_t *ctx, const char *path, uint8_t kind,
                 record_fn fn) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : -1;
  struct stat st;
  uint8_t *buf = NULL;
  size_t len = 0;
  long rc = -1;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
      (uint64_t)st.st_size > PT_PERSIST_MAX_FILE)
    goto out;
  len = (size_t)st.st_size;
  if (len == 0) {
    rc = 0;
    goto out;
  }
  buf = malloc(len);
  size_t got = 0;
  while (buf && got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  if (!buf || got != len || len < HEADER_LEN + TRAILER_LEN ||
      memcmp(buf, MAGIC, 4) != 0 || buf[4] != VERSION || buf[5] != kind ||
      buf[6] || buf[7])
    goto out;
  rd crc = {buf + len - TRAILER_LEN, TRAILER_LEN, 0};
  if (get_u32(&crc) != pt_persist_crc32(buf, len - TRAILER_LEN))
    goto out;
  rd hdr = {buf + 8, 4, 0};
  uint32_t count = get_u32(&hdr);
  if (count > PT_PERSIST_MAX_RECORDS)
    goto out;
  coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  if (!pdu)
    goto out;
  for (int apply = 0; apply < 2; apply++) {
    rd r = {buf + HEADER_LEN, len - HEADER_LEN - TRAILER_LEN, 0};
    for (uint32_t i = 0; i < count && !r.err; i++)
      fn(ctx, &r, pdu, apply);
    if (r.err || r.left) /* a bad record, or bytes after the last */
      break;
    rc = apply ? (long)count : rc;
  }
  coap_delete_pdu(pdu);
out:
  close(fd);
  free(buf);
  if (rc < 0)
    coap_log_warn("persist: '%s' is not a valid %c file: ignored\n", path,
                  kind);
  return rc;
}

/* The resource a stored request names, or NULL. */
static coap_resource_t *resource_of(coap_context_t *ctx,
                                    const coap_pdu_t *req) {
  size_t n = pt_uri_path_of_options(req, NULL);
  uint8_t *key = malloc(n ? n : 1);
  if (!key)
    return NULL;
  pt_uri_path_of_options(req, key);
  coap_resource_t *r = pt_resource_find(ctx, key, n);
  free(key);
  return r;
}

/* ---- dynamic resources ----------------------------------------------------
 */

/* Runs the unknown-resource handler on @req again, on a session of its
 * own that sends nothing; its answer is dropped. */
static void recreate(coap_context_t *ctx, const coap_pdu_t *req) {
  coap_resource_t *u = ctx->unknown_resource;
  coap_pdu_code_t code = coap_pdu_get_code(req);
  if (!u || !pt_resource_has_handler(u, code))
    return;
  coap_session_t *s = pt_session_detached(ctx);
  coap_pdu_t *resp = coap_pdu_init(COAP_MESSAGE_ACK, 0, 0, 0);
  coap_string_t *query = coap_get_query(req);
  if (s && resp)
    pt_resource_call(u, code, s, req, query, resp);
  coap_delete_string(query);
  coap_delete_pdu(resp);
  coap_session_release(s);
}

static void record_dyn(coap_context_t *ctx, rd *r, coap_pdu_t *pdu, int apply) {
  get_proto(r);
  coap_str_const_t name = get_name(r);
  get_packet(r, pdu);
  if (!apply || r->err ||
      pt_resource_find(ctx, name.s ? name.s : (const uint8_t *)"", name.length))
    return;
  coap_log_debug("persist: re-creating '%.*s'\n", (int)name.length,
                 name.s ? (const char *)name.s : "");
  recreate(ctx, pdu);
}

/* ---- Observe numbers ---------------------------------------------------- */

static void record_cnt(coap_context_t *ctx, rd *r, coap_pdu_t *pdu, int apply) {
  (void)pdu;
  coap_str_const_t name = get_name(r);
  uint32_t saved = get_u32(r);
  if (saved >= SEQ_LIMIT)
    r->err = 1;
  if (!apply || r->err)
    return;
  coap_resource_t *res =
      pt_resource_find(ctx, name.s ? name.s : (const uint8_t *)"", name.length);
  if (!res)
    return;
  /* Values are saved when they are a multiple of save_freq, so up to
   * save_freq - 1 more may have gone out since: start above all of them. */
  uint32_t f = ctx->persist.save_freq;
  uint64_t next = ((uint64_t)saved / f + 1) * f;
  coap_persist_set_observe_num(res, (uint32_t)(next - 1));
  res->persist.saved_seq = saved;
  res->persist.has_saved_seq = 1;
}

/* ---- observers ------------------------------------------------------------
 */

static void record_obs_load(coap_context_t *ctx, rd *r, coap_pdu_t *pdu,
                            int apply) {
  coap_address_t listen;
  coap_addr_tuple_t addrs;
  get_proto(r);
  get_addr(r, &listen);
  get_addr(r, &addrs.remote);
  get_addr(r, &addrs.local);
  coap_bin_const_t packet = get_packet(r, pdu);
  if (!apply || r->err)
    return;
  if (!coap_persist_observe_add(ctx, COAP_PROTO_UDP, &listen, &addrs, &packet,
                                NULL))
    coap_log_debug("persist: a saved observer could not be restored\n");
}

/* ---- hooks --------------------------------------------------------------- */

void pt_persist_init(coap_context_t *ctx) {
  pt_timer_init(&ctx->persist.timer, save_fire);
  ctx->persist.save_freq = 1;
}

static void forget_files(pt_persist_ctx *p) {
  free(p->dyn_file);
  free(p->obs_file);
  free(p->cnt_file);
  p->dyn_file = p->obs_file = p->cnt_file = NULL;
}

void pt_persist_free(coap_context_t *ctx) {
  pt_persist_ctx *p = &ctx->persist;
  pt_timer_cancel(ctx, &p->timer);
  if (p->dirty)
    save(ctx, p->dirty);
  forget_files(p);
}

/* 1 if observers are tracked (a callback or a file). */
static int tracking_observers(const pt_persist_ctx *p) {
  return !p->loading && (p->observe_added || p->observe_deleted || p->obs_file);
}

void pt_persist_observer_added(coap_session_t *s, coap_subscription_t *key,
                               const coap_pdu_t *req) {
  coap_context_t *ctx = s->context;
  pt_persist_ctx *p = &ctx->persist;
  if (!tracking_observers(p))
    return;
  const uint8_t *data;
  size_t len;
  if (p->observe_added && s->endpoint && wire_of(req, &data, &len)) {
    coap_address_t listen = s->endpoint->bind_addr;
    coap_addr_tuple_t addrs = {s->remote, s->local};
    coap_bin_const_t raw = {len, data};
    p->observe_added(s, key, s->proto, &listen, &addrs, &raw, NULL,
                     p->user_data);
  }
  if (p->obs_file)
    mark(ctx, PT_PERSIST_OBS);
}

void pt_persist_observer_removed(coap_session_t *s, coap_subscription_t *key) {
  coap_context_t *ctx = s->context;
  pt_persist_ctx *p = &ctx->persist;
  if (!tracking_observers(p))
    return;
  if (p->observe_deleted)
    p->observe_deleted(s, key, p->user_data);
  if (p->obs_file)
    mark(ctx, PT_PERSIST_OBS);
}

void pt_persist_observe_number(coap_resource_t *r) {
  coap_context_t *ctx = r->context;
  pt_persist_ctx *p = &ctx->persist;
  uint32_t seq = r->obs.seq;
  int multiple = seq % p->save_freq == 0;
  if (p->loading)
    return;
  if (p->track_observe_value && multiple)
    p->track_observe_value(ctx, r->uri_path, seq, p->user_data);
  /* The file also learns the first value of a resource it holds nothing
   * for, rounded down to a multiple: else values sent before the first
   * multiple would be sent again after a restart. */
  if (p->cnt_file && (multiple || !r->persist.has_saved_seq)) {
    r->persist.saved_seq = seq - seq % p->save_freq;
    r->persist.has_saved_seq = 1;
    mark(ctx, PT_PERSIST_CNT);
  }
}

void pt_persist_unknown_begin(coap_context_t *ctx, coap_session_t *s,
                              const coap_pdu_t *req, coap_session_t **old_s,
                              const coap_pdu_t **old_req) {
  *old_s = ctx->persist.creating_session;
  *old_req = ctx->persist.creating_req;
  ctx->persist.creating_session = s;
  ctx->persist.creating_req = req;
}

void pt_persist_unknown_end(coap_context_t *ctx, coap_session_t *old_s,
                            const coap_pdu_t *old_req) {
  ctx->persist.creating_session = old_s;
  ctx->persist.creating_req = old_req;
}

void pt_persist_resource_added(coap_resource_t *r) {
  coap_context_t *ctx = r->context;
  pt_persist_ctx *p = &ctx->persist;
  const uint8_t *data;
  size_t len;
  if (!p->creating_req || r->is_unknown || r->is_proxy)
    return;
  r->is_dynamic = 1;
  if ((!p->dyn_file && !p->dyn_resource_added) ||
      !wire_of(p->creating_req, &data, &len))
    return;
  coap_delete_bin_const(r->persist.create_req);
  r->persist.create_req = coap_new_bin_const(data, len);
  if (p->loading)
    return;
  coap_bin_const_t raw = {len, data};
  if (p->dyn_resource_added)
    p->dyn_resource_added(p->creating_session, r->uri_path, &raw, p->user_data);
  if (p->dyn_file)
    mark(ctx, PT_PERSIST_DYN);
}

void pt_persist_resource_freed(coap_resource_t *r) {
  coap_context_t *ctx = r->context;
  if (ctx && !r->is_unknown && !r->is_proxy) {
    pt_persist_ctx *p = &ctx->persist;
    if (!p->loading && p->resource_deleted)
      p->resource_deleted(ctx, r->uri_path, p->user_data);
    if (r->persist.create_req && p->dyn_file)
      mark(ctx, PT_PERSIST_DYN);
    if (r->persist.has_saved_seq && p->cnt_file)
      mark(ctx, PT_PERSIST_CNT);
  }
  coap_delete_bin_const(r->persist.create_req);
  r->persist.create_req = NULL;
}

/* ---- the API ---------------------------------------------------------------
 */

void coap_persist_track_funcs(coap_context_t *context,
                              coap_observe_added_t observe_added,
                              coap_observe_deleted_t observe_deleted,
                              coap_track_observe_value_t track_observe_value,
                              coap_dyn_resource_added_t dyn_resource_added,
                              coap_resource_deleted_t resource_deleted,
                              uint32_t save_freq, void *user_data) {
  if (!context)
    return;
  pt_persist_ctx *p = &context->persist;
  p->observe_added = observe_added;
  p->observe_deleted = observe_deleted;
  p->track_observe_value = track_observe_value;
  p->dyn_resource_added = dyn_resource_added;
  p->resource_deleted = resource_deleted;
  p->save_freq = save_freq ? save_freq : 1;
  p->user_data = user_data;
}

static char *dup_path(const char *path, int *failed) {
  char *copy = path ? strdup(path) : NULL;
  if (path && !copy)
    *failed = 1;
  return copy;
}

int coap_persist_startup(coap_context_t *context,
                         const char *dyn_resource_save_file,
                         const char *observe_save_file,
                         const char *obs_cnt_save_file, uint32_t save_freq) {
  if (!context)
    return 0;
  pt_persist_ctx *p = &context->persist;
  int failed = 0;
  char *dyn = dup_path(dyn_resource_save_file, &failed);
  char *obs = dup_path(observe_save_file, &failed);
  char *cnt = dup_path(obs_cnt_save_file, &failed);
  if (failed) {
    free(dyn), free(obs), free(cnt);
    return 0;
  }
  forget_files(p);
  p->dyn_file = dyn, p->obs_file = obs, p->cnt_file = cnt;
  /* A file takes over from the callbacks of its kind. */
  if (dyn)
    p->dyn_resource_added = NULL;
  if (dyn || cnt)
    p->resource_deleted = NULL;
  if (cnt) {
    p->track_observe_value = NULL;
    p->save_freq = save_freq ? save_freq : 1;
  }
  if (obs)
    p->observe_added = NULL, p->observe_deleted = NULL;
  /* Resources first: the other two files name them. */
  p->loading = 1;
  if (dyn)
    load(context, dyn, 'D', record_dyn);
  if (cnt)
    load(context, cnt, 'N', record_cnt);
  if (obs)
    load(context, obs, 'O', record_obs_load);
  p->loading = 0;
  /* Each file now says what the server has, in this version's format; a
   * file that cannot be written is reported here rather than later. */
  if (save(context, PT_PERSIST_DYN | PT_PERSIST_OBS | PT_PERSIST_CNT) < 0) {
    forget_files(p);
    return 0;
  }
  return 1;
}

void coap_persist_stop(coap_context_t *context) {
  if (!context)
    return;
  pt_persist_ctx *p = &context->persist;
  pt_timer_cancel(context, &p->timer);
  if (p->dirty)
    save(context, p->dirty);
  forget_files(p);
  coap_persist_track_funcs(context, NULL, NULL, NULL, NULL, NULL, 0, NULL);
  context->obs.no_final = 1; /* freeing the context sends no 4.04 */
}

static coap_endpoint_t *endpoint_at(coap_context_t *ctx,
                                    const coap_address_t *addr) {
  /* A context has a handful of endpoints. */
  for (coap_endpoint_t *ep = ctx->endpoints; ep; ep = ep->next)
    if (ep->proto == COAP_PROTO_UDP &&
        coap_address_equals(&ep->bind_addr, addr))
      return ep;
  return NULL;
}

coap_subscription_t *coap_persist_observe_add(
    coap_context_t *context, coap_proto_t e_proto,
    const coap_address_t *e_listen_addr, const coap_addr_tuple_t *s_addr_info,
    const coap_bin_const_t *raw_packet, const coap_bin_const_t *oscore_info) {
  if (!context || e_proto != COAP_PROTO_UDP || !e_listen_addr || !s_addr_info ||
      !raw_packet || !raw_packet->s || oscore_info)
    return NULL; /* UDP only, and no OSCORE in this build */
  coap_endpoint_t *ep = endpoint_at(context, e_listen_addr);
  coap_pdu_t *req = coap_pdu_init(COAP_MESSAGE_CON, 0, 0, 0);
  coap_subscription_t *o = NULL;
  coap_resource_t *r;
  coap_tick_t now = pt_now();
  if (!ep || !req ||
      pt_pdu_parse_udp(req, raw_packet->s, raw_packet->length) < 0 ||
      !pt_observe_is_registration(req) || !(r = resource_of(context, req)) ||
      !r->observable)
    goto out;
  coap_session_t *s = pt_session_for_peer(ep, &s_addr_info->remote,
                                          &s_addr_info->local, -1, now);
  if (s)
    o = pt_observe_restore(s, r, req, now);
out:
  coap_delete_pdu(req);
  return o;
}
