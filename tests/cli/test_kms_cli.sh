#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The KMS end to end through 'ccz kms serve --tee sim': Enroll refused without attestation or
# the admin token (403 both in HTTP and in code), granted with the admin token and to an attested
# client its policy accepts, refused to one it does not; the independent eHSM client
# (tests/svc/ehsm_client.py run-all) against an ordinary TLS certificate; the caches keyed by a
# key id's hash, DeleteAllKey (tests/cli/kms_probe.py caches); RotateKey and
# ReEncrypt; a restart keeping keys; a data directory moved to another (sim) platform refusing
# to start; the timestamp window's exact edges (a KMS with a fixed clock, tests/cli/fake_clock.c);
# replicas giving the domain key only to a peer their --peer-policy accepts; a data directory
# with a damaged or another store's sealed domain key refused; a store failing its reads and
# writes answered as the server's failure (500), never the client's; a full replay window (503); a
# flood of hostile connections while an app's calls all succeed; the metrics.
. "$(dirname "$0")/lib.sh"
SVC="$(dirname "$0")/../svc"
PROBE="$(dirname "$0")/kms_probe.py"
P=$T/plat
"$CCZ" sim init --dir "$P" > /dev/null
M2=$(printf 'cd%.0s' $(seq 32))
echo '{"allow_sim": true}' > "$T/policy.json"
echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$M2\"}]}" > "$T/only-m2.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tls.key" \
    -out "$T/tls.crt" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
CA=$T/tls.crt

