#!/usr/bin/env bash
# Our coap-client against a responder whose 2.05 carries an option the
# client must not act on (RFC 7252 5.4.1): the response is never printed and
# the exit status is not 0. An elective unknown option is ignored and the
# response printed with exit 0.
# usage: client_rejects_bad_option.sh PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client}
need node
RESPONDER="$(dirname "$0")/../node/bad_option_server.js"

# serve NAME MODE OPTION: starts the responder; Resets it gets go to
# $TMP/NAME.rst.
serve() {
  local name=$1 mode=$2 option=$3
  start_listening "$name" sh -c 'exec node "$1" "$2" "$3" >"$4"' sh \
    "$RESPONDER" "$mode" "$option" "$TMP/$name.rst" || exit 1
  URI="coap://127.0.0.1:$SERVER_PORT/x"
}

# The issue's input: 2.05 with option 65001, piggybacked. The ACK is
# ignored, so no answer is taken before -B runs out.
serve ack65001 ack 65001
expect "piggybacked 2.05 with option 65001: not printed, exit 3" rc 3 \
  "$CLIENT_BIN" -B 3 "$URI"
if [ ! -s "$OUT" ] && grep -q "rejected" "$ERR"; then
  pass "piggybacked 2.05 with option 65001: stderr says it was rejected"
else
  fail "piggybacked 2.05 with option 65001: stderr says it was rejected" \
    "$(show | tr '\n' '|')"
fi

# Kept-back inputs of the same kind, along each path.
serve ack140 ack 140
expect "piggybacked 2.05 with reserved option 140: exit 3" rc 3 \
  "$CLIENT_BIN" -B 3 "$URI"
serve con2049 con 2049
expect "separate CON 2.05 with option 2049: exit 4" rc 4 \
  "$CLIENT_BIN" -B 10 "$URI"
expect "separate CON 2.05 with option 2049: nothing printed" out-eq "" \
  "$CLIENT_BIN" -B 10 "$URI"
if grep -q "^rst " "$TMP/con2049.rst"; then
  pass "separate CON 2.05 with option 2049 is answered with a Reset"
else
  fail "separate CON 2.05 with option 2049 is answered with a Reset" \
    "$(cat "$TMP/con2049.rst" | tr '\n' '|')"
fi
serve non128 non 128
expect "NON 2.05 with reserved option 128: exit 4" rc 4 \
  "$CLIENT_BIN" -N -B 10 "$URI"

# The elective neighbour is ignored: printed, exit 0.
serve ack65000 ack 65000
expect "piggybacked 2.05 with elective option 65000 is printed" out-eq "bad" \
  "$CLIENT_BIN" -B 3 "$URI"
expect "piggybacked 2.05 with elective option 65000: exit 0" rc 0 \
  "$CLIENT_BIN" -B 3 "$URI"
finish
