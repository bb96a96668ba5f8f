# Shared helpers for the interop scripts (sourced, not run).
#
# Each script starts its server(s) in the background on loopback, runs
# clients under `timeout`, prints one line per check and finishes with
# "N passed, N failed". The trap below stops every background process the
# script started (by pid) and removes its scratch directory.
#
# Exit status: 0 all passed, 1 a check failed, 77 a peer is not installed
# (outside CI)
# (ctest reports the test as skipped; scripts/deps installs the peers).

set -u

PASSED=0
FAILED=0
BG_PIDS=()
TMP=$(mktemp -d "${TMPDIR:-/tmp}/petrel-interop.XXXXXX")
OUT="$TMP/out"
ERR="$TMP/err"
RC=0

cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null
  done
  for p in "${BG_PIDS[@]}"; do
    wait "$p" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# node-coap, installed into tests/node by scripts/deps.
need_node_coap() {
  need node
  if [ ! -d "$1/node_modules/coap" ]; then
    if [ "${CI:-}" = true ]; then
      echo "FAIL: node-coap is not installed in tests/node"
      exit 1
    fi
    echo "SKIP: node-coap is not installed in tests/node (scripts/deps installs it)"
    exit 77
  fi
}

# A missing peer skips the test when run by hand, but fails it under CI
# (CI=true), where scripts/deps has installed every peer.
need() {
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
    if [ "${CI:-}" = true ]; then
      echo "FAIL: $1 is not installed, and under CI every peer must be"
      exit 1
    fi
    echo "SKIP: $1 is not installed (scripts/deps installs it)"
    exit 77
  fi
}

pass() {
  PASSED=$((PASSED + 1))
  echo "ok   - $1"
}

fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL - $1"
  shift
  local line
  for line in "$@"; do
    echo "       $line"
  done
}

# run SECONDS CMD...: runs CMD bounded in time; stdout in $OUT, stderr in
# $ERR, exit status in $RC.
run() {
  local secs=$1
  shift
  timeout --kill-after=2 "$secs" "$@" >"$OUT" 2>"$ERR"
  RC=$?
}

show() {
  printf 'command: %s\n' "$LAST_CMD"
  printf 'exit status: %s\n' "$RC"
  printf 'stdout: %s\n' "$(head -c 400 "$OUT" | tr '\n' '|')"
  printf 'stderr: %s\n' "$(head -c 400 "$ERR" | tr '\n' '|')"
}

# expect NAME KIND ARG CMD...: runs CMD (15 s at most) and checks it.
#   KIND out-eq        stdout (trailing newlines dropped) equals ARG
#   KIND out-has       stdout contains ARG
#   KIND out-re        stdout matches the extended regex ARG
#   KIND err-has       stderr contains ARG
#   KIND rc            exit status equals ARG
#   KIND rc-nonzero    exit status is not 0 (ARG ignored)
expect() {
  local name=$1 kind=$2 arg=$3
  shift 3
  LAST_CMD="$*"
  run 15 "$@"
  local ok=1
  case "$kind" in
  out-eq) [ "$(cat "$OUT")" = "$arg" ] || ok=0 ;;
  out-has) grep -qF -- "$arg" "$OUT" || ok=0 ;;
  out-re) grep -qE -- "$arg" "$OUT" || ok=0 ;;
  err-has) grep -qF -- "$arg" "$ERR" || ok=0 ;;
  rc) [ "$RC" = "$arg" ] || ok=0 ;;
  rc-nonzero) [ "$RC" != 0 ] && [ "$RC" != 124 ] && [ "$RC" != 137 ] || ok=0 ;;
  *) echo "expect: unknown kind $kind"; exit 2 ;;
  esac
  if [ $ok = 1 ]; then
    pass "$name"
  else
    local lines=()
    mapfile -t lines < <(echo "expected ($kind): $arg"; show)
    fail "$name" "${lines[@]}"
  fi
}

# start_listening NAME CMD...: starts a server that prints a line ending in
# "listening on ADDR:PORT" on stderr; sets SERVER_PID and SERVER_PORT.
start_listening() {
  local name=$1
  shift
  local log="$TMP/$name.log"
  "$@" 2>"$log" >/dev/null &
  SERVER_PID=$!
  BG_PIDS+=("$SERVER_PID")
  # (up to 60 s: under the sanitizers on a busy machine a start can take
  # seconds; the loop ends as soon as the line is there or the server gone)
  local end=$((SECONDS + 60))
  while :; do
    SERVER_PORT=$(sed -nE 's/.*listening on .*:([0-9]+)$/\1/p' "$log" | head -n1)
    if [ -n "$SERVER_PORT" ]; then
      echo "started $name (pid $SERVER_PID) on port $SERVER_PORT"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$SECONDS" -ge "$end" ]; then
      break
    fi
    sleep 0.1
  done
  echo "could not start $name: $*"
  sed 's/^/       /' "$log"
  return 1
}

