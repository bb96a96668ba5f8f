#!/usr/bin/env bash
# coap-server's options (libcoap 4.3.4's letters and meanings), one named
# check each, with our coap-client and Debian's coap-client-notls against
# it; what libcoap's example server serves at the same paths; a second
# server on a port in use; an unknown option named. Multicast (-g, -G, -r)
# is in server_mcast.sh, which needs a network namespace.
# usage: server_flags.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/../interop/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
C=("$CLIENT_BIN" -B 10)

# with_server NAME ARGS...: (re)starts our server with ARGS on 127.0.0.1,
# logging every PDU to $TMP/NAME.out; sets BASE.
with_server() {
  local name=$1
  shift
  [ -n "${SERVER_PID:-}" ] && stop_cleanly "${CUR_NAME}" "$SERVER_PID"
  CUR_NAME=$name
  SLOG="$TMP/$name.out"
  start_listening "$name" bash -c 'exec "$0" -A 127.0.0.1 -p 0 -v 7 "${@:2}" >"$1"' \
    "$SERVER_BIN" "$SLOG" "$@" || exit 1
  BASE="coap://127.0.0.1:$SERVER_PORT"
}
# in_log GREP-ARGS...: the server's log has (or gets within 10 s) a match.
# The server logs a datagram after sending it, so the client may have its
# answer, and have exited, a moment before the line is written.
in_log() { eventually 10 grep -q "$@" "$SLOG"; }
# an Empty ACK logged: 'sent 4 bytes' and the PDU on the next line
empty_ack_logged() { grep -A1 -E ': sent 4 bytes$' "$SLOG" | grep -q 't:ACK c:0.00'; }
# refused NAME TEXT ARGS...: the server exits 1 at once and says TEXT.
refused() {
  local name=$1 text=$2
  shift 2
  LAST_CMD="coap-server $*"
  run 10 "$SERVER_BIN" -p 0 "$@"
  if [ "$RC" = 1 ] && grep -qF -- "$text" "$ERR"; then
    pass "$name"
  else
    fail "$name" "expected exit 1 and: $text" "$(show | tr '\n' '|')"
  fi
}

echo "# what libcoap's example server serves at the same paths"
with_server plain
EXAMPLE_START=$(perl -e 'print map { $_ % 10 ? $_ % 10 : chr(97 + ($_ / 10) % 26) } 0 .. 1499')
expect "/example_data starts with libcoap's 1500 bytes" out-eq "$EXAMPLE_START" \
  "${C[@]}" "$BASE/example_data"
expect "FETCH /example_data is GET" out-eq "$EXAMPLE_START" \
  "${C[@]}" -m fetch "$BASE/example_data"
expect "FETCH /time with 'ticks': the seconds" out-re '^[0-9]{10,}$' \
  "${C[@]}" -m fetch -e ticks "$BASE/time"
expect "/async?1: done, after an Empty ACK" out-eq done "${C[@]}" "$BASE/async?1"
expect "observable /time notifies with CONs (libcoap's default)" rc 0 \
  "$CLIENT_BIN" -s 2 "$BASE/time"
in_log -E 't:CON c:2\.05 .*Observe:[1-9]' && pass "notifications are CON without -N" ||
  fail "notifications are CON without -N" "$(grep 'Observe' "$SLOG" | tail -n 3 | tr '\n' '|')"
expect "-v 7: the server logs what it receives, with its size" rc 0 true
in_log -E ': received [0-9]+ bytes$' && eventually 10 empty_ack_logged && pass "-v 7: 'received N bytes', 'sent 4 bytes' for the Empty ACK" ||
  fail "-v 7: sent and received lines" "$(head -n 6 "$SLOG" | tr '\n' '|')"

echo "# coap+tcp on the same port, with -X"
with_server tcp -X 4096
expect "coap+tcp on the UDP port: /time answers" out-re '^[A-Z][a-z]{2} [0-9 ][0-9] ' \
  "${C[@]}" "coap+tcp://127.0.0.1:$SERVER_PORT/time"
