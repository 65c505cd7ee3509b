#!/usr/bin/env bash
# ccz collateral fetch against a local server that replays recorded PCS responses built from
# the vectors' collateral; the fetched collateral verifies the quotes as the recorded one does,
# and the on-disk cache serves it until it expires.
. "$(dirname "$0")/lib.sh"
need_vectors
SERVER=$(dirname "$0")/pcs_server.py

start_server() { # COLLATERAL
    rm -f "$T/port"
    /usr/bin/python3 "$SERVER" "$1" "$T/requests.log" "$T/port" &
    server_pid=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    url="http://127.0.0.1:$(cat "$T/port")"
}
stop_server() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; }
trap 'stop_server; rm -rf "$T"' EXIT

# SGX v3 quote, PCK Processor CA
Q=$V/Phala-Network_dcap-qvl/sample/sgx_quote
start_server "$V/Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json"
run 0 "$CCZ" collateral fetch "$Q" --pccs "$url" -o "$T/sgx.json" --cache-dir "$T/cache" --at 1752919277
contains "$err" "SGX collateral for FMSPC 00A067110000 fetched"
contains "$(cat "$T/requests.log")" "/sgx/certification/v4/pckcrl?ca=processor&encoding=der"
contains "$(cat "$T/requests.log")" "/sgx/certification/v4/tcb?fmspc=00A067110000"
contains "$(cat "$T/requests.log")" "/sgx/certification/v4/qe/identity"
contains "$(cat "$T/requests.log")" "/sgx/certification/v4/rootcacrl"
run 1 "$CCZ" verify "$Q" --collateral "$T/sgx.json" --at 1752919277 --json
jqis .verified true
jqis .tcb_status ConfigurationAndSWHardeningNeeded
jqis '.advisories | join(",")' "INTEL-SA-00289,INTEL-SA-00615"
jqis .claims.fmspc 00a067110000
# the signed bodies are carried byte for byte
for k in tcb_info qe_identity tcb_info_signature pck_crl root_ca_crl; do
    a=$(jq -r ".$k" "$T/sgx.json"); b=$(jq -r ".$k" "$V/Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json")
    [ "$a" = "$b" ] || fail "$k differs from the recorded collateral"
done
run 0 "$CCZ" collateral info "$T/sgx.json"
contains "$out" "00A067110000"
stop_server

# the cache answers while the server is gone, until the collateral expires
: > "$T/requests.log"
run 0 "$CCZ" collateral fetch "$Q" --pccs "http://127.0.0.1:1" -o "$T/again.json" --cache-dir "$T/cache" --at 1752919277
contains "$err" "from the cache"
cmp -s "$T/sgx.json" "$T/again.json" || fail "cached collateral differs"
ls "$T/cache/sgx-00A067110000-processor.json" > /dev/null || fail "cache entry not keyed by TEE, FMSPC and CA"
run 2 "$CCZ" collateral fetch "$Q" --pccs "http://127.0.0.1:1" -o "$T/x.json" --cache-dir "$T/cache" --at 1800000000
contains "$err" "GET http://127.0.0.1:1/sgx/certification/v4/pckcrl"
run 2 "$CCZ" collateral fetch "$Q" --pccs "http://127.0.0.1:1" -o "$T/x.json" --no-cache --at 1752919277

# TDX v4 quote: tdx paths, and a server holding another FMSPC answers 404
Q=$V/Phala-Network_dcap-qvl/sample/tdx_quote
start_server "$V/Phala-Network_dcap-qvl/sample/tdx_quote_collateral.json"
run 0 "$CCZ" collateral fetch "$Q" --pccs "$url/sgx/certification/v4/" -o "$T/tdx.json" --no-cache
contains "$(cat "$T/requests.log")" "/tdx/certification/v4/tcb?fmspc=B0C06F000000"
contains "$(cat "$T/requests.log")" "/tdx/certification/v4/qe/identity"
run 0 "$CCZ" verify "$Q" --collateral "$T/tdx.json" --at 1752919234 --json
jqis .tcb_status UpToDate
jqis .tee tdx
run 2 "$CCZ" collateral fetch "$V/Phala-Network_dcap-qvl/sample/sgx_quote" --pccs "$url" -o "$T/x.json" --no-cache
contains "$err" "HTTP status 404"
stop_server

# usage
run 2 "$CCZ" collateral fetch "$Q" -o "$T/x.json"
contains "$err" "--pccs URL is required"
run 2 "$CCZ" collateral fetch "$T/nothing" --pccs http://127.0.0.1:1 -o "$T/x.json"
finish
