/*
 * coap.h -- the one header a Petrel application includes.
 *
 * Petrel implements the public API of libcoap 4.3.4, so the version macros
 * below describe that API level; PETREL_VERSION names this library's own
 * release.
 */
#ifndef COAP_H_
#define COAP_H_

#define LIBCOAP_PACKAGE_BUGREPORT ""
#define LIBCOAP_PACKAGE_NAME "petrel"
#define LIBCOAP_PACKAGE_STRING "petrel 4.3.4"
#define LIBCOAP_PACKAGE_URL ""
#define LIBCOAP_PACKAGE_VERSION "4.3.4"
/* The libcoap API level implemented: 4.3.4. */
#define LIBCOAP_VERSION (4003004U)
#define PETREL_VERSION "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

#include "coap3/libcoap.h"

#include "coap3/coap_forward_decls.h"
#include "coap3/coap_address.h"
#include "coap3/coap_async.h"
#include "coap3/coap_block.h"
#include "coap3/coap_cache.h"
#include "coap3/coap_debug.h"
#include "coap3/coap_dtls.h"
#include "coap3/coap_encode.h"
#include "coap3/coap_event.h"
#include "coap3/coap_io.h"
#include "coap3/coap_mem.h"
#include "coap3/coap_net.h"
#include "coap3/coap_option.h"
#include "coap3/coap_petrel.h"
#include "coap3/coap_oscore.h"
#include "coap3/coap_pdu.h"
#include "coap3/coap_prng.h"
#include "coap3/coap_resource.h"
#include "coap3/coap_str.h"
#include "coap3/coap_subscribe.h"
#include "coap3/coap_time.h"
#include "coap3/coap_uri.h"
#include "coap3/coap_ws.h"

#ifdef __cplusplus
}
#endif

#endif /* COAP_H_ */
