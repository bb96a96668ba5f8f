#!/usr/bin/env bash
# The manual pages in doc/man: each renders with `man --warnings` and
# nothing on stderr; each section 3 page has a PETREL NOTES section, its
# SYNOPSIS declares exactly what Petrel's headers declare, and its EXAMPLES
# compile; each section 1 page has an EXIT STATUS section and documents
# every option its program's usage text lists.
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
  coap_encryption.3 coap_tls_library.3 coap_keepalive.3 coap_logging.3; do
  [ -f "$mandir/$want" ] && pass "doc/man/$want exists" || fail "doc/man/$want exists"
done

# Every declaration in the public headers, one a line, normalised.
decls="$TMP/decls"
perl -0777 -ne '
  s{/\*.*?\*/}{}sg; s{//[^\n]*}{}g;
  while (/COAP_API\s+([^;{}]*?\bcoap_\w+\s*\([^;{}]*\))\s*;/sg) {
    my $d = $1; $d =~ s/\s+/ /g; $d =~ s/\( /(/g; $d =~ s/ \)/)/g; print "$d;\n";
  }' "$src"/include/coap3/*.h | sort -u >"$decls"

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
      sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//; s/\( /(/g; s/ \)/)/g' |
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
    # Every function named on the NAME line is declared in the SYNOPSIS.
    mapfile -t names < <(sed -n '/^\.SH NAME/,/^\.SH /p' "$page" | grep -v '^\.' |
      sed 's/\\-.*//' | tr ',' '\n' | tr -d ' ' | grep '^coap_' | grep -vx "$base")
    missing=()
    for n in "${names[@]}"; do
      printf '%s\n' "${protos[@]}" | grep -qE "[ *]$n\(" || missing+=("$n")
    done
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
