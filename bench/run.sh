#!/usr/bin/env bash
# bench/run.sh BUILD_DIR -- runs every scenario against Petrel, Debian's
# libcoap and the UDP echo ceiling, alternating, and prints one table.
# scripts/bench builds everything first and is the command to use.
#
# Servers run on CPU 0 and the load generator on CPU 1 (taskset). Each
# throughput figure is the median of BENCH_RUNS runs (5) of BENCH_SECONDS
# (3) seconds, the servers taking turns within each round so that drift on
# the machine hits all of them alike.
set -euo pipefail
B=${1:?usage: bench/run.sh BUILD_DIR}
RUNS=${BENCH_RUNS:-5}
SECS=${BENCH_SECONDS:-3}
PARK=${BENCH_PARK:-100000}
IDLE=${BENCH_IDLE:-10000}
OUT=${BENCH_OUT:-$B/bench-results.md}
# BENCH_CONN_ONLY=1: the DTLS, TCP and WebSocket rows only;
# BENCH_WS_ONLY=1: the WebSocket rows (with their TCP and UDP baselines) only.
CONN_ONLY=${BENCH_CONN_ONLY:-0}
WS_ONLY=${BENCH_WS_ONLY:-0}
[ "$WS_ONLY" = 1 ] && CONN_ONLY=1
LOAD=$B/bench/coap-bench
LOADC=$B/bench/coap-bench-conn
declare -A SERVER=([petrel]=$B/bench/petrel_bench_server
                   [petrel_defaults]=$B/bench/petrel_bench_server
                   [libcoap]=$B/ref_server_libcoap
                   [libcoap_tls]=$B/ref_server_libcoap_openssl
                   [echo]=$B/bench/udp_echo
                   [echo_plain]=$B/bench/udp_echo)
# petrel_defaults: the same server keeping Petrel's default limits; echo
# sends its replies as UDP GSO messages (as Petrel does), echo_plain one
# datagram per sendmmsg() entry.
declare -A SERVER_ARGS=([petrel_defaults]=defaults [echo]=gso [echo_plain]=plain)
HOST=127.0.0.1
SCPU=${BENCH_SERVER_CPU:-0}
LCPU=${BENCH_LOAD_CPU:-1}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

port_base=$((20000 + RANDOM % 20000))
# Sets PORT to a fresh port (no subshell: the counter must advance). The
# servers listen on UDP and TCP on PORT, on DTLS (UDP) and WebSockets (TCP)
# on PORT+1.
next_port() { port_base=$((port_base + 2)); PORT=$port_base; }

# start NAME -> sets SPID and SPORT
start() {
  next_port
  SPORT=$PORT
  taskset -c "$SCPU" "${SERVER[$1]}" "$SPORT" ${SERVER_ARGS[$1]:-} >/dev/null 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  wait_bound udp "$SPORT"
}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
load() { taskset -c "$LCPU" "$LOAD" "$@" | tail -n 1; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "-"}'; }

