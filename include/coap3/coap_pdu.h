/*
 * coap_pdu.h -- CoAP messages (PDUs): codes, option numbers, media types,
 * and the functions that build and read a PDU.
 *
 * A PDU is built left to right as on the wire (RFC 7252 section 3): the
 * token first, then options, then the payload. coap_add_option() also takes
 * options out of number order and puts them in place.
 */
#ifndef COAP_PDU_H_
#define COAP_PDU_H_

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_option.h"
#include "coap3/coap_str.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COAP_DEFAULT_PORT 5683  /* coap:// over UDP and TCP */
#define COAPS_DEFAULT_PORT 5684 /* coaps:// over DTLS and TLS */
#define COAP_DEFAULT_MAX_AGE 60 /* seconds, when Max-Age is absent */
#ifndef COAP_DEFAULT_MTU
#define COAP_DEFAULT_MTU 1152 /* RFC 7252 4.6: whole message size bound */
#endif
#define COAP_BERT_BASE 1152
#ifndef COAP_DEFAULT_HOP_LIMIT
#define COAP_DEFAULT_HOP_LIMIT 16 /* RFC 8768 */
#endif
#define COAP_DEFAULT_SCHEME "coap"
#define COAP_DEFAULT_URI_WELLKNOWN ".well-known/core"

/* Token lengths: 8 bytes in RFC 7252; RFC 8974 extends them. */
#define COAP_TOKEN_DEFAULT_MAX 8
#define COAP_TOKEN_EXT_MAX 65804UL /* 13 + 256 + 65535 */

/** Starts the payload after the options (RFC 7252 section 3). */
#define COAP_PAYLOAD_START 0xFF

/** Message types (RFC 7252 section 3, field T). */
typedef enum coap_pdu_type_t {
  COAP_MESSAGE_CON, /* 0 confirmable */
  COAP_MESSAGE_NON, /* 1 non-confirmable */
  COAP_MESSAGE_ACK, /* 2 acknowledgement */
  COAP_MESSAGE_RST  /* 3 reset */
} coap_pdu_type_t;

/** Request methods (RFC 7252 section 12.1.1, RFC 8132). */
typedef enum coap_request_t {
  COAP_REQUEST_GET = 1,
  COAP_REQUEST_POST,   /* 2 */
  COAP_REQUEST_PUT,    /* 3 */
  COAP_REQUEST_DELETE, /* 4 */
  COAP_REQUEST_FETCH,  /* 5, RFC 8132 */
  COAP_REQUEST_PATCH,  /* 6, RFC 8132 */
  COAP_REQUEST_IPATCH, /* 7, RFC 8132 */
} coap_request_t;

/*
 * Option numbers (IANA CoAP Option Numbers registry). The low bits carry
 * the properties of RFC 7252 section 5.4.6: bit 0 critical, bit 1 unsafe,
 * bits 2-4 all set for NoCacheKey.
 */
#define COAP_OPTION_IF_MATCH 1        /* opaque 0-8, repeatable, RFC 7252 */
#define COAP_OPTION_URI_HOST 3        /* string 1-255, RFC 7252 */
#define COAP_OPTION_ETAG 4            /* opaque 1-8, repeatable, RFC 7252 */
#define COAP_OPTION_IF_NONE_MATCH 5   /* empty, RFC 7252 */
#define COAP_OPTION_OBSERVE 6         /* uint 0-3, RFC 7641 */
#define COAP_OPTION_URI_PORT 7        /* uint 0-2, RFC 7252 */
#define COAP_OPTION_LOCATION_PATH 8   /* string 0-255, repeatable */
#define COAP_OPTION_OSCORE 9          /* opaque 0-255, RFC 8613 */
#define COAP_OPTION_URI_PATH 11       /* string 0-255, repeatable */
#define COAP_OPTION_CONTENT_FORMAT 12 /* uint 0-2 */
#define COAP_OPTION_CONTENT_TYPE COAP_OPTION_CONTENT_FORMAT
#define COAP_OPTION_MAXAGE 14         /* uint 0-4, default 60 */
#define COAP_OPTION_URI_QUERY 15      /* string 0-255, repeatable */
#define COAP_OPTION_HOP_LIMIT 16      /* uint 1, RFC 8768 */
#define COAP_OPTION_ACCEPT 17         /* uint 0-2 */
#define COAP_OPTION_Q_BLOCK1 19       /* uint 0-3, RFC 9177 */
#define COAP_OPTION_LOCATION_QUERY 20 /* string 0-255, repeatable */
#define COAP_OPTION_BLOCK2 23         /* uint 0-3, RFC 7959 */
#define COAP_OPTION_BLOCK1 27         /* uint 0-3, RFC 7959 */
#define COAP_OPTION_SIZE2 28          /* uint 0-4, RFC 7959 */
#define COAP_OPTION_Q_BLOCK2 31       /* uint 0-3, RFC 9177 */
#define COAP_OPTION_PROXY_URI 35      /* string 1-1034 */
#define COAP_OPTION_PROXY_SCHEME 39   /* string 1-255 */
#define COAP_OPTION_SIZE1 60          /* uint 0-4 */
#define COAP_OPTION_ECHO 252          /* opaque 0-40, RFC 9175 */
#define COAP_OPTION_NORESPONSE 258    /* uint 0-1, RFC 7967 */
#define COAP_OPTION_RTAG 292          /* opaque 0-8, RFC 9175 */

