#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Secret provisioning end to end: 'ccz secret serve' releases to each sim-attested client the
# secret its measurement maps to; 'ccz secret get' (appraising the server's RA-TLS certificate,
# or by a CA chain), an independent Python client speaking Gramine's exchange byte for byte
# (tests/secret/gramine_client.py, the ssl module only) and libccz_secret_preload.so (the
# constructor, into an environment variable, Gramine's key rules and a key file) get exactly
# their secret; a wrong measurement, a debug enclave, no certificate and a wrong request get
# none; the server's log names secrets, never their bytes; SIGTERM stops it cleanly.
. "$(dirname "$0")/lib.sh"
PY="$(dirname "$0")/../secret/gramine_client.py"
PRELOAD=${CCZ_BUILD_DIR:-$(dirname "$CCZ")}/libccz_secret_preload.so
P=$T/plat
"$CCZ" sim init --dir "$P" > /dev/null
M=$("$CCZ" sim measure "$CCZ")
SH=$(readlink -f /bin/sh)
TRUE_BIN=$(readlink -f /bin/true)
MSH=$("$CCZ" sim measure "$SH")
MTRUE=$("$CCZ" sim measure "$TRUE_BIN")
CAT_BIN=$(readlink -f /bin/cat)
MCAT=$("$CCZ" sim measure "$CAT_BIN")
M2=$(printf '22%.0s' $(seq 32))
M3=$(printf '33%.0s' $(seq 32))

printf 'the app secret\n' > "$T/app.txt"
printf 'shell-secret\0' > "$T/shell.txt"
{ head -c 15 /dev/urandom; printf '\001'; } > "$T/key.bin" # binary, never NUL-terminated
printf 'ab\0cd\0' > "$T/nul.txt" # NUL-terminated, with a NUL inside
cat > "$T/server.json" <<JSON
{"allow_sim": true,
 "secrets": [{"secret": "app", "measurement": "$M"},
             {"secret": "shell", "tee": "sim", "mr_enclave": "$MSH"},
             {"secret": "key", "mr_enclave": "$M2"},
             {"secret": "key", "measurement": "$MTRUE"},
             {"secret": "nul", "measurement": "$MCAT"}]}
JSON
echo '{"allow_sim": true}' > "$T/client.json"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn localhost -o "$T/srv.crt" --key "$T/srv.key"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn client -o "$T/cli.crt" --key "$T/cli.key"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn client --measurement "$M2" -o "$T/cli2.crt" --key "$T/cli2.key"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn client --measurement "$M3" -o "$T/cli3.crt" --key "$T/cli3.key"
run 0 "$CCZ" ratls cert --tee sim --sim-dir "$P" --cn client --debug -o "$T/dbg.crt" --key "$T/dbg.key"

# usage errors (exit 2, before anything listens): each --secret is NAME=FILE, a name under 80
# bytes; serve needs a listener, a secret and a policy; get, one address
for bad in "=$T/app.txt" "app=" "app" "$(printf 'n%.0s' $(seq 80))=$T/app.txt"; do
    refused secret serve --listen 127.0.0.1:0 --secret "$bad" \
        --policy "$T/server.json" -- "--secret takes NAME=FILE ('$bad')"
done
refused secret serve --listen 127.0.0.1:0 --secret "app=$T/app.txt" -- \
    "serve needs --listen ADDR, --secret NAME=FILE and --policy FILE"
refused secret serve --secret "app=$T/app.txt" --policy "$T/server.json" -- "serve needs --listen ADDR"
refused secret serve --listen 127.0.0.1:0 --policy "$T/server.json" -- "serve needs --listen ADDR"
refused secret serve --listen 127.0.0.1:0 --secret "app=$T/app.txt" \
    --policy "$T/server.json" extra -- "unexpected argument 'extra'"
