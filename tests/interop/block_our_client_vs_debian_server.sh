#!/usr/bin/env bash
# Interop, block-wise (RFC 7959): our coap-client against Debian's libcoap
# coap-server-notls, whose /example_data takes PUT bodies of any size.
#   - PUT 204800 bytes with -m put -b 64 -f FILE (Block1 blocks of 64
#     bytes), then GET it back in Block2 blocks of 16, 64, 1024 and the
#     server's choice, byte-exact; Debian's own client reads it back too
#   - the same with blocks of 1024 and 256 KiB of text
#   - -b num,size: a GET for one block in the middle (random access)
# usage: block_our_client_vs_debian_server.sh PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client}
need coap-server-notls
need coap-client-notls
need perl
CLIENT=("$CLIENT_BIN" -B 30)
make_bodies
GOT="$TMP/got"

start_debian_server || exit 1
BASE="coap://[::1]:$DEBIAN_PORT"

expect "PUT 204800 bytes -m put -b 64 -f FILE to /example_data" rc 0 \
  "${CLIENT[@]}" -m put -b 64 -f "$UPLOAD_BODY" "$BASE/example_data"
expect "on the wire: Block1:0/M/64 with Size1 and a Request-Tag first" out-re \
  't:CON c:PUT .*Block1:0/M/64, Size1:204800, Request-Tag:0x[0-9a-f]+ \]' \
  "${CLIENT[@]}" -v 7 -m put -b 64 -f "$UPLOAD_BODY" "$BASE/example_data"
if [ "$(grep -cE 't:CON c:PUT ' "$OUT")" = 3200 ] &&
  grep -qE 't:CON c:PUT .*Block1:3199/_/64' "$OUT"; then
  pass "on the wire: 3200 PUTs of 64 bytes, the last Block1:3199 with M clear"
else
  fail "on the wire: 3200 PUTs of 64 bytes, the last Block1:3199 with M clear" \
    "PUTs sent: $(grep -cE 't:CON c:PUT ' "$OUT")"
fi
for b in 16 64 1024; do
  expect_body "GET /example_data -b $b" "$UPLOAD_BODY" "$GOT" \
    "${CLIENT[@]}" -b "$b" -o "$GOT" "$BASE/example_data"
done
expect_body "GET /example_data without -b" "$UPLOAD_BODY" "$GOT" \
  "${CLIENT[@]}" -o "$GOT" "$BASE/example_data"
expect_body "Debian's client reads back what we PUT" "$UPLOAD_BODY" "$GOT" \
  coap-client-notls -B 30 -o "$GOT" "$BASE/example_data"

expect "PUT 256 KiB of text -b 1024 -f FILE" rc 0 \
  "${CLIENT[@]}" -m put -t text -b 1024 -f "$LARGE_BODY" "$BASE/example_data"
expect_body "GET /example_data -b 128 gives it back" "$LARGE_BODY" "$GOT" \
  "${CLIENT[@]}" -b 128 -o "$GOT" "$BASE/example_data"
expect_body "Debian's client -b 64 reads it back" "$LARGE_BODY" "$GOT" \
  coap-client-notls -B 30 -b 64 -o "$GOT" "$BASE/example_data"

# -b 100,64: the library hands over block 100 alone (bytes 6400..6463).
head -c 6464 "$LARGE_BODY" | tail -c 64 >"$TMP/block100"
expect_body "GET -b 100,64 is block 100 alone" "$TMP/block100" "$GOT" \
  "${CLIENT[@]}" -b 100,64 -o "$GOT" "$BASE/example_data"

# POST is block-wise too (Block1): Debian's /example_data does not take
# POST, so only the answer is checked: an error, not a hang.
expect "a 204800-byte POST is answered 4.05, not lost" err-has "4.05" \
  "${CLIENT[@]}" -m post -b 64 -f "$UPLOAD_BODY" "$BASE/example_data"
finish
