#!/usr/bin/env bash
# Interop, block-wise (RFC 7959): the node-coap client (tests/node) against
# our coap-server. node-coap asks for Block2 blocks one after another with
# the request's token and reassembles the body itself.
#   - GET /large: 256 KiB, byte-exact
#   - CON and NON GET /async_large?1: a separate response whose 4096-byte
#     body takes 4 blocks, byte-exact
#   - GET /example_data after a large PUT from Debian's client (when
#     installed): the body node-coap gets back is what was PUT
# usage: block_node_client_vs_server.sh PATH/TO/coap-server
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server}
NODE_DIR="$(cd "$(dirname "$0")/../node" && pwd)"
need_node_coap "$NODE_DIR"
need perl
CLIENT=(node "$NODE_DIR/client.js" --timeout 30)
make_bodies
GOT="$TMP/got"

start_listening coap-server "$SERVER_BIN" -A ::1 -p 0 || exit 1
BASE="coap://[::1]:$SERVER_PORT"

expect_body "GET /large" "$LARGE_BODY" "$GOT" \
  "${CLIENT[@]}" --output "$GOT" "$BASE/large"
expect "GET /large is 2.05" out-re '^2\.05$' \
  "${CLIENT[@]}" --output "$GOT" "$BASE/large"
expect_body "CON GET /async_large?1 (Empty ACK, separate 2.05 in 4 blocks)" \
  "$ASYNC_BODY" "$GOT" "${CLIENT[@]}" --output "$GOT" "$BASE/async_large?1"
expect_body "NON GET /async_large?1 (separate NON 2.05 in 4 blocks)" \
  "$ASYNC_BODY" "$GOT" "${CLIENT[@]}" --non --output "$GOT" "$BASE/async_large?1"
# Two at once: each gets its own body (the held bodies are kept per request).
"${CLIENT[@]}" --output "$TMP/got2" "$BASE/async_large?2" >/dev/null 2>&1 &
other=$!
expect_body "GET /async_large?1 while /async_large?2 is pending" \
  "$ASYNC_BODY" "$GOT" "${CLIENT[@]}" --output "$GOT" "$BASE/async_large?1"
wait "$other"
if cmp -s "$ASYNC_BODY" "$TMP/got2"; then
  pass "the pending /async_large?2 gets its 4096 bytes too"
else
  fail "the pending /async_large?2 gets its 4096 bytes too" \
    "$(cmp "$ASYNC_BODY" "$TMP/got2" 2>&1)"
fi
expect "GET /async_large without a delay is 4.00" out-re '^4\.00$' \
  "${CLIENT[@]}" "$BASE/async_large"

if command -v coap-client-notls >/dev/null 2>&1; then
  expect "Debian's client PUTs 204800 bytes -b 64" rc 0 \
    coap-client-notls -B 30 -m put -b 64 -f "$UPLOAD_BODY" "$BASE/example_data"
  expect_body "node-coap GETs /example_data back" "$UPLOAD_BODY" "$GOT" \
    "${CLIENT[@]}" --output "$GOT" "$BASE/example_data"
fi

stop_cleanly coap-server "$SERVER_PID"
finish