refused secret get -- "get takes one server address, HOST:PORT"
refused secret get 127.0.0.1:1 127.0.0.1:2 -- "get takes one server address, HOST:PORT"
# a -o that cannot be written is said before connecting, not once the secret is released
run 2 "$CCZ" secret get 127.0.0.1:1 --tee sim --sim-dir "$P" -o "$T/none/s.bin"
[ "$err" = "ccz: secret get: --out: cannot write $T/none/s.bin: No such file or directory" ] ||
    fail "secret get -o in a missing folder: '$err'"
run 2 timeout 30 "$CCZ" secret serve --listen 127.0.0.1:0 --secret "app=$T/none" --policy "$T/server.json" \
    --sim-dir "$P" --tee sim
contains "$err" "$T/none"

SERVER=
PRE=() # a command to start the server through (env with LD_PRELOAD)
start() { # LOG ARGS...: ccz secret serve in the background on a free port (--timeout $TIMEOUT)
    local log=$1; shift
    : > "$log" # not the last server's log: its port is not this one's
    "${PRE[@]}" "$CCZ" secret serve --listen 127.0.0.1:0 --sim-dir "$P" --timeout "${TIMEOUT:-1000}" "$@" \
        2> "$log" &
    SERVER=$!
    port_from "$log" 60 $SERVER || fail "the server did not start: $(cat "$log")"
}
stop() { # sends SIGTERM; the server must exit 0
    [ -n "$SERVER" ] || return 0
    kill -TERM $SERVER 2>/dev/null
    reap $SERVER 30
    local code=$?
    [ "$code" = 0 ] || fail "secret serve exited $code after SIGTERM"
    SERVER=
}
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
get() { "$CCZ" secret get "$@" --sim-dir "$P"; }
py() { out=$(timeout 30 /usr/bin/python3 "$PY" "$@" 2>"$T/pyerr"); }

# ---- a server with an RA-TLS certificate and three secrets, chosen by measurement
start "$T/a.log" --secret app="$T/app.txt" --secret shell="$T/shell.txt" \
    --secret key="$T/key.bin" --secret nul="$T/nul.txt" --policy "$T/server.json" --cert "$T/srv.crt" --key "$T/srv.key"
run 0 get 127.0.0.1:$PORT --tee sim --policy "$T/client.json"
[ "$out" = "the app secret" ] || fail "the ccz client got '$out', expected the app secret"
contains "$err" "server accepted: sim evidence (dice), mr_enclave $M [SIMULATED TEE]"
# a secret lost to a full device fails the command (exit 2), which says where it was lost
if [ -c /dev/full ] && [ -w /dev/full ]; then
    get 127.0.0.1:$PORT --tee sim --policy "$T/client.json" > /dev/full 2> "$T/full.err"; code=$?
    [ "$code" = 2 ] || fail "a secret lost to /dev/full exited $code, expected 2"
    contains "$(cat "$T/full.err")" "ccz: secret get: standard output"
fi
run 0 get 127.0.0.1:$PORT --tee sim --policy "$T/client.json" -o "$T/got.app"
cmp -s "$T/got.app" "$T/app.txt" || fail "-o wrote other bytes than the app secret"
[ "$(stat -c %a "$T/got.app")" = 600 ] || fail "-o file mode is $(stat -c %a "$T/got.app"), not 600"
run 0 get 127.0.0.1:$PORT --tee sim --policy "$T/client.json" --measurement "$M2" -o "$T/got.key"
cmp -s "$T/got.key" "$T/key.bin" || fail "measurement M2 did not get the 16-byte key"
# a measurement that maps to nothing: exit 1, no byte on stdout
run 1 get 127.0.0.1:$PORT --tee sim --policy "$T/client.json" --measurement "$M3"
[ -z "$out" ] || fail "a refused client printed '$out'"
contains "$err" "closed the connection without a secret"
# a debug enclave: its certificate is refused
run 1 get 127.0.0.1:$PORT --tee sim --policy "$T/client.json" --debug
[ -z "$out" ] || fail "a debug client printed '$out'"
contains "$err" "refused our certificate (TLS alert"
# the client appraises the server too: the default policy refuses sim evidence
run 1 get 127.0.0.1:$PORT --tee sim
contains "$err" "simulated_not_allowed"
run 2 get 127.0.0.1:$PORT --tee sim --policy "$T/client.json" --ca "$T/srv.crt"
contains "$err" "not both"
# its certificate pinned as the CA, as a Gramine client would: for the name it carries only
run 0 get localhost:$PORT --tee sim --ca "$T/srv.crt"
[ "$out" = "the app secret" ] || fail "get --ca (pinned RA-TLS certificate) got '$out'"
run 1 get 127.0.0.1:$PORT --tee sim --ca "$T/srv.crt"
[ -z "$out" ] || fail "a server whose certificate does not name 127.0.0.1 gave '$out'"
contains "$err" "the server's certificate is not for 127.0.0.1"

