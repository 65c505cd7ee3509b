/* SPDX-License-Identifier: Apache-2.0 */
/* The lattice schemes' samplers (src/lattice/lat_sample.c) against their distributions, which
 * no decryption would notice going wrong (a secret or an error from a narrower distribution, a
 * "uniform" component that misses part of its range, still decrypt): uniform residues for a
 * 60-bit, a 40-bit and a 20-bit prime (range, mean, top half, 16 buckets by chi-square);
 * ternary secrets ({-1, 0, 1} a third each); centred binomial errors (range [-21, 21], mean 0,
 * variance 10.5, the tail). Each bound is 5 standard deviations (or chi-square's 1e-6 point), so
 * a correct sampler fails about once in a million runs. The seeded generator: the same seed
 * gives the same stream, another seed another one, and unseeded generators differ. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lattice/lattice_internal.h"
#include "test.h"

#define N 65536

static void uniform(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 12));
    p.n_primes = 3;
    p.coeff_bits[0] = 60, p.coeff_bits[1] = 40, p.coeff_bits[2] = 20;
    p.coeff_primes[0] = 0;
    p.no_security_check = true;
    ccz_lattice_context *ctx = NULL;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    if (!ctx)
        return;
    unsigned np;
    const uint64_t *primes = ccz_lattice_context_primes(&np, ctx);
    CHECK_INT(np, 3);
    lat_prng g;
    CHECK_OK(lat_prng_init(&g));
    size_t n = ctx->n; /* 4096 a call */
    uint64_t *out = malloc(3 * n * sizeof *out);
    for (unsigned i = 0; i < 3; i++) {
        double q = (double)primes[i], sum = 0;
        size_t upper = 0, total = 0, bucket[16] = {0};
        bool in_range = true;
        for (int rep = 0; rep < 64; rep++) { /* 262144 values a prime */
            CHECK_OK(lat_sample_uniform(&g, ctx, primes, 3, out));
            for (size_t x = 0; x < n; x++) {
                uint64_t v = out[i * n + x];
                in_range &= v < primes[i];
                sum += (double)v;
                upper += (double)v >= q / 2;
                bucket[(size_t)((double)v / q * 16)]++;
                total++;
            }
        }
        CHECK(in_range);
        double mean = sum / (double)total / q, sd = sqrt(1.0 / 12 / (double)total);
        double half = (double)upper / (double)total, sd_half = sqrt(0.25 / (double)total);
        double chi = 0, want = (double)total / 16;
        for (int b = 0; b < 16; b++)
            chi += ((double)bucket[b] - want) * ((double)bucket[b] - want) / want;
        fprintf(stderr,
                "uniform mod a %u-bit prime: %zu values, mean/q %.5f, upper half %.5f, "
                "chi-square (15 df) %.1f\n",
                (unsigned)log2(q) + 1, total, mean, half, chi);
        CHECK(fabs(mean - 0.5) < 5 * sd);
        CHECK(fabs(half - 0.5) < 5 * sd_half);
        CHECK(chi < 52.6); /* the 1e-6 tail of chi-square with 15 degrees of freedom */
    }
    free(out);
    lat_prng_free(&g);
    ccz_lattice_context_free(ctx);
}

static void ternary(void)
{
    lat_prng g;
    CHECK_OK(lat_prng_init(&g));
    int8_t *s = malloc(4 * N);
    CHECK_OK(lat_sample_ternary(&g, 4 * N, s));
    size_t count[3] = {0}, outside = 0, n = 4 * N;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < -1 || s[i] > 1)
            outside++;
        else
            count[s[i] + 1]++;
    }
    double sd = sqrt(n * (1.0 / 3) * (2.0 / 3));
    fprintf(stderr, "ternary: %zu values: %zu of -1, %zu of 0, %zu of 1 (expected %.0f +- %.0f)\n",
            n, count[0], count[1], count[2], n / 3.0, sd);
    CHECK_INT(outside, 0);
    for (int k = 0; k < 3; k++)
        CHECK(fabs((double)count[k] - n / 3.0) < 5 * sd);
    free(s);
    lat_prng_free(&g);
}

