/*
 * pdu_print.c -- coap_show_pdu(): one readable line per PDU.
 *
 * The line follows libcoap's layout so that logs read the same:
 *
 *   v:1 t:CON c:GET i:7d34 {01} [ Uri-Path:temperature, Uri-Query:a=1 ]
 *   v:1 t:ACK c:2.05 i:7d34 {01} [ Content-Format:text/plain ] :: '22.5 C'
 *   v:1 t:ACK c:0.00 i:7d35 {} [ ]
 *
 *  - t: CON NON ACK RST; c: the method name, a signal name or "C.DD";
 *    i: the message id in 4 hex digits; {..}: the token in hex.
 *  - Options appear as " Name:value" separated by ","; an unknown option
 *    shows its number as the name; a signal's (7.xx) options have names of
 *    their own per code (RFC 8323 5). Values by kind:
 *      uint        decimal (an empty value is 0, as RFC 7252 3.2 says);
 *      Content-Format / Accept  the media type name, or its number;
 *      Block1/2, Q-Block1/2     NUM/M/SIZE, M being 'M' or '_', SIZE the
 *                  block size or "BERT" for SZX 7;
 *      string      the text, unprintable bytes as \xHH;
 *      opaque      0x and lowercase hex (ETag, If-Match, Echo, ...);
 *      unknown     every byte as \xHH.
 *    A uint or block value longer than the option allows is shown as opaque.
 *  - " :: " and the payload: '...' (unprintable bytes as \xHH) when the
 *    Content-Format is absent or textual (0, 40, 41, 50) and the first byte
 *    is printable; otherwise "binary data length N <<hex>>". libcoap prints
 *    binary payloads as three separate lines; Petrel keeps them on the one
 *    line so that a log handler sees the whole PDU in a single call.
 *
 * The line, newline included, is at most PT_SHOW_LINE_MAX - 1 characters:
 * a log handler gets it uncut. A longer PDU is cut at a whole element
 * (byte, escape or option name) and ends in TRUNC_MARK.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coap3/coap.h"
#include "debug.h"
#include "pdu.h"

#define PT_SHOW_LINE_MAX 2048
#define TRUNC_MARK " ...(truncated)"
/* Room kept back for TRUNC_MARK, the newline and the NUL. */
#define LINE_RESERVE (sizeof(TRUNC_MARK) + 1)

/* ---- a bounded line ----------------------------------------------------- */

typedef struct {
  char text[PT_SHOW_LINE_MAX];
  size_t len;
  int cut; /* something did not fit: everything after it is dropped too */
} line_t;

/* Appends @n bytes of @s whole, or nothing (and marks the line cut). */
static void put(line_t *l, const char *s, size_t n) {
  if (l->cut)
    return;
  if (n > sizeof(l->text) - LINE_RESERVE - l->len) {
    l->cut = 1;
    return;
  }
  memcpy(l->text + l->len, s, n);
  l->len += n;
}

static void put_str(line_t *l, const char *s) {
  put(l, s, strlen(s));
}

