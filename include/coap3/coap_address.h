#ifndef COAP_ADDRESS_H_
#define COAP_ADDRESS_H_
/* Being written: see the wire-format work (issue 2). */
#endif
