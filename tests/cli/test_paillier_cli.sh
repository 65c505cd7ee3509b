#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Paillier interop: ccz and an independent textbook Paillier on Debian's python3-gmpy2
# (tests/paillier/paillier_peer.py) encrypt for each other, add and multiply each other's
# ciphertexts and decrypt the results, from one JSON key made by either side, with values across
# the whole range; python-paillier's own keys and ciphertexts (fixtures it wrote) are decrypted
# and encrypted for; ccz's JWK and ciphertexts pass a python-paillier-shaped check
# (tests/paillier/phe_spec_check.py); negatives, DJN keys, hostile keys and ciphertexts, overflow and
# bad input give the exit codes and messages documented.
. "$(dirname "$0")/lib.sh"
PEER="$(dirname "$0")/../paillier/paillier_peer.py"
SPEC="$(dirname "$0")/../paillier/phe_spec_check.py"
FX="$(dirname "$0")/../paillier/fixtures/python-paillier"
if ! /usr/bin/python3 -c 'import gmpy2' 2>/dev/null; then
    echo "python3-gmpy2 is not installed (scripts/setup installs it)"; exit 77
fi
py() { /usr/bin/python3 "$PEER" "$@"; }

for bits in 2048 3072; do
    run 0 "$CCZ" paillier keygen --bits $bits -o "$T/k$bits.json"
    jq -e '.n and .p and .q' "$T/k$bits.json" > /dev/null || fail "key JSON lacks n, p or q"
    K=$T/k$bits.json
    # values across the whole range (-n/3, n/3), not only below p and q
    N=$(jq -r .n "$K")
    range=$(/usr/bin/python3 -c "import random; m = $N // 3 - 1; print(m, -m, m - 1, *(random.randrange(-m, m + 1) for _ in range(6)))")
    # python encrypts, ccz decrypts (all values in one run each: a {"values": [[c, 0], ...]} document)
    vals=(42 -7 0 123456789012345678901234567890 $range)
    py encrypt "$K" "${vals[@]}" | jq -R '[., 0]' | jq -s '{values: .}' > "$T/py.json"
    run 0 bash -c "'$CCZ' paillier decrypt --key '$K' - < '$T/py.json'"
    [ "$out" = "$(printf '%s\n' "${vals[@]}")" ] || fail "$bits: ccz decrypted python's Enc(${vals[*]}) as '$out'"
    # ccz encrypts, python decrypts
    vals=(99 -99 1 $range)
    run 0 "$CCZ" paillier encrypt --key "$K" -- "${vals[@]}"
    mapfile -t cs <<< "$out"
    [ "$(py decrypt "$K" "${cs[@]}")" = "$(printf '%s\n' "${vals[@]}")" ] ||
        fail "$bits: python decrypted ccz's Enc(${vals[*]}) wrongly"
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
[ "$err" = "wrote a 2048-bit Paillier private key (with DJN h_s) to $T/djn.json" ] ||
    fail "keygen --djn says '$err'"
jq -e '.hs' "$T/djn.json" > /dev/null || fail "a DJN key carries hs"
run 0 "$CCZ" paillier encrypt --key "$T/djn.json" -31337
[ "$(py decrypt "$T/djn.json" "$out")" = "-31337" ] || fail "python decrypts a DJN ciphertext"
run 0 "$CCZ" paillier keygen --bits 2048 --public-only -o "$T/pub.json"
[ "$err" = "wrote a 2048-bit Paillier public key to $T/pub.json" ] ||
    fail "keygen --public-only says '$err'"
[ "$(jq -r 'keys | join(",")' "$T/pub.json")" = "n" ] || fail "--public-only writes n alone"
# a private key is the owner's alone; a public key anyone's to read
[ "$(stat -c %a "$T/djn.json")" = 600 ] || fail "a private key's mode is $(stat -c %a "$T/djn.json")"
[ "$(stat -c %a "$T/pub.json")" = 644 ] || fail "a public key's mode is $(stat -c %a "$T/pub.json")"

