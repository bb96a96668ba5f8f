#!/usr/bin/env bash
# Interop over TLS (coaps+tcp://, RFC 8323), both directions, with
# pre-shared keys and with certificates: Debian's coap-client-openssl and
# coap-client-gnutls (libcoap 4.3.1) against our coap-server (GET, a 100 KB
# PUT read back, /async?1's separate response, Observe -s 3 receiving
# notifications), our coap-client against Debian's coap-server-openssl and
# coap-server-gnutls (GET, PUT read back, /async?1), and a wrong key or an
# untrusted certificate failing on both sides within a bounded time (the
# refusing side's alert ends the other's handshake at once). The
# certificates are made now by tests/dtls_certs.sh, never committed.
#
# Two things libcoap 4.3.1's GnuTLS build cannot do over TLS, whoever the
# peer is: its client cannot send a 100 KB message ("cannot send CoAP
# pdu"), and its server sends only the first TLS record (16 KB) of a
# 100 KB response. Where one of those fails here, the same operation is
# run between Debian's own tools as a control; only if the control fails
# too is it reported as a "known" line (shown, not counted as passed), and
# a 10 KB body (one record) is checked instead. If the control succeeds,
# ours is a failure.
# usage: tls.sh PATH/TO/coap-server PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
SERVER_BIN=${1:?usage: $0 coap-server coap-client}
CLIENT_BIN=${2:?usage: $0 coap-server coap-client}
need openssl
need coap-client-openssl
need coap-client-gnutls
need coap-server-openssl
need coap-server-gnutls
need coap-client-notls
KEY=petrel-secret
CERTS="$TMP/certs"
bash "$(dirname "$0")/../dtls_certs.sh" "$CERTS" >/dev/null || {
  echo "cannot make certificates"
  exit 1
}
GOT="$TMP/got"
BODY="$TMP/body.bin"
perl -e 'print map { chr(($_ * 31 + int($_ / 251)) % 256) } 0 .. 102399' >"$BODY"
SMALL="$TMP/small.bin"
head -c 10240 "$BODY" >"$SMALL"
TIME_RE='[0-9]{2}:[0-9]{2}:[0-9]{2}'
KNOWN=0

known() {
  KNOWN=$((KNOWN + 1))
  echo "known - $1"
  shift
  local line
  for line in "$@"; do
    echo "       $line"
  done
}

# debian_server_on4 TLS PORT ARGS...: coap-server-TLS on 127.0.0.1:PORT
# (Debian's clients send the IPv6 literal as SNI, which the GnuTLS server
# refuses); prints its pid.
debian_server_on4() {
  local tls=$1 port=$2
  shift 2
  coap-server-$tls -A 127.0.0.1 -p "$port" "$@" >"$TMP/control-$tls.log" 2>&1 &
  echo $!
}

# Control: can Debian's GnuTLS client PUT 100 KB over coaps+tcp to Debian's
# OpenSSL server? 0 if it can.
control_gnutls_client_put() {
  local port=$((20000 + RANDOM % 12000)) pid rc
  pid=$(debian_server_on4 openssl "$port" -k "$KEY")
  debian_answers "$pid" "$port" 127.0.0.1
  timeout 15 coap-client-gnutls -B 10 -u debian -k "$KEY" -m put -f "$BODY"     "coaps+tcp://127.0.0.1:$((port + 1))/example_data" >"$TMP/control.out" 2>&1
  timeout 10 coap-client-notls -B 5 -o "$TMP/control.got"     "coap+tcp://127.0.0.1:$port/example_data" >/dev/null 2>&1
  cmp -s "$BODY" "$TMP/control.got"
  rc=$?
  kill "$pid"
  wait "$pid" 2>/dev/null
  echo "       control: coap-client-gnutls PUT 100 KB to coap-server-openssl:"     "$([ $rc = 0 ] && echo works || echo fails too): $(head -c 200 "$TMP/control.out" | tr '\n' '|')"
  return $rc
}

