/*
 * debug.h -- internal side of logging and the debug aids.
 */
#ifndef PETREL_DEBUG_H
#define PETREL_DEBUG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coap3/coap_debug.h"

/*
 * The send path (pt_send_bytes) calls this once per outgoing datagram:
 * returns the packet's number (counted from 1 since the last
 * coap_debug_set_packet_loss() call) if it must be dropped, else 0.
 * Packets are only counted while a loss setting is in force, so with none
 * (the default, or after "0%") it reads two fields and writes nothing, and
 * loops in several threads do not share a counter. With a setting in force
 * it is not thread-safe: one sending thread at a time.
 */
unsigned long pt_debug_drop_counted(void);
extern int pt_debug_loss_on; /* a loss setting is in force */
static inline unsigned long pt_debug_drop_packet(void) {
  return pt_debug_loss_on ? pt_debug_drop_counted() : 0;
}

/* What coap_get_log_level() returns, for the per-datagram checks to read
 * without a call. */
extern coap_log_t pt_log_level;

/* 1 if coap_show_pdu() prints with fprintf (the default), 0 for coap_log(). */
int pt_show_pdu_use_fprintf(void);

/*
 * Test hook: the default handler writes to @err (levels <= CRIT) and @dbg
 * (the others) instead of COAP_ERR_FD / COAP_DEBUG_FD; NULLs restore those.
 * Both are borrowed and must stay open while set.
 */
void pt_debug_set_default_output(FILE *err, FILE *dbg);

/*
 * Logs one datagram at COAP_LOG_DEBUG: "* SESSION: WHAT N bytes" (@what is
 * "sent" or "received") and, when it parses, the PDU as coap_show_pdu()
 * shows it. Nothing is done below debug level. All arguments are borrowed.
 */
struct coap_session_t;
void pt_show_datagram(const struct coap_session_t *s, const char *what,
                      const uint8_t *data, size_t len);

#endif /* PETREL_DEBUG_H */
