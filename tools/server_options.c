/*
 * server_options.c -- coap-server's command line: libcoap's option letters
 * and meanings and the usage text.
 */
#include "server.h"
#include "tool.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  tool_version(f, "coap-server");
  fprintf(
      f,
      "\nusage: coap-server [-d max] [-e] [-g group] [-l loss] [-p port] "
      "[-r] [-t]\n"
      "                   [-v num] [-w [port][,secure_port]] [-A address]\n"
      "                   [-E oscore_conf_file[,seq_file]] [-G group_if]\n"
      "                   [-L value] [-N] [-P scheme://addr[:port],[name...]]\n"
      "                   [-T max_token_size] [-U type] [-V num] [-X size]\n"
      "                   [-h] [--version]\n"
      "  -d max     PUT/POST to an unknown path creates a resource there,\n"
      "             up to max of them (then 4.06)\n"
      "  -e         a PUT to /example_data is answered with the body\n"
      "  -g group   join this multicast group (224.0.1.187, ff02::fd, ...)\n"
      "  -l loss    drop outgoing datagrams: 'N%%' at random, or a list\n"
      "             '1,3,5-7' of datagram numbers (for testing)\n"
      "  -p port    UDP port (default 5683; 0 picks a free one)\n"
      "  -r         multicast per resource: only /, /async and\n"
      "             /.well-known/core answer requests sent to a group\n"
      "  -t         keep observers across a restart (SIGUSR2 stops and "
      "keeps)\n"
      "  -v num     log level 0..8 (default 4, warnings; 7 logs each PDU)\n"
      "  -w [port][,secure_port]  listen for coap+ws on port too (default\n"
      "             80; 0 picks a free one) and, with -k or -c, for coaps+ws\n"
      "             on secure_port (default 443; 0 picks a free one)\n"
      "  -A addr    address to listen on (default ::, IPv6 and IPv4)\n"
      "  -E file    OSCORE configuration (RFC 8613)\n"
      "  -G group_if  the interface to join the -g group on\n"
      "  -L value   block mode: the sum of COAP_BLOCK_* flags, which must\n"
      "             include COAP_BLOCK_USE_LIBCOAP (1); 2 adds\n"
      "             COAP_BLOCK_SINGLE_BODY (default 3)\n"
      "  -N         notify observers with NONs (every fifth a CON)\n"
      "  -P scheme://addr[:port],[name...]  act as a proxy\n"
      "  -T max_token_size  accept tokens of up to this many bytes "
      "(8..65804)\n"
      "  -U type    -A is a Unix socket path; type 'coap' (datagrams)\n"
      "  -V num     (D)TLS log level 0..7 (default 3)\n"
      "  -X size    largest message over TCP\n"
      "  coaps (DTLS, on port+1, or a free port with -p 0) with\n"
      "  -k key [-h hint] [-i id_file] [-s psk_sni_file] (pre-shared key)\n"
      "  and/or -c certfile [-j keyfile] [-C cafile] [-R trust_casfile]\n"
      "  [-n] [-S pki_sni_file]; -M (raw public keys) is not available with\n"
      "  OpenSSL\n"
      "  -h, --help this text (-h as the last argument)\n"
      "  --version  the version lines above\n"
      "Prints 'coap-server: listening on ADDR:PORT' to stderr once ready.\n"
      "exit status: 0 after SIGINT/SIGTERM/SIGUSR2, 1 on a usage or setup "
      "error\n");
}

