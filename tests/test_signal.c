/*
 * test_signal.c -- RFC 8323 section 5 signaling: the bytes of each message
 * built, and what each received message (valid, malformed, out of order)
 * asks of the connection.
 */
#include "pdu.h"
#include "signal.h"

#include "test.h"

#define U8(s) ((const uint8_t *)(s))

/* Frames @p for TCP and parses it back into a fresh PDU (what the peer
 * sees); NULL on failure. */
static coap_pdu_t *over_tcp(coap_pdu_t *p) {
  const uint8_t *w;
  size_t n;
  coap_pdu_t *q = coap_pdu_init(0, 0, 0, 0);
  if (!q || !pt_pdu_wire_reliable(p, 0, &w, &n) ||
      pt_pdu_parse_tcp(q, w, n) != 0) {
    coap_delete_pdu(q);
    return NULL;
  }
  return q;
}

/* A received message with @code and the options given as (number, len,
 * value) triples, @count of them. */
static coap_pdu_t *msg(coap_pdu_code_t code, int count, ...);

#include <stdarg.h>
static coap_pdu_t *msg(coap_pdu_code_t code, int count, ...) {
  coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_CON, code, 0, 0);
  va_list ap;
  va_start(ap, count);
  for (int i = 0; i < count; i++) {
    unsigned num = va_arg(ap, unsigned);
    size_t len = va_arg(ap, size_t);
    const char *v = va_arg(ap, const char *);
    coap_add_option(p, (coap_option_num_t)num, len, U8(v));
  }
  va_end(ap);
  return p;
}

/* A connection state that has seen the peer's (empty) CSM. */
static void after_csm(pt_signal_state *st) {
  pt_signal_init(st);
  pt_signal_info info;
  coap_pdu_t *csm = msg(COAP_SIGNALING_CODE_CSM, 0);
  pt_signal_rx(st, csm, &info);
  coap_delete_pdu(csm);
}

TEST(csm_bytes) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  CHECK(pt_signal_build_csm(p, 1152, 1));
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire_reliable(p, 0, &w, &n));
  /* Len 4, 7.01; MMS (delta 2, 2 bytes 0x0480); BWT (delta 2, empty). */
  const uint8_t want[] = {0x40, 0xe1, 0x22, 0x04, 0x80, 0x20};
  CHECK_MEM_EQ(w, n, want, sizeof(want));
  CHECK(pt_signal_build_csm(p, 8 * 1024 * 1024, 0));
  CHECK(pt_pdu_wire_reliable(p, 0, &w, &n));
  const uint8_t big[] = {0x40, 0xe1, 0x23, 0x80, 0x00, 0x00};
  CHECK_MEM_EQ(w, n, big, sizeof(big));
  coap_delete_pdu(p);
}

TEST(base_values_before_csm) {
  pt_signal_state st;
  pt_signal_init(&st);
  CHECK_UINT_EQ(st.peer.max_message_size, 1152);
  CHECK_UINT_EQ(st.peer.block_wise, 0);
  CHECK_UINT_EQ(st.peer.max_token_length, 8);
  CHECK_UINT_EQ(st.csm_received, 0);
}

TEST(csm_received_sets_peer_limits) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  CHECK(pt_signal_build_csm(p, 65536, 1));
  coap_pdu_t *q = over_tcp(p);
  CHECK_NOT_NULL(q);
  pt_signal_state st;
  pt_signal_init(&st);
  pt_signal_info info;
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_CSM);
  CHECK_UINT_EQ(st.peer.max_message_size, 65536);
  CHECK_UINT_EQ(st.peer.block_wise, 1);
  CHECK_UINT_EQ(st.csm_received, 1);
  coap_delete_pdu(q);
  /* A later CSM changes only what it carries. */
  q = msg(COAP_SIGNALING_CODE_CSM, 1, 6u, (size_t)2, "\x01\x00");
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_CSM);
  CHECK_UINT_EQ(st.peer.max_token_length, 256);
  CHECK_UINT_EQ(st.peer.max_message_size, 65536);
  coap_delete_pdu(q);
  coap_delete_pdu(p);
}

TEST(csm_required_first) {
  pt_signal_state st;
  pt_signal_init(&st);
  pt_signal_info info;
  coap_pdu_t *get = msg(COAP_REQUEST_CODE_GET, 1, 11u, (size_t)1, "a");
  CHECK_INT_EQ(pt_signal_rx(&st, get, &info), PT_SIGNAL_ABORT);
  CHECK_UINT_EQ(info.bad_csm_option, 0);
  CHECK_STR_EQ(info.diagnostic, "CSM expected first");
  coap_pdu_t *ping = msg(COAP_SIGNALING_CODE_PING, 0);
  CHECK_INT_EQ(pt_signal_rx(&st, ping, &info), PT_SIGNAL_ABORT);
  coap_delete_pdu(ping);
  /* Once the CSM is in, requests pass to the message layer. */
  after_csm(&st);
  CHECK_INT_EQ(pt_signal_rx(&st, get, &info), PT_SIGNAL_PASS);
  coap_delete_pdu(get);
}

