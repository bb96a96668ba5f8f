#!/usr/bin/env bash
# The web page examples/ws-browser/ in headless Chromium, talking CoAP over
# WebSockets (RFC 8323 section 4) to our coap-server -w: the page is served
# over HTTP by python3 -m http.server, opened with ?url=ws://...; it sends a
# CSM, GETs /time, then observes /time. The page must show the GET's value
# and at least three successive distinct values of /time as page text, read
# from its DOM over the DevTools protocol (tests/node/cdp_values.js).
#
# Chromium must reach nothing but loopback: the script re-runs itself in a
# new network namespace (unshare -rn: only lo exists) when it may, and in
# any case Chromium gets a dead proxy for every non-loopback URL, a
# resolver that resolves nothing, and no background networking.
# usage: ws_browser.sh PATH/TO/coap-server PATH/TO/examples/ws-browser
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server page-dir}
PAGE_DIR=${2:?usage: $0 coap-server page-dir}
NODE_DIR="$(cd "$(dirname "$0")/../node" && pwd)"
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
need python3
need node
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
need "${CHROMIUM:-chromium}"
if [ ! -d "$NODE_DIR/node_modules/ws" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: the npm package ws is not installed in tests/node"
    exit 1
  fi
  echo "SKIP: the npm package ws is not installed in tests/node (scripts/deps installs it)"
  exit 77
fi

# (A new namespace's lo is down: `ip` must be there to bring it up.)
if [ -z "${PETREL_IN_NETNS:-}" ] && command -v ip >/dev/null 2>&1 &&
  unshare -rn ip link set lo up 2>/dev/null; then
  echo "# in a network namespace of its own (unshare -rn)"
  trap - EXIT
  rm -rf "$TMP"
  PETREL_IN_NETNS=1 exec unshare -rn bash -c \
    'ip link set lo up && exec bash "$0" "$@"' \
    "$SELF" "$@"
fi

START=$(date +%s.%N)
start_listening petrel "$SERVER_BIN" -A 127.0.0.1 -p 0 -w 0 || exit 1
WS_PORT=$(sed -nE 's/.*listening for coap\+ws on .*:([0-9]+)$/\1/p' "$TMP/petrel.log")
[ -n "$WS_PORT" ] || { fail "coap-server -w 0 prints its port" "$(cat "$TMP/petrel.log")"; finish; }

# The page's folder over HTTP on an ephemeral loopback port.
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$PAGE_DIR" \
  >"$TMP/http.log" 2>&1 &
BG_PIDS+=("$!")
HTTP_PORT=
for i in $(seq 1 300); do # (30 s at most: a busy machine)
  HTTP_PORT=$(sed -nE 's/^Serving HTTP on .* port ([0-9]+) .*/\1/p' "$TMP/http.log" | head -n1)
  [ -n "$HTTP_PORT" ] && break
  sleep 0.1
done
[ -n "$HTTP_PORT" ] || { fail "python3 -m http.server starts" "$(cat "$TMP/http.log")"; finish; }
PAGE="http://127.0.0.1:$HTTP_PORT/index.html?url=ws://127.0.0.1:$WS_PORT/.well-known/coap"
echo "page: $PAGE"

"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --user-data-dir="$TMP/profile" --remote-debugging-address=127.0.0.1 \
  --remote-debugging-port=0 --no-first-run --no-default-browser-check \
  --disable-background-networking --disable-component-update --disable-sync \
  --disable-default-apps --disable-extensions --disable-domain-reliability \
  --disable-client-side-phishing-detection --no-pings --metrics-recording-only \
  --disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication \
  --proxy-server=127.0.0.1:9 \
  --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
  "$PAGE" >"$TMP/chromium.log" 2>&1 &
BG_PIDS+=("$!")
DEVTOOLS_PORT=
for i in $(seq 1 150); do
  DEVTOOLS_PORT=$(sed -nE 's|^DevTools listening on ws://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$TMP/chromium.log" | head -n1)
  [ -n "$DEVTOOLS_PORT" ] && break
  sleep 0.1
done
if [ -z "$DEVTOOLS_PORT" ]; then
  fail "headless Chromium starts" "$(tail -n 20 "$TMP/chromium.log" | tr '\n' '|')"
  finish
fi
pass "headless Chromium started (DevTools on port $DEVTOOLS_PORT)"

LAST_CMD="node cdp_values.js $DEVTOOLS_PORT 30 3"
run 40 node "$NODE_DIR/cdp_values.js" "$DEVTOOLS_PORT" 30 3
cat "$OUT"
TIME_RE='[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'
values=$(sed -nE "s/^value: ($TIME_RE)$/\1/p" "$OUT")
distinct=$(sort -u <<<"$values" | grep -c .)
successive=$(uniq <<<"$values" | grep -c .)
if grep -qE "^first: $TIME_RE$" "$OUT"; then
  pass "the page shows the GET /time value"
else
  fail "the page shows the GET /time value" "$(show | tr '\n' '|')"
fi
if [ "$RC" = 0 ] && [ "$distinct" -ge 3 ] && [ "$successive" = "$distinct" ]; then
  pass "the page shows $distinct successive distinct /time values (Observe)"
else
  fail "the page shows at least 3 successive distinct /time values" \
    "$(show | tr '\n' '|')" "chromium: $(tail -n 5 "$TMP/chromium.log" | tr '\n' '|')"
fi
grep -q "GET /index.html" "$TMP/http.log" && grep -q "GET /coap-ws.js" "$TMP/http.log" &&
  pass "the page and its script came from the HTTP server" ||
  fail "the page and its script came from the HTTP server" "$(tr '\n' '|' <"$TMP/http.log")"
stop_cleanly petrel "$SERVER_PID"
END=$(date +%s.%N)
echo "browser test took $(awk -v a="$START" -v b="$END" 'BEGIN { printf "%.1f", b - a }') s"
finish
