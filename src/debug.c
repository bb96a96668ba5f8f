/*
 * debug.c -- log levels, the default log handler, address printing, the
 * packet-loss simulator and the library's identity strings.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "coap3/coap.h"
#include "debug.h"
#include "prng.h"

/* ---- levels and handler ---------------------------------------------- */

coap_log_t pt_log_level = COAP_LOG_WARN; /* debug.h */
static coap_log_t dtls_log_level = COAP_LOG_EMERG;
static coap_log_handler_t log_handler;
static FILE *err_out, *dbg_out; /* test overrides of the default streams */
static int show_pdu_fprintf = 1;

#define LOG_MESSAGE_MAX 2048

coap_log_t coap_get_log_level(void) {
  return pt_log_level;
}

void coap_set_log_level(coap_log_t level) {
  pt_log_level = level;
}

coap_log_t coap_dtls_get_log_level(void) {
  return dtls_log_level;
}

void coap_dtls_set_log_level(coap_log_t level) {
  dtls_log_level = level;
}

void coap_set_log_handler(coap_log_handler_t handler) {
  log_handler = handler;
}

void pt_debug_set_default_output(FILE *err, FILE *dbg) {
  err_out = err;
  dbg_out = dbg;
}

void coap_set_show_pdu_output(int use_fprintf) {
  show_pdu_fprintf = use_fprintf;
}

int pt_show_pdu_use_fprintf(void) {
  return show_pdu_fprintf;
}

static const char *level_name(coap_log_t level) {
  static const char *const names[] = {"EMRG", "ALRT", "CRIT", "ERR ", "WARN",
                                      "NOTE", "INFO", "DEBG", "OSC "};
  unsigned n = (unsigned)level;
  if (n >= COAP_LOG_DTLS_BASE)
    n -= COAP_LOG_DTLS_BASE;
  return n < sizeof(names) / sizeof(names[0]) ? names[n] : "????";
}

/* "Mon DD HH:MM:SS.mmm" in local time; empty if the clock cannot say. */
static void timestamp(char *buf, size_t size) {
  coap_tick_t now = pt_clock_now();
  uint64_t us = coap_ticks_to_rt_us(now);
  time_t secs = (time_t)(us / 1000000u);
  struct tm tm;
  buf[0] = '\0';
  if (!localtime_r(&secs, &tm))
    return;
  size_t n = strftime(buf, size, "%b %d %H:%M:%S", &tm);
  if (n)
    snprintf(buf + n, size - n, ".%03u", (unsigned)(us / 1000u % 1000u));
}

/* The DTLS band is filtered against its own level, the rest against ours. */
static int level_passes(coap_log_t level) {
  if ((int)level >= COAP_LOG_DTLS_BASE)
    return (int)level - COAP_LOG_DTLS_BASE <= (int)dtls_log_level;
  return (int)level <= (int)pt_log_level;
}

void coap_log_impl(coap_log_t level, const char *format, ...) {
  va_list ap;
  if (!level_passes(level))
    return;
  coap_log_handler_t handler = log_handler;
  if (handler) {
    char message[LOG_MESSAGE_MAX];
    va_start(ap, format);
    vsnprintf(message, sizeof(message), format, ap);
    va_end(ap);
    handler(level, message);
    return;
  }
  int severe = (int)level <= COAP_LOG_CRIT;
  FILE *out = severe ? (err_out ? err_out : COAP_ERR_FD)
                     : (dbg_out ? dbg_out : COAP_DEBUG_FD);
  char ts[40];
  timestamp(ts, sizeof(ts));
  /* One buffered write per line keeps lines from threads unmixed. */
  flockfile(out);
  fprintf(out, "%s %s ", ts, level_name(level));
  va_start(ap, format);
  vfprintf(out, format, ap);
  va_end(ap);
  fflush(out);
  funlockfile(out);
}

/* ---- identity ------------------------------------------------------------ */

const char *coap_package_name(void) {
  return LIBCOAP_PACKAGE_NAME;
}

const char *coap_package_version(void) {
  return LIBCOAP_PACKAGE_STRING;
}

const char *coap_package_build(void) {
  return LIBCOAP_PACKAGE_NAME " " PETREL_VERSION;
}

/* coap_string_tls_version() and coap_string_tls_support() belong to the
 * (D)TLS backend (src/tls/). */

void coap_show_tls_version(coap_log_t level) {
  char buf[128];
  coap_log(level, "%s\n", coap_string_tls_version(buf, sizeof(buf)));
}

/* ---- addresses -------------------------------------------------------- */

