#ifndef COAP_MEM_H_
#define COAP_MEM_H_
/* Being written: see the wire-format work (issue 2). */
#endif
