#!/usr/bin/env bash
# bench/udp_echo.c, the benchmark's ceiling, under coap-bench on loopback:
# every request answered in both modes; with UDP GSO (the default) the
# answers of one receive pass to one peer leave in fewer sendmmsg() entries
# than answers, answers to different peers never share one; plain sends
# one entry per answer; in observe mode every registration is taken and
# every observer notified, in GSO messages per peer. Counts only (udp_echo's own on SIGTERM), never a
# timing.
# usage: udp_echo.sh PATH/TO/coap-bench PATH/TO/udp_echo
. "$(dirname "$0")/../interop/lib.sh"
LOAD=${1:?usage: $0 coap-bench udp_echo}
ECHO=${2:?usage: $0 coap-bench udp_echo}

port=$((20000 + RANDOM % 30000))
# echo_start [MODE]: sets EPID and EPORT; udp_echo's stderr in $TMP/echo.log
echo_start() {
  local try
  for try in 1 2 3 4 5; do
    port=$((port + 1))
    # ready once it says so, after bind(); a port taken makes it exit
    if start_listening echo "$ECHO" "$port" "$@"; then
      EPID=$SERVER_PID
      EPORT=$port
      return 0
    fi
    wait "$SERVER_PID"
  done
  echo "could not start $ECHO"; exit 1
}
# echo_stop: stops it, then sets answers, entries, gso, fallback
echo_stop() {
  kill "$EPID"
  wait "$EPID"
  ERC=$?
  read -r answers entries gso fallback observers < <(sed -n \
    's/^udp_echo: answers=\([0-9]*\) entries=\([0-9]*\) gso=\([0-9]*\) fallback=\([0-9]*\)\( observers=\([0-9]*\)\)\{0,1\}$/\1 \2 \3 \4 \6/p' \
    "$TMP/echo.log")
}
lval() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$OUT" | tail -n 1; }
# check NAME EXPR: awk EXPR over the load's and the echo's counts
check() {
  if awk -v rc="$RC" -v erc="$ERC" -v completed="$(lval completed)" \
    -v non2xx="$(lval non2xx)" -v timeouts="$(lval timeouts)" \
    -v retrans="$(lval retrans)" -v answers="${answers:--1}" \
    -v entries="${entries:--1}" -v gso="${gso:--1}" -v fallback="${fallback:--1}" \
    -v observers="${observers:--1}" -v observing="$(lval observers)" \
    -v notifications="$(lval notifications)" \
    "BEGIN {exit !(rc == 0 && erc == 0 && ($2))}"; then
    pass "$1"
  else
    fail "$1" "expected: $2" "$(show | tr '\n' '|')" "$(cat "$TMP/echo.log")"
  fi
}

for mode in gso plain; do
  echo_start "$mode"
  LAST_CMD="$mode: 1 x 16"
  # First retransmission after 1 s: an answer that never arrives as its own
  # datagram (two run together, or cut wrong) is retransmitted within the
  # 1.5 s and counted.
  run 20 "$LOAD" --no-progress -c 1 -w 16 -d 1.5 -W 0 -t 1 127.0.0.1 "$EPORT"
  echo_stop
  check "$mode: 1 session x 16: every request answered as a 2.05, none retransmitted" \
    'completed > 100 && non2xx == 0 && timeouts == 0 && retrans == 0 && answers >= completed'
  if [ "$mode" = gso ]; then
    check "gso: answers to one peer share sendmmsg entries (UDP_SEGMENT)" \
      'fallback == 0 && gso > 0 && entries < answers'
  else
    check "plain: one sendmmsg entry per answer, none with UDP_SEGMENT" \
      'gso == 0 && entries == answers'
  fi
done

echo_start
LAST_CMD="gso (default): 100 x 1"
run 20 "$LOAD" --no-progress -c 100 -w 1 -d 0.5 -W 0 -t 2 127.0.0.1 "$EPORT"
echo_stop
check "gso: 100 sessions x 1: every request answered" \
  'completed > 100 && non2xx == 0 && timeouts == 0 && answers >= completed'
check "gso: answers to different peers never share an entry" \
  'gso == 0 && entries == answers'

echo_start observe
LAST_CMD="observe: 400 observers over 4 sockets"
run 30 "$LOAD" --no-progress -O 400 -c 4 -p obs -L 10 -d 1 -W 0 -t 2 \
  127.0.0.1 "$EPORT"
echo_stop
check "observe: every registration taken, every observer notified" \
  'observers == 400 && observing == 400 && notifications >= 400'
check "observe: a peer's notifications share sendmmsg entries (UDP_SEGMENT)" \
  'fallback == 0 && gso > 0 && entries < answers'

LAST_CMD="udp_echo bad mode"
expect "udp_echo: an unknown mode is a usage error: exit 2" rc 2 "$ECHO" 1 fast

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
