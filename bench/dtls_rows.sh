#!/usr/bin/env bash
# bench/dtls_rows.sh BUILD_DIR -- the DTLS rows of bench/run.sh alone (full
# PSK handshakes, GET over 1 session x 16 and 1,000 sessions x 1) for
# Petrel and Debian's libcoap-3-openssl, with Petrel's plain UDP GET in the
# same rounds, in about four minutes instead of the whole connection run.
# BUILD_DIR is what scripts/bench builds (build/bench). Each round starts
# a fresh server per run, the servers taking turns; the table holds the
# medians of BENCH_RUNS (5) runs of BENCH_SECONDS (3) s. Raw lines go to
# stderr.
set -euo pipefail
B=${1:?usage: bench/dtls_rows.sh BUILD_DIR}
RUNS=${BENCH_RUNS:-5}
SECS=${BENCH_SECONDS:-3}
SCPU=${BENCH_SERVER_CPU:-0}
LCPU=${BENCH_LOAD_CPU:-1}
HOST=127.0.0.1
declare -A SERVER=([petrel]=$B/bench/petrel_bench_server
                   [libcoap]=$B/ref_server_libcoap_openssl)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

PID=
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null || true' EXIT
port=$((20000 + RANDOM % 20000))

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "-"}'; }

ROWS=(hs d1 dm u1 um)
declare -A NAME=([hs]="DTLS: full PSK handshakes, 64 at once (handshakes/s)"
                 [d1]="DTLS: GET, 1 session x 16 in flight (req/s)"
                 [dm]="DTLS: GET, 1,000 sessions x 1 (req/s)"
                 [u1]="UDP: GET, 1 session x 16, same rounds (req/s)"
                 [um]="UDP: GET, 1,000 sessions x 1, same rounds (req/s)")
declare -A ARGS=([hs]="-t dtls -H -K 64" [d1]="-t dtls -c 1 -w 16"
                 [dm]="-t dtls -c 1000 -w 1 -K 64" [u1]="-c 1 -w 16"
                 [um]="-c 1000 -w 1 -W 1")
declare -A RATE CPU RSS

# free PORT: nothing on this machine (other jobs included) has bound the
# port or the next one, over UDP or TCP
free() {
  local a b
  a=$(printf ':%04X ' "$1"); b=$(printf ':%04X ' $(($1 + 1)))
  ! grep -qE "$a|$b" /proc/net/udp /proc/net/udp6 /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# run ROW S: one run against a fresh server; a run that printed no result
# is logged with the load generator's message and whether the server was
# still running, and counts as no figure.
run() {
  local row=$1 s=$2 line
  port=$((port + 2))
  while ! free "$port"; do port=$((port + 2)); done
  taskset -c "$SCPU" "${SERVER[$s]}" "$port" >/dev/null 2>&1 &
  PID=$!
  if [[ $row == u* ]]; then
    wait_bound udp "$port"
    line=$(taskset -c "$LCPU" "$B/bench/coap-bench" --no-progress ${ARGS[$row]} \
             -d "$SECS" -C "$PID" "$HOST" "$port" | tail -n 1) || line=
  else
    wait_bound udp $((port + 1))
    line=$(taskset -c "$LCPU" "$B/bench/coap-bench-conn" ${ARGS[$row]} -L 60 \
             -d "$SECS" -C "$PID" "$HOST" $((port + 1)) 2>/tmp/dtls_rows.$$ | tail -n 1) || line=
  fi
  if [ -z "$line" ]; then
    local alive=no
    kill -0 "$PID" 2>/dev/null && alive=yes
    line="no result (server still running: $alive; $(head -c 200 /tmp/dtls_rows.$$ 2>/dev/null | tr '\n' ' '))"
  fi
  rm -f /tmp/dtls_rows.$$
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
  local rate; rate=$(field rate "$line")
  [ "$row" = hs ] && rate=$(field hs_rate "$line")
  RATE[$row,$s]+=" $rate"
  CPU[$row,$s]+=" $(field server_cpu_us "$line")"
  RSS[$row,$s]+=" $(field rss_per_session "$line")"
  echo "  ${NAME[$row]} $s: $line" >&2
}

echo "load average before: $(cat /proc/loadavg)" >&2
for ((r = 0; r < RUNS; r++)); do
  for row in "${ROWS[@]}"; do
    run "$row" petrel
    [[ $row == u* ]] || run "$row" libcoap
  done
done
echo "load average after: $(cat /proc/loadavg)" >&2

echo "| scenario | Petrel | libcoap 4.3.1 | Petrel / libcoap | server CPU us per operation: Petrel, libcoap | CPU libcoap / Petrel |"
echo "|---|---:|---:|---:|---:|---:|"
for row in "${ROWS[@]}"; do
  p=$(median <<<"${RATE[$row,petrel]}"); cp=$(median <<<"${CPU[$row,petrel]}")
  l=$(median <<<"${RATE[$row,libcoap]:-}"); cl=$(median <<<"${CPU[$row,libcoap]:-}")
  echo "| ${NAME[$row]} | $p | $l | $(ratio "$p" "$l") | $cp, $cl | $(ratio "$cl" "$cp") |"
done
pr=$(median <<<"${RSS[dm,petrel]}"); lr=$(median <<<"${RSS[dm,libcoap]}")
echo "| RSS per DTLS session, 1,000 sessions (bytes) | $pr | $lr | $(ratio "$pr" "$lr") | | |"
echo "| Petrel CPU per GET, DTLS / UDP: 1 x 16, 1,000 x 1 (target at most 1.5) | $(ratio "$(median <<<"${CPU[d1,petrel]}")" "$(median <<<"${CPU[u1,petrel]}")"), $(ratio "$(median <<<"${CPU[dm,petrel]}")" "$(median <<<"${CPU[um,petrel]}")") | | | | |"
