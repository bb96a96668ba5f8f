#!/usr/bin/env bash
# coap-client -h match_hint_file, as in libcoap's client: lines
# "hint,user,key"; when the server's PSK identity hint is on a line, that
# user and key replace -u and -k, which still serve any other hint.
# Against our coap-server (hint and a per-identity key, so that both the
# identity and the key must change for the handshake to succeed) and
# against Debian's coap-server-openssl -h hint. Also the usage cases:
# -h with no file after it and --help print the usage (exit 0); no URI or
# an unknown option print it on stderr (exit 1); a hint file that cannot
# be used, or -h without -k, is refused.
# usage: dtls_psk_hint.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
need coap-server-openssl
need coap-client-notls

# ---- usage and refusals (no server needed) ---------------------------------
expect "-h as the last argument: the usage on stdout" out-has \
  "usage: coap-client" "$CLIENT_BIN" -h
expect "-h as the last argument: exit 0" rc 0 "$CLIENT_BIN" -h
expect "--help: the usage, which names -h match_hint_file" out-has \
  "[-h match_hint_file]" "$CLIENT_BIN" --help
expect "no URI: exit 1" rc 1 "$CLIENT_BIN"
expect "no URI: the usage on stderr" err-has "usage: coap-client" "$CLIENT_BIN"
expect "unknown option: exit 1" rc 1 "$CLIENT_BIN" -q "coap://[::1]/"
expect "unknown option: named, then the usage on stderr" err-has \
  "usage: coap-client" "$CLIENT_BIN" -q "coap://[::1]/"
expect "unknown option: named" err-has "unknown option -q" \
  "$CLIENT_BIN" -q "coap://[::1]/"

printf '# comment only\n\n' >"$TMP/empty.hints"
printf 'petrel-hint,alice\n' >"$TMP/bad.hints"
expect "-h FILE that does not exist: exit 1" rc 1 \
  "$CLIENT_BIN" -k x -h "$TMP/none.hints" "coaps://[::1]/"
expect "-h FILE that does not exist: named" err-has \
  "-h: no 'hint,user,key' line could be read from '$TMP/none.hints'" \
  "$CLIENT_BIN" -k x -h "$TMP/none.hints" "coaps://[::1]/"
# (each refusal names the file, so that no other failure can pass for it)
for f in empty bad; do
  expect "-h FILE ($f): exit 1" rc 1 \
    "$CLIENT_BIN" -k x -h "$TMP/$f.hints" "coaps://[::1]/"
done
expect "-h FILE with comments only: refused, named" err-has \
  "-h: no 'hint,user,key' line could be read from '$TMP/empty.hints'" \
  "$CLIENT_BIN" -k x -h "$TMP/empty.hints" "coaps://[::1]/"
expect "-h FILE with a line of two fields: refused, named" err-has \
  "-h: no 'hint,user,key' line could be read from '$TMP/bad.hints'" \
  "$CLIENT_BIN" -k x -h "$TMP/bad.hints" "coaps://[::1]/"
printf 'petrel-hint,alice,alice-key\n' >"$TMP/alice.hints"
expect "-h without -k: refused" err-has "-h needs -k" \
  "$CLIENT_BIN" -h "$TMP/alice.hints" "coaps://[::1]/"

# ---- our server: hint petrel-hint; alice has her own key ---------------------
printf ',alice,alice-key\n' >"$TMP/server.ids"
"$SERVER_BIN" -A ::1 -p 0 -k default-key -h petrel-hint -i "$TMP/server.ids" \
  2>"$TMP/server.log" >/dev/null &
SERVER_PID=$!
BG_PIDS+=("$SERVER_PID")
for i in $(seq 1 300); do # (30 s at most: a busy machine)
  PORT=$(sed -nE 's/.*listening for coaps on .*:([0-9]+)$/\1/p' "$TMP/server.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "our server did not start"; cat "$TMP/server.log"; exit 1; }
BASE="coaps://[::1]:$PORT"

# The file: comments and empty lines, a line for another hint, then ours.
printf '# hint,user,key\n\nother-hint,bob,other-key\npetrel-hint,alice,alice-key\n' \
  >"$TMP/client.hints"
printf 'other-hint,alice,alice-key\n' >"$TMP/other.hints"

expect "without -h, bob with a wrong key: our server's alert ends it (exit 4)" rc 4 \
  "$CLIENT_BIN" -B 3 -u bob -k wrong-key "$BASE/time"
expect "a wrong key: the client says the handshake failed" err-has \
  "the DTLS or TLS handshake or session failed" \
  "$CLIENT_BIN" -B 3 -u bob -k wrong-key "$BASE/time"
expect "-h: the hint matches, alice and her key are used: GET /" out-has \
  "test server made with Petrel" \
  "$CLIENT_BIN" -B 10 -u bob -k wrong-key -h "$TMP/client.hints" "$BASE/"
expect "-h -v 6: the match is logged (on stdout, as libcoap logs INFO)" out-has \
  "Identity Hint 'petrel-hint' matched: identity 'alice'" \
  "$CLIENT_BIN" -B 10 -v 6 -u bob -k wrong-key -h "$TMP/client.hints" "$BASE/"
expect "-h naming another hint: -u and -k are used, and they are wrong (exit 4)" \
  rc 4 "$CLIENT_BIN" -B 3 -u bob -k wrong-key -h "$TMP/other.hints" "$BASE/time"
expect "-h naming another hint: -u and -k are used, and they are right" \
  out-has "test server made with Petrel" \
  "$CLIENT_BIN" -B 10 -u bob -k default-key -h "$TMP/other.hints" "$BASE/"
stop_cleanly coap-server "$SERVER_PID"

# ---- Debian's coap-server-openssl -h debian-hint -----------------------------
KEY=debian-key
DEBIAN_PORT=
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 12000))
  coap-server-openssl -A ::1 -p "$port" -k "$KEY" -h debian-hint \
    >"$TMP/debian.log" 2>&1 &
  pid=$!
  if debian_answers "$pid" "$port"; then
    BG_PIDS+=("$pid")
    DEBIAN_PORT=$((port + 1))
    break
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
if [ -z "$DEBIAN_PORT" ]; then
  fail "start coap-server-openssl -h debian-hint"
  finish
fi
printf 'debian-hint,petrel,%s\n' "$KEY" >"$TMP/debian.hints"
BASE="coaps://[::1]:$DEBIAN_PORT"
expect "Debian's server: a wrong -k alone gets nothing (exit 3)" rc 3 \
  "$CLIENT_BIN" -B 3 -u petrel -k wrong-key "$BASE/time"
expect "Debian's server: -h matches debian-hint, its key is used: GET /" \
  out-has "test server made with libcoap" \
  "$CLIENT_BIN" -B 10 -u petrel -k wrong-key -h "$TMP/debian.hints" "$BASE/"
finish
