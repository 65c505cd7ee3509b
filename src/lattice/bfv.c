/* SPDX-License-Identifier: Apache-2.0 */
/* BFV: batch encoding through the NTT modulo t (slot j of row 0 is the evaluation at psi^(3^j),
 * row 1 at psi^(-3^j), so x -> x^(3^k) rotates rows and x -> x^(2N-1) swaps them), encryption
 * of Delta m with Delta = floor(Q/t), decryption as round(t x / Q) mod t from the residues
 * (integer and 64-bit fixed-point parts), and multiplication by Halevi-Polyakov-Shoup: extend
 * to an auxiliary base R, tensor in NTT form over Q u R, round(t x / Q) into R, back to Q,
 * relinearize. The noise budget composes t x mod Q with GMP. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <openssl/crypto.h>

#include "core/guard.h"
#include "lattice_internal.h"

static ccz_status need_bfv(const ccz_lattice_context *ctx)
{
    CCZ_ENSURE(ctx->params.scheme == CCZ_LATTICE_BFV, CCZ_ERR_INVALID_ARGUMENT,
               "a BFV operation on a CKKS context");
    return CCZ_OK;
}

static ccz_status need_batching(const ccz_lattice_context *ctx)
{
    CCZ_GUARD(need_bfv(ctx));
    CCZ_ENSURE(ctx->slot_index, CCZ_ERR_INVALID_ARGUMENT,
               "plain modulus %llu cannot batch (batching needs a prime 1 mod 2N = %llu): "
               "encode coefficients",
               (unsigned long long)ctx->params.plain_modulus, 2 * (unsigned long long)ctx->n);
    return CCZ_OK;
}

/* A BFV context (one that batches, when asked) and a plaintext of it: encoding writes and
 * decoding reads N words of the plaintext, and one of another context may have fewer. */
static ccz_status need_bfv_pt(const ccz_lattice_context *ctx, const ccz_lattice_plaintext *pt,
                              bool batching)
{
    CCZ_GUARD(batching ? need_batching(ctx) : need_bfv(ctx));
    return lat_check_pt(ctx, pt);
}

ccz_status ccz_lattice_bfv_encode(ccz_lattice_plaintext *pt, const ccz_lattice_context *ctx,
                                  const uint64_t *values, size_t count)
{
    CCZ_GUARD(need_bfv_pt(ctx, pt, true));
    size_t n = ctx->n;
    uint64_t t = ctx->params.plain_modulus;
    CCZ_ENSURE(count <= n, CCZ_ERR_INVALID_ARGUMENT, "%zu values for %zu slots", count, n);
    const uint32_t *at = ctx->slot_index;
    uint64_t *c = pt->coeffs;
    bool below = true; /* the values placed and checked in one pass */
    if (count == n && ctx->slot_line) {
        below = lat_vec_scatter_lines(c, values, ctx->slot_line, ctx->slot_lane, n, t);
    } else {
        if (count < n) /* slot_index is a permutation: n values write every position */
            memset(c, 0, n * 8);
        for (size_t j = 0; j < count; j++) {
            below &= values[j] < t;
            c[at[j]] = values[j];
        }
    }
    for (size_t j = 0; !below && j < count; j++) /* the first value out of range, named */
        CCZ_ENSURE(values[j] < t, CCZ_ERR_INVALID_ARGUMENT,
                   "value %zu (%llu) is not below the plain modulus %llu", j,
                   (unsigned long long)values[j], (unsigned long long)t);
    lat_ntt_inverse(&ctx->tntt, c);
    return CCZ_OK;
}

ccz_status ccz_lattice_bfv_decode(uint64_t *values, const ccz_lattice_context *ctx,
                                  const ccz_lattice_plaintext *pt)
{
    CCZ_GUARD(need_bfv_pt(ctx, pt, true));
    size_t n = ctx->n;
    uint64_t *t = lat_words(n);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    memcpy(t, pt->coeffs, n * 8);
    lat_ntt_forward(&ctx->tntt, t);
    for (size_t j = 0; j < n; j++)
        values[j] = t[ctx->slot_index[j]];
    free(t);
    return CCZ_OK;
}

