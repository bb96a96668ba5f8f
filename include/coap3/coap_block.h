/*
 * coap_block.h -- block-wise transfers (RFC 7959, RFC 8323 BERT, RFC 9177
 * Q-Block) and payloads.
 *
 * Two ways to use it: let the library do the blocking (set
 * COAP_BLOCK_USE_LIBCOAP with coap_context_set_block_mode() and attach
 * bodies with coap_add_data_large_request() / _response()), or handle
 * Block options by hand with the helpers below.
 *
 * Threads: loop thread of the context (or before the loop starts), except
 * the pure helpers marked "any thread".
 */
#ifndef COAP_BLOCK_H_
#define COAP_BLOCK_H_

#include <stddef.h>
#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_encode.h"
#include "coap3/coap_option.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_str.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest SZX of a Block option (block size 1024). 7 means BERT. */
#ifndef COAP_MAX_BLOCK_SZX
#define COAP_MAX_BLOCK_SZX 6
#endif

/** A decoded Block1 or Block2 option. */
typedef struct {
  unsigned int num;   /**< block number */
  unsigned int m : 1; /**< 1 if more blocks follow */
  unsigned int szx : 3; /**< block size is 1 << (szx + 4) */
} coap_block_t;

/** A decoded Block1 or Block2 option, BERT aware (RFC 8323 section 6). */
typedef struct {
  unsigned int num;         /**< block number */
  unsigned int m : 1;       /**< 1 if more blocks follow */
  unsigned int szx : 3;     /**< block size exponent, 0..6 */
  unsigned int aszx : 3;    /**< as sent, 0..7 (7 = BERT) */
  unsigned int defined : 1; /**< 1 if the option was present */
  unsigned int bert : 1;    /**< 1 if BERT is in use */
  uint32_t chunk_size;      /**< bytes in this payload (> 1024 with BERT) */
} coap_block_b_t;

/* Flags for coap_context_set_block_mode(). */
/** The library does all block-wise work (requests, reassembly, sending). */
#define COAP_BLOCK_USE_LIBCOAP 0x01
/** Deliver a reassembled body to the handler once, not block by block. */
#define COAP_BLOCK_SINGLE_BODY 0x02
/** Try Q-Block1/Q-Block2 (RFC 9177) and fall back if the peer lacks it. */
#define COAP_BLOCK_TRY_Q_BLOCK 0x04
/** Use the M bit when asking for missing Q-Block2 blocks. */
#define COAP_BLOCK_USE_M_Q_BLOCK 0x08
/** Client: do not add a Request-Tag before it is needed. */
#define COAP_BLOCK_NO_PREEMPTIVE_RTAG 0x10
/** Client: assume the server handles block-wise FETCH without state. */
#define COAP_BLOCK_STLESS_FETCH 0x20
/** Server: serve Block2 without keeping per-transfer state. */
#define COAP_BLOCK_STLESS_BLOCK2 0x40

/**
 * Reports whether Q-Block (RFC 9177) is available in this build.
 * @return 1 if available, 0 if not. Any thread.
 */
COAP_API int coap_q_block_is_supported(void);

/**
 * Length of the value of option @p opt (option header decoded).
 * @param opt Start of an encoded option (borrowed).
 * @return Value length in bytes, 0 for a malformed option. Any thread.
 */
COAP_API uint32_t coap_opt_length(const coap_opt_t *opt);

/**
 * Start of the value of option @p opt.
 * @param opt Start of an encoded option (borrowed).
 * @return Pointer into @p opt (borrowed), or NULL for a malformed option.
 *         Any thread.
 */
COAP_API const uint8_t *coap_opt_value(const coap_opt_t *opt);

/** Last value byte of Block option @p opt, or NULL for an empty value. */
#define COAP_OPT_BLOCK_LAST(opt)                                               \
  (coap_opt_length(opt) ? (coap_opt_value(opt) + (coap_opt_length(opt) - 1)) : 0)

/** Value of the last byte of Block option @p opt, or 0. */
#define COAP_OPT_BLOCK_END_BYTE(opt)                                           \
  ((coap_opt_length(opt) && coap_opt_value(opt))                               \
       ? *(coap_opt_value(opt) + (coap_opt_length(opt) - 1))                   \
       : 0)

/** The M (more) bit of Block option @p opt (non-zero if set). */
#define COAP_OPT_BLOCK_MORE(opt)                                               \
  (coap_opt_length(opt) ? (COAP_OPT_BLOCK_END_BYTE(opt) & 0x08) : 0)

/** The SZX field of Block option @p opt. */
#define COAP_OPT_BLOCK_SZX(opt)                                                \
  (coap_opt_length(opt) ? (COAP_OPT_BLOCK_END_BYTE(opt) & 0x07) : 0)

