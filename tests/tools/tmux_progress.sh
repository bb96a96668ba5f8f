#!/usr/bin/env bash
# coap-client on a terminal, driven through tmux:
#   - a block-wise download that takes longer than a second shows a progress
#     line on standard error (bytes, rate, percentage from Size2), erased
#     when the body is written; with standard error redirected there is none;
#   - Ctrl-C during a download writes what was received so far and exits 0
#     (as libcoap's client does);
#   - Ctrl-C during an observation cancels it (the server logs the observer
#     removed) and exits 0;
#   - Ctrl-C stops coap-server running in the foreground, exit 0.
# The downloads are made slow on purpose with -l (datagrams dropped, so
# retransmissions wait), not with sleeps in the server.
# usage: tmux_progress.sh PATH/TO/coap-client PATH/TO/coap-server
. "$(dirname "$0")/../interop/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client coap-server}
SERVER_BIN=${2:?usage: $0 coap-client coap-server}
need tmux
SOCK="petrel-test-$$"
T=(tmux -L "$SOCK")
trap '"${T[@]}" kill-server 2>/dev/null; cleanup' EXIT
make_bodies

start_listening coap-server bash -c 'exec "$0" -A 127.0.0.1 -p 0 -v 7 >"$1"' \
  "$SERVER_BIN" "$TMP/server.out" || exit 1
BASE="coap://127.0.0.1:$SERVER_PORT"

# in_tmux NAME CMD: runs CMD (a shell line) in a new 150x10 tmux window; its
# exit status goes to $TMP/NAME.exit.
in_tmux() {
  rm -f "$TMP/$1.exit"
  "${T[@]}" new-session -d -s "$1" -x 150 -y 10 \
    "$2; echo \$? >$TMP/$1.exit; sleep 60"
}
# wait_exit NAME SECONDS: waits for the command in window NAME to end.
wait_exit() {
  local i
  for i in $(seq 1 $(($2 * 10))); do
    [ -s "$TMP/$1.exit" ] && return 0
    sleep 0.1
  done
  return 1
}
pane() { "${T[@]}" capture-pane -p -t "$1"; }

echo "# the progress line"
# Datagram 30 is dropped: its retransmission comes 2 to 3 s later, so the
# download of /large in 1024-byte blocks runs past a second.
t0=$(date +%s%N)
in_tmux progress "'$CLIENT_BIN' -b 1024 -l 30 -o '$TMP/large.got' '$BASE/large'"
seen=""
after=0
for i in $(seq 1 300); do
  line=$(pane progress | grep -E 'coap-client: .* received, .*/s, [0-9]+%' | tail -n1)
  if [ -n "$line" ] && [ -z "$seen" ]; then
    seen=$line
    after=$((($(date +%s%N) - t0) / 1000000))
  fi
  [ -s "$TMP/progress.exit" ] && break
  sleep 0.05
done
wait_exit progress 30
if [ -n "$seen" ]; then
  pass "a progress line while the download runs: '$(sed 's/ *$//' <<<"$seen")'"
else
  fail "a progress line while the download runs" "$(pane progress | tr '\n' '|')"
fi
# The download starts at once: the line must wait for its first second.
if [ -n "$seen" ] && [ "$after" -ge 950 ]; then
  pass "the progress line comes only after a second (first seen at ${after} ms)"
else
  fail "the progress line comes only after a second" "first seen at ${after} ms"
fi
if [ "$(cat "$TMP/progress.exit" 2>/dev/null)" = 0 ] && cmp -s "$LARGE_BODY" "$TMP/large.got"; then
  pass "the download ends with exit 0 and the whole body"
else
  fail "the download ends with exit 0 and the whole body" \
    "exit $(cat "$TMP/progress.exit" 2>/dev/null)"
fi
if pane progress | grep -q "received"; then
  fail "the progress line is erased at the end" "$(pane progress | tr '\n' '|')"
else
  pass "the progress line is erased at the end"