TEST(empty_message_ignored_even_before_csm) {
  pt_signal_state st;
  pt_signal_init(&st);
  pt_signal_info info;
  coap_pdu_t *e = msg(COAP_EMPTY_CODE, 0);
  CHECK_INT_EQ(pt_signal_rx(&st, e, &info), PT_SIGNAL_IGNORE);
  CHECK_UINT_EQ(st.csm_received, 0);
  coap_delete_pdu(e);
}

TEST(bad_csm_unknown_critical_option) {
  pt_signal_state st;
  pt_signal_init(&st);
  pt_signal_info info;
  coap_pdu_t *q =
      msg(COAP_SIGNALING_CODE_CSM, 2, 2u, (size_t)1, "\x40", 9u, (size_t)0, "");
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_ABORT);
  CHECK_UINT_EQ(info.bad_csm_option, 9);
  CHECK_STR_EQ(info.diagnostic, "unknown critical CSM option");
  CHECK_UINT_EQ(st.csm_received, 0);
  coap_delete_pdu(q);
  /* The Abort we send names it. */
  coap_pdu_t *a = coap_pdu_init(0, 0, 0, 0);
  CHECK(pt_signal_build_abort(a, info.bad_csm_option, info.diagnostic));
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire_reliable(a, 0, &w, &n));
  /* Len 30 (13 + 17): Bad-CSM-Option (delta 2, 1 byte: 9), the marker
   * and 27 bytes of diagnostic; 7.05 is 0xe5. */
  CHECK_UINT_EQ(n, 3 + 2 + 1 + 27);
  CHECK_UINT_EQ(w[0], 0xd0);
  CHECK_UINT_EQ(w[1], 30 - 13);
  CHECK_UINT_EQ(w[2], 0xe5);
  CHECK_UINT_EQ(w[3], 0x21);
  CHECK_UINT_EQ(w[4], 9);
  CHECK_UINT_EQ(w[5], 0xff);
  coap_delete_pdu(a);
}

TEST(bad_csm_unknown_elective_ignored) {
  pt_signal_state st;
  pt_signal_init(&st);
  pt_signal_info info;
  coap_pdu_t *q = msg(COAP_SIGNALING_CODE_CSM, 2, 2u, (size_t)2, "\x10\x00", 8u,
                      (size_t)1, "x");
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_CSM);
  CHECK_UINT_EQ(st.peer.max_message_size, 4096);
  coap_delete_pdu(q);
}

/* RFC 7252 5.4.3 via RFC 8323 5.2: an elective option with a length out
 * of range is ignored, keeping the value it would have set. */
TEST(bad_csm_option_lengths_ignored) {
  pt_signal_state st;
  pt_signal_init(&st);
  pt_signal_info info;
  coap_pdu_t *q = msg(COAP_SIGNALING_CODE_CSM, 2, 2u, (size_t)5,
                      "\x01\x00\x00\x00\x00", 4u, (size_t)1, "x");
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_CSM);
  CHECK_UINT_EQ(st.peer.max_message_size, 1152);
  CHECK_UINT_EQ(st.peer.block_wise, 0);
  coap_delete_pdu(q);
}

TEST(csm_extended_token_length_clamped) {
  pt_signal_state st;
  pt_signal_init(&st);
  pt_signal_info info;
  coap_pdu_t *q = msg(COAP_SIGNALING_CODE_CSM, 1, 6u, (size_t)1, "\x02");
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_CSM);
  CHECK_UINT_EQ(st.peer.max_token_length, 8);
  coap_delete_pdu(q);
  q = msg(COAP_SIGNALING_CODE_CSM, 1, 6u, (size_t)3, "\xff\xff\xff");
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_CSM);
  CHECK_UINT_EQ(st.peer.max_token_length, COAP_TOKEN_EXT_MAX);
  coap_delete_pdu(q);
}

