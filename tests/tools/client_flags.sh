#!/usr/bin/env bash
# coap-client's options (libcoap 4.3.4's letters and meanings), one named
# check each, against a real server: our coap-server logging every PDU it
# sends and receives (-v 7), and Debian's coap-server-notls as a forward
# proxy for -P. What a script reads is checked byte for byte: payloads,
# the final newline on standard output, -w, -o -, error lines.
# usage: client_flags.sh PATH/TO/coap-client PATH/TO/coap-server
. "$(dirname "$0")/../interop/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client coap-server}
SERVER_BIN=${2:?usage: $0 coap-client coap-server}
C=("$CLIENT_BIN" -B 10)
SLOG="$TMP/server.out"
TIME_RE='^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'
make_bodies

start_listening coap-server bash -c 'exec "$0" -A 127.0.0.1 -p 0 -v 7 -T 64 >"$1"' \
  "$SERVER_BIN" "$SLOG" || exit 1
BASE="coap://127.0.0.1:$SERVER_PORT"

# mark; ...; logged PATTERN: PATTERN (extended regex) is in what the server
# logged since the mark, or comes within 10 s (the server logs a datagram
# it sends after sending it: the client can have its answer first).
# logged_now PATTERN: the same without waiting, for what must be absent
# once a line written at the same time is there.
mark() { MARK=$(stat -c %s "$SLOG"); }
logged_now() { tail -c +$((MARK + 1)) "$SLOG" | grep -qE -- "$1"; }
logged() { eventually 10 logged_now "$1"; }
# check_log NAME PATTERN CMD...: CMD exits 0 and the server logged PATTERN.
check_log() {
  local name=$1 pattern=$2
  shift 2
  LAST_CMD="$*"
  mark
  run 20 "$@"
  if [ "$RC" = 0 ] && logged "$pattern"; then
    pass "$name"
  else
    fail "$name" "server log lacks: $pattern" "$(show | tr '\n' '|')"
  fi
}
# check_bytes NAME EXPECTED-FILE CMD...: CMD exits 0 with exactly these bytes
# on standard output.
check_bytes() {
  local name=$1 want=$2
  shift 2
  LAST_CMD="$*"
  run 30 "$@"
  if [ "$RC" = 0 ] && cmp -s "$want" "$OUT"; then
    pass "$name ($(wc -c <"$OUT") bytes)"
  else
    fail "$name" "$(cmp "$want" "$OUT" 2>&1 | head -n1)" "$(show | tr '\n' '|')"
  fi
}
# refused NAME TEXT CMD...: CMD exits 1 and says TEXT on stderr.
refused() {
  local name=$1 text=$2
  shift 2
  LAST_CMD="$*"
  run 10 "$@"
  if [ "$RC" = 1 ] && grep -qF -- "$text" "$ERR"; then
    pass "$name"
  else
    fail "$name" "expected exit 1 and: $text" "$(show | tr '\n' '|')"
  fi
}

echo "# output as libcoap's coap-client writes it"
printf 'hello\n' >"$TMP/hello.nl"
printf 'hello' >"$TMP/hello"
printf 'hello\n\n' >"$TMP/hello.w"
expect "-e: PUT a body" rc 0 "${C[@]}" -m put -e hello "$BASE/example_data"
check_bytes "a payload on stdout ends with one newline" "$TMP/hello.nl" \
  "${C[@]}" "$BASE/example_data"
check_bytes "-w: a newline after the payload, then the final one" "$TMP/hello.w" \
  "${C[@]}" -w "$BASE/example_data"
check_bytes "-o -: the payload on stdout, without the final newline" "$TMP/hello" \
  "${C[@]}" -o - "$BASE/example_data"
rm -f "$TMP/got"
expect "-o file: the payload alone in the file" rc 0 \
  "${C[@]}" -o "$TMP/got" "$BASE/example_data"
cmp -s "$TMP/hello" "$TMP/got" && pass "-o file holds exactly the payload" ||
  fail "-o file holds exactly the payload" "$(od -c "$TMP/got" | head -n2)"
