/*
 * tool.c -- the command-line pieces coap-client and coap-server share
 * (tool.h).
 */
#include "tool.h"

#include <coap3/coap.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The values getopt_long() returns for the long options. */
enum { LONG_VERSION = 1, LONG_HELP = 2 };

/* What getopt_long() returned that is not an option to take: help,
 * version, or a usage error. -1 to exit successfully, 0 on an error, 1 if
 * @opt is an option to take. */
static int special_option(int opt, char **argv, const tool_cmdline *cl) {
  /* -h names a file or a hint, as in libcoap; -h as the last argument and
   * --help are help. */
  if (opt == LONG_HELP || (opt == ':' && optopt == 'h')) {
    cl->usage(stdout);
    return -1;
  }
  if (opt == LONG_VERSION) {
    tool_version(stdout, cl->prog);
    return -1;
  }
  if (opt == ':') {
    fprintf(stderr, "%s: option -%c needs a value\n", cl->prog, optopt);
    return 0;
  }
  if (opt == '?') {
    if (optopt)
      fprintf(stderr, "%s: unknown option -%c\n", cl->prog, optopt);
    else
      fprintf(stderr, "%s: unknown option %s\n", cl->prog, argv[optind - 1]);
    cl->after_unknown();
    return 0;
  }
  return 1;
}

int tool_parse_options(int argc, char **argv, const tool_cmdline *cl,
                       void *opts) {
  static const struct option longs[] = {
      {"help", no_argument, NULL, LONG_HELP},
      {"version", no_argument, NULL, LONG_VERSION},
      {NULL, 0, NULL, 0}};
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv, cl->optstring, longs, NULL)) != -1) {
    int r = special_option(opt, argv, cl);
    if (r <= 0)
      return r;
    if (!cl->take(opts, opt, optarg))
      return 0;
  }
  return 1;
}

void tool_version(FILE *f, const char *prog) {
  char buf[128];
  fprintf(f, "%s v%s -- Petrel %s, a CoAP implementation\n", prog,
          LIBCOAP_PACKAGE_VERSION, PETREL_VERSION);
  fprintf(f, "Build: %s\n", coap_package_build());
  fprintf(f, "%s\n", coap_string_tls_version(buf, sizeof(buf)));
  fprintf(f, "%s\n", coap_string_tls_support(buf, sizeof(buf)));
}

unsigned long tool_parse_number(const char *s, unsigned long lo,
                                unsigned long hi, int base, int *ok) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, base);
  *ok = *s && *s != '-' && *end == '\0' && errno == 0 && v >= lo && v <= hi;
  return v;
}

int tool_lacks(const char *prog, char opt, const char *what) {
  fprintf(stderr, "%s: -%c needs %s, which this build lacks\n", prog, opt,
          what);
  return TOOL_FAILED;
}

void tool_catch_signals(void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = handler;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

int tool_set_loss(const char *prog, const char *loss) {
  if (!loss || coap_debug_set_packet_loss(loss))
    return 1;
  fprintf(stderr, "%s: bad value '%s' for -l (N%% or a list like 1,3,5-7)\n",
          prog, loss);
  return 0;
}