# the independent Python client, byte for byte (the server's certificate pinned as its CA)
APP_HEX=$(od -An -tx1 "$T/app.txt" | tr -d ' \n')
KEY_HEX=$(od -An -tx1 "$T/key.bin" | tr -d ' \n')
py localhost $PORT "$T/srv.crt" "$T/cli.crt" "$T/cli.key"
jqis .ok true
jqis .tls TLSv1.3
jqis .size 15
jqis .secret_hex "$APP_HEX"
jqis .closed_after true
py localhost $PORT "$T/srv.crt" "$T/cli2.crt" "$T/cli2.key"
jqis .ok true
jqis .size 16
jqis .secret_hex "$KEY_HEX"
py localhost $PORT "$T/srv.crt" "$T/cli3.crt" "$T/cli3.key"
jqis .ok false
jqis .stage response
jqis .received 0
py localhost $PORT "$T/srv.crt"
jqis .ok false
jqis .received 0
py localhost $PORT "$T/srv.crt" "$T/dbg.crt" "$T/dbg.key"
jqis .ok false
case "$(printf '%s' "$out" | jq -r .stage)" in tls|connection|response) ;; *) fail "debug: $out";; esac
printf '%s' "$out" | grep -q "$APP_HEX" && fail "the debug client saw the secret"
# a wrong request string: the listener takes it for HTTP and refuses it at the deadline
py localhost $PORT "$T/srv.crt" "$T/cli.crt" "$T/cli.key" --request SECRET_PROVISION_RA_TLS_REQUEST_V2
jqis .ok false
contains "$out" "wrong magic"
contains "$out" "HTTP/1.1 408"
printf '%s' "$out" | grep -q "$APP_HEX" && fail "a wrong request got the secret"
# a client that sends nothing is cut at the deadline (1 s), with nothing
start_s=$(date +%s%N)
py localhost $PORT "$T/srv.crt" "$T/cli.crt" "$T/cli.key" --silent
jqis .received 0
el=$(( ($(date +%s%N) - start_s) / 1000000 ))
[ "$el" -ge 700 ] && [ "$el" -lt 8000 ] || fail "a silent client was cut after $el ms, not about 1000"

# ---- the preload library (Gramine's constructor), into the environment and a key file
if [ "${CCZ_SANITIZE:-OFF}" = ON ]; then
    echo "note: the preload checks are skipped: a sanitizer build's library cannot be preloaded into uninstrumented programs"
elif [ ! -f "$PRELOAD" ]; then
    fail "no $PRELOAD"