# ---- python-paillier's own files (tests/paillier/fixtures/python-paillier, written by it) ----
# ccz decrypts every ciphertext python-paillier wrote (pheutil's {v, e} under its current and
# legacy keys, the library's [ciphertext, exponent] pairs) to what python-paillier printed
# (one document per key, so one run each: {"values": [...]} takes numbers in every form)
for key in pheutil-priv.jwk pheutil-legacy-priv.jwk; do
    sel=".cases[] | select(.key == \"$key\")"
    jq "{values: [$sel | .ciphertext]}" "$FX/cases.json" > "$T/values.json"
    run 0 bash -c "'$CCZ' paillier decrypt --key '$FX/$key' - < '$T/values.json'"
    want=$(jq -r "$sel | .plain" "$FX/cases.json")
    [ "$out" = "$want" ] || fail "python-paillier's ciphertexts under $key: ccz says
$out
python-paillier says
$want"
    [ "$(printf '%s\n' "$out" | wc -l)" -ge 7 ] || fail "too few cases under $key"
done
# pheutil's {v, e} alone, as an operand
c=$(jq -c '.cases[] | select(.by == "pheutil encrypt -2.5" and .key == "pheutil-legacy-priv.jwk") | .ciphertext' "$FX/cases.json")
run 0 "$CCZ" paillier decrypt --key "$FX/pheutil-legacy-priv.jwk" "$c"
[ "$out" = "-2.5" ] || fail "pheutil's Enc(-2.5) decrypts to '$out'"
contains "$err" "a 1024-bit Paillier key is too short to protect data"
# the library's document of many values, from standard input
run 0 bash -c "'$CCZ' paillier decrypt --key '$FX/pheutil-priv.jwk' - < '$FX/phe-basic.json'"
[ "$out" = "$(jq -r '.cases[] | select(.encoding) | .plain' "$FX/cases.json")" ] ||
    fail "python-paillier's basic document decrypts to other values"
