#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz verify on real SGX and TDX quotes (binary and hex) with collateral: claims, TCB status,
# advisories, error codes, production checks; and ccz attest --tee sgx/tdx replaying recorded
# quotes from device directories laid out as Gramine and configfs-tsm lay them out.
. "$(dirname "$0")/lib.sh"
need_vectors
P=$V/Phala-Network_dcap-qvl/sample
ALL='{"accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
      "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"]}'
echo "$ALL" > "$T/all.json"

# SGX v3: the default policy wants UpToDate, so it verifies and is rejected
run 1 "$CCZ" verify "$P/sgx_quote" --collateral "$P/sgx_quote_collateral.json" --at 1752919277 --json
jqis .ok false
jqis .verified true
jqis .tee sgx
jqis .simulated false
jqis .tcb_status ConfigurationAndSWHardeningNeeded
jqis '.advisories | join(",")' "INTEL-SA-00289,INTEL-SA-00615"
jqis '.policy.reasons[0].code' tcb_status_not_accepted
for k in mr_enclave mr_signer isv_prod_id isv_svn attributes report_data fmspc tcb_status advisories; do
    jqis ".claims | has(\"$k\")" true
done
jqis .claims.fmspc 00a067110000
jqis '.claims.mr_enclave | length' 64
run 0 "$CCZ" verify "$P/sgx_quote" --collateral "$P/sgx_quote_collateral.json" --at 1752919277 --policy "$T/all.json"
contains "$out" "tcb_status  ConfigurationAndSWHardeningNeeded"
contains "$out" "advisory    INTEL-SA-00289"
contains "$out" "advisory    INTEL-SA-00615" # the last one too: one line each

# TDX v4 (binary) and v4 from hex text
run 0 "$CCZ" verify "$P/tdx_quote" --collateral "$P/tdx_quote_collateral.json" --at 1752919234 --json
jqis .tee tdx
jqis .tcb_status UpToDate
for k in mr_td rtmr0 rtmr1 rtmr2 rtmr3 mr_config_id mr_owner mr_owner_config td_attributes xfam tee_tcb_svn report_data fmspc; do
    jqis ".claims | has(\"$k\")" true
done
jqis '.claims.rtmr3 | length' 96
run 0 "$CCZ" verify "$V/Phala-Network_dcap-qvl/tests/near/quote_hex.txt" \
    --collateral "$V/Phala-Network_dcap-qvl/tests/near/quote_collateral.json" --at 1757462400

# TD report 1.5 with a service TD: verified, rejected by the production check unless allowed
A=$V/automata-network_automata-dcap-attestation/evm/forge-test/assets/quotes/alibaba_quote_5.dat
C=$V/derived/automata_tdx_0625_90C06F000000_collateral.json
run 1 "$CCZ" verify "$A" --collateral "$C" --at 1749945600 --json
jqis .verified true
jqis '[.policy.reasons[].code] | join(",")' mrservicetd_nonzero
jqis '.claims | has("mr_servicetd")' true
echo '{"allow_mrservicetd_nonzero": true}' > "$T/svc.json"
run 0 "$CCZ" verify "$A" --collateral "$C" --at 1749945600 --policy "$T/svc.json"

# debug enclave
run 1 "$CCZ" verify "$V/automata-network_automata-dcap-attestation/solana/automata-dcap-framework/tests/data/quote_sgx.bin" \
    --collateral "$P/sgx_quote_collateral.json" --at 1752919277 --policy "$T/all.json" --json
jqis '[.policy.reasons[].code] | join(",")' debug
jqis .claims.debug true

# error codes
run 1 "$CCZ" verify "$P/tdx_quote_outdated" --collateral "$P/tdx_quote_outdated_collateral.json" --at 1774003274 --json
jqis .error.code tcb_level_not_found
jqis .error.step tcb_level
run 1 "$CCZ" verify "$V/mobilecoinfoundation_attestation/verifier/data/tests/hw_quote.dat" \
    --collateral "$V/derived/mobilecoin_collateral.json" --at 1689194905 --json
jqis .error.code collateral_out_of_date
run 1 "$CCZ" verify "$P/sgx_quote" --json --at 1752919277
jqis .error.code collateral_missing
"$CCZ" sim init --dir "$T/other-root" > /dev/null
run 1 "$CCZ" verify "$P/sgx_quote" --collateral "$P/sgx_quote_collateral.json" --at 1752919277 \
    --root-ca "$T/other-root/root.crt" --json
