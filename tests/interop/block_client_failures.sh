#!/usr/bin/env bash
# Our coap-client against a server that gets block-wise transfers (RFC 7959)
# wrong (misbehaving_block_server.pl, one way per run). A body that cannot
# be completed is never printed, not even in part: the library raises
# COAP_EVENT_PARTIAL_BLOCK / COAP_EVENT_XMIT_BLOCK_FAIL and coap-client
# exits 5; an error response mid-transfer is printed as the error (exit 2).
# The control run ("good") gets the whole 1000-byte body.
# usage: block_client_failures.sh PATH/TO/coap-client
. "$(dirname "$0")/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client}
need perl
SCRIPT="$(dirname "$0")/misbehaving_block_server.pl"
GOT="$TMP/got"
perl -e 'print "0123456789" x 100' >"$TMP/body"
head -c 3000 /dev/zero | tr '\0' 'u' >"$TMP/upload"

# check MODE RC STDERR-TEXT CLIENT-ARGS...: runs coap-client against a server
# misbehaving in MODE; it must exit RC, print nothing on stdout and say
# STDERR-TEXT on stderr.
check() {
  local mode=$1 rc=$2 text=$3
  shift 3
  start_listening "server-$mode" perl "$SCRIPT" "$mode" || {
    fail "$mode: server did not start"
    return
  }
  LAST_CMD="coap-client $* (server: $mode)"
  run 20 "$CLIENT_BIN" -B 10 "$@" "coap://127.0.0.1:$SERVER_PORT/data"
  if [ "$RC" = "$rc" ] && [ ! -s "$OUT" ] && grep -qF -- "$text" "$ERR"; then
    pass "$mode: exit $rc, no body printed, stderr says '$text'"
  else
    fail "$mode: exit $rc, no body printed, stderr says '$text'" \
      "$(show | tr '\n' '|')"
  fi
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
}

start_listening server-good perl "$SCRIPT" good || exit 1
expect_body "good (control): the whole body in blocks of 16" "$TMP/body" \
  "$GOT" "$CLIENT_BIN" -B 10 -b 16 -o "$GOT" "coap://127.0.0.1:$SERVER_PORT/data"
expect "good (control): an upload in blocks of 64 ends 2.04" rc 0 \
  "$CLIENT_BIN" -B 10 -m put -b 64 -f "$TMP/upload" \
  "coap://127.0.0.1:$SERVER_PORT/data"
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null

PARTIAL="the response body was not received whole"
XMIT="the request body was not sent whole"
check wrong-num 5 "$PARTIAL" -b 16
check wrong-num 5 "$PARTIAL" -b 64
check etag 5 "$PARTIAL" -b 16
check grow 5 "$PARTIAL" -b 16
check no-block2 5 "$PARTIAL" -b 32
check error 2 "4.04" -b 16
check put-no-block1 5 "$XMIT" -m put -b 64 -f "$TMP/upload"
check put-error 2 "4.13" -m put -b 64 -f "$TMP/upload"
# -o FILE: the file stays empty too.
start_listening server-file perl "$SCRIPT" wrong-num || exit 1
rm -f "$GOT"
LAST_CMD="coap-client -b 16 -o FILE (server: wrong-num)"
run 20 "$CLIENT_BIN" -B 10 -b 16 -o "$GOT" "coap://127.0.0.1:$SERVER_PORT/data"
if [ "$RC" = 5 ] && [ ! -s "$GOT" ]; then
  pass "wrong-num with -o FILE: exit 5, the file is empty"
else
  fail "wrong-num with -o FILE: exit 5, the file is empty" \
    "file: $(wc -c <"$GOT" 2>/dev/null) bytes" "$(show | tr '\n' '|')"
fi
finish
