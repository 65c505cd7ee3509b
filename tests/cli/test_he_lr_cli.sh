#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CCZoo's encrypted LR inference on 'ccz he lr serve' / 'ccz he lr infer' over RA-gRPC (the
# server in a simulated enclave, the client appraising it with a policy): CCZoo's 2,000 samples
# scored with the 128-bit-secure preset and with the HE toolkit's chain (--insecure-params on
# both sides), 'accuracy: 0.944' alone on standard output, every probability of --out against
# the cleartext polynomial (python3; the same class for all 2,000); the toolkit's chain refused
# by a server without --insecure-params; a server the policy rejects; a stock gRPC client
# (python3-grpcio) sending CCZoo's SEAL-serialized InitCtx, told so; usage errors and a bad
# model file; the server's log and its clean stop. CCZoo's files are read in place
# (../shared/data).
. "$(dirname "$0")/lib.sh"
SHARED_DATA=${CCZ_DATA:-$(dirname "${CCZ_VECTORS:-${CCZ_SOURCE_DIR:-$(dirname "$0")/../..}/../shared/vectors}")/data}
DS=$SHARED_DATA/cczoo/lr_infer_he_sgx/datasets
if [ ! -f "$DS/lrtest_mid_eval.csv" ]; then
    missing "CCZoo's LR data set is absent at $DS (set CCZ_DATA)"
fi
MODEL=$DS/lrtest_mid_lrmodel.csv DATA=$DS/lrtest_mid_eval.csv
sim_endpoint
echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$(printf '0%.0s' $(seq 64))\"}]}" > "$T/other.json"

