#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz eventlog and ccz verify --eventlog with the recorded CC event logs of more/cases.json
# (type "ccel", each case named by its id): the events as trustee's JSON has them, the replayed
# registers, replay mismatches (exit 1, replay_mismatch), the CSV guest's SM3 log, and the
# replay against a TD quote's RTMRs.
. "$(dirname "$0")/lib.sh"
need_vectors
L=$V/more/confidential-containers_trustee/deps/eventlog/test_data
CSV=$V/more/confidential-containers_trustee/deps/verifier/test_data/csv_evidence.json
Z48=000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000

# ccel-parse-CCEL_data, ccel-parse-CCEL_data_ovmf, ccel-parse-CCEL_data_grub: the events equal
# trustee's own serialisation
for f in CCEL_data CCEL_data_ovmf CCEL_data_grub; do
    run 0 "$CCZ" eventlog "$L/$f" --json
    printf '%s' "$out" | jq -S .events > "$T/got.json"
    jq -S .uefi_event_logs "$L/${f}_out.json" > "$T/want.json"
    cmp -s "$T/got.json" "$T/want.json" || fail "$f: the events differ from ${f}_out.json"
    jqis .algorithm sha384
done

# ccel-replay-CCEL_data, ccel-replay-CCEL_data_ovmf, ccel-replay-CCEL_data_grub: every register
# as trustee's test_rtmr_integrity has it (index i = RTMR[i-1]), unused ones zero
while read -r id; do
    file=$(jq -r --arg id "$id" '.[] | select(.id == $id) | .files.eventlog' "$V/more/cases.json")
    run 0 "$CCZ" eventlog "$V/more/$file" --json
    want=$(jq -c --arg id "$id" '.[] | select(.id == $id) | .expect.replay' "$V/more/cases.json")
    jqis '.registers | tojson' "$want"
    args=()
    for i in 1 2 3 4; do
        args+=(--expect "$i=$(printf '%s' "$want" | jq -r ".\"$i\"")")
    done
    run 0 "$CCZ" eventlog "$V/more/$file" "${args[@]}"
done <<EOF
ccel-replay-CCEL_data
ccel-replay-CCEL_data_ovmf
ccel-replay-CCEL_data_grub
EOF
run 0 "$CCZ" eventlog "$L/CCEL_data"
contains "$out" "algorithm   sha384"
contains "$out" "events      5"
contains "$out" "[2] EV_EFI_PLATFORM_FIRMWARE_BLOB2"
contains "$out" "  1    2dc712306a963eadb894ad47dbaa17df44814151555aee11cbb843becca88950ffd079664902e6f22c66f7c8213543f4"

# ccel-replay-error-gcp-mr1: register 1 replays to ...304f, not the ...304d given
run 1 "$CCZ" eventlog "$L/CCEL_data_gcp" --json \
    --expect 1=3300980705adf09d28b707b79699d9874892164280832be2c386a715b6e204e0897fb564a064f810659207ba862b304d \
    --expect 2=204d49f78d29918fe7b2f694e76653861a0c2a018987d2c3a54266eff737232524cf0af68c4d180e2f8c2c0937f21967
jqis .error.code replay_mismatch
contains "$(printf '%s' "$out" | jq -r .error.message)" "register 1 (sha384) replays to 3300980705adf09d28b707b79699d9874892164280832be2c386a715b6e204e0897fb564a064f810659207ba862b304f, not the expected 3300980705adf09d28b707b79699d9874892164280832be2c386a715b6e204e0897fb564a064f810659207ba862b304d"
jqis '.events | length' 21
contains "$err" "replay_mismatch"
# ccel-replay-error-data-mr2: register 1 is right, register 2 is not
run 1 "$CCZ" eventlog "$L/CCEL_data" \
    --expect 1=2dc712306a963eadb894ad47dbaa17df44814151555aee11cbb843becca88950ffd079664902e6f22c66f7c8213543f4 \
    --expect 2=2fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf
contains "$err" "register 2 (sha384) replays to 0fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf, not the expected 2fa3be56"

# the CSV guest's log (in trustee's CSV evidence, base64 under "cc_eventlog"): SHA-384 and SM3
# listed, no events; SM3 is the CSV RTMRs' hash, SHA-384 on request
run 0 "$CCZ" eventlog "$CSV" --json
jqis .algorithm sm3
jqis '.events | length' 0
jqis '.registers["1"]' 0000000000000000000000000000000000000000000000000000000000000000
jqis '.registers | keys | join(",")' 1,2,3,4
run 0 "$CCZ" eventlog "$CSV" --algorithm sha384 --json
jqis '.registers["4"]' "$Z48"
# the same log as base64 text
jq -r .cc_eventlog "$CSV" > "$T/log.b64"
run 0 "$CCZ" eventlog "$T/log.b64" --json
jqis .algorithm sm3

