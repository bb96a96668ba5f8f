#!/usr/bin/env bash
# The waiting helpers of lib.sh that the interop, tools and bench scripts
# rely on to be independent of how busy the machine is: each must report a
# condition that comes late as met, and one that never comes (or a server
# that exits first) as not met. A helper that always says "ready" would
# make every check behind it unable to fail. No network, no peers.
# usage: lib_waits.sh
. "$(dirname "$0")/lib.sh"

# check NAME WANT CMD...: CMD's exit status is WANT.
check() {
  local name=$1 want=$2 rc
  shift 2
  "$@"
  rc=$?
  if [ "$rc" = "$want" ]; then
    pass "$name"
  else
    fail "$name" "exit status $rc, expected $want"
  fi
}

echo "# eventually"
check "a condition already true: met" 0 eventually 5 true
check "a condition never true: not met once the bound has passed" 1 eventually 1 false
LATE="$TMP/late"
(sleep 0.5; touch "$LATE") &
BG_PIDS+=("$!")
check "a condition that becomes true later: met" 0 eventually 20 test -e "$LATE"

echo "# start_listening and await_line"
# A stand-in server: says it listens after a pause (so that the first look
# misses it), says more a moment later, then idles.
slow_server() {
  sleep 0.5
  echo "stand-in: listening on 127.0.0.1:4321" >&2
  sleep 0.3
  echo "stand-in: listening for more on 127.0.0.1:4322" >&2
  exec sleep 60
}
check "a server that says it listens after a pause: started" 0 \
  start_listening slow slow_server
[ "${SERVER_PORT:-}" = 4321 ] && pass "its port is read from the line" ||
  fail "its port is read from the line" "got '${SERVER_PORT:-}'"
check "a line printed after the listening line: awaited" 0 \
  await_line slow 'listening for more on '
check "a line the running server never prints: not met after the bound" 1 \
  await_line slow 'never printed' 2
kill "$SERVER_PID"
gone_server() { echo "stand-in: listening on 127.0.0.1:4323" >&2; }
start_listening gone gone_server
wait "$SERVER_PID"
check "a line a server that has exited never printed: not met" 1 \
  await_line gone 'listening for more on '
check "a line it printed before exiting: met" 0 \
  await_line gone 'listening on 127'
silent() { echo "stand-in: cannot listen" >&2; exit 1; }
check "a server that exits without the line: not started" 1 \
  start_listening silent silent

echo "# debian_answers"
sleep 60 &
idle=$!
BG_PIDS+=("$idle")
kill "$idle"
wait "$idle" 2>/dev/null
check "a server that is not running: no answer" 1 debian_answers "$idle" 9
finish