SERVER=
start() { # LOG ARGS...: ccz he lr serve in the background, port 0
    local log=$1; shift
    : > "$log" # not the last server's log: its port is not this one's
    "$CCZ" he lr serve --model "$MODEL" --listen 127.0.0.1:0 --tee sim --sim-dir "$P" "$@" 2> "$log" &
    SERVER=$!
    port_from "$log" || fail "the server did not start: $(cat "$log")"
}
stop() { [ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; SERVER=; }
trap 'stop; rm -rf "$T"' EXIT

# same_classes FILE: every probability of FILE against the cleartext polynomial
same_classes() {
    /usr/bin/python3 - "$MODEL" "$DATA" "$1" <<'PY' || fail "$1: $(tail -1 "$T/cmp.txt" 2>/dev/null)"
import csv, sys
m = [float(v) for v in open(sys.argv[1]).read().split(",")]
rows = list(csv.reader(open(sys.argv[2], newline="")))[1:]
got = [float(v) for v in open(sys.argv[3])]
assert len(got) == len(rows) == 2000, (len(got), len(rows))
worst, differ = 0.0, 0
for r, p in zip(rows, got):
    z = m[0] + sum(w * float(x) for w, x in zip(m[1:], r[:-1]))
    want = 0.5 + 0.15012 * z - 0.001593008 * z ** 3
    worst = max(worst, abs(p - want))
    differ += (p >= 0.5) != (want >= 0.5)
print("largest difference %.2e, %d classes differ" % (worst, differ))
sys.exit(0 if differ == 0 and worst < 1e-5 else 1)
PY
}

# ---- the 128-bit-secure preset at a server that takes only that
start "$T/s.log"
run 0 "$CCZ" he lr infer 127.0.0.1:$PORT --data "$DATA" --sim-dir "$P" --policy "$T/accept.json" \
    --out "$T/secure.txt"
[ "$out" = "accuracy: 0.944" ] || fail "standard output is '$out', expected 'accuracy: 0.944'"
contains "$err" "server accepted: sim evidence"
contains "$err" "primes 50,45,45,28+50 (218 bits: 128-bit secure), scale 2^45; 2000 samples x 80 features, 1 batch"
contains "$err" "public key 446484 B, relinearization keys 1785876 B"
contains "$err" "(80 ciphertexts at level 4)"
contains "$err" "end to end (encrypt, infer, decrypt)"
contains "$err" "(server: eval="
same_classes "$T/secure.txt"
# the toolkit's chain: the client asks for it, this server refuses it
run 1 "$CCZ" he lr infer 127.0.0.1:$PORT --data "$DATA" --sim-dir "$P" --policy "$T/accept.json" \
    --insecure-params
contains "$err" "InitCtx: INVALID_ARGUMENT (3): params: the coefficient modulus has 300 bits"
contains "$err" "this server takes only 128-bit-secure parameters"
[ -z "$out" ] || fail "a refused run printed '$out'"
# a server the client's policy does not accept: nothing is sent
run 1 "$CCZ" he lr infer 127.0.0.1:$PORT --data "$DATA" --sim-dir "$P" --policy "$T/other.json"
contains "$err" "rejected"
stop
contains "$(cat "$T/s.log")" "(mode server; a model of 80 features; 128-bit-secure parameters only) [SIMULATED TEE]"
contains "$(cat "$T/s.log")" "context N 8192, primes 50,45,45,28+50 (218 bits, within the 128-bit table), scale 2^45"
contains "$(cat "$T/s.log")" "1 batch of 80 ciphertexts"
contains "$(cat "$T/s.log")" "InitCtx refused: params: the coefficient modulus has 300 bits"
contains "$(cat "$T/s.log")" "ccz he lr: stopped"

# ---- the HE toolkit's chain, both sides opting in
# batches of 4096 samples: 4096 samples make 1, 4097 make 2; --out writes one probability per
# sample; an --out that cannot be written fails the run. One feature, x = k/8 + 1/16, and the
# model -0.25 + 0.5 x: class 1 from k = 4 (z >= 1/32, far from the threshold for CKKS's error)
printf -- '-0.25,0.5\n' > "$T/one.csv"
for rows in 4096 4097; do
    /usr/bin/python3 -c "
n = $rows
print('x,y')
for i in range(n):
    print('%g,%d' % ((i % 8) / 8 + 1 / 16, (i % 8 >= 4) != (i % 10 == 0)))
" > "$T/d$rows.csv"
done
ONE_MODEL=$MODEL MODEL=$T/one.csv
start "$T/s1.log"
MODEL=$ONE_MODEL
line="ccz he lr: CKKS N 8192, primes 50,45,45,28+50 (218 bits: 128-bit secure), scale 2^45"
for case in "4096 1 batch 0.900" "4097 2 batches 0.900"; do
    read -r rows batches word acc <<< "$case"
    run 0 "$CCZ" he lr infer 127.0.0.1:$PORT --data "$T/d$rows.csv" --sim-dir "$P" \
        --policy "$T/accept.json" --out "$T/p$rows.txt"
    [ "$out" = "accuracy: $acc" ] || fail "$rows samples: standard output is '$out'"
    grep -qxF "$line; $rows samples x 1 features, $batches $word" <<< "$err" ||
        fail "$rows samples: no '$rows samples x 1 features, $batches $word' line in $err"
    contains "$err" "($batches ciphertexts at level 4)"
    [ "$(wc -l < "$T/p$rows.txt")" = "$rows" ] || fail "$rows samples: $(wc -l < "$T/p$rows.txt") probabilities"
done
# probabilities that cannot be written at the end (a full disk) fail the run
run 2 /usr/bin/python3 "$CCZ_SOURCE_DIR/tests/cli/full_disk.py" "$CCZ" he lr infer \
    127.0.0.1:$PORT --data "$T/d4096.csv" --sim-dir "$P" --policy "$T/accept.json" \
    --out "$T/full.txt"
contains "$err" "ccz: he lr infer: cannot write $T/full.txt: File too large"
[ -z "$out" ] || fail "a run whose --out failed printed '$out'"
stop
# an --out that cannot be written (a missing folder, a device) is said before connecting (the
# server is gone), not after the inference
for o in "$T/no-such-dir/p.txt:No such file or directory" "/dev/full:not a regular file"; do
    run 2 "$CCZ" he lr infer 127.0.0.1:$PORT --data "$T/d4096.csv" --sim-dir "$P" \
        --policy "$T/accept.json" --out "${o%%:*}"
    [ "$err" = "ccz: he lr infer: --out: cannot write ${o%%:*}: ${o#*:}" ] ||
        fail "an unwritable --out ${o%%:*}: '$err'"
    [ -z "$out" ] || fail "a run whose --out failed printed '$out'"
done
contains "$(cat "$T/s1.log")" "(mode server; a model of 1 features; 128-bit-secure parameters only)"

start "$T/s2.log" --insecure-params
run 0 "$CCZ" he lr infer 127.0.0.1:$PORT --data "$DATA" --sim-dir "$P" --policy "$T/accept.json" \
    --insecure-params --out "$T/toolkit.txt" --threads 1
[ "$out" = "accuracy: 0.944" ] || fail "toolkit: standard output is '$out'"
contains "$err" "primes 60,45,45,45,45+60 (300 bits: BEYOND the 128-bit table)"
same_classes "$T/toolkit.txt"
stop
contains "$(cat "$T/s2.log")" "parameters beyond the 128-bit table ACCEPTED"
contains "$(cat "$T/s2.log")" "(300 bits, BEYOND the 128-bit table)"

# ---- a stock gRPC client (python3-grpcio) with CCZoo's messages, encoded by hand from its
# inference.proto: SEAL's serialization is named as such; Infer without a context
if /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
    run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn localhost -o "$T/srv.crt" --key "$T/srv.key"
    start "$T/s3.log" --cert "$T/srv.crt" --key "$T/srv.key"
    cat > "$T/stock.py" <<'PY'
import struct, sys
import grpc
def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def field(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data
creds = grpc.ssl_channel_credentials(root_certificates=open(sys.argv[2], "rb").read())
ch = grpc.secure_channel(sys.argv[1], creds, options=[("grpc.ssl_target_name_override", "localhost")])
def call(method, body):
    try:
        ch.unary_unary("/inference.Inference/" + method)(body, timeout=30)
        return "OK"
    except grpc.RpcError as e:
        return "%s %s" % (e.code().name, e.details())
seal = bytes([0x5E, 0xA1, 3, 4, 2, 0, 16, 0]) + struct.pack("<Q", 91)  # SEAL's header
init = field(1, seal) + field(2, seal) + field(3, seal) + varint(4 << 3) + varint(0) + \
    bytes([5 << 3 | 1]) + struct.pack("<d", 2.0 ** 45)
print(call("InitCtx", init))
print(call("Infer", field(1, b"x") + varint(2 << 3) + varint(1) + varint(3 << 3) + varint(1)))
PY
    out=$(timeout 60 /usr/bin/python3 "$T/stock.py" 127.0.0.1:$PORT "$T/srv.crt" 2> "$T/py.err") ||
        fail "the grpcio client failed: $(cat "$T/py.err")"
    contains "$out" "INVALID_ARGUMENT params: this is SEAL's serialization (CCZoo's client); this server reads ccz's"
    contains "$out" "FAILED_PRECONDITION no context on this connection: call InitCtx first"
    stop
else
    echo "SKIP (reported): python3-grpcio is not installed; the stock-client checks did not run"
fi

# ---- the command line
run 2 "$CCZ" he lr infer 127.0.0.1:1 --sim-dir "$P"
contains "$err" "usage: ccz he lr infer HOST:PORT --data FILE.csv"
run 2 timeout 30 "$CCZ" he lr serve --model "$MODEL"
contains "$err" "usage: ccz he lr serve --model FILE.csv --listen ADDR"
run 2 "$CCZ" he lr infer 127.0.0.1:1 --data "$DATA" --listen 127.0.0.1:0
contains "$err" "'--listen' does nothing for 'he lr infer'"
run 2 "$CCZ" he lr infer 127.0.0.1:1 --data "$DATA" --mode client
contains "$err" "--mode client: the client must attest the server"
run 2 "$CCZ" he lr frobnicate
contains "$err" "unknown he lr command 'frobnicate'"
printf '0.5,1,2\n0.1,2,3\n' > "$T/two-lines.csv"
run 2 timeout 30 "$CCZ" he lr serve --model "$T/two-lines.csv" --listen 127.0.0.1:0 --tee sim --sim-dir "$P"
contains "$err" "model: line 2: the model is one line (bias, then the weights)"
run 2 "$CCZ" he lr infer 127.0.0.1:1 --data "$T/two-lines.csv" --sim-dir "$P"
contains "$err" "line 2: the label (last column) is 3; labels are 0 or 1"
run 0 "$CCZ" he lr --help
contains "$out" "ccz he lr infer HOST:PORT --data FILE.csv"
finish
