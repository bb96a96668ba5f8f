#!/usr/bin/env bash
# coap-bench-conn (the DTLS and TCP load generator) against
# bench/bench_server.c built against Petrel, on loopback: GETs over TCP
# and DTLS on one and on many sessions, and over WebSockets (RFC 8323 4, on
# TCP port PORT+1), the server's CPU and RSS (-C), full DTLS handshakes
# (-H), what a wrong key or an absent server does, and (with node) an
# upgrade answer without the right accept value or subprotocol.
# Counts only, never a timing.
# usage: coap_bench_conn.sh PATH/TO/coap-bench-conn PATH/TO/bench_server
. "$(dirname "$0")/../interop/lib.sh"
GEN=${1:?usage: $0 coap-bench-conn bench_server}
SERVER=${2:?usage: $0 coap-bench-conn bench_server}

port=$((20000 + RANDOM % 30000))
# serve: starts the server (UDP and TCP on a port, DTLS on the next one);
# sets SERVER_PID and SERVER_PORT.
serve() {
  local try
  for try in 1 2 3 4 5; do
    port=$((port + 2)) # DTLS listens on the next port
    # ready once it says so, after every endpoint is bound; a port taken
    # makes it exit at once, and the next pair is tried
    if start_listening server "$SERVER" "$port"; then
      SERVER_PORT=$port
      return 0
    fi
  done
  echo "could not start $SERVER"; exit 1
}
val() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$OUT" | tail -n 1; }
# is NAME EXPR: passes when the run exited 0 and the awk expression EXPR
# holds for the last key=value line of $OUT (fields by name).
is() {
  local name=$1 expr=$2 vars=()
  # secs: the measured window as the first line gives it ("0.5 s,")
  vars+=(-v "secs=$(sed -nE 's/.* ([0-9]+\.[0-9]) s, cipher .*/\1/p' "$OUT" | tail -n 1)")
  for k in rate completed p50_us p99_us hs_rate handshakes sessions \
    server_cpu_us rss_setup_kb rss_per_session gen_busy timeouts retrans; do
    vars+=(-v "$k=$(val "$k")")
  done
  if awk -v rc="$RC" "${vars[@]}" "BEGIN {exit !(rc == 0 && ($expr))}"; then
    pass "$name"
  else
    fail "$name" "expected: $expr" "$(show | tr '\n' '|')"
  fi
}
cipher_is() {
  if [ "$(val cipher)" = "$2" ]; then pass "$1"; else fail "$1" "$(show | tr '\n' '|')"; fi
}

serve
P=$SERVER_PORT
D=$((SERVER_PORT + 1))

LAST_CMD="tcp 1 x 8"; run 30 "$GEN" -L 10 -t tcp -c 1 -w 8 -d 0.5 -W 0.1 -C "$SERVER_PID" 127.0.0.1 "$P"
is "tcp: one connection, 8 in flight: requests answered" 'sessions == 1 && completed > 50 && timeouts == 0'
is "tcp: -C reports server CPU per request" 'server_cpu_us > 0 && server_cpu_us < 100000'
is "tcp: rate is completed over the window, percentiles in order" 'secs > 0 && (rate * secs - completed)^2 <= (rate * 0.05 + 1)^2 && p50_us > 0 && p50_us <= p99_us'
LAST_CMD="tcp 200 x 1"; run 30 "$GEN" -L 10 -t tcp -c 200 -w 1 -K 16 -d 0.5 -W 0.1 -C "$SERVER_PID" 127.0.0.1 "$P"
is "tcp: 200 connections set up (server's CSM each), all loaded" 'sessions == 200 && completed >= 200 && timeouts == 0'
is "tcp: RSS per connection is the setup's growth over the connections" 'rss_setup_kb > 0 && rss_per_session > 0 && (rss_per_session - rss_setup_kb * 1024 / 200)^2 < 1'

