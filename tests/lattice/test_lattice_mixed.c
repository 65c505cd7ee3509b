/* SPDX-License-Identifier: Apache-2.0 */
/* Objects of two contexts mixed (src/lattice/eval.c's checks): each entry point refuses a
 * ciphertext, a public or secret key, or relinearization keys made on another context, with
 * CCZ_ERR_INVALID_ARGUMENT and what was of the other context, and takes its own context's. The
 * two contexts have the same parameters: objects of a smaller one would be read or written past
 * their ends. Also the shapes a product and a rotation refuse. */
#include <complex.h>
#include <stdlib.h>
#include <string.h>

#include "lattice_kit.h"
#include "test.h"

static lattice_kit a, b;
static ccz_lattice_plaintext *pt, *ptb;
static ccz_lattice_ciphertext *ca, *cb, *out;

static void refused(ccz_status s, const char *what)
{
    CHECK_STATUS(s, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), what);
}

static void setup(void)
{
    static const int steps[] = {1};
    lattice_kit_new(&a, CCZ_LATTICE_BFV, 12, steps, 1, true);
    lattice_kit_new(&b, CCZ_LATTICE_BFV, 12, steps, 1, false);
    CHECK_OK(ccz_lattice_plaintext_new(&pt, a.ctx));
    CHECK_OK(ccz_lattice_plaintext_new(&ptb, b.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ca, a.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&out, a.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&cb, b.ctx));
    uint64_t v[4] = {1, 2, 3, 4};
    CHECK_OK(ccz_lattice_bfv_encode(pt, a.ctx, v, 4));
    CHECK_OK(ccz_lattice_bfv_encode(ptb, b.ctx, v, 4));
    CHECK_OK(ccz_lattice_encrypt(ca, a.ctx, a.pk, pt));
    CHECK_OK(ccz_lattice_encrypt(cb, b.ctx, b.pk, ptb));
}

static void test_keys_of_another_context(void)
{
    refused(ccz_lattice_encrypt(out, a.ctx, b.pk, pt), "a public key of another context");
    refused(ccz_lattice_encrypt_sk(out, a.ctx, b.sk, pt), "a secret key of another context");
    refused(ccz_lattice_decrypt(pt, a.ctx, b.sk, ca), "a secret key of another context");
    refused(ccz_lattice_mul(out, a.ctx, ca, ca, b.rk), "relinearization keys of another context");
    refused(ccz_lattice_relinearize(out, a.ctx, b.rk), "relinearization keys of another context");
    refused(ccz_lattice_rotate(out, a.ctx, ca, 1, b.gk), "Galois keys of another context");
    refused(ccz_lattice_conjugate(out, a.ctx, ca, b.gk), "Galois keys of another context");
    {
        static const int one[] = {1};
        ccz_lattice_ciphertext *outs[1] = {out};
        refused(ccz_lattice_rotate_hoisted(outs, a.ctx, ca, one, 1, b.gk),
                "Galois keys of another context");
        refused(ccz_lattice_rotate_hoisted(outs, a.ctx, ca, one, 1, NULL),
                "Galois keys of another context");
    }
    int bits = -1;
    refused(ccz_lattice_bfv_noise_budget(&bits, a.ctx, b.sk, ca),
            "noise budget: a secret key of another context");
    CHECK_INT(bits, -1);
    ccz_lattice_relin_keys *rk = NULL;
    refused(ccz_lattice_relin_keygen(&rk, a.ctx, b.sk),
            "relinearization keys from a secret key of another context");
    CHECK(rk == NULL);
    refused(ccz_lattice_relin_keygen(&rk, a.ctx, NULL),
            "relinearization keys from a secret key of another context");
    CHECK(rk == NULL);
    ccz_lattice_galois_keys *gk = NULL;
    static const int one[] = {1};
    refused(ccz_lattice_galois_keygen(&gk, a.ctx, b.sk, one, 1, false),
            "Galois keys from a secret key of another context");
    CHECK(gk == NULL);
    refused(ccz_lattice_galois_keygen(&gk, a.ctx, a.sk, one, 0, false),
            "no rotation steps and no conjugation");
    /* and with their own, each works */
    CHECK_OK(ccz_lattice_encrypt_sk(out, a.ctx, a.sk, pt));
    CHECK_OK(ccz_lattice_mul(out, a.ctx, ca, ca, a.rk));
    CHECK_OK(ccz_lattice_decrypt(pt, a.ctx, a.sk, out));
}

