#!/usr/bin/env bash
# Interop (c): the node-coap client against our coap-server.
# usage: node_client_vs_server.sh PATH/TO/coap-server
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server}
NODE_DIR="$(cd "$(dirname "$0")/../node" && pwd)"
need_node_coap "$NODE_DIR"
CLIENT=(node "$NODE_DIR/client.js" --timeout 10)

start_listening coap-server "$SERVER_BIN" -A ::1 -p 0 || exit 1
BASE="coap://[::1]:$SERVER_PORT"

expect "GET / is 2.05" out-re '^2\.05$' "${CLIENT[@]}" "$BASE/"
expect "GET / describes the server" out-has "test server made with Petrel" \
  "${CLIENT[@]}" "$BASE/"
expect "GET /.well-known/core lists </time>" out-has "</time>" \
  "${CLIENT[@]}" "$BASE/.well-known/core"
expect "GET /nonexistent is 4.04" out-re '^4\.04$' "${CLIENT[@]}" "$BASE/nonexistent"
expect "PUT /example_data (which starts with a body) is 2.04" out-re '^2\.04$' \
  "${CLIENT[@]}" --method PUT --payload "from node" "$BASE/example_data"
expect "GET /example_data shows it" out-has "from node" \
  "${CLIENT[@]}" "$BASE/example_data"
expect "CON GET /async?1 -> 2.05 done (separate response)" out-eq "$(printf '2.05\ndone')" \
  "${CLIENT[@]}" "$BASE/async?1"
expect "NON GET /async?1 -> 2.05 done" out-eq "$(printf '2.05\ndone')" \
  "${CLIENT[@]}" --non "$BASE/async?1"

stop_cleanly coap-server "$SERVER_PID"
finish