else
    pre() { # ENV... -- CMD...: the constructor with the sim attester and a policy for the server
        env LD_PRELOAD="$PRELOAD" SECRET_PROVISION_CONSTRUCTOR=1 CCZ_SECRET_TEE=sim \
            CCZ_SIM_DIR="$P" CCZ_SECRET_POLICY="$T/client.json" "$@"
    }
    # the first server that answers (port 1 refuses); the variable is gone for children
    run 0 pre SECRET_PROVISION_SERVERS="127.0.0.1:1;127.0.0.1:$PORT" \
        sh -c 'echo "[$SECRET_PROVISION_SECRET_STRING] ${SECRET_PROVISION_CONSTRUCTOR-unset}"'
    [ "$out" = "[shell-secret] unset" ] || fail "preload: got '$out'"
    # Gramine's key rules: SECRET_PROVISION_SET_KEY needs exactly 16 bytes
    run 0 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" SECRET_PROVISION_SET_KEY=model \
        CCZ_SECRET_KEY_FILE="$T/model.key" "$TRUE_BIN"
    cmp -s "$T/model.key" "$T/key.bin" || fail "preload: the key file does not hold the key"
    [ "$(stat -c %a "$T/model.key")" = 600 ] || fail "preload: key file mode is not 600"
    run 1 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" SECRET_PROVISION_SET_KEY=model \
        CCZ_SECRET_KEY_FILE="$T/model2.key" sh -c 'echo ran'
    [ -z "$out" ] || fail "preload: the program ran after a failure: '$out'"
    contains "$err" "a key for SECRET_PROVISION_SET_KEY must be 16"
    [ -e "$T/model2.key" ] && fail "preload: a wrong-sized key was written"
    # a binary secret is no string: refused without CCZ_SECRET_KEY_FILE
    run 1 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" "$TRUE_BIN"
    contains "$err" "not a NUL-terminated string"
    # nor is a secret with a NUL inside: the variable would hold its first part only
    run 1 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" "$CAT_BIN" /dev/null
    contains "$err" "not a NUL-terminated string"
    # no server provides it: exit 1 before the program runs
    run 1 pre SECRET_PROVISION_SERVERS="127.0.0.1:1" sh -c 'echo ran'
    [ -z "$out" ] || fail "preload: the program ran without its secret"
    contains "$err" "ccz secret provisioning: network_error"
    # a list of separators only names no server: exit 1 before the program runs
    run 1 pre SECRET_PROVISION_SERVERS=" ,; " sh -c 'echo ran'
    [ -z "$out" ] || fail "preload with no server: the program ran"
    contains "$err" "invalid_argument: SECRET_PROVISION_SERVERS names no server; terminating the process"
    run 1 env LD_PRELOAD="$PRELOAD" SECRET_PROVISION_CONSTRUCTOR=true CCZ_SECRET_TEE=sim \
        CCZ_SIM_DIR="$P" sh -c 'echo ran'
    contains "$err" "set SECRET_PROVISION_CA_CHAIN_PATH"
    # the attester is Gramine's (sgx) unless CCZ_SECRET_TEE says otherwise
    run 1 env LD_PRELOAD="$PRELOAD" SECRET_PROVISION_CONSTRUCTOR=1 \
        CCZ_SECRET_POLICY="$T/client.json" SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" sh -c 'echo ran'
    [ -z "$out" ] || fail "preload without a TEE: the program ran"
    contains "$err" "ccz secret provisioning: tee_unavailable: no Gramine attestation interface"
    # without SECRET_PROVISION_CONSTRUCTOR the library does nothing
    run 0 env LD_PRELOAD="$PRELOAD" sh -c 'echo ran'
    [ "$out" = ran ] || fail "preload without the constructor variable: '$out'"
    # nor with a value other than 1, true or TRUE (Gramine's)
    run 0 env LD_PRELOAD="$PRELOAD" SECRET_PROVISION_CONSTRUCTOR=yes \
        SECRET_PROVISION_SERVERS="127.0.0.1:1" sh -c 'echo ran'
    [ "$out" = ran ] || fail "preload with SECRET_PROVISION_CONSTRUCTOR=yes: '$out'"
    # a key name is a name, not a path
    run 1 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" SECRET_PROVISION_SET_KEY=../model \
        "$TRUE_BIN"
    contains "$err" "SECRET_PROVISION_SET_KEY '../model' is not a key name"
    # a secret delivered to a file leaves no string a parent set in the environment
    run 0 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" CCZ_SECRET_KEY_FILE="$T/shell.out" \
        SECRET_PROVISION_SECRET_STRING=stale sh -c 'echo "${SECRET_PROVISION_SECRET_STRING-unset}"'
    [ "$out" = unset ] || fail "preload into a file left SECRET_PROVISION_SECRET_STRING '$out'"
    cmp -s "$T/shell.out" "$T/shell.txt" || fail "preload: the file does not hold the shell secret"
    # CCZ_LOG reaches the constructor: at info, each server that fails is named before the next
    CCZ_LOG=info run 0 pre SECRET_PROVISION_SERVERS="127.0.0.1:1,127.0.0.1:$PORT" \
        sh -c 'echo "[$SECRET_PROVISION_SECRET_STRING]"'
    [ "$out" = "[shell-secret]" ] || fail "preload at CCZ_LOG=info: got '$out'"
    contains "$err" "ccz: info: ccz secret provisioning: 127.0.0.1:1: "
    # without SECRET_PROVISION_SET_KEY's file, the key goes to Gramine's key file (absent here)
    run 1 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" SECRET_PROVISION_SET_KEY=model "$TRUE_BIN"
    contains "$err" "cannot open /dev/attestation/keys/model: No such file or directory"
    # a key name whose path would not fit (22 + 234 bytes, no room for its NUL) is no name
    run 1 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" \
        SECRET_PROVISION_SET_KEY="$(printf 'k%.0s' $(seq 234))" "$TRUE_BIN"
    contains "$err" "is not a key name"
    # empty variables count as unset: the default TEE (sgx), the policy rather than a CA chain,
    # the default server
    run 1 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" CCZ_SECRET_TEE= sh -c 'echo ran'
    [ -z "$out" ] || fail "preload with an empty CCZ_SECRET_TEE: the program ran"
    contains "$err" "ccz secret provisioning: tee_unavailable: no Gramine attestation interface"
    run 0 pre SECRET_PROVISION_SERVERS="127.0.0.1:$PORT" SECRET_PROVISION_CA_CHAIN_PATH= \
        sh -c 'echo "[$SECRET_PROVISION_SECRET_STRING]"'
    [ "$out" = "[shell-secret]" ] || fail "preload with an empty CA chain path: got '$out'"
    run 1 pre SECRET_PROVISION_SERVERS= sh -c 'echo ran'
    [ -z "$out" ] || fail "preload with an empty server list: the program ran"
    contains "$err" "localhost:4433"
