#!/usr/bin/env bash
# coap-server -g group -G group_if and -r, and coap-client to a group,
# inside a network namespace of the test's own (lo with multicast on and
# 224.0.0.0/4 routed to it): a NON GET sent to 224.0.1.187 is answered by
# a server that joined it; with -r only /, /async and /.well-known/core
# answer group requests; a group that cannot be joined on the interface
# given is refused. Answers to a group come after a random delay within the
# leisure (5 s), so the client waits 7 s.
# usage: server_mcast.sh PATH/TO/coap-server PATH/TO/coap-client
# Needs root for `unshare -n`; where that is refused the test is skipped
# (exit 77), except under CI (CI=true), where it fails.
set -u
if [ "${3:-}" != --inside ]; then
  . "$(dirname "$0")/../netns/lib.sh"
  netns_enter "$0" "$1" "$2"
fi
. "$(dirname "$0")/../interop/lib.sh"
SERVER_BIN=$1
CLIENT_BIN=$2
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
GROUP=224.0.1.187

start_listening all "$SERVER_BIN" -p 0 -g "$GROUP" -G lo || exit 1
G="coap://$GROUP:$SERVER_PORT"
expect "-g $GROUP -G lo: a NON GET / to the group is answered" out-has "made with Petrel" \
  "$CLIENT_BIN" -N -B 7 "$G/"
expect "without -r: /time answers group requests too" out-re '^[A-Z][a-z]{2} ' \
  "$CLIENT_BIN" -N -B 7 "$G/time"
expect "the client waits out -B for more members, exit 0" rc 0 \
  "$CLIENT_BIN" -N -B 6 "$G/time"
stop_cleanly all "$SERVER_PID"

start_listening per-resource "$SERVER_BIN" -p 0 -g "$GROUP" -r || exit 1
G="coap://$GROUP:$SERVER_PORT"
expect "-r: / still answers group requests" out-has "made with Petrel" \
  "$CLIENT_BIN" -N -B 7 "$G/"
expect "-r: /time does not (no answer, exit 3)" rc 3 "$CLIENT_BIN" -N -B 7 "$G/time"
expect "-r: /time still answers unicast" out-re '^[A-Z][a-z]{2} ' \
  "$CLIENT_BIN" -B 3 "coap://127.0.0.1:$SERVER_PORT/time"
stop_cleanly per-resource "$SERVER_PID"

LAST_CMD="coap-server -g $GROUP -G nosuchif0"
run 10 "$SERVER_BIN" -p 0 -g "$GROUP" -G nosuchif0
[ "$RC" = 1 ] && grep -q "cannot join multicast group '$GROUP' on nosuchif0" "$ERR" &&
  pass "-G with an interface that does not exist: refused, named" ||
  fail "-G with an interface that does not exist: refused, named" "$(show | tr '\n' '|')"
finish