/* -U type: only datagrams over a Unix socket are built. */
static int parse_unix(server_opts_t *o, const char *v) {
  if (strcmp(v, "coap") == 0) {
    o->unix_socket = 1;
    return TOOL_TAKEN;
  }
  if (strcmp(v, "coaps") == 0) {
    if (!coap_dtls_is_supported())
      return tool_lacks("coap-server", 'U', "DTLS for 'coaps'");
    fprintf(stderr, "coap-server: -U coaps: DTLS over a Unix socket is not "
                    "served by this coap-server\n");
    return TOOL_FAILED;
  }
  if (strcmp(v, "coap+tcp") == 0) {
    fprintf(stderr, "coap-server: -U coap+tcp: TCP over a Unix socket is not "
                    "served by this coap-server\n");
    return TOOL_FAILED;
  }
  if (strcmp(v, "coaps+tcp") == 0) {
    if (!coap_tls_is_supported())
      return tool_lacks("coap-server", 'U', "TLS for 'coaps+tcp'");
    fprintf(stderr, "coap-server: -U coaps+tcp: TLS over a Unix socket is "
                    "not served by this coap-server\n");
    return TOOL_FAILED;
  }
  fprintf(stderr,
          "coap-server: bad value '%s' for -U (coap, coaps, "
          "coap+tcp or coaps+tcp)\n",
          v);
  return TOOL_FAILED;
}

/* A port of -w: @n bytes at @v, @dflt when empty. 1, or 0 if bad. */
static int ws_port_value(const char *v, size_t n, int dflt, int *out) {
  char port[8];
  int ok = n < sizeof(port);
  *out = dflt;
  if (ok && n) {
    memcpy(port, v, n);
    port[n] = '\0';
    *out = (int)tool_parse_number(port, 0, 65535, 10, &ok);
  }
  return ok;
}

/* -w [port][,secure_port]: coap+ws on port (80 when empty) and, when
 * credentials are given, coaps+ws on secure_port (443 when empty), as
 * libcoap's server does; a secure port needs TLS. */
static int parse_ws(server_opts_t *o, const char *v) {
  if (!coap_ws_is_supported())
    return tool_lacks("coap-server", 'w', "WebSockets");
  const char *comma = strchr(v, ',');
  if (comma && comma[1] && !coap_wss_is_supported())
    return tool_lacks("coap-server", 'w', "TLS for coaps+ws (the secure_port)");
  size_t n = comma ? (size_t)(comma - v) : strlen(v);
  int ok = ws_port_value(v, n, 80, &o->ws_port);
  o->wss_given = comma && comma[1];
  if (ok)
    ok = ws_port_value(comma ? comma + 1 : "", comma ? strlen(comma + 1) : 0,
                       443, &o->wss_port);
  if (ok)
    return TOOL_TAKEN;
  fprintf(stderr, "coap-server: bad value '%s' for -w\n", v);
  return TOOL_FAILED;
}

/* -L: the sum of COAP_BLOCK_* flags, COAP_BLOCK_USE_LIBCOAP included. */
static int parse_block_mode(server_opts_t *o, const char *v) {
  int ok;
  o->block_mode = (uint32_t)tool_parse_number(v, 1, 0xFF, 0, &ok);
  if (ok && !(o->block_mode & COAP_BLOCK_USE_LIBCOAP)) {
    fprintf(stderr, "coap-server: -L must include COAP_BLOCK_USE_LIBCOAP "
                    "(1)\n");
    return TOOL_FAILED;
  }
  if (ok && (o->block_mode & COAP_BLOCK_TRY_Q_BLOCK) &&
      !coap_q_block_is_supported())
    return tool_lacks("coap-server", 'L', "Q-Block (RFC 9177) for the value 4");
  return ok;
}

/* The letters that say what is served and how: resources, notifications,
 * block-wise transfers, tokens and message sizes. */