# start NAME DATA_DIR ARGS...: a KMS in the background on a free port: ${PID[NAME]}, ${PORT[NAME]}
declare -A PID PORT
PRE=() # a command to start the KMS through (env with LD_PRELOAD)
start() {
    launch "$@"
    listening "$1"
}
launch() { # NAME DATA_DIR ARGS...: the KMS started, not waited for
    local name=$1 data=$2; shift 2
    : > "$T/$name.log" # not the last server's of that name: its port is not this one's
    "${PRE[@]}" "$CCZ" kms serve --listen 127.0.0.1:0 --data-dir "$data" --tee sim "$@" \
        2> "$T/$name.log" &
    PID[$name]=$!
    PORT[$name]=
}
listening() { # NAME: waits for a launched KMS's port; 1 when it exited first
    local name=$1
    for _ in $(seq 1200); do
        PORT[$name]=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$T/$name.log" 2>/dev/null)
        [ -n "${PORT[$name]}" ] && return 0
        kill -0 "${PID[$name]}" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
started() { # NAME ARGS...: start, and fail the test when it does not
    local name=$1
    start "$@" || { fail "kms $name did not start: $(cat "$T/$name.log")"; finish; }
}
stop() {
    kill -TERM "${PID[$1]}" 2>/dev/null
    wait "${PID[$1]}"
    local code=$?
    [ "$code" = 0 ] || fail "kms $1 exited $code after SIGTERM: $(tail -5 "$T/$1.log")"
}
# refused WHY NAME DATA_DIR ARGS...: start, expecting the KMS to exit before it serves (WHY is
# the failure when it serves); its exit status in $refused_code
refused() {
    local why=$1 name=$2; shift 2
    refused_code=0
    if start "$name" "$@"; then
        fail "$why"
        stop "$name"
    else
        wait "${PID[$name]}"
        refused_code=$?
    fi
    unset "PID[$name]"
}
cleanup() {
    for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null; done
    wait
    rm -rf "$T"
}
trap cleanup EXIT

# the main KMS: an ordinary TLS certificate, for eHSM's clients, and PKCS#1 v1.5 decryption on
# as eHSM has it (the client's run-all decrypts PKCS#1 v1.5; the default refusal is checked below)
started main "$T/data" --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" \
    --tls-key "$T/tls.key" --pkcs1-decrypt
A=127.0.0.1:${PORT[main]}
URL=https://$A
ADMIN=$(cat "$T/data/admin-token")
# one KMS process per SQLite file: a second one on the same data directory is refused
refused "a second KMS started on a SQLite file another one serves" second "$T/data" \
    --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" --tls-key "$T/tls.key"
contains "$(cat "$T/second.log")" "another ccz kms serves $T/data/kms.db (one process per SQLite file"

# Enroll: nobody without the admin token or attestation (HTTP 403 and code 403)
run 0 curl -sk -o "$T/body" -w '%{http_code}' "$URL/ehsm?Action=Enroll"
[ "$out" = 403 ] || fail "unauthenticated Enroll: HTTP $out, expected 403"
out=$(cat "$T/body")
jqis .code 403
jqis .message "Enroll needs an attested client (an RA-TLS client certificate the KMS's policy accepts) or the admin token (Authorization: Bearer TOKEN)"
run 0 curl -sk -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer ${ADMIN}x" \
    "$URL/ehsm?Action=Enroll"
[ "$out" = 403 ] || fail "Enroll with a wrong admin token: HTTP $out, expected 403"
run 1 "$CCZ" kms enroll "$A" --admin-token "${ADMIN%?}" --cacert "$CA"
run 0 "$CCZ" kms enroll "$A" --admin-token "$ADMIN" --cacert "$CA"
APPID=$(printf '%s' "$out" | jq -r .appid) APIKEY=$(printf '%s' "$out" | jq -r .apikey)
run 0 "$CCZ" kms enroll "$A" --admin-token "$ADMIN" --cacert "$CA"
APPID2=$(printf '%s' "$out" | jq -r .appid) APIKEY2=$(printf '%s' "$out" | jq -r .apikey)
[ ${#APPID} = 36 ] && [ ${#APIKEY} = 32 ] && [ "$APPID" != "$APPID2" ] ||
    fail "enroll printed appid '$APPID' apikey '$APIKEY'"

# the independent client, every action and refusal
run 0 /usr/bin/python3 "$SVC/ehsm_client.py" "$URL" --cacert "$CA" --appid "$APPID" \
    --apikey "$APIKEY" --appid2 "$APPID2" --apikey2 "$APIKEY2" run-all
[ "$code" = 0 ] || printf '%s\n' "$out" | grep -v '^ok' | head -20 >&2
# ccz's own refusals, each answer exact (tests/cli/kms_probe.py refusals)
run 0 /usr/bin/python3 "$PROBE" refusals "$URL" "$CA" "$APPID" "$APIKEY"
[ "$code" = 0 ] || printf '%s\n' "$out" | grep -v '^ok' | head -20 >&2
# the caches keyed by a key id's hash, quote policies, DeleteAllKey (tests/cli/kms_probe.py caches)
run 0 /usr/bin/python3 "$PROBE" caches "$URL" "$CA" "$APPID" "$APIKEY" "$APPID2" "$APIKEY2"
[ "$code" = 0 ] || printf '%s\n' "$out" | grep -v '^ok' | head -20 >&2
# a TD's real quote is no SGX quote: VerifyQuote names it, never vouching for zero measurements
TDQ=${CCZ_VECTORS:-$CCZ_SOURCE_DIR/../shared/vectors}/Phala-Network_dcap-qvl/sample/tdx_quote
if [ -f "$TDQ" ]; then
    run 0 /usr/bin/python3 "$PROBE" at "$URL" "$CA" "$APPID" "$APIKEY" "$(date +%s%3N)" VerifyQuote \
        "{\"quote\":\"$(base64 -w0 < "$TDQ")\",\"nonce\":\"bm9uY2U=\"}" 400 \
        "quote is tdx evidence: VerifyQuote appraises SGX quotes."
else
    echo "no vectors at $TDQ: VerifyQuote of a TD quote is not checked"
fi

call() { # ACTION PAYLOAD: ccz kms call as the first app; the answer in $out
    run "${want:-0}" "$CCZ" kms call "$A" "$1" --appid "$APPID" --apikey "$APIKEY" \
        --cacert "$CA" --payload "$2"
}
b64() { printf '%s' "$1" | base64 -w0; }

# RotateKey: old ciphertexts still decrypt, ReEncrypt moves one to the newest version
call CreateKey '{"keyspec":"EH_AES_GCM_256","origin":"EH_INTERNAL_KEY","keyusage":"EH_KEYUSAGE_ENCRYPT_DECRYPT"}'
KEY=$(printf '%s' "$out" | jq -r .result.keyid)
call Encrypt "{\"keyid\":\"$KEY\",\"plaintext\":\"$(b64 'before rotation')\",\"aad\":\"$(b64 v1)\"}"
CT1=$(printf '%s' "$out" | jq -r .result.ciphertext)
call RotateKey "{\"keyid\":\"$KEY\"}"
jqis .result.version 2
jqis .result.keyid "$KEY"
call Decrypt "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT1\",\"aad\":\"$(b64 v1)\"}"
jqis .result.plaintext "$(b64 'before rotation')"
want=1 call Decrypt "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT1\",\"aad\":\"$(b64 v2)\"}"
jqis .code 400
call ReEncrypt "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT1\",\"aad\":\"$(b64 v1)\"}"
jqis .result.from_version 1
jqis .result.version 2
CT2=$(printf '%s' "$out" | jq -r .result.ciphertext)
[ -n "$CT2" ] && [ "$CT2" != "$CT1" ] || fail "ReEncrypt gave '$CT2'"
call Decrypt "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT2\",\"aad\":\"$(b64 v1)\"}"
jqis .result.plaintext "$(b64 'before rotation')"
call Encrypt "{\"keyid\":\"$KEY\",\"plaintext\":\"$(b64 'after rotation')\"}"
CT3=$(printf '%s' "$out" | jq -r .result.ciphertext)
call ReEncrypt "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT3\"}"
jqis .result.from_version 2
# an external key's import parameters, for the fixed clocks below (the token lasts 24 hours)
call CreateKey '{"keyspec":"EH_AES_GCM_128","origin":"EH_EXTERNAL_KEY","keyusage":"EH_KEYUSAGE_ENCRYPT_DECRYPT"}'
EXT=$(printf '%s' "$out" | jq -r .result.keyid)
call GetParametersForImport "{\"keyid\":\"$EXT\",\"keyspec\":\"EH_RSA_2048\"}"
TOKEN=$(printf '%s' "$out" | jq -r .result.importToken)
# a token of the genuine one's length with another HMAC is refused: the MAC is compared, not
# only the length
FORGED=$(printf '%s' "$TOKEN" | base64 -d |
    jq -cS '.hmac = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="' | tr -d '\n' | base64 -w0)
[ "${#FORGED}" = "${#TOKEN}" ] || fail "the forged token has ${#FORGED} characters, not ${#TOKEN}"
want=1 call ImportKeyMaterial "{\"keyid\":\"$EXT\",\"padding_mode\":\"EH_RSA_PKCS1_OAEP\",\"key_material\":\"$(b64 x)\",\"importToken\":\"$FORGED\"}"
jqis .message "ImportToken failed: not this key's token, or older than 24 hours (send GetParametersForImport again)."
EPOCH_MS=$(date +%s%3N)
call CreateKey '{"keyspec":"EH_SM4_CBC","origin":"EH_INTERNAL_KEY","keyusage":"EH_KEYUSAGE_ENCRYPT_DECRYPT"}'
SM4=$(printf '%s' "$out" | jq -r .result.keyid)
want=1 call RotateKey "{\"keyid\":\"$SM4\"}"
jqis .code 400
# a disabled key refuses, another app's key refuses
call DisableKey "{\"keyid\":\"$KEY\"}"
want=1 call Decrypt "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT2\",\"aad\":\"$(b64 v1)\"}"
jqis .message "keyid is disabled"
call EnableKey "{\"keyid\":\"$KEY\"}"
run 1 "$CCZ" kms call "$A" Decrypt --appid "$APPID2" --apikey "$APIKEY2" --cacert "$CA" \
    --payload "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT2\",\"aad\":\"$(b64 v1)\"}"
jqis .message "appid error"
run 1 "$CCZ" kms call "$A" Decrypt --appid "$APPID" --apikey "$APIKEY2" --cacert "$CA" \
    --payload "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT2\",\"aad\":\"$(b64 v1)\"}"
jqis .message "sign error"

# a flood of hostile connections from other addresses: the app's calls all succeed
/usr/bin/python3 "$PROBE" flood 127.0.0.1 "${PORT[main]}" 200 12 "$T/flood-ready" > "$T/flood.out" &
FLOOD=$!
for _ in $(seq 100); do [ -s "$T/flood-ready" ] && break; sleep 0.1; done
[ "$(cat "$T/flood-ready" 2>/dev/null)" -ge 150 ] 2>/dev/null ||
    fail "the flood opened $(cat "$T/flood-ready" 2>/dev/null) connections"
ok=0
for i in $(seq 20); do
    call Encrypt "{\"keyid\":\"$KEY\",\"plaintext\":\"$(b64 "call $i")\"}"
    [ "$code" = 0 ] && [ "$(printf '%s' "$out" | jq -r .code)" = 200 ] && ok=$((ok + 1))
done
[ "$ok" = 20 ] || fail "during the flood $ok of 20 calls succeeded"
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null

run 0 curl -sS --cacert "$CA" "$URL/metrics"
contains "$out" "ccz_kms_requests_total"
contains "$out" "ccz_kms_enrolled_total"
# a body with a key twice is not JSON to the KMS (which of the two would the signature cover?);
# an empty body is an empty envelope, its fields missing
run 0 curl -sS --cacert "$CA" -H 'Content-Type: application/json' \
    --data '{"appid":"a","appid":"b","timestamp":"1","sign":"s"}' "$URL/ehsm?Action=ListKey"
jqis .code 400
jqis .message "Invalid JSON"
run 0 curl -sS --cacert "$CA" -H 'Content-Type: application/json' --data '' \
    "$URL/ehsm?Action=ListKey"
jqis .code 400
jqis .message "Missing required parameters"
grep -qF "$ADMIN" "$T/main.log" && fail "the admin token is in the log"
grep -qF "$APIKEY" "$T/main.log" && fail "an apikey is in the log"

# a restart: the domain key unseals, the keys and apps are there. The restarted KMS runs with
# tests/cli/free_scan.c (not under ASan, which must come first): a Decrypt's plaintext and an
# Encrypt's, raw or in base64, are in no block it frees (the JSON answer, the copy libevent sends
# from, the request's body in libevent's input and in the HTTP server's and the JSON parser's)
SCAN=()
if [ -f "${CCZ_FREE_SCAN_LIB:-}" ] && [ "${CCZ_SANITIZE:-OFF}" != ON ]; then
    SCAN=(env "LD_PRELOAD=$CCZ_FREE_SCAN_LIB" "CCZ_FREE_SCAN_OUT=$T/freed"
        "CCZ_FREE_SCAN=before rotation|$(b64 'before rotation')|wiped after|$(b64 'wiped after')")
else
    echo "skip: freed memory is not searched for the plaintext (ASan build or no free_scan)"
fi
stop main
: > "$T/freed"
PRE=("${SCAN[@]}")
started main "$T/data" --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" \
    --tls-key "$T/tls.key"
PRE=()
A=127.0.0.1:${PORT[main]}
URL=https://$A
: > "$T/freed.client"
run 0 ${SCAN[@]:+"${SCAN[@]}" "CCZ_FREE_SCAN_OUT=$T/freed.client"} "$CCZ" kms call "$A" Decrypt \
    --appid "$APPID" --apikey "$APIKEY" --cacert "$CA" \
    --payload "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT1\",\"aad\":\"$(b64 v1)\"}"
jqis .result.plaintext "$(b64 'before rotation')"
[ -s "$T/freed.client" ] &&
    fail "ccz kms call freed blocks holding the plaintext (marker, size): $(head -5 "$T/freed.client")"
call Encrypt "{\"keyid\":\"$KEY\",\"plaintext\":\"$(b64 'wiped after')\"}"
jqis .code 200
# keys for the tampered store below: AES-256 keys of the first app (KT[0..8]), an AES-128 one,
# an RSA signing key
AES256='{"keyspec":"EH_AES_GCM_256","origin":"EH_INTERNAL_KEY","keyusage":"EH_KEYUSAGE_ENCRYPT_DECRYPT"}'
KT=()
for i in $(seq 9); do
    call CreateKey "$AES256"
    KT+=("$(printf '%s' "$out" | jq -r .result.keyid)")
done
call CreateKey '{"keyspec":"EH_AES_GCM_128","origin":"EH_INTERNAL_KEY","keyusage":"EH_KEYUSAGE_ENCRYPT_DECRYPT"}'
K128=$(printf '%s' "$out" | jq -r .result.keyid)
call CreateKey '{"keyspec":"EH_RSA_2048","origin":"EH_INTERNAL_KEY","keyusage":"EH_KEYUSAGE_SIGN_VERIFY"}'
KSIGN=$(printf '%s' "$out" | jq -r .result.keyid)
stop main
[ -s "$T/freed" ] && fail "the KMS freed blocks holding a plaintext (marker, size): $(head -5 "$T/freed")"

# the store tampered with: wrapped material moved to another version, another key, another app
sql() { /usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute(sys.argv[2], sys.argv[3:])
db.commit()' "$T/data-t/kms.db" "$@"; }
tampered() { # SQL ARGS...: a copy of the store changed so; the KMS started on it
    rm -rf "$T/data-t"
    cp -r "$T/data" "$T/data-t"
    sql "$@"
    serve_tampered
}
serve_tampered() { # the KMS started on $T/data-t
    started tampered "$T/data-t" --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" \
        --tls-key "$T/tls.key"
    A=127.0.0.1:${PORT[tampered]}
}
V1="SELECT material FROM kms_versions WHERE keyid = ? AND version = 1"
# (KEY's version 2 and SM4's material in one store: two keys, one KMS)
rm -rf "$T/data-t"
cp -r "$T/data" "$T/data-t"
sql "UPDATE kms_versions SET material = ($V1) WHERE keyid = ?" "$KEY" "$SM4"
sql "UPDATE kms_versions SET material = ($V1) WHERE keyid = ? AND version = 2" "$KEY" "$KEY"
serve_tampered
want=1 call Encrypt "{\"keyid\":\"$KEY\",\"plaintext\":\"$(b64 x)\"}"
jqis .code 500
want=1 call Decrypt "{\"keyid\":\"$KEY\",\"ciphertext\":\"$CT2\",\"aad\":\"$(b64 v1)\"}"
jqis .code 500
want=1 call Encrypt "{\"keyid\":\"$SM4\",\"plaintext\":\"$(b64 x)\"}"
jqis .code 500
stop tampered
tampered "UPDATE kms_apps SET apikey = (SELECT apikey FROM kms_apps WHERE appid = ?) WHERE appid = ?" \
    "$APPID2" "$APPID"
want=1 call Encrypt "{\"keyid\":\"$KEY\",\"plaintext\":\"$(b64 x)\"}"
[ "$(printf '%s' "$out" | jq -r .code)" = 200 ] && fail "an apikey moved to another app was taken"
# ... refused as the store's fault (the stored apikey does not unwrap for this appid), not as an
# unknown appid
jqis .code 500
jqis .message "database error"
stop tampered
# every wrapped key damaged, moved or re-labelled is refused (500, never used) and logged as the
# store's fault: its bytes flipped in the IV, the ciphertext and the tag; cut; lengthened; empty;
# another key's; its record's owner, spec or usage changed (each bound as AAD); and the import
# parameters of EXT, their wrapping key's spec (a byte before the wrapped key) made EH_RSA_3072
edit() { /usr/bin/python3 - "$T/data-t/kms.db" "$@" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = "SELECT material FROM kms_versions WHERE keyid = ? AND version = 1"
for op in sys.argv[2:]:
    what, keyid, arg = op.split(":")
    if what == "spec":  # the spec byte before an import's wrapped key
        w = bytearray(db.execute("SELECT wrapping FROM kms_imports WHERE keyid = ?",
                                 (keyid,)).fetchone()[0])
        w[0] = int(arg)
        db.execute("UPDATE kms_imports SET wrapping = ? WHERE keyid = ?", (bytes(w), keyid))
        continue
    w = bytearray(db.execute(q, (keyid,)).fetchone()[0])
    if what == "flip":
        w[int(arg)] ^= 1
    elif what == "cut":
        w = w[:int(arg)]
    elif what == "add":
        w += b"\0"
    elif what == "from":
        w = bytearray(db.execute(q, (arg,)).fetchone()[0])
    db.execute("UPDATE kms_versions SET material = ? WHERE keyid = ? AND version = 1",
               (bytes(w), keyid))
db.commit()
EOF
}
rm -rf "$T/data-t"
cp -r "$T/data" "$T/data-t"
edit "flip:${KT[0]}:0" "flip:${KT[1]}:11" "flip:${KT[2]}:12" "flip:${KT[3]}:-1" \
    "cut:${KT[4]}:59" "add:${KT[5]}:" "from:${KT[6]}:${KT[7]}" "cut:${KT[8]}:27" "spec:$EXT:4"
sql "UPDATE kms_versions SET material = X'' WHERE keyid = ?" "${KT[7]}"
sql "UPDATE kms_keys SET owner = ? WHERE keyid = ?" "$APPID2" "$KEY"
sql "UPDATE kms_keys SET spec = 'EH_SM4_CBC' WHERE keyid = ?" "$K128"
sql "UPDATE kms_keys SET usage = 'EH_KEYUSAGE_ENCRYPT_DECRYPT' WHERE keyid = ?" "$KSIGN"
started tampered "$T/data-t" --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" \
    --tls-key "$T/tls.key"
A=127.0.0.1:${PORT[tampered]}
for k in "${KT[@]:0:7}" "$K128"; do
    want=1 call Encrypt "{\"keyid\":\"$k\",\"plaintext\":\"$(b64 x)\"}"
    jqis .code 500
    jqis .message "Server exception."
done
for k in "${KT[7]}" "${KT[8]}"; do
    want=1 call Encrypt "{\"keyid\":\"$k\",\"plaintext\":\"$(b64 x)\"}"
    jqis .code 500
done
want=1 call GetPublicKey "{\"keyid\":\"$KSIGN\"}"
jqis .code 500
run 1 "$CCZ" kms call "$A" Encrypt --appid "$APPID2" --apikey "$APIKEY2" --cacert "$CA" \
    --payload "{\"keyid\":\"$KEY\",\"plaintext\":\"$(b64 x)\"}"
jqis .code 500
want=1 call ImportKeyMaterial "{\"keyid\":\"$EXT\",\"padding_mode\":\"EH_RSA_PKCS1_OAEP\",\"key_material\":\"$(b64 x)\",\"importToken\":\"$TOKEN\"}"
jqis .code 400
jqis .message "ImportToken failed: no import parameters for this key (send GetParametersForImport first)."
stop tampered
unset 'PID[tampered]'
bad_wrap="kms: key material: kms: the wrapped key does not verify (wrong domain key, record or bytes)"
n=$(grep -cF "$bad_wrap" "$T/tampered.log")
[ "$n" = 10 ] || fail "$n of 10 damaged or moved keys were logged as such: $(cat "$T/tampered.log")"
contains "$(cat "$T/tampered.log")" "kms: key material: kms: 27 bytes cannot be a wrapped key"
contains "$(cat "$T/tampered.log")" "kms: key material: key ${KT[7]} has no material for version 1"
contains "$(cat "$T/tampered.log")" "kms: the import parameters of $EXT: "
# a store that fails its reads and writes: the server's failure (500 'Server exception.', the
# reason logged), never the client's (it heard 400 'create cmk failed', 'listKey failed',
# 'deleteKey failed', 'deleteALLKey failed', 'disableKey failed', 'Invalid  policyId.')
serve_tampered
call UploadQuotePolicy "{\"mr_enclave\":\"$M2\",\"mr_signer\":\"$M2\"}"
QPID=$(printf '%s' "$out" | jq -r .result.policyId)
call GenerateQuote "{\"challenge\":\"$(b64 c)\"}"
QUOTE=$(printf '%s' "$out" | jq -r .result.quote)
stop tampered
for w in INSERT UPDATE DELETE; do
    sql "CREATE TRIGGER fail_$w BEFORE $w ON kms_keys BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
done
sql "ALTER TABLE kms_keys RENAME COLUMN spec TO spec_gone"
sql "ALTER TABLE kms_quote_policies RENAME TO kms_quote_policies_gone"
serve_tampered
for a in CreateKey ListKey DeleteKey DeleteAllKey DisableKey VerifyQuote; do
    case $a in
    CreateKey) p=$AES256 ;;
    ListKey | DeleteAllKey) p='{}' ;;
    VerifyQuote) p="{\"quote\":\"$QUOTE\",\"nonce\":\"bm9uY2U=\",\"policyId\":\"$QPID\"}" ;;
    *) p="{\"keyid\":\"${KT[0]}\"}" ;; # this app's key (KEY is now the other's)
    esac
    want=1 call "$a" "$p"
    jqis .code 500
    jqis .message "Server exception."
