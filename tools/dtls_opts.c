/*
 * dtls_opts.c -- the DTLS options of coap-client and coap-server and the
 * credentials they set up (dtls_opts.h).
 */
#include "dtls_opts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads "a,b,c" lines of @path into @m. Returns the count, or -1. */
static int tool_dtls_read_matches(const char *path, tool_match *m) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char line[1024];
  int n = 0;
  while (n < TOOL_DTLS_MAX_MATCH && fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#')
      continue;
    char *a = strdup(line);
    char *b = a ? strchr(a, ',') : NULL;
    char *c = b ? strchr(b + 1, ',') : NULL;
    if (!c) {
      free(a);
      fclose(f);
      return -1;
    }
    *b++ = 0;
    *c++ = 0;
    m[n].a = a;
    m[n].b = b;
    m[n].c = c;
    n++;
  }
  fclose(f);
  return n;
}

void tool_dtls_free(tool_dtls *d) {
  for (size_t i = 0; i < d->n_id; i++)
    free(d->id_match[i].a);
  for (size_t i = 0; i < d->n_psk_sni; i++)
    free(d->psk_sni[i].a);
  for (size_t i = 0; i < d->n_pki_sni; i++)
    free(d->pki_sni[i].a);
  for (size_t i = 0; i < d->n_hint; i++)
    free(d->hint_match[i].a);
}

/* Takes DTLS option -@opt with value @v (NULL for -n). Returns 1 if taken,
 * 0 if @opt is not a DTLS option for this tool, -1 on a bad value. */
int tool_dtls_option(tool_dtls *d, char opt, const char *v, int server) {
  int n;
  switch (opt) {
  case 'k':
    d->key = v;
    return *v ? 1 : -1;
  case 'u':
    d->identity = v;
    return 1;
  case 'c':
    d->cert = v;
    return 1;
  case 'j':
    d->keyfile = v;
    return 1;
  case 'C':
    d->ca = v;
    return 1;
  case 'R':
    d->roots = v;
    return 1;
  case 'M':
    d->rpk = v;
    return 1;
  case 'n':
    d->no_verify = 1;
    return 1;
  default:
    break;
  }
  if (!server && opt == 'h') { /* a file with at least one line */
    n = tool_dtls_read_matches(v, d->hint_match);
    d->n_hint = n > 0 ? (size_t)n : 0;
    return n > 0 ? 1 : -1;
  }
  if (!server)
    return 0;
  switch (opt) {
  case 'h':
    d->hint = v;
    return 1;
  case 'i':
    n = tool_dtls_read_matches(v, d->id_match);
    d->n_id = n > 0 ? (size_t)n : 0;
    return n >= 0 ? 1 : -1;
  case 's':
    n = tool_dtls_read_matches(v, d->psk_sni);
    d->n_psk_sni = n > 0 ? (size_t)n : 0;
    return n >= 0 ? 1 : -1;
  case 'S':
    n = tool_dtls_read_matches(v, d->pki_sni);
    d->n_pki_sni = n > 0 ? (size_t)n : 0;
    return n >= 0 ? 1 : -1;
  default:
    return 0;
  }
}

/* 1 if any credential was given. */
int tool_dtls_wanted(const tool_dtls *d) {
  return d->key || d->cert || d->ca || d->roots || d->rpk;
}

/* Refuses what this build cannot do, saying so. 0 if fine, else -1. */
int tool_dtls_check(const tool_dtls *d, const char *prog) {
  if (d->rpk) {
    fprintf(stderr,
            "%s: -M: raw public keys (RFC 7250) are not available "
            "with this build's TLS library (OpenSSL)\n",
            prog);
    return -1;
  }
  if (d->n_hint && !d->key) {
    fprintf(stderr, "%s: -h needs -k (and -u) for the hints it does not name\n",
            prog);
    return -1;
  }
  if (tool_dtls_wanted(d) && !coap_dtls_is_supported()) {
    fprintf(stderr, "%s: DTLS options given, but this build lacks DTLS\n",
            prog);
    return -1;
  }
  return 0;
}

/* PKI setup from -c/-j/-C/-n: the peer is verified when -C or -R is given
 * (against -C alone, a common CA, unless -R widens the trust), unless -n. */
