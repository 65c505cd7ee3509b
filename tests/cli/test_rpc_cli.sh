#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# RA-gRPC with a real gRPC implementation: Python's grpcio (gRPC core, Debian's python3-grpcio)
# calls 'ccz rpc greeter serve' (server-attested and two-way, presenting a ccz RA-TLS
# certificate of its own), and 'ccz rpc greeter call' calls a grpcio server that presents a
# ccz RA-TLS certificate (accepted), a plain certificate (refused: no evidence) or nothing the
# policy accepts. Status codes, messages, deadlines and metadata are checked on both sides;
# messages compressed by grpcio (gzip and deflate, both ways) are read; a server that accepts
# TCP and never speaks cannot hold a call past its deadline.
. "$(dirname "$0")/lib.sh"
PEER="$(dirname "$0")/../rpc/grpc_peer.py"
if ! /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
    echo "python3-grpcio is not installed (scripts/setup installs it)"; exit 77
fi
sim_endpoint
cat > "$T/dynamic_config.json" <<JSON
{"verify_mr_enclave": "on", "verify_mr_signer": "off", "verify_isv_prod_id": "off",
 "verify_isv_svn": "off", "ccz_allow_sim": "on", "sgx_mrs": [{"mr_enclave": "$M"}]}
JSON
echo '{"allow_sim": true, "sgx": [{"mr_enclave": "0000000000000000000000000000000000000000000000000000000000000000"}]}' > "$T/wrong.json"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn localhost -o "$T/srv.crt" --key "$T/srv.key"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn client -o "$T/cli.crt" --key "$T/cli.key"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn client --debug -o "$T/dbg.crt" --key "$T/dbg.key"