done
stop tampered
unset 'PID[tampered]'
for a in CreateKey ListKey DeleteKey DeleteAllKey DisableKey "VerifyQuote policy"; do
    contains "$(cat "$T/tampered.log")" "kms: $a: "
done

# the data directory on another platform: its sealing key differs, the KMS refuses to start
"$CCZ" sim init --dir "$T/plat2" > /dev/null
cp -r "$T/data" "$T/data-copy"
refused "a KMS on another platform started with this one's domain key" moved "$T/data-copy" \
    --sim-dir "$T/plat2" --policy "$T/policy.json" --tls-cert "$CA" --tls-key "$T/tls.key"
[ "$refused_code" = 0 ] && fail "the moved KMS exited 0"
contains "$(cat "$T/moved.log")" "/domain-key.sealed does not unseal in this TEE (another platform, another signer, or a damaged file)"
# ... and so does one whose sealing policy is the other (mrenclave, not mrsigner)
refused "a KMS sealing to mrenclave unsealed a key sealed to mrsigner" reseal "$T/data-copy" \
    --sim-dir "$P" --policy "$T/policy.json" --seal mrenclave --tls-cert "$CA" \
    --tls-key "$T/tls.key"
contains "$(cat "$T/reseal.log")" "/domain-key.sealed was sealed to mrsigner, not to --seal mrenclave"
# ... and a sealing policy that is neither is no policy
refused "a KMS started with --seal bogus" bogus "$T/data-copy" --sim-dir "$P" \
    --policy "$T/policy.json" --seal bogus --tls-cert "$CA" --tls-key "$T/tls.key"
