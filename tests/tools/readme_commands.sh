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
for cmd in "${cmds[@]}"; do
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
grep -qi "seed page" "$README" && fail "the README says 'seed page'" ||
  pass "the README names libcoap's coap_async(3) page, not 'the seed page'"
stop_cleanly coap-server "$SERVER_PID"
finish
