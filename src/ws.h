/*
 * ws.h -- WebSocket (RFC 6455) framing and the HTTP/1.1 upgrade, for CoAP
 * over WebSockets (RFC 8323 section 4) (internal, sans-I/O).
 *
 * The decoder turns a byte stream cut anywhere into events: a whole binary
 * message (fragments joined, unmasked: one CoAP message each, RFC 8323
 * 4.4), a Ping, a Pong, the peer's Close, or a violation of RFC 6455 with
 * the status code to close with. It holds at most one message of at most
 * max_message bytes, refusing a bigger one from its frame header (1009).
 * The encoder writes frame headers and masks payloads; the caller supplies
 * the masking keys (a client masks every frame with a fresh random key).
 *
 * The handshake functions (ws_http.c) build and check the opening HTTP
 * exchange: GET /.well-known/coap with Upgrade: websocket, Sec-WebSocket-
 * Protocol: coap and Sec-WebSocket-Version: 13, answered with 101 and
 * Sec-WebSocket-Accept (SHA-1 and base64 of the key, RFC 6455 4.2.2).
 */
#ifndef PT_WS_H
#define PT_WS_H

#include <stddef.h>
#include <stdint.h>

/* RFC 6455 5.2 opcodes. */
enum {
  PT_WS_OP_CONT = 0x0,
  PT_WS_OP_TEXT = 0x1,
  PT_WS_OP_BINARY = 0x2,
  PT_WS_OP_CLOSE = 0x8,
  PT_WS_OP_PING = 0x9,
  PT_WS_OP_PONG = 0xA,
};

/* RFC 6455 7.4.1 status codes. */
enum {
  PT_WS_CLOSE_NORMAL = 1000,
  PT_WS_CLOSE_GOING_AWAY = 1001,
  PT_WS_CLOSE_PROTOCOL = 1002,     /* a frame breaks RFC 6455 */
  PT_WS_CLOSE_UNSUPPORTED = 1003,  /* a text message: CoAP is binary */
  PT_WS_CLOSE_NO_STATUS = 1005,    /* reported for an empty Close; never sent */
  PT_WS_CLOSE_INVALID_DATA = 1007, /* a Close reason that is not UTF-8 */
  PT_WS_CLOSE_POLICY = 1008,
  PT_WS_CLOSE_TOO_BIG = 1009, /* a message bigger than max_message */
};

/* The longest frame header: 2 bytes, 8 of length, 4 of masking key. */
#define PT_WS_HDR_MAX 14
/* The longest control frame payload (RFC 6455 5.5). */
#define PT_WS_CONTROL_MAX 125

typedef enum pt_ws_event_kind {
  PT_WS_EV_MESSAGE, /* data/len: one whole binary message */
  PT_WS_EV_PING,    /* data/len: its application data (answer with Pong) */
  PT_WS_EV_PONG,    /* data/len: its application data */
  PT_WS_EV_CLOSE,   /* status (1005 if none), data/len: the reason */
  PT_WS_EV_ERROR,   /* status: the code to close with; the stream is done */
} pt_ws_event_kind;

typedef struct pt_ws_event {
  pt_ws_event_kind kind;
  uint16_t status;
  const uint8_t *data; /* into the decoder: valid until its next call */
  size_t len;
} pt_ws_event;

typedef struct pt_ws_decoder {
  uint8_t server;     /* frames from the peer must be masked (1) or not */
  uint8_t done;       /* after a Close or an error: nothing more is read */
  uint8_t open;       /* a fragmented data message has begun */
  size_t max_message; /* largest data message, fragments joined */
  /* the frame header being read */
  uint8_t hdr[PT_WS_HDR_MAX];
  size_t hdr_fill;
  /* the frame being read, once its header is complete */
  uint8_t in_frame, opcode, fin, masked;
  uint8_t mask[4];
  uint64_t remaining; /* payload bytes still to come */
  uint64_t pos;       /* payload bytes read (for the masking key index) */
  /* the data message being assembled (owned) and a control payload */
  uint8_t *msg;
  size_t msg_len, msg_cap;
  uint8_t ctl[PT_WS_CONTROL_MAX];
  size_t ctl_len;
  /* the caller's buffer for whole frames (borrowed; pt_ws_decoder_scratch) */
  uint8_t *scratch;
  size_t scratch_cap;
  uint8_t in_scratch; /* the message being read is going into scratch */
} pt_ws_decoder;

/* Readies @d (caller's storage): @server is 1 on the server side (the
 * client's frames must be masked, RFC 6455 5.1), 0 on the client side.
 * Allocates nothing. */
void pt_ws_decoder_init(pt_ws_decoder *d, int server, size_t max_message);

/* Frees what @d holds. */
void pt_ws_decoder_free(pt_ws_decoder *d);

/* Lends @d the @cap bytes at @buf (borrowed; NULL lends nothing): a data
 * message in one frame whose whole payload is in the piece given to
 * pt_ws_next(), and at most @cap bytes, is unmasked there and its event
 * points there, so a connection whose messages arrive whole keeps no
 * buffer of its own between them. Others go into the decoder's own
 * buffer as before. @buf must stay valid while such an event is used and
 * until pt_ws_decoder_scratch(@d, NULL, 0). */
