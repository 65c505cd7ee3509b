#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Azure confidential VMs through ccz verify: every case of more/cases.json of types az-snp-vtpm
# and az-tdx-vtpm, named by its id. The parts that come as separate files are assembled into
# evidence in the scratch directory (az_compose.py) and mutated as the cases say; each mutation
# fails with its own code at its own step. The TD quote verifies with the derived Intel
# collateral of its FMSPC at an instant it covers, fetched through ccz collateral fetch from a
# local PCS-shaped server; without collateral the output names the step that needs the network.
. "$(dirname "$0")/lib.sh"
need_vectors
D=$V/more/confidential-containers_trustee/deps/verifier/test_data
S=$D/az-snp-vtpm
X=$D/az-tdx-vtpm
COMPOSE="/usr/bin/python3 $(dirname "$0")/az_compose.py"
AT=1767225600
CHALLENGE=6368616c6c656e6765   # "challenge"
REVERSED=65676e656c6c616863    # "egnellahc"
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# mutate FILE OFFSET set|add VALUE: a copy of FILE with one byte changed, in $T/mut.bin
mutate() {
    cp "$1" "$T/mut.bin"; chmod u+w "$T/mut.bin"
    local b; b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
    [ "$3" = set ] && b=$4 || b=$(((b + $4) & 255))
    printf "$(printf '\\%03o' "$b")" | dd of="$T/mut.bin" bs=1 seek="$2" conv=notrunc status=none
}

# az-snp-evidence-v0, az-snp-evidence-v1, az-snp-evidence-v2: verified and accepted; the claims
# trustee's tests assert (report_data is the vTPM quote's nonce, the PCRs under "tpm")
for v in 0 1 2; do
    id=az-snp-evidence-v$v
    rd=$(jq -r --arg id "$id" '.[] | select(.id == $id) | .expect.claims.report_data' "$V/more/cases.json")
    pcr=$(jq -r --arg id "$id" '.[] | select(.id == $id) | .expect.claims["tpm.pcr00"]' "$V/more/cases.json")
    run 0 "$CCZ" verify "$S/evidence-v$v.json" --report-data "$rd" --at $AT --json
    jqis .tee az-snp-vtpm
    jqis .verified true
    jqis .claims.report_data "$rd"
    jqis .claims.tpm.pcr00 "$pcr"
    jqis '.claims.tpm | length' 24
    jqis .claims.evidence_version $v
    jqis .claims.product Milan
    jqis .claims.vmpl 0
    jqis '.claims.hw_report_data | .[64:]' 0000000000000000000000000000000000000000000000000000000000000000
    jqis .claims.vm_configuration.secure_boot true
done
run 0 "$CCZ" verify "$S/evidence-v1.json" --at $AT
contains "$out" "evidence    az-snp-vtpm"
contains "$out" "report_data      \"$CHALLENGE\""

# az-snp-v2-user-data: v2 binds the HCL variable data's user-data to the report data
run 1 "$CCZ" verify "$S/evidence-v2.json" --report-data 123abc --at $AT --json
jqis .error.code report_data_mismatch
jqis .error.step report_data
contains "$(printf '%s' "$out" | jq -r .error.message)" "user-data"

