/*
 * recv.h -- the receive path of the message layer (internal, sans-I/O).
 *
 * The event loop hands every datagram here with the session it belongs to
 * and the current time; everything the stack does in answer goes out
 * through context->send. Nothing here reads a clock or a socket, so tests
 * drive it with fake datagrams and a fake clock.
 */
#ifndef PT_RECV_H
#define PT_RECV_H

#include "coap3/coap.h"

/* Handles one datagram from @session's peer (borrowed bytes) at @now. */
void pt_recv_datagram(coap_session_t *session, const uint8_t *data,
                      size_t len, coap_tick_t now);

/* Handles one message already parsed (@pdu, borrowed; not a 7.xx
 * signal) from a reliable session's peer at @now: the entry for stream
 * transports, which frame and reassemble messages themselves. */
void pt_recv_message(coap_session_t *session, const coap_pdu_t *pdu,
                     coap_tick_t now);

typedef struct pt_dedup pt_dedup;

/*
 * Runs @request through resource dispatch and sends the response.
 * @d is the deduplication entry of the message it arrived in (NULL when
 * none could be kept, or for a request replayed by an async): a
 * piggybacked reply is recorded there for duplicates. With @separate set,
 * the request is an async's stored copy and the response goes out as a
 * message of its own (CON if the request was CON, else NON) with a fresh
 * MID.
 */
void pt_request_dispatch(coap_session_t *session, const coap_pdu_t *request,
                         pt_dedup *d, int separate, coap_tick_t now);

#endif /* PT_RECV_H */