contains "$(cat "$T/bogus.log")" "--seal: 'bogus' is not mrsigner or mrenclave"
# ... and so does one whose sealed file is not one (its magic damaged): said so, not taken for
# another TEE's
rm -rf "$T/data-bad"
cp -r "$T/data" "$T/data-bad"
flip "$T/data-bad/domain-key.sealed" 0
refused "a KMS started with a damaged domain-key.sealed" bad "$T/data-bad" --sim-dir "$P" \
    --policy "$T/policy.json" --tls-cert "$CA" --tls-key "$T/tls.key"
contains "$(cat "$T/bad.log")" "/domain-key.sealed is not a sealed ccz KMS domain key"
# ... and so does one cut after its magic (no sealing policy byte, no ciphertext)
head -c 8 "$T/data/domain-key.sealed" > "$T/data-bad/domain-key.sealed"
refused "a KMS started with a domain-key.sealed of 8 bytes" bad8 "$T/data-bad" --sim-dir "$P" \
    --policy "$T/policy.json" --tls-cert "$CA" --tls-key "$T/tls.key"
contains "$(cat "$T/bad8.log")" "/domain-key.sealed is not a sealed ccz KMS domain key"
# ... and one whose sealing policy byte is neither policy: not taken for the other one
cp "$T/data/domain-key.sealed" "$T/data-bad/domain-key.sealed"
printf '\007' | dd of="$T/data-bad/domain-key.sealed" bs=1 seek=8 conv=notrunc status=none
refused "a KMS started with a sealing policy byte of 7" bad7 "$T/data-bad" --sim-dir "$P" \
    --policy "$T/policy.json" --tls-cert "$CA" --tls-key "$T/tls.key"
