/* SPDX-License-Identifier: Apache-2.0 */
/* The AVX-512 transforms and vector kernels give the same words as the portable ones, for
 * primes below 2^50 (IFMA where the CPU has it) and above. Without AVX-512 there is nothing to
 * compare the portable path with: the binary reports skipped (77), never a pass, before any
 * check; so does CCZ_CPU=portable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/lattice.h"
#include "lattice/lat.h"
#include "test.h"

static uint64_t rnd_state = 0x452821e638d01377ull;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void require_avx512(void)
{
    lat_set_avx512(true);
    if (!lat_avx512())
        test_skip(true, "no AVX-512 path here (CPU without AVX-512F/DQ, or CCZ_CPU=portable): "
                        "the portable path would be compared with itself");
    printf("comparing %s with portable\n", lat_ifma() ? "avx512-ifma" : "avx512");
}

static void test_transforms_same_words(void)
{
    unsigned bits[] = {20, 30, 45, 49, 50, 51, 55, 60, 61};
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++)
        for (unsigned log_n = 4; log_n <= 14; log_n += (log_n < 8 ? 1 : 3)) {
            size_t n = (size_t)1 << log_n;
            if (bits[bi] <= log_n + 2)
                continue;
            uint64_t q;
            CHECK_OK(lat_primes(&q, 1, bits[bi], n, NULL, 0));
            lat_ntt t;
            CHECK_OK(lat_ntt_init(&t, q, log_n));
            uint64_t *a = malloc(n * 8), *c = malloc(n * 8), *d = malloc(n * 8);
            for (size_t i = 0; i < n; i++)
                a[i] = rnd() % q;
            a[0] = q - 1; /* extremes */
            a[n - 1] = 0;
            memcpy(c, a, n * 8);
            memcpy(d, a, n * 8);
            lat_ntt_forward_portable(&t, c);
            lat_ntt_forward(&t, d);
            CHECK(memcmp(c, d, n * 8) == 0);
            CHECK(memcmp(c, a, n * 8) != 0); /* the transform did something */
            /* the inverse on both paths, from the same (forward) words */
            lat_ntt_inverse_portable(&t, c);
            lat_ntt_inverse(&t, d);
            CHECK(memcmp(c, d, n * 8) == 0);
            CHECK(memcmp(c, a, n * 8) == 0);
            free(a), free(c), free(d);
            lat_ntt_free(&t);
        }
}

/* The 52-bit (IFMA) tables exist exactly for primes below 2^50: their values reach 4q, and
 * IFMA reads 52 bits. The largest 50-bit prime has them, the smallest 51-bit one does not, and
 * both transform as the portable path does (test_transforms_same_words, bits 50 and 51). */
static void test_ifma_tables_bound(void)
{
    uint64_t below, above;
    CHECK_OK(lat_primes(&below, 1, 50, 1024, NULL, 0));
    for (above = (1ull << 50) + 1; !lat_is_prime(above); above += 2048)
        ;
    lat_ntt t;
    CHECK_OK(lat_ntt_init(&t, below, 10));
    CHECK(t.root_s52 != NULL && t.iroot_s52 != NULL && t.sp_s52[0] != NULL);
    lat_ntt_free(&t);
    CHECK_OK(lat_ntt_init(&t, above, 10));
    CHECK(t.root_s52 == NULL && t.iroot_s52 == NULL && t.sp_s52[0] == NULL && !t.inv_grow);
    lat_ntt_free(&t);
}

/* the vector kernels: both paths, the same words (tails included) */
/* Every pass layout of the fused transforms (n = 2^7 .. 2^15: passes of 3 and 2 stages before
 * the last three) on the inputs that push the lazy bounds furthest (all q - 1, q - 1 and 0 in
 * turn, random), on the IFMA path and on the 64-bit one for the same primes below 2^50 (without
 * their 52-bit constants, as on a CPU without IFMA), and above 2^50 up to 2^61. */
