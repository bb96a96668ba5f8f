# tests/netns/lib.sh -- for the tests that run inside a network namespace
# of their own (sourced).

# netns_enter SCRIPT ARGS...: re-runs SCRIPT with ARGS and a last argument
# --inside under `unshare -n` (a fresh namespace: only lo, and down), and
# does not return. Where unshare is not permitted (not root) the test is
# skipped with exit 77, except under CI (CI=true), where it fails.
netns_enter() {
  local script=$1
  shift
  if ! unshare -n true 2>/dev/null; then
    if [ "${CI:-}" = true ]; then
      echo "FAIL: unshare -n is not permitted here, and under CI it must be"
      exit 1
    fi
    echo "SKIP: unshare -n is not permitted (run as root)"
    exit 77
  fi
  exec unshare -n bash "$script" "$@" --inside
}