contains "$(cat "$T/bad7.log")" "/domain-key.sealed is not a sealed ccz KMS domain key (sealing policy byte 7)"
# ... and a sealed key whose IV, ciphertext or tag is damaged, cut or lengthened, or whose
# policy byte (bound as AAD) says the other policy: none unseals
SEALED_LEN=$(stat -c %s "$T/data/domain-key.sealed")
for damage in 9 21 last cut add policy; do
    cp "$T/data/domain-key.sealed" "$T/data-bad/domain-key.sealed"
    seal=()
    case $damage in
    last) flip "$T/data-bad/domain-key.sealed" $((SEALED_LEN - 1)) ;;
    cut) head -c $((SEALED_LEN - 1)) "$T/data/domain-key.sealed" > "$T/data-bad/domain-key.sealed" ;;
    add) printf 'x' >> "$T/data-bad/domain-key.sealed" ;;
    policy) flip "$T/data-bad/domain-key.sealed" 8; seal=(--seal mrenclave) ;;
    *) flip "$T/data-bad/domain-key.sealed" "$damage" ;;
    esac
    refused "a KMS started with a domain-key.sealed damaged ($damage)" "bad-$damage" "$T/data-bad" \
        --sim-dir "$P" --policy "$T/policy.json" "${seal[@]}" --tls-cert "$CA" --tls-key "$T/tls.key"
    [ "$refused_code" = 0 ] && fail "the KMS with a damaged domain-key.sealed ($damage) exited 0"
    contains "$(cat "$T/bad-$damage.log")" "/domain-key.sealed does not unseal in this TEE"