static void test_transforms_bounds(void)
{
    unsigned bits[] = {30, 49, 50, 51, 59, 60, 61};
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++)
        for (unsigned log_n = 7; log_n <= 15; log_n++) {
            size_t n = (size_t)1 << log_n;
            uint64_t q;
            CHECK_OK(lat_primes(&q, 1, bits[bi], n, NULL, 0));
            lat_ntt t;
            CHECK_OK(lat_ntt_init(&t, q, log_n));
            uint64_t *a = malloc(n * 8), *c = malloc(n * 8), *d = malloc(n * 8);
            for (int path = 0; path < 2; path++) {
                if (path == 1) { /* the 64-bit path for primes below 2^50 too */
                    if (!t.root_s52)
                        break;
                    t.root_s52 = NULL;
                    t.iroot_s52 = NULL;
                }
                for (int input = 0; input < 3; input++) {
                    for (size_t i = 0; i < n; i++)
                        a[i] = input == 0 ? q - 1 : input == 1 ? (i & 1 ? 0 : q - 1) : rnd() % q;
                    memcpy(c, a, n * 8);
                    memcpy(d, a, n * 8);
                    lat_ntt_forward_portable(&t, c);
                    lat_ntt_forward(&t, d);
                    CHECK(memcmp(c, d, n * 8) == 0);
                    /* the inverse from the same words, and from the same extremes */
                    lat_ntt_inverse_portable(&t, c);
                    lat_ntt_inverse(&t, d);
                    CHECK(memcmp(c, d, n * 8) == 0);
                    CHECK(memcmp(c, a, n * 8) == 0);
                    for (size_t i = 0; i < n; i++)
                        c[i] = d[i] = q - 1 - (input == 1 ? i & 1 : 0);
                    lat_ntt_inverse_portable(&t, c);
                    lat_ntt_inverse(&t, d);
                    CHECK(memcmp(c, d, n * 8) == 0);
                }
            }
            free(a), free(c), free(d);
            lat_ntt_free(&t);
        }
}

/* The inverse transform that lets its values grow (lat.c, inverse_may_grow: 2^(L + 1) q <= 2^52)
 * at its bound: the largest prime it admits and the smallest above, at the degrees of the
 * batching NTT and the largest, on the inputs that reach the bound (every word 2q - 1: the last
 * stage's sum is n (2q - 1)), every word q - 1, q - 1 and 0 in turn, random, and for each
 * stage blocks of 0 and 2q - 1 in turn at its distance (the y of its butterflies at the stage's
 * bound, the x at 0: x - y + K is smallest); the same words as the portable transform, and the
 * forward transform's inverse (of the inputs modulo q). */
static void test_inverse_grow_bound(void)
{
    static const unsigned log_ns[] = {7, 13, 14, 17};
    for (size_t li = 0; li < sizeof log_ns / sizeof log_ns[0]; li++) {
        unsigned log_n = log_ns[li];
        size_t n = (size_t)1 << log_n;
        uint64_t edge = (1ull << 51) >> log_n, qs[2];
        /* the largest prime 1 mod 2n at or below the edge, and the smallest above it */
        CHECK_OK(lat_primes(&qs[0], 1, 51 - log_n, n, NULL, 0));
        for (qs[1] = edge + 1; !lat_is_prime(qs[1]); qs[1] += 2 * n)
            ;
        uint64_t *a = malloc(n * 8), *c = malloc(n * 8), *d = malloc(n * 8);
        for (int e = 0; e < 2; e++) {
            lat_ntt t;
            CHECK_OK(lat_ntt_init(&t, qs[e], log_n));
            CHECK(t.inv_grow == (e == 0));
            uint64_t q = qs[e];
            for (unsigned input = 0; input < 4 + log_n; input++) {
                for (size_t i = 0; i < n; i++)
                    a[i] = input == 0   ? 2 * q - 1
                           : input == 1 ? q - 1
                           : input == 2 ? (i & 1 ? 0 : q - 1)
                           : input == 3 ? rnd() % q
                                        : ((i >> (input - 4)) & 1 ? 2 * q - 1 : 0);
                memcpy(c, a, n * 8);
                memcpy(d, a, n * 8);
                lat_ntt_inverse_portable(&t, c);
                lat_ntt_inverse(&t, d);
                CHECK(memcmp(c, d, n * 8) == 0);
                lat_ntt_forward(&t, d); /* and back */
                size_t bad = 0;
                for (size_t i = 0; i < n; i++)
                    bad += d[i] != a[i] % q;
                CHECK_INT(bad, 0);
            }
            lat_ntt_free(&t);
        }
        free(a), free(c), free(d);
    }
}

