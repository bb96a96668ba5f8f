#!/bin/bash
# functions_table.sh LIBRARY DOC INCLUDE_DIR
#
# Checks doc/functions.md against the built shared library: every symbol
# the library exports must have a row, every row must name an exported
# symbol in the right version node (PETREL_0.1 for a row of coap_petrel.h
# or one whose note begins "Petrel only", VER_3 for every other: libcoap's
# API), no row may say "stub", and every row marked "not available in this
# build" or "no effect in this build" must have a header comment that says
# so (the comment block right above the declaration in include/coap3/).
# tests/package/version_nodes.sh checks the nodes by name pattern; this
# checks them against what the table says each function is.
set -u
lib=$1 doc=$2 inc=$3
fail=0

# nm -D prints a versioned symbol as NAME@@NODE (NAME@NODE for a non-default
# version) and each version node's name as an absolute symbol (type A).
versioned=$(nm -D --defined-only "$lib" | awk 'NF == 3 && $2 != "A" { print $3 }' |
  grep -vE '^(_init|_fini|_edata|_end|__bss_start)(@|$)' | sort -u)
exported=$(sed 's/@.*//' <<<"$versioned" | sort -u)
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

# The version node of each row's symbol.
node_of() { sed -n "s/^$1@@\{0,1\}\([A-Za-z0-9_.]*\)\$/\1/p" <<<"$versioned"; }
petrel_rows=$(grep -E '^\| `[A-Za-z0-9_]+` \| (`coap_petrel\.h` \|[^|]*\||[^|]*\|[^|]*\| Petrel only)' "$doc" |
  sed 's/^| `\([A-Za-z0-9_]*\)`.*/\1/')
n_petrel=0
n_ver3=0
for name in $(comm -12 <(echo "$exported") <(uniq <<<"$rows")); do
  want=VER_3
  grep -qx "$name" <<<"$petrel_rows" && want=PETREL_0.1
  node=$(node_of "$name")
  if [ "$node" != "$want" ]; then
    echo "$name: exported in version node '${node:-none}', the table makes it $want" >&2
    fail=1
  fi
  [ "$want" = VER_3 ] && n_ver3=$((n_ver3 + 1)) || n_petrel=$((n_petrel + 1))
done

stubs=$(grep -E '^\| `[A-Za-z0-9_]+` \|[^|]*\| stub \|' "$doc" | sed 's/^| `\([A-Za-z0-9_]*\)`.*/\1/')
if [ -n "$stubs" ]; then
  echo "rows marked stub (say \"no effect in this build\" or make them work):" $stubs >&2
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
# The same block as one line of words, so that a phrase may wrap.
comment_words() {
  comment_above "$1" | sed 's/^[[:space:]]*\/*\**[[:space:]]*//' | tr -s ' \n' '  '
}

unavailable=$(grep -E '^\| `[A-Za-z0-9_]+` \|[^|]*\| not available in this build \|' "$doc" |
  sed 's/^| `\([A-Za-z0-9_]*\)`.*/\1/')
for name in $unavailable; do
  if ! comment_words "$name" | grep -q "Not available in this build"; then
    echo "$name: header comment does not say \"Not available in this build\"" >&2
    fail=1
  fi
done
no_effect=$(grep -E '^\| `[A-Za-z0-9_]+` \|[^|]*\| no effect in this build \|' "$doc" |
  sed 's/^| `\([A-Za-z0-9_]*\)`.*/\1/')
for name in $no_effect; do
  if ! comment_words "$name" | grep -qi "no effect in this build"; then
    echo "$name: header comment does not say \"no effect in this build\"" >&2
    fail=1
  fi
done

n_rows=$(wc -l <<<"$rows")
n_exp=$(wc -l <<<"$exported")
n_na=$(wc -w <<<"$unavailable")
n_ne=$(wc -w <<<"$no_effect")
echo "$n_exp exported ($n_ver3 in VER_3, $n_petrel in PETREL_0.1), $n_rows rows," \
  "$n_na not available in this build, $n_ne with no effect in this build"
exit $fail
