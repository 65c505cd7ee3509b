#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The PyTorch client (solutions/hfl/client.py, python3-torch and python3-grpcio) and the C client
# in one training: 'ccz fl serve' (simulated TEE, two-way RA-gRPC) with 'ccz fl join --top-k' and
# two client.py (dense, and --top-k) for 2 rounds of an MLP on slices of Fashion-MNIST's test set:
# all take part in both rounds and print the aggregator's accuracy. A client.py whose policy
# refuses the aggregator stops after 'ccz verify' without joining; a channel pinned to another
# aggregator's certificate cannot complete its handshake; a client of another measurement cannot
# take the name of one that left.
. "$(dirname "$0")/lib.sh"
PY=$CCZ_SOURCE_DIR/solutions/hfl/client.py
need_fashion_mnist
need_python torch grpc numpy
sim_endpoint
echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$(printf '%064d' 7)\"}]}" > "$T/other.json"
SERVER=
trap 'kill $SERVER 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

"$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 3 --hidden 32 --test "$IMG" \
    --timeout 60000 --threads 1 "${EP[@]}" > "$T/s.out" 2> "$T/s.log" &
SERVER=$!
port_from "$T/s.log" || { fail "the aggregator did not start: $(cat "$T/s.log")"; finish; exit 1; }

# refused by its own policy: verified, not joined
run 1 /usr/bin/python3 "$PY" 127.0.0.1:$PORT --data "$IMG" --name mallory --shard 2/20 \
    --ccz "$CCZ" --tee sim --sim-dir "$P" --policy "$T/other.json"
contains "$err" "the aggregator REJECTED by ccz verify"

# pinned: a channel whose root is this aggregator's certificate cannot reach another aggregator
# (same subject, another key)
"$CCZ" fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 5 --mode server "${EP[@]}" \
    > /dev/null 2> "$T/b.log" &
OTHER=$!
A_PORT=$PORT
port_from "$T/b.log" || fail "the second aggregator did not start: $(cat "$T/b.log")"
PORT_B=$PORT PORT=$A_PORT
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/me.crt" --key "$T/me.key"
run 0 /usr/bin/python3 - "$PY" "$PORT" "$PORT_B" "$T/me.crt" "$T/me.key" <<'EOF_PY'
import os, sys
import grpc
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import client as c
pem = c.fetch_certificate("127.0.0.1", int(sys.argv[3]), None, 5)  # B's, before any call
tls = grpc.ssl_channel_credentials(root_certificates=pem.encode(),
                                   private_key=open(sys.argv[5], "rb").read(),
                                   certificate_chain=open(sys.argv[4], "rb").read())
# B itself, then (two-way) A with B's certificate pinned: this client's own certificate is one
# A accepts, so only the pin can fail
for port in (sys.argv[3], sys.argv[2]):
    ch = grpc.secure_channel("127.0.0.1:" + port, tls, options=[
        ("grpc.default_authority", "127.0.0.1"),
        ("grpc.ssl_target_name_override", c.common_name(pem))])
    code, _, why = c.call(ch, "GetModel", b"", 10)
    print(code.name, why.replace("\n", " "))
EOF_PY
kill $OTHER 2> /dev/null
wait $OTHER 2> /dev/null
line1=$(printf '%s\n' "$out" | sed -n 1p)
line2=$(printf '%s\n' "$out" | sed -n 2p)
contains "$line1" "FAILED_PRECONDITION this connection has not joined"
contains "$line2" "UNAVAILABLE"
contains "$line2" "certificate verify failed"

# client.py takes the labels beside the images by the file's name, not by a folder's
mkdir -p "$T/images-idx3"
ln -s "$IMG" "${IMG/images-idx3/labels-idx1}" "$T/images-idx3/"
run 0 /usr/bin/python3 -c 'import os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import client
x, y = client.load(sys.argv[2], (0, 20, 0), 1)
print(len(x), len(y))' "$PY" "$T/images-idx3/${IMG##*/}"
[ "$out" = "500 500" ] || fail "client.py loaded '$out' from a folder named images-idx3: $err"

# a name is its attested identity's: after alice (this ccz's measurement) has left, a client
# of another measurement, one the aggregator admits, cannot come back as alice; alice can
M2=${M:0:62}00
[ "$M2" != "$M" ] || M2=${M:0:62}01
echo "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"$M\"}, {\"mr_enclave\": \"$M2\"}]}" \
    > "$T/both.json"
"$CCZ" fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 5 --tee sim --sim-dir "$P" \
    --policy "$T/both.json" > /dev/null 2> "$T/id.log" &
OTHER=$!
A_PORT=$PORT
port_from "$T/id.log" || fail "the third aggregator did not start: $(cat "$T/id.log")"
PORT_ID=$PORT PORT=$A_PORT
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --measurement "$M2" -o "$T/m2.crt" \
    --key "$T/m2.key"
