#!/usr/bin/env bash
# coap-bench against bench/bench_server.c (built against Petrel) on
# loopback: the closed window, the open loop, observe mode, parking, idle
# sessions, --json, -C, Petrel's default observer limit as coap-bench sees
# it, and the exit status when the target refuses or does not answer.
# usage: coap_bench_modes.sh PATH/TO/coap-bench PATH/TO/bench_server
. "$(dirname "$0")/../interop/lib.sh"
BENCH=${1:?usage: $0 coap-bench bench_server}
SERVER=${2:?usage: $0 coap-bench bench_server}

port=$((20000 + RANDOM % 30000))
# serve [defaults]: starts the server on the next free-looking port; sets
# SERVER_PID and SERVER_PORT.
serve() {
  local try
  for try in 1 2 3 4 5; do
    port=$((port + 2)) # DTLS listens on the next port
    # ready once it says so, after every endpoint is bound; a port taken
    # makes it exit at once, and the next pair is tried
    if start_listening server "$SERVER" "$port" "$@"; then
      SERVER_PORT=$port
      return 0
    fi
  done
  echo "could not start $SERVER"; exit 1
}
val() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$OUT" | tail -n 1; }
# is NAME EXPR: passes when the run exited 0 and the awk expression EXPR
# (fields by name as variables) holds for the last key=value line of $OUT.
is() {
  local name=$1 expr=$2 vars=()
  for k in rate completed p50_us p90_us p99_us max_us non2xx retrans rst \
    timeouts parked idle offered observers obs_refused notifications ticks \
    server_cpu_us rss_setup_kb server_busy load_busy; do
    vars+=(-v "$k=$(val "$k")")
  done
  if awk -v rc="$RC" "${vars[@]}" "BEGIN {exit !(rc == 0 && ($expr))}"; then
    pass "$name"
  else
    fail "$name" "expected: $expr" "$(show | tr '\n' '|')"
  fi
}
B=("$BENCH" --no-progress)

serve
H=(127.0.0.1 "$SERVER_PORT")
LAST_CMD="closed window"; run 30 "${B[@]}" -c 2 -w 4 -d 1 -W 0.2 -C "$SERVER_PID" "${H[@]}"
is "closed window: requests completed, all 2.05" 'completed > 100 && non2xx == 0 && rate == completed'
is "closed window: -C reports server CPU per request" 'server_cpu_us > 0 && server_cpu_us < 100000'
is "closed window: percentiles in order" 'p50_us > 0 && p50_us <= p90_us && p90_us <= p99_us && p99_us <= max_us * 1.04'
if grep -q '^  latency (us)  p50 ' "$OUT" && grep -q '^  server CPU ' "$OUT"; then
  pass "closed window: the summary has percentiles and server CPU"
else
  fail "closed window: the summary has percentiles and server CPU" "$(show | tr '\n' '|')"
fi

LAST_CMD="open loop"; run 30 "${B[@]}" -r 2000 -c 4 -w 32 -d 1 -W 0.2 "${H[@]}"
is "open loop: about the offered 2000 req/s answered in 1 s" 'offered == 2000 && completed >= 1700 && completed <= 2100'

LAST_CMD="json"; run 30 "${B[@]}" -c 1 -w 2 -d 0.5 -W 0 --json "${H[@]}"
if [ "$(wc -l <"$OUT")" = 1 ] && grep -qE '^\{"rate": [0-9.]+, "completed": [0-9]+, .*"server_cpu_us": null, "rss_setup_kb": null, "server_busy": null, "load_busy": [0-9.]+, "server_wait": null, "load_wait": [0-9.]+\}$' "$OUT"; then
  pass "--json: one JSON object, unmeasured figures null"
else
  fail "--json: one JSON object, unmeasured figures null" "$(show | tr '\n' '|')"
fi

LAST_CMD="observe NON"; run 30 "${B[@]}" -O 300 -c 3 -p obs -d 1 -W 0.2 -C "$SERVER_PID" "${H[@]}"
is "observe: 300 observers registered on 3 sockets, none refused" 'observers == 300 && obs_refused == 0'
is "observe: notifications counted, rounds triggered" 'notifications >= 300 && ticks >= 1 && server_cpu_us > 0'
is "observe: the share of the window each side was on a CPU" 'server_busy > 0 && server_busy <= 1.5 && load_busy > 0 && load_busy <= 1.5'
is "observe: the server's memory grew with the observers" 'rss_setup_kb > 0'
LAST_CMD="observe CON"; run 30 "${B[@]}" -O 100 -c 2 -p obscon -d 1 -W 0.2 "${H[@]}"
is "observe CON: notifications acknowledged, rounds go on" 'observers == 100 && notifications >= 200 && ticks >= 2'

LAST_CMD="park"; run 30 "${B[@]}" -P 200 -S 10 -A 'async?3600' -c 0 "${H[@]}"
is "park: 200 separate responses parked" 'parked == 200'
LAST_CMD="idle"; run 30 "${B[@]}" -I 500 -c 1 -w 1 -d 0.3 -W 0 -C "$SERVER_PID" "${H[@]}"
is "idle: 500 idle sessions opened, then the load runs" 'idle == 500 && completed > 0'
# Each from its own address and port, so the server holds 500 sessions
# (about 1 KiB each, more under the sanitizers), not one reused.
is "idle: the server's memory grew by the sessions (over 250 kB)" 'rss_setup_kb > 250'

stop_cleanly bench_server "$SERVER_PID"

# Petrel's default observer limit (4,096 per resource): the rest refused.
serve defaults
LAST_CMD="observer limit"; run 60 "${B[@]}" -O 4200 -c 42 -p obs -d 0.3 -W 0 "127.0.0.1" "$SERVER_PORT"
is "default limits: 4096 observers taken, 104 refused (answered without Observe)" 'observers == 4096 && obs_refused == 104'

# A target that refuses (nothing listens), and one that does not answer.
kill -STOP "$SERVER_PID"
expect "a target that does not answer: exit 1 within about 3 s" rc 1 \
  "${B[@]}" -d 10 127.0.0.1 "$SERVER_PORT"
if grep -q "no answer within 3 s" "$ERR"; then pass "... and says so"; else fail "... and says so" "$(show | tr '\n' '|')"; fi
kill -CONT "$SERVER_PID"
stop_cleanly bench_server "$SERVER_PID"
expect "a port where nothing listens: exit 1" rc 1 "${B[@]}" -d 10 127.0.0.1 "$SERVER_PORT"
if grep -q "refused (ICMP port unreachable)" "$ERR"; then pass "... and says so"; else fail "... and says so" "$(show | tr '\n' '|')"; fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
