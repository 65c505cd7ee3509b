/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/he: arithmetic for the lattice schemes. Residues modulo primes q < 2^61 in
 * 64-bit words; Barrett reduction of 128-bit products; Shoup multiplication by precomputed
 * constants (w, floor(w 2^64 / q)); the negacyclic NTT with lazy (Harvey) butterflies, portable
 * and AVX-512 (IFMA for q < 2^50, 64-bit emulation above), chosen at run time and giving the same
 * results. */
#ifndef CCZ_LATTICE_LAT_H
#define CCZ_LATTICE_LAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccz/core.h"

typedef unsigned __int128 u128;

#define LAT_MAX_PRIME_BITS 61
#define LAT_MIN_LOG_N 1
#define LAT_MAX_LOG_N 17

/* A modulus with its Barrett constant floor(2^128 / q). */
typedef struct {
    uint64_t q;
    uint64_t r0, r1; /* floor(2^128 / q) = r1 2^64 + r0 */
    unsigned bits;
} lat_mod;

void lat_mod_init(lat_mod *m, uint64_t q);

static inline uint64_t lat_hi64(uint64_t a, uint64_t b)
{
    return (uint64_t)(((u128)a * b) >> 64);
}

/* z mod q for z < 2^128 with z < q^2 * 4 (products of residues below 2q). */
static inline uint64_t lat_reduce128(u128 z, const lat_mod *m)
{
    uint64_t z0 = (uint64_t)z, z1 = (uint64_t)(z >> 64);
    u128 p00 = (u128)z0 * m->r0, p01 = (u128)z0 * m->r1, p10 = (u128)z1 * m->r0;
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    uint64_t qe =
        z1 * m->r1 + (uint64_t)(p01 >> 64) + (uint64_t)(p10 >> 64) + (uint64_t)(mid >> 64);
    uint64_t r = z0 - qe * m->q;
    return r >= m->q ? r - m->q : r;
}

static inline uint64_t lat_mul_mod(uint64_t a, uint64_t b, const lat_mod *m)
{
    return lat_reduce128((u128)a * b, m);
}

static inline uint64_t lat_add_mod(uint64_t a, uint64_t b, uint64_t q)
{
    uint64_t s = a + b;
    return s >= q ? s - q : s;
}

static inline uint64_t lat_sub_mod(uint64_t a, uint64_t b, uint64_t q)
{
    return a >= b ? a - b : a + q - b;
}

/* floor(w 2^64 / q) for w < q */
static inline uint64_t lat_shoup(uint64_t w, uint64_t q)
{
    return (uint64_t)(((u128)w << 64) / q);
}

/* a w mod q in [0, 2q), for any 64-bit a (Shoup) */
static inline uint64_t lat_mul_shoup_lazy(uint64_t a, uint64_t w, uint64_t ws, uint64_t q)
{
    return a * w - lat_hi64(a, ws) * q;
}

static inline uint64_t lat_mul_shoup(uint64_t a, uint64_t w, uint64_t ws, uint64_t q)
{
    uint64_t r = lat_mul_shoup_lazy(a, w, ws, q);
    return r >= q ? r - q : r;
}

/* Shoup constants for fixed operands (keys): floor(w 2^52 / q) for q < 2^50, else
 * floor(w 2^64 / q). Both the portable and the AVX-512 code read them. */
#define LAT_SHOUP52_LIMIT (1ull << 50)

static inline uint64_t lat_shoup_w(uint64_t w, uint64_t q)
{
    return q < LAT_SHOUP52_LIMIT ? (uint64_t)(((u128)w << 52) / q) : lat_shoup(w, q);
}

static inline uint64_t lat_mul_shoup_w(uint64_t a, uint64_t w, uint64_t ws, uint64_t q)
{
    uint64_t qe = q < LAT_SHOUP52_LIMIT ? (uint64_t)(((u128)a * ws) >> 52) : lat_hi64(a, ws);
    uint64_t r = a * w - qe * q;
    return r >= q ? r - q : r;
}

/* x mod q for any 64-bit x */
static inline uint64_t lat_reduce64(uint64_t x, const lat_mod *m)
{
    return x < m->q ? x : lat_reduce128((u128)x, m);
}