# eventually SECS CMD...: runs CMD every 0.1 s until it succeeds (returns
# 0) or SECS seconds have passed (returns 1). For what another process
# writes a moment after the client has its answer (a server logs what it
# sent after sending it) and for lines printed after a readiness line: wait
# for the condition, never for a fixed time.
eventually() {
  local secs=$1 end
  shift
  end=$((SECONDS + secs))
  while :; do
    "$@" && return 0
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.1
  done
}

# await_line NAME ERE [SECS]: waits (SECS, 30 s unless given, at most)
# until the log of start_listening NAME has a line matching ERE; returns 1
# if it never comes or the server has exited without printing it.
await_line() {
  local log="$TMP/$1.log" re=$2 end=$((SECONDS + ${3:-30}))
  while ! grep -qE -- "$re" "$log"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      grep -qE -- "$re" "$log" # (what it printed before exiting)
      return
    fi
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.1
  done
}

# stop_cleanly NAME PID: SIGTERM, then the server must exit 0 within 10 s
# (under the sanitizers a leak makes the exit status non-zero).
stop_cleanly() {
  local name=$1 pid=$2 i status
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    fail "$name stops on SIGTERM" "still running after 10 s"
    return
  fi
  wait "$pid"
  status=$?
  if [ "$status" = 0 ]; then
    pass "$name stops on SIGTERM and exits 0 (frees everything)"
  else
    fail "$name stops on SIGTERM and exits 0 (frees everything)" \
      "exit status $status" "$(tail -n 20 "$TMP/$name.log" | tr '\n' '|')"
  fi
}

# expect_body NAME EXPECTED GOT CMD...: runs CMD (60 s at most, for the
# many round trips of small blocks under the sanitizers); it must exit 0 and
# leave in file GOT exactly the bytes of file EXPECTED.
expect_body() {
  local name=$1 expected=$2 got=$3
  shift 3
  LAST_CMD="$*"
  rm -f "$got"
  run 60 "$@"
  if [ "$RC" = 0 ] && cmp -s "$expected" "$got"; then
    pass "$name ($(wc -c <"$got") bytes, byte-exact)"
  else
    local diff
    diff=$(cmp "$expected" "$got" 2>&1 | head -n1)
    fail "$name" "expected $(wc -c <"$expected") bytes; got: ${diff:-same}" \
      "$(show | tr '\n' '|')"
  fi
}

# The bodies the block-wise tests use, written to files in $TMP:
#   $LARGE_BODY  what our server's /large serves: the lines "line 0",
#                "line 1", ... each ending in a newline, cut at 262144 bytes
#   $ASYNC_BODY  what /async_large serves: the first 4096 bytes of it
#   $UPLOAD_BODY 204800 bytes covering every byte value, in a pattern that
#                does not repeat at any block size
make_bodies() {
  LARGE_BODY="$TMP/large.expected"
  ASYNC_BODY="$TMP/async_large.expected"
  UPLOAD_BODY="$TMP/upload.bin"
  seq 0 40000 | sed 's/^/line /' | head -c 262144 >"$LARGE_BODY"
  head -c 4096 "$LARGE_BODY" >"$ASYNC_BODY"
  perl -e 'print map { chr(($_ * 31 + int($_ / 251)) % 256) } 0 .. 204799' \
    >"$UPLOAD_BODY"
}

# debian_answers PID PORT [HOST]: asks GET / of the server PID on
# HOST:PORT (HOST [::1] unless given) until libcoap's description comes (0)
# or for 20 s, for as long as it runs (1: it exited, the port was taken, or
# it never answered).
debian_answers() {
  local end=$((SECONDS + 20))
  while kill -0 "$1" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
    timeout 5 coap-client-notls -B 2 "coap://${3:-[::1]}:$2/" 2>/dev/null |
      grep -q libcoap && return 0
    sleep 0.1
  done
  return 1
}

# start_debian_server [ARGS...]: starts coap-server-notls (which cannot pick
# a free port itself) on random ports below the ephemeral range until one
# answers; sets DEBIAN_PORT. Every attempt that fails is reported (a port
# taken is expected now and then; a server that never answers is not).
start_debian_server() {
  local attempt port pid
  for attempt in 1 2 3 4 5 6 7 8; do
    if [ "$attempt" -gt 1 ]; then
      echo "note: coap-server-notls attempt $((attempt - 1)) (port $port) did not" \
        "answer: $(tail -n 2 "$TMP/debian-server.log" 2>/dev/null | tr '\n' '|')"
    fi
    port=$((20000 + RANDOM % 12000))
    coap-server-notls -A ::1 -p "$port" "$@" >"$TMP/debian-server.log" 2>&1 &
    pid=$!
    if debian_answers "$pid" "$port"; then
      BG_PIDS+=("$pid")
      DEBIAN_PORT=$port
      echo "started coap-server-notls (pid $pid) on port $port, attempt $attempt"
      return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  echo "could not start coap-server-notls"
  return 1
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
  exit $?
}