static size_t unix_path_len(const coap_address_t *a) {
  const char *nul = memchr(a->addr.cun.sun_path, '\0', COAP_UNIX_PATH_MAX);
  return nul ? (size_t)(nul - a->addr.cun.sun_path) : COAP_UNIX_PATH_MAX;
}

const char *coap_print_ip_addr(const coap_address_t *addr, char *buf,
                               size_t size) {
  if (!buf || !size)
    return buf;
  buf[0] = '\0';
  switch (addr->addr.sa.sa_family) {
  case AF_INET:
    if (size < INET_ADDRSTRLEN ||
        !inet_ntop(AF_INET, &addr->addr.sin.sin_addr, buf, (socklen_t)size))
      buf[0] = '\0';
    break;
  case AF_INET6:
    if (size < INET6_ADDRSTRLEN ||
        !inet_ntop(AF_INET6, &addr->addr.sin6.sin6_addr, buf, (socklen_t)size))
      buf[0] = '\0';
    break;
  case AF_UNIX:
    snprintf(buf, size, "'%.*s'", (int)unix_path_len(addr),
             addr->addr.cun.sun_path);
    break;
  default:
    snprintf(buf, size, "(unknown address type)");
    break;
  }
  return buf;
}

size_t coap_print_addr(const coap_address_t *addr, unsigned char *buffer,
                       size_t size) {
  char ip[INET6_ADDRSTRLEN];
  char *buf = (char *)buffer;
  if (!buf || !size)
    return 0;
  switch (addr->addr.sa.sa_family) {
  case AF_INET:
    snprintf(buf, size, "%s:%u", coap_print_ip_addr(addr, ip, sizeof(ip)),
             coap_address_get_port(addr));
    break;
  case AF_INET6:
    snprintf(buf, size, "[%s]:%u", coap_print_ip_addr(addr, ip, sizeof(ip)),
             coap_address_get_port(addr));
    break;
  default:
    coap_print_ip_addr(addr, buf, size);
    break;
  }
  return strlen(buf);
}

/* ---- packet-loss simulation ------------------------------------------- */

#define LOSS_INTERVALS_MAX 10

struct loss_setting {
  uint32_t percent_scaled; /* drop if a 16-bit random value is below this */
  unsigned count;          /* intervals in use */
  struct {
    unsigned long first, last;
  } intervals[LOSS_INTERVALS_MAX];
};

static struct loss_setting loss;
static unsigned long packets_sent;
int pt_debug_loss_on; /* debug.h */

/* Reads a decimal number of at most 9 digits; returns the end or NULL. */
static const char *parse_number(const char *p, unsigned long *out) {
  unsigned long v = 0;
  int digits = 0;
  while (*p >= '0' && *p <= '9') {
    if (++digits > 9)
      return NULL;
    v = v * 10 + (unsigned long)(*p++ - '0');
  }
  if (!digits)
    return NULL;
  *out = v;
  return p;
}

/* "A[-B](,A[-B])*" with 1 <= A <= B; the whole string must be consumed. */
static int parse_intervals(const char *p, struct loss_setting *s) {
  for (;;) {
    unsigned long first, last;
    if (s->count == LOSS_INTERVALS_MAX || !(p = parse_number(p, &first)) ||
        first == 0)
      return 0;
    last = first;
    if (*p == '-' && (!(p = parse_number(p + 1, &last)) || last < first))
      return 0;
    s->intervals[s->count].first = first;
    s->intervals[s->count++].last = last;
    if (*p == '\0')
      return 1;
    if (*p++ != ',')
      return 0;
  }
}

int coap_debug_set_packet_loss(const char *loss_level) {
  struct loss_setting s;
  unsigned long n;
  const char *end;
  memset(&s, 0, sizeof(s));
  if (!loss_level || !(end = parse_number(loss_level, &n)))
    return 0;
  if (*end == '%') {
    if (end[1] != '\0')
      return 0;
    s.percent_scaled = (uint32_t)((n > 100 ? 100 : n) * 65536u / 100u);
  } else if (!parse_intervals(loss_level, &s)) {
    return 0;
  }
  loss = s;
  packets_sent = 0;
  pt_debug_loss_on = s.count || s.percent_scaled;
  coap_log_debug("packet loss set to \"%s\"\n", loss_level);
  return 1;
}

unsigned long pt_debug_drop_counted(void) {
  if (!loss.count && !loss.percent_scaled)
    return 0;
  unsigned long n = ++packets_sent;
  for (unsigned i = 0; i < loss.count; i++)
    if (n >= loss.intervals[i].first && n <= loss.intervals[i].last)
      return n;
  if (loss.percent_scaled && (pt_prng_u64() & 0xffffu) < loss.percent_scaled)
    return n;
  return 0;
}