declare -A RES LAT CPU SCALE
# CPU time the server process has used, in ns (runtime from schedstat).
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
# Server CPU microseconds per request completed in the run of @3 (the
# measured window plus its warm-up, as the server sees both).
per_req() {
  local n; n=$(( $(field completed "$3") ))
  awk -v a="$1" -v b="$2" -v n="$n" -v w="$(field warm "$3")" \
    'BEGIN {t = n + w; if (t > 0) printf "%.2f", (b - a) / t / 1000; else print ""}'
}
ROWS=()
declare -A SARGS
# One measured run of scenario NAME against server S (pid, port): appends
# its rate and CPU per request to RATES[NAME,S] and CPUS[NAME,S].
declare -A RATES CPUS
measure() {
  local name=$1 s=$2 pid=$3 port=$4 c0 line c1
  c0=$(cpu_ns "$pid")
  line=$(load ${SARGS[$name]} -d "$SECS" "$HOST" "$port")
  c1=$(cpu_ns "$pid")
  RATES[$name,$s]+=" $(field rate "$line")"
  CPUS[$name,$s]+=" $(per_req "$c0" "$c1" "$line")"
  [[ $s == petrel* ]] && LAT[$name]="$(field p50_us "$line") / $(field p99_us "$line") / $(field p999_us "$line")"
  echo "  $name $s: $line" >&2
}
settle() { # NAME S: medians into RES and CPU
  RES[$1,$2]=$(median <<<"${RATES[$1,$2]:-}")
  CPU[$1,$2]=$(median <<<"${CPUS[$1,$2]:-}")
}
# throughput "SERVERS" NAME... : every round runs each NAME against each
# server in turn, so that scenarios compared with each other (1 session
# and 1,000) are measured in the same minutes.
throughput() {
  local servers=($1) s name r; shift
  declare -A pid port
  for s in "${servers[@]}"; do start "$s"; pid[$s]=$SPID; port[$s]=$SPORT; done
  for ((r = 0; r < RUNS; r++)); do
    for s in "${servers[@]}"; do
      for name in "$@"; do measure "$name" "$s" "${pid[$s]}" "${port[$s]}"; done
    done
  done
  for s in "${servers[@]}"; do
    for name in "$@"; do settle "$name" "$s"; done
    stop "${pid[$s]}"
  done
  ROWS+=("$@")
}

echo "bench: $RUNS x ${SECS}s per figure; servers on CPU $SCPU, load on CPU $LCPU" >&2
T0=$SECONDS

FIRST="GET /hello, 1 session x 16 in flight (req/s)"
MANY="GET /hello, 1,000 sessions x 1 (req/s)"
NON="GET /hello NON, 1 session x 16 (req/s)"
SEP="separate /async?1, 1,000 sessions x 8 (completed/s)"
BLK="1 MiB Block2 GET, 16 sessions x 1 (bodies/s)"
SARGS[$FIRST]="-c 1 -w 16"
SARGS[$MANY]="-c 1000 -w 1 -W 1"
SARGS[$NON]="-n -c 1 -w 16"
SARGS[$SEP]="-c 1000 -w 8 -p async -q 1 -R 1 -W 2.5"
SARGS[$BLK]="-b -p large -c 16 -w 1"
if [ "$CONN_ONLY" != 1 ]; then
throughput "petrel libcoap echo echo_plain" "$FIRST" "$MANY"
throughput "petrel libcoap echo" "$NON"
throughput "petrel libcoap" "$SEP"
throughput "petrel libcoap" "$BLK"
BLKD="1 MiB Block2 GET, 1 session, Petrel's default limits (bodies/s)"
SARGS[$BLKD]="-b -p large -c 1 -w 1 -W 0"
throughput "petrel_defaults" "$BLKD"

# ---- pending asyncs: memory, then GET throughput with them parked -------
# Each round also loads a second server of the same kind with nothing
# parked, so that "pending / none" compares runs of the same minutes.
pend="GET /hello, 1x16, $PARK separate responses pending (req/s)"
none="GET /hello, 1x16, none pending, same rounds (req/s)"
SARGS[$pend]="-c 1 -w 16"
SARGS[$none]="-c 1 -w 16"
declare -A ppid pport npid nport
for s in petrel libcoap; do
  start "$s"; npid[$s]=$SPID; nport[$s]=$SPORT
  start "$s"; ppid[$s]=$SPID; pport[$s]=$SPORT
  before=$(rss_kb "$SPID")
  line=$(load -P "$PARK" -S 1000 -A "async?3600" -L 60 -c 0 "$HOST" "$SPORT")
  parked=$(field parked "$line")
  after=$(rss_kb "$SPID")
  RES[parked,$s]=$parked
  RES[park_s,$s]=$(field park_s "$line")
  RES[async_mem,$s]=$(awk -v a="$after" -v b="$before" -v n="$parked" 'BEGIN {if (n > 0) printf "%.0f", (a-b)*1024/n; else print "-"}')
  echo "  parked $s: $line (RSS $before -> $after kB)" >&2
