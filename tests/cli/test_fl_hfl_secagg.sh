#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'ccz fl serve --secure-agg' with three 'ccz fl join' clients (simulated TEE, two-way RA-gRPC)
# on shards of Fashion-MNIST's test set: two rounds of secure aggregation (keys, encrypted
# shares, masked updates, unmasking) whose model reaches the accuracy of plain FedAvg's first
# rounds. The numeric checks (the secure mean against the weighted mean, dropped clients) are
# tests/fl/test_hfl_secagg.c's.
. "$(dirname "$0")/lib.sh"
need_fashion_mnist
sim_endpoint
SERVER=
trap 'kill $SERVER 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

"$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 3 --model lr --epochs 2 \
    --test "$IMG" --timeout 20000 --secure-agg "${EP[@]}" > "$T/s.out" 2> "$T/s.log" &
SERVER=$!
port_from "$T/s.log" || fail "the aggregator did not start: $(cat "$T/s.log")"
for i in 0 1 2; do
    ( "$CCZ" fl join 127.0.0.1:$PORT --data "$IMG" --name "c$i" --shard "$i/6" --model lr \
          --threads 1 "${EP[@]}" > "$T/c$i.out" 2> "$T/c$i.err"; echo $? > "$T/c$i.rc" ) &
done
reap $SERVER 240; rc=$?; SERVER=
wait
log=$(cat "$T/s.log")
[ "$rc" = 0 ] || fail "the aggregator exited $rc: $log"
contains "$log" "secure aggregation)"
contains "$log" "round 1/2: 3 of 3 updates"
contains "$log" "round 2/2: 3 of 3 updates"
for i in 0 1 2; do
    [ "$(cat "$T/c$i.rc")" = 0 ] || fail "c$i exited $(cat "$T/c$i.rc"): $(cat "$T/c$i.err")"
    contains "$(cat "$T/c$i.err")" "round 2 of 2: train loss"
done
acc=$(sed -n 's/^accuracy: //p' "$T/s.out")
[ -n "$acc" ] || fail "the aggregator printed no accuracy"
[ "$(cat "$T/c0.out")" = "accuracy: $acc" ] || fail "c0 printed '$(cat "$T/c0.out")'"
awk -v a="$acc" 'BEGIN { exit !(a > 0.6) }' || fail "accuracy $acc after 2 secure rounds"
finish