fi
LAST_CMD="coap-client -b 1024 -l 30 (stderr redirected)"
run 30 "$CLIENT_BIN" -b 1024 -l 30 -o "$TMP/large.got2" "$BASE/large"
if [ "$RC" = 0 ] && [ ! -s "$ERR" ] && cmp -s "$LARGE_BODY" "$TMP/large.got2"; then
  pass "no progress line when standard error is not a terminal"
else
  fail "no progress line when standard error is not a terminal" "$(show | tr '\n' '|')"
fi

echo "# Ctrl-C during a download"
# From datagram 20 on everything is dropped: the download stalls.
in_tmux partial "'$CLIENT_BIN' -b 64 -l 20-1000000 '$BASE/large' >'$TMP/partial.out'"
sleep 2
"${T[@]}" send-keys -t partial C-c
if wait_exit partial 5 && [ "$(cat "$TMP/partial.exit")" = 0 ]; then
  pass "Ctrl-C ends a stalled download at once with exit 0"
else
  fail "Ctrl-C ends a stalled download at once with exit 0" \
    "exit $(cat "$TMP/partial.exit" 2>/dev/null)" "$(pane partial | tr '\n' '|')"
fi
size=$(wc -c <"$TMP/partial.out")
if [ "$size" -gt 64 ] && [ "$(tail -c 1 "$TMP/partial.out" | od -An -c | tr -d ' ')" = '\n' ] &&
  cmp -s <(head -c $((size - 1)) "$TMP/partial.out") <(head -c $((size - 1)) "$LARGE_BODY"); then
  pass "what was received is written: the first $((size - 1)) bytes of /large, then the newline"
else
  fail "what was received is written" "$size bytes: $(head -c 80 "$TMP/partial.out" | tr '\n' '|')"
fi

echo "# Ctrl-C during an observation"
in_tmux observe "'$CLIENT_BIN' -s 60 -w '$BASE/time' >'$TMP/observe.out'"
# Ctrl-C once the server has sent the response and two notifications (the
# first two have then long reached the client), however long that takes.
sent_answers() { [ "$(grep -cE 'c:2\.05 .*Observe:' "$TMP/server.out")" -ge 3 ]; }
eventually 30 sent_answers ||
  fail "the server sends the response and two notifications" "$(pane observe | tr '\n' '|')"
"${T[@]}" send-keys -t observe C-c
if wait_exit observe 5 && [ "$(cat "$TMP/observe.exit")" = 0 ]; then
  pass "Ctrl-C ends an observation with exit 0"
else
  fail "Ctrl-C ends an observation with exit 0" "exit $(cat "$TMP/observe.exit" 2>/dev/null)"
fi
n=$(grep -cE '^[A-Z][a-z]{2} [0-9]{2} ' "$TMP/observe.out")
[ "$n" -ge 2 ] && pass "the notifications before Ctrl-C were written ($n)" ||
  fail "the notifications before Ctrl-C were written" "$(head -c 200 "$TMP/observe.out")"
cancelled() {
  grep -qE 't:CON c:GET .*Observe:1,' "$TMP/server.out" &&
    grep -q "observer of 'time' removed" "$TMP/server.out"
}
if eventually 10 cancelled; then
  pass "the observation was cancelled (GET with Observe 1; the server removed the observer)"
else
  fail "the observation was cancelled" "$(grep -E 'Observe|observer' "$TMP/server.out" | tail -n 4 | tr '\n' '|')"
fi
stop_cleanly coap-server "$SERVER_PID"

echo "# coap-server in the foreground, as the README runs it"
in_tmux server "'$SERVER_BIN' -A 127.0.0.1 -p 0"
server_up() { pane server | grep -q "listening on"; }
eventually 30 server_up
"${T[@]}" send-keys -t server C-c
if wait_exit server 10 && [ "$(cat "$TMP/server.exit")" = 0 ]; then
  pass "Ctrl-C stops coap-server, exit 0"
else
  fail "Ctrl-C stops coap-server, exit 0" "$(pane server | tr '\n' '|')"
fi
finish
