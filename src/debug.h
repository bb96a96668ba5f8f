/*
 * debug.h -- internal side of logging and the debug aids.
 */
#ifndef PETREL_DEBUG_H
#define PETREL_DEBUG_H

#include <stdio.h>

#include "coap3/coap_debug.h"

/*
 * The send path calls this once per outgoing datagram: returns 1 if the
 * packet must be dropped (as set by coap_debug_set_packet_loss()), else 0.
 * Each call counts as one packet sent. Not thread-safe: one sender at a time.
 */
int pt_debug_drop_packet(void);

/* 1 if coap_show_pdu() prints with fprintf (the default), 0 for coap_log(). */
int pt_show_pdu_use_fprintf(void);

/*
 * Test hook: the default handler writes to @err (levels <= CRIT) and @dbg
 * (the others) instead of COAP_ERR_FD / COAP_DEBUG_FD; NULLs restore those.
 * Both are borrowed and must stay open while set.
 */
void pt_debug_set_default_output(FILE *err, FILE *dbg);

#endif /* PETREL_DEBUG_H */
