#!/bin/bash
# client_unbuilt_scheme.sh COAP_CLIENT
#
# coap-client names the transport a URI's scheme needs when this build
# lacks it (and fails), instead of failing to resolve the host.
set -u
client=$1
fail=0
check() { # URI MESSAGE
  out=$("$client" -B 1 "$1" 2>&1)
  rc=$?
  echo "$1 -> exit $rc: $out"
  if [ "$rc" -eq 0 ] || ! grep -qF "$2" <<<"$out"; then
    echo "  expected a failure saying: $2" >&2
    fail=1
  fi
}
# coaps+tcp:// needs TLS: refused only by a build without it.
if "$client" --version 2>&1 | grep -q "No DTLS or TLS support"; then
  check coaps+tcp://127.0.0.1/x "coaps+tcp:// needs TLS, which this build lacks"
elif "$client" -B 1 coaps+tcp://127.0.0.1:1/x 2>&1 | grep -q "needs TLS"; then
  echo "coaps+tcp:// refused although this build has TLS" >&2
  fail=1
fi
# coaps+ws:// needs secure WebSockets, which come with TLS: likewise.
if "$client" --version 2>&1 | grep -q "No DTLS or TLS support"; then
  check coaps+ws://127.0.0.1/x "coaps+ws:// needs secure WebSockets, which this build lacks"
elif "$client" -B 1 coaps+ws://127.0.0.1:1/x 2>&1 | grep -q "needs secure WebSockets"; then
  echo "coaps+ws:// refused although this build has TLS" >&2
  fail=1
fi
exit $fail