void pt_ws_decoder_scratch(pt_ws_decoder *d, uint8_t *buf, size_t cap);

/*
 * Takes bytes from *@in / *@in_len (borrowed; both advanced past what was
 * consumed) until an event is complete. Returns 1 with *@ev filled, or 0
 * when the bytes are used up (a partial frame is kept). After an
 * PT_WS_EV_CLOSE or PT_WS_EV_ERROR event it returns 0 and consumes
 * nothing: the connection is closing.
 */
int pt_ws_next(pt_ws_decoder *d, const uint8_t **in, size_t *in_len,
               pt_ws_event *ev);

/* Writes into @out (PT_WS_HDR_MAX bytes) the header of a final frame with
 * @opcode and a @len-byte payload, masked with @mask when it is not NULL
 * (the payload must then be masked with pt_ws_mask()). Returns its size. */
size_t pt_ws_frame_header(uint8_t *out, unsigned opcode, uint64_t len,
                          const uint8_t mask[4]);

/* XORs the @len bytes at @data with @mask, @data starting @pos bytes into
 * the frame's payload. Masking twice unmasks. */
void pt_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t pos);

/* Writes a Close payload (status, then @reason, cut to fit 125 bytes) into
 * @out (PT_WS_CONTROL_MAX bytes). Returns its size. */
size_t pt_ws_close_payload(uint8_t *out, uint16_t status, const char *reason);

/* 1 if the @len bytes at @s are well-formed UTF-8 (RFC 3629). */
int pt_ws_utf8_valid(const uint8_t *s, size_t len);

/* ---- the opening handshake (ws_http.c) ---- */

/* Longest opening request or response head accepted (bytes). */
#define PT_WS_HANDSHAKE_MAX 4096
/* A key is 16 random bytes in base64: 24 characters. */
#define PT_WS_KEY_LEN 24
/* The accept value is a SHA-1 digest in base64: 28 characters. */
#define PT_WS_ACCEPT_LEN 28

/* Handshake errors: all negative. */
typedef enum pt_ws_http_err {
  PT_WS_HTTP_TOO_LONG = -1,    /* no end of head within the limit */
  PT_WS_HTTP_MALFORMED = -2,   /* not an HTTP/1.1 message head */
  PT_WS_HTTP_NOT_GET = -3,     /* request method is not GET */
  PT_WS_HTTP_NOT_FOUND = -4,   /* path is not /.well-known/coap */
  PT_WS_HTTP_NO_UPGRADE = -5,  /* Upgrade/Connection headers missing */
  PT_WS_HTTP_BAD_KEY = -6,     /* Sec-WebSocket-Key missing or malformed */
  PT_WS_HTTP_VERSION = -7,     /* Sec-WebSocket-Version is not 13 */
  PT_WS_HTTP_NO_COAP = -8,     /* "coap" not among the subprotocols */
  PT_WS_HTTP_STATUS = -9,      /* response status is not 101 */
  PT_WS_HTTP_BAD_ACCEPT = -10, /* Sec-WebSocket-Accept missing or wrong */
  PT_WS_HTTP_NO_HOST = -11,    /* request without Host */
  PT_WS_HTTP_CRYPTO = -12,     /* the digest could not be computed */
} pt_ws_http_err;

/* The Sec-WebSocket-Accept value for the @key_len-byte key at @key into
 * @out (PT_WS_ACCEPT_LEN + 1 bytes, NUL-terminated). Returns 1, or 0 if
 * the digest failed. */
int pt_ws_accept_value(const char *key, size_t key_len, char *out);

/* Base64 of the 16 bytes at @nonce into @key (PT_WS_KEY_LEN + 1 bytes,
 * NUL-terminated): a client's Sec-WebSocket-Key. */
void pt_ws_make_key(const uint8_t nonce[16], char *key);

/* Writes the client's upgrade request for @host (the Host header value,
 * NUL-terminated, borrowed) with @key into @out. Returns its length, or 0
 * if it does not fit @cap bytes. */
size_t pt_ws_client_request(char *out, size_t cap, const char *host,
                            const char *key);

/* Examines the @len bytes the server has sent so far (borrowed). Returns
 * the length of its response head when it accepts the upgrade for @key
 * (what follows is WebSocket frames), 0 when more bytes are needed, or a
 * negative pt_ws_http_err. */
int pt_ws_client_response(const uint8_t *data, size_t len, const char *key);

/*
 * Examines the @len bytes a client has sent so far (borrowed). Returns the
 * length of its request head, having written the 101 response into @resp
 * (@cap bytes; *@resp_len its length), when it is a valid CoAP upgrade; 0
 * when more bytes are needed; or a negative pt_ws_http_err, having written
 * the HTTP error response to send before closing (400, 404, 426 or 431).
 */
int pt_ws_server_request(const uint8_t *data, size_t len, char *resp,
                         size_t cap, size_t *resp_len);

#endif /* PT_WS_H */