/** The highest option number. */
#define COAP_MAX_OPT 65535

/** A response code from its HTTP-like number: 404 -> 4.04 -> 0x84. */
#define COAP_RESPONSE_CODE(N) (((N) / 100 << 5) | (N) % 100)

/** The class (the digit before the dot) of code @p C. */
#define COAP_RESPONSE_CLASS(C) (((C) >> 5) & 0xFF)

/**
 * The reason phrase for response @p code ("Not Found" for 4.04), or NULL for
 * a code without one. The string is static.
 */
COAP_API const char *coap_response_phrase(unsigned char code);

/** Longest phrase coap_response_phrase() returns, in bytes. */
#define COAP_ERROR_PHRASE_LENGTH 32

/** Signaling codes of CoAP over reliable transports (RFC 8323). */
#define COAP_SIGNALING_CODE(N) (((N) / 100 << 5) | (N) % 100)

typedef enum coap_pdu_signaling_proto_t {
  COAP_SIGNALING_CSM = COAP_SIGNALING_CODE(701),
  COAP_SIGNALING_PING = COAP_SIGNALING_CODE(702),
  COAP_SIGNALING_PONG = COAP_SIGNALING_CODE(703),
  COAP_SIGNALING_RELEASE = COAP_SIGNALING_CODE(704),
  COAP_SIGNALING_ABORT = COAP_SIGNALING_CODE(705),
} coap_pdu_signaling_proto_t;

/* Signaling option numbers (RFC 8323 section 5, RFC 8974). */
#define COAP_SIGNALING_OPTION_MAX_MESSAGE_SIZE 2     /* CSM */
#define COAP_SIGNALING_OPTION_BLOCK_WISE_TRANSFER 4  /* CSM */
#define COAP_SIGNALING_OPTION_EXTENDED_TOKEN_LENGTH 6 /* CSM */
#define COAP_SIGNALING_OPTION_CUSTODY 2              /* Ping, Pong */
#define COAP_SIGNALING_OPTION_ALTERNATIVE_ADDRESS 2  /* Release */
#define COAP_SIGNALING_OPTION_HOLD_OFF 4             /* Release */
#define COAP_SIGNALING_OPTION_BAD_CSM_OPTION 2       /* Abort */

