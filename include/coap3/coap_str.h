#ifndef COAP_STR_H_
#define COAP_STR_H_
/* Being written: see the wire-format work (issue 2). */
#endif
