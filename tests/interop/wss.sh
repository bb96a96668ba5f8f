#!/usr/bin/env bash
# Interop over secure WebSockets (coaps+ws://, RFC 8323 section 4 over
# TLS), on loopback:
#   - our coap-client against our coap-server -w 0,0, with pre-shared keys
#     and with certificates (GET /time, a 100 KB PUT read back, Observe of
#     /time), and a wrong key or an untrusted server refused
#   - a Node client whose WebSocket and TLS layers are the npm package ws
#     and Node's tls (tests/node/ws_client.js) connecting with wss://: the
#     server's certificate checked against the test CA, or (no chain
#     check) by its SHA-256 fingerprint, and showing the test client
#     certificate the server asks for; GET /time and an Observe of /time;
#     a certificate of another CA and a wrong fingerprint refused
# The certificates are made now by tests/dtls_certs.sh, never committed.
# usage: wss.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
NODE_DIR="$(cd "$(dirname "$0")/../node" && pwd)"
need openssl
need node
if [ ! -d "$NODE_DIR/node_modules/ws" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: the npm package ws is not installed in tests/node"
    exit 1
  fi
  echo "SKIP: the npm package ws is not installed in tests/node (scripts/deps installs it)"
  exit 77
fi
KEY=petrel-secret
CERTS="$TMP/certs"
bash "$(dirname "$0")/../dtls_certs.sh" "$CERTS" >/dev/null || {
  echo "cannot make certificates"
  exit 1
}
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'
BODY="$TMP/body.bin"
perl -e 'print map { chr(($_ * 31 + int($_ / 251)) % 256) } 0 .. 102399' >"$BODY"
GOT="$TMP/got"

# start_wss NAME ARGS...: our server with -w 0,0 and ARGS; sets WSS_PORT.
start_wss() {
  local name=$1
  shift
  start_listening "$name" "$SERVER_BIN" -A 127.0.0.1 -p 0 -w 0,0 "$@" || exit 1
  # (the coaps+ws endpoint is made after the coap one, whose line
  # start_listening waited for: wait for its own)
  await_line "$name" 'listening for coaps\+ws on '
  WSS_PORT=$(sed -nE 's/.*listening for coaps\+ws on .*:([0-9]+)$/\1/p' "$TMP/$name.log")
  if [ -z "$WSS_PORT" ]; then
    fail "coap-server -w 0,0 $* prints its coaps+ws port" "$(tr '\n' '|' <"$TMP/$name.log")"
    finish
  fi
  pass "coap-server -w 0,0 $*: listening for coaps+ws on port $WSS_PORT"
  BASE="coaps+ws://127.0.0.1:$WSS_PORT"
}

# refused NAME CMD...: CMD fails (not a timeout of ours) and prints no time.
refused() {
  local name=$1
  shift
  LAST_CMD="$*"
  run 20 "$@"
  if [ "$RC" != 0 ] && [ "$RC" != 124 ] && ! grep -qE "$TIME_RE" "$OUT"; then
    pass "$name (exit $RC)"
  else
    fail "$name" "$(show | tr '\n' '|')"
  fi
}

# our_client LABEL ARGS...: our coap-client with ARGS against $BASE.
our_client() {
  local label=$1
  shift
  local C=("$CLIENT_BIN" -B 10 "$@")
  expect "our client ($label): GET /time over coaps+ws" out-re "$TIME_RE" \
    "${C[@]}" "$BASE/time"
  expect "our client ($label): PUT 100 KB to /example_data" rc 0 \
    "${C[@]}" -m put -f "$BODY" "$BASE/example_data"
  LAST_CMD="${C[*]} -o $GOT $BASE/example_data"
  run 30 "${C[@]}" -o "$GOT" "$BASE/example_data"
  if [ "$RC" = 0 ] && cmp -s "$BODY" "$GOT"; then
    pass "our client ($label): GET /example_data gives the 100 KB back, byte-exact"
  else
    fail "our client ($label): GET /example_data gives the 100 KB back" "$(show | tr '\n' '|')"
  fi
  LAST_CMD="${C[*]} -s 3 $BASE/time"
  run 20 "${C[@]}" -s 3 "$BASE/time"
  local n
  # (as libcoap's, our client prints notifications without newlines)
  n=$(grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2}' "$OUT" | wc -l)
  if [ "$RC" = 0 ] && [ "$n" -ge 2 ]; then
    pass "our client ($label): observes /time over coaps+ws ($n notifications)"
  else
    fail "our client ($label): observes /time over coaps+ws" "$(show | tr '\n' '|')"
  fi
}

echo "# pre-shared keys"
start_wss psk -k "$KEY"
our_client PSK -u petrel -k "$KEY"
refused "our client with a wrong key gets nothing" \
  "$CLIENT_BIN" -B 3 -u petrel -k wrong-key "$BASE/time"
expect "the server still serves after the wrong key" out-re "$TIME_RE" \
  "$CLIENT_BIN" -B 10 -u petrel -k "$KEY" "$BASE/time"
stop_cleanly psk "$SERVER_PID"

echo "# certificates"
start_wss pki -c "$CERTS/server.pem" -j "$CERTS/server.key" -C "$CERTS/ca.pem"
our_client PKI -c "$CERTS/client.pem" -j "$CERTS/client.key" -C "$CERTS/ca.pem"
refused "our client with a certificate of another CA gets nothing" \
  "$CLIENT_BIN" -B 3 -c "$CERTS/rogue.pem" -j "$CERTS/rogue.key" \
  -C "$CERTS/other_ca.pem" -n "$BASE/time"

echo "# a Node client (npm ws, Node's tls) with wss://"
URL="wss://127.0.0.1:$WSS_PORT/.well-known/coap"
# The server asks for a client certificate (-C): Node shows the test one.
export WS_CERT="$CERTS/client.pem" WS_KEY="$CERTS/client.key"
NODE="node $NODE_DIR/ws_client.js $URL"
expect "Node, test CA: GET /time" out-re "$TIME_RE" \
  env WS_CA="$CERTS/ca.pem" $NODE get /time
LAST_CMD="WS_CA=ca.pem $NODE observe /time 3"
run 20 env WS_CA="$CERTS/ca.pem" $NODE observe /time 3
n=$(grep -cE "$TIME_RE \(observe [0-9]+\)$" "$OUT")
distinct=$(cut -d' ' -f1-3 "$OUT" | sort -u | wc -l)
if [ "$RC" = 0 ] && [ "$n" = 3 ] && [ "$distinct" = 3 ]; then
  pass "Node, test CA: Observe /time, the response and 2 notifications"
else
  fail "Node, test CA: Observe /time, the response and 2 notifications" \
    "$(show | tr '\n' '|')"
fi
FP=$(openssl x509 -in "$CERTS/server.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
expect "Node, no chain check, the fingerprint checked: GET /time" out-re "$TIME_RE" \
  env WS_FINGERPRINT="$FP" $NODE get /time
LAST_CMD="WS_FINGERPRINT=$FP $NODE observe /time 2"
run 20 env WS_FINGERPRINT="$FP" $NODE observe /time 2
if [ "$RC" = 0 ] && [ "$(grep -cE "$TIME_RE \(observe [0-9]+\)$" "$OUT")" = 2 ]; then
  pass "Node, fingerprint checked: Observe /time"
else
  fail "Node, fingerprint checked: Observe /time" "$(show | tr '\n' '|')"
fi
# Controls: each check above can fail.
refused "Node with another CA refuses our server" \
  env WS_CA="$CERTS/other_ca.pem" $NODE get /time
OTHER_FP=$(openssl x509 -in "$CERTS/rogue.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
refused "Node with a wrong fingerprint refuses our server" \
  env WS_FINGERPRINT="$OTHER_FP" $NODE get /time
refused "Node with plain ws:// on the coaps+ws port gets nothing" \
  node "$NODE_DIR/ws_client.js" "ws://127.0.0.1:$WSS_PORT/.well-known/coap" get /time
expect "the server still serves Node after the refusals" out-re "$TIME_RE" \
  env WS_CA="$CERTS/ca.pem" $NODE get /time
stop_cleanly pki "$SERVER_PID"
finish
