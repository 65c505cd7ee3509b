#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The encrypted database query over RA-gRPC on the simulated TEE: 'ccz he query serve' holds
# the HE toolkit's us_state_capitals.csv (read in place from the shared data) and 'ccz he query
# lookup' asks for Louisiana, North Dakota (a key cut to 8 bytes), Wyoming and Oregon, and for
# a key that is not there (an empty line), each printing only the value; the noise budget and
# timings go to standard error; the server's log holds neither keys nor values; usage errors,
# a database the server refuses, a server the client's policy rejects, --timeout and --deadline
# against a server that never speaks; --max-pending refusing one of two lookups at once;
# SIGINT stops it cleanly. Sanitizer builds look up in a
# one-entry database (each lookup in the fifty states is thousands of products): the optimized
# build runs the states.
. "$(dirname "$0")/lib.sh"
SHARED_DATA=${CCZ_DATA:-$(dirname "${CCZ_VECTORS:-${CCZ_SOURCE_DIR:-$(dirname "$0")/../..}/../shared/vectors}")/data}
DB=$SHARED_DATA/he-toolkit/us_state_capitals.csv
if [ "${CCZ_SANITIZE:-}" = ON ]; then
    echo "sanitizer build: a one-entry database (the fifty states run in the optimized build)"
    printf 'Oregon,Salem\n' > "$T/one.csv"
    DB=$T/one.csv
    KEYS=("Oregon=Salem" "Atlantis=")
elif [ ! -f "$DB" ]; then
    missing "no $DB (set CCZ_DATA to the shared data folder)"
else
    KEYS=("Louisiana=Baton Rouge" "North Dakota=Bismarck" "Wyoming=Cheyenne" "Oregon=Salem"
          "Atlantis=")
fi
sim_endpoint
echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$(printf '%064d' 0)\"}]}" > "$T/reject.json"
EP=(--tee sim --sim-dir "$P" --policy "$T/accept.json")

# usage errors and a database the server refuses: exit 2, before any work
run 2 "$CCZ" he query lookup 127.0.0.1:1 "${EP[@]}"
contains "$err" "usage: ccz he query lookup HOST:PORT --key KEY"
run 2 "$CCZ" he query lookup 127.0.0.1:1 --key Oregon --algorithm quick "${EP[@]}"
contains "$err" "--algorithm: unknown algorithm 'quick' (faithful, fast or packed)"
run 2 "$CCZ" he query lookup 127.0.0.1:1 --key "" "${EP[@]}"
contains "$err" "--key: the key is empty"
run 2 timeout 30 "$CCZ" he query serve --listen 127.0.0.1:0 "${EP[@]}"
contains "$err" "usage: ccz he query serve --db FILE.csv --listen ADDR"
run 2 timeout 30 "$CCZ" he query serve --db "$DB" --listen 127.0.0.1:0 --key x "${EP[@]}"
contains "$err" "'--key' does nothing for 'he query serve'"
contains "$err" "(see 'ccz he query --help')"
# a key of exactly 8 bytes is not cut, one of 9 is (said before connecting)
run 1 "$CCZ" he query lookup 127.0.0.1:1 --key Virginia --mode server
contains "$err" "UNAVAILABLE (14): cannot connect to 127.0.0.1:1"
case "$err" in *"compared on their first"*) fail "an 8-byte key was said to be cut: $err";; esac
run 1 "$CCZ" he query lookup 127.0.0.1:1 --key Virginia1 --mode server
contains "$err" "keys are compared on their first 8 bytes: looking up 'Virginia'"
printf 'Massachusetts,Boston\nMassachuXYZ,Nowhere\n' > "$T/dup.csv"
run 2 timeout 30 "$CCZ" he query serve --db "$T/dup.csv" --listen 127.0.0.1:0 "${EP[@]}"
contains "$err" "the key \"Massachu\" is there twice"

# --timeout bounds connecting and the handshake: a server that accepts and never speaks
/usr/bin/python3 "$(dirname "$0")/mute_server.py" "$T/silentport" &
SILENT=$!
trap 'kill $SILENT 2>/dev/null; rm -rf "$T"' EXIT
await "$T/silentport"
run 1 timeout 30 "$CCZ" he query lookup 127.0.0.1:$(cat "$T/silentport") --key Oregon --mode server \
    --timeout 300
contains "$err" "UNAVAILABLE (14): connect to 127.0.0.1:$(cat "$T/silentport"): no TLS handshake in time"
contains "$err" "timed out after 300 ms"
# --deadline bounds the whole lookup, connecting included (DEADLINE_EXCEEDED, not UNAVAILABLE)
run 1 timeout 30 "$CCZ" he query lookup 127.0.0.1:$(cat "$T/silentport") --key Oregon --mode server \
    --deadline 400
