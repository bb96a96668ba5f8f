/*
 * coap-client: send one CoAP request and print the answer.
 *
 * A thin command line over the public API, with libcoap's coap-client option
 * letters for everyday use:
 *
 *   coap-client [-m method] [-e text] [-f file] [-t type] [-A type]
 *               [-O num,text] [-T token] [-N] [-B seconds] [-o file]
 *               [-v level] [-b [num,]size] [-s duration] [-w] [-h] URI
 *
 * All the argument parsing is in parse_args(); everything after it is the
 * library doing the work: split the URI, resolve it, open a session, build
 * and send the request, run the event loop until the response handler or
 * the NACK handler says we are done, or -B seconds pass.
 *
 * Exit status: 0 on a 2.xx response, 1 on a usage or setup error, 2 on a
 * 4.xx/5.xx response, 3 when no response came in time, 4 when the request
 * could not be delivered (NACK: peer unreachable, too many retransmissions,
 * Reset), 5 when a block-wise body could not be sent or received whole
 * (COAP_EVENT_XMIT_BLOCK_FAIL, COAP_EVENT_PARTIAL_BLOCK: nothing is printed
 * as the body).
 */
#include <coap3/coap.h>

#include "dtls_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_ERROR_RESPONSE = 2,
  EXIT_TIMEOUT = 3,
  EXIT_UNDELIVERED = 4,
  EXIT_INCOMPLETE = 5,
};

#define MAX_TOKEN 8

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
  const char *output;    /* -o, NULL: stdout */
  int log_level;
  int block_size; /* -b, 0: none */
  unsigned block_num;
  unsigned observe_seconds; /* -s, 0: no observe */
  int newline;              /* -w */
  const char *uri;
  tool_dtls dtls;           /* -k -u -c -j -C -R -n -M (dtls_opts.h) */
} client_opts_t;

/* What the handlers learn, reached through the context's app data. */
typedef struct {
  coap_bin_const_t token;
  FILE *out;
  int newline;
  int done;   /* stop the loop */
  int status; /* exit status so far */
  int got_response;
  int observing;
  int rejected; /* responses the library rejected (bad critical option) */
  int cancelling; /* the observation's cancellation was sent */
} client_state_t;

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

/* Reads all of a file ("-" for stdin) into a new buffer. */
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
  int ok = buf && !ferror(f);
  if (f != stdin)
    fclose(f);
  if (!ok) {
    free(buf);
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

/* -b [num,]size */
static int parse_block(client_opts_t *o, const char *arg) {
  char *end;
  unsigned long a = strtoul(arg, &end, 10);
  if (*end == ',') {
    o->block_num = (unsigned)a;
    a = strtoul(end + 1, &end, 10);
  }
  if (*end != '\0' || a < 16 || a > 1024 || (a & (a - 1)) != 0)
    return 0;
  o->block_size = (int)a;
  return 1;
}

static unsigned parse_seconds(const char *s, int *ok) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  *ok = (*s && *end == '\0' && v <= 86400);
  return (unsigned)v;
}

static void usage(FILE *f) {
  fprintf(
      f, "usage: coap-client [-m method] [-e text] [-f file] [-t type] "
         "[-A type]\n"
         "                   [-O num,text] [-T token] [-N] [-B seconds] "
         "[-o file]\n"
         "                   [-v level] [-b [num,]size] [-s duration] [-w] "
         "[-h] URI\n"
         "  -m method    get|put|post|delete|fetch|patch|ipatch (default get)\n"
         "  -e text      payload (percent-encoding allowed)\n"
         "  -f file      payload from a file ('-' for stdin)\n"
         "  -t type      Content-Format of the payload (number or name: "
         "text,\n"
         "               link, xml, octet, exi, json, cbor)\n"
         "  -A type      Accept (number or name as for -t)\n"
         "  -O num,text  add option num (text, or hex when it starts with "
         "0x)\n"
         "  -T token     request token (text, or hex when it starts with 0x)\n"
         "  -N           send a Non-confirmable request\n"
         "  -B seconds   give up after this long (default 90)\n"
         "  -o file      write the response payload to file\n"
         "  -v level     log level 0..8 (default 4, warnings)\n"
         "  -b [num,]size  block size 16..1024 for the request body (Block1)\n"
         "               or the response (Block2, from block num)\n"
         "  -s duration  observe for duration seconds, printing every\n"
         "               notification, then cancel the observation\n"
         "  -w           append a newline to each payload written\n"
         "  coaps:// (DTLS): -k key -u identity (pre-shared key), or\n"
         "               -c certfile [-j keyfile] [-C cafile] [-R "
         "trust_casfile] [-n]\n"
         "               (-n: do not verify the server's certificate; -M,\n"
         "               raw public keys, is not available with OpenSSL)\n"
         "  -h, --help   this text\n"
         "exit status: 0 on 2.xx, 1 usage or setup error, 2 on 4.xx/5.xx,\n"
         "             3 on timeout, 4 when the request was not delivered,\n"
         "             5 when a block-wise body was not sent or received "
         "whole\n");
}

