/*
 * coap_async.h -- separate responses (RFC 7252 section 5.2.2).
 *
 * A request handler that cannot answer at once registers the request with
 * coap_register_async() and returns without setting a response code: the
 * library then ACKs a CON request with an empty ACK (a NON gets nothing).
 * When the async fires (its delay elapses, or coap_async_trigger() is
 * called), the library calls the resource's handler again with a copy of
 * the original request; coap_find_async() with the request's token then
 * finds the async, and the handler fills in the response. That response is
 * sent as a new message (CON for a CON request, NON for a NON) with a new
 * message ID and the original token, and the async is freed when the
 * handler returns.
 *
 * Pending asyncs are looked up by (session, token) in a hash table and
 * their deadlines kept in a heap, so their number does not slow down other
 * requests.
 *
 * THREADS. coap_async_trigger(), coap_async_set_delay(),
 * coap_async_set_app_data() and coap_async_get_app_data() may be called
 * from ANY thread, while coap_io_process() runs on the loop thread, on an
 * async that the loop thread obtained (from coap_register_async() or
 * coap_find_async()) and that has not yet fired or been freed; they wake
 * the loop as needed. The application must make sure the async is still
 * pending: once it has fired and its handler returned, or once
 * coap_free_async() was called, the pointer is dead. Every other function
 * here, coap_free_async() included, may only be called from the thread
 * running coap_io_process() for the session's context.
 */
#ifndef COAP_ASYNC_H_
#define COAP_ASYNC_H_

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_net.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_str.h"
#include "coap3/coap_time.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Reports whether separate responses are available in this build.
 * @return 1 (always, in Petrel). Any thread.
 */
COAP_API int coap_async_is_supported(void);

/**
 * Registers @p request for a separate response. Call it from the request
 * handler; returning from the handler without setting a response code
 * then makes the library send an empty ACK (CON requests only).
 *
 * After @p delay ticks the resource's handler is called again with a copy
 * of @p request. With @p delay 0 it waits until coap_async_trigger() or
 * coap_async_set_delay() with a non-zero delay. A duplicate of the
 * original CON (same message ID) arriving meanwhile is answered with
 * another empty ACK without calling the handler.
 *
 * Loop thread only.
 *
 * @param session The session the request came on (borrowed; the async
 *                holds its own reference to it).
 * @param request The request (COPIED; the copy is freed with the async).
 * @param delay   Ticks (COAP_TICKS_PER_SECOND per second) until the
 *                handler is called, or 0 to wait for a trigger.
 * @return The async, owned by the library (freed after its handler call,
 *         by coap_free_async(), or with the session or context), or NULL
 *         on failure, including when an async with the same token is
 *         already registered on @p session.
 */
COAP_API coap_async_t *coap_register_async(coap_session_t *session,
                                           const coap_pdu_t *request,
                                           coap_tick_t delay);

/**
 * Changes when @p async fires: @p delay ticks from now, or never (until
 * triggered or given a non-zero delay) if @p delay is 0.
 *
 * Any thread, on a pending async (see the THREADS note above).
 *
 * @param async The async (borrowed).
 * @param delay Ticks from now, or 0.
 */
COAP_API void coap_async_set_delay(coap_async_t *async, coap_tick_t delay);

/**
 * Makes @p async fire as soon as possible: its handler is called on the
 * next pass of the loop.
 *
 * Any thread, on a pending async (see the THREADS note above).
 *
 * @param async The async (borrowed).
 */
COAP_API void coap_async_trigger(coap_async_t *async);

/**
 * Cancels and frees @p async without calling its handler. Its app data is
 * not touched: free it first if it needs freeing.
 *
 * Loop thread only.
 *
 * @param session The session the async belongs to (borrowed).
 * @param async   The async; not usable afterwards. NULL is ignored.
 */
COAP_API void coap_free_async(coap_session_t *session, coap_async_t *async);

/**
 * Finds the async registered on @p session for @p token. Inside a handler,
 * this tells a first call (NULL) from the delayed call (the async).
 *
 * Loop thread only.
 *
 * @param session The session (borrowed).
 * @param token   The request token (bytes borrowed for the call).
 * @return The async (borrowed; owned by the library), or NULL.
 */
COAP_API coap_async_t *coap_find_async(coap_session_t *session, coap_bin_const_t token);

/**
 * Stores an application pointer in @p async, replacing the previous one.
 * The library never frees it; the handler's delayed call is the usual
 * place to do so.
 *
 * Any thread, on a pending async (see the THREADS note above).
 *
 * @param async    The async (borrowed).
 * @param app_data The pointer (ownership stays with the application).
 */
COAP_API void coap_async_set_app_data(coap_async_t *async, void *app_data);

/**
 * Any thread, on a pending async (see the THREADS note above).
 *
 * @param async The async (borrowed).
 * @return The pointer stored with coap_async_set_app_data(), or NULL.
 */
COAP_API void *coap_async_get_app_data(const coap_async_t *async);

#ifdef __cplusplus
}
#endif

#endif /* COAP_ASYNC_H_ */