/* The transforms below n = 128 (one stage per pass, lane for lane) keep the inverse's sums below
 * 2q at every stage: a sum reduced by q only (below 3q) lets a later difference x - y + 2q go
 * negative where the lazy products (in [q, 2q) when Shoup's quotient is one below) add up. Many
 * random inputs in [0, q) and blocks of q - 1 and 0 at each stage's distance, for primes around
 * both paths' bounds: the same words as the portable inverse, and back to the input. */
static void test_small_inverse_lazy(void)
{
    unsigned bits[] = {30, 45, 49, 50, 51, 59, 61};
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++)
        for (unsigned log_n = 4; log_n <= 6; log_n++) {
            size_t n = (size_t)1 << log_n, bad = 0;
            uint64_t q, a[64], c[64], d[64];
            CHECK_OK(lat_primes(&q, 1, bits[bi], n, NULL, 0));
            lat_ntt t;
            CHECK_OK(lat_ntt_init(&t, q, log_n));
            for (unsigned input = 0; input < 2000; input++) {
                for (size_t i = 0; i < n; i++)
                    a[i] = input < log_n       ? ((i >> input) & 1 ? q - 1 : 0)
                           : input < 2 * log_n ? ((i >> (input - log_n)) & 1 ? 0 : q - 1)
                                               : rnd() % q;
                memcpy(c, a, n * 8);
                memcpy(d, a, n * 8);
                lat_ntt_inverse_portable(&t, c);
                lat_ntt_inverse(&t, d);
                bad += memcmp(c, d, n * 8) != 0;
                lat_ntt_forward(&t, d);
                bad += memcmp(d, a, n * 8) != 0;
            }
            CHECK_INT(bad, 0);
            lat_ntt_free(&t);
        }
}

static void test_kernels_same_words(void)
{
    unsigned bits[] = {17, 30, 43, 49, 50, 55, 61};
    size_t n = 1003, lows = 0;
    uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *w = malloc(n * 8), *ws = malloc(n * 8),
             *o[2][4];
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 4; k++)
            o[p][k] = malloc(n * 8);
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        uint64_t q;
        CHECK_OK(lat_primes(&q, 1, bits[bi], 1024, NULL, 0));
        lat_mod m;
        lat_mod_init(&m, q);
        for (size_t i = 0; i < n; i++) {
            a[i] = i < 4 ? q - 1 - i : rnd() % q;
            b[i] = i < 8 ? q - 1 : rnd() % q;
            w[i] = rnd() % q;
        }
        /* products whose quotient from doubles comes out one below the true one (a remainder
         * in [q, 2q) that the vector path reduces): a b = s mod q for small s, in lanes 8 .. 15 */
        size_t low = 0;
        for (uint64_t s = 1; s < 4096 && low < 8; s++) {
            uint64_t y = rnd() % (q - 1) + 1, x = lat_mul_mod(s, lat_inv_mod(y, &m), &m);
            uint64_t qe = (uint64_t)floor((double)x * (double)y * (1.0 / (double)q));
            if (qe < (uint64_t)(((u128)x * y) / q))
                a[8 + low] = x, b[8 + low] = y, low++;
        }
        lows += low;
        lat_vec_shoup(ws, w, n, q);
        for (int path = 0; path < 2; path++) {
            lat_set_avx512(path == 0);
            lat_vec_mulmod(o[path][0], a, b, n, &m);
            lat_vec_mul_w(o[path][1], a, w, ws, n, q);
            memcpy(o[path][2], b, n * 8);
            lat_vec_mul_w_add(o[path][2], a, w, ws, n, q);
            lat_vec_sub(o[path][3], a, b, n, q);
        }
        lat_set_avx512(true);
        for (int k = 0; k < 4; k++)
            CHECK(memcmp(o[0][k], o[1][k], n * 8) == 0);
        for (size_t i = 8; i < 8 + low; i++)
            CHECK_INT(o[0][0][i], lat_mul_mod(a[i], b[i], &m));
    }
    CHECK(lows >= 8);
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 4; k++)
            free(o[p][k]);
    free(a), free(b), free(w), free(ws);
}

/* lat_vec_dot_c keeps its sum below 2q after every term, whatever the number of terms: the lazy
 * products (a 52-bit Shoup quotient one below the true one) are q + d with d up to about q / 4
 * for q near 2^50, so a sum kept below 3q only would creep up by d per term. Ten such products
 * (d above q / 8) after k0 = q - 1: fully reduced on both paths, in the vector part and the
 * tail. */
