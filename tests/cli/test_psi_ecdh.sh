#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz psi ecdh: listen and connect over unauthenticated TLS (which both sides say) and over RA-TLS
# with sim evidence, in both roles, against `sort -u | comm -12` on random data with duplicates,
# CRLF lines and empty lines; --size-only; a peer rejected by policy; a client that speaks
# garbage does not stop the listener serving the next; the handshake deadline and idle timeout;
# at --max-conns silent peers (from 127.0.0.2..5) make room for a client served at once; one
# address past --max-per-peer loses only its own connections; a peer dripping bytes is cut at the
# session deadline (--timeout); out of descriptors it pauses accepting instead of spinning;
# usage errors.
. "$(dirname "$0")/lib.sh"

start() { # LOG ARGS...: a listener in the background, on a port the kernel picks ($PORT)
    local log=$1; shift
    : > "$log" # not the last server's log: its port is not this one's
    "$CCZ" psi ecdh --listen 127.0.0.1:0 "$@" 2> "$log" &
    SERVER=$!
    port_from "$log" 60 $SERVER && return 0
    fail "the listener did not start: $(cat "$log")"
    stop
    exit 1
}
stop() { kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; }
STALLER= OTHER=
trap 'stop; kill $STALLER $OTHER 2>/dev/null; rm -rf "$T"' EXIT

# random items (with duplicates, a CRLF line, empty lines) from overlapping ranges
/usr/bin/python3 - "$T" <<'PY'
import random, sys
d = sys.argv[1]
random.seed()
def items(lo, hi, n):
    return ["item-%d" % random.randrange(lo, hi) for _ in range(n)]
a = items(0, 3000, 2000) + ["", "crlf-item\r", "shared \u00e9 bytes"]
b = items(2000, 6000, 3000) + ["crlf-item", "", "shared \u00e9 bytes"]
for name, xs in (("a.txt", a), ("b.txt", b)):
    random.shuffle(xs)
    with open(f"{d}/{name}", "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(xs) + "\n")
PY
plain() { comm -12 <(tr -d '\r' < "$1" | grep -v '^$' | LC_ALL=C sort -u) \
                   <(tr -d '\r' < "$2" | grep -v '^$' | LC_ALL=C sort -u); }
plain "$T/a.txt" "$T/b.txt" > "$T/want.txt"
want_n=$(wc -l < "$T/want.txt")
[ "$want_n" -gt 100 ] || fail "the random sets overlap in only $want_n items"

# unauthenticated TLS, both roles: the connecting side learns the intersection
for roles in "a b" "b a"; do
    set -- $roles
    start "$T/s.log" --data "$T/$2.txt" --once
    run 0 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/$1.txt" -o "$T/got.txt"
    reap $SERVER; code=$?
    [ $code = 0 ] || fail "listener ($roles) exited $code: $(cat "$T/s.log")"
    cmp -s "$T/got.txt" "$T/want.txt" || fail "intersection ($roles) differs from sort -u | comm -12"
    contains "$err" "WARNING: no --tee, --cert, --mode or verify option: ordinary TLS with an ephemeral self-signed certificate; the peer is NOT authenticated"
    contains "$err" "intersection $want_n of "
    contains "$(cat "$T/s.log")" "the peer is NOT authenticated"
    contains "$(cat "$T/s.log")" "(it learns the intersection)"
done

# size only: the count on standard output, nothing else
start "$T/s.log" --data "$T/b.txt" --once
run 0 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/a.txt" --size-only
reap $SERVER
[ "$out" = "$want_n" ] || fail "--size-only printed '$out', expected $want_n"
contains "$err" "intersection size $want_n of"
contains "$(cat "$T/s.log")" "(it learns the size only)"

# an intersection that could not be written is a failure (exit 2), not a success: at the end
# (a full disk), or before connecting (a missing folder; the last server is gone)
start "$T/s.log" --data "$T/b.txt" --once
run 2 /usr/bin/python3 "$CCZ_SOURCE_DIR/tests/cli/full_disk.py" \
    "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/a.txt" -o "$T/full.txt"
reap $SERVER
contains "$err" "ccz: psi ecdh: $T/full.txt: cannot write $T/full.txt: File too large"
[ ! -e "$T/full.txt" ] || fail "a failed write left $T/full.txt"
run 2 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/a.txt" -o "$T/nodir/got.txt"
[ "$err" = "ccz: psi ecdh: --out: cannot write $T/nodir/got.txt: No such file or directory" ] ||
    fail "-o in a missing folder: '$err'"

# RA-TLS with sim evidence, two-way: both accept, no warning, the same intersection
sim_endpoint
echo '{"allow_sim": true, "sgx": [{"mr_enclave": "0000000000000000000000000000000000000000000000000000000000000000"}]}' > "$T/wrong.json"
start "$T/s.log" --data "$T/a.txt" --tee sim --sim-dir "$P" --policy "$T/accept.json" --once
run 0 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/b.txt" -o "$T/got.txt" \
    --tee sim --sim-dir "$P" --policy "$T/accept.json"
reap $SERVER; code=$?
[ $code = 0 ] || fail "RA-TLS listener exited $code: $(cat "$T/s.log")"
cmp -s "$T/got.txt" "$T/want.txt" || fail "RA-TLS intersection differs from sort -u | comm -12"
contains "$err" "server accepted: sim evidence"
contains "$(cat "$T/s.log")" "client accepted: sim evidence"
contains "$(cat "$T/s.log")" "(RA-TLS)"
case "$err$(cat "$T/s.log")" in *"NOT authenticated"*) fail "RA-TLS warned of no authentication";; esac

