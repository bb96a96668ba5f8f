/*
 * openssl_pki.c -- certificates on OpenSSL 3 for the (D)TLS backend:
 * loading keys and certificates from every coap_pki_key_t form but
 * PKCS#11, trust anchors, and verifying a peer under the switches of
 * coap_dtls_pki_t (expired, self-signed, CRLs, the CN callback). Used by
 * openssl.c for both roles; see openssl_int.h.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "session.h"
#include "tls/openssl_int.h"

/* ---- PKI material
 * --------------------------------------------------------------- */

void pt_ossl_material_free(material *m) {
  X509_free(m->cert);
  sk_X509_pop_free(m->chain, X509_free);
  EVP_PKEY_free(m->key);
  sk_X509_INFO_pop_free(m->cas, X509_INFO_free);
  memset(m, 0, sizeof(*m));
}

/* A memory BIO over a PEM buffer whose length may count a trailing NUL. */
static BIO *pem_bio(const uint8_t *p, size_t n) {
  if (n && p[n - 1] == 0)
    n--;
  return BIO_new_mem_buf(p, (int)n);
}

static int read_pem_certs(BIO *b, material *m) {
  m->cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
  if (!m->cert)
    return -1;
  m->chain = sk_X509_new_null();
  X509 *x;
  while (m->chain && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
    sk_X509_push(m->chain, x);
  ERR_clear_error(); /* the end of the file */
  return 0;
}

static int read_pem(BIO *cert, BIO *key, BIO *ca, material *m) {
  if (cert && read_pem_certs(cert, m) < 0)
    return -1;
  if (key && !(m->key = PEM_read_bio_PrivateKey(key, NULL, NULL, NULL)))
    return -1;
  if (ca && !(m->cas = PEM_X509_INFO_read_bio(ca, NULL, NULL, NULL)))
    return -1;
  return 0;
}

static int load_pem_files(const coap_pki_key_pem_t *k, material *m) {
  BIO *c = k->public_cert ? BIO_new_file(k->public_cert, "r") : NULL;
  BIO *p = k->private_key ? BIO_new_file(k->private_key, "r") : NULL;
  BIO *a = k->ca_file ? BIO_new_file(k->ca_file, "r") : NULL;
  int r = -1;
  if ((!k->public_cert || c) && (!k->private_key || p) && (!k->ca_file || a))
    r = read_pem(c, p, a, m);
  BIO_free(c);
  BIO_free(p);
  BIO_free(a);
  return r;
}

static int load_pem_buf(const coap_pki_key_pem_buf_t *k, material *m) {
  BIO *c =
      k->public_cert_len ? pem_bio(k->public_cert, k->public_cert_len) : NULL;
  BIO *p =
      k->private_key_len ? pem_bio(k->private_key, k->private_key_len) : NULL;
  BIO *a = k->ca_cert_len ? pem_bio(k->ca_cert, k->ca_cert_len) : NULL;
  int r = read_pem(c, p, a, m);
  BIO_free(c);
  BIO_free(p);
  BIO_free(a);
  return r;
}

static int load_asn1(const coap_pki_key_asn1_t *k, material *m) {
  const unsigned char *p;
  if (k->public_cert_len) {
    p = k->public_cert;
    if (!(m->cert = d2i_X509(NULL, &p, (long)k->public_cert_len)))
      return -1;
  }
  if (k->private_key_len) {
    p = k->private_key;
    if (!(m->key = d2i_AutoPrivateKey(NULL, &p, (long)k->private_key_len)))
      return -1;
  }
  if (k->ca_cert_len) {
    p = k->ca_cert;
    X509_INFO *info = X509_INFO_new();
    m->cas = sk_X509_INFO_new_null();
    if (!info || !m->cas || !sk_X509_INFO_push(m->cas, info)) {
      X509_INFO_free(info);
      return -1;
    }
    if (!(info->x509 = d2i_X509(NULL, &p, (long)k->ca_cert_len)))
      return -1;
  }
  return 0;
}

int pt_ossl_load_material(const coap_dtls_key_t *k, material *m) {
  memset(m, 0, sizeof(*m));
  int r = -1;
  switch (k->key_type) {
  case COAP_PKI_KEY_PEM:
    r = load_pem_files(&k->key.pem, m);
    break;
  case COAP_PKI_KEY_PEM_BUF:
    r = load_pem_buf(&k->key.pem_buf, m);
    break;
  case COAP_PKI_KEY_ASN1:
    r = load_asn1(&k->key.asn1, m);
    break;
  default:
    coap_log_warn("PKI: PKCS#11 keys are not available in this build\n");
    return -1;
  }
  if (r < 0) {
    pt_ossl_log_errors("PKI: loading keys");
    pt_ossl_material_free(m);
  }
  return r;
}

/* Adds the CA certificates and CRLs of @m to @store. */
static void add_cas(X509_STORE *store, const material *m) {
  for (int i = 0; m->cas && i < sk_X509_INFO_num(m->cas); i++) {
    X509_INFO *info = sk_X509_INFO_value(m->cas, i);
    if (info->x509)
      X509_STORE_add_cert(store, info->x509);
    if (info->crl)
      X509_STORE_add_crl(store, info->crl);
  }
  ERR_clear_error(); /* a certificate already present is no error */
}

/* The certificate names a server asks clients for (check_common_ca). */
static STACK_OF(X509_NAME) * ca_names(const material *m) {
  STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
  for (int i = 0; names && m->cas && i < sk_X509_INFO_num(m->cas); i++) {
    X509_INFO *info = sk_X509_INFO_value(m->cas, i);
    X509_NAME *n =
        info->x509 ? X509_NAME_dup(X509_get_subject_name(info->x509)) : NULL;
    if (n && !sk_X509_NAME_push(names, n))
      X509_NAME_free(n);
  }
  return names;
}

/* Puts @m's certificate, chain and key on @ctx, or on @ssl when given. */
int pt_ossl_use_material(SSL_CTX *ctx, SSL *ssl, const material *m) {
  if (m->cert && (ssl ? SSL_use_certificate(ssl, m->cert)
                      : SSL_CTX_use_certificate(ctx, m->cert)) != 1)
    return -1;
  for (int i = 0; m->chain && i < sk_X509_num(m->chain); i++) {
    X509 *x = sk_X509_value(m->chain, i);
    if ((ssl ? SSL_add1_chain_cert(ssl, x) : SSL_CTX_add1_chain_cert(ctx, x)) !=
        1)
      return -1;
  }
  if (m->key && (ssl ? SSL_use_PrivateKey(ssl, m->key)
                     : SSL_CTX_use_PrivateKey(ctx, m->key)) != 1)
    return -1;
  if (m->cert && m->key &&
      (ssl ? SSL_check_private_key(ssl) : SSL_CTX_check_private_key(ctx)) != 1)
    return -1;
  return 0;
}

/* ---- certificate verification ----------------------------------------------
 */

/* The Subject Alternative Name (DNS), else the subject's leftmost CN. */
static void cert_name(X509 *x, char *out, size_t size) {
  out[0] = 0;
  GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
    GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
    if (g->type == GEN_DNS) {
      const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
      snprintf(out, size, "%.*s", ASN1_STRING_length(g->d.dNSName),
               (const char *)s);
      break;
    }
  }
  GENERAL_NAMES_free(sans);
  if (!out[0])
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out,
                              (int)size);
}

