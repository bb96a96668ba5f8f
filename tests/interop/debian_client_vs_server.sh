#!/usr/bin/env bash
# Interop (a): Debian's libcoap coap-client-notls against our coap-server.
# usage: debian_client_vs_server.sh PATH/TO/coap-server
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server}
need coap-client-notls
CLIENT=(coap-client-notls -B 5)

start_listening coap-server "$SERVER_BIN" -A ::1 -p 0 || exit 1
BASE="coap://[::1]:$SERVER_PORT"
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'

expect "GET / describes the server" out-has "test server made with Petrel" \
  "${CLIENT[@]}" "$BASE/"
expect "GET /time is the time as text" out-re "$TIME_RE" "${CLIENT[@]}" "$BASE/time"
expect "GET /time?ticks is a number" out-re '^[0-9]+$' "${CLIENT[@]}" "$BASE/time?ticks"
expect "GET /.well-known/core lists </time>" out-has "</time>" \
  "${CLIENT[@]}" "$BASE/.well-known/core"
expect "GET /.well-known/core lists </async> and its title" out-has '</async>' \
  "${CLIENT[@]}" "$BASE/.well-known/core"
expect "GET /.well-known/core shows /time's attributes" out-has 'rt="ticks"' \
  "${CLIENT[@]}" "$BASE/.well-known/core"
expect "GET /nonexistent is 4.04 Not Found" err-has "4.04" \
  "${CLIENT[@]}" "$BASE/nonexistent"
expect "NON GET /time (-N) is answered" out-re "$TIME_RE" \
  "${CLIENT[@]}" -N "$BASE/time"
expect "NON GET /time is answered with a NON" out-has "t:NON c:2.05" \
  "${CLIENT[@]}" -v 7 -N "$BASE/time"
expect "GET / is a piggybacked ACK 2.05 with Content-Format" out-re \
  't:ACK c:2\.05 .*Content-Format:text/plain' "${CLIENT[@]}" -v 7 "$BASE/"

# /example_data: starts with libcoap's 1500 bytes, PUT replaces, GET reads
# back, POST replaces, DELETE removes (then GET is 4.04 and PUT creates).
EXAMPLE_START=$(perl -e 'print map { $_ % 10 ? $_ % 10 : chr(97 + ($_ / 10) % 26) } 0 .. 1499')
expect "GET /example_data before any PUT: libcoap's first 1500 bytes" \
  out-eq "$EXAMPLE_START" "${CLIENT[@]}" "$BASE/example_data"
expect "PUT /example_data replaces: 2.04" out-has "t:ACK c:2.04" \
  "${CLIENT[@]}" -v 7 -m put -t text -e "hello petrel" "$BASE/example_data"
expect "GET /example_data shows the PUT data" out-eq "hello petrel" \
  "${CLIENT[@]}" "$BASE/example_data"
expect "PUT /example_data again replaces: 2.04" out-has "t:ACK c:2.04" \
  "${CLIENT[@]}" -v 7 -m put -e "second value" "$BASE/example_data"
expect "GET /example_data shows the replaced data" out-eq "second value" \
  "${CLIENT[@]}" "$BASE/example_data"
expect "POST /example_data: 2.01" out-has "t:ACK c:2.01" \
  "${CLIENT[@]}" -v 7 -m post -t json -e '{"posted":1}' "$BASE/example_data"
expect "GET /example_data shows the POST data" out-eq '{"posted":1}' \
  "${CLIENT[@]}" "$BASE/example_data"
expect "DELETE /example_data: 2.02" out-has "t:ACK c:2.02" \
  "${CLIENT[@]}" -v 7 -m delete "$BASE/example_data"
expect "GET /example_data after DELETE is 4.04" err-has "4.04" \
  "${CLIENT[@]}" "$BASE/example_data"
expect "PUT /example_data after DELETE creates: 2.01" out-has "t:ACK c:2.01" \
  "${CLIENT[@]}" -v 7 -m put -e "new" "$BASE/example_data"

# /time: PUT sets the clock, DELETE stops it, an empty PUT restarts it.
expect "PUT /time 1000000000: 2.04" out-has "t:ACK c:2.04" \
  "${CLIENT[@]}" -v 7 -m put -e 1000000000 "$BASE/time"
expect "GET /time?ticks follows the PUT" out-re '^100000000[0-9]$' \
  "${CLIENT[@]}" "$BASE/time?ticks"
expect "DELETE /time: 2.02" out-has "t:ACK c:2.02" "${CLIENT[@]}" -v 7 -m delete "$BASE/time"
expect "GET /time after DELETE is 4.04" err-has "4.04" "${CLIENT[@]}" "$BASE/time"
expect "empty PUT /time restarts the clock: 2.01" out-has "t:ACK c:2.01" \
  "${CLIENT[@]}" -v 7 -m put "$BASE/time"
expect "GET /time works again" out-re "$TIME_RE" "${CLIENT[@]}" "$BASE/time"

stop_cleanly coap-server "$SERVER_PID"
finish
