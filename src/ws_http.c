/*
 * ws_http.c -- the WebSocket opening handshake for CoAP (RFC 6455 section
 * 4, RFC 8323 section 4.1), see ws.h.
 *
 *   GET /.well-known/coap HTTP/1.1
 *   Host: example.org
 *   Upgrade: websocket
 *   Connection: Upgrade
 *   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
 *   Sec-WebSocket-Protocol: coap
 *   Sec-WebSocket-Version: 13
 *
 *   HTTP/1.1 101 Switching Protocols
 *   Upgrade: websocket
 *   Connection: Upgrade
 *   Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
 *   Sec-WebSocket-Protocol: coap
 *
 * The accept value is base64(SHA-1(key + the GUID below)); SHA-1 and
 * base64 come from OpenSSL's libcrypto. Heads are parsed in place with
 * bounds on every read and a cap on their length, so a client that
 * trickles an endless head is refused (431) rather than buffered.
 */
#include "ws.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_PATH "/.well-known/coap"

/* ---- digest and encoding ---- */

int pt_ws_accept_value(const char *key, size_t key_len, char *out) {
  uint8_t in[64 + sizeof(WS_GUID)];
  if (key_len > 64)
    return 0;
  memcpy(in, key, key_len);
  memcpy(in + key_len, WS_GUID, sizeof(WS_GUID) - 1);
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  if (!EVP_Digest(in, key_len + sizeof(WS_GUID) - 1, md, &md_len, EVP_sha1(),
                  NULL) ||
      md_len != 20)
    return 0;
  EVP_EncodeBlock((unsigned char *)out, md, 20); /* 28 chars and a NUL */
  return 1;
}

void pt_ws_make_key(const uint8_t nonce[16], char *key) {
  EVP_EncodeBlock((unsigned char *)key, nonce, 16);
}

/* A key is valid when it is base64 of exactly 16 bytes (RFC 6455 4.1). */
static int key_valid(const char *v, size_t len) {
  uint8_t raw[24];
  if (len != PT_WS_KEY_LEN || v[22] != '=' || v[23] != '=')
    return 0;
  return EVP_DecodeBlock(raw, (const unsigned char *)v, PT_WS_KEY_LEN) == 18;
}

/* ---- heads ---- */

typedef struct span {
  const char *s;
  size_t len;
} span;

/* The length of the head (through the blank line) in the first @len bytes
 * at @p, 0 if it is not complete yet, or PT_WS_HTTP_TOO_LONG. */
static int head_length(const uint8_t *p, size_t len) {
  size_t n = len < PT_WS_HANDSHAKE_MAX ? len : PT_WS_HANDSHAKE_MAX;
  for (size_t i = 3; i < n; i++)
    if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' &&
        p[i - 3] == '\r')
      return (int)(i + 1);
  return len >= PT_WS_HANDSHAKE_MAX ? PT_WS_HTTP_TOO_LONG : 0;
}

/* The next line of @rest (consumed, CRLF dropped). 0 when none is left. */
static int next_line(span *rest, span *line) {
  for (size_t i = 0; i + 1 < rest->len; i++) {
    if (rest->s[i] == '\r' && rest->s[i + 1] == '\n') {
      line->s = rest->s;
      line->len = i;
      rest->s += i + 2;
      rest->len -= i + 2;
      return 1;
    }
  }
  return 0;
}

static span trim(span v) {
  while (v.len && (v.s[0] == ' ' || v.s[0] == '\t'))
    v.s++, v.len--;
  while (v.len && (v.s[v.len - 1] == ' ' || v.s[v.len - 1] == '\t'))
    v.len--;
  return v;
}

static int span_is(span v, const char *lit, int nocase) {
  size_t n = strlen(lit);
  return v.len == n &&
         (nocase ? strncasecmp(v.s, lit, n) : strncmp(v.s, lit, n)) == 0;
}

/* 1 if the comma-separated list @v holds the token @tok. */
static int list_has(span v, const char *tok, int nocase) {
  while (v.len) {
    size_t i = 0;
    while (i < v.len && v.s[i] != ',')
      i++;
    if (span_is(trim((span){v.s, i}), tok, nocase))
      return 1;
    v.s += i < v.len ? i + 1 : i;
    v.len -= i < v.len ? i + 1 : i;
  }
  return 0;
}

/* What the upgrade headers of a head said. */
typedef struct ws_head {
  int upgrade, connection, coap, version13, host;
  span key, accept;
} ws_head;

/* Reads the header lines after the start line. Returns 0 or
 * PT_WS_HTTP_MALFORMED. */
static int read_headers(span rest, ws_head *h) {
  span line;
  memset(h, 0, sizeof(*h));
  while (next_line(&rest, &line) && line.len) {
    const char *colon = memchr(line.s, ':', line.len);
    if (!colon || colon == line.s)
      return PT_WS_HTTP_MALFORMED;
    span name = {line.s, (size_t)(colon - line.s)};
    span v = trim((span){colon + 1, line.len - name.len - 1});
    if (span_is(name, "Upgrade", 1))
      h->upgrade |= list_has(v, "websocket", 1);
    else if (span_is(name, "Connection", 1))
      h->connection |= list_has(v, "Upgrade", 1);
    else if (span_is(name, "Sec-WebSocket-Protocol", 1))
      h->coap |= list_has(v, "coap", 0);
    else if (span_is(name, "Sec-WebSocket-Version", 1))
      h->version13 = span_is(v, "13", 0);
    else if (span_is(name, "Sec-WebSocket-Key", 1))
      h->key = v;
    else if (span_is(name, "Sec-WebSocket-Accept", 1))
      h->accept = v;
    else if (span_is(name, "Host", 1))
      h->host = v.len > 0;
  }
  return 0;
}

