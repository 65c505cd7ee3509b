#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Errors a newcomer meets say what to do: JSON errors under --json, named bad options, hints for
# an untrusted sim platform and expired collateral, evidence from another sim platform named,
# rejections that name their reasons, CCZoo policies that name their own switches, collateral
# ccz cannot use reported as such.
. "$(dirname "$0")/lib.sh"
V=${CCZ_VECTORS:-$CCZ_SOURCE_DIR/../shared/vectors}

# usage errors and unreadable input under --json: one JSON object with error
run 2 "$CCZ" verify --bogus --json
jqis .ok false
jqis .error.code usage_error
contains "$(jq -r .error.message <<< "$out")" "'--bogus' is not an option"
contains "$err" "'--bogus' is not an option"
run 2 "$CCZ" verify "$T/missing.bin" --json
jqis .error.code not_found
run 2 "$CCZ" verify --policy
contains "$err" "'--policy' is not an option here, or its value is missing"
run 2 "$CCZ" version --bogus
contains "$err" "takes no arguments"
run 0 "$CCZ" version --help
contains "$out" "usage: ccz version"

# every command and subcommand answers --help with a usage, exit 0
for c in "sim" "sim init" "sim measure" "sim signer" "sim info" "attest" "verify" "policy" \
         "policy check" "collateral" "collateral fetch" "collateral info" "ratls" "ratls cert" \
         "ratls inspect" "ratls server" "ratls client" "rpc" "rpc greeter" "rpc greeter serve" \
         "rpc greeter call" "paillier" "paillier keygen" "paillier encrypt" "paillier decrypt" \
         "paillier add" "paillier mul" "paillier bench" "he" "he params" "he bench" "version" \
         "ml" "ml info" "ml run" "psi" "psi serve" "psi join" "psi ecdh"; do
    # shellcheck disable=SC2086
    run 0 "$CCZ" $c --help
    contains "$out" "usage: ccz"
done
# -h is --help
for c in "he" "collateral info" "version"; do
    # shellcheck disable=SC2086
    run 0 "$CCZ" $c -h
    contains "$out" "usage: ccz"
done
# an option that does nothing where it is given is refused
run 2 "$CCZ" ratls cert --deadline 5 --count 3 --listen x --tee sim --sim-dir "$T/a" -o "$T/x.pem" --key "$T/x.key"
contains "$err" "does nothing for 'ratls cert'"
[ -e "$T/x.pem" ] && fail "ratls cert wrote a certificate despite stray options"
run 2 "$CCZ" ratls cert --json --tee sim --sim-dir "$T/a" -o "$T/x.pem" --key "$T/x.key"
contains "$err" "'--json' does nothing for 'ratls cert'"
run 2 timeout 30 "$CCZ" rpc greeter serve --listen 127.0.0.1:0 --handshake-timeout 5 --tee sim --sim-dir "$T/a"
contains "$err" "'--handshake-timeout' does nothing for 'rpc greeter serve'"
contains "$err" "(see 'ccz rpc greeter --help')"
run 2 "$CCZ" ratls inspect "$T/x.pem" --tee sim
contains "$err" "'--tee' does nothing for 'ratls inspect'"
run 2 "$CCZ" he bench --json
contains "$err" "'--json' is not an option of 'he bench'"
# the same across groups: every command takes the option fragments it declares, and no other
run 2 "$CCZ" verify "$T/x.pem" --tee sim
contains "$err" "'--tee' does nothing for 'verify'"
run 2 "$CCZ" attest --tee sim --sim-dir "$T/a" --policy "$T/p.json" -o "$T/x.bin"
contains "$err" "'--policy' does nothing for 'attest'"
[ -e "$T/x.bin" ] && fail "attest wrote evidence despite a stray option"
run 2 "$CCZ" ratls client 127.0.0.1:1 --listen 127.0.0.1:0 --tee sim --sim-dir "$T/a"
contains "$err" "'--listen' does nothing for 'ratls client'"
run 2 "$CCZ" rpc greeter call 127.0.0.1:1 --name x --once --tee sim --sim-dir "$T/a"
contains "$err" "'--once' does nothing for 'rpc greeter call'"
run 2 timeout 30 "$CCZ" rpc greeter serve --listen 127.0.0.1:0 --timeout 5 --tee sim --sim-dir "$T/a"
contains "$err" "'--timeout' does nothing for 'rpc greeter serve'"
run 2 "$CCZ" sim info --dir "$T/a" --force
contains "$err" "'--force' does nothing for 'sim info'"
run 2 "$CCZ" collateral fetch "$T/x.bin" --pccs https://127.0.0.1:9 -o "$T/c.json" --policy "$T/p.json"
contains "$err" "'--policy' does nothing for 'collateral fetch'"
run 2 "$CCZ" policy check "$T/p.json" --tee sim
contains "$err" "'--tee' does nothing for 'policy check'"

