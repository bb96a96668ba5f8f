/*
 * coap_dtls.h -- (D)TLS configuration types and capability queries.
 *
 * These structures describe PSK and PKI credentials. The application owns
 * every structure and every buffer it points to; the library reads them
 * during the call that takes them (coap_context_set_psk2(),
 * coap_context_set_pki(), coap_new_client_session_psk2(),
 * coap_new_client_session_pki()) and copies what it keeps, except where a
 * field says otherwise.
 */
#ifndef COAP_DTLS_H_
#define COAP_DTLS_H_

#include <stddef.h>
#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"
#include "coap3/coap_str.h"
#include "coap3/coap_time.h"

#ifdef __cplusplus
extern "C" {
#endif

/** PKI setup data; see struct coap_dtls_pki_t below. */
typedef struct coap_dtls_pki_t coap_dtls_pki_t;

/** Largest PSK identity hint accepted (bytes). */
#ifndef COAP_DTLS_HINT_LENGTH
#define COAP_DTLS_HINT_LENGTH 128
#endif
/** Largest PSK identity accepted (bytes). */
#ifndef COAP_DTLS_MAX_PSK_IDENTITY
#define COAP_DTLS_MAX_PSK_IDENTITY 64
#endif
/** Largest pre-shared key accepted (bytes). */
#ifndef COAP_DTLS_MAX_PSK
#define COAP_DTLS_MAX_PSK 64
#endif

/** Which side of a (D)TLS handshake we are. */
typedef enum coap_dtls_role_t {
  COAP_DTLS_ROLE_CLIENT, /**< we initiated */
  COAP_DTLS_ROLE_SERVER  /**< the peer initiated */
} coap_dtls_role_t;

/** The "CN" reported to coap_dtls_cn_callback_t for raw public keys. */
#define COAP_DTLS_RPK_CERT_CN "RPK"

/**
 * Reports whether DTLS is available in this build.
 * @return 1 if available (libcoap-3, libcoap-3-openssl: DTLS 1.2), 0 if
 *         not (libcoap-3-notls). Any thread.
 */
COAP_API int coap_dtls_is_supported(void);

/**
 * Reports whether TLS (CoAP over TLS over TCP, coaps+tcp://) is available
 * in this build.
 * @return 1 if available (libcoap-3, libcoap-3-openssl: TLS 1.2 and 1.3),
 *         0 if not (libcoap-3-notls, where COAP_PROTO_TLS endpoints and
 *         sessions are refused). Any thread.
 */
COAP_API int coap_tls_is_supported(void);

/**
 * Reports whether (D)TLS with pre-shared keys is available.
 * @return 1 if available, 0 if not. Any thread.
 */
COAP_API int coap_dtls_psk_is_supported(void);

/**
 * Reports whether (D)TLS with certificates (PKI) is available.
 * @return 1 if available, 0 if not. Any thread.
 */
COAP_API int coap_dtls_pki_is_supported(void);

/**
 * Reports whether (D)TLS keys held in PKCS#11 tokens can be used.
 * @return 1 if available, 0 if not: always 0 (the OpenSSL build does not
 *         load PKCS#11 keys). Any thread.
 */
COAP_API int coap_dtls_pkcs11_is_supported(void);

/**
 * Reports whether (D)TLS with raw public keys (RFC 7250) is available.
 * @return 1 if available, 0 if not: always 0 (OpenSSL 3.0 has no raw
 *         public keys). Any thread.
 */
COAP_API int coap_dtls_rpk_is_supported(void);

/** The (D)TLS library underneath. */
typedef enum coap_tls_library_t {
  COAP_TLS_LIBRARY_NOTLS = 0, /**< none */
  COAP_TLS_LIBRARY_TINYDTLS,  /**< TinyDTLS */
  COAP_TLS_LIBRARY_OPENSSL,   /**< OpenSSL */
  COAP_TLS_LIBRARY_GNUTLS,    /**< GnuTLS */
  COAP_TLS_LIBRARY_MBEDTLS    /**< Mbed TLS */
} coap_tls_library_t;

/** Identification of the (D)TLS library, from coap_get_tls_library_version(). */
typedef struct coap_tls_version_t {
  uint64_t version;        /**< version of the library found at run time */
  coap_tls_library_t type; /**< which library */
  uint64_t built_version;  /**< version the library was built against */
} coap_tls_version_t;

/**
 * Describes the (D)TLS library in use.
 *
 * @return A pointer to a static structure owned by the library (do not
 *         free or modify). Never NULL; type is COAP_TLS_LIBRARY_NOTLS when
 *         the build has no (D)TLS. Any thread.
 */
COAP_API coap_tls_version_t *coap_get_tls_library_version(void);

/**
 * Hook for extra TLS-library specific setup, called during a handshake.
 *
 * @param tls_session The TLS library's session object (e.g. SSL* for
 *                    OpenSSL), or NULL; borrowed for the call.
 * @param setup_data  The PKI data given at setup (borrowed).
 * @return 1 to continue, 0 to fail the handshake.
 */
typedef int (*coap_dtls_security_setup_t)(void *tls_session,
                                          coap_dtls_pki_t *setup_data);

/**
 * Lets the application accept or reject a peer certificate after the TLS
 * library's own checks.
 *
 * @param cn               Subject Alt Name, else the leftmost Common Name;
 *                         COAP_DTLS_RPK_CERT_CN for raw public keys.
 * @param asn1_public_cert The DER encoded certificate (borrowed).
 * @param asn1_length      Its length in bytes.
 * @param coap_session     The session being set up (borrowed).
 * @param depth            0 for the peer's own certificate, >0 for a CA.
 * @param validated        1 if the TLS library found no problem.
 * @param arg              cn_call_back_arg from the setup data.
 * @return 1 to accept, 0 to reject.
 */
typedef int (*coap_dtls_cn_callback_t)(const char *cn,
                                       const uint8_t *asn1_public_cert,
                                       size_t asn1_length,
                                       coap_session_t *coap_session,
                                       unsigned int depth, int validated,
                                       void *arg);

/** Algorithm of a DER encoded private key given in coap_pki_key_asn1_t. */
typedef enum coap_asn1_privatekey_type_t {
  COAP_ASN1_PKEY_NONE,
  COAP_ASN1_PKEY_RSA,
  COAP_ASN1_PKEY_RSA2,
  COAP_ASN1_PKEY_DSA,
  COAP_ASN1_PKEY_DSA1,
  COAP_ASN1_PKEY_DSA2,
  COAP_ASN1_PKEY_DSA3,
  COAP_ASN1_PKEY_DSA4,
  COAP_ASN1_PKEY_DH,
  COAP_ASN1_PKEY_DHX,
  COAP_ASN1_PKEY_EC,
  COAP_ASN1_PKEY_HMAC,
  COAP_ASN1_PKEY_CMAC,
  COAP_ASN1_PKEY_TLS1_PRF,
  COAP_ASN1_PKEY_HKDF
} coap_asn1_privatekey_type_t;

/** How PKI keys are supplied: selects the member of coap_dtls_key_t.key. */
typedef enum coap_pki_key_t {
  COAP_PKI_KEY_PEM = 0, /**< PEM files (key.pem) */
  COAP_PKI_KEY_ASN1,    /**< DER buffers (key.asn1) */
  COAP_PKI_KEY_PEM_BUF, /**< PEM buffers (key.pem_buf) */
  COAP_PKI_KEY_PKCS11   /**< PKCS#11 URIs (key.pkcs11) */
} coap_pki_key_t;

/** PKI material as PEM file names (each may be NULL). */
typedef struct coap_pki_key_pem_t {
  const char *ca_file;     /**< CA certificate(s) file */
  const char *public_cert; /**< own certificate file */
  const char *private_key; /**< own private key file */
} coap_pki_key_pem_t;

/**
 * PKI material as PEM text in memory. A trailing NUL may be included in a
 * length, or not.
 */
typedef struct coap_pki_key_pem_buf_t {
  const uint8_t *ca_cert;     /**< CA certificate(s) */
  const uint8_t *public_cert; /**< own certificate, or public key for RPK */
  const uint8_t *private_key; /**< own private key */
  size_t ca_cert_len;         /**< length of ca_cert */
  size_t public_cert_len;     /**< length of public_cert */
  size_t private_key_len;     /**< length of private_key */
} coap_pki_key_pem_buf_t;

/** PKI material as DER buffers in memory. */
typedef struct coap_pki_key_asn1_t {
  const uint8_t *ca_cert;     /**< CA certificate */
  const uint8_t *public_cert; /**< own certificate, or public key for RPK */
  const uint8_t *private_key; /**< own private key */
  size_t ca_cert_len;         /**< length of ca_cert */
  size_t public_cert_len;     /**< length of public_cert */
  size_t private_key_len;     /**< length of private_key */
  coap_asn1_privatekey_type_t private_key_type; /**< key algorithm */
} coap_pki_key_asn1_t;

/** PKI material held in a PKCS#11 token, named by pkcs11: URIs. */
typedef struct coap_pki_key_pkcs11_t {
  const char *ca;          /**< CA certificate URI */
  const char *public_cert; /**< own certificate URI */
  const char *private_key; /**< own private key URI */
  const char *user_pin;    /**< PIN, or NULL if given in the URI */
} coap_pki_key_pkcs11_t;

/** One set of PKI material in any of the supported forms. */
typedef struct coap_dtls_key_t {
  coap_pki_key_t key_type; /**< which member of key is valid */
  union {
    coap_pki_key_pem_t pem;
    coap_pki_key_pem_buf_t pem_buf;
    coap_pki_key_asn1_t asn1;
    coap_pki_key_pkcs11_t pkcs11;
  } key;
} coap_dtls_key_t;

/**
 * Chooses server PKI material by the Server Name Indication a client sent.
 *
 * @param sni The requested host name.
 * @param arg sni_call_back_arg from the setup data.
 * @return The material to use (owned by the application, must stay valid
 *         while the context lives), or NULL to reject the client.
 */
typedef coap_dtls_key_t *(*coap_dtls_pki_sni_callback_t)(const char *sni,
                                                         void *arg);

/** Current version of struct coap_dtls_pki_t. */
#define COAP_DTLS_PKI_SETUP_VERSION 1

/** PKI (certificate or raw public key) setup. Zero it, then fill it in. */
struct coap_dtls_pki_t {
  uint8_t version; /**< set to COAP_DTLS_PKI_SETUP_VERSION */
  uint8_t verify_peer_cert;        /**< 1: verify the peer's certificate */
  uint8_t check_common_ca;         /**< 1: peer must share our CA */
  uint8_t allow_self_signed;       /**< 1: accept self-signed certificates */
  uint8_t allow_expired_certs;     /**< 1: accept expired certificates */
  uint8_t cert_chain_validation;   /**< 1: limit the chain depth */
  uint8_t cert_chain_verify_depth; /**< chain depth limit (3 is usual) */
  uint8_t check_cert_revocation;   /**< 1: check revocation lists */
  uint8_t allow_no_crl;            /**< 1: a missing CRL is not an error */
  uint8_t allow_expired_crl;       /**< 1: an expired CRL is accepted */
  uint8_t allow_bad_md_hash;       /**< 1: accept unsupported digests */
  uint8_t allow_short_rsa_length;  /**< 1: accept short RSA keys */
  uint8_t is_rpk_not_cert;         /**< 1: raw public key (RFC 7250) */
  uint8_t reserved[3];             /**< must be 0 */
  coap_dtls_cn_callback_t validate_cn_call_back; /**< or NULL */
  void *cn_call_back_arg;          /**< passed to validate_cn_call_back */
  coap_dtls_pki_sni_callback_t validate_sni_call_back; /**< or NULL */
  void *sni_call_back_arg;         /**< passed to validate_sni_call_back */
  coap_dtls_security_setup_t additional_tls_setup_call_back; /**< or NULL */
  char *client_sni; /**< client: SNI to send, or NULL; read during the
                         session-creating call only */
  coap_dtls_key_t pki_key; /**< our own key material */
};

/** A client's PSK identity and key. */
typedef struct coap_dtls_cpsk_info_t {
  coap_bin_const_t identity; /**< identity sent to the server */
  coap_bin_const_t key;      /**< the pre-shared key */
} coap_dtls_cpsk_info_t;

/**
 * Client side: picks identity and key from the hint the server sent
 * ((D)TLS 1.2 and earlier only).
 *
 * @param hint         The server's identity hint (borrowed).
 * @param coap_session The session being set up (borrowed).
 * @param arg          ih_call_back_arg from the setup data.
 * @return The identity and key to use (owned by the application; the
 *         library copies them), or NULL to abort the handshake.
 */
typedef const coap_dtls_cpsk_info_t *(*coap_dtls_ih_callback_t)(
    coap_str_const_t *hint, coap_session_t *coap_session, void *arg);

/** Current version of coap_dtls_cpsk_t. */
#define COAP_DTLS_CPSK_SETUP_VERSION 1

/** Client PSK setup. Zero it, then fill it in. */
typedef struct coap_dtls_cpsk_t {
  uint8_t version;     /**< set to COAP_DTLS_CPSK_SETUP_VERSION */
  uint8_t reserved[7]; /**< must be 0 */
  coap_dtls_ih_callback_t validate_ih_call_back; /**< or NULL */
  void *ih_call_back_arg; /**< passed to validate_ih_call_back */
  char *client_sni;       /**< SNI to send, or NULL; read during the
                               session-creating call only */
  coap_dtls_cpsk_info_t psk_info; /**< default identity and key */
} coap_dtls_cpsk_t;

/** A server's PSK identity hint and key. */
typedef struct coap_dtls_spsk_info_t {
  coap_bin_const_t hint; /**< hint sent to clients */
  coap_bin_const_t key;  /**< the pre-shared key */
} coap_dtls_spsk_info_t;

/**
 * Server side: picks the key for the identity a client presented.
 *
 * @param identity     The client's identity (borrowed).
 * @param coap_session The session being set up (borrowed).
 * @param arg          id_call_back_arg from the setup data.
 * @return The key (owned by the application; the library copies it), or
 *         NULL to reject the client.
 */
typedef const coap_bin_const_t *(*coap_dtls_id_callback_t)(
    coap_bin_const_t *identity, coap_session_t *coap_session, void *arg);

/**
 * Server side: picks hint and key by the Server Name Indication a client
 * sent.
 *
 * @param sni          The requested host name.
 * @param coap_session The session being set up (borrowed).
 * @param arg          sni_call_back_arg from the setup data.
 * @return Hint and key (owned by the application; the library copies
 *         them), or NULL to reject the client.
 */
typedef const coap_dtls_spsk_info_t *(*coap_dtls_psk_sni_callback_t)(
    const char *sni, coap_session_t *coap_session, void *arg);

/** Current version of coap_dtls_spsk_t. */
#define COAP_DTLS_SPSK_SETUP_VERSION 1

/** Server PSK setup. Zero it, then fill it in. */
typedef struct coap_dtls_spsk_t {
  uint8_t version;     /**< set to COAP_DTLS_SPSK_SETUP_VERSION */
  uint8_t reserved[7]; /**< must be 0 */
  coap_dtls_id_callback_t validate_id_call_back; /**< or NULL */
  void *id_call_back_arg; /**< passed to validate_id_call_back */
  coap_dtls_psk_sni_callback_t validate_sni_call_back; /**< or NULL */
  void *sni_call_back_arg; /**< passed to validate_sni_call_back */
  coap_dtls_spsk_info_t psk_info; /**< default hint and key */
} coap_dtls_spsk_t;

#ifdef __cplusplus
}
#endif

#endif /* COAP_DTLS_H_ */
