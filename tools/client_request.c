/*
 * client_request.c -- where coap-client's request goes and what it carries:
 * the URI's scheme and port checked, the host resolved, the local address
 * of -a and -p, and the request's options, token and body.
 */
#include "client.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- building the request ----------------------------------------------- */

static int add_uint_option(coap_optlist_t **chain, uint16_t number,
                           unsigned value) {
  uint8_t buf[4];
  unsigned len = coap_encode_var_safe(buf, sizeof(buf), value);
  return coap_insert_optlist(chain, coap_new_optlist(number, len, buf));
}

/* The options every request of this run carries (the chain is copied into
 * each request). Returns 1 with the chain in *out (NULL when the request
 * has no options at all), or 0 on failure. */
int client_build_options(client_opts_t *o, const coap_uri_t *uri,
                         const coap_address_t *dst, coap_optlist_t **out) {
  coap_optlist_t *opts = o->extra; /* the chain takes them over */
  o->extra = NULL;
  uint8_t scratch[256];
  int ok = 1;
  if (o->proxy) /* RFC 7252 5.10.2: the whole URI, for the proxy to use */
    ok = coap_insert_optlist(&opts, coap_new_optlist(COAP_OPTION_PROXY_URI,
                                                     strlen(o->uri),
                                                     (const uint8_t *)o->uri));
  else
    ok = coap_uri_into_options(uri, dst, &opts, !o->no_uri_host, scratch,
                               sizeof(scratch)) == 0;
  if (ok && o->observe_seconds)
    ok = add_uint_option(&opts, COAP_OPTION_OBSERVE, COAP_OBSERVE_ESTABLISH);
  if (ok && o->content_format >= 0 && o->payload)
    ok = add_uint_option(&opts, COAP_OPTION_CONTENT_FORMAT,
                         (unsigned)o->content_format);
  if (ok && o->accept >= 0)
    ok = add_uint_option(&opts, COAP_OPTION_ACCEPT, (unsigned)o->accept);
  if (ok && o->hop_limit)
    ok = add_uint_option(&opts, COAP_OPTION_HOP_LIMIT, o->hop_limit);
  if (ok && o->block_size) {
    /* -b: the block size we ask for. A body to send goes in Block1 blocks
     * (the library sends them from block 0); otherwise Block2 asks for the
     * response in blocks, starting at block num. */
    unsigned szx = 0;
    while ((16u << szx) < (unsigned)o->block_size)
      szx++;
    if (o->payload_len > (size_t)o->block_size)
      ok = add_uint_option(&opts, COAP_OPTION_BLOCK1, szx);
    else if (!o->payload_len)
      ok = add_uint_option(&opts, COAP_OPTION_BLOCK2, o->block_num << 4 | szx);
  }
  if (!ok) {
    coap_delete_optlist(opts);
    return 0;
  }
  *out = opts; /* NULL for a request without options (GET coap://h/) */
  return 1;
}

/* The token of the next request: -T's for the first, then new ones from
 * the library (an extended -T token keeps its first bytes, as libcoap's
 * client does). */
static void next_token(coap_session_t *session, client_opts_t *o, int first) {
  uint8_t fresh[8];
  size_t len = 0;
  if (first && o->have_token)
    return;
  coap_session_new_token(session, &len, fresh);
  if (o->token_len > sizeof(fresh)) {
    memcpy(o->token + o->token_len - len, fresh, len);
  } else {
    memcpy(o->token, fresh, len);
    o->token_len = len;
  }
}

coap_pdu_t *client_build_request(coap_session_t *session, client_opts_t *o,
                                 coap_optlist_t **opts, int first) {
  coap_pdu_t *pdu =
      coap_pdu_init(o->type, o->method, coap_new_message_id(session),
                    coap_session_max_pdu_size(session));
  if (!pdu)
    return NULL;
  next_token(session, o, first);
  int ok = coap_add_token(pdu, o->token_len, o->token) &&
           coap_add_optlist_pdu(pdu, opts);
  /* Last change before coap_send(): the library sends a body larger than
   * one message (or than the -b block size) in Block1 blocks. The body is
   * borrowed; o->payload outlives the context, whose end releases it. */
  if (ok && o->payload_len)
    ok = coap_add_data_large_request(session, pdu, o->payload_len, o->payload,
                                     NULL, NULL);
  if (!ok) {
    coap_delete_pdu(pdu);
    return NULL;
  }
  return pdu;
}

/* ---- the URI ------------------------------------------------------------ */

