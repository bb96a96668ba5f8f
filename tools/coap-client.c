/*
 * coap-client: send a CoAP request and print the answer.
 *
 * A thin command line over the public API with libcoap 4.3.4's coap-client
 * option letters and meanings (see doc/man/coap-client.1 and the usage
 * text in client_options.c).
 *
 * The argument parsing is in client_options.c, one case per option letter;
 * everything after it is the library doing the work: split the URI,
 * resolve it and open a session (client_request.c), build and send the
 * request, run the event loop (here) until the response handler or the
 * NACK handler (client_response.c) says we are done, or -B seconds pass.
 *
 * Output is what libcoap's coap-client writes: each 2.xx payload (a
 * newline after each with -w), a newline at the end when writing to
 * standard output without -o, and an error response on standard error as
 * "C.DD" and its payload (unprintable bytes as '.').
 *
 * Exit status: 0 on a 2.xx response, 1 on a usage or setup error, 2 on a
 * 4.xx/5.xx response, 3 when no response came in time, 4 when the request
 * could not be delivered (NACK: peer unreachable, too many retransmissions,
 * Reset), 5 when a block-wise body could not be sent or received whole
 * (COAP_EVENT_XMIT_BLOCK_FAIL, COAP_EVENT_PARTIAL_BLOCK: nothing is written
 * as the body). SIGINT or SIGTERM ends the run as libcoap's does, with 0
 * (2 if an error response had come): what was received of a body so far is
 * written out and an observation is cancelled first.
 */
#include "client.h"
#include "tool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

/* ---- running ------------------------------------------------------------ */

/* RFC 8323 5.3: over TCP the server's CSM says how large a message it
 * takes and whether it does BERT, and a request body is cut to fit it; so
 * the first request waits for it, as libcoap's client does (at most @wait
 * seconds; a connection that fails ends the wait). */
static void await_csm(coap_context_t *ctx, coap_session_t *session,
                      unsigned wait) {
  if (!COAP_PROTO_RELIABLE(coap_session_get_proto(session)))
    return;
  coap_tick_t start, t;
  coap_ticks(&start);
  while (coap_session_get_state(session) == COAP_SESSION_STATE_CSM &&
         !interrupted) {
    coap_ticks(&t);
    if (t - start >= (coap_tick_t)wait * COAP_TICKS_PER_SECOND ||
        coap_io_process(ctx, 100) < 0)
      break;
  }
}

/* Sends the next request of the run. Returns 1, or 0 with the reason
 * printed (st->status set). */
static int send_request(coap_session_t *session, client_opts_t *o,
                        client_state_t *st, coap_optlist_t **opts, int first) {
  coap_pdu_t *pdu = client_build_request(session, o, opts, first);
  if (!pdu) {
    fprintf(stderr, "coap-client: cannot build the request\n");
    st->status = EXIT_USAGE;
    return 0;
  }
  st->token.s = o->token;
  st->token.length = o->token_len;
  st->finished = 0;
  coap_ticks(&st->sent_at);
  if (coap_send(session, pdu) == COAP_INVALID_MID) {
    if (COAP_PROTO_RELIABLE(coap_session_get_proto(session)) &&
        coap_session_get_state(session) == COAP_SESSION_STATE_NONE) {
      char peer[PEER_TEXT];
      client_peer_text(session, peer);
      fprintf(stderr,
              "coap-client: cannot send the request: the connection to %s "
              "failed or was closed (refused, unreachable, or its handshake "
              "failed)\n",
              peer);
    } else
      fprintf(stderr, "coap-client: cannot send the request\n");
    st->status = EXIT_UNDELIVERED;
    return 0;
  }
  return 1;
}

/* A Block2 body went wrong: if the library gave it up (nothing is pending
 * any more) the run fails; if it asked for the body again, the blocks so
 * far are dropped and the transfer goes on. */
