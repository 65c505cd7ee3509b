#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 'ccz attestation token verify --jwks https://...' against a hostile JWKS server
# (tests/cli/hostile_https.py, its certificate trusted through --cacert): a JWKS over 1 MiB,
# a chunked body that never ends and a 10 GiB Content-Length are refused without being read
# whole; a redirect is not followed (another host would choose the keys a token is checked with);
# a server that never answers is given up at --timeout.
. "$(dirname "$0")/lib.sh"
HOSTILE=$(dirname "$0")/hostile_https.py
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/key.pem" \
    -out "$T/cert.pem" -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    2> /dev/null || { fail "openssl cannot make the server's certificate"; finish; }
server_pid=
stop_server() { [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; }; }
trap 'stop_server; rm -rf "$T"' EXIT

verify() { # MODE EXPECTED_EXIT [OPTIONS]: token verify against a server answering in MODE
    rm -f "$T/port"
    /usr/bin/python3 "$HOSTILE" "$1" "$T/cert.pem" "$T/key.pem" "$T/port" &
    server_pid=$!
    await "$T/port" "" 10 "$server_pid" || { fail "the $1 server did not start"; return; }
    url=https://127.0.0.1:$(cat "$T/port")/jwks.json
    local t0=$SECONDS
    run "$2" "$CCZ" attestation token verify a.b.c --jwks "$url" --cacert "$T/cert.pem" "${@:3}"
    [ $((SECONDS - t0)) -lt 10 ] || fail "$1: took $((SECONDS - t0)) s"
    stop_server
    server_pid=
}

verify big 2
contains "$err" "token verify: $url: a JWKS over 1048576 bytes"
verify endless 2
contains "$err" "token verify: $url: a JWKS over 1048576 bytes"
verify huge 2
contains "$err" "token verify: $url: Transferred a partial file"
verify redirect 2
contains "$err" "token verify: $url answered 302"
t0=$(date +%s%3N)
verify mute 2 --timeout 700
dt=$(( $(date +%s%3N) - t0 ))
contains "$err" "token verify: $url: Timeout was reached"
[ "$dt" -lt 4000 ] || fail "the mute server held the verification $dt ms (--timeout 700)"
finish
