/* SPDX-License-Identifier: Apache-2.0 */
/* Galois automorphisms x -> x^g, in coefficient and in NTT form, and the element of a rotation. */
#include <stdlib.h>

#include "lattice_internal.h"

/* ---- automorphisms ------------------------------------------------------------------------------*/

void lat_automorph_coeff(const uint64_t *in, uint64_t *out, size_t n, uint64_t g, uint64_t q)
{
    uint64_t two_n = 2 * (uint64_t)n;
    for (size_t k = 0; k < n; k++) {
        uint64_t e = ((uint64_t)k * g) % two_n;
        if (e < n)
            out[e] = in[k];
        else
            out[e - n] = in[k] ? q - in[k] : 0;
    }
}

/* x with its low `bits` bits reversed (bits 1 to 32), without a loop */
static inline uint32_t rev_bits(uint32_t x, unsigned bits)
{
    x = __builtin_bswap32(x);
    x = ((x & 0x0f0f0f0fu) << 4) | ((x >> 4) & 0x0f0f0f0fu);
    x = ((x & 0x33333333u) << 2) | ((x >> 2) & 0x33333333u);
    x = ((x & 0x55555555u) << 1) | ((x >> 1) & 0x55555555u);
    return x >> (32 - bits);
}

/* NTT position i holds the evaluation at psi^e, e = 2 bitrev(i) + 1; x -> x^g moves there the
 * evaluation at psi^(e g mod 2N) (2N a power of two: a mask) */
void lat_automorph_ntt_index(uint32_t *idx, unsigned log_n, uint64_t g)
{
    size_t n = (size_t)1 << log_n;
    uint64_t mask = 2 * (uint64_t)n - 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t e = 2 * (uint64_t)rev_bits((uint32_t)i, log_n) + 1;
        idx[i] = rev_bits((uint32_t)(((e * g) & mask) >> 1), log_n);
    }
}

void lat_automorph_ntt_apply(const uint64_t *in, uint64_t *out, const uint32_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[idx[i]];
}

uint64_t lat_galois_elt(const ccz_lattice_context *ctx, int steps)
{
    uint64_t two_n = 2 * (uint64_t)ctx->n, half = ctx->n / 2;
    long s = steps % (long)half;
    if (s < 0)
        s += (long)half; /* 3 has order N/2 modulo 2N */
    uint64_t g = 1;
    for (long i = 0; i < s; i++)
        g = g * 3 % two_n;
    return g;
}
