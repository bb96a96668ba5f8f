#!/usr/bin/env bash
# Checks that examples/seed_handler.h holds the coap_async(3) page's example
# handler character for character, compared with the page itself:
# shared/seed/coap_async.3.txt beside the repository (../shared from its
# root: in CI a copy of shared/ lies beside the clone, and /work/main has
# /work/shared). A git worktree elsewhere looks beside the main checkout
# too. PETREL_SEED_PAGE, or the first argument, names the page directly.
#
# Exit status: 0 same, 1 different (or the page missing under CI=true),
# 77 the page is not found (skipped, with the places looked at).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
page=${1:-${PETREL_SEED_PAGE:-}}
looked=()
if [ -z "$page" ]; then
  places=("$root/..")
  common=$(git -C "$root" rev-parse --path-format=absolute --git-common-dir \
    2>/dev/null || true)
  if [ -n "$common" ]; then
    places+=("$(dirname "$common")/..")
  fi
  for dir in "${places[@]}"; do
    candidate=$(cd "$dir" 2>/dev/null && pwd)/shared/seed/coap_async.3.txt
    case " ${looked[*]} " in *" $candidate "*) continue ;; esac
    looked+=("$candidate")
    if [ -f "$candidate" ]; then
      page=$candidate
      break
    fi
  done
elif [ ! -f "$page" ]; then
  looked+=("$page")
  page=
fi
if [ -z "$page" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: the seed page is not at ${looked[*]}, and under CI it must be"
    exit 1
  fi
  echo "SKIP: the seed page (shared/seed/coap_async.3.txt) is not at ${looked[*]}"
  exit 77
fi
want=$(perl -0777 -ne 'print $1 if m{(/\*\n \* This example.*?\n\})See}s' "$page")
have=$(perl -0777 -ne 'print $1 if m{(/\*\n \* This example.*?\n\})\n// clang-format on}s' \
  "$root/examples/seed_handler.h")
if [ -z "$want" ] || [ "$want" != "$have" ]; then
  echo "FAIL: examples/seed_handler.h differs from the seed page's handler ($page)"
  diff <(echo "$want") <(echo "$have") || true
  exit 1
fi
echo "seed handler verbatim: $(echo "$want" | wc -l) lines match $page"
