#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hygon CSV through the ccz command: every case of more/cases.json of type csv, named by its id
# (a case this script does not know fails it), with the result cases.json expects; the
# mutations of each file fail with their own code at their own step; collateral fetch
# --hygon-kds against a local KDS-shaped server, then from the cache. Trustee's evidence needs
# Hygon's KDS for its chip: the output names that step and how to take it.
. "$(dirname "$0")/lib.sh"
need_vectors
M=$V/more
C=$M/cases.json
AT=1767225600
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

file() { jq -r --arg id "$1" --arg r "$2" '.[] | select(.id == $id) | .files[$r]' "$C"; }
expect() { jq -r --arg id "$1" --arg k "$2" '.[] | select(.id == $id) | .expect[$k]' "$C"; }

# flipped FILE OFFSET: a copy with one bit changed, in $T/mut.bin
flipped() { cp "$1" "$T/mut.bin"; chmod u+w "$T/mut.bin"; flip "$T/mut.bin" "$2"; }

case_hrk_selfsig() {
    local f=$M/$(file "$1" hrk)
    [ "$(expect "$1" result)" = ok ] || fail "$1: unexpected expectation"
    run 0 "$CCZ" collateral info "$f"
    contains "$out" "HRK self-signature: ok"
    contains "$out" "verified from the built-in HRK"
    flipped "$f" 300 # inside the signed part
    run 1 "$CCZ" collateral info "$T/mut.bin"
    contains "$out" "chain_invalid"
}

case_hrk_signs_hsk() {
    local f=$M/$(file "$1" hsk)
    run 0 "$CCZ" collateral info "$f"
    contains "$out" "HRK -> HSK: ok"
    flipped "$f" 579 # the signature's r
    run 1 "$CCZ" collateral info "$T/mut.bin"
    contains "$out" "chain_invalid: HRK -> HSK"
}

case_hsk_signs_cek() {
    local hsk=$M/$(file "$1" hsk) cek=$M/$(file "$1" cek) b=$M/$(file "$1" hsk_cek_bundle)
    cat "$hsk" "$cek" > "$T/bundle.cert"
    cmp -s "$T/bundle.cert" "$b" || fail "$1: hsk_cek.cert is not hsk.cert then cek.cert"
    # two CA certificates (832 bytes each) are Hygon certificates too: checked as a chain
    cat "$hsk" "$hsk" > "$T/two_ca.cert"
    run 1 "$CCZ" collateral info "$T/two_ca.cert"
    contains "$out" "tee         CSV (Hygon certificates)"
    # and so are two CSV certificates (2084 bytes each): the CEK does not sign a CEK
    cat "$cek" "$cek" > "$T/two_csv.cert"
    run 1 "$CCZ" collateral info "$T/two_csv.cert"
    contains "$out" "tee         CSV (Hygon certificates)"
    contains "$out" "chain       FAILED: chain_invalid"
    run 0 "$CCZ" collateral info "$b"
    contains "$out" "HRK -> HSK: ok"
    contains "$out" "HSK -> CEK: ok"
    flipped "$b" $((832 + 1044 + 8 + 3)) # the CEK's first signature
    run 1 "$CCZ" collateral info "$T/mut.bin"
    contains "$out" "chain_invalid: HSK -> CEK"
}

