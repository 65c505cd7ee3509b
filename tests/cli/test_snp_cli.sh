#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SEV-SNP end to end with recorded reports and VEKs: ccz verify --vek (claims, exit codes,
# production checks), ccz attest --tee snp through a replayed configfs-tsm entry with the host's
# certificate table, and ccz collateral fetch --kds against a local KDS replaying the VCEK.
. "$(dirname "$0")/lib.sh"
need_vectors
R=$V/google_go-sev-guest/verify/testdata/attestation.bin
K=$V/google_go-sev-guest/verify/testdata/vcek.testcer
AT=1767225600

# verified, and rejected by the default policy: the guest policy allows debugging
run 1 "$CCZ" verify "$R" --vek "$K" --at $AT --json
jqis .verified true
jqis .tee snp
jqis .claims.version 2
jqis .claims.vmpl 0
jqis .claims.policy 0xb0000
jqis .claims.debug_allowed true
jqis .claims.signing_key vcek
jqis .claims.product Milan
jqis .claims.reported_tcb.bootloader 2
jqis .claims.reported_tcb.snp 5
jqis .claims.reported_tcb.microcode 68
jqis '.claims.chip_id | length' 128
jqis '.claims.measurement | length' 96
jqis '[.policy.reasons[].code] | join(",")' debug
echo '{"allow_debug": true, "snp": [{"host_data": "0000000000000000000000000000000000000000000000000000000000000000"}]}' > "$T/p.json"
run 0 "$CCZ" verify "$R" --vek "$K" --at $AT --policy "$T/p.json" --report-data 0102030405
run 0 "$CCZ" verify "$R" --vek "$K" --cert-chain "$V/google_go-sev-guest/verify/trust/ask_ark_milan.pem" \
    --at $AT --policy "$T/p.json"
run 1 "$CCZ" verify "$R" --vek "$V/virtee_sev/tests/certs_data/vcek_milan.der" --at $AT --json
jqis .error.code tcb_mismatch
run 1 "$CCZ" verify "$R" --at $AT --json
jqis .error.code collateral_missing
# a --cert-chain that did not sign the VEK: chain_invalid at the platform certificate, and no
# hint about sim platforms' --sim-dir (that hint is for sim evidence only)
run 1 "$CCZ" verify "$R" --vek "$K" --cert-chain "$V/google_go-sev-guest/verify/trust/ask_ark_genoa.pem" \
    --at $AT
contains "$out" "error       chain_invalid at step platform_certificate"
case "$out" in *"--sim-dir"*) fail "a SEV-SNP chain failure gave the sim hint: $out";; esac
run 2 "$CCZ" verify "$R" --vek "$R"
contains "$err" "--vek"
run 2 "$CCZ" verify "$R" --cert-chain "$K"
contains "$err" "--cert-chain goes with --vek"
cp "$R" "$T/flipped"; flip "$T/flipped" 200
run 1 "$CCZ" verify "$T/flipped" --vek "$K" --at $AT --json
jqis .error.code signature_invalid

# the hex report of virtee and the VLEK report of trustee
run 0 "$CCZ" verify "$V/virtee_sev/tests/certs_data/report_milan.hex" --vek "$V/virtee_sev/tests/certs_data/vcek_milan.der" --at $AT
D=$V/confidential-containers_trustee/deps/verifier/test_data/snp
# VMPL 1: verified, and rejected by the default policy (VMPL 0 only) until the policy allows it
run 1 "$CCZ" verify "$D/test-vlek-report.bin" --vek "$D/test-vlek.der" --at 1750000000 --json
jqis .verified true
jqis .policy.accepted false
jqis .claims.signing_key vlek
jqis .claims.vmpl 1
jqis '[.policy.reasons[].code] | join(",")' vmpl_too_high
echo '{"snp_max_vmpl": 1}' > "$T/vmpl.json"
run 0 "$CCZ" verify "$D/test-vlek-report.bin" --vek "$D/test-vlek.der" --at 1750000000 --policy "$T/vmpl.json" --json
jqis .policy.accepted true
run 0 "$CCZ" policy check "$T/vmpl.json" --json
jqis .policy.snp_max_vmpl 1

