/*
 * coap_wire.h -- the plugtest client's own CoAP message codec (RFC 7252
 * section 3), independent of the library under test: it builds requests
 * byte by byte and parses whatever the server put on the wire, so that a
 * bug in Petrel's encoder or parser cannot hide itself.
 */
#ifndef PETREL_PLUGTEST_COAP_WIRE_H
#define PETREL_PLUGTEST_COAP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W_CON = 0, W_NON = 1, W_ACK = 2, W_RST = 3 };

#define W_CODE(c, dd) ((uint8_t)(((c) << 5) | (dd)))
enum {
  W_GET = 1,
  W_POST = 2,
  W_PUT = 3,
  W_DELETE = 4,
};

enum {
  W_OPT_IF_MATCH = 1,
  W_OPT_ETAG = 4,
  W_OPT_IF_NONE_MATCH = 5,
  W_OPT_OBSERVE = 6,
  W_OPT_LOCATION_PATH = 8,
  W_OPT_URI_PATH = 11,
  W_OPT_CONTENT_FORMAT = 12,
  W_OPT_MAX_AGE = 14,
  W_OPT_URI_QUERY = 15,
  W_OPT_ACCEPT = 17,
  W_OPT_LOCATION_QUERY = 20,
  W_OPT_BLOCK2 = 23,
  W_OPT_BLOCK1 = 27,
  W_OPT_SIZE2 = 28,
  W_OPT_SIZE1 = 60,
};

#define W_MAX_MSG 1600
#define W_MAX_OPTS 40

/* ---- building ------------------------------------------------------------ */

typedef struct w_req {
  uint8_t buf[W_MAX_MSG];
  size_t len;
  unsigned last_opt; /* options must be added in ascending order */
} w_req;

static inline void w_put(w_req *r, const void *p, size_t n) {
  if (n == 0)
    return;
  if (r->len + n > sizeof(r->buf)) {
    fprintf(stderr, "coap_wire: request too large\n");
    abort();
  }
  memcpy(r->buf + r->len, p, n);
  r->len += n;
}

/* Header and token: Ver 1, @type, TKL, @code, @mid. */
static inline void w_start(w_req *r, int type, uint8_t code, uint16_t mid,
                           const uint8_t *token, size_t tkl) {
  uint8_t h[4] = {(uint8_t)(0x40 | (type << 4) | tkl), code,
                  (uint8_t)(mid >> 8), (uint8_t)mid};
  r->len = 0;
  r->last_opt = 0;
  w_put(r, h, 4);
  w_put(r, token, tkl);
}

/* The 4-bit nibble and extension bytes for an option delta or length. */
static inline size_t w_ext(unsigned v, uint8_t *nib, uint8_t ext[2]) {
  if (v < 13) {
    *nib = (uint8_t)v;
    return 0;
  }
  if (v < 269) {
    *nib = 13;
    ext[0] = (uint8_t)(v - 13);
    return 1;
  }
  *nib = 14;
  ext[0] = (uint8_t)((v - 269) >> 8);
  ext[1] = (uint8_t)(v - 269);
  return 2;
}

static inline void w_opt(w_req *r, unsigned num, const void *val, size_t len) {
  if (num < r->last_opt) {
    fprintf(stderr, "coap_wire: option %u after %u\n", num, r->last_opt);
    abort();
  }
  uint8_t dn, ln, de[2], le[2];
  size_t dx = w_ext(num - r->last_opt, &dn, de);
  size_t lx = w_ext((unsigned)len, &ln, le);
  uint8_t first = (uint8_t)(dn << 4 | ln);
  w_put(r, &first, 1);
  w_put(r, de, dx);
  w_put(r, le, lx);
  w_put(r, val, len);
  r->last_opt = num;
}

static inline void w_opt_str(w_req *r, unsigned num, const char *s) {
  w_opt(r, num, s, strlen(s));
}

/* An unsigned option in the fewest bytes (RFC 7252 3.2). */
static inline void w_opt_uint(w_req *r, unsigned num, unsigned v) {
  uint8_t b[4];
  size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8)
    if (n || (v >> shift) & 0xff)
      b[n++] = (uint8_t)(v >> shift);
  w_opt(r, num, b, n);
}

