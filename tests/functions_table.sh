#!/bin/bash
# functions_table.sh LIBRARY DOC INCLUDE_DIR
#
# Checks doc/functions.md against the built shared library: every symbol
# the library exports must have a row, every row must name an exported
# symbol, and every row marked "not available in this build" must have a
# header comment that says so (the comment block right above the
# declaration in include/coap3/).
set -u
lib=$1 doc=$2 inc=$3
fail=0

exported=$(nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' |
  grep -vxE '_init|_fini|_edata|_end|__bss_start' | sort -u)
rows=$(sed -n 's/^| `\([A-Za-z_][A-Za-z0-9_]*\)` |.*/\1/p' "$doc" | sort)

if [ -z "$exported" ]; then
  echo "no exported symbols read from $lib" >&2
  exit 1
fi
dups=$(uniq -d <<<"$rows")
if [ -n "$dups" ]; then
  echo "listed twice in $doc:" $dups >&2
  fail=1
fi
missing=$(comm -23 <(echo "$exported") <(uniq <<<"$rows"))
if [ -n "$missing" ]; then
  echo "exported but not in $doc:" >&2
  echo "$missing" | sed 's/^/  /' >&2
  fail=1
fi
extra=$(comm -13 <(echo "$exported") <(uniq <<<"$rows"))
if [ -n "$extra" ]; then
  echo "in $doc but not exported:" >&2
  echo "$extra" | sed 's/^/  /' >&2
  fail=1
fi

# The comment block that ends right above NAME's declaration.
comment_above() {
  awk -v name="$1" '
    /^\/\*\*/ { block = ""; inblock = 1 }
    inblock { block = block $0 "\n" }
    /\*\// { if (inblock) { inblock = 0; last = NR } }
    $0 ~ ("[^A-Za-z0-9_]" name "[ \t]*\\(") && /COAP_API/ ||
    $0 ~ ("^" name "[ \t]*\\(") && prev ~ /COAP_API/ {
      if (NR - last <= 2) { print block; exit }
    }
    { prev = $0 }' "$inc"/coap3/*.h
}

unavailable=$(grep -E '^\| `[A-Za-z0-9_]+` \|[^|]*\| not available in this build \|' "$doc" |
  sed 's/^| `\([A-Za-z0-9_]*\)`.*/\1/')
for name in $unavailable; do
  if ! comment_above "$name" | grep -q "Not available in this build"; then
    echo "$name: header comment does not say \"Not available in this build\"" >&2
    fail=1
  fi
done

n_rows=$(wc -l <<<"$rows")
n_exp=$(wc -l <<<"$exported")
n_na=$(wc -w <<<"$unavailable")
echo "$n_exp exported, $n_rows rows, $n_na not available in this build"
exit $fail