# attest --tee snp through a replayed configfs-tsm entry whose auxblob holds the host's
# certificate table (VCEK GUID 63da758d-e664-4564-adc5-f4b93be8accd)
E=$T/snp/sys/kernel/config/tsm/report/replay
mkdir -p "$E"
echo sev_guest > "$E/provider"; echo 1 > "$E/generation"; cp "$R" "$E/outblob"
size=$(stat -c %s "$K")
{
    printf '\x8d\x75\xda\x63\x64\xe6\x64\x45\xad\xc5\xf4\xb9\x3b\xe8\xac\xcd'
    printf "$(printf '\\%03o\\%03o\\000\\000' 48 0)"                    # offset 48
    printf "$(printf '\\%03o\\%03o\\000\\000' $((size & 255)) $((size >> 8)))"
    head -c 24 /dev/zero                                                  # the zero entry
    cat "$K"
} > "$E/auxblob"
RD=0102030405$(printf '0%.0s' $(seq 1 118))
run 0 "$CCZ" attest --tee snp --device-root "$T/snp" --tsm-entry replay --report-data "$RD" \
    -o "$T/report.bin" --certs-out "$T/certs.pem"
cmp -s "$T/report.bin" "$R" || fail "attested report differs from the replayed one"
openssl x509 -in "$T/certs.pem" -noout -subject | grep -q SEV-VCEK || fail "no VCEK in --certs-out"
run 0 "$CCZ" verify "$T/report.bin" --vek "$T/certs.pem" --at $AT --policy "$T/p.json" --report-data "$RD"
run 2 "$CCZ" attest --tee snp --device-root "$T/snp" --tsm-entry replay --report-data 00 -o "$T/x"
contains "$err" "other report data"
# a table with the ASK too (GUID 4ab7b379-bbac-4fe4-a02f-05aef327c782; the VCEK's bytes stand in
# for it): the VEK, then the chain, in --certs-out
{
    printf '\x8d\x75\xda\x63\x64\xe6\x64\x45\xad\xc5\xf4\xb9\x3b\xe8\xac\xcd'
    printf "$(printf '\\%03o\\%03o\\000\\000' 72 0)"                    # offset 72
    printf "$(printf '\\%03o\\%03o\\000\\000' $((size & 255)) $((size >> 8)))"
    printf '\x79\xb3\xb7\x4a\xac\xbb\xe4\x4f\xa0\x2f\x05\xae\xf3\x27\xc7\x82'
    printf "$(printf '\\%03o\\%03o\\000\\000' 72 0)"
    printf "$(printf '\\%03o\\%03o\\000\\000' $((size & 255)) $((size >> 8)))"
    head -c 24 /dev/zero
    cat "$K"
} > "$E/auxblob"
run 0 "$CCZ" attest --tee snp --device-root "$T/snp" --tsm-entry replay --report-data "$RD" \
    -o "$T/report.bin" --certs-out "$T/certs2.pem"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/certs2.pem")" = 2 ] || fail "the ASK is not in --certs-out"

# collateral fetch --kds: the VCEK by chip id and reported TCB, then from the cache
rm -f "$T/port"
/usr/bin/python3 "$(dirname "$0")/kds_server.py" amd "$K" Milan "$T/kds.log" "$T/port" &
kds_pid=$!
trap 'kill $kds_pid 2>/dev/null; rm -rf "$T"' EXIT
await "$T/port"
url="http://127.0.0.1:$(cat "$T/port")"
run 2 "$CCZ" collateral fetch "$R" --kds "$url" -o "$T/vcek.der" --no-cache
contains "$err" "give the product"
run 0 "$CCZ" collateral fetch "$R" --kds "$url" --product Milan -o "$T/vcek.der" --cache-dir "$T/cache"
contains "$err" "VCEK fetched"
# a VCEK is public: 0644 under the umask, as the PCS collateral is written
[ "$(stat -c %a "$T/vcek.der")" = "$(printf '%o' $((0644 & ~0$(umask))))" ] ||
    fail "the fetched VCEK's mode is $(stat -c %a "$T/vcek.der")"
