/*
 * coap-client: send a CoAP request and print the answer.
 *
 * A thin command line over the public API with libcoap 4.3.4's coap-client
 * option letters and meanings (see doc/man/coap-client.1 and usage()).
 *
 * All the argument parsing is in parse_args(), one case per option letter;
 * everything after it is the library doing the work: split the URI,
 * resolve it, open a session, build and send the request, run the event
 * loop until the response handler or the NACK handler says we are done, or
 * -B seconds pass.
 *
 * Output is what libcoap's coap-client writes: each 2.xx payload (a
 * newline after each with -w), a newline at the end when writing to
 * standard output without -o, and an error response on standard error as
 * "C.DD" and its payload (unprintable bytes as '.').
 *
 * Exit status: 0 on a 2.xx response, 1 on a usage or setup error, 2 on a
 * 4.xx/5.xx response, 3 when no response came in time, 4 when the request
 * could not be delivered (NACK: peer unreachable, too many retransmissions,
 * Reset), 5 when a block-wise body could not be sent or received whole
 * (COAP_EVENT_XMIT_BLOCK_FAIL, COAP_EVENT_PARTIAL_BLOCK: nothing is written
 * as the body). SIGINT or SIGTERM ends the run as libcoap's does, with 0
 * (2 if an error response had come): what was received of a body so far is
 * written out and an observation is cancelled first.
 */
#include <coap3/coap.h>

#include "dtls_opts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_ERROR_RESPONSE = 2,
  EXIT_TIMEOUT = 3,
  EXIT_UNDELIVERED = 4,
  EXIT_INCOMPLETE = 5,
};

#define MAX_TOKEN 24 /* RFC 8974 extended tokens, as libcoap's -T */
#define DEFAULT_WAIT 90
#define PROXY_URI_MAX 1034 /* RFC 7252 5.10.2 */

/* What the command line asks for. Strings are borrowed from argv except
 * payload, which is owned (it may come from a file). */
typedef struct {
  coap_pdu_code_t method;
  coap_pdu_type_t type;
  uint8_t *payload;
  size_t payload_len;
  int content_format;    /* -1: none */
  int accept;            /* -1: none */
  coap_optlist_t *extra; /* -O options, owned */
  uint8_t token[MAX_TOKEN];
  size_t token_len;
  int have_token;
  unsigned wait_seconds; /* -B */
  int wait_given;
  const char *output; /* -o, NULL: stdout */
  int output_dash;    /* -o -: stdout, without the final newline */
  int log_level;
  int dtls_log_level; /* -V */
  int block_size;     /* -b, 0: none */
  unsigned block_num;
  uint32_t block_mode;      /* -L */
  unsigned observe_seconds; /* -s, 0: no observe */
  int newline;              /* -w */
  const char *local_addr;   /* -a */
  const char *local_port;   /* -p */
  const char *loss;         /* -l */
  int reliable;             /* -r */
  unsigned repeat;          /* -G */
  unsigned hop_limit;       /* -H, 0: none */
  unsigned keepalive;       /* -K */
  const char *proxy;        /* -P */
  uint32_t csm_max;         /* -X */
  int no_uri_host;          /* -U */
  const char *uri;
  tool_dtls dtls; /* -k -u -c -j -C -R -n -M (dtls_opts.h) */
} client_opts_t;

/* What the handlers learn, reached through the context's app data. */
typedef struct {
  coap_bin_const_t token;
  FILE *out;
  int to_stdout; /* no -o: a newline ends the output, as libcoap's */
  int newline;
  int random_access; /* -b num,size with num > 0: that one block only */
  int done;          /* stop the loop */
  int finished;      /* the request in flight got its final answer */
  int status;        /* exit status so far */
  int failure;       /* the first request's failure of a -G run, or 0 */
  int got_response;
  int wrote;
  int observing;
  int notification; /* the body under way belongs to a notification */
  int mcast;        /* sent to a group: every member's answer counts */
  int rejected;     /* responses the library rejected (bad critical option) */
  int cancelling;   /* the observation's cancellation was sent */
  int partial;      /* COAP_EVENT_PARTIAL_BLOCK seen, not yet judged */
  coap_tick_t sent_at;
  /* the body so far (Block2 blocks in order), owned */
  uint8_t *body;
  size_t body_len, body_cap, body_total;
  char unix_path[64]; /* our socket's path, to a Unix socket server */
  /* the progress line */
  int tty;
  coap_tick_t transfer_start, progress_at;
  int progress_shown;
} client_state_t;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

/* ---- content formats by name -------------------------------------------- */

static const struct {
  const char *name;
  int value;
} media_names[] = {
    {"text/plain", COAP_MEDIATYPE_TEXT_PLAIN},
    {"plain", COAP_MEDIATYPE_TEXT_PLAIN},
    {"text", COAP_MEDIATYPE_TEXT_PLAIN},
    {"application/link-format", COAP_MEDIATYPE_APPLICATION_LINK_FORMAT},
    {"link-format", COAP_MEDIATYPE_APPLICATION_LINK_FORMAT},
    {"link", COAP_MEDIATYPE_APPLICATION_LINK_FORMAT},
    {"application/xml", COAP_MEDIATYPE_APPLICATION_XML},
    {"xml", COAP_MEDIATYPE_APPLICATION_XML},
    {"application/octet-stream", COAP_MEDIATYPE_APPLICATION_OCTET_STREAM},
    {"octet-stream", COAP_MEDIATYPE_APPLICATION_OCTET_STREAM},
    {"octet", COAP_MEDIATYPE_APPLICATION_OCTET_STREAM},
    {"binary", COAP_MEDIATYPE_APPLICATION_OCTET_STREAM},
    {"application/exi", COAP_MEDIATYPE_APPLICATION_EXI},
    {"exi", COAP_MEDIATYPE_APPLICATION_EXI},
    {"application/json", COAP_MEDIATYPE_APPLICATION_JSON},
    {"json", COAP_MEDIATYPE_APPLICATION_JSON},
    {"application/cbor", COAP_MEDIATYPE_APPLICATION_CBOR},
    {"cbor", COAP_MEDIATYPE_APPLICATION_CBOR},
};

/* A content format as a number (0..65535) or a name; -1 if neither. */
static int parse_media_type(const char *s) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*s && *end == '\0' && errno == 0)
    return v <= 0xFFFF ? (int)v : -1;
  for (size_t i = 0; i < sizeof(media_names) / sizeof(media_names[0]); i++)
    if (strcasecmp(s, media_names[i].name) == 0)
      return media_names[i].value;
  return -1;
}