/* Content-Format numbers (IANA CoAP Content-Formats registry). */
#define COAP_MEDIATYPE_TEXT_PLAIN 0
#define COAP_MEDIATYPE_APPLICATION_LINK_FORMAT 40
#define COAP_MEDIATYPE_APPLICATION_XML 41
#define COAP_MEDIATYPE_APPLICATION_OCTET_STREAM 42
#define COAP_MEDIATYPE_APPLICATION_RDF_XML 43
#define COAP_MEDIATYPE_APPLICATION_EXI 47
#define COAP_MEDIATYPE_APPLICATION_JSON 50
#define COAP_MEDIATYPE_APPLICATION_CBOR 60
#define COAP_MEDIATYPE_APPLICATION_CWT 61 /* RFC 8392 */
#define COAP_MEDIATYPE_APPLICATION_COAP_GROUP_JSON 256 /* RFC 7390 */
#define COAP_MEDIATYPE_APPLICATION_COSE_SIGN 98   /* RFC 8152 */
#define COAP_MEDIATYPE_APPLICATION_COSE_SIGN1 18
#define COAP_MEDIATYPE_APPLICATION_COSE_ENCRYPT 96
#define COAP_MEDIATYPE_APPLICATION_COSE_ENCRYPT0 16
#define COAP_MEDIATYPE_APPLICATION_COSE_MAC 97
#define COAP_MEDIATYPE_APPLICATION_COSE_MAC0 17
#define COAP_MEDIATYPE_APPLICATION_COSE_KEY 101
#define COAP_MEDIATYPE_APPLICATION_COSE_KEY_SET 102
#define COAP_MEDIATYPE_APPLICATION_SENML_JSON 110  /* RFC 8428 */
#define COAP_MEDIATYPE_APPLICATION_SENSML_JSON 111
#define COAP_MEDIATYPE_APPLICATION_SENML_CBOR 112
#define COAP_MEDIATYPE_APPLICATION_SENSML_CBOR 113
#define COAP_MEDIATYPE_APPLICATION_SENML_EXI 114
#define COAP_MEDIATYPE_APPLICATION_SENSML_EXI 115
#define COAP_MEDIATYPE_APPLICATION_SENML_XML 310
#define COAP_MEDIATYPE_APPLICATION_SENSML_XML 311
#define COAP_MEDIATYPE_APPLICATION_DOTS_CBOR 271    /* RFC 8782 */
#define COAP_MEDIATYPE_APPLICATION_ACE_CBOR 19      /* RFC 9200 */
#define COAP_MEDIATYPE_APPLICATION_MB_CBOR_SEQ 272  /* RFC 9177 */
#define COAP_MEDIATYPE_APPLICATION_OSCORE 10001     /* RFC 8613 */

/** A message id, 0..65535; negative values are errors. */
typedef int coap_mid_t;

/** The invalid message id, returned on errors. */
#define COAP_INVALID_MID -1
/** @deprecated Use COAP_INVALID_MID. */
#define COAP_INVALID_TID COAP_INVALID_MID

/**
 * @deprecated Use coap_optlist_t. An option header followed in memory by
 * its value (see COAP_OPTION_DATA).
 */
COAP_DEPRECATED typedef struct {
  uint16_t key;        /* the option number (absolute) */
  unsigned int length; /* value bytes that follow */
} coap_option;

#define COAP_OPTION_KEY(option) (option).key
#define COAP_OPTION_LENGTH(option) (option).length
#define COAP_OPTION_DATA(option)                                             \
  ((unsigned char *)&(option) + sizeof(coap_option))

/** Transports. */
typedef enum coap_proto_t {
  COAP_PROTO_NONE = 0,
  COAP_PROTO_UDP,
  COAP_PROTO_DTLS,
  COAP_PROTO_TCP,
  COAP_PROTO_TLS,
  COAP_PROTO_WS,
  COAP_PROTO_WSS,
  COAP_PROTO_LAST
} coap_proto_t;

