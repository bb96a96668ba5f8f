#!/usr/bin/env bash
# Interop (d): Debian's coap-client-notls against the seed page's example
# (examples/seed_async_server): separate responses.
# usage: seed_async_vs_debian_client.sh PATH/TO/seed_async_server
. "$(dirname "$0")/lib.sh"
SEED_BIN=${1:?usage: $0 seed_async_server}
need coap-client-notls
CLIENT=(coap-client-notls -B 8)

start_listening seed_async_server "$SEED_BIN" ::1 0 || exit 1
BASE="coap://[::1]:$SERVER_PORT"

expect "CON GET /async?1 -> done (empty ACK, then separate 2.05)" out-eq "done" \
  "${CLIENT[@]}" "$BASE/async?1"
expect "on the wire: empty ACK (no token) first" out-re 't:ACK c:0\.00 i:[0-9a-f]+ \{\} \[ \]' \
  "${CLIENT[@]}" -v 7 "$BASE/async?1"
expect "on the wire: then a CON 2.05 text/plain 'done'" out-re \
  "t:CON c:2\.05 i:[0-9a-f]+ \{[0-9a-f]+\} \[ Content-Format:text/plain \] :: 'done'" \
  "${CLIENT[@]}" -v 7 "$BASE/async?1"
expect "NON GET /async?1 -> done" out-eq "done" \
  "${CLIENT[@]}" -N "$BASE/async?1"
expect "NON GET /async?1 -> answered by a NON 2.05" out-has "t:NON c:2.05" \
  "${CLIENT[@]}" -v 7 -N "$BASE/async?1"
expect "GET /async?0 -> 4.00 Bad Request" err-has "4.00" \
  "${CLIENT[@]}" "$BASE/async?0"
expect "GET /other -> 4.04" err-has "4.04" "${CLIENT[@]}" "$BASE/other"

# Two requests pending at once from two clients, answered in delay order.
timeout 15 coap-client-notls -B 8 "$BASE/async?2" >"$TMP/slow" 2>&1 &
slow=$!
expect "GET /async?1 while /async?2 is pending -> done" out-eq "done" \
  "${CLIENT[@]}" "$BASE/async?1"
wait "$slow"
if [ "$(cat "$TMP/slow")" = "done" ]; then
  pass "the pending /async?2 -> done"
else
  fail "the pending /async?2 -> done" "$(tr '\n' '|' <"$TMP/slow")"
fi

stop_cleanly seed_async_server "$SERVER_PID"
finish
