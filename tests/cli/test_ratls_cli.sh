#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# RA-TLS with real peers: a ccz certificate checked independently by Python's cryptography and
# cbor2; openssl s_client and curl completing handshakes with ccz ratls server; ccz ratls client
# and server accepting each other, and rejecting (a wrong measurement, a debug peer, an expired
# certificate) with the reason on both sides; a certificate carrying another's evidence refused
# by inspect, verify and the client; a public key as --key; inspect and verify of recorded
# certificates; the listening address (:PORT on loopback, [::1], a port in use refused).
. "$(dirname "$0")/lib.sh"
P=$T/plat
"$CCZ" sim init --dir "$P" > /dev/null
M=$("$CCZ" sim measure "$CCZ")
cat > "$T/accept.json" <<JSON
{"allow_sim": true, "sgx": [{"mr_enclave": "$M"}]}
JSON
cat > "$T/dynamic_config.json" <<JSON
{"verify_mr_enclave": "on", "verify_mr_signer": "off", "verify_isv_prod_id": "off",
 "verify_isv_svn": "off", "ccz_allow_sim": "on", "sgx_mrs": [{"mr_enclave": "$M"}]}
JSON
echo '{"allow_sim": true, "sgx": [{"mr_enclave": "0000000000000000000000000000000000000000000000000000000000000000"}]}' > "$T/wrong.json"

# a certificate, checked by ccz and by an independent implementation
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/cert.pem" --key "$T/key.pem"
run 0 "$CCZ" ratls inspect "$T/cert.pem" --json
jqis .format dice
jqis .tee sim
jqis .simulated true
jqis .binding_ok true
jqis .cbor_tag $((0x63637a53))
jqis .claims.mr_enclave "$M"
# the text form marks sim evidence as simulated
run 0 "$CCZ" ratls inspect "$T/cert.pem"
contains "$out" " bytes (SIMULATED)"
contains "$out" "binding     ok"
run 0 /usr/bin/python3 "$(dirname "$0")/ratls_check.py" "$T/cert.pem" 0x63637a53
contains "$out" "ok"
openssl x509 -in "$T/cert.pem" -noout -text | grep -q "2.23.133.5.4.9" || fail "openssl does not see the extension"
run 0 "$CCZ" verify "$T/cert.pem" --sim-dir "$P" --policy "$T/accept.json" --json
jqis .ratls.format dice
jqis .tee sim
run 1 "$CCZ" verify "$T/cert.pem" --sim-dir "$P" --json
jqis '.policy.reasons[0].code' simulated_not_allowed
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --p384 -o "$T/cert384.pem" --key "$T/key384.pem"
openssl x509 -in "$T/cert384.pem" -noout -text | grep -q "secp384r1" || fail "--p384 did not make a P-384 key"
# cert needs both outputs, and fails when it cannot write them
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/x.pem" --key "$T/x.key" extra
contains "$err" "unexpected argument 'extra'"
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/nokey.pem"
contains "$err" "-o CERT and --key KEY are required"
[ ! -e "$T/nokey.pem" ] || fail "ratls cert without --key wrote a certificate"
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/nodir/cert.pem" --key "$T/nodir.key"
contains "$err" "ccz: ratls cert: "
# a key that cannot be written fails the command, and no certificate is left without its key
run 2 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/keyless.pem" --key "$T/nodir/keyless.key"
contains "$err" "ccz: ratls cert: "
[ ! -e "$T/keyless.pem" ] || fail "ratls cert wrote a certificate whose key it could not write"
run 2 timeout 10 "$CCZ" ratls server --tee sim --sim-dir "$P"
contains "$err" "usage: ccz ratls server --listen ADDR"
run 2 timeout 10 "$CCZ" ratls server --listen 127.0.0.1:0 --tee sim --sim-dir "$P" extra
contains "$err" "usage: ccz ratls server --listen ADDR"
# ADDR: :PORT listens on loopback, and an IPv6 address is printed in brackets
listening() { # ARGS...: the "listening" line of a server started with ARGS
    local pid
    : > "$T/l.log"
    "$CCZ" ratls server --mode server --cert "$T/cert.pem" --key "$T/key.pem" "$@" 2> "$T/l.log" &
    pid=$!
    await "$T/l.log" listening 60 $pid || fail "no server with $*: $(cat "$T/l.log")"
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    grep listening "$T/l.log"
}
contains "$(listening --listen :0)" "listening on 127.0.0.1:"
if /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    contains "$(listening --listen '[::1]:0')" "listening on [::1]:"
fi
# the key is the owner's alone; a certificate's key is given with it, and is a private key
[ "$(stat -c %a "$T/key.pem")" = 600 ] || fail "the key file's mode is $(stat -c %a "$T/key.pem")"
[ "$(stat -c %a "$T/cert.pem")" = 644 ] || fail "the certificate's mode is $(stat -c %a "$T/cert.pem")"
run 2 "$CCZ" ratls client 127.0.0.1:9 --cert "$T/cert.pem"
contains "$err" "--cert and --key go together"
openssl pkey -in "$T/key.pem" -pubout -out "$T/pub.pem"
run 2 "$CCZ" ratls client 127.0.0.1:9 --cert "$T/cert.pem" --key "$T/pub.pem"
contains "$err" "$T/pub.pem is not a PEM private key"
# the client takes one server address: a second is refused before connecting
run 2 "$CCZ" ratls client 127.0.0.1:9 127.0.0.1:10 --mode server --sim-dir "$P" --policy "$T/accept.json"
contains "$err" "usage: ccz ratls client HOST:PORT [options]"
# no connection is exit 2 (as unreadable input), not a refusal (1)
run 2 "$CCZ" ratls client 127.0.0.1:1 --mode server --sim-dir "$P" --policy "$T/accept.json" < /dev/null
contains "$err" "ccz: ratls client: "

