/*
 * test_stream.c -- RFC 8323 message reassembly from a byte stream: every
 * extended-length boundary, a split at every byte offset, truncated and
 * malformed frames, and the size cap.
 */
#include "pdu.h"
#include "stream.h"

#include "test.h"

/* Writes into @out a TCP frame with a @tkl-byte token and @body bytes of
 * Options+Payload (a payload), returns its size. */
static size_t make_frame(uint8_t *out, size_t tkl, size_t body, uint8_t seed) {
  coap_pdu_t *p =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, 0, 0);
  uint8_t tok[300];
  memset(tok, seed, sizeof(tok));
  coap_add_token(p, tkl, tok);
  if (body) {
    uint8_t *d = coap_add_data_after(p, body - 1);
    for (size_t i = 0; d && i + 1 < body; i++)
      d[i] = (uint8_t)(seed + i);
  }
  const uint8_t *w;
  size_t n = 0;
  if (pt_pdu_wire_reliable(p, 0, &w, &n))
    memcpy(out, w, n);
  coap_delete_pdu(p);
  return n;
}

/* Feeds @len bytes at @data to @s as the pieces [0, cut) and [cut, len)
 * and checks that exactly the frames @frames (concatenated, sizes in
 * @sizes) come out. Returns 1 if so. */
static int feed_split(pt_stream *s, const uint8_t *data, size_t len, size_t cut,
                      const size_t *sizes, size_t count) {
  size_t got = 0, off = 0;
  size_t bounds[2][2] = {{0, cut}, {cut, len}};
  for (int piece = 0; piece < 2; piece++) {
    const uint8_t *in = data + bounds[piece][0];
    size_t in_len = bounds[piece][1] - bounds[piece][0];
    const uint8_t *msg;
    size_t msg_len;
    int rc;
    while ((rc = pt_stream_next(s, &in, &in_len, &msg, &msg_len)) == 1) {
      if (got == count || msg_len != sizes[got] ||
          memcmp(msg, data + off, msg_len) != 0)
        return 0;
      off += msg_len;
      got++;
    }
    if (rc != 0 || in_len != 0)
      return 0;
  }
  return got == count && pt_stream_pending(s) == 0;
}

TEST(whole_message_is_not_copied) {
  uint8_t f[64];
  size_t n = make_frame(f, 2, 5, 1);
  pt_stream s;
  pt_stream_init(&s, 1152);
  const uint8_t *in = f, *msg = NULL;
  size_t in_len = n, msg_len = 0;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 1);
  CHECK(msg == f);
  CHECK_UINT_EQ(msg_len, n);
  CHECK_UINT_EQ(in_len, 0);
  CHECK_NULL(s.buf);
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 0);
  pt_stream_free(&s);
}

TEST(many_messages_in_one_piece) {
  uint8_t buf[1024];
  size_t sizes[5], len = 0;
  for (int i = 0; i < 5; i++)
    len += sizes[i] = make_frame(buf + len, (size_t)i, (size_t)i * 20, 9);
  pt_stream s;
  pt_stream_init(&s, 1152);
  CHECK(feed_split(&s, buf, len, len, sizes, 5));
  pt_stream_free(&s);
}

/* The messages at every extended-length boundary (RFC 8323 3.2: 12/13,
 * 268/269, 65804/65805), with long tokens too, each cut at every byte
 * offset of its header and body. */
TEST(split_at_every_offset_at_each_boundary) {
  static const size_t bodies[] = {0, 1, 12, 13, 268, 269, 65804, 65805, 70000};
  static const size_t tkls[] = {0, 8, 13, 269};
  static uint8_t buf[3 * 80000];
  for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
    for (size_t t = 0; t < sizeof(tkls) / sizeof(tkls[0]); t++) {
      size_t sizes[3], len = 0;
      for (int i = 0; i < 3; i++)
        len += sizes[i] =
            make_frame(buf + len, tkls[t], bodies[b], (uint8_t)(b + i));
      pt_stream s;
      pt_stream_init(&s, 200000);
      /* Every offset for the small ones; for the big ones every offset
       * in the headers and around the message boundaries. */
      for (size_t cut = 0; cut <= len; cut++) {
        if (len > 4096 && cut > 600 && cut + 600 < len &&
            (cut + 600 < sizes[0] || cut > sizes[0] + 600))
          continue;
        if (!feed_split(&s, buf, len, cut, sizes, 3)) {
          fprintf(stderr, "body %zu tkl %zu cut %zu\n", bodies[b], tkls[t],
                  cut);
          CHECK(0);
        }
      }
      pt_stream_free(&s);
    }
  }
}

TEST(byte_by_byte) {
  uint8_t buf[2048];
  size_t sizes[3], len = 0;
  len += sizes[0] = make_frame(buf + len, 0, 300, 1);
  len += sizes[1] = make_frame(buf + len, 4, 0, 2);
  len += sizes[2] = make_frame(buf + len, 13, 13, 3);
  pt_stream s;
  pt_stream_init(&s, 1152);
  size_t got = 0, off = 0;
  for (size_t i = 0; i < len; i++) {
    const uint8_t *in = buf + i, *msg;
    size_t in_len = 1, msg_len;
    int rc = pt_stream_next(&s, &in, &in_len, &msg, &msg_len);
    CHECK(rc == 0 || rc == 1);
    if (rc == 1) {
      CHECK_UINT_EQ(msg_len, sizes[got]);
      CHECK_MEM_EQ(msg, msg_len, buf + off, sizes[got]);
      CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 0);
      off += msg_len;
      got++;
    }
  }
  CHECK_UINT_EQ(got, 3);
  pt_stream_free(&s);
}

