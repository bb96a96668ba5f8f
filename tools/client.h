/*
 * client.h -- the pieces of coap-client (coap-client.c): what the command
 * line asks for (client_options.c), how the request is built and where it
 * goes (client_request.c), and what is done with what comes back
 * (client_response.c).
 */
#ifndef PETREL_TOOL_CLIENT_H
#define PETREL_TOOL_CLIENT_H

#include <coap3/coap.h>

#include "dtls_opts.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>

/* The exit statuses (coap-client.c's header comment says when). */
enum {
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_ERROR_RESPONSE = 2,
  EXIT_TIMEOUT = 3,
  EXIT_UNDELIVERED = 4,
  EXIT_INCOMPLETE = 5,
};

#define MAX_TOKEN 24 /* RFC 8974 extended tokens, as libcoap's -T */
#define DEFAULT_WAIT 90
#define PROXY_URI_MAX 1034 /* RFC 7252 5.10.2 */

/* What the command line asks for. Strings are borrowed from argv except
 * payload, which is owned (it may come from a file). */
typedef struct {
  coap_pdu_code_t method;
  coap_pdu_type_t type;
  uint8_t *payload;
  size_t payload_len;
  int content_format;    /* -1: none */
  int accept;            /* -1: none */
  coap_optlist_t *extra; /* -O options, owned */
  uint8_t token[MAX_TOKEN];
  size_t token_len;
  int have_token;
  unsigned wait_seconds; /* -B */
  int wait_given;
  const char *output; /* -o, NULL: stdout */
  int output_dash;    /* -o -: stdout, without the final newline */
  int log_level;
  int dtls_log_level; /* -V */
  int block_size;     /* -b, 0: none */
  unsigned block_num;
  uint32_t block_mode;      /* -L */
  unsigned observe_seconds; /* -s, 0: no observe */
  int newline;              /* -w */
  const char *local_addr;   /* -a */
  const char *local_port;   /* -p */
  const char *loss;         /* -l */
  int reliable;             /* -r */
  unsigned repeat;          /* -G */
  unsigned hop_limit;       /* -H, 0: none */
  unsigned keepalive;       /* -K */
  const char *proxy;        /* -P */
  uint32_t csm_max;         /* -X */
  int no_uri_host;          /* -U */
  const char *uri;
  tool_dtls dtls; /* -k -u -c -j -C -R -n -M (dtls_opts.h) */
} client_opts_t;

/* What the handlers learn, reached through the context's app data. */
typedef struct {
  coap_bin_const_t token;
  FILE *out;
  int to_stdout; /* no -o: a newline ends the output, as libcoap's */
  int newline;
  int random_access; /* -b num,size with num > 0: that one block only */
  int done;          /* stop the loop */
  int finished;      /* the request in flight got its final answer */
  int status;        /* exit status so far */
  int failure;       /* the first request's failure of a -G run, or 0 */
  int got_response;
  int wrote;
  int observing;
  int notification; /* the body under way belongs to a notification */
  int mcast;        /* sent to a group: every member's answer counts */
  int rejected;     /* responses the library rejected (bad critical option) */
  int cancelling;   /* the observation's cancellation was sent */
  int partial;      /* COAP_EVENT_PARTIAL_BLOCK seen, not yet judged */
  coap_tick_t sent_at;
  /* the body so far (Block2 blocks in order), owned */
  uint8_t *body;
  size_t body_len, body_cap, body_total;
  char unix_path[64]; /* our socket's path, to a Unix socket server */
  /* the progress line */
  int tty;
  coap_tick_t transfer_start, progress_at;
  int progress_shown;
} client_state_t;

/* ---- client_options.c --------------------------------------------------- */

/* Fills @o from argv (strings borrowed from argv; o->payload and o->extra
 * owned, to be freed by the caller whatever the result, as is o->dtls).
 * Returns -1 to exit successfully (help, version), 0 on a usage error
 * (message printed), 1 to go on. */
int client_parse_args(int argc, char **argv, client_opts_t *o);

/* ---- client_request.c --------------------------------------------------- */

/* Opens the session the request goes over: the URI of @o split into
 * @uri (its strings point into o->uri), the server's (or -P's proxy's)
 * address resolved into @dst, from the local address of -a and -p, with
 * the credentials of o->dtls; over coap+ws and coaps+ws with the upgrade's
 * Host set. Its scheme and port are checked first (coap_split_uri() would
 * only refuse them). For a Unix socket server, st->unix_path names the
 * socket of ours, to be removed at the end. The session (the context's),
 * or NULL with the reason printed. */
coap_session_t *client_open_session(coap_context_t *ctx, client_opts_t *o,
                                    client_state_t *st, coap_uri_t *uri,
                                    coap_address_t *dst);

/* The options every request of this run carries (the chain is copied into
 * each request; it takes over o->extra). Returns 1 with the chain in *out
 * (NULL when the request has no options at all; the caller frees it), or 0
 * on failure. */
int client_build_options(client_opts_t *o, const coap_uri_t *uri,
                         const coap_address_t *dst, coap_optlist_t **out);

/* The next request of the run on @session with the options @opts (copied)
 * and the body of @o (borrowed until the context is freed); @first says
 * whether -T's token is used. A new PDU for coap_send(), or NULL. */
coap_pdu_t *client_build_request(coap_session_t *session, client_opts_t *o,
                                 coap_optlist_t **opts, int first);

/* ---- client_response.c -------------------------------------------------- */

#define PEER_TEXT (INET6_ADDRSTRLEN + 16)

/* Makes @st (borrowed for the context's life) the handlers' state and
 * registers the response, NACK and event handlers on @ctx. */
void client_handle_responses(coap_context_t *ctx, client_state_t *st);

/* The server's address as text ("[::1]:5683"), into @buf of PEER_TEXT. */
void client_peer_text(coap_session_t *session, char *buf);

/* Writes the body so far (a whole body, or what came before SIGINT) and
 * empties it. */
void client_write_body(client_state_t *st);

/* Redraws the progress line of a block-wise body, if it is due. */
void client_progress(client_state_t *st, coap_tick_t now);

/* Clears the progress line, if shown, and ends the transfer's timing. */
void client_progress_end(client_state_t *st);

#endif /* PETREL_TOOL_CLIENT_H */
