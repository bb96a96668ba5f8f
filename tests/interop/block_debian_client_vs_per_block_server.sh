#!/usr/bin/env bash
# Interop, block-wise (RFC 7959): Debian's libcoap coap-client-notls PUTs to
# our coap-server run in per-block mode (-L 1, libcoap's example server's
# default: COAP_BLOCK_USE_LIBCOAP without COAP_BLOCK_SINGLE_BODY), where the
# /example_data handler sees every Block1 block and answers 2.31 itself.
#   - PUT of 20480 bytes in blocks of 64: each 2.31 carries the Block1 of the
#     block it answers (without it libcoap's client stops after block 0 and
#     exits 0), the last answer is 2.04 with Block1:319/_/64, and the server
#     then holds the whole new body: read back byte-exact
#   - kept back: 204800 bytes in blocks of 1024 and of 16, a POST, and our
#     own client's upload at the server's block size
# usage: block_debian_client_vs_per_block_server.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
need coap-client-notls
need perl
CLIENT=(coap-client-notls -B 30)
OURS=("$CLIENT_BIN" -B 30)
make_bodies
GOT="$TMP/got"
BODY20K="$TMP/20k.bin"
perl -e 'print map { chr(($_ * 7 + int($_ / 256)) % 256) } 0 .. 20479' \
  >"$BODY20K"

start_listening coap-server "$SERVER_BIN" -A ::1 -p 0 -L 1 || exit 1
BASE="coap://[::1]:$SERVER_PORT"

# A first body, so that a lost upload would leave this one behind.
expect "PUT a first, small body" rc 0 \
  "${CLIENT[@]}" -m put -e "old body" "$BASE/example_data"
expect "PUT 20480 bytes -b 64: the last answer is 2.04 with Block1:319/_/64" \
  out-re 't:ACK c:2\.04 .*Block1:319/_/64' \
  "${CLIENT[@]}" -v 7 -m put -b 64 -f "$BODY20K" "$BASE/example_data"
if [ "$(grep -cE 't:ACK c:2\.31 ' "$OUT")" = 319 ] &&
  [ "$(grep -cE 't:ACK c:2\.31 .*Block1:[0-9]+/M/64' "$OUT")" = 319 ] &&
  [ "$RC" = 0 ]; then
  pass "PUT -b 64: blocks 0..318 each answered 2.31 with their Block1, exit 0"
else
  fail "PUT -b 64: blocks 0..318 each answered 2.31 with their Block1, exit 0" \
    "2.31 answers: $(grep -cE 't:ACK c:2\.31 ' "$OUT"), with Block1:" \
    "$(grep -cE 't:ACK c:2\.31 .*Block1:[0-9]+/M/64' "$OUT"), exit $RC"
fi
expect_body "the server holds the whole new body (Debian's client reads it)" \
  "$BODY20K" "$GOT" "${CLIENT[@]}" -o "$GOT" "$BASE/example_data"
expect_body "the same, read by our client in blocks of 256" \
  "$BODY20K" "$GOT" "${OURS[@]}" -b 256 -o "$GOT" "$BASE/example_data"

expect "PUT 204800 bytes -b 1024 to the per-block server: exit 0" rc 0 \
  "${CLIENT[@]}" -m put -b 1024 -f "$UPLOAD_BODY" "$BASE/example_data"
expect_body "GET gives the 204800 bytes back" \
  "$UPLOAD_BODY" "$GOT" "${CLIENT[@]}" -o "$GOT" "$BASE/example_data"
expect "POST 20480 bytes -b 16: 2.01 with Block1:1279/_/16" \
  out-re 't:ACK c:2\.01 .*Block1:1279/_/16' \
  "${CLIENT[@]}" -v 7 -m post -b 16 -f "$BODY20K" "$BASE/example_data"
expect_body "GET gives the POSTed 20480 bytes back" \
  "$BODY20K" "$GOT" "${CLIENT[@]}" -b 64 -o "$GOT" "$BASE/example_data"
expect "our client PUTs 256 KiB of text without -b: exit 0" rc 0 \
  "${OURS[@]}" -m put -f "$LARGE_BODY" "$BASE/example_data"
expect_body "GET gives the 256 KiB back" \
  "$LARGE_BODY" "$GOT" "${CLIENT[@]}" -o "$GOT" "$BASE/example_data"

stop_cleanly coap-server "$SERVER_PID"
finish
