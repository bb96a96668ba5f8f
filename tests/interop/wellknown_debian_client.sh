#!/usr/bin/env bash
# Interop, /.well-known/core (RFC 6690) served block-wise (RFC 7959):
# Debian's libcoap coap-client-notls against tests/interop/wellknown_server
# (40 resources "sensor/NN", about 3.4 KB of links, and "a%2Fb").
#   - the whole list, byte-exact, with -b 16 (SZX 0), 64, 1024 and no -b
#   - on the wire: block 0 carries Block2:0/M/16, Size2 and an ETag; the
#     last block has M clear; every block the same ETag
#   - filters through Block2: ?href= with and without the leading '/',
#     ?title=, ?rt=
#   - one Uri-Path option ".well-known/core" (written %2F in the URI) is
#     4.04; the resource "a%2Fb" is reached by the one option "a/b"
# usage: wellknown_debian_client.sh PATH/TO/wellknown_server
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 wellknown_server}
need coap-client-notls
CLIENT=(coap-client-notls -B 30)

# The expected list, built here from the same names: sorted by path.
link() {
  printf '</sensor/%02d>;rt="temperature-c";if="sensor";title="Sensor number %02d on the roof";ct=0' "$1" "$1"
}
ALL='</a%2Fb>'
for i in $(seq 0 39); do ALL="$ALL,$(link "$i")"; done
TEENS=""
for i in $(seq 10 19); do TEENS="$TEENS${TEENS:+,}$(link "$i")"; done
SIZE=${#ALL}

start_listening wellknown_server "$SERVER_BIN" ::1 || exit 1
BASE="coap://[::1]:$SERVER_PORT"

for size in 16 64 1024; do
  expect "GET /.well-known/core -b $size: all 41 links, byte-exact ($SIZE bytes)" \
    out-eq "$ALL" "${CLIENT[@]}" -b "$size" "$BASE/.well-known/core"
done
expect "GET /.well-known/core without -b: all 41 links, byte-exact" \
  out-eq "$ALL" "${CLIENT[@]}" "$BASE/.well-known/core"

expect "-b 16: block 0 is 2.05 with ETag, Content-Format 40, Block2:0/M/16, Size2:$SIZE" \
  out-re "t:ACK c:2\.05 .*ETag:0x[0-9a-f]+, Content-Format:application/link-format, Block2:0/M/16, Size2:$SIZE \]" \
  "${CLIENT[@]}" -v 7 -b 16 "$BASE/.well-known/core"
# (libcoap's client logs the last block twice: as received, and as the
# reassembled body under the original token; blocks are counted by number.)
LAST=$(((SIZE + 15) / 16 - 1))
if grep -qE "t:ACK c:2\.05 .*Block2:$LAST/_/16" "$OUT" &&
  [ "$(grep -oE 't:ACK c:2\.05 .*Block2:[0-9]+/' "$OUT" |
    grep -oE 'Block2:[0-9]+' | sort -u | wc -l)" = $((LAST + 1)) ] &&
  [ "$(grep -oE 'ETag:0x[0-9a-f]+' "$OUT" | sort -u | wc -l)" = 1 ]; then
  pass "-b 16: $((LAST + 1)) blocks, the last ($LAST) with M clear, one ETag"
else
  fail "-b 16: $((LAST + 1)) blocks, the last ($LAST) with M clear, one ETag" \
    "$(grep -cE 't:ACK c:2\.05 ' "$OUT") answers;" \
    "$(grep -oE 'ETag:0x[0-9a-f]+' "$OUT" | sort -u | wc -l) ETags"
fi

expect "?href=/sensor/1* -b 16: the ten links" out-eq "$TEENS" \
  "${CLIENT[@]}" -b 16 "$BASE/.well-known/core?href=/sensor/1*"
expect "?href=sensor/1* (no leading '/') -b 16: the same ten links" \
  out-eq "$TEENS" "${CLIENT[@]}" -b 16 "$BASE/.well-known/core?href=sensor/1*"
expect "?title=Sensor number 07 on the roof: one link" out-eq "$(link 7)" \
  "${CLIENT[@]}" -b 32 "$BASE/.well-known/core?title=Sensor%20number%2007%20on%20the%20roof"
expect "?rt=temperature-c -b 64: the 40 sensors" out-eq "${ALL#</a%2Fb>,}" \
  "${CLIENT[@]}" -b 64 "$BASE/.well-known/core?rt=temperature-c"
expect "?href=/a%2Fb: the one link" out-eq '</a%2Fb>' \
  "${CLIENT[@]}" "$BASE/.well-known/core?href=/a%252Fb"

expect "one Uri-Path option \".well-known/core\": 4.04" \
  out-re 't:ACK c:4\.04 ' "${CLIENT[@]}" -v 7 "$BASE/.well-known%2Fcore"
expect "the one option \"a/b\" reaches the resource a%2Fb" out-eq 'a%2Fb' \
  "${CLIENT[@]}" "$BASE/a%2Fb"
expect "the two options \"a\", \"b\" do not: 4.04" \
  out-re 't:ACK c:4\.04 ' "${CLIENT[@]}" -v 7 "$BASE/a/b"

stop_cleanly wellknown_server "$SERVER_PID"
finish