/**
 * The NUM field of Block option @p block_opt.
 * @param block_opt Encoded Block option (borrowed).
 * @return The block number (0 for an empty value). Any thread.
 */
COAP_API unsigned int coap_opt_block_num(const coap_opt_t *block_opt);

/**
 * Tells whether more blocks than block @p num are needed for @p data_len
 * bytes with blocks of 1 << (@p szx + 4) bytes.
 * @return 1 if block @p num is not the last, 0 otherwise. Any thread.
 */
COAP_STATIC_INLINE int coap_more_blocks(size_t data_len, unsigned int num,
                                        uint16_t szx) {
  return ((size_t)(num + 1) << (szx + 4)) < data_len;
}

/**
 * Decodes option @p number (Block1 or Block2) of @p pdu into @p block.
 * @param pdu    The message (borrowed).
 * @param number COAP_OPTION_BLOCK1 or COAP_OPTION_BLOCK2.
 * @param block  Caller's structure, filled when the option is present.
 * @return 1 if found and valid, 0 otherwise.
 */
COAP_API int coap_get_block(const coap_pdu_t *pdu, coap_option_num_t number,
                            coap_block_t *block);

/**
 * Like coap_get_block(), also handling BERT on reliable sessions.
 * @param session The session the PDU belongs to (borrowed).
 * @param pdu     The message (borrowed).
 * @param number  COAP_OPTION_BLOCK1 or COAP_OPTION_BLOCK2 (or the Q-Block
 *                equivalents).
 * @param block   Caller's structure; always initialised, defined set to 1
 *                when the option is present.
 * @return 1 if found and valid, 0 otherwise.
 */
COAP_API int coap_get_block_b(const coap_session_t *session, const coap_pdu_t *pdu,
                              coap_option_num_t number, coap_block_b_t *block);

/**
 * Adds Block option @p number described by @p block to @p pdu, lowering
 * the block size (updating @p block) if the block would not fit. Add no
 * further options after it.
 * @param block       In/out block description.
 * @param number      COAP_OPTION_BLOCK1 or COAP_OPTION_BLOCK2.
 * @param pdu         The message (borrowed).
 * @param data_length Total length of the body being sent.
 * @return 1 on success; -2 if block->num is not 0 and the block starts at
 *         or past @p data_length; -3 if not even a 16-byte block fits in
 *         the room left in @p pdu; -1 if @p block or @p pdu is NULL, the
 *         block size is invalid (szx above 6) or the option cannot be
 *         added.
 */
COAP_API int coap_write_block_opt(coap_block_t *block, coap_option_num_t number,
                                  coap_pdu_t *pdu, size_t data_length);

/**
 * Like coap_write_block_opt(), BERT aware.
 * @param session     The session the PDU will be sent on (borrowed).
 * @param block       In/out block description.
 * @param number      COAP_OPTION_BLOCK1 or COAP_OPTION_BLOCK2.
 * @param pdu         The message (borrowed).
 * @param data_length Total length of the body being sent.
 * @return As coap_write_block_opt(): 1, or -2 past the end, -3 no room,
 *         -1 invalid arguments.
 */
COAP_API int coap_write_block_b_opt(coap_session_t *session, coap_block_b_t *block,
                                    coap_option_num_t number, coap_pdu_t *pdu,
                                    size_t data_length);

/**
 * Adds payload @p data (@p len bytes) to @p pdu. Call once, after all
 * options.
 * @param pdu  The message (borrowed).
 * @param len  Payload length; 0 adds nothing and succeeds.
 * @param data The bytes (copied).
 * @return 1 on success, 0 if it does not fit or a payload is present.
 */
COAP_API int coap_add_data(coap_pdu_t *pdu, size_t len, const uint8_t *data);

/**
 * Adds to @p pdu the part of body @p data that belongs in block
 * @p block_num of size 1 << (@p block_szx + 4).
 * @param pdu       The message (borrowed).
 * @param len       Total body length.
 * @param data      The whole body (copied from).
 * @param block_num Block number.
 * @param block_szx Block size exponent.
 * @return 1 on success, 0 otherwise.
 */
COAP_API int coap_add_block(coap_pdu_t *pdu, size_t len, const uint8_t *data,
                            unsigned int block_num, unsigned char block_szx);

/**
 * Adds to @p pdu the part of body @p data described by @p block (BERT
 * aware).
 * @param pdu   The message (borrowed).
 * @param len   Total body length.
 * @param data  The whole body (copied from).
 * @param block The block description (borrowed).
 * @return 1 on success, 0 otherwise.
 */
