#!/usr/bin/env bash
# bench/ratio_pairs.sh -- Petrel's server CPU per GET over the UDP echo
# server's, measured in interleaved pairs.
#
# usage: bench/ratio_pairs.sh BUILD_DIR [PAIRS] [SECONDS]
#        (BUILD_DIR as scripts/bench makes it: build/bench)
#
# The sweep (bench/sweep.sh) runs a point's five Petrel runs, then the
# echo server's five, so whatever else changes on the machine between
# the two blocks lands in the ratio. Here each pair is one Petrel run and
# one echo run straight after each other (the order alternating from pair
# to pair), each against a fresh server, at 1 session x 16 in flight and
# at 1,000 sessions x 1, and the ratio is taken within the pair. Prints
# one line per pair and, per point, the median and the quartiles of the
# pair ratios. Servers on CPU 0, load on CPU 1, socket receive buffers at
# 4 MiB as scripts/bench sets them (restored on exit). No assertion: this
# is a benchmark, not a test.
set -u
B=${1:?usage: bench/ratio_pairs.sh BUILD_DIR [PAIRS] [SECONDS]}
PAIRS=${2:-11}
SECS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
LOAD=$B/bench/coap-bench
declare -A SERVER=([petrel]=$B/bench/petrel_bench_server [echo]=$B/bench/udp_echo)
for f in "$LOAD" "${SERVER[@]}"; do
  [ -x "$f" ] || { echo "ratio_pairs: $f missing (run scripts/bench first)" >&2; exit 1; }
done

if [ -w /proc/sys/net/core/rmem_default ]; then
  old_def=$(cat /proc/sys/net/core/rmem_default)
  old_max=$(cat /proc/sys/net/core/rmem_max)
  trap 'echo "$old_def" >/proc/sys/net/core/rmem_default; echo "$old_max" >/proc/sys/net/core/rmem_max' EXIT
  echo 4194304 >/proc/sys/net/core/rmem_max
  echo 4194304 >/proc/sys/net/core/rmem_default
fi

port=$((20000 + RANDOM % 20000))
# cpu_of NAME SESSIONS INFLIGHT: one run against a fresh server; prints
# the server's CPU us per request ("-" if the run failed).
cpu_of() {
  port=$((port + 2))
  taskset -c 0 "${SERVER[$1]}" "$port" >/dev/null 2>&1 &
  local pid=$! line
  wait_bound udp "$port"
  line=$(taskset -c 1 "$LOAD" --no-progress -c "$2" -w "$3" -d "$SECS" -W 0.5 \
           -C "$pid" 127.0.0.1 "$port" 2>/dev/null | tail -n 1)
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  local v; v=$(sed -n 's/.*\bserver_cpu_us=\([^ ]*\).*/\1/p' <<<"$line")
  echo "${v:--}"
}
# quartiles: reads numbers, prints "q1 median q3"
quartiles() {
  sort -g | awk '{a[NR]=$1} END {if (!NR) {print "- - -"; exit}
    print a[int((NR+3)/4)], a[int((NR+1)/2)], a[int((3*NR+1)/4)]}'
}

echo "# commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null) pairs=$PAIRS seconds=$SECS load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u '+%F %T') UTC"
for point in "1 16" "1000 1"; do
  read -r S W <<<"$point"
  ratios=""
  for ((i = 1; i <= PAIRS; i++)); do
    if ((i % 2)); then p=$(cpu_of petrel "$S" "$W"); e=$(cpu_of echo "$S" "$W")
    else e=$(cpu_of echo "$S" "$W"); p=$(cpu_of petrel "$S" "$W"); fi
    r=$(awk -v a="$p" -v b="$e" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.3f", a/b; else print "-"}')
    echo "pair $i: ${S} x ${W}: petrel_cpu_us=$p echo_cpu_us=$e ratio=$r"
    [ "$r" != - ] && ratios+="$r"$'\n'
  done
  read -r q1 med q3 < <(printf '%s' "$ratios" | quartiles)
  echo "${S} x ${W}: Petrel CPU / echo CPU over $(printf '%s' "$ratios" | grep -c .) pairs: median $med (quartiles $q1 to $q3)"
done
echo "# end load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u '+%F %T') UTC"
