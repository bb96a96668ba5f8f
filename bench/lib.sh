# bench/lib.sh -- shell helpers the benchmark scripts share (sourced).

# wait_bound udp|tcp PORT: until something has bound the port (3 s at
# most), so that the first request meets a server on a busy machine.
wait_bound() {
  local hex i
  hex=$(printf ':%04X ' "$2")
  for ((i = 0; i < 60; i++)); do
    grep -q "$hex" "/proc/net/$1" 2>/dev/null && { sleep 0.05; return; }
    sleep 0.05
  done
}