expect "an error response: exit 2" rc 2 "${C[@]}" "$BASE/nonexistent"
# The library's own 4.04 carries its reason phrase as payload, as libcoap's.
if [ "$(cat "$ERR")" = "4.04 Not Found" ] && [ ! -s "$OUT" ]; then
  pass "an error response is libcoap's line on stderr: '4.04 Not Found'"
else
  fail "an error response is libcoap's line on stderr" "$(show | tr '\n' '|')"
fi
expect "-m delete: 2.02, nothing written" out-eq "" \
  "${C[@]}" -m delete "$BASE/example_data"

echo "# one check per option"
check_log "-a: sends from the local address given" '<-> 127\.0\.0\.2:[0-9]+ UDP: received' \
  "${C[@]}" -a 127.0.0.2 "$BASE/time"
port=$((30000 + RANDOM % 20000))
check_log "-p: sends from the local port given ($port)" "<-> 127\.0\.0\.1:$port UDP: received" \
  "${C[@]}" -p "$port" "$BASE/time"
check_log "-a and -p together" "<-> 127\.0\.0\.2:$((port + 1)) UDP: received" \
  "${C[@]}" -a 127.0.0.2 -p $((port + 1)) "$BASE/time"
check_log "-b 48: blocks of 32 (the largest power of two not above 48)" \
  'Block2:1/M/32' "${C[@]}" -b 48 -o "$TMP/got" "$BASE/large"
cmp -s "$LARGE_BODY" "$TMP/got" && pass "-b 48: the whole body, byte-exact" ||
  fail "-b 48: the whole body, byte-exact"
head -c 192 "$LARGE_BODY" | tail -c 64 >"$TMP/block2"
rm -f "$TMP/got"
expect "-b 2,64: exit 0" rc 0 "${C[@]}" -b 2,64 -o "$TMP/got" "$BASE/large"
cmp -s "$TMP/block2" "$TMP/got" && pass "-b 2,64: block 2 alone (bytes 128..191)" ||
  fail "-b 2,64: block 2 alone (bytes 128..191)" "$(od -c "$TMP/got" | head -n2)"
expect "-b 1000 is refused (not a multiple of 16)" rc 1 "${C[@]}" -b 1000 "$BASE/large"
head -c 5000 "$UPLOAD_BODY" >"$TMP/up"
check_log "-f: PUT a 5000-byte file in Block1 blocks (-b 256)" 'Block1:19/_/256' \
  "${C[@]}" -m put -b 256 -f "$TMP/up" "$BASE/example_data"
expect_body "-f: the file comes back byte-exact" "$TMP/up" "$TMP/got" \
  "${C[@]}" -o "$TMP/got" "$BASE/example_data"
check_log "-l 1: the first datagram is dropped, its retransmission answered" \
  'received 1[0-9] bytes' "${C[@]}" -l 1 "$BASE/time"
grep -qE "$TIME_RE" "$OUT" && pass "-l 1: the answer is written" ||
  fail "-l 1: the answer is written" "$(show | tr '\n' '|')"
expect "-l 100%: nothing leaves, exit 3 after -B" rc 3 \
  "$CLIENT_BIN" -B 2 -l 100% "$BASE/time"
expect "-l with a bad list is refused" rc 1 "${C[@]}" -l 1,x "$BASE/time"
check_log "-m post" 't:CON c:POST' "${C[@]}" -m post -e x "$BASE/example_data"
check_log "-m fetch with the body 'ticks' (as /time?ticks)" 't:CON c:FETCH' \
  "${C[@]}" -m fetch -e ticks "$BASE/time"
grep -qE '^[0-9]{10,}$' "$OUT" && pass "-m fetch: /time answers the seconds" ||
  fail "-m fetch: /time answers the seconds" "$(show | tr '\n' '|')"