fi
stop
log=$(cat "$T/a.log")
contains "$log" "sent secret app (15 bytes) to 127.0.0.1 (sim evidence (SIMULATED), mr_enclave $M)"
contains "$log" "sent secret key (16 bytes)"
contains "$log" "no entry of the secrets section matches its claims: no secret"
contains "$log" "presented no RA-TLS certificate"
contains "$log" "ccz secret: stopped"
contains "$log" "ccz secret: serving 4 secrets on port "
case "$log" in *"the app secret"*|*"shell-secret"*) fail "the server logged a secret";; esac

# ---- a server with an ordinary certificate from a CA, as Gramine's clients expect
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
    -out "$T/ca.crt" -days 2 -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other-ca.key" \
    -out "$T/other-ca.crt" -days 2 -subj /CN=other-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/web.key" \
    -out "$T/web.csr" -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$T/san.ext"
openssl x509 -req -in "$T/web.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/san.ext" -out "$T/web.crt" 2>/dev/null
cat "$T/web.crt" "$T/ca.crt" > "$T/web-chain.crt"
printf 'gramine-secret\0' > "$T/g.txt"
start "$T/b.log" --secret only="$T/g.txt" --policy "$T/client.json" --cert "$T/web-chain.crt" \
    --key "$T/web.key"