COAP_API int coap_add_block_b_data(coap_pdu_t *pdu, size_t len, const uint8_t *data,
                                   coap_block_b_t *block);

/**
 * Where the payload of @p pdu sits in the whole body: for a request its
 * Block1 option (and Size1), for a response its Block2 option (and Size2).
 * With COAP_BLOCK_SINGLE_BODY the library hands over whole bodies, so
 * @p offset is 0 and @p length equals @p total. The body is complete when
 * *@p offset + *@p length == *@p total; before the last block @p total is
 * only a lower bound (Size1/Size2 when the peer sent it).
 * @param pdu    The message (borrowed).
 * @param length Set to the payload length.
 * @param data   Set to the payload (borrowed from @p pdu), NULL if none.
 * @param offset Set to the payload's offset in the body.
 * @param total  Set to the body size (or its lower bound).
 * @return 1 if @p pdu has a payload, 0 otherwise.
 */
COAP_API int coap_get_data_large(const coap_pdu_t *pdu, size_t *length,
                                 const uint8_t **data, size_t *offset,
                                 size_t *total);

/**
 * Accumulates a body from payloads: copies @p length bytes of @p data to
 * offset @p offset of @p body_data, growing it as needed.
 * @param body_data The body so far (ownership TRANSFERRED in and back out
 *                  through the return value), or NULL to start one.
 * @param length    Bytes in @p data.
 * @param data      The payload (copied).
 * @param offset    Where it goes in the body.
 * @param total     Expected body size, used to size the first allocation.
 * @return The (possibly moved) body, owned by the caller (free with
 *         coap_delete_binary()), or NULL on failure, in which case
 *         @p body_data has been freed.
 */
COAP_API coap_binary_t *coap_block_build_body(coap_binary_t *body_data, size_t length,
                                              const uint8_t *data, size_t offset,
                                              size_t total);

/**
 * Server helper without library block mode: puts the block of @p data that
 * @p request asks for (Block2) into @p response, with Content-Format,
 * Max-Age, Size2, ETag and Block2 options as appropriate, and sets the
 * response code (2.05, or 4.02 for a bad block request).
 * @param request    The request (borrowed).
 * @param response   The response (borrowed).
 * @param media_type Content-Format value.
 * @param maxage     Max-Age in seconds, or -1 for none.
 * @param length     Body length.
 * @param data       The whole body (copied from).
 */
COAP_API void coap_add_data_blocked_response(const coap_pdu_t *request,
                                             coap_pdu_t *response,
                                             uint16_t media_type, int maxage,
                                             size_t length, const uint8_t *data);

/**
 * Called once the library no longer needs a body given to
 * coap_add_data_large_request() / _response(): it was sent completely, the
 * transfer failed, or the PDU was dropped.
 * @param session The session the body belonged to (borrowed for the call).
 * @param app_ptr The app_ptr given with the body.
 */
typedef void (*coap_release_large_data_t)(coap_session_t *session, void *app_ptr);

/**
 * Client: attaches body @p data to request @p pdu. If it does not fit in
 * one message, coap_send() sends the first block and the library sends
 * the rest (Block1 or Q-Block1, with Size1 and Request-Tag). Needs
 * COAP_BLOCK_USE_LIBCOAP. Must be the last change to @p pdu before
 * coap_send(), and at most once per PDU.
 * @param session      The session the request will go on (borrowed).
 * @param pdu          The request (borrowed).
 * @param length       Body length.
 * @param data         The body: BORROWED, not copied; it must stay valid and
 *                     unchanged until @p release_func is called (or, with no
 *                     release_func, until the transfer ends).
 * @param release_func Called when the body is no longer needed, or NULL.
 * @param app_ptr      Passed to @p release_func.
 * @return 1 on success, 0 on failure (release_func is then called too).
 */
COAP_API int coap_add_data_large_request(coap_session_t *session, coap_pdu_t *pdu,
                                         size_t length, const uint8_t *data,
                                         coap_release_large_data_t release_func,
                                         void *app_ptr);

/**
 * Server (inside a request handler): attaches body @p data to @p response,
 * adding Content-Format, Max-Age, ETag and Size2 as appropriate; if it does
 * not fit in one message the library serves the remaining Block2 (or
 * Q-Block2) requests itself. Needs COAP_BLOCK_USE_LIBCOAP. Must be the
 * last change to @p response, at most once.
 * @param resource     The resource being served (borrowed).
 * @param session      The session (borrowed).
 * @param request      The request (borrowed).
 * @param response     The response (borrowed).
 * @param query        The request's query (borrowed), or NULL.
 * @param media_type   Content-Format value.
 * @param maxage       Max-Age in seconds, or -1 for none.
 * @param etag         ETag value to use, or 0 to derive one from the body.
 * @param length       Body length.
 * @param data         The body: BORROWED, not copied; it must stay valid and
 *                     unchanged until @p release_func is called.
 * @param release_func Called when the body is no longer needed, or NULL.
 * @param app_ptr      Passed to @p release_func.
 * @return 1 on success, 0 on failure (release_func is then called too).
 */
