/*
 * server_listen.c -- where coap-server listens: UDP and TCP on -p's port,
 * DTLS and TLS on the next with credentials, and with -w coap+ws and
 * coaps+ws; each endpoint said on stderr ("coap-server: listening ...").
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The address to listen on: -A (a host, or with -U a socket path) and -p. */
static int listen_address(const server_opts_t *o, coap_address_t *addr) {
  if (o->unix_socket) {
    coap_address_init(addr);
    if (!coap_address_set_unix_domain(addr, (const uint8_t *)o->addr,
                                      strlen(o->addr))) {
      fprintf(stderr,
              "coap-server: '%s' is too long for a socket path (at most "
              "%zu bytes)\n",
              o->addr, (size_t)COAP_UNIX_PATH_MAX - 1);
      return 0;
    }
    return 1;
  }
  coap_str_const_t host = {strlen(o->addr), (const uint8_t *)o->addr};
  coap_addr_info_t *info = coap_resolve_address_info(
      &host, COAP_DEFAULT_PORT, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT,
      COAP_RESOLVE_TYPE_LOCAL);
  if (!info) {
    fprintf(stderr, "coap-server: cannot resolve '%s'\n", o->addr);
    return 0;
  }
  coap_address_copy(addr, &info->addr);
  coap_free_address_info(info);
  coap_address_set_port(addr, (uint16_t)o->port); /* 0 stays 0: ephemeral */
  return 1;
}

/* @proto (coap+tcp, or coaps+tcp) on the port of the datagram endpoint
 * described by @udp_desc ("ADDR:PORT UDP", or DTLS), as libcoap's server
 * listens on both. The endpoint, or NULL with errno set. */
static coap_endpoint_t *listen_tcp(coap_context_t *ctx, coap_address_t addr,
                                   const char *udp_desc, coap_proto_t proto) {
  const char *sp = strchr(udp_desc, ' ');
  const char *colon = sp ? udp_desc : NULL;
  for (const char *p = udp_desc; sp && p < sp; p++)
    if (*p == ':')
      colon = p;
  coap_address_set_port(&addr, colon ? (uint16_t)atoi(colon + 1) : 0);
  errno = 0;
  return coap_new_endpoint(ctx, &addr, proto);
}

/* Prints "coap-server: listening on ADDR:PORT" for @ep. */
static void say_listening(const char *what, coap_endpoint_t *ep) {
  const char *desc = coap_endpoint_str(ep);
  fprintf(stderr, "coap-server: listening %s%.*s\n", what,
          (int)strcspn(desc, " "), desc);
}

/* The datagram endpoint @dgram on @addr into eps[0] and, unless @stream
 * is COAP_PROTO_NONE, the stream endpoint @stream on its port into eps[1]
 * (else NULL). With @any_port (-p 0) the port the kernel picks for the
 * first may be taken for the second: then another is tried, a few times.
 * Returns 1, 0 when the datagram endpoint failed, -1 when the stream one
 * did; errno then says why (0: the library refused the address). */
static int listen_pair(coap_context_t *ctx, const coap_address_t *addr,
                       int any_port, coap_proto_t dgram, coap_proto_t stream,
                       coap_endpoint_t *eps[2]) {
  for (int attempt = 0;; attempt++) {
    errno = 0;
    eps[0] = coap_new_endpoint(ctx, addr, dgram);
    if (!eps[0])
      return 0;
    eps[1] = stream != COAP_PROTO_NONE
                 ? listen_tcp(ctx, *addr, coap_endpoint_str(eps[0]), stream)
                 : NULL;
    if (stream == COAP_PROTO_NONE || eps[1])
      return 1;
    if (!any_port || errno != EADDRINUSE || attempt >= 16)
      return -1;
    coap_free_endpoint(eps[0]); /* that port is taken for TCP: another */
  }
}

/* Says that the stream endpoint @what (coap+tcp, coaps+tcp) failed. */
static void stream_failed(const char *what, int err) {
  fprintf(stderr, "coap-server: cannot listen for %s: %s\n", what,
          err ? strerror(err) : "the library refused the address");
}

/* The UDP endpoint, and TCP on its port when TCP is built. Returns 0, or
 * -1 (message printed). */
static int listen_coap(coap_context_t *ctx, const server_opts_t *o) {
  coap_address_t addr;
  if (!listen_address(o, &addr))
    return -1;
  int want_tcp = !o->unix_socket && coap_tcp_is_supported();
  coap_endpoint_t *eps[2];
  int r = listen_pair(ctx, &addr, o->port == 0, COAP_PROTO_UDP,
                      want_tcp ? COAP_PROTO_TCP : COAP_PROTO_NONE, eps);
  if (r == 0) {
    int err = errno;
    fprintf(stderr, "coap-server: cannot listen on %s%s%s port %u: %s\n",
            strchr(o->addr, ':') ? "[" : "", o->addr,
            strchr(o->addr, ':') ? "]" : "", o->port,
            err == EADDRINUSE ? "the port is in use (is another server "
                                "running there?)"
            : err             ? strerror(err)
                              : "the library refused the address");
    return -1;
  }
  if (r < 0) {
    stream_failed("coap+tcp", errno);
    return -1;
  }
  say_listening("on ", eps[0]);
  if (eps[1])
    say_listening("for coap+tcp on ", eps[1]);
  fflush(stderr);
  return 0;
}