static int parse_method(const char *s, coap_pdu_code_t *out) {
  static const struct {
    const char *name;
    coap_pdu_code_t code;
  } methods[] = {
      {"get", COAP_REQUEST_CODE_GET},
      {"post", COAP_REQUEST_CODE_POST},
      {"put", COAP_REQUEST_CODE_PUT},
      {"delete", COAP_REQUEST_CODE_DELETE},
      {"fetch", COAP_REQUEST_CODE_FETCH},
      {"patch", COAP_REQUEST_CODE_PATCH},
      {"ipatch", COAP_REQUEST_CODE_IPATCH},
  };
  for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
    if (strcasecmp(s, methods[i].name) == 0) {
      *out = methods[i].code;
      return 1;
    }
  }
  return 0;
}

/* ---- byte strings from the command line --------------------------------- */

static int hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = tolower(c);
  return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Decodes "0x..." hex (when hex_ok) or %XX escapes into buf (at least
 * strlen(s) bytes). Returns the length, or -1 on a malformed escape. */
static long decode_text(const char *s, uint8_t *buf, int hex_ok) {
  size_t n = 0, len = strlen(s);
  if (hex_ok && len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    if (len % 2)
      return -1;
    for (size_t i = 2; i < len; i += 2) {
      int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
      if (hi < 0 || lo < 0)
        return -1;
      buf[n++] = (uint8_t)(hi << 4 | lo);
    }
    return (long)n;
  }
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 &&
        hex_digit(s[i + 2]) >= 0) {
      buf[n++] = (uint8_t)(hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2]));
      i += 2;
    } else {
      buf[n++] = (uint8_t)s[i];
    }
  }
  return (long)n;
}

/* Reads all of a file ("-" for stdin) into a new buffer. On failure errno
 * says why. */
static int read_file(const char *name, uint8_t **data, size_t *len) {
  FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
  if (!f)
    return 0;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap)
      break;
    uint8_t *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      buf = NULL;
    } else {
      buf = bigger;
      cap *= 2;
    }
  }
  int err = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : 0;
  if (f != stdin)
    fclose(f);
  if (err) {
    free(buf);
    errno = err;
    return 0;
  }
  *data = buf;
  *len = n;
  return 1;
}

/* -O num,text */
static int add_extra_option(client_opts_t *o, const char *arg) {
  char *end;
  unsigned long num = strtoul(arg, &end, 10);
  if (end == arg || *end != ',' || num == 0 || num > 0xFFFF)
    return 0;
  const char *text = end + 1;
  uint8_t *buf = malloc(strlen(text) + 1);
  if (!buf)
    return 0;
  long len = decode_text(text, buf, 1);
  int ok = len >= 0 &&
           coap_insert_optlist(
               &o->extra, coap_new_optlist((uint16_t)num, (size_t)len, buf));
  free(buf);
  return ok;
}

/* -b [num,]size: size a multiple of 16 from 16 to 1024, as libcoap's page
 * says; the block size used is the largest power of two not above it. */
static int parse_block(client_opts_t *o, const char *arg) {
  char *end;
  unsigned long a = strtoul(arg, &end, 10);
  if (end == arg)
    return 0;
  if (*end == ',') {
    if (a > 0xFFFFF)
      return 0;
    o->block_num = (unsigned)a;
    const char *size = end + 1;
    a = strtoul(size, &end, 10);
    if (end == size)
      return 0;
  }
  if (*end != '\0' || a < 16 || a > 1024 || a % 16 != 0)
    return 0;
  unsigned size = 16;
  while (size * 2 <= a)
    size *= 2;
  o->block_size = (int)size;
  return 1;
}

/* A decimal number in [lo, hi]; *ok says whether it was one. */
static unsigned long parse_number(const char *s, unsigned long lo,
                                  unsigned long hi, int *ok) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  *ok = *s && *s != '-' && *end == '\0' && errno == 0 && v >= lo && v <= hi;
  return v;
}

/* -T: text, or hex bytes after 0x; at most MAX_TOKEN bytes. */
static int parse_token(client_opts_t *o, const char *v) {
  uint8_t tmp[256];
  long n = strlen(v) < sizeof(tmp) ? decode_text(v, tmp, 1) : -1;
  if (n < 0 || n > MAX_TOKEN)
    return 0;
  memcpy(o->token, tmp, (size_t)n);
  o->token_len = (size_t)n;
  o->have_token = 1;
  return 1;
}

/* -L: the sum of COAP_BLOCK_* flags, COAP_BLOCK_USE_LIBCOAP included. */
static int parse_block_mode(client_opts_t *o, const char *v) {
  char *end;
  unsigned long n = strtoul(v, &end, 0);
  if (!*v || *end || n > 31 || !(n & COAP_BLOCK_USE_LIBCOAP))
    return 0;
  if ((n & (COAP_BLOCK_TRY_Q_BLOCK | COAP_BLOCK_USE_M_Q_BLOCK)) &&
      !coap_q_block_is_supported()) {
    fprintf(stderr,
            "coap-client: -L %s: values 4 and 8 need Q-Block "
            "(RFC 9177), which this build lacks\n",
            v);
    return -1;
  }
  o->block_mode = (uint32_t)n;
  return 1;
}

/* Prints the header libcoap's tools print above their usage text: the
 * program, the package version, the build and the (D)TLS library. */
static void version(FILE *f) {
  char buf[128];
  fprintf(f, "coap-client v%s -- Petrel %s, a CoAP implementation\n",
          LIBCOAP_PACKAGE_VERSION, PETREL_VERSION);
  fprintf(f, "Build: %s\n", coap_package_build());
  fprintf(f, "%s\n", coap_string_tls_version(buf, sizeof(buf)));
  fprintf(f, "%s\n", coap_string_tls_support(buf, sizeof(buf)));
}