static coap_dtls_pki_t tool_dtls_pki(const tool_dtls *d) {
  coap_dtls_pki_t p;
  memset(&p, 0, sizeof(p));
  p.version = COAP_DTLS_PKI_SETUP_VERSION;
  p.verify_peer_cert = (d->ca || d->roots) && !d->no_verify;
  p.check_common_ca = d->ca && !d->roots;
  p.cert_chain_validation = 1;
  p.cert_chain_verify_depth = 2;
  p.check_cert_revocation = 1;
  p.allow_no_crl = 1;
  p.allow_expired_crl = 1;
  p.pki_key.key_type = COAP_PKI_KEY_PEM;
  p.pki_key.key.pem.public_cert = d->cert;
  p.pki_key.key.pem.private_key = d->keyfile ? d->keyfile : d->cert;
  p.pki_key.key.pem.ca_file = d->ca;
  return p;
}

/* ---- client ----------------------------------------------------------------
 */

/* 1 if @host is an IP literal (no SNI for those, RFC 6066 3). */
static int tool_dtls_is_ip(const coap_str_const_t *host) {
  for (size_t i = 0; i < host->length; i++)
    if (host->s[i] == ':')
      return 1;
  for (size_t i = 0; i < host->length; i++)
    if (!isdigit(host->s[i]) && host->s[i] != '.')
      return 0;
  return 1;
}

/* The server's identity hint @hint: the identity and key of the first -h
 * line naming it, else those of -u and -k (@arg's psk_info). */
static const coap_dtls_cpsk_info_t *
tool_dtls_ih_cb(coap_str_const_t *hint, coap_session_t *session, void *arg) {
  (void)session;
  const tool_dtls *d = arg;
  static coap_dtls_cpsk_info_t info; /* read by the library at once */
  for (size_t i = 0; i < d->n_hint; i++) {
    const tool_match *m = &d->hint_match[i];
    if (hint->length == strlen(m->a) &&
        memcmp(hint->s, m->a, hint->length) == 0) {
      coap_log_info("Identity Hint '%s' matched: identity '%s'\n", m->a, m->b);
      info.identity.s = (const uint8_t *)m->b;
      info.identity.length = strlen(m->b);
      info.key.s = (const uint8_t *)m->c;
      info.key.length = strlen(m->c);
      return &info;
    }
  }
  const char *id = d->identity ? d->identity : "";
  info.identity.s = (const uint8_t *)id;
  info.identity.length = strlen(id);
  info.key.s = (const uint8_t *)d->key;
  info.key.length = strlen(d->key);
  return &info;
}

/* The client session for @dst over @proto with the credentials given:
 * PSK with -k, else PKI with -c/-C/-R, else none. */
coap_session_t *tool_dtls_client(coap_context_t *ctx,
                                 const coap_address_t *local,
                                 const coap_address_t *dst, coap_proto_t proto,
                                 const coap_str_const_t *host,
                                 const tool_dtls *d) {
  if ((proto != COAP_PROTO_DTLS && proto != COAP_PROTO_TLS &&
       proto != COAP_PROTO_WSS) ||
      !tool_dtls_wanted(d))
    return coap_new_client_session(ctx, local, dst, proto);
  char sni[256] = "";
  if (host && !tool_dtls_is_ip(host) && host->length < sizeof(sni))
    memcpy(sni, host->s, host->length);
  if (d->roots && !coap_context_set_pki_root_cas(ctx, d->roots, NULL))
    return NULL;
  if (d->key) {
    coap_dtls_cpsk_t cp;
    memset(&cp, 0, sizeof(cp));
    cp.version = COAP_DTLS_CPSK_SETUP_VERSION;
    cp.client_sni = sni[0] ? sni : NULL;
    const char *id = d->identity ? d->identity : "";
    cp.psk_info.identity.s = (const uint8_t *)id;
    cp.psk_info.identity.length = strlen(id);
    cp.psk_info.key.s = (const uint8_t *)d->key;
    cp.psk_info.key.length = strlen(d->key);
    if (d->n_hint) {
      cp.validate_ih_call_back = tool_dtls_ih_cb;
      cp.ih_call_back_arg = (void *)d; /* only read */
    }
    return coap_new_client_session_psk2(ctx, local, dst, proto, &cp);
  }
  coap_dtls_pki_t p = tool_dtls_pki(d);
  p.client_sni = sni[0] ? sni : NULL;
  return coap_new_client_session_pki(ctx, local, dst, proto, &p);
}

/* ---- server
 * ------------------------------------------------------------------ */