done

# attested Enroll (RA-TLS listeners): the policy decides
started att "$T/att" --sim-dir "$P" --policy "$T/policy.json"
run 0 "$CCZ" kms enroll "127.0.0.1:${PORT[att]}" --tee sim --sim-dir "$P" --policy "$T/policy.json"
jqis '.appid | length' 36
# by default (no --pkcs1-decrypt) RSA PKCS#1 v1.5 decryption is refused: a padding oracle
AAPP=$(printf '%s' "$out" | jq -r .appid) AKEY=$(printf '%s' "$out" | jq -r .apikey)
acall() { run "$1" "$CCZ" kms call "127.0.0.1:${PORT[att]}" "$2" --appid "$AAPP" --apikey "$AKEY" \
    --sim-dir "$P" --policy "$T/policy.json" --payload "$3"; }
acall 0 CreateKey '{"keyspec":"EH_RSA_2048","origin":"EH_INTERNAL_KEY","keyusage":"EH_KEYUSAGE_ENCRYPT_DECRYPT"}'
RK=$(printf '%s' "$out" | jq -r .result.keyid)
acall 0 AsymmetricEncrypt "{\"keyid\":\"$RK\",\"plaintext\":\"$(b64 secret)\",\"padding_mode\":\"EH_RSA_PKCS1\"}"
RCT=$(printf '%s' "$out" | jq -r .result.ciphertext)
acall 1 AsymmetricDecrypt "{\"keyid\":\"$RK\",\"ciphertext\":\"$RCT\",\"padding_mode\":\"EH_RSA_PKCS1\"}"
jqis .code 400
jqis .message "Parameter invalid, EH_RSA_PKCS1 decryption is off in this KMS (a padding oracle without implicit rejection): use EH_RSA_PKCS1_OAEP, or start the KMS with --pkcs1-decrypt."
# ... and so is an import's key material wrapped with it
acall 0 CreateKey '{"keyspec":"EH_AES_GCM_256","origin":"EH_EXTERNAL_KEY","keyusage":"EH_KEYUSAGE_ENCRYPT_DECRYPT"}'
AEXT=$(printf '%s' "$out" | jq -r .result.keyid)
acall 0 GetParametersForImport "{\"keyid\":\"$AEXT\",\"keyspec\":\"EH_RSA_2048\"}"
ATOKEN=$(printf '%s' "$out" | jq -r .result.importToken)
acall 1 ImportKeyMaterial "{\"keyid\":\"$AEXT\",\"padding_mode\":\"EH_RSA_PKCS1\",\"key_material\":\"$(b64 x)\",\"importToken\":\"$ATOKEN\"}"
jqis .code 400
jqis .message "Parameter invalid, EH_RSA_PKCS1 decryption is off in this KMS (a padding oracle without implicit rejection): use EH_RSA_PKCS1_OAEP, or start the KMS with --pkcs1-decrypt."
started strict "$T/strict" --sim-dir "$P" --policy "$T/only-m2.json"
# (refused in the handshake, the listener's policy refusing the client's certificate: the
# client reads the server's TLS alert and reports a refusal, 1)
run 1 "$CCZ" kms enroll "127.0.0.1:${PORT[strict]}" --tee sim --sim-dir "$P" \
    --policy "$T/policy.json"
[ -z "$out" ] || fail "a refused enroll printed '$out'"
case $err in *"refused this client's certificate (TLS alert: bad certificate)"*) ;;
    *) fail "a refused enroll did not say the KMS refused its certificate: $err" ;; esac
run 0 "$CCZ" kms enroll "127.0.0.1:${PORT[strict]}" --tee sim --sim-dir "$P" \
    --policy "$T/policy.json" --measurement "$M2"

# replicas: the domain key goes only to a peer --peer-policy accepts
stop strict
run 2 timeout 30 "$CCZ" kms serve --listen 127.0.0.1:0 --data-dir "$T/r1" --tee sim --sim-dir "$P" \
    --policy "$T/policy.json" --peer "127.0.0.1:${PORT[att]}" --peer-policy "$T/policy.json"
contains "$err" "gives its domain key to no one"
# ... and one without --peer-policy takes none: it has no allow-list for the peer's evidence
run 2 timeout 30 "$CCZ" kms serve --listen 127.0.0.1:0 --data-dir "$T/r0" --tee sim --sim-dir "$P" \
    --policy "$T/policy.json" --peer "127.0.0.1:${PORT[att]}"
contains "$err" "--peer needs --peer-policy: the allow-list the peer's evidence must satisfy"
[ -e "$T/r0/domain-key.sealed" ] && fail "a replica without --peer-policy sealed a domain key"
started giver "$T/giver" --sim-dir "$P" --policy "$T/policy.json" --peer-policy "$T/only-m2.json"
refused "a replica the giver's --peer-policy does not accept got the domain key" taker "$T/r2" \
    --sim-dir "$P" --policy "$T/policy.json" --peer "127.0.0.1:${PORT[giver]}" \
    --peer-policy "$T/policy.json"
