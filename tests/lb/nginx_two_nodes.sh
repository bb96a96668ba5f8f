#!/usr/bin/env bash
# Load balancer (label "lb"): two Petrel nodes (lb_server) behind nginx's
# UDP stream proxy with source affinity (`hash $remote_addr$remote_port
# consistent`), run in the foreground with a config of our own in a scratch
# directory, on loopback ports; nginx's own service is not used. lb_client
# sends CON GETs and /async?1 from 200 sockets, checks that every answer
# arrives exactly once from one consistent node, stops one node and checks
# that its sockets are re-served by the other (see lb_client.c).
# usage: nginx_two_nodes.sh PATH/TO/lb_server PATH/TO/lb_client
. "$(dirname "$0")/../interop/lib.sh"
SERVER=${1:?usage: $0 lb_server lb_client}
CLIENT=${2:?usage: $0 lb_server lb_client}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
need "$NGINX"

start_listening nodeA "$SERVER" A || exit 1
PID_A=$SERVER_PID PORT_A=$SERVER_PORT
start_listening nodeB "$SERVER" B || exit 1
PID_B=$SERVER_PID PORT_B=$SERVER_PORT

# Debian builds the stream module as a dynamic module (libnginx-mod-stream).
MOD=""
for m in /usr/lib/nginx/modules/ngx_stream_module.so \
  /usr/lib64/nginx/modules/ngx_stream_module.so; do
  [ -f "$m" ] && MOD="load_module $m;" && break
done

# nginx cannot listen on port 0 and tell us the port: try free-looking
# ports until one binds.
# nginx_bound: a UDP socket of nginx's own (one process: master_process
# off) is bound to LB_PORT.
nginx_bound() {
  local hex ino
  hex=$(printf '%04X' "$LB_PORT")
  for ino in $(awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p { print $10 }' \
    /proc/net/udp); do
    [ -n "$(find "/proc/$NGINX_PID/fd" -lname "socket:\[$ino\]" 2>/dev/null)" ] && return 0
  done
  return 1
}
NGINX_PID=""
for try in 1 2 3 4 5; do
  LB_PORT=$((20000 + RANDOM % 30000))
  cat >"$TMP/nginx.conf" <<CONF
$MOD
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/error.log notice;
events { worker_connections 2048; }
stream {
  upstream coap_nodes {
    hash \$remote_addr\$remote_port consistent;
    server 127.0.0.1:$PORT_A max_fails=1 fail_timeout=30s;
    server 127.0.0.1:$PORT_B max_fails=1 fail_timeout=30s;
  }
  server {
    listen 127.0.0.1:$LB_PORT udp;
    proxy_pass coap_nodes;
    proxy_timeout 60s;
  }
}
CONF
  "$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" >"$TMP/nginx.out" 2>&1 &
  NGINX_PID=$!
  BG_PIDS+=("$NGINX_PID")
  # ready once it has bound the port; a port taken makes it exit
  end=$((SECONDS + 30))
  while kill -0 "$NGINX_PID" 2>/dev/null && ! nginx_bound && [ "$SECONDS" -lt "$end" ]; do
    sleep 0.1
  done
  nginx_bound && break
  kill "$NGINX_PID" 2>/dev/null
  NGINX_PID=""
done
if [ -z "$NGINX_PID" ]; then
  fail "nginx starts with the stream config" "$(tail -n 5 "$TMP/error.log" "$TMP/nginx.out" 2>/dev/null | tr '\n' '|')"
  exit 1
fi
echo "started nginx (pid $NGINX_PID) on port $LB_PORT: A on $PORT_A, B on $PORT_B"

timeout --kill-after=2 90 "$CLIENT" "$LB_PORT" 200 A "$PID_A" >"$OUT" 2>"$ERR"
RC=$?
cat "$OUT"
PASSED=$((PASSED + $(grep -c '^ok ' "$OUT")))
FAILED=$((FAILED + $(grep -c '^FAIL' "$OUT")))
if [ "$RC" != 0 ] && ! grep -q '^FAIL' "$OUT"; then
  fail "lb_client runs to the end" "exit status $RC" "$(head -c 400 "$ERR")"
fi
if ! kill -0 "$PID_A" 2>/dev/null; then
  pass "node A stopped"
else
  fail "node A stopped" "still running"
fi
stop_cleanly nodeB "$PID_B"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