/* Fills o from argv. Returns -1 to exit successfully (help), 0 on a usage
 * error (message already printed), 1 to go on. */
static int parse_args(int argc, char **argv, client_opts_t *o) {
  memset(o, 0, sizeof(*o));
  o->method = COAP_REQUEST_CODE_GET;
  o->type = COAP_MESSAGE_CON;
  o->content_format = -1;
  o->accept = -1;
  o->wait_seconds = 90;
  o->log_level = COAP_LOG_WARN;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return -1;
    }
    if (a[0] != '-' || a[1] == '\0' || a[2] != '\0') {
      if (o->uri || a[0] == '-') {
        fprintf(stderr, "coap-client: unexpected argument '%s'\n", a);
        return 0;
      }
      o->uri = a;
      continue;
    }
    char opt = a[1];
    if (opt == 'N') {
      o->type = COAP_MESSAGE_NON;
      continue;
    }
    if (opt == 'w') {
      o->newline = 1;
      continue;
    }
    if (opt == 'n') { /* DTLS: do not verify the server's certificate */
      tool_dtls_option(&o->dtls, opt, NULL, 0);
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "coap-client: option -%c needs a value\n", opt);
      return 0;
    }
    const char *v = argv[++i];
    int ok = 1;
    long n;
    switch (opt) {
    case 'm':
      ok = parse_method(v, &o->method);
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
      ok = read_file(v, &o->payload, &o->payload_len);
      break;
    case 't':
      ok = (o->content_format = parse_media_type(v)) >= 0;
      break;
    case 'A':
      ok = (o->accept = parse_media_type(v)) >= 0;
      break;
    case 'O':
      ok = add_extra_option(o, v);
      break;
    case 'T': {
      uint8_t tmp[256];
      n = strlen(v) < sizeof(tmp) ? decode_text(v, tmp, 1) : -1;
      ok = n >= 0 && n <= MAX_TOKEN;
      if (ok) {
        memcpy(o->token, tmp, (size_t)n);
        o->token_len = (size_t)n;
        o->have_token = 1;
      }
      break;
    }
    case 'B':
      o->wait_seconds = parse_seconds(v, &ok);
      ok = ok && o->wait_seconds > 0;
      break;
    case 'o':
      o->output = v;
      break;
    case 'v':
      n = strtol(v, NULL, 10);
      ok = n >= 0 && n <= COAP_LOG_OSCORE;
      o->log_level = (int)n;
      break;
    case 'b':
      ok = parse_block(o, v);
      break;
    case 's':
      o->observe_seconds = parse_seconds(v, &ok);
      ok = ok && o->observe_seconds > 0;
      break;
    default: {
      int taken = tool_dtls_option(&o->dtls, opt, v, 0);
      if (!taken) {
        fprintf(stderr, "coap-client: unknown option -%c\n", opt);
        return 0;
      }
      ok = taken > 0;
      break;
    }
    }
    if (!ok) {
      fprintf(stderr, "coap-client: bad value '%s' for -%c\n", v, opt);
      return 0;
    }
  }
  if (!o->uri) {
    usage(stderr);
    return 0;
  }
  return tool_dtls_check(&o->dtls, "coap-client") < 0 ? 0 : 1;
}