ccz_status ccz_lattice_bfv_encode_coeffs(ccz_lattice_plaintext *pt, const ccz_lattice_context *ctx,
                                         const uint64_t *values, size_t count)
{
    CCZ_GUARD(need_bfv_pt(ctx, pt, false));
    size_t n = ctx->n;
    uint64_t t = ctx->params.plain_modulus;
    CCZ_ENSURE(count <= n, CCZ_ERR_INVALID_ARGUMENT, "%zu coefficients for degree %zu", count, n);
    for (size_t j = 0; j < count; j++)
        CCZ_ENSURE(values[j] < t, CCZ_ERR_INVALID_ARGUMENT,
                   "coefficient %zu (%llu) is not below the plain modulus %llu", j,
                   (unsigned long long)values[j], (unsigned long long)t);
    memset(pt->coeffs, 0, n * 8);
    memcpy(pt->coeffs, values, count * 8);
    return CCZ_OK;
}

ccz_status ccz_lattice_bfv_decode_coeffs(uint64_t *values, const ccz_lattice_context *ctx,
                                         const ccz_lattice_plaintext *pt)
{
    CCZ_GUARD(need_bfv_pt(ctx, pt, false));
    memcpy(values, pt->coeffs, ctx->n * 8);
    return CCZ_OK;
}

ccz_status ccz_lattice_bfv_mul_scalar(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                                      const ccz_lattice_ciphertext *a, uint64_t k)
{
    CCZ_GUARD(need_bfv(ctx));
    CCZ_GUARD(lat_check_ct(ctx, a));
    uint64_t t = ctx->params.plain_modulus;
    CCZ_ENSURE(k < t, CCZ_ERR_INVALID_ARGUMENT, "scalar %llu is not below the plain modulus %llu",
               (unsigned long long)k, (unsigned long long)t);
    CCZ_GUARD(ccz_lattice_ciphertext_copy(out, a));
    size_t n = ctx->n;
    unsigned l = out->level;
    /* lifted centred, as mul_plain does: the noise grows by |k| <= t/2 */
    for (unsigned i = 0; i < l; i++) {
        uint64_t q = ctx->primes[i];
        uint64_t c = k > t / 2 ? q - (t - k) % q : k % q, cs = lat_shoup(c, q);
        for (unsigned j = 0; j < out->size; j++) {
            uint64_t *x = out->d + ((size_t)j * l + i) * n;
            for (size_t m = 0; m < n; m++)
                x[m] = lat_mul_shoup(x[m], c, cs, q);
        }
    }
    return CCZ_OK;
}

/* c0 += Delta m (coefficient form, level primes) */
static void add_delta_m(const ccz_lattice_context *ctx, uint64_t *c0, const uint64_t *m, unsigned l)
{
    size_t n = ctx->n;
    const lat_bfv_level *b = ctx->bfv[l];
    for (unsigned i = 0; i < l; i++) {
        const lat_mod *md = &ctx->ntt[i].mod;
        uint64_t d = b->delta[i], ds = lat_shoup(d, md->q);
        for (size_t x = 0; x < n; x++) {
            uint64_t v = lat_mul_shoup(m[x] % md->q, d, ds, md->q);
            c0[(size_t)i * n + x] = lat_add_mod(c0[(size_t)i * n + x], v, md->q);
        }
    }
}

static ccz_status encrypt(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                          const ccz_lattice_secret_key *sk, const ccz_lattice_plaintext *pt,
                          ccz_lattice_ciphertext *out)
{
    unsigned L = ctx->L;
    CCZ_GUARD(lat_ct_reserve(out, 2, L, false));
    out->size = 2;
    out->level = L;
    out->ntt = false;
    out->scale = 1;
    size_t n = ctx->n;
    CCZ_GUARD(lat_encrypt_zero(ctx, pk, sk, L, false, out->d, out->d + (size_t)L * n));
    add_delta_m(ctx, out->d, pt->coeffs, L);
    return CCZ_OK;
}

