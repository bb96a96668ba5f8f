#!/usr/bin/env bash
# Reliability: Debian's coap-client-notls asks the seed example for
# /async?1 through the fault-injecting relay (20% loss each way, plus
# duplicates, delays and reordering). Every run must print "done".
#
# coap-client-notls keeps RFC 7252's defaults (ACK_TIMEOUT 2 s,
# MAX_RETRANSMIT 4), so at 20%+20% loss about 1 request in 170 is never
# acknowledged within its 5 transmissions and the client gives up (exit
# status non-zero, no output): such a run is started again, at most 3 times
# in all; a run that prints anything but "done" fails at once. The runs
# started again are reported in the result, and more than 2 of them in 20
# (expected: about 0.1) fail the test, so that retries cannot hide a server
# that loses answers.
# usage: debian_client_lossy.sh PATH/TO/seed_async_server PATH/TO/lossy_relay
. "$(dirname "$0")/../interop/lib.sh"
SEED_BIN=${1:?usage: $0 seed_async_server lossy_relay}
RELAY_BIN=${2:?usage: $0 seed_async_server lossy_relay}
need coap-client-notls
RUNS=20

start_listening seed_async_server "$SEED_BIN" 127.0.0.1 0 || exit 1
SEED_PID=$SERVER_PID
start_listening lossy_relay "$RELAY_BIN" -s 11 -l 0.2 -d 0.05 -r 0.05 -D 20 \
  127.0.0.1 "$SERVER_PORT" || exit 1
RELAY_PID=$SERVER_PID
URI="coap://127.0.0.1:$SERVER_PORT/async?1"

ok=0 retried=0
for i in $(seq 1 "$RUNS"); do
  for attempt in 1 2 3; do
    run 60 coap-client-notls -B 45 "$URI"
    if [ "$(cat "$OUT")" = "done" ]; then
      ok=$((ok + 1))
      break
    fi
    if [ -s "$OUT" ]; then
      fail "run $i: answered '$(head -c 80 "$OUT")' instead of done"
      break
    fi
    retried=$((retried + 1))
  done
done
echo "$ok of $RUNS runs answered 'done' ($retried runs started again)"
if [ "$ok" = "$RUNS" ] && [ "$retried" -le 2 ]; then
  pass "coap-client-notls gets every /async?1 answer through 20% loss ($retried runs started again after the client gave up)"
else
  fail "coap-client-notls gets every /async?1 answer through 20% loss, at most 2 runs started again" \
    "$ok of $RUNS answered; $retried runs started again"
fi

kill -TERM "$RELAY_PID" 2>/dev/null
wait "$RELAY_PID" 2>/dev/null
sed -n 's/^lossy_relay: \(up\|down\)/relay \1/p' "$TMP/lossy_relay.log"
stop_cleanly seed_async_server "$SEED_PID"
finish
