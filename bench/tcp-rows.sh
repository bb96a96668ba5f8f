#!/usr/bin/env bash
# bench/tcp-rows.sh BUILD_DIR RUNS SERVERS ROW... -- the TCP and WebSocket
# rows of BENCHMARKS.md with more servers than bench/run.sh has: Petrel
# before and after a change, Debian's libcoap and bench/tcp_floor.c (the
# kernel's TCP with no CoAP work), at 1 and 1,000 connections.
#
#   SERVERS  "NAME=PROGRAM ...": NAME petrel* (any), libcoap, floor; each
#            is started afresh for every run on PORT (UDP and TCP; DTLS and
#            WebSockets on PORT+1; the floor listens on TCP only).
#   ROW      LABEL:TOOL:ARGS, TOOL tcp (every server), ws or udp (the
#            petrel* servers only); ARGS go to coap-bench-conn (tcp, ws) or
#            coap-bench (udp), with -d BENCH_SECONDS (3) and -C the server.
#
# Every round runs each ROW against each server in turn, RUNS rounds; the
# servers run on CPU 0, the load on CPU 1. One output line per run
# ("LABEL NAME: the generator's last line"), with the load average and
# the time before and after. `bench/tcp-rows.sh --medians FILE` prints,
# from such output, the median rate, server CPU us per request and RSS per
# connection of each LABEL and NAME, with every run's CPU figure.
#
# The programs: scripts/bench builds them all (tcp_floor included) and
# compiles the reference server build/bench/ref_server_libcoap.
set -uo pipefail
if [ "${1:-}" = --medians ]; then
  awk '
    function med(str, a, k, i, j, t) {
      k = split(str, a, " ")
      for (i = 1; i <= k; i++)
        for (j = i + 1; j <= k; j++)
          if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return k ? a[int((k + 1) / 2)] : "-"
    }
    /^loadavg/ { print; next }
    {
      key = $1 " " $2; sub(":", "", key)
      if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "rate") r[key] = r[key] " " kv[2]
        if (kv[1] == "server_cpu_us") c[key] = c[key] " " kv[2]
        if (kv[1] == "rss_per_session") m[key] = m[key] " " kv[2]
        if (kv[1] == "sessions") s[key] = s[key] " " kv[2]
      }
    }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]
        printf "%-28s rate %10s  cpu_us %8s  rss/conn %6s  (cpu:%s) (sessions:%s)\n", k, med(r[k]), med(c[k]), med(m[k]), c[k], s[k]
      }
    }' "${2:?file}"
  exit 0
fi
B=${1:?usage: bench/tcp-rows.sh BUILD_DIR RUNS SERVERS ROW...}
RUNS=${2:?runs}
read -r -a SERVERS <<<"${3:?servers}"
shift 3
SECS=${BENCH_SECONDS:-3}
LOAD=$B/bench/coap-bench
LOADC=$B/bench/coap-bench-conn
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
port_base=$((20000 + RANDOM % 20000))
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
echo "loadavg before: $(cat /proc/loadavg) at $(date -u +%H:%M:%S) UTC"
for ((r = 0; r < RUNS; r++)); do
  for row in "$@"; do
    IFS=: read -r label tool args <<<"$row"
    for sv in "${SERVERS[@]}"; do
      name=${sv%%=*} prog=${sv#*=}
      [ "$tool" != tcp ] && [[ $name != petrel* ]] && continue
      port_base=$((port_base + 2))
      P=$port_base
      taskset -c 0 "$prog" "$P" >/dev/null 2>&1 &
      spid=$!
      case $tool in
        udp)
          wait_bound udp "$P"
          line=$(taskset -c 1 "$LOAD" --no-progress $args -d "$SECS" -C "$spid" 127.0.0.1 "$P" | tail -n 1) ;;
        tcp)
          wait_bound tcp "$P"
          line=$(taskset -c 1 "$LOADC" -t tcp $args -L 60 -d "$SECS" -C "$spid" 127.0.0.1 "$P" 2>&1 | tail -n 1) ;;
        ws)
          wait_bound tcp $((P + 1))
          line=$(taskset -c 1 "$LOADC" -t ws $args -L 60 -d "$SECS" -C "$spid" 127.0.0.1 $((P + 1)) 2>&1 | tail -n 1) ;;
      esac
      kill "$spid" 2>/dev/null
      wait "$spid" 2>/dev/null
      echo "$label $name: $line"
    done
  done
done
echo "loadavg after: $(cat /proc/loadavg) at $(date -u +%H:%M:%S) UTC"
