/*
 * fuzz_stream.c -- the RFC 8323 stream parsers: the TCP reassembler
 * (stream.c), the WebSocket frame decoder on both sides (ws.c) and the
 * server's upgrade check (ws_http.c), with every message they yield parsed
 * as a CoAP message, framed again and run through the signaling rules.
 *
 * The first input byte picks the parser and the second how the rest is
 * cut into pieces; the same bytes are then fed whole, and both runs must
 * yield the same messages and end the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "coap3/coap_pdu.h"
#include "pdu.h"
#include "signal.h"
#include "stream.h"
#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct digest {
  uint64_t count, bytes, sum;
  int end; /* how the run ended: 0, or an error/close code */
} digest;

static void note(digest *d, const uint8_t *m, size_t len) {
  d->count++;
  d->bytes += len;
  for (size_t i = 0; i < len; i++)
    d->sum = d->sum * 31 + m[i];
}

/* Parses @m as a CoAP message over @proto; a parsed one must frame to the
 * same bytes. */
static void check_message(coap_proto_t proto, const uint8_t *m, size_t len,
                          pt_signal_state *sig) {
  coap_pdu_t *pdu = coap_pdu_init(0, 0, 0, 0);
  if (!pdu)
    return;
  if (coap_pdu_parse(proto, m, len, pdu)) {
    const uint8_t *w;
    size_t n;
    if (!pt_pdu_wire_proto(pdu, proto, &w, &n) || n != len ||
        memcmp(w, m, n) != 0)
      abort();
    pt_signal_info info;
    pt_signal_action a = pt_signal_rx(sig, pdu, &info);
    if (a == PT_SIGNAL_PING) {
      coap_pdu_t *pong = coap_pdu_init(0, 0, 0, 0);
      if (pong && !pt_signal_build_pong(pong, pdu))
        abort();
      coap_delete_pdu(pong);
    }
  }
  coap_delete_pdu(pdu);
}

/* Piece sizes from @seed: 1 to 64 bytes, or everything when @seed is 0. */
static size_t piece(uint32_t *seed, size_t left) {
  if (!*seed)
    return left;
  *seed = *seed * 1103515245u + 12345u;
  size_t n = 1 + (*seed >> 16) % 64;
  return n < left ? n : left;
}

static digest run_tcp(const uint8_t *data, size_t size, uint32_t seed) {
  digest d = {0};
  pt_stream s;
  pt_signal_state sig;
  pt_stream_init(&s, 4096);
  pt_signal_init(&sig);
  size_t off = 0;
  while (off < size && !d.end) {
    size_t n = piece(&seed, size - off);
    const uint8_t *in = data + off, *m;
    size_t in_len = n, m_len;
    int rc;
    while ((rc = pt_stream_next(&s, &in, &in_len, &m, &m_len)) == 1) {
      note(&d, m, m_len);
      check_message(COAP_PROTO_TCP, m, m_len, &sig);
    }
    if (rc < 0)
      d.end = rc;
    else if (in_len)
      abort(); /* 0 means the piece was used up */
    off += n;
  }
  if (!d.end && pt_stream_pending(&s) > s.max_size)
    abort();
  pt_stream_free(&s);
  return d;
}

static digest run_ws(const uint8_t *data, size_t size, uint32_t seed,
                     int server) {
  digest d = {0};
  pt_ws_decoder w;
  pt_signal_state sig;
  pt_ws_decoder_init(&w, server, 4096);
  pt_signal_init(&sig);
  size_t off = 0;
  while (off < size && !d.end) {
    size_t n = piece(&seed, size - off);
    const uint8_t *in = data + off;
    size_t in_len = n;
    pt_ws_event ev;
    while (!d.end && pt_ws_next(&w, &in, &in_len, &ev) == 1) {
      note(&d, ev.data, ev.len);
      if (ev.kind == PT_WS_EV_MESSAGE)
        check_message(COAP_PROTO_WS, ev.data, ev.len, &sig);
      else if (ev.kind == PT_WS_EV_CLOSE || ev.kind == PT_WS_EV_ERROR)
        d.end = 10000 + ev.status;
      else if (ev.len > PT_WS_CONTROL_MAX)
        abort();
    }
    off += n;
  }
  if (w.msg_len > w.max_message)
    abort();
  pt_ws_decoder_free(&w);
  return d;
}

/* The upgrade check, fed a growing prefix as a server sees it arrive. */
static digest run_upgrade(const uint8_t *data, size_t size, uint32_t seed) {
  digest d = {0};
  char resp[512];
  size_t resp_len, have = 0;
  while (have < size && !d.end) {
    have += piece(&seed, size - have);
    int rc = pt_ws_server_request(data, have, resp, sizeof(resp), &resp_len);
    if (rc > 0 && (size_t)rc > have)
      abort();
    if (rc != 0) {
      d.end = rc;
      note(&d, (const uint8_t *)resp, resp_len);
      if (!resp_len)
        abort(); /* every verdict has an answer */
    }
  }
  return d;
}

static digest run(int mode, const uint8_t *data, size_t size, uint32_t seed) {
  switch (mode) {
  case 0:
    return run_tcp(data, size, seed);
  case 1:
    return run_ws(data, size, seed, 1);
  case 2:
    return run_ws(data, size, seed, 0);
  default:
    return run_upgrade(data, size, seed);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  int mode = data[0] & 3;
  uint32_t seed = data[1] | 1u;
  digest cut = run(mode, data + 2, size - 2, seed);
  digest whole = run(mode, data + 2, size - 2, 0);
  /* The upgrade answers the first complete head, wherever it is cut. */
  if (cut.count != whole.count || cut.bytes != whole.bytes ||
      cut.sum != whole.sum || cut.end != whole.end)
    abort();
  return 0;
}
