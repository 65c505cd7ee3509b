#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# KMS replicas on one PostgreSQL store (a throwaway server, tests/store/pg_server.sh): replica A
# makes the domain key; B, started with --peer A, gets it over mutual RA-TLS and seals it; an
# app enrolled on A uses either replica (CreateKey on A, Encrypt on B, Decrypt on A; DisableKey
# on B is seen by A); C, without --peer, is refused on a store that already has a domain key;
# D, whose measurement A's --peer-policy does not list, gets no key; E, whose --peer-policy does
# not list A, takes none; B restarts from its sealed key without --peer; two replicas started
# together on an empty store do not both make a domain key. Skips (77) when the PostgreSQL 15
# server binaries are absent, except under CI=true where that fails.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
    why="PostgreSQL 15 server binaries absent (apt-get install postgresql)"
    if [ "${CI:-}" = true ]; then
        echo "FAIL cli/test_kms_replicas: $why, and CI=true forbids skipping for it" >&2
        exit 1
    fi
    echo "skipped: $why"
    exit 77
fi

# the server's directory must be reachable by the postgres user when run as root: not under $T
pg=$(mktemp -d /tmp/ccz-pg.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    bash "$here/../store/pg_server.sh" stop "$pg" || true
    rm -rf "$pg" "$T"
}
trap cleanup EXIT
uri=$(bash "$here/../store/pg_server.sh" start "$pg") || { echo "FAIL: PostgreSQL did not start"; exit 1; }

P=$T/plat
"$CCZ" sim init --dir "$P" >/dev/null || { echo "FAIL: sim init"; exit 1; }
M=$("$CCZ" sim measure "$CCZ")
echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$M\"}]}" > "$T/peers.json"
echo '{"allow_sim": true}' > "$T/policy.json"
echo '{"allow_sim": true, "sgx": [{"mr_enclave": "'"$(printf '%064d' 0)"'"}]}' > "$T/nobody.json"
V=(--sim-dir "$P" --policy "$T/policy.json")

# serve NAME BINARY ARGS...: a replica in the background with data dir $T/NAME, log $T/NAME.log;
# waits until it serves (sets PORT) or exits
serve() {
    local name=$1 bin=$2; shift 2
    : > "$T/$name.log" # not the last replica's of that name: its port is not this one's
    "$bin" kms serve --listen 127.0.0.1:0 --tee sim --sim-dir "$P" --policy "$T/policy.json" \
        --data-dir "$T/$name" "$@" 2> "$T/$name.log" &
    local pid=$!
    pids+=("$pid")
    eval "pid_$name=$pid"
    PORT=
    for _ in $(seq 1 150); do
        PORT=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$T/$name.log")
        [ -n "$PORT" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "replica $name did not start: $(cat "$T/$name.log")"
}
# replica_refused NAME BINARY MESSAGE ARGS...: a replica that must exit 2 before serving, saying MESSAGE
replica_refused() {
    local name=$1 bin=$2 msg=$3; shift 3
    run 2 timeout 30 "$bin" kms serve --listen 127.0.0.1:0 --tee sim --sim-dir "$P" \
        --policy "$T/policy.json" --data-dir "$T/$name" "$@"
    contains "$err" "$msg"
    case "$err" in *"serving on port"*) fail "replica $name served";; esac
    [ ! -e "$T/$name/domain-key.sealed" ] || fail "replica $name kept a sealed domain key"
}
# call PORT ACTION PAYLOAD: as the app
call() {
    out=$("$CCZ" kms call "127.0.0.1:$1" "$2" --appid "$APPID" --apikey "$APIKEY" "${V[@]}" \
        --payload "$3" 2>"$T/stderr"); code=$?
    err=$(cat "$T/stderr")
}

# ---- A makes the domain key; B gets it from A
serve A "$CCZ" --db "$uri" --peer-policy "$T/peers.json"
PA=$PORT
contains "$(cat "$T/A.log")" "kms: made a new domain key, sealed to mrsigner in $T/A/domain-key.sealed"
serve B "$CCZ" --db "$uri" --peer "127.0.0.1:$PA" --peer-policy "$T/peers.json"
PB=$PORT
contains "$(cat "$T/B.log")" "kms: obtained the domain key from 127.0.0.1:$PA and sealed it"
contains "$(cat "$T/A.log")" "kms: gave the domain key to a sim replica accepted by --peer-policy"
[ -s "$T/B/domain-key.sealed" ] || fail "B has no domain-key.sealed"
case "$(cat "$T/B.log")" in *"made a new domain key"*) fail "B made its own domain key";; esac

