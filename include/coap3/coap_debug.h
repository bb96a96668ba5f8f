#ifndef COAP_DEBUG_H_
#define COAP_DEBUG_H_
/* Being written: see the wire-format work (issue 2). */
#endif
