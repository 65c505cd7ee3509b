#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz sim / attest / verify end to end, exit codes and JSON, against independent tools
# (sha256sum, openssl) for the measurement and signer values.
. "$(dirname "$0")/lib.sh"
P="$T/plat"

run 0 "$CCZ" sim init --dir "$P"
contains "$out" "created a SIMULATED TEE platform in $P
"
run 2 "$CCZ" sim info --dir "$T/none"
[ "$err" = "ccz: sim info: cannot open $T/none/root.crt: No such file or directory" ] ||
    fail "sim info without a platform: '$err'"
run 2 "$CCZ" sim init --dir "$P"
contains "$err" "exists in $P already"
run 0 "$CCZ" sim info --dir "$P"
contains "$out" "SIMULATED TEE platform"
# platform_id = SHA-256 of the root certificate's DER, as openssl computes it
root_id=$(openssl x509 -in "$P/root.crt" -outform DER | sha256sum | cut -d' ' -f1)
contains "$out" "platform_id     $root_id"
# the private keys are the owner's alone
modes=$(cd "$P" && stat -c '%n %a' . root.key ak.key signer.key | tr '\n' ' ')
[ "$modes" = ". 700 root.key 600 ak.key 600 signer.key 600 " ] || fail "platform modes: $modes"
# --force replaces the platform: another root
run 0 "$CCZ" sim init --dir "$T/forced"
first=$(openssl x509 -in "$T/forced/root.crt" -outform DER | sha256sum)
run 0 "$CCZ" sim init --dir "$T/forced" --force
[ "$first" != "$(openssl x509 -in "$T/forced/root.crt" -outform DER | sha256sum)" ] ||
    fail "sim init --force kept the root"