static void usage(FILE *f) {
  version(f);
  fprintf(
      f,
      "\nusage: coap-client [-a addr] [-b [num,]size] [-e text] [-f file] "
      "[-l loss]\n"
      "                   [-m method] [-o file] [-p port] [-r] [-s duration]\n"
      "                   [-t type] [-v num] [-w] [-A type] [-B seconds]\n"
      "                   [-E oscore_conf_file[,seq_file]] [-G count]\n"
      "                   [-H hoplimit] [-K interval] [-L value] [-N]\n"
      "                   [-O num,text] [-P scheme://addr[:port]] [-T token]\n"
      "                   [-U] [-V num] [-X size]\n"
      "                   [[-h match_hint_file] [-k key] [-u user]]\n"
      "                   [[-c certfile] [-j keyfile] [-n] [-C cafile]\n"
      "                   [-R trust_casfile]] [--help] [--version] URI\n"
      "  -a addr      local address to send from\n"
      "  -b [num,]size  block size, a multiple of 16 up to 1024 (the largest\n"
      "               power of two not above it is used): Block1 for the\n"
      "               request body, else Block2 from block num\n"
      "  -e text      payload (percent-encoding allowed)\n"
      "  -f file      payload from a file ('-' for stdin)\n"
      "  -l loss      drop outgoing datagrams: 'N%%' at random, or a list\n"
      "               '1,3,5-7' of datagram numbers (for testing)\n"
      "  -m method    get|put|post|delete|fetch|patch|ipatch (default get)\n"
      "  -o file      write the response payload to file ('-': stdout)\n"
      "  -p port      local port to send from\n"
      "  -r           use a reliable transport (TCP)\n"
      "  -s duration  observe for duration seconds, printing every\n"
      "               notification, then cancel the observation\n"
      "  -t type      Content-Format of the payload (number or name: text,\n"
      "               link, xml, octet, exi, json, cbor)\n"
      "  -v num       log level 0..8 (default 4, warnings; 7 logs each PDU)\n"
      "  -w           append a newline to each payload written\n"
      "  -A type      Accept (number or name as for -t)\n"
      "  -B seconds   give up after this long (default %d)\n"
      "  -E file      OSCORE configuration (RFC 8613)\n"
      "  -G count     send the request count times (1..255), a second apart\n"
      "  -H hoplimit  add a Hop-Limit option (1..255, RFC 8768)\n"
      "  -K interval  send a ping after interval seconds of silence\n"
      "  -L value     block mode: the sum of COAP_BLOCK_* flags, 1 included\n"
      "               (default 1; 2 hands over whole bodies)\n"
      "  -N           send a Non-confirmable request\n"
      "  -O num,text  add option num (text, or hex when it starts with 0x)\n"
      "  -P scheme://addr[:port]  send the request through this proxy\n"
      "               (Proxy-Uri carries the URI)\n"
      "  -T token     request token of up to 24 bytes (text, or hex after "
      "0x)\n"
      "  -U           never add Uri-Host or Uri-Port options\n"
      "  -V num       (D)TLS log level 0..7 (default 3)\n"
      "  -X size      largest message over TCP\n"
      "  coaps:// (DTLS) and coaps+tcp:// (TLS): -k key -u identity\n"
      "               (pre-shared key), or\n"
      "               -c certfile [-j keyfile] [-C cafile] [-R trust_casfile]"
      " [-n]\n"
      "               (-n: do not verify the server's certificate; -M,\n"
      "               raw public keys, is not available with OpenSSL)\n"
      "  -h match_hint_file  lines 'hint,user,key': when the server's PSK\n"
      "               identity hint is on one, that user and key replace\n"
      "               -u and -k (still needed for other hints)\n"
      "  --help       this text (also -h as the last argument)\n"
      "  --version    the version lines above\n"
      "exit status: 0 on 2.xx, 1 usage or setup error, 2 on 4.xx/5.xx,\n"
      "             3 on timeout, 4 when the request was not delivered,\n"
      "             5 when a block-wise body was not sent or received "
      "whole\n",
      DEFAULT_WAIT);
}

/* A flag that needs a transport or feature this build lacks: says so. */
static int lacks(char opt, const char *what) {
  fprintf(stderr, "coap-client: -%c needs %s, which this build lacks\n", opt,
          what);
  return 0;
}

/* One option letter and its value (NULL for flags). Returns 1 if taken, 0
 * on an error (message printed), -1 to exit successfully. */
static int take_option(client_opts_t *o, int opt, const char *v) {
  int ok = 1;
  long n;
  switch (opt) {
  case 'a':
    o->local_addr = v;
    break;
  case 'b':
    ok = parse_block(o, v);
    break;
  case 'e':
    free(o->payload);
    o->payload = malloc(strlen(v) + 1);
    n = o->payload ? decode_text(v, o->payload, 0) : -1;
    ok = n >= 0;
    o->payload_len = ok ? (size_t)n : 0;
    break;
  case 'f':
    free(o->payload);
    o->payload = NULL;
    if (!read_file(v, &o->payload, &o->payload_len)) {
      fprintf(stderr, "coap-client: cannot read '%s': %s\n", v,
              strerror(errno));
      return 0;
    }
    break;
  case 'l':
    o->loss = v;
    break;
  case 'm':
    ok = parse_method(v, &o->method);
    break;
  case 'o':
    o->output_dash = strcmp(v, "-") == 0;
    o->output = o->output_dash ? NULL : v;
    break;
  case 'p':
    parse_number(v, 0, 65535, &ok);
    o->local_port = v;
    break;
  case 'r':
    if (!coap_tcp_is_supported())
      return lacks('r', "TCP");
    o->reliable = 1;
    break;
  case 's':
    o->observe_seconds = (unsigned)parse_number(v, 1, 86400, &ok);
    break;
  case 't':
    ok = (o->content_format = parse_media_type(v)) >= 0;
    break;
  case 'v':
    o->log_level = (int)parse_number(v, 0, COAP_LOG_OSCORE, &ok);
    break;
  case 'w':
    o->newline = 1;
    break;
  case 'A':
    ok = (o->accept = parse_media_type(v)) >= 0;
    break;
  case 'B':
    o->wait_seconds = (unsigned)parse_number(v, 1, 86400, &ok);
    o->wait_given = 1;
    break;
  case 'E':
    if (!coap_oscore_is_supported())
      return lacks('E', "OSCORE (RFC 8613)");
    fprintf(stderr, "coap-client: -E: OSCORE is not supported by this "
                    "coap-client yet\n");
    return 0;
  case 'G':
    o->repeat = (unsigned)parse_number(v, 1, 255, &ok);
    break;
  case 'H':
    o->hop_limit = (unsigned)parse_number(v, 1, 255, &ok);
    break;
  case 'K':
    o->keepalive = (unsigned)parse_number(v, 0, 86400, &ok);
    break;
  case 'L':
    ok = parse_block_mode(o, v);
    if (ok < 0)
      return 0;
    break;
  case 'N':
    o->type = COAP_MESSAGE_NON;
    break;
  case 'O':
    ok = add_extra_option(o, v);
    break;
  case 'P':
    o->proxy = v;
    break;
  case 'T':
    ok = parse_token(o, v);
    break;
  case 'U':
    o->no_uri_host = 1;
    break;
  case 'V':
    o->dtls_log_level = (int)parse_number(v, 0, COAP_LOG_DEBUG, &ok);
    break;
  case 'X':
    if (!coap_tcp_is_supported())
      return lacks('X', "TCP");
    o->csm_max = (uint32_t)parse_number(v, 64, 0xFFFFFFFFul, &ok);
    break;
  default: { /* the DTLS options (dtls_opts.h) */
    int taken = tool_dtls_option(&o->dtls, (char)opt, v, 0);
    if (!taken)
      return 0;
    if (taken < 0 && opt == 'h') {
      fprintf(stderr,
              "coap-client: -h: no 'hint,user,key' line could be read from "
              "'%s'\n",
              v);
      return 0;
    }
    ok = taken > 0;
    break;
  }
  }
  if (!ok)
    fprintf(stderr, "coap-client: bad value '%s' for -%c\n", v, opt);
  return ok;
}