contains "$(cat "$T/b.log")" "ccz secret: serving 1 secret on port "
contains "$(cat "$T/b.log")" "a given certificate"
G_HEX=$(od -An -tx1 "$T/g.txt" | tr -d ' \n')
py localhost $PORT "$T/ca.crt" "$T/cli3.crt" "$T/cli3.key"   # no section: any accepted client
jqis .ok true
jqis .secret_hex "$G_HEX"
run 0 get localhost:$PORT --tee sim --ca "$T/ca.crt" -o "$T/got.g"
cmp -s "$T/got.g" "$T/g.txt" || fail "get --ca: other bytes"
run 0 get 127.0.0.1:$PORT --tee sim --ca "$T/ca.crt" -o "$T/got.g2"
cmp -s "$T/got.g2" "$T/g.txt" || fail "get --ca by IP address: other bytes"
run 1 get localhost:$PORT --tee sim --ca "$T/other-ca.crt"
[ -z "$out" ] || fail "a server the CA does not vouch for gave '$out'"
if [ "${CCZ_SANITIZE:-OFF}" != ON ] && [ -f "$PRELOAD" ]; then
    run 0 env LD_PRELOAD="$PRELOAD" SECRET_PROVISION_CONSTRUCTOR=TRUE CCZ_SECRET_TEE=sim \
        CCZ_SIM_DIR="$P" SECRET_PROVISION_CA_CHAIN_PATH="$T/ca.crt" \
        SECRET_PROVISION_SERVERS="localhost:$PORT" sh -c 'echo "$SECRET_PROVISION_SECRET_STRING"'
    [ "$out" = gramine-secret ] || fail "preload with a CA chain: got '$out'"
fi
stop
# the certificate file's chain is sent after it: a leaf from an intermediate CA is verified by
# the root alone
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/mid.key" \
    -out "$T/mid.csr" -subj /CN=test-intermediate 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > "$T/mid.ext"
openssl x509 -req -in "$T/mid.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/mid.ext" -out "$T/mid.crt" 2>/dev/null
openssl x509 -req -in "$T/web.csr" -CA "$T/mid.crt" -CAkey "$T/mid.key" -CAcreateserial -days 2 \
    -extfile "$T/san.ext" -out "$T/web2.crt" 2>/dev/null
cat "$T/web2.crt" "$T/mid.crt" > "$T/web2-chain.crt"
start "$T/b2.log" --secret only="$T/g.txt" --policy "$T/client.json" --cert "$T/web2-chain.crt" \
    --key "$T/web.key"
mkdir "$T/od"
run 0 get localhost:$PORT --tee sim --ca "$T/ca.crt" -o "$T/od/got"
cmp -s "$T/od/got" "$T/g.txt" || fail "get --ca through an intermediate: other bytes"
[ "$(ls -A "$T/od")" = got ] || fail "-o left other files beside it: $(ls -A "$T/od")"
stop

# ---- --max-per-peer reaches the listener: 127.0.0.2's third silent connection closes its own
# oldest at once (not at the 20 s deadline), 127.0.0.1's stays and a client from there is served
TIMEOUT=20000 start "$T/pp.log" --secret app="$T/app.txt" --secret shell="$T/shell.txt" \
    --secret key="$T/key.bin" --secret nul="$T/nul.txt" --policy "$T/server.json" \
    --cert "$T/srv.crt" --key "$T/srv.key" --max-per-peer 2
/usr/bin/python3 "$(dirname "$0")/silent_conns.py" $PORT 127.0.0.1 127.0.0.2 127.0.0.2 127.0.0.2 --hold 30 \
    > "$T/pp.out" 2>&1 &
FLOOD=$!
await "$T/pp.out" open 30 || fail "the flood: $(cat "$T/pp.out")"
[ "$(head -1 "$T/pp.out")" = "open closed open open" ] ||
    fail "--max-per-peer 2 against 127.0.0.2's 3 connections: $(cat "$T/pp.out")"
