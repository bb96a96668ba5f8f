/*
 * fuzz_tcp.c -- one TCP connection each way (tests/tcp_harness.h): bytes
 * from the peer of a server session and of a client session, through the
 * stream reassembler, the signaling rules and the message layer, with
 * time moving by a fake clock, so that CSMs, Pings with Custody, Release,
 * Abort, keepalive failures, BERT transfers, observers and the idle
 * timeout meet in any order. The write-queue cap is small so that it is
 * reached. At the end the context is freed (ASan/LSan report any leak or
 * double free).
 *
 * Input: records, each one opcode byte then its arguments:
 *   0 LEN DATA   LEN bytes from the server session's peer
 *   1 LEN DATA   LEN bytes from the client session's peer
 *   2 T          the clock moves T x 100 ms (T = 255: 10 minutes)
 *   3 K          the client sends request K (GET /obs with Observe, GET
 *                /big, PUT /up with a 5000-byte body, GET /wait)
 *   4            the server's held separate response is freed
 *   5            both peers read what was sent to them
 * Unknown opcodes are skipped; a short record ends the input.
 */
#include <stddef.h>
#include <stdint.h>

#include "../tests/tcp_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t big[5000];
static coap_session_t *srv;

static void hnd_big(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data_large_response(r, s, req, resp, q, 0, -1, 0, sizeof(big), big,
                               NULL, NULL);
}

static void hnd_up(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                   const coap_string_t *q, coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

/* The server session is freed by the library (closed, idle): forget it. */
static int on_event_fuzz(coap_session_t *s, coap_event_t ev) {
  if (ev == COAP_EVENT_SERVER_SESSION_DEL && s == srv) {
    srv = NULL;
    held_async = NULL; /* its asyncs go with it */
  }
  return 0;
}

static void client_request(coap_session_t *c, uint8_t k) {
  static const char *const paths[] = {"obs", "big", "up", "wait"};
  const char *path = paths[k % 4];
  coap_pdu_t *p = coap_new_pdu(
      COAP_MESSAGE_CON,
      k % 4 == 2 ? COAP_REQUEST_CODE_PUT : COAP_REQUEST_CODE_GET, c);
  if (!p)
    return;
  uint8_t tok[8];
  size_t tlen = 0;
  coap_session_new_token(c, &tlen, tok);
  coap_add_token(p, tlen, tok);
  if (k % 4 == 0)
    coap_add_option(p, COAP_OPTION_OBSERVE, 0, NULL);
  coap_add_option(p, COAP_OPTION_URI_PATH, strlen(path), (const uint8_t *)path);
  if (k % 4 == 2 &&
      !coap_add_data_large_request(c, p, sizeof(big), big, NULL, NULL)) {
    coap_delete_pdu(p);
    return;
  }
  coap_send(c, p);
}

static void read_all(int fd) {
  uint8_t buf[65536];
  while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  coap_set_log_level(COAP_LOG_EMERG);
  coap_context_t *ctx = context();
  coap_register_event_handler(ctx, on_event_fuzz);
  coap_context_set_keepalive(ctx, 10);
  coap_context_set_session_timeout(ctx, 30);
  coap_context_set_csm_max_message_size(ctx, 4096);
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_petrel_context_set_tcp_write_queue_max(ctx, 16384);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("big"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_big);
  coap_add_resource(ctx, r);
  r = coap_resource_init(coap_make_str_const("up"), 0);
  coap_register_handler(r, COAP_REQUEST_PUT, hnd_up);
  coap_add_resource(ctx, r);
  int speer = -1, cpeer = -1;
  srv = server(ctx, &speer, 43000);
  coap_session_t *cli = client(ctx, &cpeer);
  size_t i = 0;
  while (i < size) {
    uint8_t op = data[i++];
    if (op == 0 || op == 1) {
      if (i >= size)
        break;
      size_t len = data[i++];
      if (len > size - i)
        len = size - i;
      coap_session_t *s = op == 0 ? srv : cli;
      if (s)
        pt_tcp_input(s, data + i, len, now);
      i += len;
    } else if (op == 2) {
      if (i >= size)
        break;
      uint8_t t = data[i++];
      advance(ctx, t == 255 ? 600 * SEC : (coap_tick_t)t * SEC / 10);
    } else if (op == 3) {
      if (i >= size)
        break;
      if (cli)
        client_request(cli, data[i]);
      i++;
    } else if (op == 4) {
      if (held_async && srv) /* one of the client's is left alone */
        coap_free_async(srv, held_async);
      held_async = NULL;
    } else if (op == 5) {
      read_all(speer);
      read_all(cpeer);
    }
  }
  if (cli)
    coap_session_release(cli);
  done(ctx);
  srv = NULL;
  held_async = NULL;
  close(speer);
  close(cpeer);
  return 0;
}
