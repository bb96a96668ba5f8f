#!/usr/bin/env bash
# bench/plot.sh OUT_DIR -- draws the PNGs of bench/sweep.sh's data files
# with gnuplot (Debian's gnuplot-nox, installed by scripts/bench). Every
# axis is labelled with its unit; rates and CPU times use log scales
# because Petrel and libcoap differ by one to three orders of magnitude.
set -euo pipefail
OUT=${1:?usage: bench/plot.sh OUT_DIR}
NOTE=${BENCH_NOTE:-}
cd "$OUT"
# A sweep that was skipped (no data rows) gets no plot.
has_data() { [ -f "$1" ] && grep -qv '^#' "$1"; }

common='
set terminal pngcairo size 900,960 font "DejaVu Sans,10" noenhanced
set grid
set key outside right top
set style line 1 lc rgb "#1f77b4" lw 2 pt 7 ps 0.9
set style line 2 lc rgb "#d62728" lw 2 pt 5 ps 0.9
set style line 3 lc rgb "#7f7f7f" lw 2 pt 9 ps 0.9
set style line 4 lc rgb "#1f77b4" lw 2 pt 6 ps 0.9 dt 2
set style line 5 lc rgb "#d62728" lw 2 pt 4 ps 0.9 dt 2
set style line 6 lc rgb "#7f7f7f" lw 2 pt 8 ps 0.9 dt 2
set datafile missing "-"
set format y "%g"
'
# Zero cannot sit on a log axis: counts of 0 are drawn at 100, labelled 0.
counts_axis='
set logscale x
set xtics ("0" 100, "1k" 1000, "10k" 10000, "100k" 100000)
'

has_data sessions.dat && gnuplot <<EOF
$common
set output "sessions.png"
set multiplot layout 3,1 title "CON GET /hello against the number of client sessions ${NOTE}"
set xlabel "client sessions (sockets of the load generator)"
set logscale x
set xtics ("1" 1, "10" 10, "100" 100, "1k" 1000, "10k" 10000)
set xrange [0.7:14000]
set logscale y
set ylabel "requests per second (req/s)"
plot "sessions.dat" u 1:2 w lp ls 1 t "Petrel", \
     "" u 1:4 w lp ls 2 t "libcoap 4.3.1", \
     "" u 1:6 w lp ls 3 t "UDP echo ceiling (GSO replies)", \
     "" u 1:9 w lp ls 6 t "UDP echo, plain replies"
set ylabel "server CPU per request (us)"
plot "sessions.dat" u 1:3 w lp ls 1 t "Petrel", \
     "" u 1:5 w lp ls 2 t "libcoap 4.3.1", \
     "" u 1:7 w lp ls 3 t "UDP echo ceiling (GSO replies)", \
     "" u 1:10 w lp ls 6 t "UDP echo, plain replies"
unset logscale y
set yrange [0:*]
set xlabel "client sessions (sockets of the load generator)"
set ylabel "Petrel CPU / echo CPU (ratio)"
plot "sessions.dat" u 1:8 w lp ls 1 t "Petrel / echo (GSO replies)", \
     "" u 1:11 w lp ls 4 t "Petrel / plain echo", \
     1.10 w l ls 6 t "target 1.10"
unset multiplot
EOF

has_data pending.dat && gnuplot <<EOF
$common
set output "pending.png"
set multiplot layout 2,1 title "1 session x 16 CON GETs while separate responses are pending ${NOTE}"
set xlabel "pending separate responses (/async?3600, 100 per session)"
$counts_axis
set xrange [70:150000]
set logscale y
set ylabel "requests per second (req/s)"
plot "pending.dat" u (\$1>0?\$1:100):2 w lp ls 1 t "Petrel", \
     "" u (\$5>0?\$5:100):6 w lp ls 2 t "libcoap 4.3.1"
set xlabel "pending separate responses (/async?3600, 100 per session)"
set ylabel "server CPU per request (us)"
plot "pending.dat" u (\$1>0?\$1:100):3 w lp ls 1 t "Petrel", \
     "" u (\$5>0?\$5:100):7 w lp ls 2 t "libcoap 4.3.1"
unset multiplot
EOF

has_data idle.dat && gnuplot <<EOF
$common
set output "idle.png"
set multiplot layout 2,1 title "1 session x 16 CON GETs with idle sessions left by earlier clients ${NOTE}"
set xlabel "idle sessions (one CON GET each, then silent)"
$counts_axis
set xrange [70:70000]
set logscale y
set ylabel "requests per second (req/s)"
plot "idle.dat" u (\$1>0?\$1:100):2 w lp ls 1 t "Petrel", \
     "" u (\$5>0?\$5:100):6 w lp ls 2 t "libcoap 4.3.1"
set xlabel "idle sessions (one CON GET each, then silent)"
set ylabel "server CPU per request (us)"
plot "idle.dat" u (\$1>0?\$1:100):3 w lp ls 1 t "Petrel", \
     "" u (\$5>0?\$5:100):7 w lp ls 2 t "libcoap 4.3.1"
unset multiplot
EOF

