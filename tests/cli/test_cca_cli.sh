#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Arm CCA tokens through ccz verify: every case of more/cases.json of type cca, read in place
# and named by its id. rust-ccatoken reports a failed check as a trust vector and returns Ok;
# ccz fails verification with a code instead: platform instance_identity 97 (unrecognised) is
# platform_key_unknown, 99 (crypto validation failed) signature_invalid, realm 99 after both
# signatures verified binding_mismatch. Then mutations of the tokens, each failing with its own
# code at its own step, the report data, and the policy's "cca" reference values.
. "$(dirname "$0")/lib.sh"
need_vectors
CASES=$V/more/cases.json
R=$V/more/veraison_rust-ccatoken/testdata
F=$V/more/TrustedFirmware-M_tf-m-tools/iat-verifier/tests/data
PY=/usr/bin/python3

# expect_case ID: runs the case's token against its anchors and checks what the case expects
expect_case() {
    local id=$1 c token anchors p r binding policy=()
    c=$(jq --arg id "$id" '.[] | select(.id == $id)' "$CASES")
    token=$V/more/$(jq -r .files.token <<<"$c")
    anchors=$(jq -r '.anchors.ta_store // .anchors.platform_key_pem_private' <<<"$c")
    if [ "$(jq -r '.files.rv_store // empty' <<<"$c")" != "" ]; then
        # appraise_ok decodes and appraises without verifying (its "ta_store" is rv.json, no
        # trust-anchor store): ccz verifies first, with the CPAK of ta-tfa.json (that platform),
        # then appraises rv.json as the policy's "cca" reference values
        jq '{cca: .}' "$V/more/$(jq -r .files.rv_store <<<"$c")" >"$T/rv-policy.json"
        policy=(--policy "$T/rv-policy.json")
        anchors=veraison_rust-ccatoken/testdata/ta-tfa.json
    fi
    p=$(jq -r '.expect.platform_instance_identity // .expect.own_check.platform_instance_identity // 2' <<<"$c")
    r=$(jq -r '.expect.realm_instance_identity // .expect.own_check.realm_instance_identity // 2' <<<"$c")
    binding=$(jq -r 'if .expect.own_check.binding == false then "false" else "true" end' <<<"$c")
    if [ "$p" = 97 ]; then
        run 1 "$CCZ" verify "$token" --cca-ta "$V/more/$anchors" --json
        jqis .error.code platform_key_unknown
        jqis .error.step platform_token
    elif [ "$p" = 99 ]; then
        run 1 "$CCZ" verify "$token" --cca-ta "$V/more/$anchors" --json
        jqis .error.code signature_invalid
        jqis .error.step platform_token
    elif [ "$r" = 99 ] && [ "$binding" = false ]; then
        run 1 "$CCZ" verify "$token" --cca-ta "$V/more/$anchors" --json
        jqis .error.code binding_mismatch
        jqis .error.step realm_binding
    else
        run 0 "$CCZ" verify "$token" --cca-ta "$V/more/$anchors" "${policy[@]}" --json
        jqis .tee cca
        jqis .verified true
        jqis .ok true
        local rc
        rc=$($PY -c 'import sys; b=open(sys.argv[1],"rb").read(); i=b.rfind(bytes([0x0a,0x58,0x40])); print(b[i+3:i+67].hex())' "$token")
        jqis .claims.report_data "$rc"
    fi
    tested="$tested $id"
}

tested=""
for id in $(jq -r '.[] | select(.type == "cca") | .id' "$CASES"); do
    expect_case "$id"
done
[ "$(jq '[.[] | select(.type == "cca")] | length' "$CASES")" -ge 7 ] || fail "fewer than 7 cca cases"
for id in $(jq -r '.[] | select(.type == "cca") | .id' "$CASES"); do
    contains "$tested" "$id"
done

# the claims of the tag 907 (CMW) token, realm profile 2.0.0, with the platform key as the
# case's JWK as well as its PEM
jq '.[] | select(.id == "cca-tfm-cca-example-token") | .anchors.platform_key_jwk' "$CASES" >"$T/cpak.jwk"
run 0 "$CCZ" verify "$F/cca_example_token.cbor" --cca-ta "$T/cpak.jwk" --json
jqis .claims.realm_profile "tag:arm.com,2024:realm#2.0.0"
jqis .claims.platform_profile "tag:arm.com,2023:cca_platform#1.0.0"
jqis .claims.implementation_id 7f454c4602010100000000000000000003003e00010000005058000000000000
jqis .claims.instance_id 0107060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918
jqis .claims.lifecycle 12291
jqis '.claims.sw_components | length' 13
jqis '.claims.sw_components[8].type' RMM
jqis .claims.rim 311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49
jqis '.claims.rem | length' 4
jqis .claims.personalization_value 54686520717569636b2062726f776e20666f78206a756d7073206f766572203133206c617a7920646f67732e54686520717569636b2062726f776e20666f7820
jqis .claims.rak_hash_alg sha-256
jqis .claims.debug false
# the realm key is not the platform's
run 1 "$CCZ" verify "$F/cca_example_token.cbor" --cca-ta "$F/cca_realm.pem" --json
jqis .error.code signature_invalid
jqis .error.step platform_token
# no anchors at all: the hint names --cca-ta
run 1 "$CCZ" verify "$F/cca_example_token.cbor"
contains "$out" "platform_key_unknown at step platform_token"
contains "$out" "hint        give the platform's attestation key: --cca-ta FILE"
# the legacy profile's token 02: ES256 platform, ES384 realm, sha-512 binding over 64 bytes
run 0 "$CCZ" verify "$R/cca-token-02.cbor" --cca-ta "$R/ta-02-ok.json" --json
jqis '.claims.platform_challenge | length' 128
jqis .claims.realm_profile null
jqis .claims.rak_hash_alg sha-512

