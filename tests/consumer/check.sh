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
cmake -S "$here" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" >/dev/null
cmake --build "$work/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cm/consumer_cmake"
echo "install/consumer check: pkg-config, notls and find_package all ok"
