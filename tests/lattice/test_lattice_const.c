/* SPDX-License-Identifier: Apache-2.0 */
/* CKKS products by constants at a chosen scale (ccz_lattice_ckks_mul_const_at and _add): a
 * weighted sum of ciphertexts against the same sum in the clear, before and after the rescale
 * that brings it back to the data's scale (the constants at the scale of the last prime), and
 * the arguments refused: another scale, another level, the accumulator as the operand, a
 * constant too large for 2^62, a BFV context; ciphertext_size after a product. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "ccz/lattice.h"
#include "test.h"

static void test_weighted_sum(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 13)); /* 60,40,40,60, 2^40 */
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_keygen(&sk, &pk, ctx));
    size_t slots = ccz_lattice_slots(ctx);
    unsigned count;
    const uint64_t *q = ccz_lattice_context_primes(&count, ctx);
    double wscale = (double)q[ccz_lattice_max_level(ctx) - 1]; /* the last data prime */
    enum { K = 5 };
    static const double w[K] = {0.75, -2.5, 0.001, 3.25, -0.125};
    double *x = calloc(slots, sizeof *x);
    double complex *want = calloc(slots, sizeof *want), *got = calloc(slots, sizeof *got);
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct[K], *acc, *one;
    CHECK_OK(ccz_lattice_plaintext_new(&pt, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&acc, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&one, ctx));
    for (int k = 0; k < K; k++) {
        for (size_t i = 0; i < slots; i++) {
            x[i] = sin((double)(i + 1) * (k + 1)) * 2;
            want[i] += w[k] * x[i];
        }
        CHECK_OK(ccz_lattice_ciphertext_new(&ct[k], ctx));
        CHECK_OK(ccz_lattice_ckks_encode_real(pt, ctx, x, slots, p.scale, 0));
        CHECK_OK(ccz_lattice_encrypt(ct[k], ctx, pk, pt));
        CHECK_INT(ccz_lattice_ciphertext_size(ct[k]), 2);
    }
    CHECK_OK(ccz_lattice_ckks_mul_const_at(acc, ctx, ct[0], w[0], wscale));
    CHECK(fabs(ccz_lattice_ciphertext_scale(acc) / (p.scale * wscale) - 1) < 1e-12);
    for (int k = 1; k < K; k++)
        CHECK_OK(ccz_lattice_ckks_mul_const_add(acc, ctx, ct[k], w[k], wscale));
    CHECK_OK(ccz_lattice_decrypt(pt, ctx, sk, acc));
    CHECK_OK(ccz_lattice_ckks_decode(got, ctx, pt));
    CHECK(ccz_lattice_ckks_precision_bits(want, got, slots) > 20);
    CHECK_OK(ccz_lattice_ckks_rescale(acc, ctx));
    CHECK(fabs(ccz_lattice_ciphertext_scale(acc) / p.scale - 1) < 1e-12); /* the data's again */
    CHECK_OK(ccz_lattice_decrypt(pt, ctx, sk, acc));
    CHECK_OK(ccz_lattice_ckks_decode(got, ctx, pt));
    CHECK(ccz_lattice_ckks_precision_bits(want, got, slots) > 20);

    /* refused */
    CHECK_OK(ccz_lattice_ckks_mul_const_at(acc, ctx, ct[0], w[0], wscale));
    CHECK_STATUS(ccz_lattice_ckks_mul_const_add(acc, ctx, ct[1], 1.0, wscale * 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "scales");
    CHECK_STATUS(ccz_lattice_ckks_mul_const_add(acc, ctx, acc, 1.0, wscale),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the accumulator is the operand");
    CHECK_OK(ccz_lattice_ciphertext_copy(one, ct[1]));
    CHECK_OK(ccz_lattice_mod_switch(one, ctx));
    CHECK_STATUS(ccz_lattice_ckks_mul_const_add(acc, ctx, one, 1.0, wscale),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "accumulator at level 3");
    CHECK_STATUS(ccz_lattice_ckks_mul_const_at(acc, ctx, ct[0], 1e9, 0x1p40), CCZ_ERR_OVERFLOW);
    CHECK_STATUS(ccz_lattice_ckks_mul_const_at(acc, ctx, ct[0], 1.0, NAN),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(ccz_lattice_mul(one, ctx, ct[0], ct[1], NULL));
    CHECK_INT(ccz_lattice_ciphertext_size(one), 3);

    ccz_lattice_params b;
    ccz_lattice_context *bctx;
    ccz_lattice_ciphertext *bct;
    CHECK_OK(ccz_lattice_preset(&b, CCZ_LATTICE_BFV, 12));
    CHECK_OK(ccz_lattice_context_new(&bctx, &b));
    CHECK_OK(ccz_lattice_ciphertext_new(&bct, bctx));
    CHECK_STATUS(ccz_lattice_ckks_mul_const_at(bct, bctx, bct, 1.0, 2.0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a CKKS operation on a BFV context");
    ccz_lattice_ciphertext_free(bct);
    ccz_lattice_context_free(bctx);

    for (int k = 0; k < K; k++)
        ccz_lattice_ciphertext_free(ct[k]);
    ccz_lattice_ciphertext_free(acc);
    ccz_lattice_ciphertext_free(one);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_public_key_free(pk);
    ccz_lattice_secret_key_free(sk);
    ccz_lattice_context_free(ctx);
    free(x);
    free(want);
    free(got);
}

TEST_MAIN(T(test_weighted_sum))
