# Shared helpers for the interop scripts (sourced, not run).
#
# Each script starts its server(s) in the background on loopback, runs
# clients under `timeout`, prints one line per check and finishes with
# "N passed, N failed". The trap below stops every background process the
# script started (by pid) and removes its scratch directory.
#
# Exit status: 0 all passed, 1 a check failed, 77 a peer is not installed
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

need() {
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
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
  local i
  for i in $(seq 1 50); do
    SERVER_PORT=$(sed -nE 's/.*listening on .*:([0-9]+)$/\1/p' "$log" | head -n1)
    if [ -n "$SERVER_PORT" ]; then
      echo "started $name (pid $SERVER_PID) on port $SERVER_PORT"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  echo "could not start $name: $*"
  sed 's/^/       /' "$log"
  return 1
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

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
  exit $?
}