static void judge_partial(coap_context_t *ctx, client_state_t *st) {
  st->partial = 0;
  st->body_len = 0;
  if (st->done || st->finished || coap_io_pending(ctx))
    return; /* the error that ended it was printed, or a restart is on */
  client_progress_end(st);
  fprintf(stderr, "coap-client: block-wise transfer failed: the response "
                  "body was not received whole\n");
  st->status = EXIT_INCOMPLETE;
  st->done = 1;
}

/* Runs the loop until the handlers are done, the deadline passes or a
 * signal comes; with -G, sends the next request a second after the last
 * one once it has been answered. */
static void run(coap_context_t *ctx, coap_session_t *session, client_opts_t *o,
                client_state_t *st, coap_optlist_t **opts, unsigned seconds,
                unsigned *to_send) {
  coap_tick_t now, end;
  coap_ticks(&now);
  end = now + (coap_tick_t)seconds * COAP_TICKS_PER_SECOND;
  while (!st->done && !interrupted && now < end) {
    coap_tick_t left = end - now;
    uint32_t wait = left > 200 ? 200 : (uint32_t)left;
    if (coap_io_process(ctx, wait ? wait : 1) < 0)
      break;
    coap_ticks(&now);
    if (st->partial)
      judge_partial(ctx, st);
    client_progress(st, now);
    if (st->finished && to_send && *to_send == 0)
      st->done = 1;
    if (st->finished && to_send && *to_send &&
        now >= st->sent_at + COAP_TICKS_PER_SECOND) {
      (*to_send)--;
      if (!send_request(session, o, st, opts, 0))
        st->done = 1;
      end = now + (coap_tick_t)seconds * COAP_TICKS_PER_SECOND;
    }
  }
}

/* Cancels the observation (RFC 7641 3.6), waiting a little for the
 * answer. */
static void cancel_observe(coap_context_t *ctx, coap_session_t *session,
                           client_opts_t *o, client_state_t *st) {
  coap_binary_t token = {o->token_len, o->token};
  if (!coap_cancel_observe(session, &token, o->type))
    return;
  st->cancelling = 1;
  st->done = 0;
  int was = interrupted;
  interrupted = 0; /* a second signal still stops the wait */
  run(ctx, session, o, st, NULL, 2, NULL);
  interrupted = interrupted || was;
}

/* Sends the first request and runs until the end of the run: the wait,
 * or -s's observation (then cancelled), or -G's last answer. Returns 1,
 * or 0 when the first request could not be sent (st->status says why). */
static int exchange(coap_context_t *ctx, coap_session_t *session,
                    client_opts_t *o, client_state_t *st, coap_optlist_t **opts,
                    unsigned wait) {
  st->status = EXIT_TIMEOUT;
  unsigned to_send = o->repeat - 1;
  await_csm(ctx, session, wait ? wait : 1);
  if (!send_request(session, o, st, opts, 1))
    return 0;
  if (o->observe_seconds) {
    st->observing = 1;
    run(ctx, session, o, st, opts, o->observe_seconds, NULL);
    if (!st->finished && st->got_response && st->status == EXIT_OK)
      cancel_observe(ctx, session, o, st);
  } else {
    run(ctx, session, o, st, opts, wait, &to_send);
    if (!st->finished && !st->done && !interrupted && !st->mcast)
      st->status = EXIT_TIMEOUT; /* the last of a -G run went unanswered */
  }
  if (st->failure && st->status == EXIT_OK)
    st->status = st->failure;
  return 1;
}

/* The run's exit status once the loop is over, after writing what came of
 * a body before a signal and saying when no (acceptable) response came. */
static int finish(coap_session_t *session, const client_opts_t *o,
                  client_state_t *st, unsigned wait) {
  if (interrupted && st->body_len)
    client_write_body(st); /* what came of the body before the signal */
  client_progress_end(st);
  if (st->mcast && st->got_response && st->status == EXIT_TIMEOUT)
    st->status = EXIT_OK;
  st->done = 1; /* freeing the context NACKs what is still pending: quiet */
  if (interrupted)
    return st->status == EXIT_ERROR_RESPONSE ? EXIT_ERROR_RESPONSE : EXIT_OK;
  char peer[PEER_TEXT];
  client_peer_text(session, peer);
  if (st->status == EXIT_TIMEOUT && (!st->got_response || !st->finished))
    fprintf(stderr, "coap-client: no %sresponse from %s within %u s%s\n",
            st->rejected ? "acceptable " : "", peer,
            o->observe_seconds ? o->observe_seconds : wait,
            st->rejected ? " (malformed or bad-option responses rejected)"
                         : "");
  return st->status;
}

