/*
 * client_options.c -- coap-client's command line: libcoap's option letters
 * and meanings, one case per letter in take_option(), and the usage text.
 */
#include "client.h"
#include "tool.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static void usage(FILE *f) {
  tool_version(f, "coap-client");
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

/* -e text: the payload, %XX escapes decoded. */
static int set_payload_text(client_opts_t *o, const char *v) {
  free(o->payload);
  o->payload = malloc(strlen(v) + 1);
  long n = o->payload ? decode_text(v, o->payload, 0) : -1;
  o->payload_len = n >= 0 ? (size_t)n : 0;
  return n >= 0;
}

/* -f file: the payload from a file ("-": standard input). */
static int set_payload_file(client_opts_t *o, const char *v) {
  free(o->payload);
  o->payload = NULL;
  if (read_file(v, &o->payload, &o->payload_len))
    return TOOL_TAKEN;
  fprintf(stderr, "coap-client: cannot read '%s': %s\n", v, strerror(errno));
  return TOOL_FAILED;
}

/* The letters that say what the request is: method, type, body, options,
 * token, observation, proxy. */
static int take_request_option(client_opts_t *o, int opt, const char *v) {
  int ok = 1;
  switch (opt) {
  case 'b':
    return parse_block(o, v);
  case 'e':
    return set_payload_text(o, v);
  case 'f':
    return set_payload_file(o, v);
  case 'm':
    return parse_method(v, &o->method);
  case 's':
    o->observe_seconds = (unsigned)tool_parse_number(v, 1, 86400, 10, &ok);
    return ok;
  case 't':
    return (o->content_format = parse_media_type(v)) >= 0;
  case 'A':
    return (o->accept = parse_media_type(v)) >= 0;
  case 'H':
    o->hop_limit = (unsigned)tool_parse_number(v, 1, 255, 10, &ok);
    return ok;
  case 'N':
    o->type = COAP_MESSAGE_NON;
    return TOOL_TAKEN;
  case 'O':
    return add_extra_option(o, v);
  case 'P':
    o->proxy = v;
    return TOOL_TAKEN;
  case 'T':
    return parse_token(o, v);
  case 'U':
    o->no_uri_host = 1;
    return TOOL_TAKEN;
  default:
    return TOOL_OTHER;
  }
}

/* The letters that say how the run goes: where from, over what, how long,
 * how often, what is logged and where the output goes. */
static int take_run_option(client_opts_t *o, int opt, const char *v) {
  int ok = 1;
  switch (opt) {
  case 'a':
    o->local_addr = v;
    return TOOL_TAKEN;
  case 'l':
    o->loss = v;
    return TOOL_TAKEN;
  case 'o':
    o->output_dash = strcmp(v, "-") == 0;
    o->output = o->output_dash ? NULL : v;
    return TOOL_TAKEN;
  case 'p':
    tool_parse_number(v, 0, 65535, 10, &ok);
    o->local_port = v;
    return ok;
  case 'r':
    if (!coap_tcp_is_supported())
      return tool_lacks("coap-client", 'r', "TCP");
    o->reliable = 1;
    return TOOL_TAKEN;
  case 'v':
    o->log_level = (int)tool_parse_number(v, 0, COAP_LOG_OSCORE, 10, &ok);
    return ok;
  case 'w':
    o->newline = 1;
    return TOOL_TAKEN;
  case 'B':
    o->wait_seconds = (unsigned)tool_parse_number(v, 1, 86400, 10, &ok);
    o->wait_given = 1;
    return ok;
  case 'E':
    if (!coap_oscore_is_supported())
      return tool_lacks("coap-client", 'E', "OSCORE (RFC 8613)");
    fprintf(stderr, "coap-client: -E: OSCORE is not supported by this "
                    "coap-client yet\n");
    return TOOL_FAILED;
  case 'G':
    o->repeat = (unsigned)tool_parse_number(v, 1, 255, 10, &ok);
    return ok;
  case 'K':
    o->keepalive = (unsigned)tool_parse_number(v, 0, 86400, 10, &ok);
    return ok;
  case 'L':
    return parse_block_mode(o, v);
  case 'V':
    o->dtls_log_level = (int)tool_parse_number(v, 0, COAP_LOG_DEBUG, 10, &ok);
    return ok;
  case 'X':
    if (!coap_tcp_is_supported())
      return tool_lacks("coap-client", 'X', "TCP");
    o->csm_max = (uint32_t)tool_parse_number(v, 64, 0xFFFFFFFFul, 10, &ok);
    return ok;
  default:
    return TOOL_OTHER;
  }
}

/* The DTLS letters (dtls_opts.h). */
static int take_dtls_option(client_opts_t *o, int opt, const char *v) {
  int taken = tool_dtls_option(&o->dtls, (char)opt, v, 0);
  if (!taken)
    return TOOL_FAILED;
  if (taken < 0 && opt == 'h') {
    fprintf(stderr,
            "coap-client: -h: no 'hint,user,key' line could be read from "
            "'%s'\n",
            v);
    return TOOL_FAILED;
  }
  return taken > 0 ? TOOL_TAKEN : TOOL_BAD;
}

/* One option letter and its value (NULL for flags). Returns 1 if taken, 0
 * on an error (message printed). */
static int take_option(void *opts, int opt, const char *v) {
  client_opts_t *o = opts;
  int r = take_request_option(o, opt, v);
  if (r == TOOL_OTHER)
    r = take_run_option(o, opt, v);
  if (r == TOOL_OTHER)
    r = take_dtls_option(o, opt, v);
  if (r == TOOL_BAD)
    fprintf(stderr, "coap-client: bad value '%s' for -%c\n", v, opt);
  return r == TOOL_TAKEN;
}

static void usage_after_unknown(void) {
  usage(stderr);
}

int client_parse_args(int argc, char **argv, client_opts_t *o) {
  static const tool_cmdline cl = {
      .prog = "coap-client",
      .optstring = ":a:b:c:e:f:h:j:k:l:m:no:p:rs:t:u:v:wA:B:C:E:G:H:K:"
                   "L:M:NO:P:R:T:UV:X:",
      .usage = usage,
      .after_unknown = usage_after_unknown,
      .take = take_option,
  };
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
  int r = tool_parse_options(argc, argv, &cl, o);
  if (r <= 0)
    return r;
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
