#!/usr/bin/env bash
# Debian's libcoap programs (coap-client-notls, coap-server-notls, built
# against libcoap 4.3.1) run on Petrel's library: every libcoap function they
# import is defined at VER_3, the loader prints no "no version information
# available", the process really maps Petrel's library, and a GET between
# the two works.
# usage: debian_binaries.sh DIR   (DIR holds Petrel's libcoap-3-notls.so.3,
#                                  built without sanitizers)
. "$(dirname "$0")/../interop/lib.sh"
LIBDIR=$(cd "${1:?usage: $0 DIR-with-libcoap-3-notls.so.3}" && pwd)
LIB="$LIBDIR/libcoap-3-notls.so.3"
need coap-client-notls
need coap-server-notls
[ -e "$LIB" ] || { echo "FAIL: $LIB is missing"; exit 1; }
CLIENT_BIN=$(command -v coap-client-notls)
SERVER_BIN=$(command -v coap-server-notls)

# 1. The imports: each VER_3 function Debian's programs need is ours.
defined="$TMP/defined"
nm -D --defined-only "$LIB" | awk '{print $3}' | sort >"$defined"
for bin in "$CLIENT_BIN" "$SERVER_BIN"; do
  missing=$(nm -D --undefined-only "$bin" | awk '$2 ~ /@VER_3$/ {sub(/@VER_3$/, "@@VER_3", $2); print $2}' |
    sort | comm -23 - "$defined")
  total=$(nm -D --undefined-only "$bin" | grep -c '@VER_3$')
  if [ -z "$missing" ]; then
    pass "$(basename "$bin"): all $total libcoap imports are defined at VER_3"
  else
    fail "$(basename "$bin"): imports that Petrel does not define at VER_3:" $missing
  fi
done

# "${ON_PETREL[@]}" CMD...: CMD with Petrel's library first on the search
# path (env execs CMD, so $! of a background one is CMD's pid).
ON_PETREL=(env "LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
no_version_warning() { # NAME FILE
  if grep -q "no version information available" "$2"; then
    fail "$1: the loader warns" "$(grep -m3 "no version information" "$2")"
  else
    pass "$1: no \"no version information available\" from the loader"
  fi
}

# 2. The server: coap-server-notls cannot pick a free port itself, so try
# random ones below the ephemeral range until one answers.
SLOG="$TMP/server.err"
PORT=
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 12000))
  "${ON_PETREL[@]}" "$SERVER_BIN" -A ::1 -p "$port" >/dev/null 2>"$SLOG" &
  pid=$!
  # asked until it answers, for as long as it runs (20 s at most)
  ready=0
  end=$((SECONDS + 20))
  while [ $ready = 0 ] && kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
    timeout 5 "${ON_PETREL[@]}" "$CLIENT_BIN" -B 2 "coap://[::1]:$port/" 2>/dev/null |
      grep -q libcoap && ready=1 || sleep 0.1
  done
  if [ $ready = 1 ]; then
    BG_PIDS+=("$pid")
    PORT=$port
    break
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
if [ -z "$PORT" ]; then
  fail "coap-server-notls starts on Petrel's library" "$(head -c 400 "$SLOG")"
  finish
fi
echo "started coap-server-notls (pid $pid) on port $PORT with LD_LIBRARY_PATH=$LIBDIR"
maps=$(cat "/proc/$pid/maps")
if grep -qF "$LIBDIR/libcoap-3-notls.so" <<<"$maps"; then
  pass "coap-server-notls maps Petrel's $LIBDIR/libcoap-3-notls.so.3"
else
  fail "coap-server-notls maps Petrel's library" \
    "$(grep -F libcoap <<<"$maps" | awk '{print $6}' | sort -u)"
fi
if grep -E '/libcoap-3-[a-z]+\.so' <<<"$maps" | grep -vqF "$LIBDIR/"; then
  fail "coap-server-notls maps no other libcoap" \
    "$(grep -F libcoap <<<"$maps" | awk '{print $6}' | sort -u)"
else
  pass "coap-server-notls maps no other libcoap"
fi

# 3. The client, with the loader saying which library it initialises.
BASE="coap://[::1]:$PORT"
LAST_CMD="LD_DEBUG=libs coap-client-notls -B 5 $BASE/"
timeout 15 "${ON_PETREL[@]}" LD_DEBUG=libs "$CLIENT_BIN" -B 5 "$BASE/" >"$OUT" 2>"$ERR"
RC=$?
if [ $RC = 0 ] && grep -q "test server made with libcoap" "$OUT"; then
  pass "GET / from coap-client-notls to coap-server-notls, both on Petrel"
else
  fail "GET / from coap-client-notls to coap-server-notls, both on Petrel" \
    "$(show | tr '\n' '|')"
fi
if grep -qE "calling init: $LIBDIR/libcoap-3-notls\.so\.3\$" "$ERR"; then
  pass "coap-client-notls initialises Petrel's library (LD_DEBUG=libs)"
else
  fail "coap-client-notls initialises Petrel's library (LD_DEBUG=libs)" \
    "$(grep 'calling init' "$ERR" | head -n 8)"
fi
no_version_warning coap-client-notls "$ERR"

CLIENT=("${ON_PETREL[@]}" "$CLIENT_BIN" -B 5)
expect "GET /time is the time" out-re '^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}' \
  "${CLIENT[@]}" "$BASE/time"
no_version_warning "coap-client-notls GET /time" "$ERR"
expect "PUT /example_data" rc 0 "${CLIENT[@]}" -m put -e "on petrel" "$BASE/example_data"
expect "GET /example_data reads it back" out-eq "on petrel" "${CLIENT[@]}" "$BASE/example_data"
expect "GET /nonexistent is 4.04" err-has "4.04" "${CLIENT[@]}" "$BASE/nonexistent"

kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
no_version_warning coap-server-notls "$SLOG"
finish