# report data: the realm challenge
RC=6e86d6d97cc713bc6dd43dbce491a6b40311c027a8bf85a39da63e9ce44c132a8a119d296fae6a6999e9bf3e4471b0ce01245d889424c31e89793b3b1d6b1504
run 0 "$CCZ" verify "$R/cca-token-draft-ffm-00.cbor" --cca-ta "$R/ta-tfa.json" --report-data $RC
run 1 "$CCZ" verify "$R/cca-token-draft-ffm-00.cbor" --cca-ta "$R/ta-tfa.json" --report-data ff${RC:2} --json
jqis .error.code report_data_mismatch
jqis .error.step report_data

# mutations: mutate FILE HEX_NEEDLE [LAST]: a copy in $T/mut.cbor with the first byte of the
# first (or last) occurrence of the needle XORed with 1
mutate() {
    $PY - "$@" "$T/mut.cbor" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
n = bytes.fromhex(sys.argv[2])
i = b.rfind(n) if len(sys.argv) > 4 else b.find(n)
assert i >= 0, "needle not found"
b[i] ^= 1
open(sys.argv[-1], "wb").write(b)
EOF
}
TFA=$R/ta-tfa.json
FFM=$R/cca-token-draft-ffm-00.cbor
# a byte of the platform token's claims (the configuration): its signature fails
mutate "$FFM" cfcfcfcf
run 1 "$CCZ" verify "$T/mut.cbor" --cca-ta "$TFA" --json
jqis .error.code signature_invalid
jqis .error.step platform_token
# the instance id: no anchor for it
mutate "$FFM" 060504030201000f0e0d0c0b0a09
run 1 "$CCZ" verify "$T/mut.cbor" --cca-ta "$TFA" --json
jqis .error.code platform_key_unknown
# a byte of the realm token's claims (the RIM): its signature fails
mutate "$FFM" 311314ab73620350
run 1 "$CCZ" verify "$T/mut.cbor" --cca-ta "$TFA" --json
jqis .error.code signature_invalid
jqis .error.step realm_token
# the last byte of the realm signature
cp "$FFM" "$T/mut.cbor"; chmod u+w "$T/mut.cbor"
flip "$T/mut.cbor" $(($(stat -c %s "$FFM") - 1))
run 1 "$CCZ" verify "$T/mut.cbor" --cca-ta "$TFA" --json
jqis .error.code signature_invalid
jqis .error.step realm_token
# the collection's tag: neither 399 nor 907 is no CCA token
mutate "$FFM" d9018f
run 2 "$CCZ" verify "$T/mut.cbor" --cca-ta "$TFA" --json
jqis .error.code unknown_evidence_format
# a truncated token
head -c 1000 "$FFM" >"$T/short.cbor"
run 2 "$CCZ" verify "$T/short.cbor" --cca-ta "$TFA" --json
jqis .error.code truncated
jqis .error.step parse

# the policy's reference values: rv.json accepts token 01 and neither the platform nor the
# realm of the draft-ffm-00 token
jq '{cca: .}' "$R/rv.json" >"$T/rv.json"
run 1 "$CCZ" verify "$FFM" --cca-ta "$TFA" --policy "$T/rv.json" --json
jqis .verified true
jqis .ok false
jqis '[.policy.reasons[].code] | join(",")' cca_platform_not_accepted,cca_realm_not_accepted
# a realm entry that names token ffm's RIM only
echo '{"cca": {"realm": [{"initial-measurement": "311314AB73620350CF758834AE5C65D9E8C2DC7FEBE6E7D9654BBE864E300D49"}]}}' >"$T/rim.json"
run 0 "$CCZ" verify "$FFM" --cca-ta "$TFA" --policy "$T/rim.json" --json
jqis .ok true
echo '{"cca": {"realm": [{"initial-mesurement": "00"}]}}' >"$T/typo.json"
run 2 "$CCZ" verify "$FFM" --cca-ta "$TFA" --policy "$T/typo.json"
contains "$err" "cca.realm[0].initial-mesurement: unknown key"
run 0 "$CCZ" policy check "$T/rv.json" --json
finish
