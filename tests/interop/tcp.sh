#!/usr/bin/env bash
# Interop over TCP (RFC 8323): Debian's coap-client-notls against our
# coap-server over coap+tcp (GET /time, a 100 KB PUT read back, /async),
# and our coap-client against Debian's coap-server-notls (GET /, /time),
# by coap+tcp:// and by -r.
# usage: tcp.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
need coap-server-notls
need coap-client-notls
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

echo "# Debian's client, our server"
start_listening petrel "$SERVER_BIN" -A ::1 -p 0 || exit 1
BASE="coap+tcp://[::1]:$SERVER_PORT"
expect "GET /time over TCP" out-re "$TIME_RE" \
  coap-client-notls -B 5 "$BASE/time"
LAST_CMD="coap-client-notls -v 7 $BASE/time"
run 10 coap-client-notls -B 5 -v 7 "$BASE/time"
if grep -q 'c:CSM' "$OUT" "$ERR" && grep -qE 'c:2\.05 i:0000' "$OUT" "$ERR"; then
  pass "-v 7: CSM both ways, the 2.05 has no message ID"
else
  fail "-v 7: CSM both ways, the 2.05 has no message ID" "$(show | tr '\n' '|')"
fi
BODY="$TMP/body.txt"
perl -e 'print map { chr(97 + ($_ * 7 + int($_ / 26)) % 26) } 0 .. 102399' >"$BODY"
expect "PUT 100 KB to /example_data over TCP" rc 0 \
  coap-client-notls -B 20 -m put -f "$BODY" "$BASE/example_data"
expect_body "GET /example_data over TCP gives it back" "$BODY" "$TMP/back.txt" \
  coap-client-notls -B 20 -o "$TMP/back.txt" "$BASE/example_data"
expect "/async?1 over TCP: done" out-eq done \
  coap-client-notls -B 5 "$BASE/async?1"
stop_cleanly petrel "$SERVER_PID"

echo "# our client, Debian's server"
start_debian_server || exit 1
expect "GET / over coap+tcp shows libcoap's description" \
  out-has "test server made with libcoap" \
  "$CLIENT_BIN" -B 5 "coap+tcp://[::1]:$DEBIAN_PORT/"
expect "GET /time over coap+tcp" out-re "$TIME_RE" \
  "$CLIENT_BIN" -B 5 "coap+tcp://[::1]:$DEBIAN_PORT/time"
expect "GET /time with -r (coap:// over TCP)" out-re "$TIME_RE" \
  "$CLIENT_BIN" -B 5 -r "coap://[::1]:$DEBIAN_PORT/time"
finish
