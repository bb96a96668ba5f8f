#!/usr/bin/env bash
# coap-client's errors: each is one clear line on standard error and a
# documented exit status -- an unsupported scheme, a URI without one, a port
# out of range, an unknown host (resolved inside a network namespace of the
# test's own, so that no query leaves the machine), a -f file that cannot
# be read (with the system's reason), an unreachable server (to whom, after
# how long, and why), an unknown option.
# usage: client_errors.sh PATH/TO/coap-client PATH/TO/coap-server
. "$(dirname "$0")/../interop/lib.sh"
CLIENT_BIN=${1:?usage: $0 coap-client coap-server}
SERVER_BIN=${2:?usage: $0 coap-client coap-server}

# says NAME RC TEXT CMD...: CMD exits RC and its stderr has TEXT.
says() {
  local name=$1 rc=$2 text=$3
  shift 3
  LAST_CMD="$*"
  run 20 "$@"
  if [ "$RC" = "$rc" ] && grep -qF -- "$text" "$ERR" && [ ! -s "$OUT" ]; then
    pass "$name: exit $rc, '$(head -n1 "$ERR")'"
  else
    fail "$name" "expected exit $rc and: $text" "$(show | tr '\n' '|')"
  fi
}

says "unsupported scheme" 1 "unsupported URI scheme 'http' in 'http://[::1]/x' (use coap://)" \
  "$CLIENT_BIN" "http://[::1]/x"
says "no scheme" 1 "'[::1]/time' has no scheme" "$CLIENT_BIN" "[::1]/time"
# Every CoAP scheme is built with TLS; a build without it names what a
# coaps+ws:// URI would need.
if "$CLIENT_BIN" --version 2>&1 | grep -q "No DTLS or TLS support"; then
  says "a scheme this build lacks" 1 "coaps+ws:// needs secure WebSockets, which this build lacks" \
    "$CLIENT_BIN" "coaps+ws://[::1]/x"
fi

says "port above 65535" 1 "port '70000' in URI 'coap://[::1]:70000/time' is not a port number (1 to 65535)" \
  "$CLIENT_BIN" "coap://[::1]:70000/time"
says "port 0" 1 "port '0' in URI" "$CLIENT_BIN" "coap://127.0.0.1:0/time"
says "port not a number" 1 "port '8x' in URI" "$CLIENT_BIN" "coap://127.0.0.1:8x/time"
says "proxy port out of range" 1 "port '99999' in proxy URI" \
  "$CLIENT_BIN" -P coap://127.0.0.1:99999 "coap://[::1]/time"
if unshare -n true 2>/dev/null; then
  says "unknown host (no network: the resolver's reason)" 1 \
    "cannot resolve host 'nosuch.invalid': " \
    unshare -n "$CLIENT_BIN" "coap://nosuch.invalid/time"
elif [ "${CI:-}" = true ]; then
  fail "unknown host: unshare -n is not permitted here, and under CI it must be"
else
  echo "# unknown host: not checked (unshare -n needs root)"
fi
says "-f file that does not exist" 1 "cannot read '$TMP/nothing': No such file or directory" \
  "$CLIENT_BIN" -m put -f "$TMP/nothing" "coap://[::1]/x"
mkdir -p "$TMP/dir"
says "-f a directory" 1 "cannot read '$TMP/dir': Is a directory" \
  "$CLIENT_BIN" -m put -f "$TMP/dir" "coap://[::1]/x"
says "-o into a missing directory" 1 "cannot open '$TMP/no/such': No such file or directory" \
  "$CLIENT_BIN" -o "$TMP/no/such" "coap://[::1]/x"
# A port nothing listens on: one our server was given and let go.
start_listening probe "$SERVER_BIN" -A ::1 -p 0 || exit 1
port=$SERVER_PORT
stop_cleanly probe "$SERVER_PID"
says "unreachable server: to whom, after how long, why" 4 \
  "request not delivered to [::1]:$port after " "$CLIENT_BIN" -B 5 "coap://[::1]:$port/time"
grep -qE "after [0-9]+\.[0-9] s: .*(unreachable|ICMP)" "$ERR" &&
  pass "unreachable server: the message gives the time and the ICMP reason" ||
  fail "unreachable server: the message gives the time and the ICMP reason" "$(cat "$ERR")"
# The same port over TCP and WebSockets: the refused connection ends the
# run at once (well inside -B 30), saying so.
for scheme in coap+tcp coap+ws; do
  T0=$(date +%s)
  says "$scheme to a port nothing listens on" 4 \
    "the connection to [::1]:$port failed or was closed" \
    "$CLIENT_BIN" -v 1 -B 30 "$scheme://[::1]:$port/time"
  if [ $(($(date +%s) - T0)) -lt 10 ]; then
    pass "$scheme refused: the run ends at once, not at the -B wait"
  else
    fail "$scheme refused: the run ends at once, not at the -B wait"
  fi
done
says "unknown option" 1 "unknown option -q" "$CLIENT_BIN" -q "coap://[::1]/"
says "missing value" 1 "option -B needs a value" "$CLIENT_BIN" "coap://[::1]/" -B
says "two URIs" 1 "unexpected argument 'coap://[::1]/b'" \
  "$CLIENT_BIN" "coap://[::1]/a" "coap://[::1]/b"
finish
