#ifndef COAP_PRNG_H_
#define COAP_PRNG_H_
/* Being written: see the wire-format work (issue 2). */
#endif
