#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The attestation service end to end through 'ccz attestation serve': independent clients
# written from the protocol descriptions (tests/svc/ear_client.py: the attestation API and its
# EAR token checked with Debian's python3-jwt; tests/svc/kbs_client.py: Trustee's KBS flow with
# python3-jwcrypto, EC and RSA keys), 'ccz attestation token verify' against the published JWKS
# (a token, an expired instant, another service's JWKS), 'ccz kbs get-resource', Gramine's
# secret provisioning on the same listener ('ccz secret get'), curl as a plain HTTPS client
# (4xx for bad requests, the service still up), a restart keeping keys and state, and SIGTERM
# draining it (exit 0).
. "$(dirname "$0")/lib.sh"
SVC="$(dirname "$0")/../svc"
P=$T/plat
"$CCZ" sim init --dir "$P" > /dev/null
M=$(printf 'ab%.0s' $(seq 32))
M2=$(printf 'cd%.0s' $(seq 32))
cat > "$T/policy.json" <<JSON
{"allow_sim": true, "sgx": [{"mr_enclave": "$M"}],
 "secrets": [{"secret": "model-key", "measurement": "$M"}]}
JSON
printf 'the model key\n' > "$T/model.key"
printf 'resource bytes\n' > "$T/resource.bin"

SERVER=
start() { # DATA_DIR ARGS...: the service in the background on a free port
    local data=$1; shift
    : > "$T/serve.log" # not the last server's log: its port is not this one's
    "$CCZ" attestation serve --listen 127.0.0.1:0 --data-dir "$data" --sim-dir "$P" \
        --policy "$T/policy.json" "$@" 2> "$T/serve.log" &
    SERVER=$!
    port_from "$T/serve.log" || { fail "the service did not start: $(cat "$T/serve.log")"; finish; }
    URL=https://127.0.0.1:$PORT
    CA=$data/tls-cert.pem
}
stop() {
    kill -TERM $SERVER 2>/dev/null
    reap $SERVER 30
    local code=$?
    [ "$code" = 0 ] || fail "attestation serve exited $code after SIGTERM: $(tail -5 "$T/serve.log")"
}

# attest_request: the body of POST /v1/attest in $T/req.json: sim evidence of measurement $M
# binding a fresh nonce of the service ($NONCE), SHA-512 of the nonce as its report data
attest_request() {
    NONCE=$(curl -sS --cacert "$CA" "$URL/v1/nonce" | jq -r .nonce)
    local rd
    rd=$(printf '%s' "$NONCE" | openssl dgst -sha512 -binary | od -An -tx1 | tr -d ' \n')
    run 0 "$CCZ" attest --tee sim --sim-dir "$P" --measurement "$M" --report-data "$rd" -o "$T/ev.bin"
    jq -n --arg ev "$(base64 -w0 "$T/ev.bin")" --arg n "$NONCE" '{evidence: $ev, nonce: $n}' \
        > "$T/req.json"
}

start "$T/data" --secret "model-key=$T/model.key"
# the state the service made at its first start is the owner's alone
modes=$(cd "$T/data" && stat -c '%n %a' . admin-token signing-key-es256.pem tls-key.pem \
    attestation.db | tr '\n' ' ')
[ "$modes" = ". 700 admin-token 600 signing-key-es256.pem 600 tls-key.pem 600 attestation.db 600 " ] ||
    fail "the data directory's modes: $modes"

# the independent clients
run 0 /usr/bin/python3 "$SVC/ear_client.py" "$URL" "$CA" "$CCZ" "$P" "$M"
contains "$out" "ok   the runtime data"
contains "$out" "ok   a forged token is refused"
ADMIN=$(cat "$T/data/admin-token")
run 0 curl -sS --cacert "$CA" -X POST -H "Authorization: Bearer $ADMIN" \
    --data-binary @"$T/resource.bin" "$URL/kbs/v0/resource/repo/key/model"
run 0 /usr/bin/python3 "$SVC/kbs_client.py" "$URL" "$CA" "$CCZ" "$P" "$M" repo/key/model \
    "$T/resource.bin"
contains "$out" "ok   the resource decrypts to its bytes (RSA-OAEP-256)"

# ccz's own clients: the KBS, secret provisioning on the same listener
run 0 "$CCZ" kbs get-resource "$URL" repo/key/model --tee sim --sim-dir "$P" --measurement "$M" \
    --cacert "$CA"
[ "$out" = "resource bytes" ] || fail "kbs get-resource printed '$out'"
run 0 "$CCZ" kbs get-resource "$URL" repo/key/model --tee sim --sim-dir "$P" --measurement "$M" \
    --cacert "$CA" -o "$T/res.out"
