/*
 * tool.h -- what coap-client and coap-server share besides the DTLS
 * options (dtls_opts.h): the version lines, the getopt loop with libcoap's
 * conventions for -h, --help and --version, numbers from the command line,
 * and the messages for what a build lacks.
 */
#ifndef PETREL_TOOL_H
#define PETREL_TOOL_H

#include <stdio.h>

/* A tool's command line: its name, getopt string (starting with ':'), its
 * usage text, what it prints after an unknown option, and the function
 * that takes one option letter and its value (NULL for flags) into @opts,
 * returning 1 if taken or 0 on an error (message printed). */
typedef struct tool_cmdline {
  const char *prog;
  const char *optstring;
  void (*usage)(FILE *f);
  void (*after_unknown)(void);
  int (*take)(void *opts, int opt, const char *v);
} tool_cmdline;

/* Runs getopt_long() over @argv, handing each option to @cl->take. -h as
 * the last argument and --help print the usage text on stdout, --version
 * the version lines. Returns -1 to exit successfully (help, version), 0 on
 * a usage error (message printed), 1 with optind at the first operand. */
int tool_parse_options(int argc, char **argv, const tool_cmdline *cl,
                       void *opts);

/* The header libcoap's tools print above their usage text: the program
 * @prog, the package version, the build and the (D)TLS library. */
void tool_version(FILE *f, const char *prog);

/* A number in [@lo, @hi] in @base (0: C's prefixes); *ok says whether @s
 * was one (no sign, no trailing text). */
unsigned long tool_parse_number(const char *s, unsigned long lo,
                                unsigned long hi, int base, int *ok);

/* What a tool's option-taking functions make of a letter: taken, a bad
 * value (the caller says so), an error already reported, or a letter for
 * another function. */
enum { TOOL_BAD = 0, TOOL_TAKEN = 1, TOOL_FAILED = -1, TOOL_OTHER = 2 };

/* Says on stderr that -@opt needs @what, which this build lacks. Returns
 * TOOL_FAILED. */
int tool_lacks(const char *prog, char opt, const char *what);

/* SIGINT and SIGTERM call @handler, without SA_RESTART so that they wake
 * coap_io_process() up; SIGPIPE is ignored (a peer that closed a TCP
 * connection must not end the tool). */
void tool_catch_signals(void (*handler)(int));

/* -l loss: coap_debug_set_packet_loss(@loss) when given. 1, or 0 with the
 * reason printed. */
int tool_set_loss(const char *prog, const char *loss);

#endif /* PETREL_TOOL_H */
