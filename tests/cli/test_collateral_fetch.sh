#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz collateral fetch against a local server that replays recorded PCS responses built from
# the vectors' collateral; the fetched collateral verifies the quotes as the recorded one does,
# and the on-disk cache serves it until it expires. PCCS- and PCS-shaped servers serve the CRLs
# as DER (Intel's root CA CRL ends in '3'), PEM and hex; the PCS shape sends the root CA CRL
# fetch to the root certificate's CRL distribution point, which is reached over TLS through an
# https_proxy (a CONNECT proxy on loopback) and trusted through --cacert.
. "$(dirname "$0")/lib.sh"
need_vectors
SERVER=$(dirname "$0")/pcs_server.py
# only the proxies this test sets
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

start_server() { # COLLATERAL [pcs_server.py options]
    rm -f "$T/port" "$T/proxyport"
    /usr/bin/python3 "$SERVER" "$1" "$T/requests.log" "$T/port" "${@:2}" &
    server_pid=$!
    await "$T/port"
    url="http://127.0.0.1:$(cat "$T/port")"
}
stop_server() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; }
trap 'stop_server; rm -rf "$T"' EXIT

# SGX v3 quote, PCK Processor CA
Q=$V/Phala-Network_dcap-qvl/sample/sgx_quote
start_server "$V/Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json"
run 0 "$CCZ" collateral fetch "$Q" --pccs "$url" -o "$T/sgx.json" --cache-dir "$T/cache" --at 1752919277
contains "$err" "SGX collateral for FMSPC 00A067110000 fetched, valid until 2025-07-19T10:01:18Z"
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
# the end of validity as a date and in seconds
contains "$out" "valid until 2025-07-19T10:01:18Z (1752919278)"
# without --cache-dir: the cache is $XDG_CACHE_HOME/ccz/collateral, else ~/.cache/ccz/collateral
run 0 env XDG_CACHE_HOME="$T/xdg" "$CCZ" collateral fetch "$Q" --pccs "$url" -o "$T/xdg.json" --at 1752919277
[ -f "$T/xdg/ccz/collateral/sgx-00A067110000-processor.json" ] || fail "no cache entry under \$XDG_CACHE_HOME"
run 0 env -u XDG_CACHE_HOME HOME="$T/home" "$CCZ" collateral fetch "$Q" --pccs "$url" -o "$T/home.json" --at 1752919277
[ -f "$T/home/.cache/ccz/collateral/sgx-00A067110000-processor.json" ] || fail "no cache entry under ~/.cache"
run 2 env -u XDG_CACHE_HOME -u HOME "$CCZ" collateral fetch "$Q" --pccs "$url" -o "$T/nohome.json" --at 1752919277
contains "$err" "no cache directory: set HOME or pass --cache-dir"
stop_server

# the cache answers while the server is gone, until the collateral expires
: > "$T/requests.log"
run 0 "$CCZ" collateral fetch "$Q" --pccs "http://127.0.0.1:1" -o "$T/again.json" --cache-dir "$T/cache" --at 1752919277
contains "$err" "from the cache"
cmp -s "$T/sgx.json" "$T/again.json" || fail "cached collateral differs"
ls "$T/cache/sgx-00A067110000-processor.json" > /dev/null || fail "cache entry not keyed by TEE, FMSPC and CA"
# -o - writes to standard output the bytes -o FILE writes
"$CCZ" collateral fetch "$Q" --pccs "http://127.0.0.1:1" -o - --cache-dir "$T/cache" --at 1752919277 \
    > "$T/stdout.json" 2> "$T/stdout.err" || fail "collateral fetch -o -: $(cat "$T/stdout.err")"
cmp -s "$T/sgx.json" "$T/stdout.json" || fail "collateral fetch -o - wrote other bytes than -o FILE"
# collateral that cannot be written is a failure, not a fetch that wrote nothing
run 2 "$CCZ" collateral fetch "$Q" --pccs "http://127.0.0.1:1" -o "$T/none/x.json" --cache-dir "$T/cache" \
    --at 1752919277
contains "$err" "collateral fetch: cannot write $T/none/x.json"
run 2 "$CCZ" collateral fetch "$Q" --pccs "http://127.0.0.1:1" -o "$T/x.json" --cache-dir "$T/cache" --at 1800000000
contains "$err" "GET http://127.0.0.1:1/sgx/certification/v4/pckcrl"
run 2 "$CCZ" collateral fetch "$Q" --pccs "http://127.0.0.1:1" -o "$T/x.json" --no-cache --at 1752919277

# TDX v4 quote: tdx paths, and a server holding another FMSPC answers 404
Q=$V/Phala-Network_dcap-qvl/sample/tdx_quote
start_server "$V/Phala-Network_dcap-qvl/sample/tdx_quote_collateral.json"
run 0 "$CCZ" collateral fetch "$Q" --pccs "$url/sgx/certification/v4/" -o "$T/tdx.json" --no-cache
contains "$(cat "$T/requests.log")" "/tdx/certification/v4/tcb?fmspc=B0C06F000000"
contains "$(cat "$T/requests.log")" "/tdx/certification/v4/qe/identity"
contains "$(cat "$T/requests.log")" "/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
run 0 "$CCZ" verify "$Q" --collateral "$T/tdx.json" --at 1752919234 --json
jqis .tcb_status UpToDate
jqis .tee tdx
run 2 "$CCZ" collateral fetch "$V/Phala-Network_dcap-qvl/sample/sgx_quote" --pccs "$url" -o "$T/x.json" --no-cache
contains "$err" "HTTP status 404"
stop_server

