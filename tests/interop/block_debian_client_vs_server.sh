#!/usr/bin/env bash
# Interop, block-wise (RFC 7959): Debian's libcoap coap-client-notls against
# our coap-server.
#   - GET /large (256 KiB) in Block2 blocks of 16, 64 and 1024 bytes, and
#     with no -b (the server picks the size), each byte-exact
#   - PUT of 204800 bytes in Block1 blocks of 64 bytes to /example_data,
#     which the server reassembles: read back byte-exact by Debian's client
#     and by ours, then DELETE
#   - /async_large?1: a separate response whose 4096-byte body takes
#     several blocks (see the note below on what libcoap's client does)
# usage: block_debian_client_vs_server.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
need coap-client-notls
need perl
CLIENT=(coap-client-notls -B 30)
OURS=("$CLIENT_BIN" -B 30)
make_bodies
GOT="$TMP/got"

start_listening coap-server "$SERVER_BIN" -A ::1 -p 0 || exit 1
BASE="coap://[::1]:$SERVER_PORT"

for size in 16 64 1024; do
  expect_body "GET /large -b $size" "$LARGE_BODY" "$GOT" \
    "${CLIENT[@]}" -b "$size" -o "$GOT" "$BASE/large"
done
expect_body "GET /large without -b" "$LARGE_BODY" "$GOT" \
  "${CLIENT[@]}" -o "$GOT" "$BASE/large"
expect "GET /large -b 64: block 0 is 2.05 Block2:0/M/64 with Size2 and ETag" \
  out-re 't:ACK c:2\.05 .*ETag:.*Block2:0/M/64, Size2:262144 \]' \
  "${CLIENT[@]}" -v 7 -b 64 -o "$GOT" "$BASE/large"
expect "GET /large -b 64: the last block is 4095 with M clear" \
  out-re 't:ACK c:2\.05 .*Block2:4095/_/64' \
  "${CLIENT[@]}" -v 7 -b 64 -o "$GOT" "$BASE/large"

expect "PUT 204800 bytes -b 64 to /example_data: 2.04 after the last block" \
  out-re 't:ACK c:2\.04 .*Block1:3199/_/64' \
  "${CLIENT[@]}" -v 7 -m put -b 64 -f "$UPLOAD_BODY" "$BASE/example_data"
if grep -qE 't:ACK c:2\.31 .*Block1:0/M/64' "$OUT" &&
  [ "$(grep -cE 't:ACK c:2\.31 ' "$OUT")" = 3199 ]; then
  pass "PUT -b 64: blocks 0..3198 each answered 2.31 Continue"
else
  fail "PUT -b 64: blocks 0..3198 each answered 2.31 Continue" \
    "2.31 answers: $(grep -cE 't:ACK c:2\.31 ' "$OUT")"
fi
expect_body "GET /example_data gives the 204800 bytes back (Debian's client)" \
  "$UPLOAD_BODY" "$GOT" "${CLIENT[@]}" -o "$GOT" "$BASE/example_data"
expect_body "GET /example_data -b 1024 (Debian's client)" \
  "$UPLOAD_BODY" "$GOT" "${CLIENT[@]}" -b 1024 -o "$GOT" "$BASE/example_data"
expect_body "GET /example_data -b 32 (our client)" \
  "$UPLOAD_BODY" "$GOT" "${OURS[@]}" -b 32 -o "$GOT" "$BASE/example_data"
expect "PUT again -b 1024 replaces: 2.04" out-re 't:ACK c:2\.04 .*Block1:255/_/1024' \
  "${CLIENT[@]}" -v 7 -m put -b 1024 -f "$LARGE_BODY" "$BASE/example_data"
expect_body "GET /example_data shows the replacement" \
  "$LARGE_BODY" "$GOT" "${CLIENT[@]}" -b 256 -o "$GOT" "$BASE/example_data"
expect "DELETE /example_data: 2.02" out-has "t:ACK c:2.02" \
  "${CLIENT[@]}" -v 7 -m delete "$BASE/example_data"

# /async_large?1: Empty ACK, then after a second a CON 2.05 with block 0 of
# 4096 bytes; the client must ask for blocks 1.. itself. Our client does
# (the control: the server serves them).
expect_body "our client: CON GET /async_large?1, the whole 4096 bytes" \
  "$ASYNC_BODY" "$GOT" "${OURS[@]}" -o "$GOT" "$BASE/async_large?1"
expect "on the wire: Empty ACK, then a CON 2.05 Block2:0/M/1024 Size2:4096" \
  out-re 't:CON c:2\.05 .*Block2:0/M/1024, Size2:4096 \] :: .line 0' \
  "${CLIENT[@]}" -B 4 -v 7 "$BASE/async_large?1"
# libcoap 4.3.1's client (Debian 12's) has a known limit: it matches a
# separate Block2 response to no request once the Empty ACK closed the
# exchange, so it logs "large body receive internal issue", ACKs block 0,
# asks for nothing more and prints nothing. That version is tested around
# it: exactly that stop is expected (the server's side of the exchange is
# checked on the wire above, and our client gets the whole body from it);
# any other version must get the whole body. One outcome each.
client_version=$(coap-client-notls 2>&1 | sed -nE '1s/.* v([0-9][0-9.]*) .*/\1/p')
echo "coap-client-notls is version ${client_version:-unknown}"
if [ "$client_version" = 4.3.1 ]; then
  LAST_CMD="${CLIENT[*]} -B 4 -v 7 -o $GOT $BASE/async_large?1"
  rm -f "$GOT"
  run 15 "${CLIENT[@]}" -B 4 -v 7 -o "$GOT" "$BASE/async_large?1"
  if [ ! -s "$GOT" ] && grep -q "large body receive internal issue" "$OUT" &&
    grep -qE 't:CON c:2\.05 .*Block2:0/M/1024' "$OUT" &&
    ! grep -qE 'c:GET .*Block2:1/' "$OUT"; then
    pass "Debian's client 4.3.1: CON GET /async_large?1 gets block 0 and stops (its known limit: no body, no request for block 1)"
  else
    fail "Debian's client 4.3.1: CON GET /async_large?1: block 0, then the known stop" \
      "$(show | tr '\n' '|')"
  fi
else
  expect_body "Debian's client ${client_version:-?}: CON GET /async_large?1, the whole 4096 bytes" \
    "$ASYNC_BODY" "$GOT" "${CLIENT[@]}" -B 4 -o "$GOT" "$BASE/async_large?1"
fi

stop_cleanly coap-server "$SERVER_PID"
finish