SERVER=
start() { # LOG ARGS...: ccz rpc greeter serve in the background, port 0
    local log=$1; shift
    : > "$log" # not the last server's log: its port is not this one's
    "$CCZ" rpc greeter serve --listen 127.0.0.1:0 --sim-dir "$P" "$@" 2> "$log" &
    SERVER=$!
    port_from "$log" 60 $SERVER
}
stop() { [ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; SERVER=; }
PYSERVER=
pystart() { # CERT KEY [gzip|deflate]: the grpcio server
    rm -f "$T/pyport"
    /usr/bin/python3 "$PEER" server "$1" "$2" "$T/pyport" ${3:-} 2> "$T/py.log" &
    PYSERVER=$!
    await "$T/pyport"
    PYPORT=$(cat "$T/pyport")
}
pystop() { [ -n "$PYSERVER" ] && kill $PYSERVER 2>/dev/null; wait $PYSERVER 2>/dev/null; PYSERVER=; }
SILENT=
trap 'stop; pystop; [ -n "$SILENT" ] && kill $SILENT 2>/dev/null; rm -rf "$T"' EXIT
py() { out=$(timeout 30 /usr/bin/python3 "$PEER" client "$@" 2>"$T/pyerr"); }

# ---- grpcio client -> ccz server, the server attested (grpcio trusts its RA-TLS certificate)
CCZ_LOG=debug start "$T/s1.log" --mode server --cert "$T/srv.crt" --key "$T/srv.key" --delay 0
[ -n "$PORT" ] || fail "the server did not start: $(cat "$T/s1.log")"
contains "$(cat "$T/s1.log")" "serving ratls.Greeter on port $PORT (mode server)"
py 127.0.0.1:$PORT "$T/srv.crt" hello
jqis .code OK
jqis .reply "Hello python"
jqis '.initial["x-trace"]' t-42
jqis '.trailing["x-trace"]' t-42
jqis '.trailing["x-raw-bin"]' 00ff10
jqis '.trailing["ccz-peer-tee"]' null   # this mode does not verify clients
py 127.0.0.1:$PORT "$T/srv.crt" empty
jqis .code INVALID_ARGUMENT
jqis .details "name is empty"
py 127.0.0.1:$PORT "$T/srv.crt" unknown
jqis .code UNIMPLEMENTED
jqis .details "unknown method /ratls.Greeter/SayGoodbye"
py 127.0.0.1:$PORT "$T/srv.crt" garbage
jqis .code INTERNAL
jqis .details "the request cannot be parsed as the method's message"
py 127.0.0.1:$PORT "$T/srv.crt" many
jqis .code OK
jqis .n 200
jqis .ok true
# requests compressed by grpcio (grpc-encoding gzip, deflate) are read
Z=$(printf "z%.0s" $(seq 100))
py 127.0.0.1:$PORT "$T/srv.crt" gzip
jqis .code OK
jqis .reply "Hello $Z"
jqis '.trailing["x-raw-bin"]' 00ff10
contains "$(cat "$T/s1.log")" "a gzip-compressed request message"
py 127.0.0.1:$PORT "$T/srv.crt" deflate
jqis .code OK
jqis .reply "Hello $Z"
contains "$(cat "$T/s1.log")" "a deflate-compressed request message"
stop

# ---- two-way: grpcio presents a ccz RA-TLS certificate, which the server verifies
start "$T/s2.log" --mode two-way --cert "$T/srv.crt" --key "$T/srv.key" --policy "$T/accept.json" --delay 400
py 127.0.0.1:$PORT "$T/srv.crt" hello "$T/cli.crt" "$T/cli.key"
jqis .code OK
jqis .reply "Hello python"
jqis '.trailing["ccz-peer-tee"]' sim
contains "$(cat "$T/s2.log")" "client accepted: sim evidence (dice)"
# a deadline shorter than the server's delay
py 127.0.0.1:$PORT "$T/srv.crt" deadline "$T/cli.crt" "$T/cli.key"
jqis .code DEADLINE_EXCEEDED
# a debug enclave's certificate is refused; no certificate at all is refused
py 127.0.0.1:$PORT "$T/srv.crt" hello "$T/dbg.crt" "$T/dbg.key"
jqis .code UNAVAILABLE
py 127.0.0.1:$PORT "$T/srv.crt" hello
jqis .code UNAVAILABLE
contains "$(cat "$T/s2.log")" "client REJECTED at policy: policy_rejected: debug"
contains "$(cat "$T/s2.log")" "peer did not return a certificate"
stop
contains "$(cat "$T/s2.log")" "SIGTERM: draining the calls in flight"
contains "$(cat "$T/s2.log")" "ccz rpc: stopped"

# ---- ccz client -> grpcio server presenting a ccz RA-TLS certificate
pystart "$T/srv.crt" "$T/srv.key"
run 0 "$CCZ" rpc greeter call 127.0.0.1:$PYPORT --name ccz --mode server --sim-dir "$P" \
    --policy "$T/accept.json" --metadata x-trace=abc --count 3
[ "$out" = "Hi ccz from python
Hi ccz from python
Hi ccz from python" ] || fail "three replies expected, got '$out'"
contains "$err" "server accepted: sim evidence (dice)"
contains "$err" "trailer x-from: python"
contains "$err" "trailer x-echo: abc"
contains "$err" "trailer x-from-bin: AAH+/w=="   # -bin metadata prints as base64
run 1 "$CCZ" rpc greeter call 127.0.0.1:$PYPORT --name fail --mode server --sim-dir "$P" --policy "$T/accept.json"
contains "$err" "PERMISSION_DENIED (7): python says no"
run 1 "$CCZ" rpc greeter call 127.0.0.1:$PYPORT --name slow --mode server --sim-dir "$P" \
    --policy "$T/accept.json" --deadline 300
contains "$err" "DEADLINE_EXCEEDED (4)"
# the policy decides: a wrong measurement is refused before any request is sent
run 1 "$CCZ" rpc greeter call 127.0.0.1:$PYPORT --name x --mode server --sim-dir "$P" --policy "$T/wrong.json"
contains "$err" "UNAVAILABLE (14)"
contains "$err" "measurement_not_accepted"
pystop

# ---- ccz client -> grpcio servers that compress their responses
for enc in gzip deflate; do
    pystart "$T/srv.crt" "$T/srv.key" $enc
    CCZ_LOG=debug run 0 "$CCZ" rpc greeter call 127.0.0.1:$PYPORT --name "$Z" --mode server \
        --sim-dir "$P" --policy "$T/accept.json"
    [ "$out" = "Hi $Z from python" ] || fail "got '$out' from the $enc server"
    contains "$err" "a $enc-compressed response message"
    pystop
done

# ---- a server that accepts TCP and never speaks: the deadline bounds connect and handshake
/usr/bin/python3 "$(dirname "$0")/mute_server.py" "$T/silentport" &
SILENT=$!
await "$T/silentport"
t0=$(date +%s%N)
run 1 timeout 20 "$CCZ" rpc greeter call 127.0.0.1:$(cat "$T/silentport") --name x --mode server \
    --sim-dir "$P" --policy "$T/accept.json" --deadline 700
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
contains "$err" "DEADLINE_EXCEEDED (4)"
[ "$ms" -lt 3000 ] || fail "the call took $ms ms against a deadline of 700"
kill $SILENT 2>/dev/null; wait $SILENT 2>/dev/null; SILENT=

# ---- a grpcio server with a plain certificate: no evidence, refused
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/plain.key" \
    -out "$T/plain.crt" -subj /CN=localhost -days 1 2>/dev/null
pystart "$T/plain.crt" "$T/plain.key"
run 1 "$CCZ" rpc greeter call 127.0.0.1:$PYPORT --name x --mode server --sim-dir "$P" --policy "$T/accept.json"
contains "$err" "server REJECTED at extension: not_found"
contains "$err" "UNAVAILABLE (14)"
pystop

# ---- --authority is the request's :authority: a TLS server offering h2 (the client, --mode
# client, does not verify it) keeps what the client sends; '~' costs HPACK's Huffman code more
# than a byte, so the name goes literally
rm -f "$T/h2port"
/usr/bin/python3 - "$T/plain.crt" "$T/plain.key" "$T/h2port" "$T/h2.bin" <<'PY' &
import os, socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.set_alpn_protocols(["h2"])
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
s.settimeout(20)  # a client that never comes does not hold the test
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
t = ctx.wrap_socket(s.accept()[0], server_side=True)
t.settimeout(2)
got, end = b"", time.time() + 2
try:
    while time.time() < end:
        b = t.recv(4096)
        if not b:
            break
        got += b
except OSError:
    pass
open(sys.argv[4], "wb").write(got)
PY
H2=$!
await "$T/h2port"
run 1 "$CCZ" rpc greeter call 127.0.0.1:$(cat "$T/h2port") --name x --mode client --tee sim --sim-dir "$P" \
    --authority '~~~~~~~~~~~~~~~~' --deadline 1000
contains "$err" "DEADLINE_EXCEEDED (4)"
wait $H2
grep -q '~~~~~~~~~~~~~~~~' "$T/h2.bin" || fail "--authority was not sent as :authority"

# ---- ccz to ccz, two-way (CCZoo's dynamic_config.json on the server, as it is), and a debug
# client refused with the server's alert
start "$T/s3.log" --mode two-way --tee sim --policy "$T/dynamic_config.json"
run 0 "$CCZ" rpc greeter call 127.0.0.1:$PORT --name both --tee sim --sim-dir "$P" --policy "$T/accept.json" \
    --metadata x-raw-bin=AP8Q
[ "$out" = "Hello both" ] || fail "got '$out'"
contains "$err" "trailer ccz-peer-tee: sim"
contains "$err" "trailer x-raw-bin: AP8Q"   # base64 given, bytes sent, echoed, base64 printed
# only x- metadata is echoed
run 0 "$CCZ" rpc greeter call 127.0.0.1:$PORT --name md --tee sim --sim-dir "$P" --policy "$T/accept.json" \
    --metadata x-keep=1 --metadata other=2
contains "$err" "header x-keep: 1"
contains "$err" "trailer x-keep: 1"
case "$err" in *"other: 2"*) fail "metadata without the x- prefix was echoed: $err";; esac
# an answer lost to a full device fails the call, though each answer is flushed as it is
# printed (the error stays on the stream; the last flush has nothing left to write)
if [ -c /dev/full ] && [ -w /dev/full ]; then
    "$CCZ" rpc greeter call 127.0.0.1:$PORT --name full --tee sim --sim-dir "$P" \
        --policy "$T/accept.json" > /dev/full 2> "$T/full.err"; code=$?
    [ "$code" = 2 ] || fail "a call whose answer was lost to /dev/full exited $code, expected 2"
    contains "$(cat "$T/full.err")" "ccz: cannot write standard output: write error"
fi
# a name of 1024 bytes is answered; one byte more is INVALID_ARGUMENT
N1024=$(printf 'n%.0s' $(seq 1024))
run 0 "$CCZ" rpc greeter call 127.0.0.1:$PORT --name "$N1024" --tee sim --sim-dir "$P" --policy "$T/accept.json"
[ "$out" = "Hello $N1024" ] || fail "a 1024-byte name got ${#out} bytes back"
run 1 "$CCZ" rpc greeter call 127.0.0.1:$PORT --name "${N1024}x" --tee sim --sim-dir "$P" --policy "$T/accept.json" \
    --count 3
contains "$err" "INVALID_ARGUMENT (3): name is longer than 1024 bytes"
# the first status other than OK ends the calls: one error, not --count's three
[ "$(printf '%s\n' "$err" | grep -c 'INVALID_ARGUMENT (3)')" = 1 ] || fail "calls went on after an error: $err"
[ -z "$out" ] || fail "a 1025-byte name was answered"
run 2 "$CCZ" rpc greeter call 127.0.0.1:$PORT --name both --tee sim --sim-dir "$P" --policy "$T/accept.json" \
    --metadata x-raw-bin='not base64!'
contains "$err" "a -bin value is base64"
run 1 "$CCZ" rpc greeter call 127.0.0.1:$PORT --name x --tee sim --debug --sim-dir "$P" --policy "$T/accept.json"
contains "$err" "UNAVAILABLE (14): the server refused us (TLS alert: bad certificate)"
run 2 "$CCZ" rpc greeter call 127.0.0.1:$PORT --sim-dir "$P"
contains "$err" "usage: ccz rpc greeter call HOST:PORT --name NAME"
run 2 timeout 30 "$CCZ" rpc greeter serve --listen nowhere --tee sim --sim-dir "$P"
contains "$err" "'nowhere' is not HOST:PORT or :PORT"
run 2 timeout 10 "$CCZ" rpc greeter serve --listen 127.0.0.1:0 --tee sim --sim-dir "$P" extra
contains "$err" "usage: ccz rpc greeter serve --listen ADDR"
stop
finish
