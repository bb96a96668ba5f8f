#!/usr/bin/env bash
# The shared libraries carry libcoap's symbol version node VER_3 for every
# libcoap function and PETREL_0.1 (inheriting VER_3) for Petrel's own
# additions; nothing is exported unversioned or outside coap_*.
# usage: version_nodes.sh LIB.so...
set -u
failed=0
fail() {
  echo "FAIL - $*"
  failed=1
}
for lib in "$@"; do
  name=$(basename "$lib")
  defs=$(objdump -p "$lib" | sed -n '/^Version definitions:/,/^$/p')
  if grep -qE '^[0-9]+ 0x00 0x[0-9a-f]+ VER_3[[:space:]]*$' <<<"$defs"; then
    echo "ok   - $name defines the version node VER_3"
  else
    fail "$name does not define VER_3:" "$defs"
  fi
  if grep -A1 -E ' PETREL_0\.1[[:space:]]*$' <<<"$defs" | grep -qE '^[[:space:]]+VER_3[[:space:]]*$'; then
    echo "ok   - $name defines PETREL_0.1, inheriting VER_3"
  else
    fail "$name does not define PETREL_0.1 on top of VER_3:" "$defs"
  fi
  # nm -D --defined-only prints each exported symbol as NAME@@NODE.
  mapfile -t syms < <(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}')
  bad=()
  n3=0
  np=0
  for s in "${syms[@]}"; do
    sym=${s%%@*}
    node=${s#*@@}
    [ "$node" = "$s" ] && node=none
    case "$sym" in
    coap_petrel_* | coap_register_handler_seed_order) want=PETREL_0.1 ;;
    coap_*) want=VER_3 ;;
    *) want="not exported" ;;
    esac
    if [ "$node" = "$want" ]; then
      [ "$want" = VER_3 ] && n3=$((n3 + 1)) || np=$((np + 1))
    else
      bad+=("$sym is in $node, should be $want")
    fi
  done
  if [ ${#bad[@]} = 0 ] && [ "$n3" -gt 0 ] && [ "$np" -gt 0 ]; then
    echo "ok   - $name: $n3 symbols in VER_3, $np in PETREL_0.1, none elsewhere"
  else
    fail "$name: symbols in the wrong node ($n3 VER_3, $np PETREL_0.1):"
    printf '       %s\n' "${bad[@]}"
  fi
done
exit $failed