/* With credentials, a coaps endpoint beside the coap one, and coaps+tcp
 * on its port when TLS is built: on the next port, as libcoap's server
 * does, or a free one with -p 0. Returns 0, or -1 (message printed). */
static int listen_coaps(coap_context_t *ctx, server_opts_t *o) {
  if (!tool_dtls_wanted(&o->dtls))
    return 0;
  if (tool_dtls_server(ctx, &o->dtls) < 0)
    return -1;
  coap_str_const_t host = {strlen(o->addr), (const uint8_t *)o->addr};
  coap_addr_info_t *info = coap_resolve_address_info(
      &host, COAP_DEFAULT_PORT, 0, 0, 0, 0, COAP_URI_SCHEME_COAP_BIT,
      COAP_RESOLVE_TYPE_LOCAL);
  if (!info)
    return -1;
  coap_address_t addr;
  coap_address_copy(&addr, &info->addr);
  coap_free_address_info(info);
  coap_address_set_port(&addr, o->port ? (uint16_t)(o->port + 1) : 0);
  int want_tls = !o->unix_socket && coap_tls_is_supported();
  coap_endpoint_t *eps[2];
  int r = listen_pair(ctx, &addr, o->port == 0, COAP_PROTO_DTLS,
                      want_tls ? COAP_PROTO_TLS : COAP_PROTO_NONE, eps);
  if (r == 0) {
    fprintf(stderr, "coap-server: cannot listen for coaps\n");
    return -1;
  }
  if (r < 0) {
    stream_failed("coaps+tcp", errno);
    return -1;
  }
  say_listening("for coaps on ", eps[0]);
  if (eps[1])
    say_listening("for coaps+tcp on ", eps[1]);
  fflush(stderr);
  return 0;
}

/* With -w and credentials, a coaps+ws endpoint on @addr's address and the
 * secure port. Where the port was not named (443 by default), failing to
 * listen there is a warning, as in libcoap's server, which goes on with
 * the endpoints it has. Returns 0, or -1 (message printed). */
static int listen_wss(coap_context_t *ctx, const server_opts_t *o,
                      coap_address_t addr) {
  if (!tool_dtls_wanted(&o->dtls)) {
    if (o->wss_given)
      fprintf(stderr,
              "coap-server: -w: coaps+ws on port %d needs -k or -c; "
              "not listening for it\n",
              o->wss_port);
    return 0;
  }
  coap_address_set_port(&addr, (uint16_t)o->wss_port);
  errno = 0;
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_WSS);
  if (!ep) {
    fprintf(stderr, "coap-server: %s listen for coaps+ws on port %d: %s\n",
            o->wss_given ? "cannot" : "warning: did not", o->wss_port,
            errno ? strerror(errno) : "refused by the library");
    return o->wss_given ? -1 : 0;
  }
  say_listening("for coaps+ws on ", ep);
  return 0;
}

/* With -w, a coap+ws endpoint on its port (0: a free one), and coaps+ws
 * with credentials (listen_wss()). Returns 0, or -1 (message printed). */
static int listen_ws(coap_context_t *ctx, const server_opts_t *o) {
  if (o->ws_port < 0)
    return 0;
  coap_address_t addr;
  if (o->unix_socket) {
    fprintf(stderr, "coap-server: -w: coap+ws over a Unix socket is not "
                    "served by this coap-server\n");
    return -1;
  }
  if (!listen_address(o, &addr))
    return -1;
  coap_address_set_port(&addr, (uint16_t)o->ws_port);
  errno = 0;
  coap_endpoint_t *ep = coap_new_endpoint(ctx, &addr, COAP_PROTO_WS);
  if (!ep) {
    fprintf(stderr, "coap-server: cannot listen for coap+ws on port %d: %s\n",
            o->ws_port, errno ? strerror(errno) : "refused by the library");
    return -1;
  }
  say_listening("for coap+ws on ", ep);
  int rc = listen_wss(ctx, o, addr);
  fflush(stderr);
  return rc;
}

int server_listen(coap_context_t *ctx, server_opts_t *o) {
  return listen_coap(ctx, o) == 0 && listen_coaps(ctx, o) == 0 &&
         listen_ws(ctx, o) == 0;
}