done
for ((r = 0; r < RUNS; r++)); do
  for s in petrel libcoap; do
    measure "$pend" "$s" "${ppid[$s]}" "${pport[$s]}"
    measure "$none" "$s" "${npid[$s]}" "${nport[$s]}"
  done
done
for s in petrel libcoap; do
  settle "$pend" "$s"; settle "$none" "$s"
  stop "${ppid[$s]}"; stop "${npid[$s]}"
done
ROWS+=("$pend" "$none")

# ---- idle sessions: memory ----------------------------------------------
for s in petrel libcoap; do
  start "$s"
  before=$(rss_kb "$SPID")
  line=$(load -I "$IDLE" -L 60 -c 0 "$HOST" "$SPORT")
  after=$(rss_kb "$SPID")
  n=$(field idle "$line")
  RES[idle_mem,$s]=$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN {if (n > 0) printf "%.0f", (a-b)*1024/n; else print "-"}')
  echo "  idle $s: $line (RSS $before -> $after kB)" >&2
  stop "$SPID"
done

fi # CONN_ONLY

# ---- DTLS and TCP -------------------------------------------------------
# coap-bench-conn (OpenSSL's DTLS client with PSK, PSK-AES128-GCM-SHA256;
# RFC 8323 framing over TCP). A fresh server for every run, the servers
# taking turns within each round, so that each run's setup (handshakes or
# connections, 64 at a time) also gives the RSS per session. libcoap is
# Debian's libcoap-3-openssl for DTLS, libcoap-3-notls for TCP. Petrel's
# plain UDP GET (coap-bench) is measured in the same rounds for the
# CPU-per-request comparison.
declare -A CARGS CTOOL RSSS
# conn_run NAME S: one run of NAME against a fresh server S
conn_run() {
  local name=$1 s=$2 port line
  start "$s"
  port=$SPORT
  case ${CTOOL[$name]} in
    dtls) port=$((SPORT + 1)); wait_bound udp "$port" ;;
    ws) port=$((SPORT + 1)); wait_bound tcp "$port" ;;
    tcp) wait_bound tcp "$port" ;;
  esac
  if [ "${CTOOL[$name]}" = udp ]; then
    line=$(taskset -c "$LCPU" "$LOAD" --no-progress ${CARGS[$name]} -d "$SECS" \
             -C "$SPID" "$HOST" "$port" | tail -n 1) || line=""
  else
    line=$(taskset -c "$LCPU" "$LOADC" ${CARGS[$name]} -L 60 -d "$SECS" \
             -C "$SPID" "$HOST" "$port" 2>/dev/null | tail -n 1) || line=""
  fi
  stop "$SPID"
  local rate; rate=$(field rate "$line")
  [[ ${CARGS[$name]} == *-H* ]] && rate=$(field hs_rate "$line")
  RATES[$name,$s]+=" $rate"
  CPUS[$name,$s]+=" $(field server_cpu_us "$line")"
  RSSS[$name,$s]+=" $(field rss_per_session "$line")"
  [[ $s == petrel* ]] && LAT[$name]="$(field p50_us "$line") / $(field p99_us "$line") / $(field p999_us "$line")"
  echo "  $name $s: $line" >&2
}
# conn_rows "SERVERS" NAME...
conn_rows() {
  local servers=($1) r s name; shift
  for ((r = 0; r < RUNS; r++)); do
    for name in "$@"; do
      for s in "${servers[@]}"; do conn_run "$name" "$s"; done
    done
  done
  for name in "$@"; do
    for s in "${servers[@]}"; do
      settle "$name" "$s"
      RES[$name,rss,$s]=$(median <<<"${RSSS[$name,$s]:-}")
    done
  done
  ROWS+=("$@")
}
DHS="DTLS: full PSK handshakes, 64 at once (handshakes/s)"
D1="DTLS: GET /hello, 1 session x 16 (req/s)"
DM="DTLS: GET /hello, 1,000 sessions x 1 (req/s)"
U1="UDP: GET /hello, 1 session x 16, same rounds as DTLS (req/s)"
UM="UDP: GET /hello, 1,000 sessions x 1, same rounds as DTLS (req/s)"
T1="TCP: GET /hello, 1 connection x 16 (req/s)"
TM="TCP: GET /hello, 1,000 connections x 1 (req/s)"
CARGS[$DHS]="-t dtls -H -K 64"; CTOOL[$DHS]=dtls
CARGS[$D1]="-t dtls -c 1 -w 16"; CTOOL[$D1]=dtls
CARGS[$DM]="-t dtls -c 1000 -w 1 -K 64"; CTOOL[$DM]=dtls
CARGS[$U1]="-c 1 -w 16"; CTOOL[$U1]=udp
CARGS[$UM]="-c 1000 -w 1 -W 1"; CTOOL[$UM]=udp
CARGS[$T1]="-t tcp -c 1 -w 16"; CTOOL[$T1]=tcp
CARGS[$TM]="-t tcp -c 1000 -w 1 -K 64"; CTOOL[$TM]=tcp
if [ "$WS_ONLY" != 1 ]; then
conn_rows "petrel libcoap_tls" "$DHS" "$D1" "$DM"
conn_rows "petrel" "$U1" "$UM"
conn_rows "petrel libcoap" "$T1" "$TM"
for r in "$DHS" "$D1" "$DM"; do
  RES[$r,libcoap]=${RES[$r,libcoap_tls]}; CPU[$r,libcoap]=${CPU[$r,libcoap_tls]}