# --tee alone (no policy, no mode) is enough for RA-TLS: the listener says so, and no warning
start "$T/s.log" --data "$T/a.txt" --tee sim --sim-dir "$P" --once
contains "$(cat "$T/s.log")" "items (RA-TLS)"
stop

# server mode: only the listener is attested; the client (no TEE) verifies it with its policy
start "$T/s.log" --data "$T/a.txt" --tee sim --sim-dir "$P" --mode server --once
run 0 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/b.txt" --size-only --mode server \
    --sim-dir "$P" --policy "$T/accept.json"
reap $SERVER
[ "$out" = "$want_n" ] || fail "server-mode RA-TLS size was '$out', expected $want_n"
contains "$err" "server accepted: sim evidence"

# the client's policy rejects the server: exit 1, the reason said; no intersection written
rm -f "$T/got.txt"
start "$T/s.log" --data "$T/a.txt" --tee sim --sim-dir "$P" --policy "$T/accept.json" --once
run 1 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/b.txt" -o "$T/got.txt" \
    --tee sim --sim-dir "$P" --policy "$T/wrong.json"
reap $SERVER
contains "$err" "server REJECTED at policy: policy_rejected: measurement_not_accepted"
[ -e "$T/got.txt" ] && fail "a rejected session wrote an intersection"

# the server's policy rejects the client: the client hears why it was refused, exit 1
start "$T/s.log" --data "$T/a.txt" --tee sim --sim-dir "$P" --policy "$T/wrong.json" --once
run 1 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/b.txt" \
    --tee sim --sim-dir "$P" --policy "$T/accept.json"
reap $SERVER; code=$?
[ $code = 1 ] || fail "the listener that rejected its client exited $code"
# (while sending its hello or receiving the answer, as the alert and the reset race)
contains "$err" "the peer refused this side while"
contains "$err" "(TLS alert: bad certificate)"
contains "$(cat "$T/s.log")" "client REJECTED at policy: policy_rejected: measurement_not_accepted"

# a client that does not speak the protocol fails its session only: the next one is served
start "$T/s.log" --data "$T/a.txt"
printf 'GET / HTTP/1.1\r\n\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -quiet \
    > /dev/null 2>&1
run 0 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/b.txt" -o "$T/got.txt"
cmp -s "$T/got.txt" "$T/want.txt" || fail "the session after a garbage client differs"
# a second listener on the same port is refused (not moved to another port)
run 2 timeout 10 "$CCZ" psi ecdh --listen 127.0.0.1:$PORT --data "$T/a.txt"
contains "$err" "ccz: psi ecdh: cannot listen on 127.0.0.1:$PORT: bind: Address already in use"
stop
contains "$(cat "$T/s.log")" "session 1 failed: protocol_error: psi ecdh: unknown message type 71"
contains "$(cat "$T/s.log")" "session 2: "

# hostile peers (tests/cli/ratls_stall.py): silent TCP connections, TLS then silence, a drip
STALL=$(dirname "$0")/ratls_stall.py
stall() { # OUT WAIT KIND[@ADDR]=N...: hostile connections in the background, until all are open
    local o=$1; shift
    /usr/bin/python3 "$STALL" $PORT "$@" > "$o" &
    STALLER=$!
    await "$o" ready 30 $STALLER || fail "the hostile peers did not connect: $(cat "$o")"
}
unstall() { kill $STALLER 2>/dev/null; wait $STALLER 2>/dev/null; }
# served MAX_MS: a client from 127.0.0.1 gets the right intersection within MAX_MS (8 s below:
# far from the 20 s deadlines a client waits for when the server makes no room, and enough for
# the intersection of 2,000 and 3,000 items on a loaded machine, where it took over 5 s)
served() {
    local t0=$(date +%s%N) ms
    run 0 timeout 10 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/b.txt" -o "$T/got.txt"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$ms" -lt "$1" ] || fail "the client was served after $ms ms (at most $1 expected)"
    cmp -s "$T/got.txt" "$T/want.txt" || fail "the client's intersection differs"
}

