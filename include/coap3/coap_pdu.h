#ifndef COAP_PDU_H_
#define COAP_PDU_H_
/* Being written: see the wire-format work (issue 2). */
#endif