/* Fills o from argv. Returns -1 to exit successfully (help, version), 0 on
 * a usage error (message already printed), 1 to go on. */
static int parse_args(int argc, char **argv, client_opts_t *o) {
  static const struct option longs[] = {{"help", no_argument, NULL, 2},
                                        {"version", no_argument, NULL, 1},
                                        {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof(*o));
  o->method = COAP_REQUEST_CODE_GET;
  o->type = COAP_MESSAGE_CON;
  o->content_format = -1;
  o->accept = -1;
  o->wait_seconds = DEFAULT_WAIT;
  o->log_level = COAP_LOG_WARN;
  o->dtls_log_level = COAP_LOG_ERR;
  o->block_mode = COAP_BLOCK_USE_LIBCOAP;
  o->repeat = 1;
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv,
                            ":a:b:c:e:f:h:j:k:l:m:no:p:rs:t:u:v:wA:B:C:E:G:H:K:"
                            "L:M:NO:P:R:T:UV:X:",
                            longs, NULL)) != -1) {
    /* -h names a hint file, as in libcoap; -h as the last argument and
     * --help are help. */
    if (opt == 2 || (opt == ':' && optopt == 'h')) {
      usage(stdout);
      return -1;
    }
    if (opt == 1) {
      version(stdout);
      return -1;
    }
    if (opt == ':') {
      fprintf(stderr, "coap-client: option -%c needs a value\n", optopt);
      return 0;
    }
    if (opt == '?') {
      if (optopt)
        fprintf(stderr, "coap-client: unknown option -%c\n", optopt);
      else
        fprintf(stderr, "coap-client: unknown option %s\n", argv[optind - 1]);
      usage(stderr);
      return 0;
    }
    if (!take_option(o, opt, optarg))
      return 0;
  }
  if (optind + 1 < argc) {
    fprintf(stderr, "coap-client: unexpected argument '%s'\n",
            argv[optind + 1]);
    return 0;
  }
  if (optind >= argc) {
    usage(stderr);
    return 0;
  }
  o->uri = argv[optind];
  return tool_dtls_check(&o->dtls, "coap-client") < 0 ? 0 : 1;
}

/* ---- the progress line -------------------------------------------------- */

static void human_bytes(char *buf, size_t size, double v) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB"};
  unsigned u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    u++;
  }
  snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* While a block-wise body comes in for more than a second, and only when
 * standard error is a terminal: bytes so far, rate, and the percentage
 * when the server sent Size2. Redrawn at most five times a second. */
static void progress(client_state_t *st, coap_tick_t now) {
  if (!st->tty || !st->transfer_start ||
      now - st->transfer_start < COAP_TICKS_PER_SECOND ||
      (st->progress_shown && now - st->progress_at < COAP_TICKS_PER_SECOND / 5))
    return;
  double secs = (double)(now - st->transfer_start) / COAP_TICKS_PER_SECOND;
  char got[32], rate[32];
  human_bytes(got, sizeof(got), (double)st->body_len);
  human_bytes(rate, sizeof(rate), (double)st->body_len / secs);
  fprintf(stderr, "\r\033[Kcoap-client: %s received, %s/s", got, rate);
  if (st->body_total > st->body_len)
    fprintf(stderr, ", %u%%", (unsigned)(st->body_len * 100 / st->body_total));
  fflush(stderr);
  st->progress_shown = 1;
  st->progress_at = now;
}