# Control: can Debian's OpenSSL client GET 100 KB over coaps+tcp from
# Debian's GnuTLS server (the body PUT over plain coap+tcp)? 0 if it can.
control_gnutls_server_get() {
  local port=$((20000 + RANDOM % 12000)) pid rc
  pid=$(debian_server_on4 gnutls "$port" -k "$KEY")
  debian_answers "$pid" "$port" 127.0.0.1
  timeout 10 coap-client-notls -B 5 -m put -f "$BODY"     "coap+tcp://127.0.0.1:$port/example_data" >/dev/null 2>&1
  rm -f "$TMP/control.got"
  timeout 15 coap-client-openssl -B 10 -u debian -k "$KEY"     -o "$TMP/control.got" "coaps+tcp://127.0.0.1:$((port + 1))/example_data"     >"$TMP/control.out" 2>&1
  cmp -s "$BODY" "$TMP/control.got"
  rc=$?
  kill "$pid"
  wait "$pid" 2>/dev/null
  echo "       control: coap-client-openssl GET 100 KB from coap-server-gnutls:"     "$([ $rc = 0 ] && echo works || echo fails too)"
  return $rc
}
FAIL_WITHIN=5 # seconds a refused handshake may take, client side

# start_ours NAME ARGS...: our server with credentials; sets TLS_PORT from
# its "listening for coaps+tcp on" line.
start_ours() {
  local name=$1 i
  shift
  "$SERVER_BIN" -A ::1 -p 0 "$@" 2>"$TMP/$name.log" >/dev/null &
  SERVER_PID=$!
  BG_PIDS+=("$SERVER_PID")
  TLS_PORT=
  for i in $(seq 1 300); do # (30 s at most: a busy machine)
    TLS_PORT=$(sed -nE 's/.*listening for coaps\+tcp on .*:([0-9]+)$/\1/p' \
      "$TMP/$name.log")
    [ -n "$TLS_PORT" ] && return 0
    sleep 0.1
  done
  echo "our server did not start: $(cat "$TMP/$name.log")"
  exit 1
}

# refused NAME SECONDS CMD...: CMD must end within SECONDS (not by the
# timeout) without printing a time of day (no response came).
refused() {
  local name=$1 secs=$2 t0 t1
  shift 2
  LAST_CMD="$*"
  t0=$(date +%s%N)
  run 20 "$@"
  t1=$(date +%s%N)
  local ms=$(((t1 - t0) / 1000000))
  if [ "$RC" != 124 ] && [ "$RC" != 137 ] && [ "$ms" -le $((secs * 1000)) ] &&
    ! grep -qE "$TIME_RE\$" "$OUT"; then
    pass "$name (ended in $ms ms, exit $RC)"
  else
    fail "$name" "ended in $ms ms (bound ${secs} s)" "$(show | tr '\n' '|')"
  fi
}

# debian_clients LABEL ARGS...: Debian's clients with ARGS against $BASE.
debian_clients() {
  local label=$1 tls
  shift
  for tls in openssl gnutls; do
    local C=(coap-client-$tls -B 10 "$@")
    expect "$tls client ($label): GET / over coaps+tcp" out-has \
      "test server made with Petrel" "${C[@]}" "$BASE/"
    local sent="$BODY" what="100 KB"
    LAST_CMD="${C[*]} -m put -f $BODY $BASE/example_data"
    run 15 "${C[@]}" -B 8 -m put -f "$BODY" "$BASE/example_data"
    if [ "$RC" = 0 ] && ! grep -q "cannot send" "$OUT" "$ERR"; then
      pass "$tls client ($label): PUT 100 KB to /example_data"
    elif [ $tls = gnutls ] && ! control_gnutls_client_put; then
      known "$tls client ($label): PUT 100 KB fails in libcoap 4.3.1's GnuTLS client" \
        "$(show | tr '\n' '|')"
      sent="$SMALL" what="10 KB"
      expect "$tls client ($label): PUT 10 KB (one TLS record)" rc 0 \
        "${C[@]}" -m put -f "$SMALL" "$BASE/example_data"
    else
      fail "$tls client ($label): PUT 100 KB to /example_data" "$(show | tr '\n' '|')"
    fi
    expect_body "$tls client ($label): GET /example_data gives the $what back" \
      "$sent" "$GOT" "${C[@]}" -B 20 -o "$GOT" "$BASE/example_data"
    expect "$tls client ($label): /async?1, the separate response" \
      out-eq done "${C[@]}" "$BASE/async?1"
    LAST_CMD="${C[*]} -s 3 $BASE/time"
    run 20 "${C[@]}" -s 3 "$BASE/time"
    # (libcoap's client prints the notifications without newlines)
    local n
    n=$(grep -oE "$TIME_RE" "$OUT" | wc -l)
    if [ "$n" -ge 2 ]; then
      pass "$tls client ($label): observes /time over coaps+tcp ($n notifications)"
    else
      fail "$tls client ($label): observes /time over coaps+tcp" "$(show | tr '\n' '|')"
    fi
  done
}

