#!/usr/bin/env bash
# Installs the built tree into a scratch prefix, then builds tests/consumer
# against the installed headers and library twice -- with pkg-config and
# with find_package(libcoap-3) -- and runs both.
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/coap3/coap.h"
for internal in "$work"/prefix/include/coap3/*.h; do
  case "$(basename "$internal")" in
    pdu.h|session.h|context.h) echo "internal header installed: $internal"; exit 1 ;;
  esac
done
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
cc=${CC:-cc}
extra=${CONSUMER_FLAGS:-}
flags=$(pkg-config --cflags --libs libcoap-3)
$cc $extra -Wall -Wextra -Werror -o "$work/app" "$here/app.c" $flags
libdir=$(pkg-config --variable=libdir libcoap-3)
LD_LIBRARY_PATH="$libdir" "$work/app"
# The notls variant name the seed page links with.
$cc $extra -Wall -Wextra -Werror -o "$work/app_notls" "$here/app.c" \
  $(pkg-config --cflags --libs libcoap-3-notls)
LD_LIBRARY_PATH="$libdir" "$work/app_notls"
# The DTLS build under its libcoap name, shared and static; each says which
# TLS library it has, as libcoap's OpenSSL build does.
if pkg-config --exists libcoap-3-openssl; then
  cat >"$work/tls.c" <<'C'
#include <coap3/coap.h>
#include <stdio.h>
int main(void) {
  coap_startup();
  int ok = coap_dtls_is_supported() == 1 && coap_dtls_psk_is_supported() == 1 &&
           coap_get_tls_library_version()->type == COAP_TLS_LIBRARY_OPENSSL;
  coap_cleanup();
  puts(ok ? "tls ok" : "tls wrong");
  return !ok;
}
C
  $cc $extra -Wall -Wextra -Werror -o "$work/app_openssl" "$work/tls.c" \
    $(pkg-config --cflags --libs libcoap-3-openssl)
  LD_LIBRARY_PATH="$libdir" "$work/app_openssl"
  $cc $extra -Wall -Wextra -Werror -o "$work/app_openssl_static" "$work/tls.c" \
    $(pkg-config --cflags libcoap-3-openssl) "$libdir/libcoap-3-openssl.a" \
    $(pkg-config --static --libs libcoap-3-openssl | sed 's/-lcoap-3-openssl//')
  "$work/app_openssl_static"
  LD_LIBRARY_PATH="$libdir" "$work/app" # libcoap-3 is the DTLS build too
fi
cmake -S "$here" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" >/dev/null
cmake --build "$work/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cm/consumer_cmake"
if [ -x "$work/cm/consumer_cmake_openssl_static" ]; then
  "$work/cm/consumer_cmake_openssl_static"
fi
echo "install/consumer check: pkg-config, notls, openssl and find_package all ok"
