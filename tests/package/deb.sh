#!/usr/bin/env bash
# The Debian package: its control fields, its contents, unpacked with
# dpkg-deb -x into a scratch directory its coap-client talks to its
# coap-server with no LD_LIBRARY_PATH (the RUNPATH finds the unpacked
# library), and lintian reports no error (warnings are listed).
# usage: deb.sh BUILD_DIR   (holds petrel_*.deb, from release_tree.sh)
. "$(dirname "$0")/../interop/lib.sh"
shopt -s nullglob
debs=("${1:?usage: $0 BUILD_DIR}"/petrel_*.deb)
[ ${#debs[@]} = 1 ] || { echo "FAIL: expected one petrel_*.deb in $1, found ${#debs[@]}"; exit 1; }
DEB=${debs[0]}
need dpkg-deb
echo "package: $DEB ($(stat -c %s "$DEB") bytes)"

field() { dpkg-deb -f "$DEB" "$1"; }
check_field() { # FIELD EXTENDED-REGEX
  local v
  v=$(field "$1")
  if grep -qE -- "$2" <<<"$v"; then
    pass "control field $1: $v"
  else
    fail "control field $1 matches $2" "got: $v"
  fi
}
check_field Package '^petrel$'
check_field Version '^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+$'
check_field Maintainer '^[^<]+ <[^@>]+@[^>]+>$'
check_field Section '^libs$'
check_field Depends '(^|, )libc6 \(>= [0-9.]+\)'
check_field Depends '(^|, )libssl3 \(>= [0-9.]+\)'
check_field Description 'DTLS 1\.2 on OpenSSL'
check_field Description 'libcoap-3-openssl'
check_field Description 'Observe \(RFC 7641\)'
check_field Conflicts '^libcoap3, libcoap3-dev$'
check_field Replaces '^libcoap3, libcoap3-dev$'
if [ -z "$(field Provides)" ]; then
  pass "no Provides: Petrel has no libcoap-3-gnutls soname, so not all of libcoap3"
else
  fail "no Provides" "got: $(field Provides)"
fi
ctl="$TMP/control"
dpkg-deb -e "$DEB" "$ctl"
expect "shlibs names both sonames" out-re \
  '^libcoap-3 3 petrel \(>= [^)]+\)$' grep -E '^libcoap-3 3 ' "$ctl/shlibs"
expect "shlibs: libcoap-3-notls" out-re \
  '^libcoap-3-notls 3 petrel \(>= [^)]+\)$' grep -E '^libcoap-3-notls ' "$ctl/shlibs"
expect "shlibs: libcoap-3-openssl" out-re \
  '^libcoap-3-openssl 3 petrel \(>= [^)]+\)$' grep -E '^libcoap-3-openssl ' "$ctl/shlibs"
expect "an ldconfig trigger" out-eq "activate-noawait ldconfig" cat "$ctl/triggers"

root="$TMP/root"
dpkg-deb -x "$DEB" "$root"
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
libdir="usr/lib/$ma"
for f in usr/bin/coap-client usr/bin/coap-server usr/bin/coap-bench \
  "$libdir/libcoap-3.so.3" "$libdir/libcoap-3-notls.so.3" \
  "$libdir/libcoap-3-openssl.so.3" "$libdir/pkgconfig/libcoap-3-openssl.pc" \
  "$libdir/libcoap-3.so" "$libdir/libcoap-3.a" \
  "$libdir/pkgconfig/libcoap-3.pc" "$libdir/pkgconfig/libcoap-3-notls.pc" \
  "$libdir/cmake/libcoap-3/libcoap-3Config.cmake" \
  usr/include/coap3/coap.h usr/share/doc/petrel/copyright \
  usr/share/doc/petrel/changelog.Debian.gz \
  usr/share/man/man1/coap-client.1.gz usr/share/man/man1/coap-server.1.gz \
  usr/share/man/man1/coap-bench.1.gz usr/share/man/man3/coap_async.3.gz \
  usr/share/man/man3/coap_observe.3.gz usr/share/man/man3/coap_persist.3.gz \
  usr/share/man/man3/coap_encryption.3.gz usr/share/man/man3/coap_tls_library.3.gz; do
  if [ -e "$root/$f" ]; then
    pass "contains /$f"
  else
    fail "contains /$f"
  fi
done
# The changelog: its newest entry names the package's own Version, and
# dpkg-parsechangelog reads every entry.
zcat "$root/usr/share/doc/petrel/changelog.Debian.gz" >"$TMP/changelog"
expect "changelog.Debian: newest entry is Version $(field Version)" out-eq \
  "$(field Version)" dpkg-parsechangelog -l "$TMP/changelog" -S Version
expect "changelog.Debian: every entry parses" out-re '^petrel \(0\.1\.0-1\)' \
  dpkg-parsechangelog -l "$TMP/changelog" --all -S Changes
# Every manual page built from doc/man (BUILD_DIR/man/manN) is in the package.
pages=("${1}"/man/man[0-9]/*.gz)
missing=()
for p in "${pages[@]}"; do
  rel=usr/share/man/$(basename "$(dirname "$p")")/$(basename "$p")
  [ -e "$root/$rel" ] || missing+=("/$rel")
done
if [ ${#pages[@]} -gt 16 ] && [ ${#missing[@]} = 0 ]; then
  pass "all ${#pages[@]} manual pages of the tree are in the package"
else
  fail "all manual pages of the tree are in the package (${#pages[@]} built)" "missing: ${missing[*]}"
fi
unstripped=$(file "$root"/usr/bin/* "$root/$libdir"/*.so.*.* | grep -v ', stripped' || true)
if [ -z "$unstripped" ]; then
  pass "programs and libraries are stripped"
else
  fail "programs and libraries are stripped" "$unstripped"
fi

# Run the unpacked tools: no LD_LIBRARY_PATH, the RUNPATH must find the
# unpacked library and nothing else.
unset LD_LIBRARY_PATH
expect "coap-client has RUNPATH \$ORIGIN/../lib/$ma" out-has "[\$ORIGIN/../lib/$ma]" \
  readelf -d "$root/usr/bin/coap-client"
resolved=$(ldd "$root/usr/bin/coap-client" | awk '$1 == "libcoap-3.so.3" {print $3}')
if [ -n "$resolved" ] &&
  [ "$(realpath "$resolved")" = "$(realpath "$root/$libdir/libcoap-3.so.3")" ]; then
  pass "ldd: coap-client resolves libcoap-3.so.3 to the unpacked tree ($resolved)"
else
  fail "ldd: coap-client resolves libcoap-3.so.3 to the unpacked tree" \
    "$(ldd "$root/usr/bin/coap-client" 2>&1 | tr '\n' '|')"
fi
start_listening coap-server "$root/usr/bin/coap-server" -A ::1 -p 0 || exit 1
if grep -qF "$root/$libdir/libcoap-3.so.3" "/proc/$SERVER_PID/maps"; then
  pass "the unpacked coap-server maps the unpacked library"
else
  fail "the unpacked coap-server maps the unpacked library" \
    "$(grep libcoap "/proc/$SERVER_PID/maps" | awk '{print $6}' | sort -u)"
fi
expect "unpacked coap-client GET / from unpacked coap-server" out-has \
  "test server made with Petrel" "$root/usr/bin/coap-client" -B 5 "coap://[::1]:$SERVER_PORT/"
expect "unpacked coap-client GET /async?1 (a separate response)" out-eq "done" \
  "$root/usr/bin/coap-client" -B 10 "coap://[::1]:$SERVER_PORT/async?1"
stop_cleanly coap-server "$SERVER_PID"

# lintian: no errors. Warnings are shown, not failed.
if command -v lintian >/dev/null 2>&1; then
  lintian --no-cfg "$DEB" >"$TMP/lintian" 2>&1
  sed 's/^/       lintian: /' "$TMP/lintian" | grep -v 'running with root privileges'
  if grep -q '^E: ' "$TMP/lintian"; then
    fail "lintian reports no errors" "$(grep '^E: ' "$TMP/lintian")"
  else
    pass "lintian reports no errors ($(grep -c '^W: ' "$TMP/lintian") warnings)"
  fi
else
  need lintian
fi
finish
