/*
 * startup.c -- library-wide initialization and teardown.
 */
#include "coap3/coap.h"

#include "clock.h"
#include "prng.h"

static int startup_done;

void coap_startup(void) {
  if (startup_done)
    return;
  startup_done = 1;
  coap_clock_init();
  pt_prng_startup();
}

void coap_cleanup(void) {
  startup_done = 0;
}