static int take_serve_option(server_opts_t *o, int opt, const char *v) {
  int ok = 1;
  switch (opt) {
  case 'd':
    o->dynamic_max = (unsigned)tool_parse_number(v, 0, 1000000, 10, &ok);
    return ok;
  case 'e':
    o->echo_back = 1;
    return TOOL_TAKEN;
  case 'r':
    o->mcast_per_resource = 1;
    return TOOL_TAKEN;
  case 't':
    o->track_observes = 1;
    return TOOL_TAKEN;
  case 'E':
    if (!coap_oscore_is_supported())
      return tool_lacks("coap-server", 'E', "OSCORE (RFC 8613)");
    fprintf(stderr, "coap-server: -E: OSCORE is not supported by this "
                    "coap-server yet\n");
    return TOOL_FAILED;
  case 'L':
    return parse_block_mode(o, v);
  case 'N':
    o->notify_non = 1;
    return TOOL_TAKEN;
  case 'P':
    fprintf(stderr, "coap-server: -P: this coap-server does not act as a "
                    "proxy (answers to Proxy-Uri are 5.05)\n");
    return TOOL_FAILED;
  case 'T':
    o->max_token = tool_parse_number(v, 8, 65804, 10, &ok);
    return ok;
  case 'X':
    if (!coap_tcp_is_supported())
      return tool_lacks("coap-server", 'X', "TCP");
    o->csm_max = (uint32_t)tool_parse_number(v, 64, 0xFFFFFFFFul, 10, &ok);
    return ok;
  default:
    return TOOL_OTHER;
  }
}

/* The letters that say where the server listens and what it logs. */
static int take_listen_option(server_opts_t *o, int opt, const char *v) {
  int ok = 1;
  switch (opt) {
  case 'g':
    o->group = v;
    return TOOL_TAKEN;
  case 'l':
    o->loss = v;
    return TOOL_TAKEN;
  case 'p':
    o->port = (unsigned)tool_parse_number(v, 0, 65535, 10, &ok);
    return ok;
  case 'v':
    o->log_level = (int)tool_parse_number(v, 0, COAP_LOG_OSCORE, 10, &ok);
    return ok;
  case 'w':
    return parse_ws(o, v);
  case 'A':
    o->addr = v;
    return TOOL_TAKEN;
  case 'G':
    o->group_if = v;
    return TOOL_TAKEN;
  case 'U':
    return parse_unix(o, v);
  case 'V':
    o->dtls_log_level = (int)tool_parse_number(v, 0, COAP_LOG_DEBUG, 10, &ok);
    return ok;
  default:
    return TOOL_OTHER;
  }
}

/* One option letter and its value (NULL for flags). Returns 1 if taken, 0
 * on an error (message printed). */
static int take_option(void *opts, int opt, const char *v) {
  server_opts_t *o = opts;
  int r = take_serve_option(o, opt, v);
  if (r == TOOL_OTHER)
    r = take_listen_option(o, opt, v);
  if (r == TOOL_OTHER) { /* the DTLS letters (dtls_opts.h) */
    int taken = tool_dtls_option(&o->dtls, (char)opt, v, 1);
    r = !taken ? TOOL_FAILED : taken > 0 ? TOOL_TAKEN : TOOL_BAD;
  }
  if (r == TOOL_BAD)
    fprintf(stderr, "coap-server: bad value '%s' for -%c\n", v, opt);
  return r == TOOL_TAKEN;
}

static void usage_after_unknown(void) {
  fprintf(stderr, "(coap-server -h lists the options)\n");
}

int server_parse_args(int argc, char **argv, server_opts_t *o) {
  /* -h hint is the DTLS identity hint, as in libcoap; -h alone, as the
   * last argument, and --help are help. */
  static const tool_cmdline cl = {
      .prog = "coap-server",
      .optstring = ":c:d:eg:h:i:j:k:l:np:rs:tv:w:A:C:E:G:L:M:NP:R:"
                   "S:T:U:V:X:",
      .usage = usage,
      .after_unknown = usage_after_unknown,
      .take = take_option,
  };
  memset(o, 0, sizeof(*o));
  o->addr = "::";
  o->port = COAP_DEFAULT_PORT;
  o->ws_port = -1;
  o->log_level = COAP_LOG_WARN;
  o->dtls_log_level = COAP_LOG_ERR;
  o->block_mode = COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY;
  int r = tool_parse_options(argc, argv, &cl, o);
  if (r <= 0)
    return r;
  if (optind < argc) {
    fprintf(stderr, "coap-server: unexpected argument '%s'\n", argv[optind]);
    return 0;
  }
  return tool_dtls_check(&o->dtls, "coap-server") < 0 ? 0 : 1;
}