run 0 get 127.0.0.1:$PORT --tee sim --policy "$T/client.json"
[ "$out" = "the app secret" ] || fail "a client beside 127.0.0.2's connections got '$out'"
kill $FLOOD 2>/dev/null; wait $FLOOD 2>/dev/null
stop
# ---- --max-conns reaches the listener: at a cap of 2 the third silent connection closes the
# oldest at once (not at the 20 s deadline), and the newer two stay
TIMEOUT=20000 start "$T/mc.log" --secret app="$T/app.txt" --secret shell="$T/shell.txt" \
    --secret key="$T/key.bin" --secret nul="$T/nul.txt" --policy "$T/server.json" \
    --cert "$T/srv.crt" --key "$T/srv.key" --max-conns 2
/usr/bin/python3 "$(dirname "$0")/silent_conns.py" $PORT 127.0.0.1 127.0.0.1 127.0.0.1 > "$T/mc.out" 2>&1 ||
    fail "--max-conns 2: $(cat "$T/mc.out")"
[ "$(cat "$T/mc.out")" = "closed open open" ] || fail "--max-conns 2: $(cat "$T/mc.out")"
stop
run 2 timeout 30 "$CCZ" secret serve --listen 127.0.0.1:0 --secret "app=$T/app.txt" \
    --policy "$T/server.json" --max-per-peer 0
contains "$err" "--max-per-peer: must be at least 1"

# ---- no copy of a secret in freed memory: the server, ccz secret get and the preload library
# run with tests/cli/free_scan.c (LD_PRELOAD; not under ASan, whose runtime must come first),
# which searches every block they free for the secret
if [ "${CCZ_SANITIZE:-OFF}" = ON ] || [ ! -f "${CCZ_FREE_SCAN_LIB:-}" ]; then
    echo "skip: freed memory is not searched for secrets (ASan build or no free_scan)"
else
    scan() { # OUT CMD...: CMD with free_scan looking for both secrets
        local o=$1; shift
        env LD_PRELOAD="${PRELOAD_FIRST:+$PRELOAD_FIRST }$CCZ_FREE_SCAN_LIB" \
            "CCZ_FREE_SCAN=the app secret|shell-secret" CCZ_FREE_SCAN_OUT="$o" "$@"
    }
    : > "$T/freed.server"
    PRE=(env "LD_PRELOAD=$CCZ_FREE_SCAN_LIB" "CCZ_FREE_SCAN=the app secret|shell-secret"
        "CCZ_FREE_SCAN_OUT=$T/freed.server")
    start "$T/scan.log" --secret app="$T/app.txt" --secret shell="$T/shell.txt" \
        --secret key="$T/key.bin" --secret nul="$T/nul.txt" --policy "$T/server.json" --cert "$T/srv.crt" --key "$T/srv.key"
    PRE=()
    : > "$T/freed.get"
    run 0 scan "$T/freed.get" "$CCZ" secret get 127.0.0.1:$PORT --sim-dir "$P" --tee sim \
        --policy "$T/client.json"
    [ "$out" = "the app secret" ] || fail "ccz secret get under free_scan got '$out'"
    : > "$T/freed.preload"
    run 0 env PRELOAD_FIRST="$PRELOAD" SECRET_PROVISION_CONSTRUCTOR=1 CCZ_SECRET_TEE=sim \
        CCZ_SIM_DIR="$P" CCZ_SECRET_POLICY="$T/client.json" SECRET_PROVISION_SERVERS=127.0.0.1:$PORT \
        bash -c "$(declare -f scan); scan '$T/freed.preload' sh -c 'echo \"[\$SECRET_PROVISION_SECRET_STRING]\"'"
    [ "$out" = "[shell-secret]" ] || fail "the preload library under free_scan: got '$out'"
    stop
    for who in server get preload; do
        [ -s "$T/freed.$who" ] &&
            fail "$who freed blocks holding a secret (marker, size): $(head -3 "$T/freed.$who")"
    done
fi
finish