jqis .error.code chain_invalid
jqis .error.step tcb_info
run 2 "$CCZ" verify "$P/sgx_quote" --collateral "$P/sgx_quote_collateral.json" --root-ca /nonexistent
contains "$err" "--root-ca /nonexistent"
run 2 "$CCZ" verify "$P/sgx_quote" --collateral "$P/tdx_quote"
contains "$err" "collateral"
cp "$P/sgx_quote" "$T/flipped"; flip "$T/flipped" 100
run 1 "$CCZ" verify "$T/flipped" --collateral "$P/sgx_quote_collateral.json" --at 1752919277 --json
jqis .error.code signature_invalid
jqis .error.step quote_signature
# collateral that is JSON but not of a supported id or version: a verification failure at the
# collateral step (exit 1, JSON verdict), like a TCB info Intel's parser refuses; bytes that are
# not collateral at all stay unreadable input (exit 2)
C=$P/sgx_quote_collateral.json
unsupported() { # NAME JQ-FILTER
    jq "$2" "$C" > "$T/$1.json"
    run 1 "$CCZ" verify "$P/sgx_quote" --collateral "$T/$1.json" --at 1752919277 --json
    jqis .ok false
    jqis .error.code collateral_unsupported
    jqis .error.step collateral
}
unsupported tcb-v4 '.tcb_info |= sub("\"version\":3"; "\"version\":4")'
contains "$out" "tcbInfo version 4 is not supported"
unsupported tcb-v2-with-v3-fields '.tcb_info |= sub("\"version\":3"; "\"version\":2")'
unsupported qe-v1 '.qe_identity |= sub("\"version\":2"; "\"version\":1")'
unsupported qe-v3 '.qe_identity |= sub("\"version\":2"; "\"version\":3")'
unsupported qe-qve '.qe_identity |= sub("\"id\":\"QE\""; "\"id\":\"QVE\"")'
run 1 "$CCZ" verify "$P/sgx_quote" --collateral "$T/tcb-v4.json" --at 1752919277 --json \
    --policy "$T/all.json"
jqis .verified false
jq '.tcb_info |= (fromjson | .tcbLevels += [.tcbLevels[0]] | tojson)' "$C" > "$T/dup.json"
run 1 "$CCZ" verify "$P/sgx_quote" --collateral "$T/dup.json" --at 1752919277 --json
jqis .error.code malformed
jqis .error.step collateral
contains "$out" "same SVNs"
jq '.tcb_info = "not json"' "$C" > "$T/notjson.json"
run 2 "$CCZ" verify "$P/sgx_quote" --collateral "$T/notjson.json" --at 1752919277 --json
jq '.tcb_info = "[3]"' "$C" > "$T/array.json"
run 2 "$CCZ" verify "$P/sgx_quote" --collateral "$T/array.json" --at 1752919277 --json

head -c 300 "$P/sgx_quote" > "$T/short"
run 2 "$CCZ" verify "$T/short" --collateral "$P/sgx_quote_collateral.json" --json
jqis .error.code truncated

# attest --tee sgx under a replayed Gramine /dev/attestation, then verify what came out
RD=$(od -An -tx1 -v -j 368 -N 64 "$P/sgx_quote" | tr -d ' \n')  # body offset 48 + 320
mkdir -p "$T/gramine/dev/attestation"
printf dcap > "$T/gramine/dev/attestation/attestation_type"
cp "$P/sgx_quote" "$T/gramine/dev/attestation/quote"
run 0 "$CCZ" attest --tee sgx --device-root "$T/gramine" --report-data "$RD" -o "$T/sgx.quote"
cmp -s "$T/sgx.quote" "$P/sgx_quote" || fail "attested quote differs from the replayed one"
run 0 "$CCZ" verify "$T/sgx.quote" --collateral "$P/sgx_quote_collateral.json" --at 1752919277 \
    --report-data "$RD" --policy "$T/all.json"
run 2 "$CCZ" attest --tee sgx --device-root "$T/gramine" --report-data 00 -o "$T/x"
contains "$err" "other report data"

# attest --tee tdx through a replayed configfs-tsm entry
RD=$(od -An -tx1 -v -j 568 -N 64 "$P/tdx_quote" | tr -d ' \n')  # body offset 48 + 520
E=$T/tdx/sys/kernel/config/tsm/report/replay
mkdir -p "$E"
echo tdx_guest > "$E/provider"; echo 1 > "$E/generation"; cp "$P/tdx_quote" "$E/outblob"
run 0 "$CCZ" attest --tee tdx --device-root "$T/tdx" --tsm-entry replay --report-data "$RD" -o "$T/tdx.quote"
run 0 "$CCZ" verify "$T/tdx.quote" --collateral "$P/tdx_quote_collateral.json" --at 1752919234 --report-data "$RD"
[ "$(od -An -tx1 -v "$E/inblob" | tr -d ' \n')" = "$RD" ] || fail "inblob does not hold the report data"
finish
