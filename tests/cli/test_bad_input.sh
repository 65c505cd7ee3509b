#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Malformed input of every kind: exit code 2 and a message naming the problem.
. "$(dirname "$0")/lib.sh"
P="$T/plat"
"$CCZ" sim init --dir "$P" >/dev/null
"$CCZ" attest --tee sim --sim-dir "$P" -o "$T/ev" 2>/dev/null

# usage
run 2 "$CCZ"
run 2 "$CCZ" frobnicate
contains "$err" "unknown command 'frobnicate'"
# the usage that follows goes to standard error, as the refusal does: nothing on standard output
contains "$err" "usage: ccz <command> [options]"
[ -z "$out" ] || fail "an unknown command printed to standard output: '$out'"
run 0 "$CCZ" --help
run 0 "$CCZ" version
contains "$out" "ccz 0."
run 2 "$CCZ" verify
contains "$err" "no evidence file given"
run 2 "$CCZ" verify a b
run 2 "$CCZ" verify "$T/ev" --at yesterday
contains "$err" "--at: 'yesterday' is not a decimal number"
run 2 "$CCZ" verify "$T/ev" --report-data xyz
contains "$err" "--report-data"
run 2 "$CCZ" verify "$T/ev" --report-data "$(printf 'ab%.0s' $(seq 1 65))"
contains "$err" "at most 128"
run 2 "$CCZ" verify "$T/ev" --bogus
run 2 "$CCZ" attest -o "$T/x"
contains "$err" "--tee is required"
run 2 "$CCZ" attest --tee sgx --device-root "$T" -o "$T/x"
contains "$err" "no Gramine attestation interface at $T/dev/attestation/attestation_type"
run 2 "$CCZ" attest --tee tdx --device-root "$T" -o "$T/x"
contains "$err" "no TDX guest interface"
run 2 "$CCZ" attest --tee nope -o "$T/x"
contains "$err" "unknown TEE 'nope'"
run 2 "$CCZ" attest --tee sim --sim-dir "$P"
contains "$err" "-o FILE is required"
run 2 "$CCZ" attest --tee sim --sim-dir "$P" -o "$T/x" extra
contains "$err" "unexpected argument 'extra'"
# the simulated TEE hands out no certificates: refused, and no evidence written either
run 2 "$CCZ" attest --tee sim --sim-dir "$P" -o "$T/x" --certs-out "$T/x.pem"
contains "$err" "ccz: attest --tee sim: the TEE handed out no certificates (--certs-out)"
[ -e "$T/x" ] || [ -e "$T/x.pem" ] && fail "a refused attest wrote a file"
# evidence to standard output ('-'), with the report data padded to 64 bytes; to a file, the
# simulated TEE is said
"$CCZ" attest --tee sim --sim-dir "$P" --report-data abcd -o - > "$T/ev.stdout" 2> /dev/null ||
    fail "attest -o - failed"
echo '{"allow_sim": true}' > "$T/sim.json"
run 0 "$CCZ" verify "$T/ev.stdout" --sim-dir "$P" --policy "$T/sim.json" --json
jqis .claims.report_data "abcd$(printf '0%.0s' $(seq 124))"
run 0 "$CCZ" attest --tee sim --sim-dir "$P" -o "$T/ev.file"
contains "$err" "wrote $(stat -c %s "$T/ev.file") bytes of sim evidence to $T/ev.file (SIMULATED TEE: not hardware-backed)"
run 2 "$CCZ" attest --tee sim --sim-dir "$P" --svn 70000 -o "$T/x"
contains "$err" "--svn: 70000 is larger than 65535"
run 2 "$CCZ" attest --tee sim --sim-dir "$P" --measurement abcd -o "$T/x"
contains "$err" "--measurement: hex: expected 64 digits"
run 2 "$CCZ" attest --tee sim --sim-dir "$T/none" -o "$T/x"
contains "$err" "ccz sim init --dir $T/none"
run 2 "$CCZ" attest --tee sim --sim-dir "$P" --signer-key "$P/root.crt" -o "$T/x"
contains "$err" "is not a PEM key"
run 2 "$CCZ" sim measure /nonexistent/prog
contains "$err" "cannot open /nonexistent/prog"
run 2 "$CCZ" sim bake
run 2 "$CCZ" policy
run 2 "$CCZ" policy check
contains "$err" "no policy file given"
run 2 "$CCZ" policy check "$T/a.json" "$T/b.json"
contains "$err" "give exactly one policy file"
run 2 "$CCZ" policy lint x