static void test_dot_c_lazy_terms(void)
{
    enum { N = 19, K = 10 };
    uint64_t q, y = 0, w = 0;
    CHECK_OK(lat_primes(&q, 1, 50, 1024, NULL, 0));
    for (int tries = 0; tries < 10000000 && !w; tries++) {
        uint64_t yy = q - 1 - rnd() % (q / 8), ww = rnd() % q, s = lat_shoup_w(ww, q);
        uint64_t lazy = yy * ww - (uint64_t)(((u128)yy * s) >> 52) * q;
        if (lazy >= q + q / 8)
            y = yy, w = ww;
    }
    CHECK(w != 0);
    lat_mod m;
    lat_mod_init(&m, q);
    uint64_t col[N], o[2][N], c[K], cs[K];
    const uint64_t *in[K];
    for (int i = 0; i < K; i++)
        c[i] = w, cs[i] = lat_shoup_w(w, q), in[i] = col;
    for (size_t x = 0; x < N; x++)
        col[x] = y;
    uint64_t want = lat_add_mod(q - 1, lat_mul_mod(K, lat_mul_mod(y, w, &m), &m), q);
    for (int path = 0; path < 2; path++) {
        lat_set_avx512(path == 0);
        lat_vec_dot_c(o[path], in, c, cs, K, q - 1, N, q);
    }
    lat_set_avx512(true);
    for (size_t x = 0; x < N; x++) {
        CHECK_INT(o[0][x], want);
        CHECK_INT(o[1][x], want);
    }
}

/* The kernels of the rescale, the base conversions and BFV's scale-and-round (sums, products by a
 * constant, dot products, rounded sums, centred residues): both paths, the same words, with edge
 * inputs in the vector part and in the tail: q - 1, and for the centred residues p / 2 and its
 * neighbours (where the centred value changes sign), 0 and p - 1. */