# a stalled handshake is closed at its deadline, a silent established session at the idle
# timeout, with no newcomer to make room for
start "$T/s.log" --data "$T/a.txt" --handshake-timeout 700 --idle-timeout 400
stall "$T/stall.out" 3 idle=1 tls=1
wait $STALLER
grep -q '^closed idle 0\.[6-9]\|^closed idle 1\.' "$T/stall.out" ||
    fail "the stalled handshake was not closed at ~0.7 s: $(cat "$T/stall.out")"
grep -q '^closed tls 0\.[3-9]\|^closed tls 1\.' "$T/stall.out" ||
    fail "the silent session was not closed at ~0.4 s: $(cat "$T/stall.out")"
stop
contains "$(cat "$T/s.log")" "handshake failed: accept: the TLS handshake with the client timed out after 700 ms"
contains "$(cat "$T/s.log")" "failed: network_error: psi ecdh: waiting for hello: timed out while receiving"

# silent connections from four other addresses at the cap (default 4, a handshake deadline of
# 20 s): the oldest unfinished handshakes make room, and a client is served at once
start "$T/s.log" --data "$T/a.txt" --handshake-timeout 20000
stall "$T/stall.out" 30 idle@127.0.0.2=2 idle@127.0.0.3=2 idle@127.0.0.4=1 idle@127.0.0.5=1
served 8000
unstall
stop
contains "$(cat "$T/s.log")" "ccz psi ecdh: 4 connections: closing the oldest unfinished handshake"
closed=$(grep -c '^closed idle' "$T/stall.out")
[ "$closed" -ge 3 ] || fail "$closed silent connections were closed to make room, expected at least 3"

# at the cap with every session past its handshake and silent, the one silent longest goes
start "$T/s.log" --data "$T/a.txt" --max-conns 2 --idle-timeout 20000
stall "$T/stall.out" 30 tls@127.0.0.2=2
served 8000
unstall
stop
contains "$(cat "$T/s.log")" "ccz psi ecdh: 2 connections: closing the connection idle longest"

# one address floods past --max-per-peer: only its own connections make room, another peer's
# stay, and a client from 127.0.0.1 is served at once
start "$T/s.log" --data "$T/a.txt" --max-conns 8 --max-per-peer 2 --handshake-timeout 20000
stall "$T/other.out" 30 idle@127.0.0.3=2
OTHER=$STALLER
stall "$T/stall.out" 30 idle@127.0.0.2=6
served 8000
sleep 0.2
contains "$(cat "$T/s.log")" "ccz psi ecdh: 127.0.0.2 has 2 connections: closing its oldest unfinished handshake"
closed=$(grep -c '^closed idle@127.0.0.2' "$T/stall.out")
[ "$closed" = 4 ] || fail "$closed of 127.0.0.2's 6 connections were closed, expected 4"
grep -q '^closed' "$T/other.out" && fail "another peer's connection was closed: $(cat "$T/other.out")"
unstall
kill $OTHER 2>/dev/null; wait $OTHER 2>/dev/null
stop

# a peer that drips a byte every 200 ms (never idle for --idle-timeout) is cut at the session
# deadline, --timeout after its accept
start "$T/s.log" --data "$T/a.txt" --idle-timeout 1000 --timeout 1200
stall "$T/stall.out" 4 tlsdrip=1
wait $STALLER
t=$(awk '$1 == "closed" { print $3 }' "$T/stall.out")
[ -n "$t" ] && awk -v t="$t" 'BEGIN { exit !(t >= 0.9 && t <= 2.5) }' ||
    fail "the dripping peer was not cut at ~1.2 s: $(cat "$T/stall.out")"
stop
contains "$(cat "$T/s.log")" "ccz psi ecdh: session 1: the session deadline (1200 ms) passed: closing it"

# out of descriptors (ulimit -n 10: at most six sessions, below --max-conns; the rest of twelve
# wait in the backlog while accept() fails) the listener pauses between tries instead of
# spinning a core, and it serves a client once those connections end
: > "$T/s.log"
(ulimit -n 10 && exec "$CCZ" psi ecdh --listen 127.0.0.1:0 --data "$T/a.txt" \
    --max-conns 16 --handshake-timeout 20000) 2> "$T/s.log" &
SERVER=$!
port_from "$T/s.log" 60 $SERVER || fail "no listener under ulimit -n 10: $(cat "$T/s.log")"
read -r cpu accepted < <(/usr/bin/python3 "$(dirname "$0")/busy_accept.py" $PORT $SERVER 12)
[ "$accepted" -le 6 ] || fail "the listener accepted $accepted connections under ulimit -n 10"
[ "$cpu" -lt 300 ] || fail "out of descriptors the listener used $cpu ms of CPU in 1 s"
served 8000
stop