# ---- an app enrolled on A (A's admin token) uses both
run 0 "$CCZ" kms enroll "127.0.0.1:$PA" --admin-token "$(cat "$T/A/admin-token")" "${V[@]}"
APPID=$(printf '%s' "$out" | jq -r .appid) APIKEY=$(printf '%s' "$out" | jq -r .apikey)
call "$PA" CreateKey '{"keyspec": "EH_AES_GCM_256", "origin": "EH_INTERNAL_KEY", "keyusage": "EH_KEYUSAGE_ENCRYPT_DECRYPT"}'
[ "$code" = 0 ] || fail "CreateKey on A exited $code: $out $err"
K=$(printf '%s' "$out" | jq -r .result.keyid)
PT=$(printf 'replicated secret' | base64)
AAD=$(printf v1 | base64)
call "$PB" Encrypt "{\"keyid\": \"$K\", \"plaintext\": \"$PT\", \"aad\": \"$AAD\"}"
[ "$code" = 0 ] || fail "Encrypt on B exited $code: $out $err"
CT=$(printf '%s' "$out" | jq -r .result.ciphertext)
call "$PA" Decrypt "{\"keyid\": \"$K\", \"ciphertext\": \"$CT\", \"aad\": \"$AAD\"}"
[ "$code" = 0 ] || fail "Decrypt on A exited $code: $out $err"
jqis .result.plaintext "$PT"
call "$PB" DisableKey "{\"keyid\": \"$K\"}"
[ "$code" = 0 ] || fail "DisableKey on B exited $code: $out $err"
call "$PA" Encrypt "{\"keyid\": \"$K\", \"plaintext\": \"$PT\"}"
[ "$code" = 1 ] || fail "Encrypt on A of a key disabled on B exited $code: $out"
jqis .code 400
jqis .message "keyid is disabled"
call "$PA" EnableKey "{\"keyid\": \"$K\"}"
[ "$code" = 0 ] || fail "EnableKey on A exited $code: $out $err"

# ---- C, without --peer, on the store that has a domain key: refused
replica_refused C "$CCZ" "ccz: kms serve: the key store already has keys under a domain key this replica does not hold: start it with --peer HOST:PORT of a replica that has it" \
    --db "$uri" --peer-policy "$T/peers.json"

# ---- D: other code (one more byte, another sim measurement) that A's --peer-policy does not
# list; D itself would accept A
cp "$CCZ" "$T/ccz-other"
printf x >> "$T/ccz-other"
replica_refused D "$T/ccz-other" "ccz: kms serve: the peer 127.0.0.1:$PA gave no domain key (HTTP 403: the peer's evidence does not satisfy this replica's --peer-policy)" \
    --db "$uri" --peer "127.0.0.1:$PA" --peer-policy "$T/policy.json"
contains "$(cat "$T/A.log")" "kms: a peer asked for the domain key; its evidence is not on the --peer-policy allow-list"

# ---- E: its own --peer-policy does not list A: it takes nothing from A
replica_refused E "$CCZ" "ccz: kms serve: connect: the peer was rejected at policy: measurement_not_accepted: sgx[0]: mr_enclave is ${M:0:12}..., not 000000000000..." \
    --db "$uri" --peer "127.0.0.1:$PA" --peer-policy "$T/nobody.json"

# ---- B restarts from its sealed key, without --peer
kill -TERM "$pid_B"
wait "$pid_B" 2>/dev/null
[ $? = 0 ] || fail "B did not exit 0 after SIGTERM"
serve B "$CCZ" --db "$uri"
PB=$PORT
case "$(cat "$T/B.log")" in *"domain key"*) fail "B's restart did not just unseal: $(cat "$T/B.log")";; esac
call "$PB" Decrypt "{\"keyid\": \"$K\", \"ciphertext\": \"$CT\", \"aad\": \"$AAD\"}"
[ "$code" = 0 ] || fail "Decrypt on the restarted B exited $code: $out $err"
jqis .result.plaintext "$PT"

# ---- two replicas started together on an empty store: exactly one makes the domain key
/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h "$pg" -p "$(cat "$pg/port")" \
    -U ccz_test -d postgres -c "CREATE DATABASE ccz_race" || fail "CREATE DATABASE ccz_race"
race=${uri%%\?*}
race="${race%/*}/ccz_race?${uri#*\?}"
for n in R1 R2; do
    "$CCZ" kms serve --listen 127.0.0.1:0 --tee sim --sim-dir "$P" \
        --data-dir "$T/$n" --db "$race" 2> "$T/$n.log" &
    pids+=("$!")
done
for _ in $(seq 1 150); do
    served=$(grep -l "serving on port" "$T/R1.log" "$T/R2.log" | wc -l)
    refusals=$(grep -l "the key store already has keys under a domain key" "$T/R1.log" "$T/R2.log" | wc -l)
    [ $((served + refusals)) -ge 2 ] && break
    sleep 0.1
done
[ "$served" = 1 ] && [ "$refusals" = 1 ] ||
    fail "of two replicas started together on an empty store, $served served and $refusals were refused: $(cat "$T/R1.log" "$T/R2.log")"
sealed=$(ls "$T"/R1/domain-key.sealed "$T"/R2/domain-key.sealed 2>/dev/null | wc -l)
[ "$sealed" = 1 ] || fail "$sealed of the two racing replicas kept a sealed domain key"

finish
