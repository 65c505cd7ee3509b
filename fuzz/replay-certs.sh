#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Replays PEM certificates of the shared vectors through a fuzz target that takes DER:
# REPLAY DEFAULT_VECTORS CERT.pem... (paths under $CCZ_VECTORS, else DEFAULT_VECTORS).
# Every certificate named must be there: when the vectors are absent the run is skipped (77),
# or fails under CI=true; a certificate missing from present vectors is a failure, named.
replay=$1
vectors=${CCZ_VECTORS:-$2}
shift 2
if [ ! -d "$vectors" ]; then
    echo "no vectors at $vectors (set CCZ_VECTORS)"
    [ "${CI:-}" != true ] || { echo "FAIL: CI=true: missing vectors are a failure"; exit 1; }
    exit 77
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
n=0 missing=
for f in "$@"; do
    if [ ! -f "$vectors/$f" ]; then
        missing="$missing $f"
        continue
    fi
    n=$((n + 1))
    openssl x509 -in "$vectors/$f" -outform DER -out "$dir/$n.der" || exit 1
done
if [ -n "$missing" ]; then
    echo "FAIL: certificates missing from $vectors:$missing"
    exit 1
fi
echo "replaying $n certificates"
# not exec: the trap removes $dir when the replay is over
"$replay" "$dir"