# unreadable evidence
run 2 "$CCZ" verify /nonexistent/evidence --sim-dir "$P"
contains "$err" "cannot open /nonexistent/evidence"
: > "$T/empty"
run 2 "$CCZ" verify "$T/empty" --sim-dir "$P" --json
jqis .error.code unknown_evidence_format
jqis .error.step detect
jqis .ok false
head -c 500 /dev/urandom | tr '\000' x > "$T/random"; printf 'RAND' | dd of="$T/random" conv=notrunc status=none
run 2 "$CCZ" verify "$T/random" --sim-dir "$P" --json
jqis .error.code unknown_evidence_format
run 2 "$CCZ" verify "$P" --sim-dir "$P"
contains "$err" "is a directory"
echo "abc" > "$T/oddhex"
run 2 "$CCZ" verify "$T/oddhex" --sim-dir "$P"
contains "$err" "odd number of digits"
head -c 100 "$T/ev" > "$T/truncated"
run 2 "$CCZ" verify "$T/truncated" --sim-dir "$P" --json
jqis .error.code truncated
jqis .error.step parse
contains "$(printf '%s' "$out" | jq -r .error.message)" "need 64 bytes at offset 84, only 16 remain"
cp "$T/ev" "$T/trailing"; printf 'x' >> "$T/trailing"
run 2 "$CCZ" verify "$T/trailing" --sim-dir "$P" --json
jqis .error.code trailing_data
cp "$T/ev" "$T/version"; printf '\007' | dd of="$T/version" bs=1 seek=4 conv=notrunc status=none
run 2 "$CCZ" verify "$T/version" --sim-dir "$P" --json
jqis .error.code unsupported_version
head -c 20000 /dev/zero > "$T/big"; printf 'CCZS' | dd of="$T/big" conv=notrunc status=none
run 2 "$CCZ" verify "$T/big" --sim-dir "$P" --json
jqis .error.code unsupported_version

# unreadable trust anchors and policies
run 2 "$CCZ" verify "$T/ev" --sim-root /nonexistent/root.crt
contains "$err" "sim root /nonexistent/root.crt"
run 2 "$CCZ" verify "$T/ev" --sim-root "$P/ak.key"
contains "$err" "cannot parse certificate"
run 2 "$CCZ" verify "$T/ev" --sim-dir "$P" --policy /nonexistent/policy.json
contains "$err" "cannot open /nonexistent/policy.json"
printf '{"allow_sim": true,' > "$T/p1.json"
run 2 "$CCZ" verify "$T/ev" --sim-dir "$P" --policy "$T/p1.json"
contains "$err" "invalid JSON at line 1"
echo '{"verify_mr_enclave": "on", "sgx_mrs": [{"mr_enclave": ""}]}' > "$T/p2.json"
run 2 "$CCZ" verify "$T/ev" --sim-dir "$P" --policy "$T/p2.json"
contains "$err" "sgx_mrs[0].mr_enclave is empty but verify_mr_enclave is \"on\""
run 2 "$CCZ" policy check "$T/p2.json"
contains "$err" "sgx_mrs[0].mr_enclave is empty"
echo '{"allow_sim": "true"}' > "$T/p3.json"
run 2 "$CCZ" policy check "$T/p3.json"
contains "$err" "allow_sim: must be true or false"
echo '{"sgx": [{"isv_prod_id": "x"}]}' > "$T/p4.json"
run 2 "$CCZ" policy check "$T/p4.json" --json
contains "$err" "sgx[0].isv_prod_id: \"x\" is not a decimal number"
head -c 2000000 /dev/zero | tr '\0' ' ' > "$T/p5.json"
run 2 "$CCZ" policy check "$T/p5.json"
contains "$err" "limit"
echo '{}' > "$T/p6.json"
run 0 "$CCZ" policy check "$T/p6.json"
contains "$out" "valid ccz policy"
[ -z "$err" ] || fail "a policy pinning nothing got a note: $err"
# a list for some TEEs leaves the others open: a note names them (sim only when allowed)
Z64=$(printf '%064d' 0)
echo "{\"tdx\": [{\"mr_td\": \"$Z64$(printf '%032d' 0)\"}], \"csv\": []}" > "$T/p7.json"
run 0 "$CCZ" policy check "$T/p7.json" --json
jqis '.notes[0]' 'sgx, snp, az-snp-vtpm, cca evidence is accepted with any measurement: no list of this policy constrains it (list the TEEs to accept in "tees")'
contains "$err" "ccz: policy check: note: sgx, snp, az-snp-vtpm, cca evidence"
echo "{\"allow_sim\": true, \"tees\": [\"sim\", \"sgx\", \"snp\"], \"snp\": [{\"guest_svn_min\": 1}]}" > "$T/p8.json"
run 0 "$CCZ" policy check "$T/p8.json"
contains "$err" "note: sim, sgx evidence is accepted with any measurement"
echo "{\"tees\": [\"sgx\"], \"sgx\": [{\"mr_enclave\": \"$Z64\"}]}" > "$T/p9.json"
run 0 "$CCZ" policy check "$T/p9.json" --json
jqis '.notes | length' 0
[ -z "$err" ] || fail "a policy whose every TEE has a list got a note: $err"
finish
