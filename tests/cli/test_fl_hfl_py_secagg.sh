#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The PyTorch client (solutions/hfl/client.py) in secure aggregation: 'ccz fl serve --secure-agg'
# (simulated TEE, two-way RA-gRPC) with two 'ccz fl join' clients and one client.py for 2 rounds
# of logistic regression on slices of Fashion-MNIST's test set. The masks of the three cancel
# only when client.py's keys, encrypted shares, fixed-point encoding, AES-CTR masks and unmask
# shares are byte for byte the C client's: all three are in both rounds and the model learns.
# client.py joins second, so that it has a peer of a lower index (its masks subtracted) and one
# of a higher (added); it asks for --top-k, which secure aggregation does not use (as ccz fl
# join). Then one round of four where a second client.py stops after sharing its keys (a fault
# injected for testing): the three others' Unmask shares, client.py's among them, rebuild its
# mask key (Shamir shares made by Python, combined in C) and the round completes without it.
. "$(dirname "$0")/lib.sh"
PY=$CCZ_SOURCE_DIR/solutions/hfl/client.py
need_fashion_mnist
need_python torch grpc numpy cryptography
# client.py's protocol pieces alone: GF(2^8) (FIPS-197's 0x57 x 0x83 = 0xc1), 3-of-5 Shamir
# shares (any 3 recover the secret, 2 do not), the pair key of both ends, the nonce layout, and
# three clients' masked updates whose sum less the self masks is the weighted mean to 1e-6
run 0 /usr/bin/python3 - "$PY" <<'EOF_PY'
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import client as c
assert c.gf_mul_table()[0x57, 0x83] == 0xC1
sec = os.urandom(32)
sh = c.shamir_share(sec, 3, 5)
assert c.shamir_combine([sh[4], sh[0], sh[2]], [5, 1, 3]) == sec
assert c.shamir_combine([sh[1], sh[3]], [2, 4]) != sec
keys = [c.sa_keygen() for _ in range(3)]
pks = {i: k[1] for i, k in enumerate(keys)}
assert c.sa_pair_key(keys[0][0], pks[2]) == c.sa_pair_key(keys[2][0], pks[0])
assert c.sa_nonce(1, 2, 3).hex() == "010000000200000003000000"
ws = [np.random.default_rng(i).normal(size=1000).astype(np.float32) for i in range(3)]
bs = [os.urandom(32) for _ in range(3)]
tot = np.zeros(1000, dtype=np.uint32)
for i in range(3):
    m = np.frombuffer(c.sa_mask(ws[i], 0.25 if i else 0.5, i, keys[i][0], pks, {0, 1, 2}, bs[i]),
                      dtype="<u4")
    assert abs(np.corrcoef(m.astype(np.float64), ws[i])[0, 1]) < 0.2
    tot = tot + m - c.sa_stream(bs[i], 1000)
err = np.abs(tot.view(np.int32) / c.SA_SCALE - (ws[0] * 0.5 + ws[1] * 0.25 + ws[2] * 0.25))
print("max error %.2g" % err.max())
assert err.max() < 1e-6
EOF_PY
contains "$out" "max error"

sim_endpoint
SERVER=
trap 'kill $SERVER 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

"$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 3 --model lr --epochs 2 \
    --test "$IMG" --timeout 60000 --threads 1 --secure-agg "${EP[@]}" > "$T/s.out" 2> "$T/s.log" &
SERVER=$!
port_from "$T/s.log" 60 $SERVER || { fail "the aggregator did not start: $(cat "$T/s.log")"; finish; exit 1; }
# joined LOG NAME: waits (60 s at most) for the aggregator to log that NAME joined
joined() {
    for _ in $(seq 600); do
        grep -q "ccz fl: $2 joined" "$1" && return 0
        sleep 0.1
    done
    fail "$2 did not join: $(cat "$1")"
}
c_join() { # NAME SHARD
    ( "$CCZ" fl join 127.0.0.1:$PORT --data "$IMG" --name "$1" --shard "$2" --model lr \
          --threads 1 "${EP[@]}" > "$T/$1.out" 2> "$T/$1.err"; echo $? > "$T/$1.rc" ) &
}
py_join() { # NAME SHARD OPTION...
    local name=$1 shard=$2
    shift 2
    ( timeout 180 /usr/bin/python3 "$PY" 127.0.0.1:$PORT --data "$IMG" --name "$name" \
          --shard "$shard" --ccz "$CCZ" "${EP[@]}" "$@" > "$T/$name.out" 2> "$T/$name.err"
      echo $? > "$T/$name.rc" ) &
}
c_join c0 0/6
joined "$T/s.log" c0
py_join py 2/6 --top-k 0.05
joined "$T/s.log" py
c_join c1 1/6
reap $SERVER 240; rc=$?; SERVER=
wait
log=$(cat "$T/s.log")
[ "$rc" = 0 ] || fail "the aggregator exited $rc: $log"
contains "$log" "secure aggregation)"
for r in 1 2; do
    line=$(grep "round $r/2: 3 of 3 updates" "$T/s.log") || fail "round $r: $log"
    for c in c0 c1 py; do
        printf '%s\n' "$line" | grep -qE "[(,]$c[,)]" || fail "$c is not in round $r: $line"
    done
