/*
 * plugtest_client.h -- what the plugtest tests share: starting and stopping
 * examples/plugtest-server, and a raw UDP client that sends requests built
 * with coap_wire.h and reads the answers.
 */
#ifndef PETREL_PLUGTEST_CLIENT_H
#define PETREL_PLUGTEST_CLIENT_H

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "../test.h"
#include "../udp_client.h"
#include "coap_wire.h"

static udp_client cli;
static pid_t server_pid = -1;
static uint16_t next_mid;
static uint32_t next_token;

/* ---- the server ------------------------------------------------------------
 */

/* Starts the server @path with the arguments @args (NULL-terminated, at
 * most 15) and reads the port it listens on from its "listening on
 * ADDR:PORT" line. Returns the port or 0. */
static inline uint16_t start_server(const char *path, const char *const *args) {
  char *argv[17];
  size_t argc = 0;
  argv[argc++] = (char *)path;
  while (args[argc - 1] && argc < 16) {
    argv[argc] = (char *)args[argc - 1];
    argc++;
  }
  argv[argc] = NULL;
  int fds[2];
  if (pipe(fds) < 0)
    return 0;
  server_pid = fork();
  if (server_pid == 0) {
    /* The server must not outlive this test, however the test ends. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execv(path, argv);
    _exit(127);
  }
  close(fds[1]);
  if (server_pid < 0) {
    close(fds[0]);
    return 0;
  }
  char line[256];
  size_t used = 0;
  struct pollfd p = {fds[0], POLLIN, 0};
  while (used < sizeof(line) - 1 && poll(&p, 1, 10000) == 1) {
    ssize_t n = read(fds[0], line + used, 1);
    if (n <= 0 || line[used] == '\n')
      break;
    used++;
  }
  close(fds[0]);
  line[used] = '\0';
  const char *colon = strrchr(line, ':');
  if (!strstr(line, "listening on") || !colon)
    return 0;
  return (uint16_t)atoi(colon + 1);
}

static inline void stop_server(void) {
  if (server_pid > 0) {
    kill(server_pid, SIGTERM);
    int status;
    waitpid(server_pid, &status, 0);
  }
  server_pid = -1;
}

/* ---- exchanges -------------------------------------------------------------
 */

static inline uint16_t new_mid(void) {
  return next_mid++;
}

/* A fresh token of @len bytes (1..8) in @tok. */
static inline void new_token(uint8_t *tok, size_t len) {
  uint32_t t = ++next_token;
  for (size_t i = 0; i < len; i++)
    tok[i] = (uint8_t)(t >> (8 * (i % 4))) ^ (uint8_t)(0x5a + i);
}

static inline int send_req(const w_req *r) {
  return udp_send(&cli, r->buf, r->len);
}

/* Receives and parses one message within @timeout_ms; 0 or -1. */
static inline int recv_msg(w_msg *m, int timeout_ms) {
  ssize_t n = udp_recv(&cli, m->raw, sizeof(m->raw), timeout_ms);
  if (n < 0)
    return -1;
  m->raw_len = (size_t)n;
  return w_parse(m);
}

/* Sends @r and receives the answer. */
static inline int exchange(const w_req *r, w_msg *m) {
  if (send_req(r) < 0)
    return -1;
  return recv_msg(m, 3000);
}

static inline void send_empty(int type, uint16_t mid) {
  w_req r;
  w_start(&r, type, 0, mid, NULL, 0);
  send_req(&r);
}

/* A request @type/@code for @path with a fresh MID and token of @tkl
 * bytes (the caller adds options after Uri-Path, then sends). */
static inline uint16_t request(w_req *r, int type, uint8_t code,
                               const char *path, uint8_t *tok, size_t tkl) {
  uint16_t mid = new_mid();
  new_token(tok, tkl);
  w_start(r, type, code, mid, tok, tkl);
  w_path(r, path);
  return mid;
}

#define CHECK_TOKEN(m, tok, n) CHECK_MEM_EQ((m).token, (m).tkl, tok, n)
#define CHECK_CODE(m, c, dd) CHECK_INT_EQ((m).code, W_CODE(c, dd))

#endif /* PETREL_PLUGTEST_CLIENT_H */
