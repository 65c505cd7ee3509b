#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The ccz command's option values checked where they are read (tools/ccz/options.c, and
# verify's own in cmd_verify.c): each out of range refused as a usage error (exit 2) that names
# the option and its bounds, the value at the bound accepted (the command then stops at the next
# thing missing), the options that repeat bounded, --days and --not-after exclusive, a validity
# that ends before it begins refused, verify's options that exclude each other, and an option a
# command does not take named as the command line spelled it.
. "$(dirname "$0")/lib.sh"

# accepted OPTION-ARGS... -- MESSAGE: the value passes; the command stops at MESSAGE instead
accepted() { refused "$@"; }

# certificate validity
refused ratls cert --tee sim --key "$T/k.pem" -o "$T/c.pem" --days 0 -- \
    "--days: a certificate is valid at least 1 day"
refused ratls cert --tee sim --key "$T/k.pem" -o "$T/c.pem" --days 1 --not-after 2000000000 -- \
    "give --days or --not-after, not both"
refused ratls cert --tee sim --key "$T/k.pem" -o "$T/c.pem" --not-before 2000000000 \
    --not-after 1900000000 -- \
    "--not-before (2000000000) must come before the end of validity (1900000000): such a certificate would never be valid"
refused ratls cert --tee sim --key "$T/k.pem" -o "$T/c.pem" --not-before 2000000000 \
    --not-after 2000000000 -- "--not-before (2000000000) must come before the end of validity"
accepted ratls cert --tee sim --key "$T/k.pem" -o "$T/c.pem" --days 1 --sim-dir "$T/none" -- \
    "ratls cert: sim platform file $T/none/ak.key is missing"

# horizontal FL
refused fl serve --clients-per-round 0 -- "--clients-per-round: must be at least 1"
accepted fl serve --clients-per-round 1 -- "usage: ccz fl serve --listen ADDR"
refused fl serve --gather 0 -- "--gather: milliseconds, at least 1"
accepted fl serve --gather 1 -- "usage: ccz fl serve --listen ADDR"
refused fl join 127.0.0.1:1 --chunk-size 15 -- "--chunk-size: at least 16 bytes"
accepted fl join 127.0.0.1:1 --chunk-size 16 -- "usage: ccz fl join HOST:PORT"
refused fl serve --optimizer adagrad -- "--optimizer: sgd or adam, not 'adagrad'"
accepted fl serve --optimizer sgd -- "usage: ccz fl serve --listen ADDR"
refused fl serve --rounds 100001 -- "--rounds: 100001 is larger than 100000"
accepted fl serve --rounds 100000 -- "usage: ccz fl serve --listen ADDR"
refused fl serve --min-clients 257 -- "--min-clients: 257 is larger than 256"
accepted fl serve --min-clients 256 -- "usage: ccz fl serve --listen ADDR"
refused fl serve --epochs 1025 -- "--epochs: 1025 is larger than 1024"
refused fl serve --lr 1000 -- "--lr: a number above 0 and below 1000, not '1000'"
accepted fl serve --lr 999.5 -- "usage: ccz fl serve --listen ADDR"
# 0 is the plan's "default": --lr 0 would train at 0.05, --mu 0 at 0.01
refused fl serve --lr 0 -- "--lr: a number above 0 and below 1000, not '0'"
refused fl serve --mu 0 -- "--mu: a number above 0 and below 1000, not '0'"
accepted fl serve --mu 0.001 -- "usage: ccz fl serve --listen ADDR"

# homo-lr and hetero-lr (docs/cli.md's ranges)
refused fl homo-lr serve --workers 65 -- "--workers: 65 is larger than 64"
accepted fl homo-lr serve --workers 64 -- "usage: ccz fl homo-lr serve --listen ADDR"
refused fl homo-lr serve --iterations 0 -- "--iterations: must be at least 1"
refused fl homo-lr serve --validate-every 0 -- "--validate-every: must be at least 1"
refused fl homo-lr serve --bits 1032 -- "--bits: a key of 1024 to 4096 bits, a multiple of 16"
refused fl homo-lr serve --bits 4112 -- "--bits: 4112 is larger than 4096"
accepted fl homo-lr serve --bits 4096 -- "usage: ccz fl homo-lr serve --listen ADDR"
refused fl homo-lr work 127.0.0.1:1 --id 2147483648 -- "--id: 2147483648 is larger than 2147483647"
accepted fl homo-lr work 127.0.0.1:1 --id 2147483647 -- "usage: ccz fl homo-lr work HOST:PORT"
refused fl hetero-lr arbiter --batch-size 0 -- "--batch-size: 1 to 1000000"
accepted fl hetero-lr arbiter --batch-size 1000000 -- "usage: ccz fl hetero-lr arbiter --listen ADDR"
refused fl hetero-lr split --hosts 0 -- "--hosts: 1 to 16"
accepted fl hetero-lr arbiter --epochs 1024 -- "usage: ccz fl hetero-lr arbiter --listen ADDR"