# ---- Debian's clients against our server: PSK ------------------------------
start_ours psk -k "$KEY" -h petrel-hint
BASE="coaps+tcp://[::1]:$TLS_PORT"
debian_clients PSK -u debian -k "$KEY"
for tls in openssl gnutls; do
  # libcoap 4.3.1's client exits 0 even when it could not send: the check
  # is that no time came back, and soon.
  refused "$tls client: a wrong key gets no response" $FAIL_WITHIN \
    coap-client-$tls -B 3 -u debian -k wrong-key "$BASE/time"
  expect "$tls client: our server still serves after the wrong key" \
    out-has "test server made with Petrel" \
    coap-client-$tls -B 10 -u debian -k "$KEY" "$BASE/"
done
stop_cleanly psk "$SERVER_PID"

# ---- Debian's clients against our server: certificates ---------------------
start_ours pki -c "$CERTS/server.pem" -j "$CERTS/server.key" -C "$CERTS/ca.pem"
BASE="coaps+tcp://[::1]:$TLS_PORT"
debian_clients PKI -c "$CERTS/client.pem" -j "$CERTS/client.key" \
  -C "$CERTS/ca.pem"
for tls in openssl gnutls; do
  refused "$tls client with a certificate of another CA gets nothing" \
    $FAIL_WITHIN coap-client-$tls -B 3 -c "$CERTS/rogue.pem" \
    -j "$CERTS/rogue.key" -C "$CERTS/other_ca.pem" -n "$BASE/time"
  expect "$tls client: our server still serves after the refusal" \
    out-has "test server made with Petrel" coap-client-$tls -B 10 \
    -c "$CERTS/client.pem" -j "$CERTS/client.key" -C "$CERTS/ca.pem" "$BASE/"
done
stop_cleanly pki "$SERVER_PID"
start_ours rogue -c "$CERTS/rogue.pem" -j "$CERTS/rogue.key" -n
BASE="coaps+tcp://[::1]:$TLS_PORT"
for tls in openssl gnutls; do
  refused "$tls client refuses our server from an untrusted CA" $FAIL_WITHIN \
    coap-client-$tls -B 3 -c "$CERTS/client.pem" -j "$CERTS/client.key" \
    -C "$CERTS/ca.pem" "$BASE/time"
done
stop_cleanly rogue "$SERVER_PID"

# ---- our client against Debian's servers -----------------------------------
# start_debian TLS ARGS...: coap-server-TLS on a random port (coaps and
# coaps+tcp on port+1); sets DEBIAN_TLS_PORT and DEBIAN_PID.
start_debian() {
  local tls=$1 attempt port pid
  shift
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 12000))
    coap-server-$tls -A ::1 -p "$port" "$@" >"$TMP/debian-$tls.log" 2>&1 &
    pid=$!
    if debian_answers "$pid" "$port"; then
      BG_PIDS+=("$pid")
      DEBIAN_TLS_PORT=$((port + 1))
      DEBIAN_PID=$pid
      echo "started coap-server-$tls (pid $pid), coaps+tcp on $DEBIAN_TLS_PORT"
      return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 1
}

