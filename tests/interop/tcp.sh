#!/usr/bin/env bash
# Interop over TCP (RFC 8323): Debian's coap-client-notls against our
# coap-server over coap+tcp (GET /time, a 100 KB PUT read back, /async,
# observing /time for 4 s), and our coap-client against Debian's
# coap-server-notls (GET /, /time, observing /time for 3 s), by
# coap+tcp:// and by -r; then BERT (RFC 8323 6) both ways: a 100 KB body
# put and read back with one side's Max-Message-Size at 4096 (-X), so
# that it travels in BERT blocks of 3 KiB.
# usage: tcp.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
need coap-server-notls
need coap-client-notls
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

# count_times NAME MIN CMD...: CMD must print the time at least MIN times.
count_times() {
  local name=$1 min=$2 n
  shift 2
  LAST_CMD="$*"
  run 15 "$@"
  n=$(grep -cE "$TIME_RE" "$OUT")
  if [ "$RC" = 0 ] && [ "$n" -ge "$min" ]; then
    pass "$name: $n responses"
  else
    fail "$name: at least $min responses, got $n" "$(show | tr '\n' '|')"
  fi
}

echo "# Debian's client, our server"
# The server logs every PDU and its observers (-v 7) for the checks below.
start_listening petrel bash -c 'exec "$0" -A ::1 -p 0 -v 7 >"$1"' \
  "$SERVER_BIN" "$TMP/server.out" || exit 1
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
# RFC 8323 7: the response and at least three notifications in 4 s.
count_times "Debian's client observes our /time over TCP for 4 s" 4 \
  coap-client-notls -B 5 -s 4 -w "$BASE/time"
if eventually 10 grep -q "observer of 'time' removed" "$TMP/server.out"; then
  pass "its cancellation (or the connection closing) removed the observer"
else
  fail "its cancellation (or the connection closing) removed the observer" \
    "$(grep -E 'Observe' "$TMP/server.out" | tail -n 5 | tr '\n' '|')"
fi
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
count_times "our client observes libcoap's /time over TCP for 3 s" 3 \
  "$CLIENT_BIN" -B 5 -s 3 -w "coap+tcp://[::1]:$DEBIAN_PORT/time"

# bert_seen NAME LOG OPTION: the -v 7 log shows OPTION (Block1, Block2)
# with SZX 7, printed as BERT.
bert_seen() {
  if grep -qE "$3:[0-9]+/./BERT" "$2"; then
    pass "$1"
  else
    fail "$1" "$(grep -oE "$3:[0-9]+/./[A-Z0-9]+" "$2" | sort -u | head -n 5 |
      tr '\n' ' ')"
  fi
}

echo "# BERT: Debian's client, our server with -X 4096"
start_listening petrel-bert bash -c 'exec "$0" -A ::1 -p 0 -X 4096 -v 7 >"$1"' \
  "$SERVER_BIN" "$TMP/bert-server.out" || exit 1
BASE="coap+tcp://[::1]:$SERVER_PORT"
expect "PUT 100 KB to /example_data in BERT blocks" rc 0 \
  coap-client-notls -B 20 -m put -f "$BODY" "$BASE/example_data"
expect_body "GET it back in BERT blocks (-X 4096)" "$BODY" "$TMP/bert1.txt" \
  coap-client-notls -B 20 -X 4096 -o "$TMP/bert1.txt" "$BASE/example_data"
bert_seen "our server took Block1 with SZX 7" "$TMP/bert-server.out" Block1
bert_seen "our server sent Block2 with SZX 7" "$TMP/bert-server.out" Block2
stop_cleanly petrel-bert "$SERVER_PID"

echo "# BERT: our client, Debian's server with -X 4096"
start_debian_server -X 4096 -v 7 || exit 1
DBASE="coap+tcp://[::1]:$DEBIAN_PORT"
expect "our client PUTs 100 KB in BERT blocks" rc 0 \
  "$CLIENT_BIN" -B 20 -m put -f "$BODY" "$DBASE/example_data"
expect_body "our client GETs it back in BERT blocks (-X 4096)" "$BODY" \
  "$TMP/bert2.txt" \
  "$CLIENT_BIN" -B 20 -X 4096 -o "$TMP/bert2.txt" "$DBASE/example_data"
bert_seen "libcoap's server took Block1 with SZX 7" "$TMP/debian-server.log" \
  Block1
bert_seen "libcoap's server sent Block2 with SZX 7" "$TMP/debian-server.log" \
  Block2
finish
