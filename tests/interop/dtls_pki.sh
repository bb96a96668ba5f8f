#!/usr/bin/env bash
# Interop over DTLS with certificates, both directions: Debian's
# coap-client-openssl and coap-client-gnutls against our coap-server, and
# our coap-client against Debian's coap-server-openssl and
# coap-server-gnutls; mutual verification against a common CA, /async?1,
# a 256 KB block-wise download (ours) or a 200 KB upload and download
# (theirs), and a certificate from an untrusted CA failing on both sides.
# The certificates are made now by tests/dtls_certs.sh, never committed.
# usage: dtls_pki.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
need openssl
need coap-client-openssl
need coap-client-gnutls
need coap-server-openssl
need coap-server-gnutls
need coap-client-notls
CERTS="$TMP/certs"
bash "$(dirname "$0")/../dtls_certs.sh" "$CERTS" >/dev/null || {
  echo "cannot make certificates"
  exit 1
}
make_bodies
GOT="$TMP/got"

# start_ours NAME ARGS...: our server with a coaps endpoint; sets PORT.
start_ours() {
  local name=$1 i
  shift
  "$SERVER_BIN" -A ::1 -p 0 "$@" 2>"$TMP/$name.log" >/dev/null &
  SERVER_PID=$!
  BG_PIDS+=("$SERVER_PID")
  PORT=
  for i in $(seq 1 300); do # (30 s at most: a busy machine)
    PORT=$(sed -nE 's/.*listening for coaps on .*:([0-9]+)$/\1/p' "$TMP/$name.log")
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "our server did not start: $(cat "$TMP/$name.log")"
  exit 1
}

# ---- Debian's clients against our server -----------------------------------
start_ours server -c "$CERTS/server.pem" -j "$CERTS/server.key" -C "$CERTS/ca.pem"
BASE="coaps://[::1]:$PORT"
for tls in openssl gnutls; do
  C=(coap-client-$tls -B 10 -c "$CERTS/client.pem" -j "$CERTS/client.key"
     -C "$CERTS/ca.pem")
  expect "$tls client: GET / with mutual certificates" out-has \
    "test server made with Petrel" "${C[@]}" "$BASE/"
  expect "$tls client: /async?1 (Empty ACK, then CON 2.05)" out-has \
    "t:CON c:2.05" "${C[@]}" -v 7 "$BASE/async?1"
  expect_body "$tls client: GET /large block-wise" "$LARGE_BODY" "$GOT" \
    "${C[@]}" -b 1024 -o "$GOT" "$BASE/large"
  # A client whose certificate another CA signed: our server refuses it.
  LAST_CMD="coap-client-$tls with rogue.pem"
  run 15 coap-client-$tls -B 3 -c "$CERTS/rogue.pem" -j "$CERTS/rogue.key" \
    -C "$CERTS/other_ca.pem" -n "$BASE/time"
  if grep -qE '[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$OUT"; then
    fail "$tls client with an untrusted certificate gets nothing" "$(show | tr '\n' '|')"
  else
    pass "$tls client with an untrusted certificate gets nothing"
  fi
  expect "$tls client: our server still serves after the refusal" \
    out-has "test server made with Petrel" "${C[@]}" "$BASE/"
done
stop_cleanly server "$SERVER_PID"

# Our server with a certificate the clients do not trust.
start_ours rogue -c "$CERTS/rogue.pem" -j "$CERTS/rogue.key" -n
BASE="coaps://[::1]:$PORT"
for tls in openssl gnutls; do
  LAST_CMD="coap-client-$tls -C ca.pem against a rogue server"
  run 15 coap-client-$tls -B 3 -c "$CERTS/client.pem" -j "$CERTS/client.key" \
    -C "$CERTS/ca.pem" "$BASE/time"
  if grep -qE '[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$OUT"; then
    fail "$tls client refuses our untrusted server" "$(show | tr '\n' '|')"
  else
    pass "$tls client refuses our untrusted server"
  fi
done
stop_cleanly rogue "$SERVER_PID"

# ---- our client against Debian's servers ------------------------------------
start_debian_dtls() { # TLS ARGS...: coap-server-TLS, DTLS on port+1
  local tls=$1 attempt port pid
  shift
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 12000))
    coap-server-$tls -A ::1 -p "$port" "$@" >"$TMP/debian-$tls.log" 2>&1 &
    pid=$!
    if debian_answers "$pid" "$port"; then
      BG_PIDS+=("$pid")
      DEBIAN_DTLS_PORT=$((port + 1))
      DEBIAN_PID=$pid
      return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 1
}
OURS=("$CLIENT_BIN" -B 10 -c "$CERTS/client.pem" -j "$CERTS/client.key"
      -C "$CERTS/ca.pem")
for tls in openssl gnutls; do
  start_debian_dtls $tls -c "$CERTS/server.pem" -j "$CERTS/server.key" \
    -C "$CERTS/ca.pem" || { fail "start coap-server-$tls"; continue; }
  BASE="coaps://[::1]:$DEBIAN_DTLS_PORT"
  expect "our client vs $tls server: GET / with mutual certificates" out-has \
    "test server made with libcoap" "${OURS[@]}" "$BASE/"
  expect "our client vs $tls server: /async?1" out-has "t:CON c:2.05" \
    "${OURS[@]}" -v 7 "$BASE/async?1"
  expect "our client vs $tls server: PUT 200 KB block-wise" rc 0 \
    "${OURS[@]}" -b 1024 -m put -f "$UPLOAD_BODY" "$BASE/example_data"
  expect_body "our client vs $tls server: GET it back" "$UPLOAD_BODY" "$GOT" \
    "${OURS[@]}" -b 1024 -o "$GOT" "$BASE/example_data"
  # The refusal is a fatal alert: the request fails at once as not
  # delivered (exit 4), not by a timeout.
  expect "our client vs $tls server: an untrusted client certificate fails (exit 4)" \
    rc 4 "$CLIENT_BIN" -B 3 -c "$CERTS/rogue.pem" -j "$CERTS/rogue.key" -n \
    "$BASE/time"
  kill "$DEBIAN_PID"
  start_debian_dtls $tls -c "$CERTS/rogue.pem" -j "$CERTS/rogue.key" -n ||
    { fail "start coap-server-$tls (rogue)"; continue; }
  BASE="coaps://[::1]:$DEBIAN_DTLS_PORT"
  expect "our client refuses a $tls server from an untrusted CA (exit 4)" rc 4 \
    "$CLIENT_BIN" -B 3 -c "$CERTS/client.pem" -j "$CERTS/client.key" \
    -C "$CERTS/ca.pem" "$BASE/time"
  kill "$DEBIAN_PID"
done
finish