/* The plain reason a URI's scheme cannot be used, when its transport is
 * not in this build of the library or the scheme is not CoAP's; NULL
 * otherwise. */
static const char *missing_transport(const char *uri) {
  static const struct {
    const char *prefix;
    int (*built)(void);
    const char *why;
  } schemes[] = {
      {"coap://", NULL, NULL},
      {"coaps://", coap_dtls_is_supported, "coaps:// needs DTLS"},
      {"coap+tcp://", coap_tcp_is_supported, "coap+tcp:// needs TCP"},
      {"coaps+tcp://", coap_tls_is_supported, "coaps+tcp:// needs TLS"},
      {"coap+ws://", coap_ws_is_supported, "coap+ws:// needs WebSockets"},
      {"coaps+ws://", coap_wss_is_supported,
       "coaps+ws:// needs secure WebSockets"},
  };
  for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
    if (strncasecmp(uri, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
      return !schemes[i].built || schemes[i].built() ? NULL : schemes[i].why;
  return NULL;
}

/* Checks what coap_split_uri() would only refuse: the scheme and the port.
 * Returns 1, or 0 with the reason printed. */
static int check_uri(const char *what, const char *uri) {
  const char *sep = strstr(uri, "://");
  if (!sep) {
    fprintf(stderr, "coap-client: %s '%s' has no scheme (coap://host/path)\n",
            what, uri);
    return 0;
  }
  const char *missing = missing_transport(uri);
  if (missing) {
    fprintf(stderr, "coap-client: %s, which this build lacks\n", missing);
    return 0;
  }
  static const char *known[] = {"coap",      "coaps",   "coap+tcp",
                                "coaps+tcp", "coap+ws", "coaps+ws"};
  int scheme_ok = 0;
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    if (strlen(known[i]) == (size_t)(sep - uri) &&
        strncasecmp(uri, known[i], (size_t)(sep - uri)) == 0)
      scheme_ok = 1;
  if (!scheme_ok) {
    fprintf(stderr,
            "coap-client: unsupported URI scheme '%.*s' in '%s' (use "
            "coap://)\n",
            (int)(sep - uri), uri, uri);
    return 0;
  }
  /* The port: after the host ("[v6]" or up to ':' '/' '?'). */
  const char *p = sep + 3;
  if (*p == '[')
    p = strchr(p, ']') ? strchr(p, ']') + 1 : p + strlen(p);
  else
    p += strcspn(p, ":/?");
  if (*p == ':') {
    const char *digits = p + 1;
    size_t n = strspn(digits, "0123456789");
    unsigned long port = strtoul(digits, NULL, 10);
    if (n == 0 || n > 5 || port == 0 || port > 65535 ||
        (digits[n] && digits[n] != '/' && digits[n] != '?')) {
      fprintf(stderr,
              "coap-client: port '%.*s' in %s '%s' is not a port "
              "number (1 to 65535)\n",
              (int)strcspn(digits, "/?"), digits, what, uri);
      return 0;
    }
  }
  return 1;
}

/* Resolves @host:@port for @scheme into dst; returns the protocol, or
 * COAP_PROTO_NONE with the reason printed. */
static coap_proto_t resolve(const coap_str_const_t *host, uint16_t port,
                            coap_uri_scheme_t scheme, coap_address_t *dst) {
  coap_addr_info_t *info = coap_resolve_address_info(
      host, port, port, port, port, 0, 1 << scheme, COAP_RESOLVE_TYPE_REMOTE);
  if (!info) {
    /* Only for the message: ask the resolver why. */
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)host->length,
             (const char *)host->s);
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (res)
      freeaddrinfo(res);
    fprintf(stderr, "coap-client: cannot resolve host '%s': %s\n", name,
            rc ? gai_strerror(rc) : "no address for this scheme");
    return COAP_PROTO_NONE;
  }
  coap_address_copy(dst, &info->addr);
  coap_proto_t proto = info->proto;
  coap_free_address_info(info);
  return proto;
}

/* -a and -p: the local address to send from, of dst's family. */
static int local_address(const client_opts_t *o, const coap_address_t *dst,
                         coap_address_t *local) {
  unsigned port = o->local_port ? (unsigned)atoi(o->local_port) : 0;
  if (o->local_addr) {
    coap_str_const_t host = {strlen(o->local_addr),
                             (const uint8_t *)o->local_addr};
    coap_addr_info_t *info = coap_resolve_address_info(
        &host, (uint16_t)port, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT,
        COAP_RESOLVE_TYPE_LOCAL);
    if (!info) {
      fprintf(stderr, "coap-client: cannot resolve local address '%s'\n",
              o->local_addr);
      return 0;
    }
    coap_address_copy(local, &info->addr);
    coap_free_address_info(info);
  } else {
    coap_address_init(local);
    local->addr.sa.sa_family = dst->addr.sa.sa_family;
    local->size = dst->size;
  }
  coap_address_set_port(local, (uint16_t)port);
  return 1;
}

