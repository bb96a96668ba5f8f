#!/usr/bin/env bash
# Test fixture: a Release build of Petrel without sanitizers, configured for
# /usr as a Debian package is, and its .deb made with cpack. The tests that
# load Petrel's library into programs that are not ours (Debian's libcoap
# tools) and the package test use it; the sanitized test build cannot serve
# them, since its library needs the sanitizer runtime in the program.
# usage: release_tree.sh SOURCE_DIR BUILD_DIR C_COMPILER
set -euo pipefail
src=$1 out=$2 cc=$3
start=$(date +%s)
cmake -S "$src" -B "$out" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr -DPETREL_TESTS=OFF -DPETREL_SANITIZE=OFF \
  -DPETREL_TSAN=OFF -DPETREL_FUZZ=OFF -DPETREL_BENCH=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" >/dev/null
rm -f "$out"/petrel_*.deb
(cd "$out" && cpack -G DEB >/dev/null)
ls "$out"/petrel_*.deb
echo "release tree and package built in $(($(date +%s) - start)) s"