# PSI and the encrypted query service
refused psi serve --parties 1 -- "--parties: a session has at least 2 parties"
accepted psi serve --parties 2 -- "usage: ccz psi serve --listen ADDR --parties N"
refused psi serve --max-memory 0 -- "--max-memory: must be at least 1 (MiB)"
refused psi serve --max-per-peer 0 -- "--max-per-peer: must be at least 1"
refused psi serve --max-per-peer x -- "--max-per-peer: 'x' is not a decimal number"
refused psi serve --max-per-peer 65537 -- "--max-per-peer: 65537 is larger than 65536"
accepted psi serve --max-per-peer 65536 -- "usage: ccz psi serve --listen ADDR --parties N"
refused psi join 127.0.0.1:1 --max-per-peer 2 -- "'--max-per-peer' does nothing for 'psi join'"
accepted he lr serve --max-per-peer 1 -- "usage: ccz he lr serve"
accepted fl serve --max-per-peer 1 -- "usage: ccz fl serve --listen ADDR"
refused serve --max-per-peer 0 -- "--max-per-peer: must be at least 1"
accepted serve --max-per-peer 1 --handshake-timeout 1 -- "no --model NAME=PATH given"
refused serve --handshake-timeout 0 -- "--handshake-timeout: must be at least 1"
accepted secret serve --max-per-peer 1 -- "serve needs --listen ADDR"
refused he query serve --max-pending 0 -- "--max-pending: 1 to 1024"
refused he query serve --max-pending 1025 -- "--max-pending: 1 to 1024"
accepted he query serve --max-pending 1024 -- "usage: ccz he query serve --db FILE.csv"
accepted he query serve --max-pending 1 -- "usage: ccz he query serve --db FILE.csv"

# repeatable options, bounded
md=()
for i in $(seq 16); do md+=(--metadata "k$i=v"); done
accepted rpc greeter call 127.0.0.1:1 --name x "${md[@]}" -- "rpc greeter call: --tee is required"
refused rpc greeter call 127.0.0.1:1 --name x "${md[@]}" --metadata k17=v -- \
    "--metadata takes KEY=VALUE, at most 16 times"
refused rpc greeter call 127.0.0.1:1 --name x --metadata novalue -- \
    "--metadata takes KEY=VALUE, at most 16 times"
roots=()
for i in $(seq 17); do roots+=(--sim-root "$T/root$i.pem"); done
refused verify "$T/evidence" "${roots[@]}" -- "at most 16 --sim-root options"

# a number is digits: none is not 0, and one beyond 64 bits is not the largest
refused rpc greeter call 127.0.0.1:1 --name x --count "" -- "--count: '' is not a decimal number"
refused fl serve --seed 99999999999999999999 -- \
    "--seed: 99999999999999999999 is larger than 18446744073709551615"
accepted fl serve --seed 18446744073709551615 -- "usage: ccz fl serve --listen ADDR"
# a metadata key as gRPC has them (1 to 255 of a-z 0-9 - _ .; capitals are lowered), never cut
for k in "" "x-a b" "x-é" "x-$(printf 'k%.0s' $(seq 254))"; do
    refused rpc greeter call 127.0.0.1:1 --name x --metadata "$k=v" -- \
        "rpc greeter call: --metadata '${k:0:64}': a key is 1 to 255 letters, digits, '-', '_' or '.'"
done
accepted rpc greeter call 127.0.0.1:1 --name x --metadata "X-$(printf 'k%.0s' $(seq 253))=v" -- \
    "rpc greeter call: --tee is required"
# a binary key ends in -bin after one character or more: "-bin" alone is a text key
accepted rpc greeter call 127.0.0.1:1 --name x --metadata "-bin=not base64!" -- \
    "rpc greeter call: --tee is required"
refused rpc greeter call 127.0.0.1:1 --name x --metadata "a-bin=not base64!" -- \
    "rpc greeter call: --metadata a-bin: a -bin value is base64"

