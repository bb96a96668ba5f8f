#!/usr/bin/env bash
# Multicast over loopback inside a network namespace of the test's own:
# a Petrel server joined to 224.0.1.187 (and ff02::fd) on lo answers NON
# GETs sent to the group -- from a raw client, from Petrel's own client
# session to the group and from Debian's coap-client-notls -- with a NON
# from 127.0.0.1 after a random delay within the leisure, and sends
# nothing for 4.xx/5.xx or for a CON (RFC 7252 section 8).
#
# usage: mcast_group.sh MCAST_GROUP_BINARY
# Needs root for `unshare -n`; where that is refused the test is skipped
# (exit 77), except under CI (CI=true), where it fails.
set -u
BIN=$1

if [ "${2:-}" != --inside ]; then
  . "$(dirname "$0")/lib.sh"
  netns_enter "$0" "$BIN"
fi

. "$(dirname "$0")/../interop/lib.sh"

# A fresh namespace: lo is down and routes no group.
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
# Linux does not loop IPv6 multicast back on lo: IPv6 uses a veth pair,
# mc0 with fd00::1 and no link-local address (so that fd00::1 is the
# source the kernel picks for an answer on mc0).
IF6=
if ip link add mc0 type veth peer name mc1 2>/dev/null; then
  sysctl -qw net.ipv6.conf.mc0.addr_gen_mode=1 net.ipv6.conf.mc1.addr_gen_mode=1
  ip link set mc1 up
  ip link set mc0 up
  ip -6 addr add fd00::1/64 dev mc0 nodad &&
    ip -6 route add ff00::/8 dev mc0 table local && IF6=mc0
fi
PORT=5683 # nothing else listens in this namespace

start_listening mcast-server "$BIN" serve "$PORT" $IF6 || exit 1

echo "# raw datagrams and a Petrel client session to 224.0.1.187"
"$BIN" check "$PORT"
[ $? = 0 ] && pass "IPv4 group checks" || fail "IPv4 group checks"

if [ -z "$IF6" ]; then
  if [ "${CI:-}" = true ]; then
    fail "IPv6: no veth pair could be made in the namespace"
  else
    echo "# IPv6: no veth pair could be made in the namespace: not checked"
  fi
else
  echo "# raw datagrams to ff02::fd on $IF6"
  "$BIN" check6 "$PORT" "$IF6" fd00::1
  [ $? = 0 ] && pass "IPv6 group checks" || fail "IPv6 group checks"
fi

need coap-client-notls
echo "# Debian's coap-client-notls (libcoap 4.3.1) to the group"
expect "coap-client-notls GET coap://224.0.1.187/hello gets the answer" \
  out-eq hello coap-client-notls -N -B 3 -m get "coap://224.0.1.187:$PORT/hello"
expect "coap-client-notls GET /missing to the group gets nothing" \
  out-eq "" coap-client-notls -N -B 2 -m get "coap://224.0.1.187:$PORT/missing"

stop_cleanly mcast-server "$SERVER_PID"
finish
