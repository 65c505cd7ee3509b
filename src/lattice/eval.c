/* SPDX-License-Identifier: Apache-2.0 */
/* The scheme-independent entry points: argument checks (every object of this context), then
 * the BFV (bfv.c) or CKKS (ckks.c) half. Addition, rotations and modulus switching, the same
 * for both schemes, are in lat_ops.c. */
#include "lattice_internal.h"

ccz_status lat_check_ct(const ccz_he_context *ctx, const ccz_he_ciphertext *c)
{
    CCZ_ENSURE(c && c->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "a ciphertext of another context");
    return CCZ_OK;
}

static ccz_status encrypt_any(const ccz_he_context *ctx, const ccz_he_public_key *pk,
                              const ccz_he_secret_key *sk, const ccz_he_plaintext *pt,
                              ccz_he_ciphertext *out)
{
    CCZ_GUARD(lat_check_ct(ctx, out));
    if (ctx->params.scheme == CCZ_HE_BFV)
        return lat_bfv_encrypt(ctx, pk, sk, pt, out);
    return lat_ckks_encrypt(ctx, pk, sk, pt, out);
}

ccz_status ccz_he_encrypt(const ccz_he_context *ctx, const ccz_he_public_key *pk,
                          const ccz_he_plaintext *pt, ccz_he_ciphertext *out)
{
    CCZ_ENSURE(pk && pk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a public key of another context");
    return encrypt_any(ctx, pk, NULL, pt, out);
}

ccz_status ccz_he_encrypt_sk(const ccz_he_context *ctx, const ccz_he_secret_key *sk,
                             const ccz_he_plaintext *pt, ccz_he_ciphertext *out)
{
    CCZ_ENSURE(sk && sk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a secret key of another context");
    return encrypt_any(ctx, NULL, sk, pt, out);
}

ccz_status ccz_he_decrypt(const ccz_he_context *ctx, const ccz_he_secret_key *sk,
                          const ccz_he_ciphertext *ct, ccz_he_plaintext *out)
{
    CCZ_GUARD(lat_check_ct(ctx, ct));
    CCZ_ENSURE(sk && sk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a secret key of another context");
    if (ctx->params.scheme == CCZ_HE_BFV)
        return lat_bfv_decrypt(ctx, sk, ct, out);
    return lat_ckks_decrypt(ctx, sk, ct, out);
}

ccz_status ccz_he_add_plain(const ccz_he_context *ctx, ccz_he_ciphertext *out,
                            const ccz_he_ciphertext *a, const ccz_he_plaintext *p)
{
    CCZ_GUARD(lat_check_ct(ctx, a));
    if (ctx->params.scheme == CCZ_HE_BFV)
        return lat_bfv_add_plain(ctx, out, a, p);
    return lat_ckks_add_plain(ctx, out, a, p);
}

ccz_status ccz_he_mul_plain(const ccz_he_context *ctx, ccz_he_ciphertext *out,
                            const ccz_he_ciphertext *a, const ccz_he_plaintext *p)
{
    CCZ_GUARD(lat_check_ct(ctx, a));
    if (ctx->params.scheme == CCZ_HE_BFV)
        return lat_bfv_mul_plain(ctx, out, a, p);
    return lat_ckks_mul_plain(ctx, out, a, p);
}

ccz_status ccz_he_mul(const ccz_he_context *ctx, ccz_he_ciphertext *out,
                      const ccz_he_ciphertext *a, const ccz_he_ciphertext *b,
                      const ccz_he_relin_keys *rk)
{
    CCZ_GUARD(lat_check_ct(ctx, a));
    CCZ_GUARD(lat_check_ct(ctx, b));
    CCZ_ENSURE(!rk || rk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "relinearization keys of another context");
    if (ctx->params.scheme == CCZ_HE_BFV)
        return lat_bfv_mul(ctx, out, a, b, rk);
    return lat_ckks_mul(ctx, out, a, b, rk);
}