# verify's evidence and collateral options that exclude each other, and its hashes
refused verify "$T/e" "$T/f" -- "give exactly one evidence file"
refused verify "$T/e" --vek "$T/v" --collateral "$T/c" -- \
    "--vek (SEV-SNP) and --collateral (SGX/TDX) exclude each other"
refused verify "$T/e" --hsk-cek "$T/h" --vek "$T/v" -- \
    "--hsk-cek (Hygon CSV) excludes --vek and --collateral"
refused verify "$T/e" --hsk-cek "$T/h" --collateral "$T/c" -- \
    "--hsk-cek (Hygon CSV) excludes --vek and --collateral"
refused verify "$T/e" --cert-chain "$T/c" -- "--cert-chain goes with --vek"
refused verify "$T/e" --cert-chain "$T/c" --collateral "$T/c" -- "--cert-chain goes with --vek"
refused verify "$T/e" --init-data-hash abc -- "--init-data-hash takes 32 bytes of hex (64 digits)"
refused verify "$T/e" --init-data-hash "$(printf 'a%.0s' $(seq 66))" -- \
    "--init-data-hash takes 32 bytes of hex (64 digits)"
refused verify "$T/e" --init-data-hash "$(printf 'z%.0s' $(seq 64))" -- \
    "--init-data-hash: hex: character 0 is not a hex digit"
accepted verify "$T/e" --init-data-hash "$(printf 'a%.0s' $(seq 64))" -- \
    "cannot read evidence $T/e"

# report data: at most 128 hex digits (64 bytes), after an optional 0x; --tee is required
refused attest --tee sim --report-data "$(printf 'a%.0s' $(seq 130))" -o "$T/e" -- \
    "--report-data: report data is 130 hex digits; at most 128 (64 bytes) fit"
accepted attest --tee sim --report-data "0x$(printf 'a%.0s' $(seq 128))" -o "$T/e" -- \
    "attest --tee sim: sim platform file $CCZ_SIM_DIR/ak.key is missing"
# a 0x with no digits after it is not report data (not 64 zero bytes)
refused attest --tee sim --report-data 0x -o "$T/e" -- \
    "--report-data: hex: character 1 is not a hex digit"
refused attest -o "$T/e" -- "--tee is required (sim, sgx, tdx or snp)"

# an option with a value given twice is refused, not the last one silently taken; the
# repeatable ones (--sim-root, --metadata, --secret, --model, --expect) and flags are not
refused attest --tee sim --report-data 00 --report-data 11 -o "$T/e" -- \
    "'--report-data' is given twice; give it once"
refused verify "$T/e" --policy "$T/p1.json" --policy="$T/p2.json" -- \
    "'--policy=$T/p2.json' is given twice; give it once"
refused ratls cert --tee sim --tee sgx --key "$T/k.pem" -o "$T/c.pem" -- \
    "'--tee' is given twice; give it once"
refused ratls cert --tee sim --key "$T/k.pem" -o "$T/c.pem" -o "$T/d.pem" -- \
    "'-o' is given twice; give it once"
accepted verify "$T/e" --json --json --sim-root "$T/r1" --sim-root "$T/r2" -- \
    "cannot read evidence $T/e"

# an option the command does not take, named as written
refused ratls cert --once -- "'--once' does nothing for 'ratls cert'"
refused ratls cert --listen=127.0.0.1:5 -- "'--listen=127.0.0.1:5' does nothing for 'ratls cert'"
refused fl serve --chunk-size 64 -- "'--chunk-size' does nothing for 'fl serve'"
# homo-lr's serve is not horizontal FL's, which takes --rounds; hetero-lr's host takes no --test
refused fl homo-lr serve --rounds 3 -- "'--rounds' does nothing for 'fl homo-lr serve'"
refused fl hetero-lr host 127.0.0.1:1 --test x -- "'--test' does nothing for 'fl hetero-lr host'"

# the largest value of each bounded option passes, one more is refused naming the bound
refused ratls cert --tee sim --key "$T/k.pem" -o "$T/c.pem" --days 36501 -- \
    "--days: 36501 is larger than 36500"
accepted ratls cert --tee sim --key "$T/k.pem" -o "$T/c.pem" --days 36500 --sim-dir "$T/none" -- \
    "ratls cert: sim platform file $T/none/ak.key is missing"
for o in count deadline; do
    refused rpc greeter call 127.0.0.1:1 --name x --$o 100000001 -- \
        "--$o: 100000001 is larger than 100000000"
    accepted rpc greeter call 127.0.0.1:1 --name x --$o 100000000 -- \
        "rpc greeter call: --tee is required"