/* round(t x / Q) mod t for x given by its residues at level l (coefficient form) */
static void scale_to_t(const ccz_lattice_context *ctx, const uint64_t *x, unsigned l, uint64_t *m)
{
    size_t n = ctx->n;
    const lat_bfv_level *b = ctx->bfv[l];
    const lat_mod *tm = &ctx->tmod;
    for (size_t c = 0; c < n; c++) {
        u128 ip = 0, fl = 0;
        uint64_t fh = 0; /* the fixed-point sum, 192 bits: fh:fl */
        for (unsigned i = 0; i < l; i++) {
            uint64_t xi = x[(size_t)i * n + c];
            ip += (u128)xi * b->dec_int[i]; /* < 2^121 each: no overflow for 32 terms */
            u128 f = (u128)xi * b->dec_frac[i];
            fl += f;
            fh += fl < f;
        }
        /* round: (fh:fl + 2^63) >> 64 */
        u128 lo = fl + ((u128)1 << 63);
        fh += lo < fl;
        u128 rounded = ((u128)fh << 64) | (uint64_t)(lo >> 64);
        m[c] = lat_add_mod(lat_reduce128(ip, tm), lat_reduce128(rounded, tm), tm->q);
    }
}

ccz_status lat_bfv_decrypt(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                           const ccz_lattice_ciphertext *ct, ccz_lattice_plaintext *out)
{
    size_t n = ctx->n;
    unsigned l = ct->level;
    uint64_t *x = lat_words((size_t)l * n);
    CCZ_ENSURE(x, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = lat_decrypt_coeffs(ctx, sk, ct, x);
    if (s == CCZ_OK)
        scale_to_t(ctx, x, l, out->coeffs);
    OPENSSL_cleanse(x, (size_t)l * n * 8);
    free(x);
    return s;
}

ccz_status ccz_lattice_bfv_noise_budget(int *bits, const ccz_lattice_context *ctx,
                                        const ccz_lattice_secret_key *sk,
                                        const ccz_lattice_ciphertext *ct)
{
    CCZ_GUARD(need_bfv(ctx));
    CCZ_ENSURE(ct && ct->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "noise budget: a ciphertext of another context");
    CCZ_ENSURE(sk && sk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "noise budget: a secret key of another context");
    size_t n = ctx->n;
    unsigned l = ct->level;
    uint64_t *x = lat_words((size_t)l * n);
    CCZ_ENSURE(x, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = lat_decrypt_coeffs(ctx, sk, ct, x);
    if (s) {
        free(x);
        return s;
    }
    /* [t x]_Q, centred, composed with GMP; budget = log2(Q/2) - log2(max |.|) */
    mpz_t Q, acc, coef[MAXP], half, max;
    if ((s = lat_crt_init(ctx, l, Q, coef)) != CCZ_OK) {
        OPENSSL_cleanse(x, (size_t)l * n * 8);
        free(x);
        return s;
    }
    mpz_inits(acc, half, max, NULL);
    mpz_fdiv_q_2exp(half, Q, 1);
    uint64_t t = ctx->params.plain_modulus;
    for (size_t c = 0; c < n; c++) {
        mpz_set_ui(acc, 0);
        for (unsigned i = 0; i < l; i++) {
            uint64_t v = lat_mul_mod(x[(size_t)i * n + c], t % ctx->primes[i], &ctx->ntt[i].mod);
            mpz_addmul_ui(acc, coef[i], v);
        }
        mpz_mod(acc, acc, Q);
        if (mpz_cmp(acc, half) > 0)
            mpz_sub(acc, Q, acc);
        if (mpz_cmp(acc, max) > 0)
            mpz_set(max, acc);
    }
    long qb = (long)mpz_sizeinbase(Q, 2), nb = mpz_sgn(max) ? (long)mpz_sizeinbase(max, 2) : 0;
    long budget = qb - nb - 1;
    *bits = budget > 0 ? (int)budget : 0;
    lat_crt_clear(l, Q, coef);
    mpz_clears(acc, half, max, NULL);
    OPENSSL_cleanse(x, (size_t)l * n * 8);
    free(x);
    return CCZ_OK;
}

/* ---- plaintext operations ----------------------------------------------------------------*/

ccz_status lat_bfv_add_plain(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                             const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p)
{
    CCZ_GUARD(ccz_lattice_ciphertext_copy(out, a));
    add_delta_m(ctx, out->d, p->coeffs, out->level);
    return CCZ_OK;
}

ccz_status lat_bfv_mul_plain(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                             const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p)
{
    size_t n = ctx->n;
    unsigned l = a->level;
    uint64_t t = ctx->params.plain_modulus;
    uint64_t *m = lat_words((size_t)l * n);
    CCZ_ENSURE(m, CCZ_ERR_NOMEM, "out of memory");
    /* the plaintext lifted centred ((t/2, t) as negatives): less noise */
    for (unsigned i = 0; i < l; i++) {
        uint64_t q = ctx->primes[i];
        for (size_t x = 0; x < n; x++) {
            uint64_t v = p->coeffs[x];
            m[(size_t)i * n + x] = v > t / 2 ? q - (t - v) % q : v % q;
        }
    }
    lat_rns_ntt(ctx, m, l, NULL);
    ccz_status s = ccz_lattice_ciphertext_copy(out, a);
    for (unsigned j = 0; s == CCZ_OK && j < out->size; j++) {
        uint64_t *c = out->d + (size_t)j * l * n;
        lat_rns_ntt(ctx, c, l, NULL);
        for (unsigned i = 0; i < l; i++)
            lat_vec_mulmod(c + (size_t)i * n, c + (size_t)i * n, m + (size_t)i * n, n,
                           &ctx->ntt[i].mod);
        lat_rns_intt(ctx, c, l, NULL);
    }
    free(m);
    return s;
}

/* ---- multiplication (HPS) --------------------------------------------------------------------*/

/* round(t x / Q) into R from x in Q u R (coefficient form): xq (kq x N), xr (kr x N); tmp holds
 * 3 N words */
static void scale_round_to_r(const lat_bfv_level *b, const uint64_t *xq, const uint64_t *xr,
                             uint64_t *out, size_t n, uint64_t *tmp)
{
    unsigned kq = b->q.k, kr = b->r.k;
    /* the fractional parts, exactly enough: round(sum x_i frac_i), 64-bit fixed point */
    u128 *rounded = (u128 *)tmp; /* 2 N words */
    uint64_t *t = tmp + 2 * n;
    bool wide = false;
    for (unsigned i = 0; i < kq; i++)
        wide |= b->q.q[i] >= (1ull << 52);
    for (size_t c = 0; c < n; c++) {
        u128 fl = 0;
        uint64_t fh = 0;
        for (unsigned i = 0; i < kq; i++) {
            u128 f = (u128)xq[(size_t)i * n + c] * b->theta_frac[i];
            fl += f;
            fh += fl < f;
        }
        u128 lo = fl + ((u128)1 << 63);
        fh += lo < fl;
        rounded[c] = ((u128)fh << 64) | (uint64_t)(lo >> 64);
    }
    /* one pass per prime of R when every residue fits the 52-bit kernels: round(.) is below the
     * sum of Q's primes */
    bool narrow = !wide;
    uint64_t qsum = 0;
    for (unsigned i = 0; i < kq; i++)
        qsum += b->q.q[i];
    narrow &= qsum < (1ull << 52);
    for (unsigned j = 0; j < kr; j++)
        narrow &= b->r.q[j] < LAT_SHOUP52_LIMIT;
    if (narrow) {
        uint64_t *r64 = t; /* the rounded terms as words */
        for (size_t c = 0; c < n; c++)
            r64[c] = (uint64_t)rounded[c];
        for (unsigned j = 0; j < kr; j++) {
            uint64_t q = b->r.q[j], w[MAXP + 2], ws[MAXP + 2];
            const uint64_t *in[MAXP + 2];
            in[0] = r64;
            w[0] = 1;
            for (unsigned i = 0; i < kq; i++) {
                in[1 + i] = xq + (size_t)i * n;
                w[1 + i] = b->theta_int[i][j];
            }
            in[kq + 1] = xr + (size_t)j * n;
            w[kq + 1] = b->rterm[j];
            for (unsigned i = 0; i < kq + 2; i++)
                ws[i] = lat_shoup_w(w[i], q);
            lat_vec_dot_c(out + (size_t)j * n, in, w, ws, kq + 2, 0, n, q);
        }
        return;
    }
    for (unsigned j = 0; j < kr; j++) {
        const lat_mod *m = &b->r.mod[j];
        uint64_t *o = out + (size_t)j * n;
        for (size_t c = 0; c < n; c++)
            o[c] = lat_reduce128(rounded[c], m);
        for (unsigned i = 0; i < kq; i++) {
            const uint64_t *xi = xq + (size_t)i * n;
            if (wide && b->q.q[i] >= (1ull << 52)) {
                for (size_t c = 0; c < n; c++)
                    t[c] = lat_reduce64(xi[c], m);
                xi = t;
            }
            lat_vec_mul_c_add(o, xi, b->theta_int[i][j], n, m->q);
        }
        lat_vec_mul_c_add(o, xr + (size_t)j * n, b->rterm[j], n, m->q);
    }
}

ccz_status lat_bfv_mul(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                       const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b2,
                       const ccz_lattice_relin_keys *rk)
{
    CCZ_ENSURE(a->size == 2 && b2->size == 2, CCZ_ERR_INVALID_ARGUMENT,
               "multiply relinearized (two-component) ciphertexts");
    CCZ_ENSURE(a->level == b2->level, CCZ_ERR_INVALID_ARGUMENT,
               "ciphertexts at levels %u and %u: switch the higher one down first", a->level,
               b2->level);
    size_t n = ctx->n;
    unsigned l = a->level;
    const lat_bfv_level *B = ctx->bfv[l];
    unsigned kq = l, kr = B->r.k, kt = kq + kr;
    /* four inputs and three products, each over Q u R */
    uint64_t *buf = lat_scratch(LAT_SCRATCH_MUL, (size_t)7 * kt * n);
    CCZ_ENSURE(buf, CCZ_ERR_NOMEM, "out of memory");
    uint64_t *in[4], *d[3];
    for (int i = 0; i < 4; i++)
        in[i] = buf + (size_t)i * kt * n;
    for (int i = 0; i < 3; i++)
        d[i] = buf + (size_t)(4 + i) * kt * n;
    const uint64_t *src[4] = {a->d, a->d + (size_t)l * n, b2->d, b2->d + (size_t)l * n};
    /* a square extends and transforms two polynomials, not four, and makes three products */
    bool square = a == b2;
    if (square) {
        in[2] = in[0];
        in[3] = in[1];
    }
    for (int p = 0; p < (square ? 2 : 4); p++) {
        memcpy(in[p], src[p], (size_t)kq * n * 8);
        lat_conv_apply(&B->q_to_r, in[p], in[p] + (size_t)kq * n, n);
        lat_rns_ntt(ctx, in[p], kq, NULL);
        for (unsigned j = 0; j < kr; j++)
            lat_ntt_forward(&B->rntt[j], in[p] + (size_t)(kq + j) * n);
    }
    for (unsigned i = 0; i < kt; i++) {
        const lat_mod *m = i < kq ? &ctx->ntt[i].mod : &B->r.mod[i - kq];
        size_t o = (size_t)i * n;
        lat_vec_mulmod(d[0] + o, in[0] + o, in[2] + o, n, m);
        lat_vec_mulmod(d[1] + o, in[0] + o, in[3] + o, n, m);
        if (square) {
            lat_vec_add(d[1] + o, d[1] + o, d[1] + o, n, m->q);
        } else {
            lat_vec_mulmod(d[2] + o, in[1] + o, in[2] + o, n, m); /* scratch */
            lat_vec_add(d[1] + o, d[1] + o, d[2] + o, n, m->q);
        }
        lat_vec_mulmod(d[2] + o, in[1] + o, in[3] + o, n, m);
    }
    CCZ_GUARD(lat_ct_reserve(out, 3, l, false)); /* the inputs are in buf by now */
    out->size = 3;
    out->level = l;
    out->ntt = false;
    out->scale = 1;
    uint64_t *yr = in[0], *tmp = in[1]; /* scratch: kr x N, 3 N */
    for (int p = 0; p < 3; p++) {
        lat_rns_intt(ctx, d[p], kq, NULL);
        for (unsigned j = 0; j < kr; j++)
            lat_ntt_inverse(&B->rntt[j], d[p] + (size_t)(kq + j) * n);
        scale_round_to_r(B, d[p], d[p] + (size_t)kq * n, yr, n, tmp);
        lat_conv_apply(&B->r_to_q, yr, out->d + (size_t)p * l * n, n);
    }
    return rk ? lat_relinearize(ctx, out, rk) : CCZ_OK;
}

ccz_status lat_bfv_encrypt(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                           const ccz_lattice_secret_key *sk, const ccz_lattice_plaintext *pt,
                           ccz_lattice_ciphertext *out)
{
    return encrypt(ctx, pk, sk, pt, out);
}
