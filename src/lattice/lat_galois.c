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

void lat_automorph_ntt(const uint64_t *in, uint64_t *out, unsigned log_n, uint64_t g)
{
    size_t n = (size_t)1 << log_n;
    uint64_t two_n = 2 * (uint64_t)n;
    for (size_t i = 0; i < n; i++) {
        uint64_t e = 2 * (uint64_t)lat_bitrev(i, log_n) + 1; /* the evaluation point at i */
        uint64_t src = (e * g) % two_n;
        out[i] = in[lat_bitrev((src - 1) / 2, log_n)];
    }
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
