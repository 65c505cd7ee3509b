/* SPDX-License-Identifier: Apache-2.0 */
/* The scheme-independent entry points: argument checks (every object of this context), then
 * the BFV (bfv.c) or CKKS (ckks.c) half. Addition, rotations and modulus switching, the same
 * for both schemes, are in lat_ops.c. */
#include "core/guard.h"
#include "lattice_internal.h"

ccz_status lat_check_ct(const ccz_lattice_context *ctx, const ccz_lattice_ciphertext *c)
{
    CCZ_ENSURE(c && c->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a ciphertext of another context");
    return CCZ_OK;
}

ccz_status lat_check_pt(const ccz_lattice_context *ctx, const ccz_lattice_plaintext *p)
{
    CCZ_ENSURE(p != NULL && p->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "a plaintext of another context");
    return CCZ_OK;
}

static ccz_status encrypt_any(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                              const ccz_lattice_secret_key *sk, const ccz_lattice_plaintext *pt,
                              ccz_lattice_ciphertext *out)
{
    CCZ_GUARD(lat_check_ct(ctx, out));
    CCZ_GUARD(lat_check_pt(ctx, pt));
    if (ctx->params.scheme == CCZ_LATTICE_BFV)
        return lat_bfv_encrypt(ctx, pk, sk, pt, out);
    return lat_ckks_encrypt(ctx, pk, sk, pt, out);
}

ccz_status ccz_lattice_encrypt(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                               const ccz_lattice_public_key *pk, const ccz_lattice_plaintext *pt)
{
    CCZ_ENSURE(pk && pk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a public key of another context");
    return encrypt_any(ctx, pk, NULL, pt, out);
}

ccz_status ccz_lattice_encrypt_sk(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                                  const ccz_lattice_secret_key *sk, const ccz_lattice_plaintext *pt)
{
    CCZ_ENSURE(sk && sk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a secret key of another context");
    return encrypt_any(ctx, NULL, sk, pt, out);
}

ccz_status ccz_lattice_decrypt(ccz_lattice_plaintext *out, const ccz_lattice_context *ctx,
                               const ccz_lattice_secret_key *sk, const ccz_lattice_ciphertext *ct)
{
    CCZ_GUARD(lat_check_ct(ctx, ct));
    CCZ_ENSURE(sk && sk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a secret key of another context");
    CCZ_GUARD(lat_check_pt(ctx, out));
    if (ctx->params.scheme == CCZ_LATTICE_BFV)
        return lat_bfv_decrypt(ctx, sk, ct, out);
    return lat_ckks_decrypt(ctx, sk, ct, out);
}

ccz_status ccz_lattice_add_plain(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                                 const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p)
{
    CCZ_GUARD(lat_check_ct(ctx, a));
    CCZ_GUARD(lat_check_pt(ctx, p));
    if (ctx->params.scheme == CCZ_LATTICE_BFV)
        return lat_bfv_add_plain(ctx, out, a, p);
    return lat_ckks_add_plain(ctx, out, a, p);
}

ccz_status ccz_lattice_mul_plain(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                                 const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p)
{
    CCZ_GUARD(lat_check_ct(ctx, a));
    CCZ_ENSURE(p && p->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a plaintext of another context");
    if (ctx->params.scheme == CCZ_LATTICE_BFV)
        return lat_bfv_mul_plain(ctx, out, a, p);
    return lat_ckks_mul_plain(ctx, out, a, p);
}

ccz_status ccz_lattice_mul(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                           const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b,
                           const ccz_lattice_relin_keys *rk)
{
    CCZ_GUARD(lat_check_ct(ctx, a));
    CCZ_GUARD(lat_check_ct(ctx, b));
    CCZ_ENSURE(out && out->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a ciphertext of another context");
    CCZ_ENSURE(!rk || rk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "relinearization keys of another context");
    if (ctx->params.scheme == CCZ_LATTICE_BFV)
        return lat_bfv_mul(ctx, out, a, b, rk);
    return lat_ckks_mul(ctx, out, a, b, rk);
}

ccz_status ccz_lattice_relinearize(ccz_lattice_ciphertext *c, const ccz_lattice_context *ctx,
                                   const ccz_lattice_relin_keys *rk)
{
    CCZ_GUARD(lat_check_ct(ctx, c));
    CCZ_ENSURE(rk && rk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "relinearization keys of another context");
    return lat_relinearize(ctx, c, rk);
}