# measurement = SHA-256 of the file, as sha256sum computes it
run 0 "$CCZ" sim measure "$CCZ"
[ "$out" = "$(sha256sum "$CCZ" | cut -d' ' -f1)" ] || fail "sim measure differs from sha256sum"
measure=$out
# signer = SHA-256 of the DER SubjectPublicKeyInfo, as openssl computes it
run 0 "$CCZ" sim signer --dir "$P"
want=$(openssl pkey -in "$P/signer.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)
[ "$out" = "$want" ] || fail "sim signer $out differs from openssl's $want"
signer=$out
# sim info names the directory and the same signer value
run 0 "$CCZ" sim info --dir "$P"
contains "$out" "  directory       $P
"
contains "$out" "  default signer  $want"
run 0 "$CCZ" sim signer "$P/signer.key"
[ "$out" = "$want" ] || fail "sim signer KEY: $out differs from openssl's $want"
run 2 "$CCZ" sim signer "$P/root.crt"
contains "$err" "$P/root.crt is not a PEM key"
run 2 "$CCZ" sim signer "$P/signer.key" "$P/signer.key"
contains "$err" "usage: ccz sim signer [KEY] [--dir D]"
run 2 "$CCZ" sim signer "$P/signer.key" --dir "$P"
contains "$err" "ccz: 'sim signer' takes KEY or --dir D, not both"
# a public key has the same signer value
openssl pkey -in "$P/signer.key" -pubout -out "$T/signer.pub" 2>/dev/null || fail "openssl pkey -pubout"
run 0 "$CCZ" sim signer "$T/signer.pub"
[ "$out" = "$want" ] || fail "sim signer PUBLIC-KEY: $out differs from openssl's $want"
run 2 "$CCZ" sim measure "$CCZ" "$CCZ"
contains "$err" "ccz: usage: ccz sim measure FILE"
run 2 "$CCZ" sim info --dir "$P" extra
contains "$err" "'sim info' takes no arguments"
run 2 "$CCZ" sim init --dir "$P" extra
contains "$err" "'sim init' takes no arguments"
# the platform's certificates form a chain openssl accepts
openssl verify -CAfile "$P/root.crt" "$P/ak.crt" >/dev/null || fail "openssl rejects ak.crt"

RD=00112233445566778899aabbccddeeff
run 0 "$CCZ" attest --tee sim --sim-dir "$P" --report-data $RD --svn 3 --product-id 9 -o "$T/ev"
contains "$err" "SIMULATED"

# default policy: verified, but sim is rejected
run 1 "$CCZ" verify "$T/ev" --sim-dir "$P"
contains "$out" "simulated_not_allowed"
contains "$out" "SIMULATED"
run 1 "$CCZ" verify "$T/ev" --sim-dir "$P" --json
jqis .ok false
jqis .verified true
jqis .simulated true
jqis '.policy.accepted' false
jqis '.policy.reasons[0].code' simulated_not_allowed
jqis 'has("error")' false

# a policy that allows sim and names this program
cat > "$T/accept.json" <<JSON
{"allow_sim": true, "sgx": [{"mr_enclave": "$measure", "mr_signer": "$signer",
  "isv_prod_id": 9, "isv_svn_min": 3}]}
JSON
run 0 "$CCZ" verify "$T/ev" --sim-dir "$P" --policy "$T/accept.json" --report-data $RD --json
jqis .ok true
jqis .verified true
jqis .tee sim
jqis .simulated true
jqis .tcb_status null
jqis '.advisories | length' 0
jqis .claims.mr_enclave "$measure"
jqis .claims.mr_signer "$signer"
jqis .claims.isv_prod_id 9
jqis .claims.isv_svn 3
jqis .claims.debug false
jqis .claims.report_data "${RD}$(printf '0%.0s' $(seq 1 96))"
jqis .policy.accepted true
jqis '.policy.reasons | length' 0
contains "$(printf '%s' "$out" | jq -r .warning)" "SIMULATED"

# the same evidence, rejected: svn too low and wrong product, every reason listed
cat > "$T/reject.json" <<JSON
{"allow_sim": true, "sgx": [{"mr_enclave": "$measure", "isv_prod_id": 8, "isv_svn_min": 4}]}
JSON
run 1 "$CCZ" verify "$T/ev" --sim-dir "$P" --policy "$T/reject.json" --json
jqis .ok false
jqis .verified true
jqis '.policy.reasons[0].code' measurement_not_accepted
contains "$(printf '%s' "$out" | jq -r '.policy.reasons[0].message')" "isv_prod_id is 9, not 8; isv_svn 3 is below 4"

# CCZoo's dynamic_config.json as it is, plus the ccz_allow_sim extension
cat > "$T/dynamic_config.json" <<JSON
{
    "verify_mr_enclave" : "on",
    "verify_mr_signer" : "on",
    "verify_isv_prod_id" : "on",
    "verify_isv_svn" : "on",
    "ccz_allow_sim" : "on",
    "sgx_mrs": [
        { "mr_enclave" : "$(printf '0%.0s' $(seq 1 64))", "mr_signer" : "$signer",
          "isv_prod_id" : "9", "isv_svn" : "3" },
        { "mr_enclave" : "$measure", "mr_signer" : "$signer",
          "isv_prod_id" : "9", "isv_svn" : "3" }
    ]
}
JSON
run 0 "$CCZ" verify "$T/ev" --sim-dir "$P" --policy "$T/dynamic_config.json"
contains "$out" "accepted (CCZoo dynamic_config)"
run 0 "$CCZ" policy check "$T/dynamic_config.json" --json
jqis .format cczoo-dynamic-config
jqis '.policy.sgx | length' 2
jqis '.policy.allow_sim' true

# report data, instant, trust
run 1 "$CCZ" verify "$T/ev" --sim-dir "$P" --policy "$T/accept.json" --report-data ff --json
jqis .ok false
jqis .verified false
jqis .error.code report_data_mismatch
jqis .error.step report_data
jqis .policy null
run 1 "$CCZ" verify "$T/ev" --sim-dir "$P" --at 1000000000 --json
jqis .error.code not_yet_valid
jqis .error.step platform_certificate
jqis .error.hint "a certificate is outside its validity at this instant: check --at and the clock"
run 1 "$CCZ" verify "$T/ev" --sim-dir "$P" --at 4000000000 --json
jqis .error.code expired
jqis .error.step platform_certificate
jqis .error.hint "a certificate is outside its validity at this instant: check --at and the clock"
run 0 "$CCZ" sim init --dir "$T/other"
run 1 "$CCZ" verify "$T/ev" --sim-root "$T/other/root.crt" --json
jqis .error.code chain_invalid
run 0 "$CCZ" verify "$T/ev" --sim-root "$T/other/root.crt" --sim-root "$P/root.crt" \
    --policy "$T/accept.json"
# the default platform is used when none is named
run 0 "$CCZ" sim init
run 0 "$CCZ" attest --tee sim -o "$T/ev-default"
echo '{"allow_sim": true}' > "$T/simonly.json"
run 0 "$CCZ" verify "$T/ev-default" --policy "$T/simonly.json"
run 1 "$CCZ" verify "$T/ev" --json
jqis .error.code chain_invalid

# tampering: one flipped byte in the signed body, in the signature
cp "$T/ev" "$T/ev-body"; flip "$T/ev-body" 40
run 1 "$CCZ" verify "$T/ev-body" --sim-dir "$P" --json
jqis .error.code signature_invalid
jqis .error.step signature
size=$(stat -c %s "$T/ev")
cp "$T/ev" "$T/ev-sig"; flip "$T/ev-sig" $((size - 1))
run 1 "$CCZ" verify "$T/ev-sig" --sim-dir "$P" --json
jqis .error.code signature_invalid

# hex text evidence is read too
od -An -tx1 -v "$T/ev" > "$T/ev.hex"
run 0 "$CCZ" verify "$T/ev.hex" --sim-dir "$P" --policy "$T/accept.json"

# debug evidence needs allow_debug
run 0 "$CCZ" attest --tee sim --sim-dir "$P" --debug -o "$T/ev-debug"
run 1 "$CCZ" verify "$T/ev-debug" --sim-dir "$P" --policy "$T/accept.json" --json
jqis '[.policy.reasons[].code] | join(",")' "measurement_not_accepted,debug"
echo '{"allow_sim": true, "allow_debug": true}' > "$T/debug.json"
run 0 "$CCZ" verify "$T/ev-debug" --sim-dir "$P" --policy "$T/debug.json" --json
jqis .claims.debug true

# evidence to standard output is byte-identical in format
"$CCZ" attest --tee sim --sim-dir "$P" -o - > "$T/ev-stdout" || fail "attest -o - failed"
run 0 "$CCZ" verify "$T/ev-stdout" --sim-dir "$P" --policy "$T/debug.json"
finish