# a damaged cache entry is fetched again and replaced
start_server "$V/Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json"
echo '{"damaged": true' > "$T/cache/sgx-00A067110000-processor.json"
run 0 "$CCZ" collateral fetch "$V/Phala-Network_dcap-qvl/sample/sgx_quote" --pccs "$url" \
    -o "$T/refetched.json" --cache-dir "$T/cache" --at 1752919277
contains "$err" "fetched"
cmp -s "$T/sgx.json" "$T/cache/sgx-00A067110000-processor.json" || fail "the damaged cache entry stayed"
stop_server

# hostile or unusual servers, each with an SGX quote
SQ=$V/Phala-Network_dcap-qvl/sample/sgx_quote
SC=$V/Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json
# the v3 API's and older PCCSs' names for the issuer-chain headers
start_server "$SC" --legacy-headers
run 0 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/legacy.json" --no-cache
cmp -s "$T/sgx.json" "$T/legacy.json" || fail "collateral fetched with the legacy headers differs"
stop_server
# a header whose name only starts with the chain's is not the chain
start_server "$SC" --decoy-header
run 0 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/decoy.json" --no-cache
cmp -s "$T/sgx.json" "$T/decoy.json" || fail "collateral fetched after a decoy header differs"
stop_server
# a PCK CRL without its issuer chain
start_server "$SC" --no-chain-header
run 2 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/x.json" --no-cache
contains "$err" "no SGX-PCK-CRL-Issuer-Chain header with the issuer chain"
stop_server
# a PCCS whose rootcacrl fails for another reason than 404: its error, no detour elsewhere
start_server "$SC" --rootcacrl-status 500
run 2 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/x.json" --no-cache
contains "$err" "/sgx/certification/v4/rootcacrl"
contains "$err" "HTTP status 500"
stop_server
# an answer over the 2 MiB bound is not read whole
start_server "$SC" --huge-tcb-info
run 2 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/x.json" --no-cache
contains "$err" "/sgx/certification/v4/tcb?fmspc=00A067110000: response larger than the limit"
stop_server
# a TCB info of the wrong shape: refused, and nothing is cached
start_server "$SC" --bad-tcb-info
run 2 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/x.json" --cache-dir "$T/badcache"
contains "$err" "the collateral $url served"
[ ! -e "$T/badcache/sgx-00A067110000-processor.json" ] || fail "collateral that does not parse was cached"
[ ! -e "$T/x.json" ] || fail "collateral that does not parse was written"
stop_server

# collateral ccz cannot use (a TCB info version it does not support): written, but exit 1
jq '.tcb_info |= (fromjson | .version = 4 | tojson)' "$SC" > "$T/v4.json"
start_server "$T/v4.json"
run 1 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/v4out.json" --no-cache
contains "$err" "wrote $T/v4out.json, but ccz cannot verify quotes with it: collateral_unsupported"
[ -s "$T/v4out.json" ] || fail "the unusable collateral was not written"
stop_server

# CRL encodings: a PCCS that serves the root CA CRL as DER (first byte '0', last byte '3':
# Intel's root CA CRL) and the PCK CRL as hex text
[ "$(jq -r .root_ca_crl "$SC" | tail -c 3)" = 33 ] || fail "the recorded root CA CRL no longer ends in '3'"
same_crls() { # FILE
    for k in pck_crl root_ca_crl; do
        [ "$(jq -r ".$k" "$1")" = "$(jq -r ".$k" "$SC")" ] || fail "$k in $1 differs from the recorded one"
    done
}
: > "$T/requests.log"
start_server "$SC" --root-crl der --pck-crl hex
run 0 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/der.json" --no-cache
same_crls "$T/der.json"
run 1 "$CCZ" verify "$SQ" --collateral "$T/der.json" --at 1752919277 --json
jqis .verified true
stop_server
start_server "$SC" --root-crl pem --pck-crl pem
run 0 "$CCZ" collateral fetch "$SQ" --pccs "$url" -o "$T/pem.json" --no-cache
same_crls "$T/pem.json"
stop_server

# Intel PCS's shape over TLS: no rootcacrl, so the root CA CRL comes from the CRL distribution
# point https://certificates.trustedservices.intel.com/IntelSGXRootCA.der, as DER; https_proxy
# takes that request to a loopback proxy whose tunnel ends in TLS with a certificate of a test
# CA, which only --cacert makes trusted. no_proxy keeps the PCS requests direct.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
    -out "$T/ca.pem" -subj /CN=ccz-test-ca -days 2 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tls.key" \
    -out "$T/tls.csr" -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:certificates.trustedservices.intel.com\n' > "$T/ext"
