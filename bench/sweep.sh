#!/usr/bin/env bash
# bench/sweep.sh BUILD_DIR OUT_DIR [quick|full] -- the scaling sweeps: each
# figure against a growing number of something, for Petrel, Debian's
# libcoap (the same bench_server.c) and, where it applies, the UDP echo
# ceiling. Writes one data file per sweep and one PNG per plot into
# OUT_DIR, and prints the Petrel / echo CPU ratio. scripts/bench builds
# everything first and is the command to use.
#
#   sessions.dat   req/s and server CPU per request against client sessions,
#                  with two echo ceilings: UDP GSO replies (as Petrel sends)
#                  and the plain one (one datagram per sendmmsg() entry)
#   pending.dat    the same against pending separate responses
#   idle.dat       the same against idle sessions left by earlier clients
#   latency.dat    p50 and p99 latency against offered load (open loop)
#   observe.dat    notifications/s and CPU per notification against observers
#   dtls.dat       CoAP over DTLS (PSK): GET/s, CPU per request and RSS per
#                  session against established sessions
#   tcp.dat        the same over TCP connections (RFC 8323)
#   handshake.dat  full DTLS PSK handshakes/s and CPU per handshake against
#                  handshakes in progress at once
#   profile.md     system calls (perf) and instructions (callgrind) per request
#   summary.md     the figures the targets speak of (ratios), also printed
#
# Server CPU time comes from /proc/PID/schedstat over the measured window
# only (coap-bench -C). Servers run on CPU 0, the load on CPU 1.
set -euo pipefail
B=${1:?usage: bench/sweep.sh BUILD_DIR OUT_DIR [quick|full]}
OUT=${2:?usage: bench/sweep.sh BUILD_DIR OUT_DIR [quick|full]}
MODE=${3:-full}
LOAD=$B/bench/coap-bench
LOADC=$B/bench/coap-bench-conn
# libcoap_tls: the same server against Debian's libcoap-3-openssl, for DTLS
# (libcoap-3-notls has none); TCP is measured against libcoap-3-notls.
declare -A SERVER=([petrel]=$B/bench/petrel_bench_server
                   [libcoap]=$B/ref_server_libcoap
                   [libcoap_tls]=$B/ref_server_libcoap_openssl
                   [echo]=$B/bench/udp_echo
                   [echo_plain]=$B/bench/udp_echo)
# echo: replies to one peer as UDP GSO messages; echo_plain: one each.
declare -A SERVER_ARGS=([echo]=gso [echo_plain]=plain)
HOST=127.0.0.1
SCPU=${BENCH_SERVER_CPU:-0}
LCPU=${BENCH_LOAD_CPU:-1}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$MODE" = quick ]; then
  SECS=0.8; WARM=0.2; RUNS=1; SETUP_LIMIT=5
  P_SESSIONS="1 100 1000 10000"
  P_PENDING="0 1000 10000"
  P_IDLE="0 1000 10000 50000"
  P_RATES="10000 50000 100000 150000"
  P_OBSERVERS="1000 10000"
  P_CONN="1 1000"
  P_HANDSHAKE="64"
else
  SECS=${BENCH_SECONDS:-3}; WARM=0.5; RUNS=${BENCH_SWEEP_RUNS:-3}; SETUP_LIMIT=60
  P_SESSIONS="1 10 100 1000 3000 10000"
  P_PENDING="0 1000 10000 30000 100000"
  P_IDLE="0 1000 5000 10000 20000 50000"
  P_RATES="10000 25000 50000 75000 100000 125000 150000 175000"
  P_OBSERVERS="1000 10000 100000"
  P_CONN="1 10 100 1000"
  P_HANDSHAKE="1 16 64"
fi