# (the log names signaling options as libcoap's does)
in_log -F 'c:CSM i:0000 {} [ Max-Message-Size:4096, Block-Wise-Transfer: ]' && pass "-X 4096: the CSM offers 4096" ||
  fail "-X 4096: the CSM offers 4096" "$(grep CSM "$SLOG" | head -n 3 | tr '\n' '|')"

echo "# a second server on the same port"
LAST_CMD="coap-server -A 127.0.0.1 -p $SERVER_PORT (in use)"
run 10 "$SERVER_BIN" -A 127.0.0.1 -p "$SERVER_PORT"
[ "$RC" = 1 ] && grep -q "cannot listen on 127.0.0.1 port $SERVER_PORT: the port is in use" "$ERR" &&
  pass "a second server on a port in use fails and says the port is in use" ||
  fail "a second server on a port in use fails and says so" "$(show | tr '\n' '|')"

echo "# one check per option"
with_server dynamic -d 1
expect "-d 1: PUT to an unknown path creates it (2.01)" rc 0 \
  "${C[@]}" -m put -e one "$BASE/dyn/one"
in_log 't:ACK c:2.01' && pass "-d 1: the answer is 2.01 Created" ||
  fail "-d 1: the answer is 2.01 Created"
expect "-d 1: GET reads it back" out-eq one "${C[@]}" "$BASE/dyn/one"
expect "-d 1: a second one is refused with 4.06" err-has "4.06" \
  "${C[@]}" -m put -e two "$BASE/two"
expect "-d 1: DELETE removes it" rc 0 "${C[@]}" -m delete "$BASE/dyn/one"
expect "-d 1: then GET is 4.04" err-has "4.04" "${C[@]}" "$BASE/dyn/one"
expect "-d 1: and there is room again (POST creates)" rc 0 \
  "${C[@]}" -m post -e two "$BASE/two"
expect "-d 1: listed in /.well-known/core" out-has '</two>;title="Dynamic"' \
  "${C[@]}" "$BASE/.well-known/core"
with_server plain2
expect "without -d: PUT to an unknown path is 4.04" err-has "4.04" \
  "${C[@]}" -m put -e x "$BASE/nowhere"
expect "without -e: a PUT to /example_data has no payload" out-eq "" \
  "${C[@]}" -m put -e quiet "$BASE/example_data"
with_server echo -e
expect "-e: a PUT to /example_data is answered with the body" out-eq echoed \
  "${C[@]}" -m put -e echoed "$BASE/example_data"
with_server loss -l 100%
expect "-l 100%: nothing is sent, the client times out" rc 3 \
  "$CLIENT_BIN" -B 2 "$BASE/time"
in_log dropped && pass "-l 100%: the server logs its dropped datagrams" ||
  fail "-l 100%: the server logs its dropped datagrams"
with_server nonotify -N
expect "-N: observe /time for 2 s" rc 0 "$CLIENT_BIN" -s 2 "$BASE/time"
in_log -E 't:NON c:2\.05 .*Observe:[1-9]' && pass "-N: notifications are NON" ||
  fail "-N: notifications are NON" "$(grep 'Observe' "$SLOG" | tail -n 3 | tr '\n' '|')"
with_server tokens -T 16
expect "-T 16: a 16-byte token is taken" rc 0 \
  "${C[@]}" -T 0x000102030405060708090a0b0c0d0e0f "$BASE/time"
expect "-T 16: a 17-byte token is answered 4.00" rc 0 true
"$CLIENT_BIN" -B 3 -v 7 -O 2048,x "$BASE/time" >/dev/null 2>&1
run 10 "${C[@]}" -T 0x000102030405060708090a0b0c0d0e0f10 "$BASE/time"
in_log 't:ACK c:4.00' && pass "-T 16: the 17-byte probe got 4.00" ||
  fail "-T 16: the 17-byte probe got 4.00" "$(show | tr '\n' '|')"