contains "$err" "ccz: he query lookup: DEADLINE_EXCEEDED (4): connect to 127.0.0.1:$(cat "$T/silentport")"
contains "$err" "timed out after 400 ms"
kill $SILENT 2>/dev/null; wait $SILENT 2>/dev/null

SERVER=
"$CCZ" he query serve --db "$DB" --listen 127.0.0.1:0 --max-pending 1 "${EP[@]}" \
    2> "$T/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
port_from "$T/server.log" 60 || { fail "the server did not start: $(cat "$T/server.log")"; finish; }
contains "$(cat "$T/server.log")" "[SIMULATED TEE]"
contains "$(cat "$T/server.log")" "($(wc -l < "$DB") entries; algorithms faithful, fast, packed; mode two-way)"

for kv in "${KEYS[@]}"; do
    key=${kv%%=*} want=${kv#*=}
    code=0
    "$CCZ" he query lookup 127.0.0.1:$PORT --key "$key" "${EP[@]}" > "$T/out" 2> "$T/err" ||
        code=$?
    err=$(cat "$T/err")
    [ "$code" = 0 ] || fail "'$key': exit $code: $err"
    # only the value and its newline on standard output (an empty line when absent)
    [ "$(cat "$T/out")" = "$want" ] || fail "'$key' gave '$(cat "$T/out")', expected '$want'"
    [ "$(wc -l < "$T/out")" = 1 ] || fail "'$key': $(wc -l < "$T/out") lines on standard output"
    contains "$err" "noise budget"
    contains "$err" "bits left"
    if [ ${#key} -gt 8 ]; then
        contains "$err" "keys are compared on their first 8 bytes: looking up '${key:0:8}'"
    fi
done
# --algorithm reaches the lookup: packed gives the same value, and the client names it
run 0 "$CCZ" he query lookup 127.0.0.1:$PORT --key Oregon --algorithm packed "${EP[@]}"
[ "$out" = Salem ] || fail "--algorithm packed gave '$out'"
contains "$err" "ccz he query: packed, noise budget"
# a value that cannot be written is a failure (exit 2), not a lookup that printed nothing
code=0
"$CCZ" he query lookup 127.0.0.1:$PORT --key Oregon "${EP[@]}" > /dev/full 2> "$T/err" || code=$?
[ "$code" = 2 ] || fail "a lookup writing to a full device exited $code: $(cat "$T/err")"
contains "$(cat "$T/err")" "ccz: he query lookup: cannot write the value"

# --max-pending 1: two lookups at once (each search takes seconds in the fifty states): one is
# answered, the other refused at once, RESOURCE_EXHAUSTED
if [ "${CCZ_SANITIZE:-}" = ON ]; then
    echo "sanitizer build: --max-pending is checked in the optimized build (a one-entry search is over at once)"
else
    pids=()
    for i in 1 2; do
        "$CCZ" he query lookup 127.0.0.1:$PORT --key Oregon "${EP[@]}" > "$T/pair$i.out" \
            2> "$T/pair$i.err" &
        pids+=($!)
    done
    codes=
    for pid in "${pids[@]}"; do
        code=0
        wait "$pid" || code=$?
        codes="$codes $code"
    done
    case "$codes" in
    " 0 1") answered=1 refused=2 ;;
    " 1 0") answered=2 refused=1 ;;
    *) answered= ; fail "two lookups at once under --max-pending 1 exited$codes" ;;
    esac
    if [ -n "$answered" ]; then
        [ "$(cat "$T/pair$answered.out")" = Salem ] ||
            fail "the answered lookup gave '$(cat "$T/pair$answered.out")'"
        contains "$(cat "$T/pair$refused.err")" "RESOURCE_EXHAUSTED (8): busy: 1 query is waiting or running"
    fi
fi

# a client whose policy does not accept the server: no lookup
run 1 "$CCZ" he query lookup 127.0.0.1:$PORT --key Oregon --tee sim --sim-dir "$P" \
    --policy "$T/reject.json"
contains "$err" "UNAVAILABLE"

kill -INT $SERVER
code=0; wait $SERVER || code=$?
SERVER=
[ "$code" = 0 ] || fail "the server exited $code after SIGINT: $(cat "$T/server.log")"
log=$(cat "$T/server.log")
contains "$log" "ccz he query: SIGINT: draining the calls in flight"
contains "$log" "fast query answered"
contains "$log" "packed query answered"
contains "$log" "stopped"
for kv in "${KEYS[@]}"; do
    key=${kv%%=*} want=${kv#*=}
    case "$log" in *"$key"*) fail "the server logged the key '$key'";; esac
    [ -z "$want" ] || case "$log" in *"$want"*) fail "the server logged the value '$want'";; esac
done
finish