LAST_CMD="dtls 1 x 8"; run 30 "$GEN" -L 10 -t dtls -c 1 -w 8 -d 0.5 -W 0.1 -C "$SERVER_PID" 127.0.0.1 "$D"
is "dtls: one PSK session, 8 in flight: requests answered" 'sessions == 1 && completed > 50 && timeouts == 0 && server_cpu_us > 0'
cipher_is "dtls: PSK-AES128-GCM-SHA256 negotiated" PSK-AES128-GCM-SHA256
LAST_CMD="dtls 100 x 1"; run 30 "$GEN" -L 10 -t dtls -c 100 -w 1 -K 16 -d 0.5 -W 0.1 -C "$SERVER_PID" 127.0.0.1 "$D"
is "dtls: 100 sessions handshaken, all loaded" 'sessions == 100 && completed >= 100 && timeouts == 0'
is "dtls: the server's RSS grew by the sessions (over 1 kB each)" 'rss_per_session > 1024'
LAST_CMD="dtls handshakes"; run 30 "$GEN" -t dtls -H -K 4 -d 0.5 -W 0.1 -C "$SERVER_PID" 127.0.0.1 "$D"
is "dtls -H: full handshakes counted, no GETs" 'handshakes > 10 && completed == 0 && secs > 0 && (hs_rate * secs - handshakes)^2 <= (hs_rate * 0.05 + 1)^2 && server_cpu_us > 0'
is "dtls -H: handshake latencies recorded" 'p50_us > 0 && p50_us <= p99_us'

LAST_CMD="ws 1 x 8"; run 30 "$GEN" -L 10 -t ws -c 1 -w 8 -d 0.5 -W 0.1 -C "$SERVER_PID" 127.0.0.1 "$D"
is "ws: one WebSocket, 8 in flight: requests answered" 'sessions == 1 && completed > 50 && timeouts == 0 && server_cpu_us > 0'
is "ws: rate is completed over the window, percentiles in order" 'secs > 0 && (rate * secs - completed)^2 <= (rate * 0.05 + 1)^2 && p50_us > 0 && p50_us <= p99_us'
LAST_CMD="ws 1 x 1"; run 30 "$GEN" -L 10 -t ws -c 1 -w 1 -d 0.5 -W 0.1 -C "$SERVER_PID" 127.0.0.1 "$D"
is "ws: one WebSocket, 1 in flight: requests answered" 'sessions == 1 && completed > 10 && timeouts == 0'
LAST_CMD="ws 200 x 1"; run 30 "$GEN" -L 10 -t ws -c 200 -w 1 -K 16 -d 0.5 -W 0.1 -C "$SERVER_PID" 127.0.0.1 "$D"
is "ws: 200 WebSockets upgraded (server's CSM each), all loaded" 'sessions == 200 && completed >= 200 && timeouts == 0'
is "ws: RSS per connection is the setup's growth over the connections" 'rss_setup_kb > 0 && rss_per_session > 0 && (rss_per_session - rss_setup_kb * 1024 / 200)^2 < 1'
LAST_CMD="ws to the plain TCP port"
expect "ws: a CoAP-over-TCP port answers no upgrade: exit 1" rc 1 \
  "$GEN" -t ws -c 1 -L 2 -d 0.2 127.0.0.1 "$P"

LAST_CMD="dtls wrong key"
expect "dtls: a wrong key sets up no session: exit 1" rc 1 \
  "$GEN" -t dtls -k wrong-key -c 1 -L 2 -d 0.2 127.0.0.1 "$D"
LAST_CMD="-H over tcp"
expect "-H is for DTLS only: usage, exit 2" rc 2 "$GEN" -t tcp -H 127.0.0.1 "$P"

stop_cleanly bench_server "$SERVER_PID"
LAST_CMD="tcp, nothing listening"
expect "tcp: a port where nothing listens: exit 1" rc 1 \
  "$GEN" -t tcp -c 1 -L 2 -d 0.2 127.0.0.1 "$P"

# The upgrade answer is checked: a fake server (node) answers 101 in ways
# that are not an upgrade to coap.
if command -v node >/dev/null 2>&1; then
  FAKE=$(dirname "$0")/ws_fake_server.js
  for mode in good bad-accept no-proto refuse; do
    start_listening "fake-$mode" node "$FAKE" "$mode" || { fail "fake server $mode"; continue; }
    LAST_CMD="ws to a fake server ($mode)"
    run 30 "$GEN" -t ws -c 1 -w 1 -L 20 -d 0.2 -W 0 127.0.0.1 "$SERVER_PORT"
    case $mode in
    good) is "ws: a 101 with the right accept and coap, then a CSM: the session is set up" 'sessions == 1 && completed == 0' ;;
    *) if [ "$RC" = 1 ] && grep -q "no session set up" "$ERR"; then
         pass "ws: an upgrade answer $mode is refused: exit 1"
       else
         fail "ws: an upgrade answer $mode is refused: exit 1" "$(show | tr '\n' '|')"
       fi ;;
    esac
    kill "$SERVER_PID" 2>/dev/null
  done
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