static int request(client_opts_t *o, coap_context_t *ctx, client_state_t *st) {
  coap_uri_t uri;
  coap_address_t dst;
  coap_session_t *session = client_open_session(ctx, o, st, &uri, &dst);
  if (!session)
    return EXIT_USAGE;
  st->mcast = coap_is_mcast(&dst);
  coap_optlist_t *opts = NULL;
  if (!client_build_options(o, &uri, &dst, &opts)) {
    fprintf(stderr, "coap-client: cannot build the request's options\n");
    return EXIT_USAGE;
  }
  unsigned wait = o->wait_seconds;
  if (st->mcast && !o->wait_given) /* RFC 7252 8.2: answers take leisure */
    wait = (unsigned)coap_session_get_default_leisure(session).integer_part + 1;
  int sent = exchange(ctx, session, o, st, &opts, wait);
  coap_delete_optlist(opts);
  return sent ? finish(session, o, st, wait) : st->status;
}

/* Settings of the context from the command line. Returns 1, or 0 with the
 * reason printed. */
static int configure(coap_context_t *ctx, const client_opts_t *o) {
  if (!tool_set_loss("coap-client", o->loss))
    return 0;
  if (o->token_len > COAP_TOKEN_DEFAULT_MAX)
    coap_context_set_max_token_size(ctx, o->token_len);
  coap_context_set_keepalive(ctx, o->keepalive);
  coap_context_set_block_mode(ctx, o->block_mode);
  if (o->csm_max)
    coap_context_set_csm_max_message_size(ctx, o->csm_max);
  return 1;
}

int main(int argc, char **argv) {
  client_opts_t o;
  int r = client_parse_args(argc, argv, &o);
  if (r <= 0) {
    free(o.payload);
    coap_delete_optlist(o.extra);
    tool_dtls_free(&o.dtls);
    return r < 0 ? EXIT_OK : EXIT_USAGE;
  }
  tool_catch_signals(on_signal);

  coap_startup();
  coap_set_log_level((coap_log_t)o.log_level);
  coap_dtls_set_log_level((coap_log_t)o.dtls_log_level);
  client_state_t st = {.out = stdout,
                       .to_stdout = !o.output && !o.output_dash,
                       .newline = o.newline,
                       .random_access = o.block_num > 0,
                       .tty = isatty(STDERR_FILENO),
                       .status = EXIT_USAGE};
  if (o.output && !(st.out = fopen(o.output, "wb"))) {
    fprintf(stderr, "coap-client: cannot open '%s': %s\n", o.output,
            strerror(errno));
    st.out = NULL;
  }
  coap_context_t *ctx = st.out ? coap_new_context(NULL) : NULL;
  int status = EXIT_USAGE;
  if (ctx && configure(ctx, &o)) {
    client_handle_responses(ctx, &st);
    status = request(&o, ctx, &st);
  } else if (st.out && !ctx) {
    fprintf(stderr, "coap-client: cannot create a context\n");
  }
  if (ctx)
    coap_free_context(ctx);
  if (st.unix_path[0])
    unlink(st.unix_path);
  /* libcoap's client ends what it wrote to standard output with a
   * newline (not with -o, -o - included). */
  if (st.wrote && st.to_stdout)
    fputc('\n', stdout);
  if (st.out && st.out != stdout)
    fclose(st.out);
  free(st.body);
  free(o.payload);
  coap_delete_optlist(o.extra);
  tool_dtls_free(&o.dtls);
  coap_cleanup();
  return status;
}
