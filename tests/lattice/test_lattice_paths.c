/* SPDX-License-Identifier: Apache-2.0 */
/* Lattice HE on both paths gives the same words: a BFV product, relinearization and rotation,
 * and a CKKS product with its rescale, once with AVX-512 and once portable. Without AVX-512
 * (or with CCZ_CPU=portable) the portable path would be compared with itself: the binary
 * reports skipped (77) before any check. */
#include <complex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "lattice/lattice_internal.h"
#include "lattice_kit.h"
#include "test.h"

static uint64_t rs = 0x13198a2e03707344ull;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* A kit with the one rotation these tests make: 1. */
static void kit_new(lattice_kit *k, ccz_lattice_scheme s, unsigned log_n)
{
    static const int steps[] = {1};
    lattice_kit_new(k, s, log_n, steps, 1, false);
}

/* r1 on the AVX-512 path, r2 on the portable one: the same level and words. */
static void same_words(const ccz_lattice_ciphertext *r1, const ccz_lattice_ciphertext *r2, size_t n)
{
    CHECK_INT(ccz_lattice_ciphertext_level(r1), ccz_lattice_ciphertext_level(r2));
    size_t words = 2 * (size_t)ccz_lattice_ciphertext_level(r1) * n;
    CHECK(memcmp(r1->d, r2->d, words * 8) == 0);
}

static void test_bfv_same_words(void)
{
    lattice_kit k;
    kit_new(&k, CCZ_LATTICE_BFV, 12);
    ccz_lattice_context *ctx = k.ctx;
    size_t n = ccz_lattice_slots(ctx);
    uint64_t *a = malloc(n * 8);
    for (size_t i = 0; i < n; i++)
        a[i] = rnd() % ccz_lattice_context_params(ctx)->plain_modulus;
    ccz_lattice_plaintext *p;
    ccz_lattice_ciphertext *c, *r1, *r2;
    CHECK_OK(ccz_lattice_plaintext_new(&p, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&c, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&r1, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&r2, ctx));
    CHECK_OK(ccz_lattice_bfv_encode(p, ctx, a, n));
    CHECK_OK(ccz_lattice_encrypt(c, ctx, k.pk, p));
    lat_set_avx512(true);
    CHECK_OK(ccz_lattice_mul(r1, ctx, c, c, k.rk));
    CHECK_OK(ccz_lattice_rotate(r1, ctx, r1, 1, k.gk));
    lat_set_avx512(false);
    CHECK_OK(ccz_lattice_mul(r2, ctx, c, c, k.rk));
    CHECK_OK(ccz_lattice_rotate(r2, ctx, r2, 1, k.gk));
    lat_set_avx512(true);
    same_words(r1, r2, n);
    free(a);
    ccz_lattice_plaintext_free(p);
    ccz_lattice_ciphertext_free(c);
    ccz_lattice_ciphertext_free(r1);
    ccz_lattice_ciphertext_free(r2);
    lattice_kit_free(&k);
}

static void test_ckks_same_words(void)
{
    lattice_kit k;
    kit_new(&k, CCZ_LATTICE_CKKS, 13);
    ccz_lattice_context *ctx = k.ctx;
    size_t m = ccz_lattice_slots(ctx), n = 2 * m;
    double complex *x = malloc(m * sizeof *x);
    for (size_t i = 0; i < m; i++)
        x[i] = (double)(rnd() % 2000) / 1000 - 1;
    ccz_lattice_plaintext *p;
    ccz_lattice_ciphertext *c, *r1, *r2;
    CHECK_OK(ccz_lattice_plaintext_new(&p, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&c, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&r1, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&r2, ctx));
    CHECK_OK(ccz_lattice_ckks_encode(p, ctx, x, m, ccz_lattice_context_params(ctx)->scale, 0));
    CHECK_OK(ccz_lattice_encrypt(c, ctx, k.pk, p));
    lat_set_avx512(true);
    CHECK_OK(ccz_lattice_mul(r1, ctx, c, c, k.rk));
    CHECK_OK(ccz_lattice_ckks_rescale(r1, ctx));
    lat_set_avx512(false);
    CHECK_OK(ccz_lattice_mul(r2, ctx, c, c, k.rk));
    CHECK_OK(ccz_lattice_ckks_rescale(r2, ctx));
    lat_set_avx512(true);
    same_words(r1, r2, n);
    free(x);
    ccz_lattice_plaintext_free(p);
    ccz_lattice_ciphertext_free(c);
    ccz_lattice_ciphertext_free(r1);
    ccz_lattice_ciphertext_free(r2);
    lattice_kit_free(&k);
}

