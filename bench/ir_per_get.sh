#!/bin/bash
# bench/ir_per_get.sh -- user-space instructions per piggybacked GET /hello
# in the steady state, from callgrind (BENCHMARKS.md, "The request path,
# step by step").
#
# usage: bench/ir_per_get.sh SERVER COAP_BENCH SESSIONS IN_FLIGHT [OUT]
#
# SERVER is a bench_server binary (a Release build), COAP_BENCH the load
# generator. The server runs under callgrind counting only inside
# coap_io_process(); the load runs 14 s, the counters are zeroed 6 s in
# (after every session exists) and dumped 6 s later, and the GETs are the
# calls of the handler (hnd_hello) in that window, so session set-up is not
# counted. Server on CPU 0, load on CPU 1. Prints
#   "<instructions> Ir / <gets> GETs = <per GET>"
# and leaves the dump in OUT (default: a temporary directory, removed).
set -eu
server=$1 bench=$2 S=$3 W=$4 keep=${5:-}
out=${keep:-$(mktemp -d)}
mkdir -p "$out"
port=$((20000 + RANDOM % 20000))
taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" \
  --toggle-collect=coap_io_process "$server" "$port" >/dev/null 2>&1 &
vp=$!
sleep 3
taskset -c 1 "$bench" -c "$S" -w "$W" -d 14 -W 0 -t 5 127.0.0.1 "$port" \
  >"$out/load.txt" 2>/dev/null &
lp=$!
sleep 6
callgrind_control -z "$vp" >/dev/null
sleep 6
callgrind_control -d "$vp" >/dev/null
wait "$lp" || true
kill "$vp"
wait "$vp" 2>/dev/null || true
# (the dump of this run: taskset execs valgrind, so the PID is $vp)
dump=$out/cg.$vp.1
[ -f "$dump" ] || { echo "ir_per_get: no dump $dump" >&2; exit 1; }
# Totals of the window, and the calls of hnd_hello from its callers'
# "cfn=" / "calls=" lines (names are compressed to "(id)" after their
# first appearance).
awk '
  /^(summary|totals):/ { ir = $2 }
  /^c?fn=\(/ {
    match($0, /\([0-9]+\)/); id = substr($0, RSTART, RLENGTH)
    rest = substr($0, RSTART + RLENGTH); sub(/^ /, "", rest)
    if (rest != "") name[id] = rest
    if ($0 ~ /^cfn=/) { pending = (name[id] == "hnd_hello") } else pending = 0
    next
  }
  /^calls=/ { if (pending) { split($0, a, /[= ]/); gets += a[2] } pending = 0; next }
  END {
    if (gets > 0) printf "%d Ir / %d GETs = %.0f\n", ir, gets, ir / gets
    else print "no GETs counted"
  }' "$dump"
[ -n "$keep" ] || rm -rf "$out"