/* One Uri-Path option per "/"-separated segment of @path. */
static inline void w_path(w_req *r, const char *path) {
  while (*path) {
    size_t n = strcspn(path, "/");
    w_opt(r, W_OPT_URI_PATH, path, n);
    path += n;
    if (*path == '/')
      path++;
  }
}

static inline void w_block(w_req *r, unsigned num, unsigned opt_num, int m,
                           unsigned szx) {
  w_opt_uint(r, opt_num, num << 4 | (m ? 8u : 0u) | szx);
}

static inline void w_payload(w_req *r, const void *p, size_t n) {
  if (!n)
    return;
  uint8_t marker = 0xff;
  w_put(r, &marker, 1);
  w_put(r, p, n);
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct w_opt_t {
  unsigned num;
  const uint8_t *val;
  size_t len;
} w_opt_t;

typedef struct w_msg {
  uint8_t raw[W_MAX_MSG];
  size_t raw_len;
  int type;
  uint8_t code;
  uint16_t mid;
  uint8_t token[8];
  size_t tkl;
  w_opt_t opts[W_MAX_OPTS];
  int n_opts;
  const uint8_t *payload;
  size_t payload_len;
} w_msg;

/* Reads one option's delta or length extension; -1 when malformed. */
static inline long w_read_ext(unsigned nib, const uint8_t **p,
                              const uint8_t *end) {
  if (nib < 13)
    return nib;
  if (nib == 13) {
    if (*p + 1 > end)
      return -1;
    return 13 + *(*p)++;
  }
  if (nib == 14) {
    if (*p + 2 > end)
      return -1;
    long v = 269 + ((*p)[0] << 8 | (*p)[1]);
    *p += 2;
    return v;
  }
  return -1;
}

/* Parses m->raw[0..raw_len); 0 on success, -1 when malformed. */
static inline int w_parse(w_msg *m) {
  const uint8_t *p = m->raw, *end = m->raw + m->raw_len;
  if (m->raw_len < 4 || (p[0] >> 6) != 1)
    return -1;
  m->type = (p[0] >> 4) & 3;
  m->tkl = p[0] & 0xf;
  m->code = p[1];
  m->mid = (uint16_t)(p[2] << 8 | p[3]);
  p += 4;
  if (m->tkl > 8 || p + m->tkl > end)
    return -1;
  memcpy(m->token, p, m->tkl);
  p += m->tkl;
  m->n_opts = 0;
  m->payload = NULL;
  m->payload_len = 0;
  unsigned num = 0;
  while (p < end) {
    if (*p == 0xff) {
      if (p + 1 == end)
        return -1; /* a marker with no payload */
      m->payload = p + 1;
      m->payload_len = (size_t)(end - p - 1);
      return 0;
    }
    uint8_t first = *p++;
    long delta = w_read_ext(first >> 4, &p, end);
    long len = w_read_ext(first & 0xf, &p, end);
    if (delta < 0 || len < 0 || p + len > end || m->n_opts == W_MAX_OPTS)
      return -1;
    num += (unsigned)delta;
    m->opts[m->n_opts++] = (w_opt_t){num, p, (size_t)len};
    p += len;
  }
  return 0;
}

/* The @index-th option @num of @m, or NULL. */
static inline const w_opt_t *w_find(const w_msg *m, unsigned num, int index) {
  for (int i = 0; i < m->n_opts; i++)
    if (m->opts[i].num == num && index-- == 0)
      return &m->opts[i];
  return NULL;
}

static inline int w_count(const w_msg *m, unsigned num) {
  int n = 0;
  for (int i = 0; i < m->n_opts; i++)
    n += m->opts[i].num == num;
  return n;
}

/* The value of unsigned option @num, or @dflt when absent. */
static inline unsigned w_uint(const w_msg *m, unsigned num, unsigned dflt) {
  const w_opt_t *o = w_find(m, num, 0);
  if (!o)
    return dflt;
  unsigned v = 0;
  for (size_t i = 0; i < o->len; i++)
    v = v << 8 | o->val[i];
  return v;
}

/* 1 if option @o holds exactly the string @s. */
static inline int w_opt_is(const w_opt_t *o, const char *s) {
  return o && o->len == strlen(s) && memcmp(o->val, s, o->len) == 0;
}

#endif /* PETREL_PLUGTEST_COAP_WIRE_H */
