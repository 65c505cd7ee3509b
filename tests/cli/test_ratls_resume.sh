#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Session resumption against ccz's RA-TLS servers, with real peers: every connection is attested
# afresh, so the servers issue no tickets and an offered session leads to a full handshake, never
# an error. curl fetching two URLs in one run, openssl s_client with -sess_out / -sess_in (a
# session from another server offered to ccz), and grpcio with an SSL session cache calling
# 'ccz rpc greeter serve' over three channels, in the modes where the server verifies clients.
. "$(dirname "$0")/lib.sh"
sim_endpoint
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn localhost -o "$T/srv.crt" --key "$T/srv.key"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn client -o "$T/cli.crt" --key "$T/cli.key"

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SERVER=
start() { # LOG ARGS...: a ccz ratls server in the background
    local log=$1; shift
    : > "$log" # not the last server's log: its port is not this one's
    "$CCZ" ratls server --listen 127.0.0.1:0 --cert "$T/srv.crt" --key "$T/srv.key" \
        --sim-dir "$P" --policy "$T/accept.json" "$@" 2> "$log" &
    SERVER=$!
    await "$log" listening 60 $SERVER || fail "the server did not start: $(cat "$log")"
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log" | head -1)
}
stop() { [ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; SERVER=; }
trap 'stop; rm -rf "$T"' EXIT

# a session from another server, which issues tickets (openssl s_server, the same certificate)
OPORT=$(port)
timeout 20 openssl s_server -accept $OPORT -cert "$T/srv.crt" -key "$T/srv.key" -www -quiet \
    > /dev/null 2>&1 &
OSERVER=$!
for _ in $(seq 50); do
    printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -connect 127.0.0.1:$OPORT -ign_eof \
        -sess_out "$T/other.sess" > /dev/null 2>&1 && [ -s "$T/other.sess" ] && break
    sleep 0.1
done
kill $OSERVER 2>/dev/null
[ -s "$T/other.sess" ] || fail "openssl s_server gave no session to resume"

for mode in two-way client server; do
    start "$T/$mode.log" --mode $mode
    certs=(--cert "$T/cli.crt" --key "$T/cli.key")
    # (a) curl: two URLs, two connections (the server closes each), the second offers a session
    out=$(timeout 10 curl -s --insecure "${certs[@]}" https://127.0.0.1:$PORT/a https://127.0.0.1:$PORT/b)
    [ "$(printf '%s\n' "$out" | grep -c '"tls":"TLSv1.3"')" = 2 ] ||
        fail "$mode: curl fetching two URLs got '$out'"
    # (b) s_client (an HTTP request: the server answers and closes): the server issues no
    # ticket, so -sess_out writes nothing to resume ...
    rm -f "$T/own.sess"
    out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:$PORT \
          -ign_eof -cert "$T/cli.crt" -key "$T/cli.key" -sess_out "$T/own.sess" 2>&1)
    contains "$out" "New, TLSv1.3"
    contains "$out" '"tls":"TLSv1.3"'
    [ -s "$T/own.sess" ] && fail "$mode: the server issued a session ticket"
    # ... and a session offered with -sess_in leads to a full handshake, not an alert
    out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:$PORT \
          -ign_eof -cert "$T/cli.crt" -key "$T/cli.key" -sess_in "$T/other.sess" 2>&1)
    contains "$out" "New, TLSv1.3"
    contains "$out" '"tls":"TLSv1.3"'
    case "$out" in *Reused*|*alert*) fail "$mode: s_client -sess_in: $out";; esac
    stop
    grep -q "internal error\|uninitialized" "$T/$mode.log" && fail "$mode: $(cat "$T/$mode.log")"
done
# every connection was attested: two-way and client modes logged each client
for mode in two-way client; do
    n=$(grep -c "client accepted" "$T/$mode.log")
    [ "$n" = 4 ] || fail "$mode: $n clients accepted, expected 4 (2 curl, 2 s_client)"
done

# (c) grpcio with grpc.ssl_session_cache against ccz rpc greeter serve
if /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
    for mode in two-way client; do
        "$CCZ" rpc greeter serve --listen 127.0.0.1:0 --sim-dir "$P" --mode $mode \
            --cert "$T/srv.crt" --key "$T/srv.key" --policy "$T/accept.json" 2> "$T/rpc-$mode.log" &
        SERVER=$!
        port_from "$T/rpc-$mode.log" 60 $SERVER
        out=$(timeout 30 /usr/bin/python3 "$(dirname "$0")/ratls_resume_grpc.py" 127.0.0.1:$PORT \
              "$T/srv.crt" "$T/cli.crt" "$T/cli.key" 2>&1)
        [ "$out" = '["Hello c0", "Hello c1", "Hello c2"]' ] || fail "$mode: grpcio with a session cache got $out"
        stop
        n=$(grep -c "client accepted" "$T/rpc-$mode.log")
        [ "$n" = 3 ] || fail "$mode: rpc: $n clients accepted, expected 3"
    done
elif [ "$failures" = 0 ]; then
    echo "python3-grpcio is not installed (scripts/setup installs it): the grpcio part is skipped"
    exit 77
fi
finish