done
fi

# ---- WebSockets -----------------------------------------------------------
# CoAP over WebSockets (RFC 8323 4) to Petrel only: Debian's libcoap 4.3.1
# has no WebSockets. Its baselines are Petrel's own TCP and UDP GETs with
# as many in flight, measured in the same rounds; 1,000 connections give
# the RSS per connection.
W1="WebSocket: GET /hello, 1 connection x 1 (req/s)"
W16="WebSocket: GET /hello, 1 connection x 16 (req/s)"
WM="WebSocket: GET /hello, 1,000 connections x 1 (req/s)"
WT1="TCP: GET /hello, 1 connection x 1, same rounds as WebSocket (req/s)"
WT16="TCP: GET /hello, 1 connection x 16, same rounds as WebSocket (req/s)"
WTM="TCP: GET /hello, 1,000 connections x 1, same rounds as WebSocket (req/s)"
WU1="UDP: GET /hello, 1 session x 1, same rounds as WebSocket (req/s)"
WU16="UDP: GET /hello, 1 session x 16, same rounds as WebSocket (req/s)"
CARGS[$W1]="-t ws -c 1 -w 1"; CTOOL[$W1]=ws
CARGS[$W16]="-t ws -c 1 -w 16"; CTOOL[$W16]=ws
CARGS[$WM]="-t ws -c 1000 -w 1 -K 64"; CTOOL[$WM]=ws
CARGS[$WT1]="-t tcp -c 1 -w 1"; CTOOL[$WT1]=tcp
CARGS[$WT16]="-t tcp -c 1 -w 16"; CTOOL[$WT16]=tcp
CARGS[$WTM]="-t tcp -c 1000 -w 1 -K 64"; CTOOL[$WTM]=tcp
CARGS[$WU1]="-c 1 -w 1"; CTOOL[$WU1]=udp
CARGS[$WU16]="-c 1 -w 16"; CTOOL[$WU16]=udp
conn_rows "petrel" "$W1" "$W16" "$WM" "$WT1" "$WT16" "$WTM" "$WU1" "$WU16"
for r in "$W1" "$W16" "$WM"; do RES[$r,libcoap]="no WebSockets in 4.3.1"; done

