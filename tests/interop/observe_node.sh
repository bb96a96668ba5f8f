#!/usr/bin/env bash
# Interop: Observe (RFC 7641) with node-coap, both ways.
#   - node-coap's client (observe: true) observing our coap-server's /time
#   - our coap-client -s observing a node-coap server whose /obs notifies
#     every 300 ms (node-coap's server ignores a deregistration by GET with
#     Observe: 1 and only stops on an RST, so that end is not checked)
# usage: observe_node.sh PATH/TO/coap-client PATH/TO/coap-server
. "$(dirname "$0")/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client coap-server}
SERVER_BIN=${2:?usage: $0 coap-client coap-server}
NODE_DIR="$(cd "$(dirname "$0")/../node" && pwd)"
need_node_coap "$NODE_DIR"
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'

start_listening coap-server "$SERVER_BIN" -A ::1 -p 0 || exit 1
LAST_CMD="node observe_client.js --seconds 5 /time"
run 20 node "$NODE_DIR/observe_client.js" --seconds 5 \
  "coap://[::1]:$SERVER_PORT/time"
n=$(grep -cE "$TIME_RE" "$OUT")
if [ "$RC" = 0 ] && [ "$n" -ge 4 ]; then
  pass "node-coap observes our /time for 5 s: $n payloads"
else
  fail "node-coap observes our /time for 5 s: at least 4 payloads, got $n" \
    "$(show | tr '\n' '|')"
fi
stop_cleanly coap-server "$SERVER_PID"

start_listening node-server node "$NODE_DIR/observe_server.js" || exit 1
LAST_CMD="coap-client -s 3 -w /obs"
run 20 "$CLIENT_BIN" -B 5 -s 3 -w "coap://[::1]:$SERVER_PORT/obs"
# -w: a newline after each notification; then, as libcoap's client, one
# more at the end of standard output.
n=$(grep -cE '^n=[0-9]+$' "$OUT")
grep -v '^$' "$OUT" >"$TMP/lines"
if [ "$RC" = 0 ] && [ "$n" -ge 6 ] && [ "$(tail -c 2 "$OUT" | od -An -c | tr -d ' ')" = '\n\n' ] &&
  sort -t= -k2 -n -c "$TMP/lines" 2>/dev/null && [ "$(sort -u "$TMP/lines" | wc -l)" = "$n" ]; then
  pass "our client observes node-coap's /obs for 3 s: $n notifications, in order, each once"
else
  fail "our client observes node-coap's /obs for 3 s: at least 6, in order, each once" \
    "$(show | tr '\n' '|')"
fi
finish
