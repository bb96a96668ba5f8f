/*
 * event.c -- the deprecated event-handler setters and coap_handle_event().
 * The handler itself is stored by coap_register_event_handler() (context.c)
 * and library events go through pt_event().
 */
#include "context.h"

void coap_set_event_handler(coap_context_t *context, coap_event_handler_t hnd) {
  coap_register_event_handler(context, hnd);
}

void coap_clear_event_handler(coap_context_t *context) {
  coap_register_event_handler(context, NULL);
}

int coap_handle_event(coap_context_t *context, coap_event_t event,
                      coap_session_t *session) {
  if (!context || !context->event_handler)
    return 0;
  return context->event_handler(session, event);
}
