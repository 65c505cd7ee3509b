#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz he: the presets against the 128-bit table (as JSON), and a short timing run whose JSON
# carries every figure bench/lattice reads (wall clock and CPU time), with a CKKS product's
# precision.
. "$(dirname "$0")/lib.sh"
run 0 "$CCZ" he params --json
jqis 'length' 8
jqis '[.[] | select(.total_bits > .max_bits_128)] | length' 0
jqis '.[] | select(.scheme == "bfv" and .n == 8192) | .coeff_bits | join(",")' "43,43,44,44,44"
jqis '.[] | select(.scheme == "bfv" and .n == 8192) | .total_bits' 218
jqis '.[] | select(.scheme == "ckks" and .n == 16384) | .scale_bits' 50
jqis '.[] | select(.scheme == "bfv" and .n == 8192) | .plain_modulus' 1032193
jqis '[.[] | .security] | unique | join(",")' 128-bit
# BFV batches N slots, CKKS N/2 complex ones
jqis '[.[] | select(.scheme == "bfv") | .slots == .n] | all' true
jqis '[.[] | select(.scheme == "ckks") | .slots * 2 == .n] | all' true
jqis '[.[] | .n] | join(",")' "4096,4096,8192,8192,16384,16384,32768,32768"
run 0 "$CCZ" he params
contains "$out" "BFV   N=8192   primes 43,43,44,44,44"
# the text says what the JSON says: t for BFV, the scale for CKKS
contains "$out" "218 bits (128-bit limit 218)  8192 slots  t=1032193"
contains "$out" "200 bits (128-bit limit 218)  4096 slots  scale=2^40"
# N = 8192 without --log-n
run 0 "$CCZ" he bench --seconds 0.02
jqis '.n' 8192
for f in ntt_fwd_49_us ntt_inv_60_us bfv_encrypt_us bfv_decrypt_us bfv_mul_relin_us bfv_rotate_us \
         ckks_encrypt_us ckks_decrypt_us ckks_mul_relin_us ckks_rescale_us ckks_rotate_us \
         ntt_fwd_49_cpu_us bfv_mul_relin_cpu_us ckks_encode_cpu_us ckks_rotate_cpu_us \
         bfv_encode_us bfv_encode_cpu_us bfv_rotate_hoisted_us ckks_rotate_hoisted_cpu_us \
         bfv_encrypt_many_us ckks_encrypt_many_cpu_us bfv_mul_relin_many_cpu_us \
         ckks_mul_relin_many_us; do
    jqis ".$f > 0" true
done
jqis '.ckks_mul_precision_bits > 15' true
# the smallest N and t taken: t = 2 cannot batch, so BFV encodes coefficients
run 0 "$CCZ" he bench --log-n 12 --seconds 0.01 --plain-modulus 2
jqis '.n' 4096
jqis '.bfv_plain_modulus' 2
jqis '.bfv_encode_us > 0 and .bfv_mul_relin_us > 0' true
run 2 timeout 10 "$CCZ" he bench --log-n 9
contains "$err" "--log-n: 12 to 15, not '9'"
for bad in 11 16 13x ""; do
    run 2 timeout 10 "$CCZ" he bench --log-n "$bad"
    contains "$err" "--log-n: 12 to 15, not '$bad'"
done
for bad in 0 601 1s nan; do
    run 2 timeout 10 "$CCZ" he bench --seconds "$bad"
    contains "$err" "--seconds: '$bad' is not a number of seconds above 0 and at most 600"
done
for bad in 1 1152921504606846976 12x -18446744073709551613 " 7" +7; do
    run 2 timeout 10 "$CCZ" he bench --plain-modulus "$bad"
    contains "$err" "--plain-modulus: an integer from 2 to 2^60"
done
# an option given last without its value is refused by name (not read past the arguments)
for opt in --log-n --seconds --plain-modulus; do
    run 2 timeout 10 "$CCZ" he bench $opt
    contains "$err" "ccz: $opt needs a value"
done
run 2 timeout 10 "$CCZ" he bench --json
contains "$err" "'--json' is not an option of 'he bench' (bench always prints JSON)"
run 2 "$CCZ" he params --log-n 13
contains "$err" "'--log-n' is not an option of 'he params'"
run 2 "$CCZ" he frobnicate
contains "$err" "unknown he command"
finish