# ---- instructions per piggybacked request (callgrind) -------------------
[ "$CONN_ONLY" = 1 ] || for s in petrel libcoap; do
  if ! command -v valgrind >/dev/null; then RES[ir,$s]="-"; continue; fi
  next_port
  port=$PORT
  cg=$B/callgrind.$s.out
  rm -f "$cg"
  taskset -c "$SCPU" valgrind --tool=callgrind --callgrind-out-file="$cg" \
    --toggle-collect=coap_io_process "${SERVER[$s]}" "$port" >/dev/null 2>&1 &
  vpid=$!
  PIDS+=("$vpid")
  sleep 2
  line=$(load -c 1 -w 16 -W 0 -d 3 -t 5 "$HOST" "$port")
  done_n=$(field completed "$line")
  stop "$vpid"
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$cg")
  RES[ir,$s]=$(awk -v i="$ir" -v n="$done_n" 'BEGIN {if (n > 0) printf "%.0f", i/n; else print "-"}')
  echo "  callgrind $s: $ir Ir / $done_n requests" >&2
done

# ---- the table -----------------------------------------------------------
# Two views of each throughput scenario: requests per second as measured,
# and the server's CPU time per request (runtime from /proc/PID/schedstat),
# which is what a server pays per request whatever else runs on the
# machine. Ratios: Petrel over libcoap and over the ceiling for req/s; for
# CPU, the others' cost over Petrel's (above 1: Petrel is cheaper).
{
  echo "| scenario | Petrel | libcoap 4.3.1 | UDP echo ceiling | Petrel / libcoap | Petrel / ceiling | server CPU us/req: Petrel, libcoap, echo | CPU libcoap / Petrel | CPU echo / Petrel | Petrel p50 / p99 / p99.9 (us, last run) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    p=${RES[$row,petrel]:-${RES[$row,petrel_defaults]:-}}
    cp=${CPU[$row,petrel]:-${CPU[$row,petrel_defaults]:-}}
    l=${RES[$row,libcoap]:-}; e=${RES[$row,echo]:-}
    cl=${CPU[$row,libcoap]:-}; ce=${CPU[$row,echo]:-}
    ceil=$e
    if [ "$row" = "${pend:-}" ] || [ "$row" = "${none:-}" ]; then
      ceil=${RES[$FIRST,echo]}; ce=${CPU[$FIRST,echo]}
    fi
    echo "| $row | ${p:--} | ${l:--} | ${e:--} | $(ratio "$p" "$l") | $(ratio "$p" "$ceil") | ${cp:--}, ${cl:--}, ${ce:--} | $(ratio "$cl" "$cp") | $(ratio "$ce" "$cp") | ${LAT[$row]:--} |"
  done
  # The scaling targets, as ratios of two rows (req/s; and CPU per request,
  # the first row's over the other's, so 1.00 means no extra cost).
  [ "$CONN_ONLY" = 1 ] || for sv in petrel libcoap echo; do
    r1=$(ratio "${RES[$MANY,$sv]:-}" "${RES[$FIRST,$sv]:-}")
    c1=$(ratio "${CPU[$FIRST,$sv]:-}" "${CPU[$MANY,$sv]:-}")
    SCALE[many,$sv]="$r1 ($c1)"
    r2=$(ratio "${RES[$pend,$sv]:-}" "${RES[$none,$sv]:-}")
    c2=$(ratio "${CPU[$none,$sv]:-}" "${CPU[$pend,$sv]:-}")
    SCALE[pend,$sv]="$r2 ($c2)"
  done
  [ "$CONN_ONLY" = 1 ] || {
  echo "| 1,000 sessions / 1 session: req/s (CPU) | ${SCALE[many,petrel]} | ${SCALE[many,libcoap]} | ${SCALE[many,echo]} | | | | | | |"
  echo "| $PARK pending / none: req/s (CPU) | ${SCALE[pend,petrel]} | ${SCALE[pend,libcoap]} | | | | | | | |"
  echo "| separate responses parked: count (seconds) | ${RES[parked,petrel]} (${RES[park_s,petrel]} s) | ${RES[parked,libcoap]} (${RES[park_s,libcoap]} s) | | | | | | | |"
  echo "| RSS per pending separate response (bytes) | ${RES[async_mem,petrel]} | ${RES[async_mem,libcoap]} | | $(ratio "${RES[async_mem,petrel]}" "${RES[async_mem,libcoap]}") | | | | | |"
  echo "| RSS per idle session, $IDLE sessions (bytes) | ${RES[idle_mem,petrel]} | ${RES[idle_mem,libcoap]} | | $(ratio "${RES[idle_mem,petrel]}" "${RES[idle_mem,libcoap]}") | | | | | |"
  echo "| instructions per piggybacked GET (callgrind, user space) | ${RES[ir,petrel]} | ${RES[ir,libcoap]} | | $(ratio "${RES[ir,petrel]}" "${RES[ir,libcoap]}") | | | | | |"
  }
  [ "$WS_ONLY" = 1 ] || {
  echo "| RSS per DTLS session, 1,000 sessions (bytes) | ${RES[$DM,rss,petrel]} | ${RES[$DM,rss,libcoap_tls]} | | $(ratio "${RES[$DM,rss,petrel]}" "${RES[$DM,rss,libcoap_tls]}") | | | | | |"
  echo "| RSS per TCP connection, 1,000 connections (bytes) | ${RES[$TM,rss,petrel]} | ${RES[$TM,rss,libcoap]} | | $(ratio "${RES[$TM,rss,petrel]}" "${RES[$TM,rss,libcoap]}") | | | | | |"
  echo "| Petrel CPU per GET: DTLS / UDP, 1 x 16 and 1,000 x 1 (target at most 1.5) | $(ratio "${CPU[$D1,petrel]}" "${CPU[$U1,petrel]}"), $(ratio "${CPU[$DM,petrel]}" "${CPU[$UM,petrel]}") | | | | | | | | |"
  echo "| Petrel CPU per GET: TCP / UDP, 1 x 16 and 1,000 x 1 (target at most 1) | $(ratio "${CPU[$T1,petrel]}" "${CPU[$U1,petrel]}"), $(ratio "${CPU[$TM,petrel]}" "${CPU[$UM,petrel]}") | | | | | | | | |"
  }
  echo "| RSS per WebSocket connection, 1,000 connections (bytes; TCP in the same rounds) | ${RES[$WM,rss,petrel]} (TCP ${RES[$WTM,rss,petrel]}) | no WebSockets in 4.3.1 | | | | | | | |"
  echo "| Petrel CPU per GET: WebSocket / TCP, 1 x 1, 1 x 16 and 1,000 x 1 | $(ratio "${CPU[$W1,petrel]}" "${CPU[$WT1,petrel]}"), $(ratio "${CPU[$W16,petrel]}" "${CPU[$WT16,petrel]}"), $(ratio "${CPU[$WM,petrel]}" "${CPU[$WTM,petrel]}") | | | | | | | | |"
  echo "| Petrel CPU per GET: WebSocket / UDP, 1 x 1 and 1 x 16 | $(ratio "${CPU[$W1,petrel]}" "${CPU[$WU1,petrel]}"), $(ratio "${CPU[$W16,petrel]}" "${CPU[$WU16,petrel]}") | | | | | | | | |"
  [ "$CONN_ONLY" = 1 ] || {
  echo "| Petrel CPU per GET / echo's: GSO replies, plain replies; 1 x 16 | $(ratio "${CPU[$FIRST,petrel]}" "${CPU[$FIRST,echo]}"), $(ratio "${CPU[$FIRST,petrel]}" "${CPU[$FIRST,echo_plain]}") (echo_plain ${CPU[$FIRST,echo_plain]} us, ${RES[$FIRST,echo_plain]} req/s) | | | | | | | | |"
  echo "| Petrel CPU per GET / echo's: GSO replies, plain replies; 1,000 x 1 | $(ratio "${CPU[$MANY,petrel]}" "${CPU[$MANY,echo]}"), $(ratio "${CPU[$MANY,petrel]}" "${CPU[$MANY,echo_plain]}") (echo_plain ${CPU[$MANY,echo_plain]} us, ${RES[$MANY,echo_plain]} req/s) | | | | | | | | |"
  }
} | tee "$OUT"
echo "bench: done in $((SECONDS - T0)) s; table in $OUT" >&2
