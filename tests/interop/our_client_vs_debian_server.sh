#!/usr/bin/env bash
# Interop (b): our coap-client against Debian's libcoap coap-server-notls.
# usage: our_client_vs_debian_server.sh PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client}
need coap-server-notls
need coap-client-notls
CLIENT=("$CLIENT_BIN" -B 5)

start_debian_server || exit 1
BASE="coap://[::1]:$DEBIAN_PORT"
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

expect "GET / shows libcoap's description" out-has "test server made with libcoap" \
  "${CLIENT[@]}" "$BASE/"
expect "GET / exits 0" rc 0 "${CLIENT[@]}" "$BASE/"
expect "GET /time is the time as text" out-re "$TIME_RE" "${CLIENT[@]}" "$BASE/time"
expect "NON GET /time (-N) is answered" out-re "$TIME_RE" \
  "${CLIENT[@]}" -N "$BASE/time"
expect "GET /.well-known/core with -A link" out-has "</time>" \
  "${CLIENT[@]}" -A link "$BASE/.well-known/core"
expect "GET /nonexistent exits 2" rc 2 "${CLIENT[@]}" "$BASE/nonexistent"
expect "GET /nonexistent prints 4.04 Not Found" err-has "4.04 Not Found" \
  "${CLIENT[@]}" "$BASE/nonexistent"
expect "GET with -T token and an elective -O option" out-re "$TIME_RE" \
  "${CLIENT[@]}" -T 0x1234 -O 2048,abc "$BASE/time"
# libcoap answers 4.02 with the unknown critical option echoed in it, so the
# 4.02 itself carries an option the client does not recognize: RFC 7252
# 5.4.1 has it rejected (libcoap's own client does the same).
expect "a critical unknown -O option: its 4.02 is rejected, exit 3" rc 3 \
  "$CLIENT_BIN" -B 3 -O 2049,abc "$BASE/time"
if grep -q "rejected" "$ERR"; then
  pass "a critical unknown -O option: stderr says responses were rejected"
else
  fail "a critical unknown -O option: stderr says responses were rejected" \
    "$(show | tr '\n' '|')"
fi

OUTFILE="$TMP/index.txt"
expect "GET / -o file exits 0" rc 0 "${CLIENT[@]}" -o "$OUTFILE" "$BASE/"
if grep -q "test server made with libcoap" "$OUTFILE" 2>/dev/null; then
  pass "-o file holds the payload"
else
  fail "-o file holds the payload" "$(head -c 200 "$OUTFILE" 2>&1)"
fi

expect "PUT /example_data" rc 0 \
  "${CLIENT[@]}" -m put -t text -e "from petrel" "$BASE/example_data"
expect "GET /example_data shows it" out-eq "from petrel" \
  "${CLIENT[@]}" "$BASE/example_data"

# Nothing listens on the port just freed: ICMP or retransmissions must end in
# a non-zero exit with a message, never a hang.
spare=$((DEBIAN_PORT == 65535 ? DEBIAN_PORT - 1 : DEBIAN_PORT + 1))
expect "no server: non-zero exit within -B" rc-nonzero "" \
  "$CLIENT_BIN" -B 3 "coap://[::1]:$spare/time"
if grep -qE "not delivered|no response" "$ERR"; then
  pass "no server: a clear message on stderr"
else
  fail "no server: a clear message on stderr" "$(show | tr '\n' '|')"
fi
expect "bad URI is a usage error" rc 1 "$CLIENT_BIN" "not a uri"
finish