[ -z "$out" ] && [ "$(cat "$T/res.out")" = "resource bytes" ] || fail "kbs get-resource -o: '$out'"
[ "$(stat -c %a "$T/res.out")" = 600 ] || fail "kbs get-resource -o wrote mode $(stat -c %a "$T/res.out")"
run 1 "$CCZ" kbs get-resource "$URL" repo/key/model --tee sim --sim-dir "$P" --measurement "$M2" \
    --cacert "$CA"
contains "$err" "the attestation policy rejected the evidence"
run 1 "$CCZ" kbs get-resource "$URL" repo/key/absent --tee sim --sim-dir "$P" --measurement "$M" \
    --cacert "$CA"
# a -o that cannot be written is said before the resource is asked for, not after
run 2 "$CCZ" kbs get-resource "$URL" repo/key/model --tee sim --sim-dir "$P" --measurement "$M" \
    --cacert "$CA" -o "$T/none/res.out"
[ "$err" = "ccz: kbs get-resource: --out: cannot write $T/none/res.out: No such file or directory" ] ||
    fail "kbs get-resource -o in a missing folder: '$err'"
run 2 "$CCZ" kbs get-resource "$URL" repo/key/model --tee sim --sim-dir "$P" --measurement "$M"
contains "$err" "certificate"   # not the system's CA: refused without --cacert
echo '{"allow_sim": true}' > "$T/client.json"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --measurement "$M" -o "$T/app.crt" --key "$T/app.key"
run 0 "$CCZ" secret get "127.0.0.1:$PORT" --cert "$T/app.crt" --key "$T/app.key" --ca "$CA"
[ "$out" = "the model key" ] || fail "secret get printed '$out'"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --measurement "$M2" -o "$T/bad.crt" --key "$T/bad.key"
run 1 "$CCZ" secret get "127.0.0.1:$PORT" --cert "$T/bad.crt" --key "$T/bad.key" --ca "$CA"

# a token verified offline by the CLI, against the JWKS by URL and by file
attest_request
run 0 curl -sS --cacert "$CA" -H 'Content-Type: application/json' --data-binary @"$T/req.json" \
    "$URL/v1/attest"