with_server plain3
run 10 "${C[@]}" -T 0x000102030405060708090a0b0c0d0e0f "$BASE/time"
[ "$RC" != 0 ] && pass "without -T: a 16-byte token is not taken (exit $RC)" ||
  fail "without -T: a 16-byte token is not taken" "$(show | tr '\n' '|')"
with_server dtlslog -V 7
expect "-V 7: accepted" out-re '^[A-Z][a-z]{2} ' "${C[@]}" "$BASE/time"
with_server perblock -L 1
head -c 3000 /dev/zero | tr '\0' 'z' >"$TMP/up"
expect "-L 1: a PUT in blocks is reassembled by the handler" rc 0 \
  "${C[@]}" -m put -b 64 -f "$TMP/up" "$BASE/example_data"
in_log 't:ACK c:2.31' && pass "-L 1: the handler answered 2.31 Continue" ||
  fail "-L 1: the handler answered 2.31 Continue"
expect_body "-L 1: the body comes back whole" "$TMP/up" "$TMP/got" \
  "${C[@]}" -o "$TMP/got" "$BASE/example_data"
stop_cleanly "$CUR_NAME" "$SERVER_PID"
SERVER_PID=

echo "# -A: the default :: takes IPv6 and IPv4 peers"
start_listening dual "$SERVER_BIN" -p 0 || exit 1
expect "default address: reached at [::1]" out-eq done "${C[@]}" "coap://[::1]:$SERVER_PORT/async?1"
expect "default address: reached at 127.0.0.1" out-eq done "${C[@]}" "coap://127.0.0.1:$SERVER_PORT/async?1"
stop_cleanly dual "$SERVER_PID"
start_listening v6only "$SERVER_BIN" -A ::1 -p 0 || exit 1
expect "-A ::1: reached at [::1]" rc 0 "${C[@]}" "coap://[::1]:$SERVER_PORT/"
stop_cleanly v6only "$SERVER_PID"

echo "# -U coap: a Unix datagram socket"
SOCK="/tmp/ptl$$.sock" # sun_path holds 25 bytes here, as in libcoap
refused "-U coap: a path longer than 25 bytes is refused" "at most 25 bytes" \
  -U coap -A "$TMP/a-socket-path-that-is-too-long"
"$SERVER_BIN" -U coap -A "$SOCK" 2>"$TMP/unix.log" &
SERVER_PID=$!
BG_PIDS+=("$SERVER_PID")
eventually 30 grep -q "listening on '$SOCK'" "$TMP/unix.log" &&
  pass "-U coap: listening on '$SOCK'" || fail "-U coap: listening" "$(cat "$TMP/unix.log")"
enc=$(sed 's,/,%2F,g' <<<"$SOCK")
expect "-U coap: our client GETs /time over the socket" out-re '^[A-Z][a-z]{2} ' \
  "${C[@]}" "coap://$enc/time"
expect "-U coap: and /large block-wise" out-has "line 20000" \
  "${C[@]}" -b 1024 "coap://$enc/large"
stop_cleanly unix "$SERVER_PID"
rm -f "$SOCK"
refused "-U coaps: not served over a Unix socket" "-U coaps: DTLS over a Unix socket is not served" -U coaps
refused "-U coap+tcp: not served" "-U coap+tcp: TCP over a Unix socket is not served by this coap-server" -U coap+tcp
refused "-U with an unknown type" "bad value 'udp' for -U" -U udp

echo "# options this build cannot honour, and usage errors"
# -t works (interop_observe_restart); where its files cannot be written
# the server says so and stops.
LAST_CMD="TMPDIR=$TMP/no/such/dir coap-server -t"
TMPDIR="$TMP/no/such/dir" run 10 "$SERVER_BIN" -p 0 -t
if [ "$RC" = 1 ] && grep -qF "cannot keep observers in $TMP/no/such/dir" "$ERR"; then
  pass "-t with an unwritable \$TMPDIR is refused"
