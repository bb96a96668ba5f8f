#!/usr/bin/env bash
# The manual pages in doc/man: each renders with `man --warnings` and
# nothing on stderr; each section 3 page has a PETREL NOTES section, its
# SYNOPSIS declares exactly what Petrel's headers declare, and its EXAMPLES
# compile; each section 1 page has an EXIT STATUS section and documents
# every option its program's usage text lists. Every exported function
# (the rows of doc/functions.md) is named in the NAME or SYNOPSIS of some
# section 3 page, or listed in doc/man/uncovered.txt with the reason it has
# no page.
# usage: man.sh SOURCE_DIR CC [PROGRAM...]   (coap-client, coap-server,
#                                             coap-bench binaries)
. "$(dirname "$0")/../interop/lib.sh"
src=$(cd "${1:?usage: $0 SOURCE_DIR CC [PROGRAM...]}" && pwd)
cc=${2:?usage: $0 SOURCE_DIR CC [PROGRAM...]}
shift 2
need man
mandir="$src/doc/man"

for want in coap-client.1 coap-server.1 coap-bench.1 coap_async.3 \
  coap_context.3 coap_session.3 coap_resource.3 coap_pdu_setup.3 \
  coap_pdu_access.3 coap_block.3 coap_observe.3 coap_persist.3 \
  coap_encryption.3 coap_tls_library.3 coap_keepalive.3 coap_logging.3 \
  coap_io.3 coap_uri.3 coap_string.3 coap_address.3 coap_cache.3 \
  coap_handler.3 coap_attribute.3 coap_init.3 coap_recovery.3 \
  coap_endpoint_client.3 coap_endpoint_server.3 coap_deprecated.3 \
  coap_oscore.3 coap_websockets.3 coap_pdu_transmit.3 coap_prng.3 \
  coap_petrel.3; do
  [ -f "$mandir/$want" ] && pass "doc/man/$want exists" || fail "doc/man/$want exists"
done