start() { # LOG ARGS...: a ccz ratls server in the background
    local log=$1; shift
    : > "$log" # not the last server's log: its port is not this one's
    "$CCZ" ratls server --listen 127.0.0.1:0 "$@" 2> "$log" &
    SERVER=$!
    await "$log" listening 60 $SERVER || fail "the server did not start: $(cat "$log")"
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log" | head -1)
}
stop() { kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; }
trap 'stop; rm -rf "$T"' EXIT

# openssl s_client and curl against a server-mode server (they are not attested)
start "$T/s1.log" --mode server --cert "$T/cert.pem" --key "$T/key.pem"
out=$(echo hello | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -quiet 2>"$T/sclient.err")
[ "$out" = hello ] || fail "openssl s_client got '$out': $(cat "$T/sclient.err")"
out=$(timeout 10 curl -s --insecure https://127.0.0.1:$PORT/)
contains "$out" '"tls":"TLSv1.3"'
# HEAD is answered as GET is (headers only), not echoed
out=$(timeout 10 curl -s -I --insecure https://127.0.0.1:$PORT/)
contains "$out" "HTTP/1.1 200 OK"
contains "$out" "Content-Type: application/json"
# the certificate s_client saw is the RA-TLS one
timeout 10 openssl s_client -connect 127.0.0.1:$PORT -showcerts < /dev/null 2>/dev/null |
    openssl x509 -noout -text | grep -q "2.23.133.5.4.9" || fail "s_client saw no RA-TLS certificate"
# ccz ratls client verifies the server
out=$(echo ping | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --mode server --sim-dir "$P" \
      --policy "$T/accept.json" 2>"$T/c1.err")
[ "$out" = ping ] || fail "client got '$out': $(cat "$T/c1.err")"
contains "$(cat "$T/c1.err")" "server accepted: sim evidence"
# the verdict names the measurement it accepted
contains "$(cat "$T/c1.err")" ", mr_enclave $M [SIMULATED TEE]"
# each line comes back whole, byte for byte
printf 'a\nbc\n' | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --mode server --sim-dir "$P" \
    --policy "$T/accept.json" > "$T/lines.out" 2> /dev/null
printf 'a\nbc\n' | cmp -s - "$T/lines.out" || fail "the echo of two lines differs: $(od -c "$T/lines.out")"
contains "$(cat "$T/c1.err")" "SIMULATED"
# a port another server holds is refused (exit 2, with bind's reason), not traded for another
run 2 timeout 10 "$CCZ" ratls server --listen 127.0.0.1:$PORT --mode server --cert "$T/cert.pem" \
    --key "$T/key.pem"
contains "$err" "ratls server: cannot listen on 127.0.0.1:$PORT: bind: Address already in use"
stop

# two-way: both sides attested and accepted, with CCZoo's dynamic_config on one side
start "$T/s2.log" --mode two-way --tee sim --sim-dir "$P" --policy "$T/dynamic_config.json"
out=$(echo mutual | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --tee sim --sim-dir "$P" \
      --policy "$T/accept.json" 2>"$T/c2.err")
[ "$out" = mutual ] || fail "two-way client got '$out': $(cat "$T/c2.err")"
contains "$(cat "$T/s2.log")" "client accepted: sim evidence"

# rejected by the client: the reason at the client, an alert at the server
echo x | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --tee sim --sim-dir "$P" \
    --policy "$T/wrong.json" > /dev/null 2>"$T/c3.err"; code=$?
[ $code = 1 ] || fail "rejecting client exited $code"
contains "$(cat "$T/c3.err")" "server REJECTED at policy: policy_rejected: measurement_not_accepted"
! grep -q "ccz ratls:   also" "$T/c3.err" || fail "one reason printed twice: $(cat "$T/c3.err")"
await "$T/s2.log" "handshake failed" 30
contains "$(cat "$T/s2.log")" "handshake failed"
contains "$(cat "$T/s2.log")" "alert"
stop

# rejected by the server: a debug client; the server says why, the client gets an alert
start "$T/s3.log" --mode two-way --tee sim --sim-dir "$P" --policy "$T/accept.json"
echo x | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --tee sim --sim-dir "$P" --debug \
    --policy "$T/accept.json" > "$T/c4.out" 2>"$T/c4.err"; code=$?
[ $code = 1 ] || fail "the client the server refused exited $code, expected 1"
await "$T/s3.log" "client REJECTED" 30
contains "$(cat "$T/s3.log")" "client REJECTED at policy: policy_rejected: debug"
[ -s "$T/c4.out" ] && fail "a rejected client got data back"
contains "$(cat "$T/c4.err")" "bad certificate"
stop

# --once: the server's exit code is its one connection's verdict (1: the client was rejected)
start "$T/s7.log" --mode two-way --tee sim --sim-dir "$P" --policy "$T/accept.json" --once
echo x | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --tee sim --sim-dir "$P" --debug \
    --policy "$T/accept.json" > /dev/null 2>&1
timeout 20 tail --pid=$SERVER -f /dev/null
kill $SERVER 2>/dev/null; wait $SERVER; code=$?
[ $code = 1 ] || fail "the --once server that rejected its client exited $code, expected 1"
contains "$(cat "$T/s7.log")" "client REJECTED at policy: policy_rejected: debug"

# an expired server certificate
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/old.pem" --key "$T/old.key" \
    --not-before 1000000000 --not-after 1100000000
start "$T/s4.log" --mode server --cert "$T/old.pem" --key "$T/old.key"
echo x | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --mode server --sim-dir "$P" \
    --policy "$T/accept.json" > /dev/null 2>"$T/c5.err"; code=$?
[ $code = 1 ] || fail "client accepted an expired certificate ($code)"
contains "$(cat "$T/c5.err")" "server REJECTED at certificate: expired"
await "$T/s4.log" "certificate expired" 30
contains "$(cat "$T/s4.log")" "certificate expired"
stop

# a certificate carrying another's evidence (tests/cli/ratls_graft.py): the evidence verifies,
# but does not bind this certificate's key; inspect says so, verify and a client refuse it
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/other.pem" --key "$T/other.key"
run 0 /usr/bin/python3 "$(dirname "$0")/ratls_graft.py" "$T/cert.pem" "$T/key.pem" \
    "$T/other.pem" "$T/graft.pem"
run 1 "$CCZ" ratls inspect "$T/graft.pem" --json
jqis .binding_ok false
jqis .claims.mr_enclave "$M"
run 1 "$CCZ" ratls inspect "$T/graft.pem"
contains "$out" "binding     BROKEN"
run 1 "$CCZ" verify "$T/graft.pem" --sim-dir "$P" --policy "$T/accept.json" --json
jqis .error.code binding_mismatch
jqis .error.step binding
start "$T/s6.log" --mode server --cert "$T/graft.pem" --key "$T/key.pem"
echo x | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --mode server --sim-dir "$P" \
    --policy "$T/accept.json" > "$T/c6.out" 2> "$T/c6.err"; code=$?
[ $code = 1 ] || fail "a client took a certificate with another's evidence ($code)"
contains "$(cat "$T/c6.err")" "server REJECTED at binding: binding_mismatch"
[ -s "$T/c6.out" ] && fail "a client that refused the server got data back"
stop

# recorded certificates
V=${CCZ_VECTORS:-$CCZ_SOURCE_DIR/../shared/vectors}
if [ -d "$V" ]; then
    run 0 "$CCZ" ratls inspect "$V/ratls/gramine-cert.pem" --json
    jqis .format dice; jqis .tee sgx; jqis .binding_ok true; jqis '.also | join(",")' gramine-legacy
    run 0 "$CCZ" ratls inspect "$V/ratls/intel-sgxsdk-cert.pem" --json
    jqis .format dice; jqis '.also | join(",")' intel-sgx-sdk
    run 0 "$CCZ" ratls inspect "$V/ratls/rats-tls-cert.pem" --json
    jqis .cbor_tag 60000; jqis .binding_ok true
    run 0 "$CCZ" ratls inspect "$V/konvera_gramine-ratls-golang/test/tls/tlscert.pem" --json
    jqis .format gramine-legacy
    jqis .claims.mr_enclave f94ccbe6a504676b2edbefdcb8781a512913f7d8864c6f88592a843d0f9d4a66
    echo '{"allow_outdated_tcb": true}' > "$T/outdated.json"
    run 0 "$CCZ" verify "$V/konvera_gramine-ratls-golang/test/tls/tlscert.pem" \
        --collateral "$V/derived/automata_sgx_0825_collateral.json" --at 1755236700 --policy "$T/outdated.json" --json
    jqis .tcb_status OutOfDate
    jqis '.advisories | join(",")' "INTEL-SA-00615,INTEL-SA-00657,INTEL-SA-00767,INTEL-SA-00828,INTEL-SA-00837,INTEL-SA-00960"
elif [ "${CI:-}" = true ]; then
    fail "no vectors at $V: the recorded certificates were not checked (CI=true)"
else
    echo "note: no vectors at $V: the recorded certificates were not checked"
fi
# inspect takes exactly one certificate
run 2 "$CCZ" ratls inspect
contains "$err" "give exactly one certificate"
run 2 "$CCZ" ratls inspect "$T/cert.pem" "$T/cert.pem"
contains "$err" "give exactly one certificate"
[ -z "$out" ] || fail "inspect of two certificates printed '$out'"
# a file that is not a certificate is named as such
run 2 "$CCZ" ratls inspect "$T/key.pem"
contains "$err" "$T/key.pem is not a certificate"
run 2 "$CCZ" ratls inspect "$P/root.crt"
contains "$err" "carries no RA-TLS evidence extension"
finish