# an invalid policy: valid false under --json, and the list of known keys is not cut short
echo '{"sgx_mrs": [], "bogus_key": 1}' > "$T/dc.json"
run 2 "$CCZ" policy check "$T/dc.json" --json
jqis .valid false
jqis .format null
jqis .error.code policy_invalid
contains "$(jq -r .error.message <<< "$out")" "ccz_isv_svn_min)"
run 2 "$CCZ" policy check "$T/dc.json"
contains "$err" "ccz_accepted_tcb_statuses, ccz_isv_svn_min)"

# sim evidence: a platform that is not trusted, and one that is another platform
run 0 "$CCZ" sim init --dir "$T/a"
run 0 "$CCZ" sim init --dir "$T/b"
run 0 "$CCZ" attest --tee sim --sim-dir "$T/a" -o "$T/ev.bin"
a_kid=$(openssl x509 -in "$T/a/root.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f | cut -c1-16)
b_kid=$(openssl x509 -in "$T/b/root.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f | cut -c1-16)
b_id=$("$CCZ" sim info --dir "$T/b" | awk '/platform_id/ {print substr($2, 1, 16)}')
echo '{"allow_sim": true}' > "$T/sim.json"
run 1 "$CCZ" verify "$T/ev.bin" --sim-dir "$T/b" --policy "$T/sim.json" --json
jqis .error.code chain_invalid
jqis .error.step platform_certificate
msg=$(jq -r .error.message <<< "$out")
contains "$msg" "another sim platform"
contains "$msg" "key id $a_kid"
contains "$msg" "key id $b_kid"
contains "$msg" "platform_id $b_id"
contains "$(jq -r .error.hint <<< "$out")" "--sim-dir DIR"
# verify's --sim-dir must hold a platform root: a directory without one is an error (exit 2),
# not a platform left untrusted
mkdir "$T/noroot"
run 2 "$CCZ" verify "$T/ev.bin" --sim-dir "$T/noroot" --policy "$T/sim.json" --json
jqis .error.code not_found
contains "$(jq -r .error.message <<< "$out")" "sim root $T/noroot/root.crt: cannot open"
CCZ_SIM_DIR="$T/none" run 1 "$CCZ" verify "$T/ev.bin" --policy "$T/sim.json"
contains "$out" "no sim platform root is trusted"
contains "$out" "hint        name the sim platform"
contains "$out" "--sim-root CERT"
contains "$out" "CCZ_SIM_DIR"

# collateral is per kind of evidence
run 2 "$CCZ" collateral fetch "$T/ev.bin" --pccs https://127.0.0.1:9 -o "$T/c.json"
contains "$err" "holds sim evidence, which needs no collateral"
case "$err" in *"quote version"*) fail "sim evidence reported as a quote version: $err";; esac
run 2 "$CCZ" collateral fetch "$T/ev.bin" --kds https://127.0.0.1:9 -o "$T/c.der"
contains "$err" "holds sim evidence"

# after '--' a word is an argument: '--json' there names a file and asks for no JSON
run 2 "$CCZ" verify -- --json
contains "$err" "cannot read evidence --json"
[ -z "$out" ] || fail "'verify -- --json' printed on standard output: $out"

# output that cannot be written is a failure, never a success with the output lost: standard
# output on a full device (flushed only at exit: the command printed a line and returned 0)
if [ -c /dev/full ] && [ -w /dev/full ]; then
    for c in "version" "sim measure $CCZ" "sim info --dir $T/a" "sim signer --dir $T/a"; do
        # shellcheck disable=SC2086
        "$CCZ" $c > /dev/full 2> "$T/stderr"; code=$?
        [ "$code" = 2 ] || fail "'ccz $c > /dev/full' exited $code, expected 2"
        contains "$(cat "$T/stderr")" "ccz: cannot write standard output: No space left on device"
    done
    # a write error libccz gave no detail for is named by its status, not left blank
    "$CCZ" attest --tee sim --sim-dir "$T/a" -o - > /dev/full 2> "$T/stderr"; code=$?
    [ "$code" = 2 ] || fail "'ccz attest -o - > /dev/full' exited $code, expected 2"
    contains "$(cat "$T/stderr")" "ccz: cannot write evidence to standard output: input/output error"
else
    echo "skipped: the /dev/full checks (no writable /dev/full character device)"
fi
# and -o never replaces what is not a regular file (as root, -o /dev/full would replace the
# device node): a pipe stays a pipe, nothing is written into it, the key is not left anywhere
mkfifo "$T/fifo"
run 2 "$CCZ" attest --tee sim --sim-dir "$T/a" -o "$T/fifo"
contains "$err" "ccz: attest: cannot write $T/fifo: not a regular file"
[ -p "$T/fifo" ] || fail "attest -o FIFO replaced the FIFO"
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$T/a" -o "$T/fc.pem" --key "$T/fifo"
contains "$err" "cannot write $T/fifo: not a regular file"
[ -p "$T/fifo" ] || fail "ratls cert --key FIFO replaced the FIFO"
[ "$(find "$T" -maxdepth 1 -name 'fifo.tmp*' | wc -l)" = 0 ] || fail "a temporary file was left"
run 2 "$CCZ" attest --tee sim --sim-dir "$T/a" -o "$T"
contains "$err" "cannot write $T: not a regular file"

# ports are 0..65535 everywhere, and the real cause of a failed listen is named
run 2 "$CCZ" ratls server --listen 127.0.0.1:99999 --tee sim --sim-dir "$T/a"
contains "$err" "port '99999' is not a number from 0 to 65535"
run 2 timeout 30 "$CCZ" rpc greeter serve --listen 127.0.0.1:99999 --tee sim --sim-dir "$T/a"
contains "$err" "port '99999' is not a number from 0 to 65535"
run 2 "$CCZ" rpc greeter call 127.0.0.1:70000 --name x --tee sim --sim-dir "$T/a"
contains "$err" "port '70000' is not a number from 1 to 65535"
run 2 "$CCZ" ratls client 127.0.0.1:0 --tee sim --sim-dir "$T/a"
contains "$err" "port '0' is not a number from 1 to 65535"
# a peer that cannot be reached was never verified: 2, not the 1 of a verification that failed
run 2 "$CCZ" ratls client 127.0.0.1:1 --tee sim --sim-dir "$T/a" --policy "$T/sim.json"
contains "$err" "ccz: ratls client: cannot connect to 127.0.0.1:1: Connection refused"
run 2 "$CCZ" ratls server --listen nosuchhost.invalid:1 --tee sim --sim-dir "$T/a"
contains "$err" "cannot resolve 'nosuchhost.invalid'"
# RA-TLS certificates that would never be valid are refused
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$T/a" -o "$T/c.pem" --key "$T/k.pem" --days 0
contains "$err" "at least 1 day"
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$T/a" -o "$T/c.pem" --key "$T/k.pem" \
    --not-before 2000000000 --not-after 1900000000
contains "$err" "would never be valid"
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$T/a" -o "$T/c.pem" --key "$T/k.pem" --days 2 \
    --not-after 1900000000
contains "$err" "not both"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$T/a" -o "$T/c.pem" --key "$T/k.pem" \
    --not-before 1900000000 --days 2
[ "$(openssl x509 -in "$T/c.pem" -noout -enddate)" = "notAfter=Mar 19 17:46:40 2030 GMT" ] \
    || fail "--not-before with --days: $(openssl x509 -in "$T/c.pem" -noout -enddate)"
# an RA-TLS certificate outside its validity: the hint is about the certificate, not collateral
for at in 1900500000 1899000000; do
    run 1 "$CCZ" verify "$T/c.pem" --sim-dir "$T/a" --policy "$T/sim.json" --at $at --json
    jqis .error.step certificate
    jqis .error.hint "a certificate is outside its validity at this instant: check --at and the clock"
done
jqis .error.code not_yet_valid
run 1 "$CCZ" verify "$T/c.pem" --sim-dir "$T/a" --policy "$T/sim.json" --at 1900500000
contains "$out" "error       expired at step certificate"
contains "$out" "hint        a certificate is outside its validity at this instant"
contains "$out" "result      FAILED"
# within its validity the text names the certificate's format
run 0 "$CCZ" verify "$T/c.pem" --sim-dir "$T/a" --policy "$T/sim.json" --at 1900100000
contains "$out" "certificate RA-TLS, dice"
contains "$out" "result      OK (simulated)"
# a certificate's appraisal names the policy given, whatever its format
contains "$out" "policy      accepted (given policy)"
# an X.509 certificate without RA-TLS evidence is unreadable input (exit 2), not a failed check
run 2 "$CCZ" verify "$T/a/root.crt" --sim-dir "$T/a" --policy "$T/sim.json"
contains "$out" "error       not_found at step extension"
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$T/a" -o "$T/c.pem" --key "$T/k.pem" --bogus
contains "$err" "'--bogus' is not an option here"
# ccz names the bad option itself: getopt's own complaint is not printed as well
[ "$err" = "ccz: '--bogus' is not an option here, or its value is missing
(see 'ccz ratls --help')" ] || fail "the refusal of --bogus is not ccz's alone: $err"

# a rejection names its reasons, and a CCZoo policy names its own switch
run 0 "$CCZ" attest --tee sim --sim-dir "$T/a" --svn 1 -o "$T/ev1.bin"
echo '{"allow_sim": true, "sgx": [{"isv_svn_min": 2}]}' > "$T/svn2.json"
run 1 "$CCZ" verify "$T/ev1.bin" --sim-dir "$T/a" --policy "$T/svn2.json"
contains "$out" "result      REJECTED by the policy: measurement_not_accepted (simulated evidence)"
# sim evidence has no TCB status: the text says n/a
contains "$out" "tcb_status  n/a"
# each reason on its own line with its message; the result line lists them all, comma-separated
run 0 "$CCZ" attest --tee sim --sim-dir "$T/a" --svn 1 --debug -o "$T/ev1d.bin"
run 1 "$CCZ" verify "$T/ev1d.bin" --sim-dir "$T/a" --policy "$T/svn2.json"
contains "$out" "policy      rejected (ccz policy)
  - measurement_not_accepted: sgx[0]: isv_svn 1 is below 2
  - debug: the enclave is in debug mode"
contains "$out" "result      REJECTED by the policy: measurement_not_accepted, debug (simulated evidence)"
cat > "$T/dyn.json" <<'J'
{"verify_mr_enclave": "off", "verify_mr_signer": "off", "verify_isv_prod_id": "on",
 "verify_isv_svn": "off", "sgx_mrs": [{"isv_prod_id": "0"}]}
J
run 1 "$CCZ" verify "$T/ev1.bin" --sim-dir "$T/a" --policy "$T/dyn.json" --json
jqis '.policy.reasons[0].code' simulated_not_allowed
contains "$(jq -r '.policy.reasons[0].message' <<< "$out")" "does not set ccz_allow_sim"
run 1 "$CCZ" verify "$T/ev1.bin" --sim-dir "$T/a" --json
contains "$(jq -r '.policy.reasons[0].message' <<< "$out")" "does not set allow_sim"

if [ -d "$V" ]; then
    P=$V/Phala-Network_dcap-qvl/sample
    # expired collateral: the hint says to fetch again or use --at
    run 1 "$CCZ" verify "$P/sgx_quote" --collateral "$P/sgx_quote_collateral.json" --json
    jqis .error.code collateral_out_of_date
    contains "$(jq -r .error.hint <<< "$out")" "--at UNIX"
    contains "$(jq -r .error.hint <<< "$out")" "ccz collateral fetch"
    # collateral ccz cannot use: info says so and exits 1, not a date in 1970
    jq '.tcb_info |= (fromjson | .version = 4 | tojson)' "$P/sgx_quote_collateral.json" > "$T/v4.json"
    run 1 "$CCZ" collateral info "$T/v4.json"
    contains "$out" "usable      no: collateral_unsupported"
    case "$out" in *1970*) fail "collateral info printed a 1970 date: $out";; esac
    run 2 "$CCZ" collateral fetch "$P/sgx_quote" --kds https://127.0.0.1:9 -o "$T/c.der"
    contains "$err" "holds an Intel SGX quote: fetch its collateral with --pccs URL"
    run 2 "$CCZ" collateral fetch "$V/google_go-sev-guest/verify/testdata/attestation.bin" \
        --pccs https://127.0.0.1:9 -o "$T/c.json"
    contains "$err" "holds an SEV-SNP report: fetch its VCEK with --kds URL"
    run 0 "$CCZ" collateral info "$P/sgx_quote_collateral.json"
    contains "$out" "valid until 2025-"
elif [ "${CI:-}" = true ]; then
    fail "no vectors at $V (CI needs them)"
else
    echo "skipped: the collateral checks (no vectors at $V)"
fi
finish