static void test_conversion_kernels_same_words(void)
{
    unsigned bits[] = {17, 30, 49, 50, 55, 61};
    size_t n = 1003;
    static const size_t at[] = {0, 1, 2, 3, 4, 1000, 1001, 1002, 998, 999};
    size_t highs = 0, lows = 0;
    uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *y = malloc(n * 8), *z = malloc(n * 8),
             *o[2][6];
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 6; k++)
            o[p][k] = malloc(n * 8);
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        uint64_t q, big;
        CHECK_OK(lat_primes(&q, 1, bits[bi], 1024, NULL, 0));
        CHECK_OK(lat_primes(&big, 1, 61, 1024, &q, 1)); /* an odd p < 2^62 */
        lat_mod m;
        lat_mod_init(&m, q);
        uint64_t half = big >> 1, cp = lat_reduce64(big, &m), c = q - 1 - (q >> 3);
        uint64_t cs = lat_shoup_w(c, q), edges[] = {half, half + 1, half - 1, 0, big - 1};
        for (size_t i = 0; i < n; i++) {
            a[i] = i < 4 ? q - 1 - i : rnd() % q;
            b[i] = i < 8 || i >= n - 2 ? q - 1 : rnd() % q;
            y[i] = rnd() % big;
            z[i] = y[i] >> 9; /* below 2^53 */
        }
        for (size_t e = 0; e < sizeof at / sizeof at[0]; e++)
            y[at[e]] = edges[e % 5];
        /* k q - j (below p) whose quotient from doubles is k, one above the true one: the
         * remainder is negative and needs q added (lanes 8 .. 15) */
        size_t high = 0;
        for (uint64_t k = (big - 1) / q; k > 0 && k + 100000 > (big - 1) / q && high < 8; k--)
            for (uint64_t j = 1; j < 64 && high < 8; j++) {
                uint64_t v = k * q - j;
                if (floor((double)v * (1.0 / (double)q)) >= (double)k)
                    y[8 + high++] = v;
            }
        highs += high;
        /* k q + j (at most p / 2) whose quotient from doubles is below k, the true one: the
         * remainder is in [q, 2q) and needs q taken away (lanes 16 .. 23) */
        size_t low = 0;
        for (uint64_t k = half / q; k > 0 && k + 100000 > half / q && low < 8; k--)
            for (uint64_t j = 0; j < 64 && j < q && low < 8; j++) {
                uint64_t v = k * q + j;
                if (v <= half && floor((double)v * (1.0 / (double)q)) < (double)k)
                    y[16 + low++] = v;
            }
        lows += low;
        const uint64_t *in[3] = {a, b, a}, *ry[2] = {a, z};
        uint64_t cc[3] = {c, q - 1, 1}, ccs[3];
        for (int i = 0; i < 3; i++)
            ccs[i] = lat_shoup_w(cc[i], q);
        double inv[2] = {1.0 / (double)q, 3.0 / (double)(big >> 9)};
        for (int path = 0; path < 2; path++) {
            lat_set_avx512(path == 0);
            lat_vec_add(o[path][0], a, b, n, q);
            memcpy(o[path][1], b, n * 8);
            lat_vec_mul_c_add(o[path][1], a, c, n, q);
            lat_vec_dot_c(o[path][2], in, cc, ccs, 3, q - 1, n, q);
            lat_vec_round_sum(o[path][3], ry, inv, 2, n);
            lat_vec_centred_mod(o[path][4], y, big, cp, n, q);
            lat_vec_sub_mul_c(o[path][5], a, b, c, cs, n, q);
        }
        lat_set_avx512(true);
        for (int k = 0; k < 6; k++)
            CHECK(memcmp(o[0][k], o[1][k], n * 8) == 0);
        /* the centred residues with a tail of one word (n = 9): written too */
        for (int path = 0; path < 2; path++) {
            lat_set_avx512(path == 0);
            o[path][4][8] = ~0ull;
            lat_vec_centred_mod(o[path][4], y, big, cp, 9, q);
        }
        lat_set_avx512(true);
        CHECK(memcmp(o[0][4], o[1][4], 9 * 8) == 0);
        CHECK_INT(o[0][4][8], y[8] > half ? lat_sub_mod(y[8] % q, cp, q) : y[8] % q);
        for (size_t i = 8; i < 8 + high; i++)
            CHECK_INT(o[0][4][i], y[i] > half ? lat_sub_mod(y[i] % q, cp, q) : y[i] % q);
        for (size_t i = 16; i < 16 + low; i++)
            CHECK_INT(o[0][4][i], y[i] % q);
        /* p / 2 is its own centred value, p / 2 + 1 is p / 2 + 1 - p (front and tail) */
        CHECK(o[0][4][0] == half % q && o[0][4][1000] == half % q);
        CHECK(o[0][4][1] == lat_sub_mod((half + 1) % q, cp, q));
        CHECK(o[0][4][1001] == lat_sub_mod((half + 1) % q, cp, q));
        CHECK(o[0][4][2] == (half - 1) % q && o[0][4][3] == 0 && o[0][4][998] == 0);
    }
    CHECK(highs >= 8);
    CHECK(lows >= 8);
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 6; k++)
            free(o[p][k]);
    free(a), free(b), free(y), free(z);
}

/* What the comparisons rest on: lat_set_avx512(false) takes every kernel and transform to the
 * portable path (IFMA's too), true back to the CPU's; the public name says which. */
static void test_path_switch(void)
{
    lat_set_avx512(false);
    CHECK(!lat_avx512());
    CHECK(!lat_ifma());
    CHECK_STR(ccz_lattice_simd(), "portable");
    lat_set_avx512(true);
    CHECK(lat_avx512());
    CHECK_STR(ccz_lattice_simd(), lat_ifma() ? "avx512-ifma" : "avx512");
    /* CCZ_CPU=avx512 (lattice/test_ntt_paths_avx512): AVX-512 without IFMA, whatever the CPU */
    const char *cpu = getenv("CCZ_CPU");
    if (cpu && strcmp(cpu, "avx512") == 0) {
        CHECK(!lat_ifma());
        CHECK_STR(ccz_lattice_simd(), "avx512");
    }
}

int main(int argc, char **argv)
{
    require_avx512();
    static const test_case cases[] = {
        T(test_transforms_same_words), T(test_transforms_bounds),
        T(test_ifma_tables_bound),     T(test_inverse_grow_bound),
        T(test_kernels_same_words),    T(test_conversion_kernels_same_words),
        T(test_dot_c_lazy_terms),      T(test_path_switch),
        T(test_small_inverse_lazy)};
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