/** Message codes: requests, responses and signaling. */
typedef enum coap_pdu_code_t {
  COAP_EMPTY_CODE = 0,

  COAP_REQUEST_CODE_GET = COAP_REQUEST_GET,
  COAP_REQUEST_CODE_POST = COAP_REQUEST_POST,
  COAP_REQUEST_CODE_PUT = COAP_REQUEST_PUT,
  COAP_REQUEST_CODE_DELETE = COAP_REQUEST_DELETE,
  COAP_REQUEST_CODE_FETCH = COAP_REQUEST_FETCH,
  COAP_REQUEST_CODE_PATCH = COAP_REQUEST_PATCH,
  COAP_REQUEST_CODE_IPATCH = COAP_REQUEST_IPATCH,

  COAP_RESPONSE_CODE_OK = COAP_RESPONSE_CODE(200),
  COAP_RESPONSE_CODE_CREATED = COAP_RESPONSE_CODE(201),
  COAP_RESPONSE_CODE_DELETED = COAP_RESPONSE_CODE(202),
  COAP_RESPONSE_CODE_VALID = COAP_RESPONSE_CODE(203),
  COAP_RESPONSE_CODE_CHANGED = COAP_RESPONSE_CODE(204),
  COAP_RESPONSE_CODE_CONTENT = COAP_RESPONSE_CODE(205),
  COAP_RESPONSE_CODE_CONTINUE = COAP_RESPONSE_CODE(231),
  COAP_RESPONSE_CODE_BAD_REQUEST = COAP_RESPONSE_CODE(400),
  COAP_RESPONSE_CODE_UNAUTHORIZED = COAP_RESPONSE_CODE(401),
  COAP_RESPONSE_CODE_BAD_OPTION = COAP_RESPONSE_CODE(402),
  COAP_RESPONSE_CODE_FORBIDDEN = COAP_RESPONSE_CODE(403),
  COAP_RESPONSE_CODE_NOT_FOUND = COAP_RESPONSE_CODE(404),
  COAP_RESPONSE_CODE_NOT_ALLOWED = COAP_RESPONSE_CODE(405),
  COAP_RESPONSE_CODE_NOT_ACCEPTABLE = COAP_RESPONSE_CODE(406),
  COAP_RESPONSE_CODE_INCOMPLETE = COAP_RESPONSE_CODE(408),
  COAP_RESPONSE_CODE_CONFLICT = COAP_RESPONSE_CODE(409),
  COAP_RESPONSE_CODE_PRECONDITION_FAILED = COAP_RESPONSE_CODE(412),
  COAP_RESPONSE_CODE_REQUEST_TOO_LARGE = COAP_RESPONSE_CODE(413),
  COAP_RESPONSE_CODE_UNSUPPORTED_CONTENT_FORMAT = COAP_RESPONSE_CODE(415),
  COAP_RESPONSE_CODE_UNPROCESSABLE = COAP_RESPONSE_CODE(422),
  COAP_RESPONSE_CODE_TOO_MANY_REQUESTS = COAP_RESPONSE_CODE(429),
  COAP_RESPONSE_CODE_INTERNAL_ERROR = COAP_RESPONSE_CODE(500),
  COAP_RESPONSE_CODE_NOT_IMPLEMENTED = COAP_RESPONSE_CODE(501),
  COAP_RESPONSE_CODE_BAD_GATEWAY = COAP_RESPONSE_CODE(502),
  COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE = COAP_RESPONSE_CODE(503),
  COAP_RESPONSE_CODE_GATEWAY_TIMEOUT = COAP_RESPONSE_CODE(504),
  COAP_RESPONSE_CODE_PROXYING_NOT_SUPPORTED = COAP_RESPONSE_CODE(505),
  COAP_RESPONSE_CODE_HOP_LIMIT_REACHED = COAP_RESPONSE_CODE(508),

  COAP_SIGNALING_CODE_CSM = COAP_SIGNALING_CSM,
  COAP_SIGNALING_CODE_PING = COAP_SIGNALING_PING,
  COAP_SIGNALING_CODE_PONG = COAP_SIGNALING_PONG,
  COAP_SIGNALING_CODE_RELEASE = COAP_SIGNALING_RELEASE,
  COAP_SIGNALING_CODE_ABORT = COAP_SIGNALING_ABORT
} coap_pdu_code_t;

/**
 * Allocates an empty PDU with the given header fields that may grow to
 * @p size bytes after the 4-byte header (token, options and payload; 0 means
 * no limit but the library's cap of 8 MiB + 256). @p mid is the message id,
 * 0 if not yet known. Returns NULL when out of memory or @p size is above
 * the cap. Ownership goes to the caller: free with coap_delete_pdu(), or
 * hand it to coap_send(), which takes it.
 */
COAP_API coap_pdu_t *coap_pdu_init(coap_pdu_type_t type, coap_pdu_code_t code,
                                   coap_mid_t mid, size_t size);

/**
 * As coap_pdu_init(), with the next message id of @p session (borrowed) and
 * the largest size the session can send. Returns NULL on failure.
 */
COAP_API coap_pdu_t *coap_new_pdu(coap_pdu_type_t type, coap_pdu_code_t code,
                                  coap_session_t *session);

/**
 * Frees @p pdu, or, if references were added by the library, drops one.
 * NULL is ignored. Do not call this on a PDU given to coap_send().
 */
COAP_API void coap_delete_pdu(coap_pdu_t *pdu);

/**
 * Makes a new PDU (owned by the caller) with @p old_pdu's type and code, a
 * new message id from @p session (borrowed, may be NULL), the token
 * @p token (@p token_length bytes, copied) and copies of the options of
 * @p old_pdu except those in @p drop_options (NULL keeps all). The payload
 * is not copied. Returns NULL on failure.
 */