case_report_v1_full_chain() {
    local r=$M/$(file "$1" report) b=$M/$(file "$1" hsk_cek_bundle)
    run 0 "$CCZ" verify "$r" --hsk-cek "$b" --at $AT --json
    jqis .tee csv
    jqis .verified true
    jqis .ok true
    jqis .claims.chip_serial "$(expect "$1" serial_number)"
    jqis .claims.report_data "$(expect "$1" report_data_after_xor)"
    jqis .claims.mnonce "$(expect "$1" mnonce_after_xor)"
    jqis .claims.policy "$(expect "$1" policy_after_xor)"
    jqis .claims.measurement "$(expect "$1" measure)"
    jqis .claims.anonce $(($(expect "$1" anonce)))
    jqis .claims.mac_checked true
    jqis .claims.version 1
    # a policy's csv list pins the measurement: this one's, or none
    local m
    m=$(expect "$1" measure)
    echo "{\"csv\": [{\"measurement\": \"$m\"}]}" > "$T/csv-policy.json"
    run 0 "$CCZ" verify "$r" --hsk-cek "$b" --at $AT --policy "$T/csv-policy.json"
    echo "{\"csv\": [{\"measurement\": \"$(printf '%064d' 0)\"}]}" > "$T/csv-policy.json"
    run 1 "$CCZ" verify "$r" --hsk-cek "$b" --at $AT --policy "$T/csv-policy.json" --json
    jqis .ok false
    jqis '.policy.reasons[0].code' measurement_not_accepted
    jqis '.policy.reasons[0].message' "csv[0]: measurement is ${m:0:12}..., not 000000000000..."
    run 0 "$CCZ" verify "$r" --hsk-cek "$b" --report-data 757365722064617461 --at $AT
    contains "$out" "evidence    csv"
    run 1 "$CCZ" verify "$r" --hsk-cek "$b" --report-data 00 --json
    jqis .error.code report_data_mismatch
    jqis .error.step report_data
    # each mutation: its code at its step
    local m
    for m in 64:signature_invalid:signature 176:signature_invalid:signature \
        196:signature_invalid:signature 2423:binding_mismatch:signature \
        2520:binding_mismatch:signature; do
        flipped "$r" "${m%%:*}"
        run 1 "$CCZ" verify "$T/mut.bin" --hsk-cek "$b" --json
        jqis .error.code "$(echo "$m" | cut -d: -f2)"
        jqis .error.step "${m##*:}"
    done
    flipped "$b" 579
    run 1 "$CCZ" verify "$r" --hsk-cek "$T/mut.bin" --json
    jqis .error.code chain_invalid
    jqis .error.step platform_certificate
    contains "$(printf '%s' "$out" | jq -r .error.message)" "HRK -> HSK"
    # without the HSK/CEK: the step that needs the network
    run 1 "$CCZ" verify "$r" --json
    jqis .error.code collateral_missing
    jqis .error.step collateral
    contains "$(printf '%s' "$out" | jq -r .error.message)" "--hygon-kds"
    head -c 2000 "$r" > "$T/short.bin"
    run 2 "$CCZ" verify "$T/short.bin" --hsk-cek "$b"
    run 2 "$CCZ" verify "$r" --hsk-cek "$T/short.bin"
    contains "$err" "HSK/CEK"
}

case_trustee_evidence_full() {
    local e=$M/$(file "$1" evidence)
    [ "$(jq -r --arg id "$1" '.[] | select(.id == $id) | .requires_network' "$C")" = true ] ||
        fail "$1: expected to be marked requires_network"
    # offline: the PEK signs the report; the chain needs the chip's HSK/CEK from Hygon's KDS
    run 1 "$CCZ" verify "$e" --at $AT --json
    jqis .error.code collateral_missing
    jqis .error.step collateral
    local msg
    msg=$(printf '%s' "$out" | jq -r .error.message)
    contains "$msg" "the report's signature verifies with the evidence's PEK"
    contains "$msg" "$(expect "$1" serial_number)"
    contains "$msg" "needs the network"
    run 1 "$CCZ" verify "$e" --at $AT
    contains "$out" "collateral_missing at step collateral"
    echo "$1: needs the network at step 'collateral' (HSK/CEK of $(expect "$1" serial_number) from Hygon's KDS); offline parts checked"
}

# every csv case of cases.json
n=0
for id in $(jq -r '.[] | select(.type == "csv") | .id' "$C"); do
    n=$((n + 1))
    case $id in
    csv-csvrs-hrk-selfsig) case_hrk_selfsig "$id" ;;
    csv-csvrs-hrk-signs-hsk) case_hrk_signs_hsk "$id" ;;
    csv-csvrs-hsk-signs-cek) case_hsk_signs_cek "$id" ;;
    csv-csvrs-report-v1-full-chain) case_report_v1_full_chain "$id" ;;
    csv-trustee-evidence-full) case_trustee_evidence_full "$id" ;;
    *) fail "csv case $id is not handled by this test" ;;
    esac
done
[ "$n" -ge 5 ] || fail "only $n csv cases in cases.json"

# collateral fetch --hygon-kds: a local KDS serving csv-rs's bundle for both chips
R=$M/wojiaohanliyang_csv-rs/tests/test_data/report.cert
B=$M/wojiaohanliyang_csv-rs/tests/test_data/hsk_cek.cert
E=$M/confidential-containers_trustee/deps/verifier/test_data/csv_evidence.json
rm -f "$T/port"
/usr/bin/python3 "$(dirname "$0")/kds_server.py" hygon "$B" NZA9T14052605,KPA64911240507 \
    "$T/kds.log" "$T/port" &
