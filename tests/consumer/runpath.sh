#!/usr/bin/env bash
# Installed programs find the installed library: `cmake --install` into a
# scratch prefix, then the installed coap-client talks to the installed
# coap-server with no LD_LIBRARY_PATH; readelf shows a RUNPATH relative to
# the binary, and ldd and /proc/PID/maps show the installed library in use.
# usage: runpath.sh BUILD_DIR
. "$(dirname "$0")/../interop/lib.sh"
build=${1:?usage: $0 BUILD_DIR}
prefix="$TMP/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null || {
  echo "FAIL: cmake --install"
  exit 1
}
unset LD_LIBRARY_PATH
lib=$(ls "$prefix"/lib*/libcoap-3.so.3 "$prefix"/lib/*/libcoap-3.so.3 2>/dev/null | head -n1)
[ -n "$lib" ] || { echo "FAIL: no libcoap-3.so.3 under $prefix"; exit 1; }
rel=${lib#"$prefix"/}
rel=${rel%/libcoap-3.so.3}
for tool in coap-client coap-server; do
  expect "$tool: RUNPATH is \$ORIGIN/../$rel" out-has "[\$ORIGIN/../$rel]" \
    readelf -d "$prefix/bin/$tool"
  resolved=$(ldd "$prefix/bin/$tool" | awk '$1 == "libcoap-3.so.3" {print $3}')
  if [ -n "$resolved" ] && [ "$(realpath "$resolved")" = "$(realpath "$lib")" ]; then
    pass "ldd: $tool resolves libcoap-3.so.3 to the installed $rel"
  else
    fail "ldd: $tool resolves libcoap-3.so.3 to the installed $rel" \
      "$(ldd "$prefix/bin/$tool" 2>&1 | tr '\n' '|')"
  fi
done
# Each function a section 3 page names has its own manual page name, a
# link to the group's page, as libcoap's packages install them.
for pair in coap_register_async:coap_async coap_split_uri:coap_uri \
  coap_context_set_psk2:coap_encryption coap_ws_set_host_request:coap_websockets; do
  fn=${pair%%:*} page=${pair#*:}
  expect "man -w $fn finds $page(3)" out-has "man3/$page.3.gz" \
    env MANPATH="$prefix/share/man" man -w "$fn"
done
broken=$(find "$prefix/share/man" -xtype l | head -n3)
[ -z "$broken" ] && pass "no manual page link is broken" ||
  fail "no manual page link is broken" "$broken"
start_listening coap-server "$prefix/bin/coap-server" -A ::1 -p 0 || exit 1
if grep -qF "$(realpath "$lib")" "/proc/$SERVER_PID/maps"; then
  pass "the installed coap-server maps the installed library"
else
  fail "the installed coap-server maps the installed library" \
    "$(grep libcoap "/proc/$SERVER_PID/maps" | awk '{print $6}' | sort -u)"
fi
expect "installed coap-client GET / from installed coap-server" out-has \
  "test server made with Petrel" "$prefix/bin/coap-client" -B 10 "coap://[::1]:$SERVER_PORT/"
stop_cleanly coap-server "$SERVER_PID"
finish