static void test_ciphertexts_of_another_context(void)
{
    const char *ct = "a ciphertext of another context";
    refused(ccz_lattice_encrypt(cb, a.ctx, a.pk, pt), ct); /* the output too */
    refused(ccz_lattice_decrypt(pt, a.ctx, a.sk, cb), ct);
    refused(ccz_lattice_add_plain(out, a.ctx, cb, pt), ct);
    refused(ccz_lattice_mul_plain(out, a.ctx, cb, pt), ct);
    refused(ccz_lattice_mul(out, a.ctx, ca, cb, a.rk), ct);
    refused(ccz_lattice_mul(out, a.ctx, cb, ca, a.rk), ct);
    refused(ccz_lattice_relinearize(cb, a.ctx, a.rk), ct);
    refused(ccz_lattice_mul(cb, a.ctx, ca, ca, a.rk), ct); /* the output */
    /* sums: either operand, the output; two operands of one other context */
    refused(ccz_lattice_add(out, a.ctx, ca, cb), "ciphertexts of two contexts");
    refused(ccz_lattice_sub(out, a.ctx, ca, cb), "ciphertexts of two contexts");
    refused(ccz_lattice_add(out, a.ctx, cb, cb), ct);
    refused(ccz_lattice_sub(out, a.ctx, cb, cb), ct);
    refused(ccz_lattice_add(cb, a.ctx, ca, ca), ct);
    refused(ccz_lattice_sub(cb, a.ctx, ca, ca), ct);
    refused(ccz_lattice_ciphertext_copy(out, cb), "ciphertexts of two contexts");
    /* rotations, the row swap, hoisted rotations: the input, the output */
    refused(ccz_lattice_rotate(out, a.ctx, cb, 1, a.gk), ct);
    refused(ccz_lattice_conjugate(out, a.ctx, cb, a.gk), ct);
    refused(ccz_lattice_rotate(cb, a.ctx, ca, 1, a.gk), "an output ciphertext of another context");
    refused(ccz_lattice_conjugate(cb, a.ctx, ca, a.gk), "an output ciphertext of another context");
    static const int one[] = {1};
    ccz_lattice_ciphertext *outs[1] = {out};
    refused(ccz_lattice_rotate_hoisted(outs, a.ctx, cb, one, 1, a.gk), ct);
    outs[0] = cb;
    refused(ccz_lattice_rotate_hoisted(outs, a.ctx, ca, one, 1, a.gk), ct);
    refused(ccz_lattice_mod_switch(cb, a.ctx), "a ciphertext of another context to switch");
    CHECK_INT(ccz_lattice_ciphertext_level(cb), 2);
    int bits = -1;
    refused(ccz_lattice_bfv_noise_budget(&bits, a.ctx, a.sk, cb),
            "noise budget: a ciphertext of another context");
    CHECK_INT(bits, -1);
    CHECK_OK(ccz_lattice_add_plain(out, a.ctx, ca, pt));
    CHECK_OK(ccz_lattice_mul_plain(out, a.ctx, ca, pt));
    CHECK_OK(ccz_lattice_add(out, a.ctx, ca, ca));
    CHECK_OK(ccz_lattice_rotate(out, a.ctx, ca, 1, a.gk));
    CHECK_OK(ccz_lattice_conjugate(out, a.ctx, ca, a.gk));
    outs[0] = out;
    CHECK_OK(ccz_lattice_rotate_hoisted(outs, a.ctx, ca, one, 1, a.gk));
    CHECK_OK(ccz_lattice_bfv_noise_budget(&bits, a.ctx, a.sk, ca));
    CHECK(bits > 0);
}