TEST(truncated_frame_waits) {
  uint8_t f[512];
  size_t n = make_frame(f, 3, 300, 5);
  pt_stream s;
  pt_stream_init(&s, 1152);
  const uint8_t *in = f, *msg;
  size_t in_len = n - 1, msg_len;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 0);
  CHECK_UINT_EQ(pt_stream_pending(&s), n - 1);
  CHECK_UINT_EQ(in_len, 0);
  /* A truncated header waits too. */
  pt_stream t;
  pt_stream_init(&t, 1152);
  in = f;
  in_len = 2; /* 0xe3 needs 4 header bytes before the token */
  CHECK_INT_EQ(pt_stream_next(&t, &in, &in_len, &msg, &msg_len), 0);
  CHECK_UINT_EQ(pt_stream_pending(&t), 2);
  pt_stream_free(&t);
  in = f + n - 1;
  in_len = 1;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 1);
  CHECK_MEM_EQ(msg, msg_len, f, n);
  pt_stream_free(&s);
}

/* The cap is on the whole message: exactly max_size is taken, one more
 * byte is refused from the header alone, before any body is buffered. */
TEST(oversize_refused_at_header) {
  static uint8_t f[2000];
  size_t n = make_frame(f, 2, 1000, 7);
  pt_stream s;
  pt_stream_init(&s, n);
  const uint8_t *in = f, *msg;
  size_t in_len = n, msg_len;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 1);
  pt_stream_free(&s);
  pt_stream_init(&s, n - 1);
  in = f;
  in_len = n;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len),
               PT_STREAM_ERR_TOO_BIG);
  CHECK_UINT_EQ(s.refused, n);
  CHECK_NULL(s.buf);
  pt_stream_free(&s);
  /* The same when the header arrives a byte at a time. */
  pt_stream_init(&s, n - 1);
  int rc = 0;
  for (size_t i = 0; i < 5 && rc == 0; i++) {
    in = f + i;
    in_len = 1;
    rc = pt_stream_next(&s, &in, &in_len, &msg, &msg_len);
  }
  CHECK_INT_EQ(rc, PT_STREAM_ERR_TOO_BIG);
  CHECK(s.cap <= PT_TCP_HDR_MAX);
  pt_stream_free(&s);
}

/* A 32-bit Extended Length of 0xffffffff announces 4 GiB: refused without
 * allocating it. */
TEST(oversize_32bit_length_no_allocation) {
  const uint8_t f[] = {0xf0, 0xff, 0xff, 0xff, 0xff, 0x45};
  pt_stream s;
  pt_stream_init(&s, 8u * 1024 * 1024);
  const uint8_t *in = f, *msg;
  size_t in_len = sizeof(f), msg_len;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len),
               PT_STREAM_ERR_TOO_BIG);
  CHECK_UINT_EQ(s.refused, 6ull + 65805ull + 0xffffffffull);
  pt_stream_free(&s);
}

TEST(malformed_tkl15_in_stream) {
  const uint8_t f[] = {0x0f, 0x01};
  pt_stream s;
  pt_stream_init(&s, 1152);
  const uint8_t *in = f, *msg;
  size_t in_len = 2, msg_len;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len),
               PT_STREAM_ERR_MALFORMED);
  pt_stream_free(&s);
  /* after a partial message, too */
  uint8_t g[16];
  size_t n = make_frame(g, 1, 3, 1);
  g[n] = 0x1f;
  pt_stream_init(&s, 1152);
  in = g + 1;
  in_len = n - 1;
  const uint8_t *first = g;
  size_t first_len = 1;
  CHECK_INT_EQ(pt_stream_next(&s, &first, &first_len, &msg, &msg_len), 0);
  in_len = n; /* the rest, then the bad header */
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 1);
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len),
               PT_STREAM_ERR_MALFORMED);
  pt_stream_free(&s);
}

/* After one big split message, an idle stream gives its buffer back. */
TEST(big_buffer_released_between_messages) {
  static uint8_t f[70000];
  size_t n = make_frame(f, 0, 60000, 3);
  pt_stream s;
  pt_stream_init(&s, 65536);
  const uint8_t *in = f, *msg;
  size_t in_len = 10, msg_len;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 0);
  in_len = n - 10;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 1);
  CHECK_UINT_EQ(msg_len, n);
  CHECK(s.cap >= n);
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 0);
  CHECK_NULL(s.buf);
  CHECK_UINT_EQ(s.cap, 0);
  pt_stream_free(&s);
}

/* A header announcing a big message costs nothing until its bytes come. */
TEST(announced_size_not_allocated_ahead) {
  const uint8_t h[] = {0xf0, 0x00, 0x0f, 0x00, 0x00, 0x45};
  pt_stream s;
  pt_stream_init(&s, 8u * 1024 * 1024);
  const uint8_t *in = h, *msg;
  size_t in_len = sizeof(h), msg_len;
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 0);
  CHECK(s.cap <= PT_TCP_HDR_MAX);
  const uint8_t some[100] = {0};
  in = some;
  in_len = sizeof(some);
  CHECK_INT_EQ(pt_stream_next(&s, &in, &in_len, &msg, &msg_len), 0);
  CHECK(s.cap <= 2 * (sizeof(h) + sizeof(some)));
  pt_stream_free(&s);
}

int main(void) {
  RUN(whole_message_is_not_copied);
  RUN(many_messages_in_one_piece);
  RUN(split_at_every_offset_at_each_boundary);
  RUN(byte_by_byte);
  RUN(truncated_frame_waits);
  RUN(oversize_refused_at_header);
  RUN(oversize_32bit_length_no_allocation);
  RUN(malformed_tkl15_in_stream);
  RUN(big_buffer_released_between_messages);
  RUN(announced_size_not_allocated_ahead);
  return TEST_SUMMARY();
}