COAP_API coap_pdu_t *coap_pdu_duplicate(const coap_pdu_t *old_pdu,
                                        coap_session_t *session,
                                        size_t token_length,
                                        const uint8_t *token,
                                        coap_opt_filter_t *drop_options);

/**
 * Parses the @p length bytes at @p data (borrowed, copied into @p pdu) as a
 * message framed for @p proto, replacing @p pdu's content: RFC 7252
 * section 3 for COAP_PROTO_UDP and COAP_PROTO_DTLS, RFC 8323 section 3.2
 * (Len and Extended Length, no Type or Message ID) for COAP_PROTO_TCP and
 * COAP_PROTO_TLS, RFC 8323 section 4.4 (Len 0, the message runs to the
 * end of @p data) for COAP_PROTO_WS and COAP_PROTO_WSS; a reliable
 * transport's message gets type COAP_MESSAGE_CON and message ID 0. The
 * bytes must be exactly one message. Returns 1 on success, 0 if the message
 * is malformed, is cut short or followed by extra bytes, or does not fit
 * @p pdu's maximum size (the PDU's content is then undefined), or @p proto
 * is none of these.
 */
COAP_API int coap_pdu_parse(coap_proto_t proto, const uint8_t *data,
                            size_t length, coap_pdu_t *pdu);

/**
 * Sets the token of @p pdu to a copy of the @p len bytes at @p data. Must be
 * the first thing added: fails if the PDU already has a token, options or
 * payload. Tokens may be up to COAP_TOKEN_EXT_MAX (65804) bytes long (RFC
 * 8974); one over 8 bytes is only sent if the session's limit allows it
 * (coap_context_set_max_token_size()). Returns 1 on success, 0 on failure
 * (also when @p len > COAP_TOKEN_EXT_MAX or the PDU has no room).
 */
COAP_API int coap_add_token(coap_pdu_t *pdu, size_t len, const uint8_t *data);

/**
 * Adds option @p number with a copy of the @p len bytes at @p data. Options
 * may be added in any order: an option numbered below the last one is put in
 * its place (after others of the same number). Fails once a payload has
 * been added. Returns the option's encoded size (header and value), or 0 on
 * failure (payload present, no room, NULL @p pdu).
 * Encode integers with coap_encode_var_safe() so they have no leading zeros.
 */
COAP_API size_t coap_add_option(coap_pdu_t *pdu, coap_option_num_t number,
                                size_t len, const uint8_t *data);

/**
 * Adds the payload: a copy of the @p len bytes at @p data. Fails if a
 * payload was already added. @p len 0 adds nothing and returns 1. Returns 1
 * on success, 0 on failure.
 */
COAP_API int coap_add_data(coap_pdu_t *pdu, size_t len, const uint8_t *data);

/**
 * Reserves a @p len-byte payload and returns where to write it (inside the
 * PDU, valid until the PDU is changed or freed), or NULL on failure, when a
 * payload already exists or when @p len is 0.
 */
COAP_API uint8_t *coap_add_data_after(coap_pdu_t *pdu, size_t len);

/**
 * Points *@p data at @p pdu's payload and sets *@p len to its size. The
 * bytes belong to the PDU. Returns 1 if there is a payload; otherwise sets
 * *@p len to 0 and *@p data to NULL and returns 0.
 */
COAP_API int coap_get_data(const coap_pdu_t *pdu, size_t *len,
                           const uint8_t **data);

/** The code of @p pdu. */
COAP_API coap_pdu_code_t coap_pdu_get_code(const coap_pdu_t *pdu);
/** Sets the code of @p pdu. */
COAP_API void coap_pdu_set_code(coap_pdu_t *pdu, coap_pdu_code_t code);
/** The type of @p pdu. */
COAP_API coap_pdu_type_t coap_pdu_get_type(const coap_pdu_t *pdu);
/** Sets the type of @p pdu. */
COAP_API void coap_pdu_set_type(coap_pdu_t *pdu, coap_pdu_type_t type);
/** The token of @p pdu; its bytes belong to the PDU. */
COAP_API coap_bin_const_t coap_pdu_get_token(const coap_pdu_t *pdu);
/** The message id of @p pdu. */
COAP_API coap_mid_t coap_pdu_get_mid(const coap_pdu_t *pdu);
/** Sets the message id of @p pdu. */
COAP_API void coap_pdu_set_mid(coap_pdu_t *pdu, coap_mid_t mid);

#ifdef __cplusplus
}
#endif

#endif /* COAP_PDU_H_ */