expect "-r: coap:// over TCP is answered" out-re "$TIME_RE" "${C[@]}" -r "$BASE/time"
LAST_CMD="coap-client -s 3 -w /time"
run 20 "$CLIENT_BIN" -B 5 -s 3 -w "$BASE/time"
n=$(grep -cE "$TIME_RE" "$OUT")
[ "$RC" = 0 ] && [ "$n" -ge 3 ] && pass "-s 3: $n notifications of /time" ||
  fail "-s 3: at least 3 notifications of /time" "$(show | tr '\n' '|')"
check_log "-t json: Content-Format application/json" 'Content-Format:application/json' \
  "${C[@]}" -m put -t json -e '{}' "$BASE/example_data"
LAST_CMD="coap-client -v 7 /async?1"
run 20 "$CLIENT_BIN" -v 7 "$BASE/async?1"
if [ "$RC" = 0 ] && grep -qE ': sent [0-9]+ bytes$' "$OUT" &&
  grep -A1 -E ': received 4 bytes$' "$OUT" | grep -q 't:ACK c:0.00' &&
  grep -A1 -E ': sent 4 bytes$' "$OUT" | grep -q 't:ACK c:0.00'; then
  pass "-v 7: every PDU logged as sent or received with its size, Empty ACKs both ways"
else
  fail "-v 7: every PDU logged as sent or received with its size" "$(show | tr '\n' '|')"
fi
check_log "-A link: an Accept option" 'Accept:application/link-format' \
  "${C[@]}" -A link "$BASE/.well-known/core"
LAST_CMD="coap-client -B 2 /async?5"
# (the answer comes after 5 s: exit 3 says the client stopped before it;
# how long it took is no check, a busy machine stretches it)
run 20 "$CLIENT_BIN" -B 2 "$BASE/async?5"
[ "$RC" = 3 ] && grep -q "no response from .* within 2 s" "$ERR" &&
  pass "-B 2: gives up before the answer with exit 3 and says so" ||
  fail "-B 2: gives up before the answer with exit 3 and says so" "$(show | tr '\n' '|')"
refused "-E: needs OSCORE, which this build lacks" "-E needs OSCORE" \
  "${C[@]}" -E conf "$BASE/time"
mark
LAST_CMD="coap-client -G 3 /time"
run 20 "$CLIENT_BIN" -B 5 -G 3 -w "$BASE/time"
n=$(grep -cE "$TIME_RE" "$OUT")
tokens=$(tail -c +$((MARK + 1)) "$SLOG" | grep 't:CON c:GET' | grep -o '{[0-9a-f]*}' | sort -u | wc -l)
[ "$RC" = 0 ] && [ "$n" = 3 ] && [ "$tokens" = 3 ] &&
  pass "-G 3: three requests with three tokens, three answers" ||
  fail "-G 3: three requests with three tokens, three answers" "answers $n tokens $tokens" \
    "$(show | tr '\n' '|')"
expect "-G 0 is refused" rc 1 "${C[@]}" -G 0 "$BASE/time"
check_log "-H 5: a Hop-Limit option" 'Hop-Limit:5' "${C[@]}" -H 5 "$BASE/time"
expect "-H 256 is refused" rc 1 "${C[@]}" -H 256 "$BASE/time"
LAST_CMD="coap-client -K 1 -s 4 -v 7 /example_data"
mark
run 20 "$CLIENT_BIN" -K 1 -s 4 -v 7 "$BASE/example_data"
if [ "$RC" = 0 ] && grep -q "keepalive ping" "$OUT" && logged 't:CON c:0.00'; then
  pass "-K 1: pings (Empty CON) after a second of silence, the server gets them"
else
  fail "-K 1: pings after a second of silence" "$(show | tr '\n' '|')"
fi
check_bytes "-L 3 (whole bodies): /large byte-exact plus the final newline" \
  <(cat "$LARGE_BODY"; echo) "${C[@]}" -L 3 "$BASE/large"
refused "-L 2 is refused (must include 1)" "bad value '2' for -L" \
  "${C[@]}" -L 2 "$BASE/time"
refused "-L 5: Q-Block, which this build lacks" "Q-Block (RFC 9177), which this build lacks" \
  "${C[@]}" -L 5 "$BASE/time"
