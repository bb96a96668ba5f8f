#!/usr/bin/env bash
# Checks that examples/seed_handler.h holds the coap_async(3) page's example
# handler character for character, compared with the page itself
# (../shared/seed/coap_async.3.txt beside the repository).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
page=${1:-$root/../shared/seed/coap_async.3.txt}
if [ ! -f "$page" ]; then
  echo "SKIP: the seed page is not at $page"
  exit 77
fi
want=$(perl -0777 -ne 'print $1 if m{(/\*\n \* This example.*?\n\})See}s' "$page")
have=$(perl -0777 -ne 'print $1 if m{(/\*\n \* This example.*?\n\})\n// clang-format on}s' \
  "$root/examples/seed_handler.h")
if [ -z "$want" ] || [ "$want" != "$have" ]; then
  echo "FAIL: examples/seed_handler.h differs from the seed page's handler"
  diff <(echo "$want") <(echo "$have") || true
  exit 1
fi
echo "seed handler verbatim: $(echo "$want" | wc -l) lines match the page"
