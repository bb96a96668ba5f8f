/*
 * coap_debug.h -- logging and debugging aids (libcoap 4.3.4 API).
 *
 * Messages carry a level; those above the current level are dropped
 * before their arguments are even evaluated, because coap_log() and the
 * coap_log_<level>() macros test the level first and only then call
 * coap_log_impl(). Output goes to a handler set with coap_set_log_handler(),
 * or by default to COAP_ERR_FD (levels EMERG..CRIT) and COAP_DEBUG_FD (the
 * others) as one line:
 *
 *   "Mon DD HH:MM:SS.mmm LEVL message"
 *
 * with the local wall-clock time and LEVL one of EMRG ALRT CRIT "ERR " WARN
 * NOTE INFO DEBG "OSC " (a (D)TLS message shows the name of its base
 * level). The message is written as formatted: callers end it with "\n".
 *
 * Thread rules: levels and the handler are plain settings; set them before
 * threads start. Logging itself may happen from any thread.
 */
#ifndef COAP_DEBUG_H_
#define COAP_DEBUG_H_

#include <stddef.h>
#include <stdio.h>

#include "coap3/libcoap.h"

#include "coap3/coap_address.h"
#include "coap3/coap_forward_decls.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef COAP_DEBUG_FD
/** Where the default handler writes levels COAP_LOG_ERR and above. */
#define COAP_DEBUG_FD stdout
#endif

#ifndef COAP_ERR_FD
/** Where the default handler writes levels COAP_LOG_CRIT and below. */
#define COAP_ERR_FD stderr
#endif

#ifndef COAP_MAX_LOGGING_LEVEL
/**
 * The most verbose level compiled into the coap_log_<level>() macros of the
 * including file: define it lower before including to compile out chatter.
 */
#define COAP_MAX_LOGGING_LEVEL 8
#endif

/** Log levels, syslog's order: a smaller value is more severe. */
typedef enum {
  COAP_LOG_EMERG = 0,
  COAP_LOG_ALERT,     /* 1 */
  COAP_LOG_CRIT,      /* 2 */
  COAP_LOG_ERR,       /* 3 */
  COAP_LOG_WARN,      /* 4, the default */
  COAP_LOG_NOTICE,    /* 5 */
  COAP_LOG_INFO,      /* 6 */
  COAP_LOG_DEBUG,     /* 7 */
  COAP_LOG_OSCORE,    /* 8 */
  COAP_LOG_DTLS_BASE, /* (D)TLS messages are logged at this + their level */
#define COAP_LOG_CIPHERS COAP_LOG_DTLS_BASE /* older name */
} coap_log_t;

/* The same values as plain numbers, usable in #if. */
#define _COAP_LOG_EMERG 0
#define _COAP_LOG_ALERT 1
#define _COAP_LOG_CRIT 2
#define _COAP_LOG_ERR 3
#define _COAP_LOG_WARN 4
#define _COAP_LOG_NOTICE 5
#define _COAP_LOG_INFO 6
#define _COAP_LOG_DEBUG 7
#define _COAP_LOG_OSCORE 8

/** Does nothing; what a compiled-out log call stands for. */
COAP_STATIC_INLINE void coap_no_log(void) {}

/*
 * syslog-style names kept for older applications. Each is defined only if
 * <syslog.h> has not defined it first (its values are the same).
 */
#ifndef LOG_EMERG
#define LOG_EMERG COAP_LOG_EMERG
#endif
#ifndef LOG_ALERT
#define LOG_ALERT COAP_LOG_ALERT
#endif
#ifndef LOG_CRIT
#define LOG_CRIT COAP_LOG_CRIT
#endif
#ifndef LOG_ERR
#define LOG_ERR COAP_LOG_ERR
#endif
#ifndef LOG_WARNING
#define LOG_WARNING COAP_LOG_WARN
#endif
#ifndef LOG_NOTICE
#define LOG_NOTICE COAP_LOG_NOTICE
#endif
#ifndef LOG_INFO
#define LOG_INFO COAP_LOG_INFO
#endif
#ifndef LOG_DEBUG
#define LOG_DEBUG COAP_LOG_DEBUG
#endif

