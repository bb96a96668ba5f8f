/*
 * dtls_harness.h -- a DTLS server context and client contexts in one
 * process over loopback, pumped by hand (no threads), for the DTLS tests.
 */
#ifndef PETREL_DTLS_HARNESS_H
#define PETREL_DTLS_HARNESS_H

#include <arpa/inet.h>

#include "context.h"
#include "dtls.h"
#include "session.h"
#include "test.h"

/* Events seen by either side, per kind. */
typedef struct dh_events {
  int connected, closed, error, server_new, server_del;
  int tcp_connected, tcp_closed, tcp_failed, session_connected;
} dh_events;

static dh_events dh_srv_ev, dh_cli_ev;
static char dh_body[8192];
static size_t dh_body_len;
static int dh_responses, dh_nacks;
static coap_nack_reason_t dh_last_nack;

static inline int dh_count(coap_session_t *s, coap_event_t e) {
  dh_events *ev = coap_session_get_type(s) == COAP_SESSION_TYPE_CLIENT
                      ? &dh_cli_ev
                      : &dh_srv_ev;
  switch (e) {
  case COAP_EVENT_DTLS_CONNECTED:
    ev->connected++;
    break;
  case COAP_EVENT_DTLS_CLOSED:
    ev->closed++;
    break;
  case COAP_EVENT_DTLS_ERROR:
    ev->error++;
    break;
  case COAP_EVENT_SERVER_SESSION_NEW:
    ev->server_new++;
    break;
  case COAP_EVENT_SERVER_SESSION_DEL:
    ev->server_del++;
    break;
  case COAP_EVENT_TCP_CONNECTED:
    ev->tcp_connected++;
    break;
  case COAP_EVENT_TCP_CLOSED:
    ev->tcp_closed++;
    break;
  case COAP_EVENT_TCP_FAILED:
    ev->tcp_failed++;
    break;
  case COAP_EVENT_SESSION_CONNECTED:
    ev->session_connected++;
    break;
  default:
    break;
  }
  return 0;
}

static inline coap_response_t dh_response(coap_session_t *s,
                                          const coap_pdu_t *sent,
                                          const coap_pdu_t *received,
                                          const coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  size_t len;
  const uint8_t *data;
  dh_body_len = 0;
  if (coap_get_data(received, &len, &data) && len < sizeof(dh_body)) {
    memcpy(dh_body, data, len);
    dh_body_len = len;
  }
  dh_body[dh_body_len] = 0;
  dh_responses++;
  return COAP_RESPONSE_OK;
}

static inline void dh_nack(coap_session_t *s, const coap_pdu_t *sent,
                           const coap_nack_reason_t reason,
                           const coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  dh_nacks++;
  dh_last_nack = reason;
}

static inline void dh_hello(coap_resource_t *r, coap_session_t *s,
                            const coap_pdu_t *req, const coap_string_t *q,
                            coap_pdu_t *resp) {
  (void)r, (void)s, (void)req, (void)q;
  coap_add_data(resp, 5, (const uint8_t *)"hello");
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
}

static inline void dh_reset(void) {
  memset(&dh_srv_ev, 0, sizeof(dh_srv_ev));
  memset(&dh_cli_ev, 0, sizeof(dh_cli_ev));
  dh_body_len = 0;
  dh_body[0] = 0;
  dh_responses = dh_nacks = 0;
  dh_last_nack = COAP_NACK_TOO_MANY_RETRIES;
}

static inline coap_address_t dh_loopback(uint16_t port) {
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.addr.sin.sin_port = htons(port);
  a.size = sizeof(a.addr.sin);
  return a;
}

/* A client session over @proto to 127.0.0.1:@port with the pre-shared
 * @identity and @key (copied by the library), or NULL. */
static inline coap_session_t *dh_psk_client(coap_context_t *ctx,
                                            uint16_t port, coap_proto_t proto,
                                            const char *identity,
                                            const char *key) {
  coap_address_t dst = dh_loopback(port);
  coap_dtls_cpsk_t cp;
  memset(&cp, 0, sizeof(cp));
  cp.version = COAP_DTLS_CPSK_SETUP_VERSION;
  cp.psk_info.identity.s = (const uint8_t *)identity;
  cp.psk_info.identity.length = strlen(identity);
  cp.psk_info.key.s = (const uint8_t *)key;
  cp.psk_info.key.length = strlen(key);
  return coap_new_client_session_psk2(ctx, NULL, &dst, proto, &cp);
}

/* The one server session of @srv (any one, if there are several), or
 * NULL. */
static inline coap_session_t *dh_only_server_session(coap_context_t *srv) {
  pt_hashmap_iter it;
  pt_hashmap_iter_init(&it, &srv->sessions);
  pt_hash_node *n = pt_hashmap_iter_next(&it);
  return n ? PT_CONTAINER_OF(n, coap_session_t, by_peer) : NULL;
}

/* What dh_server() listens on: DTLS, or TLS over TCP (test_tls.c). */
static coap_proto_t dh_proto = COAP_PROTO_DTLS;

/* A server context (credentials set by the caller through @setup) with a
 * dh_proto endpoint on 127.0.0.1 and /hello. *port gets its port. */
static inline coap_context_t *dh_server(int (*setup)(coap_context_t *),
                                        uint16_t *port) {
  coap_context_t *ctx = coap_new_context(NULL);
  if (!ctx)
    return NULL;
  coap_register_event_handler(ctx, dh_count);
  if (setup && !setup(ctx)) {
    coap_free_context(ctx);
    return NULL;
  }
  coap_address_t a = dh_loopback(0);
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &a, dh_proto);
  if (!ep) {
    coap_free_context(ctx);
    return NULL;
  }
  *port = coap_address_get_port(&ep->bind_addr);
  coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
  coap_register_handler(r, COAP_REQUEST_GET, dh_hello);
  coap_add_resource(ctx, r);
  return ctx;
}

static inline coap_context_t *dh_client_ctx(void) {
  coap_context_t *ctx = coap_new_context(NULL);
  if (!ctx)
    return NULL;
  coap_register_event_handler(ctx, dh_count);
  coap_register_response_handler(ctx, dh_response);
  coap_register_nack_handler(ctx, dh_nack);
  return ctx;
}

/* Runs both loops (either may be NULL) until *@flag changes from @from or
 * @ms milliseconds of real time pass. */
static inline void dh_pump(coap_context_t *a, coap_context_t *b,
                           volatile int *flag, int from, int ms) {
  coap_tick_t start, now;
  coap_ticks(&start);
  do {
    if (a)
      coap_io_process(a, 5);
    if (b)
      coap_io_process(b, 5);
    coap_ticks(&now);
  } while ((!flag || *flag == from) &&
           now - start < (coap_tick_t)ms * (flag ? test_time_scale() : 1) *
                             COAP_TICKS_PER_SECOND / 1000);
}

/* Sends GET /@path on @s. */
static inline int dh_get(coap_session_t *s, const char *path) {
  coap_pdu_t *pdu =
      coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
                    coap_new_message_id(s), coap_session_max_pdu_size(s));
  if (!pdu)
    return -1;
  uint8_t tok[8];
  size_t tlen;
  coap_session_new_token(s, &tlen, tok);
  coap_add_token(pdu, tlen, tok);
  coap_add_option(pdu, COAP_OPTION_URI_PATH, strlen(path),
                  (const uint8_t *)path);
  return coap_send(s, pdu) == COAP_INVALID_MID ? -1 : 0;
}

#endif /* PETREL_DTLS_HARNESS_H */
