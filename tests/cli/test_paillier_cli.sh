#!/usr/bin/env bash
# Paillier interop: ccz and an independent textbook Paillier on Debian's python3-gmpy2
# (tests/he/paillier_peer.py) encrypt for each other, add and multiply each other's
# ciphertexts and decrypt the results, from one JSON key made by either side; negatives,
# DJN keys, overflow and bad input give the exit codes and messages documented.
. "$(dirname "$0")/lib.sh"
PEER="$(dirname "$0")/../he/paillier_peer.py"
if ! /usr/bin/python3 -c 'import gmpy2' 2>/dev/null; then
    echo "python3-gmpy2 is not installed (scripts/setup installs it)"; exit 77
fi
py() { /usr/bin/python3 "$PEER" "$@"; }

for bits in 2048 3072; do
    run 0 "$CCZ" paillier keygen --bits $bits -o "$T/k$bits.json"
    jq -e '.n and .p and .q' "$T/k$bits.json" > /dev/null || fail "key JSON lacks n, p or q"
    K=$T/k$bits.json
    # python encrypts, ccz decrypts
    for v in 42 -7 0 123456789012345678901234567890; do
        c=$(py encrypt "$K" $v)
        run 0 "$CCZ" paillier decrypt --key "$K" "$c"
        [ "$out" = "$v" ] || fail "$bits: ccz decrypted python's Enc($v) as '$out'"
    done
    # ccz encrypts, python decrypts
    for v in 99 -99 1; do
        run 0 "$CCZ" paillier encrypt --key "$K" $v
        [ "$(py decrypt "$K" "$out")" = "$v" ] || fail "$bits: python decrypted ccz's Enc($v) wrongly"
    done
    # mixed arithmetic: ccz adds python's and ccz's ciphertexts, multiplies by a negative
    a=$(py encrypt "$K" 1000)
    run 0 "$CCZ" paillier encrypt --key "$K" 234
    b=$out
    run 0 "$CCZ" paillier add --key "$K" "$a" "$b"
    [ "$(py decrypt "$K" "$out")" = "1234" ] || fail "$bits: 1000 + 234"
    run 0 "$CCZ" paillier mul --key "$K" "$out" -3
    [ "$(py decrypt "$K" "$out")" = "-3702" ] || fail "$bits: 1234 * -3"
    run 0 "$CCZ" paillier add --key "$K" "$a" --plain -1
    [ "$(py decrypt "$K" "$out")" = "999" ] || fail "$bits: 1000 + (-1)"
    # python adds ccz's ciphertexts
    run 0 "$CCZ" paillier encrypt --key "$K" 5
    x=$out
    s=$(py add "$K" "$x" "$b")
    run 0 "$CCZ" paillier decrypt --key "$K" "$s"
    [ "$out" = "239" ] || fail "$bits: python's 5 + 234 decrypted as '$out'"
done

# a key made by python, used by ccz
py keygen 2048 "$T/py.json"
run 0 "$CCZ" paillier encrypt --key "$T/py.json" 77
c=$out
run 0 "$CCZ" paillier decrypt --key "$T/py.json" "$c"
[ "$out" = "77" ] || fail "ccz with python's key: '$out'"
[ "$(py decrypt "$T/py.json" "$c")" = "77" ] || fail "python with its own key, ccz's ciphertext"

# DJN: hs in the key; the ciphertexts are ordinary Paillier ciphertexts
run 0 "$CCZ" paillier keygen --bits 2048 --djn -o "$T/djn.json"
jq -e '.hs' "$T/djn.json" > /dev/null || fail "a DJN key carries hs"
run 0 "$CCZ" paillier encrypt --key "$T/djn.json" -31337
[ "$(py decrypt "$T/djn.json" "$out")" = "-31337" ] || fail "python decrypts a DJN ciphertext"
run 0 "$CCZ" paillier keygen --bits 2048 --public-only -o "$T/pub.json"
[ "$(jq -r 'keys | join(",")' "$T/pub.json")" = "n" ] || fail "--public-only writes n alone"

# overflow and bad input
K=$T/k2048.json
N=$(jq -r .n "$K")
big=$(/usr/bin/python3 -c "print($N // 3 - 1)")
run 0 "$CCZ" paillier encrypt --key "$K" "$big"
run 0 "$CCZ" paillier mul --key "$K" "$out" 2
run 1 "$CCZ" paillier decrypt --key "$K" "$out"
contains "$err" "overflowed"
run 2 "$CCZ" paillier encrypt --key "$K" "$(/usr/bin/python3 -c "print($N // 3)")"
contains "$err" "this key encodes magnitudes up to n/3"
run 2 "$CCZ" paillier decrypt --key "$K" 12abc
contains "$err" "ciphertext '12abc' is not a decimal integer"
run 2 "$CCZ" paillier decrypt --key "$K" "$(/usr/bin/python3 -c "print($N * $N)")"
contains "$err" "not in [1, n^2)"
run 2 "$CCZ" paillier decrypt --key "$T/pub.json" 5
contains "$err" "is a public key"
echo '{"n": "15", "p": "3", "q": "5"}' > "$T/bad.json"
run 2 "$CCZ" paillier encrypt --key "$T/bad.json" 1
contains "$err" "512 to 8192 bits"
run 2 "$CCZ" paillier keygen --bits 1000 -o "$T/x.json"
contains "$err" "use 2048, 3072 or 4096 bits"
finish