/** Returns the current log level (COAP_LOG_WARN until set). */
COAP_API coap_log_t coap_get_log_level(void);

/** Sets the log level: messages with a level above @p level are dropped. */
COAP_API void coap_set_log_level(coap_log_t level);

/**
 * Sets the level for (D)TLS library messages (OpenSSL's errors, logged
 * through coap_dtls_log()). Default: COAP_LOG_EMERG.
 */
COAP_API void coap_dtls_set_log_level(coap_log_t level);

/** Returns the (D)TLS log level. */
COAP_API coap_log_t coap_dtls_get_log_level(void);

/**
 * A log handler: receives the level (COAP_LOG_DTLS_BASE + level for (D)TLS
 * messages) and the formatted, NUL-terminated message (borrowed: valid
 * only during the call; at most 2047 characters, longer ones are cut).
 */
typedef void (*coap_log_handler_t)(coap_log_t level, const char *message);

/**
 * Sends all log output (CoAP and (D)TLS) to @p handler; NULL restores the
 * default handler described at the top of this file.
 */
COAP_API void coap_set_log_handler(coap_log_handler_t handler);

/** Returns the library's name: "petrel". */
COAP_API const char *coap_package_name(void);

/** Returns name and API version, e.g. "petrel 4.3.4". */
COAP_API const char *coap_package_version(void);

/** Returns the build description: the library's own release. */
COAP_API const char *coap_package_build(void);

/**
 * Logs a message at @p level, printf-style, if @p level passes the current
 * level (the (D)TLS level for COAP_LOG_DTLS_BASE and above). Applications
 * normally use coap_log() or coap_log_<level>(), which skip the call (and
 * the evaluation of the arguments) when the level does not pass.
 */