TOKEN=$(printf '%s' "$out" | jq -r .token)
run 0 "$CCZ" attestation token verify "$TOKEN" --jwks "$URL/.well-known/jwks.json" --cacert "$CA"
jqis '.submods.sim."ear.status"' warning
jqis .eat_nonce "$NONCE"
curl -sS --cacert "$CA" "$URL/.well-known/jwks.json" > "$T/jwks.json"
printf '%s\n' "$TOKEN" | run 0 "$CCZ" attestation token verify - --jwks "$T/jwks.json"
run 1 "$CCZ" attestation token verify "$TOKEN" --jwks "$T/jwks.json" --at $(( $(date +%s) + 3600 ))
contains "$err" "expired"
echo '{"keys":[]}' > "$T/other.json"
run 1 "$CCZ" attestation token verify "$TOKEN" --jwks "$T/other.json"
run 2 "$CCZ" attestation token verify "$TOKEN"
contains "$err" "--jwks"
echo 'not json' > "$T/bad-jwks.json"
run 2 "$CCZ" attestation token verify "$TOKEN" --jwks "$T/bad-jwks.json"
contains "$err" "the JWKS $T/bad-jwks.json is not a JSON object: "
echo '[]' > "$T/bad-jwks.json"
run 2 "$CCZ" attestation token verify "$TOKEN" --jwks "$T/bad-jwks.json"
contains "$err" "the JWKS $T/bad-jwks.json is not a JSON object"
run 2 "$CCZ" attestation token verify "$TOKEN" "$TOKEN" --jwks "$T/jwks.json"
contains "$err" "verify takes TOKEN (or -) and --jwks"
# the token's trailing blanks and newlines (as a pasted or echoed token has them) are not its own
printf '%s \n \n' "$TOKEN" | run 0 "$CCZ" attestation token verify - --jwks "$T/jwks.json"
run 0 "$CCZ" attestation token verify "$TOKEN " --jwks "$T/jwks.json"
# standard input is read up to 1 MiB: a token padded with newlines to 1 MiB passes, one byte more
# is refused as unreadable input (2)
{ printf '%s' "$TOKEN"; head -c $((1048576 - ${#TOKEN})) /dev/zero | tr '\0' '\n'; } > "$T/tok-1m"
run 0 bash -c "'$CCZ' attestation token verify - --jwks '$T/jwks.json' < '$T/tok-1m'"
printf '\n' >> "$T/tok-1m"
run 2 bash -c "'$CCZ' attestation token verify - --jwks '$T/jwks.json' < '$T/tok-1m'"
run 2 "$CCZ" kbs get-resource "$URL" repo/key/model extra --tee sim --sim-dir "$P" --measurement "$M" \
    --cacert "$CA"
contains "$err" "get-resource takes URL and REPOSITORY/TYPE/TAG"
[ -z "$out" ] || fail "kbs get-resource with an extra operand printed '$out'"
run 2 "$CCZ" attestation token verify "$TOKEN" --jwks "$URL/.well-known/none.json" --cacert "$CA"
contains "$err" "$URL/.well-known/none.json answered 404"

# a client that streams its body with the chunked coding (curl's, as for a body of unknown length)
attest_request
run 0 curl -sS --cacert "$CA" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
    -T - "$URL/v1/attest" -X POST < "$T/req.json"
run 0 "$CCZ" attestation token verify "$(printf '%s' "$out" | jq -r .token)" --jwks "$T/jwks.json"
jqis .eat_nonce "$NONCE"

# plain HTTPS clients get clear 4xx answers, and the service stays up
code() { curl -sS -o "$T/body" -w '%{http_code}' --cacert "$CA" "$@"; }
[ "$(code -H 'Content-Type: application/json' --data-binary '{"evidence":' "$URL/v1/attest")" = 400 ] || fail "malformed JSON: not 400"
[ "$(code -H 'Content-Type: text/plain' --data-binary '{}' "$URL/v1/attest")" = 415 ] || fail "text/plain: not 415"
head -c 2000000 /dev/zero | tr '\0' a > "$T/big"
[ "$(code -H 'Content-Type: application/json' --data-binary @"$T/big" "$URL/v1/attest")" = 413 ] || fail "2 MB: not 413"
[ "$(code -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' -X POST -T - \
    "$URL/v1/attest" < "$T/big")" = 413 ] || fail "2 MB chunked: not 413"
[ "$(code "$URL/v1/nope")" = 404 ] || fail "unknown path: not 404"
[ "$(code -X PUT -H 'Content-Type: application/json' --data-binary '{}' "$URL/v1/policies/p")" = 401 ] || fail "no admin token: not 401"
printf 'POST /v1/attest HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"ev' | \
    timeout 5 openssl s_client -quiet -connect "127.0.0.1:$PORT" > /dev/null 2>&1
[ "$(code "$URL/healthz")" = 200 ] || fail "the service is not up after a truncated request"
[ "$(code -I "$URL/healthz")" = 200 ] || fail "HEAD /healthz: not 200"
grep -qi '^content-length: 16' "$T/body" || fail "HEAD /healthz: not GET's Content-Length"
run 0 curl -sS --cacert "$CA" "$URL/metrics"
contains "$out" 'ccz_http_requests_total{service="attestation",method="POST",route="/v1/attest",code="200"}'
contains "$out" "ccz_attestation_tokens_total"
grep -qF "$ADMIN" "$T/serve.log" && fail "the admin token is in the log"
grep -qF "the model key" "$T/serve.log" && fail "a secret is in the log"
stop

# a restart keeps the signing key (the old token verifies against the new JWKS) and the resource.
# The KBS client runs with tests/cli/free_scan.c (LD_PRELOAD; not under ASan, whose runtime must
# come first): the resource it decrypts is in no block it frees (the service keeps resources in
# its store, SQLite's pages, as Trustee's KBS keeps them in files)
SCAN=()
if [ -f "${CCZ_FREE_SCAN_LIB:-}" ] && [ "${CCZ_SANITIZE:-OFF}" != ON ]; then
    SCAN=(env "LD_PRELOAD=$CCZ_FREE_SCAN_LIB" "CCZ_FREE_SCAN=resource bytes"
        "CCZ_FREE_SCAN_OUT=$T/freed.client")
else
    echo "skip: freed memory is not searched for the resource (ASan build or no free_scan)"
fi
: > "$T/freed.client"
start "$T/data"
run 0 "$CCZ" attestation token verify "$TOKEN" --jwks "$URL/.well-known/jwks.json" --cacert "$CA"
run 0 "${SCAN[@]}" "$CCZ" kbs get-resource "$URL" repo/key/model --tee sim --sim-dir "$P" \
    --measurement "$M" --cacert "$CA"
[ "$out" = "resource bytes" ] || fail "after a restart, kbs get-resource printed '$out'"
[ -s "$T/freed.client" ] &&
    fail "kbs get-resource freed blocks holding the resource (marker, size): $(head -3 "$T/freed.client")"
stop

# a --config file (its keys as the flags' names, - or _), read before the flags, which win
echo '{"issuer": "from-the-file", "token_ttl": 100, "token-alg": "ES384"}' > "$T/cfg.json"
start "$T/data3" --config="$T/cfg.json" --token-ttl 200
attest_request
run 0 curl -sS --cacert "$CA" -H 'Content-Type: application/json' --data-binary @"$T/req.json" \
    "$URL/v1/attest"
TOKEN3=$(printf '%s' "$out" | jq -r .token)
alg=$(/usr/bin/python3 -c 'import base64, json, sys; h = sys.argv[1].split(".")[0]
print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["alg"])' "$TOKEN3")
[ "$alg" = ES384 ] || fail "the file's token-alg was not used: alg '$alg'"
run 0 "$CCZ" attestation token verify "$TOKEN3" --jwks "$URL/.well-known/jwks.json" --cacert "$CA"
jqis .iss from-the-file
jqis '.exp - .iat' 200
stop
run 2 timeout 30 "$CCZ" attestation serve --config
contains "$err" "--config needs a FILE"
run 2 timeout 30 "$CCZ" attestation serve --config "$T/none.json"
contains "$err" "$T/none.json"
# --config FILE: FILE is the option's value, not an operand, and the flags after it are read
run 2 timeout 30 "$CCZ" attestation serve --config "$T/cfg.json" --token-ttl soon
contains "$err" "--token-ttl: 'soon' is not a number from 0 to 4294967295"
run 2 timeout 30 "$CCZ" attestation serve --token-ttl
contains "$err" "--token-ttl needs a value"
# a flag's value is a value, even one that reads as --help or --config
run 2 timeout 30 "$CCZ" attestation serve --token-ttl --help
contains "$err" "--token-ttl: '--help' is not a number from 0 to 4294967295"
[ -z "$out" ] || fail "--token-ttl --help printed the help"
run 2 timeout 30 "$CCZ" attestation serve --listen --config "$T/none.json"
contains "$err" "unexpected argument '$T/none.json'"
run 2 timeout 30 "$CCZ" attestation serve extra
contains "$err" "unexpected argument 'extra'"
mkdir -m 700 "$T/data4" && printf 'short\n' > "$T/data4/admin-token"
run 2 timeout 30 "$CCZ" attestation serve --listen 127.0.0.1:0 --data-dir "$T/data4" --sim-dir "$P"
contains "$err" "$T/data4/admin-token: the admin token is shorter than 16 bytes"

# usage errors
run 2 timeout 30 "$CCZ" attestation serve --no-such-option 1
contains "$err" "unknown option '--no-such-option'"
# --help: an option's help wrapped within 96 columns, continued from column 24
run 0 timeout 30 "$CCZ" attestation serve --help
contains "$out" "usage: ccz attestation serve [--config FILE] [options]"
contains "$out" "  --data-dir DIR       state, keys and tokens (default \$CCZ_DATA_DIR, else
                       \$XDG_DATA_HOME/ccz/SERVICE, else ~/.local/share/ccz/SERVICE)"
width=$(printf '%s\n' "$out" | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$width" -le 96 ] || fail "serve --help has a line of $width columns"
run 2 timeout 30 "$CCZ" attestation serve --token-ttl soon
# --NAME=VALUE is the option NAME with its value
run 2 timeout 30 "$CCZ" attestation serve --token-ttl=soon
contains "$err" "--token-ttl: 'soon' is not a number from 0 to 4294967295"
run 2 "$CCZ" kbs get-resource "$URL"
# --timeout bounds the whole exchange: a KBS that accepts and never answers
/usr/bin/python3 "$(dirname "$0")/mute_server.py" "$T/silentport" &
SILENT=$!
await "$T/silentport"
SURL=https://127.0.0.1:$(cat "$T/silentport")
run 2 timeout 20 "$CCZ" kbs get-resource "$SURL" repo/key/model --tee sim --sim-dir "$P" \
    --measurement "$M" --timeout 400
[ "$err" = "ccz: kbs get-resource: KBS $SURL/kbs/v0/auth: no answer in time: the exchange timed out after 400 ms" ] ||
    fail "kbs get-resource from a silent KBS: '$err'"
kill $SILENT 2>/dev/null; wait $SILENT 2>/dev/null
run 2 "$CCZ" attestation bogus
finish
