/*
 * dtls_opts.h -- the DTLS options coap-client and coap-server share, with
 * libcoap's letters and meanings, and what they set up through the public
 * API (coap_context_set_psk2(), coap_context_set_pki(),
 * coap_context_set_pki_root_cas(), coap_new_client_session_psk2(),
 * coap_new_client_session_pki()).
 *
 *   -k key     pre-shared key          -u identity  PSK identity (client)
 *   -h hint    server: PSK identity hint (default "CoAP")
 *   -h file    client: lines "hint,identity,key": when the server's
 *              identity hint is one of them, that identity and key are
 *              used instead of -u and -k (which still serve other hints)
 *   -i file    server: lines "hint,identity,key" choosing a key per client
 *   -s file    server: lines "sni,hint,key" choosing hint and key by SNI
 *   -c cert    PEM certificate (the key may be in the same file)
 *   -j key     PEM private key         -C cafile    CA of our certificate,
 *   -R file    trusted root CAs (file or directory)   trusted for the peer
 *   -n         do not verify the peer's certificate
 *   -S file    server: lines "sni,certfile,cafile" choosing a certificate
 *   -M file    raw public key: refused, OpenSSL has no RFC 7250 support
 *
 * Files of lines skip empty lines and lines starting with '#'.
 *
 * The strings in a tool_dtls are borrowed from argv, except the lines read
 * from files, which it owns until tool_dtls_free(); the context and the
 * sessions set up from it borrow it, so it must outlive them.
 */
#ifndef PETREL_TOOL_DTLS_OPTS_H
#define PETREL_TOOL_DTLS_OPTS_H

#include <coap3/coap.h>

#include <stddef.h>

#define TOOL_DTLS_MAX_MATCH 32

typedef struct tool_match {
  char *a, *b, *c; /* the three fields of a line (one allocation, in a) */
  coap_dtls_spsk_info_t info;
  coap_bin_const_t key;
  coap_dtls_key_t pki;
} tool_match;

typedef struct tool_dtls {
  const char *key, *identity, *hint;
  const char *cert, *keyfile, *ca, *roots;
  const char *rpk;
  int no_verify;
  tool_match id_match[TOOL_DTLS_MAX_MATCH]; /* -i */
  size_t n_id;
  tool_match psk_sni[TOOL_DTLS_MAX_MATCH]; /* -s */
  size_t n_psk_sni;
  tool_match pki_sni[TOOL_DTLS_MAX_MATCH]; /* -S */
  size_t n_pki_sni;
  tool_match hint_match[TOOL_DTLS_MAX_MATCH]; /* client -h */
  size_t n_hint;
} tool_dtls;

/* Frees the lines read from files (@d itself is the caller's). */
void tool_dtls_free(tool_dtls *d);

/* Takes DTLS option -@opt with value @v (NULL for -n); @server says which
 * tool's letters apply. Returns 1 if taken, 0 if @opt is not a DTLS option
 * for this tool, -1 on a bad value (an empty key, or a file that cannot be read
 * or, for the client's -h, holds no line). */
int tool_dtls_option(tool_dtls *d, char opt, const char *v, int server);

/* 1 if any credential was given. */
int tool_dtls_wanted(const tool_dtls *d);

/* Refuses what this build cannot do, saying so on stderr with @prog's
 * name. 0 if fine, else -1. */
int tool_dtls_check(const tool_dtls *d, const char *prog);

/* The client session for @dst over @proto with the credentials given: PSK
 * with -k, else PKI with -c/-C/-R, else none (also for @proto without
 * security). @host, the URI's host, is sent as SNI unless it is an IP
 * literal. The new session, or NULL. */
coap_session_t *tool_dtls_client(coap_context_t *ctx,
                                 const coap_address_t *local,
                                 const coap_address_t *dst, coap_proto_t proto,
                                 const coap_str_const_t *host,
                                 const tool_dtls *d);

/* Gives @ctx the server credentials of @d (PSK with -k, PKI with -c, the
 * trusted roots of -R). 0, or -1 (message printed). */
int tool_dtls_server(coap_context_t *ctx, tool_dtls *d);

#endif /* PETREL_TOOL_DTLS_OPTS_H */
