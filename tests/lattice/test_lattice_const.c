/* SPDX-License-Identifier: Apache-2.0 */
/* What encrypted LR inference added to CKKS. Products by constants at a chosen scale
 * (ccz_lattice_ckks_mul_const_at and _add): a weighted sum of ciphertexts against the same sum
 * in the clear, before and after the rescale that brings it back to the data's scale (the
 * constants at the scale of the last prime), and the arguments refused: another scale, another
 * level, the accumulator as the operand, a constant too large for 2^62, a BFV context;
 * ciphertext_size after a product. Seeded ciphertexts (ccz_lattice_encrypt_sk_save): half the
 * bytes, decrypted as encrypted at every level, two never alike, usable in products; a byte
 * short or over, another context, a changed seed or component; BFV refused. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    CHECK_STR(ccz_error_detail(), "bad scale");
    /* an infinite scale is a bad scale, not a constant that overflows */
    CHECK_STATUS(ccz_lattice_ckks_mul_const_at(acc, ctx, ct[0], 1.0, INFINITY),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad scale");
    CHECK_STATUS(ccz_lattice_ckks_mul_const_at(acc, ctx, ct[0], 1.0, 0.5),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad scale");
    CHECK_OK(ccz_lattice_mul(one, ctx, ct[0], ct[1], NULL));
    CHECK_INT(ccz_lattice_ciphertext_size(one), 3);
    /* an operand of three components into an accumulator of two */
    CHECK_STATUS(ccz_lattice_ckks_mul_const_add(acc, ctx, one, 1.0, wscale),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "accumulator at level 3 with 2 components, operand at level 3 with 3");

    ccz_lattice_params b;
    ccz_lattice_context *bctx;
    ccz_lattice_ciphertext *bct;
    CHECK_OK(ccz_lattice_preset(&b, CCZ_LATTICE_BFV, 12));
    CHECK_OK(ccz_lattice_context_new(&bctx, &b));
    CHECK_OK(ccz_lattice_ciphertext_new(&bct, bctx));
    CHECK_STATUS(ccz_lattice_ckks_mul_const_at(bct, bctx, bct, 1.0, 2.0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a CKKS operation on a BFV context");
    /* a rescale neither: BFV drops a prime by ccz_lattice_mod_switch, which keeps t's bound */
    CHECK_STATUS(ccz_lattice_ckks_rescale(bct, bctx), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a CKKS operation on a BFV context");
    CHECK_STATUS(ccz_lattice_ckks_rescale_to(bct, bctx, bct), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a CKKS operation on a BFV context");
    CHECK_STATUS(ccz_lattice_ckks_mul_const(bct, bctx, bct, 1.0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a CKKS operation on a BFV context");
    CHECK_INT(ccz_lattice_ciphertext_level(bct), 2);
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

static void test_seeded(void)
{
    ccz_lattice_params p, o;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 13));
    CHECK_OK(ccz_lattice_preset(&o, CCZ_LATTICE_CKKS, 12));
    ccz_lattice_context *ctx, *other;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_context_new(&other, &o));
    CHECK_OK(ccz_lattice_keygen(&sk, &pk, ctx));
    CHECK_OK(ccz_lattice_relin_keygen(&rk, ctx, sk));
    size_t slots = ccz_lattice_slots(ctx);
    double *x = calloc(slots, sizeof *x);
    double complex *want = calloc(slots, sizeof *want), *got = calloc(slots, sizeof *got);
    for (size_t i = 0; i < slots; i++) {
        x[i] = cos((double)i) * 3;
        want[i] = x[i];
    }
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct, *oct;
    CHECK_OK(ccz_lattice_plaintext_new(&pt, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&oct, other));
    ccz_buf seeded = CCZ_BUF_INIT, again = CCZ_BUF_INIT, full = CCZ_BUF_INIT;
    for (unsigned level = 1; level <= 3; level++) {
        CHECK_OK(ccz_lattice_ckks_encode_real(pt, ctx, x, slots, p.scale, level));
        ccz_buf_reset(&seeded);
        ccz_buf_reset(&full);
        CHECK_OK(ccz_lattice_encrypt_sk_save(&seeded, ctx, sk, pt));
        CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)));
        CHECK_INT(ccz_lattice_ciphertext_level(ct), level);
        CHECK_OK(ccz_lattice_ciphertext_save(&full, ct));
        CHECK(seeded.len < full.len / 2 + 64); /* c0 and a seed instead of c0 and c1 */
        CHECK_OK(ccz_lattice_decrypt(pt, ctx, sk, ct));
        CHECK_OK(ccz_lattice_ckks_decode(got, ctx, pt));
        CHECK(ccz_lattice_ckks_precision_bits(want, got, slots) > 25);
    }
    /* fresh randomness each time; the product of two seeded ciphertexts decrypts right */
    CHECK_OK(ccz_lattice_ckks_encode_real(pt, ctx, x, slots, p.scale, 0));
    ccz_buf_reset(&seeded);
    CHECK_OK(ccz_lattice_encrypt_sk_save(&seeded, ctx, sk, pt));
    CHECK_OK(ccz_lattice_encrypt_sk_save(&again, ctx, sk, pt));
    CHECK(seeded.len == again.len && memcmp(seeded.ptr, again.ptr, seeded.len) != 0);
    ccz_lattice_ciphertext *b;
    CHECK_OK(ccz_lattice_ciphertext_new(&b, ctx));
    CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)));
    CHECK_OK(ccz_lattice_ciphertext_load(b, ctx, ccz_buf_span(&again)));
    CHECK_OK(ccz_lattice_mul(ct, ctx, ct, b, rk));
    CHECK_OK(ccz_lattice_ckks_rescale(ct, ctx));
    for (size_t i = 0; i < slots; i++)
        want[i] = x[i] * x[i];
    CHECK_OK(ccz_lattice_decrypt(pt, ctx, sk, ct));
    CHECK_OK(ccz_lattice_ckks_decode(got, ctx, pt));
    CHECK(ccz_lattice_ckks_precision_bits(want, got, slots) > 15);
    for (size_t i = 0; i < slots; i++)
        want[i] = x[i];
    /* into a ciphertext whose storage was shrunk to one level: the load makes room for its
     * three (ASan sees a write past the old storage otherwise) */
    CHECK_OK(ccz_lattice_ciphertext_load(b, ctx, ccz_buf_span(&seeded)));
    CHECK_OK(ccz_lattice_mod_switch(b, ctx));
    CHECK_OK(ccz_lattice_mod_switch(b, ctx));
    CHECK_INT(ccz_lattice_ciphertext_level(b), 1);
    CHECK_OK(ccz_lattice_ciphertext_shrink(b));
    CHECK_OK(ccz_lattice_ciphertext_load(b, ctx, ccz_buf_span(&seeded)));
    CHECK_INT(ccz_lattice_ciphertext_level(b), 3);
    CHECK_OK(ccz_lattice_decrypt(pt, ctx, sk, b));
    CHECK_OK(ccz_lattice_ckks_decode(got, ctx, pt));
    CHECK(ccz_lattice_ckks_precision_bits(want, got, slots) > 15);
    /* refused: a byte short, a byte over, another context */
    CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, CCZ_SPAN(seeded.ptr, seeded.len - 1)),
                 CCZ_ERR_TRUNCATED);
    CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, CCZ_SPAN(seeded.ptr, 40)), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "seeded ciphertext: incomplete");
    { /* the fields whole, no residue: refused before c0's memory is reserved (20 bytes of header,
       * 3, the scale's 8, the seed's 32) */
        char cut_msg[120];
        snprintf(cut_msg, sizeof cut_msg,
                 "the data ends early: a seeded ciphertext of %zu bytes, 0 remain",
                 seeded.len - 63);
        CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, CCZ_SPAN(seeded.ptr, 63)),
                     CCZ_ERR_TRUNCATED);
        CHECK_STR(ccz_error_detail(), cut_msg);
    }
    CHECK_OK(ccz_buf_append_u8(&again, 0));
    CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&again)), CCZ_ERR_TRAILING_DATA);
    CHECK_STATUS(ccz_lattice_ciphertext_load(oct, other, ccz_buf_span(&seeded)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "the seeded ciphertext was made with other parameters");
    /* a changed seed (at 31: 20 bytes of header, 3, the scale's 8) gives another c1: decryption
     * is noise, not the value */
    seeded.ptr[31] ^= 1;
    CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)));
    CHECK_OK(ccz_lattice_decrypt(pt, ctx, sk, ct));
    CHECK_OK(ccz_lattice_ckks_decode(got, ctx, pt));
    CHECK(ccz_lattice_ckks_precision_bits(want, got, slots) < 0);
    seeded.ptr[31] ^= 1;
    /* a header that lies (at 20: components, level, form): three components, BFV's form, a
     * level the chain does not have */
    seeded.ptr[20] = 3;
    CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "seeded ciphertext: 3 components, form 1");
    seeded.ptr[20] = 2;
    seeded.ptr[22] = 0;
    CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)), CCZ_ERR_MALFORMED);
    seeded.ptr[22] = 1;
    seeded.ptr[21] = 4;
    CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "seeded ciphertext: level 4 (the chain has 3 data primes)");
    { /* a CKKS plaintext of level 200, a full CKKS ciphertext of scale 0 */
        ccz_buf pl = CCZ_BUF_INIT;
        CHECK_OK(ccz_lattice_ckks_encode_real(pt, ctx, x, slots, p.scale, 0));
        CHECK_OK(ccz_lattice_plaintext_save(&pl, pt));
        CHECK_OK(ccz_lattice_plaintext_load(pt, ctx, ccz_buf_span(&pl)));
        pl.ptr[20] = 200;
        CHECK_STATUS(ccz_lattice_plaintext_load(pt, ctx, ccz_buf_span(&pl)), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "plaintext: level 200");
        ccz_buf_free(&pl);
        seeded.ptr[21] = 3;
        CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)));
        ccz_buf_reset(&full);
        CHECK_OK(ccz_lattice_ciphertext_save(&full, ct));
        CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&full)));
        memset(full.ptr + 23, 0, 8); /* the scale: 0.0 */
        CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&full)), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "ciphertext: bad scale");
        static const double bad_scales[] = {INFINITY, 0.5};
        for (size_t i = 0; i < 2; i++) {
            memcpy(full.ptr + 23, &bad_scales[i], 8); /* little-endian, as saved */
            CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&full)),
                         CCZ_ERR_MALFORMED);
            CHECK_STR(ccz_error_detail(), "ciphertext: bad scale");
        }
    }
    { /* a seeded ciphertext of level 0, or of scale 0; a CKKS plaintext of level 0, of scale 0, or with a byte after its end */
        uint8_t keep[8];
        seeded.ptr[21] = 0;
        CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)),
                     CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "seeded ciphertext: level 0 (the chain has 3 data primes)");
        seeded.ptr[21] = 3;
        CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)));
        memcpy(keep, seeded.ptr + 23, 8);
        memset(seeded.ptr + 23, 0, 8);
        CHECK_STATUS(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&seeded)),
                     CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "seeded ciphertext: bad scale");
        memcpy(seeded.ptr + 23, keep, 8);
        ccz_buf pl = CCZ_BUF_INIT;
        CHECK_OK(ccz_lattice_ckks_encode_real(pt, ctx, x, slots, p.scale, 0));
        CHECK_OK(ccz_lattice_plaintext_save(&pl, pt));
        pl.ptr[20] = 0;
        CHECK_STATUS(ccz_lattice_plaintext_load(pt, ctx, ccz_buf_span(&pl)), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "plaintext: level 0");
        pl.ptr[20] = 3;
        memcpy(keep, pl.ptr + 21, 8);
        memset(pl.ptr + 21, 0, 8);
        CHECK_STATUS(ccz_lattice_plaintext_load(pt, ctx, ccz_buf_span(&pl)), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "plaintext: bad scale");
        memcpy(pl.ptr + 21, keep, 8);
        CHECK_OK(ccz_lattice_plaintext_load(pt, ctx, ccz_buf_span(&pl)));
        CHECK_OK(ccz_buf_append_u8(&pl, 0));
        CHECK_STATUS(ccz_lattice_plaintext_load(pt, ctx, ccz_buf_span(&pl)), CCZ_ERR_TRAILING_DATA);
        CHECK_STR(ccz_error_detail(), "plaintext: 1 bytes after the end");
        /* the level and scale cut short (the header's 20 bytes, the level, 7 of the scale's 8) */
        CHECK_STATUS(ccz_lattice_plaintext_load(pt, ctx, CCZ_SPAN(pl.ptr, 28)), CCZ_ERR_TRUNCATED);
        CHECK_STR(ccz_error_detail(), "plaintext: incomplete");
        ccz_buf_free(&pl);
    }
    /* BFV has none */
    ccz_lattice_params bp;
    ccz_lattice_context *bctx;
    ccz_lattice_secret_key *bsk;
    ccz_lattice_plaintext *bpt;
    ccz_buf bb = CCZ_BUF_INIT;
    uint64_t one = 1;
    CHECK_OK(ccz_lattice_preset(&bp, CCZ_LATTICE_BFV, 12));
    CHECK_OK(ccz_lattice_context_new(&bctx, &bp));
    CHECK_OK(ccz_lattice_keygen(&bsk, NULL, bctx));
    CHECK_OK(ccz_lattice_plaintext_new(&bpt, bctx));
    CHECK_OK(ccz_lattice_bfv_encode(bpt, bctx, &one, 1));
    CHECK_STATUS(ccz_lattice_encrypt_sk_save(&bb, bctx, bsk, bpt), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(ccz_lattice_encrypt_sk_save(&bb, ctx, bsk, pt), CCZ_ERR_INVALID_ARGUMENT);
    { /* nor does it load one: a seeded header under the BFV context's fingerprint (two components, level 1, NTT form, scale 1, a seed, c0 of zeros) */
        CHECK_OK(ccz_lattice_secret_key_save(&bb, bsk));
        bb.len = 20;
        bb.ptr[5] = 8;
        static const uint8_t head[3] = {2, 1, 1};
        double one_scale = 1;
        uint8_t seed[32] = {0};
        CHECK_OK(ccz_buf_append(&bb, head, 3));
        CHECK_OK(ccz_buf_append(&bb, &one_scale, 8));
        CHECK_OK(ccz_buf_append(&bb, seed, 32));
        unsigned nq;
        uint64_t q0 = ccz_lattice_context_primes(&nq, bctx)[0];
        size_t bn = ccz_lattice_slots(bctx), w = 64 - (size_t)__builtin_clzll(q0 - 1);
        for (size_t i = 0; i < (bn * w + 7) / 8; i++)
            CHECK_OK(ccz_buf_append_u8(&bb, 0));
        ccz_lattice_ciphertext *bct;
        CHECK_OK(ccz_lattice_ciphertext_new(&bct, bctx));
        CHECK_STATUS(ccz_lattice_ciphertext_load(bct, bctx, ccz_buf_span(&bb)), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "seeded ciphertext: 2 components, form 1");
        ccz_lattice_ciphertext_free(bct);
        ccz_buf_free(&bb);
    }
    ccz_lattice_plaintext_free(bpt);
    ccz_lattice_secret_key_free(bsk);
    ccz_lattice_context_free(bctx);

    ccz_buf_free(&seeded);
    ccz_buf_free(&again);
    ccz_buf_free(&full);
    ccz_lattice_ciphertext_free(b);
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_ciphertext_free(oct);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_relin_keys_free(rk);
    ccz_lattice_public_key_free(pk);
    ccz_lattice_secret_key_free(sk);
    ccz_lattice_context_free(ctx);
    ccz_lattice_context_free(other);
    free(x);
    free(want);
    free(got);
}

TEST_MAIN(T(test_weighted_sum), T(test_seeded))