contains "$(cat "$T/giver.log")" "not on the --peer-policy allow-list"
stop giver
started giver "$T/giver" --sim-dir "$P" --policy "$T/policy.json" --peer-policy "$T/policy.json"
started taker "$T/r3" --sim-dir "$P" --policy "$T/policy.json" \
    --peer "127.0.0.1:${PORT[giver]}" --peer-policy "$T/policy.json"
cmp -s "$T/r3/domain-key.sealed" "$T/giver/domain-key.sealed" &&
    fail "the replica's sealed domain key is the giver's file"
stop taker
# a replica whose key store has another domain key's check takes nothing from this giver (it
# serves another key store), and keeps no sealed key
rm -rf "$T/data-other"
cp -r "$T/data" "$T/data-other"
rm "$T/data-other/domain-key.sealed"
refused "a replica took a domain key that is not its key store's" other "$T/data-other" \
    --sim-dir "$P" --policy "$T/policy.json" --peer "127.0.0.1:${PORT[giver]}" \
    --peer-policy "$T/policy.json"
contains "$(cat "$T/other.log")" "gave a domain key that is not this key store's: it serves another key store"
[ -e "$T/data-other/domain-key.sealed" ] && fail "the refused replica sealed the other store's key"
stop giver
stop att
# a data directory whose sealed domain key (sealed on this platform) is another key store's:
# refused before it serves
rm -rf "$T/data-mix"
cp -r "$T/data" "$T/data-mix"
cp "$T/att/domain-key.sealed" "$T/data-mix/domain-key.sealed"
refused "a KMS started on a key store with another store's domain key" mix "$T/data-mix" \
    --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" --tls-key "$T/tls.key"
contains "$(cat "$T/mix.log")" "/domain-key.sealed holds another domain key than the key store's: this data directory belongs to another key store"

# the timestamp window to the millisecond: a KMS whose clock is fixed
if [ "${CCZ_FAKE_CLOCK:-}" ] && [ -f "$CCZ_FAKE_CLOCK" ]; then
    NOW=1767225600000
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
    # probe CLOCK_MS MODE ARGS...: kms_probe.py MODE (as the first app) against the KMS of
    # $T/data started with its clock fixed at CLOCK_MS
    # (the four clocks' KMSs start at once, each on its own copy of $T/data: one KMS per
    # SQLite file)
    # 23 hours later the import token still holds (the material is refused), 25 hours later it
    # is stale; a year and a day later the key has expired
    CLOCKS=("$NOW" $((EPOCH_MS + 23 * 3600 * 1000)) $((EPOCH_MS + 25 * 3600 * 1000))
        $((EPOCH_MS + 366 * 24 * 3600 * 1000)))
    for i in 0 1 2 3; do
        rm -rf "$T/data-f$i"
        cp -r "$T/data" "$T/data-f$i"
        CCZ_FAKE_REALTIME_MS=${CLOCKS[$i]} LD_PRELOAD=$CCZ_FAKE_CLOCK launch "fixed$i" \
            "$T/data-f$i" --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" \
            --tls-key "$T/tls.key"
    done
    # probe N MODE ARGS...: kms_probe.py MODE (as the first app) against the KMS of $T/data
    # started with its clock fixed at ${CLOCKS[N]}
    probe() {
        local i=$1 mode=$2; shift 2
        listening "fixed$i" || { fail "kms fixed$i did not start: $(cat "$T/fixed$i.log")"; finish; }
        run 0 /usr/bin/python3 "$PROBE" "$mode" "https://127.0.0.1:${PORT[fixed$i]}" "$CA" \
            "$APPID" "$APIKEY" "$@"
        [ "$code" = 0 ] || printf '%s\n' "$out" >&2
        stop "fixed$i"
    }
    probe 0 window "$KEY" "$NOW"
    IMPORT="{\"keyid\":\"$EXT\",\"padding_mode\":\"EH_RSA_PKCS1_OAEP\",\"key_material\":\"$(b64 x)\",\"importToken\":\"$TOKEN\"}"
    probe 1 at "${CLOCKS[1]}" ImportKeyMaterial "$IMPORT" 400 \
        "ImportKeyMaterial failed: the key material does not decrypt with the wrapping key and padding_mode, or is not a key of this keyspec's length."
    probe 2 at "${CLOCKS[2]}" ImportKeyMaterial "$IMPORT" 400 \
        "ImportToken failed: not this key's token, or older than 24 hours (send GetParametersForImport again)."
    probe 3 at "${CLOCKS[3]}" Encrypt "{\"keyid\":\"$KEY\",\"plaintext\":\"$(b64 late)\"}" 400 \
        "keyid expire"
else
    echo "no CCZ_FAKE_CLOCK: the timestamp window's edges are not checked"
fi

# per-app rate limit: --rate 1 --burst 3 lets three requests through at once, then 429; another
# app has its own bucket
started limited "$T/limited" --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" \
    --tls-key "$T/tls.key" --rate 1 --burst 3
L=127.0.0.1:${PORT[limited]}
LADMIN=$(cat "$T/limited/admin-token")
run 0 "$CCZ" kms enroll "$L" --admin-token "$LADMIN" --cacert "$CA"
LAPP=$(printf '%s' "$out" | jq -r .appid) LKEY=$(printf '%s' "$out" | jq -r .apikey)
run 0 "$CCZ" kms enroll "$L" --admin-token "$LADMIN" --cacert "$CA"
LAPP2=$(printf '%s' "$out" | jq -r .appid) LKEY2=$(printf '%s' "$out" | jq -r .apikey)
# eight calls at once: the burst's three pass, and however slowly a loaded machine starts the
# processes (a token a second comes back), some are refused
for k in 1 2 3 4 5 6 7 8; do
    "$CCZ" kms call "$L" ListKey --appid "$LAPP" --apikey "$LKEY" --cacert "$CA" \
        > "$T/burst$k.out" 2> /dev/null &
    eval "burst$k=\$!"