COAP_API void coap_log_impl(coap_log_t level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#ifndef coap_log
/** Logs printf-style at @p level; arguments are evaluated only if logged. */
#define coap_log(level, ...)                                                   \
  do {                                                                         \
    if ((int)(level) <= (int)coap_get_log_level())                             \
      coap_log_impl((level), __VA_ARGS__);                                     \
  } while (0)
#endif

#ifndef coap_dtls_log
/** Logs a (D)TLS message at @p level against the (D)TLS log level. */
#define coap_dtls_log(level, ...)                                              \
  do {                                                                         \
    if ((int)(level) <= (int)coap_dtls_get_log_level())                        \
      coap_log_impl((coap_log_t)((level) + COAP_LOG_DTLS_BASE), __VA_ARGS__);  \
  } while (0)
#endif

/* One macro per level; levels above COAP_MAX_LOGGING_LEVEL compile out. */
#define COAP_LOG_AT_(lvl, n, ...)                                              \
  do {                                                                         \
    if (COAP_MAX_LOGGING_LEVEL >= (n))                                         \
      coap_log((lvl), __VA_ARGS__);                                            \
  } while (0)
#define coap_log_emerg(...) coap_log(COAP_LOG_EMERG, __VA_ARGS__)
#define coap_log_alert(...) COAP_LOG_AT_(COAP_LOG_ALERT, 1, __VA_ARGS__)
#define coap_log_crit(...) COAP_LOG_AT_(COAP_LOG_CRIT, 2, __VA_ARGS__)
#define coap_log_err(...) COAP_LOG_AT_(COAP_LOG_ERR, 3, __VA_ARGS__)
#define coap_log_warn(...) COAP_LOG_AT_(COAP_LOG_WARN, 4, __VA_ARGS__)
#define coap_log_notice(...) COAP_LOG_AT_(COAP_LOG_NOTICE, 5, __VA_ARGS__)
#define coap_log_info(...) COAP_LOG_AT_(COAP_LOG_INFO, 6, __VA_ARGS__)
#define coap_log_debug(...) COAP_LOG_AT_(COAP_LOG_DEBUG, 7, __VA_ARGS__)
#define coap_log_oscore(...) COAP_LOG_AT_(COAP_LOG_OSCORE, 8, __VA_ARGS__)

/**
 * Chooses where coap_show_pdu() writes: 1 (the default) prints directly
 * to COAP_DEBUG_FD, 0 sends each line through coap_log().
 */
COAP_API void coap_set_show_pdu_output(int use_fprintf);

/**
 * Prints a readable decoding of @p pdu (borrowed) if @p level passes the
 * current log level; where it goes follows coap_set_show_pdu_output().
 */
COAP_API void coap_show_pdu(coap_log_t level, const coap_pdu_t *pdu);

/** Logs the coap_string_tls_version() line at @p level. */
COAP_API void coap_show_tls_version(coap_log_t level);

/**
 * Writes the (D)TLS library version into @p buffer (borrowed, @p bufsize
 * bytes, NUL-terminated, cut to fit): "TLS Library: OpenSSL - runtime
 * X.Y.Z, built for X.Y.Z", or "TLS Library: None" in libcoap-3-notls.
 * @return @p buffer.
 */
COAP_API char *coap_string_tls_version(char *buffer, size_t bufsize);

/**
 * Writes which (D)TLS features are available into @p buffer (borrowed,
 * NUL-terminated, cut to fit): "(DTLS and TLS support; PSK, PKI, no
 * PKCS11, and no RPK support)", or "(No DTLS or TLS support)" in
 * libcoap-3-notls.
 * @return @p buffer.
 */
COAP_API char *coap_string_tls_support(char *buffer, size_t bufsize);

/**
 * Formats @p address (borrowed) with its port into @p buffer (@p size
 * bytes, always NUL-terminated when @p size > 0, cut to fit): "a.b.c.d:port"
 * for IPv4, "[v6addr]:port" for IPv6, "'path'" for AF_UNIX and
 * "(unknown address type)" otherwise.
 * @return The number of characters written, NUL excluded.
 */
COAP_API size_t coap_print_addr(const coap_address_t *address,
                                unsigned char *buffer, size_t size);

/**
 * Formats the IP address of @p address alone (no port, no brackets) into
 * @p buffer; AF_UNIX gives "'path'". IPv4 needs INET_ADDRSTRLEN bytes and
 * IPv6 INET6_ADDRSTRLEN: with less, @p buffer is left empty.
 * @return @p buffer (NUL-terminated when @p size > 0).
 */
COAP_API const char *coap_print_ip_addr(const coap_address_t *address,
                                        char *buffer, size_t size);

/**
 * Makes the library drop outgoing packets on purpose, for testing
 * recovery. @p loss_level (borrowed) is either
 *  - a percentage "N%" (0 to 100; larger values count as 100): each packet
 *    is dropped with that probability (drawn from the library's PRNG, see
 *    coap_prng(3)), or
 *  - a list "A[-B][,C[-D]]..." of up to 10 packet numbers or inclusive
 *    ranges (counting from 1, B >= A): those sends are dropped.
 * Each successful call replaces the previous setting and restarts the
 * packet count; "0%" turns dropping off (the default).
 *
 * A packet is one datagram handed to the socket, by any session of any
 * context of the process, counted in the order they are sent (retransmissions
 * and Empty ACKs, RSTs and pings included; datagrams the amplification limit
 * holds back are not sent and not counted). A dropped datagram is logged at
 * COAP_LOG_DEBUG and otherwise treated as sent, as if the network had lost
 * it. Call it from the loop thread, or before loops start: while a setting
 * is in force the count is not safe against several sending threads.
 *
 * @return 1 if the setting was accepted, 0 if @p loss_level is malformed
 *         (the previous setting then stays).
 */
COAP_API int coap_debug_set_packet_loss(const char *loss_level);

#ifdef __cplusplus
}
#endif

#endif /* COAP_DEBUG_H_ */