# the parts: hcl-report.bin (its SNP report, version 2), tpm-quote-v1.json, vcek.pem
$COMPOSE "$T/snp.json" --hcl "$S/hcl-report.bin" --tpm-quote "$S/tpm-quote-v1.json" --vcek "$S/vcek.pem"
# az-snp-hcl-snp-report-sig, az-snp-hcl-report-data, az-snp-tpm-sig, az-snp-tpm-pcrs, and
# az-snp-tpm-nonce with "challenge": all of it verifies
run 0 "$CCZ" verify "$T/snp.json" --report-data $CHALLENGE --at $AT --json
jqis .claims.version 2
jqis .claims.signing_key vcek
# az-snp-tpm-nonce: "egnellahc" is not the nonce
run 1 "$CCZ" verify "$T/snp.json" --report-data $REVERSED --at $AT --json
jqis .error.code report_data_mismatch
jqis .error.step report_data
# az-snp-hcl-snp-report-mutated: reported_tcb.snp zeroed (offset 422): not the VCEK's TCB
mutate "$S/hcl-report.bin" 422 set 0
$COMPOSE "$T/m.json" --hcl "$T/mut.bin" --tpm-quote "$S/tpm-quote-v1.json" --vcek "$S/vcek.pem"
run 1 "$CCZ" verify "$T/m.json" --at $AT --json
jqis .error.code tcb_mismatch
jqis .error.step platform_certificate
# az-snp-hcl-report-data-mutated: a byte of the variable data (offset 1760) changed
mutate "$S/hcl-report.bin" 1760 add 1
$COMPOSE "$T/m.json" --hcl "$T/mut.bin" --tpm-quote "$S/tpm-quote-v1.json" --vcek "$S/vcek.pem"
run 1 "$CCZ" verify "$T/m.json" --at $AT --json
jqis .error.code binding_mismatch
jqis .error.step hcl_report
# az-snp-akpub-mutated: a NUL inside the AK's JWK (offset 1344): no attestation key
mutate "$S/hcl-report.bin" 1344 set 0
$COMPOSE "$T/m.json" --hcl "$T/mut.bin" --tpm-quote "$S/tpm-quote-v1.json" --vcek "$S/vcek.pem"
run 2 "$CCZ" verify "$T/m.json" --at $AT --json
jqis .error.code key_malformed
jqis .error.step parse
contains "$(printf '%s' "$out" | jq -r .error.message)" "HCLAkPub"
# az-snp-tpm-sig-mutated: the quote signature's byte 0 XOR 1
$COMPOSE "$T/m.json" --hcl "$S/hcl-report.bin" --tpm-quote "$S/tpm-quote-v1.json" --vcek "$S/vcek.pem" --flip signature:0
run 1 "$CCZ" verify "$T/m.json" --at $AT --json
jqis .error.code signature_invalid
jqis .error.step tpm_quote
# az-snp-tpm-pcrs, mutated: pcrs[0][0] XOR 1
$COMPOSE "$T/m.json" --hcl "$S/hcl-report.bin" --tpm-quote "$S/tpm-quote-v1.json" --vcek "$S/vcek.pem" --flip pcr0:0
run 1 "$CCZ" verify "$T/m.json" --at $AT --json
jqis .error.code pcr_mismatch
jqis .error.step tpm_quote
# az-snp-init-data: PCR 8 must be SHA-256(32 zero bytes || init data hash); the recorded PCR 8
# is zero, so the case's hash (which needs bddaccb9...) and the failure case's hash both fail
run 1 "$CCZ" verify "$T/snp.json" --at $AT --json \
    --init-data-hash 8505e4e25e50a27c5dc8147af88efbece627fbea55291911eff832d9ee127781
jqis .error.code init_data_mismatch
jqis .error.step init_data
contains "$(printf '%s' "$out" | jq -r .error.message)" "needs bddaccb9c52249e97a31baea61b7d91be8221a16e703d92148d04fb8e9c1dfdd"
run 1 "$CCZ" verify "$T/snp.json" --at $AT --json \
    --init-data-hash 0100000000000000000000000000000000000000000000000000000000000000
jqis .error.code init_data_mismatch
run 2 "$CCZ" verify "$T/snp.json" --init-data-hash 0102
contains "$err" "--init-data-hash"
# the VCEK (2023-05-02..2030-05-02) is checked at the instant
run 1 "$CCZ" verify "$T/snp.json" --at 1950000000 --json
jqis .error.code expired
# Azure SEV-SNP evidence carries its VCEK: Intel collateral does not apply
run 1 "$CCZ" verify "$T/snp.json" --at $AT --collateral "$V/derived/automata_tdx_0625_00806f050000_collateral.json" --json
jqis .error.code collateral_mismatch

