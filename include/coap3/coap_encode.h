#ifndef COAP_ENCODE_H_
#define COAP_ENCODE_H_
/* Being written: see the wire-format work (issue 2). */
#endif