static void cbd(void)
{
    lat_prng g;
    CHECK_OK(lat_prng_init(&g));
    int8_t *e = malloc(4 * N);
    size_t n = 4 * N;
    CHECK_OK(lat_sample_cbd(&g, n, e));
    double sum = 0, sq = 0;
    size_t outside = 0, tail = 0;
    for (size_t i = 0; i < n; i++) {
        outside += e[i] < -21 || e[i] > 21;
        sum += e[i];
        sq += (double)e[i] * e[i];
        tail += abs(e[i]) >= 7; /* P(|e| >= 7) = 0.0436 */
    }
    double mean = sum / (double)n, var = sq / (double)n - mean * mean;
    /* the binomial's fourth central moment: 3 sigma^4 - sigma^2 / 2 (42 fair coins less 42) */
    double sd_var = sqrt((3 * 10.5 * 10.5 - 10.5 / 2 - 10.5 * 10.5) / (double)n);
    double p_tail = 0;
    for (int k = 7; k <= 21; k++) { /* P(X - 21 = k) for X ~ Binomial(42, 1/2), both signs */
        double lc = lgamma(43) - lgamma(22 + k) - lgamma(22 - k) - 42 * log(2);
        p_tail += 2 * exp(lc);
    }
    double sd_tail = sqrt(p_tail * (1 - p_tail) / (double)n);
    fprintf(stderr,
            "centred binomial: %zu values, mean %.4f, variance %.3f (10.5 +- %.3f), |e| >= 7: "
            "%.5f (expected %.5f)\n",
            n, mean, var, sd_var, (double)tail / (double)n, p_tail);
    CHECK_INT(outside, 0);
    CHECK(fabs(mean) < 5 * sqrt(10.5 / (double)n));
    CHECK(fabs(var - 10.5) < 5 * sd_var);
    CHECK(fabs((double)tail / (double)n - p_tail) < 5 * sd_tail);
    free(e);
    lat_prng_free(&g);
}

static void streams(void)
{
    uint8_t seed[32] = {1, 2, 3}, other[32] = {1, 2, 4}, a[64], b[64];
    lat_prng g, h;
    CHECK_OK(lat_prng_init_seed(&g, seed));
    CHECK_OK(lat_prng_init_seed(&h, seed));
    CHECK_OK(lat_prng_bytes(&g, a, sizeof a));
    CHECK_OK(lat_prng_bytes(&h, b, sizeof b));
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, a + 32, 32) != 0); /* the stream moves on */
    lat_prng_free(&h);
    CHECK_OK(lat_prng_init_seed(&h, other));
    CHECK_OK(lat_prng_bytes(&h, b, sizeof b));
    CHECK(memcmp(a, b, sizeof a) != 0);
    lat_prng_free(&g);
    lat_prng_free(&h);
    CHECK_OK(lat_prng_init(&g));
    CHECK_OK(lat_prng_init(&h));
    CHECK_OK(lat_prng_bytes(&g, a, sizeof a));
    CHECK_OK(lat_prng_bytes(&h, b, sizeof b));
    CHECK(memcmp(a, b, sizeof a) != 0);
    /* a stream read in pieces across the buffer's refill is the stream read at once */
    uint8_t *whole = malloc(20000), *pieces = malloc(20000);
    lat_prng_free(&g);
    lat_prng_free(&h);
    CHECK_OK(lat_prng_init_seed(&g, seed));
    CHECK_OK(lat_prng_init_seed(&h, seed));
    CHECK_OK(lat_prng_bytes(&g, whole, 20000));
    for (size_t at = 0; at < 20000; at += 333)
        CHECK_OK(lat_prng_bytes(&h, pieces + at, at + 333 <= 20000 ? 333 : 20000 - at));
    CHECK(memcmp(whole, pieces, 20000) == 0);
    free(whole);
    free(pieces);
    lat_prng_free(&g);
    lat_prng_free(&h);
}

TEST_MAIN(T(uniform), T(ternary), T(cbd), T(streams))