openssl x509 -req -in "$T/tls.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -out "$T/tls.pem" -days 2 -extfile "$T/ext" 2>/dev/null || fail "cannot make the test TLS certificate"
: > "$T/requests.log"
start_server "$SC" --shape pcs --tls "$T/tls.pem" "$T/tls.key" --proxy "$T/proxyport"
await "$T/proxyport"
pcs="https://127.0.0.1:$(cat "$T/port")"
proxy="http://127.0.0.1:$(cat "$T/proxyport")"
run 0 env https_proxy="$proxy" no_proxy=127.0.0.1 "$CCZ" collateral fetch "$SQ" --pccs "$pcs" \
    --cacert "$T/ca.pem" -o "$T/pcs.json" --no-cache
log=$(cat "$T/requests.log")
contains "$log" "/sgx/certification/v4/rootcacrl"
contains "$log" "CONNECT certificates.trustedservices.intel.com:443"
contains "$log" "tunnel certificates.trustedservices.intel.com /IntelSGXRootCA.der"
case "$log" in *"CONNECT 127.0.0.1"*) fail "no_proxy=127.0.0.1 did not keep the PCS requests direct";; esac
same_crls "$T/pcs.json"
run 1 "$CCZ" verify "$SQ" --collateral "$T/pcs.json" --at 1752919277 --json
jqis .verified true
jqis .tcb_status ConfigurationAndSWHardeningNeeded
# without no_proxy every request goes through the proxy
: > "$T/requests.log"
run 0 env https_proxy="$proxy" "$CCZ" collateral fetch "$SQ" --pccs "$pcs" --cacert "$T/ca.pem" \
    -o "$T/pcs2.json" --no-cache
contains "$(cat "$T/requests.log")" "CONNECT 127.0.0.1:$(cat "$T/port")"
contains "$(cat "$T/requests.log")" "tunnel 127.0.0.1 /sgx/certification/v4/qe/identity"
cmp -s "$T/pcs.json" "$T/pcs2.json" || fail "collateral fetched through the proxy differs"
# the test CA is not trusted without --cacert, for the PCS nor for the distribution point
run 2 env https_proxy="$proxy" no_proxy=127.0.0.1 "$CCZ" collateral fetch "$SQ" --pccs "$pcs" \
    -o "$T/x.json" --no-cache
contains "$err" "GET $pcs/sgx/certification/v4/pckcrl"
# --insecure-tls takes the server's certificates without --cacert (the collateral is signed)
run 0 env https_proxy="$proxy" no_proxy=127.0.0.1 "$CCZ" collateral fetch "$SQ" --pccs "$pcs" \
    --insecure-tls -o "$T/insecure.json" --no-cache
cmp -s "$T/pcs.json" "$T/insecure.json" || fail "collateral fetched with --insecure-tls differs"
stop_server

# usage
run 2 "$CCZ" collateral fetch "$Q" -o "$T/x.json"
contains "$err" "--pccs URL is required"
run 2 "$CCZ" collateral fetch "$T/nothing" --pccs http://127.0.0.1:1 -o "$T/x.json"
run 2 "$CCZ" collateral fetch "$Q" "$Q" --pccs http://127.0.0.1:1 -o "$T/x.json"
contains "$err" "give exactly one quote file"
# sim evidence needs no collateral: the refusal says so, and how to verify it
"$CCZ" sim init --dir "$T/plat" > /dev/null
"$CCZ" attest --tee sim --sim-dir "$T/plat" -o "$T/sim.ev" 2> /dev/null || fail "ccz attest --tee sim"
run 2 "$CCZ" collateral fetch "$T/sim.ev" --pccs http://127.0.0.1:1 -o "$T/sim.json"
contains "$err" "holds sim evidence, which needs no collateral"
[ -e "$T/sim.json" ] && fail "a refused fetch wrote its output"
run 2 "$CCZ" collateral fetch "$Q" --pccs http://127.0.0.1:1
contains "$err" "-o FILE is required"
run 2 "$CCZ" collateral fetch "$Q" --kds http://127.0.0.1:1 --hygon-kds http://127.0.0.1:1 -o "$T/x.der"
contains "$err" "--kds (AMD) and --hygon-kds exclude each other"
run 2 "$CCZ" collateral info --bogus
contains "$err" "usage: ccz collateral info FILE"
run 2 "$CCZ" collateral info "$T/sgx.json" "$T/sgx.json"
contains "$err" "usage: ccz collateral info FILE"
# an empty file is neither Hygon certificates nor collateral
: > "$T/empty"
run 2 "$CCZ" collateral info "$T/empty"
contains "$err" "collateral info: $T/empty: collateral: invalid JSON at line 1, column 0: '[' or '{' expected near end of file"
# a JSON file the size of a Hygon certificate (832 or 2084 bytes) is read as collateral
for size in 832 2084; do
    { printf '{'; printf "%$((size - 1))s" ''; } > "$T/cert-sized.json"
    run 2 "$CCZ" collateral info "$T/cert-sized.json"
    contains "$err" "collateral info: $T/cert-sized.json: collateral: invalid JSON"
    [ -z "$out" ] || fail "a $size-byte JSON file was read as Hygon certificates: $out"
done
finish
