/*
 * libcoap.h -- Petrel: platform glue shared by every public header.
 *
 * Petrel is source compatible with libcoap 4.3.4: applications include
 * <coap3/coap.h> and link with -lcoap-3.
 */
#ifndef COAP_LIBCOAP_H_
#define COAP_LIBCOAP_H_

#include <netinet/in.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef COAP_STATIC_INLINE
#if defined(__cplusplus)
#define COAP_STATIC_INLINE inline
#else
#define COAP_STATIC_INLINE static inline
#endif
#endif

#ifndef COAP_DEPRECATED
#define COAP_DEPRECATED __attribute__((deprecated))
#endif

#ifndef COAP_UNUSED
#define COAP_UNUSED __attribute__((unused))
#endif

#ifndef COAP_THREAD_LOCAL_VAR
#define COAP_THREAD_LOCAL_VAR __thread
#endif

/*
 * COAP_API marks every function the library exports. The library is built
 * with -fvisibility=hidden, so anything without it stays internal.
 */
#ifndef COAP_API
#define COAP_API __attribute__((visibility("default")))
#endif

/**
 * Initializes the library. Call once before any other function; calling it
 * again is harmless. Seeds the PRNG and the clock.
 */
COAP_API void coap_startup(void);

/**
 * Releases what coap_startup() set up. Call once after the last context has
 * been freed.
 */
COAP_API void coap_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif /* COAP_LIBCOAP_H_ */
