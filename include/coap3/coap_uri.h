#ifndef COAP_URI_H_
#define COAP_URI_H_
/* Being written: see the wire-format work (issue 2). */
#endif
