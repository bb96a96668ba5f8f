#ifndef COAP_TIME_H_
#define COAP_TIME_H_
/* Being written: see the wire-format work (issue 2). */
#endif