# ccz encrypts under python-paillier's public keys (JWK, legacy JWK, basic form with n as a JSON
# number) in each output form; python-paillier's private keys decrypt it to the same value
# (every value under each key in each form: one run encrypts them all, one decrypts them all)
mapfile -t values < <(jq -r '[.cases[] | .plain] | unique | .[]' "$FX/cases.json")
[ ${#values[@]} -ge 30 ] || fail "only ${#values[@]} values to encrypt under python-paillier's keys"
for pair in pheutil-pub.jwk:pheutil-priv.jwk pheutil-legacy-pub.jwk:pheutil-legacy-priv.jwk \
            phe-basic.json:pheutil-priv.jwk; do
    pub=${pair%%:*} priv=${pair##*:}
    for fmt in ccz jwk phe; do
        run 0 "$CCZ" paillier encrypt --key "$FX/$pub" --format $fmt -- "${values[@]}"
        printf '%s\n' "$out" | jq -s '{values: .}' > "$T/enc.json"
        run 0 bash -c "'$CCZ' paillier decrypt --key '$FX/$priv' - < '$T/enc.json'"
        [ "$out" = "$(printf '%s\n' "${values[@]}")" ] ||
            fail "values encrypted under python-paillier's $pub ($fmt) decrypt to others: $out"
    done
done
# arithmetic on python-paillier's numbers: {v, e} plus a real, times a negative real
c=$(jq -c '.cases[] | select(.by == "pheutil encrypt 3.14159" and .key == "pheutil-priv.jwk") | .ciphertext' "$FX/cases.json")
run 0 "$CCZ" paillier add --key "$FX/pheutil-pub.jwk" --format jwk "$c" --plain 0.25
run 0 "$CCZ" paillier mul --key "$FX/pheutil-pub.jwk" --format jwk "$out" -2
run 0 "$CCZ" paillier decrypt --key "$FX/pheutil-priv.jwk" "$out"
[ "$out" = "-6.78318" ] || fail "(3.14159 + 0.25) * -2 is '$out'"

# ccz's JWK and ciphertexts, read the way python-paillier reads them
run 0 "$CCZ" paillier keygen --bits 1024 --format jwk -o "$T/j.jwk"
contains "$err" "for tests only"
jq '.pub' "$T/j.jwk" > "$T/jpub.jwk"
[ "$(/usr/bin/python3 "$SPEC" jwk "$T/j.jwk" "$T/jpub.jwk")" = ok ] || fail "ccz's JWK pair is not pheutil's"
for v in 3.75 -1e-10 42 -123456789012345678901234567890 0.1; do
    run 0 "$CCZ" paillier encrypt --key "$T/jpub.jwk" --format jwk -- "$v"
    echo "$out" > "$T/jc.json"
    jq -e '(.v | type) == "string" and (.e | type) == "number" and (keys == ["e", "v"])' "$T/jc.json" > /dev/null ||
        fail "ccz's JWK ciphertext is not {v: string, e: number}"
    want=$(/usr/bin/python3 -c "v = '$v'; print(int(v) if v.lstrip('-').isdigit() else float(v))")
    [ "$(/usr/bin/python3 "$SPEC" decrypt "$T/j.jwk" "$T/jc.json")" = "$want" ] ||
        fail "ccz's Enc($v) as JWK does not decrypt to $want python-paillier's way"
done
run 0 "$CCZ" paillier keygen --bits 1024 --format phe -o "$T/phe.json"
[ "$(/usr/bin/python3 "$SPEC" phe "$T/phe.json")" = ok ] || fail "ccz's basic-form key"
run 0 "$CCZ" paillier keygen --bits 1024 --format phe --public-only -o "$T/phepub.json"
[ "$(/usr/bin/python3 "$SPEC" phe "$T/phepub.json")" = ok ] || fail "ccz's basic-form public key"
run 0 "$CCZ" paillier keygen --bits 2048 -o "$T/k2048b.json"
# an existing key is never replaced
cp "$T/k2048b.json" "$T/k2048b.copy"
run 2 "$CCZ" paillier keygen --bits 1024 -o "$T/k2048b.json"
contains "$err" "k2048b.json exists (ccz never overwrites a key)"
cmp -s "$T/k2048b.json" "$T/k2048b.copy" || fail "keygen replaced an existing key"
case "$err" in *warning*) fail "a 2048-bit key warns: $err";; esac
run 2 "$CCZ" paillier keygen --bits 1024 --format jwk --djn -o "$T/x.json"
contains "$err" "only ccz's form carries hs"
run 2 "$CCZ" paillier keygen --bits 1024 --format xml -o "$T/x.json"
contains "$err" "--format: ccz, jwk or phe, not 'xml'"
run 2 "$CCZ" paillier decrypt --key "$T/j.jwk" --format jwk 5
contains "$err" "decrypt writes no key or ciphertext"
# a lambda that is not this key's
jq '.lambda = "AQAB"' "$T/j.jwk" > "$T/badlam.jwk"
run 2 "$CCZ" paillier decrypt --key "$T/badlam.jwk" 5
contains "$err" "\"lambda\" and \"mu\" do not belong to this key"

# ---- hostile keys and ciphertexts ----
K=$T/k2048.json
N=$(jq -r .n "$K")
# a public key whose DJN base is 1 would make Enc(m) = 1 + m n: its hs is not used
jq '{n: .n, hs: "1"}' "$K" > "$T/hs1pub.json"
run 0 "$CCZ" paillier encrypt --key "$T/hs1pub.json" 5
[ "$out" != "$(/usr/bin/python3 -c "print(1 + 5 * $N)")" ] || fail "hs = 1 was used"
c=$out
run 0 "$CCZ" paillier decrypt --key "$K" "$c"
[ "$out" = 5 ] || fail "Enc(5) under the hs = 1 public key decrypts to '$out'"
# with p and q it is checked, and refused
jq '.hs = "1"' "$K" > "$T/hs1.json"
run 2 "$CCZ" paillier decrypt --key "$T/hs1.json" "$c"
contains "$err" "h_s is not in [2, n^2)"
jq --arg g "$(/usr/bin/python3 -c "print($N + 1)")" '.hs = $g' "$K" > "$T/hsg.json"
run 2 "$CCZ" paillier decrypt --key "$T/hsg.json" "$c"
contains "$err" "not a DJN base"
jq '.hs = "4"' "$K" > "$T/hs4.json"
run 2 "$CCZ" paillier decrypt --key "$T/hs4.json" "$c"
contains "$err" "not a DJN base"
# ciphertexts that share a factor with n: n itself (was decrypted as 0), p, a multiple of q
P=$(jq -r .p "$K")
for bad in "$N" "$P" "$(/usr/bin/python3 -c "print($(jq -r .q "$K") * 7)")"; do
    run 2 "$CCZ" paillier decrypt --key "$K" "$bad"
    contains "$err" "shares a factor with n"
done
run 2 "$CCZ" paillier decrypt --key "$K" "[\"$N\", 0]"
contains "$err" "shares a factor with n"

# overflow and bad input
N=$(jq -r .n "$K")
big=$(/usr/bin/python3 -c "print($N // 3 - 1)")
run 0 "$CCZ" paillier encrypt --key "$K" "$big"
run 0 "$CCZ" paillier mul --key "$K" "$out" 2
run 1 "$CCZ" paillier decrypt --key "$K" "$out"
contains "$err" "overflowed"
run 2 "$CCZ" paillier encrypt --key "$K" "$(/usr/bin/python3 -c "print($N // 3)")"
contains "$err" "this key encodes magnitudes up to n/3 - 1"
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
run 2 "$CCZ" paillier keygen -o "$T/x.json" --bits
contains "$err" "--bits needs a value"
run 2 "$CCZ" paillier keygen --bits 2048
contains "$err" "keygen needs --bits N and -o KEY.json"
run 2 "$CCZ" paillier encrypt --key "$K"
contains "$err" "encrypt takes one or more values"
run 2 "$CCZ" paillier add --key "$K" 1
contains "$err" "add takes 2 operands"
run 2 timeout 10 "$CCZ" paillier bench --seconds 0
contains "$err" "--seconds: '0' is not a number of seconds above 0 and at most 600"
run 2 timeout 10 "$CCZ" paillier bench --threads 1025
contains "$err" "--threads: 1025 is larger than 1024"
run 2 "$CCZ" paillier keygen --bits 2048 -o "$T/x.json" --frob
contains "$err" "unknown option '--frob'"
[ -e "$T/x.json" ] && fail "a refused keygen wrote a key"
# an option the operation does not use, or a value given twice, is refused, not ignored
run 2 "$CCZ" paillier encrypt --key "$K" --bits 1024 5
contains "$err" "'--bits' does nothing for 'paillier encrypt'"
run 2 "$CCZ" paillier keygen --bits 2048 --key "$K" -o "$T/x.json"
contains "$err" "'--key' does nothing for 'paillier keygen'"
run 2 "$CCZ" paillier decrypt --key "$K" --plain 3 5
contains "$err" "'--plain' does nothing for 'paillier decrypt'"
run 2 timeout 10 "$CCZ" paillier bench --public-only --seconds 0.01
contains "$err" "'--public-only' does nothing for 'paillier bench'"
run 2 "$CCZ" paillier keygen --bits 2048 -o "$T/x.json" --out "$T/y.json"
contains "$err" "'--out' is given twice; give it once"
run 2 "$CCZ" paillier encrypt --key "$T/pub.json" --key "$K" 5
contains "$err" "'--key' is given twice; give it once"
[ -e "$T/x.json" ] || [ -e "$T/y.json" ] && fail "a refused keygen wrote a key"
# ---- the bounds of the command line and of the operands ----
K=$T/k2048.json
# a 2048-bit key is long enough: no warning
run 0 "$CCZ" paillier encrypt --key "$K" 7
case "$err" in *"too short"*) fail "a 2048-bit key warns: $err";; esac
c7=$out
# an operand that begins with -9 is a number, not an option
run 0 "$CCZ" paillier mul --key "$K" "$c7" -9
run 0 "$CCZ" paillier decrypt --key "$K" "$out"
[ "$out" = -63 ] || fail "7 * -9 decrypts to '$out'"
# the ciphertext 1 (Enc(0) with r = 1) on standard input: one byte, then padded with blanks
printf '1' > "$T/one.txt"
printf ' 1 \n\n' > "$T/one-pad.txt"
for f in one one-pad; do
    run 0 bash -c "'$CCZ' paillier decrypt --key '$K' - < '$T/$f.txt'"
    [ "$out" = 0 ] || fail "$f.txt decrypts to '$out'"
done
# 64 operands at most
run 2 "$CCZ" paillier encrypt --key "$K" $(seq 65)
contains "$err" "ccz: too many operands"
[ -z "$out" ] || fail "a refused encrypt printed '$out'"
# a real of 64 characters is read, one of 65 is not
r64=1.$(printf '0%.0s' $(seq 62))
run 0 "$CCZ" paillier encrypt --key "$K" "$r64"
run 0 "$CCZ" paillier decrypt --key "$K" "$out"
[ "$out" = 1.0 ] || fail "Enc($r64) decrypts to '$out'"
run 2 "$CCZ" paillier encrypt --key "$K" "${r64}0"
contains "$err" "value '1.00000000000000000000000000000000000000' is not a decimal integer or real"
# a ciphertext of 5000 digits is read (and refused: too large); one of 5001 is not read
d5000=$(printf '9%.0s' $(seq 5000))
run 2 "$CCZ" paillier decrypt --key "$K" "$d5000"
contains "$err" "not in [1, n^2)"
run 2 "$CCZ" paillier decrypt --key "$K" "${d5000}9"
contains "$err" "is not a decimal integer"
# the largest --bits, --threads and --seconds pass (then the command line is refused)
run 2 "$CCZ" paillier keygen --bits 8192
[ "$(head -1 <<< "$err")" = "ccz: keygen needs --bits N and -o KEY.json" ] || fail "--bits 8192: $err"
run 2 timeout 10 "$CCZ" paillier bench --threads 1024 --seconds 600 --public-only
[ "$(head -1 <<< "$err")" = "ccz: '--public-only' does nothing for 'paillier bench'" ] ||
    fail "--threads 1024 --seconds 600: $err"
run 2 "$CCZ" paillier keygen --bits 8193 -o "$T/x.json"
contains "$err" "--bits: 8193 is larger than 8192"
run 2 "$CCZ" paillier decrypt --key "$K" 1 2
[ "$(head -1 <<< "$err")" = "ccz: decrypt takes 1 operand" ] || fail "decrypt 1 2: $err"
# keygen without --bits, or with an operand, is refused and writes nothing
run 2 "$CCZ" paillier keygen -o "$T/nobits.json"
[ "$(head -1 <<< "$err")" = "ccz: keygen needs --bits N and -o KEY.json" ] || fail "keygen without --bits: $err"
run 2 "$CCZ" paillier keygen --bits 2048 -o "$T/extra.json" extra
contains "$err" "unexpected 'extra'"
[ -e "$T/nobits.json" ] || [ -e "$T/extra.json" ] && fail "a refused keygen wrote a key"
# a 2048-bit key made here is long enough: no warning
run 0 "$CCZ" paillier keygen --bits 2048 -o "$T/k2048c.json"
case "$err" in *warning*) fail "keygen --bits 2048 warns: $err";; esac
# a negative real written without its leading zero is a value, not an option
run 0 "$CCZ" paillier encrypt --key "$K" -.5
run 0 "$CCZ" paillier decrypt --key "$K" "$out"
[ "$out" = -0.5 ] || fail "Enc(-.5) decrypts to '$out'"
# reals print as Python's repr(): positional down to 1e-4, exponent from 1e-5 and from 1e16
for v in 0.0001:0.0001 0.00001:1e-05; do
    run 0 "$CCZ" paillier encrypt --key "$K" "${v%%:*}"
    run 0 "$CCZ" paillier decrypt --key "$K" "$out"
    [ "$out" = "${v##*:}" ] || fail "Enc(${v%%:*}) decrypts to '$out', not ${v##*:}"
done
run 0 "$CCZ" paillier encrypt --key "$K" 160000000000000000
run 0 "$CCZ" paillier decrypt --key "$K" "{\"ciphertext\": \"$out\", \"exponent\": -1}"
[ "$out" = 1e+16 ] || fail "16^-1 * 160000000000000000 decrypts to '$out', not 1e+16"
# a real is decimal: C's hexadecimal floats are not read
run 2 "$CCZ" paillier encrypt --key "$K" 0x10
contains "$err" "value '0x10' is not a decimal integer or real"
[ -z "$out" ] || fail "encrypt 0x10 printed '$out'"
# add and mul take one encrypted number per operand, not a document of several
run 0 "$CCZ" paillier encrypt --key "$K" 3
c3=$out
printf '{"values": [["%s", 0], ["%s", 0]]}' "$c3" "$c7" > "$T/two.json"
run 2 bash -c "'$CCZ' paillier add --key '$K' - '$c3' < '$T/two.json'"
contains "$err" "one encrypted number expected, not 2"
[ -z "$out" ] || fail "add of a two-value document printed '$out'"
# after "--" everything is an operand, a second "--" too
run 2 "$CCZ" paillier encrypt --key "$K" -- 5 --
contains "$err" "value '--' is not a decimal integer or a finite real"
# a real beyond a double's range is refused, not encrypted as infinity
run 2 "$CCZ" paillier encrypt --key "$K" 1e999
contains "$err" "value '1e999' is not a decimal integer or a finite real"
[ -z "$out" ] || fail "encrypt 1e999 printed '$out'"
# --plain is add's alone
run 2 "$CCZ" paillier encrypt --key "$K" --plain 3 5
contains "$err" "'--plain' does nothing for 'paillier encrypt'"
run 2 "$CCZ" paillier mul --key "$K" --plain 3 "$c3" 2
contains "$err" "'--plain' does nothing for 'paillier mul'"
# bench takes --bits, --seconds and --threads, and reports the ones it ran with
run 0 timeout 60 "$CCZ" paillier bench --bits 1024 --seconds 0.01 --threads 1
jqis '[.bits, .threads] | tostring' '[1024,1]'
jqis '.encrypt_per_s.one_core > 0 and .encrypt_per_s.all_cores == .encrypt_per_s.one_core' true
# bench writes no key or ciphertext: --format is refused as such
run 2 timeout 10 "$CCZ" paillier bench --format ccz --seconds 0.01
[ "$(head -1 <<< "$err")" = "ccz: --format: bench writes no key or ciphertext" ] ||
    fail "bench --format: $err"
# an empty value, or '-' alone, is no number: refused, not encrypted as 0
for v in '' -; do
    run 2 "$CCZ" paillier encrypt --key "$K" -- "$v"
    contains "$err" "value '$v' is not a decimal integer or a finite real"
    [ -z "$out" ] || fail "encrypt '$v' printed '$out'"
done
# a negative real below 1 in magnitude (-0.25) is a value, not an option
run 0 "$CCZ" paillier encrypt --key "$K" -0.25
run 0 "$CCZ" paillier decrypt --key "$K" "$out"
[ "$out" = -0.25 ] || fail "Enc(-0.25) decrypts to '$out'"
# a real that needs 17 significant digits prints them all, as repr() does
run 0 "$CCZ" paillier encrypt --key "$K" 0.30000000000000004
run 0 "$CCZ" paillier decrypt --key "$K" "$out"
[ "$out" = 0.30000000000000004 ] || fail "Enc(0.30000000000000004) decrypts to '$out'"
# a key that cannot be read is named; no key at all is said
run 2 "$CCZ" paillier encrypt --key "$T/nokey.json" 1
[ "$(head -1 <<< "$err")" = "ccz: paillier encrypt: $T/nokey.json: cannot open $T/nokey.json: No such file or directory" ] ||
    fail "a missing key: $err"
run 2 "$CCZ" paillier encrypt 1
[ "$(head -1 <<< "$err")" = "ccz: paillier encrypt: --key KEY.json is required" ] || fail "no --key: $err"
finish