uint64_t lat_pow_mod(uint64_t b, uint64_t e, const lat_mod *m);
/* b^-1 mod q (q prime, b not 0 mod q) */
uint64_t lat_inv_mod(uint64_t b, const lat_mod *m);

/* Fills out[0..count) with distinct primes q = 1 mod 2n of exactly `bits` bits, largest first,
 * skipping those in `avoid` (n_avoid of them). */
/* exact below 2^64 */
bool lat_is_prime(uint64_t x);
ccz_status lat_primes(uint64_t *out, size_t count, unsigned bits, size_t n, const uint64_t *avoid,
                      size_t n_avoid);

/* ---- the NTT ---------------------------------------------------------------------------------*/

typedef struct {
    lat_mod mod;
    size_t n;
    unsigned log_n;
    uint64_t psi; /* the minimal primitive 2n-th root of unity */
    /* psi^bitrev(i) and psi^-bitrev(i), with Shoup companions */
    uint64_t *root, *root_s, *iroot, *iroot_s;
    uint64_t n_inv, n_inv_s;
    uint64_t last_w, last_w_s; /* iroot[1] n^-1: the last inverse stage with n^-1 folded in */
    uint64_t last_w_s52;
    /* for q < 2^50: floor(w 2^52 / q) companions, for the IFMA butterflies */
    uint64_t *root_s52, *iroot_s52;
    uint64_t n_inv_s52;
    /* The AVX-512 transforms' last (forward) or first (inverse) stages with butterflies 4 and 2
     * apart, as the registers hold them: per 16 coefficients from 16k, a vector of the twiddles
     * for gap 4 (those at n/8 + 2k, 2k + 1, four times each; entries [8k, 8k + 8)) and one for
     * gap 2 (n/4 + 4k .. 4k + 3, twice each; entries n/2 + [8k, 8k + 8)). sp[0] forward, sp[1]
     * inverse; the Shoup companions beside them (s52 only for q < 2^50, else NULL). */
    uint64_t *sp[2], *sp_s[2], *sp_s52[2];
    /* The inverse transform may let its values grow instead of reducing them after each stage
     * (q <= 2^51 / n, IFMA; the bound is derived at inverse_may_grow in lat.c) */
    bool inv_grow;
} lat_ntt;

ccz_status lat_ntt_init(lat_ntt *t, uint64_t q, unsigned log_n);
void lat_ntt_free(lat_ntt *t);

/* In place, input and output in [0, q). The forward transform maps coefficients to evaluations
 * at the odd powers of psi (in bit-reversed order), so products are pointwise. */
void lat_ntt_forward(const lat_ntt *t, uint64_t *a);
void lat_ntt_inverse(const lat_ntt *t, uint64_t *a);
/* The portable implementations, whatever the CPU (tests compare the two). */
void lat_ntt_forward_portable(const lat_ntt *t, uint64_t *a);
void lat_ntt_inverse_portable(const lat_ntt *t, uint64_t *a);

/* Whether the AVX-512 paths are used (AVX-512F and DQ; IFMA for q < 2^50), as core/cpu.h finds
 * them (none under CCZ_CPU=portable). */
bool lat_avx512(void);
bool lat_ifma(void);
/* Tests: force the portable paths (false) or go back to the CPU's choice (true). */
void lat_set_avx512(bool on);

/* Vector kernels over n words modulo q (inputs below q; outputs below q; AVX-512 when available,
 * the same results without): out = a + b, a - b; out = a w (Shoup, w fixed with lat_shoup_w
 * constants ws); acc = acc + a w. */
void lat_vec_add(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q);
void lat_vec_sub(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q);
void lat_vec_mul_w(uint64_t *out, const uint64_t *a, const uint64_t *w, const uint64_t *ws,
                   size_t n, uint64_t q);
void lat_vec_mul_w_add(uint64_t *acc, const uint64_t *a, const uint64_t *w, const uint64_t *ws,
                       size_t n, uint64_t q);
/* acc = acc + a c mod q for a constant c < q; a below 2^52 when q < 2^50 (any 64-bit value
 * otherwise), not necessarily reduced */