# usage and unreadable logs
run 2 "$CCZ" eventlog "$L/CCEL_data" --algorithm md5
run 2 "$CCZ" eventlog "$L/CCEL_data" --algorithm sm3
contains "$err" "no sm3 digests"
run 2 "$CCZ" eventlog "$L/CCEL_data" --expect 1=abcd
contains "$err" "48 bytes of hex"
run 2 "$CCZ" eventlog "$L/CCEL_data" --expect 1
# an index of 16 digits or more never reaches the number parser's buffer; none at all is named
run 2 "$CCZ" eventlog "$L/CCEL_data" --expect "$(printf '1%.0s' $(seq 40))=00"
contains "$err" "ccz: --expect 1111111111111111111111111111111111111111=00: the index is missing or too long"
run 2 "$CCZ" eventlog "$L/CCEL_data" --expect =00
contains "$err" "--expect =00: the index is missing or too long"
# an index is any 32-bit register number: the largest one (no events) replays to zero, one past
# it is a usage error
run 0 "$CCZ" eventlog "$L/CCEL_data" --expect "4294967295=$Z48"
run 2 "$CCZ" eventlog "$L/CCEL_data" --expect "4294967296=$Z48"
contains "$err" "ccz: 4294967296 is larger than 4294967295"
run 2 "$CCZ" eventlog
contains "$err" "ccz: no event log file given"
run 2 "$CCZ" eventlog "$L/CCEL_data" "$L/CCEL_data_ovmf"
contains "$err" "ccz: give exactly one event log file"
run 2 "$CCZ" eventlog "$T/missing"
# a file is read up to twice the log bound (base64 text of a log at the bound), no further
truncate -s $((32 * 1024 * 1024 + 1)) "$T/huge"
run 2 "$CCZ" eventlog "$T/huge"
contains "$err" "huge is larger than the 33554432-byte limit"
printf 'not a log!' > "$T/junk"
run 2 "$CCZ" eventlog "$T/junk" --json
jqis .error.code truncated
head -c 100 "$L/CCEL_data" > "$T/cut"
run 2 "$CCZ" eventlog "$T/cut" --json
jqis .error.code truncated
contains "$err" "event 0 (at offset 86)"
run 0 "$CCZ" eventlog --help
contains "$out" "--expect INDEX=HEX"

# verify --eventlog: the automata TD quote's RTMRs are all zero, so the CSV log's empty SHA-384
# replay matches them and the claims carry the log; CCEL_data does not
Q=$V/automata-network_automata-dcap-attestation/rust-crates/samples/quotev4.hex
COL=$V/derived/automata_tdx_0625_00806f050000_collateral.json
echo '{"allow_outdated_tcb": true, "allow_sept_ve_disable_clear": true}' > "$T/p.json"
run 0 "$CCZ" verify "$Q" --collateral "$COL" --at 1749095100 --policy "$T/p.json" --eventlog "$CSV" --json
jqis .claims.eventlog.algorithm sha384
jqis '.claims.eventlog.registers["1"]' "$Z48"
run 0 "$CCZ" verify "$Q" --collateral "$COL" --at 1749095100 --policy "$T/p.json" --eventlog "$CSV"
contains "$out" "0 events, sha384, replayed into the RTMRs"
run 1 "$CCZ" verify "$Q" --collateral "$COL" --at 1749095100 --eventlog "$L/CCEL_data" --json
jqis .error.code replay_mismatch
jqis .error.step eventlog
contains "$(printf '%s' "$out" | jq -r .error.message)" "register 1 replays to 2dc712306a963ead"
# a policy that wants an event the log lacks; a policy that wants a log
echo '{"allow_outdated_tcb": true, "allow_sept_ve_disable_clear": true, "eventlog": [{"type": "EV_SEPARATOR", "index": 1}]}' > "$T/ev.json"
run 1 "$CCZ" verify "$Q" --collateral "$COL" --at 1749095100 --policy "$T/ev.json" --eventlog "$CSV" --json
jqis '[.policy.reasons[].code] | join(",")' event_not_found
run 1 "$CCZ" verify "$Q" --collateral "$COL" --at 1749095100 --policy "$T/ev.json" --json
jqis '[.policy.reasons[].code] | join(",")' eventlog_missing
# a log goes with TDX evidence only
R=$V/google_go-sev-guest/verify/testdata/attestation.bin
run 1 "$CCZ" verify "$R" --vek "$V/google_go-sev-guest/verify/testdata/vcek.testcer" --at 1767225600 --eventlog "$CSV" --json
jqis .error.step eventlog
jqis .error.code unsupported
run 2 "$CCZ" verify "$Q" --eventlog "$T/junk"
contains "$err" "--eventlog"

# a made-up log with two digests per event (SHA-384 of 0x22 bytes, then SHA-256 of 0x11): the
# listing shows the digest of the algorithm replayed, whichever comes last in the record
/usr/bin/python3 - "$T/two.bin" <<'EOF'
import struct, sys
spec = b"Spec ID Event03\0" + bytes(8) + struct.pack("<I", 2) + struct.pack("<HHHH", 0xC, 48, 0xB, 32) + b"\0"
log = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
log += struct.pack("<III", 1, 4, 2) + struct.pack("<H", 0xC) + b"\x22" * 48 + struct.pack("<H", 0xB) + b"\x11" * 32
log += struct.pack("<I", 4) + bytes(4)
open(sys.argv[1], "wb").write(log)
EOF
run 0 "$CCZ" eventlog "$T/two.bin"
contains "$out" "algorithm   sha384"
contains "$out" "  0    [1] EV_SEPARATOR                       2222222222222222... 4 bytes"
run 0 "$CCZ" eventlog "$T/two.bin" --algorithm sha256
contains "$out" "  0    [1] EV_SEPARATOR                       1111111111111111... 4 bytes"

# every event log case of more/cases.json is named above
for id in $(jq -r '.[] | select(.type == "ccel") | .id' "$V/more/cases.json"); do
    grep -q -- "$id" "$0" || fail "case $id is not covered"
done
finish