static void put_fmt(line_t *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put_fmt(line_t *l, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  put(l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void put_hex(line_t *l, const uint8_t *data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len && !l->cut; i++) {
    char pair[2] = {digits[data[i] >> 4], digits[data[i] & 0x0f]};
    put(l, pair, 2);
  }
}

static int printable(uint8_t c) {
  return c >= 0x20 && c < 0x7f;
}

/* Printable ASCII as is, other bytes (all bytes if @always) as \xHH. */
static void put_escaped(line_t *l, const uint8_t *data, size_t len,
                        int always) {
  static const char digits[] = "0123456789ABCDEF";
  for (size_t i = 0; i < len && !l->cut; i++) {
    if (!always && printable(data[i])) {
      put(l, (const char *)&data[i], 1);
    } else {
      char esc[4] = {'\\', 'x', digits[data[i] >> 4], digits[data[i] & 0x0f]};
      put(l, esc, 4);
    }
  }
}

/* ---- names -------------------------------------------------------------- */

static const char *type_name(coap_pdu_type_t type) {
  static const char *const names[] = {"CON", "NON", "ACK", "RST"};
  unsigned t = (unsigned)type;
  return t < sizeof(names) / sizeof(names[0]) ? names[t] : "???";
}

static void put_code(line_t *l, coap_pdu_code_t code) {
  static const char *const methods[] = {"0.00",   "GET",   "POST",  "PUT",
                                        "DELETE", "FETCH", "PATCH", "iPATCH"};
  static const char *const signals[] = {"7.00", "CSM",     "Ping",
                                        "Pong", "Release", "Abort"};
  unsigned c = (unsigned)code & 0xff;
  if (c < sizeof(methods) / sizeof(methods[0]))
    put_str(l, methods[c]);
  else if (c >= 224 && c - 224 < sizeof(signals) / sizeof(signals[0]))
    put_str(l, signals[c - 224]);
  else
    put_fmt(l, "%u.%02u", c >> 5, c & 0x1f);
}

typedef enum {
  KIND_UNKNOWN, /* every byte escaped */
  KIND_UINT,
  KIND_FORMAT, /* uint naming a media type */
  KIND_BLOCK,
  KIND_STRING,
  KIND_OPAQUE,
} opt_kind;

typedef struct {
  coap_option_num_t number;
  const char *name;
  opt_kind kind;
} opt_desc;

/* Sorted by number; a linear walk over 26 entries per option is cheap next
 * to the formatting itself. */
static const opt_desc known_options[] = {
    {COAP_OPTION_IF_MATCH, "If-Match", KIND_OPAQUE},
    {COAP_OPTION_URI_HOST, "Uri-Host", KIND_STRING},
    {COAP_OPTION_ETAG, "ETag", KIND_OPAQUE},
    {COAP_OPTION_IF_NONE_MATCH, "If-None-Match", KIND_UNKNOWN},
    {COAP_OPTION_OBSERVE, "Observe", KIND_UINT},
    {COAP_OPTION_URI_PORT, "Uri-Port", KIND_UINT},
    {COAP_OPTION_LOCATION_PATH, "Location-Path", KIND_STRING},
    {COAP_OPTION_OSCORE, "Oscore", KIND_OPAQUE},
    {COAP_OPTION_URI_PATH, "Uri-Path", KIND_STRING},
    {COAP_OPTION_CONTENT_FORMAT, "Content-Format", KIND_FORMAT},
    {COAP_OPTION_MAXAGE, "Max-Age", KIND_UINT},
    {COAP_OPTION_URI_QUERY, "Uri-Query", KIND_STRING},
    {COAP_OPTION_HOP_LIMIT, "Hop-Limit", KIND_UINT},
    {COAP_OPTION_ACCEPT, "Accept", KIND_FORMAT},
    {COAP_OPTION_Q_BLOCK1, "Q-Block1", KIND_BLOCK},
    {COAP_OPTION_LOCATION_QUERY, "Location-Query", KIND_STRING},
    {COAP_OPTION_BLOCK2, "Block2", KIND_BLOCK},
    {COAP_OPTION_BLOCK1, "Block1", KIND_BLOCK},
    {COAP_OPTION_SIZE2, "Size2", KIND_UINT},
    {COAP_OPTION_Q_BLOCK2, "Q-Block2", KIND_BLOCK},
    {COAP_OPTION_PROXY_URI, "Proxy-Uri", KIND_STRING},
    {COAP_OPTION_PROXY_SCHEME, "Proxy-Scheme", KIND_STRING},
    {COAP_OPTION_SIZE1, "Size1", KIND_UINT},
    {COAP_OPTION_ECHO, "Echo", KIND_OPAQUE},
    {COAP_OPTION_NORESPONSE, "No-Response", KIND_UINT},
    {COAP_OPTION_RTAG, "Request-Tag", KIND_OPAQUE},
};

static const opt_desc *find_option(coap_option_num_t number) {
  for (size_t i = 0; i < sizeof(known_options) / sizeof(known_options[0]); i++)
    if (known_options[i].number == number)
      return &known_options[i];
  return NULL;
}

/* RFC 8323 5: a signal's options are numbered per code. */
static const opt_desc *find_signal_option(coap_pdu_code_t code,
                                          coap_option_num_t number) {
  static const opt_desc csm[] = {{2, "Max-Message-Size", KIND_UINT},
                                 {4, "Block-Wise-Transfer", KIND_UNKNOWN},
                                 {6, "Extended-Token-Length", KIND_UINT}};
  static const opt_desc ping[] = {{2, "Custody", KIND_UNKNOWN}};
  static const opt_desc release[] = {{2, "Alternative-Address", KIND_STRING},
                                     {4, "Hold-Off", KIND_UINT}};
  static const opt_desc abort_[] = {{2, "Bad-CSM-Option", KIND_UINT}};
  const opt_desc *t = NULL;
  size_t n = 0;
  switch (code) {
  case COAP_SIGNALING_CODE_CSM:
    t = csm, n = 3;
    break;
  case COAP_SIGNALING_CODE_PING:
  case COAP_SIGNALING_CODE_PONG:
    t = ping, n = 1;
    break;
  case COAP_SIGNALING_CODE_RELEASE:
    t = release, n = 2;
    break;
  case COAP_SIGNALING_CODE_ABORT:
    t = abort_, n = 1;
    break;
  default:
    break;
  }
  for (size_t i = 0; i < n; i++)
    if (t[i].number == number)
      return &t[i];
  return NULL;
}

static const char *media_type_name(unsigned format) {
  static const struct {
    unsigned format;
    const char *name;
  } types[] = {
      {COAP_MEDIATYPE_TEXT_PLAIN, "text/plain"},
      {COAP_MEDIATYPE_APPLICATION_LINK_FORMAT, "application/link-format"},
      {COAP_MEDIATYPE_APPLICATION_XML, "application/xml"},
      {COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, "application/octet-stream"},
      {COAP_MEDIATYPE_APPLICATION_RDF_XML, "application/rdf+xml"},
      {COAP_MEDIATYPE_APPLICATION_EXI, "application/exi"},
      {COAP_MEDIATYPE_APPLICATION_JSON, "application/json"},
      {COAP_MEDIATYPE_APPLICATION_CBOR, "application/cbor"},
      {COAP_MEDIATYPE_APPLICATION_CWT, "application/cwt"},
      {COAP_MEDIATYPE_APPLICATION_COAP_GROUP_JSON,
       "application/coap-group+json"},
      {COAP_MEDIATYPE_APPLICATION_COSE_KEY, "application/cose-key"},
      {COAP_MEDIATYPE_APPLICATION_COSE_KEY_SET, "application/cose-key-set"},
      {COAP_MEDIATYPE_APPLICATION_SENML_JSON, "application/senml+json"},
      {COAP_MEDIATYPE_APPLICATION_SENSML_JSON, "application/sensml+json"},
      {COAP_MEDIATYPE_APPLICATION_SENML_CBOR, "application/senml+cbor"},
      {COAP_MEDIATYPE_APPLICATION_SENSML_CBOR, "application/sensml+cbor"},
      {COAP_MEDIATYPE_APPLICATION_SENML_EXI, "application/senml-exi"},
      {COAP_MEDIATYPE_APPLICATION_SENSML_EXI, "application/sensml-exi"},
      {COAP_MEDIATYPE_APPLICATION_SENML_XML, "application/senml+xml"},
      {COAP_MEDIATYPE_APPLICATION_SENSML_XML, "application/sensml+xml"},
      {COAP_MEDIATYPE_APPLICATION_DOTS_CBOR, "application/dots+cbor"},
      {COAP_MEDIATYPE_APPLICATION_ACE_CBOR, "application/ace+cbor"},
      {COAP_MEDIATYPE_APPLICATION_MB_CBOR_SEQ,
       "application/missing-blocks+cbor-seq"},
      {COAP_MEDIATYPE_APPLICATION_OSCORE, "application/oscore"},
  };
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
    if (types[i].format == format)
      return types[i].name;
  return NULL;
}

/* ---- option values ------------------------------------------------------ */

static void put_opaque(line_t *l, const uint8_t *v, size_t len) {
  put(l, "0x", 2);
  put_hex(l, v, len);
}

/* RFC 7959 2.2: NUM is the value >> 4, M is bit 3, SZX the low 3 bits. */
static void put_block(line_t *l, const uint8_t *v, size_t len) {
  unsigned value = coap_decode_var_bytes(v, len);
  unsigned szx = value & 0x07;
  char more = (value & 0x08) ? 'M' : '_';
  if (szx == 7)
    put_fmt(l, "%u/%c/BERT", value >> 4, more);
  else
    put_fmt(l, "%u/%c/%u", value >> 4, more, 1u << (szx + 4));
}

/* Decimal, or the media type name for @as_format. False if too long. */
static int put_uint(line_t *l, const uint8_t *v, size_t len, int as_format) {
  if (len > 4)
    return 0;
  unsigned value = coap_decode_var_bytes(v, len);
  const char *name = as_format ? media_type_name(value) : NULL;
  if (name)
    put_str(l, name);
  else
    put_fmt(l, "%u", value);
  return 1;
}

static void put_option_value(line_t *l, opt_kind kind, const uint8_t *v,
                             size_t len) {
  int done = 1;
  switch (kind) {
  case KIND_UINT:
  case KIND_FORMAT:
    done = put_uint(l, v, len, kind == KIND_FORMAT);
    break;
  case KIND_BLOCK:
    done = len <= 3;
    if (done)
      put_block(l, v, len);
    break;
  case KIND_STRING:
    put_escaped(l, v, len, 0);
    break;
  case KIND_OPAQUE:
    done = 0;
    break;
  case KIND_UNKNOWN:
    put_escaped(l, v, len, 1);
    break;
  }
  if (!done) /* opaque, or a number too long to be valid */
    put_opaque(l, v, len);
}

/* Writes " [ Name:value, ... ]"; returns the Content-Format, or -1. */
static long put_options(line_t *l, const coap_pdu_t *pdu) {
  coap_opt_iterator_t it;
  coap_opt_t *opt;
  long content_format = -1;
  int first = 1;
  int signal = (pdu->code >> 5) == 7;
  put(l, " [", 2);
  coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
  while ((opt = coap_option_next(&it)) != NULL && !l->cut) {
    size_t len = coap_opt_length(opt);
    const uint8_t *v = coap_opt_value(opt);
    const opt_desc *d = signal ? find_signal_option(pdu->code, it.number)
                               : find_option(it.number);
    if (!first)
      put(l, ",", 1);
    first = 0;
    put(l, " ", 1);
    if (d)
      put_str(l, d->name);
    else
      put_fmt(l, "%u", (unsigned)it.number);
    put(l, ":", 1);
    put_option_value(l, d ? d->kind : KIND_UNKNOWN, v, len);
    if (!signal && it.number == COAP_OPTION_CONTENT_FORMAT && len <= 4)
      content_format = (long)coap_decode_var_bytes(v, len);
  }
  put(l, " ]", 2);
  return content_format;
}

/* ---- payload ------------------------------------------------------------ */

static int textual_format(long format) {
  return format == -1 || format == COAP_MEDIATYPE_TEXT_PLAIN ||
         format == COAP_MEDIATYPE_APPLICATION_LINK_FORMAT ||
         format == COAP_MEDIATYPE_APPLICATION_XML ||
         format == COAP_MEDIATYPE_APPLICATION_JSON;
}

static void put_payload(line_t *l, const coap_pdu_t *pdu, long content_format) {
  size_t len;
  const uint8_t *data;
  if (!coap_get_data(pdu, &len, &data) || len == 0)
    return;
  put(l, " :: ", 4);
  if (textual_format(content_format) && printable(data[0])) {
    put(l, "'", 1);
    put_escaped(l, data, len, 0);
    put(l, "'", 1);
  } else {
    put_fmt(l, "binary data length %zu <<", len);
    put_hex(l, data, len);
    put(l, ">>", 2);
  }
}

/* ---- the entry point ---------------------------------------------------- */

static void format_pdu(line_t *l, const coap_pdu_t *pdu) {
  coap_bin_const_t token = coap_pdu_get_token(pdu);
  put_fmt(l, "v:1 t:%s c:", type_name(coap_pdu_get_type(pdu)));
  put_code(l, coap_pdu_get_code(pdu));
  put_fmt(l, " i:%04x {", (unsigned)coap_pdu_get_mid(pdu) & 0xffffu);
  put_hex(l, token.s, token.length);
  put(l, "}", 1);
  long content_format = put_options(l, pdu);
  put_payload(l, pdu, content_format);
  /* The reserve always leaves room for the mark, newline and NUL. */
  if (l->cut) {
    memcpy(l->text + l->len, TRUNC_MARK, sizeof(TRUNC_MARK) - 1);
    l->len += sizeof(TRUNC_MARK) - 1;
  }
  l->text[l->len++] = '\n';
  l->text[l->len] = '\0';
}

void coap_show_pdu(coap_log_t level, const coap_pdu_t *pdu) {
  if ((int)level > (int)coap_get_log_level() || !pdu)
    return;
  line_t line;
  line.len = 0;
  line.cut = 0;
  format_pdu(&line, pdu);
  if (pt_show_pdu_use_fprintf()) {
    FILE *out = COAP_DEBUG_FD;
    flockfile(out);
    fputs(line.text, out);
    fflush(out);
    funlockfile(out);
  } else {
    coap_log_impl(level, "%s", line.text);
  }
}

/* ---- datagrams at the socket ----------------------------------------------
 */

void pt_show_datagram(const coap_session_t *s, const char *what,
                      const uint8_t *data, size_t len) {
  if (coap_get_log_level() < COAP_LOG_DEBUG)
    return;
  coap_log_debug("* %s: %s %zu bytes\n", coap_session_str(s), what, len);
  /* Parsed again only for the log: this runs at debug level alone. */
  coap_pdu_t *pdu = coap_pdu_init(0, 0, 0, len);
  coap_proto_t proto = coap_session_get_proto(s);
  int ok = COAP_PROTO_RELIABLE(proto)
               ? pdu && coap_pdu_parse(proto, data, len, pdu)
               : pdu && pt_pdu_parse_udp(pdu, data, len) == 0;
  if (ok)
    coap_show_pdu(COAP_LOG_DEBUG, pdu);
  coap_delete_pdu(pdu);
}
