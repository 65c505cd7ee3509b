#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Horizontal FL on 'ccz fl serve|join' (simulated TEE, two-way RA-gRPC), Fashion-MNIST's test
# set (Debian's dataset-fashion-mnist) split over the clients: a client the policy rejects; a
# round with a crashed client (SIGKILL) and a straggler (SIGSTOP) that closes at its deadline
# with the others, the straggler's late update refused and the training finished; an
# aggregator killed (SIGKILL) after round 2 of 5 that resumes from its checkpoint while its
# clients wait and rejoin; usage errors. Quality runs are solutions/hfl's (label long).
. "$(dirname "$0")/lib.sh"
need_fashion_mnist
sim_endpoint

SERVER=
PIDS=()
start() { # LOG ARGS...: the aggregator in the background (run by $RUNNER, if set)
    local log=$1; shift
    : > "$log" # not the last server's log: its port is not this one's
    ${RUNNER:-} "$CCZ" fl serve "$@" "${EP[@]}" > "$log.out" 2> "$log" &
    SERVER=$!
    port_from "$log" || fail "the aggregator did not start: $(cat "$log")"
}
cleanup() {
    for p in "${PIDS[@]}" $SERVER; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap 'cleanup; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
client() { # NAME SHARD [options]: a client in the background; exit code in $T/NAME.rc
    local name=$1 shard=$2; shift 2
    ( "$CCZ" fl join 127.0.0.1:$PORT --data "$IMG" --name "$name" --shard "$shard" --threads 1 \
          "${EP[@]}" "$@" > "$T/$name.out" 2> "$T/$name.err"; echo $? > "$T/$name.rc" ) &
    PIDS+=($!)
}
pid_of() { pgrep -f -- "--name $1 " | head -1; } # the ccz process of client NAME
await() { # FILE TEXT [TENTHS]: waits until FILE contains TEXT
    for _ in $(seq "${3:-300}"); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "'$2' never appeared in $1: $(tail -5 "$1")"
    return 1
}

# ---- usage errors; an --out that cannot be written is said before the training, not after it
run 2 timeout 30 "$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 1 --out /dev/null
[ "$err" = "ccz: fl serve: --out: cannot write /dev/null: not a regular file" ] ||
    fail "an --out that is a device: '$err'"
run 2 timeout 30 "$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 1 \
    --checkpoint "$T/none/ck.bin"
[ "$err" = "ccz: fl serve: --checkpoint: cannot write $T/none/ck.bin: No such file or directory" ] ||
    fail "a --checkpoint in a missing folder: '$err'"
run 2 timeout 30 "$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2
contains "$err" "usage: ccz fl serve"
run 2 timeout 30 "$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 1 --strategy fedsgd
contains "$err" "unknown strategy 'fedsgd'"
run 2 "$CCZ" fl join 127.0.0.1:1 --data "$IMG" --name x --shard 4/4
contains "$err" "--shard: I/N with I < N"
run 2 "$CCZ" fl join 127.0.0.1:1 --data "$IMG" --name x --top-k 1.5
contains "$err" "--top-k: a count of weights (1 or more) or a fraction of the model"
run 2 timeout 30 "$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 1 --top-k 5
contains "$err" "--top-k"
run 2 timeout 30 "$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 1 --gather 0
contains "$err" "--gather: milliseconds, at least 1"
# the labels beside the images, in a folder whose own name has images-idx3 in it: the file's
# name is the one changed (the data loaded, the client goes on to connect)
mkdir -p "$T/images-idx3"
ln -s "$IMG" "${IMG/images-idx3/labels-idx1}" "$T/images-idx3/"
run 1 timeout 30 "$CCZ" fl join 127.0.0.1:1 --data "$T/images-idx3/${IMG##*/}" --name x --mode server \
    --timeout 1000
contains "$err" "ccz fl: x: 10000 examples of 784 features (shard 0 of 1)"
contains "$err" "ccz: fl join: Join: UNAVAILABLE (14): cannot connect to 127.0.0.1:1"

# ---- a rejected client; a crashed client and a straggler do not stall round 1
# (the crashing client and the straggler join first and are stopped before the others start, so
# that neither can upload before the round's deadline however the machine's load delays this
# script; the gathering window, from the first join, leaves the others time to join)
start "$T/s.log" --listen 127.0.0.1:0 --rounds 4 --min-clients 2 --epochs 3 --timeout 4000 \
    --test "$IMG" --checkpoint "$T/a.ckpt" --gather 10000
run 1 "$CCZ" fl join 127.0.0.1:$PORT --data "$IMG" --name intruder --shard 0/20 --timeout 1000 \
    --tee sim --sim-dir "$P" --measurement "$(printf '%064d' 7)" --policy "$T/accept.json"
contains "$err" "UNAVAILABLE"
client crash 0/2
await "$T/s.log" "crash joined"
kill -STOP "$(pid_of crash)"
client slow 1/2 --timeout 30000
await "$T/s.log" "slow joined"
kill -STOP "$(pid_of slow)"
client c0 0/20
client c1 1/20
await "$T/s.log" "round 1/4: open with 4 clients" 400
kill -9 "$(pid_of crash)"
await "$T/s.log" "round 1/4: 2 of 4 updates"
kill -CONT "$(pid_of slow)"
reap $SERVER 240; rc=$?; SERVER=
wait
[ "$rc" = 0 ] || fail "the aggregator exited $rc: $(cat "$T/s.log")"
log=$(cat "$T/s.log")
contains "$log" "client REJECTED at policy"
contains "$log" "c0 joined"
contains "$log" "sim (simulated) mr_enclave ${M:0:16}"
contains "$log" "(mode two-way, mlp 784-128-10 of 101770 parameters, fedavg, 4 rounds, at least 2 clients) [SIMULATED TEE]"
contains "$(cat "$T/c0.err")" " features (shard 0 of 20)"
line=$(grep 'round 1/4: 2 of 4 updates' "$T/s.log")
for c in c0 c1 "dropped " crash slow; do contains "$line" "$c"; done
contains "$log" "at the deadline"
contains "$log" "round 4/4:"
contains "$log" "slow: late update for round 1: the round is closed"
contains "$(cat "$T/slow.err")" "update refused: late update for round 1"
for c in c0 c1 slow; do
    [ "$(cat "$T/$c.rc")" = 0 ] || fail "$c exited $(cat "$T/$c.rc"): $(cat "$T/$c.err")"
done
acc=$(sed -n 's/^accuracy: //p' "$T/s.log.out")
[ -n "$acc" ] || fail "the aggregator printed no accuracy"
[ "$(cat "$T/c0.out")" = "accuracy: $acc" ] || fail "c0 printed '$(cat "$T/c0.out")'"
awk -v a="$acc" 'BEGIN { exit !(a > 0.6) }' || fail "accuracy $acc after 4 rounds"

# ---- an --out written at the end on a full disk: the training done, the aggregator says which
# file it could not write and exits 2; its client finishes
RUNNER="/usr/bin/python3 $CCZ_SOURCE_DIR/tests/cli/full_disk.py" \
    start "$T/f.log" --listen 127.0.0.1:0 --rounds 1 --min-clients 1 --epochs 1 --out "$T/f.bin"
client f0 0/20 --timeout 30000
reap $SERVER 240; rc=$?; SERVER=
wait
[ "$rc" = 2 ] || fail "the aggregator on a full disk exited $rc: $(cat "$T/f.log")"
contains "$(cat "$T/f.log")" "ccz: fl serve: --out: cannot write $T/f.bin: File too large"
[ "$(cat "$T/f0.rc")" = 0 ] || fail "the client beside a full disk exited $(cat "$T/f0.rc"): $(cat "$T/f0.err")"
[ ! -e "$T/f.bin" ] || fail "a cut model was left at $T/f.bin"

# ---- the aggregator killed after round 2 of 5 resumes from its checkpoint
# (the kill lands after round 2 closed; on a loaded machine a later round may close first: the
# restart resumes from whatever round the checkpoint holds, and trains none of those again)
# (on a port no other test is given while the aggregator is down)
quiet_port || fail "no free port below the ephemeral range"
start "$T/k.log" --listen 127.0.0.1:$PORT --rounds 5 --min-clients 2 --epochs 5 --test "$IMG" \
    --checkpoint "$T/k.ckpt" --strategy fedadam
client k0 0/10 --timeout 60000
client k1 1/10 --timeout 60000
await "$T/k.log" "round 2/5: 2 of 2 updates"
kill -9 $SERVER
wait $SERVER 2>/dev/null
SERVER=
sleep 1
start "$T/k2.log" --listen 127.0.0.1:$PORT --rounds 5 --min-clients 2 --epochs 5 --test "$IMG" \
    --checkpoint "$T/k.ckpt" --strategy fedadam
reap $SERVER 240; rc=$?; SERVER=
wait
[ "$rc" = 0 ] || fail "the restarted aggregator exited $rc: $(cat "$T/k2.log")"
log=$(cat "$T/k2.log")
contains "$log" "resuming from checkpoint $T/k.ckpt: "
contains "$log" "round 5/5: 2 of 2 updates"
done_n=$(sed -n 's/.*resuming from checkpoint .*: \([0-9]\) of 5 rounds done.*/\1/p' "$T/k2.log")
last_n=$(sed -n 's/.*round \([0-9]\)\/5: 2 of 2 updates.*/\1/p' "$T/k.log" | tail -1)
[ -n "$done_n" ] && [ "$done_n" -ge 2 ] && [ "$done_n" -le 4 ] ||
    fail "the restart resumed after '$done_n' rounds: $(head -3 "$T/k2.log")"
# (a round's checkpoint is written just before its line: the kill may fall between the two)
[ "$done_n" = "$last_n" ] || [ "$done_n" = "$((last_n + 1))" ] ||
    fail "the checkpoint holds $done_n rounds, the log closed $last_n"
grep -q "round [1-$done_n]/5" "$T/k2.log" && fail "the restart trained rounds again"
for c in k0 k1; do
    [ "$(cat "$T/$c.rc")" = 0 ] || fail "$c exited $(cat "$T/$c.rc"): $(cat "$T/$c.err")"
    contains "$(cat "$T/$c.err")" "round 5 of 5"
done

# ---- client selection: 2 of the 3 waiting clients drawn for each round
run 2 timeout 30 "$CCZ" fl serve --listen 127.0.0.1:0 --rounds 2 --min-clients 2 --clients-per-round 1
contains "$err" "--clients-per-round 1 is below --min-clients 2"
start "$T/sel.log" --listen 127.0.0.1:0 --rounds 3 --min-clients 2 --clients-per-round 2 \
    --model lr --test "$IMG"
for c in s0 s1 s2; do client "$c" "${c#s}/20" --model lr; done
reap $SERVER 240; rc=$?; SERVER=
wait
[ "$rc" = 0 ] || fail "the selecting aggregator exited $rc: $(cat "$T/sel.log")"
log=$(cat "$T/sel.log")
contains "$log" "(mode two-way, lr 784-10 of 7850 parameters, fedavg, 3 rounds, at least 2 clients, 2 drawn per round) [SIMULATED TEE]"
for r in 1 2 3; do
    contains "$log" "round $r/3: open with 2 clients"
    contains "$log" "round $r/3: 2 of 2 updates"
done
grep -q "open with 3 clients" "$T/sel.log" && fail "a round took all three clients: $log"
for c in s0 s1 s2; do
    contains "$log" "$c joined"
    [ "$(cat "$T/$c.rc")" = 0 ] || fail "$c exited $(cat "$T/$c.rc"): $(cat "$T/$c.err")"
done
finish
