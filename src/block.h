/*
 * block.h -- block-wise transfers (internal; RFC 7959, the public API is
 * coap3/coap_block.h).
 *
 * Three kinds of state, each in a hash map of the context and each with
 * its own expiry timer on the context's heap (no scans):
 *
 *  - pt_blk_srv: a server's held Block2 body, given by the application to
 *    coap_add_data_large_response(). Later Block2 requests are answered
 *    from it without calling the handler again. Keyed by (session,
 *    request key), where the request key is the method plus the options
 *    that name the target (Uri-Host, Uri-Port, Uri-Path, Uri-Query,
 *    Accept, Proxy-Uri, Proxy-Scheme, Request-Tag): two clients, or two
 *    resources, queries or Request-Tags on one session, never share one.
 *  - pt_blk_rx: a server's Block1 transfer, same key: the reassembly of a
 *    single body (COAP_BLOCK_SINGLE_BODY), bounded by the context's max
 *    body size, and the bytes of all reassemblies together by
 *    PT_BLOCK_RX_TOTAL_MAX; or, per block, where the next block starts.
 *  - pt_blk_cli: a client transfer (Block1 upload and/or Block2 fetch),
 *    keyed by (session, token of the request currently in flight). Each
 *    follow-up request gets a fresh token; what the application sees
 *    carries its original token.
 *
 * Every state holds a reference on its session, so its session pointer
 * stays valid; the states end on completion, on expiry (the exchange
 * lifetime after the last block), on a NACK (client) or when the context
 * is freed, and the release callback of a body runs exactly once then.
 */
#ifndef PT_BLOCK_H
#define PT_BLOCK_H

#include "coap3/coap.h"

#include "context.h"
#include "hashmap.h"
#include "pdu.h"
#include "session.h"
#include "timer.h"

/* Default largest body a transfer may reassemble (Block1 on the server,
 * Block2 on the client): see pt_context_set_max_body_size(). */
#define PT_DEFAULT_MAX_BODY_SIZE (8u * 1024u * 1024u)
/* Largest total of bytes held by all Block1 reassemblies of a context. */
#define PT_BLOCK_RX_TOTAL_MAX (64u * 1024u * 1024u)
/* How often a client restarts a Block2 fetch whose ETag changed. */
#define PT_BLOCK_MAX_RESTARTS 3

typedef struct pt_blk_srv pt_blk_srv;
typedef struct pt_blk_rx pt_blk_rx;
typedef struct pt_blk_cli pt_blk_cli;
struct pt_exchange;

/* ---- settings ------------------------------------------------------------ */

/* Sets the largest body one transfer may reassemble (default
 * PT_DEFAULT_MAX_BODY_SIZE; 0 restores it). A Block1 request past it is
 * answered 4.13 with Size1 set to the limit. libcoap 4.3.4 has no public
 * setter for this, hence internal. */
void pt_context_set_max_body_size(coap_context_t *ctx, size_t size);

/* ---- option helpers (block_opt.c) ------------------------------------- */

/*
 * BERT (RFC 8323 6): on a reliable session where both CSMs allow it
 * (pt_tcp_bert()), SZX 7 means blocks of 1024 bytes of which one message
 * may carry several: NUM counts 1024-byte units, a payload that is not the
 * last is a non-zero multiple of 1024 bytes, and the last may be any
 * length. Elsewhere SZX 7 stays reserved (RFC 7959 2.2: 4.00 for a
 * request). These give the byte offset of block @num, and the unit NUM
 * counts, for any SZX.
 */
#define PT_BLOCK_BERT 7u
static inline size_t pt_block_unit(unsigned szx) {
  return (size_t)1 << (szx >= PT_BLOCK_BERT ? 10 : szx + 4);
}
static inline size_t pt_block_offset(unsigned num, unsigned szx) {
  return (size_t)num * pt_block_unit(szx);
}

/* 1 if a block of @plen bytes with SZX @szx and more-flag @m has a valid
 * size: exactly the block size unless it is the last (M clear), at most
 * that when it is; with BERT a non-zero multiple of 1024 unless last. */
static inline int pt_block_size_ok(unsigned szx, int m, size_t plen) {
  if (szx >= PT_BLOCK_BERT)
    return !m || (plen && plen % 1024 == 0);
  size_t size = pt_block_unit(szx);
  return m ? plen == size : plen <= size;
}

/* Block option value for (num, m, szx). */
uint32_t pt_block_value(unsigned num, int m, unsigned szx);

/* Adds or replaces option @number (Block1/Block2) of @pdu with (num, m,
 * szx). Returns 1 or 0. */
int pt_block_set(coap_pdu_t *pdu, coap_option_num_t number, unsigned num, int m,
                 unsigned szx);

/* Raw decode of option @number of @pdu (borrowed): 1 if present with a
 * value of 0..3 bytes; *num, *m, *szx (0..7, unchecked) filled. */
int pt_block_peek(const coap_pdu_t *pdu, coap_option_num_t number,
                  unsigned *num, int *m, unsigned *szx);

/* The value of uint option @number of @pdu, or @dflt when absent. */
uint64_t pt_block_uint_opt(const coap_pdu_t *pdu, coap_option_num_t number,
                           uint64_t dflt);

/* Adds uint option @number with @value. Returns 1 or 0. */
int pt_block_add_uint(coap_pdu_t *pdu, coap_option_num_t number,
                      uint64_t value);

/* Copies @src's options, except the @nskip numbers in @skip (borrowed),
 * into @dst, which must have no payload yet. Returns 1 or 0. */
