#!/usr/bin/env bash
# Interop over DTLS with pre-shared keys, both directions: Debian's
# coap-client-openssl and coap-client-gnutls against our coap-server, and
# our coap-client against Debian's coap-server-openssl and
# coap-server-gnutls. Each: a GET, /async?1 (Empty ACK, then the separate
# response inside the DTLS session), a block-wise download and upload of
# 200 KB, and a wrong key failing on both sides.
# usage: dtls_psk.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
need coap-client-openssl
need coap-client-gnutls
need coap-server-openssl
need coap-server-gnutls
need coap-client-notls
KEY=petrel-secret
make_bodies
GOT="$TMP/got"

# ---- Debian's clients against our server -----------------------------------
# (-v 7: the debug log on stdout names the suite of each handshake)
"$SERVER_BIN" -A ::1 -p 0 -k "$KEY" -h petrel-hint -v 7 2>"$TMP/server.log" \
  >"$TMP/server.out" &
SERVER_PID=$!
BG_PIDS+=("$SERVER_PID")
for i in $(seq 1 300); do # (30 s at most: a busy machine)
  PORT=$(sed -nE 's/.*listening for coaps on .*:([0-9]+)$/\1/p' "$TMP/server.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "our server did not start"; cat "$TMP/server.log"; exit 1; }
BASE="coaps://[::1]:$PORT"
for tls in openssl gnutls; do
  C=(coap-client-$tls -B 10 -u debian-$tls -k "$KEY")
  expect "$tls client: GET / over DTLS" out-has "test server made with Petrel" \
    "${C[@]}" "$BASE/"
  # Both offer ECDHE-PSK suites: the server, choosing in its own order,
  # keeps forward secrecy (doc/dtls.md, "Cipher suites").
  SUITE=$(sed -n 's/.*: suite \(.*\)$/\1/p' "$TMP/server.out" | tail -n 1)
  if [ "$SUITE" = ECDHE-PSK-CHACHA20-POLY1305 ]; then
    pass "$tls client: our server chose $SUITE"
  else
    fail "$tls client: our server chose ECDHE-PSK-CHACHA20-POLY1305" \
      "got '$SUITE'"
  fi
  expect "$tls client: /async?1 is an Empty ACK, then CON 2.05 'done'" \
    out-re 'done' "${C[@]}" "$BASE/async?1"
  expect "$tls client: /async?1 on the wire" out-has "t:CON c:2.05" \
    "${C[@]}" -v 7 "$BASE/async?1"
  expect_body "$tls client: GET /large block-wise" "$LARGE_BODY" "$GOT" \
    "${C[@]}" -b 1024 -o "$GOT" "$BASE/large"
  expect "$tls client: PUT 200 KB block-wise" rc 0 \
    "${C[@]}" -b 1024 -m put -f "$UPLOAD_BODY" "$BASE/example_data"
  expect_body "$tls client: GET the upload back" "$UPLOAD_BODY" "$GOT" \
    "${C[@]}" -b 1024 -o "$GOT" "$BASE/example_data"
  # Observe over DTLS: /time notifies every second.
  LAST_CMD="${C[*]} -s 3 $BASE/time"
  run 20 "${C[@]}" -s 3 "$BASE/time"
  # (libcoap's client prints the notifications without newlines)
  if [ "$(grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2}' "$OUT" | wc -l)" -ge 2 ]; then
    pass "$tls client: observes /time over DTLS (2 or more notifications)"
  else
    fail "$tls client: observes /time over DTLS" "$(show | tr '\n' '|')"
  fi
  # libcoap 4.3.1's client exits 0 even when it could not send: the check
  # is that no time came back, and soon: our server answers the Finished
  # that does not decrypt with a fatal alert, so the client does not wait
  # for its -B 10.
  LAST_CMD="coap-client-$tls -B 10 -u debian -k wrong-key $BASE/time"
  T0=$(date +%s%N)
  run 15 coap-client-$tls -B 10 -u debian -k wrong-key "$BASE/time"
  MS=$((($(date +%s%N) - T0) / 1000000))
  if grep -qE '[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$OUT" || [ "$MS" -gt 5000 ]; then
    fail "$tls client: a wrong key gets no response, within 5 s" \
      "ended in $MS ms" "$(show | tr '\n' '|')"
  else
    pass "$tls client: a wrong key gets no response, within 5 s ($MS ms)"
  fi
  expect "$tls client: our server still serves after the wrong key" \
    out-has "test server made with Petrel" "${C[@]}" "$BASE/"
done
stop_cleanly coap-server "$SERVER_PID"

# ---- our client against Debian's servers ------------------------------------
# start_debian_dtls TLS: coap-server-TLS on a random port (DTLS on port+1).
start_debian_dtls() {
  local tls=$1 attempt port pid
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 12000))
    coap-server-$tls -A ::1 -p "$port" -k "$KEY" -h debian-hint \
      >"$TMP/debian-$tls.log" 2>&1 &
    pid=$!
    if debian_answers "$pid" "$port"; then
      BG_PIDS+=("$pid")
      DEBIAN_DTLS_PORT=$((port + 1))
      echo "started coap-server-$tls (pid $pid), DTLS on port $DEBIAN_DTLS_PORT"
      return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 1
}
for tls in openssl gnutls; do
  start_debian_dtls $tls || { fail "start coap-server-$tls"; continue; }
  BASE="coaps://[::1]:$DEBIAN_DTLS_PORT"
  C=("$CLIENT_BIN" -B 10 -u petrel -k "$KEY")
  expect "our client vs $tls server: GET /" out-has "test server made with libcoap" \
    "${C[@]}" "$BASE/"
  expect "our client vs $tls server: /async?1 (separate response)" out-has \
    "t:CON c:2.05" "${C[@]}" -v 7 "$BASE/async?1"
  expect "our client vs $tls server: PUT 200 KB block-wise" rc 0 \
    "${C[@]}" -b 1024 -m put -f "$UPLOAD_BODY" "$BASE/example_data"
  expect_body "our client vs $tls server: GET it back block-wise" \
    "$UPLOAD_BODY" "$GOT" "${C[@]}" -b 1024 -o "$GOT" "$BASE/example_data"
  expect "our client vs $tls server: a wrong key fails (exit 3, no response)" \
    rc 3 "$CLIENT_BIN" -B 3 -u petrel -k wrong-key "$BASE/time"
done
finish