/* Splits the URI into @uri and returns the URI the request goes to: @uri,
 * or -P's split into @proxy, with -r's scheme. NULL with the reason
 * printed. */
static coap_uri_t *parse_target(const client_opts_t *o, coap_uri_t *uri,
                                coap_uri_t *proxy) {
  if (!check_uri("URI", o->uri) ||
      (o->proxy && !check_uri("proxy URI", o->proxy)))
    return NULL;
  if (coap_split_uri((const uint8_t *)o->uri, strlen(o->uri), uri) < 0) {
    fprintf(stderr, "coap-client: cannot parse URI '%s'\n", o->uri);
    return NULL;
  }
  coap_uri_t *target = uri;
  if (o->proxy) {
    if (coap_split_uri((const uint8_t *)o->proxy, strlen(o->proxy), proxy) <
            0 ||
        proxy->path.length || proxy->query.length) {
      fprintf(stderr, "coap-client: bad proxy '%s' (scheme://addr[:port])\n",
              o->proxy);
      return NULL;
    }
    if (strlen(o->uri) > PROXY_URI_MAX) {
      fprintf(stderr,
              "coap-client: a URI sent to a proxy has at most %d "
              "bytes\n",
              PROXY_URI_MAX);
      return NULL;
    }
    target = proxy;
  }
  if (o->reliable && target->scheme == COAP_URI_SCHEME_COAP)
    target->scheme = COAP_URI_SCHEME_COAP_TCP;
  if (o->reliable && target->scheme == COAP_URI_SCHEME_COAPS)
    target->scheme = COAP_URI_SCHEME_COAPS_TCP;
  return target;
}

/* The local address to send from into @local: -a and -p's, or for a Unix
 * socket server a path of our own (st->unix_path, removed at the end).
 * Returns 1 to use it, 0 to let the library choose, -1 on an error
 * (message printed). */
static int choose_local(const client_opts_t *o, client_state_t *st,
                        const coap_address_t *dst, coap_address_t *local) {
  if (o->local_addr || o->local_port)
    return local_address(o, dst, local) ? 1 : -1;
  if (!coap_is_af_unix(dst))
    return 0;
  /* A Unix datagram socket is answered only at a path of its own. */
  snprintf(st->unix_path, sizeof(st->unix_path), "/tmp/coap-client.%ld",
           (long)getpid());
  unlink(st->unix_path);
  coap_address_init(local);
  return coap_address_set_unix_domain(local, (const uint8_t *)st->unix_path,
                                      strlen(st->unix_path));
}

coap_session_t *client_open_session(coap_context_t *ctx, client_opts_t *o,
                                    client_state_t *st, coap_uri_t *uri,
                                    coap_address_t *dst) {
  coap_uri_t proxy;
  coap_address_t local;
  coap_uri_t *target = parse_target(o, uri, &proxy);
  if (!target)
    return NULL;
  coap_str_const_t host = {target->host.length, target->host.s};
  coap_proto_t proto = resolve(&host, target->port, target->scheme, dst);
  if (proto == COAP_PROTO_NONE)
    return NULL;
  int use_local = choose_local(o, st, dst, &local);
  if (use_local < 0)
    return NULL;
  coap_session_t *session =
      tool_dtls_client(ctx, use_local ? &local : NULL, dst, proto,
                       (const coap_str_const_t *)&uri->host, &o->dtls);
  if (!session) {
    fprintf(stderr, "coap-client: cannot create a session to %s%s\n",
            o->proxy ? o->proxy : o->uri,
            use_local ? " from the local address asked for" : "");
    return NULL;
  }
  /* coap+ws, coaps+ws: the upgrade's Host is the URI's host (or the
   * proxy's). */
  if ((proto == COAP_PROTO_WS || proto == COAP_PROTO_WSS) &&
      target->host.length && !coap_ws_set_host_request(session, &host)) {
    fprintf(stderr, "coap-client: bad host '%.*s' for a WebSocket upgrade\n",
            (int)target->host.length, (const char *)target->host.s);
    coap_session_release(session);
    return NULL;
  }
  return session;
}