void lat_vec_mul_c_add(uint64_t *acc, const uint64_t *a, uint64_t c, size_t n, uint64_t q);
void lat_vec_mul_c_add_avx512(uint64_t *acc, const uint64_t *a, uint64_t c, uint64_t cs, size_t n,
                              uint64_t q);
/* out = a b mod q for variable a, b (IFMA for q < 2^50, else Barrett) */
void lat_vec_mulmod(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                    const lat_mod *m);
void lat_vec_mulmod_avx512(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                           const lat_mod *m);
/* out = (k0 + sum_{i<k} a_i c_i) mod q, fully reduced, for constants c_i < q with Shoup
 * constants cs_i (lat_shoup_w) and k0 < q; every a_i below 2^52 when q < 2^50 (any 64-bit value
 * otherwise). out may be one of the a_i. One pass over the inputs: base conversions, BFV's
 * scale-and-round and the key switch's division by P in one kernel each. */
void lat_vec_dot_c(uint64_t *out, const uint64_t *const *a, const uint64_t *c, const uint64_t *cs,
                   unsigned k, uint64_t k0, size_t n, uint64_t q);
void lat_vec_dot_c_avx512(uint64_t *out, const uint64_t *const *a, const uint64_t *c,
                          const uint64_t *cs, unsigned k, uint64_t k0, size_t n, uint64_t q);
/* v = floor(1/2 + sum_{i<k} y_i inv_i) in doubles, the terms fused-multiply-added in order
 * (y_i below 2^53): the multiple of the base to take away in a conversion */
void lat_vec_round_sum(uint64_t *v, const uint64_t *const *y, const double *inv, unsigned k,
                       size_t n);
void lat_vec_round_sum_avx512(uint64_t *v, const uint64_t *const *y, const double *inv, unsigned k,
                              size_t n);
/* The rescale's kernels (lat_drop_last): out = v mod q for v = a if a <= p / 2, else a - p (the
 * centred value of a residue a < p of an odd p < 2^62), cp = p mod q; out = (a - b) c mod q for
 * a, b < q and a constant c < q with its lat_shoup_w constant cs. */
void lat_vec_centred_mod(uint64_t *out, const uint64_t *a, uint64_t p, uint64_t cp, size_t n,
                         uint64_t q);
void lat_vec_centred_mod_avx512(uint64_t *out, const uint64_t *a, uint64_t p, uint64_t cp, size_t n,
                                uint64_t q);
void lat_vec_sub_mul_c(uint64_t *out, const uint64_t *a, const uint64_t *b, uint64_t c, uint64_t cs,
                       size_t n, uint64_t q);
void lat_vec_sub_mul_c_avx512(uint64_t *out, const uint64_t *a, const uint64_t *b, uint64_t c,
                              uint64_t cs, size_t n, uint64_t q);
/* out[line[g] + l] = v[s(g, lane[8 g + l])] for the n / 8 groups g, l < 8, where group g's slot
 * i is s(g, i) = (g / m) (n / 2) + g % m + i m with m = n / 16 (n >= 128): the batching
 * permutation by whole lines (lattice_internal.h, slot_line); true when every v[j] is below
 * bound (the stores are made either way) */
bool lat_vec_scatter_lines(uint64_t *out, const uint64_t *v, const uint32_t *line,
                           const uint8_t *lane, size_t n, uint64_t bound);
bool lat_vec_scatter_lines_avx512(uint64_t *out, const uint64_t *v, const uint32_t *line,
                                  const uint8_t *lane, size_t n, uint64_t bound);
/* Shoup constants of an array (lat_shoup_w) */
void lat_vec_shoup(uint64_t *ws, const uint64_t *w, size_t n, uint64_t q);

/* AVX-512 implementations (lat_avx512.c); only called when lat_avx512() is true. */
void lat_vec_add_avx512(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q);
void lat_vec_sub_avx512(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q);
void lat_vec_mul_w_avx512(uint64_t *out, const uint64_t *acc, const uint64_t *a, const uint64_t *w,
                          const uint64_t *ws, size_t n, uint64_t q);
void lat_ntt_forward_avx512(const lat_ntt *t, uint64_t *a);
void lat_ntt_inverse_avx512(const lat_ntt *t, uint64_t *a);

#endif