TEST(ping_pong_with_custody) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  CHECK(pt_signal_build_ping(p, 1, 2, U8("\x12\x34")));
  coap_pdu_t *ping = over_tcp(p);
  CHECK_NOT_NULL(ping);
  pt_signal_state st;
  after_csm(&st);
  pt_signal_info info;
  CHECK_INT_EQ(pt_signal_rx(&st, ping, &info), PT_SIGNAL_PING);
  CHECK_UINT_EQ(info.custody, 1);
  coap_pdu_t *pong = coap_pdu_init(0, 0, 0, 0);
  CHECK(pt_signal_build_pong(pong, ping));
  const uint8_t *w;
  size_t n;
  CHECK(pt_pdu_wire_reliable(pong, 0, &w, &n));
  const uint8_t want[] = {0x12, 0xe3, 0x12, 0x34, 0x20};
  CHECK_MEM_EQ(w, n, want, sizeof(want));
  coap_pdu_t *got = over_tcp(pong);
  CHECK_INT_EQ(pt_signal_rx(&st, got, &info), PT_SIGNAL_PONG);
  CHECK_UINT_EQ(info.custody, 1);
  /* Without Custody, the Pong has none. */
  CHECK(pt_signal_build_ping(p, 0, 0, NULL));
  CHECK(pt_signal_build_pong(pong, p));
  CHECK(pt_pdu_wire_reliable(pong, 0, &w, &n));
  const uint8_t plain[] = {0x00, 0xe3};
  CHECK_MEM_EQ(w, n, plain, sizeof(plain));
  coap_delete_pdu(got);
  coap_delete_pdu(pong);
  coap_delete_pdu(ping);
  coap_delete_pdu(p);
}

TEST(ping_unknown_critical_option_aborts) {
  pt_signal_state st;
  after_csm(&st);
  pt_signal_info info;
  coap_pdu_t *q = msg(COAP_SIGNALING_CODE_PING, 1, 5u, (size_t)0, "");
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_ABORT);
  CHECK_UINT_EQ(info.bad_csm_option, 0); /* only a CSM's is named */
  coap_delete_pdu(q);
}

TEST(release_with_address_and_hold_off) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  CHECK(pt_signal_build_release(p, "coap+tcp://[::1]:5699", 30));
  CHECK(!pt_signal_build_release(p, "", 0));
  CHECK(!pt_signal_build_release(p, NULL, 0x1000000));
  CHECK(pt_signal_build_release(p, "coap+tcp://[::1]:5699", 30));
  coap_add_option(p, COAP_SIGNALING_OPTION_ALTERNATIVE_ADDRESS, 3, U8("two"));
  coap_pdu_t *q = over_tcp(p);
  CHECK_NOT_NULL(q);
  pt_signal_state st;
  after_csm(&st);
  pt_signal_info info;
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_RELEASE);
  CHECK_MEM_EQ(info.alt_address, info.alt_address_len, "coap+tcp://[::1]:5699",
               21);
  CHECK_UINT_EQ(info.hold_off, 30);
  coap_delete_pdu(q);
  coap_delete_pdu(p);
}

TEST(abort_received) {
  coap_pdu_t *p = coap_pdu_init(0, 0, 0, 0);
  CHECK(pt_signal_build_abort(p, 4, NULL));
  coap_pdu_t *q = over_tcp(p);
  pt_signal_state st;
  after_csm(&st);
  pt_signal_info info;
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_ABORTED);
  CHECK_UINT_EQ(info.bad_csm_option, 4);
  coap_delete_pdu(q);
  /* An abort with an unknown critical option is still an abort. */
  q = msg(COAP_SIGNALING_CODE_ABORT, 1, 3u, (size_t)0, "");
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_ABORTED);
  coap_delete_pdu(q);
  coap_delete_pdu(p);
}

TEST(unassigned_signal_code_ignored) {
  pt_signal_state st;
  after_csm(&st);
  pt_signal_info info;
  coap_pdu_t *q = msg(COAP_SIGNALING_CODE(706), 0);
  CHECK_INT_EQ(pt_signal_rx(&st, q, &info), PT_SIGNAL_IGNORE);
  coap_delete_pdu(q);
}

int main(void) {
  RUN(csm_bytes);
  RUN(base_values_before_csm);
  RUN(csm_received_sets_peer_limits);
  RUN(csm_required_first);
  RUN(empty_message_ignored_even_before_csm);
  RUN(bad_csm_unknown_critical_option);
  RUN(bad_csm_unknown_elective_ignored);
  RUN(bad_csm_option_lengths_ignored);
  RUN(csm_extended_token_length_clamped);
  RUN(ping_pong_with_custody);
  RUN(ping_unknown_critical_option_aborts);
  RUN(release_with_address_and_hold_off);
  RUN(abort_received);
  RUN(unassigned_signal_code_ignored);
  return TEST_SUMMARY();
}
