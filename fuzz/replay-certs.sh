#!/bin/sh
# Replays PEM certificates through a fuzz target that takes DER: REPLAY CERT.pem...
# Exits 77 (skipped) when none of the certificates exists.
replay=$1; shift
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
n=0
for f in "$@"; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    openssl x509 -in "$f" -outform DER -out "$dir/$n.der" || exit 1
done
[ $n -gt 0 ] || { echo "skipped: no certificates"; exit 77; }
exec "$replay" "$dir"
