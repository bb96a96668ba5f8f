#ifndef COAP_OPTION_H_
#define COAP_OPTION_H_
/* Being written: see the wire-format work (issue 2). */
#endif