# ours_against LABEL ARGS...: our client with ARGS against $BASE.
ours_against() {
  local label=$1
  shift
  local C=("$CLIENT_BIN" -B 10 "$@")
  expect "our client vs $label: GET / over coaps+tcp" out-has \
    "test server made with libcoap" "${C[@]}" "$BASE/"
  expect "our client vs $label: PUT 100 KB" rc 0 \
    "${C[@]}" -B 20 -m put -f "$BODY" "$BASE/example_data"
  LAST_CMD="${C[*]} -o $GOT $BASE/example_data"
  rm -f "$GOT"
  run 15 "${C[@]}" -B 8 -o "$GOT" "$BASE/example_data"
  if [ "$RC" = 0 ] && cmp -s "$BODY" "$GOT"; then
    pass "our client vs $label: GET the 100 KB back (byte-exact)"
  elif [[ $label == gnutls* ]] && ! control_gnutls_server_get; then
    known "our client vs $label: libcoap 4.3.1's GnuTLS server sends only the" \
      "first TLS record of a 100 KB response" "$(show | tr '\n' '|')"
    expect "our client vs $label: PUT 10 KB" rc 0 \
      "${C[@]}" -m put -f "$SMALL" "$BASE/example_data"
    expect_body "our client vs $label: GET the 10 KB back" "$SMALL" "$GOT" \
      "${C[@]}" -o "$GOT" "$BASE/example_data"
  else
    fail "our client vs $label: GET the 100 KB back" "$(show | tr '\n' '|')"
  fi
  expect "our client vs $label: /async?1 (separate response)" out-has \
    "c:2.05" "${C[@]}" -v 7 "$BASE/async?1"
}

for tls in openssl gnutls; do
  start_debian $tls -k "$KEY" -h debian-hint ||
    { fail "start coap-server-$tls (PSK)"; continue; }
  BASE="coaps+tcp://[::1]:$DEBIAN_TLS_PORT"
  ours_against "$tls server (PSK)" -u petrel -k "$KEY"
  # Exit 4: the request was not delivered (the server's alert), at once.
  refused "our client vs $tls server: a wrong key fails" $FAIL_WITHIN \
    "$CLIENT_BIN" -B 3 -u petrel -k wrong-key "$BASE/time"
  kill "$DEBIAN_PID"
  start_debian $tls -c "$CERTS/server.pem" -j "$CERTS/server.key" \
    -C "$CERTS/ca.pem" || { fail "start coap-server-$tls (PKI)"; continue; }
  BASE="coaps+tcp://[::1]:$DEBIAN_TLS_PORT"
  ours_against "$tls server (PKI)" -c "$CERTS/client.pem" \
    -j "$CERTS/client.key" -C "$CERTS/ca.pem"
  refused "our client vs $tls server: an untrusted client certificate fails" \
    $FAIL_WITHIN "$CLIENT_BIN" -B 3 -c "$CERTS/rogue.pem" \
    -j "$CERTS/rogue.key" -n "$BASE/time"
  kill "$DEBIAN_PID"
  start_debian $tls -c "$CERTS/rogue.pem" -j "$CERTS/rogue.key" -n ||
    { fail "start coap-server-$tls (rogue)"; continue; }
  BASE="coaps+tcp://[::1]:$DEBIAN_TLS_PORT"
  refused "our client refuses a $tls server from an untrusted CA" \
    $FAIL_WITHIN "$CLIENT_BIN" -B 3 -c "$CERTS/client.pem" \
    -j "$CERTS/client.key" -C "$CERTS/ca.pem" "$BASE/time"
  kill "$DEBIAN_PID"
done
echo "known libcoap 4.3.1 GnuTLS limitations shown above: $KNOWN"
finish