hwid=$(od -An -tx1 -v -j 416 -N 64 "$R" | tr -d ' \n')
contains "$(cat "$T/kds.log")" "/vcek/v1/Milan/$hwid?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68"
cmp -s "$T/vcek.der" "$K" || fail "fetched VCEK differs"
# the KDS base URL may end in a slash; the path gets no second one
: > "$T/kds.log"
run 0 "$CCZ" collateral fetch "$R" --kds "$url/" --product Milan -o "$T/slash.der" --no-cache
case "$(cat "$T/kds.log")" in //*) fail "a trailing slash in --kds doubled the path's";; esac
# what KDS answers must be the VCEK of the report's chip at its reported TCB: the same recorded
# VCEK is refused for a report whose chip id (at 0x1A0) or reported TCB (microcode, 0x187)
# differs; a report that masks its chip id (key info bit 1, 0x48) cannot be looked up at all
patched() { # NAME OFFSET BYTE
    cp "$R" "$T/$1.bin"
    printf "$3" | dd of="$T/$1.bin" bs=1 seek=$(($2)) conv=notrunc status=none
}
patched chip 0x1a0 '\x3b'
patched tcb 0x187 '\x45'
patched masked 0x48 '\x02'
for r in chip tcb; do
    run 2 "$CCZ" collateral fetch "$T/$r.bin" --kds "$url" --product Milan -o "$T/x" --no-cache
    contains "$err" "KDS answered with a VCEK for another chip or TCB"
done
run 2 "$CCZ" collateral fetch "$T/masked.bin" --kds "$url" --product Milan -o "$T/x" --no-cache
contains "$err" "masks its chip id"
# a Turin VCEK is looked up by the first 8 bytes of the chip id, with the FMC's SPL
: > "$T/kds.log"
run 2 "$CCZ" collateral fetch "$R" --kds "$url" --product Turin -o "$T/x" --no-cache
contains "$(cat "$T/kds.log")" "/vcek/v1/Turin/${hwid:0:16}?fmcSPL=2&blSPL=0&teeSPL=0&snpSPL=0&ucodeSPL=68"
# a damaged cache entry is fetched again and replaced
for f in "$T"/cache/*.der; do echo damaged > "$f"; done
run 0 "$CCZ" collateral fetch "$R" --kds "$url" --product Milan -o "$T/vcek3.der" --cache-dir "$T/cache"
contains "$err" "VCEK fetched"
cmp -s "$T/vcek3.der" "$K" || fail "a damaged cache entry was served"
# a cache entry that parses but is another chip's VCEK is fetched again and replaced too
for f in "$T"/cache/*.der; do cp "$V/virtee_sev/tests/certs_data/vcek_milan.der" "$f"; done
run 0 "$CCZ" collateral fetch "$R" --kds "$url" --product Milan -o "$T/vcek4.der" --cache-dir "$T/cache"
contains "$err" "VCEK fetched"
cmp -s "$T/vcek4.der" "$K" || fail "another chip's VCEK was served from the cache"
kill $kds_pid; wait $kds_pid 2>/dev/null
run 0 "$CCZ" collateral fetch "$R" --kds "$url" --product Milan -o "$T/vcek2.der" --cache-dir "$T/cache"
contains "$err" "from the cache"
# -o - writes the VCEK (DER) to standard output
"$CCZ" collateral fetch "$R" --kds "$url" --product Milan -o - --cache-dir "$T/cache" > "$T/stdout.der" \
    2> "$T/stdout.err" || fail "collateral fetch --kds -o -: $(cat "$T/stdout.err")"
cmp -s "$T/stdout.der" "$K" || fail "collateral fetch --kds -o - wrote another VCEK"
run 0 "$CCZ" verify "$R" --vek "$T/vcek2.der" --at $AT --policy "$T/p.json"
run 2 "$CCZ" collateral fetch "$D/test-vlek-report.bin" --kds "$url" -o "$T/x" --no-cache
contains "$err" "KDS serves VCEKs only"
finish