/* ---- client ---- */

size_t pt_ws_client_request(char *out, size_t cap, const char *host,
                            const char *key) {
  int n = snprintf(out, cap,
                   "GET " WS_PATH " HTTP/1.1\r\n"
                   "Host: %s\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Protocol: coap\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   host, key);
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int pt_ws_client_response(const uint8_t *data, size_t len, const char *key) {
  int head = head_length(data, len);
  if (head <= 0)
    return head;
  span rest = {(const char *)data, (size_t)head}, line;
  ws_head h;
  if (!next_line(&rest, &line))
    return PT_WS_HTTP_MALFORMED;
  /* "HTTP/1.1 101 ..." */
  if (line.len < 12 || strncmp(line.s, "HTTP/1.", 7) != 0 || line.s[8] != ' ')
    return PT_WS_HTTP_MALFORMED;
  if (strncmp(line.s + 9, "101", 3) != 0)
    return PT_WS_HTTP_STATUS;
  if (read_headers(rest, &h) < 0)
    return PT_WS_HTTP_MALFORMED;
  if (!h.upgrade || !h.connection)
    return PT_WS_HTTP_NO_UPGRADE;
  if (!h.coap)
    return PT_WS_HTTP_NO_COAP;
  char want[PT_WS_ACCEPT_LEN + 1];
  if (!pt_ws_accept_value(key, strlen(key), want))
    return PT_WS_HTTP_CRYPTO;
  if (!span_is(h.accept, want, 0))
    return PT_WS_HTTP_BAD_ACCEPT;
  return head;
}

/* ---- server ---- */

/* Checks the request line "GET <path> HTTP/1.1". */
static int request_line(span line) {
  if (line.len < 4 || strncmp(line.s, "GET ", 4) != 0)
    return line.len && memchr(line.s, ' ', line.len) ? PT_WS_HTTP_NOT_GET
                                                     : PT_WS_HTTP_MALFORMED;
  span rest = {line.s + 4, line.len - 4};
  const char *sp = memchr(rest.s, ' ', rest.len);
  if (!sp)
    return PT_WS_HTTP_MALFORMED;
  span path = {rest.s, (size_t)(sp - rest.s)};
  span version = {sp + 1, rest.len - path.len - 1};
  if (!span_is(version, "HTTP/1.1", 0))
    return PT_WS_HTTP_MALFORMED;
  return span_is(path, WS_PATH, 0) ? 0 : PT_WS_HTTP_NOT_FOUND;
}

static int check_request(const uint8_t *data, int head, ws_head *h) {
  span rest = {(const char *)data, (size_t)head}, line;
  if (!next_line(&rest, &line))
    return PT_WS_HTTP_MALFORMED;
  int rc = request_line(line);
  if (rc < 0)
    return rc;
  if (read_headers(rest, h) < 0)
    return PT_WS_HTTP_MALFORMED;
  if (!h->host)
    return PT_WS_HTTP_NO_HOST;
  if (!h->upgrade || !h->connection)
    return PT_WS_HTTP_NO_UPGRADE;
  if (!h->version13)
    return PT_WS_HTTP_VERSION;
  if (!key_valid(h->key.s, h->key.len))
    return PT_WS_HTTP_BAD_KEY;
  if (!h->coap)
    return PT_WS_HTTP_NO_COAP;
  return 0;
}

static const char *error_response(int err) {
  switch (err) {
  case PT_WS_HTTP_TOO_LONG:
    return "HTTP/1.1 431 Request Header Fields Too Large\r\n"
           "Connection: close\r\n\r\n";
  case PT_WS_HTTP_NOT_FOUND:
    return "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n";
  case PT_WS_HTTP_NOT_GET:
    return "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"
           "Connection: close\r\n\r\n";
  case PT_WS_HTTP_VERSION: /* RFC 6455 4.4 */
    return "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
           "Connection: close\r\n\r\n";
  default:
    return "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
  }
}

int pt_ws_server_request(const uint8_t *data, size_t len, char *resp,
                         size_t cap, size_t *resp_len) {
  *resp_len = 0;
  int head = head_length(data, len);
  if (head == 0)
    return 0;
  ws_head h;
  int rc = head < 0 ? head : check_request(data, head, &h);
  char accept[PT_WS_ACCEPT_LEN + 1];
  if (rc == 0 && !pt_ws_accept_value(h.key.s, h.key.len, accept))
    rc = PT_WS_HTTP_CRYPTO;
  int n = rc < 0 ? snprintf(resp, cap, "%s", error_response(rc))
                 : snprintf(resp, cap,
                            "HTTP/1.1 101 Switching Protocols\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: %s\r\n"
                            "Sec-WebSocket-Protocol: coap\r\n\r\n",
                            accept);
  if (n > 0 && (size_t)n < cap)
    *resp_len = (size_t)n;
  return rc < 0 ? rc : head;
}