check_log "-N: a Non-confirmable request" 't:NON c:GET' "${C[@]}" -N "$BASE/time"
check_log "-O 2048,abc: an elective option" '2048:' "${C[@]}" -O 2048,abc "$BASE/time"
check_log "-T 24 bytes: an extended token (RFC 8974) the server takes" \
  '\{0102030405060708090a0b0c0d0e0f101112131415161718\}' \
  "${C[@]}" -T 0x0102030405060708090a0b0c0d0e0f101112131415161718 "$BASE/time"
expect "-T of 25 bytes is refused" rc 1 \
  "${C[@]}" -T 0x0102030405060708090a0b0c0d0e0f10111213141516171819 "$BASE/time"
mark
run 10 "${C[@]}" "$BASE/time"
logged "Uri-Port:$SERVER_PORT" && pass "without -U: Uri-Port is sent" ||
  fail "without -U: Uri-Port is sent"
mark
run 10 "${C[@]}" -U "$BASE/time"
[ "$RC" = 0 ] && logged 't:CON c:GET' && ! logged_now 'Uri-Port' &&
  pass "-U: no Uri-Host or Uri-Port" || fail "-U: no Uri-Host or Uri-Port" "$(show | tr '\n' '|')"
expect "-U on the root: a request without any option is sent and answered" \
  out-has "made with Petrel" "${C[@]}" -U "$BASE/"
expect "-V 7: accepted, the request is answered" out-re "$TIME_RE" "${C[@]}" -V 7 "$BASE/time"
expect "-V 8 is refused" rc 1 "${C[@]}" -V 8 "$BASE/time"
expect "-X 1024 -r: accepted, answered over TCP" out-re "$TIME_RE" \
  "${C[@]}" -X 1024 -r "$BASE/time"
expect "-X 63 is refused (at least 64)" rc 1 "${C[@]}" -X 63 -r "$BASE/time"
expect "--version: libcoap's version lines" out-re '^coap-client v4\.3\.4 -- Petrel ' \
  "$CLIENT_BIN" --version
expect "-h: the version lines, then the usage" out-has "usage: coap-client" "$CLIENT_BIN" -h

echo "# -P through a real forward proxy: Debian's coap-server-notls -P ,name"
if command -v coap-server-notls >/dev/null; then
  if start_debian_server -P ,proxyname; then
    expect "-P: the request reaches our server through libcoap's proxy" \
      out-has "made with Petrel" "${C[@]}" -P "coap://[::1]:$DEBIAN_PORT" "$BASE/"
    # libcoap's server puts the reason phrase in its 4.04s.
    expect "an error with a payload: libcoap's line '4.04 Not Found'" rc 2 \
      "${C[@]}" "coap://[::1]:$DEBIAN_PORT/nonexistent"
    [ "$(cat "$ERR")" = "4.04 Not Found" ] && pass "stderr is exactly '4.04 Not Found'" ||
      fail "stderr is exactly '4.04 Not Found'" "$(show | tr '\n' '|')"
  else
    fail "start coap-server-notls as a proxy"
  fi
else
  need coap-server-notls
fi
mark
LAST_CMD="coap-client -P $BASE coap://example.invalid/x"
run 10 "$CLIENT_BIN" -B 3 -P "$BASE" coap://example.invalid/x
# (our server is no proxy: it answers 5.05, hence the exit status 2)
logged 'Proxy-Uri:coap://example\.invalid/x \]' &&
  pass "-P: the whole URI in Proxy-Uri, no Uri-* options" ||
  fail "-P: the whole URI in Proxy-Uri, no Uri-* options" "$(show | tr '\n' '|')"
[ "$RC" = 2 ] && grep -q '^5.05' "$ERR" && pass "-P: our server answers 5.05 (no proxy)" ||
  fail "-P: our server answers 5.05 (no proxy)" "$(show | tr '\n' '|')"
stop_cleanly coap-server "$SERVER_PID"
finish