/* Batch encoding: the AVX-512 path (whole lines, the inverse NTT growing when t is small) and the
 * portable one give the words of the definition, slot_index scattered then the portable inverse
 * NTT, at every degree and for plain moduli that take the growing NTT (17, 20 bits) and not
 * (45 bits at N >= 2^13, 59 bits), with every slot given (lines) and fewer (slot by slot). */
static void test_bfv_encode_same_words(void)
{
    static const unsigned t_bits[] = {17, 20, 45, 59};
    for (unsigned log_n = 10; log_n <= 15; log_n++)
        for (size_t ti = 0; ti < sizeof t_bits / sizeof t_bits[0]; ti++) {
            ccz_lattice_params p;
            ccz_lattice_context *ctx;
            CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_BFV, 12));
            p.log_n = log_n;
            p.no_security_check = true;
            CHECK_OK(lat_primes(&p.plain_modulus, 1, t_bits[ti], 1u << 15, NULL, 0));
            CHECK_OK(ccz_lattice_context_new(&ctx, &p));
            CHECK(ctx->slot_line != NULL); /* the lines' structure was found */
            size_t n = ctx->n;
            uint64_t t = p.plain_modulus;
            uint64_t *v = malloc(n * 8), *ref = malloc(n * 8), *back = malloc(n * 8);
            for (size_t i = 0; i < n; i++)
                v[i] = i < 16 || i >= n - 16 ? t - 1 : rnd() % t;
            ccz_lattice_plaintext *pa, *pb;
            CHECK_OK(ccz_lattice_plaintext_new(&pa, ctx));
            CHECK_OK(ccz_lattice_plaintext_new(&pb, ctx));
            for (size_t count = n; count + 2 > n; count--) {
                memset(ref, 0, n * 8);
                for (size_t j = 0; j < count; j++)
                    ref[ctx->slot_index[j]] = v[j];
                lat_ntt_inverse_portable(&ctx->tntt, ref);
                lat_set_avx512(true);
                CHECK_OK(ccz_lattice_bfv_encode(pa, ctx, v, count));
                lat_set_avx512(false);
                CHECK_OK(ccz_lattice_bfv_encode(pb, ctx, v, count));
                lat_set_avx512(true);
                CHECK(memcmp(pa->coeffs, ref, n * 8) == 0);
                CHECK(memcmp(pb->coeffs, ref, n * 8) == 0);
            }
            CHECK_OK(ccz_lattice_bfv_encode(pa, ctx, v, n));
            CHECK_OK(ccz_lattice_bfv_decode(back, ctx, pa));
            CHECK(memcmp(back, v, n * 8) == 0);
            free(v), free(ref), free(back);
            ccz_lattice_plaintext_free(pa);
            ccz_lattice_plaintext_free(pb);
            ccz_lattice_context_free(ctx);
        }
}

int main(int argc, char **argv)
{
    lat_set_avx512(true);
    if (!lat_avx512())
        test_skip(true, "no AVX-512 path here (CPU without AVX-512F/DQ, or CCZ_CPU=portable): "
                        "the portable path would be compared with itself");
    printf("comparing %s with portable\n", lat_ifma() ? "avx512-ifma" : "avx512");
    static const test_case cases[] = {T(test_bfv_same_words), T(test_ckks_same_words),
                                      T(test_bfv_encode_same_words)};
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
