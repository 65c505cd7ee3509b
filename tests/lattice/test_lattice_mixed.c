/* SPDX-License-Identifier: Apache-2.0 */
/* Objects of two contexts mixed (src/lattice/eval.c's checks): each entry point refuses a
 * ciphertext, a public or secret key, or relinearization keys made on another context, with
 * CCZ_ERR_INVALID_ARGUMENT and what was of the other context, and takes its own context's. */
#include <string.h>

#include "lattice_kit.h"
#include "test.h"

static lattice_kit a, b;
static ccz_lattice_plaintext *pt;
static ccz_lattice_ciphertext *ca, *cb, *out;

static void refused(ccz_status s, const char *what)
{
    CHECK_STATUS(s, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), what);
}

static void setup(void)
{
    static const int steps[] = {1};
    lattice_kit_new(&a, CCZ_LATTICE_BFV, 12, steps, 1, false);
    lattice_kit_new(&b, CCZ_LATTICE_BFV, 12, steps, 1, false);
    CHECK_OK(ccz_lattice_plaintext_new(&pt, a.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ca, a.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&out, a.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&cb, b.ctx));
    uint64_t v[4] = {1, 2, 3, 4};
    CHECK_OK(ccz_lattice_bfv_encode(pt, a.ctx, v, 4));
    CHECK_OK(ccz_lattice_encrypt(ca, a.ctx, a.pk, pt));
    CHECK_OK(ccz_lattice_encrypt(cb, b.ctx, b.pk, pt));
}

static void test_keys_of_another_context(void)
{
    refused(ccz_lattice_encrypt(out, a.ctx, b.pk, pt), "a public key of another context");
    refused(ccz_lattice_encrypt_sk(out, a.ctx, b.sk, pt), "a secret key of another context");
    refused(ccz_lattice_decrypt(pt, a.ctx, b.sk, ca), "a secret key of another context");
    refused(ccz_lattice_mul(out, a.ctx, ca, ca, b.rk), "relinearization keys of another context");
    refused(ccz_lattice_relinearize(out, a.ctx, b.rk), "relinearization keys of another context");
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
    CHECK_OK(ccz_lattice_add_plain(out, a.ctx, ca, pt));
    CHECK_OK(ccz_lattice_mul_plain(out, a.ctx, ca, pt));
}

static void cleanup(void)
{
    ccz_lattice_ciphertext_free(ca);
    ccz_lattice_ciphertext_free(cb);
    ccz_lattice_ciphertext_free(out);
    ccz_lattice_plaintext_free(pt);
    lattice_kit_free(&a);
    lattice_kit_free(&b);
}

TEST_MAIN(T(setup), T(test_keys_of_another_context), T(test_ciphertexts_of_another_context),
          T(cleanup))