/* libcoap's relaxations of X.509 verification (coap_dtls_pki_t). */
static int relaxed(const coap_dtls_pki_t *r, int err) {
  switch (err) {
  case X509_V_ERR_CERT_NOT_YET_VALID:
  case X509_V_ERR_CERT_HAS_EXPIRED:
    return r->allow_expired_certs;
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    return r->allow_self_signed && !r->check_common_ca;
  case X509_V_ERR_UNABLE_TO_GET_CRL:
    return r->allow_no_crl;
  case X509_V_ERR_CRL_NOT_YET_VALID:
  case X509_V_ERR_CRL_HAS_EXPIRED:
    return r->allow_expired_crl;
  default:
    return 0;
  }
}

static int verify_cb(int ok, X509_STORE_CTX *store) {
  SSL *ssl =
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  pt_tls *t = pt_ossl_tls_of(ssl);
  if (!t || !t->rules)
    return ok;
  const coap_dtls_pki_t *r = t->rules;
  int err = X509_STORE_CTX_get_error(store);
  int depth = X509_STORE_CTX_get_error_depth(store);
  if (!ok && relaxed(r, err))
    ok = 1;
  if (!ok)
    coap_log_info("* %s: certificate at depth %d refused: %s\n",
                  coap_session_str(t->session), depth,
                  X509_verify_cert_error_string(err));
  X509 *x = X509_STORE_CTX_get_current_cert(store);
  if (ok && x && r->validate_cn_call_back) {
    char cn[256];
    cert_name(x, cn, sizeof(cn));
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    ok = len > 0 &&
         r->validate_cn_call_back(cn, der, (size_t)len, t->session,
                                  (unsigned)depth, ok, r->cn_call_back_arg);
    OPENSSL_free(der);
    if (!ok)
      X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  }
  return ok;
}

/* Applies the verification switches of @r to @ctx for @server's role. */
static void set_verify(SSL_CTX *ctx, const coap_dtls_pki_t *r, int server) {
  if (!r->verify_peer_cert) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return;
  }
  int mode = SSL_VERIFY_PEER;
  if (server)
    mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE;
  SSL_CTX_set_verify(ctx, mode, verify_cb);
  if (r->cert_chain_validation)
    SSL_CTX_set_verify_depth(ctx, r->cert_chain_verify_depth);
  if (r->check_cert_revocation)
    X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx),
                         X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
}

/* Loads our key material and trust anchors from @r into @ctx. 0 or -1. */
int pt_ossl_apply_pki(SSL_CTX *ctx, const coap_dtls_pki_t *r,
                      const struct pt_tls_conf *conf, int server) {
  if (r->version != COAP_DTLS_PKI_SETUP_VERSION) {
    coap_log_warn("PKI: setup version %u is not %u\n", r->version,
                  COAP_DTLS_PKI_SETUP_VERSION);
    return -1;
  }
  if (r->is_rpk_not_cert) {
    coap_log_warn("PKI: raw public keys are not available with OpenSSL\n");
    return -1;
  }
  material m;
  if (pt_ossl_load_material(&r->pki_key, &m) < 0)
    return -1;
  int rc = pt_ossl_use_material(ctx, NULL, &m);
  X509_STORE *store = SSL_CTX_get_cert_store(ctx);
  add_cas(store, &m);
  if (server && r->check_common_ca && r->verify_peer_cert && m.cas)
    SSL_CTX_set_client_CA_list(ctx, ca_names(&m));
  if (conf && !r->check_common_ca && (conf->root_file || conf->root_dir) &&
      X509_STORE_load_locations(store, conf->root_file, conf->root_dir) != 1)
    rc = -1;
  pt_ossl_material_free(&m);
  if (rc < 0) {
    pt_ossl_log_errors("PKI");
    return -1;
  }
  set_verify(ctx, r, server);
  return 0;
}