done
for c in c0 c1 py; do
    [ "$(cat "$T/$c.rc")" = 0 ] || fail "$c exited $(cat "$T/$c.rc"): $(cat "$T/$c.err")"
done
contains "$(cat "$T/c0.err")" "round 2 of 2: train loss"
py_err=$(cat "$T/py.err")
contains "$py_err" "aggregator attested by ccz verify: result      OK (simulated)"
contains "$py_err" "--top-k is not used with secure aggregation"
contains "$py_err" "joined: lr 784-10 (7850 parameters), fedavg, 2 rounds, secure aggregation"
contains "$py_err" "round 1 of 2: train loss"
contains "$py_err" "round 2 of 2: train loss"
contains "$py_err" "masked)"
acc=$(sed -n 's/^accuracy: //p' "$T/s.out")
[ -n "$acc" ] || fail "the aggregator printed no accuracy"
[ "$(cat "$T/py.out")" = "accuracy: $acc" ] || fail "client.py printed '$(cat "$T/py.out")', the aggregator $acc"
[ "$(cat "$T/c0.out")" = "accuracy: $acc" ] || fail "c0 printed '$(cat "$T/c0.out")'"
awk -v a="$acc" 'BEGIN { exit !(a > 0.5) }' || fail "accuracy $acc after 2 secure rounds"
contains "$log" "round 1/2: open with 3 clients (c0, py, c1)"
acc1=$(sed -n 's/.*round 1\/2: 3 of 3 updates.*  accuracy: \([0-9.]*\).*/\1/p' "$T/s.log")

# a client.py that drops out after its shares
: > "$T/s.log" # not the last aggregator's log: its port is not this one's
"$CCZ" fl serve --listen 127.0.0.1:0 --rounds 1 --min-clients 4 --model lr --epochs 2 \
    --test "$IMG" --timeout 10000 --threads 1 --secure-agg "${EP[@]}" > "$T/s.out" 2> "$T/s.log" &
SERVER=$!
port_from "$T/s.log" 60 $SERVER || { fail "the aggregator did not start: $(cat "$T/s.log")"; finish; exit 1; }
c_join c0 0/6
py_join py 2/6
py_join pyd 3/6 --fault-drop 1
c_join c1 1/6
reap $SERVER 240; rc=$?; SERVER=
wait
log=$(cat "$T/s.log")
[ "$rc" = 0 ] || fail "the aggregator exited $rc: $log"
line=$(grep "round 1/1: 3 of 4 updates" "$T/s.log") || fail "round 1 with one dropped: $log"
for c in c0 c1 py; do
    printf '%s\n' "$line" | grep -qE "[(,]$c[,)]" || fail "$c is not in the round: $line"
    [ "$(cat "$T/$c.rc")" = 0 ] || fail "$c exited $(cat "$T/$c.rc"): $(cat "$T/$c.err")"
done
[ "$(cat "$T/pyd.rc")" = 1 ] || fail "pyd exited $(cat "$T/pyd.rc"): $(cat "$T/pyd.err")"
contains "$(cat "$T/pyd.err")" "stopped before the masked upload (a fault injected for testing)"
contains "$(cat "$T/py.err")" "round 1 of 1: train loss"
acc=$(sed -n 's/^accuracy: //p' "$T/s.out")
[ "$(cat "$T/py.out")" = "accuracy: $acc" ] || fail "client.py printed '$(cat "$T/py.out")', the aggregator $acc"
awk -v a="$acc" 'BEGIN { exit !(a > 0.5) }' || fail "accuracy $acc after a secure round with a dropout"
# the survivors are the first training's three with the same data and seeds: the same mean
acc2=$(sed -n 's/.*round 1\/1: 3 of 4 updates.*  accuracy: \([0-9.]*\).*/\1/p' "$T/s.log")
[ -n "$acc1" ] && [ "$acc1" = "$acc2" ] || fail "round 1's accuracy: '$acc1' with three, '$acc2' with one dropped"
finish
