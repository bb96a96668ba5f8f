/*
 * fuzz_core.c -- the whole receive path of the sans-I/O core: sequences of
 * datagrams from several peers (server sessions on a fake endpoint, plus
 * one client session awaiting responses), time moving by a fake clock,
 * sends going to a fake socket. Small limits are set so that every limit
 * is reached; after each step the state counts must stay within them, and
 * at the end the context is freed (ASan/LSan report any leak or double
 * free).
 *
 * Input: records, each one opcode byte then its arguments:
 *   0 PEER LEN DATA   a datagram of LEN bytes from server peer PEER % 6
 *   1 LEN DATA        a datagram of LEN bytes to the client session
 *   2 T               the clock moves T x 100 ms (T = 255: 10 minutes)
 *   3 K               the client sends request K (CON/NON, GET/PUT, path)
 * Unknown opcodes are skipped; a short record ends the input.
 */
#include <stddef.h>
#include <stdint.h>

#include "../examples/seed_handler.h"
#include "../tests/core_harness.h"

#define PEERS 6
#define MAX_SESSIONS 4
#define MAX_ASYNC_SESSION 2
#define MAX_ASYNC_TOTAL 4
#define MAX_DEDUP_SESSION 4
#define MAX_DEDUP_TOTAL 12
#define MAX_QUEUED 2
#define BLOCK_TOTAL 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hnd_hello(coap_resource_t *r, coap_session_t *s,
                      const coap_pdu_t *req, const coap_string_t *q,
                      coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(resp, 5, (const uint8_t *)"hello");
}

/* Registers an async that waits to be told, and frees it on the next
 * request with the same token. */
static void hnd_hold(coap_resource_t *r, coap_session_t *s,
                     const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp) {
  (void)r, (void)q;
  coap_async_t *a = coap_find_async(s, coap_pdu_get_token(req));
  if (a) {
    coap_free_async(s, a);
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_DELETED);
  } else if (!coap_register_async(s, req, 0)) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
  }
}

static void hnd_put(coap_resource_t *r, coap_session_t *s,
                    const coap_pdu_t *req, const coap_string_t *q,
                    coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
}

static coap_context_t *setup(void) {
  coap_context_t *ctx = h_context();
  coap_context_set_block_mode(ctx,
                              COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_petrel_context_set_max_sessions_per_endpoint(ctx, MAX_SESSIONS);
  coap_petrel_context_set_max_async_per_session(ctx, MAX_ASYNC_SESSION);
  coap_petrel_context_set_max_async_total(ctx, MAX_ASYNC_TOTAL);
  coap_petrel_context_set_dedup_per_session(ctx, MAX_DEDUP_SESSION);
  coap_petrel_context_set_dedup_total(ctx, MAX_DEDUP_TOTAL);
  coap_petrel_context_set_max_queued_cons(ctx, MAX_QUEUED);
  coap_petrel_context_set_block_bytes_total(ctx, BLOCK_TOTAL);
  coap_petrel_context_set_amplification(ctx, 3, 300, 100);
  struct {
    const char *path;
    coap_request_t method;
    coap_method_handler_t h;
  } res[] = {{"hello", COAP_REQUEST_GET, hnd_hello},
             {"hold", COAP_REQUEST_GET, hnd_hold},
             {"up", COAP_REQUEST_PUT, hnd_put}};
  for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
    coap_resource_t *r =
        coap_resource_init(coap_make_str_const(res[i].path), 0);
    coap_register_handler(r, res[i].method, res[i].h);
    coap_add_resource(ctx, r);
  }
  coap_resource_t *r = coap_resource_init(coap_make_str_const("async"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, hnd_get_with_delay);
  coap_add_resource(ctx, r);
  return ctx;
}

/* The invariants: no count past its limit. */
static void check(coap_context_t *ctx) {
  coap_petrel_stats_t st;
  if (!coap_petrel_context_get_stats(ctx, &st) || st.sessions > MAX_SESSIONS ||
      st.asyncs > MAX_ASYNC_TOTAL || st.dedup_entries > MAX_DEDUP_TOTAL ||
      st.block_bytes > BLOCK_TOTAL ||
      /* a server session: NSTART 1 in flight + MAX_QUEUED queued; the
       * client: one awaiting a response per token (65 tokens, a new
       * request with a token in use supersedes the old), plus its CON
       * queue */
      st.exchanges > MAX_SESSIONS * (1 + MAX_QUEUED) + 65 + 1 + MAX_QUEUED)
    __builtin_trap();
}

static void client_send(coap_session_t *c, uint8_t k) {
  coap_pdu_type_t type = k & 1 ? COAP_MESSAGE_NON : COAP_MESSAGE_CON;
  coap_pdu_code_t code = k & 2 ? COAP_REQUEST_CODE_PUT : COAP_REQUEST_CODE_GET;
  coap_pdu_t *p = coap_new_pdu(type, code, c);
  if (!p)
    return;
  uint8_t tok = (uint8_t)(k >> 2);
  coap_add_token(p, k & 4 ? 1 : 0, &tok);
  coap_add_option(p, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"hello");
  if (code == COAP_REQUEST_CODE_PUT)
    coap_add_data(p, 3, (const uint8_t *)"abc");
  coap_send(c, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  coap_set_log_level(COAP_LOG_EMERG);
  coap_context_t *ctx = setup();
  coap_address_t srv = h_peer(5683);
  coap_session_t *client =
      coap_new_client_session(ctx, NULL, &srv, COAP_PROTO_UDP);
  size_t i = 0;
  while (i < size) {
    uint8_t op = data[i++];
    if (op == 0 || op == 1) {
      size_t need = op == 0 ? 2 : 1;
      if (size - i < need)
        break;
      uint8_t peer = op == 0 ? data[i++] : 0;
      size_t len = data[i++];
      if (len > size - i)
        len = size - i;
      coap_session_t *s =
          op == 0 ? h_server_session((uint16_t)(40000 + peer % PEERS)) : client;
      if (s)
        pt_recv_datagram(s, data + i, len, h_now);
      i += len;
    } else if (op == 2) {
      if (i >= size)
        break;
      uint8_t t = data[i++];
      h_advance(ctx, t == 255 ? 600 * COAP_TICKS_PER_SECOND
                              : (coap_tick_t)t * COAP_TICKS_PER_SECOND / 10);
    } else if (op == 3) {
      if (i >= size)
        break;
      client_send(client, data[i++]);
    }
    check(ctx);
  }
  coap_session_release(client);
  h_free(ctx);
  return 0;
}
