#!/usr/bin/env bash
# Interop: Observe (RFC 7641) both ways on /time, which notifies every
# second in both servers.
#   - our coap-client -s 5 observing Debian's coap-server-notls
#   - Debian's coap-client-notls -s 5 observing our coap-server, which must
#     have no observer left once the client cancelled
# usage: observe.sh PATH/TO/coap-client PATH/TO/coap-server
. "$(dirname "$0")/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client coap-server}
SERVER_BIN=${2:?usage: $0 coap-client coap-server}
need coap-server-notls
need coap-client-notls
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

# expect_notifications NAME CMD...: CMD observes for 5 s and must print the
# time at least 5 times (the response and four notifications).
expect_notifications() {
  local name=$1 n
  shift
  LAST_CMD="$*"
  run 15 "$@"
  n=$(grep -cE "$TIME_RE" "$OUT")
  if [ "$RC" = 0 ] && [ "$n" -ge 5 ]; then
    pass "$name: $n responses"
  else
    fail "$name: at least 5 responses, got $n" "$(show | tr '\n' '|')"
  fi
}

port=
if start_debian_server; then
  port=$DEBIAN_PORT
fi
if [ -n "$port" ]; then
  expect_notifications "our client observes libcoap's /time for 5 s" \
    "$CLIENT_BIN" -B 5 -s 5 -w "coap://[::1]:$port/time"
else
  fail "start coap-server-notls"
fi

# Our server logs every PDU and what becomes of its observers (-v 7, on
# stdout), so that the cancellation can be checked.
start_listening coap-server bash -c 'exec "$0" -A ::1 -p 0 -v 7 >"$1"' \
  "$SERVER_BIN" "$TMP/server.out" || exit 1
expect_notifications "libcoap's client observes our /time for 5 s" \
  coap-client-notls -B 5 -s 5 -w "coap://[::1]:$SERVER_PORT/time"
if eventually 10 grep -q "observer of 'time' removed" "$TMP/server.out"; then
  pass "libcoap's client's cancellation removed the observer"
else
  fail "libcoap's client's cancellation removed the observer" \
    "$(grep -E 'Observe' "$TMP/server.out" | tail -n 5 | tr '\n' '|')"
fi
stop_cleanly coap-server "$SERVER_PID"
finish