has_data latency.dat && gnuplot <<EOF
$common
set output "latency.png"
set multiplot layout 2,1 title "Open loop: CON GET /hello at a fixed rate, 16 sockets ${NOTE}"
set xlabel "offered load (thousand req/s)"
set ylabel "answered (thousand req/s)"
set yrange [0:*]
plot "latency.dat" u (\$1/1000):(\$2/1000) w lp ls 1 t "Petrel", \
     "" u (\$1/1000):(\$5/1000) w lp ls 2 t "libcoap 4.3.1", \
     "" u (\$1/1000):(\$8/1000) w lp ls 3 t "UDP echo ceiling", \
     "" u (\$1/1000):(\$1/1000) w l ls 6 t "offered"
set autoscale y
set logscale y
set ylabel "latency (us, from when the request was due)"
plot "latency.dat" u (\$1/1000):3 w lp ls 1 t "Petrel p50", \
     "" u (\$1/1000):4 w lp ls 4 t "Petrel p99", \
     "" u (\$1/1000):6 w lp ls 2 t "libcoap p50", \
     "" u (\$1/1000):7 w lp ls 5 t "libcoap p99", \
     "" u (\$1/1000):9 w lp ls 3 t "echo p50", \
     "" u (\$1/1000):10 w lp ls 6 t "echo p99"
unset multiplot
EOF

has_data observe.dat && gnuplot <<EOF
$common
set output "observe.png"
set multiplot layout 2,1 title "Notifications of one resource against its observers (100 per socket) ${NOTE}"
set xlabel "observers registered"
set logscale x
set xtics ("1k" 1000, "10k" 10000, "100k" 100000)
set xrange [700:150000]
set logscale y
set ylabel "notifications per second"
plot "observe.dat" u 1:2 w lp ls 1 t "Petrel NON", \
     "" u 1:4 w lp ls 4 t "Petrel CON", \
     "" u 6:7 w lp ls 2 t "libcoap NON", \
     "" u 9:10 w lp ls 5 t "libcoap CON"
set xlabel "observers registered"
set ylabel "server CPU per notification (us)"
plot "observe.dat" u 1:3 w lp ls 1 t "Petrel NON", \
     "" u 1:5 w lp ls 4 t "Petrel CON", \
     "" u 6:8 w lp ls 2 t "libcoap NON", \
     "" u 9:11 w lp ls 5 t "libcoap CON"
unset multiplot
EOF
# DTLS and TCP: one figure per transport, with Petrel's plain UDP GET
# (sessions.dat) at the same numbers of sessions for reference.
for t in dtls tcp; do
  has_data $t.dat || continue
  T=DTLS; unit="DTLS sessions (PSK, one socket each)"
  [ $t = tcp ] && { T=TCP; unit="TCP connections"; }
  udp=""; udpr=""
  if has_data sessions.dat; then
    udp=', "sessions.dat" u 1:3 w lp ls 4 t "Petrel, plain UDP"'
    udpr=', "sessions.dat" u 1:2 w lp ls 4 t "Petrel, plain UDP"'
  fi
  gnuplot <<EOF
$common
set output "$t.png"
set multiplot layout 3,1 title "CON GET /hello over $T against established sessions, max(1, 16/S) in flight each ${NOTE}"
set xlabel "$unit"
set logscale x
set xtics ("1" 1, "10" 10, "100" 100, "1k" 1000)
set xrange [0.7:1500]
set logscale y
set ylabel "requests per second (req/s)"
plot "$t.dat" u 1:2 w lp ls 1 t "Petrel", "" u 6:7 w lp ls 2 t "libcoap 4.3.1" $udpr
set ylabel "server CPU per request (us)"
plot "$t.dat" u 1:3 w lp ls 1 t "Petrel", "" u 6:8 w lp ls 2 t "libcoap 4.3.1" $udp
unset logscale y
set yrange [0:*]
set ylabel "server RSS per session (bytes, setup of 100 or more)"
plot "$t.dat" u 1:(\$1 >= 100 ? \$4 : 1/0) w lp ls 1 t "Petrel", "" u 6:(\$6 >= 100 ? \$9 : 1/0) w lp ls 2 t "libcoap 4.3.1"
unset multiplot
EOF
done

has_data handshake.dat && gnuplot <<EOF
$common
set terminal pngcairo size 900,640 font "DejaVu Sans,10" noenhanced
set output "handshake.png"
set multiplot layout 2,1 title "Full DTLS 1.2 PSK handshakes (a new socket each, close_notify after) ${NOTE}"
set xlabel "handshakes in progress at once (sockets of the load generator)"
set logscale x
set xrange [0.7:100]
set yrange [0:*]
set ylabel "handshakes per second"
plot "handshake.dat" u 1:2 w lp ls 1 t "Petrel", "" u 1:5 w lp ls 2 t "libcoap 4.3.1 (OpenSSL)"
set ylabel "server CPU per handshake (us)"
plot "handshake.dat" u 1:3 w lp ls 1 t "Petrel", "" u 1:6 w lp ls 2 t "libcoap 4.3.1 (OpenSSL)"
unset multiplot
EOF
echo "plot: sessions.png pending.png idle.png latency.png observe.png dtls.png tcp.png handshake.png in $OUT" >&2