# az-tdx-hcl-var-data and az-tdx-tpm-quote: the parts of the TDX evidence, checked offline up
# to the TD quote's collateral (the step that needs the network)
$COMPOSE "$T/tdx.json" --hcl "$X/hcl-report.bin" --tpm-quote "$X/tpm-quote-v1.json" --td-quote "$X/td-quote.bin"
run 1 "$CCZ" verify "$T/tdx.json" --report-data $CHALLENGE --at $AT --json
jqis .error.code collateral_missing
jqis .error.step collateral
contains "$(printf '%s' "$out" | jq -r .error.message)" "needs the network"
run 1 "$CCZ" verify "$T/tdx.json" --report-data $REVERSED --at $AT --json
jqis .error.code report_data_mismatch
mutate "$X/hcl-report.bin" 2176 add 1
$COMPOSE "$T/m.json" --hcl "$T/mut.bin" --tpm-quote "$X/tpm-quote-v1.json" --td-quote "$X/td-quote.bin"
run 1 "$CCZ" verify "$T/m.json" --at $AT --json
jqis .error.code binding_mismatch
jqis .error.step hcl_report
$COMPOSE "$T/m.json" --hcl "$X/hcl-report.bin" --tpm-quote "$X/tpm-quote-v1.json" --td-quote "$X/td-quote.bin" --flip signature:0
run 1 "$CCZ" verify "$T/m.json" --at $AT --json
jqis .error.code signature_invalid
$COMPOSE "$T/m.json" --hcl "$X/hcl-report.bin" --tpm-quote "$X/tpm-quote-v1.json" --td-quote "$X/td-quote.bin" --flip pcr0:0
run 1 "$CCZ" verify "$T/m.json" --at $AT --json
jqis .error.code pcr_mismatch

# az-tdx-evidence-v0, az-tdx-evidence-v1 (upstream needs Intel PCS at run time): the TD quote's
# collateral comes from a PCS-shaped server replaying Intel's collateral for FMSPC 00806F050000
# (derived/, valid in June 2025); verified there, the claims are trustee's
COL=$V/derived/automata_tdx_0625_00806f050000_collateral.json
IN=1749095100
/usr/bin/python3 "$(dirname "$0")/pcs_server.py" "$COL" "$T/requests.log" "$T/port" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$T"' EXIT
await "$T/port"
run 0 "$CCZ" collateral fetch "$X/evidence-v1.json" --pccs "http://127.0.0.1:$(cat "$T/port")" \
    -o "$T/col.json" --no-cache --at $IN
contains "$err" "TDX collateral for FMSPC 00806F050000 fetched"
echo '{"allow_outdated_tcb": true, "allow_sept_ve_disable_clear": true}' > "$T/p.json"
for v in 0 1; do
    run 0 "$CCZ" verify "$X/evidence-v$v.json" --collateral "$T/col.json" --report-data $CHALLENGE \
        --at $IN --policy "$T/p.json" --json
    jqis .tee az-tdx-vtpm
    jqis .claims.report_data $CHALLENGE
    jqis .claims.tpm.pcr00 782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273
    jqis .tcb_status OutOfDate
    jqis .claims.fmspc 00806f050000
    # without collateral: the step that needs the network; at cases.json's instant the
    # June 2025 collateral has expired
    run 1 "$CCZ" verify "$X/evidence-v$v.json" --report-data $CHALLENGE --at $AT --json
    jqis .error.code collateral_missing
    run 1 "$CCZ" verify "$X/evidence-v$v.json" --collateral "$T/col.json" --at $AT --json
    jqis .error.code collateral_out_of_date
done
# the default policy: out of date, and SEPT_VE_DISABLE clear
run 1 "$CCZ" verify "$X/evidence-v1.json" --collateral "$T/col.json" --at $IN --json
jqis '[.policy.reasons[].code] | join(",")' sept_ve_disable_clear,tcb_status_not_accepted
run 2 "$CCZ" collateral fetch "$S/evidence-v1.json" --pccs "http://127.0.0.1:1" -o "$T/x.json"
contains "$err" "carries its VCEK"

# a policy that lists the Azure TEEs, and one that leaves them out
echo '{"tees": ["az-snp-vtpm"]}' > "$T/az.json"
run 0 "$CCZ" verify "$S/evidence-v1.json" --at $AT --policy "$T/az.json"
echo '{"tees": ["snp"]}' > "$T/snp-only.json"
run 1 "$CCZ" verify "$S/evidence-v1.json" --at $AT --policy "$T/snp-only.json" --json
jqis '[.policy.reasons[].code] | join(",")' tee_not_accepted

# every Azure case of more/cases.json is named above
for id in $(jq -r '.[] | select(.type | startswith("az-")) | .id' "$V/more/cases.json"); do
    grep -q -- "$id" "$0" || fail "case $id is not covered"
done
finish
