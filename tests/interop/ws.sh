#!/usr/bin/env bash
# Interop over WebSockets (RFC 8323 section 4): our coap-server -w against
#   - a Node client (tests/node/ws_client.js) whose WebSocket layer is the
#     npm package `ws` and whose CoAP framing is written in the test: GET
#     /time, /, /async?1, Observe of /time (at least 2 notifications), a
#     100 KB PUT by Block1 read back by Block2
#   - our coap-client with coap+ws:// URIs: the same requests
#   - our coap-client against a Node server (tests/node/ws_server.js) on
#     the npm package ws: the upgrade's Host and subprotocol, a GET, and
#     the Close our client sends when it is done
# usage: ws.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
NODE_DIR="$(cd "$(dirname "$0")/../node" && pwd)"
need node
if [ ! -d "$NODE_DIR/node_modules/ws" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: the npm package ws is not installed in tests/node"
    exit 1
  fi
  echo "SKIP: the npm package ws is not installed in tests/node (scripts/deps installs it)"
  exit 77
fi
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

start_listening petrel "$SERVER_BIN" -A 127.0.0.1 -p 0 -w 0 || exit 1
WS_PORT=$(sed -nE 's/.*listening for coap\+ws on .*:([0-9]+)$/\1/p' "$TMP/petrel.log")
if [ -z "$WS_PORT" ]; then
  fail "coap-server -w 0 prints its coap+ws port" "$(tr '\n' '|' <"$TMP/petrel.log")"
  finish
fi
pass "coap-server -w 0 listens for coap+ws on port $WS_PORT"
URL="ws://127.0.0.1:$WS_PORT/.well-known/coap"
NODE="node $NODE_DIR/ws_client.js $URL"

echo "# a Node client on the npm package ws"
expect "GET /time" out-re "$TIME_RE" $NODE get /time
expect "GET / describes the server" out-has "made with Petrel" $NODE get /
expect "GET /async?1: the separate response" out-eq done $NODE get '/async?1'
LAST_CMD="$NODE observe /time 3"
run 20 $NODE observe /time 3
n=$(grep -cE "$TIME_RE \(observe [0-9]+\)$" "$OUT")
distinct=$(cut -d' ' -f1-3 "$OUT" | sort -u | wc -l)
if [ "$RC" = 0 ] && [ "$n" = 3 ] && [ "$distinct" = 3 ]; then
  pass "Observe /time: the response and 2 notifications, 3 distinct times"
else
  fail "Observe /time: the response and 2 notifications, 3 distinct times" \
    "$(show | tr '\n' '|')"
fi
BODY="$TMP/body.bin"
perl -e 'print map { chr(($_ * 31 + int($_ / 251)) % 256) } 0 .. 102399' >"$BODY"
expect "PUT 100 KB to /example_data by Block1" out-eq "2.04" \
  $NODE put /example_data "$BODY"
LAST_CMD="$NODE get /example_data"
run 30 $NODE get /example_data
head -c -1 "$OUT" >"$TMP/back.bin" # the client ends with a newline
if [ "$RC" = 0 ] && cmp -s "$BODY" "$TMP/back.bin"; then
  pass "GET /example_data by Block2 gives the 100 KB back, byte-exact"
else
  fail "GET /example_data by Block2 gives the 100 KB back, byte-exact" \
    "$(cmp "$BODY" "$TMP/back.bin" 2>&1 | head -n1)" "$(show | tr '\n' '|')"
fi
LAST_CMD="upgrade without the coap subprotocol"
run 10 node -e '
const WebSocket = require(process.argv[1]);
const ws = new WebSocket(process.argv[2], "mqtt");
ws.on("open", () => { console.log("opened"); process.exit(1); });
ws.on("error", (e) => { console.log(e.message); process.exit(0); });
' "$NODE_DIR/node_modules/ws" "$URL"
if [ "$RC" = 0 ] && grep -q "400" "$OUT"; then
  pass "an upgrade without subprotocol coap is refused with 400"
else
  fail "an upgrade without subprotocol coap is refused with 400" "$(show | tr '\n' '|')"
fi

echo "# our coap-client, coap+ws://"
BASE="coap+ws://127.0.0.1:$WS_PORT"
expect "GET /time" out-re "$TIME_RE" "$CLIENT_BIN" -B 5 "$BASE/time"
expect "/async?1: done" out-eq done "$CLIENT_BIN" -B 5 "$BASE/async?1"
expect "PUT 100 KB to /example_data" rc 0 \
  "$CLIENT_BIN" -B 20 -m put -f "$BODY" "$BASE/example_data"
expect_body "GET /example_data gives it back" "$BODY" "$TMP/back2.bin" \
  "$CLIENT_BIN" -B 20 -o "$TMP/back2.bin" "$BASE/example_data"
LAST_CMD="coap-client -s 3 $BASE/time"
run 15 "$CLIENT_BIN" -B 5 -s 3 "$BASE/time"
# libcoap's client prints each value with no newline after it.
n=$(grep -oE '[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}' "$OUT" | sort -u | wc -l)
if [ "$RC" = 0 ] && [ "$n" -ge 3 ]; then
  pass "coap-client -s 3 observes /time: $n distinct values"
else
  fail "coap-client -s 3 observes /time: at least 3 distinct values, got $n" "$(show | tr '\n' '|')"
fi
stop_cleanly petrel "$SERVER_PID"

echo "# our coap-client against a Node server on the npm package ws"
NODE_LOG="$TMP/node-ws.requests"
start_listening node-ws node "$NODE_DIR/ws_server.js" "$NODE_LOG" || exit 1
expect "GET /hello" out-eq "hello over ws" \
  "$CLIENT_BIN" -B 5 "coap+ws://127.0.0.1:$SERVER_PORT/hello"
expect "GET /nothing: the 4.04 is reported" err-has "4.04" \
  "$CLIENT_BIN" -B 5 "coap+ws://127.0.0.1:$SERVER_PORT/nothing"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
if grep -qx "upgrade: host=127.0.0.1:$SERVER_PORT protocols=coap" "$NODE_LOG" &&
  grep -qx "request: GET /hello" "$NODE_LOG" && grep -qx "closed: 1000" "$NODE_LOG"; then
  pass "the server saw Host 127.0.0.1:$SERVER_PORT, subprotocol coap, the GET, and a Close 1000"
else
  fail "the server saw Host 127.0.0.1:$SERVER_PORT, subprotocol coap, the GET, and a Close 1000" \
    "$(tr '\n' '|' <"$NODE_LOG")"
fi
finish
