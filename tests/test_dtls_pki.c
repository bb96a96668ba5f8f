/*
 * test_dtls_pki.c -- CoAP over DTLS with certificates (src/tls/openssl.c):
 * key material as PEM files, PEM and DER in memory, and the verification
 * switches of coap_dtls_pki_t. The certificates are made at run time by
 * tests/dtls_certs.sh into a scratch directory. Every test runs over DTLS
 * and again over TLS (coaps+tcp), which shares the certificate code.
 */
#include <libgen.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dtls_harness.h"

static char dir[256];

static const char *f(const char *name) {
  static char paths[8][320];
  static int next;
  char *p = paths[next++ % 8];
  snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
  return p;
}

static int make_certs(void) {
  char src[256], cmd[700];
  snprintf(src, sizeof(src), "%s", __FILE__);
  snprintf(dir, sizeof(dir), "/tmp/petrel-pki.XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(cmd, sizeof(cmd), "bash %s/dtls_certs.sh %s >/dev/null",
           dirname(src), dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void remove_certs(void) {
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
}

/* The setup both sides start from: PEM files, the peer verified against
 * the common CA. */
static coap_dtls_pki_t pem_setup(const char *cert, const char *key,
                                 const char *ca) {
  coap_dtls_pki_t p;
  memset(&p, 0, sizeof(p));
  p.version = COAP_DTLS_PKI_SETUP_VERSION;
  p.verify_peer_cert = 1;
  p.check_common_ca = 1;
  p.cert_chain_validation = 1;
  p.cert_chain_verify_depth = 2;
  p.pki_key.key_type = COAP_PKI_KEY_PEM;
  p.pki_key.key.pem.public_cert = cert ? f(cert) : NULL;
  p.pki_key.key.pem.private_key = key ? f(key) : NULL;
  p.pki_key.key.pem.ca_file = ca ? f(ca) : NULL;
  return p;
}

/* What the next dh_server() call sets up. */
static coap_dtls_pki_t server_pki;
static int set_server_pki(coap_context_t *ctx) {
  return coap_context_set_pki(ctx, &server_pki);
}

/* CN callback log. */
static char seen_cn[4][64];
static unsigned seen_depth[4];
static int seen, refuse_cn;
static int cn_cb(const char *cn, const uint8_t *der, size_t der_len,
                 coap_session_t *s, unsigned depth, int validated, void *arg) {
  (void)s, (void)arg;
  if (seen < 4) {
    snprintf(seen_cn[seen], sizeof(seen_cn[0]), "%s", cn);
    seen_depth[seen] = depth;
  }
  seen++;
  return validated && der && der_len > 0 && !refuse_cn;
}

/* Runs one GET from a client with @cp against a server with server_pki.
 * Returns the number of responses (0 or 1). */
static int exchange(coap_dtls_pki_t *cp) {
  dh_reset();
  uint16_t port;
  coap_context_t *srv = dh_server(set_server_pki, &port);
  if (!srv)
    return -1;
  coap_context_t *cli = dh_client_ctx();
  coap_address_t dst = dh_loopback(port);
  coap_session_t *s =
      coap_new_client_session_pki(cli, NULL, &dst, dh_proto, cp);
  int got = -1;
  if (s && dh_get(s, "hello") == 0) {
    dh_pump(srv, cli, &dh_responses, 0, 1500);
    got = dh_responses;
    if (!got) /* a refusal is an alert: both sides give up at once */
      dh_pump(srv, cli, NULL, 0, 200);
  }
  coap_session_release(s);
  coap_free_context(cli);
  coap_free_context(srv);
  return got;
}

TEST(mutual_certificates_with_a_common_ca) {
  server_pki = pem_setup("server.pem", "server.key", "ca.pem");
  coap_dtls_pki_t cp = pem_setup("client.pem", "client.key", "ca.pem");
  seen = 0;
  cp.validate_cn_call_back = cn_cb;
  CHECK_INT_EQ(exchange(&cp), 1);
  CHECK_STR_EQ(dh_body, "hello");
  CHECK_INT_EQ(dh_cli_ev.connected, 1);
  CHECK_INT_EQ(dh_srv_ev.connected, 1);
  /* The client saw the CA (depth 1) and the server (depth 0). */
  CHECK(seen >= 2);
  CHECK_STR_EQ(seen_cn[seen - 1], "localhost");
  CHECK_UINT_EQ(seen_depth[seen - 1], 0);
}

/* The client's SSL offers only TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 in
 * (D)TLS 1.2 (TLS 1.3 has suites of its own). */
static int only_ecdsa_ccm8(void *ssl, coap_dtls_pki_t *pki) {
  (void)pki;
  return SSL_set_cipher_list(ssl, "ECDHE-ECDSA-AES128-CCM8") == 1 &&
         SSL_set_max_proto_version(ssl, dh_proto == COAP_PROTO_TLS
                                            ? TLS1_2_VERSION
                                            : DTLS1_2_VERSION) == 1;
}

/* RFC 7252 9.1.3.3: TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 is mandatory with
 * certificates. A client offering only that suite is answered. */
TEST(mandatory_ecdsa_ccm8_suite_is_accepted) {
  server_pki = pem_setup("server.pem", "server.key", "ca.pem");
  coap_dtls_pki_t cp = pem_setup("client.pem", "client.key", "ca.pem");
  cp.additional_tls_setup_call_back = only_ecdsa_ccm8;
  CHECK_INT_EQ(exchange(&cp), 1);
  CHECK_STR_EQ(dh_body, "hello");
}

TEST(server_verifies_the_client_certificate) {
  server_pki = pem_setup("server.pem", "server.key", "ca.pem");
  server_pki.validate_cn_call_back = cn_cb;
  coap_dtls_pki_t cp = pem_setup("client.pem", "client.key", "ca.pem");
  seen = 0;
  CHECK_INT_EQ(exchange(&cp), 1);
  CHECK(seen >= 1);
  CHECK_STR_EQ(seen_cn[seen - 1], "client");
  /* Without a certificate of its own the client is refused. */
  coap_dtls_pki_t anon = pem_setup(NULL, NULL, "ca.pem");
  CHECK_INT_EQ(exchange(&anon), 0);
  CHECK_INT_EQ(dh_cli_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.connected, 0);
}

TEST(untrusted_server_certificate_fails_on_both_sides) {
  server_pki = pem_setup("rogue.pem", "rogue.key", "other_ca.pem");
  server_pki.verify_peer_cert = 0;
  coap_dtls_pki_t cp = pem_setup("client.pem", "client.key", "ca.pem");
  CHECK_INT_EQ(exchange(&cp), 0);
  CHECK_INT_EQ(dh_cli_ev.error, 1);
  CHECK_INT_EQ(dh_srv_ev.error, 1); /* the client's alert reached it */
  CHECK_INT_EQ(dh_srv_ev.server_del, 1);
  /* With verification off (-n) the same server is accepted. */
  cp.verify_peer_cert = 0;
  CHECK_INT_EQ(exchange(&cp), 1);
}

TEST(expired_certificate_refused_unless_allowed) {
  server_pki = pem_setup("expired.pem", "expired.key", "ca.pem");
  server_pki.verify_peer_cert = 0;
  coap_dtls_pki_t cp = pem_setup(NULL, NULL, "ca.pem");
  CHECK_INT_EQ(exchange(&cp), 0);
  cp.allow_expired_certs = 1;
  CHECK_INT_EQ(exchange(&cp), 1);
}

TEST(self_signed_refused_unless_allowed) {
  server_pki = pem_setup("self.pem", "self.key", NULL);
  server_pki.verify_peer_cert = 0;
  coap_dtls_pki_t cp = pem_setup(NULL, NULL, NULL);
  cp.check_common_ca = 0;
  CHECK_INT_EQ(exchange(&cp), 0);
  cp.allow_self_signed = 1;
  CHECK_INT_EQ(exchange(&cp), 1);
  /* check_common_ca overrides allow_self_signed. */
  cp.check_common_ca = 1;
  cp.pki_key.key.pem.ca_file = f("ca.pem");
  CHECK_INT_EQ(exchange(&cp), 0);
}

TEST(revoked_certificate_refused_with_revocation_checks) {
  server_pki = pem_setup("revoked.pem", "revoked.key", "ca.pem");
  server_pki.verify_peer_cert = 0;
  coap_dtls_pki_t cp = pem_setup(NULL, NULL, "ca_crl.pem");
  CHECK_INT_EQ(exchange(&cp), 1); /* no revocation check asked for */
  cp.check_cert_revocation = 1;
  CHECK_INT_EQ(exchange(&cp), 0);
  /* A CA without a CRL: refused, unless allow_no_crl. */
  server_pki = pem_setup("server.pem", "server.key", "ca.pem");
  server_pki.verify_peer_cert = 0;
  cp = pem_setup(NULL, NULL, "ca.pem");
  cp.check_cert_revocation = 1;
  CHECK_INT_EQ(exchange(&cp), 0);
  cp.allow_no_crl = 1;
  CHECK_INT_EQ(exchange(&cp), 1);
}

TEST(cn_callback_can_refuse) {
  server_pki = pem_setup("server.pem", "server.key", "ca.pem");
  server_pki.verify_peer_cert = 0;
  coap_dtls_pki_t cp = pem_setup(NULL, NULL, "ca.pem");
  cp.validate_cn_call_back = cn_cb;
  refuse_cn = 1;
  CHECK_INT_EQ(exchange(&cp), 0);
  refuse_cn = 0;
  CHECK_INT_EQ(exchange(&cp), 1);
}

TEST(root_cas_trust_without_a_common_ca) {
  server_pki = pem_setup("server.pem", "server.key", NULL);
  server_pki.verify_peer_cert = 0;
  dh_reset();
  uint16_t port = 0;
  coap_context_t *srv = dh_server(set_server_pki, &port);
  coap_context_t *cli = dh_client_ctx();
  CHECK_INT_EQ(coap_context_set_pki_root_cas(cli, f("ca.pem"), NULL), 1);
  CHECK_INT_EQ(coap_context_set_pki_root_cas(cli, f("missing.pem"), NULL), 0);
  coap_dtls_pki_t cp = pem_setup(NULL, NULL, NULL);
  cp.check_common_ca = 0;
  coap_address_t dst = dh_loopback(port);
  coap_session_t *s =
      coap_new_client_session_pki(cli, NULL, &dst, dh_proto, &cp);
  CHECK_NOT_NULL(s);
  CHECK_INT_EQ(dh_get(s, "hello"), 0);
  dh_pump(srv, cli, &dh_responses, 0, 3000);
  CHECK_INT_EQ(dh_responses, 1);
  coap_session_release(s);
  coap_free_context(cli);
  coap_free_context(srv);
}

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return NULL;
  uint8_t *buf = malloc(8192);
  *len = buf ? fread(buf, 1, 8192, fp) : 0;
  fclose(fp);
  return buf;
}

TEST(key_material_in_memory_pem_and_der) {
  size_t cl = 0, kl = 0, al = 0;
  uint8_t *cert = slurp(f("server.pem"), &cl);
  uint8_t *key = slurp(f("server.key"), &kl);
  uint8_t *ca = slurp(f("ca.pem"), &al);
  CHECK(cert && key && ca);
  memset(&server_pki, 0, sizeof(server_pki));
  server_pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  server_pki.pki_key.key_type = COAP_PKI_KEY_PEM_BUF;
  server_pki.pki_key.key.pem_buf =
      (coap_pki_key_pem_buf_t){ca, cert, key, al, cl, kl};
  coap_dtls_pki_t cp = pem_setup(NULL, NULL, "ca.pem");
  CHECK_INT_EQ(exchange(&cp), 1);
  free(cert), free(key), free(ca);
  /* DER: certificate, PKCS#8 key and CA. */
  cert = slurp(f("server.der"), &cl);
  key = slurp(f("server.key.der"), &kl);
  ca = slurp(f("ca.der"), &al);
  CHECK(cert && key && ca);
  server_pki.pki_key.key_type = COAP_PKI_KEY_ASN1;
  server_pki.pki_key.key.asn1 =
      (coap_pki_key_asn1_t){ca, cert, key, al, cl, kl, COAP_ASN1_PKEY_EC};
  CHECK_INT_EQ(exchange(&cp), 1);
  /* A truncated DER key is refused at setup. */
  server_pki.pki_key.key.asn1.private_key_len = kl / 2;
  coap_context_t *ctx = coap_new_context(NULL);
  CHECK_INT_EQ(coap_context_set_pki(ctx, &server_pki), 0);
  coap_free_context(ctx);
  free(cert), free(key), free(ca);
}

/* The server picks its certificate by the name the client asks for. */
static coap_dtls_key_t sni_key;
static char sni_seen[64];
static coap_dtls_key_t *pick_cert(const char *sni, void *arg) {
  (void)arg;
  snprintf(sni_seen, sizeof(sni_seen), "%s", sni);
  if (strcmp(sni, "localhost") != 0)
    return NULL;
  memset(&sni_key, 0, sizeof(sni_key));
  sni_key.key_type = COAP_PKI_KEY_PEM;
  sni_key.key.pem.public_cert = f("server.pem");
  sni_key.key.pem.private_key = f("server.key");
  return &sni_key;
}

TEST(sni_chooses_the_server_certificate) {
  /* By default the server shows the rogue certificate ... */
  server_pki = pem_setup("rogue.pem", "rogue.key", NULL);
  server_pki.verify_peer_cert = 0;
  server_pki.validate_sni_call_back = pick_cert;
  coap_dtls_pki_t cp = pem_setup(NULL, NULL, "ca.pem");
  CHECK_INT_EQ(exchange(&cp), 0);
  /* ... and the right one to a client asking for localhost. */
  cp.client_sni = "localhost";
  CHECK_INT_EQ(exchange(&cp), 1);
  CHECK_STR_EQ(sni_seen, "localhost");
  cp.client_sni = "elsewhere"; /* refused by the callback */
  CHECK_INT_EQ(exchange(&cp), 0);
}

TEST(unavailable_key_kinds_are_refused) {
  coap_context_t *ctx = coap_new_context(NULL);
  coap_dtls_pki_t p = pem_setup("server.pem", "server.key", "ca.pem");
  p.is_rpk_not_cert = 1;
  CHECK_INT_EQ(coap_context_set_pki(ctx, &p), 0);
  p.is_rpk_not_cert = 0;
  p.pki_key.key_type = COAP_PKI_KEY_PKCS11;
  CHECK_INT_EQ(coap_context_set_pki(ctx, &p), 0);
  p = pem_setup("server.pem", "server.key", "ca.pem");
  p.version = 0;
  CHECK_INT_EQ(coap_context_set_pki(ctx, &p), 0);
  p = pem_setup("missing.pem", "server.key", "ca.pem");
  CHECK_INT_EQ(coap_context_set_pki(ctx, &p), 0);
  p = pem_setup("server.pem", "client.key", "ca.pem"); /* key mismatch */
  CHECK_INT_EQ(coap_context_set_pki(ctx, &p), 0);
  coap_free_context(ctx);
}

int main(void) {
  coap_startup();
  if (getenv("TEST_DEBUG")) {
    coap_set_log_level(COAP_LOG_DEBUG);
    coap_dtls_set_log_level(COAP_LOG_DEBUG);
  }
  if (make_certs() < 0) {
    printf("cannot make test certificates with the openssl command\n");
    return 1;
  }
  static const coap_proto_t protos[] = {COAP_PROTO_DTLS, COAP_PROTO_TLS};
  for (int i = 0; i < 2; i++) {
    dh_proto = protos[i];
    printf("-- over %s\n", i == 0 ? "DTLS" : "TLS (coaps+tcp)");
    RUN(mutual_certificates_with_a_common_ca);
    RUN(mandatory_ecdsa_ccm8_suite_is_accepted);
    RUN(server_verifies_the_client_certificate);
    RUN(untrusted_server_certificate_fails_on_both_sides);
    RUN(expired_certificate_refused_unless_allowed);
    RUN(self_signed_refused_unless_allowed);
    RUN(revoked_certificate_refused_with_revocation_checks);
    RUN(cn_callback_can_refuse);
    RUN(root_cas_trust_without_a_common_ca);
    RUN(key_material_in_memory_pem_and_der);
    RUN(sni_chooses_the_server_certificate);
    RUN(unavailable_key_kinds_are_refused);
  }
  remove_certs();
  coap_cleanup();
  return TEST_SUMMARY();
}
