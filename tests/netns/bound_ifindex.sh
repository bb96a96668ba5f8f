#!/usr/bin/env bash
# An endpoint bound to one address of an interface other than lo (one end
# of a veth pair, in a network namespace of the test's own) reports that
# address and that interface's index to its handler, answers from it and
# asks the kernel for no per-datagram control data (src/posix/pktinfo.h);
# a wildcard endpoint still answers from the address asked. IPv4 and IPv6.
#
# usage: bound_ifindex.sh BOUND_IFINDEX_BINARY
# Needs root for `unshare -n`; where that is refused the test is skipped
# (exit 77), except under CI (CI=true), where it fails.
set -u
BIN=$1

if [ "${2:-}" != --inside ]; then
  . "$(dirname "$0")/lib.sh"
  netns_enter "$0" "$BIN"
fi

ip link set lo up
if ! ip link add b0 type veth peer name b1 2>/dev/null; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: no veth pair could be made in the namespace"
    exit 1
  fi
  echo "SKIP: no veth pair could be made in the namespace"
  exit 77
fi
ip addr add 10.77.0.1/24 dev b0
ip -6 addr add fd77::1/64 dev b0 nodad
ip link set b1 up
ip link set b0 up
rc=0
echo "# IPv4: 10.77.0.1 on b0"
timeout 20 "$BIN" 10.77.0.1 b0 || rc=1
echo "# IPv6: fd77::1 on b0"
timeout 20 "$BIN" fd77::1 b0 || rc=1
exit $rc
