/*
 * optlist.c -- chains of options to be added to a PDU in number order.
 */
#include <stdlib.h>
#include <string.h>

#include "coap3/coap_pdu.h"

coap_optlist_t *coap_new_optlist(uint16_t number, size_t length,
                                 const uint8_t *data) {
  if (length && !data)
    return NULL;
  /* Entry and value in one block: one malloc, one free. */
  coap_optlist_t *o = malloc(sizeof(*o) + length);
  if (!o)
    return NULL;
  o->next = NULL;
  o->number = number;
  o->length = length;
  o->data = (uint8_t *)(o + 1);
  if (length)
    memcpy(o->data, data, length);
  return o;
}

int coap_insert_optlist(coap_optlist_t **optlist_chain,
                        coap_optlist_t *optlist) {
  if (!optlist_chain || !optlist)
    return 0;
  /* O(n) walk: chains hold a handful of options. Equal numbers keep their
   * insertion order, so repeated options (Uri-Path) stay in sequence. */
  coap_optlist_t **at = optlist_chain;
  while (*at && (*at)->number <= optlist->number)
    at = &(*at)->next;
  optlist->next = *at;
  *at = optlist;
  return 1;
}

/* Stable insertion sort of a chain built without coap_insert_optlist(). */
static void optlist_sort(coap_optlist_t **chain) {
  coap_optlist_t *sorted = NULL, *o = *chain;
  while (o) {
    coap_optlist_t *next = o->next;
    o->next = NULL;
    coap_insert_optlist(&sorted, o);
    o = next;
  }
  *chain = sorted;
}

int coap_add_optlist_pdu(coap_pdu_t *pdu, coap_optlist_t **optlist_chain) {
  if (!pdu || !optlist_chain)
    return 0;
  optlist_sort(optlist_chain);
  for (coap_optlist_t *o = *optlist_chain; o; o = o->next)
    if (!coap_add_option(pdu, o->number, o->length, o->data))
      return 0;
  return 1;
}

void coap_delete_optlist(coap_optlist_t *optlist_chain) {
  while (optlist_chain) {
    coap_optlist_t *next = optlist_chain->next;
    free(optlist_chain);
    optlist_chain = next;
  }
}