run 0 /usr/bin/python3 - "$PY" "$PORT_ID" "$T/me.crt" "$T/me.key" "$T/m2.crt" "$T/m2.key" <<'EOF_PY'
import os, sys
import grpc
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import client as c
port, me, m2 = int(sys.argv[2]), tuple(sys.argv[3:5]), tuple(sys.argv[5:7])
join = c.f_bytes(1, b"alice") + c.f_varint(2, 100)
for creds in (me, m2, me):
    pem = c.fetch_certificate("127.0.0.1", port, creds, 5)
    tls = grpc.ssl_channel_credentials(root_certificates=pem.encode(),
                                       private_key=open(creds[1], "rb").read(),
                                       certificate_chain=open(creds[0], "rb").read())
    ch = grpc.secure_channel("127.0.0.1:%d" % port, tls, options=[
        ("grpc.default_authority", "127.0.0.1"),
        ("grpc.ssl_target_name_override", c.common_name(pem)),
        ("grpc.use_local_subchannel_pool", 1)])
    code, _, why = c.call(ch, "Join", join, 10)
    print(code.name, why.replace("\n", " "))
    ch.close()
EOF_PY
kill $OTHER 2> /dev/null
wait $OTHER 2> /dev/null
[ "$(printf '%s\n' "$out" | sed -n 1p)" = "OK " ] || fail "alice's first Join: $out"
contains "$(printf '%s\n' "$out" | sed -n 2p)" \
    "ALREADY_EXISTS a client named alice has joined already (sim (simulated) mr_enclave $M)"
[ "$(printf '%s\n' "$out" | sed -n 3p)" = "OK " ] || fail "alice's return: $out"
contains "$(cat "$T/id.log")" "alice rejoined (sim (simulated) mr_enclave $M)"

( "$CCZ" fl join 127.0.0.1:$PORT --data "$IMG" --name c0 --shard 0/20 --top-k 0.1 --threads 1 \
      --chunk-size 1000 \
      "${EP[@]}" > "$T/c0.out" 2> "$T/c0.err"; echo $? > "$T/c0.rc" ) &
C0=$!
( timeout 120 /usr/bin/python3 "$PY" 127.0.0.1:$PORT --data "$IMG" --name pyk --shard 2/20 \
      --top-k 0.05 --ccz "$CCZ" "${EP[@]}" > "$T/pyk.out" 2> "$T/pyk.err"; echo $? > "$T/pyk.rc" ) &
PYK=$!
run 0 timeout 120 /usr/bin/python3 "$PY" 127.0.0.1:$PORT --data "$IMG" --name py --shard 1/20 \
    --chunk-size 4096 --ccz "$CCZ" "${EP[@]}"
py_out=$out
py_err=$err
wait $C0 $PYK
reap $SERVER 240; rc=$?; SERVER=
[ "$rc" = 0 ] || fail "the aggregator exited $rc: $(cat "$T/s.log")"
log=$(cat "$T/s.log")
[ "$(cat "$T/c0.rc")" = 0 ] || fail "c0 exited $(cat "$T/c0.rc"): $(cat "$T/c0.err")"
[ "$(cat "$T/pyk.rc")" = 0 ] || fail "pyk exited $(cat "$T/pyk.rc"): $(cat "$T/pyk.err")"
for r in 1 2; do
    line=$(grep "round $r/2: 3 of 3 updates" "$T/s.log") || fail "round $r: $log"
    for c in c0 py pyk; do
        printf '%s\n' "$line" | grep -qE "[(,]$c[,)]" || fail "$c is not in round $r: $line"
    done
done
for c in py pyk; do # the two Python clients join in either order
    printf '%s\n' "$log" | grep -qE "ccz fl: $c joined \([23] clients; sim \(simulated\) mr_enclave ${M:0:16}" ||
        fail "$c did not join as attested: $log"
done
case "$log" in *"mallory"*) fail "the refused client reached the service: $log" ;; esac
contains "$py_err" "aggregator attested by ccz verify: result      OK (simulated)"
contains "$py_err" "joined: mlp 784-32-10 (25450 parameters), fedavg, 2 rounds"
contains "$py_err" "round 2 of 2: train loss"
contains "$(cat "$T/c0.err")" "uploads of 2545 of the model's 25450 values (top-k, with error feedback)"
contains "$(cat "$T/pyk.err")" "round 2 of 2: train loss"
contains "$(cat "$T/pyk.err")" "top 1273 of 25450 values, streamed)"
# every upload streamed (PushUpdateStream): py's in 26 chunks of at most 4096 bytes, c0's (top-k)
# in 25 of at most 1000
contains "$py_err" "round 2 of 2: train loss"
[ "$(grep -c ', streamed)$' <<< "$py_err")" = 2 ] || fail "py did not stream its updates: $py_err"
contains "$(cat "$T/c0.err")" "(2 updates of this client accepted, 2 streamed)"
acc=$(sed -n 's/^accuracy: //p' "$T/s.out")
[ -n "$acc" ] || fail "the aggregator printed no accuracy"
[ "$py_out" = "accuracy: $acc" ] || fail "client.py printed '$py_out', the aggregator $acc"
[ "$(cat "$T/c0.out")" = "accuracy: $acc" ] || fail "c0 printed '$(cat "$T/c0.out")'"
[ "$(cat "$T/pyk.out")" = "accuracy: $acc" ] || fail "pyk printed '$(cat "$T/pyk.out")'"
awk -v a="$acc" 'BEGIN { exit !(a > 0.4) }' || fail "accuracy $acc after 2 rounds"
finish