# Any list of points can be replaced: BENCH_P_SESSIONS, BENCH_P_PENDING,
# BENCH_P_IDLE, BENCH_P_RATES, BENCH_P_OBSERVERS, BENCH_P_CONN (sessions
# over DTLS and TCP), BENCH_P_HANDSHAKE ("" skips that sweep).
P_SESSIONS=${BENCH_P_SESSIONS-$P_SESSIONS}
P_PENDING=${BENCH_P_PENDING-$P_PENDING}
P_IDLE=${BENCH_P_IDLE-$P_IDLE}
P_RATES=${BENCH_P_RATES-$P_RATES}
P_OBSERVERS=${BENCH_P_OBSERVERS-$P_OBSERVERS}
P_CONN=${BENCH_P_CONN-$P_CONN}
P_HANDSHAKE=${BENCH_P_HANDSHAKE-$P_HANDSHAKE}
SETUP_LIMIT=${BENCH_SETUP_LIMIT:-$SETUP_LIMIT}
SKIP_PROFILE=${BENCH_SKIP_PROFILE:-0}

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

port_base=$((20000 + RANDOM % 20000))
# start NAME -> SPID, SPORT (no subshell: the port counter must advance)
# The server listens on UDP and TCP on SPORT and DTLS on SPORT+1.
start() {
  port_base=$((port_base + 2))
  SPORT=$port_base
  taskset -c "$SCPU" "${SERVER[$1]}" "$SPORT" ${SERVER_ARGS[$1]:-} >/dev/null 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  wait_bound "$SPORT"
}
# Waits (3 s at most) until something has bound UDP port $1 (or listens
# on TCP with $2 = tcp), so that the first request does not meet an ICMP
# port unreachable on a busy machine. Once bound, the socket queues what
# arrives, so there is nothing more to wait for; the quick run starts
# about 70 servers, and a coarser poll cost it seconds.
wait_bound() {
  local hex i
  hex=$(printf ':%04X ' "$1")
  for ((i = 0; i < 150; i++)); do
    grep -q "$hex" "/proc/net/${2:-udp}" 2>/dev/null && return
    sleep 0.02
  done
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
load() { taskset -c "$LCPU" "$LOAD" --no-progress "$@" | tail -n 1; }
loadc() { taskset -c "$LCPU" "$LOADC" "$@" 2>/dev/null | tail -n 1; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "-"}'; }
log() { echo "sweep: [$((SECONDS - T0)) s] $*" >&2; } # seconds since the start

# run_fresh NAME ARGS...: RUNS runs, each against a fresh server (so that
# sessions of one run do not stay for the next); prints the medians
# "rate cpu p50 p99".
run_fresh() {
  local s=$1 r line rates="" cpus="" p50s="" p99s=""; shift
  for ((r = 0; r < RUNS; r++)); do
    start "$s"
    line=$(load "$@" -d "$SECS" -W "$WARM" -C "$SPID" "$HOST" "$SPORT") || line=""
    stop "$SPID"
    rates+=" $(field rate "$line")"; cpus+=" $(field server_cpu_us "$line")"
    p50s+=" $(field p50_us "$line")"; p99s+=" $(field p99_us "$line")"
  done
  echo "$(median <<<"$rates") $(median <<<"$cpus") $(median <<<"$p50s") $(median <<<"$p99s")"
}

# run_after NAME SETUP_ARGS -- LOAD_ARGS: one server per call; the setup
# once (parking or idle sessions: how many it reached, and the bytes of
# server RSS each added), then RUNS measured loads against the same
# server. Prints "count bytes_each rate cpu p50 p99".
run_after() {
  local s=$1 setup=() r line count each="-" rates="" cpus="" p50s="" p99s=""; shift
  while [ "$1" != -- ]; do setup+=("$1"); shift; done; shift
  start "$s"
  count=0
  if [ ${#setup[@]} -gt 0 ]; then
    line=$(load "${setup[@]}" -L "$SETUP_LIMIT" -c 0 -C "$SPID" "$HOST" "$SPORT") || line=""
    count=$(( $(field parked "$line") + $(field idle "$line") ))
    each=$(awk -v r="$(field rss_setup_kb "$line")" -v n="$count" \
             'BEGIN {if (n > 0 && r != "-") printf "%.0f", r*1024/n; else print "-"}')
  fi
  for ((r = 0; r < RUNS; r++)); do
    line=$(load "$@" -d "$SECS" -W "$WARM" -C "$SPID" "$HOST" "$SPORT") || line=""
    rates+=" $(field rate "$line")"; cpus+=" $(field server_cpu_us "$line")"
    p50s+=" $(field p50_us "$line")"; p99s+=" $(field p99_us "$line")"
  done
  stop "$SPID"
  echo "$count $each $(median <<<"$rates") $(median <<<"$cpus") $(median <<<"$p50s") $(median <<<"$p99s")"
}

T0=$SECONDS
log "$MODE: ${RUNS} x ${SECS}s per point; servers on CPU $SCPU, load on CPU $LCPU"

# ---- 1. client sessions ------------------------------------------------------
# Each session keeps max(1, 16/S) requests in flight (1 session x 16, 10 x 2,
# then one each), CON GET /hello. Two ceilings: echo sends its replies as
# Petrel does (UDP GSO), echo_plain one datagram per sendmmsg() entry.
{
  echo "# sessions  petrel_rate petrel_cpu_us  libcoap_rate libcoap_cpu_us  echo_rate echo_cpu_us  cpu_petrel_over_echo  echo_plain_rate echo_plain_cpu_us  cpu_petrel_over_echo_plain"
  for S in $P_SESSIONS; do
    W=$(( S >= 16 ? 1 : 16 / S ))
    row="$S"
    declare -A cpu=()
    for s in petrel libcoap echo echo_plain; do
      read -r rate c _ _ < <(run_fresh "$s" -c "$S" -w "$W")
      [ "$s" = echo_plain ] && row+="  $(ratio "${cpu[petrel]}" "${cpu[echo]}")"
      row+="  $rate $c"; cpu[$s]=$c
    done
    row+="  $(ratio "${cpu[petrel]}" "${cpu[echo_plain]}")"
    echo "$row"; log "sessions: $row"
  done
} >"$OUT/sessions.dat"

# ---- 2. pending separate responses ------------------------------------------
# Park N (/async?3600, 100 per session), then 1 session x 16 CON GETs. The
# first column is the number actually parked (libcoap parks slowly).
# With N = 0 nothing is set up, which is also the first point of the idle
# sweep below: measured once, written to both (NONE).
declare -A NONE=()
{
  echo "# pending  petrel_rate petrel_cpu_us petrel_rss_bytes_each  libcoap_pending libcoap_rate libcoap_cpu_us libcoap_rss_bytes_each"
  for N in $P_PENDING; do
    row="$N"
    for s in petrel libcoap; do
      if [ "$N" = 0 ]; then setup=(); else
        setup=(-P "$N" -S $(( N / 100 > 0 ? N / 100 : 1 )) -A "async?3600")
      fi
      read -r count each rate c _ _ < <(run_after "$s" "${setup[@]}" -- -c 1 -w 16)
      [ "$N" = 0 ] && NONE[$s]="$count $each $rate $c"
      if [ "$s" = petrel ]; then row="$count  $rate $c $each"; else row+="  $count $rate $c $each"; fi
    done
    echo "$row"; log "pending: $row"
  done
} >"$OUT/pending.dat"

# ---- 3. idle sessions left by earlier clients ---------------------------------
# Open N sessions (one CON GET each from its own socket, which then closes),
# then 1 session x 16 CON GETs. libcoap opens them slowly: the first column
# of each is the number it reached within the setup limit.
{
  echo "# idle  petrel_rate petrel_cpu_us petrel_rss_bytes_each  libcoap_idle libcoap_rate libcoap_cpu_us libcoap_rss_bytes_each"
  for N in $P_IDLE; do
    row=""
    for s in petrel libcoap; do
      if [ "$N" = 0 ]; then setup=(); else setup=(-I "$N"); fi
      if [ "$N" = 0 ] && [ -n "${NONE[$s]:-}" ]; then
        read -r count each rate c <<<"${NONE[$s]}"
      else
        read -r count each rate c _ _ < <(run_after "$s" "${setup[@]}" -- -c 1 -w 16)
      fi
      if [ "$s" = petrel ]; then row="$count  $rate $c $each"; else row+="  $count $rate $c $each"; fi
    done
    echo "$row"; log "idle: $row"
  done
} >"$OUT/idle.dat"

# ---- 4. latency against offered load (open loop) --------------------------
# 16 sockets, at most 64 in flight each, requests at a fixed total rate.
# The load generator is one thread on one core: at 200,000 req/s on the
# benchmark machine it used 2.2 s of CPU time in 2.3 s against the echo
# server, so the points stop below that.
{
  echo "# offered_per_s  petrel_rate petrel_p50_us petrel_p99_us  libcoap_rate libcoap_p50_us libcoap_p99_us  echo_rate echo_p50_us echo_p99_us"
  for R in $P_RATES; do
    row="$R"
    for s in petrel libcoap echo; do
      read -r rate _ p50 p99 < <(run_fresh "$s" -c 16 -w 64 -r "$R")
      row+="  $rate $p50 $p99"
    done
    echo "$row"; log "latency: $row"
  done
} >"$OUT/latency.dat"

# ---- 5. observers -------------------------------------------------------------
# N observers of /obsnon (NON notifications only) or /obscon (CON), 100 per
# socket; each round is one GET /tick. /obs, the library's default mode,
# makes every fifth notification of an observer a CON (COAP_OBS_MAX_NON), so
# its rate depends on how many of those CON rounds a window of -d seconds
# happens to hold, and more so for the server whose CON round is slower:
# the NON row takes /obsnon, where every round is alike. Memory: server RSS
# growth over the registration divided by the observers registered.
observe_point() { # NAME PATH N -> "observers notif_rate cpu rss_bytes_per_observer"
  local s=$1 path=$2 n=$3 line obs rss
  start "$s"
  line=$(load -O "$n" -c $(( n / 100 > 0 ? n / 100 : 1 )) -p "$path" \
           -L "$SETUP_LIMIT" -d "$SECS" -W "$WARM" -C "$SPID" "$HOST" "$SPORT") || line=""
  stop "$SPID"
  obs=$(field observers "$line"); rss=$(field rss_setup_kb "$line")
  echo "${obs:-0} $(field notif_rate "$line") $(field server_cpu_us "$line") $(awk -v r="$rss" -v n="$obs" 'BEGIN {if (n > 0 && r != "-") printf "%.0f", r*1024/n; else print "-"}')"
}
{
  echo "# observers  petrel_non_rate petrel_non_cpu_us  petrel_con_rate petrel_con_cpu_us  libcoap_non_observers libcoap_non_rate libcoap_non_cpu_us  libcoap_con_observers libcoap_con_rate libcoap_con_cpu_us  petrel_rss_bytes_per_observer libcoap_rss_bytes_per_observer"
  for N in $P_OBSERVERS; do
    read -r pn rn cn mp < <(observe_point petrel obsnon "$N")
    read -r _ rc cc _ < <(observe_point petrel obscon "$N")
    read -r ln lrn lcn ml < <(observe_point libcoap obsnon "$N")
    read -r lc lrc lcc _ < <(observe_point libcoap obscon "$N")
    row="$pn  $rn $cn  $rc $cc  $ln $lrn $lcn  $lc $lrc $lcc  $mp $ml"
    echo "$row"; log "observe: $row"
  done
} >"$OUT/observe.dat"

# ---- 6. DTLS and TCP -------------------------------------------------------
# S sessions (DTLS: a PSK handshake each, PSK-AES128-GCM-SHA256; TCP: a
# connection and the CSM exchange), set up 64 at a time, then max(1, 16/S)
# CON GETs /hello in flight on each; RSS per session is the server's RSS
# growth over the setup divided by the sessions set up. A fresh server for
# every run. coap-bench-conn's own CPU share (gen_busy) says whether the
# load generator was the limit.
conn_point() { # NAME TRANSPORT S -> "sessions rate cpu rss_each gen_busy"
  local s=$1 t=$2 S=$3 W r line port n="" rates="" cpus="" rss="" gens=""
  W=$(( S >= 16 ? 1 : 16 / S ))
  for ((r = 0; r < RUNS; r++)); do
    start "$s"
    port=$SPORT
    if [ "$t" = dtls ]; then port=$((SPORT + 1)); wait_bound "$port"
    else wait_bound "$port" tcp; fi
    line=$(loadc -t "$t" -c "$S" -w "$W" -K 64 -L "$SETUP_LIMIT" -d "$SECS" \
             -W "$WARM" -C "$SPID" "$HOST" "$port") || line=""
    stop "$SPID"
    n+=" $(field sessions "$line")"; rates+=" $(field rate "$line")"
    cpus+=" $(field server_cpu_us "$line")"; gens+=" $(field gen_busy "$line")"
    rss+=" $(field rss_per_session "$line")"
  done
  echo "$(median <<<"$n") $(median <<<"$rates") $(median <<<"$cpus") $(median <<<"$rss") $(median <<<"$gens")"
}
for t in dtls tcp; do
  ref=libcoap; [ "$t" = dtls ] && ref=libcoap_tls
  {
    echo "# sessions  petrel_rate petrel_cpu_us petrel_rss_bytes_per_session petrel_gen_busy  libcoap_sessions libcoap_rate libcoap_cpu_us libcoap_rss_bytes_per_session libcoap_gen_busy"
    for S in $P_CONN; do
      read -r pn pr pc pm pg < <(conn_point petrel "$t" "$S")
      read -r ln lr lc lm lg < <(conn_point "$ref" "$t" "$S")
      row="$pn  $pr $pc $pm $pg  $ln $lr $lc $lm $lg"
      echo "$row"; log "$t: $row"
    done
  } >"$OUT/$t.dat"
done

# Full DTLS PSK handshakes: K sockets each handshaking, closing
# (close_notify) and starting over with a new socket, for the window.
hs_point() { # NAME K -> "rate cpu_us_per_handshake gen_busy"
  local s=$1 K=$2 r line rates="" cpus="" gens=""
  for ((r = 0; r < RUNS; r++)); do
    start "$s"
    wait_bound $((SPORT + 1))
    line=$(loadc -t dtls -H -K "$K" -d "$SECS" -W "$WARM" -C "$SPID" \
             "$HOST" $((SPORT + 1))) || line=""
    stop "$SPID"
    rates+=" $(field hs_rate "$line")"; cpus+=" $(field server_cpu_us "$line")"
    gens+=" $(field gen_busy "$line")"
  done
  echo "$(median <<<"$rates") $(median <<<"$cpus") $(median <<<"$gens")"
}
{
  echo "# in_progress  petrel_hs_per_s petrel_cpu_us_per_hs petrel_gen_busy  libcoap_hs_per_s libcoap_cpu_us_per_hs libcoap_gen_busy"
  for K in $P_HANDSHAKE; do
    read -r pr pc pg < <(hs_point petrel "$K")
    read -r lr lc lg < <(hs_point libcoap_tls "$K")
    row="$K  $pr $pc $pg  $lr $lc $lg"
    echo "$row"; log "handshake: $row"
  done
} >"$OUT/handshake.dat"

# ---- where the time goes ----------------------------------------------------
# System calls per request from `perf stat -e raw_syscalls:sys_enter`
# attached to the server (strace -c where perf cannot count them), and
# user-space instructions per request from callgrind: inside
# coap_io_process() for Petrel and libcoap, the whole process for the echo
# server (its start-up included).
# One run per server and load: `perf stat` counts the system calls and
# `perf record` samples the CPU time, both attached to the server at once
# (two runs, one for each, took twice the time for the same table; the
# counting costs the server next to nothing, the sampling at 2999 Hz a
# little, alike for every server).
# Prints "syscalls_per_request cpu_us tool user_share"; the top functions go
# to $OUT/.top.NAME.S.
profile_point() { # NAME S W
  local s=$1 S=$2 W=$3 tool=perf f d line n done_n tp rp user
  f=$OUT/.syscalls.$s.$S; d=$OUT/.perf.$s.$S.data
  start "$s"
  perf stat -e raw_syscalls:sys_enter -x, -o "$f" -p "$SPID" 2>/dev/null &
  tp=$!
  perf record -e cpu-clock -F 2999 -p "$SPID" -o "$d" >/dev/null 2>&1 &
  rp=$!
  sleep 0.3
  if ! kill -0 "$tp" 2>/dev/null; then
    tool=strace
    strace -c -f -o "$f" -p "$SPID" 2>/dev/null &
    tp=$!
    sleep 0.5
  fi
  line=$(load -c "$S" -w "$W" -d "$SECS" -W 0 -C "$SPID" "$HOST" "$SPORT") || line=""
  kill -INT "$tp" "$rp" 2>/dev/null || true
  wait "$tp" 2>/dev/null || true; wait "$rp" 2>/dev/null || true
  stop "$SPID"
  if [ "$tool" = perf ]; then
    n=$(awk -F, '/raw_syscalls:sys_enter/ {print $1}' "$f")
  else
    n=$(awk '/^100.00|total$/ {print $4}' "$f")
  fi
  done_n=$(field completed "$line")
  # Where the server's CPU time goes: cpu-clock samples (hardware counters
  # are not available in every virtual machine) split into kernel and user
  # space, from one report by object and symbol: the top 4 kernel
  # functions and the top 4 of user space, and the user-space share ("-"
  # where perf cannot sample).
  perf report -i "$d" --stdio --sort dso,sym --no-children -g none 2>/dev/null |
    awk -v top="$OUT/.top.$s.$S" '
      /%/ && !/^#/ {
        p = $1; sub("%", "", p)
        if ($2 ~ /kernel/) k += p; else u += p
        sym = $4; for (i = 5; i <= NF; i++) sym = sym " " $i
        if ($3 == "[k]" && kn++ < 4) print "    " $1, $3, sym >top
        if ($3 == "[.]" && un++ < 4) print "    " $1, $3, sym >top
      }
      END {if (k + u > 0) printf "%.0f%%\n", 100 * u / (k + u); else print "-"}' \
    >"$OUT/.share.$s.$S" || true
  user=$(cat "$OUT/.share.$s.$S" 2>/dev/null); [ -n "$user" ] || user="-"
  echo "$(awk -v a="${n:-0}" -v b="${done_n:-0}" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "-"}') $(field server_cpu_us "$line") $tool $user"
}
instr_per_req() { # NAME S W -> instructions per request (callgrind)
  local s=$1 S=$2 W=$3 cg line ir
  command -v valgrind >/dev/null || { echo "-"; return; }
  cg=$OUT/.callgrind.$s.$S
  port_base=$((port_base + 2))
  # Inside coap_io_process() for the CoAP servers (as in bench/run.sh);
  # the echo server has no such function: its whole run is counted.
  local collect=()
  [ "$s" = echo ] || collect=(--toggle-collect=coap_io_process)
  taskset -c "$SCPU" valgrind --tool=callgrind --callgrind-out-file="$cg" \
    "${collect[@]}" "${SERVER[$s]}" "$port_base" >/dev/null 2>&1 &
  local vp=$!
  PIDS+=("$vp")
  sleep 1.5
  line=$(load -c "$S" -w "$W" -d 2 -W 0 -t 5 "$HOST" "$port_base") || line=""
  stop "$vp"
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$cg" 2>/dev/null)
  awk -v i="${ir:-0}" -v n="$(field completed "$line")" 'BEGIN {if (n > 0 && i > 0) printf "%.0f", i/n; else print "-"}'
}
[ "$SKIP_PROFILE" = 1 ] || {
  echo "| server | sessions x in flight | system calls per request | server CPU us/request | share in user space (perf samples) | user-space instructions per request (callgrind) |"
  echo "|---|---|---:|---:|---:|---:|"
  for cfg in "1 16" "1000 1"; do
    read -r S W <<<"$cfg"
    for s in petrel libcoap echo; do
      read -r sc cpu tool user < <(profile_point "$s" "$S" "$W")
      ir="-"
      # callgrind is slow to start: the full run only
      [ "$MODE" = full ] && ir=$(instr_per_req "$s" "$S" "$W")
      echo "| $s | $S x $W | $sc ($tool) | $cpu | $user | $ir |"
      log "profile: $s $S x $W: $sc syscalls ($tool), $cpu us, $ir instructions per request"
    done
  done
  echo
  echo "Top functions by perf samples (share of the server's CPU time; [k] kernel, [.] user space):"
  for f in "$OUT"/.top.*; do
    [ -s "$f" ] || continue
    echo
    echo "- ${f##*/.top.}:"
    echo
    cat "$f"
  done
} >"$OUT/profile.md"
rm -f "$OUT"/.syscalls.* "$OUT"/.callgrind.* "$OUT"/.perf.* "$OUT"/.top.* "$OUT"/.share.*

# ---- summary --------------------------------------------------------------
# The figures the targets speak of, from the data files above: printed and
# written to summary.md.
col() { # FILE X COLUMN: the value in COLUMN of the row whose first field is X
  awk -v x="$2" -v c="$3" '!/^#/ && $1 == x {print $c; exit}' "$1"
}
{
  echo "| figure | value |"
  echo "|---|---:|"
  for S in 1 1000; do
    r=$(col "$OUT/sessions.dat" "$S" 8)
    [ -n "$r" ] && echo "| Petrel CPU per request / echo's (UDP GSO replies), $S session(s) (target at most 1.10) | $r |"
    r=$(col "$OUT/sessions.dat" "$S" 11)
    [ -n "$r" ] && echo "| Petrel CPU per request / plain echo's (one datagram per sendmmsg entry), $S session(s) | $r |"
  done
  # observers: Petrel over libcoap, and notifications per datagram against
  # Petrel's own piggybacked GET at 1 session x 16 (a GET is two datagrams,
  # a NON notification one, a CON notification and its ACK two).
  get=$(col "$OUT/sessions.dat" 1 2)
  while read -r n pn pnc pc pcc ln lnr lnc lc lcr lcc pm lm; do
    [ -z "${n:-}" ] && continue
    echo "| $n observers: notifications/s NON, Petrel / libcoap (target at least 3) | $(ratio "$pn" "$lnr") |"
    echo "| $n observers: notifications/s CON, Petrel / libcoap (target at least 3) | $(ratio "$pc" "$lcr") |"
    if [ -n "$get" ]; then
      echo "| $n observers: Petrel NON datagrams/s over its GET datagrams/s (target at least 0.8) | $(awk -v a="$pn" -v g="$get" 'BEGIN {if (g > 0) printf "%.2f", a/(2*g); else print "-"}') |"
      echo "| $n observers: Petrel CON datagrams/s over its GET datagrams/s (target at least 0.8) | $(awk -v a="$pc" -v g="$get" 'BEGIN {if (g > 0) printf "%.2f", 2*a/(2*g); else print "-"}') |"
    fi
    echo "| $n observers: server RSS per observer, Petrel / libcoap (bytes) | $pm / $lm |"
  done < <(grep -v '^#' "$OUT/observe.dat" 2>/dev/null)
  # DTLS and TCP: Petrel over libcoap by rate (target at least 2), and
  # Petrel's CPU per request over its own plain UDP GET at the same number
  # of sessions from sessions.dat (DTLS target at most 1.5, TCP at most 1).
  for t in dtls tcp; do
    lim=1.5; [ "$t" = tcp ] && lim=1.00
    while read -r pn pr pc pm pg ln lr lc lm lg; do
      [ -z "${pn:-}" ] && continue
      echo "| $t, $pn session(s): GET/s Petrel / libcoap (target at least 2) | $(ratio "$pr" "$lr") |"
      echo "| $t, $pn session(s): server CPU us per GET, Petrel / libcoap | $pc / $lc |"
      u=$(col "$OUT/sessions.dat" "$pn" 3)
      [ -n "$u" ] && echo "| $t, $pn session(s): Petrel CPU per GET over its UDP GET's (target at most $lim) | $(ratio "$pc" "$u") |"
      echo "| $t, $pn session(s): server RSS per session, Petrel / libcoap (bytes) | $pm / $lm |"
    done < <(grep -v '^#' "$OUT/$t.dat" 2>/dev/null)
  done
  while read -r K pr pc pg lr lc lg; do
    [ -z "${K:-}" ] && continue
    echo "| DTLS handshakes, $K at once: per second Petrel / libcoap (target at least 2) | $(ratio "$pr" "$lr") |"
    echo "| DTLS handshakes, $K at once: server CPU us per handshake, Petrel / libcoap | $pc / $lc |"
  done < <(grep -v '^#' "$OUT/handshake.dat" 2>/dev/null)
} >"$OUT/summary.md"
cat "$OUT/summary.md"

log "sweeps done in $((SECONDS - T0)) s"