/* ---- handlers ----------------------------------------------------------- */

static client_state_t *state_of(coap_session_t *session) {
  return coap_get_app_data(coap_session_get_context(session));
}

static void print_code(FILE *f, coap_pdu_code_t code) {
  const char *phrase = coap_response_phrase((unsigned char)code);
  fprintf(f, "%d.%02d %s", COAP_RESPONSE_CLASS(code), code & 0x1F,
          phrase ? phrase : "");
}

static coap_response_t on_response(coap_session_t *session,
                                   const coap_pdu_t *sent,
                                   const coap_pdu_t *received,
                                   const coap_mid_t mid) {
  (void)sent;
  (void)mid;
  client_state_t *st = state_of(session);
  coap_bin_const_t token = coap_pdu_get_token(received);
  if (!st || token.length != st->token.length ||
      (token.length && memcmp(token.s, st->token.s, token.length) != 0))
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
  size_t len = 0, offset = 0, total = 0;
  const uint8_t *data = NULL;
  /* With COAP_BLOCK_SINGLE_BODY the library hands over the whole body,
   * reassembled from its Block2 blocks. */
  coap_get_data_large(received, &len, &data, &offset, &total);
  st->got_response = 1;
  if (COAP_RESPONSE_CLASS(code) == 2) {
    if (len)
      fwrite(data, 1, len, st->out);
    if (st->newline)
      fputc('\n', st->out);
    fflush(st->out);
    st->status = EXIT_OK;
  } else {
    fputs("coap-client: ", stderr);
    print_code(stderr, code);
    if (len) {
      fputs(": ", stderr);
      fwrite(data, 1, len, stderr);
    }
    fputc('\n', stderr);
    st->status = EXIT_ERROR_RESPONSE;
  }
  /* An observe keeps going until its duration runs out, unless the server
   * ended it (an error, or a response without Observe). */
  if (!st->observing || !notification || st->status != EXIT_OK)
    st->done = 1;
  return COAP_RESPONSE_OK;
}

static const char *nack_text(coap_nack_reason_t reason) {
  switch (reason) {
  case COAP_NACK_TOO_MANY_RETRIES:
    return "no answer (too many retransmissions)";
  case COAP_NACK_NOT_DELIVERABLE:
    return "peer unreachable (not deliverable)";
  case COAP_NACK_RST:
    return "the peer answered with a Reset";
  case COAP_NACK_ICMP_ISSUE:
    return "peer unreachable (ICMP error)";
  case COAP_NACK_BAD_RESPONSE:
    return "the response was rejected (unrecognized critical option)";
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
    if (token.length != st->token.length ||
        (token.length && memcmp(token.s, st->token.s, token.length) != 0))
      return;
  }
  fprintf(stderr, "coap-client: request not delivered: %s\n",
          nack_text(reason));
  st->status = EXIT_UNDELIVERED;
  st->done = 1;
}

/* Events the tool acts on. A block-wise transfer that failed (the body was
 * not sent or received whole: the library hands over no part of a body as
 * if it were all of it) ends the run. A response the library rejected
 * before it reached on_response() (RFC 7252 5.4.1: an unrecognized
 * critical option) is counted so that the timeout message can say so. */
static int on_event(coap_session_t *session, const coap_event_t event) {
  client_state_t *st = state_of(session);
  if (!st)
    return 0;
  if (event == COAP_EVENT_BAD_PACKET) {
    st->rejected++;
    return 0;
  }
  if (st->done || (event != COAP_EVENT_PARTIAL_BLOCK &&
                   event != COAP_EVENT_XMIT_BLOCK_FAIL))
    return 0;
  fprintf(stderr, "coap-client: block-wise transfer failed: %s\n",
          event == COAP_EVENT_PARTIAL_BLOCK
              ? "the response body was not received whole"
              : "the request body was not sent whole");
  st->status = EXIT_INCOMPLETE;
  st->done = 1;
  return 0;
}