static void test_plaintexts_of_another_context(void)
{
    const char *pl = "a plaintext of another context";
    refused(ccz_lattice_encrypt(out, a.ctx, a.pk, ptb), pl);
    refused(ccz_lattice_encrypt_sk(out, a.ctx, a.sk, ptb), pl);
    refused(ccz_lattice_decrypt(ptb, a.ctx, a.sk, ca), pl); /* the output */
    refused(ccz_lattice_add_plain(out, a.ctx, ca, ptb), pl);
    refused(ccz_lattice_mul_plain(out, a.ctx, ca, ptb), pl);
    CHECK_OK(ccz_lattice_decrypt(pt, a.ctx, a.sk, ca));
    /* BFV's encodings write (or read) the plaintext's N words: one of another context is refused
     * before any is touched (a smaller context's would be written past its end) */
    size_t n = ccz_lattice_slots(a.ctx);
    uint64_t v[4] = {1, 2, 3, 4}, *got = calloc(n, sizeof *got);
    refused(ccz_lattice_bfv_encode(ptb, a.ctx, v, 4), pl);
    refused(ccz_lattice_bfv_encode_coeffs(ptb, a.ctx, v, 4), pl);
    refused(ccz_lattice_bfv_decode(got, a.ctx, ptb), pl);
    refused(ccz_lattice_bfv_decode_coeffs(got, a.ctx, ptb), pl);
    CHECK_OK(ccz_lattice_bfv_encode_coeffs(pt, a.ctx, v, 4));
    CHECK_OK(ccz_lattice_bfv_decode_coeffs(got, a.ctx, pt));
    CHECK(memcmp(got, v, sizeof v) == 0 && got[4] == 0);
    free(got);
}

/* A product takes two-component ciphertexts at one level; a rotation a two-component one. */
static void test_shapes(void)
{
    ccz_lattice_ciphertext *low, *three;
    CHECK_OK(ccz_lattice_ciphertext_new(&low, a.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&three, a.ctx));
    CHECK_OK(ccz_lattice_ciphertext_copy(low, ca));
    CHECK_OK(ccz_lattice_mod_switch(low, a.ctx));
    refused(ccz_lattice_mul(out, a.ctx, ca, low, a.rk),
            "ciphertexts at levels 2 and 1: switch the higher one down first");
    refused(ccz_lattice_mod_switch(low, a.ctx),
            "the ciphertext is at the last level: no prime left to drop");
    /* a sum too, whichever operand is the higher one (the lower one's words would be read at
     * the higher level) */
    refused(ccz_lattice_add(out, a.ctx, ca, low),
            "ciphertexts at levels 2 and 1: switch the higher one down first");
    refused(ccz_lattice_sub(out, a.ctx, low, ca),
            "ciphertexts at levels 1 and 2: switch the higher one down first");
    CHECK_INT(ccz_lattice_ciphertext_level(low), 1);
    CHECK_OK(ccz_lattice_mul(three, a.ctx, ca, ca, NULL));
    CHECK_INT(ccz_lattice_ciphertext_size(three), 3);
    refused(ccz_lattice_mul(out, a.ctx, three, ca, a.rk),
            "multiply relinearized (two-component) ciphertexts");
    refused(ccz_lattice_mul(out, a.ctx, ca, three, a.rk),
            "multiply relinearized (two-component) ciphertexts");
    refused(ccz_lattice_rotate(out, a.ctx, three, 1, a.gk), "relinearize before rotating");
    { /* a two-component ciphertext is left as it is by a relinearization */
        ccz_buf before = CCZ_BUF_INIT, after = CCZ_BUF_INIT;
        CHECK_OK(ccz_lattice_ciphertext_copy(out, ca));
        CHECK_OK(ccz_lattice_ciphertext_save(&before, out));
        CHECK_OK(ccz_lattice_relinearize(out, a.ctx, a.rk));
        CHECK_OK(ccz_lattice_ciphertext_save(&after, out));
        CHECK(before.len == after.len && memcmp(before.ptr, after.ptr, before.len) == 0);
        ccz_buf_free(&before);
        ccz_buf_free(&after);
    }
    /* hoisted rotations too (they read two components: the third would be left out), and their
     * arrays: NULL refused, unless there is nothing to rotate */
    static const int one[] = {1};
    ccz_lattice_ciphertext *outs[1] = {out};
    refused(ccz_lattice_rotate_hoisted(outs, a.ctx, three, one, 1, a.gk),
            "relinearize before rotating");
    refused(ccz_lattice_rotate_hoisted(NULL, a.ctx, ca, one, 1, a.gk),
            "hoisted rotations: an array is NULL");
    refused(ccz_lattice_rotate_hoisted(outs, a.ctx, ca, NULL, 1, a.gk),
            "hoisted rotations: an array is NULL");
    CHECK_OK(ccz_lattice_rotate_hoisted(NULL, a.ctx, ca, NULL, 0, a.gk));
    ccz_lattice_ciphertext_free(low);
    ccz_lattice_ciphertext_free(three);
}

