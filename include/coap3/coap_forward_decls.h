/*
 * coap_forward_decls.h -- the opaque types of the public API.
 *
 * Applications see these only through pointers; their layouts live in the
 * library's src/ headers and may change between releases.
 */
#ifndef COAP_FORWARD_DECLS_H_
#define COAP_FORWARD_DECLS_H_

struct coap_address_t;
struct coap_bin_const_t;
struct coap_dtls_pki_t;
struct coap_str_const_t;
struct coap_string_t;

typedef struct coap_async_t coap_async_t;
typedef struct coap_lg_xmit_t coap_lg_xmit_t;
typedef struct coap_lg_crcv_t coap_lg_crcv_t;
typedef struct coap_lg_srcv_t coap_lg_srcv_t;
typedef struct coap_cache_entry_t coap_cache_entry_t;
typedef struct coap_cache_key_t coap_cache_key_t;
typedef struct coap_packet_t coap_packet_t;
typedef struct coap_socket_t coap_socket_t;
typedef struct coap_context_t coap_context_t;
typedef struct coap_queue_t coap_queue_t;
typedef struct coap_pdu_t coap_pdu_t;
typedef struct coap_attr_t coap_attr_t;
typedef struct coap_resource_t coap_resource_t;
typedef struct coap_addr_hash_t coap_addr_hash_t;
typedef struct coap_endpoint_t coap_endpoint_t;
typedef struct coap_session_t coap_session_t;
typedef struct coap_subscription_t coap_subscription_t;

#endif /* COAP_FORWARD_DECLS_H_ */
