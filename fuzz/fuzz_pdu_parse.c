/*
 * fuzz_pdu_parse.c -- feeds arbitrary datagrams to coap_pdu_parse(); for
 * those it accepts, walks the options, frames the PDU again and checks the
 * bytes are identical and reparse to the same fields.
 */
#include <stdlib.h>
#include <string.h>

#include "coap3/coap_pdu.h"
#include "pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_options(const coap_pdu_t *pdu) {
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
  while ((opt = coap_option_next(&it))) {
    size_t len = coap_opt_length(opt);
    const uint8_t *v = coap_opt_value(opt);
    if (len && (!v || coap_opt_size(opt) < len))
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  coap_pdu_t *pdu = coap_pdu_init(0, 0, 0, 0);
  if (!pdu)
    return 0;
  if (coap_pdu_parse(COAP_PROTO_UDP, data, size, pdu)) {
    walk_options(pdu);
    const uint8_t *wire;
    size_t len;
    if (!pt_pdu_wire(pdu, &wire, &len) || len != size ||
        memcmp(wire, data, size) != 0)
      abort();
    coap_pdu_t *again = coap_pdu_init(0, 0, 0, 0);
    if (again) {
      if (!coap_pdu_parse(COAP_PROTO_UDP, wire, len, again) ||
          again->max_opt != pdu->max_opt ||
          again->token_length != pdu->token_length ||
          (again->data == NULL) != (pdu->data == NULL))
        abort();
      coap_delete_pdu(again);
    }
  }
  coap_delete_pdu(pdu);
  return 0;
}