/* The CKKS entry points that take an output or an accumulator: one of another context is
 * refused before a word is written; a CKKS decoding on a BFV context too. */
static void test_ckks_of_another_context(void)
{
    lattice_kit c, d;
    lattice_kit_new(&c, CCZ_LATTICE_CKKS, 13, NULL, 0, true);
    lattice_kit_new(&d, CCZ_LATTICE_CKKS, 13, NULL, 0, true);
    ccz_lattice_plaintext *p;
    ccz_lattice_ciphertext *x, *y, *other;
    CHECK_OK(ccz_lattice_plaintext_new(&p, c.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&x, c.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&y, c.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&other, d.ctx));
    double v[4] = {1, 2, 3, 4};
    CHECK_OK(ccz_lattice_ckks_encode_real(p, c.ctx, v, 4, 0x1p40, 0));
    CHECK_OK(ccz_lattice_encrypt(x, c.ctx, c.pk, p));
    const char *ct = "a ciphertext of another context";
    refused(ccz_lattice_ckks_rescale_to(other, c.ctx, x), ct);
    CHECK_INT(ccz_lattice_ciphertext_level(other), 3);
    refused(ccz_lattice_ckks_mul_const_at(other, c.ctx, x, 2.0, 0x1p20), ct);
    refused(ccz_lattice_ckks_mul_const(other, c.ctx, x, 2.0), ct);
    refused(ccz_lattice_ckks_mul_const_add(other, c.ctx, x, 2.0, 0x1p20), ct);
    /* with their own context's, each works */
    CHECK_OK(ccz_lattice_ckks_rescale_to(y, c.ctx, x));
    CHECK_INT(ccz_lattice_ciphertext_level(y), 2);
    CHECK_OK(ccz_lattice_ckks_mul_const_at(y, c.ctx, x, 2.0, 0x1p20));
    CHECK_OK(ccz_lattice_ckks_mul_const_add(y, c.ctx, x, 2.0, 0x1p20));
    /* a CKKS decoding of a BFV context's plaintext, on that context */
    double complex got[4] = {0};
    refused(ccz_lattice_ckks_decode(got, a.ctx, pt), "a CKKS operation on a BFV context");
    ccz_lattice_ciphertext_free(x);
    ccz_lattice_ciphertext_free(y);
    ccz_lattice_ciphertext_free(other);
    ccz_lattice_plaintext_free(p);
    lattice_kit_free(&c);
    lattice_kit_free(&d);
}

static void cleanup(void)
{
    ccz_lattice_ciphertext_free(ca);
    ccz_lattice_ciphertext_free(cb);
    ccz_lattice_ciphertext_free(out);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_plaintext_free(ptb);
    lattice_kit_free(&a);
    lattice_kit_free(&b);
}

TEST_MAIN(T(setup), T(test_keys_of_another_context), T(test_ciphertexts_of_another_context),
          T(test_plaintexts_of_another_context), T(test_shapes), T(test_ckks_of_another_context),
          T(cleanup))