done
passed=0 limited=0
for k in 1 2 3 4 5 6 7 8; do
    code=0; wait "$(eval echo "\$burst$k")" || code=$?
    out=$(cat "$T/burst$k.out")
    if [ "$code" = 0 ]; then
        passed=$((passed + 1))
    elif [ "$code" = 1 ]; then
        limited=$((limited + 1))
        jqis .code 429
        jqis .message "Too many requests: this appid's rate limit is reached"
    else
        fail "burst call $k exited $code"
    fi
done
[ "$passed" -ge 3 ] && [ "$limited" -ge 1 ] ||
    fail "of eight calls at once $passed passed and $limited were refused (want >= 3 and >= 1)"
run 0 "$CCZ" kms call "$L" ListKey --appid "$LAPP2" --apikey "$LKEY2" --cacert "$CA"
sleep 1.2 # a token back
run 0 "$CCZ" kms call "$L" ListKey --appid "$LAPP" --apikey "$LKEY" --cacert "$CA"
# its metrics count each request once: ten calls, the 429s refused and rate-limited, two enrolled
metric() { # NAME VALUE: the last /metrics fetched has the line "NAME VALUE"
    printf '%s\n' "$out" | grep -qx "$1 $2" ||
        fail "metrics: want '$1 $2' in: $(printf '%s' "$out" | grep "^$1 ")"
}
run 0 curl -sS --cacert "$CA" "https://$L/metrics"
metric ccz_kms_requests_total 10
metric ccz_kms_served_total $((passed + 2))
metric ccz_kms_refused_total "$limited"
metric ccz_kms_rate_limited_total "$limited"
metric ccz_kms_enrolled_total 2
stop limited
# the replay window full (--replay-max 1): 503, not taken for a replay. --burst 0 is taken as 1
# (the first call passes)
started small "$T/small" --sim-dir "$P" --policy "$T/policy.json" --tls-cert "$CA" \
    --tls-key "$T/tls.key" --replay-max 1 --burst 0
S=127.0.0.1:${PORT[small]}
run 0 "$CCZ" kms enroll "$S" --admin-token "$(cat "$T/small/admin-token")" --cacert "$CA"
SAPP=$(printf '%s' "$out" | jq -r .appid) SKEY=$(printf '%s' "$out" | jq -r .apikey)
run 0 "$CCZ" kms call "$S" ListKey --appid "$SAPP" --apikey "$SKEY" --cacert "$CA"
run 1 "$CCZ" kms call "$S" ListKey --appid "$SAPP" --apikey "$SKEY" --cacert "$CA"
jqis .code 503
jqis .message "the replay window is full: try again later"
run 0 curl -sS --cacert "$CA" "https://$S/metrics"
metric ccz_kms_requests_total 2
metric ccz_kms_served_total 1
metric ccz_kms_refused_total 1
metric ccz_kms_rate_limited_total 0
metric ccz_kms_replay_window 1
stop small

# usage errors
run 2 timeout 30 "$CCZ" kms serve --no-such-option 1
run 2 "$CCZ" kms enroll "$A"
contains "$err" "--tee"
run 2 "$CCZ" kms call "$A" Encrypt
contains "$err" "call needs --appid and --apikey (from 'ccz kms enroll')"
run 2 "$CCZ" kms enroll "$A" "$A" --admin-token "$ADMIN"
contains "$err" "enroll takes the KMS's address, HOST:PORT"
run 2 "$CCZ" kms call "$A" --appid "$APPID" --apikey "$APIKEY"
contains "$err" "call takes the KMS's address and an ACTION"
want=2 call Encrypt '{"keyid": '
contains "$err" "--payload is not JSON"
# the parser's reason without the text it stopped at (jansson quotes up to 20 bytes of it):
# here the start of a plaintext
want=2 call Encrypt '{"keyid": "a", "plaintext": "UGxhaW4tc2VjcmV0'
contains "$err" "--payload is not JSON: premature end of input"
case "$err" in *UGxhaW4*) fail "the --payload error quotes the plaintext: $err" ;; esac
want=2 call Encrypt '{"keyid": "a", "keyid": "b"}'
contains "$err" "--payload is not JSON: duplicate object key"
want=2 call Encrypt '["keyid"]'
contains "$err" "--payload is not a JSON object"
run 2 "$CCZ" kms call "$A" Encrypt extra --appid "$APPID" --apikey "$APIKEY"
contains "$err" "call takes the KMS's address and an ACTION"
run 2 "$CCZ" kms call "$A" Encrypt --appid "$APPID"
contains "$err" "call needs --appid and --apikey (from 'ccz kms enroll')"
run 2 "$CCZ" kms call "$A" Encrypt --apikey "$APIKEY"
contains "$err" "call needs --appid and --apikey (from 'ccz kms enroll')"
run 2 "$CCZ" kms enroll "$A" --cacert "$CA"
contains "$err" "enroll needs --tee (attested enrollment) or --admin-token TOKEN"
# a KMS that does not answer (stopped above) is exit 2, not 1: no KMS refused anything
run 2 "$CCZ" kms call "$A" ListKey --appid "$APPID" --apikey "$APIKEY" --cacert "$CA"
contains "$err" "kms call: cannot connect to $A"
[ -z "$out" ] || fail "a call that reached no KMS printed '$out'"
if [ "$failures" -gt 0 ]; then # the services' own account
    for log in "$T"/*.log; do echo "--- ${log##*/}"; tail -8 "$log"; done
fi
finish
