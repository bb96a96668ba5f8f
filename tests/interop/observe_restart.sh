#!/usr/bin/env bash
# Observers across a server restart (coap_persist(3), coap-server -t): a
# client observes /time, the server is killed with SIGKILL and started
# again on the same port, and the client goes on receiving notifications
# with its token and Observe values larger than any before. Then SIGUSR2
# stops the server keeping its observers: no final 4.04 reaches the client.
# Run with Debian's coap-client-notls and with our coap-client.
# usage: observe_restart.sh PATH/TO/coap-client PATH/TO/coap-server
. "$(dirname "$0")/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client coap-server}
SERVER_BIN=${2:?usage: $0 coap-client coap-server}
need coap-client-notls

# The 2.xx answers (registration and notifications) a client logged with
# -v 7, one per line: "TYPE TOKEN OBSERVE".
answers() {
  grep -oE 'v:1 t:(NON|CON|ACK) c:2\.05 i:[0-9a-f]+ \{[0-9a-f]*\} \[ Observe:[0-9]+' "$1" |
    sed -E 's/v:1 t:([A-Z]+) c:2\.05 i:[0-9a-f]+ \{([0-9a-f]*)\} \[ Observe:([0-9]+)/\1 \2 \3/'
}

# wait_answers LOG N SECONDS: until LOG holds N answers; 0 if it did.
wait_answers() {
  local i
  for i in $(seq 1 $((10 * $3))); do
    [ "$(answers "$1" | wc -l)" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# start_server PORT: our server with -t, its files in $TMP/persist-$name.
start_server() {
  start_listening "server-$name" env TMPDIR="$TMP/persist-$name" \
    "$SERVER_BIN" -A ::1 -p "$1" -t
}

restart_test() {
  name=$1
  shift
  mkdir -p "$TMP/persist-$name"
  start_server 0 || { fail "$name: start coap-server -t"; return; }
  local port=$SERVER_PORT log="$TMP/client-$name.log"
  "$@" -v 7 -s 14 -B 16 "coap://[::1]:$port/time" >"$log" 2>&1 &
  local client=$!
  BG_PIDS+=("$client")
  if ! wait_answers "$log" 4 8; then
    fail "$name: notifications before the kill" "$(answers "$log" | tr '\n' '|')"
    return
  fi
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null
  local before lines
  before=$(answers "$log" | wc -l)
  lines=$(wc -l <"$log")
  sleep 0.2
  start_server "$port" || { fail "$name: restart on port $port"; return; }
  if wait_answers "$log" $((before + 3)) 8; then
    pass "$name: notifications go on after SIGKILL and a restart"
  else
    fail "$name: notifications go on after SIGKILL and a restart" \
      "$(answers "$log" | tr '\n' '|')"
  fi
  # The restored observer is notified before the client asks anything
  # again (our client registers again once Max-Age has passed).
  local first
  first=$(tail -n +"$((lines + 1))" "$log" |
    grep -oE 'v:1 t:(NON|CON) c:(GET|2\.05)' | head -n 1)
  case "$first" in
  *c:2.05)
    pass "$name: the first message after the restart is a notification" ;;
  *)
    fail "$name: the first message after the restart is a notification" \
      "first: '$first'" ;;
  esac
  # One token throughout, and Observe values that only grow.
  local check
  check=$(answers "$log" | awk -v before="$before" '
    NR == 1 { token = $2 }
    $2 != token { print "token " $2 " is not " token; exit }
    NR > 1 && $3 + 0 <= last { print "Observe " $3 " after " last; exit }
    NR == before { max_before = $3 }
    NR == before + 1 && $3 + 0 <= max_before { print "no jump"; exit }
    { last = $3 + 0 }')
  if [ -z "$check" ]; then
    pass "$name: same token, Observe values increasing across the restart"
  else
    fail "$name: same token, Observe values increasing across the restart" \
      "$check" "$(answers "$log" | tr '\n' '|')"
  fi
  # SIGUSR2: the observers are kept for the next start, so no 4.04.
  kill -USR2 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null
  local rc=$?
  sleep 0.5
  if [ "$rc" = 0 ] && ! grep -q 'c:4\.04' "$log"; then
    pass "$name: SIGUSR2 stops the server without a final 4.04"
  else
    fail "$name: SIGUSR2 stops the server without a final 4.04" \
      "exit status $rc" "$(grep 'c:4\.04' "$log" | head -n 2 | tr '\n' '|')"
  fi
  kill "$client" 2>/dev/null
  wait "$client" 2>/dev/null
}

restart_test "libcoap's client" coap-client-notls
restart_test "our client" "$CLIENT_BIN"
finish
