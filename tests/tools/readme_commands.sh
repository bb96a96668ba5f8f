#!/usr/bin/env bash
# The README's "two commands" section, run as written: every coap-client
# command line it shows (quoted URIs and all) against coap-server started
# as scripts/serve starts it (default address ::, in the foreground), with
# coap://[::1]/ pointed at the test's port; the same URIs reach the server
# over IPv4. And no private jargon: the README names libcoap's page.
# usage: readme_commands.sh README.md PATH/TO/coap-client PATH/TO/coap-server
. "$(dirname "$0")/../interop/lib.sh"
README=${1:?usage: $0 README.md coap-client coap-server}
CLIENT_BIN=${2:?usage: $0 README.md coap-client coap-server}
SERVER_BIN=${3:?usage: $0 README.md coap-client coap-server}

start_listening coap-server "$SERVER_BIN" -p 0 || exit 1
mapfile -t cmds < <(sed -n '/^## The two commands/,/^## /p' "$README" |
  grep '^build/release/tools/coap-client ')
[ ${#cmds[@]} -ge 2 ] && pass "the README shows ${#cmds[@]} coap-client commands" ||
  fail "the README shows coap-client commands"
plain=() secured=()
for cmd in "${cmds[@]}"; do
  case $cmd in
  *"coap://[::1]/"*) plain+=("$cmd") ;;
  *) secured+=("$cmd") ;;
  esac
done
for cmd in "${plain[@]}"; do
  for host in '[::1]' 127.0.0.1; do
    line=${cmd/build\/release\/tools\/coap-client/\"\$CLIENT_BIN\" -B 15}
    line=${line//coap:\/\/\[::1\]\//coap://$host:$SERVER_PORT/}
    LAST_CMD=$line
    run 30 bash -c "CLIENT_BIN='$CLIENT_BIN'; eval \"\$1\"" _ "$line"
    if [ "$RC" = 0 ] && [ -s "$OUT" ]; then
      pass "README: $cmd (at $host)"
    else
      fail "README: $cmd (at $host)" "$(show | tr '\n' '|')"
    fi
  done
done
stop_cleanly coap-server "$SERVER_PID"

# The server the README starts with a key and a WebSocket port
# ("PORT=N scripts/serve ARGS"), on ports of the test's own: its
# coaps://, coaps+tcp:// and coap+ws:// commands, as written.
serve=$(sed -n '/^## The two commands/,/^## /p' "$README" |
  sed -nE 's/^PORT=[0-9]+ scripts\/serve (.*)$/\1/p' | head -n1)
if [ ${#secured[@]} -gt 0 ] && [ -z "$serve" ]; then
  fail "the README shows how to start the server its coaps/coap+ws commands need"
elif [ -n "$serve" ]; then
  read -ra args <<<"$serve"
  for i in "${!args[@]}"; do # the WebSocket ports: free ones
    [ "${args[$i]}" = -w ] && args[i + 1]=0,0
  done
  start_listening secure "$SERVER_BIN" -p 0 "${args[@]}" || exit 1
  log="$TMP/secure.log"
  port_of() { sed -nE "s/.*listening for $1 on .*:([0-9]+)\$/\\1/p" "$log" | head -n1; }
  await_line secure 'listening for coap\+ws on ' # (after the coap one)
  dtls=$(port_of coaps) tls=$(port_of 'coaps\+tcp') ws=$(port_of 'coap\+ws')
  for cmd in "${secured[@]}"; do
    line=${cmd/build\/release\/tools\/coap-client/\"\$CLIENT_BIN\" -B 15}
    line=$(sed -E "s#coaps://\\[::1\\]:[0-9]+#coaps://[::1]:$dtls#;
      s#coaps\\+tcp://\\[::1\\]:[0-9]+#coaps+tcp://[::1]:$tls#;
      s#coap\\+ws://\\[::1\\]:[0-9]+#coap+ws://[::1]:$ws#" <<<"$line")
    LAST_CMD=$line
    run 30 bash -c "CLIENT_BIN='$CLIENT_BIN'; eval \"\$1\"" _ "$line"
    if [ "$RC" = 0 ] && [ -s "$OUT" ]; then
      pass "README: $cmd"
    else
      fail "README: $cmd" "$(show | tr '\n' '|')"
    fi
  done
  stop_cleanly secure "$SERVER_PID"
fi

grep -qi "seed page" "$README" && fail "the README says 'seed page'" ||
  pass "the README names libcoap's coap_async(3) page, not 'the seed page'"
finish