# Every declaration in the public headers, one a line, normalised.
decls="$TMP/decls"
perl -0777 -ne '
  s{/\*.*?\*/}{}sg; s{//[^\n]*}{}g; s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}mg;
  while (/COAP_API\s+([^;{}]*?\bcoap_\w+\s*\([^;{}]*\))\s*;/sg) {
    my $d = $1; $d =~ s/\s+/ /g; $d =~ s/\( /(/g; $d =~ s/ \)/)/g; $d =~ s/\* /*/g;
    print "$d;\n";
  }' "$src"/include/coap3/*.h | sort -u >"$decls"

# Function-like macros and static inline functions of the public headers,
# one name a line: not exported, so not in $decls.
macros="$TMP/macros"
{
  grep -hoE '^#define coap_[A-Za-z0-9_]+\(' "$src"/include/coap3/*.h | sed 's/^#define //'
  perl -0777 -ne 's{/\*.*?\*/}{}sg;
    while (/COAP_STATIC_INLINE\s+[^;{(]*?\b(coap_\w+)\s*\(/sg) { print "$1(\n" }' \
    "$src"/include/coap3/*.h
} | sed 's/($//' | sort -u >"$macros"
covered="$TMP/covered"
: >"$covered"

for page in "$mandir"/*.[1-9]; do
  name=$(basename "$page")
  base=${name%.*}
  section=${name##*.}
  MANWIDTH=80 man --warnings -l "$page" >"$OUT" 2>"$ERR"
  if [ -s "$ERR" ] || [ ! -s "$OUT" ]; then
    fail "$name renders without warnings" "$(head -c 600 "$ERR")"
  else
    pass "$name renders without warnings ($(wc -l <"$OUT") lines)"
  fi
  th=$(grep -m1 '^\.TH ' "$page" | awk '{print $2, $3}')
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$base")
  [ "$th" = "$upper $section" ] && pass "$name: .TH $th" || fail "$name: .TH is '$upper $section'" "got '$th'"
  case "$section" in
  3)
    grep -q '^\.SH PETREL NOTES$' "$page" && pass "$name has PETREL NOTES" ||
      fail "$name has PETREL NOTES"
    # SYNOPSIS: the text between ".SH SYNOPSIS" and the next ".SH", troff
    # requests dropped, split into declarations at ";".
    mapfile -t protos < <(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$page" |
      grep -v '^\.' | tr '\n' ' ' | tr ';' '\n' |
      sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//; s/\( /(/g; s/ \)/)/g; s/\* /*/g' |
      grep '(' | sed 's/$/;/')
    bad=()
    for p in "${protos[@]}"; do
      grep -qxF -- "$p" "$decls" || bad+=("$p")
    done
    if [ ${#protos[@]} -gt 0 ] && [ ${#bad[@]} = 0 ]; then
      pass "$name: all ${#protos[@]} SYNOPSIS declarations are in the headers"
    else
      fail "$name: SYNOPSIS declarations not in the headers (${#protos[@]} read)" "${bad[@]}"
    fi
    # Every function named on the NAME line is declared in the SYNOPSIS; a
    # function-like macro or static inline function of the headers is shown
    # there on a request line (".B #define name(...)").
    mapfile -t names < <(sed -n '/^\.SH NAME/,/^\.SH /p' "$page" | grep -v '^\.' |
      sed 's/\\-.*//' | tr ',' '\n' | tr -d ' ' | grep '^coap_' | grep -vx "$base")
    missing=()
    for n in "${names[@]}"; do
      printf '%s\n' "${protos[@]}" | grep -qE "[ *]$n\(" && continue
      grep -qx "$n" "$macros" &&
        sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$page" | grep -qE "^\.B.*[ *]$n\(" && continue
      missing+=("$n")
    done
    # Names of NAME and SYNOPSIS, for the coverage check below.
    {
      printf '%s\n' "${names[@]}"
      printf '%s\n' "${protos[@]}" | grep -oE '[ *]coap_[A-Za-z0-9_]+\(' | tr -d ' *('
    } >>"$covered"
    [ ${#missing[@]} = 0 ] && pass "$name: every name in NAME has its SYNOPSIS line" ||
      fail "$name: names without a SYNOPSIS line" "${missing[@]}"
    # EXAMPLES: the first .nf/.fi block, unescaped, must compile.
    if grep -q '^\.SH EXAMPLES' "$page"; then
      {
        printf '#include <coap3/coap.h>\n#include <stdlib.h>\n#include <string.h>\n'
        sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$page" | sed -n '/^\.nf/,/^\.fi/p' |
          grep -v '^\.' | sed 's/\\-/-/g; s/\\(dq/"/g; s/\\e/\\/g'
      } >"$TMP/example.c"
      if "$cc" -std=gnu11 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-function \
        -Wno-unused-parameter -I"$src/include" "$TMP/example.c" 2>"$ERR"; then
        pass "$name: EXAMPLES compile"
      else
        fail "$name: EXAMPLES compile" "$(head -c 800 "$ERR")"
      fi
    fi
    ;;
  1)
    grep -q '^\.SH EXIT STATUS$' "$page" && pass "$name has EXIT STATUS" ||
      fail "$name has EXIT STATUS"
    ;;
  esac
done

# Every exported function has a page, or a reason in doc/man/uncovered.txt
# ("NAME reason..." a line; "#" starts a comment).
uncovered="$mandir/uncovered.txt"
exported=$(grep -oE '^\| `coap_[A-Za-z0-9_]+` \|' "$src/doc/functions.md" | tr -d '|` ' | sort -u)
sort -u "$covered" -o "$covered"
# Functions whose declaration has a comment right above it.
commented="$TMP/commented"
perl -0777 -ne 'while (/\*\/\s*(?:COAP_DEPRECATED\s+)?COAP_API\s+[^;{}]*?\b(coap_\w+)\s*\(/sg) {
    print "$1\n" }' "$src"/include/coap3/*.h | sort -u >"$commented"
bad=()
listed=$(grep -vE '^[[:space:]]*(#|$)' "$uncovered" 2>/dev/null | awk '{print $1}' | sort)
for n in $exported; do
  grep -qx "$n" "$covered" && continue
  line=$(grep -E "^$n([[:space:]]|$)" "$uncovered" 2>/dev/null | head -n1)
  if [ -z "$line" ]; then
    bad+=("$n: no page names it and doc/man/uncovered.txt does not list it")
  elif [ "$(awk '{print NF}' <<<"$line")" -lt 3 ]; then
    bad+=("$n: listed in doc/man/uncovered.txt without a reason")
  elif ! grep -qx "$n" "$commented"; then
    bad+=("$n: listed in doc/man/uncovered.txt, but its header has no comment above it")
  fi
done
for n in $listed; do
  grep -qx "$n" <<<"$exported" || bad+=("$n: in doc/man/uncovered.txt but not in doc/functions.md")
  grep -qx "$n" "$covered" && bad+=("$n: in doc/man/uncovered.txt but a page names it")
done
dups=$(uniq -d <<<"$listed")
[ -n "$dups" ] && bad+=("listed twice in doc/man/uncovered.txt: $dups")
n_exported=$(wc -w <<<"$exported")
n_listed=$(wc -w <<<"$listed")
if [ "$n_exported" -gt 300 ] && [ ${#bad[@]} = 0 ]; then
  pass "each of the $n_exported exported functions has a section 3 page ($n_listed listed without one, each with a reason)"
else
  fail "each of the $n_exported exported functions has a section 3 page or a reason" "${bad[@]}"
fi

# Each program's options, as its usage text lists them, are in its page.
for prog in "$@"; do
  name=$(basename "$prog")
  page="$mandir/$name.1"
  "$prog" -h >"$OUT" 2>&1
  mapfile -t opts < <(grep -oE '^ +-[A-Za-z]' "$OUT" | tr -d ' -' | sort -u)
  missing=()
  for o in "${opts[@]}"; do
    grep -qE "^\.(B|BI|BR) \\\\-$o( |\$)" "$page" || missing+=("-$o")
  done
  if [ ${#opts[@]} -gt 0 ] && [ ${#missing[@]} = 0 ]; then
    pass "$name.1 documents all ${#opts[@]} options of '$name -h'"
  else
    fail "$name.1 documents the options of '$name -h' (${#opts[@]} found)" "missing: ${missing[*]}"
  fi
done
finish