static void progress_end(client_state_t *st) {
  if (st->progress_shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
  st->progress_shown = 0;
  st->transfer_start = 0;
}

/* ---- output ------------------------------------------------------------- */

/* Writes the body so far (a whole body, or what came before SIGINT). */
static void write_body(client_state_t *st) {
  progress_end(st);
  if (st->body_len) { /* as libcoap's: no payload, nothing written */
    fwrite(st->body, 1, st->body_len, st->out);
    if (st->newline)
      fputc('\n', st->out);
    fflush(st->out);
    st->wrote = 1;
  }
  st->body_len = 0;
  st->body_total = 0;
}

/* Appends one block (or a whole body) to the body so far. */
static int take_data(client_state_t *st, const uint8_t *data, size_t len,
                     size_t offset, size_t total) {
  if (offset == 0 || offset != st->body_len)
    st->body_len = 0; /* a new body, or a restart from block 0 */
  if (st->body_len + len > st->body_cap) {
    size_t cap = st->body_cap ? st->body_cap : 4096;
    while (cap < st->body_len + len)
      cap *= 2;
    uint8_t *bigger = realloc(st->body, cap);
    if (!bigger)
      return 0;
    st->body = bigger;
    st->body_cap = cap;
  }
  if (len)
    memcpy(st->body + st->body_len, data, len);
  st->body_len += len;
  st->body_total = total;
  return 1;
}

/* libcoap's error line: "C.DD", then a space and the payload with
 * unprintable bytes as '.'. */
static void print_error(coap_pdu_code_t code, const uint8_t *data, size_t len) {
  fprintf(stderr, "%d.%02d", COAP_RESPONSE_CLASS(code), code & 0x1F);
  if (len)
    fputc(' ', stderr);
  for (size_t i = 0; i < len; i++)
    fputc(isprint(data[i]) ? data[i] : '.', stderr);
  fputc('\n', stderr);
}

/* ---- handlers ----------------------------------------------------------- */

static client_state_t *state_of(coap_session_t *session) {
  return coap_get_app_data(coap_session_get_context(session));
}

static int more_blocks(const client_state_t *st, const coap_pdu_t *pdu) {
  coap_opt_iterator_t it;
  coap_opt_t *b2 = coap_check_option(pdu, COAP_OPTION_BLOCK2, &it);
  return b2 && !st->random_access && COAP_OPT_BLOCK_MORE(b2);
}

/* A 2.xx: the block or body joins the body so far; a whole body is
 * written. Returns 1 when the body is complete. */
static int on_success(client_state_t *st, const coap_pdu_t *received,
                      int notification) {
  size_t len = 0, offset = 0, total = 0;
  const uint8_t *data = NULL;
  coap_get_data_large(received, &len, &data, &offset, &total);
  if (offset == 0)
    st->notification = notification;
  if (!take_data(st, data, len, offset, total)) {
    fprintf(stderr, "coap-client: out of memory for the body\n");
    st->status = EXIT_INCOMPLETE;
    st->done = 1;
    return 1;
  }
  if (more_blocks(st, received)) {
    if (!st->transfer_start)
      coap_ticks(&st->transfer_start);
    return 0;
  }
  write_body(st);
  return 1;
}

static coap_response_t on_response(coap_session_t *session,
                                   const coap_pdu_t *sent,
                                   const coap_pdu_t *received,
                                   const coap_mid_t mid) {
  (void)sent;
  (void)mid;
  client_state_t *st = state_of(session);
  coap_bin_const_t token = coap_pdu_get_token(received);
  if (!st || !coap_binary_equal(&token, &st->token))
    return COAP_RESPONSE_FAIL; /* not ours: let the library reject it */

  coap_opt_iterator_t it;
  int notification =
      coap_check_option(received, COAP_OPTION_OBSERVE, &it) != NULL;
  if (st->cancelling) {
    /* A notification still coming is rejected (RFC 7641 3.6); the answer
     * to the cancellation ends the run. Neither is printed. */
    if (notification)
      return COAP_RESPONSE_FAIL;
    st->done = 1;
    return COAP_RESPONSE_OK;
  }
  coap_pdu_code_t code = coap_pdu_get_code(received);
  st->got_response = 1;
  if (COAP_RESPONSE_CLASS(code) == 2) {
    if (!on_success(st, received, notification))
      return COAP_RESPONSE_OK; /* more blocks to come */
    st->status = EXIT_OK;
  } else {
    size_t len = 0, offset = 0, total = 0;
    const uint8_t *data = NULL;
    coap_get_data_large(received, &len, &data, &offset, &total);
    progress_end(st);
    st->body_len = 0;
    print_error(code, data, len);
    st->status = EXIT_ERROR_RESPONSE;
    if (!st->failure)
      st->failure = EXIT_ERROR_RESPONSE;
    st->notification = 0;
  }
  /* An observe keeps going until its duration runs out, unless the server
   * ended it (an error, or a response without Observe). Answers from a
   * group keep coming until the wait is over. */
  if (!st->mcast &&
      (!st->observing || !st->notification || COAP_RESPONSE_CLASS(code) != 2))
    st->finished = 1;
  return COAP_RESPONSE_OK;
}

#define PEER_TEXT (INET6_ADDRSTRLEN + 16)

/* The server's address as text ("[::1]:5683"), into @buf of PEER_TEXT. */
static void peer_text(coap_session_t *session, char *buf) {
  if (!coap_print_addr(coap_session_get_addr_remote(session),
                       (unsigned char *)buf, PEER_TEXT))
    snprintf(buf, PEER_TEXT, "the server");
}

static const char *nack_text(coap_nack_reason_t reason) {
  switch (reason) {
  case COAP_NACK_TOO_MANY_RETRIES:
    return "no answer to any retransmission";
  case COAP_NACK_NOT_DELIVERABLE:
    return "unreachable, an ICMP error came back (nothing listens on that "
           "port, or there is no route)";
  case COAP_NACK_RST:
    return "the peer answered with a Reset";
  case COAP_NACK_ICMP_ISSUE:
    return "ICMP port unreachable: nothing listens there";
  case COAP_NACK_BAD_RESPONSE:
    return "the response was rejected (unrecognized critical option)";
  case COAP_NACK_TLS_FAILED:
  case COAP_NACK_TLS_LAYER_FAILED:
    return "the DTLS or TLS handshake or session failed (a wrong key, or a "
           "certificate not trusted?)";
  case COAP_NACK_WS_FAILED:
  case COAP_NACK_WS_LAYER_FAILED:
    return "the WebSocket upgrade or connection failed";
  default:
    return "transport failure";
  }
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid) {
  (void)mid;
  client_state_t *st = state_of(session);
  if (!st || st->done)
    return;
  if (sent) {
    coap_bin_const_t token = coap_pdu_get_token(sent);
    if (!coap_binary_equal(&token, &st->token))
      return;
  }
  coap_tick_t now;
  coap_ticks(&now);
  progress_end(st);
  char peer[PEER_TEXT];
  peer_text(session, peer);
  fprintf(stderr, "coap-client: request not delivered to %s after %.1f s: %s\n",
          peer, (double)(now - st->sent_at) / COAP_TICKS_PER_SECOND,
          nack_text(reason));
  st->status = EXIT_UNDELIVERED;
  st->done = 1;
}

/* Events the tool acts on. A block-wise upload that failed ends the run; a
 * Block2 body that went wrong is judged by the loop (the library either
 * asks for it again from block 0 or has given it up). A response the
 * library rejected before it reached on_response() (RFC 7252 5.4.1: an
 * unrecognized critical option) is counted so that the timeout message can
 * say so. */
static int on_event(coap_session_t *session, const coap_event_t event) {
  client_state_t *st = state_of(session);
  if (!st)
    return 0;
  switch (event) {
  case COAP_EVENT_BAD_PACKET:
    st->rejected++;
    break;
  case COAP_EVENT_PARTIAL_BLOCK:
    st->partial = 1;
    break;
  case COAP_EVENT_XMIT_BLOCK_FAIL:
    if (!st->done && !st->finished) { /* not after the server's error */
      fprintf(stderr, "coap-client: block-wise transfer failed: the request "
                      "body was not sent whole\n");
      st->status = EXIT_INCOMPLETE;
      st->done = 1;
    }
    break;
  case COAP_EVENT_KEEPALIVE_FAILURE:
    fprintf(stderr, "coap-client: keepalive ping to %s unanswered\n",
            coap_session_str(session));
    break;
  default:
    break;
  }
  return 0;
}

/* ---- building the request ----------------------------------------------- */

static int add_uint_option(coap_optlist_t **chain, uint16_t number,
                           unsigned value) {
  uint8_t buf[4];
  unsigned len = coap_encode_var_safe(buf, sizeof(buf), value);
  return coap_insert_optlist(chain, coap_new_optlist(number, len, buf));
}

/* The options every request of this run carries (the chain is copied into
 * each request). Returns 1 with the chain in *out (NULL when the request
 * has no options at all), or 0 on failure. */
static int build_options(client_opts_t *o, const coap_uri_t *uri,
                         const coap_address_t *dst, coap_optlist_t **out) {
  coap_optlist_t *opts = o->extra; /* the chain takes them over */
  o->extra = NULL;
  uint8_t scratch[256];
  int ok = 1;
  if (o->proxy) /* RFC 7252 5.10.2: the whole URI, for the proxy to use */
    ok = coap_insert_optlist(&opts, coap_new_optlist(COAP_OPTION_PROXY_URI,
                                                     strlen(o->uri),
                                                     (const uint8_t *)o->uri));
  else
    ok = coap_uri_into_options(uri, dst, &opts, !o->no_uri_host, scratch,
                               sizeof(scratch)) == 0;
  if (ok && o->observe_seconds)
    ok = add_uint_option(&opts, COAP_OPTION_OBSERVE, COAP_OBSERVE_ESTABLISH);
  if (ok && o->content_format >= 0 && o->payload)
    ok = add_uint_option(&opts, COAP_OPTION_CONTENT_FORMAT,
                         (unsigned)o->content_format);
  if (ok && o->accept >= 0)
    ok = add_uint_option(&opts, COAP_OPTION_ACCEPT, (unsigned)o->accept);
  if (ok && o->hop_limit)
    ok = add_uint_option(&opts, COAP_OPTION_HOP_LIMIT, o->hop_limit);
  if (ok && o->block_size) {
    /* -b: the block size we ask for. A body to send goes in Block1 blocks
     * (the library sends them from block 0); otherwise Block2 asks for the
     * response in blocks, starting at block num. */
    unsigned szx = 0;
    while ((16u << szx) < (unsigned)o->block_size)
      szx++;
    if (o->payload_len > (size_t)o->block_size)
      ok = add_uint_option(&opts, COAP_OPTION_BLOCK1, szx);
    else if (!o->payload_len)
      ok = add_uint_option(&opts, COAP_OPTION_BLOCK2, o->block_num << 4 | szx);
  }
  if (!ok) {
    coap_delete_optlist(opts);
    return 0;
  }
  *out = opts; /* NULL for a request without options (GET coap://h/) */
  return 1;
}

/* The token of the next request: -T's for the first, then new ones from
 * the library (an extended -T token keeps its first bytes, as libcoap's
 * client does). */
static void next_token(coap_session_t *session, client_opts_t *o, int first) {
  uint8_t fresh[8];
  size_t len = 0;
  if (first && o->have_token)
    return;
  coap_session_new_token(session, &len, fresh);
  if (o->token_len > sizeof(fresh)) {
    memcpy(o->token + o->token_len - len, fresh, len);
  } else {
    memcpy(o->token, fresh, len);
    o->token_len = len;
  }
}

static coap_pdu_t *build_request(coap_session_t *session, client_opts_t *o,
                                 coap_optlist_t **opts, int first) {
  coap_pdu_t *pdu =
      coap_pdu_init(o->type, o->method, coap_new_message_id(session),
                    coap_session_max_pdu_size(session));
  if (!pdu)
    return NULL;
  next_token(session, o, first);
  int ok = coap_add_token(pdu, o->token_len, o->token) &&
           coap_add_optlist_pdu(pdu, opts);
  /* Last change before coap_send(): the library sends a body larger than
   * one message (or than the -b block size) in Block1 blocks. The body is
   * borrowed; o->payload outlives the context, whose end releases it. */
  if (ok && o->payload_len)
    ok = coap_add_data_large_request(session, pdu, o->payload_len, o->payload,
                                     NULL, NULL);
  if (!ok) {
    coap_delete_pdu(pdu);
    return NULL;
  }
  return pdu;
}

/* ---- the URI ------------------------------------------------------------ */

/* The plain reason a URI's scheme cannot be used, when its transport is
 * not in this build of the library or the scheme is not CoAP's; NULL
 * otherwise. */
static const char *missing_transport(const char *uri) {
  static const struct {
    const char *prefix;
    int (*built)(void);
    const char *why;
  } schemes[] = {
      {"coap://", NULL, NULL},
      {"coaps://", coap_dtls_is_supported, "coaps:// needs DTLS"},
      {"coap+tcp://", coap_tcp_is_supported, "coap+tcp:// needs TCP"},
      {"coaps+tcp://", coap_tls_is_supported, "coaps+tcp:// needs TLS"},
      {"coap+ws://", coap_ws_is_supported, "coap+ws:// needs WebSockets"},
      {"coaps+ws://", coap_wss_is_supported,
       "coaps+ws:// needs secure WebSockets"},
  };
  for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
    if (strncasecmp(uri, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
      return !schemes[i].built || schemes[i].built() ? NULL : schemes[i].why;
  return NULL;
}

/* Checks what coap_split_uri() would only refuse: the scheme and the port.
 * Returns 1, or 0 with the reason printed. */
static int check_uri(const char *what, const char *uri) {
  const char *sep = strstr(uri, "://");
  if (!sep) {
    fprintf(stderr, "coap-client: %s '%s' has no scheme (coap://host/path)\n",
            what, uri);
    return 0;
  }
  const char *missing = missing_transport(uri);
  if (missing) {
    fprintf(stderr, "coap-client: %s, which this build lacks\n", missing);
    return 0;
  }
  static const char *known[] = {"coap",      "coaps",   "coap+tcp",
                                "coaps+tcp", "coap+ws", "coaps+ws"};
  int scheme_ok = 0;
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    if (strlen(known[i]) == (size_t)(sep - uri) &&
        strncasecmp(uri, known[i], (size_t)(sep - uri)) == 0)
      scheme_ok = 1;
  if (!scheme_ok) {
    fprintf(stderr,
            "coap-client: unsupported URI scheme '%.*s' in '%s' (use "
            "coap://)\n",
            (int)(sep - uri), uri, uri);
    return 0;
  }
  /* The port: after the host ("[v6]" or up to ':' '/' '?'). */
  const char *p = sep + 3;
  if (*p == '[')
    p = strchr(p, ']') ? strchr(p, ']') + 1 : p + strlen(p);
  else
    p += strcspn(p, ":/?");
  if (*p == ':') {
    const char *digits = p + 1;
    size_t n = strspn(digits, "0123456789");
    unsigned long port = strtoul(digits, NULL, 10);
    if (n == 0 || n > 5 || port == 0 || port > 65535 ||
        (digits[n] && digits[n] != '/' && digits[n] != '?')) {
      fprintf(stderr,
              "coap-client: port '%.*s' in %s '%s' is not a port "
              "number (1 to 65535)\n",
              (int)strcspn(digits, "/?"), digits, what, uri);
      return 0;
    }
  }
  return 1;
}

/* Resolves @host:@port for @scheme into dst; returns the protocol, or
 * COAP_PROTO_NONE with the reason printed. */
static coap_proto_t resolve(const coap_str_const_t *host, uint16_t port,
                            coap_uri_scheme_t scheme, coap_address_t *dst) {
  coap_addr_info_t *info = coap_resolve_address_info(
      host, port, port, port, port, 0, 1 << scheme, COAP_RESOLVE_TYPE_REMOTE);
  if (!info) {
    /* Only for the message: ask the resolver why. */
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)host->length,
             (const char *)host->s);
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (res)
      freeaddrinfo(res);
    fprintf(stderr, "coap-client: cannot resolve host '%s': %s\n", name,
            rc ? gai_strerror(rc) : "no address for this scheme");
    return COAP_PROTO_NONE;
  }
  coap_address_copy(dst, &info->addr);
  coap_proto_t proto = info->proto;
  coap_free_address_info(info);
  return proto;
}

/* -a and -p: the local address to send from, of dst's family. */
static int local_address(const client_opts_t *o, const coap_address_t *dst,
                         coap_address_t *local) {
  unsigned port = o->local_port ? (unsigned)atoi(o->local_port) : 0;
  if (o->local_addr) {
    coap_str_const_t host = {strlen(o->local_addr),
                             (const uint8_t *)o->local_addr};
    coap_addr_info_t *info = coap_resolve_address_info(
        &host, (uint16_t)port, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT,
        COAP_RESOLVE_TYPE_LOCAL);
    if (!info) {
      fprintf(stderr, "coap-client: cannot resolve local address '%s'\n",
              o->local_addr);
      return 0;
    }
    coap_address_copy(local, &info->addr);
    coap_free_address_info(info);
  } else {
    coap_address_init(local);
    local->addr.sa.sa_family = dst->addr.sa.sa_family;
    local->size = dst->size;
  }
  coap_address_set_port(local, (uint16_t)port);
  return 1;
}

/* ---- running ------------------------------------------------------------ */

/* RFC 8323 5.3: over TCP the server's CSM says how large a message it
 * takes and whether it does BERT, and a request body is cut to fit it; so
 * the first request waits for it, as libcoap's client does (at most @wait
 * seconds; a connection that fails ends the wait). */
static void await_csm(coap_context_t *ctx, coap_session_t *session,
                      unsigned wait) {
  if (!COAP_PROTO_RELIABLE(coap_session_get_proto(session)))
    return;
  coap_tick_t start, t;
  coap_ticks(&start);
  while (coap_session_get_state(session) == COAP_SESSION_STATE_CSM &&
         !interrupted) {
    coap_ticks(&t);
    if (t - start >= (coap_tick_t)wait * COAP_TICKS_PER_SECOND ||
        coap_io_process(ctx, 100) < 0)
      break;
  }
}

/* Sends the next request of the run. Returns 1, or 0 with the reason
 * printed (st->status set). */
static int send_request(coap_session_t *session, client_opts_t *o,
                        client_state_t *st, coap_optlist_t **opts, int first) {
  coap_pdu_t *pdu = build_request(session, o, opts, first);
  if (!pdu) {
    fprintf(stderr, "coap-client: cannot build the request\n");
    st->status = EXIT_USAGE;
    return 0;
  }
  st->token.s = o->token;
  st->token.length = o->token_len;
  st->finished = 0;
  coap_ticks(&st->sent_at);
  if (coap_send(session, pdu) == COAP_INVALID_MID) {
    if (COAP_PROTO_RELIABLE(coap_session_get_proto(session)) &&
        coap_session_get_state(session) == COAP_SESSION_STATE_NONE) {
      char peer[PEER_TEXT];
      peer_text(session, peer);
      fprintf(stderr,
              "coap-client: cannot send the request: the connection to %s "
              "failed or was closed (refused, unreachable, or its handshake "
              "failed)\n",
              peer);
    } else
      fprintf(stderr, "coap-client: cannot send the request\n");
    st->status = EXIT_UNDELIVERED;
    return 0;
  }
  return 1;
}

/* A Block2 body went wrong: if the library gave it up (nothing is pending
 * any more) the run fails; if it asked for the body again, the blocks so
 * far are dropped and the transfer goes on. */
static void judge_partial(coap_context_t *ctx, client_state_t *st) {
  st->partial = 0;
  st->body_len = 0;
  if (st->done || st->finished || coap_io_pending(ctx))
    return; /* the error that ended it was printed, or a restart is on */
  progress_end(st);
  fprintf(stderr, "coap-client: block-wise transfer failed: the response "
                  "body was not received whole\n");
  st->status = EXIT_INCOMPLETE;
  st->done = 1;
}

/* Runs the loop until the handlers are done, the deadline passes or a
 * signal comes; with -G, sends the next request a second after the last
 * one once it has been answered. */
static void run(coap_context_t *ctx, coap_session_t *session, client_opts_t *o,
                client_state_t *st, coap_optlist_t **opts, unsigned seconds,
                unsigned *to_send) {
  coap_tick_t now, end;
  coap_ticks(&now);
  end = now + (coap_tick_t)seconds * COAP_TICKS_PER_SECOND;
  while (!st->done && !interrupted && now < end) {
    coap_tick_t left = end - now;
    uint32_t wait = left > 200 ? 200 : (uint32_t)left;
    if (coap_io_process(ctx, wait ? wait : 1) < 0)
      break;
    coap_ticks(&now);
    if (st->partial)
      judge_partial(ctx, st);
    progress(st, now);
    if (st->finished && to_send && *to_send == 0)
      st->done = 1;
    if (st->finished && to_send && *to_send &&
        now >= st->sent_at + COAP_TICKS_PER_SECOND) {
      (*to_send)--;
      if (!send_request(session, o, st, opts, 0))
        st->done = 1;
      end = now + (coap_tick_t)seconds * COAP_TICKS_PER_SECOND;
    }
  }
}

/* Cancels the observation (RFC 7641 3.6), waiting a little for the
 * answer. */
static void cancel_observe(coap_context_t *ctx, coap_session_t *session,
                           client_opts_t *o, client_state_t *st) {
  coap_binary_t token = {o->token_len, o->token};
  if (!coap_cancel_observe(session, &token, o->type))
    return;
  st->cancelling = 1;
  st->done = 0;
  int was = interrupted;
  interrupted = 0; /* a second signal still stops the wait */
  run(ctx, session, o, st, NULL, 2, NULL);
  interrupted = interrupted || was;
}

static int request(client_opts_t *o, coap_context_t *ctx, client_state_t *st) {
  coap_uri_t uri, proxy;
  coap_address_t dst, local;
  if (!check_uri("URI", o->uri) ||
      (o->proxy && !check_uri("proxy URI", o->proxy)))
    return EXIT_USAGE;
  if (coap_split_uri((const uint8_t *)o->uri, strlen(o->uri), &uri) < 0) {
    fprintf(stderr, "coap-client: cannot parse URI '%s'\n", o->uri);
    return EXIT_USAGE;
  }
  coap_uri_t *target = &uri;
  if (o->proxy) {
    if (coap_split_uri((const uint8_t *)o->proxy, strlen(o->proxy), &proxy) <
            0 ||
        proxy.path.length || proxy.query.length) {
      fprintf(stderr, "coap-client: bad proxy '%s' (scheme://addr[:port])\n",
              o->proxy);
      return EXIT_USAGE;
    }
    if (strlen(o->uri) > PROXY_URI_MAX) {
      fprintf(stderr,
              "coap-client: a URI sent to a proxy has at most %d "
              "bytes\n",
              PROXY_URI_MAX);
      return EXIT_USAGE;
    }
    target = &proxy;
  }
  if (o->reliable && target->scheme == COAP_URI_SCHEME_COAP)
    target->scheme = COAP_URI_SCHEME_COAP_TCP;
  if (o->reliable && target->scheme == COAP_URI_SCHEME_COAPS)
    target->scheme = COAP_URI_SCHEME_COAPS_TCP;
  coap_str_const_t host = {target->host.length, target->host.s};
  coap_proto_t proto = resolve(&host, target->port, target->scheme, &dst);
  if (proto == COAP_PROTO_NONE)
    return EXIT_USAGE;
  int use_local = o->local_addr || o->local_port;
  if (use_local && !local_address(o, &dst, &local))
    return EXIT_USAGE;
  if (!use_local && coap_is_af_unix(&dst)) {
    /* A Unix datagram socket is answered only at a path of its own. */
    snprintf(st->unix_path, sizeof(st->unix_path), "/tmp/coap-client.%ld",
             (long)getpid());
    unlink(st->unix_path);
    coap_address_init(&local);
    use_local = coap_address_set_unix_domain(
        &local, (const uint8_t *)st->unix_path, strlen(st->unix_path));
  }
  coap_session_t *session =
      tool_dtls_client(ctx, use_local ? &local : NULL, &dst, proto,
                       (const coap_str_const_t *)&uri.host, &o->dtls);
  if (!session) {
    fprintf(stderr, "coap-client: cannot create a session to %s%s\n",
            o->proxy ? o->proxy : o->uri,
            use_local ? " from the local address asked for" : "");
    return EXIT_USAGE;
  }
  /* coap+ws, coaps+ws: the upgrade's Host is the URI's host (or the
   * proxy's). */
  if ((proto == COAP_PROTO_WS || proto == COAP_PROTO_WSS) &&
      target->host.length && !coap_ws_set_host_request(session, &host)) {
    fprintf(stderr, "coap-client: bad host '%.*s' for a WebSocket upgrade\n",
            (int)target->host.length, (const char *)target->host.s);
    coap_session_release(session);
    return EXIT_USAGE;
  }
  st->mcast = coap_is_mcast(&dst);
  coap_optlist_t *opts = NULL;
  if (!build_options(o, &uri, &dst, &opts)) {
    fprintf(stderr, "coap-client: cannot build the request's options\n");
    return EXIT_USAGE;
  }
  unsigned wait = o->wait_seconds;
  if (st->mcast && !o->wait_given) /* RFC 7252 8.2: answers take leisure */
    wait = (unsigned)coap_session_get_default_leisure(session).integer_part + 1;
  st->status = EXIT_TIMEOUT;
  unsigned to_send = o->repeat - 1;
  await_csm(ctx, session, wait ? wait : 1);
  if (!send_request(session, o, st, &opts, 1)) {
    coap_delete_optlist(opts);
    return st->status;
  }
  if (o->observe_seconds) {
    st->observing = 1;
    run(ctx, session, o, st, &opts, o->observe_seconds, NULL);
    if (!st->finished && st->got_response && st->status == EXIT_OK)
      cancel_observe(ctx, session, o, st);
  } else {
    run(ctx, session, o, st, &opts, wait, &to_send);
    if (!st->finished && !st->done && !interrupted && !st->mcast)
      st->status = EXIT_TIMEOUT; /* the last of a -G run went unanswered */
  }
  if (st->failure && st->status == EXIT_OK)
    st->status = st->failure;
  coap_delete_optlist(opts);
  if (interrupted && st->body_len)
    write_body(st); /* what came of the body before the signal */
  progress_end(st);
  if (st->mcast && st->got_response && st->status == EXIT_TIMEOUT)
    st->status = EXIT_OK;
  st->done = 1; /* freeing the context NACKs what is still pending: quiet */
  if (interrupted)
    return st->status == EXIT_ERROR_RESPONSE ? EXIT_ERROR_RESPONSE : EXIT_OK;
  char peer[PEER_TEXT];
  peer_text(session, peer);
  if (st->status == EXIT_TIMEOUT && (!st->got_response || !st->finished))
    fprintf(stderr, "coap-client: no %sresponse from %s within %u s%s\n",
            st->rejected ? "acceptable " : "", peer,
            o->observe_seconds ? o->observe_seconds : wait,
            st->rejected ? " (malformed or bad-option responses rejected)"
                         : "");
  return st->status;
}

/* Settings of the context from the command line. Returns 1, or 0 with the
 * reason printed. */
static int configure(coap_context_t *ctx, const client_opts_t *o) {
  if (o->loss && !coap_debug_set_packet_loss(o->loss)) {
    fprintf(stderr,
            "coap-client: bad value '%s' for -l (N%% or a list "
            "like 1,3,5-7)\n",
            o->loss);
    return 0;
  }
  if (o->token_len > COAP_TOKEN_DEFAULT_MAX)
    coap_context_set_max_token_size(ctx, o->token_len);
  coap_context_set_keepalive(ctx, o->keepalive);
  coap_context_set_block_mode(ctx, o->block_mode);
  if (o->csm_max)
    coap_context_set_csm_max_message_size(ctx, o->csm_max);
  return 1;
}

int main(int argc, char **argv) {
  client_opts_t o;
  int r = parse_args(argc, argv, &o);
  if (r <= 0) {
    free(o.payload);
    coap_delete_optlist(o.extra);
    return r < 0 ? EXIT_OK : EXIT_USAGE;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal; /* no SA_RESTART: wake coap_io_process up */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  coap_startup();
  coap_set_log_level((coap_log_t)o.log_level);
  coap_dtls_set_log_level((coap_log_t)o.dtls_log_level);
  client_state_t st = {.out = stdout,
                       .to_stdout = !o.output && !o.output_dash,
                       .newline = o.newline,
                       .random_access = o.block_num > 0,
                       .tty = isatty(STDERR_FILENO),
                       .status = EXIT_USAGE};
  if (o.output && !(st.out = fopen(o.output, "wb"))) {
    fprintf(stderr, "coap-client: cannot open '%s': %s\n", o.output,
            strerror(errno));
    st.out = NULL;
  }
  coap_context_t *ctx = st.out ? coap_new_context(NULL) : NULL;
  int status = EXIT_USAGE;
  if (ctx && configure(ctx, &o)) {
    coap_set_app_data(ctx, &st);
    coap_register_response_handler(ctx, on_response);
    coap_register_nack_handler(ctx, on_nack);
    coap_register_event_handler(ctx, on_event);
    status = request(&o, ctx, &st);
  } else if (st.out && !ctx) {
    fprintf(stderr, "coap-client: cannot create a context\n");
  }
  if (ctx)
    coap_free_context(ctx);
  if (st.unix_path[0])
    unlink(st.unix_path);
  /* libcoap's client ends what it wrote to standard output with a
   * newline (not with -o, -o - included). */
  if (st.wrote && st.to_stdout)
    fputc('\n', stdout);
  if (st.out && st.out != stdout)
    fclose(st.out);
  free(st.body);
  free(o.payload);
  coap_delete_optlist(o.extra);
  tool_dtls_free(&o.dtls);
  coap_cleanup();
  return status;
}
