#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# RA-TLS against hostile peers: ccz ratls server keeps serving a legitimate client (ccz ratls
# client and curl) while connections that send nothing, half a TLS record or a ClientHello
# dripped byte by byte are open, closes them at its handshake deadline and silent established
# connections at its idle timeout, and at its connection cap closes the oldest unfinished
# handshake (or the connection idle longest) to let a newcomer in; one address past
# --max-per-peer loses only its own connections (another's stay), and one whose every connection
# keeps the server busy is refused another at once; a peer that sends a byte every
# 200 ms is cut at the session deadline (--timeout), one that never reads at the idle timeout;
# the cap leaves 32 descriptors of the open-file limit, and out of descriptors the server pauses
# accepting instead of spinning; ccz ratls client gives up on a server that accepts and never
# speaks, and on one that completes the handshake and never answers, each with a timeout error.
. "$(dirname "$0")/lib.sh"
STALL=$(dirname "$0")/ratls_stall.py
sim_endpoint
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/cert.pem" --key "$T/key.pem"

start() { # LOG ARGS...: a ccz ratls server in the background
    local log=$1; shift
    : > "$log" # not the last server's log: its port is not this one's
    "$CCZ" ratls server --listen 127.0.0.1:0 --mode server --cert "$T/cert.pem" \
        --key "$T/key.pem" "$@" 2> "$log" &
    SERVER=$!
    await "$log" listening 60 $SERVER || fail "the server did not start: $(cat "$log")"
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log" | head -1)
}
stop() { kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; }
stall() { # OUT WAIT KIND=N...: hostile connections in the background, until they are all open
    local o=$1; shift
    /usr/bin/python3 "$STALL" $PORT "$@" > "$o" &
    STALLER=$!
    await "$o" ready
}
now_ms() { date +%s%3N; }
legit() { # a ccz client and curl, each within 10 s; sets ELAPSED (ms) for both
    local t0; t0=$(now_ms)
    out=$(echo ping | timeout 10 "$CCZ" ratls client 127.0.0.1:$PORT --mode server --sim-dir "$P" \
          --policy "$T/accept.json" 2>"$T/legit.err")
    [ "$out" = ping ] || fail "legitimate client got '$out': $(cat "$T/legit.err")"
    out=$(timeout 10 curl -s --insecure https://127.0.0.1:$PORT/)
    contains "$out" '"tls":"TLSv1.3"'
    ELAPSED=$(( $(now_ms) - t0 ))
}
STALLER= OTHER=
trap 'stop; kill $STALLER $OTHER 2>/dev/null; rm -rf "$T"' EXIT

# stalled connections do not block the server; they are closed at the handshake deadline, and
# a connection that completed its handshake and sends nothing at the idle timeout
start "$T/s1.log" --handshake-timeout 5000 --idle-timeout 2500
stall "$T/stall1.out" 11 idle=1 half=1 drip=1 tls=1
legit
grep -q 'closed \(idle\|half\|drip\)' "$T/stall1.out" &&
    fail "a stalled connection was closed before its deadline"
[ "$ELAPSED" -lt 4500 ] || fail "the legitimate clients took $ELAPSED ms with stalled peers open"
wait $STALLER
closed_within() { # KIND MIN MAX: the stalled connection of KIND was closed between MIN and MAX s
    local t
    t=$(awk -v k=$1 '$1 == "closed" && $2 == k { print $3 }' "$T/stall1.out")
    [ -n "$t" ] || { fail "the $1 connection was not closed: $(cat "$T/stall1.out")"; return; }
    awk -v t="$t" -v a=$2 -v b=$3 'BEGIN { exit !(t >= a && t <= b) }' ||
        fail "the $1 connection was closed after ${t}s, expected between $2 and $3 s"
}
for kind in idle half drip; do closed_within $kind 4.0 10.0; done
closed_within tls 2.0 4.9
contains "$(cat "$T/s1.log")" "timed out after 5000 ms"
stop

# at the cap, the oldest unfinished handshakes make room; the newcomer is served at once
start "$T/s2.log" --max-conns 4 --handshake-timeout 20000
stall "$T/stall2.out" 6 idle=6
legit
[ "$ELAPSED" -lt 5000 ] || fail "the legitimate clients took $ELAPSED ms at the cap"
contains "$(cat "$T/s2.log")" "closing the oldest unfinished handshake"
kill $STALLER 2>/dev/null; wait $STALLER 2>/dev/null
closed=$(grep -c '^closed idle' "$T/stall2.out")
[ "$closed" -ge 3 ] || fail "$closed idle connections were closed to make room, expected at least 3"
stop

# at the cap with every connection past its handshake, the one idle longest makes room
start "$T/s3.log" --max-conns 2 --idle-timeout 60000
stall "$T/stall3.out" 6 tls=2
legit
[ "$ELAPSED" -lt 5000 ] || fail "the legitimate clients took $ELAPSED ms at the cap"
contains "$(cat "$T/s3.log")" "closing the connection idle longest"
kill $STALLER 2>/dev/null; wait $STALLER 2>/dev/null
closed=$(grep -c '^closed tls' "$T/stall3.out")
# the ccz client takes the place of one; curl then finds the ccz client's place free
[ "$closed" = 1 ] || fail "$closed idle TLS connections were closed to make room, expected 1"
stop

# one address floods past --max-per-peer: only its own connections make room (another peer's
# stay), and the legitimate clients from 127.0.0.1 are served at once
start "$T/s4.log" --max-conns 8 --max-per-peer 2 --handshake-timeout 20000
stall "$T/other4.out" 30 idle@127.0.0.3=2
OTHER=$STALLER
stall "$T/stall4.out" 30 idle@127.0.0.2=6
legit
[ "$ELAPSED" -lt 3000 ] || fail "the legitimate clients took $ELAPSED ms with one peer flooding"
sleep 0.2
contains "$(cat "$T/s4.log")" "ccz ratls: 127.0.0.2 has 2 connections: closing its oldest unfinished handshake"
closed=$(grep -c '^closed idle@127.0.0.2' "$T/stall4.out")
[ "$closed" = 4 ] || fail "$closed of 127.0.0.2's 6 connections were closed, expected 4"
grep -q '^closed' "$T/other4.out" && fail "another peer's connection was closed: $(cat "$T/other4.out")"
kill $STALLER $OTHER 2>/dev/null; wait $STALLER $OTHER 2>/dev/null
stop

# a peer that sends a byte every 200 ms (never idle for --idle-timeout) is cut at the session
# deadline, --timeout after its accept
start "$T/s5.log" --idle-timeout 1000 --timeout 1200
stall "$T/stall5.out" 4 tlsdrip=1
wait $STALLER
t=$(awk '$1 == "closed" { print $3 }' "$T/stall5.out")
[ -n "$t" ] && awk -v t="$t" 'BEGIN { exit !(t >= 0.9 && t <= 2.5) }' ||
    fail "the dripping peer was not cut at ~1.2 s: $(cat "$T/stall5.out")"
contains "$(cat "$T/s5.log")" "ccz ratls: connection 1: the session deadline (1200 ms) passed: closing it"
stop

# a peer whose every connection keeps the server busy (the server is writing its echo into a full
# socket buffer: the client never reads) is refused another at once, its busy one left alone,
# while another peer is served
start "$T/s6.log" --max-per-peer 1 --idle-timeout 20000 --handshake-timeout 20000
/usr/bin/python3 - "$PORT" > "$T/busy.out" 2>&1 <<'PY' &
import select, socket, ssl, sys, time
port = int(sys.argv[1])
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.bind(("127.0.0.2", 0))
raw.connect(("127.0.0.1", port))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(raw)
s.setblocking(False)
line, sent, end = b"x" * 4000 + b"\n", 0, time.monotonic() + 20
while time.monotonic() < end:  # until the server reads nothing for 0.5 s: it is stuck writing
    try:
        sent += s.send(line)
        continue
    except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
        pass
    if not select.select([], [s], [], 0.5)[1]:
        break
else:
    sys.exit("the server kept reading (%d bytes)" % sent)
c = socket.socket()
c.bind(("127.0.0.2", 0))
c.connect(("127.0.0.1", port))
t = time.monotonic()
c.settimeout(3)
try:
    gone = c.recv(1) == b""
except socket.timeout:
    gone = False
except OSError:
    gone = True
print("newcomer", "closed" if gone else "open", round(time.monotonic() - t, 2), flush=True)
time.sleep(30)
PY
STALLER=$!
await "$T/busy.out" newcomer 30 || fail "the busy peer: $(cat "$T/busy.out")"
awk '$1 == "newcomer" { exit !($2 == "closed" && $3 < 1.5) }' "$T/busy.out" ||
    fail "127.0.0.2's newcomer with its one connection busy: $(cat "$T/busy.out")"
legit
contains "$(cat "$T/s6.log")" "ccz ratls: 127.0.0.2 has 1 connections, all busy: refusing another"
grep -q "closing" "$T/s6.log" && fail "a connection was closed: $(cat "$T/s6.log")"
kill $STALLER 2>/dev/null; wait $STALLER 2>/dev/null
stop

# the cap leaves 32 of the open-file limit's descriptors to the listener, files and OpenSSL, and
# is 8 at least; --max-conns stands when the limit has room for it and 32 more
announced() { # NOFILE ARGS...: the "listening" line of a server under an open-file limit
    local n=$1 pid; shift
    : > "$T/cap.log"
    (ulimit -n "$n" && exec "$CCZ" ratls server --listen 127.0.0.1:0 --mode server \
        --cert "$T/cert.pem" --key "$T/key.pem" "$@") 2> "$T/cap.log" &
    pid=$!
    await "$T/cap.log" listening 60 $pid || fail "no server under ulimit -n $n: $(cat "$T/cap.log")"
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    grep listening "$T/cap.log"
}
contains "$(announced 80)" "(mode server, at most 48 connections)"
contains "$(announced 80 --max-conns 48)" "(mode server, at most 48 connections)"
contains "$(announced 80 --max-conns 40)" "(mode server, at most 40 connections)"
contains "$(announced 30)" "(mode server, at most 8 connections)"
contains "$(announced 4096 --max-conns 100)" "(mode server, at most 100 connections)"
# --max-conns 1 is one connection, not the default
contains "$(announced 4096 --max-conns 1)" "(mode server, at most 1 connections)"

# out of descriptors (ulimit -n 10: at most six connections; the rest of twelve wait in the
# backlog while accept() fails) the accept loop pauses between tries instead of spinning a core,
# and it serves a client once those connections end
: > "$T/nofile.log"
(ulimit -n 10 && exec "$CCZ" ratls server --listen 127.0.0.1:0 --mode server \
    --cert "$T/cert.pem" --key "$T/key.pem" --handshake-timeout 20000) 2> "$T/nofile.log" &
SERVER=$!
await "$T/nofile.log" listening 60 $SERVER || fail "no server under ulimit -n 10: $(cat "$T/nofile.log")"
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/nofile.log" | head -1)
read -r cpu accepted < <(/usr/bin/python3 "$(dirname "$0")/busy_accept.py" $PORT $SERVER 12)
[ "$accepted" -le 6 ] || fail "the server accepted $accepted connections under ulimit -n 10"
[ "$cpu" -lt 300 ] || fail "out of descriptors the server used $cpu ms of CPU in 1 s"
legit
stop

# a peer that sends and never reads is cut once the server's echo cannot be written for
# --idle-timeout (SO_SNDTIMEO), not held until the session deadline
start "$T/s8.log" --idle-timeout 1000
/usr/bin/python3 - "$PORT" > "$T/unread.out" 2>&1 <<'PY'
import select, socket, ssl, sys, time
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.connect(("127.0.0.1", int(sys.argv[1])))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(raw)
s.setblocking(False)
line, t0, cut = b"x" * 4000 + b"\n", time.monotonic(), False
while not cut and time.monotonic() < t0 + 15:
    try:
        s.send(line)
        continue
    except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
        select.select([], [s], [], 0.5)
    except OSError:
        cut = True
print("cut" if cut else "held", round(time.monotonic() - t0, 1), flush=True)
PY
awk '{ exit !($1 == "cut" && $2 < 8) }' "$T/unread.out" ||
    fail "a peer that never reads: $(cat "$T/unread.out")"
stop

# bad option values are refused
run 2 "$CCZ" ratls server --listen 127.0.0.1:1 --handshake-timeout 0
contains "$err" "--handshake-timeout: must be at least 1"
run 2 timeout 10 "$CCZ" ratls server --listen 127.0.0.1:0 --max-per-peer 0
contains "$err" "--max-per-peer: must be at least 1"
run 2 "$CCZ" ratls client 127.0.0.1:1 --timeout abc
contains "$err" "--timeout"

# a client against a server that accepts TCP and never speaks
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print("ready", s.getsockname()[1], flush=True)
c = s.accept(); time.sleep(30)' > "$T/mute.out" &
STALLER=$!
await "$T/mute.out" ready
PORT=$(awk '$1 == "ready" { print $2 }' "$T/mute.out")
t0=$(now_ms)
echo x | timeout 20 "$CCZ" ratls client 127.0.0.1:$PORT --mode server --sim-dir "$P" \
    --timeout 800 > /dev/null 2> "$T/mute.err"; code=$?
dt=$(( $(now_ms) - t0 ))
[ $code = 2 ] || fail "the client exited $code against a mute server, expected 2"
contains "$(cat "$T/mute.err")" "TLS handshake with 127.0.0.1:$PORT timed out after 800 ms"
[ "$dt" -ge 750 ] && [ "$dt" -lt 4000 ] || fail "the client gave up after $dt ms, expected ~800"
kill $STALLER 2>/dev/null

# and on one that completes the handshake and then never echoes (Python's ssl module)
/usr/bin/python3 "$(dirname "$0")/tls_peer.py" deaf "$T/cert.pem" "$T/key.pem" > "$T/deaf.out" &
STALLER=$!
await "$T/deaf.out" ready
PORT=$(awk '$1 == "ready" { print $2 }' "$T/deaf.out")
t0=$(now_ms)
echo x | timeout 20 "$CCZ" ratls client 127.0.0.1:$PORT --mode server --sim-dir "$P" \
    --policy "$T/accept.json" --timeout 800 > "$T/deaf.got" 2> "$T/deaf.err"; code=$?
dt=$(( $(now_ms) - t0 ))
[ $code = 2 ] || fail "the client exited $code against a deaf server, expected 2: $(cat "$T/deaf.err")"
contains "$(cat "$T/deaf.err")" "server accepted: sim evidence"
contains "$(cat "$T/deaf.err")" "127.0.0.1:$PORT sent no answer within 800 ms (--timeout)"
[ ! -s "$T/deaf.got" ] || fail "the client printed '$(cat "$T/deaf.got")' from a deaf server"
[ "$dt" -ge 750 ] && [ "$dt" -lt 4000 ] || fail "the client gave up after $dt ms, expected ~800"
kill $STALLER 2>/dev/null

# an echo that comes back a byte per TLS record is printed whole, not cut at its first record
/usr/bin/python3 "$(dirname "$0")/tls_peer.py" drip "$T/cert.pem" "$T/key.pem" > "$T/drip.out" &
STALLER=$!
await "$T/drip.out" ready
PORT=$(awk '$1 == "ready" { print $2 }' "$T/drip.out")
echo hello | timeout 20 "$CCZ" ratls client 127.0.0.1:$PORT --mode server --sim-dir "$P" \
    --policy "$T/accept.json" --timeout 3000 > "$T/drip.got" 2> "$T/drip.err"; code=$?
[ $code = 0 ] || fail "the client exited $code against a dripping echo: $(cat "$T/drip.err")"
[ "$(cat "$T/drip.got")" = hello ] || fail "a dripped echo printed '$(cat "$T/drip.got")', expected hello"
kill $STALLER 2>/dev/null
finish
