#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A KMS replica started with --peer asks a hostile peer for the domain key: a sim-attested
# HTTPS server (tests/cli/hostile_https.py with a 'ccz ratls cert' certificate, so the replica's
# --peer-policy accepts it) whose answers are written by hand. A well-formed answer is taken
# (the control: the replica serves and seals the key); a key of 31 or 33 bytes, one that is not
# base64 or not a string, a body that is not JSON or names the key twice, a refusal carrying a
# key, an answer over 8 KiB, one cut short, one not HTTP and one without a status code are each
# refused before the replica serves, exit 2 with the reason and the peer's address, no sealed
# key left behind and no key bytes in the message.
. "$(dirname "$0")/lib.sh"
HOSTILE=$(dirname "$0")/hostile_https.py
P=$T/plat
"$CCZ" sim init --dir "$P" > /dev/null || { fail "ccz sim init"; finish; exit 1; }
echo '{"allow_sim": true}' > "$T/policy.json"
"$CCZ" ratls cert --tee sim --sim-dir "$P" -o "$T/peer.pem" --key "$T/peer.key" 2> /dev/null ||
    { fail "ccz ratls cert"; finish; exit 1; }
server_pid=
replica_pid=
stop() { for p in $server_pid $replica_pid; do kill "$p" 2> /dev/null && wait "$p" 2> /dev/null; done; }
trap 'stop; rm -rf "$T"' EXIT
/usr/bin/python3 "$HOSTILE" "file:$T/answer" "$T/peer.pem" "$T/peer.key" "$T/port" &
server_pid=$!
await "$T/port" "" 10 "$server_pid" || { fail "the hostile peer did not start"; finish; exit 1; }
PEER=127.0.0.1:$(cat "$T/port")

# answer STATUS BODY: what the peer sends next (Content-Length right)
answer() {
    printf 'HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
        "$1" "${#2}" "$2" > "$T/answer"
}
key_of() { head -c "$1" /dev/urandom | base64 -w0; }
with_key() { echo "{\"code\":200,\"message\":\"success!\",\"result\":{\"domain_key\":\"$1\"}}"; }
replica() { # DIR [OPTIONS]: kms serve asking the peer, in the foreground
    rm -rf "$1"
    run 2 timeout 20 "$CCZ" kms serve --listen 127.0.0.1:0 --data-dir "$1" --tee sim \
        --sim-dir "$P" --policy "$T/policy.json" --peer "$PEER" --peer-policy "$T/policy.json"
    [ ! -e "$1/domain-key.sealed" ] || fail "a refused domain key was sealed in $1"
}
refuses() { # WHAT MESSAGE [SECRET]: the replica refuses the answer written, saying MESSAGE
    replica "$T/r"
    contains "$err" "ccz: kms serve: $2"
    [ -z "${3:-}" ] || case $err in *"$3"*) fail "$1: the message quotes the key" ;; esac
}

# the control: a well-formed answer is taken, the replica serves with the key sealed
K=$(key_of 32)
answer "200 OK" "$(with_key "$K")"
"$CCZ" kms serve --listen 127.0.0.1:0 --data-dir "$T/good" --tee sim --sim-dir "$P" \
    --policy "$T/policy.json" --peer "$PEER" --peer-policy "$T/policy.json" 2> "$T/good.log" &
replica_pid=$!
if port_from "$T/good.log" 30 "$replica_pid"; then
    contains "$(cat "$T/good.log")" "obtained the domain key from $PEER and sealed it"
    [ -s "$T/good/domain-key.sealed" ] || fail "the replica did not seal the peer's key"
else
    fail "the replica did not take a well-formed answer: $(cat "$T/good.log")"
fi
kill "$replica_pid" && wait "$replica_pid" 2> /dev/null
replica_pid=

malformed="the peer $PEER sent a malformed domain key (not the base64 of 32 bytes)"
K=$(key_of 31)
answer "200 OK" "$(with_key "$K")"
refuses "31 bytes" "$malformed" "$K"
K=$(key_of 33)
answer "200 OK" "$(with_key "$K")"
refuses "33 bytes" "$malformed" "$K"
answer "200 OK" "$(with_key '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!')"
refuses "not base64" "$malformed"
answer "200 OK" '{"code":200,"message":"success!","result":{"domain_key":7}}'
refuses "a number" "the peer $PEER gave no domain key (HTTP 200: success!)"
answer "200 OK" '{"code":200,"message":"success!"}'
refuses "no result" "the peer $PEER gave no domain key (HTTP 200: success!)"
answer "200 OK" 'not json'
refuses "not JSON" "the peer $PEER answered HTTP 200 with a body that is not JSON (line 1, column"
K=$(key_of 32)
K2=$(key_of 32)
answer "200 OK" "{\"result\":{\"domain_key\":\"$K\",\"domain_key\":\"$K2\"}}"
refuses "the key twice" "the peer $PEER answered HTTP 200 with a body that is not JSON" "$K2"
K=$(key_of 32)
answer "500 Internal Server Error" \
    "{\"code\":500,\"message\":\"Server exception.\",\"result\":{\"domain_key\":\"$K\"}}"
refuses "a refusal with a key" "the peer $PEER gave no domain key (HTTP 500: Server exception.)" "$K"
answer "403 Forbidden" 'not json'
refuses "a refusal without JSON" "the peer $PEER gave no domain key (HTTP 403: no message)"
K=$(key_of 32)
answer "200 OK" "{\"pad\":\"$(head -c 8200 /dev/zero | tr '\0' a)\",\"result\":{\"domain_key\":\"$K\"}}"
refuses "over 8 KiB" "the peer $PEER sent an answer over 8192 bytes" "$K"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"code":200,' > "$T/answer"
refuses "cut short" "$PEER: the answer was cut short"
printf 'ICY 200 OK\r\nContent-Length: 2\r\n\r\n{}' > "$T/answer"
refuses "not HTTP" "$PEER: the answer is not HTTP/1.x"
printf 'HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n{}' > "$T/answer"
refuses "no status code" "$PEER: the answer has no status code"
finish
