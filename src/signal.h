/*
 * signal.h -- RFC 8323 section 5 signaling messages (7.xx) on reliable
 * connections (internal, sans-I/O).
 *
 * Each side of a TCP, TLS or WebSocket connection sends a Capabilities and
 * Settings Message (CSM, 7.01) first; until the peer's arrives, its limits
 * are the base values (Max-Message-Size 1152, no block-wise transfer).
 * Ping (7.02) asks for a Pong (7.03); Release (7.04) asks the receiver to
 * close the connection, optionally naming another address and a hold-off
 * time; Abort (7.05) reports a fatal error and closes it.
 *
 * Option numbers are per message code (section 5.2): an even number is
 * elective and ignored when unknown or malformed, an odd one is critical
 * and, when unknown, aborts the connection (Bad-CSM-Option names it when it
 * was in a CSM). This module builds the messages and interprets received
 * ones into a pt_signal_info telling the connection what to do; it sends
 * nothing itself and keeps no clock.
 */
#ifndef PT_SIGNAL_H
#define PT_SIGNAL_H

#include "coap3/coap.h"

/* RFC 8323 5.3.1: the Max-Message-Size assumed before a CSM says more. */
#define PT_SIGNAL_BASE_MMS 1152u
/* RFC 8974: the longest token assumed before a CSM says more. */
#define PT_SIGNAL_BASE_TOKEN 8u
/* The smallest Max-Message-Size a peer may announce. RFC 8323 5.3.1 sets
 * no floor, but a peer that takes less cannot be sent a response with a
 * token, a few options and the smallest block (16 bytes) of RFC 7959; such
 * a value is "a parameter problem with the value of an elective option"
 * (5.6), answered with an Abort naming option 2. 64 is also the smallest
 * MTU libcoap accepts. */
#define PT_SIGNAL_MIN_MMS 64u

/* What a connection knows about its peer's capabilities. */
typedef struct pt_csm {
  uint32_t max_message_size; /* largest message it takes (bytes) */
  uint32_t max_token_length; /* RFC 8974 option 6 (8 when absent) */
  uint8_t block_wise;        /* it offered Block-Wise-Transfer */
} pt_csm;

/* The receive side of one connection's signaling state. */
typedef struct pt_signal_state {
  pt_csm peer;          /* base values until its CSM */
  uint8_t csm_received; /* the peer's first message was its CSM */
} pt_signal_state;

/* What pt_signal_rx() asks of the connection. */
typedef enum pt_signal_action {
  PT_SIGNAL_PASS,    /* not a signal: hand the message to the message layer */
  PT_SIGNAL_IGNORE,  /* handled, nothing to do (an Empty message) */
  PT_SIGNAL_CSM,     /* the peer's CSM: state->peer was updated */
  PT_SIGNAL_PING,    /* answer with pt_signal_build_pong() */
  PT_SIGNAL_PONG,    /* the answer to a Ping of ours (info: custody) */
  PT_SIGNAL_RELEASE, /* the peer asks us to close (info: address, hold-off) */
  PT_SIGNAL_ABORTED, /* the peer aborted: close at once (info: bad option) */
  PT_SIGNAL_ABORT,   /* invalid: send pt_signal_build_abort(info), close */
} pt_signal_action;

typedef struct pt_signal_info {
  pt_signal_action action;
  /* PT_SIGNAL_ABORT: the option to name in Bad-CSM-Option (0: none) and a
   * diagnostic (static text); PT_SIGNAL_ABORTED: the peer's Bad-CSM-Option
   * (0 if none). */
  uint32_t bad_csm_option;
  const char *diagnostic;
  uint8_t custody;            /* PT_SIGNAL_PING: Custody was asked;
                                 PT_SIGNAL_PONG: Custody was given */
  const uint8_t *alt_address; /* PT_SIGNAL_RELEASE: the first
                                 Alternative-Address (into the PDU), or
                                 NULL */
  size_t alt_address_len;
  uint32_t hold_off; /* PT_SIGNAL_RELEASE: seconds (0 if none) */
} pt_signal_info;

/* Readies @st (caller's storage) for a new connection: base values, no
 * CSM seen. */
void pt_signal_init(pt_signal_state *st);

/*
 * Interprets @pdu (borrowed), the next message received on the connection
 * of @st, and fills @info. The first message must be a CSM (section 5.3:
 * anything else aborts the connection); 0.00 Empty messages are ignored
 * wherever they come (section 3.4). A payload in a signaling message is a
 * diagnostic payload (RFC 7252 5.5.2, which section 5 keeps): it never
 * changes what the message asks. Returns info->action.
 */
pt_signal_action pt_signal_rx(pt_signal_state *st, const coap_pdu_t *pdu,
                              pt_signal_info *info);

/* 1 if BERT (RFC 8323 6: Block1/Block2 with SZX 7, payloads of any
 * multiple of 1024 bytes) may be used on the connection of @st, on which
 * we announced @our_mms: the peer offered Block-Wise-Transfer and both
 * Max-Message-Sizes are above 1152 (section 5.3.2). */
int pt_signal_bert(const pt_signal_state *st, uint32_t our_mms);

/* Builders: each empties @pdu (keeping its buffer) and fills it as the
 * message named; they return 1, or 0 when @pdu cannot hold it. Signaling
 * messages carry no token unless given. */

/* CSM with Max-Message-Size @mms and, if @block_wise, Block-Wise-Transfer. */
int pt_signal_build_csm(coap_pdu_t *pdu, uint32_t mms, int block_wise);

/* Ping (with Custody if @custody) carrying @token_len bytes at @token. */
int pt_signal_build_ping(coap_pdu_t *pdu, int custody, size_t token_len,
                         const uint8_t *token);

/* The Pong answering @ping (borrowed): its token, Custody if it asked. */
int pt_signal_build_pong(coap_pdu_t *pdu, const coap_pdu_t *ping);

/* Release with an Alternative-Address (@alt, NUL-terminated, 1 to 255
 * bytes; NULL for none) and Hold-Off @hold_off seconds (0: none; at most
 * 0xFFFFFF, the option's 3 bytes). */
int pt_signal_build_release(coap_pdu_t *pdu, const char *alt,
                            uint32_t hold_off);

/* Abort naming @bad_csm_option (0: none) with @diagnostic as its payload
 * (NULL or "" for none). */
int pt_signal_build_abort(coap_pdu_t *pdu, uint32_t bad_csm_option,
                          const char *diagnostic);

#endif /* PT_SIGNAL_H */