/* ---- building the request ----------------------------------------------- */

static int add_uint_option(coap_optlist_t **chain, uint16_t number,
                           unsigned value) {
  uint8_t buf[4];
  unsigned len = coap_encode_var_safe(buf, sizeof(buf), value);
  return coap_insert_optlist(chain, coap_new_optlist(number, len, buf));
}

static coap_pdu_t *build_request(coap_session_t *session, client_opts_t *o,
                                 const coap_uri_t *uri,
                                 const coap_address_t *dst) {
  coap_pdu_t *pdu =
      coap_pdu_init(o->type, o->method, coap_new_message_id(session),
                    coap_session_max_pdu_size(session));
  if (!pdu)
    return NULL;
  if (!o->have_token) {
    coap_session_new_token(session, &o->token_len, o->token);
    o->have_token = 1;
  }
  coap_optlist_t *opts = o->extra; /* the chain takes them over */
  o->extra = NULL;
  uint8_t scratch[256];
  int ok =
      coap_add_token(pdu, o->token_len, o->token) &&
      coap_uri_into_options(uri, dst, &opts, 1, scratch, sizeof(scratch)) == 0;
  if (ok && o->observe_seconds)
    ok = add_uint_option(&opts, COAP_OPTION_OBSERVE, 0);
  if (ok && o->content_format >= 0 && o->payload)
    ok = add_uint_option(&opts, COAP_OPTION_CONTENT_FORMAT,
                         (unsigned)o->content_format);
  if (ok && o->accept >= 0)
    ok = add_uint_option(&opts, COAP_OPTION_ACCEPT, (unsigned)o->accept);
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
  if (ok)
    ok = coap_add_optlist_pdu(pdu, &opts);
  coap_delete_optlist(opts);
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

/* ---- main --------------------------------------------------------------- */

/* Resolves the URI's host into dst; returns the protocol, or COAP_PROTO_NONE.
 */
static coap_proto_t resolve(const coap_uri_t *uri, coap_address_t *dst) {
  coap_addr_info_t *info = coap_resolve_address_info(
      &uri->host, uri->port, uri->port, uri->port, uri->port, 0,
      1 << uri->scheme, COAP_RESOLVE_TYPE_REMOTE);
  if (!info)
    return COAP_PROTO_NONE;
  coap_address_copy(dst, &info->addr);
  coap_proto_t proto = info->proto;
  coap_free_address_info(info);
  return proto;
}

/* Runs the loop until the handlers are done or the deadline passes. */
static void run(coap_context_t *ctx, client_state_t *st, unsigned seconds) {
  coap_tick_t now, end;
  coap_ticks(&now);
  end = now + (coap_tick_t)seconds * COAP_TICKS_PER_SECOND;
  while (!st->done && now < end) {
    coap_tick_t left = end - now;
    uint32_t wait = left > 1000 ? 1000 : (uint32_t)left;
    if (coap_io_process(ctx, wait ? wait : 1) < 0)
      break;
    coap_ticks(&now);
  }
}

/* The plain reason a URI's scheme cannot be used, when its transport is
 * not in this build of the library; NULL otherwise. */
static const char *missing_transport(const char *uri) {
  static const struct {
    const char *prefix;
    int (*built)(void);
    const char *why;
  } schemes[] = {
      {"coaps://", coap_dtls_is_supported, "coaps:// needs DTLS"},
      {"coap+tcp://", coap_tcp_is_supported, "coap+tcp:// needs TCP"},
      {"coaps+tcp://", coap_tls_is_supported, "coaps+tcp:// needs TLS"},
      {"coap+ws://", coap_ws_is_supported, "coap+ws:// needs WebSockets"},
      {"coaps+ws://", coap_wss_is_supported,
       "coaps+ws:// needs secure WebSockets"},
  };
  for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
    if (strncasecmp(uri, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
      return schemes[i].built() ? NULL : schemes[i].why;
  return NULL;
}

static int request(client_opts_t *o, coap_context_t *ctx, client_state_t *st) {
  coap_uri_t uri;
  coap_address_t dst;
  const char *missing = missing_transport(o->uri);
  if (missing) {
    fprintf(stderr, "coap-client: %s, which this build lacks\n", missing);
    return EXIT_USAGE;
  }
  if (coap_split_uri((const uint8_t *)o->uri, strlen(o->uri), &uri) < 0) {
    fprintf(stderr, "coap-client: cannot parse URI '%s'\n", o->uri);
    return EXIT_USAGE;
  }
  coap_proto_t proto = resolve(&uri, &dst);
  if (proto == COAP_PROTO_NONE) {
    fprintf(stderr, "coap-client: cannot resolve '%.*s' for this scheme\n",
            (int)uri.host.length, (const char *)uri.host.s);
    return EXIT_USAGE;
  }
  coap_session_t *session = tool_dtls_client(
      ctx, &dst, proto, (const coap_str_const_t *)&uri.host, &o->dtls);
  if (!session) {
    fprintf(stderr, "coap-client: cannot create a session\n");
    return EXIT_USAGE;
  }
  coap_pdu_t *pdu = build_request(session, o, &uri, &dst);
  if (!pdu) {
    fprintf(stderr, "coap-client: cannot build the request\n");
    return EXIT_USAGE;
  }
  st->token.s = o->token;
  st->token.length = o->token_len;
  if (coap_send(session, pdu) == COAP_INVALID_MID) {
    fprintf(stderr, "coap-client: cannot send the request\n");
    return EXIT_UNDELIVERED;
  }
  st->status = EXIT_TIMEOUT;
  if (o->observe_seconds) {
    st->observing = 1;
    run(ctx, st, o->observe_seconds);
    coap_binary_t token = {o->token_len, o->token};
    if (!st->done && coap_cancel_observe(session, &token, COAP_MESSAGE_CON)) {
      /* RFC 7641 3.6: deregister, waiting a little for the answer */
      st->cancelling = 1;
      run(ctx, st, 2);
    }
  } else {
    run(ctx, st, o->wait_seconds);
  }
  st->done = 1; /* freeing the context NACKs what is still pending: quiet */
  if (!st->got_response && st->status == EXIT_TIMEOUT)
    fprintf(stderr, "coap-client: no %sresponse within %u s%s\n",
            st->rejected ? "acceptable " : "",
            o->observe_seconds ? o->observe_seconds : o->wait_seconds,
            st->rejected ? " (malformed or bad-option responses rejected)"
                         : "");
  return st->status;
}

int main(int argc, char **argv) {
  client_opts_t o;
  int r = parse_args(argc, argv, &o);
  if (r <= 0) {
    free(o.payload);
    coap_delete_optlist(o.extra);
    return r < 0 ? EXIT_OK : EXIT_USAGE;
  }
  coap_startup();
  coap_set_log_level((coap_log_t)o.log_level);
  client_state_t st = {
      .out = stdout, .newline = o.newline, .status = EXIT_USAGE};
  if (o.output && !(st.out = fopen(o.output, "wb"))) {
    fprintf(stderr, "coap-client: cannot open '%s': %s\n", o.output,
            strerror(errno));
    st.out = NULL;
  }
  coap_context_t *ctx = st.out ? coap_new_context(NULL) : NULL;
  int status = EXIT_USAGE;
  if (ctx) {
    coap_set_app_data(ctx, &st);
    coap_register_response_handler(ctx, on_response);
    coap_register_nack_handler(ctx, on_nack);
    coap_register_event_handler(ctx, on_event);
    /* Block-wise both ways, whole bodies in the response handler (as
     * libcoap's coap-client, which always uses COAP_BLOCK_USE_LIBCOAP). */
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP |
                                         COAP_BLOCK_SINGLE_BODY);
    status = request(&o, ctx, &st);
    coap_free_context(ctx);
  } else if (st.out) {
    fprintf(stderr, "coap-client: cannot create a context\n");
  }
  if (st.out && st.out != stdout)
    fclose(st.out);
  free(o.payload);
  coap_delete_optlist(o.extra);
  coap_cleanup();
  return status;
}