# no listener at the address: exit 2 (no connection, as a network failure is), the reason said
run 2 "$CCZ" psi ecdh --connect 127.0.0.1:1 --data "$T/a.txt"
contains "$err" "ccz: psi ecdh: cannot connect to 127.0.0.1:1: Connection refused"

# the connecting side's --idle-timeout: a server that completes the TLS handshake and then never
# answers (Python's ssl module) is given up at it (exit 2), not held for the default 60 s
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/deaf.key" \
    -out "$T/deaf.crt" -subj /CN=localhost -days 1 2>/dev/null
/usr/bin/python3 "$(dirname "$0")/tls_peer.py" deaf "$T/deaf.crt" "$T/deaf.key" > "$T/deaf.out" &
OTHER=$!
await "$T/deaf.out" ready 30 $OTHER || fail "the deaf server did not start: $(cat "$T/deaf.out")"
PORT=$(awk '$1 == "ready" { print $2 }' "$T/deaf.out")
t0=$(date +%s%N)
run 2 timeout 20 "$CCZ" psi ecdh --connect 127.0.0.1:$PORT --data "$T/b.txt" --idle-timeout 800
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
contains "$err" "ccz: psi ecdh: network_error: psi ecdh: waiting for hello: timed out while receiving"
[ "$ms" -ge 750 ] && [ "$ms" -lt 5000 ] || fail "the client gave up after $ms ms, expected ~800"
kill $OTHER 2>/dev/null; wait $OTHER 2>/dev/null; OTHER=

# usage errors and unreadable data
run 2 "$CCZ" psi ecdh --listen :0 --connect 127.0.0.1:1 --data "$T/a.txt"
contains "$err" "give --listen ADDR or --connect ADDR (one of them)"
run 2 "$CCZ" psi ecdh --connect 127.0.0.1:1
contains "$err" "--data FILE is required"
run 2 "$CCZ" psi ecdh --listen :0 --data "$T/a.txt" --size-only
contains "$err" "--size-only and -o are for the connecting side"
run 2 "$CCZ" psi ecdh --connect 127.0.0.1:1 --data "$T/a.txt" --max-per-peer 3
contains "$err" "--once, --max-conns, --max-per-peer and --handshake-timeout are for the listener"
for opt in --once "--max-conns 3" "--handshake-timeout 500"; do
    run 2 "$CCZ" psi ecdh --connect 127.0.0.1:1 --data "$T/a.txt" $opt
    contains "$err" "--once, --max-conns, --max-per-peer and --handshake-timeout are for the listener"
done
run 2 timeout 10 "$CCZ" psi ecdh --listen 127.0.0.1:0 --data "$T/a.txt" -o "$T/x.txt"
contains "$err" "--size-only and -o are for the connecting side"
# :PORT listens on loopback, and the listening line says so
: > "$T/l.log"
"$CCZ" psi ecdh --listen :0 --data "$T/a.txt" 2> "$T/l.log" &
SERVER=$!
port_from "$T/l.log" 60 $SERVER || fail "no listener on :0: $(cat "$T/l.log")"
stop
contains "$(cat "$T/l.log")" "listening on port $PORT of 127.0.0.1 with "
# --mode is seen as the first argument too
run 2 "$CCZ" psi ecdh --mode=client --connect 127.0.0.1:1 --data "$T/a.txt"
contains "$err" "psi ecdh: --tee is required"
# a mode or a trusted root alone means RA-TLS too (two-way by default: this side attests)
for opt in "--mode two-way" --mode=client "--sim-root $P/root.crt"; do
    run 2 "$CCZ" psi ecdh --connect 127.0.0.1:1 --data "$T/a.txt" $opt
    contains "$err" "psi ecdh: --tee is required"
done
run 2 timeout 10 "$CCZ" psi ecdh --listen 127.0.0.1:0 --data "$T/a.txt" --max-per-peer 0
contains "$err" "--max-per-peer: must be at least 1"
run 2 "$CCZ" psi ecdh --connect 127.0.0.1:1 --data "$T/nonexistent"
contains "$err" "cannot open $T/nonexistent"
run 2 "$CCZ" psi ecdh --connect 127.0.0.1:1 --data "$T/a.txt" --json
contains "$err" "'--json' does nothing for 'psi ecdh'"
run 2 "$CCZ" psi ecdh --connect 127.0.0.1:1 --data "$T/a.txt" --policy "$T/accept.json"
contains "$err" "psi ecdh: --tee is required" # a policy means RA-TLS (two-way: this side attests)
run 2 "$CCZ" psi nosuch
contains "$err" "unknown command 'nosuch' (try: serve, join, ecdh)"
run 0 "$CCZ" psi --help
contains "$out" "ccz psi ecdh --listen ADDR --data FILE"
contains "$out" "ccz psi ecdh --connect ADDR --data FILE"
finish