else
  fail "-t with an unwritable \$TMPDIR is refused" "$(show | tr '\n' '|')"
fi
if "$SERVER_BIN" --version 2>&1 | grep -q "No DTLS or TLS support"; then
  refused "-w 8080,8443: coaps+ws needs TLS" \
    "-w needs TLS for coaps+ws (the secure_port), which this build lacks" -w 8080,8443
  refused "-w ,443: coaps+ws needs TLS" "which this build lacks" -w ,443
else
  # -w port,secure_port with a key: coaps+ws on the secure port too.
  LAST_CMD="coap-server -w 0,0 -k secretPSK"
  start_listening wss "$SERVER_BIN" -A 127.0.0.1 -p 0 -w 0,0 -k secretPSK || exit 1
  await_line wss 'listening for coaps\+ws on ' # (made after the coap one)
  WSS_PORT=$(sed -nE 's/.*listening for coaps\+ws on .*:([0-9]+)$/\1/p' "$TMP/wss.log")
  if [ -n "$WSS_PORT" ]; then
    pass "-w 0,0 -k: listening for coaps+ws on port $WSS_PORT"
    expect "-w 0,0 -k: our client GETs /time over coaps+ws" out-re '^[A-Z][a-z]{2} ' \
      "${C[@]}" -k secretPSK -u id "coaps+ws://127.0.0.1:$WSS_PORT/time"
  else
    fail "-w 0,0 -k: listening for coaps+ws" "$(tr '\n' '|' <"$TMP/wss.log")"
  fi
  stop_cleanly wss "$SERVER_PID"
  # Without credentials a secure port is said to be left unused.
  start_listening wsnokey "$SERVER_BIN" -A 127.0.0.1 -p 0 -w 0,0 || exit 1
  # (said after the coap+ws endpoint is made, where coaps+ws would be)
  await_line wsnokey 'needs -k or -c; not listening for it'
  if grep -qF "coaps+ws on port 0 needs -k or -c; not listening for it" "$TMP/wsnokey.log" &&
    grep -q "listening for coap+ws on" "$TMP/wsnokey.log" &&
    ! grep -q "listening for coaps+ws" "$TMP/wsnokey.log"; then
    pass "-w 0,0 without -k or -c: coap+ws only, and says so"
  else
    fail "-w 0,0 without -k or -c: coap+ws only, and says so" "$(tr '\n' '|' <"$TMP/wsnokey.log")"
  fi
  stop_cleanly wsnokey "$SERVER_PID"
  SERVER_PID=
fi
refused "-w x is refused" "bad value 'x' for -w" -w x
refused "-w 70000 is refused" "bad value '70000' for -w" -w 70000
refused "-E: needs OSCORE" "-E needs OSCORE (RFC 8613), which this build lacks" -E conf
refused "-X 63 is refused (at least 64)" "bad value '63' for -X" -X 63
refused "-P: this server is no proxy" "does not act as a proxy" -P coap://[::1],name
refused "-L 2 is refused (must include 1)" "must include COAP_BLOCK_USE_LIBCOAP" -L 2
refused "-L 5: Q-Block, which this build lacks" "Q-Block (RFC 9177)" -L 5
refused "-T 7 is refused (8..65804)" "bad value '7' for -T" -T 7
refused "-p 70000 is refused" "bad value '70000' for -p" -p 70000
refused "-g with a group that is no group" "cannot join multicast group '127.0.0.1'" -A 127.0.0.1 -g 127.0.0.1
refused "an unknown option is named" "unknown option -z" -z
refused "a missing value is named" "option -d needs a value" -d
expect "--version: libcoap's version lines" out-re '^coap-server v4\.3\.4 -- Petrel ' \
  "$SERVER_BIN" --version
expect "-h: the usage" out-has "usage: coap-server" "$SERVER_BIN" -h
finish