static const coap_bin_const_t *tool_dtls_id_cb(coap_bin_const_t *identity,
                                               coap_session_t *session,
                                               void *arg) {
  tool_dtls *d = arg;
  const coap_bin_const_t *hint = coap_session_get_psk_hint(session);
  for (size_t i = 0; i < d->n_id; i++) {
    tool_match *m = &d->id_match[i];
    size_t hl = strlen(m->a), il = strlen(m->b);
    int hint_ok =
        !hl || (hint && hint->length == hl && memcmp(hint->s, m->a, hl) == 0);
    if (hint_ok && identity->length == il &&
        memcmp(identity->s, m->b, il) == 0) {
      m->key.s = (const uint8_t *)m->c;
      m->key.length = strlen(m->c);
      return &m->key;
    }
  }
  static coap_bin_const_t key;
  key.s = (const uint8_t *)d->key;
  key.length = strlen(d->key);
  return &key;
}

static const coap_dtls_spsk_info_t *
tool_dtls_psk_sni_cb(const char *sni, coap_session_t *session, void *arg) {
  (void)session;
  tool_dtls *d = arg;
  for (size_t i = 0; i < d->n_psk_sni; i++) {
    tool_match *m = &d->psk_sni[i];
    if (strcmp(sni, m->a) == 0) {
      m->info.hint.s = (const uint8_t *)m->b;
      m->info.hint.length = strlen(m->b);
      m->info.key.s = (const uint8_t *)m->c;
      m->info.key.length = strlen(m->c);
      return &m->info;
    }
  }
  static coap_dtls_spsk_info_t dflt;
  const char *hint = d->hint ? d->hint : "CoAP";
  dflt.hint.s = (const uint8_t *)hint;
  dflt.hint.length = strlen(hint);
  dflt.key.s = (const uint8_t *)d->key;
  dflt.key.length = strlen(d->key);
  return &dflt;
}

static coap_dtls_key_t *tool_dtls_pki_sni_cb(const char *sni, void *arg) {
  tool_dtls *d = arg;
  for (size_t i = 0; i < d->n_pki_sni; i++) {
    tool_match *m = &d->pki_sni[i];
    if (strcmp(sni, m->a) == 0) {
      memset(&m->pki, 0, sizeof(m->pki));
      m->pki.key_type = COAP_PKI_KEY_PEM;
      m->pki.key.pem.public_cert = m->b;
      m->pki.key.pem.private_key = m->b;
      m->pki.key.pem.ca_file = m->c;
      return &m->pki;
    }
  }
  static coap_dtls_key_t dflt;
  memset(&dflt, 0, sizeof(dflt));
  dflt.key_type = COAP_PKI_KEY_PEM;
  dflt.key.pem.public_cert = d->cert;
  dflt.key.pem.private_key = d->keyfile ? d->keyfile : d->cert;
  dflt.key.pem.ca_file = d->ca;
  return &dflt;
}

/* Gives @ctx the server credentials of @d. 0, or -1 (message printed). */
int tool_dtls_server(coap_context_t *ctx, tool_dtls *d) {
  if (d->key) {
    coap_dtls_spsk_t sp;
    memset(&sp, 0, sizeof(sp));
    sp.version = COAP_DTLS_SPSK_SETUP_VERSION;
    const char *hint = d->hint ? d->hint : "CoAP";
    sp.psk_info.hint.s = (const uint8_t *)hint;
    sp.psk_info.hint.length = strlen(hint);
    sp.psk_info.key.s = (const uint8_t *)d->key;
    sp.psk_info.key.length = strlen(d->key);
    if (d->n_id) {
      sp.validate_id_call_back = tool_dtls_id_cb;
      sp.id_call_back_arg = d;
    }
    if (d->n_psk_sni) {
      sp.validate_sni_call_back = tool_dtls_psk_sni_cb;
      sp.sni_call_back_arg = d;
    }
    if (!coap_context_set_psk2(ctx, &sp)) {
      fprintf(stderr, "coap-server: the PSK setup was refused\n");
      return -1;
    }
  }
  if (d->roots && !coap_context_set_pki_root_cas(ctx, d->roots, NULL)) {
    fprintf(stderr, "coap-server: cannot load trusted CAs from %s\n", d->roots);
    return -1;
  }
  if (d->cert) {
    coap_dtls_pki_t p = tool_dtls_pki(d);
    if (d->n_pki_sni) {
      p.validate_sni_call_back = tool_dtls_pki_sni_cb;
      p.sni_call_back_arg = d;
    }
    if (!coap_context_set_pki(ctx, &p)) {
      fprintf(stderr, "coap-server: the certificate setup was refused\n");
      return -1;
    }
  }
  return 0;
}