kds_pid=$!
trap 'kill $kds_pid 2>/dev/null; rm -rf "$T"' EXIT
await "$T/port"
url="http://127.0.0.1:$(cat "$T/port")"
run 0 "$CCZ" collateral fetch "$R" --hygon-kds "$url" -o "$T/hc.cert" --cache-dir "$T/cache"
contains "$err" "HSK/CEK fetched"
contains "$(cat "$T/kds.log")" "/hsk_cek?snumber=NZA9T14052605"
cmp -s "$T/hc.cert" "$B" || fail "fetched bundle differs"
run 0 "$CCZ" verify "$R" --hsk-cek "$T/hc.cert" --at $AT
# a KDS URL ending in a slash; a damaged cache entry is fetched again and replaced
: > "$T/kds.log"
echo damaged > "$T/cache/hsk_cek-NZA9T14052605.cert"
run 0 "$CCZ" collateral fetch "$R" --hygon-kds "$url/" -o "$T/hc.cert" --cache-dir "$T/cache"
contains "$err" "HSK/CEK fetched"
case "$(cat "$T/kds.log")" in //*) fail "a trailing slash in --hygon-kds doubled the path's";; esac
cmp -s "$T/cache/hsk_cek-NZA9T14052605.cert" "$B" || fail "the damaged cache entry stayed"
# trustee's evidence: the bundle served is another chip's, so its CEK did not sign this PEK
run 0 "$CCZ" collateral fetch "$E" --hygon-kds "$url" -o "$T/hc2.cert" --no-cache
run 1 "$CCZ" verify "$E" --hsk-cek "$T/hc2.cert" --json
jqis .error.code chain_invalid
jqis .error.step platform_certificate
contains "$(printf '%s' "$out" | jq -r .error.message)" "CEK -> PEK"
kill $kds_pid; wait $kds_pid 2>/dev/null
lines=$(wc -l < "$T/kds.log")
run 0 "$CCZ" collateral fetch "$R" --hygon-kds "$url" -o "$T/hc3.cert" --cache-dir "$T/cache"
contains "$err" "from the cache"
[ "$(wc -l < "$T/kds.log")" = "$lines" ] || fail "the cached fetch reached the server"
cmp -s "$T/hc3.cert" "$B" || fail "cached bundle differs"
# -o - writes the bundle to standard output
"$CCZ" collateral fetch "$R" --hygon-kds "$url" -o - --cache-dir "$T/cache" > "$T/stdout.cert" \
    2> "$T/stdout.err" || fail "collateral fetch --hygon-kds -o -: $(cat "$T/stdout.err")"
cmp -s "$T/stdout.cert" "$B" || fail "collateral fetch --hygon-kds -o - wrote another bundle"
# a KDS that serves something else: a bundle of the wrong size, one that does not parse, and
# one that parses but whose HSK the built-in HRK did not sign (a bit of its signature's r)
# (none is cached)
cat "$B" "$B" > "$T/double.cert"
/usr/bin/python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[579] ^= 1; open(sys.argv[2], "wb").write(b)' "$B" "$T/badsig.cert"
for bad in "$T/double.cert:answered with $(($(wc -c < "$B") * 2)) bytes, not an HSK/CEK bundle" \
    "$M/wojiaohanliyang_csv-rs/tests/test_data/cek.cert:/hsk_cek?snumber=NZA9T14052605 served: HSK/CEK bundle" \
    "$T/badsig.cert:/hsk_cek?snumber=NZA9T14052605 served: HRK -> HSK"; do
    rm -f "$T/port"
    /usr/bin/python3 "$(dirname "$0")/kds_server.py" hygon "${bad%%:*}" NZA9T14052605 "$T/kds2.log" "$T/port" &
    bad_pid=$!
    await "$T/port"
    run 2 "$CCZ" collateral fetch "$R" --hygon-kds "http://127.0.0.1:$(cat "$T/port")" -o "$T/x.cert" \
        --cache-dir "$T/badcache"
    contains "$err" "${bad#*:}"
    [ ! -e "$T/badcache/hsk_cek-NZA9T14052605.cert" ] || fail "a bad bundle was cached"
    kill $bad_pid; wait $bad_pid 2>/dev/null
done
# the server gone, no cache: a network error; wrong kinds of evidence: usage errors
run 2 "$CCZ" collateral fetch "$R" --hygon-kds "$url" -o "$T/x.cert" --no-cache
run 2 "$CCZ" collateral fetch "$B" --hygon-kds "$url" -o "$T/x.cert" --no-cache
contains "$err" "is not Hygon CSV evidence (--hygon-kds)"
run 2 "$CCZ" collateral fetch "$R" --kds "$url" -o "$T/x.cert" --no-cache
contains "$err" "--hygon-kds"
run 2 "$CCZ" verify "$R" --hsk-cek "$B" --vek "$B"
finish