COAP_API int coap_add_data_large_response(coap_resource_t *resource,
                                          coap_session_t *session,
                                          const coap_pdu_t *request,
                                          coap_pdu_t *response,
                                          const coap_string_t *query,
                                          uint16_t media_type, int maxage,
                                          uint64_t etag, size_t length,
                                          const uint8_t *data,
                                          coap_release_large_data_t release_func,
                                          void *app_ptr);

/**
 * Sets the COAP_BLOCK_* flags new sessions of @p context start with.
 * Call before creating sessions. Without COAP_BLOCK_USE_LIBCOAP the
 * application does all block-wise work itself (the default).
 *
 * Server, Block1 request bodies: with COAP_BLOCK_SINGLE_BODY (or for a
 * resource flagged COAP_RESOURCE_FLAGS_FORCE_SINGLE_BODY, or a FETCH) the
 * handler is called once with the whole body; otherwise once per block,
 * with the Block1 and Size1 options (coap_get_data_large() gives offset
 * and total), and it answers 2.31 Continue until the last block. Either
 * way the library puts the Block1 option of the block answered into a
 * 2.xx answer that has none, and answers 4.08 itself to a block that does
 * not continue the body or changes its Content-Format (RFC 7959 2.3).
 *
 * Client: a body that cannot be completed is never handed over in part as
 * if it were whole. Not all of a response body received (a block other
 * than the one asked for, larger than asked for, or short before the
 * last; no Block2 or another Content-Format mid-body; an ETag that keeps
 * changing after 3 restarts; an error or a NACK mid-body) raises
 * COAP_EVENT_PARTIAL_BLOCK; not all of a request body sent (a block not
 * acknowledged by its Block1, an error or a NACK before the last block)
 * raises COAP_EVENT_XMIT_BLOCK_FAIL. An error response that ended the
 * transfer goes to the response handler first, with the request's token.
 * Without COAP_BLOCK_SINGLE_BODY, a restart after a change of ETag raises
 * COAP_EVENT_PARTIAL_BLOCK too: the blocks seen so far are void.
 * COAP_BLOCK_TRY_Q_BLOCK, COAP_BLOCK_USE_M_Q_BLOCK (no Q-Block, RFC 9177),
 * COAP_BLOCK_NO_PREEMPTIVE_RTAG (a library-driven upload always carries a
 * Request-Tag), COAP_BLOCK_STLESS_FETCH and COAP_BLOCK_STLESS_BLOCK2
 * (transfers always keep state) are accepted and have no effect in this
 * build.
 * @param context    The context (borrowed).
 * @param block_mode COAP_BLOCK_* flags ored together; unknown bits ignored.
 */
COAP_API void coap_context_set_block_mode(coap_context_t *context, uint32_t block_mode);

/**
 * Client: ends an observation (RFC 7641 3.6). A request sent with
 * Observe: 0 keeps its token live for notifications. When the Max-Age of
 * the latest notification (60 s without the option) passes without a
 * newer one, plus ACK_TIMEOUT x a random factor of 1 to
 * ACK_RANDOM_FACTOR, the library registers again (RFC 7641 3.3.1: the
 * same request, token and options, a new message ID, the original's
 * type); the answer reaches the response handler as any, whatever its
 * Observe value, and a server that does not answer is reported to the
 * NACK handler (COAP_NACK_TOO_MANY_RETRIES, with that request), which ends
 * the observation. coap_cancel_observe() sends a request
 * with the same method, token and options (and FETCH body) and Observe: 1,
 * as a message of @p message_type, and stops treating later messages with
 * that token as notifications. The server's answer to it reaches the
 * response handler as an ordinary response. Works in any block mode.
 * @param session      The session of the observation (borrowed).
 * @param token        Token of the original observe request (borrowed).
 * @param message_type COAP_MESSAGE_CON or COAP_MESSAGE_NON.
 * @return 1 if the cancellation was sent; 0 if @p session has no
 *         observation with @p token (never registered, already cancelled,
 *         or ended by the server), @p message_type is neither CON nor NON,
 *         or it could not be built or sent.
 */
COAP_API int coap_cancel_observe(coap_session_t *session, coap_binary_t *token,
                                 coap_pdu_type_t message_type);

#ifdef __cplusplus
}
#endif

#endif /* COAP_BLOCK_H_ */
