#!/usr/bin/env bash
# The server-side tests under valgrind memcheck: zero errors, zero leaks.
#
# valgrind cannot run sanitizer builds, so this builds its own plain Debug
# tree (no sanitizers, no fuzzing) in BUILD_DIR, then runs each test
# program, and the seed example answering Debian's coap-client, under
#   valgrind --error-exitcode=1 --leak-check=full (definite, indirect and
#   possible leaks count as errors)
# usage: valgrind.sh SOURCE_DIR BUILD_DIR
set -u
SRC=${1:?usage: $0 SOURCE_DIR BUILD_DIR}
BUILD=${2:?usage: $0 SOURCE_DIR BUILD_DIR}
. "$SRC/tests/interop/lib.sh"
need valgrind

TESTS=(test_core test_async test_resource test_block test_cache test_limits
       test_loop test_surface test_lossy_path test_observe test_persist
       test_dtls test_dtls_pki test_dtls_server test_ws_conn test_tls
       test_wss)
export PETREL_DTLS_FLOOD=5000 # test_dtls_server's flood, shortened
export PETREL_TEST_TIME_SCALE=10 # real-time waits for an answer, stretched
VG=(valgrind -q --error-exitcode=1 --leak-check=full
    --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible)

echo "building a plain tree in $BUILD"
if ! cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DPETREL_SANITIZE=OFF -DPETREL_WERROR=ON \
    -DPETREL_TSAN=OFF -DPETREL_FUZZ=OFF -DPETREL_TOOLS=ON >"$TMP/cmake.log" 2>&1 ||
   ! cmake --build "$BUILD" -j2 --target "${TESTS[@]}" seed_async_server \
    >>"$TMP/cmake.log" 2>&1; then
  tail -n 30 "$TMP/cmake.log"
  fail "plain build for valgrind"
  finish
fi

for t in "${TESTS[@]}"; do
  bin="$BUILD/tests/$t"
  if [ ! -x "$bin" ]; then
    fail "$t under valgrind" "not built"
    continue
  fi
  LAST_CMD="valgrind $t"
  run 600 "${VG[@]}" "$bin"
  if [ "$RC" = 0 ]; then
    pass "$t under valgrind: no errors, no leaks"
  else
    fail "$t under valgrind" "exit status $RC" \
      "$(grep -E '==[0-9]+==|FAIL|failed' "$ERR" "$OUT" | head -n 30 | tr '\n' '|')"
  fi
done

# The seed example as a real server: requests from Debian's client, then
# SIGTERM; valgrind's exit status tells whether it freed everything.
if command -v coap-client-notls >/dev/null 2>&1; then
  start_listening seed_async_server "${VG[@]}" "$BUILD/examples/seed_async_server" \
    127.0.0.1 0 || finish
  for q in 1 2; do
    expect "seed_async_server under valgrind: GET /async?$q -> done" out-eq done \
      coap-client-notls -B 20 "coap://127.0.0.1:$SERVER_PORT/async?$q"
  done
  expect "seed_async_server under valgrind: /async?0 -> 4.00" err-has "4.00" \
    coap-client-notls -B 20 "coap://127.0.0.1:$SERVER_PORT/async?0"
  stop_cleanly seed_async_server "$SERVER_PID"
fi
finish
