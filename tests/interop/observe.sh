#!/usr/bin/env bash
# Interop: Observe (RFC 7641) both ways on /time, which notifies every
# second in both servers.
#   - our coap-client -s 4 observing Debian's coap-server-notls
#   - Debian's coap-client-notls -s 4 observing our coap-server
# usage: observe.sh PATH/TO/coap-client PATH/TO/coap-server
. "$(dirname "$0")/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client coap-server}
SERVER_BIN=${2:?usage: $0 coap-client coap-server}
need coap-server-notls
need coap-client-notls
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

# expect_notifications NAME CMD...: CMD observes for 4 s and must print the
# time at least 3 times (the response and two notifications).
expect_notifications() {
  local name=$1 n
  shift
  LAST_CMD="$*"
  run 15 "$@"
  n=$(grep -cE "$TIME_RE" "$OUT")
  if [ "$RC" = 0 ] && [ "$n" -ge 3 ]; then
    pass "$name: $n responses"
  else
    fail "$name: at least 3 responses, got $n" "$(show | tr '\n' '|')"
  fi
}

for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 12000)) # below the ephemeral range
  coap-server-notls -A ::1 -p "$port" >"$TMP/debian-server.log" 2>&1 &
  pid=$!
  sleep 0.3
  if kill -0 "$pid" 2>/dev/null &&
    timeout 5 coap-client-notls -B 2 "coap://[::1]:$port/" 2>/dev/null | grep -q libcoap; then
    BG_PIDS+=("$pid")
    break
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  port=
done
if [ -n "$port" ]; then
  expect_notifications "our client observes libcoap's /time for 4 s" \
    "$CLIENT_BIN" -B 5 -s 4 -w "coap://[::1]:$port/time"
else
  fail "start coap-server-notls"
fi

start_listening coap-server "$SERVER_BIN" -A ::1 -p 0 || exit 1
expect_notifications "libcoap's client observes our /time for 4 s" \
  coap-client-notls -B 5 -s 4 -w "coap://[::1]:$SERVER_PORT/time"
stop_cleanly coap-server "$SERVER_PID"
finish