done
refused rpc greeter serve --delay 100000001 -- "--delay: 100000001 is larger than 100000000"
accepted rpc greeter serve --delay 100000000 -- "usage: ccz rpc greeter serve --listen ADDR"
refused psi serve --max-conns 65537 -- "--max-conns: 65537 is larger than 65536"
accepted psi serve --max-conns 65536 -- "usage: ccz psi serve --listen ADDR --parties N"
refused attestation token verify x --timeout 86400001 -- \
    "--timeout: 86400001 is larger than 86400000"
accepted attestation token verify x --timeout 86400000 -- "verify takes TOKEN (or -) and --jwks"
refused fl serve --clients-per-round 257 -- "--clients-per-round: 257 is larger than 256"
accepted fl serve --clients-per-round 256 -- "usage: ccz fl serve --listen ADDR"
refused fl serve --gather 3600001 -- "--gather: 3600001 is larger than 3600000"
accepted fl serve --gather 3600000 -- "usage: ccz fl serve --listen ADDR"
refused fl join 127.0.0.1:1 --chunk-size 4194305 -- "--chunk-size: 4194305 is larger than 4194304"
accepted fl join 127.0.0.1:1 --chunk-size 4194304 -- "usage: ccz fl join HOST:PORT"
refused fl serve --hidden 65537 -- "--hidden: 65537 is larger than 65536"
accepted fl serve --hidden 65536 -- "usage: ccz fl serve --listen ADDR"
refused fl serve --mu 1000 -- "--mu: a number above 0 and below 1000, not '1000'"
refused fl serve --lr 0.5x -- "--lr: a number above 0 and below 1000, not '0.5x'"
refused psi serve --parties 65 -- "--parties: 65 is larger than 64"
accepted psi serve --parties 64 -- "usage: ccz psi serve --listen ADDR --parties N"
refused psi serve --max-memory 1048577 -- "--max-memory: 1048577 is larger than 1048576"
accepted psi serve --max-memory 1048576 -- "usage: ccz psi serve --listen ADDR --parties N"
refused serve --batch-max 65537 -- "--batch-max: 65537 is larger than 65536"
refused serve --batch-max 0 -- "--batch-max: too small"
accepted serve --batch-max 65536 -- "no --model NAME=PATH given"
refused serve --threads 257 -- "--threads: 257 is larger than 256"
accepted serve --threads 256 -- "no --model NAME=PATH given"
refused serve --max-body 1023 -- "--max-body: too small"
accepted serve --max-body 1024 -- "no --model NAME=PATH given"
accepted serve --batch-timeout-us 0 -- "no --model NAME=PATH given"
# --top-k: a whole count up to 10^9, or a fraction below 1
refused fl join 127.0.0.1:1 --top-k 2.5 -- \
    "--top-k: a count of weights (1 or more) or a fraction of the model (between 0 and 1), not '2.5'"
refused fl join 127.0.0.1:1 --top-k 1000000001 -- \
    "--top-k: a count of weights (1 or more) or a fraction of the model (between 0 and 1), not '1000000001'"
accepted fl join 127.0.0.1:1 --top-k 1000000000 -- "usage: ccz fl join HOST:PORT"
accepted fl join 127.0.0.1:1 --top-k 0.5 -- "usage: ccz fl join HOST:PORT"
# the other repeatable options, bounded: --expect (INDEX=HEX), --secret, --model
ex=()
for i in $(seq 16); do ex+=(--expect "$i=00"); done
accepted eventlog verify "$T/log" "${ex[@]}" -- "give exactly one event log file"
refused eventlog verify "$T/log" "${ex[@]}" --expect 17=00 -- \
    "--expect takes INDEX=HEX, at most 16 times"
refused eventlog verify "$T/log" --expect 17 -- "--expect takes INDEX=HEX, at most 16 times"
se=()
for i in $(seq 64); do se+=(--secret "s$i=$T/s"); done
accepted secret serve "${se[@]}" -- "serve needs --listen ADDR, --secret NAME=FILE and --policy FILE"
refused secret serve "${se[@]}" --secret "s65=$T/s" -- "at most 64 --secret options"
mo=()
for i in $(seq 32); do mo+=(--model "m$i=$T/m"); done
accepted serve "${mo[@]}" -- "give --rest ADDR, --grpc ADDR or both"
refused serve "${mo[@]}" --model "m33=$T/m" -- "at most 32 --model options"
finish