int pt_block_copy_options(coap_pdu_t *dst, const coap_pdu_t *src,
                          const coap_option_num_t *skip, size_t nskip);

/* Sets @resp (borrowed) to the bare error @code, with @req's token. */
void pt_block_reset_to_error(coap_pdu_t *resp, const coap_pdu_t *req,
                             coap_pdu_code_t code);

/* ---- server (block_server.c) --------------------------------------------- */

/*
 * Request dispatch hook, before the handler of @resource (found for @req)
 * runs. Answers in @resp what the block layer answers alone: a Block2
 * request served from a held body, 2.31 for an intermediate Block1 block
 * of a single-body transfer, 4.00 / 4.08 / 4.13 for bad Block options or
 * blocks out of sequence. Returns 1 if @resp is complete (the handler must
 * not run). Otherwise returns 0 and may set *@whole to a reassembled
 * request (owned by the caller: coap_delete_pdu() it after
 * pt_block_server_after()) the handler should see instead of @req.
 * All pointers borrowed. Most requests carry neither Block option: that
 * is told here, without a call; pt_block_server_before_opts()
 * (block_server.c) does the rest.
 */
int pt_block_server_before_opts(coap_session_t *session, const coap_pdu_t *req,
                                coap_pdu_t *resp, coap_pdu_t **whole,
                                const coap_resource_t *resource, int separate,
                                coap_tick_t now);

static inline int pt_block_server_before(coap_session_t *session,
                                         const coap_pdu_t *req,
                                         coap_pdu_t *resp, coap_pdu_t **whole,
                                         const coap_resource_t *resource,
                                         int separate, coap_tick_t at) {
  *whole = NULL;
  session->context->blk_ack1_set = 0;
  if (!pt_pdu_may_have(req, COAP_OPTION_BLOCK1) &&
      !pt_pdu_may_have(req, COAP_OPTION_BLOCK2))
    return 0;
  return pt_block_server_before_opts(session, req, resp, whole, resource,
                                     separate, at);
}

/*
 * Request dispatch hook, after the handler returned: finishes what
 * coap_add_data_large_response() started on @resp (keeps the body for
 * later blocks, or releases it) and acknowledges the Block1 block the
 * handler answered with a Block1 option. All pointers borrowed.
 */
void pt_block_server_finish(coap_session_t *session, const coap_pdu_t *req,
                            coap_pdu_t *resp, coap_tick_t now);

/* pt_block_server_finish() when there is something to finish: most
 * requests leave nothing (no large response, no Block1 to acknowledge). */
static inline void pt_block_server_after(coap_session_t *session,
                                         const coap_pdu_t *req,
                                         coap_pdu_t *resp, coap_tick_t at) {
  const coap_context_t *ctx = session->context;
  if (ctx->blk_pending || ctx->blk_ack1_set)
    pt_block_server_finish(session, req, resp, at);
}

/* ---- server, Block1 (block_rx.c) ------------------------------------------
 */

/*
 * The Block1 part of pt_block_server_before() for a request carrying
 * Block1 (@num, @m, @szx; SZX 7 already refused) when the context has
 * COAP_BLOCK_USE_LIBCOAP. Same return values. All pointers borrowed.
 */
int pt_block_rx_before(coap_session_t *session, const coap_pdu_t *req,
                       coap_pdu_t *resp, coap_pdu_t **whole,
                       const coap_resource_t *resource, unsigned num, int m,
                       unsigned szx, coap_tick_t now);

/* The Block1 part of pt_block_server_after(): puts the Block1 option
 * acknowledging the block into @resp (borrowed) and moves the transfer on,
 * or ends it. */
void pt_block_rx_after(coap_session_t *session, coap_pdu_t *resp,
                       coap_tick_t now);

/* ---- client (block_client.c) ------------------------------------------- */

/*
 * Receive hook for a response @pdu matched to exchange @ex (both
 * borrowed). Returns 1 if the block layer took it (it sent the next block
 * request, or delivered the reassembled body itself, *@r set to the
 * handler's answer); 0 if the caller delivers it as usual.
 */
int pt_block_client_response(coap_session_t *session, struct pt_exchange *ex,
                             const coap_pdu_t *pdu, coap_tick_t now,
                             coap_response_t *r);

/* Exchange-failure hook: ends the client transfer whose request @pdu
 * (borrowed) was, if any (its release callback runs). */
void pt_block_client_failed(coap_session_t *session, const coap_pdu_t *pdu);

/* ---- lifetime (block.c) ------------------------------------------------ */

/* Ends every transfer of @ctx (context teardown, before sessions go). */
void pt_block_free_all(coap_context_t *ctx);

/* Internal pieces shared by the block_*.c files. */
struct pt_blk_key {
  const coap_session_t *session;
  const uint8_t *bytes;
  size_t len;
};

/* Builds the request key of @req (see above) into *@out (allocated,
 * caller frees) unless @pdu has no method; includes the payload when
 * @with_payload (FETCH). Returns its length, or -1 on no memory. */
long pt_block_request_key(const coap_pdu_t *req, int with_payload,
                          uint8_t **out);

/* Hash of (session, key bytes). */
uint32_t pt_block_key_hash(const coap_session_t *s, const uint8_t *key,
                           size_t len);

/* The expiry of a transfer touched at @now. */
coap_tick_t pt_block_expiry(const coap_session_t *s, coap_tick_t now);

void pt_block_srv_free_all(coap_context_t *ctx);
void pt_block_rx_free_all(coap_context_t *ctx);
void pt_block_cli_free_all(coap_context_t *ctx);

#endif /* PT_BLOCK_H */
